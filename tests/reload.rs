//! The post list and post files changing under a running app (live reload),
//! through `update()`: the selection and the reading position stay with the
//! same post and the same text.

#[path = "support/fixtures.rs"]
mod fixtures;

use std::path::{Path, PathBuf};

use fixtures::{app_for, blog, long_post, press, reader_row, screen};
use folio::action::{Action, Report};
use folio::app::App;
use folio::posts;

/// What the watcher does on a change: the folder scanned again, and all
/// the app then asks for done.
fn rescan(app: &mut App, dir: &Path) {
    app.report(Report::PostsChanged(posts::scan(dir).unwrap()));
    folio::work::settle(app);
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
    app.report(Report::PostsChanged(Vec::new()));
    folio::work::settle(&mut app);
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
    app.report(Report::PostChanged(PathBuf::from("alpha.md")));
    folio::work::settle(&mut app);
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
    app.report(Report::PostsChanged(posts::scan(dir.path()).unwrap()));
    app.report(Report::PostChanged(PathBuf::from("bravo.md")));
    folio::work::settle(&mut app);
    let s = screen(&app);
    assert!(s.contains("Frontmatter error"), "{s}");
    std::fs::write(
        dir.path().join("bravo.md"),
        "---\ntitle: Bravo\ndate: 2025-02-01\n---\n\nNow finished.\n",
    )
    .unwrap();
    app.report(Report::PostsChanged(posts::scan(dir.path()).unwrap()));
    app.report(Report::PostChanged(PathBuf::from("bravo.md")));
    folio::work::settle(&mut app);
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
            line: Some(1),
        }]
    );
    assert!(app.take_effects().is_empty(), "asked once");
}

/// The line of `file` that holds `text`, 1-based.
fn line_of(file: &str, text: &str) -> usize {
    let at = file.find(text).unwrap();
    1 + file[..at].matches('\n').count()
}

#[test]
fn e_asks_for_the_line_at_the_top_of_the_reader() {
    let dir = blog();
    let mut app = app_for(dir.path(), 100, 30);
    press(&mut app, "<Enter>]]]]]");
    let top = reader_row(&app, 0);
    assert!(top.contains("Three"), "{top}");
    press(&mut app, "e");
    let source = std::fs::read_to_string(dir.path().join("alpha.md")).unwrap();
    let want = line_of(&source, "## Three");
    assert!(want > 40, "past the frontmatter and the first sections");
    assert_eq!(
        app.take_effects(),
        [folio::action::Effect::Edit {
            key: PathBuf::from("alpha.md"),
            file: dir.path().join("alpha.md"),
            line: Some(want),
        }]
    );
    // Down to the second row of a wrapped paragraph: the line it comes from.
    let mut top = String::new();
    for _ in 0..10 {
        press(&mut app, "j");
        top = reader_row(&app, 0);
        if !top.trim().is_empty() && !top.contains("Paragraph") && !top.contains("Three") {
            break;
        }
    }
    let words = top.split_whitespace().take(4).collect::<Vec<_>>().join(" ");
    assert!(!words.is_empty() && !words.contains("Paragraph"), "{top:?}");
    press(&mut app, "e");
    let Some(folio::action::Effect::Edit {
        line: Some(line), ..
    }) = app.take_effects().pop()
    else {
        panic!("no edit asked");
    };
    let shown = source.lines().nth(line - 1).unwrap();
    assert!(
        shown.contains(&words),
        "line {line} is {shown:?}, the top row {top:?}"
    );
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

// --- the list filling in at start (the folder read in the background) -------

/// An app whose folder is being read: no posts yet, more to come.
fn reading_app() -> folio::app::App {
    let mut app = folio::app::App::new(
        Vec::new(),
        folio::theme::Theme::default(),
        folio::keymap::Keymap::default(),
        folio::app::Options::default(),
    );
    app.update(Action::Resize(100, 30));
    app.report(Report::PostsRead {
        posts: Vec::new(),
        done: false,
    });
    folio::work::settle(&mut app);
    app
}

fn read(app: &mut folio::app::App, batch: &[posts::Post], done: bool) {
    app.report(Report::PostsRead {
        posts: batch.to_vec(),
        done,
    });
    folio::work::settle(app);
}

fn status(app: &folio::app::App) -> String {
    screen(app).lines().last().unwrap_or_default().to_owned()
}

#[test]
fn while_reading_there_is_no_empty_folder_screen() {
    let mut app = reading_app();
    let s = screen(&app);
    assert!(s.contains("Reading posts…"), "{s}");
    assert!(!s.contains("No posts here yet"), "{s}");
    assert!(status(&app).contains("reading posts… 0"), "{s}");
    // Keys on the empty list while reading do nothing, and break nothing.
    press(&mut app, "jGk<Enter><Tab>");
    read(&mut app, &[], false);
    assert!(!screen(&app).contains("No posts here yet"));
    // Only the end of reading says the folder is empty.
    read(&mut app, &[], true);
    let s = screen(&app);
    assert!(s.contains("No posts here yet"), "{s}");
    assert!(!s.contains("reading posts"), "{s}");
    assert_eq!(app.scanning(), None);
}

/// A folder of `n` posts, one a day (post 0 the oldest).
fn daily(n: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..n {
        let text = format!(
            "---\ntitle: Day {i}\ndate: 2024-{:02}-{:02}\n---\n\nText of day {i}.\n",
            1 + i / 28,
            1 + i % 28
        );
        std::fs::write(dir.path().join(format!("day-{i}.md")), text).unwrap();
    }
    dir
}

#[test]
fn batches_keep_the_selection_on_the_chosen_post_and_row() {
    let dir = daily(60);
    let all = posts::scan(dir.path()).unwrap();
    let mut app = reading_app();
    // The older posts first: the list shows them, the first selected.
    read(&mut app, &all[30..50], false);
    assert_eq!(app.selected_post().unwrap().title, all[30].title);
    press(&mut app, "5j");
    let chosen = all[35].title.clone();
    assert_eq!(app.selected_post().unwrap().title, chosen);
    let row_of = |s: &str| {
        s.lines()
            .position(|l| l.contains(&format!("{chosen}\u{20}")) || l.ends_with(&chosen))
    };
    let row_before = row_of(&screen(&app)).unwrap();
    assert!(
        status(&app).contains("reading posts… 20"),
        "{}",
        status(&app)
    );
    // Newer posts arrive above it: the selection stays on its post, on its
    // row, and the list stays in order.
    read(&mut app, &all[..30], false);
    assert_eq!(titles_of(app.posts()), titles_of(&all[..50]));
    assert_eq!(app.selected_post().unwrap().title, chosen);
    assert_eq!(app.selected(), Some(35));
    let s = screen(&app);
    assert_eq!(row_of(&s), Some(row_before), "{s}");
    assert!(status(&app).contains("reading posts… 50"), "{s}");
    // Keys work between batches.
    press(&mut app, "k");
    let chosen = all[34].title.clone();
    assert_eq!(app.selected_post().unwrap().title, chosen);
    // The last batch: the whole list, as a scan gives it.
    read(&mut app, &all[50..], true);
    assert_eq!(app.posts(), &all[..]);
    assert_eq!(app.selected_post().unwrap().title, chosen);
    assert_eq!(app.scanning(), None);
    let status = status(&app);
    assert!(
        status.contains("post 35/60") && !status.contains("reading"),
        "{status}"
    );
}

fn titles_of(posts: &[posts::Post]) -> Vec<String> {
    posts.iter().map(|p| p.title.clone()).collect()
}

#[test]
fn untouched_the_newest_post_stays_selected() {
    let dir = blog();
    let all = posts::scan(dir.path()).unwrap();
    let mut app = reading_app();
    read(&mut app, &all[3..], false);
    read(&mut app, &all[1..3], false);
    read(&mut app, &all[..1], true);
    assert_eq!(app.selected(), Some(0));
    let s = screen(&app);
    assert!(s.contains(&all[0].title), "{s}");
    assert_eq!(app.posts(), &all[..]);
}

fn reopening(last: &str) -> Report {
    Report::RestoreReading(Box::new(folio::state::Reading {
        posts: std::collections::HashMap::new(),
        last: Some(PathBuf::from(last)),
        ..Default::default()
    }))
}

#[test]
fn the_last_post_reopens_when_it_arrives_late() {
    let dir = blog();
    let all = posts::scan(dir.path()).unwrap();
    let bravo = all.iter().position(|p| p.title == "Bravo").unwrap();
    let (with, without): (Vec<_>, Vec<_>) = all.iter().cloned().partition(|p| p.title == "Bravo");
    let mut app = reading_app();
    app.report(reopening("bravo.md"));
    read(&mut app, &without[..2], false);
    assert_eq!(app.focus(), folio::app::Focus::List);
    read(&mut app, &without[2..], false);
    read(&mut app, &with, false);
    assert_eq!(app.focus(), folio::app::Focus::Reader);
    assert_eq!(app.selected(), Some(bravo));
    assert!(screen(&app).contains("Just one paragraph about bravo."));
    read(&mut app, &[], true);
    assert_eq!(app.selected_post().unwrap().title, "Bravo");
}

#[test]
fn a_key_before_the_last_post_arrives_keeps_the_person_where_they_are() {
    let dir = blog();
    let all = posts::scan(dir.path()).unwrap();
    let (with, without): (Vec<_>, Vec<_>) = all.iter().cloned().partition(|p| p.title == "Bravo");
    let mut app = reading_app();
    app.report(reopening("bravo.md"));
    read(&mut app, &without, false);
    press(&mut app, "j");
    let chosen = app.selected_post().unwrap().title.clone();
    read(&mut app, &with, true);
    assert_eq!(app.focus(), folio::app::Focus::List);
    assert_eq!(app.selected_post().unwrap().title, chosen);
}

#[test]
fn a_reload_while_reading_replaces_the_list_and_later_batches_are_dropped() {
    let dir = blog();
    let all = posts::scan(dir.path()).unwrap();
    let mut app = reading_app();
    app.report(reopening("echo.md"));
    read(&mut app, &all[..2], false);
    app.report(Report::PostsChanged(all.clone()));
    folio::work::settle(&mut app);
    assert_eq!(app.scanning(), None);
    assert_eq!(
        app.selected_post().unwrap().rel_path,
        PathBuf::from("echo.md")
    );
    assert_eq!(app.focus(), folio::app::Focus::Reader);
    read(&mut app, &all[2..], false);
    read(&mut app, &[], true);
    assert_eq!(app.posts(), &all[..], "no post listed twice");
}

#[test]
fn a_filter_typed_while_reading_ranks_the_new_posts_and_esc_goes_back() {
    let dir = daily(60);
    let all = posts::scan(dir.path()).unwrap();
    let mut app = reading_app();
    read(&mut app, &all[30..], false);
    press(&mut app, "jj");
    let chosen = app.selected_post().unwrap().title.clone();
    press(&mut app, "/Day 1");
    read(&mut app, &all[..30], false);
    // The newer posts that match are ranked in.
    let shown: Vec<String> = (0..app.view_len())
        .map(|pos| app.posts()[app.view_at(pos).unwrap()].title.clone())
        .collect();
    assert!(shown.iter().any(|t| t == "Day 51"), "{shown:?}");
    press(&mut app, "<Esc>");
    assert_eq!(app.selected_post().unwrap().title, chosen);
}
