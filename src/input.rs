//! Raw terminal input bytes to [`Key`]s, for runners that get bytes rather
//! than crossterm events (an SSH channel).
//!
//! A packet may hold several keys, or half of one: a sequence cut at the end
//! of `feed` is kept for the next call. A lone `Esc` cannot be told from the
//! start of a sequence by the bytes alone; the parser keeps it pending and
//! the caller decides, after a short quiet time, with [`Parser::flush`]. The
//! parser has no clock.
//!
//! Bracketed paste is swallowed whole (a reader has nothing to paste into,
//! and pasted text must not turn into commands). A reply to the background
//! colour query (OSC 11) becomes [`Event::Background`], one to the question
//! for left/right margins (DECRQM for mode 69) [`Event::Margins`], and the
//! answers to the picture questions ([`crate::graphics::QUERY`]: a kitty
//! graphics APC, DA1, the cell size) their own events; any other reply,
//! report or unknown sequence is dropped without a trace.

use crate::action::Wheel;
use crate::color;
use crate::keymap::{Key, KeyCode};

/// The longest control sequence kept while waiting for its end; anything
/// longer is garbage and dropped.
const MAX_SEQUENCE: usize = 256;
const PASTE_END: &[u8] = b"\x1b[201~";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Key(Key),
    /// The terminal's background colour, answering an OSC 11 query.
    Background([u8; 3]),
    /// A mouse wheel notch at (column, row), zero-based.
    Wheel(Wheel, u16, u16),
    /// A left click at (column, row), zero-based.
    Click(u16, u16),
    /// Whether the terminal has left/right margins, answering DECRQM for
    /// mode 69 (DECLRMM).
    Margins(bool),
    /// A reply to kitty's graphics query (image id 31): whether it was OK.
    Kitty(bool),
    /// Primary device attributes (DA1): whether they include sixel.
    DeviceAttributes {
        sixel: bool,
    },
    /// The cell size in pixels (width, height), answering `CSI 16 t`.
    CellSize(u16, u16),
}

#[derive(Debug, Default)]
pub struct Parser {
    /// Bytes of an unfinished sequence or character.
    pending: Vec<u8>,
    /// Inside a bracketed paste: everything up to its end is dropped.
    pasting: bool,
}

/// What one attempt at the front of the buffer found.
enum Step {
    /// `n` bytes made this event (or nothing, for dropped sequences).
    Done(usize, Option<Event>),
    /// The buffer ends inside a sequence.
    Incomplete,
}

impl Parser {
    pub fn new() -> Parser {
        Parser::default()
    }

    /// Parses `bytes` (after whatever was pending) into events.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Event> {
        self.pending.extend_from_slice(bytes);
        let mut events = Vec::new();
        let mut at = 0;
        while at < self.pending.len() {
            let rest = &self.pending[at..];
            if self.pasting {
                if let Some(end) = find(rest, PASTE_END) {
                    at += end + PASTE_END.len();
                    self.pasting = false;
                } else {
                    // Keep only what could be the start of the end marker.
                    let keep = (1..PASTE_END.len())
                        .rev()
                        .find(|&k| rest.len() >= k && rest.ends_with(&PASTE_END[..k]))
                        .unwrap_or(0);
                    at = self.pending.len() - keep;
                    break;
                }
                continue;
            }
            match step(rest) {
                Step::Done(n, event) => {
                    at += n;
                    if let Some(event) = event {
                        events.push(event);
                    }
                    if rest.starts_with(b"\x1b[200~") {
                        self.pasting = true;
                    }
                }
                Step::Incomplete => {
                    if rest.len() > MAX_SEQUENCE {
                        // Not a sequence any terminal sends: skip its ESC.
                        at += 1;
                        continue;
                    }
                    break;
                }
            }
        }
        self.pending.drain(..at);
        events
    }

    /// Whether bytes are waiting for more: the caller should call
    /// [`Parser::flush`] if nothing else arrives soon.
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty() && !self.pasting
    }

    /// Nothing more is coming for now: a pending lone `Esc` is the Esc key,
    /// `Esc` and a character are Alt and that character, an unfinished
    /// sequence is dropped.
    pub fn flush(&mut self) -> Vec<Event> {
        let pending = std::mem::take(&mut self.pending);
        if self.pasting {
            self.pending = pending;
            return Vec::new();
        }
        match pending.as_slice() {
            [0x1b] => vec![Event::Key(Key::new(KeyCode::Esc))],
            [0x1b, 0x1b] => vec![Event::Key(Key::new(KeyCode::Esc)); 2],
            _ => Vec::new(),
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[allow(clippy::unnecessary_wraps)] // reads best where events are optional
fn key(code: KeyCode) -> Option<Event> {
    Some(Event::Key(Key::new(code)))
}

/// One event from the front of `b` (not empty).
fn step(b: &[u8]) -> Step {
    match b[0] {
        0x1b => escape(b),
        b'\r' | b'\n' => Step::Done(1, key(KeyCode::Enter)),
        b'\t' => Step::Done(1, key(KeyCode::Tab)),
        0x7f | 0x08 => Step::Done(1, key(KeyCode::Backspace)),
        c @ 0x01..=0x1a => Step::Done(1, Some(Event::Key(Key::ctrl((b'a' + c - 1) as char)))),
        // NUL (Ctrl-Space) and Ctrl-\ ] ^ _ mean nothing to folio.
        0x00 | 0x1c..=0x1f => Step::Done(1, None),
        _ => utf8(b),
    }
}

/// A UTF-8 character; a broken one is skipped a byte at a time.
fn utf8(b: &[u8]) -> Step {
    let len = match b[0] {
        0x20..=0x7e => 1,
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return Step::Done(1, None),
    };
    if b.len() < len {
        // Only wait while what is there can still become a character.
        return if b[1..].iter().all(|&c| (0x80..0xc0).contains(&c)) {
            Step::Incomplete
        } else {
            Step::Done(1, None)
        };
    }
    match std::str::from_utf8(&b[..len]) {
        Ok(s) => {
            let c = s.chars().next().unwrap_or(' ');
            // C1 controls decoded from UTF-8 are not keys.
            let event = (!c.is_control()).then_some(Event::Key(Key::char(c)));
            Step::Done(len, event)
        }
        Err(_) => Step::Done(1, None),
    }
}

fn escape(b: &[u8]) -> Step {
    let Some(&second) = b.get(1) else {
        return Step::Incomplete;
    };
    match second {
        b'[' => csi(b),
        b'O' => match b.get(2) {
            None => Step::Incomplete,
            Some(&c) => Step::Done(3, ss3(c)),
        },
        b']' | b'P' | b'_' | b'^' | b'X' => string(b),
        // Esc pressed twice: the first is a key on its own.
        0x1b => Step::Done(1, key(KeyCode::Esc)),
        _ => match step(&b[1..]) {
            Step::Incomplete => Step::Incomplete,
            Step::Done(n, Some(Event::Key(mut k))) => {
                k.alt = true;
                Step::Done(n + 1, Some(Event::Key(k)))
            }
            Step::Done(n, _) => Step::Done(n + 1, None),
        },
    }
}

fn ss3(c: u8) -> Option<Event> {
    let code = match c {
        b'M' => KeyCode::Enter,
        b'P'..=b'S' => KeyCode::F(c - b'P' + 1),
        _ => cursor_key(c)?,
    };
    key(code)
}

/// The arrows, Home and End: the same final byte after SS3 (`ESC O A`) as
/// after CSI (`ESC [ A`, `ESC [ 1 ; 5 A`).
fn cursor_key(fin: u8) -> Option<KeyCode> {
    Some(match fin {
        b'A' => KeyCode::Up,
        b'B' => KeyCode::Down,
        b'C' => KeyCode::Right,
        b'D' => KeyCode::Left,
        b'H' => KeyCode::Home,
        b'F' => KeyCode::End,
        _ => return None,
    })
}

/// An OSC, DCS, APC, PM or SOS string, up to BEL or ST.
fn string(b: &[u8]) -> Step {
    let mut i = 2;
    while i < b.len() {
        match b[i] {
            0x07 => return Step::Done(i + 1, string_event(b[1], &b[2..i])),
            0x1b => {
                return match b.get(i + 1) {
                    None => Step::Incomplete,
                    Some(b'\\') => Step::Done(i + 2, string_event(b[1], &b[2..i])),
                    // An ESC that does not end the string ends it anyway:
                    // drop what came so far and parse from the ESC.
                    Some(_) => Step::Done(i, None),
                };
            }
            _ => i += 1,
        }
    }
    Step::Incomplete
}

/// The event a string of kind `kind` (`]` OSC, `_` APC…) with `body` is:
/// a background colour, a kitty graphics reply, or nothing.
fn string_event(kind: u8, body: &[u8]) -> Option<Event> {
    match kind {
        b']' => osc11(body),
        // kitty's reply to our query: `G i=31;OK`, or `G i=31;ENOTSUP:…`.
        b'_' => {
            let rest = body.strip_prefix(b"G")?;
            let (keys, message) = match rest.iter().position(|&c| c == b';') {
                Some(at) => (&rest[..at], &rest[at + 1..]),
                None => (rest, &[][..]),
            };
            keys.split(|&c| c == b',')
                .any(|k| k == b"i=31")
                .then_some(Event::Kitty(message == b"OK"))
        }
        _ => None,
    }
}

fn osc11(body: &[u8]) -> Option<Event> {
    let rgb = color::parse_osc11_body(std::str::from_utf8(body).ok()?)?;
    Some(Event::Background(rgb))
}

/// A CSI sequence: parameters, intermediates, a final byte.
fn csi(b: &[u8]) -> Step {
    let mut i = 2;
    while i < b.len() && (0x30..=0x3f).contains(&b[i]) {
        i += 1;
    }
    while i < b.len() && (0x20..=0x2f).contains(&b[i]) {
        i += 1;
    }
    let Some(&fin) = b.get(i) else {
        return Step::Incomplete;
    };
    if !(0x40..=0x7e).contains(&fin) {
        // Not a CSI sequence after all: drop the introducer.
        return Step::Done(2, None);
    }
    let params = &b[2..i];
    Step::Done(i + 1, csi_event(params, fin))
}

fn numbers(params: &[u8]) -> Vec<u32> {
    params
        .split(|&c| c == b';')
        .map(|p| {
            // Sub-parameters (`1:2`) and junk count as their leading digits.
            p.iter()
                .take_while(|c| c.is_ascii_digit())
                .fold(0u32, |n, &d| {
                    n.saturating_mul(10).saturating_add(u32::from(d - b'0'))
                })
        })
        .collect()
}

#[allow(clippy::unnecessary_wraps)] // the value of a function returning Option
fn with_modifiers(code: KeyCode, modifier: Option<&u32>) -> Option<Event> {
    let bits = modifier.map_or(0, |m| m.saturating_sub(1));
    let mut key = Key::new(code);
    key.alt = bits & 2 != 0;
    key.ctrl = bits & 4 != 0;
    if bits & 1 != 0 && code == KeyCode::Tab {
        key.code = KeyCode::BackTab;
    }
    Some(Event::Key(key))
}

fn csi_event(params: &[u8], fin: u8) -> Option<Event> {
    if params.first() == Some(&b'<') {
        return mouse(&params[1..], fin);
    }
    if fin == b'y' && params.starts_with(b"?69;") && params.ends_with(b"$") {
        // DECRPM: `CSI ? 69 ; Ps $ y`, Ps 1 or 2 (set, reset) or 3
        // (permanently set) where the mode exists, 0 or 4 where it does not.
        let n = numbers(&params[1..params.len() - 1]);
        return Some(Event::Margins(matches!(n.get(1), Some(1..=3))));
    }
    if fin == b'c' && params.first() == Some(&b'?') {
        return Some(Event::DeviceAttributes {
            sixel: crate::graphics::da1_has_sixel(&params[1..]),
        });
    }
    if fin == b't' && params.starts_with(b"6;") {
        // `CSI 6 ; height ; width t`: the cell size in pixels.
        let n = numbers(params);
        let px = |v: Option<&u32>| u16::try_from(*v?).ok();
        return Some(Event::CellSize(px(n.get(2))?, px(n.get(1))?));
    }
    if params
        .first()
        .is_some_and(|c| !c.is_ascii_digit() && *c != b';')
    {
        // Private replies (`?…`, `>…`): device attributes, modes.
        return None;
    }
    let n = numbers(params);
    let modifier = n.get(1);
    let code = match fin {
        b'Z' => KeyCode::BackTab,
        // F1–F4 with modifiers are `CSI 1 ; m P`; a cursor position
        // report (`CSI row ; col R`) is not a key.
        b'P'..=b'S' if n.first() == Some(&1) && n.len() == 2 => KeyCode::F(fin - b'P' + 1),
        b'~' => match n.first().copied().unwrap_or(0) {
            1 | 7 => KeyCode::Home,
            2 => KeyCode::Insert,
            3 => KeyCode::Delete,
            4 | 8 => KeyCode::End,
            5 => KeyCode::PageUp,
            6 => KeyCode::PageDown,
            f @ 11..=15 => KeyCode::F((f - 10) as u8),
            f @ 17..=21 => KeyCode::F((f - 11) as u8),
            f @ 23..=24 => KeyCode::F((f - 12) as u8),
            _ => return None,
        },
        // The kitty keyboard protocol's `CSI code ; mods u`.
        b'u' => {
            let code = match n.first().copied().unwrap_or(0) {
                13 => KeyCode::Enter,
                27 => KeyCode::Esc,
                9 => KeyCode::Tab,
                127 => KeyCode::Backspace,
                c => KeyCode::Char(char::from_u32(c).filter(|c| !c.is_control())?),
            };
            return with_modifiers(code, modifier);
        }
        _ => cursor_key(fin)?,
    };
    with_modifiers(code, modifier)
}

/// SGR mouse reports: `CSI < button ; column ; row M` (press) or `m`.
fn mouse(params: &[u8], fin: u8) -> Option<Event> {
    let n = numbers(params);
    let (&button, &column, &row) = (n.first()?, n.get(1)?, n.get(2)?);
    let at = |v: u32| u16::try_from(v.saturating_sub(1)).unwrap_or(u16::MAX);
    match (button & !0b1_1100, fin) {
        (64, b'M') => Some(Event::Wheel(Wheel::Up, at(column), at(row))),
        (65, b'M') => Some(Event::Wheel(Wheel::Down, at(column), at(row))),
        (0, b'M') if button & 32 == 0 => Some(Event::Click(at(column), at(row))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(events: &[Event]) -> Vec<Key> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Key(k) => Some(*k),
                _ => None,
            })
            .collect()
    }

    fn parse(bytes: &[u8]) -> Vec<Event> {
        Parser::new().feed(bytes)
    }

    #[test]
    fn several_keys_in_one_packet() {
        let events = parse(b"jk\x1b[B\x1b[5~G\r\x03 \x7f");
        assert_eq!(
            keys(&events),
            [
                Key::char('j'),
                Key::char('k'),
                Key::new(KeyCode::Down),
                Key::new(KeyCode::PageUp),
                Key::char('G'),
                Key::new(KeyCode::Enter),
                Key::ctrl('c'),
                Key::char(' '),
                Key::new(KeyCode::Backspace),
            ]
        );
    }

    #[test]
    fn sequences_split_across_packets() {
        let mut p = Parser::new();
        let whole = b"\x1b[1;5A\x1bOP\x1b[24~\xc3\xa9\xe2\x82\xac]";
        let mut events = Vec::new();
        for b in whole {
            events.extend(p.feed(&[*b]));
        }
        assert!(!p.has_pending());
        let ctrl_up = Key {
            ctrl: true,
            ..Key::new(KeyCode::Up)
        };
        assert_eq!(
            keys(&events),
            [
                ctrl_up,
                Key::new(KeyCode::F(1)),
                Key::new(KeyCode::F(12)),
                Key::char('é'),
                Key::char('€'),
                Key::char(']'),
            ]
        );
    }

    #[test]
    fn a_lone_esc_waits_for_the_caller() {
        let mut p = Parser::new();
        assert!(p.feed(b"\x1b").is_empty());
        assert!(p.has_pending());
        assert_eq!(keys(&p.flush()), [Key::new(KeyCode::Esc)]);
        assert!(!p.has_pending());
        // Esc then a key in one packet is Alt and that key.
        let alt_j = Key {
            alt: true,
            ..Key::char('j')
        };
        assert_eq!(keys(&p.feed(b"\x1bj")), [alt_j]);
        // Esc Esc: the first is a key, the second waits.
        assert_eq!(keys(&p.feed(b"\x1b\x1b")), [Key::new(KeyCode::Esc)]);
        assert_eq!(keys(&p.flush()), [Key::new(KeyCode::Esc)]);
        // An unfinished sequence is dropped by a flush, not turned into keys.
        assert!(p.feed(b"\x1b[1;").is_empty());
        assert!(p.flush().is_empty());
        assert_eq!(keys(&p.feed(b"q")), [Key::char('q')]);
    }

    #[test]
    fn bracketed_paste_is_ignored() {
        let mut p = Parser::new();
        assert_eq!(keys(&p.feed(b"j\x1b[200~qqq\x1b[20")), [Key::char('j')]);
        assert!(!p.has_pending(), "a paste is not an Esc waiting");
        assert!(p.feed(b"0~ still paste \x1b").is_empty());
        assert_eq!(keys(&p.feed(b"[201~k")), [Key::char('k')]);
    }

    #[test]
    fn background_colour_replies() {
        let mut p = Parser::new();
        assert_eq!(
            p.feed(b"\x1b]11;rgb:ffff/ffff/ffff\x07j"),
            [
                Event::Background([255, 255, 255]),
                Event::Key(Key::char('j'))
            ]
        );
        // ST-terminated, split in the middle of the terminator.
        assert!(p.feed(b"\x1b]11;rgb:0000/0000/0000\x1b").is_empty());
        assert_eq!(p.feed(b"\\"), [Event::Background([0, 0, 0])]);
        // Other replies vanish.
        assert!(
            p.feed(b"\x1b]10;rgb:1/2/3\x07\x1b[>41;380;0c\x1b[12;40R")
                .is_empty()
        );
        assert!(p.feed(b"\x1bP>|xterm\x1b\\").is_empty());
    }

    #[test]
    fn margin_mode_replies() {
        let mut p = Parser::new();
        assert_eq!(
            p.feed(b"\x1b[?69;2$yj"),
            [Event::Margins(true), Event::Key(Key::char('j'))]
        );
        assert_eq!(p.feed(b"\x1b[?69;1$y"), [Event::Margins(true)]);
        assert_eq!(p.feed(b"\x1b[?69;0$y"), [Event::Margins(false)]);
        assert_eq!(p.feed(b"\x1b[?69;4$y"), [Event::Margins(false)]);
        // Split anywhere, it is still a reply and never keys.
        assert!(p.feed(b"\x1b[?6").is_empty());
        assert!(p.feed(b"9;2$").is_empty());
        assert_eq!(p.feed(b"y"), [Event::Margins(true)]);
        // Other modes' replies vanish.
        assert!(p.feed(b"\x1b[?2026;2$y\x1b[?1;1$y").is_empty());
    }

    #[test]
    fn picture_replies_split_anywhere_are_events_never_keys() {
        // What kitty answers to folio's questions, in one packet.
        let kitty = b"\x1b_Gi=31;OK\x1b\\\x1b[6;20;10t\x1b[?62;22;52c";
        // A sixel terminal (xterm -ti vt340) and a plain one.
        let sixel = b"\x1b[6;16;8t\x1b[?63;1;2;4;6;9;15;22c";
        let plain = b"\x1b[?62;22c";
        let refused = b"\x1b_Gi=31;ENOTSUPPORTED:no\x1b\\\x1b[?1;2c";
        let expect: [&[Event]; 4] = [
            &[
                Event::Kitty(true),
                Event::CellSize(10, 20),
                Event::DeviceAttributes { sixel: false },
            ],
            &[
                Event::CellSize(8, 16),
                Event::DeviceAttributes { sixel: true },
            ],
            &[Event::DeviceAttributes { sixel: false }],
            &[
                Event::Kitty(false),
                Event::DeviceAttributes { sixel: false },
            ],
        ];
        for (reply, expect) in [&kitty[..], sixel, plain, refused].into_iter().zip(expect) {
            // Whole, then cut at every place into two reads, then a byte
            // at a time; a key after it is still a key.
            let mut cuts: Vec<Vec<&[u8]>> = vec![vec![reply]];
            for at in 1..reply.len() {
                cuts.push(vec![&reply[..at], &reply[at..]]);
            }
            cuts.push(reply.chunks(1).collect());
            for reads in cuts {
                let mut p = Parser::new();
                let mut events = Vec::new();
                for read in &reads {
                    events.extend(p.feed(read));
                }
                events.extend(p.feed(b"j"));
                let mut want = expect.to_vec();
                want.push(Event::Key(Key::char('j')));
                assert_eq!(events, want, "{reads:?}");
            }
        }
        // Other APC strings and window reports are not replies to us.
        let mut p = Parser::new();
        assert!(
            p.feed(b"\x1b_Gi=5;OK\x1b\\\x1b[8;24;80t\x1b[4;400;800t")
                .is_empty()
        );
    }

    #[test]
    fn garbage_never_becomes_a_command_or_a_panic() {
        let mut p = Parser::new();
        assert_eq!(keys(&p.feed(b"\xff\xfe\x80j")), [Key::char('j')]);
        assert!(keys(&p.feed(b"\xc2\x9b")).is_empty(), "a C1 CSI is no key");
        let long: Vec<u8> = b"\x1b[".iter().chain([b'1'; 600].iter()).copied().collect();
        let events = p.feed(&long);
        assert!(events.len() < 700, "{}", events.len());
        assert!(p.pending.len() <= MAX_SEQUENCE + 1);
        // Every byte value, every split: no panic, bounded state.
        let all: Vec<u8> = (0..=255u8).cycle().take(2048).collect();
        for chunk in all.chunks(7) {
            p.feed(chunk);
            assert!(p.pending.len() <= MAX_SEQUENCE + 8);
        }
        p.flush();
    }

    #[test]
    fn mouse_reports() {
        assert_eq!(
            parse(b"\x1b[<65;10;5M\x1b[<64;1;1M\x1b[<0;3;4M\x1b[<0;3;4m"),
            [
                Event::Wheel(Wheel::Down, 9, 4),
                Event::Wheel(Wheel::Up, 0, 0),
                Event::Click(2, 3),
            ]
        );
    }

    #[test]
    fn modifiers_and_kitty_keys() {
        let events = parse(b"\x1b[Z\x1b[106;5u\x1b[3~\x1b[1;3D");
        assert_eq!(
            keys(&events),
            [
                Key::new(KeyCode::BackTab),
                Key::ctrl('j'),
                Key::new(KeyCode::Delete),
                Key {
                    alt: true,
                    ..Key::new(KeyCode::Left)
                },
            ]
        );
    }
}
