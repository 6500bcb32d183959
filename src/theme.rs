//! Themes: every colour and text attribute folio uses, read from YAML files.
//! The built-in ones live in `themes/` and are compiled into the binary, so an
//! installed `folio` never needs its source tree.

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use thiserror::Error;

/// Built-in themes: (name, YAML source).
pub const BUILTIN: &[(&str, &str)] = &[("dark", include_str!("../themes/dark.yaml"))];

#[derive(Debug, Error)]
pub enum ThemeError {
    #[error("unknown theme '{0}'")]
    Unknown(String),
    #[error("theme '{name}': {message}")]
    Invalid { name: String, message: String },
}

/// How one element looks, as written in a theme file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StyleSpec {
    pub fg: Option<String>,
    pub bg: Option<String>,
    #[serde(default)]
    pub bold: bool,
    #[serde(default)]
    pub dim: bool,
    #[serde(default)]
    pub italic: bool,
    #[serde(default)]
    pub underlined: bool,
    #[serde(default)]
    pub crossed_out: bool,
    #[serde(default)]
    pub reversed: bool,
}

impl StyleSpec {
    fn to_style(&self) -> Result<Style, String> {
        let mut style = Style::default();
        if let Some(fg) = &self.fg {
            style = style.fg(parse_color(fg)?);
        }
        if let Some(bg) = &self.bg {
            style = style.bg(parse_color(bg)?);
        }
        for (on, m) in [
            (self.bold, Modifier::BOLD),
            (self.dim, Modifier::DIM),
            (self.italic, Modifier::ITALIC),
            (self.underlined, Modifier::UNDERLINED),
            (self.crossed_out, Modifier::CROSSED_OUT),
            (self.reversed, Modifier::REVERSED),
        ] {
            if on {
                style = style.add_modifier(m);
            }
        }
        Ok(style)
    }
}

/// Parses `#rrggbb`, an ANSI colour name (`red`, `bright_blue`), `reset`, or a
/// 256-colour index.
pub fn parse_color(s: &str) -> Result<Color, String> {
    let s = s.trim();
    if let Some(hex) = s.strip_prefix('#') {
        if hex.len() == 6
            && let Ok(v) = u32::from_str_radix(hex, 16)
        {
            return Ok(Color::Rgb((v >> 16) as u8, (v >> 8) as u8, v as u8));
        }
        return Err(format!("'{s}' is not a #rrggbb colour"));
    }
    if let Ok(i) = s.parse::<u8>() {
        return Ok(Color::Indexed(i));
    }
    Ok(match s.to_ascii_lowercase().replace('-', "_").as_str() {
        "reset" | "default" => Color::Reset,
        "black" => Color::Black,
        "red" => Color::Red,
        "green" => Color::Green,
        "yellow" => Color::Yellow,
        "blue" => Color::Blue,
        "magenta" => Color::Magenta,
        "cyan" => Color::Cyan,
        "white" | "gray" | "grey" => Color::Gray,
        "bright_black" | "dark_gray" | "dark_grey" => Color::DarkGray,
        "bright_red" => Color::LightRed,
        "bright_green" => Color::LightGreen,
        "bright_yellow" => Color::LightYellow,
        "bright_blue" => Color::LightBlue,
        "bright_magenta" => Color::LightMagenta,
        "bright_cyan" => Color::LightCyan,
        "bright_white" => Color::White,
        _ => {
            return Err(format!(
                "'{s}' is not a colour (use #rrggbb, a name like bright_blue, or 0-255)"
            ));
        }
    })
}

/// Declares a group of named styles twice: as the spec read from YAML and as
/// the resolved ratatui styles, so the two can never drift apart.
macro_rules! style_group {
    ($spec:ident, $resolved:ident { $($(#[$doc:meta])* $field:ident),* $(,)? }) => {
        #[derive(Debug, Clone, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $spec {
            $(#[serde(default)] pub $field: StyleSpec,)*
        }

        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct $resolved {
            $($(#[$doc])* pub $field: Style,)*
        }

        impl $spec {
            fn resolve(&self, group: &str) -> Result<$resolved, String> {
                Ok($resolved {
                    $($field: self.$field.to_style().map_err(|e| format!("{group}.{}: {e}", stringify!($field)))?,)*
                })
            }
        }
    };
}

style_group!(
    UiSpec,
    UiStyles {
        /// Anything not otherwise styled.
        text,
        border,
        border_focused,
        pane_title,
        selection,
        selection_unfocused,
        list_date,
        list_title,
        list_excerpt,
        marker_draft,
        marker_error,
        status,
        status_section,
        status_position,
        error,
        notice,
        help_key,
        outline_current,
        search_match,
    }
);

style_group!(
    MarkdownSpec,
    MarkdownStyles {
        text,
        h1,
        h2,
        h3,
        h4,
        h5,
        h6,
        emphasis,
        strong,
        strikethrough,
        code,
        code_block,
        code_label,
        code_continuation,
        link,
        link_url,
        image,
        quote,
        quote_bar,
        alert_note,
        alert_tip,
        alert_important,
        alert_warning,
        alert_caution,
        table_border,
        table_header,
        rule,
        footnote,
        list_marker,
        task_done,
        task_todo,
        html,
        math,
        definition_term,
        frontmatter_error,
    }
);

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    /// syntect theme used for code blocks.
    syntax: String,
    #[serde(default)]
    ui: UiSpec,
    #[serde(default)]
    markdown: MarkdownSpec,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    /// Name of one of syntect's bundled themes.
    pub syntax: String,
    pub ui: UiStyles,
    pub md: MarkdownStyles,
}

impl Theme {
    /// Parses a theme from YAML.
    pub fn from_yaml(name: &str, yaml: &str) -> Result<Theme, ThemeError> {
        let invalid = |message: String| ThemeError::Invalid {
            name: name.to_owned(),
            message,
        };
        let file: ThemeFile = serde_yaml::from_str(yaml).map_err(|e| invalid(e.to_string()))?;
        Ok(Theme {
            name: name.to_owned(),
            syntax: file.syntax,
            ui: file.ui.resolve("ui").map_err(invalid)?,
            md: file.markdown.resolve("markdown").map_err(invalid)?,
        })
    }

    /// One of the themes compiled into the binary.
    pub fn builtin(name: &str) -> Result<Theme, ThemeError> {
        let (_, yaml) = BUILTIN
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| ThemeError::Unknown(name.to_owned()))?;
        Theme::from_yaml(name, yaml)
    }

    /// The same theme with every colour removed, keeping bold, italic,
    /// underline and reverse so structure stays visible (`--color never`).
    #[must_use]
    pub fn without_color(&self) -> Theme {
        fn strip(s: &mut Style) {
            s.fg = None;
            s.bg = None;
            s.underline_color = None;
        }
        let mut t = self.clone();
        macro_rules! strip_all {
            ($($g:ident . $f:ident),*) => { $(strip(&mut t.$g.$f);)* };
        }
        strip_all!(
            ui.text,
            ui.border,
            ui.border_focused,
            ui.pane_title,
            ui.selection,
            ui.selection_unfocused,
            ui.list_date,
            ui.list_title,
            ui.list_excerpt,
            ui.marker_draft,
            ui.marker_error,
            ui.status,
            ui.status_section,
            ui.status_position,
            ui.error,
            ui.notice,
            ui.help_key,
            ui.outline_current,
            ui.search_match,
            md.text,
            md.h1,
            md.h2,
            md.h3,
            md.h4,
            md.h5,
            md.h6,
            md.emphasis,
            md.strong,
            md.strikethrough,
            md.code,
            md.code_block,
            md.code_label,
            md.code_continuation,
            md.link,
            md.link_url,
            md.image,
            md.quote,
            md.quote_bar,
            md.alert_note,
            md.alert_tip,
            md.alert_important,
            md.alert_warning,
            md.alert_caution,
            md.table_border,
            md.table_header,
            md.rule,
            md.footnote,
            md.list_marker,
            md.task_done,
            md.task_todo,
            md.html,
            md.math,
            md.definition_term,
            md.frontmatter_error
        );
        t.syntax = String::new();
        t
    }

    /// Style for a heading of `level` (1–6).
    pub fn heading(&self, level: u8) -> Style {
        match level {
            1 => self.md.h1,
            2 => self.md.h2,
            3 => self.md.h3,
            4 => self.md.h4,
            5 => self.md.h5,
            _ => self.md.h6,
        }
    }
}

impl Default for Theme {
    fn default() -> Self {
        Theme::builtin("dark").expect("the built-in dark theme parses")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_parse() {
        for (name, _) in BUILTIN {
            Theme::builtin(name).unwrap();
        }
    }

    #[test]
    fn colours() {
        assert_eq!(parse_color("#ff8000"), Ok(Color::Rgb(255, 128, 0)));
        assert_eq!(parse_color("bright_blue"), Ok(Color::LightBlue));
        assert_eq!(parse_color("208"), Ok(Color::Indexed(208)));
        assert!(parse_color("#12").is_err());
        assert!(parse_color("chartreuse-ish").is_err());
    }

    #[test]
    fn bad_theme_names_the_key() {
        let err = Theme::from_yaml("t", "syntax: x\nmarkdown:\n  h1: {fg: nope}\n").unwrap_err();
        assert!(err.to_string().contains("markdown.h1"), "{err}");
        let err = Theme::from_yaml("t", "syntax: x\nmarkdown:\n  h7: {}\n").unwrap_err();
        assert!(err.to_string().contains("h7"), "{err}");
    }

    #[test]
    fn no_color_keeps_structure() {
        let t = Theme::default().without_color();
        assert_eq!(t.md.h1.fg, None);
        assert!(t.md.h1.add_modifier.contains(Modifier::BOLD));
    }
}
