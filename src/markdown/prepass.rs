//! A cheap pass over the pieces before the real one: what the renderer
//! must know before it starts (see [`PrePass`]).

use std::collections::HashMap;

use pulldown_cmark::{Event, Parser, Tag, TagEnd};

use super::code::language;
use super::container::note_key;
use super::options;
use crate::pieces::{LinkDefs, Piece};

/// What the renderer must know before it starts: footnotes are numbered by
/// first reference but may be defined before it, ordered list markers are
/// right-aligned to the widest number in their list, and a code-heavy piece
/// is highlighted on several threads before its layout.
pub(super) struct PrePass {
    pub(super) note_numbers: HashMap<String, usize>,
    /// The last item number of every list, in document order.
    pub(super) list_last: Vec<u64>,
    /// `(language, raw text)` of every code block, per piece.
    pub(super) code: Vec<Vec<(String, String)>>,
    /// The lists open where the last piece ended (none: pieces end where
    /// every container is closed), as indices into `list_last`.
    open_lists: Vec<usize>,
}

impl PrePass {
    pub(super) fn new() -> PrePass {
        PrePass {
            note_numbers: HashMap::new(),
            list_last: Vec::new(),
            code: Vec::new(),
            open_lists: Vec::new(),
        }
    }

    /// A parse of its own over every piece, before the layout's (see
    /// [`super::render_once`] for when one parse does). With `two_threads`,
    /// the first half of the pieces is looked at on this thread and the
    /// second on another: what one piece shows depends on no other until
    /// the pieces' findings are put together, in order, as one pass would
    /// have found them. It costs a second parser's tree in memory, which a
    /// streamed render (`--print`) has room for and the reader has not.
    pub(super) fn run(
        pieces: &[Piece<'_>],
        collect_code: bool,
        two_threads: bool,
    ) -> (PrePass, LinkDefs) {
        let several = pieces.len() > 1;
        let see_all = |pieces: &[Piece<'_>]| -> Vec<Seen> {
            pieces
                .iter()
                .map(|p| Seen::piece(p, several, collect_code))
                .collect()
        };
        let seen = if several && two_threads {
            let (first, second) = pieces.split_at(pieces.len() / 2);
            std::thread::scope(|scope| {
                let later = scope.spawn(|| see_all(second));
                let mut seen = see_all(first);
                // A panic on the other thread is one on this one.
                seen.extend(
                    later
                        .join()
                        .unwrap_or_else(|e| std::panic::resume_unwind(e)),
                );
                seen
            })
        } else {
            see_all(pieces)
        };
        let mut pre = PrePass::new();
        pre.code.reserve(pieces.len());
        let mut defs = LinkDefs::default();
        for piece in seen {
            let mut notes: Vec<(String, usize)> = piece.pre.note_numbers.into_iter().collect();
            notes.sort_unstable_by_key(|&(_, n)| n);
            for (key, _) in notes {
                let next = pre.note_numbers.len() + 1;
                pre.note_numbers.entry(key).or_insert(next);
            }
            pre.list_last.extend(piece.pre.list_last);
            pre.code.extend(piece.pre.code);
            for (label, dest, title) in &piece.defs {
                defs.add(label, dest, title);
            }
        }
        (pre, defs)
    }

    /// Takes in one piece's events, in order; returns the `(language, raw
    /// text)` of its code blocks when `collect_code`.
    pub(super) fn observe<'e, E>(
        &mut self,
        events: impl Iterator<Item = E>,
        collect_code: bool,
    ) -> Vec<(String, String)>
    where
        E: std::borrow::Borrow<Event<'e>>,
    {
        let mut blocks: Vec<(String, String)> = Vec::new();
        let mut in_code = false;
        for event in events {
            match event.borrow() {
                Event::Start(Tag::List(start)) => {
                    self.open_lists.push(self.list_last.len());
                    self.list_last.push(start.unwrap_or(1).saturating_sub(1));
                }
                Event::End(TagEnd::List(_)) => {
                    self.open_lists.pop();
                }
                Event::Start(Tag::Item) => {
                    if let Some(&i) = self.open_lists.last() {
                        self.list_last[i] = self.list_last[i].saturating_add(1);
                    }
                }
                Event::FootnoteReference(label) => {
                    let next = self.note_numbers.len() + 1;
                    self.note_numbers.entry(note_key(label)).or_insert(next);
                }
                Event::Start(Tag::CodeBlock(kind)) if collect_code => {
                    in_code = true;
                    blocks.push((language(kind.clone()), String::new()));
                }
                Event::End(TagEnd::CodeBlock) => in_code = false,
                Event::Text(t) if in_code => {
                    if let Some((_, text)) = blocks.last_mut() {
                        text.push_str(t);
                    }
                }
                _ => {}
            }
        }
        blocks
    }
}

/// What the pre-pass finds in one piece, alone.
struct Seen {
    /// Footnotes numbered in the piece's own order, its lists and code.
    pre: PrePass,
    /// `(label, destination, title)` of its link reference definitions.
    defs: Vec<(String, String, String)>,
}

impl Seen {
    fn piece(piece: &Piece<'_>, several: bool, collect_code: bool) -> Seen {
        let mut pre = PrePass::new();
        let parser = Parser::new_ext(&piece.text, options());
        let defs = if several {
            parser
                .reference_definitions()
                .iter()
                .map(|(label, def)| {
                    (
                        label.to_owned(),
                        def.dest.to_string(),
                        def.title.as_deref().unwrap_or("").to_owned(),
                    )
                })
                .collect()
        } else {
            Vec::new()
        };
        let events = parser
            .into_offset_iter()
            .filter(|(_, range)| range.start < piece.len)
            .map(|(event, _)| event);
        let blocks = pre.observe(events, collect_code);
        pre.code.push(blocks);
        Seen { pre, defs }
    }
}
