//! Repairs mojibake: UTF-8 text that was once decoded as Windows-1252 (or
//! Latin-1) and saved again, so `—` became `â€”` and `é` became `Ã©`.
//!
//! Like ftfy's `fix_encoding`, but more conservative: a run of non-ASCII
//! characters is replaced only when the whole run maps back to bytes that are
//! valid UTF-8, and every character that yields is of a kind real text uses.
//! Genuine Latin-1 text almost never passes: an accented letter is a UTF-8 lead
//! byte only when the next character is a symbol from `€`…`¿`, and the whole
//! run must then decode. Anything doubtful is left as stored.

use std::borrow::Cow;

/// Windows-1252's characters for bytes 0x80–0x9F. The five bytes it leaves
/// undefined are kept as the C1 control of the same value, as "sloppy"
/// decoders (and Latin-1) do, so their mojibake also round-trips.
const CP1252_HIGH: [char; 32] = [
    '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž', '\u{8F}',
    '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}', 'ž', 'Ÿ',
];

/// Passes of repair at most: text mis-decoded twice (`Ã¢â‚¬â„¢`) needs two.
const MAX_PASSES: usize = 3;

/// The byte a Windows-1252 (or Latin-1) decoder turned into `c`, if any.
fn cp1252_byte(c: char) -> Option<u8> {
    match c {
        '\u{80}'..='\u{FF}' => {
            let b = c as u32 as u8;
            // A C1 control stands for its own byte only where Windows-1252 has
            // no character; elsewhere it is Latin-1 mojibake, also its byte.
            Some(b)
        }
        _ => CP1252_HIGH
            .iter()
            .position(|&h| h == c)
            .map(|i| 0x80 + i as u8),
    }
}

/// Characters mojibake repair may produce: letters and punctuation that real
/// prose uses. A decode landing elsewhere (IPA, rare scripts) is more likely
/// a coincidence in genuine Latin-1 text than a repair.
fn plausible(c: char) -> bool {
    matches!(c,
        '\u{A0}'..='\u{24F}'       // Latin-1 Supplement, Latin Extended-A and -B
        | '\u{370}'..='\u{52F}'    // Greek, Cyrillic
        | '\u{590}'..='\u{6FF}'    // Hebrew, Arabic
        | '\u{E00}'..='\u{E7F}'    // Thai
        | '\u{1E00}'..='\u{1FFF}'  // Latin Extended Additional, Greek Extended
        | '\u{2000}'..='\u{2BFF}'  // punctuation, currency, letterlike, arrows, math, symbols
        | '\u{3000}'..='\u{9FFF}'  // CJK
        | '\u{AC00}'..='\u{D7AF}'  // Hangul
        | '\u{FE0F}'
        | '\u{1F000}'..='\u{1FAFF}') // emoji
        && !crate::sanitize::is_unsafe(c)
}

/// The repaired form of one run of non-ASCII characters, if it is mojibake.
fn repair_run(run: &str) -> Option<String> {
    let bytes: Vec<u8> = run.chars().map(cp1252_byte).collect::<Option<_>>()?;
    let fixed = String::from_utf8(bytes).ok()?;
    fixed.chars().all(plausible).then_some(fixed)
}

/// One pass over `s`; `None` when nothing changed.
fn repair_once(s: &str) -> Option<String> {
    // Every character that can start mojibake (U+00C2..=U+00F4) is encoded
    // with the lead byte 0xC3: text without it is skipped by one memchr
    // instead of being decoded character by character.
    if !s.as_bytes().contains(&0xC3) {
        return None;
    }
    let mut out: Option<String> = None;
    let mut done = 0;
    let mut chars = s.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        // Only a UTF-8 lead byte (`Â`…`ô`) can start mojibake.
        if !('\u{C2}'..='\u{F4}').contains(&c) {
            continue;
        }
        let mut end = start + c.len_utf8();
        while let Some(&(i, next)) = chars.peek() {
            if cp1252_byte(next).is_none() {
                break;
            }
            end = i + next.len_utf8();
            chars.next();
        }
        // The run must also not continue backwards: `éÃ©` is not repaired,
        // since its first byte would belong to the same sequence.
        let before = s[..start].chars().next_back();
        if before.is_some_and(|b| cp1252_byte(b).is_some()) {
            continue;
        }
        if let Some(fixed) = repair_run(&s[start..end]) {
            let out = out.get_or_insert_with(|| String::with_capacity(s.len()));
            out.push_str(&s[done..start]);
            out.push_str(&fixed);
            done = end;
        }
    }
    let mut out = out?;
    out.push_str(&s[done..]);
    Some(out)
}

/// `s` with its mojibake repaired; borrowed when there was none, which is the
/// common case and costs one scan.
pub fn repair(s: &str) -> Cow<'_, str> {
    let mut current = Cow::Borrowed(s);
    for _ in 0..MAX_PASSES {
        match repair_once(&current) {
            Some(fixed) => current = Cow::Owned(fixed),
            None => break,
        }
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repairs_windows_1252_mojibake() {
        assert_eq!(repair("advancementâ€”it"), "advancement—it");
        assert_eq!(repair("donâ€™t"), "don’t");
        assert_eq!(repair("cafÃ©"), "café");
        assert_eq!(repair("â€œquotedâ€\u{9d}"), "“quoted”");
        assert_eq!(repair("Ã¼ber GrÃ¶ÃŸe"), "über Größe");
        assert_eq!(repair("Â£5"), "£5");
        assert_eq!(repair("ðŸ¦€ crab"), "🦀 crab");
        assert_eq!(repair("æ—¥æœ¬"), "日本");
        assert_eq!(repair("Ø§ ÎŸ"), "ا Ο");
    }

    #[test]
    fn repairs_latin1_mojibake_and_double_encoding() {
        assert_eq!(repair("â\u{80}\u{94}"), "—");
        assert_eq!(repair("donÃ¢â‚¬â„¢t"), "don’t");
    }

    #[test]
    fn clean_text_is_borrowed() {
        for s in ["plain ascii", "", "naïve — “quoted” 日本語 🦀"] {
            assert!(matches!(repair(s), Cow::Borrowed(_)), "{s}");
        }
    }

    #[test]
    fn leaves_real_latin_text_alone() {
        for s in [
            // French
            "Ça a été l’été où la forêt brûlait ; « À bientôt », dit-il.",
            "Où est l'hôtel ? Ôtez-vous de là. Élève, déçu, cœur, Œuvre.",
            // German
            "Größe, Übermaß, Äpfel, Öl, Straße, süß, weiß, Fußgänger.",
            // Portuguese
            "Ação, não, coração, pão, você, avô, Índia, água, Às vezes.",
            // Icelandic
            "Þórður á Íslandi, Ðóra, æðarfugl, Þjóðminjasafn, Ýmir, ÞÚ.",
            // Spanish and more
            "¿Qué pasó? ¡Olé! Año, niño, Ángel, Ñandú, «Ésta».",
            "Ã alone, Ã then ASCII: Ãx, Âa, âb, Ã, ã, ð.",
            // An accented capital before a guillemet: decodes to IPA, not prose.
            "CAFÉ» and É» and Ü¡",
        ] {
            assert_eq!(repair(s), s, "changed: {s}");
        }
    }

    #[test]
    fn run_must_decode_whole() {
        // é before the mojibake makes the run invalid UTF-8: left alone.
        assert_eq!(repair("éÃ©"), "éÃ©");
        assert_eq!(repair("Ã©Ã"), "Ã©Ã");
    }

    #[test]
    fn never_produces_controls() {
        // C2 80 is U+0080, a C1 control: not a repair.
        assert_eq!(repair("Â\u{80}"), "Â\u{80}");
        assert_eq!(repair("Â€"), "Â€");
    }
}
