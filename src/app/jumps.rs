//! Jumps: following a link, going back and forward, opening a search
//! result. They cross the parts: the list selects the post, the reader goes
//! to the place once the post is laid out, the history remembers where the
//! jump left from.

use std::path::PathBuf;

use crate::action::Effect;

use super::history::Place;
use super::links::{self, LinkTarget};
use super::reader::JumpTo;
use super::{App, Focus};

impl App {
    /// Follows link `index` of the current post, or copies its URL.
    pub(super) fn activate(&mut self, index: usize, copy: bool) {
        let Some((url, image)) = self
            .document()
            .and_then(|d| d.links.get(index))
            .map(|l| (l.url.clone(), l.image))
        else {
            return;
        };
        if copy {
            self.copy(url);
            return;
        }
        if image && self.open_picture(&url) {
            return;
        }
        match links::classify(&url) {
            LinkTarget::External(url) if self.options.remote => self.copy(url),
            LinkTarget::External(url) => {
                self.message = Some(format!("Opened {url}"));
                self.effects.push(Effect::OpenUrl(url));
            }
            LinkTarget::Refused(scheme) => {
                self.message = Some(format!("folio does not follow {scheme}: links"));
            }
            LinkTarget::Anchor(anchor) => {
                let line = self
                    .document()
                    .and_then(|d| d.heading_by_anchor(&anchor))
                    .map(|h| h.line);
                match line {
                    Some(line) => {
                        self.remember_place();
                        self.set_top(line);
                    }
                    None => self.message = Some(format!("No heading #{anchor} in this post")),
                }
            }
            LinkTarget::Post(path, anchor) => {
                let from = self
                    .selected_post()
                    .map_or_else(PathBuf::new, |p| p.rel_path.clone());
                let Some(target) = links::resolve_post(&from, &path, self.library.posts()) else {
                    self.message = Some(links::not_a_post(&path));
                    return;
                };
                self.remember_place();
                let rel = self.library.posts()[target].rel_path.clone();
                let to = anchor.map_or(JumpTo::Offset(0), JumpTo::Anchor);
                self.go_to(target, rel, to);
            }
        }
    }

    /// Opens picture `src` of the current post in the system's viewer, or
    /// over SSH copies its URL; false for a picture the post's survey does
    /// not know (it is followed as a link).
    fn open_picture(&mut self, src: &str) -> bool {
        let Some(spot) = self.survey().and_then(|s| s.get(src)).cloned() else {
            return false;
        };
        match spot {
            crate::picture::Spot::Refused(why) => self.message = Some(why),
            crate::picture::Spot::Found { url, .. } if self.options.remote => {
                self.copy(url.unwrap_or_else(|| src.to_owned()));
            }
            crate::picture::Spot::Found { file, url, .. } => {
                let decoded: Option<Result<(), String>> = self
                    .document()
                    .into_iter()
                    .flat_map(|d| d.pictures.iter())
                    .find(|p| p.src == src)
                    .and_then(|p| self.picture(p))
                    .map(|d| d.map(|_| ()).map_err(str::to_owned));
                // A remote picture not fetched has no file: the browser
                // shows it from its URL. A file that failed says why.
                let fetched = matches!(decoded, Some(Ok(())));
                if url.is_none()
                    && let Some(Err(why)) = decoded
                {
                    self.message = Some(why);
                    return true;
                }
                let target = match url {
                    Some(url) if !fetched => url,
                    // Never read as an option by the opener.
                    _ if file.is_relative() => format!("./{}", file.display()),
                    _ => file.display().to_string(),
                };
                let name = file.file_name().map_or_else(String::new, |n| {
                    crate::sanitize::sanitize(&n.to_string_lossy()).into_owned()
                });
                self.message = Some(format!("Opened the picture {name}"));
                self.effects.push(Effect::OpenUrl(target));
            }
        }
        true
    }

    /// Copies code block `index` of the document, unless it is too long for
    /// the clipboard (the same cap as a link's).
    pub(super) fn copy_code(&mut self, index: usize) {
        let Some(block) = self.document().and_then(|d| d.code_blocks.get(index)) else {
            return;
        };
        let max = crate::session::MAX_COPY;
        let n = block.text_lines;
        let text = block.text.clone().filter(|_| block.bytes <= max);
        let kb = block.bytes.div_ceil(1024);
        if let Some(text) = text {
            let lines = if n == 1 { "line" } else { "lines" };
            self.message = Some(format!("Copied {n} {lines} of code to the clipboard"));
            self.effects.push(Effect::Copy(text));
        } else {
            self.message = Some(format!(
                "This code block is {kb} KB ({n} lines), too long to copy: folio copies at most {} KB.",
                max / 1024
            ));
        }
    }

    fn copy(&mut self, url: String) {
        self.message = Some(format!("Copied {url} to the clipboard"));
        self.effects.push(Effect::Copy(url));
    }

    /// Where the reader is now, as a history entry.
    fn place(&self) -> Option<Place> {
        let post = self.selected_post()?.rel_path.clone();
        let offset = self.reader.anchor(&post);
        Some(Place { post, offset })
    }

    /// A jump is about to happen: the place it leaves becomes the one to go
    /// back to, and what was ahead is forgotten, as in a browser.
    pub(super) fn remember_place(&mut self) {
        let here = self.place();
        self.history.leave(here);
    }

    pub(super) fn history_step(&mut self, back: bool) {
        let Some(place) = self.history.take(back) else {
            self.message = Some(if back {
                "Nothing to go back to".into()
            } else {
                "Nothing to go forward to".into()
            });
            return;
        };
        let here = self.place();
        let Some(index) = self.library.index_of(&place.post) else {
            self.message = Some(format!(
                "{} is no longer in the folder",
                place.post.display()
            ));
            return;
        };
        self.history.stepped(back, here);
        self.go_to(index, place.post, JumpTo::Offset(place.offset));
    }

    /// Opens post `index` in the reader; once it is laid out the reader goes
    /// to `to`.
    pub(super) fn go_to(&mut self, index: usize, rel: PathBuf, to: JumpTo) {
        self.library.reveal(index);
        self.select(index);
        self.mode = self.mode.without_overlay().with_focus(Focus::Reader);
        self.reader.jump(rel, to);
        self.finish_jump();
    }

    /// Carries out a waiting jump once its post is laid out (far enough).
    pub(super) fn finish_jump(&mut self) {
        let Some((line, message)) = self.reader.land(self.library.selected_key()) else {
            return;
        };
        if message.is_some() {
            self.message = message;
        }
        self.set_top(line);
    }

    /// Opens result `i` of the search across all posts: its post, scrolled
    /// to the match once laid out, with the query as the in-post search.
    pub(super) fn open_hit(&mut self, i: usize) {
        let Some(hit) = self.search_all.results.get(i) else {
            return;
        };
        let posts = self.library.posts();
        let index = if posts
            .get(hit.index)
            .is_some_and(|p| p.rel_path == hit.rel_path)
        {
            hit.index
        } else if let Some(i) = self.library.index_of(&hit.rel_path) {
            i
        } else {
            self.message = Some("That post is no longer there".into());
            return;
        };
        let (rel, offset) = (hit.rel_path.clone(), hit.offset);
        self.mode = self.mode.without_overlay();
        self.library.reveal(index);
        self.select(index);
        self.mode = self.mode.with_focus(Focus::Reader);
        let text = self.search_all.text.clone();
        self.reader.show_result(rel, offset, text);
    }
}
