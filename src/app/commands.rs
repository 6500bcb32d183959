//! What a command does, by mode: routed once to the part it is for (the
//! list, the reader, an overlay), and what the mouse does.

use crate::action::{Command, Effect, Wheel};
use crate::posts::Origin;

use super::links::{self, Hint, HintTarget, LinkMode};
use super::mode::Mode;
use super::{App, Focus, Prompt};

/// Lines the mouse wheel scrolls per notch.
const WHEEL_LINES: usize = 3;

impl App {
    /// Routes `cmd` by mode, once: to the overlay that is open, or to the
    /// pane that has focus (a prompt of the pane's own, find or filter,
    /// stays open under commands that do not close it).
    pub(super) fn command(&mut self, cmd: Command, count: Option<usize>) {
        let n = count.unwrap_or(1).max(1);
        match (self.mode, cmd) {
            (_, Command::Quit) => self.quit = true,
            (Mode::Help { over, .. }, Command::Help | Command::Back)
            | (Mode::Links { over, .. }, Command::Back | Command::FollowLink) => {
                self.mode = Mode::pane(over);
            }
            (mode, Command::Help) => {
                self.mode = Mode::Help {
                    top: 0,
                    over: mode.focus(),
                };
            }
            (Mode::Help { top, over }, _) => {
                let top = self.help_scrolled(top, cmd, n);
                self.mode = Mode::Help { top, over };
            }
            (_, Command::ToggleRaw) => self.toggle_raw(),
            (_, Command::ToggleDetails) => self.toggle_details(),
            (
                Mode::Prompt {
                    prompt: Prompt::SearchAll,
                    ..
                },
                _,
            ) => {}
            (_, Command::SearchAll) => self.open_search_all(),
            (Mode::Outline { selected, over }, _) => self.outline_command(cmd, selected, over, n),
            (Mode::Bookmarks { selected, over }, _) => {
                self.bookmarks_command(cmd, selected, over, n);
            }
            (_, Command::Bookmarks) => self.open_bookmarks(),
            (Mode::Links { mode, over }, Command::CopyLink) => {
                self.mode = Mode::Links {
                    mode: LinkMode::new(!mode.copy),
                    over,
                };
            }
            (Mode::Links { over, .. }, _) => {
                // Any other key leaves link mode and does what it does.
                self.mode = Mode::pane(over);
                self.pane_command(cmd, count, n);
            }
            (_, Command::Edit) => self.edit_post(),
            // What is left is a pane, maybe with its find or filter prompt.
            (mode, _) if mode.focus() == Focus::List => self.list_command(cmd, count, n),
            _ => self.reader_command(cmd, count, n),
        }
    }

    /// A command for the pane that has focus.
    fn pane_command(&mut self, cmd: Command, count: Option<usize>, n: usize) {
        match self.focus() {
            Focus::List => self.list_command(cmd, count, n),
            Focus::Reader => self.reader_command(cmd, count, n),
        }
    }

    fn list_command(&mut self, cmd: Command, count: Option<usize>, n: usize) {
        let page = self.list_page();
        let last = self.library.view_len().saturating_sub(1);
        let pos = self.library.view_pos().unwrap_or(0);
        match cmd {
            Command::Down => self.select_pos(pos.saturating_add(n)),
            Command::Up => self.select_pos(pos.saturating_sub(n)),
            Command::HalfPageDown => self.select_pos(pos + n * (page / 2).max(1)),
            Command::HalfPageUp => self.select_pos(pos.saturating_sub(n * (page / 2).max(1))),
            Command::PageDown => self.select_pos(pos + n * page),
            Command::PageUp => self.select_pos(pos.saturating_sub(n * page)),
            Command::Top => self.select_pos(0),
            Command::Bottom => self.select_pos(count.map_or(last, |c| c.saturating_sub(1))),
            Command::Open if self.library.view_pos().is_some() => {
                self.mode = self.mode.with_focus(Focus::Reader);
            }
            Command::Search => self.open_filter(),
            Command::Back if self.library.filter().is_some() => self.library.drop_filter(),
            Command::ToggleRead => self.toggle_read(),
            _ => self.either_pane_command(cmd, n),
        }
    }

    fn reader_command(&mut self, cmd: Command, count: Option<usize>, n: usize) {
        let height = self.panes().reader_height();
        let half = (height / 2).max(1);
        match cmd {
            // Esc first clears the highlighted matches, then goes back.
            Command::Back if !self.reader.find().text.is_empty() => self.reader.clear_find(),
            Command::Back => {
                self.mode = self.mode.with_focus(Focus::List);
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
                let key = self.library.selected_key();
                let target =
                    count.map_or(self.reader.max_top(key, height), |c| c.saturating_sub(1));
                self.set_top(target);
            }
            _ => self.either_pane_command(cmd, n),
        }
    }

    /// Commands that do the same from the list and the reader.
    fn either_pane_command(&mut self, cmd: Command, n: usize) {
        match cmd {
            Command::ToggleList => {
                self.list_hidden = !self.list_hidden;
                if self.list_hidden {
                    self.mode = self.mode.with_focus(Focus::Reader);
                }
            }
            Command::FocusNext | Command::FocusPrev => {
                let focus = match self.focus() {
                    Focus::List if !self.library.posts().is_empty() => Focus::Reader,
                    _ => Focus::List,
                };
                self.mode = self.mode.with_focus(focus);
                if focus == Focus::List {
                    self.list_hidden = false;
                }
            }
            Command::NextHeading | Command::PrevHeading | Command::Outline => {
                if self.library.posts().is_empty() {
                    return;
                }
                self.mode = self.mode.with_focus(Focus::Reader);
                self.heading_command(cmd, n);
            }
            Command::FollowLink | Command::CopyLink => {
                if self.document().is_none() || self.panes().reader.is_none() {
                    self.message = Some("Open a post to follow its links".into());
                } else if self.hints().is_empty() {
                    self.message = Some("No links or code on this screen".into());
                } else {
                    self.mode = Mode::Links {
                        mode: LinkMode::new(cmd == Command::CopyLink),
                        over: self.focus(),
                    };
                }
            }
            Command::ToggleBookmark => self.toggle_bookmark(),
            Command::HistoryBack => self.history_step(true),
            Command::HistoryForward => self.history_step(false),
            Command::NextPost | Command::PrevPost => {
                let Some(pos) = self.library.view_pos() else {
                    return;
                };
                if cmd == Command::NextPost {
                    self.select_pos(pos.saturating_add(n));
                } else {
                    self.select_pos(pos.saturating_sub(n));
                }
                self.mode = self.mode.with_focus(Focus::Reader);
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
                self.mode = Mode::Outline {
                    selected,
                    over: self.focus(),
                };
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

    fn outline_command(&mut self, cmd: Command, selected: usize, over: Focus, n: usize) {
        let total = self.document().map_or(0, |d| d.headings.len());
        let last = total.saturating_sub(1);
        let page = self.panes().reader_height().saturating_sub(2).max(1);
        if let Some(selected) = list_step(cmd, selected, last, page, n) {
            self.mode = Mode::Outline { selected, over };
            return;
        }
        match cmd {
            Command::Open => {
                if let Some(line) = self
                    .document()
                    .and_then(|d| d.headings.get(selected))
                    .map(|h| h.line)
                {
                    self.set_top(line);
                }
                self.mode = Mode::pane(over);
            }
            Command::Back | Command::Outline => self.mode = Mode::pane(over),
            _ => {}
        }
    }

    fn bookmarks_command(&mut self, cmd: Command, selected: usize, over: Focus, n: usize) {
        let last = self.bookmark_rows().len().saturating_sub(1);
        let page = self.panes().reader_height().saturating_sub(2).max(1);
        if let Some(selected) = list_step(cmd, selected, last, page, n) {
            self.mode = Mode::Bookmarks { selected, over };
            return;
        }
        match cmd {
            Command::Open => {
                self.mode = Mode::pane(over);
                self.open_bookmark(selected);
            }
            Command::Back | Command::Bookmarks => self.mode = Mode::pane(over),
            _ => {}
        }
    }

    /// The help overlay's first line after `cmd`: it only moves when it is
    /// taller than the terminal.
    fn help_scrolled(&self, top: usize, cmd: Command, n: usize) -> usize {
        let total = crate::help::line_count(&crate::help::sections(&self.keymap));
        let shown = usize::from(self.size.1.saturating_sub(2)).max(1);
        let last = total.saturating_sub(shown);
        let page = shown.saturating_sub(1).max(1);
        match cmd {
            Command::Down => top.saturating_add(n),
            Command::Up => top.saturating_sub(n),
            Command::HalfPageDown => top.saturating_add(n * (page / 2).max(1)),
            Command::HalfPageUp => top.saturating_sub(n * (page / 2).max(1)),
            Command::PageDown => top.saturating_add(n * page),
            Command::PageUp => top.saturating_sub(n * page),
            Command::Top => 0,
            Command::Bottom => last,
            _ => top,
        }
        .min(last)
    }

    fn toggle_raw(&mut self) {
        self.raw = !self.raw;
        self.message = Some(if self.raw {
            "Showing text as stored (R repairs mis-decoded text)".into()
        } else {
            "Repairing mis-decoded text (R shows it as stored)".into()
        });
    }

    fn toggle_details(&mut self) {
        self.details_open = !self.details_open;
        self.message = Some(if self.details_open {
            "Details opened (D folds them again)".into()
        } else {
            "Details folded: a ▸ line stands for each (D opens them)".into()
        });
    }

    fn toggle_read(&mut self) {
        let Some(key) = self.library.selected_key() else {
            return;
        };
        self.message = Some(
            match self.marks.toggle(key) {
                None => "Reading state is not kept in this session",
                Some(true) => "Marked read",
                Some(false) => "Marked unread",
            }
            .into(),
        );
    }

    /// `e`: asks the runner to open the current post in an editor.
    fn edit_post(&mut self) {
        let Some(post) = self.library.selected_post() else {
            return;
        };
        self.message = Some(match &post.origin {
            _ if self.options.remote => crate::editor::REMOTE.into(),
            Origin::Embedded(_) => {
                "folio's built-in posts cannot be edited: open a folder of your own".into()
            }
            Origin::Stdin(_) => "Standard input has no file to edit: save it to one first".into(),
            Origin::File(file) => {
                self.effects.push(Effect::Edit {
                    key: post.rel_path.clone(),
                    file: file.clone(),
                    line: self.reader.source_line(&post.rel_path),
                });
                return;
            }
        });
    }

    fn open_find(&mut self) {
        self.reader.open_find(self.reader_top());
        self.mode = Mode::Prompt {
            prompt: Prompt::Find,
            over: self.focus(),
        };
    }

    fn open_filter(&mut self) {
        if self.library.open_filter() {
            self.mode = Mode::Prompt {
                prompt: Prompt::Filter,
                over: self.focus(),
            };
        }
    }

    fn open_search_all(&mut self) {
        if self.library.posts().is_empty() {
            return;
        }
        self.mode = Mode::Prompt {
            prompt: Prompt::SearchAll,
            over: self.focus(),
        };
    }

    /// `n`/`N`: the next or previous match, wrapping at the ends.
    pub(super) fn step_match(&mut self, n: usize, forward: bool) {
        let height = self.panes().reader_height();
        let (top, message) = self
            .reader
            .step_match(n, forward, self.reader_top(), height);
        if message.is_some() {
            self.message = message;
        }
        if let Some(top) = top {
            self.set_top(top);
        }
    }

    /// Scrolls the reader; it stops at the last page, except that a heading
    /// jump may have put the top further down, which scrolling keeps.
    fn scroll_by(&mut self, lines: usize, down: bool) {
        let top = self.reader_top();
        let height = self.panes().reader_height();
        let max_top = self.reader.max_top(self.library.selected_key(), height);
        let new = if down {
            top.saturating_add(lines).min(max_top.max(top))
        } else {
            top.saturating_sub(lines)
        };
        self.set_top(new);
    }

    /// A hint letter typed in link mode: follows (or copies) the link once
    /// the typed letters name one.
    pub(super) fn hint_typed(&mut self, c: char) {
        let Mode::Links { mode, over } = self.mode else {
            return;
        };
        let Some(mode) = mode.and(c) else {
            return;
        };
        let hints = self.hints();
        let typed = mode.typed();
        let matching: Vec<&Hint> = hints
            .iter()
            .filter(|h| h.label.starts_with(typed))
            .collect();
        match matching[..] {
            [] => {
                self.message = Some(format!("No link has the hint '{typed}'"));
                self.mode = Mode::Links {
                    mode: LinkMode::new(mode.copy),
                    over,
                };
            }
            [hint] if hint.label == typed => {
                let target = hint.target;
                self.mode = Mode::pane(over);
                match target {
                    HintTarget::Link(link) => self.activate(link, mode.copy),
                    HintTarget::Code(block) => self.copy_code(block),
                }
            }
            _ => self.mode = Mode::Links { mode, over },
        }
    }

    pub(super) fn wheel(&mut self, dir: Wheel, col: u16, row: u16) {
        if self.mode.prompt() == Some(Prompt::SearchAll) {
            return;
        }
        let panes = self.panes();
        let down = dir == Wheel::Down;
        if panes.list.is_some_and(|r| r.contains((col, row).into())) {
            let pos = self.library.view_pos().unwrap_or(0);
            if down {
                self.select_pos(pos.saturating_add(1));
            } else {
                self.select_pos(pos.saturating_sub(1));
            }
        } else if panes.reader.is_some_and(|r| r.contains((col, row).into()))
            && self.overlay().is_none()
        {
            self.scroll_by(WHEEL_LINES, down);
        }
    }

    pub(super) fn click(&mut self, col: u16, row: u16) {
        if self.mode.prompt() == Some(Prompt::SearchAll) {
            return;
        }
        let panes = self.panes();
        if let Some(list) = panes.list.filter(|r| r.contains((col, row).into())) {
            let entry = self.library.top() + usize::from(row - list.y) / panes.entry_rows();
            if entry < self.library.view_len() {
                self.select_pos(entry);
            }
            self.mode = self.mode.with_focus(Focus::List);
        } else if panes.reader.is_some_and(|r| r.contains((col, row).into()))
            && !self.library.posts().is_empty()
        {
            self.mode = self.mode.with_focus(Focus::Reader);
            if self.overlay().is_none()
                && let Some(link) = self.link_at(col, row)
            {
                self.activate(link, false);
            }
        }
    }

    /// The link whose text is shown at screen cell (`col`, `row`), if any.
    fn link_at(&self, col: u16, row: u16) -> Option<usize> {
        links::link_at(
            self.document()?,
            self.panes().text,
            self.reader_top(),
            col,
            row,
        )
    }
}

/// Where a move through an overlay's list (the outline, the bookmarks) puts
/// its selection; `None` for a command that is not a move.
fn list_step(cmd: Command, selected: usize, last: usize, page: usize, n: usize) -> Option<usize> {
    Some(match cmd {
        Command::Down => selected.saturating_add(n).min(last),
        Command::Up => selected.saturating_sub(n),
        Command::PageDown | Command::HalfPageDown => selected.saturating_add(page).min(last),
        Command::PageUp | Command::HalfPageUp => selected.saturating_sub(page),
        Command::Top => 0,
        Command::Bottom => last,
        _ => return None,
    })
}
