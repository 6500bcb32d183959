//! Tables: cells buffered row by row, column widths shared out within the
//! width, and the grid drawn (or, when too narrow, one cell per paragraph).

use pulldown_cmark::Alignment;

use super::inline::Inline;
use super::sink::{Sink, place_links};
use super::wrap::{Placed, Runs, Wrapped, Wrapper};
use super::{Renderer, spaces};
use crate::sanitize::display_width;

pub(super) struct TableState {
    aligns: Vec<Alignment>,
    rows: Vec<(Vec<Inline>, usize)>,
    head_rows: usize,
    offset: usize,
}

/// A table row laid out: per column its lines and where its links landed,
/// the link marks, the offset.
type WrappedRow = (Vec<(Wrapped, Placed)>, Vec<(usize, usize)>, usize);

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

impl Renderer<'_> {
    pub(super) fn start_table(&mut self, aligns: Vec<Alignment>) {
        self.flush_inline();
        self.tables.push(TableState {
            aligns,
            rows: Vec::new(),
            head_rows: 0,
            offset: self.offset,
        });
    }

    pub(super) fn start_row(&mut self) {
        let offset = self.offset;
        if let Some(t) = self.tables.last_mut() {
            t.rows.push((Vec::new(), offset));
        }
    }

    /// The rows so far are the table's head.
    pub(super) fn end_head(&mut self) {
        if let Some(t) = self.tables.last_mut() {
            t.head_rows = t.rows.len();
        }
    }

    pub(super) fn end_cell(&mut self) {
        let cell = std::mem::take(&mut self.inline);
        if let Some((row, _)) = self.tables.last_mut().and_then(|t| t.rows.last_mut()) {
            row.push(cell);
        }
    }

    pub(super) fn end_table(&mut self) {
        self.inline = Inline::default();
        if let Some(t) = self.tables.pop() {
            self.render_table(t);
        }
        self.end_block();
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
    use crate::markdown::tests::{check_invariants, doc, link_areas, texts};

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
    fn footnote_reference_in_a_table_cell() {
        let d = doc("| a |\n|---|\n| b[^n] |\n\n[^n]: note\n", 20);
        check_invariants(&d, 20);
        assert!(texts(&d).iter().any(|l| l.contains("b[1]")));
    }

    #[test]
    fn link_areas_in_table_cells() {
        let d = doc("| a | b |\n|---|--:|\n| x | [yy](u) |\n", 40);
        let areas = link_areas(&d);
        assert_eq!(areas[0].len(), 1, "{:?}", texts(&d));
        assert_eq!(areas[0][0].1, "yy", "{:?}", texts(&d));
        assert_eq!(d.links[0].column, d.links[0].areas[0].start);
    }
}
