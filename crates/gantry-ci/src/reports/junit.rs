//! JUnit XML test reports (`artifacts:reports:junit`) read into suites of test cases, the way
//! GitLab reads them. The document comes from a job and is untrusted: the number of cases, the
//! nesting depth and every kept text are bounded, and no entity is expanded beyond XML's five
//! predefined ones and character references (a DOCTYPE's entities stay as written, so nothing
//! is ever fetched or read).

use std::fmt;

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use serde::{Deserialize, Serialize};

/// The most test cases one document may hold.
pub const MAX_CASES: usize = 100_000;
/// The most bytes kept of one text (a name, a failure message, an output); the rest is cut.
pub const MAX_TEXT: usize = 64 * 1024;
/// The deepest nesting of elements accepted.
pub const MAX_DEPTH: usize = 32;

/// GitLab's test case statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    Success,
    Failed,
    Error,
    Skipped,
}

/// One `<testcase>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestCase {
    pub name: String,
    pub classname: String,
    pub file: Option<String>,
    pub status: CaseStatus,
    /// Seconds.
    pub execution_time: f64,
    /// The failure, error or skip message and text, joined (GitLab's `system_output`), capped.
    pub system_output: Option<String>,
    /// The `<system-out>` and `<system-err>` of a failed or errored case, capped.
    pub stack_trace: Option<String>,
}

/// The cases of one `<testsuite>` that holds cases directly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestSuite {
    pub name: String,
    /// Seconds: the sum of the cases' times, or the suite's `time` attribute when larger.
    pub total_time: f64,
    pub cases: Vec<TestCase>,
}

impl TestSuite {
    /// How many of the cases have this status.
    pub fn count(&self, status: CaseStatus) -> usize {
        self.cases.iter().filter(|case| case.status == status).count()
    }
}

/// Why a JUnit document was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JunitError {
    pub message: String,
    /// The line (from 1) where the problem was found, when it is in one place.
    pub line: Option<usize>,
}

impl fmt::Display for JunitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "junit report, line {line}: {}", self.message),
            None => write!(f, "junit report: {}", self.message),
        }
    }
}

impl std::error::Error for JunitError {}

/// Parses one JUnit XML document. Accepts a `<testsuites>` or a `<testsuite>` root and nested
/// `<testsuite>`s, flattened in document order: each suite that directly holds test cases becomes
/// one [`TestSuite`] (cases outside any suite make one more, unnamed, at the end). Covers the
/// common dialects: pytest, JUnit/Maven surefire, go-junit-report, cargo2junit, jest-junit.
/// A `<testcase>` with `<failure>` is Failed, else with `<error>` Error, else with `<skipped>`
/// Skipped, otherwise Success. Unreadable `time` attributes count as 0; "1,5" is 1.5.
pub fn parse(xml: &[u8]) -> Result<Vec<TestSuite>, JunitError> {
    let error_at = |offset: u64, message: String| {
        let end = usize::try_from(offset).unwrap_or(usize::MAX).min(xml.len());
        let line = xml[..end].iter().filter(|&&byte| byte == b'\n').count() + 1;
        JunitError { message, line: Some(line) }
    };
    let text = std::str::from_utf8(xml).map_err(|error| {
        error_at(error.valid_up_to() as u64, "the report is not UTF-8: write it as UTF-8".to_owned())
    })?;
    let mut reader = Reader::from_str(text);
    let mut parser = Parser::default();
    loop {
        let event = reader
            .read_event()
            .map_err(|error| error_at(reader.error_position(), format!("not well-formed XML: {error}")))?;
        match event {
            Event::Start(element) => {
                parser.open(&element).map_err(|message| error_at(reader.buffer_position(), message))?;
            }
            Event::Empty(element) => {
                parser.open(&element).map_err(|message| error_at(reader.buffer_position(), message))?;
                parser.close();
            }
            Event::End(_) => parser.close(),
            Event::Text(text) => parser.text(&text.xml10_content()),
            Event::CData(data) => parser.text(&data.xml10_content()),
            Event::GeneralRef(reference) => parser.text(&resolve(&reference)),
            Event::Eof => break,
            // The declaration, comments, processing instructions and the DOCTYPE say nothing.
            _ => {}
        }
    }
    parser.finish().map_err(|message| JunitError { message, line: None })
}

/// What `&name;` stands for; entities other than XML's predefined ones stay as written.
fn resolve(reference: &BytesRef<'_>) -> String {
    match reference.resolve_char_ref() {
        Ok(Some(character)) => character.to_string(),
        _ => match resolve_predefined_entity(reference) {
            Some(text) => text.to_owned(),
            None => format!("&{};", &**reference),
        },
    }
}

#[derive(Default)]
struct Parser {
    open: Vec<Open>,
    suites: Vec<TestSuite>,
    cases_outside_suites: Vec<TestCase>,
    case_count: usize,
    found_junit_element: bool,
}

/// An element being read, innermost last.
enum Open {
    /// `slot` is where the suite goes in the result: before the suites nested in it.
    Suite {
        slot: usize,
        name: String,
        time: f64,
        cases: Vec<TestCase>,
    },
    Case {
        case: TestCase,
        outcome: CappedText,
        output: CappedText,
    },
    Outcome {
        status: CaseStatus,
        message: String,
        body: CappedText,
    },
    Output {
        body: CappedText,
    },
    Other,
}

impl Parser {
    fn open(&mut self, element: &BytesStart<'_>) -> Result<(), String> {
        if self.open.len() >= MAX_DEPTH {
            return Err(format!("elements are nested more than {MAX_DEPTH} deep"));
        }
        let in_case = matches!(self.open.last(), Some(Open::Case { .. }));
        let outcome = |status| Open::Outcome {
            status,
            message: attribute(element, "message").unwrap_or_default(),
            body: CappedText::default(),
        };
        let open = match element.local_name().as_ref() {
            "testsuites" => {
                self.found_junit_element = true;
                Open::Other
            }
            "testsuite" => {
                self.found_junit_element = true;
                Open::Suite {
                    slot: self.suites.len(),
                    name: attribute(element, "name").unwrap_or_default(),
                    time: seconds(attribute(element, "time")),
                    cases: Vec::new(),
                }
            }
            "testcase" => {
                self.found_junit_element = true;
                self.case_count += 1;
                if self.case_count > MAX_CASES {
                    return Err(format!("more than {MAX_CASES} test cases: split the report into several files"));
                }
                let case = TestCase {
                    name: attribute(element, "name").unwrap_or_default(),
                    classname: attribute(element, "classname").unwrap_or_default(),
                    file: attribute(element, "file"),
                    status: CaseStatus::Success,
                    execution_time: seconds(attribute(element, "time")),
                    system_output: None,
                    stack_trace: None,
                };
                Open::Case { case, outcome: CappedText::default(), output: CappedText::default() }
            }
            "failure" if in_case => outcome(CaseStatus::Failed),
            "error" if in_case => outcome(CaseStatus::Error),
            "skipped" if in_case => outcome(CaseStatus::Skipped),
            "system-out" | "system-err" if in_case => Open::Output { body: CappedText::default() },
            _ => Open::Other,
        };
        self.open.push(open);
        Ok(())
    }

    fn text(&mut self, piece: &str) {
        if let Some(Open::Outcome { body, .. } | Open::Output { body }) = self.open.last_mut() {
            body.push(piece);
        }
    }

    fn close(&mut self) {
        let Some(closed) = self.open.pop() else { return };
        match closed {
            Open::Suite { slot, name, time, cases } => {
                if cases.is_empty() {
                    return;
                }
                let total_time = time.max(cases.iter().map(|case| case.execution_time).sum());
                self.suites.insert(slot, TestSuite { name, total_time, cases });
            }
            Open::Case { mut case, outcome, output } => {
                case.system_output = outcome.finish();
                if matches!(case.status, CaseStatus::Failed | CaseStatus::Error) {
                    case.stack_trace = output.finish();
                }
                let suite = self.open.iter_mut().rev().find_map(|open| match open {
                    Open::Suite { cases, .. } => Some(cases),
                    _ => None,
                });
                suite.unwrap_or(&mut self.cases_outside_suites).push(case);
            }
            Open::Outcome { status: found, message, body } => {
                let Some(Open::Case { case, outcome, .. }) = self.open.last_mut() else { return };
                if precedence(found) > precedence(case.status) {
                    case.status = found;
                }
                // Most tools repeat the message at the top of the body: keep it once.
                if !body.text.contains(message.as_str()) {
                    outcome.push_paragraph(&message);
                }
                outcome.append(body);
            }
            Open::Output { body } => {
                if let Some(Open::Case { output, .. }) = self.open.last_mut() {
                    output.append(body);
                }
            }
            Open::Other => {}
        }
    }

    fn finish(mut self) -> Result<Vec<TestSuite>, String> {
        if !self.open.is_empty() {
            return Err("the document ends before its elements are closed: is the file complete?".to_owned());
        }
        if !self.found_junit_element {
            return Err("no <testsuite> or <testcase> element found: is this a JUnit XML report?".to_owned());
        }
        if !self.cases_outside_suites.is_empty() {
            let cases = self.cases_outside_suites;
            let total_time = cases.iter().map(|case| case.execution_time).sum();
            self.suites.push(TestSuite { name: String::new(), total_time, cases });
        }
        Ok(self.suites)
    }
}

/// GitLab's precedence when a case has several outcomes: failure, then error, then skipped.
fn precedence(status: CaseStatus) -> u8 {
    match status {
        CaseStatus::Success => 0,
        CaseStatus::Skipped => 1,
        CaseStatus::Error => 2,
        CaseStatus::Failed => 3,
    }
}

/// The value of an attribute, entities resolved, capped.
fn attribute(element: &BytesStart<'_>, name: &str) -> Option<String> {
    let attribute = element.attributes().flatten().find(|attribute| attribute.key.local_name().as_ref() == name)?;
    // An unknown entity is an error here: keep the value as written then.
    let value = attribute.normalized_value(XmlVersion::Implicit1_0).unwrap_or(attribute.value);
    let mut text = CappedText::default();
    text.push(value.trim());
    text.finish()
}

/// Seconds from a `time` attribute, leniently: "1,5" and "1,234.5" are read, anything else
/// unreadable, negative or not finite is 0.
fn seconds(time: Option<String>) -> f64 {
    let Some(time) = time else { return 0.0 };
    let time = if time.contains('.') { time.replace(',', "") } else { time.replace(',', ".") };
    time.trim().parse::<f64>().ok().filter(|seconds| seconds.is_finite() && *seconds >= 0.0).unwrap_or(0.0)
}

/// Text kept up to [`MAX_TEXT`] bytes; what is cut is marked.
#[derive(Default)]
struct CappedText {
    text: String,
    truncated: bool,
}

impl CappedText {
    fn push(&mut self, piece: &str) {
        if self.truncated {
            return;
        }
        let room = MAX_TEXT - self.text.len();
        if piece.len() <= room {
            self.text.push_str(piece);
            return;
        }
        let mut cut = room;
        while !piece.is_char_boundary(cut) {
            cut -= 1;
        }
        self.text.push_str(&piece[..cut]);
        self.truncated = true;
    }

    fn push_paragraph(&mut self, paragraph: &str) {
        if paragraph.is_empty() {
            return;
        }
        if !self.text.is_empty() {
            self.push("\n");
        }
        self.push(paragraph);
    }

    fn append(&mut self, other: CappedText) {
        self.push_paragraph(other.text.trim());
        self.truncated |= other.truncated;
    }

    fn finish(self) -> Option<String> {
        let mut text = self.text;
        if self.truncated {
            text.push_str("\n[truncated]");
        }
        (!text.is_empty()).then_some(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suites(xml: &str) -> Vec<TestSuite> {
        parse(xml.as_bytes()).unwrap()
    }

    fn only_case(xml: &str) -> TestCase {
        let mut suites = suites(xml);
        assert_eq!((suites.len(), suites[0].cases.len()), (1, 1), "{suites:?}");
        suites.remove(0).cases.remove(0)
    }

    #[test]
    fn pytest_report() {
        let xml = r#"<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="0" failures="1" skipped="1" tests="3" time="0.050" timestamp="2024-05-01T10:00:00" hostname="runner">
<testcase classname="tests.test_math" name="test_add" file="tests/test_math.py" line="3" time="0.001" />
<testcase classname="tests.test_math" name="test_sub" time="0.002"><failure message="assert 1 == 2">def test_sub():
&gt;       assert 1 == 2
E       assert 1 == 2

tests/test_math.py:7: AssertionError</failure><system-out>captured &amp; printed</system-out></testcase>
<testcase classname="tests.test_math" name="test_later" time="0.000"><skipped type="pytest.skip" message="not ready">tests/test_math.py:10: not ready</skipped></testcase>
</testsuite></testsuites>"#;
        let suites = suites(xml);
        assert_eq!(suites.len(), 1);
        let suite = &suites[0];
        assert_eq!((suite.name.as_str(), suite.total_time), ("pytest", 0.05));
        assert_eq!([CaseStatus::Success, CaseStatus::Failed, CaseStatus::Skipped].map(|s| suite.count(s)), [1, 1, 1]);
        let [passed, failed, skipped] = &suite.cases[..] else { panic!() };
        assert_eq!(passed.file.as_deref(), Some("tests/test_math.py"));
        assert_eq!((passed.system_output.as_deref(), passed.stack_trace.as_deref()), (None, None));
        assert_eq!(failed.classname, "tests.test_math");
        assert_eq!(failed.execution_time, 0.002);
        let output = failed.system_output.as_deref().unwrap();
        assert!(output.starts_with("def test_sub():\n>       assert 1 == 2\n"), "{output}");
        assert_eq!(failed.stack_trace.as_deref(), Some("captured & printed"));
        assert_eq!(skipped.system_output.as_deref(), Some("tests/test_math.py:10: not ready"));
    }

    #[test]
    fn maven_surefire_report() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuite xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" name="com.example.AppTest" time="0.5" tests="4" errors="1" skipped="1" failures="1">
  <properties><property name="java.version" value="21"/><property name="testcase" value="not a case"/></properties>
  <testcase name="passes" classname="com.example.AppTest" time="0.001"><system-out>noise of a passing test</system-out></testcase>
  <testcase name="fails" classname="com.example.AppTest" time="0.004">
    <failure message="expected: &lt;1&gt; but was: &lt;2&gt;" type="org.opentest4j.AssertionFailedError"><![CDATA[org.opentest4j.AssertionFailedError: expected: <1> but was: <2>
	at com.example.AppTest.fails(AppTest.java:14)]]></failure>
    <system-out><![CDATA[computing...]]></system-out>
    <system-err><![CDATA[warning: slow]]></system-err>
  </testcase>
  <testcase name="errors" classname="com.example.AppTest" time="0.002">
    <error message="boom" type="java.lang.IllegalStateException">java.lang.IllegalStateException
	at com.example.AppTest.errors(AppTest.java:20)</error>
  </testcase>
  <testcase name="ignored" classname="com.example.AppTest" time="0"><skipped/></testcase>
  <system-out><![CDATA[suite output is not a case's]]></system-out>
</testsuite>"#;
        let suite = &suites(xml)[0];
        assert_eq!((suite.name.as_str(), suite.total_time, suite.cases.len()), ("com.example.AppTest", 0.5, 4));
        let statuses: Vec<_> = suite.cases.iter().map(|case| case.status).collect();
        assert_eq!(statuses, [CaseStatus::Success, CaseStatus::Failed, CaseStatus::Error, CaseStatus::Skipped]);
        assert_eq!(suite.cases[0].stack_trace, None);
        let failed = &suite.cases[1];
        assert_eq!(
            failed.system_output.as_deref(),
            Some(
                "org.opentest4j.AssertionFailedError: expected: <1> but was: <2>\n\tat com.example.AppTest.fails(AppTest.java:14)"
            )
        );
        assert_eq!(failed.stack_trace.as_deref(), Some("computing...\nwarning: slow"));
        let errored = &suite.cases[2];
        assert_eq!(
            errored.system_output.as_deref(),
            Some("boom\njava.lang.IllegalStateException\n\tat com.example.AppTest.errors(AppTest.java:20)")
        );
        assert_eq!((suite.cases[3].system_output.as_deref(), suite.cases[3].execution_time), (None, 0.0));
    }

    #[test]
    fn go_junit_report_with_nested_suites() {
        let xml = r#"<testsuites tests="4" failures="1">
	<testsuite name="example.com/app" tests="1" time="0.100">
		<properties><property name="go.version" value="go1.22.1"></property></properties>
		<testcase name="TestMain" classname="example.com/app" time="0.100"></testcase>
		<testsuite name="example.com/app/store" tests="2" failures="1" time="0.020">
			<testcase name="TestGet" classname="example.com/app/store" time="0.010"></testcase>
			<testcase name="TestPut" classname="example.com/app/store" time="0.015"><failure message="Failed"><![CDATA[    store_test.go:31: want 1, got 2]]></failure></testcase>
		</testsuite>
		<testsuite name="example.com/app/empty" tests="0"></testsuite>
		<testsuite name="example.com/app/web"><testcase name="TestServe" classname="example.com/app/web" time=""/></testsuite>
	</testsuite>
</testsuites>"#;
        let suites = suites(xml);
        let names: Vec<_> = suites.iter().map(|suite| suite.name.as_str()).collect();
        assert_eq!(names, ["example.com/app", "example.com/app/store", "example.com/app/web"]);
        assert_eq!(suites[0].cases.len(), 1);
        let store = &suites[1];
        assert_eq!((store.count(CaseStatus::Failed), store.total_time), (1, 0.025));
        assert_eq!(store.cases[1].system_output.as_deref(), Some("Failed\nstore_test.go:31: want 1, got 2"));
    }

    #[test]
    fn a_case_with_several_outcomes_takes_gitlabs_precedence() {
        let case = only_case(
            "<testsuite><testcase name='t'><skipped/><error message='e'/><failure message='f'/></testcase></testsuite>",
        );
        assert_eq!((case.status, case.system_output.as_deref()), (CaseStatus::Failed, Some("e\nf")));
        assert_eq!(only_case("<testcase name='t'><skipped/><error/></testcase>").status, CaseStatus::Error);
    }

    #[test]
    fn entities_character_references_and_cdata_are_decoded() {
        let case = only_case(
            "<testsuite name='s'><testcase name='a &lt;b&gt; &quot;c&quot; &#x41;&#66;' classname='&amp;'>\
             <failure>x &lt; y &#233; <![CDATA[<raw> &amp; kept]]>&apos;</failure></testcase></testsuite>",
        );
        assert_eq!((case.name.as_str(), case.classname.as_str()), ("a <b> \"c\" AB", "&"));
        assert_eq!(case.system_output.as_deref(), Some("x < y é <raw> &amp; kept'"));
    }

    #[test]
    fn missing_empty_comma_and_bad_times_are_lenient() {
        let xml = "<testsuite name='s' time='garbage'>\
            <testcase name='missing'/><testcase name='empty' time=''/><testcase name='comma' time='1,5'/>\
            <testcase name='thousands' time='1,234.5'/><testcase name='spaces' time=' 2 '/><testcase name='negative' time='-1'/>\
            <testcase name='nan' time='NaN'/><testcase name='inf' time='inf'/></testsuite>";
        let suite = &suites(xml)[0];
        let times: Vec<_> = suite.cases.iter().map(|case| case.execution_time).collect();
        assert_eq!(times, [0.0, 0.0, 1.5, 1234.5, 2.0, 0.0, 0.0, 0.0]);
        assert_eq!(suite.total_time, 1238.0);
    }

    #[test]
    fn cases_outside_suites_make_one_unnamed_suite() {
        let suites = suites(
            "<testsuites><testcase name='loose' time='1'/><testsuite name='s'><testcase name='a'/></testsuite></testsuites>",
        );
        assert_eq!(suites.iter().map(|suite| suite.name.as_str()).collect::<Vec<_>>(), ["s", ""]);
        assert_eq!((suites[1].cases[0].name.as_str(), suites[1].total_time), ("loose", 1.0));
    }

    #[test]
    fn empty_reports_have_no_suites() {
        assert_eq!(suites("<testsuites/>"), []);
        assert_eq!(suites("<?xml version='1.0'?><testsuites></testsuites>"), []);
        assert_eq!(suites("<testsuite name='none' tests='0'/>"), []);
    }

    #[test]
    fn too_many_cases_are_refused() {
        let xml = |count| format!("<testsuite>{}</testsuite>", "<testcase name='t'/>".repeat(count));
        assert_eq!(suites(&xml(MAX_CASES))[0].cases.len(), MAX_CASES);
        let error = parse(xml(MAX_CASES + 1).as_bytes()).unwrap_err();
        assert!(error.message.contains("more than 100000 test cases"), "{error}");
    }

    #[test]
    fn deep_nesting_is_refused() {
        let nested = |depth| format!("{}<testcase/>{}", "<testsuite>".repeat(depth), "</testsuite>".repeat(depth));
        assert_eq!(suites(&nested(MAX_DEPTH - 1)).len(), 1);
        let error = parse(nested(MAX_DEPTH).as_bytes()).unwrap_err();
        assert!(error.message.contains("nested more than 32 deep"), "{error}");
        assert!(parse(format!("<testsuites>{}", "<a>".repeat(100_000)).as_bytes()).is_err());
    }

    #[test]
    fn long_texts_are_cut_at_a_character_boundary() {
        let long = format!("x{}", "é".repeat(MAX_TEXT));
        let case = only_case(&format!(
            "<testcase name='{long}'><failure>{long}</failure><system-out>{long}</system-out></testcase>"
        ));
        for text in [Some(&case.name), case.system_output.as_ref(), case.stack_trace.as_ref()] {
            let text = text.unwrap();
            assert!(text.ends_with("é\n[truncated]"), "{}", &text[text.len() - 20..]);
            assert_eq!(text.len(), MAX_TEXT - 1 + "\n[truncated]".len());
        }
    }

    #[test]
    fn malformed_documents_are_refused_with_a_line() {
        let error = parse(b"<testsuite>\n<testcase>\n</testsuite>").unwrap_err();
        assert_eq!(error.line, Some(3), "{error}");
        assert!(error.message.starts_with("not well-formed XML"), "{error}");
        let error = parse(b"<testsuite><testcase name='a'/>").unwrap_err();
        assert_eq!(
            error.to_string(),
            "junit report: the document ends before its elements are closed: is the file complete?"
        );
        assert!(parse(b"<testsuite name='a></testsuite>").is_err());
        let error = parse(b"<testsuite>\n<testcase name='\xff'/></testsuite>").unwrap_err();
        assert_eq!((error.line, error.message.as_str()), (Some(2), "the report is not UTF-8: write it as UTF-8"));
    }

    #[test]
    fn documents_without_junit_elements_are_refused() {
        for document in ["", "just some log output", "{\"tests\": []}", "<html><body>nope</body></html>"] {
            let error = parse(document.as_bytes()).unwrap_err();
            assert!(error.message.contains("no <testsuite> or <testcase> element"), "{document}: {error}");
        }
    }

    #[test]
    fn external_entities_are_never_expanded() {
        let xml = r#"<?xml version="1.0"?>
<!DOCTYPE testsuite [
  <!ENTITY xxe SYSTEM "file:///etc/passwd">
  <!ENTITY lol "lol">
]>
<testsuite name="&xxe;"><testcase name="t"><failure>&xxe;&lol;</failure></testcase></testsuite>"#;
        let suite = &suites(xml)[0];
        assert_eq!(suite.name, "&xxe;");
        assert_eq!(suite.cases[0].system_output.as_deref(), Some("&xxe;&lol;"));
    }

    #[test]
    fn statuses_serialize_as_gitlab_names() {
        assert_eq!(serde_json::to_string(&CaseStatus::Failed).unwrap(), "\"failed\"");
        assert_eq!(serde_json::from_str::<CaseStatus>("\"skipped\"").unwrap(), CaseStatus::Skipped);
    }
}
