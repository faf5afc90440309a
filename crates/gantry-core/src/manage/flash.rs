//! What one page leaves for the next page of the same browser session: after a form's
//! redirect (POST → 303 → GET), the notice saying what happened, or a new token shown once.
//! The web layer keeps it in a cookie; it is sealed here with the server's key and bound to
//! the session, so the browser cannot read or forge it and another session cannot open it.

use crate::secret::digest;

impl super::Manage<'_> {
    /// Seals `message` for the next page of the session whose cookie secret is `session`.
    pub fn seal_flash(&self, session: &str, message: &str) -> String {
        self.secrets.seal(&flash_context(session), message)
    }

    /// Opens what [`seal_flash`](Self::seal_flash) made for this session; `None` when it was
    /// made for another session, altered, or sealed with another key.
    pub fn open_flash(&self, session: &str, sealed: &str) -> Option<String> {
        self.secrets.open(&flash_context(session), sealed).ok()
    }
}

fn flash_context(session: &str) -> String {
    format!("flash:{}", digest(session))
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn a_flash_opens_only_in_its_own_session() {
        let dir = tempfile::tempdir().unwrap();
        let db = gantry_db::Db::open(&format!("sqlite://{}", dir.path().join("gantry.db").display())).await.unwrap();
        let core = crate::Core::new(db, crate::Repositories::new(dir.path(), "git"));
        let (mine, theirs) = ("a".repeat(64), "b".repeat(64));
        let sealed = core.manage().seal_flash(&mine, "glpat-secret");
        assert!(!sealed.contains("glpat-secret"));
        assert_eq!(core.manage().open_flash(&mine, &sealed).as_deref(), Some("glpat-secret"));
        assert_eq!(core.manage().open_flash(&theirs, &sealed), None, "another session");
        let mut altered = sealed.clone();
        altered.pop();
        altered.push(if sealed.ends_with('0') { '1' } else { '0' });
        assert_eq!(core.manage().open_flash(&mine, &altered), None);
    }
}
