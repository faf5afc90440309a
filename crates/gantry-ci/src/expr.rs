//! GitLab's CI expression language, as used by `rules:if` and `only/except:variables`:
//! `$VAR`, `"strings"`, `/patterns/i`, `null`, `==`, `!=`, `=~`, `!~`, `&&` (binding tighter
//! than `||`) and parentheses. A variable that is not set is null; a bare variable is true when
//! it is set and not empty. Patterns are RE2 syntax, as in GitLab.
//!
//! The right side of `=~` and `!~` is a pattern, or a string or variable whose value is one
//! (`"/^release/"`); any other string is not a pattern, and then GitLab checks whether the left
//! side is part of it (`"23" =~ "1234"` holds). A string written on the right is kept, with a
//! warning, since it rarely does what its author meant.

use std::fmt;

/// Longest expression accepted, in tokens.
const MAX_TOKENS: usize = 256;

/// A parsed expression, ready to be evaluated against a pipeline's variables.
#[derive(Debug, Clone)]
pub struct Expression {
    expr: Expr,
    warnings: Vec<ExpressionWarning>,
}

#[derive(Debug, Clone)]
enum Expr {
    Variable(String),
    Text(String),
    Pattern(Pattern),
    Null,
    Equals(Box<Expr>, Box<Expr>, bool),
    Matches(Box<Expr>, Box<Expr>, bool),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

#[derive(Debug, Clone)]
struct Pattern {
    source: String,
    regex: regex::Regex,
}

/// Why an expression cannot be parsed; `column` counts characters from 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpressionError {
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ExpressionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at character {})", self.message, self.column)
    }
}

/// Something that parses but may not do what it seems to; `column` counts characters from 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpressionWarning {
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ExpressionWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at character {})", self.message, self.column)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Variable(String),
    Text(String),
    Pattern(String, String),
    Null,
    Equals,
    NotEquals,
    Matches,
    NotMatches,
    And,
    Or,
    Open,
    Close,
}

/// A value met while evaluating.
#[derive(Debug, Clone, PartialEq)]
enum Val {
    Null,
    Text(String),
    Bool(bool),
    Pattern(usize),
}

impl Val {
    fn truthy(&self) -> bool {
        match self {
            Val::Null => false,
            Val::Text(text) => !text.is_empty(),
            Val::Bool(b) => *b,
            Val::Pattern(_) => true,
        }
    }
}

fn error(column: usize, message: impl Into<String>) -> ExpressionError {
    ExpressionError { column, message: message.into() }
}

fn lex(source: &str) -> Result<Vec<(Token, usize)>, ExpressionError> {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let column = i + 1;
        let c = chars[i];
        let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        let token = match (c, two.as_str()) {
            (c, _) if c.is_whitespace() => {
                i += 1;
                continue;
            }
            (_, "==") => Token::Equals,
            (_, "!=") => Token::NotEquals,
            (_, "=~") => Token::Matches,
            (_, "!~") => Token::NotMatches,
            (_, "&&") => Token::And,
            (_, "||") => Token::Or,
            ('(', _) => Token::Open,
            (')', _) => Token::Close,
            ('$', _) => {
                let braced = chars.get(i + 1) == Some(&'{');
                let start = if braced { i + 2 } else { i + 1 };
                let mut end = start;
                while end < chars.len() && (chars[end].is_ascii_alphanumeric() || chars[end] == '_') {
                    end += 1;
                }
                if end == start {
                    return Err(error(column, "`$` must be followed by a variable name"));
                }
                let name: String = chars[start..end].iter().collect();
                if braced {
                    if chars.get(end) != Some(&'}') {
                        return Err(error(column, "`${` needs a closing `}`"));
                    }
                    end += 1;
                }
                tokens.push((Token::Variable(name), column));
                i = end;
                continue;
            }
            ('"' | '\'', _) => {
                let Some(length) = chars[i + 1..].iter().position(|x| *x == c) else {
                    return Err(error(column, "unterminated string"));
                };
                tokens.push((Token::Text(chars[i + 1..i + 1 + length].iter().collect()), column));
                i += length + 2;
                continue;
            }
            ('/', _) => {
                let mut end = i + 1;
                let mut body = String::new();
                loop {
                    match chars.get(end) {
                        None => return Err(error(column, "unterminated pattern: a pattern is written /like this/")),
                        Some('\\') if chars.get(end + 1) == Some(&'/') => {
                            body.push('/');
                            end += 2;
                        }
                        Some('\\') => {
                            body.push('\\');
                            if let Some(next) = chars.get(end + 1) {
                                body.push(*next);
                            }
                            end += 2;
                        }
                        Some('/') => break,
                        Some(other) => {
                            body.push(*other);
                            end += 1;
                        }
                    }
                }
                end += 1;
                let mut flags = String::new();
                while end < chars.len() && chars[end].is_ascii_alphabetic() {
                    flags.push(chars[end]);
                    end += 1;
                }
                tokens.push((Token::Pattern(body, flags), column));
                i = end;
                continue;
            }
            _ if chars[i..].starts_with(&['n', 'u', 'l', 'l'])
                && !chars.get(i + 4).is_some_and(|x| x.is_ascii_alphanumeric() || *x == '_') =>
            {
                tokens.push((Token::Null, column));
                i += 4;
                continue;
            }
            _ => return Err(error(column, format!("unexpected `{c}`"))),
        };
        let width = if matches!(token, Token::Open | Token::Close) { 1 } else { 2 };
        tokens.push((token, column));
        i += width;
        if tokens.len() > MAX_TOKENS {
            return Err(error(column, format!("the expression is longer than {MAX_TOKENS} tokens")));
        }
    }
    Ok(tokens)
}

struct ExprParser {
    tokens: Vec<(Token, usize)>,
    next: usize,
    end_column: usize,
    warnings: Vec<ExpressionWarning>,
}

impl ExprParser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next).map(|(t, _)| t)
    }

    fn column(&self) -> usize {
        self.tokens.get(self.next).map(|(_, c)| *c).unwrap_or(self.end_column)
    }

    fn or(&mut self, depth: usize) -> Result<Expr, ExpressionError> {
        let mut left = self.and(depth)?;
        while self.peek() == Some(&Token::Or) {
            self.next += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and(depth)?));
        }
        Ok(left)
    }

    fn and(&mut self, depth: usize) -> Result<Expr, ExpressionError> {
        let mut left = self.comparison(depth)?;
        while self.peek() == Some(&Token::And) {
            self.next += 1;
            left = Expr::And(Box::new(left), Box::new(self.comparison(depth)?));
        }
        Ok(left)
    }

    fn comparison(&mut self, depth: usize) -> Result<Expr, ExpressionError> {
        let left = self.operand(depth)?;
        let (matches, negated) = match self.peek() {
            Some(Token::Equals) => (false, false),
            Some(Token::NotEquals) => (false, true),
            Some(Token::Matches) => (true, false),
            Some(Token::NotMatches) => (true, true),
            _ => return Ok(left),
        };
        self.next += 1;
        let column = self.column();
        let right = self.operand(depth)?;
        if matches && let Expr::Text(text) = &right {
            let message = match text_pattern(text) {
                Some(_) => {
                    format!("the string \"{text}\" is read as the pattern {text}; write the pattern without quotes")
                }
                None => format!(
                    "the string \"{text}\" is not a /pattern/: `=~` and `!~` then check whether the left side is part of it (\"23\" =~ \"1234\" holds); write /{text}/ to match a pattern"
                ),
            };
            self.warnings.push(ExpressionWarning { column, message });
        }
        Ok(if matches {
            Expr::Matches(Box::new(left), Box::new(right), negated)
        } else {
            Expr::Equals(Box::new(left), Box::new(right), negated)
        })
    }

    fn operand(&mut self, depth: usize) -> Result<Expr, ExpressionError> {
        let column = self.column();
        let Some((token, _)) = self.tokens.get(self.next).cloned() else {
            return Err(error(column, "the expression ends where a value was expected"));
        };
        self.next += 1;
        Ok(match token {
            Token::Variable(name) => Expr::Variable(name),
            Token::Text(text) => Expr::Text(text),
            Token::Null => Expr::Null,
            Token::Pattern(body, flags) => Expr::Pattern(compile(&body, &flags).map_err(|m| error(column, m))?),
            Token::Open => {
                if depth > 32 {
                    return Err(error(column, "parentheses nested too deeply"));
                }
                let inner = self.or(depth + 1)?;
                if self.peek() != Some(&Token::Close) {
                    return Err(error(self.column(), "a `(` is not closed"));
                }
                self.next += 1;
                inner
            }
            other => return Err(error(column, format!("expected a value, found {}", describe(&other)))),
        })
    }
}

fn describe(token: &Token) -> &'static str {
    match token {
        Token::Equals => "`==`",
        Token::NotEquals => "`!=`",
        Token::Matches => "`=~`",
        Token::NotMatches => "`!~`",
        Token::And => "`&&`",
        Token::Or => "`||`",
        Token::Close => "`)`",
        _ => "a value",
    }
}

/// The pattern a string holds when it is written `/body/flags` and compiles, as GitLab reads the
/// right side of `=~` (`\/` stands for `/`).
fn text_pattern(text: &str) -> Option<regex::Regex> {
    let (body, flags) = text.strip_prefix('/')?.rsplit_once('/')?;
    compile(&body.replace("\\/", "/"), flags).ok().map(|p| p.regex)
}

/// Compiles `/body/flags` (flags `i`, `m`, `s`, `U` as in GitLab, and `x`).
fn compile(body: &str, flags: &str) -> Result<Pattern, String> {
    let mut prefix = String::new();
    for flag in flags.chars() {
        match flag {
            'i' | 'm' | 's' | 'U' | 'x' => prefix.push(flag),
            other => return Err(format!("unknown pattern flag `{other}`")),
        }
    }
    let source = if prefix.is_empty() { body.to_owned() } else { format!("(?{prefix}){body}") };
    let regex = regex::RegexBuilder::new(&source)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| format!("invalid pattern /{body}/: {}", e.to_string().lines().last().unwrap_or("")))?;
    Ok(Pattern { source: format!("/{body}/{flags}"), regex })
}

impl Expression {
    pub fn parse(source: &str) -> Result<Expression, ExpressionError> {
        let tokens = lex(source)?;
        if tokens.is_empty() {
            return Err(error(1, "the expression is empty"));
        }
        let mut parser = ExprParser { tokens, next: 0, end_column: source.chars().count() + 1, warnings: Vec::new() };
        let expr = parser.or(0)?;
        if let Some((token, column)) = parser.tokens.get(parser.next) {
            return Err(error(*column, format!("unexpected {} after a complete expression", describe(token))));
        }
        Ok(Expression { expr, warnings: parser.warnings })
    }

    /// What in the expression may not do what it seems to.
    pub fn warnings(&self) -> &[ExpressionWarning] {
        &self.warnings
    }

    /// True when the expression holds for variables looked up by `lookup`.
    pub fn evaluate(&self, lookup: &dyn Fn(&str) -> Option<String>) -> bool {
        let mut patterns = Vec::new();
        eval(&self.expr, lookup, &mut patterns).truthy()
    }
}

fn eval(expr: &Expr, lookup: &dyn Fn(&str) -> Option<String>, patterns: &mut Vec<Pattern>) -> Val {
    match expr {
        Expr::Variable(name) => lookup(name).map(Val::Text).unwrap_or(Val::Null),
        Expr::Text(text) => Val::Text(text.clone()),
        Expr::Null => Val::Null,
        Expr::Pattern(pattern) => {
            patterns.push(pattern.clone());
            Val::Pattern(patterns.len() - 1)
        }
        Expr::Equals(left, right, negated) => {
            let equal = eval(left, lookup, patterns) == eval(right, lookup, patterns);
            Val::Bool(equal != *negated)
        }
        Expr::Matches(left, right, negated) => {
            // GitLab matches the left side as a string: a variable that is not set is "".
            let subject = match eval(left, lookup, patterns) {
                Val::Text(text) => text,
                Val::Null => String::new(),
                Val::Bool(value) => value.to_string(),
                Val::Pattern(index) => patterns[index].source.clone(),
            };
            let found = match eval(right, lookup, patterns) {
                Val::Pattern(index) => patterns[index].regex.is_match(&subject),
                // A string or variable holding `/pattern/flags` is that pattern; any other
                // string holds when the left side is part of it (GitLab's `String#scan`).
                Val::Text(text) => match text_pattern(&text) {
                    Some(regex) => regex.is_match(&subject),
                    None => text.contains(subject.as_str()),
                },
                Val::Null | Val::Bool(_) => false,
            };
            Val::Bool(found != *negated)
        }
        Expr::And(left, right) => {
            let left = eval(left, lookup, patterns);
            if left.truthy() { eval(right, lookup, patterns) } else { left }
        }
        Expr::Or(left, right) => {
            let left = eval(left, lookup, patterns);
            if left.truthy() { left } else { eval(right, lookup, patterns) }
        }
    }
}

impl fmt::Display for Expression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn write(expr: &Expr, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match expr {
                Expr::Variable(name) => write!(f, "${name}"),
                Expr::Text(text) => write!(f, "{text:?}"),
                Expr::Pattern(p) => write!(f, "{}", p.source),
                Expr::Null => write!(f, "null"),
                Expr::Equals(l, r, n) | Expr::Matches(l, r, n) => {
                    write(l, f)?;
                    let op = match (matches!(expr, Expr::Matches(..)), n) {
                        (false, false) => "==",
                        (false, true) => "!=",
                        (true, false) => "=~",
                        (true, true) => "!~",
                    };
                    write!(f, " {op} ")?;
                    write(r, f)
                }
                Expr::And(l, r) | Expr::Or(l, r) => {
                    write!(f, "(")?;
                    write(l, f)?;
                    write!(f, " {} ", if matches!(expr, Expr::And(..)) { "&&" } else { "||" })?;
                    write(r, f)?;
                    write!(f, ")")
                }
            }
        }
        write(&self.expr, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holds(source: &str, vars: &[(&str, &str)]) -> bool {
        let expression = Expression::parse(source).unwrap_or_else(|e| panic!("{source}: {e}"));
        expression.evaluate(&|name| vars.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string()))
    }

    #[test]
    fn comparisons_and_null() {
        let vars = [("BRANCH", "main"), ("EMPTY", ""), ("PATTERN", "/^ma/")];
        assert!(holds("$BRANCH == \"main\"", &vars));
        assert!(holds("$BRANCH != 'dev'", &vars));
        assert!(holds("$MISSING == null", &vars));
        assert!(!holds("$EMPTY == null", &vars));
        assert!(holds("$EMPTY == ''", &vars));
        assert!(holds("$BRANCH", &vars));
        assert!(!holds("$EMPTY", &vars));
        assert!(!holds("$MISSING", &vars));
        assert!(holds("${BRANCH} == $BRANCH", &vars));
    }

    #[test]
    fn patterns_with_flags_and_variables() {
        let vars = [("MSG", "Fix: Deploy now"), ("PATTERN", "/deploy/i")];
        assert!(holds("$MSG =~ /deploy/i", &vars));
        assert!(!holds("$MSG =~ /deploy/", &vars));
        assert!(holds("$MSG !~ /^release/", &vars));
        assert!(holds("$MSG =~ $PATTERN", &vars));
        assert!(!holds("$MISSING =~ /x/", &vars));
        assert!(holds("$MISSING !~ /x/", &vars));
        assert!(holds("$MSG =~ /a\\/b|now/", &vars));
    }

    #[test]
    fn a_string_on_the_right_of_a_match_is_a_pattern_or_a_containing_string() {
        let vars = [("BRANCH", "release-1.0"), ("SHORT", "23"), ("LONG", "1234")];
        // A string written like a pattern is that pattern.
        assert!(holds("$BRANCH =~ \"/^release/\"", &vars));
        assert!(!holds("$BRANCH !~ '/^RELEASE/i'", &vars));
        // Any other string holds when the left side is part of it, as in GitLab.
        assert!(holds("$BRANCH =~ \"release-1.0 release-2.0\"", &vars));
        assert!(!holds("$BRANCH =~ \"release\"", &vars));
        assert!(holds("$BRANCH !~ \"release\"", &vars));
        assert!(holds("$SHORT =~ $LONG", &vars));
        assert!(!holds("$LONG =~ $SHORT", &vars));
        // A pattern that does not compile is a string too.
        assert!(holds("$SHORT =~ \"/(/ 23\"", &vars));
        // An unset variable is matched as "", which is part of every string.
        assert!(holds("$MISSING =~ \"x\"", &vars));
        assert!(holds("$MISSING =~ /^$/", &vars));
        assert!(!holds("$BRANCH =~ $MISSING", &vars));
        assert!(holds("$BRANCH !~ $MISSING", &vars));

        let pattern = Expression::parse("$BRANCH =~ \"/^release/\"").unwrap();
        assert_eq!(pattern.warnings().len(), 1);
        assert_eq!(pattern.warnings()[0].column, 12);
        assert!(pattern.warnings()[0].message.contains("read as the pattern /^release/"), "{:?}", pattern.warnings());
        let text = Expression::parse("$A == 'x' && $BRANCH !~ 'main'").unwrap();
        assert!(text.warnings()[0].message.contains("is not a /pattern/"), "{:?}", text.warnings());
        assert_eq!(text.warnings()[0].column, 25);
        assert!(Expression::parse("$BRANCH =~ /x/ || $A == 'x'").unwrap().warnings().is_empty());
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let vars = [("A", "1")];
        assert!(holds("$A || $B && $C", &vars));
        assert!(!holds("($A || $B) && $C", &vars));
        assert!(holds("$A == '1' && ($B == null || $C)", &vars));
    }

    #[test]
    fn errors_point_at_the_problem() {
        for (source, column, text) in [
            ("$A ==", 6, "ends where a value"),
            ("$A = 'x'", 4, "unexpected `=`"),
            ("($A", 4, "not closed"),
            ("$A == 'x' $B", 11, "unexpected a value after"),
            ("'open", 1, "unterminated string"),
            ("$A =~ /(/", 7, "invalid pattern"),
            ("$A =~ /x/q", 7, "unknown pattern flag"),
            ("", 1, "empty"),
        ] {
            let error = Expression::parse(source).unwrap_err();
            assert_eq!(error.column, column, "{source}: {error}");
            assert!(error.message.contains(text), "{source}: {error}");
        }
    }
}
