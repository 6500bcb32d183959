//! Writes the benchmarks' generated input to disk, so other readers can be
//! measured on the very same files:
//! `cargo run --release --example corpus -- post 10000000 > big.md` or
//! `cargo run --release --example corpus -- folder 10000 DIR`.

#[path = "../benches/support/corpus.rs"]
mod corpus;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n = |i: usize| args.get(i).and_then(|s| s.parse::<usize>().ok());
    match (args.first().map(String::as_str), n(1)) {
        (Some("post"), Some(bytes)) => print!("{}", corpus::post(bytes, 5)),
        (Some("folder"), Some(count)) if args.len() > 2 => {
            corpus::folder(std::path::Path::new(&args[2]), count);
        }
        _ => {
            eprintln!("usage: corpus post BYTES | corpus folder COUNT DIR");
            std::process::exit(2);
        }
    }
}
