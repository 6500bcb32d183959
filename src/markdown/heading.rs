//! Headings: their lines, underlines and anchors.

use pulldown_cmark::{CowStr, HeadingLevel};
use ratatui::style::Modifier;
use ratatui::text::Span;

use super::{Renderer, spaces};
use crate::document::Heading;
use crate::sanitize::sanitize;

/// GitHub-style anchor: lowercase, spaces to `-`, punctuation other than `-`
/// and `_` dropped.
pub fn slug(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.trim().chars() {
        if c.is_alphanumeric() || c == '-' || c == '_' {
            s.extend(c.to_lowercase());
        } else if c == ' ' {
            s.push('-');
        }
    }
    s
}

pub(super) struct HeadingState {
    level: u8,
    id: Option<String>,
    pub(super) text: String,
    offset: usize,
}

fn heading_level(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

impl Renderer<'_> {
    pub(super) fn start_heading(&mut self, level: HeadingLevel, id: Option<CowStr<'_>>) {
        self.flush_inline();
        self.end_block();
        let level = heading_level(level);
        self.heading = Some(HeadingState {
            level,
            id: id.map(|i| sanitize(&i).into_owned()),
            text: String::new(),
            offset: self.offset,
        });
        self.push_style(self.theme.heading(level));
    }

    pub(super) fn end_heading(&mut self) {
        let Some(h) = self.heading.take() else {
            return;
        };
        self.pop_style();
        let inl = std::mem::take(&mut self.inline);
        self.start_block();
        let style = self.theme.heading(h.level);
        let marks = format!("{} ", "#".repeat(usize::from(h.level)));
        let rest = spaces(marks.len());
        self.push_seg(Span::styled(marks, style), Span::raw(rest), true);
        let line = self.sink().lines.len();
        if inl.has_text {
            self.emit_inline(&inl);
        } else {
            self.emit(std::iter::empty(), h.offset);
        }
        self.sink().pop_seg();
        let underline = match h.level {
            1 => Some("═"),
            2 => Some("─"),
            _ => None,
        };
        if let Some(ch) = underline {
            self.rule(ch, style.remove_modifier(Modifier::UNDERLINED), h.offset);
        }
        let text = h.text.trim().to_owned();
        let anchor = match h.id {
            Some(id) => {
                self.slugs.insert(id.clone());
                id
            }
            None => self.unique_slug(slug(&text)),
        };
        self.sink().headings.push(Heading {
            level: h.level,
            text,
            anchor,
            line,
        });
        self.end_block();
    }

    fn unique_slug(&mut self, base: String) -> String {
        if self.slugs.insert(base.clone()) {
            return base;
        }
        let mut i = 1;
        loop {
            let candidate = format!("{base}-{i}");
            if self.slugs.insert(candidate.clone()) {
                return candidate;
            }
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::markdown::tests::{doc, texts};

    #[test]
    fn headings_are_indexed_at_their_lines() {
        let d = doc(
            "# Title\n\nIntro.\n\n## Setup\n\ntext\n\n### Linux *too*\n",
            40,
        );
        let lines = texts(&d);
        let got: Vec<_> = d
            .headings
            .iter()
            .map(|h| (h.level, h.text.as_str()))
            .collect();
        assert_eq!(got, [(1, "Title"), (2, "Setup"), (3, "Linux too")]);
        for h in &d.headings {
            assert!(
                lines[h.line].contains(&h.text),
                "{:?} at {}",
                lines[h.line],
                h.line
            );
        }
        assert_eq!(d.headings[0].line, 0);
        // A blank line separates a heading from what precedes it.
        assert_eq!(lines[d.headings[1].line - 1], "");
        assert!(lines[1].starts_with('═'));
    }

    #[test]
    fn anchors_are_github_slugs_and_unique() {
        let d = doc(
            "# Hello, World!\n# Hello, World!\n# Hello, World!\n## Über `code` & more_stuff\n## Custom {#my-id}\n",
            80,
        );
        let anchors: Vec<_> = d.headings.iter().map(|h| h.anchor.as_str()).collect();
        assert_eq!(
            anchors,
            [
                "hello-world",
                "hello-world-1",
                "hello-world-2",
                "über-code--more_stuff",
                "my-id"
            ]
        );
        assert_eq!(d.headings[4].text, "Custom");
    }
}
