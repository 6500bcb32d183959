//! Search in a post, the list filter and the search across all posts,
//! through `App::update` and `TestBackend`: keys in, screen out.

#[path = "support/fixtures.rs"]
mod fixtures;

use std::fmt::Write as _;
use std::path::Path;

use fixtures::{app_for, blog, press, reader_row, render, screen};
use folio::action::{Action, Command, Edit, Report};
use folio::app::{App, Focus, Overlay, Prompt};
use folio::search::Hit;
use folio::theme::Theme;

/// A folder with one post made for searching: a needle in several cases,
/// a long paragraph that wraps, and a last needle far below the first
/// screen.
fn haystack() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut s = String::from(
        "---\ntitle: Haystack\ndate: 2025-04-01\n---\n\n# Haystack\n\nThe needle hides here. A second Needle sits in this sentence, and a third NEEDLE shouts.\n\n",
    );
    s.push_str(
        "This long paragraph goes on and on so that it wraps at any width a reader would use: \
         the quick brown fox jumps over the lazy dog, again and again, until the line is full \
         and the words must continue on the next line of the screen.\n\n",
    );
    for i in 1..=40 {
        let _ = write!(s, "Filler paragraph {i}.\n\n");
    }
    s.push_str("At the very bottom, the last needle.\n");
    std::fs::write(dir.path().join("haystack.md"), s).unwrap();
    dir
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        app.update(Action::Edit(Edit::Insert(c)));
    }
}

/// Opens the only post of `dir` in the reader and searches for `query`
/// through `update`, as the keys `/`, the text and `Enter` would.
fn search_post(dir: &Path, width: u16, height: u16, query: &str) -> App {
    let mut app = app_for(dir, width, height);
    app.update(Action::Command(Command::Open));
    app.update(Action::Command(Command::Search));
    assert_eq!(app.prompt(), Some(Prompt::Find));
    type_text(&mut app, query);
    app.update(Action::Edit(Edit::Accept));
    assert_eq!(app.prompt(), None);
    app
}

fn status(app: &App) -> String {
    screen(app).lines().last().unwrap_or_default().to_owned()
}

/// The text of the reader cells drawn in `style`'s background, row by row.
fn highlighted(app: &App, bg: ratatui::style::Color) -> Vec<String> {
    let buf = render(app);
    let text = app.panes().text;
    let mut out = Vec::new();
    for y in text.y..text.bottom() {
        let mut run = String::new();
        for x in text.x..text.right() {
            if buf[(x, y)].bg == bg {
                run.push_str(buf[(x, y)].symbol());
            } else if !run.is_empty() {
                out.push(std::mem::take(&mut run));
            }
        }
        if !run.is_empty() {
            out.push(run);
        }
    }
    out
}

#[test]
fn smart_case_counts_and_highlights_every_match() {
    let dir = haystack();
    let theme = Theme::default();
    let app = search_post(dir.path(), 100, 30, "needle");
    assert_eq!(app.find_count(), Some((Some(1), 4)));
    assert!(status(&app).contains("1/4"), "{}", status(&app));
    let current = highlighted(&app, theme.ui.search_current.bg.unwrap());
    assert_eq!(current, ["needle"]);
    let others = highlighted(&app, theme.ui.search_match.bg.unwrap());
    assert_eq!(others, ["Needle", "NEEDLE"], "the fourth is off screen");

    let app = search_post(dir.path(), 100, 30, "Needle");
    assert_eq!(app.find_count(), Some((Some(1), 1)));
    let app = search_post(dir.path(), 100, 30, "NEEDLE");
    assert_eq!(app.find_count(), Some((Some(1), 1)));
    let app = search_post(dir.path(), 100, 30, "nothing like this");
    assert_eq!(app.find_count(), Some((None, 0)));
    assert!(status(&app).contains("no match"), "{}", status(&app));
}

#[test]
fn a_match_split_by_wrapping_is_found_and_highlighted_on_both_lines() {
    let dir = haystack();
    let app = app_for(dir.path(), 70, 30);
    // Find a line break inside the long paragraph: the last word of one
    // line and the first of the next.
    let mut app = app;
    press(&mut app, "<Enter>");
    let doc = app.document().unwrap();
    let text = |i: usize| -> String { doc.lines.text(i).to_owned() };
    let first = (0..doc.len())
        .find(|&i| text(i).starts_with("This long paragraph"))
        .unwrap();
    let (a, b) = (text(first), text(first + 1));
    let query = format!(
        "{} {}",
        a.split_whitespace().last().unwrap(),
        b.split_whitespace().next().unwrap()
    );
    let app = search_post(dir.path(), 70, 30, &query);
    assert_eq!(app.find_count(), Some((Some(1), 1)), "{query:?}");
    let theme = Theme::default();
    let parts = highlighted(&app, theme.ui.search_current.bg.unwrap());
    assert_eq!(parts.join(" "), query, "both halves are highlighted");
    assert_eq!(parts.len(), 2);
}

#[test]
fn n_and_shift_n_step_through_matches_wrapping_and_bring_them_into_view() {
    let dir = haystack();
    let mut app = search_post(dir.path(), 100, 20, "needle");
    assert_eq!(app.reader_top(), 0);
    press(&mut app, "nn");
    assert_eq!(app.find_count(), Some((Some(3), 4)));
    assert_eq!(app.reader_top(), 0, "the third match is on screen already");
    press(&mut app, "n");
    assert_eq!(app.find_count(), Some((Some(4), 4)));
    assert!(app.reader_top() > 0, "scrolled to the last match");
    assert!(
        (0..19).any(|r| reader_row(&app, r).contains("the last needle")),
        "{}",
        screen(&app)
    );
    press(&mut app, "n");
    assert_eq!(app.find_count(), Some((Some(1), 4)));
    assert_eq!(app.message(), Some("Search wrapped to the top"));
    assert_eq!(app.reader_top(), 0);
    press(&mut app, "N");
    assert_eq!(app.find_count(), Some((Some(4), 4)));
    assert_eq!(app.message(), Some("Search wrapped to the bottom"));
    // A count repeats.
    press(&mut app, "2n");
    assert_eq!(app.find_count(), Some((Some(2), 4)));
    // Esc clears the search, a second Esc goes back to the list.
    press(&mut app, "<Esc>");
    assert_eq!(app.find_count(), None);
    assert_eq!(app.focus(), Focus::Reader);
    let theme = Theme::default();
    assert!(highlighted(&app, theme.ui.search_match.bg.unwrap()).is_empty());
    press(&mut app, "<Esc>");
    assert_eq!(app.focus(), Focus::List);
}

#[test]
fn typing_is_incremental_digits_are_text_and_esc_restores_the_view() {
    let dir = haystack();
    let mut app = app_for(dir.path(), 100, 20);
    press(&mut app, "<Enter>G");
    let top = app.reader_top();
    assert!(top > 0);
    press(&mut app, "/filler paragraph 1");
    assert_eq!(app.prompt(), Some(Prompt::Find));
    assert_eq!(app.find().text, "filler paragraph 1");
    assert_eq!(app.pending_count(), None, "digits went into the prompt");
    // 1, 10..19: eleven matches, the first brought into view.
    assert_eq!(app.find_count(), Some((Some(1), 11)));
    assert!(
        status(&app).contains("/filler paragraph 1"),
        "{}",
        status(&app)
    );
    assert!(screen(&app).contains("Filler paragraph 1."));
    press(&mut app, "2");
    assert_eq!(app.find_count(), Some((Some(1), 1)));
    press(&mut app, "<Esc>");
    assert_eq!(app.prompt(), None);
    assert_eq!(app.find_count(), None);
    assert_eq!(app.reader_top(), top, "Esc puts the view back");
    // Keys are commands again.
    press(&mut app, "g");
    assert_eq!(app.reader_top(), 0);
}

#[test]
fn the_search_follows_the_layout_when_the_width_changes() {
    let dir = haystack();
    let mut app = search_post(dir.path(), 100, 30, "lazy dog");
    assert_eq!(app.find_count(), Some((Some(1), 1)));
    for width in [40, 61, 120] {
        app.update(Action::Resize(width, 30));
        folio::work::settle(&mut app);
        assert_eq!(app.find_count().map(|c| c.1), Some(1), "width {width}");
        let theme = Theme::default();
        let parts = highlighted(&app, theme.ui.search_current.bg.unwrap());
        assert_eq!(parts.join(" "), "lazy dog", "width {width}");
    }
}

#[test]
fn search_highlights_snapshot() {
    let dir = haystack();
    let app = search_post(dir.path(), 60, 8, "needle");
    // The Debug of a buffer lists its text and every style run: the current
    // match and the others must show in their own colours.
    insta::assert_snapshot!("find_highlights", format!("{:?}", render(&app)));
}

// --- the list filter ------------------------------------------------------

/// A folder for ranking: the word "rust" in a title, a tag, an excerpt.
fn shelf() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write(
        "a.md",
        "---\ntitle: Notes on parsing\ndate: 2025-05-01\ntags: [python]\nexcerpt: A word about rust at the end.\n---\n\nParsing.\n",
    );
    write(
        "b.md",
        "---\ntitle: Rust error handling\ndate: 2025-04-01\ntags: [Rust, cli]\nexcerpt: Results and errors.\n---\n\nErrors.\n",
    );
    write(
        "c.md",
        "---\ntitle: Cooking for one\ndate: 2025-03-01\ntags: [food]\nexcerpt: Nothing here.\n---\n\nSoup.\n",
    );
    write(
        "d.md",
        "---\ntitle: Trusty tools\ndate: 2025-02-01\ntags: [cli]\nexcerpt: Hammers.\n---\n\nTools.\n",
    );
    dir
}

fn titles(app: &App) -> Vec<String> {
    (0..app.view_len())
        .map(|p| app.posts()[app.view_at(p).unwrap()].title.clone())
        .collect()
}

#[test]
fn filter_ranks_title_over_tag_over_excerpt_and_keeps_with_enter() {
    let dir = shelf();
    let mut app = app_for(dir.path(), 100, 30);
    app.update(Action::Command(Command::Search));
    assert_eq!(app.prompt(), Some(Prompt::Filter));
    type_text(&mut app, "rust");
    assert_eq!(
        titles(&app),
        ["Rust error handling", "Trusty tools", "Notes on parsing"]
    );
    assert_eq!(app.selected_post().unwrap().title, "Rust error handling");
    assert!(status(&app).contains("3/4 posts"), "{}", status(&app));
    app.update(Action::Edit(Edit::Accept));
    assert_eq!(app.prompt(), None);
    assert!(
        status(&app).contains("/rust"),
        "the status shows the kept filter"
    );
    // Moving, J and K work in the filtered list.
    press(&mut app, "j");
    assert_eq!(app.selected_post().unwrap().title, "Trusty tools");
    press(&mut app, "G");
    assert_eq!(app.selected_post().unwrap().title, "Notes on parsing");
    press(&mut app, "K");
    assert_eq!(app.selected_post().unwrap().title, "Trusty tools");
    assert_eq!(app.focus(), Focus::Reader);
    press(&mut app, "<Esc><Esc>");
    assert_eq!(app.focus(), Focus::List);
    // Esc in the list drops the kept filter and keeps the selection.
    press(&mut app, "<Esc>");
    assert!(app.filter().is_none());
    assert_eq!(app.view_len(), 4);
    assert_eq!(app.selected_post().unwrap().title, "Trusty tools");
}

#[test]
fn filter_tags_smart_case_and_esc_while_typing() {
    let dir = shelf();
    let mut app = app_for(dir.path(), 100, 30);
    press(&mut app, "j/#RUST");
    assert_eq!(titles(&app), ["Rust error handling"]);
    press(&mut app, "<C-u>#cli");
    assert_eq!(titles(&app), ["Rust error handling", "Trusty tools"]);
    press(&mut app, " ham");
    assert_eq!(titles(&app), ["Trusty tools"], "excerpt words count");
    press(&mut app, "<C-u>Rust");
    assert_eq!(
        titles(&app),
        ["Rust error handling"],
        "a capital: case matters"
    );
    press(&mut app, "<C-u>zzzz");
    assert!(titles(&app).is_empty());
    assert!(screen(&app).contains("No posts match"));
    press(&mut app, "<Esc>");
    assert!(app.filter().is_none());
    assert_eq!(
        app.selected_post().unwrap().title,
        "Rust error handling",
        "Esc while typing restores the selection"
    );
}

#[test]
fn filter_highlights_snapshot() {
    let dir = shelf();
    let mut app = app_for(dir.path(), 70, 9);
    press(&mut app, "/rust");
    insta::assert_snapshot!("filter_highlights", format!("{:?}", render(&app)));
}

// --- the search across all posts -----------------------------------------

#[test]
fn search_all_lists_lines_and_opens_the_post_at_the_match() {
    let dir = blog();
    let mut app = app_for(dir.path(), 100, 30);
    press(&mut app, "S");
    assert_eq!(app.overlay(), Some(Overlay::SearchAll));
    press(&mut app, "section Four");
    let sa = app.search_all();
    assert!(sa.done);
    assert_eq!(sa.results.len(), 4, "{:?}", sa.results);
    let s = screen(&app);
    assert!(s.contains("4 matching lines in 5 posts"), "{s}");
    assert!(s.contains("2025-03-01 Alpha: a long post"), "{s}");
    assert!(s.contains("Paragraph 3 of section Four."), "{s}");
    press(&mut app, "<Down><Down>");
    assert_eq!(app.search_all().selected, 2);
    press(&mut app, "<Enter>");
    assert_eq!(app.overlay(), None);
    assert_eq!(app.focus(), Focus::Reader);
    assert_eq!(app.selected_post().unwrap().title, "Alpha: a long post");
    // The reader shows the third paragraph of section Four, with the query
    // as the in-post search, its match current.
    let rows: Vec<String> = (0..29).map(|r| reader_row(&app, r)).collect();
    assert!(
        rows.iter()
            .any(|r| r.contains("Paragraph 3 of section Four")),
        "{rows:#?}"
    );
    assert!(app.reader_top() > 0);
    assert_eq!(app.find().text, "section Four");
    assert_eq!(app.find_count(), Some((Some(3), 4)));
    let theme = Theme::default();
    assert_eq!(
        highlighted(&app, theme.ui.search_current.bg.unwrap()),
        ["section Four"]
    );
    // S again shows the same results; Esc closes.
    press(&mut app, "S");
    assert_eq!(app.search_all().results.len(), 4);
    press(&mut app, "<Esc>");
    assert_eq!(app.overlay(), None);
}

#[test]
fn search_all_drops_stale_results_and_caps_what_it_keeps() {
    let dir = blog();
    let mut app = app_for(dir.path(), 100, 30);
    press(&mut app, "S");
    app.update(Action::Edit(Edit::Insert('x')));
    let old = app.pending_search().expect("a job for x");
    app.update(Action::Edit(Edit::Insert('y')));
    let new = app.pending_search().expect("a job for xy");
    assert!(new.generation > old.generation);
    assert!(app.pending_search().is_none(), "asked once per query");
    let hit = |n: usize| Hit {
        index: 0,
        rel_path: "alpha.md".into(),
        offset: n,
        line: 1,
        before: String::new(),
        matched: "xy".into(),
        after: String::new(),
    };
    app.report(Report::SearchResults {
        generation: old.generation,
        hits: vec![hit(1)],
        scanned: 5,
        done: true,
    });
    assert!(
        app.search_all().results.is_empty(),
        "stale results are dropped"
    );
    assert!(!app.search_all().done);
    let many: Vec<Hit> = (0..folio::search::MAX_RESULTS + 10).map(hit).collect();
    app.report(Report::SearchResults {
        generation: new.generation,
        hits: many,
        scanned: 5,
        done: true,
    });
    assert_eq!(app.search_all().results.len(), folio::search::MAX_RESULTS);
    assert!(app.search_all().capped());
    assert!(
        screen(&app).contains("only the first 1000 are kept"),
        "{}",
        screen(&app)
    );
}

#[test]
fn search_all_reads_the_built_in_posts_from_memory() {
    let mut app = App::new(
        folio::posts::embedded(),
        Theme::default(),
        folio::keymap::Keymap::default(),
        folio::app::Options::default(),
    );
    app.update(Action::Resize(100, 30));
    folio::work::settle(&mut app);
    press(&mut app, "Sfull text of every post");
    assert!(
        !app.search_all().results.is_empty(),
        "the keys guide mentions the search across posts"
    );
}

#[test]
fn search_all_snapshot() {
    let dir = blog();
    let mut app = app_for(dir.path(), 70, 12);
    press(&mut app, "Sbravo");
    insta::assert_snapshot!("search_all", format!("{:?}", render(&app)));
}
