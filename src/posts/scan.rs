//! Reading post files (decoding, size limits), finding them in a folder,
//! the scans that list them, and the order of the list.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::date::date_from_name;
use super::{
    BODY_LIMIT, HEAD_LIMIT, Origin, Post, PostDate, PostSource, PostsError, parse_frontmatter,
    post_from_text, title_from_name,
};

/// A post that could not be read at all, listed so the user sees why.
fn unreadable_post(path: PathBuf, rel_path: PathBuf, err: &std::io::Error) -> Post {
    let mut reason = err.to_string();
    if let Some(i) = reason.find(" (os error") {
        reason.truncate(i);
    }
    Post {
        title: title_from_name(&path),
        date: date_from_name(&path),
        updated: None,
        origin: Origin::File(path),
        rel_path,
        excerpt: String::new(),
        tags: Vec::new(),
        categories: Vec::new(),
        draft: false,
        author: None,
        titled: false,
        error: Some(format!("cannot read: {reason}")),
        lossy: false,
    }
}

// ---------------------------------------------------------------------------
// Ordering

/// Newest first (time of day included); equal dates by title ignoring case,
/// then by path; undated posts last, by title.
pub fn sort_posts(posts: &mut [Post]) {
    posts.sort_by_cached_key(order_key);
}

/// Where a post goes in the list: the one definition of the order, used by
/// [`sort_posts`] and [`merge_posts`].
type OrderKey = (
    std::cmp::Reverse<bool>,
    std::cmp::Reverse<Option<PostDate>>,
    String,
    PathBuf,
);

fn order_key(p: &Post) -> OrderKey {
    (
        std::cmp::Reverse(p.date.is_some()),
        std::cmp::Reverse(p.date),
        p.title.to_lowercase(),
        p.rel_path.clone(),
    )
}

/// Merges `batch` into the sorted `list`, keeping it sorted as
/// [`sort_posts`] would: a batch of a folder read in the background joins
/// the posts already listed. Linear in the list (a binary search per new
/// post, then one pass that moves the posts), so a growing list costs the
/// thread it is merged on little.
pub fn merge_posts(list: &mut Vec<Post>, mut batch: Vec<Post>) {
    if batch.is_empty() {
        return;
    }
    sort_posts(&mut batch);
    let mut at = Vec::with_capacity(batch.len());
    let mut from = 0;
    for post in &batch {
        let key = order_key(post);
        from += list[from..].partition_point(|p| order_key(p) <= key);
        at.push(from);
    }
    let mut old = std::mem::take(list).into_iter();
    list.reserve(old.len() + batch.len());
    let mut taken = 0;
    for (post, pos) in batch.into_iter().zip(at) {
        list.extend(old.by_ref().take(pos - taken));
        taken = pos;
        list.push(post);
    }
    list.extend(old);
}

// ---------------------------------------------------------------------------
// Reading files

/// Decodes file bytes: UTF-16 by its BOM, otherwise UTF-8, lossily if need
/// be. A UTF-8 BOM is dropped. `truncated` says the bytes are a head cut at
/// an arbitrary point, so a character split there is not an encoding error.
fn decode(mut bytes: Vec<u8>, truncated: bool) -> (String, bool) {
    let utf16 = match bytes.get(..2) {
        Some([0xFF, 0xFE]) => Some(u16::from_le_bytes as fn([u8; 2]) -> u16),
        Some([0xFE, 0xFF]) => Some(u16::from_be_bytes as fn([u8; 2]) -> u16),
        _ => None,
    };
    if let Some(from_bytes) = utf16 {
        let mut units: Vec<u16> = bytes[2..]
            .chunks_exact(2)
            .map(|c| from_bytes([c[0], c[1]]))
            .collect();
        let odd = (bytes.len() - 2) % 2 == 1 && !truncated;
        if truncated && units.last().is_some_and(|u| (0xD800..0xDC00).contains(u)) {
            units.pop();
        }
        return match String::from_utf16(&units) {
            Ok(s) => (s, odd),
            Err(_) => (String::from_utf16_lossy(&units), true),
        };
    }
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    match String::from_utf8(bytes) {
        Ok(s) => (s, false),
        Err(e) => {
            let utf8 = e.utf8_error();
            let mut bytes = e.into_bytes();
            if truncated && utf8.error_len().is_none() {
                bytes.truncate(utf8.valid_up_to());
                if let Ok(s) = String::from_utf8(bytes.clone()) {
                    return (s, false);
                }
            }
            (String::from_utf8_lossy(&bytes).into_owned(), true)
        }
    }
}

/// A post's text, at most [`BODY_LIMIT`] bytes of it, cut after the last
/// line break that fits so no line is shown half.
pub(super) fn read_body(path: &Path) -> std::io::Result<(String, bool, Option<u64>)> {
    read_body_from(&fs::File::open(path)?)
}

fn read_body_from(file: &fs::File) -> std::io::Result<(String, bool, Option<u64>)> {
    read_capped(file, || file.metadata().ok().map(|m| m.len()))
}

/// Reads at most [`BODY_LIMIT`] bytes of `input` and decodes them: the
/// text, whether it was lossy, and when there was more, the whole's size
/// (`size`, when it can be known; else the bytes read, one past the limit:
/// a pipe is not read to its end).
pub(super) fn read_capped(
    mut input: impl Read,
    size: impl FnOnce() -> Option<u64>,
) -> std::io::Result<(String, bool, Option<u64>)> {
    let mut bytes = Vec::new();
    (&mut input)
        .take(BODY_LIMIT as u64 + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() <= BODY_LIMIT {
        let (text, lossy) = decode(bytes, false);
        return Ok((text, lossy, None));
    }
    let size = size().unwrap_or(bytes.len() as u64);
    bytes.truncate(BODY_LIMIT);
    let utf16 = bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]);
    if !utf16 && let Some(nl) = bytes[BODY_LIMIT / 2..].iter().rposition(|&b| b == b'\n') {
        bytes.truncate(BODY_LIMIT / 2 + nl + 1);
    }
    let (text, lossy) = decode(bytes, true);
    Ok((text, lossy, Some(size)))
}

fn read_head(file: &fs::File) -> std::io::Result<(String, bool)> {
    let mut bytes = Vec::with_capacity(8 * 1024);
    file.take(HEAD_LIMIT as u64 + 1).read_to_end(&mut bytes)?;
    let truncated = bytes.len() > HEAD_LIMIT;
    bytes.truncate(HEAD_LIMIT);
    Ok(decode(bytes, truncated))
}

/// The post in file `path`; `None` when a confined scan finds it leads out
/// of the folder (it is not listed at all).
fn list_file(path: PathBuf, rel_path: PathBuf, folder: Option<&Folder>) -> Option<Post> {
    let opened = match folder {
        Some(folder) => folder.open(&path),
        None => fs::File::open(&path),
    };
    Some(match opened.and_then(|f| read_head(&f)) {
        Ok((text, lossy)) => post_from_text(Origin::File(path), rel_path, &text, lossy),
        Err(e) if folder.is_some() && is_outside(&e) => return None,
        Err(e) => unreadable_post(path, rel_path, &e),
    })
}

/// The error [`Folder::open`] gives for a file outside the folder.
fn outside() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::PermissionDenied,
        "this file is outside the served folder",
    )
}

fn is_outside(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::PermissionDenied
        && e.to_string() == "this file is outside the served folder"
}

/// A folder whose files are read and nothing else: `folio serve`'s posts.
///
/// A file is opened first and checked after, so that no link swapped
/// between a check and the open can lead out: on Linux the kernel resolves
/// the path beneath the folder (`openat2` with `RESOLVE_BENEATH`), which
/// refuses any step outside; elsewhere (or on kernels before 5.6) the file
/// is opened without following a final link and must be the very file
/// (device and inode) that the checked path named. Only regular files are
/// read, and opening never waits (a FIFO named `x.md` would).
#[derive(Debug, Clone)]
pub struct Folder {
    root: PathBuf,
}

impl Folder {
    /// The folder at `root` (resolved once, now).
    pub fn new(root: &Path) -> std::io::Result<Folder> {
        Ok(Folder {
            root: fs::canonicalize(root)?,
        })
    }

    /// The folder, resolved.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether `path` resolves inside the folder now.
    pub fn contains(&self, path: &Path) -> bool {
        fs::canonicalize(path).is_ok_and(|p| p.starts_with(&self.root))
    }

    /// Opens the regular file `path` for reading, if it is inside the
    /// folder; a path leading out is refused with a `PermissionDenied`
    /// error saying so.
    pub fn open(&self, path: &Path) -> std::io::Result<fs::File> {
        let resolved = fs::canonicalize(path)?;
        let rel = resolved.strip_prefix(&self.root).map_err(|_| outside())?;
        let file = match open_beneath(&self.root, rel) {
            Some(opened) => opened?,
            None => open_checked(&resolved)?,
        };
        if !file.metadata()?.is_file() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a regular file",
            ));
        }
        Ok(file)
    }

    /// A post's whole text (up to [`BODY_LIMIT`]), read only from inside
    /// the folder; built-in posts come from memory.
    pub fn read_source(&self, origin: &Origin) -> Result<PostSource, PostsError> {
        let (text, lossy, truncated_from) = match origin {
            Origin::Embedded(source) => ((*source).to_string(), false, None),
            Origin::Stdin(source) => return Ok(PostSource::clone(source)),
            Origin::File(path) => self
                .open(path)
                .and_then(|f| read_body_from(&f))
                .map_err(|e| io_error(path, e))?,
        };
        let (_, body_start) = parse_frontmatter(&text);
        Ok(PostSource {
            text: text.into(),
            body_start,
            lossy,
            truncated_from,
            pictures: std::sync::Arc::default(),
        })
    }
}

/// Opens `rel` beneath `root` with the kernel's guarantee; `None` where the
/// kernel cannot (not Linux, or before 5.6).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn open_beneath(root: &Path, rel: &Path) -> Option<std::io::Result<fs::File>> {
    use rustix::fs::{Mode, OFlags, ResolveFlags};
    let dir = match rustix::fs::open(
        root,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(dir) => dir,
        Err(e) => return Some(Err(e.into())),
    };
    let rel = if rel.as_os_str().is_empty() {
        Path::new(".")
    } else {
        rel
    };
    match rustix::fs::openat2(
        &dir,
        rel,
        OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NONBLOCK,
        Mode::empty(),
        ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS,
    ) {
        Ok(fd) => Some(Ok(fs::File::from(fd))),
        // Not in this kernel, or not allowed by a sandbox: check by hand.
        Err(rustix::io::Errno::NOSYS | rustix::io::Errno::PERM) => None,
        // A step out of the folder.
        Err(rustix::io::Errno::XDEV) => Some(Err(outside())),
        Err(e) => Some(Err(e.into())),
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn open_beneath(_root: &Path, _rel: &Path) -> Option<std::io::Result<fs::File>> {
    None
}

/// Opens `resolved` (a path without links, checked to be inside) without
/// following a final link, and makes sure it is the file that was checked:
/// a folder on the way swapped for a link since would open another file.
fn open_checked(resolved: &Path) -> std::io::Result<fs::File> {
    let checked = fs::metadata(resolved)?;
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc_flags());
    }
    let file = options.open(resolved)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let opened = file.metadata()?;
        if (opened.dev(), opened.ino()) != (checked.dev(), checked.ino()) {
            return Err(outside());
        }
    }
    #[cfg(not(unix))]
    let _ = checked;
    Ok(file)
}

#[cfg(unix)]
fn libc_flags() -> i32 {
    use rustix::fs::OFlags;
    (OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY)
        .bits()
        .cast_signed()
}

pub(super) fn io_error(path: &Path, source: std::io::Error) -> PostsError {
    // `post.md/child` is as missing as `nope`.
    if matches!(
        source.kind(),
        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
    ) {
        PostsError::NotFound(path.to_path_buf())
    } else {
        PostsError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Whether [`scan_with`] follows symlinks that lead out of the folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Links {
    /// Follow every link, as a local reader should.
    #[default]
    Follow,
    /// Skip links whose target is outside the folder: `folio serve` shows
    /// the folder it was given and nothing else of the machine.
    Confined,
}

/// Whether `path` (a file found by a confined scan) still resolves inside
/// `root`: checked again before reading, as a link can change after the
/// scan.
pub fn is_inside(root: &Path, path: &Path) -> bool {
    match (fs::canonicalize(root), fs::canonicalize(path)) {
        (Ok(root), Ok(path)) => path.starts_with(root),
        _ => false,
    }
}

/// Lists the posts in a folder (recursively) or a single file, sorted.
pub fn scan(path: &Path) -> Result<Vec<Post>, PostsError> {
    scan_with(path, Links::Follow)
}

/// [`scan`], choosing whether links may lead out of the folder.
pub fn scan_with(path: &Path, links: Links) -> Result<Vec<Post>, PostsError> {
    // One way to read a folder: the streaming scan's batches, collected.
    let mut posts = Vec::new();
    scan_in_batches(path, links, &mut |batch, _| {
        posts.extend(batch);
        true
    })?;
    sort_posts(&mut posts);
    Ok(posts)
}

/// [`scan_in_batches`] reports new posts once this many are waiting...
pub const BATCH_POSTS: usize = 500;
/// ...or once this long has passed since the last report (about a frame),
/// whichever comes first.
pub const BATCH_EVERY: std::time::Duration = std::time::Duration::from_millis(16);

/// Checks that `path` can be scanned, as [`scan`] would fail on it (missing,
/// or a folder that cannot be listed), without reading any post: for a
/// caller that scans in the background but must refuse a bad path at once.
pub fn check(path: &Path) -> Result<(), PostsError> {
    let meta = fs::metadata(path).map_err(|e| io_error(path, e))?;
    if meta.is_dir() {
        fs::read_dir(path).map_err(|e| io_error(path, e))?;
    }
    Ok(())
}

/// [`scan_with`], reporting as it goes, for a reader that shows the list
/// while it fills in: lists the post files, reads their heads in parallel,
/// and calls `report(batch, done)` with the posts read since the last call
/// (each batch sorted) every [`BATCH_POSTS`] posts or [`BATCH_EVERY`],
/// whichever comes first. The last call has `done` set (its batch may be
/// empty). All batches together, merged with [`merge_posts`], are what
/// [`scan_with`] returns. Stops early when `report` returns false.
pub fn scan_in_batches(
    path: &Path,
    links: Links,
    report: &mut dyn FnMut(Vec<Post>, bool) -> bool,
) -> Result<(), PostsError> {
    let meta = fs::metadata(path).map_err(|e| io_error(path, e))?;
    if !meta.is_dir() {
        let rel = path
            .file_name()
            .map_or_else(|| path.to_path_buf(), PathBuf::from);
        report(
            list_file(path.to_path_buf(), rel, None)
                .into_iter()
                .collect(),
            true,
        );
        return Ok(());
    }
    let files = super::site::find_posts(path, links)?;
    // A confined scan opens each file beneath the folder: a link changed
    // since it was found cannot lead out.
    let folder = match links {
        Links::Confined => Some(Folder::new(path).map_err(|e| io_error(path, e))?),
        Links::Follow => None,
    };
    let folder = folder.as_ref();
    let workers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(files.len())
        .max(1);
    let next = AtomicUsize::new(0);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::scope(|s| {
        for _ in 0..workers {
            let tx = tx.clone();
            let (files, next, stop) = (&files, &next, &stop);
            s.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(found) = files.get(i) else { break };
                    let file = &found.path;
                    let rel = file.strip_prefix(path).unwrap_or(file).to_path_buf();
                    let Some(mut post) = list_file(file.clone(), rel, folder) else {
                        continue;
                    };
                    // Jekyll's `_drafts` are drafts whatever they say.
                    post.draft |= found.draft;
                    if tx.send(post).is_err() {
                        break;
                    }
                }
            });
        }
        // The workers hold the only senders now: the channel closes when
        // the last of them is done.
        drop(tx);
        let mut batch = Vec::new();
        let mut due = std::time::Instant::now() + BATCH_EVERY;
        loop {
            let wait = due.saturating_duration_since(std::time::Instant::now());
            let more = match rx.recv_timeout(wait) {
                Ok(post) => {
                    batch.push(post);
                    batch.extend(rx.try_iter().take(BATCH_POSTS.saturating_sub(batch.len())));
                    true
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => true,
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => false,
            };
            if !more {
                sort_posts(&mut batch);
                report(batch, true);
                return;
            }
            if batch.len() >= BATCH_POSTS || std::time::Instant::now() >= due {
                if !batch.is_empty() {
                    sort_posts(&mut batch);
                    if !report(std::mem::take(&mut batch), false) {
                        stop.store(true, Ordering::Relaxed);
                        return;
                    }
                }
                due = std::time::Instant::now() + BATCH_EVERY;
            }
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tests::{at, post, ymd};
    use super::*;
    use std::time::{Duration, Instant};

    fn dated(title: &str, rel: &str, date: Option<PostDate>) -> Post {
        Post {
            date,
            title: title.into(),
            ..post(rel, "")
        }
    }

    #[test]
    fn ordering() {
        let d = ymd(2025, 1, 1);
        let mut posts = vec![
            dated("zeta", "z.md", None),
            dated("Alpha", "a.md", None),
            dated("b", "2.md", Some(d)),
            dated("B", "1.md", Some(d)),
            dated("a", "3.md", Some(d)),
            dated("late", "4.md", Some(at(d, 9, 0, 0))),
            dated("old", "5.md", Some(ymd(2020, 1, 1))),
            dated("new", "6.md", Some(ymd(2026, 1, 1))),
        ];
        sort_posts(&mut posts);
        let order: Vec<_> = posts.iter().map(|p| p.rel_path.to_str().unwrap()).collect();
        assert_eq!(
            order,
            [
                "6.md", "4.md", "3.md", "1.md", "2.md", "5.md", "a.md", "z.md"
            ]
        );
    }

    #[test]
    fn decoding() {
        assert_eq!(
            decode(b"\xEF\xBB\xBFhi".to_vec(), false),
            ("hi".into(), false)
        );
        assert_eq!(
            decode(b"caf\xE9".to_vec(), false),
            ("caf\u{FFFD}".into(), true)
        );
        // A character cut by the head limit is not an encoding error.
        assert_eq!(
            decode("café".as_bytes()[..4].to_vec(), true),
            ("caf".into(), false)
        );
        let mut le = vec![0xFF, 0xFE];
        le.extend(
            "---\ntitle: é\n---\n"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        );
        assert_eq!(decode(le, false), ("---\ntitle: é\n---\n".into(), false));
        let mut be = vec![0xFE, 0xFF];
        be.extend("hé".encode_utf16().flat_map(u16::to_be_bytes));
        assert_eq!(decode(be, false), ("hé".into(), false));
    }

    fn write(root: &Path, rel: &str, text: &[u8]) {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    fn rels(posts: &[Post]) -> Vec<String> {
        let mut v: Vec<_> = posts
            .iter()
            .map(|p| p.rel_path.to_string_lossy().replace('\\', "/"))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn scan_folder() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "2025-01-01-one.md", b"---\ntitle: One\n---\nHello\n");
        write(root, "sub/deeper/two.MARKDOWN", b"# Two\n");
        write(root, "sub/three.Md", b"---\ndate: 2024-05-05\n---\n");
        write(root, "2021-05-05-bundle/index.md", b"Bundle text\n");
        write(root, ".hidden/secret.md", b"# no\n");
        write(root, "sub/.draft.md", b"# no\n");
        write(root, "notes.txt", b"# no\n");
        write(root, "image.png", b"\x89PNG");
        write(root, "latin1.md", b"# Caf\xE9\n");
        write(root, "broken.md", b"---\ntags: {a: b}\n---\n");
        let posts = scan(root).unwrap();
        assert_eq!(
            rels(&posts),
            [
                "2021-05-05-bundle/index.md",
                "2025-01-01-one.md",
                "broken.md",
                "latin1.md",
                "sub/deeper/two.MARKDOWN",
                "sub/three.Md"
            ]
        );
        let titles: Vec<_> = posts.iter().map(|p| p.title.as_str()).collect();
        assert_eq!(titles[..3], ["One", "Three", "Bundle"]);
        let latin1 = posts.iter().find(|p| p.title.starts_with("Caf")).unwrap();
        assert!(latin1.lossy);
        assert_eq!(latin1.title, "Caf\u{FFFD}");
        let broken = posts.iter().find(|p| p.title == "Broken").unwrap();
        assert!(
            broken
                .error
                .as_deref()
                .unwrap()
                .starts_with("line 2: tags: ")
        );
        let one = &posts[0];
        assert_eq!(one.origin, Origin::File(root.join("2025-01-01-one.md")));
        let source = one.read_source().unwrap();
        assert_eq!(source.body(), "Hello\n");
    }

    #[test]
    fn scan_single_file_and_missing() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "2021-05-05-b/index.md", b"Text\n");
        let file = dir.path().join("2021-05-05-b/index.md");
        let posts = scan(&file).unwrap();
        assert_eq!(posts.len(), 1);
        assert_eq!(posts[0].rel_path, PathBuf::from("index.md"));
        assert_eq!(posts[0].origin, Origin::File(file.clone()));
        assert_eq!(posts[0].title, "B");
        let missing = dir.path().join("nope");
        assert!(matches!(scan(&missing), Err(PostsError::NotFound(p)) if p == missing));
        let under_file = file.join("child");
        assert!(matches!(scan(&under_file), Err(PostsError::NotFound(_))));
        fs::remove_file(&file).unwrap();
        assert!(matches!(
            posts[0].read_source(),
            Err(PostsError::NotFound(_))
        ));
    }

    #[test]
    fn scan_large_file_reads_only_head() {
        let dir = tempfile::tempdir().unwrap();
        let mut text = b"---\ntitle: Big\n---\nFirst paragraph.\n\n".to_vec();
        text.extend(std::iter::repeat_n(b'x', 3 * HEAD_LIMIT));
        write(dir.path(), "big.md", &text);
        let posts = scan(dir.path()).unwrap();
        assert_eq!(posts[0].title, "Big");
        assert_eq!(posts[0].excerpt, "First paragraph.");
        assert_eq!(posts[0].read_source().unwrap().text.len(), text.len());
    }

    #[cfg(unix)]
    #[test]
    fn scan_follows_symlinks_without_looping() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "a/post.md", b"# A\n");
        std::os::unix::fs::symlink(root.join("a"), root.join("a/loop")).unwrap();
        std::os::unix::fs::symlink(root, root.join("a/up")).unwrap();
        let outside = tempfile::tempdir().unwrap();
        write(outside.path(), "linked.md", b"# Linked\n");
        std::os::unix::fs::symlink(outside.path(), root.join("elsewhere")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("linked.md"), root.join("file-link.md"))
            .unwrap();
        let start = Instant::now();
        let posts = scan(root).unwrap();
        assert!(start.elapsed() < Duration::from_secs(5));
        assert_eq!(
            rels(&posts),
            ["a/post.md", "elsewhere/linked.md", "file-link.md"]
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_confined_scan_stays_inside_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("blog");
        write(&root, "a/post.md", b"# A\n");
        std::os::unix::fs::symlink(root.join("a/post.md"), root.join("same.md")).unwrap();
        let outside = tempfile::tempdir().unwrap();
        write(outside.path(), "secret.md", b"# Secret\n");
        std::os::unix::fs::symlink(outside.path(), root.join("elsewhere")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret.md"), root.join("leak.md")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", root.join("a/passwd.md")).unwrap();
        let posts = scan_with(&root, Links::Confined).unwrap();
        assert_eq!(rels(&posts), ["a/post.md", "same.md"]);
        assert!(is_inside(&root, &root.join("same.md")));
        assert!(!is_inside(&root, &root.join("leak.md")));
        assert_eq!(scan(&root).unwrap().len(), 5, "a local reader follows them");
    }

    #[cfg(unix)]
    #[test]
    fn dangling_link_is_listed_with_error() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "ok.md", b"# Ok\n");
        std::os::unix::fs::symlink(dir.path().join("gone.md"), dir.path().join("dangling.md"))
            .unwrap();
        let posts = scan(dir.path()).unwrap();
        assert_eq!(rels(&posts), ["dangling.md", "ok.md"]);
        let p = posts.iter().find(|p| p.title == "Dangling").unwrap();
        assert_eq!(
            p.error.as_deref(),
            Some("cannot read: No such file or directory")
        );
        assert!(matches!(p.read_source(), Err(PostsError::NotFound(_))));
    }

    #[cfg(unix)]
    #[test]
    fn unreadable_file_is_listed_with_error() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "ok.md", b"# Ok\n");
        write(dir.path(), "2023-03-03-locked.md", b"# Locked\n");
        let locked = dir.path().join("2023-03-03-locked.md");
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
        if fs::read(&locked).is_ok() {
            // Running as root: permissions do not apply.
            return;
        }
        let posts = scan(dir.path()).unwrap();
        assert_eq!(posts.len(), 2);
        let p = posts.iter().find(|p| p.title == "Locked").unwrap();
        assert_eq!(p.error.as_deref(), Some("cannot read: Permission denied"));
        assert_eq!(p.date, Some(ymd(2023, 3, 3)));
        assert!(matches!(p.read_source(), Err(PostsError::Io { .. })));
    }

    #[cfg(unix)]
    #[test]
    fn unreadable_folder_is_an_error() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let locked = dir.path().join("locked");
        write(&locked, "a.md", b"# A\n");
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
        let readable = fs::read_dir(&locked).is_ok();
        let result = scan(&locked);
        // Unreadable below the root: skipped, not fatal.
        let outer = scan(dir.path());
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o755)).unwrap();
        if readable {
            return; // running as root: permissions do not apply
        }
        assert!(matches!(result, Err(PostsError::Io { .. })), "{result:?}");
        assert!(outer.unwrap().is_empty());
    }

    /// A folder of `n` posts with dates that repeat (so titles and paths
    /// break ties) and some without a date.
    fn dated_folder(n: usize) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("sub")).unwrap();
        for i in 0..n {
            let date = match i % 7 {
                0 => String::new(),
                k => format!("date: 2024-0{k}-1{}\n", i % 3),
            };
            let folder = if i % 2 == 0 { "" } else { "sub/" };
            let text = format!("---\ntitle: Post {}\n{date}---\n\nText {i}.\n", i % 13);
            fs::write(dir.path().join(format!("{folder}p{i}.md")), text).unwrap();
        }
        dir
    }

    #[test]
    fn merging_batches_gives_the_sorted_list() {
        let dir = dated_folder(120);
        let whole = scan(dir.path()).unwrap();
        // Any split into batches, in any order, merges into the same list.
        let mut shuffled = whole.clone();
        shuffled.reverse();
        shuffled.rotate_left(37);
        let mut merged = Vec::new();
        for chunk in shuffled.chunks(17) {
            merge_posts(&mut merged, chunk.to_vec());
            let mut sorted = merged.clone();
            sort_posts(&mut sorted);
            assert_eq!(merged, sorted, "sorted after every batch");
        }
        assert_eq!(merged, whole);
        merge_posts(&mut merged, Vec::new());
        assert_eq!(merged, whole);
    }

    #[test]
    fn scan_in_batches_reports_everything_once_and_ends_with_done() {
        let dir = dated_folder(BATCH_POSTS * 2 + 50);
        let whole = scan(dir.path()).unwrap();
        let mut batches = Vec::new();
        scan_in_batches(dir.path(), Links::Follow, &mut |batch, done| {
            batches.push((batch, done));
            true
        })
        .unwrap();
        assert!(batches.len() >= 3, "{} batches", batches.len());
        let (last, rest) = batches.split_last().unwrap();
        assert!(last.1 && rest.iter().all(|(_, done)| !done));
        assert!(batches.iter().all(|(b, _)| b.len() <= BATCH_POSTS));
        let mut merged = Vec::new();
        for (batch, _) in batches {
            let mut sorted = batch.clone();
            sort_posts(&mut sorted);
            assert_eq!(batch, sorted, "each batch comes sorted");
            merge_posts(&mut merged, batch);
        }
        assert_eq!(merged, whole);
    }

    #[test]
    fn scan_in_batches_stops_when_told_and_fails_like_scan() {
        let dir = dated_folder(BATCH_POSTS * 4);
        let mut calls = 0;
        scan_in_batches(dir.path(), Links::Follow, &mut |_, _| {
            calls += 1;
            false
        })
        .unwrap();
        assert_eq!(calls, 1);
        let missing = dir.path().join("gone");
        let err = scan_in_batches(&missing, Links::Follow, &mut |_, _| true).unwrap_err();
        assert!(matches!(err, PostsError::NotFound(_)), "{err:?}");
        assert!(matches!(check(&missing), Err(PostsError::NotFound(_))));
        check(dir.path()).unwrap();
        // A single file is one batch, done.
        let file = dir.path().join("p0.md");
        let mut got = Vec::new();
        scan_in_batches(&file, Links::Follow, &mut |b, done| {
            got.push((b.len(), done));
            true
        })
        .unwrap();
        assert_eq!(got, [(1, true)]);
        check(&file).unwrap();
    }
}
