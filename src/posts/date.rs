//! Publication dates: the forms blog frontmatter writes them in, and the
//! `YYYY-MM-DD` prefix of a file or folder name.

use std::path::Path;

use super::PostDate;

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

/// Reads `n` ASCII digits at the start of `s`.
fn digits(s: &str, n: usize) -> Option<(u32, &str)> {
    let head = s.get(..n)?;
    if !head.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((head.parse().ok()?, &s[n..]))
}

/// Reads `YYYY-MM-DD` at the start of `s`, unvalidated.
fn date_prefix(s: &str) -> Option<((i32, u8, u8), &str)> {
    let (year, rest) = digits(s, 4)?;
    let rest = rest.strip_prefix('-')?;
    let (month, rest) = digits(rest, 2)?;
    let rest = rest.strip_prefix('-')?;
    let (day, rest) = digits(rest, 2)?;
    Some(((year.cast_signed(), month as u8, day as u8), rest))
}

fn valid_day(year: i32, month: u8, day: u8) -> bool {
    (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month)
}

/// Parses the date forms found in blog frontmatter: a date, or a date and a
/// time separated by `T` or a space, with optional seconds, fraction and
/// offset (`Z`, `+02:00`, `+0100`). The wall-clock time is kept as written
/// and the offset dropped, so the date shown is the one the author wrote.
pub(super) fn parse_date(s: &str) -> Result<PostDate, String> {
    let s = s.trim();
    let bad = || format!("expected a date like 2025-02-10, found {s:?}");
    let Some(((year, month, day), rest)) = date_prefix(s) else {
        return written_date(s).ok_or_else(bad);
    };
    if !valid_day(year, month, day) {
        return Err(format!("no such date: {year:04}-{month:02}-{day:02}"));
    }
    let mut date = PostDate {
        year,
        month,
        day,
        hour: 0,
        minute: 0,
        second: 0,
    };
    let rest = rest.trim_start_matches(' ');
    let rest = rest.strip_prefix(['T', 't']).unwrap_or(rest);
    if rest.is_empty() {
        return Ok(date);
    }
    let (hour, rest) = digits(rest, 2).ok_or_else(bad)?;
    let rest = rest.strip_prefix(':').ok_or_else(bad)?;
    let (minute, mut rest) = digits(rest, 2).ok_or_else(bad)?;
    let mut second = 0;
    if let Some(r) = rest.strip_prefix(':') {
        (second, rest) = digits(r, 2).ok_or_else(bad)?;
        if let Some(r) = rest.strip_prefix('.') {
            rest = r.trim_start_matches(|c: char| c.is_ascii_digit());
        }
    }
    if hour > 23 || minute > 59 || second > 60 {
        return Err(format!("no such time: {hour:02}:{minute:02}:{second:02}"));
    }
    let rest = rest.trim_start();
    let valid_offset = match rest.as_bytes().first() {
        None => true,
        Some(b'Z' | b'z') => rest.len() == 1,
        Some(b'+' | b'-') => is_offset(&rest[1..]),
        _ => false,
    };
    if !valid_offset {
        return Err(bad());
    }
    date.hour = hour as u8;
    date.minute = minute as u8;
    // A leap second sorts with the second before it.
    date.second = second.min(59) as u8;
    Ok(date)
}

/// `strtime` forms of a date with a month's name, with a time of day...
const WITH_TIME: [&str; 8] = [
    "%b %d %Y %H:%M:%S",
    "%b %d %Y %H:%M",
    "%d %b %Y %H:%M:%S",
    "%d %b %Y %H:%M",
    "%B %d %Y %H:%M:%S",
    "%B %d %Y %H:%M",
    "%d %B %Y %H:%M:%S",
    "%d %B %Y %H:%M",
];
const DAY_ONLY: [&str; 8] = [
    "%b %d %Y",
    "%d %b %Y",
    "%a %b %d %Y",
    "%a %d %b %Y",
    "%B %d %Y",
    "%d %B %Y",
    "%A %B %d %Y",
    "%A %d %B %Y",
];

/// The forms with a month's name: RFC 2822 (`Sat, 03 Aug 2024 10:00:00
/// +0200`, as RSS and `git log` write it) and the way people write dates
/// (`Aug 03 2024`, `August 3, 2024`, `3 August 2024`), as Astro's starter
/// blog does. jiff reads them; the wall-clock time is kept as written.
fn written_date(s: &str) -> Option<PostDate> {
    use jiff::fmt::{rfc2822, strtime};
    if !s.starts_with(|c: char| c.is_ascii_alphanumeric()) || s.len() > 64 {
        return None;
    }
    let civil = rfc2822::DateTimeParser::new()
        .parse_zoned_datetime(s)
        .map(|z| z.datetime())
        .ok()
        .or_else(|| {
            // Commas and repeated spaces are noise here.
            let plain = collapse(&s.replace(',', " "));
            WITH_TIME
                .iter()
                .find_map(|f| strtime::parse(f, &plain).ok()?.to_datetime().ok())
                .or_else(|| {
                    DAY_ONLY.iter().find_map(|f| {
                        Some(
                            strtime::parse(f, &plain)
                                .ok()?
                                .to_date()
                                .ok()?
                                .to_datetime(jiff::civil::Time::midnight()),
                        )
                    })
                })
        })?;
    Some(PostDate {
        year: i32::from(civil.year()),
        month: civil.month().cast_unsigned(),
        day: civil.day().cast_unsigned(),
        hour: civil.hour().cast_unsigned(),
        minute: civil.minute().cast_unsigned(),
        second: civil.second().cast_unsigned(),
    })
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `HH:MM`, `HHMM`, `HH` or `H` (YAML 1.1 allows `-5`).
fn is_offset(s: &str) -> bool {
    let n = s.bytes().take_while(u8::is_ascii_digit).count();
    let rest = &s[n..];
    match n {
        1 | 2 => {
            rest.is_empty()
                || matches!(
                    rest.strip_prefix(':').and_then(|r| digits(r, 2)),
                    Some((_, ""))
                )
        }
        4 => rest.is_empty(),
        _ => false,
    }
}

/// A valid `YYYY-MM-DD` at the start of a file or folder name, followed by
/// the end of the name or a separator.
pub(super) fn name_date(name: &str) -> Option<(PostDate, &str)> {
    let ((year, month, day), rest) = date_prefix(name)?;
    if !valid_day(year, month, day) {
        return None;
    }
    let rest = match rest.chars().next() {
        None => rest,
        Some('-' | '_' | ' ' | '.') => &rest[1..],
        Some(_) => return None,
    };
    let date = PostDate {
        year,
        month,
        day,
        hour: 0,
        minute: 0,
        second: 0,
    };
    Some((date, rest))
}

pub(super) fn date_from_name(path: &Path) -> Option<PostDate> {
    let file = path.file_name().map(|s| s.to_string_lossy());
    let folder = path
        .parent()
        .and_then(Path::file_name)
        .map(|s| s.to_string_lossy());
    file.and_then(|n| name_date(&n).map(|(d, _)| d))
        .or_else(|| folder.and_then(|n| name_date(&n).map(|(d, _)| d)))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{at, fm, fm_err, ymd};
    use super::*;

    fn date(text: &str) -> PostDate {
        fm(&format!("---\ndate: {text}\n---\n"))
            .date
            .expect("a date")
    }

    #[test]
    fn date_forms() {
        let d = ymd(2025, 2, 10);
        assert_eq!(date("2025-02-10"), d);
        assert_eq!(date("\"2025-02-10\""), d);
        assert_eq!(date("'2025-02-10'"), d);
        assert_eq!(date("2025-02-10T08:30:00Z"), at(d, 8, 30, 0));
        assert_eq!(date("2025-02-10T08:30:00"), at(d, 8, 30, 0));
        assert_eq!(date("2025-02-10T08:30:15+02:00"), at(d, 8, 30, 15));
        assert_eq!(date("2025-02-10T08:30:00.123-05:00"), at(d, 8, 30, 0));
        assert_eq!(date("2025-02-10 10:00"), at(d, 10, 0, 0));
        assert_eq!(date("2025-02-10 10:00:00 +0100"), at(d, 10, 0, 0));
        assert_eq!(date("2025-02-10 10:00:00 +01:00"), at(d, 10, 0, 0));
        assert_eq!(date("2025-02-10t10:00:00.10 -5"), at(d, 10, 0, 0));
        assert_eq!(date("2024-02-29"), ymd(2024, 2, 29));
        // Astro's starter writes `pubDate: 'Jul 08 2022'`.
        let aug = ymd(2024, 8, 3);
        assert_eq!(date("Aug 03 2024"), aug);
        assert_eq!(date("'Aug 03 2024'"), aug);
        assert_eq!(date("August 3, 2024"), aug);
        assert_eq!(date("3 August 2024"), aug);
        assert_eq!(date("aug 3 2024 10:30"), at(aug, 10, 30, 0));
        assert_eq!(date("2024-08-03 10:00:00 +0200"), at(aug, 10, 0, 0));
        // RFC 2822, as in RSS.
        assert_eq!(date("Sat, 03 Aug 2024 10:00:00 +0200"), at(aug, 10, 0, 0));
        assert_eq!(date("3 Aug 2024 22:05:09 GMT"), at(aug, 22, 5, 9));
        assert_eq!(fm("---\ndate:\n---\n").date, None);
    }

    #[test]
    fn invalid_dates_name_the_field() {
        for bad in [
            "2025-02-30",
            "2023-02-29",
            "2025-13-01",
            "2025-00-10",
            "2025-02-10T25:00",
            "yesterday",
            "2025-2-10",
            "2025-02-10 10:00 PST",
            "2025-02-10 10:00 +123",
            "[1, 2]",
            "{a: b}",
            "20250210",
            "Aug 32 2024",
            "Smarch 3 2024",
            "Sun, 03 Aug 2024 10:00:00 +0200",
        ] {
            let e = fm_err(&format!("---\ntitle: x\ndate: {bad}\n---\n"));
            assert_eq!(e.line, 3, "{bad}: {e}");
            assert!(e.message.starts_with("date: "), "{bad}: {e}");
        }
        let e = fm_err("---\ndate: 2025-02-30\n---\n");
        assert!(e.message.contains("no such date"), "{e}");
    }
}
