//! `folio serve` behind a load balancer: a PROXY-speaking test balancer on
//! loopback (written here) forwards visitors to servers in this process.
//! Visitors connect to it from addresses of 127.0.0.0/8, each standing for
//! another person; the balancer tells folio that address in a PROXY header
//! (v1 or v2), while every connection folio sees comes from the balancer's
//! own 127.0.0.1. Bounded in count and time, loopback only.

#[path = "support/fixtures.rs"]
mod fixtures;
#[path = "support/serve_server.rs"]
mod serve_server;
#[path = "support/ssh_client.rs"]
mod ssh_client;
#[path = "support/tmux.rs"]
mod tmux;
#[path = "support/tools.rs"]
mod tools;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use folio::limits::Limits;
use folio::ssh::{self, Access, ServeOptions, Trusted};
use russh::keys::{Algorithm, PrivateKey, PublicKeyOrCertificate};
use serve_server::{Running, connect_from, serve_folder, wait_until};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How the test balancer introduces a visitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Speaks {
    V1,
    V2,
    /// v2, written in three TCP segments with pauses between them.
    V2Split,
    /// No header at all (a balancer set up without it).
    Nothing,
}

/// A TCP balancer: takes visitors on a loopback port and forwards each to
/// the next backend in turn, first telling it (as `speaks` says) the
/// address the visitor came from.
struct Balancer {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Balancer {
    async fn start(backends: Vec<SocketAddr>, speaks: Speaks) -> Balancer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let next = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut visitor, from)) = listener.accept().await else {
                    return;
                };
                let backend = backends[next.fetch_add(1, Ordering::SeqCst) % backends.len()];
                tokio::spawn(async move {
                    let Ok(mut upstream) = TcpStream::connect(backend).await else {
                        return;
                    };
                    let _ = upstream.set_nodelay(true);
                    let to = visitor.local_addr().unwrap();
                    let header = match speaks {
                        Speaks::V1 => v1(from, to),
                        Speaks::V2 | Speaks::V2Split => v2(from, to),
                        Speaks::Nothing => Vec::new(),
                    };
                    if speaks == Speaks::V2Split {
                        for piece in [&header[..5], &header[5..14], &header[14..]] {
                            upstream.write_all(piece).await.unwrap();
                            upstream.flush().await.unwrap();
                            tokio::time::sleep(Duration::from_millis(40)).await;
                        }
                    } else if upstream.write_all(&header).await.is_err() {
                        return;
                    }
                    let _ = tokio::io::copy_bidirectional(&mut visitor, &mut upstream).await;
                });
            }
        });
        Balancer { addr, task }
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn v1(from: SocketAddr, to: SocketAddr) -> Vec<u8> {
    format!(
        "PROXY TCP4 {} {} {} {}\r\n",
        from.ip(),
        to.ip(),
        from.port(),
        to.port()
    )
    .into_bytes()
}

fn v2_with(command: u8, from: SocketAddr, to: SocketAddr) -> Vec<u8> {
    let (SocketAddr::V4(from), SocketAddr::V4(to)) = (from, to) else {
        panic!("IPv4 only here");
    };
    let mut h = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
    h.push(0x20 | command);
    h.push(0x11);
    h.extend_from_slice(&12u16.to_be_bytes());
    h.extend_from_slice(&from.ip().octets());
    h.extend_from_slice(&to.ip().octets());
    h.extend_from_slice(&from.port().to_be_bytes());
    h.extend_from_slice(&to.port().to_be_bytes());
    h
}

fn v2(from: SocketAddr, to: SocketAddr) -> Vec<u8> {
    v2_with(1, from, to)
}

/// A server that takes PROXY headers from 127.0.0.1 (where the balancer
/// connects from).
async fn behind_balancer(blog: &std::path::Path, limits: Limits, key: PrivateKey) -> Running {
    let options = ServeOptions {
        limits,
        access: Access::Public,
        proxy: Trusted::parse("127.0.0.1").unwrap(),
    };
    serve_folder(blog, options, key).await
}

fn new_key() -> PrivateKey {
    PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519).unwrap()
}

/// The first line the server writes (its SSH banner, or why it refused),
/// or `None` if it closed without one.
async fn first_line(stream: &mut TcpStream) -> Option<String> {
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    let deadline = Duration::from_secs(20);
    while !got.ends_with(b"\n") && got.len() < 200 {
        match tokio::time::timeout(deadline, stream.read(&mut byte)).await {
            Ok(Ok(1)) => got.push(byte[0]),
            Ok(_) => break,
            Err(elapsed) => panic!("nothing from the server in {deadline:?}: {elapsed}"),
        }
    }
    (!got.is_empty()).then(|| String::from_utf8_lossy(&got).trim_end().to_owned())
}

/// Waits for the server to close `stream`; whether it closed cleanly (a
/// FIN rather than a reset). Bytes before the end are skipped.
async fn closed_cleanly(stream: &mut TcpStream, within: Duration) -> bool {
    let start = Instant::now();
    let mut buf = [0u8; 512];
    loop {
        assert!(start.elapsed() < within, "still open after {within:?}");
        match tokio::time::timeout(within, stream.read(&mut buf)).await {
            Ok(Ok(0)) => return true,
            Ok(Ok(_)) => {}
            Ok(Err(_)) => return false,
            Err(elapsed) => panic!("still open after {within:?}: {elapsed}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_from_one_claimed_address_fill_its_limit_and_a_ninth_address_gets_in() {
    let blog = fixtures::blog();
    let server = behind_balancer(blog.path(), Limits::default(), new_key()).await;
    for speaks in [Speaks::V1, Speaks::V2] {
        let balancer = Balancer::start(vec![server.addr], speaks).await;
        let mut held = Vec::new();
        for _ in 0..Limits::default().max_per_ip {
            let mut s = connect_from(balancer.addr, "127.0.0.7").await.unwrap();
            let line = first_line(&mut s).await;
            assert!(
                line.as_deref()
                    .is_some_and(|l| l.starts_with("SSH-2.0-folio")),
                "{speaks:?}: {line:?}"
            );
            held.push(s);
        }
        // One more claiming the same address: that address's limit.
        let mut s = connect_from(balancer.addr, "127.0.0.7").await.unwrap();
        let line = first_line(&mut s).await;
        assert_eq!(
            line.as_deref(),
            Some("folio: too many sessions from your address"),
            "{speaks:?}"
        );
        assert_eq!(server.stats.refused("max_per_ip"), 1);
        // Another address reads, through the same balancer, although every
        // connection folio sees comes from 127.0.0.1.
        let stream = connect_from(balancer.addr, "127.0.0.8").await.unwrap();
        let mut v = ssh_client::visit(ssh_client::config(), stream, 80, 24)
            .await
            .unwrap();
        assert!(
            v.settle(Duration::from_millis(200)).await > 500,
            "{speaks:?}"
        );
        assert!(v.quit().await);
        drop(held);
        wait_until("the held connections closed", || {
            server.stats.connections() == 0
        })
        .await;
        server.stats.reset();
    }
    server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_header_from_an_address_that_is_not_a_balancer_is_refused() {
    let blog = fixtures::blog();
    let server = behind_balancer(blog.path(), Limits::default(), new_key()).await;
    for header in [
        v1("203.0.113.5:1000".parse().unwrap(), server.addr),
        v2("203.0.113.5:1000".parse().unwrap(), server.addr),
    ] {
        let mut s = connect_from(server.addr, "127.0.0.9").await.unwrap();
        s.write_all(&header).await.unwrap();
        s.write_all(b"SSH-2.0-sneaky\r\n").await.unwrap();
        let _ = closed_cleanly(&mut s, Duration::from_secs(20)).await;
    }
    assert_eq!(server.stats.refused("proxy_untrusted"), 2);
    // A plain visitor from there is served as ever.
    let stream = connect_from(server.addr, "127.0.0.9").await.unwrap();
    let mut v = ssh_client::visit(ssh_client::config(), stream, 80, 24)
        .await
        .unwrap();
    assert!(v.settle(Duration::from_millis(200)).await > 500);
    assert!(v.quit().await);
    server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_v2_header_split_across_segments_is_read() {
    let blog = fixtures::blog();
    let server = behind_balancer(blog.path(), Limits::default(), new_key()).await;
    let balancer = Balancer::start(vec![server.addr], Speaks::V2Split).await;
    for local in ["127.0.0.11", "127.0.0.12"] {
        let stream = connect_from(balancer.addr, local).await.unwrap();
        let mut v = ssh_client::visit(ssh_client::config(), stream, 80, 24)
            .await
            .unwrap();
        assert!(v.settle(Duration::from_millis(200)).await > 500);
        let (took, _) = v.key(b"j", Duration::from_millis(100)).await;
        assert!(took.is_some(), "a key went unanswered");
        assert!(v.quit().await);
    }
    assert_eq!(server.stats.refused_total(), 0);
    server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_mode_checks_from_against_the_address_in_the_header() {
    let key = new_key();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("authorized_keys");
    std::fs::write(
        &path,
        format!(
            "from=\"127.0.0.21\" {}\n",
            key.public_key().to_openssh().unwrap()
        ),
    )
    .unwrap();
    let options = ServeOptions {
        limits: Limits::default(),
        access: Access::Keys(ssh::authorized_keys(&path).unwrap()),
        proxy: Trusted::parse("127.0.0.1").unwrap(),
    };
    let blog = fixtures::blog();
    let server = serve_folder(blog.path(), options, new_key()).await;
    let balancer = Balancer::start(vec![server.addr], Speaks::V2).await;
    let try_from = |local: &'static str| {
        let key = Arc::new(key.clone());
        let addr = balancer.addr;
        async move {
            let stream = connect_from(addr, local).await.unwrap();
            let mut handle =
                russh::client::connect_stream(ssh_client::config(), stream, ssh_client::Trusting)
                    .await
                    .unwrap();
            handle
                .authenticate_publickey("me", russh::keys::PrivateKeyWithHashAlg::new(key, None))
                .await
                .unwrap()
                .success()
        }
    };
    // Every connection comes from 127.0.0.1; only the header tells them apart.
    assert!(try_from("127.0.0.21").await);
    assert!(!try_from("127.0.0.22").await);
    server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_malformed_oversized_slow_and_local_headers() {
    let blog = fixtures::blog();
    let server = behind_balancer(
        blog.path(),
        Limits {
            handshake_timeout: Duration::from_secs(2),
            ..Limits::default()
        },
        new_key(),
    )
    .await;
    // The test connects from 127.0.0.1 itself: it is the balancer here.
    let raw = || connect_from(server.addr, "127.0.0.1");

    // No header: told why, and closed.
    let mut s = raw().await.unwrap();
    s.write_all(b"SSH-2.0-OpenSSH_9.6\r\n").await.unwrap();
    assert_eq!(
        first_line(&mut s).await.as_deref(),
        Some("folio: this server is behind a load balancer; connect through it")
    );
    assert!(closed_cleanly(&mut s, Duration::from_secs(20)).await);
    // Through a balancer that does not speak it, a visitor gets no session.
    let balancer = Balancer::start(vec![server.addr], Speaks::Nothing).await;
    let stream = connect_from(balancer.addr, "127.0.0.31").await.unwrap();
    assert!(
        ssh_client::visit(ssh_client::config(), stream, 80, 24)
            .await
            .is_err()
    );

    // Malformed, and too long: closed without a word of SSH.
    let mut long_v2 = v2("10.0.0.1:1".parse().unwrap(), server.addr);
    long_v2[14..16].copy_from_slice(&60_000u16.to_be_bytes());
    for bad in [
        b"PROXY TCP4 10.0.0.1 nonsense\r\n".to_vec(),
        format!("PROXY TCP4 {}\r\n", "9".repeat(150)).into_bytes(),
        long_v2,
    ] {
        let mut s = raw().await.unwrap();
        s.write_all(&bad).await.unwrap();
        assert_eq!(first_line(&mut s).await, None);
    }

    // Slow: half a header, then nothing; cut at the handshake deadline.
    let mut s = raw().await.unwrap();
    s.write_all(b"PROXY TCP4 10.0.0.1 ").await.unwrap();
    let start = Instant::now();
    assert_eq!(first_line(&mut s).await, None);
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_secs(15),
        "{took:?}"
    );

    // LOCAL (a health check): closed cleanly at once, nothing said.
    let mut s = raw().await.unwrap();
    s.write_all(&v2_with(0, "127.0.0.1:1".parse().unwrap(), server.addr))
        .await
        .unwrap();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf)).await;
    assert!(matches!(read, Ok(Ok(0))), "{read:?} {buf:?}");

    let refused = |why| server.stats.refused(why);
    assert_eq!(refused("proxy_missing"), 2);
    assert_eq!(refused("proxy_malformed"), 1);
    assert_eq!(refused("proxy_too_long"), 2);
    assert_eq!(refused("proxy_timeout"), 1);
    assert_eq!(server.stats.health_checks(), 1);
    // None of them was ever counted as a visitor.
    assert_eq!(server.stats.connections(), 0);
    server.shut_down().await;
}

/// Accepts any host key and notes its fingerprint.
struct Seeing(Arc<Mutex<Vec<String>>>);

impl russh::client::Handler for Seeing {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        if let PublicKeyOrCertificate::PublicKey { key, .. } = key {
            self.0.lock().unwrap().push(ssh::fingerprint(key));
        }
        Ok(true)
    }
}

/// One visit: log in, start a reader, wait for a screen, quit.
async fn read_once(balancer: SocketAddr, local: String, seen: Arc<Mutex<Vec<String>>>) {
    let stream = connect_from(balancer, &local).await.unwrap();
    let mut handle = russh::client::connect_stream(ssh_client::config(), stream, Seeing(seen))
        .await
        .unwrap();
    assert!(handle.authenticate_none("v").await.unwrap().success());
    let mut channel = handle.channel_open_session().await.unwrap();
    channel
        .request_pty(true, "xterm", 80, 24, 0, 0, &[])
        .await
        .unwrap();
    channel.request_shell(true).await.unwrap();
    let mut got = 0;
    while got < 500 {
        match tokio::time::timeout(Duration::from_secs(30), channel.wait()).await {
            Ok(Some(russh::ChannelMsg::Data { data })) => got += data.len(),
            Ok(Some(_)) => {}
            other => panic!("{local}: no screen ({got} bytes): {other:?}"),
        }
    }
    channel.data(&b"q"[..]).await.unwrap();
    while let Ok(Some(msg)) = tokio::time::timeout(Duration::from_secs(10), channel.wait()).await {
        if matches!(msg, russh::ChannelMsg::Close) {
            break;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_key_and_folder_serve_a_hundred_sessions() {
    const SESSIONS: usize = 100;
    const AT_ONCE: usize = 10;
    let blog = fixtures::blog();
    let state = tempfile::tempdir().unwrap();
    let key_path = state.path().join("ssh_host_ed25519_key");
    // Each instance reads (or, the first time, makes) the one key file.
    let (key_a, _) = ssh::host_key(&key_path).unwrap();
    let (key_b, created) = ssh::host_key(&key_path).unwrap();
    assert!(!created);
    let limits = Limits {
        network_connects_per_minute: 2 * SESSIONS,
        max_per_network: 2 * AT_ONCE,
        handshake_timeout: Duration::from_secs(60),
        session_open_timeout: Duration::from_secs(60),
        ..Limits::default()
    };
    let a = behind_balancer(blog.path(), limits.clone(), key_a).await;
    let b = behind_balancer(blog.path(), limits, key_b).await;
    let balancer = Balancer::start(vec![a.addr, b.addr], Speaks::V2).await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let start = Instant::now();
    for batch in 0..SESSIONS / AT_ONCE {
        let visits: Vec<_> = (0..AT_ONCE)
            .map(|i| {
                // Twenty addresses, five visits each: within every limit.
                let local = format!("127.0.0.{}", 100 + (batch * AT_ONCE + i) % 20);
                tokio::spawn(read_once(balancer.addr, local, seen.clone()))
            })
            .collect();
        for v in visits {
            v.await.unwrap();
        }
    }
    let took = start.elapsed();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), SESSIONS);
    let expected = ssh::fingerprint(ssh::host_key(&key_path).unwrap().0.public_key());
    assert!(seen.iter().all(|f| *f == expected), "{seen:?}");
    // Both instances served.
    let (na, nb) = (a.stats.sessions_started(), b.stats.sessions_started());
    assert_eq!(na + nb, SESSIONS as u64, "{na} + {nb}");
    assert!(na > 0 && nb > 0, "{na} + {nb}");
    // A figure for the record, not a target.
    eprintln!("{SESSIONS} sessions through the balancer in {took:?}: {na} + {nb}");
    wait_until("all closed", || {
        a.stats.connections() == 0 && b.stats.connections() == 0
    })
    .await;
    a.shut_down().await;
    b.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssh_trusts_both_instances_with_one_known_hosts_line() {
    if !tools::have(&["ssh"]) {
        return;
    }
    let blog = fixtures::blog();
    let state = tempfile::tempdir().unwrap();
    let key_path = state.path().join("ssh_host_ed25519_key");
    let (key_a, _) = ssh::host_key(&key_path).unwrap();
    let (key_b, _) = ssh::host_key(&key_path).unwrap();
    let a = behind_balancer(blog.path(), Limits::default(), key_a.clone()).await;
    let b = behind_balancer(blog.path(), Limits::default(), key_b).await;
    let balancer = Balancer::start(vec![a.addr, b.addr], Speaks::V2).await;
    // What a visitor's known_hosts holds after the first visit.
    let known = state.path().join("known_hosts");
    std::fs::write(
        &known,
        format!(
            "[127.0.0.1]:{} {}\n",
            balancer.addr.port(),
            key_a.public_key().to_openssh().unwrap()
        ),
    )
    .unwrap();
    for _ in 0..4 {
        let (port, known) = (balancer.addr.port(), known.clone());
        let out = tokio::task::spawn_blocking(move || {
            // No pty: folio answers with a line and exit status 1, after
            // the host key was checked, strictly.
            std::process::Command::new("ssh")
                .args(["-F", "/dev/null", "-T", "-p", &port.to_string()])
                .args(["-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes"])
                .arg("-o")
                .arg(format!("UserKnownHostsFile={}", known.display()))
                .arg("127.0.0.1")
                .stdin(std::process::Stdio::null())
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("needs a terminal"), "{stderr}");
        assert!(!stderr.contains("IDENTIFICATION HAS CHANGED"), "{stderr}");
    }
    // Both instances answered (the balancer takes turns).
    assert_eq!((a.stats.connects(), b.stats.connects()), (2, 2));
    wait_until("all closed", || {
        a.stats.connections() == 0 && b.stats.connections() == 0
    })
    .await;
    a.shut_down().await;
    b.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_being_read_at_once_are_capped() {
    let blog = fixtures::blog();
    let server = behind_balancer(
        blog.path(),
        Limits {
            max_startups: 2,
            startups_drop_from: 2,
            ..Limits::default()
        },
        new_key(),
    )
    .await;
    // Two silent connections from the balancer's address hold both places.
    let _a = connect_from(server.addr, "127.0.0.1").await.unwrap();
    let _b = connect_from(server.addr, "127.0.0.1").await.unwrap();
    let mut c = connect_from(server.addr, "127.0.0.1").await.unwrap();
    assert_eq!(first_line(&mut c).await, None);
    wait_until("the third refused", || {
        server.stats.refused("proxy_busy") == 1
    })
    .await;
    server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_reads_through_the_balancer_with_openssh() {
    if !tools::have(&["tmux", "ssh"]) {
        return;
    }
    let blog = fixtures::blog();
    let server = behind_balancer(blog.path(), Limits::default(), new_key()).await;
    let balancer = Balancer::start(vec![server.addr], Speaks::V2).await;
    let line = format!(
        "ssh -tt -F /dev/null -p {} -b 127.0.0.41 -o StrictHostKeyChecking=no \
         -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes 127.0.0.1",
        balancer.addr.port()
    );
    tokio::task::spawn_blocking(move || {
        let t = tmux::Tmux::start(&line, 100, 30);
        t.wait_text("Bravo");
        t.keys(&["j"]);
        t.wait_text("Just one paragraph about bravo.");
        t.keys(&["q"]);
        let s = t.wait_text("EXITED 0");
        assert!(s.contains("folio: thanks for reading. Goodbye."), "{s}");
        t.assert_restored();
    })
    .await
    .unwrap();
    assert_eq!(server.stats.sessions_started(), 1);
    assert_eq!(server.stats.refused_total(), 0);
    server.shut_down().await;
}
