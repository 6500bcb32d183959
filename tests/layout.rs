//! The layout of a long generated post, pinned by a fingerprint of every
//! line's text and styles, its offsets, flow, headings and links: changes
//! made for speed must not move a single character or style.

#[path = "../benches/support/corpus.rs"]
mod corpus;

use folio::document::Document;
use folio::markdown::{RenderOptions, render_with};
use folio::theme::Theme;

/// FNV-1a: stable across runs and Rust versions, unlike `DefaultHasher`.
struct Fnv(u64);

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn item(&mut self, s: &str) {
        self.write(s.as_bytes());
        self.write(&[0xff]);
    }
}

fn fingerprint(doc: &Document) -> u64 {
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    for (i, line) in doc.lines.iter().enumerate() {
        for span in &line.spans {
            h.item(&span.content);
            h.item(&format!("{:?}", span.style));
        }
        h.item(&format!("{:?} {:?}", doc.offsets[i], doc.flow.get(i)));
    }
    h.item(&format!("{:?}", doc.headings));
    h.item(&format!("{:?}", doc.links));
    h.0
}

fn layout(width: u16, theme: &Theme, wrap_code: bool) -> (usize, u64) {
    let src = corpus::post(400_000, 3);
    let body = &src[src.find("\n---\n").map_or(0, |i| i + 5)..];
    let opts = RenderOptions {
        wrap_code,
        highlight: true,
        details_open: true,
    };
    let doc = render_with(body, width, theme, opts);
    (doc.lines.len(), fingerprint(&doc))
}

#[test]
fn long_post_lays_out_as_before() {
    let theme = Theme::default();
    let got = [
        layout(80, &theme, true),
        layout(33, &theme, false),
        layout(120, &theme.without_color(), true),
        layout(9, &theme.without_color(), true),
    ];
    let expected: [(usize, u64); 4] = [
        // Links say whether they are images since pictures (issue 16):
        // the same lines, another hash of the links.
        (8132, 10_010_302_122_376_406_014),
        (16017, 1_094_143_232_484_607_253),
        (6495, 13_076_605_101_593_603_184),
        (46031, 14_224_902_596_816_916_308),
    ];
    assert_eq!(got, expected);
}
