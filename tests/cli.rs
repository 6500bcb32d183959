//! `folio --print` and the command line's error paths, through the real
//! binary.

#[path = "support/fixtures.rs"]
mod fixtures;

use std::process::{Command, Output};

fn folio(args: &[&str]) -> Output {
    let home = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_folio"))
        .args(args)
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_CACHE_HOME", home.path().join("cache"))
        .env_remove("NO_COLOR")
        .output()
        .expect("folio runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn print_folder_lists_posts_newest_first() {
    let blog = fixtures::blog();
    let out = folio(&["--print", blog.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "2025-03-01\tAlpha: a long post\talpha.md",
            "2025-02-01\tBravo\tbravo.md",
            "2025-01-15\tCharlie the draft\tcharlie.md",
            "\tDelta\tdelta.md",
            "\tEcho without a date\techo.md",
        ]
    );
}

#[test]
fn print_folder_paths_are_relative_and_recursive() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("2024/notes")).unwrap();
    std::fs::write(
        dir.path().join("2024/notes/deep.md"),
        "---\ntitle: Deep\ndate: 2024-05-05\n---\nbody\n",
    )
    .unwrap();
    let out = folio(&["-p", dir.path().to_str().unwrap()]);
    assert_eq!(stdout(&out), "2024-05-05\tDeep\t2024/notes/deep.md\n");
}

#[test]
fn print_file_renders_markdown_without_colour_when_piped() {
    let blog = fixtures::blog();
    let file = blog.path().join("alpha.md");
    let out = folio(&["--print", file.to_str().unwrap(), "--width", "60"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(!text.contains('\x1b'), "no escapes when piped: {text:?}");
    assert!(!text.contains("title:"), "frontmatter is not rendered");
    assert!(text.contains("Paragraph 1 of section One."));
    for line in text.lines() {
        assert!(folio::sanitize::display_width(line) <= 60, "{line:?}");
    }
}

#[test]
fn print_with_colour_emits_only_sgr() {
    let blog = fixtures::blog();
    let file = blog.path().join("alpha.md");
    let out = folio(&[
        "--print",
        file.to_str().unwrap(),
        "--color",
        "always",
        "-w",
        "80",
    ]);
    let text = stdout(&out);
    assert!(text.contains("\x1b["), "colour requested");
    // Every escape must be a complete SGR sequence: ESC [ digits/; m.
    let mut rest = text.as_str();
    while let Some(i) = rest.find('\x1b') {
        let seq = &rest[i..];
        let end = seq.find('m').expect("sequence ends with m");
        assert!(
            seq[1..end].starts_with('[')
                && seq[2..end].chars().all(|c| c.is_ascii_digit() || c == ';'),
            "not SGR: {:?}",
            &seq[..=end]
        );
        rest = &seq[end + 1..];
    }
    let plain = folio(&[
        "--print",
        file.to_str().unwrap(),
        "--color",
        "never",
        "-w",
        "80",
    ]);
    let plain_text = stdout(&plain);
    assert!(!plain_text.contains('\x1b'));
    // The same layout either way.
    assert_eq!(text.lines().count(), plain_text.lines().count());
}

#[test]
fn no_color_env_turns_colour_off_in_auto_mode() {
    let blog = fixtures::blog();
    let file = blog.path().join("alpha.md");
    let out = Command::new(env!("CARGO_BIN_EXE_folio"))
        .args(["--print", file.to_str().unwrap()])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!stdout(&out).contains('\x1b'));
}

#[test]
fn hostile_titles_and_bodies_print_no_control_bytes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("evil.md"),
        "---\ntitle: \"bad\\e]0;owned\\a\\e[2J title\"\ndate: 2025-01-01\n---\n\n# Head\u{1b}[31m\n\ntext &#27;[2J and &#155;31m and \u{202e}rtl\n",
    )
    .unwrap();
    let list = folio(&["-p", dir.path().to_str().unwrap()]);
    let text = stdout(&list);
    assert!(text.contains("bad␛]0;owned␇␛[2J title"), "{text:?}");
    let file = dir.path().join("evil.md");
    for color in ["always", "never"] {
        let out = folio(&["-p", file.to_str().unwrap(), "--color", color]);
        let text = stdout(&out);
        let stripped = strip_sgr(&text);
        assert!(
            !stripped
                .chars()
                .any(|c| c != '\n' && folio::sanitize::is_unsafe(c)),
            "control byte in {color} output: {stripped:?}"
        );
        assert!(stripped.contains("␛[2J"), "{stripped:?}");
    }
}

fn strip_sgr(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("\x1b[") {
        out.push_str(&rest[..i]);
        let end = rest[i..].find('m').map_or(rest.len(), |e| i + e + 1);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn errors_are_one_clear_line() {
    let out = folio(&["--print", "/definitely/not/here"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("/definitely/not/here") && err.contains("no such file"),
        "{err}"
    );
    assert!(!err.contains("panicked"));

    let out = folio(&["--bogus-flag"]);
    assert_eq!(out.status.code(), Some(2), "usage errors exit 2");
    let out = folio(&["--print", "--width", "0", "/tmp"]);
    assert_eq!(out.status.code(), Some(2));
}

#[cfg(unix)]
#[test]
fn unreadable_file_is_an_error_not_a_panic() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("locked.md");
    std::fs::write(&file, "# Locked\n").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&file).is_ok() {
        return; // running as root: permissions do not apply
    }
    let out = folio(&["--print", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("ermission denied"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn print_without_a_path_lists_the_built_in_posts() {
    let out = folio(&["--print"]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(text.contains("Welcome to folio"), "{text}");
    assert!(text.lines().count() >= 4, "{text}");
}
