//! What every session of a server shares: the post list, the caches of
//! sources and layouts, and the broadcast of reloads.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};

use tokio::sync::broadcast;

use super::{Look, lock};
use crate::action::Report;
use crate::app::LayoutKey;
use crate::color::ColorChoice;
use crate::document::Document;
use crate::keymap::Keymap;
use crate::posts::{self, Folder, Origin, Post, PostSource};
use crate::search::Target;

/// Source text kept in memory for all sessions together.
const SOURCE_CACHE_BYTES: usize = 64 * 1024 * 1024;
/// Laid-out lines kept for all sessions together (a line is ~100 bytes).
const LAYOUT_CACHE_LINES: usize = 400_000;

/// What every session shares: read-only except for the post list, which a
/// reload replaces, and the source cache.
#[derive(Debug)]
pub struct Site {
    posts: Mutex<Vec<Post>>,
    /// The served folder: every file is read beneath it (`None`: the
    /// built-in posts, or a single file).
    folder: Option<Folder>,
    pub label: String,
    pub keymap: Keymap,
    pub look: Look,
    pub color: ColorChoice,
    pub max_width: u16,
    pub wrap_code: bool,
    pub mouse: bool,
    /// Web links as OSC 8 hyperlinks (not on `TERM=linux` or `dumb`).
    pub hyperlinks: bool,
    /// Pictures in half blocks (given colour), or not.
    pub images: crate::picture::Images,
    sources: Mutex<SourceCache>,
    pictures: Mutex<PictureCache>,
    /// Pictures being decoded now, all visitors together (at most
    /// [`MAX_DECODES`]), and the most there ever were.
    decoding: (Mutex<(usize, usize)>, Condvar),
    layouts: Mutex<LayoutCache>,
    actions: broadcast::Sender<Report>,
}

/// Pictures decoded at once for all visitors together: a crowd asking for
/// pictures waits its turn rather than taking every core and the memory
/// of many full-size pictures at once. (Each session decodes one at a time
/// too: see `ssh::session`.)
pub const MAX_DECODES: usize = 2;

/// Finished layouts, shared: highlighting is the slow part of opening a
/// post, and visitors at the same width open the same posts.
#[derive(Debug, Default)]
struct LayoutCache {
    map: HashMap<LayoutKey, Arc<Document>>,
    lines: usize,
}

/// Decoded pictures, shared by all visitors, up to [`PICTURE_CACHE_BYTES`]:
/// visitors at the same width see the same pictures, and a visitor
/// scrolling back and forth decodes nothing twice.
#[derive(Debug, Default)]
struct PictureCache {
    map: HashMap<crate::picture::PictureKey, crate::picture::Decoded>,
    bytes: usize,
}

/// The memory decoded pictures may hold in the site's cache.
pub const PICTURE_CACHE_BYTES: usize = 32 << 20;

/// A turn to decode (see [`Site::decode_turn`]).
struct DecodeTurn<'a>(&'a (Mutex<(usize, usize)>, Condvar));

impl Drop for DecodeTurn<'_> {
    fn drop(&mut self) {
        let (count, freed) = self.0;
        lock(count).0 -= 1;
        freed.notify_one();
    }
}

#[derive(Debug, Default)]
struct SourceCache {
    map: HashMap<PathBuf, PostSource>,
    bytes: usize,
}

impl Site {
    /// `root` is the served folder (`None` for the built-in posts).
    pub fn new(posts: Vec<Post>, root: Option<PathBuf>, keymap: Keymap, look: Look) -> Site {
        let (actions, _) = broadcast::channel(16);
        let label = root.as_ref().map_or_else(
            || "folio's built-in posts".into(),
            |r| r.display().to_string(),
        );
        Site {
            posts: Mutex::new(posts),
            label,
            folder: root
                .filter(|r| r.is_dir())
                .and_then(|r| Folder::new(&r).ok()),
            keymap,
            look,
            color: ColorChoice::Auto,
            max_width: 100,
            wrap_code: true,
            mouse: true,
            hyperlinks: true,
            images: crate::picture::Images::Auto,
            sources: Mutex::new(SourceCache::default()),
            pictures: Mutex::new(PictureCache::default()),
            decoding: (Mutex::new((0, 0)), Condvar::new()),
            layouts: Mutex::new(LayoutCache::default()),
            actions,
        }
    }

    /// Sends `action` to every open session, which applies it as its own.
    /// Live reload plugs in here: when the posts change, call
    /// [`Site::set_posts`] (for sessions yet to come) and broadcast the
    /// watcher's action (for those open now). The source cache is emptied,
    /// as files may have changed.
    pub fn broadcast(&self, action: Report) {
        self.clear_sources();
        // No receivers (nobody connected) is fine.
        let _ = self.actions.send(action);
    }

    /// Live reload: what [`crate::watch::Watch`] reports, passed to every
    /// session. A new list is first confined to the served folder (the
    /// watcher's scan follows every link) and kept for sessions to come.
    pub fn reload(&self, action: Report) {
        let action = match action {
            Report::PostsChanged(posts) => {
                let posts: Vec<Post> = posts
                    .into_iter()
                    .filter(|p| match (&p.origin, &self.folder) {
                        (Origin::File(path), Some(folder)) => folder.contains(path),
                        _ => true,
                    })
                    .collect();
                self.set_posts(posts.clone());
                Report::PostsChanged(posts)
            }
            other => other,
        };
        self.broadcast(action);
    }

    /// The post list new sessions start with.
    pub fn set_posts(&self, posts: Vec<Post>) {
        *lock(&self.posts) = posts;
        self.clear_sources();
    }

    fn clear_sources(&self) {
        let mut cache = lock(&self.sources);
        cache.map.clear();
        cache.bytes = 0;
        drop(cache);
        let mut layouts = lock(&self.layouts);
        layouts.map.clear();
        layouts.lines = 0;
    }

    pub(super) fn layout(&self, key: &LayoutKey) -> Option<Arc<Document>> {
        lock(&self.layouts).map.get(key).cloned()
    }

    pub(super) fn keep_layout(&self, key: LayoutKey, doc: &Document) {
        let lines = doc.lines.len();
        if lines > LAYOUT_CACHE_LINES / 8 {
            return;
        }
        let mut cache = lock(&self.layouts);
        if cache.lines + lines > LAYOUT_CACHE_LINES {
            cache.map.clear();
            cache.lines = 0;
        }
        cache.lines += lines;
        cache.map.insert(key, Arc::new(doc.clone()));
    }

    /// A picture for a visitor: from the cache, else decoded (on the
    /// caller's thread: call from the blocking pool) beneath the served
    /// folder, and kept. Pictures are shown only from a served folder.
    pub fn picture(&self, job: &crate::picture::PictureJob) -> crate::picture::Decoded {
        if let Some(done) = lock(&self.pictures).map.get(&job.key) {
            return done.clone();
        }
        let Some(folder) = &self.folder else {
            return Err("pictures are shown from a served folder only".into());
        };
        let _turn = self.decode_turn();
        // Decoded for another visitor while this one waited.
        if let Some(done) = lock(&self.pictures).map.get(&job.key) {
            return done.clone();
        }
        let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            crate::picture::load(job, folder)
        }))
        .unwrap_or_else(|_| Err("broken picture".into()));
        let bytes = decoded.as_ref().map_or(64, |p| p.bytes());
        let mut cache = lock(&self.pictures);
        if cache.bytes + bytes > PICTURE_CACHE_BYTES {
            cache.map.clear();
            cache.bytes = 0;
        }
        cache.bytes += bytes;
        cache.map.insert(job.key.clone(), decoded.clone());
        decoded
    }

    /// Waits (on the blocking pool) until fewer than [`MAX_DECODES`]
    /// pictures are being decoded; the turn ends when the guard is dropped.
    fn decode_turn(&self) -> DecodeTurn<'_> {
        let (count, freed) = &self.decoding;
        let mut now = lock(count);
        while now.0 >= MAX_DECODES {
            now = freed
                .wait(now)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        now.0 += 1;
        now.1 = now.1.max(now.0);
        DecodeTurn(&self.decoding)
    }

    /// The most pictures ever decoded at once.
    pub fn peak_decodes(&self) -> usize {
        lock(&self.decoding.0).1
    }

    pub fn posts(&self) -> Vec<Post> {
        lock(&self.posts).clone()
    }

    /// Reads a post's text (on the caller's thread: call from the blocking
    /// pool), beneath the served folder: links may have changed since the
    /// scan, and are followed only as far as the folder's edge.
    fn read(&self, origin: &Origin) -> Result<PostSource, posts::PostsError> {
        match &self.folder {
            Some(folder) => folder.read_source(origin),
            None => origin.read_source(),
        }
    }

    /// A post's text: from the cache, else read (on the caller's thread:
    /// call from the blocking pool) and kept.
    pub fn source(&self, post: &Post) -> Result<PostSource, String> {
        if let Some(s) = lock(&self.sources).map.get(&post.rel_path) {
            return Ok(s.clone());
        }
        let mut source = self.read(&post.origin).map_err(|e| e.to_string())?;
        // Pictures only from inside the served folder, never remote ones.
        if let Some(folder) = &self.folder {
            let survey = crate::picture::survey(
                post,
                source.body(),
                &crate::picture::Sources::default(),
                Some(folder),
            );
            source.pictures = Arc::new(survey);
        }
        let mut cache = lock(&self.sources);
        if cache.bytes + source.text.len() > SOURCE_CACHE_BYTES {
            cache.map.clear();
            cache.bytes = 0;
        }
        cache.bytes += source.text.len();
        cache.map.insert(post.rel_path.clone(), source.clone());
        Ok(source)
    }

    /// A post's text for a search: from the cache, else read but not kept
    /// (a search reads every post and would push out what readers read).
    pub fn search_source(&self, target: &Target) -> Option<PostSource> {
        if let Some(s) = lock(&self.sources).map.get(&target.rel_path) {
            return Some(s.clone());
        }
        self.read(&target.origin).ok()
    }

    /// How many sources and layouts are cached.
    #[cfg(test)]
    pub(super) fn cached(&self) -> (usize, usize) {
        (lock(&self.sources).map.len(), lock(&self.layouts).map.len())
    }

    pub(super) fn subscribe(&self) -> broadcast::Receiver<Report> {
        self.actions.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::picture::{PictureJob, PictureKey};

    /// Many visitors asking for pictures at once: never more than
    /// [`MAX_DECODES`] decoded at a time, and each still arrives.
    #[test]
    fn decodes_wait_their_turn_server_wide() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("big.png");
        image::RgbImage::from_fn(1200, 900, |x, y| image::Rgb([x as u8, y as u8, 0]))
            .save(&file)
            .unwrap();
        let site = Arc::new(Site::new(
            Vec::new(),
            Some(dir.path().to_path_buf()),
            Keymap::default(),
            Look::Fixed(Box::default()),
        ));
        let threads: Vec<_> = (0..6u16)
            .map(|i| {
                let site = Arc::clone(&site);
                let job = PictureJob {
                    key: PictureKey {
                        file: file.clone(),
                        cols: 40 + i,
                        rows: 10,
                        depth: crate::color::Depth::TrueColor,
                        graphics: crate::graphics::Graphics::Halfblocks,
                        cell: crate::graphics::DEFAULT_CELL,
                    },
                    root: dir.path().to_path_buf(),
                    url: None,
                };
                std::thread::spawn(move || site.picture(&job).is_ok())
            })
            .collect();
        for t in threads {
            assert!(t.join().unwrap());
        }
        let peak = site.peak_decodes();
        assert!((1..=MAX_DECODES).contains(&peak), "{peak}");
    }
}
