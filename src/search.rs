//! Finding text: the pure part of search and filter.
//!
//! - [`Query`]: what was typed, with smart case (case-insensitive unless the
//!   query has a capital letter).
//! - [`SearchText`]: a laid-out [`Document`]'s text as one string, a
//!   paragraph's wrapped lines joined again, so a phrase split by wrapping is
//!   still found; match positions map back to (line, columns) for drawing.
//! - [`Filter`]: the post list's filter, fzf's syntax on nucleo's matcher.
//! - [`find_in_source`]: matching lines of a post's Markdown, for the search
//!   across all posts.
//!
//! No I/O and no terminal: the runner reads files, the app keeps state.

use std::cell::RefCell;
use std::ops::Range;
use std::path::PathBuf;

use nucleo_matcher::pattern::{Atom, CaseMatching, Normalization};
use nucleo_matcher::{Matcher, Utf32Str};

use crate::document::{Document, Join};
use crate::posts::Origin;
use crate::sanitize::{display_width, sanitize};

/// Lower case for matching, one char for one char of the same UTF-8 length,
/// so a byte position in folded text is the same position in the original.
/// The few characters whose lower case differs in length (the Kelvin sign,
/// capital sharp s, dotted capital I) stay as they are.
pub fn fold_char(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) if l.len_utf8() == c.len_utf8() => l,
        _ => c,
    }
}

/// `s` folded with [`fold_char`]; byte positions stay valid.
pub fn fold(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    s.chars().map(fold_char).collect()
}

/// A search as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// What to look for: folded unless `sensitive`.
    pub needle: String,
    /// The query has a capital letter, so case matters.
    pub sensitive: bool,
}

impl Query {
    /// Smart case: a capital anywhere makes the search case-sensitive.
    pub fn new(text: &str) -> Query {
        let sensitive = text.chars().any(char::is_uppercase);
        Query {
            needle: if sensitive {
                text.to_owned()
            } else {
                fold(text)
            },
            sensitive,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.needle.is_empty()
    }
}

/// Where one document line sits in [`SearchText::text`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LineMap {
    /// Byte range of the line's content (decoration left out).
    start: usize,
    end: usize,
    /// Columns of decoration (indentation, list markers, quote bars) before
    /// the content on screen.
    col0: usize,
}

/// A document's visible text prepared for searching, made once per layout.
#[derive(Debug, Clone, Default)]
pub struct SearchText {
    text: String,
    /// `text` folded, made on the first case-insensitive search.
    folded: Option<String>,
    lines: Vec<LineMap>,
}

/// Match starts are kept as `u32`: a post body is capped at 16 MB, and a
/// one-letter query on a 10 MB post can match a million times.
pub type MatchStart = u32;

impl SearchText {
    /// The text of `doc`: each line's content after its decoration, wrapped
    /// lines of one paragraph joined with a space (or nothing, where a word
    /// was cut), other lines separated by a newline.
    pub fn new(doc: &Document) -> SearchText {
        let total: usize = doc
            .lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.len()).sum::<usize>() + 1)
            .sum();
        let mut text = String::with_capacity(total);
        let mut lines = Vec::with_capacity(doc.lines.len());
        for (i, line) in doc.lines.iter().enumerate() {
            let flow = doc.flow.get(i).copied().unwrap_or_default();
            if i > 0 {
                match flow.join {
                    Join::Start => text.push('\n'),
                    Join::Space => text.push(' '),
                    Join::Tight => {}
                }
            }
            let deco = usize::from(flow.decoration).min(line.spans.len());
            let col0 = line.spans[..deco]
                .iter()
                .map(|s| display_width(&s.content))
                .sum();
            let start = text.len();
            for span in &line.spans[deco..] {
                text.push_str(&span.content);
            }
            lines.push(LineMap {
                start,
                end: text.len(),
                col0,
            });
        }
        SearchText {
            text,
            folded: None,
            lines,
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// All non-overlapping matches of `query`, in order, as start bytes (the
    /// length is the needle's). `prev` is the previous result when the
    /// query only grew, which narrows the work to re-checking those starts.
    pub fn find(
        &mut self,
        query: &Query,
        prev: Option<(&Query, &[MatchStart])>,
    ) -> Vec<MatchStart> {
        if query.is_empty() {
            return Vec::new();
        }
        let hay: &str = if query.sensitive {
            &self.text
        } else {
            self.folded.get_or_insert_with(|| fold(&self.text))
        };
        let needle = query.needle.as_str();
        if let Some((old, starts)) = prev
            && old.sensitive == query.sensitive
            && needle.starts_with(old.needle.as_str())
            && !old.needle.is_empty()
        {
            // Every match of the longer needle starts where the shorter one
            // matched; non-overlap is re-applied as we go.
            let mut out = Vec::new();
            let mut next_free = 0;
            for &s in starts {
                let s = s as usize;
                if s >= next_free && hay[s..].starts_with(needle) {
                    out.push(s as MatchStart);
                    next_free = s + needle.len();
                }
            }
            return out;
        }
        hay.match_indices(needle)
            .map(|(i, _)| i as MatchStart)
            .collect()
    }

    /// The document line that shows byte `pos` of the text.
    pub fn line_of(&self, pos: usize) -> usize {
        self.lines
            .partition_point(|l| l.start <= pos)
            .saturating_sub(1)
    }

    /// Byte range of line `line`'s content in the text.
    pub fn line_range(&self, line: usize) -> Option<Range<usize>> {
        self.lines.get(line).map(|l| l.start..l.end)
    }

    /// The screen columns that bytes `range` of the text take on line
    /// `line` (empty when the range is not on that line).
    pub fn columns(&self, line: usize, range: Range<usize>) -> Range<usize> {
        let Some(l) = self.lines.get(line) else {
            return 0..0;
        };
        let start = range.start.clamp(l.start, l.end);
        let end = range.end.clamp(l.start, l.end);
        if start >= end {
            return 0..0;
        }
        let c0 = l.col0 + display_width(&self.text[l.start..start]);
        let c1 = c0 + display_width(&self.text[start..end]);
        c0..c1
    }

    /// Matches (start bytes, all `len` long) visible on line `line`, as
    /// column ranges.
    pub fn line_matches(
        &self,
        line: usize,
        starts: &[MatchStart],
        len: usize,
    ) -> Vec<(usize, Range<usize>)> {
        let Some(l) = self.lines.get(line) else {
            return Vec::new();
        };
        let first = starts.partition_point(|&s| (s as usize) + len <= l.start);
        starts[first..]
            .iter()
            .enumerate()
            .take_while(|&(_, &s)| (s as usize) < l.end)
            .map(|(i, &s)| (first + i, self.columns(line, s as usize..s as usize + len)))
            .filter(|(_, c)| !c.is_empty())
            .collect()
    }
}

// ---------------------------------------------------------------------------
// The post list's filter

thread_local! {
    /// nucleo's matcher holds its scoring matrix (about 100 KB) between
    /// calls; one per thread, as its documentation advises, and the
    /// haystack's chars when it is not ASCII.
    static MATCHER: RefCell<(Matcher, Vec<char>)> =
        RefCell::new((Matcher::new(nucleo_matcher::Config::DEFAULT), Vec::new()));
}

/// A list filter as typed: words in fzf's syntax, matched with
/// [`nucleo_matcher`] (best-match scoring, smart case, accents folded:
/// `cafe` finds "Café"), and `#tag` restrictions.
///
/// - `word`: fuzzy; `'word`: the exact text; `^word`: at the start;
///   `word$`: at the end; `^word$`: the whole field;
/// - `!word` (or `!^word`, `!word$`): not in any field;
/// - `#tag`: the post has that tag; `!#tag`: it does not.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filter {
    /// The words as typed (tags left out), to tell when a longer query
    /// only narrows a shorter one.
    words: Vec<String>,
    /// Each word parsed, in the same order.
    atoms: Vec<Atom>,
    /// Tags a post must have, lower-cased (compared case-insensitively).
    pub tags: Vec<String>,
    /// Tags a post must not have, lower-cased.
    pub not_tags: Vec<String>,
}

/// A post's searchable fields, as shown.
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a> {
    pub title: &'a str,
    pub tags: &'a [String],
    pub excerpt: &'a str,
}

/// Ranking between fields: a word in the title beats one in the tags,
/// which beats one in the excerpt (nucleo gives 16 a matched character,
/// more at word starts and in runs).
const TITLE_BONUS: i32 = 60;
const TAG_BONUS: i32 = 30;

impl Filter {
    /// Splits `text` at whitespace: `#name` and `!#name` words are tags, the
    /// others are parsed as fzf does.
    pub fn parse(text: &str) -> Filter {
        let mut filter = Filter::default();
        for word in text.split_whitespace() {
            if let Some(tag) = word.strip_prefix('#').filter(|t| !t.is_empty()) {
                filter.tags.push(tag.to_lowercase());
            } else if let Some(tag) = word.strip_prefix("!#").filter(|t| !t.is_empty()) {
                filter.not_tags.push(tag.to_lowercase());
            } else {
                filter.words.push(word.to_owned());
                filter
                    .atoms
                    .push(Atom::parse(word, CaseMatching::Smart, Normalization::Smart));
            }
        }
        filter
    }

    pub fn is_empty(&self) -> bool {
        self.atoms.is_empty() && self.tags.is_empty() && self.not_tags.is_empty()
    }

    /// Every post this filter lets through, `wider` lets through too (the
    /// query only grew: same tags, words longer or added), so only
    /// `wider`'s matches need scoring. When unsure, false: everything is
    /// scored again, which is slower but never wrong.
    pub fn narrows(&self, wider: &Filter) -> bool {
        self.tags == wider.tags
            && self.not_tags == wider.not_tags
            && wider.words.len() <= self.words.len()
            && wider
                .words
                .iter()
                .zip(&self.words)
                .all(|(w, n)| word_narrows(w, n))
    }

    /// The post's score, or `None` when it does not match: every tag must be
    /// among its tags (and no `!#` tag), every word must match one of its
    /// fields (the best one counts) and no `!word` any of them.
    pub fn score(&self, fields: Fields<'_>) -> Option<i32> {
        let has_tag = |tag: &String| fields.tags.iter().any(|t| t.to_lowercase() == *tag);
        if !self.tags.iter().all(has_tag) || self.not_tags.iter().any(has_tag) {
            return None;
        }
        if self.atoms.is_empty() {
            return Some(0);
        }
        MATCHER.with_borrow_mut(|(matcher, buf)| {
            let mut total = 0;
            for atom in &self.atoms {
                let mut score =
                    |hay: &str| atom.score(Utf32Str::new(hay, buf), matcher).map(i32::from);
                if atom.negative {
                    // A negative atom scores `None` where its text is found.
                    if score(fields.title).is_none()
                        || score(fields.excerpt).is_none()
                        || fields.tags.iter().any(|t| score(t).is_none())
                    {
                        return None;
                    }
                    continue;
                }
                let title = score(fields.title).map(|s| s + TITLE_BONUS);
                let tag = fields
                    .tags
                    .iter()
                    .filter_map(|t| score(t).map(|s| s + TAG_BONUS))
                    .max();
                let excerpt = score(fields.excerpt);
                total += title.max(tag).max(excerpt)?;
            }
            Some(total)
        })
    }

    /// Char indices of `text` to highlight: where each word matches it.
    pub fn positions(&self, text: &str) -> Vec<usize> {
        MATCHER.with_borrow_mut(|(matcher, buf)| {
            let mut out = Vec::new();
            for atom in self.atoms.iter().filter(|a| !a.negative) {
                let mut found = Vec::new();
                if atom
                    .indices(Utf32Str::new(text, buf), matcher, &mut found)
                    .is_some()
                {
                    out.extend(found.into_iter().map(|i| i as usize));
                }
            }
            out.sort_unstable();
            out.dedup();
            out
        })
    }
}

/// Whether the word `new`, typed after `old`, only narrows what `old`
/// matched: `old` grew at its end, and neither is a `!` (a longer excluded
/// text excludes less), a `$` (the end moved) or has an escape.
fn word_narrows(old: &str, new: &str) -> bool {
    if old == new {
        return true;
    }
    let plain = |w: &str| !w.starts_with('!') && !w.ends_with('$') && !w.contains('\\');
    plain(old) && plain(new) && new.starts_with(old)
}

/// Ranks posts by their scores ((index, score), `None` for no match):
/// indices of the matching ones, best first, ties in list order.
pub fn rank(scores: impl Iterator<Item = (usize, Option<i32>)>) -> Vec<usize> {
    let mut hits: Vec<(i32, usize)> = scores.filter_map(|(i, s)| s.map(|s| (s, i))).collect();
    hits.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    hits.into_iter().map(|(_, i)| i).collect()
}

// ---------------------------------------------------------------------------
// Search across all posts

/// At most this many results are kept from a search across all posts.
pub const MAX_RESULTS: usize = 1000;
/// A matching line is shown as at most this much text each side of the
/// match.
const CONTEXT_BYTES: usize = 120;

/// One post for the search across all posts to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Index in the app's post list when the search started.
    pub index: usize,
    pub rel_path: PathBuf,
    pub origin: Origin,
}

/// A search across all posts, for the runner to run off the UI thread
/// (see [`crate::app::App::pending_search`]): it reads each target's text,
/// calls [`find_in_source`], and reports back in batches with
/// [`crate::action::Report::SearchResults`] tagged with `generation`.
#[derive(Debug, Clone)]
pub struct SearchJob {
    pub generation: u64,
    pub query: Query,
    pub targets: Vec<Target>,
}

/// One matching line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub index: usize,
    pub rel_path: PathBuf,
    /// Byte offset of the match in the post's Markdown body.
    pub offset: usize,
    /// 1-based line number in the body.
    pub line: usize,
    /// The line around the match, sanitized, in three parts.
    pub before: String,
    pub matched: String,
    pub after: String,
}

/// The lines of `body` that match `query`, at most `max`, the first match
/// on each line. A line break in the source counts as a space, as it does
/// in the rendered paragraph, so a phrase split by hard-wrapped Markdown is
/// still found (and shown with the line after).
pub fn find_in_source(body: &str, query: &Query, target: &Target, max: usize) -> Vec<Hit> {
    let mut hits = Vec::new();
    if query.is_empty() || max == 0 {
        return hits;
    }
    let spaced = |s: &str| s.replace(['\n', '\r'], " ");
    let owned;
    let hay: &str = if !query.sensitive {
        owned = spaced(&fold(body));
        &owned
    } else if query.needle.contains(' ') {
        owned = spaced(body);
        &owned
    } else {
        // No space in the needle: no match can cross a line.
        body
    };
    let needle = query.needle.as_str();
    let mut from = 0;
    let mut line_no = 1;
    let mut counted = 0;
    while let Some(found) = hay[from..].find(needle) {
        let at = from + found;
        let line_start = body[..at].rfind('\n').map_or(0, |i| i + 1);
        let end = at + needle.len();
        let line_end = body[end..].find('\n').map_or(body.len(), |i| end + i);
        line_no += body[counted..line_start].matches('\n').count();
        counted = line_start;
        let mut lo = at.saturating_sub(CONTEXT_BYTES).max(line_start);
        while !body.is_char_boundary(lo) {
            lo += 1;
        }
        let mut hi = (end + CONTEXT_BYTES).min(line_end);
        while !body.is_char_boundary(hi) {
            hi -= 1;
        }
        let before = body[lo..at].trim_start();
        hits.push(Hit {
            index: target.index,
            rel_path: target.rel_path.clone(),
            offset: at,
            line: line_no,
            before: sanitize(before).into_owned(),
            matched: sanitize(&spaced(&body[at..end])).into_owned(),
            after: sanitize(body[end..hi].trim_end()).into_owned(),
        });
        if hits.len() >= max {
            break;
        }
        from = (line_end + 1).min(body.len());
        if from >= body.len() {
            break;
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::theme::Theme;

    fn doc(src: &str, width: u16) -> Document {
        crate::markdown::render(src, width, &Theme::default())
    }

    #[test]
    fn smart_case() {
        assert!(!Query::new("rust").sensitive);
        assert!(Query::new("Rust").sensitive);
        assert_eq!(Query::new("ÉTÉ").needle, "ÉTÉ");
        assert_eq!(Query::new("été").needle, "été");
        let mut t = SearchText::new(&doc("Rust and rust and RUST.", 80));
        assert_eq!(t.find(&Query::new("rust"), None).len(), 3);
        assert_eq!(t.find(&Query::new("Rust"), None), vec![0]);
        assert_eq!(t.find(&Query::new("RUST"), None).len(), 1);
    }

    #[test]
    fn folding_keeps_byte_positions() {
        for s in ["ÄÖÜ straße", "\u{212A}elvin İstanbul ẞ", "ΣΊΣΥΦΟΣ"] {
            let f = fold(s);
            assert_eq!(f.len(), s.len(), "{s}");
            for (a, b) in s.char_indices().zip(f.char_indices()) {
                assert_eq!(a.0, b.0);
            }
        }
    }

    #[test]
    fn a_phrase_split_by_wrapping_is_found_and_mapped_to_both_lines() {
        let src = "The quick brown fox jumps over the lazy dog and keeps running far away.";
        let d = doc(src, 20);
        assert!(d.len() > 2);
        let mut t = SearchText::new(&d);
        let q = Query::new("lazy dog and keeps");
        let m = t.find(&q, None);
        assert_eq!(m.len(), 1);
        let start = m[0] as usize;
        let first = t.line_of(start);
        let last = t.line_of(start + q.needle.len() - 1);
        assert!(last > first, "the match spans lines {first}..{last}");
        // Each line's part of the match covers exactly the query's words.
        let mut shown = Vec::new();
        for line in first..=last {
            for (_, cols) in t.line_matches(line, &m, q.needle.len()) {
                let text = d.lines.text(line);
                let chars: Vec<char> = text.chars().collect();
                shown.push(chars[cols].iter().collect::<String>());
            }
        }
        assert_eq!(shown.join(" "), "lazy dog and keeps");
    }

    #[test]
    fn decoration_is_not_searched_but_counts_in_columns() {
        let d = doc(
            "> quoted words that wrap across lines here\n\n- item one\n- item two",
            16,
        );
        let mut t = SearchText::new(&d);
        assert!(!t.text().contains('│'), "{:?}", t.text());
        let q = Query::new("that wrap");
        let m = t.find(&q, None);
        assert_eq!(m.len(), 1);
        let line = t.line_of(m[0] as usize);
        let text = d.lines.text(line);
        let cols = &t.line_matches(line, &m, q.needle.len())[0].1;
        let chars: Vec<char> = text.chars().collect();
        assert_eq!(chars[cols.clone()].iter().collect::<String>(), "that wrap");
        let m = t.find(&Query::new("item two"), None);
        assert_eq!(m.len(), 1);
    }

    #[test]
    fn wide_characters_take_two_columns() {
        let d = doc("日本語のテキストで検索する", 80);
        let mut t = SearchText::new(&d);
        let q = Query::new("テキスト");
        let m = t.find(&q, None);
        let cols = t.line_matches(0, &m, q.needle.len());
        assert_eq!(cols[0].1, 8..16);
    }

    #[test]
    fn growing_query_reuses_matches() {
        let mut t = SearchText::new(&doc("abc abd abc aab abcabc", 80));
        let a = Query::new("ab");
        let ma = t.find(&a, None);
        let b = Query::new("abc");
        let narrowed = t.find(&b, Some((&a, &ma)));
        assert_eq!(narrowed, t.find(&b, None));
        assert_eq!(narrowed.len(), 4);
        // Overlap: "aa" in "aaaa" is two matches either way.
        let mut t = SearchText::new(&doc("aaaa", 80));
        let a = Query::new("a");
        let ma = t.find(&a, None);
        let aa = Query::new("aa");
        assert_eq!(t.find(&aa, Some((&a, &ma))), vec![0, 2]);
        assert_eq!(t.find(&aa, None), vec![0, 2]);
    }

    fn fields<'a>(title: &'a str, tags: &'a [String], excerpt: &'a str) -> Fields<'a> {
        Fields {
            title,
            tags,
            excerpt,
        }
    }

    /// The titles `query` lets through, best first.
    fn ranked<'a>(query: &str, titles: &[&'a str]) -> Vec<&'a str> {
        let f = Filter::parse(query);
        let order = rank(
            titles
                .iter()
                .map(|t| f.score(fields(t, &[], "")))
                .enumerate(),
        );
        order.into_iter().map(|i| titles[i]).collect()
    }

    #[test]
    fn the_filter_scores_the_best_match_not_the_first() {
        // The first place "fb" fits in the second title is a spread-out one;
        // the best is the two word starts after it.
        assert_eq!(
            ranked("fb", &["xfxxxxxb", "fxxb then foo bar"]),
            ["fxxb then foo bar", "xfxxxxxb"]
        );
        assert_eq!(
            ranked("rust", &["ruby unit test", "Learning Rust"]),
            ["Learning Rust", "ruby unit test"]
        );
        assert!(ranked("rust", &["rus"]).is_empty());
        assert!(ranked("RUST", &["rust"]).is_empty(), "smart case");
        assert_eq!(
            Filter::parse("fb").positions("fxxb then foo bar"),
            vec![10, 14]
        );
    }

    #[test]
    fn accents_are_folded_one_way() {
        let titles = ["Café culture", "Cafe\u{301} decomposed", "Coffee"];
        assert_eq!(
            ranked("cafe", &titles),
            ["Café culture", "Cafe\u{301} decomposed"]
        );
        assert_eq!(ranked("CAFE", &["CAFÉ"]), ["CAFÉ"]);
        assert_eq!(ranked("uber", &["Über alles"]), ["Über alles"]);
        // An accent typed is an accent meant.
        assert_eq!(ranked("café", &titles), ["Café culture"]);
        assert_eq!(Filter::parse("cafe").positions("Café"), vec![0, 1, 2, 3]);
    }

    #[test]
    fn fzf_syntax() {
        let titles = ["Rust basics", "Trusty tools", "Just rust"];
        assert_eq!(ranked("^rust", &titles), ["Rust basics"]);
        assert_eq!(ranked("rust$", &titles), ["Just rust"]);
        assert_eq!(ranked("'rust", &titles).len(), 3);
        assert_eq!(ranked("'rb", &["Rust basics", "rb"]), ["rb"]);
        // A word start beats the middle of a word.
        assert_eq!(
            ranked("rust !basics", &titles),
            ["Just rust", "Trusty tools"]
        );
        assert_eq!(ranked("^rust basics$", &titles), ["Rust basics"]);
        assert_eq!(ranked("^just rust$", &titles), ["Just rust"]);
        // A negated word looks at every field.
        let tags = vec!["basics".to_owned()];
        let f = Filter::parse("rust !basics");
        assert!(f.score(fields("Just rust", &tags, "")).is_none());
        assert!(f.score(fields("Just rust", &[], "the basics")).is_none());
        assert!(f.score(fields("Just rust", &[], "")).is_some());
        let f = Filter::parse("!#basics");
        assert_eq!(f.not_tags, ["basics"]);
        assert!(f.score(fields("Just rust", &tags, "")).is_none());
        assert!(f.score(fields("Just rust", &[], "basics")).is_some());
    }

    #[test]
    fn a_longer_query_narrows_only_when_it_must() {
        let narrows = |new: &str, old: &str| Filter::parse(new).narrows(&Filter::parse(old));
        assert!(narrows("rust eh", "rus e"));
        assert!(narrows("rust eh", ""));
        assert!(narrows("^rust", "^ru"));
        assert!(narrows("'rust", "'ru"));
        assert!(narrows("rust !go", "rust"));
        // A longer excluded word excludes less; a moved end matches others.
        assert!(!narrows("!gol", "!go"));
        assert!(!narrows("rust$", "rus"));
        assert!(!narrows("rusty$", "rust$"));
        assert!(!narrows("#t7", "#t"));
        assert!(!narrows("#t", "#"));
        assert!(!narrows("Rust", "rus"));
        // What narrows says, scoring agrees with: nothing the narrower
        // filter lets through is missed by the wider one.
        let titles = ["Rust on the go", "gopher", "rust", "Trust", "rusty"];
        for (new, old) in [("rust eh", "rus e"), ("^rust", "^ru"), ("rust !go", "rust")] {
            for t in ranked(new, &titles) {
                assert!(ranked(old, &titles).contains(&t), "{new} vs {old}: {t}");
            }
        }
    }

    #[test]
    fn filter_words_tags_and_ranking() {
        let tags_a = vec!["Rust".to_owned(), "cli".to_owned()];
        let tags_b = vec!["python".to_owned()];
        let posts = [
            Fields {
                title: "Notes on parsing",
                tags: &tags_b,
                excerpt: "A word about rust at the end.",
            },
            Fields {
                title: "Rust error handling",
                tags: &tags_a,
                excerpt: "Results.",
            },
            Fields {
                title: "Cooking",
                tags: &tags_b,
                excerpt: "Nothing here.",
            },
        ];
        let f = Filter::parse("rust");
        assert_eq!(
            rank(posts.iter().map(|p| f.score(*p)).enumerate()),
            vec![1, 0]
        );
        let f = Filter::parse("#RUST");
        assert_eq!(f.tags, ["rust"]);
        assert_eq!(rank(posts.iter().map(|p| f.score(*p)).enumerate()), vec![1]);
        let f = Filter::parse("#python parsing");
        assert_eq!(rank(posts.iter().map(|p| f.score(*p)).enumerate()), vec![0]);
        let f = Filter::parse("Rust");
        assert_eq!(rank(posts.iter().map(|p| f.score(*p)).enumerate()), vec![1]);
        assert!(Filter::parse("  ").is_empty());
        assert_eq!(
            Filter::parse("rust eh").positions("Rust error handling"),
            vec![0, 1, 2, 3, 5, 11]
        );
    }

    #[test]
    fn source_lines_with_context() {
        let target = Target {
            index: 3,
            rel_path: "a.md".into(),
            origin: Origin::Embedded(""),
        };
        let body = "# Title\n\nfirst line\nthe Needle is here, needle again\n\x1b[31mneedle\n";
        let hits = find_in_source(body, &Query::new("needle"), &target, 10);
        assert_eq!(hits.len(), 2, "one hit per line");
        assert_eq!(hits[0].line, 4);
        assert_eq!(hits[0].before, "the ");
        assert_eq!(hits[0].matched, "Needle");
        assert_eq!(&body[hits[0].offset..hits[0].offset + 6], "Needle");
        assert_eq!(hits[1].line, 5);
        assert!(!hits[1].before.contains('\x1b'));
        assert_eq!(
            find_in_source(body, &Query::new("Needle"), &target, 10).len(),
            1
        );
        assert_eq!(
            find_in_source(body, &Query::new("needle"), &target, 1).len(),
            1
        );
        // Hard-wrapped source: the line break counts as a space.
        let body = "A phrase that is\nsplit by the source.\nNext line.\n";
        let hits = find_in_source(body, &Query::new("is split by"), &target, 10);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].line, 1);
        assert_eq!(hits[0].before, "A phrase that ");
        assert_eq!(hits[0].matched, "is split by");
        assert_eq!(hits[0].after, " the source.");
        // Case-sensitive (a capital) across the break too.
        let hits = find_in_source(body, &Query::new("A phrase that is split"), &target, 10);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].after, " by the source.");
        assert!(find_in_source(body, &Query::new("IS split"), &target, 10).is_empty());
    }
}
