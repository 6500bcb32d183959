//! Where lines go: the document, or a footnote body rendered for the end,
//! each with its stack of indentation; and how the renderer writes into the
//! current one.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::Renderer;
use super::inline::Inline;
use super::wrap::{Placed, Wrapper};
use crate::document::{CodeBlock, Heading, Join, LineFlow, Lines, Link, LinkArea, StyleIds};
use crate::sanitize::display_width;

/// Below this many columns of text, indentation is dropped rather than
/// squeezing the text into a sliver.
const MIN_TEXT_COLUMNS: usize = 8;

/// One level of indentation: what it shows on a container's first line and
/// on the lines after it.
pub(super) struct Seg {
    pub(super) first: Span<'static>,
    rest: Span<'static>,
    pub(super) width: usize,
    pub(super) used: bool,
}

/// A part borrowed for less long, so it can join others.
fn shorten<'a, 'b: 'a>(part: (&'b str, Style)) -> (&'a str, Style) {
    part
}

/// Where lines go: the document, or a footnote body rendered for the end.
#[derive(Default)]
pub(super) struct Sink {
    pub(super) lines: Lines,
    ids: StyleIds,
    pub(super) offsets: Vec<usize>,
    pub(super) flow: Vec<LineFlow>,
    pub(super) headings: Vec<Heading>,
    pub(super) links: Vec<Link>,
    pub(super) code_blocks: Vec<CodeBlock>,
    /// Visible indentation only: containers nested past the cap push nothing,
    /// so building a prefix costs at most `width / 2` segments, not the depth.
    pub(super) segs: Vec<Seg>,
    pub(super) prefix_w: usize,
    pub(super) pending_blank: bool,
}

impl Sink {
    /// The main sink of a body of `bytes` bytes, with room for what such a
    /// body usually lays out into (measured on the benchmark corpus: about
    /// 1.5 bytes of text, one span per 12 bytes and one line per 50 bytes of
    /// source), reserved generously since unwritten room costs no memory.
    pub(super) fn for_source(bytes: usize) -> Sink {
        Sink {
            lines: Lines::with_capacity(bytes * 2, bytes / 8, bytes / 32),
            offsets: Vec::with_capacity(bytes / 32),
            flow: Vec::with_capacity(bytes / 32),
            ..Sink::default()
        }
    }

    pub(super) fn push_line(&mut self, line: &Line<'_>, offset: usize) {
        self.push_flow(line, offset, LineFlow::default());
    }

    pub(super) fn push_flow(&mut self, line: &Line<'_>, offset: usize, flow: LineFlow) {
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

    pub(super) fn pop_seg(&mut self) {
        if let Some(seg) = self.segs.pop() {
            self.prefix_w -= seg.width;
        }
    }
}

/// Moves where an inline's links landed into the sink's links: its lines
/// start at sink line `base`, and line `i` of it is shown `shift(i)` columns
/// from the left edge (indentation, a table cell's position).
pub(super) fn place_links(
    sink: &mut Sink,
    base: usize,
    placed: &Placed,
    shift: impl Fn(usize) -> usize,
) {
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

impl Renderer<'_> {
    pub(super) fn sink(&mut self) -> &mut Sink {
        self.sinks
            .last_mut()
            .expect("the document sink is never popped")
    }

    /// Pushes an indentation segment unless the indentation is already at
    /// its cap; returns whether it was pushed.
    pub(super) fn push_seg(
        &mut self,
        first: Span<'static>,
        rest: Span<'static>,
        force: bool,
    ) -> bool {
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
    pub(super) fn layout(&self) -> (bool, usize) {
        let prefix_w = self.sinks.last().map_or(0, |s| s.prefix_w);
        let w = self.width;
        if prefix_w > 0 && w >= prefix_w + w.min(MIN_TEXT_COLUMNS) {
            (true, w - prefix_w)
        } else {
            (false, w)
        }
    }

    /// Emits a line of `parts` below the indentation.
    pub(super) fn emit<'s>(
        &mut self,
        parts: impl Iterator<Item = (&'s str, Style)>,
        offset: usize,
    ) {
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
    pub(super) fn emit_one(&mut self, text: &str, style: Style, offset: usize) {
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
    pub(super) fn start_block(&mut self) {
        let sink = self.sink();
        if sink.pending_blank && !sink.lines.is_empty() {
            self.emit_blank();
        }
        self.sink().pending_blank = false;
    }

    pub(super) fn end_block(&mut self) {
        self.sink().pending_blank = true;
    }

    pub(super) fn emit_inline(&mut self, inl: &Inline) {
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

    pub(super) fn flush_inline(&mut self) {
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

    pub(super) fn rule(&mut self, ch: &str, style: Style, offset: usize) {
        let (_, avail) = self.layout();
        self.emit_one(&ch.repeat(avail), style, offset);
    }
}
