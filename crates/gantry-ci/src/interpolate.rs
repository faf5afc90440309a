//! `$[[ inputs.name | function | … ]]` in a file that has a `spec:` header, as GitLab
//! interpolates it: after the YAML is read, in every string (keys too). A block that is a whole
//! value becomes the input's value with its type (a number, a boolean, an array spliced into
//! the list it stands in); a block inside a string becomes the value's text. Functions apply in
//! order: `expand_vars` (the pipeline's variables that exist; a masked one is refused, so that a
//! secret never becomes part of the configuration), `truncate(offset, length)`,
//! `posix_escape`. The first problem stops the file, as in GitLab, and is said in GitLab's
//! words (`unknown interpolation key: `name``).

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

use crate::error::Location;
use crate::inputs::{Context, Problem, Typed, ruby_text, typed, value_in_place};
use crate::yaml::{Key, MAX_FILE_BYTES, Node, Value};

/// `$[[ data ]]`, on one line, the data at least two characters (GitLab's pattern).
static BLOCK: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\$\[\[\s*(\S.*?\S)\s*\]\]").expect("a valid pattern"));
static TRUNCATE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^truncate\(\s*(\d+)\s*,\s*(\d+)\s*\)?$").expect("a valid pattern"));
static VARIABLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\$([a-zA-Z_][a-zA-Z0-9_]*)|\$\{([a-zA-Z_][a-zA-Z0-9_]*)\}|%([a-zA-Z_][a-zA-Z0-9_]*)%")
        .expect("a valid pattern")
});

/// Most different blocks one file may have (GitLab's limit).
const MAX_BLOCKS: usize = 10_000;
/// Most functions in one block (GitLab's limit).
const MAX_FUNCTIONS: usize = 3;
/// Longest access (`inputs.name`) read, in bytes (GitLab's limit).
const MAX_ACCESS_BYTES: usize = 1024;
/// Most text interpolation may write into one file: inputs repeated in many places must not
/// grow a small file without bound.
const MAX_INTERPOLATED_BYTES: usize = 4 * MAX_FILE_BYTES;
/// Most values interpolation may copy into one file (arrays repeated where they are used).
const MAX_INTERPOLATED_VALUES: usize = 200_000;
/// Deepest nesting a file may have once an array or hash input stands in it, as deep as YAML
/// itself may nest: inputs passed down through includes must not nest deeper at each step.
const MAX_DEPTH: usize = 64;

/// A pipeline variable as `expand_vars` finds it.
pub(crate) enum Lookup {
    Unknown,
    Value(String),
    /// A masked variable, whose value must not be written into the configuration.
    Masked,
}

/// `content` with its blocks replaced from `context`; `variables` are the pipeline's, for
/// `expand_vars`. Err: the first problem, where it is.
pub(crate) fn interpolate(
    content: Node,
    context: &Context,
    variables: &dyn Fn(&str) -> Lookup,
) -> Result<Node, Problem> {
    let mut interpolating = Interpolating {
        context,
        variables,
        evaluated: HashMap::new(),
        bytes_left: MAX_INTERPOLATED_BYTES,
        values_left: MAX_INTERPOLATED_VALUES,
    };
    interpolating.node(content, 0)
}

/// What a block evaluates to: an input's own value, or the text a function made of it.
#[derive(Debug, Clone)]
enum Evaluated {
    Value(Node),
    Text(String),
}

struct Interpolating<'a> {
    context: &'a Context,
    variables: &'a dyn Fn(&str) -> Lookup,
    /// Each different block, evaluated once.
    evaluated: HashMap<String, Evaluated>,
    bytes_left: usize,
    values_left: usize,
}

/// How many values a tree holds.
fn count_values(node: &Node) -> usize {
    1 + match &node.value {
        Value::Seq(items) => items.iter().map(count_values).sum(),
        Value::Map(entries) => entries.iter().map(|(_, v)| 1 + count_values(v)).sum(),
        Value::Scalar { .. } | Value::Reference(_) => 0,
    }
}

/// How many levels of collections a tree holds.
fn height(node: &Node) -> usize {
    match &node.value {
        Value::Seq(items) => 1 + items.iter().map(height).max().unwrap_or(0),
        Value::Map(entries) => 1 + entries.iter().map(|(_, v)| height(v)).max().unwrap_or(0),
        Value::Scalar { .. } | Value::Reference(_) => 0,
    }
}

impl Interpolating<'_> {
    /// `node`, standing `depth` collections deep, interpolated.
    fn node(&mut self, node: Node, depth: usize) -> Result<Node, Problem> {
        let Node { value, at } = node;
        match value {
            Value::Scalar { text, plain } if text.contains("$[[") => self.scalar(text, plain, at, depth),
            Value::Seq(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    let was_text = matches!(item.value, Value::Scalar { .. });
                    let item = self.node(item, depth + 1)?;
                    match item.value {
                        // An array input standing alone in a list is spliced into it.
                        Value::Seq(inner) if was_text => out.extend(inner),
                        value => out.push(Node::new(value, item.at)),
                    }
                }
                Ok(Node::new(Value::Seq(out), at))
            }
            Value::Map(entries) => {
                let mut out: Vec<(Key, Node)> = Vec::with_capacity(entries.len());
                for (key, value) in entries {
                    let key = if key.name.contains("$[[") {
                        let name = self.text(&key.name, &key.at)?;
                        Key::new(name, key.at)
                    } else {
                        key
                    };
                    let value = self.node(value, depth + 1)?;
                    // Two keys that interpolate to the same name: the later one wins.
                    out.retain(|(k, _)| *k != key);
                    out.push((key, value));
                }
                Ok(Node::new(Value::Map(out), at))
            }
            value => Ok(Node::new(value, at)),
        }
    }

    /// A scalar with blocks: the value itself when it is one block, else its text.
    fn scalar(&mut self, text: String, plain: bool, at: Location, depth: usize) -> Result<Node, Problem> {
        let Some(first) = BLOCK.captures(&text) else { return Ok(Node::new(Value::Scalar { text, plain }, at)) };
        let whole = first.get(0).expect("the whole match");
        if whole.start() == 0 && whole.end() == text.len() {
            let evaluated = self.block(whole.as_str(), &first[1], &at)?;
            return Ok(match evaluated {
                Evaluated::Value(value) => {
                    if depth + height(&value) > MAX_DEPTH {
                        let message =
                            format!("nesting deeper than {MAX_DEPTH} levels once the inputs are interpolated");
                        return Err((at, message));
                    }
                    self.spend(&at, count_values(&value), 0)?;
                    value_in_place(&value, &at)
                }
                Evaluated::Text(text) => {
                    self.spend(&at, 1, text.len())?;
                    Node::new(Value::Scalar { text, plain: false }, at)
                }
            });
        }
        let text = self.text(&text, &at)?;
        Ok(Node::new(Value::Scalar { text, plain: false }, at))
    }

    /// `text` with each block replaced by its value's text.
    fn text(&mut self, text: &str, at: &Location) -> Result<String, Problem> {
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for captures in BLOCK.captures_iter(text) {
            let whole = captures.get(0).expect("the whole match");
            let replacement = match self.block(whole.as_str(), &captures[1], at)? {
                Evaluated::Value(value) => ruby_text(&value),
                Evaluated::Text(text) => text,
            };
            out.push_str(&text[last..whole.start()]);
            out.push_str(&replacement);
            last = whole.end();
        }
        out.push_str(&text[last..]);
        self.spend(at, 0, out.len())?;
        Ok(out)
    }

    fn spend(&mut self, at: &Location, values: usize, bytes: usize) -> Result<(), Problem> {
        match (self.values_left.checked_sub(values), self.bytes_left.checked_sub(bytes)) {
            (Some(values), Some(bytes)) => {
                self.values_left = values;
                self.bytes_left = bytes;
                Ok(())
            }
            _ => Err((at.clone(), "config too large: the inputs repeat more than a CI file may hold".to_owned())),
        }
    }

    /// One block (`block` as written, `data` inside its brackets), evaluated once per file.
    fn block(&mut self, block: &str, data: &str, at: &Location) -> Result<Evaluated, Problem> {
        if let Some(evaluated) = self.evaluated.get(block) {
            return Ok(evaluated.clone());
        }
        if self.evaluated.len() >= MAX_BLOCKS {
            return Err((at.clone(), "too many interpolation blocks".to_owned()));
        }
        let evaluated = self.evaluate(data).map_err(|message| (at.clone(), message))?;
        self.evaluated.insert(block.to_owned(), evaluated.clone());
        Ok(evaluated)
    }

    /// `access | function | …`.
    fn evaluate(&self, data: &str) -> Result<Evaluated, String> {
        let mut parts = data.split('|').map(str::trim);
        let access = parts.next().unwrap_or_default();
        let functions: Vec<&str> = parts.collect();
        let mut value = self.access(access)?;
        if functions.len() > MAX_FUNCTIONS {
            return Err("too many functions in interpolation block".to_owned());
        }
        let known: Vec<Function> = functions
            .iter()
            .map(|expression| {
                Function::parse(expression).ok_or_else(|| {
                    format!(
                        "no function matching `{expression}`: check that the function name, arguments, and types are correct"
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        for function in known {
            let input = match &value {
                Evaluated::Text(text) => text.clone(),
                Evaluated::Value(node) => match typed(node) {
                    Typed::String(text) => text.to_owned(),
                    _ => {
                        let name = function.name();
                        return Err(format!(
                            "error in `{name}` function: invalid input type: {name} can only be used with string inputs"
                        ));
                    }
                },
            };
            let output = function.apply(&input, self.variables);
            value = Evaluated::Text(
                output.map_err(|message| format!("error in `{}` function: {message}", function.name()))?,
            );
        }
        Ok(value)
    }

    /// `inputs.name` (or `component.name`).
    fn access(&self, access: &str) -> Result<Evaluated, String> {
        if access.len() > MAX_ACCESS_BYTES {
            return Err("maximum interpolation expression size exceeded".to_owned());
        }
        let objects: Vec<&str> = access.splitn(5, '.').collect();
        if objects.len() <= 1 {
            return Err("invalid interpolation access pattern".to_owned());
        }
        let unknown = |key: &str| format!("unknown interpolation key: `{key}`");
        let value = match objects[0] {
            "inputs" => {
                let (_, value) = self
                    .context
                    .inputs
                    .iter()
                    .find(|(name, _)| name == objects[1])
                    .ok_or_else(|| unknown(objects[1]))?;
                Evaluated::Value(value.clone())
            }
            "component" if !self.context.component.is_empty() => {
                let (_, value) = self
                    .context
                    .component
                    .iter()
                    .find(|(name, _)| *name == objects[1])
                    .ok_or_else(|| unknown(objects[1]))?;
                Evaluated::Text(value.clone())
            }
            other => return Err(unknown(other)),
        };
        match objects.get(2) {
            Some(key) => Err(unknown(key)),
            None => Ok(value),
        }
    }
}

/// A function of a block.
enum Function {
    ExpandVars,
    Truncate { offset: usize, length: usize },
    PosixEscape,
}

impl Function {
    fn parse(expression: &str) -> Option<Function> {
        match expression {
            "expand_vars" => Some(Function::ExpandVars),
            "posix_escape" => Some(Function::PosixEscape),
            _ => {
                let captures = TRUNCATE.captures(expression)?;
                // A number too large for memory is as good as no limit.
                let number = |n: usize| captures[n].parse::<usize>().unwrap_or(usize::MAX);
                Some(Function::Truncate { offset: number(1), length: number(2) })
            }
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Function::ExpandVars => "expand_vars",
            Function::Truncate { .. } => "truncate",
            Function::PosixEscape => "posix_escape",
        }
    }

    /// The function applied to `input`; Err is GitLab's message (after the function's name).
    fn apply(&self, input: &str, variables: &dyn Fn(&str) -> Lookup) -> Result<String, String> {
        match self {
            Function::ExpandVars => {
                let mut masked = false;
                let expanded = VARIABLE.replace_all(input, |captures: &regex::Captures| {
                    let name = captures.get(1).or(captures.get(2)).or(captures.get(3)).expect("one name").as_str();
                    match variables(name) {
                        Lookup::Value(value) => value,
                        Lookup::Unknown => captures[0].to_owned(),
                        Lookup::Masked => {
                            masked = true;
                            String::new()
                        }
                    }
                });
                if masked {
                    return Err("variable expansion error: masked variables cannot be expanded".to_owned());
                }
                Ok(expanded.into_owned())
            }
            Function::Truncate { offset, length } => Ok(input.chars().skip(*offset).take(*length).collect()),
            Function::PosixEscape => Ok(posix_escape(input)),
        }
    }
}

/// Ruby's `Shellwords.shellescape`: safe characters as they are, others after a backslash, a
/// line break quoted, an empty string as `''`.
fn posix_escape(input: &str) -> String {
    if input.is_empty() {
        return "''".to_owned();
    }
    let mut out = String::with_capacity(input.len() * 2);
    for c in input.chars() {
        match c {
            '\n' => out.push_str("'\n'"),
            c if c.is_ascii_alphanumeric() || "_-.,:+/@".contains(c) || !c.is_ascii() => out.push(c),
            c => {
                out.push('\\');
                out.push(c);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::yaml::parse;

    fn context(inputs: &str) -> Context {
        let node = parse(&Arc::from("inputs.yml"), inputs).unwrap();
        let inputs = node.as_map().unwrap().iter().map(|(k, v)| (k.name.clone(), v.clone())).collect();
        Context { inputs, component: vec![("name", "build".into())] }
    }

    fn run(content: &str, inputs: &str) -> Result<Node, String> {
        let content = parse(&Arc::from("t.yml"), content).unwrap();
        let variables = |name: &str| match name {
            "CI_PROJECT_NAME" => Lookup::Value("api".to_owned()),
            "TOKEN" => Lookup::Masked,
            _ => Lookup::Unknown,
        };
        interpolate(content, &context(inputs), &variables).map_err(|(at, message)| format!("{at}: {message}"))
    }

    #[test]
    fn whole_values_keep_their_type_and_strings_take_their_text() {
        let root = run(
            "job-$[[ inputs.name ]]:\n  parallel: $[[ inputs.count ]]\n  allow_failure: $[[ inputs.flag ]]\n  tags: $[[ inputs.tags ]]\n  script:\n    - echo start\n    - $[[ inputs.steps ]]\n    - echo $[[ inputs.count ]] $[[ inputs.tags ]] $[[ inputs.flag ]]\n  variables:\n    QUOTED: $[[ inputs.quoted ]]\n",
            "name: build\ncount: 3\nflag: true\ntags: [a, b]\nsteps: [one, two]\nquoted: '42'\n",
        )
        .unwrap();
        let job = root.get("job-build").expect("keys are interpolated");
        assert_eq!(job.get("parallel").unwrap().value, Value::Scalar { text: "3".into(), plain: true });
        assert_eq!(job.get("allow_failure").unwrap().value, Value::Scalar { text: "true".into(), plain: true });
        assert!(matches!(&job.get("tags").unwrap().value, Value::Seq(items) if items.len() == 2));
        let Value::Seq(script) = &job.get("script").unwrap().value else { panic!() };
        let script: Vec<&str> = script.iter().map(|s| s.as_str().unwrap()).collect();
        assert_eq!(script, ["echo start", "one", "two", r#"echo 3 ["a", "b"] true"#]);
        let quoted = job.get("variables").unwrap().get("QUOTED").unwrap();
        assert_eq!(quoted.value, Value::Scalar { text: "42".into(), plain: false }, "a string input stays a string");
        assert_eq!((quoted.at.line, quoted.at.column), (10, 13), "the value stands where the block was");
    }

    #[test]
    fn functions_apply_in_order() {
        let root = run(
            "a: $[[ inputs.name | expand_vars ]]\nb: $[[ inputs.name | expand_vars | truncate(1,4) ]]\nc: $[[ inputs.name | truncate(200, 3) ]]\nd: $[[ inputs.shell | posix_escape ]]\ne: $[[ component.name ]]\n",
            "name: 'x-$CI_PROJECT_NAME-%CI_PROJECT_NAME%-${UNKNOWN}'\nshell: \"it's here\"\n",
        )
        .unwrap();
        let of = |key: &str| root.get(key).unwrap().as_str().unwrap().to_owned();
        assert_eq!(of("a"), "x-api-api-${UNKNOWN}");
        assert_eq!(of("b"), "-api");
        assert_eq!(of("c"), "");
        assert_eq!(of("d"), r"it\'s\ here");
        assert_eq!(of("e"), "build");
    }

    #[test]
    fn problems_are_gitlab_messages_where_the_block_is() {
        let error = |content: &str| run(content, "name: x\nlist: [a]\n").unwrap_err();
        assert_eq!(error("a:\n  b: $[[ inputs.nope ]]\n"), "t.yml:2:6: unknown interpolation key: `nope`");
        assert_eq!(error("a: $[[ nope.name ]]\n"), "t.yml:1:4: unknown interpolation key: `nope`");
        assert_eq!(error("a: $[[ inputs ]]\n"), "t.yml:1:4: invalid interpolation access pattern");
        assert_eq!(
            error("a: $[[ inputs.name | upcase ]]\n"),
            "t.yml:1:4: no function matching `upcase`: check that the function name, arguments, and types are correct"
        );
        assert_eq!(
            error("a: $[[ inputs.list | truncate(0,1) ]]\n"),
            "t.yml:1:4: error in `truncate` function: invalid input type: truncate can only be used with string inputs"
        );
        assert_eq!(
            run("a: $[[ inputs.secret | expand_vars ]]\n", "secret: 'x-$TOKEN'\n").unwrap_err(),
            "t.yml:1:4: error in `expand_vars` function: variable expansion error: masked variables cannot be expanded"
        );
        assert_eq!(
            error("a: $[[ inputs.name | expand_vars | expand_vars | expand_vars | expand_vars ]]\n"),
            "t.yml:1:4: too many functions in interpolation block"
        );
        assert_eq!(
            run("a: '$[[ x ]] and $[ inputs.name ]'\n", "{}").unwrap().get("a").unwrap().as_str(),
            Some("$[[ x ]] and $[ inputs.name ]")
        );
    }

    #[test]
    fn inputs_cannot_nest_a_file_deeper_than_yaml_may() {
        let deep = format!("deep: {}x{}\n", "[".repeat(40), "]".repeat(40));
        let content = format!("a: {}'$[[ inputs.deep ]]'{}\n", "[".repeat(30), "]".repeat(30));
        let error = run(&content, &deep).unwrap_err();
        assert!(error.ends_with("nesting deeper than 64 levels once the inputs are interpolated"), "{error}");
        let shallow = format!("a: {}'$[[ inputs.deep ]]'{}\n", "[".repeat(10), "]".repeat(10));
        assert!(run(&shallow, &deep).is_ok());
    }

    #[test]
    fn repeating_a_large_input_is_bounded() {
        let big = format!("big: '{}'\n", "x".repeat(100_000));
        let content = format!("a: [{}]\n", vec!["'$[[ inputs.big ]]$[[ inputs.big ]]'"; 100].join(", "));
        let error = run(&content, &big).unwrap_err();
        assert!(error.contains("config too large"), "{error}");
    }
}
