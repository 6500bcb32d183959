//! What the `?` overlay lists, built from the keymap so the help can never
//! disagree with what the keys do. Pure data: the app needs its length to
//! scroll it, the ui draws it.

use crate::action::{Command, Group};
use crate::keymap::Keymap;

/// A titled group of (keys, what they do) rows.
pub type Section = (&'static str, Vec<(String, &'static str)>);

pub fn sections(keymap: &Keymap) -> Vec<Section> {
    let groups = [
        (Group::Focus, "Panes"),
        (Group::Moving, "Moving (list and reader)"),
        (Group::Headings, "Headings"),
        (Group::Search, "Search"),
        (Group::Links, "Links and history"),
        (Group::Bookmarks, "Bookmarks"),
        (Group::Other, "Other"),
    ];
    let mut sections = Vec::new();
    for (group, title) in groups {
        let mut rows: Vec<(String, &'static str)> = Vec::new();
        for cmd in Command::ALL.iter().filter(|c| c.group() == group) {
            let desc = cmd.describe();
            if rows.iter().any(|(_, d)| *d == desc) {
                continue;
            }
            let keys: Vec<String> = Command::ALL
                .iter()
                .filter(|c| c.describe() == desc)
                .flat_map(|c| keymap.keys_for(*c))
                .map(|k| k.to_string())
                .collect();
            rows.push((keys.join(" "), desc));
        }
        let extra = match group {
            Group::Moving => Some(("5j 3] 42G", "a count repeats a move; 42G goes to line 42")),
            Group::Headings => Some(("j k Enter Esc", "in the outline: move, jump, close")),
            Group::Links => Some((
                "a s d … y Esc",
                "in link mode: a hint follows, y copies; a code block's copies it",
            )),
            Group::Bookmarks => Some(("j k Enter d Esc", "in the list: move, open, delete, close")),
            Group::Search => Some((
                "Enter Esc ↑ ↓",
                "in a prompt: keep, cancel, move; #tag filters by tag",
            )),
            Group::Other => Some((
                "mouse",
                "wheel scrolls; click selects, follows links (--no-mouse)",
            )),
            Group::Focus => None,
        };
        rows.extend(extra.map(|(k, d)| (k.to_owned(), d)));
        sections.push((title, rows));
    }
    sections
}

/// Lines the overlay's text takes: a title per section, its rows, and a
/// blank line between sections.
pub fn line_count(sections: &[Section]) -> usize {
    sections
        .iter()
        .map(|(_, rows)| rows.len() + 1)
        .sum::<usize>()
        + sections.len().saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_is_listed_once() {
        let sections = sections(&Keymap::default());
        for cmd in Command::ALL {
            let n = sections
                .iter()
                .flat_map(|(_, rows)| rows)
                .filter(|(_, d)| *d == cmd.describe())
                .count();
            assert_eq!(n, 1, "{cmd:?}");
        }
        let rows: usize = sections.iter().map(|(_, r)| r.len()).sum();
        assert_eq!(line_count(&sections), rows + 2 * sections.len() - 1);
    }
}
