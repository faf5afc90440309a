//! `include:component` addresses as GitLab reads them: `HOST/group/project/name@version`, where
//! HOST is the server's own host, the project is every segment but the last, and the component
//! is the last. A component is the file `templates/<name>.yml` or `templates/<name>/template.yml`
//! of that project at the version: `~latest` (the newest released semantic version), `1` or `1.2`
//! (the newest of that major or minor version), a tag, a branch or a commit id. Reading the
//! project is the caller's (`Files::component`); this only parses and chooses.

/// A component's address, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentAddress {
    /// As written, for messages (GitLab's start with `Component '<address>' -`).
    pub address: String,
    /// The project's full path (`group/project`).
    pub project: String,
    /// The component's name (`build`).
    pub name: String,
    /// What follows `@` (`~latest`, `1.2.0`, `main`, a commit id).
    pub version: String,
}

/// What `@~latest` asks for.
pub const LATEST: &str = "~latest";

impl ComponentAddress {
    /// Splits `address` for a server at `host` (its host, and its port when the URL has one).
    /// Err is GitLab's message.
    pub fn parse(address: &str, host: &str) -> Result<ComponentAddress, String> {
        let unsupported = || format!("Component '{address}' - the component path is not supported");
        let (path, version) = address.split_once('@').ok_or_else(unsupported)?;
        let host = host.trim_end_matches('/');
        let path = path.strip_prefix(host).and_then(|rest| rest.strip_prefix('/')).ok_or_else(unsupported)?;
        let not_found = || format!("Component '{address}' - content not found");
        let (project, name) = path.rsplit_once('/').ok_or_else(not_found)?;
        if project.is_empty() || project.starts_with('/') || name.is_empty() || version.is_empty() {
            return Err(not_found());
        }
        Ok(ComponentAddress {
            address: address.to_owned(),
            project: project.to_owned(),
            name: name.to_owned(),
            version: version.to_owned(),
        })
    }

    /// The files the component may be, in the order GitLab looks for them.
    pub fn paths(&self) -> [String; 2] {
        [format!("templates/{}.yml", self.name), format!("templates/{}/template.yml", self.name)]
    }

    /// GitLab's message for a component that could not be read: `reason` after its prefix.
    pub fn error(&self, reason: &str) -> String {
        format!("Component '{}' - {reason}", self.address)
    }
}

/// A released semantic version: `1.2.3` (a leading `v` allowed), without a pre-release part.
fn release(tag: &str) -> Option<(u64, u64, u64)> {
    let digits = tag.strip_prefix('v').unwrap_or(tag);
    let mut parts = digits.split('.');
    let mut number = || {
        let part = parts.next()?;
        (!part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) && (part == "0" || !part.starts_with('0')))
            .then(|| part.parse().ok())
            .flatten()
    };
    let version = (number()?, number()?, number()?);
    parts.next().is_none().then_some(version)
}

/// The tag `version` names among `tags` when it asks for the newest of several: `~latest` (the
/// newest release), `1` (the newest 1.x.y), `1.2` (the newest 1.2.y). None when it names one
/// ref itself, or when no tag fits.
pub fn newest_release<'a>(tags: impl IntoIterator<Item = &'a str>, version: &str) -> Option<&'a str> {
    let wanted: Vec<u64> = if version == LATEST {
        Vec::new()
    } else {
        let parts: Vec<&str> = version.split('.').collect();
        if parts.len() > 2 || parts.iter().any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
            return None;
        }
        parts.iter().map(|p| p.parse().ok()).collect::<Option<_>>()?
    };
    tags.into_iter()
        .filter_map(|tag| Some((release(tag)?, tag)))
        .filter(|((major, minor, _), _)| {
            wanted.first().is_none_or(|m| m == major) && wanted.get(1).is_none_or(|m| m == minor)
        })
        .max_by_key(|(version, tag)| (*version, !tag.starts_with('v')))
        .map(|(_, tag)| tag)
}

/// Whether `version` asks for the newest of several releases (`~latest`, `1`, `1.2`).
pub fn asks_for_newest(version: &str) -> bool {
    version == LATEST
        || (version.split('.').count() <= 2
            && version.split('.').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_name_a_project_a_component_and_a_version() {
        let address = ComponentAddress::parse("gantry.test/acme/tools/ci/build@1.0.0", "gantry.test").unwrap();
        assert_eq!((address.project.as_str(), address.name.as_str()), ("acme/tools/ci", "build"));
        assert_eq!(address.version, "1.0.0");
        assert_eq!(address.paths(), ["templates/build.yml", "templates/build/template.yml"]);
        let with_port = ComponentAddress::parse("localhost:3000/acme/ci/lint@main", "localhost:3000").unwrap();
        assert_eq!(with_port.project, "acme/ci");
        assert_eq!(
            ComponentAddress::parse("gitlab.com/acme/ci/build@1.0", "gantry.test").unwrap_err(),
            "Component 'gitlab.com/acme/ci/build@1.0' - the component path is not supported"
        );
        assert_eq!(
            ComponentAddress::parse("gantry.test/acme/ci/build", "gantry.test").unwrap_err(),
            "Component 'gantry.test/acme/ci/build' - the component path is not supported"
        );
        assert_eq!(
            ComponentAddress::parse("gantry.test/build@1", "gantry.test").unwrap_err(),
            "Component 'gantry.test/build@1' - content not found"
        );
    }

    #[test]
    fn the_newest_release_is_chosen_by_semantic_version() {
        let tags = ["1.2.0", "1.10.0", "v2.0.0", "2.1.0-rc.1", "latest", "1.9.9", "01.0.0"];
        assert_eq!(newest_release(tags, LATEST), Some("v2.0.0"));
        assert_eq!(newest_release(tags, "1"), Some("1.10.0"));
        assert_eq!(newest_release(tags, "1.2"), Some("1.2.0"));
        assert_eq!(newest_release(tags, "3"), None);
        assert_eq!(newest_release(tags, "main"), None);
        assert!(asks_for_newest("~latest") && asks_for_newest("1") && asks_for_newest("1.2"));
        assert!(!asks_for_newest("1.2.3") && !asks_for_newest("main"));
    }
}
