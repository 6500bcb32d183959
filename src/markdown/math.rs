//! TeX math (`$…$`, `$$…$$`) as Unicode text: Greek letters, operators,
//! super- and subscripts where Unicode has them, fractions as `a⁄b` inline
//! and stacked in display math, big operators with their limits. A formula
//! with anything this does not know (an unknown command, an environment,
//! unbalanced braces) is not converted at all: the caller shows its source,
//! so nothing is ever lost or half-translated.
//!
//! Written here rather than taken from a crate: the crates that convert TeX
//! to Unicode either replace symbols only (no fractions or limits, and
//! `unicodeit`'s data is under the LaTeX Project licence) or draw 2D art with
//! no stated bounds on their input. This one is small, knows exactly what it
//! converts, and is bounded: at most [`MAX_SOURCE`] bytes and [`MAX_DEPTH`]
//! levels of braces (the recursion is on that depth, so it cannot overflow).

/// Longest formula converted; a longer one shows as its source.
pub const MAX_SOURCE: usize = 4096;
/// Deepest nesting of groups converted.
pub const MAX_DEPTH: usize = 16;

/// Why a formula was not converted (the caller shows its source).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unconvertible;

type Result<T> = std::result::Result<T, Unconvertible>;

/// One piece of a formula at its top level: text, or (in display math) a
/// piece that takes three rows.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Text(String),
    Frac(String, String),
    /// A big operator (∑, ∫, lim) and its limits below and above.
    Op(String, Option<String>, Option<String>),
}

/// Inline math as one line of text.
pub fn inline(src: &str) -> Result<String> {
    let items = Parser::parse(src)?;
    Ok(tidy(&flatten(&items)))
}

/// Display math as rows of text: a fraction stacks its numerator over its
/// denominator and a big operator shows its limits above and below, when
/// that fits in `width` columns; one line per `\\`.
pub fn display(src: &str, width: usize) -> Result<Vec<String>> {
    let mut rows = Vec::new();
    for line in split_rows(src) {
        let items = Parser::parse(line.trim())?;
        let stacked = stack(&items);
        if stacked
            .iter()
            .all(|r| crate::sanitize::display_width(r) <= width)
        {
            rows.extend(stacked);
        } else {
            rows.push(tidy(&flatten(&items)));
        }
    }
    Ok(rows)
}

/// The lines of display math split at `\\` outside braces.
fn split_rows(src: &str) -> Vec<&str> {
    let bytes = src.as_bytes();
    let mut rows = Vec::new();
    let (mut depth, mut start, mut i) = (0usize, 0, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'{' => depth += 1,
            b'}' => depth = depth.saturating_sub(1),
            b'\\' if bytes.get(i + 1) == Some(&b'\\') && depth == 0 => {
                rows.push(&src[start..i]);
                i += 2;
                start = i;
                continue;
            }
            b'\\' => i += 1,
            _ => {}
        }
        i += 1;
    }
    rows.push(&src[start.min(src.len())..]);
    rows.retain(|r| !r.trim().is_empty());
    if rows.is_empty() {
        rows.push("");
    }
    rows
}

/// Spaces collapsed and trimmed: TeX ignores them in math, and a source
/// spread over lines reads better in one.
fn tidy(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Items as one line: fractions `a⁄b`, limits as scripts.
fn flatten(items: &[Item]) -> String {
    let mut out = String::new();
    for item in items {
        match item {
            Item::Text(t) => out.push_str(t),
            Item::Frac(num, den) => {
                out.push_str(&wrap_compound(num));
                out.push('⁄');
                out.push_str(&wrap_compound(den));
            }
            Item::Op(op, lower, upper) => {
                out.push_str(op);
                if let Some(l) = lower {
                    out.push_str(&script(l, false));
                }
                if let Some(u) = upper {
                    out.push_str(&script(u, true));
                }
            }
        }
    }
    out
}

/// Display rows: up to three (above, the line, below), blank rows dropped.
fn stack(items: &[Item]) -> Vec<String> {
    use crate::sanitize::display_width;
    let (mut top, mut mid, mut bot) = (String::new(), String::new(), String::new());
    let pad = |s: &mut String, w: usize| {
        let have = display_width(s);
        s.push_str(&" ".repeat(w.saturating_sub(have)));
    };
    let centre = |s: &str, w: usize| {
        let left = (w.saturating_sub(display_width(s))) / 2;
        format!("{}{s}", " ".repeat(left))
    };
    for item in items {
        let (a, m, b) = match item {
            Item::Text(t) => (String::new(), t.clone(), String::new()),
            Item::Frac(num, den) => {
                let (num, den) = (tidy(num), tidy(den));
                let w = display_width(&num).max(display_width(&den));
                (centre(&num, w), "─".repeat(w), centre(&den, w))
            }
            Item::Op(op, lower, upper) => {
                let lower = lower.as_deref().map(tidy).unwrap_or_default();
                let upper = upper.as_deref().map(tidy).unwrap_or_default();
                let w = display_width(op)
                    .max(display_width(&lower))
                    .max(display_width(&upper));
                (centre(&upper, w), centre(op, w), centre(&lower, w))
            }
        };
        let start = display_width(&mid)
            .max(display_width(&top))
            .max(display_width(&bot));
        for row in [&mut top, &mut mid, &mut bot] {
            pad(row, start);
        }
        top.push_str(&a);
        mid.push_str(&m);
        bot.push_str(&b);
    }
    [top, mid, bot]
        .into_iter()
        .map(|r| r.trim_end().to_owned())
        .filter(|r| !r.trim().is_empty())
        .collect()
}

/// A fraction's part in `a⁄b`: in parentheses unless it is one word or
/// number.
fn wrap_compound(s: &str) -> String {
    let s = tidy(s);
    if s.chars().count() <= 1 || s.chars().all(char::is_alphanumeric) {
        s
    } else {
        format!("({s})")
    }
}

/// `s` raised (or lowered) with Unicode's super- and subscript characters,
/// or `^(s)` / `_(s)` when one of its characters has none.
fn script(s: &str, up: bool) -> String {
    let s = tidy(s);
    let map = if up { superscript } else { subscript };
    if let Some(converted) = s.chars().map(map).collect::<Option<String>>() {
        return converted;
    }
    let mark = if up { '^' } else { '_' };
    if s.chars().count() == 1 {
        format!("{mark}{s}")
    } else {
        format!("{mark}({s})")
    }
}

fn superscript(c: char) -> Option<char> {
    Some(match c {
        '0' => '⁰',
        '1' => '¹',
        '2' => '²',
        '3' => '³',
        '4'..='9' => char::from_u32(0x2070 + (c as u32 - '0' as u32))?,
        '+' => '⁺',
        '-' | '−' => '⁻',
        '=' => '⁼',
        '(' => '⁽',
        ')' => '⁾',
        '′' => '′',
        '°' => '°',
        '*' | '∗' => '*',
        'a' => 'ᵃ',
        'b' => 'ᵇ',
        'c' => 'ᶜ',
        'd' => 'ᵈ',
        'e' => 'ᵉ',
        'f' => 'ᶠ',
        'g' => 'ᵍ',
        'h' => 'ʰ',
        'i' => 'ⁱ',
        'j' => 'ʲ',
        'k' => 'ᵏ',
        'l' => 'ˡ',
        'm' => 'ᵐ',
        'n' => 'ⁿ',
        'o' => 'ᵒ',
        'p' => 'ᵖ',
        'r' => 'ʳ',
        's' => 'ˢ',
        't' => 'ᵗ',
        'u' => 'ᵘ',
        'v' => 'ᵛ',
        'w' => 'ʷ',
        'x' => 'ˣ',
        'y' => 'ʸ',
        'z' => 'ᶻ',
        'A' => 'ᴬ',
        'B' => 'ᴮ',
        'D' => 'ᴰ',
        'E' => 'ᴱ',
        'G' => 'ᴳ',
        'H' => 'ᴴ',
        'I' => 'ᴵ',
        'J' => 'ᴶ',
        'K' => 'ᴷ',
        'L' => 'ᴸ',
        'M' => 'ᴹ',
        'N' => 'ᴺ',
        'O' => 'ᴼ',
        'P' => 'ᴾ',
        'R' => 'ᴿ',
        'T' => 'ᵀ',
        'U' => 'ᵁ',
        'V' => 'ⱽ',
        'W' => 'ᵂ',
        'α' => 'ᵅ',
        'β' => 'ᵝ',
        'γ' => 'ᵞ',
        'δ' => 'ᵟ',
        'ε' => 'ᵋ',
        'θ' => 'ᶿ',
        'φ' => 'ᵠ',
        'χ' => 'ᵡ',
        _ => return None,
    })
}

fn subscript(c: char) -> Option<char> {
    Some(match c {
        '0'..='9' => char::from_u32(0x2080 + (c as u32 - '0' as u32))?,
        '+' => '₊',
        '-' | '−' => '₋',
        '=' => '₌',
        '(' => '₍',
        ')' => '₎',
        'a' => 'ₐ',
        'e' => 'ₑ',
        'h' => 'ₕ',
        'i' => 'ᵢ',
        'j' => 'ⱼ',
        'k' => 'ₖ',
        'l' => 'ₗ',
        'm' => 'ₘ',
        'n' => 'ₙ',
        'o' => 'ₒ',
        'p' => 'ₚ',
        'r' => 'ᵣ',
        's' => 'ₛ',
        't' => 'ₜ',
        'u' => 'ᵤ',
        'v' => 'ᵥ',
        'x' => 'ₓ',
        'β' => 'ᵦ',
        'γ' => 'ᵧ',
        'ρ' => 'ᵨ',
        'φ' => 'ᵩ',
        'χ' => 'ᵪ',
        _ => return None,
    })
}

/// A command that stands for one symbol.
#[allow(clippy::too_many_lines)] // a table
fn symbol(name: &str) -> Option<&'static str> {
    Some(match name {
        "alpha" => "α",
        "beta" => "β",
        "gamma" => "γ",
        "delta" => "δ",
        "epsilon" => "ϵ",
        "varepsilon" => "ε",
        "zeta" => "ζ",
        "eta" => "η",
        "theta" => "θ",
        "vartheta" => "ϑ",
        "iota" => "ι",
        "kappa" => "κ",
        "lambda" => "λ",
        "mu" => "μ",
        "nu" => "ν",
        "xi" => "ξ",
        "omicron" => "ο",
        "pi" => "π",
        "varpi" => "ϖ",
        "rho" => "ρ",
        "varrho" => "ϱ",
        "sigma" => "σ",
        "varsigma" => "ς",
        "tau" => "τ",
        "upsilon" => "υ",
        "phi" => "ϕ",
        "varphi" => "φ",
        "chi" => "χ",
        "psi" => "ψ",
        "omega" => "ω",
        "Gamma" => "Γ",
        "Delta" => "Δ",
        "Theta" => "Θ",
        "Lambda" => "Λ",
        "Xi" => "Ξ",
        "Pi" => "Π",
        "Sigma" => "Σ",
        "Upsilon" => "Υ",
        "Phi" => "Φ",
        "Psi" => "Ψ",
        "Omega" => "Ω",
        "times" => "×",
        "cdot" => "⋅",
        "pm" => "±",
        "mp" => "∓",
        "div" => "÷",
        "ast" => "∗",
        "star" => "⋆",
        "circ" => "∘",
        "bullet" => "•",
        "oplus" => "⊕",
        "ominus" => "⊖",
        "otimes" => "⊗",
        "odot" => "⊙",
        "le" | "leq" => "≤",
        "ge" | "geq" => "≥",
        "ne" | "neq" => "≠",
        "ll" => "≪",
        "gg" => "≫",
        "approx" => "≈",
        "equiv" => "≡",
        "cong" => "≅",
        "sim" => "∼",
        "simeq" => "≃",
        "propto" => "∝",
        "in" => "∈",
        "notin" => "∉",
        "ni" => "∋",
        "subset" => "⊂",
        "subseteq" => "⊆",
        "supset" => "⊃",
        "supseteq" => "⊇",
        "cup" => "∪",
        "cap" => "∩",
        "setminus" => "∖",
        "emptyset" | "varnothing" => "∅",
        "forall" => "∀",
        "exists" => "∃",
        "nexists" => "∄",
        "neg" | "lnot" => "¬",
        "land" | "wedge" => "∧",
        "lor" | "vee" => "∨",
        "to" | "rightarrow" => "→",
        "gets" | "leftarrow" => "←",
        "leftrightarrow" => "↔",
        "Rightarrow" => "⇒",
        "Leftarrow" => "⇐",
        "Leftrightarrow" => "⇔",
        "implies" | "Longrightarrow" => "⟹",
        "impliedby" | "Longleftarrow" => "⟸",
        "iff" | "Longleftrightarrow" => "⟺",
        "longrightarrow" => "⟶",
        "longleftarrow" => "⟵",
        "mapsto" => "↦",
        "uparrow" => "↑",
        "downarrow" => "↓",
        "infty" => "∞",
        "partial" => "∂",
        "nabla" => "∇",
        "hbar" => "ℏ",
        "ell" => "ℓ",
        "Re" => "ℜ",
        "Im" => "ℑ",
        "aleph" => "ℵ",
        "wp" => "℘",
        "prime" => "′",
        "degree" => "°",
        "angle" => "∠",
        "perp" | "bot" => "⊥",
        "parallel" => "∥",
        "mid" => "∣",
        "top" => "⊤",
        "vdash" => "⊢",
        "models" => "⊨",
        "therefore" => "∴",
        "because" => "∵",
        "ldots" | "dots" | "dotsc" | "dotsb" => "…",
        "cdots" => "⋯",
        "vdots" => "⋮",
        "ddots" => "⋱",
        "langle" => "⟨",
        "rangle" => "⟩",
        "lfloor" => "⌊",
        "rfloor" => "⌋",
        "lceil" => "⌈",
        "rceil" => "⌉",
        "vert" | "lvert" | "rvert" => "|",
        "Vert" | "lVert" | "rVert" | "|" => "‖",
        "{" | "lbrace" => "{",
        "}" | "rbrace" => "}",
        "%" => "%",
        "$" => "$",
        "&" => "&",
        "#" => "#",
        "_" => "_",
        "," | ":" | ";" | " " | "enspace" => " ",
        "!" => "",
        "quad" => "  ",
        "qquad" => "    ",
        "sin" | "cos" | "tan" | "cot" | "sec" | "csc" | "sinh" | "cosh" | "tanh" | "arcsin"
        | "arccos" | "arctan" | "log" | "ln" | "lg" | "exp" | "det" | "gcd" | "deg" | "dim"
        | "ker" | "arg" | "hom" | "Pr" => return function(name),
        "bmod" | "mod" => " mod ",
        _ => return None,
    })
}

/// A function name shown upright, as TeX does.
fn function(name: &str) -> Option<&'static str> {
    const NAMES: [&str; 24] = [
        "sin", "cos", "tan", "cot", "sec", "csc", "sinh", "cosh", "tanh", "arcsin", "arccos",
        "arctan", "log", "ln", "lg", "exp", "det", "gcd", "deg", "dim", "ker", "arg", "hom", "Pr",
    ];
    NAMES.iter().find(|n| **n == name).copied()
}

/// A big operator, which takes limits.
fn big_operator(name: &str) -> Option<&'static str> {
    Some(match name {
        "sum" => "∑",
        "prod" => "∏",
        "coprod" => "∐",
        "int" => "∫",
        "iint" => "∬",
        "iiint" => "∭",
        "oint" => "∮",
        "bigcup" => "⋃",
        "bigcap" => "⋂",
        "bigoplus" => "⨁",
        "bigotimes" => "⨂",
        "lim" => "lim",
        "liminf" => "lim inf",
        "limsup" => "lim sup",
        "max" => "max",
        "min" => "min",
        "sup" => "sup",
        "inf" => "inf",
        "argmax" => "argmax",
        "argmin" => "argmin",
        _ => return None,
    })
}

/// A letter in double-struck type (`\mathbb{R}` → ℝ).
fn double_struck(c: char) -> Option<char> {
    Some(match c {
        'C' => 'ℂ',
        'H' => 'ℍ',
        'N' => 'ℕ',
        'P' => 'ℙ',
        'Q' => 'ℚ',
        'R' => 'ℝ',
        'Z' => 'ℤ',
        'A'..='Z' => char::from_u32(0x1D538 + (c as u32 - 'A' as u32))?,
        'a'..='z' => char::from_u32(0x1D552 + (c as u32 - 'a' as u32))?,
        '0'..='9' => char::from_u32(0x1D7D8 + (c as u32 - '0' as u32))?,
        _ => return None,
    })
}

/// An accent over one letter, as a combining mark.
fn accent(name: &str) -> Option<char> {
    Some(match name {
        "hat" | "widehat" => '\u{0302}',
        "bar" | "overline" => '\u{0304}',
        "tilde" | "widetilde" => '\u{0303}',
        "dot" => '\u{0307}',
        "ddot" => '\u{0308}',
        "vec" | "overrightarrow" => '\u{20D7}',
        _ => return None,
    })
}

struct Parser<'s> {
    src: &'s str,
    pos: usize,
    depth: usize,
}

impl<'s> Parser<'s> {
    fn parse(src: &'s str) -> Result<Vec<Item>> {
        if src.len() > MAX_SOURCE {
            return Err(Unconvertible);
        }
        let mut p = Parser {
            src,
            pos: 0,
            depth: 0,
        };
        let items = p.sequence(false)?;
        if p.pos < p.src.len() {
            return Err(Unconvertible);
        }
        Ok(items)
    }

    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    /// `\name` after the backslash: letters, or one other character.
    fn command_name(&mut self) -> Result<&'s str> {
        let start = self.pos;
        match self.bump() {
            Some(c) if c.is_ascii_alphabetic() => {
                while self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
                    self.bump();
                }
                // `\cdot x`: the space after a command name is TeX's.
                Ok(&self.src[start..self.pos])
            }
            Some(_) => Ok(&self.src[start..self.pos]),
            None => Err(Unconvertible),
        }
    }

    /// Items up to the end, or (`group`) to the closing brace.
    fn sequence(&mut self, group: bool) -> Result<Vec<Item>> {
        let mut items: Vec<Item> = Vec::new();
        while let Some(c) = self.peek() {
            match c {
                '}' if group => {
                    self.bump();
                    return Ok(items);
                }
                '}' | '&' | '#' => return Err(Unconvertible),
                '{' => {
                    let inner = self.group_text()?;
                    items.push(Item::Text(inner));
                }
                '^' | '_' => {
                    self.bump();
                    let arg = self.argument()?;
                    let up = c == '^';
                    if let Some(Item::Op(_, lower, upper)) = items.last_mut() {
                        let slot = if up { upper } else { lower };
                        if slot.is_none() {
                            *slot = Some(arg);
                            continue;
                        }
                    }
                    // `x^\prime` and `x'` read alike.
                    let text = if up && (arg == "′" || arg == "°") {
                        arg
                    } else {
                        script(&arg, up)
                    };
                    items.push(Item::Text(text));
                }
                '\\' => {
                    self.bump();
                    let name = self.command_name()?;
                    self.command(name, &mut items)?;
                }
                '~' => {
                    self.bump();
                    items.push(Item::Text(" ".into()));
                }
                '\'' => {
                    self.bump();
                    items.push(Item::Text("′".into()));
                }
                '-' => {
                    self.bump();
                    items.push(Item::Text("−".into()));
                }
                '*' => {
                    self.bump();
                    items.push(Item::Text("∗".into()));
                }
                // TeX ignores spaces in math; one is kept where the source
                // had any, for reading.
                c if c.is_whitespace() => {
                    self.skip_spaces();
                    if !matches!(items.last(), Some(Item::Text(t)) if t.ends_with(' ')) {
                        items.push(Item::Text(" ".into()));
                    }
                }
                _ => {
                    self.bump();
                    items.push(Item::Text(c.to_string()));
                }
            }
        }
        if group {
            return Err(Unconvertible);
        }
        Ok(items)
    }

    /// A `{…}` group (the `{` next) as one line.
    fn group_text(&mut self) -> Result<String> {
        self.bump();
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Unconvertible);
        }
        let items = self.sequence(true)?;
        self.depth -= 1;
        Ok(flatten(&items))
    }

    /// A command's or a script's argument: a group, a command, or one
    /// character.
    fn argument(&mut self) -> Result<String> {
        self.skip_spaces();
        match self.peek() {
            Some('{') => self.group_text(),
            Some('\\') => {
                self.bump();
                let name = self.command_name()?;
                let mut items = Vec::new();
                self.command(name, &mut items)?;
                Ok(flatten(&items))
            }
            Some(c) if c != '}' && c != '^' && c != '_' => {
                self.bump();
                Ok(if c == '-' {
                    "−".into()
                } else {
                    c.to_string()
                })
            }
            _ => Err(Unconvertible),
        }
    }

    /// A `{…}` argument taken as it is written (`\text{…}`).
    fn literal_argument(&mut self) -> Result<String> {
        self.skip_spaces();
        if self.peek() != Some('{') {
            return self.argument();
        }
        self.bump();
        let start = self.pos;
        let mut depth = 1usize;
        while let Some(c) = self.bump() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(self.src[start..self.pos - 1].to_owned());
                    }
                }
                _ => {}
            }
        }
        Err(Unconvertible)
    }

    #[allow(clippy::too_many_lines)] // one arm per command, read as a table
    fn command(&mut self, name: &str, items: &mut Vec<Item>) -> Result<()> {
        if let Some(op) = big_operator(name) {
            items.push(Item::Op(op.to_owned(), None, None));
            // `\limits` and `\nolimits` change nothing here.
            let rest = &self.src[self.pos..];
            for word in ["\\limits", "\\nolimits"] {
                if rest.starts_with(word) {
                    self.pos += word.len();
                }
            }
            return Ok(());
        }
        if let Some(s) = symbol(name) {
            items.push(Item::Text(s.to_owned()));
            return Ok(());
        }
        if let Some(mark) = accent(name) {
            let arg = self.argument()?;
            let mut chars = arg.chars();
            let text = match (chars.next(), chars.next()) {
                (Some(c), None) => format!("{c}{mark}"),
                _ => arg.chars().flat_map(|c| [c, mark]).collect(),
            };
            items.push(Item::Text(text));
            return Ok(());
        }
        match name {
            "frac" | "dfrac" | "tfrac" | "cfrac" => {
                let num = self.argument()?;
                let den = self.argument()?;
                items.push(Item::Frac(num, den));
            }
            "binom" | "dbinom" | "tbinom" => {
                let n = self.argument()?;
                let k = self.argument()?;
                items.push(Item::Text(format!("C({}, {})", tidy(&n), tidy(&k))));
            }
            "sqrt" => {
                self.skip_spaces();
                let root = if self.peek() == Some('[') {
                    self.bump();
                    let end = self.src[self.pos..].find(']').ok_or(Unconvertible)?;
                    let index = self.src[self.pos..self.pos + end].trim().to_owned();
                    self.pos += end + 1;
                    match index.as_str() {
                        "3" => "∛".to_owned(),
                        "4" => "∜".to_owned(),
                        _ => format!("{}√", script(&index, true)),
                    }
                } else {
                    "√".to_owned()
                };
                let arg = tidy(&self.argument()?);
                let arg = if arg.chars().count() <= 1 || arg.chars().all(char::is_alphanumeric) {
                    arg
                } else {
                    format!("({arg})")
                };
                items.push(Item::Text(format!("{root}{arg}")));
            }
            "text" | "textrm" | "textit" | "textbf" | "textsf" | "texttt" | "mbox" | "mathrm"
            | "operatorname" => {
                let text = self.literal_argument()?;
                // Only plain words: a command inside is converted like the rest.
                let text = if text.contains('\\') || text.contains('$') {
                    let mut inner = Parser {
                        src: &text,
                        pos: 0,
                        depth: self.depth + 1,
                    };
                    if inner.depth > MAX_DEPTH {
                        return Err(Unconvertible);
                    }
                    flatten(&inner.sequence(false)?)
                } else {
                    text
                };
                items.push(Item::Text(text));
            }
            "mathit" | "mathbf" | "mathsf" | "mathtt" | "mathcal" | "mathscr" | "mathfrak"
            | "boldsymbol" | "bm" | "mathnormal" => {
                let arg = self.argument()?;
                items.push(Item::Text(arg));
            }
            "mathbb" => {
                let arg = self.argument()?;
                let text = arg
                    .chars()
                    .map(|c| double_struck(c).or(c.is_whitespace().then_some(c)))
                    .collect::<Option<String>>()
                    .ok_or(Unconvertible)?;
                items.push(Item::Text(text));
            }
            "pmod" => {
                let arg = self.argument()?;
                items.push(Item::Text(format!(" (mod {})", tidy(&arg))));
            }
            // Sizing only: the delimiter that follows is kept.
            "left" | "right" | "big" | "Big" | "bigg" | "Bigg" | "bigl" | "bigr" | "Bigl"
            | "Bigr" | "biggl" | "biggr" | "Biggl" | "Biggr" | "middle" => {
                self.skip_spaces();
                if self.peek() == Some('.') {
                    self.bump();
                }
            }
            "displaystyle" | "textstyle" | "scriptstyle" | "limits" | "nolimits" => {}
            _ => return Err(Unconvertible),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_scripts_and_fractions_inline() {
        assert_eq!(inline(r"\alpha + \beta \le \pi").unwrap(), "α + β ≤ π");
        assert_eq!(inline("x^2 + y_1").unwrap(), "x² + y₁");
        assert_eq!(inline(r"e^{i\pi} = -1").unwrap(), "e^(iπ) = −1");
        assert_eq!(inline(r"\frac{1}{2}").unwrap(), "1⁄2");
        assert_eq!(inline(r"\frac{a+b}{c}").unwrap(), "(a+b)⁄c");
        assert_eq!(inline(r"\sum_{i=1}^n i").unwrap(), "∑ᵢ₌₁ⁿ i");
        assert_eq!(inline(r"\sqrt{x^2+1}").unwrap(), "√(x²+1)");
        assert_eq!(inline(r"x \in \mathbb{R}").unwrap(), "x ∈ ℝ");
        assert_eq!(inline(r"\text{if } x > 0").unwrap(), "if x > 0");
        assert_eq!(inline(r"x_{q}").unwrap(), "x_q");
    }

    #[test]
    fn what_is_not_understood_is_refused_whole() {
        assert_eq!(inline(r"\unknown{x}"), Err(Unconvertible));
        assert_eq!(
            inline(r"\begin{matrix} a & b \end{matrix}"),
            Err(Unconvertible)
        );
        assert_eq!(inline("{x"), Err(Unconvertible));
        assert_eq!(inline("x}"), Err(Unconvertible));
        assert_eq!(inline(&"{".repeat(100_000)), Err(Unconvertible));
        let deep = format!(
            "{}x{}",
            "{".repeat(MAX_DEPTH + 1),
            "}".repeat(MAX_DEPTH + 1)
        );
        assert_eq!(inline(&deep), Err(Unconvertible));
    }

    #[test]
    fn display_math_stacks_fractions_and_limits() {
        let rows = display(r"\sum_{i=1}^{n} i = \frac{n(n+1)}{2}", 80).unwrap();
        assert_eq!(rows, [" n      n(n+1)", " ∑  i = ──────", "i=1       2"]);
        assert!(rows.len() >= 3, "{rows:?}");
        // Too narrow for the stack: one line.
        let narrow = display(r"\frac{aaaaaaaa}{b} + \frac{c}{d}", 10).unwrap();
        assert_eq!(narrow, vec!["aaaaaaaa⁄b + c⁄d".to_owned()]);
    }
}
