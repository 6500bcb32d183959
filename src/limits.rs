//! What `folio serve` allows each visitor: how many sessions, how often, how
//! long, how large and how much input. Pure bookkeeping with the clock passed
//! in, so the rules are tested without waiting.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// The limits, as flags and the `serve:` section of the config file set them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Connections open at once, all addresses together.
    pub max_sessions: usize,
    /// Connections open at once from one address (an IPv6 /64 counts as one).
    pub max_per_ip: usize,
    /// New connections from one address in any 60 seconds.
    pub connects_per_minute: usize,
    /// From TCP connect to a logged-in session: key exchange and auth.
    pub handshake_timeout: Duration,
    /// A session with no key pressed for this long is closed.
    pub idle_timeout: Duration,
    /// A session is closed after this long, keys or not.
    pub max_session_time: Duration,
    /// Input bytes read from one packet; the rest is dropped.
    pub input_per_packet: usize,
    /// Input bytes accepted per second (a burst of one second's worth).
    pub input_per_second: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_sessions: 200,
            max_per_ip: 8,
            connects_per_minute: 30,
            handshake_timeout: Duration::from_secs(20),
            idle_timeout: Duration::from_secs(30 * 60),
            max_session_time: Duration::from_secs(8 * 60 * 60),
            input_per_packet: 4096,
            input_per_second: 16 * 1024,
        }
    }
}

/// Why a connection was turned away; the text is what the visitor reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Full,
    TooManyFromAddress,
    TooFast,
}

impl Refusal {
    pub fn message(self) -> &'static str {
        match self {
            Refusal::Full => "the server is full; try again in a few minutes",
            Refusal::TooManyFromAddress => "too many sessions from your address",
            Refusal::TooFast => "too many connections from your address; wait a minute",
        }
    }

    /// A short name for logs.
    pub fn name(self) -> &'static str {
        match self {
            Refusal::Full => "max_sessions",
            Refusal::TooManyFromAddress => "max_per_ip",
            Refusal::TooFast => "connects_per_minute",
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
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        }
    }
}

const WINDOW: Duration = Duration::from_secs(60);

/// Admits and releases connections.
#[derive(Debug)]
pub struct Gate {
    limits: Limits,
    active: usize,
    per_ip: HashMap<IpAddr, usize>,
    recent: HashMap<IpAddr, VecDeque<Instant>>,
}

impl Gate {
    pub fn new(limits: Limits) -> Gate {
        Gate {
            limits,
            active: 0,
            per_ip: HashMap::new(),
            recent: HashMap::new(),
        }
    }

    /// Counts a new connection from `ip` at `now`, or says why not. An
    /// admitted connection must be [`Gate::release`]d when it ends.
    pub fn admit(&mut self, ip: IpAddr, now: Instant) -> Result<(), Refusal> {
        let ip = visitor(ip);
        self.forget_before(now);
        let recent = self.recent.entry(ip).or_default();
        // Tries refused by the other limits count: hammering does not pay.
        if recent.len() >= self.limits.connects_per_minute {
            return Err(Refusal::TooFast);
        }
        recent.push_back(now);
        if self.active >= self.limits.max_sessions {
            return Err(Refusal::Full);
        }
        let mine = self.per_ip.entry(ip).or_default();
        if *mine >= self.limits.max_per_ip {
            return Err(Refusal::TooManyFromAddress);
        }
        *mine += 1;
        self.active += 1;
        Ok(())
    }

    pub fn release(&mut self, ip: IpAddr) {
        let ip = visitor(ip);
        if let Some(n) = self.per_ip.get_mut(&ip) {
            *n -= 1;
            if *n == 0 {
                self.per_ip.remove(&ip);
            }
            self.active -= 1;
        }
    }

    /// Connections open now.
    pub fn active(&self) -> usize {
        self.active
    }

    /// Addresses remembered for the rate limit (bounded by the window).
    pub fn remembered(&self) -> usize {
        self.recent.len()
    }

    fn forget_before(&mut self, now: Instant) {
        self.recent.retain(|_, times| {
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
}

/// The terminal size a client asks for, made safe to allocate and draw:
/// at least 1×1, at most 1000×500 (a 0×0 pty is common from scripts).
pub fn clamp_size(columns: u32, rows: u32) -> (u16, u16) {
    let clamp = |v: u32, max: u16| u16::try_from(v).unwrap_or(max).clamp(1, max);
    (clamp(columns, 1000), clamp(rows, 500))
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
    const B: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
    const C: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 3));

    #[test]
    fn per_address_and_global_limits() {
        let mut gate = Gate::new(limits());
        let t = Instant::now();
        assert_eq!(gate.admit(A, t), Ok(()));
        assert_eq!(gate.admit(A, t), Ok(()));
        assert_eq!(gate.admit(A, t), Err(Refusal::TooManyFromAddress));
        assert_eq!(gate.admit(B, t), Ok(()));
        assert_eq!(gate.admit(C, t), Err(Refusal::Full));
        assert_eq!(gate.active(), 3);
        gate.release(A);
        assert_eq!(gate.admit(C, t), Ok(()));
        for ip in [A, B, C] {
            gate.release(ip);
        }
        assert_eq!(gate.active(), 0);
        // Releasing what was never admitted changes nothing.
        gate.release(C);
        assert_eq!(gate.active(), 0);
    }

    #[test]
    fn connection_rate_per_address_over_a_sliding_minute() {
        let mut gate = Gate::new(limits());
        let t0 = Instant::now();
        for i in 0..4 {
            assert_eq!(gate.admit(A, t0 + Duration::from_secs(i)), Ok(()), "{i}");
            gate.release(A);
        }
        let t = t0 + Duration::from_secs(10);
        assert_eq!(gate.admit(A, t), Err(Refusal::TooFast));
        assert_eq!(gate.admit(B, t), Ok(()), "another address still gets in");
        // Refused tries do not extend the window; a minute after the first
        // connection, one slot is free again.
        assert_eq!(gate.admit(A, t0 + Duration::from_secs(60)), Ok(()));
        gate.release(A);
        assert_eq!(
            gate.admit(A, t0 + Duration::from_secs(60)),
            Err(Refusal::TooFast)
        );
        assert_eq!(gate.admit(A, t0 + Duration::from_secs(62)), Ok(()));
        gate.release(A);
        gate.release(B);
        // Old addresses are forgotten.
        let later = t0 + Duration::from_secs(600);
        assert_eq!(gate.admit(C, later), Ok(()));
        assert_eq!(gate.remembered(), 1);
    }

    #[test]
    fn an_ipv6_network_is_one_visitor() {
        let mut gate = Gate::new(limits());
        let t = Instant::now();
        let a = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 0, 0, 0, 1));
        let b = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 9, 9, 9, 9));
        let other = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 3, 0, 0, 0, 1));
        assert_eq!(gate.admit(a, t), Ok(()));
        assert_eq!(gate.admit(b, t), Ok(()));
        assert_eq!(gate.admit(a, t), Err(Refusal::TooManyFromAddress));
        assert_eq!(gate.admit(other, t), Ok(()));
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
    }

    #[test]
    fn sizes_are_clamped() {
        assert_eq!(clamp_size(0, 0), (1, 1));
        assert_eq!(clamp_size(65535, 65535), (1000, 500));
        assert_eq!(clamp_size(u32::MAX, 24), (1000, 24));
        assert_eq!(clamp_size(80, 24), (80, 24));
    }
}
