//! End-to-end: `folio serve` with the real OpenSSH client (`ssh`, `sftp`,
//! `ssh-keygen`), the interactive sessions in tmux, as a visitor would use
//! it. These tools are required: a missing one fails the test, it never
//! skips (CI installs `openssh-client` and `tmux`).
//!
//! Each server listens on a free port (it binds port 0 and prints the
//! address) with its own XDG folders in a temp dir.

#[path = "support/fixtures.rs"]
mod fixtures;
#[path = "support/tmux.rs"]
mod tmux;
#[path = "support/tools.rs"]
mod tools;

use std::io::{BufRead, BufReader, Read};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use tmux::{Tmux, poll, top_line_has};

/// A running `folio serve`.
struct Server {
    child: Child,
    port: u16,
    /// The start-up text on stdout.
    banner: String,
    dir: tempfile::TempDir,
}

impl Server {
    fn start(posts: &Path, extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        Server::start_in(dir, posts, extra)
    }

    /// Starts the server with XDG folders (and so the host key) in `dir`.
    fn start_in(dir: tempfile::TempDir, posts: &Path, extra: &[&str]) -> Server {
        let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_folio"))
            .arg("serve")
            .arg(posts)
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .env("XDG_CONFIG_HOME", dir.path().join("config"))
            .env("XDG_DATA_HOME", dir.path().join("data"))
            .env("XDG_CACHE_HOME", dir.path().join("cache"))
            .env_remove("FOLIO_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("folio runs");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut banner = String::new();
        let mut port = None;
        while !banner.contains("stop with") {
            let mut line = String::new();
            if stdout.read_line(&mut line).unwrap() == 0 {
                let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap();
                panic!("folio serve exited at start:\n{banner}\n{log}");
            }
            if let Some(addr) = line.strip_prefix("listening on ") {
                port = addr.trim().rsplit(':').next().and_then(|p| p.parse().ok());
            }
            banner.push_str(&line);
        }
        Server {
            child,
            port: port.expect("a listening line"),
            banner,
            dir,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap()
    }

    fn wait_log(&self, text: &str) -> String {
        poll(|| {
            let log = self.log();
            if log.contains(text) {
                Ok(log)
            } else {
                Err(format!("no {text:?} in the log:\n{log}"))
            }
        })
    }

    /// `ssh` with the options every test uses, and none of the user's.
    fn ssh(&self) -> Command {
        let mut c = Command::new("ssh");
        c.args(self.ssh_args());
        c
    }

    fn ssh_args(&self) -> Vec<String> {
        [
            "-F",
            "/dev/null",
            "-p",
            &self.port.to_string(),
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "LogLevel=ERROR",
            "-o",
            "BatchMode=yes",
        ]
        .iter()
        .map(ToString::to_string)
        .collect()
    }

    /// The command line for an interactive visitor in tmux.
    fn ssh_line(&self, extra: &str) -> String {
        format!("ssh -tt {} {extra} localhost", self.ssh_args().join(" "))
    }

    /// A visitor in a `width`×`height` terminal.
    fn visitor(&self, width: u16, height: u16) -> Tmux {
        Tmux::start(&self.ssh_line(""), width, height)
    }

    /// SIGTERM, and the exit status.
    fn terminate(&mut self) -> std::process::ExitStatus {
        self.signal("-TERM")
    }

    /// Sends a signal (`-TERM`, `-INT`) and waits for the exit status.
    fn signal(&mut self, signal: &str) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        poll(|| {
            self.child
                .try_wait()
                .unwrap()
                .ok_or_else(|| "folio serve did not stop".to_owned())
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `cmd` with stdin closed, and how long it took.
fn run(cmd: &mut Command) -> (Output, Duration) {
    let start = Instant::now();
    let out = cmd.stdin(Stdio::null()).output().expect("the command runs");
    (out, start.elapsed())
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn read_over_ssh_open_jump_headings_resize_and_quit() {
    if !tools::have(&["tmux", "ssh"]) {
        return;
    }
    let blog = fixtures::blog();
    let server = Server::start(blog.path(), &[]);
    assert!(
        server.banner.contains("host key SHA256:"),
        "{}",
        server.banner
    );
    assert!(
        server
            .banner
            .contains(&format!("ssh -t -p {} localhost", server.port)),
        "{}",
        server.banner
    );
    let tmux = server.visitor(100, 30);
    tmux.wait_text("Bravo");
    assert!(tmux.alternate_screen());
    let s = tmux.screen();
    assert!(s.find("Alpha: a long post").unwrap() < s.find("Bravo").unwrap());
    tmux.keys(&["j"]);
    tmux.wait_text("Just one paragraph about bravo.");
    tmux.keys(&["k", "Enter", "]"]);
    tmux.wait_for("heading One on top", |s| {
        top_line_has(s, "One") && s.contains("Alpha › One")
    });
    // Several keys in one packet, and an arrow key's escape sequence.
    tmux.keys(&["]]", "Down"]);
    tmux.wait_text("Alpha › Two");

    // Narrower than 80 columns: one pane, laid out for the new width.
    tmux.resize(60, 20);
    let s = tmux.wait_for("the reader alone at 60 columns", |s| {
        !s.contains("Bravo") && s.contains("Paragraph") && s.lines().count() == 20
    });
    assert!(s.lines().all(|l| l.chars().count() <= 60), "{s}");
    tmux.keys(&["Escape"]);
    tmux.wait_text("Bravo");

    tmux.keys(&["q"]);
    let s = tmux.wait_text("EXITED 0");
    assert!(s.contains("folio: thanks for reading. Goodbye."), "{s}");
    tmux.assert_restored();
    let log = server.wait_log("disconnect");
    assert!(log.contains("term=tmux"), "{log}");
    assert!(log.contains("size=60x20"), "{log}");
    assert!(log.contains("bytes_sent="), "{log}");
}

#[test]
fn commands_file_transfer_and_no_pty_are_refused_fast() {
    if !tools::have(&["ssh", "sftp"]) {
        return;
    }
    let blog = fixtures::blog();
    let server = Server::start(blog.path(), &[]);

    let (out, took) = run(server.ssh().args(["localhost", "ls", "/"]));
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    assert!(
        stderr(&out).contains("runs no commands"),
        "{}",
        stderr(&out)
    );

    let (out, took) = run(Command::new("sftp")
        .args(["-F", "/dev/null", "-P", &server.port.to_string()])
        .args([
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
        ])
        .args(["-o", "BatchMode=yes", "-b", "/dev/null", "localhost"]));
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("subsystem request failed"),
        "{}",
        stderr(&out)
    );

    let (out, took) = run(server.ssh().args(["-T", "localhost"]));
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("ssh -t"), "{}", stderr(&out));

    let log = server.wait_log("subsystem sftp");
    assert!(log.contains("request=\"exec\""), "{log}");
    assert!(log.contains("shell without a pty"), "{log}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn port_forwarding_is_refused() {
    if !tools::have(&["ssh"]) {
        return;
    }
    let blog = fixtures::blog();
    let server = Server::start(blog.path(), &[]);

    // -R: the server says no, and ssh gives up at once.
    let (out, took) = run(server.ssh().args([
        "-N",
        "-o",
        "ExitOnForwardFailure=yes",
        "-R",
        "0:127.0.0.1:9",
        "localhost",
    ]));
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("forwarding failed"),
        "{}",
        stderr(&out)
    );

    // -L: ssh listens locally; a connection through it is refused by folio.
    let local = free_port();
    let mut ssh = server
        .ssh()
        .args([
            "-N",
            "-L",
            &format!("{local}:127.0.0.1:{}", server.port),
            "localhost",
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stream = poll(|| {
        TcpStream::connect(("127.0.0.1", local)).map_err(|_| "ssh -L never listened".to_owned())
    });
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut buf = Vec::new();
    let start = Instant::now();
    let read = stream.read_to_end(&mut buf);
    assert!(read.is_ok() && buf.is_empty(), "{read:?} {buf:?}");
    assert!(start.elapsed() < Duration::from_secs(2));
    server.wait_log("refused request addr=127.0.0.1");
    server.wait_log("direct-tcpip");
    let _ = ssh.kill();
    let _ = ssh.wait();
}

/// Whether a captured screen has any foreground or background colour.
fn has_colour(styled: &str) -> bool {
    styled
        .split("\x1b[")
        .skip(1)
        .filter_map(|s| s.split_once('m').map(|(params, _)| params))
        .any(|params| {
            params.split(';').any(|p| {
                matches!(p.parse::<u32>(), Ok(n) if (30..=38).contains(&n)
                    || (40..=48).contains(&n)
                    || (90..=107).contains(&n))
            })
        })
}

#[test]
fn no_color_from_the_client_turns_colour_off() {
    if !tools::have(&["tmux", "ssh"]) {
        return;
    }
    let blog = fixtures::blog();
    let server = Server::start(blog.path(), &[]);
    let coloured = server.visitor(100, 30);
    coloured.wait_text("Bravo");
    assert!(
        has_colour(&coloured.styled_screen()),
        "{:?}",
        coloured.styled_screen()
    );

    let plain = Tmux::start(&server.ssh_line("-o SetEnv=NO_COLOR=1"), 100, 30);
    plain.wait_text("Bravo");
    let styled = plain.styled_screen();
    assert!(!has_colour(&styled), "{styled:?}");
    // An environment variable outside the list is refused, and harmless.
    let other = Tmux::start(&server.ssh_line("-o SetEnv=LD_PRELOAD=/x.so"), 100, 30);
    other.wait_text("Bravo");
}

/// The `host key SHA256:…` part of the start-up text.
fn host_key_line(banner: &str) -> String {
    banner
        .lines()
        .find(|l| l.starts_with("host key "))
        .and_then(|l| l.split_whitespace().nth(2))
        .unwrap()
        .to_owned()
}

#[test]
fn the_host_key_is_made_once_and_kept() {
    if !tools::have(&["ssh", "kill"]) {
        return;
    }
    let blog = fixtures::blog();
    let dir = tempfile::tempdir().unwrap();
    let dir_path = dir.path().to_path_buf();
    let known = dir_path.join("known_hosts");
    let mut server = Server::start_in(dir, blog.path(), &[]);
    assert!(server.banner.contains("created now"), "{}", server.banner);
    let first = host_key_line(&server.banner);
    let key = dir_path.join("data/folio/ssh_host_ed25519_key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // A first visit records the key.
    let known_opt = format!("UserKnownHostsFile={}", known.display());
    let (out, _) = run(server.ssh().args([
        "-o",
        "StrictHostKeyChecking=accept-new",
        "-o",
        &known_opt,
        "localhost",
        "true",
    ]));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(server.terminate().success());
    // Keep the folder: hand it to the next server.
    let dir = std::mem::replace(&mut server.dir, tempfile::tempdir().unwrap());
    drop(server);

    let server = Server::start_in(dir, blog.path(), &[]);
    assert!(!server.banner.contains("created now"), "{}", server.banner);
    assert_eq!(host_key_line(&server.banner), first);
    // Strict checking against the recorded key passes.
    let (out, _) = run(server.ssh().args([
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        &known_opt,
        "localhost",
        "true",
    ]));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("runs no commands"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_corrupt_host_key_stops_the_server_and_is_kept() {
    let blog = fixtures::blog();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key");
    std::fs::write(&key, "-----BEGIN OPENSSH PRIVATE KEY-----\ngarbage\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_folio"))
        .arg("serve")
        .arg(blog.path())
        .args(["--listen", "127.0.0.1:0", "--host-key"])
        .arg(&key)
        .env("XDG_DATA_HOME", dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("not a usable OpenSSH private key"), "{err}");
    assert!(
        std::fs::read_to_string(&key).unwrap().contains("garbage"),
        "the key was replaced"
    );
}

/// The server ended the visitor's session with `message`, and the
/// terminal is back as it was.
fn assert_sent_off(t: &Tmux, message: &str) {
    let s = t.wait_text("EXITED");
    assert!(s.contains(message), "{s}");
    t.assert_restored();
}

#[test]
fn sigterm_says_goodbye_to_every_visitor() {
    if !tools::have(&["tmux", "ssh", "kill"]) {
        return;
    }
    let blog = fixtures::blog();
    let mut server = Server::start(blog.path(), &[]);
    let a = server.visitor(100, 30);
    let b = server.visitor(80, 24);
    a.wait_text("Bravo");
    b.wait_text("Bravo");
    b.keys(&["Enter"]);
    b.wait_text("Paragraph 1 of section One");
    let status = server.terminate();
    assert!(status.success(), "{status:?}");
    for t in [&a, &b] {
        assert_sent_off(t, "the server is shutting down");
    }
}

#[test]
fn sigint_says_goodbye_too() {
    if !tools::have(&["tmux", "ssh", "kill"]) {
        return;
    }
    let blog = fixtures::blog();
    let mut server = Server::start(blog.path(), &[]);
    let t = server.visitor(100, 30);
    t.wait_text("Bravo");
    assert!(server.signal("-INT").success());
    assert_sent_off(&t, "the server is shutting down");
}

#[test]
fn an_idle_visitor_is_told_and_disconnected() {
    if !tools::have(&["tmux", "ssh"]) {
        return;
    }
    let blog = fixtures::blog();
    let server = Server::start(blog.path(), &["--idle-timeout", "1"]);
    let t = server.visitor(100, 30);
    t.wait_text("Bravo");
    assert_sent_off(&t, "without a key press");
}

#[test]
fn a_half_open_connection_is_cut_at_the_handshake_deadline() {
    let blog = fixtures::blog();
    let server = Server::start(blog.path(), &["--handshake-timeout", "1"]);
    let mut idle = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    idle.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let start = Instant::now();
    let mut buf = Vec::new();
    // The server's banner, then the end of the stream: nothing was sent.
    let read = idle.read_to_end(&mut buf);
    assert!(read.is_ok(), "{read:?}");
    assert!(buf.starts_with(b"SSH-2.0-folio"), "{buf:?}");
    let took = start.elapsed();
    assert!(took < Duration::from_secs(4), "{took:?}");
    assert!(took >= Duration::from_millis(900), "{took:?}");
}

/// `ssh-keygen` makes a key pair in `dir` named `name`.
fn keygen(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&path)
        .stdin(Stdio::null())
        .status()
        .expect("ssh-keygen runs");
    assert!(status.success());
    path
}

#[test]
fn private_mode_lets_a_listed_key_in_and_keeps_others_out() {
    if !tools::have(&["ssh", "ssh-keygen"]) {
        return;
    }
    let blog = fixtures::blog();
    let keys = tempfile::tempdir().unwrap();
    let listed = keygen(keys.path(), "listed");
    let other = keygen(keys.path(), "other");
    let authorized = keys.path().join("authorized_keys");
    std::fs::copy(listed.with_extension("pub"), &authorized).unwrap();
    let server = Server::start(
        blog.path(),
        &["--authorized-keys", authorized.to_str().unwrap()],
    );
    assert!(
        server.banner.contains("private mode: 1 authorized keys"),
        "{}",
        server.banner
    );
    let with_key = |key: &Path| {
        let mut c = server.ssh();
        c.args(["-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-i"])
            .arg(key)
            .args(["localhost", "true"]);
        run(&mut c).0
    };
    // In: the login works (and the command is refused as always).
    let out = with_key(&listed);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("runs no commands"),
        "{}",
        stderr(&out)
    );
    // Out: no login at all.
    let out = with_key(&other);
    assert_eq!(out.status.code(), Some(255), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Permission denied"),
        "{}",
        stderr(&out)
    );
    // No key: `none` is not enough.
    let (out, _) = run(server
        .ssh()
        .args(["-o", "PubkeyAuthentication=no", "localhost", "true"]));
    assert_eq!(out.status.code(), Some(255), "{}", stderr(&out));
    let log = server.wait_log("key not authorized");
    assert!(log.contains("SHA256:"), "{log}");
    assert!(!log.contains("AAAA"), "key material in the log:\n{log}");
}

/// `folio serve ARGS` that must fail at start: its stderr.
fn failed_start(args: &[&str]) -> String {
    let blog = fixtures::blog();
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_folio"))
        .arg("serve")
        .arg(blog.path())
        .args(args)
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .env("XDG_DATA_HOME", dir.path().join("data"))
        .env("XDG_CACHE_HOME", dir.path().join("cache"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "nothing announced");
    stderr(&out)
}

#[test]
fn start_up_problems_are_one_clear_line() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let err = failed_start(&["--listen", &addr]);
    assert!(
        err.contains(&format!("folio: cannot listen on {addr}")),
        "{err}"
    );
    let err = failed_start(&["--listen", "nowhere"]);
    assert!(err.contains("cannot listen on nowhere"), "{err}");
    let keys = tempfile::tempdir().unwrap();
    let empty = keys.path().join("authorized_keys");
    std::fs::write(&empty, "# nobody yet\n").unwrap();
    let err = failed_start(&[
        "--listen",
        "127.0.0.1:0",
        "--authorized-keys",
        empty.to_str().unwrap(),
    ]);
    assert!(err.contains("lists no keys"), "{err}");
    let missing = keys.path().join("missing");
    let err = failed_start(&[
        "--listen",
        "127.0.0.1:0",
        "--authorized-keys",
        missing.to_str().unwrap(),
    ]);
    assert!(err.contains("cannot read the authorized keys"), "{err}");
}

#[test]
fn a_new_post_reaches_every_visitor() {
    if !tools::have(&["tmux", "ssh"]) {
        return;
    }
    let blog = fixtures::blog();
    let server = Server::start(blog.path(), &[]);
    let a = server.visitor(100, 30);
    let b = server.visitor(100, 30);
    a.wait_text("Bravo");
    b.wait_text("Bravo");
    std::fs::write(
        blog.path().join("foxtrot.md"),
        "---\ntitle: Foxtrot arrives\ndate: 2025-06-01\n---\n\nFresh text.\n",
    )
    .unwrap();
    a.wait_text("Foxtrot arrives");
    b.wait_text("Foxtrot arrives");
    // A link out of the folder is never listed, reload or not.
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.md"), "# Secret outside\n").unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("secret.md"),
        blog.path().join("leak.md"),
    )
    .unwrap();
    std::fs::write(
        blog.path().join("golf.md"),
        "---\ntitle: Golf after the link\ndate: 2025-06-02\n---\n\nText.\n",
    )
    .unwrap();
    let s = a.wait_text("Golf after the link");
    assert!(!s.contains("Secret outside") && !s.contains("Leak"), "{s}");
}

#[test]
fn a_visitor_copies_a_code_block_and_keeps_bookmarks_for_the_session() {
    if !tools::have(&["tmux", "ssh"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("post.md"),
        "---\ntitle: Coded\ndate: 2025-01-01\n---\n\n# Run it\n\n```sh\nmake install\n```\n\nThat is all.\n",
    )
    .unwrap();
    let server = Server::start(dir.path(), &[]);
    let t = server.visitor(100, 30);
    t.keep_clipboard();
    t.wait_text("Coded");
    t.keys(&["Enter"]);
    t.wait_text("make install");
    t.keys(&["y"]);
    t.wait_text("Copy a link's URL or a code block");
    t.keys(&["a"]);
    t.wait_text("Copied 1 line of code to the clipboard");
    t.wait_buffer("make install");
    t.keys(&["B"]);
    t.wait_text("Bookmarked");
    t.keys(&["'"]);
    let s = t.wait_text("Bookmarks (1)");
    assert!(s.contains("Run it"), "{s}");
    t.keys(&["Escape", "q"]);
    t.wait_text("EXITED 0");
    t.assert_restored();
}

#[test]
fn a_visitor_copies_a_web_link_with_osc_52_and_cannot_edit() {
    if !tools::have(&["tmux", "ssh"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("post.md"),
        "---\ntitle: Linked\ndate: 2025-01-01\n---\n\nSee [the site](https://example.com/page?a=1) for more.\n",
    )
    .unwrap();
    let server = Server::start(dir.path(), &[]);
    let t = server.visitor(100, 30);
    t.keep_clipboard();
    t.wait_text("Linked");
    t.keys(&["Enter"]);
    t.wait_text("See the site for more.");
    t.keys(&["F"]);
    t.wait_text("Follow a link: type its hint");
    t.keys(&["a"]);
    t.wait_text("Copied https://example.com/page?a=1 to the clipboard");
    t.wait_buffer("https://example.com/page?a=1");
    // No editor runs on the server.
    t.keys(&["e"]);
    let s = t.wait_text("Editing is off in a remote session");
    assert!(s.contains("See the site for more."), "{s}");
    t.keys(&["q"]);
    t.wait_text("EXITED 0");
    t.assert_restored();
}
