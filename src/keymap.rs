//! Our own key type, independent of any terminal library, and the one table
//! that maps keys to commands. Runners translate their events into [`Key`]s;
//! nothing else in the app knows where keys come from.

use std::collections::BTreeMap;
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

impl Key {
    /// Reads the notation of the config file: a single character, a name
    /// (`Enter`, `Esc`, `Tab`, `S-Tab`/`Shift-Tab`, `Up`, `Down`, `Left`,
    /// `Right`, `Home`, `End`, `PageUp`, `PageDown`, `Space`, `Backspace`,
    /// `Delete`, `Insert`, `F1`–`F12`), with `Ctrl-`/`C-` and `Alt-`/`M-`
    /// prefixes. Names ignore case; single characters do not (`G` is
    /// Shift-g).
    pub fn parse(text: &str) -> Result<Key, String> {
        let mut key = Key::new(KeyCode::Esc);
        let mut rest = text;
        loop {
            let lower = rest.to_ascii_lowercase();
            let prefix = ["ctrl-", "c-", "alt-", "m-", "a-"]
                .into_iter()
                .find(|p| lower.starts_with(p) && rest.len() > p.len());
            match prefix {
                Some(p @ ("ctrl-" | "c-")) => {
                    key.ctrl = true;
                    rest = &rest[p.len()..];
                }
                Some(p) => {
                    key.alt = true;
                    rest = &rest[p.len()..];
                }
                None => break,
            }
        }
        let mut chars = rest.chars();
        key.code = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyCode::Char(if key.ctrl { c.to_ascii_lowercase() } else { c }),
            _ => match rest.to_ascii_lowercase().as_str() {
                "enter" | "return" => KeyCode::Enter,
                "esc" | "escape" => KeyCode::Esc,
                "tab" => KeyCode::Tab,
                "s-tab" | "shift-tab" | "backtab" => KeyCode::BackTab,
                "backspace" => KeyCode::Backspace,
                "space" => KeyCode::Char(' '),
                "up" => KeyCode::Up,
                "down" => KeyCode::Down,
                "left" => KeyCode::Left,
                "right" => KeyCode::Right,
                "home" => KeyCode::Home,
                "end" => KeyCode::End,
                "pageup" | "pgup" => KeyCode::PageUp,
                "pagedown" | "pgdn" => KeyCode::PageDown,
                "delete" | "del" => KeyCode::Delete,
                "insert" | "ins" => KeyCode::Insert,
                f if f.starts_with('f')
                    && f[1..].parse::<u8>().is_ok_and(|n| (1..=24).contains(&n)) =>
                {
                    KeyCode::F(f[1..].parse().unwrap_or(1))
                }
                _ => {
                    return Err(format!(
                        "'{text}' is not a key (e.g. j, G, Enter, Ctrl-d, PageDown, F1)"
                    ));
                }
            },
        };
        Ok(key)
    }

    /// The key as [`Key::parse`] reads it (the help overlay shows arrows;
    /// config files use names).
    pub fn notation(&self) -> String {
        let name = match self.code {
            KeyCode::Up => "Up".to_owned(),
            KeyCode::Down => "Down".to_owned(),
            KeyCode::Left => "Left".to_owned(),
            KeyCode::Right => "Right".to_owned(),
            _ => {
                let plain = Key {
                    ctrl: false,
                    alt: false,
                    ..*self
                };
                plain.to_string()
            }
        };
        format!(
            "{}{}{name}",
            if self.ctrl { "Ctrl-" } else { "" },
            if self.alt { "Alt-" } else { "" }
        )
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
            (c('D'), C::ToggleDetails),
            (c('m'), C::ToggleRead),
            (c('e'), C::Edit),
            (c('F'), C::FollowLink),
            (c('y'), C::CopyLink),
            (c('H'), C::HistoryBack),
            (k(K::Backspace), C::HistoryBack),
            (ctrl('o'), C::HistoryBack),
            (c('L'), C::HistoryForward),
            (c('/'), C::Search),
            (c('n'), C::NextMatch),
            (c('N'), C::PrevMatch),
            (c('S'), C::SearchAll),
            (c('B'), C::ToggleBookmark),
            (c('\''), C::Bookmarks),
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

    /// The default bindings with some commands remapped, as the config
    /// file's `keys:` says: each command named gets exactly the keys given,
    /// and those keys leave whatever they did before. Entries that make no
    /// sense are skipped and described, one message each.
    pub fn with_overrides(&self, keys: &BTreeMap<String, Vec<String>>) -> (Keymap, Vec<String>) {
        let mut map = self.clone();
        let mut problems = Vec::new();
        for (name, texts) in keys {
            let Ok(cmd) =
                serde_yaml::from_value::<Command>(serde_yaml::Value::String(name.clone()))
            else {
                let known: Vec<String> = Command::ALL.iter().map(|c| c.name()).collect();
                problems.push(format!(
                    "keys.{name}: unknown action (known: {})",
                    known.join(", ")
                ));
                continue;
            };
            let mut parsed = Vec::new();
            for text in texts {
                match Key::parse(text) {
                    Ok(k) => parsed.push(k),
                    Err(e) => problems.push(format!("keys.{name}: {e}")),
                }
            }
            if parsed.is_empty() {
                if texts.is_empty() {
                    problems.push(format!("keys.{name}: no keys given; keeping the defaults"));
                }
                continue;
            }
            map.bindings
                .retain(|(k, c)| *c != cmd && !parsed.contains(k));
            map.bindings.extend(parsed.into_iter().map(|k| (k, cmd)));
        }
        (map, problems)
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
    fn key_notation_round_trips() {
        for (text, key) in [
            ("j", Key::char('j')),
            ("G", Key::char('G')),
            ("]", Key::char(']')),
            ("Ctrl-d", Key::ctrl('d')),
            ("C-d", Key::ctrl('d')),
            ("c-D", Key::ctrl('d')),
            ("Enter", Key::new(KeyCode::Enter)),
            ("esc", Key::new(KeyCode::Esc)),
            ("S-Tab", Key::new(KeyCode::BackTab)),
            ("Shift-Tab", Key::new(KeyCode::BackTab)),
            ("Space", Key::char(' ')),
            ("PageDown", Key::new(KeyCode::PageDown)),
            ("Up", Key::new(KeyCode::Up)),
            ("F1", Key::new(KeyCode::F(1))),
            (
                "Alt-x",
                Key {
                    alt: true,
                    ..Key::char('x')
                },
            ),
            (
                "M-x",
                Key {
                    alt: true,
                    ..Key::char('x')
                },
            ),
            ("-", Key::char('-')),
        ] {
            assert_eq!(Key::parse(text), Ok(key), "{text}");
            assert_eq!(Key::parse(&key.notation()), Ok(key), "{text}");
        }
        for bad in ["", "Hyper-x", "F99", "ab", "Ctrl-"] {
            assert!(Key::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn overrides_remap_and_report() {
        let mut keys = BTreeMap::new();
        keys.insert(
            "next_heading".to_owned(),
            vec!["]".to_owned(), "n".to_owned()],
        );
        keys.insert(
            "down".to_owned(),
            vec!["Ctrl-n".to_owned(), "nope-key".to_owned()],
        );
        keys.insert("quit".to_owned(), vec!["x".to_owned()]);
        keys.insert("fly".to_owned(), vec!["f".to_owned()]);
        let (map, problems) = Keymap::default().with_overrides(&keys);
        assert_eq!(
            map.action(Key::char('n'), false),
            Some(Action::Command(Command::NextHeading))
        );
        assert_eq!(
            map.action(Key::char(']'), false),
            Some(Action::Command(Command::NextHeading))
        );
        assert_eq!(
            map.action(Key::ctrl('n'), false),
            Some(Action::Command(Command::Down))
        );
        // `down` now has only the keys given: j is free.
        assert_eq!(map.action(Key::char('j'), false), None);
        assert_eq!(map.action(Key::char('q'), false), None);
        assert_eq!(
            map.action(Key::char('x'), false),
            Some(Action::Command(Command::Quit))
        );
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].starts_with("keys.down: 'nope-key' is not a key"),
            "{problems:?}"
        );
        assert!(
            problems[1].starts_with("keys.fly: unknown action"),
            "{problems:?}"
        );
    }

    #[test]
    fn keys_display_for_help() {
        assert_eq!(Key::ctrl('d').to_string(), "Ctrl-d");
        assert_eq!(Key::new(KeyCode::BackTab).to_string(), "Shift-Tab");
        assert_eq!(Key::char(' ').to_string(), "Space");
    }
}
