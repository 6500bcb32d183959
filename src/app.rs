//! The reader's state and the one place it changes: [`App::update`].
//!
//! No I/O, no clock, no terminal library: a runner (local terminal, a test, an
//! SSH session) feeds [`Action`]s in, reads files when [`App::pending_load`]
//! asks, and draws with [`crate::ui::draw`] when [`App::take_dirty`] says the
//! screen changed.
//!
//! The state is in parts, each a module of its own: the list (`library`),
//! the posts as read and laid out with the in-post search (`reader`), the
//! places `H` and `L` go (`history`), the reading state (`marks`), the
//! search across all posts (`search_all`); and one `Mode` says what has the
//! keyboard. `App` holds them and what crosses them: commands routed to the
//! right part (`commands`), jumps between posts (`jumps`), what runners
//! report (`reports`), and when to redraw.

mod bookmarks;
mod commands;
mod history;
mod jumps;
mod library;
mod links;
mod marks;
mod mode;
mod panes;
mod pictures;
mod prompt;
mod reader;
mod reports;
mod search_all;

use std::borrow::Cow;
use std::ops::Range;

use crate::action::{Action, Effect, Report};
use crate::document::Document;
use crate::keymap::{Key, KeyCode, Keymap};
use crate::mojibake;
use crate::picture::{PictureJob, PictureKey, Pixels};
use crate::posts::Post;
use crate::sanitize::sanitize;
use crate::search::SearchJob;
use crate::state::ReadingChanges;
use crate::theme::Theme;

use history::History;
use library::Library;
use marks::Marks;
use mode::Mode;
use panes::Screen;
use reader::{Reader, Settings};

pub use bookmarks::BookmarkRow;
pub use history::Place;
pub use library::ListFilter;
pub use links::{HINT_KEYS, Hint, HintTarget, LinkMode, hint_labels};
pub use marks::{SNIPPET_BYTES, find_near, snippet_at};
pub use mode::{Focus, Overlay, Prompt};
pub use panes::{NARROW, Panes};
pub use pictures::KEPT_BYTES as PICTURE_BYTES;

pub use reader::{Find, LayoutJob, LayoutKey, Loaded, post_header};
pub use search_all::SearchAll;

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
    /// Whether pictures are drawn (in half blocks), given colour.
    pub images: crate::picture::Images,
    /// Where pictures may come from besides files (remote ones, opt-in).
    pub sources: crate::picture::Sources,
    /// The most memory decoded pictures may hold before the older ones are
    /// dropped (they are decoded again when needed).
    pub picture_bytes: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_width: 100,
            source_label: String::new(),
            wrap_code: true,
            remote: false,
            hyperlinks: true,
            images: crate::picture::Images::Auto,
            sources: crate::picture::Sources::default(),
            picture_bytes: pictures::KEPT_BYTES,
        }
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

/// Everything [`crate::ui`] draws from, compared before and after each
/// change: the one place a redraw is decided. Bulky state stands in by a
/// number that changes with it (a layout number, a version of the list).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Fingerprint {
    size: (u16, u16),
    mode: Mode,
    list_hidden: bool,
    count: Option<usize>,
    message: Option<String>,
    raw: bool,
    details: bool,
    quit: bool,
    themes: u64,
    posts: u64,
    scanning: Option<usize>,
    selected: usize,
    list_top: usize,
    filter: Option<String>,
    marks: u64,
    post: Option<reader::Seen>,
    top: usize,
    find: reader::FindSeen,
    search_all: Option<search_all::Seen>,
    pictures: u64,
    graphics: crate::graphics::Graphics,
}

#[derive(Debug)]
pub struct App {
    pub(crate) theme: Theme,
    pub(crate) keymap: Keymap,
    pub(crate) options: Options,
    pub(crate) size: (u16, u16),
    mode: Mode,
    /// The reader has the whole width (a narrow screen shows one pane
    /// anyway).
    list_hidden: bool,
    count: Option<usize>,
    message: Option<String>,
    raw: bool,
    /// `<details>` blocks shown open (`D`); folded by default.
    details_open: bool,
    library: Library,
    reader: Reader,
    pictures: pictures::Pictures,
    /// How pictures are drawn, and the cell size in pixels they are
    /// encoded at: half blocks until a runner says otherwise.
    graphics: (crate::graphics::Graphics, (u16, u16)),
    history: History,
    marks: Marks,
    search_all: SearchAll,
    effects: Vec<Effect>,
    quit: bool,
    dirty: bool,
    /// Bumped whenever the theme changes: everything on screen restyles.
    themes: u64,
}

impl App {
    pub fn new(posts: Vec<Post>, theme: Theme, keymap: Keymap, options: Options) -> App {
        let pictures = pictures::Pictures::holding(options.picture_bytes);
        App {
            theme,
            keymap,
            options,
            size: (80, 24),
            mode: Mode::List,
            list_hidden: false,
            count: None,
            message: None,
            raw: false,
            details_open: false,
            library: Library::new(posts),
            reader: Reader::default(),
            pictures,
            graphics: (
                crate::graphics::Graphics::Halfblocks,
                crate::graphics::DEFAULT_CELL,
            ),
            history: History::default(),
            marks: Marks::default(),
            search_all: SearchAll::default(),
            effects: Vec::new(),
            quit: false,
            dirty: true,
            themes: 0,
        }
    }

    // --- what runners and the UI read -------------------------------------

    /// While the folder is still being read in the background: how many
    /// posts have arrived.
    pub fn scanning(&self) -> Option<usize> {
        self.library.scanning()
    }

    pub fn posts(&self) -> &[Post] {
        self.library.posts()
    }

    pub fn theme(&self) -> &Theme {
        &self.theme
    }

    pub fn keymap(&self) -> &Keymap {
        &self.keymap
    }

    pub fn focus(&self) -> Focus {
        self.mode.focus()
    }

    /// What is open over the panes.
    pub fn overlay(&self) -> Option<Overlay> {
        self.mode.overlay()
    }

    /// The prompt that has the keyboard, if any.
    pub fn prompt(&self) -> Option<Prompt> {
        self.mode.prompt()
    }

    /// First line of the help overlay on screen.
    pub fn help_top(&self) -> usize {
        match self.mode {
            Mode::Help { top, .. } => top,
            _ => 0,
        }
    }

    pub fn selected(&self) -> Option<usize> {
        (!self.library.posts().is_empty()).then_some(self.library.selected())
    }

    pub fn selected_post(&self) -> Option<&Post> {
        self.library.selected_post()
    }

    /// The first list position on screen.
    pub fn list_top(&self) -> usize {
        self.library.top()
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
        self.reader.current(self.library.selected_key())
    }

    /// The selected post's layout, when it is ready.
    pub fn document(&self) -> Option<&Document> {
        self.reader.document(self.library.selected_key())
    }

    /// First visible line of the reader.
    pub fn reader_top(&self) -> usize {
        self.reader.top(self.library.selected_key())
    }

    /// Whether the list marks `post` unread (only when reading state is
    /// kept).
    pub fn is_unread(&self, post: &Post) -> bool {
        self.marks.is_unread(&post.rel_path)
    }

    /// The places `H` and `L` go to: (back, latest last; forward, next last).
    pub fn history(&self) -> (&[Place], &[Place]) {
        self.history.places()
    }

    /// The hints link mode shows, for the links whose text is on screen and
    /// the code blocks on screen.
    /// Labels are all the same length, so none is a prefix of another.
    pub fn hints(&self) -> Vec<Hint> {
        let Some(doc) = self.document() else {
            return Vec::new();
        };
        let panes = self.panes();
        if panes.reader.is_none() {
            return Vec::new();
        }
        links::hints(doc, panes.text, self.reader_top())
    }

    /// The in-post search: its text is empty when none is active.
    pub fn find(&self) -> &Find {
        self.reader.find()
    }

    /// The in-post search's position: (current match, 1-based; matches),
    /// once the post is laid out.
    pub fn find_count(&self) -> Option<(Option<usize>, usize)> {
        self.reader.find_count()
    }

    /// The matches on document line `line` of the layout on screen, as
    /// column ranges, and whether each is the current one.
    pub fn find_highlights(&self, line: usize) -> Vec<(Range<usize>, bool)> {
        self.reader
            .find_highlights(self.library.selected_key(), line)
    }

    /// The list filter, while one is active.
    pub fn filter(&self) -> Option<&ListFilter> {
        self.library.filter()
    }

    /// How many posts the list shows (all of them, or those the filter
    /// lets through).
    pub fn view_len(&self) -> usize {
        self.library.view_len()
    }

    /// The post shown at list position `pos`.
    pub fn view_at(&self, pos: usize) -> Option<usize> {
        self.library.view_at(pos)
    }

    /// The selected post's position in the list as shown.
    pub fn view_pos(&self) -> Option<usize> {
        self.library.view_pos()
    }

    /// The search across all posts: query, results, progress.
    pub fn search_all(&self) -> &SearchAll {
        &self.search_all
    }

    pub fn is_narrow(&self) -> bool {
        self.size.0 < NARROW
    }

    /// The screen's division at the current size and focus.
    pub fn panes(&self) -> Panes {
        Panes::of(Screen {
            size: self.size,
            posts: !self.library.posts().is_empty(),
            focus: self.focus(),
            list_hidden: self.list_hidden,
            max_width: self.options.max_width,
        })
    }

    /// Rows each list entry takes: a second, dim excerpt line when the pane
    /// is tall enough for that to help rather than crowd.
    pub fn entry_rows(&self) -> usize {
        self.panes().entry_rows()
    }

    /// Entries that fit in the list pane.
    pub fn list_page(&self) -> usize {
        self.panes().list_page()
    }

    // --- what runners take -------------------------------------------------

    /// Side effects asked for since the last call (edit a post, open a URL,
    /// copy to the clipboard), for the runner to carry out in order.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    /// What changed in the reading state since the last call, for the
    /// runner to save; `None` when nothing did.
    pub fn take_reading_changes(&mut self) -> Option<ReadingChanges> {
        self.marks.take_changes(&self.reader)
    }

    /// True once after anything visible changed; the runner redraws then.
    pub fn take_dirty(&mut self) -> bool {
        std::mem::take(&mut self.dirty)
    }

    /// A post the runner should read and report back with
    /// [`Report::Loaded`] under its [`Post::rel_path`]. Each post is asked
    /// for once (again after its file changed).
    pub fn pending_load(&mut self) -> Option<Post> {
        let post = self.library.selected_post()?;
        self.reader.ask(&post.rel_path).then(|| post.clone())
    }

    /// Work for the runner: the selected post's final layout, asked for once
    /// per quick layout.
    pub fn pending_layout(&mut self) -> Option<LayoutJob> {
        let post = self.library.selected_post()?;
        self.reader.pending_layout(
            post,
            &self.theme,
            self.options.wrap_code,
            self.pictures_shown(),
        )
    }

    /// How pictures are drawn where the whole picture is on screen.
    pub fn graphics(&self) -> crate::graphics::Graphics {
        self.graphics.0
    }

    /// Whether pictures are drawn: the setting, and colour to draw with.
    pub fn pictures_shown(&self) -> bool {
        self.options.images.shown(self.theme.depth)
    }

    /// Work for the runner: the pictures of the selected post on screen or
    /// a screen away, each asked for once.
    pub fn pending_pictures(&mut self) -> Vec<PictureJob> {
        let mut jobs = Vec::new();
        if !self.pictures_shown() {
            return jobs;
        }
        let Some(doc) = self.document() else {
            return jobs;
        };
        let top = self.reader_top();
        let height = usize::from(self.size.1);
        let wanted: Vec<PictureJob> = doc
            .pictures_on(top.saturating_sub(height)..top + 2 * height)
            .filter_map(|pic| self.picture_job(pic).ok())
            .collect();
        for job in wanted {
            if self.pictures.ask(&job.key) {
                jobs.push(job);
            }
        }
        jobs
    }

    /// The survey of the selected post's pictures, made when it was read.
    pub(crate) fn survey(&self) -> Option<&crate::picture::Survey> {
        match self.reader.current(self.library.selected_key()) {
            Some(Loaded::Ready { source, .. }) => Some(&source.pictures),
            _ => None,
        }
    }

    fn picture_job(&self, pic: &crate::document::Picture) -> Result<PictureJob, &str> {
        match self.survey().and_then(|s| s.get(&pic.src)) {
            Some(crate::picture::Spot::Found {
                root, file, url, ..
            }) => Ok(PictureJob {
                key: PictureKey {
                    file: file.clone(),
                    cols: pic.cols,
                    rows: pic.rows,
                    depth: self.theme.depth,
                    graphics: self.graphics.0,
                    cell: self.graphics.1,
                },
                root: root.clone(),
                url: url.clone(),
            }),
            Some(crate::picture::Spot::Refused(why)) => Err(why),
            // Rows are kept only for pictures the survey found.
            None => Err("picture not found"),
        }
    }

    /// What to draw for `pic` of the selected post: `None` while it is
    /// being decoded, else its cells or why it cannot be shown.
    pub fn picture(&self, pic: &crate::document::Picture) -> Option<Result<&Pixels, &str>> {
        let job = match self.picture_job(pic) {
            Ok(job) => job,
            Err(why) => return Some(Err(why)),
        };
        let half_blocks = || PictureKey {
            graphics: crate::graphics::Graphics::Halfblocks,
            cell: crate::graphics::DEFAULT_CELL,
            ..job.key.clone()
        };
        // While a picture is decoded again for a protocol just chosen, its
        // half blocks stay rather than its alt text.
        self.pictures
            .get(&job.key)
            .or_else(|| self.pictures.get(&half_blocks()))
            .map(|d| d.as_ref().map(AsRef::as_ref).map_err(String::as_str))
    }

    /// Work for the runner: the search across all posts, once per change
    /// of its query. The runner reads each target and reports back with
    /// [`Report::SearchResults`] carrying the job's generation; results of
    /// an older generation are dropped, so the runner can abandon a job as
    /// soon as a newer one arrives.
    pub fn pending_search(&mut self) -> Option<SearchJob> {
        self.search_all.job(self.library.posts())
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
        match self.mode {
            // In link mode the hint letters name links, whatever they do
            // elsewhere.
            Mode::Links { .. } => {
                if let (KeyCode::Char(c), false, false) = (key.code, key.ctrl, key.alt)
                    && HINT_KEYS.contains(c)
                {
                    self.update(Action::Hint(c));
                    return;
                }
            }
            // In the bookmark list `d` (or Delete) deletes, whatever it does
            // elsewhere.
            Mode::Bookmarks { selected, over }
                if (key.code == KeyCode::Char('d') && !key.ctrl) || key.code == KeyCode::Delete =>
            {
                self.changing(|app| {
                    app.message = None;
                    app.delete_bookmark(selected, over);
                });
                return;
            }
            Mode::Prompt { .. } => {
                if let Some(edit) = prompt::prompt_edit(key) {
                    self.update(Action::Edit(edit));
                    return;
                }
                // Ctrl-c still quits; other keys do nothing while typing.
                if key != Key::ctrl('c') {
                    return;
                }
            }
            _ => {}
        }
        if let Some(action) = self.keymap.action(key, self.count.is_some()) {
            self.update(action);
        } else if self.count.is_some() {
            self.changing(|app| app.count = None);
        }
    }

    /// Applies what a person did. With [`App::report`], the only ways the
    /// app's state changes.
    pub fn update(&mut self, action: Action) {
        self.changing(|app| {
            if !matches!(action, Action::Digit(_) | Action::Resize(..)) {
                app.message = None;
            }
            if matches!(
                action,
                Action::Command(_)
                    | Action::Click(..)
                    | Action::Scroll(..)
                    | Action::Edit(_)
                    | Action::Hint(_)
            ) {
                app.library.touch();
            }
            match action {
                Action::Command(cmd) => {
                    let count = app.count.take();
                    app.command(cmd, count);
                }
                Action::Digit(d) => {
                    let n = app
                        .count
                        .unwrap_or(0)
                        .saturating_mul(10)
                        .saturating_add(usize::from(d));
                    app.count = Some(n.min(999_999));
                }
                Action::Resize(w, h) => app.size = (w, h),
                Action::Scroll(dir, col, row) => app.wheel(dir, col, row),
                Action::Click(col, row) => app.click(col, row),
                Action::Hint(c) => app.hint_typed(c),
                Action::Edit(edit) => app.edit(edit),
            }
            app.settle();
        });
    }

    /// Applies what a runner reports: finished work, changes on disk,
    /// messages.
    pub fn report(&mut self, report: Report) {
        self.changing(|app| {
            match report {
                Report::Loaded(key, result) => app.loaded_post(&key, result),
                Report::SetTheme(theme) => app.set_theme(*theme),
                Report::Graphics(graphics, cell) => app.graphics = (graphics, cell),
                Report::LaidOut { key, layout, doc } => app.reader.laid_out(&key, layout, *doc),
                Report::Picture(key, decoded) => app.pictures.arrived(&key, decoded),
                Report::PostsChanged(posts) => app.posts_changed(posts),
                Report::PostsRead { posts, done } => app.posts_read(posts, done),
                Report::PostChanged(key) => {
                    app.reader.changed(&key);
                }
                Report::RestoreReading(reading) => app.restore_reading(*reading),
                Report::Notify(message) => app.message = Some(message),
                Report::SearchResults {
                    generation,
                    hits,
                    scanned,
                    done,
                } => app.search_all.found(generation, hits, scanned, done),
            }
            app.settle();
        });
    }

    /// Shows `message` in the status bar until the next key (start-up
    /// problems with the config or a theme, say).
    pub fn notify(&mut self, message: impl Into<String>) {
        let message = message.into();
        self.changing(|app| app.message = Some(message));
    }

    /// Runs `change`, then asks for a redraw if anything on screen is
    /// different: the one place a redraw is decided.
    fn changing(&mut self, change: impl FnOnce(&mut App)) {
        let before = self.fingerprint();
        change(self);
        if self.fingerprint() != before {
            self.dirty = true;
        }
    }

    fn fingerprint(&self) -> Fingerprint {
        let key = self.library.selected_key();
        Fingerprint {
            size: self.size,
            mode: self.mode,
            list_hidden: self.list_hidden,
            count: self.count,
            message: self.message.clone(),
            raw: self.raw,
            details: self.details_open,
            quit: self.quit,
            themes: self.themes,
            posts: self.library.version(),
            scanning: self.library.scanning(),
            selected: self.library.selected(),
            list_top: self.library.top(),
            filter: self.library.filter().map(|f| f.text.clone()),
            marks: self.marks.version(),
            post: self.reader.seen(key),
            top: self.reader.top(key),
            find: self.reader.find_seen(),
            // Drawn only while its overlay is open.
            search_all: (self.mode.prompt() == Some(Prompt::SearchAll))
                .then(|| self.search_all.seen()),
            pictures: self.pictures.version,
            graphics: self.graphics.0,
        }
    }

    /// What every change ends with: layouts, jumps and reading state
    /// brought up to date.
    fn settle(&mut self) {
        self.settle_layout();
        self.finish_jump();
        self.settle_reading();
    }

    /// Keeps derived state true after any change: the selected post laid out
    /// at the current width (anchored to the same text), the selection
    /// visible in the list, the reader position in range, the in-post
    /// search on the layout shown.
    fn settle_layout(&mut self) {
        let panes = self.panes();
        let (reader, library, s) = self.layout_parts();
        if let Some(post) = library.selected_post() {
            reader.fit(post, s);
        }
        self.library.keep_in_view(panes.list_page());
        if let Mode::Outline { over, .. } = self.mode
            && (self.library.posts().is_empty() || (self.is_narrow() && over == Focus::List))
        {
            self.mode = Mode::pane(over);
        }
        let top = self.reader_top();
        let key = self.library.selected_key();
        if let Some(top) = self.reader.settle_find(key, top, panes.reader_height()) {
            self.set_top(top);
        }
    }

    /// The reader to lay out in, the list the posts are in, and what
    /// layouts are made with now, borrowed apart.
    fn layout_parts(&mut self) -> (&mut Reader, &Library, Settings<'_>) {
        let s = Settings {
            width: self.panes().text_width(),
            theme: &self.theme,
            raw: self.raw,
            wrap_code: self.options.wrap_code,
            pictures: self.pictures_shown(),
            details: self.details_open,
        };
        (&mut self.reader, &self.library, s)
    }

    /// Read marking, after any change: a post counts as read once its end
    /// has been on screen in the reader; and the post open in the reader is
    /// the one to reopen next time.
    fn settle_reading(&mut self) {
        if self.focus() != Focus::Reader {
            return;
        }
        let height = self.panes().reader_height();
        let Some(key) = self.library.selected_key() else {
            return;
        };
        let end_seen = match self.reader.current(Some(key)) {
            Some(Loaded::Ready {
                doc, whole: true, ..
            }) => self.reader.top(Some(key)) + height >= doc.len(),
            _ => false,
        };
        self.marks.opened(key, end_seen);
    }

    /// Puts line `top` of the selected post at the top of the reader.
    fn set_top(&mut self, top: usize) {
        let Some(key) = self.library.selected_key() else {
            return;
        };
        if self.reader.set_top(key, top) {
            self.marks.moved(key);
        }
    }

    /// Selects post `index`; the outline, which belongs to a post, closes.
    fn select(&mut self, index: usize) {
        if self.library.select(index) {
            self.close_outline();
        }
    }

    fn close_outline(&mut self) {
        if let Mode::Outline { over, .. } = self.mode {
            self.mode = Mode::pane(over);
        }
    }

    /// Selects the post at list position `pos` (clamped to the list).
    fn select_pos(&mut self, pos: usize) {
        if let Some(index) = self.library.at_pos(pos) {
            self.select(index);
        }
    }

    /// Ranks the posts by the filter's text and selects the best match.
    fn refilter(&mut self) {
        if let Some(best) = self.library.refilter(self.raw) {
            self.select(best);
        }
    }
}

/// A post of `text` with the path `rel_path`, for the parts' tests.
#[cfg(test)]
pub(crate) fn test_post(rel_path: &str, text: &'static str) -> Post {
    crate::posts::post_from_text(
        crate::posts::Origin::Embedded(text),
        rel_path.into(),
        text,
        false,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::{Command, Edit, Wheel};
    use crate::search::Hit;

    const LONG: &str = "# Long\n\nA needle here.\n\nA needle there.\n\n## Two\n\nText.\n\n## Three\n\nText.\n\n## Four\n\nText.\n\n## Five\n\nThe end.\n";

    /// Two posts, the first open in the reader at 100×8, laid out.
    fn reading() -> App {
        let posts = vec![
            test_post("long.md", LONG),
            test_post("short.md", "# Short\n\nShort.\n"),
        ];
        let mut app = App::new(
            posts,
            Theme::default(),
            Keymap::default(),
            Options::default(),
        );
        app.update(Action::Resize(100, 8));
        app.update(Command::Open.into());
        settle(&mut app);
        assert!(app.document().is_some());
        app
    }

    /// What a runner does between keys: reads and lays out what the app
    /// asks for.
    fn settle(app: &mut App) {
        while let Some(post) = app.pending_load() {
            let source = post.read_source().map_err(|e| e.to_string());
            app.report(Report::Loaded(post.rel_path.clone(), source));
        }
        while let Some(job) = app.pending_layout() {
            app.report(job.run());
        }
    }

    fn redraws(app: &mut App, change: impl FnOnce(&mut App)) -> bool {
        app.take_dirty();
        change(app);
        app.take_dirty()
    }

    #[test]
    fn what_changes_the_screen_redraws_it() {
        let mut app = reading();
        // Once only set by hand next to the change, now seen by comparing.
        assert!(redraws(&mut app, |a| a.notify("Hello")));
        assert!(redraws(&mut app, |a| a.update(Command::Search.into())));
        assert!(redraws(&mut app, |a| a.update(Action::Edit(Edit::Insert('n')))));
        for c in "eedle".chars() {
            app.update(Action::Edit(Edit::Insert(c)));
        }
        assert!(redraws(&mut app, |a| a.update(Action::Edit(Edit::Accept))));
        assert_eq!(app.find_count(), Some((Some(1), 2)));
        // The next match is on screen: only the highlight moves.
        let top = app.reader_top();
        assert!(redraws(&mut app, |a| a.update(Command::NextMatch.into())));
        assert_eq!(app.reader_top(), top);
        assert!(redraws(&mut app, |a| {
            a.report(Report::SetTheme(Box::new(Theme::builtin("light").unwrap())));
        }));
        // The list filter, a keystroke at a time.
        app.update(Command::Back.into());
        app.update(Command::Back.into());
        assert_eq!(app.focus(), Focus::List);
        app.update(Command::Search.into());
        assert!(redraws(&mut app, |a| a.update(Action::Edit(Edit::Insert('s')))));
        assert!(redraws(&mut app, |a| a.update(Action::Edit(Edit::Insert('h')))));
        // Results of the search across all posts, while it is open.
        app.update(Action::Edit(Edit::Cancel));
        app.update(Command::SearchAll.into());
        app.update(Action::Edit(Edit::Insert('x')));
        let job = app.pending_search().unwrap();
        let hit = Hit {
            index: 0,
            rel_path: "long.md".into(),
            offset: 0,
            line: 1,
            before: String::new(),
            matched: "x".into(),
            after: String::new(),
        };
        assert!(redraws(&mut app, |a| a.report(Report::SearchResults {
            generation: job.generation,
            hits: vec![hit],
            scanned: 2,
            done: true,
        })));
    }

    #[test]
    fn the_list_alone_redraws_for_a_theme_and_read_marks() {
        let mut app = App::new(
            vec![test_post("a.md", "# A\n")],
            Theme::default(),
            Keymap::default(),
            Options::default(),
        );
        let light = Theme::builtin("light").unwrap();
        assert!(redraws(&mut app, |a| {
            a.report(Report::SetTheme(Box::new(light)));
        }));
        assert!(
            redraws(&mut app, |a| a
                .report(Report::RestoreReading(Box::default()))),
            "unread marks show"
        );
        assert!(app.is_unread(&app.posts()[0]));
    }

    #[test]
    fn what_changes_nothing_on_screen_does_not() {
        let mut app = reading();
        app.update(Command::Back.into());
        app.update(Command::Down.into());
        settle(&mut app);
        app.update(Command::Up.into());
        assert!(
            !redraws(&mut app, |a| a.update(Command::Up.into())),
            "at the top"
        );
        assert!(
            !redraws(&mut app, |a| a.key(Key::char('§'))),
            "bound to nothing"
        );
        assert!(
            !redraws(&mut app, |a| a.update(Action::Scroll(Wheel::Down, 1, 7))),
            "the wheel over the status bar"
        );
        // The post not shown was edited: it is read again when shown.
        assert!(!redraws(&mut app, |a| a
            .report(Report::PostChanged("short.md".into()))));
        assert!(app.pending_load().is_none());
        assert!(
            !redraws(&mut app, |a| {
                a.report(Report::SetTheme(Box::default()));
            }),
            "the same theme"
        );
        // Results of a search that is closed, and of an older one.
        app.update(Command::SearchAll.into());
        app.update(Action::Edit(Edit::Insert('x')));
        let old = app.pending_search().unwrap();
        app.update(Action::Edit(Edit::Insert('y')));
        let stale = Report::SearchResults {
            generation: old.generation,
            hits: Vec::new(),
            scanned: 2,
            done: true,
        };
        assert!(!redraws(&mut app, |a| a.report(stale.clone())));
        app.update(Action::Edit(Edit::Cancel));
        let new = app.pending_search().unwrap();
        assert!(!redraws(&mut app, |a| a.report(Report::SearchResults {
            generation: new.generation,
            hits: Vec::new(),
            scanned: 2,
            done: true,
        })));
    }

    #[test]
    fn one_mode_at_a_time() {
        let mut app = reading();
        app.update(Command::Outline.into());
        assert!(matches!(app.overlay(), Some(Overlay::Outline { .. })));
        app.update(Command::Help.into());
        assert_eq!(
            app.overlay(),
            Some(Overlay::Help),
            "help replaces the outline"
        );
        app.update(Command::Help.into());
        assert_eq!(app.overlay(), None);
        assert_eq!(app.focus(), Focus::Reader, "back to the pane underneath");
        app.update(Command::Search.into());
        assert_eq!(app.prompt(), Some(Prompt::Find));
        app.update(Action::Edit(Edit::Cancel));
        app.update(Command::SearchAll.into());
        assert_eq!(app.prompt(), Some(Prompt::SearchAll));
        assert_eq!(app.overlay(), Some(Overlay::SearchAll));
        // Keys type into the prompt, whatever they are bound to.
        app.key(Key::char('q'));
        assert!(!app.should_quit());
        assert_eq!(app.search_all().text, "q");
        app.key(Key::ctrl('c'));
        assert!(app.should_quit());
    }
}
