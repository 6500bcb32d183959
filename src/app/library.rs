//! The list: the posts in the folder's order, the selected one, how far the
//! list is scrolled, the filter, and the folder still being read at start.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::posts::{Post, merge_posts};
use crate::search;

use super::shown_text;

/// The list filter.
#[derive(Debug)]
pub struct ListFilter {
    /// As typed.
    pub text: String,
    pub parsed: search::Filter,
    /// Post indices shown, best match first.
    view: Vec<usize>,
    /// The selection when the filter was opened, restored by `Esc`.
    before: usize,
    /// The views of the texts typed on the way to this one, so that
    /// `Backspace` costs nothing and a longer text only re-scores the posts
    /// a shorter one let through.
    history: Vec<(String, search::Filter, Vec<usize>)>,
}

impl ListFilter {
    /// The selection to go back to when the filter is dropped while typing.
    pub(crate) fn before(&self) -> usize {
        self.before
    }
}

/// The folder read in the background at start (see
/// [`crate::action::Report::PostsRead`]).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
enum Scan {
    /// Not reading: the list is complete.
    #[default]
    Idle,
    Reading {
        /// The person has moved, opened or typed something: from then on
        /// the selection stays on its post as the list grows. Untouched, it
        /// stays on the first (newest) post, so a start that has finished
        /// looks like one that read the whole folder first.
        touched: bool,
        /// The post to reopen (reading state) when it arrives, unless the
        /// person has chosen another by then.
        last: Option<PathBuf>,
    },
    /// A reload replaced the list while it was being read: the batches
    /// still to come are older news.
    Superseded,
}

#[derive(Debug)]
pub(crate) struct Library {
    posts: Vec<Post>,
    selected: usize,
    /// The first list position on screen.
    top: usize,
    filter: Option<ListFilter>,
    scan: Scan,
    /// Bumped whenever `posts` changes: what the list shows changed without
    /// comparing every post.
    version: u64,
}

/// What a batch of the folder being read did besides growing the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Merged {
    /// The post to reopen arrived and is selected: it opens in the reader.
    pub reopened: bool,
    /// A kept filter chose a post.
    pub selected: bool,
}

impl Library {
    pub(crate) fn new(posts: Vec<Post>) -> Library {
        Library {
            posts,
            selected: 0,
            top: 0,
            filter: None,
            scan: Scan::Idle,
            version: 0,
        }
    }

    pub(crate) fn posts(&self) -> &[Post] {
        &self.posts
    }

    pub(crate) fn version(&self) -> u64 {
        self.version
    }

    /// The selected post's index (0 in an empty list).
    pub(crate) fn selected(&self) -> usize {
        self.selected
    }

    pub(crate) fn selected_post(&self) -> Option<&Post> {
        self.posts.get(self.selected)
    }

    /// The selected post's [`Post::rel_path`].
    pub(crate) fn selected_key(&self) -> Option<&Path> {
        self.selected_post().map(|p| p.rel_path.as_path())
    }

    pub(crate) fn index_of(&self, key: &Path) -> Option<usize> {
        self.posts.iter().position(|p| p.rel_path == key)
    }

    pub(crate) fn post_by_key(&self, key: &Path) -> Option<&Post> {
        self.posts.iter().find(|p| p.rel_path == key)
    }

    /// The first list position on screen.
    pub(crate) fn top(&self) -> usize {
        self.top
    }

    /// While the folder is still being read: how many posts have arrived.
    pub(crate) fn scanning(&self) -> Option<usize> {
        matches!(self.scan, Scan::Reading { .. }).then_some(self.posts.len())
    }

    /// The person did something: from now on the selection is theirs.
    pub(crate) fn touch(&mut self) {
        if let Scan::Reading { touched, last } = &mut self.scan {
            *touched = true;
            *last = None;
        }
    }

    pub(crate) fn filter(&self) -> Option<&ListFilter> {
        self.filter.as_ref()
    }

    pub(crate) fn filter_mut(&mut self) -> Option<&mut ListFilter> {
        self.filter.as_mut()
    }

    pub(crate) fn drop_filter(&mut self) {
        self.filter = None;
    }

    /// How many posts the list shows (all of them, or those the filter
    /// lets through).
    pub(crate) fn view_len(&self) -> usize {
        self.filter
            .as_ref()
            .map_or(self.posts.len(), |f| f.view.len())
    }

    /// The post shown at list position `pos`.
    pub(crate) fn view_at(&self, pos: usize) -> Option<usize> {
        match &self.filter {
            Some(f) => f.view.get(pos).copied().filter(|&i| i < self.posts.len()),
            None => (pos < self.posts.len()).then_some(pos),
        }
    }

    /// The selected post's position in the list as shown.
    pub(crate) fn view_pos(&self) -> Option<usize> {
        match &self.filter {
            Some(f) => f.view.iter().position(|&i| i == self.selected),
            None => (self.selected < self.posts.len()).then_some(self.selected),
        }
    }

    /// The post at list position `pos`, clamped to the list.
    pub(crate) fn at_pos(&self, pos: usize) -> Option<usize> {
        let len = self.view_len();
        if len == 0 {
            return None;
        }
        self.view_at(pos.min(len - 1))
    }

    /// Selects post `index` (clamped); false in an empty list.
    pub(crate) fn select(&mut self, index: usize) -> bool {
        if self.posts.is_empty() {
            return false;
        }
        self.selected = index.min(self.posts.len() - 1);
        true
    }

    /// A jump to post `index` (a link, history, a search result) drops a
    /// kept filter that hides it, so the list shows where the reader is.
    pub(crate) fn reveal(&mut self, index: usize) {
        if self
            .filter
            .as_ref()
            .is_some_and(|f| !f.view.contains(&index))
        {
            self.filter = None;
        }
    }

    /// Opens the filter (or goes back to typing into the kept one); false
    /// when there is nothing to filter.
    pub(crate) fn open_filter(&mut self) -> bool {
        if self.posts.is_empty() {
            return false;
        }
        if self.filter.is_none() {
            self.filter = Some(ListFilter {
                text: String::new(),
                parsed: search::Filter::default(),
                view: (0..self.posts.len()).collect(),
                before: self.selected,
                history: Vec::new(),
            });
        }
        true
    }

    /// Ranks the posts by the filter's text (`raw`: as stored, not
    /// repaired) and scrolls the list to its start; the best match, to
    /// select.
    pub(crate) fn refilter(&mut self, raw: bool) -> Option<usize> {
        let Some(f) = &mut self.filter else {
            return None;
        };
        let n = self.posts.len();
        f.history
            .retain(|(t, _, v)| f.text.starts_with(t.as_str()) && v.iter().all(|&i| i < n));
        f.parsed = search::Filter::parse(&f.text);
        if let Some((_, _, view)) = f.history.last().filter(|(t, _, _)| *t == f.text) {
            f.view.clone_from(view);
        } else if f.parsed.is_empty() {
            f.view = (0..n).collect();
        } else {
            let posts = &self.posts;
            let parsed = &f.parsed;
            let score = |i: usize| {
                let p = &posts[i];
                let title = shown_text(raw, &p.title);
                let excerpt = shown_text(raw, &p.excerpt);
                let score = parsed.score(search::Fields {
                    title: &title,
                    tags: &p.tags,
                    excerpt: &excerpt,
                });
                (i, score)
            };
            f.view = match f.history.last() {
                Some((_, wider, view)) if parsed.narrows(wider) => {
                    search::rank(view.iter().map(|&i| score(i)))
                }
                _ => search::rank((0..n).map(score)),
            };
            if f.history.len() < 64 {
                f.history
                    .push((f.text.clone(), f.parsed.clone(), f.view.clone()));
            }
        }
        self.top = 0;
        f.view.first().copied()
    }

    /// A kept filter ranks the new list (its remembered views hold old
    /// indices); the post to select: the same one when it still matches.
    fn refilter_kept(&mut self, raw: bool) -> Option<usize> {
        let last = self.posts.len().saturating_sub(1);
        let f = self.filter.as_mut()?;
        let keep = self.selected;
        f.history.clear();
        f.before = f.before.min(last);
        let best = self.refilter(raw);
        if self.filter.as_ref().is_some_and(|f| f.view.contains(&keep)) {
            Some(keep)
        } else {
            best
        }
    }

    /// The list of posts is now `posts` (the folder changed). The selection
    /// stays on the same post when it is still there. Returns the posts
    /// whose frontmatter changed and a post a kept filter chose.
    pub(crate) fn replace(&mut self, posts: Vec<Post>, raw: bool) -> (Vec<PathBuf>, Option<usize>) {
        let selected = self.selected_key().map(Path::to_path_buf);
        let old: HashMap<PathBuf, Post> = std::mem::take(&mut self.posts)
            .into_iter()
            .map(|p| (p.rel_path.clone(), p))
            .collect();
        self.posts = posts;
        self.version += 1;
        let edited = self
            .posts
            .iter()
            .filter(|p| old.get(&p.rel_path).is_some_and(|o| o != *p))
            .map(|p| p.rel_path.clone())
            .collect();
        self.selected = selected
            .and_then(|k| self.index_of(&k))
            .unwrap_or_else(|| self.selected.min(self.posts.len().saturating_sub(1)));
        let chosen = self.refilter_kept(raw);
        if let Some(i) = chosen {
            self.select(i);
        }
        (edited, chosen)
    }

    /// The list was replaced while the folder was being read: the batches
    /// still to come are dropped. The post to reopen, if it is listed.
    pub(crate) fn supersede(&mut self) -> Option<usize> {
        let Scan::Reading { last, .. } = &mut self.scan else {
            return None;
        };
        let last = last.take();
        self.scan = Scan::Superseded;
        last.and_then(|k| self.index_of(&k))
    }

    /// More posts of the folder being read: merged into the list in order.
    /// The selection stays on the post the person chose, on the same row
    /// of the list, or on the first post while they have chosen none; the
    /// post to reopen is selected when it arrives. `None` for a batch of a
    /// list since replaced.
    pub(crate) fn merge(&mut self, posts: Vec<Post>, done: bool, raw: bool) -> Option<Merged> {
        match &self.scan {
            Scan::Superseded => {
                if done {
                    self.scan = Scan::Idle;
                }
                return None;
            }
            Scan::Idle => {
                self.scan = Scan::Reading {
                    touched: false,
                    last: None,
                };
            }
            Scan::Reading { .. } => {}
        }
        let touched = matches!(self.scan, Scan::Reading { touched: true, .. });
        let selected = self.selected_key().map(Path::to_path_buf);
        let row = self.view_pos().map(|p| p.saturating_sub(self.top));
        // `Esc` on an open filter goes back to this post, wherever it moves.
        let before = self.filter.as_ref().and_then(|f| self.posts.get(f.before));
        let before = before.map(|p| p.rel_path.clone());
        if !posts.is_empty() {
            merge_posts(&mut self.posts, posts);
            self.version += 1;
        }
        if let Some(key) = before
            && let Some(i) = self.index_of(&key)
            && let Some(f) = &mut self.filter
        {
            f.before = i;
        }
        self.selected = if touched {
            selected
                .and_then(|k| self.index_of(&k))
                .unwrap_or_else(|| self.selected.min(self.posts.len().saturating_sub(1)))
        } else {
            0
        };
        let mut merged = Merged::default();
        if let Scan::Reading {
            last: Some(key), ..
        } = &self.scan
            && let Some(i) = self.index_of(key)
        {
            self.reopen(i);
            merged.reopened = true;
        }
        if let Some(i) = self.refilter_kept(raw) {
            self.select(i);
            merged.selected = true;
        }
        if let (Some(row), Some(pos)) = (row, self.view_pos()) {
            self.top = pos.saturating_sub(row);
        }
        if done {
            self.scan = Scan::Idle;
        }
        Some(merged)
    }

    /// Selects post `i` to reopen in the reader, as the reading state asks.
    pub(crate) fn reopen(&mut self, i: usize) {
        self.selected = i;
        self.touch();
    }

    /// The reading state names `last` as the post to reopen: true when it
    /// is listed and selected; one still to be read is reopened when it
    /// arrives, unless the person chooses another first.
    pub(crate) fn restore_last(&mut self, last: Option<PathBuf>) -> bool {
        let found = last.as_ref().and_then(|last| self.index_of(last));
        match (found, &mut self.scan) {
            (Some(i), _) => {
                self.reopen(i);
                true
            }
            (
                None,
                Scan::Reading {
                    touched: false,
                    last: wanted,
                },
            ) => {
                *wanted = last;
                false
            }
            (None, _) => false,
        }
    }

    /// Scrolls the list so the selection is among its `page` rows on
    /// screen, with no blank rows at the end that entries could fill.
    pub(crate) fn keep_in_view(&mut self, page: usize) {
        let sel = self.view_pos().unwrap_or(0);
        if sel < self.top {
            self.top = sel;
        } else if sel >= self.top + page {
            self.top = sel + 1 - page;
        }
        let max_top = self.view_len().saturating_sub(page);
        self.top = self.top.min(max_top.max(sel.saturating_sub(page - 1)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::test_post;

    fn titles(lib: &Library) -> Vec<String> {
        (0..lib.view_len())
            .map(|p| lib.posts()[lib.view_at(p).unwrap()].title.clone())
            .collect()
    }

    fn shelf() -> Library {
        Library::new(vec![
            test_post("a.md", "---\ntitle: Rust notes\n---\n"),
            test_post("b.md", "---\ntitle: Cooking\n---\n"),
            test_post("c.md", "---\ntitle: Trusty tools\n---\n"),
        ])
    }

    #[test]
    fn the_filter_ranks_and_remembers_shorter_texts() {
        let mut lib = shelf();
        lib.select(1);
        assert!(lib.open_filter());
        for c in "rust".chars() {
            lib.filter_mut().unwrap().text.push(c);
            assert_eq!(lib.refilter(false), Some(0));
        }
        assert_eq!(titles(&lib), ["Rust notes", "Trusty tools"]);
        assert_eq!(lib.view_pos(), None, "the selection is not shown");
        assert_eq!(lib.filter().unwrap().before(), 1);
        // Backspace goes back to a view already ranked.
        lib.filter_mut().unwrap().text.pop();
        lib.refilter(false);
        let f = lib.filter().unwrap();
        assert_eq!(f.history.len(), 3);
        assert_eq!(f.history.last().unwrap().0, "rus");
        lib.drop_filter();
        assert_eq!(lib.view_len(), 3);
    }

    #[test]
    fn a_reload_keeps_the_selection_on_its_post() {
        let mut lib = shelf();
        lib.select(2);
        let mut posts = lib.posts().to_vec();
        posts.remove(0);
        posts[0].title = "Cooking for two".into();
        let (edited, chosen) = lib.replace(posts, false);
        assert_eq!(edited, [PathBuf::from("b.md")]);
        assert_eq!(chosen, None);
        assert_eq!(lib.selected_key(), Some(Path::new("c.md")));
        assert_eq!(lib.version(), 1);
    }

    #[test]
    fn batches_keep_the_first_post_until_the_person_chooses() {
        let mut lib = Library::new(Vec::new());
        let merged = lib.merge(vec![test_post("b.md", "# B\n")], false, false);
        assert_eq!(merged, Some(Merged::default()));
        assert_eq!(lib.scanning(), Some(1));
        lib.merge(vec![test_post("a.md", "# A\n")], false, false);
        assert_eq!(lib.selected(), 0, "untouched: the first post");
        lib.touch();
        let chosen = lib.selected_key().map(Path::to_path_buf);
        lib.merge(vec![test_post("0.md", "# 0\n")], true, false);
        assert_eq!(lib.selected_key().map(Path::to_path_buf), chosen);
        assert_eq!(lib.scanning(), None, "done");
    }

    #[test]
    fn the_post_to_reopen_is_selected_when_it_arrives() {
        let mut lib = Library::new(Vec::new());
        lib.merge(Vec::new(), false, false);
        assert!(!lib.restore_last(Some("z.md".into())));
        let merged = lib.merge(vec![test_post("z.md", "# Z\n")], false, false);
        assert!(merged.unwrap().reopened);
        // Replaced while reading: the rest of the batches are old news.
        assert_eq!(lib.supersede(), None);
        assert_eq!(
            lib.merge(vec![test_post("y.md", "# Y\n")], true, false),
            None
        );
        assert_eq!(lib.posts().len(), 1);
        assert_eq!(lib.scanning(), None);
    }

    #[test]
    fn the_list_scrolls_to_keep_the_selection_in_view() {
        let posts = (0..10)
            .map(|i| test_post(&format!("{i}.md"), "# x\n"))
            .collect();
        let mut lib = Library::new(posts);
        lib.select(7);
        lib.keep_in_view(3);
        assert_eq!(lib.top(), 5);
        lib.select(1);
        lib.keep_in_view(3);
        assert_eq!(lib.top(), 1);
        lib.select(9);
        lib.keep_in_view(20);
        assert_eq!(lib.top(), 0, "no blank rows when all fit");
    }
}
