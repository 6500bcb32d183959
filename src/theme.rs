//! Themes: every colour and text attribute folio uses, read from YAML files.
//! The built-in ones live in `themes/` and are compiled into the binary, so an
//! installed `folio` never needs its source tree. Users add or override
//! themes as `NAME.yaml` in a folder the caller names (this module knows
//! nothing of where files live); `base: NAME` starts from another theme.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use serde_yaml::{Mapping, Value};
use thiserror::Error;

use crate::color::{self, Depth};
use crate::highlight::{self, SyntaxTheme};

/// Built-in themes: (name, YAML source).
pub const BUILTIN: &[(&str, &str)] = &[
    ("dark", include_str!("../themes/dark.yaml")),
    ("light", include_str!("../themes/light.yaml")),
    ("warm", include_str!("../themes/warm.yaml")),
    ("contrast", include_str!("../themes/contrast.yaml")),
    ("ansi", include_str!("../themes/ansi.yaml")),
];

/// The name that means "light or dark, after the terminal's background".
pub const AUTO: &str = "auto";

/// A `base:` chain longer than this is taken to be a loop.
const MAX_BASES: usize = 8;

#[derive(Debug, Error)]
pub enum ThemeError {
    #[error("unknown theme '{name}' (available: {})", available.join(", "))]
    Unknown {
        name: String,
        available: Vec<String>,
    },
    /// Something wrong inside a theme file: where, which key, what.
    #[error("{}", Located { file, line: *line, key, message })]
    Invalid {
        file: String,
        line: Option<usize>,
        key: String,
        message: String,
    },
}

/// `file:line: key: message`, leaving out what is unknown.
struct Located<'a> {
    file: &'a str,
    line: Option<usize>,
    key: &'a str,
    message: &'a str,
}

impl fmt::Display for Located<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if !self.key.is_empty() {
            write!(f, ": {}", self.key)?;
        }
        write!(f, ": {}", self.message)
    }
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

/// Declares a group of named styles: the resolved ratatui styles, the list of
/// their keys, and a setter by key, so files, mapping and tests can never
/// drift apart.
macro_rules! style_group {
    ($resolved:ident { $($(#[$doc:meta])* $field:ident),* $(,)? }) => {
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct $resolved {
            $($(#[$doc])* pub $field: Style,)*
        }

        impl $resolved {
            pub const KEYS: &'static [&'static str] = &[$(stringify!($field)),*];

            fn set(&mut self, key: &str, style: Style) -> bool {
                match key {
                    $(stringify!($field) => self.$field = style,)*
                    _ => return false,
                }
                true
            }

            fn for_each_mut(&mut self, mut f: impl FnMut(&mut Style)) {
                $(f(&mut self.$field);)*
            }
        }
    };
}

style_group!(UiStyles {
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
    /// Every match of the in-post search, and matched characters in the
    /// filtered list and the search results.
    search_match,
    /// The current match of the in-post search (`n`/`N` move it).
    search_current,
});

style_group!(MarkdownStyles {
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
});

/// Which palette code is coloured with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CodePalette {
    /// syntect's RGB, mapped to the depth like every other colour.
    #[default]
    Rgb,
    /// syntect's RGB mapped onto the 16 ANSI colours, so code follows the
    /// terminal's own palette (the `ansi` theme).
    Ansi,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    /// How code blocks are highlighted.
    pub syntax: SyntaxTheme,
    pub code_palette: CodePalette,
    /// The depth every colour here has been mapped to.
    pub depth: Depth,
    pub ui: UiStyles,
    pub md: MarkdownStyles,
}

/// A theme file's text and where it came from, for messages and for
/// `.tmTheme` files named relative to it.
struct Source {
    label: String,
    dir: Option<PathBuf>,
    text: String,
}

/// One entry of [`list`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    pub name: String,
    pub builtin: bool,
    /// A file in the user's themes folder (which may override a built-in).
    pub user: bool,
}

/// Every theme available: the built-in ones and the user's, by name.
pub fn list(user_dir: Option<&Path>) -> Vec<Listing> {
    let mut all: BTreeMap<String, Listing> = BUILTIN
        .iter()
        .map(|(n, _)| {
            let listing = Listing {
                name: (*n).to_owned(),
                builtin: true,
                user: false,
            };
            ((*n).to_owned(), listing)
        })
        .collect();
    if let Some(entries) = user_dir.and_then(|d| std::fs::read_dir(d).ok()) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
                continue;
            }
            let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            if !valid_name(name) {
                continue;
            }
            all.entry(name.to_owned())
                .or_insert_with(|| Listing {
                    name: name.to_owned(),
                    builtin: false,
                    user: false,
                })
                .user = true;
        }
    }
    all.into_values().collect()
}

/// Theme names are file names: letters, digits, `-` and `_` only, so a name
/// can never reach outside the themes folder.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn builtin_source(name: &str) -> Option<Source> {
    BUILTIN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, yaml)| Source {
            label: format!("themes/{n}.yaml (built-in)"),
            dir: None,
            text: (*yaml).to_owned(),
        })
}

/// The file for `name`: the user's if there is one, else the built-in one.
/// `skip_user` is set when a user theme names itself as its base, which
/// means the built-in one of that name.
fn find_source(name: &str, user_dir: Option<&Path>, skip_user: bool) -> Result<Source, ThemeError> {
    let unknown = || ThemeError::Unknown {
        name: name.to_owned(),
        available: list(user_dir).into_iter().map(|l| l.name).collect(),
    };
    if !valid_name(name) {
        return Err(unknown());
    }
    if let Some(dir) = user_dir.filter(|_| !skip_user) {
        let path = dir.join(format!("{name}.yaml"));
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                return Ok(Source {
                    label: path.display().to_string(),
                    dir: Some(dir.to_owned()),
                    text,
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(ThemeError::Invalid {
                    file: path.display().to_string(),
                    line: None,
                    key: String::new(),
                    message: e.to_string(),
                });
            }
        }
    }
    builtin_source(name).ok_or_else(unknown)
}

/// Parses one file to a mapping, with the line of a syntax error.
fn parse_mapping(src: &Source) -> Result<Mapping, ThemeError> {
    let invalid = |line, message: String| ThemeError::Invalid {
        file: src.label.clone(),
        line,
        key: String::new(),
        message,
    };
    match serde_yaml::from_str::<Value>(&src.text) {
        Ok(Value::Mapping(m)) => Ok(m),
        Ok(Value::Null) => Ok(Mapping::new()),
        Ok(_) => Err(invalid(Some(1), "a theme is a mapping of keys".into())),
        Err(e) => {
            let line = e.location().map(|l| l.line());
            let message = e.to_string();
            // serde_yaml appends " at line N column M"; the line is already
            // in front.
            let message = message
                .split(" at line ")
                .next()
                .unwrap_or(&message)
                .to_owned();
            Err(invalid(line, message))
        }
    }
}

/// Mappings merge key by key, all the way down; anything else is replaced.
fn merge(base: &mut Mapping, over: Mapping) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(Value::Mapping(b)), Value::Mapping(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

/// The line a dotted key is on in a YAML source, found by indentation: good
/// enough for block-style theme and config files, and `None` otherwise.
pub fn key_line(text: &str, path: &[&str]) -> Option<usize> {
    let mut depth = 0;
    let mut min_indent = 0;
    let mut found = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = line.len() - trimmed.len();
        if depth > 0 && indent < min_indent {
            break;
        }
        let key = trimmed
            .split(':')
            .next()
            .unwrap_or("")
            .trim()
            .trim_matches(|c| c == '"' || c == '\'');
        if key == path[depth] && (depth == 0 && indent == 0 || depth > 0) {
            found = Some(i + 1);
            depth += 1;
            if depth == path.len() {
                return found;
            }
            min_indent = indent + 1;
            // Flow style (`ui: {text: ...}`) nests on this same line.
            if trimmed.contains('{') {
                return found;
            }
        }
    }
    found
}

/// Where a key is set: the first file in the chain (child first) that has
/// it, with its line.
fn locate(chain: &[Source], path: &[&str]) -> (String, Option<usize>) {
    for src in chain {
        if let Some(line) = key_line(&src.text, path) {
            return (src.label.clone(), Some(line));
        }
    }
    (chain[0].label.clone(), None)
}

/// Loads theme `name`: the user's file if `user_dir` has one, else the
/// built-in one, following `base:` chains. The result is in full colour;
/// see [`Theme::for_depth`].
pub fn load(name: &str, user_dir: Option<&Path>) -> Result<Theme, ThemeError> {
    let mut chain: Vec<Source> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut maps: Vec<Mapping> = Vec::new();
    let mut next = Some((name.to_owned(), false));
    while let Some((n, skip_user)) = next.take() {
        let src = find_source(&n, user_dir, skip_user).map_err(|e| match (e, chain.last()) {
            (ThemeError::Unknown { name, available }, Some(child)) => ThemeError::Invalid {
                file: child.label.clone(),
                line: key_line(&child.text, &["base"]),
                key: "base".into(),
                message: format!(
                    "unknown theme '{name}' (available: {})",
                    available.join(", ")
                ),
            },
            (e, _) => e,
        })?;
        let mut map = parse_mapping(&src)?;
        if let Some(base) = map.remove("base") {
            let Value::String(base) = base else {
                return Err(ThemeError::Invalid {
                    file: src.label.clone(),
                    line: key_line(&src.text, &["base"]),
                    key: "base".into(),
                    message: "must be a theme name".into(),
                });
            };
            let is_user = src.dir.is_some();
            if names.len() >= MAX_BASES || names.contains(&base) && !(is_user && base == n) {
                return Err(ThemeError::Invalid {
                    file: src.label.clone(),
                    line: key_line(&src.text, &["base"]),
                    key: "base".into(),
                    message: format!("'{base}' leads back to itself"),
                });
            }
            // A user's `dark.yaml` with `base: dark` means the built-in dark.
            next = Some((base.clone(), is_user && base == n));
        }
        names.push(n);
        chain.push(src);
        maps.push(map);
    }
    let mut merged = Mapping::new();
    for map in maps.into_iter().rev() {
        merge(&mut merged, map);
    }
    resolve(name, &merged, &chain)
}

fn resolve(name: &str, map: &Mapping, chain: &[Source]) -> Result<Theme, ThemeError> {
    let err = |path: &[&str], message: String| {
        let (file, line) = locate(chain, path);
        ThemeError::Invalid {
            file,
            line,
            key: path.join("."),
            message,
        }
    };
    let mut theme = Theme {
        name: name.to_owned(),
        syntax: SyntaxTheme::default(),
        code_palette: CodePalette::Rgb,
        depth: Depth::TrueColor,
        ui: UiStyles::default(),
        md: MarkdownStyles::default(),
    };
    for (k, v) in map {
        let Some(key) = k.as_str() else {
            return Err(err(&[], format!("{k:?} is not a key")));
        };
        match key {
            "syntax" => {
                let Some(syntax) = v.as_str() else {
                    return Err(err(
                        &["syntax"],
                        "must be a syntect theme name or a .tmTheme file".into(),
                    ));
                };
                theme.syntax = syntax_theme(syntax, chain).map_err(|m| err(&["syntax"], m))?;
            }
            "code_palette" => {
                theme.code_palette = match v.as_str() {
                    Some("rgb") => CodePalette::Rgb,
                    Some("ansi") => CodePalette::Ansi,
                    _ => return Err(err(&["code_palette"], "must be 'rgb' or 'ansi'".into())),
                };
            }
            "ui" => resolve_group(
                v,
                "ui",
                UiStyles::KEYS,
                &mut |k, s| theme.ui.set(k, s),
                &err,
            )?,
            "markdown" => resolve_group(
                v,
                "markdown",
                MarkdownStyles::KEYS,
                &mut |k, s| theme.md.set(k, s),
                &err,
            )?,
            other => {
                return Err(err(
                    &[other],
                    "unknown key (expected base, syntax, code_palette, ui or markdown)".into(),
                ));
            }
        }
    }
    if theme.syntax.name.is_empty() {
        return Err(err(
            &["syntax"],
            "missing: name a syntect theme, e.g. base16-ocean.dark".into(),
        ));
    }
    Ok(theme)
}

fn resolve_group(
    value: &Value,
    group: &str,
    keys: &[&str],
    set: &mut dyn FnMut(&str, Style) -> bool,
    err: &dyn Fn(&[&str], String) -> ThemeError,
) -> Result<(), ThemeError> {
    let Value::Mapping(map) = value else {
        return Err(err(&[group], "must be a mapping of element: style".into()));
    };
    for (k, v) in map {
        let key = k.as_str().unwrap_or("?");
        let spec: StyleSpec =
            serde_yaml::from_value(v.clone()).map_err(|e| err(&[group, key], e.to_string()))?;
        let style = spec.to_style().map_err(|e| err(&[group, key], e))?;
        if !set(key, style) {
            return Err(err(
                &[group, key],
                format!("unknown element (known: {})", keys.join(", ")),
            ));
        }
    }
    Ok(())
}

/// A bundled syntect theme by name, or a `.tmTheme` file beside the theme
/// file that names it.
fn syntax_theme(value: &str, chain: &[Source]) -> Result<SyntaxTheme, String> {
    if value.ends_with(".tmTheme") {
        // The file is looked for beside the theme that set the key.
        let dir = chain
            .iter()
            .find(|s| key_line(&s.text, &["syntax"]).is_some())
            .and_then(|s| s.dir.clone())
            .ok_or("a .tmTheme file can only be named by a theme in your themes folder")?;
        if value.contains('/') || value.contains('\\') {
            return Err(format!(
                "'{value}' must be a file name in {}",
                dir.display()
            ));
        }
        let path = dir.join(value);
        let file =
            highlight::load_theme_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        return Ok(SyntaxTheme {
            name: value.to_owned(),
            file: Some(file),
            depth: Depth::TrueColor,
            ansi: false,
        });
    }
    if highlight::BUNDLED_THEMES.contains(&value) {
        Ok(SyntaxTheme::named(value))
    } else {
        Err(format!(
            "unknown syntect theme '{value}' (bundled: {}; or a .tmTheme file)",
            highlight::BUNDLED_THEMES.join(", ")
        ))
    }
}

impl Theme {
    /// Parses a theme from YAML on its own, with no user folder to find a
    /// `base:` or a `.tmTheme` in.
    pub fn from_yaml(name: &str, yaml: &str) -> Result<Theme, ThemeError> {
        let src = Source {
            label: format!("{name}.yaml"),
            dir: None,
            text: yaml.to_owned(),
        };
        let mut map = parse_mapping(&src)?;
        let mut chain = vec![src];
        if let Some(Value::String(base)) = map.remove("base") {
            let base_src = builtin_source(&base).ok_or_else(|| ThemeError::Invalid {
                file: chain[0].label.clone(),
                line: key_line(&chain[0].text, &["base"]),
                key: "base".into(),
                message: format!("unknown built-in theme '{base}'"),
            })?;
            let mut merged = parse_mapping(&base_src)?;
            merge(&mut merged, map);
            map = merged;
            chain.push(base_src);
        }
        resolve(name, &map, &chain)
    }

    /// One of the themes compiled into the binary.
    pub fn builtin(name: &str) -> Result<Theme, ThemeError> {
        load(name, None)
    }

    /// The same theme with every colour mapped, once, to the nearest the
    /// depth can show. With no colour, bold, italic, underline and reverse
    /// remain, so structure stays visible.
    #[must_use]
    pub fn for_depth(&self, depth: Depth) -> Theme {
        let mut t = self.clone();
        let map_style = |s: &mut Style| {
            s.fg = s.fg.and_then(|c| color::map(c, depth));
            s.bg = s.bg.and_then(|c| color::map(c, depth));
        };
        t.ui.for_each_mut(map_style);
        t.md.for_each_mut(map_style);
        t.depth = depth;
        t.syntax.depth = match t.code_palette {
            CodePalette::Ansi => depth.min(Depth::Ansi16),
            CodePalette::Rgb => depth,
        };
        t.syntax.ansi = t.code_palette == CodePalette::Ansi && depth != Depth::None;
        t
    }

    /// The same theme with every colour removed (`--color never`).
    #[must_use]
    pub fn without_color(&self) -> Theme {
        self.for_depth(Depth::None)
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

// syntect's theme holds no floats, so equality is an equivalence; the app
// needs `Eq` to pass themes in actions.
impl Eq for Theme {}

impl Default for Theme {
    fn default() -> Self {
        Theme::builtin("dark").expect("the built-in dark theme parses")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_parses_and_sets_every_key() {
        for (name, yaml) in BUILTIN {
            Theme::builtin(name).unwrap();
            let map: Mapping = serde_yaml::from_str(yaml).unwrap();
            assert!(map.get("base").is_none(), "{name}: built-ins stand alone");
            for (group, keys) in [("ui", UiStyles::KEYS), ("markdown", MarkdownStyles::KEYS)] {
                let g = map.get(group).and_then(Value::as_mapping).unwrap();
                for key in keys {
                    assert!(g.get(*key).is_some(), "{name}: {group}.{key} is not set");
                }
            }
        }
    }

    #[test]
    fn ansi_theme_names_only_palette_colours() {
        let t = Theme::builtin("ansi").unwrap();
        let mut styles = Vec::new();
        let mut ui = t.ui.clone();
        ui.for_each_mut(|s| styles.push(*s));
        let mut md = t.md.clone();
        md.for_each_mut(|s| styles.push(*s));
        for s in styles {
            for c in [s.fg, s.bg].into_iter().flatten() {
                assert!(!matches!(c, Color::Rgb(..) | Color::Indexed(_)), "{c:?}");
            }
        }
        assert_eq!(t.for_depth(Depth::TrueColor).syntax.depth, Depth::Ansi16);
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
    fn bad_theme_names_the_key_and_line() {
        let err = Theme::from_yaml(
            "t",
            "syntax: base16-ocean.dark\nmarkdown:\n  h1: {fg: nope}\n",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.yaml:3: markdown.h1: 'nope' is not a colour (use #rrggbb, a name like bright_blue, or 0-255)"
        );
        let err =
            Theme::from_yaml("t", "syntax: base16-ocean.dark\nmarkdown:\n  h7: {}\n").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("t.yaml:3: markdown.h7: unknown element"),
            "{err}"
        );
        let err = Theme::from_yaml("t", "syntax: nope\n").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("t.yaml:1: syntax: unknown syntect theme"),
            "{err}"
        );
        let err = Theme::from_yaml(
            "t",
            "syntax: base16-ocean.dark\nui:\n  text: {fg: red, blink: true}\n",
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("t.yaml:3: ui.text: unknown field `blink`"),
            "{err}"
        );
        let err = Theme::from_yaml("t", "syntax: [unclosed\n").unwrap_err();
        assert!(err.to_string().starts_with("t.yaml:2:"), "{err}");
        let err = Theme::from_yaml("t", "ui: {}\n").unwrap_err();
        assert!(err.to_string().contains("syntax: missing"), "{err}");
    }

    #[test]
    fn base_inherits_and_overrides() {
        let t = Theme::from_yaml("t", "base: dark\nmarkdown:\n  h1: {fg: red}\n").unwrap();
        let dark = Theme::default();
        assert_eq!(t.md.h2, dark.md.h2);
        assert_eq!(t.md.h1.fg, Some(Color::Red));
        // Keys merge: the base's bold and underline stay.
        assert!(
            t.md.h1
                .add_modifier
                .contains(Modifier::BOLD | Modifier::UNDERLINED)
        );
        assert_eq!(t.syntax, dark.syntax);
    }

    fn user_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    #[test]
    fn user_themes() {
        let dir = user_dir(&[
            ("mine.yaml", "base: warm\nui:\n  text: {fg: \"#010203\"}\n"),
            ("dark.yaml", "base: dark\nmarkdown:\n  h1: {fg: green}\n"),
            ("chained.yaml", "base: mine\n"),
            ("loop1.yaml", "base: loop2\n"),
            ("loop2.yaml", "base: loop1\n"),
            ("orphan.yaml", "syntax: base16-ocean.dark\nbase: nosuch\n"),
            (
                "broken.yaml",
                "base: dark\nmarkdown:\n  h2: {bold: maybe}\n",
            ),
            ("notes.txt", "not a theme"),
        ]);
        let d = Some(dir.path());
        let mine = load("mine", d).unwrap();
        assert_eq!(mine.ui.text.fg, Some(Color::Rgb(1, 2, 3)));
        assert_eq!(mine.md.h1, Theme::builtin("warm").unwrap().md.h1);
        assert_eq!(load("chained", d).unwrap().ui.text, mine.ui.text);
        // A user's dark.yaml overrides the built-in one, and its base: dark
        // is the built-in.
        let dark = load("dark", d).unwrap();
        assert_eq!(dark.md.h1.fg, Some(Color::Green));
        assert_eq!(dark.md.h2, Theme::default().md.h2);

        let err = load("loop1", d).unwrap_err().to_string();
        assert!(err.contains("loop") && err.contains(":1: base:"), "{err}");
        let err = load("orphan", d).unwrap_err().to_string();
        assert!(
            err.contains("orphan.yaml:2: base: unknown theme 'nosuch'"),
            "{err}"
        );
        let err = load("broken", d).unwrap_err().to_string();
        assert!(err.contains("broken.yaml:3: markdown.h2:"), "{err}");
        let err = load("nosuch", d).unwrap_err().to_string();
        assert!(
            err.starts_with(
                "unknown theme 'nosuch' (available: ansi, broken, chained, contrast, dark,"
            ),
            "{err}"
        );
        assert!(load("../etc/passwd", d).is_err());

        let names: Vec<(String, bool, bool)> = list(d)
            .into_iter()
            .map(|l| (l.name, l.builtin, l.user))
            .collect();
        assert!(names.contains(&("dark".into(), true, true)));
        assert!(names.contains(&("mine".into(), false, true)));
        assert!(names.contains(&("light".into(), true, false)));
        assert!(!names.iter().any(|n| n.0 == "notes"));
    }

    #[test]
    fn tmtheme_beside_the_yaml() {
        let tm = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict><key>name</key><string>Tiny</string><key>settings</key><array>
<dict><key>settings</key><dict><key>foreground</key><string>#FF0000</string></dict></dict>
</array></dict></plist>"#;
        let dir = user_dir(&[
            ("tiny.tmTheme", tm),
            ("t.yaml", "base: dark\nsyntax: tiny.tmTheme\n"),
            ("bad.yaml", "base: dark\nsyntax: missing.tmTheme\n"),
        ]);
        let t = load("t", Some(dir.path())).unwrap();
        assert!(t.syntax.file.is_some());
        let doc = crate::highlight::highlight_block("let x = 1;", "rust", &t.syntax).unwrap();
        assert_eq!(doc[0][0].0.fg, Some(Color::Rgb(255, 0, 0)));
        let err = load("bad", Some(dir.path())).unwrap_err().to_string();
        assert!(err.contains("bad.yaml:2: syntax:"), "{err}");
    }

    #[test]
    fn depth_mapping_is_done_once_for_every_style() {
        let t = Theme::default().for_depth(Depth::Ansi256);
        assert_eq!(t.md.h1.fg, Some(Color::Indexed(110)));
        let t16 = Theme::default().for_depth(Depth::Ansi16);
        assert_eq!(t16.md.h1.fg, Some(Color::Cyan));
        let none = Theme::default().without_color();
        assert_eq!(none.md.h1.fg, None);
        assert!(none.md.h1.add_modifier.contains(Modifier::BOLD));
        assert!(none.syntax.is_off());
    }

    #[test]
    fn key_lines() {
        let text = "# c\nsyntax: x\nui:\n  text: {}\nmarkdown:\n  text: {}\n  h1:\n    fg: red\n";
        assert_eq!(key_line(text, &["syntax"]), Some(2));
        assert_eq!(key_line(text, &["markdown", "text"]), Some(6));
        assert_eq!(key_line(text, &["markdown", "h1"]), Some(7));
        assert_eq!(key_line(text, &["ui", "h1"]), Some(3));
        assert_eq!(key_line(text, &["nope"]), None);
    }
}
