//! Remote pictures, only when the person turns them on: fetched over
//! `http(s)` on a worker, with a size cap and a timeout, and kept in the
//! cache folder under a hash of their URL, the folder's size bounded
//! (the least recently used go first).

use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use super::MAX_FILE_BYTES;

/// The longest a fetch takes, from the name lookup to the last byte.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// The most the cache folder of fetched pictures holds.
pub const CACHE_BYTES: u64 = 100 * 1024 * 1024;

/// Where the picture at `url` is kept in the cache folder `cache`.
pub fn cache_file(cache: &Path, url: &str) -> PathBuf {
    let digest = Sha256::digest(url.as_bytes());
    let name = digest[..16].iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    });
    cache.join(name)
}

/// Makes sure the picture at `url` is in `file` (in the cache folder
/// `cache`): kept from before, else fetched. The error is a short reason.
pub fn fetch(url: &str, file: &Path, cache: &Path) -> Result<(), String> {
    if fs::symlink_metadata(file).is_ok_and(|m| m.is_file()) {
        // Used now: the last to be evicted.
        if let Ok(f) = fs::File::options().append(true).open(file) {
            let _ = f.set_modified(SystemTime::now());
        }
        return Ok(());
    }
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .timeout_global(Some(TIMEOUT))
            .max_redirects(5)
            .build(),
    );
    let mut response = agent.get(url).call().map_err(|e| why(&e))?;
    let bytes = response
        .body_mut()
        .with_config()
        .limit(MAX_FILE_BYTES)
        .read_to_vec()
        .map_err(|e| why(&e))?;
    fs::create_dir_all(cache).map_err(|_| "no cache folder for fetched pictures".to_owned())?;
    // Whole or not at all: another reader may look for it meanwhile.
    let part = file.with_extension("part");
    let written = fs::File::create(&part)
        .and_then(|mut f| f.write_all(&bytes))
        .and_then(|()| fs::rename(&part, file));
    if written.is_err() {
        let _ = fs::remove_file(&part);
        return Err("picture fetched, but it cannot be kept in the cache".into());
    }
    evict(cache, CACHE_BYTES);
    Ok(())
}

/// A fetch's failure, said briefly.
fn why(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(_) => "picture not fetched: no answer in time".into(),
        ureq::Error::BodyExceedsLimit(_) => {
            format!("picture too big (over {} MB)", MAX_FILE_BYTES >> 20)
        }
        ureq::Error::StatusCode(code) => format!("picture not fetched: HTTP {code}"),
        ureq::Error::HostNotFound => "picture not fetched: no such host".into(),
        ureq::Error::ConnectionFailed => "picture not fetched: cannot connect".into(),
        _ => "picture not fetched".into(),
    }
}

/// Removes the least recently used files of `cache` until it holds at
/// most `cap` bytes.
pub fn evict(cache: &Path, cap: u64) {
    let Ok(entries) = fs::read_dir(cache) else {
        return;
    };
    let mut files: Vec<(SystemTime, u64, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let m = e.metadata().ok()?;
            m.is_file().then(|| {
                (
                    m.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                    m.len(),
                    e.path(),
                )
            })
        })
        .collect();
    let mut total: u64 = files.iter().map(|f| f.1).sum();
    files.sort();
    for (_, len, path) in files {
        if total <= cap {
            break;
        }
        if fs::remove_file(&path).is_ok() {
            total -= len;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_keeps_the_most_recently_used_within_its_cap() {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        for (i, name) in ["old", "mid", "new"].iter().enumerate() {
            let path = dir.path().join(name);
            fs::write(&path, [0u8; 100]).unwrap();
            let f = fs::File::options().append(true).open(&path).unwrap();
            f.set_modified(now - Duration::from_secs(100 * (3 - i as u64)))
                .unwrap();
        }
        evict(dir.path(), 250);
        assert!(!dir.path().join("old").exists());
        assert!(dir.path().join("mid").exists());
        assert!(dir.path().join("new").exists());
    }

    #[test]
    fn each_url_has_its_own_file() {
        let c = Path::new("/cache");
        assert_ne!(
            cache_file(c, "https://a/x.png"),
            cache_file(c, "https://a/y.png")
        );
        assert!(cache_file(c, "https://a/x.png").starts_with(c));
    }
}
