//! The languages of a repository (GitLab's `/projects/:id/languages` and the project page's
//! language bar), computed roughly as GitHub's Linguist does, which GitLab uses through Gitaly:
//! the bytes of each file of the default branch count for its language, known by the file's
//! name or extension (a few ambiguous extensions look at the content, an extensionless script
//! at its `#!` line). Not counted, as in Linguist: binary files, dotfiles, vendored code
//! (`vendor/`, `node_modules/`, minified files, build-tool wrappers), generated code,
//! documentation (`docs/`, `README`, `LICENSE`…), and every language that is neither
//! programming nor markup (data such as JSON, YAML, SQL; prose such as Markdown): those are
//! simply not in the table. `.gitattributes` overrides (`linguist-vendored` and the like) are
//! not read. The code browser's highlighting (syntect, in `gantry-web`) knows no language
//! kinds, so this keeps its own table.
//!
//! Long because it is that table (one line a language) and the rules Linguist applies.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use gantry_git::GitError;
use gantry_git::read::{Reader, looks_binary};
use regex::RegexSet;

use crate::{Actor, CoreResult, ProjectRow};

/// The most tree entries one computation visits (Linguist's own bound on a tree). A larger
/// tree is measured by the files among its first entries, depth first: the shares are then an
/// estimate, which is better than a page or API call that never ends.
const MAX_ENTRIES: usize = 100_000;
/// Files larger than this are counted by name alone, their content unread.
const MAX_INSPECTED_FILE: u64 = 512 << 10;
/// The most content read in one computation; past it, files are counted by name alone.
const MAX_INSPECTED_TOTAL: u64 = 64 << 20;
/// As GitLab, the API and the bar show this many languages at most.
const MAX_LANGUAGES: usize = 5;
/// Computations remembered, by commit (a commit's tree never changes).
const CACHE_CAPACITY: usize = 1024;

/// One language of a repository.
#[derive(Debug, Clone, PartialEq)]
pub struct LanguageShare {
    /// Linguist's name (`Rust`, `C++`, `Shell`).
    pub name: &'static str,
    /// Linguist's colour for it (`#dea584`).
    pub color: &'static str,
    /// Percent of the counted bytes, rounded to two decimals.
    pub share: f64,
}

/// A language Linguist counts: programming or markup.
struct Language {
    name: &'static str,
    color: &'static str,
    /// Lowercase, without the dot.
    extensions: &'static [&'static str],
    /// Whole file names.
    filenames: &'static [&'static str],
}

const fn language(
    name: &'static str,
    color: &'static str,
    extensions: &'static [&'static str],
    filenames: &'static [&'static str],
) -> Language {
    Language { name, color, extensions, filenames }
}

#[rustfmt::skip]
static LANGUAGES: &[Language] = &[
    language("Ada", "#02f88c", &["adb", "ads"], &[]),
    language("Assembly", "#6E4C13", &["asm", "nasm"], &[]),
    language("Astro", "#ff5a03", &["astro"], &[]),
    language("Awk", "#c30e9b", &["awk"], &[]),
    language("Batchfile", "#C1F12E", &["bat", "cmd"], &[]),
    language("Bicep", "#519aba", &["bicep"], &[]),
    language("C", "#555555", &["c", "h"], &[]),
    language("C#", "#178600", &["cs", "csx"], &[]),
    language("C++", "#f34b7d", &["cpp", "cc", "cxx", "c++", "hpp", "hh", "hxx", "h++", "ino", "ipp", "tpp"], &[]),
    language("CMake", "#DA3434", &["cmake"], &["CMakeLists.txt"]),
    language("COBOL", "#8a8a8a", &["cob", "cbl", "cpy"], &[]),
    language("CSS", "#563d7c", &["css"], &[]),
    language("Clojure", "#db5855", &["clj", "cljs", "cljc", "cljx"], &[]),
    language("CoffeeScript", "#244776", &["coffee"], &["Cakefile"]),
    language("Common Lisp", "#3fb68b", &["lisp", "lsp", "cl", "asd"], &[]),
    language("Crystal", "#000100", &["cr"], &[]),
    language("Cuda", "#3A4E3A", &["cu", "cuh"], &[]),
    language("Cython", "#fedf5b", &["pyx", "pxd", "pxi"], &[]),
    language("Dart", "#00B4AB", &["dart"], &[]),
    language("Dockerfile", "#384d54", &["dockerfile", "containerfile"], &["Dockerfile", "Containerfile"]),
    language("Elixir", "#6e4a7e", &["ex", "exs"], &[]),
    language("Elm", "#60B5CC", &["elm"], &[]),
    language("Emacs Lisp", "#c065db", &["el"], &[]),
    language("Erlang", "#B83998", &["erl", "hrl"], &["rebar.config"]),
    language("F#", "#b845fc", &["fs", "fsi", "fsx"], &[]),
    language("Fortran", "#4d41b1", &["f", "f77", "for", "f90", "f95", "f03", "f08"], &[]),
    language("GDScript", "#355570", &["gd"], &[]),
    language("GLSL", "#5686a5", &["glsl", "vert", "frag", "geom", "comp"], &[]),
    language("Gleam", "#ffaff3", &["gleam"], &[]),
    language("Go", "#00ADD8", &["go"], &[]),
    language("Groovy", "#4298b8", &["groovy", "gvy"], &["Jenkinsfile"]),
    language("HCL", "#844FBA", &["hcl", "tf", "tfvars", "nomad"], &[]),
    language("HLSL", "#aace60", &["hlsl", "fx", "fxh"], &[]),
    language("HTML", "#e34c26", &["html", "htm", "xhtml"], &[]),
    language("HTML+ERB", "#701516", &["erb"], &[]),
    language("Haml", "#ece2a9", &["haml"], &[]),
    language("Handlebars", "#f7931e", &["hbs", "handlebars"], &[]),
    language("Haskell", "#5e5086", &["hs", "lhs", "hsc"], &[]),
    language("Haxe", "#df7900", &["hx", "hxsl"], &[]),
    language("Java", "#b07219", &["java"], &[]),
    language("JavaScript", "#f1e05a", &["js", "mjs", "cjs", "jsx"], &["Jakefile"]),
    language("Jsonnet", "#0064bd", &["jsonnet", "libsonnet"], &[]),
    language("Julia", "#a270ba", &["jl"], &[]),
    language("Jupyter Notebook", "#DA5B0B", &["ipynb"], &[]),
    language("Kotlin", "#A97BFF", &["kt", "kts"], &[]),
    language("Less", "#1d365d", &["less"], &[]),
    language("Lua", "#000080", &["lua"], &[]),
    language("MATLAB", "#e16737", &[], &[]),
    language("Makefile", "#427819", &["mk", "mak", "make"], &["Makefile", "makefile", "GNUmakefile", "BSDmakefile"]),
    language("Meson", "#007800", &[], &["meson.build", "meson_options.txt"]),
    language("Mustache", "#724b3b", &["mustache"], &[]),
    language("Nim", "#ffc200", &["nim", "nims", "nimble"], &[]),
    language("Nix", "#7e7eff", &["nix"], &[]),
    language("OCaml", "#ef7a08", &["ml", "mli", "mll", "mly"], &[]),
    language("Objective-C", "#438eff", &["m"], &[]),
    language("Objective-C++", "#6866fb", &["mm"], &[]),
    language("PHP", "#4F5D95", &["php", "phtml", "php3", "php4", "php5", "phps"], &[]),
    language("Pascal", "#E3F171", &["pas", "pp", "dpr", "lpr"], &[]),
    language("Perl", "#0298c3", &["pl", "pm", "perl", "psgi"], &[]),
    language("PowerShell", "#012456", &["ps1", "psm1", "psd1"], &[]),
    language("Prolog", "#74283c", &["pro", "prolog"], &[]),
    language("Pug", "#a86454", &["pug", "jade"], &[]),
    language("PureScript", "#1D222D", &["purs"], &[]),
    language("Python", "#3572A5", &["py", "pyi", "pyw", "gyp"], &["SConstruct", "SConscript", "wscript"]),
    language("QML", "#44a51c", &["qml", "qbs"], &[]),
    language("R", "#198CE7", &["r", "rd", "rsx"], &[]),
    language("Racket", "#3c5caa", &["rkt", "rktl"], &[]),
    language("Raku", "#0000fb", &["raku", "rakumod", "p6", "pm6"], &[]),
    language("Ruby", "#701516", &["rb", "rake", "gemspec", "ru", "builder", "jbuilder", "podspec"],
        &["Gemfile", "Rakefile", "Vagrantfile", "Guardfile", "Podfile", "Fastfile", "Brewfile"]),
    language("Rust", "#dea584", &["rs"], &[]),
    language("SCSS", "#c6538c", &["scss"], &[]),
    language("Sass", "#a53b70", &["sass"], &[]),
    language("Scala", "#c22d40", &["scala", "sc", "sbt"], &[]),
    language("Scheme", "#1e4aec", &["scm", "ss", "sls", "sld"], &[]),
    language("Shell", "#89e051", &["sh", "bash", "zsh", "ksh", "command", "bats"], &["PKGBUILD", "APKBUILD"]),
    language("Slim", "#2b2b2b", &["slim"], &[]),
    language("Solidity", "#AA6746", &["sol"], &[]),
    language("Starlark", "#76d275", &["bzl", "star"], &["BUILD", "BUILD.bazel", "WORKSPACE", "WORKSPACE.bazel", "Tiltfile"]),
    language("Stylus", "#ff6347", &["styl"], &[]),
    language("Svelte", "#ff3e00", &["svelte"], &[]),
    language("Swift", "#F05138", &["swift"], &[]),
    language("SystemVerilog", "#DAE1C2", &["sv", "svh"], &[]),
    language("TSX", "#3178c6", &["tsx"], &[]),
    language("Tcl", "#e4cc98", &["tcl", "tm"], &[]),
    language("TeX", "#3D6117", &["tex", "sty", "cls", "dtx", "ltx"], &[]),
    language("Twig", "#c1d026", &["twig"], &[]),
    language("TypeScript", "#3178c6", &["ts", "cts", "mts"], &[]),
    language("Unix Assembly", "#6E4C13", &["s"], &[]),
    language("VHDL", "#adb2cb", &["vhd", "vhdl"], &[]),
    language("Vala", "#a56de2", &["vala", "vapi"], &[]),
    language("Vim Script", "#199f4b", &["vim", "vba", "vimrc"], &["_vimrc", "vimrc", "gvimrc"]),
    language("Visual Basic .NET", "#945db7", &["vb", "vbs"], &[]),
    language("Vue", "#41b883", &["vue"], &[]),
    language("XSLT", "#EB8CEB", &["xsl", "xslt"], &[]),
    language("Zig", "#ec915c", &["zig", "zon"], &[]),
    language("fish", "#4aae47", &["fish"], &[]),
];

/// Indexes of the table by extension and by file name.
struct Index {
    by_extension: HashMap<&'static str, &'static Language>,
    by_filename: HashMap<&'static str, &'static Language>,
    by_name: HashMap<&'static str, &'static Language>,
}

static INDEX: LazyLock<Index> = LazyLock::new(|| {
    let mut index = Index { by_extension: HashMap::new(), by_filename: HashMap::new(), by_name: HashMap::new() };
    for language in LANGUAGES {
        index.by_name.insert(language.name, language);
        for extension in language.extensions {
            index.by_extension.insert(extension, language);
        }
        for filename in language.filenames {
            index.by_filename.insert(filename, language);
        }
    }
    index
});

/// Paths Linguist treats as vendored (third-party code, dependencies, build-tool wrappers,
/// minified and bundled libraries).
static VENDORED: LazyLock<RegexSet> = LazyLock::new(|| {
    RegexSet::new([
        r"(^|/)[Vv]+endors?/",
        r"(^|/)node_modules/",
        r"(^|/)bower_components/",
        r"(^|/)jspm_packages/",
        r"(^|/)[Tt]hird[-_]?[Pp]arty/",
        r"(^|/)3rd[-_]?[Pp]arty/",
        r"(^|/)extern(al)?/",
        r"(^|/)cache/",
        r"(^|/)dist/",
        r"^deps/",
        r"^[Dd]ependencies/",
        r"(^|/)Godeps/",
        r"(^|/)Pods/",
        r"(^|/)Carthage/Build/",
        r"(^|/)\.?venv/",
        r"(^|/)site-packages/",
        r"(^|/)\.yarn/",
        r"(^|/)[^/]*[.-]min\.(js|css)$",
        r"(^|/)jquery[^/]*\.js$",
        r"(^|/)bootstrap[^/]*\.(js|css|less|scss|styl)$",
        r"(^|/)(gradlew|gradlew\.bat|mvnw|mvnw\.cmd)$",
        r"(^|/)(configure|config\.guess|config\.sub|install-sh|ltmain\.sh|depcomp|missing|compile)$",
        r"(^|/)(aclocal|libtool|ltoptions|ltsugar|ltversion|lt~obsolete)\.m4$",
    ])
    .expect("the vendored patterns are valid")
});

/// Paths Linguist treats as documentation.
static DOCUMENTATION: LazyLock<RegexSet> = LazyLock::new(|| {
    RegexSet::new([
        r"^[Dd]ocs?/",
        r"(^|/)[Dd]ocumentation/",
        r"(^|/)[Jj]avadoc/",
        r"(^|/)[Gg]roovydoc/",
        r"^[Mm]an/",
        r"^[Ee]xamples?/",
        r"^[Dd]emos?/",
        r"^[Ss]amples?/",
        r"(^|/)inst/doc/",
        r"(^|/)(CHANGE(S|LOG)?|[Cc]hange[Ll]og|CONTRIBUTING|COPYING|INSTALL|LICEN[CS]E|[Ll]icen[cs]e|README|[Rr]eadme|CITATION)(\.[^/]*)?$",
    ])
    .expect("the documentation patterns are valid")
});

/// Paths of files generators write (their own kinds of name).
static GENERATED: LazyLock<RegexSet> = LazyLock::new(|| {
    RegexSet::new([
        r"\.pb\.(go|cc|h|swift)$",
        r"_pb2(_grpc)?\.py$",
        r"\.designer\.(cs|vb)$",
        r"\.(g|freezed)\.dart$",
        r"(^|/)__generated__/",
        r"\.js\.map$",
    ])
    .expect("the generated patterns are valid")
});

/// Results by commit id (a commit's tree, and so its languages, never change).
static CACHE: LazyLock<Mutex<HashMap<String, Arc<Vec<LanguageShare>>>>> = LazyLock::new(Mutex::default);

impl super::Code<'_> {
    /// The languages of the project's default branch, largest share first (at most five, as
    /// GitLab shows); none for an empty repository. Readers of the code only.
    pub async fn repository_languages(&self, actor: &Actor, project: &ProjectRow) -> CoreResult<Vec<LanguageShare>> {
        let branch = format!("refs/heads/{}", project.default_branch);
        let shares = self
            .read_repository(actor, project, move |reader| {
                let Some(commit) = reader.resolve(&branch)? else { return Ok(Arc::new(Vec::new())) };
                languages_at(reader, &commit)
            })
            .await?;
        Ok(shares.as_ref().clone())
    }
}

/// The languages of a commit's tree, remembered by commit.
fn languages_at(reader: &Reader, commit: &str) -> Result<Arc<Vec<LanguageShare>>, GitError> {
    if let Some(known) = CACHE.lock().ok().and_then(|cache| cache.get(commit).cloned()) {
        return Ok(known);
    }
    let walk = reader.files(commit, MAX_ENTRIES)?;
    if !walk.complete {
        tracing::debug!(commit, entries = MAX_ENTRIES, "tree too large: languages measured from its first entries");
    }
    let mut bytes: HashMap<&'static str, u64> = HashMap::new();
    let mut inspected = 0u64;
    for file in &walk.files {
        if excluded_by_path(&file.path) {
            continue;
        }
        let by_name = language_by_name(&file.path);
        let has_extension = file.path.rsplit('/').next().is_some_and(|name| name.contains('.'));
        if by_name.is_none() && has_extension {
            // An extension that is not code (images, data, prose): nothing to read.
            continue;
        }
        // Content is read only where it decides something: an ambiguous extension or a
        // script's `#!` line, or whether a file named like code is binary, minified or generated.
        let budget = MAX_INSPECTED_FILE.min(MAX_INSPECTED_TOTAL.saturating_sub(inspected));
        let (size, content) = reader.blob_if_small(&file.id, budget)?;
        if let Some(content) = &content {
            inspected += size;
            if looks_binary(content) || generated(&file.path, content) {
                continue;
            }
        }
        let language = match (by_name, content.as_deref()) {
            (Some(language), Some(content)) => refine(language, content),
            (Some(language), None) => Some(language),
            (None, Some(content)) => language_by_shebang(content),
            (None, None) => None,
        };
        if let Some(language) = language {
            *bytes.entry(language.name).or_default() += size;
        }
    }
    let shares = Arc::new(shares_of(&bytes));
    if let Ok(mut cache) = CACHE.lock() {
        if cache.len() >= CACHE_CAPACITY {
            cache.clear();
        }
        cache.insert(commit.to_owned(), shares.clone());
    }
    Ok(shares)
}

/// Percent of the total for the largest languages, rounded as GitLab rounds (two decimals).
fn shares_of(bytes: &HashMap<&'static str, u64>) -> Vec<LanguageShare> {
    let total: u64 = bytes.values().sum();
    if total == 0 {
        return Vec::new();
    }
    let mut sorted: Vec<(&'static str, u64)> = bytes.iter().map(|(name, size)| (*name, *size)).collect();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    sorted
        .into_iter()
        .take(MAX_LANGUAGES)
        .map(|(name, size)| LanguageShare {
            name,
            color: INDEX.by_name.get(name).map_or("#cccccc", |language| language.color),
            share: (size as f64 * 10_000.0 / total as f64).round() / 100.0,
        })
        .filter(|share| share.share > 0.0)
        .collect()
}

/// Whether the path alone keeps a file out: a dotfile, vendored code, documentation, or a
/// generator's kind of name.
fn excluded_by_path(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.starts_with('.') || VENDORED.is_match(path) || DOCUMENTATION.is_match(path) || GENERATED.is_match(path)
}

/// The language a file's name or extension says.
fn language_by_name(path: &str) -> Option<&'static Language> {
    let name = path.rsplit('/').next().unwrap_or(path);
    if let Some(language) = INDEX.by_filename.get(name) {
        return Some(language);
    }
    let (_, extension) = name.rsplit_once('.')?;
    INDEX.by_extension.get(extension.to_ascii_lowercase().as_str()).copied()
}

fn named(name: &str) -> Option<&'static Language> {
    INDEX.by_name.get(name).copied()
}

/// Settles what an extension leaves open by looking at the content, as Linguist's heuristics
/// do for the common cases: a `.h` of C++ or Objective-C, a `.m` of MATLAB, a `.pl` of Prolog.
/// A Qt translation file (`.ts` holding XML) is no TypeScript, and counts for nothing.
fn refine(language: &'static Language, content: &[u8]) -> Option<&'static Language> {
    let text = String::from_utf8_lossy(&content[..content.len().min(64 << 10)]);
    match language.name {
        "C" if text.contains("@interface") || text.contains("@end") || text.contains("#import") => named("Objective-C"),
        "C" if ["class ", "namespace ", "template <", "template<", "std::", "public:", "private:"]
            .iter()
            .any(|marker| text.contains(marker)) =>
        {
            named("C++")
        }
        "Objective-C"
            if !(text.contains("@interface") || text.contains("@implementation") || text.contains("#import"))
                && text.lines().any(|line| line.trim_start().starts_with("function ") || line.starts_with('%')) =>
        {
            named("MATLAB")
        }
        "Perl" if text.lines().any(|line| line.starts_with(":-")) => named("Prolog"),
        "TypeScript" if text.trim_start().starts_with("<?xml") || text.contains("<TS") => None,
        _ => Some(language),
    }
}

/// The language of an extensionless script, from its `#!` line (`#!/usr/bin/env python3`).
fn language_by_shebang(content: &[u8]) -> Option<&'static Language> {
    let first_line = content.strip_prefix(b"#!")?.split(|b| *b == b'\n').next()?;
    let line = String::from_utf8_lossy(first_line);
    let mut words = line.split_whitespace();
    let mut program = words.next()?.rsplit('/').next()?;
    if program == "env" {
        program = words.find(|word| !word.starts_with('-'))?;
    }
    let program = program.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    let name = match program {
        "sh" | "bash" | "zsh" | "dash" | "ksh" | "ash" => "Shell",
        "python" | "pypy" => "Python",
        "ruby" => "Ruby",
        "perl" => "Perl",
        "node" | "nodejs" => "JavaScript",
        "deno" | "ts-node" => "TypeScript",
        "php" => "PHP",
        "lua" | "luajit" => "Lua",
        "Rscript" => "R",
        "tclsh" | "wish" => "Tcl",
        "awk" | "gawk" | "mawk" | "nawk" => "Awk",
        "fish" => "fish",
        "pwsh" => "PowerShell",
        "groovy" => "Groovy",
        "julia" => "Julia",
        "elixir" => "Elixir",
        "escript" => "Erlang",
        "make" => "Makefile",
        _ => return None,
    };
    named(name)
}

/// Whether a file named like code was written by a program: minified JavaScript or CSS (long
/// lines on average, as Linguist measures), or a file whose first lines say so.
fn generated(path: &str, content: &[u8]) -> bool {
    let head = &content[..content.len().min(1024)];
    let head = String::from_utf8_lossy(head);
    let says_so = head.lines().take(5).any(|line| {
        line.contains("DO NOT EDIT") || line.contains("@generated") || line.contains("Generated by the protocol buffer")
    });
    if says_so {
        return true;
    }
    let minifiable = [".js", ".mjs", ".cjs", ".css"].iter().any(|extension| path.ends_with(extension));
    if minifiable && !content.is_empty() {
        let lines = content.split(|b| *b == b'\n').filter(|line| !line.is_empty()).count().max(1);
        return content.len() / lines > 110;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name_of(path: &str, content: &str) -> Option<&'static str> {
        if excluded_by_path(path) || generated(path, content.as_bytes()) {
            return None;
        }
        match language_by_name(path) {
            Some(language) => refine(language, content.as_bytes()),
            None => language_by_shebang(content.as_bytes()),
        }
        .map(|language| language.name)
    }

    #[test]
    fn files_are_known_by_name_extension_and_shebang() {
        assert_eq!(name_of("src/main.rs", "fn main() {}"), Some("Rust"));
        assert_eq!(name_of("web/App.TSX", ""), Some("TSX"));
        assert_eq!(name_of("Dockerfile", "FROM alpine"), Some("Dockerfile"));
        assert_eq!(name_of("sub/Makefile", "all:"), Some("Makefile"));
        assert_eq!(name_of("bin/deploy", "#!/usr/bin/env python3\nprint()"), Some("Python"));
        assert_eq!(name_of("bin/run", "#!/bin/bash\necho"), Some("Shell"));
        assert_eq!(name_of("bin/data", "just text"), None);
        assert_eq!(name_of("lib/x.h", "int f(void);"), Some("C"));
        assert_eq!(name_of("lib/x.h", "namespace a { class B; }"), Some("C++"));
        assert_eq!(name_of("lib/x.m", "function y = f(x)\n  y = x;\nend"), Some("MATLAB"));
        assert_eq!(name_of("lib/x.m", "#import <Foundation/Foundation.h>"), Some("Objective-C"));
    }

    #[test]
    fn data_prose_vendored_documentation_and_generated_files_do_not_count() {
        for path in [
            "README.md",
            "config.yml",
            "package.json",
            "Cargo.lock",
            "schema.sql",
            "vendor/lib.go",
            "web/node_modules/x/index.js",
            "static/app.min.js",
            "docs/build.py",
            "LICENSE",
            "gradlew",
            ".eslintrc.js",
            "api/service.pb.go",
            "a/__generated__/types.ts",
        ] {
            assert_eq!(name_of(path, "x"), None, "{path}");
        }
        assert_eq!(name_of("gen.go", "// Code generated by stringer. DO NOT EDIT.\npackage a"), None);
        let minified = format!("{}\n", "var a=1;".repeat(40));
        assert_eq!(name_of("bundle.js", &minified), None);
        assert_eq!(name_of("app.js", "const a = 1;\nconsole.log(a);\n"), Some("JavaScript"));
    }

    #[test]
    fn shares_are_percent_of_the_counted_bytes_largest_first() {
        let bytes = HashMap::from([("Rust", 805), ("Shell", 195)]);
        let shares = shares_of(&bytes);
        assert_eq!(shares.iter().map(|s| (s.name, s.share)).collect::<Vec<_>>(), [("Rust", 80.5), ("Shell", 19.5)]);
        assert_eq!(shares[0].color, "#dea584");
        let many = HashMap::from([("C", 30), ("Go", 25), ("Lua", 20), ("Perl", 15), ("R", 7), ("Tcl", 3)]);
        let top: Vec<_> = shares_of(&many).into_iter().map(|s| (s.name, s.share)).collect();
        assert_eq!(top, [("C", 30.0), ("Go", 25.0), ("Lua", 20.0), ("Perl", 15.0), ("R", 7.0)], "five at most");
        assert!(shares_of(&HashMap::new()).is_empty());
        let third = shares_of(&HashMap::from([("C", 1), ("Go", 2)]));
        assert_eq!(third.iter().map(|s| s.share).collect::<Vec<_>>(), [66.67, 33.33]);
    }
}
