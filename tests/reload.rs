//! The post list and post files changing under a running app (live reload),
//! through `update()`: the selection and the reading position stay with the
//! same post and the same text.

#[path = "support/fixtures.rs"]
mod fixtures;

use std::path::{Path, PathBuf};

use fixtures::{app_for, blog, long_post, press, reader_row, screen};
use folio::action::Action;
use folio::app::App;
use folio::posts;

/// What the watcher does on a change: the folder scanned again, and all
/// the app then asks for done.
fn rescan(app: &mut App, dir: &Path) {
    app.update(Action::PostsChanged(posts::scan(dir).unwrap()));
    folio::term::settle(app);
}

#[test]
fn a_new_post_appears_and_the_selection_stays_on_its_post() {
    let dir = blog();
    let mut app = app_for(dir.path(), 100, 30);
    press(&mut app, "j");
    assert_eq!(app.selected_post().unwrap().title, "Bravo");
    std::fs::write(
        dir.path().join("newest.md"),
        "---\ntitle: Brand new\ndate: 2026-01-01\n---\n\nFresh text.\n",
    )
    .unwrap();
    rescan(&mut app, dir.path());
    assert_eq!(app.selected_post().unwrap().title, "Bravo");
    assert_eq!(app.selected(), Some(2), "Bravo moved down one");
    let s = screen(&app);
    assert!(s.contains("2026-01-01 Brand new"), "{s}");
    assert!(s.contains("Just one paragraph about bravo."), "{s}");
}

#[test]
fn a_deleted_post_disappears_and_the_next_one_is_selected() {
    let dir = blog();
    let mut app = app_for(dir.path(), 100, 30);
    press(&mut app, "j");
    std::fs::remove_file(dir.path().join("bravo.md")).unwrap();
    rescan(&mut app, dir.path());
    let s = screen(&app);
    assert!(!s.contains("Bravo"), "{s}");
    assert_eq!(app.selected(), Some(1));
    assert_eq!(app.selected_post().unwrap().title, "Charlie the draft");
    assert!(s.contains("Work in progress."), "{s}");
}

#[test]
fn everything_deleted_leaves_the_empty_screen() {
    let dir = blog();
    let mut app = app_for(dir.path(), 100, 30);
    press(&mut app, "<Enter>G");
    app.update(Action::PostsChanged(Vec::new()));
    folio::term::settle(&mut app);
    assert_eq!(app.selected(), None);
    press(&mut app, "jkG<Enter>");
    assert!(screen(&app).contains("No posts"), "{}", screen(&app));
}

#[test]
fn an_edited_post_rerenders_keeping_the_reading_position() {
    let dir = blog();
    let mut app = app_for(dir.path(), 100, 30);
    press(&mut app, "<Enter>]]]]]");
    let top = reader_row(&app, 0);
    assert!(top.contains("Three"), "{top}");
    // Paragraphs added above the reader's place push its text down.
    let mut text = long_post();
    let extra = "An added paragraph, long enough to take a whole line of the reader or more at any width.\n\n".repeat(12);
    text = text.replacen("## One\n\n", &format!("## One\n\n{extra}"), 1);
    std::fs::write(dir.path().join("alpha.md"), text).unwrap();
    app.update(Action::PostChanged(PathBuf::from("alpha.md")));
    folio::term::settle(&mut app);
    assert_eq!(reader_row(&app, 0), top);
    press(&mut app, "g");
    press(&mut app, "]");
    let s = screen(&app);
    assert!(s.contains("An added paragraph"), "{s}");
}

#[test]
fn an_edit_that_breaks_the_frontmatter_shows_the_error_then_recovers() {
    let dir = blog();
    let mut app = app_for(dir.path(), 100, 30);
    press(&mut app, "j<Enter>");
    // Half-written: the frontmatter is not closed yet.
    std::fs::write(dir.path().join("bravo.md"), "---\ntitle: Bra").unwrap();
    app.update(Action::PostsChanged(posts::scan(dir.path()).unwrap()));
    app.update(Action::PostChanged(PathBuf::from("bravo.md")));
    folio::term::settle(&mut app);
    let s = screen(&app);
    assert!(s.contains("Frontmatter error"), "{s}");
    std::fs::write(
        dir.path().join("bravo.md"),
        "---\ntitle: Bravo\ndate: 2025-02-01\n---\n\nNow finished.\n",
    )
    .unwrap();
    app.update(Action::PostsChanged(posts::scan(dir.path()).unwrap()));
    app.update(Action::PostChanged(PathBuf::from("bravo.md")));
    folio::term::settle(&mut app);
    let s = screen(&app);
    assert!(s.contains("Now finished."), "{s}");
    assert!(!s.contains("Frontmatter error"), "{s}");
}

#[test]
fn e_asks_the_runner_to_edit_the_post_file() {
    let dir = blog();
    let mut app = app_for(dir.path(), 100, 30);
    press(&mut app, "je");
    assert_eq!(
        app.take_effects(),
        [folio::action::Effect::Edit {
            key: PathBuf::from("bravo.md"),
            file: dir.path().join("bravo.md"),
        }]
    );
    assert!(app.take_effects().is_empty(), "asked once");
}

#[test]
fn e_is_refused_in_a_remote_session_and_for_built_in_posts() {
    let dir = blog();
    let mut app = folio::app::App::new(
        posts::scan(dir.path()).unwrap(),
        folio::theme::Theme::default(),
        folio::keymap::Keymap::default(),
        folio::app::Options {
            remote: true,
            ..folio::app::Options::default()
        },
    );
    app.update(Action::Resize(100, 30));
    press(&mut app, "<Enter>e");
    assert!(app.take_effects().is_empty());
    assert!(screen(&app).contains("Editing is off in a remote session"));

    let mut app = folio::app::App::new(
        posts::embedded(),
        folio::theme::Theme::default(),
        folio::keymap::Keymap::default(),
        folio::app::Options::default(),
    );
    app.update(Action::Resize(100, 30));
    press(&mut app, "e");
    assert!(app.take_effects().is_empty());
    assert!(screen(&app).contains("built-in posts cannot be edited"));
}

/// A filter kept with Enter stays true to the list: a new post that matches
/// shows up in it, one that does not stays out, and the selection stays.
#[test]
fn a_kept_filter_ranks_the_reloaded_list() {
    let dir = blog();
    let mut app = app_for(dir.path(), 100, 30);
    press(&mut app, "/bravo<Enter>");
    assert_eq!(app.selected_post().unwrap().title, "Bravo");
    for (name, title) in [("later.md", "Bravo again"), ("other.md", "Zulu")] {
        std::fs::write(
            dir.path().join(name),
            format!("---\ntitle: {title}\ndate: 2026-01-01\n---\n\nText.\n"),
        )
        .unwrap();
    }
    rescan(&mut app, dir.path());
    let s = screen(&app);
    assert!(s.contains("Bravo again"), "{s}");
    assert!(!s.contains("Zulu") && !s.contains("Alpha"), "{s}");
    assert_eq!(app.selected_post().unwrap().title, "Bravo");
}
