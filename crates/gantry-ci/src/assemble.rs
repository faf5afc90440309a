//! From the CI file to one YAML tree, as GitLab builds it: `include` files merged in (the
//! including file wins; reading them is `include`'s), then `extends` (hashes merged deeply, everything else replaced; the
//! job wins over what it extends, and later parents over earlier ones), then `!reference`
//! tags replaced by what they point to. One include, `extends` or `!reference` that cannot be
//! resolved is reported and left out; the rest is still assembled, so that every problem of the
//! configuration is found at once.
//!
//! Long because the three steps share the tree they build and its limits, and their tests sit
//! with them.

use std::sync::Arc;

use crate::error::{Diagnostic, Diagnostics, Location};
use crate::include::{Including, Origin};
use crate::plan::Facts;
use crate::yaml::{self, Key, Node, Value};

/// Most files one pipeline may include (GitLab's default limit).
pub const MAX_INCLUDES: usize = 150;
/// Deepest chain of `extends` (GitLab's limit).
const MAX_EXTENDS_DEPTH: usize = 11;
/// Deepest chain of `!reference` pointing at values that hold references.
const MAX_REFERENCE_DEPTH: usize = 10;
/// The most values the configuration may have once `extends` and `!reference` have copied what
/// they name: a small file can otherwise ask for billions (each reference repeating ten others).
pub const MAX_ASSEMBLED_VALUES: usize = 1_000_000;

/// How many values a tree holds.
fn count_values(node: &Node) -> usize {
    1 + match &node.value {
        Value::Seq(items) => items.iter().map(count_values).sum(),
        Value::Map(entries) => entries.iter().map(|(_, v)| 1 + count_values(v)).sum(),
        Value::Scalar { .. } | Value::Reference(_) => 0,
    }
}

fn too_large(at: &crate::Location) -> crate::Diagnostic {
    crate::Diagnostic::new(
        at.clone(),
        format!(
            "the configuration is too large once `extends` and `!reference` are applied (over {MAX_ASSEMBLED_VALUES} values)"
        ),
    )
}

/// The kinds of include, for a reader to say which it does not reach ([`Files::skips`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncludeKind {
    Local,
    Project,
    Component,
    Template,
    Remote,
    Artifact,
}

/// A CI/CD component read for `include:component`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    /// Its project's full path.
    pub project: String,
    /// The commit its version names: the component's own local includes are read there.
    pub sha: String,
    /// The file read: `templates/<name>.yml` or `templates/<name>/template.yml`.
    pub path: String,
    pub text: String,
    /// The component's name (the last segment of its address).
    pub name: String,
    /// The released version the address resolved to (`1.2.0` for `~latest`), when it names one.
    pub version: Option<String>,
}

/// Where included files come from. Core reads them from the repository at the pipeline's
/// commit, from other projects the pipeline's user may read, from its templates and from the
/// hosts its administrator allows; `gantry ci lint` from the working tree. Every Err is a
/// message for the user.
pub trait Files {
    /// The text of `path` in this project at the pipeline's commit (`project` None), or in
    /// `project` at `reference` (its default branch when None).
    fn read(&self, project: Option<&str>, reference: Option<&str>, path: &str) -> Result<String, String>;

    /// Every file path of `project` at `reference` (its default branch when None), for
    /// wildcards and `include:rules:exists` in its files. The pipeline's own project's files
    /// are the facts' `files`.
    fn list(&self, project: &str, reference: Option<&str>) -> Result<Vec<String>, String> {
        let _ = reference;
        Err(format!("the files of `{project}` cannot be listed here"))
    }

    /// The component at `address` (`HOST/group/project/name@version`, see
    /// [`crate::component::ComponentAddress`]).
    fn component(&self, address: &str) -> Result<Component, String> {
        Err(format!("Component '{address}' - components cannot be read here"))
    }

    /// One of the server's CI templates (`Nodejs.gitlab-ci.yml`).
    fn template(&self, name: &str) -> Result<String, String> {
        Err(format!("Included file `{name}` is empty or does not exist! (no template can be read here)"))
    }

    /// The text at `url`.
    fn remote(&self, url: &str) -> Result<String, String> {
        Err(format!("Remote file `{url}` could not be fetched: remote files cannot be read here"))
    }

    /// `path` among the artifacts of the job `job` of the parent pipeline, for a dynamic child
    /// pipeline's `trigger:include:artifact`.
    fn artifact(&self, job: &str, path: &str) -> Result<String, String> {
        let _ = job;
        Err(format!(
            "`include:artifact` ({path}) is only for child pipelines: `trigger:include` of a job in the parent pipeline"
        ))
    }

    /// Why includes of `kind` are not read here, when they are not (`gantry ci lint` has no
    /// server to read other projects from): they are skipped with a warning, and what they
    /// would have defined is not reported missing.
    fn skips(&self, kind: IncludeKind) -> Option<String> {
        let _ = kind;
        None
    }
}

/// A CI file assembled into one tree, and what was found wrong on the way.
#[derive(Debug)]
pub struct Assembled {
    /// The tree, without the jobs whose `extends` or `!reference` could not be resolved.
    pub root: Node,
    /// Errors and warnings found while assembling.
    pub problems: Diagnostics,
    /// Part of the configuration could not be read (an include was refused, skipped or could
    /// not be read, a `!reference` outside jobs could not be resolved): what is missing may be
    /// what a job refers to, so checks that need the whole configuration are not made.
    pub incomplete: bool,
}

/// Reads `path` through `files` and assembles it for the pipeline `facts` describe (its
/// variables, for `include:rules`, the locations and `expand_vars`, which refuses the `masked`
/// ones; its files, for wildcards and `exists`). A problem with one include, `extends` or
/// `!reference` does not stop the rest from being assembled and checked; only a main file that
/// cannot be read as a hash or interpolated, or a configuration that grows too large, gives no
/// tree at all.
pub fn assemble(
    files: &dyn Files,
    path: &str,
    source: &str,
    facts: &Facts,
    masked: &[String],
) -> Result<Assembled, Diagnostics> {
    assemble_with_inputs(files, path, source, facts, masked, None)
}

/// [`assemble`] with the `given` values of the main file's `spec:inputs` (its defaults fill
/// the rest).
pub fn assemble_with_inputs(
    files: &dyn Files,
    path: &str,
    source: &str,
    facts: &Facts,
    masked: &[String],
    given: Option<&Node>,
) -> Result<Assembled, Diagnostics> {
    let file: Arc<str> = Arc::from(path);
    let document = yaml::parse_document(&file, source)?;
    if document.content.as_map().is_none() {
        return Err(Diagnostic::new(document.content.at.clone(), crate::error::INVALID_FORMAT).into());
    }
    let mut including = Including::new(files, facts, masked, path);
    let root = match including.main(document, given) {
        Ok(root) => root,
        Err(()) => {
            let mut problems = including.problems;
            problems.take_warnings();
            return Err(problems);
        }
    };
    if root.as_map().is_none() {
        return Err(Diagnostic::new(root.at.clone(), crate::error::INVALID_FORMAT).into());
    }
    let root = including.include(root, &Origin::Pipeline);
    let (mut problems, mut incomplete) = (including.problems, including.incomplete);
    let Some(root) = extend(root, &mut problems, incomplete) else { return Err(problems) };
    let Some(root) = resolve_references(root, &mut problems, &mut incomplete) else { return Err(problems) };
    Ok(Assembled { root, problems, incomplete })
}

/// GitLab's deep merge: hashes merge key by key, anything else in `over` replaces `base`.
pub fn deep_merge(base: Node, over: Node) -> Node {
    match (base.value, over.value) {
        (Value::Map(mut entries), Value::Map(over_entries)) => {
            for (key, value) in over_entries {
                match entries.iter().position(|(k, _)| *k == key) {
                    Some(index) => {
                        let (_, old) = entries.remove(index);
                        entries.insert(index, (key, deep_merge(old, value)));
                    }
                    None => entries.push((key, value)),
                }
            }
            Node::new(Value::Map(entries), over.at)
        }
        (_, value) => Node::new(value, over.at),
    }
}

/// Applies every job's `extends` (jobs and hidden jobs alike). A job whose `extends` cannot be
/// resolved is reported and left out, so that what it would have inherited is not reported
/// missing; when the configuration is `incomplete`, a parent that cannot be found may be in what
/// is missing and is not reported. None when the result is too large (reported).
fn extend(root: Node, problems: &mut Diagnostics, incomplete: bool) -> Option<Node> {
    let Value::Map(entries) = &root.value else { return Some(root) };
    let mut resolved: Vec<(Key, Node)> = Vec::with_capacity(entries.len());
    let mut budget = MAX_ASSEMBLED_VALUES;
    for (name, job) in entries {
        let job = if job.get("extends").is_some_and(|e| !e.is_null()) {
            let mut extending = Extending { root: &root, problems: &mut *problems, incomplete, damaged: false };
            let extended = extending.extended(name, &mut Vec::new());
            match extended {
                Some(job) if !extending.damaged => job,
                _ => continue,
            }
        } else {
            let mut job = job.clone();
            if let Value::Map(entries) = &mut job.value {
                entries.retain(|(k, _)| **k != *"extends");
            }
            job
        };
        match budget.checked_sub(count_values(&job)) {
            Some(left) => budget = left,
            None => {
                problems.0.push(too_large(&job.at));
                return None;
            }
        }
        resolved.push((name.clone(), job));
    }
    Some(Node::new(Value::Map(resolved), root.at))
}

/// One job's `extends` being resolved.
struct Extending<'a> {
    root: &'a Node,
    problems: &'a mut Diagnostics,
    incomplete: bool,
    /// Something the job extends could not be resolved.
    damaged: bool,
}

impl Extending<'_> {
    fn report(&mut self, at: Location, message: String) {
        self.damaged = true;
        self.problems.push(at, message);
    }

    /// The job `name` with what it extends merged under it; None after reporting a problem.
    fn extended(&mut self, name: &str, chain: &mut Vec<String>) -> Option<Node> {
        let job = self.root.get(name)?;
        let Some(parents) = job.get("extends").filter(|e| !e.is_null()) else {
            let mut own = job.clone();
            if let Value::Map(entries) = &mut own.value {
                entries.retain(|(k, _)| **k != *"extends");
            }
            return Some(own);
        };
        if chain.iter().any(|n| n == name) {
            self.report(parents.at.clone(), format!("`{name}`: circular dependency detected in `extends`"));
            return None;
        }
        if chain.len() >= MAX_EXTENDS_DEPTH {
            self.report(parents.at.clone(), format!("`{name}`: `extends` nested more than {MAX_EXTENDS_DEPTH} levels"));
            return None;
        }
        let names: Vec<&Node> = match &parents.value {
            Value::Seq(items) => items.iter().collect(),
            _ => vec![parents],
        };
        chain.push(name.to_owned());
        let mut base: Option<Node> = None;
        for parent in names {
            let Some(parent_name) = parent.as_str().filter(|_| matches!(parent.value, Value::Scalar { .. })) else {
                self.report(parent.at.clone(), "`extends` is a job name or a list of job names".to_owned());
                continue;
            };
            match self.root.get(parent_name) {
                Some(found) if found.as_map().is_some() => {}
                Some(_) => {
                    let message = format!("`{parent_name}` is not a job or hidden job and cannot be extended");
                    self.report(parent.at.clone(), message);
                    continue;
                }
                None if self.incomplete => {
                    self.damaged = true;
                    continue;
                }
                None => {
                    self.report(parent.at.clone(), format!("`{name}`: unknown key in `extends`: `{parent_name}`"));
                    continue;
                }
            }
            let Some(parent_job) = self.extended(parent_name, chain) else { continue };
            base = Some(match base {
                Some(base) => deep_merge(base, parent_job),
                None => parent_job,
            });
        }
        chain.pop();
        let mut own = job.clone();
        if let Value::Map(entries) = &mut own.value {
            entries.retain(|(k, _)| **k != *"extends");
        }
        Some(match base {
            Some(base) => deep_merge(base, own),
            None => own,
        })
    }
}

/// Replaces every `!reference` in the tree with the value it points to. A job (or hidden job)
/// with a reference that cannot be resolved is reported and left out; a top-level keyword with
/// one makes the configuration `incomplete`. None when the result is too large (reported).
fn resolve_references(root: Node, problems: &mut Diagnostics, incomplete: &mut bool) -> Option<Node> {
    let Value::Map(entries) = &root.value else { return Some(root) };
    let mut budget = MAX_ASSEMBLED_VALUES;
    let mut resolved = Vec::with_capacity(entries.len());
    for (name, value) in entries {
        let mut found = Diagnostics::default();
        let mut missing = 0;
        let value =
            replace(&root, value, 0, &mut budget, &mut Replacing { problems: &mut found, missing: &mut missing });
        if budget == 0 {
            problems.0.push(too_large(&root.at));
            return None;
        }
        let damaged = missing > 0 || !found.is_empty();
        // A missing target may be in an include that could not be read.
        if !*incomplete {
            problems.0.extend(found.0);
        } else {
            problems.0.extend(found.0.into_iter().filter(|d| !d.message.ends_with(NOT_FOUND)));
        }
        if damaged && crate::decode::GLOBAL_KEYWORDS.contains(&&**name) {
            *incomplete = true;
        } else if damaged {
            continue;
        }
        resolved.push((name.clone(), value));
    }
    Some(Node::new(Value::Map(resolved), root.at))
}

/// The end of the message for a `!reference` whose target is not there.
const NOT_FOUND: &str = "could not be found";

/// Where `replace` reports, and how many references it could not resolve.
struct Replacing<'a> {
    problems: &'a mut Diagnostics,
    missing: &'a mut usize,
}

/// Copies `node` with its references replaced, spending one of `budget` per value; once the
/// budget is spent it copies nothing more (the caller reports it).
fn replace(root: &Node, node: &Node, depth: usize, budget: &mut usize, out: &mut Replacing) -> Node {
    if *budget == 0 {
        return Node::new(Value::Seq(Vec::new()), node.at.clone());
    }
    *budget -= 1;
    match &node.value {
        Value::Reference(path) => {
            if depth >= MAX_REFERENCE_DEPTH {
                out.problems
                    .push(node.at.clone(), format!("`!reference` nested more than {MAX_REFERENCE_DEPTH} levels"));
                return Node::new(Value::Seq(Vec::new()), node.at.clone());
            }
            let mut target = Some(root);
            for key in path {
                target = target.and_then(|t| t.get(key));
            }
            match target {
                Some(found) => {
                    let mut value = replace(root, found, depth + 1, budget, out);
                    value.at = node.at.clone();
                    value
                }
                None => {
                    *out.missing += 1;
                    out.problems.push(node.at.clone(), format!("`!reference [{}]` {NOT_FOUND}", path.join(", ")));
                    Node::new(Value::Seq(Vec::new()), node.at.clone())
                }
            }
        }
        Value::Seq(items) => {
            Node::new(Value::Seq(items.iter().map(|i| replace(root, i, depth, budget, out)).collect()), node.at.clone())
        }
        Value::Map(entries) => Node::new(
            Value::Map(entries.iter().map(|(k, v)| (k.clone(), replace(root, v, depth, budget, out))).collect()),
            node.at.clone(),
        ),
        Value::Scalar { .. } => node.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct InMemory(HashMap<&'static str, &'static str>);

    const NO_FACTS: Facts = Facts { variables: &[], changed_paths: None, files: &[] };

    impl Files for InMemory {
        fn read(&self, project: Option<&str>, _: Option<&str>, path: &str) -> Result<String, String> {
            let key = match project {
                Some(p) => format!("{p}:{path}"),
                None => path.to_owned(),
            };
            self.0.get(key.as_str()).map(|s| s.to_string()).ok_or_else(|| format!("`{path}` does not exist"))
        }
    }

    #[test]
    fn references_and_extends_cannot_blow_a_small_file_up() {
        // Eight levels of ten references each: a billion values from 2 KB.
        let mut bomb = String::from(".a0:\n  k: [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 1..9 {
            let item = format!("!reference [.a{}, k]", level - 1);
            bomb.push_str(&format!(".a{level}:\n  k: [{}]\n", vec![item; 10].join(", ")));
        }
        bomb.push_str("job:\n  script: !reference [.a8, k]\n");
        let error = build(&bomb, &[]).unwrap_err().to_string();
        assert!(error.contains("too large"), "{error}");
        // Thousands of jobs extending one large hidden job.
        let mut bomb = format!(".big:\n  script: x\n  tags: [{}]\n", vec!["x"; 60_000].join(", "));
        for n in 0..3000 {
            bomb.push_str(&format!("j{n}:\n  extends: .big\n"));
        }
        let error = build(&bomb, &[]).unwrap_err().to_string();
        assert!(error.contains("too large"), "{error}");
        // Ordinary use stays well within the limit.
        let fine = ".base:\n  script: [a, b]\njob:\n  extends: .base\n  after_script: !reference [.base, script]\n";
        assert!(build(fine, &[]).is_ok());
    }

    fn build(main: &str, files: &[(&'static str, &'static str)]) -> Result<Node, Diagnostics> {
        let assembled = assemble(&InMemory(files.iter().copied().collect()), ".gitlab-ci.yml", main, &NO_FACTS, &[])?;
        assembled.problems.into_result(assembled.root)
    }

    fn assembled(main: &str, files: &[(&'static str, &'static str)]) -> Assembled {
        assemble(&InMemory(files.iter().copied().collect()), ".gitlab-ci.yml", main, &NO_FACTS, &[]).unwrap()
    }

    fn script_of(root: &Node, job: &str) -> Vec<String> {
        match &root.get(job).unwrap().get("script").unwrap().value {
            Value::Seq(items) => items.iter().map(|i| i.as_str().unwrap_or("[nested]").to_owned()).collect(),
            Value::Scalar { text, .. } => vec![text.clone()],
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn extends_merges_hashes_and_replaces_the_rest() {
        let root = build(
            ".base:\n  image: alpine\n  variables: {A: '1', B: '1'}\n  script: [base]\n.more:\n  extends: .base\n  variables: {B: '2'}\njob:\n  extends: [.more]\n  script: [own]\n",
            &[],
        )
        .unwrap();
        let job = root.get("job").unwrap();
        assert_eq!(job.get("image").unwrap().as_str(), Some("alpine"));
        assert_eq!(job.get("variables").unwrap().get("A").unwrap().as_str(), Some("1"));
        assert_eq!(job.get("variables").unwrap().get("B").unwrap().as_str(), Some("2"));
        assert_eq!(script_of(&root, "job"), vec!["own"]);
        assert!(job.get("extends").is_none());
    }

    #[test]
    fn extends_cycles_and_unknown_parents_are_errors() {
        let errors = build("a:\n  extends: b\n  script: x\nb:\n  extends: a\n", &[]).unwrap_err();
        assert!(errors.to_string().contains("circular dependency"), "{errors}");
        let errors = build("a:\n  extends: .nope\n  script: x\n", &[]).unwrap_err();
        assert_eq!(errors.0[0].at.line, 2);
        assert!(errors.to_string().contains("unknown key in `extends`: `.nope`"), "{errors}");
    }

    #[test]
    fn includes_merge_under_the_including_file() {
        let root = build(
            "include:\n  - local: /ci/build.yml\n  - ci/test.yml\nbuild:\n  script: [mine]\n",
            &[
                ("ci/build.yml", "build:\n  stage: build\n  script: [theirs]\n"),
                ("ci/test.yml", "test:\n  script: [t]\n"),
            ],
        )
        .unwrap();
        assert_eq!(root.get("build").unwrap().get("stage").unwrap().as_str(), Some("build"));
        assert_eq!(script_of(&root, "build"), vec!["mine"]);
        assert_eq!(script_of(&root, "test"), vec!["t"]);
        let errors = build("include: missing.yml\n", &[]).unwrap_err();
        assert_eq!(errors.to_string(), ".gitlab-ci.yml:1:10: `missing.yml` does not exist");
    }

    #[test]
    fn one_bad_include_leaves_the_others_and_the_rest_assembled() {
        let assembled = assembled(
            "include:\n  - remote: https://example.com/x.yml\n  - missing.yml\n  - ci/broken.yml\n  - ci/good.yml\njob:\n  extends: .from_remote\n  script: x\nother:\n  extends: .good\n",
            &[("ci/good.yml", ".good:\n  script: [good]\n"), ("ci/broken.yml", "a: [\n")],
        );
        assert!(assembled.incomplete);
        let problems: Vec<String> = assembled.problems.0.iter().map(ToString::to_string).collect();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(
            problems[0]
                .starts_with(".gitlab-ci.yml:2:13: Remote file `https://example.com/x.yml` could not be fetched"),
            "{problems:?}"
        );
        assert_eq!(problems[1], ".gitlab-ci.yml:3:5: `missing.yml` does not exist");
        assert!(problems[2].starts_with("ci/broken.yml:"), "{problems:?}");
        assert_eq!(script_of(&assembled.root, "other"), vec!["good"]);
        // `.from_remote` may be in the include that could not be read: the job is left out,
        // not reported.
        assert!(assembled.root.get("job").is_none());
    }

    #[test]
    fn a_job_that_cannot_be_extended_is_left_out_and_the_others_kept() {
        let assembled = assembled(
            "a:\n  extends: .nope\n  script: x\nb:\n  extends: .base\n.base:\n  script: [base]\nc:\n  script: !reference [.none, script]\nd:\n  extends: null\n  script: [d]\n",
            &[],
        );
        assert!(!assembled.incomplete);
        let problems: Vec<String> = assembled.problems.0.iter().map(ToString::to_string).collect();
        assert_eq!(
            problems,
            [
                ".gitlab-ci.yml:2:12: `a`: unknown key in `extends`: `.nope`",
                ".gitlab-ci.yml:9:22: `!reference [.none, script]` could not be found"
            ]
        );
        assert!(assembled.root.get("a").is_none() && assembled.root.get("c").is_none());
        assert_eq!(script_of(&assembled.root, "b"), vec!["base"]);
        assert_eq!(script_of(&assembled.root, "d"), vec!["d"]);
        assert!(assembled.root.get("d").unwrap().get("extends").is_none());
    }

    #[test]
    fn an_included_file_may_have_a_spec_header() {
        let assembled = assembled(
            "include: ci/component.yml\n",
            &[(
                "ci/component.yml",
                "spec:\n  inputs:\n    stage:\n      default: test\n---\njob:\n  stage: $[[ inputs.stage ]]\n  script: [x]\n",
            )],
        );
        assert_eq!(script_of(&assembled.root, "job"), vec!["x"]);
        assert_eq!(assembled.root.get("job").unwrap().get("stage").unwrap().as_str(), Some("test"));
        assert!(assembled.root.get("spec").is_none());
        assert!(assembled.problems.is_empty(), "{}", assembled.problems);
    }

    #[test]
    fn references_are_replaced_after_extends() {
        let root = build(
            ".setup:\n  script: [one, two]\n.child:\n  extends: .setup\njob:\n  script:\n    - !reference [.child, script]\n    - three\n",
            &[],
        )
        .unwrap();
        match &root.get("job").unwrap().get("script").unwrap().value {
            Value::Seq(items) => assert!(matches!(&items[0].value, Value::Seq(inner) if inner.len() == 2)),
            other => panic!("{other:?}"),
        }
        let errors = build("job:\n  script: !reference [.none, script]\n", &[]).unwrap_err();
        assert!(errors.to_string().contains("2:22: `!reference [.none, script]` could not be found"), "{errors}");
    }
}
