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
    /// [`super::render_once`] for when one parse does).
    pub(super) fn run(pieces: &[Piece<'_>], collect_code: bool) -> (PrePass, LinkDefs) {
        let mut pre = PrePass::new();
        pre.code.reserve(pieces.len());
        let mut defs = LinkDefs::default();
        for piece in pieces {
            let parser = Parser::new_ext(&piece.text, options());
            if pieces.len() > 1 {
                for (label, def) in parser.reference_definitions().iter() {
                    defs.add(label, &def.dest, def.title.as_deref().unwrap_or(""));
                }
            }
            let events = parser
                .into_offset_iter()
                .filter(|(_, range)| range.start < piece.len)
                .map(|(event, _)| event);
            let blocks = pre.observe(events, collect_code);
            pre.code.push(blocks);
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
