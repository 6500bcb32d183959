//! What the Markdown renderer produces: lines already wrapped to a width, so a
//! heading's line index is exactly the scroll offset that puts it on top.

use std::ops::Range;

use ratatui::text::Line;

/// A laid-out post.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Document {
    /// Styled lines, none wider than `width` columns.
    pub lines: Vec<Line<'static>>,
    /// Byte offset into the Markdown source of the content that starts each
    /// line (same length as `lines`, non-decreasing). Used to keep the reader
    /// anchored to the same text when the width changes.
    pub offsets: Vec<usize>,
    /// Headings in document order.
    pub headings: Vec<Heading>,
    /// Links in document order, which is by [`Link::line`] (the cells of a
    /// table row are sorted by line too).
    pub links: Vec<Link>,
    /// The width the lines were laid out for.
    pub width: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heading {
    /// 1 to 6.
    pub level: u8,
    /// Plain, sanitized text.
    pub text: String,
    /// GitHub-style slug, unique within the document (`intro`, `intro-1`).
    pub anchor: String,
    /// Index into [`Document::lines`].
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Plain, sanitized link text.
    pub text: String,
    /// Sanitized destination, as written in the source.
    pub url: String,
    /// Index into [`Document::lines`] of the line the link text starts on.
    pub line: usize,
    /// Display column in that line where the link text starts (0 when the
    /// link has no text).
    pub column: usize,
    /// Where the link's text is shown, one area per line it covers. Empty
    /// for a link nested inside another (an image inside a link), whose
    /// areas cover it, and for a link without text.
    pub areas: Vec<LinkArea>,
}

/// Columns `start..end` of line `line` show (part of) a link's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkArea {
    pub line: usize,
    pub start: usize,
    pub end: usize,
}

impl Document {
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Index of the heading whose section contains `line` (the last heading at
    /// or above it), if any.
    pub fn heading_at(&self, line: usize) -> Option<usize> {
        let after = self.headings.partition_point(|h| h.line <= line);
        after.checked_sub(1)
    }

    /// The first heading strictly below `line`.
    pub fn next_heading(&self, line: usize) -> Option<&Heading> {
        let i = self.headings.partition_point(|h| h.line <= line);
        self.headings.get(i)
    }

    /// The last heading strictly above `line`.
    pub fn prev_heading(&self, line: usize) -> Option<&Heading> {
        let i = self.headings.partition_point(|h| h.line < line);
        i.checked_sub(1).map(|i| &self.headings[i])
    }

    /// The chain of headings enclosing `line`, outermost first
    /// (`Intro › Setup › Linux`).
    pub fn section_path(&self, line: usize) -> Vec<&Heading> {
        let Some(mut i) = self.heading_at(line) else {
            return Vec::new();
        };
        let mut path = vec![&self.headings[i]];
        let mut level = self.headings[i].level;
        while i > 0 && level > 1 {
            i -= 1;
            if self.headings[i].level < level {
                level = self.headings[i].level;
                path.push(&self.headings[i]);
            }
        }
        path.reverse();
        path
    }

    /// Source offset of the content at the start of `line`.
    pub fn offset_of_line(&self, line: usize) -> usize {
        self.offsets
            .get(line.min(self.offsets.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    }

    /// The line that best shows source offset `offset`: the first of the
    /// lines that start at the greatest offset not after it (several lines
    /// can share one offset, e.g. decoration above a block).
    pub fn line_for_offset(&self, offset: usize) -> usize {
        let after = self.offsets.partition_point(|&o| o <= offset);
        let Some(&best) = after.checked_sub(1).and_then(|i| self.offsets.get(i)) else {
            return 0;
        };
        self.offsets.partition_point(|&o| o < best)
    }

    /// Puts `lines` (e.g. a notice about broken frontmatter) above the
    /// document, keeping heading and link line numbers true.
    pub fn prepend(&mut self, lines: Vec<Line<'static>>) {
        let n = lines.len();
        if n == 0 {
            return;
        }
        self.lines.splice(0..0, lines);
        self.offsets.splice(0..0, std::iter::repeat_n(0, n));
        for h in &mut self.headings {
            h.line += n;
        }
        for l in &mut self.links {
            l.line += n;
            for a in &mut l.areas {
                a.line += n;
            }
        }
    }

    /// The links whose text shows on one of `lines`, with their indices.
    /// Found by a binary search, so the screen of a long post costs no more
    /// than that of a short one; a link that starts a few links before the
    /// range can still reach into it, so those are looked at too.
    pub fn links_on(&self, lines: Range<usize>) -> impl Iterator<Item = (usize, &Link)> {
        const LOOK_BACK: usize = 16;
        let first = self
            .links
            .partition_point(|l| l.line < lines.start)
            .saturating_sub(LOOK_BACK);
        self.links[first..]
            .iter()
            .enumerate()
            .map(move |(i, l)| (first + i, l))
            .take_while(move |(_, l)| l.line < lines.end)
            .filter(move |(_, l)| {
                lines.contains(&l.line) || l.areas.iter().any(|a| lines.contains(&a.line))
            })
    }

    /// Heading with the given anchor slug.
    pub fn heading_by_anchor(&self, anchor: &str) -> Option<&Heading> {
        self.headings.iter().find(|h| h.anchor == anchor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Document {
        let h = |level, text: &str, line| Heading {
            level,
            text: text.into(),
            anchor: text.to_lowercase(),
            line,
        };
        Document {
            lines: vec![Line::default(); 40],
            offsets: (0..40).map(|i| i * 10).collect(),
            headings: vec![h(1, "A", 0), h(2, "B", 10), h(3, "C", 20), h(2, "D", 30)],
            links: vec![],
            width: 80,
        }
    }

    #[test]
    fn heading_navigation() {
        let d = doc();
        assert_eq!(d.next_heading(0).unwrap().text, "B");
        assert_eq!(d.next_heading(10).unwrap().text, "C");
        assert!(d.next_heading(30).is_none());
        assert_eq!(d.prev_heading(10).unwrap().text, "A");
        assert_eq!(d.prev_heading(15).unwrap().text, "B");
        assert!(d.prev_heading(0).is_none());
        assert_eq!(d.heading_at(25), Some(2));
    }

    #[test]
    fn section_path_lists_parents() {
        let d = doc();
        let names: Vec<_> = d.section_path(25).iter().map(|h| h.text.as_str()).collect();
        assert_eq!(names, ["A", "B", "C"]);
        let names: Vec<_> = d.section_path(35).iter().map(|h| h.text.as_str()).collect();
        assert_eq!(names, ["A", "D"]);
    }

    #[test]
    fn offsets_round_trip() {
        let d = doc();
        assert_eq!(d.line_for_offset(d.offset_of_line(17)), 17);
        assert_eq!(d.line_for_offset(175), 17);
    }

    #[test]
    fn shared_offsets_pick_the_first_line() {
        let mut d = doc();
        d.offsets = vec![0, 0, 0, 5, 5, 9];
        assert_eq!(d.line_for_offset(0), 0);
        assert_eq!(d.line_for_offset(7), 3);
        assert_eq!(d.line_for_offset(100), 5);
    }

    #[test]
    fn links_on_finds_links_reaching_into_the_range() {
        let mut d = doc();
        let link = |line: usize, to: usize| Link {
            text: String::new(),
            url: format!("u{line}"),
            line,
            column: 0,
            areas: (line..=to)
                .map(|l| LinkArea {
                    line: l,
                    start: 0,
                    end: 1,
                })
                .collect(),
        };
        d.links = vec![link(1, 1), link(5, 12), link(20, 20), link(30, 31)];
        let found: Vec<usize> = d.links_on(10..21).map(|(i, _)| i).collect();
        assert_eq!(found, [1, 2]);
        assert_eq!(d.links_on(31..40).map(|(i, _)| i).collect::<Vec<_>>(), [3]);
        assert_eq!(d.links_on(2..5).count(), 0);
    }

    #[test]
    fn prepend_shifts_positions() {
        let mut d = doc();
        d.prepend(vec![Line::from("note"), Line::default()]);
        assert_eq!(d.headings[1].line, 12);
        assert_eq!(d.lines.len(), d.offsets.len());
        assert_eq!(d.line_for_offset(0), 0);
    }
}
