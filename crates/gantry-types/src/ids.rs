//! Id newtypes: 64-bit database ids that cannot be mixed up with one another.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

id_type!(
    /// A user account.
    UserId,
    /// A namespace: a user's personal namespace or a group.
    NamespaceId,
    /// A project.
    ProjectId,
    /// A personal access token.
    TokenId,
    /// A row of group or project membership.
    GroupMemberId,
);
