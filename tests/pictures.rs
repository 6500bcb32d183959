//! Pictures in posts, through `App` and `TestBackend`: the picture's colours
//! in the right cells, missing and broken pictures as alt text, the
//! `images` setting.

#[path = "support/fixtures.rs"]
mod fixtures;

use std::path::Path;

use fixtures::{press, render, screen};
use folio::app::{App, Options};
use folio::color::Depth;
use folio::keymap::Keymap;
use folio::picture::{Images, rows_for};
use folio::theme::Theme;
use ratatui::style::Color;

const RED: [u8; 3] = [250, 10, 10];
const BLUE: [u8; 3] = [10, 10, 250];

/// A PNG `w`×`h`, its upper half red and its lower half blue.
fn red_over_blue(path: &Path, w: u32, h: u32) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let img = image::RgbImage::from_fn(w, h, |_, y| image::Rgb(if y < h / 2 { RED } else { BLUE }));
    img.save(path).unwrap();
}

fn blog(body: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("hello")).unwrap();
    std::fs::write(
        dir.path().join("hello/index.md"),
        format!("---\ntitle: Hello\n---\n\n{body}\n\nAfter the picture.\n"),
    )
    .unwrap();
    dir
}

fn app(dir: &Path, depth: Depth, images: Images) -> App {
    let posts = folio::posts::scan(dir).unwrap();
    let options = Options {
        images,
        ..Options::default()
    };
    let mut app = App::new(
        posts,
        Theme::default().for_depth(depth),
        Keymap::default(),
        options,
    );
    app.update(folio::action::Action::Resize(100, 80));
    folio::work::settle(&mut app);
    // Into the post, where pictures are asked for.
    press(&mut app, "<Enter>");
    app
}

/// The screen row of the reader showing text `what`.
fn row_of(app: &App, what: &str) -> u16 {
    let text = app.panes().text;
    let buf = render(app);
    (text.y..text.bottom())
        .find(|&y| {
            let line: String = (text.x..text.right())
                .map(|x| buf[(x, y)].symbol())
                .collect();
            line.contains(what)
        })
        .unwrap_or_else(|| panic!("{what:?} not in the reader:\n{}", screen(app)))
}

/// `png` with its header saying `w`×`h` pixels (checksum fixed).
fn claim_size(png: &mut [u8], w: u32, h: u32) {
    png[16..20].copy_from_slice(&w.to_be_bytes());
    png[20..24].copy_from_slice(&h.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn a_picture_shows_its_colours_in_half_blocks_under_its_alt_text() {
    let dir = blog("![red over blue](img/rb.png)");
    red_over_blue(&dir.path().join("hello/img/rb.png"), 40, 20);
    let app = app(dir.path(), Depth::TrueColor, Images::Auto);
    let alt = row_of(&app, "[image: red over blue]");
    let after = row_of(&app, "After the picture.");
    let rows = rows_for(app.panes().text.width);
    // The rows kept for it, then the blank line before the next paragraph.
    assert_eq!(after, alt + rows + 2);
    let buf = render(&app);
    let x0 = app.panes().text.x;
    let width = app.panes().text.width;
    // 40×20 fitted into width × 2·rows pixels: its height fills the rows;
    // centred across.
    let cells: Vec<_> = (x0..x0 + width)
        .map(|x| &buf[(x, alt + 1)])
        .filter(|c| c.symbol() == "▀")
        .collect();
    assert!(!cells.is_empty(), "{}", screen(&app));
    let red = Color::Rgb(RED[0], RED[1], RED[2]);
    let blue = Color::Rgb(BLUE[0], BLUE[1], BLUE[2]);
    for c in &cells {
        assert_eq!((c.fg, c.bg), (red, red), "the top row is red");
    }
    let bottom: Vec<_> = (x0..x0 + width)
        .map(|x| &buf[(x, alt + rows)])
        .filter(|c| c.symbol() == "▀")
        .collect();
    assert_eq!(
        bottom.len(),
        cells.len(),
        "the picture is as wide at the bottom"
    );
    for c in &bottom {
        assert_eq!((c.fg, c.bg), (blue, blue), "the bottom row is blue");
    }
    // The picture is twice as wide as tall: 2·rows pixels tall, 4·rows wide.
    assert_eq!(cells.len(), usize::from(rows) * 4);
}

#[test]
fn in_256_colours_the_picture_takes_the_palette() {
    let dir = blog("![red over blue](img/rb.png)");
    red_over_blue(&dir.path().join("hello/img/rb.png"), 40, 20);
    let app = app(dir.path(), Depth::Ansi256, Images::Auto);
    let alt = row_of(&app, "[image: red over blue]");
    let buf = render(&app);
    let top = (0..buf.area.width)
        .map(|x| &buf[(x, alt + 1)])
        .find(|c| c.symbol() == "▀")
        .expect("a half block");
    assert!(
        matches!(top.fg, Color::Indexed(i) if i >= 16),
        "{:?}",
        top.fg
    );
}

#[test]
fn missing_broken_and_escaping_pictures_say_why_and_folio_keeps_working() {
    let dir = blog(
        "![gone](img/none.png)\n\n![bad](img/bad.png)\n\n![out](../../secret.png)\n\n![far](https://example.com/x.png)",
    );
    std::fs::create_dir_all(dir.path().join("hello/img")).unwrap();
    std::fs::write(
        dir.path().join("hello/img/bad.png"),
        b"\x89PNG\r\n\x1a\nbroken",
    )
    .unwrap();
    let mut app = app(dir.path(), Depth::TrueColor, Images::Auto);
    let s = screen(&app);
    assert!(s.contains("[image: gone]"), "{s}");
    assert!(s.contains("⚠ picture not found"), "{s}");
    assert!(s.contains("[image: bad]"), "{s}");
    assert!(s.contains("⚠ broken picture"), "{s}");
    // Out of the folder: refused, nothing read.
    assert!(s.contains("[image: out]"), "{s}");
    assert!(s.contains("⚠ picture outside the folder"), "{s}");
    // URLs: alt text only, no rows kept (nothing is fetched).
    let far = row_of(&app, "[image: far]");
    assert_eq!(row_of(&app, "After the picture."), far + 2);
    assert!(!s.contains('▀'));
    // Keys still work.
    press(&mut app, "G");
    assert!(screen(&app).contains("After the picture."));
}

#[test]
fn pictures_off_or_without_colour_leave_the_alt_text_line() {
    let dir = blog("![red over blue](img/rb.png)");
    red_over_blue(&dir.path().join("hello/img/rb.png"), 40, 20);
    for (depth, images) in [
        (Depth::TrueColor, Images::Off),
        (Depth::None, Images::Auto),
        (Depth::None, Images::Halfblocks),
    ] {
        let app = app(dir.path(), depth, images);
        let alt = row_of(&app, "[image: red over blue]");
        assert_eq!(
            row_of(&app, "After the picture."),
            alt + 2,
            "{depth:?} {images:?}"
        );
        assert!(!screen(&app).contains('▀'));
    }
}

#[test]
fn a_huge_picture_is_refused_from_its_header() {
    let dir = blog("![huge](img/huge.png)");
    let path = dir.path().join("hello/img/huge.png");
    red_over_blue(&path, 2, 2);
    // The header says 60,000 × 60,000 pixels (3.6 gigapixels).
    let mut bytes = std::fs::read(&path).unwrap();
    claim_size(&mut bytes, 60_000, 60_000);
    std::fs::write(&path, bytes).unwrap();
    let app = app(dir.path(), Depth::TrueColor, Images::Auto);
    let s = screen(&app);
    assert!(
        s.contains("⚠ picture too large (60000×60000 pixels)"),
        "{s}"
    );
}

/// A session on `dir`'s post, its terminal forced to `images` (a protocol),
/// its work done inline; the post opened. What it wrote so far is taken.
fn protocol_session(dir: &Path, images: Images) -> folio::session::Session<Vec<u8>> {
    use folio::session::{NoHost, Session};
    use folio::work::Inline;
    let posts = folio::posts::scan(dir).unwrap();
    let options = Options {
        images,
        ..Options::default()
    };
    let app = App::new(
        posts,
        Theme::default().for_depth(Depth::TrueColor),
        Keymap::default(),
        options,
    );
    let mut s = Session::new(app, Vec::new(), (100, 30), None).unwrap();
    s.ask_graphics(folio::graphics::Hint::default());
    let now = std::time::Instant::now();
    s.start(now, &mut Inline::default(), &mut NoHost).unwrap();
    // Into the post; what is written stays for the test to take.
    s.input(b"\r", now);
    s.step(&mut Inline::default(), &mut NoHost).unwrap();
    s.frame(false).unwrap();
    s
}

/// `bytes` typed, then a frame: what the session wrote for it.
fn keys(s: &mut folio::session::Session<Vec<u8>>, bytes: &[u8]) -> String {
    use folio::session::NoHost;
    use folio::work::Inline;
    s.input(bytes, std::time::Instant::now());
    s.step(&mut Inline::default(), &mut NoHost).unwrap();
    s.frame(false).unwrap();
    String::from_utf8(std::mem::take(s.writer_mut())).unwrap()
}

fn long_body() -> String {
    let mut body = String::from("![red over blue](img/rb.png)\n\n");
    for i in 0..80 {
        body += &["Paragraph ", &i.to_string(), " after the picture.\n\n"].concat();
    }
    body
}

#[test]
fn a_kitty_picture_scrolled_off_and_back_is_removed_and_placed_again() {
    let dir = blog(&long_body());
    red_over_blue(&dir.path().join("hello/img/rb.png"), 40, 20);
    let mut s = protocol_session(dir.path(), Images::Kitty);
    // The picture arrives (decoded inline) and is sent once, in chunks.
    let all = keys(&mut s, b"");
    assert!(all.contains("\x1b_Ga=T,f=100"), "{all:?}");
    // To the end: the placement is removed.
    let end = keys(&mut s, b"G");
    assert!(end.contains("\x1b_Ga=d,d=i,i=1,q=2\x1b\\"), "{end:?}");
    assert!(!end.contains("a=p") && !end.contains("a=T"));
    // Back to the top: placed again by id, not sent again.
    let back = keys(&mut s, b"g");
    assert!(back.contains("\x1b_Ga=p,i=1,"), "{back:?}");
    assert!(!back.contains("a=T"));
}

#[test]
fn a_sixel_picture_partly_on_screen_is_half_blocks_and_wholly_on_screen_sixel() {
    let dir = blog(&long_body());
    red_over_blue(&dir.path().join("hello/img/rb.png"), 40, 20);
    let mut s = protocol_session(dir.path(), Images::Sixel);
    let shown = keys(&mut s, b"");
    assert!(shown.contains("\x1bP0;1;0q"), "{shown:?}");
    // A line down, wholly on screen still: drawn again a row up. Further
    // down, once its top rows are off screen: half blocks for the rest,
    // no sixel.
    let step = keys(&mut s, b"j");
    assert!(step.contains("\x1bP0;1;0q"), "{step:?}");
    let partly = (0..40)
        .map(|_| keys(&mut s, b"j"))
        .find(|out| out.contains('▀'))
        .expect("half blocks once partly off screen");
    assert!(!partly.contains("\x1bP"), "{partly:?}");
}
