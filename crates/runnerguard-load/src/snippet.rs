//! What a diagnostic keeps of its file, and what it may say (issue #9: S1, C1).
//!
//! A diagnostic shows the lines around an error. Those lines come from files a merge request
//! controls and may hold secrets (a Secret's `data`, a runner `token = "glrt-..."`, a URL with
//! a password, a `last-applied-configuration` annotation), and the file may be one line of
//! hundreds of megabytes. So a diagnostic keeps a [`Snippet`]: at most [`CONTEXT_LINES`] lines
//! each side of the error, each cut to [`WIDTH`] characters around the error, in which
//! anything that could be secret is replaced by [`REDACTED`] and control characters are shown
//! as escapes. Its size is bounded whatever the file.
//!
//! Redaction errs on the side of hiding, since it sees only a window of the file:
//! - values of keys whose name suggests a credential (`token`, `*_token`, `password`,
//!   `secret`, `*key*`, `auth`, ...), in YAML, JSON and TOML syntax alike (`key: v`,
//!   `"key": v`, `key = v`, `--key=v`), block scalars and unclosed strings included;
//! - everything below `data:`, `stringData:`, `binaryData:` and
//!   `last-applied-configuration` (keys stay, values go), found by indentation, looking up to
//!   [`LOOKBACK_LINES`] lines above the window; when the window's parents lie further up, all
//!   its values are hidden;
//! - an env-style `value:` after `name: <credential-like name>`;
//! - `scheme://user:password@` credentials and strings starting with a GitLab (or GitHub)
//!   token prefix, under any key.
//!
//! Messages (from serde, the YAML, JSON and TOML parsers, and the loader) pass through
//! [`message`]: serde's quoted values (`invalid type: string "..."`) are dropped, quoted names
//! cut, tokens and credentials hidden, control characters escaped, the length capped.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::ops::Range;

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};
use runnerguard_model::{SettingValue, terminal};

/// What hidden text is replaced by.
pub(crate) const REDACTED: &str = "<redacted>";
/// Lines kept on each side of the error line.
pub(crate) const CONTEXT_LINES: usize = 2;
/// Characters kept of each line.
pub(crate) const WIDTH: usize = 160;
/// Characters kept before the error when its line is cut.
const BEFORE_ERROR: usize = 60;
/// Lines above the window read (not kept) to learn whether the window is inside a secret
/// block.
pub(crate) const LOOKBACK_LINES: usize = 128;
/// Bytes read of each such line: enough for its key.
const LOOKBACK_WIDTH: usize = 160;
/// When the error line is cut on the left, the cut part is read (not kept) to know what the
/// window is inside of, if it is at most this long; otherwise every value shown is hidden.
const EXACT_PREFIX: usize = 4096;
/// Characters kept of a message or hint.
pub(crate) const MAX_MESSAGE: usize = 400;
/// Characters kept of a quoted name in a message (Kubernetes names have at most 253).
const MAX_QUOTED: usize = 253;
/// A quoted input value in a message longer than this is hidden (serde's "unknown variant":
/// the variants it expects are short words).
const MAX_QUOTED_VALUE: usize = 40;

/// Token prefixes beyond the project's GitLab ones ([`SettingValue::TOKEN_PREFIXES`]):
/// GitLab's service-account style and GitHub's.
const MORE_TOKEN_PREFIXES: &[&str] = &[
    "glsa_",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
];

/// Parts of key names that mark a credential (compared in lower case).
const SENSITIVE_PARTS: &[&str] = &[
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
const SENSITIVE_KEYS: &[&str] = &["data", "stringdata", "binarydata", "pass", "pwd", "env"];

/// Key names that contain a sensitive part but name no secret.
const HARMLESS_SUFFIXES: &[&str] = &["secretname", "automountserviceaccounttoken"];

/// A few lines of a file around an error, cut and redacted, as miette shows them: the
/// [`miette::SourceCode`] of every diagnostic that quotes an input (manifests, and
/// `runnerguard.toml` through runnerguard-config).
#[derive(Debug, Clone)]
pub struct Snippet {
    /// The file's name, escaped.
    name: String,
    /// The window.
    text: String,
    /// 0-based line of the file where the window starts.
    first_line: usize,
    /// 0-based line of the error in the file.
    error_line: usize,
    /// 0-based column of the error in the file (characters).
    column: usize,
    /// Byte offset of the error in [`Self::text`].
    label: usize,
}

impl Snippet {
    /// The window of `text` around 1-based `line`:`column` (columns count characters).
    pub fn new(name: &str, text: &str, line: u32, column: u32) -> Self {
        let line = (line as usize).max(1);
        let col0 = (column as usize).saturating_sub(1);
        let first = line.saturating_sub(CONTEXT_LINES).max(1);
        let last = line + CONTEXT_LINES;
        let look = first.saturating_sub(LOOKBACK_LINES).max(1);
        let mut window = Self {
            name: escape(name).into_owned(),
            text: String::new(),
            first_line: first - 1,
            error_line: line - 1,
            column: col0,
            label: 0,
        };
        let bytes = text.as_bytes();
        let Some(mut pos) = line_start(bytes, look) else {
            return window;
        };
        let mut tracker = Tracker::new(look > 1);
        let mut label = None;
        for n in look..=last {
            if pos > bytes.len() {
                break;
            }
            // Lines up to the error are needed whole, to find the next; the error line and
            // those after it only as far as they are shown: a line of megabytes is not
            // searched to its end, and the window stops after it.
            let mut shown_from = None;
            let bound = match n.cmp(&line) {
                Ordering::Less => bytes.len() - pos,
                Ordering::Equal => {
                    let rest = &text[pos..];
                    let from = char_offset(rest, first_shown(col0));
                    shown_from = Some(from);
                    from + char_offset(&rest[from..], col0 - first_shown(col0) + WIDTH + 1)
                }
                Ordering::Greater => char_offset(&text[pos..], WIDTH + 1),
            };
            let (content, more) = if let Some(i) = memchr::memchr(b'\n', &bytes[pos..pos + bound]) {
                // The line ends before the bound: where it is shown from is counted again.
                shown_from = None;
                let full = &text[pos..pos + i];
                pos += i + 1;
                (full.strip_suffix('\r').unwrap_or(full), true)
            } else {
                let part = &text[pos..pos + bound];
                pos = bytes.len() + 1;
                (part, false)
            };
            if n < first {
                let cut = floor_char_boundary(content, LOOKBACK_WIDTH);
                tracker.look(&content[..cut], cut < content.len());
                continue;
            }
            let (vis_start, vis_end, caret) = if n == line {
                error_cut(content, col0, shown_from)
            } else {
                (0, char_offset(content, WIDTH), None)
            };
            let scan_start = if vis_start <= EXACT_PREFIX {
                0
            } else {
                vis_start
            };
            let region = &content[scan_start..vis_end];
            let mut ranges = tracker.feed(region, scan_start > 0, vis_end < content.len());
            for r in &mut ranges {
                r.start += scan_start;
                r.end += scan_start;
            }
            if vis_start > 0 {
                // A cut word may be the tail of a token whose head is cut off.
                let run = content[vis_start..]
                    .bytes()
                    .take_while(|&b| is_token_byte(b))
                    .count();
                if run > 0 {
                    ranges.push(vis_start..vis_start + run);
                }
            }
            let ranges = merge(ranges);
            let at = render(
                &mut window.text,
                content,
                vis_start..vis_end,
                &ranges,
                caret,
            );
            if n == line {
                label = at;
            }
            if !more {
                break;
            }
            window.text.push('\n');
        }
        window.label = label.unwrap_or(window.text.len());
        window
    }

    /// Byte offset of the error in the window: where a label points.
    pub fn label(&self) -> usize {
        self.label
    }

    /// The window's text (tests).
    #[cfg(test)]
    pub(crate) fn text(&self) -> &str {
        &self.text
    }
}

impl SourceCode for Snippet {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let contents =
            self.text
                .as_str()
                .read_span(span, context_lines_before, context_lines_after)?;
        let line = self.first_line + contents.line();
        // The window's columns differ from the file's where a line is cut or redacted: the
        // error's own position is the file's.
        let column = if line == self.error_line && span.offset() == self.label {
            self.column
        } else {
            contents.column()
        };
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            contents.data(),
            *contents.span(),
            line,
            column,
            contents.line_count(),
        )))
    }
}

/// Byte offset of the start of 1-based line `n`, if the text has that many lines. Whole
/// blocks are skipped by counting their newlines (memchr counts them with SIMD), so finding
/// a line far into a large file costs a fraction of a millisecond per megabyte.
fn line_start(bytes: &[u8], n: usize) -> Option<usize> {
    const BLOCK: usize = 1 << 14;
    if n <= 1 {
        return Some(0);
    }
    // Newlines to pass: the one ending each line before line `n`.
    let mut left = n - 1;
    let mut base = 0;
    while bytes.len() - base > BLOCK {
        let block = &bytes[base..base + BLOCK];
        let newlines = memchr::memchr_iter(b'\n', block).count();
        if newlines >= left {
            break;
        }
        left -= newlines;
        base += BLOCK;
    }
    memchr::memchr_iter(b'\n', &bytes[base..])
        .nth(left - 1)
        .map(|i| base + i + 1)
}

/// Byte offset of character `n` of `s`, or its length. Counts with the library's fast
/// primitives (`is_ascii`, `chars().count()`) on prefixes that hold at least a quarter of the
/// characters left, not one character at a time: an error far into a one-line file of
/// megabytes costs a few passes over the bytes before it.
fn char_offset(s: &str, n: usize) -> usize {
    let mut base = 0;
    let mut left = n;
    while left > 0 {
        let rest = &s[base..];
        if rest.len() <= left {
            // Fewer bytes than characters wanted: at most as many characters.
            return if rest.chars().count() <= left {
                s.len()
            } else {
                base + rest.char_indices().nth(left).map_or(rest.len(), |(i, _)| i)
            };
        }
        // `left` bytes hold at most `left` characters, at least a quarter as many.
        let end = floor_char_boundary(rest, left);
        if end == 0 {
            // One character wider than the bytes left to count: step over it.
            let width = rest.chars().next().map_or(1, char::len_utf8);
            base += width;
            left -= 1;
            continue;
        }
        let block = &rest[..end];
        let chars = if block.is_ascii() {
            end
        } else {
            block.chars().count()
        };
        base += end;
        left -= chars;
    }
    base
}

/// The largest char boundary of `s` at most `n`.
fn floor_char_boundary(s: &str, n: usize) -> usize {
    if n >= s.len() {
        return s.len();
    }
    (0..=n).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0)
}

/// The first character shown of the error line: the start, unless the error is too far
/// along to show with some of what follows it.
fn first_shown(col0: usize) -> usize {
    if col0 + 40 <= WIDTH {
        0
    } else {
        col0 - BEFORE_ERROR
    }
}

/// What is shown of the error line: byte range and the error's byte offset. `start`: the byte
/// offset of [`first_shown`], when known.
fn error_cut(content: &str, col0: usize, start: Option<usize>) -> (usize, usize, Option<usize>) {
    let start_char = first_shown(col0);
    let start = start.unwrap_or_else(|| char_offset(content, start_char));
    let rest = &content[start..];
    let caret = start + char_offset(rest, col0 - start_char);
    let end = start + char_offset(rest, WIDTH);
    // A column past the end of the line points at its end.
    let caret = caret.clamp(start, end);
    (start, end, Some(caret))
}

/// Appends `content[visible]` to `out` with `ranges` replaced by [`REDACTED`] and control
/// characters escaped; returns where `caret` (a byte offset of `content`) landed in `out`.
fn render(
    out: &mut String,
    content: &str,
    visible: Range<usize>,
    ranges: &[Range<usize>],
    caret: Option<usize>,
) -> Option<usize> {
    let mut at = None;
    if visible.start > 0 {
        out.push('…');
    }
    let mut i = visible.start;
    let mut ranges = ranges
        .iter()
        .filter(|r| r.end > visible.start && r.start < visible.end)
        .peekable();
    while i < visible.end {
        if let Some(r) = ranges.peek()
            && r.start <= i
        {
            if caret.is_some_and(|c| c >= i && c < r.end) {
                at = Some(out.len());
            }
            out.push_str(REDACTED);
            i = r.end.min(visible.end).max(i + 1);
            while i < visible.end && !content.is_char_boundary(i) {
                i += 1;
            }
            ranges.next();
            continue;
        }
        if caret == Some(i) {
            at = Some(out.len());
        }
        let Some(c) = content[i..].chars().next() else {
            break;
        };
        push_escaped(out, c);
        i += c.len_utf8();
    }
    if at.is_none() && caret.is_some() {
        at = Some(out.len());
    }
    if visible.end < content.len() {
        out.push('…');
    }
    at
}

/// Whether `c` must not reach a terminal as is: control characters (C0, DEL, C1) and the
/// bidirectional overrides that reorder text on screen.
fn push_escaped(out: &mut String, c: char) {
    let mut buf = [0u8; 4];
    let _ = terminal::write_escaped(out, c.encode_utf8(&mut buf));
}

/// `s` with the characters a terminal would act on shown as escapes (`\u{1b}`):
/// [`terminal::is_unsafe`].
pub(crate) fn escape(s: &str) -> Cow<'_, str> {
    if !terminal::needs_escaping(s) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    let _ = terminal::write_escaped(&mut out, s);
    Cow::Owned(out)
}

/// A message or hint fit to print: serde's quoted string values dropped
/// (`invalid type: string "...", expected` becomes `invalid type: string, expected`), other
/// quoted parts cut or hidden ([`push_quoted`]), tokens and URL credentials hidden, control
/// characters escaped, at most [`MAX_MESSAGE`] characters.
pub(crate) fn message(s: &str) -> String {
    // Work on a bounded prefix: a message may quote a 200 MB scalar.
    let s = &s[..floor_char_boundary(s, MAX_MESSAGE * 8)];
    let mut out = String::with_capacity(s.len().min(MAX_MESSAGE * 4));
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < s.len() {
        let b = bytes[i];
        if b == b'"' {
            let end = quoted_end(bytes, i);
            if out.ends_with("string ") || out.ends_with("str ") || out.ends_with("value ") {
                // serde's `Unexpected::Str`: the value itself, never needed to explain.
                out.pop();
            } else {
                push_quoted(&mut out, &s[i..end], '"', true);
            }
            i = end;
        } else if b == b'`' {
            let end = s[i + 1..].find('`').map_or(s.len(), |j| i + 1 + j + 1);
            // serde's `unknown variant `...``: an input value; other quoted words are names,
            // keys and paths.
            let value = out.ends_with("variant ");
            push_quoted(&mut out, &s[i..end], '`', value);
            i = end;
        } else {
            let next = s[i..].find(['"', '`']).map_or(s.len(), |j| i + j.max(1));
            out.push_str(&s[i..next]);
            i = next;
        }
    }
    let ranges = merge(always_hidden(&out));
    let mut clean = String::with_capacity(out.len());
    render(&mut clean, &out, 0..out.len(), &ranges, None);
    if clean.chars().count() > MAX_MESSAGE {
        let cut = char_offset(&clean, MAX_MESSAGE);
        clean.truncate(cut);
        clean.push_str("… (cut)");
    }
    clean
}

/// A quoted part of a message (with its quotes): hidden when it holds a token or URL
/// credentials, or when it is an input value (`value`) longer than [`MAX_QUOTED_VALUE`]; cut
/// at [`MAX_QUOTED`] characters.
fn push_quoted(out: &mut String, part: &str, quote: char, value: bool) {
    let inner = part
        .strip_prefix(quote)
        .map_or(part, |p| p.strip_suffix(quote).unwrap_or(p));
    out.push(quote);
    let chars = inner.chars().count();
    if !always_hidden(inner).is_empty() || (value && chars > MAX_QUOTED_VALUE) {
        out.push_str(REDACTED);
    } else if chars > MAX_QUOTED {
        out.push_str(&inner[..char_offset(inner, MAX_QUOTED)]);
        out.push('…');
    } else {
        out.push_str(inner);
    }
    out.push(quote);
}

/// Whether a key's value is hidden.
fn sensitive_key(key: &str) -> bool {
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

fn token_prefixes() -> impl Iterator<Item = &'static str> {
    SettingValue::TOKEN_PREFIXES
        .iter()
        .chain(MORE_TOKEN_PREFIXES)
        .copied()
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')
}

/// Ranges of `s` hidden under any key: strings starting with a token prefix, and the
/// `user:password` of `scheme://user:password@host`.
fn always_hidden(s: &str) -> Vec<Range<usize>> {
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
fn one(r: Range<usize>) -> Vec<Range<usize>> {
    std::iter::once(r).collect()
}

/// Sorted, non-overlapping.
fn merge(mut ranges: Vec<Range<usize>>) -> Vec<Range<usize>> {
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
enum Hide {
    /// Only what the rules find.
    Nothing,
    /// Every value; keys stay.
    Values,
    /// Everything (the lines of a secret block scalar or multi-line string).
    All,
}

/// What a line opens for the lines below it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Open {
    /// A secret mapping or sequence (`data:`, `"data": {`): more-indented lines are its.
    Map,
    /// A secret block scalar (`token: |`) or a string left open: more-indented lines are its.
    Scalar,
    /// A secret TOML multi-line string, open until this delimiter.
    Until(&'static str),
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    indent: usize,
    /// What lines below it (more indented) hide.
    hides: Hide,
    /// Whether it opened a secret block (a sequence may then sit at its own indentation).
    opens: bool,
}

/// Follows the structure of the lines read, by indentation, to know which are inside a
/// secret block.
struct Tracker {
    stack: Vec<Entry>,
    /// Inside a secret TOML multi-line string until this delimiter.
    until: Option<&'static str>,
    /// Whether lines whose parents were not seen hide their values.
    unknown_hides: bool,
    /// Lines left for which `value` is a credential (after `name: SOME_TOKEN`).
    sibling: u8,
}

impl Tracker {
    fn new(unknown_hides: bool) -> Self {
        Self {
            stack: Vec::new(),
            until: None,
            unknown_hides,
            sibling: 0,
        }
    }

    /// Reads a line above the window, for its structure only.
    fn look(&mut self, line: &str, cut: bool) {
        self.read(line, false, cut, false);
    }

    /// Reads one line of the window (or the part of it that is looked at); returns the
    /// ranges to hide. `unknown_inline`: the line's start was not read, so its values are
    /// hidden. `cut`: the line goes on past `line`.
    fn feed(&mut self, line: &str, unknown_inline: bool, cut: bool) -> Vec<Range<usize>> {
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

/// One line, token by token: keys, quoted and plain scalars, flow collections, comments.
#[allow(
    clippy::struct_excessive_bools,
    reason = "independent facts about one line, each read in one place"
)]
struct Scanner<'a> {
    s: &'a [u8],
    i: usize,
    ranges: Vec<Range<usize>>,
    opens: Option<Open>,
    /// Hide every scalar that is not a key.
    hide_values: bool,
    /// The line goes on past `s`.
    cut: bool,
    /// Flow collection depth (`{`, `[`).
    depth: usize,
    /// `value` is a credential (an env entry named like one).
    sibling: bool,
    /// This line has `name: <credential-like name>`.
    named_secret: bool,
}

impl<'a> Scanner<'a> {
    fn new(line: &'a str, hide_values: bool, cut: bool, sibling: bool) -> Self {
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

    fn run(&mut self) {
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
fn quoted_end(s: &[u8], start: usize) -> usize {
    quoted(s, start).0
}

/// [`quoted_end`], and whether the string is closed on this line.
fn quoted(s: &[u8], start: usize) -> (usize, bool) {
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
fn unquote(s: &[u8]) -> String {
    let s = String::from_utf8_lossy(s);
    s.trim_matches(['"', '\'']).to_owned()
}

/// The byte after the bracket closing the flow collection opening at `start`.
fn flow_end(s: &[u8], start: usize) -> Option<usize> {
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

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests;
