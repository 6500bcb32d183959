//! The server's host key and, in private mode, the keys let in.

use std::io;
use std::path::Path;

use russh::keys::{Algorithm, HashAlg, PrivateKey, PublicKey};

use super::ServeError;

/// The host key at `path`, generated (Ed25519, mode 0600) if there is no
/// file. An existing file that cannot be read or parsed is an error: a
/// silently replaced host key would make every visitor's ssh warn of an
/// attack, and hide a real problem.
pub fn host_key(path: &Path) -> Result<(PrivateKey, bool), ServeError> {
    match std::fs::read(path) {
        Ok(bytes) => {
            let bad = |reason: String| ServeError::BadKey {
                path: path.to_path_buf(),
                reason,
            };
            let key = PrivateKey::from_openssh(&bytes).map_err(|e| bad(e.to_string()))?;
            if key.is_encrypted() {
                return Err(bad("it is encrypted".into()));
            }
            Ok((key, false))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let write = |source| ServeError::WriteKey {
                path: path.to_path_buf(),
                source,
            };
            let key = PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519)
                .map_err(|e| write(io::Error::other(e.to_string())))?;
            let text = key
                .to_openssh(russh::keys::ssh_key::LineEnding::LF)
                .map_err(|e| write(io::Error::other(e.to_string())))?;
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                create_private_dir(parent).map_err(write)?;
            }
            write_private_file(path, text.as_bytes()).map_err(write)?;
            Ok((key, true))
        }
        Err(source) => Err(ServeError::ReadKey {
            path: path.to_path_buf(),
            source,
        }),
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)
}

fn write_private_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    // Never overwrite: a key that appeared meanwhile wins.
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// The fingerprint ssh shows for a key: `SHA256:…`.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// Reads an `authorized_keys` file: one key per line, `#` comments; options
/// before the key type are ignored (a reader has nothing to restrict).
pub fn authorized_keys(path: &Path) -> Result<Vec<PublicKey>, ServeError> {
    let text = std::fs::read_to_string(path).map_err(|source| ServeError::ReadAuthorized {
        path: path.to_path_buf(),
        source,
    })?;
    let mut keys = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parsed = PublicKey::from_openssh(line).or_else(|first| {
            // `options ssh-ed25519 AAAA… comment`: skip to the key type.
            line.match_indices(' ')
                .find_map(|(at, _)| PublicKey::from_openssh(line[at..].trim_start()).ok())
                .ok_or(first)
        });
        match parsed {
            Ok(key) => keys.push(key),
            Err(e) => {
                return Err(ServeError::BadAuthorized {
                    path: path.to_path_buf(),
                    line: i + 1,
                    reason: e.to_string(),
                });
            }
        }
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_key_is_made_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/folio/key");
        let (key, created) = host_key(&path).unwrap();
        assert!(created);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (again, created) = host_key(&path).unwrap();
        assert!(!created);
        assert_eq!(
            fingerprint(key.public_key()),
            fingerprint(again.public_key())
        );
        assert!(fingerprint(key.public_key()).starts_with("SHA256:"));
    }

    #[test]
    fn a_corrupt_host_key_is_an_error_and_stays() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, "not a key").unwrap();
        let err = host_key(&path).unwrap_err().to_string();
        assert!(err.contains("not a usable OpenSSH private key"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "not a key");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let dir = dir.path().join("locked");
            std::fs::create_dir(&dir).unwrap();
            let locked = dir.join("key");
            std::fs::write(&locked, "x").unwrap();
            std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
            // Root reads anything; the check only means something otherwise.
            if std::fs::read(&locked).is_err() {
                assert!(matches!(host_key(&locked), Err(ServeError::ReadKey { .. })));
            }
        }
    }

    #[test]
    fn authorized_keys_with_options_and_comments() {
        let dir = tempfile::tempdir().unwrap();
        let (key, _) = host_key(&dir.path().join("k")).unwrap();
        let public = key.public_key().to_openssh().unwrap();
        let path = dir.path().join("authorized_keys");
        std::fs::write(
            &path,
            format!("# readers\n\n{public} me@laptop\nno-pty,from=\"10.0.0.1\" {public}\n"),
        )
        .unwrap();
        let keys = authorized_keys(&path).unwrap();
        assert_eq!(keys.len(), 2);
        std::fs::write(&path, format!("{public}\nssh-ed25519 garbage\n")).unwrap();
        let err = authorized_keys(&path).unwrap_err().to_string();
        assert!(err.contains(":2: not a public key"), "{err}");
    }
}
