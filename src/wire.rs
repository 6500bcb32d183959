//! A ratatui backend that sends a terminal as few bytes as it can.
//!
//! ratatui diffs frames cell by cell, so scrolling a pane by one line
//! rewrites every visible line of it: 3–5 KB a step at 100×30, which is what
//! other readers send and what a slow SSH link feels. This backend keeps a
//! shadow of what the terminal shows and, when the new frame is the old one
//! shifted vertically, scrolls the terminal itself (a DECSTBM scroll region
//! and SU/SD, as curses does) and sends only the cells that still differ.
//! Each frame is wrapped in synchronized-output mode (2026) so none tears;
//! terminals that don't know the mode ignore it.
//!
//! It writes only cursor moves, SGR, scroll regions and the (already
//! sanitized) cell text, and it never asks the terminal anything, so it works
//! the same over a channel that is not a local tty.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{self, Write};

use ratatui::backend::{Backend, ClearType, WindowSize};
use ratatui::buffer::{Buffer, Cell};
use ratatui::layout::{Position, Rect, Size};
use ratatui::style::Style;

use crate::sanitize::display_width;

/// Unchanged cells shorter than this between two changed runs are rewritten
/// rather than skipped with a cursor move, which costs about as much.
const JOIN_GAP: usize = 6;

/// Asks a terminal for its size in (columns, rows).
pub type SizeQuery = fn() -> io::Result<(u16, u16)>;

pub struct WireBackend<W: Write> {
    out: W,
    /// The size last reported to ratatui: the geometry of its next frame.
    size: std::cell::Cell<Size>,
    /// Asks the real terminal for its size; `None` when the size is set from
    /// outside (tests, a remote session).
    query_size: Option<SizeQuery>,
    /// What the terminal shows.
    shadow: Buffer,
    /// `shadow` plus the cells drawn since the last flush.
    next: Buffer,
    /// The shadow cannot be trusted (e.g. after a partial clear): repaint all.
    stale: bool,
    cursor: Position,
    cursor_visible: bool,
    written: u64,
    frame: String,
}

impl<W: Write> WireBackend<W> {
    /// A backend for a terminal of a size that the owner keeps up to date
    /// with [`WireBackend::set_size`].
    pub fn new(out: W, width: u16, height: u16) -> Self {
        let area = Rect::new(0, 0, width, height);
        WireBackend {
            out,
            size: std::cell::Cell::new(Size::new(width, height)),
            query_size: None,
            shadow: Buffer::empty(area),
            next: Buffer::empty(area),
            stale: false,
            cursor: Position::ORIGIN,
            cursor_visible: true,
            written: 0,
            frame: String::new(),
        }
    }

    /// A backend that asks `query` for the terminal's size, as a local tty
    /// can be asked at any time.
    pub fn with_size_query(out: W, query: SizeQuery) -> io::Result<Self> {
        let (w, h) = query()?;
        let mut backend = WireBackend::new(out, w, h);
        backend.query_size = Some(query);
        Ok(backend)
    }

    /// Sets the size `size()` reports; ratatui resizes (and repaints) on the
    /// next draw.
    pub fn set_size(&mut self, width: u16, height: u16) {
        self.size.set(Size::new(width, height));
    }

    /// Bytes written so far.
    pub fn bytes_written(&self) -> u64 {
        self.written
    }

    pub fn writer(&self) -> &W {
        &self.out
    }

    pub fn writer_mut(&mut self) -> &mut W {
        &mut self.out
    }

    fn reset_shadow(&mut self) {
        let size = self.size.get();
        let area = Rect::new(0, 0, size.width, size.height);
        self.shadow = Buffer::empty(area);
        self.next = Buffer::empty(area);
    }

    fn emit(&mut self, s: &str) -> io::Result<()> {
        self.out.write_all(s.as_bytes())?;
        self.written += s.len() as u64;
        Ok(())
    }

    /// Encodes the change from `shadow` to `next` into `self.frame`.
    fn encode(&mut self) {
        let mut frame = std::mem::take(&mut self.frame);
        frame.clear();
        let width = usize::from(self.next.area.width);
        let height = usize::from(self.next.area.height);
        if self.shadow.area != self.next.area || self.stale {
            self.shadow = Buffer::empty(self.next.area);
            frame.push_str("\x1b[0m\x1b[2J");
            self.stale = false;
        }
        if let Some((top, bottom, shift)) = best_scroll(&self.shadow, &self.next) {
            let _ = write!(frame, "\x1b[0m\x1b[{};{}r", top + 1, bottom);
            if shift > 0 {
                let _ = write!(frame, "\x1b[{shift}S");
            } else {
                let _ = write!(frame, "\x1b[{}T", -shift);
            }
            frame.push_str("\x1b[r");
            scroll_buffer(&mut self.shadow, top, bottom, shift);
        }
        let mut style: Option<Style> = None;
        let mut at: Option<(usize, usize)> = None;
        for y in 0..height {
            let row = y * width;
            let old = &self.shadow.content[row..row + width];
            let new = &self.next.content[row..row + width];
            let mut x = 0;
            while x < width {
                if same(&old[x], &new[x]) {
                    x += 1;
                    continue;
                }
                // A run of changes, joined across short unchanged gaps. A
                // run never starts inside a wide character.
                let start = if x > 0 && display_width(new[x - 1].symbol()) > 1 {
                    x - 1
                } else {
                    x
                };
                let mut end = x + 1;
                let mut gap = 0;
                let mut i = end;
                while i < width && gap < JOIN_GAP {
                    if same(&old[i], &new[i]) {
                        gap += 1;
                    } else {
                        gap = 0;
                        end = i + 1;
                    }
                    i += 1;
                }
                if at != Some((start, y)) {
                    let _ = write!(frame, "\x1b[{};{}H", y + 1, start + 1);
                }
                let mut cx = start;
                while cx < end {
                    let cell = &new[cx];
                    let cell_style = cell_style(cell);
                    if style != Some(cell_style) {
                        frame.push_str("\x1b[0");
                        crate::ansi::push_sgr(&mut frame, cell_style);
                        frame.push('m');
                        style = Some(cell_style);
                    }
                    let symbol = cell.symbol();
                    let w = display_width(symbol);
                    if w == 0 {
                        frame.push(' ');
                        cx += 1;
                    } else {
                        frame.push_str(symbol);
                        cx += w;
                    }
                }
                at = Some((cx, y));
                x = cx;
            }
        }
        if style.is_some() {
            frame.push_str("\x1b[0m");
        }
        self.shadow.clone_from(&self.next);
        if !frame.is_empty() {
            let mut wrapped = String::with_capacity(frame.len() + 20);
            wrapped.push_str("\x1b[?2026h");
            wrapped.push_str(&frame);
            if self.cursor_visible {
                let _ = write!(wrapped, "\x1b[{};{}H", self.cursor.y + 1, self.cursor.x + 1);
            }
            wrapped.push_str("\x1b[?2026l");
            frame = wrapped;
        }
        self.frame = frame;
    }
}

fn cell_style(cell: &Cell) -> Style {
    Style::new()
        .fg(cell.fg)
        .bg(cell.bg)
        .add_modifier(cell.modifier)
}

/// Whether the terminal would show the two cells the same way.
fn same(a: &Cell, b: &Cell) -> bool {
    a.symbol() == b.symbol() && a.fg == b.fg && a.bg == b.bg && a.modifier == b.modifier
}

fn row_hash(buf: &Buffer, y: usize, from: usize) -> u64 {
    let width = usize::from(buf.area.width);
    let mut h = DefaultHasher::new();
    for cell in &buf.content[y * width + from..(y + 1) * width] {
        cell.symbol().hash(&mut h);
        cell.fg.hash(&mut h);
        cell.bg.hash(&mut h);
        cell.modifier.bits().hash(&mut h);
    }
    h.finish()
}

/// Cells that differ between `new` row `y` and `old` row `src` (or blank).
fn row_cost(old: &Buffer, src: Option<usize>, new: &Buffer, y: usize) -> usize {
    let width = usize::from(new.area.width);
    let n = &new.content[y * width..(y + 1) * width];
    match src {
        Some(s) => {
            let o = &old.content[s * width..(s + 1) * width];
            o.iter().zip(n).filter(|(a, b)| !same(a, b)).count()
        }
        None => n.iter().filter(|c| !same(c, &Cell::EMPTY)).count(),
    }
}

/// Finds a scroll of rows `top..bottom` by `shift` lines (positive: content
/// moves up) after which fewer cells differ than without it. Candidates come
/// from rows whose right-hand part (where a reader pane is) reappears shifted,
/// so a two-pane layout scrolls too; the list's cells are then repainted.
fn best_scroll(old: &Buffer, new: &Buffer) -> Option<(usize, usize, i32)> {
    let width = usize::from(new.area.width);
    let height = usize::from(new.area.height);
    if height < 4 || width == 0 {
        return None;
    }
    let from = width / 2;
    let mut old_rows: HashMap<u64, Vec<usize>> = HashMap::new();
    for y in 0..height {
        old_rows.entry(row_hash(old, y, from)).or_default().push(y);
    }
    let blank = row_hash(&Buffer::empty(Rect::new(0, 0, new.area.width, 1)), 0, from);
    let mut votes: HashMap<i32, usize> = HashMap::new();
    for y in 0..height {
        let h = row_hash(new, y, from);
        if h == blank {
            continue;
        }
        if let Some(rows) = old_rows.get(&h) {
            for &s in rows.iter().take(4) {
                // Rows are a u16 count, so both fit an i32.
                let shift = i32::from(s as u16) - i32::from(y as u16);
                if shift != 0 {
                    *votes.entry(shift).or_default() += 1;
                }
            }
        }
    }
    let mut candidates: Vec<(i32, usize)> = votes.into_iter().filter(|&(_, v)| v >= 2).collect();
    candidates.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.abs().cmp(&b.0.abs())));
    candidates.truncate(3);
    if candidates.is_empty() {
        return None;
    }
    let baseline: usize = (0..height).map(|y| row_cost(old, Some(y), new, y)).sum();
    let mut best: Option<(usize, usize, i32)> = None;
    // Scrolling costs about 20 bytes of sequences; it must save more.
    let mut best_cost = baseline.saturating_sub(20);
    for (shift, _) in candidates {
        // The region: the whole screen, or all but a bottom status line.
        for bottom in [height, height - 1] {
            let k = shift.unsigned_abs() as usize;
            if k >= bottom {
                continue;
            }
            let mut cost = 0;
            for y in 0..height {
                let src = if y >= bottom {
                    Some(y)
                } else if shift > 0 {
                    (y + k < bottom).then_some(y + k)
                } else {
                    y.checked_sub(k)
                };
                cost += row_cost(old, src, new, y);
                if cost >= best_cost {
                    break;
                }
            }
            if cost < best_cost {
                best_cost = cost;
                best = Some((0, bottom, shift));
            }
        }
    }
    best
}

/// Applies to `buf` what SU/SD does to the terminal: rows `top..bottom`
/// move by `shift`, the rows scrolled in are blank.
fn scroll_buffer(buf: &mut Buffer, top: usize, bottom: usize, shift: i32) {
    let width = usize::from(buf.area.width);
    let region = &mut buf.content[top * width..bottom * width];
    let k = (shift.unsigned_abs() as usize).min(bottom - top) * width;
    if shift > 0 {
        region.rotate_left(k);
        let len = region.len();
        region[len - k..].fill(Cell::EMPTY);
    } else {
        region.rotate_right(k);
        region[..k].fill(Cell::EMPTY);
    }
}

impl<W: Write> Backend for WireBackend<W> {
    type Error = io::Error;

    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        for (x, y, cell) in content {
            if let Some(c) = self.next.cell_mut((x, y)) {
                *c = cell.clone();
            }
        }
        Ok(())
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        if !self.cursor_visible {
            return Ok(());
        }
        self.cursor_visible = false;
        self.emit("\x1b[?25l")
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        if self.cursor_visible {
            return Ok(());
        }
        self.cursor_visible = true;
        self.emit("\x1b[?25h")
    }

    fn get_cursor_position(&mut self) -> io::Result<Position> {
        // Never ask the terminal: its reply would arrive as input.
        Ok(self.cursor)
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        self.cursor = position.into();
        let s = format!("\x1b[{};{}H", self.cursor.y + 1, self.cursor.x + 1);
        self.emit(&s)
    }

    fn clear(&mut self) -> io::Result<()> {
        self.clear_region(ClearType::All)
    }

    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        // Partial clears come from ratatui clearing a fixed viewport (as a
        // remote session's is), after which it resends only the cells that
        // are not blank: rather than track the region, start the next frame
        // from a blank screen and repaint everything on the next flush.
        if clear_type == ClearType::All {
            self.reset_shadow();
            self.emit("\x1b[0m\x1b[2J")
        } else {
            self.next = Buffer::empty(self.next.area);
            self.stale = true;
            Ok(())
        }
    }

    fn size(&self) -> io::Result<Size> {
        // ratatui asks for the size before a frame and, when it changed,
        // clears; remembering the answer keeps our buffers in its geometry
        // even if the terminal is resized again in between.
        if let Some(query) = self.query_size {
            let (w, h) = query()?;
            self.size.set(Size::new(w, h));
        }
        Ok(self.size.get())
    }

    fn window_size(&mut self) -> io::Result<WindowSize> {
        Ok(WindowSize {
            columns_rows: self.size()?,
            pixels: Size::new(0, 0),
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        self.encode();
        if !self.frame.is_empty() {
            let frame = std::mem::take(&mut self.frame);
            self.emit(&frame)?;
            self.frame = frame;
        }
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::Terminal;
    use ratatui::text::Line;

    fn draw_lines(terminal: &mut Terminal<WireBackend<Vec<u8>>>, lines: &[String]) -> Vec<u8> {
        terminal
            .draw(|f| {
                for (i, l) in lines.iter().enumerate() {
                    f.render_widget(Line::raw(l.as_str()), Rect::new(0, i as u16, 40, 1));
                }
            })
            .unwrap();
        std::mem::take(terminal.backend_mut().writer_mut())
    }

    #[test]
    fn a_shifted_frame_is_sent_as_a_scroll() {
        let mut terminal = Terminal::new(WireBackend::new(Vec::new(), 40, 10)).unwrap();
        let words = [
            "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf",
        ];
        let text: Vec<String> = (0..40)
            .map(|i| {
                let w = |k: usize| words[(i * 3 + k) % words.len()];
                format!("{i:02} {} {} {} {} {}", w(1), w(2), w(3), w(4), w(5))
            })
            .collect();
        let first = draw_lines(&mut terminal, &text[0..10]);
        assert!(first.len() > 200);
        let step = draw_lines(&mut terminal, &text[1..11]);
        let s = String::from_utf8(step).unwrap();
        assert!(s.contains("\x1b[1S"), "{s:?}");
        assert!(s.contains(&text[10]), "the new bottom line is sent: {s:?}");
        assert!(
            !s.contains(&text[5]),
            "lines on screen are not resent: {s:?}"
        );
        assert!(s.len() < 120, "{} bytes: {s:?}", s.len());
        let back = String::from_utf8(draw_lines(&mut terminal, &text[0..10])).unwrap();
        assert!(back.contains("\x1b[1T"), "{back:?}");
    }

    static WIDTH: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(40);

    #[allow(clippy::unnecessary_wraps)] // the signature of a size query
    fn fake_tty_size() -> io::Result<(u16, u16)> {
        Ok((WIDTH.load(std::sync::atomic::Ordering::SeqCst), 10))
    }

    #[test]
    fn a_queried_resize_repaints_in_the_new_geometry() {
        let backend = WireBackend::with_size_query(Vec::new(), fake_tty_size).unwrap();
        let mut terminal = Terminal::new(backend).unwrap();
        let text: Vec<String> = (0..10).map(|i| format!("row {i}")).collect();
        draw_lines(&mut terminal, &text);
        WIDTH.store(41, std::sync::atomic::Ordering::SeqCst);
        let out = draw_lines(&mut terminal, &text);
        let mut vt = vt100::Parser::new(10, 41, 0);
        vt.process(&out);
        for (i, line) in vt.screen().rows(0, 41).enumerate() {
            assert_eq!(line.trim_end(), format!("row {i}"));
        }
    }

    #[test]
    fn an_unchanged_frame_sends_nothing() {
        let mut terminal = Terminal::new(WireBackend::new(Vec::new(), 40, 10)).unwrap();
        let text: Vec<String> = (0..10).map(|i| format!("row {i}")).collect();
        draw_lines(&mut terminal, &text);
        let again = draw_lines(&mut terminal, &text);
        assert!(again.is_empty(), "{:?}", String::from_utf8_lossy(&again));
    }
}
