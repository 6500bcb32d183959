//! The inline HTML that posts use, shown as what it means: `<br>` a line
//! break (in table cells too), `<kbd>`, `<sup>`/`<sub>`, `<mark>`,
//! `<abbr>` and the like styled, `<img>` an image line, `<a href>` a link,
//! `<details>`'s `<summary>` a marked line, layout tags (`<div>`, `<p>`,
//! `<center>`…) and MDX components (`<Chart>`) hidden with their words
//! shown, comments hidden. Any other tag is shown as it is, dimmed.
//! GitHub's emoji shortcodes (`:smile:`) become emoji, in text only.

use std::borrow::Cow;

use pulldown_cmark::{CowStr, Event, LinkType, Tag, TagEnd};
use ratatui::style::{Modifier, Style};

use super::Renderer;
use super::inline::Kind;

/// Nested styling tags kept open at most (a post of a million `<b>` must
/// not grow the style stack without bound).
const MAX_OPEN: usize = 32;

/// The longest tag read as one (attributes included); a longer one is text.
const MAX_TAG: usize = 2048;

/// One HTML tag that styles what it holds, open.
#[derive(Debug, Clone)]
pub(super) struct OpenTag {
    name: String,
    /// The style stack's depth before the tag's style was pushed.
    depth: usize,
    link: bool,
}

/// A folded `<details>`: what is inside is skipped up to its `</details>`.
/// Blocks opened inside are counted, so the fold ends where the renderer's
/// containers balance again (a `</details>` inside a list item ends it
/// with the item).
#[derive(Debug, Default)]
pub(super) struct Fold {
    /// `<details>` nested inside, open.
    depth: usize,
    /// Blocks started inside and not yet ended.
    balance: usize,
    /// Its `</details>` came inside a block: the fold ends with that block.
    closing: bool,
}

/// A tag, parsed.
struct HtmlTag<'a> {
    name: String,
    closing: bool,
    attrs: &'a str,
}

impl HtmlTag<'_> {
    fn attr(&self, key: &str) -> Option<String> {
        let lower = self.attrs.to_ascii_lowercase();
        let mut from = 0;
        while let Some(at) = lower[from..].find(key) {
            let i = from + at;
            from = i + key.len();
            let before_ok = i == 0 || lower.as_bytes()[i - 1].is_ascii_whitespace();
            let rest = self.attrs[i + key.len()..].trim_start();
            if !before_ok || !rest.starts_with('=') {
                continue;
            }
            let rest = rest[1..].trim_start();
            let value = match rest.chars().next() {
                Some(q @ ('"' | '\'')) => rest[1..].split(q).next().unwrap_or(""),
                _ => rest
                    .split(|c: char| c.is_whitespace() || c == '>' || c == '/')
                    .next()
                    .unwrap_or(""),
            };
            return Some(value.to_owned());
        }
        None
    }
}

/// Parses the tag at the start of `s` (which starts with `<`): the tag and
/// its length; `None` when it is no tag.
fn parse_tag(s: &str) -> Option<(HtmlTag<'_>, usize)> {
    // A tag closes within a bound (see `Renderer::html`).
    let mut window = s.len().min(MAX_TAG);
    while !s.is_char_boundary(window) {
        window -= 1;
    }
    let end = s[..window].find('>')?;
    let inner = &s[1..end];
    let (closing, inner) = match inner.strip_prefix('/') {
        Some(rest) => (true, rest),
        None => (false, inner),
    };
    let name_len = inner
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == ':'))
        .unwrap_or(inner.len());
    let name = &inner[..name_len];
    if name.is_empty() || !name.as_bytes()[0].is_ascii_alphabetic() {
        return None;
    }
    let attrs = inner[name_len..].trim_end_matches('/');
    Some((
        HtmlTag {
            name: name.to_owned(),
            closing,
            attrs,
        },
        end + 1,
    ))
}

impl Renderer<'_> {
    /// The text of an `Html` or `InlineHtml` event.
    pub(super) fn html(&mut self, t: &str) {
        let mut rest = t;
        let mut next_gt = t.find('>');
        while !rest.is_empty() {
            if self.in_comment {
                match rest.find("-->") {
                    Some(i) => {
                        rest = &rest[i + 3..];
                        self.in_comment = false;
                    }
                    None => return,
                }
                continue;
            }
            let Some(lt) = rest.find('<') else {
                self.html_text(rest);
                return;
            };
            self.html_text(&rest[..lt]);
            rest = &rest[lt..];
            if let Some(after) = rest.strip_prefix("<!--") {
                self.in_comment = true;
                rest = after;
                continue;
            }
            // The next `>`, found once for every `<` before it: a line of a
            // million `<` stays linear.
            let at = t.len() - rest.len();
            if next_gt.is_some_and(|g| g < at) {
                next_gt = t[at..].find('>').map(|i| at + i);
            }
            let Some(gt) = next_gt else {
                self.html_text(rest);
                return;
            };
            let parsed = if gt - at < MAX_TAG {
                parse_tag(rest)
            } else {
                None
            };
            if let Some((tag, len)) = parsed {
                if !self.html_tag(&tag) {
                    let style = self.style().patch(self.theme.md.html);
                    self.push_text(&rest[..len], style, 0);
                }
                rest = &rest[len..];
                if self.fold.is_some() {
                    match self.fold_scan(rest) {
                        Some(after) => rest = after,
                        None => return,
                    }
                }
            } else {
                self.html_text("<");
                rest = &rest[1..];
            }
        }
    }

    /// Whether `event`, met inside a fold, is skipped; the fold ends at its
    /// `</details>` or where the block holding the `<details>` ends.
    pub(super) fn folded(&mut self, event: &Event<'_>) -> bool {
        let Some(fold) = self.fold.as_mut() else {
            return false;
        };
        match event {
            Event::Start(_) => fold.balance += 1,
            Event::End(end) => {
                if fold.balance == 0 {
                    // The HTML block the summary closed in ends: the fold
                    // goes on past it. Any other block ending here held the
                    // `<details>`: the fold ends with it.
                    if !matches!(end, TagEnd::HtmlBlock) {
                        self.fold = None;
                    }
                    return false;
                }
                fold.balance -= 1;
                if fold.balance == 0 && fold.closing {
                    self.fold = None;
                }
            }
            Event::Html(t) | Event::InlineHtml(t) => {
                if let Some(after) = self.fold_scan(t) {
                    let after = after.to_owned();
                    self.html(&after);
                }
            }
            _ => {}
        }
        true
    }

    /// Reads HTML inside a fold for `details` tags: the text after the
    /// fold's own `</details>` when the fold ends there.
    fn fold_scan<'a>(&mut self, t: &'a str) -> Option<&'a str> {
        let fold = self.fold.as_mut()?;
        let bytes = t.as_bytes();
        let mut at = 0;
        while let Some(i) = t[at..].find('<').map(|i| at + i) {
            at = i + 1;
            let closing = bytes.get(at) == Some(&b'/');
            let name_at = at + usize::from(closing);
            let is_details = bytes
                .get(name_at..name_at + 7)
                .is_some_and(|n| n.eq_ignore_ascii_case(b"details"))
                && !bytes
                    .get(name_at + 7)
                    .is_some_and(u8::is_ascii_alphanumeric);
            if !is_details {
                continue;
            }
            if !closing {
                fold.depth += 1;
            } else if fold.depth > 0 {
                fold.depth -= 1;
            } else if fold.balance == 0 {
                let end = t[name_at..].find('>').map_or(t.len(), |g| name_at + g + 1);
                self.fold = None;
                return Some(&t[end..]);
            } else {
                fold.closing = true;
                return None;
            }
        }
        None
    }

    /// Text between tags: its lines, as the block has them.
    fn html_text(&mut self, t: &str) {
        let mut lines = t.split('\n').peekable();
        while let Some(line) = lines.next() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if !line.trim().is_empty() {
                let style = self.style();
                self.push_text(line, style, 0);
            }
            if lines.peek().is_some() && self.inline.has_text {
                self.inline.push_kind(Kind::Break, self.offset);
            }
        }
    }

    /// Handles a tag folio understands; false for one shown as it is.
    fn html_tag(&mut self, tag: &HtmlTag<'_>) -> bool {
        let name = tag.name.to_ascii_lowercase();
        self.html_style_tag(&name, tag.closing) || self.html_other_tag(tag, name)
    }

    /// A tag that styles what it holds (`<kbd>`, `<b>`, `<sup>`…).
    fn html_style_tag(&mut self, name: &str, closing: bool) -> bool {
        let md = &self.theme.md;
        let style = match name {
            "kbd" | "code" | "samp" | "tt" => md.code,
            "sup" | "sub" => md.footnote,
            "mark" => self.theme.ui.search_match,
            "abbr" | "u" | "ins" => Style::default().add_modifier(Modifier::UNDERLINED),
            "em" | "i" | "cite" | "dfn" | "var" => md.emphasis,
            "strong" | "b" => md.strong,
            "s" | "del" | "strike" => md.strikethrough,
            "small" => Style::default().add_modifier(Modifier::DIM),
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                self.theme.heading(name.as_bytes()[1] - b'0')
            }
            _ => return false,
        };
        if closing {
            self.close_html(name);
            if name.starts_with('h') {
                self.inline.push_kind(Kind::Break, self.offset);
            }
        } else if self.open_html.len() < MAX_OPEN {
            let depth = self.styles.len();
            self.push_style(style);
            self.open_html.push(OpenTag {
                name: name.to_owned(),
                depth,
                link: false,
            });
        }
        true
    }

    /// The other tags folio understands (line breaks, images, links,
    /// layout); false for one shown as it is.
    fn html_other_tag(&mut self, tag: &HtmlTag<'_>, name: String) -> bool {
        let md = &self.theme.md;
        match name.as_str() {
            "br" | "hr" if !tag.closing => {
                if name == "hr" {
                    self.push_text("───", self.style().patch(md.rule), 0);
                }
                self.inline.push_kind(Kind::Break, self.offset);
            }
            "img" => {
                if tag.closing {
                    return true;
                }
                let src = tag.attr("src").unwrap_or_default();
                let alt = tag
                    .attr("alt")
                    .or_else(|| tag.attr("title"))
                    .unwrap_or_default();
                self.start_inline(Tag::Image {
                    link_type: LinkType::Inline,
                    dest_url: CowStr::from(src),
                    title: CowStr::from(""),
                    id: CowStr::from(""),
                });
                let style = self.style();
                self.push_text(&alt, style, 0);
                self.end_link();
            }
            "a" => {
                if tag.closing {
                    self.close_html("a");
                    return true;
                }
                let Some(href) = tag.attr("href") else {
                    // An anchor without a target (`<a name=…>`): its words.
                    return true;
                };
                if self.open_html.len() < MAX_OPEN {
                    let depth = self.styles.len();
                    self.start_inline(Tag::Link {
                        link_type: LinkType::Inline,
                        dest_url: CowStr::from(href),
                        title: CowStr::from(""),
                        id: CowStr::from(""),
                    });
                    self.open_html.push(OpenTag {
                        name,
                        depth,
                        link: true,
                    });
                }
            }
            "details" if !tag.closing => {
                if self.inline.has_text {
                    self.inline.push_kind(Kind::Break, self.offset);
                }
                // Folded: what follows the summary waits for `D`.
                self.fold_armed = !self.details_open;
            }
            "summary" => {
                if tag.closing {
                    self.close_html("summary");
                    self.inline.push_kind(Kind::Break, self.offset);
                    if std::mem::take(&mut self.fold_armed) {
                        self.fold = Some(Fold::default());
                    }
                } else if self.open_html.len() < MAX_OPEN {
                    if self.inline.has_text {
                        self.inline.push_kind(Kind::Break, self.offset);
                    }
                    let depth = self.styles.len();
                    self.push_style(md.strong);
                    let mark = if self.details_open { "▾ " } else { "▸ " };
                    self.push_text(mark, self.style(), 0);
                    self.open_html.push(OpenTag {
                        name,
                        depth,
                        link: false,
                    });
                }
            }
            // Layout: the tag goes, its words stay; a block's end breaks
            // the line.
            "details" | "div" | "p" | "center" | "span" | "section" | "article" | "figure"
            | "figcaption" | "picture" | "source" | "li" | "ul" | "ol" | "header" | "footer"
            | "aside" | "main" | "nav" | "font" | "table" | "tr" | "td" | "th" | "thead"
            | "tbody" | "blockquote" | "pre" => {
                let block = !matches!(name.as_str(), "span" | "font" | "source" | "picture");
                if tag.closing && block && self.inline.has_text {
                    self.inline.push_kind(Kind::Break, self.offset);
                }
            }
            // MDX components: the words they hold are shown.
            _ if tag.name.as_bytes()[0].is_ascii_uppercase() => {}
            _ => return false,
        }
        true
    }

    /// Closes the innermost open tag named `name`, if it is the innermost
    /// open one and the styles pushed since are its own.
    fn close_html(&mut self, name: &str) {
        let Some(top) = self.open_html.last() else {
            return;
        };
        if top.name != name {
            return;
        }
        let top = self.open_html.pop().expect("an open tag");
        if top.link {
            if self.styles.len() == top.depth + 1 {
                self.end_link();
            }
        } else if self.styles.len() == top.depth + 1 {
            self.pop_style();
        }
    }

    /// At a block's end: tags left open close with it.
    pub(super) fn close_open_html(&mut self) {
        while let Some(top) = self.open_html.pop() {
            if top.link && self.styles.len() > top.depth {
                self.end_link();
            }
            self.styles.truncate(top.depth.max(1));
        }
    }
}

/// `:shortcode:` as its emoji (GitHub's names), outside code.
pub(super) fn emoji(t: &str) -> Cow<'_, str> {
    if !t.contains(':') {
        return Cow::Borrowed(t);
    }
    let mut out = String::new();
    let mut copied = 0;
    let bytes = t.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b':' {
            i += 1;
            continue;
        }
        let name_len = bytes[i + 1..]
            .iter()
            .take(40)
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'-'))
            .count();
        let close = i + 1 + name_len;
        if name_len > 0
            && bytes.get(close) == Some(&b':')
            && let Some(e) = emojis::get_by_shortcode(&t[i + 1..close])
        {
            out.push_str(&t[copied..i]);
            out.push_str(e.as_str());
            copied = close + 1;
            i = close + 1;
        } else {
            i += 1 + name_len;
        }
    }
    if copied == 0 {
        return Cow::Borrowed(t);
    }
    out.push_str(&t[copied..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortcodes_become_emoji() {
        assert_eq!(emoji("hi :smile: there"), "hi 😄 there");
        assert_eq!(emoji(":+1::tada:"), "👍🎉");
        assert_eq!(
            emoji("10:30:45 and :not_an_emoji_name:"),
            "10:30:45 and :not_an_emoji_name:"
        );
        assert!(matches!(emoji("no colons"), Cow::Borrowed(_)));
    }

    #[test]
    fn many_unclosed_angles_are_text_and_cheap() {
        let theme = crate::theme::Theme::default();
        let line = format!("<div>\n{}\n", "<a".repeat(200_000));
        let doc = crate::markdown::render(&line, 80, &theme);
        assert!(doc.lines.len() > 1000);
    }

    #[test]
    fn tags_parse() {
        let (t, len) = parse_tag(r#"<img src="a.png" alt='An "x"'/>rest"#).unwrap();
        assert_eq!((t.name.as_str(), t.closing, len), ("img", false, 31));
        assert_eq!(t.attr("src").as_deref(), Some("a.png"));
        assert_eq!(t.attr("alt").as_deref(), Some("An \"x\""));
        assert!(parse_tag("< not a tag>").is_none());
        assert!(parse_tag("<3 hearts").is_none());
        assert!(parse_tag("</kbd>").unwrap().0.closing);
    }
}
