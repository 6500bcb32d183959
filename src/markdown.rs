//! Markdown to wrapped, styled lines.
//!
//! One pass over pulldown-cmark's events. Everything nested (containers,
//! inline styles, footnote bodies) lives in explicit stacks: documents can nest
//! hundreds of thousands of levels deep and recursion would overflow the
//! stack. Inline content is buffered per block and wrapped when the block
//! ends, because a word can span several events (`**foo**bar`).
//!
//! Indentation (quote bars, list markers) is a stack of segments per output
//! sink, capped at half the width: deeper containers still render their text,
//! just without further indent, so a line's prefix never costs more than
//! `width / 2` segments however deep the nesting. Footnote bodies render into
//! their own sink and are appended under a rule at the end.
//!
//! A cheap pre-pass numbers footnotes by first reference, sizes ordered list
//! markers, and collects code blocks so a code-heavy post is highlighted on
//! all cores before layout. Long bodies are parsed a piece at a time
//! ([`crate::pieces`]), with the renderer's state carried across pieces.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::ops::Range;

use pulldown_cmark::{
    Alignment, BlockQuoteKind, BrokenLink, CodeBlockKind, CowStr, Event, HeadingLevel, Options,
    Parser, Tag, TagEnd,
};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use unicode_segmentation::UnicodeSegmentation;

use crate::document::{Document, Heading, Join, LineFlow, Lines, Link, LinkArea, StyleIds};
use crate::highlight;
use crate::pieces::{self, LinkDefs, PIECE_BYTES, Piece};
use crate::sanitize::{display_width, expand_tabs, grapheme_width, sanitize};
use crate::theme::Theme;

/// Below this many columns of text, indentation is dropped rather than
/// squeezing the text into a sliver.
const MIN_TEXT_COLUMNS: usize = 8;

const SPACES: &str = "                                                                ";

/// Bytes of a link's text kept in [`Link::text`].
const LINK_TEXT_LIMIT: usize = 512;

fn spaces(n: usize) -> Cow<'static, str> {
    if n <= SPACES.len() {
        Cow::Borrowed(&SPACES[..n])
    } else {
        Cow::Owned(" ".repeat(n))
    }
}

/// The pulldown-cmark extensions folio renders.
pub fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES
        | Options::ENABLE_GFM
        | Options::ENABLE_DEFINITION_LIST
        | Options::ENABLE_MATH
}

/// Choices about layout that are the reader's, not the theme's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenderOptions {
    /// Wrap long code lines (marked `↪`); when off they are cut at the
    /// width and end in `…`, which keeps columns of code aligned.
    pub wrap_code: bool,
    /// Highlight code with syntect. Off, code takes the theme's plain code
    /// style; the lines are the same either way, so a reader can show the
    /// plain layout at once and swap in the highlighted one when it is ready.
    pub highlight: bool,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            wrap_code: true,
            highlight: true,
        }
    }
}

/// Renders `source` (a post body without frontmatter) at `width` columns.
pub fn render(source: &str, width: u16, theme: &Theme) -> Document {
    render_with(source, width, theme, RenderOptions::default())
}

/// [`render`] with layout options.
pub fn render_with(source: &str, width: u16, theme: &Theme, opts: RenderOptions) -> Document {
    render_in_pieces(source, width, theme, opts, PIECE_BYTES)
}

/// Long bodies are parsed a piece at a time (see [`crate::pieces`]), which
/// keeps pulldown-cmark's tree small; the renderer's state carries over from
/// piece to piece, so the lines are those of one pass over the whole.
fn render_in_pieces(
    source: &str,
    width: u16,
    theme: &Theme,
    opts: RenderOptions,
    piece_bytes: usize,
) -> Document {
    let pieces = pieces::pieces(source, piece_bytes);
    let (pre, defs) = PrePass::run(&pieces, opts.highlight && !theme.syntax.is_off());
    let mut r = Renderer::new(theme, usize::from(width.max(1)), opts.highlight, pre);
    r.sinks[0] = Sink::for_source(source.len());
    r.wrap_code = opts.wrap_code;
    for (i, piece) in pieces.iter().enumerate() {
        r.begin_piece(i);
        for (event, range) in parser(piece, &defs).into_offset_iter() {
            if range.start >= piece.len {
                continue;
            }
            r.offset = piece.start + range.start;
            r.event(event, range.len());
        }
    }
    r.finish()
}

/// A parser for one piece that resolves references defined in the others.
fn parser<'p>(
    piece: &'p Piece<'_>,
    defs: &'p LinkDefs,
) -> Parser<'p, impl FnMut(BrokenLink<'p>) -> Option<(CowStr<'p>, CowStr<'p>)>> {
    Parser::new_with_broken_link_callback(
        &piece.text,
        options(),
        Some(
            move |link: BrokenLink<'p>| -> Option<(CowStr<'p>, CowStr<'p>)> {
                defs.resolve(&link.reference)
            },
        ),
    )
}

/// GitHub-style anchor: lowercase, spaces to `-`, punctuation other than `-`
/// and `_` dropped.
pub fn slug(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.trim().chars() {
        if c.is_alphanumeric() || c == '-' || c == '_' {
            s.extend(c.to_lowercase());
        } else if c == ' ' {
            s.push('-');
        }
    }
    s
}

// ---------------------------------------------------------------------------
// Inline buffer and wrapping

#[derive(Debug, Clone, Copy)]
enum Kind {
    Text,
    Break,
    /// Where the text of link number `n` (in the current sink) starts.
    Mark(usize),
}

#[derive(Debug, Clone, Copy)]
struct Frag {
    start: usize,
    end: usize,
    style: Style,
    /// Source offset of the event the text came from.
    offset: usize,
    /// True when the text is byte-for-byte the source, so positions inside it
    /// map to source offsets.
    exact: bool,
    kind: Kind,
}

/// A block's inline content: sanitized text in one string, styled by ranges.
#[derive(Debug, Default)]
struct Inline {
    text: String,
    frags: Vec<Frag>,
    has_text: bool,
    /// Links as (index in the sink, start, end) byte ranges of `text`, in
    /// order of their start; `end` is `usize::MAX` while the link is open.
    links: Vec<(usize, usize, usize)>,
}

impl Inline {
    fn push(&mut self, s: &str, style: Style, offset: usize, source_len: usize) {
        let clean = sanitize(s);
        let exact = matches!(clean, Cow::Borrowed(_)) && s.len() == source_len;
        let start = self.text.len();
        self.text.push_str(&clean);
        self.has_text |= !clean.is_empty();
        self.frags.push(Frag {
            start,
            end: self.text.len(),
            style,
            offset,
            exact,
            kind: Kind::Text,
        });
    }

    fn clear(&mut self) {
        self.text.clear();
        self.frags.clear();
        self.has_text = false;
        self.links.clear();
    }

    fn push_kind(&mut self, kind: Kind, offset: usize) {
        let at = self.text.len();
        self.frags.push(Frag {
            start: at,
            end: at,
            style: Style::default(),
            offset,
            exact: false,
            kind,
        });
    }
}

/// A table row laid out: per column its lines and where its links landed,
/// the link marks, the offset.
type WrappedRow = (Vec<(Wrapped, Placed)>, Vec<(usize, usize)>, usize);

/// Where an inline's links landed, relative to its wrapped lines: the start
/// of each link as (link, line, column), and the columns of the text of each
/// outermost link as (link, line, start, end). A link nested in another
/// (an image inside a link) is covered by the outer one's areas.
#[derive(Debug, Default)]
struct Placed {
    starts: Vec<(usize, usize, usize)>,
    areas: Vec<(usize, usize, usize, usize)>,
}

/// Styled text of many lines in two buffers, so that laying out a block
/// allocates per block, not per span (an owned string per span, copied into
/// [`Lines`] and freed, was a fifth of the layout's time).
#[derive(Debug, Default)]
struct Runs {
    text: String,
    /// Where each run ends in `text`, and its style.
    runs: Vec<(usize, Style)>,
}

impl Runs {
    /// Appends `s` to the line whose runs begin at index `line`, joined to
    /// that line's last run when the style is the same.
    fn push_styled(&mut self, line: usize, s: &str, style: Style) {
        if s.is_empty() {
            return;
        }
        self.text.push_str(s);
        if self.runs.len() > line
            && let Some(last) = self.runs.last_mut()
            && last.1 == style
        {
            last.0 = self.text.len();
            return;
        }
        self.runs.push((self.text.len(), style));
    }

    /// Appends a run of its own, even an empty one.
    fn push(&mut self, s: &str, style: Style) {
        self.text.push_str(s);
        self.runs.push((self.text.len(), style));
    }

    /// The (text, style) of runs `range`.
    fn parts(&self, range: Range<usize>) -> impl Iterator<Item = (&str, Style)> + Clone + '_ {
        let mut at = range
            .start
            .checked_sub(1)
            .map_or(0, |before| self.runs[before].0);
        self.runs[range].iter().map(move |&(end, style)| {
            let text = &self.text[at..end];
            at = end;
            (text, style)
        })
    }

    /// Columns runs `range` take, each measured alone as a span is.
    fn width(&self, range: Range<usize>) -> usize {
        self.parts(range).map(|(s, _)| display_width(s)).sum()
    }

    fn clear(&mut self) {
        self.text.clear();
        self.runs.clear();
    }
}

/// A block's lines as the wrapper made them, in shared buffers.
#[derive(Debug, Default)]
struct Wrapped {
    runs: Runs,
    lines: Vec<WrappedLine>,
}

#[derive(Debug, Clone)]
struct WrappedLine {
    /// Indices into [`Wrapped::runs`].
    runs: Range<usize>,
    offset: usize,
    /// How it continues the line above (search joins them again).
    join: Join,
}

/// Greedy word wrapping of an [`Inline`] to `avail` columns.
struct Wrapper<'a> {
    inl: &'a Inline,
    avail: usize,
    out: Wrapped,
    /// Index in `out.runs` of the current line's first run.
    cur: usize,
    cur_w: usize,
    cur_off: Option<usize>,
    last_off: usize,
    /// The word being collected: byte ranges of `inl.text` with their styles.
    word: Vec<(usize, usize, Style)>,
    word_w: usize,
    word_off: usize,
    /// Whitespace seen since the last word, and the space before the current word.
    space: Option<Style>,
    word_space: Option<Style>,
    marks: Vec<usize>,
    resolved: Vec<(usize, usize)>,
    /// The word ends in a wide character: a break may follow it.
    after_wide: bool,
    /// `inl.links` with every end closed.
    links: Vec<(usize, usize, usize)>,
    /// The next link whose start has not been placed.
    next_start: usize,
    /// Indices into `links` of the links not nested in another, and the
    /// next of them not wholly placed: pieces come in text order, so each
    /// piece looks at one or two links, never all of them.
    outer: Vec<usize>,
    next_outer: usize,
    placed: Placed,
    /// How the line being built continues the one before.
    join: Join,
}

/// The longest prefix of `s` at most `max` columns wide: (bytes, columns).
fn fit(s: &str, max: usize) -> (usize, usize) {
    // Only the part that can fit is looked at: a long word is cut line by
    // line, and scanning all of it each time made that quadratic (a 4 MB word
    // took over a minute). The byte after the cut must be ASCII too, so a
    // combining mark is never cut from its letter.
    let bytes = s.as_bytes();
    let n = s.len().min(max);
    if bytes[..n].is_ascii() && bytes.get(n).is_none_or(u8::is_ascii) {
        return (n, n);
    }
    let mut w = 0;
    for (i, g) in s.grapheme_indices(true) {
        let gw = grapheme_width(g);
        if w + gw > max {
            return (i, w);
        }
        w += gw;
    }
    (s.len(), w)
}

/// Closing punctuation and small kana, which must not start a line (kinsoku).
fn no_break_before(g: &str) -> bool {
    g.chars().next().is_some_and(|c| {
        "、。，．：；？！）］｝〉》」』】〕〗〙・ー々ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ.,;:!?)]}%"
            .contains(c)
    })
}

impl<'a> Wrapper<'a> {
    /// Wraps `inl` into `out` (emptied first, so its buffers are reused).
    fn wrap(
        inl: &'a Inline,
        avail: usize,
        mut out: Wrapped,
    ) -> (Wrapped, Vec<(usize, usize)>, Placed) {
        out.runs.clear();
        out.lines.clear();
        let links: Vec<(usize, usize, usize)> = inl
            .links
            .iter()
            .map(|&(i, s, e)| (i, s, e.min(inl.text.len())))
            .collect();
        let mut outer = Vec::new();
        let mut outer_end = 0;
        for (k, &(_, s, e)) in links.iter().enumerate() {
            if outer.is_empty() || s >= outer_end {
                outer.push(k);
                outer_end = e;
            }
        }
        let mut w = Wrapper {
            inl,
            avail: avail.max(1),
            out,
            cur: 0,
            cur_w: 0,
            cur_off: None,
            last_off: inl.frags.first().map_or(0, |f| f.offset),
            word: Vec::new(),
            word_w: 0,
            word_off: 0,
            space: None,
            word_space: None,
            marks: Vec::new(),
            resolved: Vec::new(),
            after_wide: false,
            links,
            next_start: 0,
            outer,
            next_outer: 0,
            placed: Placed::default(),
            join: Join::Start,
        };
        for f in &inl.frags {
            match f.kind {
                Kind::Mark(i) => w.marks.push(i),
                Kind::Break => {
                    w.place_word();
                    if w.line_started() {
                        w.newline(Join::Space);
                    }
                    w.space = None;
                }
                Kind::Text => w.text(f),
            }
        }
        w.place_word();
        if w.line_started() {
            w.newline(Join::Start);
        }
        let last = w.out.lines.len().saturating_sub(1);
        w.resolved.extend(w.marks.drain(..).map(|i| (i, last)));
        (w.out, w.resolved, w.placed)
    }

    fn line_started(&self) -> bool {
        self.out.runs.runs.len() > self.cur
    }

    fn push_styled(&mut self, text: &str, style: Style) {
        self.out.runs.push_styled(self.cur, text, style);
    }

    /// Records where links fall in a piece of text: bytes `a..b` of
    /// `inl.text`, shown at columns `col..col + w` of the current line.
    fn note_piece(&mut self, from: usize, to: usize, col: usize, width: usize) {
        if self.next_start >= self.links.len() && self.next_outer >= self.outer.len() {
            return;
        }
        let line = self.out.lines.len();
        let text = &self.inl.text;
        let col_at = |pos: usize| {
            if pos <= from {
                col
            } else if pos >= to {
                col + width
            } else {
                (col + text.get(from..pos).map_or(0, display_width)).min(col + width)
            }
        };
        while let Some(&(idx, start, _)) = self.links.get(self.next_start) {
            if start >= to {
                break;
            }
            self.placed.starts.push((idx, line, col_at(start)));
            self.next_start += 1;
        }
        while let Some(&outer) = self.outer.get(self.next_outer) {
            let (idx, start, end) = self.links[outer];
            if start >= to {
                break;
            }
            if end > from {
                let (c0, c1) = (col_at(start.max(from)), col_at(end.min(to)));
                match self.placed.areas.last_mut() {
                    // The space between two words of one link joins them.
                    Some(last) if last.0 == idx && last.1 == line && c0 <= last.3 + 1 => {
                        last.3 = last.3.max(c1);
                    }
                    _ if c1 > c0 => self.placed.areas.push((idx, line, c0, c1)),
                    _ => {}
                }
            }
            if end <= to {
                self.next_outer += 1;
            } else {
                break;
            }
        }
    }

    fn text(&mut self, f: &Frag) {
        let s = &self.inl.text[f.start..f.end];
        let mut seg: Option<usize> = None;
        let mut seg_w = 0;
        let offset_of = |i: usize| if f.exact { f.offset + i } else { f.offset };
        if s.is_ascii() {
            for (i, b) in s.bytes().enumerate() {
                if b == b' ' || b == b'\n' {
                    if let Some(st) = seg.take() {
                        self.add(f.start + st, f.start + i, f.style, i - st);
                    }
                    self.place_word();
                    self.space = Some(f.style);
                } else if seg.is_none() {
                    if self.after_wide && !b".,;:!?)]}%".contains(&b) {
                        self.place_word();
                    }
                    self.after_wide = false;
                    if self.word.is_empty() {
                        self.begin_word(offset_of(i));
                    }
                    seg = Some(i);
                }
            }
            if let Some(st) = seg {
                self.add(f.start + st, f.end, f.style, s.len() - st);
            }
            return;
        }
        for (i, g) in s.grapheme_indices(true) {
            if g == " " || g == "\n" {
                if let Some(st) = seg.take() {
                    self.add(f.start + st, f.start + i, f.style, seg_w);
                }
                self.place_word();
                self.space = Some(f.style);
                continue;
            }
            let glue = no_break_before(g);
            if self.after_wide && !glue {
                self.place_word();
            }
            self.after_wide = false;
            let gw = grapheme_width(g);
            if gw >= 2 {
                // Wide characters (CJK, emoji) allow a break on either side,
                // except before closing punctuation.
                if let Some(st) = seg.take() {
                    self.add(f.start + st, f.start + i, f.style, seg_w);
                }
                if !glue {
                    self.place_word();
                }
                if self.word.is_empty() {
                    self.begin_word(offset_of(i));
                }
                self.add(f.start + i, f.start + i + g.len(), f.style, gw);
                self.after_wide = true;
                continue;
            }
            if seg.is_none() {
                if self.word.is_empty() {
                    self.begin_word(offset_of(i));
                }
                seg = Some(i);
                seg_w = 0;
            }
            seg_w += gw;
        }
        if let Some(st) = seg {
            self.add(f.start + st, f.end, f.style, seg_w);
        }
    }

    fn begin_word(&mut self, offset: usize) {
        self.word_off = offset;
        self.word_space = self.space.take();
    }

    fn add(&mut self, start: usize, end: usize, style: Style, width: usize) {
        self.word.push((start, end, style));
        self.word_w += width;
    }

    /// Ends the current line; `next` says how the next one continues it.
    fn newline(&mut self, next: Join) {
        let offset = self.cur_off.take().unwrap_or(self.last_off);
        self.last_off = offset;
        let end = self.out.runs.runs.len();
        self.out.lines.push(WrappedLine {
            runs: self.cur..end,
            offset,
            join: std::mem::replace(&mut self.join, next),
        });
        self.cur = end;
        self.cur_w = 0;
    }

    fn place_word(&mut self) {
        self.after_wide = false;
        if self.word.is_empty() {
            return;
        }
        let space = self.word_space.take().filter(|_| self.cur_w > 0);
        let sp = usize::from(space.is_some());
        if self.cur_w + sp + self.word_w <= self.avail {
            if let Some(style) = space {
                self.push_styled(" ", style);
                self.cur_w += 1;
            }
        } else if self.cur_w > 0 {
            self.newline(if space.is_some() {
                Join::Space
            } else {
                Join::Tight
            });
        }
        let line = self.out.lines.len();
        self.resolved
            .extend(self.marks.drain(..).map(|i| (i, line)));
        if self.cur_off.is_none() {
            self.cur_off = Some(self.word_off);
        }
        let word = std::mem::take(&mut self.word);
        for &(start, end, style) in &word {
            let mut pos = start;
            while pos < end {
                let rest = &self.inl.text[pos..end];
                let (n, w) = fit(rest, self.avail - self.cur_w);
                if n == 0 {
                    if self.cur_w > 0 {
                        self.newline(Join::Tight);
                        self.cur_off = Some(self.word_off);
                        continue;
                    }
                    // A grapheme wider than the whole line (a CJK character
                    // at width 1) cannot be shown; mark the spot instead.
                    let g = rest.graphemes(true).next().map_or(rest.len(), str::len);
                    self.note_piece(pos, pos + g, self.cur_w, 1);
                    self.push_styled("…", style);
                    self.cur_w += 1;
                    pos += g;
                    continue;
                }
                self.note_piece(pos, pos + n, self.cur_w, w);
                let piece = &self.inl.text[pos..pos + n];
                self.out.runs.push_styled(self.cur, piece, style);
                self.cur_w += w;
                pos += n;
            }
        }
        self.word = word;
        self.word.clear();
        self.word_w = 0;
    }
}

// ---------------------------------------------------------------------------
// Output sinks and containers

/// One level of indentation: what it shows on a container's first line and
/// on the lines after it.
struct Seg {
    first: Span<'static>,
    rest: Span<'static>,
    width: usize,
    used: bool,
}

/// A part borrowed for less long, so it can join others.
fn shorten<'a, 'b: 'a>(part: (&'b str, Style)) -> (&'a str, Style) {
    part
}

/// Where lines go: the document, or a footnote body rendered for the end.
#[derive(Default)]
struct Sink {
    lines: Lines,
    ids: StyleIds,
    offsets: Vec<usize>,
    flow: Vec<LineFlow>,
    headings: Vec<Heading>,
    links: Vec<Link>,
    /// Visible indentation only: containers nested past the cap push nothing,
    /// so building a prefix costs at most `width / 2` segments, not the depth.
    segs: Vec<Seg>,
    prefix_w: usize,
    pending_blank: bool,
}

impl Sink {
    /// The main sink of a body of `bytes` bytes, with room for what such a
    /// body usually lays out into (measured on the benchmark corpus: about
    /// 1.5 bytes of text, one span per 12 bytes and one line per 50 bytes of
    /// source), reserved generously since unwritten room costs no memory.
    fn for_source(bytes: usize) -> Sink {
        Sink {
            lines: Lines::with_capacity(bytes * 2, bytes / 8, bytes / 32),
            offsets: Vec::with_capacity(bytes / 32),
            flow: Vec::with_capacity(bytes / 32),
            ..Sink::default()
        }
    }

    fn push_line(&mut self, line: &Line<'_>, offset: usize) {
        self.push_flow(line, offset, LineFlow::default());
    }

    fn push_flow(&mut self, line: &Line<'_>, offset: usize, flow: LineFlow) {
        let offset = offset.max(self.offsets.last().copied().unwrap_or(0));
        self.lines.push_with(line, &mut self.ids);
        self.offsets.push(offset);
        self.flow.push(flow);
    }

    /// Appends a line made of the indentation (when `use_prefix`) and
    /// `parts`, marking the indentation used.
    fn push_indented<'s>(
        &mut self,
        use_prefix: bool,
        parts: impl Iterator<Item = (&'s str, Style)>,
        offset: usize,
        join: Join,
    ) {
        let offset = offset.max(self.offsets.last().copied().unwrap_or(0));
        let segs = if use_prefix { &self.segs[..] } else { &[] };
        let decoration = u16::try_from(segs.len()).unwrap_or(u16::MAX);
        let prefix = segs.iter().map(|seg| {
            let span = if seg.used { &seg.rest } else { &seg.first };
            (span.content.as_ref(), span.style)
        });
        self.lines
            .push_parts(prefix.chain(parts.map(shorten)), &mut self.ids);
        self.offsets.push(offset);
        self.flow.push(LineFlow { decoration, join });
        for seg in &mut self.segs {
            seg.used = true;
        }
    }

    fn pop_seg(&mut self) {
        if let Some(seg) = self.segs.pop() {
            self.prefix_w -= seg.width;
        }
    }
}

enum Container {
    Quote {
        seg: bool,
    },
    List {
        next: u64,
        ordered: bool,
        loose: bool,
        items: usize,
        number_width: usize,
    },
    Item {
        seg: bool,
    },
    Definition {
        seg: bool,
    },
    Footnote {
        number: usize,
    },
}

struct HeadingState {
    level: u8,
    id: Option<String>,
    text: String,
    offset: usize,
}

struct CodeState {
    lang: String,
    text: String,
    offset: usize,
}

struct TableState {
    aligns: Vec<Alignment>,
    rows: Vec<(Vec<Inline>, usize)>,
    head_rows: usize,
    offset: usize,
}

struct LinkState {
    index: usize,
    text_start: usize,
    image: bool,
    /// Its entry in `Inline::links`.
    slot: usize,
}

struct Renderer<'t> {
    theme: &'t Theme,
    width: usize,
    wrap_code: bool,
    highlight: bool,
    offset: usize,
    sinks: Vec<Sink>,
    notes: Vec<(usize, Sink)>,
    containers: Vec<Container>,
    list_depth: usize,
    styles: Vec<Style>,
    inline: Inline,
    heading: Option<HeadingState>,
    links: Vec<LinkState>,
    code: Option<CodeState>,
    tables: Vec<TableState>,
    note_numbers: HashMap<String, usize>,
    slugs: HashSet<String>,
    /// The code blocks of each piece not yet begun (see [`PrePass`]).
    code_blocks: Vec<Vec<(String, String)>>,
    /// Bytes of code in the whole post.
    code_bytes: usize,
    /// The current piece's code blocks highlighted up front, in order; empty
    /// when they are highlighted as they come.
    highlighted: Vec<Highlighted>,
    code_index: usize,
    /// The last item number of every list, in document order.
    list_last: Vec<u64>,
    list_index: usize,
    /// The wrapper's buffers, kept from block to block.
    wrapped: Wrapped,
}

type Highlighted = Option<Vec<Vec<(Style, String)>>>;

/// Below this much code, threads cost more than they save.
const PARALLEL_CODE_BYTES: usize = 64 * 1024;

/// Code as displayed (tabs expanded, sanitized, no CRs, no final newline) and
/// the byte offset of each line in the raw text.
fn clean_code(text: &str) -> (String, Vec<usize>) {
    let raw = text.strip_suffix('\n').unwrap_or(text);
    let mut clean = String::with_capacity(raw.len());
    let mut starts = Vec::new();
    let mut pos = 0;
    for (i, line) in raw.split('\n').enumerate() {
        if i > 0 {
            clean.push('\n');
        }
        starts.push(pos);
        pos += line.len() + 1;
        // CRLF files: the CR is line ending, not content.
        clean.push_str(&expand_tabs(line.strip_suffix('\r').unwrap_or(line), 4));
    }
    (clean, starts)
}

/// Highlights `(lang, raw text)` blocks on all cores. syntect is the
/// dominant cost of rendering a code-heavy post and blocks are independent.
fn highlight_all(blocks: &[(String, String)], syntax: &highlight::SyntaxTheme) -> Vec<Highlighted> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(8)
        .min(blocks.len());
    let next = AtomicUsize::new(0);
    let mut results: Vec<Highlighted> = vec![None; blocks.len()];
    let done: Vec<Vec<(usize, Highlighted)>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some((lang, text)) = blocks.get(i) else {
                            break;
                        };
                        let (clean, _) = clean_code(text);
                        out.push((i, highlight::highlight_block(&clean, lang, syntax)));
                    }
                    out
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_default())
            .collect()
    });
    for (i, h) in done.into_iter().flatten() {
        results[i] = h;
    }
    results
}

/// Moves where an inline's links landed into the sink's links: its lines
/// start at sink line `base`, and line `i` of it is shown `shift(i)` columns
/// from the left edge (indentation, a table cell's position).
fn place_links(sink: &mut Sink, base: usize, placed: &Placed, shift: impl Fn(usize) -> usize) {
    for &(i, rel, col) in &placed.starts {
        if let Some(link) = sink.links.get_mut(i) {
            link.line = base + rel;
            link.column = col + shift(rel);
        }
    }
    for &(i, rel, start, end) in &placed.areas {
        if let Some(link) = sink.links.get_mut(i) {
            let s = shift(rel);
            link.areas.push(LinkArea {
                line: base + rel,
                start: start + s,
                end: end + s,
            });
        }
    }
}

/// Moves the links of a table row's cells to where their lines are drawn:
/// the row starts at column `x` (past the indentation and the left border),
/// and each cell is past the cells and borders to its left, its padding and
/// its alignment.
fn place_row_links(
    sink: &mut Sink,
    base: usize,
    row: &[(Wrapped, Placed)],
    mut x: usize,
    pad: usize,
    widths: &[usize],
    aligns: &[Alignment],
) {
    for (c, ((cell, placed), &w)) in row.iter().zip(widths).enumerate() {
        let lefts: Vec<usize> = cell
            .lines
            .iter()
            .map(|l| {
                let cw = cell.runs.width(l.runs.clone());
                let gap = w.saturating_sub(cw);
                match aligns.get(c) {
                    Some(Alignment::Right) => gap,
                    Some(Alignment::Center) => gap / 2,
                    _ => 0,
                }
            })
            .collect();
        let cell_x = x + pad;
        place_links(sink, base, placed, |rel| {
            cell_x + lefts.get(rel).copied().unwrap_or(0)
        });
        x += w + 2 * pad + 1;
    }
}

fn note_key(label: &str) -> String {
    label.to_lowercase()
}

fn heading_level(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

/// What the renderer must know before it starts: footnotes are numbered by
/// first reference but may be defined before it, ordered list markers are
/// right-aligned to the widest number in their list, and a code-heavy piece
/// is highlighted on several threads before its layout.
struct PrePass {
    note_numbers: HashMap<String, usize>,
    /// The last item number of every list, in document order.
    list_last: Vec<u64>,
    /// `(language, raw text)` of every code block, per piece.
    code: Vec<Vec<(String, String)>>,
}

impl PrePass {
    fn run(pieces: &[Piece<'_>], collect_code: bool) -> (PrePass, LinkDefs) {
        let mut pre = PrePass {
            note_numbers: HashMap::new(),
            list_last: Vec::new(),
            code: Vec::with_capacity(pieces.len()),
        };
        let mut defs = LinkDefs::default();
        let mut open_lists: Vec<usize> = Vec::new();
        for piece in pieces {
            let parser = Parser::new_ext(&piece.text, options());
            if pieces.len() > 1 {
                for (label, def) in parser.reference_definitions().iter() {
                    defs.add(label, &def.dest, def.title.as_deref().unwrap_or(""));
                }
            }
            let mut blocks: Vec<(String, String)> = Vec::new();
            let mut in_code = false;
            for (event, range) in parser.into_offset_iter() {
                if range.start >= piece.len {
                    continue;
                }
                match event {
                    Event::Start(Tag::List(start)) => {
                        open_lists.push(pre.list_last.len());
                        pre.list_last.push(start.unwrap_or(1).saturating_sub(1));
                    }
                    Event::End(TagEnd::List(_)) => {
                        open_lists.pop();
                    }
                    Event::Start(Tag::Item) => {
                        if let Some(&i) = open_lists.last() {
                            pre.list_last[i] = pre.list_last[i].saturating_add(1);
                        }
                    }
                    Event::FootnoteReference(label) => {
                        let next = pre.note_numbers.len() + 1;
                        pre.note_numbers.entry(note_key(&label)).or_insert(next);
                    }
                    Event::Start(Tag::CodeBlock(kind)) if collect_code => {
                        in_code = true;
                        let lang = match kind {
                            CodeBlockKind::Fenced(info) => {
                                sanitize(highlight::language_of(&info)).into_owned()
                            }
                            CodeBlockKind::Indented => String::new(),
                        };
                        blocks.push((lang, String::new()));
                    }
                    Event::End(TagEnd::CodeBlock) => in_code = false,
                    Event::Text(t) if in_code => {
                        if let Some((_, text)) = blocks.last_mut() {
                            text.push_str(&t);
                        }
                    }
                    _ => {}
                }
            }
            pre.code.push(blocks);
        }
        (pre, defs)
    }
}

impl<'t> Renderer<'t> {
    fn new(theme: &'t Theme, width: usize, highlight: bool, pre: PrePass) -> Self {
        Renderer {
            theme,
            width,
            wrap_code: true,
            highlight,
            offset: 0,
            sinks: vec![Sink::default()],
            notes: Vec::new(),
            containers: Vec::new(),
            list_depth: 0,
            styles: vec![theme.md.text],
            inline: Inline::default(),
            heading: None,
            links: Vec::new(),
            code: None,
            tables: Vec::new(),
            note_numbers: pre.note_numbers,
            slugs: HashSet::new(),
            code_bytes: pre.code.iter().flatten().map(|(_, t)| t.len()).sum(),
            code_blocks: pre.code,
            highlighted: Vec::new(),
            code_index: 0,
            list_last: pre.list_last,
            list_index: 0,
            wrapped: Wrapped::default(),
        }
    }

    /// Piece `i` is next: highlight its code up front when the post has
    /// enough code to be worth the threads.
    fn begin_piece(&mut self, i: usize) {
        let blocks = self
            .code_blocks
            .get_mut(i)
            .map(std::mem::take)
            .unwrap_or_default();
        self.highlighted = if blocks.len() > 1 && self.code_bytes >= PARALLEL_CODE_BYTES {
            highlight_all(&blocks, &self.theme.syntax)
        } else {
            Vec::new()
        };
        self.code_index = 0;
    }

    fn sink(&mut self) -> &mut Sink {
        self.sinks
            .last_mut()
            .expect("the document sink is never popped")
    }

    fn style(&self) -> Style {
        self.styles.last().copied().unwrap_or_default()
    }

    fn push_style(&mut self, s: Style) {
        let top = self.style().patch(s);
        self.styles.push(top);
    }

    fn pop_style(&mut self) {
        if self.styles.len() > 1 {
            self.styles.pop();
        }
    }

    fn note_number(&mut self, label: &str) -> usize {
        let next = self.note_numbers.len() + 1;
        *self.note_numbers.entry(note_key(label)).or_insert(next)
    }

    /// Pushes an indentation segment unless the indentation is already at
    /// its cap; returns whether it was pushed.
    fn push_seg(&mut self, first: Span<'static>, rest: Span<'static>, force: bool) -> bool {
        let cap = self.width / 2;
        let width = display_width(&first.content);
        let sink = self.sink();
        if !force && sink.prefix_w + width > cap {
            return false;
        }
        sink.prefix_w += width;
        sink.segs.push(Seg {
            first,
            rest,
            width,
            used: false,
        });
        true
    }

    /// Whether to draw the indentation, and the columns left for content.
    fn layout(&self) -> (bool, usize) {
        let prefix_w = self.sinks.last().map_or(0, |s| s.prefix_w);
        let w = self.width;
        if prefix_w > 0 && w >= prefix_w + w.min(MIN_TEXT_COLUMNS) {
            (true, w - prefix_w)
        } else {
            (false, w)
        }
    }

    /// Emits a line of `parts` below the indentation.
    fn emit<'s>(&mut self, parts: impl Iterator<Item = (&'s str, Style)>, offset: usize) {
        self.emit_joined(parts, offset, Join::Start);
    }

    fn emit_joined<'s>(
        &mut self,
        parts: impl Iterator<Item = (&'s str, Style)>,
        offset: usize,
        join: Join,
    ) {
        let (use_prefix, _) = self.layout();
        self.sink().push_indented(use_prefix, parts, offset, join);
    }

    /// Emits a line of one span.
    fn emit_one(&mut self, text: &str, style: Style, offset: usize) {
        self.emit(std::iter::once((text, style)), offset);
    }

    fn emit_blank(&mut self) {
        let (use_prefix, _) = self.layout();
        // Just before the block below: looking up that block's offset finds
        // its first line, not the separator above it.
        let offset = self.offset.saturating_sub(1);
        let mut all: Vec<Span<'static>> = Vec::new();
        let sink = self.sink();
        if use_prefix {
            all.extend(sink.segs.iter().map(|s| s.rest.clone()));
            while let Some(last) = all.last_mut() {
                let trimmed = last.content.trim_end().len();
                if trimmed == 0 {
                    all.pop();
                } else {
                    last.content.to_mut().truncate(trimmed);
                    break;
                }
            }
        }
        sink.push_line(&Line::from(all), offset);
    }

    /// Called before a block draws its first line: separates it from the
    /// previous block.
    fn start_block(&mut self) {
        let sink = self.sink();
        if sink.pending_blank && !sink.lines.is_empty() {
            self.emit_blank();
        }
        self.sink().pending_blank = false;
    }

    fn end_block(&mut self) {
        self.sink().pending_blank = true;
    }

    fn emit_inline(&mut self, inl: &Inline) {
        let (use_prefix, avail) = self.layout();
        let spare = std::mem::take(&mut self.wrapped);
        let (wrapped, marks, placed) = Wrapper::wrap(inl, avail, spare);
        let sink = self.sink();
        let base = sink.lines.len();
        for (i, rel) in marks {
            if let Some(link) = sink.links.get_mut(i) {
                link.line = base + rel;
            }
        }
        let shift = if use_prefix { sink.prefix_w } else { 0 };
        place_links(sink, base, &placed, |_| shift);
        for l in &wrapped.lines {
            sink.push_indented(
                use_prefix,
                wrapped.runs.parts(l.runs.clone()),
                l.offset,
                l.join,
            );
        }
        self.wrapped = wrapped;
    }

    fn flush_inline(&mut self) {
        if self.inline.frags.is_empty() {
            return;
        }
        let mut inl = std::mem::take(&mut self.inline);
        if inl.has_text {
            self.start_block();
            self.emit_inline(&inl);
        }
        // Its buffers serve the next block.
        inl.clear();
        self.inline = inl;
    }

    fn push_text(&mut self, s: &str, style: Style, source_len: usize) {
        self.inline.push(s, style, self.offset, source_len);
    }

    fn rule(&mut self, ch: &str, style: Style, offset: usize) {
        let (_, avail) = self.layout();
        self.emit_one(&ch.repeat(avail), style, offset);
    }

    fn event(&mut self, event: Event<'_>, source_len: usize) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(t) => {
                if let Some(code) = &mut self.code {
                    code.text.push_str(&t);
                    return;
                }
                if let Some(h) = &mut self.heading {
                    h.text.push_str(&sanitize(&t));
                }
                self.push_text(&t, self.style(), source_len);
            }
            Event::Code(t) => {
                if let Some(h) = &mut self.heading {
                    h.text.push_str(&sanitize(&t));
                }
                let style = self.style().patch(self.theme.md.code);
                self.push_text(&t, style, 0);
            }
            Event::InlineMath(t) => {
                let style = self.style().patch(self.theme.md.math);
                self.push_text(&t, style, 0);
            }
            Event::DisplayMath(t) => {
                let style = self.style().patch(self.theme.md.math);
                if self.inline.has_text {
                    self.inline.push_kind(Kind::Break, self.offset);
                }
                for line in t.lines() {
                    self.push_text(line, style, 0);
                    self.inline.push_kind(Kind::Break, self.offset);
                }
            }
            Event::Html(t) | Event::InlineHtml(t) => {
                let style = self.style().patch(self.theme.md.html);
                let mut lines = t.split('\n').peekable();
                while let Some(line) = lines.next() {
                    self.push_text(line.strip_suffix('\r').unwrap_or(line), style, 0);
                    if lines.peek().is_some() {
                        self.inline.push_kind(Kind::Break, self.offset);
                    }
                }
            }
            Event::FootnoteReference(label) => {
                let n = self.note_number(&label);
                let style = self.style().patch(self.theme.md.footnote);
                self.push_text(&format!("[{n}]"), style, 0);
            }
            Event::SoftBreak => self.push_text(" ", self.style(), 0),
            Event::HardBreak => self.inline.push_kind(Kind::Break, self.offset),
            Event::Rule => {
                self.flush_inline();
                self.start_block();
                self.rule("─", self.theme.md.rule, self.offset);
                self.end_block();
            }
            Event::TaskListMarker(done) => self.task(done),
        }
    }

    fn task(&mut self, done: bool) {
        let (mark, style) = if done {
            ("☑", self.theme.md.task_done)
        } else {
            ("☐", self.theme.md.task_todo)
        };
        let in_item = matches!(self.containers.last(), Some(Container::Item { seg: true }));
        if in_item && let Some(seg) = self.sink().segs.last_mut().filter(|s| !s.used) {
            let pad = seg.width.saturating_sub(1);
            seg.first = Span::styled(format!("{mark}{}", spaces(pad)), style);
            return;
        }
        self.push_text(&format!("{mark} "), style, 0);
    }

    fn start(&mut self, tag: Tag<'_>) {
        let md = &self.theme.md;
        match tag {
            Tag::Paragraph => {
                self.flush_inline();
                if matches!(self.containers.last(), Some(Container::Item { .. }))
                    && let Some(Container::List { loose, .. }) =
                        self.containers.iter_mut().rev().nth(1)
                {
                    *loose = true;
                }
            }
            Tag::Heading { level, id, .. } => {
                self.flush_inline();
                self.end_block();
                let level = heading_level(level);
                self.heading = Some(HeadingState {
                    level,
                    id: id.map(|i| sanitize(&i).into_owned()),
                    text: String::new(),
                    offset: self.offset,
                });
                self.push_style(self.theme.heading(level));
            }
            Tag::BlockQuote(kind) => self.start_quote(kind),
            Tag::CodeBlock(kind) => {
                self.flush_inline();
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => {
                        sanitize(highlight::language_of(&info)).into_owned()
                    }
                    CodeBlockKind::Indented => String::new(),
                };
                self.code = Some(CodeState {
                    lang,
                    text: String::new(),
                    offset: self.offset,
                });
            }
            Tag::HtmlBlock => {
                self.flush_inline();
                self.push_style(md.html);
            }
            Tag::List(start) => {
                self.flush_inline();
                self.list_depth += 1;
                let last = self.list_last.get(self.list_index).copied().unwrap_or(1);
                self.list_index += 1;
                self.containers.push(Container::List {
                    next: start.unwrap_or(1),
                    ordered: start.is_some(),
                    loose: false,
                    items: 0,
                    number_width: last.max(1).to_string().len(),
                });
            }
            Tag::Item => self.start_item(),
            Tag::FootnoteDefinition(label) => {
                self.flush_inline();
                let number = self.note_number(&label);
                self.sinks.push(Sink::default());
                let style = self.theme.md.footnote;
                let marker = format!("[{number}] ");
                let rest = spaces(display_width(&marker));
                self.push_seg(Span::styled(marker, style), Span::raw(rest), true);
                self.containers.push(Container::Footnote { number });
            }
            Tag::DefinitionList | Tag::MetadataBlock(_) => self.flush_inline(),
            Tag::DefinitionListTitle => {
                self.flush_inline();
                self.push_style(md.definition_term);
            }
            Tag::DefinitionListDefinition => {
                self.flush_inline();
                let seg = self.push_seg(Span::raw(spaces(4)), Span::raw(spaces(4)), false);
                self.containers.push(Container::Definition { seg });
            }
            Tag::Table(aligns) => {
                self.flush_inline();
                self.tables.push(TableState {
                    aligns,
                    rows: Vec::new(),
                    head_rows: 0,
                    offset: self.offset,
                });
            }
            Tag::TableHead => {
                self.push_style(md.table_header);
                self.start_row();
            }
            Tag::TableRow => self.start_row(),
            Tag::TableCell => {
                self.inline = Inline::default();
            }
            _ => self.start_inline(tag),
        }
    }

    fn start_inline(&mut self, tag: Tag<'_>) {
        let md = &self.theme.md;
        match tag {
            Tag::Emphasis => self.push_style(md.emphasis),
            Tag::Strong => self.push_style(md.strong),
            Tag::Strikethrough => self.push_style(md.strikethrough),
            Tag::Superscript | Tag::Subscript => self.push_style(Style::default()),
            Tag::Link { dest_url, .. } => {
                let (index, slot) = self.start_link(&dest_url);
                self.links.push(LinkState {
                    index,
                    text_start: self.inline.text.len(),
                    image: false,
                    slot,
                });
                // The URL is not repeated inline (autolinks show it as their
                // text anyway); the reader lists links from `Document::links`.
                self.push_style(md.link);
            }
            Tag::Image { dest_url, .. } => {
                let (index, slot) = self.start_link(&dest_url);
                let style = self.style().patch(md.image);
                self.push_text("[image: ", style, 0);
                self.links.push(LinkState {
                    index,
                    text_start: self.inline.text.len(),
                    image: true,
                    slot,
                });
                self.push_style(md.image);
            }
            _ => {}
        }
    }

    /// Records a link; returns its index in the sink and its slot in
    /// `Inline::links`.
    fn start_link(&mut self, url: &str) -> (usize, usize) {
        let url = sanitize(url).into_owned();
        let line = self.sinks.last().map_or(0, |s| s.lines.len());
        let sink = self.sink();
        let index = sink.links.len();
        sink.links.push(Link {
            text: String::new(),
            url,
            line,
            column: 0,
            areas: Vec::new(),
        });
        self.inline.push_kind(Kind::Mark(index), self.offset);
        let slot = self.inline.links.len();
        self.inline
            .links
            .push((index, self.inline.text.len(), usize::MAX));
        (index, slot)
    }

    fn start_row(&mut self) {
        let offset = self.offset;
        if let Some(t) = self.tables.last_mut() {
            t.rows.push((Vec::new(), offset));
        }
    }

    fn start_quote(&mut self, kind: Option<BlockQuoteKind>) {
        self.flush_inline();
        // Separate from what came before outside the bar, not inside it.
        self.start_block();
        let md = &self.theme.md;
        let (bar_style, title) = match kind {
            None => (md.quote_bar, None),
            Some(BlockQuoteKind::Note) => (md.alert_note, Some("ℹ Note")),
            Some(BlockQuoteKind::Tip) => (md.alert_tip, Some("✦ Tip")),
            Some(BlockQuoteKind::Important) => (md.alert_important, Some("❢ Important")),
            Some(BlockQuoteKind::Warning) => (md.alert_warning, Some("⚠ Warning")),
            Some(BlockQuoteKind::Caution) => (md.alert_caution, Some("✖ Caution")),
        };
        let text_style = if kind.is_none() {
            md.quote
        } else {
            Style::default()
        };
        let seg = self.push_seg(
            Span::styled("│ ", bar_style),
            Span::styled("│ ", bar_style),
            false,
        );
        self.containers.push(Container::Quote { seg });
        self.push_style(text_style);
        if let Some(title) = title {
            let mut inl = Inline::default();
            inl.push(title, self.style().patch(bar_style), self.offset, 0);
            self.emit_inline(&inl);
        }
    }

    fn start_item(&mut self) {
        self.flush_inline();
        let depth = self.list_depth.saturating_sub(1);
        let mut clear_blank = false;
        let marker = match self.containers.last_mut() {
            Some(Container::List {
                next,
                ordered,
                loose,
                items,
                number_width,
            }) => {
                clear_blank = *items > 0 && !*loose;
                *items += 1;
                let n = *next;
                *next = next.saturating_add(1);
                if *ordered {
                    format!("{n:>w$}. ", w = *number_width)
                } else {
                    ["• ", "◦ ", "▪ "][depth % 3].to_owned()
                }
            }
            _ => "• ".to_owned(),
        };
        if clear_blank {
            self.sink().pending_blank = false;
        }
        let rest = spaces(display_width(&marker));
        let style = self.theme.md.list_marker;
        let seg = self.push_seg(Span::styled(marker, style), Span::raw(rest), false);
        self.containers.push(Container::Item { seg });
    }

    fn pop_container(&mut self) {
        let seg = match self.containers.pop() {
            Some(
                Container::Quote { seg } | Container::Item { seg } | Container::Definition { seg },
            ) => seg,
            Some(Container::List { .. }) => {
                self.list_depth = self.list_depth.saturating_sub(1);
                false
            }
            Some(Container::Footnote { number }) => {
                if self.sinks.len() > 1 {
                    let mut sink = self.sinks.pop().expect("checked above");
                    if sink.lines.is_empty() {
                        let first = &sink.segs[0].first;
                        let (n, _) = fit(first.content.trim_end(), self.width);
                        let marker = Span::styled(first.content[..n].to_owned(), first.style);
                        sink.push_line(&Line::from(marker), 0);
                    }
                    self.notes.push((number, sink));
                }
                false
            }
            None => false,
        };
        if seg {
            self.sink().pop_seg();
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Heading(_) => self.end_heading(),
            TagEnd::BlockQuote(_) => {
                self.flush_inline();
                self.pop_container();
                self.pop_style();
                self.end_block();
            }
            TagEnd::CodeBlock => {
                if let Some(code) = self.code.take() {
                    self.render_code(&code);
                }
                self.end_block();
            }
            TagEnd::HtmlBlock => {
                self.flush_inline();
                self.pop_style();
                self.end_block();
            }
            TagEnd::List(_) | TagEnd::DefinitionListDefinition => {
                self.flush_inline();
                self.pop_container();
                self.end_block();
            }
            TagEnd::Item | TagEnd::FootnoteDefinition => {
                self.flush_inline();
                self.pop_container();
            }
            TagEnd::DefinitionListTitle => {
                self.flush_inline();
                self.pop_style();
            }
            TagEnd::Paragraph | TagEnd::DefinitionList | TagEnd::MetadataBlock(_) => {
                self.flush_inline();
                self.end_block();
            }
            TagEnd::Table => {
                self.inline = Inline::default();
                if let Some(t) = self.tables.pop() {
                    self.render_table(t);
                }
                self.end_block();
            }
            TagEnd::TableHead => {
                self.pop_style();
                if let Some(t) = self.tables.last_mut() {
                    t.head_rows = t.rows.len();
                }
            }
            TagEnd::TableRow => {}
            TagEnd::TableCell => {
                let cell = std::mem::take(&mut self.inline);
                if let Some((row, _)) = self.tables.last_mut().and_then(|t| t.rows.last_mut()) {
                    row.push(cell);
                }
            }
            TagEnd::Emphasis
            | TagEnd::Strong
            | TagEnd::Strikethrough
            | TagEnd::Superscript
            | TagEnd::Subscript => self.pop_style(),
            TagEnd::Link | TagEnd::Image => self.end_link(),
        }
    }

    fn end_link(&mut self) {
        self.pop_style();
        let Some(state) = self.links.pop() else {
            return;
        };
        // Nested links and images each copied all the text inside them, which
        // made 50,000 nested images quadratic (over a minute); a link's
        // recorded text is a label, so its first few hundred bytes do.
        let inner = self.inline.text.get(state.text_start..).unwrap_or("");
        let mut end = inner.len().min(LINK_TEXT_LIMIT);
        while !inner.is_char_boundary(end) {
            end -= 1;
        }
        let text = inner[..end].trim().to_owned();
        if state.image {
            let style = self.style().patch(self.theme.md.image);
            if text.is_empty() && self.inline.text.ends_with(": ") {
                // No alt text: `[image]` rather than `[image: ]`.
                self.inline.text.truncate(self.inline.text.len() - 2);
                if let Some(f) = self
                    .inline
                    .frags
                    .iter_mut()
                    .rev()
                    .find(|f| matches!(f.kind, Kind::Text))
                {
                    f.end = f.end.min(self.inline.text.len());
                }
            }
            self.push_text("]", style, 0);
        }
        let end = self.inline.text.len();
        if let Some(entry) = self.inline.links.get_mut(state.slot)
            && entry.0 == state.index
        {
            entry.2 = end;
        }
        if let Some(link) = self.sink().links.get_mut(state.index) {
            link.text = text;
        }
    }

    fn end_heading(&mut self) {
        let Some(h) = self.heading.take() else {
            return;
        };
        self.pop_style();
        let inl = std::mem::take(&mut self.inline);
        self.start_block();
        let style = self.theme.heading(h.level);
        let marks = format!("{} ", "#".repeat(usize::from(h.level)));
        let rest = spaces(marks.len());
        self.push_seg(Span::styled(marks, style), Span::raw(rest), true);
        let line = self.sink().lines.len();
        if inl.has_text {
            self.emit_inline(&inl);
        } else {
            self.emit(std::iter::empty(), h.offset);
        }
        self.sink().pop_seg();
        let underline = match h.level {
            1 => Some("═"),
            2 => Some("─"),
            _ => None,
        };
        if let Some(ch) = underline {
            self.rule(ch, style.remove_modifier(Modifier::UNDERLINED), h.offset);
        }
        let text = h.text.trim().to_owned();
        let anchor = match h.id {
            Some(id) => {
                self.slugs.insert(id.clone());
                id
            }
            None => self.unique_slug(slug(&text)),
        };
        self.sink().headings.push(Heading {
            level: h.level,
            text,
            anchor,
            line,
        });
        self.end_block();
    }

    fn unique_slug(&mut self, base: String) -> String {
        if self.slugs.insert(base.clone()) {
            return base;
        }
        let mut i = 1;
        loop {
            let candidate = format!("{base}-{i}");
            if self.slugs.insert(candidate.clone()) {
                return candidate;
            }
            i += 1;
        }
    }

    fn render_code(&mut self, code: &CodeState) {
        self.start_block();
        let (_, avail) = self.layout();
        let md = &self.theme.md;
        let base = md.text.patch(md.code_block);
        let cont_style = base.patch(md.code_continuation);
        let (clean, starts) = clean_code(&code.text);
        let highlighted = if self.highlighted.is_empty() {
            if !self.highlight || self.theme.syntax.is_off() {
                None
            } else {
                highlight::highlight_block(&clean, &code.lang, &self.theme.syntax)
            }
        } else {
            self.highlighted
                .get_mut(self.code_index)
                .and_then(Option::take)
        };
        self.code_index += 1;
        // Column 0 is a gutter (blank, or ↪ on continuation rows); one column
        // of padding on the right when there is room.
        let (gutter, cw) = match avail {
            0..=1 => (0, avail.max(1)),
            2..=3 => (1, avail - 1),
            _ => (1, avail - 2),
        };
        let label_style = base.patch(md.code_label);
        let mut out = std::mem::take(&mut self.wrapped);
        out.runs.clear();
        // Rows as (runs, source offset).
        let mut rows: Vec<(Range<usize>, usize)> = Vec::new();
        if !code.lang.is_empty() {
            let (n, w) = fit(&code.lang, cw);
            out.runs.push(&spaces(gutter), base);
            out.runs.push(&code.lang[..n], label_style);
            out.runs.push(&spaces(avail - gutter - w), base);
            rows.push((0..3, code.offset));
        }
        for (i, line) in clean.split('\n').enumerate() {
            let offset = code.offset + starts.get(i).copied().unwrap_or(0);
            let plain;
            let pieces: &[(Style, String)] =
                if let Some(p) = highlighted.as_ref().and_then(|h| h.get(i)) {
                    p
                } else {
                    plain = [(Style::default(), line.to_owned())];
                    &plain
                };
            let runs = &mut out.runs;
            let mut cur = runs.runs.len();
            runs.push(&spaces(gutter), base);
            let mut cur_w = 0;
            // Without wrapping, a line too long for the block keeps its last
            // column for the `…` that says it was cut.
            let limit = if !self.wrap_code && display_width(line) > cw {
                Some(cw.saturating_sub(1))
            } else {
                None
            };
            'pieces: for (style, text) in pieces {
                let style = base.patch(*style);
                let mut rest = text.as_str();
                while !rest.is_empty() {
                    if let Some(limit) = limit {
                        let (n, w) = fit(rest, limit.saturating_sub(cur_w));
                        runs.push_styled(cur, &rest[..n], style);
                        cur_w += w;
                        if n < rest.len() {
                            runs.push("…", cont_style);
                            cur_w += 1;
                            break 'pieces;
                        }
                        break;
                    }
                    let (mut n, mut w) = fit(rest, cw - cur_w);
                    if n == 0 && cur_w == 0 {
                        // Wider than the block: unshowable, keep a trace.
                        n = rest.graphemes(true).next().map_or(rest.len(), str::len);
                        w = 1;
                        runs.push_styled(cur, "…", style);
                    } else {
                        runs.push_styled(cur, &rest[..n], style);
                    }
                    cur_w += w;
                    rest = &rest[n..];
                    if !rest.is_empty() {
                        runs.push(&spaces(avail - gutter - cur_w), base);
                        rows.push((cur..runs.runs.len(), offset));
                        cur = runs.runs.len();
                        let marker = if gutter > 0 { "↪" } else { "" };
                        runs.push(marker, cont_style);
                        cur_w = 0;
                    }
                }
            }
            runs.push(&spaces(avail - gutter - cur_w), base);
            rows.push((cur..runs.runs.len(), offset));
        }
        for (range, offset) in rows {
            self.emit(out.runs.parts(range), offset);
        }
        self.wrapped = out;
    }

    fn render_table(&mut self, t: TableState) {
        let ncols = t
            .rows
            .iter()
            .map(|(r, _)| r.len())
            .max()
            .unwrap_or(0)
            .max(t.aligns.len());
        if ncols == 0 {
            return;
        }
        self.start_block();
        let (_, avail) = self.layout();
        let md = &self.theme.md;
        let border = md.table_border;
        let text = md.text;
        let Some((pad, widths)) = column_widths(&t, ncols, avail) else {
            self.table_fallback(t);
            return;
        };
        let hline = |l: &str, m: &str, r: &str, ch: &str| {
            let mut s = String::from(l);
            for (c, w) in widths.iter().enumerate() {
                if c > 0 {
                    s.push_str(m);
                }
                s.push_str(&ch.repeat(w + 2 * pad));
            }
            s.push_str(r);
            s
        };
        let mut cells: Vec<WrappedRow> = Vec::new();
        let mut wraps = false;
        for (row, offset) in &t.rows {
            let mut wrapped = Vec::with_capacity(ncols);
            let mut row_marks = Vec::new();
            for (c, w) in widths.iter().enumerate() {
                let (lines, marks, placed) = match row.get(c) {
                    Some(cell) => Wrapper::wrap(cell, *w, Wrapped::default()),
                    None => (Wrapped::default(), Vec::new(), Placed::default()),
                };
                wraps |= lines.lines.len() > 1;
                row_marks.extend(marks);
                wrapped.push((lines, placed));
            }
            cells.push((wrapped, row_marks, *offset));
        }
        self.emit_one(&hline("┌", "┬", "┐", "─"), border, t.offset);
        for (r, (row, marks, offset)) in cells.into_iter().enumerate() {
            if r > 0 && (r == t.head_rows || wraps) {
                let ch = if r == t.head_rows { "═" } else { "─" };
                let (l, m, rr) = if r == t.head_rows {
                    ("╞", "╪", "╡")
                } else {
                    ("├", "┼", "┤")
                };
                self.emit_one(&hline(l, m, rr, ch), border, offset);
            }
            let height = row
                .iter()
                .map(|(l, _)| l.lines.len())
                .max()
                .unwrap_or(0)
                .max(1);
            let (use_prefix, _) = self.layout();
            let sink = self.sink();
            let base = sink.lines.len();
            for (i, rel) in marks {
                if let Some(link) = sink.links.get_mut(i) {
                    link.line = base + rel;
                }
            }
            let x = if use_prefix { sink.prefix_w } else { 0 } + 1;
            place_row_links(sink, base, &row, x, pad, &widths, &t.aligns);
            let mut line = Runs::default();
            for i in 0..height {
                line.clear();
                line.push("│", border);
                for (c, w) in widths.iter().enumerate() {
                    let cell = &row[c].0;
                    let content = cell.lines.get(i).map(|l| l.runs.clone());
                    let cw = content.clone().map_or(0, |r| cell.runs.width(r));
                    let gap = w.saturating_sub(cw);
                    let (left, right) = match t.aligns.get(c) {
                        Some(Alignment::Right) => (gap, 0),
                        Some(Alignment::Center) => (gap / 2, gap - gap / 2),
                        _ => (0, gap),
                    };
                    line.push(&spaces(pad + left), text);
                    for (s, style) in content.map(|r| cell.runs.parts(r)).into_iter().flatten() {
                        line.push(s, style);
                    }
                    line.push(&spaces(right + pad), text);
                    line.push("│", border);
                }
                self.emit(line.parts(0..line.runs.len()), offset);
            }
        }
        self.emit_one(&hline("└", "┴", "┘", "─"), border, t.offset);
    }

    /// Too narrow for a grid: one cell per paragraph, rows between rules.
    fn table_fallback(&mut self, t: TableState) {
        let border = self.theme.md.table_border;
        for (r, (row, offset)) in t.rows.into_iter().enumerate() {
            if r > 0 {
                self.rule("─", border, offset);
            }
            for cell in row {
                if cell.has_text {
                    self.emit_inline(&cell);
                }
            }
        }
    }

    fn finish(mut self) -> Document {
        self.flush_inline();
        while self.containers.last().is_some() {
            self.pop_container();
        }
        let mut main = self.sinks.swap_remove(0);
        if !self.notes.is_empty() {
            self.notes.sort_by_key(|(n, _)| *n);
            let offset = main.offsets.last().copied().unwrap_or(0);
            if !main.lines.is_empty() {
                main.push_line(&Line::default(), offset);
            }
            let rule = "─".repeat(self.width);
            main.push_line(&Line::from(Span::styled(rule, self.theme.md.rule)), offset);
            for (_, note) in std::mem::take(&mut self.notes) {
                let base = main.lines.len();
                for ((line, offset), flow) in note.lines.iter().zip(note.offsets).zip(note.flow) {
                    main.push_flow(&line, offset, flow);
                }
                main.headings.extend(note.headings.into_iter().map(|mut h| {
                    h.line += base;
                    h
                }));
                main.links.extend(note.links.into_iter().map(|mut l| {
                    l.line += base;
                    for a in &mut l.areas {
                        a.line += base;
                    }
                    l
                }));
            }
        }
        main.lines.shrink_to_fit();
        main.offsets.shrink_to_fit();
        // The cells of a table row place their links column by column; by
        // line is the order lookups by screen position need.
        main.links.sort_by_key(|l| l.line);
        Document {
            lines: main.lines,
            offsets: main.offsets,
            headings: main.headings,
            links: main.links,
            flow: main.flow,
            width: self.width as u16,
        }
    }
}

/// Cell padding and content width per column, or `None` when even one
/// column per cell does not fit.
fn column_widths(t: &TableState, ncols: usize, avail: usize) -> Option<(usize, Vec<usize>)> {
    let mut natural = vec![1; ncols];
    let mut longest_word = vec![1; ncols];
    for (row, _) in &t.rows {
        for (c, cell) in row.iter().enumerate() {
            natural[c] = natural[c].max(display_width(&cell.text));
            let word = cell
                .text
                .split_whitespace()
                .map(display_width)
                .max()
                .unwrap_or(0);
            longest_word[c] = longest_word[c].max(word);
        }
    }
    let borders = ncols + 1;
    let min_sum: usize = natural
        .iter()
        .zip(&longest_word)
        .map(|(&n, &w)| n.min(w))
        .sum();
    // Padding goes first when dropping it is what lets words stay whole.
    let padded_ok = avail >= borders + ncols * 5;
    let words_fit_padded = avail >= borders + 2 * ncols + min_sum;
    let words_fit_bare = avail >= borders + min_sum;
    let (pad, budget) = if padded_ok && (words_fit_padded || !words_fit_bare) {
        (1, avail - borders - 2 * ncols)
    } else if avail >= borders + ncols * 2 {
        (0, avail - borders)
    } else {
        return None;
    };
    Some((pad, share(&natural, &longest_word, budget)))
}

/// Column widths within `budget`: every column gets its natural width if all
/// fit; otherwise each gets room for its longest word, and the rest is
/// handed out in proportion to how much each column still wants.
fn share(natural: &[usize], longest_word: &[usize], budget: usize) -> Vec<usize> {
    if natural.iter().sum::<usize>() <= budget {
        return natural.to_vec();
    }
    let mins: Vec<usize> = natural
        .iter()
        .zip(longest_word)
        .map(|(&n, &w)| n.min(w).max(1))
        .collect();
    let min_sum: usize = mins.iter().sum();
    if min_sum > budget {
        return water_fill(&mins, budget)
            .into_iter()
            .map(|w| w.max(1))
            .collect();
    }
    let wants: Vec<usize> = natural.iter().zip(&mins).map(|(&n, &m)| n - m).collect();
    let extra = water_fill(&wants, budget - min_sum);
    mins.iter().zip(extra).map(|(m, e)| m + e).collect()
}

/// Narrow columns keep their width, the rest share what is left equally.
fn water_fill(wanted: &[usize], budget: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..wanted.len()).collect();
    order.sort_by_key(|&c| wanted[c]);
    let mut widths = vec![0; wanted.len()];
    let mut left = budget;
    for (k, &c) in order.iter().enumerate() {
        let fair = left / (wanted.len() - k);
        let w = wanted[c].min(fair);
        widths[c] = w;
        left = left.saturating_sub(w);
    }
    widths
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::sanitize::is_unsafe;

    #[test]
    fn pieces_render_like_the_whole() {
        let mut src = String::from(
            "# Start\n\nSee [the spec][spec], [^far] and [^near].\n\n[^near]: close by\n\n\
             1. one\n2. two\n\n# Code\n\n```rust\nfn main() {}\n\n# not a heading\n```\n\n\
             # Start\n\n- a\n- b\n\n  nested para\n\n> quote\n\n",
        );
        src.push_str(include_str!("../posts/2026-11-22-markdown-showcase.md"));
        src.push_str("\n\n# Late\n\n[^far]: defined in the last piece\n\n[spec]: https://spec.commonmark.org \"CM\"\n");
        let theme = Theme::default();
        for opts in [
            RenderOptions::default(),
            RenderOptions {
                wrap_code: false,
                highlight: false,
            },
        ] {
            let whole = render_in_pieces(&src, 72, &theme, opts, usize::MAX);
            let cut = render_in_pieces(&src, 72, &theme, opts, 1);
            assert!(pieces::pieces(&src, 1).len() > 5);
            assert_eq!(texts(&cut), texts(&whole));
            assert_eq!(cut, whole);
        }
        let d = render_in_pieces(&src, 72, &theme, RenderOptions::default(), 1);
        assert!(
            d.links
                .iter()
                .any(|l| l.url == "https://spec.commonmark.org")
        );
        let all = texts(&d).join("\n");
        assert!(all.contains("defined in the last piece"), "{all}");
        assert!(!all.contains("[^far]"), "{all}");
        assert!(
            !all.contains("\n.\n"),
            "a stand-in definition was shown:\n{all}"
        );
    }

    fn doc(src: &str, width: u16) -> Document {
        render(src, width, &Theme::default())
    }

    fn text(line: &Line<'_>) -> String {
        line.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    fn texts(d: &Document) -> Vec<String> {
        d.lines.iter().map(|l| text(&l)).collect()
    }

    fn check_invariants(d: &Document, width: u16) {
        let width = usize::from(width.max(1));
        assert_eq!(d.lines.len(), d.offsets.len());
        assert!(
            d.offsets.windows(2).all(|w| w[0] <= w[1]),
            "offsets decrease"
        );
        for line in &d.lines {
            let t = text(&line);
            assert!(display_width(&t) <= width, "{t:?} wider than {width}");
            assert!(!t.chars().any(is_unsafe), "control character in {t:?}");
        }
        for h in &d.headings {
            assert!(!h.text.chars().chain(h.anchor.chars()).any(is_unsafe));
            assert!(h.line < d.lines.len());
        }
        for l in &d.links {
            assert!(!l.text.chars().chain(l.url.chars()).any(is_unsafe));
            assert!(l.line < d.lines.len().max(1));
        }
    }

    #[test]
    fn headings_are_indexed_at_their_lines() {
        let d = doc(
            "# Title\n\nIntro.\n\n## Setup\n\ntext\n\n### Linux *too*\n",
            40,
        );
        let lines = texts(&d);
        let got: Vec<_> = d
            .headings
            .iter()
            .map(|h| (h.level, h.text.as_str()))
            .collect();
        assert_eq!(got, [(1, "Title"), (2, "Setup"), (3, "Linux too")]);
        for h in &d.headings {
            assert!(
                lines[h.line].contains(&h.text),
                "{:?} at {}",
                lines[h.line],
                h.line
            );
        }
        assert_eq!(d.headings[0].line, 0);
        // A blank line separates a heading from what precedes it.
        assert_eq!(lines[d.headings[1].line - 1], "");
        assert!(lines[1].starts_with('═'));
    }

    #[test]
    fn anchors_are_github_slugs_and_unique() {
        let d = doc(
            "# Hello, World!\n# Hello, World!\n# Hello, World!\n## Über `code` & more_stuff\n## Custom {#my-id}\n",
            80,
        );
        let anchors: Vec<_> = d.headings.iter().map(|h| h.anchor.as_str()).collect();
        assert_eq!(
            anchors,
            [
                "hello-world",
                "hello-world-1",
                "hello-world-2",
                "über-code--more_stuff",
                "my-id"
            ]
        );
        assert_eq!(d.headings[4].text, "Custom");
    }

    #[test]
    fn lists_keep_start_numbers_and_indent_nesting() {
        let d = doc("3. three\n4. four\n   - nested\n     - deeper\n", 40);
        assert_eq!(
            texts(&d),
            ["3. three", "4. four", "   ◦ nested", "     ▪ deeper"]
        );
        let d = doc("- a\n  - b\n    - c\n      - d", 40);
        assert_eq!(texts(&d), ["• a", "  ◦ b", "    ▪ c", "      • d"]);
    }

    #[test]
    fn ordered_markers_align_on_the_widest_number() {
        let src = "8. item 8\n9. item 9\n10. item 10\n11. item 11\n";
        assert_eq!(
            texts(&doc(src, 40)),
            [" 8. item 8", " 9. item 9", "10. item 10", "11. item 11"]
        );
    }

    #[test]
    fn list_items_wrap_with_a_hanging_indent() {
        let d = doc("- one two three four five six seven eight\n", 12);
        let lines = texts(&d);
        assert_eq!(lines[0], "• one two");
        assert!(
            lines[1..]
                .iter()
                .all(|l| l.starts_with("  ") && !l.starts_with("   "))
        );
        let d = doc("> one two three four five six seven eight\n", 12);
        assert!(texts(&d).iter().all(|l| l.starts_with("│ ")));
    }

    #[test]
    fn loose_and_tight_lists() {
        assert_eq!(texts(&doc("- a\n- b\n", 20)), ["• a", "• b"]);
        assert_eq!(texts(&doc("- a\n\n- b\n", 20)), ["• a", "", "• b"]);
        assert_eq!(
            texts(&doc("- [x] done\n- [ ] todo\n", 20)),
            ["☑ done", "☐ todo"]
        );
    }

    #[test]
    fn tables_fit_the_width() {
        let src = "| a | long header here | c |\n|:--|:--:|--:|\n| 1 | a cell with quite a lot of words in it | 3 |\n| x | y | z |\n";
        for width in [10, 20, 30, 40, 80] {
            let d = doc(src, width);
            check_invariants(&d, width);
            let all: String = texts(&d)
                .concat()
                .chars()
                .filter(|c| c.is_alphanumeric())
                .collect();
            for w in ["header", "cell", "words", "z"] {
                assert!(all.contains(w), "{w} lost at {width}:\n{all}");
            }
        }
        let d = doc(src, 80);
        let lines = texts(&d);
        assert!(lines[0].starts_with('┌') && lines.last().unwrap().starts_with('└'));
        // Right-aligned third column.
        assert!(lines.iter().any(|l| l.ends_with("│ z │")));
    }

    #[test]
    fn footnotes_are_numbered_by_reference_and_collected_at_the_end() {
        let src = "[^b]: Second note.\n\nText[^a] and[^b].\n\n[^a]: First note.\n\nMore text.\n";
        let d = doc(src, 40);
        let lines = texts(&d);
        assert_eq!(lines[0], "Text[1] and[2].");
        let rule = lines.iter().position(|l| l.starts_with('─')).unwrap();
        assert!(lines[..rule].iter().any(|l| l == "More text."));
        assert_eq!(&lines[rule + 1..], ["[1] First note.", "[2] Second note."]);
        check_invariants(&d, 40);
    }

    #[test]
    fn footnote_reference_in_a_table_cell() {
        let d = doc("| a |\n|---|\n| b[^n] |\n\n[^n]: note\n", 20);
        check_invariants(&d, 20);
        assert!(texts(&d).iter().any(|l| l.contains("b[1]")));
    }

    #[test]
    fn empty_constructs_do_not_crash() {
        for src in [
            ">", "> ", "-", "1.", "#", "```", "|a|\n|-|", "[^x]:", "* * *", "<div>", "$$$$",
            ">\n>\n>",
        ] {
            for w in [1, 5, 40] {
                check_invariants(&doc(src, w), w);
            }
        }
    }

    const NASTY: [&str; 5] = [
        "&#27;[2J",
        "&#155;31m",
        "\u{1b}[31m",
        "a\u{202E}b",
        "x\u{7f}\u{9b}y",
    ];

    #[test]
    fn control_characters_never_survive() {
        for bad in NASTY {
            let src = format!(
                "# H {bad}\n\ntext {bad}\n\n`{bad}`\n\n```\n{bad}\n```\n\n[link {bad}](http://x/{bad})\n\n\
                 ![alt {bad}](img{bad})\n\n| h {bad} |\n|---|\n| c {bad} |\n\n> {bad}\n\n- {bad}\n\n<p>{bad}</p>\n\n$m{bad}$\n"
            );
            for w in [5, 40] {
                let d = doc(&src, w);
                check_invariants(&d, w);
                if !bad.contains('[') {
                    assert_eq!(d.links.len(), 2, "{bad:?}");
                }
                assert_eq!(d.headings.len(), 1);
            }
        }
        let d = doc("# &#27;[2J\n\n[a&#27;b](u&#27;v)", 40);
        assert_eq!(d.headings[0].text, "\u{241b}[2J");
        assert_eq!(d.links[0].text, "a\u{241b}b");
        assert_eq!(d.links[0].url, "u\u{241b}v");
    }

    #[test]
    fn code_expands_tabs_and_wraps_visibly() {
        let d = doc("```\n\tx\ta\n```\n", 40);
        assert_eq!(texts(&d)[0].trim_end(), "     x   a");
        let d = doc(
            &format!("```rust\nlet s = \"{}\";\n```\n", "y".repeat(60)),
            30,
        );
        let lines = texts(&d);
        assert_eq!(lines[0].trim_end(), " rust");
        assert!(lines[2].starts_with('↪'));
        assert_eq!(lines.concat().matches('y').count(), 60);
        check_invariants(&d, 30);
    }

    /// The text each area of each link covers, as (line, text).
    fn link_areas(d: &Document) -> Vec<Vec<(usize, String)>> {
        d.links
            .iter()
            .map(|l| {
                l.areas
                    .iter()
                    .map(|a| {
                        let line = d.lines.text(a.line);
                        let text: String =
                            line.chars().skip(a.start).take(a.end - a.start).collect();
                        (a.line, text)
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn link_columns_and_areas_follow_wrapping_and_indentation() {
        let d = doc("aaaa [bb cc dd](u) eeee", 10);
        assert_eq!(texts(&d), ["aaaa bb cc", "dd eeee"]);
        assert_eq!((d.links[0].line, d.links[0].column), (0, 5));
        assert_eq!(
            link_areas(&d)[0],
            [(0, "bb cc".to_owned()), (1, "dd".to_owned())]
        );
        // Inside a quote and a list item, past the bar and the marker.
        let d = doc("> - see [here](u)", 40);
        assert_eq!(texts(&d), ["│ • see here"]);
        assert_eq!(d.links[0].column, 8);
        assert_eq!(link_areas(&d)[0], [(0, "here".to_owned())]);
        // A word glued to the link is not part of it.
        let d = doc("x [ab](u)cd", 40);
        assert_eq!(link_areas(&d)[0], [(0, "ab".to_owned())]);
        // In a heading, past its `# `.
        let d = doc("## A [b](u)", 40);
        assert_eq!(d.links[0].column, 5);
        // An image in a link: both start there; the outer link has the area.
        let d = doc("go [![pic](i.png) now](u)", 40);
        assert_eq!(texts(&d), ["go [image: pic] now"]);
        assert_eq!(d.links[0].column, 3);
        assert_eq!(d.links[1].column, 3);
        assert_eq!(link_areas(&d)[0], [(0, "[image: pic] now".to_owned())]);
        assert!(d.links[1].areas.is_empty());
    }

    #[test]
    fn link_areas_in_table_cells() {
        let d = doc("| a | b |\n|---|--:|\n| x | [yy](u) |\n", 40);
        let areas = link_areas(&d);
        assert_eq!(areas[0].len(), 1, "{:?}", texts(&d));
        assert_eq!(areas[0][0].1, "yy", "{:?}", texts(&d));
        assert_eq!(d.links[0].column, d.links[0].areas[0].start);
    }

    #[test]
    fn link_areas_in_footnotes_and_after_a_prepend() {
        let mut d = doc("Text[^1].\n\n[^1]: See [there](u).\n", 40);
        let areas = link_areas(&d);
        assert_eq!(areas[0].len(), 1);
        assert_eq!(areas[0][0].1, "there");
        d.prepend(&[Line::from("notice")]);
        assert_eq!(link_areas(&d)[0][0].1, "there");
    }

    #[test]
    fn links_and_images_are_recorded() {
        let d = doc(
            "Intro line.\n\nSee [the docs](https://e.com/docs \"t\") and <https://auto.link>.\n\n![a cat](cat.png)\n",
            80,
        );
        let got: Vec<_> = d
            .links
            .iter()
            .map(|l| (l.text.as_str(), l.url.as_str(), l.line))
            .collect();
        assert_eq!(
            got,
            [
                ("the docs", "https://e.com/docs", 2),
                ("https://auto.link", "https://auto.link", 2),
                ("a cat", "cat.png", 4)
            ]
        );
        let lines = texts(&d);
        assert_eq!(lines[2], "See the docs and https://auto.link.");
        assert_eq!(lines[4], "[image: a cat]");
        assert_eq!(
            texts(&doc("![](x.png) and ![*b*](y.png)", 80)),
            ["[image] and [image: b]"]
        );
    }

    #[test]
    fn link_line_follows_wrapping() {
        let d = doc("aaaa bbbb cccc [link text](u)", 10);
        assert_eq!(texts(&d), ["aaaa bbbb", "cccc link", "text"]);
        assert_eq!(d.links[0].line, 1);
        let d = doc("aaaa bbbb cccc [linktext](u)", 10);
        assert_eq!(d.links[0].line, 2);
    }

    #[test]
    fn alerts_have_titles() {
        let d = doc("> [!NOTE]\n> Be careful.\n\n> [!CAUTION]\n> Hot.\n", 40);
        assert_eq!(
            texts(&d),
            ["│ ℹ Note", "│ Be careful.", "", "│ ✖ Caution", "│ Hot."]
        );
    }

    #[test]
    fn breaks_rules_html_math_definitions() {
        let d = doc("a  \nb\nc\n\n---\n\n<b>x</b> $y$\n\nTerm\n: Def\n", 20);
        assert_eq!(
            texts(&d),
            [
                "a",
                "b c",
                "",
                "─".repeat(20).as_str(),
                "",
                "<b>x</b> y",
                "",
                "Term",
                "    Def"
            ]
        );
    }

    #[test]
    fn deep_nesting_is_linear_and_keeps_text() {
        for (unit, n) in [("> ", 50_000), ("- ", 50_000), ("1. ", 20_000)] {
            let src = format!("{}deep text here", unit.repeat(n));
            let start = Instant::now();
            let d = doc(&src, 80);
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "{unit:?} too slow"
            );
            check_invariants(&d, 80);
            assert!(texts(&d).concat().contains("deep text here"));
        }
        let src = "> ".repeat(50_000) + "\n" + &"- ".repeat(50_000) + "x";
        check_invariants(&doc(&src, 40), 40);
    }

    #[test]
    fn width_invariants_hold_at_tiny_widths() {
        let srcs = [
            include_str!("../tests/fixtures/tech-post.md"),
            include_str!("../tests/fixtures/cjk-emoji.md"),
            "- > - > 1. > nested 日本語 text with a verylongwordthatneverends",
        ];
        for src in srcs {
            for w in [0, 1, 2, 5, 20, 40, 80] {
                check_invariants(&doc(src, w), w);
            }
        }
    }

    #[test]
    fn offsets_point_at_the_text_that_starts_each_line() {
        let src = "# Title here\n\nFirst paragraph with several words to wrap around.\n\n- item one with words\n- item two\n\n> quoted words that wrap too\n";
        for width in [12, 20, 80] {
            let d = doc(src, width);
            check_invariants(&d, width);
            for (line, &offset) in d.lines.iter().zip(&d.offsets) {
                let t = text(&line);
                let first = t
                    .trim_start_matches(['#', '•', '│', ' '])
                    .split(' ')
                    .next()
                    .unwrap();
                if !first.is_empty() && !first.starts_with(['═', '─']) {
                    assert!(
                        src[offset..].starts_with(first),
                        "{t:?} at {offset}: {:?}",
                        &src[offset..]
                    );
                }
            }
        }
        // The same paragraph is found again after a resize.
        let narrow = doc(src, 12);
        let wide = doc(src, 80);
        let line = texts(&narrow)
            .iter()
            .position(|l| l.contains("around"))
            .unwrap();
        assert!(line > 2, "{:?}", texts(&narrow));
        let back = wide.line_for_offset(narrow.offset_of_line(line));
        assert!(texts(&wide)[back].starts_with("First paragraph"));
        // Separators never share the offset of the block below.
        for (i, l) in texts(&wide).iter().enumerate() {
            if l.is_empty() {
                assert!(wide.offsets[i + 1] > wide.offsets[i]);
            }
        }
    }

    #[test]
    fn parallel_highlighting_matches_sequential() {
        let block = |lang: &str, line: &str| {
            format!("```{lang}\n{}```\n\n", format!("{line}\n").repeat(1200))
        };
        let blocks = [
            block("rust", "let x: u32 = 1; // one"),
            block("py", "def f(x): return x  # two"),
            block("klingon", "plain\ttext"),
            block("sh", "echo \"$HOME\" | wc -l"),
        ];
        let all = blocks.concat();
        assert!(all.len() > PARALLEL_CODE_BYTES);
        let together = doc(&all, 60);
        let mut separately = Lines::default();
        for b in &blocks {
            assert!(b.len() < PARALLEL_CODE_BYTES);
            if !separately.is_empty() {
                separately.push(&Line::default());
            }
            separately.extend(&doc(b, 60).lines);
        }
        assert_eq!(together.lines, separately);
        let second = together.lines.get(1).unwrap();
        assert!(
            second
                .spans
                .iter()
                .any(|s| s.style.fg != second.spans[0].style.fg)
        );
    }

    #[test]
    fn cjk_breaks_between_characters() {
        let d = doc("日本語の文章", 6);
        assert_eq!(texts(&d), ["日本語", "の文章"]);
        // Closing punctuation stays with the character before it.
        let d = doc("日本語。文章", 6);
        assert_eq!(texts(&d), ["日本", "語。文", "章"]);
        let d = doc("日本語abc", 6);
        assert_eq!(texts(&d), ["日本語", "abc"]);
    }

    #[test]
    fn unwrapped_code_is_cut_with_a_marker() {
        let theme = Theme::default();
        let src = "```\nshort\nthis line is much too long for the block it is in\n```\n";
        let opts = RenderOptions {
            wrap_code: false,
            ..RenderOptions::default()
        };
        let doc = render_with(src, 20, &theme, opts);
        let text: Vec<String> = doc
            .lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect();
        assert_eq!(text.len(), 2, "{text:?}");
        assert!(text[1].trim_end().ends_with('…'), "{text:?}");
        assert!(text.iter().all(|l| display_width(l) <= 20));
        assert!(text[0].contains("short") && !text[0].contains('…'));
        let wrapped = render(src, 20, &theme);
        assert!(wrapped.lines.len() > 2, "wrapping is the default");
    }
}
