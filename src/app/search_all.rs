//! The search across all posts: its query, the results the runner reports,
//! and which one is chosen.

use crate::action::Edit;
use crate::posts::Post;
use crate::search::{self, Hit, Query, SearchJob, Target};

use super::prompt::edit_text;

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

/// What the screen shows of a [`SearchAll`]: results only ever grow within
/// one generation, so their number stands for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Seen {
    generation: u64,
    results: usize,
    selected: usize,
    scanned: usize,
    total: usize,
    done: bool,
}

impl SearchAll {
    /// More results were found than are kept ([`search::MAX_RESULTS`]).
    pub fn capped(&self) -> bool {
        self.results.len() >= search::MAX_RESULTS
    }

    pub(crate) fn seen(&self) -> Seen {
        Seen {
            generation: self.generation,
            results: self.results.len(),
            selected: self.selected,
            scanned: self.scanned,
            total: self.total,
            done: self.done,
        }
    }

    /// The search for the runner to run over `posts`, once per change of
    /// the query.
    pub(crate) fn job(&mut self, posts: &[Post]) -> Option<SearchJob> {
        if self.asked == self.generation || self.text.is_empty() {
            return None;
        }
        self.asked = self.generation;
        Some(SearchJob {
            generation: self.generation,
            query: Query::new(&self.text),
            targets: posts
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

    /// Results of search `generation`; those of an older one are dropped.
    pub(crate) fn found(&mut self, generation: u64, hits: Vec<Hit>, scanned: usize, done: bool) {
        if generation != self.generation {
            return;
        }
        let room = search::MAX_RESULTS.saturating_sub(self.results.len());
        self.results.extend(hits.into_iter().take(room));
        self.scanned = (self.scanned + scanned).min(self.total);
        self.done |= done;
    }

    /// Typing into the query, or choosing a result, in a folder of `posts`
    /// posts. Accepting and cancelling are the app's business.
    pub(crate) fn edit(&mut self, edit: Edit, posts: usize) {
        if edit_text(&mut self.text, edit) {
            self.generation += 1;
            self.results.clear();
            self.selected = 0;
            self.scanned = 0;
            self.total = posts;
            self.done = self.text.is_empty();
            return;
        }
        match edit {
            Edit::Next => {
                self.selected = (self.selected + 1).min(self.results.len().saturating_sub(1));
            }
            Edit::Prev => self.selected = self.selected.saturating_sub(1),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::test_post;

    fn hit(offset: usize) -> Hit {
        Hit {
            index: 0,
            rel_path: "a.md".into(),
            offset,
            line: 1,
            before: String::new(),
            matched: "x".into(),
            after: String::new(),
        }
    }

    #[test]
    fn a_job_per_query_and_only_its_results() {
        let posts = vec![test_post("a.md", "x\n"), test_post("b.md", "y\n")];
        let mut sa = SearchAll::default();
        assert!(sa.job(&posts).is_none(), "nothing typed");
        sa.edit(Edit::Insert('x'), posts.len());
        let job = sa.job(&posts).expect("a job for x");
        assert_eq!(job.targets.len(), 2);
        assert!(sa.job(&posts).is_none(), "asked once");
        sa.edit(Edit::Insert('y'), posts.len());
        sa.found(job.generation, vec![hit(1)], 2, true);
        assert!(sa.results.is_empty(), "an older search's results");
        let job = sa.job(&posts).unwrap();
        sa.found(job.generation, vec![hit(1), hit(2)], 5, false);
        assert_eq!(sa.results.len(), 2);
        assert_eq!(sa.scanned, 2, "never more than there are");
        assert!(!sa.done);
        sa.edit(Edit::Next, 2);
        sa.edit(Edit::Next, 2);
        assert_eq!(sa.selected, 1, "stops at the last");
        sa.edit(Edit::Clear, 2);
        assert!(sa.results.is_empty() && sa.done && sa.selected == 0);
    }
}
