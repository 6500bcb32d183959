//! A real terminal for end-to-end tests: a tmux server of its own (a private
//! socket in a temp folder) with one pane of a fixed size, driven with keys
//! and read back with `capture-pane`, polling with a generous timeout.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub const TIMEOUT: Duration = Duration::from_secs(30);

/// Calls `attempt` until it gives a value, every 50 ms; past [`TIMEOUT`]
/// the test fails with what the last attempt said.
pub fn poll<T>(mut attempt: impl FnMut() -> Result<T, String>) -> T {
    let start = Instant::now();
    loop {
        match attempt() {
            Ok(value) => return value,
            Err(why) => assert!(start.elapsed() < TIMEOUT, "{why}"),
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether the first line of `screen` has `text`.
pub fn top_line_has(screen: &str, text: &str) -> bool {
    screen.lines().next().is_some_and(|l| l.contains(text))
}

pub struct Tmux {
    dir: tempfile::TempDir,
    socket: PathBuf,
}

impl Tmux {
    /// Runs `command` (a shell line) in a `width`×`height` pane. The pane
    /// stays after it ends, showing `EXITED status` and then whether the tty
    /// was left in canonical mode (`icanon`) or raw (`-icanon`).
    pub fn start(command: &str, width: u16, height: u16) -> Tmux {
        let tmux = Tmux::new();
        tmux.launch(command, width, height);
        tmux
    }

    /// A server not started yet: its folder can be used before
    /// [`Tmux::launch`].
    pub fn new() -> Tmux {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("tmux.sock");
        Tmux { dir, socket }
    }

    /// Starts the session, as [`Tmux::start`].
    pub fn launch(&self, command: &str, width: u16, height: u16) {
        let script = format!(
            "{command}; echo \"EXITED $?\"; stty -a | tr ' ;' '\\n\\n' | grep -x -- '-\\?icanon'; sleep 600"
        );
        let status = self
            .cmd()
            .args(["-f", "/dev/null", "new-session", "-d", "-x"])
            .arg(width.to_string())
            .arg("-y")
            .arg(height.to_string())
            .args(["sh", "-c", &script])
            .status()
            .expect("tmux runs");
        assert!(status.success(), "tmux new-session failed");
    }

    /// The temp folder, removed with the server.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `tmux` talking to this server.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.arg("-S").arg(&self.socket);
        c
    }

    /// Runs a tmux command that must succeed.
    pub fn run(&self, args: &[&str]) {
        let status = self.cmd().args(args).status().expect("tmux runs");
        assert!(status.success(), "tmux {args:?} failed");
    }

    pub fn output(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().expect("tmux runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn screen(&self) -> String {
        self.output(&["capture-pane", "-p"])
    }

    /// The screen with its colours and attributes as escape sequences.
    pub fn styled_screen(&self) -> String {
        self.output(&["capture-pane", "-p", "-e"])
    }

    /// Sends keys in tmux's notation (`j`, `Enter`, `Escape`, `C-d`).
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys"];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    pub fn resize(&self, width: u16, height: u16) {
        let (w, h) = (width.to_string(), height.to_string());
        self.run(&["resize-window", "-x", &w, "-y", &h]);
    }

    /// Waits until the screen satisfies `ok`, and returns it.
    pub fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        poll(|| {
            let screen = self.screen();
            if ok(&screen) {
                Ok(screen)
            } else {
                Err(format!(
                    "timed out waiting for {what}; the screen was:\n{screen}"
                ))
            }
        })
    }

    pub fn wait_text(&self, text: &str) -> String {
        self.wait_for(text, |s| s.contains(text))
    }

    /// Lets what an application copies with OSC 52 become a paste buffer.
    pub fn keep_clipboard(&self) {
        self.run(&["set-option", "-g", "set-clipboard", "on"]);
    }

    /// Waits until the paste buffer is `text`.
    pub fn wait_buffer(&self, text: &str) {
        poll(|| {
            let buffer = self.output(&["show-buffer"]);
            if buffer == text {
                Ok(())
            } else {
                Err(format!("the paste buffer is {buffer:?}"))
            }
        });
    }

    pub fn alternate_screen(&self) -> bool {
        self.flag("alternate_on")
    }

    pub fn cursor_visible(&self) -> bool {
        self.flag("cursor_flag")
    }

    fn flag(&self, name: &str) -> bool {
        self.output(&["display-message", "-p", &format!("#{{{name}}}")])
            .trim()
            == "1"
    }

    /// Waits for the command to end with `status`, and checks the terminal
    /// is as it was: cooked mode, the main screen, the cursor shown.
    pub fn assert_exited(&self, status: &str) {
        let screen = self.wait_text("EXITED");
        assert!(screen.contains(&format!("EXITED {status}")), "{screen}");
        self.assert_restored();
    }

    /// As [`Tmux::assert_exited`], whatever the exit status.
    pub fn assert_restored(&self) {
        self.wait_text("EXITED");
        let screen = self.wait_for("stty report", |s| {
            s.lines()
                .any(|l| l.trim() == "icanon" || l.trim() == "-icanon")
        });
        assert!(
            screen.lines().any(|l| l.trim() == "icanon"),
            "raw mode left on:\n{screen}"
        );
        assert!(!self.alternate_screen(), "still on the alternate screen");
        assert!(self.cursor_visible(), "cursor left hidden");
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").status();
    }
}
