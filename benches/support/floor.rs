//! What the floor measurements highlight: the code blocks of a post, as
//! syntect alone would be given them (shared by `benches/folio.rs` and
//! `examples/floor.rs`).

/// The fenced code blocks of `body`, with their language.
pub fn code_blocks(body: &str) -> Vec<(String, String)> {
    use pulldown_cmark::{CodeBlockKind, Event, Tag, TagEnd};
    let mut blocks = Vec::new();
    let mut current: Option<(String, String)> = None;
    for event in pulldown_cmark::Parser::new_ext(body, folio::markdown::options()) {
        match event {
            Event::Start(Tag::CodeBlock(kind)) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => {
                        info.split_whitespace().next().unwrap_or("").to_owned()
                    }
                    CodeBlockKind::Indented => String::new(),
                };
                current = Some((lang, String::new()));
            }
            Event::Text(t) => {
                if let Some((_, code)) = &mut current {
                    code.push_str(&t);
                }
            }
            Event::End(TagEnd::CodeBlock) => blocks.extend(current.take()),
            _ => {}
        }
    }
    blocks
}
