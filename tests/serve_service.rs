//! `folio serve` as a service manager runs it: the real binary, its log on
//! stderr (as the journal gets it), signals (SIGHUP, SIGTERM), the summary
//! line, the status file, and two instances sharing one host key. Raw TCP
//! stands in for visitors where the test is about the server's figures.

#[path = "support/fixtures.rs"]
mod fixtures;
#[path = "support/tools.rs"]
mod tools;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server {
    child: Child,
    port: u16,
    banner: String,
    log: PathBuf,
    /// The XDG folders, kept until the server is dropped.
    kept: Option<tempfile::TempDir>,
}

impl Server {
    fn start(posts: &Path, extra: &[&str], env: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Server::spawn(dir.path(), posts, extra, env, "server.log");
        s.kept = Some(dir);
        s
    }

    /// Starts a server with its XDG folders in `dir` and its stderr in
    /// `dir/log_name`; returns once it listens.
    fn spawn(
        dir: &Path,
        posts: &Path,
        extra: &[&str],
        env: &[(&str, &str)],
        log_name: &str,
    ) -> Server {
        let log = dir.join(log_name);
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_folio"));
        cmd.arg("serve")
            .arg(posts)
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .env("XDG_CONFIG_HOME", dir.join("config"))
            .env("XDG_DATA_HOME", dir.join("data"))
            .env("XDG_CACHE_HOME", dir.join("cache"))
            .env_remove("FOLIO_LOG")
            .env_remove("JOURNAL_STREAM")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("folio runs");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut banner = String::new();
        let mut port = None;
        while !banner.contains("stop with") {
            let mut line = String::new();
            assert_ne!(
                stdout.read_line(&mut line).unwrap(),
                0,
                "folio serve exited at start:\n{banner}\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            if let Some(addr) = line.strip_prefix("listening on ") {
                port = addr.trim().rsplit(':').next().and_then(|p| p.parse().ok());
            }
            banner.push_str(&line);
        }
        Server {
            child,
            port: port.expect("a listening line"),
            banner,
            log,
            kept: None,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap()
    }

    /// Polls (generously) until the log has a line with every one of `parts`.
    fn wait_line(&self, parts: &[&str]) -> String {
        let start = Instant::now();
        loop {
            let log = self.log();
            if let Some(line) = log.lines().find(|l| parts.iter().all(|p| l.contains(p))) {
                return line.to_owned();
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "no line with {parts:?} in the log:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the exit status.
    fn wait_exit(&mut self) -> std::process::ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "folio serve did not stop"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A TCP connection that reads the server's SSH banner and leaves.
    fn knock(&self) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut buf = [0u8; 64];
        let n = s.read(&mut buf).unwrap();
        assert!(buf[..n].starts_with(b"SSH-2.0-folio"));
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn host_key_line(banner: &str) -> String {
    banner
        .lines()
        .find(|l| l.starts_with("host key "))
        .unwrap()
        .to_owned()
}

#[test]
fn under_systemd_the_log_has_no_timestamps_and_sigterm_exits_0() {
    if !tools::have(&["kill"]) {
        return;
    }
    let blog = fixtures::blog();
    let mut journal = Server::start(blog.path(), &[], &[("JOURNAL_STREAM", "8:12345")]);
    let line = journal.wait_line(&["serving"]);
    assert!(
        line.starts_with(" INFO") || line.starts_with("INFO"),
        "{line:?}"
    );
    journal.signal("-TERM");
    assert!(journal.wait_exit().success());
    let log = journal.log();
    assert!(!log.contains('\x1b'), "colour in the log: {log:?}");
    assert!(log.contains("shutting down"), "{log}");
    // Elsewhere, a line starts with its time.
    let plain = Server::start(blog.path(), &[], &[]);
    let line = plain.wait_line(&["serving"]);
    assert!(line.starts_with("20"), "{line:?}");
}

#[test]
fn sighup_reloads_the_posts() {
    if !tools::have(&["kill"]) {
        return;
    }
    let blog = fixtures::blog();
    let server = Server::start(blog.path(), &[], &[]);
    let count = server.banner.lines().next().unwrap().to_owned();
    let before: usize = count
        .strip_prefix("folio serve: ")
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{count}"));
    // One post edited (its size changes), one added.
    let first = std::fs::read_dir(blog.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "md"))
        .unwrap();
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&first)
        .unwrap();
    writeln!(f, "\nOne more paragraph.").unwrap();
    drop(f);
    std::fs::write(
        blog.path().join("hotel.md"),
        "---\ntitle: Hotel by signal\ndate: 2025-07-01\n---\n\nText.\n",
    )
    .unwrap();
    server.signal("-HUP");
    let line = server.wait_line(&["SIGHUP: reloaded the posts"]);
    assert!(line.contains(&format!("posts={}", before + 1)), "{line}");
    assert!(line.contains("changed=1"), "{line}");
    // Still serving.
    server.knock();
}

/// Polls the log until its summary lines count at least `connects`
/// connects between them (a burst may fall in one interval or two) and one
/// has `with`; those lines.
fn summaries_adding_up(server: &Server, connects: usize, with: &str) -> Vec<String> {
    let start = Instant::now();
    loop {
        let lines: Vec<String> = server
            .log()
            .lines()
            .filter(|l| l.contains("summary:"))
            .map(str::to_owned)
            .collect();
        let counted: usize = lines
            .iter()
            .filter_map(|l| {
                l.split("connects=")
                    .nth(1)?
                    .split(' ')
                    .next()?
                    .parse::<usize>()
                    .ok()
            })
            .sum();
        if counted >= connects && lines.iter().any(|l| l.contains(with)) {
            return lines;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_summary_line_and_a_status_file_without_addresses() {
    let blog = fixtures::blog();
    let dir = tempfile::tempdir().unwrap();
    let status = dir.path().join("status.json");
    let mut server = Server::start(
        blog.path(),
        &[
            "--summary-every",
            "1",
            "--status",
            status.to_str().unwrap(),
            "--proxy-protocol",
            "192.0.2.1",
        ],
        &[],
    );
    assert!(
        server
            .banner
            .contains("behind a load balancer: PROXY headers from 192.0.2.1")
    );
    // Written at start.
    let start = Instant::now();
    while !status.exists() {
        assert!(start.elapsed() < Duration::from_secs(20), "no status file");
        std::thread::sleep(Duration::from_millis(50));
    }
    server.knock();
    server.knock();
    // A PROXY header from 127.0.0.1, which is not the balancer.
    let mut s = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    s.write_all(b"PROXY TCP4 203.0.113.9 127.0.0.1 5000 22\r\n")
        .unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut rest = Vec::new();
    let _ = s.read_to_end(&mut rest);
    let summaries = summaries_adding_up(&server, 3, "refused=proxy_untrusted:1");
    for line in &summaries {
        assert!(line.contains("sessions=0"), "{line}");
        assert!(
            !line.contains("127.0.0.1") && !line.contains("203.0.113.9"),
            "{line}"
        );
    }
    // The status file has the same figures (the interval may have been
    // cut between the knocks: the total is what is sure).
    let start = Instant::now();
    let json = loop {
        let text = std::fs::read_to_string(&status).unwrap();
        let json: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
        if json["total"]["connects"] == 3 {
            break json;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "{text}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(json["total"]["refused"]["proxy_untrusted"], 1, "{json}");
    assert_eq!(json["sessions"], 0);
    assert_eq!(json["interval_s"], 1);
    assert!(json["total"]["bytes_sent"].as_u64().unwrap() > 0, "{json}");
    let text = std::fs::read_to_string(&status).unwrap();
    assert!(
        !text.contains("127.0.0.1") && !text.contains("203.0.113.9"),
        "{text}"
    );
    // Nothing but the file beside it: no temporary files left.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    // A quiet minute says nothing: no summary line between two quiet ones.
    let quiet_from = server.log().lines().count();
    std::thread::sleep(Duration::from_millis(2500));
    let later: Vec<String> = server
        .log()
        .lines()
        .skip(quiet_from)
        .map(str::to_owned)
        .collect();
    assert!(
        later.iter().filter(|l| l.contains("summary:")).count() <= 1,
        "{later:?}"
    );
    if tools::have(&["kill"]) {
        server.signal("-TERM");
        assert!(server.wait_exit().success());
    }
}

#[test]
fn two_instances_starting_at_once_share_one_new_host_key() {
    let blog = fixtures::blog();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("state/ssh_host_ed25519_key");
    let key_arg = key.to_str().unwrap().to_owned();
    let starts: Vec<_> = ["a.log", "b.log"]
        .into_iter()
        .map(|log| {
            let (dir, blog, key_arg) = (
                dir.path().to_path_buf(),
                blog.path().to_path_buf(),
                key_arg.clone(),
            );
            std::thread::spawn(move || {
                Server::spawn(&dir, &blog, &["--host-key", &key_arg], &[], log)
            })
        })
        .collect();
    let servers: Vec<Server> = starts.into_iter().map(|t| t.join().unwrap()).collect();
    let lines: Vec<String> = servers.iter().map(|s| host_key_line(&s.banner)).collect();
    let fingerprint = |l: &str| l.split(' ').nth(2).unwrap().to_owned();
    assert_eq!(fingerprint(&lines[0]), fingerprint(&lines[1]), "{lines:?}");
    assert_eq!(
        lines.iter().filter(|l| l.contains("created now")).count(),
        1,
        "{lines:?}"
    );
    let made = std::fs::read(&key).unwrap();
    for s in &servers {
        s.knock();
    }
    drop(servers);
    // A restart reads it; nobody rewrote it.
    let again = Server::spawn(
        dir.path(),
        blog.path(),
        &["--host-key", &key_arg],
        &[],
        "c.log",
    );
    assert_eq!(
        fingerprint(&host_key_line(&again.banner)),
        fingerprint(&lines[0])
    );
    assert_eq!(std::fs::read(&key).unwrap(), made);
}

#[test]
fn a_bad_balancer_address_is_one_line_and_makes_nothing() {
    let blog = fixtures::blog();
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_folio"))
        .arg("serve")
        .arg(blog.path())
        .args(["--listen", "127.0.0.1:0", "--proxy-protocol", "10.0.0.1/8"])
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .env("XDG_DATA_HOME", dir.path().join("data"))
        .env("XDG_CACHE_HOME", dir.path().join("cache"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    assert_eq!(
        last,
        "folio: --proxy-protocol: \"10.0.0.1/8\" has host bits set: write the network (10.0.0.0/8)"
    );
    // No host key was made for a server that never ran.
    assert!(!dir.path().join("data").exists());
}
