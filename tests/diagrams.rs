//! Mermaid diagrams and TeX math through `folio::markdown::render`:
//! snapshots of what a reader sees, and the fallbacks to source.

use std::fmt::Write as _;

use folio::document::Document;
use folio::markdown::render;
use folio::sanitize::display_width;
use folio::theme::Theme;

fn plain(doc: &Document) -> String {
    (0..doc.len())
        .map(|i| doc.lines.text(i).trim_end().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

const FLOWCHART: &str = "# Flow\n\n```mermaid\nflowchart LR\n    A[Write a post] --> B{Draft?}\n    B -->|yes| C[Keep it local]\n    B -->|no| D[Publish]\n```\n";

const SEQUENCE: &str = "# Talk\n\n```mermaid\nsequenceDiagram\n    Reader->>folio: opens a post\n    folio-->>Reader: the first screen\n```\n";

#[test]
fn a_flowchart_is_drawn_with_boxes_and_arrows() {
    let doc = render(FLOWCHART, 80, &Theme::default());
    let text = plain(&doc);
    for label in [
        "Write a post",
        "Draft?",
        "Keep it local",
        "Publish",
        "yes",
        "no",
    ] {
        assert!(text.contains(label), "{label}: {text}");
    }
    assert!(text.contains('┌') || text.contains('╭'), "{text}");
    assert!(!text.contains("-->"), "drawn, not source: {text}");
    insta::assert_snapshot!("flowchart-80", text);
}

#[test]
fn a_sequence_diagram_is_drawn() {
    let doc = render(SEQUENCE, 80, &Theme::default());
    let text = plain(&doc);
    assert!(
        text.contains("opens a post") && text.contains("the first screen"),
        "{text}"
    );
    assert!(!text.contains("->>"), "drawn, not source: {text}");
    insta::assert_snapshot!("sequence-80", text);
}

#[test]
fn a_diagram_too_wide_shows_its_source_and_why() {
    let doc = render(FLOWCHART, 24, &Theme::default());
    let text = plain(&doc);
    assert!(
        text.contains("A[Write a post] --> B{Draft?}") || text.contains("A[Write a post]"),
        "{text}"
    );
    assert!(text.contains("Diagram shown as source"), "{text}");
    assert!((0..doc.len()).all(|i| display_width(doc.lines.text(i)) <= 24));
}

#[test]
fn a_huge_graph_is_not_laid_out() {
    let mut src = String::from("```mermaid\ngraph TD\n");
    for i in 0..5000 {
        let _ = writeln!(src, "  N{i} --> N{}", i + 1);
    }
    src.push_str("```\n");
    let doc = render(&src, 100, &Theme::default());
    let text = plain(&doc);
    assert!(text.contains("Diagram shown as source"), "{}", &text[..200]);
    assert!(text.contains("N4999 --> N5000"));
}

#[test]
fn without_colour_diagrams_and_math_still_show() {
    let theme = Theme::default().without_color();
    let doc = render(FLOWCHART, 80, &theme);
    assert!(plain(&doc).contains("Keep it local"));
    assert!(!plain(&doc).contains("-->"));
    let doc = render("Area: $\\pi r^2$.\n", 80, &theme);
    assert_eq!(plain(&doc), "Area: π r².");
}

#[test]
fn inline_math_is_written_as_unicode() {
    let src = "Euler: $e^{i\\pi} + 1 = 0$, and $\\alpha \\le \\beta$ for all $x \\in \\mathbb{R}$; \
               half is $\\frac{1}{2}$, the sum $\\sum_{i=1}^n x_i^2$, and $\\sqrt{a^2+b^2}$.\n\n\
               Unknown: $\\begin{matrix} a & b \\end{matrix}$ stays as it is.\n";
    let doc = render(src, 60, &Theme::default());
    insta::assert_snapshot!("math-inline", plain(&doc));
}

#[test]
fn display_math_stacks_fractions_and_limits() {
    let src = "The sum:\n\n$$\n\\sum_{k=1}^{n} k = \\frac{n(n+1)}{2}\n$$\n\nAnd a matrix stays as source:\n\n$$\n\\begin{pmatrix} a & b \\\\ c & d \\end{pmatrix}\n$$\n";
    let doc = render(src, 60, &Theme::default());
    insta::assert_snapshot!("math-display", plain(&doc));
}

#[test]
fn a_post_draws_a_bounded_number_of_diagrams() {
    let block = "```mermaid\ngraph LR\n  A --> B\n```\n\n";
    let doc = render(&block.repeat(12), 80, &Theme::default());
    let text = plain(&doc);
    assert_eq!(
        text.matches("folio draws at most 10 diagrams in a post")
            .count(),
        2,
        "{text}"
    );
}
