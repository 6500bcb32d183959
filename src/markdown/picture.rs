//! Rows for pictures: a picture that stands alone on its line (its
//! alt-text line, `[image: alt]`) gets rows kept blank under that line,
//! for the reader to draw it in once decoded. Pure: how many rows each
//! picture takes is given (from its size, read before the layout: see
//! [`crate::picture::Survey`]), so none moves once it is decoded.

use ratatui::text::Line;

use crate::document::{Document, LineFlow, Lines, Picture};
use crate::picture::MAX_PER_POST;

/// Keeps rows for the pictures of `doc` (see the module): `rows(src)`
/// of them, none for a picture it gives `None` (only its alt text shows).
pub fn reserve_pictures(doc: &mut Document, rows: &dyn Fn(&str) -> Option<u16>) {
    // (alt line, link index, rows), in line order.
    let mut found: Vec<(usize, usize, u16)> = Vec::new();
    for (i, link) in doc.links.iter().enumerate() {
        if found.len() >= MAX_PER_POST {
            break;
        }
        if !link.image || found.last().is_some_and(|f| f.0 == link.line) {
            continue;
        }
        let Some(rows) = rows(&link.url).filter(|&r| r > 0) else {
            continue;
        };
        let shown = if link.text.is_empty() {
            "[image]".to_owned()
        } else {
            format!("[image: {}]", link.text)
        };
        if doc.lines.text(link.line).trim() == shown {
            found.push((link.line, i, rows));
        }
    }
    if found.is_empty() {
        return;
    }
    // Rows kept above each picture's alt line, and in all.
    let mut above = Vec::with_capacity(found.len());
    let mut extra = 0;
    for f in &found {
        above.push(extra);
        extra += usize::from(f.2);
    }
    let mut lines = Lines::default();
    let mut offsets = Vec::with_capacity(doc.offsets.len() + extra);
    let mut flow = Vec::with_capacity(if doc.flow.is_empty() {
        0
    } else {
        doc.flow.len() + extra
    });
    let blank = Line::default();
    let mut next = found.iter().peekable();
    let mut pictures = Vec::with_capacity(found.len());
    for (i, line) in doc.lines.iter().enumerate() {
        lines.push(&line);
        offsets.push(doc.offsets.get(i).copied().unwrap_or(0));
        if !doc.flow.is_empty() {
            flow.push(doc.flow.get(i).copied().unwrap_or_default());
        }
        if let Some(&&(at, link, rows)) = next.peek()
            && at == i
        {
            next.next();
            let link = &doc.links[link];
            pictures.push(Picture {
                line: lines.len(),
                rows,
                cols: doc.width,
                src: link.url.clone(),
                alt: link.text.clone(),
            });
            for _ in 0..rows {
                lines.push(&blank);
                offsets.push(*offsets.last().unwrap_or(&0));
                if !doc.flow.is_empty() {
                    flow.push(LineFlow::default());
                }
            }
        }
    }
    // Lines after the k-th picture's alt line move down by the rows of the
    // first k pictures.
    let moved = |line: usize| {
        let k = found.partition_point(|f| f.0 < line);
        line + if k == found.len() { extra } else { above[k] }
    };
    for h in &mut doc.headings {
        h.line = moved(h.line);
    }
    for l in &mut doc.links {
        l.line = moved(l.line);
        for a in &mut l.areas {
            a.line = moved(a.line);
        }
    }
    for c in &mut doc.code_blocks {
        c.lines = moved(c.lines.start)..moved(c.lines.end - 1) + 1;
    }
    doc.lines = lines;
    doc.offsets = offsets;
    doc.flow = flow;
    doc.pictures = pictures;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::markdown::render;
    use crate::theme::Theme;

    fn texts(d: &Document) -> Vec<String> {
        (0..d.lines.len())
            .map(|i| d.lines.text(i).to_owned())
            .collect()
    }

    #[test]
    fn a_picture_alone_on_its_line_gets_rows_under_its_alt_text() {
        let src = "# A\n\n![a cat](img/cat.png)\n\n# B\n\nsee [x](y) and ![inline](i.png) here\n\n![remote](https://e.com/x.png)\n";
        let mut doc = render(src, 40, &Theme::default());
        let before = texts(&doc);
        let b_at = src.find("# B").unwrap();
        let b_was = doc.line_for_offset(b_at);
        // As the survey says: the local picture 7 rows, the URL none.
        reserve_pictures(&mut doc, &|s| (!s.starts_with("https:")).then_some(7));
        let rows = 7;
        assert_eq!(doc.pictures.len(), 1, "only a picture alone on its line");
        let p = &doc.pictures[0];
        assert_eq!(
            (p.src.as_str(), p.alt.as_str(), p.cols),
            ("img/cat.png", "a cat", 40)
        );
        assert_eq!(doc.lines.text(p.line - 1), "[image: a cat]");
        let after = texts(&doc);
        assert_eq!(after.len(), before.len() + rows);
        assert!(after[p.line..p.line + rows].iter().all(String::is_empty));
        assert_eq!(doc.offsets.len(), after.len());
        // The heading after it moved down by its rows.
        let b = doc.headings.iter().find(|h| h.text == "B").unwrap();
        assert_eq!(doc.lines.text(b.line).trim_start_matches(['#', ' ']), "B");
        let x = doc.links.iter().find(|l| l.url == "y").unwrap();
        assert!(doc.lines.text(x.line).contains("see"));
        // Text is found again (reading positions) past the picture's rows.
        assert_eq!(doc.line_for_offset(b_at), b_was + rows);
    }
}
