//! Site roots: a blog's repository, as it sits on disk with its theme,
//! dependencies and generated output, lists its posts and nothing else.

use std::fs;
use std::path::Path;

use folio::posts::{self, Generator, Links, Post};

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn rels(posts: &[Post]) -> Vec<String> {
    let mut v: Vec<_> = posts
        .iter()
        .map(|p| p.rel_path.to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// What every site has around its posts: dependencies, a README.
fn clutter(root: &Path) {
    write(root, "README.md", "# My blog\n");
    write(root, "LICENSE.md", "MIT\n");
    write(root, "node_modules/some-lib/README.md", "# lib\n");
    write(root, "node_modules/other/docs/guide.md", "# guide\n");
    write(root, ".git/info/notes.md", "# git\n");
}

#[test]
fn hugo_site_lists_its_content_only() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    clutter(root);
    write(
        root,
        "hugo.toml",
        "baseURL = 'https://example.org/'\ntheme = 'ananke'\n",
    );
    write(
        root,
        "archetypes/default.md",
        "+++\ntitle = '{{ replace .File.ContentBaseName \"-\" \" \" | title }}'\n+++\n",
    );
    write(root, "content/_index.md", "+++\ntitle = 'Home'\n+++\n");
    write(
        root,
        "content/posts/_index.md",
        "+++\ntitle = 'Posts'\n+++\n",
    );
    write(
        root,
        "content/posts/first.md",
        "+++\ntitle = 'First'\ndate = 2024-08-03T10:00:00+02:00\nlastmod = 2024-09-01\nsummary = 'The **first** one'\n+++\nBody\n",
    );
    write(
        root,
        "content/posts/bundle/index.md",
        "---\ntitle: Bundle\npublishDate: 2024-07-01\n---\nText\n",
    );
    write(
        root,
        "content/posts/bundle/notes.md",
        "# a resource of the bundle\n",
    );
    write(root, "content/posts/bundle/photo.jpg", "jpeg");
    write(root, "content/about.md", "---\ntitle: About\n---\n");
    write(root, "themes/ananke/README.md", "# Ananke\n");
    write(
        root,
        "themes/ananke/exampleSite/content/post/example.md",
        "# Example\n",
    );
    write(root, "public/posts/first/index.md", "# generated\n");
    write(root, "resources/_gen/x.md", "# generated\n");
    assert_eq!(posts::detect_site(root), Some(Generator::Hugo));
    let posts = posts::scan(root).unwrap();
    assert_eq!(
        rels(&posts),
        [
            "content/about.md",
            "content/posts/bundle/index.md",
            "content/posts/first.md"
        ]
    );
    let first = posts.iter().find(|p| p.title == "First").unwrap();
    assert_eq!(first.date.unwrap().to_string(), "2024-08-03");
    assert_eq!(first.updated.unwrap().to_string(), "2024-09-01");
    let bundle = posts.iter().find(|p| p.title == "Bundle").unwrap();
    assert_eq!(bundle.date.unwrap().to_string(), "2024-07-01");
    // A served site lists the same.
    let served = posts::scan_with(root, Links::Confined).unwrap();
    assert_eq!(rels(&served), rels(&posts));
}

#[test]
fn jekyll_site_lists_posts_and_drafts() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    clutter(root);
    write(root, "_config.yml", "title: My blog\n");
    write(root, "Gemfile", "source 'https://rubygems.org'\n");
    write(root, "index.md", "---\nlayout: home\n---\n");
    write(root, "about.md", "---\nlayout: page\n---\n# About\n");
    write(
        root,
        "_posts/2024-08-03-hello.md",
        "---\ntitle: Hello\nauthors: [Ann, Bo]\n---\nHi\n",
    );
    write(
        root,
        "_posts/2024-08-04-hidden.markdown",
        "---\ntitle: Hidden\npublished: false\n---\nHi\n",
    );
    write(
        root,
        "blog/_posts/2023-01-01-nested.md",
        "---\ntitle: Nested\n---\n",
    );
    write(root, "_drafts/idea.md", "---\ntitle: Idea\n---\n");
    write(root, "_includes/note.md", "included\n");
    write(root, "_site/2024/08/03/hello.md", "# generated\n");
    write(
        root,
        "vendor/bundle/ruby/3.2.0/gems/minima/README.md",
        "# minima\n",
    );
    assert_eq!(posts::detect_site(root), Some(Generator::Jekyll));
    let posts = posts::scan(root).unwrap();
    assert_eq!(
        rels(&posts),
        [
            "_drafts/idea.md",
            "_posts/2024-08-03-hello.md",
            "_posts/2024-08-04-hidden.markdown",
            "blog/_posts/2023-01-01-nested.md"
        ]
    );
    let draft = |t: &str| posts.iter().find(|p| p.title == t).unwrap().draft;
    assert!(draft("Idea"), "_drafts are drafts");
    assert!(draft("Hidden"), "published: false is a draft");
    assert!(!draft("Hello"));
    let hello = posts.iter().find(|p| p.title == "Hello").unwrap();
    assert_eq!(hello.author.as_deref(), Some("Ann, Bo"));
}

#[test]
fn zola_site_reads_taxonomies() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    clutter(root);
    write(
        root,
        "config.toml",
        "base_url = \"https://example.org\"\ntitle = \"Blog\"\n",
    );
    write(root, "content/_index.md", "+++\nsort_by = \"date\"\n+++\n");
    write(root, "content/blog/_index.md", "+++\n+++\n");
    write(
        root,
        "content/blog/first.md",
        "+++\ntitle = \"First\"\ndate = 2024-08-03\n[taxonomies]\ntags = [\"rust\", \"tui\"]\n+++\nBody\n",
    );
    write(
        root,
        "content/blog/asset-post/index.md",
        "+++\ntitle = \"Assets\"\n+++\n",
    );
    write(root, "themes/even/content/demo.md", "# demo\n");
    write(root, "public/blog/first/index.md", "# generated\n");
    assert_eq!(posts::detect_site(root), Some(Generator::Zola));
    let posts = posts::scan(root).unwrap();
    assert_eq!(
        rels(&posts),
        ["content/blog/asset-post/index.md", "content/blog/first.md"]
    );
    let first = posts.iter().find(|p| p.title == "First").unwrap();
    assert_eq!(first.tags, ["rust", "tui"]);
}

#[test]
fn astro_site_reads_mdx_and_pub_date() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    clutter(root);
    write(root, "package.json", "{\"name\": \"blog\"}\n");
    write(root, "astro.config.mjs", "export default {}\n");
    write(
        root,
        "src/content/blog/first-post.md",
        "---\ntitle: 'First post'\ndescription: 'Lorem *ipsum*'\npubDate: 'Jul 08 2022'\nupdatedDate: 'Jul 09 2022'\n---\nBody\n",
    );
    write(
        root,
        "src/content/blog/using-mdx.mdx",
        "---\ntitle: 'Using MDX'\npubDate: 'Jun 01 2024'\n---\nimport Chart from '../../components/Chart.astro';\n\nText\n",
    );
    write(root, "src/pages/about.md", "# About\n");
    write(root, "dist/blog/first-post/index.md", "# generated\n");
    write(root, ".astro/types.md", "# generated\n");
    assert_eq!(posts::detect_site(root), Some(Generator::Astro));
    let posts = posts::scan(root).unwrap();
    assert_eq!(
        rels(&posts),
        [
            "src/content/blog/first-post.md",
            "src/content/blog/using-mdx.mdx"
        ]
    );
    let first = posts.iter().find(|p| p.title == "First post").unwrap();
    assert_eq!(first.date.unwrap().to_string(), "2022-07-08");
    assert_eq!(first.updated.unwrap().to_string(), "2022-07-09");
    let mdx = posts.iter().find(|p| p.title == "Using MDX").unwrap();
    assert_eq!(mdx.date.unwrap().to_string(), "2024-06-01");
    let source = mdx.read_source().unwrap();
    let doc = folio::markdown::render(source.body(), 60, &folio::theme::Theme::default());
    let text: String = doc
        .lines
        .iter()
        .map(|l| {
            l.spans
                .iter()
                .map(|s| s.content.to_string())
                .collect::<String>()
                + "\n"
        })
        .collect();
    assert!(!text.contains("import"), "{text}");
    assert!(text.contains("Text"), "{text}");
}

#[test]
fn eleventy_site_lists_its_posts_folder() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    clutter(root);
    write(
        root,
        "eleventy.config.js",
        "export default function () {}\n",
    );
    write(root, "package.json", "{}\n");
    write(root, "posts/first.md", "---\ntitle: First\n---\n");
    write(root, "posts/second.md", "---\ntitle: Second\n---\n");
    write(root, "index.md", "# Home\n");
    write(root, "_site/posts/first/index.md", "# generated\n");
    assert_eq!(posts::detect_site(root), Some(Generator::Eleventy));
    assert_eq!(
        rels(&posts::scan(root).unwrap()),
        ["posts/first.md", "posts/second.md"]
    );
}

#[test]
fn any_other_folder_honours_ignore_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, ".gitignore", "drafts/\n*.tmp.md\n");
    write(root, ".ignore", "private.md\n");
    write(root, "notes/one.md", "# One\n");
    write(
        root,
        "notes/build/two.md",
        "# Two: a folder of notes may be called build\n",
    );
    write(root, "drafts/no.md", "# ignored\n");
    write(root, "x.tmp.md", "# ignored\n");
    write(root, "private.md", "# ignored\n");
    write(root, "README.md", "# kept: not a site\n");
    write(root, "node_modules/lib/README.md", "# dependency\n");
    write(root, "tool/package.json", "{}\n");
    write(root, "tool/dist/out.md", "# generated beside a package\n");
    write(root, "tool/docs.md", "# kept\n");
    write(root, "section/_index.md", "# a list page\n");
    assert_eq!(posts::detect_site(root), None);
    assert_eq!(
        rels(&posts::scan(root).unwrap()),
        [
            "README.md",
            "notes/build/two.md",
            "notes/one.md",
            "tool/docs.md"
        ]
    );
}

fn folio(args: &[&std::ffi::OsStr]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_folio"))
        .args(args)
        .env("XDG_CONFIG_HOME", dir.path())
        .env("XDG_DATA_HOME", dir.path())
        .env("XDG_CACHE_HOME", dir.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn print_of_a_site_lists_only_posts_and_a_post_has_its_header() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    clutter(root);
    write(root, "hugo.toml", "baseURL = 'https://example.org/'\n");
    write(root, "archetypes/default.md", "+++\ntitle = 'x'\n+++\n");
    write(root, "content/_index.md", "+++\ntitle = 'Home'\n+++\n");
    write(
        root,
        "content/posts/hello.md",
        "---\ntitle: Hello there\ndate: 2024-08-03\nauthor: Ann\ntags: [rust, tui]\n---\n\nNo heading of its own, just words.\n",
    );
    write(root, "themes/t/exampleSite/content/x.md", "# theme\n");
    let list = folio(&["--print".as_ref(), root.as_os_str()]);
    let paths: Vec<&str> = list.lines().filter_map(|l| l.split('\t').nth(2)).collect();
    assert_eq!(paths, ["content/posts/hello.md"], "{list}");
    let post = root.join("content/posts/hello.md");
    let shown = folio(&[
        "--print".as_ref(),
        "-w".as_ref(),
        "60".as_ref(),
        "--color".as_ref(),
        "never".as_ref(),
        post.as_os_str(),
    ]);
    let lines: Vec<&str> = shown.lines().collect();
    assert_eq!(lines[0], "Hello there", "{shown}");
    assert_eq!(lines[1], "2024-08-03 · by Ann · 1 min read", "{shown}");
    assert_eq!(lines[2], "#rust #tui", "{shown}");
    assert!(
        shown.contains("No heading of its own, just words."),
        "{shown}"
    );
}

#[cfg(unix)]
#[test]
fn a_served_site_never_follows_a_link_out_of_its_folder() {
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "secret.md", "# Secret\n");
    write(outside.path(), "posts/leak.md", "# Leak\n");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "hugo.toml", "baseURL = 'x'\n");
    // The content folder itself leads out; so does a link inside another.
    std::os::unix::fs::symlink(outside.path().join("posts"), root.join("content")).unwrap();
    assert_eq!(
        rels(&posts::scan_with(root, Links::Confined).unwrap()),
        Vec::<String>::new()
    );
    assert_eq!(
        rels(&posts::scan(root).unwrap()),
        ["content/leak.md"],
        "a local reader follows it"
    );
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "_config.yml", "title: x\n");
    write(root, "_posts/2024-01-01-in.md", "# In\n");
    std::os::unix::fs::symlink(outside.path(), root.join("_posts/out")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("secret.md"),
        root.join("_posts/2024-01-02-s.md"),
    )
    .unwrap();
    assert_eq!(
        rels(&posts::scan_with(root, Links::Confined).unwrap()),
        ["_posts/2024-01-01-in.md"]
    );
}

#[test]
fn live_reload_watches_a_sites_post_folders_only() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    clutter(root);
    write(root, "hugo.toml", "baseURL = 'x'\n");
    write(root, "content/posts/a.md", "# A\n");
    assert_eq!(posts::watch_folders(root), [root.join("content")]);
    let plain = tempfile::tempdir().unwrap();
    assert_eq!(posts::watch_folders(plain.path()), [plain.path()]);
}
