//! Laying posts out: a quick layout on the key path, the final one as a
//! [`LayoutJob`] for the runner, and keeping the position on the same text
//! when one replaces the other or the width changes.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use ratatui::text::{Line, Span};

use crate::action::Report;
use crate::document::Document;
use crate::markdown;
use crate::mojibake;
use crate::posts::{Post, PostSource};
use crate::sanitize::{sanitize, wrap_words};
use crate::theme::Theme;

use super::{Loaded, Reader, Settings};

/// Posts longer than this are first laid out from their start only.
const QUICK_BYTES: usize = 256 * 1024;

/// Laying out a post in full, with its code highlighted: syntect and the
/// length of a long post are the slow parts of layout, so the runner does
/// this off the key path and reports back with [`Report::LaidOut`]. A quick
/// layout shows meanwhile: the same lines without highlighting, and of a long
/// post only its start.
#[derive(Debug, Clone)]
pub struct LayoutJob {
    /// The post's [`Post::rel_path`].
    pub key: PathBuf,
    layout: u64,
    width: u16,
    raw: bool,
    details: bool,
    post: Post,
    source: PostSource,
    theme: Theme,
    wrap_code: bool,
    pictures: bool,
}

/// Everything a [`LayoutJob`]'s result depends on besides the post's text:
/// jobs with equal keys lay out alike, so a runner may share one result
/// between sessions (`folio serve` does).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LayoutKey {
    pub rel_path: std::path::PathBuf,
    pub width: u16,
    pub raw: bool,
    pub wrap_code: bool,
    pub details: bool,
    pub theme: String,
    pub depth: crate::color::Depth,
    pub pictures: bool,
    /// A hash of the post's pictures' places and sizes, which set their rows.
    pub survey: u64,
}

impl LayoutJob {
    pub fn cache_key(&self) -> LayoutKey {
        LayoutKey {
            rel_path: self.post.rel_path.clone(),
            width: self.width,
            raw: self.raw,
            wrap_code: self.wrap_code,
            details: self.details,
            theme: self.theme.name.clone(),
            depth: self.theme.depth,
            pictures: self.pictures,
            survey: {
                use std::hash::{Hash, Hasher};
                let mut h = std::collections::hash_map::DefaultHasher::new();
                self.source.pictures.hash(&mut h);
                h.finish()
            },
        }
    }

    /// The report for `doc`, a layout made by a job with an equal key.
    pub fn done(&self, doc: Box<Document>) -> Report {
        Report::LaidOut {
            key: self.key.clone(),
            layout: self.layout,
            doc,
        }
    }

    /// The final layout, as a report for [`crate::app::App::report`].
    pub fn run(&self) -> Report {
        let (doc, _) = lay_out(
            &self.post,
            &self.source,
            markdown::estimate_words(self.source.body()),
            self.width,
            &self.theme,
            markdown::RenderOptions {
                wrap_code: self.wrap_code,
                highlight: true,
                details_open: self.details,
            },
            self.raw,
            self.pictures,
        );
        Report::LaidOut {
            key: self.key.clone(),
            layout: self.layout,
            doc: Box::new(doc),
        }
    }
}

impl Reader {
    /// `post` ready in its quick layout: no code highlighting, and of a
    /// long post only its start. Complete when that is already the final
    /// one (the whole post, and a theme that highlights nothing).
    pub(crate) fn ready(&mut self, post: &Post, source: PostSource, s: Settings) -> Loaded {
        let opts = markdown::RenderOptions {
            wrap_code: s.wrap_code,
            highlight: false,
            details_open: s.details,
        };
        let (quick, whole) = quick_part(&source);
        // The reading time is the whole post's, in the quick layout too.
        let words = markdown::estimate_words(source.body());
        let (doc, repaired) = lay_out(
            post, &quick, words, s.width, s.theme, opts, s.raw, s.pictures,
        );
        self.layouts_made += 1;
        // A diagram is drawn in the final layout only.
        let complete =
            whole && s.theme.syntax.is_off() && !markdown::may_have_diagram(source.body());
        Loaded::Ready {
            source,
            doc,
            raw: s.raw,
            details: s.details,
            repaired,
            complete,
            whole,
            layout: self.layouts_made,
        }
    }

    /// Every post laid out again in `s` (another theme): lines stay where
    /// they were, only styles change.
    pub(crate) fn relayout_all(&mut self, posts: &[Post], s: Settings) {
        let ready: Vec<PathBuf> = self
            .loaded
            .iter()
            .filter(|(_, l)| matches!(l, Loaded::Ready { .. }))
            .map(|(k, _)| k.clone())
            .collect();
        for key in ready {
            if let Some(Loaded::Ready { source, .. }) = self.loaded.remove(&key) {
                let ready = match posts.iter().find(|p| p.rel_path == key) {
                    Some(post) => self.ready(post, source, s),
                    None => Loaded::Failed("this post is no longer in the folder".into()),
                };
                self.loaded.insert(key, ready);
            }
        }
    }

    /// `post` (the selected one) laid out for `s` if its layout was made
    /// for another width or raw setting, its position anchored to the same
    /// text; the position kept inside the document.
    pub(crate) fn fit(&mut self, post: &Post, s: Settings) {
        let key = post.rel_path.as_path();
        if let Some(Loaded::Ready {
            doc, raw, details, ..
        }) = self.loaded.get(key)
            && (doc.width != s.width || *raw != s.raw || *details != s.details)
        {
            let Some(Loaded::Ready { source, .. }) = self.loaded.remove(key) else {
                unreachable!("checked above");
            };
            let ready = self.ready(post, source, s);
            if let (Some(pos), Loaded::Ready { doc, .. }) = (self.positions.get_mut(key), &ready) {
                pos.top = if pos.top == 0 {
                    0
                } else {
                    doc.line_for_offset(pos.anchor)
                };
            }
            self.loaded.insert(key.to_path_buf(), ready);
        }
        if let Some(Loaded::Ready { doc, .. }) = self.loaded.get(key)
            && let Some(pos) = self.positions.get_mut(key)
        {
            pos.top = pos.top.min(doc.len().saturating_sub(1));
        }
    }

    /// Work for the runner: the final layout of `post` (the selected one),
    /// asked for once per quick layout.
    pub(crate) fn pending_layout(
        &mut self,
        post: &Post,
        theme: &Theme,
        wrap_code: bool,
        pictures: bool,
    ) -> Option<LayoutJob> {
        let Some(Loaded::Ready {
            source,
            doc,
            raw,
            details,
            complete: false,
            layout,
            ..
        }) = self.loaded.get(&post.rel_path)
        else {
            return None;
        };
        if self.layout_asked == Some(*layout) {
            return None;
        }
        let job = LayoutJob {
            key: post.rel_path.clone(),
            layout: *layout,
            width: doc.width,
            raw: *raw,
            details: *details,
            post: post.clone(),
            source: source.clone(),
            theme: theme.clone(),
            wrap_code,
            pictures,
        };
        self.layout_asked = Some(job.layout);
        Some(job)
    }

    /// The final layout of post `key`, made for its layout `layout`.
    pub(crate) fn laid_out(&mut self, key: &Path, layout: u64, new_doc: Document) {
        let Some(Loaded::Ready {
            doc,
            complete,
            whole,
            layout: current,
            ..
        }) = self.loaded.get_mut(key)
        else {
            return;
        };
        // A stale result (the width, the raw toggle or the theme changed
        // meanwhile, so the post was laid out again) is dropped; the newer
        // layout has its own job.
        if *complete || *current != layout {
            return;
        }
        // The quick layout is the final one's start line for line (or the
        // same lines without colour), so the reader's top line stays put;
        // should a long post's start have laid out differently, the source
        // anchor finds the same text.
        let line_text = |d: &Document, i: usize| -> Option<String> {
            d.lines
                .get(i)
                .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
        };
        let old_top = self
            .positions
            .get(key)
            .map(|p| (p.top, line_text(doc, p.top)));
        *doc = new_doc;
        *complete = true;
        *whole = true;
        if let Some((top, text)) = old_top
            && line_text(doc, top) != text
            && let Some(pos) = self.positions.get_mut(key)
        {
            // The anchor, not the quick layout's line: a position restored
            // past the quick layout's end is found only in the full one.
            pos.top = doc.line_for_offset(pos.anchor);
        }
    }
}

/// Lays out `post` with any notices about it above its body; true when
/// mojibake was repaired.
#[expect(
    clippy::too_many_arguments,
    reason = "the quick and the final layout pass the same eight things"
)]
fn lay_out(
    post: &Post,
    source: &PostSource,
    words: usize,
    width: u16,
    theme: &Theme,
    opts: markdown::RenderOptions,
    raw: bool,
    pictures: bool,
) -> (Document, bool) {
    let body = shown_body(source, raw);
    let repaired = matches!(body, Cow::Owned(_));
    let mut doc = markdown::render_with(&body, width, theme, opts);
    doc.words = words;
    // Built-in posts and standard input have no folder to read pictures from.
    if pictures && matches!(post.origin, crate::posts::Origin::File(_)) {
        markdown::reserve_pictures(&mut doc, &|src| source.pictures.rows(src, width));
    }
    // Only a title from the frontmatter makes a header: a body's own
    // heading or a file name says nothing new.
    if post.titled {
        markdown::prepend_header(&mut doc, &post_header(post), words, width, theme);
    }
    let mut notices: Vec<Line<'static>> = Vec::new();
    let mut notice = |text: String| {
        for line in wrap_words(&sanitize(&text), usize::from(width)) {
            notices.push(Line::from(Span::styled(line, theme.md.frontmatter_error)));
        }
    };
    if let Some(err) = &post.error {
        notice(format!("⚠ Frontmatter error, {err}"));
    }
    if let Some(size) = source.truncated_from {
        let limit = crate::posts::BODY_LIMIT;
        // A stream is not read to its end: only "more than the limit" is known.
        let size = if size > limit as u64 + 1 {
            format!("{} MB", size.div_ceil(1 << 20))
        } else {
            format!("over {} MB", limit >> 20)
        };
        notice(format!(
            "⚠ This post is {size}; folio shows its first {} MB.",
            limit >> 20
        ));
    }
    if source.lossy || post.lossy {
        notice("⚠ This file is not valid UTF-8: undecodable bytes are shown as �".into());
    }
    if !notices.is_empty() {
        notices.push(Line::default());
    }
    doc.prepend(&notices);
    (doc, repaired)
}

/// What the post header shows of `post`'s frontmatter (the reader's and
/// `--print`'s).
pub fn post_header(post: &Post) -> markdown::PostHeader<'_> {
    markdown::PostHeader {
        title: &post.title,
        date: post.date.map(|d| d.to_string()),
        updated: post.updated.map(|d| d.to_string()),
        author: post.author.as_deref(),
        tags: &post.tags,
        draft: post.draft,
    }
}

/// The body as laid out: as stored, or with mojibake repaired. Document
/// offsets point into this.
pub(crate) fn shown_body(source: &PostSource, raw: bool) -> Cow<'_, str> {
    if raw {
        Cow::Borrowed(source.body())
    } else {
        mojibake::repair(source.body())
    }
}

/// What the quick layout covers: all of a short post, the start of a long
/// one cut at a paragraph break (enough for many screens, fast to lay out);
/// and whether that is the whole post.
fn quick_part(source: &PostSource) -> (Cow<'_, PostSource>, bool) {
    let body = source.body();
    if body.len() <= QUICK_BYTES {
        return (Cow::Borrowed(source), true);
    }
    let mut cut = QUICK_BYTES;
    while !body.is_char_boundary(cut) {
        cut -= 1;
    }
    let cut = body[..cut].rfind("\n\n").map_or(cut, |i| i + 2);
    let quick = PostSource {
        text: source.text[..source.body_start + cut].into(),
        pictures: std::sync::Arc::clone(&source.pictures),
        ..*source
    };
    (Cow::Owned(quick), false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(body: &str) -> PostSource {
        PostSource {
            text: format!("---\ntitle: x\n---\n{body}").into(),
            body_start: 17,
            lossy: false,
            truncated_from: None,
            pictures: std::sync::Arc::default(),
        }
    }

    #[test]
    fn a_long_post_is_first_laid_out_from_its_start() {
        let short = source("Short.\n");
        assert!(quick_part(&short).1);
        let paragraph = format!("{}\n\n", "word ".repeat(100));
        let long = source(&paragraph.repeat(QUICK_BYTES / paragraph.len() + 10));
        let (quick, whole) = quick_part(&long);
        assert!(!whole);
        let body = quick.body();
        assert!(body.len() <= QUICK_BYTES);
        assert!(body.ends_with("\n\n"), "cut at a paragraph break");
        assert!(long.body().starts_with(body));
    }

    #[test]
    fn the_shown_body_is_repaired_unless_raw() {
        let mangled = source("cafÃ© au lait\n");
        assert_eq!(shown_body(&mangled, true), "cafÃ© au lait\n");
        assert_eq!(shown_body(&mangled, false), "café au lait\n");
    }
}
