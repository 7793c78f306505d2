//! Every relative link of the README, ARCHITECTURE.md and `docs/` resolves: the file exists
//! and, for `file.md#anchor`, the file has a heading with that anchor (GitHub's rule: lower
//! case, punctuation dropped, spaces as `-`). Links to other sites are not followed (no
//! network in tests).

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_path_buf()
}

/// The anchor GitHub gives a heading.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The lines of a Markdown text outside its fenced code blocks.
fn prose(text: &str) -> impl Iterator<Item = &str> {
    let mut in_code = false;
    text.lines().filter(move |line| {
        if line.starts_with("```") {
            in_code = !in_code;
            return false;
        }
        !in_code
    })
}

fn anchors(text: &str) -> Vec<String> {
    prose(text)
        .filter(|line| line.starts_with('#'))
        .map(|line| slug(line.trim_start_matches('#')))
        .collect()
}

/// `(target)` of every `[text](target)` outside code blocks.
fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in prose(text) {
        for (at, _) in line.match_indices("](") {
            let rest = &line[at + 2..];
            if let Some(end) = rest.find(')') {
                out.push(rest[..end].to_string());
            }
        }
    }
    out
}

fn documents() -> Vec<PathBuf> {
    let mut files = vec![root().join("README.md"), root().join("ARCHITECTURE.md")];
    for entry in std::fs::read_dir(root().join("docs")).expect("docs/") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    files
}

fn broken_links(file: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(file).expect("read");
    let mut broken = Vec::new();
    for target in links(&text) {
        if target.starts_with("http://") || target.starts_with("https://") {
            continue;
        }
        let (path, anchor) = match target.split_once('#') {
            Some((p, a)) => (p, Some(a)),
            None => (target.as_str(), None),
        };
        let linked = match path {
            "" => file.to_path_buf(),
            p => file.parent().expect("dir").join(p),
        };
        if !linked.exists() {
            broken.push(format!("{}: {target} (no such file)", file.display()));
            continue;
        }
        if let Some(anchor) = anchor {
            let text = std::fs::read_to_string(&linked).unwrap_or_default();
            if !anchors(&text).iter().any(|a| a == anchor) {
                broken.push(format!("{}: {target} (no such heading)", file.display()));
            }
        }
    }
    broken
}

#[test]
fn every_relative_link_resolves() {
    let files = documents();
    assert!(files.len() >= 8, "{files:?}");
    let broken: Vec<String> = files.iter().flat_map(|f| broken_links(f)).collect();
    assert!(broken.is_empty(), "{broken:#?}");
}

#[test]
fn the_link_check_can_fail() {
    assert_eq!(slug("How do I…"), "how-do-i");
    assert_eq!(
        slug("OpenInference (Arize Phoenix)"),
        "openinference-arize-phoenix"
    );
    let dir = std::env::temp_dir().join(format!("agent-trace-links-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("a.md");
    std::fs::write(&file, "# A\n\n[ok](#a) [no](#b) [gone](b.md)\n").expect("write");
    let broken = broken_links(&file);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(broken.len(), 2, "{broken:?}");
}

/// The README is a front page: at most about 300 lines.
#[test]
fn the_readme_is_a_front_page() {
    let lines = std::fs::read_to_string(root().join("README.md"))
        .expect("README")
        .lines()
        .count();
    assert!(lines <= 300, "README.md has {lines} lines");
}
