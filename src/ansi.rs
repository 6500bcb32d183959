//! Styled lines as text with SGR escape sequences, for `folio --print`.
//!
//! Only SGR (`ESC [ … m`) is ever emitted, and only for styles: the text
//! itself was sanitized by the renderer, so no other sequence can appear.

use std::fmt::Write;

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;

/// Appends `line` to `out`, with colour when `color` is set, then a newline.
/// Trailing blanks are dropped, as they only pad code blocks on screen.
pub fn push_line(out: &mut String, line: &Line<'_>, color: bool) {
    let start = out.len();
    let mut current = Style::default();
    for span in &line.spans {
        let style = line.style.patch(span.style);
        if color && style != current {
            out.push_str("\x1b[0");
            push_sgr(out, style);
            out.push('m');
            current = style;
        }
        out.push_str(&span.content);
    }
    if color && current != Style::default() {
        out.push_str("\x1b[0m");
    } else {
        let trimmed = out[start..].trim_end_matches(' ').len();
        out.truncate(start + trimmed);
    }
    out.push('\n');
}

/// The SGR modifiers folio draws with, their codes, and the code that
/// turns each off (bold and dim share 22).
const MODIFIERS: [(Modifier, u8, u8); 6] = [
    (Modifier::BOLD, 1, 22),
    (Modifier::DIM, 2, 22),
    (Modifier::ITALIC, 3, 23),
    (Modifier::UNDERLINED, 4, 24),
    (Modifier::REVERSED, 7, 27),
    (Modifier::CROSSED_OUT, 9, 29),
];

/// Appends the shortest SGR sequence that turns `from` (what the terminal
/// has, `None` when unknown) into `to`: only what changed, or a reset and
/// `to` in full when that is shorter. Styles are whole (`fg` and `bg` set,
/// as a cell's are); nothing is appended when they are the same.
pub(crate) fn push_sgr_change(out: &mut String, from: Option<Style>, to: Style) {
    let mut full = String::from("\x1b[0");
    push_sgr(&mut full, to);
    full.push('m');
    let Some(from) = from else {
        out.push_str(&full);
        return;
    };
    if from == to {
        return;
    }
    let mut change = String::from("\x1b[");
    let (had, has) = (from.add_modifier, to.add_modifier);
    let mut off: Vec<u8> = Vec::new();
    for (m, _, code) in MODIFIERS {
        if had.contains(m) && !has.contains(m) && !off.contains(&code) {
            off.push(code);
        }
    }
    for code in &off {
        let _ = write!(change, "{code};");
    }
    for (m, on, code) in MODIFIERS {
        // 22 also ends the other of bold and dim: put it back.
        let lost = off.contains(&code) && had.contains(m);
        if has.contains(m) && (!had.contains(m) || lost) {
            let _ = write!(change, "{on};");
        }
    }
    if from.fg != to.fg {
        push_color(&mut change, to.fg.unwrap_or(Color::Reset), false);
        change.push(';');
    }
    if from.bg != to.bg {
        push_color(&mut change, to.bg.unwrap_or(Color::Reset), true);
        change.push(';');
    }
    // `push_color` writes a leading `;`: drop the doubled separators.
    let change = change.replace(";;", ";").replace("[;", "[");
    let change = change.strip_suffix(';').unwrap_or(&change);
    if change.len() + 1 < full.len() {
        out.push_str(change);
        out.push('m');
    } else {
        out.push_str(&full);
    }
}

pub(crate) fn push_sgr(out: &mut String, style: Style) {
    for (m, code, _) in MODIFIERS {
        if style.add_modifier.contains(m) {
            let _ = write!(out, ";{code}");
        }
    }
    if let Some(fg) = style.fg {
        push_color(out, fg, false);
    }
    if let Some(bg) = style.bg {
        push_color(out, bg, true);
    }
}

fn push_color(out: &mut String, color: Color, bg: bool) {
    let base = if bg { 40 } else { 30 };
    let bright = if bg { 100 } else { 90 };
    let _ = match color {
        Color::Reset => write!(out, ";{}", base + 9),
        Color::Black => write!(out, ";{base}"),
        Color::Red => write!(out, ";{}", base + 1),
        Color::Green => write!(out, ";{}", base + 2),
        Color::Yellow => write!(out, ";{}", base + 3),
        Color::Blue => write!(out, ";{}", base + 4),
        Color::Magenta => write!(out, ";{}", base + 5),
        Color::Cyan => write!(out, ";{}", base + 6),
        Color::Gray => write!(out, ";{}", base + 7),
        Color::DarkGray => write!(out, ";{bright}"),
        Color::LightRed => write!(out, ";{}", bright + 1),
        Color::LightGreen => write!(out, ";{}", bright + 2),
        Color::LightYellow => write!(out, ";{}", bright + 3),
        Color::LightBlue => write!(out, ";{}", bright + 4),
        Color::LightMagenta => write!(out, ";{}", bright + 5),
        Color::LightCyan => write!(out, ";{}", bright + 6),
        Color::White => write!(out, ";{}", bright + 7),
        Color::Indexed(i) => write!(out, ";{};5;{i}", base + 8),
        Color::Rgb(r, g, b) => write!(out, ";{};2;{r};{g};{b}", base + 8),
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::text::Span;

    #[test]
    fn plain_has_no_escapes_and_no_trailing_blanks() {
        let mut out = String::new();
        let line = Line::from(vec![
            Span::styled("hi", Style::new().fg(Color::Red)),
            Span::raw("   "),
        ]);
        push_line(&mut out, &line, false);
        assert_eq!(out, "hi\n");
    }

    /// What a terminal's SGR state is after `seq`, from `from`.
    fn apply(from: Style, seq: &str) -> Style {
        let body = seq
            .strip_prefix("\x1b[")
            .and_then(|s| s.strip_suffix('m'))
            .unwrap_or_else(|| panic!("one SGR: {seq:?}"));
        let nums: Vec<u8> = body.split(';').map(|n| n.parse().unwrap()).collect();
        let mut s = from;
        let mut i = 0;
        let color = |i: &mut usize| -> Color {
            if nums[*i + 1] == 5 {
                *i += 2;
                Color::Indexed(nums[*i])
            } else {
                *i += 4;
                Color::Rgb(nums[*i - 2], nums[*i - 1], nums[*i])
            }
        };
        while i < nums.len() {
            match nums[i] {
                0 => s = Style::new().fg(Color::Reset).bg(Color::Reset),
                22 => s.add_modifier.remove(Modifier::BOLD | Modifier::DIM),
                23 => s.add_modifier.remove(Modifier::ITALIC),
                24 => s.add_modifier.remove(Modifier::UNDERLINED),
                27 => s.add_modifier.remove(Modifier::REVERSED),
                29 => s.add_modifier.remove(Modifier::CROSSED_OUT),
                n @ (1..=9) => {
                    let (m, ..) = MODIFIERS.iter().find(|(_, on, _)| *on == n).unwrap();
                    s = s.add_modifier(*m);
                }
                31 => s = s.fg(Color::Red),
                39 => s = s.fg(Color::Reset),
                49 => s = s.bg(Color::Reset),
                38 => s = s.fg(color(&mut i)),
                48 => s = s.bg(color(&mut i)),
                n => panic!("unexpected SGR {n} in {seq:?}"),
            }
            i += 1;
        }
        s
    }

    #[test]
    fn a_style_change_sends_only_what_changed() {
        let base = Style::new().fg(Color::Reset).bg(Color::Reset);
        let styles = [
            base,
            base.fg(Color::Indexed(245)).bg(Color::Indexed(236)),
            base.fg(Color::Indexed(250)).bg(Color::Indexed(236)),
            base.fg(Color::Indexed(250))
                .bg(Color::Indexed(236))
                .add_modifier(Modifier::BOLD | Modifier::DIM),
            base.fg(Color::Red)
                .add_modifier(Modifier::DIM | Modifier::ITALIC),
            base.fg(Color::Rgb(1, 2, 3))
                .add_modifier(Modifier::UNDERLINED | Modifier::REVERSED),
            base.add_modifier(Modifier::CROSSED_OUT | Modifier::BOLD),
        ];
        for &from in &styles {
            for &to in &styles {
                let mut out = String::new();
                push_sgr_change(&mut out, Some(from), to);
                if from == to {
                    assert!(out.is_empty());
                    continue;
                }
                assert_eq!(apply(from, &out), to, "{from:?} -> {to:?} by {out:?}");
                let mut full = String::from("\x1b[0");
                push_sgr(&mut full, to);
                assert!(out.len() <= full.len() + 1, "{out:?} longer than {full:?}");
            }
        }
        // A colour change alone is just that colour.
        let mut out = String::new();
        push_sgr_change(&mut out, Some(styles[1]), styles[2]);
        assert_eq!(out, "\x1b[38;5;250m");
        let mut out = String::new();
        push_sgr_change(&mut out, None, styles[1]);
        assert_eq!(out, "\x1b[0;38;5;245;48;5;236m");
    }

    #[test]
    fn colour_is_sgr_only() {
        let mut out = String::new();
        let line = Line::from(vec![
            Span::styled(
                "a",
                Style::new()
                    .fg(Color::Rgb(1, 2, 3))
                    .add_modifier(Modifier::BOLD),
            ),
            Span::raw("b"),
        ]);
        push_line(&mut out, &line, true);
        assert_eq!(out, "\x1b[0;1;38;2;1;2;3ma\x1b[0mb\n");
    }
}
