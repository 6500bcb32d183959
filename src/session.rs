//! One reader session, whatever the transport: the local terminal and each
//! visitor of `folio serve` run the same [`Session`].
//!
//! A session owns the [`App`], the ratatui `Terminal` over a [`WireBackend`]
//! and the input [`Parser`]. Its runner feeds it what arrives — bytes from
//! the terminal ([`Session::input`]), a new size ([`Session::resize`]),
//! finished work ([`Session::report`]) — then calls [`Session::step`], which
//! hands the app's requests to an [`Executor`] and its effects to a
//! [`Host`], and [`Session::frame`], which draws once for everything that
//! arrived. It is the only caller of [`ui::draw`] and of the app's outbox
//! (`take_effects`, `pending_*`, `take_dirty`, `take_reading_changes`).
//!
//! A session has no clock of its own: the runner passes the time with the
//! input, and asks [`Session::deadline`] when to call
//! [`Session::timeout`] (a lone `Esc` is a key only once nothing follows it).
//!
//! The background-colour question (OSC 11, for `theme: auto`) is asked right
//! after the first frame, never before it; a reply within
//! [`REPLY_DEADLINE`] switches the theme once, a later one is swallowed.
//! So is the question whether the terminal has left/right margins (DECRQM
//! for DECLRMM, [`MARGINS_QUERY`]): a yes, whenever it comes, lets the
//! backend scroll the reader's columns alone; it only changes how frames
//! are sent, never what they show.
//!
//! Where the runner allows it ([`Session::ask_graphics`], the local
//! terminal), the picture questions ([`crate::graphics::QUERY`]) go out with
//! them; the DA1 reply, whenever it comes, settles the protocol (see
//! [`crate::graphics::choose`]) and pictures switch from half blocks to it.
//! A second DA1 reply (typed, or a terminal's own) changes nothing. Until
//! that reply (or [`REPLY_DEADLINE`]), pictures wait, to be decoded once,
//! for the protocol chosen.

use std::io::{self, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};

use crate::action::{Action, Effect, Report};
use crate::app::App;
use crate::color::Background;
use crate::graphics::{Answers, Graphics, Hint};
use crate::input::{Event, Parser};
use crate::picture::PictureJob;
use crate::state::ReadingChanges;
use crate::theme::Theme;
use crate::ui;
use crate::wire::{Extras, WireBackend};
use crate::work::{Executor, Work, submit_work};

/// How long a lone `Esc` waits for the rest of a sequence.
pub const ESC_TIMEOUT: Duration = Duration::from_millis(40);
/// A background-colour reply later than this is still swallowed, but no
/// longer switches the theme: by then the reader is in use and a sudden
/// change would jar. Long enough for a reply over SSH from the other side
/// of the world, short enough to go unnoticed locally.
pub const REPLY_DEADLINE: Duration = Duration::from_millis(500);
/// The question for the background colour, ST-terminated.
pub const OSC11_QUERY: &str = "\x1b]11;?\x1b\\";
/// The question whether the terminal knows left/right margin mode
/// (DECRQM for mode 69, DECLRMM); the answer is `CSI ? 69 ; Ps $ y`.
pub const MARGINS_QUERY: &str = "\x1b[?69$p";
/// Primary device attributes (DA1), asked after the other questions: every
/// terminal answers it, and answers in order, so once its reply is in, no
/// answer to an earlier question is still on its way (a question the
/// terminal does not know gets none).
pub const SENTINEL: &str = "\x1b[c";

/// The longest text copied with OSC 52: terminals cap what they take
/// (xterm and tmux among them), and over SSH a huge copy is a huge write.
pub const MAX_COPY: usize = 8 * 1024;

/// What a terminal is sent when a session starts, by either runner: the
/// alternate screen, no cursor, bracketed paste (so a paste is dropped
/// rather than read as commands), a clear screen.
pub const ENTER: &str = "\x1b[?1049h\x1b[?25l\x1b[?2004h\x1b[2J";
/// Mouse reports, SGR-encoded: clicks and the wheel, not motion.
pub const MOUSE_ON: &str = "\x1b[?1000h\x1b[?1006h";
/// Undoes [`ENTER`] and [`MOUSE_ON`], whatever state the last frame left.
pub const LEAVE: &str =
    "\x1b[?2026l\x1b[0m\x1b[?69l\x1b[r\x1b[?1006l\x1b[?1000l\x1b[?2004l\x1b[?25h\x1b[?1049l";

/// The two themes `theme: auto` picks between once the terminal answers.
#[derive(Debug, Clone)]
pub struct Probe {
    pub dark: Box<Theme>,
    pub light: Box<Theme>,
}

/// What a URL did when the host was asked to open it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opened {
    /// The opener started (a failure later is reported as a notice).
    Started,
    /// It could not be started: why.
    Failed(String),
    /// This transport opens nothing (a visitor's link would open on the
    /// server): the URL is copied to the reader's clipboard instead.
    NotHere,
}

/// What only the transport can do for a session.
pub trait Host {
    /// Opens `url` (http, https or mailto) with the system's opener.
    fn open_url(&mut self, _url: &str) -> Opened {
        Opened::NotHere
    }

    /// Runs the person's editor on `file` (at 1-based `line`), the
    /// terminal handed over until it returns.
    fn edit(&mut self, _file: &Path, _line: Option<usize>) -> Result<(), String> {
        Err(crate::editor::REMOTE.into())
    }

    /// Keeps what changed of the reading state (positions, read marks).
    fn save(&mut self, _changes: ReadingChanges) {}
}

/// A host that can do nothing a transport does: tests and remote visitors.
#[derive(Debug, Default)]
pub struct NoHost;

impl Host for NoHost {}

/// Whether the session goes on after [`Session::step`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Quit,
}

pub struct Session<W: Write> {
    app: App,
    terminal: Terminal<WireBackend<W>>,
    parser: Parser,
    /// Since when a lone `Esc` (or half a sequence) waits.
    pending_since: Option<Instant>,
    probe: Option<Probe>,
    /// When the background-colour question went out, until answered.
    asked: Option<Instant>,
    answered: bool,
    /// When the margins question went out, until answered.
    margins_asked: Option<Instant>,
    /// The picture questions: what was known before asking, when they went
    /// out (until DA1 answers), and the answers so far.
    graphics: Option<GraphicsProbe>,
    /// The terminal answered the [`SENTINEL`] after the questions: nothing
    /// more is on its way.
    settled: bool,
    /// Pictures asked for since the last frame: decoded once it is out, so
    /// a post's first screen of text never shares the cores with them.
    held: Vec<PictureJob>,
    /// A frame was drawn (or nothing needed one) since they were held.
    held_framed: bool,
    /// Until when held pictures wait for the terminal to answer the
    /// picture questions (DA1): its answer says which protocol to decode
    /// them for.
    pictures_wait: Option<Instant>,
}

#[derive(Debug, Clone, Copy)]
struct GraphicsProbe {
    hint: Hint,
    asked: Option<Instant>,
    answers: Answers,
}

impl<W: Write> Session<W> {
    /// A session drawing into `out`, a terminal of `size` (columns, rows).
    pub fn new(mut app: App, out: W, size: (u16, u16), probe: Option<Probe>) -> io::Result<Self> {
        let (w, h) = size;
        let terminal = Terminal::with_options(
            WireBackend::new(out, w, h),
            TerminalOptions {
                viewport: Viewport::Fixed(Rect::new(0, 0, w, h)),
            },
        )?;
        app.update(Action::Resize(w, h));
        Ok(Session {
            app,
            terminal,
            parser: Parser::new(),
            pending_since: None,
            probe,
            asked: None,
            answered: false,
            margins_asked: None,
            graphics: None,
            settled: false,
            held: Vec::new(),
            held_framed: false,
            pictures_wait: None,
        })
    }

    /// Pictures may use a protocol: ask the terminal which (unless the
    /// `images` setting forces one or turns pictures off), with `hint`
    /// for what is known without asking. Before [`Session::start`].
    pub fn ask_graphics(&mut self, hint: Hint) {
        self.graphics = Some(GraphicsProbe {
            hint,
            asked: None,
            answers: Answers::default(),
        });
    }

    pub fn app(&self) -> &App {
        &self.app
    }

    pub fn app_mut(&mut self) -> &mut App {
        &mut self.app
    }

    /// Where frames are written (the SSH runner takes its bytes from here).
    pub fn writer_mut(&mut self) -> &mut W {
        self.terminal.backend_mut().writer_mut()
    }

    /// The first frame, then the background-colour question (when there
    /// is a theme pair to choose from).
    pub fn start(
        &mut self,
        now: Instant,
        exec: &mut dyn Executor,
        host: &mut dyn Host,
    ) -> io::Result<Flow> {
        let flow = self.step(exec, host)?;
        self.app.take_dirty();
        self.draw(false)?;
        let probe = self.probe.is_some();
        let images = self.app.options.images;
        let ask = match (&mut self.graphics, Graphics::forced(images)) {
            (Some(g), None) if images == crate::picture::Images::Auto => {
                g.asked = Some(now);
                self.pictures_wait = Some(now + REPLY_DEADLINE);
                true
            }
            (Some(g), Some(forced)) => {
                let cell = crate::graphics::cell_size(g.hint.cell);
                self.app.report(Report::Graphics(forced, cell));
                false
            }
            _ => false,
        };
        let out = self.writer_mut();
        if probe {
            out.write_all(OSC11_QUERY.as_bytes())?;
        }
        out.write_all(MARGINS_QUERY.as_bytes())?;
        // The picture questions end with DA1 themselves.
        if ask {
            out.write_all(crate::graphics::QUERY.as_bytes())?;
        } else {
            out.write_all(SENTINEL.as_bytes())?;
        }
        out.flush()?;
        if probe {
            self.asked = Some(now);
        }
        self.margins_asked = Some(now);
        Ok(flow)
    }

    /// Bytes from the terminal: keys, the mouse, replies to questions.
    pub fn input(&mut self, bytes: &[u8], now: Instant) {
        let events = self.parser.feed(bytes);
        self.pending_since = self.parser.has_pending().then_some(now);
        self.apply(events, now);
    }

    /// When [`Session::timeout`] should be called, if at all: a lone `Esc`
    /// becomes a key once nothing has followed it for [`ESC_TIMEOUT`], and
    /// pictures stop waiting for a terminal that has not answered within
    /// [`REPLY_DEADLINE`].
    pub fn deadline(&self) -> Option<Instant> {
        let esc = self.pending_since.map(|since| since + ESC_TIMEOUT);
        [esc, self.pictures_wait].into_iter().flatten().min()
    }

    /// [`Session::deadline`] has come: what is pending is what it looked
    /// like, and held pictures wait no more.
    pub fn timeout(&mut self, now: Instant) {
        if self.pictures_wait.is_some_and(|until| until <= now) {
            self.pictures_wait = None;
        }
        if self
            .pending_since
            .is_some_and(|since| since + ESC_TIMEOUT <= now)
        {
            self.pending_since = None;
            let events = self.parser.flush();
            self.apply(events, now);
        }
    }

    fn apply(&mut self, events: Vec<Event>, now: Instant) {
        for event in events {
            match event {
                Event::Key(key) => self.app.key(key),
                Event::Wheel(wheel, x, y) => self.app.update(Action::Scroll(wheel, x, y)),
                Event::Click(x, y) => self.app.update(Action::Click(x, y)),
                Event::Background(rgb) => self.background(rgb, now),
                // Only an answer to our own question, and only the first.
                Event::Margins(yes) => {
                    if self.margins_asked.take().is_some() {
                        self.terminal.backend_mut().set_margins(yes);
                    }
                }
                Event::Kitty(ok) => {
                    if let Some(g) = self.graphics.as_mut().filter(|g| g.asked.is_some()) {
                        g.answers.kitty = ok;
                    }
                }
                Event::CellSize(w, h) => {
                    if let Some(g) = self.graphics.as_mut().filter(|g| g.asked.is_some()) {
                        g.answers.cell = Some((w, h));
                    }
                }
                Event::DeviceAttributes { sixel } => {
                    self.pictures_wait = None;
                    self.settled = true;
                    if let Some(g) = self.graphics.as_mut()
                        && g.asked.take().is_some()
                    {
                        let chosen = crate::graphics::choose(g.answers, sixel, g.hint);
                        let cell = crate::graphics::cell_size(g.answers.cell.or(g.hint.cell));
                        tracing::debug!(graphics = chosen.name(), ?cell, "the terminal answered");
                        if chosen != Graphics::Halfblocks {
                            self.app.report(Report::Graphics(chosen, cell));
                        }
                    }
                }
            }
        }
    }

    /// The terminal told its background colour: only the first, timely
    /// answer to our own question counts.
    fn background(&mut self, rgb: [u8; 3], now: Instant) {
        let (Some(asked), Some(probe), false) = (self.asked, &self.probe, self.answered) else {
            return;
        };
        self.answered = true;
        if now.saturating_duration_since(asked) > REPLY_DEADLINE {
            return;
        }
        let theme = match Background::of_rgb(rgb) {
            Background::Light => probe.light.clone(),
            Background::Dark => probe.dark.clone(),
        };
        self.app.report(Report::SetTheme(theme));
    }

    /// How much longer an answer to one of the questions may still come (a
    /// runner leaving the terminal waits that long, then drops the reply so
    /// it does not land in the shell as typed text); none once the
    /// terminal has answered the [`SENTINEL`] that followed them.
    pub fn unanswered(&self, now: Instant) -> Option<Duration> {
        if self.settled {
            return None;
        }
        let colour = self.asked.filter(|_| !self.answered);
        let graphics = self.graphics.and_then(|g| g.asked);
        // They went out together: the earliest bounds the wait.
        let asked = [colour, self.margins_asked, graphics]
            .into_iter()
            .flatten()
            .min()?;
        Some(REPLY_DEADLINE.saturating_sub(now.saturating_duration_since(asked)))
    }

    /// The terminal now has `w` columns and `h` rows.
    pub fn resize(&mut self, w: u16, h: u16) -> io::Result<()> {
        let backend = self.terminal.backend_mut();
        backend.set_size(w, h);
        // A fixed viewport's resize clears line by line; the backend
        // re-sizes its buffers on a whole-screen clear.
        ratatui::backend::Backend::clear(backend)?;
        self.terminal.resize(Rect::new(0, 0, w, h))?;
        self.app.update(Action::Resize(w, h));
        Ok(())
    }

    /// Finished work, a change on disk, a message.
    pub fn report(&mut self, report: Report) {
        self.app.report(report);
    }

    /// After input or a report: the app's effects to the host, its work to
    /// `exec` (and, for an executor that works inline, its results back to
    /// the app until nothing more is asked), changed reading state to be
    /// kept.
    pub fn step(&mut self, exec: &mut dyn Executor, host: &mut dyn Host) -> io::Result<Flow> {
        // A runner that does not call `after_frame`: the pictures held at
        // the last frame go now. Not before that frame: a burst of input
        // (the post arriving with a terminal's reply) is several steps.
        if self.held_framed {
            self.after_frame(exec);
        }
        loop {
            self.perform(host)?;
            submit_work(&mut self.app, exec);
            self.held.extend(self.app.pending_pictures());
            let Some(report) = exec.ready() else { break };
            self.app.report(report);
        }
        if let Some(changes) = self.app.take_reading_changes() {
            host.save(changes);
        }
        Ok(if self.app.should_quit() {
            Flow::Quit
        } else {
            Flow::Continue
        })
    }

    /// After a frame (drawn or not): the pictures asked for before it go
    /// to `exec`, unless they wait for the terminal's answer (then they go
    /// at the first step after it, or after [`Session::deadline`]).
    pub fn after_frame(&mut self, exec: &mut dyn Executor) {
        if self.pictures_wait.is_some() {
            // The frame is out: the first step after the wait sends them.
            self.held_framed = true;
            return;
        }
        for job in self.held.drain(..) {
            exec.submit(Work::Picture(job));
        }
        self.held_framed = false;
    }

    fn perform(&mut self, host: &mut dyn Host) -> io::Result<()> {
        for effect in self.app.take_effects() {
            match effect {
                Effect::Copy(text) => self.copy(&text),
                Effect::OpenUrl(url) => match host.open_url(&url) {
                    Opened::Started => {}
                    Opened::Failed(why) => self.app.report(Report::Notify(why)),
                    Opened::NotHere => self.copy(&url),
                },
                Effect::Edit { key, file, line } => {
                    let result = host.edit(&file, line);
                    // The editor had the screen: draw it all again.
                    self.terminal.clear()?;
                    if let Err(why) = result {
                        self.app.report(Report::Notify(why));
                    }
                    self.app.report(Report::PostChanged(key));
                }
            }
        }
        Ok(())
    }

    fn copy(&mut self, text: &str) {
        if text.len() > MAX_COPY {
            self.app.report(Report::Notify(format!(
                "This is {} KB, too long to copy: folio copies at most {} KB.",
                text.len().div_ceil(1024),
                MAX_COPY / 1024
            )));
            return;
        }
        if let Err(e) = self.terminal.backend_mut().copy_to_clipboard(text) {
            self.app.report(Report::Notify(format!(
                "Could not copy to the clipboard: {e}"
            )));
        }
    }

    /// Frees the pictures the terminal keeps for this session (kitty's),
    /// for the runner to call before it leaves the terminal.
    pub fn release_pictures(&mut self) -> io::Result<()> {
        self.terminal.backend_mut().release_pictures()
    }

    /// Draws a frame if anything visible changed; with `repaint`, that
    /// frame paints the whole screen (the SSH runner dropped a frame the
    /// client never got). Whether a frame was drawn.
    pub fn frame(&mut self, repaint: bool) -> io::Result<bool> {
        self.held_framed = true;
        if !self.app.take_dirty() {
            return Ok(false);
        }
        self.draw(repaint)?;
        Ok(true)
    }

    fn draw(&mut self, repaint: bool) -> io::Result<()> {
        if repaint {
            self.terminal.clear()?;
        }
        let app = &self.app;
        let backend = self.terminal.backend_mut();
        backend.set_hyperlinks(&ui::hyperlinks(app));
        backend.set_placements(ui::placements(app));
        self.terminal.draw(|frame| ui::draw(app, frame))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::Options;
    use crate::keymap::Keymap;
    use crate::session::NoHost;
    use crate::work::Inline;

    fn session(probe: bool) -> Session<Vec<u8>> {
        let theme = Theme::builtin("dark").unwrap();
        let app = App::new(
            crate::posts::embedded(),
            theme.clone(),
            Keymap::default(),
            Options::default(),
        );
        let probe = probe.then(|| Probe {
            dark: Box::new(theme),
            light: Box::new(Theme::builtin("light").unwrap()),
        });
        Session::new(app, Vec::new(), (80, 24), probe).unwrap()
    }

    /// Does the work inline, counting the pictures handed to it.
    #[derive(Default)]
    struct Counting {
        inline: Inline,
        pictures: usize,
    }

    impl Executor for Counting {
        fn submit(&mut self, work: Work) {
            self.pictures += usize::from(matches!(work, Work::Picture(_)));
            self.inline.submit(work);
        }
        fn ready(&mut self) -> Option<crate::action::Report> {
            self.inline.ready()
        }
    }

    /// A session on a post with one picture (in `dir`).
    fn pictured(dir: &Path) -> Session<Vec<u8>> {
        image::RgbImage::new(40, 20)
            .save(dir.join("p.png"))
            .unwrap();
        std::fs::write(dir.join("post.md"), "# Post\n\n![p](p.png)\n").unwrap();
        let app = App::new(
            crate::posts::scan(dir).unwrap(),
            Theme::builtin("dark").unwrap(),
            Keymap::default(),
            Options::default(),
        );
        Session::new(app, Vec::new(), (80, 24), None).unwrap()
    }

    #[test]
    fn pictures_are_decoded_after_the_frame_that_shows_the_text_around_them() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = pictured(dir.path());
        let mut exec = Counting::default();
        let now = Instant::now();
        // The first frame shows the post beside the list: its picture waits
        // for it.
        s.start(now, &mut exec, &mut NoHost).unwrap();
        assert!(String::from_utf8_lossy(s.writer_mut()).contains("Post"));
        assert_eq!(exec.pictures, 0, "held until the post's text is out");
        // More input before that frame: still held.
        s.input(b"\x1b[?62;22c", now);
        s.step(&mut exec, &mut NoHost).unwrap();
        assert_eq!(exec.pictures, 0, "held until the post's text is out");
        s.after_frame(&mut exec);
        assert_eq!(exec.pictures, 1);
        s.after_frame(&mut exec);
        s.input(b"\r", now);
        s.step(&mut exec, &mut NoHost).unwrap();
        assert_eq!(exec.pictures, 1, "each picture once");
    }

    /// [`pictured`], asking the terminal about pictures, started at `t0`
    /// and its first frame out.
    fn asking_about_pictures() -> (tempfile::TempDir, Session<Vec<u8>>, Counting, Instant) {
        let dir = tempfile::tempdir().unwrap();
        let mut s = pictured(dir.path());
        let mut exec = Counting::default();
        let t0 = Instant::now();
        s.ask_graphics(crate::graphics::Hint::default());
        s.start(t0, &mut exec, &mut NoHost).unwrap();
        s.after_frame(&mut exec);
        (dir, s, exec, t0)
    }

    #[test]
    fn pictures_wait_for_the_terminal_to_answer_what_it_can_draw() {
        let (_dir, mut s, mut exec, t0) = asking_about_pictures();
        assert_eq!(exec.pictures, 0, "the terminal has not answered");
        assert_eq!(s.deadline(), Some(t0 + REPLY_DEADLINE));
        // Keys meanwhile: still waiting.
        s.input(b"j", t0 + Duration::from_millis(5));
        s.step(&mut exec, &mut NoHost).unwrap();
        s.frame(false).unwrap();
        s.after_frame(&mut exec);
        assert_eq!(exec.pictures, 0);
        // DA1: the terminal has read everything before the question.
        s.input(b"\x1b[?62;22c", t0 + Duration::from_millis(30));
        assert_eq!(s.deadline(), None);
        s.step(&mut exec, &mut NoHost).unwrap();
        assert_eq!(exec.pictures, 1);
    }

    #[test]
    fn pictures_stop_waiting_for_a_terminal_that_does_not_answer() {
        let (_dir, mut s, mut exec, t0) = asking_about_pictures();
        // A lone Esc meanwhile keeps its own, earlier deadline.
        s.input(b"\x1b", t0 + Duration::from_millis(10));
        let esc = t0 + Duration::from_millis(10) + ESC_TIMEOUT;
        assert_eq!(s.deadline(), Some(esc));
        s.timeout(esc);
        s.step(&mut exec, &mut NoHost).unwrap();
        assert_eq!(exec.pictures, 0, "the Esc's deadline is not the pictures'");
        assert_eq!(s.deadline(), Some(t0 + REPLY_DEADLINE));
        s.timeout(t0 + REPLY_DEADLINE);
        s.step(&mut exec, &mut NoHost).unwrap();
        assert_eq!(exec.pictures, 1);
        assert_eq!(s.deadline(), None);
    }

    #[test]
    fn the_question_follows_the_first_frame() {
        let mut s = session(true);
        let t0 = Instant::now();
        s.start(t0, &mut Inline::default(), &mut NoHost).unwrap();
        let out = String::from_utf8_lossy(s.writer_mut()).into_owned();
        let query = out.find(OSC11_QUERY).expect("asked");
        assert!(query > 100, "the frame comes first");
        assert!(out.ends_with(SENTINEL), "{out:?}");
        assert_eq!(s.unanswered(t0), Some(REPLY_DEADLINE));
        // A terminal that knows neither OSC 11 nor DECRQM answers DA1 alone:
        // a runner leaving need not wait for the others.
        s.input(b"\x1b[?62;22c", t0 + Duration::from_millis(3));
        assert_eq!(s.unanswered(t0 + Duration::from_millis(3)), None);
        assert_eq!(s.app().selected(), Some(0), "not read as keys");
    }

    #[test]
    fn a_timely_light_reply_switches_once_and_a_late_one_never() {
        let light = Theme::builtin("light").unwrap();
        let reply = b"\x1b]11;rgb:ffff/ffff/ffff\x1b\\";
        let mut s = session(true);
        let t0 = Instant::now();
        s.start(t0, &mut Inline::default(), &mut NoHost).unwrap();
        s.input(reply, t0 + Duration::from_millis(20));
        assert_eq!(s.app().theme().name, light.name);
        // The margins question is still open until its answer comes.
        assert!(s.unanswered(t0).is_some());
        s.input(b"\x1b[?69;0$y", t0 + Duration::from_millis(21));
        assert_eq!(s.unanswered(t0), None);

        let mut late = session(true);
        late.start(t0, &mut Inline::default(), &mut NoHost).unwrap();
        late.input(reply, t0 + REPLY_DEADLINE + Duration::from_millis(1));
        assert_ne!(late.app().theme().name, light.name);
        // Swallowed, not read as keys: nothing moved.
        assert_eq!(late.app().selected(), Some(0));
    }

    #[test]
    fn the_margins_question_is_asked_and_only_its_answer_counts() {
        let mut s = session(false);
        let t0 = Instant::now();
        s.start(t0, &mut Inline::default(), &mut NoHost).unwrap();
        let out = String::from_utf8_lossy(s.writer_mut()).into_owned();
        assert!(
            out.ends_with(&format!("{MARGINS_QUERY}{SENTINEL}")),
            "{out:?}"
        );
        assert_eq!(s.unanswered(t0), Some(REPLY_DEADLINE));
        let selected = s.app().selected();
        s.input(b"\x1b[?69;2$y", t0 + Duration::from_secs(2));
        assert!(s.terminal.backend().margins(), "a late yes still counts");
        assert_eq!(s.unanswered(t0), None);
        // A second answer (typed by a visitor, say) changes nothing, and no
        // answer ever moves the reader.
        s.input(b"\x1b[?69;0$y", t0 + Duration::from_secs(3));
        assert!(s.terminal.backend().margins());
        assert_eq!(s.app().selected(), selected);
    }

    #[test]
    fn a_lone_esc_waits_for_its_deadline() {
        let mut s = session(false);
        let t0 = Instant::now();
        s.start(t0, &mut Inline::default(), &mut NoHost).unwrap();
        s.input(b"\r", t0);
        s.step(&mut Inline::default(), &mut NoHost).unwrap();
        assert_eq!(s.app().focus(), crate::app::Focus::Reader);
        s.input(b"\x1b", t0);
        assert_eq!(s.deadline(), Some(t0 + ESC_TIMEOUT));
        assert_eq!(s.app().focus(), crate::app::Focus::Reader);
        s.timeout(t0 + ESC_TIMEOUT);
        assert_eq!(s.deadline(), None);
        assert_eq!(s.app().focus(), crate::app::Focus::List);
    }

    #[test]
    fn the_picture_questions_follow_the_first_frame_and_only_the_first_da1_counts() {
        let mut s = session(false);
        s.ask_graphics(Hint::default());
        let t0 = Instant::now();
        s.start(t0, &mut Inline::default(), &mut NoHost).unwrap();
        let out = String::from_utf8_lossy(s.writer_mut()).into_owned();
        let at = out.find(crate::graphics::QUERY).expect("asked");
        assert!(at > 100, "the frame comes first");
        assert_eq!(s.unanswered(t0), Some(REPLY_DEADLINE));
        let selected = s.app().selected();
        // Late and split, still an answer, and never keys.
        s.input(b"\x1b_Gi=31;O", t0 + Duration::from_secs(2));
        s.input(
            b"K\x1b\\\x1b[6;20;10t\x1b[?62;",
            t0 + Duration::from_secs(2),
        );
        s.input(b"22c\x1b[?69;0$y", t0 + Duration::from_secs(2));
        assert_eq!(s.app().graphics(), Graphics::Kitty);
        assert_eq!(s.unanswered(t0), None);
        assert_eq!(s.app().selected(), selected);
        // A second DA1 (typed, or the terminal's own) changes nothing.
        s.input(b"\x1b[?63;4c", t0 + Duration::from_secs(3));
        assert_eq!(s.app().graphics(), Graphics::Kitty);
    }

    #[test]
    fn without_asking_pictures_stay_half_blocks() {
        // A visitor of `folio serve`: nothing asked, answers ignored.
        let mut s = session(false);
        s.start(Instant::now(), &mut Inline::default(), &mut NoHost)
            .unwrap();
        let out = String::from_utf8_lossy(s.writer_mut()).into_owned();
        assert!(!out.contains(crate::graphics::QUERY));
        s.input(b"\x1b_Gi=31;OK\x1b\\\x1b[?62;4c", Instant::now());
        assert_eq!(s.app().graphics(), Graphics::Halfblocks);
    }

    #[test]
    fn quitting_ends_the_step() {
        let mut s = session(false);
        s.start(Instant::now(), &mut Inline::default(), &mut NoHost)
            .unwrap();
        s.input(b"q", Instant::now());
        let flow = s.step(&mut Inline::default(), &mut NoHost).unwrap();
        assert_eq!(flow, Flow::Quit);
    }
}
