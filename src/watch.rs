//! Live reload: the posts folder is watched (the `notify` crate) and, once a
//! burst of changes has been quiet for [`QUIET`], scanned again on this
//! module's thread, never the UI's. What changed reaches the app as
//! [`Report`]s: [`Report::PostsChanged`] with the new list, then
//! [`Report::PostChanged`] for each post file that was written.
//!
//! Any number of runners can subscribe to one [`Watch`] (the local terminal,
//! each `folio serve` session): each gets the same actions through its own
//! sink, and a sink that reports its receiver gone is dropped.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use notify::event::{AccessKind, AccessMode};
use notify::{Event, EventKind, RecursiveMode, Watcher as _};
use thiserror::Error;

use crate::action::Report;
use crate::posts::{self, Links};

/// How long a burst of changes must be quiet before the folder is scanned:
/// an editor's save is several events (write, rename, chmod) within a few
/// milliseconds.
pub const QUIET: Duration = Duration::from_millis(200);
/// The longest a steady stream of changes delays a reload.
pub const MAX_DELAY: Duration = Duration::from_secs(2);

#[derive(Debug, Error)]
#[error("not watching {} for changes: {source}", path.display())]
pub struct WatchError {
    pub path: PathBuf,
    #[source]
    pub source: notify::Error,
}

/// Receives a watch's actions; returns false once its runner is gone.
pub type Sink = Box<dyn Fn(Report) -> bool + Send>;

/// A watched posts folder (or single post). Watching stops on drop.
pub struct Watch {
    sinks: Arc<Mutex<Vec<Sink>>>,
    _watcher: notify::RecommendedWatcher,
}

impl std::fmt::Debug for Watch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watch").finish_non_exhaustive()
    }
}

impl Watch {
    /// Starts watching `path`, a folder (recursively) or one post file (its
    /// folder, for that file only: editors often save by replacing it).
    pub fn start(path: &Path) -> Result<Watch, WatchError> {
        Watch::start_with(path, Links::Follow)
    }

    /// [`Watch::start`], rescanning as `links` says: `folio serve` watches
    /// with [`Links::Confined`], so a reload reads no file outside the
    /// folder, as the first scan did not.
    pub fn start_with(path: &Path, links: Links) -> Result<Watch, WatchError> {
        let err = |source| WatchError {
            path: path.to_path_buf(),
            source,
        };
        let root = path.to_path_buf();
        let single = root.is_file();
        let (raw_tx, raw_rx) = mpsc::channel();
        let mut watcher = notify::recommended_watcher(move |event| {
            let _ = raw_tx.send(event);
        })
        .map_err(err)?;
        if single {
            let dir = match root.parent() {
                Some(d) if !d.as_os_str().is_empty() => d,
                _ => Path::new("."),
            };
            watcher
                .watch(dir, RecursiveMode::NonRecursive)
                .map_err(err)?;
        } else {
            // A site's post folders only (see `posts::watch_folders`).
            for folder in posts::watch_folders(&root) {
                watcher
                    .watch(&folder, RecursiveMode::Recursive)
                    .map_err(err)?;
            }
        }
        let sinks: Arc<Mutex<Vec<Sink>>> = Arc::default();
        let theirs = Arc::clone(&sinks);
        thread::Builder::new()
            .name("folio-watch".into())
            .spawn(move || {
                // Events name paths as the watcher resolved them, perhaps
                // absolute; scans keep the path as given, like the first.
                let seen_as = root.canonicalize().unwrap_or_else(|_| root.clone());
                debounce(&raw_rx, &root, &seen_as, single, links, &theirs);
            })
            .map_err(|e| err(notify::Error::io(e)))?;
        Ok(Watch {
            sinks,
            _watcher: watcher,
        })
    }

    /// Adds a runner: from now on it hears of changes through `sink`.
    pub fn subscribe(&self, sink: Sink) {
        if let Ok(mut sinks) = self.sinks.lock() {
            sinks.push(sink);
        }
    }
}

/// Waits for a burst of events to end, then scans and tells every sink.
fn debounce(
    rx: &Receiver<notify::Result<Event>>,
    root: &Path,
    seen_as: &Path,
    single: bool,
    links: Links,
    sinks: &Mutex<Vec<Sink>>,
) {
    let roots = [root, seen_as];
    loop {
        let Ok(first) = rx.recv() else { return };
        let mut changed = BTreeSet::new();
        let mut relevant = note(first, &roots, single, &mut changed);
        let start = Instant::now();
        loop {
            match rx.recv_timeout(QUIET) {
                Ok(event) => relevant |= note(event, &roots, single, &mut changed),
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => return,
            }
            if start.elapsed() > MAX_DELAY {
                break;
            }
        }
        if !relevant {
            continue;
        }
        let actions = rescan(root, links, &changed);
        let Ok(mut sinks) = sinks.lock() else { return };
        sinks.retain(|sink| actions.iter().all(|a| sink(a.clone())));
    }
}

/// The actions for one reload: the new list, then each written post.
fn rescan(root: &Path, links: Links, changed: &BTreeSet<PathBuf>) -> Vec<Report> {
    let started = Instant::now();
    match posts::scan_with(root, links) {
        Ok(list) => {
            let edited: Vec<Report> = changed
                .iter()
                .filter(|rel| list.iter().any(|p| &p.rel_path == *rel))
                .map(|rel| Report::PostChanged(rel.clone()))
                .collect();
            tracing::debug!(
                posts = list.len(),
                changed = changed.len(),
                scan_ms = started.elapsed().as_secs_f64() * 1000.0,
                "reloaded the posts folder"
            );
            std::iter::once(Report::PostsChanged(list))
                .chain(edited)
                .collect()
        }
        Err(e) => {
            let msg = format!("cannot reload: {e}");
            tracing::warn!("{}", crate::sanitize::sanitize(&msg));
            vec![Report::Notify(msg)]
        }
    }
}

/// Files `event`'s post paths (relative to the root, as
/// [`posts::Post::rel_path`]) in `changed`; true when the event can change
/// the list (not a mere read, and not about another file next to a single
/// watched post).
fn note(
    event: notify::Result<Event>,
    roots: &[&Path],
    single: bool,
    changed: &mut BTreeSet<PathBuf>,
) -> bool {
    let event = match event {
        Ok(e) => e,
        // Lost events (an overflowing queue): rescan to be sure.
        Err(e) => {
            tracing::warn!(error = %e, "watching the posts folder");
            return true;
        }
    };
    match event.kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => {}
        EventKind::Access(_) => return false,
        _ => {}
    }
    if event.need_rescan() {
        return true;
    }
    let mut relevant = false;
    for path in &event.paths {
        let rel = if single {
            if path.file_name() != roots[0].file_name() {
                continue;
            }
            PathBuf::from(roots[0].file_name().unwrap_or_default())
        } else {
            match roots.iter().find_map(|r| path.strip_prefix(r).ok()) {
                Some(rel) => rel.to_path_buf(),
                None => continue,
            }
        };
        let ext = rel.extension().and_then(|e| e.to_str());
        let post = rel
            .file_name()
            .is_some_and(|n| posts::is_post_name(&n.to_string_lossy()));
        if post {
            changed.insert(rel);
            relevant = true;
        } else if ext.is_none() || path.is_dir() {
            // Perhaps a folder of posts came or went.
            relevant = true;
        }
    }
    relevant
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::unnecessary_wraps)] // what the watcher hands over
    fn ev(kind: EventKind, paths: &[&str]) -> notify::Result<Event> {
        let mut e = Event::new(kind);
        for p in paths {
            e = e.add_path(PathBuf::from(p));
        }
        Ok(e)
    }

    /// Notes each event under `root`, checking whether it mattered; the
    /// posts that changed.
    fn noted(root: &str, single: bool, cases: &[(EventKind, &str, bool)]) -> Vec<PathBuf> {
        let mut changed = BTreeSet::new();
        for &(kind, path, relevant) in cases {
            let got = note(ev(kind, &[path]), &[Path::new(root)], single, &mut changed);
            assert_eq!(got, relevant, "{kind:?} {path}");
        }
        changed.into_iter().collect()
    }

    #[test]
    fn post_files_count_reads_and_other_files_do_not() {
        use EventKind::{Access, Create, Modify};
        use notify::event::{CreateKind, ModifyKind};
        let changed = noted(
            "/blog",
            false,
            &[
                (Modify(ModifyKind::Any), "/blog/a/x.md", true),
                (Access(AccessKind::Read), "/blog/y.md", false),
                (Create(CreateKind::File), "/blog/.x.md.swp", false),
                (Create(CreateKind::Folder), "/blog/2026", true),
            ],
        );
        assert_eq!(changed, [PathBuf::from("a/x.md")]);
        // A single post: only that file, by its name.
        let changed = noted(
            "/blog/one.md",
            true,
            &[
                (Modify(ModifyKind::Any), "/blog/two.md", false),
                (Modify(ModifyKind::Any), "/blog/one.md", true),
            ],
        );
        assert_eq!(changed, [PathBuf::from("one.md")]);
    }

    /// Collects a subscriber's actions until `done` says enough.
    fn wait_for(rx: &Receiver<Report>, done: impl Fn(&[Report]) -> bool) -> Vec<Report> {
        let mut got = Vec::new();
        let start = Instant::now();
        while !done(&got) {
            assert!(start.elapsed() < Duration::from_secs(20), "got {got:?}");
            if let Ok(a) = rx.recv_timeout(Duration::from_millis(100)) {
                got.push(a);
            }
        }
        got
    }

    fn titles(actions: &[Report]) -> Option<Vec<String>> {
        actions.iter().rev().find_map(|a| match a {
            Report::PostsChanged(list) => Some(list.iter().map(|p| p.title.clone()).collect()),
            _ => None,
        })
    }

    #[test]
    fn create_edit_and_delete_reach_every_subscriber() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::write(root.join("a.md"), "---\ntitle: A\n---\n\nText.\n").unwrap();
        let watch = Watch::start(&root).unwrap();
        let (tx1, rx1) = mpsc::channel();
        let (tx2, rx2) = mpsc::channel();
        watch.subscribe(Box::new(move |a| tx1.send(a).is_ok()));
        watch.subscribe(Box::new(move |a| tx2.send(a).is_ok()));

        std::fs::write(root.join("b.md"), "---\ntitle: B\n---\n\nMore.\n").unwrap();
        for rx in [&rx1, &rx2] {
            let got = wait_for(rx, |g| titles(g).is_some_and(|t| t.len() == 2));
            assert!(titles(&got).unwrap().contains(&"B".to_owned()));
        }

        std::fs::write(root.join("a.md"), "---\ntitle: A2\n---\n\nEdited.\n").unwrap();
        let got = wait_for(&rx1, |g| {
            g.contains(&Report::PostChanged(PathBuf::from("a.md")))
        });
        assert!(titles(&got).unwrap().contains(&"A2".to_owned()));

        // A subscriber that went away is dropped; the other still hears.
        drop(rx2);
        std::fs::remove_file(root.join("b.md")).unwrap();
        let got = wait_for(&rx1, |g| titles(g).is_some_and(|t| t.len() == 1));
        assert_eq!(titles(&got).unwrap(), ["A2"]);
    }

    #[test]
    fn a_site_reloads_from_its_post_folders() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::write(root.join("hugo.toml"), "baseURL = 'x'\n").unwrap();
        std::fs::create_dir_all(root.join("content/posts")).unwrap();
        std::fs::create_dir_all(root.join("node_modules/lib")).unwrap();
        std::fs::write(root.join("content/posts/a.md"), "---\ntitle: A\n---\n").unwrap();
        let watch = Watch::start(&root).unwrap();
        let (tx, rx) = mpsc::channel();
        watch.subscribe(Box::new(move |a| tx.send(a).is_ok()));
        std::fs::write(root.join("content/posts/b.md"), "---\ntitle: B\n---\n").unwrap();
        let got = wait_for(&rx, |g| titles(g).is_some_and(|t| t.len() == 2));
        assert!(titles(&got).unwrap().contains(&"B".to_owned()));
        std::fs::write(root.join("content/posts/a.md"), "---\ntitle: A2\n---\n").unwrap();
        wait_for(&rx, |g| {
            g.contains(&Report::PostChanged(PathBuf::from("content/posts/a.md")))
        });
    }

    #[test]
    fn a_burst_of_saves_is_one_reload() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let watch = Watch::start(&root).unwrap();
        let (tx, rx) = mpsc::channel();
        watch.subscribe(Box::new(move |a| tx.send(a).is_ok()));
        for i in 0..20 {
            std::fs::write(root.join("a.md"), format!("# Save {i}\n")).unwrap();
        }
        let got = wait_for(&rx, |g| titles(g).is_some());
        // Nothing more arrives once the burst is over.
        let more: Vec<Report> = rx.recv_timeout(QUIET * 4).into_iter().collect();
        let reloads = got
            .iter()
            .chain(&more)
            .filter(|a| matches!(a, Report::PostsChanged(_)))
            .count();
        assert_eq!(reloads, 1, "{got:?} {more:?}");
        assert_eq!(titles(&got).unwrap(), ["Save 19"]);
    }

    #[test]
    fn a_single_post_is_watched_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let file = root.join("one.md");
        std::fs::write(&file, "# One\n").unwrap();
        let watch = Watch::start(&file).unwrap();
        let (tx, rx) = mpsc::channel();
        watch.subscribe(Box::new(move |a| tx.send(a).is_ok()));
        // A neighbour changing is no reason to reload.
        std::fs::write(root.join("two.md"), "# Two\n").unwrap();
        assert!(rx.recv_timeout(QUIET * 4).is_err());
        // Saved by replacing the file, as many editors do.
        std::fs::write(root.join(".one.md.tmp"), "# One, again\n").unwrap();
        std::fs::rename(root.join(".one.md.tmp"), &file).unwrap();
        let got = wait_for(&rx, |g| {
            g.contains(&Report::PostChanged(PathBuf::from("one.md")))
        });
        assert_eq!(titles(&got).unwrap(), ["One, again"]);
    }

    #[test]
    fn a_missing_folder_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let e = Watch::start(&dir.path().join("gone")).unwrap_err();
        assert!(e.to_string().starts_with("not watching"), "{e}");
    }
}
