//! `spec:inputs`: the inputs a file's header declares (`type`, `default`, `options`, `regex`,
//! `description`), checked against the values an `include:inputs` gives (or a main file's
//! defaults) in GitLab's words: a required input without a value, a value of the wrong type,
//! one not among the `options`, one the `regex` does not match, an input the header does not
//! declare. What comes out is what `$[[ inputs.… ]]` reads (`interpolate`).
//!
//! Values keep their YAML types as Ruby's loader reads them (`1` is a number, `'1'` a string,
//! `true` a boolean), because GitLab's checks are about those types.

use crate::error::Location;
use crate::yaml::{Key, Node, Value, parse_bool};

/// The input types GitLab knows, in the order its messages list them.
const TYPES: [&str; 4] = ["array", "boolean", "number", "string"];
/// The keys an input's specification may have.
const INPUT_KEYS: [&str; 5] = ["default", "description", "options", "regex", "type"];
/// Most `options` one input may list (GitLab's limit).
const MAX_OPTIONS: usize = 50;
/// Longest `regex` read (a longer one is refused rather than compiled).
const MAX_REGEX_BYTES: usize = 1024;

/// What `$[[ … ]]` can read in one file: its inputs, and what a component's header asks to
/// know of it (`spec:component`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Context {
    pub(crate) inputs: Vec<(String, Node)>,
    /// `name`, `sha`, `version`, `reference` of the component being read, those the header
    /// lists.
    pub(crate) component: Vec<(&'static str, String)>,
}

/// Where a problem with the inputs is and what it is, in GitLab's words.
pub(crate) type Problem = (Location, String);

/// A value as Ruby's YAML loader reads it, which is what GitLab's checks of inputs see.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Typed<'a> {
    Null,
    Boolean(bool),
    Integer(i128),
    Float(f64),
    String(&'a str),
    Array(&'a [Node]),
    Hash(&'a [(Key, Node)]),
    /// A `!reference`, which an input cannot usefully be.
    Reference,
}

/// What `node` is to Ruby: only plain scalars are read as null, booleans or numbers.
pub(crate) fn typed(node: &Node) -> Typed<'_> {
    match &node.value {
        Value::Seq(items) => Typed::Array(items),
        Value::Map(entries) => Typed::Hash(entries),
        Value::Reference(_) => Typed::Reference,
        Value::Scalar { text, plain: false } => Typed::String(text),
        Value::Scalar { text, plain: true } => {
            if node.is_null() {
                Typed::Null
            } else if let Some(flag) = parse_bool(text) {
                Typed::Boolean(flag)
            } else if let Some(number) = ruby_integer(text) {
                Typed::Integer(number)
            } else if let Some(number) = ruby_float(text) {
                Typed::Float(number)
            } else {
                Typed::String(text)
            }
        }
    }
}

/// An integer as YAML 1.1 writes it: decimal, `0x` hexadecimal, `0b` binary, `0` octal, with
/// `_` between digits.
fn ruby_integer(text: &str) -> Option<i128> {
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (radix, body) = if let Some(hex) = digits.strip_prefix("0x") {
        (16, hex)
    } else if let Some(binary) = digits.strip_prefix("0b") {
        (2, binary)
    } else if digits.len() > 1 && digits.starts_with('0') {
        (8, &digits[1..])
    } else {
        (10, digits)
    };
    let cleaned: String = body.chars().filter(|c| *c != '_').collect();
    if cleaned.is_empty() || body.starts_with('_') && radix == 10 || !cleaned.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let value = i128::from_str_radix(&cleaned, radix).ok()?;
    Some(if negative { -value } else { value })
}

/// A float as YAML 1.1 writes it: `1.5`, `.5`, `1.`, `1.5e+3`, `.inf`, `.nan`.
fn ruby_float(text: &str) -> Option<f64> {
    let unsigned = text.trim_start_matches(['-', '+']);
    if text.len() - unsigned.len() > 1 {
        return None;
    }
    let negative = text.starts_with('-');
    match unsigned {
        ".inf" | ".Inf" | ".INF" => return Some(if negative { f64::NEG_INFINITY } else { f64::INFINITY }),
        ".nan" | ".NaN" | ".NAN" if unsigned.len() == text.len() => return Some(f64::NAN),
        _ => {}
    }
    let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (mantissa, Some(exponent)),
        None => (unsigned, None),
    };
    let (whole, fraction) = mantissa.split_once('.')?;
    let digits_ok = whole.chars().all(|c| c.is_ascii_digit() || c == '_')
        && !whole.starts_with('_')
        && fraction.chars().all(|c| c.is_ascii_digit());
    let exponent_ok = exponent.is_none_or(|e| {
        let digits = e.strip_prefix(['-', '+']).unwrap_or(e);
        !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
    });
    if !digits_ok || !exponent_ok || whole.is_empty() && fraction.is_empty() {
        return None;
    }
    text.replace('_', "").parse().ok().or_else(|| format!("{}0", text.replace('_', "")).parse().ok())
}

/// A float as Ruby prints it (`1.0`, `1.5`, `1.0e+20`).
fn ruby_float_text(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity".to_owned() } else { "-Infinity".to_owned() };
    }
    let magnitude = value.abs();
    if magnitude != 0.0 && !(1e-4..1e16).contains(&magnitude) {
        let text = format!("{value:e}");
        let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
        let mantissa = if mantissa.contains('.') { mantissa.to_owned() } else { format!("{mantissa}.0") };
        let exponent: i32 = exponent.parse().unwrap_or(0);
        return format!("{mantissa}e{}{:02}", if exponent < 0 { '-' } else { '+' }, exponent.abs());
    }
    let text = format!("{value}");
    if text.contains('.') { text } else { format!("{text}.0") }
}

/// A string as Ruby's `inspect` writes it.
fn ruby_inspect_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The text a value becomes inside a string (Ruby's `to_s`): arrays and hashes as Ruby shows
/// them, `[\"a\", 1]`.
pub(crate) fn ruby_text(node: &Node) -> String {
    fn inspect(node: &Node, out: &mut String) {
        match typed(node) {
            Typed::String(text) => out.push_str(&ruby_inspect_string(text)),
            Typed::Null => out.push_str("nil"),
            Typed::Array(items) => {
                out.push('[');
                for (n, item) in items.iter().enumerate() {
                    if n > 0 {
                        out.push_str(", ");
                    }
                    inspect(item, out);
                }
                out.push(']');
            }
            Typed::Hash(entries) => {
                out.push('{');
                for (n, (key, value)) in entries.iter().enumerate() {
                    if n > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(&ruby_inspect_string(key));
                    out.push_str(" => ");
                    inspect(value, out);
                }
                out.push('}');
            }
            _ => out.push_str(&ruby_text(node)),
        }
    }
    match typed(node) {
        Typed::Null => String::new(),
        Typed::Boolean(flag) => flag.to_string(),
        Typed::Integer(number) => number.to_string(),
        Typed::Float(number) => ruby_float_text(number),
        Typed::String(text) => text.to_owned(),
        Typed::Reference => match &node.value {
            Value::Reference(path) => format!("!reference [{}]", path.join(", ")),
            _ => String::new(),
        },
        Typed::Array(_) | Typed::Hash(_) => {
            let mut out = String::new();
            inspect(node, &mut out);
            out
        }
    }
}

/// The value a block that is a whole YAML value becomes: the input's own value, its type kept
/// (a number stays a number, an array an array), written where the block was.
pub(crate) fn value_in_place(node: &Node, at: &Location) -> Node {
    let value = match typed(node) {
        Typed::Integer(number) => Value::Scalar { text: number.to_string(), plain: true },
        Typed::Float(number) => Value::Scalar { text: ruby_float_text(number), plain: true },
        Typed::Boolean(flag) => Value::Scalar { text: flag.to_string(), plain: true },
        _ => node.value.clone(),
    };
    Node::new(value, at.clone())
}

/// One declared input.
struct Declared<'a> {
    name: &'a str,
    at: &'a Location,
    kind: &'a str,
    default: Option<&'a Node>,
    options: Option<&'a [Node]>,
    regex: Option<&'a str>,
}

/// The header's `spec:inputs` checked as GitLab checks them (`header:spec:inputs:name …`).
fn declared<'a>(header: &'a Node, problems: &mut Vec<Problem>) -> Vec<Declared<'a>> {
    let mut out = Vec::new();
    for (key, _) in header.as_map().unwrap_or_default() {
        if **key != *"spec" {
            problems.push((key.at.clone(), format!("header config contains unknown keys: {}", &**key)));
        }
    }
    let Some(spec) = header.get("spec").filter(|s| !s.is_null()) else { return out };
    let Some(entries) = spec.as_map() else {
        problems.push((spec.at.clone(), "header:spec config should be a hash".to_owned()));
        return out;
    };
    for (key, _) in entries {
        if !["inputs", "component"].contains(&&**key) {
            problems.push((key.at.clone(), format!("header:spec config contains unknown keys: {}", &**key)));
        }
    }
    let Some(inputs) = spec.get("inputs").filter(|i| !i.is_null()) else { return out };
    let Some(inputs) = inputs.as_map() else {
        problems.push((inputs.at.clone(), "header:spec:inputs config should be a hash".to_owned()));
        return out;
    };
    for (name, input) in inputs {
        let context = format!("header:spec:inputs:{}", &**name);
        let mut declared = Declared { name, at: &name.at, kind: "string", default: None, options: None, regex: None };
        if input.is_null() {
            out.push(declared);
            continue;
        }
        let Some(keys) = input.as_map() else {
            problems.push((input.at.clone(), format!("{context} config should be a hash")));
            continue;
        };
        let unknown: Vec<&str> = keys.iter().map(|(k, _)| &**k).filter(|k| !INPUT_KEYS.contains(k)).collect();
        if !unknown.is_empty() {
            problems
                .push((input.at.clone(), format!("{context} config contains unknown keys: {}", unknown.join(", "))));
            continue;
        }
        declared.default = input.get("default");
        if let Some(kind) = input.get("type").filter(|t| !t.is_null()) {
            match kind.as_str().filter(|k| TYPES.contains(k) && matches!(kind.value, Value::Scalar { .. })) {
                Some(kind) => declared.kind = kind,
                None => {
                    let written = kind.as_str().map_or_else(|| kind.kind().to_owned(), str::to_owned);
                    let message =
                        format!("{context} input type unknown value: {written} (valid types: {})", TYPES.join(", "));
                    problems.push((kind.at.clone(), message));
                    continue;
                }
            }
        }
        if let Some(options) = input.get("options").filter(|o| !o.is_null()) {
            match &options.value {
                Value::Seq(items) if items.len() > MAX_OPTIONS => {
                    problems.push((
                        options.at.clone(),
                        format!("{context} config cannot define more than {MAX_OPTIONS} options"),
                    ));
                    continue;
                }
                Value::Seq(items) => declared.options = Some(items),
                _ => {
                    problems.push((options.at.clone(), format!("{context} input options should be an array")));
                    continue;
                }
            }
        }
        if let Some(regex) = input.get("regex").filter(|r| !r.is_null()) {
            match typed(regex) {
                Typed::String(pattern) => declared.regex = Some(pattern),
                _ => {
                    problems.push((regex.at.clone(), format!("{context} input regex should be a string")));
                    continue;
                }
            }
        }
        if let Some(description) = input.get("description")
            && !matches!(typed(description), Typed::String(_) | Typed::Null)
        {
            problems.push((description.at.clone(), format!("{context} input description should be a string")));
            continue;
        }
        out.push(declared);
    }
    out
}

/// What `spec:component` asks to know of the component (`name`, `sha`, `version`,
/// `reference`); an empty list when the header does not ask.
pub(crate) fn component_fields(header: &Node, problems: &mut Vec<Problem>) -> Vec<&'static str> {
    const FIELDS: [&str; 4] = ["name", "sha", "version", "reference"];
    let Some(component) = header.get("spec").and_then(|s| s.get("component")).filter(|c| !c.is_null()) else {
        return Vec::new();
    };
    let Value::Seq(items) = &component.value else {
        problems.push((component.at.clone(), "header:spec:component config should be an array of strings".to_owned()));
        return Vec::new();
    };
    let mut fields = Vec::new();
    for item in items {
        match FIELDS.iter().find(|f| item.as_str() == Some(**f)) {
            Some(field) if !fields.contains(field) => fields.push(*field),
            Some(_) => {}
            None => problems.push((
                item.at.clone(),
                format!("header:spec:component config contains unknown values: {}", ruby_text(item)),
            )),
        }
    }
    fields
}

/// The inputs' values: `given` (the `include:inputs` hash of the include at `include_at`; a
/// main file has none) checked against the header's specification, defaults filling in what is
/// not given. Problems are GitLab's messages (`` `name` input: required value has not been
/// provided ``), each where it is: the value given, else the include, else the input's
/// declaration.
pub(crate) fn resolve(
    header: &Node,
    given: Option<&Node>,
    include_at: Option<&Location>,
) -> Result<Vec<(String, Node)>, Vec<Problem>> {
    let mut problems = Vec::new();
    let declared = declared(header, &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }
    let arguments: &[(Key, Node)] = match given {
        None => &[],
        Some(node) if node.is_null() => &[],
        Some(node) => match node.as_map() {
            Some(entries) => entries,
            None => return Err(vec![(node.at.clone(), format!("`inputs` should be a hash, not {}", node.kind()))]),
        },
    };
    let unknown: Vec<&Key> =
        arguments.iter().map(|(k, _)| k).filter(|k| !declared.iter().any(|d| d.name == &***k)).collect();
    if let Some(first) = unknown.first() {
        let names: Vec<&str> = unknown.iter().map(|k| &***k).collect();
        problems.push((first.at.clone(), format!("unknown input arguments: {}", names.join(", "))));
    }
    let mut values = Vec::with_capacity(declared.len());
    for input in &declared {
        let argument =
            arguments.iter().rev().find(|(k, _)| **k == *input.name).map(|(_, v)| v).filter(|v| !v.is_null());
        let mut check = Checking { input, problems: &mut problems };
        let Some(value) = argument.or(input.default) else {
            check.error(include_at.unwrap_or(input.at), "required value has not been provided");
            continue;
        };
        if let Some(default) = input.default {
            check.value(default, true);
        }
        if let Some(argument) = argument {
            check.value(argument, false);
        }
        values.push((input.name.to_owned(), value.clone()));
    }
    if problems.is_empty() { Ok(values) } else { Err(problems) }
}

/// The checks of one input's default or given value.
struct Checking<'a, 'b> {
    input: &'a Declared<'a>,
    problems: &'b mut Vec<Problem>,
}

impl Checking<'_, '_> {
    fn error(&mut self, at: &Location, message: &str) {
        self.problems.push((at.clone(), format!("`{}` input: {message}", self.input.name)));
    }

    /// GitLab's checks, all of them (a value can be of the wrong type and not among the
    /// options at once).
    fn value(&mut self, value: &Node, is_default: bool) {
        let which = if is_default { "default" } else { "provided" };
        let at = &value.at;
        let typed = typed(value);
        let type_ok = matches!(
            (self.input.kind, typed),
            ("string", Typed::String(_))
                | ("number", Typed::Integer(_) | Typed::Float(_))
                | ("boolean", Typed::Boolean(_))
                | ("array", Typed::Array(_))
        );
        if !type_ok {
            let article = if self.input.kind == "array" { "an" } else { "a" };
            self.error(at, &format!("{which} value is not {article} {}", self.input.kind));
        }
        if let Some(options) = self.input.options {
            match self.input.kind {
                "string" | "number" => {
                    if !options.iter().any(|option| same(typed, self::typed(option))) {
                        let list = if self.input.kind == "string" {
                            "the list of allowed options"
                        } else {
                            "the list of the allowed options"
                        };
                        self.error(at, &format!("`{}` cannot be used because it is not in {list}", ruby_text(value)));
                    }
                }
                _ => self.error(&self.input.at.clone(), "Options can only be used with string and number inputs"),
            }
        }
        if let Some(pattern) = self.input.regex {
            if self.input.kind != "string" {
                self.error(&self.input.at.clone(), "RegEx validation can only be used with string inputs");
            } else if let Typed::String(text) = typed {
                match compile(pattern) {
                    Some(regex) if regex.is_match(text) => {}
                    Some(_) => self.error(at, &format!("{which} value does not match required RegEx pattern")),
                    None => self.error(&self.input.at.clone(), "invalid regular expression"),
                }
            }
        }
    }
}

/// A pattern of `regex:`; None when it is not a valid one (or too long to compile).
fn compile(pattern: &str) -> Option<regex::Regex> {
    if pattern.len() > MAX_REGEX_BYTES {
        return None;
    }
    regex::RegexBuilder::new(pattern).size_limit(1 << 20).build().ok()
}

/// Ruby's `==` between two values of inputs (`1 == 1.0`).
fn same(a: Typed, b: Typed) -> bool {
    match (a, b) {
        (Typed::Integer(x), Typed::Float(y)) | (Typed::Float(y), Typed::Integer(x)) => x as f64 == y,
        (Typed::Array(x), Typed::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(typed(a), typed(b)))
        }
        (Typed::Hash(_), Typed::Hash(_)) | (Typed::Reference, Typed::Reference) => false,
        (a, b) => a == b,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn header(text: &str) -> Node {
        crate::yaml::parse(&Arc::from("t.yml"), text).unwrap()
    }

    fn given(text: &str) -> Node {
        crate::yaml::parse(&Arc::from(".gitlab-ci.yml"), text).unwrap()
    }

    fn errors(spec: &str, inputs: &str) -> Vec<String> {
        let at = Location::file(".gitlab-ci.yml");
        let given = given(inputs);
        match resolve(&header(spec), Some(&given), Some(&at)) {
            Ok(_) => Vec::new(),
            Err(problems) => problems.into_iter().map(|(_, m)| m).collect(),
        }
    }

    #[test]
    fn yaml_values_have_ruby_types() {
        let root =
            given("a: 1\nb: '1'\nc: 0x1F\nd: 1_000\ne: 1.5\nf: .5\ng: yes\nh: ~\ni: 1.2.3\nj: -3\nk: 010\nl: 1e3\n");
        let of = |key: &str| typed(root.get(key).unwrap());
        assert_eq!(of("a"), Typed::Integer(1));
        assert_eq!(of("b"), Typed::String("1"));
        assert_eq!(of("c"), Typed::Integer(31));
        assert_eq!(of("d"), Typed::Integer(1000));
        assert_eq!(of("e"), Typed::Float(1.5));
        assert_eq!(of("f"), Typed::Float(0.5));
        assert_eq!(of("g"), Typed::Boolean(true));
        assert_eq!(of("h"), Typed::Null);
        assert_eq!(of("i"), Typed::String("1.2.3"));
        assert_eq!(of("j"), Typed::Integer(-3));
        assert_eq!(of("k"), Typed::Integer(8));
        assert_eq!(of("l"), Typed::String("1e3"), "YAML 1.1 floats need a dot");
        assert_eq!(ruby_float_text(1.0), "1.0");
        assert_eq!(ruby_float_text(1.5), "1.5");
        assert_eq!(ruby_float_text(1e20), "1.0e+20");
        let list = given("l: [a, 1, true, {k: v}]\n");
        assert_eq!(ruby_text(list.get("l").unwrap()), r#"["a", 1, true, {"k" => "v"}]"#);
    }

    #[test]
    fn missing_wrong_unknown_and_refused_values_are_gitlab_errors() {
        let spec = "spec:\n  inputs:\n    stage:\n    count:\n      type: number\n      default: 1\n    env:\n      default: dev\n      options: [dev, prod]\n    tag:\n      default: v1\n      regex: ^v\\d+$\n    flag:\n      type: boolean\n      default: false\n    list:\n      type: array\n      default: []\n";
        assert_eq!(errors(spec, "{}"), ["`stage` input: required value has not been provided"]);
        assert_eq!(errors(spec, "stage: test"), Vec::<String>::new());
        assert_eq!(
            errors(spec, "stage: test\ncount: many\nflag: 'true'\nlist: x\n"),
            [
                "`count` input: provided value is not a number",
                "`flag` input: provided value is not a boolean",
                "`list` input: provided value is not an array",
            ]
        );
        assert_eq!(
            errors(spec, "stage: 1\nenv: staging\n"),
            [
                "`stage` input: provided value is not a string",
                "`env` input: `staging` cannot be used because it is not in the list of allowed options",
            ]
        );
        assert_eq!(
            errors(spec, "stage: x\ntag: release\n"),
            ["`tag` input: provided value does not match required RegEx pattern"]
        );
        assert_eq!(errors(spec, "stage: x\nextra: 1\nmore: 2\n"), ["unknown input arguments: extra, more"]);
        assert_eq!(
            errors("spec:\n  inputs:\n    n:\n      type: number\n      default: 'one'\n", "{}"),
            ["`n` input: default value is not a number"]
        );
        assert_eq!(
            errors("spec:\n  inputs:\n    n:\n      type: number\n      options: [1, 2]\n", "n: 3"),
            ["`n` input: `3` cannot be used because it is not in the list of the allowed options"]
        );
        assert_eq!(
            errors("spec:\n  inputs:\n    n:\n      type: number\n      options: [1, 2]\n", "n: 2.0"),
            Vec::<String>::new()
        );
        assert_eq!(
            errors("spec:\n  inputs:\n    b:\n      type: boolean\n      options: [true]\n", "b: true"),
            ["`b` input: Options can only be used with string and number inputs"]
        );
        assert_eq!(
            errors("spec:\n  inputs:\n    s:\n      regex: '('\n", "s: x"),
            ["`s` input: invalid regular expression"]
        );
    }

    #[test]
    fn a_bad_specification_is_reported_where_it_is() {
        assert_eq!(
            errors("spec:\n  inputs:\n    s:\n      type: text\n", "{}"),
            ["header:spec:inputs:s input type unknown value: text (valid types: array, boolean, number, string)"]
        );
        assert_eq!(
            errors("spec:\n  inputs:\n    s:\n      defualt: x\n", "{}"),
            ["header:spec:inputs:s config contains unknown keys: defualt"]
        );
        assert_eq!(errors("spec:\n  imports: {}\n", "{}"), ["header:spec config contains unknown keys: imports"]);
        let many = format!("spec:\n  inputs:\n    s:\n      options: [{}]\n", vec!["a"; 51].join(", "));
        assert_eq!(errors(&many, "s: a"), ["header:spec:inputs:s config cannot define more than 50 options"]);
    }
}
