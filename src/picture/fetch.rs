//! Remote pictures, only when the person turns them on: fetched over
//! `http(s)` on a worker, with a size cap and a timeout, and kept in the
//! cache folder under a hash of their URL, the folder's size bounded.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Where the picture at `url` is kept in the cache folder `cache`.
pub fn cache_file(cache: &Path, url: &str) -> PathBuf {
    let digest = Sha256::digest(url.as_bytes());
    let name = digest[..16].iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    });
    cache.join(name)
}
