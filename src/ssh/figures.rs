//! What the server tells its operator: a summary line in the log each
//! interval in which anything happened, and (with `--status FILE`) the same
//! figures as JSON, replaced atomically, for monitoring to read.
//!
//! Counts only: no post content, no key material, no addresses.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::{Stats, lock};

/// Key-to-frame samples kept per interval; past it, new ones replace old
/// ones at random (a fair sample, bounded memory).
const SAMPLES: usize = 8192;

/// What happened since the last summary; taken (and reset) each interval.
#[derive(Debug, Default)]
pub(super) struct Interval {
    connects: AtomicU64,
    health_checks: AtomicU64,
    bytes_sent: AtomicU64,
    refused: Mutex<BTreeMap<&'static str, u64>>,
    /// Microseconds from a visitor's input reaching the server to the
    /// frame it caused being queued for them.
    key_to_frame: Mutex<Vec<u32>>,
    frames: AtomicU64,
}

impl Interval {
    pub(super) fn connect(&self) {
        self.connects.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn health_check(&self) {
        self.health_checks.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn sent(&self, n: usize) {
        self.bytes_sent.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub(super) fn refuse(&self, why: &'static str) {
        *lock(&self.refused).entry(why).or_default() += 1;
    }

    pub(super) fn key_to_frame(&self, took: Duration) {
        let micros = u32::try_from(took.as_micros()).unwrap_or(u32::MAX);
        self.frames.fetch_add(1, Ordering::Relaxed);
        let mut samples = lock(&self.key_to_frame);
        if samples.len() < SAMPLES {
            samples.push(micros);
        } else {
            let at = rand::random_range(0..SAMPLES);
            samples[at] = micros;
        }
    }

    pub(super) fn refused(&self, why: &str) -> u64 {
        lock(&self.refused).get(why).copied().unwrap_or(0)
    }

    pub(super) fn refused_total(&self) -> u64 {
        lock(&self.refused).values().sum()
    }

    pub(super) fn connects(&self) -> u64 {
        self.connects.load(Ordering::Relaxed)
    }

    pub(super) fn health_checks(&self) -> u64 {
        self.health_checks.load(Ordering::Relaxed)
    }

    pub(super) fn take(&self) -> Activity {
        let mut samples = std::mem::take(&mut *lock(&self.key_to_frame));
        samples.sort_unstable();
        Activity {
            connects: self.connects.swap(0, Ordering::Relaxed),
            health_checks: self.health_checks.swap(0, Ordering::Relaxed),
            bytes_sent: self.bytes_sent.swap(0, Ordering::Relaxed),
            refused: std::mem::take(&mut *lock(&self.refused)),
            answered_keys: self.frames.swap(0, Ordering::Relaxed),
            key_to_frame_p50_ms: percentile(&samples, 50),
            key_to_frame_p95_ms: percentile(&samples, 95),
        }
    }
}

/// The `p`th percentile of sorted microseconds, in milliseconds.
fn percentile(sorted: &[u32], p: usize) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let at = (sorted.len() * p).div_ceil(100).saturating_sub(1);
    let ms = f64::from(sorted[at.min(sorted.len() - 1)]) / 1000.0;
    Some((ms * 100.0).round() / 100.0)
}

/// The figures of one interval (or, added up, since the start).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Activity {
    pub connects: u64,
    pub health_checks: u64,
    pub bytes_sent: u64,
    /// Connections refused, by the limit or rule that refused them.
    pub refused: BTreeMap<&'static str, u64>,
    /// Key presses (input bursts) that a frame answered.
    pub answered_keys: u64,
    pub key_to_frame_p50_ms: Option<f64>,
    pub key_to_frame_p95_ms: Option<f64>,
}

impl Activity {
    fn quiet(&self) -> bool {
        self.connects == 0
            && self.health_checks == 0
            && self.bytes_sent == 0
            && self.refused.is_empty()
            && self.answered_keys == 0
    }

    fn add(&mut self, other: &Activity) {
        self.connects += other.connects;
        self.health_checks += other.health_checks;
        self.bytes_sent += other.bytes_sent;
        for (why, n) in &other.refused {
            *self.refused.entry(why).or_default() += n;
        }
        self.answered_keys += other.answered_keys;
    }
}

/// What `--status FILE` holds.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub version: &'static str,
    pub pid: u32,
    /// Seconds since the Unix epoch.
    pub started: u64,
    pub updated: u64,
    pub interval_s: u64,
    /// Reader sessions now.
    pub sessions: usize,
    /// TCP connections now (sessions and those not reading yet).
    pub connections: usize,
    pub posts: usize,
    /// The last interval.
    pub last: Activity,
    /// Since the start (no percentiles: see `last`).
    pub total: Activity,
}

fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The summary line's text, or `None` for an interval in which nothing
/// happened and nobody is reading.
pub fn summary(sessions: usize, a: &Activity) -> Option<String> {
    if a.quiet() && sessions == 0 {
        return None;
    }
    let refused = if a.refused.is_empty() {
        "0".to_owned()
    } else {
        a.refused
            .iter()
            .map(|(why, n)| format!("{why}:{n}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    let ms = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v}"));
    Some(format!(
        "summary: sessions={sessions} connects={} health_checks={} refused={refused} bytes_sent={} keys={} key_to_frame_p95_ms={}",
        a.connects,
        a.health_checks,
        a.bytes_sent,
        a.answered_keys,
        ms(a.key_to_frame_p95_ms),
    ))
}

/// Writes `bytes` to `path` so a reader sees the old file or the new one,
/// never half of one: a temporary file beside it, synced, then renamed.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// The operator's view: every `every`, a summary line when anything
/// happened and the status file (if any) rewritten; once more at the end.
pub struct Observer {
    pub every: Duration,
    pub status: Option<PathBuf>,
    started: SystemTime,
    total: Activity,
}

impl Observer {
    pub fn new(every: Duration, status: Option<PathBuf>) -> Observer {
        Observer {
            every,
            status,
            started: SystemTime::now(),
            total: Activity::default(),
        }
    }

    /// Takes the interval's figures, logs the summary, writes the status.
    pub(super) fn tick(&mut self, stats: &Stats, posts: usize) {
        let last = stats.0.interval.take();
        self.total.add(&last);
        let sessions = stats.sessions();
        if let Some(line) = summary(sessions, &last) {
            tracing::info!("{line}");
        }
        let Some(path) = &self.status else { return };
        let report = Status {
            version: env!("CARGO_PKG_VERSION"),
            pid: std::process::id(),
            started: unix_secs(self.started),
            updated: unix_secs(SystemTime::now()),
            interval_s: self.every.as_secs(),
            sessions,
            connections: stats.connections(),
            posts,
            last,
            total: self.total.clone(),
        };
        let mut json = serde_json::to_vec_pretty(&report).unwrap_or_default();
        json.push(b'\n');
        if let Err(e) = write_atomically(path, &json) {
            tracing::warn!(path = %path.display(), error = %e, "cannot write the status file");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_sample() {
        let v: Vec<u32> = (1..=100).map(|ms| ms * 1000).collect();
        assert_eq!(percentile(&v, 95), Some(95.0));
        assert_eq!(percentile(&v, 50), Some(50.0));
        assert_eq!(percentile(&[1500], 95), Some(1.5));
        assert_eq!(percentile(&[], 95), None);
    }

    #[test]
    fn a_quiet_interval_says_nothing_and_a_busy_one_says_it_all() {
        let i = Interval::default();
        assert_eq!(summary(0, &i.take()), None);
        i.connect();
        i.refuse("max_per_ip");
        i.refuse("max_per_ip");
        i.refuse("proxy_untrusted");
        i.sent(1234);
        i.key_to_frame(Duration::from_micros(2500));
        let a = i.take();
        assert_eq!(
            summary(3, &a).unwrap(),
            "summary: sessions=3 connects=1 health_checks=0 refused=max_per_ip:2,proxy_untrusted:1 bytes_sent=1234 keys=1 key_to_frame_p95_ms=2.5"
        );
        // Taken means reset.
        assert_eq!(i.take(), Activity::default());
        // Readers who pressed nothing are still worth a line.
        assert!(summary(1, &Activity::default()).is_some());
    }

    #[test]
    fn samples_stay_bounded() {
        let i = Interval::default();
        for n in 0..(SAMPLES as u64 + 500) {
            i.key_to_frame(Duration::from_micros(n));
        }
        assert_eq!(lock(&i.key_to_frame).len(), SAMPLES);
        assert_eq!(i.take().answered_keys, SAMPLES as u64 + 500);
    }

    #[test]
    fn the_status_file_is_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("status.json");
        write_atomically(&path, b"{\"a\":1}\n").unwrap();
        write_atomically(&path, b"{\"a\":2}\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"a\":2}\n");
        // No temporary file is left beside it.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
