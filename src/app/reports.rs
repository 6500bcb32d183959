//! What runners report, applied to the parts: posts read and laid out,
//! the folder changed, reading state restored, a new theme.

use std::collections::HashSet;
use std::path::Path;

use crate::posts::{Post, PostSource};
use crate::state::Reading;
use crate::theme::Theme;

use super::mode::Mode;
use super::{App, Focus};

impl App {
    pub(super) fn loaded_post(&mut self, key: &Path, result: Result<PostSource, String>) {
        // Not asked for (any more): the post left the list, or its file
        // changed while it was being read and a fresh read is under way.
        let (reader, library, s) = self.layout_parts();
        let Some(post) = library.post_by_key(key) else {
            return;
        };
        if reader.asked(key) {
            reader.load(post, result, s);
        }
    }

    pub(super) fn set_theme(&mut self, theme: Theme) {
        if theme == self.theme {
            return;
        }
        self.theme = theme;
        self.themes += 1;
        let (reader, library, s) = self.layout_parts();
        reader.relayout_all(library.posts(), s);
    }

    /// The list of posts is now `posts` (the folder changed). The selection
    /// stays on the same post when it is still there; what is known about
    /// posts that left, or whose frontmatter changed, is dropped (positions
    /// stay: an editor that saves by delete and re-create brings it back).
    pub(super) fn posts_changed(&mut self, posts: Vec<Post>) {
        let (edited, chosen) = self.library.replace(posts, self.raw);
        for key in edited {
            self.reader.changed(&key);
        }
        let listed: HashSet<&Path> = self
            .library
            .posts()
            .iter()
            .map(|p| p.rel_path.as_path())
            .collect();
        self.reader.forget_unless(|k| listed.contains(k));
        if self.library.posts().is_empty() {
            // Only the help makes sense over an empty folder.
            self.mode = match self.mode {
                Mode::Help { top, .. } => Mode::Help {
                    top,
                    over: Focus::List,
                },
                mode => mode.without_overlay().with_focus(Focus::List),
            };
        }
        if chosen.is_some() {
            self.close_outline();
        }
        if let Some(i) = self.library.supersede() {
            self.reopen(i);
        }
    }

    /// More posts of the folder being read (see [`super::library::Library::merge`]).
    pub(super) fn posts_read(&mut self, posts: Vec<Post>, done: bool) {
        let Some(merged) = self.library.merge(posts, done, self.raw) else {
            return;
        };
        if merged.reopened {
            self.mode = self.mode.with_focus(Focus::Reader);
        }
        if merged.selected {
            self.close_outline();
        }
    }

    /// Opens post `i` in the reader, as the reading state asks: the post
    /// last read, reopened.
    fn reopen(&mut self, i: usize) {
        self.library.reopen(i);
        self.mode = self.mode.with_focus(Focus::Reader);
    }

    pub(super) fn restore_reading(&mut self, reading: Reading) {
        let read = reading
            .posts
            .iter()
            .filter(|(_, mark)| mark.read)
            .map(|(key, _)| key.clone());
        self.marks.track(read.collect::<Vec<_>>());
        self.marks.restore_bookmarks(reading.bookmarks);
        for (key, mark) in reading.posts {
            self.reader.restore(key, mark.offset, mark.snippet);
        }
        if self.library.restore_last(reading.last) {
            self.mode = self.mode.with_focus(Focus::Reader);
        }
    }
}
