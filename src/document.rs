//! What the Markdown renderer produces: lines already wrapped to a width, so a
//! heading's line index is exactly the scroll offset that puts it on top.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Range;

use ratatui::style::Style;
use ratatui::text::{Line, Span};

/// A laid-out post.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Document {
    /// Styled lines, none wider than `width` columns.
    pub lines: Lines,
    /// Byte offset into the Markdown source of the content that starts each
    /// line (same length as `lines`, non-decreasing). Used to keep the reader
    /// anchored to the same text when the width changes.
    pub offsets: Vec<usize>,
    /// Headings in document order.
    pub headings: Vec<Heading>,
    /// Links in document order, which is by [`Link::line`] (the cells of a
    /// table row are sorted by line too).
    pub links: Vec<Link>,
    /// How each line relates to the text (same length as `lines`; a missing
    /// entry means the default): what search needs to join a paragraph's
    /// wrapped lines again and to skip indentation.
    pub flow: Vec<LineFlow>,
    /// Code blocks in document order, for copying one.
    pub code_blocks: Vec<CodeBlock>,
    /// The width the lines were laid out for.
    pub width: u16,
    /// The whole post's words, for its reading time in the status bar; 0
    /// when not counted (a bare render).
    pub words: usize,
    /// Pictures drawn in rows kept free for them, in document order.
    pub pictures: Vec<Picture>,
}

/// A picture's place in the document: rows `line..line + rows` are kept
/// blank for it, under its alt-text line, before it is decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    /// The first of its rows.
    pub line: usize,
    pub rows: u16,
    pub cols: u16,
    /// Its source as written (sanitized).
    pub src: String,
    pub alt: String,
}

/// The most bytes of a code block's text a document keeps for copying:
/// far past what a clipboard copy takes, so a longer block is only counted
/// (and said to be too long) rather than held twice in memory.
pub const MAX_CODE_TEXT: usize = 64 * 1024;

/// A code block as laid out: where it shows and the text a copy takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeBlock {
    /// Lines `lines` of the document show it (label included).
    pub lines: Range<usize>,
    /// Display column where its rows start (past any indentation).
    pub column: usize,
    /// Its text as written (sanitized, tabs kept, no final newline), without
    /// the language label, continuation markers or padding; `None` when it
    /// is longer than [`MAX_CODE_TEXT`].
    pub text: Option<String>,
    /// Bytes of its text.
    pub bytes: usize,
    /// Lines of its text.
    pub text_lines: usize,
}

/// How a line continues the one above it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Join {
    /// It starts a new block (or is not text).
    #[default]
    Start,
    /// It continues a paragraph wrapped at a space.
    Space,
    /// It continues a word cut by wrapping (or text that breaks without
    /// spaces, such as CJK).
    Tight,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LineFlow {
    /// Leading spans that are decoration (indentation, list markers, quote
    /// bars), not text.
    pub decoration: u16,
    pub join: Join,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heading {
    /// 1 to 6.
    pub level: u8,
    /// Plain, sanitized text.
    pub text: String,
    /// GitHub-style slug, unique within the document (`intro`, `intro-1`).
    pub anchor: String,
    /// Index into [`Document::lines`].
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Plain, sanitized link text.
    pub text: String,
    /// Sanitized destination, as written in the source.
    pub url: String,
    /// Index into [`Document::lines`] of the line the link text starts on.
    pub line: usize,
    /// Display column in that line where the link text starts (0 when the
    /// link has no text).
    pub column: usize,
    /// Where the link's text is shown, one area per line it covers. Empty
    /// for a link nested inside another (an image inside a link), whose
    /// areas cover it, and for a link without text.
    pub areas: Vec<LinkArea>,
    /// An image (`![alt](src)`): `text` is its alt text, `url` its source.
    pub image: bool,
}

/// Columns `start..end` of line `line` show (part of) a link's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkArea {
    pub line: usize,
    pub start: usize,
    pub end: usize,
}

impl Document {
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Index of the heading whose section contains `line` (the last heading at
    /// or above it), if any.
    pub fn heading_at(&self, line: usize) -> Option<usize> {
        let after = self.headings.partition_point(|h| h.line <= line);
        after.checked_sub(1)
    }

    /// The first heading strictly below `line`.
    pub fn next_heading(&self, line: usize) -> Option<&Heading> {
        let i = self.headings.partition_point(|h| h.line <= line);
        self.headings.get(i)
    }

    /// The last heading strictly above `line`.
    pub fn prev_heading(&self, line: usize) -> Option<&Heading> {
        let i = self.headings.partition_point(|h| h.line < line);
        i.checked_sub(1).map(|i| &self.headings[i])
    }

    /// The chain of headings enclosing `line`, outermost first
    /// (`Intro › Setup › Linux`).
    pub fn section_path(&self, line: usize) -> Vec<&Heading> {
        let Some(mut i) = self.heading_at(line) else {
            return Vec::new();
        };
        let mut path = vec![&self.headings[i]];
        let mut level = self.headings[i].level;
        while i > 0 && level > 1 {
            i -= 1;
            if self.headings[i].level < level {
                level = self.headings[i].level;
                path.push(&self.headings[i]);
            }
        }
        path.reverse();
        path
    }

    /// Source offset of the content at the start of `line`.
    pub fn offset_of_line(&self, line: usize) -> usize {
        self.offsets
            .get(line.min(self.offsets.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    }

    /// The line that best shows source offset `offset`: the first of the
    /// lines that start at the greatest offset not after it (several lines
    /// can share one offset, e.g. decoration above a block).
    pub fn line_for_offset(&self, offset: usize) -> usize {
        let after = self.offsets.partition_point(|&o| o <= offset);
        let Some(&best) = after.checked_sub(1).and_then(|i| self.offsets.get(i)) else {
            return 0;
        };
        self.offsets.partition_point(|&o| o < best)
    }

    /// Puts `lines` (e.g. a notice about broken frontmatter) above the
    /// document, keeping heading and link line numbers true.
    pub fn prepend(&mut self, lines: &[Line<'_>]) {
        let n = lines.len();
        if n == 0 {
            return;
        }
        let mut all: Lines = lines.iter().collect();
        all.extend(&self.lines);
        self.lines = all;
        self.offsets.splice(0..0, std::iter::repeat_n(0, n));
        if !self.flow.is_empty() {
            self.flow
                .splice(0..0, std::iter::repeat_n(LineFlow::default(), n));
        }
        for h in &mut self.headings {
            h.line += n;
        }
        for l in &mut self.links {
            l.line += n;
            for a in &mut l.areas {
                a.line += n;
            }
        }
        for c in &mut self.code_blocks {
            c.lines = c.lines.start + n..c.lines.end + n;
        }
        for p in &mut self.pictures {
            p.line += n;
        }
    }

    /// The pictures with a row among `lines`.
    pub fn pictures_on(&self, lines: Range<usize>) -> impl Iterator<Item = &Picture> {
        let first = self
            .pictures
            .partition_point(|p| p.line + usize::from(p.rows) <= lines.start);
        self.pictures[first..]
            .iter()
            .take_while(move |p| p.line < lines.end)
    }

    /// The code blocks with a line among `lines`, with their indices.
    pub fn code_blocks_on(&self, lines: Range<usize>) -> impl Iterator<Item = (usize, &CodeBlock)> {
        let first = self
            .code_blocks
            .partition_point(|c| c.lines.end <= lines.start);
        self.code_blocks[first..]
            .iter()
            .enumerate()
            .map(move |(i, c)| (first + i, c))
            .take_while(move |(_, c)| c.lines.start < lines.end)
    }

    /// The links whose text shows on one of `lines`, with their indices.
    /// Found by a binary search, so the screen of a long post costs no more
    /// than that of a short one; a link that starts a few links before the
    /// range can still reach into it, so those are looked at too.
    pub fn links_on(&self, lines: Range<usize>) -> impl Iterator<Item = (usize, &Link)> {
        const LOOK_BACK: usize = 16;
        let first = self
            .links
            .partition_point(|l| l.line < lines.start)
            .saturating_sub(LOOK_BACK);
        self.links[first..]
            .iter()
            .enumerate()
            .map(move |(i, l)| (first + i, l))
            .take_while(move |(_, l)| l.line < lines.end)
            .filter(move |(_, l)| {
                lines.contains(&l.line) || l.areas.iter().any(|a| lines.contains(&a.line))
            })
    }

    /// Heading with the given anchor slug.
    pub fn heading_by_anchor(&self, anchor: &str) -> Option<&Heading> {
        self.headings.iter().find(|h| h.anchor == anchor)
    }
}

/// A document's lines, stored compactly: one string holding the text of all
/// lines, and for each line its runs of (length, style). A 10 MB post lays
/// out into some 200,000 lines and 850,000 spans; as ratatui `Line`s with an
/// owned string per span that took 66 MB, stored this way about 24 MB. The
/// reader only ever needs the screenful it draws, which [`Lines::get`] builds
/// as borrowed `Line`s on the fly.
#[derive(Clone, Default)]
pub struct Lines(Box<Store>);

/// Boxed so that a `Document` stays as small to move as it was with a
/// `Vec<Line>`.
#[derive(Clone, Default)]
struct Store {
    text: String,
    runs: Vec<Run>,
    /// For each line, where its text and its runs start.
    starts: Vec<(usize, usize)>,
    styles: Vec<Style>,
}

/// Style numbers of a [`Lines`] being built, so that adding a span does not
/// search the style table (kept outside `Lines`: only the builder needs it).
/// Consecutive spans mostly share a style, so the last one is kept aside.
#[derive(Debug, Default)]
pub struct StyleIds {
    map: HashMap<Style, u32, BuildHasherDefault<StyleHasher>>,
    last: Option<(Style, u32)>,
}

/// A multiply-rotate hash (as in rustc's `FxHasher`): styles are a few
/// small integers from our own theme, so `SipHash`'s protection against
/// chosen keys buys nothing, and it was 3% of laying out a long post.
#[derive(Default)]
struct StyleHasher(u64);

impl StyleHasher {
    fn add(&mut self, x: u64) {
        self.0 = (self.0.rotate_left(5) ^ x).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for StyleHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, x: u8) {
        self.add(u64::from(x));
    }

    fn write_u16(&mut self, x: u16) {
        self.add(u64::from(x));
    }

    fn write_u32(&mut self, x: u32) {
        self.add(u64::from(x));
    }

    fn write_u64(&mut self, x: u64) {
        self.add(x);
    }

    fn write_usize(&mut self, x: usize) {
        self.add(x as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Run {
    len: u32,
    style: u32,
}

impl Lines {
    /// Room for about this many bytes of text, spans and lines. Reserving
    /// up front spares a long post the moment a doubling buffer holds two
    /// copies of its text; pages of a reservation never written are never
    /// resident. [`Lines::shrink_to_fit`] returns what was not used.
    pub fn with_capacity(text: usize, spans: usize, lines: usize) -> Lines {
        Lines(Box::new(Store {
            text: String::with_capacity(text),
            runs: Vec::with_capacity(spans),
            starts: Vec::with_capacity(lines),
            styles: Vec::new(),
        }))
    }

    pub fn shrink_to_fit(&mut self) {
        self.0.text.shrink_to_fit();
        self.0.runs.shrink_to_fit();
        self.0.starts.shrink_to_fit();
    }

    pub fn len(&self) -> usize {
        self.0.starts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.starts.is_empty()
    }

    /// Appends a line; its spans are kept as they are (not merged), so a
    /// line reads back exactly as it was pushed.
    pub fn push(&mut self, line: &Line<'_>) {
        self.push_with(line, &mut StyleIds::default());
    }

    /// [`Lines::push`] for a builder adding many lines, which keeps `ids`
    /// from call to call (used with only these lines).
    pub fn push_with(&mut self, line: &Line<'_>, ids: &mut StyleIds) {
        self.push_parts(
            line.spans
                .iter()
                .map(|span| (span.content.as_ref(), line.style.patch(span.style))),
            ids,
        );
    }

    /// Appends a line of (text, style) spans, kept as they are: a builder
    /// can lay its text out anywhere and need not make a `Line` of owned
    /// spans first.
    pub fn push_parts<'s>(
        &mut self,
        parts: impl IntoIterator<Item = (&'s str, Style)>,
        ids: &mut StyleIds,
    ) {
        self.0.starts.push((self.0.text.len(), self.0.runs.len()));
        for (text, style) in parts {
            let style = self.style_id(style, ids);
            let mut rest = text;
            loop {
                // A run longer than u32 can count is stored as several.
                let mut cut = rest.len().min(u32::MAX as usize);
                while !rest.is_char_boundary(cut) {
                    cut -= 1;
                }
                self.0.text.push_str(&rest[..cut]);
                self.0.runs.push(Run {
                    len: u32::try_from(cut).unwrap_or(u32::MAX),
                    style,
                });
                rest = &rest[cut..];
                if rest.is_empty() {
                    break;
                }
            }
        }
    }

    /// Takes every line but the last, leaving that one: a renderer that
    /// hands finished lines on (`--print` of a long post) keeps the last
    /// one, which the next block's spacing looks at.
    #[must_use]
    pub fn take_all_but_last(&mut self) -> Lines {
        let n = self.len();
        if n < 2 {
            return Lines::default();
        }
        let (text_at, run_at) = self.0.starts[n - 1];
        let last = Store {
            text: self.0.text[text_at..].to_owned(),
            runs: self.0.runs[run_at..].to_vec(),
            starts: vec![(0, 0)],
            styles: self.0.styles.clone(),
        };
        let mut head = std::mem::replace(&mut *self.0, last);
        head.text.truncate(text_at);
        head.runs.truncate(run_at);
        head.starts.truncate(n - 1);
        Lines(Box::new(head))
    }

    /// Appends all of `other`'s lines.
    pub fn extend(&mut self, other: &Lines) {
        let mut ids = StyleIds::default();
        for line in other {
            self.push_with(&line, &mut ids);
        }
    }

    /// Line `i`, borrowing its text.
    pub fn get(&self, i: usize) -> Option<Line<'_>> {
        let &(mut at, first) = self.0.starts.get(i)?;
        let (_, end) = self.bounds(i);
        let spans: Vec<Span<'_>> = self.0.runs[first..end]
            .iter()
            .map(|run| {
                let len = run.len as usize;
                let span = Span::styled(
                    &self.0.text[at..at + len],
                    self.0.styles[run.style as usize],
                );
                at += len;
                span
            })
            .collect();
        Some(Line::from(spans))
    }

    /// The plain text of line `i` (all its spans, no styles).
    pub fn text(&self, i: usize) -> &str {
        let Some(&(start, _)) = self.0.starts.get(i) else {
            return "";
        };
        let end = self
            .0
            .starts
            .get(i + 1)
            .map_or(self.0.text.len(), |&(t, _)| t);
        &self.0.text[start..end]
    }

    pub fn iter(&self) -> LinesIter<'_> {
        LinesIter {
            lines: self,
            range: 0..self.len(),
        }
    }

    /// End of line `i`'s runs (start of the next line's).
    fn bounds(&self, i: usize) -> (usize, usize) {
        let next = self
            .0
            .starts
            .get(i + 1)
            .map_or(self.0.runs.len(), |&(_, r)| r);
        (self.0.starts[i].1, next)
    }

    fn style_id(&mut self, style: Style, ids: &mut StyleIds) -> u32 {
        if let Some((last, id)) = ids.last
            && last == style
        {
            return id;
        }
        let id = *ids.map.entry(style).or_insert_with(|| {
            // Looked up here too: `ids` may be new while the table is not.
            self.0.styles.iter().position(|s| *s == style).map_or_else(
                || {
                    self.0.styles.push(style);
                    u32::try_from(self.0.styles.len() - 1).unwrap_or(u32::MAX)
                },
                |i| u32::try_from(i).unwrap_or(u32::MAX),
            )
        });
        ids.last = Some((style, id));
        id
    }
}

/// The lines of a [`Lines`], each built when it is reached.
pub struct LinesIter<'a> {
    lines: &'a Lines,
    range: std::ops::Range<usize>,
}

impl<'a> Iterator for LinesIter<'a> {
    type Item = Line<'a>;

    fn next(&mut self) -> Option<Line<'a>> {
        self.range.next().and_then(|i| self.lines.get(i))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.range.size_hint()
    }

    // Skipping to the screen's first line must not build every line above it.
    fn nth(&mut self, n: usize) -> Option<Line<'a>> {
        self.range.nth(n).and_then(|i| self.lines.get(i))
    }
}

impl DoubleEndedIterator for LinesIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.range.next_back().and_then(|i| self.lines.get(i))
    }
}

impl ExactSizeIterator for LinesIter<'_> {}

impl<'a> IntoIterator for &'a Lines {
    type Item = Line<'a>;
    type IntoIter = LinesIter<'a>;

    fn into_iter(self) -> LinesIter<'a> {
        self.iter()
    }
}

impl<'l, 'a> FromIterator<&'l Line<'a>> for Lines
where
    'a: 'l,
{
    fn from_iter<I: IntoIterator<Item = &'l Line<'a>>>(iter: I) -> Self {
        let mut lines = Lines::default();
        let mut ids = StyleIds::default();
        for line in iter {
            lines.push_with(line, &mut ids);
        }
        lines
    }
}

/// Equal when the lines read back the same, however they were stored.
impl PartialEq for Lines {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().zip(other.iter()).all(|(a, b)| a == b)
    }
}

impl Eq for Lines {}

/// Reads like the `Vec<Line>` it stands for, so snapshots show styles.
impl fmt::Debug for Lines {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Document {
        let h = |level, text: &str, line| Heading {
            level,
            text: text.into(),
            anchor: text.to_lowercase(),
            line,
        };
        Document {
            lines: std::iter::repeat_n(&Line::default(), 40).collect(),
            offsets: (0..40).map(|i| i * 10).collect(),
            headings: vec![h(1, "A", 0), h(2, "B", 10), h(3, "C", 20), h(2, "D", 30)],
            links: vec![],
            code_blocks: vec![],
            flow: vec![],
            width: 80,
            words: 0,
            pictures: vec![],
        }
    }

    #[test]
    fn heading_navigation() {
        let d = doc();
        assert_eq!(d.next_heading(0).unwrap().text, "B");
        assert_eq!(d.next_heading(10).unwrap().text, "C");
        assert!(d.next_heading(30).is_none());
        assert_eq!(d.prev_heading(10).unwrap().text, "A");
        assert_eq!(d.prev_heading(15).unwrap().text, "B");
        assert!(d.prev_heading(0).is_none());
        assert_eq!(d.heading_at(25), Some(2));
    }

    #[test]
    fn section_path_lists_parents() {
        let d = doc();
        let names: Vec<_> = d.section_path(25).iter().map(|h| h.text.as_str()).collect();
        assert_eq!(names, ["A", "B", "C"]);
        let names: Vec<_> = d.section_path(35).iter().map(|h| h.text.as_str()).collect();
        assert_eq!(names, ["A", "D"]);
    }

    #[test]
    fn offsets_round_trip() {
        let d = doc();
        assert_eq!(d.line_for_offset(d.offset_of_line(17)), 17);
        assert_eq!(d.line_for_offset(175), 17);
    }

    #[test]
    fn shared_offsets_pick_the_first_line() {
        let mut d = doc();
        d.offsets = vec![0, 0, 0, 5, 5, 9];
        assert_eq!(d.line_for_offset(0), 0);
        assert_eq!(d.line_for_offset(7), 3);
        assert_eq!(d.line_for_offset(100), 5);
    }

    #[test]
    fn lines_read_back_as_pushed() {
        use ratatui::style::Stylize;
        let pushed = vec![
            Line::from(vec![
                Span::raw("plain "),
                "bold".bold(),
                Span::raw(""),
                "é✓".red(),
            ]),
            Line::default(),
            Line::from("x").style(Style::new().italic()),
            Line::from(vec!["a".blue(), "b".blue()]),
        ];
        let lines: Lines = pushed.iter().collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines.get(0).unwrap(), pushed[0]);
        assert_eq!(lines.get(1).unwrap(), Line::default());
        // A line's own style is folded into its spans.
        assert_eq!(lines.get(2).unwrap(), Line::from("x".italic()));
        assert_eq!(lines.get(3).unwrap().spans.len(), 2);
        assert_eq!(lines.text(0), "plain boldé✓");
        assert_eq!(lines.text(3), "ab");
        assert!(lines.get(4).is_none());
        assert_eq!(lines.text(9), "");
        assert_eq!(format!("{lines:?}"), {
            let mut expected = pushed.clone();
            expected[2] = Line::from("x".italic());
            format!("{expected:?}")
        });
        let mut twice = lines.clone();
        twice.extend(&lines);
        assert_eq!(twice.len(), 8);
        assert_eq!(twice.get(7).unwrap(), pushed[3]);
        assert_eq!(twice.iter().rev().count(), 8);
    }

    #[test]
    fn links_on_finds_links_reaching_into_the_range() {
        let mut d = doc();
        let link = |line: usize, to: usize| Link {
            text: String::new(),
            url: format!("u{line}"),
            line,
            column: 0,
            image: false,
            areas: (line..=to)
                .map(|l| LinkArea {
                    line: l,
                    start: 0,
                    end: 1,
                })
                .collect(),
        };
        d.links = vec![link(1, 1), link(5, 12), link(20, 20), link(30, 31)];
        let found: Vec<usize> = d.links_on(10..21).map(|(i, _)| i).collect();
        assert_eq!(found, [1, 2]);
        assert_eq!(d.links_on(31..40).map(|(i, _)| i).collect::<Vec<_>>(), [3]);
        assert_eq!(d.links_on(2..5).count(), 0);
    }

    #[test]
    fn prepend_shifts_positions() {
        let mut d = doc();
        d.prepend(&[Line::from("note"), Line::default()]);
        assert_eq!(d.headings[1].line, 12);
        assert_eq!(d.lines.len(), d.offsets.len());
        assert_eq!(d.line_for_offset(0), 0);
    }
}
