//! Helpers shared by the integration tests: fixture folders, driving the app
//! with keys written as text, and reading the screen back.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::Path;

use folio::app::{App, Options};
use folio::keymap::{Key, KeyCode, Keymap};
use folio::posts;
use folio::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

/// A long post with a known heading structure; each paragraph names its
/// section so tests can tell where the reader is.
pub fn long_post() -> String {
    let mut s = String::from(
        "---\ntitle: \"Alpha: a long post\"\ndate: 2025-03-01\nexcerpt: \"The long one, with sections.\"\ntags: [rust, testing]\n---\n\n# Alpha\n\n",
    );
    for (level, name) in [
        (2, "One"),
        (2, "Two"),
        (3, "Two point one"),
        (3, "Two point two"),
        (2, "Three"),
        (2, "Four"),
    ] {
        let _ = write!(s, "{} {name}\n\n", "#".repeat(level));
        for p in 1..=4 {
            let _ = write!(
                s,
                "Paragraph {p} of section {name}. It has enough words in it to wrap onto a second line at most widths a reader would use.\n\n"
            );
        }
    }
    s
}

/// A folder of posts: a long dated one, a short older one, a draft, one with
/// broken frontmatter and an undated one.
pub fn blog() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write("alpha.md", &long_post());
    write(
        "bravo.md",
        "---\ntitle: Bravo\ndate: 2025-02-01\nexcerpt: A short one.\n---\n\nJust one paragraph about bravo.\n",
    );
    write(
        "charlie.md",
        "---\ntitle: Charlie the draft\ndate: 2025-01-15\ndraft: true\n---\n\nWork in progress.\n",
    );
    write(
        "delta.md",
        "---\ntitle: Delta\ndate: [1, 2]\n---\n\n# Delta\n\nThe frontmatter above is wrong.\n",
    );
    write("echo.md", "# Echo without a date\n\nUndated text.\n");
    dir
}

pub fn app_for(dir: &Path, width: u16, height: u16) -> App {
    let posts = posts::scan(dir).unwrap();
    let mut app = App::new(
        posts,
        Theme::default(),
        Keymap::default(),
        Options::default(),
    );
    app.update(folio::action::Action::Resize(width, height));
    folio::work::settle(&mut app);
    app
}

/// Keys written as in vim docs: plain characters, or `<Tab>`, `<S-Tab>`,
/// `<Enter>`, `<Esc>`, `<Space>`, `<Up>`, `<Down>`, `<Left>`, `<Right>`,
/// `<Home>`, `<End>`, `<PageUp>`, `<PageDown>`, `<C-d>` and the like.
pub fn parse_keys(keys: &str) -> Vec<Key> {
    let mut out = Vec::new();
    let mut chars = keys.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '<' || chars.peek().is_none() {
            out.push(Key::char(c));
            continue;
        }
        let name: String = chars.by_ref().take_while(|&c| c != '>').collect();
        let key = match name.as_str() {
            "Tab" => Key::new(KeyCode::Tab),
            "S-Tab" => Key::new(KeyCode::BackTab),
            "Enter" => Key::new(KeyCode::Enter),
            "Esc" => Key::new(KeyCode::Esc),
            "Space" => Key::char(' '),
            "Up" => Key::new(KeyCode::Up),
            "Down" => Key::new(KeyCode::Down),
            "Left" => Key::new(KeyCode::Left),
            "Right" => Key::new(KeyCode::Right),
            "Home" => Key::new(KeyCode::Home),
            "End" => Key::new(KeyCode::End),
            "PageUp" => Key::new(KeyCode::PageUp),
            "PageDown" => Key::new(KeyCode::PageDown),
            "lt" => Key::char('<'),
            other => {
                let c = other
                    .strip_prefix("C-")
                    .and_then(|s| s.chars().next())
                    .unwrap_or_else(|| panic!("unknown key <{other}>"));
                Key::ctrl(c)
            }
        };
        out.push(key);
    }
    out
}

pub fn press(app: &mut App, keys: &str) {
    for key in parse_keys(keys) {
        app.key(key);
        folio::work::settle(app);
    }
}

pub fn render(app: &App) -> Buffer {
    let (w, h) = size(app);
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| folio::ui::draw(app, f)).unwrap();
    terminal.backend().buffer().clone()
}

fn size(app: &App) -> (u16, u16) {
    let p = app.panes();
    (p.status.width, p.status.y + p.status.height)
}

/// The screen as text, one line per row, trailing blanks trimmed.
pub fn screen(app: &App) -> String {
    let buf = render(app);
    let mut out = String::new();
    for y in 0..buf.area.height {
        let mut line = String::new();
        for x in 0..buf.area.width {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The text of reader row `row` (0 = top of the reader).
pub fn reader_row(app: &App, row: u16) -> String {
    let text = app.panes().text;
    let buf = render(app);
    let mut line = String::new();
    for x in text.x..text.right() {
        line.push_str(buf[(x, text.y + row)].symbol());
    }
    line.trim_end().to_owned()
}
