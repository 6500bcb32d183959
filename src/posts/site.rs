//! Site roots: when the folder is a static site's repository (Hugo, Jekyll,
//! Zola, Astro, Eleventy), only its posts are listed; any other folder is
//! walked as ripgrep walks one (the `ignore` crate: `.gitignore`, `.ignore`
//! and hidden files honoured), with dependency folders skipped everywhere
//! and output and theme folders skipped beside a project's own files.
//!
//! The walk follows links (those leading out of the folder only with
//! [`Links::Follow`]) and walks a folder reached twice once.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::PostsError;
use super::scan::{Links, io_error};

/// The static site generators folio recognises at a folder's root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generator {
    Hugo,
    Jekyll,
    Zola,
    Astro,
    Eleventy,
}

impl Generator {
    pub fn name(self) -> &'static str {
        match self {
            Generator::Hugo => "Hugo",
            Generator::Jekyll => "Jekyll",
            Generator::Zola => "Zola",
            Generator::Astro => "Astro",
            Generator::Eleventy => "Eleventy",
        }
    }
}

/// A post file found by the walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Found {
    pub path: PathBuf,
    /// In Jekyll's `_drafts`: listed as a draft whatever its frontmatter says.
    pub draft: bool,
}

/// Folders of other people's code: never posts, wherever they are.
const DEPENDENCIES: [&str; 5] = [
    "node_modules",
    "bower_components",
    "jspm_packages",
    "__pycache__",
    "site-packages",
];

/// Folders a build writes, a theme brings or a package manager fills
/// (Bundler's `vendor/bundle`): skipped when they sit beside a project's own
/// files (a folder of notes may well have a `build/` of its own, a site's
/// `public/` is generated).
const OUTPUTS: [&str; 11] = [
    "vendor",
    "public",
    "_site",
    "dist",
    "build",
    "out",
    "target",
    "themes",
    "resources",
    "_book",
    "site",
];

/// Files that mark a project's root (a site, a package, a crate).
const PROJECT_MARKERS: [&str; 14] = [
    "package.json",
    "Gemfile",
    "_config.yml",
    "_config.yaml",
    "_config.toml",
    "config.toml",
    "config.yaml",
    "config.yml",
    "hugo.toml",
    "hugo.yaml",
    "Cargo.toml",
    "mkdocs.yml",
    "book.toml",
    "go.mod",
];

/// A project's own documents at its root, listed by no generator.
const PROJECT_DOCS: [&str; 6] = [
    "readme",
    "changelog",
    "license",
    "contributing",
    "code_of_conduct",
    "security",
];

/// Whether a file name is a post's: `.md`, `.markdown` or `.mdx`.
pub fn is_post_name(name: &str) -> bool {
    Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| {
            e.eq_ignore_ascii_case("md")
                || e.eq_ignore_ascii_case("markdown")
                || e.eq_ignore_ascii_case("mdx")
        })
}

/// A section or list page (Hugo's and Zola's `_index.md`), not a post.
fn is_section_page(name: &str) -> bool {
    Path::new(name)
        .file_stem()
        .and_then(|s| s.to_str())
        .is_some_and(|s| s.eq_ignore_ascii_case("_index"))
}

fn is_bundle_index(name: &str) -> bool {
    is_post_name(name)
        && Path::new(name)
            .file_stem()
            .and_then(|s| s.to_str())
            .is_some_and(|s| s.eq_ignore_ascii_case("index"))
}

/// A regular file at `dir/name`, not a link (a link could lead out of a
/// served folder; detection reads no file through one).
fn own_file(dir: &Path, name: &str) -> bool {
    fs::symlink_metadata(dir.join(name)).is_ok_and(|m| m.is_file())
}

fn own_dir(dir: &Path, name: &str) -> bool {
    fs::symlink_metadata(dir.join(name)).is_ok_and(|m| m.is_dir())
}

/// The start of a small config file, read only when it is a regular file.
fn config_head(dir: &Path, name: &str) -> String {
    use std::io::Read;
    if !own_file(dir, name) {
        return String::new();
    }
    let mut head = Vec::new();
    if let Ok(file) = fs::File::open(dir.join(name)) {
        let _ = file.take(64 * 1024).read_to_end(&mut head);
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// Which generator's site `root` is, if any: by the files each one keeps at
/// its root.
pub fn detect(root: &Path) -> Option<Generator> {
    let file = |n: &str| own_file(root, n);
    let dir = |n: &str| own_dir(root, n);
    let any = |names: &[&str]| names.iter().any(|n| file(n));
    if any(&["hugo.toml", "hugo.yaml", "hugo.yml", "hugo.json"]) {
        return Some(Generator::Hugo);
    }
    if any(&[
        "astro.config.mjs",
        "astro.config.js",
        "astro.config.ts",
        "astro.config.mts",
        "astro.config.cjs",
    ]) {
        return Some(Generator::Astro);
    }
    if any(&["_config.yml", "_config.yaml", "_config.toml"]) && (dir("_posts") || dir("_drafts")) {
        return Some(Generator::Jekyll);
    }
    if file("config.toml") && dir("content") {
        // Zola's one required key; Hugo writes `baseURL`.
        let config = config_head(root, "config.toml");
        if config
            .lines()
            .any(|l| l.trim_start().starts_with("base_url"))
        {
            return Some(Generator::Zola);
        }
    }
    if any(&["config.toml", "config.yaml", "config.yml", "config.json"])
        && dir("content")
        && (dir("archetypes") || dir("layouts") || dir("themes"))
    {
        return Some(Generator::Hugo);
    }
    if any(&[
        ".eleventy.js",
        ".eleventy.cjs",
        "eleventy.config.js",
        "eleventy.config.mjs",
        "eleventy.config.cjs",
        "eleventy.config.ts",
    ]) {
        return Some(Generator::Eleventy);
    }
    None
}

/// Where to walk and what to keep, for one generator (or none).
struct Plan {
    starts: Vec<PathBuf>,
    /// Keep only files under a `_posts` or `_drafts` folder (Jekyll).
    jekyll: bool,
    /// A folder with an `index.md` is one post with its assets (Hugo's and
    /// Zola's page bundles): other Markdown in it is a resource.
    bundles: bool,
    /// Skip these folder names wherever they are (layouts, data).
    skip: &'static [&'static str],
    /// Skip the project's own documents at the root (README, LICENSE…).
    skip_root_docs: bool,
}

fn plan(root: &Path, generator: Option<Generator>) -> Plan {
    let mut plan = Plan {
        starts: vec![root.to_path_buf()],
        jekyll: false,
        bundles: false,
        skip: &[],
        skip_root_docs: generator.is_some(),
    };
    match generator {
        Some(Generator::Hugo | Generator::Zola) => {
            plan.starts = vec![root.join("content")];
            plan.bundles = true;
        }
        Some(Generator::Jekyll) => {
            plan.jekyll = true;
            plan.skip = &["_layouts", "_includes", "_data", "_sass", "assets"];
        }
        Some(Generator::Astro) => {
            let content = root.join("src/content");
            plan.starts = if content.is_dir() {
                vec![content]
            } else {
                vec![root.join("src/pages")]
            };
        }
        Some(Generator::Eleventy) => {
            let folders: Vec<PathBuf> = [
                "posts",
                "blog",
                "src/posts",
                "src/blog",
                "content/posts",
                "content/blog",
            ]
            .iter()
            .map(|f| root.join(f))
            .filter(|p| p.is_dir())
            .collect();
            if !folders.is_empty() {
                plan.starts = folders;
            }
            plan.skip = &["_includes", "_layouts", "_data"];
        }
        None => {}
    }
    plan
}

/// The folders live reload watches under `root`: a site's post folders
/// (a Hugo site's `node_modules` or `public/` can hold tens of thousands of
/// folders, each an inotify watch), or `root` itself.
pub fn watch_folders(root: &Path) -> Vec<PathBuf> {
    let plan = plan(root, detect(root));
    let folders: Vec<PathBuf> = plan
        .starts
        .into_iter()
        .filter(|f| fs::symlink_metadata(f).is_ok_and(|m| m.is_dir()))
        .collect();
    if folders.is_empty() {
        vec![root.to_path_buf()]
    } else {
        folders
    }
}

fn is_project_root(dir: &Path) -> bool {
    PROJECT_MARKERS.iter().any(|m| own_file(dir, m)) || detect(dir).is_some()
}

/// Whether a folder is skipped: dependencies anywhere, output and themes
/// beside a project's files, the generator's own folders.
fn skipped_folder(path: &Path, name: &str, skip: &[&str]) -> bool {
    if DEPENDENCIES.contains(&name) || skip.contains(&name) {
        return true;
    }
    OUTPUTS.contains(&name) && path.parent().is_some_and(is_project_root)
}

/// The post files of the folder `root`: a site's posts, or every Markdown
/// file of any other folder, as the module docs say.
pub(super) fn find_posts(root: &Path, links: Links) -> Result<Vec<Found>, PostsError> {
    fs::read_dir(root).map_err(|e| io_error(root, e))?;
    let generator = detect(root);
    let plan = plan(root, generator);
    let canonical_root = fs::canonicalize(root).map_err(|e| io_error(root, e))?;
    let visited = Arc::new(Mutex::new(HashSet::from([canonical_root.clone()])));
    let mut found = Vec::new();
    for start in &plan.starts {
        if start != root {
            // A generator's folder that is a link out of a served folder is
            // not walked.
            let inside = fs::canonicalize(start).is_ok_and(|c| c.starts_with(&canonical_root));
            if !start.is_dir() || (links == Links::Confined && !inside) {
                continue;
            }
            if let Ok(c) = fs::canonicalize(start) {
                visited.lock().expect("visited").insert(c);
            }
        }
        walk(
            start,
            root,
            &canonical_root,
            &plan,
            links,
            &visited,
            &mut found,
        );
    }
    if plan.bundles {
        drop_bundle_resources(&mut found);
    }
    Ok(found)
}

fn walk(
    start: &Path,
    root: &Path,
    canonical_root: &Path,
    plan: &Plan,
    links: Links,
    visited: &Arc<Mutex<HashSet<PathBuf>>>,
    found: &mut Vec<Found>,
) {
    let mut builder = ignore::WalkBuilder::new(start);
    builder
        .follow_links(true)
        .require_git(false)
        // A served folder reads no rules from outside itself.
        .parents(links == Links::Follow)
        .git_global(links == Links::Follow);
    let skip = plan.skip;
    let confined_root = (links == Links::Confined).then(|| canonical_root.to_path_buf());
    let seen = Arc::clone(visited);
    builder.filter_entry(move |entry| {
        let path = entry.path();
        if entry.path_is_symlink()
            && let Some(root) = &confined_root
            && !fs::canonicalize(path).is_ok_and(|t| t.starts_with(root))
        {
            return false;
        }
        if entry.file_type().is_some_and(|t| t.is_dir()) {
            let name = entry.file_name().to_string_lossy();
            if skipped_folder(path, &name, skip) {
                return false;
            }
            // A folder reached twice (a loop, two links to one folder) is
            // walked once.
            return match fs::canonicalize(path) {
                Ok(c) => seen.lock().expect("visited").insert(c),
                Err(_) => false,
            };
        }
        true
    });
    for entry in builder.build() {
        let path = match entry {
            Ok(entry) => {
                if entry.depth() == 0 || !entry.file_type().is_some_and(|t| t.is_file()) {
                    continue;
                }
                entry.into_path()
            }
            // A dangling link named like a post is listed (and reported
            // unreadable) rather than silently missing.
            Err(e) => match error_path(&e) {
                Some(path)
                    if links == Links::Follow
                        && fs::symlink_metadata(path).is_ok_and(|m| m.is_symlink())
                        && fs::metadata(path).is_err() =>
                {
                    path.to_path_buf()
                }
                _ => continue,
            },
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !is_post_name(&name) || is_section_page(&name) {
            continue;
        }
        let rel = path.strip_prefix(root).unwrap_or(&path);
        if plan.skip_root_docs && rel.components().count() == 1 {
            let stem = Path::new(&name)
                .file_stem()
                .map(|s| s.to_string_lossy().to_ascii_lowercase())
                .unwrap_or_default();
            if PROJECT_DOCS.contains(&stem.as_str()) {
                continue;
            }
        }
        let mut draft = false;
        if plan.jekyll {
            let folders = rel.components().map(std::path::Component::as_os_str);
            let (posts, drafts) = folders.fold((false, false), |(p, d), c| {
                (p || c == "_posts", d || c == "_drafts")
            });
            if !posts && !drafts {
                continue;
            }
            draft = drafts;
        }
        found.push(Found { path, draft });
    }
}

/// The path an error of the walk is about.
fn error_path(e: &ignore::Error) -> Option<&Path> {
    let mut e = e;
    loop {
        match e {
            ignore::Error::WithPath { path, .. } => return Some(path),
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                e = err;
            }
            _ => return None,
        }
    }
}

/// In a page bundle (a folder with an `index.md`), the index is the post;
/// the other Markdown files in it and below it are its resources.
fn drop_bundle_resources(found: &mut Vec<Found>) {
    let bundles: HashSet<PathBuf> = found
        .iter()
        .filter(|f| {
            f.path
                .file_name()
                .is_some_and(|n| is_bundle_index(&n.to_string_lossy()))
        })
        .filter_map(|f| f.path.parent().map(Path::to_path_buf))
        .collect();
    found.retain(|f| {
        let own_index = f
            .path
            .file_name()
            .is_some_and(|n| is_bundle_index(&n.to_string_lossy()));
        let mut dirs = f.path.ancestors().skip(1);
        if own_index {
            // The index of a bundle inside another bundle is a resource too.
            dirs.next();
        }
        !dirs.any(|d| bundles.contains(d))
    });
}
