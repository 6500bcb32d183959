//! Property tests (issue 7): over arbitrary Markdown and arbitrary bytes,
//! rendering never panics, every line fits the width, and no control
//! character survives. Case counts stay modest so debug `cargo test` is
//! quick; `PROPTEST_CASES=N` runs more.

use folio::markdown::render;
use folio::mojibake::repair;
use folio::sanitize::{display_width, is_unsafe};
use folio::theme::Theme;
use proptest::prelude::*;

/// Markdown-shaped text: syntax, controls, wide and combining characters.
fn markdown() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("\n"),
        Just("\n\n"),
        Just("> "),
        Just("- "),
        Just("1. "),
        Just("* "),
        Just("_"),
        Just("**"),
        Just("`"),
        Just("```rust\n"),
        Just("```\n"),
        Just("# "),
        Just("["),
        Just("]"),
        Just("("),
        Just(")"),
        Just("!["),
        Just("|"),
        Just("|---|\n"),
        Just("[^a]"),
        Just("[^a]: "),
        Just("<div>"),
        Just("&#27;"),
        Just("&#155;"),
        Just("\u{1b}]8;;x\u{7}"),
        Just("\u{1b}[2J"),
        Just("\u{9b}"),
        Just("\u{202e}"),
        Just("\t"),
        Just("    "),
        Just("日本語"),
        Just("🦀"),
        Just("e\u{301}"),
        Just("â€”"),
        Just("Ã©"),
        Just("word "),
        Just("longerword"),
        Just("http://a.b/c"),
        Just("---\n"),
        Just("\r\n"),
        Just("\u{0}"),
        Just("\u{7f}"),
    ];
    prop::collection::vec(piece, 0..80).prop_map(|v| v.concat())
}

fn check(src: &str, width: u16) -> Result<(), TestCaseError> {
    let doc = render(src, width, &Theme::default());
    prop_assert_eq!(doc.lines.len(), doc.offsets.len());
    for line in &doc.lines {
        let mut w = 0;
        for span in &line.spans {
            prop_assert!(!span.content.chars().any(is_unsafe), "{:?}", span.content);
            w += display_width(&span.content);
        }
        prop_assert!(w <= usize::from(width), "{} columns at width {}", w, width);
    }
    for h in &doc.headings {
        prop_assert!(!h.text.chars().any(is_unsafe));
    }
    for l in &doc.links {
        prop_assert!(!l.url.chars().any(is_unsafe) && !l.text.chars().any(is_unsafe));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn arbitrary_markdown_renders_safely(src in markdown(), width in 1u16..120) {
        check(&src, width)?;
        check(&repair(&src), width)?;
    }

    #[test]
    fn arbitrary_bytes_render_safely(bytes in prop::collection::vec(any::<u8>(), 0..2048), width in 1u16..120) {
        check(&String::from_utf8_lossy(&bytes), width)?;
    }

    #[test]
    fn arbitrary_text_frontmatter_never_panics(src in "(---\n)?[ -~\t\n\u{80}-\u{ff}]{0,400}(---\n)?.*") {
        let post = folio::posts::post_from_text(
            folio::posts::Origin::File("p.md".into()),
            "p.md".into(),
            &src,
            false,
        );
        prop_assert!(!folio::sanitize::sanitize(&post.title).chars().any(is_unsafe));
    }

    #[test]
    fn repair_adds_no_controls(s in "[a-z \u{80}-\u{ff}€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ]{0,40}") {
        let once = repair(&s).into_owned();
        prop_assert!(once.chars().filter(|&c| is_unsafe(c)).count() <= s.chars().filter(|&c| is_unsafe(c)).count());
    }
}
