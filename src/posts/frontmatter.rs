//! The frontmatter block: splitting it off the body and reading its fields
//! (YAML through `serde_yaml`, TOML through `toml`), each flexible field
//! with its own serde visitor so a wrong type is reported against it.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::date::parse_date;
use super::{Frontmatter, FrontmatterError, PostDate, collapse_whitespace};

/// Frontmatter must close within this many bytes. Real frontmatter is a few
/// hundred bytes; anything longer is a document that happens to start with a
/// thematic break, and bounding it keeps the YAML parser's input small.
pub const FRONTMATTER_LIMIT: usize = 64 * 1024;

/// libyaml-based parsers go quadratic on deeply nested flow collections
/// before their own depth limit fires, so deeper input is refused unparsed.
const MAX_FLOW_DEPTH: usize = 64;

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
    /// Astro's publication date.
    #[serde(rename = "pubDate", alias = "pub_date", deserialize_with = "de_date")]
    pub_date: Option<PostDate>,
    /// Hugo's: when a post goes live, where `date` is when it was written.
    #[serde(
        rename = "publishDate",
        alias = "publish_date",
        deserialize_with = "de_date"
    )]
    publish_date: Option<PostDate>,
    /// Astro's `updatedDate`, Hugo's `lastmod`, Zola's `updated`.
    #[serde(
        rename = "updatedDate",
        alias = "updated_date",
        deserialize_with = "de_date"
    )]
    updated_date: Option<PostDate>,
    #[serde(deserialize_with = "de_date")]
    lastmod: Option<PostDate>,
    #[serde(deserialize_with = "de_date")]
    updated: Option<PostDate>,
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
    /// Jekyll's `published: false` keeps a post off the site: a draft.
    #[serde(deserialize_with = "de_some_flag")]
    published: Option<bool>,
    #[serde(deserialize_with = "de_author")]
    author: Option<String>,
    #[serde(deserialize_with = "de_author")]
    authors: Option<String>,
    /// Zola keeps tags and categories under `[taxonomies]`.
    taxonomies: Taxonomies,
}

#[derive(Deserialize, Default)]
#[serde(default, expecting = "a map of taxonomies like `tags = [\"…\"]`")]
struct Taxonomies {
    #[serde(deserialize_with = "de_list")]
    tags: Vec<String>,
    #[serde(deserialize_with = "de_list")]
    categories: Vec<String>,
}

impl RawFrontmatter {
    fn into_frontmatter(self) -> Frontmatter {
        let non_empty =
            |s: Option<String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        let excerpt = non_empty(self.excerpt)
            .or_else(|| non_empty(self.description))
            .or_else(|| non_empty(self.summary))
            .map(|s| collapse_whitespace(&s));
        let mut tags = self.tags;
        tags.extend(self.taxonomies.tags);
        let mut categories = self.categories;
        categories.extend(self.taxonomies.categories);
        Frontmatter {
            title: non_empty(self.title),
            date: self.date.or(self.pub_date).or(self.publish_date),
            updated: self.updated_date.or(self.lastmod).or(self.updated),
            excerpt,
            tags,
            categories,
            draft: self.draft || self.published == Some(false),
            author: non_empty(self.author).or_else(|| non_empty(self.authors)),
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

/// A flag whose absence (or an empty value) differs from `false`
/// (`published`).
struct SomeFlagVisitor;

impl<'de> Visitor<'de> for SomeFlagVisitor {
    type Value = Option<bool>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("true or false")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if v.trim().is_empty() {
            return Ok(None);
        }
        FlagVisitor.visit_str(v).map(Some)
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

fn de_some_flag<'de, D: de::Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    d.deserialize_any(SomeFlagVisitor)
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

struct DateVisitor;

impl<'de> Visitor<'de> for DateVisitor {
    type Value = Option<PostDate>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a date like 2025-02-10, 2025-02-10T08:30:00Z or Aug 03 2025")
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
    /// A native TOML datetime (`date = 2025-02-10`) reaches serde as a map;
    /// `toml`'s own `Datetime` reads it back. Any other map is no date.
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        match toml::value::Datetime::deserialize(de::value::MapAccessDeserializer::new(map)) {
            Ok(datetime) => self.visit_str(&datetime.to_string()),
            Err(_) => Err(de::Error::invalid_type(de::Unexpected::Map, &self)),
        }
    }
}

fn de_date<'de, D: de::Deserializer<'de>>(d: D) -> Result<Option<PostDate>, D::Error> {
    d.deserialize_any(DateVisitor)
}

#[cfg(test)]
mod tests {
    use super::super::tests::{at, fm, fm_err, post, ymd};
    use super::*;
    use std::fmt::Write as _;
    use std::time::{Duration, Instant};

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
}
