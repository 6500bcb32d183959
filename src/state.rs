//! Reading state: per post, where the reader was and whether the post has
//! been read; per folder, the post open last. Kept in
//! `<data dir>/folio/state.yaml`.
//!
//! The app knows only [`Reading`] (what it starts from) and
//! [`ReadingChanges`] (what changed since it was last asked); it has no clock
//! and does no I/O. A runner loads the file once with [`StateFile::load`]
//! and hands changes to a [`Saver`], whose thread stamps nothing, waits for a
//! burst of changes to end, then merges them into the file under a lock and
//! replaces it atomically. Each entry carries the time the runner saw it
//! change, so two folio processes reading at once keep each other's entries
//! and the newer of two versions of one entry wins.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::{self, JoinHandle};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::store;

/// The largest state file folio reads: far more than any reader's history
/// (an entry is ~150 bytes), small enough to parse in a blink.
pub const MAX_BYTES: u64 = 8 << 20;
/// How long the saver waits for more changes before writing.
pub const QUIET: Duration = Duration::from_millis(300);
/// The folder key of folio's built-in posts.
pub const EMBEDDED: &str = "(built-in posts)";

/// What is remembered of one post.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Mark {
    pub read: bool,
    /// Source byte offset (into the body) of the reader's top line.
    pub offset: usize,
    /// The text at `offset`, to find the place again after an edit.
    pub snippet: String,
}

/// A place a reader kept in a post (`B`): anchored like a reading position
/// (a source offset and the text there, found again after an edit), with
/// what the bookmark list shows of it, taken when it was made.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bookmark {
    /// Source byte offset (into the body) of the line that was on top.
    pub offset: usize,
    /// The text at `offset`, to find the place again after an edit.
    #[serde(default)]
    pub snippet: String,
    /// The heading the place is under (empty above the first).
    #[serde(default)]
    pub heading: String,
    /// A few words of the text there.
    #[serde(default)]
    pub words: String,
}

/// Most bookmarks kept in one post: the list stays a list.
pub const MAX_BOOKMARKS_PER_POST: usize = 100;

/// What the app starts from: the marks of one folder's posts, by
/// [`crate::posts::Post::rel_path`], the post open last, and the bookmarks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reading {
    pub posts: HashMap<PathBuf, Mark>,
    pub last: Option<PathBuf>,
    pub bookmarks: HashMap<PathBuf, Vec<Bookmark>>,
}

/// What changed since the app was last asked: whole marks, not deltas; a
/// post's bookmarks whole too (none left: an empty list).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReadingChanges {
    pub posts: Vec<(PathBuf, Mark)>,
    pub last: Option<PathBuf>,
    pub bookmarks: Vec<(PathBuf, Vec<Bookmark>)>,
}

impl ReadingChanges {
    pub fn is_empty(&self) -> bool {
        self.posts.is_empty() && self.last.is_none() && self.bookmarks.is_empty()
    }
}

/// The file, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateFile {
    #[serde(default)]
    pub version: u32,
    /// By folder: its canonical path, or [`EMBEDDED`].
    #[serde(default)]
    pub folders: BTreeMap<String, FolderState>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FolderState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<LastPost>,
    /// By path relative to the folder.
    #[serde(default)]
    pub posts: BTreeMap<String, PostEntry>,
    /// Bookmarks, by path relative to the folder.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub bookmarks: BTreeMap<String, BookmarkSet>,
}

/// One post's bookmarks, replaced whole: the newer set wins a merge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookmarkSet {
    /// Milliseconds since the Unix epoch.
    pub at: u64,
    #[serde(default)]
    pub places: Vec<Bookmark>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LastPost {
    pub post: String,
    /// Milliseconds since the Unix epoch.
    pub at: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostEntry {
    #[serde(default)]
    pub read: bool,
    #[serde(default)]
    pub offset: usize,
    #[serde(default)]
    pub snippet: String,
    /// Milliseconds since the Unix epoch: the newer entry wins a merge.
    pub at: u64,
}

/// Where one session's state goes: the file, and the folder's key in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub file: PathBuf,
    pub folder: String,
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The key folio files a folder's state under: the folder's canonical path
/// (the folder of a single post), or [`EMBEDDED`].
pub fn folder_key(posts: Option<&Path>) -> String {
    let Some(path) = posts else {
        return EMBEDDED.to_owned();
    };
    let dir = if path.is_file() {
        path.parent().unwrap_or(Path::new("."))
    } else {
        path
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    fs::canonicalize(dir)
        .unwrap_or_else(|_| dir.to_path_buf())
        .to_string_lossy()
        .into_owned()
}

impl StateFile {
    /// This folder's part, for the app.
    pub fn reading(&self, folder: &str) -> Reading {
        let Some(f) = self.folders.get(folder) else {
            return Reading::default();
        };
        Reading {
            posts: f
                .posts
                .iter()
                .map(|(k, e)| {
                    (
                        PathBuf::from(k),
                        Mark {
                            read: e.read,
                            offset: e.offset,
                            snippet: e.snippet.clone(),
                        },
                    )
                })
                .collect(),
            last: f.last.as_ref().map(|l| PathBuf::from(&l.post)),
            bookmarks: f
                .bookmarks
                .iter()
                .filter(|(_, set)| !set.places.is_empty())
                .map(|(k, set)| {
                    let mut places = set.places.clone();
                    places.truncate(MAX_BOOKMARKS_PER_POST);
                    (PathBuf::from(k), places)
                })
                .collect(),
        }
    }

    /// Puts `changes`, seen at time `at`, into folder `folder`, unless the
    /// file already has a newer version of an entry.
    pub fn apply(&mut self, folder: &str, changes: &ReadingChanges, at: u64) {
        let f = self.folders.entry(folder.to_owned()).or_default();
        for (path, mark) in &changes.posts {
            let key = path.to_string_lossy().into_owned();
            if f.posts.get(&key).is_some_and(|e| e.at > at) {
                continue;
            }
            f.posts.insert(
                key,
                PostEntry {
                    read: mark.read,
                    offset: mark.offset,
                    snippet: mark.snippet.clone(),
                    at,
                },
            );
        }
        for (path, places) in &changes.bookmarks {
            let key = path.to_string_lossy().into_owned();
            if f.bookmarks.get(&key).is_some_and(|e| e.at > at) {
                continue;
            }
            if places.is_empty() {
                f.bookmarks.remove(&key);
            } else {
                f.bookmarks.insert(
                    key,
                    BookmarkSet {
                        at,
                        places: places.clone(),
                    },
                );
            }
        }
        if let Some(last) = &changes.last
            && f.last.as_ref().is_none_or(|l| l.at <= at)
        {
            f.last = Some(LastPost {
                post: last.to_string_lossy().into_owned(),
                at,
            });
        }
    }

    /// Every entry of `other` that is newer than this file's.
    pub fn merge(&mut self, other: &StateFile) {
        for (name, theirs) in &other.folders {
            let ours = self.folders.entry(name.clone()).or_default();
            for (key, e) in &theirs.posts {
                if ours.posts.get(key).is_none_or(|o| o.at < e.at) {
                    ours.posts.insert(key.clone(), e.clone());
                }
            }
            for (key, set) in &theirs.bookmarks {
                if ours.bookmarks.get(key).is_none_or(|o| o.at < set.at) {
                    ours.bookmarks.insert(key.clone(), set.clone());
                }
            }
            if let Some(l) = &theirs.last
                && ours.last.as_ref().is_none_or(|o| o.at < l.at)
            {
                ours.last = Some(l.clone());
            }
        }
    }

    pub fn to_yaml(&self) -> String {
        let mut out = String::from(
            "# folio's reading state: positions, read marks and bookmarks, per folder.\n\
             # Safe to delete; folio rewrites it as you read.\n",
        );
        out.push_str(&serde_yaml::to_string(self).unwrap_or_default());
        out
    }

    /// Reads `path` under its lock: no file is an empty state; a file that
    /// cannot be read or parsed, or is too large, is renamed aside (e.g.
    /// `state.yaml.corrupt-1`) and the warning says so.
    pub fn load(path: &Path) -> (StateFile, Option<String>) {
        let _lock = match Lock::take(path) {
            Ok(l) => Some(l),
            Err(e) => {
                tracing::warn!(error = %e, "cannot lock the reading state");
                None
            }
        };
        read_or_set_aside(path)
    }
}

/// A lock on `<file>.lock`, held around read-merge-write so two folio
/// processes take turns; released on drop (or when the process dies).
struct Lock(#[allow(dead_code)] File);

impl Lock {
    fn take(path: &Path) -> std::io::Result<Lock> {
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(".lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path.with_file_name(name))?;
        // `flock` on Unix: advisory, and released by the kernel when the
        // process dies, so a crash never leaves the state locked.
        loop {
            match file.lock() {
                Ok(()) => return Ok(Lock(file)),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

fn read_or_set_aside(path: &Path) -> (StateFile, Option<String>) {
    let problem = match read_capped(path) {
        Ok(None) => return (StateFile::default(), None),
        Ok(Some(text)) => match serde_yaml::from_str::<Option<StateFile>>(&text) {
            Ok(state) => return (state.unwrap_or_default(), None),
            Err(e) => format!("cannot parse it ({e})"),
        },
        Err(e) => format!("cannot read it ({e})"),
    };
    let warning = match set_aside(path) {
        // What happened first: the status bar may cut the rest.
        Ok(aside) => format!(
            "Reading state set aside, starting afresh: {} {problem}; it is now {}",
            path.display(),
            aside.display()
        ),
        Err(e) => format!(
            "Reading state unusable, starting afresh: {} {problem}; cannot move it aside ({e})",
            path.display()
        ),
    };
    tracing::warn!("{}", crate::sanitize::sanitize(&warning));
    (StateFile::default(), Some(warning))
}

/// The file's text; `None` when there is no file.
fn read_capped(path: &Path) -> std::io::Result<Option<String>> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut bytes = Vec::new();
    file.take(MAX_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(std::io::Error::other(format!(
            "larger than {} MB",
            MAX_BYTES >> 20
        )));
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| std::io::Error::other("not UTF-8"))
}

/// Renames `path` to the first free `path.corrupt-N`.
fn set_aside(path: &Path) -> std::io::Result<PathBuf> {
    for n in 1..1000 {
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(format!(".corrupt-{n}"));
        let aside = path.with_file_name(name);
        if !aside.exists() {
            fs::rename(path, &aside)?;
            return Ok(aside);
        }
    }
    Err(std::io::Error::other("too many set-aside files"))
}

/// Merges `changes` (seen at `at`) into the file at `path` and replaces it
/// atomically, under the lock. Returns a warning if the file on disk had to
/// be set aside.
pub fn save(
    path: &Path,
    folder: &str,
    changes: &[(ReadingChanges, u64)],
) -> Result<Option<String>, store::StoreError> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|source| store::StoreError {
            path: path.to_path_buf(),
            source,
        })?;
    }
    let _lock = Lock::take(path).map_err(|source| store::StoreError {
        path: path.to_path_buf(),
        source,
    })?;
    let (mut state, warning) = read_or_set_aside(path);
    state.version = 1;
    for (c, at) in changes {
        state.apply(folder, c, *at);
    }
    store::atomic_write(path, state.to_yaml().as_bytes())?;
    Ok(warning)
}

enum Msg {
    Changes(ReadingChanges, u64),
    Finish,
}

/// The writer thread: changes go in without waiting; it writes once a burst
/// of them has been quiet for [`QUIET`], and once more on [`Saver::finish`].
#[derive(Debug)]
pub struct Saver {
    tx: Sender<Msg>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Msg")
    }
}

impl Saver {
    /// Starts the thread for the state of one folder. `warn` hears about
    /// failures (the runner shows them).
    pub fn spawn(place: Place, warn: impl Fn(String) + Send + 'static) -> Saver {
        let (tx, rx) = mpsc::channel();
        let thread = thread::spawn(move || saver_thread(&rx, &place.file, &place.folder, &warn));
        Saver {
            tx,
            thread: Some(thread),
        }
    }

    /// Queues `changes`, stamped now.
    pub fn submit(&self, changes: ReadingChanges) {
        if !changes.is_empty() {
            let _ = self.tx.send(Msg::Changes(changes, now_ms()));
        }
    }

    /// Writes what is queued and waits for it.
    pub fn finish(mut self) {
        let _ = self.tx.send(Msg::Finish);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn saver_thread(rx: &Receiver<Msg>, path: &Path, folder: &str, warn: &dyn Fn(String)) {
    let mut queued: Vec<(ReadingChanges, u64)> = Vec::new();
    // What a failed write could not save goes with the next one.
    let mut unsaved: Vec<(ReadingChanges, u64)> = Vec::new();
    // A data folder that stays unwritable is said once, not every scroll.
    let mut said: Option<String> = None;
    loop {
        let msg = if queued.is_empty() {
            rx.recv().map_err(|_| RecvTimeoutError::Disconnected)
        } else {
            rx.recv_timeout(QUIET)
        };
        let finish = match msg {
            Ok(Msg::Changes(c, at)) => {
                queued.push((c, at));
                continue;
            }
            Ok(Msg::Finish) | Err(RecvTimeoutError::Disconnected) => true,
            Err(RecvTimeoutError::Timeout) => false,
        };
        if !queued.is_empty() {
            let mut batch = std::mem::take(&mut unsaved);
            batch.append(&mut queued);
            let batch = coalesce(batch);
            let started = std::time::Instant::now();
            let result = save(path, folder, &batch);
            tracing::debug!(
                save_ms = started.elapsed().as_secs_f64() * 1000.0,
                "saved the reading state"
            );
            let warning = match result {
                Ok(w) => w,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot save the reading state");
                    unsaved = batch;
                    Some(e.to_string())
                }
            };
            if let Some(w) = warning
                && said.as_ref() != Some(&w)
            {
                warn(w.clone());
                said = Some(w);
            }
        }
        if finish {
            return;
        }
    }
}

/// One entry per post: the latest of a burst.
fn coalesce(queued: Vec<(ReadingChanges, u64)>) -> Vec<(ReadingChanges, u64)> {
    let mut seen = HashSet::new();
    let mut seen_bookmarks = HashSet::new();
    let mut last_seen = false;
    let mut out: Vec<(ReadingChanges, u64)> = Vec::new();
    for (mut c, at) in queued.into_iter().rev() {
        c.posts.retain(|(p, _)| seen.insert(p.clone()));
        c.bookmarks
            .retain(|(p, _)| seen_bookmarks.insert(p.clone()));
        if last_seen {
            c.last = None;
        }
        last_seen |= c.last.is_some();
        if !c.is_empty() {
            out.push((c, at));
        }
    }
    out.reverse();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(read: bool, offset: usize) -> Mark {
        Mark {
            read,
            offset,
            snippet: format!("text at {offset}: \"quoted\" and: colon\n"),
        }
    }

    fn changes(posts: &[(&str, Mark)], last: Option<&str>) -> ReadingChanges {
        ReadingChanges {
            posts: posts
                .iter()
                .map(|(p, m)| (PathBuf::from(p), m.clone()))
                .collect(),
            last: last.map(PathBuf::from),
            bookmarks: Vec::new(),
        }
    }

    #[test]
    fn bookmarks_round_trip_and_the_newer_set_wins() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.yaml");
        let place = |offset: usize| Bookmark {
            offset,
            snippet: format!("words at {offset}: \"quoted\"\n"),
            heading: "Setup".into(),
            words: "words at".into(),
        };
        let first = ReadingChanges {
            bookmarks: vec![(PathBuf::from("a.md"), vec![place(10), place(40)])],
            ..ReadingChanges::default()
        };
        save(&path, "/blog", &[(first, 100)]).unwrap();
        let (state, warning) = StateFile::load(&path);
        assert_eq!(warning, None);
        let reading = state.reading("/blog");
        assert_eq!(
            reading.bookmarks.get(Path::new("a.md")),
            Some(&vec![place(10), place(40)])
        );
        // An older set loses; a newer empty one removes the post's entry.
        let older = ReadingChanges {
            bookmarks: vec![(PathBuf::from("a.md"), vec![place(99)])],
            ..ReadingChanges::default()
        };
        save(&path, "/blog", &[(older, 50)]).unwrap();
        let (state, _) = StateFile::load(&path);
        assert_eq!(state.reading("/blog").bookmarks[Path::new("a.md")].len(), 2);
        let cleared = ReadingChanges {
            bookmarks: vec![(PathBuf::from("a.md"), Vec::new())],
            ..ReadingChanges::default()
        };
        save(&path, "/blog", &[(cleared, 200)]).unwrap();
        let (state, _) = StateFile::load(&path);
        assert!(state.reading("/blog").bookmarks.is_empty());
        assert!(
            !std::fs::read_to_string(&path)
                .unwrap()
                .contains("bookmarks:")
        );
    }

    #[test]
    fn round_trips_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("folio").join("state.yaml");
        let c = changes(
            &[("a.md", mark(true, 10)), ("sub/b.md", mark(false, 0))],
            Some("sub/b.md"),
        );
        assert_eq!(save(&path, "/blog", &[(c, 5)]).unwrap(), None);
        let (state, warning) = StateFile::load(&path);
        assert_eq!(warning, None);
        let r = state.reading("/blog");
        assert_eq!(r.posts[Path::new("a.md")], mark(true, 10));
        assert_eq!(r.posts[Path::new("sub/b.md")], mark(false, 0));
        assert_eq!(r.last.as_deref(), Some(Path::new("sub/b.md")));
        assert_eq!(state.reading("/other"), Reading::default());
        // Another folder's entries are kept alongside.
        let c = changes(&[("a.md", mark(false, 3))], None);
        save(&path, "/other", &[(c, 6)]).unwrap();
        let (state, _) = StateFile::load(&path);
        assert_eq!(state.reading("/blog").posts.len(), 2);
        assert_eq!(
            state.reading("/other").posts[Path::new("a.md")],
            mark(false, 3)
        );
    }

    #[test]
    fn the_newer_entry_wins() {
        let mut s = StateFile::default();
        s.apply("/f", &changes(&[("a.md", mark(true, 1))], Some("a.md")), 20);
        s.apply(
            "/f",
            &changes(&[("a.md", mark(false, 2))], Some("b.md")),
            10,
        );
        assert_eq!(s.reading("/f").posts[Path::new("a.md")], mark(true, 1));
        assert_eq!(s.reading("/f").last.as_deref(), Some(Path::new("a.md")));
        let mut other = StateFile::default();
        other.apply("/f", &changes(&[("a.md", mark(false, 9))], None), 30);
        other.apply("/g", &changes(&[("c.md", mark(true, 0))], None), 1);
        s.merge(&other);
        assert_eq!(s.reading("/f").posts[Path::new("a.md")], mark(false, 9));
        assert_eq!(s.reading("/g").posts.len(), 1);
    }

    #[test]
    fn a_corrupt_file_is_set_aside_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.yaml");
        fs::write(&path, "folders: [this is: not {what we wrote").unwrap();
        let (state, warning) = StateFile::load(&path);
        assert_eq!(state, StateFile::default());
        let warning = warning.expect("a warning");
        assert!(warning.starts_with("Reading state set aside"), "{warning}");
        assert!(warning.contains("state.yaml.corrupt-1"), "{warning}");
        assert!(!path.exists());
        assert_eq!(
            fs::read_to_string(dir.path().join("state.yaml.corrupt-1")).unwrap(),
            "folders: [this is: not {what we wrote"
        );
        // A second bad file goes next to the first, not over it.
        fs::write(&path, [0xff, 0xfe, 0]).unwrap();
        let (_, warning) = StateFile::load(&path);
        assert!(warning.unwrap().contains("corrupt-2"));
        // Saving over a bad file sets it aside too, and the new file is good.
        fs::write(&path, "version: [").unwrap();
        let w = save(
            &path,
            "/f",
            &[(changes(&[("a.md", mark(true, 0))], None), 1)],
        )
        .unwrap();
        assert!(w.unwrap().contains("corrupt-3"));
        assert_eq!(StateFile::load(&path).1, None);
    }

    #[test]
    fn an_oversized_file_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.yaml");
        let f = File::create(&path).unwrap();
        f.set_len(MAX_BYTES + 1).unwrap();
        let (state, warning) = StateFile::load(&path);
        assert_eq!(state, StateFile::default());
        assert!(warning.unwrap().contains("larger than 8 MB"));
    }

    #[test]
    fn an_empty_file_is_an_empty_state() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.yaml");
        fs::write(&path, "").unwrap();
        assert_eq!(StateFile::load(&path), (StateFile::default(), None));
    }

    #[test]
    fn a_burst_coalesces_to_the_latest_of_each_entry() {
        let q = vec![
            (changes(&[("a.md", mark(false, 1))], Some("a.md")), 1),
            (
                changes(&[("a.md", mark(false, 2)), ("b.md", mark(true, 0))], None),
                2,
            ),
            (changes(&[("a.md", mark(true, 3))], Some("b.md")), 3),
        ];
        let out = coalesce(q);
        let mut s = StateFile::default();
        for (c, at) in &out {
            s.apply("/f", c, *at);
        }
        let r = s.reading("/f");
        assert_eq!(r.posts[Path::new("a.md")], mark(true, 3));
        assert_eq!(r.posts[Path::new("b.md")], mark(true, 0));
        assert_eq!(r.last.as_deref(), Some(Path::new("b.md")));
        assert_eq!(out.iter().map(|(c, _)| c.posts.len()).sum::<usize>(), 2);
    }

    /// Two writers (as two folio processes would, each with its own saver
    /// thread and the file lock between them) write many times: the file
    /// always parses, and no entry is lost.
    #[test]
    fn concurrent_writers_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.yaml");
        let rounds = 60;
        let writers: Vec<_> = ["one", "two"]
            .into_iter()
            .map(|who| {
                let path = path.clone();
                thread::spawn(move || {
                    for i in 0..rounds {
                        let c = changes(&[(&format!("{who}-{i}.md"), mark(i % 2 == 0, i))], None);
                        assert_eq!(save(&path, "/f", &[(c, now_ms())]).unwrap(), None);
                        let text = fs::read_to_string(&path).unwrap();
                        serde_yaml::from_str::<StateFile>(&text).expect("always parses");
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        let (state, warning) = StateFile::load(&path);
        assert_eq!(warning, None);
        let r = state.reading("/f");
        assert_eq!(r.posts.len(), 2 * rounds);
        assert_eq!(r.posts[Path::new("two-7.md")], mark(false, 7));
    }

    #[test]
    fn a_failed_save_warns_once_and_is_retried_with_the_next() {
        use std::sync::{Arc, Mutex};
        let dir = tempfile::tempdir().unwrap();
        // A file where the data folder should be: no write can succeed
        // (even as root) until it is a folder.
        let data = dir.path().join("data");
        fs::write(&data, "not a folder").unwrap();
        let path = data.join("state.yaml");
        let warnings = Arc::new(Mutex::new(Vec::new()));
        let heard = Arc::clone(&warnings);
        let place = Place {
            file: path.clone(),
            folder: "/f".into(),
        };
        let saver = Saver::spawn(place, move |w| heard.lock().unwrap().push(w));
        let warned = |n: usize| {
            let start = std::time::Instant::now();
            while warnings.lock().unwrap().len() < n {
                assert!(start.elapsed() < Duration::from_secs(10));
                thread::sleep(Duration::from_millis(10));
            }
        };
        saver.submit(changes(&[("a.md", mark(true, 1))], None));
        warned(1);
        saver.submit(changes(&[("b.md", mark(true, 2))], None));
        // The second failure is written after a quiet spell; give it one.
        thread::sleep(QUIET * 3);
        fs::remove_file(&data).unwrap();
        fs::create_dir(&data).unwrap();
        saver.submit(changes(&[("c.md", mark(true, 3))], None));
        saver.finish();
        let warnings = warnings.lock().unwrap();
        assert_eq!(warnings.len(), 1, "said once: {warnings:?}");
        assert!(warnings[0].starts_with("cannot save"), "{warnings:?}");
        let r = StateFile::load(&path).0.reading("/f");
        assert_eq!(r.posts.len(), 3, "nothing dropped: {r:?}");
    }

    #[test]
    fn the_saver_writes_after_a_quiet_spell_and_on_finish() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.yaml");
        let place = Place {
            file: path.clone(),
            folder: "/f".into(),
        };
        let saver = Saver::spawn(place, |w| panic!("{w}"));
        for i in 0..50 {
            saver.submit(changes(&[("a.md", mark(false, i))], Some("a.md")));
        }
        saver.finish();
        let (state, _) = StateFile::load(&path);
        assert_eq!(
            state.reading("/f").posts[Path::new("a.md")],
            mark(false, 49)
        );
    }
}
