//! Which picture protocol a terminal gets, and the protocols' sequences.
//!
//! A session asks the terminal once, right after its first frame
//! ([`QUERY`]): kitty's graphics query, the cell size in pixels and the
//! primary device attributes (DA1). Nearly every terminal answers DA1, and
//! answers in order, so its reply ends the wait: a kitty or cell-size reply
//! that came before it counts. The choice ([`choose`]) is kitty, then
//! iTerm2 (known from the environment only: it has no query), then sixel,
//! then half blocks. Until the answer, and wherever there is none, pictures
//! are half blocks: the first frame never waits.
//!
//! The encoders ([`kitty`], [`iterm2`], [`sixel`]) are built only from
//! decoded pixels, on a worker; [`crate::wire::WireBackend`] places them.

pub mod kitty;
pub mod sixel;

use std::sync::Arc;

use crate::picture::Images;

/// How pictures are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Graphics {
    /// Unicode half blocks, two pixels a cell, in the theme's colours.
    #[default]
    Halfblocks,
    /// DEC sixel graphics: pixels in the cell grid, up to 256 colours.
    Sixel,
    /// iTerm2's inline images (OSC 1337), also `WezTerm`'s.
    Iterm2,
    /// kitty's graphics protocol (also Ghostty, Konsole, `WezTerm`).
    Kitty,
}

impl Graphics {
    pub fn name(self) -> &'static str {
        match self {
            Graphics::Halfblocks => "halfblocks",
            Graphics::Sixel => "sixel",
            Graphics::Iterm2 => "iterm2",
            Graphics::Kitty => "kitty",
        }
    }

    /// The protocol an `images` setting forces, if it forces one.
    pub fn forced(images: Images) -> Option<Graphics> {
        match images {
            Images::Kitty => Some(Graphics::Kitty),
            Images::Iterm2 => Some(Graphics::Iterm2),
            Images::Sixel => Some(Graphics::Sixel),
            Images::Halfblocks => Some(Graphics::Halfblocks),
            Images::Auto | Images::Off => None,
        }
    }
}

/// The questions, in this order: kitty's graphics query (image id 31, one
/// RGB pixel, answered `ESC _ G i=31;OK ESC \` by terminals that have the
/// protocol), the text area's cell size (`CSI 16 t`, answered
/// `CSI 6 ; height ; width t`), then DA1 (`CSI c`), whose reply ends the wait.
pub const QUERY: &str = "\x1b_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\\x1b[16t\x1b[c";

/// The cell size assumed when the terminal does not say: a common one.
pub const DEFAULT_CELL: (u16, u16) = (10, 20);

/// The largest cell size believed (pixels): a bigger answer is a mistake or
/// a trick to make folio encode huge pictures.
const MAX_CELL: (u16, u16) = (64, 128);

/// A cell size, as told or assumed, within `MAX_CELL`.
pub fn cell_size(told: Option<(u16, u16)>) -> (u16, u16) {
    match told {
        Some((w, h)) if w > 0 && h > 0 => (w.min(MAX_CELL.0), h.min(MAX_CELL.1)),
        _ => DEFAULT_CELL,
    }
}

/// What is known before asking: from the environment of the local
/// terminal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Hint {
    /// `TERM_PROGRAM` / `LC_TERMINAL` name iTerm2 or `WezTerm`.
    pub iterm2: bool,
    /// Inside tmux (`TMUX` set): only half blocks get through reliably.
    pub tmux: bool,
    /// The cell size from the tty's window size (TIOCGWINSZ pixels), if
    /// the kernel knows it.
    pub cell: Option<(u16, u16)>,
}

impl Hint {
    /// From environment variables, looked up by `var`.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Hint {
        let named = |v: &str, names: &[&str]| {
            var(v).is_some_and(|s| names.iter().any(|n| s.eq_ignore_ascii_case(n)))
        };
        Hint {
            iterm2: named("TERM_PROGRAM", &["iTerm.app", "WezTerm"])
                || named("LC_TERMINAL", &["iTerm2", "WezTerm"]),
            tmux: var("TMUX").is_some_and(|s| !s.is_empty()),
            cell: None,
        }
    }

    /// What `--print` uses, which cannot wait for replies: kitty when
    /// `TERM` says so (or `TERM_PROGRAM` is ghostty), iTerm2 when
    /// `TERM_PROGRAM` says so, else none.
    pub fn print_protocol(var: impl Fn(&str) -> Option<String>) -> Option<Graphics> {
        if var("TMUX").is_some_and(|s| !s.is_empty()) {
            return None;
        }
        let is = |v: &str, name: &str| var(v).is_some_and(|s| s.eq_ignore_ascii_case(name));
        if is("TERM", "xterm-kitty") || is("TERM", "xterm-ghostty") {
            Some(Graphics::Kitty)
        } else if Hint::from_env(&var).iterm2 {
            Some(Graphics::Iterm2)
        } else {
            None
        }
    }
}

/// The terminal's answers so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Answers {
    /// It answered kitty's query with `OK`.
    pub kitty: bool,
    /// It told its cell size in pixels.
    pub cell: Option<(u16, u16)>,
}

/// The protocol for a terminal that answered DA1 (`sixel`: a 4 among its
/// attributes) after `answers`, given `hint`. Sixel needs the cell size
/// (its pictures are sized in pixels, and a wrong guess would spill over
/// the text below); kitty's and iTerm2's are sized in cells.
pub fn choose(answers: Answers, sixel: bool, hint: Hint) -> Graphics {
    if hint.tmux {
        Graphics::Halfblocks
    } else if answers.kitty {
        Graphics::Kitty
    } else if hint.iterm2 {
        Graphics::Iterm2
    } else if sixel && (answers.cell.is_some() || hint.cell.is_some()) {
        Graphics::Sixel
    } else {
        Graphics::Halfblocks
    }
}

/// Whether a DA1 reply's parameters (after `?`, e.g. `62;4;22`) include 4,
/// sixel graphics.
pub fn da1_has_sixel(params: &[u8]) -> bool {
    params.split(|&c| c == b';').any(|p| p == b"4")
}

/// A picture encoded for a protocol, fitted into its rows: `cols` × `rows`
/// cells starting `left` cells from the picture's left edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    pub graphics: Graphics,
    pub left: u16,
    pub cols: u16,
    pub rows: u16,
    /// kitty and iTerm2: the PNG in base64; sixel: the whole DCS sequence.
    /// Shared, so a backend knows an image it has sent by its pointer.
    pub data: Arc<str>,
}

/// iTerm2's inline image at the cursor, `cols` × `rows` cells; the cursor
/// moves past it only when `move_cursor` (printing), else stays.
pub fn iterm2(enc: &Encoded, move_cursor: bool) -> String {
    let size = enc.data.len() / 4 * 3;
    let stay = if move_cursor {
        ""
    } else {
        ";doNotMoveCursor=1"
    };
    format!(
        "\x1b]1337;File=inline=1;size={size};width={}c;height={}c;preserveAspectRatio=1{stay}:{}\x07",
        enc.cols, enc.rows, enc.data
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_choice_prefers_kitty_then_iterm2_then_sixel() {
        let kitty = Answers {
            kitty: true,
            cell: Some((9, 18)),
        };
        let plain = Answers::default();
        let sized = Answers {
            kitty: false,
            cell: Some((9, 18)),
        };
        let none = Hint::default();
        let iterm = Hint {
            iterm2: true,
            ..Hint::default()
        };
        let tmux = Hint {
            tmux: true,
            ..Hint::default()
        };
        assert_eq!(choose(kitty, true, none), Graphics::Kitty);
        assert_eq!(choose(kitty, false, iterm), Graphics::Kitty);
        assert_eq!(choose(sized, true, iterm), Graphics::Iterm2);
        assert_eq!(choose(sized, true, none), Graphics::Sixel);
        // Sixel without a cell size would be a guess in pixels.
        assert_eq!(choose(plain, true, none), Graphics::Halfblocks);
        assert_eq!(choose(sized, false, none), Graphics::Halfblocks);
        assert_eq!(choose(kitty, true, tmux), Graphics::Halfblocks);
    }

    #[test]
    fn device_attributes_with_and_without_sixel() {
        assert!(da1_has_sixel(b"62;4;22"));
        assert!(da1_has_sixel(b"4"));
        assert!(!da1_has_sixel(b"62;22;44"));
        assert!(!da1_has_sixel(b"1;2"));
    }

    #[test]
    fn hints_from_the_environment() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        assert!(Hint::from_env(env(&[("TERM_PROGRAM", "iTerm.app")])).iterm2);
        assert!(Hint::from_env(env(&[("LC_TERMINAL", "iTerm2")])).iterm2);
        assert!(Hint::from_env(env(&[("TMUX", "/tmp/x,1,0")])).tmux);
        assert_eq!(Hint::from_env(env(&[])), Hint::default());
        assert_eq!(
            Hint::print_protocol(env(&[("TERM", "xterm-kitty")])),
            Some(Graphics::Kitty)
        );
        assert_eq!(
            Hint::print_protocol(env(&[("TERM_PROGRAM", "WezTerm")])),
            Some(Graphics::Iterm2)
        );
        assert_eq!(
            Hint::print_protocol(env(&[("TERM", "xterm-kitty"), ("TMUX", "x")])),
            None
        );
        assert_eq!(Hint::print_protocol(env(&[("TERM", "xterm")])), None);
    }

    #[test]
    fn cell_sizes_are_bounded() {
        assert_eq!(cell_size(None), DEFAULT_CELL);
        assert_eq!(cell_size(Some((0, 20))), DEFAULT_CELL);
        assert_eq!(cell_size(Some((8, 16))), (8, 16));
        assert_eq!(cell_size(Some((9999, 9999))), MAX_CELL);
    }
}
