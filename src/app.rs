//! The reader's state and the one place it changes: [`App::update`].
//!
//! No I/O, no clock, no terminal library: a runner (local terminal, a test, an
//! SSH session) feeds [`Action`]s in, reads files when [`App::pending_load`]
//! asks, and draws with [`crate::ui::draw`] when [`App::take_dirty`] says the
//! screen changed.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::action::{Action, Command, Edit, Effect, Report, Wheel};
use crate::document::{Document, Link};
use crate::keymap::{Key, KeyCode, Keymap};
use crate::markdown;
use crate::mojibake;
use crate::posts::{Post, PostSource};
use crate::sanitize::{sanitize, wrap_words};
use crate::search::{self, Hit, MatchStart, Query, SearchJob, SearchText, Target};
use crate::state::{Mark, Reading, ReadingChanges};
use crate::theme::Theme;

/// Terminals narrower than this show one pane at a time.
pub const NARROW: u16 = 80;
/// Lines the mouse wheel scrolls per notch.
const WHEEL_LINES: usize = 3;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The widest the reader's text gets, however wide the terminal.
    pub max_width: u16,
    /// Shown on the empty screen: where folio looked for posts.
    pub source_label: String,
    /// Wrap long code lines rather than cut them.
    pub wrap_code: bool,
    /// `SSH_CONNECTION` is set or this is a `folio serve` session: links are
    /// copied with OSC 52 instead of opened, `e` is refused.
    pub remote: bool,
    /// Make links real hyperlinks (OSC 8) where the terminal can show them.
    pub hyperlinks: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_width: 100,
            source_label: String::new(),
            wrap_code: true,
            remote: false,
            hyperlinks: true,
        }
    }
}

/// The letters hints are made of: the home row, none of them `y` (which
/// switches link mode to copying) or `Esc`.
pub const HINT_KEYS: &str = "asdfghjkl";

/// Link mode: which hint letters have been typed, and whether the chosen
/// link is followed or its URL copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LinkMode {
    pub copy: bool,
    typed: [u8; 3],
    len: u8,
}

impl LinkMode {
    /// The part of a hint typed so far.
    pub fn typed(&self) -> &str {
        std::str::from_utf8(&self.typed[..usize::from(self.len)]).unwrap_or("")
    }
}

/// A hint shown in link mode: its label, at a screen position, for link
/// `link` of the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    pub label: String,
    pub link: usize,
    pub x: u16,
    pub y: u16,
}

/// A place to go back or forward to: a post, and the source byte offset of
/// the text at the top of the reader, which survives a relayout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub post: PathBuf,
    pub offset: usize,
}

/// Where the reader goes once the post being opened is laid out.
#[derive(Debug, Clone, PartialEq, Eq)]
enum JumpTo {
    Anchor(String),
    Offset(usize),
}

/// What a link points at.
#[derive(Debug, Clone, PartialEq, Eq)]
enum LinkTarget {
    /// A heading of the current post.
    Anchor(String),
    /// Another post (path as written, resolved later), maybe a heading.
    Post(String, Option<String>),
    External(String),
    Refused(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    List,
    Reader,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlay {
    Help,
    /// The heading outline, with the highlighted entry.
    Outline {
        selected: usize,
    },
    /// Link mode: hints beside the links on screen.
    Links(LinkMode),
    /// The search across all posts: its prompt and results.
    SearchAll,
}

/// A text prompt that has the keyboard: keys type into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    /// `/` in the reader: search in the post.
    Find,
    /// `/` in the list: filter the posts.
    Filter,
    /// `S`: search the text of all posts.
    SearchAll,
}

/// Identifies one layout of one post: (layout number, complete). Layout
/// numbers are never reused, so the number alone names the post too.
type ShownLayout = (u64, bool);

/// The in-post search.
#[derive(Debug, Default)]
pub struct Find {
    /// As typed; empty when no search is active.
    pub text: String,
    query: Option<Query>,
    /// Start bytes in the [`SearchText`] of the layout `layout`.
    matches: Vec<MatchStart>,
    current: Option<usize>,
    /// The reader's top line when the prompt opened, restored by `Esc`.
    origin_top: usize,
    layout: Option<ShownLayout>,
    /// Matches of the texts typed on the way to this one (in this layout),
    /// so `Backspace` costs nothing and a longer text only re-checks the
    /// matches of a shorter one: a keystroke stays fast on a 10 MB post.
    history: Vec<(String, Query, Vec<MatchStart>)>,
}

/// At most this many match positions are kept in [`Find::history`].
const FIND_HISTORY: usize = 4 << 20;

/// The list filter.
#[derive(Debug)]
pub struct ListFilter {
    /// As typed.
    pub text: String,
    pub parsed: search::Filter,
    /// Post indices shown, best match first.
    view: Vec<usize>,
    /// The selection when the filter was opened, restored by `Esc`.
    before: usize,
    /// The views of the texts typed on the way to this one, so that
    /// `Backspace` costs nothing and a longer text only re-scores the posts
    /// a shorter one let through.
    history: Vec<(String, search::Filter, Vec<usize>)>,
}

/// The search across all posts.
#[derive(Debug, Default)]
pub struct SearchAll {
    /// As typed.
    pub text: String,
    /// Bumped on every change of `text`; results carry it.
    generation: u64,
    /// The generation last handed to the runner.
    asked: u64,
    pub results: Vec<Hit>,
    pub selected: usize,
    /// Posts searched so far, of `total`.
    pub scanned: usize,
    pub total: usize,
    pub done: bool,
}

impl SearchAll {
    /// More results were found than are kept ([`search::MAX_RESULTS`]).
    pub fn capped(&self) -> bool {
        self.results.len() >= search::MAX_RESULTS
    }
}

/// Post-derived text (a title, an excerpt) as shown: mojibake repaired unless
/// `raw`, then made safe for the terminal. The filter matches this text, so
/// the highlighted characters are the ones on screen.
pub fn shown_text(raw: bool, s: &str) -> Cow<'_, str> {
    if raw {
        return sanitize(s);
    }
    match mojibake::repair(s) {
        Cow::Borrowed(b) => sanitize(b),
        Cow::Owned(o) => Cow::Owned(sanitize(&o).into_owned()),
    }
}

/// Where each part of the screen goes at the current size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Panes {
    pub list: Option<Rect>,
    /// The whole reader pane.
    pub reader: Option<Rect>,
    /// The text column inside the reader: at most `max_width` wide, centred.
    pub text: Rect,
    pub status: Rect,
}

/// A post once the runner has read it.
#[derive(Debug)]
pub enum Loaded {
    /// Requested from the runner, not yet answered.
    Loading,
    Failed(String),
    Ready {
        source: PostSource,
        doc: Document,
        /// Laid out from the text as stored, without mojibake repair.
        raw: bool,
        /// Mojibake was repaired in what `doc` shows.
        repaired: bool,
        /// `doc` is the final layout. Until then it is a quick one (code not
        /// highlighted; of a long post only the start) and a [`LayoutJob`]
        /// makes the final one.
        complete: bool,
        /// `doc` covers the whole post (a quick layout of a long one covers
        /// only its start).
        whole: bool,
        /// Which layout this is: a job's result replaces exactly the layout
        /// it was made for, never a newer one (other width, raw setting or
        /// theme).
        layout: u64,
    },
}

/// Laying out a post in full, with its code highlighted: syntect and the
/// length of a long post are the slow parts of layout, so the runner does
/// this off the key path and reports back with [`Report::LaidOut`]. A quick
/// layout shows meanwhile: the same lines without highlighting, and of a long
/// post only its start.
#[derive(Debug, Clone)]
pub struct LayoutJob {
    /// The post's [`Post::rel_path`].
    pub key: PathBuf,
    layout: u64,
    width: u16,
    raw: bool,
    post: Post,
    source: PostSource,
    theme: Theme,
    wrap_code: bool,
}

/// Everything a [`LayoutJob`]'s result depends on besides the post's text:
/// jobs with equal keys lay out alike, so a runner may share one result
/// between sessions (`folio serve` does).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LayoutKey {
    pub rel_path: std::path::PathBuf,
    pub width: u16,
    pub raw: bool,
    pub wrap_code: bool,
    pub theme: String,
    pub depth: crate::color::Depth,
}

impl LayoutJob {
    pub fn cache_key(&self) -> LayoutKey {
        LayoutKey {
            rel_path: self.post.rel_path.clone(),
            width: self.width,
            raw: self.raw,
            wrap_code: self.wrap_code,
            theme: self.theme.name.clone(),
            depth: self.theme.depth,
        }
    }

    /// The report for `doc`, a layout made by a job with an equal key.
    pub fn done(&self, doc: Box<Document>) -> Report {
        Report::LaidOut {
            key: self.key.clone(),
            layout: self.layout,
            doc,
        }
    }

    /// The final layout, as a report for [`App::report`].
    pub fn run(&self) -> Report {
        let (doc, _) = lay_out(
            &self.post,
            &self.source,
            self.width,
            &self.theme,
            markdown::RenderOptions {
                wrap_code: self.wrap_code,
                highlight: true,
            },
            self.raw,
        );
        Report::LaidOut {
            key: self.key.clone(),
            layout: self.layout,
            doc: Box::new(doc),
        }
    }
}

/// The reader's position in one post: the top line at the current layout,
/// and the source offset it shows, which survives a relayout.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Position {
    top: usize,
    anchor: usize,
    /// The text that was at `anchor` in an older version of the post (the
    /// file changed, or the position comes from a saved reading state): when
    /// the post is next laid out, the anchor moves to where that text is now.
    relocate: Option<String>,
}

/// Everything the screen depends on, compared before and after an update so
/// that a key that changes nothing costs no redraw.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Fingerprint {
    size: (u16, u16),
    focus: Focus,
    overlay: Option<Overlay>,
    list_hidden: bool,
    selected: usize,
    list_top: usize,
    top: usize,
    count: Option<usize>,
    message: Option<String>,
    layout_width: Option<u16>,
    loaded: Option<u8>,
    raw: bool,
    quit: bool,
    help_top: usize,
}

#[derive(Debug)]
pub struct App {
    pub(crate) posts: Vec<Post>,
    pub(crate) theme: Theme,
    pub(crate) keymap: Keymap,
    pub(crate) options: Options,
    pub(crate) size: (u16, u16),
    pub(crate) focus: Focus,
    pub(crate) overlay: Option<Overlay>,
    pub(crate) list_hidden: bool,
    pub(crate) selected: usize,
    pub(crate) list_top: usize,
    pub(crate) count: Option<usize>,
    pub(crate) message: Option<String>,
    pub(crate) raw: bool,
    /// Per post, by [`Post::rel_path`]: the list can change under the app
    /// (a reload), so list indices are no key.
    loaded: HashMap<PathBuf, Loaded>,
    /// The last highlight job handed out: (post, width, raw).
    layout_asked: Option<u64>,
    /// Numbers layouts for [`Loaded::Ready::layout`].
    layouts_made: u64,
    positions: HashMap<PathBuf, Position>,
    /// Reading state is kept (a runner restored it): read marks show, and
    /// changes are handed out by [`App::take_reading_changes`].
    tracking: bool,
    read: std::collections::HashSet<PathBuf>,
    /// Posts whose mark changed since the runner last asked.
    marks_changed: std::collections::BTreeSet<PathBuf>,
    /// The post last open in the reader, and whether that changed.
    last: Option<PathBuf>,
    last_changed: bool,
    /// The repaired text of the post a snippet was last taken from, by
    /// layout number: saving a position must not repair a long post anew
    /// for every scroll.
    repaired_body: Option<(PathBuf, u64, String)>,
    /// Places to go back to, the latest last; and forward to, after going
    /// back.
    back: Vec<Place>,
    forward: Vec<Place>,
    /// A jump waiting for its post to be laid out: (post, where).
    jump: Option<(PathBuf, JumpTo)>,
    effects: Vec<Effect>,
    /// The prompt that has the keyboard (the search across all posts has it
    /// while its overlay is open).
    prompt: Option<Prompt>,
    find: Find,
    /// The current layout's text for searching, made once per layout.
    search_text: Option<(ShownLayout, SearchText)>,
    filter: Option<ListFilter>,
    search_all: SearchAll,
    /// After opening a search result: the post and the body offset to show
    /// once it is laid out.
    result_jump: Option<(PathBuf, usize)>,
    quit: bool,
    dirty: bool,
    /// First line of the help overlay shown (it scrolls when taller than the
    /// terminal).
    help_top: usize,
    scan: Scan,
}

/// The folder read in the background at start (see [`Report::PostsRead`]).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
enum Scan {
    /// Not reading: the list is complete.
    #[default]
    Idle,
    Reading {
        /// The person has moved, opened or typed something: from then on
        /// the selection stays on its post as the list grows. Untouched, it
        /// stays on the first (newest) post, so a start that has finished
        /// looks like one that read the whole folder first.
        touched: bool,
        /// The post to reopen (reading state) when it arrives, unless the
        /// person has chosen another by then.
        last: Option<PathBuf>,
    },
    /// A reload replaced the list while it was being read: the batches
    /// still to come are older news.
    Superseded,
}

impl App {
    pub fn new(posts: Vec<Post>, theme: Theme, keymap: Keymap, options: Options) -> App {
        App {
            posts,
            theme,
            keymap,
            options,
            size: (80, 24),
            focus: Focus::List,
            overlay: None,
            list_hidden: false,
            selected: 0,
            list_top: 0,
            count: None,
            message: None,
            raw: false,
            loaded: HashMap::new(),
            layout_asked: None,
            layouts_made: 0,
            positions: HashMap::new(),
            tracking: false,
            read: std::collections::HashSet::new(),
            marks_changed: std::collections::BTreeSet::new(),
            last: None,
            last_changed: false,
            repaired_body: None,
            back: Vec::new(),
            forward: Vec::new(),
            jump: None,
            effects: Vec::new(),
            prompt: None,
            find: Find::default(),
            search_text: None,
            filter: None,
            search_all: SearchAll::default(),
            result_jump: None,
            quit: false,
            dirty: true,
            help_top: 0,
            scan: Scan::Idle,
        }
    }

    /// While the folder is still being read in the background: how many
    /// posts have arrived.
    pub fn scanning(&self) -> Option<usize> {
        matches!(self.scan, Scan::Reading { .. }).then_some(self.posts.len())
    }

    // --- what runners and the UI read -------------------------------------

    pub fn posts(&self) -> &[Post] {
        &self.posts
    }

    pub fn theme(&self) -> &Theme {
        &self.theme
    }

    pub fn keymap(&self) -> &Keymap {
        &self.keymap
    }

    pub fn focus(&self) -> Focus {
        self.focus
    }

    /// First line of the help overlay on screen.
    pub fn help_top(&self) -> usize {
        self.help_top
    }

    /// Scrolls the help overlay, which only moves when it is taller than the
    /// terminal.
    fn help_scroll(&mut self, cmd: Command, n: usize) {
        let total = crate::help::line_count(&crate::help::sections(&self.keymap));
        let shown = usize::from(self.size.1.saturating_sub(2)).max(1);
        let last = total.saturating_sub(shown);
        let page = shown.saturating_sub(1).max(1);
        self.help_top = match cmd {
            Command::Down => self.help_top.saturating_add(n),
            Command::Up => self.help_top.saturating_sub(n),
            Command::HalfPageDown => self.help_top.saturating_add(n * (page / 2).max(1)),
            Command::HalfPageUp => self.help_top.saturating_sub(n * (page / 2).max(1)),
            Command::PageDown => self.help_top.saturating_add(n * page),
            Command::PageUp => self.help_top.saturating_sub(n * page),
            Command::Top => 0,
            Command::Bottom => last,
            _ => self.help_top,
        }
        .min(last);
    }

    pub fn overlay(&self) -> Option<Overlay> {
        self.overlay
    }

    pub fn selected(&self) -> Option<usize> {
        (!self.posts.is_empty()).then_some(self.selected)
    }

    pub fn selected_post(&self) -> Option<&Post> {
        self.posts.get(self.selected)
    }

    pub fn list_hidden(&self) -> bool {
        self.list_hidden
    }

    pub fn should_quit(&self) -> bool {
        self.quit
    }

    pub fn pending_count(&self) -> Option<usize> {
        self.count
    }

    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// Showing text as stored rather than with mojibake repaired.
    pub fn raw(&self) -> bool {
        self.raw
    }

    /// The selected post is shown with mojibake repaired.
    pub fn repaired(&self) -> bool {
        matches!(self.current(), Some(Loaded::Ready { repaired: true, .. }))
    }

    /// The selected post's state, if it has been requested.
    pub fn current(&self) -> Option<&Loaded> {
        self.loaded.get(self.selected_key()?)
    }

    /// The selected post's [`Post::rel_path`].
    fn selected_key(&self) -> Option<&Path> {
        self.posts.get(self.selected).map(|p| p.rel_path.as_path())
    }

    fn post_by_key(&self, key: &Path) -> Option<&Post> {
        self.posts.iter().find(|p| p.rel_path == key)
    }

    /// The selected post's layout, when it is ready.
    pub fn document(&self) -> Option<&Document> {
        match self.current() {
            Some(Loaded::Ready { doc, .. }) => Some(doc),
            _ => None,
        }
    }

    /// First visible line of the reader.
    pub fn reader_top(&self) -> usize {
        self.selected_key()
            .and_then(|k| self.positions.get(k))
            .map_or(0, |p| p.top)
    }

    /// Whether the list marks `post` unread (only when reading state is
    /// kept).
    pub fn is_unread(&self, post: &Post) -> bool {
        self.tracking && !self.read.contains(&post.rel_path)
    }

    /// Side effects asked for since the last call (edit a post, open a URL,
    /// copy to the clipboard), for the runner to carry out in order.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    /// What changed in the reading state since the last call, for the
    /// runner to save; `None` when nothing did.
    pub fn take_reading_changes(&mut self) -> Option<ReadingChanges> {
        if self.marks_changed.is_empty() && !self.last_changed {
            return None;
        }
        let keys = std::mem::take(&mut self.marks_changed);
        let posts = keys
            .into_iter()
            .map(|key| {
                let mark = self.mark(&key);
                (key, mark)
            })
            .collect();
        let last = if std::mem::take(&mut self.last_changed) {
            self.last.clone()
        } else {
            None
        };
        Some(ReadingChanges { posts, last })
    }

    /// The mark to save for post `key`: the position anchored by source
    /// offset and the text there.
    fn mark(&mut self, key: &Path) -> Mark {
        let read = self.read.contains(key);
        let Some(pos) = self.positions.get(key) else {
            return Mark {
                read,
                ..Mark::default()
            };
        };
        let snippet = match (&pos.relocate, self.loaded.get(key)) {
            (Some(s), _) => s.clone(),
            // Unrepaired, the text shown is the text stored: no need to run
            // the repair over the whole post for every saved scroll.
            (
                None,
                Some(Loaded::Ready {
                    source,
                    raw,
                    repaired,
                    ..
                }),
            ) if *raw || !*repaired => snippet_at(source.body(), pos.anchor),
            // Repaired: the repair runs once per layout, not per scroll.
            (None, Some(Loaded::Ready { source, layout, .. })) => {
                let fresh = self
                    .repaired_body
                    .as_ref()
                    .is_some_and(|(k, l, _)| k == key && l == layout);
                if !fresh {
                    let body = shown_body(source, false).into_owned();
                    self.repaired_body = Some((key.to_path_buf(), *layout, body));
                }
                self.repaired_body
                    .as_ref()
                    .map(|(_, _, body)| snippet_at(body, pos.anchor))
                    .unwrap_or_default()
            }
            _ => String::new(),
        };
        Mark {
            read,
            offset: pos.anchor,
            snippet,
        }
    }

    /// The places `H` and `L` go to: (back, latest last; forward, next last).
    pub fn history(&self) -> (&[Place], &[Place]) {
        (&self.back, &self.forward)
    }

    /// The hints link mode shows, for the links whose text is on screen.
    /// Labels are all the same length, so none is a prefix of another.
    pub fn hints(&self) -> Vec<Hint> {
        let Some(doc) = self.document() else {
            return Vec::new();
        };
        if self.panes().reader.is_none() {
            return Vec::new();
        }
        let text = self.panes().text;
        let top = self.reader_top();
        let bottom = top + usize::from(text.height);
        let on_screen = |line: usize| (top..bottom).contains(&line);
        let mut spots: Vec<(usize, usize, usize)> = Vec::new();
        for (i, link) in doc.links_on(top..bottom) {
            let spot = if on_screen(link.line) {
                Some((link.line, link.column))
            } else {
                link.areas
                    .iter()
                    .find(|a| on_screen(a.line))
                    .map(|a| (a.line, a.start))
            };
            // An image inside a link starts where the link does: one hint,
            // the outer link's, which comes first.
            if let Some((line, col)) = spot
                && !spots.iter().any(|&(_, l, c)| (l, c) == (line, col))
            {
                spots.push((i, line, col));
            }
            if spots.len() == MAX_HINTS {
                break;
            }
        }
        let labels = hint_labels(spots.len());
        spots
            .into_iter()
            .zip(labels)
            .map(|((link, line, col), label)| Hint {
                label,
                link,
                x: text.x
                    + u16::try_from(col)
                        .unwrap_or(u16::MAX)
                        .min(text.width.saturating_sub(1)),
                y: text.y + u16::try_from(line - top).unwrap_or(0),
            })
            .collect()
    }

    // --- search and filter, for the UI ------------------------------------

    /// The prompt that has the keyboard, if any.
    pub fn prompt(&self) -> Option<Prompt> {
        if self.overlay == Some(Overlay::SearchAll) {
            Some(Prompt::SearchAll)
        } else {
            self.prompt
        }
    }

    /// The in-post search: its text is empty when none is active.
    pub fn find(&self) -> &Find {
        &self.find
    }

    /// The in-post search's position: (current match, 1-based; matches),
    /// once the post is laid out.
    pub fn find_count(&self) -> Option<(Option<usize>, usize)> {
        if self.find.text.is_empty() || self.find.layout.is_none() {
            return None;
        }
        Some((self.find.current.map(|c| c + 1), self.find.matches.len()))
    }

    /// The matches on document line `line` of the layout on screen, as
    /// column ranges, and whether each is the current one.
    pub fn find_highlights(&self, line: usize) -> Vec<(Range<usize>, bool)> {
        let (Some(key), Some(query)) = (self.current_key(), &self.find.query) else {
            return Vec::new();
        };
        let Some((text_key, text)) = &self.search_text else {
            return Vec::new();
        };
        if self.find.layout != Some(key) || *text_key != key || self.find.text.is_empty() {
            return Vec::new();
        }
        text.line_matches(line, &self.find.matches, query.needle.len())
            .into_iter()
            .map(|(i, cols)| (cols, Some(i) == self.find.current))
            .collect()
    }

    /// The list filter, while one is active.
    pub fn filter(&self) -> Option<&ListFilter> {
        self.filter.as_ref()
    }

    /// How many posts the list shows (all of them, or those the filter
    /// lets through).
    pub fn view_len(&self) -> usize {
        self.filter
            .as_ref()
            .map_or(self.posts.len(), |f| f.view.len())
    }

    /// The post shown at list position `pos`.
    pub fn view_at(&self, pos: usize) -> Option<usize> {
        match &self.filter {
            Some(f) => f.view.get(pos).copied().filter(|&i| i < self.posts.len()),
            None => (pos < self.posts.len()).then_some(pos),
        }
    }

    /// The selected post's position in the list as shown.
    pub fn view_pos(&self) -> Option<usize> {
        match &self.filter {
            Some(f) => f.view.iter().position(|&i| i == self.selected),
            None => (self.selected < self.posts.len()).then_some(self.selected),
        }
    }

    /// The search across all posts: query, results, progress.
    pub fn search_all(&self) -> &SearchAll {
        &self.search_all
    }

    /// Work for the runner: the search across all posts, once per change
    /// of its query. The runner reads each target and reports back with
    /// [`Report::SearchResults`] carrying the job's generation; results of
    /// an older generation are dropped, so the runner can abandon a job as
    /// soon as a newer one arrives.
    pub fn pending_search(&mut self) -> Option<SearchJob> {
        let sa = &mut self.search_all;
        if sa.asked == sa.generation || sa.text.is_empty() {
            return None;
        }
        sa.asked = sa.generation;
        Some(SearchJob {
            generation: sa.generation,
            query: Query::new(&sa.text),
            targets: self
                .posts
                .iter()
                .enumerate()
                .map(|(index, p)| Target {
                    index,
                    rel_path: p.rel_path.clone(),
                    origin: p.origin.clone(),
                })
                .collect(),
        })
    }

    /// True once after anything visible changed; the runner redraws then.
    pub fn take_dirty(&mut self) -> bool {
        std::mem::take(&mut self.dirty)
    }

    /// A post the runner should read and report back with
    /// [`Report::Loaded`] under its [`Post::rel_path`]. Each post is asked
    /// for once (again after its file changed).
    pub fn pending_load(&mut self) -> Option<Post> {
        let post = self.posts.get(self.selected)?;
        if self.loaded.contains_key(&post.rel_path) {
            return None;
        }
        self.loaded.insert(post.rel_path.clone(), Loaded::Loading);
        Some(post.clone())
    }

    /// Rows each list entry takes: a second, dim excerpt line when the pane
    /// is tall enough for that to help rather than crowd.
    pub fn entry_rows(&self) -> usize {
        if self.panes().list.is_some_and(|r| r.height >= 12) {
            2
        } else {
            1
        }
    }

    pub fn is_narrow(&self) -> bool {
        self.size.0 < NARROW
    }

    /// The screen's division at the current size and focus.
    pub fn panes(&self) -> Panes {
        let (w, h) = self.size;
        let main_h = h.saturating_sub(1);
        let status = Rect::new(0, main_h, w, h.min(1));
        let main = Rect::new(0, 0, w, main_h);
        let (list, reader) = if self.posts.is_empty() {
            (None, Some(main))
        } else if self.is_narrow() {
            match self.focus {
                Focus::List => (Some(main), None),
                Focus::Reader => (None, Some(main)),
            }
        } else if self.list_hidden {
            (None, Some(main))
        } else {
            let lw = (w / 3).clamp(24, 48);
            (
                Some(Rect::new(0, 0, lw, main_h)),
                Some(Rect::new(lw, 0, w - lw, main_h)),
            )
        };
        // The text column: a margin of one column each side, then at most
        // max_width, centred in whatever room is left.
        let text = reader.map_or(Rect::default(), |r| {
            let room = r.width.saturating_sub(2).max(1);
            let tw = room.min(self.options.max_width.max(20));
            let x = r.x + 1 + (room - tw) / 2;
            Rect::new(x.min(r.right().saturating_sub(1)), r.y, tw, r.height)
        });
        Panes {
            list,
            reader,
            text,
            status,
        }
    }

    fn text_width(&self) -> u16 {
        self.panes().text.width.max(1)
    }

    fn reader_height(&self) -> usize {
        usize::from(self.panes().text.height.max(1))
    }

    fn list_height(&self) -> usize {
        self.panes()
            .list
            .map_or(1, |r| usize::from(r.height).max(1))
    }

    /// Entries that fit in the list pane.
    pub fn list_page(&self) -> usize {
        (self.list_height() / self.entry_rows()).max(1)
    }

    // --- changing state ----------------------------------------------------

    /// Maps a key through the keymap and applies it.
    pub fn key(&mut self, key: Key) {
        // Esc and the next key often arrive in one read (typed quickly, or
        // over SSH), and terminals encode that the same as Alt+key. folio
        // binds no Alt keys, so such a key is read as the two keys it was.
        if key.alt && self.keymap.action(key, false).is_none() {
            self.key(Key::new(KeyCode::Esc));
            self.key(Key { alt: false, ..key });
            return;
        }
        // In link mode the hint letters name links, whatever they do
        // elsewhere.
        if let (Some(Overlay::Links(_)), KeyCode::Char(c), false, false) =
            (self.overlay, key.code, key.ctrl, key.alt)
            && HINT_KEYS.contains(c)
        {
            self.update(Action::Hint(c));
            return;
        }
        if self.prompt().is_some() {
            if let Some(edit) = prompt_edit(key) {
                self.update(Action::Edit(edit));
                return;
            }
            // Ctrl-c still quits; other keys do nothing while typing.
            if key != Key::ctrl('c') {
                return;
            }
        }
        if let Some(action) = self.keymap.action(key, self.count.is_some()) {
            self.update(action);
        } else if self.count.take().is_some() {
            self.dirty = true;
        }
    }

    /// Applies what a person did. With [`App::report`], the only ways the
    /// app's state changes.
    pub fn update(&mut self, action: Action) {
        let before = self.fingerprint();
        if !matches!(action, Action::Digit(_) | Action::Resize(..)) {
            self.message = None;
        }
        if let (
            Action::Command(_)
            | Action::Click(..)
            | Action::Scroll(..)
            | Action::Edit(_)
            | Action::Hint(_),
            Scan::Reading { touched, last },
        ) = (&action, &mut self.scan)
        {
            *touched = true;
            *last = None;
        }
        match action {
            Action::Command(cmd) => {
                let count = self.count.take();
                self.command(cmd, count);
            }
            Action::Digit(d) => {
                let n = self
                    .count
                    .unwrap_or(0)
                    .saturating_mul(10)
                    .saturating_add(usize::from(d));
                self.count = Some(n.min(999_999));
            }
            Action::Resize(w, h) => self.size = (w, h),
            Action::Scroll(dir, col, row) => self.wheel(dir, col, row),
            Action::Click(col, row) => self.click(col, row),
            Action::Hint(c) => self.hint_typed(c),
            Action::Edit(edit) => self.edit(edit),
        }
        self.settle(&before);
    }

    /// Applies what a runner reports: finished work, changes on disk,
    /// messages.
    pub fn report(&mut self, report: Report) {
        let before = self.fingerprint();
        match report {
            Report::Loaded(key, result) => self.loaded_post(&key, result),
            Report::SetTheme(theme) => self.set_theme(*theme),
            Report::LaidOut { key, layout, doc } => self.laid_out(&key, layout, *doc),
            Report::PostsChanged(posts) => self.posts_changed(posts),
            Report::PostsRead { posts, done } => self.posts_read(posts, done),
            Report::PostChanged(key) => self.post_changed(&key),
            Report::RestoreReading(reading) => self.restore_reading(*reading),
            Report::Notify(message) => self.message = Some(message),
            Report::SearchResults {
                generation,
                hits,
                scanned,
                done,
            } => self.search_results(generation, hits, scanned, done),
        }
        self.settle(&before);
    }

    /// What every change ends with: layouts, jumps and reading state
    /// brought up to date, and a redraw asked for if anything shown moved.
    fn settle(&mut self, before: &Fingerprint) {
        self.settle_layout();
        self.finish_jump();
        self.settle_reading();
        if self.fingerprint() != *before {
            self.dirty = true;
        }
    }

    fn fingerprint(&self) -> Fingerprint {
        Fingerprint {
            size: self.size,
            focus: self.focus,
            overlay: self.overlay,
            list_hidden: self.list_hidden,
            selected: self.selected,
            list_top: self.list_top,
            top: self.reader_top(),
            count: self.count,
            message: self.message.clone(),
            layout_width: self.document().map(|d| d.width),
            raw: self.raw,
            loaded: self.current().map(|l| match l {
                Loaded::Loading => 0,
                Loaded::Failed(_) => 1,
                Loaded::Ready { .. } => 2,
            }),
            quit: self.quit,
            help_top: self.help_top,
        }
    }

    fn command(&mut self, cmd: Command, count: Option<usize>) {
        let n = count.unwrap_or(1).max(1);
        match (cmd, self.overlay) {
            (Command::Quit, _) => self.quit = true,
            (Command::Help | Command::Back, Some(Overlay::Help)) => {
                self.overlay = None;
            }
            (Command::Help, _) => {
                self.overlay = Some(Overlay::Help);
                self.help_top = 0;
            }
            (_, Some(Overlay::Help)) => self.help_scroll(cmd, n),
            (Command::Edit, None) => self.edit_post(),
            (Command::ToggleRaw, _) => {
                self.raw = !self.raw;
                self.message = Some(if self.raw {
                    "Showing text as stored (R repairs mis-decoded text)".into()
                } else {
                    "Repairing mis-decoded text (R shows it as stored)".into()
                });
            }
            (_, Some(Overlay::SearchAll)) => {}
            (Command::SearchAll, _) => self.open_search_all(),
            (_, Some(Overlay::Outline { selected })) => self.outline_command(cmd, selected, n),
            (Command::Back | Command::FollowLink, Some(Overlay::Links(_))) => self.overlay = None,
            (Command::CopyLink, Some(Overlay::Links(mode))) => {
                self.overlay = Some(Overlay::Links(LinkMode {
                    copy: !mode.copy,
                    ..LinkMode::default()
                }));
            }
            (_, Some(Overlay::Links(_))) => {
                // Any other key leaves link mode and does what it does.
                self.overlay = None;
                self.pane_command(cmd, count, n);
            }
            (_, None) => self.pane_command(cmd, count, n),
        }
    }

    fn outline_command(&mut self, cmd: Command, selected: usize, n: usize) {
        let total = self.document().map_or(0, |d| d.headings.len());
        let last = total.saturating_sub(1);
        let page = self.reader_height().saturating_sub(2).max(1);
        let selected = match cmd {
            Command::Down => selected.saturating_add(n).min(last),
            Command::Up => selected.saturating_sub(n),
            Command::PageDown | Command::HalfPageDown => selected.saturating_add(page).min(last),
            Command::PageUp | Command::HalfPageUp => selected.saturating_sub(page),
            Command::Top => 0,
            Command::Bottom => last,
            Command::Open => {
                if let Some(line) = self
                    .document()
                    .and_then(|d| d.headings.get(selected))
                    .map(|h| h.line)
                {
                    self.set_top(line);
                }
                self.overlay = None;
                return;
            }
            Command::Back | Command::Outline => {
                self.overlay = None;
                return;
            }
            _ => return,
        };
        self.overlay = Some(Overlay::Outline { selected });
    }

    fn pane_command(&mut self, cmd: Command, count: Option<usize>, n: usize) {
        match cmd {
            Command::ToggleList => {
                self.list_hidden = !self.list_hidden;
                if self.list_hidden {
                    self.focus = Focus::Reader;
                }
            }
            Command::FocusNext | Command::FocusPrev => {
                self.focus = match self.focus {
                    Focus::List if !self.posts.is_empty() => Focus::Reader,
                    _ => Focus::List,
                };
                if self.focus == Focus::List {
                    self.list_hidden = false;
                }
            }
            Command::NextHeading | Command::PrevHeading | Command::Outline => {
                if self.posts.is_empty() {
                    return;
                }
                self.focus = Focus::Reader;
                self.heading_command(cmd, n);
            }
            Command::FollowLink | Command::CopyLink => {
                let copy = cmd == Command::CopyLink;
                if self.document().is_none() || self.panes().reader.is_none() {
                    self.message = Some("Open a post to follow its links".into());
                } else if self.hints().is_empty() {
                    self.message = Some("No links on this screen".into());
                } else {
                    self.overlay = Some(Overlay::Links(LinkMode {
                        copy,
                        ..LinkMode::default()
                    }));
                }
            }
            Command::HistoryBack => self.history_step(true),
            Command::HistoryForward => self.history_step(false),
            Command::NextPost | Command::PrevPost => {
                let Some(pos) = self.view_pos() else {
                    return;
                };
                if cmd == Command::NextPost {
                    self.select_pos(pos.saturating_add(n));
                } else {
                    self.select_pos(pos.saturating_sub(n));
                }
                self.focus = Focus::Reader;
            }
            _ => match self.focus {
                Focus::List => self.list_command(cmd, count, n),
                Focus::Reader => self.reader_command(cmd, count, n),
            },
        }
    }

    fn list_command(&mut self, cmd: Command, count: Option<usize>, n: usize) {
        let page = self.list_page();
        let last = self.view_len().saturating_sub(1);
        let pos = self.view_pos().unwrap_or(0);
        match cmd {
            Command::Down => self.select_pos(pos.saturating_add(n)),
            Command::Up => self.select_pos(pos.saturating_sub(n)),
            Command::HalfPageDown => self.select_pos(pos + n * (page / 2).max(1)),
            Command::HalfPageUp => self.select_pos(pos.saturating_sub(n * (page / 2).max(1))),
            Command::PageDown => self.select_pos(pos + n * page),
            Command::PageUp => self.select_pos(pos.saturating_sub(n * page)),
            Command::Top => self.select_pos(0),
            Command::Bottom => self.select_pos(count.map_or(last, |c| c.saturating_sub(1))),
            Command::Open if self.view_pos().is_some() => self.focus = Focus::Reader,
            Command::Search => self.open_filter(),
            Command::Back if self.filter.is_some() => {
                self.filter = None;
                self.dirty = true;
            }
            Command::ToggleRead => self.toggle_read(),
            _ => {}
        }
    }

    fn reader_command(&mut self, cmd: Command, count: Option<usize>, n: usize) {
        let height = self.reader_height();
        let half = (height / 2).max(1);
        match cmd {
            // Esc first clears the highlighted matches, then goes back.
            Command::Back if !self.find.text.is_empty() => self.clear_find(),
            Command::Back => {
                self.focus = Focus::List;
                self.list_hidden = false;
            }
            Command::Search => self.open_find(),
            Command::NextMatch => self.step_match(n, true),
            Command::PrevMatch => self.step_match(n, false),
            Command::Down => self.scroll_by(n, true),
            Command::Up => self.scroll_by(n, false),
            Command::HalfPageDown => self.scroll_by(n * half, true),
            Command::HalfPageUp => self.scroll_by(n * half, false),
            Command::PageDown => self.scroll_by(n * height, true),
            Command::PageUp => self.scroll_by(n * height, false),
            Command::Top => self.set_top(0),
            Command::Bottom => {
                let target = count.map_or(self.max_top(), |c| c.saturating_sub(1));
                self.set_top(target);
            }
            _ => {}
        }
    }

    fn heading_command(&mut self, cmd: Command, n: usize) {
        let Some(doc) = self.document() else {
            return;
        };
        if doc.headings.is_empty() {
            self.message = Some("This post has no headings".into());
            return;
        }
        let mut top = self.reader_top();
        match cmd {
            Command::Outline => {
                let selected = doc.heading_at(top).unwrap_or(0);
                self.overlay = Some(Overlay::Outline { selected });
                return;
            }
            Command::NextHeading => {
                for _ in 0..n {
                    match doc.next_heading(top) {
                        Some(h) => top = h.line,
                        None => break,
                    }
                }
            }
            _ => {
                for _ in 0..n {
                    match doc.prev_heading(top) {
                        Some(h) => top = h.line,
                        None => break,
                    }
                }
            }
        }
        if top == self.reader_top() {
            let which = if cmd == Command::NextHeading {
                "no heading below"
            } else {
                "no heading above"
            };
            self.message = Some(which.into());
        }
        self.set_top(top);
    }

    /// A hint letter typed in link mode: follows (or copies) the link once
    /// the typed letters name one.
    fn hint_typed(&mut self, c: char) {
        let Some(Overlay::Links(mut mode)) = self.overlay else {
            return;
        };
        let len = usize::from(mode.len);
        if len >= mode.typed.len() || !c.is_ascii() {
            return;
        }
        mode.typed[len] = c as u8;
        mode.len += 1;
        let hints = self.hints();
        let typed = mode.typed();
        let matching: Vec<&Hint> = hints
            .iter()
            .filter(|h| h.label.starts_with(typed))
            .collect();
        match matching[..] {
            [] => {
                self.message = Some(format!("No link has the hint '{typed}'"));
                self.overlay = Some(Overlay::Links(LinkMode {
                    copy: mode.copy,
                    ..LinkMode::default()
                }));
            }
            [hint] if hint.label == typed => {
                let link = hint.link;
                self.overlay = None;
                self.activate(link, mode.copy);
            }
            _ => self.overlay = Some(Overlay::Links(mode)),
        }
    }

    /// Follows link `index` of the current post, or copies its URL.
    fn activate(&mut self, index: usize, copy: bool) {
        let Some(Link { url, .. }) = self.document().and_then(|d| d.links.get(index)).cloned()
        else {
            return;
        };
        if copy {
            self.message = Some(format!("Copied {url} to the clipboard"));
            self.effects.push(Effect::Copy(url));
            return;
        }
        match classify(&url) {
            LinkTarget::External(url) if self.options.remote => {
                self.message = Some(format!("Copied {url} to the clipboard"));
                self.effects.push(Effect::Copy(url));
            }
            LinkTarget::External(url) => {
                self.message = Some(format!("Opened {url}"));
                self.effects.push(Effect::OpenUrl(url));
            }
            LinkTarget::Refused(scheme) => {
                self.message = Some(format!("folio does not follow {scheme}: links"));
            }
            LinkTarget::Anchor(anchor) => {
                let line = self
                    .document()
                    .and_then(|d| d.heading_by_anchor(&anchor))
                    .map(|h| h.line);
                match line {
                    Some(line) => {
                        self.remember_place();
                        self.set_top(line);
                    }
                    None => self.message = Some(format!("No heading #{anchor} in this post")),
                }
            }
            LinkTarget::Post(path, anchor) => {
                let from = self
                    .selected_post()
                    .map_or_else(PathBuf::new, |p| p.rel_path.clone());
                let Some(target) = resolve_post(&from, &path, &self.posts) else {
                    let name = path.rsplit('/').next().unwrap_or_default();
                    let other_file = name.rsplit_once('.').is_some_and(|(_, ext)| {
                        !matches!(
                            ext.to_ascii_lowercase().as_str(),
                            "md" | "markdown" | "html" | "htm"
                        )
                    });
                    self.message = Some(if other_file {
                        format!("{path} is not a post; y copies its address")
                    } else {
                        format!("No post {path} in this folder")
                    });
                    return;
                };
                self.remember_place();
                let rel = self.posts[target].rel_path.clone();
                let to = anchor.map_or(JumpTo::Offset(0), JumpTo::Anchor);
                self.go_to(target, rel, to);
            }
        }
    }

    /// Where the reader is now, as a history entry.
    fn place(&self) -> Option<Place> {
        let post = self.selected_post()?.rel_path.clone();
        let offset = match self.positions.get(&post) {
            Some(p) => p.anchor,
            None => 0,
        };
        Some(Place { post, offset })
    }

    /// A jump is about to happen: the place it leaves becomes the one to go
    /// back to, and what was ahead is forgotten, as in a browser.
    fn remember_place(&mut self) {
        if let Some(place) = self.place() {
            if self.back.last() != Some(&place) {
                self.back.push(place);
            }
            if self.back.len() > HISTORY_LIMIT {
                self.back.remove(0);
            }
        }
        self.forward.clear();
    }

    fn history_step(&mut self, back: bool) {
        let from = if back { &self.back } else { &self.forward };
        let Some(place) = from.last().cloned() else {
            self.message = Some(if back {
                "Nothing to go back to".into()
            } else {
                "Nothing to go forward to".into()
            });
            return;
        };
        let here = self.place();
        let (from, to) = if back {
            (&mut self.back, &mut self.forward)
        } else {
            (&mut self.forward, &mut self.back)
        };
        from.pop();
        let Some(index) = self.posts.iter().position(|p| p.rel_path == place.post) else {
            self.message = Some(format!(
                "{} is no longer in the folder",
                place.post.display()
            ));
            return;
        };
        to.extend(here);
        self.go_to(index, place.post, JumpTo::Offset(place.offset));
    }

    /// Opens post `index` in the reader; once it is laid out the reader goes
    /// to `to`.
    fn go_to(&mut self, index: usize, rel: PathBuf, to: JumpTo) {
        self.reveal(index);
        self.select(index);
        self.focus = Focus::Reader;
        self.overlay = None;
        self.jump = Some((rel, to));
        self.finish_jump();
    }

    /// Carries out a waiting jump once its post is laid out (far enough).
    fn finish_jump(&mut self) {
        let Some((rel, to)) = self.jump.clone() else {
            return;
        };
        if self.selected_post().is_none_or(|p| p.rel_path != rel) {
            // The person moved on to another post meanwhile.
            self.jump = None;
            return;
        }
        let (doc, complete) = match self.current() {
            Some(Loaded::Ready { doc, complete, .. }) => (doc, *complete),
            Some(Loaded::Failed(_)) => {
                self.jump = None;
                return;
            }
            _ => return,
        };
        let line = match &to {
            JumpTo::Anchor(anchor) => match doc.heading_by_anchor(anchor) {
                Some(h) => Some(h.line),
                None if !complete => return,
                None => {
                    self.message = Some(format!("No heading #{anchor} in this post"));
                    Some(0)
                }
            },
            JumpTo::Offset(offset) => {
                // A long post's quick layout covers its start only.
                if !complete && doc.offsets.last().is_none_or(|&last| *offset > last) {
                    return;
                }
                Some(if *offset == 0 {
                    0
                } else {
                    doc.line_for_offset(*offset)
                })
            }
        };
        self.jump = None;
        if let Some(line) = line {
            self.set_top(line);
        }
        self.dirty = true;
    }

    fn max_top(&self) -> usize {
        self.document()
            .map_or(0, |d| d.len().saturating_sub(self.reader_height()))
    }

    /// Scrolls the reader; it stops at the last page, except that a heading
    /// jump may have put the top further down, which scrolling keeps.
    fn scroll_by(&mut self, lines: usize, down: bool) {
        let top = self.reader_top();
        let new = if down {
            top.saturating_add(lines).min(self.max_top().max(top))
        } else {
            top.saturating_sub(lines)
        };
        self.set_top(new);
    }

    fn set_top(&mut self, top: usize) {
        let (Some(doc), Some(key)) = (self.document(), self.selected_key()) else {
            return;
        };
        let top = top.min(doc.len().saturating_sub(1));
        let anchor = doc.offset_of_line(top);
        let key = key.to_path_buf();
        if self.tracking {
            self.marks_changed.insert(key.clone());
        }
        self.positions.insert(
            key,
            Position {
                top,
                anchor,
                relocate: None,
            },
        );
    }

    fn select(&mut self, index: usize) {
        if self.posts.is_empty() {
            return;
        }
        self.selected = index.min(self.posts.len() - 1);
        if matches!(self.overlay, Some(Overlay::Outline { .. })) {
            self.overlay = None;
        }
    }

    /// A jump to post `index` (a link, history, a search result) drops a
    /// kept filter that hides it, so the list shows where the reader is.
    fn reveal(&mut self, index: usize) {
        if self
            .filter
            .as_ref()
            .is_some_and(|f| !f.view.contains(&index))
        {
            self.filter = None;
            self.dirty = true;
        }
    }

    /// Selects the post at list position `pos` (clamped to the list).
    fn select_pos(&mut self, pos: usize) {
        let len = self.view_len();
        if len == 0 {
            return;
        }
        if let Some(index) = self.view_at(pos.min(len - 1)) {
            self.select(index);
        }
    }

    fn wheel(&mut self, dir: Wheel, col: u16, row: u16) {
        if self.overlay == Some(Overlay::SearchAll) {
            return;
        }
        let panes = self.panes();
        let down = dir == Wheel::Down;
        if panes.list.is_some_and(|r| r.contains((col, row).into())) {
            let pos = self.view_pos().unwrap_or(0);
            if down {
                self.select_pos(pos.saturating_add(1));
            } else {
                self.select_pos(pos.saturating_sub(1));
            }
        } else if panes.reader.is_some_and(|r| r.contains((col, row).into()))
            && self.overlay.is_none()
        {
            self.scroll_by(WHEEL_LINES, down);
        }
    }

    fn click(&mut self, col: u16, row: u16) {
        if self.overlay == Some(Overlay::SearchAll) {
            return;
        }
        let panes = self.panes();
        if let Some(list) = panes.list.filter(|r| r.contains((col, row).into())) {
            let entry = self.list_top + usize::from(row - list.y) / self.entry_rows();
            if entry < self.view_len() {
                self.select_pos(entry);
            }
            self.focus = Focus::List;
        } else if panes.reader.is_some_and(|r| r.contains((col, row).into()))
            && !self.posts.is_empty()
        {
            self.focus = Focus::Reader;
            if self.overlay.is_none()
                && let Some(link) = self.link_at(col, row)
            {
                self.activate(link, false);
            }
        }
    }

    /// The link whose text is shown at screen cell (`col`, `row`), if any.
    fn link_at(&self, col: u16, row: u16) -> Option<usize> {
        let text = self.panes().text;
        let doc = self.document()?;
        let line = self.reader_top() + usize::from(row.checked_sub(text.y)?);
        let x = usize::from(col.checked_sub(text.x)?);
        doc.links_on(line..line + 1)
            .find(|(_, l)| {
                l.areas
                    .iter()
                    .any(|a| a.line == line && (a.start..a.end).contains(&x))
            })
            .map(|(i, _)| i)
    }

    fn loaded_post(&mut self, key: &Path, result: Result<PostSource, String>) {
        // Not asked for (any more): the post left the list, or its file
        // changed while it was being read and a fresh read is under way.
        if !self.loaded.contains_key(key) || self.post_by_key(key).is_none() {
            return;
        }
        let state = match result {
            Ok(source) => {
                let ready = self.ready(key, source);
                self.relocate(key, &ready);
                ready
            }
            Err(e) => Loaded::Failed(e),
        };
        self.loaded.insert(key.to_path_buf(), state);
        self.dirty = true;
    }

    /// A position carried over from an older version of the post finds its
    /// text again in the new one.
    fn relocate(&mut self, key: &Path, ready: &Loaded) {
        let Loaded::Ready {
            source, doc, raw, ..
        } = ready
        else {
            return;
        };
        let Some(pos) = self.positions.get_mut(key) else {
            return;
        };
        let Some(snippet) = pos.relocate.take() else {
            return;
        };
        let body = shown_body(source, *raw);
        pos.anchor = find_near(&body, &snippet, pos.anchor);
        pos.top = if pos.anchor == 0 {
            0
        } else {
            doc.line_for_offset(pos.anchor)
        };
    }

    /// The list of posts is now `posts` (the folder changed). The selection
    /// stays on the same post when it is still there; what is known about
    /// posts that left, or whose frontmatter changed, is dropped (positions
    /// stay: an editor that saves by delete and re-create brings it back).
    fn posts_changed(&mut self, posts: Vec<Post>) {
        let selected = self.selected_key().map(Path::to_path_buf);
        let old: HashMap<PathBuf, Post> = std::mem::take(&mut self.posts)
            .into_iter()
            .map(|p| (p.rel_path.clone(), p))
            .collect();
        self.posts = posts;
        let edited: Vec<PathBuf> = self
            .posts
            .iter()
            .filter(|p| old.get(&p.rel_path).is_some_and(|o| o != *p))
            .map(|p| p.rel_path.clone())
            .collect();
        for key in edited {
            self.post_changed(&key);
        }
        let keys: std::collections::HashSet<&Path> =
            self.posts.iter().map(|p| p.rel_path.as_path()).collect();
        self.loaded.retain(|k, _| keys.contains(k.as_path()));
        self.selected = selected
            .and_then(|k| self.posts.iter().position(|p| p.rel_path == k))
            .unwrap_or_else(|| self.selected.min(self.posts.len().saturating_sub(1)));
        if self.posts.is_empty() {
            self.focus = Focus::List;
            self.overlay = self.overlay.filter(|o| *o == Overlay::Help);
        }
        self.refilter_kept();
        if let Scan::Reading { last, .. } = &mut self.scan {
            let last = last.take();
            self.scan = Scan::Superseded;
            if let Some(i) = last.and_then(|k| self.posts.iter().position(|p| p.rel_path == k)) {
                self.reopen(i);
            }
        }
        self.dirty = true;
    }

    /// A kept filter ranks the new list (its remembered views hold old
    /// indices), and the selection stays put when the post still matches.
    fn refilter_kept(&mut self) {
        if self.filter.is_some() {
            let keep = self.selected;
            let last = self.posts.len().saturating_sub(1);
            if let Some(f) = &mut self.filter {
                f.history.clear();
                f.before = f.before.min(last);
            }
            self.refilter();
            if self.filter.as_ref().is_some_and(|f| f.view.contains(&keep)) {
                self.select(keep);
            }
        }
    }

    /// More posts of the folder being read: merged into the list in order.
    /// The selection stays on the post the person chose, on the same row
    /// of the list, or on the first post while they have chosen none; the
    /// post to reopen is opened when it arrives.
    fn posts_read(&mut self, posts: Vec<Post>, done: bool) {
        match &self.scan {
            Scan::Superseded => {
                if done {
                    self.scan = Scan::Idle;
                }
                return;
            }
            Scan::Idle => {
                self.scan = Scan::Reading {
                    touched: false,
                    last: None,
                };
            }
            Scan::Reading { .. } => {}
        }
        let touched = matches!(self.scan, Scan::Reading { touched: true, .. });
        let selected = self.selected_key().map(Path::to_path_buf);
        let row = self.view_pos().map(|p| p.saturating_sub(self.list_top));
        // `Esc` on an open filter goes back to this post, wherever it moves.
        let before = self.filter.as_ref().and_then(|f| self.posts.get(f.before));
        let before = before.map(|p| p.rel_path.clone());
        crate::posts::merge_posts(&mut self.posts, posts);
        if let (Some(key), Some(f)) = (before, &mut self.filter)
            && let Some(i) = self.posts.iter().position(|p| p.rel_path == key)
        {
            f.before = i;
        }
        self.selected = if touched {
            selected
                .and_then(|k| self.posts.iter().position(|p| p.rel_path == k))
                .unwrap_or_else(|| self.selected.min(self.posts.len().saturating_sub(1)))
        } else {
            0
        };
        if let Scan::Reading {
            last: Some(key), ..
        } = &self.scan
            && let Some(i) = self.posts.iter().position(|p| &p.rel_path == key)
        {
            self.reopen(i);
        }
        self.refilter_kept();
        if let (Some(row), Some(pos)) = (row, self.view_pos()) {
            self.list_top = pos.saturating_sub(row);
        }
        if done {
            self.scan = Scan::Idle;
        }
        self.dirty = true;
    }

    /// Opens post `i` in the reader, as the reading state asks: the post
    /// last read, reopened.
    fn reopen(&mut self, i: usize) {
        self.selected = i;
        self.focus = Focus::Reader;
        if let Scan::Reading { touched, last } = &mut self.scan {
            *touched = true;
            *last = None;
        }
    }

    /// The file of post `key` changed: its text is read again and laid out
    /// anew, the reading position kept on the same text.
    fn post_changed(&mut self, key: &Path) {
        let Some(old) = self.loaded.remove(key) else {
            return;
        };
        if let (Loaded::Ready { source, raw, .. }, Some(pos)) = (&old, self.positions.get_mut(key))
            && pos.relocate.is_none()
        {
            pos.relocate = Some(snippet_at(&shown_body(source, *raw), pos.anchor));
        }
        self.dirty = true;
    }

    fn restore_reading(&mut self, reading: Reading) {
        self.tracking = true;
        for (key, mark) in reading.posts {
            if mark.read {
                self.read.insert(key.clone());
            }
            if mark.offset > 0 || !mark.snippet.is_empty() {
                self.positions.insert(
                    key.clone(),
                    Position {
                        top: 0,
                        anchor: mark.offset,
                        relocate: Some(mark.snippet),
                    },
                );
                // Already open (restored late): find the place now.
                if let Some(ready) = self.loaded.remove(&key) {
                    self.relocate(&key, &ready);
                    self.loaded.insert(key, ready);
                }
            }
        }
        let found = reading
            .last
            .as_ref()
            .and_then(|last| self.posts.iter().position(|p| &p.rel_path == last));
        match (found, &mut self.scan) {
            (Some(i), _) => self.reopen(i),
            // Not read yet: opened when its batch arrives.
            (
                None,
                Scan::Reading {
                    touched: false,
                    last,
                },
            ) => *last = reading.last,
            (None, _) => {}
        }
        self.dirty = true;
    }

    fn toggle_read(&mut self) {
        let Some(key) = self.selected_key().map(Path::to_path_buf) else {
            return;
        };
        if !self.tracking {
            self.message = Some("Reading state is not kept in this session".into());
            return;
        }
        let read = !self.read.remove(&key);
        if read {
            self.read.insert(key.clone());
        }
        self.marks_changed.insert(key);
        self.message = Some(if read { "Marked read" } else { "Marked unread" }.into());
        self.dirty = true;
    }

    /// `e`: asks the runner to open the current post in an editor.
    fn edit_post(&mut self) {
        let Some(post) = self.posts.get(self.selected) else {
            return;
        };
        self.message = Some(match &post.origin {
            _ if self.options.remote => "Editing is off in a remote session".into(),
            crate::posts::Origin::Embedded(_) => {
                "folio's built-in posts cannot be edited: open a folder of your own".into()
            }
            crate::posts::Origin::File(file) => {
                self.effects.push(Effect::Edit {
                    key: post.rel_path.clone(),
                    file: file.clone(),
                });
                return;
            }
        });
    }

    /// Read marking, after any change: a post counts as read once its end
    /// has been on screen in the reader; and the post open in the reader is
    /// the one to reopen next time.
    fn settle_reading(&mut self) {
        if !self.tracking || self.focus != Focus::Reader {
            return;
        }
        let Some(key) = self.selected_key().map(Path::to_path_buf) else {
            return;
        };
        if self.last.as_ref() != Some(&key) {
            self.last = Some(key.clone());
            self.last_changed = true;
        }
        let Some(Loaded::Ready {
            doc, whole: true, ..
        }) = self.current()
        else {
            return;
        };
        if self.reader_top() + self.reader_height() >= doc.len() && !self.read.contains(&key) {
            self.read.insert(key.clone());
            self.marks_changed.insert(key);
            self.dirty = true;
        }
    }

    /// Shows `message` in the status bar until the next key (start-up
    /// problems with the config or a theme, say).
    pub fn notify(&mut self, message: impl Into<String>) {
        self.message = Some(message.into());
        self.dirty = true;
    }

    fn set_theme(&mut self, theme: Theme) {
        if theme == self.theme {
            return;
        }
        self.theme = theme;
        // Lines stay where they were: only styles change with a theme.
        let ready: Vec<PathBuf> = self
            .loaded
            .iter()
            .filter(|(_, l)| matches!(l, Loaded::Ready { .. }))
            .map(|(k, _)| k.clone())
            .collect();
        for key in ready {
            if let Some(Loaded::Ready { source, .. }) = self.loaded.remove(&key) {
                let ready = self.ready(&key, source);
                self.loaded.insert(key, ready);
            }
        }
        self.dirty = true;
    }

    /// The quick layout of post `key` at the current text width: no code
    /// highlighting, and of a long post only its start (a [`LayoutJob`]
    /// makes the final one). Also: whether mojibake was repaired, and whether
    /// it covers the whole post.
    fn layout(&self, post: &Post, source: &PostSource) -> (Document, bool, bool) {
        let opts = markdown::RenderOptions {
            wrap_code: self.options.wrap_code,
            highlight: false,
        };
        let (quick, whole) = quick_part(source);
        let (doc, repaired) = lay_out(post, &quick, self.text_width(), &self.theme, opts, self.raw);
        (doc, repaired, whole)
    }

    /// A ready post in its quick layout, complete when that is already the
    /// final one (the whole post, and a theme that highlights nothing).
    fn ready(&mut self, key: &Path, source: PostSource) -> Loaded {
        let Some(post) = self.post_by_key(key) else {
            return Loaded::Failed("this post is no longer in the folder".into());
        };
        let (doc, repaired, whole) = self.layout(post, &source);
        self.layouts_made += 1;
        Loaded::Ready {
            source,
            doc,
            raw: self.raw,
            repaired,
            complete: whole && self.theme.syntax.is_off(),
            whole,
            layout: self.layouts_made,
        }
    }

    /// Work for the runner: the selected post's final layout, asked for once
    /// per quick layout.
    pub fn pending_layout(&mut self) -> Option<LayoutJob> {
        let Some(Loaded::Ready {
            source,
            doc,
            raw,
            complete: false,
            layout,
            ..
        }) = self.current()
        else {
            return None;
        };
        if self.layout_asked == Some(*layout) {
            return None;
        }
        let post = self.posts[self.selected].clone();
        let job = LayoutJob {
            key: post.rel_path.clone(),
            layout: *layout,
            width: doc.width,
            raw: *raw,
            post,
            source: source.clone(),
            theme: self.theme.clone(),
            wrap_code: self.options.wrap_code,
        };
        self.layout_asked = Some(job.layout);
        Some(job)
    }

    fn laid_out(&mut self, key: &Path, layout: u64, new_doc: Document) {
        let Some(Loaded::Ready {
            doc,
            complete,
            whole,
            layout: current,
            ..
        }) = self.loaded.get_mut(key)
        else {
            return;
        };
        // A stale result (the width, the raw toggle or the theme changed
        // meanwhile, so the post was laid out again) is dropped; the newer
        // layout has its own job.
        if *complete || *current != layout {
            return;
        }
        // The quick layout is the final one's start line for line (or the
        // same lines without colour), so the reader's top line stays put;
        // should a long post's start have laid out differently, the source
        // anchor finds the same text.
        let line_text = |d: &Document, i: usize| -> Option<String> {
            d.lines
                .get(i)
                .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
        };
        let old_top = self
            .positions
            .get(key)
            .map(|p| (p.top, line_text(doc, p.top)));
        *doc = new_doc;
        *complete = true;
        *whole = true;
        if let Some((top, text)) = old_top
            && line_text(doc, top) != text
            && let Some(pos) = self.positions.get_mut(key)
        {
            // The anchor, not the quick layout's line: a position restored
            // past the quick layout's end is found only in the full one.
            pos.top = doc.line_for_offset(pos.anchor);
        }
        self.dirty = true;
    }

    /// Keeps derived state true after any change: the selected post laid out
    /// at the current width (anchored to the same text), the selection
    /// visible in the list, the reader position in range.
    fn settle_layout(&mut self) {
        let width = self.text_width();
        if let Some(Loaded::Ready { doc, raw, .. }) = self.current()
            && (doc.width != width || *raw != self.raw)
        {
            let key = self.posts[self.selected].rel_path.clone();
            let Some(Loaded::Ready { source, .. }) = self.loaded.remove(&key) else {
                unreachable!("checked above");
            };
            let ready = self.ready(&key, source);
            if let (Some(pos), Loaded::Ready { doc, .. }) = (self.positions.get_mut(&key), &ready) {
                pos.top = if pos.top == 0 {
                    0
                } else {
                    doc.line_for_offset(pos.anchor)
                };
            }
            self.loaded.insert(key, ready);
        }
        let page = self.list_page();
        let sel = self.view_pos().unwrap_or(0);
        if sel < self.list_top {
            self.list_top = sel;
        } else if sel >= self.list_top + page {
            self.list_top = sel + 1 - page;
        }
        let max_list_top = self.view_len().saturating_sub(page);
        self.list_top = self
            .list_top
            .min(max_list_top.max(sel.saturating_sub(page - 1)));
        if let Some(len) = self.document().map(Document::len)
            && let Some(key) = self.posts.get(self.selected).map(|p| &p.rel_path)
            && let Some(pos) = self.positions.get_mut(key)
        {
            pos.top = pos.top.min(len.saturating_sub(1));
        }
        if (self.posts.is_empty() || (self.is_narrow() && self.focus == Focus::List))
            && matches!(self.overlay, Some(Overlay::Outline { .. }))
        {
            self.overlay = None;
        }
        self.settle_search();
    }

    // --- search and filter -------------------------------------------------

    /// The layout on screen, if the selected post is laid out.
    fn current_key(&self) -> Option<ShownLayout> {
        match self.current() {
            Some(Loaded::Ready {
                layout, complete, ..
            }) => Some((*layout, *complete)),
            _ => None,
        }
    }

    /// Keeps the in-post search true to the layout on screen (a new post,
    /// width or the full layout arriving), and lands a pending jump to a
    /// search result once its post is laid out.
    fn settle_search(&mut self) {
        if !self.find.text.is_empty() && self.find.layout != self.current_key() {
            let top = self.reader_top();
            self.refind(top, false);
            self.dirty = true;
        }
        let Some((path, offset)) = self.result_jump.clone() else {
            return;
        };
        if self
            .posts
            .get(self.selected)
            .is_none_or(|p| p.rel_path != path)
        {
            self.result_jump = None;
            return;
        }
        let line = match self.current() {
            Some(Loaded::Ready { doc, complete, .. })
                if *complete || doc.offsets.last().is_some_and(|&o| o >= offset) =>
            {
                doc.line_for_offset(offset)
            }
            Some(Loaded::Failed(_)) => {
                self.result_jump = None;
                return;
            }
            _ => return,
        };
        self.result_jump = None;
        self.refind(line, false);
        let height = self.reader_height();
        let near = self
            .find
            .current
            .and_then(|i| self.match_line(i))
            .filter(|&l| l >= line && l < line + height);
        if near.is_none() {
            self.find.current = None;
        }
        self.set_top(near.unwrap_or(line).saturating_sub(height / 3));
        self.dirty = true;
    }

    /// The document line of match `i`.
    fn match_line(&self, i: usize) -> Option<usize> {
        let start = *self.find.matches.get(i)?;
        let (_, text) = self.search_text.as_ref()?;
        Some(text.line_of(start as usize))
    }

    /// Searches the layout on screen for the typed text. The current match
    /// becomes the first at or after line `from`; with `scroll`, the reader
    /// moves to show it.
    fn refind(&mut self, from: usize, scroll: bool) {
        let key = self.current_key();
        if self.find.text.is_empty() || key.is_none() {
            self.find.matches.clear();
            self.find.current = None;
            self.find.query = None;
            self.find.layout = None;
            return;
        }
        if self.search_text.as_ref().map(|(k, _)| *k) != key
            && let Some(doc) = self.document()
        {
            self.search_text = Some((key.unwrap_or_default(), SearchText::new(doc)));
        }
        let Some((_, text)) = self.search_text.as_mut() else {
            return;
        };
        let find = &mut self.find;
        if find.layout != key {
            find.history.clear();
        }
        find.history
            .retain(|(t, _, _)| find.text.starts_with(t.as_str()));
        let query = Query::new(&find.text);
        let matches = match find.history.last() {
            Some((t, _, m)) if *t == find.text => m.clone(),
            last => {
                let prev = last.map(|(_, q, m)| (q, &m[..]));
                let matches = text.find(&query, prev);
                let kept: usize = find.history.iter().map(|(_, _, m)| m.len()).sum();
                if kept + matches.len() <= FIND_HISTORY {
                    find.history
                        .push((find.text.clone(), query.clone(), matches.clone()));
                }
                matches
            }
        };
        let first = matches.partition_point(|&m| text.line_of(m as usize) < from);
        self.find.current = if matches.is_empty() {
            None
        } else if first < matches.len() {
            Some(first)
        } else {
            Some(0)
        };
        self.find.matches = matches;
        self.find.query = Some(query);
        self.find.layout = key;
        if scroll {
            match self.find.current {
                Some(i) => self.show_match(i),
                None => self.set_top(self.find.origin_top),
            }
        }
    }

    /// Scrolls so that match `i` is on screen, a third of the way down when
    /// it was not.
    fn show_match(&mut self, i: usize) {
        let Some(line) = self.match_line(i) else {
            return;
        };
        let top = self.reader_top();
        let height = self.reader_height();
        if line < top || line >= top + height {
            self.set_top(line.saturating_sub(height / 3));
        }
    }

    fn open_find(&mut self) {
        self.find = Find {
            origin_top: self.reader_top(),
            ..Find::default()
        };
        self.prompt = Some(Prompt::Find);
        self.dirty = true;
    }

    fn clear_find(&mut self) {
        self.find = Find::default();
        // The text of a long post is as large as the post; a new search
        // gathers it again.
        self.search_text = None;
        self.dirty = true;
    }

    /// `n`/`N`: the next or previous match, wrapping at the ends.
    fn step_match(&mut self, n: usize, forward: bool) {
        if self.find.text.is_empty() {
            self.message = Some("No search: / searches this post".into());
            return;
        }
        let total = self.find.matches.len();
        if total == 0 {
            self.message = Some(format!("No match for {}", sanitize(&self.find.text)));
            return;
        }
        let had_current = self.find.current.is_some();
        let current = self.find.current.unwrap_or_else(|| {
            // No current match (it was off screen after a jump): count from
            // the first match at or below the top line.
            let top = self.reader_top();
            let first = self
                .find
                .matches
                .partition_point(|&m| self.match_line_of(m) < top);
            (if forward { first + total - 1 } else { first }) % total
        });
        let step = n % total;
        let next = if forward {
            (current + step) % total
        } else {
            (current + total - step) % total
        };
        if had_current && ((forward && next <= current) || (!forward && next >= current)) {
            self.message = Some(
                if forward {
                    "Search wrapped to the top"
                } else {
                    "Search wrapped to the bottom"
                }
                .into(),
            );
        }
        self.find.current = Some(next);
        self.show_match(next);
        self.dirty = true;
    }

    fn match_line_of(&self, start: MatchStart) -> usize {
        self.search_text
            .as_ref()
            .map_or(0, |(_, t)| t.line_of(start as usize))
    }

    fn open_filter(&mut self) {
        if self.posts.is_empty() {
            return;
        }
        if self.filter.is_none() {
            self.filter = Some(ListFilter {
                text: String::new(),
                parsed: search::Filter::default(),
                view: (0..self.posts.len()).collect(),
                before: self.selected,
                history: Vec::new(),
            });
        }
        self.prompt = Some(Prompt::Filter);
        self.dirty = true;
    }

    /// Ranks the posts by the filter's text and selects the best match.
    fn refilter(&mut self) {
        let raw = self.raw;
        let Some(f) = &mut self.filter else {
            return;
        };
        let n = self.posts.len();
        f.history
            .retain(|(t, _, v)| f.text.starts_with(t.as_str()) && v.iter().all(|&i| i < n));
        f.parsed = search::Filter::parse(&f.text);
        if let Some((_, _, view)) = f.history.last().filter(|(t, _, _)| *t == f.text) {
            f.view.clone_from(view);
        } else if f.parsed.is_empty() {
            f.view = (0..n).collect();
        } else {
            let posts = &self.posts;
            let parsed = &f.parsed;
            let score = |i: usize| {
                let p = &posts[i];
                let title = shown_text(raw, &p.title);
                let excerpt = shown_text(raw, &p.excerpt);
                let score = parsed.score(search::Fields {
                    title: &title,
                    tags: &p.tags,
                    excerpt: &excerpt,
                });
                (i, score)
            };
            f.view = match f.history.last() {
                Some((_, wider, view)) if parsed.narrows(wider) => {
                    search::rank(view.iter().map(|&i| score(i)))
                }
                _ => search::rank((0..n).map(score)),
            };
            if f.history.len() < 64 {
                f.history
                    .push((f.text.clone(), f.parsed.clone(), f.view.clone()));
            }
        }
        self.list_top = 0;
        if let Some(&best) = f.view.first() {
            self.select(best);
        }
    }

    fn open_search_all(&mut self) {
        if self.posts.is_empty() {
            return;
        }
        self.overlay = Some(Overlay::SearchAll);
        self.prompt = None;
        self.dirty = true;
    }

    fn search_results(&mut self, generation: u64, hits: Vec<Hit>, scanned: usize, done: bool) {
        let sa = &mut self.search_all;
        if generation != sa.generation {
            return;
        }
        let room = search::MAX_RESULTS.saturating_sub(sa.results.len());
        sa.results.extend(hits.into_iter().take(room));
        sa.scanned = (sa.scanned + scanned).min(sa.total);
        sa.done |= done;
        if self.overlay == Some(Overlay::SearchAll) {
            self.dirty = true;
        }
    }

    /// Opens result `i` of the search across all posts: its post, scrolled
    /// to the match once laid out, with the query as the in-post search.
    fn open_hit(&mut self, i: usize) {
        let Some(hit) = self.search_all.results.get(i) else {
            return;
        };
        let index = if self
            .posts
            .get(hit.index)
            .is_some_and(|p| p.rel_path == hit.rel_path)
        {
            hit.index
        } else if let Some(i) = self.posts.iter().position(|p| p.rel_path == hit.rel_path) {
            i
        } else {
            self.message = Some("That post is no longer there".into());
            return;
        };
        self.result_jump = Some((hit.rel_path.clone(), hit.offset));
        self.overlay = None;
        self.reveal(index);
        self.select(index);
        self.focus = Focus::Reader;
        self.find = Find {
            text: self.search_all.text.clone(),
            ..Find::default()
        };
    }

    /// Typing into the open prompt.
    fn edit(&mut self, edit: Edit) {
        let Some(prompt) = self.prompt() else {
            return;
        };
        self.dirty = true;
        match prompt {
            Prompt::Find => {
                if edit_text(&mut self.find.text, edit) {
                    let from = self.find.origin_top;
                    self.refind(from, true);
                    if self.find.text.is_empty() {
                        self.set_top(from);
                    }
                    return;
                }
                match edit {
                    Edit::Accept => self.prompt = None,
                    Edit::Cancel => {
                        let top = self.find.origin_top;
                        self.prompt = None;
                        self.clear_find();
                        self.set_top(top);
                    }
                    Edit::Next => self.step_match(1, true),
                    Edit::Prev => self.step_match(1, false),
                    _ => {}
                }
            }
            Prompt::Filter => {
                let Some(f) = &mut self.filter else {
                    self.prompt = None;
                    return;
                };
                if edit_text(&mut f.text, edit) {
                    self.refilter();
                    return;
                }
                match edit {
                    Edit::Accept => {
                        self.prompt = None;
                        if f.text.trim().is_empty() {
                            self.filter = None;
                        }
                    }
                    Edit::Cancel => {
                        let before = f.before;
                        self.prompt = None;
                        self.filter = None;
                        self.select(before);
                    }
                    Edit::Next | Edit::Prev => {
                        let pos = self.view_pos().unwrap_or(0);
                        self.select_pos(if edit == Edit::Next {
                            pos + 1
                        } else {
                            pos.saturating_sub(1)
                        });
                    }
                    _ => {}
                }
            }
            Prompt::SearchAll => {
                let sa = &mut self.search_all;
                if edit_text(&mut sa.text, edit) {
                    sa.generation += 1;
                    sa.results.clear();
                    sa.selected = 0;
                    sa.scanned = 0;
                    sa.total = self.posts.len();
                    sa.done = sa.text.is_empty();
                    return;
                }
                let selected = sa.selected;
                match edit {
                    Edit::Accept => self.open_hit(selected),
                    Edit::Cancel => self.overlay = None,
                    Edit::Next => {
                        sa.selected = (sa.selected + 1).min(sa.results.len().saturating_sub(1));
                    }
                    Edit::Prev => sa.selected = sa.selected.saturating_sub(1),
                    _ => {}
                }
            }
        }
    }
}

/// What a key does in an open prompt; `None` for keys that do nothing
/// there (and `Ctrl-c`, which still quits).
fn prompt_edit(key: Key) -> Option<Edit> {
    Some(match (key.code, key.ctrl) {
        (KeyCode::Char('h'), true) | (KeyCode::Backspace, _) => Edit::Backspace,
        (KeyCode::Char('w'), true) => Edit::DeleteWord,
        (KeyCode::Char('u'), true) => Edit::Clear,
        (KeyCode::Char('n'), true) | (KeyCode::Down | KeyCode::Tab, _) => Edit::Next,
        (KeyCode::Char('p'), true) | (KeyCode::Up | KeyCode::BackTab, _) => Edit::Prev,
        (KeyCode::Char(c), false) if !key.alt => Edit::Insert(c),
        (KeyCode::Enter, _) => Edit::Accept,
        (KeyCode::Esc, _) => Edit::Cancel,
        _ => return None,
    })
}

/// Applies a text edit to `text`; false for edits that are not about the
/// text (accept, cancel, moving).
fn edit_text(text: &mut String, edit: Edit) -> bool {
    match edit {
        Edit::Insert(c) => text.push(c),
        Edit::Backspace => {
            text.pop();
        }
        Edit::DeleteWord => {
            let kept = text
                .trim_end()
                .trim_end_matches(|c: char| !c.is_whitespace())
                .len();
            text.truncate(kept);
        }
        Edit::Clear => text.clear(),
        _ => return false,
    }
    true
}

/// Lays out `post` with any notices about it above its body; true when
/// mojibake was repaired.
fn lay_out(
    post: &Post,
    source: &PostSource,
    width: u16,
    theme: &Theme,
    opts: markdown::RenderOptions,
    raw: bool,
) -> (Document, bool) {
    let body = shown_body(source, raw);
    let repaired = matches!(body, std::borrow::Cow::Owned(_));
    let mut doc = markdown::render_with(&body, width, theme, opts);
    let mut notices: Vec<Line<'static>> = Vec::new();
    let mut notice = |text: String| {
        for line in wrap_words(&sanitize(&text), usize::from(width)) {
            notices.push(Line::from(Span::styled(line, theme.md.frontmatter_error)));
        }
    };
    if let Some(err) = &post.error {
        notice(format!("⚠ Frontmatter error, {err}"));
    }
    if let Some(size) = source.truncated_from {
        notice(format!(
            "⚠ This post is {} MB; folio shows its first {} MB.",
            size.div_ceil(1 << 20),
            crate::posts::BODY_LIMIT >> 20
        ));
    }
    if source.lossy || post.lossy {
        notice("⚠ This file is not valid UTF-8: undecodable bytes are shown as �".into());
    }
    if !notices.is_empty() {
        notices.push(Line::default());
    }
    doc.prepend(&notices);
    (doc, repaired)
}

/// The body as laid out: as stored, or with mojibake repaired. Document
/// offsets point into this.
fn shown_body(source: &PostSource, raw: bool) -> std::borrow::Cow<'_, str> {
    if raw {
        std::borrow::Cow::Borrowed(source.body())
    } else {
        mojibake::repair(source.body())
    }
}

/// Bytes of text kept to find a position again after an edit.
pub const SNIPPET_BYTES: usize = 48;

/// The text at `offset` in `body`: up to [`SNIPPET_BYTES`], whole
/// characters.
pub fn snippet_at(body: &str, offset: usize) -> String {
    let mut start = offset.min(body.len());
    while !body.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (start + SNIPPET_BYTES).min(body.len());
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    body[start..end].to_owned()
}

/// Where `snippet` is in `body`: the occurrence nearest to `offset` (the
/// text may have moved when something above it was edited); `offset` itself,
/// kept in range, when the text is gone.
pub fn find_near(body: &str, snippet: &str, offset: usize) -> usize {
    if !snippet.is_empty()
        && let Some(found) = body
            .match_indices(snippet)
            .map(|(i, _)| i)
            .min_by_key(|&i| i.abs_diff(offset))
    {
        return found;
    }
    let mut offset = offset.min(body.len());
    while !body.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Posts longer than this are first laid out from their start only.
const QUICK_BYTES: usize = 256 * 1024;

/// What the quick layout covers: all of a short post, the start of a long
/// one cut at a paragraph break (enough for many screens, fast to lay out);
/// and whether that is the whole post.
fn quick_part(source: &PostSource) -> (std::borrow::Cow<'_, PostSource>, bool) {
    let body = source.body();
    if body.len() <= QUICK_BYTES {
        return (std::borrow::Cow::Borrowed(source), true);
    }
    let mut cut = QUICK_BYTES;
    while !body.is_char_boundary(cut) {
        cut -= 1;
    }
    let cut = body[..cut].rfind("\n\n").map_or(cut, |i| i + 2);
    let quick = PostSource {
        text: source.text[..source.body_start + cut].into(),
        ..*source
    };
    (std::borrow::Cow::Owned(quick), false)
}

/// Most hints shown at once: every label of three letters.
const MAX_HINTS: usize = 729;
/// Most places `H` remembers.
const HISTORY_LIMIT: usize = 1000;

/// `n` hint labels, all of the same length (one letter while that is
/// enough, then two, then three), so typing one never stops at a prefix.
pub fn hint_labels(n: usize) -> Vec<String> {
    let keys: Vec<char> = HINT_KEYS.chars().collect();
    let base = keys.len();
    let mut len = 1;
    let mut room = base;
    while room < n {
        len += 1;
        room *= base;
    }
    (0..n)
        .map(|i| {
            let mut label = vec![' '; len];
            let mut rest = i;
            for slot in label.iter_mut().rev() {
                *slot = keys[rest % base];
                rest /= base;
            }
            label.into_iter().collect()
        })
        .collect()
}

/// What a link's URL points at: a scheme folio can hand to the opener
/// (http, https, mailto), one it refuses, a heading, or a post.
fn classify(url: &str) -> LinkTarget {
    let url = url.trim();
    if let Some(anchor) = url.strip_prefix('#') {
        return LinkTarget::Anchor(percent_decode(anchor));
    }
    if url.starts_with("//") {
        return LinkTarget::External(format!("https:{url}"));
    }
    let scheme_end = url.find(':').filter(|&i| {
        let scheme = &url[..i];
        scheme.len() > 1
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    });
    if let Some(i) = scheme_end {
        let scheme = url[..i].to_ascii_lowercase();
        return if matches!(scheme.as_str(), "http" | "https" | "mailto") {
            LinkTarget::External(url.to_owned())
        } else {
            LinkTarget::Refused(scheme)
        };
    }
    let (path, anchor) = match url.split_once('#') {
        Some((p, a)) => (p, Some(percent_decode(a)).filter(|a| !a.is_empty())),
        None => (url, None),
    };
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() {
        return match anchor {
            Some(a) => LinkTarget::Anchor(a),
            None => LinkTarget::Refused("empty".into()),
        };
    }
    LinkTarget::Post(path.to_owned(), anchor)
}

/// `%XX` escapes decoded (as UTF-8, lossily); anything else kept.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = s.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The post a relative link `link` in post `from` points at: resolved
/// against `from`'s folder (`/` starts at the posts folder), `..` applied,
/// and matched with or without `.md`/`.markdown` (or `.html`), or as a
/// folder's `index.md`.
fn resolve_post(from: &Path, link: &str, posts: &[Post]) -> Option<usize> {
    let link = percent_decode(link);
    let mut parts: Vec<String> = if link.starts_with('/') {
        Vec::new()
    } else {
        from.parent()
            .map(|d| {
                d.components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    for part in link.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                // Above the posts folder: nothing folio shows.
                parts.pop()?;
            }
            p => parts.push(p.to_owned()),
        }
    }
    let dir_only = link.ends_with('/');
    let last = parts.pop()?;
    let joined = |name: &str| {
        let mut p = parts.clone();
        p.push(name.to_owned());
        p.join("/")
    };
    let mut candidates = Vec::new();
    if !dir_only {
        candidates.push(joined(&last));
        let stem = last
            .strip_suffix(".html")
            .or_else(|| last.strip_suffix(".htm"))
            .unwrap_or(&last);
        if !has_markdown_ext(&last) {
            candidates.push(joined(&format!("{stem}.md")));
            candidates.push(joined(&format!("{stem}.markdown")));
        }
    }
    candidates.push(format!("{}/index.md", joined(&last)));
    candidates.push(format!("{}/index.markdown", joined(&last)));
    let key = |p: &Path| {
        p.components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/")
    };
    for candidate in &candidates {
        if let Some(i) = posts.iter().position(|p| &key(&p.rel_path) == candidate) {
            return Some(i);
        }
    }
    None
}

fn has_markdown_ext(name: &str) -> bool {
    Path::new(name)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("md") || e.eq_ignore_ascii_case("markdown"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snippet_is_found_where_its_text_moved() {
        let body = "intro\n\nThe place I stopped reading, in the middle.\n";
        let at = body.find("The place").unwrap();
        let snippet = snippet_at(body, at);
        assert!(snippet.starts_with("The place I stopped"));
        assert!(snippet.len() <= SNIPPET_BYTES);
        let edited = format!("A new paragraph above.\n\n{body}");
        assert_eq!(find_near(&edited, &snippet, at), at + 24);
        // Of two copies, the nearer one.
        let twice = format!("{body}{}{body}", "x".repeat(500));
        assert_eq!(find_near(&twice, &snippet, at + 560), at + body.len() + 500);
        // Gone: the old offset, kept inside the text and on a char boundary.
        assert_eq!(find_near("short", &snippet, at), 5);
        assert_eq!(find_near("ééé", "zz", 3), 2);
    }

    #[test]
    fn snippets_cut_on_char_boundaries() {
        let body = "é".repeat(40);
        let s = snippet_at(&body, 1);
        assert!(s.starts_with('é'));
        assert_eq!(snippet_at(&body, 1000), "");
    }
}
