//! The stress inputs of `benches/support/stress.rs`, for timing the whole
//! CLI on them or the layout alone:
//! `cargo run --release --example stress -- write DIR 100` writes each
//! input at its upstream size (`400`: four times it) as `DIR/NN.md`, to
//! time `folio -p` on; `cargo run --release --example stress -- time`
//! lays each out at 100% and 400% and prints the times and their ratio
//! (linear work: about 4).

#[path = "../benches/support/stress.rs"]
mod stress;

use std::time::{Duration, Instant};

use folio::theme::Theme;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match (args.first().map(String::as_str), args.get(1), args.get(2)) {
        (Some("write"), Some(dir), percent) => {
            let percent = percent.and_then(|p| p.parse().ok()).unwrap_or(100);
            let dir = std::path::Path::new(dir);
            std::fs::create_dir_all(dir).unwrap_or_else(|e| fail(&e.to_string()));
            for (i, (name, src)) in stress::cases(percent).into_iter().enumerate() {
                let path = dir.join(format!("{i:02}.md"));
                std::fs::write(&path, &src).unwrap_or_else(|e| fail(&e.to_string()));
                println!("{}\t{}\t{name}", path.display(), src.len());
            }
        }
        (Some("time"), ..) => time(),
        _ => fail("usage: stress write DIR [PERCENT] | stress time"),
    }
}

fn fail(why: &str) -> ! {
    eprintln!("stress: {why}");
    std::process::exit(2);
}

fn time() {
    let theme = Theme::default();
    let layout = |src: &str| {
        let start = Instant::now();
        let doc = folio::markdown::render(src, 80, &theme);
        (start.elapsed(), doc.lines.len())
    };
    let mut worst = (Duration::ZERO, "");
    let big = stress::cases(400);
    for ((name, src), (_, src4)) in stress::cases(100).into_iter().zip(&big) {
        let (t1, lines) = layout(&src);
        let (t4, _) = layout(src4);
        println!(
            "{name:50} {:>9} B {lines:>7} lines {:>9.1} ms  4x: {:>9.1} ms  ratio {:.1}",
            src.len(),
            t1.as_secs_f64() * 1e3,
            t4.as_secs_f64() * 1e3,
            t4.as_secs_f64() / t1.as_secs_f64().max(1e-6)
        );
        if t1 > worst.0 {
            worst = (t1, name);
        }
    }
    println!("slowest at upstream size: {} in {:?}", worst.1, worst.0);
}
