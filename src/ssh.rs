//! The SSH runner: `folio serve` shows a folder of posts to anyone who
//! connects with `ssh`, each visitor in their own reader.
//!
//! One tokio task per session runs the shared [`crate::session::Session`]
//! (the same reader loop as the local terminal) with the session's timers.
//! Frames go to the channel through a one-frame outbox: at most one frame
//! is being written and one waits; a newer frame replaces a waiting one and
//! is then drawn in full, so a client that stops reading holds at most two
//! frames (plus the SSH window) of server memory and still sees a correct
//! screen when it catches up.
//!
//! All sessions share one [`Site`]: the post list, a cache of post sources,
//! the theme and keymap, and a broadcast of [`crate::action::Report`]s every session
//! applies (live reload plugs in there: [`Site::broadcast`]). Reading and
//! laying out posts happens on tokio's blocking pool, never on a session's
//! task: one layout at a time per session, stopped when a newer one is asked
//! for or the session ends, at a lower CPU priority than the sessions.
//!
//! What a visitor may take is bounded ([`crate::limits`]): connections in
//! the handshake and logged-in ones are counted in separate pools, per
//! address and per network; window changes are coalesced and paid from the
//! input budget; screens share a budget of cells.
//!
//! Nothing here queries the server's own terminal, spawns a process, or
//! reads outside the served folder (files are opened beneath it:
//! [`crate::posts::Folder`]).
//!
//! Behind a TCP load balancer, the balancer's PROXY header names the
//! visitor ([`proxy`]); every limit, `from=` and log line then uses that
//! address. What the server did is summed up each interval ([`figures`]).
//!
//! Inside: `keys` (the host key and `authorized_keys`), `site` (what all
//! sessions share, and its caches), `conn` (one connection: russh's
//! handler, limits, the visitor's terminal description), `session` (one
//! visitor's reader, its outbox and its supervisor), `proxy` (the PROXY
//! protocol) and `figures` (the summary line and the status file).

mod conn;
pub mod figures;
mod keys;
pub mod proxy;
mod session;
mod site;

pub use conn::Env;
pub use figures::Observer;
pub use keys::{Allowed, AuthorizedKey, AuthorizedKeys, authorized_keys, fingerprint, host_key};
pub use proxy::Trusted;
pub use site::Site;

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use russh::keys::PrivateKey;
use russh::{MethodKind, MethodSet};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::limits::{Gate, Limits, Screens, Ticket};
use crate::theme::Theme;

/// How long a goodbye may take to reach a client before it is cut off.
const GOODBYE_TIMEOUT: Duration = Duration::from_secs(2);

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

/// Who may log in.
#[derive(Debug, Clone)]
pub enum Access {
    /// Anyone: `none` or any public key (never a password).
    Public,
    /// Only these keys, each from where its `from=` says.
    Keys(AuthorizedKeys),
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

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How `folio serve` runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub limits: Limits,
    pub access: Access,
    /// The load balancers whose PROXY headers name the visitor (empty: no
    /// balancer; a PROXY header is refused from anyone).
    pub proxy: Trusted,
}

/// The running server's shared state.
struct Server {
    site: Arc<Site>,
    limits: Limits,
    access: Access,
    proxy: Trusted,
    /// Connections from a balancer whose PROXY header is being read.
    headers: AtomicUsize,
    gate: Mutex<Gate>,
    /// Every admitted connection, so one pushed out of the handshake's
    /// pool can be closed.
    visits: Mutex<HashMap<Ticket, Arc<conn::Visit>>>,
    /// The screen cells of all sessions.
    screens: Arc<Mutex<Screens>>,
    config: Arc<russh::server::Config>,
    shutdown: watch::Receiver<bool>,
}

/// Counts of what the server holds, for tests and the load figures.
#[derive(Debug, Clone, Default)]
pub struct Stats(Arc<ServerCounts>);

#[derive(Debug, Default)]
struct ServerCounts {
    connections: AtomicUsize,
    sessions: AtomicUsize,
    layouts: AtomicUsize,
    cells: AtomicUsize,
    started: std::sync::atomic::AtomicU64,
    interval: figures::Interval,
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

    /// Layout jobs running on the blocking pool.
    pub fn layouts(&self) -> usize {
        self.0.layouts.load(Ordering::SeqCst)
    }

    /// Screen cells the sessions hold.
    pub fn screen_cells(&self) -> usize {
        self.0.cells.load(Ordering::SeqCst)
    }

    /// Reader sessions started since the server started.
    pub fn sessions_started(&self) -> u64 {
        self.0.started.load(Ordering::SeqCst)
    }

    /// Connections refused by `why` (a limit's name, or `proxy_*`) since
    /// the last summary.
    pub fn refused(&self, why: &str) -> u64 {
        self.0.interval.refused(why)
    }

    /// TCP connections accepted (health checks apart) since the last
    /// summary.
    pub fn connects(&self) -> u64 {
        self.0.interval.connects()
    }

    /// All connections refused since the last summary.
    pub fn refused_total(&self) -> u64 {
        self.0.interval.refused_total()
    }

    /// PROXY `LOCAL` connections (a balancer's health checks) since the
    /// last summary.
    pub fn health_checks(&self) -> u64 {
        self.0.interval.health_checks()
    }

    /// Starts a new interval, as a summary does (the figures of the last
    /// are dropped).
    pub fn reset(&self) {
        self.0.interval.take();
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
        visits: Mutex::new(HashMap::new()),
        screens: Arc::new(Mutex::new(Screens::new(options.limits.screen_cells))),
        limits: options.limits,
        access: options.access,
        proxy: options.proxy,
        headers: AtomicUsize::new(0),
        config,
        shutdown: shutdown.clone(),
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
        let accepted = Instant::now();
        if server.proxy.contains(peer.ip()) {
            balanced(&server, tcp, peer, accepted, &stats);
        } else {
            stats.0.interval.connect();
            admit(&server, tcp, peer, None, accepted, &stats);
        }
    }
    drop(listener);
    let deadline = Instant::now() + GOODBYE_TIMEOUT + Duration::from_secs(2);
    while stats.connections() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A connection from a trusted balancer: its PROXY header is read (within
/// the handshake deadline, on a task of its own), then the visitor it
/// names is admitted as if they had connected directly. Headers being
/// read at once are capped like handshakes.
fn balanced(
    server: &Arc<Server>,
    tcp: TcpStream,
    peer: SocketAddr,
    accepted: Instant,
    stats: &Stats,
) {
    if server.headers.fetch_add(1, Ordering::SeqCst) >= server.limits.max_startups {
        server.headers.fetch_sub(1, Ordering::SeqCst);
        stats.0.interval.connect();
        stats.0.interval.refuse("proxy_busy");
        tracing::info!(via = %peer, "refused connection: too many PROXY headers being read");
        return;
    }
    let server = server.clone();
    let stats = stats.clone();
    tokio::spawn(async move {
        let mut tcp = tcp;
        let read = tokio::time::timeout(
            server.limits.handshake_timeout,
            proxy::read_header(&mut tcp),
        )
        .await;
        server.headers.fetch_sub(1, Ordering::SeqCst);
        let header = match read {
            Ok(Ok(header)) => header,
            Ok(Err(e)) => {
                stats.0.interval.connect();
                stats.0.interval.refuse(e.name());
                tracing::info!(via = %peer, error = %e, "refused connection from the balancer");
                if matches!(e, proxy::ProxyError::Missing) {
                    // Probably a person or a misconfigured balancer: say
                    // why, and close with a FIN after reading what they
                    // already sent (a bounded amount, briefly), so the line
                    // is not lost to a reset.
                    refuse(
                        &tcp,
                        "this server is behind a load balancer; connect through it",
                    );
                    let _ = tokio::io::AsyncWriteExt::shutdown(&mut tcp).await;
                    let mut sink = [0u8; 4096];
                    let _ = tokio::time::timeout(
                        Duration::from_secs(1),
                        tokio::io::AsyncReadExt::read(&mut tcp, &mut sink),
                    )
                    .await;
                }
                return;
            }
            Err(_) => {
                stats.0.interval.connect();
                stats.0.interval.refuse("proxy_timeout");
                tracing::info!(via = %peer, "refused connection from the balancer: no PROXY header within the handshake deadline");
                return;
            }
        };
        match header {
            proxy::Header::Local => {
                // A health check: nothing to serve, nothing to count
                // against anyone. Closed with a FIN, not a reset.
                stats.0.interval.health_check();
                tracing::debug!(via = %peer, "PROXY LOCAL (health check): closing");
                let _ = tokio::io::AsyncWriteExt::shutdown(&mut tcp).await;
            }
            proxy::Header::Unknown => {
                stats.0.interval.connect();
                admit(&server, tcp, peer, Some(peer), accepted, &stats);
            }
            proxy::Header::Proxy(visitor) => {
                stats.0.interval.connect();
                admit(&server, tcp, visitor, Some(peer), accepted, &stats);
            }
        }
    });
}

/// Counts a connection from `visitor` against the limits and, if it is let
/// in, serves it on a task of its own. `via` is the balancer it came
/// through.
fn admit(
    server: &Arc<Server>,
    tcp: TcpStream,
    visitor: SocketAddr,
    via: Option<SocketAddr>,
    accepted: Instant,
    stats: &Stats,
) {
    let admitted = lock(&server.gate).admit(visitor.ip(), Instant::now(), rand::random());
    let admitted = match admitted {
        Ok(admitted) => admitted,
        Err(refusal) => {
            stats.0.interval.refuse(refusal.name());
            if let Some(via) = via {
                tracing::info!(addr = %visitor, via = %via, limit = refusal.name(), "refused connection");
            } else {
                tracing::info!(addr = %visitor, limit = refusal.name(), "refused connection");
            }
            refuse(&tcp, refusal.message());
            return;
        }
    };
    let visit = Arc::new(conn::Visit::default());
    {
        let mut visits = lock(&server.visits);
        if let Some(evicted) = admitted.evicted.and_then(|t| visits.remove(&t)) {
            tracing::info!(addr = %visitor, "the handshakes are full: closing the oldest of the address holding the most");
            stats.0.interval.refuse("max_startups_evicted");
            evicted.kill();
        }
        visits.insert(admitted.ticket, visit.clone());
    }
    stats.0.connections.fetch_add(1, Ordering::SeqCst);
    let server = server.clone();
    let stats = stats.clone();
    tokio::spawn(async move {
        let ticket = admitted.ticket;
        let from = conn::Peer {
            visitor,
            via,
            accepted,
        };
        conn::connection(&server, tcp, from, ticket, visit, &stats).await;
        lock(&server.gate).release(ticket);
        lock(&server.visits).remove(&ticket);
        stats.0.connections.fetch_sub(1, Ordering::SeqCst);
    });
}

/// The operator's view of a running server: a summary line every
/// `observer.every` when anything happened, and the status file; once more
/// when `shutdown` turns true.
pub async fn observe(
    site: Arc<Site>,
    stats: Stats,
    mut observer: Observer,
    mut shutdown: watch::Receiver<bool>,
) {
    observer.tick(&stats, site.posts().len());
    let mut every = tokio::time::interval(observer.every);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    every.tick().await;
    loop {
        tokio::select! {
            _ = every.tick() => observer.tick(&stats, site.posts().len()),
            _ = shutdown.wait_for(|s| *s) => break,
        }
    }
    observer.tick(&stats, site.posts().len());
}

/// Says why, before the SSH banner (ssh shows such lines with `-v`), and
/// closes. Never waits: a flood must not hold sockets or tasks.
fn refuse(tcp: &TcpStream, why: &str) {
    let line = format!("folio: {why}\r\n");
    let _ = tcp.try_write(line.as_bytes());
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
