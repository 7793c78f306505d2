//! The runtime's layout stays what ARCHITECTURE.md describes, read from the sources so a
//! change that breaks a rule fails here:
//! - at most 8 entries at the top of `src/`, no file over 700 lines, no function over 80;
//! - no import cycle among the top-level modules, nor among the modules of any one folder;
//! - the process-wide state imports nothing else of the crate;
//! - each folder's hub (`mod.rs`, and `lib.rs` for the top) states its layering bottom up,
//!   `Layers, bottom up: a, b < c < d.`, naming each of its modules once; a module imports
//!   only modules of lower layers, never one of its own layer nor a higher one;
//! - `__private` (a module in `lib.rs`) only re-exports, and each item is named by a macro
//!   expansion or, for a trait, by the expansions' diagnostics (the UI tests' expected errors);
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
    let lines: Vec<&str> = text.lines().collect();
    // The test module: `#[cfg(test)]` at the start of a line, then `mod ` or `#[path`.
    let end = (0..lines.len())
        .find(|&i| {
            lines[i].starts_with("#[cfg(test)]")
                && lines
                    .get(i + 1)
                    .is_some_and(|l| l.starts_with("mod ") || l.starts_with("#[path"))
        })
        .unwrap_or(lines.len());
    lines[..end]
        .iter()
        .filter(|l| !l.trim_start().starts_with("//"))
        .map(|l| l.to_string())
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
    // What the crate root re-exports (`crate::carriers`, `crate::TraceGuard`): the name and
    // the path it stands for.
    let lib = code(&src().join("lib.rs")).join("\n");
    let mut aliases = BTreeMap::new();
    for statement in lib.split(';') {
        if let Some(at) = statement.find("pub use ") {
            let mut paths = Vec::new();
            use_tree(
                &statement.as_bytes()[at + 8..],
                &mut 0,
                Vec::new(),
                &mut paths,
            );
            for path in paths {
                if let Some(last) = path.last() {
                    aliases.insert(last.clone(), path.clone());
                }
            }
        }
    }
    // The longest known module that `segments` starts with, after the root's re-exports.
    let resolve = |segments: &[String]| -> Option<Vec<String>> {
        let mut segments = segments.to_vec();
        if let Some(path) = segments.first().and_then(|first| aliases.get(first)) {
            if !modules.contains(&segments[..1]) {
                segments.splice(..1, path.iter().cloned());
            }
        }
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
        for target in references(&code(f).join("\n"), &me, is_hub) {
            if let Some(m) = resolve(&target) {
                if m != me {
                    deps.insert(m);
                }
            }
        }
    }
    edges
}

/// The paths of a use tree at `s[*i..]` under `base`: `a::b`, `a::{b, c::d}`, `{a, b}`, `*`,
/// `a as b`.
fn use_tree(s: &[u8], i: &mut usize, base: Vec<String>, out: &mut Vec<Vec<String>>) {
    let skip_ws = |i: &mut usize| {
        while *i < s.len() && s[*i].is_ascii_whitespace() {
            *i += 1;
        }
    };
    skip_ws(i);
    match s.get(*i) {
        Some(b'{') => {
            *i += 1;
            loop {
                skip_ws(i);
                match s.get(*i) {
                    None => return,
                    Some(b'}') => {
                        *i += 1;
                        return;
                    }
                    Some(b',') => *i += 1,
                    _ => {
                        let before = *i;
                        use_tree(s, i, base.clone(), out);
                        // Past what the item left (`as name`), to its `,` or the `}`.
                        while *i < s.len() && !matches!(s[*i], b',' | b'}') {
                            *i += 1;
                        }
                        if *i == before {
                            *i += 1;
                        }
                    }
                }
            }
        }
        Some(b'*') => {
            *i += 1;
            out.push(base);
        }
        _ => {
            let start = *i;
            while *i < s.len() && (s[*i].is_ascii_alphanumeric() || s[*i] == b'_') {
                *i += 1;
            }
            let mut path = base;
            if *i > start {
                path.push(String::from_utf8_lossy(&s[start..*i]).into_owned());
            }
            if s[*i..].starts_with(b"::") && *i > start {
                *i += 2;
                use_tree(s, i, path, out);
            } else {
                out.push(path);
            }
        }
    }
}

/// The module paths a file's code names: `crate::a::b`, `super::x` (relative to any inline
/// `mod name { .. }` it sits in), `self::x`, and (in a hub) a `use child::..` of one of its
/// own modules; use trees with groups and globs are expanded. String literals are skipped.
fn references(text: &str, file: &[String], is_hub: bool) -> Vec<Vec<String>> {
    let s = text.as_bytes();
    // The module a line is in: the file's, then any inline `mod name { .. }` around it.
    let own = |inline: &[(String, usize)]| -> Vec<String> {
        let mut m = file.to_vec();
        m.extend(inline.iter().map(|(n, _)| n.clone()));
        m
    };
    let word_before = |i: usize| {
        i > 0 && (s[i - 1].is_ascii_alphanumeric() || matches!(s[i - 1], b'_' | b'$' | b':'))
    };
    let mut found = Vec::new();
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < s.len() {
        let rest = &s[i..];
        if rest[0] == b'"' || rest.starts_with(b"r#\"") || rest.starts_with(b"r\"") {
            // A string literal: skip to its end.
            let hashes = if rest[0] == b'r' {
                rest[1..].iter().take_while(|c| **c == b'#').count()
            } else {
                0
            };
            let close: Vec<u8> = std::iter::once(b'"')
                .chain(std::iter::repeat_n(b'#', hashes))
                .collect();
            i += if rest[0] == b'r' { 2 + hashes } else { 1 };
            while i < s.len() && !s[i..].starts_with(&close) {
                i += if s[i] == b'\\' && hashes == 0 { 2 } else { 1 };
            }
            i += close.len();
            continue;
        }
        if rest.starts_with(b"'{'") || rest.starts_with(b"'}'") || rest.starts_with(b"'\"'") {
            i += 3;
            continue;
        }
        match rest[0] {
            b'{' => depth += 1,
            b'}' => {
                depth = depth.saturating_sub(1);
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
            }
            _ => {}
        }
        if rest.starts_with(b"mod ") && !word_before(i) {
            let name: String = text[i + 4..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let after = text[i + 4 + name.len()..].trim_start();
            if after.starts_with('{') {
                inline.push((name, depth));
            }
        }
        let here = own(&inline);
        let mut at = i;
        let base = if rest.starts_with(b"crate::") && !word_before(i) {
            at += "crate::".len();
            Some(Vec::new())
        } else if rest.starts_with(b"self::") && !word_before(i) {
            at += "self::".len();
            Some(here.clone())
        } else if rest.starts_with(b"super::") && !word_before(i) {
            let mut up = 0;
            while s[at..].starts_with(b"super::") {
                up += 1;
                at += "super::".len();
            }
            Some(here[..here.len().saturating_sub(up)].to_vec())
        } else if is_hub
            && inline.is_empty()
            && (rest.starts_with(b"use ") || rest.starts_with(b"pub use "))
            && !word_before(i)
        {
            let t = text[i..]
                .trim_start_matches("pub ")
                .trim_start_matches("use ");
            if t.starts_with("crate") || t.starts_with("super") || t.starts_with("self") {
                None
            } else {
                at = i + (text[i..].len() - t.len());
                Some(file.to_vec())
            }
        } else {
            None
        };
        if let Some(base) = base {
            use_tree(s, &mut at, base, &mut found);
            i = at.max(i + 1);
            continue;
        }
        i += 1;
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

/// The layering a hub states: the text after `Layers, bottom up:` in its comments, up to the
/// first `.`, as groups (`<`-separated) of module names (`,`-separated).
fn stated_layers(hub: &Path) -> Option<Vec<Vec<String>>> {
    let text = std::fs::read_to_string(hub).expect("read");
    let comments: Vec<&str> = text
        .lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with("//"))
        .map(|l| l.trim_start_matches('/').trim_start_matches('!').trim())
        .collect();
    let joined = comments.join(" ");
    let at = joined.find("Layers, bottom up:")?;
    let rest = &joined[at + "Layers, bottom up:".len()..];
    let statement = &rest[..rest.find('.').unwrap_or(rest.len())];
    Some(
        statement
            .split('<')
            .map(|group| {
                group
                    .split(',')
                    .map(|m| m.trim().trim_matches('`').to_string())
                    .filter(|m| !m.is_empty())
                    .collect()
            })
            .collect(),
    )
}

/// The layering problems of `folder` under the graph `g`: names the hub states that are not
/// modules, modules it does not state (or states twice), imports that do not go down.
fn layering_problems(
    folder: &[String],
    layers: &[Vec<String>],
    imports: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<String> {
    let name = if folder.is_empty() {
        "src".to_string()
    } else {
        folder.join("/")
    };
    let mut rank = BTreeMap::new();
    let mut problems = Vec::new();
    for (i, group) in layers.iter().enumerate() {
        for m in group {
            if rank.insert(m.clone(), i).is_some() {
                problems.push(format!("{name}: {m} is stated twice"));
            }
        }
    }
    for m in imports.keys() {
        if !rank.contains_key(m) {
            problems.push(format!("{name}: the layering does not state {m}"));
        }
    }
    for m in rank.keys() {
        if !imports.contains_key(m) {
            problems.push(format!(
                "{name}: the layering states {m}, which is not a module"
            ));
        }
    }
    for (a, deps) in imports {
        for b in deps {
            if let (Some(ra), Some(rb)) = (rank.get(a), rank.get(b)) {
                if ra <= rb {
                    problems.push(format!(
                        "{name}: {a} imports {b}, which the layering puts {}",
                        if ra == rb { "beside it" } else { "above it" }
                    ));
                }
            }
        }
    }
    problems
}

#[test]
fn every_folder_states_its_layering_and_the_imports_follow_it() {
    let g = graph();
    let mut folders: BTreeSet<Vec<String>> = g
        .keys()
        .filter(|m| g.keys().any(|o| o.len() > m.len() && o.starts_with(m)))
        .cloned()
        .collect();
    folders.insert(Vec::new());
    assert!(folders.len() >= 8, "folders found: {folders:?}");
    let mut problems = Vec::new();
    for folder in &folders {
        let hub = match folder.is_empty() {
            true => src().join("lib.rs"),
            false => src().join(folder.join("/")).join("mod.rs"),
        };
        match stated_layers(&hub) {
            Some(layers) => {
                problems.extend(layering_problems(folder, &layers, &within(&g, folder)))
            }
            None => problems.push(format!("{} states no `Layers, bottom up:`", hub.display())),
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn the_layering_check_can_fail() {
    let imports: BTreeMap<String, BTreeSet<String>> = [
        ("a".to_string(), BTreeSet::new()),
        ("b".to_string(), BTreeSet::from(["a".to_string()])),
        ("c".to_string(), BTreeSet::from(["b".to_string()])),
    ]
    .into();
    let layers = |s: &str| -> Vec<Vec<String>> {
        s.split('<')
            .map(|g| g.split(',').map(|m| m.trim().to_string()).collect())
            .collect()
    };
    assert!(layering_problems(&[], &layers("a < b < c"), &imports).is_empty());
    assert!(layering_problems(&[], &layers("a < b, c"), &imports)[0].contains("beside"));
    assert!(layering_problems(&[], &layers("b < a < c"), &imports)[0].contains("above"));
    assert!(layering_problems(&[], &layers("a < b"), &imports)[0].contains("does not state c"));
    assert!(layering_problems(&[], &layers("a < b < c, d"), &imports)[0].contains("not a module"));
}

/// The names a file re-exports with `pub use` (the last segment, or the `as` name), globs
/// left out.
fn re_exported_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for statement in text.split(';') {
        let Some(at) = statement.find("pub use ") else {
            continue;
        };
        let mut paths = Vec::new();
        let bytes = &statement.as_bytes()[at + "pub use ".len()..];
        use_tree(bytes, &mut 0, Vec::new(), &mut paths);
        let tree = &statement[at + "pub use ".len()..];
        for path in paths {
            let last = path.last().cloned().unwrap_or_default();
            // `name as alias`: the alias is the public name.
            let alias = tree.split(&format!("{last} as ")).nth(1).map(|r| {
                r.chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect()
            });
            let name = alias.unwrap_or(last);
            if !name.is_empty() && !tree.trim_end().ends_with('*') {
                names.push(name);
            }
        }
    }
    names
}

/// The `__private` module of `lib.rs`, as written.
fn private_module() -> String {
    let lib = std::fs::read_to_string(src().join("lib.rs")).expect("read");
    let start = lib
        .find("pub mod __private {")
        .expect("the __private module");
    // Its closing brace, at its own indentation.
    let indent = lib[..start].rsplit('\n').next().unwrap_or_default().len();
    let close = format!("\n{}}}\n", " ".repeat(indent));
    let end = start + lib[start..].find(&close).expect("its end");
    lib[start + "pub mod __private {".len()..end].to_string()
}

#[test]
fn private_holds_only_what_the_expansions_call() {
    let names = re_exported_names(&private_module());
    assert!(names.len() > 20, "names read: {names:?}");
    // Where expansions are written: the proc-macro crate, and the runtime's exported
    // `macro_rules!`; and what their diagnostics name: the UI tests' expected errors.
    let workspace = src().join("../..");
    let mut files = Vec::new();
    sources(&workspace.join("agent-trace-macros/src"), &mut files);
    let mut expansions = String::new();
    for f in &files {
        expansions.push_str(&std::fs::read_to_string(f).expect("read"));
    }
    let mut runtime = Vec::new();
    sources(&src(), &mut runtime);
    for f in &runtime {
        let text = std::fs::read_to_string(f).expect("read");
        for (at, _) in text.match_indices("#[macro_export]") {
            let body = &text[at..];
            expansions.push_str(&body[..body.find("\n}\n").unwrap_or(body.len())]);
        }
    }
    let mut diagnostics = String::new();
    let fail = workspace.join("ui-tests/tests/ui/fail");
    for entry in std::fs::read_dir(&fail).expect("ui-tests/tests/ui/fail") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "stderr") {
            diagnostics.push_str(&std::fs::read_to_string(&path).expect("read"));
        }
    }
    let words = |text: &str| -> BTreeSet<String> {
        text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .map(str::to_string)
            .collect()
    };
    let (called, named) = (words(&expansions), words(&diagnostics));
    let unused: Vec<_> = names
        .iter()
        .filter(|n| !called.contains(*n) && !named.contains(*n))
        .collect();
    assert!(
        unused.is_empty(),
        "__private re-exports what no expansion calls: {unused:?}"
    );
    // The check can fail: a name no expansion writes.
    assert!(!called.contains("panic_message"));
}

#[test]
fn private_only_re_exports() {
    let module = private_module();
    let mut in_use = false;
    for line in module.lines().map(str::trim) {
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        if line.starts_with("pub use ") || in_use {
            in_use = !line.ends_with(';');
        } else {
            panic!("__private holds more than re-exports: {line}");
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
