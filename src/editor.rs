//! Running the person's editor on a post: `$VISUAL`, else `$EDITOR`, else
//! `vi`, split into words the way a shell would (quotes, backslashes) but
//! without running a shell, so nothing in the variable is executed beyond
//! the program it names. Editors folio knows are opened at the line the
//! reader shows (`+N`, `--goto file:N` or `file:N`, as each expects); others
//! get the file alone.

use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::Command;

use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum EditorError {
    #[error("cannot understand the editor command {command:?}: {reason}")]
    Parse { command: String, reason: String },
    #[error("cannot run the editor {program:?}: {reason}")]
    Spawn { program: String, reason: String },
    #[error("the editor {program:?} exited with {status}")]
    Failed { program: String, status: String },
}

/// The editor's program and arguments, from the values of `VISUAL` and
/// `EDITOR` (an empty value counts as unset).
pub fn command(visual: Option<&str>, editor: Option<&str>) -> Result<Vec<String>, EditorError> {
    let text = [visual, editor]
        .into_iter()
        .flatten()
        .find(|v| !v.trim().is_empty())
        .unwrap_or("vi");
    let words = shell_words::split(text).map_err(|e| EditorError::Parse {
        command: text.to_owned(),
        reason: e.to_string(),
    })?;
    if words.is_empty() {
        return Err(EditorError::Parse {
            command: text.to_owned(),
            reason: "no program".into(),
        });
    }
    Ok(words)
}

/// What a remote reader is told when it asks for the editor: the files are
/// on another machine, and so would the editor be.
pub const REMOTE: &str = "Editing is off in a remote session";

/// How an editor is told which line to open a file at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineArg {
    /// `+N file`: vi and its family, nano, emacs, micro, helix, kakoune.
    Plus,
    /// `--goto file:N`: Visual Studio Code and its forks.
    Goto,
    /// `file:N`: Sublime Text, Zed.
    Suffix,
    /// The file alone: an editor folio does not know.
    None,
}

/// The way `program` (a name or a path) takes a line, by its file name.
pub fn line_arg(program: &str) -> LineArg {
    let name = Path::new(program)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(program);
    match name {
        "vi" | "vim" | "nvim" | "gvim" | "mvim" | "view" | "nvi" | "vis" | "ex" | "nano"
        | "pico" | "rnano" | "emacs" | "emacsclient" | "mg" | "micro" | "hx" | "helix" | "kak"
        | "joe" | "jed" | "ne" | "gedit" => LineArg::Plus,
        "code" | "code-insiders" | "codium" | "vscodium" | "cursor" | "windsurf" => LineArg::Goto,
        "subl" | "sublime_text" | "zed" | "zeditor" => LineArg::Suffix,
        _ => LineArg::None,
    }
}

/// The editor's full command line for `file` at 1-based `line`: the
/// words of `$VISUAL`/`$EDITOR`, then the file (with the line where the
/// editor is known to take one).
pub fn arguments(words: &[String], file: &Path, line: Option<usize>) -> Vec<OsString> {
    let mut out: Vec<OsString> = words.iter().map(OsString::from).collect();
    // A relative name starting with `-` or `+` would be read as an option.
    let file: PathBuf = match file.to_str() {
        Some(s) if file.is_relative() && (s.starts_with('-') || s.starts_with('+')) => {
            Path::new(".").join(file)
        }
        _ => file.to_path_buf(),
    };
    let with_line = |file: &Path, line: usize| {
        let mut s = file.as_os_str().to_owned();
        s.push(format!(":{line}"));
        s
    };
    let style = words.first().map_or(LineArg::None, |p| line_arg(p));
    match (line, style) {
        (Some(n), LineArg::Plus) => {
            out.push(format!("+{n}").into());
            out.push(file.into_os_string());
        }
        (Some(n), LineArg::Goto) => {
            out.push("--goto".into());
            out.push(with_line(&file, n));
        }
        (Some(n), LineArg::Suffix) => out.push(with_line(&file, n)),
        _ => out.push(file.into_os_string()),
    }
    out
}

/// Opens `file` in the editor of `$VISUAL`/`$EDITOR` at 1-based `line`
/// (when given and the editor takes one) and waits for it to exit. The
/// terminal must be handed over first (the runner does that).
pub fn edit(file: &Path, line: Option<usize>) -> Result<(), EditorError> {
    let var = |name| std::env::var(name).ok();
    let words = command(var("VISUAL").as_deref(), var("EDITOR").as_deref())?;
    run(&words, file, line)
}

/// Runs the editor command `words` on `file` at `line` and waits for it.
pub fn run(words: &[String], file: &Path, line: Option<usize>) -> Result<(), EditorError> {
    let Some(program) = words.first().cloned() else {
        return Err(EditorError::Parse {
            command: String::new(),
            reason: "no program".into(),
        });
    };
    let args = arguments(words, file, line);
    let mut command = Command::new(&args[0]);
    command.args(&args[1..]);
    // Keys come from the terminal even when folio's stdin is a pipe.
    if !std::io::stdin().is_terminal()
        && let Ok(tty) = std::fs::File::open("/dev/tty")
    {
        command.stdin(tty);
    }
    let status = command.status().map_err(|e| EditorError::Spawn {
        program: program.clone(),
        reason: e.to_string(),
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(EditorError::Failed {
            program,
            status: status.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visual_then_editor_then_vi() {
        assert_eq!(command(Some("nvim"), Some("nano")).unwrap(), ["nvim"]);
        assert_eq!(command(None, Some("nano")).unwrap(), ["nano"]);
        assert_eq!(command(Some(""), Some("  ")).unwrap(), ["vi"]);
        assert_eq!(command(None, None).unwrap(), ["vi"]);
    }

    #[test]
    fn split_like_a_shell_without_one() {
        assert_eq!(
            command(Some("code --wait"), None).unwrap(),
            ["code", "--wait"]
        );
        assert_eq!(
            command(Some("'/opt/My Editor/bin/ed' -n \"a b\" c\\ d"), None).unwrap(),
            ["/opt/My Editor/bin/ed", "-n", "a b", "c d"]
        );
        // Shell syntax is just text: no command substitution, no `;`.
        assert_eq!(
            command(Some("vi; rm -rf $HOME `x`"), None).unwrap(),
            ["vi;", "rm", "-rf", "$HOME", "`x`"]
        );
        assert!(matches!(
            command(Some("vi 'unclosed"), None),
            Err(EditorError::Parse { .. })
        ));
    }

    fn args(editor: &str, file: &str, line: Option<usize>) -> Vec<String> {
        let words = command(Some(editor), None).unwrap();
        arguments(&words, Path::new(file), line)
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect()
    }

    #[test]
    fn each_editor_is_told_the_line_its_way() {
        for vi in ["vi", "vim", "nvim", "nano", "emacs", "micro", "hx", "kak"] {
            assert_eq!(args(vi, "/b/p.md", Some(42)), [vi, "+42", "/b/p.md"]);
        }
        assert_eq!(
            args("/usr/local/bin/nvim -u NONE", "/b/p.md", Some(7)),
            ["/usr/local/bin/nvim", "-u", "NONE", "+7", "/b/p.md"]
        );
        assert_eq!(
            args("emacsclient -t", "/b/p.md", Some(3)),
            ["emacsclient", "-t", "+3", "/b/p.md"]
        );
        assert_eq!(
            args("code --wait", "/b/p.md", Some(9)),
            ["code", "--wait", "--goto", "/b/p.md:9"]
        );
        assert_eq!(
            args("subl -w", "/b/p.md", Some(9)),
            ["subl", "-w", "/b/p.md:9"]
        );
        // Unknown editors and no line: the file alone.
        assert_eq!(args("ed", "/b/p.md", Some(9)), ["ed", "/b/p.md"]);
        assert_eq!(args("vim", "/b/p.md", None), ["vim", "/b/p.md"]);
        assert_eq!(args("code -w", "/b/p.md", None), ["code", "-w", "/b/p.md"]);
        // A file name that looks like an option is not taken for one.
        assert_eq!(args("vim", "-rf.md", Some(2)), ["vim", "+2", "./-rf.md"]);
        assert_eq!(args("ed", "+x.md", None), ["ed", "./+x.md"]);
    }

    #[test]
    fn a_missing_program_is_an_error_not_a_crash() {
        let missing = ["/nonexistent/folio-editor".to_owned()];
        let err = run(&missing, Path::new("p.md"), Some(3)).unwrap_err();
        assert!(
            matches!(&err, EditorError::Spawn { program, .. } if program == &missing[0]),
            "{err:?}"
        );
        assert!(err.to_string().starts_with("cannot run the editor"));
        let err = run(&["false".to_owned()], Path::new("p.md"), None).unwrap_err();
        assert!(matches!(err, EditorError::Failed { .. }), "{err:?}");
        assert!(matches!(
            run(&[], Path::new("p.md"), None),
            Err(EditorError::Parse { .. })
        ));
    }
}
