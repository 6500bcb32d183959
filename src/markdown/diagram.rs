//! Mermaid diagrams drawn as text (box drawing) by the `mermaid-text`
//! crate, for the width of the reader. The crate's layout grows faster than
//! the diagram (edge routing over a canvas), so what reaches it is bounded
//! first: at most [`MAX_SOURCE`] bytes, [`MAX_STATEMENTS`] statements and
//! [`MAX_EDGES`] arrows. A diagram over those, one the crate cannot parse,
//! or one wider than the reader is not drawn: the caller shows its source
//! with the reason.

use crate::sanitize::{display_width, sanitize};

/// Largest diagram source drawn.
pub const MAX_SOURCE: usize = 4 * 1024;
/// Most non-blank lines (statements) in a diagram drawn.
pub const MAX_STATEMENTS: usize = 100;
/// Most arrows (`-->`, `->>`, `---`, …) in a diagram drawn.
pub const MAX_EDGES: usize = 60;
/// A sequence diagram's caps instead: its layout is a row per message
/// (299 messages between 12 participants: 76 ms), so it may be longer.
pub const MAX_SEQUENCE_SOURCE: usize = 16 * 1024;
pub const MAX_SEQUENCE_STATEMENTS: usize = 300;
pub const MAX_SEQUENCE_ARROWS: usize = 300;
/// Most diagrams drawn in one post; later ones show their source.
pub const MAX_PER_POST: usize = 10;
/// Most rows a drawing may have: a tall one is no more readable than its
/// source.
pub const MAX_ROWS: usize = 2_000;

/// Whether `lang`, a code block's language, is a diagram's.
pub fn is_diagram(lang: &str) -> bool {
    lang.eq_ignore_ascii_case("mermaid")
}

/// Whether `body`, a post's Markdown, may hold a diagram: a cheap look
/// for a fence naming `mermaid`, so a post without one is never laid out
/// twice for it.
pub fn may_have_diagram(body: &str) -> bool {
    body.match_indices("mermaid").any(|(i, _)| {
        let before = body[..i].trim_end_matches([' ', '{', '.']);
        before.ends_with("```") || before.ends_with("~~~")
    })
}

/// How many arrows `src` has: each run of arrow characters that starts
/// with `-` or `=` followed by another (`-->`, `==>`, `-.->`, `->>`, `--x`)
/// counts once.
fn arrows(src: &str) -> usize {
    let bytes = src.as_bytes();
    let mut n = 0;
    let mut i = 0;
    while i + 1 < bytes.len() {
        if matches!(bytes[i], b'-' | b'=') && matches!(bytes[i + 1], b'-' | b'=' | b'.' | b'>') {
            n += 1;
            i += 2;
            while i < bytes.len() && matches!(bytes[i], b'-' | b'=' | b'.' | b'>') {
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    n
}

/// `src` drawn for `width` columns: the rows, sanitized, none wider than
/// `width`; or why it was not drawn.
pub fn draw(src: &str, width: usize) -> Result<Vec<String>, String> {
    let sequence = src
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("%%"))
        .and_then(|l| l.get(..15))
        .is_some_and(|head| head.eq_ignore_ascii_case("sequenceDiagram"));
    let (max_source, max_statements, max_edges) = if sequence {
        (
            MAX_SEQUENCE_SOURCE,
            MAX_SEQUENCE_STATEMENTS,
            MAX_SEQUENCE_ARROWS,
        )
    } else {
        (MAX_SOURCE, MAX_STATEMENTS, MAX_EDGES)
    };
    if src.len() > max_source {
        return Err(format!(
            "Diagram shown as source: {} KB is more than folio draws ({} KB)",
            src.len().div_ceil(1024),
            max_source / 1024
        ));
    }
    let statements = src.lines().filter(|l| !l.trim().is_empty()).count();
    if statements > max_statements {
        return Err(format!(
            "Diagram shown as source: {statements} lines is more than folio draws ({max_statements})"
        ));
    }
    let edges = arrows(src);
    if edges > max_edges {
        return Err(format!(
            "Diagram shown as source: {edges} arrows is more than folio draws ({max_edges})"
        ));
    }
    // The crate is not ours: a panic in it must cost the diagram, not the
    // layout (and with it the post).
    let drawn = std::panic::catch_unwind(|| mermaid_text::render_with_width(src, Some(width)));
    let text = match drawn {
        Ok(Ok(text)) => text,
        Ok(Err(e)) => {
            let why = sanitize(&e.to_string()).replace('\n', " ");
            return Err(format!("Diagram shown as source: {why}"));
        }
        Err(_) => return Err("Diagram shown as source: it could not be laid out".into()),
    };
    let rows: Vec<String> = text
        .lines()
        .map(|l| sanitize(l.trim_end()).into_owned())
        .collect();
    let widest = rows.iter().map(|r| display_width(r)).max().unwrap_or(0);
    if widest > width {
        return Err(format!(
            "Diagram shown as source: it needs {widest} columns, the reader has {width}"
        ));
    }
    if rows.len() > MAX_ROWS {
        return Err(format!(
            "Diagram shown as source: {} rows is more than folio draws ({MAX_ROWS})",
            rows.len()
        ));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_arrow_counts_once() {
        assert_eq!(
            arrows("A --> B --> C\nA -.-> D\nE ==> F\nG->>H: hi\nI --- J"),
            6
        );
        assert_eq!(arrows("a - b = c"), 0);
    }

    #[test]
    fn fences_naming_mermaid_are_found() {
        assert!(may_have_diagram("text\n\n```mermaid\ngraph LR\n```\n"));
        assert!(may_have_diagram("~~~ {.mermaid}\n"));
        assert!(!may_have_diagram("I like mermaids.\n```rust\n```\n"));
    }

    #[test]
    fn a_flowchart_is_drawn_within_the_width() {
        let rows = draw("graph LR\n  A[Start] --> B[End]\n", 60).unwrap();
        let all = rows.join("\n");
        assert!(all.contains("Start") && all.contains("End"), "{all}");
        assert!(rows.iter().all(|r| display_width(r) <= 60));
    }

    #[test]
    fn what_cannot_be_drawn_says_why() {
        let wide = "graph LR\n  A[a very long label indeed] --> B[another very long label]\n";
        let why = draw(wide, 12).unwrap_err();
        assert!(why.starts_with("Diagram shown as source"), "{why}");
        let big = "  N --> M\n".repeat(MAX_STATEMENTS + 1);
        let why = draw(&format!("graph TD\n{big}"), 200).unwrap_err();
        assert!(why.contains("lines is more than folio draws"), "{why}");
        assert!(draw("this is not mermaid at all {{{", 80).is_err());
        // A sequence diagram may be longer.
        let talk = "  A->>B: hi\n".repeat(MAX_EDGES + 10);
        assert!(draw(&format!("sequenceDiagram\n{talk}"), 80).is_ok());
    }
}
