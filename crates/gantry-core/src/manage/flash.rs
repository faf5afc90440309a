//! What one page leaves for the next page of the same browser session: after a form's
//! redirect (POST → 303 → GET), the notice saying what happened, or a new token shown once.
//! The web layer keeps it in a cookie; it is sealed here with the server's key and bound to
//! the browser (its session, or its pre-session cookie before it signs in, as CSRF tokens
//! are), so the browser cannot read or forge it and another browser cannot open it.

use super::csrf::CsrfBinding;
use crate::secret::digest;

impl super::Manage<'_> {
    /// Seals `message` for the next page of the browser `binding` names.
    pub fn seal_flash(&self, binding: CsrfBinding<'_>, message: &str) -> String {
        self.secrets.seal(&flash_context(binding), message)
    }

    /// Opens what [`seal_flash`](Self::seal_flash) made for this browser; `None` when it was
    /// made for another, altered, or sealed with another key.
    pub fn open_flash(&self, binding: CsrfBinding<'_>, sealed: &str) -> Option<String> {
        self.secrets.open(&flash_context(binding), sealed).ok()
    }
}

fn flash_context(binding: CsrfBinding<'_>) -> String {
    match binding {
        CsrfBinding::Session(secret) => format!("flash:session:{}", digest(secret)),
        CsrfBinding::Visitor(cookie) => format!("flash:visitor:{}", digest(cookie)),
    }
}

#[cfg(test)]
mod tests {
    use super::CsrfBinding::{Session, Visitor};

    #[tokio::test]
    async fn a_flash_opens_only_in_its_own_browser() {
        let dir = tempfile::tempdir().unwrap();
        let db = gantry_db::Db::open(&format!("sqlite://{}", dir.path().join("gantry.db").display())).await.unwrap();
        let core = crate::Core::new(db, crate::Repositories::new(dir.path(), "git"));
        let (mine, theirs) = ("a".repeat(64), "b".repeat(64));
        let sealed = core.manage().seal_flash(Session(&mine), "glpat-secret");
        assert!(!sealed.contains("glpat-secret"));
        assert_eq!(core.manage().open_flash(Session(&mine), &sealed).as_deref(), Some("glpat-secret"));
        assert_eq!(core.manage().open_flash(Session(&theirs), &sealed), None, "another session");
        assert_eq!(core.manage().open_flash(Visitor(&mine), &sealed), None, "a cookie is no session");
        let mut altered = sealed.clone();
        altered.pop();
        altered.push(if sealed.ends_with('0') { '1' } else { '0' });
        assert_eq!(core.manage().open_flash(Session(&mine), &altered), None);
    }
}
