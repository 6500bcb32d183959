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
use crate::graphics::{Encoded, Graphics};
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
/// `MIN_ROWS` and [`MAX_ROWS`]. It does not depend on the picture, which
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
    /// A protocol, forced whatever the terminal answers.
    Kitty,
    Iterm2,
    Sixel,
}

impl Images {
    pub fn parse(s: &str) -> Option<Images> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(Images::Auto),
            "halfblocks" | "half-blocks" | "on" => Some(Images::Halfblocks),
            "off" | "none" => Some(Images::Off),
            "kitty" => Some(Images::Kitty),
            "iterm2" | "iterm" => Some(Images::Iterm2),
            "sixel" => Some(Images::Sixel),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Images::Auto => "auto",
            Images::Halfblocks => "halfblocks",
            Images::Off => "off",
            Images::Kitty => "kitty",
            Images::Iterm2 => "iterm2",
            Images::Sixel => "sixel",
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
    /// The protocol it is encoded for besides half blocks, and the cell
    /// size in pixels it is encoded at.
    pub graphics: Graphics,
    pub cell: (u16, u16),
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
    /// The picture in its key's protocol (none for half blocks, or when
    /// it could not be encoded): the reader places it where the whole
    /// picture is on screen, and draws the half blocks elsewhere.
    pub encoded: Option<Encoded>,
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
            + self.encoded.as_ref().map_or(0, |e| e.data.len())
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
    let root = path.ancestors().nth(depth)?;
    // `folio post.md`: the folder is the current one, which an empty path
    // does not name.
    let root = if root.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        root.to_path_buf()
    };
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
    decode_for(&bytes, &job.key).map(Arc::new)
}

/// `--print`'s pictures: each shown after its alt-text line, in a protocol
/// the terminal is known to have without asking it (see
/// [`crate::graphics::Hint::print_protocol`]), decoded as printing goes.
pub struct Printed {
    /// Where the post's pictures are: beside it or in the site's static
    /// folder (remote ones are not fetched for printing).
    survey: Survey,
    key: PictureKey,
    /// The post's pictures (alt, source) not yet met, in order.
    images: std::vec::IntoIter<(String, String)>,
    shown: usize,
}

impl Printed {
    pub fn new(post: &Post, source: &str, width: u16, graphics: Graphics, depth: Depth) -> Self {
        Printed {
            survey: survey(post, source, &Sources::default(), None),
            key: PictureKey {
                file: PathBuf::new(),
                cols: width,
                rows: rows_for(width),
                depth,
                graphics,
                cell: crate::graphics::DEFAULT_CELL,
            },
            images: crate::markdown::images(source).into_iter(),
            shown: 0,
        }
    }

    /// What to print after the line whose text is `text`: the picture,
    /// when the line is a picture's alt text alone (`[image: alt]`) and
    /// the picture can be had. Every `[image` on a line is one picture
    /// met, so pictures inside paragraphs keep the count.
    pub fn after_line(&mut self, text: &str) -> Option<String> {
        let met = text.matches("[image").count();
        if met == 0 {
            return None;
        }
        let mut last = None;
        for _ in 0..met {
            last = self.images.next();
        }
        let (alt, src) = last?;
        let text = text.trim();
        let alone = met == 1 && text.starts_with("[image") && text.ends_with(']');
        if !alone || !text.contains(crate::sanitize::sanitize(alt.trim()).as_ref()) {
            return None;
        }
        if self.shown >= MAX_PER_POST {
            return None;
        }
        let Some(Spot::Found {
            root,
            file,
            size: Some((w, h)),
            ..
        }) = self.survey.get(&crate::sanitize::sanitize(&src))
        else {
            return None;
        };
        let job = PictureJob {
            key: PictureKey {
                file: file.clone(),
                rows: rows_for_size(self.key.cols, *w, *h),
                ..self.key.clone()
            },
            root: root.clone(),
            url: None,
        };
        let enc = load_local(&job).ok()?.encoded.clone()?;
        self.shown += 1;
        let mut out = " ".repeat(usize::from(enc.left));
        match enc.graphics {
            Graphics::Kitty => crate::graphics::kitty::print(&mut out, &enc),
            Graphics::Iterm2 => out.push_str(&crate::graphics::iterm2(&enc, true)),
            Graphics::Sixel => out.push_str(&enc.data),
            Graphics::Halfblocks => return None,
        }
        out.push('\n');
        Some(out)
    }
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
    decode_for(
        bytes,
        &PictureKey {
            file: PathBuf::new(),
            cols,
            rows,
            depth,
            graphics: Graphics::Halfblocks,
            cell: crate::graphics::DEFAULT_CELL,
        },
    )
}

/// [`decode`] for `key`: its size, colour depth and protocol.
pub fn decode_for(bytes: &[u8], key: &PictureKey) -> Result<Pixels, String> {
    let (cols, rows, depth) = (key.cols, key.rows, key.depth);
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
    let full = decoder.decode().map_err(|_| "broken picture".to_owned())?;
    let encoded = encode(&full, key);
    let (box_w, box_h) = (u32::from(cols), u32::from(rows) * 2);
    let img = full.thumbnail(box_w, box_h).to_rgba8();
    drop(full);
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
    Ok(Pixels {
        cols,
        rows,
        cells,
        encoded,
    })
}

/// The widest and tallest a picture is encoded, in pixels, whatever the
/// cell size and width: bounds the work and the bytes sent.
const MAX_ENCODED: (u32, u32) = (4096, 2048);

/// `img` in `key`'s protocol, fitted into its cells (aspect kept, centred
/// across); `None` for half blocks.
fn encode(img: &image::DynamicImage, key: &PictureKey) -> Option<Encoded> {
    if key.graphics == Graphics::Halfblocks || key.cols == 0 || key.rows == 0 {
        return None;
    }
    let (cw, ch) = crate::graphics::cell_size(Some(key.cell));
    let (cw, ch) = (u32::from(cw), u32::from(ch));
    let box_w = (u32::from(key.cols) * cw).min(MAX_ENCODED.0);
    let mut box_h = (u32::from(key.rows) * ch).min(MAX_ENCODED.1);
    if key.graphics == Graphics::Sixel {
        // Sixel draws in bands of six pixels: a last partial band would
        // still take its full height, over the row below.
        box_h -= box_h % 6;
    }
    let fitted = img.thumbnail(box_w, box_h).to_rgba8();
    let (iw, ih) = fitted.dimensions();
    let cols = iw.div_ceil(cw).clamp(1, u32::from(key.cols)) as u16;
    let rows = ih.div_ceil(ch).clamp(1, u32::from(key.rows)) as u16;
    let left = (key.cols - cols) / 2;
    let data: Arc<str> = if key.graphics == Graphics::Sixel {
        crate::graphics::sixel::encode(iw, ih, fitted.as_raw()).into()
    } else {
        let mut png = Cursor::new(Vec::new());
        fitted.write_to(&mut png, image::ImageFormat::Png).ok()?;
        crate::wire::base64(&png.into_inner()).into()
    };
    Some(Encoded {
        graphics: key.graphics,
        left,
        cols,
        rows,
        data,
    })
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

    #[test]
    fn a_picture_is_encoded_for_its_protocol_from_its_pixels_fitted_to_its_cells() {
        // 200×100 (2:1) into 20 cells × 8 rows of 10×20 pixels (200×160):
        // 200×100 pixels, 20 cells × 5 rows.
        let bytes = png(200, 100, |x, _| {
            if x < 100 {
                [255, 0, 0, 255]
            } else {
                [0, 0, 255, 255]
            }
        });
        let key = |graphics| PictureKey {
            file: PathBuf::new(),
            cols: 20,
            rows: 8,
            depth: Depth::TrueColor,
            graphics,
            cell: (10, 20),
        };
        let p = decode_for(&bytes, &key(Graphics::Kitty)).unwrap();
        let enc = p.encoded.as_ref().expect("encoded");
        assert_eq!((enc.cols, enc.rows, enc.left), (20, 5, 0));
        // Base64 of a PNG, nothing else.
        assert!(enc.data.starts_with("iVBORw0KGgo"), "{}", &enc.data[..20]);
        assert!(
            enc.data
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b))
        );
        // Half blocks are kept beside it (for a picture partly on screen).
        assert_eq!(p.cells.len(), 20 * 8);
        let p = decode_for(&bytes, &key(Graphics::Sixel)).unwrap();
        let enc = p.encoded.unwrap();
        assert!(
            enc.data.starts_with("\x1bP0;1;0q\"1;1;200;100"),
            "{:?}",
            &enc.data[..30]
        );
        assert!(enc.data.ends_with("\x1b\\"));
        assert!(
            decode_for(&bytes, &key(Graphics::Halfblocks))
                .unwrap()
                .encoded
                .is_none()
        );
        // A tall picture is narrower, centred.
        let tall = png(50, 200, |_, _| [0, 255, 0, 255]);
        let enc = decode_for(&tall, &key(Graphics::Iterm2))
            .unwrap()
            .encoded
            .unwrap();
        assert_eq!((enc.cols, enc.rows, enc.left), (4, 8, 8));
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
        assert_eq!(Images::parse("sixel"), Some(Images::Sixel));
        assert_eq!(Images::parse("kitty"), Some(Images::Kitty));
        assert_eq!(Images::parse("iTerm2"), Some(Images::Iterm2));
        assert_eq!(Images::parse("blocks"), None);
        assert!(Images::Auto.shown(Depth::Ansi256));
        assert!(!Images::Auto.shown(Depth::None));
        assert!(!Images::Halfblocks.shown(Depth::None));
        assert!(!Images::Off.shown(Depth::TrueColor));
    }
}
