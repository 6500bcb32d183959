//! Bookmarks: `B` keeps the place on screen (or lets go of the one there),
//! `'` lists the places kept across the folder's posts, `Enter` opens one
//! and `d` deletes one. They live beside the reading marks ([`super::Marks`])
//! and are saved with them when reading state is kept.

use std::path::PathBuf;

use crate::state::{Bookmark, MAX_BOOKMARKS_PER_POST};

use super::marks::{find_near, snippet_at};
use super::mode::Mode;
use super::reader::{JumpTo, shown_body};
use super::{App, Loaded};

/// Characters of text a bookmark keeps to show in the list.
const WORDS_CHARS: usize = 60;

/// One row of the bookmark list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookmarkRow {
    pub post: PathBuf,
    /// The post's title and date; `None` when the post left the folder.
    pub title: Option<String>,
    pub date: Option<String>,
    pub heading: String,
    pub words: String,
    /// Which of the post's bookmarks this is.
    index: usize,
}

impl App {
    /// Every bookmark, for the list: posts in the list's order (posts no
    /// longer in the folder last), each post's places in text order.
    pub fn bookmark_rows(&self) -> Vec<BookmarkRow> {
        let mut rows: Vec<(usize, BookmarkRow)> = Vec::new();
        for (post, places) in self.marks.bookmarks() {
            let index = self.library.index_of(post);
            let found = index.and_then(|i| self.library.posts().get(i));
            for (i, b) in places.iter().enumerate() {
                rows.push((
                    index.unwrap_or(usize::MAX),
                    BookmarkRow {
                        post: post.clone(),
                        title: found.map(|p| p.title.clone()),
                        date: found.and_then(|p| p.date).map(|d| d.to_string()),
                        heading: b.heading.clone(),
                        words: b.words.clone(),
                        index: i,
                    },
                ));
            }
        }
        rows.sort_by_key(|(order, _)| *order);
        rows.into_iter().map(|(_, row)| row).collect()
    }

    /// `B`: bookmarks the line at the top of the reader, or removes the
    /// bookmark that is there.
    pub(super) fn toggle_bookmark(&mut self) {
        let Some(key) = self
            .library
            .selected_key()
            .map(std::path::Path::to_path_buf)
        else {
            return;
        };
        let Some(Loaded::Ready {
            source, doc, raw, ..
        }) = self.reader.loaded(&key)
        else {
            self.message = Some("Open a post to bookmark a place in it".into());
            return;
        };
        let top = self.reader.top(Some(&key));
        let body = shown_body(source, *raw);
        let mut places = self
            .marks
            .bookmarks()
            .get(&key)
            .cloned()
            .unwrap_or_default();
        let here = places.iter().position(|b| {
            let at = find_near(&body, &b.snippet, b.offset);
            let line = if at == 0 { 0 } else { doc.line_for_offset(at) };
            line == top
        });
        if let Some(i) = here {
            places.remove(i);
            self.message = Some("Bookmark removed".into());
        } else if places.len() >= MAX_BOOKMARKS_PER_POST {
            self.message = Some(format!(
                "This post has {MAX_BOOKMARKS_PER_POST} bookmarks, the most folio keeps: delete one first (')"
            ));
            return;
        } else {
            let offset = doc.offset_of_line(top);
            let heading = doc
                .heading_at(top)
                .and_then(|h| doc.headings.get(h))
                .map(|h| h.text.clone())
                .unwrap_or_default();
            places.push(Bookmark {
                offset,
                snippet: snippet_at(&body, offset),
                heading,
                words: words_at(doc, top),
            });
            self.message = Some("Bookmarked; ' lists the bookmarks".into());
        }
        self.marks.set_bookmarks(&key, places);
    }

    /// `'`: the bookmark list, on its first entry.
    pub(super) fn open_bookmarks(&mut self) {
        if self.marks.bookmarks().is_empty() {
            self.message = Some("No bookmarks yet: B bookmarks the place on screen".into());
            return;
        }
        self.mode = Mode::Bookmarks {
            selected: 0,
            over: self.focus(),
        };
    }

    /// Opens row `selected` of the list at its place.
    pub(super) fn open_bookmark(&mut self, selected: usize) {
        let Some(row) = self.bookmark_rows().into_iter().nth(selected) else {
            return;
        };
        let Some(b) = self
            .marks
            .bookmarks()
            .get(&row.post)
            .and_then(|p| p.get(row.index))
            .cloned()
        else {
            return;
        };
        let Some(index) = self.library.index_of(&row.post) else {
            self.message = Some(format!(
                "{} is no longer in the folder (d deletes the bookmark)",
                row.post.display()
            ));
            return;
        };
        self.remember_place();
        self.go_to(index, row.post, JumpTo::Text(b.offset, b.snippet));
    }

    /// `d` in the list: deletes row `selected`; the list closes once empty.
    pub(super) fn delete_bookmark(&mut self, selected: usize, over: super::Focus) {
        let Some(row) = self.bookmark_rows().into_iter().nth(selected) else {
            return;
        };
        let mut places = self
            .marks
            .bookmarks()
            .get(&row.post)
            .cloned()
            .unwrap_or_default();
        if row.index < places.len() {
            places.remove(row.index);
        }
        self.marks.set_bookmarks(&row.post, places);
        self.message = Some("Bookmark deleted".into());
        let left = self.bookmark_rows().len();
        self.mode = if left == 0 {
            Mode::pane(over)
        } else {
            Mode::Bookmarks {
                selected: selected.min(left - 1),
                over,
            }
        };
    }
}

/// A few words of the text from line `top` on: indentation, quote bars and
/// list markers left out, spaces collapsed.
fn words_at(doc: &crate::document::Document, top: usize) -> String {
    let mut out = String::new();
    for line in top..(top + 4).min(doc.len()) {
        let decoration = doc.flow.get(line).map_or(0, |f| usize::from(f.decoration));
        let text: String = doc.lines.get(line).map_or_else(String::new, |l| {
            l.spans
                .iter()
                .skip(decoration)
                .map(|s| s.content.as_ref())
                .collect()
        });
        for word in text.split_whitespace() {
            if out.chars().count() + word.chars().count() + 1 > WORDS_CHARS {
                if out.is_empty() {
                    out = word.chars().take(WORDS_CHARS).collect();
                }
                return out;
            }
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
        }
    }
    out
}
