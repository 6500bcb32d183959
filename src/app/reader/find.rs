//! The in-post search: matches in the layout on screen, the current one,
//! and a search result's post scrolled to its match once laid out.

use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::sanitize::sanitize;
use crate::search::{MatchStart, Query, SearchText};

use super::{Loaded, Reader, ShownLayout};

/// At most this many match positions are kept in [`Find::history`].
const FIND_HISTORY: usize = 4 << 20;

/// The in-post search.
#[derive(Debug, Default)]
pub struct Find {
    /// As typed; empty when no search is active.
    pub text: String,
    query: Option<Query>,
    /// Start bytes in the [`SearchText`] of the layout `layout`.
    matches: Vec<MatchStart>,
    current: Option<usize>,
    /// The reader's top line when the prompt opened, restored by `Esc`.
    origin_top: usize,
    layout: Option<ShownLayout>,
    /// Matches of the texts typed on the way to this one (in this layout),
    /// so `Backspace` costs nothing and a longer text only re-checks the
    /// matches of a shorter one: a keystroke stays fast on a 10 MB post.
    history: Vec<(String, Query, Vec<MatchStart>)>,
}

/// What the screen shows of the in-post search: the matches follow from
/// the text and the layout searched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Seen {
    text: String,
    current: Option<usize>,
    layout: Option<ShownLayout>,
}

impl Find {
    /// The reader's top line when the prompt opened.
    pub(crate) fn origin_top(&self) -> usize {
        self.origin_top
    }
}

impl Reader {
    pub(crate) fn find(&self) -> &Find {
        &self.find
    }

    pub(crate) fn find_seen(&self) -> Seen {
        Seen {
            text: self.find.text.clone(),
            current: self.find.current,
            layout: self.find.layout,
        }
    }

    /// The search's text, to type into.
    pub(crate) fn find_text(&mut self) -> &mut String {
        &mut self.find.text
    }

    /// A new search, `Esc` going back to line `top`.
    pub(crate) fn open_find(&mut self, top: usize) {
        self.find = Find {
            origin_top: top,
            ..Find::default()
        };
    }

    pub(crate) fn clear_find(&mut self) {
        self.find = Find::default();
        // The text of a long post is as large as the post; a new search
        // gathers it again.
        self.search_text = None;
    }

    /// Opens a result of the search across all posts: post `rel` is shown
    /// at body offset `offset` once laid out, `text` its in-post search.
    pub(crate) fn show_result(&mut self, rel: PathBuf, offset: usize, text: String) {
        self.result_jump = Some((rel, offset));
        self.find = Find {
            text,
            ..Find::default()
        };
    }

    /// The in-post search's position: (current match, 1-based; matches),
    /// once the post is laid out.
    pub(crate) fn find_count(&self) -> Option<(Option<usize>, usize)> {
        if self.find.text.is_empty() || self.find.layout.is_none() {
            return None;
        }
        Some((self.find.current.map(|c| c + 1), self.find.matches.len()))
    }

    /// The matches on document line `line` of post `key`'s layout, as
    /// column ranges, and whether each is the current one.
    pub(crate) fn find_highlights(
        &self,
        key: Option<&Path>,
        line: usize,
    ) -> Vec<(Range<usize>, bool)> {
        let (Some(shown), Some(query)) = (self.shown_layout(key), &self.find.query) else {
            return Vec::new();
        };
        let Some((text_key, text)) = &self.search_text else {
            return Vec::new();
        };
        if self.find.layout != Some(shown) || *text_key != shown || self.find.text.is_empty() {
            return Vec::new();
        }
        text.line_matches(line, &self.find.matches, query.needle.len())
            .into_iter()
            .map(|(i, cols)| (cols, Some(i) == self.find.current))
            .collect()
    }

    /// The document line of match `i`.
    fn match_line(&self, i: usize) -> Option<usize> {
        let start = *self.find.matches.get(i)?;
        let (_, text) = self.search_text.as_ref()?;
        Some(text.line_of(start as usize))
    }

    fn match_line_of(&self, start: MatchStart) -> usize {
        self.search_text
            .as_ref()
            .map_or(0, |(_, t)| t.line_of(start as usize))
    }

    /// Searches post `key`'s layout for the typed text; the current match
    /// becomes the first at or after line `from`. False when there is
    /// nothing to search (no text, or the post is not laid out).
    pub(crate) fn refind(&mut self, key: Option<&Path>, from: usize) -> bool {
        let shown = self.shown_layout(key);
        if self.find.text.is_empty() || shown.is_none() {
            self.find.matches.clear();
            self.find.current = None;
            self.find.query = None;
            self.find.layout = None;
            return false;
        }
        if self.search_text.as_ref().map(|(k, _)| *k) != shown
            && let Some(doc) = self.document(key)
        {
            self.search_text = Some((shown.unwrap_or_default(), SearchText::new(doc)));
        }
        let Some((_, text)) = self.search_text.as_mut() else {
            return false;
        };
        let find = &mut self.find;
        if find.layout != shown {
            find.history.clear();
        }
        find.history
            .retain(|(t, _, _)| find.text.starts_with(t.as_str()));
        let query = Query::new(&find.text);
        let matches = match find.history.last() {
            Some((t, _, m)) if *t == find.text => m.clone(),
            last => {
                let prev = last.map(|(_, q, m)| (q, &m[..]));
                let matches = text.find(&query, prev);
                let kept: usize = find.history.iter().map(|(_, _, m)| m.len()).sum();
                if kept + matches.len() <= FIND_HISTORY {
                    find.history
                        .push((find.text.clone(), query.clone(), matches.clone()));
                }
                matches
            }
        };
        let first = matches.partition_point(|&m| text.line_of(m as usize) < from);
        find.current = if matches.is_empty() {
            None
        } else if first < matches.len() {
            Some(first)
        } else {
            Some(0)
        };
        find.matches = matches;
        find.query = Some(query);
        find.layout = shown;
        true
    }

    /// Where the reader goes to show the current match, a third of the way
    /// down when it is not on screen (`top`, `height`) already; back to
    /// where the search started when there is none.
    pub(crate) fn current_match_top(&self, top: usize, height: usize) -> Option<usize> {
        match self.find.current {
            Some(i) => self.match_top(i, top, height),
            None => Some(self.find.origin_top),
        }
    }

    /// Where the reader goes to show match `i`: nowhere when it is on
    /// screen (`top`, `height`) already.
    fn match_top(&self, i: usize, top: usize, height: usize) -> Option<usize> {
        let line = self.match_line(i)?;
        (line < top || line >= top + height).then(|| line.saturating_sub(height / 3))
    }

    /// `n`/`N`: the next or previous match, wrapping at the ends, seen from
    /// the reader at `top`, `height` lines high: where the reader goes, and
    /// what to tell the person.
    pub(crate) fn step_match(
        &mut self,
        n: usize,
        forward: bool,
        top: usize,
        height: usize,
    ) -> (Option<usize>, Option<String>) {
        if self.find.text.is_empty() {
            return (None, Some("No search: / searches this post".into()));
        }
        let total = self.find.matches.len();
        if total == 0 {
            let text = sanitize(&self.find.text);
            return (None, Some(format!("No match for {text}")));
        }
        let had_current = self.find.current.is_some();
        let current = self.find.current.unwrap_or_else(|| {
            // No current match (it was off screen after a jump): count from
            // the first match at or below the top line.
            let first = self
                .find
                .matches
                .partition_point(|&m| self.match_line_of(m) < top);
            (if forward { first + total - 1 } else { first }) % total
        });
        let step = n % total;
        let next = if forward {
            (current + step) % total
        } else {
            (current + total - step) % total
        };
        let wrapped =
            had_current && ((forward && next <= current) || (!forward && next >= current));
        let message = wrapped.then(|| {
            if forward {
                "Search wrapped to the top"
            } else {
                "Search wrapped to the bottom"
            }
            .to_owned()
        });
        self.find.current = Some(next);
        (self.match_top(next, top, height), message)
    }

    /// Keeps the search true to the layout of post `key` (a new post, width
    /// or the final layout arriving), the reader at `top`, `height` lines
    /// high; and lands a search result once its post is laid out: where
    /// the reader goes then.
    pub(crate) fn settle_find(
        &mut self,
        key: Option<&Path>,
        top: usize,
        height: usize,
    ) -> Option<usize> {
        if !self.find.text.is_empty() && self.find.layout != self.shown_layout(key) {
            self.refind(key, top);
        }
        let (path, offset) = self.result_jump.as_ref()?;
        if key != Some(path.as_path()) {
            self.result_jump = None;
            return None;
        }
        let line = match self.current(key) {
            Some(Loaded::Ready { doc, complete, .. })
                if *complete || doc.offsets.last().is_some_and(|o| o >= offset) =>
            {
                doc.line_for_offset(*offset)
            }
            Some(Loaded::Failed(_)) => {
                self.result_jump = None;
                return None;
            }
            _ => return None,
        };
        self.result_jump = None;
        self.refind(key, line);
        let near = self
            .find
            .current
            .and_then(|i| self.match_line(i))
            .filter(|&l| l >= line && l < line + height);
        if near.is_none() {
            self.find.current = None;
        }
        Some(near.unwrap_or(line).saturating_sub(height / 3))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::reader::Settings;
    use crate::app::test_post;
    use crate::posts::PostSource;
    use crate::theme::Theme;

    fn searched(text: &'static str, query: &str) -> (Reader, PathBuf) {
        let theme = Theme::default();
        let post = test_post("a.md", text);
        let mut reader = Reader::default();
        reader.ask(&post.rel_path);
        let source = PostSource {
            text: text.into(),
            body_start: 0,
            lossy: false,
            truncated_from: None,
            pictures: std::sync::Arc::default(),
        };
        let s = Settings {
            width: 40,
            theme: &theme,
            raw: false,
            wrap_code: true,
            pictures: false,
            details: true,
        };
        reader.load(&post, Ok(source), s);
        reader.open_find(0);
        reader.find_text().push_str(query);
        assert!(reader.refind(Some(&post.rel_path), 0));
        (reader, post.rel_path)
    }

    const HAY: &str = "needle one\n\nhay\n\nNeedle two\n\nhay\n\nneedle three\n";

    #[test]
    fn matches_are_counted_and_stepped_through_wrapping() {
        let (mut reader, key) = searched(HAY, "needle");
        assert_eq!(reader.find_count(), Some((Some(1), 3)));
        assert!(!reader.find_highlights(Some(&key), 0).is_empty());
        let (_, message) = reader.step_match(1, true, 0, 100);
        assert_eq!(message, None);
        let (_, message) = reader.step_match(2, true, 0, 100);
        assert_eq!(message.as_deref(), Some("Search wrapped to the top"));
        assert_eq!(reader.find_count(), Some((Some(1), 3)));
        let (_, message) = reader.step_match(1, false, 0, 100);
        assert_eq!(message.as_deref(), Some("Search wrapped to the bottom"));
        assert_eq!(reader.find_count(), Some((Some(3), 3)));
    }

    #[test]
    fn a_match_off_screen_moves_the_reader() {
        let (mut reader, _) = searched(HAY, "three");
        let (top, _) = reader.step_match(1, true, 0, 2);
        assert!(top.is_some(), "the last line is below a two-line screen");
        let (top, _) = reader.step_match(1, true, 0, 100);
        assert_eq!(top, None, "on screen already");
    }

    #[test]
    fn no_search_no_match_and_clearing() {
        let (mut reader, key) = searched(HAY, "zebra");
        assert_eq!(reader.find_count(), Some((None, 0)));
        assert_eq!(
            reader.step_match(1, true, 0, 10).1.as_deref(),
            Some("No match for zebra")
        );
        reader.clear_find();
        assert_eq!(reader.find_count(), None);
        assert!(reader.find_highlights(Some(&key), 0).is_empty());
        assert_eq!(
            reader.step_match(1, true, 0, 10).1.as_deref(),
            Some("No search: / searches this post")
        );
    }
}
