//! The wire backend must stay exact: after any sequence of scrolls, jumps,
//! post changes and resizes, what a terminal emulator (vt100) shows equals
//! the frame ratatui intended. And it must be frugal: the bytes of one line
//! of scrolling stay small.

#[path = "../benches/support/corpus.rs"]
mod corpus;
#[path = "support/fixtures.rs"]
mod fixtures;

use std::fmt::Write as _;

use folio::action::Action;
use folio::app::App;
use folio::wire::{Extras, WireBackend, osc8_url};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

struct Screens {
    wire: Terminal<WireBackend<Vec<u8>>>,
    reference: Terminal<TestBackend>,
    vt: vt100::Parser,
    links: LinkTracker,
    last_bytes: usize,
    /// Every byte written, for checks on the sequences.
    all: Vec<u8>,
}

/// Follows the hyperlink of every cell through the backend's output, as a
/// terminal does (vt100 ignores OSC 8): the backend writes only CUP, SGR,
/// ED, DECSTBM, SU/SD, private modes and OSC 8 around text.
struct LinkTracker {
    cells: Vec<Vec<Option<String>>>,
    x: usize,
    y: usize,
    open: Option<String>,
    region: (usize, usize),
}

impl LinkTracker {
    fn new(w: u16, h: u16) -> LinkTracker {
        LinkTracker {
            cells: vec![vec![None; usize::from(w)]; usize::from(h)],
            x: 0,
            y: 0,
            open: None,
            region: (0, usize::from(h)),
        }
    }

    fn resize(&mut self, w: u16, h: u16) {
        *self = LinkTracker::new(w, h);
    }

    fn process(&mut self, bytes: &[u8]) {
        let text = std::str::from_utf8(bytes).expect("UTF-8");
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\r' {
                self.x = 0;
                continue;
            }
            if c == '\n' {
                self.y += 1;
                continue;
            }
            if c != '\u{1b}' {
                let w = folio::sanitize::display_width(c.encode_utf8(&mut [0; 4])).max(1);
                for i in 0..w {
                    if let Some(cell) = self
                        .cells
                        .get_mut(self.y)
                        .and_then(|r| r.get_mut(self.x + i))
                    {
                        cell.clone_from(&self.open);
                    }
                }
                self.x += w;
                continue;
            }
            match chars.next() {
                Some(']') => {
                    let mut body = String::new();
                    loop {
                        match chars.next() {
                            Some('\u{1b}') => {
                                assert_eq!(chars.next(), Some('\\'), "OSC ends with ST");
                                break;
                            }
                            Some(c) => body.push(c),
                            None => panic!("unterminated OSC"),
                        }
                    }
                    let url = body.strip_prefix("8;;").expect("only OSC 8 in frames");
                    self.open = (!url.is_empty()).then(|| url.to_owned());
                }
                Some('[') => {
                    let mut params = String::new();
                    let fin = loop {
                        let c = chars.next().expect("CSI ends");
                        if c.is_ascii_alphabetic() {
                            break c;
                        }
                        params.push(c);
                    };
                    let nums: Vec<usize> =
                        params.split(';').filter_map(|p| p.parse().ok()).collect();
                    let h = self.cells.len();
                    match (fin, params.as_str()) {
                        ('H', _) => {
                            self.y = nums.first().copied().unwrap_or(1) - 1;
                            self.x = nums.get(1).copied().unwrap_or(1) - 1;
                        }
                        ('C', _) => self.x += nums.first().copied().unwrap_or(1),
                        ('J', "2") => {
                            for row in &mut self.cells {
                                row.fill(None);
                            }
                        }
                        ('r', "") => self.region = (0, h),
                        ('r', _) => self.region = (nums[0] - 1, nums[1]),
                        ('S' | 'T', _) => {
                            let n = nums[0];
                            let (top, bottom) = self.region;
                            let width = self.cells[0].len();
                            let rows = &mut self.cells[top..bottom];
                            if fin == 'S' {
                                rows.rotate_left(n);
                                let len = rows.len();
                                rows[len - n..].fill(vec![None; width]);
                            } else {
                                rows.rotate_right(n);
                                rows[..n].fill(vec![None; width]);
                            }
                        }
                        _ => {}
                    }
                }
                other => panic!("unexpected escape {other:?}"),
            }
        }
    }
}

impl Screens {
    fn new(w: u16, h: u16) -> Screens {
        Screens {
            wire: Terminal::new(WireBackend::new(Vec::new(), w, h)).unwrap(),
            reference: Terminal::new(TestBackend::new(w, h)).unwrap(),
            vt: vt100::Parser::new(h, w, 0),
            links: LinkTracker::new(w, h),
            last_bytes: 0,
            all: Vec::new(),
        }
    }

    fn resize(&mut self, w: u16, h: u16) {
        self.wire.backend_mut().set_size(w, h);
        self.reference.backend_mut().resize(w, h);
        self.vt.screen_mut().set_size(h, w);
        self.links.resize(w, h);
    }

    fn draw(&mut self, app: &App) {
        self.wire
            .backend_mut()
            .set_hyperlinks(&folio::ui::hyperlinks(app));
        self.wire.draw(|f| folio::ui::draw(app, f)).unwrap();
        self.reference.draw(|f| folio::ui::draw(app, f)).unwrap();
        let bytes = std::mem::take(self.wire.backend_mut().writer_mut());
        self.last_bytes = bytes.len();
        self.vt.process(&bytes);
        self.links.process(&bytes);
        self.all.extend_from_slice(&bytes);
    }

    /// Fails unless every cell's hyperlink is the one the app asked for.
    fn assert_links(&self, app: &App, context: &str) {
        let mut want = self.links.cells.clone();
        for row in &mut want {
            row.fill(None);
        }
        for link in folio::ui::hyperlinks(app) {
            for x in link.x..link.x + link.width {
                want[usize::from(link.y)][usize::from(x)] = osc8_url(&link.url);
            }
        }
        for (y, (got, want)) in self.links.cells.iter().zip(&want).enumerate() {
            assert_eq!(got, want, "{context}: links of row {y}");
        }
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
                // A blank shows its background only, unless it is
                // underlined or reversed: the backend may leave another
                // colour or weight in effect there.
                let glyph = want_sym != " "
                    || want.modifier.contains(Modifier::UNDERLINED)
                    || want.modifier.contains(Modifier::REVERSED)
                    || got.underline()
                    || got.inverse();
                let ok = want_sym == got_sym
                    && (!glyph
                        || (color(want.fg) == got.fgcolor()
                            && want.modifier.contains(Modifier::BOLD) == got.bold()
                            && want.modifier.contains(Modifier::ITALIC) == got.italic()))
                    && color(want.bg) == got.bgcolor()
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
    let mut app = fixtures::app_for(dir.path(), 100, 30);
    let mut screens = Screens::new(100, 30);
    screens.draw(&app);
    screens.assert_same("first frame");
    let walk = Walk {
        keys: &keys,
        sizes: &[(100, 30), (80, 24), (120, 40), (60, 20), (100, 30)],
        resize_one_in: 23,
        seed: 0x9e37_79b9_7f4a_7c15,
        steps: 400,
    };
    walk.run(&mut app, &mut screens, |screens, _, context| {
        screens.assert_same(context);
    });
}

/// A reproducible random session: keys, and now and then a resize.
struct Walk<'a> {
    keys: &'a [&'a str],
    sizes: &'a [(u16, u16)],
    /// About one step in this many is a resize.
    resize_one_in: u64,
    seed: u64,
    steps: usize,
}

impl Walk<'_> {
    /// Takes the steps, drawing after each and handing `check` what was
    /// done so far.
    fn run(&self, app: &mut App, screens: &mut Screens, check: impl Fn(&Screens, &App, &str)) {
        // xorshift64: the same session on every run.
        let mut seed = self.seed;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut log = Vec::new();
        for step in 0..self.steps {
            let r = next();
            if r % self.resize_one_in == 0 {
                let (w, h) = self.sizes[(r / self.resize_one_in) as usize % self.sizes.len()];
                app.update(Action::Resize(w, h));
                screens.resize(w, h);
                log.push(format!("resize {w}x{h}"));
            } else {
                let k = self.keys[(r % self.keys.len() as u64) as usize];
                fixtures::press(app, k);
                log.push(k.to_owned());
            }
            screens.draw(app);
            let context = format!("step {step} after {}", log.join(" "));
            check(screens, app, &context);
        }
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

/// The bytes of each one-line step in the reader at 100×30 beside a list
/// of 40 real-looking titles, in 256 colours, the median and the most,
/// on a terminal with or without left/right margins. Without them every
/// frame is checked against vt100 (which has none; `wire`'s own tests
/// replay the margin scrolls).
fn real_scroll_bytes(margins: bool) -> (usize, usize) {
    let dir = tempfile::tempdir().unwrap();
    corpus::real_blog(dir.path(), 30_000);
    // At 256 colours, as a terminal says through TERM (tmux's does).
    let theme = folio::theme::Theme::default().for_depth(folio::color::Depth::Ansi256);
    let mut app = App::new(
        folio::posts::scan(dir.path()).unwrap(),
        theme,
        folio::keymap::Keymap::default(),
        folio::app::Options::default(),
    );
    app.update(Action::Resize(100, 30));
    folio::work::settle(&mut app);
    fixtures::press(&mut app, "<Enter>jjjj");
    let mut screens = Screens::new(100, 30);
    screens.wire.backend_mut().set_margins(margins);
    screens.draw(&app);
    let mut steps = Vec::new();
    for keys in ["j", "j", "k", "j", "j", "j", "k"] {
        fixtures::press(&mut app, keys);
        screens.draw(&app);
        if !margins {
            screens.assert_same(keys);
        }
        steps.push(screens.last_bytes);
        if std::env::var_os("WIRE_DUMP").is_some() {
            let n = screens.all.len();
            eprintln!(
                "{keys}: {:?}",
                String::from_utf8_lossy(&screens.all[n - screens.last_bytes..])
            );
        }
    }
    steps.sort_unstable();
    (steps[steps.len() / 2], steps[steps.len() - 1])
}

#[test]
fn one_line_beside_real_titles_is_cheap_and_cheaper_with_margins() {
    let (median, most) = real_scroll_bytes(false);
    let (median_lr, most_lr) = real_scroll_bytes(true);
    eprintln!(
        "one line at 100x30 beside 40 real titles: median {median} B, most {most} B; \
         with left/right margins: median {median_lr} B, most {most_lr} B"
    );
    // Before minimal SGR changes: 2,557 B in tmux. Without margins the
    // list beside the reader is repainted, and its text alone is ~1 KB.
    assert!(most < 2000, "{most} bytes");
    assert!(most_lr < 300, "{most_lr} bytes with margins");
}

/// Posts with links to the web, long enough to scroll.
fn linked_blog() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("---\ntitle: Links\ndate: 2025-03-01\n---\n\n# Links\n\n");
    for i in 0..60 {
        let _ = write!(
            text,
            "Line {i} has [a link number {i} that wraps over lines](https://example.com/{i}) \
             and [a post link](other.md) and <https://example.org/x{}>.\n\n\
             [The same link on every line, long enough to wrap onto a second line of the reader at most widths](https://example.com/same)\n\n",
            i % 3
        );
    }
    std::fs::write(dir.path().join("links.md"), text).unwrap();
    std::fs::write(
        dir.path().join("other.md"),
        "---\ntitle: Other\ndate: 2025-01-01\n---\n\nSame text, [no link](other.md).\n",
    )
    .unwrap();
    dir
}

#[test]
fn hyperlinks_stay_exact_through_scrolls_jumps_and_resizes() {
    let dir = linked_blog();
    let keys = [
        "j", "j", "k", "d", "u", "<C-f>", "b", "G", "g", "J", "K", "<Tab>", "z", "5j", "?", "?",
        "F", "<Esc>",
    ];
    let mut app = fixtures::app_for(dir.path(), 100, 30);
    fixtures::press(&mut app, "<Enter>");
    let mut screens = Screens::new(100, 30);
    screens.draw(&app);
    screens.assert_same("first frame");
    screens.assert_links(&app, "first frame");
    let walk = Walk {
        keys: &keys,
        sizes: &[(100, 30), (80, 24), (120, 40), (60, 20)],
        resize_one_in: 19,
        seed: 0x2545_f491_4f6c_dd1d,
        steps: 200,
    };
    walk.run(&mut app, &mut screens, |screens, app, context| {
        screens.assert_same(context);
        screens.assert_links(app, context);
    });
    let all = String::from_utf8(screens.all).unwrap();
    // Well-formed OSC 8 around the link's text, and only web links.
    let open = "\x1b]8;;https://example.com/1\x1b\\";
    let at = all.find(open).expect("a hyperlink in the output");
    let after = strip_csi(&all[at + open.len()..]);
    assert!(after.starts_with("a link number 1"), "{after:?}");
    assert!(all.contains("\x1b]8;;\x1b\\"));
    assert!(
        !all.contains("\x1b]8;;other.md"),
        "post links are folio's own"
    );
}

#[test]
fn hyperlinks_cost_nothing_when_turned_off() {
    let dir = linked_blog();
    let posts = folio::posts::scan(dir.path()).unwrap();
    let options = folio::app::Options {
        hyperlinks: false,
        ..folio::app::Options::default()
    };
    let mut app = App::new(
        posts,
        folio::theme::Theme::default(),
        folio::keymap::Keymap::default(),
        options,
    );
    app.update(Action::Resize(100, 30));
    folio::work::settle(&mut app);
    fixtures::press(&mut app, "<Enter>");
    assert!(folio::ui::hyperlinks(&app).is_empty());
    let mut screens = Screens::new(100, 30);
    screens.draw(&app);
    let all = String::from_utf8(screens.all).unwrap();
    assert!(!all.contains("\x1b]8"), "{all:?}");
}

/// `s` without its CSI sequences (SGR, cursor moves).
fn strip_csi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.clone().next() == Some('[') {
            chars.next();
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A post with a colourful picture between paragraphs, long enough to
/// scroll the picture off and back.
fn pictured_blog() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("---\ntitle: Pictured\ndate: 2025-03-01\n---\n\n# Pictured\n\n");
    for i in 0..8 {
        let _ = write!(text, "Paragraph {i} before the picture.\n\n");
    }
    text.push_str("![a gradient](img/gradient.png)\n\n");
    for i in 0..40 {
        let _ = write!(text, "Paragraph {i} after the picture.\n\n");
    }
    std::fs::create_dir_all(dir.path().join("img")).unwrap();
    std::fs::write(dir.path().join("pictured.md"), text).unwrap();
    // Every pixel differs from its neighbours: a fragment left behind shows.
    image::RgbImage::from_fn(64, 32, |x, y| {
        image::Rgb([(x * 4) as u8, (y * 8) as u8, ((x + y) * 3) as u8])
    })
    .save(dir.path().join("img/gradient.png"))
    .unwrap();
    dir
}

#[test]
fn a_picture_scrolled_off_and_back_leaves_no_fragments() {
    let dir = pictured_blog();
    let mut app = fixtures::app_for(dir.path(), 100, 30);
    fixtures::press(&mut app, "<Enter>");
    let mut screens = Screens::new(100, 30);
    screens.draw(&app);
    screens.assert_same("first frame");
    assert!(
        screens.vt.screen().contents().contains('▀'),
        "the picture shows:\n{}",
        screens.vt.screen().contents()
    );
    // Line by line through the picture and back, then in jumps.
    let mut most = 0;
    for (i, key) in std::iter::repeat_n("j", 30)
        .chain(std::iter::repeat_n("k", 30))
        .chain(["d", "d", "u", "u", "G", "g", "<C-f>", "b"])
        .enumerate()
    {
        fixtures::press(&mut app, key);
        screens.draw(&app);
        screens.assert_same(&format!("step {i} ({key})"));
        if i < 60 {
            most = most.max(screens.last_bytes);
        }
    }
    // For the note: the most a one-line scroll past the picture wrote.
    eprintln!("one-line scroll past a picture: at most {most} bytes");
    let walk = Walk {
        keys: &["j", "k", "d", "u", "J", "K", "G", "g", "z", "<Tab>"],
        sizes: &[(100, 30), (80, 24), (120, 40), (60, 20)],
        resize_one_in: 7,
        seed: 0x9e37_79b9_7f4a_7c15,
        steps: 120,
    };
    walk.run(&mut app, &mut screens, |screens, _, context| {
        screens.assert_same(context);
    });
}
