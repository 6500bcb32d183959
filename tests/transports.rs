//! One scripted reading session through both transports — the local
//! runner's loop ([`folio::term::drive`], as `folio` runs it in a terminal)
//! and a visitor of `folio serve` (an in-process server, a russh client) —
//! shows the same screens, cell by cell, colours included, in a terminal
//! emulator (vt100).

#[path = "support/fixtures.rs"]
mod fixtures;
#[path = "support/ssh_client.rs"]
mod ssh_client;

use std::fmt::Write as _;
use std::io::Write;
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use folio::app::{App, Options};
use folio::color::Depth;
use folio::keymap::Keymap;
use folio::posts;
use folio::session::{self, NoHost, Session};
use folio::ssh::{self, Access, Look, ServeOptions, Site, Stats};
use folio::term::{Exit, Input};
use folio::theme::Theme;
use folio::work::Inline;
use russh::ChannelMsg;
use russh::keys::{Algorithm, PrivateKey};
use tokio::sync::watch;

/// What the local runner writes, shared with the test.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// Every cell as a person sees it: its text, colours and the attributes
/// folio uses.
fn screen(vt: &vt100::Parser) -> Vec<String> {
    let s = vt.screen();
    let (rows, cols) = s.size();
    (0..rows)
        .map(|r| {
            let mut line = String::new();
            for c in 0..cols {
                let Some(cell) = s.cell(r, c) else { continue };
                if cell.is_wide_continuation() {
                    continue;
                }
                // An erased cell looks like a blank one: which of the two a
                // terminal holds depends on the frames that led there.
                let contents = cell.contents();
                line.push_str(if contents.is_empty() { " " } else { contents });
                // A blank shows its background (and an underline), never
                // its foreground colour or weight.
                let blank = contents.trim().is_empty();
                let _ = write!(
                    line,
                    "\u{1}{:?}{:?}{}{}{}",
                    if blank {
                        vt100::Color::Default
                    } else {
                        cell.fgcolor()
                    },
                    cell.bgcolor(),
                    u8::from(cell.bold() && !blank),
                    u8::from(cell.italic() && !blank),
                    u8::from(cell.underline()),
                );
            }
            line
        })
        .collect()
}

/// The screen's text, for a message.
fn text(vt: &vt100::Parser) -> String {
    let (_, cols) = vt.screen().size();
    vt.screen().rows(0, cols).collect::<Vec<_>>().join("\n")
}

/// Reads what each side sends until both screens are the same (and not
/// blank); fails after a generous while.
async fn converge(
    channel: &mut russh::Channel<russh::client::Msg>,
    out: &Shared,
    remote: &mut vt100::Parser,
    local: &mut vt100::Parser,
    what: &str,
) {
    let start = Instant::now();
    loop {
        while let Ok(Some(msg)) =
            tokio::time::timeout(Duration::from_millis(30), channel.wait()).await
        {
            if let ChannelMsg::Data { data } = msg {
                remote.process(&data);
            }
        }
        local.process(&out.take());
        if screen(remote) == screen(local) && !text(remote).trim().is_empty() {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "after {what}, the screens differ:\n--- over ssh\n{}\n--- local\n{}",
            text(remote),
            text(local),
        );
    }
}

/// A step of the script: keys typed, or the window resized.
enum Step {
    Keys(&'static [u8]),
    Resize(u16, u16),
}

const SCRIPT: &[Step] = &[
    Step::Keys(b"j"),
    Step::Keys(b"\r"),
    Step::Keys(b"]"),
    Step::Keys(b"jjj"),
    Step::Keys(b"\x1b[6~"),
    Step::Resize(72, 22),
    Step::Keys(b"o"),
    Step::Keys(b"j\r"),
    Step::Keys(b"/paragraph 3"),
    Step::Keys(b"\r"),
    Step::Keys(b"n"),
    Step::Keys(b"\x1b"),
    Step::Keys(b"\t"),
    Step::Keys(b"J"),
    Step::Keys(b"?"),
    Step::Keys(b"?"),
    Step::Resize(100, 30),
    Step::Keys(b"H"),
    Step::Keys(b"z"),
    Step::Keys(b"G"),
    Step::Keys(b"F"),
    Step::Keys(b"\x1b"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_session_looks_the_same_locally_and_over_ssh() {
    let (w, h) = (100, 30);
    let blog = fixtures::blog();
    let posts = posts::scan_with(blog.path(), posts::Links::Confined).unwrap();
    let label = blog.path().display().to_string();

    // Over SSH: the server in this process, a russh client.
    let served = serve_and_visit(posts.clone(), blog.path(), w, h).await;
    let mut channel = served.visitor.channel;
    let mut remote = vt100::Parser::new(h, w, 0);

    // Locally: the runner's own loop, fed the same bytes.
    let app = App::new(
        posts,
        Theme::default().for_depth(Depth::Ansi256),
        Keymap::default(),
        Options {
            source_label: label,
            remote: true,
            ..Options::default()
        },
    );
    let out = Shared::default();
    let (tx, rx) = mpsc::channel();
    let local_out = out.clone();
    let runner = std::thread::spawn(move || {
        let mut session = Session::new(app, local_out, (w, h), None).unwrap();
        session
            .writer_mut()
            .write_all(session::ENTER.as_bytes())
            .unwrap();
        folio::term::drive(&mut session, &rx, &mut Inline::default(), &mut NoHost).unwrap()
    });
    let mut local = vt100::Parser::new(h, w, 0);

    converge(&mut channel, &out, &mut remote, &mut local, "the start").await;
    for step in SCRIPT {
        match *step {
            Step::Keys(keys) => {
                tx.send(Input::Bytes(keys.to_vec())).unwrap();
                channel.data_bytes(keys.to_vec()).await.unwrap();
            }
            Step::Resize(w, h) => {
                tx.send(Input::Resize(w, h)).unwrap();
                channel
                    .window_change(u32::from(w), u32::from(h), 0, 0)
                    .await
                    .unwrap();
                remote.screen_mut().set_size(h, w);
                local.screen_mut().set_size(h, w);
            }
        }
        let what = match step {
            Step::Keys(keys) => format!("{:?}", String::from_utf8_lossy(keys)),
            Step::Resize(w, h) => format!("a resize to {w}×{h}"),
        };
        converge(&mut channel, &out, &mut remote, &mut local, &what).await;
    }
    drop(tx);
    assert_eq!(runner.join().unwrap(), Exit::Closed);
    served.stop.send(true).unwrap();
    served.server.await.unwrap();
}

/// An in-process `folio serve` of `posts` (from `dir`) and a russh visitor
/// logged in to it at `w`×`h`.
struct Served {
    visitor: ssh_client::Visitor,
    stop: watch::Sender<bool>,
    server: tokio::task::JoinHandle<()>,
}

async fn serve_and_visit(posts: Vec<posts::Post>, dir: &std::path::Path, w: u16, h: u16) -> Served {
    let site = Arc::new(Site::new(
        posts,
        Some(dir.to_path_buf()),
        Keymap::default(),
        Look::Fixed(Box::default()),
    ));
    let key = PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519).unwrap();
    let (listener, addr) = ssh::bind("127.0.0.1:0").await.unwrap();
    let (stop, stop_rx) = watch::channel(false);
    let options = ServeOptions {
        limits: folio::limits::Limits::default(),
        access: Access::Public,
        proxy: ssh::Trusted::default(),
    };
    let server = tokio::spawn(ssh::serve(
        site,
        key,
        options,
        listener,
        stop_rx,
        Stats::default(),
    ));
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let visitor = ssh_client::visit(ssh_client::config(), stream, u32::from(w), u32::from(h))
        .await
        .unwrap();
    Served {
        visitor,
        stop,
        server,
    }
}

/// Polls the visitor's screen until `ready` holds; fails after a while.
async fn visitor_until(
    channel: &mut russh::Channel<russh::client::Msg>,
    remote: &mut vt100::Parser,
    ready: impl Fn(&vt100::Parser) -> bool,
    what: &str,
) {
    let start = Instant::now();
    while !ready(remote) {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{what} never showed:\n{}",
            text(remote)
        );
        if let Ok(Some(ChannelMsg::Data { data })) =
            tokio::time::timeout(Duration::from_millis(50), channel.wait()).await
        {
            remote.process(&data);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_gets_pictures_in_half_blocks() {
    let (w, h) = (100, 40);
    let blog = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(blog.path().join("hello/img")).unwrap();
    std::fs::write(
        blog.path().join("hello/index.md"),
        "---\ntitle: Hello\n---\n\n![all red](img/red.png)\n\nAfter.\n",
    )
    .unwrap();
    image::RgbImage::from_pixel(40, 20, image::Rgb([255, 0, 0]))
        .save(blog.path().join("hello/img/red.png"))
        .unwrap();
    let posts = posts::scan_with(blog.path(), posts::Links::Confined).unwrap();
    let served = serve_and_visit(posts, blog.path(), w, h).await;
    let mut channel = served.visitor.channel;
    let mut remote = vt100::Parser::new(h, w, 0);
    visitor_until(
        &mut channel,
        &mut remote,
        |vt| text(vt).contains("Hello"),
        "the list",
    )
    .await;
    channel.data_bytes(b"\r".to_vec()).await.unwrap();
    // Red half blocks: in the palette's reds (256 colours) or as RGB.
    let red = |c: vt100::Color| matches!(c, vt100::Color::Rgb(255, 0, 0) | vt100::Color::Idx(196));
    visitor_until(
        &mut channel,
        &mut remote,
        |vt| {
            let s = vt.screen();
            (0..h).any(|r| {
                (0..w).any(|c| {
                    s.cell(r, c).is_some_and(|cell| {
                        cell.contents() == "▀" && red(cell.fgcolor()) && red(cell.bgcolor())
                    })
                })
            })
        },
        "the red picture",
    )
    .await;
    assert!(text(&remote).contains("[image: all red]"));
    served.stop.send(true).unwrap();
    served.server.await.unwrap();
}
