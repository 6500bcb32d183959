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
//! It writes only cursor moves, SGR, scroll regions, the (already
//! sanitized) cell text and OSC 8 hyperlinks around cells, and it never asks
//! the terminal anything, so it works the same over a channel that is not a
//! local tty.
//!
//! Pictures drawn with a protocol (kitty, iTerm2, sixel) come out of band
//! too ([`WireBackend::set_placements`]): their cells are blank in the
//! frame, and after the frame's cells the backend places each picture
//! whose place changed, only where its cells are still blank (an overlay
//! drawn over one hides it). A picture that moved or went is removed first:
//! kitty's placements by id (`a=d`), an in-grid picture (sixel, iTerm2) by
//! rewriting its old cells, which the backend marks as unknown in its
//! shadow; a scroll across a picture counts as a move, so no fragment is
//! left where the terminal scrolled it.
//!
//! A ratatui cell cannot carry a hyperlink, so they come out of band: the
//! runner hands [`WireBackend::set_hyperlinks`] the screen areas that are
//! links before each frame. A cell's link is part of what the shadow
//! remembers of it, so the same text with another link (or none) is
//! rewritten, and scrolling moves links with their text.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Write};
use std::sync::Arc;

use ratatui::backend::{Backend, ClearType, WindowSize};
use ratatui::buffer::{Buffer, Cell};
use ratatui::layout::{Position, Rect, Size};
use ratatui::style::{Color, Modifier, Style};

use crate::graphics::{Encoded, Graphics, kitty};
use crate::sanitize::display_width;

/// Unchanged cells shorter than this between two changed runs are rewritten
/// rather than skipped with a cursor move, which costs about as much.
const JOIN_GAP: usize = 6;

/// The longest URL sent as a hyperlink; terminals cap them too (VTE at
/// 2083 bytes), and a cut URL would lead somewhere else.
pub const MAX_URL: usize = 2048;

/// Cells `x..x + width` of row `y` are a link to `url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hyperlink {
    pub x: u16,
    pub y: u16,
    pub width: u16,
    pub url: String,
}

/// `url` made safe to put inside an OSC 8 sequence: printable ASCII kept,
/// every other byte (controls, spaces, non-ASCII) percent-encoded, so no
/// ESC or BEL can end the sequence early. `None` when the result is longer
/// than [`MAX_URL`] or empty.
pub fn osc8_url(url: &str) -> Option<String> {
    let mut out = String::with_capacity(url.len());
    for b in url.bytes() {
        if (0x21..=0x7e).contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
        if out.len() > MAX_URL {
            return None;
        }
    }
    (!out.is_empty()).then_some(out)
}

/// A picture to show with its top-left cell at (`x`, `y`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub x: u16,
    pub y: u16,
    pub encoded: Encoded,
}

impl Placement {
    /// The same picture in the same place.
    fn same(&self, other: &Placement) -> bool {
        self.x == other.x
            && self.y == other.y
            && Arc::ptr_eq(&self.encoded.data, &other.encoded.data)
    }

    /// Whether its cells meet the rows `top..bottom` and columns
    /// `left..right`.
    fn meets(&self, top: usize, bottom: usize, left: usize, right: usize) -> bool {
        let (x, y) = (usize::from(self.x), usize::from(self.y));
        y < bottom
            && y + usize::from(self.encoded.rows) > top
            && x < right
            && x + usize::from(self.encoded.cols) > left
    }
}

/// kitty images kept by the terminal (sent once, placed again by id) before
/// the oldest is freed.
const KITTY_KEPT: usize = 32;

/// The one cell's worth of link: the (sanitized) URL, shared by its cells.
type CellLink = Option<Arc<str>>;

/// The link of cell `i` of a screen's links: a screen without any keeps
/// none, so the slots cost nothing where there are no links (most frames).
fn link_at(links: &[CellLink], i: usize) -> Option<&Arc<str>> {
    links.get(i).and_then(Option::as_ref)
}

/// Row `y`'s part of a screen's links (empty when it has none).
fn row_links(links: &[CellLink], y: usize, width: usize) -> &[CellLink] {
    links.get(y * width..(y + 1) * width).unwrap_or_default()
}

/// What a runner needs from a backend beyond ratatui's trait: hyperlinks for
/// the next frame and the clipboard. Backends that can do neither (tests'
/// `TestBackend`) take the defaults, which do nothing.
pub trait Extras {
    /// The hyperlinks of the next frame (all of them; earlier ones end).
    fn set_hyperlinks(&mut self, _links: &[Hyperlink]) {}

    /// Puts `text` on the clipboard of the terminal (OSC 52).
    fn copy_to_clipboard(&mut self, _text: &str) -> io::Result<()> {
        Ok(())
    }

    /// The pictures of the next frame shown with a protocol (all of them;
    /// earlier ones go).
    fn set_placements(&mut self, _placements: Vec<Placement>) {}
}

impl Extras for ratatui::backend::TestBackend {}

pub struct WireBackend<W: Write> {
    out: W,
    /// The size last reported to ratatui: the geometry of its next frame.
    size: Size,
    /// What the terminal shows.
    shadow: Buffer,
    /// `shadow` plus the cells drawn since the last flush.
    next: Buffer,
    /// The link of each cell of `shadow` and of `next`, row by row.
    shadow_links: Vec<CellLink>,
    next_links: Vec<CellLink>,
    /// [`cell_keys`] of `shadow` as the last frame left it (empty when
    /// unknown): each frame then hashes only its own cells.
    shadow_keys: Vec<u64>,
    /// The hyperlinks for the next frame, as the runner last set them.
    links: Vec<(Hyperlink, Arc<str>)>,
    /// The shadow cannot be trusted (e.g. after a partial clear): repaint all.
    stale: bool,
    cursor: Position,
    cursor_visible: bool,
    written: u64,
    frame: String,
    /// The terminal said it has left/right margins (DECLRMM): a scroll
    /// can move one pane's columns and leave the other's alone.
    margins: bool,
    /// The pictures asked for in the next frame, and those on screen.
    placements: Vec<Placement>,
    placed: Vec<Placement>,
    /// kitty images the terminal holds, oldest first, with their ids.
    kitty_sent: Vec<(Arc<str>, u32)>,
    kitty_next_id: u32,
}

impl<W: Write> WireBackend<W> {
    /// A backend for a terminal of a size that the owner keeps up to date
    /// with [`WireBackend::set_size`].
    pub fn new(out: W, width: u16, height: u16) -> Self {
        let area = Rect::new(0, 0, width, height);
        WireBackend {
            out,
            size: Size::new(width, height),
            shadow: Buffer::empty(area),
            next: Buffer::empty(area),
            shadow_links: Vec::new(),
            next_links: Vec::new(),
            shadow_keys: Vec::new(),
            links: Vec::new(),
            stale: false,
            cursor: Position::ORIGIN,
            cursor_visible: true,
            written: 0,
            frame: String::new(),
            margins: false,
            placements: Vec::new(),
            placed: Vec::new(),
            kitty_sent: Vec::new(),
            kitty_next_id: 1,
        }
    }

    /// The pictures on screen, as last placed.
    pub fn placed(&self) -> &[Placement] {
        &self.placed
    }

    /// Frees every image kitty holds for this backend, before the program
    /// leaves the terminal: kitty keeps an image's data (megabytes for a
    /// photo) after the program that sent it has exited, until the window
    /// closes.
    pub fn release_pictures(&mut self) -> io::Result<()> {
        if self.kitty_sent.is_empty() {
            return Ok(());
        }
        let mut out = String::new();
        for (_, id) in self.kitty_sent.drain(..) {
            kitty::forget(&mut out, id);
        }
        self.placed
            .retain(|p| p.encoded.graphics != Graphics::Kitty);
        self.emit(&out)?;
        self.out.flush()
    }

    /// The screen was cleared: in-grid pictures went with it, kitty's
    /// placements are removed (into `out`).
    fn forget_placed(&mut self, out: &mut String) {
        if self
            .placed
            .iter()
            .any(|p| p.encoded.graphics == Graphics::Kitty)
        {
            out.push_str(kitty::UNPLACE_ALL);
        }
        self.placed.clear();
    }

    /// The placements asked for that can be shown: inside the screen, on
    /// cells the frame left blank.
    fn valid_placements(&self) -> Vec<Placement> {
        let area = self.next.area;
        self.placements
            .iter()
            .filter(|p| {
                let (x, y) = (p.x, p.y);
                let (w, h) = (p.encoded.cols, p.encoded.rows);
                w > 0
                    && h > 0
                    && u32::from(x) + u32::from(w) <= u32::from(area.width)
                    && u32::from(y) + u32::from(h) <= u32::from(area.height)
                    && (y..y + h).all(|row| {
                        (x..x + w).all(|col| {
                            self.next
                                .cell((col, row))
                                .is_some_and(|c| c.symbol() == " ")
                        })
                    })
            })
            .cloned()
            .collect()
    }

    /// kitty's id for the image `data`, and whether the terminal already
    /// has it; frees the oldest image past [`KITTY_KEPT`] (into `out`).
    fn kitty_id(&mut self, data: &Arc<str>, out: &mut String) -> (u32, bool) {
        if let Some(at) = self
            .kitty_sent
            .iter()
            .position(|(d, _)| Arc::ptr_eq(d, data))
        {
            let entry = self.kitty_sent.remove(at);
            let id = entry.1;
            self.kitty_sent.push(entry);
            return (id, true);
        }
        let id = self.kitty_next_id;
        // Ids 1.., skipping 31 (the query's).
        self.kitty_next_id = match self.kitty_next_id.wrapping_add(1) {
            0 | 31 => 32,
            n => n,
        };
        self.kitty_sent.push((Arc::clone(data), id));
        if self.kitty_sent.len() > KITTY_KEPT {
            let (_, old) = self.kitty_sent.remove(0);
            kitty::forget(out, old);
        }
        (id, false)
    }

    /// Removes picture `p` from the screen: a kitty placement by its id
    /// (into `out`), an in-grid picture by marking its cells in the shadow
    /// as unknown, so the frame rewrites them.
    fn unplace(&mut self, p: &Placement, out: &mut String) {
        if p.encoded.graphics == Graphics::Kitty {
            if let Some((_, id)) = self
                .kitty_sent
                .iter()
                .find(|(d, _)| Arc::ptr_eq(d, &p.encoded.data))
            {
                kitty::unplace(out, *id);
            }
            return;
        }
        for row in p.y..p.y + p.encoded.rows {
            for col in p.x..p.x + p.encoded.cols {
                if let Some(cell) = self.shadow.cell_mut((col, row)) {
                    // Never a symbol of a frame: always rewritten.
                    cell.set_symbol("\u{0}");
                }
            }
        }
    }

    /// The pictures the next frame shows, and those of them already on
    /// screen, untouched by `scroll`; the other pictures on screen are
    /// removed (into `out`), to be placed again after the cells.
    fn keep_placed(
        &mut self,
        scroll: Option<Scroll>,
        out: &mut String,
    ) -> (Vec<Placement>, Vec<Placement>) {
        let valid = self.valid_placements();
        let placed = std::mem::take(&mut self.placed);
        let mut kept = Vec::new();
        for p in placed {
            let scrolled = scroll.is_some_and(|sc| p.meets(sc.top, sc.bottom, sc.left, sc.right));
            if !scrolled && valid.iter().any(|v| v.same(&p)) {
                kept.push(p);
            } else {
                self.unplace(&p, out);
            }
        }
        (valid, kept)
    }

    /// Places the pictures of `valid` not `kept` (into `out`); all of
    /// `valid` are on screen after it.
    fn place_new(&mut self, valid: Vec<Placement>, kept: &[Placement], out: &mut String) {
        for p in &valid {
            if !kept.iter().any(|k| k.same(p)) {
                self.place(p, out);
            }
        }
        self.placed = valid;
    }

    /// Places `p` (into `out`): cursor to its cell, then its protocol.
    fn place(&mut self, p: &Placement, out: &mut String) {
        let _ = write!(out, "\x1b[{};{}H", p.y + 1, p.x + 1);
        match p.encoded.graphics {
            Graphics::Kitty => {
                let (id, sent) = self.kitty_id(&p.encoded.data, out);
                if sent {
                    kitty::place(out, id, &p.encoded);
                } else {
                    kitty::transmit_and_place(out, id, &p.encoded);
                }
            }
            Graphics::Iterm2 => out.push_str(&crate::graphics::iterm2(&p.encoded, false)),
            Graphics::Sixel => out.push_str(&p.encoded.data),
            Graphics::Halfblocks => {}
        }
    }

    /// Whether the terminal has left/right margins (it answered DECRQM for
    /// mode 69 with set or reset): scrolls then move only the columns that
    /// scrolled.
    pub fn set_margins(&mut self, supported: bool) {
        self.margins = supported;
    }

    /// Whether scrolls may use left/right margins.
    pub fn margins(&self) -> bool {
        self.margins
    }

    /// Sets the size `size()` reports; ratatui resizes (and repaints) on the
    /// next draw.
    pub fn set_size(&mut self, width: u16, height: u16) {
        self.size = Size::new(width, height);
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
        let size = self.size;
        let area = Rect::new(0, 0, size.width, size.height);
        self.shadow = Buffer::empty(area);
        self.next = Buffer::empty(area);
        self.shadow_links = Vec::new();
        self.shadow_keys.clear();
    }

    /// Fills `next_links` from the hyperlinks set for this frame.
    fn lay_links(&mut self) {
        let area = self.next.area;
        let width = usize::from(area.width);
        self.next_links.clear();
        if self.links.is_empty() {
            self.next_links.shrink_to_fit();
            return;
        }
        self.next_links.resize(area.area() as usize, None);
        for (link, url) in &self.links {
            if link.y >= area.height || link.x >= area.width {
                continue;
            }
            let start = usize::from(link.y) * width + usize::from(link.x);
            let end = start + usize::from(link.width.min(area.width - link.x));
            for cell in &mut self.next_links[start..end] {
                *cell = Some(Arc::clone(url));
            }
        }
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
        self.lay_links();
        if self.shadow.area != self.next.area || self.stale {
            self.shadow = Buffer::empty(self.next.area);
            self.shadow_keys.clear();
            self.shadow_links = Vec::new();
            frame.push_str("\x1b[0m\x1b[2J");
            self.stale = false;
            self.forget_placed(&mut frame);
        }
        let old_screen = Screen {
            buf: &self.shadow,
            links: &self.shadow_links,
        };
        let new_screen = Screen {
            buf: &self.next,
            links: &self.next_links,
        };
        let new_keys = cell_keys(new_screen);
        let old_keys = if self.shadow_keys.len() == self.shadow.content.len() {
            std::mem::take(&mut self.shadow_keys)
        } else {
            cell_keys(old_screen)
        };
        let scroll = best_scroll(old_screen, new_screen, &old_keys, &new_keys, self.margins);
        let (valid, kept) = self.keep_placed(scroll, &mut frame);
        if let Some(sc) = scroll {
            push_scroll(&mut frame, sc, width);
            scroll_buffer(&mut self.shadow, &mut self.shadow_links, sc);
        }
        let mut style: Option<Style> = None;
        let mut at: Option<(usize, usize)> = None;
        for y in 0..height {
            let row = y * width;
            let old = &self.shadow.content[row..row + width];
            let new = &self.next.content[row..row + width];
            let old_links = row_links(&self.shadow_links, y, width);
            let new_links = row_links(&self.next_links, y, width);
            let same_at =
                |i: usize| same(&old[i], &new[i]) && link_at(old_links, i) == link_at(new_links, i);
            let mut x = 0;
            while x < width {
                if same_at(x) {
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
                    if same_at(i) {
                        gap += 1;
                    } else {
                        gap = 0;
                        end = i + 1;
                    }
                    i += 1;
                }
                if at != Some((start, y)) {
                    move_to(&mut frame, at, (start, y), width);
                }
                let cx = push_run(
                    &mut frame,
                    &new[..end],
                    new_links.get(..end).unwrap_or_default(),
                    start,
                    &mut style,
                );
                at = Some((cx, y));
                x = cx;
            }
        }
        if style.is_some() {
            frame.push_str("\x1b[0m");
        }
        self.place_new(valid, &kept, &mut frame);
        self.shadow.clone_from(&self.next);
        self.shadow_links.clone_from(&self.next_links);
        self.shadow_keys = new_keys;
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

/// Writes the sequences for scroll `sc` of a screen `width` columns wide.
fn push_scroll(frame: &mut String, sc: Scroll, width: usize) {
    // SU/SD fill with the current background: reset it first.
    frame.push_str("\x1b[0m");
    let columns = sc.left > 0 || sc.right < width;
    if columns {
        // DECLRMM on, then the margins (DECSLRM); both are undone
        // within the frame, so no later sequence (or a shell after
        // a lost connection) meets a terminal with margins set.
        let _ = write!(
            frame,
            "\x1b[?69h\x1b[{};{}r\x1b[{};{}s",
            sc.top + 1,
            sc.bottom,
            sc.left + 1,
            sc.right
        );
    } else {
        let _ = write!(frame, "\x1b[{};{}r", sc.top + 1, sc.bottom);
    }
    if sc.shift > 0 {
        let _ = write!(frame, "\x1b[{}S", sc.shift);
    } else {
        let _ = write!(frame, "\x1b[{}T", -sc.shift);
    }
    if columns {
        frame.push_str("\x1b[s\x1b[?69l");
    }
    frame.push_str("\x1b[r");
}

/// Moves the cursor from `at` (where the last run ended, if known) to
/// `to`, by the shortest way: CUP, or on to the next row with CR LF (and
/// CUF), or forward on the same row with CUF. Only between rows inside the
/// screen, after any scroll region is reset, so LF never scrolls; CR also
/// ends a pending wrap at the right edge, which CUF would not.
fn move_to(frame: &mut String, at: Option<(usize, usize)>, to: (usize, usize), width: usize) {
    let (x, y) = to;
    let cup = if x == 0 {
        format!("\x1b[{}H", y + 1)
    } else {
        format!("\x1b[{};{}H", y + 1, x + 1)
    };
    let forward = |n: usize| match n {
        0 => String::new(),
        1 => "\x1b[C".to_owned(),
        n => format!("\x1b[{n}C"),
    };
    let other = match at {
        Some((_, ay)) if ay + 1 == y => Some(format!("\r\n{}", forward(x))),
        Some((ax, ay)) if ay == y && ax < x && ax < width => Some(forward(x - ax)),
        _ => None,
    };
    match other {
        Some(o) if o.len() < cup.len() => frame.push_str(&o),
        _ => frame.push_str(&cup),
    }
}

/// Writes cells `start..` of `cells` (a row up to the run's end) with their
/// styles and hyperlinks; `style` is the SGR in effect, kept up to date.
/// Returns the column after the last cell written. A hyperlink never stays
/// open past the run, so cursor moves and scrolls never carry one.
fn push_run(
    frame: &mut String,
    cells: &[Cell],
    links: &[CellLink],
    start: usize,
    style: &mut Option<Style>,
) -> usize {
    let mut cx = start;
    let mut open: Option<&str> = None;
    while cx < cells.len() {
        let link = link_at(links, cx).map(|l| &**l);
        if link != open {
            if open.is_some() {
                frame.push_str(OSC8_END);
            }
            if let Some(url) = link {
                let _ = write!(frame, "\x1b]8;;{url}\x1b\\");
            }
            open = link;
        }
        let cell = &cells[cx];
        let mut cell_style = cell_style(cell);
        if let Some(current) = *style
            && fg_unseen(cell)
            && current.add_modifier & SHOWS_ON_BLANKS == Modifier::empty()
        {
            // A blank shows only its background: keep the colour and
            // weight in effect rather than switch for one space.
            cell_style = Style {
                bg: cell_style.bg,
                ..current
            };
        }
        if *style != Some(cell_style) {
            // Only what changed: a full reset per run was half the bytes of
            // a two-pane scroll.
            crate::ansi::push_sgr_change(frame, *style, cell_style);
            *style = Some(cell_style);
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
    if open.is_some() {
        frame.push_str(OSC8_END);
    }
    cx
}

fn cell_style(cell: &Cell) -> Style {
    Style::new()
        .fg(cell.fg)
        .bg(cell.bg)
        .add_modifier(cell.modifier)
}

/// Modifiers that show on a blank cell (a line through or under it, or
/// its colours swapped); the others change only how glyphs look.
const SHOWS_ON_BLANKS: Modifier = Modifier::UNDERLINED
    .union(Modifier::REVERSED)
    .union(Modifier::CROSSED_OUT);

/// A blank whose foreground colour and weight cannot be seen.
fn fg_unseen(cell: &Cell) -> bool {
    cell.symbol() == " " && cell.modifier & SHOWS_ON_BLANKS == Modifier::empty()
}

/// Whether the terminal would show the two cells the same way.
fn same(a: &Cell, b: &Cell) -> bool {
    if a.symbol() != b.symbol() || a.bg != b.bg {
        return false;
    }
    if fg_unseen(a) && fg_unseen(b) {
        return true;
    }
    a.fg == b.fg && a.modifier == b.modifier
}

/// Ends an OSC 8 hyperlink.
const OSC8_END: &str = "\x1b]8;;\x1b\\";

/// A screen's cells and their links.
#[derive(Clone, Copy)]
struct Screen<'a> {
    buf: &'a Buffer,
    links: &'a [CellLink],
}

/// A number per cell that two cells share when the terminal would show them
/// (and their links) the same way, as [`same`] sees it. Choosing a scroll
/// compares tens of thousands of cell pairs a frame; comparing these numbers
/// instead of the cells made it several times cheaper. A collision can only
/// make a worse scroll look better: the frame itself is encoded from the
/// cells.
fn cell_keys(screen: Screen<'_>) -> Vec<u64> {
    let state = foldhash::fast::FixedState::with_seed(0x0066_6f6c_696f);
    screen
        .buf
        .content
        .iter()
        .enumerate()
        .map(|(i, cell)| {
            let mut h = state.build_hasher();
            h.write(cell.symbol().as_bytes());
            let fg = if fg_unseen(cell) {
                0
            } else {
                u64::from(color_code(cell.fg)) | u64::from(cell.modifier.bits()) << 32
            };
            h.write_u64(fg ^ u64::from(color_code(cell.bg)) << 48);
            if let Some(link) = link_at(screen.links, i) {
                h.write(link.as_bytes());
            }
            h.finish()
        })
        .collect()
}

/// A colour as one number (deriving `Hash` for ratatui's enum costs more
/// than the rest of a cell's key).
fn color_code(c: Color) -> u32 {
    match c {
        Color::Reset => 0,
        Color::Black => 1,
        Color::Red => 2,
        Color::Green => 3,
        Color::Yellow => 4,
        Color::Blue => 5,
        Color::Magenta => 6,
        Color::Cyan => 7,
        Color::Gray => 8,
        Color::DarkGray => 9,
        Color::LightRed => 10,
        Color::LightGreen => 11,
        Color::LightYellow => 12,
        Color::LightBlue => 13,
        Color::LightMagenta => 14,
        Color::LightCyan => 15,
        Color::White => 16,
        Color::Indexed(i) => 0x100 | u32::from(i),
        Color::Rgb(r, g, b) => 0x0100_0000 | u32::from(r) << 16 | u32::from(g) << 8 | u32::from(b),
    }
}

/// One number for a row's cells from column `from` on.
fn row_hash(keys: &[u64], width: usize, y: usize, from: usize) -> u64 {
    foldhash::fast::FixedState::with_seed(0x726f_7773)
        .hash_one(&keys[y * width + from..(y + 1) * width])
}

/// A scroll of rows `top..bottom`, columns `left..right`, by `shift`
/// lines (positive: content moves up).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Scroll {
    top: usize,
    bottom: usize,
    left: usize,
    right: usize,
    shift: i32,
}

/// Whether a wide character of `screen` straddles the boundary before
/// column `x` on any row: margins there would split it.
fn splits_wide(screen: Screen<'_>, x: usize) -> bool {
    let width = usize::from(screen.buf.area.width);
    if x == 0 || x >= width {
        return false;
    }
    (0..usize::from(screen.buf.area.height))
        .any(|y| display_width(screen.buf.content[y * width + x - 1].symbol()) > 1)
}

/// Finds a scroll after which fewer cells differ than without it.
/// Candidate shifts come from rows whose right-hand part (where a reader
/// pane is) reappears shifted. Without margins the scroll spans the whole
/// width and a pane beside the reader is repainted; with them it spans the
/// columns where scrolling saves the most (a maximum-sum run over the
/// columns' savings), so the pane beside it stays put.
fn best_scroll(
    old: Screen<'_>,
    new: Screen<'_>,
    old_keys: &[u64],
    new_keys: &[u64],
    margins: bool,
) -> Option<Scroll> {
    let width = usize::from(new.buf.area.width);
    let height = usize::from(new.buf.area.height);
    if height < 4 || width == 0 {
        return None;
    }
    if old_keys == new_keys {
        return None;
    }
    let blank_row = Buffer::empty(Rect::new(0, 0, new.buf.area.width, 1));
    let blank_links = vec![None; width];
    let blank_keys = cell_keys(Screen {
        buf: &blank_row,
        links: &blank_links,
    });
    let candidates = candidate_shifts(old_keys, new_keys, &blank_keys, width, height);
    if candidates.is_empty() {
        return None;
    }
    // Per column: cells that differ if nothing scrolls.
    let mut still = vec![0usize; width];
    for (row_old, row_new) in old_keys.chunks(width).zip(new_keys.chunks(width)) {
        for ((n, o), k) in still.iter_mut().zip(row_old).zip(row_new) {
            *n += usize::from(o != k);
        }
    }
    let baseline: usize = still.iter().sum();
    let mut best: Option<Scroll> = None;
    // Scrolling costs about 20 bytes of sequences (35 with margins); it
    // must save more.
    let mut best_cost = baseline.saturating_sub(20);
    let mut moved = vec![0usize; width];
    for (shift, _) in candidates {
        // The region: the whole screen, or all but a bottom status line.
        for bottom in [height, height - 1] {
            let k = shift.unsigned_abs() as usize;
            if k >= bottom {
                continue;
            }
            // Per column: cells that differ if the region scrolls.
            moved.fill(0);
            for y in 0..height {
                let src = if y >= bottom {
                    Some(y)
                } else if shift > 0 {
                    (y + k < bottom).then_some(y + k)
                } else {
                    y.checked_sub(k)
                };
                let from_row = match src {
                    Some(s) => &old_keys[s * width..(s + 1) * width],
                    None => &blank_keys[..],
                };
                let row_new = &new_keys[y * width..(y + 1) * width];
                for ((n, o), k) in moved.iter_mut().zip(from_row).zip(row_new) {
                    *n += usize::from(o != k);
                }
            }
            let (left, right, cost) = if margins {
                best_columns(&still, &moved)
            } else {
                (0, width, moved.iter().sum())
            };
            let partial = left > 0 || right < width;
            let overhead = if partial { 15 } else { 0 };
            if right > left
                && cost + overhead < best_cost
                && !(partial
                    && [left, right]
                        .iter()
                        .any(|&x| splits_wide(old, x) || splits_wide(new, x)))
            {
                best_cost = cost + overhead;
                best = Some(Scroll {
                    top: 0,
                    bottom,
                    left,
                    right,
                    shift,
                });
            }
        }
    }
    best
}

/// Up to three shifts worth trying, most voted first: rows whose
/// right-hand part (where a reader pane is) reappears that many rows away.
fn candidate_shifts(
    old_keys: &[u64],
    new_keys: &[u64],
    blank_keys: &[u64],
    width: usize,
    height: usize,
) -> Vec<(i32, usize)> {
    let from = width / 2;
    let mut old_rows: HashMap<u64, Vec<usize>> = HashMap::new();
    for y in 0..height {
        old_rows
            .entry(row_hash(old_keys, width, y, from))
            .or_default()
            .push(y);
    }
    let blank = row_hash(blank_keys, width, 0, from);
    let mut votes: HashMap<i32, usize> = HashMap::new();
    for y in 0..height {
        let h = row_hash(new_keys, width, y, from);
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
    candidates
}

/// The columns `left..right` to scroll, given per column the cells that
/// differ without a scroll (`still`) and with one (`moved`), and the cells
/// that then differ on the whole screen: the run of columns where
/// scrolling saves the most (Kadane's maximum-sum subarray).
fn best_columns(still: &[usize], moved: &[usize]) -> (usize, usize, usize) {
    let total: usize = still.iter().sum();
    let (mut best, mut best_at) = (0isize, (0, 0));
    let (mut run, mut run_start) = (0isize, 0);
    for (x, (&s, &m)) in still.iter().zip(moved).enumerate() {
        // Cell counts are a screen's at most, far below isize::MAX.
        let saving = s.cast_signed() - m.cast_signed();
        if run <= 0 {
            run = saving;
            run_start = x;
        } else {
            run += saving;
        }
        if run > best {
            best = run;
            best_at = (run_start, x + 1);
        }
    }
    (best_at.0, best_at.1, total - best.unsigned_abs())
}

/// Applies to `buf` what SU/SD does to the terminal: rows `top..bottom`
/// of columns `left..right` move by `shift`, the rows scrolled in are blank.
fn scroll_buffer(buf: &mut Buffer, links: &mut [CellLink], sc: Scroll) {
    let width = usize::from(buf.area.width);
    let (top, bottom) = (sc.top, sc.bottom);
    let k = (sc.shift.unsigned_abs() as usize).min(bottom - top);
    let up = sc.shift > 0;
    if sc.left == 0 && sc.right == width {
        scroll_slice(
            &mut buf.content[top * width..bottom * width],
            k * width,
            up,
            &Cell::EMPTY,
        );
        if !links.is_empty() {
            scroll_slice(
                &mut links[top * width..bottom * width],
                k * width,
                up,
                &None,
            );
        }
        return;
    }
    let cols = sc.left..sc.right;
    let rows: Vec<usize> = if up {
        (top..bottom).collect()
    } else {
        (top..bottom).rev().collect()
    };
    for y in rows {
        let src = if up {
            (y + k < bottom).then_some(y + k)
        } else {
            y.checked_sub(k).filter(|&s| s >= top)
        };
        for x in cols.clone() {
            let i = y * width + x;
            if let Some(s) = src {
                let j = s * width + x;
                let cell = buf.content[j].clone();
                buf.content[i] = cell;
                if !links.is_empty() {
                    let link = links[j].clone();
                    links[i] = link;
                }
            } else {
                buf.content[i] = Cell::EMPTY;
                if !links.is_empty() {
                    links[i] = None;
                }
            }
        }
    }
}

/// Moves `region` up (or down) by `k` items, filling with `blank`.
fn scroll_slice<T: Clone>(region: &mut [T], k: usize, up: bool, blank: &T) {
    if up {
        region.rotate_left(k);
        let len = region.len();
        region[len - k..].fill(blank.clone());
    } else {
        region.rotate_right(k);
        region[..k].fill(blank.clone());
    }
}

impl<W: Write> Extras for WireBackend<W> {
    fn set_hyperlinks(&mut self, links: &[Hyperlink]) {
        self.links = links
            .iter()
            .filter_map(|l| Some((l.clone(), Arc::from(osc8_url(&l.url)?))))
            .collect();
    }

    fn set_placements(&mut self, placements: Vec<Placement>) {
        self.placements = placements;
    }

    fn copy_to_clipboard(&mut self, text: &str) -> io::Result<()> {
        let seq = format!("\x1b]52;c;{}\x1b\\", base64(text.as_bytes()));
        self.emit(&seq)?;
        self.out.flush()
    }
}

/// Standard base64 with padding, as OSC 52 wants: its alphabet is
/// printable ASCII, so the text inside cannot end the sequence.
pub fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ABC[(n >> shift) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
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
            let mut out = String::new();
            self.forget_placed(&mut out);
            out.push_str("\x1b[0m\x1b[2J");
            self.emit(&out)
        } else {
            self.next = Buffer::empty(self.next.area);
            self.stale = true;
            Ok(())
        }
    }

    fn size(&self) -> io::Result<Size> {
        Ok(self.size)
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

    /// Just enough of a terminal to replay what the backend writes,
    /// left/right margins included (vt100 has none): the text of each cell.
    struct Emu {
        rows: Vec<Vec<String>>,
        x: usize,
        y: usize,
        top_bottom: (usize, usize),
        left_right: (usize, usize),
        lrmm: bool,
    }

    impl Emu {
        fn new(w: usize, h: usize) -> Emu {
            Emu {
                rows: vec![vec![" ".to_owned(); w]; h],
                x: 0,
                y: 0,
                top_bottom: (0, h),
                left_right: (0, w),
                lrmm: false,
            }
        }

        fn scroll(&mut self, lines: usize, up: bool) {
            let (top, bottom) = self.top_bottom;
            let (left, right) = self.left_right;
            for _ in 0..lines {
                if up {
                    for y in top..bottom {
                        for x in left..right {
                            self.rows[y][x] = if y + 1 < bottom {
                                self.rows[y + 1][x].clone()
                            } else {
                                " ".to_owned()
                            };
                        }
                    }
                } else {
                    for y in (top..bottom).rev() {
                        for x in left..right {
                            self.rows[y][x] = if y > top {
                                self.rows[y - 1][x].clone()
                            } else {
                                " ".to_owned()
                            };
                        }
                    }
                }
            }
        }

        fn feed(&mut self, bytes: &[u8]) {
            let (w, h) = (self.rows[0].len(), self.rows.len());
            let text = std::str::from_utf8(bytes).unwrap();
            let mut chars = text.chars();
            while let Some(c) = chars.next() {
                if c == '\r' {
                    self.x = 0;
                    continue;
                }
                if c == '\n' {
                    assert!(self.y + 1 < h, "LF at the bottom would scroll");
                    self.y += 1;
                    continue;
                }
                if c != '\x1b' {
                    self.rows[self.y][self.x] = c.to_string();
                    self.x += 1;
                    continue;
                }
                assert_eq!(chars.next(), Some('['), "only CSI in frames");
                let mut params = String::new();
                let fin = loop {
                    let c = chars.next().unwrap();
                    if c.is_ascii_alphabetic() {
                        break c;
                    }
                    params.push(c);
                };
                let n: Vec<usize> = params.split(';').filter_map(|p| p.parse().ok()).collect();
                let arg = |i: usize, d: usize| n.get(i).copied().unwrap_or(d);
                match (fin, params.as_str()) {
                    ('h' | 'l', "?69") => {
                        self.lrmm = fin == 'h';
                        self.left_right = (0, w);
                    }
                    ('h' | 'l' | 'm', _) => {}
                    ('H', _) => (self.y, self.x) = (arg(0, 1) - 1, arg(1, 1) - 1),
                    ('C', _) => self.x += arg(0, 1),
                    ('J', "2") => self.rows = vec![vec![" ".to_owned(); w]; h],
                    ('r', _) => self.top_bottom = (arg(0, 1) - 1, arg(1, h)),
                    ('s', _) => {
                        assert!(self.lrmm, "DECSLRM without DECLRMM saves the cursor");
                        self.left_right = (arg(0, 1) - 1, arg(1, w));
                    }
                    ('S', _) => self.scroll(arg(0, 1), true),
                    ('T', _) => self.scroll(arg(0, 1), false),
                    other => panic!("unexpected {other:?}"),
                }
            }
        }
    }

    const WORDS: [&str; 7] = [
        "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf",
    ];

    /// Two panes: a list on the left whose selection moves, a reader on the
    /// right whose text scrolls by `top`.
    fn two_panes(terminal: &mut Terminal<WireBackend<Vec<u8>>>, top: usize, sel: usize) -> Vec<u8> {
        terminal
            .draw(|f| {
                for y in 0..12u16 {
                    let item = format!(
                        "{} title {y:02}",
                        if usize::from(y) == sel { '>' } else { ' ' }
                    );
                    f.render_widget(Line::raw(item), Rect::new(0, y, 19, 1));
                    f.render_widget(Line::raw("│"), Rect::new(19, y, 1, 1));
                    let i = top + usize::from(y);
                    let w = |k: usize| WORDS[(i * 3 + k) % WORDS.len()];
                    let line = format!("{i:02} {} {} {} {}", w(1), w(2), w(3), w(4));
                    f.render_widget(Line::raw(line), Rect::new(20, y, 40, 1));
                }
            })
            .unwrap();
        std::mem::take(terminal.backend_mut().writer_mut())
    }

    #[test]
    fn with_margins_only_the_reader_columns_scroll() {
        let mut costs = Vec::new();
        for margins in [false, true] {
            let mut terminal = Terminal::new(WireBackend::new(Vec::new(), 60, 12)).unwrap();
            terminal.backend_mut().set_margins(margins);
            let mut emu = Emu::new(60, 12);
            emu.feed(&two_panes(&mut terminal, 0, 3));
            let mut total = 0;
            for top in [1, 2, 3, 2, 6, 1, 0] {
                let bytes = two_panes(&mut terminal, top, 3);
                total += bytes.len();
                let s = String::from_utf8(bytes.clone()).unwrap();
                assert_eq!(s.contains("\x1b[?69h"), margins, "{s:?}");
                emu.feed(&bytes);
                let want: Vec<String> = terminal
                    .backend()
                    .shadow
                    .content
                    .chunks(60)
                    .map(|row| row.iter().map(Cell::symbol).collect())
                    .collect();
                let got: Vec<String> = emu.rows.iter().map(|r| r.concat()).collect();
                assert_eq!(got, want, "margins {margins}, top {top}: {s:?}");
                if margins {
                    assert!(!s.contains("title"), "the list is not repainted: {s:?}");
                }
            }
            costs.push(total);
        }
        // The list's cells are not sent again.
        assert!(costs[1] + 12 * 19 < costs[0], "{costs:?}");
    }

    /// A 30-line document with a picture in rows 5..8 (blank lines), shown
    /// from line `top` in a 40×10 terminal, the picture placed when wholly
    /// on screen, as the reader does.
    fn draw_with_picture(
        terminal: &mut Terminal<WireBackend<Vec<u8>>>,
        top: usize,
        encoded: &Encoded,
    ) -> String {
        let doc: Vec<String> = (0..30)
            .map(|i| {
                if (5..8).contains(&i) {
                    String::new()
                } else {
                    format!("line {i} of the post")
                }
            })
            .collect();
        let shown = doc[top..top + 10].to_vec();
        let placements = (top <= 5 && 5 - top + 3 <= 10)
            .then(|| Placement {
                x: 2,
                y: (5 - top) as u16,
                encoded: encoded.clone(),
            })
            .into_iter()
            .collect();
        terminal.backend_mut().set_placements(placements);
        String::from_utf8(draw_lines(terminal, &shown)).unwrap()
    }

    fn picture(graphics: Graphics) -> Encoded {
        let data = match graphics {
            Graphics::Sixel => "\x1bP0;1;0q\"1;1;100;60#1!100~-\x1b\\".to_owned(),
            _ => "QUJD".repeat(10),
        };
        Encoded {
            graphics,
            left: 2,
            cols: 10,
            rows: 3,
            data: data.into(),
        }
    }

    #[test]
    fn a_kitty_picture_is_sent_once_moved_by_id_and_removed_when_it_scrolls_off() {
        let mut terminal = Terminal::new(WireBackend::new(Vec::new(), 40, 10)).unwrap();
        let pic = picture(Graphics::Kitty);
        let first = draw_with_picture(&mut terminal, 0, &pic);
        assert!(
            first.contains("\x1b[6;3H\x1b_Ga=T,f=100,t=d,i=1,c=10,r=3,C=1,q=2,m=0;QUJD"),
            "{first:?}"
        );
        assert!(
            draw_with_picture(&mut terminal, 0, &pic).is_empty(),
            "nothing changed"
        );
        // One line down: the old placement goes, the image is placed again
        // by id one row up, not sent again.
        let moved = draw_with_picture(&mut terminal, 1, &pic);
        let gone = moved.find("\x1b_Ga=d,d=i,i=1,q=2\x1b\\").expect("removed");
        let back = moved
            .find("\x1b[5;3H\x1b_Ga=p,i=1,c=10,r=3,C=1,q=2")
            .expect("placed");
        assert!(gone < back);
        assert!(!moved.contains("a=T"));
        // Off the screen: removed, not placed.
        let off = draw_with_picture(&mut terminal, 9, &pic);
        assert!(off.contains("a=d,d=i,i=1"), "{off:?}");
        assert!(!off.contains("a=p") && !off.contains("a=T"));
        // Back: placed again from what the terminal kept.
        let again = draw_with_picture(&mut terminal, 0, &pic);
        assert!(again.contains("\x1b[6;3H\x1b_Ga=p,i=1"), "{again:?}");
        assert!(!again.contains("a=T"));
        // A clear removes every placement; the next frame places it again.
        ratatui::backend::Backend::clear(terminal.backend_mut()).unwrap();
        let cleared =
            String::from_utf8(std::mem::take(terminal.backend_mut().writer_mut())).unwrap();
        assert!(cleared.contains(kitty::UNPLACE_ALL));
    }

    #[test]
    fn kitty_images_are_freed_before_leaving() {
        let mut terminal = Terminal::new(WireBackend::new(Vec::new(), 40, 10)).unwrap();
        let pic = picture(Graphics::Kitty);
        draw_with_picture(&mut terminal, 0, &pic);
        // Scrolled off: kitty still keeps the image, to place it again.
        let off = draw_with_picture(&mut terminal, 9, &pic);
        assert!(!off.contains("d=I"), "{off:?}");
        terminal.backend_mut().release_pictures().unwrap();
        let freed = String::from_utf8(std::mem::take(terminal.backend_mut().writer_mut())).unwrap();
        assert_eq!(freed, "\x1b_Ga=d,d=I,i=1,q=2\x1b\\");
        // Nothing held: nothing more to free.
        terminal.backend_mut().release_pictures().unwrap();
        assert!(terminal.backend().writer().is_empty());
    }

    #[test]
    fn an_in_grid_picture_that_moves_or_goes_leaves_no_fragment() {
        for graphics in [Graphics::Sixel, Graphics::Iterm2] {
            let mut terminal = Terminal::new(WireBackend::new(Vec::new(), 40, 10)).unwrap();
            let pic = picture(graphics);
            let intro = if graphics == Graphics::Sixel {
                "\x1bP"
            } else {
                "\x1b]1337;File="
            };
            let first = draw_with_picture(&mut terminal, 0, &pic);
            assert!(first.contains(&format!("\x1b[6;3H{intro}")), "{first:?}");
            assert!(draw_with_picture(&mut terminal, 0, &pic).is_empty());
            // The frame scrolls by one line, which moves the picture's
            // pixels with it: its cells there are rewritten (blank) before
            // it is drawn again, a row up.
            let moved = draw_with_picture(&mut terminal, 1, &pic);
            let blank = moved.find(&" ".repeat(10)).expect("old cells rewritten");
            let drawn = moved
                .find(&format!("\x1b[5;3H{intro}"))
                .expect("drawn again");
            assert!(blank < drawn, "{moved:?}");
            // Gone off screen: its cells rewritten, it is not drawn.
            let off = draw_with_picture(&mut terminal, 9, &pic);
            assert!(!off.contains(intro), "{off:?}");
            assert!(terminal.backend().placed().is_empty());
        }
    }

    #[test]
    fn a_picture_under_an_overlay_is_not_placed() {
        let mut terminal = Terminal::new(WireBackend::new(Vec::new(), 40, 10)).unwrap();
        let pic = picture(Graphics::Kitty);
        terminal.backend_mut().set_placements(vec![Placement {
            x: 0,
            y: 0,
            encoded: pic,
        }]);
        // Text where the picture would be: not placed.
        let out = String::from_utf8(draw_lines(&mut terminal, &["a popup".into()])).unwrap();
        assert!(!out.contains("\x1b_G"), "{out:?}");
    }

    #[test]
    fn an_unchanged_frame_sends_nothing() {
        let mut terminal = Terminal::new(WireBackend::new(Vec::new(), 40, 10)).unwrap();
        let text: Vec<String> = (0..10).map(|i| format!("row {i}")).collect();
        draw_lines(&mut terminal, &text);
        let again = draw_lines(&mut terminal, &text);
        assert!(again.is_empty(), "{:?}", String::from_utf8_lossy(&again));
    }

    fn link(x: u16, y: u16, width: u16, url: &str) -> Hyperlink {
        Hyperlink {
            x,
            y,
            width,
            url: url.to_owned(),
        }
    }

    #[test]
    fn a_link_is_part_of_a_cells_identity() {
        let mut terminal = Terminal::new(WireBackend::new(Vec::new(), 40, 10)).unwrap();
        let text: Vec<String> = (0..10).map(|i| format!("row {i}")).collect();
        draw_lines(&mut terminal, &text);
        terminal
            .backend_mut()
            .set_hyperlinks(&[link(0, 2, 3, "https://e.com/a")]);
        let out = String::from_utf8(draw_lines(&mut terminal, &text)).unwrap();
        assert!(
            out.contains("\x1b]8;;https://e.com/a\x1b\\") && out.contains("row\x1b]8;;\x1b\\"),
            "{out:?}"
        );
        // The same again costs nothing; another URL, or none, rewrites.
        assert!(draw_lines(&mut terminal, &text).is_empty());
        terminal
            .backend_mut()
            .set_hyperlinks(&[link(0, 2, 3, "https://e.com/b")]);
        let out = String::from_utf8(draw_lines(&mut terminal, &text)).unwrap();
        assert!(out.contains("\x1b]8;;https://e.com/b\x1b\\"), "{out:?}");
        terminal.backend_mut().set_hyperlinks(&[]);
        let out = String::from_utf8(draw_lines(&mut terminal, &text)).unwrap();
        assert!(out.contains("row") && !out.contains("\x1b]8;;h"), "{out:?}");
    }

    #[test]
    fn urls_cannot_end_the_sequence_early() {
        assert_eq!(
            osc8_url("https://e.com/a b\u{1b}\\\u{7}é"),
            Some("https://e.com/a%20b%1B\\%07%C3%A9".to_owned())
        );
        assert_eq!(osc8_url(""), None);
        assert_eq!(osc8_url(&"a".repeat(MAX_URL + 1)), None);
        assert!(osc8_url(&"a".repeat(MAX_URL)).is_some());
        let mut terminal = Terminal::new(WireBackend::new(Vec::new(), 40, 10)).unwrap();
        terminal
            .backend_mut()
            .set_hyperlinks(&[link(0, 0, 3, "x\u{1b}]0;pwned\u{7}\u{9c}")]);
        let out = String::from_utf8(draw_lines(&mut terminal, &["row".to_owned()])).unwrap();
        assert!(
            out.contains("\x1b]8;;x%1B]0;pwned%07%C2%9C\x1b\\"),
            "{out:?}"
        );
        assert!(!out.contains('\u{7}'), "{out:?}");
    }

    #[test]
    fn the_clipboard_gets_base64_in_osc_52() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"https://e.com"), "aHR0cHM6Ly9lLmNvbQ==");
        let mut backend = WireBackend::new(Vec::new(), 10, 4);
        backend.copy_to_clipboard("a\u{1b}b").unwrap();
        assert_eq!(
            String::from_utf8(backend.writer().clone()).unwrap(),
            "\x1b]52;c;YRti\x1b\\"
        );
    }
}
