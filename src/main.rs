//! The `folio` command: parses arguments, wires the library together, and
//! turns errors into one line on stderr and an exit status.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, ValueEnum};
use folio::action::{Action, Command};
use folio::app::{App, Options};
use folio::keymap::Keymap;
use folio::posts::{self, Post};
use folio::sanitize::sanitize;
use folio::theme::Theme;
use folio::{ansi, markdown, mojibake, term};

/// A fast terminal reader for folders of Markdown posts.
#[derive(Debug, Parser)]
#[command(
    version,
    about,
    after_help = "Run without PATH to read folio's built-in guide."
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

    /// When to use colour.
    #[arg(long, value_enum, default_value_t = ColorWhen::Auto)]
    color: ColorWhen,

    /// The widest the reader's text gets, however wide the terminal.
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u16).range(20..))]
    max_width: u16,

    /// Leave the mouse to the terminal (its own text selection keeps working).
    #[arg(long)]
    no_mouse: bool,

    /// Show text as stored: do not repair mis-decoded text (`â€”` for `—`).
    #[arg(long)]
    raw: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ColorWhen {
    /// Colour when writing to a terminal and `NO_COLOR` is not set.
    Auto,
    Always,
    Never,
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

fn run(cli: &Cli) -> Result<ExitCode> {
    let stdout_tty = std::io::stdout().is_terminal();
    let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let color = match cli.color {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => stdout_tty && !no_color_env,
    };
    let theme = if color {
        Theme::default()
    } else {
        Theme::default().without_color()
    };
    let single_file = cli.path.as_deref().is_some_and(Path::is_file);
    let posts = match &cli.path {
        Some(path) => posts::scan(path)?,
        None => posts::embedded(),
    };
    // Like bat and less, a pipe gets printed output rather than a TUI.
    if cli.print || !stdout_tty {
        let width = cli.width.unwrap_or_else(|| {
            if stdout_tty {
                crossterm::terminal::size().map_or(80, |(w, _)| w)
            } else {
                80
            }
        });
        if single_file {
            print_post(&posts[0], width, &theme, color, cli.raw)?;
        } else {
            print_list(&posts, cli.raw)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let label = cli.path.as_ref().map_or_else(
        || "folio's built-in posts".to_owned(),
        |p| p.display().to_string(),
    );
    let options = Options {
        max_width: cli.max_width,
        source_label: label,
    };
    let mut app = App::new(posts, theme, Keymap::default(), options);
    if cli.raw {
        app.update(Action::Command(Command::ToggleRaw));
    }
    if single_file {
        app.update(Action::Command(Command::Open));
        app.update(Action::Command(Command::ToggleList));
    }
    match term::run(app, !cli.no_mouse).context("terminal error")? {
        term::Exit::Signal(sig) => Ok(ExitCode::from(128 + u8::try_from(sig).unwrap_or(0))),
        term::Exit::Quit | term::Exit::Closed => Ok(ExitCode::SUCCESS),
    }
}

/// Post text as printed: mojibake repaired unless `--raw`.
fn shown(s: &str, raw: bool) -> Cow<'_, str> {
    if raw {
        Cow::Borrowed(s)
    } else {
        mojibake::repair(s)
    }
}

fn print_post(post: &Post, width: u16, theme: &Theme, color: bool, raw: bool) -> Result<()> {
    let source = post.read_source()?;
    if let Some(err) = &post.error {
        eprintln!(
            "folio: warning: {}: {}",
            sanitize(&post.rel_path.to_string_lossy()),
            sanitize(err)
        );
    }
    if let Some(size) = source.truncated_from {
        eprintln!(
            "folio: warning: {}: {size} bytes; printing the first {} MB",
            sanitize(&post.rel_path.to_string_lossy()),
            posts::BODY_LIMIT >> 20
        );
    }
    let body = shown(source.body(), raw);
    if matches!(body, Cow::Owned(_)) {
        eprintln!(
            "folio: note: {}: repaired text that was mis-decoded as Windows-1252; --raw prints it as stored",
            sanitize(&post.rel_path.to_string_lossy())
        );
    }
    let doc = markdown::render(&body, width, theme);
    let mut out = String::with_capacity(source.text.len() * 2);
    for line in &doc.lines {
        ansi::push_line(&mut out, line, color);
    }
    write_stdout(&out)
}

fn print_list(posts: &[Post], raw: bool) -> Result<()> {
    let mut out = String::new();
    for post in posts {
        let date = post.date.map(|d| d.to_string()).unwrap_or_default();
        // Tabs separate the columns, so none may appear inside one.
        let title = shown(&post.title, raw);
        let title = sanitize(&title);
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
