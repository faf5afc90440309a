//! CSRF tokens: what every form must carry back, bound to the browser that got the form. A
//! signed-in browser's token is a MAC of its session secret, so a token taken from another
//! session (or another user) is worth nothing; a browser without a session (signing in or up)
//! gets a MAC of its pre-session cookie instead. The MAC key is derived from the server's secret
//! key, so nobody can make a token for a cookie they chose.

use subtle::ConstantTimeEq;

/// What a CSRF token is bound to: the cookies of one browser.
#[derive(Debug, Clone, Copy)]
pub enum CsrfBinding<'a> {
    /// The secret of the browser's session cookie.
    Session(&'a str),
    /// The browser's pre-session cookie (it has no session yet).
    Visitor(&'a str),
}

impl super::Manage<'_> {
    /// The CSRF token forms must carry for this browser.
    pub fn csrf_token(&self, binding: CsrfBinding<'_>) -> String {
        let mac = match binding {
            CsrfBinding::Session(secret) => self.secrets.mac("csrf:session", secret.as_bytes()),
            CsrfBinding::Visitor(cookie) => self.secrets.mac("csrf:visitor", cookie.as_bytes()),
        };
        hex::encode(mac)
    }

    /// Whether `presented` is this browser's CSRF token (compared in constant time).
    pub fn csrf_token_matches(&self, binding: CsrfBinding<'_>, presented: &str) -> bool {
        bool::from(self.csrf_token(binding).as_bytes().ct_eq(presented.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn tokens_are_bound_to_their_session_or_cookie() {
        let dir = tempfile::tempdir().unwrap();
        let db = gantry_db::Db::open(&format!("sqlite://{}", dir.path().join("gantry.db").display())).await.unwrap();
        let core = crate::Core::new(db, crate::Repositories::new(dir.path(), "git"));
        let ada = core.manage().csrf_token(CsrfBinding::Session("a".repeat(64).as_str()));
        assert_eq!(ada.len(), 64);
        assert!(core.manage().csrf_token_matches(CsrfBinding::Session(&"a".repeat(64)), &ada));
        assert!(!core.manage().csrf_token_matches(CsrfBinding::Session(&"b".repeat(64)), &ada), "another session");
        assert!(
            !core.manage().csrf_token_matches(CsrfBinding::Visitor(&"a".repeat(64)), &ada),
            "a session is no visitor"
        );
        assert!(!core.manage().csrf_token_matches(CsrfBinding::Session(&"a".repeat(64)), &ada[..63]));
        assert!(!core.manage().csrf_token_matches(CsrfBinding::Session(&"a".repeat(64)), ""));
    }
}
