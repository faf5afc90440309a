//! From the CI file to one YAML tree, as GitLab builds it: `include` files merged in (the
//! including file wins), then `extends` (hashes merged deeply, everything else replaced; the
//! job wins over what it extends, and later parents over earlier ones), then `!reference`
//! tags replaced by what they point to.

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

/// Reads `path` through `files` and returns the assembled tree.
pub fn assemble(files: &dyn Files, path: &str, source: &str) -> Result<Node, Diagnostics> {
    let file: Arc<str> = Arc::from(path);
    let root = yaml::parse(&file, source)?;
    let mut seen = HashSet::from([(None, None, normalise(path))]);
    let mut count = 1;
    let root = include(files, root, &mut seen, &mut count, 0)?;
    let root = extend(root)?;
    resolve_references(root)
}

/// A local path as GitLab accepts it: `/ci/build.yml` and `ci/build.yml` are the same file.
fn normalise(path: &str) -> String {
    path.trim_start_matches('/').to_owned()
}

type IncludeKey = (Option<String>, Option<String>, String);

fn include(
    files: &dyn Files,
    mut root: Node,
    seen: &mut HashSet<IncludeKey>,
    count: &mut usize,
    depth: usize,
) -> Result<Node, Diagnostics> {
    let Value::Map(entries) = &mut root.value else {
        return Err(Diagnostic::new(root.at.clone(), crate::error::INVALID_FORMAT).into());
    };
    let Some(index) = entries.iter().position(|(key, _)| **key == *"include") else { return Ok(root) };
    let (_, includes) = entries.remove(index);
    let items = match includes.value {
        Value::Seq(items) => items,
        _ => vec![includes],
    };
    let mut merged = Node::new(Value::Map(Vec::new()), root.at.clone());
    let mut diagnostics = Diagnostics::default();
    for item in items {
        for (project, reference, path, at) in include_targets(&item, &mut diagnostics) {
            let key = (project.clone(), reference.clone(), normalise(&path));
            if !seen.insert(key) {
                diagnostics.push(at, format!("`{path}` is included more than once (or includes itself)"));
                continue;
            }
            *count += 1;
            if *count > MAX_INCLUDES || depth >= 100 {
                diagnostics.push(at, format!("too many includes: the limit is {MAX_INCLUDES}"));
                return diagnostics.into_result(root);
            }
            let text = match files.read(project.as_deref(), reference.as_deref(), &normalise(&path)) {
                Ok(text) => text,
                Err(message) => {
                    diagnostics.push(at, message);
                    continue;
                }
            };
            let name: Arc<str> = match &project {
                Some(project) => Arc::from(format!("{project}:{}", normalise(&path))),
                None => Arc::from(normalise(&path)),
            };
            let included = match yaml::parse(&name, &text) {
                Ok(node) if node.as_map().is_some() => node,
                Ok(node) => {
                    diagnostics.push(node.at, "an included file is a hash of jobs and keywords");
                    continue;
                }
                Err(error) => {
                    diagnostics.0.push(error);
                    continue;
                }
            };
            match include(files, included, seen, count, depth + 1) {
                Ok(included) => merged = deep_merge(merged, included),
                Err(errors) => diagnostics.0.extend(errors.0),
            }
        }
    }
    diagnostics.into_result(deep_merge(merged, root))
}

/// The files one `include` item names: `path`, `{local: path}`, `{project, file, ref}`.
fn include_targets(
    item: &Node,
    diagnostics: &mut Diagnostics,
) -> Vec<(Option<String>, Option<String>, String, Location)> {
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

/// Applies every job's `extends` (jobs and hidden jobs alike).
fn extend(root: Node) -> Result<Node, Diagnostics> {
    let Value::Map(entries) = &root.value else { return Ok(root) };
    let mut diagnostics = Diagnostics::default();
    let mut resolved: Vec<(Key, Node)> = Vec::with_capacity(entries.len());
    let mut budget = MAX_ASSEMBLED_VALUES;
    for (name, job) in entries {
        let job = if job.get("extends").is_some() {
            match extended(&root, name, &mut Vec::new(), &mut diagnostics) {
                Some(job) => job,
                None => job.clone(),
            }
        } else {
            job.clone()
        };
        match budget.checked_sub(count_values(&job)) {
            Some(left) => budget = left,
            None => {
                diagnostics.0.push(too_large(&job.at));
                return Err(diagnostics);
            }
        }
        resolved.push((name.clone(), job));
    }
    diagnostics.into_result(Node::new(Value::Map(resolved), root.at))
}

/// The job `name` with what it extends merged under it; None after reporting a problem.
fn extended(root: &Node, name: &str, chain: &mut Vec<String>, diagnostics: &mut Diagnostics) -> Option<Node> {
    let job = root.get(name)?;
    let Some(parents) = job.get("extends") else { return Some(job.clone()) };
    if chain.iter().any(|n| n == name) {
        diagnostics.push(parents.at.clone(), format!("`{name}`: circular dependency detected in `extends`"));
        return None;
    }
    if chain.len() >= MAX_EXTENDS_DEPTH {
        diagnostics
            .push(parents.at.clone(), format!("`{name}`: `extends` nested more than {MAX_EXTENDS_DEPTH} levels"));
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
            diagnostics.push(parent.at.clone(), "`extends` is a job name or a list of job names");
            continue;
        };
        match root.get(parent_name) {
            Some(found) if found.as_map().is_some() => {}
            Some(_) => {
                diagnostics.push(
                    parent.at.clone(),
                    format!("`{parent_name}` is not a job or hidden job and cannot be extended"),
                );
                continue;
            }
            None => {
                diagnostics.push(parent.at.clone(), format!("`{name}`: unknown key in `extends`: `{parent_name}`"));
                continue;
            }
        }
        let Some(parent_job) = extended(root, parent_name, chain, diagnostics) else { continue };
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
        Some(mut base) => {
            if let Value::Map(entries) = &mut base.value {
                entries.retain(|(k, _)| **k != *"extends");
            }
            deep_merge(base, own)
        }
        None => own,
    })
}

/// Replaces every `!reference` in the tree with the value it points to.
fn resolve_references(root: Node) -> Result<Node, Diagnostics> {
    let mut diagnostics = Diagnostics::default();
    let mut budget = MAX_ASSEMBLED_VALUES;
    let resolved = replace(&root, &root, 0, &mut budget, &mut diagnostics);
    if budget == 0 {
        return Err(too_large(&root.at).into());
    }
    diagnostics.into_result(resolved)
}

/// Copies `node` with its references replaced, spending one of `budget` per value; once the
/// budget is spent it copies nothing more (the caller reports it).
fn replace(root: &Node, node: &Node, depth: usize, budget: &mut usize, diagnostics: &mut Diagnostics) -> Node {
    if *budget == 0 {
        return Node::new(Value::Seq(Vec::new()), node.at.clone());
    }
    *budget -= 1;
    match &node.value {
        Value::Reference(path) => {
            if depth >= MAX_REFERENCE_DEPTH {
                diagnostics
                    .push(node.at.clone(), format!("`!reference` nested more than {MAX_REFERENCE_DEPTH} levels"));
                return Node::new(Value::Seq(Vec::new()), node.at.clone());
            }
            let mut target = Some(root);
            for key in path {
                target = target.and_then(|t| t.get(key));
            }
            match target {
                Some(found) => {
                    let mut value = replace(root, found, depth + 1, budget, diagnostics);
                    value.at = node.at.clone();
                    value
                }
                None => {
                    diagnostics.push(node.at.clone(), format!("`!reference [{}]` could not be found", path.join(", ")));
                    Node::new(Value::Seq(Vec::new()), node.at.clone())
                }
            }
        }
        Value::Seq(items) => Node::new(
            Value::Seq(items.iter().map(|i| replace(root, i, depth, budget, diagnostics)).collect()),
            node.at.clone(),
        ),
        Value::Map(entries) => Node::new(
            Value::Map(
                entries.iter().map(|(k, v)| (k.clone(), replace(root, v, depth, budget, diagnostics))).collect(),
            ),
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
        assemble(&InMemory(files.iter().copied().collect()), ".gitlab-ci.yml", main)
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
