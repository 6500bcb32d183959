//! Links in the reader: the hints link mode shows, the link under a click,
//! and what a link's URL points at (a heading, another post, the web).

use std::path::Path;

use ratatui::layout::Rect;

use crate::document::Document;
use crate::posts::Post;

/// The letters hints are made of: the home row, none of them `y` (which
/// switches link mode to copying) or `Esc`.
pub const HINT_KEYS: &str = "asdfghjkl";

/// Most hints shown at once: every label of three letters.
const MAX_HINTS: usize = 729;

/// Link mode: which hint letters have been typed, and whether the chosen
/// link is followed or its URL copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LinkMode {
    pub copy: bool,
    typed: [u8; 3],
    len: u8,
}

impl LinkMode {
    /// Nothing typed yet.
    pub(crate) fn new(copy: bool) -> LinkMode {
        LinkMode {
            copy,
            ..LinkMode::default()
        }
    }

    /// The part of a hint typed so far.
    pub fn typed(&self) -> &str {
        std::str::from_utf8(&self.typed[..usize::from(self.len)]).unwrap_or("")
    }

    /// `c` typed after what was: `None` when no hint can be that long or
    /// hold `c`.
    pub(crate) fn and(self, c: char) -> Option<LinkMode> {
        let len = usize::from(self.len);
        if len >= self.typed.len() || !c.is_ascii() {
            return None;
        }
        let mut next = self;
        next.typed[len] = c as u8;
        next.len += 1;
        Some(next)
    }
}

/// What a hint stands for: a link, or a code block (whose hint copies it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HintTarget {
    /// An index into [`Document::links`].
    Link(usize),
    /// An index into [`Document::code_blocks`].
    Code(usize),
}

/// A hint shown in link mode: its label, at a screen position, for a link
/// or a code block of the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    pub label: String,
    pub target: HintTarget,
    pub x: u16,
    pub y: u16,
}

/// The hints for the links and code blocks of `doc` on screen, its line
/// `top` at the top of the text column `text`, in reading order. Labels are
/// all the same length, so none is a prefix of another.
pub(crate) fn hints(doc: &Document, text: Rect, top: usize) -> Vec<Hint> {
    let bottom = top + usize::from(text.height);
    let on_screen = |line: usize| (top..bottom).contains(&line);
    let mut spots: Vec<(HintTarget, usize, usize)> = Vec::new();
    // A code block's hint sits at the start of its first row on screen.
    for (i, block) in doc.code_blocks_on(top..bottom) {
        spots.push((
            HintTarget::Code(i),
            block.lines.start.max(top),
            block.column,
        ));
        if spots.len() == MAX_HINTS {
            break;
        }
    }
    for (i, link) in doc.links_on(top..bottom) {
        if spots.len() >= MAX_HINTS {
            break;
        }
        let spot = if on_screen(link.line) {
            Some((link.line, link.column))
        } else {
            link.areas
                .iter()
                .find(|a| on_screen(a.line))
                .map(|a| (a.line, a.start))
        };
        // An image inside a link starts where the link does: one hint,
        // the outer link's, which comes first.
        if let Some((line, col)) = spot
            && !spots.iter().any(|&(_, l, c)| (l, c) == (line, col))
        {
            spots.push((HintTarget::Link(i), line, col));
        }
    }
    // Labels in reading order: top to bottom, left to right.
    spots.sort_by_key(|&(_, line, col)| (line, col));
    let labels = hint_labels(spots.len());
    spots
        .into_iter()
        .zip(labels)
        .map(|((target, line, col), label)| Hint {
            label,
            target,
            x: text.x
                + u16::try_from(col)
                    .unwrap_or(u16::MAX)
                    .min(text.width.saturating_sub(1)),
            y: text.y + u16::try_from(line - top).unwrap_or(0),
        })
        .collect()
}

/// The link of `doc` whose text is shown at screen cell (`col`, `row`),
/// its line `top` at the top of the text column `text`.
pub(crate) fn link_at(doc: &Document, text: Rect, top: usize, col: u16, row: u16) -> Option<usize> {
    let line = top + usize::from(row.checked_sub(text.y)?);
    let x = usize::from(col.checked_sub(text.x)?);
    doc.links_on(line..line + 1)
        .find(|(_, l)| {
            l.areas
                .iter()
                .any(|a| a.line == line && (a.start..a.end).contains(&x))
        })
        .map(|(i, _)| i)
}

/// `n` hint labels, all of the same length (one letter while that is
/// enough, then two, then three), so typing one never stops at a prefix.
pub fn hint_labels(n: usize) -> Vec<String> {
    let keys: Vec<char> = HINT_KEYS.chars().collect();
    let base = keys.len();
    let mut len = 1;
    let mut room = base;
    while room < n {
        len += 1;
        room *= base;
    }
    (0..n)
        .map(|i| {
            let mut label = vec![' '; len];
            let mut rest = i;
            for slot in label.iter_mut().rev() {
                *slot = keys[rest % base];
                rest /= base;
            }
            label.into_iter().collect()
        })
        .collect()
}

/// What a link points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LinkTarget {
    /// A heading of the current post.
    Anchor(String),
    /// Another post (path as written, resolved later), maybe a heading.
    Post(String, Option<String>),
    External(String),
    Refused(String),
}

/// What a link's URL points at: a scheme folio can hand to the opener
/// (http, https, mailto), one it refuses, a heading, or a post.
pub(crate) fn classify(url: &str) -> LinkTarget {
    let url = url.trim();
    if let Some(anchor) = url.strip_prefix('#') {
        return LinkTarget::Anchor(percent_decode(anchor));
    }
    if url.starts_with("//") {
        return LinkTarget::External(format!("https:{url}"));
    }
    let scheme_end = url.find(':').filter(|&i| {
        let scheme = &url[..i];
        scheme.len() > 1
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    });
    if let Some(i) = scheme_end {
        let scheme = url[..i].to_ascii_lowercase();
        return if matches!(scheme.as_str(), "http" | "https" | "mailto") {
            LinkTarget::External(url.to_owned())
        } else {
            LinkTarget::Refused(scheme)
        };
    }
    let (path, anchor) = match url.split_once('#') {
        Some((p, a)) => (p, Some(percent_decode(a)).filter(|a| !a.is_empty())),
        None => (url, None),
    };
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() {
        return match anchor {
            Some(a) => LinkTarget::Anchor(a),
            None => LinkTarget::Refused("empty".into()),
        };
    }
    LinkTarget::Post(path.to_owned(), anchor)
}

/// Why a link to `path` that is no post folio shows goes nowhere: a file of
/// another kind can still be copied.
pub(crate) fn not_a_post(path: &str) -> String {
    let name = path.rsplit('/').next().unwrap_or_default();
    let other_file = name.rsplit_once('.').is_some_and(|(_, ext)| {
        !matches!(
            ext.to_ascii_lowercase().as_str(),
            "md" | "markdown" | "html" | "htm"
        )
    });
    if other_file {
        format!("{path} is not a post; y copies its address")
    } else {
        format!("No post {path} in this folder")
    }
}

/// `%XX` escapes decoded (as UTF-8, lossily); anything else kept.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = s.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The post a relative link `link` in post `from` points at: resolved
/// against `from`'s folder (`/` starts at the posts folder), `..` applied,
/// and matched with or without `.md`/`.markdown` (or `.html`), or as a
/// folder's `index.md`.
pub(crate) fn resolve_post(from: &Path, link: &str, posts: &[Post]) -> Option<usize> {
    let link = percent_decode(link);
    let mut parts: Vec<String> = if link.starts_with('/') {
        Vec::new()
    } else {
        from.parent()
            .map(|d| {
                d.components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    for part in link.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                // Above the posts folder: nothing folio shows.
                parts.pop()?;
            }
            p => parts.push(p.to_owned()),
        }
    }
    let dir_only = link.ends_with('/');
    let last = parts.pop()?;
    let joined = |name: &str| {
        let mut p = parts.clone();
        p.push(name.to_owned());
        p.join("/")
    };
    let mut candidates = Vec::new();
    if !dir_only {
        candidates.push(joined(&last));
        let stem = last
            .strip_suffix(".html")
            .or_else(|| last.strip_suffix(".htm"))
            .unwrap_or(&last);
        if !has_markdown_ext(&last) {
            candidates.push(joined(&format!("{stem}.md")));
            candidates.push(joined(&format!("{stem}.markdown")));
        }
    }
    candidates.push(format!("{}/index.md", joined(&last)));
    candidates.push(format!("{}/index.markdown", joined(&last)));
    let key = |p: &Path| {
        p.components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/")
    };
    for candidate in &candidates {
        if let Some(i) = posts.iter().position(|p| &key(&p.rel_path) == candidate) {
            return Some(i);
        }
    }
    None
}

fn has_markdown_ext(name: &str) -> bool {
    Path::new(name)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("md") || e.eq_ignore_ascii_case("markdown"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::test_post;

    #[test]
    fn urls_are_sorted_by_where_they_go() {
        assert_eq!(
            classify("#Two%20words"),
            LinkTarget::Anchor("Two words".into())
        );
        assert_eq!(
            classify("//example.com/x"),
            LinkTarget::External("https://example.com/x".into())
        );
        assert_eq!(
            classify(" HTTPS://example.com "),
            LinkTarget::External("HTTPS://example.com".into())
        );
        assert_eq!(
            classify("javascript:alert(1)"),
            LinkTarget::Refused("javascript".into())
        );
        assert_eq!(
            classify("../notes/a.md?x=1#Setup"),
            LinkTarget::Post("../notes/a.md".into(), Some("Setup".into()))
        );
        assert_eq!(classify("?q#top"), LinkTarget::Anchor("top".into()));
        assert_eq!(classify("?q"), LinkTarget::Refused("empty".into()));
        // A drive letter is a path, not a scheme.
        assert_eq!(
            classify("c:/x.md"),
            LinkTarget::Post("c:/x.md".into(), None)
        );
    }

    #[test]
    fn percent_escapes_decode_and_broken_ones_stay() {
        assert_eq!(percent_decode("caf%C3%A9"), "café");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }

    #[test]
    fn post_links_resolve_like_a_static_site() {
        let posts = vec![
            test_post("notes/a.md", "# A\n"),
            test_post("notes/b.markdown", "# B\n"),
            test_post("guide/index.md", "# Guide\n"),
            test_post("top.md", "# Top\n"),
        ];
        let from = Path::new("notes/a.md");
        assert_eq!(resolve_post(from, "b", &posts), Some(1));
        assert_eq!(resolve_post(from, "a.html", &posts), Some(0));
        assert_eq!(resolve_post(from, "../guide/", &posts), Some(2));
        assert_eq!(resolve_post(from, "/top.md", &posts), Some(3));
        assert_eq!(resolve_post(from, "../../top.md", &posts), None);
        assert_eq!(resolve_post(from, "missing.md", &posts), None);
    }

    #[test]
    fn link_mode_takes_at_most_three_letters() {
        let mode = LinkMode::new(true);
        let typed = mode.and('a').and_then(|m| m.and('s')).unwrap();
        assert_eq!(typed.typed(), "as");
        assert!(typed.copy);
        let full = typed.and('d').unwrap();
        assert_eq!(full.and('f'), None);
        assert_eq!(mode.and('é'), None);
    }

    #[test]
    fn other_files_can_be_copied() {
        assert_eq!(
            not_a_post("img/cat.png"),
            "img/cat.png is not a post; y copies its address"
        );
        assert_eq!(not_a_post("gone.md"), "No post gone.md in this folder");
    }
}
