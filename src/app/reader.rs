//! The reader: each post as the runner read it and as it is laid out, the
//! position in each, jumps waiting for their post's layout, and the in-post
//! search. Posts are keyed by [`Post::rel_path`]: the list can change under
//! the reader (a reload), so list indices are no key.

mod find;
mod layout;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::document::Document;
use crate::posts::{Post, PostSource};
use crate::search::SearchText;
use crate::theme::Theme;

use super::marks::{find_near, snippet_at};

pub use find::Find;
pub(crate) use find::Seen as FindSeen;
pub(crate) use layout::shown_body;
pub use layout::{LayoutJob, LayoutKey, post_header};

/// A post once the runner has read it.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "one per post opened; a laid-out post is the common case"
)]
pub enum Loaded {
    /// Requested from the runner, not yet answered.
    Loading,
    Failed(String),
    Ready {
        source: PostSource,
        doc: Document,
        /// Laid out from the text as stored, without mojibake repair.
        raw: bool,
        /// Laid out with `<details>` open.
        details: bool,
        /// Mojibake was repaired in what `doc` shows.
        repaired: bool,
        /// `doc` is the final layout. Until then it is a quick one (code not
        /// highlighted; of a long post only the start) and a [`LayoutJob`]
        /// makes the final one.
        complete: bool,
        /// `doc` covers the whole post (a quick layout of a long one covers
        /// only its start).
        whole: bool,
        /// Which layout this is: a job's result replaces exactly the layout
        /// it was made for, never a newer one (other width, raw setting or
        /// theme).
        layout: u64,
    },
}

/// Identifies one layout of one post: (layout number, complete). Layout
/// numbers are never reused, so the number alone names the post too.
pub(crate) type ShownLayout = (u64, bool);

/// A post's state as the screen shows it (see [`Reader::seen`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seen {
    Loading,
    Failed,
    Ready(ShownLayout),
}

/// The reader's position in one post: the top line at the current layout,
/// and the source offset it shows, which survives a relayout.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Position {
    pub top: usize,
    pub anchor: usize,
    /// The text that was at `anchor` in an older version of the post (the
    /// file changed, or the position comes from a saved reading state): when
    /// the post is next laid out, the anchor moves to where that text is now.
    pub relocate: Option<String>,
}

/// Where the reader goes once the post being opened is laid out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum JumpTo {
    Anchor(String),
    Offset(usize),
    /// A kept place (a bookmark): the text there, found again near the
    /// offset if the post was edited.
    Text(usize, String),
}

/// What a layout is made with besides the post: the same for every post at
/// any one time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings<'a> {
    pub width: u16,
    pub theme: &'a Theme,
    /// Text as stored, without mojibake repair.
    pub raw: bool,
    pub wrap_code: bool,
    /// Rows are kept for pictures (see [`crate::markdown::reserve_pictures`]).
    pub pictures: bool,
    /// `<details>` blocks shown open (folded to their summary otherwise).
    pub details: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Reader {
    loaded: HashMap<PathBuf, Loaded>,
    /// The last layout job handed out, by layout number.
    layout_asked: Option<u64>,
    /// Numbers layouts for [`Loaded::Ready::layout`].
    layouts_made: u64,
    positions: HashMap<PathBuf, Position>,
    /// A jump waiting for its post to be laid out: (post, where).
    jump: Option<(PathBuf, JumpTo)>,
    /// After opening a search result: the post and the body offset to show
    /// once it is laid out.
    result_jump: Option<(PathBuf, usize)>,
    find: Find,
    /// The current layout's text for searching, made once per layout.
    search_text: Option<(ShownLayout, SearchText)>,
}

impl Reader {
    pub(crate) fn loaded(&self, key: &Path) -> Option<&Loaded> {
        self.loaded.get(key)
    }

    /// The state of post `key` (the selected one), if it has been asked for.
    pub(crate) fn current(&self, key: Option<&Path>) -> Option<&Loaded> {
        self.loaded.get(key?)
    }

    /// The layout of post `key`, when it is ready.
    pub(crate) fn document(&self, key: Option<&Path>) -> Option<&Document> {
        match self.current(key) {
            Some(Loaded::Ready { doc, .. }) => Some(doc),
            _ => None,
        }
    }

    /// What the screen shows of post `key`: whether it is read, and which
    /// layout (the number stands for the lines).
    pub(crate) fn seen(&self, key: Option<&Path>) -> Option<Seen> {
        Some(match self.current(key)? {
            Loaded::Loading => Seen::Loading,
            Loaded::Failed(_) => Seen::Failed,
            Loaded::Ready {
                layout, complete, ..
            } => Seen::Ready((*layout, *complete)),
        })
    }

    /// The layout of post `key` on screen, if it is laid out.
    pub(crate) fn shown_layout(&self, key: Option<&Path>) -> Option<ShownLayout> {
        match self.current(key) {
            Some(Loaded::Ready {
                layout, complete, ..
            }) => Some((*layout, *complete)),
            _ => None,
        }
    }

    pub(crate) fn position(&self, key: &Path) -> Option<&Position> {
        self.positions.get(key)
    }

    /// The first line on screen of post `key`.
    pub(crate) fn top(&self, key: Option<&Path>) -> usize {
        key.and_then(|k| self.positions.get(k)).map_or(0, |p| p.top)
    }

    /// The source offset at the top of post `key`.
    pub(crate) fn anchor(&self, key: &Path) -> usize {
        self.positions.get(key).map_or(0, |p| p.anchor)
    }

    /// The 1-based line of post `key`'s file that the top of the reader
    /// shows (the frontmatter counted), for an editor to open at; the first
    /// line at the top of the post. `None` before the post is read.
    pub(crate) fn source_line(&self, key: &Path) -> Option<usize> {
        let Some(Loaded::Ready { source, raw, .. }) = self.loaded.get(key) else {
            return None;
        };
        let anchor = self.anchor(key);
        if anchor == 0 {
            return Some(1);
        }
        // The anchor is in the body as shown; mojibake repair changes
        // characters, never line breaks, so the count is the file's.
        let body = shown_body(source, *raw);
        let mut end = anchor.min(body.len());
        while !body.is_char_boundary(end) {
            end -= 1;
        }
        let lines = |s: &str| s.matches('\n').count();
        Some(1 + lines(&source.text[..source.body_start]) + lines(&body[..end]))
    }

    /// The furthest down scrolling goes in post `key`: its last page.
    pub(crate) fn max_top(&self, key: Option<&Path>, height: usize) -> usize {
        self.document(key)
            .map_or(0, |d| d.len().saturating_sub(height))
    }

    /// Puts line `top` of post `key` at the top of the reader, kept inside
    /// the document; false when the post is not laid out.
    pub(crate) fn set_top(&mut self, key: &Path, top: usize) -> bool {
        let Some(doc) = self.document(Some(key)) else {
            return false;
        };
        let top = top.min(doc.len().saturating_sub(1));
        let anchor = doc.offset_of_line(top);
        self.positions.insert(
            key.to_path_buf(),
            Position {
                top,
                anchor,
                relocate: None,
            },
        );
        true
    }

    /// Post `key` is to be read, unless it has been asked for already:
    /// true once, when the runner should read it.
    pub(crate) fn ask(&mut self, key: &Path) -> bool {
        if self.loaded.contains_key(key) {
            return false;
        }
        self.loaded.insert(key.to_path_buf(), Loaded::Loading);
        true
    }

    /// Whether post `key` has been asked for (and not forgotten since).
    pub(crate) fn asked(&self, key: &Path) -> bool {
        self.loaded.contains_key(key)
    }

    /// The runner read `post`: laid out quickly, its position carried over
    /// from an older version found again.
    pub(crate) fn load(&mut self, post: &Post, result: Result<PostSource, String>, s: Settings) {
        let state = match result {
            Ok(source) => {
                let ready = self.ready(post, source, s);
                self.relocate(&post.rel_path, &ready);
                ready
            }
            Err(e) => Loaded::Failed(e),
        };
        self.loaded.insert(post.rel_path.clone(), state);
    }

    /// A position carried over from an older version of the post finds its
    /// text again in the new one.
    fn relocate(&mut self, key: &Path, ready: &Loaded) {
        let Loaded::Ready {
            source, doc, raw, ..
        } = ready
        else {
            return;
        };
        let Some(pos) = self.positions.get_mut(key) else {
            return;
        };
        let Some(snippet) = pos.relocate.take() else {
            return;
        };
        let body = shown_body(source, *raw);
        pos.anchor = find_near(&body, &snippet, pos.anchor);
        pos.top = if pos.anchor == 0 {
            0
        } else {
            doc.line_for_offset(pos.anchor)
        };
    }

    /// The file of post `key` changed: it is read again (the runner is asked
    /// anew) and its position kept on the same text. False when it was
    /// never read.
    pub(crate) fn changed(&mut self, key: &Path) -> bool {
        let Some(old) = self.loaded.remove(key) else {
            return false;
        };
        if let (Loaded::Ready { source, raw, .. }, Some(pos)) = (&old, self.positions.get_mut(key))
            && pos.relocate.is_none()
        {
            pos.relocate = Some(snippet_at(&shown_body(source, *raw), pos.anchor));
        }
        true
    }

    /// Forgets what was read of posts no longer listed (positions stay: an
    /// editor that saves by delete and re-create brings the post back).
    pub(crate) fn forget_unless(&mut self, listed: impl Fn(&Path) -> bool) {
        self.loaded.retain(|k, _| listed(k));
    }

    /// A remembered position in post `key`, found again by `snippet` once
    /// the post is laid out (at once if it already is).
    pub(crate) fn restore(&mut self, key: PathBuf, offset: usize, snippet: String) {
        if offset == 0 && snippet.is_empty() {
            return;
        }
        self.positions.insert(
            key.clone(),
            Position {
                top: 0,
                anchor: offset,
                relocate: Some(snippet),
            },
        );
        if let Some(ready) = self.loaded.remove(&key) {
            self.relocate(&key, &ready);
            self.loaded.insert(key, ready);
        }
    }

    /// Once post `rel` is laid out (far enough), the reader goes `to`.
    pub(crate) fn jump(&mut self, rel: PathBuf, to: JumpTo) {
        self.jump = Some((rel, to));
    }

    /// Carries out a waiting jump once its post, `key` (the selected one),
    /// is laid out far enough: the line to show, and a message when an
    /// anchor was not found.
    pub(crate) fn land(&mut self, key: Option<&Path>) -> Option<(usize, Option<String>)> {
        let (rel, to) = self.jump.as_ref()?;
        if key != Some(rel.as_path()) {
            // The person moved on to another post meanwhile.
            self.jump = None;
            return None;
        }
        let (doc, complete, source, raw) = match self.current(key) {
            Some(Loaded::Ready {
                doc,
                complete,
                source,
                raw,
                ..
            }) => (doc, *complete, source, *raw),
            Some(Loaded::Failed(_)) => {
                self.jump = None;
                return None;
            }
            _ => return None,
        };
        let landing = match to {
            JumpTo::Anchor(anchor) => match doc.heading_by_anchor(anchor) {
                Some(h) => (h.line, None),
                None if !complete => return None,
                None => (0, Some(format!("No heading #{anchor} in this post"))),
            },
            JumpTo::Offset(offset) => {
                // A long post's quick layout covers its start only.
                if !complete && doc.offsets.last().is_none_or(|&last| *offset > last) {
                    return None;
                }
                let line = if *offset == 0 {
                    0
                } else {
                    doc.line_for_offset(*offset)
                };
                (line, None)
            }
            JumpTo::Text(offset, snippet) => {
                let at = find_near(&shown_body(source, raw), snippet, *offset);
                if !complete && doc.offsets.last().is_none_or(|&last| at > last) {
                    return None;
                }
                let line = if at == 0 { 0 } else { doc.line_for_offset(at) };
                (line, None)
            }
        };
        self.jump = None;
        Some(landing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::test_post;

    const TEXT: &str = "# Title\n\nFirst paragraph.\n\n## Second\n\nThe second paragraph.\n\n## Third\n\nThe end.\n";

    fn settings(theme: &Theme) -> Settings<'_> {
        Settings {
            width: 40,
            theme,
            raw: false,
            wrap_code: true,
            pictures: false,
            details: true,
        }
    }

    fn source(text: &str) -> PostSource {
        PostSource {
            text: text.into(),
            body_start: 0,
            lossy: false,
            truncated_from: None,
            pictures: std::sync::Arc::default(),
        }
    }

    fn loaded(text: &'static str) -> (Reader, Post) {
        let theme = Theme::default();
        let post = test_post("a.md", text);
        let mut reader = Reader::default();
        assert!(reader.ask(&post.rel_path));
        assert!(!reader.ask(&post.rel_path), "asked once");
        reader.load(&post, Ok(source(text)), settings(&theme));
        (reader, post)
    }

    #[test]
    fn a_position_is_kept_inside_the_post() {
        let (mut reader, post) = loaded(TEXT);
        let key = Some(post.rel_path.as_path());
        let len = reader.document(key).unwrap().len();
        assert!(reader.set_top(&post.rel_path, 1000));
        assert_eq!(reader.top(key), len - 1);
        assert_eq!(reader.max_top(key, 3), len - 3);
        assert!(!reader.set_top(Path::new("other.md"), 1), "not laid out");
    }

    #[test]
    fn a_changed_post_finds_its_place_again() {
        let (mut reader, post) = loaded(TEXT);
        let key = post.rel_path.clone();
        let third = reader
            .document(Some(&key))
            .unwrap()
            .heading_by_anchor("third")
            .unwrap()
            .line;
        reader.set_top(&key, third);
        assert!(reader.changed(&key));
        assert!(reader.current(Some(&key)).is_none(), "to be read again");
        let edited = "# Title\n\nA new paragraph.\n\nFirst paragraph.\n\n## Second\n\nThe second paragraph.\n\n## Third\n\nThe end.\n";
        reader.ask(&key);
        let theme = Theme::default();
        reader.load(&post, Ok(source(edited)), settings(&theme));
        let doc = reader.document(Some(&key)).unwrap();
        let top = reader.top(Some(&key));
        assert_eq!(top, doc.heading_by_anchor("third").unwrap().line);
        assert!(top > third, "the heading moved down");
    }

    #[test]
    fn jumps_wait_for_their_post_and_report_a_missing_anchor() {
        let (mut reader, post) = loaded(TEXT);
        let key = Some(post.rel_path.as_path());
        reader.jump(post.rel_path.clone(), JumpTo::Anchor("second".into()));
        let line = reader
            .document(key)
            .unwrap()
            .heading_by_anchor("second")
            .unwrap()
            .line;
        assert_eq!(reader.land(key), Some((line, None)));
        assert_eq!(reader.land(key), None, "done");
        // A heading not in the quick layout may be in the final one.
        reader.jump(post.rel_path.clone(), JumpTo::Anchor("nowhere".into()));
        let theme = Theme::default();
        if let Some(job) = reader.pending_layout(&post, &theme, true, false) {
            assert_eq!(reader.land(key), None, "waits for the final layout");
            let crate::action::Report::LaidOut {
                key: rel,
                layout,
                doc,
            } = job.run()
            else {
                unreachable!("a layout job reports a layout");
            };
            reader.laid_out(&rel, layout, *doc);
        }
        let message = Some("No heading #nowhere in this post".to_owned());
        assert_eq!(reader.land(key), Some((0, message)));
        reader.jump(post.rel_path.clone(), JumpTo::Offset(0));
        assert_eq!(reader.land(Some(Path::new("b.md"))), None);
        assert_eq!(reader.land(key), None, "another post was chosen meanwhile");
    }
}
