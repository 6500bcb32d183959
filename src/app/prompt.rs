//! Typing into a prompt: which keys edit it, what an edit does to the text,
//! and where the text goes (the in-post search, the list filter, the search
//! across all posts).

use crate::action::Edit;
use crate::keymap::{Key, KeyCode};

use super::{App, Prompt};

/// What a key does in an open prompt; `None` for keys that do nothing
/// there (and `Ctrl-c`, which still quits).
pub(crate) fn prompt_edit(key: Key) -> Option<Edit> {
    Some(match (key.code, key.ctrl) {
        (KeyCode::Char('h'), true) | (KeyCode::Backspace, _) => Edit::Backspace,
        (KeyCode::Char('w'), true) => Edit::DeleteWord,
        (KeyCode::Char('u'), true) => Edit::Clear,
        (KeyCode::Char('n'), true) | (KeyCode::Down | KeyCode::Tab, _) => Edit::Next,
        (KeyCode::Char('p'), true) | (KeyCode::Up | KeyCode::BackTab, _) => Edit::Prev,
        (KeyCode::Char(c), false) if !key.alt => Edit::Insert(c),
        (KeyCode::Enter, _) => Edit::Accept,
        (KeyCode::Esc, _) => Edit::Cancel,
        _ => return None,
    })
}

/// Applies a text edit to `text`; false for edits that are not about the
/// text (accept, cancel, moving).
pub(crate) fn edit_text(text: &mut String, edit: Edit) -> bool {
    match edit {
        Edit::Insert(c) => text.push(c),
        Edit::Backspace => {
            text.pop();
        }
        Edit::DeleteWord => {
            let kept = text
                .trim_end()
                .trim_end_matches(|c: char| !c.is_whitespace())
                .len();
            text.truncate(kept);
        }
        Edit::Clear => text.clear(),
        _ => return false,
    }
    true
}

impl App {
    /// Typing into the open prompt.
    pub(super) fn edit(&mut self, edit: Edit) {
        match self.mode.prompt() {
            Some(Prompt::Find) => self.edit_find(edit),
            Some(Prompt::Filter) => self.edit_filter(edit),
            Some(Prompt::SearchAll) => match edit {
                Edit::Accept => self.open_hit(self.search_all.selected),
                Edit::Cancel => self.mode = self.mode.closed(),
                _ => self.search_all.edit(edit, self.library.posts().len()),
            },
            None => {}
        }
    }

    /// The in-post search is incremental: each change of its text shows
    /// the first match below where the search started.
    fn edit_find(&mut self, edit: Edit) {
        if edit_text(self.reader.find_text(), edit) {
            let from = self.reader.find().origin_top();
            let key = self.library.selected_key();
            if self.reader.refind(key, from) {
                let height = self.panes().reader_height();
                if let Some(top) = self.reader.current_match_top(self.reader_top(), height) {
                    self.set_top(top);
                }
            }
            if self.reader.find().text.is_empty() {
                self.set_top(from);
            }
            return;
        }
        match edit {
            Edit::Accept => self.mode = self.mode.closed(),
            Edit::Cancel => {
                let top = self.reader.find().origin_top();
                self.mode = self.mode.closed();
                self.reader.clear_find();
                self.set_top(top);
            }
            Edit::Next => self.step_match(1, true),
            Edit::Prev => self.step_match(1, false),
            _ => {}
        }
    }

    /// The filter ranks the list as it is typed; `Esc` goes back to the
    /// post selected before.
    fn edit_filter(&mut self, edit: Edit) {
        let Some(f) = self.library.filter_mut() else {
            self.mode = self.mode.closed();
            return;
        };
        if edit_text(&mut f.text, edit) {
            self.refilter();
            return;
        }
        match edit {
            Edit::Accept => {
                let empty = f.text.trim().is_empty();
                self.mode = self.mode.closed();
                if empty {
                    self.library.drop_filter();
                }
            }
            Edit::Cancel => {
                let before = f.before();
                self.mode = self.mode.closed();
                self.library.drop_filter();
                self.select(before);
            }
            Edit::Next | Edit::Prev => {
                let pos = self.library.view_pos().unwrap_or(0);
                self.select_pos(if edit == Edit::Next {
                    pos + 1
                } else {
                    pos.saturating_sub(1)
                });
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_edit_the_prompt() {
        assert_eq!(prompt_edit(Key::char('x')), Some(Edit::Insert('x')));
        assert_eq!(prompt_edit(Key::ctrl('h')), Some(Edit::Backspace));
        assert_eq!(prompt_edit(Key::ctrl('w')), Some(Edit::DeleteWord));
        assert_eq!(prompt_edit(Key::new(KeyCode::Tab)), Some(Edit::Next));
        assert_eq!(prompt_edit(Key::new(KeyCode::BackTab)), Some(Edit::Prev));
        assert_eq!(prompt_edit(Key::new(KeyCode::Enter)), Some(Edit::Accept));
        assert_eq!(prompt_edit(Key::new(KeyCode::Esc)), Some(Edit::Cancel));
        assert_eq!(prompt_edit(Key::ctrl('c')), None, "still quits");
    }

    #[test]
    fn edits_change_the_text() {
        let mut text = String::from("two words ");
        assert!(edit_text(&mut text, Edit::DeleteWord));
        assert_eq!(text, "two ");
        assert!(edit_text(&mut text, Edit::Backspace));
        assert!(edit_text(&mut text, Edit::Insert('!')));
        assert_eq!(text, "two!");
        assert!(edit_text(&mut text, Edit::Clear));
        assert!(text.is_empty());
        assert!(!edit_text(&mut text, Edit::Accept));
    }
}
