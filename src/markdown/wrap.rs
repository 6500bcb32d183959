//! Greedy word wrapping of a block's inline content into styled lines, and
//! where its links land on them.

use std::ops::Range;

use ratatui::style::Style;
use unicode_segmentation::UnicodeSegmentation;

use super::inline::{Frag, Inline, Kind};
use crate::document::Join;
use crate::sanitize::{display_width, grapheme_width};

/// Where an inline's links landed, relative to its wrapped lines: the start
/// of each link as (link, line, column), and the columns of the text of each
/// outermost link as (link, line, start, end). A link nested in another
/// (an image inside a link) is covered by the outer one's areas.
#[derive(Debug, Default)]
pub(super) struct Placed {
    pub(super) starts: Vec<(usize, usize, usize)>,
    pub(super) areas: Vec<(usize, usize, usize, usize)>,
}

/// Styled text of many lines in two buffers, so that laying out a block
/// allocates per block, not per span (an owned string per span, copied
/// into [`Lines`](crate::document::Lines) and freed, was a fifth of the
/// layout's time).
#[derive(Debug, Default)]
pub(super) struct Runs {
    text: String,
    /// Where each run ends in `text`, and its style.
    pub(super) runs: Vec<(usize, Style)>,
}

impl Runs {
    /// Appends `s` to the line whose runs begin at index `line`, joined to
    /// that line's last run when the style is the same.
    pub(super) fn push_styled(&mut self, line: usize, s: &str, style: Style) {
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
    pub(super) fn push(&mut self, s: &str, style: Style) {
        self.text.push_str(s);
        self.runs.push((self.text.len(), style));
    }

    /// The (text, style) of runs `range`.
    pub(super) fn parts(
        &self,
        range: Range<usize>,
    ) -> impl Iterator<Item = (&str, Style)> + Clone + '_ {
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
    pub(super) fn width(&self, range: Range<usize>) -> usize {
        self.parts(range).map(|(s, _)| display_width(s)).sum()
    }

    pub(super) fn clear(&mut self) {
        self.text.clear();
        self.runs.clear();
    }
}

/// A block's lines as the wrapper made them, in shared buffers.
#[derive(Debug, Default)]
pub(super) struct Wrapped {
    pub(super) runs: Runs,
    pub(super) lines: Vec<WrappedLine>,
}

#[derive(Debug, Clone)]
pub(super) struct WrappedLine {
    /// Indices into [`Wrapped::runs`].
    pub(super) runs: Range<usize>,
    pub(super) offset: usize,
    /// How it continues the line above (search joins them again).
    pub(super) join: Join,
}

/// Greedy word wrapping of an [`Inline`] to `avail` columns.
pub(super) struct Wrapper<'a> {
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
pub(super) fn fit(s: &str, max: usize) -> (usize, usize) {
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
    pub(super) fn wrap(
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

#[cfg(test)]
mod tests {
    use crate::markdown::tests::{doc, texts};

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
    fn link_line_follows_wrapping() {
        let d = doc("aaaa bbbb cccc [link text](u)", 10);
        assert_eq!(texts(&d), ["aaaa bbbb", "cccc link", "text"]);
        assert_eq!(d.links[0].line, 1);
        let d = doc("aaaa bbbb cccc [linktext](u)", 10);
        assert_eq!(d.links[0].line, 2);
    }
}
