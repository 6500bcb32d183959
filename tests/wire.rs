//! The wire backend must stay exact: after any sequence of scrolls, jumps,
//! post changes and resizes, what a terminal emulator (vt100) shows equals
//! the frame ratatui intended. And it must be frugal: the bytes of one line
//! of scrolling stay small.

#[path = "support/fixtures.rs"]
mod fixtures;

use folio::action::Action;
use folio::app::App;
use folio::wire::WireBackend;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

struct Screens {
    wire: Terminal<WireBackend<Vec<u8>>>,
    reference: Terminal<TestBackend>,
    vt: vt100::Parser,
    last_bytes: usize,
}

impl Screens {
    fn new(w: u16, h: u16) -> Screens {
        Screens {
            wire: Terminal::new(WireBackend::new(Vec::new(), w, h)).unwrap(),
            reference: Terminal::new(TestBackend::new(w, h)).unwrap(),
            vt: vt100::Parser::new(h, w, 0),
            last_bytes: 0,
        }
    }

    fn resize(&mut self, w: u16, h: u16) {
        self.wire.backend_mut().set_size(w, h);
        self.reference.backend_mut().resize(w, h);
        self.vt.screen_mut().set_size(h, w);
    }

    fn draw(&mut self, app: &App) {
        self.wire.draw(|f| folio::ui::draw(app, f)).unwrap();
        self.reference.draw(|f| folio::ui::draw(app, f)).unwrap();
        let bytes = std::mem::take(self.wire.backend_mut().writer_mut());
        self.last_bytes = bytes.len();
        self.vt.process(&bytes);
    }

    /// Fails with the first cell where the emulated screen differs.
    fn assert_same(&self, context: &str) {
        let buf: &Buffer = self.reference.backend().buffer();
        let screen = self.vt.screen();
        for y in 0..buf.area.height {
            for x in 0..buf.area.width {
                let want = &buf[(x, y)];
                let got = screen.cell(y, x).expect("cell in range");
                if got.is_wide_continuation() {
                    continue;
                }
                let want_sym = if want.symbol().is_empty() {
                    " "
                } else {
                    want.symbol()
                };
                let got_sym = if got.contents().is_empty() {
                    " "
                } else {
                    got.contents()
                };
                let ok = want_sym == got_sym
                    && color(want.fg) == got.fgcolor()
                    && color(want.bg) == got.bgcolor()
                    && want.modifier.contains(Modifier::BOLD) == got.bold()
                    && want.modifier.contains(Modifier::ITALIC) == got.italic()
                    && want.modifier.contains(Modifier::UNDERLINED) == got.underline()
                    && want.modifier.contains(Modifier::REVERSED) == got.inverse();
                assert!(
                    ok,
                    "{context}: cell ({x},{y}) is {got_sym:?} {:?}/{:?}, want {want_sym:?} {:?}/{:?}\nscreen:\n{}",
                    got.fgcolor(),
                    got.bgcolor(),
                    want.fg,
                    want.bg,
                    screen.contents()
                );
            }
        }
    }
}

fn color(c: Color) -> vt100::Color {
    match c {
        Color::Reset => vt100::Color::Default,
        Color::Black => vt100::Color::Idx(0),
        Color::Red => vt100::Color::Idx(1),
        Color::Green => vt100::Color::Idx(2),
        Color::Yellow => vt100::Color::Idx(3),
        Color::Blue => vt100::Color::Idx(4),
        Color::Magenta => vt100::Color::Idx(5),
        Color::Cyan => vt100::Color::Idx(6),
        Color::Gray => vt100::Color::Idx(7),
        Color::DarkGray => vt100::Color::Idx(8),
        Color::LightRed => vt100::Color::Idx(9),
        Color::LightGreen => vt100::Color::Idx(10),
        Color::LightYellow => vt100::Color::Idx(11),
        Color::LightBlue => vt100::Color::Idx(12),
        Color::LightMagenta => vt100::Color::Idx(13),
        Color::LightCyan => vt100::Color::Idx(14),
        Color::White => vt100::Color::Idx(15),
        Color::Indexed(i) => vt100::Color::Idx(i),
        Color::Rgb(r, g, b) => vt100::Color::Rgb(r, g, b),
    }
}

#[test]
fn random_sessions_leave_the_emulated_screen_exact() {
    let dir = fixtures::blog();
    // Keys that scroll, jump, switch posts and panes, open overlays.
    let keys = [
        "j", "k", "j", "j", "d", "u", "<C-f>", "b", "G", "g", "]", "[", "J", "K", "<Tab>", "z",
        "o", "<Esc>", "<Enter>", "5j", "3k", "?", "?",
    ];
    let sizes = [(100, 30), (80, 24), (120, 40), (60, 20), (100, 30)];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut app = fixtures::app_for(dir.path(), 100, 30);
    let mut screens = Screens::new(100, 30);
    screens.draw(&app);
    screens.assert_same("first frame");
    let mut log = Vec::new();
    for step in 0..400 {
        let r = next();
        if r % 23 == 0 {
            let (w, h) = sizes[(r / 23) as usize % sizes.len()];
            app.update(Action::Resize(w, h));
            screens.resize(w, h);
            log.push(format!("resize {w}x{h}"));
        } else {
            let k = keys[(r % keys.len() as u64) as usize];
            fixtures::press(&mut app, k);
            log.push(k.to_owned());
        }
        screens.draw(&app);
        screens.assert_same(&format!("step {step} after {}", log.join(" ")));
    }
}

/// The most bytes any of `steps` costs in the reader at 100×30, each
/// checked against the emulated screen.
fn scroll_bytes(hide_list: bool, steps: &[&str]) -> usize {
    let dir = fixtures::blog();
    let mut app = fixtures::app_for(dir.path(), 100, 30);
    fixtures::press(&mut app, if hide_list { "z" } else { "<Enter>" });
    fixtures::press(&mut app, "jjjj");
    let mut screens = Screens::new(100, 30);
    screens.draw(&app);
    let mut worst = 0;
    for &keys in steps {
        fixtures::press(&mut app, keys);
        screens.draw(&app);
        screens.assert_same(keys);
        worst = worst.max(screens.last_bytes);
    }
    worst
}

#[test]
fn one_line_of_scrolling_is_cheap() {
    let lines = ["j", "j", "k", "j"];
    let two_panes = scroll_bytes(false, &lines);
    let reader_only = scroll_bytes(true, &lines);
    let pages = ["<PageDown>", "<PageUp>", "<PageDown>"];
    let page_two = scroll_bytes(false, &pages);
    let page_one = scroll_bytes(true, &pages);
    // `cargo test --test wire -- --nocapture` shows the figures.
    eprintln!(
        "bytes at 100x30: one line {two_panes} (list shown) / {reader_only} (list hidden); \
         one page {page_two} / {page_one}"
    );
    assert!(two_panes < 1500, "{two_panes} bytes with the list shown");
    assert!(
        reader_only < 300,
        "{reader_only} bytes with the list hidden"
    );
}
