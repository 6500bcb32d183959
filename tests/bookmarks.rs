//! Bookmarks through `update()`: `B` keeps the place on screen, `'` lists
//! the places of all posts, `Enter` opens one there and `d` deletes one;
//! they are saved with the reading state and found again after a restart,
//! an edit and a change of width.

#[path = "support/fixtures.rs"]
mod fixtures;

use std::path::Path;

use fixtures::{app_for, blog, press, reader_row, screen};
use folio::action::Report;
use folio::app::{App, Overlay};
use folio::state::{Reading, StateFile};

fn tracked(dir: &Path, width: u16, height: u16, reading: Reading) -> App {
    let mut app = app_for(dir, width, height);
    app.report(Report::RestoreReading(Box::new(reading)));
    folio::work::settle(&mut app);
    app
}

#[test]
fn a_bookmark_is_kept_across_a_restart_and_opens_at_its_place() {
    let dir = blog();
    let state = tempfile::tempdir().unwrap();
    let file = state.path().join("state.yaml");
    let mut app = tracked(dir.path(), 100, 30, Reading::default());
    // Alpha, at its third section's second paragraph.
    press(&mut app, "<Enter>]]]]2j");
    let top = reader_row(&app, 0);
    assert!(
        top.contains("Paragraph 1 of section Two point two"),
        "{top}"
    );
    press(&mut app, "B");
    assert_eq!(app.message(), Some("Bookmarked; ' lists the bookmarks"));
    let changes = app.take_reading_changes().unwrap();
    let (post, places) = &changes.bookmarks[0];
    assert_eq!(post, Path::new("alpha.md"));
    assert_eq!(places[0].heading, "Two point two");
    assert!(
        places[0]
            .words
            .starts_with("Paragraph 1 of section Two point two")
    );
    folio::state::save(&file, "/blog", &[(changes, 1)]).unwrap();

    // The post is edited above the place, and folio starts again, narrower.
    let alpha = dir.path().join("alpha.md");
    let text = std::fs::read_to_string(&alpha).unwrap();
    let edited = text.replacen(
        "## One\n\n",
        "## One\n\nA new paragraph.\n\nAnd another.\n\n",
        1,
    );
    std::fs::write(&alpha, edited).unwrap();
    let (saved, warning) = StateFile::load(&file);
    assert_eq!(warning, None);
    let mut app = tracked(dir.path(), 80, 24, saved.reading("/blog"));
    // Alpha reopens (the post read last); its top, then the list.
    press(&mut app, "g");
    let start = reader_row(&app, 0);
    press(&mut app, "'");
    assert_eq!(app.overlay(), Some(Overlay::Bookmarks { selected: 0 }));
    let s = screen(&app);
    assert!(s.contains("Bookmarks (1)"), "{s}");
    assert!(s.contains("Alpha: a long post"), "{s}");
    assert!(s.contains("2025-03-01"), "{s}");
    assert!(
        s.contains("Two point two › Paragraph 1 of section Two point two"),
        "{s}"
    );
    press(&mut app, "<Enter>");
    assert_eq!(app.overlay(), None);
    assert_eq!(app.selected_post().unwrap().title, "Alpha: a long post");
    let top = reader_row(&app, 0);
    assert!(
        top.contains("Paragraph 1 of section Two point two"),
        "{top}"
    );
    // H goes back to where the list was opened from.
    press(&mut app, "H");
    assert_eq!(reader_row(&app, 0), start);
}

#[test]
fn b_at_a_bookmark_removes_it_and_d_deletes_from_the_list() {
    let dir = blog();
    let mut app = tracked(dir.path(), 100, 30, Reading::default());
    press(&mut app, "'");
    assert_eq!(
        app.message(),
        Some("No bookmarks yet: B bookmarks the place on screen")
    );
    press(&mut app, "<Enter>10jB");
    press(&mut app, "10jB");
    assert_eq!(app.bookmark_rows().len(), 2);
    // The same place again: removed.
    press(&mut app, "B");
    assert_eq!(app.message(), Some("Bookmark removed"));
    assert_eq!(app.bookmark_rows().len(), 1);
    let _ = app.take_reading_changes();
    press(&mut app, "'d");
    assert_eq!(app.message(), Some("Bookmark deleted"));
    assert_eq!(app.overlay(), None, "the list closes once empty");
    assert!(app.bookmark_rows().is_empty());
    let changes = app.take_reading_changes().unwrap();
    assert_eq!(changes.bookmarks.len(), 1);
    assert!(changes.bookmarks[0].1.is_empty(), "saved as none left");
}

/// Without reading state (as for a visitor of `folio serve`), bookmarks
/// work for the session and nothing is handed out to save.
#[test]
fn without_reading_state_bookmarks_last_for_the_session() {
    let dir = blog();
    let mut app = app_for(dir.path(), 100, 30);
    press(&mut app, "<Enter>5jB");
    assert_eq!(app.bookmark_rows().len(), 1);
    assert_eq!(app.take_reading_changes(), None);
    let top = reader_row(&app, 0);
    press(&mut app, "gJ'");
    assert_eq!(app.selected_post().unwrap().title, "Bravo");
    press(&mut app, "<Enter>");
    assert_eq!(app.selected_post().unwrap().title, "Alpha: a long post");
    assert_eq!(reader_row(&app, 0), top);
}
