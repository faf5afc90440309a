//! Which ref updates a push may make. The server decides, per push, what the pusher may do
//! ([`PushPolicy`], computed from their role and the project's protected branches and tags); the
//! pre-receive hook applies it to every `old new ref` line before git changes any ref, the
//! same way for HTTP and SSH. The messages are what the pusher reads after `remote:`.

use serde::{Deserialize, Serialize};

use crate::ZERO_OID;

/// What one pusher may do to one project's refs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushPolicy {
    /// The project's default branch (never deleted by a push).
    pub default_branch: String,
    /// The protected-branch rules, with what they allow this pusher.
    pub protected: Vec<BranchRule>,
    /// The protected-tag rules, with what they allow this pusher.
    #[serde(default)]
    pub protected_tags: Vec<TagRule>,
    /// The protected-branch rules of the groups above the project: each matching one must
    /// allow the push too (the stricter of the project's and the groups' rules wins).
    #[serde(default)]
    pub group_protected: Vec<BranchRule>,
}

/// One protected-tag rule as it applies to the pusher. A protected tag is never moved or
/// deleted by a push, whoever pushes (GitLab's rule); creating one needs the rule's role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagRule {
    /// A tag name, or a pattern where `*` stands for any text (`v*`).
    pub pattern: String,
    /// Whether this pusher's role is allowed to create matching tags.
    pub create_allowed: bool,
}

/// One protected-branch rule as it applies to the pusher.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BranchRule {
    /// A branch name, or a pattern where `*` stands for any text (`release/*`).
    pub pattern: String,
    /// Whether this pusher's role is allowed to push to matching branches.
    pub push_allowed: bool,
    /// Whether force-pushes (non-fast-forward updates) are allowed.
    pub allow_force_push: bool,
}

/// One line of a push: `old new refname`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefUpdate {
    pub old: String,
    pub new: String,
    pub name: String,
}

impl RefUpdate {
    /// Parses an `old new refname` line as git hands it to pre-receive.
    pub fn parse(line: &str) -> Option<RefUpdate> {
        let mut parts = line.trim_end().splitn(3, ' ');
        let (old, new, name) = (parts.next()?, parts.next()?, parts.next()?);
        let is_oid = |s: &str| s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit());
        (is_oid(old) && is_oid(new) && !name.is_empty()).then(|| RefUpdate {
            old: old.to_owned(),
            new: new.to_owned(),
            name: name.to_owned(),
        })
    }

    pub fn is_create(&self) -> bool {
        self.old == ZERO_OID
    }

    pub fn is_delete(&self) -> bool {
        self.new == ZERO_OID
    }
}

/// Whether `pattern` (with `*` wildcards) matches the whole of `name`.
pub fn pattern_matches(pattern: &str, name: &str) -> bool {
    let mut pieces = pattern.split('*');
    let first = pieces.next().unwrap_or_default();
    let Some(mut rest) = name.strip_prefix(first) else { return false };
    let pieces: Vec<&str> = pieces.collect();
    let Some((last, middle)) = pieces.split_last() else { return rest.is_empty() };
    for piece in middle {
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

impl PushPolicy {
    /// The rules matching `branch`, or `None` when the branch is not protected: the project's
    /// own folded into the most permissive (as GitLab does when several rules match), then
    /// each matching group rule applied on top, the stricter winning.
    pub fn protection(&self, branch: &str) -> Option<BranchRule> {
        let matching = |rules: &[BranchRule]| -> Vec<BranchRule> {
            rules.iter().filter(|rule| pattern_matches(&rule.pattern, branch)).cloned().collect()
        };
        let own = matching(&self.protected).into_iter().fold(None::<BranchRule>, |acc, rule| {
            Some(match acc {
                None => rule,
                Some(acc) => BranchRule {
                    pattern: acc.pattern,
                    push_allowed: acc.push_allowed || rule.push_allowed,
                    allow_force_push: acc.allow_force_push || rule.allow_force_push,
                },
            })
        });
        matching(&self.group_protected).into_iter().fold(own, |acc, rule| {
            Some(match acc {
                None => rule,
                Some(acc) => BranchRule {
                    pattern: acc.pattern,
                    push_allowed: acc.push_allowed && rule.push_allowed,
                    allow_force_push: acc.allow_force_push && rule.allow_force_push,
                },
            })
        })
    }

    /// The rules matching `tag`, folded into the most permissive, or `None` when the tag is
    /// not protected.
    pub fn tag_protection(&self, tag: &str) -> Option<TagRule> {
        self.protected_tags.iter().filter(|rule| pattern_matches(&rule.pattern, tag)).fold(None, |acc, rule| {
            Some(match acc {
                None => rule.clone(),
                Some(acc) => {
                    TagRule { pattern: acc.pattern, create_allowed: acc.create_allowed || rule.create_allowed }
                }
            })
        })
    }

    /// Checks one ref update. `is_fast_forward` is asked only when it matters (an update of a
    /// protected branch that would otherwise be allowed); `exists` (a full ref name) only when a
    /// branch or tag is created, for the ref of the other kind with the same name.
    pub fn check(
        &self,
        update: &RefUpdate,
        is_fast_forward: impl FnOnce() -> bool,
        exists: impl Fn(&str) -> bool,
    ) -> Result<(), String> {
        if update.is_create()
            && let Some((kind, name)) = kind_and_name(&update.name)
        {
            if let Some(problem) = name_problem(kind, name) {
                return Err(problem);
            }
            if let Some(clash) = clash_candidates(&update.name).into_iter().find(|candidate| exists(candidate))
                && let Some((other_kind, other_name)) = kind_and_name(&clash)
            {
                return Err(if other_name == name {
                    format!(
                        "a {other_kind} named '{name}' exists already: a {kind} of the same name would make '{name}' ambiguous"
                    )
                } else {
                    format!(
                        "a {other_kind} named '{other_name}' exists already: a {kind} named '{name}' would read as its files"
                    )
                });
            }
        }
        if let Some(tag) = update.name.strip_prefix("refs/tags/") {
            return self.check_tag(update, tag);
        }
        let Some(branch) = update.name.strip_prefix("refs/heads/") else {
            return Err(format!(
                "you cannot push to {}: only branches (refs/heads/...) and tags (refs/tags/...) can be pushed",
                update.name
            ));
        };
        if update.is_delete() && branch == self.default_branch {
            return Err(format!(
                "the default branch '{branch}' cannot be deleted; choose another default branch in the project settings first"
            ));
        }
        let Some(rule) = self.protection(branch) else { return Ok(()) };
        if update.is_delete() {
            return Err(format!(
                "you cannot delete the protected branch '{branch}' by pushing; unprotect it or delete it in the web interface"
            ));
        }
        if !rule.push_allowed {
            return Err(format!("you are not allowed to push code to the protected branch '{branch}'"));
        }
        if !update.is_create() && !rule.allow_force_push && !is_fast_forward() {
            return Err(format!("you are not allowed to force-push to the protected branch '{branch}'"));
        }
        Ok(())
    }

    /// Checks one update of `refs/tags/<tag>`: protected tags are created by the rule's role
    /// and never moved or deleted by a push.
    fn check_tag(&self, update: &RefUpdate, tag: &str) -> Result<(), String> {
        if tag.is_empty() {
            return Err("an empty tag name is not allowed".to_owned());
        }
        let Some(rule) = self.tag_protection(tag) else { return Ok(()) };
        if update.is_delete() {
            return Err(format!(
                "you cannot delete the protected tag '{tag}' by pushing; a Maintainer can delete it in the web interface or through the API"
            ));
        }
        if !update.is_create() {
            return Err(format!("the protected tag '{tag}' cannot be updated: protected tags never move"));
        }
        if !rule.create_allowed {
            return Err(format!("you are not allowed to create the protected tag '{tag}'"));
        }
        Ok(())
    }
}

/// `("branch", "main")` for `refs/heads/main`, `("tag", "v1")` for `refs/tags/v1`.
fn kind_and_name(full: &str) -> Option<(&'static str, &str)> {
    if let Some(name) = full.strip_prefix("refs/heads/") {
        Some(("branch", name))
    } else {
        full.strip_prefix("refs/tags/").map(|name| ("tag", name))
    }
}

/// The refs of the other kind a new ref `full` must not sit beside: the same name, and each
/// name it extends (`refs/heads/main` and `refs/heads/main/scripts` for `refs/tags/main/scripts/x`:
/// the tag's files would read as the branch's in a URL like `-/raw/main/scripts/x/…`).
pub fn clash_candidates(full: &str) -> Vec<String> {
    let Some(other) = counterpart(full) else { return Vec::new() };
    let mut candidates = vec![other.clone()];
    let mut name = other.as_str();
    while let Some((parent, _)) = name.rsplit_once('/') {
        if parent == "refs/heads" || parent == "refs/tags" {
            break;
        }
        candidates.push(parent.to_owned());
        name = parent;
    }
    candidates
}

/// The ref of the other kind with the same short name: `refs/tags/main` for `refs/heads/main`.
pub fn counterpart(full: &str) -> Option<String> {
    if let Some(name) = full.strip_prefix("refs/heads/") {
        Some(format!("refs/tags/{name}"))
    } else {
        full.strip_prefix("refs/tags/").map(|name| format!("refs/heads/{name}"))
    }
}

/// Why a new branch or tag (`kind`) may not be called `name`, if it may not: names that git or
/// people would read as something else.
pub fn name_problem(kind: &str, name: &str) -> Option<String> {
    if name.eq_ignore_ascii_case("HEAD") {
        return Some(format!("a {kind} cannot be named HEAD: git reads that as the current commit"));
    }
    if name.starts_with("refs/") {
        return Some(format!("a {kind} name cannot start with refs/: '{name}' would read as a full ref name"));
    }
    if matches!(name.len(), 40 | 64) && name.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Some(format!("a {kind} cannot be named like a commit id: '{name}'"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(old: char, new: char, name: &str) -> RefUpdate {
        let oid = |c: char| if c == '0' { ZERO_OID.to_owned() } else { c.to_string().repeat(40) };
        RefUpdate { old: oid(old), new: oid(new), name: name.to_owned() }
    }

    fn policy(push_allowed: bool, allow_force_push: bool) -> PushPolicy {
        PushPolicy {
            default_branch: "main".into(),
            protected: vec![
                BranchRule { pattern: "main".into(), push_allowed, allow_force_push },
                BranchRule { pattern: "release/*".into(), push_allowed: false, allow_force_push: false },
            ],
            protected_tags: Vec::new(),
            group_protected: Vec::new(),
        }
    }

    #[test]
    fn a_group_rule_applies_on_top_of_the_project_rules_and_the_stricter_wins() {
        let mut p = policy(true, true);
        p.group_protected.push(BranchRule { pattern: "ma*".into(), push_allowed: false, allow_force_push: false });
        p.group_protected.push(BranchRule { pattern: "*-stable".into(), push_allowed: true, allow_force_push: false });
        let check =
            |p: &PushPolicy, old: char, new: char, name: &str| p.check(&update(old, new, name), || false, |_| false);
        assert!(check(&p, 'a', 'b', "refs/heads/main").is_err(), "the group forbids what the project allows");
        assert!(check(&p, '0', 'b', "refs/heads/mars").is_err(), "a branch only the group protects");
        assert!(check(&p, 'a', 'b', "refs/heads/1-stable").is_err(), "the group's rule refuses force-pushes");
        assert!(check(&p, 'a', 'b', "refs/heads/feature").is_ok());
        p.group_protected[0].push_allowed = true;
        assert!(check(&p, '0', 'b', "refs/heads/main").is_ok());
        assert!(!p.protection("main").unwrap().allow_force_push, "force-pushing needs both to allow it");
        let old_json = r#"{"default_branch":"main","protected":[]}"#;
        assert!(serde_json::from_str::<PushPolicy>(old_json).unwrap().group_protected.is_empty());
    }

    #[test]
    fn a_new_branch_or_tag_may_not_take_a_name_that_reads_as_something_else() {
        let p = policy(true, true);
        let nobody_else = |_: &str| false;
        for name in ["refs/heads/HEAD", "refs/tags/head", "refs/heads/refs/heads/main", "refs/tags/refs/x"] {
            assert!(p.check(&update('0', 'b', name), || true, nobody_else).is_err(), "{name}");
        }
        let hex40 = format!("refs/heads/{}", "a".repeat(40));
        let hex64 = format!("refs/tags/{}", "b".repeat(64));
        assert!(p.check(&update('0', 'b', &hex40), || true, nobody_else).unwrap_err().contains("commit id"));
        assert!(p.check(&update('0', 'b', &hex64), || true, nobody_else).is_err());
        assert!(p.check(&update('0', 'b', "refs/heads/abc123"), || true, nobody_else).is_ok(), "short hex is a name");
        // A tag named like a branch (and the other way round) is refused; updates of refs that
        // exist already are not asked about.
        let branch_main = |full: &str| full == "refs/heads/main";
        let error = p.check(&update('0', 'b', "refs/tags/main"), || true, branch_main).unwrap_err();
        assert!(error.contains("a branch named 'main' exists already"), "{error}");
        let error = p.check(&update('0', 'b', "refs/tags/main/scripts"), || true, branch_main).unwrap_err();
        assert!(error.contains("a branch named 'main' exists already"), "{error}");
        let tag_v1 = |full: &str| full == "refs/tags/v1";
        assert!(p.check(&update('0', 'b', "refs/heads/v1"), || true, tag_v1).unwrap_err().contains("a tag named 'v1'"));
        assert!(p.check(&update('a', 'b', "refs/heads/feature"), || true, |_| panic!("not asked")).is_ok());
    }

    #[test]
    fn wildcards_match_whole_names() {
        assert!(pattern_matches("release/*", "release/1.0"));
        assert!(pattern_matches("release/*", "release/1.0/hotfix"));
        assert!(!pattern_matches("release/*", "prerelease/1.0"));
        assert!(pattern_matches("*-stable", "production-stable"));
        assert!(pattern_matches("*gantry*", "my-gantry-branch"));
        assert!(pattern_matches("a*b*c", "abc"));
        assert!(!pattern_matches("a*b*c", "acb"));
        assert!(!pattern_matches("ab*ba", "aba"));
        assert!(pattern_matches("main", "main"));
        assert!(!pattern_matches("main", "main2"));
    }

    #[test]
    fn protected_branches_refuse_what_they_should() {
        let developer = policy(false, false);
        assert!(
            developer
                .check(&update('a', 'b', "refs/heads/main"), || true, |_| false)
                .unwrap_err()
                .contains("not allowed to push")
        );
        assert!(developer.check(&update('a', 'b', "refs/heads/release/2"), || true, |_| false).is_err());
        assert!(
            developer.check(&update('a', 'b', "refs/heads/feature"), || false, |_| false).is_ok(),
            "unprotected: anything"
        );
        assert!(developer.check(&update('a', '0', "refs/heads/feature"), || true, |_| false).is_ok());
        let maintainer = policy(true, false);
        assert!(maintainer.check(&update('a', 'b', "refs/heads/main"), || true, |_| false).is_ok());
        assert!(
            maintainer
                .check(&update('a', 'b', "refs/heads/main"), || false, |_| false)
                .unwrap_err()
                .contains("force-push")
        );
        assert!(maintainer.check(&update('0', 'b', "refs/heads/main"), || panic!("not asked"), |_| false).is_ok());
        assert!(
            maintainer
                .check(&update('a', '0', "refs/heads/main"), || true, |_| false)
                .unwrap_err()
                .contains("default branch")
        );
        assert!(policy(true, true).check(&update('a', 'b', "refs/heads/main"), || false, |_| false).is_ok());
        let mut other_default = policy(true, true);
        other_default.default_branch = "develop".into();
        assert!(
            other_default
                .check(&update('a', '0', "refs/heads/main"), || true, |_| false)
                .unwrap_err()
                .contains("protected")
        );
    }

    #[test]
    fn only_branches_and_tags_can_be_pushed() {
        let p = policy(true, true);
        assert!(p.check(&update('0', 'b', "refs/tags/v1.0"), || true, |_| false).is_ok());
        assert!(
            p.check(&update('0', 'b', "refs/notes/commits"), || true, |_| false).unwrap_err().contains("only branches")
        );
        assert!(p.check(&update('0', 'b', "refs/merge-requests/1/head"), || true, |_| false).is_err());
    }

    #[test]
    fn the_most_permissive_matching_rule_wins() {
        let mut p = policy(false, false);
        p.protected.push(BranchRule { pattern: "ma*".into(), push_allowed: true, allow_force_push: false });
        assert!(p.check(&update('a', 'b', "refs/heads/main"), || true, |_| false).is_ok());
    }

    #[test]
    fn protected_tags_are_created_by_their_role_and_never_moved_or_deleted_by_a_push() {
        let mut developer = policy(false, false);
        developer.protected_tags = vec![
            TagRule { pattern: "v*".into(), create_allowed: false },
            TagRule { pattern: "release-*".into(), create_allowed: true },
        ];
        let check =
            |p: &PushPolicy, old: char, new: char, name: &str| p.check(&update(old, new, name), || true, |_| false);
        let refused = check(&developer, '0', 'b', "refs/tags/v1.0").unwrap_err();
        assert!(refused.contains("not allowed to create the protected tag 'v1.0'"), "{refused}");
        assert!(check(&developer, '0', 'b', "refs/tags/wip-1").is_ok(), "unprotected tags are anyone's");
        assert!(check(&developer, 'a', 'b', "refs/tags/wip-1").is_ok());
        assert!(check(&developer, 'a', '0', "refs/tags/wip-1").is_ok());
        assert!(check(&developer, '0', 'b', "refs/tags/release-2").is_ok(), "the rule lets Developers create");

        let mut maintainer = developer.clone();
        maintainer.protected_tags[0].create_allowed = true;
        assert!(check(&maintainer, '0', 'b', "refs/tags/v1.0").is_ok());
        let moved = check(&maintainer, 'a', 'b', "refs/tags/v1.0").unwrap_err();
        assert!(moved.contains("protected tag 'v1.0' cannot be updated"), "{moved}");
        let deleted = check(&maintainer, 'a', '0', "refs/tags/v1.0").unwrap_err();
        assert!(deleted.contains("cannot delete the protected tag 'v1.0' by pushing"), "{deleted}");
        // Tag rules are about tags only: a branch of the same name is not protected by them.
        assert!(check(&developer, '0', 'b', "refs/heads/v1.0").is_ok());
    }

    #[test]
    fn the_most_permissive_matching_tag_rule_wins() {
        let mut p = policy(true, true);
        p.protected_tags = vec![
            TagRule { pattern: "v*".into(), create_allowed: false },
            TagRule { pattern: "v1.*".into(), create_allowed: true },
        ];
        assert!(p.tag_protection("v1.2").unwrap().create_allowed);
        assert!(!p.tag_protection("v2.0").unwrap().create_allowed);
        assert!(p.tag_protection("release").is_none());
    }

    #[test]
    fn a_policy_without_tag_rules_reads_as_no_protected_tags() {
        let json = r#"{"default_branch":"main","protected":[]}"#;
        let policy: PushPolicy = serde_json::from_str(json).unwrap();
        assert!(policy.protected_tags.is_empty());
    }

    #[test]
    fn parses_hook_lines() {
        let line = format!("{} {} refs/heads/main\n", ZERO_OID, "b".repeat(40));
        assert_eq!(RefUpdate::parse(&line).unwrap().name, "refs/heads/main");
        assert!(RefUpdate::parse("short refs/heads/main").is_none());
    }
}
