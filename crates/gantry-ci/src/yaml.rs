//! YAML → a tree of located nodes. Every node keeps the file, line and column it came from, so
//! that an unknown keyword three `extends` away is still reported where it was written.
//!
//! Built from the events of `granit-parser` (the parser under serde-saphyr) rather than through
//! serde, because GitLab's semantics need the raw tree first: `extends` merges hashes,
//! `!reference` splices parts of other jobs, and errors need positions on every value.
//! Anchors and aliases are resolved here (with a budget against alias bombs), and so are
//! merge keys (`<<: *defaults`). A file may open with a header document (`spec:` and `---`, as
//! GitLab's CI components and templates do); the configuration is the document after it.

use std::collections::HashMap;
use std::sync::Arc;

use granit_parser::{Event, Parser, ScalarStyle};

use crate::error::{Diagnostic, Location};

/// Largest CI file read, in bytes (GitLab's default limit is 1 MB per file).
pub const MAX_FILE_BYTES: usize = 1024 * 1024;
/// Most nodes one document may expand to once aliases are resolved.
const MAX_NODES: usize = 200_000;
/// Deepest nesting of collections, counting those an alias repeats where it stands.
const MAX_DEPTH: usize = 64;

/// A value with where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub at: Location,
}

/// The shapes a YAML value can take. Scalars keep their text; what type they are read as is up
/// to the keyword that reads them (`true` is a boolean for `allow_failure` and a string for a
/// variable).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A scalar; `plain` when written without quotes or block style (only plain scalars can be
    /// `null`, booleans or numbers).
    Scalar {
        text: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    /// Keys in the order written; a later duplicate replaces an earlier one (as Ruby's YAML
    /// loader does).
    Map(Vec<(Key, Node)>),
    /// `!reference [.job, key, …]`, replaced by the referenced value before anything reads it.
    Reference(Vec<String>),
}

/// A hash key and where it is written (unknown keywords are reported at their key).
#[derive(Debug, Clone)]
pub struct Key {
    pub name: String,
    pub at: Location,
}

impl Key {
    pub fn new(name: impl Into<String>, at: Location) -> Key {
        Key { name: name.into(), at }
    }
}

/// Keys compare by name only.
impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        self.name == other.name
    }
}

impl PartialEq<str> for Key {
    fn eq(&self, other: &str) -> bool {
        self.name == other
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

impl std::ops::Deref for Key {
    type Target = str;
    fn deref(&self) -> &str {
        &self.name
    }
}

impl Node {
    pub fn new(value: Value, at: Location) -> Node {
        Node { value, at }
    }

    /// A plain scalar that YAML reads as null (`~`, `null`, or nothing).
    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar { text, plain: true } if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    pub fn as_map(&self) -> Option<&[(Key, Node)]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?.iter().rev().find(|(k, _)| **k == *key).map(|(_, v)| v)
    }

    /// The scalar's text, if it is a non-null scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } if !self.is_null() => Some(text),
            _ => None,
        }
    }

    /// What the value is, for error messages ("a string", "a hash", …).
    pub fn kind(&self) -> &'static str {
        match &self.value {
            _ if self.is_null() => "null",
            Value::Scalar { text, plain: true } if parse_bool(text).is_some() => "a boolean",
            Value::Scalar { text, plain: true } if text.parse::<f64>().is_ok() => "a number",
            Value::Scalar { .. } => "a string",
            Value::Seq(_) => "an array",
            Value::Map(_) => "a hash",
            Value::Reference(_) => "a !reference",
        }
    }
}

/// `node` as YAML flow text that reads back as the same values: safe plain scalars stay plain
/// (numbers and booleans keep their types), everything else is double-quoted.
pub fn to_flow_text(node: &Node) -> String {
    fn quoted(text: &str, out: &mut String) {
        out.push('"');
        for c in text.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    fn write(node: &Node, out: &mut String) {
        match &node.value {
            Value::Scalar { text, plain: true }
                if !text.is_empty()
                    && text.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+' | '~')) =>
            {
                out.push_str(text)
            }
            Value::Scalar { text, .. } => quoted(text, out),
            Value::Seq(items) => {
                out.push('[');
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        out.push_str(", ");
                    }
                    write(item, out);
                }
                out.push(']');
            }
            Value::Map(entries) => {
                out.push('{');
                for (index, (key, value)) in entries.iter().enumerate() {
                    if index > 0 {
                        out.push_str(", ");
                    }
                    quoted(key, out);
                    out.push_str(": ");
                    write(value, out);
                }
                out.push('}');
            }
            Value::Reference(path) => {
                out.push_str("!reference [");
                for (index, part) in path.iter().enumerate() {
                    if index > 0 {
                        out.push_str(", ");
                    }
                    quoted(part, out);
                }
                out.push(']');
            }
        }
    }
    let mut out = String::new();
    write(node, &mut out);
    out
}

/// YAML 1.1's booleans as Ruby's loader reads them (GitLab parses with Psych).
pub fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Some(true),
        "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => Some(false),
        _ => None,
    }
}

/// A CI file: its header (the `spec:` document before `---`, if it has one) and its content.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The header document, a hash with `spec`.
    pub header: Option<Node>,
    /// The configuration; an empty file is an empty hash.
    pub content: Node,
}

impl Document {
    /// The inputs the header declares with a `default`, and those defaults.
    pub fn input_defaults(&self) -> Vec<(&str, &Node)> {
        let inputs = self.header.as_ref().and_then(|h| h.get("spec")).and_then(|s| s.get("inputs"));
        inputs
            .and_then(Node::as_map)
            .unwrap_or_default()
            .iter()
            .filter_map(|(name, input)| Some((name.name.as_str(), input.get("default")?)))
            .collect()
    }
}

/// Parses a CI file's configuration, leaving out its header if it has one. An empty file is an
/// empty hash.
pub fn parse(file: &Arc<str>, source: &str) -> Result<Node, Diagnostic> {
    parse_document(file, source).map(|document| document.content)
}

/// Parses a CI file: one YAML document, or a header document with `spec` and the configuration
/// after it (GitLab reads no more than these two).
pub fn parse_document(file: &Arc<str>, source: &str) -> Result<Document, Diagnostic> {
    let start = Location { file: file.clone(), line: 1, column: 1 };
    if source.len() > MAX_FILE_BYTES {
        return Err(Diagnostic::new(
            start,
            format!("the file is {} bytes; the limit is {MAX_FILE_BYTES}", source.len()),
        ));
    }
    let mut builder =
        Builder { anchors: HashMap::new(), nodes: 0, stack: Vec::new(), root: None, header: None, documents: 0 };
    for event in Parser::new_from_str(source) {
        let (event, span) = event.map_err(|e| {
            let mark = e.marker();
            Diagnostic::new(
                Location { file: file.clone(), line: mark.line(), column: mark.col() + 1 },
                format!("invalid YAML: {}", e.info()),
            )
        })?;
        let at = Location { file: file.clone(), line: span.start.line(), column: span.start.col() + 1 };
        builder.event(event, at)?;
    }
    Ok(Document { header: builder.header, content: builder.root.unwrap_or(Node::new(Value::Map(Vec::new()), start)) })
}

/// A collection being built.
enum Open {
    Seq { items: Vec<Node>, at: Location, anchor: usize, reference: bool },
    Map { entries: Vec<(Node, Node)>, key: Option<Node>, at: Location, anchor: usize },
}

/// A finished node's measures: how many nodes it holds (an alias is charged that many) and how
/// many levels of collections it holds (an alias must not nest deeper than [`MAX_DEPTH`]).
#[derive(Clone, Copy)]
struct Measure {
    size: usize,
    height: usize,
}

struct Builder {
    /// Anchored nodes with their measures.
    anchors: HashMap<usize, (Node, Measure)>,
    nodes: usize,
    /// The collections being built, each with the measure of what it holds so far.
    stack: Vec<(Open, Measure)>,
    root: Option<Node>,
    /// The first document, once a second one has shown it to be a header.
    header: Option<Node>,
    documents: usize,
}

impl Builder {
    fn event(&mut self, event: Event<'_>, at: Location) -> Result<(), Diagnostic> {
        match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
            Event::DocumentStart(..) => {
                self.documents += 1;
                if self.documents > 1 {
                    let is_header = self.documents == 2 && self.root.as_ref().is_some_and(|r| r.get("spec").is_some());
                    if !is_header {
                        let message = if self.documents == 2 {
                            "a CI file holds one YAML document (or a `spec:` header and one document); remove the second `---`"
                        } else {
                            "a CI file holds a `spec:` header and one document; remove the third `---`"
                        };
                        return Err(Diagnostic::new(at, message));
                    }
                    self.header = self.root.take();
                    // Each document has its own anchors, as in Ruby's loader.
                    self.anchors.clear();
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                let plain = style == ScalarStyle::Plain && tag.is_none();
                if let Some(tag) = &tag
                    && !tag.is_yaml_core_schema()
                {
                    return Err(Diagnostic::new(at, format!("unknown YAML tag `{}{}`", tag.handle(), tag.suffix())));
                }
                self.charge(1, &at)?;
                let node = Node::new(Value::Scalar { text: text.into_owned(), plain }, at);
                self.push(node, anchor, Measure { size: 1, height: 0 })?;
            }
            Event::SequenceStart(_, anchor, tag) => {
                let reference = match &tag {
                    None => false,
                    Some(tag) if tag.handle() == "!" && tag.suffix() == "reference" => true,
                    Some(tag) if tag.is_yaml_core_schema() => false,
                    Some(tag) => {
                        return Err(Diagnostic::new(
                            at,
                            format!("unknown YAML tag `{}{}`", tag.handle(), tag.suffix()),
                        ));
                    }
                };
                self.open(Open::Seq { items: Vec::new(), at, anchor, reference })?;
            }
            Event::MappingStart(_, anchor, tag) => {
                if let Some(tag) = &tag
                    && !tag.is_yaml_core_schema()
                {
                    return Err(Diagnostic::new(at, format!("unknown YAML tag `{}{}`", tag.handle(), tag.suffix())));
                }
                self.open(Open::Map { entries: Vec::new(), key: None, at, anchor })?;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (open, measure) = self.stack.pop().expect("the parser balances collections");
                let (node, anchor) = match open {
                    Open::Seq { items, at, anchor, reference: false } => (Node::new(Value::Seq(items), at), anchor),
                    Open::Seq { items, at, anchor, reference: true } => (reference(items, at)?, anchor),
                    Open::Map { entries, at, anchor, .. } => (Node::new(Value::Map(merge_keys(entries)?), at), anchor),
                };
                self.push(node, anchor, measure)?;
            }
            Event::Alias(id) => {
                let Some((node, measure)) = self.anchors.get(&id).cloned() else {
                    return Err(Diagnostic::new(at, "alias to an unknown anchor"));
                };
                // Anchors nest aliases of anchors: without this, a chain of them builds a tree
                // thousands of levels deep from a few kilobytes, deep enough to overflow the
                // stack of whatever walks it.
                if self.stack.len() + measure.height > MAX_DEPTH {
                    let message = format!("nesting deeper than {MAX_DEPTH} levels (counting what aliases repeat)");
                    return Err(Diagnostic::new(at, message));
                }
                self.charge(measure.size, &at)?;
                // The alias stands where it is used; the value keeps its own positions inside.
                self.push(Node { value: node.value, at }, 0, measure)?;
            }
            _ => {}
        }
        Ok(())
    }

    fn charge(&mut self, nodes: usize, at: &Location) -> Result<(), Diagnostic> {
        self.nodes += nodes;
        if self.nodes > MAX_NODES {
            return Err(Diagnostic::new(
                at.clone(),
                format!("the document expands to more than {MAX_NODES} values (aliases repeat what they point to)"),
            ));
        }
        Ok(())
    }

    fn open(&mut self, open: Open) -> Result<(), Diagnostic> {
        let at = match &open {
            Open::Seq { at, .. } | Open::Map { at, .. } => at.clone(),
        };
        if self.stack.len() >= MAX_DEPTH {
            return Err(Diagnostic::new(at, format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        self.charge(1, &at)?;
        // Height 1: the collection itself, before any child.
        self.stack.push((open, Measure { size: 1, height: 1 }));
        Ok(())
    }

    /// Adds a finished node to the collection being built (or makes it the document).
    fn push(&mut self, node: Node, anchor: usize, measure: Measure) -> Result<(), Diagnostic> {
        if anchor != 0 {
            self.anchors.insert(anchor, (node.clone(), measure));
        }
        let Some((open, parent)) = self.stack.last_mut() else {
            self.root = Some(node);
            return Ok(());
        };
        parent.size += measure.size;
        parent.height = parent.height.max(measure.height + 1);
        match open {
            Open::Seq { items, .. } => items.push(node),
            Open::Map { entries, key, .. } => match key.take() {
                None => *key = Some(node),
                Some(k) => entries.push((k, node)),
            },
        }
        Ok(())
    }
}

/// `!reference [.job, key, …]`: a sequence of names.
fn reference(items: Vec<Node>, at: Location) -> Result<Node, Diagnostic> {
    let mut path = Vec::new();
    for item in &items {
        match item.as_str() {
            Some(name) if !matches!(item.value, Value::Seq(_) | Value::Map(_)) => path.push(name.to_owned()),
            _ => {
                return Err(Diagnostic::new(
                    item.at.clone(),
                    "a !reference holds names only, like `!reference [.setup, script]`",
                ));
            }
        }
    }
    if path.is_empty() || path.len() > 10 {
        return Err(Diagnostic::new(at, "a !reference names a job and up to nine keys inside it"));
    }
    Ok(Node::new(Value::Reference(path), at))
}

/// The name a plain `:name` (or `:"name"`) stands for. GitLab reads CI files with Ruby's YAML
/// loader, which makes such scalars symbols, and then turns every key into a symbol: `:script:`
/// and `script:` are the same key there, and files written for Ruby use the first.
fn symbol_name(text: &str) -> Option<&str> {
    let rest = text.strip_prefix(':').filter(|rest| !rest.is_empty())?;
    for quote in ['"', '\''] {
        if let Some(inner) = rest.strip_prefix(quote).and_then(|r| r.strip_suffix(quote)) {
            return Some(inner);
        }
    }
    Some(rest)
}

/// Turns the key nodes into strings and applies merge keys: `<<: *a` or `<<: [*a, *b]` adds the
/// entries of the merged hashes that the mapping does not set itself (earlier hashes win).
fn merge_keys(entries: Vec<(Node, Node)>) -> Result<Vec<(Key, Node)>, Diagnostic> {
    let mut own: Vec<(Key, Node)> = Vec::with_capacity(entries.len());
    let mut merged: Vec<(Key, Node)> = Vec::new();
    for (key, value) in entries {
        let name = match &key.value {
            Value::Scalar { text, plain: true } => symbol_name(text).unwrap_or(text).to_owned(),
            Value::Scalar { text, plain: false } => text.clone(),
            _ => return Err(Diagnostic::new(key.at, "a key must be a string, not a collection")),
        };
        let is_merge = name == "<<" && matches!(key.value, Value::Scalar { plain: true, .. });
        if !is_merge {
            own.retain(|(k, _)| k.name != name);
            own.push((Key::new(name, key.at), value));
            continue;
        }
        let sources = match value.value {
            Value::Map(_) => vec![value],
            Value::Seq(items) => items,
            _ => return Err(Diagnostic::new(value.at, "`<<` merges a hash or a list of hashes")),
        };
        for source in sources {
            let Value::Map(source_entries) = source.value else {
                return Err(Diagnostic::new(source.at, "`<<` merges a hash or a list of hashes"));
            };
            for (k, v) in source_entries {
                if !merged.iter().any(|(m, _)| *m == k) {
                    merged.push((k, v));
                }
            }
        }
    }
    merged.retain(|(k, _)| !own.iter().any(|(o, _)| o == k));
    merged.extend(own);
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(source: &str) -> Result<Node, Diagnostic> {
        parse(&Arc::from(".gitlab-ci.yml"), source)
    }

    #[test]
    fn positions_are_one_based() {
        let root = load("build:\n  script: make\n").unwrap();
        let script = root.get("build").unwrap().get("script").unwrap();
        assert_eq!((script.at.line, script.at.column), (2, 11));
        assert_eq!(script.as_str(), Some("make"));
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let root = load(".base: &base\n  image: alpine\n  tags: [a]\njob:\n  <<: *base\n  tags: [b]\n  script: *x\n");
        assert!(root.unwrap_err().message.contains("unknown anchor"));
        let root = load(".base: &base\n  image: alpine\n  tags: [a]\njob:\n  <<: *base\n  tags: [b]\n").unwrap();
        let job = root.get("job").unwrap();
        assert_eq!(job.get("image").unwrap().as_str(), Some("alpine"));
        assert!(matches!(&job.get("tags").unwrap().value, Value::Seq(items) if items[0].as_str() == Some("b")));
    }

    #[test]
    fn ruby_symbol_keys_name_the_same_keys() {
        let root = load("---\n:test_job:\n  :script: echo 1\n\":quoted\": x\n:'single': y\n").unwrap();
        let job = root.get("test_job").unwrap();
        assert_eq!(job.get("script").unwrap().as_str(), Some("echo 1"));
        assert!(root.get(":quoted").is_some(), "a quoted scalar is a string in Ruby too");
        assert!(root.get("single").is_some());
        assert_eq!(symbol_name(":"), None);
        assert_eq!(symbol_name("plain"), None);
    }

    #[test]
    fn references_and_unknown_tags() {
        let root = load("job:\n  script: !reference [.setup, script]\n").unwrap();
        let script = root.get("job").unwrap().get("script").unwrap();
        assert_eq!(script.value, Value::Reference(vec![".setup".into(), "script".into()]));
        let error = load("job: !include foo.yml\n").unwrap_err();
        assert!(error.message.contains("unknown YAML tag `!include`"), "{error:?}");
    }

    #[test]
    fn alias_bombs_stop() {
        let mut source = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for n in 1..9 {
            let p = n - 1;
            source.push_str(&format!(
                "a{n}: &a{n} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let error = load(&source).unwrap_err();
        assert!(error.message.contains("expands to more than"), "{error:?}");
    }

    #[test]
    fn running_out_of_values_on_a_collection_names_its_position() {
        let many = format!("k: [{}]\n", vec!["[]"; 200_001].join(","));
        let error = parse(&Arc::from(".gitlab-ci.yml"), &many).unwrap_err();
        assert!(error.message.contains("more than"), "{error}");
        assert_eq!(error.at.line, 1, "{error}");
        assert!(error.at.column > 1, "{error}");
    }

    #[test]
    fn aliases_count_towards_the_nesting_limit() {
        // Each anchor nests the previous one 60 levels deeper: within the node budget, but
        // without the limit the tree would be 4,000 levels deep (and overflowed a 2 MiB stack).
        let mut source = String::new();
        for n in 0..70 {
            let inner = if n == 0 { "x".to_owned() } else { format!("*a{}", n - 1) };
            source.push_str(&format!(".a{n}: &a{n} {}{inner}{}\n", "[".repeat(60), "]".repeat(60)));
        }
        let error = load(&source).unwrap_err();
        assert!(error.message.contains("nesting deeper than 64 levels (counting what aliases"), "{error:?}");
        assert_eq!((error.at.line, error.at.column), (2, 70));

        // An alias that stays within the limit is fine, at the top or nested.
        let shallow = format!("a: &a {}x{}\nb: *a\nc: [[*a]]\n", "[".repeat(60), "]".repeat(60));
        assert!(load(&shallow).is_ok());
        let deeper = format!("a: &a {}x{}\nc: [[[[*a]]]]\n", "[".repeat(60), "]".repeat(60));
        assert!(load(&deeper).unwrap_err().message.contains("nesting deeper than 64 levels"));
    }

    #[test]
    fn syntax_errors_have_positions() {
        let error = load("job:\n  script: [a\n").unwrap_err();
        assert!(error.message.starts_with("invalid YAML"), "{error:?}");
        assert!(error.at.line >= 2);
        assert!(load("a: 1\n---\nb: 2\n").unwrap_err().message.contains("one YAML document"));
    }

    #[test]
    fn a_spec_header_is_set_apart_from_the_configuration() {
        let source = "spec:\n  inputs:\n    stage:\n      default: test\n    name:\n---\njob:\n  script: x\n";
        let document = parse_document(&Arc::from(".gitlab-ci.yml"), source).unwrap();
        assert!(document.content.get("job").is_some());
        assert!(document.content.get("spec").is_none());
        let defaults = document.input_defaults();
        assert_eq!(defaults.len(), 1);
        assert_eq!((defaults[0].0, defaults[0].1.as_str()), ("stage", Some("test")));
        assert_eq!(load(source).unwrap(), document.content);

        // A leading `---` starts the first document, it is not a second one.
        assert!(load("---\njob:\n  script: x\n").unwrap().get("job").is_some());
        let third = load("spec: {}\n---\na: 1\n---\nb: 2\n").unwrap_err();
        assert!(third.message.contains("remove the third `---`"), "{third:?}");
        assert_eq!(third.at.line, 4);
    }
}
