//! Integration tests of `folio::markdown::render` through the public API:
//! snapshots of representative posts, the `CommonMark` spec examples, and
//! invariants over fixtures plus generated documents.

use folio::document::Document;
use folio::markdown::{options, render};
use folio::sanitize::{display_width, is_unsafe, placeholder};
use folio::theme::Theme;
use pulldown_cmark::{Event, Parser, Tag, TagEnd};

fn plain(doc: &Document) -> String {
    doc.lines
        .iter()
        .map(|l| {
            l.spans
                .iter()
                .map(|s| s.content.as_ref())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

const FIXTURES: [(&str, &str); 5] = [
    ("tech-post", include_str!("fixtures/tech-post.md")),
    ("cjk-emoji", include_str!("fixtures/cjk-emoji.md")),
    ("lists-quotes", include_str!("fixtures/lists-quotes.md")),
    ("table", include_str!("fixtures/table.md")),
    ("footnotes", include_str!("fixtures/footnotes.md")),
];

#[test]
fn snapshots() {
    let theme = Theme::default();
    for (name, src) in FIXTURES {
        for width in [40, 100] {
            let doc = render(src, width, &theme);
            insta::assert_snapshot!(format!("{name}-{width}"), plain(&doc));
        }
    }
}

#[test]
fn styles_snapshot() {
    let src = "## Styles\n\nSome *em*, **strong**, ~~gone~~, `code` and [a link](u).\n\n```rust\nfn main() {}\n```\n\n> [!TIP]\n> Tip.\n";
    let doc = render(src, 30, &Theme::default());
    insta::assert_debug_snapshot!("styles", doc.lines);
}

#[test]
fn no_colour_theme_does_not_highlight() {
    let theme = Theme::default().without_color();
    let doc = render("```rust\nfn main() {}\n```\n", 30, &theme);
    assert!(
        doc.lines
            .iter()
            .flat_map(|l| l.spans)
            .all(|s| s.style.fg.is_none())
    );
}

/// Checks the layout invariants: widths, lengths, monotonic offsets, no
/// control characters anywhere.
fn check(doc: &Document, width: u16, what: &str) {
    let width = usize::from(width.max(1));
    assert_eq!(doc.lines.len(), doc.offsets.len(), "{what}");
    assert!(
        doc.offsets.windows(2).all(|w| w[0] <= w[1]),
        "{what}: offsets decrease"
    );
    for line in &doc.lines {
        for span in &line.spans {
            assert!(
                !span.content.chars().any(is_unsafe),
                "{what}: control char in {span:?}"
            );
        }
        let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
        assert!(
            display_width(&text) <= width,
            "{what}: {text:?} is wider than {width}"
        );
    }
    for h in &doc.headings {
        assert!(
            !h.text.chars().chain(h.anchor.chars()).any(is_unsafe),
            "{what}"
        );
        assert!(h.line < doc.lines.len(), "{what}");
    }
    for l in &doc.links {
        assert!(
            !l.text.chars().chain(l.url.chars()).any(is_unsafe),
            "{what}"
        );
    }
}

/// The visible text pulldown-cmark sees, whitespace removed: (text outside
/// tables and footnotes, in order; text of table cells). Footnote bodies are
/// skipped because they move to the end of the document, table cells are kept
/// apart because wrapped cells interleave line by line.
fn source_text(src: &str) -> (String, String) {
    let mut out = String::new();
    let mut cells = String::new();
    let mut in_note = 0usize;
    let mut in_table = false;
    let mut in_comment = false;
    for event in Parser::new_ext(src, options()) {
        let event_kind = u8::from(matches!(event, Event::Html(_) | Event::InlineHtml(_)));
        // A comment ends with its block, as the renderer has it.
        if matches!(
            event,
            Event::End(
                TagEnd::Paragraph
                    | TagEnd::HtmlBlock
                    | TagEnd::Heading(_)
                    | TagEnd::TableCell
                    | TagEnd::Item
                    | TagEnd::BlockQuote(_)
                    | TagEnd::FootnoteDefinition
            )
        ) {
            in_comment = false;
        }
        match event {
            Event::Start(Tag::FootnoteDefinition(_)) => in_note += 1,
            Event::End(TagEnd::FootnoteDefinition) => in_note -= 1,
            Event::Start(Tag::Table(_)) => in_table = true,
            Event::End(TagEnd::Table) => in_table = false,
            Event::Text(t) | Event::Code(t) | Event::Html(t) | Event::InlineHtml(t)
                if in_note == 0 =>
            {
                // HTML tags and comments may be hidden (their words are
                // not): only the text between them must reach the screen.
                let t = if event_kind == 1 {
                    strip_tags(&t, &mut in_comment)
                } else {
                    t.to_string()
                };
                let visible = t.chars().filter(|c| !c.is_whitespace());
                let visible = visible.map(|c| if is_unsafe(c) { placeholder(c) } else { c });
                if in_table {
                    cells.extend(visible);
                } else {
                    out.extend(visible);
                }
            }
            _ => {}
        }
    }
    (out, cells)
}

/// HTML's text without its tags and comments (a comment may run on from
/// an earlier event).
fn strip_tags(t: &str, in_comment: &mut bool) -> String {
    let mut out = String::new();
    let mut rest = t;
    if *in_comment {
        match rest.find("-->") {
            Some(end) => {
                rest = &rest[end + 3..];
                *in_comment = false;
            }
            None => return out,
        }
    }
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        let after = &rest[lt + 1..];
        let tag_like = after
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '/' || c == '!');
        let comment = after.starts_with("!--");
        let close = if comment { "-->" } else { ">" };
        match after.find(close) {
            Some(end) if tag_like => rest = &after[end + close.len()..],
            None if comment => {
                *in_comment = true;
                return out;
            }
            _ => {
                out.push('<');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn assert_no_text_lost(src: &str, doc: &Document, what: &str) {
    let rendered: Vec<char> = plain(doc).chars().filter(|c| !c.is_whitespace()).collect();
    let (text, cells) = source_text(src);
    let mut counts = std::collections::HashMap::new();
    for c in &rendered {
        *counts.entry(*c).or_insert(0usize) += 1;
    }
    for c in cells.chars() {
        let n = counts.entry(c).or_insert(0);
        assert!(
            *n > 0,
            "{what}: table text {c:?} lost\nrendered:\n{}",
            plain(doc)
        );
        *n -= 1;
    }
    let expected: Vec<char> = text.chars().collect();
    let mut at = 0;
    for (k, &c) in expected.iter().enumerate() {
        if let Some(i) = rendered[at..].iter().position(|&r| r == c) {
            at += i + 1;
        } else {
            let context: String = expected[k.saturating_sub(30)..(k + 10).min(expected.len())]
                .iter()
                .collect();
            panic!(
                "{what}: {c:?} lost, near {context:?}\nrendered:\n{}",
                plain(doc)
            );
        }
    }
}

/// A small deterministic generator, so failures reproduce without a seed file.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

const WORDS: &[&str] = &[
    "the",
    "reader",
    "wraps",
    "text",
    "日本語",
    "中文字符",
    "🦀",
    "👩‍👩‍👧",
    "e\u{301}",
    "naïve",
    "supercalifragilisticexpialidocious-and-then-some-more-letters",
    "https://example.com/a/very/long/path/that/does/not/fit/anywhere",
    "*em*",
    "**strong**",
    "`code`",
    "~~old~~",
    "[link](http://x)",
    "&#27;[2J",
    "\u{202E}rtl",
    "$x^2$",
    "<b>",
    "[^n]",
    "tab\there",
];

const BLOCKS: &[&str] = &[
    "",
    "- ",
    "1. ",
    "> ",
    "# ",
    "### ",
    "- [ ] ",
    "> [!NOTE]\n> ",
];

fn generate(rng: &mut Rng) -> String {
    let mut out = String::new();
    for _ in 0..=(rng.next() % 8) {
        match rng.next() % 6 {
            0 => {
                out.push_str("```");
                out.push_str(rng.pick(&["rust", "py", "", "sh", "klingon"]));
                out.push('\n');
                for _ in 0..(rng.next() % 4) {
                    out.push_str(rng.pick(WORDS));
                    out.push_str("\tx = 1; // ");
                    out.push_str(rng.pick(WORDS));
                    out.push('\n');
                }
                out.push_str("```\n\n");
            }
            1 => {
                let cols = rng.next() % 4 + 1;
                for row in 0..(rng.next() % 3 + 2) {
                    out.push('|');
                    for _ in 0..cols {
                        if row == 1 {
                            out.push_str(rng.pick(&["---", ":--", ":-:", "--:"]));
                        } else {
                            out.push_str(rng.pick(WORDS));
                            out.push(' ');
                            out.push_str(rng.pick(WORDS));
                        }
                        out.push('|');
                    }
                    out.push('\n');
                }
                out.push('\n');
            }
            _ => {
                for _ in 0..(rng.next() % 4) {
                    out.push_str(rng.pick(BLOCKS));
                }
                for _ in 0..=(rng.next() % 30) {
                    out.push_str(rng.pick(WORDS));
                    out.push(' ');
                }
                out.push_str("\n\n");
            }
        }
    }
    if out.contains("[^n]") {
        out.push_str("[^n]: the note body\n");
    }
    out
}

#[test]
fn invariants_over_fixtures_and_generated_documents() {
    let theme = Theme::default();
    let mut docs: Vec<(String, String)> = FIXTURES
        .iter()
        .map(|(name, src)| ((*name).to_owned(), (*src).to_owned()))
        .collect();
    docs.push(("deep".into(), "> - ".repeat(300) + "deep words here"));
    docs.push(("long".into(), "x".repeat(5000)));
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for i in 0..300 {
        docs.push((format!("generated #{i}"), generate(&mut rng)));
    }
    for (name, src) in &docs {
        for width in [1, 3, 8, 13, 20, 33, 80, 120] {
            let doc = render(src, width, &theme);
            let what = format!("{name} at {width}");
            check(&doc, width, &what);
            // Below this a wide character cannot be shown at all.
            if width >= 3 {
                assert_no_text_lost(src, &doc, &what);
            }
        }
    }
}

const SPEC_DELIMITER: &str = "␞␞␞ example ␞␞␞\n";

#[test]
fn commonmark_spec_examples() {
    let fixture = include_str!("fixtures/commonmark-spec-examples.txt");
    let examples: Vec<&str> = fixture.split(SPEC_DELIMITER).skip(1).collect();
    assert_eq!(examples.len(), 652);
    let theme = Theme::default();
    for (i, src) in examples.iter().enumerate() {
        for width in [20, 80] {
            let doc = render(src, width, &theme);
            let what = format!("spec example {} at {width}", i + 1);
            check(&doc, width, &what);
            assert_no_text_lost(src, &doc, &what);
        }
    }
}

/// Timing of a generated 1 MB post: `cargo test --release -- --ignored --nocapture`.
#[test]
#[ignore = "timing, run in release mode"]
fn one_megabyte_post() {
    let mut rng = Rng(42);
    let mut src = String::new();
    while src.len() < 1 << 20 {
        src.push_str(&generate(&mut rng));
    }
    let theme = Theme::default();
    let prose = FIXTURES
        .iter()
        .map(|(_, s)| *s)
        .collect::<Vec<_>>()
        .join("\n\n");
    let mut code = String::from("```rust\n");
    while code.len() < 200_000 {
        code.push_str("    let value = compute(&input, 42).expect(\"works\"); // note\n");
    }
    code.push_str("```\n");
    let cases = [
        (
            "fixtures repeated",
            prose.repeat((1 << 20) / prose.len() + 1),
        ),
        ("one long word", "x".repeat(1 << 20)),
        ("CJK paragraph", "日本語の文章。".repeat(50_000)),
        (
            "table rows",
            "| a | b c d | e |\n|---|---|---|\n".to_owned()
                + &"| 1 | two words | three |\n".repeat(40_000),
        ),
        ("code blocks", code.repeat(5)),
        ("links", "[link](http://example.com) text ".repeat(35_000)),
        ("100k nested quotes", "> ".repeat(100_000) + "x"),
        ("100k nested items", "- ".repeat(100_000) + "x"),
    ];
    for (label, src) in cases {
        let start = std::time::Instant::now();
        let doc = render(&src, 80, &theme);
        println!(
            "{label} ({} bytes): {} lines in {:?}",
            src.len(),
            doc.lines.len(),
            start.elapsed()
        );
    }
    for (label, theme) in [
        ("with highlighting", theme.clone()),
        ("no colour", theme.without_color()),
    ] {
        let start = std::time::Instant::now();
        let doc = render(&src, 80, &theme);
        println!(
            "1 MB ({} bytes) at width 80, {label}: {} lines in {:?}",
            src.len(),
            doc.lines.len(),
            start.elapsed()
        );
    }
}

/// Random soup of Markdown syntax: finds panics and edge cases the
/// structured generator does not reach.
#[test]
fn markdown_soup() {
    const ALPHABET: &[&str] = &[
        "-",
        " ",
        "  ",
        "\n",
        "\n\n",
        ">",
        "*",
        "_",
        "`",
        "```",
        "#",
        "[",
        "]",
        "(",
        ")",
        "!",
        "|",
        ":",
        "1.",
        "日本",
        "🦀",
        "\t",
        "\u{1b}",
        "&#27;",
        "$",
        "$$",
        "<",
        "~",
        "^",
        "[^1]",
        "[^1]:",
        "word ",
        "x",
        "\\",
        "[!NOTE]",
        "---",
        "<div>",
        "http://a.b",
        "e\u{301}",
        "\r\n",
        "    ",
    ];
    let theme = Theme::default();
    let mut rng = Rng(0xDEAD_BEEF_CAFE_F00D);
    // FOLIO_SOUP=N runs more rounds when hunting bugs.
    let rounds = std::env::var("FOLIO_SOUP")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3000);
    for i in 0..rounds {
        let mut src = String::new();
        for _ in 0..(rng.next() % 120) {
            src.push_str(rng.pick(ALPHABET));
        }
        let width = [1, 2, 3, 4, 7, 10, 16, 40][i % 8];
        let doc = render(&src, width, &theme);
        check(&doc, width, &format!("soup #{i} {src:?}"));
        if width >= 3 {
            assert_no_text_lost(&src, &doc, &format!("soup #{i} {src:?}"));
        }
    }
}
