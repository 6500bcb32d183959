//! Colour depth: what the terminal can show, detected once at start, and the
//! mapping of any colour a theme or syntect names onto it.
//!
//! Nearest colours are chosen in `OKLab`, where distance follows what the eye
//! sees; naive RGB distance turns muted blues grey and dark reds brown.

use std::sync::LazyLock;

use ratatui::style::Color;
use serde::{Deserialize, Serialize};

/// How many colours the terminal shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Depth {
    /// No colour at all: structure is carried by bold, italic, underline and
    /// reverse.
    None,
    /// The 16 ANSI colours, whose exact look is the terminal's palette.
    Ansi16,
    /// The xterm 256-colour palette; only indices 16–255 are ever chosen.
    #[default]
    Ansi256,
    /// 24-bit RGB.
    TrueColor,
}

/// The user's colour choice, from `--color` or the config file's `color:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColorChoice {
    /// Colour on a terminal, at the depth the environment reports, unless
    /// `NO_COLOR` is set.
    #[default]
    Auto,
    /// Colour even when not writing to a terminal, at the detected depth.
    Always,
    Never,
    /// Force a depth, for terminals that under-report themselves.
    #[serde(rename = "16")]
    Ansi16,
    #[serde(rename = "256")]
    Ansi256,
    #[serde(rename = "truecolor")]
    TrueColor,
}

impl ColorChoice {
    pub const NAMES: [&'static str; 6] = ["auto", "always", "never", "16", "256", "truecolor"];

    pub fn parse(s: &str) -> Option<ColorChoice> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "auto" => ColorChoice::Auto,
            "always" => ColorChoice::Always,
            "never" => ColorChoice::Never,
            "16" => ColorChoice::Ansi16,
            "256" => ColorChoice::Ansi256,
            "truecolor" | "24bit" => ColorChoice::TrueColor,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            ColorChoice::Auto => "auto",
            ColorChoice::Always => "always",
            ColorChoice::Never => "never",
            ColorChoice::Ansi16 => "16",
            ColorChoice::Ansi256 => "256",
            ColorChoice::TrueColor => "truecolor",
        }
    }
}

/// What the terminal says about itself, read from the environment.
pub fn depth_from_env(colorterm: Option<&str>, term: Option<&str>) -> Depth {
    if matches!(colorterm, Some("truecolor" | "24bit")) {
        return Depth::TrueColor;
    }
    match term {
        Some(t) if t.contains("256color") || t.contains("direct") => Depth::Ansi256,
        // A dumb terminal shows escape sequences as text.
        Some("dumb") => Depth::None,
        _ => Depth::Ansi16,
    }
}

/// The depth to use, once, at start. `env` looks a variable up; `tty` says
/// whether the output is a terminal.
pub fn resolve_depth(
    choice: ColorChoice,
    tty: bool,
    env: impl Fn(&str) -> Option<String>,
) -> Depth {
    let colorterm = env("COLORTERM");
    let term = env("TERM");
    let detected = depth_from_env(colorterm.as_deref(), term.as_deref());
    match choice {
        ColorChoice::Never => Depth::None,
        ColorChoice::Ansi16 => Depth::Ansi16,
        ColorChoice::Ansi256 => Depth::Ansi256,
        ColorChoice::TrueColor => Depth::TrueColor,
        // Asked for colour with no terminal to ask (a pipe into `less -R`):
        // 256 colours are what almost every terminal shows correctly.
        ColorChoice::Always if detected == Depth::None || term.is_none() => Depth::Ansi256,
        ColorChoice::Always => detected,
        ColorChoice::Auto => {
            let no_color = env("NO_COLOR").is_some_and(|v| !v.is_empty());
            if no_color || !tty {
                Depth::None
            } else {
                detected
            }
        }
    }
}

/// Maps a colour to the nearest one the depth can show. Named ANSI colours
/// and `Reset` are the terminal's own and pass through unchanged; `None`
/// means "no colour".
pub fn map(color: Color, depth: Depth) -> Option<Color> {
    match (depth, color) {
        (Depth::None, _) => None,
        (_, Color::Reset) | (Depth::TrueColor, _) => Some(color),
        (_, Color::Indexed(i)) if i < 16 => Some(ANSI16[usize::from(i)].0),
        (Depth::Ansi256, Color::Rgb(r, g, b)) => Some(Color::Indexed(nearest_256([r, g, b]))),
        (Depth::Ansi16, Color::Indexed(i)) => Some(nearest_16(rgb_of_index(i))),
        (Depth::Ansi16, Color::Rgb(r, g, b)) => Some(nearest_16([r, g, b])),
        _ => Some(color),
    }
}

/// The 16 ANSI colours with xterm's default RGB values, used only to choose
/// the nearest one: each terminal shows its own.
const ANSI16: [(Color, [u8; 3]); 16] = [
    (Color::Black, [0, 0, 0]),
    (Color::Red, [205, 0, 0]),
    (Color::Green, [0, 205, 0]),
    (Color::Yellow, [205, 205, 0]),
    (Color::Blue, [0, 0, 238]),
    (Color::Magenta, [205, 0, 205]),
    (Color::Cyan, [0, 205, 205]),
    (Color::Gray, [229, 229, 229]),
    (Color::DarkGray, [127, 127, 127]),
    (Color::LightRed, [255, 0, 0]),
    (Color::LightGreen, [0, 255, 0]),
    (Color::LightYellow, [255, 255, 0]),
    (Color::LightBlue, [92, 92, 255]),
    (Color::LightMagenta, [255, 0, 255]),
    (Color::LightCyan, [0, 255, 255]),
    (Color::White, [255, 255, 255]),
];

const CUBE: [u8; 6] = [0, 95, 135, 175, 215, 255];

/// The RGB value xterm gives a palette index.
pub fn rgb_of_index(i: u8) -> [u8; 3] {
    match i {
        0..=15 => ANSI16[usize::from(i)].1,
        16..=231 => {
            let i = i - 16;
            [
                CUBE[usize::from(i / 36)],
                CUBE[usize::from(i / 6 % 6)],
                CUBE[usize::from(i % 6)],
            ]
        }
        _ => {
            let v = 8 + 10 * (i - 232);
            [v, v, v]
        }
    }
}

/// Nearest of indices 16–255. 0–15 are left out on purpose: their RGB values
/// are whatever the user's palette says, so they could land anywhere.
pub fn nearest_256(rgb: [u8; 3]) -> u8 {
    // The palette's OKLab values, computed once: every visitor of `folio
    // serve` maps its themes at the start of a session, and recomputing
    // them per colour was a third of the server's work in a crowd's first
    // seconds.
    static PALETTE: LazyLock<Vec<[f32; 3]>> =
        LazyLock::new(|| (16..=255u8).map(|i| oklab(rgb_of_index(i))).collect());
    let target = oklab(rgb);
    (16..=255u8)
        .zip(PALETTE.iter())
        .min_by(|(_, a), (_, b)| distance(target, **a, 1.0).total_cmp(&distance(target, **b, 1.0)))
        .map_or(16, |(i, _)| i)
}

/// Nearest of the 16 ANSI colours. Their saturated xterm values are far from
/// any theme's muted tones, so plain distance would turn most of them grey;
/// instead a colour with some chroma keeps its hue (the nearest of the six),
/// and lightness then picks the normal or bright variant. Greys go by
/// lightness alone.
pub fn nearest_16(rgb: [u8; 3]) -> Color {
    let [l, a, b] = oklab(rgb);
    let chroma = a.hypot(b);
    if chroma < 0.04 || !(0.25..=0.97).contains(&l) {
        return match l {
            ..0.33 => Color::Black,
            ..0.76 => Color::DarkGray,
            ..0.96 => Color::Gray,
            _ => Color::White,
        };
    }
    let hue = b.atan2(a);
    // Normal colours are 1–6, their bright variants 9–14.
    let best = (1..=6)
        .min_by(|&i, &j| {
            let angle = |k: usize| {
                let [_, a, b] = oklab(ANSI16[k].1);
                let d = (b.atan2(a) - hue).abs();
                d.min(std::f32::consts::TAU - d)
            };
            angle(i).total_cmp(&angle(j))
        })
        .unwrap_or(1);
    let normal = oklab(ANSI16[best].1)[0];
    let bright = oklab(ANSI16[best + 8].1)[0];
    if (l - bright).abs() < (l - normal).abs() {
        ANSI16[best + 8].0
    } else {
        ANSI16[best].0
    }
}

/// For a theme that follows the terminal's palette: greys become the
/// terminal's default colour (`None`), which reads on any background;
/// anything with hue, the nearest ANSI colour.
pub fn nearest_palette(rgb: [u8; 3]) -> Option<Color> {
    let [_, a, b] = oklab(rgb);
    if a.hypot(b) < 0.04 {
        None
    } else {
        Some(nearest_16(rgb))
    }
}

fn distance(p: [f32; 3], q: [f32; 3], lightness_weight: f32) -> f32 {
    let dl = (p[0] - q[0]) * lightness_weight;
    let da = p[1] - q[1];
    let db = p[2] - q[2];
    dl * dl + da * da + db * db
}

/// sRGB to `OKLab` (Björn Ottosson, 2020).
#[allow(clippy::many_single_char_names)] // the paper's names
fn oklab([r, g, b]: [u8; 3]) -> [f32; 3] {
    fn linear(c: u8) -> f32 {
        let c = f32::from(c) / 255.0;
        if c <= 0.040_45 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    }
    let (r, g, b) = (linear(r), linear(g), linear(b));
    let l = (0.412_221_46 * r + 0.536_332_55 * g + 0.051_445_995 * b).cbrt();
    let m = (0.211_903_5 * r + 0.680_699_5 * g + 0.107_396_96 * b).cbrt();
    let s = (0.088_302_46 * r + 0.281_718_85 * g + 0.629_978_7 * b).cbrt();
    [
        0.210_454_26 * l + 0.793_617_8 * m - 0.004_072_047 * s,
        1.977_998_5 * l - 2.428_592_2 * m + 0.450_593_7 * s,
        0.025_904_037 * l + 0.782_771_77 * m - 0.808_675_77 * s,
    ]
}

/// Whether the terminal's background is light or dark, for `theme: auto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Background {
    Light,
    Dark,
}

impl Background {
    /// Light when the colour's perceived lightness is over the middle.
    pub fn of_rgb(rgb: [u8; 3]) -> Background {
        if oklab(rgb)[0] > 0.6 {
            Background::Light
        } else {
            Background::Dark
        }
    }

    /// From `COLORFGBG` (`"15;0"`, `"0;default;15"`): the last field is the
    /// background's palette index; 7 and 9–15 are light.
    pub fn from_colorfgbg(value: &str) -> Option<Background> {
        let bg: u8 = value.rsplit(';').next()?.trim().parse().ok()?;
        Some(if bg == 7 || (9..=15).contains(&bg) {
            Background::Light
        } else {
            Background::Dark
        })
    }
}

/// Parses the body of a reply to the OSC 11 query, without the leading
/// `ESC ]` and the BEL or ST terminator: `11;rgb:RRRR/GGGG/BBBB`, each
/// component 1–4 hex digits (`rgba:` with a fourth component is accepted).
pub fn parse_osc11_body(body: &str) -> Option<[u8; 3]> {
    let rest = body.strip_prefix("11;")?;
    let comps = rest
        .strip_prefix("rgb:")
        .or_else(|| rest.strip_prefix("rgba:"))?;
    let mut out = [0u8; 3];
    let mut parts = comps.split('/');
    for slot in &mut out {
        let hex = parts.next()?;
        if hex.is_empty() || hex.len() > 4 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let v = u32::from_str_radix(hex, 16).ok()?;
        let max = (1u32 << (4 * hex.len())) - 1;
        *slot = u8::try_from((v * 255 + max / 2) / max).ok()?;
    }
    match parts.next() {
        None => Some(out),
        Some(alpha) if body.contains("rgba:") && parts.next().is_none() && !alpha.is_empty() => {
            Some(out)
        }
        Some(_) => None,
    }
}

/// Parses a whole reply as the terminal sends it: `ESC ] 11 ; … BEL` or
/// `ESC ] 11 ; … ESC \`.
pub fn parse_osc11_reply(reply: &[u8]) -> Option<[u8; 3]> {
    let body = reply.strip_prefix(b"\x1b]")?;
    let body = body
        .strip_suffix(b"\x07")
        .or_else(|| body.strip_suffix(b"\x1b\\"))?;
    parse_osc11_body(std::str::from_utf8(body).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn depth_detection() {
        let d = |vars: &[(&str, &str)]| resolve_depth(ColorChoice::Auto, true, env(vars));
        assert_eq!(
            d(&[("COLORTERM", "truecolor"), ("TERM", "xterm")]),
            Depth::TrueColor
        );
        assert_eq!(d(&[("COLORTERM", "24bit")]), Depth::TrueColor);
        assert_eq!(d(&[("TERM", "xterm-256color")]), Depth::Ansi256);
        assert_eq!(d(&[("TERM", "tmux-256color")]), Depth::Ansi256);
        // Over SSH COLORTERM is usually not forwarded.
        assert_eq!(
            d(&[("COLORTERM", "yes"), ("TERM", "screen-256color")]),
            Depth::Ansi256
        );
        assert_eq!(d(&[("TERM", "linux")]), Depth::Ansi16);
        assert_eq!(d(&[("TERM", "xterm")]), Depth::Ansi16);
        assert_eq!(d(&[]), Depth::Ansi16);
        assert_eq!(d(&[("TERM", "dumb")]), Depth::None);
        assert_eq!(
            d(&[("NO_COLOR", "1"), ("COLORTERM", "truecolor")]),
            Depth::None
        );
        // An empty NO_COLOR does not count, as the convention says.
        assert_eq!(
            d(&[("NO_COLOR", ""), ("TERM", "xterm-256color")]),
            Depth::Ansi256
        );
        let vars = [("TERM", "xterm-256color")];
        assert_eq!(
            resolve_depth(ColorChoice::Auto, false, env(&vars)),
            Depth::None
        );
        assert_eq!(
            resolve_depth(ColorChoice::Never, true, env(&vars)),
            Depth::None
        );
        let no_color = [("NO_COLOR", "1"), ("TERM", "xterm-256color")];
        assert_eq!(
            resolve_depth(ColorChoice::Always, false, env(&no_color)),
            Depth::Ansi256
        );
        assert_eq!(
            resolve_depth(ColorChoice::Always, false, env(&[])),
            Depth::Ansi256
        );
        assert_eq!(
            resolve_depth(
                ColorChoice::Ansi16,
                true,
                env(&[("COLORTERM", "truecolor")])
            ),
            Depth::Ansi16
        );
    }

    #[test]
    fn known_colours_map_to_known_indices() {
        for (rgb, idx) in [
            ([0, 0, 0], 16),
            ([255, 255, 255], 231),
            ([255, 0, 0], 196),
            ([0, 255, 0], 46),
            ([0, 0, 255], 21),
            ([255, 135, 0], 208),
            ([128, 128, 128], 244),
            ([0x88, 0xc0, 0xd0], 110),
            ([0x2e, 0x34, 0x40], 236),
            ([0xeb, 0xcb, 0x8b], 186),
        ] {
            assert_eq!(nearest_256(rgb), idx, "{rgb:?}");
        }
        for (rgb, color) in [
            ([0, 0, 0], Color::Black),
            ([255, 255, 255], Color::White),
            ([200, 10, 10], Color::Red),
            ([255, 80, 80], Color::LightRed),
            ([0x88, 0xc0, 0xd0], Color::Cyan),
            ([0xa3, 0xbe, 0x8c], Color::Green),
            ([0xeb, 0xcb, 0x8b], Color::Yellow),
            ([0x2b, 0x30, 0x3b], Color::Black),
            ([0x5e, 0x81, 0xac], Color::LightBlue),
            ([0x7b, 0x85, 0x98], Color::DarkGray),
            ([0xd8, 0xde, 0xe9], Color::Gray),
        ] {
            assert_eq!(nearest_16(rgb), color, "{rgb:?}");
        }
    }

    #[test]
    fn mapping_by_depth() {
        let rgb = Color::Rgb(255, 0, 0);
        assert_eq!(map(rgb, Depth::TrueColor), Some(rgb));
        assert_eq!(map(rgb, Depth::Ansi256), Some(Color::Indexed(196)));
        assert_eq!(map(rgb, Depth::None), None);
        assert_eq!(map(Color::Blue, Depth::Ansi256), Some(Color::Blue));
        assert_eq!(map(Color::Indexed(1), Depth::Ansi256), Some(Color::Red));
        assert_eq!(
            map(Color::Indexed(196), Depth::Ansi16),
            Some(Color::LightRed)
        );
        assert_eq!(map(Color::Reset, Depth::Ansi16), Some(Color::Reset));
        // Every cube and ramp colour maps to itself.
        for i in 16..=255u8 {
            assert_eq!(nearest_256(rgb_of_index(i)), i);
        }
    }

    #[test]
    fn osc11_replies() {
        assert_eq!(
            parse_osc11_reply(b"\x1b]11;rgb:ffff/ffff/ffff\x07"),
            Some([255, 255, 255])
        );
        assert_eq!(
            parse_osc11_reply(b"\x1b]11;rgb:0000/0000/0000\x1b\\"),
            Some([0, 0, 0])
        );
        assert_eq!(
            parse_osc11_reply(b"\x1b]11;rgb:2b/30/3b\x07"),
            Some([0x2b, 0x30, 0x3b])
        );
        assert_eq!(
            parse_osc11_reply(b"\x1b]11;rgb:f/8/0\x07"),
            Some([255, 136, 0])
        );
        assert_eq!(
            parse_osc11_reply(b"\x1b]11;rgba:ffff/ffff/ffff/ffff\x07"),
            Some([255, 255, 255])
        );
        for garbage in [
            &b"\x1b]11;rgb:ffff/ffff\x07"[..],
            b"\x1b]11;rgb:fffff/0/0\x07",
            b"\x1b]11;rgb:zz/00/00\x07",
            b"\x1b]10;rgb:ffff/ffff/ffff\x07",
            b"\x1b]11;rgb:ffff/ffff/ffff",
            b"11;rgb:ffff/ffff/ffff\x07",
            b"\x1b]11;?\x07",
            b"",
        ] {
            assert_eq!(parse_osc11_reply(garbage), None, "{garbage:?}");
        }
        assert_eq!(Background::of_rgb([255, 255, 255]), Background::Light);
        assert_eq!(Background::of_rgb([0xfd, 0xf6, 0xe3]), Background::Light);
        assert_eq!(Background::of_rgb([0x2b, 0x30, 0x3b]), Background::Dark);
    }

    #[test]
    fn colorfgbg() {
        assert_eq!(Background::from_colorfgbg("15;0"), Some(Background::Dark));
        assert_eq!(Background::from_colorfgbg("0;15"), Some(Background::Light));
        assert_eq!(
            Background::from_colorfgbg("0;default;15"),
            Some(Background::Light)
        );
        assert_eq!(Background::from_colorfgbg("7;8"), Some(Background::Dark));
        assert_eq!(Background::from_colorfgbg("nonsense"), None);
    }
}
