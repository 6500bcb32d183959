//! The local runner: folio in the terminal it was started from.
//!
//! A thin shell around a [`Session`]: this module owns the tty — raw mode,
//! the alternate screen, the panic hook, signals (SIGTERM, SIGINT, SIGHUP,
//! and SIGWINCH for the size), a hang-up, the input thread that reads the
//! terminal's bytes (paused while an editor has the terminal), the state
//! saver — and nothing of the reader itself. It is the only module that
//! touches crossterm, and only for raw mode and the terminal's size: keys
//! are decoded by [`crate::input`], as for an SSH visitor.
//!
//! The terminal is restored on every way out: normal return and `?` errors
//! (a drop guard), panics in any thread (a panic hook installed before raw
//! mode), and SIGTERM, SIGINT and SIGHUP (a signal thread feeding the same
//! channel as input, so the loop exits and the guard runs).

#![allow(clippy::disallowed_methods)] // the one module that owns the tty

use std::io::{self, Write};
use std::path::Path;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, Once};
use std::thread;
use std::time::{Duration, Instant};

use crossterm::terminal::{disable_raw_mode, enable_raw_mode};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGWINCH};

use crate::action::Report;
use crate::app::App;
use crate::session::{self, Flow, Host, Opened, Probe, Session};
use crate::state::{self, ReadingChanges, Saver};
use crate::watch::Watch;
use crate::work::{self, Executor, Threads};

/// What the loop waits on: terminal input, signals and finished work
/// arrive on one channel.
#[derive(Debug)]
pub enum Input {
    /// Bytes read from the terminal.
    Bytes(Vec<u8>),
    /// The terminal now has this many columns and rows.
    Resize(u16, u16),
    Signal(i32),
    /// Reading the terminal failed (e.g. the pty was closed).
    Closed(String),
    /// Work done off the loop's thread, a change on disk, a notice.
    Report(Report),
}

/// How the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Quit,
    /// Ended by this signal; the process should exit with 128 + signal.
    Signal(i32),
    /// The terminal went away.
    Closed,
}

/// What the runner does for the app besides input and drawing.
#[derive(Debug, Clone, Default)]
pub struct Services {
    /// Where to save reading state; `None` saves nothing.
    pub state: Option<state::Place>,
    /// The posts folder to watch for changes (live reload).
    pub watch: Option<std::path::PathBuf>,
    /// The posts folder to read in the background, the list filling in as
    /// it is read (see [`work::read_posts`]); the app should have been told
    /// with an empty [`Report::PostsRead`] that is not done.
    pub scan: Option<std::path::PathBuf>,
}

/// The terminal's size in (columns, rows).
pub fn size() -> io::Result<(u16, u16)> {
    crossterm::terminal::size()
}

/// What is known of the terminal's pictures before asking it: the
/// environment, and the cell size from the tty's size in pixels (TIOCGWINSZ,
/// when the terminal fills it in).
fn graphics_hint() -> crate::graphics::Hint {
    let mut hint = crate::graphics::Hint::from_env(|v| std::env::var(v).ok());
    if let Ok(w) = crossterm::terminal::window_size()
        && w.columns > 0
        && w.rows > 0
        && w.width > 0
        && w.height > 0
    {
        hint.cell = Some((w.width / w.columns, w.height / w.rows));
    }
    hint
}

/// Runs the reader in the current terminal until the user quits.
pub fn run(app: App, mouse: bool, probe: Option<Probe>, services: Services) -> io::Result<Exit> {
    install_panic_hook();
    let (tx, rx) = mpsc::channel();
    spawn_signal_thread(tx.clone())?;
    let _guard = TerminalGuard::enter(mouse)?;
    let saver = services.state.map(|place| {
        let tx = tx.clone();
        Saver::spawn(place, move |warning| {
            let _ = tx.send(Input::Report(Report::Notify(warning)));
        })
    });
    // Live reload, started off the first frame's path (watching a big tree
    // takes tens of milliseconds) and kept until `_watching` is dropped; a
    // folder that cannot be watched (inotify limits, say) is read as it was
    // at start, with a word in the status bar.
    let _watching = services
        .watch
        .map(|path| watch_in_background(path, tx.clone()));
    if let Some(path) = services.scan {
        let tx = tx.clone();
        work::read_posts(path, move |report| tx.send(Input::Report(report)).is_ok())?;
    }
    let reply = {
        let tx = Mutex::new(tx.clone());
        let reply: work::Reply = Arc::new(move |report| {
            tx.lock()
                .is_ok_and(|tx| tx.send(Input::Report(report)).is_ok())
        });
        reply
    };
    let mut threads = Threads::spawn(&reply)?;
    let input = spawn_input_thread(tx.clone())?;
    let mut host = Local {
        input: &input,
        mouse,
        notices: tx,
        saver: saver.as_ref(),
    };
    let mut session = Session::new(app, io::stdout(), size()?, probe)?;
    session.ask_graphics(graphics_hint());
    let exit = drive(&mut session, &rx, &mut threads, &mut host);
    // kitty would keep the pictures' data after folio has gone.
    let _ = session.release_pictures();
    // A reply still on its way would land in the shell as typed text: give
    // it the rest of its time to arrive and drop it from the input queue.
    if let Some(left) = session.unanswered(Instant::now()) {
        thread::sleep(left);
        let flush = rustix::termios::QueueSelector::IFlush;
        let _ = match tty_input() {
            Ok(Some(tty)) => rustix::termios::tcflush(&tty, flush),
            _ => rustix::termios::tcflush(io::stdin(), flush),
        };
    }
    // On every way out (q, a signal, a hang-up) the last changes are saved.
    if let Some(saver) = saver {
        saver.finish();
    }
    exit
}

/// The loop: wait for input, apply everything that has arrived, and draw
/// once if anything visible changed. The only timers are a lone `Esc`'s
/// and, at start, the pictures' wait for the terminal's answer (see
/// [`Session::deadline`]): an idle reader writes nothing.
pub fn drive<W: Write>(
    session: &mut Session<W>,
    rx: &Receiver<Input>,
    exec: &mut dyn Executor,
    host: &mut dyn Host,
) -> io::Result<Exit> {
    if session.start(Instant::now(), exec, host)? == Flow::Quit {
        return Ok(Exit::Quit);
    }
    loop {
        let first = match session.deadline() {
            Some(at) => match rx.recv_timeout(at.saturating_duration_since(Instant::now())) {
                Ok(input) => Some(input),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return Ok(Exit::Closed),
            },
            None => match rx.recv() {
                Ok(input) => Some(input),
                Err(_) => return Ok(Exit::Closed),
            },
        };
        let Some(first) = first else {
            // A deadline came: nothing followed a lone Esc (it was the key),
            // or pictures stop waiting for the terminal's answer.
            session.timeout(Instant::now());
            if session.step(exec, host)? == Flow::Quit {
                return Ok(Exit::Quit);
            }
            session.frame(false)?;
            session.after_frame(exec);
            continue;
        };
        // Apply everything already queued before drawing, so a burst of
        // keys (key repeat, a paste, a slow link) costs one frame.
        for input in std::iter::once(first).chain(rx.try_iter()) {
            match input {
                Input::Bytes(bytes) => session.input(&bytes, Instant::now()),
                Input::Resize(w, h) => session.resize(w, h)?,
                Input::Signal(sig) => return Ok(Exit::Signal(sig)),
                Input::Closed(_) => return Ok(Exit::Closed),
                Input::Report(report) => session.report(report),
            }
            if session.step(exec, host)? == Flow::Quit {
                return Ok(Exit::Quit);
            }
        }
        session.frame(false)?;
        session.after_frame(exec);
    }
}

/// What the local terminal does for its session.
struct Local<'a> {
    input: &'a InputThread,
    mouse: bool,
    notices: Sender<Input>,
    saver: Option<&'a Saver>,
}

impl Host for Local<'_> {
    fn open_url(&mut self, url: &str) -> Opened {
        match open_with(OPENER, url, self.notices.clone()) {
            Ok(()) => Opened::Started,
            Err(why) => Opened::Failed(why),
        }
    }

    fn edit(&mut self, file: &Path, line: Option<usize>) -> Result<(), String> {
        let mouse = self.mouse;
        let result = self
            .input
            .paused(|| suspended(mouse, || crate::editor::edit(file, line)))
            .map_err(|e| e.to_string())?;
        // The window may have changed size while the editor had it.
        if let Ok((w, h)) = size() {
            let _ = self.notices.send(Input::Resize(w, h));
        }
        result.map_err(|e| e.to_string())
    }

    fn save(&mut self, changes: ReadingChanges) {
        if let Some(saver) = self.saver {
            saver.submit(changes);
        }
    }
}

/// Starts watching `path` on a thread that keeps the watch until the
/// returned sender is dropped.
fn watch_in_background(path: std::path::PathBuf, tx: Sender<Input>) -> Sender<()> {
    let (keep, until) = mpsc::channel::<()>();
    let spawned = thread::Builder::new()
        .name("folio-watch-start".into())
        .spawn(move || match Watch::start(&path) {
            Ok(watch) => {
                watch.subscribe(Box::new(move |report| {
                    tx.send(Input::Report(report)).is_ok()
                }));
                // Returns when the runner drops its end.
                let _ = until.recv();
                drop(watch);
            }
            Err(e) => {
                tracing::warn!("{}", crate::sanitize::sanitize(&e.to_string()));
                let _ = tx.send(Input::Report(Report::Notify(e.to_string())));
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot watch the posts folder");
    }
    keep
}

/// Runs `f` with the terminal as the shell left it (main screen, cooked
/// mode, no mouse), then takes it back.
fn suspended<T>(mouse: bool, f: impl FnOnce() -> T) -> io::Result<T> {
    restore();
    let out = f();
    enter(mouse)?;
    Ok(out)
}

/// The system's opener for URLs.
pub const OPENER: &str = if cfg!(target_os = "macos") {
    "open"
} else {
    "xdg-open"
};

/// Starts `opener` on `url`, detached from the terminal: no shell, stdin,
/// stdout and stderr null (so it can neither read keys nor draw over the
/// reader). A thread waits for it and reports a failure.
fn open_with(opener: &'static str, url: &str, notices: Sender<Input>) -> Result<(), String> {
    let mut command = std::process::Command::new(opener);
    command
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    // Its own process group: a browser it starts outlives folio and is not
    // sent the terminal's signals.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command
        .spawn()
        .map_err(|e| format!("Could not run {opener}: {e}"))?;
    thread::spawn(move || {
        let notice = match child.wait() {
            Ok(status) if status.success() => return,
            Ok(status) => format!("{opener} could not open the link ({status})"),
            Err(e) => format!("{opener} failed: {e}"),
        };
        let _ = notices.send(Input::Report(Report::Notify(notice)));
    });
    Ok(())
}

/// The input thread's pause switch: while an editor runs, nothing of ours
/// may read the terminal, or the editor would lose keystrokes.
struct InputThread {
    /// (pause asked, the thread is paused)
    state: Arc<(Mutex<(bool, bool)>, std::sync::Condvar)>,
}

impl InputThread {
    /// Runs `f` while the input thread reads nothing.
    fn paused<T>(&self, f: impl FnOnce() -> T) -> T {
        let (lock, cv) = &*self.state;
        let set = |pause: bool| {
            if let Ok(mut s) = lock.lock() {
                s.0 = pause;
                cv.notify_all();
                // Wait (at most one poll interval) until the thread says so.
                while pause && !s.1 {
                    match cv.wait_timeout(s, Duration::from_secs(1)) {
                        Ok((next, t)) if !t.timed_out() => s = next,
                        _ => return,
                    }
                }
            }
        };
        set(true);
        let out = f();
        set(false);
        out
    }

    /// In the thread: blocks while paused.
    fn may_read(state: &(Mutex<(bool, bool)>, std::sync::Condvar)) {
        let (lock, cv) = state;
        let Ok(mut s) = lock.lock() else { return };
        while s.0 {
            s.1 = true;
            cv.notify_all();
            match cv.wait(s) {
                Ok(next) => s = next,
                Err(_) => return,
            }
        }
        s.1 = false;
    }
}

/// The terminal's input: stdin when it is the terminal, else `/dev/tty`
/// (stdin is a pipe when a document is piped in, as `less` reads keys).
fn tty_input() -> io::Result<Option<std::fs::File>> {
    use std::io::IsTerminal;
    if io::stdin().is_terminal() {
        Ok(None)
    } else {
        std::fs::File::open("/dev/tty").map(Some)
    }
}

/// Reads the terminal's bytes and sends them on, until the terminal hangs
/// up. It waits in `poll` with a timeout rather than in `read`, so a pause
/// takes effect (within that long) before an editor starts; `poll` also
/// reports a hang-up when the terminal goes away without a SIGHUP reaching
/// us (the pty's master closed, the session leader gone).
fn spawn_input_thread(tx: Sender<Input>) -> io::Result<InputThread> {
    use rustix::event::{PollFd, PollFlags, poll};
    use std::os::fd::AsFd;
    let tty = tty_input()?;
    let state = Arc::new((Mutex::new((false, false)), std::sync::Condvar::new()));
    let mine = Arc::clone(&state);
    thread::Builder::new()
        .name("folio-input".into())
        .spawn(move || {
            let stdin = io::stdin();
            let fd = tty.as_ref().map_or_else(|| stdin.as_fd(), AsFd::as_fd);
            let mut buf = vec![0; 4096];
            let closed = |why: String| {
                let _ = tx.send(Input::Closed(why));
            };
            loop {
                InputThread::may_read(&mine);
                let mut fds = [PollFd::new(&fd, PollFlags::IN)];
                let timeout = rustix::event::Timespec {
                    tv_sec: 0,
                    tv_nsec: 100_000_000,
                };
                match poll(&mut fds, Some(&timeout)) {
                    Ok(0) | Err(rustix::io::Errno::INTR) => continue,
                    Ok(_) => {}
                    Err(e) => return closed(e.to_string()),
                }
                let revents = fds[0].revents();
                if !revents.contains(PollFlags::IN)
                    && revents.intersects(PollFlags::HUP | PollFlags::ERR | PollFlags::NVAL)
                {
                    return closed("the terminal hung up".into());
                }
                // Input arrived as a pause began: it is the editor's.
                if mine.0.lock().is_ok_and(|s| s.0) {
                    continue;
                }
                match rustix::io::read(fd, &mut buf) {
                    Ok(0) => return closed("the terminal hung up".into()),
                    Ok(n) => {
                        if tx.send(Input::Bytes(buf[..n].to_vec())).is_err() {
                            return;
                        }
                    }
                    Err(rustix::io::Errno::INTR | rustix::io::Errno::AGAIN) => {}
                    Err(e) => return closed(e.to_string()),
                }
            }
        })?;
    Ok(InputThread { state })
}

/// Signals arrive as input: a resize (with the new size), or one that ends
/// the reader.
fn spawn_signal_thread(tx: Sender<Input>) -> io::Result<()> {
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP, SIGWINCH])?;
    thread::Builder::new()
        .name("folio-signals".into())
        .spawn(move || {
            for sig in signals.forever() {
                let input = if sig == SIGWINCH {
                    match size() {
                        Ok((w, h)) => Input::Resize(w, h),
                        Err(_) => continue,
                    }
                } else {
                    Input::Signal(sig)
                };
                if tx.send(input).is_err() {
                    break;
                }
            }
        })?;
    Ok(())
}

/// Raw mode, the alternate screen and (optionally) mouse reports, undone
/// on drop.
struct TerminalGuard;

impl TerminalGuard {
    fn enter(mouse: bool) -> io::Result<TerminalGuard> {
        enter(mouse)?;
        Ok(TerminalGuard)
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Raw mode, then the same set-up a visitor's terminal gets.
fn enter(mouse: bool) -> io::Result<()> {
    enable_raw_mode()?;
    let mut out = io::stdout();
    out.write_all(session::ENTER.as_bytes())?;
    if mouse {
        out.write_all(session::MOUSE_ON.as_bytes())?;
    }
    out.flush()
}

/// Puts the terminal back as it was. Safe to call more than once, and errors
/// are ignored: after a hang-up there may be no terminal left to restore.
pub fn restore() {
    static LOCK: Mutex<()> = Mutex::new(());
    let _lock = LOCK.lock();
    let mut out = io::stdout();
    let _ = out.write_all(session::LEAVE.as_bytes());
    let _ = out.flush();
    let _ = disable_raw_mode();
}

/// On a panic anywhere, restore the terminal first so the message that the
/// default hook prints lands on a normal screen, readable.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = Arc::new(std::panic::take_hook());
        std::panic::set_hook(Box::new(move |info| {
            // A panic that its thread catches and handles (the highlighter)
            // must neither restore the terminal under the running reader nor
            // print over it.
            if work::panics_are_quiet() {
                return;
            }
            restore();
            previous(info);
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_opener_that_fails_or_is_missing_says_so() {
        let (tx, rx) = mpsc::channel();
        let err = open_with("folio-no-such-opener", "https://e.com", tx.clone()).unwrap_err();
        assert!(
            err.starts_with("Could not run folio-no-such-opener"),
            "{err}"
        );
        open_with("false", "https://e.com", tx.clone()).unwrap();
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(Input::Report(Report::Notify(text))) => {
                assert!(text.starts_with("false could not open the link"), "{text}");
            }
            other => panic!("{other:?}"),
        }
        open_with("true", "https://e.com", tx).unwrap();
        assert!(rx.recv_timeout(Duration::from_secs(10)).is_err());
    }
}
