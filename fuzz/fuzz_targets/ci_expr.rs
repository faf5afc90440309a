//! Arbitrary text as a `rules:if` expression: parsed, printed, and evaluated against a few
//! fixed variable sets (one holds a pattern, one a pattern that does not compile). Nothing may
//! panic or hang.

#![no_main]

use gantry_ci::expr::Expression;
use gantry_fuzz::report_stack_overflows;
use libfuzzer_sys::fuzz_target;

const SETS: [&[(&str, &str)]; 3] = [
    &[("CI_COMMIT_BRANCH", "main"), ("CI_DEFAULT_BRANCH", "main"), ("PATTERN", "/^ma/i"), ("EMPTY", "")],
    &[("CI_COMMIT_TAG", "v1.0"), ("PATTERN", "/(/"), ("A", "/"), ("B", "//x")],
    &[],
];

fuzz_target!(init: report_stack_overflows(), |data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else { return };
    let expression = match Expression::parse(source) {
        Ok(expression) => expression,
        Err(error) => {
            assert!(error.column >= 1, "column 0 for {source:?}: {error}");
            return;
        }
    };
    let _ = expression.to_string();
    for set in SETS {
        let lookup = |name: &str| set.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned());
        let _ = expression.evaluate(&lookup);
    }
    // Every variable set to the input itself: patterns and strings read from variables.
    let _ = expression.evaluate(&|_| Some(source.to_owned()));
});
