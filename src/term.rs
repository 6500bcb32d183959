//! The local runner: folio in the terminal it was started from.
//!
//! This is one of the two places allowed to know crossterm's event types
//! (`.clippy.toml` forbids them elsewhere): it turns them into our own
//! [`Key`]s and [`Action`]s. The loop itself, [`run_loop`], is generic over
//! ratatui's `Backend` so tests drive it with a `TestBackend`.
//!
//! The terminal is restored on every way out: normal return and `?` errors
//! (a drop guard), panics in any thread (a panic hook installed before raw
//! mode), and SIGTERM, SIGINT and SIGHUP (a signal thread feeding the same
//! channel as input, so the loop exits and the guard runs).
#![allow(clippy::disallowed_types)]

use std::io::{self, Write};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, Once};
use std::thread;

use crossterm::event::{
    self, DisableMouseCapture, EnableMouseCapture, Event, KeyEvent, KeyEventKind, KeyModifiers,
    MouseButton, MouseEvent, MouseEventKind,
};
use crossterm::terminal::{
    Clear, ClearType, EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use crossterm::{cursor, execute};
use ratatui::Terminal;
use ratatui::backend::{Backend, CrosstermBackend};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

use crate::action::{Action, Wheel};
use crate::app::App;
use crate::keymap::{Key, KeyCode};
use crate::ui;

/// What the loop waits on: terminal input and signals arrive on one channel.
#[derive(Debug)]
pub enum Input {
    Event(Event),
    Signal(i32),
    /// Reading the terminal failed (e.g. the pty was closed).
    Closed(String),
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

/// Runs the reader in the current terminal until the user quits.
pub fn run(mut app: App, mouse: bool) -> io::Result<Exit> {
    install_panic_hook(mouse);
    let (tx, rx) = mpsc::channel();
    spawn_signal_thread(tx.clone())?;
    let _guard = TerminalGuard::enter(mouse)?;
    spawn_input_thread(tx);
    // Not `terminal.clear()`: it asks the terminal for the cursor position,
    // and the input thread would swallow the reply.
    let mut terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    let size = terminal.size()?;
    app.update(Action::Resize(size.width, size.height));
    run_loop(&mut terminal, &mut app, &rx)
}

/// Reads the posts the app asks for and reports them back. The runner owns
/// all I/O; the app only says what it needs.
pub fn settle(app: &mut App) {
    while let Some((index, post)) = app.pending_load() {
        let result = post.read_source().map_err(|e| e.to_string());
        let bytes = result.as_ref().map_or(0, |source| source.text.len());
        if let Err(e) = &result {
            tracing::warn!(post = %post.rel_path.display(), error = %crate::sanitize::sanitize(e), "cannot read post");
        }
        let start = std::time::Instant::now();
        app.update(Action::Loaded(index, result));
        tracing::debug!(
            post = %post.rel_path.display(),
            bytes,
            layout_ms = start.elapsed().as_secs_f64() * 1000.0,
            "opened post"
        );
    }
}

/// The event loop: wait for input, apply everything that has arrived, and
/// draw once if anything visible changed. There are no timers: an idle
/// reader writes nothing.
pub fn run_loop<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    rx: &Receiver<Input>,
) -> io::Result<Exit>
where
    B::Error: Send + Sync + 'static,
{
    settle(app);
    draw(terminal, app)?;
    loop {
        let Ok(first) = rx.recv() else {
            return Ok(Exit::Closed);
        };
        // Apply everything already queued before drawing, so a burst of
        // keys (key repeat, a paste, a slow link) costs one frame.
        for input in std::iter::once(first).chain(rx.try_iter()) {
            match input {
                Input::Event(event) => apply_event(app, event),
                Input::Signal(sig) => return Ok(Exit::Signal(sig)),
                Input::Closed(_) => return Ok(Exit::Closed),
            }
            settle(app);
            if app.should_quit() {
                return Ok(Exit::Quit);
            }
        }
        if app.take_dirty() {
            draw(terminal, app)?;
        }
    }
}

fn draw<B: Backend>(terminal: &mut Terminal<B>, app: &mut App) -> io::Result<()>
where
    B::Error: Send + Sync + 'static,
{
    app.take_dirty();
    terminal
        .draw(|frame| ui::draw(app, frame))
        .map_err(io::Error::other)?;
    Ok(())
}

/// Turns one crossterm event into app actions.
#[allow(clippy::needless_pass_by_value)] // events are consumed by value everywhere else
pub fn apply_event(app: &mut App, event: Event) {
    match event {
        Event::Key(key) => {
            if let Some(key) = convert_key(key) {
                app.key(key);
            }
        }
        Event::Mouse(MouseEvent {
            kind, column, row, ..
        }) => match kind {
            MouseEventKind::ScrollDown => app.update(Action::Scroll(Wheel::Down, column, row)),
            MouseEventKind::ScrollUp => app.update(Action::Scroll(Wheel::Up, column, row)),
            MouseEventKind::Down(MouseButton::Left) => app.update(Action::Click(column, row)),
            _ => {}
        },
        Event::Resize(w, h) => app.update(Action::Resize(w, h)),
        _ => {}
    }
}

/// crossterm's key event as our [`Key`]; `None` for releases and keys folio
/// has no use for.
pub fn convert_key(key: KeyEvent) -> Option<Key> {
    use crossterm::event::KeyCode as C;
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let code = match key.code {
        C::Char(c) => KeyCode::Char(c),
        C::Enter => KeyCode::Enter,
        C::Esc => KeyCode::Esc,
        C::Tab => KeyCode::Tab,
        C::BackTab => KeyCode::BackTab,
        C::Backspace => KeyCode::Backspace,
        C::Up => KeyCode::Up,
        C::Down => KeyCode::Down,
        C::Left => KeyCode::Left,
        C::Right => KeyCode::Right,
        C::Home => KeyCode::Home,
        C::End => KeyCode::End,
        C::PageUp => KeyCode::PageUp,
        C::PageDown => KeyCode::PageDown,
        C::Delete => KeyCode::Delete,
        C::Insert => KeyCode::Insert,
        C::F(n) => KeyCode::F(n),
        _ => return None,
    };
    Some(Key {
        code,
        ctrl: key.modifiers.contains(KeyModifiers::CONTROL),
        alt: key.modifiers.contains(KeyModifiers::ALT),
    })
}

fn spawn_input_thread(tx: Sender<Input>) {
    thread::spawn(move || {
        // A panic here must still end the loop, or the main thread would wait
        // forever on a terminal nobody reads.
        let reader = std::panic::AssertUnwindSafe(|| {
            loop {
                let input = match event::read() {
                    Ok(event) => Input::Event(event),
                    Err(e) => Input::Closed(e.to_string()),
                };
                let closed = matches!(input, Input::Closed(_));
                if tx.send(input).is_err() || closed {
                    break;
                }
            }
        });
        if std::panic::catch_unwind(reader).is_err() {
            let _ = tx.send(Input::Closed("the input thread panicked".into()));
        }
    });
}

fn spawn_signal_thread(tx: Sender<Input>) -> io::Result<()> {
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP])?;
    thread::spawn(move || {
        for sig in signals.forever() {
            if tx.send(Input::Signal(sig)).is_err() {
                break;
            }
        }
    });
    Ok(())
}

/// Raw mode, the alternate screen and (optionally) mouse capture, undone on
/// drop.
struct TerminalGuard;

impl TerminalGuard {
    fn enter(mouse: bool) -> io::Result<TerminalGuard> {
        MOUSE.store(mouse, std::sync::atomic::Ordering::Relaxed);
        enable_raw_mode()?;
        let guard = TerminalGuard;
        let mut out = io::stdout();
        execute!(
            out,
            EnterAlternateScreen,
            Clear(ClearType::All),
            cursor::Hide
        )?;
        if mouse {
            execute!(out, EnableMouseCapture)?;
        }
        Ok(guard)
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

static MOUSE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Puts the terminal back as it was. Safe to call more than once, and errors
/// are ignored: after a hang-up there may be no terminal left to restore.
pub fn restore() {
    static LOCK: Mutex<()> = Mutex::new(());
    let _lock = LOCK.lock();
    let mut out = io::stdout();
    if MOUSE.load(std::sync::atomic::Ordering::Relaxed) {
        let _ = execute!(out, DisableMouseCapture);
    }
    let _ = execute!(out, LeaveAlternateScreen, cursor::Show);
    let _ = disable_raw_mode();
    let _ = out.flush();
}

/// On a panic anywhere, restore the terminal first so the message that the
/// default hook prints lands on a normal screen, readable.
fn install_panic_hook(mouse: bool) {
    static ONCE: Once = Once::new();
    MOUSE.store(mouse, std::sync::atomic::Ordering::Relaxed);
    ONCE.call_once(|| {
        let previous = Arc::new(std::panic::take_hook());
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}
