//! `folio serve` reads nothing outside its folder: not when it reloads, and
//! not when a link inside is swapped while a post is being opened.

#![cfg(unix)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use folio::action::Report;
use folio::keymap::Keymap;
use folio::posts;
use folio::ssh::{Look, Site};
use notify::event::AccessKind;
use notify::{EventKind, RecursiveMode, Watcher};

/// A folder outside the served one, with a post in it and one deeper.
fn outside() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("secret.md"), "# SECRET outside\n").unwrap();
    std::fs::create_dir(dir.path().join("deep")).unwrap();
    std::fs::write(dir.path().join("deep/also.md"), "# SECRET too\n").unwrap();
    dir
}

/// Files under `dir` opened from now on, as inotify sees them (folders
/// are opened to be listed or watched; only files count).
fn opened_files(
    dir: &Path,
) -> (
    notify::RecommendedWatcher,
    std::sync::mpsc::Receiver<PathBuf>,
) {
    let (tx, rx) = std::sync::mpsc::channel();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && matches!(event.kind, EventKind::Access(AccessKind::Open(_)))
        {
            for path in event.paths {
                if path.extension().is_some_and(|e| e == "md") {
                    let _ = tx.send(path);
                }
            }
        }
    })
    .unwrap();
    watcher.watch(dir, RecursiveMode::Recursive).unwrap();
    (watcher, rx)
}

#[test]
fn a_reload_opens_nothing_outside_the_folder() {
    let blog = tempfile::tempdir().unwrap();
    std::fs::write(blog.path().join("a.md"), "# A\n\nInside.\n").unwrap();
    let out = outside();
    std::os::unix::fs::symlink(out.path().join("secret.md"), blog.path().join("leak.md")).unwrap();
    std::os::unix::fs::symlink(out.path(), blog.path().join("elsewhere")).unwrap();
    let (_watcher, opened) = opened_files(out.path());
    let xdg = tempfile::tempdir().unwrap();
    let log = xdg.path().join("server.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_folio"))
        .arg("serve")
        .arg(blog.path())
        .args(["--listen", "127.0.0.1:0"])
        .env("XDG_CONFIG_HOME", xdg.path().join("config"))
        .env("XDG_DATA_HOME", xdg.path().join("data"))
        .env("XDG_CACHE_HOME", xdg.path().join("cache"))
        .env("FOLIO_LOG", "folio=debug")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("stop with") {
        line.clear();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "folio serve exited"
        );
    }
    // A change in the folder: the live reload scans it again.
    std::fs::write(blog.path().join("b.md"), "# B\n\nNew.\n").unwrap();
    let start = Instant::now();
    while !std::fs::read_to_string(&log)
        .unwrap()
        .contains("reloaded the posts folder")
    {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no reload:\n{}",
            std::fs::read_to_string(&log).unwrap()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // inotify reports soon after; a second is plenty.
    let leaked: Vec<PathBuf> =
        std::iter::from_fn(|| opened.recv_timeout(Duration::from_secs(1)).ok())
            .take(10)
            .collect();
    let _ = child.kill();
    let _ = child.wait();
    assert!(leaked.is_empty(), "opened outside the folder: {leaked:?}");
}

/// A link inside the folder is swapped, as fast as can be, between a post
/// inside and a file outside while visitors open it: what they get is the
/// post inside or an error, never the file outside.
#[test]
fn a_link_swapped_while_a_post_opens_never_leaks() {
    let blog = tempfile::tempdir().unwrap();
    let out = outside();
    std::fs::write(blog.path().join("inside.md"), "# Inside\n\nFine.\n").unwrap();
    let link = blog.path().join("link.md");
    std::os::unix::fs::symlink(blog.path().join("inside.md"), &link).unwrap();
    let list = posts::scan_with(blog.path(), posts::Links::Confined).unwrap();
    let post = list
        .iter()
        .find(|p| p.rel_path == Path::new("link.md"))
        .unwrap()
        .clone();
    let site = Site::new(
        list,
        Some(blog.path().to_path_buf()),
        Keymap::default(),
        Look::Fixed(Box::default()),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let (stop, link) = (stop.clone(), link.clone());
        let targets = [out.path().join("secret.md"), blog.path().join("inside.md")];
        let temp = blog.path().join(".swap");
        std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let _ = std::fs::remove_file(&temp);
                std::os::unix::fs::symlink(&targets[i % 2], &temp).unwrap();
                std::fs::rename(&temp, &link).unwrap();
                i += 1;
            }
        })
    };
    let mut read = 0;
    let start = Instant::now();
    let mut leaked = None;
    while read < 2000 && start.elapsed() < Duration::from_secs(10) {
        // Forget what was read, so every try opens the file again.
        site.broadcast(Report::Notify(String::new()));
        if let Ok(source) = site.source(&post) {
            read += 1;
            if source.text.contains("SECRET") {
                leaked = Some(read);
                break;
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    swapper.join().unwrap();
    assert_eq!(leaked, None, "the file outside was read");
    assert!(read > 100, "the post inside was read only {read} times");
}
