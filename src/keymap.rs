//! Our own key type, independent of any terminal library, and the one table
//! that maps keys to commands. Runners translate their events into [`Key`]s;
//! nothing else in the app knows where keys come from.

use std::fmt;

use crate::action::{Action, Command};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyCode {
    /// A printable character; shifted letters arrive as upper case.
    Char(char),
    Enter,
    Esc,
    Tab,
    BackTab,
    Backspace,
    Up,
    Down,
    Left,
    Right,
    Home,
    End,
    PageUp,
    PageDown,
    Delete,
    Insert,
    F(u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
    pub alt: bool,
}

impl Key {
    pub const fn new(code: KeyCode) -> Key {
        Key {
            code,
            ctrl: false,
            alt: false,
        }
    }

    pub const fn char(c: char) -> Key {
        Key::new(KeyCode::Char(c))
    }

    pub const fn ctrl(c: char) -> Key {
        Key {
            code: KeyCode::Char(c),
            ctrl: true,
            alt: false,
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("Ctrl-")?;
        }
        if self.alt {
            f.write_str("Alt-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::BackTab => f.write_str("Shift-Tab"),
            KeyCode::Backspace => f.write_str("Backspace"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            KeyCode::PageUp => f.write_str("PageUp"),
            KeyCode::PageDown => f.write_str("PageDown"),
            KeyCode::Delete => f.write_str("Delete"),
            KeyCode::Insert => f.write_str("Insert"),
            KeyCode::F(n) => write!(f, "F{n}"),
        }
    }
}

/// Key bindings: which keys run which command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    bindings: Vec<(Key, Command)>,
}

impl Default for Keymap {
    fn default() -> Self {
        use Command as C;
        use KeyCode as K;
        let k = Key::new;
        let c = Key::char;
        let ctrl = Key::ctrl;
        let bindings = vec![
            (c('q'), C::Quit),
            (ctrl('c'), C::Quit),
            (c('?'), C::Help),
            (k(K::Tab), C::FocusNext),
            (k(K::BackTab), C::FocusPrev),
            (k(K::Enter), C::Open),
            (c('l'), C::Open),
            (k(K::Right), C::Open),
            (k(K::Esc), C::Back),
            (c('h'), C::Back),
            (k(K::Left), C::Back),
            (c('j'), C::Down),
            (k(K::Down), C::Down),
            (c('k'), C::Up),
            (k(K::Up), C::Up),
            (c('d'), C::HalfPageDown),
            (ctrl('d'), C::HalfPageDown),
            (c('u'), C::HalfPageUp),
            (ctrl('u'), C::HalfPageUp),
            (c(' '), C::PageDown),
            (c('f'), C::PageDown),
            (k(K::PageDown), C::PageDown),
            (ctrl('f'), C::PageDown),
            (c('b'), C::PageUp),
            (k(K::PageUp), C::PageUp),
            (ctrl('b'), C::PageUp),
            (c('g'), C::Top),
            (k(K::Home), C::Top),
            (c('G'), C::Bottom),
            (k(K::End), C::Bottom),
            (c('J'), C::NextPost),
            (c('K'), C::PrevPost),
            (c(']'), C::NextHeading),
            (c('['), C::PrevHeading),
            (c('o'), C::Outline),
            (c('z'), C::ToggleList),
            (c('R'), C::ToggleRaw),
        ];
        Keymap { bindings }
    }
}

impl Keymap {
    /// The action a key asks for, if any. Digits are count prefixes unless a
    /// binding claims them (`0` only continues a count, as in vim).
    pub fn action(&self, key: Key, counting: bool) -> Option<Action> {
        if let Some((_, cmd)) = self.bindings.iter().find(|(k, _)| *k == key) {
            return Some(Action::Command(*cmd));
        }
        match key {
            Key {
                code: KeyCode::Char(d @ '0'..='9'),
                ctrl: false,
                alt: false,
            } if d != '0' || counting => Some(Action::Digit(d as u8 - b'0')),
            _ => None,
        }
    }

    /// The keys bound to `cmd`, in the order they were bound.
    pub fn keys_for(&self, cmd: Command) -> impl Iterator<Item = Key> + '_ {
        self.bindings
            .iter()
            .filter(move |(_, c)| *c == cmd)
            .map(|(k, _)| *k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_has_a_key() {
        let map = Keymap::default();
        for cmd in Command::ALL {
            assert!(map.keys_for(cmd).next().is_some(), "{cmd:?} has no key");
        }
    }

    #[test]
    fn no_key_is_bound_twice() {
        let map = Keymap::default();
        let mut keys: Vec<_> = map.bindings.iter().map(|(k, _)| *k).collect();
        let n = keys.len();
        keys.sort_by_key(|k| format!("{k:?}"));
        keys.dedup();
        assert_eq!(keys.len(), n);
    }

    #[test]
    fn digits_are_counts() {
        let map = Keymap::default();
        assert_eq!(map.action(Key::char('5'), false), Some(Action::Digit(5)));
        assert_eq!(map.action(Key::char('0'), false), None);
        assert_eq!(map.action(Key::char('0'), true), Some(Action::Digit(0)));
        assert_eq!(
            map.action(Key::ctrl('d'), false),
            Some(Action::Command(Command::HalfPageDown))
        );
    }

    #[test]
    fn keys_display_for_help() {
        assert_eq!(Key::ctrl('d').to_string(), "Ctrl-d");
        assert_eq!(Key::new(KeyCode::BackTab).to_string(), "Shift-Tab");
        assert_eq!(Key::char(' ').to_string(), "Space");
    }
}
