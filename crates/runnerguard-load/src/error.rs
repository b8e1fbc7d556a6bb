//! Load errors: one diagnostic per problem, each pointing into its file.

use std::fmt;
use std::sync::Arc;

use miette::SourceSpan;

use crate::snippet::{self, Snippet};

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why inputs could not be loaded.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum Error {
    /// A path could not be read.
    #[error("cannot read `{}`: {}", snippet::escape(.path), snippet::message(.message))]
    Io {
        /// The path given.
        path: String,
        /// What the operating system said.
        message: String,
    },
    /// A `-f` path matched no manifest files.
    #[error(
        "no manifests found in `{}` (looked for *.yaml, *.yml, *.json and *.toml)",
        snippet::escape(.path)
    )]
    Empty {
        /// The path given.
        path: String,
    },
    /// Standard input (`-f -`) held nothing: a command before the pipe most likely failed.
    #[error(
        "standard input (`-f -`) is empty: nothing to read (did the command before the pipe fail?)"
    )]
    EmptyStdin,
    /// Data embedded in this build does not load (a broken build; the tests catch it).
    #[error("embedded data: {message}")]
    Embedded {
        /// What went wrong, and in which embedded file.
        message: String,
    },
    /// One or more inputs are malformed: the problems kept (at most
    /// [`crate::MAX_DIAGNOSTICS`]) and how many more were found.
    #[error("{} malformed input{}", .0.len() + .1, if .0.len() + .1 == 1 { "" } else { "s" })]
    Invalid(#[related] Vec<Diagnostic>, usize),
}

/// One problem in one input, with its place.
///
/// It keeps a few lines around the problem, cut to a width and with anything that could be a
/// secret hidden, not the file: its size is bounded whatever the file's, and nothing it shows
/// can leak a credential (see `snippet.rs`). Its message is cleaned the same way.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{}:{line}:{column}: {message}", snippet::escape(.file))]
pub struct Diagnostic {
    /// The file (`-` for stdin).
    pub file: Arc<str>,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// What is wrong and what was expected, without quoted values that could be secret,
    /// control characters escaped, at most a few hundred characters.
    pub message: String,
    #[source_code]
    source_code: Snippet,
    #[label("here")]
    span: SourceSpan,
    #[help]
    help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic at `line`:`column` of `file`, whose text is `text`. Only a window of
    /// `text` is kept (and read: the lines up to the window are skipped, not copied).
    #[allow(
        clippy::needless_pass_by_value,
        reason = "callers build the message for it; it is cleaned into a new string"
    )]
    pub(crate) fn new(
        file: &Arc<str>,
        text: &str,
        (line, column): (u32, u32),
        message: String,
    ) -> Self {
        let source_code = Snippet::new(file, text, line, column);
        let span = SourceSpan::new(source_code.label().into(), 0);
        Self {
            file: file.clone(),
            line,
            column,
            message: snippet::message(&message),
            source_code,
            span,
            help: None,
        }
    }

    /// Adds a hint on how to fix it.
    pub(crate) fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(snippet::message(&help.into()));
        self
    }
}

/// Something worth saying about the input that did not stop loading it.
///
/// Its message may quote the input (names, keys): [`Display`](fmt::Display) prints it as
/// diagnostics do, with quoted values that could be secret hidden, control characters
/// escaped, and its length capped. The fields keep what was given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// The file (`-` for stdin).
    pub file: Arc<str>,
    /// 1-based line, 0 when unknown.
    pub line: u32,
    /// What was noticed.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = snippet::escape(&self.file);
        let message = snippet::message(&self.message);
        if self.line == 0 {
            write!(f, "{file}: {message}")
        } else {
            write!(f, "{file}:{}: {message}", self.line)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;
    use std::sync::Arc;

    use miette::NarratableReportHandler;

    use super::{Diagnostic, Warning};

    const CANARY: &str = "CANARY7Q2";

    /// The report as miette renders it, two lines of context each side.
    fn render(d: &Diagnostic) -> String {
        render_with(d, 2)
    }

    fn render_with(d: &Diagnostic, context: usize) -> String {
        let mut out = String::new();
        NarratableReportHandler::new()
            .with_context_lines(context)
            .render_report(&mut out, d)
            .unwrap();
        out
    }

    fn at(text: &str, line: u32, column: u32) -> String {
        let d = Diagnostic::new(&Arc::from("f"), text, (line, column), "bad".to_owned());
        render(&d)
    }

    /// C1: a diagnostic keeps a window, not the file: a 10 MB one-line file gives a report
    /// of a few hundred bytes, and the line and column are the file's.
    #[test]
    fn a_window_is_bounded_on_a_one_line_file() {
        let big = "A".repeat(10 << 20);
        let text = format!(
            r#"{{"kind":"ConfigMap","metadata":{{"name":5}},"x":"{big}{CANARY}","y":[1,2,"#
        );
        let column = u32::try_from(text.chars().count()).unwrap();
        let report = at(&text, 1, column);
        assert!(report.len() < 2_000, "{} bytes", report.len());
        assert!(
            report.starts_with(&format!("f:1:{column}: bad")),
            "{report}"
        );
        assert!(report.contains("label at line 1, column"), "{report}");
        assert!(!report.contains(CANARY), "{report}");
    }

    /// The window holds the error line and two lines each side, with the file's line
    /// numbers, whatever context a handler asks for.
    #[test]
    fn the_window_keeps_lines_and_place() {
        let mut text = String::new();
        for i in 1..=1000 {
            writeln!(text, "k{i}: v{i}").unwrap();
        }
        text.push_str("name: [oops\nafter: 1\n");
        let d = Diagnostic::new(&Arc::from("f"), &text, (1001, 7), "bad".to_owned());
        let report = render_with(&d, 10);
        for want in [
            "snippet line 999: k999: v999",
            "snippet line 1000: k1000: v1000",
            "snippet line 1001: name: [oops",
            "label at line 1001, column 7: here",
            "snippet line 1002: after: 1",
        ] {
            assert!(report.contains(want), "{want} in {report}");
        }
        assert!(!report.contains("k998"), "{report}");
    }

    /// S1: what could be secret near an error is hidden; the error line stays.
    #[test]
    fn secrets_near_an_error_are_hidden() {
        let cases: Vec<(String, u32, u32)> = vec![
            // A Secret's data and stringData.
            (
                format!(
                    "kind: Secret\ndata:\n  a: {CANARY}\nstringData:\n  b: x{CANARY}\nmetadata:\n  name: [oops\n"
                ),
                7,
                9,
            ),
            // A runner token, a URL with credentials, under a TOML error.
            (
                format!(
                    "[[runners]]\n  token = \"glrt-{CANARY}\"\n  url = \"https://u:glpat-{CANARY}@gitlab.example.com/\"\n  executor = =\n"
                ),
                4,
                14,
            ),
            // The token under a key that does not say so, and a misspelt key.
            (
                format!(
                    "[[runners]]\n  tokn = \"glrt-{CANARY}\"\n  x = \"GR1348941{CANARY}\"\n  executor = =\n"
                ),
                4,
                14,
            ),
            // last-applied-configuration as a block scalar.
            (
                format!(
                    "metadata:\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: |\n      {{\"data\":{{\"t\":\"{CANARY}\"}}}}\n  name: [\n"
                ),
                5,
                9,
            ),
            // A one-line JSON file.
            (
                format!(
                    r#"{{"kind":"Secret","data":{{"t":"{CANARY}"}},"metadata":{{"annotations":{{"kubectl.kubernetes.io/last-applied-configuration":"{{\"x\":\"{CANARY}\"}}"}},"name":5}},"stringData":{{"u":"{CANARY}"}}}}"#
                ),
                1,
                160,
            ),
            // Pretty JSON.
            (
                format!(
                    "{{\n  \"kind\": \"Secret\",\n  \"data\": {{\n    \"t\": \"{CANARY}\"\n  }},\n  \"metadata\": {{\"name\": 5}}\n}}\n"
                ),
                6,
                25,
            ),
            // An env entry named like a token.
            (
                format!("env:\n- name: CI_JOB_TOKEN\n  value: {CANARY}\n- name: [\n"),
                4,
                9,
            ),
            // The error on the secret itself.
            (
                format!("kind: Secret\nstringData:\n  password: {{{CANARY}\n"),
                3,
                13,
            ),
        ];
        for (text, line, column) in cases {
            let report = at(&text, line, column);
            assert!(!report.contains(CANARY), "{text}\n---\n{report}");
            // The place is the file's (the window's columns may differ where it is cut).
            assert!(
                report.starts_with(&format!("f:{line}:{column}: bad")),
                "{report}"
            );
            assert!(
                report.contains(&format!("label at line {line}, column")),
                "{report}"
            );
        }
    }

    /// S1: serde quotes the bad value; the message does not.
    #[test]
    fn messages_lose_quoted_values() {
        let d = Diagnostic::new(
            &Arc::from("f"),
            "x",
            (1, 1),
            format!("invalid Role at `rules[0].verbs`: invalid type: string \"glrt-{CANARY}\", expected a sequence"),
        )
        .with_help(format!("see https://u:{CANARY}@h/"));
        assert_eq!(
            d.message,
            "invalid Role at `rules[0].verbs`: invalid type: string, expected a sequence"
        );
        assert!(!render(&d).contains(CANARY), "{}", render(&d));
        let d = Diagnostic::new(&Arc::from("f"), "x", (1, 1), "y".repeat(200 << 20));
        assert!(d.message.len() < 2_000);
    }

    /// Control characters in the window, the message and the file name are escaped.
    #[test]
    fn control_characters_are_escaped() {
        let d = Diagnostic::new(
            &Arc::from("f\u{1b}]0;x\u{7}"),
            "name: \u{1b}[2Kfake\u{9b}1m\r\n  x: [\n",
            (2, 6),
            "bad \u{1b}[31m".to_owned(),
        );
        let report = render(&d);
        let shown = format!("{report}{d}");
        assert!(
            !shown.contains(['\u{1b}', '\u{7}', '\u{9b}', '\r']),
            "{shown:?}"
        );
        assert!(shown.contains("\\u{1b}[2Kfake"), "{shown}");
    }

    /// Warnings are built with input text in them: printed, they are cleaned like
    /// diagnostics.
    #[test]
    fn warnings_print_clean() {
        let w = Warning {
            file: Arc::from("f"),
            line: 3,
            message: format!(
                "ServiceAccount `glrt-{CANARY}\u{1b}[2K` defined again {}",
                "z".repeat(100_000)
            ),
        };
        let shown = w.to_string();
        assert!(!shown.contains(CANARY), "{shown}");
        assert!(!shown.contains('\u{1b}'), "{shown}");
        assert!(shown.len() < 2_000);
        assert!(shown.starts_with("f:3: ServiceAccount `"), "{shown}");
    }
}
