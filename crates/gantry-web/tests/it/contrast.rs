//! Every colour of text the stylesheets set is readable: at least WCAG AA's 4.5:1 against every
//! background it can sit on. The stylesheets are read as the server serves them
//! (`/assets/style.css` and the highlighting colours of `/assets/highlight.css`).
//!
//! How a pair is found, rule by rule (each selector of a rule on its own):
//! - a rule that sets both `color` and a background is its own pair;
//! - a rule that sets only `color` is checked against every surface of its context: the job
//!   log, the top bar, dark `pre` blocks, or the page (the first context a selector names);
//! - a rule that sets only a background must be named below: a surface of a context (then every
//!   text colour of that context is checked against it), a background whose text colour another
//!   rule gives, or a decoration that holds no text. A new background nobody named fails, so
//!   nothing escapes the check by being left out.
//!
//! Documented exceptions: a job's program may set a foreground and a background colour together
//! (`\e[31;41m`); those combinations are its choice, so the log's coloured backgrounds are
//! checked with the log's own text colour only. Decorations below hold no text.

use std::collections::HashMap;

use axum::http::Method;
use gantry_web::contrast_ratio;

use crate::support::TestApp;

/// WCAG 2's level AA for normal text.
const AA: f64 = 4.5;

/// A part of the page with surfaces of its own. `marker` is a class (`.job-log`) or an element
/// (`pre`) that puts a selector in the context when any of its compounds has it; `text` the
/// selector whose colour its text has when no rule sets another; `surfaces` the selectors whose
/// backgrounds its text may sit on.
struct Context {
    marker: &'static str,
    text: &'static str,
    surfaces: &'static [&'static str],
}

/// In order: a selector belongs to the first context it names; the page is the last one.
const CONTEXTS: &[Context] = &[
    Context { marker: ".job-log", text: "pre.job-log", surfaces: &["pre.job-log", ".job-log .section-header"] },
    Context { marker: ".topbar", text: ".topbar", surfaces: &[".topbar"] },
    Context { marker: "pre", text: "pre", surfaces: &["pre"] },
    Context {
        marker: "",
        text: "body",
        surfaces: &[
            "body",
            ".card",
            ".skip:focus",
            "input",
            "select",
            "textarea",
            "button:hover",
            ".button:hover",
            "button.danger:hover",
            ".notice",
            ":not(pre) > code",
            ".file-head",
            "table.code tr:target",
            "table.code tr.marked",
            "table.diff tr.add",
            "table.diff tr.del",
            "table.blame td.who",
            "table.lint-listing tr.error td.line",
            "table.lint-listing tr.warning td.line",
            ".board-list",
            ".board-card",
        ],
    },
];

/// Backgrounds whose text colour another rule sets: (the background's selector, the selector
/// whose colour its text has).
const PAIRED: &[(&str, &str)] = &[
    (".primary:hover", ".primary"),
    ("button.primary:hover", "button.primary"),
    // The log's coloured backgrounds (`\e[41m`) hold the log's own text colour (see the
    // exception above).
    (".job-log .bg1", "pre.job-log"),
    (".job-log .bg2", "pre.job-log"),
    (".job-log .bg3", "pre.job-log"),
    (".job-log .bg4", "pre.job-log"),
];

/// Backgrounds that hold no text: icons, the languages bar.
const DECORATIONS: &[&str] = &[".icon.folder", ".icon.file", ".icon.link", ".icon.submodule", ".language-bar"];

#[tokio::test]
async fn every_text_colour_of_the_stylesheets_meets_wcag_aa() {
    let app = TestApp::new().await;
    let mut css = String::new();
    for path in ["/assets/style.css", "/assets/highlight.css"] {
        let response = app.page(Method::GET, path, None, None).await;
        assert_eq!(response.status, 200, "{path}");
        css.push_str(&response.body);
        css.push('\n');
    }
    let sheet = Sheet::parse(&css);
    assert_eq!(sheet.unknown_names(), Vec::<&str>::new(), "this test names rules the stylesheets lack");
    let (pairs, mut failures) = sheet.pairs();
    for pair in &pairs {
        if pair.ratio < AA {
            failures.push(format!("{pair}"));
        }
    }
    let lowest = pairs.iter().min_by(|a, b| a.ratio.total_cmp(&b.ratio)).expect("pairs");
    eprintln!("{} pairs checked; the lowest: {lowest}", pairs.len());
    assert!(failures.is_empty(), "below {AA}:1, or unchecked:\n{}", failures.join("\n"));
}

#[test]
fn the_checker_reads_rules_variables_and_media_blocks() {
    let sheet = Sheet::parse(
        ":root { --text: #111; --bg: #fff; }\n/* a comment { } */\nbody { color: var(--text); background: var(--bg); }\n\
         @media (max-width: 40rem) { .faint, .pale { color: #eee; } }\n.mystery { background: #222; }\n",
    );
    let (pairs, problems) = sheet.pairs();
    assert!(problems.len() == 1 && problems[0].contains("`.mystery` sets a background"), "{problems:?}");
    let mystery = pairs.iter().find(|p| p.background_of == ".mystery").expect("paired with the page's text");
    assert!(mystery.text_of == "body" && mystery.ratio < AA, "{mystery}");
    assert!(pairs.iter().any(|p| p.text_of == "body" && p.ratio > 18.0), "{pairs:?}");
    let faint = pairs.iter().find(|p| p.text_of == ".faint").expect(".faint is checked against the page");
    assert!(faint.ratio < AA, "{faint}");
    assert!(pairs.iter().any(|p| p.text_of == ".pale"));
    assert!((contrast_ratio(rgb("#777"), rgb("#fff")) - 4.48).abs() < 0.01);
}

/// One colour of text against one background, and why they meet.
#[derive(Debug)]
struct Pair {
    text_of: String,
    background_of: String,
    ratio: f64,
}

impl std::fmt::Display for Pair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.2}:1  text of `{}` on the background of `{}`", self.ratio, self.text_of, self.background_of)
    }
}

/// A rule of one selector, with its colours (variables resolved; `none`, `inherit` and the like
/// read as unset). The rules of one selector outside `@media` blocks are merged, later
/// declarations winning, as the cascade merges them; those inside stay apart.
struct Rule {
    selector: String,
    color: Option<[u8; 3]>,
    background: Option<[u8; 3]>,
    in_media: bool,
}

struct Sheet {
    rules: Vec<Rule>,
}

impl Sheet {
    fn parse(css: &str) -> Sheet {
        let css = strip_comments(css);
        let mut blocks = Vec::new();
        collect_blocks(&css, false, &mut blocks);
        let variables: HashMap<String, String> = blocks
            .iter()
            .filter(|(selector, _, _)| selector == ":root")
            .flat_map(|(_, body, _)| declarations(body))
            .filter(|(name, _)| name.starts_with("--"))
            .collect();
        let mut rules: Vec<Rule> = Vec::new();
        for (selectors, body, in_media) in &blocks {
            let mut color = None;
            let mut background = None;
            for (name, value) in declarations(body) {
                let value = resolve(&value, &variables);
                match name.as_str() {
                    "color" => color = colour_value(&value, selectors),
                    "background" | "background-color" => background = colour_value(&value, selectors),
                    _ => {}
                }
            }
            for selector in split_selectors(selectors) {
                match rules.iter_mut().find(|r| !in_media && !r.in_media && r.selector == selector) {
                    Some(rule) => {
                        rule.color = color.or(rule.color);
                        rule.background = background.or(rule.background);
                    }
                    None => rules.push(Rule { selector, color, background, in_media: *in_media }),
                }
            }
        }
        Sheet { rules }
    }

    fn find(&self, selector: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| !r.in_media && r.selector == selector)
    }

    /// The selectors this test's tables name that the stylesheets lack (tables gone stale).
    fn unknown_names(&self) -> Vec<&'static str> {
        let named = CONTEXTS
            .iter()
            .flat_map(|c| c.surfaces.iter().copied().chain([c.text]))
            .chain(PAIRED.iter().flat_map(|(background, text)| [*background, *text]))
            .chain(DECORATIONS.iter().copied());
        named.filter(|name| self.find(name).is_none()).collect()
    }

    /// The pair of every rule's text, as the module's doc says, and what the rules leave
    /// unchecked (a background nobody named: it is paired with the text it inherits anyway).
    fn pairs(&self) -> (Vec<Pair>, Vec<String>) {
        let named: Vec<&str> = CONTEXTS
            .iter()
            .flat_map(|c| c.surfaces.iter().copied())
            .chain(PAIRED.iter().map(|(background, _)| *background))
            .chain(DECORATIONS.iter().copied())
            .collect();
        let mut pairs = Vec::new();
        let mut problems = Vec::new();
        let mut pair = |(text_of, fg): (&str, [u8; 3]), background: &Rule| {
            if let Some(bg) = background.background {
                pairs.push(Pair {
                    text_of: text_of.to_owned(),
                    background_of: background.selector.clone(),
                    ratio: contrast_ratio(fg, bg),
                });
            }
        };
        for rule in &self.rules {
            let context = context_of(&rule.selector);
            match (rule.color, rule.background) {
                (Some(fg), Some(_)) => pair((&rule.selector, fg), rule),
                (Some(fg), None) => {
                    for surface in context.surfaces.iter().filter_map(|s| self.find(s)) {
                        pair((&rule.selector, fg), surface);
                    }
                }
                (None, Some(_)) => {
                    if !named.contains(&rule.selector.as_str()) {
                        problems.push(format!(
                            "`{}` sets a background but no colour: name it in this test as a surface, a paired \
                             background or a decoration",
                            rule.selector
                        ));
                        if let Some(text) = self.text_of(context) {
                            pair(text, rule);
                        }
                    }
                }
                (None, None) => {}
            }
        }
        for context in CONTEXTS {
            let Some(text) = self.text_of(context) else { continue };
            for surface in context.surfaces.iter().filter_map(|s| self.find(s)) {
                pair(text, surface);
            }
        }
        for (background, text) in PAIRED {
            if let (Some(background), Some(Rule { selector, color: Some(fg), .. })) =
                (self.find(background), self.find(text))
            {
                pair((selector, *fg), background);
            }
        }
        (pairs, problems)
    }

    /// The colour of a context's text: its text rule's, or the page's that it inherits.
    fn text_of(&self, context: &Context) -> Option<(&str, [u8; 3])> {
        let text = self.find(context.text)?;
        let page = self.find(CONTEXTS.last().expect("the page").text)?;
        match (text.color, page.color) {
            (Some(fg), _) => Some((&text.selector, fg)),
            (None, Some(fg)) => Some((&page.selector, fg)),
            (None, None) => None,
        }
    }
}

/// The context a selector names first (by its compounds, leaving out what `:not(…)` names).
fn context_of(selector: &str) -> &'static Context {
    let compounds: Vec<String> = without_negations(selector)
        .split(|c: char| c.is_whitespace() || c == '>' || c == '+' || c == '~')
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect();
    CONTEXTS
        .iter()
        .find(|context| {
            context.marker.is_empty()
                || compounds.iter().any(|compound| match context.marker.strip_prefix('.') {
                    Some(class) => compound.split('.').skip(1).any(|part| part.split([':', '[']).next() == Some(class)),
                    None => compound.split(['.', ':', '[']).next() == Some(context.marker),
                })
        })
        .expect("the page is the last context")
}

fn without_negations(selector: &str) -> String {
    let mut out = String::new();
    let mut rest = selector;
    while let Some(at) = rest.find(":not(") {
        out.push_str(&rest[..at]);
        rest = rest[at..].split_once(')').map_or("", |(_, after)| after);
    }
    out.push_str(rest);
    out
}

fn strip_comments(css: &str) -> String {
    let mut out = String::new();
    let mut rest = css;
    while let Some(at) = rest.find("/*") {
        out.push_str(&rest[..at]);
        rest = rest[at..].split_once("*/").map_or("", |(_, after)| after);
    }
    out.push_str(rest);
    out
}

/// The (selectors, declarations, inside `@media`) of every rule.
fn collect_blocks(css: &str, in_media: bool, out: &mut Vec<(String, String, bool)>) {
    let mut rest = css;
    while let Some(open) = rest.find('{') {
        let prelude = rest[..open].trim().to_owned();
        let mut depth = 0;
        let mut close = None;
        for (at, c) in rest[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        close = Some(open + at);
                        break;
                    }
                }
                _ => {}
            }
        }
        let close = close.unwrap_or_else(|| panic!("unclosed block after `{prelude}`"));
        let body = &rest[open + 1..close];
        if prelude.starts_with('@') {
            collect_blocks(body, true, out);
        } else {
            out.push((prelude, body.to_owned(), in_media));
        }
        rest = &rest[close + 1..];
    }
}

fn declarations(body: &str) -> Vec<(String, String)> {
    body.split(';')
        .filter_map(|declaration| declaration.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect()
}

fn split_selectors(selectors: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut current = String::new();
    for c in selectors.chars() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            ',' if depth == 0 => {
                out.push(normalise(&current));
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    out.push(normalise(&current));
    out
}

fn normalise(selector: &str) -> String {
    selector.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn resolve(value: &str, variables: &HashMap<String, String>) -> String {
    let mut value = value.to_owned();
    while let Some(at) = value.find("var(") {
        let end = at + value[at..].find(')').expect("var(…) is closed");
        let name = value[at + 4..end].trim();
        let replacement = variables.get(name).unwrap_or_else(|| panic!("no variable {name}"));
        value.replace_range(at..=end, replacement);
    }
    value
}

/// The colour a `color` or `background` value sets, None when it sets none (`none`,
/// `transparent`, `inherit`, `currentColor`). Any other colour must be one this test reads.
fn colour_value(value: &str, selectors: &str) -> Option<[u8; 3]> {
    let value = value.trim_end_matches("!important").trim().to_ascii_lowercase();
    if ["none", "transparent", "inherit", "currentcolor", "unset", "initial"].contains(&value.as_str()) {
        return None;
    }
    let colour = value.split_whitespace().find(|word| word.starts_with('#') || *word == "white" || *word == "black");
    let colour = colour.unwrap_or_else(|| panic!("`{selectors}`: cannot read the colour of `{value}`"));
    Some(match colour {
        "white" => [255, 255, 255],
        "black" => [0, 0, 0],
        hex => rgb(hex),
    })
}

fn rgb(hex: &str) -> [u8; 3] {
    let digits = hex.trim_start_matches('#');
    let digits: String = match digits.len() {
        3 => digits.chars().flat_map(|c| [c, c]).collect(),
        6 => digits.to_owned(),
        _ => panic!("cannot read the colour {hex}"),
    };
    let channel = |at: usize| u8::from_str_radix(&digits[at..at + 2], 16).expect("hex colour");
    [channel(0), channel(2), channel(4)]
}
