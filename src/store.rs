//! Writing folio's own files (reading state, later config) so that a crash,
//! a full disk or a read-only data folder never leaves a truncated file: the
//! new content goes to a temporary file in the same folder, is synced, and
//! replaces the old one in one rename. A failure is an `Err` the caller shows
//! as a warning; the old file is untouched.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use thiserror::Error;

#[derive(Debug, Error)]
#[error("cannot save {}: {source}", path.display())]
pub struct StoreError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// Replaces `path` with `bytes` atomically: readers see the old content or
/// the new, never a mix or a prefix.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let err = |source| StoreError {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| {
        err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a file name",
        ))
    })?;
    // Same folder, so the rename never crosses file systems; the pid keeps
    // two folio processes from writing the same temporary file.
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    let tmp = dir.join(tmp_name);
    let result = write_synced(&tmp, bytes).and_then(|()| fs::rename(&tmp, path));
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(err(e));
    }
    // The rename is durable only once the folder itself is synced; where a
    // folder cannot be opened for that (some platforms), the write stands.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

fn write_synced(tmp: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(tmp)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.toml");
        atomic_write(&path, b"first, and longer\n").unwrap();
        atomic_write(&path, b"second\n").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second\n");
        let left: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "temporary file left behind");
    }

    #[cfg(unix)]
    #[test]
    fn read_only_folder_is_an_error_and_keeps_the_old_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.toml");
        fs::write(&path, "old\n").unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o555)).unwrap();
        let result = atomic_write(&path, b"new\n");
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        if nix_root() {
            return; // root writes anywhere: nothing to test
        }
        let e = result.expect_err("read-only folder");
        assert!(e.to_string().starts_with("cannot save "), "{e}");
        assert_eq!(fs::read(&path).unwrap(), b"old\n");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn full_disk_is_an_error() {
        // /dev/full fails every write with ENOSPC, as a full disk does; it
        // cannot stand in for the folder, so this checks the write step.
        let e = write_synced(Path::new("/dev/full"), &[0; 8192]).expect_err("no space");
        assert_eq!(e.kind(), std::io::ErrorKind::StorageFull, "{e}");
    }

    #[cfg(unix)]
    fn nix_root() -> bool {
        use std::os::unix::fs::PermissionsExt;
        // Root ignores permission bits: probe rather than ask for the uid.
        let dir = tempfile::tempdir().unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o555)).unwrap();
        let ok = fs::write(dir.path().join("probe"), "x").is_ok();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        ok
    }

    #[test]
    fn missing_folder_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gone").join("state.toml");
        assert!(atomic_write(&path, b"x").is_err());
        assert!(!path.exists());
    }
}
