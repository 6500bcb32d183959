//! Pictures in posts, drawn with Unicode half blocks: each cell shows two
//! pixels, the upper one as the foreground of `▀` and the lower one as its
//! background, in the theme's colour depth.
//!
//! A picture's place in the layout is decided before it is decoded (see
//! [`rows_for`]), so reading positions never move when it arrives; decoding
//! is work for a runner's worker ([`crate::work::Work::Picture`]), bounded
//! in file size and pixel count, and a picture that cannot be had leaves
//! its alt text and a short reason.
//!
//! Where pictures come from is [`survey`]'s: files beside the post (page
//! bundles), site-absolute paths in the site's static folder, and URLs only
//! when remote pictures are on ([`fetch`]).

use std::io::{Cursor, Read};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use ratatui::style::Color;

mod fetch;
mod survey;

pub use fetch::{CACHE_BYTES, TIMEOUT, cache_file, evict, fetch};
pub use survey::{Sources, Spot, Survey, is_remote, rows_for_size, survey};

use crate::color::{self, Depth};
use crate::posts::{Folder, Origin, Post};

/// The largest picture file folio reads.
pub const MAX_FILE_BYTES: u64 = 20 * 1024 * 1024;
/// The most pixels a picture may have: its decoded form is 4 bytes each.
pub const MAX_PIXELS: u64 = 40_000_000;
/// The most rows a picture takes in the reader.
pub const MAX_ROWS: u16 = 16;
/// The fewest rows a picture takes in the reader.
const MIN_ROWS: u16 = 4;
/// The most pictures laid out in one post; the rest stay alt text, so a
/// post of ten thousand pictures costs ten thousand alt lines, no more.
pub const MAX_PER_POST: usize = 64;

/// The rows a picture takes at `width` columns: a quarter of the width (a
/// landscape picture's shape, with cells twice as tall as wide) between
/// [`MIN_ROWS`] and [`MAX_ROWS`]. It does not depend on the picture, which
/// is known only once decoded: the picture is fitted into these rows with
/// its aspect kept.
pub fn rows_for(width: u16) -> u16 {
    (width / 4).clamp(MIN_ROWS, MAX_ROWS)
}

/// Whether pictures are drawn: the `images` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Images {
    /// Half blocks when colour is on.
    #[default]
    Auto,
    Halfblocks,
    Off,
}

impl Images {
    pub fn parse(s: &str) -> Option<Images> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(Images::Auto),
            "halfblocks" | "half-blocks" | "on" => Some(Images::Halfblocks),
            "off" | "none" => Some(Images::Off),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Images::Auto => "auto",
            Images::Halfblocks => "halfblocks",
            Images::Off => "off",
        }
    }

    /// Whether pictures are drawn at colour depth `depth`: never without
    /// colour (half blocks in one colour show nothing).
    pub fn shown(self, depth: Depth) -> bool {
        self != Images::Off && depth != Depth::None
    }
}

/// One decoded picture, fitted to its place: which file, at what size and
/// colour depth. Equal keys decode alike, so results are cached by key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PictureKey {
    /// The file, as resolved beside its post (not yet checked on disk).
    pub file: PathBuf,
    pub cols: u16,
    pub rows: u16,
    pub depth: Depth,
}

/// A picture to decode: the key, and the folder it must be read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PictureJob {
    pub key: PictureKey,
    pub root: PathBuf,
    /// A remote picture: fetched from here into `key.file` (in the cache
    /// folder, `root`) unless it is there already.
    pub url: Option<String>,
}

/// A picture as cells: `rows` rows of `cols` cells, each an upper and a
/// lower pixel (`None`: transparent, the terminal's background shows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pixels {
    pub cols: u16,
    pub rows: u16,
    pub cells: Vec<(Option<Color>, Option<Color>)>,
}

impl Pixels {
    /// Cell (`col`, `row`), if inside.
    pub fn cell(&self, col: u16, row: u16) -> Option<(Option<Color>, Option<Color>)> {
        if col >= self.cols || row >= self.rows {
            return None;
        }
        self.cells
            .get(usize::from(row) * usize::from(self.cols) + usize::from(col))
            .copied()
    }

    /// Bytes held, for caches with a memory cap.
    pub fn bytes(&self) -> usize {
        self.cells.len() * std::mem::size_of::<(Option<Color>, Option<Color>)>()
    }
}

/// What decoding gives: the cells, or why not (said under the alt text).
pub type Decoded = Result<Arc<Pixels>, String>;

/// Whether `src` names a file beside the post (not a URL, a data URI or
/// a site-absolute path): only those are given rows.
pub fn is_beside(src: &str) -> bool {
    let src = src.split(['?', '#']).next().unwrap_or("");
    !(src.is_empty() || src.contains(':') || src.starts_with('/') || src.starts_with('\\'))
}

/// Where picture `src` of `post` is: the folder its posts were read from
/// and the file inside it. `None` for what folio does not read: URLs,
/// site-absolute paths, a path leading out of the folder, pictures of
/// built-in posts or of standard input.
pub fn locate(post: &Post, src: &str) -> Option<(PathBuf, PathBuf)> {
    let Origin::File(path) = &post.origin else {
        return None;
    };
    // A query or fragment is not part of a file's name.
    if !is_beside(src) {
        return None;
    }
    let src = src.split(['?', '#']).next().unwrap_or("");
    let mut rel: Vec<&std::ffi::OsStr> = post
        .rel_path
        .parent()
        .into_iter()
        .flat_map(Path::components)
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n),
            _ => None,
        })
        .collect();
    for c in Path::new(src).components() {
        match c {
            Component::Normal(n) => rel.push(n),
            Component::CurDir => {}
            // Out of the folder: refused, whatever is there.
            Component::ParentDir => {
                rel.pop()?;
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    if rel.is_empty() {
        return None;
    }
    // The folder is the post's path without its `rel_path` components.
    let depth = post.rel_path.components().count();
    let root = path.ancestors().nth(depth)?.to_path_buf();
    let file = rel.iter().fold(root.clone(), |p, n| p.join(n));
    Some((root, file))
}

/// Decodes `job`'s picture, read only from inside `folder`.
pub fn load(job: &PictureJob, folder: &Folder) -> Decoded {
    let file = folder.open(&job.key.file).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => "picture not found".to_owned(),
        std::io::ErrorKind::PermissionDenied => "picture outside the folder".to_owned(),
        _ => "picture cannot be read".to_owned(),
    })?;
    let size = file.metadata().map_or(0, |m| m.len());
    if size > MAX_FILE_BYTES {
        return Err(format!(
            "picture too big ({} MB, over {} MB)",
            size.div_ceil(1 << 20),
            MAX_FILE_BYTES >> 20
        ));
    }
    let mut bytes = Vec::new();
    // The size can change under us: never read past the cap.
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|_| "picture cannot be read".to_owned())?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err("picture too big".into());
    }
    decode(&bytes, job.key.cols, job.key.rows, job.key.depth).map(Arc::new)
}

/// Local runs: a remote picture fetched into the cache unless it is
/// there; the folder at `job.root`, then [`load`].
pub fn load_local(job: &PictureJob) -> Decoded {
    if let Some(url) = &job.url {
        fetch(url, &job.key.file, &job.root)?;
    }
    let folder = Folder::new(&job.root).map_err(|_| "picture cannot be read".to_owned())?;
    load(job, &folder)
}

/// Decodes `bytes` (PNG, JPEG, GIF's first frame, WebP) and fits the
/// picture into `cols` × `rows` cells, aspect kept, centred across.
pub fn decode(bytes: &[u8], cols: u16, rows: u16, depth: Depth) -> Result<Pixels, String> {
    let reader = || {
        image::ImageReader::new(Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|_| "picture cannot be read".to_owned())
    };
    if reader()?.format().is_none() {
        return Err("not a picture folio can show".into());
    }
    // The header first: a picture too large is refused before any pixel
    // is decoded.
    let (width, height) = reader()?
        .into_dimensions()
        .map_err(|_| "broken picture".to_owned())?;
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(format!("picture too large ({width}×{height} pixels)"));
    }
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(width.max(1));
    limits.max_image_height = Some(height.max(1));
    limits.max_alloc = Some(MAX_PIXELS * 4 + (16 << 20));
    let mut decoder = reader()?;
    decoder.limits(limits);
    let img = decoder.decode().map_err(|_| "broken picture".to_owned())?;
    let (box_w, box_h) = (u32::from(cols), u32::from(rows) * 2);
    let img = img.thumbnail(box_w, box_h).to_rgba8();
    let (iw, ih) = img.dimensions();
    let left = (box_w.saturating_sub(iw)) / 2;
    let pixel = |x: u32, y: u32| -> Option<Color> {
        let x = x.checked_sub(left)?;
        if x >= iw || y >= ih {
            return None;
        }
        let [red, green, blue, alpha] = img.get_pixel(x, y).0;
        // Half blocks have no partial transparency: a mostly clear pixel
        // shows the background.
        if alpha < 128 {
            return None;
        }
        color::map(Color::Rgb(red, green, blue), depth)
    };
    let mut cells = Vec::with_capacity(usize::from(cols) * usize::from(rows));
    for row in 0..u32::from(rows) {
        for col in 0..box_w {
            cells.push((pixel(col, row * 2), pixel(col, row * 2 + 1)));
        }
    }
    Ok(Pixels { cols, rows, cells })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32, f: impl Fn(u32, u32) -> [u8; 4]) -> Vec<u8> {
        let img = image::RgbaImage::from_fn(w, h, |x, y| image::Rgba(f(x, y)));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn a_picture_becomes_half_blocks_of_its_colours() {
        // Top half red, bottom half blue, 4×4: fitted into 4 cells × 2 rows.
        let bytes = png(4, 4, |_, y| {
            if y < 2 {
                [255, 0, 0, 255]
            } else {
                [0, 0, 255, 255]
            }
        });
        let p = decode(&bytes, 4, 2, Depth::TrueColor).unwrap();
        let red = Some(Color::Rgb(255, 0, 0));
        let blue = Some(Color::Rgb(0, 0, 255));
        assert_eq!(p.cell(0, 0), Some((red, red)));
        assert_eq!(p.cell(3, 1), Some((blue, blue)));
        assert_eq!(p.cell(4, 0), None);
        // 256 colours: mapped to the palette.
        let p = decode(&bytes, 4, 2, Depth::Ansi256).unwrap();
        assert!(matches!(p.cell(0, 0), Some((Some(Color::Indexed(_)), _))));
    }

    #[test]
    fn a_narrow_picture_is_centred_and_transparent_pixels_stay_clear() {
        let bytes = png(2, 4, |x, _| {
            if x == 0 {
                [0, 255, 0, 255]
            } else {
                [0, 0, 0, 0]
            }
        });
        let p = decode(&bytes, 6, 2, Depth::TrueColor).unwrap();
        // 2×4 fits 4 pixels high: 2 wide, centred in 6 columns.
        assert_eq!(p.cell(0, 0), Some((None, None)));
        let green = Some(Color::Rgb(0, 255, 0));
        assert_eq!(p.cell(2, 0), Some((green, green)));
        assert_eq!(p.cell(3, 0), Some((None, None)));
    }

    #[test]
    fn huge_and_broken_pictures_are_refused_with_a_reason() {
        // A PNG header claiming 100,000 × 100,000 pixels: refused from its
        // header, nothing allocated for its pixels.
        let mut bytes = png(1, 1, |_, _| [0, 0, 0, 255]);
        bytes[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        bytes[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        // The header's checksum, as a real file of that size would have.
        let crc = {
            let mut crc = !0u32;
            for &b in &bytes[12..29] {
                crc ^= u32::from(b);
                for _ in 0..8 {
                    crc = if crc & 1 == 1 {
                        (crc >> 1) ^ 0xEDB8_8320
                    } else {
                        crc >> 1
                    };
                }
            }
            !crc
        };
        bytes[29..33].copy_from_slice(&crc.to_be_bytes());
        let err = decode(&bytes, 10, 4, Depth::TrueColor).unwrap_err();
        assert!(err.contains("too large"), "{err}");
        let err = decode(b"\x89PNG\r\n\x1a\nnot really", 10, 4, Depth::TrueColor).unwrap_err();
        assert!(err.contains("broken"), "{err}");
        let err = decode(b"plain text", 10, 4, Depth::TrueColor).unwrap_err();
        assert!(err.contains("not a picture"), "{err}");
    }

    fn post(root: &Path, rel: &str) -> Post {
        crate::posts::post_from_text(Origin::File(root.join(rel)), rel.into(), "# x\n", false)
    }

    #[test]
    fn pictures_are_found_beside_their_post_and_never_outside_its_folder() {
        let root = Path::new("/blog");
        let p = post(root, "2026/hello/index.md");
        assert_eq!(
            locate(&p, "img/cat.png"),
            Some((root.into(), root.join("2026/hello/img/cat.png")))
        );
        assert_eq!(
            locate(&p, "../shared/x.png?v=2"),
            Some((root.into(), root.join("2026/shared/x.png")))
        );
        assert_eq!(locate(&p, "../../../etc/passwd"), None);
        assert_eq!(locate(&p, "/static/x.png"), None);
        assert_eq!(locate(&p, "https://example.com/x.png"), None);
        assert_eq!(locate(&p, "data:image/png;base64,AAAA"), None);
    }

    #[test]
    fn images_setting() {
        assert_eq!(Images::parse("Auto"), Some(Images::Auto));
        assert_eq!(Images::parse("halfblocks"), Some(Images::Halfblocks));
        assert_eq!(Images::parse("off"), Some(Images::Off));
        assert_eq!(Images::parse("sixel"), None);
        assert!(Images::Auto.shown(Depth::Ansi256));
        assert!(!Images::Auto.shown(Depth::None));
        assert!(!Images::Halfblocks.shown(Depth::None));
        assert!(!Images::Off.shown(Depth::TrueColor));
    }
}
