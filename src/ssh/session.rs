//! One visitor's reader: the shared [`Session`] driven by the visitor's
//! bytes, window changes, finished work and reloads, with the session's
//! timers; its frames go out through a one-frame [`Outbox`], and a
//! supervisor restores the visitor's terminal however the session ends.

use std::fmt::Write as _;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::ChannelWriteHalf;
use russh::server::Msg;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::time::Instant;

use super::conn::Env;
use super::{GOODBYE_TIMEOUT, Look, Site, Stats, lock};
use crate::action::Report;
use crate::app::{App, LayoutJob, Options};
use crate::color::Depth;
use crate::limits::{Limits, MAX_CELLS, Screens};
use crate::sanitize::sanitize;
use crate::session::{ENTER, Flow, Host, LEAVE, MOUSE_ON, Probe, Session};
use crate::work::Executor;

/// A window change is applied once the size has been steady this long...
const RESIZE_QUIET: Duration = Duration::from_millis(100);
/// ...or this long after the first one not yet applied, whichever comes
/// first...
const RESIZE_LATEST: Duration = Duration::from_millis(500);
/// ...and never sooner than this after the last one applied: each costs a
/// repaint and a relayout, so a few a second at most, however many arrive.
const RESIZE_EVERY: Duration = Duration::from_millis(250);

/// Past this, a frame is not counted as the answer to the input before it.
const UNANSWERED: Duration = Duration::from_secs(10);
/// The decoded pictures one visitor's session may hold (past it, those it
/// holds are dropped, and those still on screen are asked for again, most
/// often from the site's cache): a few
/// screens' worth, so a visitor reading post after post cannot make the
/// server keep every picture they saw, while a full screen of pictures
/// (at most [`MAX_CELLS`] cells, 8 bytes each in half blocks) fits three
/// times over.
pub const SESSION_PICTURE_BYTES: usize = 1 << 20;
const _: () = assert!(
    SESSION_PICTURE_BYTES
        >= 3 * MAX_CELLS
            * std::mem::size_of::<(Option<ratatui::style::Color>, Option<ratatui::style::Color>)>()
);

pub(super) struct SessionCtx {
    pub(super) site: Arc<Site>,
    pub(super) env: Env,
    pub(super) size: watch::Receiver<(u16, u16)>,
    pub(super) input: mpsc::Receiver<Vec<u8>>,
    /// The connection ends the session, saying why.
    pub(super) kick: oneshot::Receiver<&'static str>,
    pub(super) shutdown: watch::Receiver<bool>,
    pub(super) limits: Limits,
    pub(super) screens: Arc<Mutex<Screens>>,
    pub(super) stats: Stats,
}

/// Why a session ended, and what the visitor is told.
#[derive(Debug, Clone, PartialEq, Eq)]
enum End {
    Quit,
    ClientGone,
    Idle(Duration),
    TooLong(Duration),
    Kicked(&'static str),
    Shutdown,
    Crashed,
    Failed(String),
}

impl End {
    fn goodbye(&self) -> Option<String> {
        let minutes = |d: &Duration| d.as_secs().div_ceil(60);
        Some(match self {
            End::Quit => "folio: thanks for reading. Goodbye.".into(),
            End::ClientGone => return None,
            End::Idle(d) => format!(
                "folio: closed after {} minutes without a key press. Goodbye.",
                minutes(d)
            ),
            End::TooLong(d) => format!(
                "folio: sessions last at most {} minutes. Goodbye.",
                minutes(d)
            ),
            End::Kicked(why) => format!("folio: {why}. Goodbye."),
            End::Shutdown => "folio: the server is shutting down. Goodbye.".into(),
            End::Crashed => "folio: this session hit a bug and had to close. Sorry.".into(),
            End::Failed(e) => format!("folio: the session failed: {}", sanitize(e)),
        })
    }
}

/// Frames waiting for the channel: one being written (by the writer), one
/// waiting here.
#[derive(Default)]
struct Outbox {
    slot: Mutex<OutboxSlot>,
    ready: tokio::sync::Notify,
}

#[derive(Default)]
struct OutboxSlot {
    /// Bytes that are not a frame (the terminal set-up, a query): sent
    /// before the next frame, never dropped.
    extra: Vec<u8>,
    frame: Option<Vec<u8>>,
    last: Option<Vec<u8>>,
}

impl Outbox {
    /// Whether a frame is still waiting (the client is behind).
    fn waiting(&self) -> bool {
        lock(&self.slot).frame.is_some()
    }

    /// Queues `frame`; one still waiting is dropped (the caller made `frame`
    /// a full repaint in that case).
    fn put(&self, frame: Vec<u8>) {
        lock(&self.slot).frame = Some(frame);
        self.ready.notify_one();
    }

    /// The final bytes: replaces whatever waits, and ends the writer.
    fn finish(&self, last: Vec<u8>) {
        let mut slot = lock(&self.slot);
        slot.frame = None;
        slot.last = Some(last);
        drop(slot);
        self.ready.notify_one();
    }

    async fn next(&self) -> Result<Vec<u8>, Vec<u8>> {
        loop {
            {
                let mut slot = lock(&self.slot);
                if let Some(last) = slot.last.take() {
                    return Err(last);
                }
                if let Some(frame) = slot.frame.take() {
                    let mut bytes = std::mem::take(&mut slot.extra);
                    bytes.extend_from_slice(&frame);
                    return Ok(bytes);
                }
                if !slot.extra.is_empty() {
                    return Ok(std::mem::take(&mut slot.extra));
                }
            }
            self.ready.notified().await;
        }
    }
}

/// Where a session's bytes go: the SSH channel, or a test's buffer.
pub(super) trait Sink: Send + 'static {
    /// Sends `bytes`, waiting while the client is not taking them; false
    /// once the other end is gone.
    fn send(&self, bytes: Vec<u8>) -> impl Future<Output = bool> + Send;
    /// Ends the session's channel.
    fn close(&self) -> impl Future<Output = ()> + Send;
}

impl Sink for ChannelWriteHalf<Msg> {
    async fn send(&self, bytes: Vec<u8>) -> bool {
        // The channel's window makes this wait for a slow client.
        self.data_bytes(bytes).await.is_ok()
    }

    async fn close(&self) {
        let _ = self.exit_status(0).await;
        let _ = self.eof().await;
        let _ = ChannelWriteHalf::close(self).await;
    }
}

/// Writes frames to the sink as fast as the client takes them.
async fn writer(outbox: Arc<Outbox>, sink: impl Sink) {
    loop {
        match outbox.next().await {
            Ok(frame) => {
                if !sink.send(frame).await {
                    return;
                }
            }
            Err(last) => {
                sink.send(last).await;
                sink.close().await;
                return;
            }
        }
    }
}

/// Runs a session and, however it ends (a panic included), restores the
/// visitor's terminal and says goodbye.
pub(super) async fn supervise(ctx: SessionCtx, sink: impl Sink) {
    let mouse = ctx.site.mouse;
    supervise_with(mouse, sink, |outbox| run_session(ctx, outbox)).await;
}

async fn supervise_with<F>(mouse: bool, sink: impl Sink, session: impl FnOnce(Arc<Outbox>) -> F)
where
    F: Future<Output = End> + Send + 'static,
{
    let outbox = Arc::new(Outbox::default());
    let mut enter = ENTER.to_owned();
    if mouse {
        enter.push_str(MOUSE_ON);
    }
    outbox_append(&outbox, enter.as_bytes());
    let writing = tokio::spawn(writer(outbox.clone(), sink));
    // Its own task: a panic in the reader ends up here, not in the server.
    let end = match tokio::spawn(session(outbox.clone())).await {
        Ok(end) => end,
        Err(e) => {
            tracing::error!(panic = e.is_panic(), "session task failed");
            End::Crashed
        }
    };
    tracing::debug!(end = ?end, "session ended");
    let mut last = LEAVE.to_owned();
    if let Some(line) = end.goodbye() {
        let _ = write!(last, "{line}\r\n");
    }
    outbox.finish(last.into_bytes());
    if tokio::time::timeout(GOODBYE_TIMEOUT, writing)
        .await
        .is_err()
    {
        tracing::debug!("goodbye not delivered in time");
    }
}

/// Where a session's finished work comes back.
type Work = mpsc::UnboundedSender<Report>;

/// A visitor's work on tokio's blocking pool, never on the session's task,
/// through the site's caches: a post read once is read from memory by the
/// next visitor, and a layout made for one width is shared by everyone at
/// that width.
///
/// A session has at most one layout running: a newer one stops the older
/// between blocks ([`crate::markdown::cancellable`]) and waits for it; a
/// newer one still replaces a waiting one. When the session ends (this is
/// dropped), what runs stops and what waits is dropped.
struct SiteWork {
    site: Arc<Site>,
    work: Work,
    /// The session's latest search: an older one stops at its next post.
    newest_search: Arc<AtomicU64>,
    layouts: Arc<Mutex<Layouts>>,
    /// Pictures waiting to be decoded, one at a time for the session:
    /// (waiting, one is being decoded).
    pictures: Arc<Mutex<(std::collections::VecDeque<crate::picture::PictureJob>, bool)>>,
    stats: Stats,
}

/// A session's layout jobs: the one running (its stop flag) and the one
/// waiting.
#[derive(Default)]
struct Layouts {
    running: Option<Arc<AtomicBool>>,
    waiting: Option<Box<LayoutJob>>,
}

impl SiteWork {
    fn new(site: Arc<Site>, work: Work, stats: Stats) -> SiteWork {
        SiteWork {
            site,
            work,
            newest_search: Arc::new(AtomicU64::new(0)),
            layouts: Arc::default(),
            pictures: Arc::default(),
            stats,
        }
    }

    /// Queues a picture; the session's one decoder starts if idle. When
    /// the session ends, what waits is dropped.
    fn picture(&mut self, job: crate::picture::PictureJob) {
        {
            let mut queue = lock(&self.pictures);
            queue.0.push_back(job);
            if queue.1 {
                return;
            }
            queue.1 = true;
        }
        let site = self.site.clone();
        let work = self.work.clone();
        let queue = Arc::clone(&self.pictures);
        tokio::task::spawn_blocking(move || {
            crate::work::in_the_background();
            loop {
                let job = {
                    let mut queue = lock(&queue);
                    match queue.0.pop_front() {
                        Some(job) if !work.is_closed() => job,
                        _ => {
                            queue.0.clear();
                            queue.1 = false;
                            return;
                        }
                    }
                };
                let decoded = site.picture(&job);
                let _ = work.send(Report::Picture(job.key, decoded));
            }
        });
    }

    fn layout(&mut self, job: Box<LayoutJob>) {
        let mut layouts = lock(&self.layouts);
        // Whatever runs or waits was for an older layout: the app drops
        // its result anyway.
        if let Some(stop) = &layouts.running {
            stop.store(true, Ordering::SeqCst);
        }
        layouts.waiting = None;
        if let Some(doc) = self.site.layout(&job.cache_key()) {
            let _ = self.work.send(job.done(Box::new((*doc).clone())));
            return;
        }
        layouts.waiting = Some(job);
        if layouts.running.is_some() {
            // The running job's thread takes this one once it has stopped.
            return;
        }
        layouts.running = Some(Arc::new(AtomicBool::new(false)));
        drop(layouts);
        let (site, work, slot, stats) = (
            self.site.clone(),
            self.work.clone(),
            self.layouts.clone(),
            self.stats.clone(),
        );
        tokio::task::spawn_blocking(move || run_layouts(&site, &work, &slot, &stats));
    }
}

/// Runs a session's layout jobs, one after the other, until none waits.
fn run_layouts(site: &Site, work: &Work, slot: &Mutex<Layouts>, stats: &Stats) {
    crate::work::in_the_background();
    loop {
        let (job, stop) = {
            let mut layouts = lock(slot);
            let Some(job) = layouts.waiting.take() else {
                layouts.running = None;
                return;
            };
            let stop = Arc::new(AtomicBool::new(false));
            layouts.running = Some(stop.clone());
            (job, stop)
        };
        let key = job.cache_key();
        // Another session may have made it meanwhile.
        if let Some(doc) = site.layout(&key) {
            let _ = work.send(job.done(Box::new((*doc).clone())));
            continue;
        }
        stats.0.layouts.fetch_add(1, Ordering::SeqCst);
        let started = std::time::Instant::now();
        // A layout that panics leaves the quick layout in place.
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            crate::markdown::cancellable(&stop, || job.run())
        }));
        stats.0.layouts.fetch_sub(1, Ordering::SeqCst);
        let stopped = stop.load(Ordering::SeqCst);
        tracing::debug!(
            post = %job.key.display(),
            width = key.width,
            stopped,
            layout_ms = started.elapsed().as_secs_f64() * 1000.0,
            "layout"
        );
        if stopped {
            // Stopped part-way: not a layout of anything.
            continue;
        }
        if let Ok(report) = run {
            if let Report::LaidOut { doc, .. } = &report {
                site.keep_layout(key, doc);
            }
            let _ = work.send(report);
        }
    }
}

impl Drop for SiteWork {
    fn drop(&mut self) {
        let mut layouts = lock(&self.layouts);
        layouts.waiting = None;
        if let Some(stop) = &layouts.running {
            stop.store(true, Ordering::SeqCst);
        }
        // A search in flight sees the channel closed at its next post.
        self.newest_search.store(u64::MAX, Ordering::SeqCst);
        lock(&self.pictures).0.clear();
    }
}

impl Executor for SiteWork {
    fn submit(&mut self, work: crate::work::Work) {
        match work {
            // Remote pictures are never fetched for a visitor.
            crate::work::Work::Load(post, _) => {
                let site = self.site.clone();
                let work = self.work.clone();
                tokio::task::spawn_blocking(move || {
                    if work.is_closed() {
                        return;
                    }
                    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        site.source(&post)
                    }))
                    .unwrap_or_else(|_| Err("this post could not be read".into()));
                    let _ = work.send(Report::Loaded(post.rel_path.clone(), result));
                });
            }
            crate::work::Work::Layout(job) => self.layout(job),
            crate::work::Work::Picture(job) => self.picture(job),
            crate::work::Work::Search(job) => {
                // A visitor typing a query must not leave one full pass
                // running per key: a newer search of this session, or the
                // session ending, stops it at its next post. Posts are read
                // through the site: from its cache, and only inside the
                // served folder.
                self.newest_search.store(job.generation, Ordering::SeqCst);
                let work = self.work.clone();
                let newest = Arc::clone(&self.newest_search);
                let site = self.site.clone();
                tokio::task::spawn_blocking(move || {
                    let cancelled =
                        || work.is_closed() || newest.load(Ordering::SeqCst) != job.generation;
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        crate::work::run_search_with(
                            &job,
                            &|target| site.search_source(target),
                            &cancelled,
                            &mut |report| {
                                let _ = work.send(report);
                            },
                        );
                    }));
                });
            }
        }
    }
}

/// What a visitor's session can do beyond the reader: nothing is opened or
/// edited on the server (links are copied to the visitor's clipboard, see
/// [`Opened::NotHere`]), and reading state lasts for the session only.
struct Visitor;

impl Host for Visitor {}

/// The reader for one visitor, on the shared [`Session`].
fn reader(ctx: &SessionCtx, size: (u16, u16)) -> io::Result<Session<Vec<u8>>> {
    let depth = ctx.env.depth(ctx.site.color);
    let (theme, probe) = match &ctx.site.look {
        Look::Fixed(t) => (t.for_depth(depth), None),
        Look::Auto { dark, light } => (
            dark.for_depth(depth),
            (depth != Depth::None).then(|| Probe {
                dark: Box::new(dark.for_depth(depth)),
                light: Box::new(light.for_depth(depth)),
            }),
        ),
    };
    let options = Options {
        max_width: ctx.site.max_width,
        source_label: ctx.site.label.clone(),
        wrap_code: ctx.site.wrap_code,
        images: ctx.site.images,
        // A visitor's pictures are never fetched from elsewhere.
        sources: crate::picture::Sources::default(),
        picture_bytes: SESSION_PICTURE_BYTES,
        remote: true,
        // The Linux console and dumb terminals print an OSC 8 as text.
        hyperlinks: ctx.site.hyperlinks && !matches!(ctx.env.term.as_str(), "linux" | "dumb"),
    };
    let app = App::new(ctx.site.posts(), theme, ctx.site.keymap.clone(), options);
    Session::new(app, Vec::new(), size, probe)
}

/// The screen cells a session holds of the server's budget, given back
/// however the session ends.
struct Screen {
    screens: Arc<Mutex<Screens>>,
    stats: Stats,
    held: usize,
    /// The size last granted, and whether the visitor was told it is less
    /// than their terminal.
    size: Option<(u16, u16)>,
}

impl Screen {
    fn new(ctx: &SessionCtx) -> Screen {
        Screen {
            screens: ctx.screens.clone(),
            stats: ctx.stats.clone(),
            held: 0,
            size: None,
        }
    }

    /// The size to draw for a terminal of `wanted`, and a line for the
    /// visitor when it is smaller (once per size).
    fn grant(&mut self, wanted: (u16, u16)) -> ((u16, u16), Option<String>) {
        let mut screens = lock(&self.screens);
        let size = screens.grant(&mut self.held, wanted);
        self.stats.0.cells.store(screens.used(), Ordering::SeqCst);
        drop(screens);
        let told = (size != wanted && self.size != Some(size)).then(|| {
            format!(
                "This server draws {}×{} of your {}×{} terminal.",
                size.0, size.1, wanted.0, wanted.1
            )
        });
        self.size = Some(size);
        (size, told)
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        let mut screens = lock(&self.screens);
        screens.release(&mut self.held);
        self.stats.0.cells.store(screens.used(), Ordering::SeqCst);
    }
}

/// A window change not yet applied.
struct Resize {
    wanted: (u16, u16),
    first: Instant,
    last: Instant,
}

impl Resize {
    /// Notes a window change to `wanted` at `at`.
    fn note(pending: &mut Option<Resize>, wanted: (u16, u16), at: Instant) {
        match pending {
            Some(r) => {
                r.wanted = wanted;
                r.last = at;
            }
            None => {
                *pending = Some(Resize {
                    wanted,
                    first: at,
                    last: at,
                });
            }
        }
    }

    /// Applies the size to `session`, as much of it as `screen` grants.
    fn apply(&self, session: &mut Session<Vec<u8>>, screen: &mut Screen) -> io::Result<()> {
        let (size, told) = screen.grant(self.wanted);
        if size != session.app().size {
            session.resize(size.0, size.1)?;
        }
        if let Some(line) = told {
            session.report(Report::Notify(line));
        }
        Ok(())
    }

    /// When to apply it, the last one having been applied at `applied`.
    fn due(&self, applied: Instant) -> Instant {
        (self.last + RESIZE_QUIET)
            .min(self.first + RESIZE_LATEST)
            .max(applied + RESIZE_EVERY)
    }
}

async fn run_session(mut ctx: SessionCtx, outbox: Arc<Outbox>) -> End {
    let started = Instant::now();
    let mut screen = Screen::new(&ctx);
    let (size, told) = screen.grant(*ctx.size.borrow_and_update());
    let mut session = match reader(&ctx, size) {
        Ok(session) => session,
        Err(e) => return End::Failed(e.to_string()),
    };
    if let Some(line) = told {
        session.report(Report::Notify(line));
    }
    let mut reports = ctx.site.subscribe();
    let (work, mut done) = mpsc::unbounded_channel();
    let mut exec = SiteWork::new(ctx.site.clone(), work, ctx.stats.clone());
    let mut host = Visitor;
    let mut last_key = started;
    let idle = ctx.limits.idle_timeout;
    let max_time = ctx.limits.max_session_time;
    let mut shutdown = ctx.shutdown.clone();
    let mut reloads = true;
    let mut kickable = true;
    let mut resize: Option<Resize> = None;
    let mut resized = started;
    let mut unanswered: Option<Instant> = None;

    let now = || Instant::now().into_std();
    match session.start(now(), &mut exec, &mut host) {
        Ok(Flow::Quit) => return End::Quit,
        Ok(Flow::Continue) => {}
        Err(e) => return End::Failed(e.to_string()),
    }
    send(&mut session, &outbox, false);
    loop {
        let due = session
            .deadline()
            .map_or(started + max_time, Instant::from_std);
        let resize_due = resize
            .as_ref()
            .map_or(started + max_time, |r| r.due(resized));
        tokio::select! {
            bytes = ctx.input.recv() => {
                let Some(bytes) = bytes else { return End::ClientGone };
                last_key = Instant::now();
                unanswered.get_or_insert(last_key);
                session.input(&bytes, now());
                // Whatever else is queued: one frame for a burst.
                while let Ok(more) = ctx.input.try_recv() {
                    session.input(&more, now());
                }
            }
            () = tokio::time::sleep_until(due), if session.deadline().is_some() => {
                session.timeout(now());
            }
            changed = ctx.size.changed() => {
                if changed.is_err() {
                    return End::ClientGone;
                }
                // Only noted: applied once they stop coming (see RESIZE_*).
                Resize::note(&mut resize, *ctx.size.borrow_and_update(), Instant::now());
                continue;
            }
            () = tokio::time::sleep_until(resize_due), if resize.is_some() => {
                let Some(r) = resize.take() else { continue };
                resized = Instant::now();
                if let Err(e) = r.apply(&mut session, &mut screen) {
                    return End::Failed(e.to_string());
                }
            }
            report = done.recv() => {
                if let Some(report) = report {
                    session.report(report);
                }
            }
            report = reports.recv(), if reloads => {
                match report {
                    Ok(report) => session.report(report),
                    // Missed reports: the next one still applies.
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => reloads = false,
                }
            }
            why = &mut ctx.kick, if kickable => match why {
                Ok(why) => return End::Kicked(why),
                Err(_) => kickable = false,
            },
            () = tokio::time::sleep_until(last_key + idle) => return End::Idle(idle),
            () = tokio::time::sleep_until(started + max_time) => return End::TooLong(max_time),
            _ = shutdown.wait_for(|s| *s) => return End::Shutdown,
        }
        match session.step(&mut exec, &mut host) {
            Ok(Flow::Quit) => return End::Quit,
            Ok(Flow::Continue) => {}
            Err(e) => return End::Failed(e.to_string()),
        }
        match draw(&mut session, &outbox) {
            Ok(drawn) => answered(drawn, &mut unanswered, &ctx.stats),
            Err(e) => return End::Failed(e),
        }
        session.after_frame(&mut exec);
    }
}

/// Key-to-frame, as the server sees it (from a visitor's bytes reaching
/// their session to the frame they caused being queued), for the
/// operator's summary. `unanswered` is when input came that no frame has
/// answered yet. A key that changed nothing on screen is answered by no
/// frame; one drawn much later (a reload) answers something else.
fn answered(drawn: bool, unanswered: &mut Option<Instant>, stats: &Stats) {
    if !drawn {
        return;
    }
    if let Some(took) = unanswered.take().map(|at| at.elapsed())
        && took < UNANSWERED
    {
        stats.0.interval.key_to_frame(took);
    }
}

/// Queues what the session wrote, as extra bytes or as a frame.
fn send(session: &mut Session<Vec<u8>>, outbox: &Outbox, frame: bool) {
    let bytes = std::mem::take(session.writer_mut());
    if bytes.is_empty() {
        return;
    }
    if frame {
        outbox.put(bytes);
    } else {
        outbox_append(outbox, &bytes);
    }
}

/// Draws a frame, if anything changed, and queues its bytes. When the
/// previous frame still waits (the client is behind), it is dropped and
/// this frame is a full repaint, so the screen is right whichever frames
/// were skipped. Whether a frame was drawn.
fn draw(session: &mut Session<Vec<u8>>, outbox: &Outbox) -> Result<bool, String> {
    // What effects wrote (a copy) is not a frame: it must not be dropped
    // with one.
    let extra = std::mem::take(session.writer_mut());
    if !extra.is_empty() {
        outbox_append(outbox, &extra);
    }
    let behind = outbox.waiting();
    if !session.frame(behind).map_err(|e| e.to_string())? {
        return Ok(false);
    }
    if behind {
        // Whatever was waiting is dropped; what it may have changed
        // outside the cells (the cursor) is set again.
        let mut full = b"\x1b[?25l".to_vec();
        full.append(session.writer_mut());
        outbox.put(full);
    } else {
        send(session, outbox, true);
    }
    Ok(true)
}

/// Queues bytes that are not a frame (the terminal set-up, a query): they
/// go out before the next frame and are never dropped with one.
fn outbox_append(outbox: &Outbox, bytes: &[u8]) {
    lock(&outbox.slot).extra.extend_from_slice(bytes);
    outbox.ready.notify_one();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::OSC11_QUERY;

    use crate::action::Action;
    use crate::keymap::{Key, Keymap};
    use crate::posts;
    use crate::theme::Theme;
    use crate::ui;
    use crate::work::{Inline, submit_pending};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use std::time::Instant;

    fn take(outbox: &Outbox) -> Vec<u8> {
        let mut slot = lock(&outbox.slot);
        let mut bytes = std::mem::take(&mut slot.extra);
        bytes.extend(slot.frame.take().unwrap_or_default());
        bytes
    }

    #[test]
    fn set_up_bytes_survive_a_dropped_frame() {
        let outbox = Outbox::default();
        outbox_append(&outbox, ENTER.as_bytes());
        outbox.put(b"first".to_vec());
        outbox_append(&outbox, OSC11_QUERY.as_bytes());
        assert!(outbox.waiting());
        outbox.put(b"second".to_vec());
        let sent = take(&outbox);
        assert_eq!(
            sent,
            [ENTER.as_bytes(), OSC11_QUERY.as_bytes(), b"second"].concat()
        );
        assert!(!outbox.waiting());
    }

    /// The screen as ratatui's own test backend draws it.
    fn expected(app: &App) -> Vec<String> {
        let (w, h) = app.size;
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        t.draw(|f| ui::draw(app, f)).unwrap();
        let buf = t.backend().buffer();
        (0..h)
            .map(|y| {
                let mut line = String::new();
                let mut x = 0;
                while x < w {
                    let cell = &buf[(x, y)];
                    line.push_str(cell.symbol());
                    x += u16::try_from(crate::sanitize::display_width(cell.symbol()).max(1))
                        .unwrap_or(1);
                }
                line.trim_end().to_owned()
            })
            .collect()
    }

    fn seen(vt: &vt100::Parser, w: u16) -> Vec<String> {
        vt.screen()
            .rows(0, w)
            .map(|r| r.trim_end().to_owned())
            .collect()
    }

    #[test]
    fn frames_paint_what_ratatui_draws_even_when_some_are_dropped() {
        let (w, h) = (90, 24);
        let options = Options {
            remote: true,
            ..Options::default()
        };
        let app = App::new(
            posts::embedded(),
            Theme::default(),
            Keymap::default(),
            options,
        );
        let mut session = Session::new(app, Vec::new(), (w, h), None).unwrap();
        let mut inline = Inline::default();
        session
            .start(Instant::now(), &mut inline, &mut Visitor)
            .unwrap();
        let outbox = Outbox::default();
        send(&mut session, &outbox, true);
        let mut vt = vt100::Parser::new(h, w, 0);
        vt.process(ENTER.as_bytes());
        vt.process(&take(&outbox));
        assert_eq!(seen(&vt, w), expected(session.app()));
        let mut press = |session: &mut Session<Vec<u8>>, key: &[u8]| {
            session.input(key, Instant::now());
            session.step(&mut inline, &mut Visitor).unwrap();
            draw(session, &outbox).unwrap();
        };
        // A client that keeps up gets every frame.
        for key in [&b"\x1b[B"[..], b"\r", b"]", b"j"] {
            press(&mut session, key);
            let frame = take(&outbox);
            assert!(!frame.is_empty());
            vt.process(&frame);
            assert_eq!(seen(&vt, w), expected(session.app()));
        }
        // A client that is behind: frames pile up and only the newest waits,
        // drawn in full, so the screen is right without the ones dropped.
        for key in [&b"]"[..], b"j", b"\x1b[6~", b"k"] {
            press(&mut session, key);
        }
        let last = take(&outbox);
        assert!(last.windows(4).any(|w| w == b"\x1b[2J"), "a full repaint");
        vt.process(&last);
        assert_eq!(seen(&vt, w), expected(session.app()));
        // Back in step: small frames again.
        press(&mut session, b"j");
        let step = take(&outbox);
        assert!(!step.windows(4).any(|w| w == b"\x1b[2J"));
        vt.process(&step);
        assert_eq!(seen(&vt, w), expected(session.app()));
        // A resize, as the session does it.
        let (w2, h2) = (60, 20);
        session.resize(w2, h2).unwrap();
        session.step(&mut inline, &mut Visitor).unwrap();
        draw(&mut session, &outbox).unwrap();
        let mut vt = vt100::Parser::new(h2, w2, 0);
        vt.process(&take(&outbox));
        assert_eq!(seen(&vt, w2), expected(session.app()));
    }

    /// Opens the first post in a new session's app the way the session
    /// loop does, until its final layout is in.
    async fn open_first(site: &Arc<Site>) -> App {
        let mut app = App::new(
            site.posts(),
            Theme::default(),
            Keymap::default(),
            Options::default(),
        );
        app.update(Action::Resize(100, 30));
        let (work, mut results) = mpsc::unbounded_channel();
        let mut exec = SiteWork::new(site.clone(), work, Stats::default());
        submit_pending(&mut app, &mut exec);
        while let Some(report) = results.recv().await {
            let done = matches!(report, Report::LaidOut { .. });
            app.report(report);
            submit_pending(&mut app, &mut exec);
            if done {
                break;
            }
        }
        app
    }

    #[tokio::test]
    async fn sessions_share_sources_and_layouts() {
        let site = Arc::new(Site::new(
            posts::embedded(),
            None,
            Keymap::default(),
            Look::Fixed(Box::default()),
        ));
        let first = open_first(&site).await;
        assert_eq!(site.cached(), (1, 1));
        let second = open_first(&site).await;
        assert_eq!(site.cached().1, 1, "the layout was reused");
        assert!(first.document().is_some());
        assert_eq!(first.document(), second.document());
        // A reload empties both caches.
        site.broadcast(Report::Notify(String::new()));
        assert_eq!(site.cached(), (0, 0));
    }

    /// `S` in a served session searches the posts on the blocking pool, and
    /// a newer query stops the older one.
    #[tokio::test]
    async fn a_visitor_searches_all_posts() {
        let site = Arc::new(Site::new(
            posts::embedded(),
            None,
            Keymap::default(),
            Look::Fixed(Box::default()),
        ));
        let mut app = open_first(&site).await;
        let (work, mut results) = mpsc::unbounded_channel();
        let mut exec = SiteWork::new(site.clone(), work, Stats::default());
        let newest = Arc::clone(&exec.newest_search);
        for key in "Sssh".chars() {
            app.key(Key::char(key));
            submit_pending(&mut app, &mut exec);
        }
        loop {
            let action = tokio::time::timeout(Duration::from_secs(30), results.recv())
                .await
                .expect("search results arrive")
                .expect("the channel stays open");
            let done = matches!(&action, Report::SearchResults { done: true, generation, .. }
                if *generation == newest.load(Ordering::SeqCst));
            app.report(action);
            if done {
                break;
            }
        }
        let found = &app.search_all().results;
        assert!(!found.is_empty());
        assert!(
            found.iter().all(|h| h.matched.eq_ignore_ascii_case("ssh")),
            "{found:?}"
        );
    }

    /// A sink that keeps what it is sent.
    #[derive(Clone, Default)]
    struct Kept(Arc<Mutex<(Vec<u8>, bool)>>);

    impl Sink for Kept {
        async fn send(&self, bytes: Vec<u8>) -> bool {
            lock(&self.0).0.extend_from_slice(&bytes);
            true
        }

        async fn close(&self) {
            lock(&self.0).1 = true;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_session_restores_the_terminal_and_the_server_goes_on() {
        let kept = Kept::default();
        supervise_with(false, kept.clone(), |outbox: Arc<Outbox>| async move {
            outbox.put(b"a frame".to_vec());
            tokio::task::yield_now().await;
            panic!("a bug in the reader");
        })
        .await;
        let (bytes, closed) = lock(&kept.0).clone();
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.starts_with(ENTER), "{text:?}");
        assert!(
            text.ends_with(&format!(
                "{LEAVE}folio: this session hit a bug and had to close. Sorry.\r\n"
            )),
            "{text:?}"
        );
        assert!(closed, "the channel is closed");
        // This task (standing in for the server) is still running.
        let again = Kept::default();
        supervise_with(false, again.clone(), |_| async { End::Quit }).await;
        assert!(String::from_utf8_lossy(&lock(&again.0).0).contains("Goodbye."));
    }

    /// What the runner keeps of a visitor's channel: where their bytes,
    /// their window size and the server's shutdown go in.
    struct Channel {
        input: mpsc::Sender<Vec<u8>>,
        _size: watch::Sender<(u16, u16)>,
        _stop: watch::Sender<bool>,
    }

    /// A visitor of the built-in posts in an xterm of 120×40.
    fn visitor() -> (SessionCtx, Channel) {
        let site = Arc::new(Site::new(
            posts::embedded(),
            None,
            Keymap::default(),
            Look::Fixed(Box::default()),
        ));
        let (input, input_rx) = mpsc::channel(64);
        let (resizes, size_rx) = watch::channel((120, 40));
        let (stop, stop_rx) = watch::channel(false);
        let ctx = SessionCtx {
            site,
            env: Env {
                term: "xterm-256color".into(),
                ..Env::default()
            },
            size: size_rx,
            input: input_rx,
            kick: oneshot::channel().1,
            shutdown: stop_rx,
            limits: Limits::default(),
            screens: Arc::new(Mutex::new(Screens::new(1_000_000))),
            stats: Stats::default(),
        };
        let channel = Channel {
            input,
            _size: resizes,
            _stop: stop,
        };
        (ctx, channel)
    }

    #[test]
    fn a_visitor_keeps_few_decoded_pictures() {
        let (ctx, _channel) = visitor();
        let session = reader(&ctx, (120, 40)).unwrap();
        assert_eq!(session.app().options.picture_bytes, SESSION_PICTURE_BYTES);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_client_that_stops_reading_holds_one_frame_at_most() {
        let (ctx, channel) = visitor();
        let input = &channel.input;
        // Nobody takes frames from this outbox: the writer is stuck on a
        // client that reads nothing.
        let outbox = Arc::new(Outbox::default());
        let session = tokio::spawn(run_session(ctx, outbox.clone()));
        let mut largest = 0;
        for i in 0..400 {
            let keys: &[u8] = match i % 4 {
                0 => b"\r",
                1 => b"jjjj",
                2 => b"\x1b[6~",
                _ => b"J",
            };
            input.send(keys.to_vec()).await.unwrap();
            tokio::task::yield_now().await;
            let slot = lock(&outbox.slot);
            let held = slot.frame.as_ref().map_or(0, Vec::len) + slot.extra.len();
            largest = largest.max(held);
        }
        // One full 120×40 screen is at most a few tens of KB.
        assert!(largest > 0, "frames were drawn");
        assert!(largest < 64 * 1024, "{largest} bytes held");
        input.send(b"q".to_vec()).await.unwrap();
        let end = tokio::time::timeout(Duration::from_secs(10), session)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(end, End::Quit);
    }

    #[test]
    fn goodbye_lines() {
        assert_eq!(End::ClientGone.goodbye(), None);
        assert!(
            End::Idle(Duration::from_secs(1800))
                .goodbye()
                .unwrap()
                .contains("30 minutes")
        );
        assert!(End::Shutdown.goodbye().unwrap().contains("shutting down"));
    }
}
