//! A deterministic generator of realistic posts and folders for the benches:
//! fixed seed, so every run and every machine measures the same input, and
//! nothing big is committed.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::Path;

/// A small xorshift generator: enough variety, no dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const WORDS: &[&str] = &[
    "terminal",
    "reader",
    "markdown",
    "post",
    "heading",
    "render",
    "layout",
    "width",
    "scroll",
    "the",
    "a",
    "of",
    "and",
    "to",
    "in",
    "is",
    "that",
    "with",
    "for",
    "on",
    "as",
    "it",
    "we",
    "folder",
    "frontmatter",
    "parser",
    "buffer",
    "frame",
    "cache",
    "offset",
    "line",
    "table",
    "quote",
    "list",
    "code",
    "highlight",
    "syntax",
    "theme",
    "colour",
    "bytes",
    "session",
    "latency",
    "throughput",
    "memory",
    "allocation",
    "benchmark",
    "measure",
    "result",
];

const RUST: &str = "fn main() {\n    let posts = vec![\"a\", \"b\"];\n    for (i, p) in posts.iter().enumerate() {\n        println!(\"{i}: {p}\");\n    }\n}\n";
const PYTHON: &str = "from pathlib import Path\n\ndef titles(folder):\n    for p in sorted(Path(folder).glob('*.md')):\n        yield p.stem.replace('-', ' ')\n";
const SHELL: &str = "for f in posts/*.md; do\n  head -n 5 \"$f\" | grep '^title:'\ndone\n";
const JS: &str = "const words = text.split(/\\s+/).length;\nconsole.log(`${Math.ceil(words / 200)} min read`);\n";

fn sentence(rng: &mut Rng, out: &mut String) {
    let n = 6 + rng.below(14);
    for i in 0..n {
        let w = rng.pick(WORDS);
        let styled = match rng.below(30) {
            0 => format!("**{w}**"),
            1 => format!("*{w}*"),
            2 => format!("`{w}`"),
            3 => format!("[{w}](https://example.com/{w})"),
            _ => w.to_owned(),
        };
        if i == 0 {
            let mut c = styled.chars();
            if let Some(f) = c.next() {
                out.extend(f.to_uppercase());
                out.push_str(c.as_str());
            }
        } else {
            out.push(' ');
            out.push_str(&styled);
        }
    }
    out.push_str(". ");
}

fn paragraph(rng: &mut Rng, out: &mut String) {
    for _ in 0..2 + rng.below(4) {
        sentence(rng, out);
    }
    out.push_str("\n\n");
}

/// A post body of about `bytes` bytes with a realistic mix of elements.
pub fn post(bytes: usize, seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let mut out = String::with_capacity(bytes + 4096);
    let _ = write!(
        out,
        "---\ntitle: \"Generated post {seed}\"\ndate: 2025-01-01\ntags: [bench]\n---\n\n# Generated post\n\n"
    );
    let mut section = 0;
    let mut footnotes = 0;
    while out.len() < bytes {
        match rng.below(14) {
            0 => {
                section += 1;
                let _ = write!(out, "## Section {section}\n\n");
            }
            1 => {
                let _ = write!(out, "### Part {section}.{}\n\n", rng.below(9));
            }
            2 => {
                for depth in 0..3 {
                    for _ in 0..2 {
                        out.push_str(&"  ".repeat(depth));
                        out.push_str("- ");
                        sentence(&mut rng, &mut out);
                        out.push('\n');
                    }
                }
                out.push('\n');
            }
            3 => {
                out.push_str("> ");
                sentence(&mut rng, &mut out);
                out.push_str("\n> > ");
                sentence(&mut rng, &mut out);
                out.push_str("\n\n");
            }
            4 => {
                out.push_str("| Name | Value | Notes |\n|:--|--:|:-:|\n");
                for r in 0..4 {
                    let _ = write!(out, "| row {r} | {} | ", rng.below(1000));
                    sentence(&mut rng, &mut out);
                    out.push_str("|\n");
                }
                out.push('\n');
            }
            5 => {
                let (lang, code) = match rng.below(4) {
                    0 => ("rust", RUST),
                    1 => ("python", PYTHON),
                    2 => ("sh", SHELL),
                    _ => ("js", JS),
                };
                let _ = write!(out, "```{lang}\n{code}```\n\n");
            }
            6 => {
                footnotes += 1;
                sentence(&mut rng, &mut out);
                let _ = write!(out, "[^n{footnotes}]\n\n[^n{footnotes}]: ");
                sentence(&mut rng, &mut out);
                out.push_str("\n\n");
            }
            _ => paragraph(&mut rng, &mut out),
        }
    }
    out
}

/// A folder of `n` small posts with varied dates, in a few subfolders.
pub fn folder(dir: &Path, n: usize) {
    let mut rng = Rng::new(7);
    for i in 0..n {
        let sub = dir.join(format!("{}", 2015 + i % 10));
        std::fs::create_dir_all(&sub).unwrap();
        let (y, m, d) = (2015 + rng.below(11), 1 + rng.below(12), 1 + rng.below(28));
        let mut text = format!(
            "---\ntitle: \"Post number {i}\"\ndate: {y:04}-{m:02}-{d:02}\ntags: [t{}, bench]\nexcerpt: \"",
            rng.below(20)
        );
        sentence(&mut rng, &mut text);
        text.push_str("\"\n---\n\n");
        while text.len() < 2000 + rng.below(4000) {
            paragraph(&mut rng, &mut text);
        }
        std::fs::write(sub.join(format!("post-{i}.md")), text).unwrap();
    }
}

/// Titles as a real blog has them: different lengths, punctuation, the odd
/// non-ASCII letter. Scroll costs are measured beside a list of these (a
/// list of "Post number N" repaints more cheaply than a real one).
pub const REAL_TITLES: [&str; 40] = [
    "Why I moved my blog to a folder of Markdown files",
    "Notes on reading code you did not write",
    "A week with a split keyboard",
    "The quiet cost of retries in distributed systems",
    "Terminal colours, explained slowly",
    "What I learned shipping a TUI over SSH",
    "Sourdough, again",
    "Profiling Rust without losing your afternoon",
    "On writing commit messages for strangers",
    "Ten years of the same text editor",
    "Café notes: Lisbon",
    "How our CI got 4× faster (and then slower)",
    "Backpressure is a feature",
    "Reading list, spring",
    "Small tools, sharp edges",
    "Unicode width is harder than you think",
    "Migrating a Postgres database with zero downtime",
    "The case for boring technology, revisited",
    "Dotfiles I actually use",
    "A gentle introduction to property-based testing",
    "Why my tests were flaky: a post-mortem",
    "Walking the Camino, part 2",
    "Designing keyboard shortcuts people remember",
    "Error messages are UI",
    "Caching: the two hard things",
    "An ode to plain text",
    "Home server, year three",
    "Latency numbers for the rest of us",
    "Making a static site generator I did not need",
    "Notes from a talk on accessibility in terminals",
    "Fixing a memory leak in production at 3 a.m.",
    "Books that changed how I program",
    "The joy of deleting code",
    "Learning Japanese with spaced repetition",
    "Measuring what matters in code review",
    "How I take notes",
    "Rust lifetimes, by example",
    "Weekend project: an e-ink weather display",
    "What the Unix philosophy got right",
    "Hello, world",
];

/// A blog of 40 posts titled as a real one is, dated a week apart, the
/// newest a long generated post (`post_bytes`) and the rest short.
pub fn real_blog(dir: &Path, post_bytes: usize) {
    let mut rng = Rng::new(11);
    for (i, title) in REAL_TITLES.iter().enumerate() {
        let day = 300 - i * 7;
        let (m, d) = (1 + day / 28 % 12, 1 + day % 28);
        let mut text = format!(
            "---\ntitle: \"{title}\"\ndate: 2025-{m:02}-{d:02}\ntags: [t{}, notes]\nexcerpt: \"",
            rng.below(9)
        );
        sentence(&mut rng, &mut text);
        text.push_str("\"\n---\n\n");
        if i == 0 {
            let long = post(post_bytes, 5);
            text.push_str(&long[long.find("\n---\n").map_or(0, |k| k + 5)..]);
        } else {
            while text.len() < 1500 + rng.below(3000) {
                paragraph(&mut rng, &mut text);
            }
        }
        std::fs::write(dir.join(format!("post-{i:02}.md")), text).unwrap();
    }
}
