//! What the Markdown renderer produces: lines already wrapped to a width, so a
//! heading's line index is exactly the scroll offset that puts it on top.

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
    /// Links in document order.
    pub links: Vec<Link>,
    /// How each line relates to the text (same length as `lines`; a missing
    /// entry means the default): what search needs to join a paragraph's
    /// wrapped lines again and to skip indentation.
    pub flow: Vec<LineFlow>,
    /// The width the lines were laid out for.
    pub width: u16,
}

/// How a line continues the one above it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Join {
    /// It starts a new block (or is not text).
    #[default]
    Start,
    /// It continues a paragraph wrapped at a space.
    Space,
    /// It continues a word cut by wrapping (or text that breaks without
    /// spaces, such as CJK).
    Tight,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LineFlow {
    /// Leading spans that are decoration (indentation, list markers, quote
    /// bars), not text.
    pub decoration: u16,
    pub join: Join,
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
        if !self.flow.is_empty() {
            self.flow
                .splice(0..0, std::iter::repeat_n(LineFlow::default(), n));
        }
        for h in &mut self.headings {
            h.line += n;
        }
        for l in &mut self.links {
            l.line += n;
        }
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
            flow: vec![],
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
    fn prepend_shifts_positions() {
        let mut d = doc();
        d.prepend(vec![Line::from("note"), Line::default()]);
        assert_eq!(d.headings[1].line, 12);
        assert_eq!(d.lines.len(), d.offsets.len());
        assert_eq!(d.line_for_offset(0), 0);
    }
}
