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
//!
//! The renderer's parts are submodules: `prepass` (the look ahead),
//! `inline` (a block's buffered text, links and images), `wrap` (that text
//! wrapped into lines), `sink` (where lines go, under their indentation),
//! `container` (quotes, lists, definitions, footnote bodies), and `heading`,
//! `code` and `table` for those blocks. This file holds the renderer's state
//! and hands each event to the part that handles it.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use pulldown_cmark::{BrokenLink, CowStr, Event, Options, Parser, Tag, TagEnd};
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::document::{Document, Heading, Lines};
use crate::pieces::{self, LinkDefs, PIECE_BYTES, Piece};
use crate::sanitize::sanitize;
use crate::theme::Theme;

mod code;
mod container;
mod diagram;
mod generator;
mod header;
mod heading;
mod html;
mod inline;
mod math;
mod picture;
mod prepass;
mod sink;
mod table;
mod wrap;

pub use diagram::may_have_diagram;
pub use header::{
    PostHeader, WORDS_PER_MINUTE, count_words, estimate_words, header_lines, opens_with_title,
    opens_with_title_in, prepend_header, reading_minutes,
};
pub use heading::slug;
pub use picture::reserve_pictures;

use code::{CodeState, Highlights};
use container::{Container, Lists};
use heading::{HeadingState, Slugs};
use inline::{Inline, Kind, LinkState};
use prepass::PrePass;
use sink::Sink;
use table::TableState;
use wrap::Wrapped;

const SPACES: &str = "                                                                ";

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

/// The pictures of `source` in order, as (alt text, source) — Markdown's
/// `![alt](src)` only — for `--print`, which shows them after their
/// alt-text lines. Pure, linear, no layout.
pub fn images(source: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut depth = 0usize;
    for event in Parser::new_ext(source, options()) {
        match event {
            Event::Start(Tag::Image { dest_url, .. }) => {
                if depth == 0 {
                    out.push((String::new(), dest_url.into_string()));
                }
                depth += 1;
            }
            Event::End(TagEnd::Image) => depth = depth.saturating_sub(1),
            Event::Text(t) | Event::Code(t) if depth > 0 => {
                if let Some(last) = out.last_mut() {
                    last.0.push_str(&t);
                }
            }
            _ => {}
        }
    }
    out
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
    /// `<details>` blocks open; folded, each shows only its summary line
    /// (`▸`). Open by default: a render for reading through (`--print`)
    /// shows every word; the reader folds them until asked (`D`).
    pub details_open: bool,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            wrap_code: true,
            highlight: true,
            details_open: true,
        }
    }
}

/// Renders `source` (a post body without frontmatter) at `width` columns.
pub fn render(source: &str, width: u16, theme: &Theme) -> Document {
    render_with(source, width, theme, RenderOptions::default())
}

/// [`render`] with layout options.
pub fn render_with(source: &str, width: u16, theme: &Theme, opts: RenderOptions) -> Document {
    render_in_pieces(source, width, theme, opts, PIECE_BYTES, None)
}

/// Where [`render_streaming`] hands finished lines (and their headings).
type HandOn<'a, 'f> = &'a mut (dyn FnMut(&Lines, &[Heading]) -> bool + 'f);

/// [`render_with`] for a reader of lines rather than of a document
/// (`--print`): lines are handed to `out` as each piece of a long body is
/// laid out, and only the rest is kept, so a long post is never in memory
/// whole as lines. `out` returns false to stop (its reader has gone). The
/// lines given and the lines of the returned document are those of
/// [`render_with`], in order; each batch comes with its headings (their
/// lines counted within it); links are not kept.
pub fn render_streaming(
    source: &str,
    width: u16,
    theme: &Theme,
    opts: RenderOptions,
    out: &mut dyn FnMut(&Lines, &[Heading]) -> bool,
) -> Document {
    render_in_pieces(source, width, theme, opts, STREAM_PIECE_BYTES, Some(out))
}

/// Pieces of a streamed render are smaller: two are in memory at once, one
/// being laid out while the next is parsed and highlighted.
const STREAM_PIECE_BYTES: usize = PIECE_BYTES / 4;

thread_local! {
    /// The stop flag of the render running on this thread (see
    /// [`cancellable`]).
    static CANCEL: RefCell<Option<Arc<AtomicBool>>> = const { RefCell::new(None) };
}

/// Runs `f`, a render on this thread (a layout job), so that setting `flag`
/// from elsewhere stops it between blocks: a server drops a layout nobody
/// waits for any more. A stopped render returns part of the document, for
/// the caller to throw away. The flag travels beside the job rather than
/// through [`RenderOptions`], so the app, which makes the jobs, need not know.
pub fn cancellable<R>(flag: &Arc<AtomicBool>, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Arc<AtomicBool>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            CANCEL.with(|c| *c.borrow_mut() = previous);
        }
    }
    let _restore = Restore(CANCEL.with(|c| c.borrow_mut().replace(Arc::clone(flag))));
    f()
}

fn stopped(flag: Option<&AtomicBool>) -> bool {
    flag.is_some_and(|f| f.load(Ordering::Relaxed))
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
    mut out: Option<HandOn<'_, '_>>,
) -> Document {
    // Generators' syntax becomes the Markdown it stands for; the lines'
    // offsets are mapped back to the source.
    let rewritten = generator::rewrite(source);
    let text = rewritten.as_ref().map_or(source, |r| r.text.as_str());
    let pieces = pieces::pieces(text, piece_bytes);
    // Room for the lines laid out: all of them, or a piece's when they
    // are handed on.
    let room = if out.is_some() {
        text.len().min(piece_bytes.saturating_mul(2))
    } else {
        text.len()
    };
    let mut doc = match render_once(room, &pieces, width, theme, opts, out.as_deref_mut()) {
        Some(doc) => doc,
        None => render_twice(room, &pieces, width, theme, opts, out),
    };
    if let Some(r) = &rewritten {
        for offset in &mut doc.offsets {
            *offset = r.original(*offset).min(source.len());
        }
    }
    doc
}

/// One parse per piece: its events are kept while the pre-pass looks at
/// them and the piece is laid out, then dropped (they take less memory than
/// the parser's tree, which is gone by then). `None` when something one
/// piece must know is in another: a link reference definition (a later
/// piece may define what an earlier one uses), or a footnote defined before
/// its first reference in a later piece (or never referenced), whose number
/// is not known when it is laid out. [`render_twice`] handles those.
fn render_once(
    source_len: usize,
    pieces: &[Piece<'_>],
    width: u16,
    theme: &Theme,
    opts: RenderOptions,
    mut out: Option<HandOn<'_, '_>>,
) -> Option<Document> {
    let several = pieces.len() > 1;
    if several
        && pieces
            .iter()
            .any(|p| pieces::may_define_links(&p.text[..p.len]))
    {
        return None;
    }
    // Below, a footnote found defined before its reference sends the render
    // to `render_twice`: lines already handed on cannot be taken back, so a
    // streamed render with anything like a footnote goes there first.
    if several && out.is_some() && pieces.iter().any(|p| p.text[..p.len].contains("[^")) {
        return None;
    }
    let collect_code = opts.highlight && !theme.syntax.is_off();
    if several
        && let Some(out) = out.as_deref_mut()
        && two_cores()
    {
        return Some(render_pipelined(
            source_len, pieces, width, theme, opts, out,
        ));
    }
    let mut pre = PrePass::new();
    let mut r = renderer(theme, width, opts, PrePass::new(), source_len);
    let cancel = r.cancel.clone();
    for (i, piece) in pieces.iter().enumerate() {
        if stopped(cancel.as_deref()) {
            break;
        }
        let events: Vec<(Event<'_>, std::ops::Range<usize>)> =
            Parser::new_ext(&piece.text, options())
                .into_offset_iter()
                .filter(|(_, range)| range.start < piece.len)
                .collect();
        pre.note_numbers = std::mem::take(&mut r.note_numbers);
        let blocks = pre.observe(events.iter().map(|(e, _)| e), collect_code);
        r.note_numbers = std::mem::take(&mut pre.note_numbers);
        if several
            && events.iter().any(|(e, _)| {
                matches!(e, Event::Start(Tag::FootnoteDefinition(label))
                    if !r.note_numbers.contains_key(&container::note_key(label)))
            })
        {
            return None;
        }
        let known = r.lists.known();
        r.lists.extend(&pre.list_last[known..]);
        r.highlights.add_piece(blocks);
        r.begin_piece(i);
        for (event, range) in events {
            if stopped(cancel.as_deref()) {
                break;
            }
            r.offset = piece.start + range.start;
            r.event(event, range.len());
        }
        if let Some(out) = out.as_deref_mut()
            && !r.hand_on(out)
        {
            break;
        }
    }
    Some(r.finish())
}

/// Whether a second thread can run beside this one.
fn two_cores() -> bool {
    std::thread::available_parallelism().is_ok_and(|n| n.get() > 1)
}

/// A piece parsed, looked at by the pre-pass and its code highlighted, ready
/// for layout (see [`render_pipelined`]).
struct Prepared<'p> {
    events: Vec<(Event<'p>, std::ops::Range<usize>)>,
    /// The pre-pass's list sizes for the lists this piece opened.
    list_last: Vec<u64>,
    highlighted: Vec<code::Highlighted>,
}

/// Pieces waiting for layout: each holds its events and highlighted code,
/// a few times the piece's size, so the queue is short.
const PIPELINE_DEPTH: usize = 0;

/// [`render_once`] for a streamed render of several pieces: a second thread
/// parses each piece, runs the pre-pass over it and highlights its code
/// while this one lays out the piece before. Only for bodies without
/// footnotes (`render_once` checks): a piece's pre-pass then never needs
/// what the layout of the pieces before it learnt.
fn render_pipelined(
    source_len: usize,
    pieces: &[Piece<'_>],
    width: u16,
    theme: &Theme,
    opts: RenderOptions,
    out: HandOn<'_, '_>,
) -> Document {
    let collect_code = opts.highlight && !theme.syntax.is_off();
    let mut r = renderer(theme, width, opts, PrePass::new(), source_len);
    let cancel = r.cancel.clone();
    let mut pre = PrePass::new();
    lay_out_pipelined(&mut r, pieces, out, |piece| {
        let events: Vec<_> = Parser::new_ext(&piece.text, options())
            .into_offset_iter()
            .filter(|(_, range)| range.start < piece.len)
            .collect();
        let known = pre.list_last.len();
        let blocks = pre.observe(events.iter().map(|(e, _)| e), collect_code);
        Prepared {
            events,
            list_last: pre.list_last[known..].to_vec(),
            highlighted: code::highlight_each(&blocks, &theme.syntax, cancel.as_deref()),
        }
    });
    r.finish()
}

/// Lays `pieces` out on this thread, each as `prepare` (run on a second
/// thread, a piece or two ahead) made it ready, handing the lines of each
/// to `out`. The work and its order are those of one thread, so are the
/// lines.
fn lay_out_pipelined<'p>(
    r: &mut Renderer<'_>,
    pieces: &'p [Piece<'_>],
    out: HandOn<'_, '_>,
    mut prepare: impl FnMut(&'p Piece<'_>) -> Prepared<'p> + Send,
) {
    let cancel = r.cancel.clone();
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Prepared<'p>>(PIPELINE_DEPTH);
        let producer_cancel = cancel.clone();
        scope.spawn(move || {
            for piece in pieces {
                if stopped(producer_cancel.as_deref()) {
                    break;
                }
                // The layout stopped (its reader has gone): so does this.
                if tx.send(prepare(piece)).is_err() {
                    break;
                }
            }
        });
        for (piece, prepared) in pieces.iter().zip(rx.iter()) {
            if stopped(cancel.as_deref()) {
                break;
            }
            r.lists.extend(&prepared.list_last);
            r.begin_piece_highlighted(prepared.highlighted);
            for (event, range) in prepared.events {
                if stopped(cancel.as_deref()) {
                    break;
                }
                r.offset = piece.start + range.start;
                r.event(event, range.len());
            }
            if !r.hand_on(out) {
                break;
            }
        }
        // Returning drops the receiver, which ends a producer waiting to
        // send.
    });
}

/// A pre-pass parse over every piece, then the layout's own: for what
/// [`render_once`] cannot do.
fn render_twice(
    source_len: usize,
    pieces: &[Piece<'_>],
    width: u16,
    theme: &Theme,
    opts: RenderOptions,
    mut out: Option<HandOn<'_, '_>>,
) -> Document {
    let pipelined = pieces.len() > 1 && out.is_some() && two_cores();
    let (mut pre, defs) = PrePass::run(pieces, opts.highlight && !theme.syntax.is_off(), pipelined);
    let mut code_blocks = if pipelined {
        std::mem::take(&mut pre.code)
    } else {
        Vec::new()
    };
    let mut r = renderer(theme, width, opts, pre, source_len);
    let cancel = r.cancel.clone();
    if pipelined && let Some(out) = out {
        let mut code_blocks = code_blocks.drain(..);
        lay_out_pipelined(&mut r, pieces, out, |piece| {
            let blocks = code_blocks.next().unwrap_or_default();
            Prepared {
                events: parser(piece, &defs)
                    .into_offset_iter()
                    .filter(|(_, range)| range.start < piece.len)
                    .collect(),
                list_last: Vec::new(),
                highlighted: code::highlight_each(&blocks, &theme.syntax, cancel.as_deref()),
            }
        });
        return r.finish();
    }
    'pieces: for (i, piece) in pieces.iter().enumerate() {
        r.begin_piece(i);
        for (event, range) in parser(piece, &defs).into_offset_iter() {
            if range.start >= piece.len {
                continue;
            }
            if stopped(cancel.as_deref()) {
                break 'pieces;
            }
            r.offset = piece.start + range.start;
            r.event(event, range.len());
        }
        if let Some(out) = out.as_deref_mut()
            && !r.hand_on(out)
        {
            break;
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

/// A renderer of a post of `source_len` bytes at `width` with `opts`,
/// knowing what `pre` found, cancelled by this thread's cancel flag.
fn renderer(
    theme: &Theme,
    width: u16,
    opts: RenderOptions,
    pre: PrePass,
    source_len: usize,
) -> Renderer<'_> {
    let mut r = Renderer::new(theme, usize::from(width.max(1)), opts.highlight, pre);
    r.sinks[0] = Sink::for_source(source_len);
    r.wrap_code = opts.wrap_code;
    r.details_open = opts.details_open;
    r.cancel = CANCEL.with(|c| c.borrow().clone());
    r
}

/// The state of one render, carried from piece to piece.
struct Renderer<'t> {
    theme: &'t Theme,
    width: usize,
    wrap_code: bool,
    highlight: bool,
    offset: usize,
    sinks: Vec<Sink>,
    notes: Vec<(usize, Sink)>,
    containers: Vec<Container>,
    lists: Lists,
    styles: Vec<Style>,
    inline: Inline,
    heading: Option<HeadingState>,
    links: Vec<LinkState>,
    code: Option<CodeState>,
    tables: Vec<TableState>,
    note_numbers: HashMap<String, usize>,
    slugs: Slugs,
    highlights: Highlights,
    /// The wrapper's buffers, kept from block to block.
    wrapped: Wrapped,
    /// Diagrams met so far (drawing is capped per post).
    diagrams: usize,
    /// Set from elsewhere: stop (see [`cancellable`]).
    cancel: Option<Arc<AtomicBool>>,
    /// Inside an HTML comment that an earlier event opened.
    in_comment: bool,
    /// HTML tags that style what they hold, open (see `html`).
    open_html: Vec<html::OpenTag>,
    /// `<details>` shown open; folded otherwise (see `html`).
    details_open: bool,
    /// A `<details>` whose summary, once it closes, starts a fold.
    fold_armed: bool,
    /// Inside a folded `<details>`: its events are skipped.
    fold: Option<html::Fold>,
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
            lists: Lists::new(pre.list_last),
            styles: vec![theme.md.text],
            inline: Inline::default(),
            heading: None,
            links: Vec::new(),
            code: None,
            tables: Vec::new(),
            note_numbers: pre.note_numbers,
            slugs: Slugs::default(),
            highlights: Highlights::new(pre.code),
            wrapped: Wrapped::default(),
            diagrams: 0,
            cancel: None,
            in_comment: false,
            open_html: Vec::new(),
            details_open: true,
            fold_armed: false,
            fold: None,
        }
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

    fn event(&mut self, event: Event<'_>, source_len: usize) {
        if self.fold.is_some() && self.folded(&event) {
            return;
        }
        if self.fold_armed && matches!(&event, Event::Start(t) if !matches!(t, Tag::HtmlBlock)) {
            // Content before any summary: nothing to fold it under.
            self.fold_armed = false;
        }
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(t) => {
                if let Some(code) = &mut self.code {
                    code.text.push_str(&t);
                    return;
                }
                let t = html::emoji(&t);
                if let Some(h) = &mut self.heading {
                    h.text.push_str(&sanitize(&t));
                }
                self.push_text(&t, self.style(), source_len);
            }
            Event::Code(t) => {
                // A generator's tag, kept as written and dimmed.
                let (t, style) = match t.strip_prefix(generator::TAG_MARK) {
                    Some(tag) => (
                        CowStr::from(tag.to_owned()),
                        self.theme
                            .md
                            .html
                            .add_modifier(ratatui::style::Modifier::DIM),
                    ),
                    None => (t, self.theme.md.code),
                };
                if let Some(h) = &mut self.heading {
                    h.text.push_str(&sanitize(&t));
                }
                let style = self.style().patch(style);
                self.push_text(&t, style, 0);
            }
            Event::InlineMath(t) => {
                let style = self.style().patch(self.theme.md.math);
                // What cannot be converted shows as its source.
                match math::inline(&t) {
                    Ok(text) => self.push_text(&text, style, 0),
                    Err(_) => self.push_text(&t, style, 0),
                }
            }
            Event::DisplayMath(t) => {
                let style = self.style().patch(self.theme.md.math);
                if self.inline.has_text {
                    self.inline.push_kind(Kind::Break, self.offset);
                }
                let (_, avail) = self.layout();
                match math::display(&t, avail) {
                    Ok(rows) => {
                        let stacked = rows.len() > 1;
                        for row in rows {
                            // A stacked formula's columns line up by its
                            // spaces, which wrapping must not eat.
                            let row = if stacked {
                                row.replace(' ', "\u{a0}")
                            } else {
                                row
                            };
                            self.push_text(&row, style, 0);
                            self.inline.push_kind(Kind::Break, self.offset);
                        }
                    }
                    Err(_) => {
                        for line in t.lines() {
                            self.push_text(line, style, 0);
                            self.inline.push_kind(Kind::Break, self.offset);
                        }
                    }
                }
            }
            Event::Html(t) | Event::InlineHtml(t) => self.html(&t),
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

    fn start(&mut self, tag: Tag<'_>) {
        let md = &self.theme.md;
        match tag {
            Tag::Paragraph => self.start_paragraph(),
            Tag::Heading { level, id, .. } => self.start_heading(level, id),
            Tag::BlockQuote(kind) => self.start_quote(kind),
            Tag::CodeBlock(kind) => self.start_code(kind),
            Tag::HtmlBlock => {
                self.flush_inline();
                // The block's words in the text's style; tags folio does not
                // know take the HTML style (see `html`).
                self.push_style(Style::default());
            }
            Tag::List(start) => self.start_list(start),
            Tag::Item => self.start_item(),
            Tag::FootnoteDefinition(label) => self.start_footnote(&label),
            Tag::DefinitionList | Tag::MetadataBlock(_) => self.flush_inline(),
            Tag::DefinitionListTitle => {
                self.flush_inline();
                self.push_style(md.definition_term);
            }
            Tag::DefinitionListDefinition => self.start_definition(),
            Tag::Table(aligns) => self.start_table(aligns),
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

    fn end(&mut self, tag: TagEnd) {
        if matches!(
            tag,
            TagEnd::Paragraph
                | TagEnd::HtmlBlock
                | TagEnd::Heading(_)
                | TagEnd::TableCell
                | TagEnd::Item
                | TagEnd::BlockQuote(_)
                | TagEnd::FootnoteDefinition
        ) {
            self.close_open_html();
            self.in_comment = false;
        }
        match tag {
            TagEnd::Heading(_) => self.end_heading(),
            TagEnd::BlockQuote(_) => {
                self.flush_inline();
                self.pop_container();
                self.pop_style();
                self.end_block();
            }
            TagEnd::CodeBlock => self.end_code(),
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
            TagEnd::Table => self.end_table(),
            TagEnd::TableHead => {
                self.pop_style();
                self.end_head();
            }
            TagEnd::TableRow => {}
            TagEnd::TableCell => self.end_cell(),
            TagEnd::Emphasis
            | TagEnd::Strong
            | TagEnd::Strikethrough
            | TagEnd::Superscript
            | TagEnd::Subscript => self.pop_style(),
            TagEnd::Link | TagEnd::Image => self.end_link(),
        }
    }

    /// Between pieces: hands the document's finished lines to `out`, all
    /// but the last (the next block's spacing looks at it). Only where
    /// nothing is open: a footnote being laid out, a container.
    fn hand_on(&mut self, out: &mut dyn FnMut(&Lines, &[Heading]) -> bool) -> bool {
        if self.sinks.len() != 1 || !self.containers.is_empty() {
            return true;
        }
        let sink = &mut self.sinks[0];
        let head = sink.lines.take_all_but_last();
        let n = head.len();
        if n == 0 {
            return true;
        }
        sink.offsets.drain(..n);
        sink.flow.drain(..n);
        let (handed, mut kept): (Vec<Heading>, Vec<Heading>) =
            sink.headings.drain(..).partition(|h| h.line < n);
        for h in &mut kept {
            h.line -= n;
        }
        sink.headings = kept;
        // A reader of lines has no use for where links are.
        sink.links.clear();
        out(&head, &handed)
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
                main.code_blocks
                    .extend(note.code_blocks.into_iter().map(|mut c| {
                        c.lines = c.lines.start + base..c.lines.end + base;
                        c
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
            code_blocks: main.code_blocks,
            flow: main.flow,
            width: self.width as u16,
            words: 0,
            pictures: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn images_are_listed_in_order_with_their_alt_text() {
        let found = super::images(
            "![a *cat*](c.png) and ![](d.png)\n\n[![nested](n.png)](x)\n\n`![not](code.png)`\n",
        );
        assert_eq!(
            found,
            [
                ("a cat".to_owned(), "c.png".to_owned()),
                (String::new(), "d.png".to_owned()),
                ("nested".to_owned(), "n.png".to_owned()),
            ]
        );
    }

    use super::*;
    use crate::sanitize::{display_width, is_unsafe};

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
                details_open: true,
            },
        ] {
            let whole = render_in_pieces(&src, 72, &theme, opts, usize::MAX, None);
            let cut = render_in_pieces(&src, 72, &theme, opts, 1, None);
            assert!(pieces::pieces(&src, 1).len() > 5);
            assert_eq!(texts(&cut), texts(&whole));
            assert_eq!(cut, whole);
            // Handed on piece by piece (`--print`): the same lines, styles
            // and all, in the same order.
            let (streamed, _, handed) = streamed(&src, 72, opts, 1);
            assert!(handed > 3, "{handed} hand-overs");
            let lines = |l: &Lines| l.iter().map(|l| l.to_string()).collect::<Vec<_>>();
            assert_eq!(lines(&streamed), lines(&whole.lines));
            assert!(streamed.iter().eq(whole.lines.iter()));
        }
        let d = render_in_pieces(&src, 72, &theme, RenderOptions::default(), 1, None);
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

    /// A streamed render of `src` (as `--print` makes it): the lines handed
    /// on and those left at the end, in order; the headings handed with
    /// them; how many hand-overs there were.
    fn streamed(
        src: &str,
        width: u16,
        opts: RenderOptions,
        piece_bytes: usize,
    ) -> (Lines, usize, usize) {
        let mut lines = Lines::default();
        let (mut headings, mut handed) = (0, 0);
        let rest = render_in_pieces(
            src,
            width,
            &Theme::default(),
            opts,
            piece_bytes,
            Some(&mut |l: &Lines, h: &[Heading]| {
                handed += 1;
                headings += h.len();
                lines.extend(l);
                true
            }),
        );
        lines.extend(&rest.lines);
        (lines, headings + rest.headings.len(), handed)
    }

    #[test]
    fn two_threads_lay_out_as_one() {
        use std::fmt::Write as _;
        // No footnotes, no link definitions: a streamed render of several
        // pieces takes the pipelined path.
        let mut src = String::new();
        for s in 0..40 {
            let _ = write!(
                src,
                "# Section {s}\n\nSome *text* with `code`, **bold** and a [link](https://e.com/{s}).\n\n"
            );
            for i in 1..=(s % 12 + 1) {
                let _ = writeln!(
                    src,
                    "{i}. item {i} of a list that wraps past the width once"
                );
            }
            let lang = ["rust", "python", "sh", "toml", ""][s % 5];
            let _ = write!(
                src,
                "\n```{lang}\nfn main() {{ let x = {s}; }}\n# not a heading\nx = [1, 2]\n```\n\n\
                 | a | b |\n|---|--:|\n| {s} | 2 |\n\n> - quoted {s}\n\n<details><summary>more</summary>\n\nhidden {s}\n\n</details>\n\n"
            );
        }
        let theme = Theme::default();
        for opts in [
            RenderOptions::default(),
            RenderOptions {
                wrap_code: false,
                highlight: false,
                details_open: true,
            },
        ] {
            let whole = render_in_pieces(&src, 60, &theme, opts, usize::MAX, None);
            for piece_bytes in [1, 700, 5000] {
                let pieces = pieces::pieces(&src, piece_bytes);
                assert!(pieces.len() > 3, "{} pieces", pieces.len());
                let (streamed, headings, _) = streamed(&src, 60, opts, piece_bytes);
                assert!(streamed.iter().eq(whole.lines.iter()), "{piece_bytes}");
                assert_eq!(headings, whole.headings.len());
            }
            // A reader that goes away stops both threads.
            let mut calls = 0;
            render_in_pieces(
                &src,
                60,
                &theme,
                opts,
                1,
                Some(&mut |_: &Lines, _: &[Heading]| {
                    calls += 1;
                    false
                }),
            );
            assert_eq!(calls, 1);
        }
    }

    #[test]
    fn one_parse_lays_out_as_two() {
        use std::fmt::Write as _;
        let mut src = String::new();
        for s in 0..6 {
            let _ = write!(
                src,
                "# Section {s}\n\nText[^s{s}] and a note from before[^early].\n\n\
                 [^s{s}]: Defined right after, with `code`.\n\n"
            );
            for i in 1..=11 {
                let _ = writeln!(src, "{i}. item {i}");
            }
            src.push_str("\n```rust\nfn main() { let x = 1; }\n```\n\n| a | b |\n|---|--:|\n| 1 | 2 |\n\n> - quoted\n\n");
        }
        src.push_str("# End\n\n[^early]: Defined last, referred to first.\n");
        let theme = Theme::default();
        for opts in [
            RenderOptions::default(),
            RenderOptions {
                wrap_code: false,
                highlight: false,
                details_open: true,
            },
        ] {
            for piece_bytes in [1, 200, usize::MAX] {
                let pieces = pieces::pieces(&src, piece_bytes);
                let once =
                    render_once(src.len(), &pieces, 50, &theme, opts, None).expect("one parse");
                let twice = render_twice(src.len(), &pieces, 50, &theme, opts, None);
                assert_eq!(texts(&once), texts(&twice));
                assert_eq!(once, twice);
            }
        }
        // Facts across pieces take the two-parse way.
        let early_def = "# A\n\n[^n]: defined first\n\n# B\n\nused later[^n]\n";
        let links = "# A\n\n[x] here\n\n# B\n\n[x]: /defined-later\n";
        for src in [early_def, links] {
            let pieces = pieces::pieces(src, 1);
            assert!(pieces.len() > 1);
            assert!(
                render_once(
                    src.len(),
                    &pieces,
                    50,
                    &theme,
                    RenderOptions::default(),
                    None
                )
                .is_none()
            );
            // In one piece, one parse does.
            let whole = pieces::pieces(src, usize::MAX);
            assert!(
                render_once(
                    src.len(),
                    &whole,
                    50,
                    &theme,
                    RenderOptions::default(),
                    None
                )
                .is_some()
            );
        }
    }

    pub(super) fn doc(src: &str, width: u16) -> Document {
        render(src, width, &Theme::default())
    }

    fn text(line: &Line<'_>) -> String {
        line.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    pub(super) fn texts(d: &Document) -> Vec<String> {
        d.lines.iter().map(|l| text(&l)).collect()
    }

    pub(super) fn check_invariants(d: &Document, width: u16) {
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

    /// The text each area of each link covers, as (line, text).
    pub(super) fn link_areas(d: &Document) -> Vec<Vec<(usize, String)>> {
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
                "x y",
                "",
                "Term",
                "    Def"
            ]
        );
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
}
