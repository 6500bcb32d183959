//! An attack on CPU: window changes flooded at a 2 MB post. Its own test
//! binary, so the CPU this process spends is this test's alone.

#[path = "support/fixtures.rs"]
mod fixtures;
#[path = "support/serve_server.rs"]
mod serve_server;
#[path = "support/ssh_client.rs"]
mod ssh_client;

use std::time::Duration;

use folio::limits::Limits;
use folio::ssh::Access;
use serve_server::{big_post, cpu_seconds};
use serve_server::{connect_from, start_with, wait_until};

/// Three visitors flood window changes (100 a second for 3 s, between
/// 1000×500 and narrower, so each is a new layout of a 2 MB post), then
/// leave: nothing they asked for may go on costing CPU, and the reader
/// beside them still answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_window_change_flood_leaves_no_work_behind() {
    let blog = fixtures::blog();
    std::fs::write(blog.path().join("big.md"), big_post()).unwrap();
    let server = start_with(blog, Limits::default(), Access::Public).await;
    let stream = connect_from(server.addr, "127.0.0.9").await.unwrap();
    let mut reader = ssh_client::visit(ssh_client::config(), stream, 100, 30)
        .await
        .unwrap();
    assert!(reader.settle(Duration::from_millis(300)).await > 500);
    let mut flooders = Vec::new();
    for i in 1..=3 {
        let addr = server.addr;
        flooders.push(tokio::spawn(async move {
            let stream = connect_from(addr, &format!("127.0.{i}.1")).await.unwrap();
            let mut v = ssh_client::visit(ssh_client::config(), stream, 1000, 500)
                .await
                .unwrap();
            v.settle(Duration::from_millis(300)).await;
            // Open the big post, the last.
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
    // Bounded: a server that cannot keep up fails here rather than hang.
    tokio::time::timeout(Duration::from_secs(90), async {
        for f in flooders {
            f.await.unwrap();
        }
    })
    .await
    .expect("300 window changes each, sent within 90 s");
    wait_until("the flooders gone", || server.stats.sessions() == 1).await;
    let before = cpu_seconds();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let spent = cpu_seconds() - before;
    assert!(
        spent < 1.5,
        "{spent:.2} CPU seconds spent in the 3 s after the flooders left"
    );
    let (took, _) = reader.key(b"j", Duration::from_millis(100)).await;
    assert!(took.is_some(), "the reader still answers");
    assert!(reader.quit().await);
    server.shut_down().await;
}
