//! The reader's decoded pictures: which are asked for, which arrived (or
//! why not). Decoding is the runner's ([`crate::work::Work::Picture`]).

use std::collections::HashMap;

use crate::picture::{Decoded, PictureKey};

/// Decoded pictures kept before the oldest are dropped (each is at most a
/// screen of cells, some 20 KB): enough for several posts' pictures.
const KEPT: usize = 256;
/// The most bytes decoded pictures may hold: a picture encoded for a
/// protocol (a PNG in base64, a sixel string) takes up to some hundreds of
/// KB, so the count alone would not bound them.
const KEPT_BYTES: usize = 48 << 20;

#[derive(Debug, Default)]
pub(crate) struct Pictures {
    /// `None`: asked for, not yet decoded.
    map: HashMap<PictureKey, Option<Decoded>>,
    /// Changes with every arrival, for the redraw fingerprint.
    pub(crate) version: u64,
    /// What the decoded pictures hold.
    bytes: usize,
}

impl Pictures {
    /// Whether `key` must be asked for (and now is).
    pub(crate) fn ask(&mut self, key: &PictureKey) -> bool {
        if self.map.contains_key(key) {
            return false;
        }
        if self.map.len() >= KEPT || self.bytes > KEPT_BYTES {
            // Decoded ones go; those asked for stay, their answer is coming.
            self.map.retain(|_, d| d.is_none());
            self.bytes = 0;
        }
        self.map.insert(key.clone(), None);
        true
    }

    pub(crate) fn arrived(&mut self, key: &PictureKey, decoded: Decoded) {
        if let Some(slot) = self.map.get_mut(key) {
            if let Ok(pixels) = &decoded {
                self.bytes += pixels.bytes();
            }
            *slot = Some(decoded);
            self.version += 1;
        }
    }

    /// `None` while not decoded.
    pub(crate) fn get(&self, key: &PictureKey) -> Option<&Decoded> {
        self.map.get(key).and_then(Option::as_ref)
    }
}
