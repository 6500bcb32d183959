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
fn print_folder_lists_setext_titles_as_titles() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("2024-05-06-first-file.md"),
        "Underlined title\n================\n\nText.\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("2024-05-05-second-file.md"),
        "Dashed title\n------------\n\nText.\n",
    )
    .unwrap();
    let out = folio(&["-p", dir.path().to_str().unwrap()]);
    assert_eq!(
        stdout(&out),
        "2024-05-06\tUnderlined title\t2024-05-06-first-file.md\n\
         2024-05-05\tDashed title\t2024-05-05-second-file.md\n"
    );
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

/// folio with `input` on standard input, through a pipe.
fn folio_piped(args: &[&str], input: &[u8]) -> Output {
    use std::io::Write;
    let home = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_folio"))
        .args(args)
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_CACHE_HOME", home.path().join("cache"))
        .env_remove("FOLIO_POSTS")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("folio runs");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    // From a thread: folio may stop reading (past its limit) before the end.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("folio ends");
    writer.join().unwrap();
    out
}

const PIPED: &str = "---\ntitle: From a pipe\ndate: 2025-06-07\n---\n\n# Piped heading\n\nA paragraph that came through standard input.\n";

#[test]
fn a_pipe_is_read_with_dash_and_without_a_path() {
    for args in [
        &["--print"][..],
        &["--print", "-"],
        &["-p", "-", "--width", "50"],
    ] {
        let out = folio_piped(args, PIPED.as_bytes());
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let text = stdout(&out);
        assert!(text.contains("Piped heading"), "{args:?}: {text}");
        assert!(
            text.contains("A paragraph that came through standard input."),
            "{args:?}: {text}"
        );
        assert!(!text.contains("title:"), "frontmatter is not rendered");
        assert!(!text.contains("Welcome to folio"), "{args:?}: {text}");
    }
    // Stdout a pipe too and no --print: printed, as for a file.
    let out = folio_piped(&[], PIPED.as_bytes());
    assert!(stdout(&out).contains("Piped heading"), "{}", stderr(&out));
    // A path wins over the pipe.
    let blog = fixtures::blog();
    let out = folio_piped(&["-p", blog.path().to_str().unwrap()], PIPED.as_bytes());
    assert!(stdout(&out).contains("Bravo"), "{}", stdout(&out));
}

#[test]
fn a_redirected_file_is_read_like_a_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("in.md");
    std::fs::write(&file, PIPED).unwrap();
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_folio"))
        .arg("--print")
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .stdin(std::fs::File::open(&file).unwrap())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("Piped heading"), "{}", stdout(&out));
}

#[test]
fn a_huge_or_endless_pipe_is_cut_with_a_warning() {
    // 40 MB of text: folio reads its first 16 MB and says so.
    let line = "Words and more words in a long piped paragraph.\n\n";
    let input = line.repeat(40_000_000 / line.len());
    let out = folio_piped(&["-p", "-", "--color", "never"], input.as_bytes());
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("standard input: over 16 MB; printing the first 16 MB"),
        "{err}"
    );
    let printed = stdout(&out);
    assert!(printed.len() < 20_000_000, "{}", printed.len());
    assert!(printed.contains("Words and more words"));
}

#[test]
fn without_a_pipe_folio_lists_its_guide_not_stdin() {
    // `output()` gives folio /dev/null for stdin: not a document.
    let out = folio(&["--print"]);
    assert!(stdout(&out).contains("Welcome to folio"));
    // An empty pipe is an empty document, printed as nothing.
    let out = folio_piped(&["-p"], b"");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "");
}

/// folio with a chosen environment (TERM, COLORTERM, ...) and config folder.
fn folio_env(args: &[&str], config: &std::path::Path, vars: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_folio"));
    cmd.args(args)
        .env("XDG_CONFIG_HOME", config)
        .env_remove("NO_COLOR")
        .env_remove("COLORTERM")
        .env_remove("FOLIO_THEME")
        .env_remove("FOLIO_POSTS")
        .env_remove("COLORFGBG")
        .env("TERM", "xterm-256color");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.output().expect("folio runs")
}

fn showcase() -> String {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/posts/2026-11-22-markdown-showcase.md"
    )
    .to_owned()
}

#[test]
fn colour_depth_shapes_the_byte_stream() {
    let home = tempfile::tempdir().unwrap();
    let post = showcase();
    let print = |extra: &[&str], vars: &[(&str, &str)]| {
        let mut args = vec!["--print", post.as_str()];
        if !extra.contains(&"--color") {
            args.extend(["--color", "always"]);
        }
        args.extend_from_slice(extra);
        let out = folio_env(&args, home.path(), vars);
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    let c256 = print(&[], &[]);
    assert!(c256.contains("38;5;"), "256 colours are used");
    assert!(
        !c256.contains("38;2;") && !c256.contains("48;2;"),
        "no RGB in 256 colours"
    );
    let truecolor = print(&[], &[("COLORTERM", "truecolor")]);
    assert!(truecolor.contains("38;2;"));
    for theme in ["dark", "light", "warm", "contrast", "ansi"] {
        let c16 = print(&["--color", "16", "--theme", theme], &[]);
        assert!(c16.contains('\x1b'), "{theme}");
        for extended in ["38;5;", "48;5;", "38;2;", "48;2;"] {
            assert!(!c16.contains(extended), "{theme}: only the 16 colours");
        }
        assert_eq!(
            strip_sgr(&c16),
            strip_sgr(&c256),
            "{theme}: same lines at every depth"
        );
    }
    // No colour: only bold, italic and the like, or nothing at all.
    let out = folio_env(&["--print", &post, "--color", "never"], home.path(), &[]);
    assert!(!stdout(&out).contains('\x1b'));
    let out = folio_env(&["--print", &post], home.path(), &[("NO_COLOR", "1")]);
    assert!(!stdout(&out).contains('\x1b'));
}

#[test]
fn config_precedence_flag_env_file_default() {
    let home = tempfile::tempdir().unwrap();
    let cfg = |args: &[&str], vars: &[(&str, &str)]| {
        let mut a = vec!["--print-config"];
        a.extend_from_slice(args);
        let out = folio_env(&a, home.path(), vars);
        assert!(out.status.success(), "{}", stderr(&out));
        (stdout(&out), stderr(&out))
    };
    let (yaml, err) = cfg(&[], &[]);
    assert!(err.is_empty(), "a missing config file is normal: {err}");
    assert!(
        yaml.contains("theme: 'auto'\n") && yaml.contains("max_width: 100\n"),
        "{yaml}"
    );
    assert!(yaml.contains("  next_heading: [']']\n"), "{yaml}");

    std::fs::create_dir_all(home.path().join("folio")).unwrap();
    std::fs::write(
        home.path().join("folio/config.yaml"),
        "theme: warm\nposts: /from/file\nmax_width: 72\nkeys:\n  next_heading: [']', n]\n",
    )
    .unwrap();
    let (yaml, _) = cfg(&[], &[]);
    assert!(
        yaml.contains("theme: 'warm'\n") && yaml.contains("posts: '/from/file'\n"),
        "{yaml}"
    );
    assert!(
        yaml.contains("max_width: 72\n") && yaml.contains("  next_heading: [']', 'n']\n"),
        "{yaml}"
    );
    let (yaml, _) = cfg(
        &[],
        &[("FOLIO_THEME", "light"), ("FOLIO_POSTS", "/from/env")],
    );
    assert!(
        yaml.contains("theme: 'light'\n") && yaml.contains("posts: '/from/env'\n"),
        "{yaml}"
    );
    let (yaml, _) = cfg(
        &["--theme", "contrast", "/from/flag"],
        &[("FOLIO_THEME", "light")],
    );
    assert!(
        yaml.contains("theme: 'contrast'\n") && yaml.contains("posts: '/from/flag'\n"),
        "{yaml}"
    );
}

#[test]
fn broken_config_and_themes_are_messages_not_failures() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("folio");
    std::fs::create_dir_all(dir.join("themes")).unwrap();
    std::fs::write(
        dir.join("config.yaml"),
        "max_width: wide\nmystery: 1\ntheme: mine\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("themes/mine.yaml"),
        "base: dark\nmarkdown:\n  h1: {fg: \"#zzzzzz\"}\n",
    )
    .unwrap();
    let out = folio_env(
        &["--print", &showcase(), "--color", "always"],
        home.path(),
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    let cfg = dir.join("config.yaml");
    assert!(
        err.contains(&format!("{}:1: max_width:", cfg.display())),
        "{err}"
    );
    assert!(
        err.contains(&format!("{}:2: mystery: unknown key", cfg.display())),
        "{err}"
    );
    let theme = dir.join("themes/mine.yaml");
    assert!(
        err.contains(&format!("{}:3: markdown.h1: '#zzzzzz'", theme.display())),
        "{err}"
    );
    assert!(err.contains("using the built-in 'dark'"), "{err}");
    assert!(
        stdout(&out).contains("\x1b["),
        "still prints, in the default theme"
    );

    std::fs::write(dir.join("config.yaml"), "theme: [broken\n").unwrap();
    let out = folio_env(
        &["--print", &showcase(), "--theme", "nosuch"],
        home.path(),
        &[],
    );
    assert!(out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("config.yaml:2:") && err.contains("using the defaults"),
        "{err}"
    );
    assert!(
        err.contains("unknown theme 'nosuch' (available: ansi, contrast, dark, light, mine, warm)"),
        "{err}"
    );
}

#[test]
fn list_themes_marks_the_built_in_ones() {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join("folio/themes")).unwrap();
    std::fs::write(home.path().join("folio/themes/mine.yaml"), "base: warm\n").unwrap();
    std::fs::write(home.path().join("folio/themes/dark.yaml"), "base: dark\n").unwrap();
    let out = folio_env(&["--list-themes"], home.path(), &[]);
    assert_eq!(
        stdout(&out),
        "ansi\tbuilt-in\ncontrast\tbuilt-in\ndark\tuser, overrides built-in\nlight\tbuilt-in\nmine\tuser\nwarm\tbuilt-in\n"
    );
}

#[test]
fn wrap_code_false_cuts_long_code_lines() {
    let home = tempfile::tempdir().unwrap();
    let post = home.path().join("code.md");
    std::fs::write(
        &post,
        "```\nlet x = \"a line of code that is far too long for forty columns\";\n```\n",
    )
    .unwrap();
    let out = folio_env(
        &["--print", post.to_str().unwrap(), "-w", "40"],
        home.path(),
        &[],
    );
    let wrapped = stdout(&out);
    assert!(wrapped.contains('↪'), "wraps by default: {wrapped}");
    std::fs::create_dir_all(home.path().join("folio")).unwrap();
    std::fs::write(home.path().join("folio/config.yaml"), "wrap_code: false\n").unwrap();
    let out = folio_env(
        &["--print", post.to_str().unwrap(), "-w", "40"],
        home.path(),
        &[],
    );
    let cut = stdout(&out);
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    assert!(!cut.contains('↪') && cut.contains('…'), "{cut}");
    assert_eq!(cut.lines().count(), 1, "{cut}");
}
