//! How the screen is divided between the list, the reader and the status
//! bar.

use ratatui::layout::Rect;

use super::Focus;

/// Terminals narrower than this show one pane at a time.
pub const NARROW: u16 = 80;

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

/// What the division depends on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Screen {
    pub size: (u16, u16),
    /// There are posts to list.
    pub posts: bool,
    pub focus: Focus,
    pub list_hidden: bool,
    pub max_width: u16,
}

impl Panes {
    pub(crate) fn of(screen: Screen) -> Panes {
        let (w, h) = screen.size;
        let main_h = h.saturating_sub(1);
        let status = Rect::new(0, main_h, w, h.min(1));
        let main = Rect::new(0, 0, w, main_h);
        let (list, reader) = if !screen.posts {
            (None, Some(main))
        } else if w < NARROW {
            match screen.focus {
                Focus::List => (Some(main), None),
                Focus::Reader => (None, Some(main)),
            }
        } else if screen.list_hidden {
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
            let tw = room.min(screen.max_width.max(20));
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

    /// Rows each list entry takes: a second, dim excerpt line when the pane
    /// is tall enough for that to help rather than crowd.
    pub(crate) fn entry_rows(&self) -> usize {
        if self.list.is_some_and(|r| r.height >= 12) {
            2
        } else {
            1
        }
    }

    /// Entries that fit in the list pane.
    pub(crate) fn list_page(&self) -> usize {
        let height = self.list.map_or(1, |r| usize::from(r.height).max(1));
        (height / self.entry_rows()).max(1)
    }

    pub(crate) fn text_width(&self) -> u16 {
        self.text.width.max(1)
    }

    pub(crate) fn reader_height(&self) -> usize {
        usize::from(self.text.height.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn screen(w: u16, focus: Focus, list_hidden: bool) -> Screen {
        Screen {
            size: (w, 30),
            posts: true,
            focus,
            list_hidden,
            max_width: 100,
        }
    }

    #[test]
    fn wide_screens_show_both_panes_narrow_ones_the_focused() {
        let wide = Panes::of(screen(120, Focus::List, false));
        assert_eq!(wide.list, Some(Rect::new(0, 0, 40, 29)));
        assert_eq!(wide.reader, Some(Rect::new(40, 0, 80, 29)));
        assert_eq!(wide.status, Rect::new(0, 29, 120, 1));
        assert_eq!(wide.entry_rows(), 2);
        assert_eq!(wide.list_page(), 14);
        let narrow = Panes::of(screen(60, Focus::List, false));
        assert_eq!(narrow.reader, None);
        let narrow = Panes::of(screen(60, Focus::Reader, false));
        assert_eq!(narrow.list, None);
        let hidden = Panes::of(screen(120, Focus::Reader, true));
        assert_eq!(hidden.list, None);
        assert_eq!(hidden.text.width, 100, "at most max_width");
        assert_eq!(hidden.text.x, 10, "centred");
    }

    #[test]
    fn no_posts_no_list() {
        let empty = Panes::of(Screen {
            posts: false,
            ..screen(120, Focus::List, false)
        });
        assert_eq!(empty.list, None);
        assert_eq!(empty.list_page(), 1);
    }
}
