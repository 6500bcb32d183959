//! Headings: their lines, underlines and anchors.

use std::collections::{HashMap, HashSet};

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

/// The anchors given out so far, and per base slug the next suffix to try.
///
/// Without the counter, the n-th heading of the same text tried `-1`,
/// `-2`, … up to `-n` first: 30,000 equal headings (cmark-gfm's "tables"
/// stress input is exactly that to pulldown-cmark) took 36 s. With it each
/// suffix is tried at most once per base, so the work is linear in the
/// number of headings; the anchors are the same as before.
#[derive(Default)]
pub(super) struct Slugs {
    taken: HashSet<String>,
    next: HashMap<String, usize>,
    /// Candidates tried, for the test that keeps this linear.
    #[cfg(test)]
    probes: usize,
}

impl Slugs {
    /// Records an anchor given explicitly (`{#id}`).
    fn claim(&mut self, id: String) {
        self.taken.insert(id);
    }

    /// `base`, or the first `base-N` not yet given out.
    fn unique(&mut self, base: String) -> String {
        #[cfg(test)]
        {
            self.probes += 1;
        }
        if !self.taken.contains(&base) {
            self.taken.insert(base.clone());
            return base;
        }
        let mut i = self.next.get(&base).copied().unwrap_or(1);
        loop {
            #[cfg(test)]
            {
                self.probes += 1;
            }
            let candidate = format!("{base}-{i}");
            i += 1;
            if self.taken.insert(candidate.clone()) {
                self.next.insert(base, i);
                return candidate;
            }
        }
    }
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
                self.slugs.claim(id.clone());
                id
            }
            None => self.slugs.unique(slug(&text)),
        };
        self.sink().headings.push(Heading {
            level: h.level,
            text,
            anchor,
            line,
        });
        self.end_block();
    }
}

#[cfg(test)]
mod tests {
    use super::Slugs;
    use crate::markdown::tests::{doc, texts};

    #[test]
    fn equal_headings_cost_a_probe_or_two_each() {
        let mut slugs = Slugs::default();
        // Anchors that a later suffix would run into.
        slugs.claim("a-3".into());
        assert_eq!(slugs.unique("a-2".into()), "a-2");
        let n = 2_000;
        let got: Vec<String> = (0..n).map(|_| slugs.unique("a".into())).collect();
        assert_eq!(&got[..5], ["a", "a-1", "a-4", "a-5", "a-6"]);
        assert_eq!(got.last().unwrap(), &format!("a-{}", n + 1));
        // One look at the base and one at the next suffix per heading, plus
        // one for each anchor that was already taken: linear, not n²/2.
        assert!(slugs.probes <= 2 * n + 4, "{} probes", slugs.probes);
    }

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
