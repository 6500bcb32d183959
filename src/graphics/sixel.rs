//! DEC sixel graphics from RGBA pixels.
//!
//! Written here rather than taken from a crate: the encoder is a page,
//! and a fixed palette (6 reds × 7 greens × 6 blues, 252 colours) needs
//! no quantiser, so the cost is linear in the pixels and known up front.
//! Mostly transparent pixels are not painted (`P2 = 1`): the terminal's
//! background shows, as with half blocks.

use std::fmt::Write as _;

const REDS: u16 = 6;
const GREENS: u16 = 7;
const BLUES: u16 = 6;
/// The palette's size: at most 256, as sixel terminals have.
pub const COLOURS: usize = (REDS * GREENS * BLUES) as usize;
const CLEAR: u16 = u16::MAX;

/// The palette index nearest to (r, g, b).
fn index(r: u8, g: u8, b: u8) -> u16 {
    let level = |v: u8, n: u16| (u16::from(v) * (n - 1) + 127) / 255;
    (level(r, REDS) * GREENS + level(g, GREENS)) * BLUES + level(b, BLUES)
}

/// Palette entry `i` as sixel's percentages.
fn percent(i: u16) -> (u16, u16, u16) {
    let (r, rest) = (i / (GREENS * BLUES), i % (GREENS * BLUES));
    let (g, b) = (rest / BLUES, rest % BLUES);
    let pct = |v: u16, n: u16| v * 100 / (n - 1);
    (pct(r, REDS), pct(g, GREENS), pct(b, BLUES))
}

/// Pushes `n` repeats of sixel character `c`, run-length coded.
fn push_run(out: &mut String, c: u8, n: usize) {
    match n {
        0 => {}
        1..=3 => {
            for _ in 0..n {
                out.push(char::from(c));
            }
        }
        _ => {
            let _ = write!(out, "!{n}{}", char::from(c));
        }
    }
}

/// The sixel sequence (`ESC P … q … ESC \`) for `width` × `height` RGBA
/// pixels, drawn from the cursor's cell.
pub fn encode(width: u32, height: u32, rgba: &[u8]) -> String {
    let (w, h) = (width as usize, height as usize);
    let mut out = String::with_capacity(w * h / 4 + 4096);
    let _ = write!(out, "\x1bP0;1;0q\"1;1;{w};{h}");
    if rgba.len() < w * h * 4 || w == 0 || h == 0 {
        out.push_str("\x1b\\");
        return out;
    }
    let colour = |x: usize, y: usize| {
        let p = &rgba[(y * w + x) * 4..(y * w + x) * 4 + 4];
        if p[3] < 128 {
            CLEAR
        } else {
            index(p[0], p[1], p[2])
        }
    };
    let mut defined = [false; COLOURS];
    // Per colour, the band's sixel bits at each column; only the rows of
    // colours used in the band are touched.
    let mut bits = vec![0u8; COLOURS * w];
    let mut used: Vec<u16> = Vec::new();
    let mut in_band = [false; COLOURS];
    for band in (0..h).step_by(6) {
        for &c in &used {
            in_band[usize::from(c)] = false;
        }
        used.clear();
        for dy in 0..6.min(h - band) {
            for x in 0..w {
                let c = colour(x, band + dy);
                if c == CLEAR {
                    continue;
                }
                if !in_band[usize::from(c)] {
                    in_band[usize::from(c)] = true;
                    used.push(c);
                }
                bits[usize::from(c) * w + x] |= 1 << dy;
            }
        }
        for (k, &c) in used.iter().enumerate() {
            if !defined[usize::from(c)] {
                let (red, green, blue) = percent(c);
                let _ = write!(out, "#{c};2;{red};{green};{blue}");
                defined[usize::from(c)] = true;
            }
            let _ = write!(out, "#{c}");
            let row = &mut bits[usize::from(c) * w..(usize::from(c) + 1) * w];
            // Trailing empty columns are left out.
            let end = row.iter().rposition(|&b| b != 0).map_or(0, |e| e + 1);
            let mut col = 0;
            while col < end {
                let sixel = row[col];
                let run = row[col..end].iter().take_while(|&&b| b == sixel).count();
                push_run(&mut out, 63 + sixel, run);
                col += run;
            }
            row.fill(0);
            if k + 1 < used.len() {
                out.push('$');
            }
        }
        out.push('-');
    }
    out.push_str("\x1b\\");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sixel_picture_is_one_dcs_string_with_at_most_256_colours() {
        // A gradient through many colours, 40×13 (bands of 6, the last
        // partial), with a transparent column.
        let (w, h) = (40u32, 13u32);
        let mut rgba = Vec::new();
        for y in 0..h {
            for x in 0..w {
                let a = if x == 5 { 0 } else { 255 };
                rgba.extend_from_slice(&[(x * 6) as u8, (y * 19) as u8, ((x + y) * 3) as u8, a]);
            }
        }
        let s = encode(w, h, &rgba);
        assert!(s.starts_with("\x1bP0;1;0q\"1;1;40;13"), "{:?}", &s[..20]);
        assert!(s.ends_with("\x1b\\"));
        // Only the final ST is an ESC: nothing inside can end it early.
        assert_eq!(s.matches('\x1b').count(), 2);
        assert_eq!(s.matches('-').count(), 3, "three bands");
        let defined = s.matches(";2;").count();
        assert!(defined > 1 && defined <= 256, "{defined}");
        const { assert!(COLOURS <= 256) };
        assert!(s.bytes().all(|b| b == 0x1b || (0x20..0x7f).contains(&b)));
    }

    #[test]
    fn runs_are_compressed_and_colours_land_in_the_palette() {
        // 20 red pixels in one row: one colour, one run.
        let rgba: Vec<u8> = [255, 0, 0, 255].repeat(20);
        let s = encode(20, 1, &rgba);
        let red = index(255, 0, 0);
        assert_eq!(percent(red), (100, 0, 0));
        assert!(s.contains(&format!("#{red};2;100;0;0#{red}!20@")), "{s:?}");
        assert_eq!(percent(index(0, 0, 0)), (0, 0, 0));
        assert_eq!(percent(index(255, 255, 255)), (100, 100, 100));
    }
}
