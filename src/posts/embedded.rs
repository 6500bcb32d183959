//! folio's own sample posts, compiled into the binary.

use std::path::PathBuf;

use super::{Origin, Post, post_from_text, sort_posts};

/// folio's own sample posts. Adding one is one line here.
macro_rules! sample_posts {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../posts/", $name)))),*]
    };
}

const EMBEDDED: &[(&str, &str)] = sample_posts!(
    "2026-11-24-welcome.md",
    "2026-11-23-keys-and-headings.md",
    "2026-11-22-markdown-showcase.md",
    "2026-11-21-folio-over-ssh.md",
);

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
