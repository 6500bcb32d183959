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
use std::time::{Duration, Instant};

use crossterm::event::{
    self, DisableMouseCapture, EnableMouseCapture, Event, KeyEvent, KeyEventKind, KeyModifiers,
    MouseButton, MouseEvent, MouseEventKind,
};
use crossterm::terminal::{
    Clear, ClearType, EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use crossterm::{cursor, execute};
use ratatui::Terminal;
use ratatui::backend::Backend;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};

use crate::action::{Action, Effect, Report, Wheel};
use crate::app::{App, LayoutJob};
use crate::color::{self, Background};
use crate::keymap::{Key, KeyCode};
use crate::search::{self, SearchJob};
use crate::state::{self, Saver};
use crate::theme::Theme;
use crate::ui;
use crate::watch::Watch;
use crate::wire::{Extras, WireBackend};

/// The query for the background colour, ST-terminated (the reply uses the
/// same terminator in xterm; the filter accepts BEL or ST either way).
const OSC11_QUERY: &str = "\x1b]11;?\x1b\\";
/// A reply later than this is still swallowed, but no longer switches the
/// theme: by then the reader is in use and a sudden change would jar.
pub const REPLY_DEADLINE: Duration = Duration::from_millis(200);

/// The two themes `theme: auto` picks between once the terminal answers.
#[derive(Debug, Clone)]
pub struct Probe {
    pub dark: Box<Theme>,
    pub light: Box<Theme>,
}

/// What the loop waits on: terminal input and signals arrive on one channel.
#[derive(Debug)]
pub enum Input {
    Event(Event),
    Signal(i32),
    /// Reading the terminal failed (e.g. the pty was closed).
    Closed(String),
    /// Work done off the loop's thread, to apply (a highlighted layout).
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
    /// it is read (see [`read_posts`]); the app should have been told with
    /// an empty [`Report::PostsRead`] that is not done.
    pub scan: Option<std::path::PathBuf>,
}

/// Reads the posts of `path` on a thread of its own and hands them to
/// `send` as [`Report::PostsRead`] batches, the last one done; a folder
/// that cannot be read (any more) ends the scan with a notice. Stops when
/// `send` returns false.
pub fn read_posts(
    path: std::path::PathBuf,
    send: impl Fn(Report) -> bool + Send + 'static,
) -> io::Result<()> {
    thread::Builder::new()
        .name("folio-scan".into())
        .spawn(move || {
            let start = Instant::now();
            let mut count = 0;
            let result = crate::posts::scan_in_batches(
                &path,
                crate::posts::Links::Follow,
                &mut |posts, done| {
                    count += posts.len();
                    for post in &posts {
                        if let Some(err) = &post.error {
                            let rel = post.rel_path.to_string_lossy();
                            tracing::warn!(post = %crate::sanitize::sanitize(&rel), error = %crate::sanitize::sanitize(err), "frontmatter error");
                        }
                    }
                    send(Report::PostsRead { posts, done })
                },
            );
            let path = crate::sanitize::sanitize(&path.to_string_lossy()).into_owned();
            match result {
                Ok(()) => tracing::info!(
                    path,
                    posts = count,
                    scan_ms = start.elapsed().as_secs_f64() * 1000.0,
                    "scanned posts"
                ),
                Err(e) => {
                    tracing::warn!(path, error = %crate::sanitize::sanitize(&e.to_string()), "cannot scan");
                    send(Report::PostsRead {
                        posts: Vec::new(),
                        done: true,
                    });
                    send(Report::Notify(format!("cannot read the posts: {e}")));
                }
            }
        })
        .map(|_| ())
}

/// Runs the reader in the current terminal until the user quits.
pub fn run(
    mut app: App,
    mouse: bool,
    probe: Option<Probe>,
    services: Services,
) -> io::Result<Exit> {
    install_panic_hook(mouse);
    let (tx, rx) = mpsc::channel();
    spawn_signal_thread(tx.clone())?;
    let _guard = TerminalGuard::enter(mouse)?;
    spawn_hangup_watcher(tx.clone());
    let highlighter = Highlighter::spawn(tx.clone());
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
        read_posts(path, move |action| tx.send(Input::Report(action)).is_ok())?;
    }
    let searcher = Searcher::spawn(tx.clone());
    let notices = tx.clone();
    let input = spawn_input_thread(tx);
    // Not `terminal.clear()`: it asks the terminal for the cursor position,
    // and the input thread would swallow the reply.
    let backend = WireBackend::with_size_query(io::stdout(), crossterm::terminal::size)?;
    let mut terminal = Terminal::new(backend)?;
    let size = terminal.size()?;
    app.update(Action::Resize(size.width, size.height));
    let mut filter = ReplyFilter::default();
    if let Some(probe) = probe {
        // The first frame goes out with the guess; the question follows it.
        load(&mut app);
        draw(&mut terminal, &mut app)?;
        let mut out = io::stdout();
        out.write_all(OSC11_QUERY.as_bytes())?;
        out.flush()?;
        filter.sent = Some((Instant::now(), probe));
    }
    let mut effects = |terminal: &mut Terminal<WireBackend<io::Stdout>>,
                       app: &mut App,
                       effect: Effect|
     -> io::Result<()> {
        match effect {
            Effect::Edit { key, file } => {
                let result = input.paused(|| suspended(mouse, || crate::editor::edit(&file)));
                // The screen is ours again: a fresh terminal draws it whole.
                let backend =
                    WireBackend::with_size_query(io::stdout(), crossterm::terminal::size)?;
                *terminal = Terminal::new(backend)?;
                let size = terminal.size()?;
                app.update(Action::Resize(size.width, size.height));
                if let Err(e) = result? {
                    app.report(Report::Notify(e.to_string()));
                }
                // Read again by the loop right after this, and drawn then.
                app.report(Report::PostChanged(key));
            }
            other => perform(terminal.backend_mut(), other, &notices),
        }
        Ok(())
    };
    let workers = Workers {
        highlighter,
        searcher,
    };
    let exit = run_loop_filtered(
        &mut terminal,
        &mut app,
        &rx,
        &workers,
        &mut filter,
        saver.as_ref(),
        &mut effects,
    );
    filter.drain_unanswered();
    // On every way out (q, a signal, a hang-up) the last changes are saved.
    if let Some(saver) = saver {
        if let Some(changes) = app.take_reading_changes() {
            saver.submit(changes);
        }
        saver.finish();
    }
    exit
}

/// Starts watching `path` on a thread that keeps the watch until the
/// returned sender is dropped.
fn watch_in_background(path: std::path::PathBuf, tx: Sender<Input>) -> Sender<()> {
    let (keep, until) = mpsc::channel::<()>();
    let spawned = thread::Builder::new()
        .name("folio-watch-start".into())
        .spawn(move || match Watch::start(&path) {
            Ok(watch) => {
                watch.subscribe(Box::new(move |action| {
                    tx.send(Input::Report(action)).is_ok()
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
    enable_raw_mode()?;
    let mut stdout = io::stdout();
    execute!(
        stdout,
        EnterAlternateScreen,
        Clear(ClearType::All),
        cursor::Hide
    )?;
    if mouse {
        execute!(stdout, EnableMouseCapture)?;
    }
    Ok(out)
}

/// Does everything the app asks for, on this thread: reads the posts it
/// needs and lays them out highlighted. For tests and benchmarks; the loop
/// highlights in the background instead.
pub fn settle(app: &mut App) {
    load(app);
    while let Some(job) = app.pending_layout() {
        app.report(job.run());
    }
    while let Some(job) = app.pending_search() {
        run_search(&job, &|| false, &mut |action| app.report(action));
        load(app);
    }
}

/// Results are sent in batches of at most this many posts, so the list
/// fills in as the search goes.
const SEARCH_BATCH: usize = 200;

/// Runs a search across all posts: reads each post (files from disk,
/// folio's own posts from memory) and reports matching lines in batches as
/// [`Report::SearchResults`]. Stops early when `cancelled` says a newer
/// search has started, or once enough results were found.
pub fn run_search(job: &SearchJob, cancelled: &dyn Fn() -> bool, send: &mut dyn FnMut(Report)) {
    let mut found = 0;
    let mut hits = Vec::new();
    let mut scanned = 0;
    for target in &job.targets {
        if cancelled() {
            return;
        }
        // A post that cannot be read has no matches; opening it says why.
        if let Ok(source) = target.origin.read_source() {
            let max = search::MAX_RESULTS - found;
            let more = search::find_in_source(source.body(), &job.query, target, max);
            found += more.len();
            hits.extend(more);
        }
        scanned += 1;
        if found >= search::MAX_RESULTS {
            break;
        }
        if scanned == SEARCH_BATCH {
            send(Report::SearchResults {
                generation: job.generation,
                hits: std::mem::take(&mut hits),
                scanned,
                done: false,
            });
            scanned = 0;
        }
    }
    send(Report::SearchResults {
        generation: job.generation,
        hits,
        scanned,
        done: true,
    });
}

/// Reads the posts the app asks for and reports them back. The runner owns
/// all I/O; the app only says what it needs.
fn load(app: &mut App) {
    while let Some(post) = app.pending_load() {
        let result = post.read_source().map_err(|e| e.to_string());
        let bytes = result.as_ref().map_or(0, |source| source.text.len());
        if let Err(e) = &result {
            tracing::warn!(post = %post.rel_path.display(), error = %crate::sanitize::sanitize(e), "cannot read post");
        }
        let start = std::time::Instant::now();
        app.report(Report::Loaded(post.rel_path.clone(), result));
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
/// `tx` feeds `rx`: finished background work comes back through it.
pub fn run_loop<B: Backend + Extras>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    rx: &Receiver<Input>,
    tx: Sender<Input>,
) -> io::Result<Exit>
where
    B::Error: Send + Sync + 'static,
{
    let notices = tx.clone();
    let workers = Workers {
        highlighter: Highlighter::spawn(tx.clone()),
        searcher: Searcher::spawn(tx),
    };
    // No terminal of our own to hand over to an editor here.
    let mut effects =
        |terminal: &mut Terminal<B>, app: &mut App, effect: Effect| -> io::Result<()> {
            match effect {
                Effect::Edit { .. } => {
                    app.report(Report::Notify("Editing needs folio's own terminal".into()));
                }
                other => perform(terminal.backend_mut(), other, &notices),
            }
            Ok(())
        };
    run_loop_filtered(
        terminal,
        app,
        rx,
        &workers,
        &mut ReplyFilter::default(),
        None,
        &mut effects,
    )
}

/// The background threads the loop hands work to.
struct Workers {
    highlighter: Highlighter,
    searcher: Searcher,
}

impl Workers {
    fn submit(&self, app: &mut App) {
        self.highlighter.submit(app.pending_layout());
        self.searcher.submit(app.pending_search());
    }
}

/// Carries out what the app asked for: an effect, and saving state.
type Effects<'a, B> = dyn FnMut(&mut Terminal<B>, &mut App, Effect) -> io::Result<()> + 'a;

fn run_loop_filtered<B: Backend + Extras>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    rx: &Receiver<Input>,
    workers: &Workers,
    filter: &mut ReplyFilter,
    saver: Option<&Saver>,
    effects: &mut Effects<'_, B>,
) -> io::Result<Exit>
where
    B::Error: Send + Sync + 'static,
{
    load(app);
    workers.submit(app);
    draw(terminal, app)?;
    loop {
        let Ok(first) = rx.recv() else {
            return Ok(Exit::Closed);
        };
        // Apply everything already queued before drawing, so a burst of
        // keys (key repeat, a paste, a slow link) costs one frame.
        for input in std::iter::once(first).chain(rx.try_iter()) {
            match input {
                Input::Event(event) => {
                    for event in filter.feed(event) {
                        match event {
                            Filtered::Event(event) => apply_event(app, event),
                            Filtered::Theme(theme) => app.report(Report::SetTheme(theme)),
                        }
                    }
                }
                Input::Signal(sig) => return Ok(Exit::Signal(sig)),
                Input::Closed(_) => return Ok(Exit::Closed),
                Input::Report(report) => app.report(report),
            }
            for effect in app.take_effects() {
                effects(terminal, app, effect)?;
            }
            load(app);
            workers.submit(app);
            if app.should_quit() {
                return Ok(Exit::Quit);
            }
        }
        if let (Some(saver), Some(changes)) = (saver, app.take_reading_changes()) {
            saver.submit(changes);
        }
        if app.take_dirty() {
            draw(terminal, app)?;
        }
    }
}

/// Carries out what the app asked for. Nothing here may block the loop: the
/// opener is waited for on its own thread, which reports a failure back as a
/// notice.
fn perform<B: Extras>(backend: &mut B, effect: Effect, notices: &Sender<Input>) {
    match effect {
        // Needs the terminal handed over; the runner does it itself.
        Effect::Edit { .. } => {}
        Effect::Copy(text) => {
            if let Err(e) = backend.copy_to_clipboard(&text) {
                let _ = notices.send(Input::Report(Report::Notify(format!(
                    "Could not copy to the clipboard: {e}"
                ))));
            }
        }
        Effect::OpenUrl(url) => {
            if let Err(e) = open_with(OPENER, &url, notices.clone()) {
                let _ = notices.send(Input::Report(Report::Notify(e)));
            }
        }
    }
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
    thread::spawn(move || match child.wait() {
        Ok(status) if status.success() => {}
        Ok(status) => {
            let _ = notices.send(Input::Report(Report::Notify(format!(
                "{opener} could not open the link ({status})"
            ))));
        }
        Err(e) => {
            let _ = notices.send(Input::Report(Report::Notify(format!(
                "{opener} failed: {e}"
            ))));
        }
    });
    Ok(())
}

fn draw<B: Backend + Extras>(terminal: &mut Terminal<B>, app: &mut App) -> io::Result<()>
where
    B::Error: Send + Sync + 'static,
{
    app.take_dirty();
    terminal.backend_mut().set_hyperlinks(&ui::hyperlinks(app));
    terminal
        .draw(|frame| ui::draw(app, frame))
        .map_err(io::Error::other)?;
    Ok(())
}

/// What comes out of [`ReplyFilter::feed`].
#[derive(Debug)]
pub enum Filtered {
    Event(Event),
    /// The terminal answered in time: switch to this theme.
    Theme(Box<Theme>),
}

/// Holds back key bursts that may be an OSC 11 reply (see the module doc).
/// A burst that stops looking like one is let through in order, so a person
/// pressing `Alt-]` loses nothing.
#[derive(Debug, Default)]
pub struct ReplyFilter {
    /// When the query went out, and what to do with the answer.
    pub sent: Option<(Instant, Probe)>,
    answered: bool,
    held: Vec<Event>,
    body: String,
    /// An `Esc` inside a reply: the first half of an ST split across reads.
    esc: bool,
}

impl ReplyFilter {
    pub fn feed(&mut self, event: Event) -> Vec<Filtered> {
        let Event::Key(key) = &event else {
            // Resizes and the mouse are never part of a reply.
            return vec![Filtered::Event(event)];
        };
        let key = *key;
        if key.kind == KeyEventKind::Release {
            return if self.held.is_empty() {
                vec![Filtered::Event(event)]
            } else {
                Vec::new()
            };
        }
        let ch = match key.code {
            event::KeyCode::Char(c) => Some(c),
            _ => None,
        };
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if self.held.is_empty() {
            if alt && ch == Some(']') {
                self.held.push(event);
                return Vec::new();
            }
            return vec![Filtered::Event(event)];
        }
        let end = (ctrl && ch == Some('g'))
            || (alt && ch == Some('\\'))
            || (self.esc && ch == Some('\\'));
        if end && self.body.starts_with("11;") {
            return self.finish();
        }
        if !ctrl && !alt && !self.esc && key.code == event::KeyCode::Esc {
            self.esc = true;
            self.held.push(event);
            return Vec::new();
        }
        if let (Some(c), false, false, false) = (ch, ctrl, alt, self.esc) {
            self.body.push(c);
            if plausible_reply(&self.body) {
                self.held.push(event);
                return Vec::new();
            }
        }
        self.held.push(event);
        self.flush()
    }

    /// The whole reply is in: swallow it, and switch themes if it came in
    /// time and was understood.
    fn finish(&mut self) -> Vec<Filtered> {
        let body = std::mem::take(&mut self.body);
        self.held.clear();
        self.esc = false;
        let first = !self.answered;
        self.answered = true;
        let (Some(rgb), Some((at, probe)), true) =
            (color::parse_osc11_body(&body), &self.sent, first)
        else {
            return Vec::new();
        };
        if at.elapsed() > REPLY_DEADLINE {
            return Vec::new();
        }
        let theme = match Background::of_rgb(rgb) {
            Background::Light => probe.light.clone(),
            Background::Dark => probe.dark.clone(),
        };
        vec![Filtered::Theme(theme)]
    }

    fn flush(&mut self) -> Vec<Filtered> {
        self.body.clear();
        self.esc = false;
        self.held.drain(..).map(Filtered::Event).collect()
    }

    /// On the way out: a reply still on its way would land in the shell as
    /// typed text, so give it the rest of the deadline to arrive and drop it
    /// from the terminal's input queue.
    fn drain_unanswered(&self) {
        let Some((at, _)) = &self.sent else { return };
        if self.answered {
            return;
        }
        if let Some(left) = REPLY_DEADLINE.checked_sub(at.elapsed()) {
            thread::sleep(left);
        }
        let _ = rustix::termios::tcflush(io::stdin(), rustix::termios::QueueSelector::IFlush);
    }
}

/// Whether `body` (what followed `ESC ]`) can still become `11;rgb:…`.
fn plausible_reply(body: &str) -> bool {
    const PREFIX: &str = "11;";
    if body.len() <= PREFIX.len() {
        return PREFIX.starts_with(body);
    }
    body.starts_with(PREFIX)
        && body.len() < 48
        && body[PREFIX.len()..]
            .chars()
            .all(|c| c.is_ascii_hexdigit() || matches!(c, 'r' | 'g' | 'b' | 'a' | ':' | '/'))
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

/// One background thread that works on the newest job only: a job still
/// waiting when another comes is dropped unstarted, so a reader who moves on
/// (to the next post, the next letter of a query) never queues up work.
struct Newest<J> {
    slot: Arc<(Mutex<Option<J>>, std::sync::Condvar)>,
}

impl<J: Send + 'static> Newest<J> {
    /// Runs `work` on each job taken; the thread ends when `work` says the
    /// loop is gone (false).
    fn spawn(mut work: impl FnMut(J) -> bool + Send + 'static) -> Newest<J> {
        let slot = Arc::new((Mutex::new(None::<J>), std::sync::Condvar::new()));
        let worker = Arc::clone(&slot);
        thread::spawn(move || {
            QUIET_PANICS.with(|quiet| quiet.set(true));
            loop {
                let job = {
                    let (lock, ready) = &*worker;
                    let Ok(mut pending) = lock.lock() else { return };
                    loop {
                        if let Some(job) = pending.take() {
                            break job;
                        }
                        let Ok(next) = ready.wait(pending) else {
                            return;
                        };
                        pending = next;
                    }
                };
                if !work(job) {
                    return;
                }
            }
        });
        Newest { slot }
    }

    fn submit(&self, job: Option<J>) {
        let Some(job) = job else { return };
        let (lock, ready) = &*self.slot;
        if let Ok(mut pending) = lock.lock() {
            *pending = Some(job);
            ready.notify_one();
        }
    }
}

/// Lays posts out with their code highlighted, in the background.
struct Highlighter(Newest<LayoutJob>);

impl Highlighter {
    fn spawn(tx: Sender<Input>) -> Highlighter {
        Highlighter(Newest::spawn(move |job: LayoutJob| {
            // A post that makes the renderer panic stays in its plain
            // layout, which was made without syntect.
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job.run()));
            if let Ok(action) = run {
                tx.send(Input::Report(action)).is_ok()
            } else {
                tracing::error!(
                    post = %job.key.display(),
                    "highlighting panicked; the post stays plain"
                );
                true
            }
        }))
    }

    fn submit(&self, job: Option<LayoutJob>) {
        self.0.submit(job);
    }
}

/// Runs the search across all posts in the background. Besides the waiting
/// search being replaced, the one running stops at its next post once a
/// newer one is submitted.
struct Searcher {
    worker: Newest<SearchJob>,
    latest: Arc<std::sync::atomic::AtomicU64>,
}

impl Searcher {
    fn spawn(tx: Sender<Input>) -> Searcher {
        use std::sync::atomic::Ordering;
        let latest = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let newest = Arc::clone(&latest);
        let worker = Newest::spawn(move |job: SearchJob| {
            let stale = || newest.load(Ordering::Relaxed) != job.generation;
            let mut gone = false;
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                run_search(&job, &stale, &mut |action| {
                    gone |= tx.send(Input::Report(action)).is_err();
                });
            }));
            if run.is_err() {
                tracing::error!("the search across posts panicked");
            }
            !gone
        });
        Searcher { worker, latest }
    }

    fn submit(&self, job: Option<SearchJob>) {
        let Some(job) = job else { return };
        self.latest
            .store(job.generation, std::sync::atomic::Ordering::Relaxed);
        self.worker.submit(Some(job));
    }
}

/// crossterm's reader takes end-of-file on the tty for "no input yet" and
/// spins; when the terminal goes away without a SIGHUP reaching us (the
/// pty's master closed, the session leader gone), only a hang-up on the tty
/// says so. This thread polls the tty for nothing but that.
fn spawn_hangup_watcher(tx: Sender<Input>) {
    use rustix::event::{PollFd, PollFlags, poll};
    use std::io::IsTerminal;
    use std::os::fd::AsFd;
    thread::spawn(move || {
        let stdin = io::stdin();
        // crossterm reads /dev/tty when stdin is not the terminal.
        let tty = if stdin.is_terminal() {
            None
        } else {
            match std::fs::File::open("/dev/tty") {
                Ok(f) => Some(f),
                Err(_) => return,
            }
        };
        let fd = tty.as_ref().map_or_else(|| stdin.as_fd(), AsFd::as_fd);
        loop {
            // No events asked for: poll still reports a hang-up or an error.
            let mut fds = [PollFd::from_borrowed_fd(fd, PollFlags::empty())];
            match poll(&mut fds, None) {
                Ok(_) => {
                    let gone = PollFlags::HUP | PollFlags::ERR | PollFlags::NVAL;
                    if fds[0].revents().intersects(gone) {
                        let _ = tx.send(Input::Closed("the terminal hung up".into()));
                        return;
                    }
                }
                Err(rustix::io::Errno::INTR) => {}
                Err(_) => return,
            }
        }
    });
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

    /// In the thread: whether to go on reading; blocks while paused.
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

fn spawn_input_thread(tx: Sender<Input>) -> InputThread {
    let state = Arc::new((Mutex::new((false, false)), std::sync::Condvar::new()));
    let mine = Arc::clone(&state);
    thread::spawn(move || {
        // A panic here must still end the loop, or the main thread would wait
        // forever on a terminal nobody reads.
        let reader = std::panic::AssertUnwindSafe(|| {
            loop {
                InputThread::may_read(&mine);
                // Poll with a timeout rather than block in `read`, so a
                // pause takes effect (within this long) before the editor
                // starts.
                match event::poll(Duration::from_millis(100)) {
                    Ok(false) => continue,
                    Ok(true) => {}
                    Err(e) => {
                        let _ = tx.send(Input::Closed(e.to_string()));
                        break;
                    }
                }
                // Input arrived as a pause began: it is the editor's.
                if mine.0.lock().is_ok_and(|s| s.0) {
                    continue;
                }
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
    InputThread { state }
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

thread_local! {
    /// Set on threads that catch their own panics.
    static QUIET_PANICS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// On a panic anywhere, restore the terminal first so the message that the
/// default hook prints lands on a normal screen, readable.
fn install_panic_hook(mouse: bool) {
    static ONCE: Once = Once::new();
    MOUSE.store(mouse, std::sync::atomic::Ordering::Relaxed);
    ONCE.call_once(|| {
        let previous = Arc::new(std::panic::take_hook());
        std::panic::set_hook(Box::new(move |info| {
            // A panic that its thread catches and handles (the highlighter)
            // must neither restore the terminal under the running reader nor
            // print over it.
            if QUIET_PANICS.with(std::cell::Cell::get) {
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

    /// The keys crossterm makes of `bytes`, as its parser does for an OSC
    /// reply: `ESC x` is Alt-x, BEL is Ctrl-g.
    fn keys(bytes: &str) -> Vec<Event> {
        let mut out = Vec::new();
        let mut chars = bytes.chars().peekable();
        while let Some(c) = chars.next() {
            let key = match c {
                '\x1b' => match chars.next() {
                    Some(n) => KeyEvent::new(event::KeyCode::Char(n), KeyModifiers::ALT),
                    None => KeyEvent::new(event::KeyCode::Esc, KeyModifiers::NONE),
                },
                '\x07' => KeyEvent::new(event::KeyCode::Char('g'), KeyModifiers::CONTROL),
                c => KeyEvent::new(event::KeyCode::Char(c), KeyModifiers::NONE),
            };
            out.push(Event::Key(key));
        }
        out
    }

    fn probe() -> Probe {
        Probe {
            dark: Box::new(Theme::builtin("dark").unwrap()),
            light: Box::new(Theme::builtin("light").unwrap()),
        }
    }

    fn run(filter: &mut ReplyFilter, input: &str) -> (Vec<Event>, Vec<String>) {
        let mut events = Vec::new();
        let mut themes = Vec::new();
        for e in keys(input) {
            for f in filter.feed(e) {
                match f {
                    Filtered::Event(e) => events.push(e),
                    Filtered::Theme(t) => themes.push(t.name),
                }
            }
        }
        (events, themes)
    }

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

    #[test]
    fn reply_in_time_switches_and_is_swallowed() {
        let mut f = ReplyFilter {
            sent: Some((Instant::now(), probe())),
            ..ReplyFilter::default()
        };
        let (events, themes) = run(&mut f, "j\x1b]11;rgb:ffff/ffff/ffff\x07k");
        assert_eq!(events, keys("jk"));
        assert_eq!(themes, ["light"]);
    }

    #[test]
    fn st_terminator_and_a_split_st() {
        let mut f = ReplyFilter {
            sent: Some((Instant::now(), probe())),
            ..ReplyFilter::default()
        };
        let (events, themes) = run(&mut f, "\x1b]11;rgb:1c1c/1c1c/1c1c\x1b\\");
        assert!(events.is_empty());
        assert_eq!(themes, ["dark"]);
        let mut f = ReplyFilter::default();
        let mut input = keys("\x1b]11;rgb:00/00/00");
        input.push(Event::Key(KeyEvent::new(
            event::KeyCode::Esc,
            KeyModifiers::NONE,
        )));
        input.extend(keys("\\q"));
        let out: Vec<_> = input.into_iter().flat_map(|e| f.feed(e)).collect();
        assert!(
            matches!(&out[..], [Filtered::Event(e)] if *e == keys("q")[0]),
            "{out:?}"
        );
    }

    #[test]
    fn late_reply_is_swallowed_without_switching() {
        let mut f = ReplyFilter {
            sent: Some((
                Instant::now().checked_sub(Duration::from_secs(5)).unwrap(),
                probe(),
            )),
            ..ReplyFilter::default()
        };
        let (events, themes) = run(&mut f, "\x1b]11;rgb:ffff/ffff/ffff\x07G");
        assert_eq!(events, keys("G"));
        assert!(themes.is_empty());
    }

    #[test]
    fn what_is_not_a_reply_goes_through_in_order() {
        let mut f = ReplyFilter::default();
        for input in ["\x1b]j", "\x1b]1x", "\x1b]11;rgb:zz", "\x1b]12;?"] {
            let (events, _) = run(&mut f, input);
            assert_eq!(events, keys(input), "{input:?}");
        }
        let (events, _) = run(&mut f, "abc");
        assert_eq!(events, keys("abc"));
    }
}
