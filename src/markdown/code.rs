//! Code blocks: the text as displayed, highlighting (on all cores when a
//! post has enough code), and the block's rows.

use std::ops::Range;

use pulldown_cmark::CodeBlockKind;
use ratatui::style::{Modifier, Style};
use unicode_segmentation::UnicodeSegmentation;

use super::diagram;
use super::wrap::fit;
use super::{Renderer, spaces};
use crate::document::{CodeBlock, MAX_CODE_TEXT};
use crate::highlight;
use crate::sanitize::{display_width, expand_tabs, sanitize};

pub(super) struct CodeState {
    lang: String,
    pub(super) text: String,
    offset: usize,
}

pub(super) type Highlighted = Option<Vec<Vec<(Style, String)>>>;

/// Code blocks highlighted ahead of their layout, a piece at a time.
pub(super) struct Highlights {
    /// The code blocks of each piece not yet begun (see
    /// [`PrePass`](super::PrePass)).
    blocks: Vec<Vec<(String, String)>>,
    /// Bytes of code in the whole post.
    bytes: usize,
    /// The current piece's code blocks highlighted up front, in order; empty
    /// when they are highlighted as they come.
    done: Vec<Highlighted>,
    /// The next of them.
    next: usize,
}

impl Highlights {
    /// From the `(language, raw text)` of every code block, per piece.
    pub(super) fn new(blocks: Vec<Vec<(String, String)>>) -> Self {
        Highlights {
            bytes: blocks.iter().flatten().map(|(_, t)| t.len()).sum(),
            blocks,
            done: Vec::new(),
            next: 0,
        }
    }

    /// The code blocks of the next piece, when pieces are looked at one at
    /// a time (see [`super::render_once`]).
    pub(super) fn add_piece(&mut self, blocks: Vec<(String, String)>) {
        self.bytes += blocks.iter().map(|(_, t)| t.len()).sum::<usize>();
        self.blocks.push(blocks);
    }
}

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

/// What copying a code block takes: its text as written, sanitized line by
/// line (a pasted escape sequence could do harm in the reader's shell) with
/// tabs kept, CRs and the final newline dropped.
fn copy_text(raw: &str, lines: Range<usize>, column: usize) -> CodeBlock {
    let raw = raw.strip_suffix('\n').unwrap_or(raw);
    let text_lines = raw.split('\n').count();
    let text = (raw.len() <= MAX_CODE_TEXT).then(|| {
        let mut text = String::with_capacity(raw.len());
        for (i, line) in raw.split('\n').enumerate() {
            if i > 0 {
                text.push('\n');
            }
            let line = line.strip_suffix('\r').unwrap_or(line);
            for (j, part) in line.split('\t').enumerate() {
                if j > 0 {
                    text.push('\t');
                }
                text.push_str(&sanitize(part));
            }
        }
        text
    });
    CodeBlock {
        lines,
        column,
        bytes: text.as_ref().map_or(raw.len(), String::len),
        text,
        text_lines,
    }
}

/// Highlights `(lang, raw text)` blocks one after another on this thread
/// (see [`super::render_pipelined`], where the layout has the other core).
pub(super) fn highlight_each(
    blocks: &[(String, String)],
    syntax: &highlight::SyntaxTheme,
    cancel: Option<&std::sync::atomic::AtomicBool>,
) -> Vec<Highlighted> {
    blocks
        .iter()
        .map(|(lang, text)| {
            if super::stopped(cancel) {
                return None;
            }
            highlight::highlight_block(&clean_code(text).0, lang, syntax)
        })
        .collect()
}

/// Highlights `(lang, raw text)` blocks on all cores. syntect is the
/// dominant cost of rendering a code-heavy post and blocks are independent.
pub(super) fn highlight_all(
    blocks: &[(String, String)],
    syntax: &highlight::SyntaxTheme,
    cancel: Option<&std::sync::atomic::AtomicBool>,
) -> Vec<Highlighted> {
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
                        if super::stopped(cancel) {
                            break;
                        }
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

/// The language a code block names, as shown on its label.
pub(super) fn language(kind: CodeBlockKind<'_>) -> String {
    match kind {
        CodeBlockKind::Fenced(info) => sanitize(highlight::language_of(&info)).into_owned(),
        CodeBlockKind::Indented => String::new(),
    }
}

impl Renderer<'_> {
    /// Piece `i` is next: highlight its code up front when the post has
    /// enough code to be worth the threads.
    pub(super) fn begin_piece(&mut self, i: usize) {
        let ahead = &mut self.highlights;
        let blocks = ahead
            .blocks
            .get_mut(i)
            .map(std::mem::take)
            .unwrap_or_default();
        ahead.done = if blocks.len() > 1 && ahead.bytes >= PARALLEL_CODE_BYTES {
            highlight_all(&blocks, &self.theme.syntax, self.cancel.as_deref())
        } else {
            Vec::new()
        };
        ahead.next = 0;
    }

    /// Piece `i` is next, its code highlighted already (see
    /// [`super::render_pipelined`]).
    pub(super) fn begin_piece_highlighted(&mut self, done: Vec<Highlighted>) {
        self.highlights.done = done;
        self.highlights.next = 0;
    }

    pub(super) fn start_code(&mut self, kind: CodeBlockKind<'_>) {
        self.flush_inline();
        self.code = Some(CodeState {
            lang: language(kind),
            text: String::new(),
            offset: self.offset,
        });
    }

    pub(super) fn end_code(&mut self) {
        if let Some(code) = self.code.take() {
            self.render_code(&code);
        }
        self.end_block();
    }

    fn render_code(&mut self, code: &CodeState) {
        self.start_block();
        let (_, avail) = self.layout();
        let md = &self.theme.md;
        let base = md.text.patch(md.code_block);
        let cont_style = base.patch(md.code_continuation);
        let (clean, starts) = clean_code(&code.text);
        let ahead = &mut self.highlights;
        let highlighted = if ahead.done.is_empty() {
            if !self.highlight || self.theme.syntax.is_off() {
                None
            } else {
                highlight::highlight_block(&clean, &code.lang, &self.theme.syntax)
            }
        } else {
            ahead.done.get_mut(ahead.next).and_then(Option::take)
        };
        ahead.next += 1;
        let diagram = self.diagram(code, avail);
        if diagram == Ok(true) {
            return;
        }
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
        let first = self.sink().lines.len();
        for (range, offset) in rows {
            self.emit(out.runs.parts(range), offset);
        }
        self.wrapped = out;
        self.finish_code(code, first, diagram.err().as_deref(), avail);
    }

    /// After a block's rows: the line saying why a diagram was not drawn,
    /// and the block kept for copying.
    fn finish_code(&mut self, code: &CodeState, first: usize, why: Option<&str>, avail: usize) {
        if let Some(why) = why {
            let style = self.theme.md.text.add_modifier(Modifier::DIM);
            let (n, _) = fit(why, avail);
            self.emit_one(&why[..n], style, code.offset);
        }
        let column = self.code_column();
        let end = self.sink().lines.len();
        let block = copy_text(&code.text, first..end, column);
        self.sink().code_blocks.push(block);
    }

    /// A diagram block in the final layout (like highlighting, its cost
    /// stays off the key path; the quick layout shows its source): drawn
    /// (true), not a diagram here (false), or why it was not drawn.
    fn diagram(&mut self, code: &CodeState, avail: usize) -> Result<bool, String> {
        if !self.highlight || !diagram::is_diagram(&code.lang) {
            return Ok(false);
        }
        self.diagrams += 1;
        if self.diagrams > diagram::MAX_PER_POST {
            return Err(format!(
                "Diagram shown as source: folio draws at most {} diagrams in a post",
                diagram::MAX_PER_POST
            ));
        }
        let rows = diagram::draw(&code.text, avail)?;
        self.render_diagram(code, &rows);
        Ok(true)
    }

    /// A diagram's rows, drawn in the text style; a hint copies its source.
    fn render_diagram(&mut self, code: &CodeState, rows: &[String]) {
        let style = self.theme.md.text;
        let column = self.code_column();
        let first = self.sink().lines.len();
        for row in rows {
            self.emit_one(row, style, code.offset);
        }
        let end = self.sink().lines.len();
        let block = copy_text(&code.text, first..end, column);
        self.sink().code_blocks.push(block);
    }

    /// The display column where a block starts: past the indentation.
    fn code_column(&self) -> usize {
        let (use_prefix, _) = self.layout();
        if use_prefix {
            self.sinks.last().map_or(0, |s| s.prefix_w)
        } else {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use ratatui::text::Line;

    use super::*;
    use crate::document::Lines;
    use crate::markdown::tests::{check_invariants, doc, texts};
    use crate::markdown::{RenderOptions, render, render_with};
    use crate::theme::Theme;

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
