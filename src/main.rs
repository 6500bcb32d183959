//! The `folio` command: parses arguments, wires the library together, and
//! turns errors into one line on stderr and an exit status.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;
use folio::action::{Action, Command};
use folio::app::{App, Options};
use folio::color::{self, Background, ColorChoice, Depth};
use folio::config::{Config, MIN_MAX_WIDTH};
use folio::keymap::Keymap;
use folio::paths::Paths;
use folio::posts::{self, Post};
use folio::sanitize::sanitize;
use folio::theme::{self, AUTO, Theme};
use folio::{ansi, markdown, term};

/// A fast terminal reader for folders of Markdown posts.
#[derive(Debug, Parser)]
#[command(
    version,
    about,
    after_help = "Run without PATH to read folio's built-in guide (or the `posts` folder of \
                  your config file). Configuration: `folio --print-config`."
)]
struct Cli {
    /// A folder of posts (searched recursively for .md and .markdown) or one post.
    path: Option<PathBuf>,

    /// Print instead of opening the reader: a file is rendered to stdout, a
    /// folder is listed as DATE<TAB>TITLE<TAB>PATH lines, newest first.
    #[arg(short, long)]
    print: bool,

    /// Width to render at with --print [default: the terminal's, else 80].
    #[arg(short, long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    width: Option<u16>,

    /// When to use colour: auto, always, never, or a depth (16, 256,
    /// truecolor) [default: auto].
    #[arg(long, value_name = "WHEN", value_parser = parse_color_choice)]
    color: Option<ColorChoice>,

    /// The theme: a name from --list-themes, or auto (light or dark after the
    /// terminal's background) [default: auto].
    #[arg(long, value_name = "NAME")]
    theme: Option<String>,

    /// The widest the reader's text gets, however wide the terminal [default: 100].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(i64::from(MIN_MAX_WIDTH)..))]
    max_width: Option<u16>,

    /// Leave the mouse to the terminal (its own text selection keeps working).
    #[arg(long)]
    no_mouse: bool,

    /// List the available themes, one per line, and exit.
    #[arg(long)]
    list_themes: bool,

    /// Print the effective configuration as YAML, and exit.
    #[arg(long)]
    print_config: bool,
}

fn parse_color_choice(s: &str) -> Result<ColorChoice, String> {
    ColorChoice::parse(s)
        .ok_or_else(|| format!("expected one of {}", ColorChoice::NAMES.join(", ")))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(code) => code,
        Err(err) => {
            let msg = err
                .chain()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(": ");
            let _ = writeln!(std::io::stderr(), "folio: {}", sanitize(&msg));
            ExitCode::from(1)
        }
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The configuration after precedence: flag > environment > file > default.
fn effective_config(cli: &Cli, paths: &Paths, problems: &mut Vec<String>) -> Config {
    let (mut config, file_problems) = paths
        .config_file()
        .map_or_else(|| (Config::default(), Vec::new()), |f| Config::load(&f));
    problems.extend(file_problems);
    if let Some(posts) = env("FOLIO_POSTS") {
        config.posts = Some(PathBuf::from(posts));
    }
    if let Some(theme) = env("FOLIO_THEME") {
        config.theme = theme;
    }
    if let Some(path) = &cli.path {
        config.posts = Some(path.clone());
    }
    if let Some(theme) = &cli.theme {
        config.theme.clone_from(theme);
    }
    if let Some(color) = cli.color {
        config.color = color;
    }
    if let Some(w) = cli.max_width {
        config.max_width = w;
    }
    if cli.no_mouse {
        config.mouse = false;
    }
    config
}

/// Loads a theme, or says why not and falls back to the built-in `fallback`:
/// folio never refuses to start over a theme.
fn load_theme(name: &str, paths: &Paths, fallback: &str, problems: &mut Vec<String>) -> Theme {
    match theme::load(name, paths.themes_dir().as_deref()) {
        Ok(t) => t,
        Err(e) => {
            problems.push(format!("theme: {e}; using the built-in '{fallback}'"));
            Theme::builtin(fallback).unwrap_or_default()
        }
    }
}

/// The themes `theme: auto` chooses between, and the first guess: what
/// `COLORFGBG` says, else dark. Whether to ask the terminal is the caller's
/// business.
fn auto_pair(paths: &Paths, problems: &mut Vec<String>) -> (Theme, Theme, Option<Background>) {
    let dark = load_theme("dark", paths, "dark", problems);
    let light = load_theme("light", paths, "light", problems);
    let known = env("COLORFGBG").and_then(|v| Background::from_colorfgbg(&v));
    (dark, light, known)
}

fn run(cli: &Cli) -> Result<ExitCode> {
    let paths = Paths::resolve();
    let mut problems = Vec::new();
    if cli.list_themes {
        list_themes(&paths)?;
        return Ok(ExitCode::SUCCESS);
    }
    let config = effective_config(cli, &paths, &mut problems);
    let (keymap, key_problems) = Keymap::default().with_overrides(&config.keys);
    problems.extend(key_problems.into_iter().map(|p| {
        let file = paths
            .config_file()
            .map_or_else(String::new, |f| format!("{}: ", f.display()));
        format!("{file}{p}")
    }));
    if cli.print_config {
        for p in &problems {
            eprintln!("folio: warning: {}", sanitize(p));
        }
        write_stdout(&config.to_yaml(&keymap))?;
        return Ok(ExitCode::SUCCESS);
    }

    let stdout_tty = std::io::stdout().is_terminal();
    let printing = cli.print || !stdout_tty;
    let depth = color::resolve_depth(config.color, stdout_tty, env);
    // Ask the terminal only when the answer can change something: an
    // interactive session, in colour, with `theme: auto` and nothing in the
    // environment that already says. The Linux console cannot answer and is
    // always dark.
    let mut probe = None;
    let theme = if config.theme == AUTO {
        let (dark, light, known) = auto_pair(&paths, &mut problems);
        let console = env("TERM").is_some_and(|t| t == "linux");
        if known.is_none() && !console && !printing && depth != Depth::None {
            probe = Some(term::Probe {
                dark: Box::new(dark.for_depth(depth)),
                light: Box::new(light.for_depth(depth)),
            });
        }
        if known == Some(Background::Light) {
            light
        } else {
            dark
        }
    } else {
        load_theme(&config.theme, &paths, "dark", &mut problems)
    }
    .for_depth(depth);

    for p in &problems {
        eprintln!("folio: warning: {}", sanitize(p));
    }
    let single_file = config.posts.as_deref().is_some_and(Path::is_file);
    let posts = match &config.posts {
        Some(path) => posts::scan(path)?,
        None => posts::embedded(),
    };
    // Like bat and less, a pipe gets printed output rather than a TUI.
    if printing {
        let width = cli.width.unwrap_or_else(|| {
            if stdout_tty {
                crossterm::terminal::size().map_or(80, |(w, _)| w)
            } else {
                80
            }
        });
        if single_file {
            print_post(
                &posts[0],
                width,
                &theme,
                depth != Depth::None,
                config.wrap_code,
            )?;
        } else {
            print_list(&posts)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let label = config.posts.as_ref().map_or_else(
        || "folio's built-in posts".to_owned(),
        |p| p.display().to_string(),
    );
    let options = Options {
        max_width: config.max_width,
        source_label: label,
        wrap_code: config.wrap_code,
    };
    let mut app = App::new(posts, theme, keymap, options);
    if single_file {
        app.update(Action::Command(Command::Open));
        app.update(Action::Command(Command::ToggleList));
    }
    if let Some(first) = problems.first() {
        let more = match problems.len() {
            1 => String::new(),
            n => format!(" (and {} more, on stderr when you quit)", n - 1),
        };
        app.notify(format!("{first}{more}"));
    }
    match term::run(app, config.mouse, probe).context("terminal error")? {
        term::Exit::Signal(sig) => Ok(ExitCode::from(128 + u8::try_from(sig).unwrap_or(0))),
        term::Exit::Quit | term::Exit::Closed => Ok(ExitCode::SUCCESS),
    }
}

/// `--list-themes`: one name per line, with where it comes from.
fn list_themes(paths: &Paths) -> Result<()> {
    let mut out = String::new();
    for l in theme::list(paths.themes_dir().as_deref()) {
        let mark = match (l.builtin, l.user) {
            (true, true) => "\tuser, overrides built-in",
            (true, false) => "\tbuilt-in",
            _ => "\tuser",
        };
        let _ = writeln!(out, "{}{mark}", l.name);
    }
    write_stdout(&out)
}

fn print_post(post: &Post, width: u16, theme: &Theme, color: bool, wrap_code: bool) -> Result<()> {
    let source = post.read_source()?;
    if let Some(err) = &post.error {
        eprintln!(
            "folio: warning: {}: {}",
            post.rel_path.display(),
            sanitize(err)
        );
    }
    let opts = markdown::RenderOptions { wrap_code };
    let doc = markdown::render_with(source.body(), width, theme, opts);
    let mut out = String::with_capacity(source.text.len() * 2);
    for line in &doc.lines {
        ansi::push_line(&mut out, line, color);
    }
    write_stdout(&out)
}

fn print_list(posts: &[Post]) -> Result<()> {
    let mut out = String::new();
    for post in posts {
        let date = post.date.map(|d| d.to_string()).unwrap_or_default();
        // Tabs separate the columns, so none may appear inside one.
        let title = sanitize(&post.title);
        let path = post.rel_path.to_string_lossy();
        let path = sanitize(&path);
        let _ = writeln!(out, "{date}\t{title}\t{path}");
    }
    write_stdout(&out)
}

/// Writes to stdout; a closed pipe (`folio -p dir | head`) is not an error.
fn write_stdout(s: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(s.as_bytes()).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(e).context("cannot write to stdout")
        }
        _ => Ok(()),
    }
}
