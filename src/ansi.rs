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

pub(crate) fn push_sgr(out: &mut String, style: Style) {
    for (m, code) in [
        (Modifier::BOLD, 1),
        (Modifier::DIM, 2),
        (Modifier::ITALIC, 3),
        (Modifier::UNDERLINED, 4),
        (Modifier::REVERSED, 7),
        (Modifier::CROSSED_OUT, 9),
    ] {
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
