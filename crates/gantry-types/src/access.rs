//! Roles (GitLab's access levels) and visibility levels.

use serde::{Deserialize, Serialize};

/// A member's role on a group or project. The numeric values are GitLab's, so API clients
/// that send `access_level: 30` keep working.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AccessLevel {
    Guest,
    Reporter,
    Developer,
    Maintainer,
    Owner,
}

impl AccessLevel {
    /// Every role, lowest first.
    pub const ALL: [AccessLevel; 5] = [
        AccessLevel::Guest,
        AccessLevel::Reporter,
        AccessLevel::Developer,
        AccessLevel::Maintainer,
        AccessLevel::Owner,
    ];

    /// GitLab's numeric access level.
    pub fn as_i64(self) -> i64 {
        match self {
            AccessLevel::Guest => 10,
            AccessLevel::Reporter => 20,
            AccessLevel::Developer => 30,
            AccessLevel::Maintainer => 40,
            AccessLevel::Owner => 50,
        }
    }

    /// Parses GitLab's numeric access level.
    pub fn from_i64(value: i64) -> Option<AccessLevel> {
        AccessLevel::ALL.into_iter().find(|level| level.as_i64() == value)
    }

    /// The name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            AccessLevel::Guest => "Guest",
            AccessLevel::Reporter => "Reporter",
            AccessLevel::Developer => "Developer",
            AccessLevel::Maintainer => "Maintainer",
            AccessLevel::Owner => "Owner",
        }
    }
}

impl std::fmt::Display for AccessLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// Who may see a group or project without being a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Members only.
    Private,
    /// Every signed-in user.
    Internal,
    /// Everyone, signed in or not.
    Public,
}

impl Visibility {
    /// Every level, most private first.
    pub const ALL: [Visibility; 3] = [Visibility::Private, Visibility::Internal, Visibility::Public];

    /// The stored and wire name (`private`, `internal`, `public`).
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Private => "private",
            Visibility::Internal => "internal",
            Visibility::Public => "public",
        }
    }

    /// Parses the stored and wire name.
    pub fn parse(value: &str) -> Option<Visibility> {
        Visibility::ALL.into_iter().find(|v| v.as_str() == value)
    }
}

impl std::fmt::Display for Visibility {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_levels_round_trip_gitlab_numbers() {
        for level in AccessLevel::ALL {
            assert_eq!(AccessLevel::from_i64(level.as_i64()), Some(level));
        }
        assert_eq!(AccessLevel::from_i64(35), None);
        assert!(AccessLevel::Owner > AccessLevel::Developer);
    }
}
