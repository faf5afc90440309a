//! Personal access token scopes and deploy token scopes.

use serde::{Deserialize, Serialize};

/// What a personal access token may be used for; GitLab's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenScope {
    /// The whole API, read and write, and everything below.
    Api,
    /// Read-only API access.
    ReadApi,
    /// Read-only access to the API's users: `/user` and `/users`.
    ReadUser,
    /// `git clone` and `git fetch`.
    ReadRepository,
    /// `git push`.
    WriteRepository,
    /// Pull from the container and package registries.
    ReadRegistry,
    /// Push to the container and package registries.
    WriteRegistry,
    /// Act as another user with the `Sudo` header or `sudo` parameter (administrators' tokens).
    Sudo,
    /// Administrator actions through the token (administrators' tokens).
    AdminMode,
}

impl TokenScope {
    /// Every scope.
    pub const ALL: [TokenScope; 9] = [
        TokenScope::Api,
        TokenScope::ReadApi,
        TokenScope::ReadUser,
        TokenScope::ReadRepository,
        TokenScope::WriteRepository,
        TokenScope::ReadRegistry,
        TokenScope::WriteRegistry,
        TokenScope::Sudo,
        TokenScope::AdminMode,
    ];

    /// GitLab's name for the scope.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::Api => "api",
            TokenScope::ReadApi => "read_api",
            TokenScope::ReadUser => "read_user",
            TokenScope::ReadRepository => "read_repository",
            TokenScope::WriteRepository => "write_repository",
            TokenScope::ReadRegistry => "read_registry",
            TokenScope::WriteRegistry => "write_registry",
            TokenScope::Sudo => "sudo",
            TokenScope::AdminMode => "admin_mode",
        }
    }

    /// What the scope allows, for the token form.
    pub fn description(self) -> &'static str {
        match self {
            TokenScope::Api => "Full read and write access to the API",
            TokenScope::ReadApi => "Read-only access to the API",
            TokenScope::ReadUser => "Read your profile and other users' through the API (/user, /users)",
            TokenScope::ReadRepository => "Clone and fetch repositories",
            TokenScope::WriteRepository => "Push to repositories",
            TokenScope::ReadRegistry => "Pull container images and packages",
            TokenScope::WriteRegistry => "Push container images and packages",
            TokenScope::Sudo => "Act as any user (administrators only)",
            TokenScope::AdminMode => "Administrator actions (administrators only)",
        }
    }

    /// Only an administrator's token may hold it.
    pub fn is_for_administrators(self) -> bool {
        matches!(self, TokenScope::Sudo | TokenScope::AdminMode)
    }

    /// Parses GitLab's name for the scope.
    pub fn parse(value: &str) -> Option<TokenScope> {
        TokenScope::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

/// A non-empty set of scopes, kept sorted and without repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenScopes(Vec<TokenScope>);

impl TokenScopes {
    /// Builds a set; `None` when it is empty.
    pub fn new(mut scopes: Vec<TokenScope>) -> Option<TokenScopes> {
        scopes.sort();
        scopes.dedup();
        (!scopes.is_empty()).then_some(TokenScopes(scopes))
    }

    /// Parses a comma-separated list such as `api,write_repository`; the error names the
    /// first unknown scope.
    pub fn parse_list(list: &str) -> Result<TokenScopes, String> {
        let mut scopes = Vec::new();
        for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            scopes.push(TokenScope::parse(name).ok_or_else(|| name.to_owned())?);
        }
        TokenScopes::new(scopes).ok_or_else(String::new)
    }

    /// The scopes, sorted.
    pub fn as_slice(&self) -> &[TokenScope] {
        &self.0
    }

    /// Whether the set holds `scope`.
    pub fn contains(&self, scope: TokenScope) -> bool {
        self.0.contains(&scope)
    }

    /// The comma-separated form stored in the database.
    pub fn to_list(&self) -> String {
        self.0.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")
    }
}

named_enum!(
    /// What a deploy token may be used for; GitLab's names, in GitLab's order.
    DeployTokenScope {
        /// `git clone` and `git fetch` over HTTP.
        ReadRepository = "read_repository",
        /// Pull container images.
        ReadRegistry = "read_registry",
        /// Push container images.
        WriteRegistry = "write_registry",
        /// Download packages.
        ReadPackageRegistry = "read_package_registry",
        /// Publish packages.
        WritePackageRegistry = "write_package_registry",
    }
);

impl DeployTokenScope {
    /// What the scope allows, for the token form.
    pub fn description(self) -> &'static str {
        match self {
            DeployTokenScope::ReadRepository => "Clone and fetch the repository",
            DeployTokenScope::ReadRegistry => "Pull container images",
            DeployTokenScope::WriteRegistry => "Push container images",
            DeployTokenScope::ReadPackageRegistry => "Download packages",
            DeployTokenScope::WritePackageRegistry => "Publish packages",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists_and_names_the_unknown_scope() {
        let scopes = TokenScopes::parse_list("write_repository, api,api").unwrap();
        assert_eq!(scopes.to_list(), "api,write_repository");
        assert_eq!(TokenScopes::parse_list("api,root"), Err("root".to_owned()));
        assert_eq!(TokenScopes::parse_list("sudo,api").unwrap().to_list(), "api,sudo");
        assert_eq!(TokenScopes::parse_list(" , "), Err(String::new()));
    }
}
