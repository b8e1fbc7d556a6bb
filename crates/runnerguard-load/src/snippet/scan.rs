//! One line of YAML, JSON or TOML read token by token, without a parser (the window may
//! start or end anywhere in a document): which of its ranges are values to hide.

use std::ops::Range;

use super::redact::{Open, is_token_byte, sensitive_key};

/// One line, token by token: keys, quoted and plain scalars, flow collections, comments.
#[allow(
    clippy::struct_excessive_bools,
    reason = "independent facts about one line, each read in one place"
)]
pub(super) struct Scanner<'a> {
    s: &'a [u8],
    pub(super) i: usize,
    pub(super) ranges: Vec<Range<usize>>,
    pub(super) opens: Option<Open>,
    /// Hide every scalar that is not a key.
    hide_values: bool,
    /// The line goes on past `s`.
    cut: bool,
    /// Flow collection depth (`{`, `[`).
    depth: usize,
    /// `value` is a credential (an env entry named like one).
    sibling: bool,
    /// This line has `name: <credential-like name>`.
    pub(super) named_secret: bool,
}

impl<'a> Scanner<'a> {
    pub(super) fn new(line: &'a str, hide_values: bool, cut: bool, sibling: bool) -> Self {
        Self {
            s: line.as_bytes(),
            i: 0,
            ranges: Vec::new(),
            opens: None,
            hide_values,
            cut,
            depth: 0,
            sibling,
            named_secret: false,
        }
    }

    fn skip_ws(&self, mut i: usize) -> usize {
        while i < self.s.len() && matches!(self.s[i], b' ' | b'\t') {
            i += 1;
        }
        i
    }

    /// Whether a key separator is at `i`: `:` followed by a space or the end (or anything,
    /// after a quoted key), or a TOML `=` (not `==`, not at the end: base64 padding).
    fn key_sep(&self, i: usize, quoted: bool) -> bool {
        match self.s.get(i) {
            Some(b':') => quoted || self.s.get(i + 1).is_none_or(|b| matches!(b, b' ' | b'\t')),
            Some(b'=') => self.s.get(i + 1).is_some_and(|b| *b != b'='),
            _ => false,
        }
    }

    /// End of a plain (unquoted) word starting at `start`: never before `start`.
    fn plain_end(&self, start: usize) -> usize {
        let s = self.s;
        let mut i = start;
        while i < s.len() {
            let b = s[i];
            if self.depth > 0 && matches!(b, b',' | b'{' | b'}' | b'[' | b']') {
                break;
            }
            if b == b'#' && i > 0 && matches!(s[i - 1], b' ' | b'\t') {
                break;
            }
            if b == b':' && s.get(i + 1).is_none_or(|c| matches!(c, b' ' | b'\t')) {
                break;
            }
            if b == b'=' && i > 0 && self.key_sep(i, false) {
                break;
            }
            i += 1;
        }
        // Trailing spaces belong to no one.
        while i > start && matches!(s[i - 1], b' ' | b'\t') {
            i -= 1;
        }
        i
    }

    fn hide(&mut self, r: Range<usize>) {
        self.ranges.push(r);
    }

    pub(super) fn run(&mut self) {
        let n = self.s.len();
        // Sequence and complex-key indicators.
        loop {
            let i = self.skip_ws(self.i);
            if i < n
                && matches!(self.s[i], b'-' | b'?')
                && self.s.get(i + 1).is_none_or(|b| *b == b' ')
            {
                self.i = i + 1;
            } else {
                self.i = i;
                break;
            }
        }
        while self.i < n {
            self.i = self.skip_ws(self.i);
            if self.i >= n {
                break;
            }
            let start = self.i;
            match self.s[start] {
                b'#' if start == 0 || matches!(self.s[start - 1], b' ' | b'\t') => {
                    if self.hide_values {
                        self.hide(start..n);
                        self.i = n;
                    } else {
                        // A commented-out line is read as one: `# token: ...` hides its value.
                        self.i = start + 1;
                    }
                }
                b'{' | b'[' => {
                    self.depth += 1;
                    self.i += 1;
                }
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    self.i += 1;
                }
                b',' => self.i += 1,
                b'"' | b'\'' => {
                    let end = quoted_end(self.s, start);
                    let after = self.skip_ws(end);
                    if end <= n && self.key_sep(after, true) {
                        let key = unquote(&self.s[start..end]);
                        self.i = after + 1;
                        self.value(&key);
                    } else {
                        if self.hide_values {
                            self.hide(start..end);
                        }
                        self.i = end.max(start + 1);
                    }
                }
                _ => {
                    let end = self.plain_end(start).max(start + 1);
                    let after = self.skip_ws(end);
                    if after < n
                        && (self.s[after] != b'='
                            || self.s[start..end].iter().all(|&b| is_token_byte(b)))
                        && self.key_sep(after, false)
                    {
                        let key = String::from_utf8_lossy(&self.s[start..end]).into_owned();
                        self.i = after + 1;
                        self.value(&key);
                    } else {
                        if self.hide_values {
                            self.hide(start..end);
                        }
                        self.i = end;
                    }
                }
            }
        }
    }

    /// The value after `key:`; hidden whole when the key is sensitive.
    fn value(&mut self, key: &str) {
        let n = self.s.len();
        let sensitive = sensitive_key(key) || (self.sibling && key.eq_ignore_ascii_case("value"));
        let mut j = self.skip_ws(self.i);
        // Anchors and tags come before the value.
        while j < n && matches!(self.s[j], b'&' | b'!') {
            while j < n && !matches!(self.s[j], b' ' | b'\t') {
                j += 1;
            }
            j = self.skip_ws(j);
        }
        if key.eq_ignore_ascii_case("name") && j < n {
            let end = if matches!(self.s[j], b'"' | b'\'') {
                quoted_end(self.s, j)
            } else {
                self.plain_end(j)
            };
            if sensitive_key(&unquote(&self.s[j..end.max(j)])) {
                self.named_secret = true;
                self.sibling = true;
            }
        }
        if !sensitive {
            self.i = j;
            return;
        }
        if j >= n || (self.s[j] == b'#' && j > 0 && matches!(self.s[j - 1], b' ' | b'\t')) {
            // `data:` and children below.
            self.opens = Some(Open::Map);
            self.i = n;
            return;
        }
        match self.s[j] {
            b'|' | b'>'
                if self.s[j + 1..]
                    .iter()
                    .all(|b| matches!(b, b'-' | b'+' | b'0'..=b'9' | b' ' | b'\t')) =>
            {
                self.opens = Some(Open::Scalar);
                self.i = n;
            }
            b'{' | b'[' => {
                if let Some(close) = flow_end(self.s, j) {
                    self.hide(j..close);
                    self.i = close;
                } else {
                    self.hide(j..n);
                    self.opens = Some(Open::Map);
                    self.i = n;
                }
            }
            b'"' | b'\'' => {
                let triple: &'static str = if self.s[j] == b'"' { "\"\"\"" } else { "'''" };
                if self.s[j..].starts_with(triple.as_bytes()) {
                    let close = find(&self.s[j + 3..], triple.as_bytes()).map(|k| j + 3 + k + 3);
                    if let Some(close) = close {
                        self.hide(j..close);
                        self.i = close;
                    } else {
                        self.hide(j..n);
                        self.opens = Some(Open::Until(triple));
                        self.i = n;
                    }
                    return;
                }
                let (end, closed) = quoted(self.s, j);
                self.hide(j..end);
                if !closed {
                    self.opens = Some(Open::Scalar);
                }
                self.i = end.max(j + 1);
            }
            _ => {
                let end = if self.depth > 0 {
                    self.plain_end(j)
                } else {
                    // A plain scalar in block context runs to the end of the line (or a
                    // comment); a TOML bare value too.
                    let mut e = j;
                    while e < n
                        && !(self.s[e] == b'#' && e > 0 && matches!(self.s[e - 1], b' ' | b'\t'))
                    {
                        e += 1;
                    }
                    while e > j && matches!(self.s[e - 1], b' ' | b'\t') {
                        e -= 1;
                    }
                    e
                };
                let word = &self.s[j..end];
                let harmless = matches!(
                    word,
                    b"true" | b"false" | b"null" | b"~" | b"True" | b"False" | b"yes" | b"no"
                );
                if !harmless {
                    self.hide(j..end);
                    // A plain scalar in block context goes on over more-indented lines; a
                    // cut line may go on anyhow.
                    if self.depth == 0 || (end >= n && self.cut) {
                        self.opens = Some(Open::Scalar);
                    }
                }
                self.i = end.max(j + 1);
            }
        }
    }
}

/// The byte after the closing quote of the string opening at `start` (`"` with backslash
/// escapes, `'` with `''`), or the end of `s` when it is not closed.
pub(super) fn quoted_end(s: &[u8], start: usize) -> usize {
    quoted(s, start).0
}

/// [`quoted_end`], and whether the string is closed on this line.
pub(super) fn quoted(s: &[u8], start: usize) -> (usize, bool) {
    let q = s[start];
    let mut i = start + 1;
    while i < s.len() {
        if q == b'"' && s[i] == b'\\' {
            i += 2;
            continue;
        }
        if s[i] == q {
            if q == b'\'' && s.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return (i + 1, true);
        }
        i += 1;
    }
    (s.len(), false)
}

/// The key inside its quotes.
pub(super) fn unquote(s: &[u8]) -> String {
    let s = String::from_utf8_lossy(s);
    s.trim_matches(['"', '\'']).to_owned()
}

/// The byte after the bracket closing the flow collection opening at `start`.
pub(super) fn flow_end(s: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = start;
    while i < s.len() {
        match s[i] {
            b'"' | b'\'' => {
                i = quoted_end(s, i);
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

pub(super) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
