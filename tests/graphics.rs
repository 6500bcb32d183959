//! The picture protocol a terminal gets, end to end: the real binary on a
//! pseudo-terminal that this test drives, answering folio's questions like
//! kitty, like a sixel terminal, like a plain one.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(30);

/// A post whose first screen shows a picture beside it.
fn post_with_picture(dir: &Path) -> std::path::PathBuf {
    let img = image::RgbImage::from_fn(120, 60, |x, _| {
        image::Rgb(if x < 60 { [250, 10, 10] } else { [10, 10, 250] })
    });
    img.save(dir.join("pic.png")).unwrap();
    let post = dir.join("post.md");
    std::fs::write(
        &post,
        "# Pictures\n\n![two colours](pic.png)\n\nAfter the picture.\n",
    )
    .unwrap();
    post
}

/// folio on a pty: what it writes, and the pty's master to answer on.
struct Pty {
    child: Child,
    master: std::fs::File,
    out: Arc<Mutex<Vec<u8>>>,
    _home: tempfile::TempDir,
}

impl Pty {
    fn start(post: &Path) -> Pty {
        use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
        let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).unwrap();
        grantpt(&master).unwrap();
        unlockpt(&master).unwrap();
        let name = ptsname(&master, Vec::new()).unwrap();
        let name = name.to_str().unwrap().to_owned();
        rustix::termios::tcsetwinsize(
            &master,
            rustix::termios::Winsize {
                ws_row: 40,
                ws_col: 100,
                // No pixel size: only the terminal's answer gives it.
                ws_xpixel: 0,
                ws_ypixel: 0,
            },
        )
        .unwrap();
        let slave = || {
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(&name)
                .unwrap()
        };
        let home = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_folio"));
        cmd.arg(post)
            .stdin(Stdio::from(slave()))
            .stdout(Stdio::from(slave()))
            .stderr(Stdio::null())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .env("XDG_DATA_HOME", home.path().join("data"))
            .env("XDG_CACHE_HOME", home.path().join("cache"))
            .env("XDG_STATE_HOME", home.path().join("state"))
            .env("TERM", "xterm-256color")
            .env("COLORTERM", "truecolor");
        let child = cmd.spawn().unwrap();
        let master = std::fs::File::from(master);
        let out = Arc::new(Mutex::new(Vec::new()));
        let mut reader = master.try_clone().unwrap();
        let sink = Arc::clone(&out);
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 65536];
            // Ends when folio exits (EIO on the master).
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Pty {
            child,
            master,
            out,
            _home: home,
        }
    }

    fn output(&self) -> String {
        String::from_utf8_lossy(&self.out.lock().unwrap()).into_owned()
    }

    /// Waits until the output satisfies `ok`, polling.
    fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let out = self.output();
            if ok(&out) {
                return out;
            }
            assert!(
                start.elapsed() < WAIT,
                "no {what} after {WAIT:?}; folio wrote {} bytes: {:?}",
                out.len(),
                out.chars().take(3000).collect::<String>()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.master.write_all(bytes).unwrap();
        self.master.flush().unwrap();
    }

    /// `q`, and the exit.
    fn quit(mut self) -> String {
        self.send(b"q");
        let start = Instant::now();
        loop {
            if self.child.try_wait().unwrap().is_some() {
                break;
            }
            if start.elapsed() > WAIT {
                let _ = self.child.kill();
                panic!("folio did not quit");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.output()
    }
}

/// Runs folio on a post with a picture, answering its questions with
/// `reply` once they come; then waits for `expect` in what it draws.
fn answered(reply: &[u8], what: &str, expect: impl Fn(&str) -> bool) -> String {
    let dir = tempfile::tempdir().unwrap();
    let post = post_with_picture(dir.path());
    let mut pty = Pty::start(&post);
    // The questions come after the first frame, which shows the text.
    let asked = pty.wait_for("question", |o| o.contains(folio::graphics::QUERY));
    let at = asked.find(folio::graphics::QUERY).unwrap();
    assert!(
        asked[..at].contains("Pictures"),
        "the first frame comes before the questions"
    );
    pty.send(reply);
    pty.wait_for(what, expect);
    pty.quit()
}

const KITTY: &str = "\x1b_Ga=T,f=100";
const SIXEL: &str = "\x1bP0;1;0q";

#[test]
fn a_terminal_answering_like_kitty_gets_kitty_graphics() {
    let out = answered(
        b"\x1b_Gi=31;OK\x1b\\\x1b[6;20;10t\x1b[?62;22;52c",
        "kitty picture",
        |o| o.contains(KITTY),
    );
    assert!(!out.contains(SIXEL));
    // Never a key: the reply moved nothing, `q` still quit. On the way out
    // the image is freed (kitty would keep it after folio has gone), before
    // the main screen comes back.
    let freed = out
        .rfind("\x1b_Ga=d,d=I,i=1,q=2\x1b\\")
        .expect("image freed");
    assert!(freed < out.rfind("\x1b[?1049l").expect("main screen back"));
}

#[test]
fn a_terminal_with_sixel_in_its_attributes_gets_sixel() {
    let out = answered(
        b"\x1b[6;16;8t\x1b[?63;1;2;4;6;9;15;22c",
        "sixel picture",
        |o| o.contains(SIXEL),
    );
    assert!(!out.contains(KITTY));
}

#[test]
fn a_plain_terminal_gets_half_blocks() {
    let out = answered(b"\x1b[?62;22c", "half blocks", |o| {
        o.contains('▀') || o.contains('▄')
    });
    assert!(!out.contains(KITTY) && !out.contains(SIXEL));
    assert!(!out.contains("\x1b]1337;File="));
}

/// `folio --print` on the post, with `args`, `TERM=xterm-kitty`, into a
/// pipe.
fn print(post: &Path, args: &[&str]) -> String {
    print_in(Path::new("."), post, args)
}

/// [`print`], run in folder `cwd` (so `post` may be relative to it).
fn print_in(cwd: &Path, post: &Path, args: &[&str]) -> String {
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_folio"))
        .current_dir(cwd)
        .arg("--print")
        .args(args)
        .arg(post)
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_CACHE_HOME", home.path().join("cache"))
        .env("TERM", "xterm-kitty")
        .env_remove("TMUX")
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn print_shows_pictures_inline_when_forced_and_alt_text_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let post = post_with_picture(dir.path());
    let kitty = print(&post, &["--color", "always", "--images", "kitty"]);
    let alt = kitty.find("[image: two colours]").expect("alt line");
    let picture = kitty.find("\x1b_Ga=T,f=100").expect("kitty picture");
    assert!(alt < picture && picture < kitty.find("After the picture.").unwrap());
    // Named relative to the current folder, the post finds its picture
    // too.
    let relative = print_in(
        post.parent().unwrap(),
        Path::new(post.file_name().unwrap()),
        &["--color", "always", "--images", "kitty"],
    );
    assert!(relative.contains("\x1b_Ga=T,f=100"), "{relative:?}");
    let iterm = print(&post, &["--color", "always", "--images", "iterm2"]);
    assert!(iterm.contains("\x1b]1337;File=inline=1;"), "{iterm:?}");
    // A pipe is no kitty terminal whatever TERM says; no colour, no
    // pictures; off is off.
    for args in [
        &["--color", "always"][..],
        &["--color", "never", "--images", "kitty"],
        &["--color", "always", "--images", "off"],
    ] {
        let out = print(&post, args);
        assert!(out.contains("[image: two colours]"), "{args:?}");
        assert!(!out.contains("\x1b_G") && !out.contains("1337"), "{args:?}");
    }
}
