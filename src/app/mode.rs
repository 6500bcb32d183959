//! What has the keyboard: a pane, or something open over one. One value, so
//! an overlay and a prompt can never both claim a key, and closing either
//! goes back to the pane that was under it.

use super::links::LinkMode;

/// The pane that has the keyboard, or that is under what has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    List,
    Reader,
}

/// What is open over the panes, as the UI draws it.
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
    /// The bookmarks of the folder's posts, with the highlighted row.
    Bookmarks {
        selected: usize,
    },
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

/// The modes exclude each other; each open one remembers the pane under it
/// (`over`), which a click may change while it stays open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    List,
    Reader,
    /// The keys overlay, scrolled to its line `top` (it scrolls when taller
    /// than the terminal).
    Help {
        top: usize,
        over: Focus,
    },
    Outline {
        selected: usize,
        over: Focus,
    },
    Links {
        mode: LinkMode,
        over: Focus,
    },
    Bookmarks {
        selected: usize,
        over: Focus,
    },
    Prompt {
        prompt: Prompt,
        over: Focus,
    },
}

impl Mode {
    /// Nothing open: keys go to `focus`.
    pub(crate) fn pane(focus: Focus) -> Mode {
        match focus {
            Focus::List => Mode::List,
            Focus::Reader => Mode::Reader,
        }
    }

    pub(crate) fn focus(self) -> Focus {
        match self {
            Mode::List => Focus::List,
            Mode::Reader => Focus::Reader,
            Mode::Help { over, .. }
            | Mode::Outline { over, .. }
            | Mode::Links { over, .. }
            | Mode::Bookmarks { over, .. }
            | Mode::Prompt { over, .. } => over,
        }
    }

    /// The same mode over `focus`.
    pub(crate) fn with_focus(self, focus: Focus) -> Mode {
        match self {
            Mode::List | Mode::Reader => Mode::pane(focus),
            Mode::Help { top, .. } => Mode::Help { top, over: focus },
            Mode::Outline { selected, .. } => Mode::Outline {
                selected,
                over: focus,
            },
            Mode::Links { mode, .. } => Mode::Links { mode, over: focus },
            Mode::Bookmarks { selected, .. } => Mode::Bookmarks {
                selected,
                over: focus,
            },
            Mode::Prompt { prompt, .. } => Mode::Prompt {
                prompt,
                over: focus,
            },
        }
    }

    /// Whatever is open closed: the pane under it.
    pub(crate) fn closed(self) -> Mode {
        Mode::pane(self.focus())
    }

    /// The overlay closed, a prompt typed into in a pane (find, filter)
    /// kept: the search across all posts is an overlay and closes.
    pub(crate) fn without_overlay(self) -> Mode {
        match self {
            Mode::Prompt {
                prompt: Prompt::Find | Prompt::Filter,
                ..
            }
            | Mode::List
            | Mode::Reader => self,
            _ => self.closed(),
        }
    }

    pub(crate) fn overlay(self) -> Option<Overlay> {
        match self {
            Mode::Help { .. } => Some(Overlay::Help),
            Mode::Outline { selected, .. } => Some(Overlay::Outline { selected }),
            Mode::Links { mode, .. } => Some(Overlay::Links(mode)),
            Mode::Bookmarks { selected, .. } => Some(Overlay::Bookmarks { selected }),
            Mode::Prompt {
                prompt: Prompt::SearchAll,
                ..
            } => Some(Overlay::SearchAll),
            _ => None,
        }
    }

    pub(crate) fn prompt(self) -> Option<Prompt> {
        match self {
            Mode::Prompt { prompt, .. } => Some(prompt),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_of_the_mode_agree() {
        let links = Mode::Links {
            mode: LinkMode::default(),
            over: Focus::List,
        };
        assert_eq!(links.focus(), Focus::List);
        assert_eq!(links.overlay(), Some(Overlay::Links(LinkMode::default())));
        assert_eq!(links.prompt(), None);
        let search_all = Mode::Prompt {
            prompt: Prompt::SearchAll,
            over: Focus::Reader,
        };
        assert_eq!(search_all.overlay(), Some(Overlay::SearchAll));
        assert_eq!(search_all.prompt(), Some(Prompt::SearchAll));
        let find = Mode::Prompt {
            prompt: Prompt::Find,
            over: Focus::Reader,
        };
        assert_eq!(find.overlay(), None);
        assert_eq!(find.prompt(), Some(Prompt::Find));
    }

    #[test]
    fn closing_goes_back_to_the_pane_underneath() {
        let help = Mode::Help {
            top: 3,
            over: Focus::Reader,
        };
        assert_eq!(help.closed(), Mode::Reader);
        assert_eq!(help.without_overlay(), Mode::Reader);
        assert_eq!(
            help.with_focus(Focus::List),
            Mode::Help {
                top: 3,
                over: Focus::List
            }
        );
        let filter = Mode::Prompt {
            prompt: Prompt::Filter,
            over: Focus::List,
        };
        assert_eq!(filter.without_overlay(), filter, "a prompt is no overlay");
        assert_eq!(filter.closed(), Mode::List);
        let search_all = Mode::Prompt {
            prompt: Prompt::SearchAll,
            over: Focus::List,
        };
        assert_eq!(search_all.without_overlay(), Mode::List);
        assert_eq!(Mode::List.with_focus(Focus::Reader), Mode::Reader);
    }
}
