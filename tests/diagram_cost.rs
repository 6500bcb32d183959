//! How long the diagram crate takes at folio's caps (printed, not asserted:
//! run with `cargo test --test diagram_cost -- --nocapture --ignored`).

use std::fmt::Write as _;
use std::time::Instant;

use folio::markdown::render;
use folio::theme::Theme;

fn time(name: &str, body: &str) {
    let src = format!("```mermaid\n{body}```\n");
    let start = Instant::now();
    let doc = render(&src, 100, &Theme::default());
    let why = (0..doc.len())
        .map(|i| doc.lines.text(i))
        .find(|l| l.contains("Diagram shown as source"))
        .unwrap_or("drawn")
        .to_owned();
    println!(
        "{name}: {} bytes, {:.1} ms, {why}",
        src.len(),
        start.elapsed().as_secs_f64() * 1000.0
    );
}

fn random_graph(nodes: u64, edges: usize) -> String {
    let mut g = String::from("graph LR\n");
    let mut x: u64 = 7;
    for _ in 0..edges {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let a = (x >> 33) % nodes;
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let b = (x >> 33) % nodes;
        let _ = writeln!(g, "  N{a} --> N{b}");
    }
    g
}

#[test]
#[ignore = "a measurement"]
fn diagram_cost_of_random_graphs() {
    for (nodes, edges) in [(10, 60), (15, 60), (30, 60), (60, 60)] {
        time(
            &format!("{nodes} nodes, {edges} random edges"),
            &random_graph(nodes, edges),
        );
    }
}

#[test]
#[ignore = "a measurement"]
fn diagram_cost_at_the_caps() {
    let mut chain = String::from("graph TD\n");
    for i in 0..59 {
        let _ = writeln!(chain, "  N{i}[node {i}] --> N{}", i + 1);
    }
    time("chain of 60", &chain);
    let mut seq = String::from("sequenceDiagram\n");
    for i in 0..299 {
        let _ = writeln!(seq, "  P{}->>P{}: message {i}", i % 12, (i * 7 + 3) % 12);
    }
    time("sequence, 12 participants, 299 messages", &seq);
    let mut wide = String::from("graph LR\n");
    for i in 0..60 {
        let _ = writeln!(wide, "  Root --> L{i}[leaf {i}]");
    }
    time("star of 60", &wide);
}
