//! Running the person's editor on a post: `$VISUAL`, else `$EDITOR`, else
//! `vi`, split into words the way a shell would (quotes, backslashes) but
//! without running a shell, so nothing in the variable is executed beyond
//! the program it names.

use std::path::Path;
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

/// Opens `file` in the editor and waits for it to exit. The terminal must
/// be handed over first (the runner does that).
pub fn edit(file: &Path) -> Result<(), EditorError> {
    let var = |name| std::env::var(name).ok();
    let words = command(var("VISUAL").as_deref(), var("EDITOR").as_deref())?;
    let program = words[0].clone();
    let status = Command::new(&program)
        .args(&words[1..])
        .arg(file)
        .status()
        .map_err(|e| EditorError::Spawn {
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

    #[test]
    fn a_missing_program_is_an_error_not_a_crash() {
        let e = Command::new("/nonexistent/folio-editor")
            .status()
            .unwrap_err();
        let err = EditorError::Spawn {
            program: "/nonexistent/folio-editor".into(),
            reason: e.to_string(),
        };
        assert!(err.to_string().starts_with("cannot run the editor"));
    }
}
