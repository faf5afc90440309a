//! Tidy: the shape of the repository that no compiler checks, in the spirit of rust-analyzer's
//! `tidy.rs`. Each rule is a function over a root directory that returns its problems, each
//! naming the file and what to do; one test runs it on this repository, and the tests at the
//! bottom run it on small fixture trees that break it (the test of the test). std only, plus
//! `toml` for the manifests and `tempfile` for the fixtures; the whole file runs in well under a
//! second.
//!
//! 1. The crate graph: every crate's `[dependencies]` (and build and target dependencies, not
//!    dev-dependencies) on crates of ours are exactly the lines of the `crate-graph` block in
//!    `ARCHITECTURE.md`, no edge more, no edge less.
//! 2. No SQL outside `crates/gantry-db`: no `sqlx::query`, `query_as` or `query_scalar` in code,
//!    no SQL statement (`SELECT … FROM`, `INSERT INTO`, `UPDATE … SET`, `DELETE FROM`,
//!    `CREATE|ALTER|DROP TABLE`, in capitals) in a string literal. Tests included: a test that
//!    writes tables by hand knows the schema in a second place and in one dialect, so tests go
//!    through gantry-db's functions too (gantry-db's own tests are in gantry-db).
//! 3. No `is_admin` in code outside `crates/gantry-core/src/policy.rs`, with a ratchet: the files
//!    that still use it today are listed in `ADMIN_DECISIONS_TODAY`; a file not listed fails,
//!    and a listed file that no longer uses it fails too, so the list only shrinks. Exempt:
//!    `crates/gantry-db` (its `is_admin` is the users table's column: data, not a decision) and
//!    integration tests under `crates/*/tests` (they check decisions; the authorisation sweep
//!    restates the rules on purpose). Comments and string literals do not count.
//! 4. Every crate has a `README.md` that names each of its top-level modules (each `src/*.rs`
//!    but `lib.rs` and `main.rs`, each directory under `src` but `bin`) in a code span:
//!    `` `policy` ``, `` `policy.rs` ``, `` `ci/` `` or a path below it such as `` `ci/queue.rs` ``.
//! 5. No `.rs` file over 600 lines unless a line of its module doc starts with `//! Long because`
//!    and goes on to say why.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Files outside `policy.rs` that decide (or carry) `is_admin` today. Issue 12's "authorise
/// once" step moves the decisions into `policy.rs`; remove each file here as it stops using it.
/// Never add one: ask `policy.rs` instead.
const ADMIN_DECISIONS_TODAY: &[&str] = &[
    "crates/gantry-core/src/manage/accounts.rs", // writes the users table's column (data)
    "crates/gantry-web/src/api/types.rs",        // GitLab's `is_admin` field of a user (data)
    "crates/gantry/src/main.rs",                 // `gantry admin` lists who is an administrator
];

/// What a file must contain to be worth lexing for the SQL rule.
const SQL_HINTS: &[&str] = &["sqlx", "query_as", "query_scalar", "INSERT", "DELETE", "UPDATE", "SELECT", "TABLE"];
const POLICY: &str = "crates/gantry-core/src/policy.rs";
const MAX_LINES: usize = 600;
const LONG_MARKER: &str = "//! Long because";

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn crate_graph_is_the_one_architecture_md_states() {
    assert_tidy("the crate graph", check_crate_graph(&repository()));
}

#[test]
fn no_sql_outside_gantry_db() {
    assert_tidy("SQL outside gantry-db", check_sql(&repository()));
}

#[test]
fn no_new_is_admin_outside_policy() {
    assert_tidy("`is_admin` outside policy.rs", check_admin_decisions(&repository(), ADMIN_DECISIONS_TODAY));
}

#[test]
fn every_crate_has_a_readme_naming_its_modules() {
    assert_tidy("crate READMEs", check_readmes(&repository()));
}

#[test]
fn no_long_file_without_a_reason() {
    assert_tidy("long files", check_long_files(&repository()));
}

fn assert_tidy(rule: &str, problems: Vec<String>) {
    assert!(problems.is_empty(), "tidy ({rule}), {} problem(s):\n  {}\n", problems.len(), problems.join("\n  "));
}

// ---- Rule 1: the crate graph ----

/// Compares the `crate-graph` block of `ARCHITECTURE.md` with the manifests under `crates/`.
fn check_crate_graph(root: &Path) -> Vec<String> {
    let stated = match stated_graph(&fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap_or_default()) {
        Ok(stated) => stated,
        Err(problem) => return vec![problem],
    };
    let actual = actual_graph(root);
    let mut problems = Vec::new();
    for (name, deps) in &actual {
        let Some(allowed) = stated.get(name) else {
            problems.push(format!(
                "ARCHITECTURE.md: crate `{name}` (crates/{name}) has no line in the crate-graph block: add \
                 `{name} -> …` (or `-> (none)`) and a sentence in the code map"
            ));
            continue;
        };
        for dep in deps.difference(allowed) {
            problems.push(format!(
                "crates/{name}/Cargo.toml: `{name}` depends on `{dep}`, which ARCHITECTURE.md's crate graph does \
                 not allow: remove the dependency, or (a rare change) add it to the graph and say why in the code map"
            ));
        }
        for dep in allowed.difference(deps) {
            problems.push(format!(
                "ARCHITECTURE.md: the crate graph says `{name} -> {dep}`, but crates/{name}/Cargo.toml has no such \
                 dependency: remove `{dep}` from {name}'s line (and from the prose around it)"
            ));
        }
    }
    for name in stated.keys().filter(|name| !actual.contains_key(*name)) {
        problems.push(format!(
            "ARCHITECTURE.md: the crate graph names `{name}`, which is not a crate in crates/: remove its line"
        ));
    }
    problems
}

/// The lines of the fenced block opened by ```` ```crate-graph ````: `a -> b, c` or `a -> (none)`.
fn stated_graph(architecture: &str) -> Result<BTreeMap<String, BTreeSet<String>>, String> {
    let mut lines = architecture.lines().skip_while(|line| line.trim() != "```crate-graph");
    if lines.next().is_none() {
        return Err("ARCHITECTURE.md: no ```crate-graph block: add one, a line `crate -> dep, dep` per crate".into());
    }
    let mut graph = BTreeMap::new();
    for line in lines.take_while(|line| line.trim() != "```").filter(|line| !line.trim().is_empty()) {
        let Some((name, deps)) = line.split_once("->") else {
            return Err(format!("ARCHITECTURE.md: `{line}` in the crate-graph block is not `crate -> dep, dep`"));
        };
        let deps = match deps.trim() {
            "(none)" => BTreeSet::new(),
            deps => deps.split(',').map(|dep| dep.trim().to_owned()).collect(),
        };
        let name = name.trim();
        if graph.insert(name.to_owned(), deps).is_some() {
            return Err(format!("ARCHITECTURE.md: `{name}` has two lines in the crate-graph block: merge them"));
        }
    }
    Ok(graph)
}

/// Each crate under `crates/` with the crates of ours its manifest depends on.
fn actual_graph(root: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let manifests: BTreeMap<String, toml::Table> = crate_dirs(root)
        .into_iter()
        .map(|dir| {
            let path = dir.join("Cargo.toml");
            let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let manifest: toml::Table = toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let name = manifest.get("package").and_then(|p| p.get("name")).and_then(|n| n.as_str());
            (name.unwrap_or_else(|| panic!("{}: no package name", path.display())).to_owned(), manifest)
        })
        .collect();
    let ours: BTreeSet<String> = manifests.keys().cloned().collect();
    let mut graph = BTreeMap::new();
    for (name, manifest) in &manifests {
        let targets = manifest.get("target").and_then(|t| t.as_table()).into_iter().flat_map(|t| t.values());
        let tables = std::iter::once(manifest).chain(targets.filter_map(|t| t.as_table()));
        let mut deps = BTreeSet::new();
        for table in tables {
            for kind in ["dependencies", "build-dependencies"] {
                for (key, spec) in table.get(kind).and_then(|d| d.as_table()).into_iter().flatten() {
                    let dep = spec.get("package").and_then(|p| p.as_str()).unwrap_or(key.as_str()).to_owned();
                    if ours.contains(&dep) {
                        deps.insert(dep);
                    }
                }
            }
        }
        graph.insert(name.clone(), deps);
    }
    graph
}

fn crate_dirs(root: &Path) -> Vec<PathBuf> {
    let entries = fs::read_dir(root.join("crates")).into_iter().flatten().flatten();
    let mut dirs: Vec<PathBuf> = entries.map(|e| e.path()).filter(|p| p.join("Cargo.toml").is_file()).collect();
    dirs.sort();
    dirs
}

// ---- Rule 2: no SQL outside gantry-db ----

fn check_sql(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for (path, text) in rust_files(root).into_iter().filter(|(path, _)| !path.starts_with("crates/gantry-db/")) {
        if !SQL_HINTS.iter().any(|hint| text.contains(hint)) {
            continue; // Lexing is the slow part, and most files hold none of these.
        }
        let lexed = lex(&text);
        for (number, line) in lexed.code.lines().enumerate() {
            let call = idents(line).find(|word| matches!(*word, "query_as" | "query_scalar" | "query_as_with"));
            if let Some(call) = call.or(line.contains("sqlx::query").then_some("sqlx::query")) {
                problems.push(format!(
                    "{path}:{}: `{call}` outside gantry-db: put the query in a function of crates/gantry-db and \
                     call that",
                    number + 1
                ));
            }
        }
        for (line, literal) in &lexed.strings {
            if let Some(statement) = sql_statement(literal) {
                problems.push(format!(
                    "{path}:{line}: a string holds SQL ({statement}): queries live in crates/gantry-db; add a \
                     function there and call it"
                ));
            }
        }
    }
    problems
}

/// The kind of SQL statement `text` holds, if any (keywords in capitals, as gantry-db writes
/// them; named here in lower case so that this file passes its own rule).
fn sql_statement(text: &str) -> Option<&'static str> {
    let words: Vec<&str> = idents(text).collect();
    for (at, word) in words.iter().enumerate() {
        let rest = &words[at + 1..];
        let next = rest.first().copied();
        let statement = match *word {
            "INSERT" if next == Some("INTO") => "insert into",
            "DELETE" if next == Some("FROM") => "delete from",
            "CREATE" | "ALTER" | "DROP" if next == Some("TABLE") => "create, alter or drop table",
            "SELECT" if rest.contains(&"FROM") => "select … from",
            "UPDATE" if rest.iter().take(4).any(|w| *w == "SET") => "update … set",
            _ => continue,
        };
        return Some(statement);
    }
    None
}

// ---- Rule 3: `is_admin` only in policy.rs (a ratchet) ----

fn check_admin_decisions(root: &Path, allowed: &[&str]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut still_used = BTreeSet::new();
    for (path, text) in rust_files(root) {
        let parts: Vec<&str> = path.split('/').collect();
        let integration_test = parts.len() > 3 && parts[0] == "crates" && parts[2] == "tests";
        if path.starts_with("crates/gantry-db/") || path == POLICY || integration_test || !text.contains("is_admin") {
            continue;
        }
        let code = lex(&text).code;
        let Some(number) = code.lines().position(|line| idents(line).any(|word| word == "is_admin")) else { continue };
        if allowed.contains(&path.as_str()) {
            still_used.insert(path);
        } else {
            problems.push(format!(
                "{path}:{}: uses `is_admin` outside {POLICY}: ask policy.rs for the decision (add the rule there \
                 if it has none); do not add the file to ADMIN_DECISIONS_TODAY in crates/gantry/tests/tidy.rs",
                number + 1
            ));
        }
    }
    for listed in allowed.iter().filter(|listed| !still_used.contains(**listed)) {
        problems.push(format!(
            "{listed}: no longer uses `is_admin` (or is gone): remove it from ADMIN_DECISIONS_TODAY in \
             crates/gantry/tests/tidy.rs, so the list only shrinks"
        ));
    }
    problems
}

// ---- Rule 4: a current README per crate ----

fn check_readmes(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for dir in crate_dirs(root) {
        let name = dir.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let Ok(readme) = fs::read_to_string(dir.join("README.md")) else {
            problems.push(format!(
                "crates/{name}: no README.md: write one saying what the crate is for, its modules and its \
                 invariants (what it must not do)"
            ));
            continue;
        };
        let spans: Vec<&str> = readme.split('`').skip(1).step_by(2).collect();
        for (module, file) in top_level_modules(&dir.join("src")) {
            let named = spans.iter().any(|span| {
                span.strip_prefix(module.as_str())
                    .is_some_and(|rest| rest.is_empty() || [".rs", "/", "::"].iter().any(|s| rest.starts_with(s)))
            });
            if !named {
                problems.push(format!(
                    "crates/{name}/README.md: does not name the module `{module}` (src/{file}): say what it holds, \
                     naming it as `{module}`"
                ));
            }
        }
    }
    problems
}

/// The crate's top-level modules by name, each with the file or directory that holds it.
fn top_level_modules(src: &Path) -> BTreeMap<String, String> {
    let mut modules = BTreeMap::new();
    for entry in fs::read_dir(src).into_iter().flatten().flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_dir() && file != "bin" {
            modules.insert(file.clone(), format!("{file}/"));
        } else if let Some(module) = file.strip_suffix(".rs").filter(|m| !["lib", "main"].contains(m)) {
            modules.insert(module.to_owned(), file.clone());
        }
    }
    modules
}

// ---- Rule 5: long files say why ----

fn check_long_files(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for (path, text) in rust_files(root) {
        let lines = text.lines().count();
        let says_why = text.lines().any(|line| {
            line.trim_start().strip_prefix(LONG_MARKER).is_some_and(|why| why.split_whitespace().count() >= 3)
        });
        if lines > MAX_LINES && !says_why {
            problems.push(format!(
                "{path}: {lines} lines (over {MAX_LINES}): split it where it falls apart, or, if being long is \
                 right, say why in its module doc on a line starting `{LONG_MARKER} …`"
            ));
        }
    }
    problems
}

// ---- Reading the tree ----

/// Every `.rs` file under `root` (no hidden or `target` directories): its path relative to
/// `root` with `/`, and its text; sorted by path.
fn rust_files(root: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).into_iter().flatten().flatten() {
            let (path, name) = (entry.path(), entry.file_name().to_string_lossy().into_owned());
            if name.starts_with('.') || name == "target" {
                continue;
            }
            if path.is_dir() {
                dirs.push(path);
            } else if name.ends_with(".rs") {
                let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                let relative = path.strip_prefix(root).unwrap_or(&path);
                let parts: Vec<_> = relative.components().map(|c| c.as_os_str().to_string_lossy()).collect();
                files.push((parts.join("/"), text));
            }
        }
    }
    files.sort();
    files
}

fn idents(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_')).filter(|word| !word.is_empty())
}

/// A Rust file taken apart just enough for these rules.
struct Lexed {
    /// The code with comments and string and char literals blanked, their newlines kept.
    code: String,
    /// Each string literal as written (escapes not undone), with the line it starts on.
    strings: Vec<(usize, String)>,
}

fn lex(source: &str) -> Lexed {
    // Bytes: every mark that matters is ASCII; a multi-byte character never straddles an edge.
    let bytes = source.as_bytes();
    let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
    let find = |from: usize, byte: u8| bytes.get(from..).and_then(|rest| rest.iter().position(|&b| b == byte));
    let (mut code, mut strings) = (Vec::with_capacity(bytes.len()), Vec::new());
    let (mut i, mut line) = (0, 1);
    while i < bytes.len() {
        let start = i;
        let after_ident = i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        if at(i) == b'/' && at(i + 1) == b'/' {
            i = find(i, b'\n').map_or(bytes.len(), |n| i + n);
        } else if at(i) == b'/' && at(i + 1) == b'*' {
            let mut depth = 0;
            while i < bytes.len() {
                match (at(i), at(i + 1)) {
                    (b'/', b'*') => (depth, i) = (depth + 1, i + 2),
                    (b'*', b'/') => (depth, i) = (depth - 1, i + 2),
                    _ => i += 1,
                }
                if depth == 0 {
                    break;
                }
            }
        } else if let Some((open, hashes)) = raw_string_start(bytes, i).filter(|_| !after_ident) {
            let closing: Vec<u8> = std::iter::once(b'"').chain(std::iter::repeat_n(b'#', hashes)).collect();
            let end = (open..bytes.len()).find(|&j| bytes[j..].starts_with(&closing)).unwrap_or(bytes.len());
            strings.push((line, String::from_utf8_lossy(&bytes[open..end]).into_owned()));
            i = end + closing.len();
        } else if at(i) == b'"' {
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            strings.push((line, String::from_utf8_lossy(&bytes[start + 1..i.min(bytes.len())]).into_owned()));
            i += 1;
        } else if at(i) == b'\'' && at(i + 1) == b'\\' {
            // After the quote, the backslash and the escaped character, the closing quote.
            i = find(i + 3, b'\'').map_or(bytes.len(), |n| i + 3 + n + 1);
        } else if at(i) == b'\''
            // A char literal (`'x'`, `'é'`) has its closing quote one character on; a lifetime not.
            && let Some(width) = (1..=4).find(|w| at(i + 1 + w) == b'\'' && (*w == 1 || at(i + 1) >= 0x80))
        {
            i += width + 2;
        } else {
            // Code, and a lifetime's quote.
            code.push(bytes[i]);
            line += usize::from(bytes[i] == b'\n');
            i += 1;
            continue;
        }
        for &b in &bytes[start..i.min(bytes.len())] {
            code.push(if b == b'\n' { b'\n' } else { b' ' });
            line += usize::from(b == b'\n');
        }
    }
    Lexed { code: String::from_utf8_lossy(&code).into_owned(), strings }
}

/// At `r"`, `r#"`, `br"` or `cr"`: where the text starts and how many `#` close it.
fn raw_string_start(bytes: &[u8], i: usize) -> Option<(usize, usize)> {
    let r = if matches!(bytes.get(i), Some(b'b' | b'c')) { i + 1 } else { i };
    if bytes.get(r) != Some(&b'r') {
        return None;
    }
    let hashes = bytes[r + 1..].iter().take_while(|b| **b == b'#').count();
    (bytes.get(r + 1 + hashes) == Some(&b'"')).then_some((r + 2 + hashes, hashes))
}

// ---- The test of the test: each rule on a fixture tree that breaks it ----

/// A clean tree: two crates, a graph, READMEs, SQL and `is_admin` where they belong. The SQL is
/// split across literals so that this file passes its own rule.
const CLEAN: &[(&str, &str)] = &[
    ("ARCHITECTURE.md", "# Architecture\n\n```crate-graph\ngantry-core -> gantry-db\ngantry-db   -> (none)\n```\n"),
    (
        "crates/gantry-core/Cargo.toml",
        "[package]\nname = \"gantry-core\"\n[dependencies]\ngantry-db.path = \"x\"\nserde = \"1\"\n",
    ),
    ("crates/gantry-core/README.md", "# gantry-core\n\n`policy` decides; `ci/` runs pipelines.\n"),
    ("crates/gantry-core/src/lib.rs", "//! Core.\npub mod ci;\npub mod policy;\n"),
    ("crates/gantry-core/src/ci/mod.rs", "//! CI.\n// A comment may say is_admin or sqlx::query.\n"),
    ("crates/gantry-core/src/policy.rs", "//! Policy.\npub fn allowed(user: &User) -> bool { user.is_admin }\n"),
    ("crates/gantry-core/tests/it.rs", "#[test]\nfn admin() { let is_admin = true; assert!(is_admin) }\n"),
    ("crates/gantry-db/Cargo.toml", "[package]\nname = \"gantry-db\"\n[dev-dependencies]\ngantry-core.path = \"x\"\n"),
    ("crates/gantry-db/README.md", "# gantry-db\n\n`users.rs` holds users, `pool` the pool.\n"),
    ("crates/gantry-db/src/lib.rs", "//! Db.\npub mod pool;\npub mod users;\n"),
    ("crates/gantry-db/src/pool.rs", "//! Pool.\n"),
    (
        "crates/gantry-db/src/users.rs",
        concat!("pub struct UserRow { pub is_admin: bool }\nconst Q: &str = \"SEL", "ECT id FROM users\";\n"),
    ),
];

/// The clean tree with `changes` applied: a file replaced or added, or removed when its text
/// is empty.
fn fixture(changes: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut files: BTreeMap<&str, &str> = CLEAN.iter().copied().collect();
    files.extend(changes.iter().copied());
    for (path, text) in files.into_iter().filter(|(_, text)| !text.is_empty()) {
        let path = dir.path().join(path);
        fs::create_dir_all(path.parent().expect("a parent")).expect("a directory");
        fs::write(path, text).expect("a fixture file");
    }
    dir
}

/// Asserts that exactly one problem is reported, and that it says each of `words`.
fn assert_one_problem(problems: Vec<String>, words: &[&str]) {
    assert_eq!(problems.len(), 1, "{problems:#?}");
    for word in words {
        assert!(problems[0].contains(word), "`{word}` not in {problems:?}");
    }
}

#[test]
fn a_clean_fixture_passes_every_rule() {
    let (tree, rules) = (fixture(&[]), [check_crate_graph, check_sql, check_readmes, check_long_files]);
    let problems: Vec<String> = rules.iter().flat_map(|rule| rule(tree.path())).collect();
    assert_eq!((problems, check_admin_decisions(tree.path(), &[])), (vec![], vec![]));
}

#[test]
fn the_graph_rule_reports_a_new_edge_a_missing_edge_and_an_unplaced_crate() {
    let manifest =
        "[package]\nname = \"gantry-db\"\n\n[dependencies]\ncore = { package = \"gantry-core\", path = \"x\" }\n";
    let new_edge = fixture(&[("crates/gantry-db/Cargo.toml", manifest)]);
    assert_one_problem(check_crate_graph(new_edge.path()), &["crates/gantry-db/Cargo.toml", "`gantry-core`"]);

    let missing = fixture(&[("crates/gantry-core/Cargo.toml", "[package]\nname = \"gantry-core\"\n")]);
    assert_one_problem(check_crate_graph(missing.path()), &["ARCHITECTURE.md", "`gantry-core -> gantry-db`"]);

    let unplaced = fixture(&[("crates/gantry-blob/Cargo.toml", "[package]\nname = \"gantry-blob\"\n")]);
    assert_one_problem(check_crate_graph(unplaced.path()), &["ARCHITECTURE.md", "`gantry-blob`", "add"]);

    let no_block = fixture(&[("ARCHITECTURE.md", "# Architecture\n")]);
    assert_one_problem(check_crate_graph(no_block.path()), &["ARCHITECTURE.md", "crate-graph"]);
}

#[test]
fn the_sql_rule_reports_queries_and_statements_outside_gantry_db() {
    let call = fixture(&[("crates/gantry-core/src/ci/mod.rs", "fn f() { sqlx::query(Q); }\n")]);
    assert_one_problem(check_sql(call.path()), &["crates/gantry-core/src/ci/mod.rs:1", "sqlx::query", "gantry-db"]);

    let typed = fixture(&[("crates/gantry-core/tests/it.rs", "fn f() {\n    query_as::<_, Row>(Q);\n}\n")]);
    assert_one_problem(check_sql(typed.path()), &["crates/gantry-core/tests/it.rs:2", "query_as"]);

    for statement in [
        concat!("INSERT", " INTO users (id) VALUES ($1)"),
        concat!("UPDATE", " jobs\n SET status = $1"),
        concat!("DELETE", " FROM sessions"),
        concat!("CREATE", " TABLE t (id INTEGER)"),
        concat!("SEL", "ECT COUNT(*)\n FROM jobs"),
    ] {
        let text = format!("//! Raw.\nconst Q: &str = r#\"{statement}\"#;\n");
        let tree = fixture(&[("crates/gantry-core/src/ci/mod.rs", &text)]);
        assert_one_problem(check_sql(tree.path()), &["crates/gantry-core/src/ci/mod.rs:2", "crates/gantry-db"]);
    }

    let prose = "const M: &str = \"Select a branch from the list, then update its settings\";\n";
    assert_eq!(check_sql(fixture(&[("crates/gantry-core/src/ci/mod.rs", prose)]).path()), Vec::<String>::new());
}

#[test]
fn the_admin_rule_is_a_ratchet() {
    let decision = "//! Runners.\nfn f(actor: &Actor) -> bool {\n    actor.is_admin()\n}\n";
    let new_file = fixture(&[("crates/gantry-core/src/ci/mod.rs", decision)]);
    assert_one_problem(
        check_admin_decisions(new_file.path(), &[]),
        &["crates/gantry-core/src/ci/mod.rs:3", "policy.rs", "ADMIN_DECISIONS_TODAY"],
    );
    assert_eq!(check_admin_decisions(new_file.path(), &["crates/gantry-core/src/ci/mod.rs"]), Vec::<String>::new());

    let clean = fixture(&[]);
    assert_one_problem(
        check_admin_decisions(clean.path(), &["crates/gantry-core/src/ci/mod.rs"]),
        &["crates/gantry-core/src/ci/mod.rs", "remove it from ADMIN_DECISIONS_TODAY"],
    );
}

#[test]
fn the_readme_rule_reports_a_missing_readme_and_an_unnamed_module() {
    let missing = fixture(&[("crates/gantry-db/README.md", "")]);
    assert_one_problem(check_readmes(missing.path()), &["crates/gantry-db", "no README.md"]);

    let stale = fixture(&[("crates/gantry-db/README.md", "# gantry-db\n\n`users` holds the users (and a pool).\n")]);
    assert_one_problem(check_readmes(stale.path()), &["crates/gantry-db/README.md", "`pool`", "src/pool.rs"]);

    let new_dir = fixture(&[("crates/gantry-core/src/code/mod.rs", "//! Code.\n")]);
    assert_one_problem(check_readmes(new_dir.path()), &["crates/gantry-core/README.md", "`code`", "src/code/"]);
}

#[test]
fn the_long_file_rule_wants_a_reason() {
    let long = "fn f() {}\n".repeat(MAX_LINES + 1);
    let tree = fixture(&[("crates/gantry-core/src/ci/mod.rs", &long)]);
    assert_one_problem(check_long_files(tree.path()), &["crates/gantry-core/src/ci/mod.rs", "601 lines", LONG_MARKER]);

    let reasoned = format!("{LONG_MARKER} it is the one table of every route.");
    for (doc, found) in [(LONG_MARKER, 1), (reasoned.as_str(), 0)] {
        let tree = fixture(&[("crates/gantry-core/src/ci/mod.rs", &format!("{doc}\n{long}"))]);
        assert_eq!(check_long_files(tree.path()).len(), found, "a reason is needed, and enough: {doc}");
    }
}

#[test]
fn lexing_separates_code_comments_and_literals() {
    let source = "let c = '\"'; // \"not a string\"\nlet s = r#\"a \"quoted\" word\"#; /* x /* y */ \"no\" */\n\
                  let t = \"esc\\\"aped\\\\\"; fn f<'a>(x: &'a str) -> char { '\\'' }\nlet b = (br\"raw\", 'é', '\"');\n";
    let lexed = lex(source);
    let strings: Vec<(usize, &str)> = lexed.strings.iter().map(|(line, s)| (*line, s.as_str())).collect();
    assert_eq!(strings, [(2, "a \"quoted\" word"), (3, "esc\\\"aped\\\\"), (4, "raw")]);
    assert_eq!(lexed.code.lines().count(), 4);
    assert!(lexed.code.contains("fn f<'a>(x: &'a str)"), "{}", lexed.code);
    assert!(!lexed.code.contains("not") && !lexed.code.contains("no\""), "{}", lexed.code);
}
