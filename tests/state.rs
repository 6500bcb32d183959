//! Reading state through `update()`: read marks, `m`, the position and the
//! last post carried from one session to the next.

#[path = "support/fixtures.rs"]
mod fixtures;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use fixtures::{app_for, blog, press, reader_row, screen};
use folio::action::Report;
use folio::app::App;
use folio::state::{Reading, StateFile};

fn tracked(dir: &Path, width: u16, height: u16, reading: Reading) -> App {
    let mut app = app_for(dir, width, height);
    app.report(Report::RestoreReading(Box::new(reading)));
    folio::work::settle(&mut app);
    app
}

/// The list row of the post titled `title`.
fn row<'a>(s: &'a str, title: &str) -> &'a str {
    // The list's side of the screen: the reader's header names posts too.
    s.lines()
        .find(|l| l.split('│').next().is_some_and(|list| list.contains(title)))
        .unwrap()
}

#[test]
fn unread_posts_are_marked_and_a_short_post_is_read_once_opened() {
    let dir = blog();
    let mut app = tracked(dir.path(), 100, 30, Reading::default());
    let s = screen(&app);
    assert!(row(&s, "Bravo").starts_with("•2025-02-01 Bravo"), "{s}");
    assert!(row(&s, "Alpha").starts_with("•2025-03-01 Alpha"), "{s}");
    // Beside the list, a post shown but not opened is not read.
    press(&mut app, "j");
    assert!(row(&screen(&app), "Bravo").starts_with('•'));
    press(&mut app, "<Enter>");
    let s = screen(&app);
    assert!(row(&s, "Bravo").starts_with(" 2025-02-01 Bravo"), "{s}");
    let changes = app.take_reading_changes().unwrap();
    assert_eq!(changes.last.as_deref(), Some(Path::new("bravo.md")));
    assert_eq!(changes.posts.len(), 1);
    assert_eq!(changes.posts[0].0, PathBuf::from("bravo.md"));
    assert!(changes.posts[0].1.read);
    assert_eq!(app.take_reading_changes(), None, "handed out once");
}

#[test]
fn a_long_post_is_read_when_its_end_has_been_on_screen() {
    let dir = blog();
    let mut app = tracked(dir.path(), 100, 30, Reading::default());
    press(&mut app, "<Enter>");
    assert!(row(&screen(&app), "Alpha").starts_with('•'));
    press(&mut app, "<C-d><C-d>");
    assert!(row(&screen(&app), "Alpha").starts_with('•'));
    press(&mut app, "G");
    assert!(row(&screen(&app), "Alpha").starts_with(' '));
}

#[test]
fn m_toggles_read_in_the_list() {
    let dir = blog();
    let mut app = tracked(dir.path(), 100, 30, Reading::default());
    press(&mut app, "jjm");
    let s = screen(&app);
    assert!(row(&s, "Charlie").starts_with(" 2025-01-15"), "{s}");
    assert!(s.contains("Marked read"), "{s}");
    press(&mut app, "m");
    let s = screen(&app);
    assert!(row(&s, "Charlie").starts_with('•'), "{s}");
    assert!(s.contains("Marked unread"), "{s}");
    let changes = app.take_reading_changes().unwrap();
    assert_eq!(changes.posts.len(), 1);
    assert!(!changes.posts[0].1.read);
    // `m` in the reader does nothing to the marks.
    press(&mut app, "<Enter>G");
    let _ = app.take_reading_changes();
    press(&mut app, "m");
    assert!(row(&screen(&app), "Charlie").starts_with(' '));
}

#[test]
fn without_reading_state_nothing_is_marked_or_handed_out() {
    let dir = blog();
    let mut app = app_for(dir.path(), 100, 30);
    press(&mut app, "j<Enter>G<Esc>");
    let s = screen(&app);
    assert!(row(&s, "Bravo").starts_with(" 2025-02-01"), "{s}");
    assert!(!s.contains('•'), "{s}");
    press(&mut app, "m");
    assert!(screen(&app).contains("Reading state is not kept"));
    assert_eq!(app.take_reading_changes(), None);
}

/// One session reads to a place and quits; the state goes through the file
/// format; the next session, at another width, opens the same post with
/// the same text on top.
#[test]
fn the_next_session_reopens_the_last_post_at_its_place() {
    let dir = blog();
    let mut app = tracked(dir.path(), 100, 30, Reading::default());
    press(&mut app, "j<Enter><Esc>k<Enter>]]jjj");
    let top = reader_row(&app, 0);
    assert!(
        top.contains("Paragraph 1 of section Two"),
        "{}",
        screen(&app)
    );
    let changes = app.take_reading_changes().unwrap();
    let mut file = StateFile::default();
    file.apply("/blog", &changes, 1);
    let text = file.to_yaml();
    let file: StateFile = serde_yaml::from_str(&text).unwrap();

    let app = tracked(dir.path(), 140, 40, file.reading("/blog"));
    assert_eq!(app.selected_post().unwrap().title, "Alpha: a long post");
    assert_eq!(app.focus(), folio::app::Focus::Reader);
    let new_top = reader_row(&app, 0);
    assert!(
        new_top.starts_with("Paragraph 1 of section Two"),
        "{new_top}"
    );
    let s = screen(&app);
    assert!(row(&s, "Bravo").starts_with(' '), "Bravo was read: {s}");
}

/// The saved offset is stale (the post was edited between sessions): the
/// snippet finds the text where it is now.
#[test]
fn a_saved_position_survives_an_edit_above_it() {
    let dir = blog();
    let mut app = tracked(dir.path(), 100, 30, Reading::default());
    press(&mut app, "<Enter>]]]]]");
    let top = reader_row(&app, 0);
    let changes = app.take_reading_changes().unwrap();
    let text = fixtures::long_post().replacen(
        "# Alpha\n\n",
        &format!(
            "# Alpha\n\n{}",
            "A new introduction, written later.\n\n".repeat(30)
        ),
        1,
    );
    std::fs::write(dir.path().join("alpha.md"), text).unwrap();
    let mut file = StateFile::default();
    file.apply("/blog", &changes, 1);
    let app = tracked(dir.path(), 100, 30, file.reading("/blog"));
    assert_eq!(reader_row(&app, 0), top);
}

/// Not a test on its own: the body of one writer process for
/// `two_processes_writing_lose_nothing`, which runs this test binary twice
/// with `FOLIO_TEST_WRITER` set.
#[test]
fn writer_process() {
    let (Ok(who), Ok(file)) = (
        std::env::var("FOLIO_TEST_WRITER"),
        std::env::var("FOLIO_TEST_STATE"),
    ) else {
        return;
    };
    for i in 0..ROUNDS {
        let changes = folio::state::ReadingChanges {
            posts: vec![(
                PathBuf::from(format!("{who}-{i}.md")),
                folio::state::Mark {
                    read: true,
                    offset: i,
                    snippet: format!("{who} {i}"),
                },
            )],
            last: Some(PathBuf::from(format!("{who}-{i}.md"))),
            ..Default::default()
        };
        let at = folio::state::now_ms();
        let warning = folio::state::save(Path::new(&file), "/blog", &[(changes, at)]).unwrap();
        assert_eq!(warning, None, "the file never needed setting aside");
    }
}

const ROUNDS: usize = 80;

/// Two folio processes saving at once (as two readers of one blog would):
/// the file always parses and no entry is lost.
#[test]
fn two_processes_writing_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("folio").join("state.yaml");
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = ["one", "two"]
        .into_iter()
        .map(|who| {
            std::process::Command::new(&exe)
                .args(["--exact", "writer_process", "--test-threads=1"])
                .env("FOLIO_TEST_WRITER", who)
                .env("FOLIO_TEST_STATE", &file)
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    // Meanwhile the file, whenever it exists, parses.
    let mut reads = 0;
    let mut children = children;
    while children.iter_mut().any(|c| c.try_wait().unwrap().is_none()) {
        if let Ok(text) = std::fs::read_to_string(&file) {
            serde_yaml::from_str::<StateFile>(&text).expect("a whole file, always");
            reads += 1;
        }
    }
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let (state, warning) = StateFile::load(&file);
    assert_eq!(warning, None);
    let reading = state.reading("/blog");
    assert_eq!(reading.posts.len(), 2 * ROUNDS, "after {reads} reads");
    for who in ["one", "two"] {
        for i in 0..ROUNDS {
            let mark = &reading.posts[Path::new(&format!("{who}-{i}.md"))];
            assert_eq!(mark.snippet, format!("{who} {i}"));
        }
    }
}

/// A post shown with mis-decoded text repaired: the saved place is in the
/// repaired text, and found again next time.
#[test]
fn a_place_in_a_repaired_post_is_found_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("---\ntitle: Mojibake\n---\n\n");
    for i in 1..=40 {
        let _ = write!(
            text,
            "Paragraph {i} â€” itâ€™s long enough to wrap at the widths used here, more or less.\n\n"
        );
    }
    std::fs::write(dir.path().join("m.md"), text).unwrap();
    let mut app = tracked(dir.path(), 100, 30, Reading::default());
    // 21 lines into the body, below the post header's four.
    press(&mut app, "<Enter>25j");
    let top = reader_row(&app, 0);
    assert!(top.contains('—'), "repaired: {top}");
    let changes = app.take_reading_changes().unwrap();
    let mark = &changes.posts[0].1;
    assert!(
        mark.snippet.contains('—') || mark.snippet.contains('’'),
        "{mark:?}"
    );
    let mut file = StateFile::default();
    file.apply("/m", &changes, 1);
    let app = tracked(dir.path(), 100, 30, file.reading("/m"));
    assert_eq!(reader_row(&app, 0), top);
}
