//! The reader's behaviour through `App::update` and `TestBackend`: keys in,
//! screen out.

#[path = "support/fixtures.rs"]
mod fixtures;

use fixtures::{app_for, blog, press, reader_row, render, screen};
use folio::action::{Action, Report, Wheel};
use folio::app::{App, Focus, Options, Overlay};
use folio::keymap::Keymap;
use folio::theme::Theme;

fn top_of(app: &App) -> usize {
    app.reader_top()
}

fn heading_line(app: &App, text: &str) -> usize {
    app.document()
        .unwrap()
        .headings
        .iter()
        .find(|h| h.text == text)
        .unwrap_or_else(|| panic!("no heading {text}"))
        .line
}

#[test]
fn first_screen_lists_posts_newest_first_and_previews_the_first() {
    let dir = blog();
    let app = app_for(dir.path(), 100, 30);
    let s = screen(&app);
    let alpha = s.find("Alpha: a long post").expect("alpha listed");
    let bravo = s.find("Bravo").expect("bravo listed");
    let charlie = s.find("Charlie the draft").expect("charlie listed");
    assert!(alpha < bravo && bravo < charlie, "{s}");
    assert!(s.contains("2025-03-01"), "{s}");
    assert!(s.contains("✎ Charlie the draft"), "draft marker: {s}");
    assert!(s.contains("⚠ Delta"), "error marker: {s}");
    assert!(
        s.contains("The long one, with sections."),
        "excerpt line: {s}"
    );
    // The reader previews the selected post while the list has focus.
    assert!(s.contains("Paragraph 1 of section One"), "{s}");
    assert_eq!(app.focus(), Focus::List);
    insta::assert_snapshot!("first_screen", s);
}

#[test]
fn moving_the_selection_previews_and_keeps_each_posts_position() {
    let dir = blog();
    let mut app = app_for(dir.path(), 100, 30);
    press(&mut app, "<Enter>jjj");
    assert_eq!(top_of(&app), 3);
    press(&mut app, "<Esc>j");
    assert_eq!(app.selected_post().unwrap().title, "Bravo");
    assert!(screen(&app).contains("Just one paragraph about bravo."));
    press(&mut app, "k");
    assert_eq!(app.selected_post().unwrap().title, "Alpha: a long post");
    assert_eq!(top_of(&app), 3, "the reader kept alpha's position");
    press(&mut app, "G");
    assert_eq!(app.selected_post().unwrap().title, "Echo without a date");
    press(&mut app, "g");
    assert_eq!(app.selected(), Some(0));
    press(&mut app, "<Down><Down><Up>");
    assert_eq!(app.selected(), Some(1));
    press(&mut app, "<End>");
    assert_eq!(app.selected(), Some(4));
    press(&mut app, "<Home>");
    assert_eq!(app.selected(), Some(0));
    press(&mut app, "<PageDown>");
    assert_eq!(
        app.selected(),
        Some(4),
        "a page down the short list ends at the last post"
    );
    press(&mut app, "<PageUp>");
    assert_eq!(app.selected(), Some(0));
}

#[test]
fn focus_switches_with_tab_enter_and_esc() {
    let dir = blog();
    let mut app = app_for(dir.path(), 100, 30);
    for (keys, focus) in [
        ("<Tab>", Focus::Reader),
        ("<Tab>", Focus::List),
        ("<S-Tab>", Focus::Reader),
        ("<S-Tab>", Focus::List),
        ("<Enter>", Focus::Reader),
        ("<Esc>", Focus::List),
        ("l", Focus::Reader),
        ("h", Focus::List),
        ("<Right>", Focus::Reader),
        ("<Left>", Focus::List),
    ] {
        press(&mut app, keys);
        assert_eq!(app.focus(), focus, "after {keys}");
    }
}

#[test]
fn every_scrolling_key_moves_the_reader() {
    let dir = blog();
    let mut app = app_for(dir.path(), 100, 30);
    let height = usize::from(app.panes().text.height);
    let len = app.document().unwrap().len();
    assert!(len > 3 * height, "the fixture is several pages long");
    press(&mut app, "<Enter>");
    let cases: &[(&str, usize)] = &[
        ("j", 1),
        ("<Down>", 2),
        ("k", 1),
        ("<Up>", 0),
        ("k", 0),
        ("d", height / 2),
        ("u", 0),
        ("<C-d>", height / 2),
        ("<C-u>", 0),
        ("<Space>", height),
        ("f", 2 * height),
        ("b", height),
        ("<PageDown>", 2 * height),
        ("<PageUp>", height),
        ("<C-f>", 2 * height),
        ("<C-b>", height),
        ("g", 0),
        ("G", len - height),
        ("<Home>", 0),
        ("<End>", len - height),
        ("j", len - height),
    ];
    for (keys, top) in cases {
        press(&mut app, keys);
        assert_eq!(top_of(&app), *top, "after {keys}");
    }
}

#[test]
fn count_prefixes_work_as_in_vim() {
    let dir = blog();
    let mut app = app_for(dir.path(), 100, 30);
    press(&mut app, "<Enter>5");
    assert!(
        screen(&app)
            .lines()
            .last()
            .unwrap()
            .trim_end()
            .ends_with('5'),
        "pending count shown"
    );
    press(&mut app, "j");
    assert_eq!(top_of(&app), 5);
    press(&mut app, "12k");
    assert_eq!(top_of(&app), 0);
    // "Alpha" is on the top line already: three jumps pass One and Two.
    press(&mut app, "3]");
    assert_eq!(top_of(&app), heading_line(&app, "Two point one"));
    press(&mut app, "10G");
    assert_eq!(top_of(&app), 9);
    press(&mut app, "g<Esc>2j");
    assert_eq!(app.selected(), Some(2), "counts move the list too");
}

#[test]
fn heading_jumps_put_the_heading_on_the_top_line() {
    let dir = blog();
    let mut app = app_for(dir.path(), 100, 30);
    press(&mut app, "<Enter>");
    assert_eq!(
        heading_line(&app, "Alpha"),
        0,
        "the first heading is on the top line"
    );
    press(&mut app, "]");
    assert_eq!(top_of(&app), heading_line(&app, "One"));
    assert!(
        reader_row(&app, 0).contains("One"),
        "{:?}",
        reader_row(&app, 0)
    );
    press(&mut app, "]]");
    assert!(
        reader_row(&app, 0).contains("Two point one"),
        "{:?}",
        reader_row(&app, 0)
    );
    let status = screen(&app).lines().last().unwrap().to_owned();
    assert!(
        status.contains("Alpha › Two › Two point one"),
        "section path in the status bar: {status}"
    );
    press(&mut app, "[");
    assert!(reader_row(&app, 0).contains("Two"));
    assert_eq!(top_of(&app), heading_line(&app, "Two"));
    press(&mut app, "]]]]]]]]");
    assert_eq!(
        top_of(&app),
        heading_line(&app, "Four"),
        "stops at the last heading"
    );
    assert_eq!(app.message(), Some("no heading below"));
}

#[test]
fn the_outline_lists_headings_and_jumps() {
    let dir = blog();
    let mut app = app_for(dir.path(), 100, 30);
    press(&mut app, "<Enter>]]]o");
    assert_eq!(app.overlay(), Some(Overlay::Outline { selected: 3 }));
    let s = screen(&app);
    assert!(s.contains("Outline"), "{s}");
    assert!(
        s.contains("▸    Two point one"),
        "current heading marked and indented: {s}"
    );
    insta::assert_snapshot!("outline", s);
    press(&mut app, "jj<Enter>");
    assert_eq!(app.overlay(), None);
    assert_eq!(top_of(&app), heading_line(&app, "Three"));
    press(&mut app, "o<Esc>");
    assert_eq!(app.overlay(), None);
    assert_eq!(
        top_of(&app),
        heading_line(&app, "Three"),
        "Esc closes without jumping"
    );
    press(&mut app, "ogk<Enter>");
    assert_eq!(top_of(&app), heading_line(&app, "Alpha"));
}

#[test]
fn narrow_terminals_show_one_pane_at_a_time() {
    let dir = blog();
    let mut app = app_for(dir.path(), 60, 20);
    let s = screen(&app);
    assert!(
        s.contains("Bravo") && !s.contains("Paragraph 1"),
        "list only: {s}"
    );
    press(&mut app, "<Enter>");
    let s = screen(&app);
    assert!(
        !s.contains("Bravo") && s.contains("Paragraph 1 of section One"),
        "reader only: {s}"
    );
    assert_eq!(app.panes().text.width, 58, "full width less the margins");
    insta::assert_snapshot!("narrow_reader", s);
    press(&mut app, "<Esc>");
    assert!(screen(&app).contains("Bravo"));
}

#[test]
fn resizing_keeps_the_same_paragraph_on_top() {
    let dir = blog();
    let mut app = app_for(dir.path(), 120, 30);
    press(&mut app, "<Enter>]]]]");
    assert_eq!(top_of(&app), heading_line(&app, "Two point two"));
    for _ in 0..10 {
        if reader_row(&app, 0).starts_with("Paragraph 1 of section Two point two") {
            break;
        }
        press(&mut app, "j");
    }
    let before = reader_row(&app, 0);
    assert!(
        before.starts_with("Paragraph 1 of section Two point two"),
        "{before}"
    );
    for (w, h) in [(70, 20), (200, 50), (90, 12)] {
        app.update(Action::Resize(w, h));
        let after = reader_row(&app, 0);
        assert!(
            after.starts_with("Paragraph 1 of section Two point two"),
            "at {w}x{h}: {after}"
        );
    }
}

#[test]
fn help_lists_every_key() {
    let dir = blog();
    let mut app = app_for(dir.path(), 100, 40);
    press(&mut app, "?");
    assert_eq!(app.overlay(), Some(Overlay::Help));
    let s = screen(&app);
    // Taller than 40 rows: the rest is a scroll away, and the frame says so.
    assert!(s.contains("j scroll for more"), "{s}");
    press(&mut app, "G");
    assert_eq!(app.overlay(), Some(Overlay::Help));
    let end = screen(&app);
    assert!(
        end.contains("k scroll") && !end.contains("for more"),
        "{end}"
    );
    assert!(end.contains("quit") && end.contains("mouse"), "{end}");
    press(&mut app, "g");
    assert_eq!(screen(&app), s);
    let both = format!("{s}{end}");
    for needle in [
        "Tab",
        "Enter l →",
        "j ↓",
        "Ctrl-d",
        "Space f PageDown Ctrl-f",
        "]",
        "[",
        "o",
        "z",
        "q Ctrl-c",
        "J",
        "K",
        "5j",
        "/",
        "n",
        "S",
        "F",
        "H Backspace Ctrl-o",
        "m",
        "e",
    ] {
        assert!(both.contains(needle), "help shows {needle}: {both}");
    }
    insta::assert_snapshot!("help", s);
    press(&mut app, "?");
    assert_eq!(app.overlay(), None);
    press(&mut app, "?<Esc>");
    assert_eq!(app.overlay(), None);
}

#[test]
fn an_empty_folder_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a post").unwrap();
    let posts = folio::posts::scan(dir.path()).unwrap();
    let options = Options {
        source_label: "/tmp/empty-blog".into(),
        ..Options::default()
    };
    let mut app = App::new(posts, Theme::default(), Keymap::default(), options);
    app.update(Action::Resize(80, 20));
    let s = screen(&app);
    assert!(s.contains("No posts here yet"), "{s}");
    assert!(s.contains("/tmp/empty-blog"), "{s}");
    insta::assert_snapshot!("empty", s);
    press(&mut app, "jkG]o<Enter><Tab>");
    assert!(screen(&app).contains("No posts here yet"));
    press(&mut app, "q");
    assert!(app.should_quit());
}

#[test]
fn z_hides_the_list_and_j_k_capitals_change_post() {
    let dir = blog();
    let mut app = app_for(dir.path(), 160, 30);
    press(&mut app, "z");
    assert!(app.list_hidden());
    let s = screen(&app);
    assert!(!s.contains("Bravo"), "{s}");
    assert_eq!(
        app.panes().text.width,
        100,
        "the reading measure caps the width"
    );
    press(&mut app, "J");
    assert_eq!(app.selected_post().unwrap().title, "Bravo");
    assert_eq!(app.focus(), Focus::Reader);
    assert!(screen(&app).contains("Just one paragraph about bravo."));
    press(&mut app, "K");
    assert_eq!(app.selected(), Some(0));
    press(&mut app, "z");
    assert!(!app.list_hidden());
    assert!(screen(&app).contains("Bravo"));
}

#[test]
fn broken_frontmatter_is_shown_above_the_post() {
    let dir = blog();
    let mut app = app_for(dir.path(), 100, 30);
    press(&mut app, "jjj");
    assert_eq!(app.selected_post().unwrap().title, "Delta");
    let s = screen(&app);
    assert!(s.contains("Frontmatter error, line"), "{s}");
    assert!(s.contains("The frontmatter above is wrong."), "{s}");
}

#[test]
fn mouse_wheel_scrolls_the_pane_under_the_pointer_and_click_selects() {
    let dir = blog();
    let mut app = app_for(dir.path(), 100, 30);
    let reader = app.panes().reader.unwrap();
    app.update(Action::Scroll(Wheel::Down, reader.x + 5, 5));
    assert_eq!(top_of(&app), 3);
    app.update(Action::Scroll(Wheel::Down, 2, 2));
    assert_eq!(app.selected(), Some(1));
    // Entries take two rows each at this height: row 4 is the third post.
    app.update(Action::Click(3, 4));
    assert_eq!(app.selected(), Some(2));
    app.update(Action::Click(reader.x + 3, 3));
    assert_eq!(app.focus(), Focus::Reader);
}

#[test]
fn quit_and_no_op_keys() {
    let dir = blog();
    let mut app = app_for(dir.path(), 100, 30);
    app.take_dirty();
    press(&mut app, "k");
    assert!(
        !app.take_dirty(),
        "a key that changes nothing costs no redraw"
    );
    press(&mut app, "j");
    assert!(app.take_dirty());
    press(&mut app, "<C-c>");
    assert!(app.should_quit());
}

#[test]
fn esc_and_a_key_in_one_read_are_two_keys() {
    let dir = blog();
    let mut app = app_for(dir.path(), 100, 30);
    press(&mut app, "<Enter>o");
    assert!(app.overlay().is_some());
    // What a terminal sends for Esc then `j` in one packet: Alt-j.
    app.key(folio::keymap::Key {
        alt: true,
        ..folio::keymap::Key::char('j')
    });
    assert_eq!(app.overlay(), None, "Esc closed the outline");
    assert_eq!(app.reader_top(), 1, "then j scrolled");
}

#[test]
fn styles_reach_the_buffer() {
    let dir = blog();
    let app = app_for(dir.path(), 100, 30);
    let buf = render(&app);
    let theme = Theme::default();
    // The selected entry's row carries the focused selection colour.
    assert_eq!(buf[(2, 0)].bg, theme.ui.selection.bg.unwrap());
    // The status bar is styled across its width.
    assert_eq!(buf[(99, 29)].bg, theme.ui.status.bg.unwrap());
}

/// The reader at 100×30 on the only post in `dir`, read the way the runner
/// reads it but with the background layout job not yet run.
fn loaded_not_laid_out(dir: &std::path::Path) -> App {
    let posts = folio::posts::scan(dir).unwrap();
    let mut app = App::new(
        posts,
        Theme::default(),
        Keymap::default(),
        Options::default(),
    );
    app.update(Action::Resize(100, 30));
    let post = app.pending_load().unwrap();
    app.report(Report::Loaded(
        post.rel_path.clone(),
        post.read_source().map_err(|e| e.to_string()),
    ));
    app
}

#[test]
fn code_is_highlighted_off_the_key_path_and_swapped_in() {
    use folio::app::Loaded;
    use std::fmt::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("---\ntitle: Code\ndate: 2025-01-01\n---\n\n# Code\n\n");
    for i in 0..20 {
        let _ = write!(
            text,
            "Paragraph {i}.\n\n```rust\nfn main() {{ let x = {i}; println!(\"{{x}}\"); }}\n```\n\n"
        );
    }
    std::fs::write(dir.path().join("code.md"), text).unwrap();
    let mut app = loaded_not_laid_out(dir.path());
    let code_colours = |app: &App| {
        let doc = app.document().unwrap();
        let mut colours = std::collections::HashSet::new();
        for line in &doc.lines {
            if line.spans.iter().any(|s| s.content.contains("println")) {
                colours.extend(line.spans.iter().filter_map(|s| s.style.fg));
            }
        }
        colours.len()
    };
    assert!(matches!(
        app.current(),
        Some(Loaded::Ready {
            complete: false,
            ..
        })
    ));
    assert!(code_colours(&app) <= 1, "the first layout is plain");
    let plain_len = app.document().unwrap().len();
    // Keys straight to the app: `press` would also run the highlight job.
    for key in fixtures::parse_keys("<Enter>jjj") {
        app.key(key);
    }
    // One job per layout.
    let job = app.pending_layout().expect("a highlight job");
    assert!(app.pending_layout().is_none(), "asked once");
    app.report(job.run());
    assert!(
        code_colours(&app) > 2,
        "highlighted code has several colours"
    );
    assert_eq!(app.document().unwrap().len(), plain_len, "same lines");
    assert_eq!(app.reader_top(), 3, "the reader did not move");
    // A result for a layout that is no longer current is dropped.
    app.update(Action::Resize(90, 30));
    let stale = app.pending_layout().expect("a new job after the relayout");
    app.update(Action::Resize(120, 30));
    app.report(stale.run());
    assert!(
        matches!(
            app.current(),
            Some(Loaded::Ready {
                complete: false,
                ..
            })
        ),
        "a stale result is ignored"
    );
    // So is one made with a theme that has since changed.
    let old_theme_job = app.pending_layout().expect("a job for the 120-wide layout");
    app.report(Report::SetTheme(Box::new(Theme::builtin("light").unwrap())));
    app.report(old_theme_job.run());
    assert!(
        matches!(
            app.current(),
            Some(Loaded::Ready {
                complete: false,
                ..
            })
        ),
        "a result made with the old theme is ignored"
    );
    let job = app.pending_layout().expect("a job for the new theme");
    app.report(job.run());
    assert!(matches!(
        app.current(),
        Some(Loaded::Ready { complete: true, .. })
    ));
}

#[test]
fn a_long_post_shows_its_start_at_once_and_the_rest_follows() {
    use folio::app::Loaded;
    use std::fmt::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("---\ntitle: Long\n---\n\n");
    let mut n = 0;
    while text.len() < 600_000 {
        n += 1;
        let _ = write!(
            text,
            "## Part {n}\n\nThe text of part {n}, long enough to wrap once or twice in a reader of ordinary width.\n\n"
        );
    }
    std::fs::write(dir.path().join("long.md"), &text).unwrap();
    let mut app = loaded_not_laid_out(dir.path());
    let quick = app.document().unwrap().clone();
    assert!(matches!(
        app.current(),
        Some(Loaded::Ready {
            complete: false,
            ..
        })
    ));
    let last = |doc: &folio::document::Document| doc.headings.last().unwrap().text.clone();
    assert_ne!(
        last(&quick),
        format!("Part {n}"),
        "only the start is laid out"
    );
    for key in fixtures::parse_keys("<Enter>]]]]]j") {
        app.key(key);
    }
    let top = app.reader_top();
    let top_text = fixtures::reader_row(&app, 0);
    let job = app
        .pending_layout()
        .expect("the rest is a job for the runner");
    app.report(job.run());
    let full = app.document().unwrap();
    assert_eq!(
        last(full),
        format!("Part {n}"),
        "the whole post once the job is done"
    );
    assert!(full.len() > quick.len());
    assert_eq!(app.reader_top(), top, "the reader did not move");
    assert_eq!(fixtures::reader_row(&app, 0), top_text);
    assert!(app.pending_layout().is_none());
}

#[test]
fn tiny_and_odd_terminal_sizes_never_panic() {
    let dir = blog();
    let mut app = app_for(dir.path(), 100, 30);
    for w in [0u16, 1, 2, 3, 5, 10, 20, 24, 40, 79, 80, 81, 200] {
        for h in [0u16, 1, 2, 3, 5, 10, 24] {
            app.update(Action::Resize(w, h));
            for keys in [
                "j", "<Enter>", "]", "o", "<Esc>", "?", "?", "z", "<Tab>", "G", "z",
            ] {
                press(&mut app, keys);
                let _ = render(&app);
            }
            app.update(Action::Click(w / 2, h / 2));
            app.update(Action::Scroll(Wheel::Down, 0, 0));
            let _ = render(&app);
        }
    }
}

#[test]
fn details_are_folded_until_d_opens_them() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("post.md"),
        "---\ntitle: Folding\ndate: 2025-01-01\n---\n\nBefore.\n\n<details>\n<summary>Spoiler</summary>\n\n\
         The hidden answer.\n\n</details>\n\nAfter the fold.\n",
    )
    .unwrap();
    let mut app = app_for(dir.path(), 100, 30);
    press(&mut app, "<Enter>");
    let s = screen(&app);
    assert!(s.contains("▸ Spoiler"), "{s}");
    assert!(s.contains("After the fold."), "{s}");
    assert!(!s.contains("hidden answer"), "{s}");
    press(&mut app, "D");
    let s = screen(&app);
    assert!(s.contains("▾ Spoiler"), "{s}");
    assert!(s.contains("The hidden answer."), "{s}");
    assert!(s.contains("After the fold."), "{s}");
    press(&mut app, "D");
    assert!(!screen(&app).contains("hidden answer"));
}
