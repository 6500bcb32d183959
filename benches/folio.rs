//! `cargo bench`: folio's hot paths on generated input (see `corpus.rs`).
//! Figures and the machine they were taken on go in the closing notes and,
//! later, the README's performance section.

#[path = "support/corpus.rs"]
mod corpus;
#[path = "support/floor.rs"]
mod floor;
#[path = "support/stress.rs"]
mod stress;

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use folio::action::{Action, Command, Edit, Report};
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
        // `--print`: laid out a piece at a time and handed on, the next
        // piece parsed and highlighted on a second thread meanwhile.
        group.bench_function(BenchmarkId::new(format!("{name}/w80"), "streamed"), |b| {
            b.iter(|| {
                let mut lines = 0;
                let rest = folio::markdown::render_streaming(
                    body,
                    80,
                    &theme,
                    folio::markdown::RenderOptions::default(),
                    &mut |l: &folio::document::Lines, _: &[folio::document::Heading]| {
                        lines += l.len();
                        true
                    },
                );
                black_box(lines + rest.lines.len())
            });
        });
        // The floors: pulldown-cmark's bare parse of the same input, and
        // syntect highlighting its code blocks one after another.
        group.bench_function(BenchmarkId::new(format!("{name}/parse-floor"), ""), |b| {
            b.iter(|| {
                let parser = pulldown_cmark::Parser::new_ext(body, folio::markdown::options());
                black_box(parser.count())
            });
        });
        let blocks = floor::code_blocks(body);
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
        streaming(&mut group, dir.path());
        group.finish();
    }
}

/// The reader's start as `folio DIR` makes it: the first frame at once,
/// then the list filling in from the background scan, applied and drawn as
/// the runner's loop does (all queued batches, then one frame). Times from
/// the start to the first frame, to the first frame with posts in it, and
/// to the frame of the complete list. Each start runs to its end before
/// the next, so no scan overlaps a measured one.
fn streaming(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    dir: &std::path::Path,
) {
    use std::time::{Duration, Instant};
    let start_once = || -> [Duration; 3] {
        let start = Instant::now();
        let mut app = App::new(
            Vec::new(),
            Theme::default(),
            Keymap::default(),
            Options::default(),
        );
        app.update(Action::Resize(100, 30));
        app.report(Report::PostsRead {
            posts: Vec::new(),
            done: false,
        });
        let (tx, rx) = std::sync::mpsc::channel();
        folio::work::read_posts(dir.to_path_buf(), move |a| tx.send(a).is_ok()).unwrap();
        let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
        terminal.draw(|f| folio::ui::draw(&app, f)).unwrap();
        let first = start.elapsed();
        let mut with_posts = None;
        while let Ok(action) = rx.recv() {
            app.report(action);
            for action in rx.try_iter() {
                app.report(action);
            }
            // As the runner does: the selected post read and quickly laid
            // out here; its highlighting would go to another thread.
            while let Some(post) = app.pending_load() {
                let source = post.read_source().map_err(|e| e.to_string());
                app.report(Report::Loaded(post.rel_path.clone(), source));
            }
            terminal.draw(|f| folio::ui::draw(&app, f)).unwrap();
            if with_posts.is_none() && !app.posts().is_empty() {
                with_posts = Some(start.elapsed());
            }
            if app.scanning().is_none() {
                break;
            }
        }
        assert!(app.scanning().is_none() && !app.posts().is_empty());
        [first, with_posts.unwrap_or_default(), start.elapsed()]
    };
    // The runner starts watching the folder (live reload) before its
    // first frame: that is part of the start too.
    group.bench_function("stream/watch-start", |b| {
        b.iter(|| black_box(folio::watch::Watch::start(dir).unwrap()));
    });
    for (i, name) in [
        "stream/first-frame",
        "stream/first-posts",
        "stream/complete",
    ]
    .into_iter()
    .enumerate()
    {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| (0..iters).map(|_| start_once()[i]).sum());
        });
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
    folio::work::settle(&mut app);
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
            app.report(Report::Loaded(key, Ok(source.clone())));
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

/// Typing one more character into the open prompt, or taking it back,
/// alternately, with a frame after each: what a keystroke costs.
fn prompt_key(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    app: &mut App,
    terminal: &mut Terminal<TestBackend>,
    c: char,
) {
    let mut add = true;
    group.bench_function(name, |b| {
        b.iter(|| {
            let edit = if add {
                Edit::Insert(c)
            } else {
                Edit::Backspace
            };
            add = !add;
            app.update(Action::Edit(edit));
            terminal.draw(|f| folio::ui::draw(app, f)).unwrap();
        });
    });
}

/// Typing the first character into the empty prompt and deleting it, with
/// a frame after each: the first character gets no help from a shorter
/// query, so this is the slowest keystroke.
fn first_key(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    app: &mut App,
    terminal: &mut Terminal<TestBackend>,
    c: char,
) {
    group.bench_function(name, |b| {
        b.iter(|| {
            for edit in [Edit::Insert(c), Edit::Backspace] {
                app.update(Action::Edit(edit));
                terminal.draw(|f| folio::ui::draw(app, f)).unwrap();
            }
        });
    });
}

/// The list filter and the search across all posts on the folder of
/// 10,000 posts; the in-post search on the 10 MB post.
fn search(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    corpus::folder(dir.path(), 10_000);
    let mut group = c.benchmark_group("search-10000");
    group.sample_size(20);
    let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
    for (name, query, extra) in [
        ("filter-key/title", "post 12", '3'),
        ("filter-key/excerpt", "latenc", 'y'),
        ("filter-key/tag", "#t7 numb", 'e'),
    ] {
        let mut app = reader_on(dir.path());
        app.update(Action::Command(Command::Search));
        for ch in query.chars() {
            app.update(Action::Edit(Edit::Insert(ch)));
        }
        assert!(app.view_len() > 0, "{query} matches");
        prompt_key(&mut group, name, &mut app, &mut terminal, extra);
    }
    let mut app = reader_on(dir.path());
    app.update(Action::Command(Command::Search));
    first_key(&mut group, "filter-first-key", &mut app, &mut terminal, 'l');
    group.sample_size(10);
    for (name, query) in [
        ("full-text/no-match", "zebra"),
        ("full-text/phrase", "latency throughput memory"),
    ] {
        let mut app_for_job = reader_on(dir.path());
        app_for_job.update(Action::Command(Command::SearchAll));
        for ch in query.chars() {
            app_for_job.update(Action::Edit(Edit::Insert(ch)));
        }
        let job = app_for_job.pending_search().unwrap();
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut hits = 0;
                folio::work::run_search(&job, &|| false, &mut |a| {
                    if let Report::SearchResults { hits: h, .. } = a {
                        hits += h.len();
                    }
                });
                black_box(hits)
            });
        });
    }
    group.finish();

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("big.md"), corpus::post(10_000_000, 5)).unwrap();
    let mut group = c.benchmark_group("find-10MB");
    group.sample_size(10);
    let mut app = reader_on(dir.path());
    app.update(Action::Command(Command::Open));
    let doc = app.document().unwrap().clone();
    group.bench_function("search-text", |b| {
        b.iter(|| black_box(folio::search::SearchText::new(&doc).text().len()));
    });
    app.update(Action::Command(Command::Search));
    // The search text is made on the first key; then the first character
    // is searched in full each time.
    app.update(Action::Edit(Edit::Insert('x')));
    app.update(Action::Edit(Edit::Backspace));
    first_key(&mut group, "first-key", &mut app, &mut terminal, 't');
    for ch in "latency th".chars() {
        app.update(Action::Edit(Edit::Insert(ch)));
    }
    prompt_key(&mut group, "key", &mut app, &mut terminal, 'r');
    app.update(Action::Edit(Edit::Accept));
    group.bench_function("next-match", |b| {
        b.iter(|| {
            app.update(Action::Command(Command::NextMatch));
            terminal.draw(|f| folio::ui::draw(&app, f)).unwrap();
        });
    });
    group.finish();
}

/// cmark's and cmark-gfm's pathological inputs and folio's own, each laid
/// out at its upstream size and at four times it: linear work takes about
/// four times as long (`-- stress/tables` for one of them;
/// `cargo run --release --example stress -- time` prints all the ratios).
fn stress_inputs(c: &mut Criterion) {
    let theme = Theme::default();
    let mut group = c.benchmark_group("stress");
    group.sample_size(10);
    group.warm_up_time(std::time::Duration::from_millis(500));
    for percent in [100, 400] {
        for (name, src) in stress::cases(percent) {
            let id = BenchmarkId::new(name.replace(' ', "-"), format!("{percent}%"));
            group.bench_function(id, |b| {
                b.iter(|| black_box(folio::markdown::render(&src, 80, &theme)));
            });
        }
    }
    group.finish();
}

/// Decoding a 2000×1500 JPEG (a photo's size) into the half blocks of a
/// 100-column reader: the work a picture costs its worker thread.
fn pictures(c: &mut Criterion) {
    let img = image::RgbImage::from_fn(2000, 1500, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x ^ y) % 256) as u8])
    });
    let mut jpeg = std::io::Cursor::new(Vec::new());
    img.write_to(&mut jpeg, image::ImageFormat::Jpeg).unwrap();
    let jpeg = jpeg.into_inner();
    let rows = folio::picture::rows_for(100);
    c.bench_function("picture/decode-2000x1500-jpeg", |b| {
        b.iter(|| {
            black_box(folio::picture::decode(
                &jpeg,
                100,
                rows,
                folio::color::Depth::TrueColor,
            ))
        });
    });
}

criterion_group!(
    benches,
    pictures,
    render,
    folders,
    keypress,
    big_post,
    search,
    stress_inputs
);
criterion_main!(benches);
