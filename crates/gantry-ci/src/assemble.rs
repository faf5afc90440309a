//! From the CI file to one YAML tree, as GitLab builds it: `include` files merged in (the
//! including file wins), then `extends` (hashes merged deeply, everything else replaced; the
//! job wins over what it extends, and later parents over earlier ones), then `!reference`
//! tags replaced by what they point to. One include, `extends` or `!reference` that cannot be
//! resolved is reported and left out; the rest is still assembled, so that every problem of the
//! configuration is found at once.
//!
//! Long because the three steps share the tree they build and its limits, and their tests sit
//! with them.

use std::collections::HashSet;
use std::sync::Arc;

use crate::error::{Diagnostic, Diagnostics, Location};
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

/// Where included files come from. Core reads them from the repository at the pipeline's
/// commit (or from another project the pipeline's user may read); `gantry ci lint` from disk.
pub trait Files {
    /// The text of `path` in this project at the pipeline's commit (`project` None), or in
    /// `project` at `reference` (its default branch when None). Err is a message for the user.
    fn read(&self, project: Option<&str>, reference: Option<&str>, path: &str) -> Result<String, String>;
}

/// A CI file assembled into one tree, and what was found wrong on the way.
#[derive(Debug)]
pub struct Assembled {
    /// The tree, without the jobs whose `extends` or `!reference` could not be resolved.
    pub root: Node,
    /// Errors and warnings found while assembling.
    pub problems: Diagnostics,
    /// Part of the configuration could not be read (an include was refused or could not be
    /// read, a `!reference` outside jobs could not be resolved): what is missing may be what a
    /// job refers to, so checks that need the whole configuration are not made.
    pub incomplete: bool,
}

/// Reads `path` through `files` and assembles it. A problem with one include, `extends` or
/// `!reference` does not stop the rest from being assembled and checked; only a main file that
/// cannot be read as a hash, or a configuration that grows too large, gives no tree at all.
pub fn assemble(files: &dyn Files, path: &str, source: &str) -> Result<Assembled, Diagnostics> {
    let file: Arc<str> = Arc::from(path);
    let document = yaml::parse_document(&file, source)?;
    let mut problems = Diagnostics::default();
    warn_of_inputs(&document, &mut problems);
    let root = document.content;
    if root.as_map().is_none() {
        return Err(Diagnostic::new(root.at.clone(), crate::error::INVALID_FORMAT).into());
    }
    let mut including = Including {
        files,
        seen: HashSet::from([(None, None, normalise(path))]),
        count: 1,
        problems,
        incomplete: false,
    };
    let root = including.include(root, 0);
    let Including { mut problems, mut incomplete, .. } = including;
    let Some(root) = extend(root, &mut problems, incomplete) else { return Err(problems) };
    let Some(root) = resolve_references(root, &mut problems, &mut incomplete) else { return Err(problems) };
    Ok(Assembled { root, problems, incomplete })
}

/// A file's `spec:inputs` are not applied yet: its `$[[ inputs.… ]]` stay as written.
fn warn_of_inputs(document: &yaml::Document, problems: &mut Diagnostics) {
    let inputs = document.header.as_ref().and_then(|h| h.get("spec")).and_then(|s| s.get("inputs"));
    if let Some(inputs) = inputs.filter(|i| i.as_map().is_some_and(|m| !m.is_empty())) {
        problems.warn(
            inputs.at.clone(),
            "`spec:inputs` are not applied yet: `$[[ inputs.… ]]` in this file stays as written",
        );
    }
}

/// A local path as GitLab accepts it: `/ci/build.yml` and `ci/build.yml` are the same file.
fn normalise(path: &str) -> String {
    path.trim_start_matches('/').to_owned()
}

type IncludeKey = (Option<String>, Option<String>, String);

/// The includes of one pipeline being read.
struct Including<'a> {
    files: &'a dyn Files,
    seen: HashSet<IncludeKey>,
    count: usize,
    problems: Diagnostics,
    /// An include was refused or could not be read.
    incomplete: bool,
}

impl Including<'_> {
    /// `root` with the files it includes merged under it. An include that is refused or cannot
    /// be read is reported and left out; the others still are merged.
    fn include(&mut self, mut root: Node, depth: usize) -> Node {
        let Value::Map(entries) = &mut root.value else { return root };
        let Some(index) = entries.iter().position(|(key, _)| **key == *"include") else { return root };
        let (_, includes) = entries.remove(index);
        let items = match includes.value {
            Value::Seq(items) => items,
            _ if includes.is_null() => Vec::new(),
            _ => vec![includes],
        };
        let mut merged = Node::new(Value::Map(Vec::new()), root.at.clone());
        for item in items {
            let before = self.problems.0.len();
            let targets = include_targets(&item, &mut self.problems);
            if self.problems.0.len() > before {
                self.incomplete = true;
            }
            for target in targets {
                match self.read(target, depth) {
                    Some(included) => merged = deep_merge(merged, included),
                    None => self.incomplete = true,
                }
            }
        }
        deep_merge(merged, root)
    }

    /// One included file, with what it includes in turn; None after reporting why it cannot be.
    fn read(&mut self, (project, reference, path, at): IncludeTarget, depth: usize) -> Option<Node> {
        let key = (project.clone(), reference.clone(), normalise(&path));
        if !self.seen.insert(key) {
            self.problems.push(at, format!("`{path}` is included more than once (or includes itself)"));
            return None;
        }
        self.count += 1;
        if self.count > MAX_INCLUDES || depth >= 100 {
            self.problems.push(at, format!("too many includes: the limit is {MAX_INCLUDES}"));
            return None;
        }
        let text = match self.files.read(project.as_deref(), reference.as_deref(), &normalise(&path)) {
            Ok(text) => text,
            Err(message) => {
                self.problems.push(at, message);
                return None;
            }
        };
        let name: Arc<str> = match &project {
            Some(project) => Arc::from(format!("{project}:{}", normalise(&path))),
            None => Arc::from(normalise(&path)),
        };
        let document = match yaml::parse_document(&name, &text) {
            Ok(document) => document,
            Err(error) => {
                self.problems.0.push(error);
                return None;
            }
        };
        warn_of_inputs(&document, &mut self.problems);
        let included = document.content;
        if included.as_map().is_none() {
            self.problems.push(included.at, "an included file is a hash of jobs and keywords");
            return None;
        }
        Some(self.include(included, depth + 1))
    }
}

/// A file an include names: its project (None for this one), ref, path, and where it is named.
type IncludeTarget = (Option<String>, Option<String>, String, Location);

/// The files one `include` item names: `path`, `{local: path}`, `{project, file, ref}`.
fn include_targets(item: &Node, diagnostics: &mut Diagnostics) -> Vec<IncludeTarget> {
    if let Some(path) = item.as_str().filter(|_| !matches!(item.value, Value::Seq(_) | Value::Map(_))) {
        if path.starts_with("http://") || path.starts_with("https://") {
            diagnostics
                .push(item.at.clone(), "remote includes are not supported: Gantry reads CI files from repositories");
            return Vec::new();
        }
        return vec![(None, None, path.to_owned(), item.at.clone())];
    }
    let Some(entries) = item.as_map() else {
        diagnostics.push(item.at.clone(), format!("an include is a path or a hash, not {}", item.kind()));
        return Vec::new();
    };
    let text = |key: &str| item.get(key).and_then(|n| n.as_str()).map(str::to_owned);
    for (key, value) in entries {
        match &**key {
            "local" | "project" | "file" | "ref" => {}
            "rules" | "inputs" => {
                diagnostics.push(value.at.clone(), format!("`include:{key}` is not supported yet"));
            }
            "remote" | "template" | "component" => {
                diagnostics.push(
                    value.at.clone(),
                    format!("`include:{key}` is not supported: Gantry includes files from its own repositories"),
                );
            }
            other => diagnostics.push(key.at.clone(), format!("unknown include keyword `{other}`")),
        }
    }
    if let Some(local) = item.get("local") {
        return match local.as_str() {
            Some(path) => vec![(None, None, path.to_owned(), local.at.clone())],
            None => {
                diagnostics.push(local.at.clone(), "`include:local` is a path");
                Vec::new()
            }
        };
    }
    let Some(project) = text("project") else {
        if item.get("file").is_some() {
            diagnostics.push(item.at.clone(), "`include:file` needs `project`");
        }
        return Vec::new();
    };
    let reference = text("ref");
    let paths = match item.get("file") {
        Some(Node { value: Value::Seq(items), .. }) => items.iter().collect(),
        Some(file) => vec![file],
        None => {
            diagnostics.push(item.at.clone(), "`include:project` needs `file`");
            return Vec::new();
        }
    };
    let mut targets = Vec::new();
    for path in paths {
        match path.as_str() {
            Some(p) => targets.push((Some(project.clone()), reference.clone(), p.to_owned(), path.at.clone())),
            None => diagnostics.push(path.at.clone(), "`include:file` is a path or a list of paths"),
        }
    }
    targets
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
        let assembled = assemble(&InMemory(files.iter().copied().collect()), ".gitlab-ci.yml", main)?;
        assembled.problems.into_result(assembled.root)
    }

    fn assembled(main: &str, files: &[(&'static str, &'static str)]) -> Assembled {
        assemble(&InMemory(files.iter().copied().collect()), ".gitlab-ci.yml", main).unwrap()
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
        let errors = build("include: a.yml\n", &[("a.yml", "include: a.yml\n")]).unwrap_err();
        assert!(errors.to_string().contains("a.yml:1:10: `a.yml` is included more than once"), "{errors}");
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
        assert!(problems[0].starts_with(".gitlab-ci.yml:2:13: `include:remote` is not supported"), "{problems:?}");
        assert_eq!(problems[1], ".gitlab-ci.yml:3:5: `missing.yml` does not exist");
        assert!(problems[2].starts_with("ci/broken.yml:"), "{problems:?}");
        assert_eq!(script_of(&assembled.root, "other"), vec!["good"]);
        // `.from_remote` may be in the refused include: the job is left out, not reported.
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
            &[("ci/component.yml", "spec:\n  inputs:\n    stage:\n      default: test\n---\njob:\n  script: [x]\n")],
        );
        assert_eq!(script_of(&assembled.root, "job"), vec!["x"]);
        assert!(assembled.root.get("spec").is_none());
        assert!(!assembled.problems.has_errors());
        let warnings: Vec<String> = assembled.problems.0.iter().map(ToString::to_string).collect();
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].starts_with("ci/component.yml:3:5: warning: `spec:inputs` are not applied yet"),
            "{warnings:?}"
        );
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
