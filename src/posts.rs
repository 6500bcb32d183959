//! Finding posts and reading their frontmatter. Knows nothing of terminals.
//!
//! SKELETON: the types below are the agreed interface; bodies are being
//! written (see the posts worktree).

use std::path::{Path, PathBuf};

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
    pub text: String,
    /// Byte offset where the Markdown body starts (after the frontmatter).
    pub body_start: usize,
    pub lossy: bool,
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

pub fn parse_frontmatter(text: &str) -> (Result<Frontmatter, FrontmatterError>, usize) {
    let _ = text;
    todo!()
}

pub fn scan(path: &Path) -> Result<Vec<Post>, PostsError> {
    let _ = path;
    todo!()
}

pub fn embedded() -> Vec<Post> {
    todo!()
}

impl Post {
    pub fn read_source(&self) -> Result<PostSource, PostsError> {
        todo!()
    }
}
