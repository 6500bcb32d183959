//! Renders a Markdown file to stdout as plain text, for eyeballing layout and
//! timing: `cargo run --release --example render -- FILE [WIDTH]`.

use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: render FILE [WIDTH]");
    let width = args
        .next()
        .map_or(80, |w| w.parse().expect("width is a number"));
    let source = std::fs::read_to_string(path).expect("readable file");
    let theme = folio::theme::Theme::default();
    let start = Instant::now();
    let doc = folio::markdown::render(&source, width, &theme);
    let took = start.elapsed();
    for line in &doc.lines {
        let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
        println!("{text}");
    }
    eprintln!("{} lines in {took:?}", doc.lines.len());
}
