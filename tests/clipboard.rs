//! Copying a link (OSC 52): a link too long to copy is refused with a
//! line saying so, never sent as a huge sequence.

use std::time::Instant;

use folio::app::{App, Options};
use folio::keymap::Keymap;
use folio::posts;
use folio::session::{MAX_COPY, NoHost, Session};
use folio::theme::Theme;
use folio::work::Inline;

/// A session over a folder with one post, whose only link is `url`, after
/// opening it and choosing the link in copy mode: what was written.
fn copy(url: &str) -> (Session<Vec<u8>>, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("post.md"),
        format!("---\ntitle: Linked\ndate: 2025-01-01\n---\n\nSee [the site]({url}) for more.\n"),
    )
    .unwrap();
    let app = App::new(
        posts::scan(dir.path()).unwrap(),
        Theme::default(),
        Keymap::default(),
        Options::default(),
    );
    let mut session = Session::new(app, Vec::new(), (100, 30), None).unwrap();
    let mut exec = Inline::default();
    session
        .start(Instant::now(), &mut exec, &mut NoHost)
        .unwrap();
    let mut type_keys = |session: &mut Session<Vec<u8>>, keys: &str| {
        session.input(keys.as_bytes(), Instant::now());
        session.step(&mut exec, &mut NoHost).unwrap();
        session.frame(false).unwrap();
    };
    type_keys(&mut session, "\r");
    type_keys(&mut session, "y");
    let label = session.app().hints()[0].label.clone();
    session.writer_mut().clear();
    type_keys(&mut session, &label);
    let out = String::from_utf8_lossy(session.writer_mut()).into_owned();
    (session, out)
}

#[test]
fn a_link_is_copied_with_osc_52() {
    let (session, out) = copy("https://example.com/page");
    assert!(out.contains("\x1b]52;c;"), "{out:?}");
    assert_eq!(
        session.app().message(),
        Some("Copied https://example.com/page to the clipboard")
    );
}

#[test]
fn a_link_too_long_to_copy_is_refused_with_a_line() {
    let long = format!("https://example.com/{}", "a".repeat(20 * 1024));
    let (session, out) = copy(&long);
    assert!(
        !out.contains("\x1b]52"),
        "no copy sent ({} bytes)",
        out.len()
    );
    let message = session.app().message().unwrap_or_default();
    assert!(message.contains("too long to copy"), "{message:?}");
    // One just under the cap still goes.
    let fits = format!("https://example.com/{}", "a".repeat(MAX_COPY - 20));
    let (_, out) = copy(&fits);
    assert!(out.contains("\x1b]52;c;"));
}
