//! Where a post's pictures are and how big they are, found when the post
//! is read (where I/O is allowed), before it is laid out: the layout keeps
//! rows to each picture's aspect, so nothing moves once it is decoded.
//!
//! Three kinds of source: a path beside the post (page bundles), a
//! site-absolute path (`/images/a.png`) resolved against the site's static
//! folder, and, only when remote pictures are on, an `http(s)` URL, kept in
//! the cache folder once fetched. Only a picture's header is read here.

use std::collections::BTreeMap;
use std::io::BufReader;
use std::path::{Component, Path, PathBuf};

use pulldown_cmark::{Event, Parser, Tag};

use super::{MAX_FILE_BYTES, MAX_PER_POST, MAX_PIXELS, MAX_ROWS, locate, rows_for};
use crate::posts::{Folder, Generator, Origin, Post};
use crate::sanitize::sanitize;

/// Where pictures may come from besides files: what the person allowed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Sources {
    /// Remote pictures are on, and fetched ones are kept in this folder.
    /// Off by default: fetching a picture tells its server what you read.
    pub remote: Option<PathBuf>,
}

/// One picture of a post, as written (`src`), found or refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Spot {
    /// Read from `file`, never from outside `root`. A remote picture's
    /// file is its copy in the cache folder (`root`), fetched from `url`
    /// when it is not there yet.
    Found {
        root: PathBuf,
        file: PathBuf,
        url: Option<String>,
        /// Width and height in pixels, from the header; `None` when it
        /// could not be read (missing, broken, too big, not fetched yet).
        size: Option<(u32, u32)>,
    },
    /// Never read; why, to show under the alt text.
    Refused(String),
}

/// The pictures of one post, by `src` as the layout sees it (sanitized).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Survey {
    spots: BTreeMap<String, Spot>,
}

impl Survey {
    pub fn get(&self, src: &str) -> Option<&Spot> {
        self.spots.get(src)
    }

    pub fn len(&self) -> usize {
        self.spots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spots.is_empty()
    }

    /// The rows picture `src` takes at `width` columns; `None`: none, its
    /// alt-text line says it all (a URL with remote pictures off).
    pub fn rows(&self, src: &str, width: u16) -> Option<u16> {
        Some(match self.spots.get(src)? {
            Spot::Found {
                size: Some((w, h)), ..
            } => rows_for_size(width, *w, *h),
            // Not fetched yet: the size is learned with the picture, too
            // late for the layout; it is fitted into the usual rows.
            Spot::Found {
                url: Some(_),
                size: None,
                ..
            } => rows_for(width),
            // It will not be shown: one row says why.
            Spot::Found { size: None, .. } | Spot::Refused(_) => 1,
        })
    }
}

/// The rows a `w`×`h` picture takes at `width` columns, aspect kept:
/// as wide as the column (never wider than its pixels), two pixels a row,
/// at most [`MAX_ROWS`].
pub fn rows_for_size(width: u16, w: u32, h: u32) -> u16 {
    let cols = u64::from(width).min(u64::from(w.max(1)));
    let rows = (cols * u64::from(h)).div_ceil(u64::from(w.max(1)) * 2);
    u16::try_from(rows).unwrap_or(MAX_ROWS).clamp(1, MAX_ROWS)
}

/// Finds the pictures of `post` (its `body` as laid out), reading only
/// their headers; `within`: a served folder nothing is read outside of.
pub fn survey(post: &Post, body: &str, sources: &Sources, within: Option<&Folder>) -> Survey {
    let mut survey = Survey::default();
    if !body.contains("![") {
        return survey;
    }
    let Origin::File(path) = &post.origin else {
        return survey;
    };
    let mut statics: Option<Option<(PathBuf, PathBuf)>> = None;
    let mut folders: BTreeMap<PathBuf, Option<Folder>> = BTreeMap::new();
    for event in Parser::new_ext(body, crate::markdown::options()) {
        let Event::Start(Tag::Image { dest_url, .. }) = event else {
            continue;
        };
        if survey.spots.len() >= MAX_PER_POST {
            break;
        }
        let src = sanitize(&dest_url).into_owned();
        if survey.spots.contains_key(&src) {
            continue;
        }
        let spot = if is_remote(&src) {
            let Some(cache) = &sources.remote else {
                continue;
            };
            let file = super::fetch::cache_file(cache, &src);
            let size = header_size(cache, &file, None, &mut folders);
            Spot::Found {
                root: cache.clone(),
                file,
                url: Some(src.clone()),
                size,
            }
        } else if src.starts_with('/') && !src.starts_with("//") {
            match statics.get_or_insert_with(|| static_folder(post, path, within)) {
                None => Spot::Refused("no site folder for a path from the site's root".into()),
                Some((_, folder)) => match beneath(folder, &src) {
                    None => Spot::Refused("picture outside the site's static folder".into()),
                    Some(file) => {
                        let size = header_size(folder, &file, within, &mut folders);
                        Spot::Found {
                            root: folder.clone(),
                            file,
                            url: None,
                            size,
                        }
                    }
                },
            }
        } else if super::is_beside(&src) {
            match locate(post, &src) {
                None => Spot::Refused("picture outside the folder".into()),
                Some((root, file)) => {
                    let size = header_size(&root, &file, within, &mut folders);
                    Spot::Found {
                        root,
                        file,
                        url: None,
                        size,
                    }
                }
            }
        } else {
            // data: URIs, other schemes, `//host/x.png`: alt text only.
            continue;
        };
        survey.spots.insert(src, spot);
    }
    survey
}

/// `http://` or `https://`, in any case.
pub fn is_remote(src: &str) -> bool {
    let lower = |n: usize| src.get(..n).map(str::to_ascii_lowercase);
    lower(7).as_deref() == Some("http://") || lower(8).as_deref() == Some("https://")
}

/// File `src` (`/images/a.png`, a query or fragment dropped) inside
/// `folder`; `None` if it would lead out.
fn beneath(folder: &Path, src: &str) -> Option<PathBuf> {
    let src = src.split(['?', '#']).next().unwrap_or("");
    let mut file = folder.to_path_buf();
    let mut any = false;
    for c in Path::new(src).components() {
        match c {
            Component::Normal(n) => {
                file.push(n);
                any = true;
            }
            Component::RootDir | Component::CurDir => {}
            // No way up, even one that would come back down.
            Component::ParentDir | Component::Prefix(_) => return None,
        }
    }
    any.then_some(file)
}

/// The site holding the post at `path`, and the folder it serves its own
/// files from (`/images/a.png` is `static/images/a.png` in Hugo): the
/// folder the posts were read from or one of its three parents (`folio
/// site/src/content/blog`), never above a served folder, and a static folder
/// that is a link out of its site is none.
fn static_folder(post: &Post, path: &Path, within: Option<&Folder>) -> Option<(PathBuf, PathBuf)> {
    let depth = post.rel_path.components().count();
    let scanned = path.ancestors().nth(depth)?;
    for site in scanned.ancestors().take(4) {
        let real = std::fs::canonicalize(site).ok()?;
        if within.is_some_and(|w| !real.starts_with(w.root())) {
            return None;
        }
        let Some(generator) = crate::posts::detect_site(site) else {
            continue;
        };
        let folder = match generator {
            Generator::Hugo | Generator::Zola => site.join("static"),
            Generator::Astro => site.join("public"),
            // Jekyll copies the site's own files from its root; Eleventy
            // passes through what its config names, usually from the root.
            Generator::Jekyll | Generator::Eleventy => site.to_path_buf(),
        };
        let inside = std::fs::canonicalize(&folder).is_ok_and(|f| f.starts_with(&real));
        return inside.then(|| (site.to_path_buf(), folder));
    }
    None
}

/// Width and height from the header of `file`, read from inside `root`
/// (and `within`); `None` when it cannot be read or is too big to show.
fn header_size(
    root: &Path,
    file: &Path,
    within: Option<&Folder>,
    folders: &mut BTreeMap<PathBuf, Option<Folder>>,
) -> Option<(u32, u32)> {
    let folder = folders
        .entry(root.to_path_buf())
        .or_insert_with(|| {
            Folder::new(root)
                .ok()
                .filter(|f| within.is_none_or(|w| f.root().starts_with(w.root())))
        })
        .as_ref()?;
    let opened = folder.open(file).ok()?;
    if opened.metadata().ok()?.len() > MAX_FILE_BYTES {
        return None;
    }
    // Only the header: a photo is megabytes, and this runs before the
    // post's first frame. Formats folio cannot decode are not sized.
    let size = imagesize::reader_size(BufReader::new(opened)).ok()?;
    let (w, h) = (
        u32::try_from(size.width).ok()?,
        u32::try_from(size.height).ok()?,
    );
    (w > 0 && h > 0 && u64::from(w) * u64::from(h) <= MAX_PIXELS).then_some((w, h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_keep_the_aspect_within_bounds() {
        // 80 columns of a 4:3 picture: 160 pixels wide, 120 tall → 30 rows,
        // capped.
        assert_eq!(rows_for_size(80, 2000, 1500), MAX_ROWS);
        // A wide banner: 80 columns, 20 pixels tall → 10 rows.
        assert_eq!(rows_for_size(80, 800, 200), 10);
        // A small picture is not stretched: 16×16 pixels → 8 rows.
        assert_eq!(rows_for_size(80, 16, 16), 8);
        // Degenerate sizes still take a row.
        assert_eq!(rows_for_size(80, 10_000, 1), 1);
        assert_eq!(rows_for_size(0, 0, 0), 1);
    }

    #[test]
    fn site_absolute_paths_never_climb() {
        let s = Path::new("/site/static");
        assert_eq!(
            beneath(s, "/images/a.png?x=1"),
            Some(s.join("images/a.png"))
        );
        assert_eq!(beneath(s, "/images/../../etc/passwd"), None);
        assert_eq!(beneath(s, "/"), None);
    }

    #[test]
    fn remote_is_http_or_https_only() {
        assert!(is_remote("https://e.com/a.png"));
        assert!(is_remote("HTTP://e.com/a.png"));
        assert!(!is_remote("ftp://e.com/a.png"));
        assert!(!is_remote("//e.com/a.png"));
        assert!(!is_remote("img/a.png"));
    }
}
