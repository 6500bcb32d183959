//! The reading state the app keeps once a runner restores it: which posts
//! are read, where each was left (as a source offset and the text there, so
//! the place is found again after an edit), the post to reopen, and what
//! changed since the runner last saved.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use crate::state::{Bookmark, Mark, ReadingChanges};

use super::Loaded;
use super::reader::{Reader, shown_body};

/// Bytes of text kept to find a position again after an edit.
pub const SNIPPET_BYTES: usize = 48;

/// The text at `offset` in `body`: up to [`SNIPPET_BYTES`], whole
/// characters.
pub fn snippet_at(body: &str, offset: usize) -> String {
    let mut start = offset.min(body.len());
    while !body.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (start + SNIPPET_BYTES).min(body.len());
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    body[start..end].to_owned()
}

/// Where `snippet` is in `body`: the occurrence nearest to `offset` (the
/// text may have moved when something above it was edited); `offset` itself,
/// kept in range, when the text is gone.
pub fn find_near(body: &str, snippet: &str, offset: usize) -> usize {
    if !snippet.is_empty()
        && let Some(found) = body
            .match_indices(snippet)
            .map(|(i, _)| i)
            .min_by_key(|&i| i.abs_diff(offset))
    {
        return found;
    }
    let mut offset = offset.min(body.len());
    while !body.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[derive(Debug, Default)]
pub(crate) struct Marks {
    /// Reading state is kept (a runner restored it): read marks show, and
    /// changes are handed out by [`Marks::take_changes`].
    tracking: bool,
    read: HashSet<PathBuf>,
    /// Posts whose mark changed since the runner last asked.
    changed: BTreeSet<PathBuf>,
    /// The post last open in the reader, and whether that changed.
    last: Option<PathBuf>,
    last_changed: bool,
    /// The repaired text of the post a snippet was last taken from, by
    /// layout number: saving a position must not repair a long post anew
    /// for every scroll.
    repaired_body: Option<(PathBuf, u64, String)>,
    /// Bumped whenever what the list shows of the marks changes.
    version: u64,
    /// Bookmarks by post, each post's in the order of the text. Kept in
    /// memory even when reading state is not (a visitor of `folio serve`
    /// has them for the session).
    bookmarks: BTreeMap<PathBuf, Vec<Bookmark>>,
    /// Posts whose bookmarks changed since the runner last asked.
    bookmarks_changed: BTreeSet<PathBuf>,
}

impl Marks {
    pub(crate) fn version(&self) -> u64 {
        self.version
    }

    /// Whether the list marks `key` unread (only when reading state is
    /// kept).
    pub(crate) fn is_unread(&self, key: &Path) -> bool {
        self.tracking && !self.read.contains(key)
    }

    /// Keeps reading state from now on, starting with the posts in `read`.
    pub(crate) fn track(&mut self, read: impl IntoIterator<Item = PathBuf>) {
        self.tracking = true;
        self.read.extend(read);
        self.version += 1;
    }

    /// The reader's position in `key` moved: its mark is saved again.
    pub(crate) fn moved(&mut self, key: &Path) {
        if self.tracking {
            self.changed.insert(key.to_path_buf());
        }
    }

    /// Marks `key` read, or unread again: whether it is read now, or `None`
    /// when no reading state is kept.
    pub(crate) fn toggle(&mut self, key: &Path) -> Option<bool> {
        if !self.tracking {
            return None;
        }
        let read = !self.read.remove(key);
        if read {
            self.read.insert(key.to_path_buf());
        }
        self.changed.insert(key.to_path_buf());
        self.version += 1;
        Some(read)
    }

    /// Post `key` is open in the reader, its end on screen if `end_seen`:
    /// it is the post to reopen, and read once its end has been seen.
    pub(crate) fn opened(&mut self, key: &Path, end_seen: bool) {
        if !self.tracking {
            return;
        }
        if self.last.as_deref() != Some(key) {
            self.last = Some(key.to_path_buf());
            self.last_changed = true;
        }
        if end_seen && !self.read.contains(key) {
            self.read.insert(key.to_path_buf());
            self.changed.insert(key.to_path_buf());
            self.version += 1;
        }
    }

    /// Every bookmark, by post (in path order), each post's in text order.
    pub(crate) fn bookmarks(&self) -> &BTreeMap<PathBuf, Vec<Bookmark>> {
        &self.bookmarks
    }

    /// Starts from the saved bookmarks (those made meanwhile are kept).
    pub(crate) fn restore_bookmarks(
        &mut self,
        saved: impl IntoIterator<Item = (PathBuf, Vec<Bookmark>)>,
    ) {
        for (key, places) in saved {
            let list = self.bookmarks.entry(key).or_default();
            for place in places {
                if !list.iter().any(|b| b.offset == place.offset) {
                    list.push(place);
                }
            }
            list.sort_by_key(|b| b.offset);
        }
        self.bookmarks.retain(|_, list| !list.is_empty());
    }

    /// Replaces post `key`'s bookmarks with `places`.
    pub(crate) fn set_bookmarks(&mut self, key: &Path, mut places: Vec<Bookmark>) {
        places.sort_by_key(|b| b.offset);
        if places.is_empty() {
            self.bookmarks.remove(key);
        } else {
            self.bookmarks.insert(key.to_path_buf(), places);
        }
        if self.tracking {
            self.bookmarks_changed.insert(key.to_path_buf());
        }
    }

    /// What changed since the last call, for the runner to save; `None`
    /// when nothing did.
    pub(crate) fn take_changes(&mut self, reader: &Reader) -> Option<ReadingChanges> {
        if self.changed.is_empty() && !self.last_changed && self.bookmarks_changed.is_empty() {
            return None;
        }
        let bookmarks = std::mem::take(&mut self.bookmarks_changed)
            .into_iter()
            .map(|key| {
                let places = self.bookmarks.get(&key).cloned().unwrap_or_default();
                (key, places)
            })
            .collect();
        let keys = std::mem::take(&mut self.changed);
        let posts = keys
            .into_iter()
            .map(|key| {
                let mark = self.mark(&key, reader);
                (key, mark)
            })
            .collect();
        let last = if std::mem::take(&mut self.last_changed) {
            self.last.clone()
        } else {
            None
        };
        Some(ReadingChanges {
            posts,
            last,
            bookmarks,
        })
    }

    /// The mark to save for post `key`: the position anchored by source
    /// offset and the text there.
    fn mark(&mut self, key: &Path, reader: &Reader) -> Mark {
        let read = self.read.contains(key);
        let Some(pos) = reader.position(key) else {
            return Mark {
                read,
                ..Mark::default()
            };
        };
        let snippet = match (&pos.relocate, reader.loaded(key)) {
            (Some(s), _) => s.clone(),
            // Unrepaired, the text shown is the text stored: no need to run
            // the repair over the whole post for every saved scroll.
            (
                None,
                Some(Loaded::Ready {
                    source,
                    raw,
                    repaired,
                    ..
                }),
            ) if *raw || !*repaired => snippet_at(source.body(), pos.anchor),
            // Repaired: the repair runs once per layout, not per scroll.
            (None, Some(Loaded::Ready { source, layout, .. })) => {
                let fresh = self
                    .repaired_body
                    .as_ref()
                    .is_some_and(|(k, l, _)| k == key && l == layout);
                if !fresh {
                    let body = shown_body(source, false).into_owned();
                    self.repaired_body = Some((key.to_path_buf(), *layout, body));
                }
                self.repaired_body
                    .as_ref()
                    .map(|(_, _, body)| snippet_at(body, pos.anchor))
                    .unwrap_or_default()
            }
            _ => String::new(),
        };
        Mark {
            read,
            offset: pos.anchor,
            snippet,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snippet_is_found_where_its_text_moved() {
        let body = "intro\n\nThe place I stopped reading, in the middle.\n";
        let at = body.find("The place").unwrap();
        let snippet = snippet_at(body, at);
        assert!(snippet.starts_with("The place I stopped"));
        assert!(snippet.len() <= SNIPPET_BYTES);
        let edited = format!("A new paragraph above.\n\n{body}");
        assert_eq!(find_near(&edited, &snippet, at), at + 24);
        // Of two copies, the nearer one.
        let twice = format!("{body}{}{body}", "x".repeat(500));
        assert_eq!(find_near(&twice, &snippet, at + 560), at + body.len() + 500);
        // Gone: the old offset, kept inside the text and on a char boundary.
        assert_eq!(find_near("short", &snippet, at), 5);
        assert_eq!(find_near("ééé", "zz", 3), 2);
    }

    #[test]
    fn snippets_cut_on_char_boundaries() {
        let body = "é".repeat(40);
        let s = snippet_at(&body, 1);
        assert!(s.starts_with('é'));
        assert_eq!(snippet_at(&body, 1000), "");
    }

    #[test]
    fn nothing_is_kept_until_a_runner_restores_reading_state() {
        let mut marks = Marks::default();
        let reader = Reader::default();
        let a = Path::new("a.md");
        assert!(!marks.is_unread(a));
        assert_eq!(marks.toggle(a), None);
        marks.moved(a);
        marks.opened(a, true);
        assert_eq!(marks.take_changes(&reader), None);
        marks.track([PathBuf::from("b.md")]);
        assert!(marks.is_unread(a));
        assert!(!marks.is_unread(Path::new("b.md")));
    }

    #[test]
    fn changes_are_handed_out_once() {
        let mut marks = Marks::default();
        let reader = Reader::default();
        marks.track([]);
        let a = Path::new("a.md");
        marks.opened(a, false);
        let changes = marks.take_changes(&reader).unwrap();
        assert!(changes.posts.is_empty(), "not read yet");
        assert_eq!(changes.last.as_deref(), Some(a));
        marks.opened(a, true);
        let changes = marks.take_changes(&reader).unwrap();
        assert_eq!(changes.posts.len(), 1);
        assert!(changes.posts[0].1.read);
        assert_eq!(changes.last, None, "still the same post");
        assert_eq!(marks.take_changes(&reader), None);
        assert_eq!(marks.toggle(a), Some(false));
        assert!(marks.is_unread(a));
        let changes = marks.take_changes(&reader).unwrap();
        assert!(!changes.posts[0].1.read);
    }
}
