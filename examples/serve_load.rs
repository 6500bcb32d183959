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

#[path = "../tests/support/ssh_client.rs"]
mod ssh_client;

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

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
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
