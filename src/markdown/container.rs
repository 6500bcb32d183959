//! Block containers: quotes, lists and their items, definitions and
//! footnote bodies. Each is an entry on the renderer's container stack and,
//! when it indents, a segment of its sink's indentation.

use pulldown_cmark::BlockQuoteKind;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::inline::Inline;
use super::sink::Sink;
use super::wrap::fit;
use super::{Renderer, spaces};
use crate::sanitize::display_width;

pub(super) enum Container {
    Quote {
        seg: bool,
    },
    List {
        next: u64,
        ordered: bool,
        loose: bool,
        items: usize,
        number_width: usize,
    },
    Item {
        seg: bool,
    },
    Definition {
        seg: bool,
    },
    Footnote {
        number: usize,
    },
}

/// Where the renderer is among the post's lists.
pub(super) struct Lists {
    /// How many are open.
    depth: usize,
    /// The last item number of every list, in document order (see
    /// [`PrePass`](super::PrePass)), and the next list's index in it.
    last: Vec<u64>,
    next: usize,
}

impl Lists {
    pub(super) fn new(last: Vec<u64>) -> Self {
        Lists {
            depth: 0,
            last,
            next: 0,
        }
    }

    /// The last item numbers of the next piece's lists.
    pub(super) fn extend(&mut self, more: &[u64]) {
        self.last.extend_from_slice(more);
    }

    /// How many lists' last numbers are known.
    pub(super) fn known(&self) -> usize {
        self.last.len()
    }
}

pub(super) fn note_key(label: &str) -> String {
    label.to_lowercase()
}

impl Renderer<'_> {
    /// A paragraph in a list item makes its list loose.
    pub(super) fn start_paragraph(&mut self) {
        self.flush_inline();
        if matches!(self.containers.last(), Some(Container::Item { .. }))
            && let Some(Container::List { loose, .. }) = self.containers.iter_mut().rev().nth(1)
        {
            *loose = true;
        }
    }

    pub(super) fn start_quote(&mut self, kind: Option<BlockQuoteKind>) {
        self.flush_inline();
        // Separate from what came before outside the bar, not inside it.
        self.start_block();
        let md = &self.theme.md;
        let (bar_style, title) = match kind {
            None => (md.quote_bar, None),
            Some(BlockQuoteKind::Note) => (md.alert_note, Some("ℹ Note")),
            Some(BlockQuoteKind::Tip) => (md.alert_tip, Some("✦ Tip")),
            Some(BlockQuoteKind::Important) => (md.alert_important, Some("❢ Important")),
            Some(BlockQuoteKind::Warning) => (md.alert_warning, Some("⚠ Warning")),
            Some(BlockQuoteKind::Caution) => (md.alert_caution, Some("✖ Caution")),
        };
        let text_style = if kind.is_none() {
            md.quote
        } else {
            Style::default()
        };
        let seg = self.push_seg(
            Span::styled("│ ", bar_style),
            Span::styled("│ ", bar_style),
            false,
        );
        self.containers.push(Container::Quote { seg });
        self.push_style(text_style);
        if let Some(title) = title {
            let mut inl = Inline::default();
            inl.push(title, self.style().patch(bar_style), self.offset, 0);
            self.emit_inline(&inl);
        }
    }

    pub(super) fn start_list(&mut self, start: Option<u64>) {
        self.flush_inline();
        let lists = &mut self.lists;
        lists.depth += 1;
        let last = lists.last.get(lists.next).copied().unwrap_or(1);
        lists.next += 1;
        self.containers.push(Container::List {
            next: start.unwrap_or(1),
            ordered: start.is_some(),
            loose: false,
            items: 0,
            number_width: last.max(1).to_string().len(),
        });
    }

    pub(super) fn start_item(&mut self) {
        self.flush_inline();
        let depth = self.lists.depth.saturating_sub(1);
        let mut clear_blank = false;
        let marker = match self.containers.last_mut() {
            Some(Container::List {
                next,
                ordered,
                loose,
                items,
                number_width,
            }) => {
                clear_blank = *items > 0 && !*loose;
                *items += 1;
                let n = *next;
                *next = next.saturating_add(1);
                if *ordered {
                    format!("{n:>w$}. ", w = *number_width)
                } else {
                    ["• ", "◦ ", "▪ "][depth % 3].to_owned()
                }
            }
            _ => "• ".to_owned(),
        };
        if clear_blank {
            self.sink().pending_blank = false;
        }
        let rest = spaces(display_width(&marker));
        let style = self.theme.md.list_marker;
        let seg = self.push_seg(Span::styled(marker, style), Span::raw(rest), false);
        self.containers.push(Container::Item { seg });
    }

    pub(super) fn task(&mut self, done: bool) {
        let (mark, style) = if done {
            ("☑", self.theme.md.task_done)
        } else {
            ("☐", self.theme.md.task_todo)
        };
        let in_item = matches!(self.containers.last(), Some(Container::Item { seg: true }));
        if in_item && let Some(seg) = self.sink().segs.last_mut().filter(|s| !s.used) {
            let pad = seg.width.saturating_sub(1);
            seg.first = Span::styled(format!("{mark}{}", spaces(pad)), style);
            return;
        }
        self.push_text(&format!("{mark} "), style, 0);
    }

    pub(super) fn start_definition(&mut self) {
        self.flush_inline();
        let seg = self.push_seg(Span::raw(spaces(4)), Span::raw(spaces(4)), false);
        self.containers.push(Container::Definition { seg });
    }

    pub(super) fn start_footnote(&mut self, label: &str) {
        self.flush_inline();
        let number = self.note_number(label);
        self.sinks.push(Sink::default());
        let style = self.theme.md.footnote;
        let marker = format!("[{number}] ");
        let rest = spaces(display_width(&marker));
        self.push_seg(Span::styled(marker, style), Span::raw(rest), true);
        self.containers.push(Container::Footnote { number });
    }

    pub(super) fn note_number(&mut self, label: &str) -> usize {
        let next = self.note_numbers.len() + 1;
        *self.note_numbers.entry(note_key(label)).or_insert(next)
    }

    pub(super) fn pop_container(&mut self) {
        let seg = match self.containers.pop() {
            Some(
                Container::Quote { seg } | Container::Item { seg } | Container::Definition { seg },
            ) => seg,
            Some(Container::List { .. }) => {
                self.lists.depth = self.lists.depth.saturating_sub(1);
                false
            }
            Some(Container::Footnote { number }) => {
                if self.sinks.len() > 1 {
                    let mut sink = self.sinks.pop().expect("checked above");
                    if sink.lines.is_empty() {
                        let first = &sink.segs[0].first;
                        let (n, _) = fit(first.content.trim_end(), self.width);
                        let marker = Span::styled(first.content[..n].to_owned(), first.style);
                        sink.push_line(&Line::from(marker), 0);
                    }
                    self.notes.push((number, sink));
                }
                false
            }
            None => false,
        };
        if seg {
            self.sink().pop_seg();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use crate::markdown::tests::{check_invariants, doc, texts};

    #[test]
    fn lists_keep_start_numbers_and_indent_nesting() {
        let d = doc("3. three\n4. four\n   - nested\n     - deeper\n", 40);
        assert_eq!(
            texts(&d),
            ["3. three", "4. four", "   ◦ nested", "     ▪ deeper"]
        );
        let d = doc("- a\n  - b\n    - c\n      - d", 40);
        assert_eq!(texts(&d), ["• a", "  ◦ b", "    ▪ c", "      • d"]);
    }

    #[test]
    fn ordered_markers_align_on_the_widest_number() {
        let src = "8. item 8\n9. item 9\n10. item 10\n11. item 11\n";
        assert_eq!(
            texts(&doc(src, 40)),
            [" 8. item 8", " 9. item 9", "10. item 10", "11. item 11"]
        );
    }

    #[test]
    fn list_items_wrap_with_a_hanging_indent() {
        let d = doc("- one two three four five six seven eight\n", 12);
        let lines = texts(&d);
        assert_eq!(lines[0], "• one two");
        assert!(
            lines[1..]
                .iter()
                .all(|l| l.starts_with("  ") && !l.starts_with("   "))
        );
        let d = doc("> one two three four five six seven eight\n", 12);
        assert!(texts(&d).iter().all(|l| l.starts_with("│ ")));
    }

    #[test]
    fn loose_and_tight_lists() {
        assert_eq!(texts(&doc("- a\n- b\n", 20)), ["• a", "• b"]);
        assert_eq!(texts(&doc("- a\n\n- b\n", 20)), ["• a", "", "• b"]);
        assert_eq!(
            texts(&doc("- [x] done\n- [ ] todo\n", 20)),
            ["☑ done", "☐ todo"]
        );
    }

    #[test]
    fn alerts_have_titles() {
        let d = doc("> [!NOTE]\n> Be careful.\n\n> [!CAUTION]\n> Hot.\n", 40);
        assert_eq!(
            texts(&d),
            ["│ ℹ Note", "│ Be careful.", "", "│ ✖ Caution", "│ Hot."]
        );
    }

    #[test]
    fn footnotes_are_numbered_by_reference_and_collected_at_the_end() {
        let src = "[^b]: Second note.\n\nText[^a] and[^b].\n\n[^a]: First note.\n\nMore text.\n";
        let d = doc(src, 40);
        let lines = texts(&d);
        assert_eq!(lines[0], "Text[1] and[2].");
        let rule = lines.iter().position(|l| l.starts_with('─')).unwrap();
        assert!(lines[..rule].iter().any(|l| l == "More text."));
        assert_eq!(&lines[rule + 1..], ["[1] First note.", "[2] Second note."]);
        check_invariants(&d, 40);
    }

    #[test]
    fn deep_nesting_is_linear_and_keeps_text() {
        for (unit, n) in [("> ", 50_000), ("- ", 50_000), ("1. ", 20_000)] {
            let src = format!("{}deep text here", unit.repeat(n));
            let start = Instant::now();
            let d = doc(&src, 80);
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "{unit:?} too slow"
            );
            check_invariants(&d, 80);
            assert!(texts(&d).concat().contains("deep text here"));
        }
        let src = "> ".repeat(50_000) + "\n" + &"- ".repeat(50_000) + "x";
        check_invariants(&doc(&src, 40), 40);
    }
}
