//! kitty's graphics protocol: a PNG sent once in base64 chunks, then
//! placed (and moved, and removed) by its image id.
//!
//! Every command has `q=2` (the terminal answers nothing: no reply can
//! arrive as input) and placements `C=1` (the cursor stays, so the frame's
//! cursor bookkeeping holds).

use std::fmt::Write as _;

use super::Encoded;

/// The most base64 bytes in one chunk, as the protocol requires.
pub const CHUNK: usize = 4096;

/// Transmits `enc` as image `id` and places it at the cursor, sized
/// `cols` × `rows` cells (`a=T`), in chunks of at most [`CHUNK`] bytes:
/// `m=1` on every chunk but the last.
pub fn transmit_and_place(out: &mut String, id: u32, enc: &Encoded) {
    let keys = format!("a=T,f=100,t=d,i={id},c={},r={},C=1,q=2", enc.cols, enc.rows);
    send(out, &keys, &enc.data);
}

/// `enc` sent and placed at the cursor for `--print`: no id (nothing is
/// placed again), the cursor moved past it as after text.
pub fn print(out: &mut String, enc: &Encoded) {
    let keys = format!("a=T,f=100,t=d,c={},r={},q=2", enc.cols, enc.rows);
    send(out, &keys, &enc.data);
}

/// One command with control `keys` and base64 `data`, in chunks.
fn send(out: &mut String, keys: &str, data: &str) {
    let mut chunks = data.as_bytes().chunks(CHUNK).peekable();
    let mut first = true;
    while let Some(chunk) = chunks.next() {
        let more = u8::from(chunks.peek().is_some());
        // Base64 is ASCII: any cut is on a character boundary.
        let chunk = std::str::from_utf8(chunk).unwrap_or_default();
        if first {
            let _ = write!(out, "\x1b_G{keys},m={more};{chunk}\x1b\\");
            first = false;
        } else {
            let _ = write!(out, "\x1b_Gm={more},q=2;{chunk}\x1b\\");
        }
    }
}

/// Places image `id`, already sent, at the cursor again.
pub fn place(out: &mut String, id: u32, enc: &Encoded) {
    let _ = write!(
        out,
        "\x1b_Ga=p,i={id},c={},r={},C=1,q=2\x1b\\",
        enc.cols, enc.rows
    );
}

/// Removes the placements of image `id`, keeping its data for the next
/// placement.
pub fn unplace(out: &mut String, id: u32) {
    let _ = write!(out, "\x1b_Ga=d,d=i,i={id},q=2\x1b\\");
}

/// Removes the placements of image `id` and frees its data.
pub fn forget(out: &mut String, id: u32) {
    let _ = write!(out, "\x1b_Ga=d,d=I,i={id},q=2\x1b\\");
}

/// Removes every placement on screen (data kept).
pub const UNPLACE_ALL: &str = "\x1b_Ga=d,d=a,q=2\x1b\\";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graphics::Graphics;

    fn encoded(len: usize) -> Encoded {
        Encoded {
            graphics: Graphics::Kitty,
            left: 0,
            cols: 30,
            rows: 8,
            data: "A".repeat(len).into(),
        }
    }

    /// The APC commands in `s`: (control keys, payload).
    fn commands(s: &str) -> Vec<(String, String)> {
        s.split("\x1b_G")
            .skip(1)
            .map(|c| {
                let c = c.strip_suffix("\x1b\\").expect("ST-terminated");
                let (keys, payload) = c.split_once(';').unwrap_or((c, ""));
                (keys.to_owned(), payload.to_owned())
            })
            .collect()
    }

    #[test]
    fn a_big_picture_is_sent_in_chunks_of_at_most_4096_with_m_1_but_the_last() {
        let mut out = String::new();
        transmit_and_place(&mut out, 7, &encoded(3 * CHUNK + 100));
        let cmds = commands(&out);
        assert_eq!(cmds.len(), 4);
        for (i, (keys, payload)) in cmds.iter().enumerate() {
            assert!(payload.len() <= CHUNK, "{}", payload.len());
            let last = i == cmds.len() - 1;
            assert!(
                keys.contains(if last { "m=0" } else { "m=1" }),
                "{i}: {keys}"
            );
            assert!(keys.contains("q=2"));
        }
        assert!(cmds[0].0.starts_with("a=T,f=100"));
        assert!(cmds[0].0.contains("i=7") && cmds[0].0.contains("C=1"));
        assert!(cmds[0].0.contains("c=30,r=8"));
        let total: usize = cmds.iter().map(|c| c.1.len()).sum();
        assert_eq!(total, 3 * CHUNK + 100);
        // A small one is one command.
        let mut out = String::new();
        transmit_and_place(&mut out, 8, &encoded(10));
        assert_eq!(commands(&out).len(), 1);
        assert!(commands(&out)[0].0.contains("m=0"));
    }

    #[test]
    fn placing_and_removing() {
        let mut out = String::new();
        place(&mut out, 3, &encoded(4));
        unplace(&mut out, 3);
        forget(&mut out, 3);
        assert_eq!(
            out,
            "\x1b_Ga=p,i=3,c=30,r=8,C=1,q=2\x1b\\\x1b_Ga=d,d=i,i=3,q=2\x1b\\\x1b_Ga=d,d=I,i=3,q=2\x1b\\"
        );
    }
}
