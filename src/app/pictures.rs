//! The reader's decoded pictures: which are asked for, which arrived (or
//! why not). Decoding is the runner's ([`crate::work::Work::Picture`]).

use std::collections::HashMap;

use crate::picture::{Decoded, PictureKey};

/// Decoded pictures kept before the oldest are dropped (each is at most a
/// screen of cells, some 20 KB): enough for several posts' pictures.
const KEPT: usize = 256;

#[derive(Debug, Default)]
pub(crate) struct Pictures {
    /// `None`: asked for, not yet decoded.
    map: HashMap<PictureKey, Option<Decoded>>,
    /// Changes with every arrival, for the redraw fingerprint.
    pub(crate) version: u64,
}

impl Pictures {
    /// Whether `key` must be asked for (and now is).
    pub(crate) fn ask(&mut self, key: &PictureKey) -> bool {
        if self.map.contains_key(key) {
            return false;
        }
        if self.map.len() >= KEPT {
            // Decoded ones go; those asked for stay, their answer is coming.
            self.map.retain(|_, d| d.is_none());
        }
        self.map.insert(key.clone(), None);
        true
    }

    pub(crate) fn arrived(&mut self, key: &PictureKey, decoded: Decoded) {
        if let Some(slot) = self.map.get_mut(key) {
            *slot = Some(decoded);
            self.version += 1;
        }
    }

    /// `None` while not decoded.
    pub(crate) fn get(&self, key: &PictureKey) -> Option<&Decoded> {
        self.map.get(key).and_then(Option::as_ref)
    }
}
