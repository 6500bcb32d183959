//! One connection: the TCP stream (cut from outside, bytes counted), the
//! deadlines before a reader starts, and russh's handler, which answers
//! every request and starts one reader per connection.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use russh::keys::PublicKey;
use russh::server::{Auth, Handler, Msg, Session};
use russh::{Channel, ChannelId, ChannelOpenFailure, MethodKind, MethodSet};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{Notify, mpsc, oneshot, watch};

use super::proxy::Sniff;
use super::session::{SessionCtx, supervise};
use super::{Access, Allowed, Server, Stats, fingerprint, lock};
use crate::color::{self, ColorChoice, Depth};
use crate::limits::{Budget, Flood, RESIZE_COST, Ticket, clamp_size};
use crate::sanitize::sanitize;

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

/// Ends a connection from outside russh: reads and writes fail from then on,
/// so russh's session ends on its own.
#[derive(Debug, Default)]
pub struct Visit {
    killed: AtomicBool,
    wakers: Mutex<Vec<Waker>>,
    sent: AtomicU64,
    received: AtomicU64,
    info: Mutex<VisitInfo>,
    /// Logged in, or a reader started: the deadlines change.
    changed: Notify,
}

#[derive(Debug, Default, Clone)]
struct VisitInfo {
    user: String,
    key: Option<String>,
    /// When the login was accepted and counted as a session.
    authed: Option<Instant>,
    term: String,
    size: (u16, u16),
    session: bool,
}

impl Visit {
    pub(super) fn kill(&self) {
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
    stats: Stats,
    /// Watches for a PROXY header where none may come (the connection is
    /// not from a trusted balancer, or its header was read already).
    sniff: Sniff,
    peer: SocketAddr,
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
        if n > 0 {
            let this = &mut *self;
            if this.sniff.is_header(&buf.filled()[before..]) {
                // A client must not choose its own address.
                this.stats.0.interval.refuse("proxy_untrusted");
                tracing::info!(addr = %this.peer, "refused connection: a PROXY header from an address that is not a trusted balancer (--proxy-protocol)");
                this.visit.kill();
                return Poll::Ready(Err(aborted()));
            }
        }
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
            self.stats.0.interval.sent(*n);
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

/// Who a connection is from.
#[derive(Debug, Clone, Copy)]
pub(super) struct Peer {
    /// The visitor: the TCP peer, or what a balancer's PROXY header said.
    pub(super) visitor: SocketAddr,
    /// The balancer it came through.
    pub(super) via: Option<SocketAddr>,
    /// When the TCP connection was accepted: the handshake deadline counts
    /// from here, the PROXY header's time included.
    pub(super) accepted: Instant,
}

pub(super) async fn connection(
    server: &Arc<Server>,
    tcp: TcpStream,
    from: Peer,
    ticket: Ticket,
    visit: Arc<Visit>,
    stats: &Stats,
) {
    let started = from.accepted;
    let peer = from.visitor;
    if let Some(via) = from.via {
        tracing::info!(addr = %peer, via = %via, "connect");
    } else {
        tracing::info!(addr = %peer, "connect");
    }
    let _ = tcp.set_nodelay(true);
    let handler = Conn {
        server: server.clone(),
        peer,
        ticket,
        visit: visit.clone(),
        stats: stats.clone(),
        channel: None,
        session: None,
        pty: None,
        env: Env::default(),
        budget: Budget::new(server.limits.input_per_second, started),
        flood: Flood::new(started),
        flooding: false,
        full: false,
        refusals: 0,
    };
    let stream = Guarded {
        inner: tcp,
        visit: visit.clone(),
        stats: stats.clone(),
        sniff: Sniff::default(),
        peer,
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
            let mut stop_armed = true;
            loop {
                // Until a reader runs, a connection has a deadline: the
                // handshake's, then (`ssh -N`) a few seconds to start one.
                let info = visit.info();
                let (until, why) = match info.authed {
                    None => (started + deadline, "handshake deadline"),
                    Some(at) => (at + server.limits.session_open_timeout, "no session opened"),
                };
                tokio::select! {
                    r = &mut running => {
                        break match r {
                            Ok(()) => "closed".to_owned(),
                            Err(e) => e.to_string(),
                        };
                    }
                    () = tokio::time::sleep_until(until.into()), if !info.session && !visit.is_killed() => {
                        tracing::info!(addr = %peer, "{why}: disconnecting");
                        visit.kill();
                    }
                    () = visit.changed.notified() => {}
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
    /// Ends the reader with a goodbye saying why.
    kick: Option<oneshot::Sender<&'static str>>,
}

/// russh's handler for one connection: answers every request.
struct Conn {
    server: Arc<Server>,
    peer: SocketAddr,
    ticket: Ticket,
    visit: Arc<Visit>,
    stats: Stats,
    /// The session channel, until the shell starts and takes it.
    channel: Option<Channel<Msg>>,
    /// The running reader.
    session: Option<Link>,
    pty: Option<Pty>,
    env: Env,
    budget: Budget,
    /// Window changes past the budget.
    flood: Flood,
    /// Closed for flooding them.
    flooding: bool,
    /// Logged in while every session slot was taken: no reader.
    full: bool,
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

    fn auth_ok(&mut self, user: &str, key: Option<&PublicKey>) -> Auth {
        let mut info = lock(&self.visit.info);
        user.chars()
            .take(64)
            .collect::<String>()
            .clone_into(&mut info.user);
        info.key = key.map(fingerprint);
        // From the handshake's pool to the sessions'. With no room there,
        // the login still succeeds so the visitor can be told why there is
        // no reader; the handshake deadline then closes the connection.
        match lock(&self.server.gate).login(self.ticket) {
            Ok(()) => info.authed = Some(Instant::now()),
            Err(refusal) => {
                self.stats.0.interval.refuse(refusal.name());
                tracing::info!(addr = %self.peer, limit = refusal.name(), "logged in, but no room for a session");
                self.full = true;
            }
        }
        tracing::info!(
            addr = %self.peer,
            user = %sanitize(&info.user),
            key = info.key.as_deref().unwrap_or("-"),
            "auth"
        );
        drop(info);
        self.visit.changed.notify_one();
        Auth::Accept
    }

    fn key_allowed(&self, key: &PublicKey) -> bool {
        let allowed = match &self.server.access {
            Access::Public => Allowed::Yes,
            Access::Keys(keys) => keys.allows(key, self.peer.ip()),
        };
        match allowed {
            Allowed::Yes => return true,
            Allowed::NotListed => {
                tracing::info!(addr = %self.peer, key = %fingerprint(key), "auth refused: key not authorized");
            }
            Allowed::NotFrom => {
                tracing::info!(addr = %self.peer, key = %fingerprint(key), "auth refused: key not authorized from this address (from=)");
            }
        }
        false
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
        if self.full {
            return self.turn_away(
                channel,
                crate::limits::Refusal::Full.message(),
                true,
                session,
            );
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
        let (kick_tx, kick_rx) = oneshot::channel();
        self.session = Some(Link {
            id: channel,
            input: input_tx,
            size: size_tx,
            kick: Some(kick_tx),
        });
        lock(&self.visit.info).session = true;
        self.visit.changed.notify_one();
        let ctx = SessionCtx {
            site: self.server.site.clone(),
            env: self.env.clone(),
            size: size_rx,
            input: input_rx,
            kick: kick_rx,
            shutdown: self.server.shutdown.clone(),
            limits: self.server.limits.clone(),
            screens: self.server.screens.clone(),
            stats: self.stats.clone(),
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
        stats.0.sessions.fetch_add(1, Ordering::SeqCst);
        stats.0.started.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(async move {
            supervise(ctx, write).await;
            stats.0.sessions.fetch_sub(1, Ordering::SeqCst);
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
        // Each costs a repaint and perhaps a layout: they are paid for from
        // the input budget, and a connection that keeps sending them past
        // it is closed. The reader applies only the latest, now and then.
        if self.flooding {
            // Being closed: the goodbye is on its way.
            return Ok(());
        }
        let now = Instant::now();
        if !self.budget.pay(RESIZE_COST, now) && self.flood.strike(now) {
            tracing::info!(addr = %self.peer, "window change flood: disconnecting");
            self.flooding = true;
            let kick = self.session.as_mut().and_then(|l| l.kick.take());
            match kick {
                Some(kick) => {
                    let _ = kick.send("too many window changes");
                }
                None => self.visit.kill(),
            }
            return Ok(());
        }
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
}
