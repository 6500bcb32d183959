//! The slow work a reader asks for — reading a post, laying it out with its
//! code highlighted, searching all posts — and the executors that do it off
//! the thread that answers keys.
//!
//! The app never does I/O: it names what it needs ([`App::pending_load`],
//! [`App::pending_layout`], [`App::pending_search`]), a [`crate::session`]
//! hands that to an [`Executor`] as [`Work`], and the result comes back as a
//! [`Report`]. [`Inline`] does the work on the spot (tests, benchmarks);
//! [`Threads`] does it on background threads for the local terminal; the
//! SSH runner has its own, on tokio's blocking pool with the site's caches.
//!
//! Stale work is dropped, not queued: a layout job carries the layout number
//! it was made for and a search its generation, so the app ignores results
//! that are no longer wanted, and [`Threads`] never starts a layout or a
//! search that a newer one replaced; a running search stops at its next post
//! once a newer one is asked for.

use std::collections::VecDeque;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::thread;
use std::time::Instant;

use crate::action::Report;
use crate::app::{App, LayoutJob};
use crate::picture::{PictureJob, Sources};
use crate::posts::Post;
use crate::sanitize::sanitize;
use crate::search::{self, SearchJob};

/// One piece of work the app asked for.
#[derive(Debug)]
pub enum Work {
    /// Read this post, and find its pictures where `Sources` allow:
    /// [`Report::Loaded`].
    Load(Post, Sources),
    /// Lay a post out with its code highlighted: [`Report::LaidOut`].
    Layout(Box<LayoutJob>),
    /// Search the text of all posts: [`Report::SearchResults`], in batches.
    Search(SearchJob),
    /// Decode a picture: [`Report::Picture`].
    Picture(PictureJob),
}

/// Does [`Work`] somewhere and reports back.
pub trait Executor {
    /// Starts `work`. Its reports come back to the session: through the
    /// runner's own channel, or from [`Executor::ready`].
    fn submit(&mut self, work: Work);

    /// A report of work already done, for executors that work on the
    /// caller's thread ([`Inline`]); threaded ones report through their
    /// runner and return `None`.
    fn ready(&mut self) -> Option<Report> {
        None
    }
}

/// Hands everything the app asks for to `exec`.
pub fn submit_pending(app: &mut App, exec: &mut dyn Executor) {
    submit_work(app, exec);
    for job in app.pending_pictures() {
        exec.submit(Work::Picture(job));
    }
}

/// Hands what the app asks for to `exec`, but its pictures.
pub fn submit_work(app: &mut App, exec: &mut dyn Executor) {
    while let Some(post) = app.pending_load() {
        exec.submit(Work::Load(post, app.options.sources.clone()));
    }
    if let Some(job) = app.pending_layout() {
        exec.submit(Work::Layout(Box::new(job)));
    }
    if let Some(job) = app.pending_search() {
        exec.submit(Work::Search(job));
    }
}

/// Does the work on the caller's thread, at once: for tests, benchmarks and
/// anything that wants the final screen without threads.
#[derive(Debug, Default)]
pub struct Inline {
    done: VecDeque<Report>,
}

impl Executor for Inline {
    fn submit(&mut self, work: Work) {
        match work {
            Work::Load(post, sources) => self.done.push_back(load(&post, &sources)),
            Work::Layout(job) => self.done.push_back(job.run()),
            Work::Search(job) => {
                run_search(&job, &|| false, &mut |report| self.done.push_back(report));
            }
            Work::Picture(job) => self.done.push_back(decode_picture(&job)),
        }
    }

    fn ready(&mut self) -> Option<Report> {
        self.done.pop_front()
    }
}

/// Does everything the app asks for, on this thread, until it asks for
/// nothing more: the posts it needs read and laid out highlighted, a search
/// run to the end.
pub fn settle(app: &mut App) {
    let mut inline = Inline::default();
    loop {
        submit_pending(app, &mut inline);
        let Some(report) = inline.ready() else { return };
        app.report(report);
    }
}

/// Reads a post from disk (or memory, for the built-in ones), and where
/// its pictures are and their sizes (their headers only).
pub fn load(post: &Post, sources: &Sources) -> Report {
    let start = Instant::now();
    let result = post
        .read_source()
        .map(|mut source| {
            let survey = crate::picture::survey(post, source.body(), sources, None);
            source.pictures = Arc::new(survey);
            source
        })
        .map_err(|e| e.to_string());
    match &result {
        Ok(source) => tracing::debug!(
            post = %post.rel_path.display(),
            bytes = source.text.len(),
            read_ms = start.elapsed().as_secs_f64() * 1000.0,
            "opened post"
        ),
        Err(e) => {
            tracing::warn!(post = %post.rel_path.display(), error = %sanitize(e), "cannot read post");
        }
    }
    Report::Loaded(post.rel_path.clone(), result)
}

/// Results are sent in batches of at most this many posts, so the list
/// fills in as the search goes.
const SEARCH_BATCH: usize = 200;

/// Runs a search across all posts: reads each post (files from disk,
/// folio's own posts from memory) and reports matching lines in batches as
/// [`Report::SearchResults`]. Stops early when `cancelled` says a newer
/// search has started, or once enough results were found.
pub fn run_search(job: &SearchJob, cancelled: &dyn Fn() -> bool, send: &mut dyn FnMut(Report)) {
    run_search_with(
        job,
        &|target| target.origin.read_source().ok(),
        cancelled,
        send,
    );
}

/// [`run_search`], reading each post with `read` (`None`: it cannot be
/// read): `folio serve` reads through its cache, only inside its folder.
pub fn run_search_with(
    job: &SearchJob,
    read: &dyn Fn(&search::Target) -> Option<crate::posts::PostSource>,
    cancelled: &dyn Fn() -> bool,
    send: &mut dyn FnMut(Report),
) {
    let mut found = 0;
    let mut hits = Vec::new();
    let mut scanned = 0;
    for target in &job.targets {
        if cancelled() {
            return;
        }
        // A post that cannot be read has no matches; opening it says why.
        if let Some(source) = read(target) {
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

/// Decodes a picture beside a local post; a decoder that panics (a broken
/// file) leaves the alt text.
pub fn decode_picture(job: &PictureJob) -> Report {
    let decoded = std::panic::catch_unwind(|| crate::picture::load_local(job))
        .unwrap_or_else(|_| Err("broken picture".into()));
    if let Err(e) = &decoded {
        tracing::debug!(picture = %sanitize(&job.key.file.to_string_lossy()), error = %e, "picture not shown");
    }
    Report::Picture(job.key.clone(), decoded)
}

/// Where a threaded executor's reports go; false once nobody listens.
pub type Reply = Arc<dyn Fn(Report) -> bool + Send + Sync>;

/// Background threads for the local terminal: one reads posts in the order
/// asked, one lays out the newest post asked for, one runs the newest
/// search. Reports go to `reply`.
pub struct Threads {
    loader: mpsc::Sender<(Post, Sources)>,
    layouts: Newest<LayoutJob>,
    searches: Newest<SearchJob>,
    latest_search: Arc<AtomicU64>,
    pictures: mpsc::Sender<PictureJob>,
    /// Remote pictures: [`FETCHERS`] threads, started with the first one.
    remote: Option<mpsc::Sender<PictureJob>>,
    reply: Reply,
}

/// Remote pictures fetched at once: a slow server holds up a few, never
/// the pictures on disk.
const FETCHERS: usize = 3;

impl Threads {
    pub fn spawn(reply: &Reply) -> io::Result<Threads> {
        let (loader, posts) = mpsc::channel::<(Post, Sources)>();
        let read = Arc::clone(reply);
        thread::Builder::new()
            .name("folio-load".into())
            .spawn(move || {
                quiet_panics();
                for (post, sources) in posts {
                    let report = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        load(&post, &sources)
                    }))
                    .unwrap_or_else(|_| {
                        let why = "this post could not be read".to_owned();
                        Report::Loaded(post.rel_path.clone(), Err(why))
                    });
                    if !read(report) {
                        return;
                    }
                }
            })?;
        let laid_out = Arc::clone(reply);
        let layouts = Newest::spawn("folio-layout", move |job: LayoutJob| {
            // A post that makes the renderer panic stays in its plain
            // layout, which was made without syntect.
            if let Ok(report) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job.run()))
            {
                laid_out(report)
            } else {
                tracing::error!(post = %job.key.display(), "highlighting panicked; the post stays plain");
                true
            }
        })?;
        let latest_search = Arc::new(AtomicU64::new(0));
        let newest = Arc::clone(&latest_search);
        let found = Arc::clone(reply);
        let searches = Newest::spawn("folio-search", move |job: SearchJob| {
            let stale = || newest.load(Ordering::Relaxed) != job.generation;
            let mut gone = false;
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                run_search(&job, &stale, &mut |report| gone |= !found(report));
            }));
            if run.is_err() {
                tracing::error!("the search across posts panicked");
            }
            !gone
        })?;
        // Pictures are decoded one at a time, in the order asked (those on
        // screen first), on a thread of their own: a key never waits for one.
        let (pictures, jobs) = mpsc::channel::<PictureJob>();
        let decoded = Arc::clone(reply);
        thread::Builder::new()
            .name("folio-picture".into())
            .spawn(move || {
                quiet_panics();
                // Decoding a photo takes a core for tens of milliseconds:
                // the first frame and keys, on the main thread, come first.
                in_the_background();
                for job in jobs {
                    if !decoded(decode_picture(&job)) {
                        return;
                    }
                }
            })?;
        Ok(Threads {
            loader,
            layouts,
            searches,
            latest_search,
            pictures,
            remote: None,
            reply: Arc::clone(reply),
        })
    }

    /// The fetchers' queue, the threads started the first time.
    fn fetchers(&mut self) -> Option<&mpsc::Sender<PictureJob>> {
        if self.remote.is_none() {
            let (send, jobs) = mpsc::channel::<PictureJob>();
            let jobs = Arc::new(Mutex::new(jobs));
            for i in 0..FETCHERS {
                let jobs = Arc::clone(&jobs);
                let fetched = Arc::clone(&self.reply);
                let spawned = thread::Builder::new()
                    .name(format!("folio-fetch-{i}"))
                    .spawn(move || {
                        quiet_panics();
                        loop {
                            let job = match jobs.lock() {
                                Ok(jobs) => jobs.recv(),
                                Err(_) => return,
                            };
                            let Ok(job) = job else { return };
                            if !fetched(decode_picture(&job)) {
                                return;
                            }
                        }
                    });
                if spawned.is_err() {
                    return None;
                }
            }
            self.remote = Some(send);
        }
        self.remote.as_ref()
    }
}

impl Executor for Threads {
    fn submit(&mut self, work: Work) {
        match work {
            Work::Load(post, sources) => {
                let _ = self.loader.send((post, sources));
            }
            Work::Layout(job) => self.layouts.submit(*job),
            Work::Search(job) => {
                self.latest_search.store(job.generation, Ordering::Relaxed);
                self.searches.submit(job);
            }
            Work::Picture(job) if job.url.is_some() => {
                if let Some(fetchers) = self.fetchers() {
                    let _ = fetchers.send(job);
                }
            }
            Work::Picture(job) => {
                let _ = self.pictures.send(job);
            }
        }
    }
}

/// One background thread that works on the newest job only: a job still
/// waiting when another comes is dropped unstarted, so a reader who moves on
/// (to the next post, the next letter of a query) never queues up work.
struct Newest<J> {
    slot: Arc<(Mutex<Option<J>>, Condvar)>,
}

impl<J: Send + 'static> Newest<J> {
    /// Runs `work` on each job taken; the thread ends when `work` says
    /// nobody listens any more (false), or when this is dropped.
    fn spawn(
        name: &str,
        mut work: impl FnMut(J) -> bool + Send + 'static,
    ) -> io::Result<Newest<J>> {
        let slot = Arc::new((Mutex::new(None::<J>), Condvar::new()));
        let worker = Arc::downgrade(&slot);
        thread::Builder::new().name(name.into()).spawn(move || {
            quiet_panics();
            loop {
                let Some(slot) = worker.upgrade() else { return };
                let job = {
                    let (lock, ready) = &*slot;
                    let Ok(mut pending) = lock.lock() else { return };
                    loop {
                        if let Some(job) = pending.take() {
                            break job;
                        }
                        // Woken by a job, or now and then to see whether
                        // the owner is gone.
                        let Ok((next, _)) =
                            ready.wait_timeout(pending, std::time::Duration::from_secs(1))
                        else {
                            return;
                        };
                        pending = next;
                        if Arc::strong_count(&slot) == 1 {
                            return;
                        }
                    }
                };
                drop(slot);
                if !work(job) {
                    return;
                }
            }
        })?;
        Ok(Newest { slot })
    }

    fn submit(&self, job: J) {
        let (lock, ready) = &*self.slot;
        if let Ok(mut pending) = lock.lock() {
            *pending = Some(job);
            ready.notify_one();
        }
    }
}

thread_local! {
    /// Set on threads that catch their own panics.
    static QUIET_PANICS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Lowers this thread's CPU priority (nice 10; the threads it starts
/// inherit it): the work is background work, and keys and frames come
/// first (a reader's main thread, or every visitor's on `folio serve`'s
/// runtime). Once per thread; where it cannot be done, nothing changes.
pub fn in_the_background() {
    thread_local! {
        static LOWERED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    if LOWERED.with(|l| l.replace(true)) {
        return;
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Err(e) = rustix::process::setpriority_process(Some(rustix::thread::gettid()), 10) {
        tracing::debug!(error = %e, "cannot lower a background thread's priority");
    }
}

/// Marks this thread as one that catches and reports its own panics, so a
/// panic hook leaves the terminal alone (see [`panics_are_quiet`]).
pub fn quiet_panics() {
    QUIET_PANICS.with(|quiet| quiet.set(true));
}

/// Whether this thread catches its own panics: a panic hook must neither
/// restore the terminal under the running reader nor print over it.
pub fn panics_are_quiet() -> bool {
    QUIET_PANICS.with(std::cell::Cell::get)
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
                            tracing::warn!(post = %sanitize(&rel), error = %sanitize(err), "frontmatter error");
                        }
                    }
                    send(Report::PostsRead { posts, done })
                },
            );
            let path = sanitize(&path.to_string_lossy()).into_owned();
            match result {
                Ok(()) => tracing::info!(
                    path,
                    posts = count,
                    scan_ms = start.elapsed().as_secs_f64() * 1000.0,
                    "scanned posts"
                ),
                Err(e) => {
                    tracing::warn!(path, error = %sanitize(&e.to_string()), "cannot scan");
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
