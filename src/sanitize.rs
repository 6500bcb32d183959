//! The one gate every post-derived string passes before it can reach a
//! terminal, plus the display-width measure the layout code shares with it.
//!
//! ratatui's buffer drops control characters but keeps the rest of an escape
//! sequence, and some paths (titles, hyperlinks) bypass the buffer entirely, so
//! the renderer cannot rely on the backend: every control character is turned
//! into a visible placeholder here, once, before text is measured and wrapped.

use std::borrow::Cow;

use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// Shown for C1 controls and for `BiDi` overrides/isolates, which have no
/// control picture of their own.
pub const PLACEHOLDER: char = '\u{FFFD}';

/// True for characters that must never be written to a terminal as-is.
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1F}' | '\u{7F}'..='\u{9F}'
        // BiDi embeddings, overrides, isolates and marks: they reorder or hide text.
        | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        | '\u{200E}' | '\u{200F}' | '\u{061C}'
        // Line and paragraph separators break a terminal line where we did not.
        | '\u{2028}' | '\u{2029}')
}

/// The visible stand-in for an unsafe character. C0 controls and DEL get their
/// Unicode control pictures (ESC shows as ␛), a tab becomes a space (callers
/// that care about tab stops expand tabs before calling [`sanitize`]).
pub fn placeholder(c: char) -> char {
    match c {
        '\t' => ' ',
        '\u{0}'..='\u{1F}' => char::from_u32(0x2400 + c as u32).unwrap_or(PLACEHOLDER),
        '\u{7F}' => '\u{2421}',
        _ => PLACEHOLDER,
    }
}

/// Replaces every unsafe character with its placeholder. Borrowed when the
/// string is already clean, which is the common case.
pub fn sanitize(s: &str) -> Cow<'_, str> {
    // Printable ASCII is checked a byte at a time; only from the first
    // other byte on (a char boundary, as all before it are ASCII) are
    // characters decoded.
    let Some(first) = s.bytes().position(|b| !(0x20..0x7f).contains(&b)) else {
        return Cow::Borrowed(s);
    };
    if !s[first..].chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| if is_unsafe(c) { placeholder(c) } else { c })
            .collect(),
    )
}

/// Expands tabs to the next multiple of `tab` columns, counted from the start
/// of `s`, then sanitizes the rest. For code, where alignment matters.
pub fn expand_tabs(s: &str, tab: usize) -> Cow<'_, str> {
    if !s.contains('\t') {
        return sanitize(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    let mut col = 0;
    for g in s.graphemes(true) {
        if g == "\t" {
            let n = tab - col % tab;
            out.extend(std::iter::repeat_n(' ', n));
            col += n;
        } else {
            out.push_str(&sanitize(g));
            col += grapheme_width(g);
        }
    }
    Cow::Owned(out)
}

/// Columns one grapheme takes, measured the way ratatui's buffer measures it,
/// so that our own wrapping and the buffer never disagree.
pub fn grapheme_width(g: &str) -> usize {
    g.width()
}

/// Columns a (sanitized) string takes on screen.
pub fn display_width(s: &str) -> usize {
    if s.is_ascii() {
        return s.len();
    }
    s.graphemes(true).map(grapheme_width).sum()
}

/// Cuts `s` to at most `width` columns, ending with `…` when anything was cut.
pub fn truncate(s: &str, width: usize) -> Cow<'_, str> {
    if display_width(s) <= width {
        return Cow::Borrowed(s);
    }
    if width == 0 {
        return Cow::Borrowed("");
    }
    let mut out = String::new();
    let mut used = 0;
    for g in s.graphemes(true) {
        let w = grapheme_width(g);
        if used + w > width - 1 {
            break;
        }
        out.push_str(g);
        used += w;
    }
    out.push('…');
    Cow::Owned(out)
}

/// Greedy word wrap of plain text into lines of at most `width` columns;
/// words longer than a line are broken. For short UI notices, not Markdown.
pub fn wrap_words(s: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut used = 0;
    for word in s.split_whitespace() {
        let w = display_width(word);
        if used > 0 && used + 1 + w <= width {
            line.push(' ');
            line.push_str(word);
            used += 1 + w;
            continue;
        }
        if used > 0 {
            lines.push(std::mem::take(&mut line));
            used = 0;
        }
        for g in word.graphemes(true) {
            let gw = grapheme_width(g);
            if used + gw > width && used > 0 {
                lines.push(std::mem::take(&mut line));
                used = 0;
            }
            line.push_str(g);
            used += gw;
        }
    }
    if used > 0 || lines.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_text_is_borrowed() {
        assert!(matches!(sanitize("plain text — ok"), Cow::Borrowed(_)));
        assert!(matches!(sanitize("ascii only"), Cow::Borrowed(_)));
        assert!(matches!(sanitize(""), Cow::Borrowed(_)));
    }

    #[test]
    fn escapes_become_visible() {
        assert_eq!(sanitize("a\u{1b}[2Jb"), "a\u{241b}[2Jb");
        assert_eq!(sanitize("x\u{9b}31m"), "x\u{FFFD}31m");
        assert_eq!(sanitize("\u{7f}"), "\u{2421}");
        assert_eq!(sanitize("evil\u{202E}txt"), "evil\u{FFFD}txt");
        // An unsafe character after other non-ASCII text, past the byte scan.
        assert_eq!(sanitize("café\u{1b}x"), "café\u{241b}x");
        assert_eq!(sanitize("日本\u{85}"), "日本\u{FFFD}");
        assert_eq!(sanitize("\u{2066}i\u{2069}"), "\u{FFFD}i\u{FFFD}");
        assert!(!sanitize("\0\u{7}\u{8}\r\n").chars().any(is_unsafe));
    }

    #[test]
    fn tabs_expand_to_stops() {
        assert_eq!(expand_tabs("a\tb", 4), "a   b");
        assert_eq!(expand_tabs("\t\u{1b}", 4), "    \u{241b}");
    }

    #[test]
    fn widths() {
        assert_eq!(display_width("abc"), 3);
        assert_eq!(display_width("日本"), 4);
        assert_eq!(display_width("e\u{301}"), 1);
    }

    #[test]
    fn truncation_marks_the_cut() {
        assert_eq!(truncate("hello", 5), "hello");
        assert_eq!(truncate("hello world", 6), "hello…");
        assert_eq!(truncate("日本語", 4), "日…");
        assert_eq!(truncate("abc", 0), "");
    }

    #[test]
    fn wrapping_fits() {
        assert_eq!(wrap_words("aa bb cc", 5), ["aa bb", "cc"]);
        assert_eq!(wrap_words("abcdefgh", 3), ["abc", "def", "gh"]);
        for line in wrap_words("日本語のテキスト and words", 5) {
            assert!(display_width(&line) <= 5, "{line}");
        }
    }
}
