//! Arbitrary text through mojibake repair and the renderer: no panic, every
//! line fits the width, no control character survives.
#![no_main]

use folio::markdown::render;
use folio::mojibake::repair;
use folio::sanitize::{display_width, is_unsafe};
use folio::theme::Theme;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&w, rest)) = data.split_first() else {
        return;
    };
    let width = u16::from(w % 120) + 1;
    let text = String::from_utf8_lossy(rest);
    let text = repair(&text);
    let doc = render(&text, width, &Theme::default());
    assert_eq!(doc.lines.len(), doc.offsets.len());
    for line in &doc.lines {
        let mut w = 0;
        for span in &line.spans {
            assert!(!span.content.chars().any(is_unsafe), "{:?}", span.content);
            w += display_width(&span.content);
        }
        assert!(
            w <= usize::from(width),
            "line of {w} columns at width {width}"
        );
    }
});
