//! Drawing: a read-only view of [`App`]. Nothing here changes state or does
//! expensive work; layout happened in `update`, so a frame only copies the
//! visible lines into the buffer.

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::app::{App, Focus, LinkMode, Loaded, Overlay, Prompt};
use crate::help;
use crate::sanitize::{display_width, sanitize, truncate, wrap_words};
use crate::wire::Hyperlink;

/// Post-derived text (a title, an excerpt) as shown: mojibake repaired unless
/// the reader shows text as stored, then made safe for the terminal.
fn shown(app: &App, s: &str) -> String {
    crate::app::shown_text(app.raw(), s).into_owned()
}

/// Draws the whole screen.
pub fn draw(app: &App, frame: &mut Frame) {
    let panes = app.panes();
    let buf = frame.buffer_mut();
    if let Some(list) = panes.list {
        draw_list(app, list, panes.reader.is_some(), buf);
    }
    if panes.reader.is_some() {
        draw_reader(app, panes.text, buf);
    }
    draw_status(app, panes.status, buf);
    match app.overlay() {
        Some(Overlay::Help) => draw_help(app, frame),
        Some(Overlay::Outline { selected }) => draw_outline(app, selected, frame),
        Some(Overlay::Links(mode)) => draw_hints(app, mode, frame.buffer_mut()),
        Some(Overlay::SearchAll) => draw_search_all(app, frame),
        Some(Overlay::Bookmarks { selected }) => draw_bookmarks(app, selected, frame),
        None => {}
    }
}

/// The bookmark list: two rows per bookmark, the post's title and date,
/// then the heading the place is under and a few words of its text.
fn draw_bookmarks(app: &App, selected: usize, frame: &mut Frame) {
    let rows = app.bookmark_rows();
    let ui = &app.theme.ui;
    let screen = frame.area();
    let area = Rect {
        height: screen.height.saturating_sub(1),
        ..screen
    };
    let w = area.width.saturating_sub(4).clamp(area.width.min(24), 90);
    let h = (rows.len() * 2 + 2).min(usize::from(u16::MAX)) as u16;
    let rect = centered(area, w, h.min(area.height.saturating_sub(2).max(4)));
    let inner_w = usize::from(rect.width.saturating_sub(2));
    let shown = (usize::from(rect.height.saturating_sub(2)) / 2).max(1);
    let first = selected
        .saturating_sub(shown / 2)
        .min(rows.len().saturating_sub(shown));
    let mut lines: Vec<Line> = Vec::new();
    for (i, row) in rows.iter().enumerate().skip(first).take(shown) {
        let chosen = i == selected;
        let (title_style, rest_style) = if chosen {
            (ui.outline_current, ui.outline_current)
        } else {
            (ui.pane_title, ui.text)
        };
        let date = row.date.clone().unwrap_or_default();
        let title = row.title.as_deref().map_or_else(
            || {
                format!(
                    "{} (no longer in the folder)",
                    sanitize(&row.post.to_string_lossy())
                )
            },
            |t| sanitize(t).into_owned(),
        );
        let room = inner_w.saturating_sub(display_width(&date) + 2);
        let title = truncate(&format!(" {title}"), room).into_owned();
        let pad = inner_w.saturating_sub(display_width(&title) + display_width(&date) + 1);
        lines.push(Line::from(vec![
            Span::styled(title, title_style),
            Span::styled(" ".repeat(pad), rest_style),
            Span::styled(
                format!("{date} "),
                if chosen { rest_style } else { ui.list_date },
            ),
        ]));
        let heading = sanitize(&row.heading);
        let words = sanitize(&row.words);
        let place = if heading.is_empty() {
            format!("   {words}")
        } else {
            format!("   {heading} › {words}")
        };
        let place = truncate(&place, inner_w).into_owned();
        let pad = inner_w.saturating_sub(display_width(&place));
        lines.push(Line::from(vec![
            Span::styled(place, rest_style),
            Span::styled(" ".repeat(pad), rest_style),
        ]));
    }
    frame.render_widget(Clear, rect);
    let title = format!(" Bookmarks ({}) ", rows.len());
    let block = Block::bordered()
        .title(Span::styled(title, ui.pane_title))
        .title_bottom(Span::styled(
            " Enter opens · d deletes · Esc closes ",
            ui.notice,
        ))
        .border_style(ui.border_focused)
        .style(ui.text);
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}

/// The screen areas of the links shown in the reader that a terminal can
/// open (http, https, mailto), for the backend to make hyperlinks (OSC 8).
/// Links to posts and anchors are folio's own business: `F` follows them.
pub fn hyperlinks(app: &App) -> Vec<Hyperlink> {
    // An overlay covers the text; its cells are no links.
    let covered = matches!(
        app.overlay(),
        Some(Overlay::Help | Overlay::Outline { .. } | Overlay::Bookmarks { .. })
    );
    if !app.options.hyperlinks || covered || app.panes().reader.is_none() {
        return Vec::new();
    }
    let Some(doc) = app.document() else {
        return Vec::new();
    };
    let text = app.panes().text;
    let top = app.reader_top();
    let bottom = top + usize::from(text.height);
    let mut out = Vec::new();
    for (_, link) in doc.links_on(top..bottom) {
        let scheme = link
            .url
            .split_once(':')
            .map(|(s, _)| s.to_ascii_lowercase());
        if !matches!(scheme.as_deref(), Some("http" | "https" | "mailto")) {
            continue;
        }
        for area in link
            .areas
            .iter()
            .filter(|a| (top..bottom).contains(&a.line))
        {
            let start = u16::try_from(area.start)
                .unwrap_or(u16::MAX)
                .min(text.width);
            let end = u16::try_from(area.end).unwrap_or(u16::MAX).min(text.width);
            if end > start {
                out.push(Hyperlink {
                    x: text.x + start,
                    y: text.y + u16::try_from(area.line - top).unwrap_or(0),
                    width: end - start,
                    url: link.url.clone(),
                });
            }
        }
    }
    out
}

/// Link mode: each link's hint over the start of its text; the letters
/// typed so far dimmed, links that no longer match left bare.
fn draw_hints(app: &App, mode: LinkMode, buf: &mut Buffer) {
    let ui = &app.theme.ui;
    let label = ui.search_match.add_modifier(Modifier::BOLD);
    let typed = mode.typed();
    let right = app.panes().reader.map_or(0, Rect::right);
    for hint in app.hints() {
        if !hint.label.starts_with(typed) {
            continue;
        }
        let room = usize::from(right.saturating_sub(hint.x));
        let (done, rest) = hint.label.split_at(typed.len());
        let mut spans = vec![Span::styled(done, label.add_modifier(Modifier::DIM))];
        spans.push(Span::styled(rest, label));
        buf.set_line(hint.x, hint.y, &Line::from(spans), room as u16);
    }
}

fn draw_list(app: &App, area: Rect, beside_reader: bool, buf: &mut Buffer) {
    let theme = &app.theme.ui;
    let focused = app.focus() == Focus::List;
    let inner = if beside_reader {
        let border = if focused {
            theme.border_focused
        } else {
            theme.border
        };
        let block = Block::new().borders(Borders::RIGHT).border_style(border);
        let inner = block.inner(area);
        ratatui::widgets::Widget::render(block, area, buf);
        inner
    } else {
        area
    };
    let rows = app.entry_rows();
    let width = usize::from(inner.width);
    let selection = if focused {
        theme.selection
    } else {
        theme.selection_unfocused
    };
    let filter = app.filter().map(|f| &f.parsed);
    if app.view_len() == 0 && inner.height > 0 {
        buf.set_string(inner.x + 1, inner.y, "No posts match", theme.notice);
    }
    for pos in app.list_top()..app.view_len() {
        let Some(i) = app.view_at(pos) else { break };
        let post = &app.posts()[i];
        let y = inner.y + ((pos - app.list_top()) * rows) as u16;
        if y + rows as u16 > inner.bottom() {
            break;
        }
        let date = post.date.map_or_else(|| " ".repeat(10), |d| d.to_string());
        // Unread posts carry a dot in the margin, so the columns stay put.
        let margin = if app.is_unread(post) {
            Span::styled("•", theme.list_title.add_modifier(Modifier::BOLD))
        } else {
            Span::raw(" ")
        };
        let mut spans = vec![margin, Span::styled(date, theme.list_date), Span::raw(" ")];
        if post.error.is_some() || post.lossy {
            spans.push(Span::styled("⚠ ", theme.marker_error));
        }
        if post.draft {
            spans.push(Span::styled("✎ ", theme.marker_draft));
        }
        let used: usize = spans.iter().map(|s| display_width(&s.content)).sum();
        let title = shown(app, &post.title);
        spans.extend(marked(
            &title,
            width.saturating_sub(used + 1),
            theme.list_title,
            theme.search_match,
            filter,
        ));
        let mut lines = vec![Line::from(spans)];
        if rows > 1 {
            let excerpt = shown(app, &post.excerpt);
            let mut spans = vec![Span::raw("   ")];
            spans.extend(marked(
                &excerpt,
                width.saturating_sub(4),
                theme.list_excerpt,
                theme.search_match,
                filter,
            ));
            lines.push(Line::from(spans));
        }
        for (r, line) in lines.iter().enumerate() {
            let row = Rect::new(inner.x, y + r as u16, inner.width, 1);
            if app.selected() == Some(i) {
                buf.set_style(row, selection);
                let line = line.clone().patch_style(selection);
                put_line(buf, row.x, row.y, &line, row.width);
            } else {
                put_line(buf, row.x, row.y, line, row.width);
            }
        }
    }
}

fn draw_reader(app: &App, area: Rect, buf: &mut Buffer) {
    let theme = &app.theme;
    if app.posts().is_empty() {
        // Not "no posts" before the folder has been read to the end.
        if app.scanning().is_some() {
            buf.set_string(area.x + 1, area.y, "Reading posts…", theme.ui.notice);
        } else {
            draw_empty(app, area, buf);
        }
        return;
    }
    match app.current() {
        Some(Loaded::Ready { doc, .. }) => {
            let top = app.reader_top();
            for row in 0..area.height {
                let i = top + usize::from(row);
                if let Some(line) = doc.lines.get(i) {
                    let y = area.y + row;
                    put_line(buf, area.x, y, &line, area.width);
                    for (cols, current) in app.find_highlights(i) {
                        let x0 = area.x + (cols.start as u16).min(area.width);
                        let x1 = area.x + (cols.end as u16).min(area.width);
                        let style = if current {
                            theme.ui.search_current
                        } else {
                            theme.ui.search_match
                        };
                        buf.set_style(Rect::new(x0, y, x1 - x0, 1), style);
                    }
                }
            }
            let shown = top..top + usize::from(area.height);
            for pic in doc.pictures_on(shown) {
                draw_picture(app, pic, top, area, buf);
            }
        }
        Some(Loaded::Failed(err)) => {
            let text = format!("⚠ Cannot open this post: {err}");
            for (row, line) in wrap_words(&sanitize(&text), usize::from(area.width))
                .into_iter()
                .take(usize::from(area.height))
                .enumerate()
            {
                buf.set_string(area.x, area.y + row as u16, line, theme.ui.error);
            }
        }
        Some(Loaded::Loading) | None => {
            buf.set_string(area.x, area.y, "Loading…", theme.ui.notice);
        }
    }
}

/// The pictures shown with a protocol, for the backend to place: those
/// wholly on screen in the reader and encoded; the others are half blocks
/// (see `draw_picture`). Overlays hide them.
pub fn placements(app: &App) -> Vec<crate::wire::Placement> {
    let covered = matches!(
        app.overlay(),
        Some(Overlay::Help | Overlay::Outline { .. } | Overlay::Bookmarks { .. })
    );
    if covered || app.panes().reader.is_none() || !app.pictures_shown() {
        return Vec::new();
    }
    let Some(doc) = app.document() else {
        return Vec::new();
    };
    let area = app.panes().text;
    let top = app.reader_top();
    doc.pictures_on(top..top + usize::from(area.height))
        .filter_map(|pic| {
            let encoded = placed(app, pic, top, area)?;
            let y = u16::try_from(pic.line - top).ok()?;
            Some(crate::wire::Placement {
                x: area.x + encoded.left,
                y: area.y + y,
                encoded: encoded.clone(),
            })
        })
        .collect()
}

/// `pic`'s protocol form, when it is drawn with one: decoded for the
/// protocol in use and wholly inside `area` (shown from line `top`).
fn placed<'a>(
    app: &'a App,
    pic: &crate::document::Picture,
    top: usize,
    area: Rect,
) -> Option<&'a crate::graphics::Encoded> {
    if app.graphics() == crate::graphics::Graphics::Halfblocks {
        return None;
    }
    let first = pic.line.checked_sub(top)?;
    if first + usize::from(pic.rows) > usize::from(area.height) || pic.cols > area.width {
        return None;
    }
    let encoded = app.picture(pic)?.ok()?.encoded.as_ref()?;
    (encoded.graphics == app.graphics()).then_some(encoded)
}

/// Draws `pic` (of the document shown from line `top` in `area`) in the
/// rows kept for it: its half blocks once decoded; until then its alt text
/// dimmed, or why it cannot be shown. Only the rows on screen are drawn, so
/// a picture scrolls like text. A picture drawn with a protocol leaves its
/// rows blank, for the backend; partly on screen, it is half blocks.
fn draw_picture(
    app: &App,
    pic: &crate::document::Picture,
    top: usize,
    area: Rect,
    buf: &mut Buffer,
) {
    let dim = app.theme.ui.notice.add_modifier(Modifier::DIM);
    let cols = pic.cols.min(area.width);
    if placed(app, pic, top, area).is_some() {
        // Its rows stay blank: the backend places the picture over them.
        return;
    }
    for r in 0..pic.rows {
        let line = pic.line + usize::from(r);
        let Some(row) = line.checked_sub(top).and_then(|y| u16::try_from(y).ok()) else {
            continue;
        };
        if row >= area.height {
            break;
        }
        let y = area.y + row;
        match app.picture(pic) {
            Some(Ok(pixels)) => {
                for c in 0..cols {
                    let Some((upper, lower)) = pixels.cell(c, r) else {
                        continue;
                    };
                    let cell = &mut buf[(area.x + c, y)];
                    match (upper, lower) {
                        (Some(u), l) => {
                            cell.set_symbol("▀").set_fg(u);
                            if let Some(l) = l {
                                cell.set_bg(l);
                            }
                        }
                        (None, Some(l)) => {
                            cell.set_symbol("▄").set_fg(l);
                        }
                        (None, None) => {}
                    }
                }
            }
            // The first row says what is missing; the others stay blank.
            Some(Err(why)) if r == 0 => {
                let text = sanitize(&format!("  ⚠ {why}")).into_owned();
                buf.set_stringn(area.x, y, text, usize::from(cols), dim);
            }
            None if r == 0 => {
                let text = if pic.alt.is_empty() {
                    "  …".to_owned()
                } else {
                    sanitize(&format!("  {} …", pic.alt)).into_owned()
                };
                buf.set_stringn(area.x, y, text, usize::from(cols), dim);
            }
            _ => {}
        }
    }
}

fn draw_empty(app: &App, area: Rect, buf: &mut Buffer) {
    let ui = &app.theme.ui;
    let label = sanitize(&app.options.source_label).into_owned();
    let mut lines = vec![
        Line::styled("No posts here yet", ui.pane_title),
        Line::default(),
    ];
    let text = [
        format!("folio found no .md or .markdown files in {label}."),
        String::new(),
        "Point it at a folder of Markdown posts:  folio ~/blog/posts".to_owned(),
        "or open one file:  folio notes.md".to_owned(),
        "Run folio with no argument to read its built-in guide.".to_owned(),
        String::new(),
        "Press q to quit.".to_owned(),
    ];
    for para in text {
        if para.is_empty() {
            lines.push(Line::default());
        }
        for l in wrap_words(&para, usize::from(area.width)) {
            if !l.is_empty() {
                lines.push(Line::styled(l, ui.text));
            }
        }
    }
    let top = area.y + area.height.saturating_sub(lines.len() as u16) / 3;
    for (i, line) in lines.iter().enumerate() {
        let y = top + i as u16;
        if y >= area.bottom() {
            break;
        }
        buf.set_line(area.x, y, line, area.width);
    }
}

/// The right end of the status bar: a pending count, the filter, the
/// position in the list or in the post and the search count.
fn status_right(app: &App, prompt: Option<Prompt>) -> String {
    let right = status_position(app, prompt);
    match app.scanning() {
        Some(n) if right.is_empty() => format!("reading posts… {} ", thousands(n)),
        Some(n) => format!("reading posts… {} · {right}", thousands(n)),
        None => right,
    }
}

/// `n` with a comma every three digits: `10,000`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn status_position(app: &App, prompt: Option<Prompt>) -> String {
    if let Some(count) = app.pending_count() {
        format!("{count} ")
    } else if prompt == Some(Prompt::Filter) {
        format!("{}/{} posts ", app.view_len(), app.posts().len())
    } else if app.focus() == Focus::List || app.document().is_none() {
        let total = app.posts().len();
        let pos = app.view_pos().map_or(0, |p| p + 1);
        match app.filter() {
            _ if total == 0 => String::new(),
            Some(f) => format!(
                "/{} · post {pos}/{} of {total} ",
                truncate(&sanitize(&f.text), 24),
                app.view_len()
            ),
            None => format!("post {pos}/{total} "),
        }
    } else {
        match app.find_count() {
            Some((_, 0)) => format!("no match · {}", position(app)),
            Some((current, n)) => format!(
                "{}/{n} · {}",
                current.map_or_else(|| "-".to_owned(), |c| c.to_string()),
                position(app)
            ),
            None => position(app),
        }
    }
}

fn draw_status(app: &App, area: Rect, buf: &mut Buffer) {
    if area.height == 0 {
        return;
    }
    let ui = &app.theme.ui;
    buf.set_style(area, ui.status);
    let width = usize::from(area.width);
    let prompt = app.prompt().filter(|p| *p != Prompt::SearchAll);
    let right = status_right(app, prompt);
    // Discreet, as the issue asks: one symbol says the text on screen is not
    // byte for byte what the file holds; R shows that.
    let right = if app.raw() {
        format!("raw {right}")
    } else if app.repaired() {
        format!("⚕ {right}")
    } else {
        right
    };
    let right_w = display_width(&right);
    let mut spans = Vec::new();
    let room = width.saturating_sub(right_w + 2);
    if let Some(prompt) = prompt {
        let text = match prompt {
            Prompt::Filter => app.filter().map_or("", |f| f.text.as_str()),
            _ => app.find().text.as_str(),
        };
        let label = if prompt == Prompt::Filter {
            "filter /"
        } else {
            "/"
        };
        spans.push(Span::styled(label, ui.status_section));
        // The end of a long query stays in sight, where the typing is.
        let text = tail(&sanitize(text), room.saturating_sub(label.len() + 1));
        spans.push(Span::styled(text, ui.status));
        spans.push(Span::styled(
            " ",
            ui.status.add_modifier(Modifier::REVERSED),
        ));
    } else if let (Some(Overlay::Links(mode)), None) = (app.overlay(), app.message()) {
        let text = if mode.copy {
            "Copy a link's URL or a code block: type its hint · y follows instead · Esc leaves"
        } else {
            "Follow a link: type its hint (a code block's copies it) · y copies instead · Esc leaves"
        };
        spans.push(Span::styled(truncate(text, room).into_owned(), ui.notice));
    } else if let Some(message) = app.message() {
        spans.push(Span::styled(
            truncate(&sanitize(message), room).into_owned(),
            ui.notice,
        ));
    } else if let Some(post) = app.selected_post() {
        let title = shown(app, &post.title);
        let title = truncate(&title, room.min(room / 2 + 8).max(room.min(12)));
        let title_w = display_width(&title);
        spans.push(Span::styled(
            title.into_owned(),
            ui.status.add_modifier(Modifier::BOLD),
        ));
        if let Some(doc) = app
            .document()
            .filter(|_| app.focus() == Focus::Reader || !app.is_narrow())
        {
            // A post often repeats its title as its first heading; saying it
            // twice in one status bar is noise.
            let path: Vec<String> = doc
                .section_path(app.reader_top())
                .iter()
                .filter(|h| !h.text.eq_ignore_ascii_case(post.title.trim()))
                .map(|h| sanitize(&h.text).into_owned())
                .collect();
            let section = fit_section(&path, room.saturating_sub(title_w + 3));
            if !section.is_empty() {
                spans.push(Span::styled(" · ", ui.status));
                spans.push(Span::styled(section, ui.status_section));
            }
        }
    }
    let mut line = vec![Span::raw(" ")];
    line.extend(spans);
    buf.set_line(area.x, area.y, &Line::from(line), area.width);
    if right_w < width {
        let x = area.x + (width - right_w) as u16;
        buf.set_string(x, area.y, &right, ui.status_position);
    }
}

/// The last `width` columns of `s`, with an ellipsis in front when cut.
fn tail(s: &str, width: usize) -> String {
    if display_width(s) <= width {
        return s.to_owned();
    }
    let mut out: Vec<&str> = Vec::new();
    let mut w = 1;
    for g in unicode_segmentation::UnicodeSegmentation::graphemes(s, true).rev() {
        let gw = crate::sanitize::grapheme_width(g);
        if w + gw > width {
            break;
        }
        w += gw;
        out.push(g);
    }
    out.reverse();
    format!("…{}", out.concat())
}

/// `text` cut to `width` columns, as spans: the characters the filter
/// matched in `mark`, the rest in `style`.
fn marked(
    text: &str,
    width: usize,
    style: Style,
    mark: Style,
    filter: Option<&crate::search::Filter>,
) -> Vec<Span<'static>> {
    let cut = truncate(text, width);
    let positions = filter.map(|f| f.positions(text)).unwrap_or_default();
    if positions.is_empty() {
        return vec![Span::styled(cut.into_owned(), style)];
    }
    // A cut text ends in an ellipsis that stands for other characters.
    let shown_chars = cut.chars().count() - usize::from(cut.len() != text.len());
    let mut spans: Vec<Span<'static>> = Vec::new();
    for (i, c) in cut.chars().enumerate() {
        let s = if i < shown_chars && positions.binary_search(&i).is_ok() {
            style.patch(mark)
        } else {
            style
        };
        match spans.last_mut() {
            Some(last) if last.style == s => last.content.to_mut().push(c),
            _ => spans.push(Span::styled(c.to_string(), s)),
        }
    }
    spans
}

/// `NN% line/total`, as less and vim show it; `All` when it fits on screen.
fn position(app: &App) -> String {
    let Some(doc) = app.document() else {
        return String::new();
    };
    let total = doc.len();
    let height = usize::from(app.panes().text.height);
    let top = app.reader_top();
    let pct = if total <= height {
        "All".to_owned()
    } else {
        format!("{}%", ((top + height).min(total) * 100) / total)
    };
    let line = (top + 1).min(total.max(1));
    if doc.words == 0 {
        return format!("{pct} {line}/{total} ");
    }
    let minutes = crate::markdown::reading_minutes(doc.words);
    format!("{minutes} min · {pct} {line}/{total} ")
}

/// The section path (`Setup › Linux`) in at most `room` columns: outer
/// headings are dropped first, then the innermost is cut.
fn fit_section(path: &[String], room: usize) -> String {
    for skip in 0..path.len() {
        let s = path[skip..].join(" › ");
        if display_width(&s) <= room {
            return s;
        }
    }
    path.last()
        .map(|s| truncate(s, room).into_owned())
        .unwrap_or_default()
}

/// A centred rectangle of at most `w`×`h` inside `area`.
fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

fn draw_help(app: &App, frame: &mut Frame) {
    let ui = &app.theme.ui;
    let sections = help::sections(app.keymap());
    let key_w = sections
        .iter()
        .flat_map(|(_, rows)| rows.iter().map(|(k, _)| display_width(k)))
        .max()
        .unwrap_or(0);
    let desc_w = sections
        .iter()
        .flat_map(|(_, rows)| rows.iter().map(|(_, d)| display_width(d)))
        .max()
        .unwrap_or(0);
    let mut lines: Vec<Line> = Vec::new();
    for (title, rows) in sections {
        if !lines.is_empty() {
            lines.push(Line::default());
        }
        lines.push(Line::styled(format!(" {title}"), ui.pane_title));
        for (keys, desc) in rows {
            let pad = key_w + 2 - display_width(&keys);
            lines.push(Line::from(vec![
                Span::raw(" "),
                Span::styled(keys, ui.help_key),
                Span::raw(" ".repeat(pad)),
                Span::styled(desc, ui.text),
            ]));
        }
    }
    let width = (key_w + desc_w + 6) as u16;
    let total = lines.len();
    let area = centered(
        frame.area(),
        width,
        u16::try_from(total + 2).unwrap_or(u16::MAX),
    );
    frame.render_widget(Clear, area);
    // Taller than the terminal: it scrolls, and the frame says so.
    let top = app.help_top();
    let shown = usize::from(area.height.saturating_sub(2));
    let title = if total <= shown {
        " Keys · ? or Esc closes "
    } else if top + shown >= total {
        " Keys · ↑ k scroll · ? or Esc closes "
    } else {
        " Keys · ↓ j scroll for more · ? or Esc closes "
    };
    let block = Block::bordered()
        .title(Span::styled(title, ui.pane_title))
        .border_style(ui.border_focused)
        .style(ui.text);
    frame.render_widget(
        Paragraph::new(lines)
            .scroll((u16::try_from(top).unwrap_or(u16::MAX), 0))
            .block(block),
        area,
    );
}

fn draw_outline(app: &App, selected: usize, frame: &mut Frame) {
    let Some(doc) = app.document() else {
        return;
    };
    let ui = &app.theme.ui;
    let area = app.panes().reader.unwrap_or(frame.area());
    let widest = doc
        .headings
        .iter()
        .map(|h| display_width(&h.text) + 2 * usize::from(h.level))
        .max()
        .unwrap_or(0);
    let w = (widest + 4).clamp(24, 72) as u16;
    let h = (doc.headings.len() + 2).min(usize::from(u16::MAX)) as u16;
    let rect = centered(
        area,
        w.min(area.width.saturating_sub(2)).max(area.width.min(24)),
        h.min(area.height.saturating_sub(2).max(3)),
    );
    let inner_h = usize::from(rect.height.saturating_sub(2)).max(1);
    let first = selected
        .saturating_sub(inner_h / 2)
        .min(doc.headings.len().saturating_sub(inner_h));
    let current = doc.heading_at(app.reader_top());
    let inner_w = usize::from(rect.width.saturating_sub(2));
    let lines: Vec<Line> = doc
        .headings
        .iter()
        .enumerate()
        .skip(first)
        .take(inner_h)
        .map(|(i, h)| {
            let mark = if Some(i) == current { "▸" } else { " " };
            let indent = "  ".repeat(usize::from(h.level.saturating_sub(1)));
            let text = format!("{mark}{indent}{}", sanitize(&h.text));
            let style = if i == selected {
                ui.outline_current
            } else {
                app.theme.heading(h.level)
            };
            let text = truncate(&text, inner_w).into_owned();
            let pad = inner_w.saturating_sub(display_width(&text));
            Line::from(vec![
                Span::styled(text, style),
                Span::styled(
                    " ".repeat(pad),
                    if i == selected {
                        ui.outline_current
                    } else {
                        ui.text
                    },
                ),
            ])
        })
        .collect();
    frame.render_widget(Clear, rect);
    let block = Block::bordered()
        .title(Span::styled(" Outline ", ui.pane_title))
        .border_style(ui.border_focused)
        .style(ui.text);
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}

/// The search across all posts: its prompt, progress and results, over the
/// list and the reader.
fn draw_search_all(app: &App, frame: &mut Frame) {
    let ui = &app.theme.ui;
    let sa = app.search_all();
    let full = frame.area();
    let area = Rect::new(0, 0, full.width, full.height.saturating_sub(1));
    if area.height < 3 || area.width < 8 {
        return;
    }
    frame.render_widget(Clear, area);
    let block = Block::bordered()
        .title(Span::styled(
            " Search all posts · ↑↓ choose · Enter opens · Esc closes ",
            ui.pane_title,
        ))
        .border_style(ui.border_focused)
        .style(ui.text);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let buf = frame.buffer_mut();
    let width = usize::from(inner.width);
    let mut prompt = vec![Span::styled("› ", ui.help_key)];
    prompt.push(Span::styled(
        tail(&sanitize(&sa.text), width.saturating_sub(4)),
        ui.text,
    ));
    prompt.push(Span::styled(" ", ui.text.add_modifier(Modifier::REVERSED)));
    buf.set_line(inner.x, inner.y, &Line::from(prompt), inner.width);
    let found = sa.results.len();
    let status = if sa.text.is_empty() {
        "Type to search the text of every post (smart case)".to_owned()
    } else if sa.capped() {
        format!("{found}+ matches: only the first {found} are kept; type more to narrow")
    } else if sa.done {
        format!(
            "{found} matching line{} in {} posts",
            if found == 1 { "" } else { "s" },
            sa.total
        )
    } else {
        format!(
            "{found} so far · searched {}/{} posts…",
            sa.scanned, sa.total
        )
    };
    if inner.height > 1 {
        buf.set_string(
            inner.x,
            inner.y + 1,
            truncate(&status, width),
            ui.list_excerpt,
        );
    }
    let first_row = inner.y + 3;
    if first_row >= inner.bottom() {
        return;
    }
    let fit = (usize::from(inner.bottom() - first_row) / 2).max(1);
    let top = sa.selected.saturating_sub(fit - 1);
    for (n, hit) in sa.results.iter().enumerate().skip(top).take(fit) {
        let y = first_row + ((n - top) * 2) as u16;
        let rows = Rect::new(inner.x, y, inner.width, 2).intersection(inner);
        draw_hit(app, hit, n == sa.selected, rows, buf);
    }
}

/// One result of the search across all posts in two rows: the post's date
/// and title, then the matching line with the match highlighted.
fn draw_hit(app: &App, hit: &crate::search::Hit, selected: bool, area: Rect, buf: &mut Buffer) {
    let ui = &app.theme.ui;
    let width = usize::from(area.width);
    let post = app
        .posts()
        .get(hit.index)
        .filter(|p| p.rel_path == hit.rel_path);
    let date = post
        .and_then(|p| p.date)
        .map_or_else(|| " ".repeat(10), |d| d.to_string());
    let title = post.map_or_else(
        || sanitize(&hit.rel_path.to_string_lossy()).into_owned(),
        |p| shown(app, &p.title),
    );
    let head = Line::from(vec![
        Span::raw(" "),
        Span::styled(date, ui.list_date),
        Span::raw(" "),
        Span::styled(
            truncate(&title, width.saturating_sub(13)).into_owned(),
            ui.list_title,
        ),
    ]);
    // The match stays in sight: the text before it is cut from the left
    // when the line does not fit, keeping at least a third of the row.
    let room = width.saturating_sub(4);
    let rest = display_width(&hit.matched) + display_width(&hit.after);
    let before = tail(&hit.before, room.saturating_sub(rest).max(room / 3));
    let matched = truncate(&hit.matched, room.saturating_sub(display_width(&before))).into_owned();
    let after_room = room.saturating_sub(display_width(&before) + display_width(&matched));
    let line = Line::from(vec![
        Span::raw("   "),
        Span::styled(before, ui.list_excerpt),
        Span::styled(matched, ui.list_excerpt.patch(ui.search_match)),
        Span::styled(
            truncate(&hit.after, after_room).into_owned(),
            ui.list_excerpt,
        ),
    ]);
    for (r, line) in [head, line].into_iter().enumerate() {
        let row = Rect::new(area.x, area.y + r as u16, area.width, 1);
        if row.y >= area.bottom() {
            break;
        }
        if selected {
            buf.set_style(row, ui.selection);
            buf.set_line(row.x, row.y, &line.patch_style(ui.selection), row.width);
        } else {
            buf.set_line(row.x, row.y, &line, row.width);
        }
    }
}

/// `Buffer::set_line`, with the ASCII of a post's lines and the list's
/// titles put into cells directly: ratatui's grapheme segmentation of every
/// span was a fifth of a key press's cost, and a printable ASCII character
/// is always one grapheme one column wide. Anything else goes through
/// ratatui, so the cells are the same either way.
fn put_line(buf: &mut Buffer, x: u16, y: u16, line: &Line<'_>, max_width: u16) {
    let mut x = x;
    let mut remaining = max_width.min(buf.area.right().saturating_sub(x));
    for span in line {
        if remaining == 0 {
            break;
        }
        let style = line.style.patch(span.style);
        let text: &str = &span.content;
        if text.is_ascii() {
            for &b in text.as_bytes() {
                // ratatui drops control characters (sanitizing already did).
                if b.is_ascii_control() {
                    continue;
                }
                if remaining == 0 {
                    break;
                }
                buf[(x, y)].set_char(char::from(b)).set_style(style);
                x += 1;
                remaining -= 1;
            }
        } else {
            let (end, _) = buf.set_stringn(x, y, text, usize::from(remaining), style);
            remaining = remaining.saturating_sub(end.saturating_sub(x));
            x = end;
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_have_commas() {
        let cases = [(0, "0"), (999, "999"), (1_000, "1,000"), (2_400, "2,400")];
        for (n, text) in cases {
            assert_eq!(super::thousands(n), text);
        }
        assert_eq!(super::thousands(1_234_567), "1,234,567");
    }

    /// The fast path puts the same cells as ratatui's `set_line`.
    #[test]
    fn put_line_matches_set_line() {
        use ratatui::buffer::Buffer;
        use ratatui::layout::Rect;
        use ratatui::style::{Color, Modifier, Style};
        use ratatui::text::{Line, Span};
        let lines = [
            Line::from("plain ascii text that runs past the edge of the area"),
            Line::from(vec![
                Span::styled("bold ", Style::new().add_modifier(Modifier::BOLD)),
                Span::raw("日本語 wide"),
                Span::styled(" café", Style::new().fg(Color::Red)),
            ]),
            Line::from(vec![
                Span::raw("tab\there"),
                Span::raw(" e\u{301} combining"),
            ])
            .style(Style::new().bg(Color::Blue)),
            Line::from("x".repeat(7) + "語"),
        ];
        for line in &lines {
            for (x, width) in [(0, 40), (3, 8), (2, 5), (30, 40)] {
                let area = Rect::new(0, 0, 40, 1);
                let mut ours = Buffer::empty(area);
                let mut theirs = Buffer::empty(area);
                super::put_line(&mut ours, x, 0, line, width);
                theirs.set_line(x, 0, line, width);
                assert_eq!(ours, theirs, "{line:?} at {x} in {width}");
            }
        }
    }
}
