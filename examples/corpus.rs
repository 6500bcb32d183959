//! Writes the benchmarks' generated input to disk, so other readers can be
//! measured on the very same files:
//! `cargo run --release --example corpus -- post 10000000 > big.md` or
//! `cargo run --release --example corpus -- folder 10000 DIR`, or a blog of
//! 40 posts with real-looking titles, the newest of BYTES:
//! `cargo run --release --example corpus -- blog 100000 DIR`.

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
        (Some("blog"), Some(bytes)) if args.len() > 2 => {
            corpus::real_blog(std::path::Path::new(&args[2]), bytes);
        }
        _ => {
            eprintln!("usage: corpus post BYTES | corpus folder COUNT DIR | corpus blog BYTES DIR");
            std::process::exit(2);
        }
    }
}
