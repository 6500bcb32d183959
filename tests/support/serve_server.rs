//! An in-process `folio serve` for the load and abuse tests, and what they
//! measure of this process.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use folio::keymap::Keymap;
use folio::limits::Limits;
use folio::posts;
use folio::ssh::{self, Access, Look, ServeOptions, Site, Stats};
use russh::keys::{Algorithm, PrivateKey};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::watch;

pub struct Running {
    pub addr: SocketAddr,
    pub stats: Stats,
    pub site: Arc<Site>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    /// Kept until the server is dropped.
    blog: Option<tempfile::TempDir>,
}

pub async fn start(limits: Limits) -> Running {
    start_with(crate::fixtures::blog(), limits, Access::Public).await
}

pub async fn start_with(blog: tempfile::TempDir, limits: Limits, access: Access) -> Running {
    let options = ServeOptions {
        limits,
        access,
        proxy: ssh::Trusted::default(),
    };
    let key = PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519).unwrap();
    let mut running = serve_folder(blog.path(), options, key).await;
    running.blog = Some(blog);
    running
}

/// A server of the folder `blog` (which the caller keeps) with `options`
/// and host key `key`: several may serve one folder with one key.
pub async fn serve_folder(
    blog: &std::path::Path,
    options: ServeOptions,
    key: PrivateKey,
) -> Running {
    let posts = posts::scan_with(blog, posts::Links::Confined).unwrap();
    let site = Arc::new(Site::new(
        posts,
        Some(blog.to_path_buf()),
        Keymap::default(),
        Look::Fixed(Box::default()),
    ));
    let (listener, addr) = ssh::bind("127.0.0.1:0").await.unwrap();
    let (stop, stop_rx) = watch::channel(false);
    let stats = Stats::default();
    let task = tokio::spawn(ssh::serve(
        site.clone(),
        key,
        options,
        listener,
        stop_rx,
        stats.clone(),
    ));
    Running {
        addr,
        stats,
        site,
        stop,
        task,
        blog: None,
    }
}

impl Running {
    /// Stops the server and waits for it to finish.
    pub async fn shut_down(self) {
        self.stop.send(true).unwrap();
        self.task.await.unwrap();
    }
}

pub async fn wait_until(what: &str, ok: impl Fn() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A TCP connection from `local`, an address of the loopback network (each
/// stands for another visitor).
pub async fn connect_from(server: SocketAddr, local: &str) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(format!("{local}:0").parse().unwrap())?;
    socket.connect(server).await
}

/// A 2 MB post, code-heavy (highlighting is the slow part of a layout),
/// undated and named to come last in the list (`G` selects it), so a
/// visitor who does not ask for it never lays it out.
pub fn big_post() -> String {
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

/// CPU seconds this process has used (user and system), from /proc (in
/// the kernel's fixed 100 ticks a second).
pub fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // Ticks of a process's lifetime stay far below 2^52.
    #[allow(clippy::cast_precision_loss)]
    let seconds = ticks as f64 / 100.0;
    seconds
}

/// This process's resident memory in MiB.
pub fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap();
    kib / 1024.0
}
