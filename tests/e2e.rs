//! End-to-end: the real `folio` binary in a real terminal (tmux), driven with
//! keys and read back with `capture-pane`, as a person would use it.
//!
//! Each test has its own tmux server (a private socket in a temp folder) of a
//! fixed size, and waits for screens by polling with a generous timeout.

#[path = "support/fixtures.rs"]
mod fixtures;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(30);

struct Tmux {
    dir: tempfile::TempDir,
    socket: PathBuf,
}

impl Tmux {
    /// Starts `folio ARGS` in a `width`×`height` tmux pane. A shell wraps it
    /// and reports how it exited and whether the tty was left sane.
    fn start(args: &str, width: u16, height: u16) -> Tmux {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("tmux.sock");
        let bin = env!("CARGO_BIN_EXE_folio");
        for sub in ["config", "data", "cache"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        let script = format!(
            "export XDG_CONFIG_HOME='{d}/config' XDG_DATA_HOME='{d}/data' XDG_CACHE_HOME='{d}/cache'; \
             '{bin}' {args}; echo \"FOLIO_EXITED $?\"; stty -a | tr ' ;' '\\n\\n' | grep -x -- '-\\?icanon'; sleep 600",
            d = dir.path().display()
        );
        let tmux = Tmux { dir, socket };
        let status = tmux
            .cmd()
            .args(["-f", "/dev/null", "new-session", "-d", "-x"])
            .arg(width.to_string())
            .arg("-y")
            .arg(height.to_string())
            .args(["sh", "-c", &script])
            .status()
            .expect("tmux runs");
        assert!(status.success(), "tmux new-session failed");
        tmux
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.arg("-S").arg(&self.socket);
        c
    }

    fn output(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().expect("tmux runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.output(&["capture-pane", "-p"])
    }

    /// Sends keys in tmux's notation (`j`, `Enter`, `Escape`, `C-d`).
    fn keys(&self, keys: &[&str]) {
        let status = self.cmd().arg("send-keys").args(keys).status().unwrap();
        assert!(status.success());
    }

    /// Waits until the screen satisfies `ok`, and returns it.
    fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if ok(&screen) {
                return screen;
            }
            assert!(
                start.elapsed() < TIMEOUT,
                "timed out waiting for {what}; the screen was:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn wait_text(&self, text: &str) -> String {
        self.wait_for(text, |s| s.contains(text))
    }

    fn alternate_screen(&self) -> bool {
        self.output(&["display-message", "-p", "#{alternate_on}"])
            .trim()
            == "1"
    }

    /// The pid of folio: the child of the pane's shell.
    fn folio_pid(&self) -> u32 {
        let shell: u32 = self
            .output(&["display-message", "-p", "#{pane_pid}"])
            .trim()
            .parse()
            .unwrap();
        let start = Instant::now();
        loop {
            for entry in std::fs::read_dir("/proc").unwrap().flatten() {
                let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                    continue;
                };
                let Ok(proc_stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                    continue;
                };
                // The fields after the parenthesised name: state, ppid, ...
                let after = proc_stat.rsplit_once(')').map_or("", |(_, rest)| rest);
                let parent = after
                    .split_whitespace()
                    .nth(1)
                    .and_then(|p| p.parse::<u32>().ok());
                if parent == Some(shell) && proc_stat.contains("(folio)") {
                    return pid;
                }
            }
            assert!(start.elapsed() < TIMEOUT, "folio process not found");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").status();
    }
}

fn assert_restored(tmux: &Tmux, status: &str) {
    let screen = tmux.wait_text("FOLIO_EXITED");
    assert!(
        screen.contains(&format!("FOLIO_EXITED {status}")),
        "{screen}"
    );
    // `icanon` (not `-icanon`): raw mode was turned off.
    let screen = tmux.wait_for("stty report", |s| {
        s.lines()
            .any(|l| l.trim() == "icanon" || l.trim() == "-icanon")
    });
    assert!(
        screen.lines().any(|l| l.trim() == "icanon"),
        "raw mode left on:\n{screen}"
    );
    assert!(!tmux.alternate_screen(), "still on the alternate screen");
}

#[test]
fn read_a_folder_jump_headings_scroll_and_quit() {
    let blog = fixtures::blog();
    let tmux = Tmux::start(&format!("'{}'", blog.path().display()), 100, 30);
    tmux.wait_text("Bravo");
    assert!(tmux.alternate_screen());
    let s = tmux.screen();
    assert!(s.find("Alpha: a long post").unwrap() < s.find("Bravo").unwrap());

    tmux.keys(&["j"]);
    tmux.wait_text("Just one paragraph about bravo.");
    tmux.keys(&["k", "Enter", "]"]);
    // "Alpha" starts on the top line; `]` brings "One" there.
    let s = tmux.wait_for("heading One on top", |s| {
        s.lines().next().is_some_and(|l| l.contains("One")) && s.contains("Alpha › One")
    });
    assert!(!s.contains("Paragraph 4 of section Four"), "{s}");
    tmux.keys(&["G"]);
    tmux.wait_text("Paragraph 4 of section Four");
    tmux.keys(&["g", "C-d"]);
    tmux.wait_for("half a page down", |s| {
        !s.contains("# Alpha") && s.contains("Paragraph 4 of section One")
    });
    tmux.keys(&["o"]);
    tmux.wait_text("Outline");
    tmux.keys(&["Escape", "q"]);
    assert_restored(&tmux, "0");
    drop(blog);
    let _ = tmux.dir();
}

#[test]
fn narrow_terminal_shows_one_pane() {
    let blog = fixtures::blog();
    let tmux = Tmux::start(&format!("'{}'", blog.path().display()), 60, 20);
    let s = tmux.wait_text("Bravo");
    assert!(!s.contains("Paragraph 1 of section One"), "{s}");
    tmux.keys(&["Enter"]);
    let s = tmux.wait_text("Paragraph 1 of section One");
    assert!(!s.contains("Bravo"), "{s}");
    tmux.keys(&["Escape"]);
    tmux.wait_text("Bravo");
    // Growing the window brings back both panes, laid out cleanly.
    let status = tmux
        .cmd()
        .args(["resize-window", "-x", "100", "-y", "30"])
        .status()
        .unwrap();
    assert!(status.success());
    let s = tmux.wait_for("two panes at 100x30", |s| {
        s.contains("Paragraph 1 of section One") && s.contains("Bravo")
    });
    let lines: Vec<&str> = s.lines().collect();
    assert!(
        lines[0].starts_with(" 2025-03-01 Alpha: a long post"),
        "{s}"
    );
    assert!(
        lines[2].starts_with(" 2025-02-01 Bravo"),
        "rows stay aligned: {s}"
    );
    assert!(
        lines[29].starts_with(" Alpha: a long post"),
        "status bar on the last row: {s}"
    );
    tmux.keys(&["C-c"]);
    assert_restored(&tmux, "0");
}

#[test]
fn sigterm_restores_the_terminal() {
    let blog = fixtures::blog();
    let tmux = Tmux::start(&format!("'{}'", blog.path().display()), 100, 30);
    tmux.wait_text("Bravo");
    let pid = tmux.folio_pid();
    let status = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert_restored(&tmux, "143");
}

#[test]
fn sighup_restores_the_terminal() {
    let blog = fixtures::blog();
    let tmux = Tmux::start(&format!("'{}'", blog.path().display()), 100, 30);
    tmux.wait_text("Bravo");
    let pid = tmux.folio_pid();
    let status = Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert_restored(&tmux, "129");
}

#[test]
fn no_argument_opens_the_built_in_guide() {
    let tmux = Tmux::start("", 100, 30);
    tmux.wait_text("Welcome to folio");
    tmux.keys(&["?"]);
    tmux.wait_text("Keys");
    tmux.keys(&["q"]);
    assert_restored(&tmux, "0");
}

/// `theme: auto` asks the terminal for its background (OSC 11). A detached
/// tmux 3.3 does not answer, so this is the "nothing answers" case there
/// (newer tmux answers at once, which the same assertions cover): the first
/// frame must not wait, keys must work, and nothing may leak. Then a reply
/// arrives long after the deadline, as over a slow link, typed into the pane
/// as the terminal would: it contains `b`, `f`, `g` and digits, all bound,
/// and must act as none of them.
#[test]
fn background_query_times_out_and_a_late_reply_never_acts_as_keys() {
    let blog = fixtures::blog();
    let tmux = Tmux::start(
        &format!("--theme auto '{}'", blog.path().display()),
        100,
        30,
    );
    tmux.wait_text("Bravo");
    std::thread::sleep(Duration::from_millis(400));
    tmux.keys(&["Enter"]);
    // The preview shows the paragraph before Enter lands; the status bar
    // leaving the list's "post 1/5" says the reader has focus.
    let before = tmux.wait_for("the reader focused", |s| {
        s.contains("Paragraph 1 of section One")
            && s.lines().last().is_some_and(|l| !l.contains("post 1/5"))
    });
    for terminator in ["\x07", "\x1b\\"] {
        let reply = format!("\x1b]11;rgb:ffff/ffff/ffff{terminator}");
        tmux.keys(&["-l", &reply]);
    }
    std::thread::sleep(Duration::from_millis(300));
    let after = tmux.screen();
    assert_eq!(before, after, "the late reply changed the screen");
    assert!(!after.contains("rgb:") && !after.contains("11;"), "{after}");
    tmux.keys(&["G"]);
    tmux.wait_text("Paragraph 4 of section Four");
    tmux.keys(&["q"]);
    assert_restored(&tmux, "0");
}

#[test]
fn sigint_restores_the_terminal() {
    let blog = fixtures::blog();
    let tmux = Tmux::start(&format!("'{}'", blog.path().display()), 100, 30);
    tmux.wait_text("Bravo");
    let pid = tmux.folio_pid();
    let status = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert_restored(&tmux, "130");
}

#[test]
fn a_closed_pty_ends_folio() {
    let blog = fixtures::blog();
    let tmux = Tmux::start(&format!("'{}'", blog.path().display()), 100, 30);
    tmux.wait_text("Bravo");
    let pid = tmux.folio_pid();
    let _ = tmux.cmd().arg("kill-server").status();
    let start = Instant::now();
    while Path::new(&format!("/proc/{pid}")).exists() {
        let proc_stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        if proc_stat
            .rsplit_once(')')
            .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
        {
            break; // exited, waiting for its parent to reap it
        }
        assert!(
            start.elapsed() < TIMEOUT,
            "folio still running after its pty closed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn hostile_post_in_a_real_terminal() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("evil.md"),
        "---\ntitle: \"Evil \\e]0;pwned\\a\\e]2;pwned\\a\"\n---\n\n# Head \u{1b}]0;pwned\u{7}\u{1b}[2J\n\nText \u{1b}]52;c;cm0gLXJm\u{7} \u{9b}31m red? &#27;[31m \u{202e}txt.exe\n",
    )
    .unwrap();
    let tmux = Tmux::start(&format!("'{}'", dir.path().display()), 100, 30);
    tmux.wait_text("Evil");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_text("Text");
    assert!(screen.contains("Head ␛]0;pwned␇␛[2J"), "{screen}");
    assert!(screen.contains("␛]52;c;cm0gLXJm␇"), "{screen}");
    let title = tmux.output(&["display-message", "-p", "#{pane_title}"]);
    assert!(!title.contains("pwned"), "title set to {title}");
    let buffers = tmux.output(&["list-buffers"]);
    assert!(buffers.trim().is_empty(), "clipboard written: {buffers}");
    tmux.keys(&["q"]);
    assert_restored(&tmux, "0");
}

#[test]
fn find_a_post_by_a_word_in_its_body_and_open_it() {
    let blog = fixtures::blog();
    let tmux = Tmux::start(&format!("'{}'", blog.path().display()), 100, 30);
    tmux.wait_text("Bravo");
    // "wrong" is only in the body of the post titled "Delta".
    tmux.keys(&["S"]);
    tmux.wait_text("Search all posts");
    tmux.keys(&["wrong"]);
    let s = tmux.wait_text("1 matching line in 5 posts");
    assert!(s.contains("Delta"), "{s}");
    assert!(s.contains("The frontmatter above is wrong."), "{s}");
    tmux.keys(&["Enter"]);
    let s = tmux.wait_for("Delta open at the match", |s| {
        !s.contains("Search all posts") && s.lines().last().is_some_and(|l| l.contains("1/1"))
    });
    assert!(s.contains("The frontmatter above is wrong."), "{s}");
    // The query stays as the in-post search: Esc clears it, then goes back.
    tmux.keys(&["Escape"]);
    tmux.wait_for("search cleared", |s| {
        s.lines().last().is_some_and(|l| !l.contains("1/1"))
    });
    tmux.keys(&["q"]);
    assert_restored(&tmux, "0");
}
