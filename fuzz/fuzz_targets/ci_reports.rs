//! Arbitrary bytes as a job's report files: a JUnit XML document and a dotenv file, both read
//! from what a job uploads (untrusted). Nothing may panic, hang or grow past the parsers' caps.

#![no_main]

use gantry_ci::reports::{dotenv, junit};
use gantry_fuzz::report_stack_overflows;
use libfuzzer_sys::fuzz_target;

fuzz_target!(init: report_stack_overflows(), |data: &[u8]| {
    if let Ok(suites) = junit::parse(data) {
        let cases: usize = suites.iter().map(|suite| suite.cases.len()).sum();
        assert!(cases <= junit::MAX_CASES, "{cases} cases");
        for case in suites.iter().flat_map(|suite| &suite.cases) {
            for text in [&case.system_output, &case.stack_trace].into_iter().flatten() {
                assert!(text.len() <= junit::MAX_TEXT + 16, "a text of {} bytes", text.len());
            }
        }
    }
    if let Ok(variables) = dotenv::parse(data) {
        assert!(variables.len() <= dotenv::MAX_VARIABLES);
        for (key, value) in &variables {
            assert!(!key.is_empty() && !value.contains('\n'), "{key:?}={value:?}");
        }
    }
});
