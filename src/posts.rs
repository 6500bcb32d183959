//! Finding posts and reading their frontmatter. Knows nothing of terminals.
//!
//! This module holds the types and [`post_from_text`], which builds a listed
//! post from its text; the parts live beside it:
//! - `frontmatter`: splitting off the YAML or TOML block and reading its
//!   fields;
//! - `date`: publication dates, in frontmatter and in file names;
//! - `excerpt`: the title and excerpt taken from the body when the
//!   frontmatter has none;
//! - `scan`: reading files, the (streaming) scan and the order of the list;
//! - `site`: finding the posts in a folder: a site root's (Hugo, Jekyll,
//!   Zola, Astro, Eleventy) or, elsewhere, every Markdown file that ignore
//!   rules and dependency folders leave;
//! - `embedded`: folio's own sample posts.

use std::path::{Path, PathBuf};

use thiserror::Error;

mod date;
mod embedded;
mod excerpt;
mod frontmatter;
mod scan;
mod site;

use date::{date_from_name, name_date};
use scan::{io_error, read_body, read_capped};

pub use embedded::embedded;
pub use frontmatter::{FRONTMATTER_LIMIT, parse_frontmatter};
pub use scan::{
    BATCH_EVERY, BATCH_POSTS, Folder, Links, check, is_inside, merge_posts, scan, scan_in_batches,
    scan_with, sort_posts,
};
pub use site::{Generator, detect as detect_site, is_post_name, watch_folders};

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
    /// A document read from standard input (`folio -`), kept as read.
    Stdin(std::sync::Arc<PostSource>),
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
    /// When the post was last changed, if its frontmatter says.
    pub updated: Option<PostDate>,
    pub excerpt: String,
    pub tags: Vec<String>,
    pub categories: Vec<String>,
    pub draft: bool,
    pub author: Option<String>,
    /// The title is the frontmatter's (not the body's heading or the file
    /// name): the reader shows it in the post header.
    pub titled: bool,
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
    /// Where its pictures are and their sizes, found when it was read
    /// (empty until then): the layout keeps rows to their shapes.
    pub pictures: std::sync::Arc<crate::picture::Survey>,
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
    /// When the post was last changed (`updatedDate`, `lastmod`, `updated`).
    pub updated: Option<PostDate>,
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

/// How much of each file `scan` reads: the frontmatter bound plus room for
/// the first heading and paragraph after it.
pub const HEAD_LIMIT: usize = 128 * 1024;

/// The most of one post folio reads and lays out. Layout runs on the UI
/// thread (the app is pure and relayouts on resize), and at roughly a second
/// per 10 MB a 100 MB post would freeze the reader; nobody reads that far in a
/// terminal, so the rest is cut with a visible notice instead.
pub const BODY_LIMIT: usize = 16 * 1024 * 1024;

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

/// A frontmatter excerpt, description or summary is Markdown in most blogs
/// (Jekyll renders it): shown as its text, emphasis marks dropped and links
/// as their words, read as the body's first paragraph is.
fn excerpt_as_text(text: String) -> String {
    if !text.contains(['*', '_', '[', '`', '<', '&', '\\', '~']) {
        return text;
    }
    let read = excerpt::from_body(&text, false, true).excerpt;
    if read.is_empty() { text } else { read }
}

fn naming_path<'a>(origin: &'a Origin, rel_path: &'a Path) -> &'a Path {
    match origin {
        Origin::File(path) => path,
        Origin::Embedded(_) | Origin::Stdin(_) => rel_path,
    }
}

/// What a document from standard input is called where a file name would
/// be shown; its title when it has neither frontmatter nor a heading.
pub const STDIN_NAME: &str = "standard input";

/// Reads a document from `input` (standard input), bounded like any post
/// ([`BODY_LIMIT`]; a longer one is cut, with the notice a long file
/// gets): frontmatter, title and excerpt as for a file.
pub fn read_stdin(input: impl std::io::Read) -> Result<Post, PostsError> {
    let (text, lossy, truncated_from) =
        read_capped(input, || None).map_err(|e| io_error(Path::new(STDIN_NAME), e))?;
    let (_, body_start) = parse_frontmatter(&text);
    let source = PostSource {
        text: text.into(),
        body_start,
        lossy,
        truncated_from,
        pictures: std::sync::Arc::default(),
    };
    // As a folder's scan does: the title and excerpt come from the head.
    let mut head_end = source.text.len().min(HEAD_LIMIT);
    while !source.text.is_char_boundary(head_end) {
        head_end -= 1;
    }
    let head = source.text[..head_end].to_owned();
    Ok(post_from_text(
        Origin::Stdin(std::sync::Arc::new(source)),
        PathBuf::from(STDIN_NAME),
        &head,
        lossy,
    ))
}

/// Builds a listed post from its text (or the head of it), applying the
/// title, date and excerpt fallbacks.
pub fn post_from_text(origin: Origin, rel_path: PathBuf, text: &str, lossy: bool) -> Post {
    let (frontmatter, body_start) = parse_frontmatter(text);
    let (fm, error) = match frontmatter {
        Ok(fm) => (fm, None),
        Err(e) => (Frontmatter::default(), Some(e.to_string())),
    };
    let from_body = excerpt::from_body(
        &text[body_start..],
        fm.title.is_none(),
        fm.excerpt.is_none(),
    );
    let name_path = naming_path(&origin, &rel_path);
    let titled = fm.title.is_some();
    let title = fm
        .title
        .or(from_body.title)
        .unwrap_or_else(|| title_from_name(name_path));
    let date = fm.date.or_else(|| date_from_name(name_path));
    let excerpt = match fm.excerpt {
        Some(text) => excerpt_as_text(text),
        None => from_body.excerpt,
    };
    Post {
        origin,
        rel_path,
        title,
        date,
        updated: fm.updated,
        excerpt,
        tags: fm.tags,
        categories: fm.categories,
        draft: fm.draft,
        author: fm.author,
        titled,
        error,
        lossy,
    }
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
            Origin::Stdin(source) => return Ok(PostSource::clone(source)),
        };
        let (text, lossy, truncated_from) = text;
        let (_, body_start) = parse_frontmatter(&text);
        Ok(PostSource {
            text: text.into(),
            body_start,
            lossy,
            truncated_from,
            pictures: std::sync::Arc::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn fm(text: &str) -> Frontmatter {
        let (fm, _) = parse_frontmatter(text);
        fm.unwrap_or_else(|e| panic!("{e} in {text:?}"))
    }

    pub(super) fn fm_err(text: &str) -> FrontmatterError {
        parse_frontmatter(text).0.expect_err("expected an error")
    }

    pub(super) fn ymd(year: i32, month: u8, day: u8) -> PostDate {
        PostDate {
            year,
            month,
            day,
            hour: 0,
            minute: 0,
            second: 0,
        }
    }

    pub(super) fn at(d: PostDate, hour: u8, minute: u8, second: u8) -> PostDate {
        PostDate {
            hour,
            minute,
            second,
            ..d
        }
    }

    #[test]
    fn a_document_from_stdin_is_a_post_like_a_file() {
        let text =
            "---\ntitle: Piped\ndate: 2025-04-05\ntags: [a]\n---\n\n# Heading\n\nBody text.\n";
        let p = read_stdin(text.as_bytes()).unwrap();
        assert_eq!(p.title, "Piped");
        assert_eq!(p.date, Some(ymd(2025, 4, 5)));
        assert_eq!(p.tags, ["a"]);
        assert_eq!(p.rel_path, PathBuf::from(STDIN_NAME));
        let source = p.read_source().unwrap();
        assert_eq!(source.body(), "\n# Heading\n\nBody text.\n");
        assert_eq!(source.truncated_from, None);
        // No frontmatter, no heading: named for where it came from.
        let p = read_stdin("just words\n".as_bytes()).unwrap();
        assert_eq!(p.title, "Standard input");
        assert_eq!(p.excerpt, "just words");
        // Nothing at all is an empty post, not an error.
        let p = read_stdin(std::io::empty()).unwrap();
        assert!(p.read_source().unwrap().body().is_empty());
        // UTF-16 with its BOM, as from a Windows tool.
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend("# Hé\n".encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(read_stdin(&utf16[..]).unwrap().title, "Hé");
    }

    #[test]
    fn a_long_stream_is_cut_without_reading_it_all() {
        // Endless input: only a bounded part is read.
        let endless = std::io::Read::chain(&b"# Big\n"[..], std::io::repeat(b'a'));
        let p = read_stdin(endless).unwrap();
        let source = p.read_source().unwrap();
        assert!(source.text.len() <= BODY_LIMIT);
        assert_eq!(source.truncated_from, Some(BODY_LIMIT as u64 + 1));
    }

    pub(super) fn post(name: &str, text: &str) -> Post {
        post_from_text(
            Origin::File(PathBuf::from("/blog").join(name)),
            PathBuf::from(name),
            text,
            false,
        )
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
    fn excerpts_are_read_as_inline_markdown() {
        let p = post(
            "x.md",
            "---\ndescription: \"The **first** post, [with a link](https://example.org) and `code`\"\n---\n",
        );
        assert_eq!(p.excerpt, "The first post, with a link and code");
        let p = post("y.md", "---\nsummary: Plain words\n---\n");
        assert_eq!(p.excerpt, "Plain words");
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
}
