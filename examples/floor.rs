//! The floor `--print` is measured against, as a program of its own so that
//! `perf stat -e task-clock` can time it beside `folio --print` on a busy
//! machine (criterion times the wall clock): `floor parse FILE` runs
//! pulldown-cmark's bare parse of a post, `floor highlight FILE` highlights
//! its fenced code blocks one after another, as `benches/folio.rs` does.
//!
//! `taskset -c 0 perf stat -e task-clock target/release/examples/floor parse big.md`

#[path = "../benches/support/floor.rs"]
mod floor;

use std::hint::black_box;

use folio::theme::Theme;
use pulldown_cmark::Parser;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(mode), Some(path)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: floor parse|highlight FILE");
        std::process::exit(2);
    };
    let src = std::fs::read_to_string(path).unwrap_or_else(|e| {
        eprintln!("floor: {path}: {e}");
        std::process::exit(1);
    });
    let body = &src[src.find("\n---\n").map_or(0, |i| i + 5)..];
    match mode.as_str() {
        "parse" => {
            black_box(Parser::new_ext(body, folio::markdown::options()).count());
        }
        "highlight" => {
            let theme = Theme::default();
            for (lang, code) in floor::code_blocks(body) {
                black_box(folio::highlight::highlight_block(
                    &code,
                    &lang,
                    &theme.syntax,
                ));
            }
        }
        _ => {
            eprintln!("usage: floor parse|highlight FILE");
            std::process::exit(2);
        }
    }
}
