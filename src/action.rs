//! Everything a person can ask folio to do. Keys map to these through
//! [`crate::keymap`]; the app interprets them according to which pane or
//! overlay has focus, so `j` means "down" in the list, the reader and the
//! outline alike.

use serde::{Deserialize, Serialize};

use crate::document::Document;
use std::path::PathBuf;

use crate::posts::{Post, PostSource};
use crate::search::Hit;
use crate::state::Reading;
use crate::theme::Theme;

/// A user command, as named in the keymap and the help overlay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    Quit,
    Help,
    FocusNext,
    FocusPrev,
    Open,
    Back,
    Down,
    Up,
    HalfPageDown,
    HalfPageUp,
    PageDown,
    PageUp,
    Top,
    Bottom,
    NextPost,
    PrevPost,
    NextHeading,
    PrevHeading,
    Outline,
    ToggleList,
    /// Show the text as stored, without mojibake repair, or repaired again.
    ToggleRaw,
    /// Open every `<details>` block of the post, or fold them again.
    ToggleDetails,
    /// Mark the selected post read, or unread again (in the list).
    ToggleRead,
    /// Open the current post in `$VISUAL` / `$EDITOR`.
    Edit,
    /// Link mode: hints beside the links on screen; typing one follows it.
    FollowLink,
    /// Link mode, copying the chosen link's URL instead of following it.
    CopyLink,
    /// Back to the previous post and position.
    HistoryBack,
    /// Forward again after going back.
    HistoryForward,
    /// Search in the post (reader) or filter the list (list).
    Search,
    NextMatch,
    PrevMatch,
    /// Search the text of all posts.
    SearchAll,
    /// Bookmark the place on screen, or remove the bookmark there.
    ToggleBookmark,
    /// The list of bookmarks across the folder's posts.
    Bookmarks,
}

/// Where a command belongs in the help overlay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Focus,
    Moving,
    Headings,
    Links,
    Search,
    Bookmarks,
    Other,
}

impl Command {
    pub const ALL: [Command; 34] = [
        Command::FocusNext,
        Command::FocusPrev,
        Command::Open,
        Command::Back,
        Command::Down,
        Command::Up,
        Command::HalfPageDown,
        Command::HalfPageUp,
        Command::PageDown,
        Command::PageUp,
        Command::Top,
        Command::Bottom,
        Command::NextPost,
        Command::PrevPost,
        Command::NextHeading,
        Command::PrevHeading,
        Command::Outline,
        Command::ToggleList,
        Command::FollowLink,
        Command::CopyLink,
        Command::HistoryBack,
        Command::HistoryForward,
        Command::Search,
        Command::NextMatch,
        Command::PrevMatch,
        Command::SearchAll,
        Command::ToggleBookmark,
        Command::Bookmarks,
        Command::ToggleRaw,
        Command::ToggleDetails,
        Command::ToggleRead,
        Command::Edit,
        Command::Help,
        Command::Quit,
    ];

    /// The name used in the config file's `keys:` (`next_heading`).
    pub fn name(self) -> String {
        serde_yaml::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    /// One line for the help overlay.
    pub fn describe(self) -> &'static str {
        match self {
            Command::Quit => "quit",
            Command::Help => "show or hide this help",
            Command::FocusNext | Command::FocusPrev => "switch to the other pane",
            Command::Open => "open the selected post in the reader",
            Command::Back => "back to the list (closes an overlay)",
            Command::Down => "down one line / next post in the list",
            Command::Up => "up one line / previous post in the list",
            Command::HalfPageDown => "down half a page",
            Command::HalfPageUp => "up half a page",
            Command::PageDown => "down a page",
            Command::PageUp => "up a page",
            Command::Top => "to the top (first post)",
            Command::Bottom => "to the bottom (last post)",
            Command::NextPost => "open the next post in the list",
            Command::PrevPost => "open the previous post in the list",
            Command::NextHeading => "jump to the next heading",
            Command::PrevHeading => "jump to the previous heading",
            Command::Outline => "outline: the post's headings",
            Command::ToggleList => "hide or show the list",
            Command::ToggleRaw => "show text as stored / repaired (⚕)",
            Command::ToggleDetails => "open / fold the post's <details> blocks (▸)",
            Command::ToggleRead => "mark the post read / unread (• unread)",
            Command::Edit => "edit the post in $VISUAL / $EDITOR",
            Command::FollowLink => "link mode: hints on the links and code shown",
            Command::CopyLink => "link mode that copies a link's URL or a code block",
            Command::HistoryBack => "back to the previous post and place",
            Command::HistoryForward => "forward again (after going back)",
            Command::Search => "search in the post / filter the list",
            Command::NextMatch => "next match",
            Command::PrevMatch => "previous match",
            Command::SearchAll => "search the text of all posts",
            Command::ToggleBookmark => "bookmark the place on screen / remove it",
            Command::Bookmarks => "the bookmarks of all posts",
        }
    }

    pub fn group(self) -> Group {
        match self {
            Command::FocusNext | Command::FocusPrev | Command::Open | Command::Back => Group::Focus,
            Command::NextHeading | Command::PrevHeading | Command::Outline => Group::Headings,
            Command::FollowLink
            | Command::CopyLink
            | Command::HistoryBack
            | Command::HistoryForward => Group::Links,
            Command::Search | Command::NextMatch | Command::PrevMatch | Command::SearchAll => {
                Group::Search
            }
            Command::ToggleBookmark | Command::Bookmarks => Group::Bookmarks,
            Command::Quit
            | Command::Help
            | Command::ToggleList
            | Command::ToggleRaw
            | Command::ToggleDetails
            | Command::ToggleRead
            | Command::Edit => Group::Other,
            _ => Group::Moving,
        }
    }

    /// Whether a vim-style count prefix (`5j`) repeats or parameterises it.
    pub fn takes_count(self) -> bool {
        matches!(
            self,
            Command::Down
                | Command::Up
                | Command::HalfPageDown
                | Command::HalfPageUp
                | Command::PageDown
                | Command::PageUp
                | Command::Bottom
                | Command::NextPost
                | Command::PrevPost
                | Command::NextHeading
                | Command::PrevHeading
        )
    }
}

/// An edit to the open text prompt (search or filter). While a prompt is
/// open, keys type into it instead of running commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    Insert(char),
    Backspace,
    /// Delete the word before the cursor (`Ctrl-w`).
    DeleteWord,
    /// Clear the prompt (`Ctrl-u`).
    Clear,
    /// Keep what was typed and close the prompt (`Enter`; in the search
    /// across all posts, open the selected result).
    Accept,
    /// Drop what was typed and close the prompt (`Esc`).
    Cancel,
    /// The next match, post or result (`↓`, `Ctrl-n`).
    Next,
    /// The previous one (`↑`, `Ctrl-p`).
    Prev,
}

/// Which way the mouse wheel turned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wheel {
    Up,
    Down,
}

/// What a person asks for: keys (through the keymap), the mouse, and the
/// terminal's size. Runner reports are [`Report`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Command(Command),
    /// A digit of a count prefix.
    Digit(u8),
    /// The terminal now has this many columns and rows.
    Resize(u16, u16),
    /// The wheel turned with the pointer at (column, row).
    Scroll(Wheel, u16, u16),
    /// A click at (column, row).
    Click(u16, u16),
    /// A letter typed in link mode (part of a hint).
    Hint(char),
    /// Typing into the open prompt.
    Edit(Edit),
}

/// What a runner tells the app: finished work it asked for (loads,
/// layouts, searches), what changed on disk, and messages. Never clears
/// the status bar's message or counts as the person doing something.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    /// The runner read the post with this [`crate::posts::Post::rel_path`]
    /// (see [`crate::app::App::pending_load`]).
    Loaded(PathBuf, Result<PostSource, String>),
    /// Use this theme from now on (the terminal turned out to have a light
    /// background, say). Layout does not depend on it, so nothing moves.
    SetTheme(Box<Theme>),
    /// Draw pictures with this protocol, for a terminal with cells this
    /// many pixels wide and high (the terminal answered, or the setting
    /// forces one).
    Graphics(crate::graphics::Graphics, (u16, u16)),
    /// The final layout of post `key` (see
    /// [`crate::app::App::pending_layout`]), made for its quick layout number
    /// `layout`; it replaces that layout if it is still current.
    LaidOut {
        key: PathBuf,
        layout: u64,
        doc: Box<Document>,
    },
    /// A picture the app asked for (see [`crate::app::App::pending_pictures`]),
    /// decoded or not.
    Picture(crate::picture::PictureKey, crate::picture::Decoded),
    /// The folder was scanned again: this is the list now (sorted). The
    /// selection stays on the same post.
    PostsChanged(Vec<Post>),
    /// Posts of the folder being read in the background at start: merged
    /// into the list in its order, the selection staying on the post the
    /// person chose. A batch that is not `done` (even an empty one, sent
    /// first) says more are coming: until the last one an empty list means
    /// "still reading", not "no posts".
    PostsRead { posts: Vec<Post>, done: bool },
    /// The file of the post with this `rel_path` changed: read it again,
    /// keeping the reading position on the same text.
    PostChanged(PathBuf),
    /// What was remembered of this folder's posts (see [`crate::state`]):
    /// read marks and positions, and the post to reopen. Turns on read
    /// marking; without it the app remembers nothing.
    RestoreReading(Box<Reading>),
    /// A message for the status bar from the runner (a failed save, an
    /// opener that failed).
    Notify(String),
    /// Results of the search across all posts number `generation` (see
    /// [`crate::app::App::pending_search`]): `hits` found in the next
    /// `scanned` posts; `done` when the search is over. Results of an older
    /// search are dropped.
    SearchResults {
        generation: u64,
        hits: Vec<Hit>,
        scanned: usize,
        done: bool,
    },
}

/// Something the app wants done outside it; the runner drains them with
/// [`crate::app::App::take_effects`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Open this file in the person's editor (at this 1-based line of
    /// the file, the one at the top of the reader, when the post has been
    /// read), then report [`Report::PostChanged`] for `key`.
    Edit {
        key: PathBuf,
        file: PathBuf,
        line: Option<usize>,
    },
    /// Open this URL (http, https or mailto), or a picture's file, with
    /// the system's opener.
    OpenUrl(String),
    /// Put this text on the clipboard of the person's terminal (OSC 52).
    Copy(String),
}

impl From<Command> for Action {
    fn from(c: Command) -> Self {
        Action::Command(c)
    }
}
