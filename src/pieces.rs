//! Where a long Markdown body can be cut so that each piece parses alone.
//!
//! pulldown-cmark builds a tree of its whole input before it yields the first
//! event, several times the size of the input: for a 10 MB post that tree
//! alone passes 60 MB. Parsing a long body a piece at a time keeps it small.
//!
//! A cut is only made where nothing of the previous piece can continue:
//! before an ATX heading at the left margin that follows a blank line,
//! outside fenced code and outside the HTML blocks that run across blank
//! lines. A blank line and an unindented heading close every open container
//! (list item, quote, footnote body, table), so the pieces parse exactly as
//! the whole would, with two exceptions that are carried across:
//! - link reference definitions: collected from every piece and offered to
//!   each piece's parser through its broken-link callback;
//! - footnote definitions: GFM footnotes turn a reference to a label the
//!   parser has not seen defined into plain text, so a piece that refers to a
//!   footnote defined in another piece gets a stand-in definition appended
//!   after its own text. The renderer skips every event that starts past the
//!   piece's own length, so the stand-in is never shown; the real definition
//!   is rendered where it was written.
//!
//! Short bodies are one piece, parsed exactly as before.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::ops::Range;

use pulldown_cmark::CowStr;

/// Bodies are cut into pieces of at least this many bytes.
pub const PIECE_BYTES: usize = 512 * 1024;

/// A piece of a Markdown body and the text its parser sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece<'a> {
    /// Byte offset of the piece in the body.
    pub start: usize,
    /// The piece's own length; events starting at or past it belong to the
    /// stand-in footnote definitions and are skipped.
    pub len: usize,
    /// The piece, with stand-in footnote definitions appended when needed.
    pub text: Cow<'a, str>,
}

/// The body cut into pieces of at least `target` bytes (see the module
/// comment for where cuts are allowed).
pub fn pieces(source: &str, target: usize) -> Vec<Piece<'_>> {
    let ranges = cuts(source, target);
    if ranges.len() < 2 {
        return vec![Piece {
            start: 0,
            len: source.len(),
            text: Cow::Borrowed(source),
        }];
    }
    let defined: Vec<HashSet<String>> = ranges
        .iter()
        .map(|r| footnote_definitions(&source[r.clone()]))
        .collect();
    let mut everywhere: HashSet<&str> = HashSet::new();
    for set in &defined {
        everywhere.extend(set.iter().map(String::as_str));
    }
    ranges
        .iter()
        .zip(&defined)
        .map(|(range, own)| {
            let text = &source[range.clone()];
            let mut borrowed = String::new();
            let mut seen = HashSet::new();
            for label in footnote_references(text) {
                let key = label.to_lowercase();
                if !own.contains(&key) && everywhere.contains(key.as_str()) && seen.insert(key) {
                    borrowed.push_str("\n\n[^");
                    borrowed.push_str(label);
                    borrowed.push_str("]: .\n");
                }
            }
            let text = if borrowed.is_empty() {
                Cow::Borrowed(text)
            } else {
                Cow::Owned(format!("{text}{borrowed}"))
            };
            Piece {
                start: range.start,
                len: range.len(),
                text,
            }
        })
        .collect()
}

/// Link reference definitions gathered from all pieces; the first definition
/// of a label wins, as `CommonMark` says.
#[derive(Debug, Default)]
pub struct LinkDefs(HashMap<String, (String, String)>);

impl LinkDefs {
    pub fn add(&mut self, label: &str, dest: &str, title: &str) {
        self.0
            .entry(label_key(label))
            .or_insert_with(|| (dest.to_owned(), title.to_owned()));
    }

    /// Destination and title for a reference a piece's parser could not
    /// resolve itself.
    pub fn resolve(&self, label: &str) -> Option<(CowStr<'static>, CowStr<'static>)> {
        self.0
            .get(&label_key(label))
            .map(|(d, t)| (CowStr::from(d.clone()), CowStr::from(t.clone())))
    }
}

/// Labels match case-insensitively with runs of white space collapsed.
fn label_key(label: &str) -> String {
    label
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Where the body may be cut: ranges covering `source`, each but the last at
/// least `target` bytes long.
fn cuts(source: &str, target: usize) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    if source.len() <= target {
        ranges.push(0..source.len());
        return ranges;
    }
    let mut piece_start = 0;
    let mut fence: Option<(u8, usize)> = None;
    let mut html_end: Option<&'static [&'static str]> = None;
    let mut prev_blank = true;
    let mut pos = 0;
    while pos < source.len() {
        let end = source[pos..]
            .find('\n')
            .map_or(source.len(), |i| pos + i + 1);
        let line = source[pos..end].trim_end_matches(['\n', '\r']);
        let (indent, rest) = indentation(line);
        if let Some((ch, n)) = fence {
            if indent <= 3 && closes_fence(rest, ch, n) {
                fence = None;
            }
        } else if let Some(ends) = html_end {
            if contains_any(line, ends) {
                html_end = None;
            }
        } else {
            if prev_blank && indent == 0 && pos - piece_start >= target && is_atx_heading(rest) {
                ranges.push(piece_start..pos);
                piece_start = pos;
            }
            if indent <= 3 {
                fence = opens_fence(rest);
                if fence.is_none() {
                    html_end = opens_html(rest);
                }
            }
        }
        prev_blank = rest.trim().is_empty();
        pos = end;
    }
    ranges.push(piece_start..source.len());
    ranges
}

/// Columns of leading indentation (a tab counts as reaching the next stop
/// of 4) and the rest of the line.
fn indentation(line: &str) -> (usize, &str) {
    let mut cols = 0;
    for (i, b) in line.bytes().enumerate() {
        match b {
            b' ' => cols += 1,
            b'\t' => cols += 4 - cols % 4,
            _ => return (cols, &line[i..]),
        }
    }
    (cols, "")
}

fn is_atx_heading(rest: &str) -> bool {
    let hashes = rest.bytes().take_while(|&b| b == b'#').count();
    (1..=6).contains(&hashes) && matches!(rest.as_bytes().get(hashes), None | Some(b' ' | b'\t'))
}

fn opens_fence(rest: &str) -> Option<(u8, usize)> {
    let ch = *rest.as_bytes().first()?;
    if ch != b'`' && ch != b'~' {
        return None;
    }
    let n = rest.bytes().take_while(|&b| b == ch).count();
    // A backtick fence's info string may not contain a backtick: that line
    // is inline code, not a fence.
    (n >= 3 && !(ch == b'`' && rest[n..].contains('`'))).then_some((ch, n))
}

fn closes_fence(rest: &str, ch: u8, n: usize) -> bool {
    let run = rest.bytes().take_while(|&b| b == ch).count();
    run >= n && rest[run..].trim().is_empty()
}

/// The end markers of an HTML block that may contain blank lines (`CommonMark`
/// kinds 1 to 5), when `rest` starts one that does not end on this line.
fn opens_html(rest: &str) -> Option<&'static [&'static str]> {
    const RAW: &[&str] = &["</pre>", "</script>", "</style>", "</textarea>"];
    if !rest.starts_with('<') {
        return None;
    }
    let head: String = rest
        .chars()
        .take(12)
        .collect::<String>()
        .to_ascii_lowercase();
    let (ends, skip): (&'static [&'static str], usize) =
        if ["<pre", "<script", "<style", "<textarea"].iter().any(|t| {
            head.starts_with(t)
                && matches!(
                    head.as_bytes().get(t.len()),
                    None | Some(b' ' | b'\t' | b'>')
                )
        }) {
            (RAW, 1)
        } else if head.starts_with("<!--") {
            (&["-->"], 4)
        } else if head.starts_with("<?") {
            (&["?>"], 2)
        } else if head.starts_with("<![cdata[") {
            (&["]]>"], 9)
        } else if head.starts_with("<!")
            && head.as_bytes().get(2).is_some_and(u8::is_ascii_alphabetic)
        {
            (&[">"], 2)
        } else {
            return None;
        };
    (!contains_any(&rest[skip..], ends)).then_some(ends)
}

fn contains_any(line: &str, needles: &[&str]) -> bool {
    let lower = line.to_ascii_lowercase();
    needles.iter().any(|n| lower.contains(n))
}

/// Whether `text` may hold a link reference definition: a `]:` after a
/// `[` on its line that does not open a footnote label. Anything that can
/// be one (in a quote, a list item, even in code) counts; what matters is
/// that no definition is missed.
pub fn may_define_links(text: &str) -> bool {
    text.match_indices("]:").any(|(at, _)| {
        let line = &text[text[..at].rfind('\n').map_or(0, |i| i + 1)..at];
        // A label may span lines: no `[` before it on its own line counts.
        line.rfind('[')
            .is_none_or(|open| !line[open + 1..].starts_with('^'))
    })
}

/// Footnote labels defined in `text` (`[^label]:` at most three spaces in),
/// lowercased. A definition inside a code block is counted too; the worst
/// that does is lend a stand-in to a reference that had none.
fn footnote_definitions(text: &str) -> HashSet<String> {
    let mut out = HashSet::new();
    for line in text.lines() {
        let (indent, rest) = indentation(line);
        if indent > 3 {
            continue;
        }
        if let Some(after) = rest.strip_prefix("[^")
            && let Some(close) = after.find("]:")
            && close > 0
            && !after[..close].contains(']')
        {
            out.insert(after[..close].to_lowercase());
        }
    }
    out
}

/// Every `[^label]` in `text`, as written.
fn footnote_references(text: &str) -> impl Iterator<Item = &str> {
    text.match_indices("[^").filter_map(move |(at, _)| {
        let after = &text[at + 2..];
        let close = after.find(']')?;
        let label = &after[..close];
        (close > 0 && close <= 999 && !label.contains(['\n', '['])).then_some(label)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn starts(source: &str, target: usize) -> Vec<usize> {
        cuts(source, target).iter().map(|r| r.start).collect()
    }

    #[test]
    fn short_bodies_are_one_piece() {
        let p = pieces("# a\n\ntext\n", 1024);
        assert_eq!(p.len(), 1);
        assert!(matches!(p[0].text, Cow::Borrowed(_)));
    }

    #[test]
    fn cuts_before_headings_after_blank_lines_only() {
        let src = "# one\n\ntext\n# tight\n\n## two\n\nmore\n\n#nospace\n\n### three\n";
        assert_eq!(starts(src, 1), [0, 21, 45]);
        // Pieces cover the body without gaps.
        let r = cuts(src, 1);
        assert_eq!(r.last().unwrap().end, src.len());
        for w in r.windows(2) {
            assert_eq!(w[0].end, w[1].start);
        }
    }

    #[test]
    fn never_cuts_inside_fences_or_html_blocks() {
        let src =
            "a\n\n```py\n\n# comment\n```\n\n<pre>\n\n# x\n</pre>\n\n<!--\n\n# y\n-->\n\n# real\n";
        let cut = starts(src, 1);
        assert_eq!(cut.len(), 2, "{cut:?}");
        assert!(src[cut[1]..].starts_with("# real"));
        // Inline code with three backticks is not a fence.
        let inline = "a\n\n```x``` b\n\n# h\n";
        assert_eq!(starts(inline, 1).len(), 2);
        // A tilde fence is closed only by tildes at least as long.
        let tilde = "a\n\n~~~~\n```\n\n# no\n~~~\n\n# no\n~~~~\n\n# yes\n";
        let cut = starts(tilde, 1);
        assert_eq!(cut.len(), 2, "{cut:?}");
        assert!(tilde[cut[1]..].starts_with("# yes"));
    }

    #[test]
    fn footnotes_defined_elsewhere_get_stand_ins() {
        let src = "# a\n\nsee [^n] and [^N] and [^zz]\n\n# b\n\n[^n]: the note\n";
        let p = pieces(src, 1);
        assert_eq!(p.len(), 2);
        assert!(p[0].text.ends_with("\n\n[^n]: .\n"), "{:?}", p[0].text);
        assert_eq!(p[0].text.matches("]: .").count(), 1);
        assert_eq!(p[1].text, &src[p[1].start..]);
        assert_eq!(p[0].len + p[1].len, src.len());
    }

    #[test]
    fn what_may_define_a_link() {
        assert!(may_define_links("text\n[a]: /url\n"));
        assert!(may_define_links("> - [a]:\n  /url\n"));
        assert!(may_define_links("[multi\nline]: /url\n"));
        assert!(!may_define_links("a [^note] here\n\n[^note]: the note\n"));
        assert!(!may_define_links(
            "[link](url) and [ref] but no definition\n"
        ));
    }

    #[test]
    fn link_definitions_match_like_commonmark_labels() {
        let mut defs = LinkDefs::default();
        defs.add("Foo  Bar", "/one", "");
        defs.add("foo bar", "/two", "");
        let (dest, _) = defs.resolve("FOO BAR").unwrap();
        assert_eq!(&*dest, "/one");
        assert!(defs.resolve("baz").is_none());
    }
}
