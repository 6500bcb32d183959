//! The command line as a citizen: `--version` paths, help, completions, the
//! man page, and the opt-in log file, through the real binary.

#[path = "support/fixtures.rs"]
mod fixtures;
#[path = "support/tmux.rs"]
mod tmux;
#[path = "support/tools.rs"]
mod tools;

use std::path::Path;
use std::process::{Command, Output};

use tmux::{Tmux, poll};

/// Runs folio with every XDG folder under `home`, and no `FOLIO_LOG` unless
/// `log` says so.
fn folio_in(home: &Path, log: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_folio"));
    cmd.args(args)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env_remove("FOLIO_LOG")
        .env_remove("NO_COLOR");
    if let Some(filter) = log {
        cmd.env("FOLIO_LOG", filter);
    }
    cmd.output().expect("folio runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn version_prints_the_resolved_paths() {
    let home = tempfile::tempdir().unwrap();
    let out = folio_in(home.path(), None, &["--version"]);
    assert!(out.status.success());
    let h = home.path().display();
    let expected = format!(
        "folio {}\nconfig file: {h}/config/folio/config.yaml\nthemes: {h}/config/folio/themes\n\
         data: {h}/data/folio\nlog file: {h}/cache/folio/folio.log\n",
        env!("CARGO_PKG_VERSION")
    );
    assert_eq!(text(&out.stdout), expected);
    // -V stays short, as clap does it.
    let short = folio_in(home.path(), None, &["-V"]);
    assert_eq!(
        text(&short.stdout),
        format!("folio {}\n", env!("CARGO_PKG_VERSION"))
    );
    // Asking for the version creates nothing.
    assert_eq!(std::fs::read_dir(home.path()).unwrap().count(), 0);
}

#[test]
fn help_is_short_with_h_and_long_with_help() {
    let home = tempfile::tempdir().unwrap();
    let short = text(&folio_in(home.path(), None, &["-h"]).stdout);
    let long = text(&folio_in(home.path(), None, &["--help"]).stdout);
    for help in [&short, &long] {
        for needle in [
            "Examples:",
            "completions",
            "--print",
            "--max-width",
            "--no-mouse",
        ] {
            assert!(help.contains(needle), "{needle} missing from:\n{help}");
        }
    }
    assert!(
        long.contains("FOLIO_LOG") && long.contains("NO_COLOR"),
        "{long}"
    );
    assert!(long.contains("folio ./man"), "{long}");
    assert!(short.lines().count() < long.lines().count());
    // Two screens of a small terminal at most: options, then examples.
    assert!(short.lines().count() <= 45, "-h stays short:\n{short}");
}

#[test]
fn completions_for_every_shell() {
    let home = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = folio_in(home.path(), None, &["completions", shell]);
        assert!(out.status.success(), "{shell}: {}", text(&out.stderr));
        let script = text(&out.stdout);
        assert!(
            script.contains("folio") && script.contains("max-width"),
            "{shell}"
        );
    }
    let out = folio_in(home.path(), None, &["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn man_prints_a_roff_page_and_dot_slash_man_opens_a_folder() {
    let home = tempfile::tempdir().unwrap();
    let out = folio_in(home.path(), None, &["man"]);
    assert!(out.status.success());
    let page = text(&out.stdout);
    assert!(page.contains(".TH folio 1"), "{page}");
    assert!(page.contains("max\\-width"), "{page}");

    // A folder literally named `man` is opened as a path.
    let dir = tempfile::tempdir().unwrap();
    let man = dir.path().join("man");
    std::fs::create_dir(&man).unwrap();
    std::fs::write(man.join("a.md"), "---\ntitle: In man\n---\nbody\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_folio"))
        .current_dir(dir.path())
        .args(["--print", "./man"])
        .output()
        .unwrap();
    assert_eq!(text(&out.stdout), "\tIn man\ta.md\n");
    // Commands take no reader options.
    let out = folio_in(home.path(), None, &["man", "--print"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn folio_log_writes_a_file_and_nothing_to_the_terminal() {
    let home = tempfile::tempdir().unwrap();
    let blog = fixtures::blog();
    let dir = blog.path().to_str().unwrap();
    let quiet = folio_in(home.path(), None, &["--print", dir]);
    assert!(
        !home.path().join("cache").exists(),
        "no log file without FOLIO_LOG"
    );
    let out = folio_in(home.path(), Some("debug"), &["--print", dir]);
    assert!(out.status.success());
    assert_eq!(out.stdout, quiet.stdout, "logging changes no output");
    assert_eq!(text(&out.stderr), "", "nothing on stderr");
    let log = std::fs::read_to_string(home.path().join("cache/folio/folio.log")).unwrap();
    assert!(
        log.contains("scanned posts") && log.contains("posts=5"),
        "{log}"
    );
    // Paths and counts, never post content.
    assert!(!log.contains("Paragraph"), "{log}");
}

#[test]
fn log_file_flag_logs_at_info_and_errors_are_logged() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("elsewhere/folio.log");
    let out = folio_in(
        home.path(),
        None,
        &[
            "--log-file",
            file.to_str().unwrap(),
            "--print",
            "/definitely/not/here",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr).lines().count(),
        1,
        "{}",
        text(&out.stderr)
    );
    let log = std::fs::read_to_string(&file).unwrap();
    assert!(
        log.contains("INFO") && log.contains("folio starting"),
        "{log}"
    );
    assert!(
        log.contains("ERROR") && log.contains("/definitely/not/here"),
        "{log}"
    );
    assert!(
        !log.contains("DEBUG"),
        "info unless FOLIO_LOG says otherwise"
    );
}

#[test]
fn frontmatter_errors_are_logged_as_warnings() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("broken.md"),
        "---\ntitle: [unclosed\n---\nbody\n",
    )
    .unwrap();
    let out = folio_in(
        home.path(),
        Some("warn"),
        &["--print", dir.path().to_str().unwrap()],
    );
    assert!(out.status.success());
    let log = std::fs::read_to_string(home.path().join("cache/folio/folio.log")).unwrap();
    assert!(
        log.contains("WARN") && log.contains("frontmatter error") && log.contains("broken.md"),
        "{log}"
    );
    assert!(
        !log.contains("scanned posts"),
        "info is filtered out at warn"
    );
}

#[test]
fn a_bad_folio_log_warns_once_and_carries_on() {
    let home = tempfile::tempdir().unwrap();
    let out = folio_in(home.path(), Some("folio=notalevel"), &["--print"]);
    assert!(out.status.success());
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("FOLIO_LOG"), "{err}");
}

#[test]
fn panics_are_logged_then_passed_on() {
    // In this test process only: no other test here logs or panics in-process.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("panic.log");
    let started = folio::logging::init(Some(&file)).unwrap();
    assert_eq!(started.file.as_deref(), Some(file.as_path()));
    let result = std::panic::catch_unwind(|| panic!("boom {}", 42));
    assert!(result.is_err());
    let log = std::fs::read_to_string(&file).unwrap();
    assert!(
        log.contains("ERROR") && log.contains("panic") && log.contains("boom 42"),
        "{log}"
    );
    assert!(log.contains("tests/citizen.rs"), "with the location: {log}");
}

/// The reader in a real terminal (tmux) with `FOLIO_LOG=debug`: the log gets
/// the start-up and the post opened, the screen gets none of it.
#[test]
fn logging_never_reaches_the_reader_screen() {
    if !tools::have(&["tmux"]) {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let tmux = Tmux::start(
        &format!(
            "export FOLIO_LOG=debug XDG_CONFIG_HOME='{h}/config' XDG_DATA_HOME='{h}/data' \
             XDG_CACHE_HOME='{h}/cache'; '{bin}'",
            h = home.path().display(),
            bin = env!("CARGO_BIN_EXE_folio"),
        ),
        100,
        30,
    );
    let log_file = home.path().join("cache/folio/folio.log");
    let mut screens = vec![tmux.wait_text("Welcome to folio")];
    // The selected post is opened (read and laid out) for the right pane;
    // `J` opens the next one.
    tmux.keys(&["Tab", "J"]);
    screens.push(tmux.wait_text("Getting around"));
    poll(|| {
        std::fs::read_to_string(&log_file)
            .is_ok_and(|log| log.matches("opened post").count() >= 2)
            .then_some(())
            .ok_or_else(|| "no 'opened post' events".to_owned())
    });
    tmux.keys(&["q"]);
    screens.push(tmux.wait_text("EXITED 0"));
    for screen in &screens {
        for word in ["DEBUG", "INFO", "opened post", "scanned posts"] {
            assert!(!screen.contains(word), "{word} on screen:\n{screen}");
        }
    }
    let log = std::fs::read_to_string(&log_file).unwrap();
    assert!(
        log.contains("scanned posts") && log.contains("posts=4"),
        "{log}"
    );
    assert!(
        log.contains("opened post") && log.contains("bytes="),
        "{log}"
    );
}
