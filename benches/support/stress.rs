//! Stress inputs: the pathological patterns of cmark's and cmark-gfm's test
//! suites (`test/pathological_tests.py`), at the larger of their two upstream
//! sizes, plus folio's own: the siblings of cmark-gfm's "tables" case (which
//! pulldown-cmark reads as 30,000 equal setext headings) and deep nesting.
//!
//! `cases(percent)` scales every repetition count (or depth) to `percent`
//! of its upstream size, so the same pattern can be laid out at two sizes
//! and the work compared: 100 is the upstream size, 400 four times it.
//! Shared by `tests/hostile.rs`, `benches/folio.rs` and `examples/stress.rs`.
#![allow(dead_code, clippy::format_collect)]

use std::fmt::Write as _;

/// `count` scaled to `percent` of itself (at least 1).
fn scaled(count: usize, percent: usize) -> usize {
    (count * percent / 100).max(1)
}

/// cmark-gfm's "reference collisions": link labels that all fall into one
/// bucket of cmark's 16-entry reference map, each defined and the first one
/// referred to after every definition.
fn reference_collisions(count: usize) -> String {
    fn bad_hash(key: &str) -> bool {
        let mut h: u32 = 0;
        for c in key.chars() {
            h = (c as u32)
                .wrapping_add(h << 6)
                .wrapping_add(h << 16)
                .wrapping_sub(h);
        }
        h.is_multiple_of(16)
    }
    let mut keys = (0..).map(|i| format!("x{i}")).filter(|k| bad_hash(k));
    let bad = keys.next().unwrap_or_default();
    let mut out = String::new();
    for k in keys.take(count - 1) {
        let _ = write!(out, "[{k}]: /url\n\n[{bad}]\n\n");
    }
    out
}

/// Every stress input at `percent` of its upstream size, named.
#[allow(clippy::too_many_lines)] // a list, one entry per input
pub fn cases(percent: usize) -> Vec<(&'static str, String)> {
    let n = |count: usize| scaled(count, percent);
    // Inputs whose size grows with the square of their count (a run of
    // backticks one longer each time, an indent one deeper) are scaled by
    // the square root, so that `percent` is of the size in bytes.
    let root = |count: usize| (count * count * percent / 100).isqrt();
    vec![
        // cmark and cmark-gfm.
        (
            "nested strong emph",
            "*a **a ".repeat(n(65_000)) + "b" + &" a** a*".repeat(n(65_000)),
        ),
        ("many emph closers with no openers", "a_ ".repeat(n(65_000))),
        ("many emph openers with no closers", "_a ".repeat(n(65_000))),
        ("many link closers with no openers", "a]".repeat(n(65_000))),
        ("many link openers with no closers", "[a".repeat(n(65_000))),
        ("mismatched openers and closers", "*a_ ".repeat(n(50_000))),
        (
            "issue #389",
            "*a ".repeat(n(20_000)) + &"_a*_ ".repeat(n(20_000)),
        ),
        (
            "openers and closers multiple of 3",
            "a**b".to_owned() + &"c* ".repeat(n(50_000)),
        ),
        ("link openers and emph closers", "[ a_".repeat(n(50_000))),
        ("pattern [ (]( repeated", "[ (](".repeat(n(80_000))),
        ("pattern ![[]() repeated", "![[]()".repeat(n(160_000))),
        ("hard link/emph case", "**x [a*b**c*](d)\n\n".repeat(n(1))),
        (
            "nested brackets",
            "[".repeat(n(50_000)) + "a" + &"]".repeat(n(50_000)),
        ),
        ("nested block quotes", "> ".repeat(n(50_000)) + "a"),
        (
            "deeply nested lists",
            (0..root(1000)).map(|i| "  ".repeat(i) + "* a\n").collect(),
        ),
        ("U+0000 in input", "abc\0de\0\n".repeat(n(1))),
        (
            // cmark's current size: cmark-gfm's 5,000 is 12.5 MB and four
            // times that is past the 16 MB folio reads of a post.
            "backticks",
            (1..root(2_500))
                .map(|i| "e".to_owned() + &"`".repeat(i))
                .collect(),
        ),
        ("unclosed links A", "[a](<b".repeat(n(30_000))),
        ("unclosed links B", "[a](b".repeat(n(30_000))),
        (
            "unclosed <!--",
            "</".to_owned() + &"<!--".repeat(n(300_000)),
        ),
        (
            "empty lines in deeply nested lists",
            "- ".repeat(n(30_000)) + "x" + &"\n".repeat(n(30_000)),
        ),
        (
            "empty lines in deeply nested lists in blockquote",
            "> ".to_owned() + &"- ".repeat(n(30_000)) + "x\n" + &">\n".repeat(n(30_000)),
        ),
        (
            "emph in deep blockquote",
            ">".repeat(n(100_000)) + &"a*".repeat(n(100_000)),
        ),
        ("reference collisions", reference_collisions(n(50_000))),
        (
            "nested inlines",
            "*".repeat(n(20_000)) + "a" + &"*".repeat(n(20_000)),
        ),
        ("tables", "aaa\rbbb\n-\x0b\n".repeat(n(30_000))),
        (
            // Allowed to fail upstream; 800,000 definitions at full size.
            "many references",
            (1..n(50_000 * 16))
                .map(|i| format!("[{i}]: u\n"))
                .collect::<String>()
                + &"[0] ".repeat(n(50_000)),
        ),
        // The "tables" case's siblings: what it is to pulldown-cmark (equal
        // headings), and the tables it was meant to be.
        ("equal setext headings", "aaa\nbbb\n-\n".repeat(n(30_000))),
        ("equal ATX headings", "# a\n".repeat(n(30_000))),
        (
            "headings with equal ids",
            "# a {#x}\n# x\n".repeat(n(15_000)),
        ),
        ("one-row tables", "|a|\n|-|\n|b|\n\n".repeat(n(30_000))),
        (
            "one-column table rows",
            "|a|\n|-|\n".to_owned() + &"|b|\n".repeat(n(90_000)),
        ),
        (
            "wide table rows",
            "|a|b|c|d|e|f|g|h|\n|-|-|-|-|-|-|-|-|\n".to_owned()
                + &"|1|2|3|4|5|6|7|8|\n".repeat(n(30_000)),
        ),
        (
            "table columns",
            "|a".repeat(n(50_000)) + "\n" + &"|-".repeat(n(50_000)) + "\n",
        ),
        ("CR line endings", "aaa\r\r- b\r".repeat(n(30_000))),
        // folio's own: nesting the renderer keeps in explicit stacks.
        ("nested list items", "- ".repeat(n(50_000)) + "x\n"),
        ("nested ordered items", "1. ".repeat(n(50_000)) + "x\n"),
        ("nested quotes and items", "> - ".repeat(n(25_000)) + "x\n"),
        (
            "nested images",
            "![".repeat(n(50_000)) + "a" + &"](b)".repeat(n(50_000)),
        ),
        ("unclosed html", "<a ".repeat(n(50_000))),
        ("entities", "&#27;&amp;".repeat(n(50_000))),
        (
            "footnote definitions",
            (0..n(5_000))
                .map(|i| format!("[^{i}]: [^{}]\n", i + 1))
                .collect(),
        ),
        ("NUL bytes", "\0".repeat(n(50_000))),
    ]
}
