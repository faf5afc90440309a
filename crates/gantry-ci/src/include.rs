//! `include:` as GitLab reads it: each item is a path (local, or remote when it is a URL) or a
//! hash naming one of `local` (wildcards `*` and `**` allowed), `project` with `file` and `ref`,
//! `component`, `template` or `remote`; `rules` decide whether it is read (`if`, `exists`,
//! `changes`), and `inputs` fill the `spec:inputs` of the file read. Variables in the locations
//! are expanded first. A file's own includes are read where it was read from: a file of another
//! project includes that project's files, a component its project's at the version's commit, and
//! a template or remote file has no project to include local files from. The same file may be
//! included more than once (GitLab allows it since 14.8); a file that includes itself, through
//! however many others, is refused.
//!
//! Long because each kind of include, the rules and the wildcards are small and belong together.

use std::sync::Arc;

use crate::assemble::{Component, Files, IncludeKind, MAX_ASSEMBLED_VALUES, MAX_INCLUDES, deep_merge};
use crate::error::{Diagnostics, Location};
use crate::expr::Expression;
use crate::inputs::{self, Context};
use crate::interpolate::Lookup;
use crate::keywords::{Rule, When};
use crate::plan::Facts;
use crate::yaml::{self, Document, Node, Value};

/// Deepest chain of files including each other.
const MAX_DEPTH: usize = 100;
/// Most text all included files may hold together: a file may be included many times.
const MAX_INCLUDED_BYTES: usize = 32 << 20;
/// The keys an include may have.
const INCLUDE_KEYS: [&str; 11] =
    ["local", "project", "file", "ref", "remote", "template", "component", "artifact", "job", "inputs", "rules"];
/// The keys that say what an include reads; one of them, and only one.
const LOCATION_KEYS: [&str; 6] = ["local", "project", "remote", "template", "component", "artifact"];

/// Where a file was read from, which is what its own includes are relative to.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Origin {
    /// The pipeline's project at the pipeline's commit.
    Pipeline,
    /// A project at a ref or commit (None: its default branch): an `include:project` file, a
    /// component.
    Project { path: String, reference: Option<String> },
    /// A template or a remote file: no project, so no local file to include.
    Detached,
}

/// What an include reads.
#[derive(Debug, Clone)]
enum Source {
    Local(String),
    Project {
        project: String,
        reference: Option<String>,
        path: String,
    },
    Component(String),
    Template(String),
    Remote(String),
    /// A file among the artifacts of a job of the parent pipeline (a dynamic child pipeline).
    Artifact {
        job: String,
        path: String,
    },
}

impl Source {
    fn kind(&self) -> IncludeKind {
        match self {
            Source::Local(_) => IncludeKind::Local,
            Source::Project { .. } => IncludeKind::Project,
            Source::Component(_) => IncludeKind::Component,
            Source::Template(_) => IncludeKind::Template,
            Source::Remote(_) => IncludeKind::Remote,
            Source::Artifact { .. } => IncludeKind::Artifact,
        }
    }

    /// What the include names, as written (GitLab's messages quote it).
    fn location(&self) -> &str {
        match self {
            Source::Local(path) | Source::Project { path, .. } | Source::Artifact { path, .. } => path,
            Source::Component(text) | Source::Template(text) | Source::Remote(text) => text,
        }
    }
}

/// One file an include names, with the inputs it gives and where it is named.
struct Target {
    source: Source,
    inputs: Option<Node>,
    at: Location,
}

/// A local path as GitLab accepts it: `/ci/build.yml` and `ci/build.yml` are the same file.
pub(crate) fn normalise(path: &str) -> String {
    path.trim_start_matches('/').to_owned()
}

/// The includes of one pipeline being read.
pub(crate) struct Including<'a> {
    files: &'a dyn Files,
    facts: &'a Facts<'a>,
    /// The names of the masked variables among the facts' (`expand_vars` refuses them).
    masked: &'a [String],
    pub(crate) problems: Diagnostics,
    /// An include was refused, skipped or could not be read.
    pub(crate) incomplete: bool,
    count: usize,
    /// The files being read, outermost first, each as where it was read from and with which
    /// inputs: one of them included again is a cycle.
    chain: Vec<String>,
    /// Values, and bytes of text, the included files may still add.
    values_left: usize,
    bytes_left: usize,
}

impl<'a> Including<'a> {
    /// Starts with the main file `path` (of the pipeline's project).
    pub(crate) fn new(files: &'a dyn Files, facts: &'a Facts<'a>, masked: &'a [String], path: &str) -> Including<'a> {
        Including {
            files,
            facts,
            masked,
            problems: Diagnostics::default(),
            incomplete: false,
            count: 1,
            chain: vec![format!("local:{}|{:x}", normalise(path), fingerprint(None))],
            values_left: MAX_ASSEMBLED_VALUES,
            bytes_left: MAX_INCLUDED_BYTES,
        }
    }

    fn variable(&self, name: &str) -> Option<String> {
        self.facts.variables.iter().rev().find(|(key, _)| key == name).map(|(_, value)| value.clone())
    }

    /// A location with the pipeline's variables expanded (those it does not have are left
    /// out, as GitLab does).
    fn expand(&self, text: &str) -> String {
        crate::vars::expand(text, &|name| self.variable(name), false)
    }

    /// The main file's content, interpolated with the `given` values of its `spec:inputs`
    /// (the pipeline's inputs) and their defaults. Err when they cannot be (reported): nothing
    /// of the file can be read then.
    pub(crate) fn main(&mut self, document: Document, given: Option<&Node>) -> Result<Node, ()> {
        self.interpolated(document, given, given.map(|g| &g.at), None, Vec::new()).ok_or(())
    }

    /// `document`'s content, its blocks interpolated when it has a header, with the `given`
    /// inputs (named at `at`); `location` is how an include names the file (None for the main
    /// file), for GitLab's messages. None after reporting why it cannot be.
    fn interpolated(
        &mut self,
        document: Document,
        given: Option<&Node>,
        at: Option<&Location>,
        location: Option<&str>,
        component: Vec<(&'static str, String)>,
    ) -> Option<Node> {
        let said = |message: &str| match location {
            Some(location) => format!("`{location}`: {message}"),
            None => message.to_owned(),
        };
        let Document { header, content } = document;
        let Some(header) = header else {
            if let Some(given) = given.filter(|g| !g.is_null() && g.as_map().is_none_or(|m| !m.is_empty())) {
                let message = "Given inputs not defined in the `spec` section of the included configuration file";
                self.problems.push(given.at.clone(), said(message));
                return None;
            }
            return Some(content);
        };
        let mut problems = Vec::new();
        let wanted = inputs::component_fields(&header, &mut problems);
        let values = match inputs::resolve(&header, given, at) {
            Ok(values) if problems.is_empty() => values,
            Ok(_) => Vec::new(),
            Err(found) => {
                problems.extend(found);
                Vec::new()
            }
        };
        if !problems.is_empty() {
            for (where_, message) in problems {
                self.problems.push(where_, said(&message));
            }
            return None;
        }
        let component = component.into_iter().filter(|(field, _)| wanted.contains(field)).collect();
        let context = Context { inputs: values, component };
        let lookup = |name: &str| match self.variable(name) {
            None => Lookup::Unknown,
            Some(_) if self.masked.iter().any(|m| m == name) => Lookup::Masked,
            Some(value) => Lookup::Value(value),
        };
        match crate::interpolate::interpolate(content, &context, &lookup) {
            Ok(content) => Some(content),
            Err((where_, message)) => {
                self.problems.push(where_, message);
                None
            }
        }
    }

    /// `root` (read from `origin`) with the files it includes merged under it. An include that
    /// is refused or cannot be read is reported and left out; the others still are merged.
    pub(crate) fn include(&mut self, mut root: Node, origin: &Origin) -> Node {
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
            let before = self.problems.0.iter().filter(|d| !d.is_warning()).count();
            let targets = self.targets(&item, origin);
            if self.problems.0.iter().filter(|d| !d.is_warning()).count() > before {
                self.incomplete = true;
            }
            for target in targets {
                match self.read(target, origin) {
                    Some(included) => merged = deep_merge(merged, included),
                    None => self.incomplete = true,
                }
            }
        }
        deep_merge(merged, root)
    }

    /// The files one `include` item names (none when its rules leave it out).
    fn targets(&mut self, item: &Node, origin: &Origin) -> Vec<Target> {
        // GitLab drops empty items.
        if item.is_null() {
            return Vec::new();
        }
        if let Value::Scalar { .. } = item.value
            && let Some(text) = item.as_str()
        {
            let location = self.expand(text);
            let source = if is_url(&location) { Source::Remote(location) } else { Source::Local(location) };
            return self.expand_wildcards(source, None, &item.at, origin);
        }
        let Some(entries) = item.as_map() else {
            self.problems.push(item.at.clone(), format!("an include is a path or a hash, not {}", item.kind()));
            return Vec::new();
        };
        for (key, _) in entries {
            match &**key {
                key if INCLUDE_KEYS.contains(&key) => {}
                other => self.problems.push(key.at.clone(), format!("unknown include keyword `{other}`")),
            }
        }
        if let Some(rules) = item.get("rules")
            && !self.rules_pass(rules, origin)
        {
            return Vec::new();
        }
        let named: Vec<&str> = LOCATION_KEYS.iter().copied().filter(|key| item.get(key).is_some()).collect();
        if named.len() > 1 {
            let message = format!("Each include must use only one of: `{}`", LOCATION_KEYS.join("`, `"));
            self.problems.push(item.at.clone(), message);
            return Vec::new();
        }
        let Some(&kind) = named.first() else {
            let message = if item.get("file").is_some() {
                "`include:file` needs `project`".to_owned()
            } else {
                format!("an include needs one of `{}`", LOCATION_KEYS.join("`, `"))
            };
            self.problems.push(item.at.clone(), message);
            return Vec::new();
        };
        let inputs = item.get("inputs").cloned();
        let value = item.get(kind).expect("named above");
        if kind == "project" {
            return self.project_targets(item, value, inputs);
        }
        if kind == "artifact" {
            let job =
                item.get("job").and_then(|job| job.as_str().filter(|_| matches!(job.value, Value::Scalar { .. })));
            let (Some(path), Some(job)) = (value.as_str(), job) else {
                self.problems.push(item.at.clone(), "`include:artifact` is a file's path, with the `job` that made it");
                return Vec::new();
            };
            let source = Source::Artifact { job: self.expand(job), path: normalise(&self.expand(path)) };
            return vec![Target { source, inputs, at: value.at.clone() }];
        }
        if item.get("job").is_some() {
            self.problems.push(item.at.clone(), "`include:job` goes with `include:artifact`");
            return Vec::new();
        }
        let Some(text) = value.as_str().filter(|_| matches!(value.value, Value::Scalar { .. })) else {
            self.problems.push(value.at.clone(), format!("`include:{kind}` is a string, not {}", value.kind()));
            return Vec::new();
        };
        let text = self.expand(text);
        let source = match kind {
            "local" => Source::Local(text),
            "remote" => Source::Remote(text),
            "template" => Source::Template(text),
            _ => Source::Component(text),
        };
        self.expand_wildcards(source, inputs, &value.at, origin)
    }

    /// `project` with `file` (a path or a list) and `ref`.
    fn project_targets(&mut self, item: &Node, project: &Node, inputs: Option<Node>) -> Vec<Target> {
        fn text(node: &Node) -> Option<&str> {
            node.as_str().filter(|_| matches!(node.value, Value::Scalar { .. }))
        }
        let Some(project_path) = text(project).map(|p| self.expand(p)) else {
            self.problems
                .push(project.at.clone(), format!("`include:project` is a project's path, not {}", project.kind()));
            return Vec::new();
        };
        let reference = match item.get("ref").filter(|r| !r.is_null()) {
            None => None,
            Some(node) => match text(node) {
                Some(reference) => Some(self.expand(reference)),
                None => {
                    self.problems.push(
                        node.at.clone(),
                        format!("`include:ref` is a branch, tag or commit, not {}", node.kind()),
                    );
                    return Vec::new();
                }
            },
        };
        let paths: Vec<&Node> = match item.get("file") {
            Some(Node { value: Value::Seq(items), .. }) => items.iter().collect(),
            Some(file) => vec![file],
            None => {
                self.problems.push(item.at.clone(), "`include:project` needs `file`");
                return Vec::new();
            }
        };
        let mut targets = Vec::new();
        for path in paths {
            match text(path) {
                Some(file) => targets.push(Target {
                    source: Source::Project {
                        project: project_path.clone(),
                        reference: reference.clone(),
                        path: normalise(&self.expand(file)),
                    },
                    inputs: inputs.clone(),
                    at: path.at.clone(),
                }),
                None => self.problems.push(path.at.clone(), "`include:file` is a path or a list of paths"),
            }
        }
        targets
    }

    /// A local path with `*` or `**` as the files it matches (`*` within a folder, `**` across
    /// folders); any other source as it is.
    fn expand_wildcards(
        &mut self,
        source: Source,
        inputs: Option<Node>,
        at: &Location,
        origin: &Origin,
    ) -> Vec<Target> {
        let pattern = match &source {
            Source::Local(path) if path.contains('*') => normalise(path),
            _ => return vec![Target { source, inputs, at: at.clone() }],
        };
        let listed = match origin {
            Origin::Pipeline => Ok(self.facts.files.to_vec()),
            Origin::Project { path, reference } => self.files.list(path, reference.as_deref()),
            Origin::Detached => Err(format!("Local file `{pattern}` does not have project!")),
        };
        let paths = match listed {
            Ok(paths) => paths,
            Err(message) => {
                self.problems.push(at.clone(), message);
                return Vec::new();
            }
        };
        let matcher = wildcard(&pattern);
        let mut matched: Vec<String> = paths.into_iter().filter(|p| matcher.is_match(p)).collect();
        matched.sort();
        if matched.is_empty() {
            self.problems.warn(at.clone(), format!("`{pattern}` matches no file: nothing is included"));
        }
        matched
            .into_iter()
            .map(|path| Target { source: Source::Local(path), inputs: inputs.clone(), at: at.clone() })
            .collect()
    }

    /// Whether an include's `rules` let it be read: the first rule that matches decides (`when:
    /// never` leaves it out), and none matching leaves it out. `exists` looks in the project
    /// the including file is from.
    fn rules_pass(&mut self, rules: &Node, origin: &Origin) -> bool {
        let Value::Seq(items) = &rules.value else {
            self.problems
                .push(rules.at.clone(), format!("`include:rules` should be a list of rules, not {}", rules.kind()));
            return false;
        };
        for item in items {
            let Some(rule) = self.rule(item) else { return false };
            let listed;
            let files: &[String] = match (&rule.exists, origin, item.get("exists").and_then(|e| e.get("project"))) {
                (None, _, _) | (Some(_), Origin::Pipeline, None) => self.facts.files,
                _ => {
                    let Some(found) = self.exists_files(item, origin) else { return false };
                    listed = found;
                    &listed
                }
            };
            let facts = Facts { variables: self.facts.variables, changed_paths: self.facts.changed_paths, files };
            if crate::plan::first_match(std::slice::from_ref(&rule), &facts).is_some() {
                return rule.when != Some(When::Never);
            }
        }
        false
    }

    /// One rule of `include:rules`; None after reporting what is wrong with it.
    fn rule(&mut self, item: &Node) -> Option<Rule> {
        let context = "include:rules";
        let Some(entries) = item.as_map() else {
            self.problems.push(item.at.clone(), format!("each of `{context}` should be a hash, not {}", item.kind()));
            return None;
        };
        let mut ok = true;
        for (key, _) in entries {
            if !["if", "exists", "changes", "when"].contains(&&**key) {
                let message =
                    format!("`{}` is not a keyword of `{context}` (it takes if, exists, changes, when)", &**key);
                self.problems.push(key.at.clone(), message);
                ok = false;
            }
        }
        let condition = match item.get("if").filter(|n| !n.is_null()) {
            None => None,
            Some(node) => match node.as_str().map(Expression::parse) {
                Some(Ok(expression)) => Some(expression),
                Some(Err(error)) => {
                    self.problems.push(node.at.clone(), format!("`{context}:if` is not a valid expression: {error}"));
                    return None;
                }
                None => {
                    self.problems
                        .push(node.at.clone(), format!("`{context}:if` should be a string, not {}", node.kind()));
                    return None;
                }
            },
        };
        let when = match item.get("when").filter(|n| !n.is_null()) {
            None => None,
            Some(node) => match node.as_str() {
                Some("never") => Some(When::Never),
                Some("always") => Some(When::Always),
                _ => {
                    let written = node.as_str().map_or_else(|| node.kind().to_owned(), |w| format!("`{w}`"));
                    self.problems
                        .push(node.at.clone(), format!("`{context}:when` should be never or always, not {written}"));
                    return None;
                }
            },
        };
        let changes = match item.get("changes").filter(|n| !n.is_null()) {
            None => None,
            Some(node) => {
                let paths = match node.as_map() {
                    Some(_) => {
                        if node.get("compare_to").is_some() {
                            self.problems
                                .push(node.at.clone(), format!("`{context}:changes:compare_to` is not supported yet"));
                            return None;
                        }
                        node.get("paths")
                    }
                    None => Some(node),
                };
                Some(self.paths(paths, &format!("{context}:changes"), &node.at)?)
            }
        };
        let exists = match item.get("exists").filter(|n| !n.is_null()) {
            None => None,
            Some(node) => {
                let paths = if node.as_map().is_some() { node.get("paths") } else { Some(node) };
                Some(self.paths(paths, &format!("{context}:exists"), &node.at)?)
            }
        };
        ok.then_some(Rule {
            condition,
            changes,
            exists,
            when,
            start_in: None,
            allow_failure: None,
            variables: Vec::new(),
        })
    }

    /// A path or a list of paths (globs).
    fn paths(&mut self, node: Option<&Node>, context: &str, at: &Location) -> Option<Vec<String>> {
        let Some(node) = node else {
            self.problems.push(at.clone(), format!("`{context}` needs `paths`"));
            return None;
        };
        let items: Vec<&Node> = match &node.value {
            Value::Seq(items) => items.iter().collect(),
            _ => vec![node],
        };
        let mut paths = Vec::with_capacity(items.len());
        for item in items {
            match item.as_str().filter(|_| matches!(item.value, Value::Scalar { .. })) {
                Some(path) => paths.push(path.to_owned()),
                None => {
                    self.problems
                        .push(item.at.clone(), format!("`{context}` should be a list of paths, not {}", item.kind()));
                    return None;
                }
            }
        }
        Some(paths)
    }

    /// The files `exists` of one rule looks among: those of the project it names
    /// (`exists: {paths, project, ref}`), else of the project the including file is from.
    fn exists_files(&mut self, rule: &Node, origin: &Origin) -> Option<Vec<String>> {
        let exists = rule.get("exists").filter(|e| e.as_map().is_some());
        let named = exists.and_then(|e| e.get("project")).and_then(Node::as_str).map(|p| self.expand(p));
        let listed = match (named, origin) {
            (Some(project), _) => {
                let reference = exists.and_then(|e| e.get("ref")).and_then(Node::as_str).map(|r| self.expand(r));
                self.files.list(&project, reference.as_deref())
            }
            (None, Origin::Pipeline) => Ok(self.facts.files.to_vec()),
            (None, Origin::Project { path, reference }) => self.files.list(path, reference.as_deref()),
            (None, Origin::Detached) => Ok(Vec::new()),
        };
        match listed {
            Ok(files) => Some(files),
            Err(message) => {
                let at = exists.map_or_else(|| rule.at.clone(), |e| e.at.clone());
                self.problems.push(at, message);
                None
            }
        }
    }

    /// One included file, with what it includes in turn; None after reporting why it cannot be.
    fn read(&mut self, target: Target, origin: &Origin) -> Option<Node> {
        let Target { source, inputs, at } = target;
        let location = source.location().to_owned();
        if let Some(why) = self.files.skips(source.kind()) {
            self.problems.warn(at, format!("`{location}` is not included: {why}"));
            self.incomplete = true;
            return None;
        }
        let identity = format!("{}|{:x}", identity(&source, origin), fingerprint(inputs.as_ref()));
        if self.chain.contains(&identity) {
            self.problems.push(at, format!("`{location}` includes itself (a file cannot include what includes it)"));
            return None;
        }
        self.count += 1;
        if self.count > MAX_INCLUDES || self.chain.len() >= MAX_DEPTH {
            self.problems.push(at, format!("too many includes: the limit is {MAX_INCLUDES}"));
            return None;
        }
        let (text, name, next, component) = match self.fetch(&source, origin) {
            Ok(fetched) => fetched,
            Err(message) => {
                self.problems.push(at, message);
                return None;
            }
        };
        let document = match yaml::parse_document(&Arc::from(name.as_str()), &text) {
            Ok(document) => document,
            Err(error) => {
                self.problems.0.push(error);
                return None;
            }
        };
        let included = self.interpolated(document, inputs.as_ref(), Some(&at), Some(&location), component)?;
        if included.as_map().is_none() {
            self.problems.push(included.at, "an included file is a hash of jobs and keywords");
            return None;
        }
        let (values, bytes) = measure(&included);
        match (self.values_left.checked_sub(values), self.bytes_left.checked_sub(bytes)) {
            (Some(values), Some(bytes)) => (self.values_left, self.bytes_left) = (values, bytes),
            _ => {
                let message = format!(
                    "too large: the included files hold more than {MAX_ASSEMBLED_VALUES} values or {} MiB of text together",
                    MAX_INCLUDED_BYTES >> 20
                );
                self.problems.push(at, message);
                return None;
            }
        }
        self.chain.push(identity);
        let included = self.include(included, &next);
        self.chain.pop();
        Some(included)
    }

    /// The text of what `source` names (read from `origin`), the name its positions are given
    /// under, where its own includes are read from, and what a component's header may read of
    /// it. Err is the message for the user.
    #[expect(clippy::type_complexity, reason = "a private tuple named by its one caller's destructuring")]
    fn fetch(
        &self,
        source: &Source,
        origin: &Origin,
    ) -> Result<(String, String, Origin, Vec<(&'static str, String)>), String> {
        match source {
            Source::Local(path) => {
                let path = normalise(path);
                match origin {
                    Origin::Pipeline => Ok((self.files.read(None, None, &path)?, path, Origin::Pipeline, Vec::new())),
                    Origin::Project { path: project, reference } => {
                        let text = self.files.read(Some(project), reference.as_deref(), &path)?;
                        Ok((text, format!("{project}:{path}"), origin.clone(), Vec::new()))
                    }
                    Origin::Detached => Err(format!("Local file `{path}` does not have project!")),
                }
            }
            Source::Project { project, reference, path } => {
                let text = self.files.read(Some(project), reference.as_deref(), path)?;
                let next = Origin::Project { path: project.clone(), reference: reference.clone() };
                Ok((text, format!("{project}:{path}"), next, Vec::new()))
            }
            Source::Component(address) => {
                let Component { project, sha, path, text, name, version } = self.files.component(address)?;
                let reference = address.rsplit_once('@').map(|(_, r)| r.to_owned()).unwrap_or_default();
                let label = format!("{project}@{reference}:{path}");
                let context = vec![
                    ("name", name),
                    ("sha", sha.clone()),
                    ("version", version.unwrap_or_default()),
                    ("reference", reference),
                ];
                Ok((text, label, Origin::Project { path: project, reference: Some(sha) }, context))
            }
            Source::Template(name) => Ok((self.files.template(name)?, name.clone(), Origin::Detached, Vec::new())),
            Source::Remote(url) => Ok((self.files.remote(url)?, url.clone(), Origin::Detached, Vec::new())),
            // A generated file's own local includes are the pipeline's project's files.
            Source::Artifact { job, path } => {
                Ok((self.files.artifact(job, path)?, format!("{job}:{path}"), Origin::Pipeline, Vec::new()))
            }
        }
    }
}

/// What a file is, whoever includes it: a file included again while it is being read is a cycle.
fn identity(source: &Source, origin: &Origin) -> String {
    match (source, origin) {
        (Source::Local(path), Origin::Pipeline) => format!("local:{}", normalise(path)),
        (Source::Local(path), Origin::Project { path: project, reference })
        | (Source::Project { project, reference, path }, _) => {
            format!("project:{}@{}:{}", project.to_lowercase(), reference.as_deref().unwrap_or("HEAD"), normalise(path))
        }
        (Source::Local(path), Origin::Detached) => format!("detached:{path}"),
        (Source::Component(address), _) => format!("component:{address}"),
        (Source::Template(name), _) => format!("template:{name}"),
        (Source::Remote(url), _) => format!("remote:{url}"),
        (Source::Artifact { job, path }, _) => format!("artifact:{job}:{path}"),
    }
}

/// The inputs an include gives, as a number: with where it reads from, what makes a file
/// included again a cycle (the same file with other inputs is another file).
fn fingerprint(inputs: Option<&Node>) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    inputs.map(inputs::ruby_text).hash(&mut hasher);
    hasher.finish()
}

/// How many values a tree holds, and how many bytes of text.
fn measure(node: &Node) -> (usize, usize) {
    match &node.value {
        Value::Seq(items) => items.iter().map(measure).fold((1, 0), |(v, b), (iv, ib)| (v + iv, b + ib)),
        Value::Map(entries) => entries
            .iter()
            .map(|(key, value)| {
                let (v, b) = measure(value);
                (v + 1, b + key.name.len())
            })
            .fold((1, 0), |(v, b), (iv, ib)| (v + iv, b + ib)),
        Value::Scalar { text, .. } => (1, text.len()),
        Value::Reference(path) => (1, path.iter().map(String::len).sum()),
    }
}

/// Whether an include written as a string is a remote URL rather than a local path.
fn is_url(text: &str) -> bool {
    text.starts_with("http://") || text.starts_with("https://")
}

/// GitLab's wildcard paths: `**` matches across folders, `*` within one, the rest literally.
fn wildcard(pattern: &str) -> regex::Regex {
    let mut expression = String::from("^");
    let mut rest = pattern;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("**") {
            expression.push_str(".*?");
            rest = after;
        } else if let Some(after) = rest.strip_prefix('*') {
            expression.push_str("[^/]*?");
            rest = after;
        } else {
            let next = rest.find('*').unwrap_or(rest.len());
            expression.push_str(&regex::escape(&rest[..next]));
            rest = &rest[next..];
        }
    }
    expression.push('$');
    regex::Regex::new(&expression).expect("escaped text and wildcards make a valid pattern")
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::assemble::{Assembled, assemble};
    use crate::component::{ComponentAddress, newest_release};

    /// The files of the pipeline's project (by path), of other projects (`project@ref:path`,
    /// `main` their default branch), templates (`template:name`) and URLs.
    struct World {
        files: HashMap<String, String>,
        skipped: Option<IncludeKind>,
    }

    impl World {
        fn new(files: &[(&str, &str)]) -> World {
            World { files: files.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(), skipped: None }
        }
    }

    impl Files for World {
        fn read(&self, project: Option<&str>, reference: Option<&str>, path: &str) -> Result<String, String> {
            let key = match project {
                Some(project) => format!("{project}@{}:{path}", reference.unwrap_or("main")),
                None => path.to_owned(),
            };
            self.files.get(&key).cloned().ok_or_else(|| format!("`{key}` does not exist"))
        }

        fn list(&self, project: &str, reference: Option<&str>) -> Result<Vec<String>, String> {
            let prefix = format!("{project}@{}:", reference.unwrap_or("main"));
            Ok(self.files.keys().filter_map(|k| k.strip_prefix(&prefix)).map(str::to_owned).collect())
        }

        fn component(&self, address: &str) -> Result<Component, String> {
            let parsed = ComponentAddress::parse(address, "gantry.test")?;
            let tags: Vec<&str> = self
                .files
                .keys()
                .filter_map(|k| k.strip_prefix(&format!("{}@", parsed.project)))
                .filter_map(|k| k.split_once(':').map(|(tag, _)| tag))
                .collect();
            let version = newest_release(tags, &parsed.version).unwrap_or(&parsed.version).to_owned();
            for path in parsed.paths() {
                if let Some(text) = self.files.get(&format!("{}@{version}:{path}", parsed.project)) {
                    return Ok(Component {
                        project: parsed.project.clone(),
                        sha: version.clone(),
                        path,
                        text: text.clone(),
                        name: parsed.name.clone(),
                        version: Some(version.clone()),
                    });
                }
            }
            Err(parsed.error("content not found"))
        }

        fn template(&self, name: &str) -> Result<String, String> {
            self.files.get(&format!("template:{name}")).cloned().ok_or_else(|| format!("no template `{name}`"))
        }

        fn remote(&self, url: &str) -> Result<String, String> {
            self.files.get(url).cloned().ok_or_else(|| format!("Remote file `{url}` could not be fetched"))
        }

        fn skips(&self, kind: IncludeKind) -> Option<String> {
            (self.skipped == Some(kind)).then(|| "checked on the server".to_owned())
        }
    }

    fn facts_files() -> Vec<String> {
        ["ci/jobs/a.yml", "ci/jobs/b.yml", "ci/jobs/deep/c.yml", "Dockerfile", "README.md"].map(str::to_owned).into()
    }

    fn assembled_in(world: &World, main: &str) -> Assembled {
        let variables: Vec<(String, String)> =
            [("CI_COMMIT_BRANCH", "main"), ("CI_PROJECT_NAME", "api"), ("FLAVOUR", "fast")]
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .into();
        let files = facts_files();
        let changed = vec!["src/lib.rs".to_owned()];
        let facts = Facts { variables: &variables, changed_paths: Some(&changed), files: &files };
        match assemble(world, ".gitlab-ci.yml", main, &facts, &[]) {
            Ok(assembled) => assembled,
            Err(errors) => panic!("{errors}"),
        }
    }

    fn messages(assembled: &Assembled) -> Vec<String> {
        assembled.problems.0.iter().map(ToString::to_string).collect()
    }

    fn jobs(assembled: &Assembled) -> Vec<&str> {
        assembled.root.as_map().unwrap().iter().map(|(k, _)| k.name.as_str()).filter(|k| *k != "stages").collect()
    }

    #[test]
    fn a_file_may_be_included_twice_but_not_include_itself() {
        let world = World::new(&[
            ("ci/job.yml", "spec:\n  inputs:\n    name:\n---\n$[[ inputs.name ]]:\n  script: x\n"),
            ("ci/a.yml", "include: ci/b.yml\na:\n  script: x\n"),
            ("ci/b.yml", "include: /ci/a.yml\nb:\n  script: x\n"),
            ("ci/plain.yml", "plain:\n  script: x\n"),
        ]);
        let twice = assembled_in(
            &world,
            "include:\n  - local: ci/job.yml\n    inputs: {name: one}\n  - local: ci/job.yml\n    inputs: {name: two}\n  - ci/plain.yml\n  - ci/plain.yml\n",
        );
        assert!(twice.problems.is_empty(), "{:?}", messages(&twice));
        assert_eq!(jobs(&twice), ["one", "two", "plain"]);
        let cycle = assembled_in(&world, "include: ci/a.yml\n");
        assert_eq!(
            messages(&cycle),
            ["ci/b.yml:1:10: `/ci/a.yml` includes itself (a file cannot include what includes it)"]
        );
        let world = World::new(&[("ci/back.yml", "include: .gitlab-ci.yml\n")]);
        let back = assembled_in(&world, "include: [ci/back.yml, ~]\njob:\n  script: x\n");
        assert_eq!(
            messages(&back),
            ["ci/back.yml:1:10: `.gitlab-ci.yml` includes itself (a file cannot include what includes it)"]
        );
    }

    #[test]
    fn a_component_is_read_at_its_version_with_its_inputs_and_its_own_files() {
        let template = "spec:\n  component: [name, version]\n  inputs:\n    stage:\n      default: test\n    image:\n---\ninclude: templates/common.yml\n$[[ component.name ]]-job:\n  stage: $[[ inputs.stage ]]\n  image: $[[ inputs.image ]]\n  script: echo $[[ component.version ]]\n";
        let world = World::new(&[
            ("acme/components@1.0.0:templates/build.yml", "old:\n  script: x\n"),
            ("acme/components@1.2.0:templates/build/template.yml", template),
            ("acme/components@1.2.0:templates/common.yml", ".common:\n  tags: [linux]\n"),
        ]);
        let assembled = assembled_in(
            &world,
            "include:\n  - component: gantry.test/acme/components/build@~latest\n    inputs:\n      stage: build\n      image: rust:1\nstages: [build]\n",
        );
        assert!(assembled.problems.is_empty(), "{:?}", messages(&assembled));
        let job = assembled.root.get("build-job").unwrap();
        assert_eq!(job.get("stage").unwrap().as_str(), Some("build"));
        assert_eq!(job.get("image").unwrap().as_str(), Some("rust:1"));
        assert_eq!(job.get("script").unwrap().as_str(), Some("echo 1.2.0"));
        assert_eq!(&*job.at.file, "acme/components@~latest:templates/build/template.yml");
        assert!(assembled.root.get(".common").is_some(), "its local include is its project's file");

        let pinned = assembled_in(&world, "include:\n  - component: gantry.test/acme/components/build@1.0.0\n");
        assert_eq!(jobs(&pinned), ["old"]);
        let missing = assembled_in(&world, "include:\n  - component: gantry.test/acme/components/build@~latest\n");
        assert_eq!(
            messages(&missing),
            [
                ".gitlab-ci.yml:2:16: `gantry.test/acme/components/build@~latest`: `image` input: required value has not been provided"
            ]
        );
        let elsewhere = assembled_in(&world, "include:\n  - component: gitlab.com/acme/components/build@1.0.0\n");
        assert_eq!(
            messages(&elsewhere),
            [
                ".gitlab-ci.yml:2:16: Component 'gitlab.com/acme/components/build@1.0.0' - the component path is not supported"
            ]
        );
    }

    #[test]
    fn inputs_that_do_not_fit_are_gitlab_errors_at_the_include() {
        let world = World::new(&[
            ("ci/plain.yml", "plain:\n  script: x\n"),
            (
                "ci/typed.yml",
                "spec:\n  inputs:\n    count:\n      type: number\n---\njob:\n  parallel: $[[ inputs.count ]]\n  script: x\n",
            ),
        ]);
        let errors = messages(&assembled_in(
            &world,
            "include:\n  - local: ci/plain.yml\n    inputs: {a: 1}\n  - local: ci/typed.yml\n    inputs:\n      count: many\n      other: 2\n",
        ));
        assert_eq!(
            errors,
            [
                ".gitlab-ci.yml:3:13: `ci/plain.yml`: Given inputs not defined in the `spec` section of the included configuration file",
                ".gitlab-ci.yml:7:7: `ci/typed.yml`: unknown input arguments: other",
                ".gitlab-ci.yml:6:14: `ci/typed.yml`: `count` input: provided value is not a number",
            ]
        );
    }

    #[test]
    fn templates_and_remote_files_have_no_project_for_local_includes() {
        let world = World::new(&[
            ("template:Build.gitlab-ci.yml", "build:\n  script: make\n"),
            ("template:Broken.gitlab-ci.yml", "include: ci/x.yml\n"),
            ("https://ci.example.com/lint.yml", "include:\n  - template: Build.gitlab-ci.yml\nlint:\n  script: lint\n"),
        ]);
        let assembled = assembled_in(
            &world,
            "include:\n  - template: Build.gitlab-ci.yml\n  - https://ci.example.com/lint.yml\n  - remote: https://ci.example.com/$CI_PROJECT_NAME.yml\n  - template: Broken.gitlab-ci.yml\n",
        );
        assert_eq!(jobs(&assembled), ["build", "lint"]);
        assert_eq!(
            messages(&assembled),
            [
                ".gitlab-ci.yml:4:13: Remote file `https://ci.example.com/api.yml` could not be fetched",
                "Broken.gitlab-ci.yml:1:10: Local file `ci/x.yml` does not have project!",
            ]
        );
    }

    #[test]
    fn rules_decide_which_includes_are_read() {
        let world = World::new(&[
            ("ci/a.yml", "a:\n  script: x\n"),
            ("ci/b.yml", "b:\n  script: x\n"),
            ("ci/c.yml", "c:\n  script: x\n"),
            ("ci/d.yml", "d:\n  script: x\n"),
            ("ci/e.yml", "e:\n  script: x\n"),
            ("acme/shared@main:Makefile", ""),
        ]);
        let assembled = assembled_in(
            &world,
            concat!(
                "include:\n",
                "  - local: ci/a.yml\n    rules:\n      - if: $CI_COMMIT_BRANCH == \"main\"\n",
                "  - local: ci/b.yml\n    rules:\n      - if: $CI_COMMIT_TAG\n",
                "  - local: ci/c.yml\n    rules:\n      - exists: [Dockerfile]\n        when: never\n      - when: always\n",
                "  - local: ci/d.yml\n    rules:\n      - changes: [src/**/*.rs]\n",
                "  - local: ci/e.yml\n    rules:\n      - exists:\n          paths: [Makefile]\n          project: acme/shared\n",
            ),
        );
        assert!(assembled.problems.is_empty(), "{:?}", messages(&assembled));
        assert_eq!(jobs(&assembled), ["a", "d", "e"]);
        let bad = assembled_in(
            &world,
            "include:\n  - local: ci/a.yml\n    rules:\n      - if: $A = 1\n      - when: manual\n",
        );
        assert_eq!(
            messages(&bad),
            [".gitlab-ci.yml:4:13: `include:rules:if` is not a valid expression: unexpected `=` (at character 4)"]
        );
    }

    #[test]
    fn wildcards_include_every_file_they_match_in_order() {
        let world = World::new(&[
            ("ci/jobs/a.yml", "a:\n  script: x\n"),
            ("ci/jobs/b.yml", "b:\n  script: x\n"),
            ("ci/jobs/deep/c.yml", "c:\n  script: x\n"),
        ]);
        assert_eq!(jobs(&assembled_in(&world, "include: 'ci/jobs/*.yml'\n")), ["a", "b"]);
        assert_eq!(jobs(&assembled_in(&world, "include:\n  - local: /ci/**.yml\n")), ["a", "b", "c"]);
        let none = assembled_in(&world, "include: 'ci/none/*.yml'\njob:\n  script: x\n");
        assert_eq!(
            messages(&none),
            [".gitlab-ci.yml:1:10: warning: `ci/none/*.yml` matches no file: nothing is included"]
        );
    }

    #[test]
    fn a_project_file_includes_that_projects_files() {
        let world = World::new(&[
            ("acme/shared@v1:ci/base.yml", "include: ci/more.yml\nbase:\n  script: x\n"),
            ("acme/shared@v1:ci/more.yml", "more:\n  script: x\n"),
            ("ci/more.yml", "wrong:\n  script: x\n"),
        ]);
        let assembled =
            assembled_in(&world, "include:\n  - project: acme/shared\n    ref: v1\n    file: [ci/base.yml]\n");
        assert!(assembled.problems.is_empty(), "{:?}", messages(&assembled));
        assert_eq!(jobs(&assembled), ["more", "base"]);
        assert_eq!(&*assembled.root.get("more").unwrap().at.file, "acme/shared:ci/more.yml");
    }

    #[test]
    fn what_a_reader_does_not_reach_is_skipped_with_a_warning() {
        let mut world = World::new(&[("ci/local.yml", ".base:\n  script: x\n")]);
        world.skipped = Some(IncludeKind::Project);
        let assembled = assembled_in(
            &world,
            "include:\n  - project: acme/shared\n    file: ci.yml\n  - ci/local.yml\njob:\n  extends: .from-shared\n",
        );
        assert!(assembled.incomplete);
        assert_eq!(
            messages(&assembled),
            [".gitlab-ci.yml:3:11: warning: `ci.yml` is not included: checked on the server"]
        );
    }

    #[test]
    fn a_file_that_includes_itself_with_other_inputs_is_bounded() {
        // Each level passes its input one level deeper to itself: stopped by the nesting limit,
        // not by the stack.
        let nesting = format!(
            "spec:\n  inputs:\n    x:\n      type: array\n---\ninclude:\n  - local: ci/self.yml\n    inputs:\n      x: {}'$[[ inputs.x ]]'{}\n",
            "[".repeat(10),
            "]".repeat(10)
        );
        let world = World::new(&[("ci/self.yml", &nesting)]);
        let assembled = assembled_in(&world, "include:\n  - local: ci/self.yml\n    inputs:\n      x: [a]\n");
        let errors = messages(&assembled);
        assert!(errors.iter().any(|e| e.contains("nesting deeper than 64 levels")), "{errors:?}");
        // A large file included many times: stopped by the size of everything included.
        let large = format!("big:\n  script: ['{}']\n", "x".repeat(900_000));
        let world = World::new(&[("ci/large.yml", &large)]);
        let many = format!("include:\n{}", "  - ci/large.yml\n".repeat(60));
        let errors = messages(&assembled_in(&world, &many));
        assert!(errors.iter().any(|e| e.contains("too large: the included files hold more than")), "{errors:?}");
    }

    #[test]
    fn masked_variables_stay_out_of_the_configuration_and_its_problems() {
        let world = World::new(&[(
            "ci/job.yml",
            "spec:\n  inputs:\n    name:\n---\njob:\n  script: echo $[[ inputs.name | expand_vars ]]\n",
        )]);
        let variables: Vec<(String, String)> =
            [("TOKEN", "s3cr3t-t0ken"), ("NAME", "api")].map(|(k, v)| (k.to_owned(), v.to_owned())).into();
        let facts = Facts { variables: &variables, changed_paths: None, files: &[] };
        let masked = ["TOKEN".to_owned()];
        let main = "include:\n  - remote: https://ci.example.com/$TOKEN.yml\n  - local: ci/job.yml\n    inputs:\n      name: $TOKEN\n";
        let errors = crate::load_for(&world, ".gitlab-ci.yml", main, &facts, &masked).unwrap_err().to_string();
        assert!(!errors.contains("s3cr3t"), "{errors}");
        assert!(errors.contains("Remote file `https://ci.example.com/[MASKED].yml` could not be fetched"), "{errors}");
        assert!(errors.contains("variable expansion error: masked variables cannot be expanded"), "{errors}");
        let fine = "include:\n  - local: ci/job.yml\n    inputs:\n      name: $NAME\n";
        let config = crate::load_for(&world, ".gitlab-ci.yml", fine, &facts, &masked).unwrap();
        assert_eq!(config.jobs[0].script, ["echo api"]);
    }

    #[test]
    fn the_main_file_takes_its_defaults() {
        let world = World::new(&[]);
        let assembled = assembled_in(
            &world,
            "spec:\n  inputs:\n    image:\n      default: alpine\n---\njob:\n  image: $[[ inputs.image ]]\n  script: x\n",
        );
        assert_eq!(assembled.root.get("job").unwrap().get("image").unwrap().as_str(), Some("alpine"));
        let variables = Vec::new();
        let facts = Facts { variables: &variables, changed_paths: None, files: &[] };
        let main = "spec:\n  inputs:\n    image:\n---\njob:\n  script: x\n";
        let errors = assemble(&world, ".gitlab-ci.yml", main, &facts, &[]).unwrap_err();
        assert_eq!(errors.to_string(), ".gitlab-ci.yml:3:5: `image` input: required value has not been provided");
    }

    #[test]
    fn wildcards_match_as_gitlab_matches_them() {
        let within = wildcard("configs/*.yml");
        assert!(within.is_match("configs/a.yml"));
        assert!(!within.is_match("configs/sub/a.yml"));
        assert!(!within.is_match("configs/a.yaml"));
        let across = wildcard("configs/**.yml");
        assert!(across.is_match("configs/a.yml") && across.is_match("configs/sub/deep/a.yml"));
        let nested = wildcard("configs/**/*.yml");
        assert!(nested.is_match("configs/sub/a.yml") && !nested.is_match("configs/a.yml"));
        assert!(wildcard("a+b(1)/*.yml").is_match("a+b(1)/x.yml"), "the rest is literal");
    }
}
