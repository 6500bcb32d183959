//! Writes a post with N photo-sized JPEGs (2000×1500) beside it, for
//! measuring pictures (issue 16): `photos DIR [N] [--none]`. With
//! `--none` the post is the same text without pictures.

use std::fmt::Write as _;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first().map(std::path::PathBuf::from) else {
        eprintln!("usage: photos DIR [N] [--none]");
        std::process::exit(2);
    };
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10);
    let none = args.iter().any(|a| a == "--none");
    std::fs::create_dir_all(dir.join("img")).unwrap();
    let mut post = String::from("---\ntitle: Photos\n---\n\nFirst text of the post.\n\n");
    for i in 0..n {
        if !none {
            let img = image::RgbImage::from_fn(2000, 1500, |x, y| {
                image::Rgb([(x / 8) as u8, (y / 6) as u8, (i * 25) as u8])
            });
            img.save(dir.join(format!("img/{i}.jpg"))).unwrap();
            let _ = write!(post, "![photo {i}](img/{i}.jpg)\n\n");
        }
        let _ = write!(post, "Paragraph {i} about the photo.\n\n");
    }
    std::fs::write(dir.join("index.md"), post).unwrap();
}
