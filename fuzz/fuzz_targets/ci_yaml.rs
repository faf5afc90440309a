//! Arbitrary bytes as a `.gitlab-ci.yml`: checked with `gantry_ci::load` and `load_for` a
//! pipeline (includes come from a few fixed in-memory files, some with `spec:inputs`, a
//! component, a template and a remote file) and, when it loads, planned for a branch push, a tag and a push
//! with known changed paths. Nothing may panic, overflow the stack or hang; an error must say
//! what is wrong.

#![no_main]

use gantry_ci::{Diagnostics, Facts};
use gantry_fuzz::{FixedFiles, report_stack_overflows};
use libfuzzer_sys::fuzz_target;

fn variables(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn assert_explained(diagnostics: &Diagnostics, what: &str) {
    assert!(!diagnostics.is_empty(), "{what} failed without saying why");
    for diagnostic in &diagnostics.0 {
        assert!(!diagnostic.message.is_empty(), "{what}: an empty message at {}", diagnostic.at);
    }
}

fuzz_target!(init: report_stack_overflows(), |data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else { return };
    let config = match gantry_ci::load(&FixedFiles, ".gitlab-ci.yml", source) {
        Ok(config) => config,
        Err(diagnostics) => return assert_explained(&diagnostics, "load"),
    };

    // Loaded for a pipeline too: `include:rules`, wildcards, variables in locations and
    // `expand_vars` see its variables and files.
    let known = variables(&[
        ("CI_COMMIT_BRANCH", "main"),
        ("CI_PROJECT_PATH", "acme/api"),
        ("DIR", "ci"),
        ("DEPLOY_TOKEN", "s3cr3t-t0ken"),
    ]);
    let masked = strings(&["DEPLOY_TOKEN"]);
    let listed = strings(&["ci/jobs/a.yml", "ci/jobs/b.yml", "ci/inputs.yml", "Dockerfile"]);
    let changed_paths = strings(&["src/lib.rs"]);
    let pipeline = Facts { variables: &known, changed_paths: Some(&changed_paths), files: &listed };
    if let Err(diagnostics) = gantry_ci::load_for(&FixedFiles, ".gitlab-ci.yml", source, &pipeline, &masked) {
        assert_explained(&diagnostics, "load for a pipeline");
    }

    let files = strings(&["Cargo.toml", "src/lib.rs", "src/main.rs", "docs/index.md", "app/x.py"]);
    let branch = variables(&[
        ("CI_COMMIT_BRANCH", "main"),
        ("CI_COMMIT_REF_NAME", "main"),
        ("CI_DEFAULT_BRANCH", "main"),
        ("CI_PIPELINE_SOURCE", "push"),
        ("CI_PROJECT_PATH", "acme/api"),
        ("CI_COMMIT_MESSAGE", "Release: deploy now"),
        ("PATTERN", "/^rel/i"),
        ("BAD_PATTERN", "/(/"),
        ("EMPTY", ""),
        ("DEPLOY", "true"),
    ]);
    let tag = variables(&[
        ("CI_COMMIT_TAG", "v1.2.3"),
        ("CI_COMMIT_REF_NAME", "v1.2.3"),
        ("CI_DEFAULT_BRANCH", "main"),
        ("CI_PIPELINE_SOURCE", "push"),
        ("CI_PROJECT_PATH", "acme/api"),
    ]);
    let feature = variables(&[
        ("CI_COMMIT_BRANCH", "feature/x"),
        ("CI_COMMIT_REF_NAME", "feature/x"),
        ("CI_DEFAULT_BRANCH", "main"),
        ("CI_PIPELINE_SOURCE", "merge_request_event"),
        ("CI_MERGE_REQUEST_ID", "7"),
    ]);
    let changed = strings(&["src/lib.rs", "docs/index.md", "deep/a/b/c.txt"]);
    let empty: Vec<String> = Vec::new();
    for facts in [
        Facts { variables: &branch, changed_paths: None, files: &files },
        Facts { variables: &tag, changed_paths: None, files: &empty },
        Facts { variables: &feature, changed_paths: Some(&changed), files: &files },
    ] {
        if let Err(diagnostics) = gantry_ci::plan(&config, &facts) {
            assert_explained(&diagnostics, "plan");
        }
    }
});
