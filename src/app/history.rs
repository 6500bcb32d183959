//! Where `H` and `L` go: the places left by jumps, as in a browser.

use std::path::PathBuf;

/// Most places `H` remembers.
const HISTORY_LIMIT: usize = 1000;

/// A place to go back or forward to: a post, and the source byte offset of
/// the text at the top of the reader, which survives a relayout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub post: PathBuf,
    pub offset: usize,
}

#[derive(Debug, Default)]
pub(crate) struct History {
    /// Places to go back to, the latest last.
    back: Vec<Place>,
    /// Places to go forward to after going back, the next last.
    forward: Vec<Place>,
}

impl History {
    /// (back, latest last; forward, next last).
    pub(crate) fn places(&self) -> (&[Place], &[Place]) {
        (&self.back, &self.forward)
    }

    /// A jump is about to leave `here`: it becomes the place to go back to,
    /// and what was ahead is forgotten.
    pub(crate) fn leave(&mut self, here: Option<Place>) {
        if let Some(place) = here {
            if self.back.last() != Some(&place) {
                self.back.push(place);
            }
            if self.back.len() > HISTORY_LIMIT {
                self.back.remove(0);
            }
        }
        self.forward.clear();
    }

    /// The next place back (or forward), taken off its list; `None` when
    /// there is none.
    pub(crate) fn take(&mut self, back: bool) -> Option<Place> {
        if back {
            self.back.pop()
        } else {
            self.forward.pop()
        }
    }

    /// After stepping back (or forward) from `here`: it is where the other
    /// way leads.
    pub(crate) fn stepped(&mut self, back: bool, here: Option<Place>) {
        let to = if back {
            &mut self.forward
        } else {
            &mut self.back
        };
        to.extend(here);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(post: &str, offset: usize) -> Place {
        Place {
            post: post.into(),
            offset,
        }
    }

    #[test]
    fn back_and_forward_trade_places() {
        let mut h = History::default();
        h.leave(Some(at("a.md", 0)));
        h.leave(Some(at("a.md", 0)));
        assert_eq!(h.places().0.len(), 1, "the same place is kept once");
        h.leave(Some(at("b.md", 10)));
        let back = h.take(true);
        assert_eq!(back, Some(at("b.md", 10)));
        h.stepped(true, Some(at("c.md", 5)));
        assert_eq!(h.places().1, [at("c.md", 5)]);
        assert_eq!(h.take(false), Some(at("c.md", 5)));
        h.stepped(false, Some(at("b.md", 10)));
        assert_eq!(h.places().0.len(), 2);
        // A new jump forgets what was ahead.
        h.stepped(true, Some(at("d.md", 0)));
        h.leave(Some(at("e.md", 0)));
        assert!(h.places().1.is_empty());
        assert_eq!(h.take(false), None);
    }

    #[test]
    fn only_the_latest_places_are_kept() {
        let mut h = History::default();
        for i in 0..HISTORY_LIMIT + 5 {
            h.leave(Some(at("a.md", i)));
        }
        assert_eq!(h.places().0.len(), HISTORY_LIMIT);
        assert_eq!(h.places().0[0].offset, 5);
    }
}
