//! folio: a terminal reader for folders of Markdown posts.
//!
//! The crate is flat, one module per noun, and the seams between them are the
//! design:
//! - [`posts`] finds post files and reads their frontmatter; no terminal.
//! - [`markdown`] is a pure function from (source, width, theme) to a
//!   [`document::Document`] of wrapped, styled lines; no I/O.
//! - [`sanitize`] is the one gate post-derived text passes before display.
//! - [`theme`] holds the styles, read from the embedded `themes/` files.
//! - [`highlight`] wraps syntect, loaded lazily once per process.

pub mod document;
pub mod highlight;
pub mod markdown;
pub mod posts;
pub mod sanitize;
pub mod theme;
