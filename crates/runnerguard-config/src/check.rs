//! The checks any use of the file makes of its values, each failure a diagnostic at the value
//! that caused it: names Kubernetes would accept, namespaces of the setup's own, a GitLab URL,
//! a value from a list. `runnerguard generate` adds what its setup relies on.

use std::ops::Range;

use crate::{ConfigDiagnostic, MAX_PROBLEMS, Source, Spanned, TOKEN_HELP};

/// Namespaces that belong to Kubernetes itself: no tenant or manager goes there.
pub const SYSTEM_NAMESPACES: &[&str] =
    &["default", "kube-system", "kube-public", "kube-node-lease"];

/// The problems found in a file, each placed: what validation adds to as it goes.
pub struct Checks<'a> {
    source: &'a Source<'a>,
    problems: Vec<ConfigDiagnostic>,
}

impl<'a> Checks<'a> {
    /// No problems yet in `source`.
    pub fn new(source: &'a Source<'a>) -> Self {
        Self {
            source,
            problems: Vec::new(),
        }
    }

    /// Records a problem at `span` (see [`Source::error`]).
    pub fn error(&mut self, span: &Range<usize>, message: impl Into<String>, help: Option<String>) {
        self.problems.push(self.source.error(span, message, help));
    }

    /// `value` when nothing was found, else the problems, sorted by place: the first
    /// [`MAX_PROBLEMS`].
    pub fn finish<T>(self, value: T) -> Result<T, Vec<ConfigDiagnostic>> {
        if self.problems.is_empty() {
            Ok(value)
        } else {
            Err(first_problems(self.problems))
        }
    }

    /// `value` of `key` is not one of `allowed`.
    pub fn one_of(&mut self, span: &Range<usize>, key: &str, value: &str, allowed: &[&str]) {
        self.error(
            span,
            format!("`{key}` cannot be `{value}`"),
            Some(use_one_of(allowed)),
        );
    }

    /// Whether `s` is a DNS-1123 label (a namespace, a tenant name); a problem if not.
    pub fn dns_label(&mut self, s: &Spanned<String>, what: &str) -> bool {
        if is_dns_label(&s.value) {
            return true;
        }
        self.error(
        &s.span,
        format!("`{}` is not a valid {what}", s.value),
        Some("use lowercase letters, digits and `-` (at most 63, starting and ending with a letter or digit)".to_owned()),
    );
        false
    }

    /// Whether `s` can be a namespace of the setup: a DNS label, not one of Kubernetes' own.
    pub fn namespace(&mut self, s: &Spanned<String>, what: &str) -> bool {
        if !self.dns_label(s, what) {
            return false;
        }
        if SYSTEM_NAMESPACES.contains(&s.value.as_str()) {
            self.error(
                &s.span,
                format!(
                    "`{}` belongs to Kubernetes itself and cannot be the {what}",
                    s.value
                ),
                Some("use a namespace of its own".to_owned()),
            );
            return false;
        }
        true
    }

    /// Whether `s` is a DNS-1123 subdomain (ServiceAccount and Secret names): labels joined by
    /// `.`, at most 253 characters; a problem if not.
    pub fn dns_subdomain(&mut self, s: &Spanned<String>, what: &str) -> bool {
        if s.value.len() <= 253 && s.value.split('.').all(is_dns_label) {
            return true;
        }
        self.error(
            &s.span,
            format!("`{}` is not a valid {what} name", s.value),
            Some("use lowercase letters, digits, `-` and `.`".to_owned()),
        );
        false
    }

    /// Whether `url` is an `https://` address of a GitLab instance, without credentials.
    pub fn gitlab_url(&mut self, url: &Spanned<String>) -> bool {
        let u = url.value.trim();
        let Some(rest) = u
            .strip_prefix("https://")
            .or_else(|| u.strip_prefix("http://"))
        else {
            self.error(
            &url.span,
            format!("`{u}` is not a GitLab URL"),
            Some(
                "write the instance's address, e.g. gitlab_url = \"https://gitlab.example.com/\""
                    .to_owned(),
            ),
        );
            return false;
        };
        let host = rest.split('/').next().unwrap_or_default();
        if host.contains('@') {
            self.error(
                &url.span,
                "the GitLab URL carries credentials (`user:secret@`)".to_owned(),
                Some(TOKEN_HELP.to_owned()),
            );
            return false;
        }
        if host.is_empty() || u.contains(char::is_whitespace) {
            self.error(&url.span, format!("`{u}` has no host"), None);
            return false;
        }
        if u.starts_with("http://") {
            self.error(
            &url.span,
            "the GitLab URL uses plain http: the runner token and every job's secrets would cross the network unencrypted".to_owned(),
            Some("use https://".to_owned()),
        );
            return false;
        }
        true
    }
}

/// `problems` sorted by place, the first [`MAX_PROBLEMS`] of them: what a file's reader
/// and its checks report.
pub(crate) fn first_problems(mut problems: Vec<ConfigDiagnostic>) -> Vec<ConfigDiagnostic> {
    problems.sort_by_key(|d| (d.line, d.column));
    problems.truncate(MAX_PROBLEMS);
    problems
}

/// The help of a value not among `allowed`: `use one of: "a", "b"`.
pub(crate) fn use_one_of(allowed: &[&str]) -> String {
    let quoted: Vec<String> = allowed.iter().map(|a| format!("\"{a}\"")).collect();
    format!("use one of: {}", quoted.join(", "))
}

/// A DNS-1123 label (namespaces, tenant names): lowercase alphanumerics and `-`, at most
/// 63 characters, starting and ending alphanumeric.
fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(
        f: impl FnOnce(&mut Checks<'_>, &Spanned<String>) -> bool,
        value: &str,
    ) -> Result<bool, String> {
        let text = format!("k = \"{value}\"\n");
        let source = Source::new("f", &text);
        let mut checks = Checks::new(&source);
        let s = Spanned {
            value: value.to_owned(),
            span: 4..4 + value.len() + 2,
        };
        let ok = f(&mut checks, &s);
        checks.finish(ok).map_err(|e| {
            e.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        })
    }

    #[test]
    fn names() {
        assert!(is_dns_label("a-1"));
        for bad in ["", "-a", "a-", "A", "a.b", &"a".repeat(64)] {
            assert!(!is_dns_label(bad), "{bad}");
        }
        assert_eq!(check(|c, s| c.dns_subdomain(s, "x"), "a.b-c"), Ok(true));
        assert_eq!(
            check(|c, s| c.namespace(s, "job namespace"), "kube-system"),
            Err("f:1:5: `kube-system` belongs to Kubernetes itself and cannot be the job namespace\n  help: use a namespace of its own".to_owned())
        );
        assert_eq!(
            check(|c, s| c.dns_label(s, "tenant name"), "Web"),
            Err("f:1:5: `Web` is not a valid tenant name\n  help: use lowercase letters, digits and `-` (at most 63, starting and ending with a letter or digit)".to_owned())
        );
    }

    #[test]
    fn problems_are_bounded() {
        let source = Source::new("f", "k = 1\n");
        let mut checks = Checks::new(&source);
        for _ in 0..=MAX_PROBLEMS {
            checks.error(&(0..1), "bad", None);
        }
        assert_eq!(checks.finish(()).unwrap_err().len(), MAX_PROBLEMS);
        let mut checks = Checks::new(&source);
        checks.error(&(0..1), "bad", None);
        assert_eq!(checks.finish(()).unwrap_err().len(), 1);
    }

    #[test]
    #[expect(
        clippy::redundant_closure_for_method_calls,
        reason = "the method's lifetime is the impl's: only a closure is general enough"
    )]
    fn gitlab_urls() {
        assert_eq!(
            check(|c, s| c.gitlab_url(s), "https://gitlab.example.com/"),
            Ok(true)
        );
        for (url, want) in [
            ("gitlab.example.com", "is not a GitLab URL"),
            ("https://u:p@gitlab.example.com/", "carries credentials"),
            ("https:///x", "has no host"),
            ("http://gitlab.example.com", "uses plain http"),
        ] {
            let got = check(|c, s| c.gitlab_url(s), url).unwrap_err();
            assert!(got.contains(want), "{url}: {got}");
        }
    }
}
