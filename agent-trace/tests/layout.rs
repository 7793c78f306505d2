//! The runtime's layout stays readable: no import cycle among its top-level modules, the
//! process-wide state in a module that depends on no other but a leaf, and no function over
//! 80 lines. Read from the sources, so a change that breaks a rule fails here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without its `#[cfg(test)]` module and without comments.
fn code(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).expect("read");
    text.lines()
        .take_while(|l| !l.starts_with("#[cfg(test)]"))
        .filter(|l| !l.trim_start().starts_with("//"))
        .map(str::to_string)
        .collect()
}

/// Top-level module of a source file (`carriers/http.rs` → `carriers`), `None` for lib.rs.
fn module_of(src: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?.to_string();
    let name = first.trim_end_matches(".rs").to_string();
    (name != "lib").then_some(name)
}

/// `module -> modules it names as crate::x`.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let modules: BTreeSet<String> = files.iter().filter_map(|f| module_of(&src, f)).collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        let Some(m) = module_of(&src, f) else {
            continue;
        };
        let deps = edges.entry(m.clone()).or_default();
        let text = code(f).join("\n");
        // `crate::x` anywhere, and the `x::` items of `use crate::{x::.., y::..}`.
        let mut names: Vec<String> = Vec::new();
        for part in text.split("crate::").skip(1) {
            names.push(
                part.chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect(),
            );
            if let Some(group) = part.strip_prefix('{') {
                let group = &group[..group.find('}').unwrap_or(group.len())];
                for item in group.split(',') {
                    let item = item.trim();
                    if let Some((head, _)) = item.split_once("::") {
                        names.push(head.to_string());
                    } else {
                        names.push(item.to_string());
                    }
                }
            }
        }
        for n in names {
            if modules.contains(&n) && n != m {
                deps.insert(n);
            }
        }
    }
    edges
}

#[test]
fn no_import_cycle_among_the_runtime_modules() {
    let g = graph();
    assert!(g.len() > 20, "the modules were found: {:?}", g.keys());
    // Depth-first search for a back edge, reporting the cycle it closes.
    fn visit(
        m: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == m) {
            let mut cycle = path[at..].to_vec();
            cycle.push(m.to_string());
            return Some(cycle);
        }
        if done.contains(m) {
            return None;
        }
        path.push(m.to_string());
        for d in g.get(m).into_iter().flatten() {
            if let Some(c) = visit(d, g, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(m.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for m in g.keys() {
        if let Some(cycle) = visit(m, &g, &mut Vec::new(), &mut done) {
            panic!("import cycle: {}", cycle.join(" -> "));
        }
    }
}

#[test]
fn process_wide_state_depends_only_on_a_leaf() {
    let g = graph();
    let state = &g["state"];
    assert_eq!(
        state.iter().map(String::as_str).collect::<Vec<_>>(),
        ["instruments"]
    );
    for leaf in ["instruments", "text", "semconv", "outcome", "redact"] {
        let deps = &g[leaf];
        assert!(
            deps.iter()
                .all(|d| ["semconv", "outcome"].contains(&d.as_str())),
            "{leaf} is meant to be a leaf but uses {deps:?}"
        );
    }
}

#[test]
fn no_function_over_80_lines() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut long = Vec::new();
    for f in &files {
        let lines = code(f);
        for (i, line) in lines.iter().enumerate() {
            let t = line.trim_start();
            let indent = line.len() - t.len();
            let is_fn = [
                "fn ",
                "pub fn ",
                "pub(crate) fn ",
                "async fn ",
                "pub async fn ",
            ]
            .iter()
            .any(|p| t.starts_with(p));
            if !is_fn || t.ends_with(';') {
                continue;
            }
            let close = " ".repeat(indent) + "}";
            if let Some(len) = lines[i + 1..].iter().position(|l| *l == close) {
                if len + 2 > 80 {
                    long.push(format!("{}:{} ({} lines)", f.display(), i + 1, len + 2));
                }
            }
        }
    }
    assert!(long.is_empty(), "functions over 80 lines: {long:#?}");
}
