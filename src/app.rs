//! The reader's state and the one place it changes: [`App::update`].
//!
//! No I/O, no clock, no terminal library: a runner (local terminal, a test, an
//! SSH session) feeds [`Action`]s in, reads files when [`App::pending_load`]
//! asks, and draws with [`crate::ui::draw`] when [`App::take_dirty`] says the
//! screen changed.

use std::collections::HashMap;

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::action::{Action, Command, Wheel};
use crate::document::Document;
use crate::keymap::{Key, KeyCode, Keymap};
use crate::markdown;
use crate::mojibake;
use crate::posts::{Post, PostSource};
use crate::sanitize::{sanitize, wrap_words};
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
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_width: 100,
            source_label: String::new(),
            wrap_code: true,
            remote: false,
        }
    }
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
        /// Which layout this is: a job's result replaces exactly the layout
        /// it was made for, never a newer one (other width, raw setting or
        /// theme).
        layout: u64,
    },
}

/// Laying out a post in full, with its code highlighted: syntect and the
/// length of a long post are the slow parts of layout, so the runner does
/// this off the key path and reports back with [`Action::LaidOut`]. A quick
/// layout shows meanwhile: the same lines without highlighting, and of a long
/// post only its start.
#[derive(Debug, Clone)]
pub struct LayoutJob {
    pub index: usize,
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
    pub fn key(&self) -> LayoutKey {
        LayoutKey {
            rel_path: self.post.rel_path.clone(),
            width: self.width,
            raw: self.raw,
            wrap_code: self.wrap_code,
            theme: self.theme.name.clone(),
            depth: self.theme.depth,
        }
    }

    /// The action for `doc`, a layout made by a job with an equal key.
    pub fn done(&self, doc: Box<Document>) -> Action {
        Action::LaidOut {
            index: self.index,
            layout: self.layout,
            doc,
        }
    }

    /// The final layout, as an action for [`App::update`].
    pub fn run(&self) -> Action {
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
        Action::LaidOut {
            index: self.index,
            layout: self.layout,
            doc: Box::new(doc),
        }
    }
}

/// The reader's position in one post: the top line at the current layout,
/// and the source offset it shows, which survives a relayout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Position {
    top: usize,
    anchor: usize,
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
    loaded: HashMap<usize, Loaded>,
    /// The last highlight job handed out: (post, width, raw).
    layout_asked: Option<u64>,
    /// Numbers layouts for [`Loaded::Ready::layout`].
    layouts_made: u64,
    positions: HashMap<usize, Position>,
    quit: bool,
    dirty: bool,
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
            quit: false,
            dirty: true,
        }
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
        self.loaded.get(&self.selected)
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
        self.positions.get(&self.selected).map_or(0, |p| p.top)
    }

    /// True once after anything visible changed; the runner redraws then.
    pub fn take_dirty(&mut self) -> bool {
        std::mem::take(&mut self.dirty)
    }

    /// A post the runner should read and report back with
    /// [`Action::Loaded`]. Each post is asked for once.
    pub fn pending_load(&mut self) -> Option<(usize, Post)> {
        let post = self.posts.get(self.selected)?;
        if self.loaded.contains_key(&self.selected) {
            return None;
        }
        self.loaded.insert(self.selected, Loaded::Loading);
        Some((self.selected, post.clone()))
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
        if let Some(action) = self.keymap.action(key, self.count.is_some()) {
            self.update(action);
        } else if self.count.take().is_some() {
            self.dirty = true;
        }
    }

    /// Applies one action. The only way the app's state changes.
    pub fn update(&mut self, action: Action) {
        let before = self.fingerprint();
        if !matches!(
            action,
            Action::Digit(_)
                | Action::Loaded(..)
                | Action::Resize(..)
                | Action::SetTheme(_)
                | Action::LaidOut { .. }
        ) {
            self.message = None;
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
            Action::Loaded(index, result) => self.loaded_post(index, result),
            Action::SetTheme(theme) => self.set_theme(*theme),
            Action::LaidOut { index, layout, doc } => self.laid_out(index, layout, *doc),
        }
        self.settle_layout();
        if self.fingerprint() != before {
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
        }
    }

    fn command(&mut self, cmd: Command, count: Option<usize>) {
        let n = count.unwrap_or(1).max(1);
        match (cmd, self.overlay) {
            (Command::Quit, _) => self.quit = true,
            (Command::Help | Command::Back, Some(Overlay::Help)) => {
                self.overlay = None;
            }
            (Command::Help, _) => self.overlay = Some(Overlay::Help),
            (Command::ToggleRaw, _) => {
                self.raw = !self.raw;
                self.message = Some(if self.raw {
                    "Showing text as stored (R repairs mis-decoded text)".into()
                } else {
                    "Repairing mis-decoded text (R shows it as stored)".into()
                });
            }
            (_, Some(Overlay::Help)) => {}
            (_, Some(Overlay::Outline { selected })) => self.outline_command(cmd, selected, n),
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
            Command::NextPost => {
                self.select(self.selected.saturating_add(n));
                self.focus = Focus::Reader;
            }
            Command::PrevPost => {
                self.select(self.selected.saturating_sub(n));
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
        let last = self.posts.len().saturating_sub(1);
        match cmd {
            Command::Down => self.select(self.selected.saturating_add(n)),
            Command::Up => self.select(self.selected.saturating_sub(n)),
            Command::HalfPageDown => self.select(self.selected + n * (page / 2).max(1)),
            Command::HalfPageUp => self.select(self.selected.saturating_sub(n * (page / 2).max(1))),
            Command::PageDown => self.select(self.selected + n * page),
            Command::PageUp => self.select(self.selected.saturating_sub(n * page)),
            Command::Top => self.select(0),
            Command::Bottom => self.select(count.map_or(last, |c| c.saturating_sub(1))),
            Command::Open if !self.posts.is_empty() => self.focus = Focus::Reader,
            _ => {}
        }
    }

    fn reader_command(&mut self, cmd: Command, count: Option<usize>, n: usize) {
        let height = self.reader_height();
        let half = (height / 2).max(1);
        match cmd {
            Command::Back => {
                self.focus = Focus::List;
                self.list_hidden = false;
            }
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
        let Some(doc) = self.document() else {
            return;
        };
        let top = top.min(doc.len().saturating_sub(1));
        let anchor = doc.offset_of_line(top);
        self.positions
            .insert(self.selected, Position { top, anchor });
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

    fn wheel(&mut self, dir: Wheel, col: u16, row: u16) {
        let panes = self.panes();
        let down = dir == Wheel::Down;
        if panes.list.is_some_and(|r| r.contains((col, row).into())) {
            if down {
                self.select(self.selected.saturating_add(1));
            } else {
                self.select(self.selected.saturating_sub(1));
            }
        } else if panes.reader.is_some_and(|r| r.contains((col, row).into()))
            && self.overlay.is_none()
        {
            self.scroll_by(WHEEL_LINES, down);
        }
    }

    fn click(&mut self, col: u16, row: u16) {
        let panes = self.panes();
        if let Some(list) = panes.list.filter(|r| r.contains((col, row).into())) {
            let entry = self.list_top + usize::from(row - list.y) / self.entry_rows();
            if entry < self.posts.len() {
                self.select(entry);
            }
            self.focus = Focus::List;
        } else if panes.reader.is_some_and(|r| r.contains((col, row).into()))
            && !self.posts.is_empty()
        {
            self.focus = Focus::Reader;
        }
    }

    fn loaded_post(&mut self, index: usize, result: Result<PostSource, String>) {
        if index >= self.posts.len() {
            return;
        }
        let state = match result {
            Ok(source) => self.ready(index, source),
            Err(e) => Loaded::Failed(e),
        };
        self.loaded.insert(index, state);
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
        let ready: Vec<usize> = self
            .loaded
            .iter()
            .filter_map(|(i, l)| matches!(l, Loaded::Ready { .. }).then_some(*i))
            .collect();
        for index in ready {
            if let Some(Loaded::Ready { source, .. }) = self.loaded.remove(&index) {
                let ready = self.ready(index, source);
                self.loaded.insert(index, ready);
            }
        }
        self.dirty = true;
    }

    /// The quick layout of post `index` at the current text width: no code
    /// highlighting, and of a long post only its start (a [`LayoutJob`]
    /// makes the final one). Also: whether mojibake was repaired, and whether
    /// it covers the whole post.
    fn layout(&self, index: usize, source: &PostSource) -> (Document, bool, bool) {
        let opts = markdown::RenderOptions {
            wrap_code: self.options.wrap_code,
            highlight: false,
        };
        let (quick, whole) = quick_part(source);
        let (doc, repaired) = lay_out(
            &self.posts[index],
            &quick,
            self.text_width(),
            &self.theme,
            opts,
            self.raw,
        );
        (doc, repaired, whole)
    }

    /// A ready post in its quick layout, complete when that is already the
    /// final one (the whole post, and a theme that highlights nothing).
    fn ready(&mut self, index: usize, source: PostSource) -> Loaded {
        let (doc, repaired, whole) = self.layout(index, &source);
        self.layouts_made += 1;
        Loaded::Ready {
            source,
            doc,
            raw: self.raw,
            repaired,
            complete: whole && self.theme.syntax.is_off(),
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
        }) = self.loaded.get(&self.selected)
        else {
            return None;
        };
        if self.layout_asked == Some(*layout) {
            return None;
        }
        self.layout_asked = Some(*layout);
        Some(LayoutJob {
            index: self.selected,
            layout: *layout,
            width: doc.width,
            raw: *raw,
            post: self.posts[self.selected].clone(),
            source: source.clone(),
            theme: self.theme.clone(),
            wrap_code: self.options.wrap_code,
        })
    }

    fn laid_out(&mut self, index: usize, layout: u64, new_doc: Document) {
        let Some(Loaded::Ready {
            doc,
            complete,
            layout: current,
            ..
        }) = self.loaded.get_mut(&index)
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
            .get(&index)
            .map(|p| (p.top, doc.offset_of_line(p.top), line_text(doc, p.top)));
        *doc = new_doc;
        *complete = true;
        if let Some((top, anchor, text)) = old_top
            && line_text(doc, top) != text
            && let Some(pos) = self.positions.get_mut(&index)
        {
            pos.top = doc.line_for_offset(anchor);
        }
        self.dirty = true;
    }

    /// Keeps derived state true after any change: the selected post laid out
    /// at the current width (anchored to the same text), the selection
    /// visible in the list, the reader position in range.
    fn settle_layout(&mut self) {
        let width = self.text_width();
        if let Some(Loaded::Ready { doc, raw, .. }) = self.loaded.get(&self.selected)
            && (doc.width != width || *raw != self.raw)
        {
            let Some(Loaded::Ready { source, .. }) = self.loaded.remove(&self.selected) else {
                unreachable!("checked above");
            };
            let ready = self.ready(self.selected, source);
            if let (Some(pos), Loaded::Ready { doc, .. }) =
                (self.positions.get_mut(&self.selected), &ready)
            {
                pos.top = if pos.top == 0 {
                    0
                } else {
                    doc.line_for_offset(pos.anchor)
                };
            }
            self.loaded.insert(self.selected, ready);
        }
        let page = self.list_page();
        if self.selected < self.list_top {
            self.list_top = self.selected;
        } else if self.selected >= self.list_top + page {
            self.list_top = self.selected + 1 - page;
        }
        let max_list_top = self.posts.len().saturating_sub(page);
        self.list_top = self
            .list_top
            .min(max_list_top.max(self.selected.saturating_sub(page - 1)));
        if let Some(len) = self.document().map(Document::len)
            && let Some(pos) = self.positions.get_mut(&self.selected)
        {
            pos.top = pos.top.min(len.saturating_sub(1));
        }
        if (self.posts.is_empty() || (self.is_narrow() && self.focus == Focus::List))
            && matches!(self.overlay, Some(Overlay::Outline { .. }))
        {
            self.overlay = None;
        }
    }
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
    let body = if raw {
        std::borrow::Cow::Borrowed(source.body())
    } else {
        mojibake::repair(source.body())
    };
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
    doc.prepend(notices);
    (doc, repaired)
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
        text: source.text[..source.body_start + cut].to_owned(),
        ..*source
    };
    (std::borrow::Cow::Owned(quick), false)
}
