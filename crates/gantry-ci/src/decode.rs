//! The assembled YAML tree → [`Config`]: every keyword checked for its type and allowed values,
//! unknown keywords refused, each problem reported where it is written. A keyword set to null
//! (`before_script:` with nothing after it) is not set, as in GitLab: it is read as if it were
//! not written, so a job still inherits the default.

use crate::error::{Diagnostics, Location};
use crate::expr::Expression;
use crate::keywords::*;
use crate::vars::parse_duration;
use crate::yaml::{Key, Node, Value, parse_bool};

/// Keywords at the top of a file that are not jobs.
pub(crate) const GLOBAL_KEYWORDS: &[&str] =
    &["stages", "variables", "workflow", "default", "image", "services", "cache", "before_script", "after_script"];
/// Keywords `default:` may set.
const DEFAULT_KEYWORDS: &[&str] = &[
    "after_script",
    "artifacts",
    "before_script",
    "cache",
    "id_tokens",
    "image",
    "interruptible",
    "retry",
    "services",
    "tags",
    "timeout",
];
const JOB_KEYWORDS: &[&str] = &[
    "after_script",
    "allow_failure",
    "artifacts",
    "before_script",
    "cache",
    "coverage",
    "dependencies",
    "environment",
    "except",
    "id_tokens",
    "image",
    "inherit",
    "interruptible",
    "needs",
    "only",
    "parallel",
    "resource_group",
    "retry",
    "rules",
    "script",
    "services",
    "stage",
    "start_in",
    "tags",
    "timeout",
    "trigger",
    "variables",
    "when",
];
/// GitLab keywords Gantry does not run; refused with a clear message rather than ignored.
const UNSUPPORTED_JOB_KEYWORDS: &[&str] =
    &["secrets", "identity", "release", "pages", "hooks", "dast_configuration", "run"];
const MAX_PARALLEL: u64 = 200;
const MAX_NEEDS: usize = 50;

/// Reading a hash of keywords.
trait Keywords {
    /// The value of `key`, unless it is not there or null.
    fn keyword(&self, key: &str) -> Option<&Node>;
}

impl Keywords for Node {
    fn keyword(&self, key: &str) -> Option<&Node> {
        self.get(key).filter(|value| !value.is_null())
    }
}

/// Decodes an assembled tree, adding what is wrong with it to `d`. When the tree is `incomplete`
/// (an include could not be read), a stage that is not defined may be defined in what is missing,
/// and is not reported.
pub fn decode(root: &Node, incomplete: bool, d: &mut Diagnostics) -> Config {
    let Some(entries) = root.as_map() else {
        d.push(root.at.clone(), crate::error::INVALID_FORMAT);
        return Config {
            stages: Vec::new(),
            variables: Vec::new(),
            workflow: Workflow::default(),
            jobs: Vec::new(),
            warnings: Vec::new(),
        };
    };
    let mut stages = vec![".pre".to_owned()];
    match root.keyword("stages") {
        Some(node) => {
            for stage in string_list(node, "stages", d).unwrap_or_default() {
                if stage != ".pre" && stage != ".post" && !stages.contains(&stage) {
                    stages.push(stage);
                }
            }
        }
        None => stages.extend(["build", "test", "deploy"].map(str::to_owned)),
    }
    stages.push(".post".to_owned());
    let variables = root.keyword("variables").map(|n| variables(n, "variables", true, d)).unwrap_or_default();
    let workflow = root.keyword("workflow").map(|n| workflow(n, d)).unwrap_or_default();

    // `default:` and the older top-level forms of the same keywords.
    let mut defaults: Vec<(Key, Node)> = Vec::new();
    for (key, value) in entries {
        if ["image", "services", "cache", "before_script", "after_script"].contains(&&**key) && !value.is_null() {
            defaults.push((key.clone(), value.clone()));
        }
    }
    if let Some(default) = root.keyword("default") {
        match default.as_map() {
            Some(keys) => {
                for (key, value) in keys {
                    if DEFAULT_KEYWORDS.contains(&&**key) {
                        // Null is not set: an older top-level form of the keyword still applies.
                        if !value.is_null() {
                            defaults.retain(|(k, _)| k != key);
                            defaults.push((key.clone(), value.clone()));
                        }
                    } else {
                        d.push(
                            key.at.clone(),
                            format!("`default` cannot set `{}`; it sets {}", &**key, DEFAULT_KEYWORDS.join(", ")),
                        );
                    }
                }
            }
            None => d.push(default.at.clone(), format!("`default` should be a hash, not {}", default.kind())),
        }
    }

    let mut jobs = Vec::new();
    for (name, node) in entries {
        if GLOBAL_KEYWORDS.contains(&&**name) || name.starts_with('.') {
            continue;
        }
        if name.trim().is_empty() || name.len() > 255 {
            d.push(name.at.clone(), "a job name is 1 to 255 characters");
            continue;
        }
        if node.as_map().is_none() {
            d.push(
                name.at.clone(),
                format!("`{}` is neither a keyword nor a job: a job is a hash with a `script`", &**name),
            );
            continue;
        }
        let known_stages = (!incomplete).then_some(stages.as_slice());
        if let Some(job) = job(name, node, &defaults, known_stages, d) {
            jobs.push(job);
        }
    }
    // Jobs may be in what could not be read.
    if jobs.is_empty() && !d.has_errors() && !incomplete {
        d.push(root.at.clone(), crate::error::NO_VISIBLE_JOB);
    }
    Config { stages, variables, workflow, jobs, warnings: Vec::new() }
}

fn what(context: &str, key: &str) -> String {
    if context.is_empty() { key.to_owned() } else { format!("{context}:{key}") }
}

/// Reports keys of `node` not in `allowed`.
fn check_keys(node: &Node, context: &str, allowed: &[&str], d: &mut Diagnostics) {
    for (key, _) in node.as_map().unwrap_or_default() {
        if !allowed.contains(&&**key) {
            d.push(
                key.at.clone(),
                format!("`{}` is not a keyword of `{context}` (it takes {})", &**key, allowed.join(", ")),
            );
        }
    }
}

/// Blank as GitLab (Ruby) sees it: null, a string of spaces, an empty list or hash.
fn is_blank(node: &Node) -> bool {
    match &node.value {
        _ if node.is_null() => true,
        Value::Scalar { text, .. } => text.trim().is_empty(),
        Value::Seq(items) => items.is_empty(),
        Value::Map(entries) => entries.is_empty(),
        Value::Reference(_) => false,
    }
}

/// The items of a list, with the lists nested in it (from an alias or a `!reference`) flattened
/// into it, as GitLab flattens them, down to ten levels; None when `node` is not a list.
fn flattened(node: &Node) -> Option<Vec<&Node>> {
    fn flatten<'a>(node: &'a Node, out: &mut Vec<&'a Node>, depth: usize) {
        match &node.value {
            Value::Seq(inner) if depth < 10 => inner.iter().for_each(|n| flatten(n, out, depth + 1)),
            _ => out.push(node),
        }
    }
    let Value::Seq(items) = &node.value else { return None };
    let mut out = Vec::with_capacity(items.len());
    items.iter().for_each(|item| flatten(item, &mut out, 1));
    Some(out)
}

fn is_scalar(node: &Node) -> bool {
    matches!(node.value, Value::Scalar { .. }) && !node.is_null()
}

fn string(node: &Node, context: &str, d: &mut Diagnostics) -> Option<String> {
    if is_scalar(node) {
        return node.as_str().map(str::to_owned);
    }
    d.push(node.at.clone(), format!("`{context}` should be a string, not {}", node.kind()));
    None
}

/// A string or a list of strings; nested lists (from `!reference`) are flattened.
fn string_list(node: &Node, context: &str, d: &mut Diagnostics) -> Option<Vec<String>> {
    fn flatten(node: &Node, context: &str, out: &mut Vec<String>, depth: usize, d: &mut Diagnostics) -> bool {
        match &node.value {
            Value::Seq(items) if depth < 10 => items.iter().all(|item| flatten(item, context, out, depth + 1, d)),
            Value::Scalar { text, .. } if !node.is_null() => {
                out.push(text.clone());
                true
            }
            _ => {
                d.push(
                    node.at.clone(),
                    format!("`{context}` should be a string or a list of strings, not {}", node.kind()),
                );
                false
            }
        }
    }
    let mut out = Vec::new();
    flatten(node, context, &mut out, 0, d).then_some(out)
}

fn boolean(node: &Node, context: &str, d: &mut Diagnostics) -> Option<bool> {
    if let Value::Scalar { text, plain: true } = &node.value
        && let Some(value) = parse_bool(text)
    {
        return Some(value);
    }
    d.push(node.at.clone(), format!("`{context}` should be true or false, not {}", node.kind()));
    None
}

fn integer(node: &Node, context: &str, min: i64, max: i64, d: &mut Diagnostics) -> Option<i64> {
    match &node.value {
        Value::Scalar { text, plain: true } => match text.parse::<i64>() {
            Ok(value) if (min..=max).contains(&value) => Some(value),
            Ok(_) => {
                d.push(node.at.clone(), format!("`{context}` should be between {min} and {max}"));
                None
            }
            Err(_) => {
                d.push(node.at.clone(), format!("`{context}` should be a whole number, not {}", node.kind()));
                None
            }
        },
        _ => {
            d.push(node.at.clone(), format!("`{context}` should be a whole number, not {}", node.kind()));
            None
        }
    }
}

fn duration(node: &Node, context: &str, d: &mut Diagnostics) -> Option<u64> {
    let text = string(node, context, d)?;
    let seconds = parse_duration(&text);
    if seconds.is_none() {
        d.push(
            node.at.clone(),
            format!("`{context}` should be a duration like `30 minutes` or `1h 30m`, not `{text}`"),
        );
    }
    seconds
}

fn choice(node: &Node, context: &str, allowed: &[&str], d: &mut Diagnostics) -> Option<String> {
    let text = string(node, context, d)?;
    if allowed.contains(&text.as_str()) {
        return Some(text);
    }
    d.push(node.at.clone(), format!("`{context}` should be one of {}, not `{text}`", allowed.join(", ")));
    None
}

fn exit_codes(node: &Node, context: &str, d: &mut Diagnostics) -> Vec<i32> {
    let items: Vec<&Node> = match &node.value {
        Value::Seq(items) => items.iter().collect(),
        _ => vec![node],
    };
    items.into_iter().filter_map(|item| integer(item, context, 0, 255, d)).map(|n| n as i32).collect()
}

/// `variables:` of the file, a job, a rule or a service.
pub(crate) fn variables(node: &Node, context: &str, rich: bool, d: &mut Diagnostics) -> Vec<Variable> {
    let Some(entries) = node.as_map() else {
        if !node.is_null() {
            d.push(node.at.clone(), format!("`{context}` should be a hash of names and values, not {}", node.kind()));
        }
        return Vec::new();
    };
    let mut out: Vec<Variable> = Vec::new();
    for (key, value) in entries {
        let key_name = key.name.clone();
        if key_name.is_empty() || !key_name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            d.push(key.at.clone(), format!("`{key_name}` is not a valid variable name: use letters, digits and `_`"));
            continue;
        }
        let here = what(context, &key_name);
        let variable = match &value.value {
            Value::Scalar { text, .. } => Some(Variable {
                key: key_name.clone(),
                value: if value.is_null() { String::new() } else { text.clone() },
                description: None,
                expand: true,
                options: Vec::new(),
            }),
            Value::Map(_) if rich => {
                check_keys(value, &here, &["value", "description", "expand", "options"], d);
                let text = value.keyword("value").and_then(|v| string(v, &what(&here, "value"), d)).unwrap_or_default();
                let options = value
                    .keyword("options")
                    .and_then(|v| string_list(v, &what(&here, "options"), d))
                    .unwrap_or_default();
                if !options.is_empty() && !options.contains(&text) {
                    d.push(value.at.clone(), format!("`{here}`: the value must be one of its options"));
                }
                Some(Variable {
                    key: key_name.clone(),
                    value: text,
                    description: value.keyword("description").and_then(|v| string(v, &what(&here, "description"), d)),
                    expand: value.keyword("expand").and_then(|v| boolean(v, &what(&here, "expand"), d)).unwrap_or(true),
                    options,
                })
            }
            _ => {
                d.push(value.at.clone(), format!("`{here}` should be a string or a number, not {}", value.kind()));
                None
            }
        };
        if let Some(variable) = variable {
            out.retain(|v| v.key != variable.key);
            out.push(variable);
        }
    }
    out
}

fn workflow(node: &Node, d: &mut Diagnostics) -> Workflow {
    if node.as_map().is_none() {
        d.push(node.at.clone(), format!("`workflow` should be a hash, not {}", node.kind()));
        return Workflow::default();
    }
    check_keys(node, "workflow", &["rules", "name", "auto_cancel"], d);
    let mut auto_cancel_on_new_commit = None;
    if let Some(auto) = node.keyword("auto_cancel") {
        check_keys(auto, "workflow:auto_cancel", &["on_new_commit", "on_job_failure"], d);
        if let Some(on_new) = auto.keyword("on_new_commit") {
            auto_cancel_on_new_commit =
                choice(on_new, "workflow:auto_cancel:on_new_commit", &["conservative", "interruptible", "none"], d);
        }
        if let Some(on_failure) = auto.keyword("on_job_failure") {
            choice(on_failure, "workflow:auto_cancel:on_job_failure", &["none", "all"], d);
        }
    }
    Workflow {
        name: node.keyword("name").and_then(|n| string(n, "workflow:name", d)),
        rules: node.keyword("rules").map(|n| rules(n, "workflow:rules", true, d)),
        auto_cancel_on_new_commit,
    }
}

/// `rules:` of a job (or of `workflow`, which only allows `always` and `never`).
fn rules(node: &Node, context: &str, workflow: bool, d: &mut Diagnostics) -> Vec<Rule> {
    let Some(items) = flattened(node) else {
        d.push(node.at.clone(), format!("`{context}` should be a list of rules, not {}", node.kind()));
        return Vec::new();
    };
    let allowed: &[&str] = if workflow {
        &["if", "changes", "exists", "when", "variables", "auto_cancel"]
    } else {
        &["if", "changes", "exists", "when", "start_in", "allow_failure", "variables", "needs"]
    };
    let mut out = Vec::new();
    for item in items {
        if item.as_map().is_none() {
            d.push(item.at.clone(), format!("each of `{context}` should be a hash, not {}", item.kind()));
            continue;
        }
        check_keys(item, context, allowed, d);
        let condition = item.keyword("if").and_then(|n| {
            let text = string(n, &what(context, "if"), d)?;
            match Expression::parse(&text) {
                Ok(expression) => {
                    for warning in expression.warnings() {
                        d.warn(n.at.clone(), format!("`{context}:if`: {warning}"));
                    }
                    Some(expression)
                }
                Err(error) => {
                    let at = Location { column: n.at.column, ..n.at.clone() };
                    d.push(at, format!("`{context}:if` is not a valid expression: {error}"));
                    None
                }
            }
        });
        let paths = |key: &str, d: &mut Diagnostics| {
            let node = item.keyword(key)?;
            if let Some(map) = node.as_map() {
                let keys: &[&str] = if key == "changes" { &["paths", "compare_to"] } else { &["paths"] };
                check_keys(node, &what(context, key), keys, d);
                if map.iter().any(|(k, _)| **k == *"compare_to") {
                    d.push(node.at.clone(), format!("`{context}:{key}:compare_to` is not supported yet"));
                }
                return node.keyword("paths").and_then(|p| string_list(p, &what(context, key), d));
            }
            string_list(node, &what(context, key), d)
        };
        let changes = paths("changes", d);
        let exists = paths("exists", d);
        let when = item.keyword("when").and_then(|n| {
            let allowed: &[&str] = if workflow {
                &["always", "never"]
            } else {
                &["on_success", "on_failure", "always", "manual", "delayed", "never"]
            };
            choice(n, &what(context, "when"), allowed, d).and_then(|w| When::parse(&w))
        });
        let start_in = item.keyword("start_in").and_then(|n| duration(n, &what(context, "start_in"), d));
        if when == Some(When::Delayed) && start_in.is_none() {
            d.push(item.at.clone(), format!("`{context}`: `when: delayed` needs `start_in`"));
        }
        if item.keyword("needs").is_some() {
            d.push(item.at.clone(), format!("`{context}:needs` is not supported yet"));
        }
        out.push(Rule {
            condition,
            changes,
            exists,
            when,
            start_in,
            allow_failure: item
                .keyword("allow_failure")
                .and_then(|n| allow_failure(n, &what(context, "allow_failure"), d)),
            variables: item
                .keyword("variables")
                .map(|n| variables(n, &what(context, "variables"), false, d))
                .unwrap_or_default(),
        });
    }
    out
}

fn allow_failure(node: &Node, context: &str, d: &mut Diagnostics) -> Option<AllowFailure> {
    if node.as_map().is_some() {
        check_keys(node, context, &["exit_codes"], d);
        let codes =
            node.keyword("exit_codes").map(|n| exit_codes(n, &what(context, "exit_codes"), d)).unwrap_or_default();
        return Some(AllowFailure::ExitCodes(codes));
    }
    boolean(node, context, d).map(|yes| if yes { AllowFailure::Yes } else { AllowFailure::No })
}

fn ref_filter(node: &Node, context: &str, d: &mut Diagnostics) -> Option<RefFilter> {
    if let Value::Seq(_) | Value::Scalar { .. } = node.value {
        return string_list(node, context, d).map(|refs| RefFilter { refs: Some(refs), ..RefFilter::default() });
    }
    if node.as_map().is_none() {
        d.push(node.at.clone(), format!("`{context}` should be a list of refs or a hash, not {}", node.kind()));
        return None;
    }
    check_keys(node, context, &["refs", "variables", "changes", "kubernetes"], d);
    if let Some(kubernetes) = node.keyword("kubernetes") {
        d.push(kubernetes.at.clone(), format!("`{context}:kubernetes` is not supported"));
    }
    let expressions =
        node.keyword("variables").and_then(|n| string_list(n, &what(context, "variables"), d)).map(|list| {
            list.iter()
                .filter_map(|text| match Expression::parse(text) {
                    Ok(e) => {
                        for warning in e.warnings() {
                            d.warn(node.at.clone(), format!("`{context}:variables`: `{text}`: {warning}"));
                        }
                        Some(e)
                    }
                    Err(error) => {
                        d.push(
                            node.at.clone(),
                            format!("`{context}:variables`: `{text}` is not a valid expression: {error}"),
                        );
                        None
                    }
                })
                .collect()
        });
    Some(RefFilter {
        refs: node.keyword("refs").and_then(|n| string_list(n, &what(context, "refs"), d)),
        variables: expressions,
        changes: node.keyword("changes").and_then(|n| string_list(n, &what(context, "changes"), d)),
    })
}

mod bridge;
mod job;
mod needs;
use job::job;
