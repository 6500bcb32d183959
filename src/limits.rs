//! What `folio serve` allows each visitor: how many connections, how often,
//! how long, how large and how much input. Pure bookkeeping with the clock
//! (and, for the random early drop, the dice) passed in, so the rules are
//! tested without waiting.
//!
//! Connections are counted in two pools, so that one kind cannot starve the
//! other: those still in the SSH handshake ("startups", capped by
//! [`Limits::max_startups`], with a random early drop past
//! [`Limits::startups_drop_from`] as sshd's `MaxStartups` does) and those
//! logged in ([`Limits::max_sessions`]). Beside the per-address caps, an IPv4
//! /24 or IPv6 /48 has its own: one machine rarely has many addresses, one
//! network often does.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv6Addr};
use std::time::{Duration, Instant};

/// The limits, as flags and the `serve:` section of the config file set them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Logged-in connections at once, all addresses together.
    pub max_sessions: usize,
    /// Connections still in the handshake (not logged in), all together.
    pub max_startups: usize,
    /// Past this many connections in the handshake, a new one from an
    /// address that already has one there is dropped at random: 30% at
    /// first, rising to 100% at `max_startups`.
    pub startups_drop_from: usize,
    /// Connections open at once from one address (an IPv6 /64 counts as one).
    pub max_per_ip: usize,
    /// Connections open at once from one network (IPv4 /24, IPv6 /48).
    pub max_per_network: usize,
    /// New connections from one address in any 60 seconds.
    pub connects_per_minute: usize,
    /// New connections from one network in any 60 seconds.
    pub network_connects_per_minute: usize,
    /// From TCP connect to a logged-in session: key exchange and auth.
    pub handshake_timeout: Duration,
    /// From logging in to starting a reader (`ssh -N` holds no slot).
    pub session_open_timeout: Duration,
    /// A session with no key pressed for this long is closed.
    pub idle_timeout: Duration,
    /// A session is closed after this long, keys or not.
    pub max_session_time: Duration,
    /// Input bytes read from one packet; the rest is dropped.
    pub input_per_packet: usize,
    /// Input bytes accepted per second (a burst of one second's worth); a
    /// window change costs [`RESIZE_COST`] of them.
    pub input_per_second: usize,
    /// Screen cells (columns × rows) of all sessions together: what their
    /// screens cost in memory (about 160 bytes a cell). Past it, terminals
    /// are drawn smaller (see [`Screens`]).
    pub screen_cells: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_sessions: 200,
            max_startups: 64,
            startups_drop_from: 16,
            max_per_ip: 8,
            max_per_network: 32,
            connects_per_minute: 30,
            network_connects_per_minute: 120,
            handshake_timeout: Duration::from_secs(10),
            session_open_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(30 * 60),
            max_session_time: Duration::from_secs(8 * 60 * 60),
            input_per_packet: 4096,
            input_per_second: 16 * 1024,
            screen_cells: 1_000_000,
        }
    }
}

/// Why a connection was turned away; the text is what the visitor reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Full,
    Busy,
    TooManyFromAddress,
    TooManyFromNetwork,
    TooFast,
    TooFastFromNetwork,
}

impl Refusal {
    pub fn message(self) -> &'static str {
        match self {
            Refusal::Full => "the server is full; try again in a few minutes",
            Refusal::Busy => "the server is busy; try again in a moment",
            Refusal::TooManyFromAddress => "too many sessions from your address",
            Refusal::TooManyFromNetwork => "too many sessions from your network",
            Refusal::TooFast => "too many connections from your address; wait a minute",
            Refusal::TooFastFromNetwork => "too many connections from your network; wait a minute",
        }
    }

    /// A short name for logs: the limit that refused.
    pub fn name(self) -> &'static str {
        match self {
            Refusal::Full => "max_sessions",
            Refusal::Busy => "max_startups",
            Refusal::TooManyFromAddress => "max_per_ip",
            Refusal::TooManyFromNetwork => "max_per_network",
            Refusal::TooFast => "connects_per_minute",
            Refusal::TooFastFromNetwork => "network_connects_per_minute",
        }
    }
}

/// The address a limit counts by: an IPv6 client controls a whole /64, so
/// that is one visitor; an IPv4-mapped address is its IPv4 address.
pub fn visitor(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                IpAddr::V4(v4)
            } else {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        }
    }
}

/// The network a visitor is part of: its IPv4 /24 or IPv6 /48.
pub fn network(ip: IpAddr) -> IpAddr {
    match visitor(ip) {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            IpAddr::V4(std::net::Ipv4Addr::new(a, b, c, 0))
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0))
        }
    }
}

const WINDOW: Duration = Duration::from_secs(60);
/// The chance of a random early drop at [`Limits::startups_drop_from`], in
/// thousandths.
const EARLY_DROP: usize = 300;

/// One admitted connection, until [`Gate::release`]d.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ticket(u64);

/// A connection let in: its ticket, and one in the handshake it pushed out
/// (the server closes that one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admitted {
    pub ticket: Ticket,
    pub evicted: Option<Ticket>,
}

#[derive(Debug)]
struct Held {
    ip: IpAddr,
    net: IpAddr,
    logged_in: bool,
}

#[derive(Debug, Default, Clone, Copy)]
struct PerAddress {
    open: usize,
    /// Of them, still in the handshake.
    starting: usize,
}

/// Admits, logs in and releases connections.
#[derive(Debug)]
pub struct Gate {
    limits: Limits,
    next: u64,
    held: HashMap<Ticket, Held>,
    per_ip: HashMap<IpAddr, PerAddress>,
    per_net: HashMap<IpAddr, usize>,
    startups: usize,
    sessions: usize,
    recent: HashMap<IpAddr, VecDeque<Instant>>,
    recent_net: HashMap<IpAddr, VecDeque<Instant>>,
}

impl Gate {
    pub fn new(limits: Limits) -> Gate {
        Gate {
            limits,
            next: 0,
            held: HashMap::new(),
            per_ip: HashMap::new(),
            per_net: HashMap::new(),
            startups: 0,
            sessions: 0,
            recent: HashMap::new(),
            recent_net: HashMap::new(),
        }
    }

    /// Counts a new connection from `ip` at `now`, or says why not. `roll`
    /// is a random number in `0..1` for the early drop. An admitted
    /// connection is in the handshake until [`Gate::login`], and must be
    /// [`Gate::release`]d when it ends.
    ///
    /// Unlike sshd's `MaxStartups`, the early drop spares an address's
    /// first connection in the handshake, and when the pool is full such a
    /// first connection pushes out the oldest one of the address that holds
    /// the most: silent connections from a few addresses cannot keep a new
    /// visitor out, however many they are.
    pub fn admit(&mut self, ip: IpAddr, now: Instant, roll: f64) -> Result<Admitted, Refusal> {
        let ip = visitor(ip);
        let net = network(ip);
        self.forget_before(now);
        let recent = self.recent.entry(ip).or_default();
        // Tries refused by the other limits count: hammering does not pay.
        if recent.len() >= self.limits.connects_per_minute {
            return Err(Refusal::TooFast);
        }
        recent.push_back(now);
        let recent_net = self.recent_net.entry(net).or_default();
        if recent_net.len() >= self.limits.network_connects_per_minute {
            return Err(Refusal::TooFastFromNetwork);
        }
        recent_net.push_back(now);
        if self.sessions >= self.limits.max_sessions {
            return Err(Refusal::Full);
        }
        let mine = self.per_ip.get(&ip).copied().unwrap_or_default();
        if mine.open >= self.limits.max_per_ip {
            return Err(Refusal::TooManyFromAddress);
        }
        if self.per_net.get(&net).copied().unwrap_or(0) >= self.limits.max_per_network {
            return Err(Refusal::TooManyFromNetwork);
        }
        let mut evicted = None;
        if self.startups >= self.limits.max_startups {
            let victim = self.victim(mine.starting).ok_or(Refusal::Busy)?;
            self.release(victim);
            evicted = Some(victim);
        } else if self.startups >= self.limits.startups_drop_from && mine.starting > 0 {
            let span = self.limits.max_startups - self.limits.startups_drop_from;
            let past = self.startups - self.limits.startups_drop_from;
            // In thousandths: 300 at the threshold, 1000 at the pool's size.
            let chance = EARLY_DROP + (1000 - EARLY_DROP) * past / span.max(1);
            if roll * 1000.0 < f64::from(u32::try_from(chance).unwrap_or(1000)) {
                return Err(Refusal::Busy);
            }
        }
        let ticket = Ticket(self.next);
        self.next += 1;
        self.held.insert(
            ticket,
            Held {
                ip,
                net,
                logged_in: false,
            },
        );
        let counts = self.per_ip.entry(ip).or_default();
        counts.open += 1;
        counts.starting += 1;
        *self.per_net.entry(net).or_default() += 1;
        self.startups += 1;
        Ok(Admitted { ticket, evicted })
    }

    /// The connection in the handshake to push out for a newcomer whose
    /// address has `starting` there already: the oldest of the address that
    /// holds the most, if that is at least two more than the newcomer's.
    fn victim(&self, starting: usize) -> Option<Ticket> {
        let (ip, most) = self
            .per_ip
            .iter()
            .map(|(ip, c)| (*ip, c.starting))
            .max_by_key(|&(_, n)| n)?;
        if most < starting + 2 {
            return None;
        }
        self.held
            .iter()
            .filter(|(_, h)| h.ip == ip && !h.logged_in)
            .map(|(t, _)| *t)
            .min()
    }

    /// The connection logged in: it moves from the handshake's pool to the
    /// sessions', if there is room.
    pub fn login(&mut self, ticket: Ticket) -> Result<(), Refusal> {
        let full = self.sessions >= self.limits.max_sessions;
        let Some(held) = self.held.get_mut(&ticket) else {
            // Pushed out meanwhile: it is being closed.
            return Err(Refusal::Busy);
        };
        if held.logged_in {
            return Ok(());
        }
        if full {
            return Err(Refusal::Full);
        }
        held.logged_in = true;
        if let Some(c) = self.per_ip.get_mut(&held.ip) {
            c.starting -= 1;
        }
        self.startups -= 1;
        self.sessions += 1;
        Ok(())
    }

    /// The connection ended (releasing one that was pushed out, or twice,
    /// changes nothing).
    pub fn release(&mut self, ticket: Ticket) {
        let Some(held) = self.held.remove(&ticket) else {
            return;
        };
        if let Some(c) = self.per_ip.get_mut(&held.ip) {
            c.open -= 1;
            if !held.logged_in {
                c.starting -= 1;
            }
            if c.open == 0 {
                self.per_ip.remove(&held.ip);
            }
        }
        if let Some(n) = self.per_net.get_mut(&held.net) {
            *n -= 1;
            if *n == 0 {
                self.per_net.remove(&held.net);
            }
        }
        if held.logged_in {
            self.sessions -= 1;
        } else {
            self.startups -= 1;
        }
    }

    /// Connections open now.
    pub fn active(&self) -> usize {
        self.held.len()
    }

    /// Of them, logged in.
    pub fn sessions(&self) -> usize {
        self.sessions
    }

    /// Of them, in the handshake.
    pub fn startups(&self) -> usize {
        self.startups
    }

    /// Addresses remembered for the rate limit (bounded by the window).
    pub fn remembered(&self) -> usize {
        self.recent.len()
    }

    fn forget_before(&mut self, now: Instant) {
        for map in [&mut self.recent, &mut self.recent_net] {
            map.retain(|_, times| {
                while times
                    .front()
                    .is_some_and(|&t| now.saturating_duration_since(t) >= WINDOW)
                {
                    times.pop_front();
                }
                !times.is_empty()
            });
        }
    }
}

/// A token bucket for input bytes: `per_second` a second, up to one
/// second's worth saved up.
#[derive(Debug, Clone)]
pub struct Budget {
    per_second: u64,
    tokens: u64,
    last: Instant,
}

impl Budget {
    pub fn new(per_second: usize, now: Instant) -> Budget {
        Budget {
            per_second: per_second as u64,
            tokens: per_second as u64,
            last: now,
        }
    }

    /// How many of `wanted` bytes may be used at `now`.
    pub fn take(&mut self, wanted: usize, now: Instant) -> usize {
        let elapsed = now.saturating_duration_since(self.last).as_nanos();
        let refill = elapsed.saturating_mul(u128::from(self.per_second)) / 1_000_000_000;
        // Until a whole byte is earned, the time keeps counting.
        if refill > 0 {
            self.last = now;
            let refill = u64::try_from(refill).unwrap_or(u64::MAX);
            self.tokens = self.tokens.saturating_add(refill).min(self.per_second);
        }
        let granted = (wanted as u64).min(self.tokens);
        self.tokens -= granted;
        usize::try_from(granted).unwrap_or(usize::MAX)
    }

    /// Takes all of `cost` or nothing; whether it was paid.
    pub fn pay(&mut self, cost: usize, now: Instant) -> bool {
        let granted = self.take(cost, now);
        if granted < cost {
            // Not paid: what was taken goes back.
            self.tokens += granted as u64;
            return false;
        }
        true
    }
}

/// What one window change costs of the input budget: with the default
/// 16 KiB a second, 32 at once and 32 a second after that, more than
/// dragging a window's corner sends.
pub const RESIZE_COST: usize = 512;
/// Window changes the budget could not pay for, within [`FLOOD_WINDOW`],
/// after which a connection is closed.
pub const FLOOD_STRIKES: usize = 200;
pub const FLOOD_WINDOW: Duration = Duration::from_secs(10);

/// Counts window changes past the input budget: a connection that keeps
/// sending them is flooding.
#[derive(Debug, Clone)]
pub struct Flood {
    since: Instant,
    strikes: usize,
}

impl Flood {
    pub fn new(now: Instant) -> Flood {
        Flood {
            since: now,
            strikes: 0,
        }
    }

    /// One window change past the budget at `now`; true once they are too
    /// many.
    pub fn strike(&mut self, now: Instant) -> bool {
        if now.saturating_duration_since(self.since) >= FLOOD_WINDOW {
            self.since = now;
            self.strikes = 0;
        }
        self.strikes += 1;
        self.strikes > FLOOD_STRIKES
    }
}

/// The widest terminal drawn: the reader's text is at most 100 columns
/// wide anyway.
pub const MAX_COLUMNS: u16 = 400;
/// The tallest terminal drawn.
pub const MAX_ROWS: u16 = 200;
/// The most cells one session draws (about 6 MB of screen buffers): a
/// full-screen terminal on a 4K monitor with a small font is about this.
pub const MAX_CELLS: usize = 40_000;
/// What a session still gets once [`Limits::screen_cells`] is used up:
/// 160×50, or as much of it as its terminal has.
pub const FLOOR_CELLS: usize = 8_000;

/// The terminal size a client asks for, made safe to allocate and draw:
/// at least 1×1, at most [`MAX_COLUMNS`]×[`MAX_ROWS`] (a 0×0 pty is common
/// from scripts).
pub fn clamp_size(columns: u32, rows: u32) -> (u16, u16) {
    let clamp = |v: u32, max: u16| u16::try_from(v).unwrap_or(max).clamp(1, max);
    (clamp(columns, MAX_COLUMNS), clamp(rows, MAX_ROWS))
}

/// `size` shrunk to at most `cells` cells, both sides by about the same
/// factor.
pub fn fit_cells(size: (u16, u16), cells: usize) -> (u16, u16) {
    let (w, h) = (usize::from(size.0.max(1)), usize::from(size.1.max(1)));
    if w * h <= cells {
        return (w as u16, h as u16);
    }
    let cells = cells.max(1);
    // The same shape, `cells` big: w2 / h2 = w / h and w2 * h2 = cells.
    let w2 = (cells * w / h).isqrt().clamp(1, w);
    let h = (cells / w2).clamp(1, h);
    // A side that cannot shrink (one row) leaves the rest to the other.
    let w = w2.min(cells / h).max(1);
    (w as u16, h as u16)
}

/// The screen cells all sessions hold, against [`Limits::screen_cells`].
#[derive(Debug)]
pub struct Screens {
    budget: usize,
    used: usize,
}

impl Screens {
    pub fn new(budget: usize) -> Screens {
        Screens { budget, used: 0 }
    }

    /// The size a session that holds `held` cells gets when its terminal
    /// is `wanted`: all of it up to [`MAX_CELLS`], less once the budget is
    /// used up, but never less than [`FLOOR_CELLS`] (so the budget is
    /// passed by at most that much a session). `held` becomes what it
    /// holds now.
    pub fn grant(&mut self, held: &mut usize, wanted: (u16, u16)) -> (u16, u16) {
        self.release(held);
        let left = self.budget.saturating_sub(self.used);
        let allowed = left.clamp(FLOOR_CELLS, MAX_CELLS);
        let size = fit_cells(wanted, allowed);
        *held = usize::from(size.0) * usize::from(size.1);
        self.used += *held;
        size
    }

    /// A session ended: its cells are free.
    pub fn release(&mut self, held: &mut usize) {
        self.used -= (*held).min(self.used);
        *held = 0;
    }

    /// Cells held now.
    pub fn used(&self) -> usize {
        self.used
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn limits() -> Limits {
        Limits {
            max_sessions: 3,
            max_per_ip: 2,
            connects_per_minute: 4,
            ..Limits::default()
        }
    }

    const A: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
    const B: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 1, 2));
    const C: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 3));

    /// Admits and logs in at once; the ticket.
    fn session(gate: &mut Gate, ip: IpAddr, t: Instant) -> Result<Ticket, Refusal> {
        let ticket = gate.admit(ip, t, 1.0)?.ticket;
        gate.login(ticket)?;
        Ok(ticket)
    }

    #[test]
    fn per_address_and_global_limits() {
        let mut gate = Gate::new(limits());
        let t = Instant::now();
        let a1 = session(&mut gate, A, t).unwrap();
        let a2 = session(&mut gate, A, t).unwrap();
        assert_eq!(gate.admit(A, t, 1.0), Err(Refusal::TooManyFromAddress));
        let b = session(&mut gate, B, t).unwrap();
        assert_eq!(gate.admit(C, t, 1.0), Err(Refusal::Full));
        assert_eq!(gate.active(), 3);
        gate.release(a1);
        let c = session(&mut gate, C, t).unwrap();
        for ticket in [a2, b, c] {
            gate.release(ticket);
        }
        assert_eq!((gate.active(), gate.sessions(), gate.startups()), (0, 0, 0));
        // Releasing twice changes nothing.
        gate.release(c);
        assert_eq!(gate.active(), 0);
    }

    #[test]
    fn connections_in_the_handshake_do_not_count_as_sessions() {
        let mut gate = Gate::new(Limits {
            max_sessions: 1,
            max_startups: 3,
            startups_drop_from: 3,
            max_per_ip: 10,
            ..Limits::default()
        });
        let t = Instant::now();
        let first = gate.admit(A, t, 1.0).unwrap().ticket;
        let second = gate.admit(A, t, 1.0).unwrap().ticket;
        assert_eq!(gate.startups(), 2);
        assert_eq!(gate.login(first), Ok(()));
        assert_eq!((gate.sessions(), gate.startups()), (1, 1));
        // The one session slot is taken: the other cannot log in, and new
        // connections are told the server is full.
        assert_eq!(gate.login(second), Err(Refusal::Full));
        assert_eq!(gate.admit(B, t, 1.0), Err(Refusal::Full));
        gate.release(first);
        assert_eq!(gate.login(second), Ok(()));
    }

    #[test]
    fn a_new_address_pushes_out_a_silent_one_when_the_handshakes_are_full() {
        let mut gate = Gate::new(Limits {
            max_startups: 4,
            startups_drop_from: 4,
            ..Limits::default()
        });
        let t = Instant::now();
        let held: Vec<Ticket> = (0..4)
            .map(|_| gate.admit(A, t, 1.0).unwrap().ticket)
            .collect();
        assert_eq!(gate.startups(), 4);
        // A newcomer gets in; the oldest of the four is pushed out.
        let fresh = gate.admit(B, t, 1.0).unwrap();
        assert_eq!(fresh.evicted, Some(held[0]));
        assert_eq!(gate.startups(), 4);
        // The same address cannot push out its own kind.
        assert_eq!(gate.admit(A, t, 1.0), Err(Refusal::Busy));
        // Nor can a second newcomer take B's only one: it takes A's.
        let other = gate.admit(C, t, 1.0).unwrap();
        assert_eq!(other.evicted, Some(held[1]));
        // Now A holds 2, B and C one each: a fourth address evicts from A,
        // but once every address holds one, the pool is simply full.
        let d = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(gate.admit(d, t, 1.0).unwrap().evicted, Some(held[2]));
        let e = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1));
        assert_eq!(gate.admit(e, t, 1.0), Err(Refusal::Busy));
        // Releasing an evicted ticket later is harmless.
        gate.release(held[0]);
        assert_eq!(gate.startups(), 4);
    }

    #[test]
    fn early_drop_spares_an_address_first_handshake() {
        let mut gate = Gate::new(Limits {
            max_startups: 10,
            startups_drop_from: 2,
            max_per_ip: 10,
            ..Limits::default()
        });
        let t = Instant::now();
        gate.admit(A, t, 0.0).unwrap();
        gate.admit(A, t, 0.0).unwrap();
        // Past the threshold: A's third is dropped on a low roll, kept on
        // a high one; B's first is never dropped.
        assert_eq!(gate.admit(A, t, 0.29), Err(Refusal::Busy));
        assert!(gate.admit(A, t, 0.31).is_ok());
        assert!(gate.admit(B, t, 0.0).is_ok());
        // The chance rises with the pool: at 9 of 10 even 0.9 drops.
        for i in 0..5 {
            let ip = IpAddr::V4(Ipv4Addr::new(192, 0, 2, i));
            gate.admit(ip, t, 0.0).unwrap();
        }
        assert_eq!(gate.startups(), 9);
        assert_eq!(gate.admit(A, t, 0.9), Err(Refusal::Busy));
        assert!(gate.admit(A, t, 0.95).is_ok());
    }

    #[test]
    fn networks_have_their_own_caps() {
        let mut gate = Gate::new(Limits {
            max_per_ip: 2,
            max_per_network: 3,
            connects_per_minute: 10,
            network_connects_per_minute: 5,
            ..Limits::default()
        });
        let t = Instant::now();
        let n = |last| IpAddr::V4(Ipv4Addr::new(203, 0, 113, last));
        let held: Vec<Ticket> = [1, 1, 2]
            .iter()
            .map(|&i| gate.admit(n(i), t, 1.0).unwrap().ticket)
            .collect();
        assert_eq!(gate.admit(n(3), t, 1.0), Err(Refusal::TooManyFromNetwork));
        assert!(gate.admit(C, t, 1.0).is_ok(), "another network");
        for ticket in held {
            gate.release(ticket);
        }
        // Five tries from the network in a minute; the sixth waits.
        let ticket = gate.admit(n(9), t, 1.0).unwrap().ticket;
        gate.release(ticket);
        assert_eq!(gate.admit(n(10), t, 1.0), Err(Refusal::TooFastFromNetwork));
        let later = t + Duration::from_secs(61);
        assert!(gate.admit(n(10), later, 1.0).is_ok());
        assert_eq!(
            network("2001:db8:1:2::1".parse().unwrap()),
            "2001:db8:1::".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn connection_rate_per_address_over_a_sliding_minute() {
        let mut gate = Gate::new(limits());
        let t0 = Instant::now();
        let admit = |gate: &mut Gate, ip, t| gate.admit(ip, t, 1.0).map(|a| gate.release(a.ticket));
        for i in 0..4 {
            assert_eq!(
                admit(&mut gate, A, t0 + Duration::from_secs(i)),
                Ok(()),
                "{i}"
            );
        }
        let t = t0 + Duration::from_secs(10);
        assert_eq!(admit(&mut gate, A, t), Err(Refusal::TooFast));
        assert_eq!(
            admit(&mut gate, B, t),
            Ok(()),
            "another address still gets in"
        );
        // Refused tries do not extend the window; a minute after the first
        // connection, one slot is free again.
        assert_eq!(admit(&mut gate, A, t0 + Duration::from_secs(60)), Ok(()));
        assert_eq!(
            admit(&mut gate, A, t0 + Duration::from_secs(60)),
            Err(Refusal::TooFast)
        );
        assert_eq!(admit(&mut gate, A, t0 + Duration::from_secs(62)), Ok(()));
        // Old addresses are forgotten.
        let later = t0 + Duration::from_secs(600);
        assert_eq!(admit(&mut gate, C, later), Ok(()));
        assert_eq!(gate.remembered(), 1);
    }

    #[test]
    fn an_ipv6_network_is_one_visitor() {
        let mut gate = Gate::new(limits());
        let t = Instant::now();
        let a = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 0, 0, 0, 1));
        let b = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 9, 9, 9, 9));
        let other = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 3, 0, 0, 0, 1));
        assert!(gate.admit(a, t, 1.0).is_ok());
        assert!(gate.admit(b, t, 1.0).is_ok());
        assert_eq!(gate.admit(a, t, 1.0), Err(Refusal::TooManyFromAddress));
        assert!(gate.admit(other, t, 1.0).is_ok());
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        assert_eq!(visitor(mapped), A);
    }

    #[test]
    fn input_budget_refills_with_time() {
        let t = Instant::now();
        let mut budget = Budget::new(100, t);
        assert_eq!(budget.take(60, t), 60);
        assert_eq!(budget.take(60, t), 40);
        assert_eq!(budget.take(10, t), 0);
        assert_eq!(budget.take(80, t + Duration::from_millis(500)), 50);
        assert_eq!(
            budget.take(500, t + Duration::from_secs(60)),
            100,
            "one second saved up at most"
        );
        // All or nothing.
        let later = t + Duration::from_secs(120);
        assert!(budget.pay(70, later));
        assert!(!budget.pay(70, later));
        assert_eq!(
            budget.take(100, later),
            30,
            "a refused payment takes nothing"
        );
    }

    #[test]
    fn a_flood_of_window_changes_is_noticed_and_forgiven_later() {
        let t = Instant::now();
        let mut flood = Flood::new(t);
        for _ in 0..FLOOD_STRIKES {
            assert!(!flood.strike(t));
        }
        assert!(flood.strike(t));
        let mut calm = Flood::new(t);
        for i in 0..3 * FLOOD_STRIKES as u64 {
            // Spread over a minute: never too many in ten seconds.
            assert!(!calm.strike(t + Duration::from_millis(i * 100)), "{i}");
        }
    }

    #[test]
    fn sizes_are_clamped() {
        assert_eq!(clamp_size(0, 0), (1, 1));
        assert_eq!(clamp_size(65535, 65535), (MAX_COLUMNS, MAX_ROWS));
        assert_eq!(clamp_size(u32::MAX, 24), (MAX_COLUMNS, 24));
        assert_eq!(clamp_size(80, 24), (80, 24));
        assert_eq!(fit_cells((80, 24), MAX_CELLS), (80, 24));
        let (w, h) = fit_cells((MAX_COLUMNS, MAX_ROWS), MAX_CELLS);
        assert!(usize::from(w) * usize::from(h) <= MAX_CELLS, "{w}x{h}");
        assert!(w > 250 && h > 90, "both sides shrink alike: {w}x{h}");
        assert_eq!(fit_cells((1000, 1), 500), (500, 1));
    }

    #[test]
    fn screens_share_a_budget_and_keep_a_floor() {
        let mut screens = Screens::new(100_000);
        let huge = clamp_size(10_000, 10_000);
        let mut first = 0;
        let size = screens.grant(&mut first, huge);
        assert_eq!(first, usize::from(size.0) * usize::from(size.1));
        assert!(first <= MAX_CELLS && first > MAX_CELLS - 400, "{size:?}");
        let mut second = 0;
        screens.grant(&mut second, huge);
        // Less than a full share is left, then only the floor.
        let mut third = 0;
        let size = screens.grant(&mut third, huge);
        assert!(
            third <= 100_000 - first - second && third >= FLOOR_CELLS,
            "{size:?}"
        );
        let mut fourth = 0;
        screens.grant(&mut fourth, huge);
        assert!(fourth <= FLOOR_CELLS, "{fourth}");
        // A small terminal is never shrunk.
        let mut small = 0;
        assert_eq!(screens.grant(&mut small, (100, 30)), (100, 30));
        // A resize gives back what was held first.
        let (before, held_before) = (screens.used(), first);
        screens.grant(&mut first, (80, 24));
        assert_eq!(first, 80 * 24);
        assert_eq!(screens.used(), before - held_before + first);
        for held in [&mut first, &mut second, &mut third, &mut fourth, &mut small] {
            screens.release(held);
        }
        assert_eq!(screens.used(), 0);
    }
}
