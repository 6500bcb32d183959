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
use folio::picture::{Images, rows_for_size};
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
    let options = Options {
        images,
        ..Options::default()
    };
    app_with(dir, depth, options)
}

/// The app on `dir`'s posts with `options`, at 100×80, in the post.
fn app_with(dir: &Path, depth: Depth, options: Options) -> App {
    let posts = folio::posts::scan(dir).unwrap();
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
    // Its rows keep its aspect: 40 columns of 40×20 pixels, two a row.
    let rows = rows_for_size(app.panes().text.width, 40, 20);
    assert_eq!(rows, 10);
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

/// The red-over-blue cells the reader shows in screen row `y`.
fn red_cells(app: &App, y: u16) -> usize {
    let buf = render(app);
    let red = Color::Rgb(RED[0], RED[1], RED[2]);
    (0..buf.area.width)
        .filter(|&x| buf[(x, y)].symbol() == "▀" && buf[(x, y)].fg == red)
        .count()
}

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Pictures named from the site's root, each alone on its line: one in the
/// static folder, one climbing out of it, one a link inside it leading
/// out, one at the site's root but not in its static folder.
const SITE_POST: &str = "---\ntitle: Hello\n---\n\n![served](/images/rb.png)\n\n![climb](/images/../../secret.png)\n\n![linked](/images/out.png)\n\n![rooted](/rb.png)\n\nAfter the picture.\n";

fn site_pictures(site: &Path, open: &Path, post: &str, statics: &str) {
    write(site, post, SITE_POST);
    red_over_blue(&site.join(statics).join("images/rb.png"), 40, 20);
    red_over_blue(&site.join("secret.png"), 40, 20);
    red_over_blue(&site.join("rb.png"), 40, 20);
    std::os::unix::fs::symlink(
        site.join("secret.png"),
        site.join(statics).join("images/out.png"),
    )
    .unwrap();
    let app = app(open, Depth::TrueColor, Images::Auto);
    let s = screen(&app);
    let served = row_of(&app, "[image: served]");
    assert!(red_cells(&app, served + 1) > 0, "{s}");
    // Only the one picture is drawn: the others say why not.
    let drawn = (0..render(&app).area.height)
        .filter(|&y| red_cells(&app, y) > 0)
        .count();
    assert_eq!(
        drawn,
        usize::from(rows_for_size(app.panes().text.width, 40, 20)) / 2
    );
    assert!(
        s.contains("⚠ picture outside the site's static folder"),
        "{s}"
    );
    assert!(s.contains("⚠ picture outside the folder"), "{s}");
    assert!(s.contains("⚠ picture not found"), "{s}");
    let climb = row_of(&app, "[image: climb]");
    assert!(
        s.lines()
            .nth(usize::from(climb) + 1)
            .unwrap()
            .contains("static folder")
    );
}

#[test]
fn a_hugo_sites_pictures_come_from_its_static_folder() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path();
    write(site, "hugo.toml", "baseURL = 'https://example.org/'\n");
    site_pictures(site, site, "content/posts/hello.md", "static");
}

#[test]
fn an_astro_sites_pictures_come_from_public_also_when_its_posts_folder_is_opened() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path();
    write(site, "astro.config.mjs", "export default {};\n");
    write(site, "package.json", "{}\n");
    site_pictures(
        site,
        &site.join("src/content/blog"),
        "src/content/blog/hello.md",
        "public",
    );
}

#[test]
fn outside_a_site_a_path_from_the_root_says_so() {
    let dir = blog("![rooted](/images/rb.png)");
    let app = app(dir.path(), Depth::TrueColor, Images::Auto);
    let s = screen(&app);
    assert!(s.contains("⚠ no site folder"), "{s}");
}

/// Does the work the app asks for, but keeps its pictures undecoded.
#[derive(Default)]
struct NoPictures {
    inline: folio::work::Inline,
    pictures: Vec<folio::picture::PictureJob>,
}

impl folio::work::Executor for NoPictures {
    fn submit(&mut self, work: folio::work::Work) {
        match work {
            folio::work::Work::Picture(job) => self.pictures.push(job),
            other => self.inline.submit(other),
        }
    }
    fn ready(&mut self) -> Option<folio::action::Report> {
        self.inline.ready()
    }
}

#[test]
fn a_picture_takes_rows_to_its_shape_and_nothing_moves_when_it_arrives() {
    let dir = blog("![tall](img/tall.png)\n\nBetween.\n\n![wide](img/wide.png)");
    red_over_blue(&dir.path().join("hello/img/tall.png"), 20, 80);
    red_over_blue(&dir.path().join("hello/img/wide.png"), 80, 20);
    let posts = folio::posts::scan(dir.path()).unwrap();
    let mut app = App::new(
        posts,
        Theme::default().for_depth(Depth::TrueColor),
        Keymap::default(),
        Options::default(),
    );
    app.update(folio::action::Action::Resize(100, 80));
    let mut exec = NoPictures::default();
    let run = |app: &mut App, exec: &mut NoPictures| {
        loop {
            folio::work::submit_pending(app, exec);
            let Some(report) = folio::work::Executor::ready(exec) else {
                break;
            };
            app.report(report);
        }
    };
    run(&mut app, &mut exec);
    app.key(folio::keymap::Key::new(folio::keymap::KeyCode::Enter));
    run(&mut app, &mut exec);
    let width = app.panes().text.width;
    let where_ = |app: &App| {
        [
            "[image: tall]",
            "Between.",
            "[image: wide]",
            "After the picture.",
        ]
        .map(|t| row_of(app, t))
    };
    let before = where_(&app);
    let tall = rows_for_size(width, 20, 80);
    let wide = rows_for_size(width, 80, 20);
    assert!(tall > wide, "{tall} {wide}");
    // Each alt line, its rows, a blank line.
    assert_eq!(before[1], before[0] + tall + 2);
    assert_eq!(before[3], before[2] + wide + 2);
    assert_eq!(exec.pictures.len(), 2);
    assert_eq!(red_cells(&app, before[0] + 1), 0, "not decoded yet");
    for job in std::mem::take(&mut exec.pictures) {
        app.report(folio::work::decode_picture(&job));
    }
    assert_eq!(where_(&app), before);
    assert!(red_cells(&app, before[0] + 1) > 0, "{}", screen(&app));
    assert!(red_cells(&app, before[2] + 1) > 0, "{}", screen(&app));
}

/// A tiny HTTP server on 127.0.0.1: `/rb.png` a picture, `/big.png` more
/// bytes than folio takes, `/slow.png` never an answer. Stopped (the port
/// closed) by [`Server::stop`].
struct Server {
    port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    fn start(png: Vec<u8>) -> Server {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = std::sync::Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(std::sync::atomic::Ordering::SeqCst) {
                    return;
                }
                let Ok(mut stream) = stream else { continue };
                let png = png.clone();
                std::thread::spawn(move || {
                    let mut request = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buf) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    let request = String::from_utf8_lossy(&request);
                    if request.starts_with("GET /rb.png ") {
                        let head = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            png.len()
                        );
                        let _ = stream.write_all(head.as_bytes());
                        let _ = stream.write_all(&png);
                    } else if request.starts_with("GET /big.png ") {
                        let _ = stream.write_all(
                            b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nConnection: close\r\n\r\n",
                        );
                        let chunk = vec![0u8; 1 << 20];
                        for _ in 0..=(folio::picture::MAX_FILE_BYTES >> 20) + 1 {
                            if stream.write_all(&chunk).is_err() {
                                return;
                            }
                        }
                    } else if request.starts_with("GET /slow.png ") {
                        // Holds the connection, says nothing.
                        std::thread::sleep(std::time::Duration::from_secs(30));
                    }
                });
            }
        });
        Server {
            port,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/{path}", self.port)
    }

    fn stop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

fn remote_app(dir: &Path, cache: &Path) -> App {
    let options = Options {
        sources: folio::picture::Sources {
            remote: Some(cache.to_path_buf()),
        },
        ..Options::default()
    };
    app_with(dir, Depth::TrueColor, options)
}

#[test]
fn remote_pictures_when_turned_on_are_fetched_bounded_and_kept() {
    let png = {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("rb.png");
        red_over_blue(&path, 40, 20);
        std::fs::read(path).unwrap()
    };
    let mut server = Server::start(png);
    let cache = tempfile::tempdir().unwrap();
    let dir = blog(&format!(
        "![far](<{}>)\n\n![big](<{}>)\n\n![slow](<{}>)",
        server.url("rb.png"),
        server.url("big.png"),
        server.url("slow.png")
    ));
    // Off (the default): alt text only, nothing asked of the server.
    let off = app(dir.path(), Depth::TrueColor, Images::Auto);
    let far = row_of(&off, "[image: far]");
    assert_eq!(row_of(&off, "[image: big]"), far + 2);
    assert_eq!(
        std::fs::read_dir(cache.path()).map_or(0, Iterator::count),
        0
    );

    let app = remote_app(dir.path(), cache.path());
    let s = screen(&app);
    let far = row_of(&app, "[image: far]");
    assert!(red_cells(&app, far + 1) > 0, "{s}");
    assert!(s.contains("⚠ picture too big (over 20 MB)"), "{s}");
    assert!(
        s.contains("⚠ picture not fetched: no answer in time"),
        "{s}"
    );
    // Not known before it was fetched: the usual rows.
    let width = app.panes().text.width;
    assert_eq!(
        row_of(&app, "[image: big]"),
        far + folio::picture::rows_for(width) + 2
    );

    // The server gone, the picture comes from the cache, its rows now to
    // its shape.
    server.stop();
    let again = remote_app(dir.path(), cache.path());
    let far = row_of(&again, "[image: far]");
    assert!(red_cells(&again, far + 1) > 0, "{}", screen(&again));
    assert_eq!(
        row_of(&again, "[image: big]"),
        far + rows_for_size(width, 40, 20) + 2
    );
}

#[test]
fn in_link_mode_a_picture_opens_in_the_viewer_locally_and_is_copied_over_ssh() {
    use folio::action::Effect;
    let dir = blog("![red over blue](img/rb.png)");
    let file = dir.path().join("hello/img/rb.png");
    red_over_blue(&file, 40, 20);
    for remote in [false, true] {
        let options = Options {
            remote,
            ..Options::default()
        };
        let mut app = app_with(dir.path(), Depth::TrueColor, options);
        press(&mut app, "F");
        let hints = app.hints();
        assert_eq!(hints.len(), 1, "{hints:?}");
        let label = hints[0].label.clone();
        press(&mut app, &label);
        let expected = if remote {
            Effect::Copy("img/rb.png".into())
        } else {
            Effect::OpenUrl(file.display().to_string())
        };
        assert_eq!(app.take_effects(), [expected]);
    }
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
