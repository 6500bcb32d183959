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
    let post =
        format!("---\ntitle: Linked\ndate: 2025-01-01\n---\n\nSee [the site]({url}) for more.\n");
    copy_first_hint(&post, (100, 30))
}

/// A session of `size` over a folder with one post, `post`, after opening
/// it and choosing its first hint in copy mode: what that wrote, and the
/// session.
fn copy_first_hint(post: &str, size: (u16, u16)) -> (Session<Vec<u8>>, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("post.md"), post).unwrap();
    let app = App::new(
        posts::scan(dir.path()).unwrap(),
        Theme::default(),
        Keymap::default(),
        Options::default(),
    );
    let mut session = Session::new(app, Vec::new(), size, None).unwrap();
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

/// The text of the first OSC 52 copy in `out`.
fn copied(out: &str) -> String {
    let start = out.find("\x1b]52;c;").expect("a copy was sent") + 7;
    let end = start + out[start..].find(['\x07', '\x1b']).unwrap();
    let mut bits = 0u32;
    let mut n = 0;
    let mut bytes = Vec::new();
    for c in out[start..end].bytes().filter(|&c| c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c}"),
        };
        bits = (bits << 6) | u32::from(v);
        n += 6;
        if n >= 8 {
            n -= 8;
            bytes.push((bits >> n) as u8);
        }
    }
    String::from_utf8(bytes).unwrap()
}

/// A session 40 columns wide over one post holding `body`: what choosing
/// the first hint in copy mode wrote, and the session.
fn copy_code(body: &str) -> (Session<Vec<u8>>, String) {
    copy_first_hint(body, (40, 20))
}

#[test]
fn a_code_block_is_copied_without_its_label_markers_or_padding() {
    let (session, out) = copy_code(
        "# Post\n\n```sh\necho one\n\tprintf '%s' \"an argument long enough to wrap at forty columns\"\r\n```\n",
    );
    assert_eq!(
        copied(&out),
        "echo one\n\tprintf '%s' \"an argument long enough to wrap at forty columns\""
    );
    assert_eq!(
        session.app().message(),
        Some("Copied 2 lines of code to the clipboard")
    );
    // What the screen showed had the label and a continuation marker.
    let doc = session.app().document().unwrap();
    let shown: String = (0..doc.len()).map(|i| doc.lines.text(i)).collect();
    assert!(shown.contains("sh") && shown.contains('↪'), "{shown:?}");
}

#[test]
fn a_code_block_too_long_to_copy_is_refused_with_a_line() {
    let long = "x = 1\n".repeat(MAX_COPY / 6 + 10);
    let (session, out) = copy_code(&format!("```\n{long}```\n"));
    assert!(!out.contains("\x1b]52"), "no copy sent");
    let message = session.app().message().unwrap_or_default();
    assert!(message.contains("too long to copy"), "{message:?}");
    assert!(message.contains("lines"), "{message:?}");
}

#[test]
fn a_code_block_copy_keeps_no_escape_sequences() {
    let (_, out) = copy_code("```\nprintf 'a\u{1b}[2Jb'\n```\n");
    let text = copied(&out);
    assert!(!text.contains('\u{1b}'), "{text:?}");
    assert!(text.contains("a␛[2Jb"), "{text:?}");
}
