//! The `folio` command: parses arguments, wires the library together, and
//! turns errors into one line on stderr and an exit status.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueHint};
use folio::action::{Action, Command, Report};
use folio::app::{App, Options};
use folio::color::{self, Background, ColorChoice, Depth};
use folio::config::{Config, MIN_MAX_WIDTH};
use folio::keymap::Keymap;
use folio::paths::Paths;
use folio::posts::{self, Post};
use folio::sanitize::sanitize;
use folio::theme::{self, AUTO, Theme};
use folio::{ansi, logging, markdown, mojibake, ssh, term};

/// A fast terminal reader for folders of Markdown posts.
#[derive(Debug, Parser)]
#[command(
    version,
    about,
    long_about = LONG_ABOUT,
    after_help = EXAMPLES,
    after_long_help = LONG_HELP,
    args_conflicts_with_subcommands = true,
    disable_help_subcommand = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Sub>,

    /// A folder of posts (searched recursively for .md and .markdown), one post, or - for standard input.
    ///
    /// Without PATH, folio reads a document piped into it (`curl URL | folio`),
    /// else opens the `posts` folder of its config file, or else its built-in
    /// guide. With `-` or a pipe, keys come from the terminal, as in `less`.
    /// `man`, `completions` and `serve` are commands only as the first
    /// argument: open a folder of that name as `folio ./man`.
    #[arg(value_hint = ValueHint::AnyPath)]
    path: Option<PathBuf>,

    /// Print to stdout instead of opening the reader.
    ///
    /// A file is rendered as text (in colour on a terminal); a folder is
    /// listed as DATE<TAB>TITLE<TAB>PATH lines, newest first. This is also
    /// what happens when stdout is not a terminal.
    #[arg(short, long, help_heading = "Printing")]
    print: bool,

    /// Width to render at with --print [default: the terminal's, else 80].
    #[arg(short, long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..), help_heading = "Printing")]
    width: Option<u16>,

    /// When to use colour: auto, always, never, 16, 256, truecolor.
    ///
    /// `auto` (the default) colours a terminal at the depth it supports and
    /// honours `NO_COLOR`; a depth forces that many colours.
    #[arg(long, value_name = "WHEN", value_parser = parse_color_choice, help_heading = "Display")]
    color: Option<ColorChoice>,

    /// The theme: a name from --list-themes, or auto.
    ///
    /// `auto` (the default) picks `light` or `dark` after the terminal's
    /// background colour.
    #[arg(long, value_name = "NAME", help_heading = "Display")]
    theme: Option<String>,

    /// The widest the reader's text gets, however wide the terminal [default: 100].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(i64::from(MIN_MAX_WIDTH)..), help_heading = "Display")]
    max_width: Option<u16>,

    /// Pictures in posts: auto (the terminal's protocol, else half blocks, when colour is on), halfblocks, kitty, iterm2, sixel or off.
    #[arg(long, value_name = "WHEN", value_parser = ["auto", "halfblocks", "kitty", "iterm2", "sixel", "off"], hide_short_help = true, help_heading = "Display")]
    images: Option<String>,

    /// Fetch pictures from http(s) URLs (off by default: fetching tells their servers what you read).
    #[arg(long, hide_short_help = true, help_heading = "Display")]
    remote_images: bool,

    /// Leave the mouse to the terminal (its own text selection keeps working).
    #[arg(long, help_heading = "Display")]
    no_mouse: bool,

    /// List the available themes, one per line, and exit.
    #[arg(long, help_heading = "Configuration")]
    list_themes: bool,

    /// Print the effective configuration as YAML, and exit.
    #[arg(long, help_heading = "Configuration")]
    print_config: bool,

    /// Write a log to FILE (at `info` unless `FOLIO_LOG` says otherwise).
    ///
    /// Logging is off by default. `FOLIO_LOG=debug` alone logs to the default
    /// log file, shown by `folio --version`.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, help_heading = "Logging")]
    log_file: Option<PathBuf>,

    /// Do not make links clickable hyperlinks (OSC 8).
    ///
    /// They are on by default, except on the Linux console (`TERM=linux`)
    /// and dumb terminals; the config key is `hyperlinks`.
    #[arg(long, help_heading = "Display")]
    no_hyperlinks: bool,

    /// Show text as stored: do not repair mis-decoded text (`â€”` for `—`).
    #[arg(long, help_heading = "Display")]
    raw: bool,
}

#[derive(Debug, Subcommand)]
enum Sub {
    /// Print a completion script for SHELL to stdout.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print folio's man page (roff) to stdout.
    Man,
    /// Serve a folder of posts over SSH: anyone can read them with `ssh -t`.
    ///
    /// Each visitor gets their own reader. No command is ever run and
    /// nothing outside the folder is read. Listens on 127.0.0.1:2222 unless told
    /// otherwise (`--listen 0.0.0.0:2222` for all interfaces). Stop with
    /// Ctrl-C or SIGTERM: every visitor gets a goodbye line. SIGHUP reloads
    /// the posts.
    #[command(after_help = SERVE_EXAMPLES)]
    Serve(Box<ServeArgs>),
}

const SERVE_EXAMPLES: &str = "\
Examples:
  folio serve ~/blog/posts                   serve on 127.0.0.1:2222
  ssh -t -p 2222 localhost                   read them (from another terminal)
  folio serve --listen 0.0.0.0:2222 posts    serve on every interface
  folio serve --authorized-keys ~/.ssh/authorized_keys posts
                                             only these keys get in";

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// The folder of posts to serve [default: the config file's `posts`, else folio's guide].
    #[arg(value_hint = ValueHint::DirPath)]
    path: Option<PathBuf>,

    /// Address and port to listen on [default: 127.0.0.1:2222].
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,

    /// The server's SSH host key; generated there on first run
    /// [default: `<data dir>/ssh_host_ed25519_key`, see `folio --version`].
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    host_key: Option<PathBuf>,

    /// Private mode: only the public keys in FILE (`authorized_keys` format) get in.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    authorized_keys: Option<PathBuf>,

    /// Logged-in visitors at once [default: 200].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..), help_heading = "Limits")]
    max_sessions: Option<u32>,

    /// Connections not yet logged in, at once [default: 64].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..), help_heading = "Limits")]
    max_startups: Option<u32>,

    /// Connections at once from one address [default: 8].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..), help_heading = "Limits")]
    max_per_ip: Option<u32>,

    /// Connections at once from one IPv4 /24 or IPv6 /48 [default: 32].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..), help_heading = "Limits")]
    max_per_network: Option<u32>,

    /// New connections per minute from one address [default: 30].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..), help_heading = "Limits")]
    connects_per_minute: Option<u32>,

    /// New connections per minute from one IPv4 /24 or IPv6 /48 [default: 120].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..), help_heading = "Limits")]
    network_connects_per_minute: Option<u32>,

    /// Seconds from connecting to being logged in [default: 10].
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..), help_heading = "Limits")]
    handshake_timeout: Option<u64>,

    /// Seconds from logging in to opening a reader [default: 5].
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..), help_heading = "Limits")]
    session_open_timeout: Option<u64>,

    /// Screen cells (columns × rows) of all visitors together [default: 1000000].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..), help_heading = "Limits")]
    screen_cells: Option<u32>,

    /// Close a session after SECS without a key press [default: 1800].
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..), help_heading = "Limits")]
    idle_timeout: Option<u64>,

    /// Close any session after SECS [default: 28800].
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..), help_heading = "Limits")]
    max_session_time: Option<u64>,

    /// Write the log to FILE [default: stderr].
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    log_file: Option<PathBuf>,

    /// Behind a load balancer: connections from FROM (addresses or CIDR
    /// networks, comma-separated; may be repeated) must start with a PROXY
    /// header (v1 or v2), whose source address is then the visitor's.
    #[arg(long, value_name = "FROM", help_heading = "Service")]
    proxy_protocol: Vec<String>,

    /// Write the server's figures as JSON to FILE (replaced atomically) at
    /// every summary.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, help_heading = "Service")]
    status: Option<PathBuf>,

    /// Seconds between summary lines in the log [default: 60].
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..), help_heading = "Service")]
    summary_every: Option<u64>,
}

const LONG_ABOUT: &str = "A fast terminal reader for folders of Markdown posts.

Lists the posts of a folder (YAML or TOML frontmatter) newest first and reads \
them as styled Markdown in two panes. Press ? in the reader for every key.";

const EXAMPLES: &str = "\
Examples:
  folio ~/blog/content/posts       read a folder of posts
  folio post.md                    read one post
  curl -s URL/post.md | folio      read a document from a pipe (or: folio -)
  folio -p post.md | less -R       render a post to stdout
  folio --theme warm ~/blog        pick a theme (folio --list-themes)
  folio serve ~/blog               let others read it: ssh -t -p 2222 host

`folio --help` shows more examples and the environment variables.";

const LONG_HELP: &str = "\
Examples:
  folio                            read folio's built-in guide
  folio ~/blog/content/posts       read a folder of posts (recursively)
  folio post.md                    read one post, full screen
  curl -s URL/README.md | folio    read what a pipe brings, full screen
  folio - < notes.md               the same from a redirect
  folio -p post.md --color=always | less -R
                                   render a post to stdout, in colour
  folio -p ~/blog                  list DATE<TAB>TITLE<TAB>PATH, newest first
  folio --theme light --color 256  a theme and a colour depth
  folio --print-config > ~/.config/folio/config.yaml
                                   start a config file from the defaults
  folio ./man                      a folder named like a command
  ssh -t host folio ~/blog         read over SSH on a machine with folio
  folio serve ~/blog               serve it over SSH (folio serve --help)
  FOLIO_LOG=debug folio ~/blog     log to the file `folio --version` shows
  folio completions zsh > ~/.zfunc/_folio
  folio man | gzip > ~/.local/share/man/man1/folio.1.gz

Environment:
  FOLIO_POSTS    the folder to open when no PATH is given
  FOLIO_THEME    the theme, as --theme (the flag wins)
  FOLIO_LOG      log filter (error, warn, info, debug, trace); off when unset
  NO_COLOR       when set and not empty, --color=auto means no colour
  COLORTERM      truecolor or 24bit: 24-bit colour (else 256 when TERM says so)
  XDG_CONFIG_HOME, XDG_DATA_HOME, XDG_CACHE_HOME
                 where the config, reading state and log files live (`folio --version`)
  VISUAL, EDITOR the editor the e key runs (else vi)

Precedence: flag > environment > config file > default.

Exit status: 0 on success, 1 on an error (e.g. a missing path), 2 for a bad \
command line, 128+N when ended by signal N.";

fn parse_color_choice(s: &str) -> Result<ColorChoice, String> {
    ColorChoice::parse(s)
        .ok_or_else(|| format!("expected one of {}", ColorChoice::NAMES.join(", ")))
}

fn main() -> ExitCode {
    // Built at run time, so `--version` can show the paths this user gets.
    let matches = command()
        .long_version(logging::long_version().leak() as &str)
        .get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let result = match &cli.command {
        Some(Sub::Serve(args)) => serve(args),
        Some(sub) => generate(sub),
        None => start_logging(&cli).and_then(|()| run(&cli)),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            let msg = err
                .chain()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(": ");
            let msg = sanitize(&msg);
            tracing::error!("exiting with an error: {msg}");
            let _ = writeln!(std::io::stderr(), "folio: {msg}");
            ExitCode::from(1)
        }
    }
}

/// The command line as clap sees it, for parsing and for generated files.
fn command() -> clap::Command {
    Cli::command().disable_version_flag(true).arg(
        clap::Arg::new("version")
            .short('V')
            .long("version")
            .action(clap::ArgAction::Version)
            .help("Print version (--version: and the paths folio uses)"),
    )
}

/// `folio completions SHELL` and `folio man`: generated from [`Cli`].
fn generate(sub: &Sub) -> Result<ExitCode> {
    let mut out = Vec::new();
    match sub {
        Sub::Completions { shell } => {
            clap_complete::generate(*shell, &mut command(), "folio", &mut out);
        }
        Sub::Man => clap_mangen::Man::new(command()).render(&mut out)?,
        Sub::Serve(_) => unreachable!("serve is run, not generated"),
    }
    write_stdout(&String::from_utf8_lossy(&out))?;
    Ok(ExitCode::SUCCESS)
}

/// Logging is silent unless `FOLIO_LOG` or `--log-file` asks for it.
fn start_logging(cli: &Cli) -> Result<()> {
    let started = logging::init(cli.log_file.as_deref())?;
    if let Some(warning) = &started.warning {
        eprintln!("folio: warning: {}", sanitize(warning));
    }
    if let Some(file) = &started.file {
        tracing::info!(version = env!("CARGO_PKG_VERSION"), log = %file.display(), "folio starting");
    }
    Ok(())
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The configuration after precedence: flag > environment > file > default.
fn effective_config(cli: &Cli, paths: &Paths, problems: &mut Vec<String>) -> Config {
    let mut config = base_config(cli.path.as_deref(), paths, problems);
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
    if let Some(images) = cli
        .images
        .as_deref()
        .and_then(folio::picture::Images::parse)
    {
        config.images = images;
    }
    if cli.remote_images {
        config.remote_images = true;
    }
    if cli.no_hyperlinks {
        config.hyperlinks = false;
    }
    config
}

/// What the reader and `folio serve` share of that precedence: the file,
/// then the environment, then the posts folder given on the command line.
fn base_config(path: Option<&Path>, paths: &Paths, problems: &mut Vec<String>) -> Config {
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
    if let Some(path) = path {
        config.posts = Some(path.to_path_buf());
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
    let mut config = effective_config(cli, &paths, &mut problems);
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
    let (theme, probe) = choose_theme(&config.theme, &paths, depth, printing, &mut problems);

    for p in &problems {
        eprintln!("folio: warning: {}", sanitize(p));
    }
    let from_stdin = reads_stdin(cli.path.as_deref())?;
    if from_stdin {
        // Not the config's folder: no list, no live reload, no saved place.
        config.posts = None;
    }
    let single_file = from_stdin || config.posts.as_deref().is_some_and(Path::is_file);
    // The reader on a folder starts at once and reads the posts in the
    // background (the list fills in); a bad path is still refused here.
    let background = config.posts.as_ref().filter(|_| !printing && !single_file);
    let posts = if from_stdin {
        vec![posts::read_stdin(std::io::stdin().lock())?]
    } else {
        first_posts(config.posts.as_deref(), background.is_some())?
    };
    // Like bat and less, a pipe gets printed output rather than a TUI.
    if printing {
        let width = cli.width.unwrap_or_else(|| {
            if stdout_tty {
                term::size().map_or(80, |(w, _)| w)
            } else {
                80
            }
        });
        if single_file {
            print_post(
                &posts[0],
                width,
                &theme,
                PrintStyle {
                    color: depth != Depth::None,
                    wrap_code: config.wrap_code,
                    raw: cli.raw,
                    pictures: print_pictures(config.images, depth, stdout_tty),
                },
            )?;
        } else {
            print_list(&posts, cli.raw)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut app = App::new(posts, theme, keymap, app_options(&config, from_stdin));
    if cli.raw {
        app.update(Action::Command(Command::ToggleRaw));
    }
    if background.is_some() {
        // Before the reading state: the post to reopen may come later.
        app.report(Report::PostsRead {
            posts: Vec::new(),
            done: false,
        });
    }
    // Never with --print (returned above). A piped document has no place
    // to come back to.
    let place = if from_stdin {
        None
    } else {
        restore_reading(&mut app, &paths, config.posts.as_deref(), &mut problems)
    };
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
    let services = term::Services {
        state: place,
        watch: config.posts.clone(),
        scan: background.cloned(),
    };
    match term::run(app, config.mouse, probe, services).context("terminal error")? {
        term::Exit::Signal(sig) => Ok(ExitCode::from(128 + u8::try_from(sig).unwrap_or(0))),
        term::Exit::Quit | term::Exit::Closed => Ok(ExitCode::SUCCESS),
    }
}

/// The reader's options from the configuration.
fn app_options(config: &Config, from_stdin: bool) -> Options {
    let label = match &config.posts {
        _ if from_stdin => posts::STDIN_NAME.to_owned(),
        Some(p) => p.display().to_string(),
        None => "folio's built-in posts".to_owned(),
    };
    Options {
        max_width: config.max_width,
        source_label: label,
        wrap_code: config.wrap_code,
        images: config.images,
        sources: folio::picture::Sources {
            // Fetched pictures are kept in the cache folder; without one
            // they are not fetched.
            remote: config
                .remote_images
                .then(|| folio::paths::Paths::resolve().cache_dir)
                .flatten()
                .map(|d| d.join("pictures")),
        },
        picture_bytes: folio::app::PICTURE_BYTES,
        remote: env("SSH_CONNECTION").is_some(),
        // The Linux console and dumb terminals print an OSC 8 they do not
        // know as text.
        hyperlinks: config.hyperlinks && !env("TERM").is_some_and(|t| t == "linux" || t == "dumb"),
    }
}

/// Whether the document is on standard input: `-` says so; with no PATH,
/// a pipe or a redirected file does (a terminal, `/dev/null` or a closed
/// stdin do not: `folio` alone still opens the posts folder or the guide).
fn reads_stdin(path: Option<&Path>) -> Result<bool> {
    let stdin = std::io::stdin();
    match path {
        Some(p) if p == Path::new("-") => {
            if stdin.is_terminal() {
                anyhow::bail!(
                    "-: standard input is the terminal; pipe a document in (`curl -s URL | folio -`, `folio - < post.md`) or give a file"
                );
            }
            Ok(true)
        }
        Some(_) => Ok(false),
        None => Ok(!stdin.is_terminal() && stdin_is_pipe_or_file()),
    }
}

/// Whether standard input is a pipe or a regular file, asked of a
/// duplicate of its descriptor.
fn stdin_is_pipe_or_file() -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::FileTypeExt;
    let Ok(fd) = std::io::stdin().as_fd().try_clone_to_owned() else {
        return false;
    };
    std::fs::File::from(fd)
        .metadata()
        .is_ok_and(|m| m.file_type().is_fifo() || m.file_type().is_file())
}

/// The posts to start with: all of them, or none yet when they are read
/// in the `background` (after checking that they can be).
fn first_posts(path: Option<&Path>, background: bool) -> Result<Vec<Post>> {
    let scan_start = Instant::now();
    let posts = match path {
        Some(path) if background => {
            posts::check(path)?;
            return Ok(Vec::new());
        }
        Some(path) => posts::scan(path)?,
        None => posts::embedded(),
    };
    log_scan(path, &posts, scan_start.elapsed());
    Ok(posts)
}

/// Reading state: read once here (a small file), saved from then on by the
/// runner's writer thread. A file that had to be set aside is the first
/// problem shown.
fn restore_reading(
    app: &mut App,
    paths: &Paths,
    posts: Option<&Path>,
    problems: &mut Vec<String>,
) -> Option<folio::state::Place> {
    let place = folio::state::Place {
        file: paths.state_file()?,
        folder: folio::state::folder_key(posts),
    };
    let (state, warning) = folio::state::StateFile::load(&place.file);
    app.report(Report::RestoreReading(Box::new(
        state.reading(&place.folder),
    )));
    if let Some(w) = warning {
        problems.insert(0, w);
    }
    Some(place)
}

/// The theme to start with, and for `theme: auto` in an interactive session
/// the background query that may switch it.
fn choose_theme(
    name: &str,
    paths: &Paths,
    depth: Depth,
    printing: bool,
    problems: &mut Vec<String>,
) -> (Theme, Option<folio::session::Probe>) {
    if name != AUTO {
        return (
            load_theme(name, paths, "dark", problems).for_depth(depth),
            None,
        );
    }
    let (dark, light, known) = auto_pair(paths, problems);
    // Ask the terminal only when the answer can change something: an
    // interactive session, in colour, with nothing in the environment that
    // already says. The Linux console cannot answer and is always dark.
    let console = env("TERM").is_some_and(|t| t == "linux");
    let probe = (known.is_none() && !console && !printing && depth != Depth::None).then(|| {
        folio::session::Probe {
            dark: Box::new(dark.for_depth(depth)),
            light: Box::new(light.for_depth(depth)),
        }
    });
    let theme = if known == Some(Background::Light) {
        light
    } else {
        dark
    };
    (theme.for_depth(depth), probe)
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
/// Post text as printed: mojibake repaired unless `--raw`.
fn shown(s: &str, raw: bool) -> Cow<'_, str> {
    if raw {
        Cow::Borrowed(s)
    } else {
        mojibake::repair(s)
    }
}

/// How `--print` prints a post.
#[derive(Clone, Copy)]
struct PrintStyle {
    color: bool,
    wrap_code: bool,
    raw: bool,
    /// Pictures after their alt-text lines, in this protocol and colour
    /// depth.
    pictures: Option<(folio::graphics::Graphics, Depth)>,
}

/// The protocol `--print` shows pictures in: one `--images` forces, else
/// (auto) kitty's or iTerm2's when stdout is such a terminal, known from
/// the environment, as printing cannot wait for replies; never without
/// colour.
fn print_pictures(
    images: folio::picture::Images,
    depth: Depth,
    stdout_tty: bool,
) -> Option<(folio::graphics::Graphics, Depth)> {
    use folio::graphics::{Graphics, Hint};
    use folio::picture::Images;
    if depth == Depth::None {
        return None;
    }
    let graphics = match images {
        Images::Auto if stdout_tty => Hint::print_protocol(|v| std::env::var(v).ok())?,
        Images::Kitty | Images::Iterm2 | Images::Sixel => Graphics::forced(images)?,
        _ => return None,
    };
    Some((graphics, depth))
}

fn print_post(post: &Post, width: u16, theme: &Theme, style: PrintStyle) -> Result<()> {
    let PrintStyle {
        color,
        wrap_code,
        raw,
        pictures,
    } = style;
    let source = post.read_source()?;
    if let Some(err) = &post.error {
        eprintln!(
            "folio: warning: {}: {}",
            sanitize(&post.rel_path.to_string_lossy()),
            sanitize(err)
        );
    }
    if let Some(size) = source.truncated_from {
        // A stream is not read to its end: only "more than the limit" is known.
        let size = if size > posts::BODY_LIMIT as u64 + 1 {
            format!("{size} bytes")
        } else {
            format!("over {} MB", posts::BODY_LIMIT >> 20)
        };
        eprintln!(
            "folio: warning: {}: {size}; printing the first {} MB",
            sanitize(&post.rel_path.to_string_lossy()),
            posts::BODY_LIMIT >> 20
        );
    }
    let body = shown(source.body(), raw);
    let mut pictures =
        pictures.map(|(g, depth)| folio::picture::Printed::new(post, &body, width, g, depth));
    if matches!(body, Cow::Owned(_)) {
        eprintln!(
            "folio: note: {}: repaired text that was mis-decoded as Windows-1252; --raw prints it as stored",
            sanitize(&post.rel_path.to_string_lossy())
        );
    }
    let opts = markdown::RenderOptions {
        wrap_code,
        highlight: true,
        details_open: true,
    };
    let layout_start = Instant::now();
    let header = folio::app::post_header(post);
    let words = markdown::estimate_words(&body);
    // Without a title from the frontmatter there is no header; otherwise
    // the first lines laid out tell whether the body opens with the title.
    let mut header_due = post.titled;
    // Written as it is laid out, a piece of a long body at a time: its lines
    // (let alone their coloured text) are never in memory whole.
    let mut stdout = std::io::stdout().lock();
    let mut out = String::with_capacity(PRINT_CHUNK * 2);
    let mut failed: Option<anyhow::Error> = None;
    let mut gone = false;
    let mut lines_out = 0;
    let mut write_lines =
        |lines: &folio::document::Lines, headings: &[folio::document::Heading]| -> bool {
            if gone || failed.is_some() {
                return false;
            }
            if std::mem::take(&mut header_due)
                && !markdown::opens_with_title_in(lines, headings, &post.title)
            {
                for line in markdown::header_lines(&header, words, true, width, theme) {
                    ansi::push_line(&mut out, &line, color);
                }
            }
            lines_out += lines.len();
            for (i, line) in lines.iter().enumerate() {
                ansi::push_line(&mut out, &line, color);
                if let Some(picture) = pictures.as_mut().and_then(|p| p.after_line(lines.text(i))) {
                    out.push_str(&picture);
                }
                if out.len() >= PRINT_CHUNK {
                    match write_to(&mut stdout, &out) {
                        Ok(true) => out.clear(),
                        Ok(false) => gone = true,
                        Err(e) => failed = Some(e),
                    }
                    if gone || failed.is_some() {
                        return false;
                    }
                }
            }
            true
        };
    let rest = markdown::render_streaming(&body, width, theme, opts, &mut write_lines);
    let go_on = write_lines(&rest.lines, &rest.headings);
    tracing::debug!(
        post = %post.rel_path.display(),
        bytes = source.text.len(),
        width,
        lines = lines_out,
        layout_ms = ms(layout_start.elapsed()),
        "rendered for --print"
    );
    if let Some(e) = failed {
        return Err(e);
    }
    if !go_on {
        return Ok(());
    }
    write_to(&mut stdout, &out).map(|_| ())
}

/// The start-up event, and one warning per post whose frontmatter is broken.
fn log_scan(path: Option<&Path>, posts: &[Post], took: Duration) {
    let path = path.map_or_else(|| "(built-in posts)".into(), |p| p.display().to_string());
    tracing::info!(path = %sanitize(&path), posts = posts.len(), scan_ms = ms(took), "scanned posts");
    for post in posts {
        if let Some(err) = &post.error {
            let rel = post.rel_path.to_string_lossy();
            tracing::warn!(post = %sanitize(&rel), error = %sanitize(err), "frontmatter error");
        }
    }
}

/// Milliseconds, to the microsecond.
fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
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
/// `--print` hands its output to stdout in pieces of about this size.
const PRINT_CHUNK: usize = 1 << 16;

fn write_stdout(s: &str) -> Result<()> {
    write_to(&mut std::io::stdout().lock(), s).map(|_| ())
}

/// Writes and flushes `s`; false when the reader has gone (`| head`), which
/// is not an error.
fn write_to(out: &mut impl Write, s: &str) -> Result<bool> {
    match out.write_all(s.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(e).context("cannot write to stdout"),
        Ok(()) => Ok(true),
    }
}

/// `folio serve`: the configuration, the host key, then the server until a
/// signal.
fn serve(args: &ServeArgs) -> Result<ExitCode> {
    let started = logging::init_server(args.log_file.as_deref())?;
    if let Some(warning) = &started.warning {
        eprintln!("folio: warning: {}", sanitize(warning));
    }
    let paths = Paths::resolve();
    let mut problems = Vec::new();
    let config = base_config(args.path.as_deref(), &paths, &mut problems);
    let mut serve = config.serve.clone();
    apply_serve_flags(args, &mut serve);
    // Before anything is made (the host key): a typo here is one line.
    for from in &args.proxy_protocol {
        let trusted =
            ssh::Trusted::parse(from).map_err(|e| anyhow::anyhow!("--proxy-protocol: {e}"))?;
        serve.proxy_protocol.extend(trusted);
    }
    let (keymap, key_problems) = Keymap::default().with_overrides(&config.keys);
    problems.extend(key_problems);
    let look = if config.theme == AUTO {
        let (dark, light, _) = auto_pair(&paths, &mut problems);
        ssh::Look::Auto {
            dark: Box::new(dark),
            light: Box::new(light),
        }
    } else {
        ssh::Look::Fixed(Box::new(load_theme(
            &config.theme,
            &paths,
            "dark",
            &mut problems,
        )))
    };
    for p in &problems {
        eprintln!("folio: warning: {}", sanitize(p));
    }
    let scan_start = Instant::now();
    let posts = match &config.posts {
        Some(path) => posts::scan_with(path, posts::Links::Confined)?,
        None => posts::embedded(),
    };
    log_scan(config.posts.as_deref(), &posts, scan_start.elapsed());
    let key_path = match &serve.host_key {
        Some(p) => p.clone(),
        None => paths
            .data_dir
            .as_ref()
            .map(|d| d.join("ssh_host_ed25519_key"))
            .context("no home folder for the host key: give --host-key FILE")?,
    };
    let (key, created) = ssh::host_key(&key_path)?;
    let access = access(serve.authorized_keys.as_deref())?;
    let mut site = ssh::Site::new(posts, config.posts.clone(), keymap, look);
    site.color = config.color;
    site.max_width = config.max_width;
    site.wrap_code = config.wrap_code;
    site.images = config.images;
    site.mouse = config.mouse;
    site.hyperlinks = config.hyperlinks;
    let site = std::sync::Arc::new(site);
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .max_blocking_threads(2 * workers)
        .thread_name("folio-serve")
        .enable_all()
        .build()
        .context("cannot start the server's threads")?;
    let listen = serve.listen.clone();
    let options = ssh::ServeOptions {
        limits: serve.limits.clone(),
        access,
        proxy: serve.proxy_protocol.clone(),
    };
    let _watch = config
        .posts
        .as_deref()
        .and_then(|path| watch_served(path, &site));
    let observer = ssh::Observer::new(
        Duration::from_secs(args.summary_every.unwrap_or(60)),
        args.status.clone().or(serve.status_file.clone()),
    );
    let server = Served {
        key,
        key_path: &key_path,
        created,
        listen: &listen,
        options,
        observer,
        posts: config.posts.clone(),
    };
    runtime.block_on(run_server(site, server))?;
    Ok(ExitCode::SUCCESS)
}

/// Who may log in: anyone, or (private mode) the keys in the file.
fn access(authorized_keys: Option<&Path>) -> Result<ssh::Access> {
    Ok(match authorized_keys {
        Some(path) => {
            let keys = ssh::authorized_keys(path)?;
            for why in &keys.refused {
                eprintln!("folio: warning: {}", sanitize(why));
                tracing::warn!("{}", sanitize(why));
            }
            if keys.is_empty() {
                anyhow::bail!(
                    "{} lists no keys folio can honour: nobody could log in",
                    path.display()
                );
            }
            ssh::Access::Keys(keys)
        }
        None => ssh::Access::Public,
    })
}

/// What `run_server` starts with.
struct Served<'a> {
    key: russh::keys::PrivateKey,
    key_path: &'a Path,
    created: bool,
    listen: &'a str,
    options: ssh::ServeOptions,
    observer: ssh::Observer,
    /// The served folder (rescanned on SIGHUP).
    posts: Option<PathBuf>,
}

/// SIGHUP: the folder is scanned again (confined, as at start) and every
/// session gets the new list; posts whose files changed are read again.
/// For where the watcher hears nothing (some network and container
/// filesystems) or a deploy that wants the new posts now.
async fn reload_on_hangup(site: std::sync::Arc<ssh::Site>, folder: Option<PathBuf>) -> Result<()> {
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .context("cannot watch for SIGHUP")?;
    let stamps = |posts: &[Post]| -> std::collections::HashMap<PathBuf, (u64, Option<std::time::SystemTime>)> {
        posts
            .iter()
            .filter_map(|p| match &p.origin {
                posts::Origin::File(path) => std::fs::metadata(path)
                    .ok()
                    .map(|m| (p.rel_path.clone(), (m.len(), m.modified().ok()))),
                _ => None,
            })
            .collect()
    };
    let mut known = {
        let posts = site.posts();
        tokio::task::spawn_blocking(move || stamps(&posts))
            .await
            .unwrap_or_default()
    };
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            let Some(folder) = folder.clone() else {
                tracing::info!("SIGHUP: serving the built-in posts, nothing to reload");
                continue;
            };
            let started = Instant::now();
            let scanned = tokio::task::spawn_blocking(move || {
                posts::scan_with(&folder, posts::Links::Confined).map(|list| {
                    let now = stamps(&list);
                    (list, now)
                })
            })
            .await;
            match scanned {
                Ok(Ok((list, now))) => {
                    let changed: Vec<PathBuf> = now
                        .iter()
                        .filter(|(rel, stamp)| known.get(*rel).is_some_and(|old| old != *stamp))
                        .map(|(rel, _)| rel.clone())
                        .collect();
                    tracing::info!(
                        posts = list.len(),
                        changed = changed.len(),
                        scan_ms = started.elapsed().as_secs_f64() * 1000.0,
                        "SIGHUP: reloaded the posts"
                    );
                    known = now;
                    site.reload(Report::PostsChanged(list));
                    for rel in changed {
                        site.broadcast(Report::PostChanged(rel));
                    }
                }
                Ok(Err(e)) => {
                    tracing::warn!("SIGHUP: cannot reload: {}", sanitize(&e.to_string()));
                }
                Err(e) => tracing::warn!(error = %e, "SIGHUP: the reload failed"),
            }
        }
    });
    Ok(())
}

/// Live reload for every session; a folder that cannot be watched is
/// served as it was at start.
fn watch_served(path: &Path, site: &std::sync::Arc<ssh::Site>) -> Option<folio::watch::Watch> {
    match folio::watch::Watch::start_with(path, posts::Links::Confined) {
        Ok(watch) => {
            let site = site.clone();
            watch.subscribe(Box::new(move |action| {
                site.reload(action);
                true
            }));
            Some(watch)
        }
        Err(e) => {
            eprintln!("folio: warning: {}", sanitize(&e.to_string()));
            None
        }
    }
}

/// Binds, says where and with which key, and serves until SIGTERM or
/// SIGINT (exit 0 once every visitor had their goodbye); SIGHUP reloads the
/// posts.
async fn run_server(site: std::sync::Arc<ssh::Site>, served: Served<'_>) -> Result<()> {
    let Served {
        key,
        key_path,
        created,
        listen,
        options,
        observer,
        posts: folder,
    } = served;
    // Before the banner: a SIGHUP from then on reloads, and compares with
    // the files as they were at start.
    reload_on_hangup(site.clone(), folder).await?;
    let (listener, local) = ssh::bind(listen).await?;
    let fingerprint = ssh::fingerprint(key.public_key());
    let mut out = String::new();
    let count = site.posts().len();
    let _ = writeln!(
        out,
        "folio serve: {count} posts from {}",
        sanitize(&site.label)
    );
    let _ = writeln!(out, "listening on {local}");
    let _ = writeln!(
        out,
        "host key {fingerprint} ({}{})",
        key_path.display(),
        if created { ", created now" } else { "" }
    );
    let _ = match &options.access {
        ssh::Access::Public => writeln!(out, "anyone can read (public mode)"),
        ssh::Access::Keys(k) => writeln!(out, "private mode: {} authorized keys", k.len()),
    };
    if !options.proxy.is_empty() {
        let _ = writeln!(
            out,
            "behind a load balancer: PROXY headers from {}",
            options.proxy
        );
    }
    if let Some(status) = &observer.status {
        let _ = writeln!(out, "status file {}", status.display());
    }
    let host = if local.ip().is_loopback() || local.ip().is_unspecified() {
        "localhost".to_owned()
    } else {
        local.ip().to_string()
    };
    let _ = writeln!(out, "read with: ssh -t -p {} {host}", local.port());
    let _ = writeln!(out, "stop with Ctrl-C");
    write_stdout(&out)?;
    tracing::info!(addr = %local, host_key = %fingerprint, posts = count, "serving");
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot watch for SIGTERM")?;
    tokio::spawn(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
        let _ = stop_tx.send(true);
    });
    let stats = ssh::Stats::default();
    let observing = tokio::spawn(ssh::observe(
        site.clone(),
        stats.clone(),
        observer,
        stop_rx.clone(),
    ));
    ssh::serve(site, key, options, listener, stop_rx, stats).await;
    // The last summary and status, after the goodbyes.
    let _ = observing.await;
    let _ = writeln!(std::io::stderr(), "folio serve: stopped");
    Ok(())
}

fn apply_serve_flags(args: &ServeArgs, serve: &mut folio::config::Serve) {
    let limits = &mut serve.limits;
    if let Some(l) = &args.listen {
        serve.listen.clone_from(l);
    }
    if let Some(p) = &args.host_key {
        serve.host_key = Some(p.clone());
    }
    if let Some(p) = &args.authorized_keys {
        serve.authorized_keys = Some(p.clone());
    }
    if let Some(n) = args.max_sessions {
        limits.max_sessions = n as usize;
    }
    if let Some(n) = args.max_startups {
        limits.max_startups = n as usize;
    }
    if let Some(n) = args.max_per_ip {
        limits.max_per_ip = n as usize;
    }
    if let Some(n) = args.max_per_network {
        limits.max_per_network = n as usize;
    }
    if let Some(n) = args.connects_per_minute {
        limits.connects_per_minute = n as usize;
    }
    if let Some(n) = args.network_connects_per_minute {
        limits.network_connects_per_minute = n as usize;
    }
    if let Some(s) = args.handshake_timeout {
        limits.handshake_timeout = Duration::from_secs(s);
    }
    if let Some(s) = args.session_open_timeout {
        limits.session_open_timeout = Duration::from_secs(s);
    }
    if let Some(n) = args.screen_cells {
        limits.screen_cells = n as usize;
    }
    if let Some(s) = args.idle_timeout {
        limits.idle_timeout = Duration::from_secs(s);
    }
    if let Some(s) = args.max_session_time {
        limits.max_session_time = Duration::from_secs(s);
    }
}
