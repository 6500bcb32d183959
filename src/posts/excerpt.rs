//! The title and excerpt a post gets from its body when its frontmatter
//! has none: the first heading that reads as a title and the first
//! paragraph, taken from pulldown-cmark's events with the renderer's
//! options, so the list and the reader agree on what is a heading, a
//! paragraph or code.
//!
//! The work is bounded. Only the head of the body is read ([`HEAD_LIMIT`]),
//! and of it only a window at first: pulldown-cmark takes in all of its
//! input before the first event, so a scan of thousands of posts would
//! otherwise parse every head whole. The window grows (and is parsed again)
//! only while what is wanted is not found in it. The events are walked with
//! counters, never recursion, as their nesting can be very deep.

use std::borrow::Cow;
use std::collections::HashSet;
use std::ops::Range;

use pulldown_cmark::{BrokenLink, CowStr, Event, HeadingLevel, LinkType, Parser, Tag, TagEnd};

use super::HEAD_LIMIT;

const EXCERPT_CHARS: usize = 200;

/// A title is one line of the list; a longer heading is cut.
const TITLE_CHARS: usize = 1000;

/// The first window: room for a title and a first paragraph in almost
/// every post. Each next one is four times larger, so a head read whole
/// is parsed about 1.3 times.
const FIRST_WINDOW: usize = 2 * 1024;

/// Footnote labels given a stand-in definition per window, at most: a
/// bound on what a hostile post can add to the parse.
const STAND_INS: usize = 64;

/// What the body gives the listing.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct FromBody {
    /// The text of the first heading that reads as a title.
    pub title: Option<String>,
    /// The start of the first paragraph, cut to about 200 characters; empty
    /// when the body has none.
    pub excerpt: String,
}

/// Reads the title (when `want_title`) and the excerpt (when
/// `want_excerpt`) from the head of `body`. What is not wanted is not
/// looked for, and nothing is parsed when neither is.
pub(super) fn from_body(body: &str, mut want_title: bool, mut want_excerpt: bool) -> FromBody {
    let head = head(body);
    let mut found = FromBody::default();
    let mut size = FIRST_WINDOW;
    while want_title || want_excerpt {
        let window = window(head, size);
        let whole = window.len() == head.len();
        let mut reader = Reader::new(want_title, want_excerpt, whole);
        reader.read(window);
        if let Some(title) = reader.title {
            found.title = Some(title);
            want_title = false;
        }
        if let Some(excerpt) = reader.excerpt {
            found.excerpt = excerpt;
            want_excerpt = false;
        }
        if whole {
            break;
        }
        // A long line can make a window larger than asked for; the next
        // one ends past it.
        size = size.saturating_mul(4).max(window.len() + 1);
    }
    found
}

/// At most [`HEAD_LIMIT`] bytes of `body`, ending after a line break when
/// there is one in the second half, so that no line is read cut short.
fn head(body: &str) -> &str {
    if body.len() <= HEAD_LIMIT {
        return body;
    }
    let mut end = HEAD_LIMIT;
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    let cut = &body[..end];
    match cut.rfind('\n') {
        Some(i) if i >= end / 2 => &cut[..=i],
        _ => cut,
    }
}

/// The start of `head`, at least `size` bytes of it, in whole lines: a line
/// cut short could read as something else (`=` alone is a setext
/// underline, `= x` is not).
fn window(head: &str, size: usize) -> &str {
    if head.len() <= size {
        return head;
    }
    let mut from = size;
    while !head.is_char_boundary(from) {
        from -= 1;
    }
    head[from..].find('\n').map_or(head, |i| &head[..=from + i])
}

/// `window` with a stand-in definition after it for each footnote label it
/// refers to. GFM footnotes make a reference to a label defined nowhere in
/// the parsed text plain text, `[^1]`, and definitions are usually at the
/// end of a post, past the window; the stand-ins' events come after the
/// window's and are never read.
fn with_footnote_stand_ins(window: &str) -> Cow<'_, str> {
    let mut labels = HashSet::new();
    let mut text = String::new();
    for (at, _) in window.match_indices("[^") {
        let after = &window[at + 2..];
        // A label ends at `]` within 999 bytes; the search stops at the
        // next `[` too, which keeps `[^[^[^…` linear.
        let close = after
            .bytes()
            .take(1000)
            .position(|b| matches!(b, b']' | b'[' | b'\n'))
            .filter(|&i| i > 0 && after.as_bytes()[i] == b']');
        let Some(close) = close else {
            continue;
        };
        let label = &after[..close];
        if !labels.insert(label) {
            continue;
        }
        if text.is_empty() {
            text.reserve(window.len() + 64);
            text.push_str(window);
        }
        text.push_str("\n\n[^");
        text.push_str(label);
        text.push_str("]: .\n");
        if labels.len() == STAND_INS {
            break;
        }
    }
    if text.is_empty() {
        Cow::Borrowed(window)
    } else {
        Cow::Owned(text)
    }
}

/// A reference link whose definition is not in the window (it is usually
/// at the end of the post) still reads as its text. A bare `[word]` with no
/// definition stays as written, as the renderer shows it.
#[allow(clippy::needless_pass_by_value)] // the parser's callback signature
fn keep_reference_text(link: BrokenLink<'_>) -> Option<(CowStr<'_>, CowStr<'_>)> {
    matches!(link.link_type, LinkType::Reference | LinkType::Collapsed)
        .then(|| (CowStr::Borrowed(""), CowStr::Borrowed("")))
}

/// Text with every run of white space as one space and none at the start,
/// kept to at most `max` characters.
struct Words {
    text: String,
    chars: usize,
    max: usize,
    space: bool,
}

impl Words {
    fn new(max: usize) -> Self {
        Words {
            text: String::new(),
            chars: 0,
            max,
            space: false,
        }
    }

    fn push(&mut self, s: &str) {
        for c in s.chars() {
            if self.chars >= self.max {
                return;
            }
            if c.is_whitespace() {
                self.space();
                continue;
            }
            if self.space {
                self.text.push(' ');
                self.chars += 1;
                self.space = false;
                if self.chars >= self.max {
                    return;
                }
            }
            self.text.push(c);
            self.chars += 1;
        }
    }

    /// A break between words: a line break, the end of a list item.
    fn space(&mut self) {
        self.space = !self.text.is_empty();
    }
}

/// The block the excerpt is being read from.
struct Block {
    words: Words,
    /// The nesting depth that closes the block: a paragraph's own, or the
    /// outermost list's for the items of a tight list (which have no
    /// paragraphs, and read as one).
    closes_at: usize,
    /// The next inline text starts a line of the block's source.
    line_start: bool,
    /// Skipping a line that opens the block without being prose.
    skip_line: bool,
}

impl Block {
    fn new(closes_at: usize) -> Self {
        Block {
            words: Words::new(EXCERPT_CHARS + 1),
            closes_at,
            line_start: true,
            skip_line: false,
        }
    }
}

/// One walk over a window's events: what is wanted, what was found, and
/// where in the nesting it is.
struct Reader {
    want_title: bool,
    want_excerpt: bool,
    /// The window is the whole head: nothing after it can change a block
    /// at its end.
    whole: bool,
    title: Option<String>,
    excerpt: Option<String>,
    /// Open tags.
    depth: usize,
    /// The depth of the outermost open tag whose content is no prose (code,
    /// HTML, tables, footnote definitions, images): nothing inside counts.
    skip_from: Option<usize>,
    /// Inside a heading: its text is no part of the excerpt.
    in_heading: bool,
    /// The heading being read as the title.
    heading: Option<Words>,
    /// The depth of the outermost open list, where a tight list's text ends.
    outer_list: Option<usize>,
    block: Option<Block>,
}

impl Reader {
    fn new(want_title: bool, want_excerpt: bool, whole: bool) -> Self {
        Reader {
            want_title,
            want_excerpt,
            whole,
            title: None,
            excerpt: None,
            depth: 0,
            skip_from: None,
            in_heading: false,
            heading: None,
            outer_list: None,
            block: None,
        }
    }

    fn done(&self) -> bool {
        (!self.want_title || self.title.is_some()) && (!self.want_excerpt || self.excerpt.is_some())
    }

    /// Walks `window`'s events until what is wanted is found.
    fn read(&mut self, window: &str) {
        let text = with_footnote_stand_ins(window);
        let parser = Parser::new_with_broken_link_callback(
            &text,
            crate::markdown::options(),
            Some(keep_reference_text),
        );
        for (event, range) in parser.into_offset_iter() {
            if range.start >= window.len() || self.done() {
                break;
            }
            self.event(event, window, range);
        }
    }

    /// One event, read from `window[range]` (a block that runs on into
    /// the stand-ins past the window is cut at its end).
    fn event(&mut self, event: Event<'_>, window: &str, range: Range<usize>) {
        let end = range.end.min(window.len());
        match event {
            Event::Start(tag) => self.start(&tag, &window[range.start..end]),
            Event::End(tag) => self.end(tag, &window[end..]),
            Event::Text(text)
            | Event::Code(text)
            | Event::InlineMath(text)
            | Event::DisplayMath(text) => self.text(&text, &window[range.start..]),
            Event::SoftBreak | Event::HardBreak => self.line_break(),
            // Markup, marks and references say nothing in a one-line
            // excerpt.
            Event::Html(_)
            | Event::InlineHtml(_)
            | Event::FootnoteReference(_)
            | Event::TaskListMarker(_)
            | Event::Rule => {}
        }
    }

    /// A tag opens; `source` is its text.
    fn start(&mut self, tag: &Tag<'_>, source: &str) {
        let depth = self.depth;
        self.depth += 1;
        if self.skip_from.is_some() {
            return;
        }
        match tag {
            Tag::CodeBlock(_)
            | Tag::HtmlBlock
            | Tag::Table(_)
            | Tag::FootnoteDefinition(_)
            | Tag::MetadataBlock(_)
            | Tag::Image { .. } => {
                self.skip_from = Some(depth);
                return;
            }
            Tag::Heading { level, .. } => {
                self.in_heading = true;
                // Level 1, or a setext heading of either underline:
                // `Title` over `-----` reads as a title, `## Section` not.
                if self.want_title
                    && self.title.is_none()
                    && depth == 0
                    && (*level == HeadingLevel::H1 || is_setext(source))
                {
                    self.heading = Some(Words::new(TITLE_CHARS));
                }
            }
            Tag::Paragraph if self.wants_block() => self.block = Some(Block::new(depth)),
            Tag::List(_) | Tag::DefinitionList => {
                self.outer_list.get_or_insert(depth);
            }
            _ => {}
        }
        if !is_inline(tag) {
            self.line_break();
        }
    }

    /// A tag closes; `after` is the window's text after it.
    fn end(&mut self, tag: TagEnd, after: &str) {
        self.depth -= 1;
        let depth = self.depth;
        if let Some(from) = self.skip_from {
            if from == depth {
                self.skip_from = None;
            }
            return;
        }
        match tag {
            TagEnd::Heading(_) => {
                self.in_heading = false;
                if let Some(words) = self.heading.take() {
                    let text = words.text.trim_end();
                    if !text.is_empty() {
                        self.title = Some(text.to_string());
                    }
                }
            }
            TagEnd::List(_) | TagEnd::DefinitionList if self.outer_list == Some(depth) => {
                self.outer_list = None;
            }
            _ => {}
        }
        if self.block.as_ref().is_some_and(|b| b.closes_at == depth) {
            let block = self.block.take();
            // A block that the window's end closed may go on after it (more
            // lines, an underline that makes it a heading, a blank line that
            // makes a list loose): a larger window decides.
            let settled = self.whole || !after.trim_start().is_empty();
            if let Some(block) = block.filter(|b| settled && !b.words.text.is_empty()) {
                self.excerpt = Some(truncate_excerpt(&block.words.text));
            }
        } else if !is_inline_end(tag) {
            self.line_break();
        }
    }

    /// Inline text; `rest` is the window from where it starts.
    fn text(&mut self, text: &str, rest: &str) {
        if self.skip_from.is_some() {
            return;
        }
        if self.in_heading {
            if let Some(words) = &mut self.heading {
                words.push(text);
            }
            return;
        }
        if self.block.is_none() && self.wants_block() {
            // Text outside a paragraph: the items of a tight list.
            let closes_at = self.outer_list.unwrap_or(self.depth.saturating_sub(1));
            self.block = Some(Block::new(closes_at));
        }
        let Some(block) = &mut self.block else {
            return;
        };
        if block.line_start {
            block.line_start = false;
            // Tables that never became one, Liquid tags and Hugo shortcodes
            // are not prose.
            let line = rest.trim_start_matches([' ', '\t']);
            block.skip_line = block.words.text.is_empty()
                && (line.starts_with('|') || line.starts_with("{%") || line.starts_with("{{"));
        }
        if !block.skip_line {
            block.words.push(text);
        }
    }

    /// A line break, or a block opening or closing inside the excerpt's
    /// block (a list item): a word break, and a new line of source.
    fn line_break(&mut self) {
        if self.skip_from.is_some() {
            return;
        }
        if self.in_heading {
            // A setext heading's lines.
            if let Some(words) = &mut self.heading {
                words.space();
            }
        } else if let Some(block) = &mut self.block {
            block.words.space();
            block.line_start = true;
            block.skip_line = false;
        }
    }

    fn wants_block(&self) -> bool {
        self.want_excerpt && self.excerpt.is_none() && self.block.is_none() && !self.in_heading
    }
}

/// A setext heading (`Title` underlined with `=` or `-`) spans two lines or
/// more; an ATX heading (`# Title`) one. `source` is the heading's text.
fn is_setext(source: &str) -> bool {
    source.trim_end().contains('\n')
}

fn is_inline(tag: &Tag<'_>) -> bool {
    matches!(
        tag,
        Tag::Emphasis
            | Tag::Strong
            | Tag::Strikethrough
            | Tag::Superscript
            | Tag::Subscript
            | Tag::Link { .. }
            | Tag::Image { .. }
    )
}

fn is_inline_end(tag: TagEnd) -> bool {
    matches!(
        tag,
        TagEnd::Emphasis
            | TagEnd::Strong
            | TagEnd::Strikethrough
            | TagEnd::Superscript
            | TagEnd::Subscript
            | TagEnd::Link
            | TagEnd::Image
    )
}

fn truncate_excerpt(s: &str) -> String {
    let Some((cut, _)) = s.char_indices().nth(EXCERPT_CHARS) else {
        return s.to_string();
    };
    let head = &s[..cut];
    // Prefer a word boundary unless that would throw away most of the text.
    let head = match head.rfind(' ') {
        Some(i) if i > cut / 2 => &head[..i],
        _ => head,
    };
    let head = head.trim_end_matches(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':'));
    format!("{head}…")
}

#[cfg(test)]
mod tests {
    use super::super::tests::post;
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn excerpt_from_first_paragraph() {
        let body = "---\ntitle: t\n---\n# Heading\n\n![hero](img.png)\n\n```rust\nlet code = 1;\n```\n\n<div class=\"x\">\nhtml\n</div>\n\n> **Bold** start, `code`, _emph_ and [a link](http://x.y)\n> with snake_case_name.\n\nSecond paragraph.\n";
        let p = post("a.md", body);
        assert_eq!(
            p.excerpt,
            "Bold start, code, emph and a link with snake_case_name."
        );
        let p = post("a.md", "Setext\n======\n\n- item one\n- item two\n");
        assert_eq!(p.excerpt, "item one item two");
        let long = "word ".repeat(100);
        let p = post("a.md", &long);
        assert!(p.excerpt.ends_with("word…"), "{}", p.excerpt);
        assert!(p.excerpt.chars().count() <= EXCERPT_CHARS + 1);
        assert_eq!(post("a.md", "# Only a heading\n").excerpt, "");
        let p = post(
            "a.md",
            "<!-- note -->\n{{< figure src=x >}}\n| a | b |\n\n~~Old~~ new, ~5 min.\n",
        );
        assert_eq!(p.excerpt, "Old new, ~5 min.");
    }

    #[test]
    fn setext_titles_are_list_titles() {
        let p = post(
            "2025-01-01-file-name.md",
            "Setext title\n============\n\nThe text.\n",
        );
        assert_eq!(p.title, "Setext title");
        assert_eq!(p.excerpt, "The text.");
        let p = post(
            "file-name.md",
            "Also a *title*\n--------------\n\nThe text.\n",
        );
        assert_eq!(p.title, "Also a title");
        assert_eq!(p.excerpt, "The text.");
        // Over two lines, after a level-2 ATX heading, which is no title.
        let p = post(
            "file-name.md",
            "## Section\n\nTwo lines\nof [title][t]\n===\n\nText.\n",
        );
        assert_eq!(p.title, "Two lines of title");
        assert_eq!(
            post("file-name.md", "## Section\n\nText.\n").title,
            "File name"
        );
        // A heading in a quote or a list is not the post's.
        assert_eq!(
            post("file-name.md", "> # Quoted\n\n- # Listed\n").title,
            "File name"
        );
    }

    #[test]
    fn the_excerpt_skips_a_setext_title() {
        let p = post("a.md", "Title\n=====\nThe first paragraph.\n");
        assert_eq!(p.excerpt, "The first paragraph.");
        let p = post(
            "a.md",
            "---\ntitle: From frontmatter\n---\nSection\n-------\n\nBody text.\n",
        );
        assert_eq!(p.title, "From frontmatter");
        assert_eq!(p.excerpt, "Body text.");
        // A `---` after a blank line is a thematic break, not an underline.
        let p = post("file-name.md", "Just text.\n\n---\n\nMore.\n");
        assert_eq!(
            (p.title.as_str(), p.excerpt.as_str()),
            ("File name", "Just text.")
        );
    }

    #[test]
    fn titles_in_code_are_not_taken() {
        let p = post(
            "file-name.md",
            "```\n# Not this\nNor this\n========\n```\n\n~~~md\n# Nor this\n~~~\n\n    # indented code\n\n<div>\n\n# The title\n",
        );
        assert_eq!(p.title, "The title");
        assert_eq!(p.excerpt, "");
        assert_eq!(
            post("file-name.md", "```\n# Not this\n```\n").title,
            "File name"
        );
        // An unclosed fence runs to the end.
        assert_eq!(post("file-name.md", "~~~\n# Not this\n").title, "File name");
    }

    #[test]
    fn references_and_html_read_as_text() {
        let p = post(
            "a.md",
            "See [the docs][docs], [this][] and [that] with <em>some</em> <span class=\"x\">HTML</span> &amp; entities.\n\n[docs]: https://example.com/docs\n[this]: https://example.com/this\n[that]: https://example.com/that\n",
        );
        assert_eq!(
            p.excerpt,
            "See the docs, this and that with some HTML & entities."
        );
        // A definition far down (past the first window) or nowhere still
        // leaves the text; a bare `[word]` with no definition stays as
        // written, and a footnote mark goes.
        let filler = "More text.\n\n".repeat(2_000);
        let p = post(
            "a.md",
            &format!(
                "Read [the guide][guide], [sic] and this[^1].\n\n{filler}[guide]: https://example.com\n\n[^1]: A note.\n"
            ),
        );
        assert_eq!(p.excerpt, "Read the guide, [sic] and this.");
        assert_eq!(
            post("a.md", "Gone [text][nowhere].\n").excerpt,
            "Gone text."
        );
    }

    #[test]
    fn only_the_head_is_read_and_the_window_grows_within_it() {
        let far = "Text.\n\n".repeat(HEAD_LIMIT / 8);
        assert_eq!(post("file-name.md", &format!("{far}# Far\n")).title, "Far");
        let past = "Text.\n\n".repeat(HEAD_LIMIT / 7 + 1);
        assert_eq!(
            post("file-name.md", &format!("{past}# Past\n")).title,
            "File name"
        );
        // A first paragraph on one line longer than the first window.
        let long = "word ".repeat(1_000);
        let p = post("a.md", &format!("{long}\n\nNext.\n"));
        assert!(p.excerpt.starts_with("word word") && p.excerpt.ends_with("word…"));
        // A heading's lines that the first window ends in are no paragraph:
        // the underline comes after it.
        let lines = "a line of title\n".repeat(FIRST_WINDOW / 16 + 1);
        let p = post("a.md", &format!("{lines}===\n\nText.\n"));
        assert!(p.title.starts_with("a line of title a line"), "{}", p.title);
        assert_eq!(p.title.chars().count(), TITLE_CHARS);
        assert_eq!(p.excerpt, "Text.");
    }

    #[test]
    fn deep_nesting_is_walked_without_recursion() {
        let n = 40_000;
        for (body, excerpt) in [
            ("> ".repeat(n) + "deep\n", "deep"),
            ("- ".repeat(n) + "deep\n", "deep"),
            ("> - ".repeat(n / 2) + "deep\n", "deep"),
            (
                "*a **a ".repeat(n / 4) + "b" + &" a** a*".repeat(n / 4),
                "*a **a",
            ),
            (format!("{}a{}", "![".repeat(n), "](b)".repeat(n)), "!["),
        ] {
            let start = Instant::now();
            let p = post("a.md", &body);
            assert!(start.elapsed() < Duration::from_secs(2));
            assert!(p.excerpt.starts_with(excerpt), "{:?}", p.excerpt);
        }
    }

    #[test]
    fn adversarial_markup_is_fast() {
        let text = format!("# {}\n\n{}\n", "[".repeat(100_000), "[](".repeat(50_000));
        let start = Instant::now();
        let _ = post("a.md", &text);
        assert!(start.elapsed() < Duration::from_secs(2));
    }
}
