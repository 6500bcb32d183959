//! The reader's decoded pictures: which are asked for, which arrived (or
//! why not). Decoding is the runner's ([`crate::work::Work::Picture`]).

use std::collections::HashMap;

use crate::picture::{Decoded, PictureKey};

/// Decoded pictures kept before the oldest are dropped (each is at most a
/// screen of cells, some 20 KB): enough for several posts' pictures.
const KEPT: usize = 256;
/// The most bytes decoded pictures may hold by default: a picture encoded
/// for a protocol (a PNG in base64, a sixel string) takes up to some
/// hundreds of KB, so the count alone would not bound them.
pub const KEPT_BYTES: usize = 48 << 20;

#[derive(Debug)]
pub(crate) struct Pictures {
    /// `None`: asked for, not yet decoded.
    map: HashMap<PictureKey, Option<Decoded>>,
    /// Changes with every arrival, for the redraw fingerprint.
    pub(crate) version: u64,
    /// What the decoded pictures hold.
    bytes: usize,
    /// Past this, asking for another drops the decoded ones.
    limit: usize,
}

impl Pictures {
    /// Pictures holding about `limit` bytes at most (past it, those decoded
    /// go when another is asked for).
    pub(crate) fn holding(limit: usize) -> Pictures {
        Pictures {
            map: HashMap::new(),
            version: 0,
            bytes: 0,
            limit,
        }
    }

    /// Whether `key` must be asked for (and now is).
    pub(crate) fn ask(&mut self, key: &PictureKey) -> bool {
        if self.map.contains_key(key) {
            return false;
        }
        if self.map.len() >= KEPT || self.bytes > self.limit {
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::picture::Pixels;

    fn key(i: usize) -> PictureKey {
        PictureKey {
            file: format!("img/{i}.png").into(),
            cols: 100,
            rows: 16,
            depth: crate::color::Depth::TrueColor,
            graphics: crate::graphics::Graphics::Halfblocks,
            cell: crate::graphics::DEFAULT_CELL,
        }
    }

    fn half_blocks() -> Arc<Pixels> {
        Arc::new(Pixels {
            cols: 100,
            rows: 16,
            cells: vec![(None, None); 1600],
            encoded: None,
        })
    }

    #[test]
    fn decoded_pictures_stay_within_their_limit() {
        let one = half_blocks().bytes();
        let limit = 10 * one;
        let mut pictures = Pictures::holding(limit);
        for i in 0..100 {
            assert!(pictures.ask(&key(i)));
            pictures.arrived(&key(i), Ok(half_blocks()));
            assert!(pictures.bytes <= limit + one, "{} bytes", pictures.bytes);
        }
        // The latest are kept; the oldest went, to be asked for again.
        assert!(pictures.get(&key(99)).is_some());
        assert!(pictures.get(&key(0)).is_none());
        assert!(pictures.ask(&key(0)));
    }
}
