//! folio: a terminal reader for folders of Markdown posts.
//!
//! The crate is flat, one module per noun, and the seams between them are the
//! design:
//! - [`posts`] finds post files and reads their frontmatter; no terminal.
//! - [`markdown`] is a pure function from (source, width, theme) to a
//!   [`document::Document`] of wrapped, styled lines; no I/O.
//! - [`pieces`] cuts a long body where its parts parse alone, so the parser
//!   never holds a tree of a whole 10 MB post.
//! - [`sanitize`] is the one gate post-derived text passes before display.
//! - [`search`] finds text: in-post search, the list's fuzzy filter and
//!   matching lines for the search across all posts; pure.
//! - [`mojibake`] repairs text once mis-decoded as Windows-1252; pure.
//! - [`theme`] holds the styles, read from the embedded `themes/` files.
//! - [`highlight`] wraps syntect, loaded lazily once per process.
//! - [`help`] is what the `?` overlay lists, made from the keymap.
//! - [`keymap`] and [`action`]: our own key type and the commands keys map to.
//! - [`app`] is the state and `update(Action)`: no I/O, no clock, no terminal.
//! - [`ui`] draws an [`app::App`] into a ratatui frame, read-only.
//! - [`session`] is one reader session for any transport: bytes, sizes and
//!   reports in; work to an executor and effects to a host out; frames out.
//!   It is the only caller of [`ui::draw`] and of the app's outbox.
//! - [`work`] is the slow work the app asks for (loads, layouts, searches)
//!   and the executors that do it: inline for tests, threads locally.
//! - [`term`] is the local runner, a thin shell around a session: raw mode,
//!   signals, the input thread, the editor hand-over; the only module that
//!   touches crossterm (enforced in `.clippy.toml`).
//! - [`editor`] runs `$VISUAL`/`$EDITOR` on a post (the runner hands over
//!   the terminal).
//! - [`ansi`] writes styled lines as SGR text for `--print`.
//! - [`wire`] is the backend that writes frames to a terminal in few bytes
//!   (terminal scrolling, synchronized output), with OSC 8 hyperlinks and
//!   OSC 52 copies.
//! - [`watch`] watches the posts folder and reports changes as actions
//!   (live reload), to any number of runners.
//! - [`logging`] writes the opt-in log file (`FOLIO_LOG`, `--log-file`),
//!   never to the terminal.
//! - [`store`] writes folio's own files atomically.
//! - [`state`] is the reading state (positions, read marks) and its writer
//!   thread, which merges into the file under a lock.
//! - [`ssh`] is the `folio serve` runner: one session per SSH visitor,
//!   bounded by [`limits`].
//! - [`input`] turns a terminal's bytes into keys, the mouse and replies,
//!   for both runners.
//!
//! folio is Unix-only (Linux, macOS, the BSDs): the local runner is built on
//! Unix terminals (termios raw mode, `/dev/tty`, `poll`, SIGWINCH and SIGHUP,
//! process groups) and folio's own files on Unix permissions.

// One clear sentence before the compiler lists what else a Windows build
// lacks.
#[cfg(not(unix))]
compile_error!(
    "folio runs on Unix-like systems only (Linux, macOS, the BSDs): its terminal reader is built on Unix terminals and signals. On Windows, build and run it inside WSL."
);

pub mod action;
pub mod ansi;
pub mod app;
pub mod color;
pub mod config;
pub mod document;
pub mod editor;
pub mod graphics;
pub mod help;
pub mod highlight;
pub mod input;
pub mod keymap;
pub mod limits;
pub mod logging;
pub mod markdown;
pub mod mojibake;
pub mod paths;
pub mod picture;
pub mod pieces;
pub mod posts;
pub mod sanitize;
pub mod search;
pub mod session;
pub mod ssh;
pub mod state;
pub mod store;
// The Unix terminal itself; without it a Windows build reports only the
// sentence above.
#[cfg(unix)]
pub mod term;
pub mod theme;
pub mod ui;
pub mod watch;
pub mod wire;
pub mod work;
