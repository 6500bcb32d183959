//! Measures a running `folio serve` on loopback: memory per idle session,
//! the time from a keystroke to its frame with many sessions, and the bytes
//! one line of scrolling costs.
//!
//! ```sh
//! cargo build --release
//! target/release/folio serve posts --listen 127.0.0.1:2222 --max-per-ip 200 \
//!     --connects-per-minute 1000 &
//! cargo run --release --example serve_load -- 127.0.0.1:2222 100 $!
//! ```
//!
//! Arguments: the server's address, the number of sessions (100), and the
//! server's pid (optional: for its resident memory, from /proc).
//!
//! The attacks of issue 14, against a server started as above on a folder
//! holding the 2 MB post that `big DIR` writes:
//!
//! ```sh
//! serve_load big /tmp/site                   # writes /tmp/site/big.md
//! serve_load flood 127.0.0.1:2299 PID        # window changes from 3 visitors
//! serve_load huge 127.0.0.1:2299 PID         # 8 terminals of 10000x10000
//! serve_load silent 127.0.0.1:2299           # 40 addresses x 7 silent connections
//! ```

#[path = "../tests/support/ssh_client.rs"]
mod ssh_client;

use std::fmt::Write as _;
use std::time::Duration;

use tokio::net::TcpStream;

/// The server's resident memory in KiB, from /proc.
fn rss_kib(pid: Option<u32>) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// The `percent`th percentile (nearest rank) of sorted durations.
fn percentile(sorted: &[Duration], percent: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) * percent).div_ceil(100);
    sorted[i.min(sorted.len() - 1)]
}

/// The server's CPU seconds so far (user and system), from /proc.
fn cpu_seconds(pid: Option<u32>) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid?)).ok()?;
    let fields: Vec<&str> = stat[stat.rfind(')')? + 2..].split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // Ticks of a process's lifetime stay far below 2^52.
    #[allow(clippy::cast_precision_loss)]
    Some(ticks as f64 / 100.0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A connection from `local`, an address of the loopback network.
async fn connect_from(addr: &str, local: &str) -> std::io::Result<TcpStream> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(format!("{local}:0").parse().unwrap())?;
    socket.connect(addr.parse().unwrap()).await
}

/// A 2 MB post, code-heavy, last in the list (the same as the flood
/// test's).
fn big_post() -> String {
    let mut s = String::from("---\ntitle: Zulu, the big one\n---\n\n");
    let mut i = 0;
    while s.len() < 2 << 20 {
        i += 1;
        let _ = write!(
            s,
            "## Part {i}\n\nSome prose about part {i}, long enough to wrap at the widths a reader uses, and then some more words.\n\n```rust\nfn part_{i}(x: u64) -> u64 {{\n    let mut total = 0;\n    for n in 0..x {{\n        total += n * {i} % 7;\n    }}\n    total\n}}\n```\n\n"
        );
    }
    s
}

/// Key-to-frame times of `keys` presses of `j`/`k` by `v`.
async fn type_keys(v: &mut ssh_client::Visitor, keys: usize) -> Vec<Duration> {
    let mut took = Vec::new();
    for i in 0..keys {
        let key: &[u8] = if i % 2 == 0 { b"j" } else { b"k" };
        if let (Some(t), _) = v.key(key, Duration::from_millis(30)).await {
            took.push(t);
        }
    }
    took.sort_unstable();
    took
}

/// Three visitors send 100 window changes a second for 3 s at 1000x500
/// (alternating with narrower sizes, so each is a new layout of the big
/// post) while another types: its key-to-frame, quiet and during; then the
/// server's CPU in the 5 s after the flooders left.
async fn flood(addr: &str, pid: Option<u32>) {
    let stream = connect_from(addr, "127.0.0.9").await.expect("connect");
    let mut reader = ssh_client::visit(ssh_client::config(), stream, 100, 30)
        .await
        .expect("log in");
    reader.settle(Duration::from_millis(300)).await;
    let quiet = type_keys(&mut reader, 60).await;
    let mut flooders = Vec::new();
    for i in 1..=3 {
        let addr = addr.to_owned();
        flooders.push(tokio::spawn(async move {
            let stream = connect_from(&addr, &format!("127.0.{i}.1"))
                .await
                .expect("connect");
            let mut v = ssh_client::visit(ssh_client::config(), stream, 1000, 500)
                .await
                .expect("log in");
            v.settle(Duration::from_millis(300)).await;
            v.key(b"G\r", Duration::from_millis(300)).await;
            let widths = [1000, 120, 110, 100, 90];
            let mut tick = tokio::time::interval(Duration::from_millis(10));
            for n in 0..300u32 {
                tick.tick().await;
                let w = widths[n as usize % widths.len()];
                if v.channel.window_change(w, 500 - n % 7, 0, 0).await.is_err() {
                    break;
                }
                // Take what comes, without waiting for it (a bounded
                // amount: a server repainting without end must not keep
                // this loop here).
                for _ in 0..64 {
                    if v.next(Duration::from_millis(1)).await.is_none() {
                        break;
                    }
                }
            }
        }));
    }
    // Until the flooders are done: the reader types.
    let mut during = Vec::new();
    while flooders.iter().any(|f| !f.is_finished()) {
        during.extend(type_keys(&mut reader, 4).await);
    }
    during.sort_unstable();
    for f in flooders {
        f.await.expect("flooder");
    }
    let before = cpu_seconds(pid);
    let mut slices = Vec::new();
    for _ in 0..5 {
        let from = cpu_seconds(pid);
        tokio::time::sleep(Duration::from_secs(1)).await;
        if let (Some(a), Some(b)) = (cpu_seconds(pid), from) {
            slices.push(format!("{:.2}", a - b));
        }
    }
    let after = cpu_seconds(pid);
    println!("server CPU, second by second: {}", slices.join(" "));
    println!(
        "key-to-frame beside the flood: quiet p50 {:.1} ms p95 {:.1} ms ({} keys); during p50 {:.1} ms p95 {:.1} ms max {:.1} ms ({} keys)",
        ms(percentile(&quiet, 50)),
        ms(percentile(&quiet, 95)),
        quiet.len(),
        ms(percentile(&during, 50)),
        ms(percentile(&during, 95)),
        ms(percentile(&during, 100)),
        during.len()
    );
    if let (Some(b), Some(a)) = (before, after) {
        println!(
            "server CPU in the 5 s after the flooders left: {:.2} s",
            a - b
        );
    }
    reader.quit().await;
}

/// Eight sessions asking for 10000x10000: the server's memory before,
/// with them, and 5 s after they left.
async fn huge(addr: &str, pid: Option<u32>) {
    let before = rss_kib(pid);
    let mut visitors = Vec::new();
    for _ in 0..8 {
        let stream = TcpStream::connect(addr).await.expect("connect");
        let mut v = ssh_client::visit(ssh_client::config(), stream, 10_000, 10_000)
            .await
            .expect("log in");
        v.settle(Duration::from_secs(1)).await;
        visitors.push(v);
    }
    let during = rss_kib(pid);
    for mut v in visitors {
        v.quit().await;
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let after = rss_kib(pid);
    if let (Some(b), Some(d), Some(a)) = (before, during, after) {
        println!(
            "server memory: {} MiB before, +{} MiB with 8 sessions of 10000x10000, +{} MiB 5 s after they left",
            b / 1024,
            d.saturating_sub(b) / 1024,
            a.saturating_sub(b) / 1024
        );
    }
}

/// 40 addresses hold 7 silent connections each; how long a visitor from a
/// new address takes to see a screen.
async fn silent(addr: &str) {
    let mut held = Vec::new();
    for a in 1..=40 {
        for _ in 0..7 {
            if let Ok(s) = connect_from(addr, &format!("127.0.{a}.1")).await {
                held.push(s);
            }
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let start = std::time::Instant::now();
    let stream = connect_from(addr, "127.0.200.1").await.expect("connect");
    match ssh_client::visit(ssh_client::config(), stream, 80, 24).await {
        Ok(mut v) => {
            v.next(Duration::from_secs(20)).await;
            println!(
                "a new address beside 280 silent connections: first screen after {:.0} ms",
                ms(start.elapsed())
            );
            v.quit().await;
        }
        Err(e) => println!("a new address beside 280 silent connections: refused ({e})"),
    }
    drop(held);
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let pid_at = |i: usize| args.get(i).and_then(|p| p.parse().ok());
    match args.get(1).map(String::as_str) {
        Some("big") => {
            let dir = std::path::PathBuf::from(args.get(2).expect("a folder"));
            std::fs::create_dir_all(&dir).expect("the folder");
            std::fs::write(dir.join("big.md"), big_post()).expect("big.md");
            return;
        }
        Some("flood") => return flood(&args[2], pid_at(3)).await,
        Some("huge") => return huge(&args[2], pid_at(3)).await,
        Some("silent") => return silent(&args[2]).await,
        _ => {}
    }
    typing(&args).await;
}

/// Memory per idle session, bytes per scroll, and key-to-frame with many
/// sessions typing at once.
async fn typing(args: &[String]) {
    let addr = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "127.0.0.1:2222".into());
    let sessions: usize = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(100);
    let pid: Option<u32> = args.get(3).and_then(|p| p.parse().ok());
    let config = ssh_client::config();
    let quiet = Duration::from_millis(300);

    // Bytes per one-line scroll: one visitor at 100×30 reading a post.
    let stream = TcpStream::connect(&addr).await.expect("connect");
    let mut v = ssh_client::visit(config.clone(), stream, 100, 30)
        .await
        .expect("log in");
    v.settle(quiet).await;
    v.key(b"\r", quiet).await;
    let mut scroll = Vec::new();
    for _ in 0..20 {
        let (_, bytes) = v.key(b"j", Duration::from_millis(100)).await;
        scroll.push(bytes);
    }
    v.quit().await;
    drop(v);
    scroll.sort_unstable();
    println!(
        "one-line scroll in the reader at 100x30: median {} bytes (min {}, max {})",
        scroll[scroll.len() / 2],
        scroll[0],
        scroll[scroll.len() - 1]
    );

    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_kib(pid);
    let mut visitors = Vec::new();
    for _ in 0..sessions {
        let stream = TcpStream::connect(&addr).await.expect("connect");
        let v = ssh_client::visit(config.clone(), stream, 100, 30)
            .await
            .expect("log in");
        visitors.push(v);
    }
    let mut settled = Vec::new();
    for mut v in visitors {
        settled.push(tokio::spawn(async move {
            v.settle(quiet).await;
            v
        }));
    }
    let mut visitors = Vec::new();
    for t in settled {
        visitors.push(t.await.expect("visitor"));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle = rss_kib(pid);
    if let (Some(b), Some(a)) = (before, idle) {
        println!(
            "server memory: {b} KiB before, {a} KiB with {sessions} idle sessions: {} KiB per session",
            a.saturating_sub(b) / sessions as u64
        );
    }

    // Every session types at once: keystroke to the first byte of its frame.
    let mut typing = Vec::new();
    for mut v in visitors {
        typing.push(tokio::spawn(async move {
            let mut took = Vec::new();
            for key in [b"j", b"j", b"k", b"j", b"k", b"k", b"j", b"k", b"j", b"k"] {
                if let (Some(t), _) = v.key(key, Duration::from_millis(30)).await {
                    took.push(t);
                }
            }
            (v, took)
        }));
    }
    let mut latencies = Vec::new();
    let mut visitors = Vec::new();
    for t in typing {
        let (v, took) = t.await.expect("visitor");
        latencies.extend(took);
        visitors.push(v);
    }
    latencies.sort_unstable();
    println!(
        "keystroke to frame with {sessions} sessions typing: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms ({} keys)",
        percentile(&latencies, 50).as_secs_f64() * 1000.0,
        percentile(&latencies, 95).as_secs_f64() * 1000.0,
        percentile(&latencies, 100).as_secs_f64() * 1000.0,
        latencies.len()
    );
    let mut closed = 0;
    for mut v in visitors {
        closed += usize::from(v.quit().await);
    }
    println!("{closed} of {sessions} sessions said goodbye");
    tokio::time::sleep(Duration::from_secs(2)).await;
    if let Some(after) = rss_kib(pid) {
        println!("server memory after they left: {after} KiB");
    }
}
