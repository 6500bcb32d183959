//! Load and abuse, on loopback, in bounded time: 100 visitors at once, a
//! connection flood from one address, half-open connections. The server runs
//! in this process ([`folio::ssh::serve`]) so its counters can be read; the
//! visitors are russh clients. Timing figures are measured by
//! `examples/serve_load.rs`, not asserted here; the attacks whose harm is
//! CPU or memory of the whole process have test files of their own
//! (`serve_flood.rs`, `serve_memory.rs`), so no other test runs beside
//! them.

#[path = "support/fixtures.rs"]
mod fixtures;
#[path = "support/serve_server.rs"]
mod serve_server;
#[path = "support/ssh_client.rs"]
mod ssh_client;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use folio::limits::Limits;
use folio::ssh::{self, Access};
use russh::keys::{Algorithm, PrivateKey, PrivateKeyWithHashAlg};
use serve_server::{connect_from, start, start_with, wait_until};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpSocket, TcpStream};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_visitors_at_once_are_all_served() {
    const VISITORS: usize = 100;
    let server = start(Limits {
        max_per_ip: VISITORS,
        max_per_network: VISITORS,
        max_startups: VISITORS,
        startups_drop_from: VISITORS,
        connects_per_minute: 2 * VISITORS,
        network_connects_per_minute: 2 * VISITORS,
        // A hundred handshakes at once on a busy machine may take longer
        // than the deadlines meant for one.
        handshake_timeout: Duration::from_secs(60),
        session_open_timeout: Duration::from_secs(60),
        ..Limits::default()
    })
    .await;
    let config = ssh_client::config();
    let mut tasks = Vec::new();
    for i in 0..VISITORS {
        let config = config.clone();
        let addr = server.addr;
        tasks.push(tokio::spawn(async move {
            let stream = TcpStream::connect(addr).await.unwrap();
            let mut v = ssh_client::visit(config, stream, 80 + (i % 40) as u32, 24)
                .await
                .unwrap();
            let first = v.settle(Duration::from_millis(300)).await;
            assert!(first > 500, "visitor {i} got no screen ({first} bytes)");
            let mut answered = 0;
            for key in [b"j", b"j", b"k", b"G", b"g"] {
                let (took, _) = v.key(key, Duration::from_millis(50)).await;
                answered += usize::from(took.is_some());
            }
            assert_eq!(answered, 5, "visitor {i}: a key went unanswered");
            assert!(v.quit().await, "visitor {i}: no goodbye");
            v.received
        }));
    }
    wait_until("all sessions up", || server.stats.sessions() > VISITORS / 2).await;
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    assert!(total > VISITORS * 1000);
    wait_until("sessions back to zero", || {
        server.stats.sessions() == 0 && server.stats.connections() == 0
    })
    .await;
    server.shut_down().await;
}

/// Connects from `local` (an address of the loopback network) and returns
/// the first bytes the server sends, until it closes or sends its banner.
async fn first_words(server: SocketAddr, local: &str) -> String {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(format!("{local}:0").parse().unwrap()).unwrap();
    let mut stream = socket.connect(server).await.unwrap();
    let mut buf = vec![0; 256];
    let mut got = Vec::new();
    let read = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    got.extend_from_slice(&buf[..n]);
                    if got.contains(&b'\n') {
                        break;
                    }
                }
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .unwrap();
    String::from_utf8_lossy(&got).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_from_one_address_leaves_room_for_others() {
    let server = start(Limits {
        max_per_ip: 4,
        connects_per_minute: 10,
        ..Limits::default()
    })
    .await;
    // Four at once from one address; the fifth is turned away.
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(TcpStream::connect(server.addr).await.unwrap());
    }
    wait_until("four held", || server.stats.connections() == 4).await;
    let words = first_words(server.addr, "127.0.0.1").await;
    assert!(words.starts_with("folio: too many sessions"), "{words:?}");
    drop(held);
    wait_until("released", || server.stats.connections() == 0).await;
    // Five of the ten connections a minute are used: a flood gets five more.
    let mut refused = 0;
    let mut banners = 0;
    for _ in 0..30 {
        let words = first_words(server.addr, "127.0.0.1").await;
        if words.starts_with("SSH-2.0-folio") {
            banners += 1;
        } else {
            assert!(words.starts_with("folio: too many"), "{words:?}");
            refused += 1;
        }
    }
    assert_eq!(banners, 5, "the rate limit lets 10 a minute in");
    assert_eq!(refused, 25);
    // Another address is not held back by the first one's flood.
    let words = first_words(server.addr, "127.0.0.2").await;
    assert!(words.starts_with("SSH-2.0-folio"), "{words:?}");
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
    let stream = socket.connect(server.addr).await.unwrap();
    let mut v = ssh_client::visit(ssh_client::config(), stream, 80, 24)
        .await
        .unwrap();
    assert!(v.settle(Duration::from_millis(300)).await > 500);
    assert!(v.quit().await);
    server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_open_connections_are_reaped_by_the_handshake_deadline() {
    let server = start(Limits {
        max_per_ip: 50,
        max_per_network: 50,
        startups_drop_from: 50,
        connects_per_minute: 100,
        network_connects_per_minute: 100,
        handshake_timeout: Duration::from_secs(1),
        ..Limits::default()
    })
    .await;
    let mut idle = Vec::new();
    for _ in 0..20 {
        idle.push(TcpStream::connect(server.addr).await.unwrap());
    }
    wait_until("20 connections held", || server.stats.connections() == 20).await;
    let start = Instant::now();
    wait_until("connections reaped", || server.stats.connections() == 0).await;
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    for mut s in idle {
        let mut rest = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(2), s.read_to_end(&mut rest)).await;
        assert!(read.is_ok(), "a reaped connection is closed");
    }
    server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn absurd_sizes_and_floods_of_input_are_harmless() {
    let server = start(Limits::default()).await;
    let stream = TcpStream::connect(server.addr).await.unwrap();
    // A 0×0 pty (scripts ask for one) draws something, safely.
    let mut v = ssh_client::visit(ssh_client::config(), stream, 0, 0)
        .await
        .unwrap();
    assert!(v.settle(Duration::from_millis(300)).await > 0);
    v.channel.window_change(65535, 65535, 0, 0).await.unwrap();
    let big = v.settle(Duration::from_millis(500)).await;
    assert!(big > 1000, "a repaint at the clamped size ({big} bytes)");
    v.channel.window_change(80, 24, 0, 0).await.unwrap();
    v.settle(Duration::from_millis(300)).await;
    // 256 KiB of keys at once: most are dropped, the session stays usable.
    for _ in 0..64 {
        v.channel.data_bytes(vec![b'j'; 4096]).await.unwrap();
    }
    v.settle(Duration::from_millis(500)).await;
    let (took, _) = v.key(b"k", Duration::from_millis(100)).await;
    assert!(took.is_some(), "still answering keys");
    assert!(v.quit().await);
    server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_ends_at_its_time_limit_with_a_goodbye() {
    let server = start(Limits {
        max_session_time: Duration::from_secs(1),
        ..Limits::default()
    })
    .await;
    let stream = TcpStream::connect(server.addr).await.unwrap();
    let mut v = ssh_client::visit(ssh_client::config(), stream, 80, 24)
        .await
        .unwrap();
    v.kept = Some(Vec::new());
    let start = Instant::now();
    while !v.closed && start.elapsed() < Duration::from_secs(10) {
        v.next(Duration::from_secs(5)).await;
    }
    assert!(v.closed);
    let out = String::from_utf8_lossy(v.kept.as_deref().unwrap()).into_owned();
    assert!(out.contains("sessions last at most 1 minutes"), "{out:?}");
    // The terminal is put back: alternate screen left, cursor shown.
    assert!(out.contains("\x1b[?25h\x1b[?1049l"), "{out:?}");
    wait_until("session gone", || server.stats.sessions() == 0).await;
    server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_without_a_reader_is_closed_within_seconds() {
    // `ssh -N` holds a slot only a few seconds (by default), not for the
    // idle timeout of a session.
    let server = start(Limits::default()).await;
    let stream = TcpStream::connect(server.addr).await.unwrap();
    let mut handle =
        russh::client::connect_stream(ssh_client::config(), stream, ssh_client::Trusting)
            .await
            .unwrap();
    assert!(handle.authenticate_none("idle").await.unwrap().success());
    wait_until("one connection", || server.stats.connections() == 1).await;
    let start = Instant::now();
    wait_until("the connection closed", || server.stats.connections() == 0).await;
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    assert!(handle.is_closed() || handle.channel_open_session().await.is_err());
    server.shut_down().await;
}

// ---------------------------------------------------------------------------
// Attacks: each of these got the better of the server once.

/// A connection that keeps sending window changes past its budget is
/// closed, with a line saying why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_keeps_flooding_window_changes_is_closed() {
    let server = start(Limits::default()).await;
    let stream = TcpStream::connect(server.addr).await.unwrap();
    let mut v = ssh_client::visit(ssh_client::config(), stream, 80, 24)
        .await
        .unwrap();
    v.settle(Duration::from_millis(300)).await;
    v.kept = Some(Vec::new());
    for n in 0..2000u32 {
        if v.channel
            .window_change(80 + n % 20, 24, 0, 0)
            .await
            .is_err()
        {
            break;
        }
    }
    let start = Instant::now();
    while !v.closed && start.elapsed() < Duration::from_secs(20) {
        v.next(Duration::from_secs(5)).await;
    }
    assert!(v.closed, "still open after 2000 window changes");
    let out = String::from_utf8_lossy(v.kept.as_deref().unwrap()).into_owned();
    assert!(out.contains("too many window changes"), "{out:?}");
    wait_until("the session gone", || server.stats.sessions() == 0).await;
    server.shut_down().await;
}

/// 40 addresses (each in its own /24) hold 7 silent TCP connections each,
/// never starting the handshake: a visitor from a new address still gets a
/// reader.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_connections_from_many_addresses_leave_room_for_a_newcomer() {
    let server = start(Limits::default()).await;
    let mut silent = Vec::new();
    for a in 1..=40 {
        for _ in 0..7 {
            if let Ok(s) = connect_from(server.addr, &format!("127.0.{a}.1")).await {
                silent.push(s);
            }
        }
    }
    assert_eq!(silent.len(), 280);
    wait_until("the silent ones counted", || {
        server.stats.connections() >= 60
    })
    .await;
    let stream = connect_from(server.addr, "127.0.200.1").await.unwrap();
    let start = Instant::now();
    let mut v = ssh_client::visit(ssh_client::config(), stream, 80, 24)
        .await
        .expect("a newcomer logs in");
    assert!(v.settle(Duration::from_millis(300)).await > 500);
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    assert!(v.quit().await);
    drop(silent);
    server.shut_down().await;
}

/// Private mode: a key listed with `from="10.0.0.0/8"` does not get in
/// from 127.0.0.1; one listed for 127.0.0.0/8 (but not 127.0.0.2) does,
/// from there only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_mode_honours_from() {
    let far = PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519).unwrap();
    let near = PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("authorized_keys");
    std::fs::write(
        &path,
        format!(
            "from=\"10.0.0.0/8\" {}\nfrom=\"127.0.0.0/8,!127.0.0.2\" {} near\n",
            far.public_key().to_openssh().unwrap(),
            near.public_key().to_openssh().unwrap()
        ),
    )
    .unwrap();
    let keys = ssh::authorized_keys(&path).unwrap();
    let server = start_with(fixtures::blog(), Limits::default(), Access::Keys(keys)).await;
    let try_key = |key: &PrivateKey, local: &'static str| {
        let key = Arc::new(key.clone());
        let addr = server.addr;
        async move {
            let stream = connect_from(addr, local).await.unwrap();
            let mut handle =
                russh::client::connect_stream(ssh_client::config(), stream, ssh_client::Trusting)
                    .await
                    .unwrap();
            handle
                .authenticate_publickey("me", PrivateKeyWithHashAlg::new(key, None))
                .await
                .unwrap()
                .success()
        }
    };
    assert!(!try_key(&far, "127.0.0.1").await, "from=10.0.0.0/8 got in");
    assert!(try_key(&near, "127.0.0.1").await);
    assert!(!try_key(&near, "127.0.0.2").await, "a ! pattern let it in");
    server.shut_down().await;
}
