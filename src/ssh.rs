//! The SSH runner: `folio serve` shows a folder of posts to anyone who
//! connects with `ssh`, each visitor in their own reader.
//!
//! One tokio task per session owns an [`App`], a ratatui `Terminal` over a
//! [`WireBackend`] writing into a byte buffer, an input [`Parser`] and the
//! session's timers. Frames go to the channel through a one-frame outbox
//! ([`Outbox`]): at most one frame is being written and one waits; a newer
//! frame replaces a waiting one and is then drawn in full, so a client that
//! stops reading holds at most two frames (plus the SSH window) of server
//! memory and still sees a correct screen when it catches up.
//!
//! All sessions share one [`Site`]: the post list, a cache of post sources,
//! the theme and keymap, and a broadcast of [`Report`]s every session
//! applies (live reload plugs in there: [`Site::broadcast`]). Reading and
//! laying out posts happens on tokio's blocking pool, never on a session's
//! task.
//!
//! Nothing here queries the server's own terminal, spawns a process, or
//! reads outside the served folder.
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use russh::keys::{Algorithm, HashAlg, PrivateKey, PublicKey};
use russh::server::{Auth, Handler, Msg, Session};
use russh::{Channel, ChannelId, ChannelOpenFailure, ChannelWriteHalf, MethodKind, MethodSet};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, mpsc, watch};

use crate::action::{Action, Effect, Report};
use crate::app::{App, LayoutKey, Options};
use crate::color::{self, Background, ColorChoice, Depth};
use crate::document::Document;
use crate::input::{Event, Parser};
use crate::keymap::Keymap;
use crate::limits::{Budget, Gate, Limits, clamp_size};
use crate::posts::{self, Origin, Post, PostSource};
use crate::sanitize::sanitize;
use crate::theme::Theme;
use crate::ui;
use crate::wire::{Extras, WireBackend};

/// How long a lone `Esc` waits for the rest of a sequence.
const ESC_TIMEOUT: Duration = Duration::from_millis(40);
/// How long a background-colour reply may take to still switch the theme.
const REPLY_DEADLINE: Duration = Duration::from_secs(1);
/// How long a goodbye may take to reach a client before it is cut off.
const GOODBYE_TIMEOUT: Duration = Duration::from_secs(2);
/// Source text kept in memory for all sessions together.
const SOURCE_CACHE_BYTES: usize = 64 * 1024 * 1024;
/// Laid-out lines kept for all sessions together (a line is ~100 bytes).
const LAYOUT_CACHE_LINES: usize = 400_000;

/// Sent once when a session starts: the alternate screen, no cursor,
/// bracketed paste (so pastes can be told from keys), SGR mouse reports.
const ENTER: &str = "\x1b[?1049h\x1b[?25l\x1b[?2004h\x1b[2J";
const MOUSE_ON: &str = "\x1b[?1000h\x1b[?1006h";
/// Undoes [`ENTER`] and [`MOUSE_ON`], whatever state the last frame left.
const LEAVE: &str = "\x1b[?2026l\x1b[0m\x1b[r\x1b[?1006l\x1b[?1000l\x1b[?2004l\x1b[?25h\x1b[?1049l";
const OSC11_QUERY: &str = "\x1b]11;?\x1b\\";

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot read the host key {}: {source}", path.display())]
    ReadKey { path: PathBuf, source: io::Error },
    #[error(
        "the host key {} is not a usable OpenSSH private key ({reason}); \
         move it away to have a new one generated",
        path.display()
    )]
    BadKey { path: PathBuf, reason: String },
    #[error("cannot create the host key {}: {source}", path.display())]
    WriteKey { path: PathBuf, source: io::Error },
    #[error("cannot read the authorized keys {}: {source}", path.display())]
    ReadAuthorized { path: PathBuf, source: io::Error },
    #[error("{}:{line}: not a public key: {reason}", path.display())]
    BadAuthorized {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: String, source: io::Error },
}

/// The host key at `path`, generated (Ed25519, mode 0600) if there is no
/// file. An existing file that cannot be read or parsed is an error: a
/// silently replaced host key would make every visitor's ssh warn of an
/// attack, and hide a real problem.
pub fn host_key(path: &Path) -> Result<(PrivateKey, bool), ServeError> {
    match std::fs::read(path) {
        Ok(bytes) => {
            let bad = |reason: String| ServeError::BadKey {
                path: path.to_path_buf(),
                reason,
            };
            let key = PrivateKey::from_openssh(&bytes).map_err(|e| bad(e.to_string()))?;
            if key.is_encrypted() {
                return Err(bad("it is encrypted".into()));
            }
            Ok((key, false))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let write = |source| ServeError::WriteKey {
                path: path.to_path_buf(),
                source,
            };
            let key = PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519)
                .map_err(|e| write(io::Error::other(e.to_string())))?;
            let text = key
                .to_openssh(russh::keys::ssh_key::LineEnding::LF)
                .map_err(|e| write(io::Error::other(e.to_string())))?;
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                create_private_dir(parent).map_err(write)?;
            }
            write_private_file(path, text.as_bytes()).map_err(write)?;
            Ok((key, true))
        }
        Err(source) => Err(ServeError::ReadKey {
            path: path.to_path_buf(),
            source,
        }),
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)
}

fn write_private_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    // Never overwrite: a key that appeared meanwhile wins.
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// The fingerprint ssh shows for a key: `SHA256:…`.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// Reads an `authorized_keys` file: one key per line, `#` comments; options
/// before the key type are ignored (a reader has nothing to restrict).
pub fn authorized_keys(path: &Path) -> Result<Vec<PublicKey>, ServeError> {
    let text = std::fs::read_to_string(path).map_err(|source| ServeError::ReadAuthorized {
        path: path.to_path_buf(),
        source,
    })?;
    let mut keys = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parsed = PublicKey::from_openssh(line).or_else(|first| {
            // `options ssh-ed25519 AAAA… comment`: skip to the key type.
            line.match_indices(' ')
                .find_map(|(at, _)| PublicKey::from_openssh(line[at..].trim_start()).ok())
                .ok_or(first)
        });
        match parsed {
            Ok(key) => keys.push(key),
            Err(e) => {
                return Err(ServeError::BadAuthorized {
                    path: path.to_path_buf(),
                    line: i + 1,
                    reason: e.to_string(),
                });
            }
        }
    }
    Ok(keys)
}

/// Who may log in.
#[derive(Debug, Clone)]
pub enum Access {
    /// Anyone: `none` or any public key (never a password).
    Public,
    /// Only these keys.
    Keys(Vec<PublicKey>),
}

/// The theme of new sessions.
#[derive(Debug, Clone)]
pub enum Look {
    Fixed(Box<Theme>),
    /// `theme: auto`: dark until the visitor's terminal says it is light.
    Auto {
        dark: Box<Theme>,
        light: Box<Theme>,
    },
}

/// What every session shares: read-only except for the post list, which a
/// reload replaces, and the source cache.
#[derive(Debug)]
pub struct Site {
    posts: Mutex<Vec<Post>>,
    /// The served folder: every file read must resolve inside it.
    root: Option<PathBuf>,
    pub label: String,
    pub keymap: Keymap,
    pub look: Look,
    pub color: ColorChoice,
    pub max_width: u16,
    pub wrap_code: bool,
    pub mouse: bool,
    /// Web links as OSC 8 hyperlinks (not on `TERM=linux` or `dumb`).
    pub hyperlinks: bool,
    sources: Mutex<SourceCache>,
    layouts: Mutex<LayoutCache>,
    actions: broadcast::Sender<Report>,
}

/// Finished layouts, shared: highlighting is the slow part of opening a
/// post, and visitors at the same width open the same posts.
#[derive(Debug, Default)]
struct LayoutCache {
    map: HashMap<LayoutKey, Arc<Document>>,
    lines: usize,
}

#[derive(Debug, Default)]
struct SourceCache {
    map: HashMap<PathBuf, PostSource>,
    bytes: usize,
}

impl Site {
    /// `root` is the served folder (`None` for the built-in posts).
    pub fn new(posts: Vec<Post>, root: Option<PathBuf>, keymap: Keymap, look: Look) -> Site {
        let (actions, _) = broadcast::channel(16);
        Site {
            posts: Mutex::new(posts),
            label: root.as_ref().map_or_else(
                || "folio's built-in posts".into(),
                |r| r.display().to_string(),
            ),
            root,
            keymap,
            look,
            color: ColorChoice::Auto,
            max_width: 100,
            wrap_code: true,
            mouse: true,
            hyperlinks: true,
            sources: Mutex::new(SourceCache::default()),
            layouts: Mutex::new(LayoutCache::default()),
            actions,
        }
    }

    /// Sends `action` to every open session, which applies it as its own.
    /// Live reload plugs in here: when the posts change, call
    /// [`Site::set_posts`] (for sessions yet to come) and broadcast the
    /// watcher's action (for those open now). The source cache is emptied,
    /// as files may have changed.
    pub fn broadcast(&self, action: Report) {
        self.clear_sources();
        // No receivers (nobody connected) is fine.
        let _ = self.actions.send(action);
    }

    /// Live reload: what [`crate::watch::Watch`] reports, passed to every
    /// session. A new list is first confined to the served folder (the
    /// watcher's scan follows every link) and kept for sessions to come.
    pub fn reload(&self, action: Report) {
        let action = match action {
            Report::PostsChanged(posts) => {
                let posts: Vec<Post> = posts
                    .into_iter()
                    .filter(|p| match (&p.origin, &self.root) {
                        (Origin::File(path), Some(root)) if root.is_dir() => {
                            posts::is_inside(root, path)
                        }
                        _ => true,
                    })
                    .collect();
                self.set_posts(posts.clone());
                Report::PostsChanged(posts)
            }
            other => other,
        };
        self.broadcast(action);
    }

    /// The post list new sessions start with.
    pub fn set_posts(&self, posts: Vec<Post>) {
        *lock(&self.posts) = posts;
        self.clear_sources();
    }

    fn clear_sources(&self) {
        let mut cache = lock(&self.sources);
        cache.map.clear();
        cache.bytes = 0;
        drop(cache);
        let mut layouts = lock(&self.layouts);
        layouts.map.clear();
        layouts.lines = 0;
    }

    fn layout(&self, key: &LayoutKey) -> Option<Arc<Document>> {
        lock(&self.layouts).map.get(key).cloned()
    }

    fn keep_layout(&self, key: LayoutKey, doc: &Document) {
        let lines = doc.lines.len();
        if lines > LAYOUT_CACHE_LINES / 8 {
            return;
        }
        let mut cache = lock(&self.layouts);
        if cache.lines + lines > LAYOUT_CACHE_LINES {
            cache.map.clear();
            cache.lines = 0;
        }
        cache.lines += lines;
        cache.map.insert(key, Arc::new(doc.clone()));
    }

    pub fn posts(&self) -> Vec<Post> {
        lock(&self.posts).clone()
    }

    /// A post's text: from the cache, else read (on the caller's thread:
    /// call from the blocking pool). Files are read only inside the served
    /// folder, checked again now since links may have changed.
    pub fn source(&self, post: &Post) -> Result<PostSource, String> {
        if let Some(s) = lock(&self.sources).map.get(&post.rel_path) {
            return Ok(s.clone());
        }
        if let (Origin::File(path), Some(root)) = (&post.origin, &self.root)
            && root.is_dir()
            && !posts::is_inside(root, path)
        {
            return Err("this file is outside the served folder".into());
        }
        let source = post.read_source().map_err(|e| e.to_string())?;
        let mut cache = lock(&self.sources);
        if cache.bytes + source.text.len() > SOURCE_CACHE_BYTES {
            cache.map.clear();
            cache.bytes = 0;
        }
        cache.bytes += source.text.len();
        cache.map.insert(post.rel_path.clone(), source.clone());
        Ok(source)
    }

    fn subscribe(&self) -> broadcast::Receiver<Report> {
        self.actions.subscribe()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What the client's environment says about its terminal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Env {
    pub term: String,
    pub colorterm: Option<String>,
    pub no_color: bool,
    pub lang: Option<String>,
}

impl Env {
    /// Whether a client may set `name`; only what describes the terminal.
    pub fn allowed(name: &str) -> bool {
        matches!(name, "LANG" | "COLORTERM" | "NO_COLOR") || name.starts_with("LC_")
    }

    fn set(&mut self, name: &str, value: &str) {
        let value: String = value.chars().take(64).collect();
        match name {
            "COLORTERM" => self.colorterm = Some(value),
            "NO_COLOR" => self.no_color = !value.is_empty(),
            "LANG" => self.lang = Some(value),
            _ => {}
        }
    }

    /// The colour depth for this client: 256 colours unless it says more
    /// (`COLORTERM=truecolor`) or less (`NO_COLOR`, `TERM=dumb`); `choice`
    /// (the server's `--color`) forces a depth.
    pub fn depth(&self, choice: ColorChoice) -> Depth {
        let detected = || {
            if self.no_color {
                return Depth::None;
            }
            match color::depth_from_env(self.colorterm.as_deref(), Some(&self.term)) {
                // Only TERM arrives by default, and nearly every terminal
                // people ssh from shows 256 colours.
                Depth::Ansi16 => Depth::Ansi256,
                d => d,
            }
        };
        match choice {
            ColorChoice::Never => Depth::None,
            ColorChoice::Ansi16 => Depth::Ansi16,
            ColorChoice::Ansi256 => Depth::Ansi256,
            ColorChoice::TrueColor => Depth::TrueColor,
            ColorChoice::Auto | ColorChoice::Always => detected(),
        }
    }
}

// ---------------------------------------------------------------------------
// The connection: a TCP stream that can be cut, and counts bytes.

/// Ends a connection from outside russh: reads and writes fail from then on,
/// so russh's session ends on its own.
#[derive(Debug, Default)]
pub struct Visit {
    killed: AtomicBool,
    wakers: Mutex<Vec<Waker>>,
    sent: AtomicU64,
    received: AtomicU64,
    info: Mutex<VisitInfo>,
}

#[derive(Debug, Default, Clone)]
struct VisitInfo {
    user: String,
    key: Option<String>,
    authed: bool,
    term: String,
    size: (u16, u16),
    session: bool,
}

impl Visit {
    fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        for w in lock(&self.wakers).drain(..) {
            w.wake();
        }
    }

    fn is_killed(&self) -> bool {
        self.killed.load(Ordering::SeqCst)
    }

    fn register(&self, cx: &Context<'_>) {
        let mut wakers = lock(&self.wakers);
        if !wakers.iter().any(|w| w.will_wake(cx.waker())) {
            if wakers.len() >= 4 {
                wakers.remove(0);
            }
            wakers.push(cx.waker().clone());
        }
    }

    fn info(&self) -> VisitInfo {
        lock(&self.info).clone()
    }
}

struct Guarded {
    inner: TcpStream,
    visit: Arc<Visit>,
}

fn aborted() -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionAborted, "closed by folio")
}

impl AsyncRead for Guarded {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.visit.is_killed() {
            return Poll::Ready(Err(aborted()));
        }
        self.visit.register(cx);
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        let n = buf.filled().len() - before;
        self.visit.received.fetch_add(n as u64, Ordering::Relaxed);
        r
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.visit.is_killed() {
            return Poll::Ready(Err(aborted()));
        }
        self.visit.register(cx);
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &r {
            self.visit.sent.fetch_add(*n as u64, Ordering::Relaxed);
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.visit.is_killed() {
            return Poll::Ready(Err(aborted()));
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

// ---------------------------------------------------------------------------
// The server.

/// How `folio serve` runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub limits: Limits,
    pub access: Access,
}

/// The running server's shared state.
struct Server {
    site: Arc<Site>,
    limits: Limits,
    access: Access,
    gate: Mutex<Gate>,
    config: Arc<russh::server::Config>,
    shutdown: watch::Receiver<bool>,
    sessions: AtomicUsize,
}

/// Counts of what the server holds, for tests and the load figures.
#[derive(Debug, Clone, Default)]
pub struct Stats(Arc<ServerCounts>);

#[derive(Debug, Default)]
struct ServerCounts {
    connections: AtomicUsize,
    sessions: AtomicUsize,
}

impl Stats {
    /// TCP connections admitted and not yet closed.
    pub fn connections(&self) -> usize {
        self.0.connections.load(Ordering::SeqCst)
    }

    /// Reader sessions running.
    pub fn sessions(&self) -> usize {
        self.0.sessions.load(Ordering::SeqCst)
    }
}

fn russh_config(key: PrivateKey, limits: &Limits, access: &Access) -> russh::server::Config {
    let methods: &[MethodKind] = match access {
        Access::Public => &[MethodKind::None, MethodKind::PublicKey],
        Access::Keys(_) => &[MethodKind::PublicKey],
    };
    russh::server::Config {
        server_id: russh::SshId::Standard("SSH-2.0-folio".into()),
        methods: MethodSet::from(methods),
        auth_rejection_time: Duration::from_millis(300),
        // OpenSSH asks with `none` first to learn the methods.
        auth_rejection_time_initial: Some(Duration::ZERO),
        keys: vec![key],
        max_auth_attempts: 6,
        // The session has its own idle timeout; this catches a dead peer.
        inactivity_timeout: Some(limits.idle_timeout + Duration::from_secs(60)),
        keepalive_interval: Some(Duration::from_secs(30)),
        keepalive_max: 4,
        nodelay: true,
        // Small windows in both directions: input is keystrokes, and what
        // a stalled client can make us buffer is bounded by its window.
        window_size: 64 * 1024,
        channel_buffer_size: 16,
        ..Default::default()
    }
}

/// Runs the server on `listener` until `shutdown` turns true; then every
/// session says goodbye and restores its terminal, and this returns when
/// all connections are closed (or after a few seconds).
pub async fn serve(
    site: Arc<Site>,
    key: PrivateKey,
    options: ServeOptions,
    listener: TcpListener,
    shutdown: watch::Receiver<bool>,
    stats: Stats,
) {
    let config = Arc::new(russh_config(key, &options.limits, &options.access));
    let server = Arc::new(Server {
        site,
        gate: Mutex::new(Gate::new(options.limits.clone())),
        limits: options.limits,
        access: options.access,
        config,
        shutdown: shutdown.clone(),
        sessions: AtomicUsize::new(0),
    });
    let mut stop = shutdown.clone();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.wait_for(|s| *s) => break,
        };
        let (tcp, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of file descriptors and the like: wait, don't spin.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let admitted = lock(&server.gate).admit(peer.ip(), Instant::now());
        if let Err(refusal) = admitted {
            tracing::info!(addr = %peer, limit = refusal.name(), "refused connection");
            refuse(&tcp, refusal.message());
            continue;
        }
        stats.0.connections.fetch_add(1, Ordering::SeqCst);
        let server = server.clone();
        let stats = stats.clone();
        tokio::spawn(async move {
            connection(&server, tcp, peer, &stats).await;
            lock(&server.gate).release(peer.ip());
            stats.0.connections.fetch_sub(1, Ordering::SeqCst);
        });
    }
    drop(listener);
    let deadline = Instant::now() + GOODBYE_TIMEOUT + Duration::from_secs(2);
    while stats.connections() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Says why, before the SSH banner (ssh shows such lines with `-v`), and
/// closes. Never waits: a flood must not hold sockets or tasks.
fn refuse(tcp: &TcpStream, why: &str) {
    let line = format!("folio: {why}\r\n");
    let _ = tcp.try_write(line.as_bytes());
}

async fn connection(server: &Arc<Server>, tcp: TcpStream, peer: SocketAddr, stats: &Stats) {
    let started = Instant::now();
    tracing::info!(addr = %peer, "connect");
    let _ = tcp.set_nodelay(true);
    let visit = Arc::new(Visit::default());
    let handler = Conn {
        server: server.clone(),
        peer,
        visit: visit.clone(),
        stats: stats.clone(),
        channel: None,
        session: None,
        pty: None,
        env: Env::default(),
        budget: Budget::new(server.limits.input_per_second, Instant::now()),
        refusals: 0,
    };
    let stream = Guarded {
        inner: tcp,
        visit: visit.clone(),
    };
    let deadline = server.limits.handshake_timeout;
    let running = tokio::time::timeout(
        deadline,
        russh::server::run_stream(server.config.clone(), stream, handler),
    )
    .await;
    let outcome = match running {
        Err(_) => "handshake deadline".to_owned(),
        Ok(Err(e)) => format!("handshake failed: {e}"),
        Ok(Ok(running)) => {
            let mut running = std::pin::pin!(running);
            let mut stop = server.shutdown.clone();
            let auth_deadline = tokio::time::sleep_until((started + deadline).into());
            let mut auth_deadline = std::pin::pin!(auth_deadline);
            // A login that never opens a reader (`ssh -N`) holds a slot
            // only as long as an idle session may.
            let idle_deadline =
                tokio::time::sleep_until((started + server.limits.idle_timeout).into());
            let mut idle_deadline = std::pin::pin!(idle_deadline);
            let mut deadline_armed = true;
            let mut idle_armed = true;
            let mut stop_armed = true;
            loop {
                tokio::select! {
                    r = &mut running => {
                        break match r {
                            Ok(()) => "closed".to_owned(),
                            Err(e) => e.to_string(),
                        };
                    }
                    () = &mut auth_deadline, if deadline_armed => {
                        deadline_armed = false;
                        if !visit.info().authed {
                            tracing::info!(addr = %peer, "handshake deadline: disconnecting");
                            visit.kill();
                        }
                    }
                    () = &mut idle_deadline, if idle_armed => {
                        idle_armed = false;
                        if !visit.info().session {
                            tracing::info!(addr = %peer, "no session opened: disconnecting");
                            visit.kill();
                        }
                    }
                    _ = stop.wait_for(|s| *s), if stop_armed => {
                        stop_armed = false;
                        // A session says goodbye itself; anything else ends now.
                        if !visit.info().session {
                            visit.kill();
                        }
                    }
                }
            }
        }
    };
    let info = visit.info();
    tracing::info!(
        addr = %peer,
        user = %sanitize(&info.user),
        key = info.key.as_deref().unwrap_or("-"),
        term = %sanitize(&info.term),
        size = %format!("{}x{}", info.size.0, info.size.1),
        duration_s = started.elapsed().as_secs_f64(),
        bytes_sent = visit.sent.load(Ordering::Relaxed),
        bytes_received = visit.received.load(Ordering::Relaxed),
        end = %sanitize(&outcome),
        "disconnect"
    );
}

/// The terminal the client asked for.
#[derive(Debug, Clone)]
struct Pty {
    size: (u16, u16),
}

/// How the handler reaches a running reader.
struct Link {
    id: ChannelId,
    input: mpsc::Sender<Vec<u8>>,
    size: watch::Sender<(u16, u16)>,
}

/// russh's handler for one connection: answers every request.
struct Conn {
    server: Arc<Server>,
    peer: SocketAddr,
    visit: Arc<Visit>,
    stats: Stats,
    /// The session channel, until the shell starts and takes it.
    channel: Option<Channel<Msg>>,
    /// The running reader.
    session: Option<Link>,
    pty: Option<Pty>,
    env: Env,
    budget: Budget,
    refusals: u32,
}

impl Conn {
    /// Logs a refused request; a client repeating them is not let flood the
    /// log.
    fn refused(&mut self, what: &str) {
        const LOGGED: u32 = 8;
        self.refusals += 1;
        if self.refusals <= LOGGED {
            tracing::info!(addr = %self.peer, request = what, "refused request");
        } else if self.refusals == LOGGED + 1 {
            tracing::info!(addr = %self.peer, "refused request: more from this connection are not logged");
        }
    }

    fn channel_id(&self) -> Option<ChannelId> {
        self.channel
            .as_ref()
            .map(Channel::id)
            .or(self.session.as_ref().map(|s| s.id))
    }

    /// A one-line message on the client's stderr, exit status 1, and the
    /// channel closed: for requests folio never grants. `reply` is the
    /// answer to the request itself: ssh shows the message only for a
    /// request it was told succeeded, but sftp needs a failure to stop.
    fn turn_away(
        &mut self,
        channel: ChannelId,
        message: &str,
        reply: bool,
        session: &mut Session,
    ) -> Result<(), russh::Error> {
        let line = format!("folio: {message}\r\n");
        if reply {
            session.channel_success(channel)?;
        } else {
            session.channel_failure(channel)?;
        }
        session.extended_data(channel, 1, line.into_bytes())?;
        session.exit_status_request(channel, 1)?;
        session.eof(channel)?;
        session.close(channel)?;
        self.channel = None;
        Ok(())
    }

    fn auth_ok(&self, user: &str, key: Option<&PublicKey>) -> Auth {
        let mut info = lock(&self.visit.info);
        user.chars()
            .take(64)
            .collect::<String>()
            .clone_into(&mut info.user);
        info.key = key.map(fingerprint);
        info.authed = true;
        tracing::info!(
            addr = %self.peer,
            user = %sanitize(&info.user),
            key = info.key.as_deref().unwrap_or("-"),
            "auth"
        );
        Auth::Accept
    }

    fn key_allowed(&self, key: &PublicKey) -> bool {
        match &self.server.access {
            Access::Public => true,
            Access::Keys(keys) => keys.iter().any(|k| k.key_data() == key.key_data()),
        }
    }
}

fn reject_with_keys() -> Auth {
    Auth::Reject {
        proceed_with_methods: Some(MethodSet::from(&[MethodKind::PublicKey][..])),
        partial_success: false,
    }
}

impl Handler for Conn {
    type Error = russh::Error;

    async fn auth_none(&mut self, user: &str) -> Result<Auth, Self::Error> {
        Ok(match self.server.access {
            Access::Public => self.auth_ok(user, None),
            Access::Keys(_) => reject_with_keys(),
        })
    }

    async fn auth_password(&mut self, _user: &str, _password: &str) -> Result<Auth, Self::Error> {
        self.refused("auth password");
        Ok(reject_with_keys())
    }

    async fn auth_keyboard_interactive<'a>(
        &'a mut self,
        _user: &str,
        _submethods: &str,
        _response: Option<russh::server::Response<'a>>,
    ) -> Result<Auth, Self::Error> {
        Ok(reject_with_keys())
    }

    async fn auth_publickey_offered(
        &mut self,
        _user: &str,
        offer: russh::server::PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        Ok(if self.key_allowed(offer.public_key) {
            Auth::Accept
        } else {
            tracing::info!(addr = %self.peer, key = %fingerprint(offer.public_key), "auth refused: key not authorized");
            reject_with_keys()
        })
    }

    async fn auth_publickey(
        &mut self,
        user: &str,
        key: russh::server::VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        if self.key_allowed(key.public_key) {
            Ok(self.auth_ok(user, Some(key.public_key)))
        } else {
            tracing::info!(addr = %self.peer, key = %fingerprint(key.public_key), "auth refused: key not authorized");
            Ok(reject_with_keys())
        }
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: russh::server::ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if self.channel.is_some() || self.session.is_some() {
            self.refused("second session channel");
            reply
                .reject(ChannelOpenFailure::AdministrativelyProhibited)
                .await;
            return Ok(());
        }
        reply.accept().await;
        self.channel = Some(channel);
        Ok(())
    }

    async fn channel_open_x11(
        &mut self,
        _channel: Channel<Msg>,
        _originator_address: &str,
        _originator_port: u32,
        reply: russh::server::ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.refused("x11 channel");
        reply
            .reject(ChannelOpenFailure::AdministrativelyProhibited)
            .await;
        Ok(())
    }

    async fn channel_open_direct_tcpip(
        &mut self,
        _channel: Channel<Msg>,
        _host_to_connect: &str,
        _port_to_connect: u32,
        _originator_address: &str,
        _originator_port: u32,
        reply: russh::server::ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.refused("direct-tcpip (ssh -L)");
        reply
            .reject(ChannelOpenFailure::AdministrativelyProhibited)
            .await;
        Ok(())
    }

    async fn channel_open_forwarded_tcpip(
        &mut self,
        _channel: Channel<Msg>,
        _host_to_connect: &str,
        _port_to_connect: u32,
        _originator_address: &str,
        _originator_port: u32,
        reply: russh::server::ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.refused("forwarded-tcpip");
        reply
            .reject(ChannelOpenFailure::AdministrativelyProhibited)
            .await;
        Ok(())
    }

    async fn channel_open_direct_streamlocal(
        &mut self,
        _channel: Channel<Msg>,
        _socket_path: &str,
        reply: russh::server::ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.refused("direct-streamlocal");
        reply
            .reject(ChannelOpenFailure::AdministrativelyProhibited)
            .await;
        Ok(())
    }

    async fn pty_request(
        &mut self,
        channel: ChannelId,
        term: &str,
        col_width: u32,
        row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if self.channel_id() != Some(channel) || self.session.is_some() {
            session.channel_failure(channel)?;
            return Ok(());
        }
        let size = clamp_size(col_width, row_height);
        // TERM is only compared and logged; keep it short and printable.
        self.env.term = term
            .chars()
            .filter(char::is_ascii_graphic)
            .take(64)
            .collect();
        {
            let mut info = lock(&self.visit.info);
            info.term.clone_from(&self.env.term);
            info.size = size;
        }
        self.pty = Some(Pty { size });
        session.channel_success(channel)?;
        Ok(())
    }

    async fn env_request(
        &mut self,
        channel: ChannelId,
        variable_name: &str,
        variable_value: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if self.channel_id() == Some(channel) && Env::allowed(variable_name) {
            self.env.set(variable_name, variable_value);
            session.channel_success(channel)?;
        } else {
            tracing::debug!(addr = %self.peer, name = %sanitize(&variable_name.chars().take(64).collect::<String>()), "refused env");
            session.channel_failure(channel)?;
        }
        Ok(())
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if self.channel_id() != Some(channel) || self.session.is_some() {
            session.channel_failure(channel)?;
            return Ok(());
        }
        let Some(pty) = self.pty.clone() else {
            self.refused("shell without a pty");
            return self.turn_away(
                channel,
                "this is a reader and needs a terminal: connect with `ssh -t`",
                true,
                session,
            );
        };
        let Some(ch) = self.channel.take() else {
            session.channel_failure(channel)?;
            return Ok(());
        };
        session.channel_success(channel)?;
        // Input arrives through `data`; the read half is not used, and
        // dropping it keeps russh from queueing for it.
        let (_read, write) = ch.split();
        let (input_tx, input_rx) = mpsc::channel(64);
        let (size_tx, size_rx) = watch::channel(pty.size);
        self.session = Some(Link {
            id: channel,
            input: input_tx,
            size: size_tx,
        });
        lock(&self.visit.info).session = true;
        let ctx = SessionCtx {
            site: self.server.site.clone(),
            env: self.env.clone(),
            size: size_rx,
            input: input_rx,
            shutdown: self.server.shutdown.clone(),
            limits: self.server.limits.clone(),
        };
        tracing::info!(
            addr = %self.peer,
            term = %self.env.term,
            size = %format!("{}x{}", pty.size.0, pty.size.1),
            color = ?self.env.depth(self.server.site.color),
            "session"
        );
        let visit = self.visit.clone();
        let stats = self.stats.clone();
        let server = self.server.clone();
        stats.0.sessions.fetch_add(1, Ordering::SeqCst);
        server.sessions.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(async move {
            supervise(ctx, write).await;
            stats.0.sessions.fetch_sub(1, Ordering::SeqCst);
            server.sessions.fetch_sub(1, Ordering::SeqCst);
            // The client normally hangs up once the channel closes.
            tokio::time::sleep(Duration::from_millis(500)).await;
            visit.kill();
        });
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        _data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.refused("exec");
        self.turn_away(
            channel,
            "this server shows a reader and runs no commands: connect with plain `ssh -t`",
            true,
            session,
        )
    }

    async fn subsystem_request(
        &mut self,
        channel: ChannelId,
        name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let name: String = name.chars().take(32).collect();
        self.refused(&format!("subsystem {}", sanitize(&name)));
        self.turn_away(
            channel,
            "this server shows a reader; it offers no file transfer or subsystems",
            false,
            session,
        )
    }

    async fn x11_request(
        &mut self,
        channel: ChannelId,
        _single_connection: bool,
        _x11_auth_protocol: &str,
        _x11_auth_cookie: &str,
        _x11_screen_number: u32,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.refused("x11 forwarding");
        session.channel_failure(channel)?;
        Ok(())
    }

    async fn agent_request(
        &mut self,
        _channel: ChannelId,
        _session: &mut Session,
    ) -> Result<bool, Self::Error> {
        self.refused("agent forwarding");
        Ok(false)
    }

    async fn tcpip_forward(
        &mut self,
        _address: &str,
        _port: &mut u32,
        _session: &mut Session,
    ) -> Result<bool, Self::Error> {
        self.refused("tcpip-forward (ssh -R)");
        Ok(false)
    }

    async fn streamlocal_forward(
        &mut self,
        _socket_path: &str,
        _session: &mut Session,
    ) -> Result<bool, Self::Error> {
        self.refused("streamlocal-forward");
        Ok(false)
    }

    async fn window_change_request(
        &mut self,
        channel: ChannelId,
        col_width: u32,
        row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let size = clamp_size(col_width, row_height);
        match &self.session {
            Some(link) if link.id == channel => {
                let _ = link.size.send(size);
            }
            _ => {
                if let Some(pty) = &mut self.pty {
                    pty.size = size;
                }
            }
        }
        lock(&self.visit.info).size = size;
        session.channel_success(channel)?;
        Ok(())
    }

    async fn data(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        let Some(link) = &self.session else {
            return Ok(());
        };
        if link.id != channel {
            return Ok(());
        }
        let data = &data[..data.len().min(self.server.limits.input_per_packet)];
        let allowed = self.budget.take(data.len(), Instant::now());
        if allowed > 0 {
            // A full queue means the session is behind: drop, never wait
            // (waiting would stall this whole connection).
            let _ = link.input.try_send(data[..allowed].to_vec());
        }
        Ok(())
    }

    async fn channel_eof(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if self.session.as_ref().is_some_and(|s| s.id == channel) {
            self.session = None;
        }
        Ok(())
    }

    async fn channel_close(
        &mut self,
        channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if self.session.as_ref().is_some_and(|s| s.id == channel) {
            // Dropping the input sender ends the reader.
            self.session = None;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// A session.

struct SessionCtx {
    site: Arc<Site>,
    env: Env,
    size: watch::Receiver<(u16, u16)>,
    input: mpsc::Receiver<Vec<u8>>,
    shutdown: watch::Receiver<bool>,
    limits: Limits,
}

/// Why a session ended, and what the visitor is told.
#[derive(Debug, Clone, PartialEq, Eq)]
enum End {
    Quit,
    ClientGone,
    Idle(Duration),
    TooLong(Duration),
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
trait Sink: Send + 'static {
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
async fn supervise(ctx: SessionCtx, sink: impl Sink) {
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

/// The work a session sent to the blocking pool, coming back.
type Work = mpsc::UnboundedSender<Report>;

#[allow(clippy::too_many_lines)] // one select loop reads best in one piece
async fn run_session(mut ctx: SessionCtx, outbox: Arc<Outbox>) -> End {
    let started = tokio::time::Instant::now();
    let depth = ctx.env.depth(ctx.site.color);
    let (theme, probe) = match &ctx.site.look {
        Look::Fixed(t) => (t.for_depth(depth), None),
        Look::Auto { dark, light } => (
            dark.for_depth(depth),
            (depth != Depth::None).then(|| (dark.for_depth(depth), light.for_depth(depth))),
        ),
    };
    let options = Options {
        max_width: ctx.site.max_width,
        source_label: ctx.site.label.clone(),
        wrap_code: ctx.site.wrap_code,
        remote: true,
        // The Linux console and dumb terminals print an OSC 8 as text.
        hyperlinks: ctx.site.hyperlinks && !matches!(ctx.env.term.as_str(), "linux" | "dumb"),
    };
    let mut app = App::new(ctx.site.posts(), theme, ctx.site.keymap.clone(), options);
    let mut actions = ctx.site.subscribe();
    let (w, h) = *ctx.size.borrow_and_update();
    app.update(Action::Resize(w, h));
    let mut terminal = match Terminal::with_options(
        WireBackend::new(Vec::new(), w, h),
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, w, h)),
        },
    ) {
        Ok(t) => t,
        Err(e) => return End::Failed(e.to_string()),
    };
    let (work_tx, mut work_rx) = mpsc::unbounded_channel();
    let mut parser = Parser::new();
    let mut last_key = tokio::time::Instant::now();
    let mut probe_sent: Option<tokio::time::Instant> = None;
    let idle = ctx.limits.idle_timeout;
    let max_time = ctx.limits.max_session_time;
    let mut esc_deadline: Option<tokio::time::Instant> = None;
    let mut shutdown = ctx.shutdown.clone();
    let mut reloads = true;

    let newest_search = Arc::new(AtomicU64::new(0));
    dispatch(&mut app, &ctx.site, &work_tx, &newest_search);
    if let Err(e) = draw(&mut terminal, &mut app, &outbox) {
        return End::Failed(e);
    }
    if probe.is_some() {
        outbox_append(&outbox, OSC11_QUERY.as_bytes());
        probe_sent = Some(tokio::time::Instant::now());
    }
    loop {
        let esc_wait = esc_deadline.unwrap_or_else(|| started + max_time);
        tokio::select! {
            bytes = ctx.input.recv() => {
                let Some(bytes) = bytes else { return End::ClientGone };
                esc_deadline = None;
                last_key = tokio::time::Instant::now();
                let mut events = parser.feed(&bytes);
                // Whatever else is queued: one frame for a burst.
                while let Ok(more) = ctx.input.try_recv() {
                    events.extend(parser.feed(&more));
                }
                if parser.has_pending() {
                    esc_deadline = Some(tokio::time::Instant::now() + ESC_TIMEOUT);
                }
                apply(&mut app, events, probe.as_ref(), &mut probe_sent);
            }
            () = tokio::time::sleep_until(esc_wait), if esc_deadline.is_some() => {
                esc_deadline = None;
                let events = parser.flush();
                apply(&mut app, events, probe.as_ref(), &mut probe_sent);
            }
            changed = ctx.size.changed() => {
                if changed.is_err() {
                    return End::ClientGone;
                }
                let (w, h) = *ctx.size.borrow_and_update();
                terminal.backend_mut().set_size(w, h);
                // A fixed viewport's resize clears line by line; the
                // backend re-sizes its buffers on a whole-screen clear.
                let cleared = ratatui::backend::Backend::clear(terminal.backend_mut());
                if let Err(e) = cleared.and_then(|()| terminal.resize(Rect::new(0, 0, w, h))) {
                    return End::Failed(e.to_string());
                }
                app.update(Action::Resize(w, h));
            }
            action = work_rx.recv() => {
                if let Some(action) = action {
                    app.report(action);
                }
            }
            action = actions.recv(), if reloads => {
                match action {
                    Ok(report) => app.report(report),
                    // Missed actions: the next one still applies.
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => reloads = false,
                }
            }
            () = tokio::time::sleep_until(last_key + idle) => return End::Idle(idle),
            () = tokio::time::sleep_until(started + max_time) => return End::TooLong(max_time),
            _ = shutdown.wait_for(|s| *s) => return End::Shutdown,
        }
        if app.should_quit() {
            return End::Quit;
        }
        perform(&mut app, &mut terminal, &outbox);
        dispatch(&mut app, &ctx.site, &work_tx, &newest_search);
        if app.take_dirty()
            && let Err(e) = draw(&mut terminal, &mut app, &outbox)
        {
            return End::Failed(e);
        }
    }
}

/// Turns parsed input into app actions.
fn apply(
    app: &mut App,
    events: Vec<Event>,
    probe: Option<&(Theme, Theme)>,
    probe_sent: &mut Option<tokio::time::Instant>,
) {
    for event in events {
        match event {
            Event::Key(key) => app.key(key),
            Event::Wheel(wheel, x, y) => app.update(Action::Scroll(wheel, x, y)),
            Event::Click(x, y) => app.update(Action::Click(x, y)),
            Event::Background(rgb) => {
                // Only the first, timely answer counts.
                let Some(sent) = probe_sent.take() else {
                    continue;
                };
                let Some((dark, light)) = probe else { continue };
                if sent.elapsed() > REPLY_DEADLINE {
                    continue;
                }
                let theme = match Background::of_rgb(rgb) {
                    Background::Light => light.clone(),
                    Background::Dark => dark.clone(),
                };
                app.report(Report::SetTheme(Box::new(theme)));
            }
        }
    }
}

/// Carries out what the app asked for, as far as a visitor may: copies go
/// to the visitor's clipboard (OSC 52); nothing is opened or edited on the
/// server.
fn perform(app: &mut App, terminal: &mut Terminal<WireBackend<Vec<u8>>>, outbox: &Outbox) {
    for effect in app.take_effects() {
        match effect {
            Effect::Copy(text) => {
                let _ = terminal.backend_mut().copy_to_clipboard(&text);
            }
            // A remote app copies links rather than asking for them to be
            // opened; should one ask, the visitor gets the copy.
            Effect::OpenUrl(url) => {
                let _ = terminal.backend_mut().copy_to_clipboard(&url);
            }
            Effect::Edit { .. } => {
                app.report(Report::Notify("Posts cannot be edited over SSH.".into()));
            }
        }
    }
    // Not a frame: it must not be dropped with one.
    let bytes = std::mem::take(terminal.backend_mut().writer_mut());
    if !bytes.is_empty() {
        outbox_append(outbox, &bytes);
    }
}

/// Hands the app's requests to the blocking pool; results come back on
/// `work` as actions.
fn dispatch(app: &mut App, site: &Arc<Site>, work: &Work, newest: &Arc<AtomicU64>) {
    if let Some(job) = app.pending_search() {
        search(job, work, newest);
    }
    while let Some(post) = app.pending_load() {
        let site = site.clone();
        let work = work.clone();
        tokio::task::spawn_blocking(move || {
            let result =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| site.source(&post)))
                    .unwrap_or_else(|_| Err("this post could not be read".into()));
            let _ = work.send(Report::Loaded(post.rel_path.clone(), result));
        });
    }
    if let Some(job) = app.pending_layout() {
        let key = job.cache_key();
        if let Some(doc) = site.layout(&key) {
            let _ = work.send(job.done(Box::new((*doc).clone())));
            return;
        }
        let work = work.clone();
        let site = site.clone();
        tokio::task::spawn_blocking(move || {
            // A layout that panics leaves the quick layout in place.
            if let Ok(action) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job.run()))
            {
                if let Report::LaidOut { doc, .. } = &action {
                    site.keep_layout(key, doc);
                }
                let _ = work.send(action);
            }
        });
    }
}

/// Runs a search across the posts on the blocking pool. A newer search of the
/// same session (`newest` is the session's latest search number), or the
/// session ending, stops it at its next post: a visitor typing a query must
/// not leave one full pass running per key.
fn search(job: crate::search::SearchJob, work: &Work, newest: &Arc<AtomicU64>) {
    newest.store(job.generation, Ordering::SeqCst);
    let work = work.clone();
    let newest = Arc::clone(newest);
    tokio::task::spawn_blocking(move || {
        let cancelled = || work.is_closed() || newest.load(Ordering::SeqCst) != job.generation;
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            crate::term::run_search(&job, &cancelled, &mut |action| {
                let _ = work.send(action);
            });
        }));
    });
}

/// Draws the app and queues the bytes. When the previous frame still waits
/// (the client is behind), it is dropped and this frame is a full repaint,
/// so the screen is right whichever frames were skipped.
fn draw(
    terminal: &mut Terminal<WireBackend<Vec<u8>>>,
    app: &mut App,
    outbox: &Outbox,
) -> Result<(), String> {
    app.take_dirty();
    let behind = outbox.waiting();
    if behind {
        terminal.clear().map_err(|e| e.to_string())?;
    }
    terminal.backend_mut().set_hyperlinks(&ui::hyperlinks(app));
    terminal
        .draw(|frame| ui::draw(app, frame))
        .map_err(|e| e.to_string())?;
    let bytes = std::mem::take(terminal.backend_mut().writer_mut());
    if !bytes.is_empty() {
        if behind {
            // Whatever was waiting is dropped; what it may have changed
            // outside the cells (the cursor) is set again.
            let mut full = b"\x1b[?25l".to_vec();
            full.extend_from_slice(&bytes);
            outbox.put(full);
        } else {
            outbox.put(bytes);
        }
    }
    Ok(())
}

/// Queues bytes that are not a frame (the terminal set-up, a query): they
/// go out before the next frame and are never dropped with one.
fn outbox_append(outbox: &Outbox, bytes: &[u8]) {
    lock(&outbox.slot).extra.extend_from_slice(bytes);
    outbox.ready.notify_one();
}

/// Binds `addr` and reports what it got (port 0 picks a free port).
pub async fn bind(addr: &str) -> Result<(TcpListener, SocketAddr), ServeError> {
    let listen = |source| ServeError::Listen {
        addr: addr.to_owned(),
        source,
    };
    let listener = TcpListener::bind(addr).await.map_err(listen)?;
    let local = listener.local_addr().map_err(listen)?;
    Ok((listener, local))
}

/// Whether `ip` is a loopback address (the start-up message suggests the
/// matching `ssh` command).
pub fn is_loopback(ip: IpAddr) -> bool {
    ip.is_loopback()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_allow_list() {
        for ok in ["LANG", "LC_ALL", "LC_CTYPE", "COLORTERM", "NO_COLOR"] {
            assert!(Env::allowed(ok), "{ok}");
        }
        for no in ["PATH", "LD_PRELOAD", "TERM", "lang", "HOME", ""] {
            assert!(!Env::allowed(no), "{no}");
        }
    }

    #[test]
    fn colour_depth_from_the_client() {
        let mut env = Env {
            term: "xterm".into(),
            ..Env::default()
        };
        assert_eq!(env.depth(ColorChoice::Auto), Depth::Ansi256);
        env.set("COLORTERM", "truecolor");
        assert_eq!(env.depth(ColorChoice::Auto), Depth::TrueColor);
        env.set("NO_COLOR", "1");
        assert_eq!(env.depth(ColorChoice::Auto), Depth::None);
        assert_eq!(env.depth(ColorChoice::Ansi16), Depth::Ansi16);
        let dumb = Env {
            term: "dumb".into(),
            ..Env::default()
        };
        assert_eq!(dumb.depth(ColorChoice::Auto), Depth::None);
        assert_eq!(dumb.depth(ColorChoice::Never), Depth::None);
    }

    #[test]
    fn host_key_is_made_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/folio/key");
        let (key, created) = host_key(&path).unwrap();
        assert!(created);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (again, created) = host_key(&path).unwrap();
        assert!(!created);
        assert_eq!(
            fingerprint(key.public_key()),
            fingerprint(again.public_key())
        );
        assert!(fingerprint(key.public_key()).starts_with("SHA256:"));
    }

    #[test]
    fn a_corrupt_host_key_is_an_error_and_stays() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, "not a key").unwrap();
        let err = host_key(&path).unwrap_err().to_string();
        assert!(err.contains("not a usable OpenSSH private key"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "not a key");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let dir = dir.path().join("locked");
            std::fs::create_dir(&dir).unwrap();
            let locked = dir.join("key");
            std::fs::write(&locked, "x").unwrap();
            std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
            // Root reads anything; the check only means something otherwise.
            if std::fs::read(&locked).is_err() {
                assert!(matches!(host_key(&locked), Err(ServeError::ReadKey { .. })));
            }
        }
    }

    #[test]
    fn authorized_keys_with_options_and_comments() {
        let dir = tempfile::tempdir().unwrap();
        let (key, _) = host_key(&dir.path().join("k")).unwrap();
        let public = key.public_key().to_openssh().unwrap();
        let path = dir.path().join("authorized_keys");
        std::fs::write(
            &path,
            format!("# readers\n\n{public} me@laptop\nno-pty,from=\"10.0.0.1\" {public}\n"),
        )
        .unwrap();
        let keys = authorized_keys(&path).unwrap();
        assert_eq!(keys.len(), 2);
        std::fs::write(&path, format!("{public}\nssh-ed25519 garbage\n")).unwrap();
        let err = authorized_keys(&path).unwrap_err().to_string();
        assert!(err.contains(":2: not a public key"), "{err}");
    }

    use crate::keymap::{Key, KeyCode};
    use ratatui::backend::TestBackend;

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
        let mut app = App::new(
            posts::embedded(),
            Theme::default(),
            Keymap::default(),
            options,
        );
        app.update(Action::Resize(w, h));
        crate::term::settle(&mut app);
        let mut terminal = Terminal::with_options(
            WireBackend::new(Vec::new(), w, h),
            TerminalOptions {
                viewport: Viewport::Fixed(Rect::new(0, 0, w, h)),
            },
        )
        .unwrap();
        let outbox = Outbox::default();
        let mut vt = vt100::Parser::new(h, w, 0);
        vt.process(ENTER.as_bytes());
        draw(&mut terminal, &mut app, &outbox).unwrap();
        vt.process(&take(&outbox));
        assert_eq!(seen(&vt, w), expected(&app));
        let mut press = |app: &mut App, code: KeyCode| {
            app.key(Key::new(code));
            crate::term::settle(app);
            draw(&mut terminal, app, &outbox).unwrap();
        };
        // A client that keeps up gets every frame.
        for code in [
            KeyCode::Down,
            KeyCode::Enter,
            KeyCode::Char(']'),
            KeyCode::Char('j'),
        ] {
            press(&mut app, code);
            let frame = take(&outbox);
            assert!(!frame.is_empty());
            vt.process(&frame);
            assert_eq!(seen(&vt, w), expected(&app));
        }
        // A client that is behind: frames pile up and only the newest waits,
        // drawn in full, so the screen is right without the ones dropped.
        for code in [
            KeyCode::Char(']'),
            KeyCode::Char('j'),
            KeyCode::PageDown,
            KeyCode::Char('k'),
        ] {
            press(&mut app, code);
        }
        let last = take(&outbox);
        assert!(last.windows(4).any(|w| w == b"\x1b[2J"), "a full repaint");
        vt.process(&last);
        assert_eq!(seen(&vt, w), expected(&app));
        // Back in step: small frames again.
        press(&mut app, KeyCode::Char('j'));
        let step = take(&outbox);
        assert!(!step.windows(4).any(|w| w == b"\x1b[2J"));
        vt.process(&step);
        assert_eq!(seen(&vt, w), expected(&app));
        // A resize, as the session does it.
        let (w2, h2) = (60, 20);
        terminal.backend_mut().set_size(w2, h2);
        ratatui::backend::Backend::clear(terminal.backend_mut()).unwrap();
        terminal.resize(Rect::new(0, 0, w2, h2)).unwrap();
        app.update(Action::Resize(w2, h2));
        crate::term::settle(&mut app);
        draw(&mut terminal, &mut app, &outbox).unwrap();
        let mut vt = vt100::Parser::new(h2, w2, 0);
        vt.process(&take(&outbox));
        assert_eq!(seen(&vt, w2), expected(&app));
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
        let newest = Arc::new(AtomicU64::new(0));
        dispatch(&mut app, site, &work, &newest);
        while let Some(action) = results.recv().await {
            let done = matches!(action, Report::LaidOut { .. });
            app.report(action);
            dispatch(&mut app, site, &work, &newest);
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
        assert_eq!(lock(&site.sources).map.len(), 1);
        assert_eq!(lock(&site.layouts).map.len(), 1);
        let second = open_first(&site).await;
        assert_eq!(lock(&site.layouts).map.len(), 1, "the layout was reused");
        assert!(first.document().is_some());
        assert_eq!(first.document(), second.document());
        // A reload empties both caches.
        site.broadcast(Report::Notify(String::new()));
        assert!(lock(&site.sources).map.is_empty());
        assert!(lock(&site.layouts).map.is_empty());
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
        let newest = Arc::new(AtomicU64::new(0));
        for key in "Sssh".chars() {
            app.key(Key::char(key));
            dispatch(&mut app, &site, &work, &newest);
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

    #[test]
    fn a_timely_background_reply_picks_the_theme_once() {
        let dark = Theme::builtin("dark").unwrap();
        let light = Theme::builtin("light").unwrap();
        let probe = (dark.clone(), light);
        let mut app = App::new(
            posts::embedded(),
            dark,
            Keymap::default(),
            Options::default(),
        );
        let white = || vec![Event::Background([255, 255, 255])];
        let black = || vec![Event::Background([0, 0, 0])];
        // Late: ignored.
        let mut sent = tokio::time::Instant::now().checked_sub(REPLY_DEADLINE * 2);
        apply(&mut app, white(), Some(&probe), &mut sent);
        assert_eq!(app.theme().name, "dark");
        // In time: light; a second reply changes nothing.
        let mut sent = Some(tokio::time::Instant::now());
        apply(&mut app, white(), Some(&probe), &mut sent);
        assert_eq!(app.theme().name, "light");
        apply(&mut app, black(), Some(&probe), &mut sent);
        assert_eq!(app.theme().name, "light");
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_client_that_stops_reading_holds_one_frame_at_most() {
        let site = Arc::new(Site::new(
            posts::embedded(),
            None,
            Keymap::default(),
            Look::Fixed(Box::default()),
        ));
        let (input, input_rx) = mpsc::channel(64);
        let (_size, size_rx) = watch::channel((120, 40));
        let (_stop, stop_rx) = watch::channel(false);
        let ctx = SessionCtx {
            site,
            env: Env {
                term: "xterm-256color".into(),
                ..Env::default()
            },
            size: size_rx,
            input: input_rx,
            shutdown: stop_rx,
            limits: Limits::default(),
        };
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
