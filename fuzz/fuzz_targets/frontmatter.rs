//! Arbitrary bytes as a post file: decoding, frontmatter, the listing.
#![no_main]

use std::path::PathBuf;

use folio::posts::{Origin, parse_frontmatter, post_from_text};
use folio::sanitize::is_unsafe;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (_, body_start) = parse_frontmatter(&text);
    assert!(text.is_char_boundary(body_start) && body_start <= text.len());
    let post = post_from_text(
        Origin::File(PathBuf::from("fuzz.md")),
        PathBuf::from("fuzz.md"),
        &text,
        false,
    );
    // The list shows these through sanitize; it must leave nothing unsafe.
    for field in [&post.title, &post.excerpt] {
        assert!(!folio::sanitize::sanitize(field).chars().any(is_unsafe));
    }
});
