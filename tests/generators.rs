//! Static site generators' syntax in post bodies: each construct as the
//! reader shows it (insta snapshots of the laid-out text), and no word of a
//! post lost on the way.

use folio::document::Document;
use folio::markdown::render;
use folio::theme::Theme;

fn plain(doc: &Document) -> String {
    doc.lines
        .iter()
        .map(|l| {
            l.spans
                .iter()
                .map(|s| s.content.as_ref())
                .collect::<String>()
                .trim_end()
                .to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn shown(src: &str) -> String {
    plain(&render(src, 60, &Theme::default()))
}

const CONSTRUCTS: [(&str, &str); 16] = [
    (
        "liquid-highlight",
        "Before.\n{% highlight ruby linenos %}\ndef hi\n  puts \"hi\"\nend\n{% endhighlight %}\nAfter.\n",
    ),
    (
        "hugo-highlight",
        "Go:\n\n{{< highlight go \"linenos=table\" >}}\nfunc main() {\n\tfmt.Println(\"hi\")\n}\n{{< /highlight >}}\n",
    ),
    (
        "hugo-figure",
        "Text above.\n{{< figure src=\"/img/cat.png\" alt=\"A cat\" caption=\"The cat, asleep\" >}}\nText below.\n",
    ),
    (
        "embeds",
        "Watch {{< youtube dQw4w9WgXcQ >}} and {{< vimeo 146022717 >}}.\n\n{% gist parkr/931c1c8d465a04042403 %}\n\n{{< tweet user=\"SanDiegoZoo\" id=\"1453110110599868418\" >}}\n\n{{ youtube(id=\"abc123\") }}\n",
    ),
    (
        "hugo-notice",
        "{{% notice tip \"Keep it short\" %}}\nA **tip** with words.\n{{% /notice %}}\n\nAfter.\n",
    ),
    (
        "hugo-admonition-angle",
        "{{< alert warning >}}\nCareful here.\n{{< /alert >}}\n",
    ),
    (
        "zola-note",
        "{% note() %}\nA note in Zola.\n{% end %}\n\n{% warning(title=\"Mind\") %}\nIt bites.\n{% end %}\n",
    ),
    (
        "liquid-raw",
        "{% raw %}\nUse {{ page.title }} in a layout.\n{% endraw %}\n\nInline: {% raw %}{{ site.url }}{% endraw %}.\n\n```liquid\n{% raw %}{% if x %}{% endraw %}\n```\n",
    ),
    (
        "other-tags",
        "A line\n{% include toc.html %}\nnext line {{ site.title }} inline.\n\n{% assign x = 1 %}\n",
    ),
    (
        "heading-tail",
        "### Detecting nil values {%- include badge.html version=\"4.0\" -%}\n\n## Sets {a, b}\n\n## Well formed {#custom .x}\n\n[to it](#custom)\n",
    ),
    (
        "mdx",
        "import Chart from '../components/Chart.astro';\nimport { Tabs, Tab } from 'ui';\nexport const meta = {\n  title: 'x',\n};\n\n# Using MDX\n\n<Tabs>\n<Tab label=\"one\">Words in a tab</Tab>\n</Tabs>\n\nText with <Chart /> inline.\n",
    ),
    (
        "inline-html",
        "Press <kbd>Ctrl</kbd>+<kbd>C</kbd>. H<sub>2</sub>O and x<sup>2</sup>, <mark>marked</mark>, <abbr title=\"HyperText\">HTML</abbr>.<br>Next line.\n\n<!-- a comment -->\n\n| a | b |\n|---|---|\n| one<br>two | <b>bold</b> |\n",
    ),
    (
        "html-block",
        "<details>\n<summary>Click to open</summary>\n\nHidden **words**.\n\n</details>\n\n<p align=\"center\">\n  <img src=\"logo.png\" alt=\"Logo\">\n</p>\n\n<video src=\"a.mp4\"></video>\n",
    ),
    (
        "emoji",
        "Shipped :tada: and :+1:, at 10:30:45, not :nope_nope:.\n",
    ),
    (
        "unclosed",
        "{{% notice note %}}\nNever closed.\n\n{% highlight js %}\nlet x;\n",
    ),
    (
        "tags-in-code",
        "`{{< figure src=\"x\" >}}` stays code.\n\n```\n{% highlight ruby %}\n{{ x }}\n```\n",
    ),
];

#[test]
fn each_construct() {
    for (name, src) in CONSTRUCTS {
        insta::assert_snapshot!(name, shown(src), src);
    }
}

/// The words of `s`: runs of letters and digits.
fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_word_reaches_the_screen() {
    // Tags folio does not know, in every place they turn up: none of their
    // words, nor the text around them, is lost.
    let src = "Intro {% include note.html content=\"Inside words\" %} tail.\n\
               {{ page.date | date: \"%b\" }}\n\
               {{< unknown arg=\"val\" >}}\n\
               {{% mystery %}}body text{{% /mystery %}}\n\
               - item {% if x %}shown{% endif %}\n\
               > quote {{ y }}\n\
               # Heading {{ z }}\n\
               | t {% t %} | u |\n|---|---|\n| v | {{ w }} |\n";
    let out = shown(src);
    let out_words = words(&out);
    for w in words(src) {
        assert!(out_words.contains(&w), "{w:?} is missing from:\n{out}");
    }
}

#[test]
fn a_lone_tag_stays_on_its_own_line() {
    let out = shown("First line\n{% include toc.html %}\nlast line\n");
    let lines: Vec<&str> = out.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines, ["First line", "{% include toc.html %}", "last line"]);
}

#[test]
fn a_well_formed_heading_id_is_an_anchor() {
    let doc = render("## Well formed {#custom .x}\n", 60, &Theme::default());
    assert_eq!(doc.headings[0].anchor, "custom");
    assert_eq!(doc.headings[0].text, "Well formed");
    let doc = render(
        "### Nil {%- include badge.html version=\"4.0\" -%}\n",
        60,
        &Theme::default(),
    );
    assert!(
        doc.headings[0].text.contains("include badge.html"),
        "{:?}",
        doc.headings[0].text
    );
}

#[test]
fn offsets_point_into_the_source() {
    // The reader keeps its place by source offsets: after a rewrite they
    // still name the line's text in the source.
    let src = "{% highlight ruby %}\ncode here\n{% endhighlight %}\n\nA paragraph {{ x }} here.\n\nLast words.\n";
    let doc = render(src, 60, &Theme::default());
    let last = doc
        .lines
        .iter()
        .position(|l| l.spans.iter().any(|s| s.content.contains("Last words")))
        .unwrap();
    assert_eq!(&src[doc.offsets[last]..][..10], "Last words");
}

/// The plain text of `src` laid out with `<details>` folded.
fn folded(src: &str) -> String {
    let opts = folio::markdown::RenderOptions {
        details_open: false,
        ..folio::markdown::RenderOptions::default()
    };
    plain(&folio::markdown::render_with(
        src,
        60,
        &Theme::default(),
        opts,
    ))
}

#[test]
fn details_fold_to_their_summary_and_open_whole() {
    let cases = [
        // Blocks inside, text after.
        "<details>\n<summary>Click to open</summary>\n\nHidden **words**.\n\n- a hidden item\n\n</details>\n\nShown after.\n",
        // All in one HTML block, nested details, text after the close.
        "<details><summary>Click to open</summary>\nHidden <details><summary>inner</summary>deeper</details> words\n</details>\n\nShown after.\n",
        // Inside a list item: the fold ends with the item at the latest.
        "- <details><summary>Click to open</summary>\n\n  Hidden words\n\n  </details>\n- Shown after.\n",
    ];
    for src in cases {
        let shut = folded(src);
        assert!(shut.contains("▸ Click to open"), "{shut}");
        assert!(!shut.contains("Hidden"), "{shut}");
        assert!(shut.contains("Shown after."), "{shut}");
        let open = shown(src);
        assert!(open.contains("▾ Click to open"), "{open}");
        assert!(open.contains("Hidden"), "{open}");
        assert!(open.contains("Shown after."), "{open}");
    }
    // Without a summary there is nothing to fold under: all is shown.
    let bare = folded("<details>\n\nNo summary here.\n\n</details>\n");
    assert!(bare.contains("No summary here."), "{bare}");
}
