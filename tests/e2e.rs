//! End-to-end: the real `folio` binary in a real terminal (tmux), driven with
//! keys and read back with `capture-pane`, as a person would use it.
//!
//! Each test has its own tmux server (a private socket in a temp folder) of a
//! fixed size, and waits for screens by polling with a generous timeout.

#[path = "support/fixtures.rs"]
mod fixtures;
#[path = "support/tmux.rs"]
mod tmux;
#[path = "support/tools.rs"]
mod tools;

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use tmux::{Tmux, poll, top_line_has};

/// Starts `folio ARGS` in a `width`×`height` pane, with the XDG folders in
/// `home` (which outlives this session: a later one finds what this one
/// saved; by default the tmux server's own folder) and `vars`
/// (`NAME=value ...`, shell-quoted) in its environment.
fn folio(home: Option<&Path>, vars: &str, args: &str, width: u16, height: u16) -> Tmux {
    let tmux = Tmux::new();
    let home = home.unwrap_or(tmux.dir());
    for sub in ["config", "data", "cache"] {
        std::fs::create_dir_all(home.join(sub)).unwrap();
    }
    let vars = if vars.is_empty() {
        String::new()
    } else {
        format!("env {vars} ")
    };
    let command = format!(
        "export XDG_CONFIG_HOME='{d}/config' XDG_DATA_HOME='{d}/data' XDG_CACHE_HOME='{d}/cache'; \
         {vars}'{bin}' {args}",
        d = home.display(),
        bin = env!("CARGO_BIN_EXE_folio"),
    );
    tmux.launch(&command, width, height);
    tmux
}

/// `command` (a shell line where `{folio}` stands for the binary) in a
/// `width`×`height` pane, with the XDG folders in the tmux server's own.
fn folio_line(command: &str, width: u16, height: u16) -> Tmux {
    let tmux = Tmux::new();
    let d = tmux.dir().display().to_string();
    let command = format!(
        "export XDG_CONFIG_HOME='{d}/config' XDG_DATA_HOME='{d}/data' XDG_CACHE_HOME='{d}/cache'; {}",
        command.replace("{folio}", &format!("'{}'", env!("CARGO_BIN_EXE_folio")))
    );
    tmux.launch(&command, width, height);
    tmux
}

/// `folio ARGS` at 100×30 with nothing saved before.
fn run_folio(args: &str) -> Tmux {
    folio(None, "", args, 100, 30)
}

/// A path as one shell word.
fn quoted(path: &Path) -> String {
    format!("'{}'", path.display())
}

/// folio reading `blog` (the fixture blog) at 100×30, its list shown.
fn reading(blog: &Path) -> Tmux {
    let tmux = run_folio(&quoted(blog));
    tmux.wait_text("Bravo");
    tmux
}

/// From the list, opens the second post of the fixture blog.
fn open_bravo(tmux: &Tmux) {
    tmux.keys(&["j", "Enter"]);
    tmux.wait_text("Just one paragraph about bravo.");
}

/// `q` ends folio with status 0 and the terminal as it was.
fn quit(tmux: &Tmux) {
    tmux.keys(&["q"]);
    tmux.assert_exited("0");
}

/// The pid of folio: the child of the pane's shell.
fn folio_pid(tmux: &Tmux) -> u32 {
    let shell: u32 = tmux
        .output(&["display-message", "-p", "#{pane_pid}"])
        .trim()
        .parse()
        .unwrap();
    poll(|| {
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(proc_stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // The fields after the parenthesised name: state, ppid, ...
            let after = proc_stat.rsplit_once(')').map_or("", |(_, rest)| rest);
            let parent = after
                .split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u32>().ok());
            if parent == Some(shell) && proc_stat.contains("(folio)") {
                return Ok(pid);
            }
        }
        Err("folio process not found".to_owned())
    })
}

/// Sends folio `signal` (`-TERM`, ...).
fn kill(tmux: &Tmux, signal: &str) {
    let pid = folio_pid(tmux);
    let status = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn read_a_folder_jump_headings_scroll_and_quit() {
    if !tools::have(&["tmux"]) {
        return;
    }
    let blog = fixtures::blog();
    let tmux = reading(blog.path());
    assert!(tmux.alternate_screen());
    let s = tmux.screen();
    assert!(s.find("Alpha: a long post").unwrap() < s.find("Bravo").unwrap());

    tmux.keys(&["j"]);
    tmux.wait_text("Just one paragraph about bravo.");
    tmux.keys(&["k", "Enter", "]"]);
    // "Alpha" starts on the top line; `]` brings "One" there.
    let s = tmux.wait_for("heading One on top", |s| {
        top_line_has(s, "One") && s.contains("Alpha › One")
    });
    assert!(!s.contains("Paragraph 4 of section Four"), "{s}");
    tmux.keys(&["G"]);
    tmux.wait_text("Paragraph 4 of section Four");
    tmux.keys(&["g", "C-d"]);
    tmux.wait_for("half a page down", |s| {
        !s.contains("# Alpha") && s.contains("Paragraph 4 of section One")
    });
    tmux.keys(&["o"]);
    tmux.wait_text("Outline");
    tmux.keys(&["Escape", "q"]);
    tmux.assert_exited("0");
}

#[test]
fn narrow_terminal_shows_one_pane() {
    if !tools::have(&["tmux"]) {
        return;
    }
    let blog = fixtures::blog();
    let tmux = folio(None, "", &quoted(blog.path()), 60, 20);
    let s = tmux.wait_text("Bravo");
    assert!(!s.contains("Paragraph 1 of section One"), "{s}");
    tmux.keys(&["Enter"]);
    let s = tmux.wait_text("Paragraph 1 of section One");
    assert!(!s.contains("Bravo"), "{s}");
    tmux.keys(&["Escape"]);
    tmux.wait_text("Bravo");
    // Growing the window brings back both panes, laid out cleanly.
    tmux.resize(100, 30);
    let s = tmux.wait_for("two panes at 100x30", |s| {
        s.contains("Paragraph 1 of section One") && s.contains("Bravo")
    });
    let lines: Vec<&str> = s.lines().collect();
    // The dot: not read yet.
    assert!(
        lines[0].starts_with("•2025-03-01 Alpha: a long post"),
        "{s}"
    );
    assert!(
        lines[2].starts_with("•2025-02-01 Bravo"),
        "rows stay aligned: {s}"
    );
    assert!(
        lines[29].starts_with(" Alpha: a long post"),
        "status bar on the last row: {s}"
    );
    tmux.keys(&["C-c"]);
    tmux.assert_exited("0");
}

#[test]
fn sigterm_restores_the_terminal() {
    if !tools::have(&["tmux", "kill"]) {
        return;
    }
    let blog = fixtures::blog();
    let tmux = reading(blog.path());
    kill(&tmux, "-TERM");
    tmux.assert_exited("143");
}

#[test]
fn sighup_restores_the_terminal() {
    if !tools::have(&["tmux", "kill"]) {
        return;
    }
    let blog = fixtures::blog();
    let tmux = reading(blog.path());
    kill(&tmux, "-HUP");
    tmux.assert_exited("129");
}

#[test]
fn no_argument_opens_the_built_in_guide() {
    if !tools::have(&["tmux"]) {
        return;
    }
    let tmux = run_folio("");
    tmux.wait_text("Welcome to folio");
    tmux.keys(&["?"]);
    tmux.wait_text("Keys");
    quit(&tmux);
}

/// `theme: auto` asks the terminal for its background (OSC 11). A detached
/// tmux 3.3 does not answer, so this is the "nothing answers" case there
/// (newer tmux answers at once, which the same assertions cover): the first
/// frame must not wait, keys must work, and nothing may leak. Then a reply
/// arrives long after the deadline, as over a slow link, typed into the pane
/// as the terminal would: it contains `b`, `f`, `g` and digits, all bound,
/// and must act as none of them.
#[test]
fn background_query_times_out_and_a_late_reply_never_acts_as_keys() {
    if !tools::have(&["tmux"]) {
        return;
    }
    let blog = fixtures::blog();
    let tmux = run_folio(&format!("--theme auto {}", quoted(blog.path())));
    tmux.wait_text("Bravo");
    std::thread::sleep(Duration::from_millis(400));
    tmux.keys(&["Enter"]);
    // The preview already shows the text: wait for the reader's status
    // (position instead of `post 1/5`), or the Enter may land later.
    let before = tmux.wait_for("the reader to open", |s| {
        s.contains("Paragraph 1 of section One")
            && s.lines().last().is_some_and(|l| l.contains("% 1/"))
    });
    for terminator in ["\x07", "\x1b\\"] {
        let reply = format!("\x1b]11;rgb:ffff/ffff/ffff{terminator}");
        tmux.keys(&["-l", &reply]);
    }
    std::thread::sleep(Duration::from_millis(300));
    let after = tmux.screen();
    assert_eq!(before, after, "the late reply changed the screen");
    assert!(!after.contains("rgb:") && !after.contains("11;"), "{after}");
    tmux.keys(&["G"]);
    tmux.wait_text("Paragraph 4 of section Four");
    quit(&tmux);
}

#[test]
fn sigint_restores_the_terminal() {
    if !tools::have(&["tmux", "kill"]) {
        return;
    }
    let blog = fixtures::blog();
    let tmux = reading(blog.path());
    kill(&tmux, "-INT");
    tmux.assert_exited("130");
}

#[test]
fn a_closed_pty_ends_folio() {
    if !tools::have(&["tmux"]) {
        return;
    }
    let blog = fixtures::blog();
    let tmux = reading(blog.path());
    let pid = folio_pid(&tmux);
    tmux.run(&["kill-server"]);
    poll(|| {
        let proc_stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // Gone, or exited and waiting for its parent to reap it.
        let ended = !Path::new(&format!("/proc/{pid}")).exists()
            || proc_stat
                .rsplit_once(')')
                .is_some_and(|(_, r)| r.trim_start().starts_with('Z'));
        if ended {
            Ok(())
        } else {
            Err("folio still running after its pty closed".to_owned())
        }
    });
}

#[test]
fn hostile_post_in_a_real_terminal() {
    if !tools::have(&["tmux"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("evil.md"),
        "---\ntitle: \"Evil \\e]0;pwned\\a\\e]2;pwned\\a\"\n---\n\n# Head \u{1b}]0;pwned\u{7}\u{1b}[2J\n\nText \u{1b}]52;c;cm0gLXJm\u{7} \u{9b}31m red? &#27;[31m \u{202e}txt.exe\n",
    )
    .unwrap();
    let tmux = run_folio(&quoted(dir.path()));
    tmux.wait_text("Evil");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_text("Text");
    assert!(screen.contains("Head ␛]0;pwned␇␛[2J"), "{screen}");
    assert!(screen.contains("␛]52;c;cm0gLXJm␇"), "{screen}");
    let title = tmux.output(&["display-message", "-p", "#{pane_title}"]);
    assert!(!title.contains("pwned"), "title set to {title}");
    let buffers = tmux.output(&["list-buffers"]);
    assert!(buffers.trim().is_empty(), "clipboard written: {buffers}");
    quit(&tmux);
}

/// A person reads to a place, quits, starts folio again (in a wider
/// window) and lands on the same post with the same text on top; the post
/// they finished is no longer marked unread.
#[test]
fn quit_restart_and_land_where_you_were() {
    if !tools::have(&["tmux"]) {
        return;
    }
    let blog = fixtures::blog();
    let home = tempfile::tempdir().unwrap();
    let args = quoted(blog.path());
    let tmux = folio(Some(home.path()), "", &args, 100, 30);
    tmux.wait_text("Bravo");
    open_bravo(&tmux);
    tmux.keys(&["Escape", "k", "Enter", "]", "]", "]"]);
    let s = tmux.wait_for("Two point one on top", |s| {
        top_line_has(s, "### Two point one")
    });
    assert!(s.contains(" 2025-02-01 Bravo"), "Bravo read: {s}");
    quit(&tmux);
    drop(tmux);
    let state = std::fs::read_to_string(home.path().join("data/folio/state.yaml")).unwrap();
    assert!(
        state.contains("alpha.md") && state.contains("bravo.md"),
        "{state}"
    );

    let tmux = folio(Some(home.path()), "", &args, 120, 40);
    let s = tmux.wait_for("Two point one on top again", |s| {
        top_line_has(s, "### Two point one")
    });
    assert!(s.contains("•2025-03-01 Alpha"), "Alpha not finished: {s}");
    assert!(s.contains(" 2025-02-01 Bravo"), "Bravo still read: {s}");
    quit(&tmux);
}

#[test]
fn a_bookmark_survives_a_restart_and_opens_at_its_place() {
    if !tools::have(&["tmux"]) {
        return;
    }
    let blog = fixtures::blog();
    let home = tempfile::tempdir().unwrap();
    let args = quoted(blog.path());
    let tmux = folio(Some(home.path()), "", &args, 100, 30);
    tmux.wait_text("Bravo");
    tmux.keys(&["Enter", "]", "]", "]", "]"]);
    tmux.wait_for("Two point two on top", |s| {
        top_line_has(s, "### Two point two")
    });
    tmux.keys(&["B"]);
    tmux.wait_text("Bookmarked");
    quit(&tmux);
    drop(tmux);
    let state = std::fs::read_to_string(home.path().join("data/folio/state.yaml")).unwrap();
    assert!(state.contains("bookmarks:"), "{state}");

    // Started again, narrower, and moved to the top of another post.
    let tmux = folio(Some(home.path()), "", &args, 90, 30);
    tmux.wait_for("Two point two on top again", |s| {
        top_line_has(s, "### Two point two")
    });
    tmux.keys(&["Escape", "j", "Enter"]);
    tmux.wait_text("Just one paragraph about bravo.");
    tmux.keys(&["'"]);
    let s = tmux.wait_text("Bookmarks (1)");
    assert!(s.contains("Alpha: a long post"), "{s}");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the bookmark's place on top", |s| {
        top_line_has(s, "### Two point two")
    });
    quit(&tmux);
}

#[test]
fn follow_a_link_to_another_post_and_come_back() {
    if !tools::have(&["tmux"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut start =
        String::from("---\ntitle: Start here\ndate: 2025-03-01\n---\n\n# Start here\n\n");
    for i in 1..=12 {
        let _ = write!(start, "Opening paragraph {i}.\n\n");
    }
    start.push_str(
        "Now read [the other post](other.md#its-end), or [the web](https://example.com/x).\n\n",
    );
    for i in 1..=30 {
        let _ = write!(start, "Closing paragraph {i}.\n\n");
    }
    std::fs::write(dir.path().join("start.md"), start).unwrap();
    let mut other =
        String::from("---\ntitle: The other post\ndate: 2025-01-01\n---\n\n# The other post\n\n");
    for i in 1..=40 {
        let _ = write!(other, "Other filler {i}.\n\n");
    }
    other.push_str("## Its end\n\nThe end of the other post.\n");
    std::fs::write(dir.path().join("other.md"), other).unwrap();

    let tmux = run_folio(&quoted(dir.path()));
    tmux.wait_text("Opening paragraph 1.");
    // Scroll so the link is on screen, then ask for the hints.
    tmux.keys(&["Enter", "1", "7", "j"]);
    tmux.wait_for("the link near the top", |s| {
        top_line_has(s, "Opening paragraph 8.")
    });
    tmux.keys(&["F"]);
    let s = tmux.wait_text("Follow a link: type its hint");
    // The first link's hint covers the start of its text.
    assert!(s.contains("Now read ahe other post"), "{s}");
    tmux.keys(&["a"]);
    let s = tmux.wait_text("The end of the other post.");
    assert!(
        top_line_has(&s, "Its end"),
        "the anchor's heading is on top:\n{s}"
    );
    tmux.keys(&["H"]);
    let s = tmux.wait_for("back where the reader was", |s| {
        top_line_has(s, "Opening paragraph 8.")
    });
    assert!(s.contains("Now read the other post"), "{s}");
    tmux.keys(&["L"]);
    tmux.wait_text("The end of the other post.");
    quit(&tmux);
}

/// A SIGTERM while reading still saves where the reader was.
#[test]
fn sigterm_saves_the_reading_state() {
    if !tools::have(&["tmux", "kill"]) {
        return;
    }
    let blog = fixtures::blog();
    let home = tempfile::tempdir().unwrap();
    let args = quoted(blog.path());
    let tmux = folio(Some(home.path()), "", &args, 100, 30);
    tmux.wait_text("Bravo");
    open_bravo(&tmux);
    kill(&tmux, "-TERM");
    tmux.assert_exited("143");
    let state = std::fs::read_to_string(home.path().join("data/folio/state.yaml")).unwrap();
    assert!(state.contains("post: bravo.md"), "{state}");
}

/// Live reload: a post written into the folder appears in the list, an
/// edited one re-renders in place, a deleted one disappears.
#[test]
fn live_reload_create_edit_delete() {
    if !tools::have(&["tmux"]) {
        return;
    }
    let blog = fixtures::blog();
    let tmux = reading(blog.path());
    open_bravo(&tmux);

    std::fs::write(
        blog.path().join("foxtrot.md"),
        "---\ntitle: Foxtrot arrives\ndate: 2026-02-02\n---\n\nNew here.\n",
    )
    .unwrap();
    let s = tmux.wait_text("Foxtrot arrives");
    // Still on Bravo, which moved down a row.
    assert!(s.contains("Just one paragraph about bravo."), "{s}");

    std::fs::write(
        blog.path().join("bravo.md"),
        "---\ntitle: Bravo\ndate: 2025-02-01\n---\n\nThe paragraph, rewritten while open.\n",
    )
    .unwrap();
    let s = tmux.wait_text("The paragraph, rewritten while open.");
    assert!(!s.contains("Just one paragraph about bravo."), "{s}");

    std::fs::remove_file(blog.path().join("charlie.md")).unwrap();
    tmux.wait_for("Charlie gone", |s| !s.contains("Charlie"));
    quit(&tmux);
}

/// `e` hands the terminal to $VISUAL: what is typed goes to the editor (not
/// to folio), and folio comes back showing the edited post.
#[test]
fn e_edits_the_post_in_visual_and_reloads_it() {
    if !tools::have(&["tmux"]) {
        return;
    }
    let blog = fixtures::blog();
    let bin = tempfile::tempdir().unwrap();
    let editor = bin.path().join("ed.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\nprintf 'EDITOR READY> '\nread line\nprintf '\\n%s\\n' \"$line\" >> \"$1\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let tmux = folio(
        None,
        &format!("VISUAL={}", quoted(&editor)),
        &quoted(blog.path()),
        100,
        30,
    );
    tmux.wait_text("Bravo");
    open_bravo(&tmux);
    tmux.keys(&["e"]);
    tmux.wait_text("EDITOR READY>");
    assert!(!tmux.alternate_screen(), "the editor has the main screen");
    // `q` and `j` would act in folio if its input thread read them.
    tmux.keys(&["-l", "qj typed in the editor"]);
    tmux.keys(&["Enter"]);
    // The editor echoes the line too: wait for folio's screen with it.
    tmux.wait_for("folio back, showing the edit", |s| {
        s.contains("qj typed in the editor")
            && s.contains("Just one paragraph about bravo.")
            && !s.contains("EDITOR READY>")
    });
    assert!(tmux.alternate_screen());
    quit(&tmux);
}

/// Editing is refused for the built-in guide, with a message.
#[test]
fn e_on_a_built_in_post_says_why_not() {
    if !tools::have(&["tmux"]) {
        return;
    }
    let tmux = run_folio("");
    tmux.wait_text("Welcome to folio");
    tmux.keys(&["e"]);
    tmux.wait_text("cannot be edited");
    quit(&tmux);
}

/// A state file that is not ours is set aside with a word in the status
/// bar, and folio starts fresh.
#[test]
fn a_corrupt_state_file_is_set_aside() {
    if !tools::have(&["tmux"]) {
        return;
    }
    let blog = fixtures::blog();
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data/folio");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("state.yaml"), "folders: {[[[").unwrap();
    let tmux = folio(Some(home.path()), "", &quoted(blog.path()), 100, 30);
    tmux.wait_text("Reading state set aside");
    assert!(data.join("state.yaml.corrupt-1").exists());
    open_bravo(&tmux);
    quit(&tmux);
    let state = std::fs::read_to_string(data.join("state.yaml")).unwrap();
    assert!(state.contains("bravo.md"), "{state}");
}

/// Paragraphs added above the place being read: the post re-renders (its
/// line count in the status bar grows) and the same heading stays on top.
#[test]
fn live_reload_keeps_the_reading_position() {
    if !tools::have(&["tmux"]) {
        return;
    }
    let blog = fixtures::blog();
    let tmux = reading(blog.path());
    tmux.keys(&["Enter", "]", "]", "]"]);
    let top = |s: &str| s.lines().next().unwrap_or("").to_owned();
    let before = tmux.wait_for("Two point one on top", |s| {
        top(s).contains("### Two point one")
    });
    let total = |s: &str| {
        s.lines()
            .last()
            .and_then(|l| l.rsplit('/').next())
            .map(|t| t.trim().to_owned())
    };
    let old_total = total(&before);
    assert!(
        old_total
            .as_deref()
            .is_some_and(|t| t.parse::<usize>().is_ok()),
        "{before}"
    );
    let text = fixtures::long_post().replacen(
        "## One\n\n",
        &format!(
            "## One\n\n{}",
            "A paragraph added above, later.\n\n".repeat(20)
        ),
        1,
    );
    std::fs::write(blog.path().join("alpha.md"), text).unwrap();
    let after = tmux.wait_for("the post re-rendered", |s| total(s) != old_total);
    assert!(top(&after).contains("### Two point one"), "{after}");
    assert!(!after.contains("A paragraph added above"), "{after}");
    tmux.keys(&["g"]);
    tmux.wait_text("A paragraph added above, later.");
    quit(&tmux);
}

#[test]
fn over_ssh_a_web_link_is_copied_with_osc_52() {
    if !tools::have(&["tmux"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("post.md"),
        "# Post\n\nSee [the site](https://example.com/page?a=1) for more.\n",
    )
    .unwrap();
    let tmux = folio(
        None,
        "SSH_CONNECTION='10.0.0.1 50000 10.0.0.2 22'",
        &quoted(&dir.path().join("post.md")),
        100,
        30,
    );
    tmux.keep_clipboard();
    tmux.wait_text("See the site for more.");
    tmux.keys(&["F"]);
    tmux.wait_text("Follow a link: type its hint");
    tmux.keys(&["a"]);
    tmux.wait_text("Copied https://example.com/page?a=1 to the clipboard");
    tmux.wait_buffer("https://example.com/page?a=1");
    quit(&tmux);
}

#[test]
fn y_and_a_hint_copy_a_code_block_to_the_clipboard() {
    if !tools::have(&["tmux"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("post.md"),
        "# Post\n\nSee [the site](https://example.com/) first.\n\n```sh\ncargo build --release\n\tls -la | wc -l\n```\n\nDone.\n",
    )
    .unwrap();
    let tmux = run_folio(&quoted(&dir.path().join("post.md")));
    tmux.keep_clipboard();
    tmux.wait_text("cargo build --release");
    tmux.keys(&["y"]);
    tmux.wait_text("Copy a link's URL or a code block");
    // The link's hint comes first, the code block's second.
    tmux.keys(&["s"]);
    tmux.wait_text("Copied 2 lines of code to the clipboard");
    tmux.wait_buffer("cargo build --release\n\tls -la | wc -l");
    quit(&tmux);
}

#[test]
fn find_a_post_by_a_word_in_its_body_and_open_it() {
    if !tools::have(&["tmux"]) {
        return;
    }
    let blog = fixtures::blog();
    let tmux = reading(blog.path());
    // "wrong" is only in the body of the post titled "Delta".
    tmux.keys(&["S"]);
    tmux.wait_text("Search all posts");
    tmux.keys(&["wrong"]);
    let s = tmux.wait_text("1 matching line in 5 posts");
    assert!(s.contains("Delta"), "{s}");
    assert!(s.contains("The frontmatter above is wrong."), "{s}");
    tmux.keys(&["Enter"]);
    let s = tmux.wait_for("Delta open at the match", |s| {
        !s.contains("Search all posts") && s.lines().last().is_some_and(|l| l.contains("1/1"))
    });
    assert!(s.contains("The frontmatter above is wrong."), "{s}");
    // The query stays as the in-post search: Esc clears it, then goes back.
    tmux.keys(&["Escape"]);
    tmux.wait_for("search cleared", |s| {
        s.lines().last().is_some_and(|l| !l.contains("1/1"))
    });
    quit(&tmux);
}

#[path = "../benches/support/corpus.rs"]
mod corpus;

/// Whether the status bar (the last line) names the post `title` (and not
/// one whose title merely starts the same: `Post number 12` vs `...123`).
fn status_names(screen: &str, title: &str) -> bool {
    let status = screen.trim_end().lines().last().unwrap_or_default();
    status
        .trim_start()
        .strip_prefix(title)
        .is_some_and(|rest| !rest.starts_with(|c: char| c.is_ascii_digit()))
}

fn status_ends(screen: &str, text: &str) -> bool {
    let status = screen.trim_end().lines().last().unwrap_or_default();
    status.trim_end().ends_with(text)
}

#[test]
fn a_big_folder_shows_at_once_fills_in_and_reopens_the_last_post() {
    if !tools::have(&["tmux"]) {
        return;
    }
    let posts = tempfile::tempdir().unwrap();
    corpus::folder(posts.path(), 3_000);
    let all = folio::posts::scan(posts.path()).unwrap();
    let home = tempfile::tempdir().unwrap();
    let args = quoted(posts.path());
    let tmux = folio(Some(home.path()), "", &args, 100, 30);
    // The first screen: the reader, its list filling in or filled.
    let first = tmux.wait_for("the first screen", |s| {
        s.contains("reading posts…") || s.contains("post 1/")
    });
    assert!(!first.contains("No posts here yet"), "{first}");
    // Then the complete count, the newest post selected, as a scan has it.
    let s = tmux.wait_for("the complete count", |s| status_ends(s, "post 1/3000"));
    assert!(!s.contains("reading posts"), "{s}");
    assert!(status_names(&s, &all[0].title), "{s}");
    // Open the oldest post, and quit.
    let oldest = &all[all.len() - 1].title;
    tmux.keys(&["G", "Enter"]);
    tmux.wait_for("the oldest post open", |s| {
        status_names(s, oldest) && !s.contains("post 3000/3000")
    });
    quit(&tmux);
    drop(tmux);

    // Next time it is the last post read, so it arrives in the last batch
    // or close to it, and is reopened then.
    let tmux = folio(Some(home.path()), "", &args, 100, 30);
    let s = tmux.wait_for("the oldest post reopened", |s| {
        status_names(s, oldest) && !s.contains("reading posts")
    });
    assert!(
        !s.contains("post 3000/3000"),
        "the reader has the focus: {s}"
    );
    tmux.keys(&["Escape"]);
    tmux.wait_for("the list", |s| status_ends(s, "post 3000/3000"));
    quit(&tmux);
}

/// A long document for standard input, its first and last lines known.
fn piped_document(dir: &Path) -> std::path::PathBuf {
    let mut text = String::from("---\ntitle: Piped\n---\n\n# Piped heading\n\n");
    for i in 1..=60 {
        let _ = write!(text, "Piped paragraph {i}.\n\n");
    }
    text.push_str("The last piped line.\n");
    let file = dir.join("doc.md");
    std::fs::write(&file, text).unwrap();
    file
}

/// `curl … | folio`: the document comes down the pipe, the keys from the
/// terminal; the terminal is left as it was.
#[test]
fn a_piped_document_is_read_with_keys_from_the_terminal() {
    if !tools::have(&["tmux"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let doc = piped_document(dir.path());
    let tmux = folio_line(&format!("cat {} | {{folio}}", quoted(&doc)), 80, 24);
    tmux.wait_text("Piped heading");
    tmux.keys(&["G"]);
    tmux.wait_text("The last piped line.");
    tmux.keys(&["e"]);
    tmux.wait_text("Standard input has no file to edit");
    quit(&tmux);

    // `folio -` with a redirect.
    let tmux = folio_line(&format!("{{folio}} - < {}", quoted(&doc)), 80, 24);
    tmux.wait_text("Piped heading");
    tmux.keys(&["j", "j", "j"]);
    tmux.wait_for("three lines down", |s| {
        position(s).is_some_and(|(line, _)| line == 4) && !top_line_has(s, "Piped heading")
    });
    quit(&tmux);

    // `folio -` with the terminal as standard input: there is no document.
    let tmux = folio_line("{folio} -", 100, 10);
    let screen = tmux.wait_text("EXITED");
    assert!(
        screen.contains("folio: -: standard input is the terminal"),
        "{screen}"
    );
    tmux.assert_exited("1");
}

/// `e` opens $VISUAL at the line at the top of the reader, and folio comes
/// back to the same text, though the editor added lines above it.
#[test]
fn e_opens_the_editor_at_the_line_and_comes_back_to_the_same_place() {
    if !tools::have(&["tmux"]) {
        return;
    }
    let blog = fixtures::blog();
    let bin = tempfile::tempdir().unwrap();
    let args = bin.path().join("args");
    // Named `vim`, so folio passes `+N`; it records its arguments and
    // inserts a paragraph above the reader's place.
    let editor = bin.path().join("vim");
    std::fs::write(
        &editor,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" > {args}\n\
             sed 's/^## One$/## One\\n\\nA paragraph the editor added./' \"$2\" > \"$2.new\" && mv \"$2.new\" \"$2\"\n",
            args = quoted(&args)
        ),
    )
    .unwrap();
    std::fs::set_permissions(&editor, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let tmux = folio(
        None,
        &format!("VISUAL={}", quoted(&editor)),
        &quoted(blog.path()),
        100,
        30,
    );
    tmux.wait_text("Alpha: a long post");
    tmux.keys(&["Enter", "]", "]", "]", "]", "]"]);
    let s = tmux.wait_for("heading Three on top", |s| top_line_has(s, "Three"));
    let (top, total) = position(&s).expect("a position in the status bar");
    let file = blog.path().join("alpha.md");
    let before = std::fs::read_to_string(&file).unwrap();
    let line = 1 + before[..before.find("## Three").unwrap()]
        .matches('\n')
        .count();
    tmux.keys(&["e"]);
    let recorded = poll(|| {
        std::fs::read_to_string(&args)
            .ok()
            .filter(|a| a.lines().count() == 2)
            .ok_or_else(|| "the editor did not run".to_owned())
    });
    assert_eq!(recorded, format!("+{line}\n{}\n", file.display()));
    // The post is read again: longer, and "Three" is still on top, further
    // down it.
    let s = tmux.wait_for("the edited post, at the same text", |s| {
        position(s).is_some_and(|(_, t)| t > total) && top_line_has(s, "Three")
    });
    let (new_top, _) = position(&s).unwrap();
    assert!(new_top > top, "{top} -> {new_top}\n{s}");
    quit(&tmux);
}

/// The reader's position from the status bar's `NN% line/total`.
fn position(screen: &str) -> Option<(usize, usize)> {
    let last = screen.lines().rev().find(|l| !l.trim().is_empty())?;
    let token = last.split_whitespace().last()?;
    let (line, total) = token.split_once('/')?;
    Some((line.parse().ok()?, total.parse().ok()?))
}

#[test]
fn tools_skip_unless_required() {
    assert_eq!(tools::decide(&[], None), Ok(true));
    assert_eq!(tools::decide(&[], Some("require")), Ok(true));
    assert_eq!(tools::decide(&["tmux"], None), Ok(false));
    assert_eq!(tools::decide(&["tmux"], Some("")), Ok(false));
    let err = tools::decide(&["ssh", "tmux"], Some("require")).unwrap_err();
    assert!(err.contains("ssh, tmux are not installed"), "{err}");
    assert!(tools::on_path("sh"));
    assert!(!tools::on_path("folio-no-such-program"));
}

/// Seen from outside: this test binary run again on one test, with no
/// tmux on `PATH`, passes and says it skipped, or fails under
/// `FOLIO_E2E=require`.
#[test]
fn without_tmux_a_test_is_skipped_or_fails_when_required() {
    let exe = std::env::current_exe().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let run = |require: Option<&str>| {
        let mut c = Command::new(&exe);
        c.args(["--exact", "no_argument_opens_the_built_in_guide"])
            .env("PATH", empty.path())
            .env_remove(tools::REQUIRE_ENV);
        if let Some(value) = require {
            c.env(tools::REQUIRE_ENV, value);
        }
        c.output().unwrap()
    };
    let skipped = run(None);
    let (out, err) = (
        String::from_utf8_lossy(&skipped.stdout),
        String::from_utf8_lossy(&skipped.stderr),
    );
    assert!(skipped.status.success(), "{out}\n{err}");
    assert!(out.contains("1 passed"), "{out}");
    assert!(
        err.contains("SKIPPED the tests that need tmux: tmux is not installed"),
        "{err}"
    );
    let required = run(Some("require"));
    let out = String::from_utf8_lossy(&required.stdout);
    assert!(!required.status.success(), "{out}");
    assert!(
        out.contains("FOLIO_E2E=require and tmux is not installed"),
        "{out}"
    );
}

/// The cells of `styled` (tmux's `capture-pane -e`) that show `▀` with
/// `fg` over `bg` (each `r;g;b`): the picture's pixels as the terminal
/// holds them.
fn half_blocks_in(styled: &str, fg: &str, bg: &str) -> usize {
    let (fg, bg) = (format!("38;2;{fg}"), format!("48;2;{bg}"));
    // Each run of cells starts with its SGR; tmux writes fg and bg in one
    // or two sequences before the text they colour.
    let mut count = 0;
    let (mut fore_matches, mut back_matches) = (false, false);
    let mut rest = styled;
    while let Some(c) = rest.chars().next() {
        if c == '\x1b' {
            let end = rest.find('m').map_or(rest.len(), |i| i + 1);
            let sgr = &rest[..end];
            if sgr == "\x1b[0m" || sgr == "\x1b[m" {
                (fore_matches, back_matches) = (false, false);
            }
            if sgr.contains("38;") {
                fore_matches = sgr.contains(&fg);
            }
            if sgr.contains("48;") {
                back_matches = sgr.contains(&bg);
            }
            rest = &rest[end..];
            continue;
        }
        if c == '▀' && fore_matches && back_matches {
            count += 1;
        }
        rest = &rest[c.len_utf8()..];
    }
    count
}

#[test]
fn a_picture_shows_its_colours_in_half_blocks_in_tmux() {
    if !tools::have(&["tmux"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Red over blue, 2:1: half-block cells with a red upper and a blue
    // lower pixel.
    image::RgbImage::from_fn(80, 40, |_, y| {
        image::Rgb(if y < 20 { [250, 10, 10] } else { [10, 10, 250] })
    })
    .save(dir.path().join("rb.png"))
    .unwrap();
    let post = dir.path().join("post.md");
    std::fs::write(
        &post,
        "# Pictures\n\n![red over blue](rb.png)\n\nAfter the picture.\n",
    )
    .unwrap();
    let tmux = folio(
        None,
        "COLORTERM=truecolor",
        &format!("--images halfblocks {}", quoted(&post)),
        100,
        30,
    );
    tmux.wait_text("After the picture.");
    let styled = poll(|| {
        let styled = tmux.styled_screen();
        if half_blocks_in(&styled, "250;10;10", "250;10;10") > 0 {
            Ok(styled)
        } else {
            Err(format!("no red half blocks yet:\n{}", tmux.screen()))
        }
    });
    // The top half of the picture red, the bottom half blue, in rows of
    // the same width, under the alt-text line.
    let rows_of = |fg: &str| -> Vec<usize> {
        styled
            .lines()
            .enumerate()
            .filter(|(_, line)| half_blocks_in(line, fg, fg) > 0)
            .map(|(i, _)| i)
            .collect()
    };
    let (red, blue) = (rows_of("250;10;10"), rows_of("10;10;250"));
    let alt = tmux
        .screen()
        .lines()
        .position(|l| l.contains("[image: red over blue]"))
        .unwrap();
    assert!(!red.is_empty() && red.len() == blue.len(), "{styled:?}");
    assert_eq!(red[0], alt + 1, "{styled:?}");
    assert_eq!(*red.last().unwrap() + 1, blue[0], "{styled:?}");
    let widths: Vec<usize> = styled
        .lines()
        .filter(|l| l.contains('▀'))
        .map(|l| {
            half_blocks_in(l, "250;10;10", "250;10;10")
                + half_blocks_in(l, "10;10;250", "10;10;250")
        })
        .collect();
    assert!(
        widths.iter().all(|&w| w == widths[0] && w > 0),
        "{widths:?}"
    );
    quit(&tmux);
}
