//! The post header: the title, date, author, tags and reading time that a
//! blog's generator renders from the frontmatter, shown above the body
//! (most posts have no `# Title` of their own). Pure: the caller hands over
//! what the frontmatter said.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthStr;

use crate::document::{Document, Heading, Lines};
use crate::sanitize::{sanitize, wrap_words};
use crate::theme::Theme;

/// Reading speed for the reading time: about what studies of silent
/// reading of non-fiction find for adults.
pub const WORDS_PER_MINUTE: usize = 230;

/// What the header shows, as the frontmatter said it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PostHeader<'a> {
    pub title: &'a str,
    /// Already formatted (`2024-08-03`).
    pub date: Option<String>,
    pub updated: Option<String>,
    pub author: Option<&'a str>,
    pub tags: &'a [String],
    pub draft: bool,
}

/// The words of `body`, for the reading time: whitespace-separated runs
/// with a letter or digit in them (so `-`, `|` and `#` of the markup are
/// not words).
pub fn count_words(body: &str) -> usize {
    body.split_whitespace()
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count()
}

/// Minutes to read `words` words, at least one.
pub fn reading_minutes(words: usize) -> usize {
    words.div_ceil(WORDS_PER_MINUTE).max(1)
}

/// Whether a heading says the title: the same words, or the start of them
/// (`# Alpha` under the title "Alpha: a long post"), or the title is the
/// heading's start.
fn same_title(heading: &str, title: &str) -> bool {
    let norm = |s: &str| -> String {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    let (h, t) = (norm(heading), norm(&sanitize(title)));
    if h.is_empty() || t.is_empty() {
        return false;
    }
    h == t || t.starts_with(&format!("{h} ")) || h.starts_with(&format!("{t} "))
}

/// Whether the laid-out body opens with the title as a heading (then the
/// header would say it twice).
pub fn opens_with_title(doc: &Document, title: &str) -> bool {
    opens_with_title_in(&doc.lines, &doc.headings, title)
}

/// [`opens_with_title`] for the first lines of a body and their headings
/// (`--print` writes a long body as it is laid out).
pub fn opens_with_title_in(lines: &Lines, headings: &[Heading], title: &str) -> bool {
    let Some(first) = headings.first() else {
        return false;
    };
    let first_text = (0..lines.len()).find(|&i| {
        lines
            .get(i)
            .is_some_and(|l| l.spans.iter().any(|s| !s.content.trim().is_empty()))
    });
    first_text == Some(first.line) && first.level <= 2 && same_title(&first.text, title)
}

/// The header's lines at `width` columns, ending in a rule and a blank line;
/// `with_title` false leaves the title out (the body has it).
pub fn header_lines(
    header: &PostHeader<'_>,
    words: usize,
    with_title: bool,
    width: u16,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let width = usize::from(width.max(1));
    let mut lines = Vec::new();
    if with_title && !header.title.trim().is_empty() {
        for line in wrap_words(&sanitize(header.title), width) {
            lines.push(Line::from(Span::styled(line, theme.md.h1)));
        }
    }
    let mut meta: Vec<(String, Style)> = Vec::new();
    if header.draft {
        meta.push(("draft".into(), theme.ui.marker_draft));
    }
    if let Some(date) = &header.date {
        meta.push((date.clone(), theme.ui.list_date));
    }
    if let Some(updated) = header
        .updated
        .as_ref()
        .filter(|u| Some(*u) != header.date.as_ref())
    {
        meta.push((format!("updated {updated}"), theme.ui.list_date));
    }
    if let Some(author) = header.author.filter(|a| !a.trim().is_empty()) {
        meta.push((format!("by {}", sanitize(author)), theme.ui.list_excerpt));
    }
    meta.push((
        format!("{} min read", reading_minutes(words)),
        theme.ui.list_excerpt,
    ));
    push_items(&mut lines, &meta, " · ", width, theme.ui.list_excerpt);
    let tags: Vec<(String, Style)> = header
        .tags
        .iter()
        .map(|t| (format!("#{}", sanitize(t)), theme.md.list_marker))
        .collect();
    push_items(&mut lines, &tags, " ", width, theme.ui.list_excerpt);
    lines.push(Line::from(Span::styled(
        "─".repeat(width.min(40)),
        theme.md.rule,
    )));
    lines.push(Line::default());
    lines
}

/// The words of a body for its reading time: counted in the first MiB,
/// estimated past it (a 16 MB post is not walked word by word to say
/// "1,200 min").
pub fn estimate_words(body: &str) -> usize {
    const COUNTED: usize = 1 << 20;
    if body.len() <= COUNTED {
        return count_words(body);
    }
    let mut cut = COUNTED;
    while !body.is_char_boundary(cut) {
        cut -= 1;
    }
    count_words(&body[..cut]).saturating_mul(body.len()) / cut.max(1)
}

/// Puts the header above `doc` (without the title when the body opens with
/// it; not at all when that leaves nothing but the reading time of a post
/// with no frontmatter to speak of).
pub fn prepend_header(
    doc: &mut Document,
    header: &PostHeader<'_>,
    words: usize,
    width: u16,
    theme: &Theme,
) {
    if opens_with_title(doc, header.title) {
        return;
    }
    let lines = header_lines(header, words, true, width, theme);
    doc.prepend(&lines);
}

/// Lays `items` out on lines of `width`, separated by `sep`, breaking
/// between items (an item wider than the line is cut into words).
fn push_items(
    lines: &mut Vec<Line<'static>>,
    items: &[(String, Style)],
    sep: &str,
    width: usize,
    sep_style: Style,
) {
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    for (text, style) in items {
        for piece in wrap_words(text, width) {
            let w = piece.width();
            if used > 0 && used + sep.width() + w > width {
                lines.push(Line::from(std::mem::take(&mut spans)));
                used = 0;
            }
            if used > 0 {
                spans.push(Span::styled(sep.to_owned(), sep_style));
                used += sep.width();
            }
            used += w;
            spans.push(Span::styled(piece, *style));
        }
    }
    if !spans.is_empty() {
        lines.push(Line::from(spans));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(lines: &[Line<'_>]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    #[test]
    fn reading_time_is_words_over_230_rounded_up() {
        assert_eq!(reading_minutes(0), 1);
        assert_eq!(reading_minutes(230), 1);
        assert_eq!(reading_minutes(231), 2);
        assert_eq!(count_words("# Title\n\n- one two | --- | three\n"), 4);
    }

    #[test]
    fn header_shows_every_field_and_wraps() {
        let theme = Theme::default();
        let tags = vec!["rust".to_string(), "terminal".to_string()];
        let h = PostHeader {
            title: "A title long enough to wrap",
            date: Some("2024-08-03".into()),
            updated: Some("2024-09-01".into()),
            author: Some("Ann \u{1b}[31mLee"),
            tags: &tags,
            draft: true,
        };
        let lines = text(&header_lines(&h, 700, true, 20, &theme));
        assert_eq!(
            lines,
            [
                "A title long enough",
                "to wrap",
                "draft · 2024-08-03",
                "updated 2024-09-01",
                "by Ann ␛[31mLee",
                "4 min read",
                "#rust #terminal",
                "────────────────────",
                "",
            ]
        );
        let lines = text(&header_lines(&h, 10, false, 80, &theme));
        assert_eq!(
            lines[0],
            "draft · 2024-08-03 · updated 2024-09-01 · by Ann ␛[31mLee · 1 min read"
        );
    }
}
