//! What is hidden of a line: keys named like credentials, token prefixes and URL
//! credentials anywhere, and the lines inside a secret block, followed by indentation.

use std::ops::Range;

use runnerguard_model::SettingValue;

use super::scan::Scanner;

/// Token prefixes beyond the project's GitLab ones ([`SettingValue::TOKEN_PREFIXES`]):
/// GitLab's service-account style and GitHub's.
pub(super) const MORE_TOKEN_PREFIXES: &[&str] = &[
    "glsa_",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
];

/// Parts of key names that mark a credential (compared in lower case).
pub(super) const SENSITIVE_PARTS: &[&str] = &[
    "token",
    "password",
    "passwd",
    "passphrase",
    "secret",
    "key",
    "credential",
    "auth",
    "dsn",
    "private",
    "cookie",
    "session",
    "bearer",
    "last-applied-configuration",
];

/// Keys whose whole value (a map of secrets, or a copy of the object) is hidden.
pub(super) const SENSITIVE_KEYS: &[&str] =
    &["data", "stringdata", "binarydata", "pass", "pwd", "env"];

/// Key names that contain a sensitive part but name no secret.
pub(super) const HARMLESS_SUFFIXES: &[&str] = &["secretname", "automountserviceaccounttoken"];

/// Whether a key's value is hidden.
pub(super) fn sensitive_key(key: &str) -> bool {
    let key = key
        .trim()
        .trim_matches(['"', '\''])
        .trim_start_matches('-')
        .as_bytes();
    if HARMLESS_SUFFIXES.iter().any(|h| {
        key.len() >= h.len() && key[key.len() - h.len()..].eq_ignore_ascii_case(h.as_bytes())
    }) {
        return false;
    }
    SENSITIVE_KEYS
        .iter()
        .any(|k| key.eq_ignore_ascii_case(k.as_bytes()))
        || SENSITIVE_PARTS.iter().any(|p| {
            key.windows(p.len())
                .any(|w| w.eq_ignore_ascii_case(p.as_bytes()))
        })
}

pub(super) fn token_prefixes() -> impl Iterator<Item = &'static str> {
    SettingValue::TOKEN_PREFIXES
        .iter()
        .chain(MORE_TOKEN_PREFIXES)
        .copied()
}

pub(super) fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')
}

/// Ranges of `s` hidden under any key: strings starting with a token prefix, and the
/// `user:password` of `scheme://user:password@host`.
pub(super) fn always_hidden(s: &str) -> Vec<Range<usize>> {
    let bytes = s.as_bytes();
    let mut ranges = Vec::new();
    // One pass over the bytes, trying the prefixes only where one could start.
    for (i, &b) in bytes.iter().enumerate() {
        if b == b':' && bytes[i..].starts_with(b"://") {
            let from = i + 3;
            let userinfo = bytes[from..]
                .iter()
                .take_while(|&&b| {
                    !(b.is_ascii_whitespace()
                        || matches!(b, b'/' | b'?' | b'#' | b'"' | b'\'' | b'`' | b'@' | b'\\'))
                })
                .count();
            if userinfo > 0 && bytes.get(from + userinfo) == Some(&b'@') {
                ranges.push(from..from + userinfo);
            }
            continue;
        }
        if !b.is_ascii_alphabetic() || (i > 0 && bytes[i - 1].is_ascii_alphanumeric()) {
            continue;
        }
        if let Some(prefix) = token_prefixes().find(|p| bytes[i..].starts_with(p.as_bytes())) {
            let end = i
                + prefix.len()
                + bytes[i + prefix.len()..]
                    .iter()
                    .take_while(|&&b| is_token_byte(b))
                    .count();
            ranges.push(i..end);
        }
    }
    ranges
}

/// A list of one range.
pub(super) fn one(r: Range<usize>) -> Vec<Range<usize>> {
    std::iter::once(r).collect()
}

/// Sorted, non-overlapping.
pub(super) fn merge(mut ranges: Vec<Range<usize>>) -> Vec<Range<usize>> {
    ranges.retain(|r| r.start < r.end);
    ranges.sort_by_key(|r| r.start);
    let mut out: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match out.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => out.push(r),
        }
    }
    out
}

/// How much of a line is hidden.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Hide {
    /// Only what the rules find.
    Nothing,
    /// Every value; keys stay.
    Values,
    /// Everything (the lines of a secret block scalar or multi-line string).
    All,
}

/// What a line opens for the lines below it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Open {
    /// A secret mapping or sequence (`data:`, `"data": {`): more-indented lines are its.
    Map,
    /// A secret block scalar (`token: |`) or a string left open: more-indented lines are its.
    Scalar,
    /// A secret TOML multi-line string, open until this delimiter.
    Until(&'static str),
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Entry {
    indent: usize,
    /// What lines below it (more indented) hide.
    hides: Hide,
    /// Whether it opened a secret block (a sequence may then sit at its own indentation).
    opens: bool,
}

/// Follows the structure of the lines read, by indentation, to know which are inside a
/// secret block.
pub(super) struct Tracker {
    stack: Vec<Entry>,
    /// Inside a secret TOML multi-line string until this delimiter.
    until: Option<&'static str>,
    /// Whether lines whose parents were not seen hide their values.
    unknown_hides: bool,
    /// Lines left for which `value` is a credential (after `name: SOME_TOKEN`).
    sibling: u8,
}

impl Tracker {
    pub(super) fn new(unknown_hides: bool) -> Self {
        Self {
            stack: Vec::new(),
            until: None,
            unknown_hides,
            sibling: 0,
        }
    }

    /// Reads a line above the window, for its structure only.
    pub(super) fn look(&mut self, line: &str, cut: bool) {
        self.read(line, false, cut, false);
    }

    /// Reads one line of the window (or the part of it that is looked at); returns the
    /// ranges to hide. `unknown_inline`: the line's start was not read, so its values are
    /// hidden. `cut`: the line goes on past `line`.
    pub(super) fn feed(
        &mut self,
        line: &str,
        unknown_inline: bool,
        cut: bool,
    ) -> Vec<Range<usize>> {
        self.read(line, unknown_inline, cut, true)
    }

    fn read(
        &mut self,
        line: &str,
        unknown_inline: bool,
        cut: bool,
        shown: bool,
    ) -> Vec<Range<usize>> {
        if let Some(delim) = self.until {
            return match line.find(delim) {
                Some(i) => {
                    self.until = None;
                    one(0..i)
                }
                None => one(0..line.len()),
            };
        }
        if unknown_inline {
            // The line's start, and so its indentation, was not read: it changes nothing
            // below, and shows keys at most.
            let hide = self
                .stack
                .last()
                .map_or(Hide::Values, |top| top.hides.max_with(Hide::Values));
            if hide == Hide::All {
                return one(0..line.len());
            }
            let mut scan = Scanner::new(line, true, cut, false);
            scan.run();
            let mut ranges = scan.ranges;
            ranges.extend(always_hidden(line));
            return ranges;
        }
        let trimmed = line.trim_start_matches([' ', '\t']);
        let indent = line.len() - trimmed.len();
        let blank = trimmed.is_empty() || trimmed.starts_with('#');
        let is_item = trimmed.starts_with("- ") || trimmed == "-";
        if !blank {
            while let Some(top) = self.stack.last() {
                if top.indent > indent || (top.indent == indent && !(top.opens && is_item)) {
                    self.stack.pop();
                } else {
                    break;
                }
            }
        }
        let inherited = match self.stack.last() {
            Some(top) if top.indent < indent || !blank => top.hides,
            Some(_) => Hide::Nothing,
            None => {
                let structural = trimmed.starts_with(['{', '[', '}', ']', '-']);
                if indent == 0 || structural || !self.unknown_hides {
                    Hide::Nothing
                } else {
                    Hide::Values
                }
            }
        };
        let hide = inherited;
        if hide == Hide::All {
            if !blank {
                self.stack.push(Entry {
                    indent,
                    hides: Hide::All,
                    opens: false,
                });
            }
            return one(indent..line.len());
        }
        let mut scan = Scanner::new(line, hide == Hide::Values, cut, self.sibling > 0);
        scan.i = indent;
        scan.run();
        let mut ranges = scan.ranges;
        if shown {
            ranges.extend(always_hidden(line));
        }
        if scan.named_secret {
            self.sibling = 2;
        } else {
            self.sibling = self.sibling.saturating_sub(1);
        }
        if !blank {
            let hides = match scan.opens {
                Some(Open::Scalar | Open::Until(_)) => Hide::All,
                Some(Open::Map) => Hide::Values.max_with(hide),
                None => hide,
            };
            if let Some(Open::Until(d)) = scan.opens {
                self.until = Some(d);
            }
            self.stack.push(Entry {
                indent,
                hides,
                opens: scan.opens.is_some(),
            });
        }
        ranges
    }
}

impl Hide {
    fn max_with(self, other: Self) -> Self {
        match (self, other) {
            (Self::All, _) | (_, Self::All) => Self::All,
            (Self::Values, _) | (_, Self::Values) => Self::Values,
            _ => Self::Nothing,
        }
    }
}
