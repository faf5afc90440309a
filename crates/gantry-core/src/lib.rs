//! Gantry's operations with authorisation and transactions (see the README below).
#![doc = include_str!("../README.md")]

/// Declares a stage's view of [`Core`]: `core.ci()`, `core.code()`, `core.manage()`,
/// `core.plan()` name where an operation lives. A view borrows the core and derefs to it, so the stage's operations
/// reach the shared state (and the other stages) as they would on `Core` itself.
macro_rules! stage {
    ($(#[$doc:meta])* $view:ident, $method:ident) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $view<'a> {
            core: &'a $crate::Core,
        }

        impl std::ops::Deref for $view<'_> {
            type Target = $crate::Core;

            fn deref(&self) -> &$crate::Core {
                self.core
            }
        }

        impl $crate::Core {
            $(#[$doc])*
            pub fn $method(&self) -> $view<'_> {
                $view { core: self }
            }
        }
    };
}

pub mod activity;
pub mod background;
pub mod ci;
pub mod code;
mod content;
mod error;
pub mod file_templates;
pub mod mail;
pub mod manage;
pub mod plan;
pub mod policy;
mod secret;
mod signals;

pub use content::ContentStream;
pub use secret::SecretBox;

use std::sync::Arc;

pub use error::{CoreError, CoreResult};
pub use gantry_db::manage::SortDirection;
/// What a full path resolves to.
pub mod namespaces_route {
    pub use gantry_db::manage::namespaces::RouteTarget;
}
pub use gantry_db::manage::members::{MemberRow, MemberSource};
pub use gantry_db::manage::namespaces::{NamespaceKind, NamespaceRow};
pub use gantry_db::manage::projects::ProjectRow;
pub use gantry_db::manage::tokens::TokenRow;
pub use gantry_db::manage::users::{BotOf, UserRow};
pub use gantry_db::{Backend, COUNT_LIMIT, Db, Page, now_millis};
pub use gantry_git::Repositories;

/// Who is doing something: a signed-in user or an anonymous visitor.
#[derive(Debug, Clone)]
pub enum Actor {
    Anonymous,
    User(UserRow),
}

impl Actor {
    /// The signed-in user, if any.
    pub fn user(&self) -> Option<&UserRow> {
        match self {
            Actor::Anonymous => None,
            Actor::User(user) => Some(user),
        }
    }

    /// The signed-in user, or `Unauthorized` for anonymous visitors.
    pub fn require_user(&self) -> CoreResult<&UserRow> {
        self.user().ok_or(CoreError::Unauthorized)
    }

    pub(crate) fn viewer(&self) -> gantry_db::manage::Viewer {
        policy::viewer(self)
    }
}

/// The core of Gantry: the database plus in-memory state shared by every operation.
#[derive(Debug, Clone)]
pub struct Core {
    db: Db,
    repos: Repositories,
    login_limiter: Arc<manage::accounts::LoginLimiter>,
    background: Arc<background::BackgroundState>,
    signals: Arc<signals::Signals>,
    ci: Arc<ci::CiState>,
    secrets: SecretBox,
    blobs: gantry_blob::BlobStore,
    /// This server among those sharing the database, the same across its restarts.
    identity: Arc<str>,
    /// The paths of recently listed commits, for find file.
    path_listings: Arc<code::find_file::PathListings>,
    /// The SMTP server mail goes out through; none: mail is off.
    mailer: Option<Arc<mail::Mailer>>,
    /// Board columns kept until their issues change.
    remembered_lists: Arc<plan::remembered_lists::RememberedLists>,
}

impl Core {
    /// Wraps an opened (migrated) database and the repository storage.
    pub fn new(db: Db, repos: Repositories) -> Core {
        let blobs = gantry_blob::BlobStore::local(repos.data_dir().join("blobs"));
        let signals = Arc::new(signals::Signals::default());
        Core {
            db,
            repos,
            login_limiter: Arc::default(),
            background: Arc::default(),
            ci: Arc::new(ci::CiState::new(ci::CiSettingsOfServer::default(), signals.clone())),
            signals,
            secrets: SecretBox::random(),
            blobs,
            identity: "local".into(),
            path_listings: Arc::default(),
            mailer: None,
            remembered_lists: Arc::default(),
        }
    }

    /// Sets the key that encrypts secrets at rest (a random one otherwise, which is only right
    /// for tests: values would not survive a restart).
    pub fn with_secrets(mut self, secrets: SecretBox) -> Core {
        self.secrets = secrets;
        self
    }

    /// Sets the server-wide CI settings (the external URL runners and jobs reach us at).
    pub fn with_ci_settings(mut self, settings: ci::CiSettingsOfServer) -> Core {
        self.ci = Arc::new(ci::CiState::new(settings, self.signals.clone()));
        self
    }

    /// Names this server among those sharing the database: a name that stays the same across
    /// its restarts and that no other running server has (its host and listen address). What a
    /// killed server left half done is taken up at once by the next server of the same name.
    pub fn with_identity(mut self, identity: &str) -> Core {
        self.identity = identity.into();
        self
    }

    /// Sets how the background worker paces itself (tests shorten its waits).
    pub fn with_background_settings(mut self, settings: background::BackgroundSettings) -> Core {
        self.background = Arc::new(background::BackgroundState::new(settings));
        self
    }

    /// The database (for readiness checks and shutdown).
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The git repositories.
    pub fn repos(&self) -> &Repositories {
        &self.repos
    }
}

/// A fresh random token (64 hex characters) for browser-side secrets such as CSRF tokens.
pub fn random_token() -> String {
    secret::random_hex(32)
}
