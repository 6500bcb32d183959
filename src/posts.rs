//! Finding posts and reading their frontmatter. Knows nothing of terminals.

use std::collections::HashSet;
use std::fmt;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use thiserror::Error;

/// A publication date, optionally with a time of day (for ordering).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PostDate {
    pub year: i32,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

impl std::fmt::Display for PostDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// Where a post's text comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    File(PathBuf),
    /// One of folio's own sample posts, compiled into the binary.
    Embedded(&'static str),
}

/// One post as listed: its frontmatter (with fallbacks applied), not its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    pub origin: Origin,
    /// Path relative to the folder that was scanned (the file name for a
    /// single file or an embedded post).
    pub rel_path: PathBuf,
    pub title: String,
    pub date: Option<PostDate>,
    pub excerpt: String,
    pub tags: Vec<String>,
    pub categories: Vec<String>,
    pub draft: bool,
    pub author: Option<String>,
    /// What is wrong with the frontmatter, e.g. `line 3: invalid type ...`.
    pub error: Option<String>,
    /// The file was not valid UTF-8 and was decoded lossily.
    pub lossy: bool,
}

/// A post's full text, read when it is opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostSource {
    /// Shared, so handing a long post to a background layout copies nothing.
    pub text: std::sync::Arc<str>,
    /// Byte offset where the Markdown body starts (after the frontmatter).
    pub body_start: usize,
    pub lossy: bool,
    /// The file's size when it is larger than [`BODY_LIMIT`] and only its
    /// first part was read.
    pub truncated_from: Option<u64>,
}

impl PostSource {
    pub fn body(&self) -> &str {
        &self.text[self.body_start..]
    }
}

#[derive(Debug, Error)]
pub enum PostsError {
    #[error("{}: no such file or folder", .0.display())]
    NotFound(PathBuf),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The typed frontmatter fields folio understands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontmatter {
    pub title: Option<String>,
    pub date: Option<PostDate>,
    pub excerpt: Option<String>,
    pub tags: Vec<String>,
    pub categories: Vec<String>,
    pub draft: bool,
    pub author: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("line {line}: {message}")]
pub struct FrontmatterError {
    /// 1-based line in the file.
    pub line: usize,
    pub message: String,
}

/// Frontmatter must close within this many bytes. Real frontmatter is a few
/// hundred bytes; anything longer is a document that happens to start with a
/// thematic break, and bounding it keeps the YAML parser's input small.
pub const FRONTMATTER_LIMIT: usize = 64 * 1024;

/// How much of each file `scan` reads: the frontmatter bound plus room for
/// the first heading and paragraph after it.
pub const HEAD_LIMIT: usize = 128 * 1024;

/// The most of one post folio reads and lays out. Layout runs on the UI
/// thread (the app is pure and relayouts on resize), and at roughly a second
/// per 10 MB a 100 MB post would freeze the reader; nobody reads that far in a
/// terminal, so the rest is cut with a visible notice instead.
pub const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// libyaml-based parsers go quadratic on deeply nested flow collections
/// before their own depth limit fires, so deeper input is refused unparsed.
const MAX_FLOW_DEPTH: usize = 64;

const EXCERPT_CHARS: usize = 200;

/// folio's own sample posts. Adding one is one line here.
macro_rules! sample_posts {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../posts/", $name)))),*]
    };
}

const EMBEDDED: &[(&str, &str)] = sample_posts!(
    "2026-11-24-welcome.md",
    "2026-11-23-keys-and-headings.md",
    "2026-11-22-markdown-showcase.md",
    "2026-11-21-folio-over-ssh.md",
);

// ---------------------------------------------------------------------------
// Frontmatter

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Yaml,
    Toml,
}

/// Splits off the frontmatter block; returns its text, the 1-based file line
/// of its first line, and the body offset.
fn split_frontmatter(text: &str) -> Result<Option<(Format, &str, usize, usize)>, FrontmatterError> {
    let start = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let rest = &text[start..];
    let (first, mut pos) = match rest.find('\n') {
        Some(i) => (&rest[..i], start + i + 1),
        None => (rest, text.len()),
    };
    let format = match first.trim_end() {
        "---" => Format::Yaml,
        "+++" => Format::Toml,
        _ => return Ok(None),
    };
    let fence = if format == Format::Yaml { "---" } else { "+++" };
    let block_start = pos;
    while pos < text.len() {
        if pos > FRONTMATTER_LIMIT {
            return Err(FrontmatterError {
                line: 1,
                message: "frontmatter is not closed within 64 KiB".into(),
            });
        }
        let (line, next) = match text[pos..].find('\n') {
            Some(i) => (&text[pos..pos + i], pos + i + 1),
            None => (&text[pos..], text.len()),
        };
        let line = line.trim_end();
        if line == fence || (format == Format::Yaml && line == "...") {
            return Ok(Some((format, &text[block_start..pos], 2, next)));
        }
        pos = next;
    }
    // One line can run past the limit (a 4 MB value): the fence may well come
    // later, so "never closed" would be wrong.
    let message = if pos > FRONTMATTER_LIMIT {
        "frontmatter is not closed within 64 KiB".into()
    } else {
        format!("frontmatter starts with {fence} but is never closed")
    };
    Err(FrontmatterError { line: 1, message })
}

/// Linear check for flow nesting. It ignores quoting, so a title with 64
/// unbalanced brackets in a string would be refused too; no real post has one.
fn check_flow_depth(block: &str, first_line: usize) -> Result<(), FrontmatterError> {
    let mut depth = 0usize;
    let mut line = first_line;
    for b in block.bytes() {
        match b {
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_FLOW_DEPTH {
                    return Err(FrontmatterError {
                        line,
                        message: format!("frontmatter nests deeper than {MAX_FLOW_DEPTH} levels"),
                    });
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b'\n' => line += 1,
            _ => {}
        }
    }
    Ok(())
}

pub fn parse_frontmatter(text: &str) -> (Result<Frontmatter, FrontmatterError>, usize) {
    let (format, block, first_line, body_start) = match split_frontmatter(text) {
        Ok(Some(found)) => found,
        Ok(None) => return (Ok(Frontmatter::default()), 0),
        // Unclosed: the fence was probably a thematic break, so the whole text
        // renders as Markdown.
        Err(e) => return (Err(e), 0),
    };
    if let Err(e) = check_flow_depth(block, first_line) {
        return (Err(e), body_start);
    }
    let raw = match format {
        Format::Yaml => parse_yaml(block, first_line),
        Format::Toml => parse_toml(block, first_line),
    };
    (raw.map(RawFrontmatter::into_frontmatter), body_start)
}

fn parse_yaml(block: &str, first_line: usize) -> Result<RawFrontmatter, FrontmatterError> {
    // An empty or comment-only block is an empty document, which serde_yaml
    // refuses for a struct.
    let only_comments = block
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'));
    if only_comments {
        return Ok(RawFrontmatter::default());
    }
    serde_yaml::from_str::<RawFrontmatter>(block).map_err(|e| {
        let line = e
            .location()
            .map_or(first_line, |loc| first_line + loc.line() - 1);
        let mut message = e.to_string();
        // The position is reported as the file line instead.
        if let Some(i) = message
            .find(" at line ")
            .or_else(|| message.find(" at position "))
        {
            message.truncate(i);
        }
        FrontmatterError { line, message }
    })
}

fn parse_toml(block: &str, first_line: usize) -> Result<RawFrontmatter, FrontmatterError> {
    toml::from_str::<RawFrontmatter>(block).map_err(|e| {
        let mut line = first_line;
        let mut message = e.message().trim().to_string();
        if let Some(span) = e.span() {
            let start = span.start.min(block.len());
            line = first_line + block[..start].matches('\n').count();
            // toml's message does not say which key was wrong; the key is on
            // the line of the offending value.
            let line_start = block[..start].rfind('\n').map_or(0, |i| i + 1);
            let text_line = block[line_start..].lines().next().unwrap_or("");
            if let Some((key, _)) = text_line.split_once('=') {
                let key = key.trim();
                if !key.is_empty() && !message.starts_with(key) {
                    message = format!("{key}: {message}");
                }
            }
        }
        FrontmatterError { line, message }
    })
}

/// The frontmatter as deserialized; every flexible field has its own
/// deserializer so a wrong type is reported against that field.
#[derive(Deserialize, Default)]
#[serde(default, expecting = "fields like `title: …`")]
struct RawFrontmatter {
    #[serde(deserialize_with = "de_text")]
    title: Option<String>,
    #[serde(deserialize_with = "de_date")]
    date: Option<PostDate>,
    #[serde(deserialize_with = "de_text")]
    excerpt: Option<String>,
    #[serde(deserialize_with = "de_text")]
    description: Option<String>,
    #[serde(deserialize_with = "de_text")]
    summary: Option<String>,
    #[serde(deserialize_with = "de_list")]
    tags: Vec<String>,
    #[serde(deserialize_with = "de_list")]
    categories: Vec<String>,
    #[serde(deserialize_with = "de_flag")]
    draft: bool,
    #[serde(deserialize_with = "de_author")]
    author: Option<String>,
}

impl RawFrontmatter {
    fn into_frontmatter(self) -> Frontmatter {
        let non_empty =
            |s: Option<String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        let excerpt = non_empty(self.excerpt)
            .or_else(|| non_empty(self.description))
            .or_else(|| non_empty(self.summary))
            .map(|s| collapse_whitespace(&s));
        Frontmatter {
            title: non_empty(self.title),
            date: self.date,
            excerpt,
            tags: self.tags,
            categories: self.categories,
            draft: self.draft,
            author: non_empty(self.author),
        }
    }
}

/// A scalar shown as text. Numbers and booleans are accepted (`title: 42`
/// shows as "42") because refusing them would only hide the post's title.
struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Option<String>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

fn de_text<'de, D: de::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    d.deserialize_any(TextVisitor)
}

/// One element of a list field.
struct Item(Option<String>);

impl<'de> Deserialize<'de> for Item {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextVisitor).map(Item)
    }
}

struct ListVisitor;

impl<'de> Visitor<'de> for ListVisitor {
    type Value = Vec<String>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of strings or a comma-separated string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(vec![v.to_string()])
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(vec![v.to_string()])
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(Item(item)) = seq.next_element()? {
            if let Some(item) = item.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()) {
                out.push(item);
            }
        }
        Ok(out)
    }
}

fn de_list<'de, D: de::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    d.deserialize_any(ListVisitor)
}

struct FlagVisitor;

impl<'de> Visitor<'de> for FlagVisitor {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("true or false")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(v)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        match v.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" => Ok(true),
            "false" | "no" | "" => Ok(false),
            _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
        }
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(false)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(false)
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

fn de_flag<'de, D: de::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    d.deserialize_any(FlagVisitor)
}

struct AuthorVisitor;

impl<'de> Visitor<'de> for AuthorVisitor {
    type Value = Option<String>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a name, a list of names, or a map with a name")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut names = Vec::new();
        while let Some(Author(name)) = seq.next_element()? {
            names.extend(name.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()));
        }
        Ok(Some(names.join(", ")))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut name = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == "name" {
                name = map.next_value::<Item>()?.0;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(name)
    }
}

/// An author, or one element of an author list (which may itself be a map).
struct Author(Option<String>);

impl<'de> Deserialize<'de> for Author {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(AuthorVisitor).map(Author)
    }
}

fn de_author<'de, D: de::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    d.deserialize_any(AuthorVisitor)
}

/// The key under which the `toml` crate hands a native datetime to serde.
const TOML_DATETIME_KEY: &str = "$__toml_private_datetime";

struct DateVisitor;

impl<'de> Visitor<'de> for DateVisitor {
    type Value = Option<PostDate>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a date like 2025-02-10 or 2025-02-10T08:30:00Z")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if v.trim().is_empty() {
            return Ok(None);
        }
        parse_date(v).map(Some).map_err(E::custom)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        match map.next_key::<String>()? {
            Some(key) if key == TOML_DATETIME_KEY => {
                let value: String = map.next_value()?;
                self.visit_str(&value)
            }
            _ => Err(de::Error::invalid_type(de::Unexpected::Map, &self)),
        }
    }
}

fn de_date<'de, D: de::Deserializer<'de>>(d: D) -> Result<Option<PostDate>, D::Error> {
    d.deserialize_any(DateVisitor)
}

// ---------------------------------------------------------------------------
// Dates

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

/// Reads `n` ASCII digits at the start of `s`.
fn digits(s: &str, n: usize) -> Option<(u32, &str)> {
    let head = s.get(..n)?;
    if !head.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((head.parse().ok()?, &s[n..]))
}

/// Reads `YYYY-MM-DD` at the start of `s`, unvalidated.
fn date_prefix(s: &str) -> Option<((i32, u8, u8), &str)> {
    let (year, rest) = digits(s, 4)?;
    let rest = rest.strip_prefix('-')?;
    let (month, rest) = digits(rest, 2)?;
    let rest = rest.strip_prefix('-')?;
    let (day, rest) = digits(rest, 2)?;
    Some(((year.cast_signed(), month as u8, day as u8), rest))
}

fn valid_day(year: i32, month: u8, day: u8) -> bool {
    (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month)
}

/// Parses the date forms found in blog frontmatter: a date, or a date and a
/// time separated by `T` or a space, with optional seconds, fraction and
/// offset (`Z`, `+02:00`, `+0100`). The wall-clock time is kept as written
/// and the offset dropped, so the date shown is the one the author wrote.
fn parse_date(s: &str) -> Result<PostDate, String> {
    let s = s.trim();
    let bad = || format!("expected a date like 2025-02-10, found {s:?}");
    let ((year, month, day), rest) = date_prefix(s).ok_or_else(bad)?;
    if !valid_day(year, month, day) {
        return Err(format!("no such date: {year:04}-{month:02}-{day:02}"));
    }
    let mut date = PostDate {
        year,
        month,
        day,
        hour: 0,
        minute: 0,
        second: 0,
    };
    let rest = rest.trim_start_matches(' ');
    let rest = rest.strip_prefix(['T', 't']).unwrap_or(rest);
    if rest.is_empty() {
        return Ok(date);
    }
    let (hour, rest) = digits(rest, 2).ok_or_else(bad)?;
    let rest = rest.strip_prefix(':').ok_or_else(bad)?;
    let (minute, mut rest) = digits(rest, 2).ok_or_else(bad)?;
    let mut second = 0;
    if let Some(r) = rest.strip_prefix(':') {
        (second, rest) = digits(r, 2).ok_or_else(bad)?;
        if let Some(r) = rest.strip_prefix('.') {
            rest = r.trim_start_matches(|c: char| c.is_ascii_digit());
        }
    }
    if hour > 23 || minute > 59 || second > 60 {
        return Err(format!("no such time: {hour:02}:{minute:02}:{second:02}"));
    }
    let rest = rest.trim_start();
    let valid_offset = match rest.as_bytes().first() {
        None => true,
        Some(b'Z' | b'z') => rest.len() == 1,
        Some(b'+' | b'-') => is_offset(&rest[1..]),
        _ => false,
    };
    if !valid_offset {
        return Err(bad());
    }
    date.hour = hour as u8;
    date.minute = minute as u8;
    // A leap second sorts with the second before it.
    date.second = second.min(59) as u8;
    Ok(date)
}

/// `HH:MM`, `HHMM`, `HH` or `H` (YAML 1.1 allows `-5`).
fn is_offset(s: &str) -> bool {
    let n = s.bytes().take_while(u8::is_ascii_digit).count();
    let rest = &s[n..];
    match n {
        1 | 2 => {
            rest.is_empty()
                || matches!(
                    rest.strip_prefix(':').and_then(|r| digits(r, 2)),
                    Some((_, ""))
                )
        }
        4 => rest.is_empty(),
        _ => false,
    }
}

/// A valid `YYYY-MM-DD` at the start of a file or folder name, followed by
/// the end of the name or a separator.
fn name_date(name: &str) -> Option<(PostDate, &str)> {
    let ((year, month, day), rest) = date_prefix(name)?;
    if !valid_day(year, month, day) {
        return None;
    }
    let rest = match rest.chars().next() {
        None => rest,
        Some('-' | '_' | ' ' | '.') => &rest[1..],
        Some(_) => return None,
    };
    let date = PostDate {
        year,
        month,
        day,
        hour: 0,
        minute: 0,
        second: 0,
    };
    Some((date, rest))
}

// ---------------------------------------------------------------------------
// Fallbacks from the body and the file name

fn collapse_whitespace(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

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
fn first_heading(body: &str) -> Option<String> {
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
fn first_paragraph(body: &str) -> String {
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

/// The file name made readable: date prefix and extension dropped, `-` and
/// `_` as spaces, first letter capitalized. `index.md` in a page bundle is
/// named after its folder.
fn title_from_name(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy())
        .unwrap_or_default();
    let folder = path
        .parent()
        .and_then(Path::file_name)
        .map(|s| s.to_string_lossy());
    let name = match folder {
        Some(folder)
            if stem.eq_ignore_ascii_case("index") || stem.eq_ignore_ascii_case("_index") =>
        {
            folder
        }
        _ => stem,
    };
    let undated = name_date(&name).map_or(&*name, |(_, rest)| rest);
    let words = collapse_whitespace(&undated.replace(['-', '_'], " "));
    let words = if words.is_empty() {
        name.to_string()
    } else {
        words
    };
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn date_from_name(path: &Path) -> Option<PostDate> {
    let file = path.file_name().map(|s| s.to_string_lossy());
    let folder = path
        .parent()
        .and_then(Path::file_name)
        .map(|s| s.to_string_lossy());
    file.and_then(|n| name_date(&n).map(|(d, _)| d))
        .or_else(|| folder.and_then(|n| name_date(&n).map(|(d, _)| d)))
}

fn naming_path<'a>(origin: &'a Origin, rel_path: &'a Path) -> &'a Path {
    match origin {
        Origin::File(path) => path,
        Origin::Embedded(_) => rel_path,
    }
}

/// Builds a listed post from its text (or the head of it), applying the
/// title, date and excerpt fallbacks.
pub fn post_from_text(origin: Origin, rel_path: PathBuf, text: &str, lossy: bool) -> Post {
    let (frontmatter, body_start) = parse_frontmatter(text);
    let (fm, error) = match frontmatter {
        Ok(fm) => (fm, None),
        Err(e) => (Frontmatter::default(), Some(e.to_string())),
    };
    let body = &text[body_start..];
    let name_path = naming_path(&origin, &rel_path);
    let title = fm
        .title
        .or_else(|| first_heading(body))
        .unwrap_or_else(|| title_from_name(name_path));
    let date = fm.date.or_else(|| date_from_name(name_path));
    let excerpt = fm.excerpt.unwrap_or_else(|| first_paragraph(body));
    Post {
        origin,
        rel_path,
        title,
        date,
        excerpt,
        tags: fm.tags,
        categories: fm.categories,
        draft: fm.draft,
        author: fm.author,
        error,
        lossy,
    }
}

/// A post that could not be read at all, listed so the user sees why.
fn unreadable_post(path: PathBuf, rel_path: PathBuf, err: &std::io::Error) -> Post {
    let mut reason = err.to_string();
    if let Some(i) = reason.find(" (os error") {
        reason.truncate(i);
    }
    Post {
        title: title_from_name(&path),
        date: date_from_name(&path),
        origin: Origin::File(path),
        rel_path,
        excerpt: String::new(),
        tags: Vec::new(),
        categories: Vec::new(),
        draft: false,
        author: None,
        error: Some(format!("cannot read: {reason}")),
        lossy: false,
    }
}

// ---------------------------------------------------------------------------
// Ordering

/// Newest first (time of day included); equal dates by title ignoring case,
/// then by path; undated posts last, by title.
pub fn sort_posts(posts: &mut [Post]) {
    posts.sort_by_cached_key(order_key);
}

/// Where a post goes in the list: the one definition of the order, used by
/// [`sort_posts`] and [`merge_posts`].
type OrderKey = (
    std::cmp::Reverse<bool>,
    std::cmp::Reverse<Option<PostDate>>,
    String,
    PathBuf,
);

fn order_key(p: &Post) -> OrderKey {
    (
        std::cmp::Reverse(p.date.is_some()),
        std::cmp::Reverse(p.date),
        p.title.to_lowercase(),
        p.rel_path.clone(),
    )
}

/// Merges `batch` into the sorted `list`, keeping it sorted as
/// [`sort_posts`] would: a batch of a folder read in the background joins
/// the posts already listed. Linear in the list (a binary search per new
/// post, then one pass that moves the posts), so a growing list costs the
/// thread it is merged on little.
pub fn merge_posts(list: &mut Vec<Post>, mut batch: Vec<Post>) {
    if batch.is_empty() {
        return;
    }
    sort_posts(&mut batch);
    let mut at = Vec::with_capacity(batch.len());
    let mut from = 0;
    for post in &batch {
        let key = order_key(post);
        from += list[from..].partition_point(|p| order_key(p) <= key);
        at.push(from);
    }
    let mut old = std::mem::take(list).into_iter();
    list.reserve(old.len() + batch.len());
    let mut taken = 0;
    for (post, pos) in batch.into_iter().zip(at) {
        list.extend(old.by_ref().take(pos - taken));
        taken = pos;
        list.push(post);
    }
    list.extend(old);
}

// ---------------------------------------------------------------------------
// Reading files

/// Decodes file bytes: UTF-16 by its BOM, otherwise UTF-8, lossily if need
/// be. A UTF-8 BOM is dropped. `truncated` says the bytes are a head cut at
/// an arbitrary point, so a character split there is not an encoding error.
fn decode(mut bytes: Vec<u8>, truncated: bool) -> (String, bool) {
    let utf16 = match bytes.get(..2) {
        Some([0xFF, 0xFE]) => Some(u16::from_le_bytes as fn([u8; 2]) -> u16),
        Some([0xFE, 0xFF]) => Some(u16::from_be_bytes as fn([u8; 2]) -> u16),
        _ => None,
    };
    if let Some(from_bytes) = utf16 {
        let mut units: Vec<u16> = bytes[2..]
            .chunks_exact(2)
            .map(|c| from_bytes([c[0], c[1]]))
            .collect();
        let odd = (bytes.len() - 2) % 2 == 1 && !truncated;
        if truncated && units.last().is_some_and(|u| (0xD800..0xDC00).contains(u)) {
            units.pop();
        }
        return match String::from_utf16(&units) {
            Ok(s) => (s, odd),
            Err(_) => (String::from_utf16_lossy(&units), true),
        };
    }
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    match String::from_utf8(bytes) {
        Ok(s) => (s, false),
        Err(e) => {
            let utf8 = e.utf8_error();
            let mut bytes = e.into_bytes();
            if truncated && utf8.error_len().is_none() {
                bytes.truncate(utf8.valid_up_to());
                if let Ok(s) = String::from_utf8(bytes.clone()) {
                    return (s, false);
                }
            }
            (String::from_utf8_lossy(&bytes).into_owned(), true)
        }
    }
}

/// A post's text, at most [`BODY_LIMIT`] bytes of it, cut after the last
/// line break that fits so no line is shown half.
fn read_body(path: &Path) -> std::io::Result<(String, bool, Option<u64>)> {
    let file = fs::File::open(path)?;
    let mut bytes = Vec::new();
    (&file)
        .take(BODY_LIMIT as u64 + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() <= BODY_LIMIT {
        let (text, lossy) = decode(bytes, false);
        return Ok((text, lossy, None));
    }
    let size = file.metadata().map_or(bytes.len() as u64, |m| m.len());
    bytes.truncate(BODY_LIMIT);
    let utf16 = bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]);
    if !utf16 && let Some(nl) = bytes[BODY_LIMIT / 2..].iter().rposition(|&b| b == b'\n') {
        bytes.truncate(BODY_LIMIT / 2 + nl + 1);
    }
    let (text, lossy) = decode(bytes, true);
    Ok((text, lossy, Some(size)))
}

fn read_head(path: &Path) -> std::io::Result<(String, bool)> {
    let file = fs::File::open(path)?;
    let mut bytes = Vec::with_capacity(8 * 1024);
    file.take(HEAD_LIMIT as u64 + 1).read_to_end(&mut bytes)?;
    let truncated = bytes.len() > HEAD_LIMIT;
    bytes.truncate(HEAD_LIMIT);
    Ok(decode(bytes, truncated))
}

fn list_file(path: PathBuf, rel_path: PathBuf) -> Post {
    match read_head(&path) {
        Ok((text, lossy)) => post_from_text(Origin::File(path), rel_path, &text, lossy),
        Err(e) => unreadable_post(path, rel_path, &e),
    }
}

fn is_post_file(name: &str) -> bool {
    Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("md") || e.eq_ignore_ascii_case("markdown"))
}

fn io_error(path: &Path, source: std::io::Error) -> PostsError {
    // `post.md/child` is as missing as `nope`.
    if matches!(
        source.kind(),
        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
    ) {
        PostsError::NotFound(path.to_path_buf())
    } else {
        PostsError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Whether [`scan_with`] follows symlinks that lead out of the folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Links {
    /// Follow every link, as a local reader should.
    #[default]
    Follow,
    /// Skip links whose target is outside the folder: `folio serve` shows
    /// the folder it was given and nothing else of the machine.
    Confined,
}

/// Whether `path` (a file found by a confined scan) still resolves inside
/// `root`: checked again before reading, as a link can change after the
/// scan.
pub fn is_inside(root: &Path, path: &Path) -> bool {
    match (fs::canonicalize(root), fs::canonicalize(path)) {
        (Ok(root), Ok(path)) => path.starts_with(root),
        _ => false,
    }
}

/// Collects the post files under `root`, following symlinks (those leaving
/// `root` only with [`Links::Follow`]); a directory reached twice (a symlink
/// loop, or two links to one folder) is walked once.
fn find_files(root: &Path, links: Links) -> Result<Vec<PathBuf>, PostsError> {
    let mut visited = HashSet::new();
    let canonical_root = fs::canonicalize(root).ok();
    if let Some(canonical) = &canonical_root {
        visited.insert(canonical.clone());
    }
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if dir == root => return Err(io_error(root, e)),
            // An unreadable subfolder must not hide the rest of the tree.
            Err(_) => continue,
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') {
                continue;
            }
            let path = entry.path();
            let Ok(file_type) = entry.file_type() else {
                continue;
            };
            let (is_dir, is_file) = if file_type.is_symlink() {
                if links == Links::Confined {
                    let inside = match (&canonical_root, fs::canonicalize(&path)) {
                        (Some(root), Ok(target)) => target.starts_with(root),
                        _ => false,
                    };
                    if !inside {
                        continue;
                    }
                }
                match fs::metadata(&path) {
                    Ok(meta) => (meta.is_dir(), meta.is_file()),
                    // A dangling link named like a post is listed (and
                    // reported unreadable) rather than silently missing.
                    Err(_) => (false, true),
                }
            } else {
                (file_type.is_dir(), file_type.is_file())
            };
            if is_dir {
                if let Ok(canonical) = fs::canonicalize(&path)
                    && visited.insert(canonical)
                {
                    stack.push(path);
                }
            } else if is_file && is_post_file(&name) {
                // Only regular files: opening a FIFO named `x.md` would block.
                files.push(path);
            }
        }
    }
    Ok(files)
}

/// Lists the posts in a folder (recursively) or a single file, sorted.
pub fn scan(path: &Path) -> Result<Vec<Post>, PostsError> {
    scan_with(path, Links::Follow)
}

/// [`scan`], choosing whether links may lead out of the folder.
pub fn scan_with(path: &Path, links: Links) -> Result<Vec<Post>, PostsError> {
    // One way to read a folder: the streaming scan's batches, collected.
    let mut posts = Vec::new();
    scan_in_batches(path, links, &mut |batch, _| {
        posts.extend(batch);
        true
    })?;
    sort_posts(&mut posts);
    Ok(posts)
}

/// [`scan_in_batches`] reports new posts once this many are waiting...
pub const BATCH_POSTS: usize = 500;
/// ...or once this long has passed since the last report (about a frame),
/// whichever comes first.
pub const BATCH_EVERY: std::time::Duration = std::time::Duration::from_millis(16);

/// Checks that `path` can be scanned, as [`scan`] would fail on it (missing,
/// or a folder that cannot be listed), without reading any post: for a
/// caller that scans in the background but must refuse a bad path at once.
pub fn check(path: &Path) -> Result<(), PostsError> {
    let meta = fs::metadata(path).map_err(|e| io_error(path, e))?;
    if meta.is_dir() {
        fs::read_dir(path).map_err(|e| io_error(path, e))?;
    }
    Ok(())
}

/// [`scan_with`], reporting as it goes, for a reader that shows the list
/// while it fills in: lists the post files, reads their heads in parallel,
/// and calls `report(batch, done)` with the posts read since the last call
/// (each batch sorted) every [`BATCH_POSTS`] posts or [`BATCH_EVERY`],
/// whichever comes first. The last call has `done` set (its batch may be
/// empty). All batches together, merged with [`merge_posts`], are what
/// [`scan_with`] returns. Stops early when `report` returns false.
pub fn scan_in_batches(
    path: &Path,
    links: Links,
    report: &mut dyn FnMut(Vec<Post>, bool) -> bool,
) -> Result<(), PostsError> {
    let meta = fs::metadata(path).map_err(|e| io_error(path, e))?;
    if !meta.is_dir() {
        let rel = path
            .file_name()
            .map_or_else(|| path.to_path_buf(), PathBuf::from);
        report(vec![list_file(path.to_path_buf(), rel)], true);
        return Ok(());
    }
    let files = find_files(path, links)?;
    let workers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(files.len())
        .max(1);
    let next = AtomicUsize::new(0);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::scope(|s| {
        for _ in 0..workers {
            let tx = tx.clone();
            let (files, next, stop) = (&files, &next, &stop);
            s.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(file) = files.get(i) else { break };
                    let rel = file.strip_prefix(path).unwrap_or(file).to_path_buf();
                    if tx.send(list_file(file.clone(), rel)).is_err() {
                        break;
                    }
                }
            });
        }
        // The workers hold the only senders now: the channel closes when
        // the last of them is done.
        drop(tx);
        let mut batch = Vec::new();
        let mut due = std::time::Instant::now() + BATCH_EVERY;
        loop {
            let wait = due.saturating_duration_since(std::time::Instant::now());
            let more = match rx.recv_timeout(wait) {
                Ok(post) => {
                    batch.push(post);
                    batch.extend(rx.try_iter().take(BATCH_POSTS.saturating_sub(batch.len())));
                    true
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => true,
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => false,
            };
            if !more {
                sort_posts(&mut batch);
                report(batch, true);
                return;
            }
            if batch.len() >= BATCH_POSTS || std::time::Instant::now() >= due {
                if !batch.is_empty() {
                    sort_posts(&mut batch);
                    if !report(std::mem::take(&mut batch), false) {
                        stop.store(true, Ordering::Relaxed);
                        return;
                    }
                }
                due = std::time::Instant::now() + BATCH_EVERY;
            }
        }
    });
    Ok(())
}

/// folio's own sample posts, sorted.
pub fn embedded() -> Vec<Post> {
    let mut posts: Vec<Post> = EMBEDDED
        .iter()
        .map(|&(name, source)| {
            post_from_text(Origin::Embedded(source), PathBuf::from(name), source, false)
        })
        .collect();
    sort_posts(&mut posts);
    posts
}

impl Post {
    /// The post's whole text, for display.
    pub fn read_source(&self) -> Result<PostSource, PostsError> {
        self.origin.read_source()
    }
}

impl Origin {
    /// The whole text of the post found here (up to [`BODY_LIMIT`]).
    pub fn read_source(&self) -> Result<PostSource, PostsError> {
        let text = match self {
            Origin::Embedded(source) => ((*source).to_string(), false, None),
            Origin::File(path) => read_body(path).map_err(|e| io_error(path, e))?,
        };
        let (text, lossy, truncated_from) = text;
        let (_, body_start) = parse_frontmatter(&text);
        Ok(PostSource {
            text: text.into(),
            body_start,
            lossy,
            truncated_from,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write as _;
    use std::time::{Duration, Instant};

    fn fm(text: &str) -> Frontmatter {
        let (fm, _) = parse_frontmatter(text);
        fm.unwrap_or_else(|e| panic!("{e} in {text:?}"))
    }

    fn fm_err(text: &str) -> FrontmatterError {
        parse_frontmatter(text).0.expect_err("expected an error")
    }

    fn date(text: &str) -> PostDate {
        fm(&format!("---\ndate: {text}\n---\n"))
            .date
            .expect("a date")
    }

    fn ymd(year: i32, month: u8, day: u8) -> PostDate {
        PostDate {
            year,
            month,
            day,
            hour: 0,
            minute: 0,
            second: 0,
        }
    }

    fn at(d: PostDate, hour: u8, minute: u8, second: u8) -> PostDate {
        PostDate {
            hour,
            minute,
            second,
            ..d
        }
    }

    fn post(name: &str, text: &str) -> Post {
        post_from_text(
            Origin::File(PathBuf::from("/blog").join(name)),
            PathBuf::from(name),
            text,
            false,
        )
    }

    #[test]
    fn seed_post_frontmatter() {
        let text = "---\ntitle: \"The Convergence of Blockchain and AI: What's Next?\"\ndate: \"2025-02-10\"\nexcerpt: \"Exploring the powerful possibilities\"\n---\n\n# Heading\n";
        let (fm, body) = parse_frontmatter(text);
        let fm = fm.unwrap();
        assert_eq!(
            fm.title.as_deref(),
            Some("The Convergence of Blockchain and AI: What's Next?")
        );
        assert_eq!(fm.date, Some(ymd(2025, 2, 10)));
        assert_eq!(
            fm.excerpt.as_deref(),
            Some("Exploring the powerful possibilities")
        );
        assert_eq!(&text[body..], "\n# Heading\n");
    }

    #[test]
    fn date_forms() {
        let d = ymd(2025, 2, 10);
        assert_eq!(date("2025-02-10"), d);
        assert_eq!(date("\"2025-02-10\""), d);
        assert_eq!(date("'2025-02-10'"), d);
        assert_eq!(date("2025-02-10T08:30:00Z"), at(d, 8, 30, 0));
        assert_eq!(date("2025-02-10T08:30:00"), at(d, 8, 30, 0));
        assert_eq!(date("2025-02-10T08:30:15+02:00"), at(d, 8, 30, 15));
        assert_eq!(date("2025-02-10T08:30:00.123-05:00"), at(d, 8, 30, 0));
        assert_eq!(date("2025-02-10 10:00"), at(d, 10, 0, 0));
        assert_eq!(date("2025-02-10 10:00:00 +0100"), at(d, 10, 0, 0));
        assert_eq!(date("2025-02-10 10:00:00 +01:00"), at(d, 10, 0, 0));
        assert_eq!(date("2025-02-10t10:00:00.10 -5"), at(d, 10, 0, 0));
        assert_eq!(date("2024-02-29"), ymd(2024, 2, 29));
        assert_eq!(fm("---\ndate:\n---\n").date, None);
    }

    #[test]
    fn invalid_dates_name_the_field() {
        for bad in [
            "2025-02-30",
            "2023-02-29",
            "2025-13-01",
            "2025-00-10",
            "2025-02-10T25:00",
            "yesterday",
            "2025-2-10",
            "2025-02-10 10:00 PST",
            "2025-02-10 10:00 +123",
            "[1, 2]",
            "{a: b}",
            "20250210",
        ] {
            let e = fm_err(&format!("---\ntitle: x\ndate: {bad}\n---\n"));
            assert_eq!(e.line, 3, "{bad}: {e}");
            assert!(e.message.starts_with("date: "), "{bad}: {e}");
        }
        let e = fm_err("---\ndate: 2025-02-30\n---\n");
        assert!(e.message.contains("no such date"), "{e}");
    }

    #[test]
    fn toml_frontmatter() {
        let text = "+++\ntitle = \"Hugo post\"\ndate = 2021-05-05T10:20:30+02:00\ntags = [\"a\", \"b\"]\ndraft = true\n[author]\nname = \"Ann\"\n+++\nBody\n";
        let (fm, body) = parse_frontmatter(text);
        let fm = fm.unwrap();
        assert_eq!(fm.title.as_deref(), Some("Hugo post"));
        assert_eq!(fm.date, Some(at(ymd(2021, 5, 5), 10, 20, 30)));
        assert_eq!(fm.tags, ["a", "b"]);
        assert!(fm.draft);
        assert_eq!(fm.author.as_deref(), Some("Ann"));
        assert_eq!(&text[body..], "Body\n");
        assert_eq!(
            self::fm("+++\ndate = 2021-05-05\n+++\n").date,
            Some(ymd(2021, 5, 5))
        );
        assert_eq!(
            self::fm("+++\ndate = 2021-05-05 07:32:00\n+++\n").date,
            Some(at(ymd(2021, 5, 5), 7, 32, 0))
        );
        assert_eq!(
            self::fm("+++\ndate = \"2021-05-05\"\n+++\n").date,
            Some(ymd(2021, 5, 5))
        );
    }

    #[test]
    fn toml_errors_have_file_lines_and_fields() {
        let e = fm_err("+++\ntitle = \"x\"\ndate = \"2021-02-30\"\n+++\n");
        assert_eq!(e.line, 3, "{e}");
        assert!(e.message.starts_with("date"), "{e}");
        let e = fm_err("+++\ntitle = \"x\"\n\ntags = { a = 1 }\n+++\n");
        assert_eq!(e.line, 4, "{e}");
        assert!(e.message.contains("tags"), "{e}");
        let e = fm_err("+++\ntitle = \n+++\n");
        assert_eq!(e.line, 2, "{e}");
        // A time without a date is no publication date.
        assert!(parse_frontmatter("+++\ndate = 07:32:00\n+++\n").0.is_err());
    }

    #[test]
    fn bom_and_crlf() {
        let text = "\u{feff}---\r\ntitle: Hello\r\ndate: 2025-02-10\r\n---\r\nBody\r\n";
        let (fm, body) = parse_frontmatter(text);
        let fm = fm.unwrap();
        assert_eq!(fm.title.as_deref(), Some("Hello"));
        assert_eq!(fm.date, Some(ymd(2025, 2, 10)));
        assert_eq!(&text[body..], "Body\r\n");
        let e = fm_err("\u{feff}---\r\ntitle: x\r\ntags: {a: b}\r\n---\r\n");
        assert_eq!(e.line, 3);
    }

    #[test]
    fn no_frontmatter() {
        assert_eq!(
            parse_frontmatter("# Title\n\nText\n"),
            (Ok(Frontmatter::default()), 0)
        );
        assert_eq!(parse_frontmatter(""), (Ok(Frontmatter::default()), 0));
        assert_eq!(
            parse_frontmatter("----\nx\n----\n"),
            (Ok(Frontmatter::default()), 0)
        );
        assert_eq!(parse_frontmatter("---\n---\nBody").1, 8);
        assert_eq!(fm("---\n# only a comment\n---\n"), Frontmatter::default());
    }

    #[test]
    fn closing_with_dots_and_at_end_of_file() {
        let text = "---\ntitle: Dots\n...\nBody";
        let (fm, body) = parse_frontmatter(text);
        assert_eq!(fm.unwrap().title.as_deref(), Some("Dots"));
        assert_eq!(&text[body..], "Body");
        let text = "---\ntitle: End\n---";
        let (fm, body) = parse_frontmatter(text);
        assert_eq!(fm.unwrap().title.as_deref(), Some("End"));
        assert_eq!(body, text.len());
    }

    #[test]
    fn broken_yaml_reports_file_line_and_skips_block() {
        let text = "---\ntitle: ok\nexcerpt: fine\ndate: 2025-01-01\ntags: [a, b\n---\nBody\n";
        let (fm, body) = parse_frontmatter(text);
        let e = fm.unwrap_err();
        assert!(e.line >= 5, "{e}");
        assert_eq!(&text[body..], "Body\n");
        let e = fm_err("---\ntitle: a\n  bad: indent\n---\n");
        assert_eq!(e.line, 3, "{e}");
        assert!(!e.message.contains(" at line "), "{e}");
    }

    #[test]
    fn wrong_types() {
        let cases = [
            ("date: [1, 2]", "date"),
            ("tags: {a: b}", "tags"),
            ("categories: {a: b}", "categories"),
            ("title: [a]", "title"),
            ("draft: maybe", "draft"),
            ("draft: [true]", "draft"),
            ("author: 42", "author"),
            ("excerpt: {a: 1}", "excerpt"),
        ];
        for (line, field) in cases {
            let e = fm_err(&format!("---\nlayout: post\n\n{line}\n---\n"));
            assert_eq!(e.line, 4, "{line}: {e}");
            assert!(e.message.starts_with(&format!("{field}: ")), "{line}: {e}");
        }
        // A number is a perfectly readable title.
        assert_eq!(fm("---\ntitle: 42\n---\n").title.as_deref(), Some("42"));
        assert!(
            fm_err("---\ntitle: a\ntitle: b\n---\n")
                .message
                .contains("duplicate")
        );
    }

    #[test]
    fn unterminated_fence() {
        let text = "---\ntitle: x\n\nSome text";
        let (fm, body) = parse_frontmatter(text);
        let e = fm.unwrap_err();
        assert_eq!(e.message, "frontmatter starts with --- but is never closed");
        assert_eq!(e.line, 1);
        assert_eq!(body, 0);
        let p = post("2024-03-04-open.md", text);
        assert_eq!(p.title, "Open");
        assert!(p.error.is_some());
    }

    #[test]
    fn frontmatter_bound_is_64k() {
        let filler = "# padding\n".repeat(FRONTMATTER_LIMIT / 10 + 10);
        let text = format!("---\ntitle: x\n{filler}---\nBody\n");
        let (fm, body) = parse_frontmatter(&text);
        assert_eq!(
            fm.unwrap_err().message,
            "frontmatter is not closed within 64 KiB"
        );
        assert_eq!(body, 0);
        // Just under the bound is fine.
        let filler = "# padding\n".repeat(FRONTMATTER_LIMIT / 10 - 10);
        let text = format!("---\ntitle: x\n{filler}---\nBody\n");
        let (fm, body) = parse_frontmatter(&text);
        assert_eq!(fm.unwrap().title.as_deref(), Some("x"));
        assert_eq!(&text[body..], "Body\n");
    }

    #[test]
    fn deep_flow_nesting_rejected_fast() {
        for open in ["[", "{a: "] {
            let text = format!(
                "---\ntitle: x\ntags: {}\n---\n",
                open.repeat(60_000 / open.len())
            );
            let start = Instant::now();
            let (fm, body) = parse_frontmatter(&text);
            assert!(start.elapsed() < Duration::from_secs(2));
            let e = fm.unwrap_err();
            assert!(e.message.contains("nests deeper"), "{e}");
            assert_eq!(e.line, 3);
            assert_eq!(body, text.len());
        }
        let text = format!("---\ntags: {}\n---\n", "[".repeat(100_000));
        let start = Instant::now();
        assert!(parse_frontmatter(&text).0.is_err());
        assert!(start.elapsed() < Duration::from_secs(2));
        // Ordinary nesting is fine.
        assert_eq!(
            fm("---\nextra: [[a, {b: [c]}]]\ntitle: t\n---\n")
                .title
                .as_deref(),
            Some("t")
        );
    }

    #[test]
    fn alias_bomb_rejected_fast() {
        let mut yaml = String::from(
            "---\na: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        for (i, prev) in ('b'..='i').zip('a'..) {
            let refs = vec![format!("*{prev}"); 9].join(",");
            writeln!(yaml, "{i}: &{i} [{refs}]").unwrap();
        }
        // Aliases under unknown keys are skipped, never expanded.
        let start = Instant::now();
        let harmless = format!("{yaml}title: boom\n---\n");
        assert_eq!(fm(&harmless).title.as_deref(), Some("boom"));
        // Read through a field, the expansion hits serde_yaml's limit.
        let bomb = format!("{yaml}author: *i\n---\n");
        let e = fm_err(&bomb);
        assert!(e.message.contains("repetition limit"), "{e}");
        assert!(start.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn tags_and_categories() {
        assert_eq!(fm("---\ntags: [rust, tui]\n---\n").tags, ["rust", "tui"]);
        assert_eq!(
            fm("---\ntags:\n  - rust\n  - 2025\n---\n").tags,
            ["rust", "2025"]
        );
        assert_eq!(
            fm("---\ntags: rust, tui ,, terminal\n---\n").tags,
            ["rust", "tui", "terminal"]
        );
        assert_eq!(fm("---\ntags: rust\n---\n").tags, ["rust"]);
        assert_eq!(fm("---\ntags:\n---\n").tags, Vec::<String>::new());
        assert_eq!(fm("---\ncategories: [a, b]\n---\n").categories, ["a", "b"]);
        assert_eq!(
            fm("---\ncategories: \"a, b\"\n---\n").categories,
            ["a", "b"]
        );
    }

    #[test]
    fn draft_and_author() {
        assert!(fm("---\ndraft: true\n---\n").draft);
        assert!(fm("---\ndraft: \"true\"\n---\n").draft);
        assert!(!fm("---\ndraft: \"false\"\n---\n").draft);
        assert!(!fm("---\ndraft: false\n---\n").draft);
        assert!(!fm("---\ntitle: x\n---\n").draft);
        assert_eq!(fm("---\nauthor: Ann\n---\n").author.as_deref(), Some("Ann"));
        assert_eq!(
            fm("---\nauthor: [Ann, Bob]\n---\n").author.as_deref(),
            Some("Ann, Bob")
        );
        assert_eq!(
            fm("---\nauthor:\n  name: Ann\n  email: a@b.c\n---\n")
                .author
                .as_deref(),
            Some("Ann")
        );
        assert_eq!(
            fm("---\nauthor: [{name: Ann}, Bob]\n---\n")
                .author
                .as_deref(),
            Some("Ann, Bob")
        );
    }

    #[test]
    fn excerpt_description_summary() {
        let e = |t: &str| fm(t).excerpt;
        assert_eq!(
            e("---\nexcerpt: E\ndescription: D\nsummary: S\n---\n").as_deref(),
            Some("E")
        );
        assert_eq!(
            e("---\ndescription: D\nsummary: S\n---\n").as_deref(),
            Some("D")
        );
        assert_eq!(e("---\nsummary: S\n---\n").as_deref(), Some("S"));
        assert_eq!(
            e("---\nexcerpt: \"\"\nsummary: S\n---\n").as_deref(),
            Some("S")
        );
        assert_eq!(
            e("---\nexcerpt: >\n  two\n  lines\n---\n").as_deref(),
            Some("two lines")
        );
        let p = post(
            "a.md",
            "---\ndescription: From description\n---\n\nFirst paragraph.\n",
        );
        assert_eq!(p.excerpt, "From description");
    }

    #[test]
    fn unknown_fields_ignored() {
        let f = fm("---\nlayout: post\npermalink: /x/\nextra: {a: [1, 2]}\ntitle: T\n---\n");
        assert_eq!(f.title.as_deref(), Some("T"));
    }

    #[test]
    fn title_fallbacks() {
        let p = post(
            "x.md",
            "---\ndate: 2025-01-01\n---\n\n```\n# not this\n```\n## Sub\n# The **Real** Title ##\n",
        );
        assert_eq!(p.title, "The Real Title");
        let p = post("2025-01-02-my_first-post.md", "Just text.\n");
        assert_eq!(p.title, "My first post");
        assert_eq!(p.date, Some(ymd(2025, 1, 2)));
        let p = post("2021-05-05-trip-report/index.md", "Text.\n");
        assert_eq!(p.title, "Trip report");
        assert_eq!(p.date, Some(ymd(2021, 5, 5)));
        let p = post("notes/2021-06-07-bundle/photos.md", "Text.\n");
        assert_eq!(p.title, "Photos");
        assert_eq!(p.date, Some(ymd(2021, 6, 7)));
        let p = post("2025-02-30-not-a-date.md", "");
        assert_eq!(p.date, None);
        assert_eq!(p.title, "2025 02 30 not a date");
        let p = post("2025-01-01.md", "");
        assert_eq!(p.title, "2025-01-01");
        // Frontmatter beats every fallback.
        let p = post(
            "2020-01-01-name.md",
            "---\ntitle: FM\ndate: 2022-02-02\n---\n# Heading\n",
        );
        assert_eq!((p.title.as_str(), p.date), ("FM", Some(ymd(2022, 2, 2))));
    }

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

    #[test]
    fn broken_frontmatter_post_still_listed() {
        let p = post(
            "2024-01-02-broken-one.md",
            "---\ntitle: [oops\n---\n\nThe body.\n",
        );
        assert_eq!(p.title, "Broken one");
        assert_eq!(p.date, Some(ymd(2024, 1, 2)));
        assert_eq!(p.excerpt, "The body.");
        let err = p.error.expect("an error");
        assert!(err.starts_with("line "), "{err}");
    }

    fn dated(title: &str, rel: &str, date: Option<PostDate>) -> Post {
        Post {
            date,
            title: title.into(),
            ..post(rel, "")
        }
    }

    #[test]
    fn ordering() {
        let d = ymd(2025, 1, 1);
        let mut posts = vec![
            dated("zeta", "z.md", None),
            dated("Alpha", "a.md", None),
            dated("b", "2.md", Some(d)),
            dated("B", "1.md", Some(d)),
            dated("a", "3.md", Some(d)),
            dated("late", "4.md", Some(at(d, 9, 0, 0))),
            dated("old", "5.md", Some(ymd(2020, 1, 1))),
            dated("new", "6.md", Some(ymd(2026, 1, 1))),
        ];
        sort_posts(&mut posts);
        let order: Vec<_> = posts.iter().map(|p| p.rel_path.to_str().unwrap()).collect();
        assert_eq!(
            order,
            [
                "6.md", "4.md", "3.md", "1.md", "2.md", "5.md", "a.md", "z.md"
            ]
        );
    }

    #[test]
    fn decoding() {
        assert_eq!(
            decode(b"\xEF\xBB\xBFhi".to_vec(), false),
            ("hi".into(), false)
        );
        assert_eq!(
            decode(b"caf\xE9".to_vec(), false),
            ("caf\u{FFFD}".into(), true)
        );
        // A character cut by the head limit is not an encoding error.
        assert_eq!(
            decode("café".as_bytes()[..4].to_vec(), true),
            ("caf".into(), false)
        );
        let mut le = vec![0xFF, 0xFE];
        le.extend(
            "---\ntitle: é\n---\n"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        );
        assert_eq!(decode(le, false), ("---\ntitle: é\n---\n".into(), false));
        let mut be = vec![0xFE, 0xFF];
        be.extend("hé".encode_utf16().flat_map(u16::to_be_bytes));
        assert_eq!(decode(be, false), ("hé".into(), false));
    }

    fn write(root: &Path, rel: &str, text: &[u8]) {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    fn rels(posts: &[Post]) -> Vec<String> {
        let mut v: Vec<_> = posts
            .iter()
            .map(|p| p.rel_path.to_string_lossy().replace('\\', "/"))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn scan_folder() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "2025-01-01-one.md", b"---\ntitle: One\n---\nHello\n");
        write(root, "sub/deeper/two.MARKDOWN", b"# Two\n");
        write(root, "sub/three.Md", b"---\ndate: 2024-05-05\n---\n");
        write(root, "2021-05-05-bundle/index.md", b"Bundle text\n");
        write(root, ".hidden/secret.md", b"# no\n");
        write(root, "sub/.draft.md", b"# no\n");
        write(root, "notes.txt", b"# no\n");
        write(root, "image.png", b"\x89PNG");
        write(root, "latin1.md", b"# Caf\xE9\n");
        write(root, "broken.md", b"---\ntags: {a: b}\n---\n");
        let posts = scan(root).unwrap();
        assert_eq!(
            rels(&posts),
            [
                "2021-05-05-bundle/index.md",
                "2025-01-01-one.md",
                "broken.md",
                "latin1.md",
                "sub/deeper/two.MARKDOWN",
                "sub/three.Md"
            ]
        );
        let titles: Vec<_> = posts.iter().map(|p| p.title.as_str()).collect();
        assert_eq!(titles[..3], ["One", "Three", "Bundle"]);
        let latin1 = posts.iter().find(|p| p.title.starts_with("Caf")).unwrap();
        assert!(latin1.lossy);
        assert_eq!(latin1.title, "Caf\u{FFFD}");
        let broken = posts.iter().find(|p| p.title == "Broken").unwrap();
        assert!(
            broken
                .error
                .as_deref()
                .unwrap()
                .starts_with("line 2: tags: ")
        );
        let one = &posts[0];
        assert_eq!(one.origin, Origin::File(root.join("2025-01-01-one.md")));
        let source = one.read_source().unwrap();
        assert_eq!(source.body(), "Hello\n");
    }

    #[test]
    fn scan_single_file_and_missing() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "2021-05-05-b/index.md", b"Text\n");
        let file = dir.path().join("2021-05-05-b/index.md");
        let posts = scan(&file).unwrap();
        assert_eq!(posts.len(), 1);
        assert_eq!(posts[0].rel_path, PathBuf::from("index.md"));
        assert_eq!(posts[0].origin, Origin::File(file.clone()));
        assert_eq!(posts[0].title, "B");
        let missing = dir.path().join("nope");
        assert!(matches!(scan(&missing), Err(PostsError::NotFound(p)) if p == missing));
        let under_file = file.join("child");
        assert!(matches!(scan(&under_file), Err(PostsError::NotFound(_))));
        fs::remove_file(&file).unwrap();
        assert!(matches!(
            posts[0].read_source(),
            Err(PostsError::NotFound(_))
        ));
    }

    #[test]
    fn scan_large_file_reads_only_head() {
        let dir = tempfile::tempdir().unwrap();
        let mut text = b"---\ntitle: Big\n---\nFirst paragraph.\n\n".to_vec();
        text.extend(std::iter::repeat_n(b'x', 3 * HEAD_LIMIT));
        write(dir.path(), "big.md", &text);
        let posts = scan(dir.path()).unwrap();
        assert_eq!(posts[0].title, "Big");
        assert_eq!(posts[0].excerpt, "First paragraph.");
        assert_eq!(posts[0].read_source().unwrap().text.len(), text.len());
    }

    #[cfg(unix)]
    #[test]
    fn scan_follows_symlinks_without_looping() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "a/post.md", b"# A\n");
        std::os::unix::fs::symlink(root.join("a"), root.join("a/loop")).unwrap();
        std::os::unix::fs::symlink(root, root.join("a/up")).unwrap();
        let outside = tempfile::tempdir().unwrap();
        write(outside.path(), "linked.md", b"# Linked\n");
        std::os::unix::fs::symlink(outside.path(), root.join("elsewhere")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("linked.md"), root.join("file-link.md"))
            .unwrap();
        let start = Instant::now();
        let posts = scan(root).unwrap();
        assert!(start.elapsed() < Duration::from_secs(5));
        assert_eq!(
            rels(&posts),
            ["a/post.md", "elsewhere/linked.md", "file-link.md"]
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_confined_scan_stays_inside_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("blog");
        write(&root, "a/post.md", b"# A\n");
        std::os::unix::fs::symlink(root.join("a/post.md"), root.join("same.md")).unwrap();
        let outside = tempfile::tempdir().unwrap();
        write(outside.path(), "secret.md", b"# Secret\n");
        std::os::unix::fs::symlink(outside.path(), root.join("elsewhere")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret.md"), root.join("leak.md")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", root.join("a/passwd.md")).unwrap();
        let posts = scan_with(&root, Links::Confined).unwrap();
        assert_eq!(rels(&posts), ["a/post.md", "same.md"]);
        assert!(is_inside(&root, &root.join("same.md")));
        assert!(!is_inside(&root, &root.join("leak.md")));
        assert_eq!(scan(&root).unwrap().len(), 5, "a local reader follows them");
    }

    #[cfg(unix)]
    #[test]
    fn dangling_link_is_listed_with_error() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "ok.md", b"# Ok\n");
        std::os::unix::fs::symlink(dir.path().join("gone.md"), dir.path().join("dangling.md"))
            .unwrap();
        let posts = scan(dir.path()).unwrap();
        assert_eq!(rels(&posts), ["dangling.md", "ok.md"]);
        let p = posts.iter().find(|p| p.title == "Dangling").unwrap();
        assert_eq!(
            p.error.as_deref(),
            Some("cannot read: No such file or directory")
        );
        assert!(matches!(p.read_source(), Err(PostsError::NotFound(_))));
    }

    #[cfg(unix)]
    #[test]
    fn unreadable_file_is_listed_with_error() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "ok.md", b"# Ok\n");
        write(dir.path(), "2023-03-03-locked.md", b"# Locked\n");
        let locked = dir.path().join("2023-03-03-locked.md");
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
        if fs::read(&locked).is_ok() {
            // Running as root: permissions do not apply.
            return;
        }
        let posts = scan(dir.path()).unwrap();
        assert_eq!(posts.len(), 2);
        let p = posts.iter().find(|p| p.title == "Locked").unwrap();
        assert_eq!(p.error.as_deref(), Some("cannot read: Permission denied"));
        assert_eq!(p.date, Some(ymd(2023, 3, 3)));
        assert!(matches!(p.read_source(), Err(PostsError::Io { .. })));
    }

    #[cfg(unix)]
    #[test]
    fn unreadable_folder_is_an_error() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let locked = dir.path().join("locked");
        write(&locked, "a.md", b"# A\n");
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
        let readable = fs::read_dir(&locked).is_ok();
        let result = scan(&locked);
        // Unreadable below the root: skipped, not fatal.
        let outer = scan(dir.path());
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o755)).unwrap();
        if readable {
            return; // running as root: permissions do not apply
        }
        assert!(matches!(result, Err(PostsError::Io { .. })), "{result:?}");
        assert!(outer.unwrap().is_empty());
    }

    #[test]
    fn embedded_posts() {
        let posts = embedded();
        assert_eq!(posts.len(), EMBEDDED.len());
        let welcome = posts
            .iter()
            .find(|p| p.title == "Welcome to folio")
            .unwrap();
        assert_eq!(welcome.rel_path, PathBuf::from("2026-11-24-welcome.md"));
        assert_eq!(
            posts[0].title, "Welcome to folio",
            "the welcome post is the newest"
        );
        assert!(welcome.error.is_none());
        assert!(welcome.date.is_some() && !welcome.excerpt.is_empty() && !welcome.tags.is_empty());
        let source = welcome.read_source().unwrap();
        assert!(source.body().trim_start().starts_with("# Welcome to folio"));
        for p in &posts {
            assert!(p.error.is_none(), "{}: {:?}", p.rel_path.display(), p.error);
        }
    }

    /// A folder of `n` posts with dates that repeat (so titles and paths
    /// break ties) and some without a date.
    fn dated_folder(n: usize) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("sub")).unwrap();
        for i in 0..n {
            let date = match i % 7 {
                0 => String::new(),
                k => format!("date: 2024-0{k}-1{}\n", i % 3),
            };
            let folder = if i % 2 == 0 { "" } else { "sub/" };
            let text = format!("---\ntitle: Post {}\n{date}---\n\nText {i}.\n", i % 13);
            fs::write(dir.path().join(format!("{folder}p{i}.md")), text).unwrap();
        }
        dir
    }

    #[test]
    fn merging_batches_gives_the_sorted_list() {
        let dir = dated_folder(120);
        let whole = scan(dir.path()).unwrap();
        // Any split into batches, in any order, merges into the same list.
        let mut shuffled = whole.clone();
        shuffled.reverse();
        shuffled.rotate_left(37);
        let mut merged = Vec::new();
        for chunk in shuffled.chunks(17) {
            merge_posts(&mut merged, chunk.to_vec());
            let mut sorted = merged.clone();
            sort_posts(&mut sorted);
            assert_eq!(merged, sorted, "sorted after every batch");
        }
        assert_eq!(merged, whole);
        merge_posts(&mut merged, Vec::new());
        assert_eq!(merged, whole);
    }

    #[test]
    fn scan_in_batches_reports_everything_once_and_ends_with_done() {
        let dir = dated_folder(BATCH_POSTS * 2 + 50);
        let whole = scan(dir.path()).unwrap();
        let mut batches = Vec::new();
        scan_in_batches(dir.path(), Links::Follow, &mut |batch, done| {
            batches.push((batch, done));
            true
        })
        .unwrap();
        assert!(batches.len() >= 3, "{} batches", batches.len());
        let (last, rest) = batches.split_last().unwrap();
        assert!(last.1 && rest.iter().all(|(_, done)| !done));
        assert!(batches.iter().all(|(b, _)| b.len() <= BATCH_POSTS));
        let mut merged = Vec::new();
        for (batch, _) in batches {
            let mut sorted = batch.clone();
            sort_posts(&mut sorted);
            assert_eq!(batch, sorted, "each batch comes sorted");
            merge_posts(&mut merged, batch);
        }
        assert_eq!(merged, whole);
    }

    #[test]
    fn scan_in_batches_stops_when_told_and_fails_like_scan() {
        let dir = dated_folder(BATCH_POSTS * 4);
        let mut calls = 0;
        scan_in_batches(dir.path(), Links::Follow, &mut |_, _| {
            calls += 1;
            false
        })
        .unwrap();
        assert_eq!(calls, 1);
        let missing = dir.path().join("gone");
        let err = scan_in_batches(&missing, Links::Follow, &mut |_, _| true).unwrap_err();
        assert!(matches!(err, PostsError::NotFound(_)), "{err:?}");
        assert!(matches!(check(&missing), Err(PostsError::NotFound(_))));
        check(dir.path()).unwrap();
        // A single file is one batch, done.
        let file = dir.path().join("p0.md");
        let mut got = Vec::new();
        scan_in_batches(&file, Links::Follow, &mut |b, done| {
            got.push((b.len(), done));
            true
        })
        .unwrap();
        assert_eq!(got, [(1, true)]);
        check(&file).unwrap();
    }
}
