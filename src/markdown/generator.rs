//! Static site generators' syntax in post bodies, rewritten into the
//! Markdown it stands for before the parse: Liquid (Jekyll), Hugo's
//! shortcodes and Zola's, and MDX's `import`/`export` lines.
//!
//! - highlight blocks (`{% highlight ruby %}`, `{{< highlight go >}}`)
//!   become fenced code blocks;
//! - `figure` becomes an image line with its caption under it;
//!   `youtube`, `vimeo`, `gist`, `tweet` become links;
//! - shortcodes with bodies that are admonitions (`notice`, `note`,
//!   `tip`, `warning`…) become callouts holding their words;
//! - `{% raw %}` … `{% endraw %}` marks go, their text stays as written;
//! - any other tag stays as it is, as a code span marked with [`TAG_MARK`]
//!   that the renderer shows dimmed; a tag alone on its line stays alone
//!   on its line. Nothing is dropped but the raw marks and MDX's module
//!   lines.
//! - a heading's trailing `{…}` that is no well-formed attribute list
//!   (`{#id .class key=val}`) is escaped, so pulldown-cmark shows it.
//!
//! Pure and linear: one pass to pair openers with closers (a stack per
//! name), one to write; lines longer than [`MAX_LINE`] are copied as they
//! are. Document offsets are mapped back to the source through [`Rewritten`].

use std::collections::HashMap;

/// Starts the text of a code span that holds a generator's tag.
pub(crate) const TAG_MARK: char = '\u{E000}';

/// Lines longer than this are not looked into.
const MAX_LINE: usize = 4096;
/// Callouts nest at most this deep; deeper openers stay tags.
const MAX_DEPTH: usize = 8;
/// An MDX `export` block is hidden for at most this many lines.
const MAX_EXPORT_LINES: usize = 200;

/// The rewritten body, and where its bytes came from.
pub(super) struct Rewritten {
    pub(super) text: String,
    /// `(start in text, start in source, copied)`, in order: copied bytes
    /// map one to one, inserted ones to where they were inserted.
    map: Vec<(usize, usize, bool)>,
}

impl Rewritten {
    /// The source offset of `offset` in the rewritten text.
    pub(super) fn original(&self, offset: usize) -> usize {
        let i = self.map.partition_point(|&(new, _, _)| new <= offset);
        match i.checked_sub(1).map(|i| self.map[i]) {
            Some((new, old, true)) => old + (offset - new),
            Some((_, old, false)) => old,
            None => offset,
        }
    }

    fn copy(&mut self, old: usize, s: &str) {
        if s.is_empty() {
            return;
        }
        let new = self.text.len();
        let contiguous = self
            .map
            .last()
            .is_some_and(|&(n, o, copied)| copied && o + (new - n) == old);
        if !contiguous {
            self.map.push((new, old, true));
        }
        self.text.push_str(s);
    }

    fn insert(&mut self, old: usize, s: &str) {
        if s.is_empty() {
            return;
        }
        let new = self.text.len();
        if self
            .map
            .last()
            .is_none_or(|&(_, o, copied)| copied || o != old)
        {
            self.map.push((new, old, false));
        }
        self.text.push_str(s);
    }
}

/// One generator tag found in a line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TagAt {
    start: usize,
    end: usize,
    /// `{{<`/`{{%` (Hugo), `{%` (Liquid, Zola blocks), `{{` (Liquid output,
    /// Zola's inline shortcodes).
    inner: String,
    hugo: bool,
}

impl TagAt {
    /// The tag's name: `highlight`, `/notice`, `end`, `youtube`.
    fn name(&self) -> &str {
        let s = self.inner.trim_start();
        let end = s
            .find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '/' | '.')))
            .unwrap_or(s.len());
        &s[..end]
    }

    fn args(&self) -> Args {
        let s = self.inner.trim_start();
        let rest = &s[self.name().len()..];
        // Zola: `name(key="v", other=2)`.
        let rest = rest.trim();
        let rest = rest
            .strip_prefix('(')
            .and_then(|r| r.strip_suffix(')'))
            .unwrap_or(rest);
        Args::parse(rest)
    }

    fn zola_call(&self) -> bool {
        let s = self.inner.trim_start();
        s[self.name().len()..].starts_with('(')
    }
}

/// A tag's arguments: positional and `key=value`.
#[derive(Debug, Default)]
struct Args {
    positional: Vec<String>,
    named: Vec<(String, String)>,
}

impl Args {
    fn parse(s: &str) -> Args {
        let mut args = Args::default();
        let mut chars = s.char_indices().peekable();
        let mut key: Option<String> = None;
        while let Some(&(i, c)) = chars.peek() {
            if c.is_whitespace() || c == ',' {
                chars.next();
                continue;
            }
            let value = if c == '"' || c == '\'' || c == '`' {
                chars.next();
                let mut v = String::new();
                for (_, d) in chars.by_ref() {
                    if d == c {
                        break;
                    }
                    v.push(d);
                }
                v
            } else {
                let mut end = s.len();
                while let Some(&(j, d)) = chars.peek() {
                    if d.is_whitespace() || d == ',' || d == '=' {
                        end = j;
                        break;
                    }
                    chars.next();
                }
                s[i..end].to_owned()
            };
            if chars.peek().is_some_and(|&(_, d)| d == '=') && key.is_none() {
                chars.next();
                key = Some(value);
                continue;
            }
            match key.take() {
                Some(k) => args.named.push((k.to_ascii_lowercase(), value)),
                None => args.positional.push(value),
            }
        }
        args
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.named
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    fn first(&self) -> Option<&str> {
        self.positional
            .first()
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// Finds the tags in `line` (outside code spans), in order.
fn tags_in(line: &str) -> Vec<TagAt> {
    let bytes = line.as_bytes();
    let mut out = Vec::new();
    if line.len() > MAX_LINE || !line.contains('{') {
        return out;
    }
    let spans = code_spans(line);
    let mut span_i = 0;
    // Once a closing mark is missing after some point it is missing after
    // every later one: the search for it is not repeated.
    let mut missing: [bool; 4] = [false; 4];
    let mut i = 0;
    while i + 1 < bytes.len() {
        while span_i < spans.len() && spans[span_i].1 <= i {
            span_i += 1;
        }
        if let Some(&(s, e)) = spans.get(span_i)
            && s <= i
        {
            i = e;
            continue;
        }
        if bytes[i] != b'{' || !matches!(bytes[i + 1], b'%' | b'{') {
            i += 1;
            continue;
        }
        let rest = &line[i..];
        let (open, close, kind, hugo) = if rest.starts_with("{{<") {
            (3, ">}}", 0, true)
        } else if rest.starts_with("{{%") {
            (3, "%}}", 1, true)
        } else if rest.starts_with("{%") {
            (2, "%}", 2, false)
        } else {
            (2, "}}", 3, false)
        };
        if missing[kind] {
            i += open;
            continue;
        }
        if let Some(at) = line[i + open..].find(close) {
            {
                let end = i + open + at + close.len();
                let mut inner = &line[i + open..i + open + at];
                // Whitespace control (`{%-`, `-%}`) and Hugo's comments.
                inner = inner.strip_prefix('-').unwrap_or(inner);
                inner = inner.strip_suffix('-').unwrap_or(inner);
                out.push(TagAt {
                    start: i,
                    end,
                    inner: inner.trim().to_owned(),
                    hugo,
                });
                i = end;
            }
        } else {
            missing[kind] = true;
            i += open;
        }
    }
    out
}

/// The code spans of a line, as byte ranges (backtick runs paired with the
/// next run of the same length), found in one pass.
fn code_spans(line: &str) -> Vec<(usize, usize)> {
    let bytes = line.as_bytes();
    let mut runs = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'`' {
            let start = i;
            while i < bytes.len() && bytes[i] == b'`' {
                i += 1;
            }
            runs.push((start, i - start));
        } else {
            i += 1;
        }
    }
    // The next run of the same length, for each run.
    let mut next = vec![usize::MAX; runs.len()];
    let mut last: HashMap<usize, usize> = HashMap::new();
    for (k, &(_, len)) in runs.iter().enumerate().rev() {
        if let Some(&j) = last.get(&len) {
            next[k] = j;
        }
        last.insert(len, k);
    }
    let mut spans = Vec::new();
    let mut k = 0;
    while k < runs.len() {
        let j = next[k];
        if j == usize::MAX {
            k += 1;
            continue;
        }
        spans.push((runs[k].0, runs[j].0 + runs[j].1));
        k = j + 1;
    }
    spans
}

/// The callout a body shortcode's name stands for, if it is an
/// admonition.
fn admonition(name: &str, first_arg: Option<&str>) -> Option<&'static str> {
    let kind = match name.to_ascii_lowercase().as_str() {
        "notice" | "admonition" | "alert" | "callout" | "hint" | "aside" => {
            first_arg.map_or("note", |a| a)
        }
        other => return kind_of(other),
    };
    kind_of(&kind.to_ascii_lowercase()).or(Some("NOTE"))
}

fn kind_of(name: &str) -> Option<&'static str> {
    Some(match name {
        "note" | "info" | "information" | "abstract" | "summary" | "todo" | "quote" | "example" => {
            "NOTE"
        }
        "tip" | "success" | "hint" | "check" | "done" => "TIP",
        "important" | "question" | "help" | "faq" => "IMPORTANT",
        "warning" | "warn" | "attention" => "WARNING",
        "caution" | "danger" | "error" | "failure" | "bug" => "CAUTION",
        _ => return None,
    })
}

/// A fence line's character and length, if `line` opens or closes one.
fn fence_of(line: &str) -> Option<(u8, usize)> {
    let t = line.trim_start_matches([' ', '>']).trim_start();
    let c = *t.as_bytes().first()?;
    if c != b'`' && c != b'~' {
        return None;
    }
    let n = t.bytes().take_while(|&b| b == c).count();
    (n >= 3).then_some((c, n))
}

/// Whether `line` closes a fence of `len` characters `c`.
fn closes_fence(line: &str, c: u8, len: usize) -> bool {
    fence_of(line).is_some_and(|(d, l)| d == c && l >= len)
        && line
            .trim()
            .trim_start_matches('>')
            .trim()
            .bytes()
            .all(|b| b == c)
}

/// What a line is to the first pass.
#[derive(Debug, Clone, PartialEq)]
enum Role {
    Plain,
    /// A highlight block opens: its language and the fence it needs.
    HighlightOpen(String, usize),
    HighlightClose(usize),
    /// An admonition opens (its kind and title) or closes.
    CalloutOpen(&'static str, Option<String>),
    CalloutClose,
    /// Inside a highlight block: copied as it is.
    Code,
}

fn is_highlight_open(tag: &TagAt) -> bool {
    tag.name() == "highlight" || (tag.hugo && tag.name() == "code")
}

fn is_highlight_close(tag: &TagAt) -> bool {
    matches!(tag.name(), "endhighlight" | "/highlight") || (tag.hugo && tag.name() == "/code")
}

fn lone_tag(line: &str) -> Option<TagAt> {
    let trimmed = line.trim();
    if !trimmed.starts_with('{') || trimmed.len() > MAX_LINE {
        return None;
    }
    let lead = line.len() - line.trim_start().len();
    let tags = tags_in(line);
    match tags.as_slice() {
        [tag] if tag.start == lead && tag.end == lead + trimmed.len() => Some(tag.clone()),
        _ => None,
    }
}

/// An admonition's opening line: where, its kind, its title.
type Opener = (usize, &'static str, Option<String>);

/// The first pass: which lines open and close blocks, paired.
fn roles(lines: &[&str]) -> Vec<Role> {
    let mut roles = vec![Role::Plain; lines.len()];
    let mut fence: Option<(u8, usize)> = None;
    let mut highlight: Option<(usize, usize)> = None; // (opener line, longest backtick run)
    let mut open: HashMap<String, Vec<Opener>> = HashMap::new();
    let mut open_zola: Vec<Opener> = Vec::new();
    for (n, line) in lines.iter().enumerate() {
        if let Some((opener, longest)) = &mut highlight {
            if let Some(tag) = lone_tag(line)
                && is_highlight_close(&tag)
            {
                let fence = (*longest + 1).max(3);
                if let Role::HighlightOpen(_, f) = &mut roles[*opener] {
                    *f = fence;
                }
                roles[n] = Role::HighlightClose(fence);
                for r in &mut roles[*opener + 1..n] {
                    *r = Role::Code;
                }
                highlight = None;
            } else {
                let run = line.split(|c| c != '`').map(str::len).max().unwrap_or(0);
                *longest = (*longest).max(run);
            }
            continue;
        }
        if let Some((c, len)) = fence {
            if closes_fence(line, c, len) {
                fence = None;
            }
            continue;
        }
        if let Some(f) = fence_of(line) {
            fence = Some(f);
            continue;
        }
        let Some(tag) = lone_tag(line) else {
            continue;
        };
        let name = tag.name().to_owned();
        if is_highlight_open(&tag) {
            let args = tag.args();
            let lang = args.get("lang").or(args.first()).unwrap_or("").to_owned();
            roles[n] = Role::HighlightOpen(lang, 3);
            highlight = Some((n, 0));
        } else if let Some(closed) = name.strip_prefix('/')
            && tag.hugo
        {
            if let Some((opener, kind, title)) = open.get_mut(closed).and_then(Vec::pop) {
                roles[opener] = Role::CalloutOpen(kind, title);
                roles[n] = Role::CalloutClose;
            }
        } else if name == "end" && !tag.hugo {
            if let Some((opener, kind, title)) = open_zola.pop() {
                roles[opener] = Role::CalloutOpen(kind, title);
                roles[n] = Role::CalloutClose;
            }
        } else {
            let args = tag.args();
            let Some(kind) = admonition(&name, args.first().or(args.get("type"))) else {
                continue;
            };
            let title = args.get("title").map(str::to_owned).or_else(|| {
                // `{{% notice tip "A title" %}}`.
                let generic = matches!(
                    name.to_ascii_lowercase().as_str(),
                    "notice" | "admonition" | "alert" | "callout" | "hint"
                );
                args.positional
                    .get(usize::from(generic))
                    .filter(|t| !t.is_empty())
                    .cloned()
            });
            if tag.hugo {
                open.entry(name).or_default().push((n, kind, title));
            } else if tag.zola_call() {
                open_zola.push((n, kind, title));
            }
        }
    }
    // A highlight block never closed is no block: its opener stays a tag.
    if let Some((opener, _)) = highlight {
        roles[opener] = Role::Plain;
    }
    roles
}

/// The Markdown a tag stands for inline, if it is an embed or a figure.
fn replacement(tag: &TagAt) -> Option<String> {
    let name = tag.name().to_ascii_lowercase();
    let args = tag.args();
    let id = args.get("id").or(args.first());
    let link = |label: &str, url: String| Some(format!("[▶ {label}]({url})"));
    match name.as_str() {
        "youtube" => {
            let id = id?;
            link(
                &format!("YouTube video {id}"),
                format!("https://www.youtube.com/watch?v={id}"),
            )
        }
        "vimeo" => {
            let id = id?;
            link(
                &format!("Vimeo video {id}"),
                format!("https://vimeo.com/{id}"),
            )
        }
        "gist" => {
            if let Some(url) = args.get("url") {
                return link("Gist", url.to_owned());
            }
            let path = match (args.get("user"), args.get("id")) {
                (Some(u), Some(i)) => format!("{u}/{i}"),
                _ => args.positional.join("/"),
            };
            (!path.is_empty()).then(|| format!("[▶ Gist {path}](https://gist.github.com/{path})"))
        }
        "tweet" | "twitter" | "x" => {
            if let Some(url) = args.first().filter(|a| a.starts_with("http")) {
                return link("Post on X", url.to_owned());
            }
            let id = id?;
            let url = match args.get("user") {
                Some(user) => format!("https://x.com/{user}/status/{id}"),
                None => format!("https://x.com/i/status/{id}"),
            };
            link(&format!("Post {id} on X"), url)
        }
        "figure" | "image" | "img" => {
            let src = args.get("src").or(args.first())?;
            let caption = args.get("caption").or(args.get("title"));
            let alt = args.get("alt").or(caption).unwrap_or("");
            let mut out = format!("![{}](<{}>)", escape(alt), src.replace('>', "%3E"));
            if let Some(caption) = caption {
                out.push_str("\n\n*");
                out.push_str(&escape(caption));
                out.push('*');
            }
            Some(out)
        }
        _ => None,
    }
}

/// Text made literal for Markdown.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '!' | '#' | '|'
        ) {
            out.push('\\');
        }
        if c != '\n' {
            out.push(c);
        }
    }
    out
}

/// A tag shown as it is: a code span marked for the dimmed style.
fn dimmed(tag: &str) -> String {
    let longest = tag.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let ticks = "`".repeat(longest + 1);
    let pad = if tag.ends_with('`') { " " } else { "" };
    format!("{ticks}{TAG_MARK}{tag}{pad}{ticks}")
}

/// A heading's trailing `{…}` that pulldown-cmark would take as attributes
/// although it is not a well-formed list: where its `}` is (a backslash
/// does not stop pulldown-cmark; `&#125;` does, and reads as `}`).
fn bad_heading_attributes(line: &str) -> Option<usize> {
    let t = line.trim_start_matches(' ');
    if line.len() - t.len() > 3 || !t.starts_with('#') {
        return None;
    }
    let hashes = t.bytes().take_while(|&b| b == b'#').count();
    if hashes > 6 || !t[hashes..].starts_with([' ', '\t']) {
        return None;
    }
    let body = line.trim_end();
    let body = body.trim_end_matches('#').trim_end();
    if !body.ends_with('}') {
        return None;
    }
    let open = body.rfind('{')?;
    let inner = &body[open + 1..body.len() - 1];
    let ident = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
    };
    let well_formed = !inner.trim().is_empty()
        && inner.split_whitespace().all(|token| {
            if let Some(id) = token.strip_prefix('#') {
                ident(id)
            } else if let Some(class) = token.strip_prefix('.') {
                ident(class)
            } else if let Some((k, v)) = token.split_once('=') {
                ident(k)
                    && !v.is_empty()
                    && (v.starts_with('"') == v.ends_with('"'))
                    && !v.contains(['{', '}'])
            } else {
                false
            }
        });
    (!well_formed).then_some(body.len() - 1)
}

/// An MDX module line: `import … from '…'`, `import '…'`, `export …`.
fn mdx_module_line(line: &str) -> bool {
    if let Some(rest) = line.strip_prefix("import ") {
        let rest = rest.trim_end();
        return (rest.contains(" from ") && (rest.ends_with(['\'', '"', ';'])))
            || rest.starts_with(['\'', '"']);
    }
    if let Some(rest) = line.strip_prefix("export ") {
        return [
            "const ",
            "let ",
            "var ",
            "function ",
            "default ",
            "async ",
            "class ",
            "{",
            "*",
            "type ",
            "interface ",
        ]
        .iter()
        .any(|k| rest.starts_with(k));
    }
    false
}

fn bracket_balance(line: &str) -> isize {
    line.bytes()
        .map(|b| match b {
            b'{' | b'(' | b'[' => 1,
            b'}' | b')' | b']' => -1,
            _ => 0,
        })
        .sum()
}

/// Whether `source` may hold anything this module rewrites: cheap, so the
/// common post (and a long one with none of it) is not copied.
fn worth_a_look(source: &str) -> bool {
    source.contains("{%")
        || source.contains("{{")
        || source.contains("import ")
        || source.contains("export ")
        || source.contains("}\n")
        || source.ends_with('}')
}

/// Rewrites the generators' syntax in `source`; `None` when there is none.
pub(super) fn rewrite(source: &str) -> Option<Rewritten> {
    if !worth_a_look(source) {
        return None;
    }
    let lines: Vec<&str> = source.split_inclusive('\n').collect();
    let roles = roles(&lines);
    let mut out = Rewritten {
        text: String::with_capacity(source.len() + source.len() / 16),
        map: Vec::new(),
    };
    let mut changed = false;
    let mut offset = 0;
    let mut depth = 0usize;
    let mut fence: Option<(u8, usize)> = None;
    let mut raw = false;
    let mut export_lines: Option<(isize, usize)> = None;
    let mut prev_blank = true;
    for (n, line) in lines.iter().enumerate() {
        let start = offset;
        offset += line.len();
        let content = line.trim_end_matches(['\n', '\r']);
        let newline = &line[content.len()..];
        let prefix = "> ".repeat(depth);
        let blank = content.trim().is_empty();
        // MDX module lines: hidden.
        if let Some((balance, count)) = &mut export_lines {
            *balance += bracket_balance(content);
            *count += 1;
            if *balance <= 0 || *count >= MAX_EXPORT_LINES {
                export_lines = None;
            }
            changed = true;
            continue;
        }
        // MDX's module lines come in a run at the top, or after a blank.
        if fence.is_none() && depth == 0 && !raw && prev_blank && mdx_module_line(content) {
            let balance = bracket_balance(content);
            if balance > 0 {
                export_lines = Some((balance, 1));
            }
            changed = true;
            continue;
        }
        if let Some(blank_after) = write_role(&roles[n], &mut out, start, line, &mut depth) {
            if let Some(blank_after) = blank_after {
                changed = true;
                prev_blank = blank_after;
            }
            continue;
        }
        // Fenced code: raw marks go (Liquid reads them even there), the
        // rest is code.
        let in_fence = fence.is_some();
        if let Some((c, len)) = fence {
            if closes_fence(content, c, len) {
                fence = None;
            }
        } else if let Some(f) = fence_of(content) {
            fence = Some(f);
        }
        if in_fence || fence.is_some() {
            out.insert(start, &prefix);
            changed |= write_raw_marks_only(&mut out, start, line, &mut raw);
            prev_blank = blank;
            continue;
        }
        // A raw mark alone on its line: the line goes.
        if let Some(tag) = lone_tag(content)
            && matches!(tag.name(), "raw" | "endraw")
        {
            raw = tag.name() == "raw";
            changed = true;
            continue;
        }
        if raw {
            out.insert(start, &prefix);
            changed |= write_raw_marks_only(&mut out, start, line, &mut raw);
            prev_blank = blank;
            continue;
        }
        let lone = lone_tag(content);
        // A tag alone on its line stays alone: blank lines around it.
        if lone.is_some() && !prev_blank {
            out.insert(start, &format!("{}\n", prefix.trim_end()));
        }
        out.insert(start, &prefix);
        let line_start = out.text.len();
        changed |= write_line(&mut out, start, content);
        if let Some(close) = bad_heading_attributes(&out.text[line_start..]) {
            out.text
                .replace_range(line_start + close..=line_start + close, "&#125;");
            changed = true;
        }
        out.copy(start + content.len(), newline);
        if lone.is_some() && lines.get(n + 1).is_some_and(|next| !next.trim().is_empty()) {
            out.insert(offset, &format!("{}\n", prefix.trim_end()));
        }
        prev_blank = blank;
    }
    changed.then_some(out)
}

/// Writes a line whose role the first pass settled: `None` when it is an
/// ordinary line after all; `Some(None)` for a line of code copied as it
/// is; `Some(Some(blank))` for a rewritten one, `blank` saying whether it
/// ends a block.
#[allow(clippy::option_option)] // three outcomes, each meant
fn write_role(
    role: &Role,
    out: &mut Rewritten,
    start: usize,
    line: &str,
    depth: &mut usize,
) -> Option<Option<bool>> {
    let content = line.trim_end_matches(['\n', '\r']);
    let newline = &line[content.len()..];
    let nl = if newline.is_empty() { "\n" } else { newline };
    let prefix = "> ".repeat(*depth);
    match role {
        Role::HighlightOpen(lang, len) => {
            out.insert(
                start,
                &format!("{prefix}{}{lang}{newline}", "`".repeat(*len)),
            );
            Some(Some(false))
        }
        Role::HighlightClose(len) => {
            out.insert(start, &format!("{prefix}{}{newline}", "`".repeat(*len)));
            Some(Some(true))
        }
        Role::Code => {
            out.insert(start, &prefix);
            out.copy(start, line);
            Some(None)
        }
        Role::CalloutOpen(kind, title) if *depth < MAX_DEPTH => {
            out.insert(start, &format!("{prefix}> [!{kind}]{nl}"));
            if let Some(title) = title {
                out.insert(
                    start,
                    &format!("{prefix}> **{}**{nl}{prefix}>{nl}", escape(title)),
                );
            }
            *depth += 1;
            Some(Some(false))
        }
        Role::CalloutClose if *depth > 0 => {
            *depth -= 1;
            let prefix = "> ".repeat(*depth);
            out.insert(start, &format!("{}{nl}", prefix.trim_end()));
            Some(Some(true))
        }
        _ => None,
    }
}

/// Copies `line` with its `{% raw %}`/`{% endraw %}` marks taken out.
fn write_raw_marks_only(out: &mut Rewritten, start: usize, line: &str, raw: &mut bool) -> bool {
    let mut at = 0;
    let mut changed = false;
    for tag in tags_in(line) {
        let name = tag.name();
        if name == "raw" || name == "endraw" {
            out.copy(start + at, &line[at..tag.start]);
            at = tag.end;
            *raw = name == "raw";
            changed = true;
        }
    }
    out.copy(start + at, &line[at..]);
    changed
}

/// Writes one line of text with its tags rewritten; whether any was.
fn write_line(out: &mut Rewritten, start: usize, line: &str) -> bool {
    let tags = tags_in(line);
    if tags.is_empty() {
        out.copy(start, line);
        return false;
    }
    let mut at = 0;
    let mut raw = false;
    for tag in tags {
        if raw {
            if tag.name() == "endraw" {
                out.copy(start + at, &line[at..tag.start]);
                at = tag.end;
                raw = false;
            }
            continue;
        }
        out.copy(start + at, &line[at..tag.start]);
        at = tag.end;
        let text = &line[tag.start..tag.end];
        match tag.name() {
            "raw" => raw = true,
            "endraw" => {}
            _ => match replacement(&tag) {
                Some(md) => out.insert(start + tag.start, &md),
                None => out.insert(start + tag.start, &dimmed(text)),
            },
        }
    }
    out.copy(start + at, &line[at..]);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rw(s: &str) -> String {
        rewrite(s).map_or_else(|| s.to_owned(), |r| r.text)
    }

    #[test]
    fn nothing_to_do_copies_nothing() {
        assert!(rewrite("# Title\n\nJust text.\n").is_none());
        assert!(rewrite("```\n{% in code %}\n```\n").is_none());
    }

    #[test]
    fn offsets_map_back() {
        let src = "a {{ x }} b\nnext\n";
        let r = rewrite(src).unwrap();
        let next = r.text.find("next").unwrap();
        assert_eq!(r.original(next), src.find("next").unwrap());
        assert_eq!(r.original(0), 0);
    }

    #[test]
    fn code_spans_pair_runs_of_one_length() {
        assert_eq!(code_spans("a `b` c ``d`` `"), vec![(2, 5), (8, 13)]);
        assert_eq!(tags_in("`{{ no }}` {{ yes }}").len(), 1);
    }

    #[test]
    fn args_positional_named_and_zola() {
        let t = &tags_in(r#"{{< figure src="a b.png" caption='Cap' >}}"#)[0];
        assert_eq!(t.name(), "figure");
        assert_eq!(t.args().get("src"), Some("a b.png"));
        assert_eq!(t.args().get("caption"), Some("Cap"));
        let t = &tags_in(r#"{{ youtube(id="abc", autoplay=true) }}"#)[0];
        assert_eq!(t.args().get("id"), Some("abc"));
        let t = &tags_in("{% gist parkr/931c %}")[0];
        assert_eq!(t.args().first(), Some("parkr/931c"));
    }

    #[test]
    fn heading_attributes_only_when_well_formed() {
        assert_eq!(bad_heading_attributes("## A {#id .x k=v}"), None);
        assert_eq!(bad_heading_attributes("## Set {a, b}"), Some(12));
        assert_eq!(bad_heading_attributes("text {a}"), None);
        assert_eq!(rw("## Set {a, b}\n"), "## Set {a, b&#125;\n");
    }

    #[test]
    fn unclosed_blocks_stay_tags_and_nothing_is_lost() {
        let src = "{{% notice %}}\nwords\n";
        let out = rw(src);
        assert!(out.contains("words"), "{out}");
        assert!(out.contains("notice"), "{out}");
        let src = "{% highlight ruby %}\ncode\n";
        let out = rw(src);
        assert!(
            out.contains("highlight ruby") && out.contains("code"),
            "{out}"
        );
    }

    #[test]
    fn linear_on_hostile_input() {
        let src = "{% {{ {{< ` `` ".repeat(20_000) + "\n";
        let src = src.repeat(4);
        let _ = rewrite(&src);
        let many = "{{% notice %}}\n".repeat(20_000) + &"{{% /notice %}}\n".repeat(20_000);
        let out = rw(&many);
        assert!(out.len() >= many.len() / 2);
    }
}
