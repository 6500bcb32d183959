//! An attack on memory: huge terminals. Its own test binary, so the memory
//! this process holds is this test's alone.

#[path = "support/fixtures.rs"]
mod fixtures;
#[path = "support/serve_server.rs"]
mod serve_server;
#[path = "support/ssh_client.rs"]
mod ssh_client;

use std::time::Duration;

use tokio::net::TcpStream;

use folio::limits::Limits;
use serve_server::{rss_mib, start, wait_until};

/// Eight sessions asking for 10000×10000 terminals: their screens are
/// bounded, not 1000×500 each (about 110 MB a session before).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_terminals_cost_bounded_memory() {
    let server = start(Limits::default()).await;
    let before = rss_mib();
    let mut visitors = Vec::new();
    for _ in 0..8 {
        let stream = TcpStream::connect(server.addr).await.unwrap();
        let mut v = ssh_client::visit(ssh_client::config(), stream, 10_000, 10_000)
            .await
            .unwrap();
        v.kept = Some(Vec::new());
        // The first frame of a big screen takes a while in a debug build.
        v.settle(Duration::from_secs(1)).await;
        visitors.push(v);
    }
    let during = rss_mib();
    assert!(
        during - before < 150.0,
        "8 huge terminals took {:.0} MiB",
        during - before
    );
    for mut v in visitors {
        let out = String::from_utf8_lossy(v.kept.as_deref().unwrap()).into_owned();
        assert!(out.contains("This server draws"), "the visitor is told");
        assert!(v.quit().await);
    }
    wait_until("sessions gone", || server.stats.sessions() == 0).await;
    server.shut_down().await;
}
