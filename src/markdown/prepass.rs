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
}

impl PrePass {
    pub(super) fn run(pieces: &[Piece<'_>], collect_code: bool) -> (PrePass, LinkDefs) {
        let mut pre = PrePass {
            note_numbers: HashMap::new(),
            list_last: Vec::new(),
            code: Vec::with_capacity(pieces.len()),
        };
        let mut defs = LinkDefs::default();
        let mut open_lists: Vec<usize> = Vec::new();
        for piece in pieces {
            let parser = Parser::new_ext(&piece.text, options());
            if pieces.len() > 1 {
                for (label, def) in parser.reference_definitions().iter() {
                    defs.add(label, &def.dest, def.title.as_deref().unwrap_or(""));
                }
            }
            let mut blocks: Vec<(String, String)> = Vec::new();
            let mut in_code = false;
            for (event, range) in parser.into_offset_iter() {
                if range.start >= piece.len {
                    continue;
                }
                match event {
                    Event::Start(Tag::List(start)) => {
                        open_lists.push(pre.list_last.len());
                        pre.list_last.push(start.unwrap_or(1).saturating_sub(1));
                    }
                    Event::End(TagEnd::List(_)) => {
                        open_lists.pop();
                    }
                    Event::Start(Tag::Item) => {
                        if let Some(&i) = open_lists.last() {
                            pre.list_last[i] = pre.list_last[i].saturating_add(1);
                        }
                    }
                    Event::FootnoteReference(label) => {
                        let next = pre.note_numbers.len() + 1;
                        pre.note_numbers.entry(note_key(&label)).or_insert(next);
                    }
                    Event::Start(Tag::CodeBlock(kind)) if collect_code => {
                        in_code = true;
                        blocks.push((language(kind), String::new()));
                    }
                    Event::End(TagEnd::CodeBlock) => in_code = false,
                    Event::Text(t) if in_code => {
                        if let Some((_, text)) = blocks.last_mut() {
                            text.push_str(&t);
                        }
                    }
                    _ => {}
                }
            }
            pre.code.push(blocks);
        }
        (pre, defs)
    }
}
