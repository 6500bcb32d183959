//! Syntax highlighting for code blocks, via syntect.
//!
//! Loading syntect's syntax and theme dumps costs tens of milliseconds, so it
//! happens once per process and only when a block is actually highlighted.
//! syntect is quadratic on long lines, hence the caps below: anything over
//! them is shown plain rather than stalling the reader.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, LazyLock};

use ratatui::style::{Color, Modifier, Style};
use syntect::easy::HighlightLines;
use syntect::highlighting::{FontStyle, ThemeSet};
use syntect::parsing::{SyntaxReference, SyntaxSet};

use crate::color::{self, Depth};

/// Lines longer than this are shown plain.
pub const MAX_LINE_BYTES: usize = 2_000;
/// Blocks with more lines than this are shown plain.
pub const MAX_LINES: usize = 5_000;
/// Blocks larger than this are shown plain.
pub const MAX_BLOCK_BYTES: usize = 256 * 1024;
/// Used when the theme names a syntect theme that is not bundled.
pub const FALLBACK_THEME: &str = "base16-ocean.dark";

/// The themes syntect bundles, so a theme file can be checked without
/// loading them (a test keeps this in step with syntect).
pub const BUNDLED_THEMES: [&str; 7] = [
    "base16-ocean.dark",
    "base16-eighties.dark",
    "base16-mocha.dark",
    "base16-ocean.light",
    "InspiredGitHub",
    "Solarized (dark)",
    "Solarized (light)",
];

/// How code is coloured: which syntect theme, and onto which colours its
/// RGB output is mapped.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SyntaxTheme {
    /// One of [`BUNDLED_THEMES`], or the file name of `file`; empty for no
    /// highlighting.
    pub name: String,
    /// A `.tmTheme` loaded from beside a theme file.
    pub file: Option<Arc<syntect::highlighting::Theme>>,
    /// The depth syntect's colours are mapped to.
    pub depth: Depth,
    /// Map onto the terminal's own palette, greys to its default colour.
    pub ansi: bool,
}

impl SyntaxTheme {
    /// One of syntect's bundled themes, in full colour.
    pub fn named(name: &str) -> SyntaxTheme {
        SyntaxTheme {
            name: name.to_owned(),
            file: None,
            depth: Depth::TrueColor,
            ansi: false,
        }
    }

    /// No highlighting: code is shown in the block's own style.
    pub fn is_off(&self) -> bool {
        self.name.is_empty() || self.depth == Depth::None
    }
}

/// Loads a `.tmTheme` file.
pub fn load_theme_file(path: &Path) -> Result<Arc<syntect::highlighting::Theme>, String> {
    ThemeSet::get_theme(path)
        .map(Arc::new)
        .map_err(|e| e.to_string())
}

/// bat's syntaxes (through `two-face`): syntect's own set lacks
/// TypeScript, TOML, Dockerfile, Kotlin, Swift, Zig, Nix and many more.
static SYNTAXES: LazyLock<SyntaxSet> = LazyLock::new(two_face::syntax::extra_newlines);
static THEMES: LazyLock<ThemeSet> = LazyLock::new(ThemeSet::load_defaults);

/// The first word of a fenced block's info string (`rust,ignore` → `rust`,
/// `{.python}` → `python`).
pub fn language_of(info: &str) -> &str {
    info.split(|c: char| c.is_whitespace() || c == ',')
        .next()
        .unwrap_or("")
        .trim_matches(|c| c == '{' || c == '}' || c == '.')
}

/// Maps the names people write after a fence to tokens syntect knows.
fn alias(lang: &str) -> &str {
    match lang {
        "js" | "javascript" | "mjs" | "cjs" | "node" => "js",
        "jsx" => "jsx",
        "ts" | "typescript" | "mts" | "cts" => "ts",
        "tsx" => "tsx",
        "sh" | "bash" | "shell" | "zsh" | "ksh" | "console" | "shellsession" | "shell-session"
        | "terminal" => "sh",
        "hcl" | "terraform" | "tf" | "tfvars" => "tf",
        "ps" | "ps1" | "powershell" | "pwsh" => "ps1",
        "kt" | "kotlin" | "kts" => "kt",
        "ex" | "exs" | "elixir" => "ex",
        "proto" | "protobuf" => "proto",
        "gql" | "graphql" => "graphql",
        "nginx" | "nginxconf" => "nginx",
        "ini" | "cfg" | "conf" | "dosini" => "ini",
        "cmake" => "cmake",
        "jl" | "julia" => "jl",
        "scss" => "scss",
        "vue" => "vue",
        "svelte" => "svelte",
        "zig" => "zig",
        "nix" => "nix",
        "swift" => "swift",
        "dart" => "dart",
        "toml" => "toml",
        "jsonc" | "json5" => "json",
        "yml" | "yaml" => "yaml",
        "py" | "python" | "python3" | "py3" => "py",
        "rs" | "rust" => "rs",
        "rb" | "ruby" => "rb",
        "md" | "markdown" => "md",
        "c++" | "cpp" | "cxx" | "hpp" | "cc" => "cpp",
        "golang" | "go" => "go",
        "htm" | "html" | "xhtml" => "html",
        "dockerfile" | "docker" => "Dockerfile",
        "objc" | "objective-c" => "m",
        "cs" | "csharp" | "c#" => "cs",
        "patch" | "diff" => "diff",
        _ => lang,
    }
}

/// The syntax for a code block's language, if syntect bundles one.
pub fn find_syntax(lang: &str) -> Option<&'static SyntaxReference> {
    let lower = language_of(lang).to_ascii_lowercase();
    if lower.is_empty() || matches!(lower.as_str(), "text" | "txt" | "plain" | "plaintext") {
        return None;
    }
    let set = &*SYNTAXES;
    let token = alias(&lower);
    set.find_syntax_by_token(token)
        .or_else(|| set.find_syntax_by_name(token))
        .or_else(|| set.find_syntax_by_extension(token))
}

/// Converts a syntect style: foreground and font style only, because the
/// block draws its own background.
fn convert(
    s: syntect::highlighting::Style,
    theme: &SyntaxTheme,
    cache: &mut HashMap<[u8; 3], Option<Color>>,
) -> Style {
    let rgb = [s.foreground.r, s.foreground.g, s.foreground.b];
    let fg = *cache.entry(rgb).or_insert_with(|| {
        if theme.ansi {
            color::nearest_palette(rgb)
        } else {
            color::map(Color::Rgb(rgb[0], rgb[1], rgb[2]), theme.depth)
        }
    });
    let mut style = Style {
        fg,
        ..Style::default()
    };
    for (f, m) in [
        (FontStyle::BOLD, Modifier::BOLD),
        (FontStyle::ITALIC, Modifier::ITALIC),
        (FontStyle::UNDERLINE, Modifier::UNDERLINED),
    ] {
        if s.font_style.contains(f) {
            style = style.add_modifier(m);
        }
    }
    style
}

/// Highlights `code` (already sanitized, tabs expanded, lines joined by
/// `\n`) as `lang` with `theme`, its colours mapped to the theme's depth. Returns one entry per
/// line of `code.split('\n')`; a line over [`MAX_LINE_BYTES`] comes back as
/// one piece with the default style. `None` means "show it plain": no theme,
/// unknown language, or a block over the caps.
pub fn highlight_block(
    code: &str,
    lang: &str,
    theme: &SyntaxTheme,
) -> Option<Vec<Vec<(Style, String)>>> {
    if theme.is_off() || code.len() > MAX_BLOCK_BYTES || code.lines().count() > MAX_LINES {
        return None;
    }
    let syntax = find_syntax(lang)?;
    let palette = theme;
    let theme = match &theme.file {
        Some(file) => file,
        None => THEMES
            .themes
            .get(&theme.name)
            .or_else(|| THEMES.themes.get(FALLBACK_THEME))?,
    };
    let mut hl = HighlightLines::new(syntax, theme);
    let mut cache = HashMap::new();
    let mut out = Vec::new();
    let mut buf = String::new();
    for line in code.split('\n') {
        if line.len() > MAX_LINE_BYTES {
            out.push(vec![(Style::default(), line.to_owned())]);
            continue;
        }
        buf.clear();
        buf.push_str(line);
        buf.push('\n');
        let Ok(pieces) = hl.highlight_line(&buf, &SYNTAXES) else {
            out.push(vec![(Style::default(), line.to_owned())]);
            continue;
        };
        let mut styled: Vec<(Style, String)> = Vec::with_capacity(pieces.len());
        for (s, text) in pieces {
            let text = text.strip_suffix('\n').unwrap_or(text);
            if text.is_empty() {
                continue;
            }
            let style = convert(s, palette, &mut cache);
            match styled.last_mut() {
                Some((last, t)) if *last == style => t.push_str(text),
                _ => styled.push((style, text.to_owned())),
            }
        }
        out.push(styled);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_resolve() {
        for (lang, name) in [
            ("rust", "Rust"),
            ("RS", "Rust"),
            ("py", "Python"),
            ("js", "JavaScript (Babel)"),
            ("ts", "TypeScript"),
            ("tsx", "TypeScriptReact"),
            ("toml", "TOML"),
            ("bash", "Bourne Again Shell (bash)"),
            ("console", "Bourne Again Shell (bash)"),
            ("yml", "YAML"),
            ("golang", "Go"),
            ("c++", "C++"),
            ("rust,ignore", "Rust"),
            ("json", "JSON"),
        ] {
            assert_eq!(
                find_syntax(lang).map(|s| s.name.as_str()),
                Some(name),
                "{lang}"
            );
        }
        // bat's syntaxes, by the names fences use.
        for lang in [
            "sh",
            "shell",
            "console",
            "yml",
            "dockerfile",
            "hcl",
            "terraform",
            "kotlin",
            "swift",
            "zig",
            "nix",
            "elixir",
            "vue",
            "svelte",
            "powershell",
            "ini",
            "nginx",
            "graphql",
            "proto",
            "cmake",
            "dart",
            "julia",
            "scss",
            "jsx",
            "tsx",
            "toml",
        ] {
            assert!(find_syntax(lang).is_some(), "{lang}");
        }
        assert!(find_syntax("no-such-language").is_none());
        assert!(find_syntax("").is_none());
        assert!(find_syntax("text").is_none());
    }

    fn named(name: &str) -> SyntaxTheme {
        SyntaxTheme::named(name)
    }

    #[test]
    fn bundled_names_are_syntects() {
        let mut names: Vec<&str> = THEMES.themes.keys().map(String::as_str).collect();
        let mut ours = BUNDLED_THEMES.to_vec();
        names.sort_unstable();
        ours.sort_unstable();
        assert_eq!(names, ours);
    }

    #[test]
    fn colours_follow_the_depth() {
        for (depth, ok) in [
            (
                Depth::Ansi256,
                (|c| matches!(c, Color::Indexed(16..))) as fn(Color) -> bool,
            ),
            (Depth::Ansi16, |c| {
                !matches!(c, Color::Indexed(_) | Color::Rgb(..))
            }),
        ] {
            let theme = SyntaxTheme {
                depth,
                ..named("base16-ocean.dark")
            };
            let out = highlight_block("fn main() { let x = \"s\"; }", "rust", &theme).unwrap();
            for (style, _) in out.iter().flatten() {
                assert!(ok(style.fg.unwrap()), "{depth:?}: {style:?}");
            }
        }
    }

    #[test]
    fn highlights_with_colour() {
        let out = highlight_block(
            "fn main() {}\nlet x = 1;",
            "rust",
            &named("base16-ocean.dark"),
        )
        .unwrap();
        assert_eq!(out.len(), 2);
        let joined: String = out[0].iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(joined, "fn main() {}");
        assert!(
            out[0]
                .iter()
                .any(|(s, _)| matches!(s.fg, Some(Color::Rgb(..))))
        );
    }

    #[test]
    fn caps_and_fallbacks() {
        assert!(highlight_block("x", "rust", &named("")).is_none());
        assert!(highlight_block("x", "klingon", &named("base16-ocean.dark")).is_none());
        assert!(highlight_block("x", "rust", &named("no-such-theme")).is_some());
        let long = "a".repeat(MAX_LINE_BYTES + 1);
        let out = highlight_block(&long, "rust", &named("base16-ocean.dark")).unwrap();
        assert_eq!(out[0], vec![(Style::default(), long)]);
        let many = "x\n".repeat(MAX_LINES + 1);
        assert!(highlight_block(&many, "rust", &named("base16-ocean.dark")).is_none());
    }
}
