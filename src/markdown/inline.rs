//! A block's inline content, buffered until the block ends (a word can span
//! several events, as in `**foo**bar`), and the inline events that fill it:
//! text, emphasis, links and images.

use std::borrow::Cow;

use pulldown_cmark::Tag;
use ratatui::style::Style;

use super::Renderer;
use crate::document::Link;
use crate::sanitize::sanitize;

/// Bytes of a link's text kept in [`Link::text`].
const LINK_TEXT_LIMIT: usize = 512;

#[derive(Debug, Clone, Copy)]
pub(super) enum Kind {
    Text,
    Break,
    /// Where the text of link number `n` (in the current sink) starts.
    Mark(usize),
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Frag {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) style: Style,
    /// Source offset of the event the text came from.
    pub(super) offset: usize,
    /// True when the text is byte-for-byte the source, so positions inside it
    /// map to source offsets.
    pub(super) exact: bool,
    pub(super) kind: Kind,
}

/// A block's inline content: sanitized text in one string, styled by ranges.
#[derive(Debug, Default)]
pub(super) struct Inline {
    pub(super) text: String,
    pub(super) frags: Vec<Frag>,
    pub(super) has_text: bool,
    /// Links as (index in the sink, start, end) byte ranges of `text`, in
    /// order of their start; `end` is `usize::MAX` while the link is open.
    pub(super) links: Vec<(usize, usize, usize)>,
}

impl Inline {
    pub(super) fn push(&mut self, s: &str, style: Style, offset: usize, source_len: usize) {
        let clean = sanitize(s);
        let exact = matches!(clean, Cow::Borrowed(_)) && s.len() == source_len;
        let start = self.text.len();
        self.text.push_str(&clean);
        self.has_text |= !clean.is_empty();
        self.frags.push(Frag {
            start,
            end: self.text.len(),
            style,
            offset,
            exact,
            kind: Kind::Text,
        });
    }

    pub(super) fn clear(&mut self) {
        self.text.clear();
        self.frags.clear();
        self.has_text = false;
        self.links.clear();
    }

    pub(super) fn push_kind(&mut self, kind: Kind, offset: usize) {
        let at = self.text.len();
        self.frags.push(Frag {
            start: at,
            end: at,
            style: Style::default(),
            offset,
            exact: false,
            kind,
        });
    }
}

pub(super) struct LinkState {
    index: usize,
    text_start: usize,
    image: bool,
    /// Its entry in `Inline::links`.
    slot: usize,
}

impl Renderer<'_> {
    pub(super) fn push_text(&mut self, s: &str, style: Style, source_len: usize) {
        self.inline.push(s, style, self.offset, source_len);
    }

    pub(super) fn start_inline(&mut self, tag: Tag<'_>) {
        let md = &self.theme.md;
        match tag {
            Tag::Emphasis => self.push_style(md.emphasis),
            Tag::Strong => self.push_style(md.strong),
            Tag::Strikethrough => self.push_style(md.strikethrough),
            Tag::Superscript | Tag::Subscript => self.push_style(Style::default()),
            Tag::Link { dest_url, .. } => {
                let (index, slot) = self.start_link(&dest_url, false);
                self.links.push(LinkState {
                    index,
                    text_start: self.inline.text.len(),
                    image: false,
                    slot,
                });
                // The URL is not repeated inline (autolinks show it as their
                // text anyway); the reader lists links from `Document::links`.
                self.push_style(md.link);
            }
            Tag::Image { dest_url, .. } => {
                let (index, slot) = self.start_link(&dest_url, true);
                let style = self.style().patch(md.image);
                self.push_text("[image: ", style, 0);
                self.links.push(LinkState {
                    index,
                    text_start: self.inline.text.len(),
                    image: true,
                    slot,
                });
                self.push_style(md.image);
            }
            _ => {}
        }
    }

    /// Records a link; returns its index in the sink and its slot in
    /// `Inline::links`.
    fn start_link(&mut self, url: &str, image: bool) -> (usize, usize) {
        let url = sanitize(url).into_owned();
        let line = self.sinks.last().map_or(0, |s| s.lines.len());
        let sink = self.sink();
        let index = sink.links.len();
        sink.links.push(Link {
            text: String::new(),
            url,
            line,
            column: 0,
            areas: Vec::new(),
            image,
        });
        self.inline.push_kind(Kind::Mark(index), self.offset);
        let slot = self.inline.links.len();
        self.inline
            .links
            .push((index, self.inline.text.len(), usize::MAX));
        (index, slot)
    }

    pub(super) fn end_link(&mut self) {
        self.pop_style();
        let Some(state) = self.links.pop() else {
            return;
        };
        // Nested links and images each copied all the text inside them, which
        // made 50,000 nested images quadratic (over a minute); a link's
        // recorded text is a label, so its first few hundred bytes do.
        let inner = self.inline.text.get(state.text_start..).unwrap_or("");
        let mut end = inner.len().min(LINK_TEXT_LIMIT);
        while !inner.is_char_boundary(end) {
            end -= 1;
        }
        let text = inner[..end].trim().to_owned();
        if state.image {
            let style = self.style().patch(self.theme.md.image);
            if text.is_empty() && self.inline.text.ends_with(": ") {
                // No alt text: `[image]` rather than `[image: ]`.
                self.inline.text.truncate(self.inline.text.len() - 2);
                if let Some(f) = self
                    .inline
                    .frags
                    .iter_mut()
                    .rev()
                    .find(|f| matches!(f.kind, Kind::Text))
                {
                    f.end = f.end.min(self.inline.text.len());
                }
            }
            self.push_text("]", style, 0);
        }
        let end = self.inline.text.len();
        if let Some(entry) = self.inline.links.get_mut(state.slot)
            && entry.0 == state.index
        {
            entry.2 = end;
        }
        if let Some(link) = self.sink().links.get_mut(state.index) {
            link.text = text;
        }
    }
}

#[cfg(test)]
mod tests {
    use ratatui::text::Line;

    use crate::markdown::tests::{doc, link_areas, texts};

    #[test]
    fn link_columns_and_areas_follow_wrapping_and_indentation() {
        let d = doc("aaaa [bb cc dd](u) eeee", 10);
        assert_eq!(texts(&d), ["aaaa bb cc", "dd eeee"]);
        assert_eq!((d.links[0].line, d.links[0].column), (0, 5));
        assert_eq!(
            link_areas(&d)[0],
            [(0, "bb cc".to_owned()), (1, "dd".to_owned())]
        );
        // Inside a quote and a list item, past the bar and the marker.
        let d = doc("> - see [here](u)", 40);
        assert_eq!(texts(&d), ["│ • see here"]);
        assert_eq!(d.links[0].column, 8);
        assert_eq!(link_areas(&d)[0], [(0, "here".to_owned())]);
        // A word glued to the link is not part of it.
        let d = doc("x [ab](u)cd", 40);
        assert_eq!(link_areas(&d)[0], [(0, "ab".to_owned())]);
        // In a heading, past its `# `.
        let d = doc("## A [b](u)", 40);
        assert_eq!(d.links[0].column, 5);
        // An image in a link: both start there; the outer link has the area.
        let d = doc("go [![pic](i.png) now](u)", 40);
        assert_eq!(texts(&d), ["go [image: pic] now"]);
        assert_eq!(d.links[0].column, 3);
        assert_eq!(d.links[1].column, 3);
        assert_eq!(link_areas(&d)[0], [(0, "[image: pic] now".to_owned())]);
        assert!(d.links[1].areas.is_empty());
    }

    #[test]
    fn link_areas_in_footnotes_and_after_a_prepend() {
        let mut d = doc("Text[^1].\n\n[^1]: See [there](u).\n", 40);
        let areas = link_areas(&d);
        assert_eq!(areas[0].len(), 1);
        assert_eq!(areas[0][0].1, "there");
        d.prepend(&[Line::from("notice")]);
        assert_eq!(link_areas(&d)[0][0].1, "there");
    }

    #[test]
    fn links_and_images_are_recorded() {
        let d = doc(
            "Intro line.\n\nSee [the docs](https://e.com/docs \"t\") and <https://auto.link>.\n\n![a cat](cat.png)\n",
            80,
        );
        let got: Vec<_> = d
            .links
            .iter()
            .map(|l| (l.text.as_str(), l.url.as_str(), l.line))
            .collect();
        assert_eq!(
            got,
            [
                ("the docs", "https://e.com/docs", 2),
                ("https://auto.link", "https://auto.link", 2),
                ("a cat", "cat.png", 4)
            ]
        );
        let lines = texts(&d);
        assert_eq!(lines[2], "See the docs and https://auto.link.");
        assert_eq!(lines[4], "[image: a cat]");
        assert_eq!(
            texts(&doc("![](x.png) and ![*b*](y.png)", 80)),
            ["[image] and [image: b]"]
        );
    }
}
