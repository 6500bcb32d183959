//! The title and excerpt a post gets from its body when its frontmatter
//! has none: the first heading and the first paragraph.

use super::collapse_whitespace;

const EXCERPT_CHARS: usize = 200;

fn is_fence(line: &str) -> Option<&str> {
    let t = line.trim_start();
    if line.len() - t.len() > 3 {
        return None;
    }
    if t.starts_with("```") {
        Some("```")
    } else if t.starts_with("~~~") {
        Some("~~~")
    } else {
        None
    }
}

/// The text of an ATX heading line of any level, or `None`.
fn atx_heading(line: &str) -> Option<(usize, &str)> {
    let t = line.trim_start_matches(' ');
    if line.len() - t.len() > 3 {
        return None;
    }
    let level = t.bytes().take_while(|&b| b == b'#').count();
    if level == 0 || level > 6 {
        return None;
    }
    let rest = &t[level..];
    if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
        return None;
    }
    let mut text = rest.trim();
    // A closing run of #s belongs to the syntax when a space precedes it.
    let without = text.trim_end_matches('#');
    if without.is_empty() || without.ends_with([' ', '\t']) {
        text = without.trim_end();
    }
    Some((level, text))
}

/// The first level-1 ATX heading outside code blocks.
pub(super) fn first_heading(body: &str) -> Option<String> {
    let mut fence: Option<&str> = None;
    for line in body.lines() {
        if let Some(f) = fence {
            if line.trim_start().starts_with(f) {
                fence = None;
            }
            continue;
        }
        if let Some(f) = is_fence(line) {
            fence = Some(f);
            continue;
        }
        if let Some((1, text)) = atx_heading(line) {
            let text = collapse_whitespace(&strip_inline(char_prefix(text, 1000)));
            if !text.is_empty() {
                return Some(text);
            }
        }
    }
    None
}

fn is_thematic_break(t: &str) -> bool {
    let compact: String = t.chars().filter(|c| !c.is_whitespace()).collect();
    compact.len() >= 3
        && (compact.bytes().all(|b| b == b'-')
            || compact.bytes().all(|b| b == b'*')
            || compact.bytes().all(|b| b == b'_'))
}

/// A line that is only an image (or a linked image): decoration, not prose.
fn is_image_line(t: &str) -> bool {
    (t.starts_with("![") || t.starts_with("[![")) && t.ends_with(')')
}

fn is_link_definition(t: &str) -> bool {
    t.starts_with('[') && t.contains("]:")
}

/// Strips list markers and quote markers from the start of a paragraph line.
fn strip_block_markers(mut t: &str) -> &str {
    loop {
        let before = t;
        t = t.trim_start();
        if let Some(r) = t.strip_prefix('>') {
            t = r;
        } else if let Some(r) = t
            .strip_prefix("- ")
            .or_else(|| t.strip_prefix("* "))
            .or_else(|| t.strip_prefix("+ "))
        {
            t = r;
        } else {
            let n = t.bytes().take_while(u8::is_ascii_digit).count();
            if (1..=9).contains(&n) && (t[n..].starts_with(". ") || t[n..].starts_with(") ")) {
                t = &t[n + 2..];
            }
        }
        if t.len() == before.len() {
            return t;
        }
    }
}

/// The start of the first paragraph of prose, markup stripped, cut to about
/// 200 characters.
pub(super) fn first_paragraph(body: &str) -> String {
    // Enough raw text for the excerpt even after markup is stripped.
    const RAW_LIMIT: usize = 4 * EXCERPT_CHARS;
    let mut fence: Option<&str> = None;
    let mut in_html = false;
    let mut para = String::new();
    for line in body.lines() {
        if let Some(f) = fence {
            if line.trim_start().starts_with(f) {
                fence = None;
            }
            continue;
        }
        let t = line.trim();
        if t.is_empty() {
            in_html = false;
            if para.is_empty() {
                continue;
            }
            break;
        }
        if in_html {
            continue;
        }
        if let Some(f) = is_fence(line) {
            if !para.is_empty() {
                break;
            }
            fence = Some(f);
            continue;
        }
        if atx_heading(line).is_some() || is_thematic_break(t) {
            if !para.is_empty() {
                // A paragraph followed by `---` is a setext heading.
                if t.bytes().all(|b| b == b'-' || b == b' ') {
                    para.clear();
                    continue;
                }
                break;
            }
            continue;
        }
        if para.is_empty() {
            if line.starts_with("    ") || line.starts_with('\t') {
                continue; // indented code
            }
            if t.starts_with("<!--") && t.ends_with("-->") {
                continue; // a one-line comment such as `<!-- more -->`
            }
            if t.starts_with('<') && !t.contains("://") {
                in_html = true;
                continue;
            }
            // Tables, Liquid tags and Hugo shortcodes are not prose.
            let template = t.starts_with("{%") || t.starts_with("{{");
            if is_image_line(t) || is_link_definition(t) || t.starts_with('|') || template {
                continue;
            }
        } else if t.bytes().all(|b| b == b'=') {
            // The paragraph so far was a setext heading.
            para.clear();
            continue;
        }
        let t = strip_block_markers(t);
        if !para.is_empty() {
            para.push(' ');
        }
        para.push_str(t);
        if para.len() > RAW_LIMIT {
            break;
        }
    }
    truncate_excerpt(&collapse_whitespace(&strip_inline(char_prefix(
        &para, RAW_LIMIT,
    ))))
}

/// At most `n` characters from the start of `s`.
fn char_prefix(s: &str, n: usize) -> &str {
    s.char_indices().nth(n).map_or(s, |(i, _)| &s[..i])
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

/// Removes simple inline markup: emphasis markers, code backticks, links and
/// images (keeping link text), autolinks and HTML tags.
fn strip_inline(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' if i + 1 < chars.len() && chars[i + 1].is_ascii_punctuation() => {
                out.push(chars[i + 1]);
                i += 2;
            }
            '*' | '`' => i += 1,
            '~' if chars.get(i + 1) == Some(&'~') => i += 2,
            '_' => {
                // Inside a word (snake_case) an underscore is not emphasis.
                let prev = i.checked_sub(1).map(|j| chars[j]);
                let next = chars.get(i + 1).copied();
                if prev.is_some_and(char::is_alphanumeric)
                    && next.is_some_and(char::is_alphanumeric)
                {
                    out.push('_');
                }
                i += 1;
            }
            '!' if chars.get(i + 1) == Some(&'[') => {
                // Images say nothing in a one-line excerpt.
                if let Some((_, _, end)) = link_end(&chars, i + 1) {
                    i = end;
                } else {
                    out.push('!');
                    i += 1;
                }
            }
            '[' => {
                if let Some((start, text_end, end)) = link_end(&chars, i) {
                    out.push_str(&strip_inline(
                        &chars[start..text_end].iter().collect::<String>(),
                    ));
                    i = end;
                } else {
                    out.push('[');
                    i += 1;
                }
            }
            '<' => {
                let close = chars[i + 1..].iter().take(200).position(|&c| c == '>');
                let next = chars.get(i + 1).copied();
                match close {
                    Some(n) if next.is_some_and(|c| c.is_ascii_alphabetic() || c == '/') => {
                        let inner: String = chars[i + 1..i + 1 + n].iter().collect();
                        if inner.contains("://") || inner.starts_with("mailto:") {
                            out.push_str(&inner);
                        }
                        i += n + 2;
                    }
                    _ => {
                        out.push('<');
                        i += 1;
                    }
                }
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// For `[text](url)` or `[text][ref]` starting at `open`: the range of the
/// text and the index after the whole link.
fn link_end(chars: &[char], open: usize) -> Option<(usize, usize, usize)> {
    // A bounded look-ahead keeps `[[[[…` linear instead of quadratic.
    const WINDOW: usize = 512;
    let chars = &chars[..chars.len().min(open + WINDOW)];
    let mut depth = 0;
    let mut close = None;
    for (j, &c) in chars.iter().enumerate().skip(open) {
        match c {
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(j);
                    break;
                }
            }
            _ => {}
        }
    }
    let close = close?;
    let closer = match chars.get(close + 1) {
        Some('(') => ')',
        Some('[') => ']',
        _ => return None,
    };
    let end = chars[close + 2..].iter().position(|&c| c == closer)?;
    Some((open + 1, close, close + 2 + end + 1))
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
    fn adversarial_markup_is_fast() {
        let text = format!("# {}\n\n{}\n", "[".repeat(100_000), "[](".repeat(50_000));
        let start = Instant::now();
        let _ = post("a.md", &text);
        assert!(start.elapsed() < Duration::from_secs(2));
    }
}
