//! Links (issue 5): link mode's hints, following links to posts, headings
//! and the web, copying URLs, and the history that `H` and `L` walk. All
//! through keys and `update()`, as a person would.

#[path = "support/fixtures.rs"]
mod fixtures;

use std::fmt::Write as _;
use std::path::Path;

use fixtures::{press, screen};
use folio::action::{Action, Command, Effect};
use folio::app::{App, HintTarget, Options, Overlay, hint_labels};
use folio::keymap::Keymap;
use folio::posts;
use folio::theme::Theme;

/// Three posts that link to each other, one in a subfolder with an index.
fn linked() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    let mut start = String::from(
        "---\ntitle: Start\ndate: 2025-03-01\n---\n\n# Start\n\n\
         Read [the bravo post](bravo.md) or [bravo bare](bravo), \
         [the second part](sub/charlie.md#second-part), [the index](sub/), \
         [later on](#later), [the web](https://example.com/a?b=c), \
         [mail](mailto:someone@example.com), [a script](javascript:alert(1)), \
         [nowhere](missing.md), [a lost heading](bravo.md#nope), \
         [lost here](#nothing) and [as html](bravo.html).\n\n",
    );
    for i in 1..=60 {
        let _ = writeln!(start, "Filler paragraph {i}.\n");
    }
    start.push_str("## Later\n\nThe later part.\n");
    write("start.md", &start);
    write(
        "bravo.md",
        "---\ntitle: Bravo\ndate: 2025-02-01\n---\n\nBravo body, [back to start](start.md).\n",
    );
    let mut charlie =
        String::from("---\ntitle: Charlie\ndate: 2025-01-01\ntags: [deep]\n---\n\n# Charlie\n\n");
    for i in 1..=40 {
        let _ = writeln!(charlie, "Charlie filler {i}.\n");
    }
    charlie.push_str(
        "## Second part\n\nSecond part text, [up](../start.md) and [rooted](/bravo.md).\n",
    );
    write("sub/charlie.md", &charlie);
    write(
        "sub/index.md",
        "---\ntitle: Sub index\ndate: 2024-12-01\n---\n\nThe index of sub.\n",
    );
    dir
}

fn app_with(dir: &Path, options: Options) -> App {
    let mut app = App::new(
        posts::scan(dir).unwrap(),
        Theme::default(),
        Keymap::default(),
        options,
    );
    app.update(Action::Resize(100, 30));
    folio::work::settle(&mut app);
    app
}

/// The reader on `start.md`, wide enough for two panes.
fn reading_start(dir: &Path, options: Options) -> App {
    let mut app = app_with(dir, options);
    press(&mut app, "<Enter>");
    assert_eq!(current(&app), "start.md");
    app
}

/// The reader on post `name` of `dir`.
fn reading_start_of(dir: &Path, name: &str) -> App {
    let mut app = app_with(dir, Options::default());
    let index = app
        .posts()
        .iter()
        .position(|p| p.rel_path == Path::new(name))
        .unwrap();
    for _ in 0..index {
        press(&mut app, "j");
    }
    press(&mut app, "<Enter>");
    app
}

fn current(app: &App) -> String {
    app.selected_post().unwrap().rel_path.display().to_string()
}

/// Presses `F` (or `y`) and types the hint of the link whose text is `text`.
fn choose(app: &mut App, mode: &str, text: &str) {
    press(app, mode);
    assert!(
        matches!(app.overlay(), Some(Overlay::Links(_))),
        "{mode} starts link mode"
    );
    let doc = app.document().unwrap();
    let hint = app
        .hints()
        .into_iter()
        .find(|h| matches!(h.target, HintTarget::Link(i) if doc.links[i].text == text))
        .unwrap_or_else(|| panic!("no hint for {text:?}"));
    press(app, &hint.label);
    assert_eq!(app.overlay(), None, "the hint {} chose a link", hint.label);
}

fn heading_on_top(app: &App, text: &str) -> bool {
    let doc = app.document().unwrap();
    doc.headings
        .iter()
        .any(|h| h.text == text && h.line == app.reader_top())
}

#[test]
fn hints_label_every_link_on_screen() {
    let dir = linked();
    let mut app = reading_start(dir.path(), Options::default());
    press(&mut app, "F");
    let hints = app.hints();
    assert_eq!(hints.len(), 12);
    // Twelve links take two letters each; none is a prefix of another.
    assert!(hints.iter().all(|h| h.label.len() == 2));
    let s = screen(&app);
    assert!(s.contains("Follow a link: type its hint"), "{s}");
    insta::assert_snapshot!("link_hints", s);
    // Typing the first letter dims it and drops the hints that no longer
    // match.
    press(&mut app, "s");
    let s = screen(&app);
    assert!(
        matches!(app.overlay(), Some(Overlay::Links(m)) if m.typed() == "s"),
        "{:?}",
        app.overlay()
    );
    insta::assert_snapshot!("link_hints_typed", s);
    press(&mut app, "<Esc>");
    assert_eq!(app.overlay(), None);
    assert_eq!(current(&app), "start.md");
}

#[test]
fn a_badge_image_inside_a_link_gets_one_hint() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("badge.md"),
        "# Badge\n\n[![build status](badge.svg)](https://ci.example/job) and [docs](https://docs.example)\n",
    )
    .unwrap();
    let mut app = reading_start_of(dir.path(), "badge.md");
    press(&mut app, "F");
    let hints = app.hints();
    assert_eq!(hints.len(), 2, "{hints:?}");
    press(&mut app, "a");
    assert_eq!(
        app.take_effects(),
        [Effect::OpenUrl("https://ci.example/job".into())]
    );
}

#[test]
fn hint_labels_are_one_letter_while_they_can_be() {
    assert_eq!(hint_labels(3), ["a", "s", "d"]);
    let two = hint_labels(10);
    assert_eq!(two[0], "aa");
    assert_eq!(two[9], "sa");
    assert_eq!(hint_labels(81).len(), 81);
    assert!(hint_labels(82).iter().all(|l| l.len() == 3));
}

#[test]
fn a_relative_link_opens_the_post_inside_folio() {
    let dir = linked();
    let mut app = reading_start(dir.path(), Options::default());
    choose(&mut app, "F", "the bravo post");
    assert_eq!(current(&app), "bravo.md");
    assert_eq!(app.reader_top(), 0);
    assert!(screen(&app).contains("Bravo body"));
    assert!(app.take_effects().is_empty());
    // Without `.md`, as `.html`, and a folder's index.
    for (text, post) in [
        ("bravo bare", "bravo.md"),
        ("as html", "bravo.md"),
        ("the index", "sub/index.md"),
    ] {
        let mut app = reading_start(dir.path(), Options::default());
        choose(&mut app, "F", text);
        assert_eq!(current(&app), post, "{text}");
    }
}

/// A kept list filter that hides the linked post gives way, so the list
/// shows the post the reader is on; going back keeps the list whole.
#[test]
fn a_link_out_of_a_filtered_list_drops_the_filter() {
    let dir = linked();
    let mut app = app_with(dir.path(), Options::default());
    press(&mut app, "/#deep<Enter>");
    assert_eq!(app.view_len(), 1);
    press(&mut app, "<Enter>G");
    assert_eq!(current(&app), "sub/charlie.md");
    choose(&mut app, "F", "up");
    assert_eq!(current(&app), "start.md");
    assert!(app.filter().is_none());
    assert!(
        app.view_pos().is_some(),
        "the list shows the post being read"
    );
    press(&mut app, "H");
    assert_eq!(current(&app), "sub/charlie.md");
    assert!(app.view_pos().is_some());
}

#[test]
fn an_anchor_in_another_post_lands_on_its_heading() {
    let dir = linked();
    let mut app = reading_start(dir.path(), Options::default());
    choose(&mut app, "F", "the second part");
    assert_eq!(current(&app), "sub/charlie.md");
    assert!(
        heading_on_top(&app, "Second part"),
        "top {}",
        app.reader_top()
    );
    // `..` and a rooted path resolve from the subfolder.
    choose(&mut app, "F", "up");
    assert_eq!(current(&app), "start.md");
    press(&mut app, "H");
    choose(&mut app, "F", "rooted");
    assert_eq!(current(&app), "bravo.md");
}

#[test]
fn an_anchor_alone_jumps_within_the_post() {
    let dir = linked();
    let mut app = reading_start(dir.path(), Options::default());
    choose(&mut app, "F", "later on");
    assert_eq!(current(&app), "start.md");
    assert!(heading_on_top(&app, "Later"));
    press(&mut app, "H");
    assert_eq!(app.reader_top(), 0);
}

#[test]
fn unknown_posts_and_anchors_say_so() {
    let dir = linked();
    let mut app = reading_start(dir.path(), Options::default());
    choose(&mut app, "F", "nowhere");
    assert_eq!(current(&app), "start.md");
    assert_eq!(app.message(), Some("No post missing.md in this folder"));
    assert!(screen(&app).contains("No post missing.md in this folder"));
    choose(&mut app, "F", "lost here");
    assert_eq!(app.message(), Some("No heading #nothing in this post"));
    assert_eq!(app.reader_top(), 0);
    // The post exists but not the heading: open it at its top and say so.
    choose(&mut app, "F", "a lost heading");
    assert_eq!(current(&app), "bravo.md");
    assert_eq!(app.message(), Some("No heading #nope in this post"));
    assert_eq!(app.reader_top(), 0);
    // A file that is not a post.
    std::fs::write(dir.path().join("img.md"), "# Img\n\n[a pic](pic.png)\n").unwrap();
    let mut app2 = reading_start_of(dir.path(), "img.md");
    choose(&mut app2, "F", "a pic");
    assert_eq!(
        app2.message(),
        Some("pic.png is not a post; y copies its address")
    );
    // A picture that is not there says so (a found one opens in the
    // viewer: tests/pictures.rs).
    std::fs::write(dir.path().join("img2.md"), "# Img\n\n![a pic](pic.png)\n").unwrap();
    let mut app3 = reading_start_of(dir.path(), "img2.md");
    choose(&mut app3, "F", "a pic");
    assert_eq!(app3.message(), Some("picture not found"));
    // A hint nobody has.
    press(&mut app, "H");
    press(&mut app, "Fl");
    assert_eq!(app.message(), Some("No link has the hint 'l'"));
    assert!(matches!(app.overlay(), Some(Overlay::Links(_))));
}

#[test]
fn external_links_open_locally_and_are_copied_remotely() {
    let dir = linked();
    let mut app = reading_start(dir.path(), Options::default());
    choose(&mut app, "F", "the web");
    assert_eq!(
        app.take_effects(),
        [Effect::OpenUrl("https://example.com/a?b=c".into())]
    );
    assert_eq!(app.message(), Some("Opened https://example.com/a?b=c"));
    choose(&mut app, "F", "mail");
    assert_eq!(
        app.take_effects(),
        [Effect::OpenUrl("mailto:someone@example.com".into())]
    );
    assert_eq!(current(&app), "start.md", "the reader stays put");

    let remote = Options {
        remote: true,
        ..Options::default()
    };
    let mut app = reading_start(dir.path(), remote);
    choose(&mut app, "F", "the web");
    assert_eq!(
        app.take_effects(),
        [Effect::Copy("https://example.com/a?b=c".into())]
    );
    assert_eq!(
        app.message(),
        Some("Copied https://example.com/a?b=c to the clipboard")
    );
}

#[test]
fn other_schemes_are_refused() {
    let dir = linked();
    let mut app = reading_start(dir.path(), Options::default());
    choose(&mut app, "F", "a script");
    assert!(app.take_effects().is_empty());
    assert_eq!(
        app.message(),
        Some("folio does not follow javascript: links")
    );
}

#[test]
fn y_copies_the_url_of_any_link() {
    let dir = linked();
    let mut app = reading_start(dir.path(), Options::default());
    choose(&mut app, "y", "the bravo post");
    assert_eq!(current(&app), "start.md");
    assert_eq!(app.take_effects(), [Effect::Copy("bravo.md".into())]);
    assert_eq!(app.message(), Some("Copied bravo.md to the clipboard"));
    // In link mode, y switches between following and copying.
    press(&mut app, "Fy");
    assert!(matches!(app.overlay(), Some(Overlay::Links(m)) if m.copy));
    assert!(screen(&app).contains("Copy a link's URL"));
    press(&mut app, "y");
    assert!(matches!(app.overlay(), Some(Overlay::Links(m)) if !m.copy));
}

#[test]
fn history_goes_back_and_forward_to_the_same_place() {
    let dir = linked();
    let mut app = reading_start(dir.path(), Options::default());
    press(&mut app, "2j");
    let top = app.reader_top();
    choose(&mut app, "F", "the second part");
    let charlie_top = app.reader_top();
    assert_eq!(current(&app), "sub/charlie.md");
    press(&mut app, "H");
    assert_eq!(current(&app), "start.md");
    assert_eq!(app.reader_top(), top);
    press(&mut app, "L");
    assert_eq!(current(&app), "sub/charlie.md");
    assert_eq!(app.reader_top(), charlie_top);
    // Backspace and Ctrl-o are back too.
    press(&mut app, "<C-o>");
    assert_eq!(current(&app), "start.md");
    app.key(folio::keymap::Key::new(folio::keymap::KeyCode::Backspace));
    folio::work::settle(&mut app);
    assert_eq!(app.message(), Some("Nothing to go back to"));
    // A new jump after going back forgets what was ahead.
    choose(&mut app, "F", "the bravo post");
    press(&mut app, "L");
    assert_eq!(app.message(), Some("Nothing to go forward to"));
    assert_eq!(current(&app), "bravo.md");
    press(&mut app, "H");
    assert_eq!(current(&app), "start.md");
    assert_eq!(app.reader_top(), top);
    let (back, forward) = app.history();
    assert!(back.is_empty());
    assert_eq!(forward.len(), 1);
    assert_eq!(forward[0].post, Path::new("bravo.md"));
}

#[test]
fn history_keeps_its_place_across_a_resize() {
    let dir = linked();
    let mut app = reading_start(dir.path(), Options::default());
    press(&mut app, "2j");
    let first_line = fixtures::reader_row(&app, 0);
    choose(&mut app, "F", "the bravo post");
    app.update(Action::Resize(70, 30));
    folio::work::settle(&mut app);
    press(&mut app, "H");
    assert_eq!(current(&app), "start.md");
    assert_eq!(fixtures::reader_row(&app, 0), first_line);
}

#[test]
fn other_keys_leave_link_mode_and_act() {
    let dir = linked();
    let mut app = reading_start(dir.path(), Options::default());
    press(&mut app, "F");
    press(&mut app, "G");
    assert_eq!(app.overlay(), None);
    assert!(app.reader_top() > 0);
    // At the bottom no link is on screen, so there is no link mode.
    assert!(app.hints().is_empty());
    press(&mut app, "F");
    assert_eq!(app.overlay(), None);
    assert_eq!(app.message(), Some("No links or code on this screen"));
    // From the list, with nothing open, F says what to do.
    let mut app = app_with(dir.path(), Options::default());
    app.update(Action::Resize(60, 30));
    app.update(Action::Command(Command::FollowLink));
    assert_eq!(app.message(), Some("Open a post to follow its links"));
}

#[test]
fn help_lists_the_link_keys() {
    let dir = linked();
    let mut app = reading_start(dir.path(), Options::default());
    app.update(Action::Resize(100, 50));
    press(&mut app, "?");
    let s = screen(&app);
    for want in [
        "Links and history",
        "F ",
        "link mode: hints on the links and code shown",
        "H Backspace Ctrl-o",
        "back to the previous post and place",
        "L ",
        "in link mode: a hint follows",
    ] {
        assert!(s.contains(want), "{want:?} missing from\n{s}");
    }
}

/// Every link between the built-in posts (the manual) leads somewhere.
#[test]
fn the_manuals_links_all_resolve() {
    let mut app = App::new(
        posts::embedded(),
        Theme::default(),
        Keymap::default(),
        Options::default(),
    );
    app.update(Action::Resize(100, 30));
    folio::work::settle(&mut app);
    let mut followed = 0;
    for index in 0..app.posts().len() {
        // Open post `index` from the top of the list.
        press(&mut app, "<Tab>");
        if app.focus() == folio::app::Focus::Reader {
            press(&mut app, "<Tab>");
        }
        press(&mut app, "g");
        for _ in 0..index {
            press(&mut app, "j");
        }
        press(&mut app, "<Enter>");
        let name = current(&app);
        let links: Vec<(usize, String, usize)> = app
            .document()
            .unwrap()
            .links
            .iter()
            .enumerate()
            .filter(|(_, l)| !l.url.contains(':') && !l.url.contains(".png"))
            .map(|(i, l)| (i, l.url.clone(), l.line))
            .collect();
        for (i, url, line) in links {
            press(&mut app, &format!("{}G", line + 1));
            press(&mut app, "F");
            let hint = app
                .hints()
                .into_iter()
                .find(|h| h.target == HintTarget::Link(i))
                .unwrap_or_else(|| panic!("{name}: no hint for {url}"));
            press(&mut app, &hint.label);
            assert_eq!(app.message(), None, "{name}: {url}");
            if let Some((_, anchor)) = url.split_once('#') {
                let doc = app.document().unwrap();
                let h = doc.heading_by_anchor(anchor).unwrap();
                assert_eq!(h.line, app.reader_top(), "{name}: {url}");
            }
            followed += 1;
            press(&mut app, "H");
            assert_eq!(current(&app), name);
        }
    }
    assert!(followed >= 5, "{followed} links followed");
}

#[test]
fn a_click_on_a_link_follows_it() {
    let dir = linked();
    let mut app = reading_start(dir.path(), Options::default());
    let hint = app
        .hints()
        .into_iter()
        .find(|h| {
            matches!(h.target, HintTarget::Link(i)
                if app.document().unwrap().links[i].text == "the bravo post")
        })
        .unwrap();
    // A click beside the link only focuses the reader.
    app.update(Action::Click(hint.x - 2, hint.y));
    assert_eq!(current(&app), "start.md");
    app.update(Action::Click(hint.x + 4, hint.y));
    folio::work::settle(&mut app);
    assert_eq!(current(&app), "bravo.md");
    press(&mut app, "H");
    assert_eq!(current(&app), "start.md");
}
