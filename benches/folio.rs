//! `cargo bench`: folio's hot paths on generated input (see `corpus.rs`).
//! Figures and the machine they were taken on go in the closing notes and,
//! later, the README's performance section.

#[path = "support/corpus.rs"]
mod corpus;

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use folio::action::{Action, Command};
use folio::app::{App, Options};
use folio::keymap::Keymap;
use folio::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const SIZES: &[(&str, usize)] = &[
    ("5KB", 5_000),
    ("100KB", 100_000),
    ("1MB", 1_000_000),
    ("10MB", 10_000_000),
];

fn render(c: &mut Criterion) {
    let theme = Theme::default();
    let plain = theme.without_color();
    let mut group = c.benchmark_group("render");
    group.sample_size(10);
    for &(name, bytes) in SIZES {
        let src = corpus::post(bytes, 1);
        let body = &src[src.find("\n---\n").map_or(0, |i| i + 5)..];
        group.throughput(criterion::Throughput::Bytes(body.len() as u64));
        for width in [80u16, 120] {
            group.bench_with_input(
                BenchmarkId::new(format!("{name}/w{width}"), "highlight"),
                &width,
                |b, &w| {
                    b.iter(|| black_box(folio::markdown::render(body, w, &theme)));
                },
            );
            group.bench_with_input(
                BenchmarkId::new(format!("{name}/w{width}"), "plain"),
                &width,
                |b, &w| {
                    b.iter(|| black_box(folio::markdown::render(body, w, &plain)));
                },
            );
        }
        // The floors: pulldown-cmark's bare parse of the same input, and
        // syntect highlighting its code blocks one after another.
        group.bench_function(BenchmarkId::new(format!("{name}/parse-floor"), ""), |b| {
            b.iter(|| {
                let parser = pulldown_cmark::Parser::new_ext(body, folio::markdown::options());
                black_box(parser.count())
            });
        });
        let blocks = code_blocks(body);
        group.bench_function(
            BenchmarkId::new(format!("{name}/highlight-floor"), ""),
            |b| {
                b.iter(|| {
                    for (lang, code) in &blocks {
                        black_box(folio::highlight::highlight_block(code, lang, &theme.syntax));
                    }
                });
            },
        );
    }
    group.finish();
}

/// The fenced code blocks of `body`, with their language.
fn code_blocks(body: &str) -> Vec<(String, String)> {
    use pulldown_cmark::{CodeBlockKind, Event, Tag, TagEnd};
    let mut blocks = Vec::new();
    let mut current: Option<(String, String)> = None;
    for event in pulldown_cmark::Parser::new_ext(body, folio::markdown::options()) {
        match event {
            Event::Start(Tag::CodeBlock(kind)) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => {
                        info.split_whitespace().next().unwrap_or("").to_owned()
                    }
                    CodeBlockKind::Indented => String::new(),
                };
                current = Some((lang, String::new()));
            }
            Event::Text(t) => {
                if let Some((_, code)) = &mut current {
                    code.push_str(&t);
                }
            }
            Event::End(TagEnd::CodeBlock) => blocks.extend(current.take()),
            _ => {}
        }
    }
    blocks
}

/// Folders of 1,000 and 10,000 small posts: the scan into the sorted list,
/// and from nothing to the first drawn frame (scan, lay out the first post,
/// draw at 100x30).
fn folders(c: &mut Criterion) {
    for (count, samples) in [(1_000, 20), (10_000, 10)] {
        let dir = tempfile::tempdir().unwrap();
        corpus::folder(dir.path(), count);
        let mut group = c.benchmark_group(format!("folder-{count}"));
        group.sample_size(samples);
        group.bench_function("scan", |b| {
            b.iter(|| black_box(folio::posts::scan(dir.path()).unwrap()));
        });
        group.bench_function("first-frame", |b| {
            b.iter(|| {
                let app = reader_on(dir.path());
                let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
                terminal.draw(|f| folio::ui::draw(&app, f)).unwrap();
                black_box(terminal.backend().buffer().area)
            });
        });
        group.finish();
    }
}

/// The reader on the posts of `dir` at 100×30, the first post laid out.
fn reader_on(dir: &std::path::Path) -> App {
    let posts = folio::posts::scan(dir).unwrap();
    let mut app = App::new(
        posts,
        Theme::default(),
        Keymap::default(),
        Options::default(),
    );
    app.update(Action::Resize(100, 30));
    folio::term::settle(&mut app);
    app
}

/// One scroll step: update + draw, alternating down and up so the position
/// stays where it is.
fn scroll_line(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    app: &mut App,
    terminal: &mut Terminal<TestBackend>,
) {
    let mut down = true;
    group.bench_function("scroll-line", |b| {
        b.iter(|| {
            let cmd = if down { Command::Down } else { Command::Up };
            down = !down;
            app.update(Action::Command(cmd));
            terminal.draw(|f| folio::ui::draw(app, f)).unwrap();
        });
    });
}

fn keypress(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("big.md"), corpus::post(1_000_000, 3)).unwrap();
    let mut app = reader_on(dir.path());
    app.update(Action::Command(Command::Open));
    let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
    let mut group = c.benchmark_group("keypress-1MB");
    app.update(Action::Command(Command::PageDown));
    scroll_line(&mut group, &mut app, &mut terminal);
    group.bench_function("next-heading", |b| {
        b.iter(|| {
            app.update(Action::Command(Command::NextHeading));
            app.update(Action::Command(Command::PrevHeading));
            terminal.draw(|f| folio::ui::draw(&app, f)).unwrap();
        });
    });
    group.finish();
}

/// A 10 MB post: the first screen after it is read (the quick layout of its
/// start, then a frame), and one scroll step once it is fully laid out.
fn big_post(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("big.md"), corpus::post(10_000_000, 5)).unwrap();
    let posts = folio::posts::scan(dir.path()).unwrap();
    let source = posts[0].read_source().unwrap();
    let mut group = c.benchmark_group("post-10MB");
    group.sample_size(10);
    group.bench_function("first-screen", |b| {
        b.iter(|| {
            let mut app = App::new(
                posts.clone(),
                Theme::default(),
                Keymap::default(),
                Options::default(),
            );
            app.update(Action::Resize(100, 30));
            let key = app.pending_load().unwrap().rel_path;
            app.update(Action::Loaded(key, Ok(source.clone())));
            let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
            terminal.draw(|f| folio::ui::draw(&app, f)).unwrap();
            black_box(terminal.backend().buffer().area)
        });
    });
    let mut app = reader_on(dir.path());
    app.update(Action::Command(Command::Open));
    app.update(Action::Command(Command::PageDown));
    let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
    scroll_line(&mut group, &mut app, &mut terminal);
    group.finish();
}

criterion_group!(benches, render, folders, keypress, big_post);
criterion_main!(benches);
