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
use runnerguard_model::terminal;

mod redact;
mod scan;

use redact::{Tracker, always_hidden, is_token_byte, merge};
use scan::quoted_end;

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

#[cfg(test)]
mod tests;
