//! What an SSH client asks to run: `git-upload-pack '/acme/api.git'` and its variants. Only
//! the two git services are served; everything else is refused with a message.

use gantry_git::transport::Service;

/// A git command: the service and the repository's full path (without `.git`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitCommand {
    pub service: Service,
    pub repository: String,
}

/// Parses an exec request. The path may be quoted (`'…'`, as git sends it), start with `/`
/// (`ssh://` URLs) or not (`git@host:acme/api.git`), and end with `.git` or not.
pub fn parse(command: &str) -> Result<GitCommand, String> {
    let command = command.trim();
    let (name, rest) = command.split_once(' ').ok_or_else(|| unsupported(command))?;
    let service = match name {
        "git-upload-pack" => Service::UploadPack,
        "git-receive-pack" => Service::ReceivePack,
        "git" => match rest.split_once(' ') {
            Some(("upload-pack", path)) => return parse(&format!("git-upload-pack {path}")),
            Some(("receive-pack", path)) => return parse(&format!("git-receive-pack {path}")),
            _ => return Err(unsupported(command)),
        },
        _ => return Err(unsupported(command)),
    };
    let path = unquote(rest.trim()).ok_or_else(|| format!("cannot read the repository path in: {command}"))?;
    let path = path.trim_start_matches('/').trim_end_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    if path.is_empty() || path.len() > 1024 || path.contains(['\0', '\n']) {
        return Err("that is not a repository path".to_owned());
    }
    Ok(GitCommand { service, repository: path.to_owned() })
}

fn unsupported(command: &str) -> String {
    let mut shown: String = command.chars().take(80).collect();
    if shown.len() < command.len() {
        shown.push('…');
    }
    format!("Gantry only serves git over SSH (git-upload-pack and git-receive-pack), not '{shown}'")
}

/// Undoes shell single-quoting as git writes it (`'it'\''s'`); a bare word stays as it is.
fn unquote(text: &str) -> Option<String> {
    if !text.starts_with('\'') {
        return (!text.contains(['\'', ' ', '"', '\\'])).then(|| text.to_owned());
    }
    let mut out = String::new();
    let mut chars = text.chars();
    loop {
        match chars.next() {
            None => return Some(out),
            Some('\'') => loop {
                match chars.next()? {
                    '\'' => break,
                    c => out.push(c),
                }
            },
            Some('\\') => out.push(chars.next()?),
            Some(_) => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_git_sends() {
        let parsed = parse("git-upload-pack '/acme/platform/api.git'").unwrap();
        assert_eq!((parsed.service, parsed.repository.as_str()), (Service::UploadPack, "acme/platform/api"));
        assert_eq!(parse("git-receive-pack 'acme/api.git'").unwrap().repository, "acme/api");
        assert_eq!(parse("git-receive-pack acme/api").unwrap().service, Service::ReceivePack);
        assert_eq!(parse("git upload-pack '/acme/api.git'").unwrap().repository, "acme/api");
        assert_eq!(parse(r"git-upload-pack '/it'\''s.git'").unwrap().repository, "it's");
    }

    #[test]
    fn refuses_everything_else() {
        assert!(parse("ls -la").unwrap_err().contains("only serves git"));
        assert!(parse("git-upload-archive '/acme/api.git'").unwrap_err().contains("only serves git"));
        assert!(parse("git-upload-pack 'unterminated").is_err());
        assert!(parse("git-upload-pack a b").is_err());
        assert!(parse("git-upload-pack ''").is_err());
        assert!(parse("rm").is_err());
    }
}
