//! The cost of one key on the path a visitor of `folio serve` takes: bytes
//! in, the session's update, a frame drawn and encoded into bytes. Made for
//! `valgrind --tool=callgrind`, which counts instructions (repeatable on a
//! busy machine, unlike seconds):
//!
//! ```sh
//! cargo build --release --example keypath
//! valgrind --tool=callgrind target/release/examples/keypath 0     # start-up only
//! valgrind --tool=callgrind target/release/examples/keypath 400   # and 400 keys
//! ```
//!
//! The difference of the two totals over 400 is the cost of one key. The
//! session reads folio's own guide at 100×30 in 256 colours (what a visitor
//! gets by default), the list beside the reader.

use std::time::Instant;

use folio::app::{App, Options};
use folio::color::Depth;
use folio::keymap::Keymap;
use folio::session::{NoHost, Session};
use folio::theme::Theme;
use folio::work::Inline;

fn main() {
    let keys: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(400);
    let theme = Theme::builtin("dark")
        .expect("built-in theme")
        .for_depth(Depth::Ansi256);
    let app = App::new(
        folio::posts::embedded(),
        theme,
        Keymap::default(),
        Options::default(),
    );
    let mut session = Session::new(app, Vec::new(), (100, 30), None).expect("session");
    let now = Instant::now();
    let mut exec = Inline::default();
    session.start(now, &mut exec, &mut NoHost).expect("start");
    // Open the first post, then scroll down and back up, a line a key.
    session.input(b"\r", now);
    session.step(&mut exec, &mut NoHost).expect("step");
    session.frame(false).expect("frame");
    let mut bytes = 0;
    for i in 0..keys {
        session.writer_mut().clear();
        let key: &[u8] = if (i / 20) % 2 == 0 { b"j" } else { b"k" };
        session.input(key, now);
        session.step(&mut exec, &mut NoHost).expect("step");
        session.frame(false).expect("frame");
        bytes += session.writer_mut().len();
    }
    println!("{keys} keys, {bytes} bytes of frames");
}
