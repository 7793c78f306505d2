//! The runtime's layout stays what ARCHITECTURE.md describes, read from the sources so a
//! change that breaks a rule fails here:
//! - at most 8 entries at the top of `src/`, no file over 700 lines, no function over 80;
//! - no import cycle among the top-level modules, nor among the modules of any one folder;
//! - the process-wide state imports nothing else of the crate;
//! - `__private` (`span/private.rs`) only re-exports what the macro expansions call;
//! - no attribute key is spelled outside the conventions module (`span/semconv.rs`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

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

/// Files that hold only tests (`tests.rs`, `*_tests.rs`).
fn is_test_file(path: &Path) -> bool {
    let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    name == "tests" || name.ends_with("_tests")
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

/// The module path of a source file: `context/carriers/http.rs` → `[context, carriers, http]`,
/// `span/mod.rs` → `[span]`, `lib.rs` → `[]`.
fn module_path(path: &Path) -> Vec<String> {
    let rel = path.strip_prefix(src()).expect("under src");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| {
            c.as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_string()
        })
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// Every module of the crate (test-only files left out) with the modules it names.
fn graph() -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let mut files = Vec::new();
    sources(&src(), &mut files);
    files.retain(|f| !is_test_file(f));
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_path(f)).collect();
    // The longest known module that `segments` starts with.
    let resolve = |segments: &[String]| -> Option<Vec<String>> {
        (1..=segments.len())
            .rev()
            .map(|n| segments[..n].to_vec())
            .find(|p| modules.contains(p))
    };
    let mut edges = BTreeMap::new();
    for f in &files {
        let me = module_path(f);
        let is_hub = f.ends_with("mod.rs") || f.ends_with("lib.rs");
        let deps: &mut BTreeSet<Vec<String>> = edges.entry(me.clone()).or_default();
        for line in code(f) {
            for target in references(&line, &me, is_hub) {
                if let Some(m) = resolve(&target) {
                    if m != me {
                        deps.insert(m);
                    }
                }
            }
        }
    }
    edges
}

/// The absolute paths a line names: `crate::a::b`, `super::x`, `self::x`, and (in a hub) a
/// `use child::..` of one of its own modules; `use crate::{a::.., b}` groups are expanded.
fn references(line: &str, me: &[String], is_hub: bool) -> Vec<Vec<String>> {
    let ident = |s: &str| -> Vec<String> {
        let mut out = Vec::new();
        for seg in s.split("::") {
            let name: String = seg
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if name.is_empty() {
                break;
            }
            out.push(name);
        }
        out
    };
    let mut found = Vec::new();
    for (i, _) in line.match_indices("crate::") {
        if line[..i].ends_with('$') || line[..i].ends_with(|c: char| c.is_alphanumeric()) {
            continue;
        }
        let rest = &line[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            found.extend(group.split(',').map(|item| ident(item.trim())));
        } else {
            found.push(ident(rest));
        }
    }
    let parent = |n: usize| me[..me.len().saturating_sub(n)].to_vec();
    for (i, _) in line.match_indices("super::") {
        if line[..i].ends_with("super::") || line[..i].ends_with(|c: char| c.is_alphanumeric()) {
            continue;
        }
        let mut depth = 1;
        let mut rest = &line[i + "super::".len()..];
        while let Some(r) = rest.strip_prefix("super::") {
            depth += 1;
            rest = r;
        }
        let mut path = parent(depth);
        path.extend(ident(rest));
        found.push(path);
    }
    let own = if is_hub { me.to_vec() } else { parent(1) };
    for (i, _) in line.match_indices("self::") {
        let mut path = own.clone();
        path.extend(ident(&line[i + "self::".len()..]));
        found.push(path);
    }
    if is_hub {
        let t = line.trim_start();
        for prefix in ["use ", "pub use ", "pub(crate) use ", "pub(super) use "] {
            if let Some(rest) = t.strip_prefix(prefix) {
                if !rest.starts_with("crate") && !rest.starts_with("super") {
                    let mut path = me.to_vec();
                    path.extend(ident(rest.trim_start_matches('{')));
                    found.push(path);
                }
            }
        }
    }
    found
}

/// The first cycle among `nodes` under `edges`, if any.
fn cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
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
        if !done.insert(m.to_string()) {
            return None;
        }
        path.push(m.to_string());
        for d in g.get(m).into_iter().flatten() {
            if let Some(c) = visit(d, g, path, done) {
                return Some(c);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|m| visit(m, edges, &mut Vec::new(), &mut done))
}

/// The graph seen from inside `folder` (`[]` for the crate): each module is replaced by the
/// child of `folder` it lies in; the folder's own hub and everything outside are left out.
fn within(
    g: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
    folder: &[String],
) -> BTreeMap<String, BTreeSet<String>> {
    let child = |m: &Vec<String>| -> Option<String> {
        (m.len() > folder.len() && m.starts_with(folder)).then(|| m[folder.len()].clone())
    };
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, deps) in g {
        let Some(a) = child(from) else { continue };
        let entry = out.entry(a.clone()).or_default();
        for d in deps {
            if let Some(b) = child(d) {
                if b != a {
                    entry.insert(b);
                }
            }
        }
    }
    out
}

#[test]
fn no_import_cycle_among_the_top_level_modules() {
    let g = graph();
    let top = within(&g, &[]);
    assert!(top.len() >= 6, "the modules were found: {:?}", top.keys());
    if let Some(c) = cycle(&top) {
        panic!(
            "import cycle among the top-level modules: {}",
            c.join(" -> ")
        );
    }
}

#[test]
fn no_import_cycle_inside_any_folder() {
    let g = graph();
    let folders: BTreeSet<Vec<String>> = g
        .keys()
        .filter(|m| g.keys().any(|o| o.len() > m.len() && o.starts_with(m)))
        .cloned()
        .collect();
    assert!(folders.len() >= 6, "folders found: {folders:?}");
    for folder in &folders {
        if let Some(c) = cycle(&within(&g, folder)) {
            panic!(
                "import cycle inside {}/: {}",
                folder.join("/"),
                c.join(" -> ")
            );
        }
    }
}

#[test]
fn process_wide_state_imports_nothing_of_the_crate() {
    let g = graph();
    let state = &g[&vec!["state".to_string()]];
    assert!(state.is_empty(), "state.rs imports {state:?}");
}

#[test]
fn at_most_eight_entries_at_the_top_and_no_file_over_700_lines() {
    let entries: Vec<_> = std::fs::read_dir(src())
        .expect("read src")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert!(
        entries.len() <= 8,
        "src/ has {} entries: {entries:?}",
        entries.len()
    );
    let mut files = Vec::new();
    sources(&src(), &mut files);
    for f in &files {
        let n = std::fs::read_to_string(f).expect("read").lines().count();
        assert!(n <= 700, "{} has {n} lines", f.display());
    }
}

#[test]
fn private_only_re_exports() {
    let text = std::fs::read_to_string(src().join("span/private.rs")).expect("read");
    let mut in_use = false;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        if line.starts_with("pub use ") || in_use {
            in_use = !line.ends_with(';');
        } else {
            panic!("span/private.rs holds more than re-exports: {line}");
        }
    }
}

/// `"a.b"`, `"gen_ai.tool.name"`: a dotted lowercase identifier in quotes, the shape of an
/// attribute key.
fn key_literals(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for (i, part) in line.split('"').enumerate() {
        let dotted = part.contains('.')
            && part.starts_with(|c: char| c.is_ascii_lowercase())
            && !part.ends_with('.')
            && part
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.');
        if i % 2 == 1 && dotted {
            out.push(part);
        }
    }
    out
}

#[test]
fn no_attribute_key_outside_the_conventions_module() {
    let mut files = Vec::new();
    sources(&src(), &mut files);
    files.retain(|f| !is_test_file(f) && !f.ends_with("span/semconv.rs"));
    let mut found = Vec::new();
    for f in &files {
        for (n, line) in code(f).iter().enumerate() {
            for key in key_literals(line) {
                found.push(format!("{}:{}: \"{key}\"", f.display(), n + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "attribute keys spelled outside semconv.rs: {found:#?}"
    );
    // The check itself can fail.
    assert_eq!(
        key_literals(r#"KeyValue::new("gen_ai.tool.name", x)"#),
        ["gen_ai.tool.name"]
    );
}

#[test]
fn no_function_over_80_lines() {
    let mut files = Vec::new();
    sources(&src(), &mut files);
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
                "pub(super) fn ",
                "async fn ",
                "pub async fn ",
            ]
            .iter()
            .any(|p| t.starts_with(p));
            if !is_fn || t.ends_with(';') || t.ends_with('}') {
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
