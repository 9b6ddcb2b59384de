//! The crate's import graph against docs/architecture.md: every `crate::` path in `src/` is an
//! arrow from its file's top-level module, allowed only to a module of a lower rank (the
//! foundation modules may import each other), and the module graph has no loop. The ranks are
//! read from the architecture page itself, so the page and the code cannot drift apart.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is a failure report

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Module → rank, from the table under "## The stages" in docs/architecture.md.
fn ranks() -> BTreeMap<String, u32> {
    let page = std::fs::read_to_string(root().join("docs/architecture.md")).unwrap();
    let table = page
        .split("## The stages")
        .nth(1)
        .expect("docs/architecture.md has a section `## The stages`");
    let mut ranks = BTreeMap::new();
    for line in table.lines().filter(|l| l.starts_with("| ")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let Ok(rank) = cells[1].parse::<u32>() else {
            continue;
        };
        for module in cells[2].split(',') {
            ranks.insert(module.trim().trim_matches('`').to_owned(), rank);
        }
    }
    assert!(ranks.len() >= 10, "the table names the modules: {ranks:?}");
    ranks
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Code without comments, string literals and character literals (so that a `//` in a URL or
/// a `{` in `b'{'` cannot hide or invent a path).
fn code_only(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < chars.len() {
        let at = |j: usize| chars.get(j).copied().unwrap_or(' ');
        match chars[i] {
            '/' if at(i + 1) == '/' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if at(i + 1) == '*' => {
                i += 2;
                while i < chars.len() && !(chars[i] == '*' && at(i + 1) == '/') {
                    i += 1;
                }
                i += 2;
            }
            'r' if at(i + 1) == '#'
                || (at(i + 1) == '"' && !out.ends_with(char::is_alphanumeric)) =>
            {
                // A raw string: r"..." or r#"..."#.
                let hashes = (1..).take_while(|n: &usize| at(i + *n) == '#').count();
                i += 1 + hashes;
                if chars.get(i) == Some(&'"') {
                    let close: String = std::iter::once('"')
                        .chain("#".repeat(hashes).chars())
                        .collect();
                    i += 1;
                    while i < chars.len()
                        && !chars[i..].iter().collect::<String>().starts_with(&close)
                    {
                        i += 1;
                    }
                    i += close.len();
                    out.push_str("\"\"");
                }
            }
            '"' => {
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    i += if chars[i] == '\\' { 2 } else { 1 };
                }
                i += 1;
                out.push_str("\"\"");
            }
            '\'' if at(i + 1) == '\\' || at(i + 2) == '\'' => {
                // A character literal ('x', '\n', '\u{7b}'), not a lifetime.
                i += 1;
                while i < chars.len() && chars[i] != '\'' {
                    i += if chars[i] == '\\' { 2 } else { 1 };
                }
                i += 1;
                out.push_str("' '");
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// The identifier at the start of `text` (after spaces).
fn ident(text: &str) -> String {
    text.trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// The top-level names after `crate::` (a path, or each item of a group, over several lines).
fn after_crate(rest: &str) -> Vec<String> {
    let Some(group) = rest.strip_prefix('{') else {
        return vec![ident(rest)];
    };
    let mut found = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                found.push(ident(&group[start..i]));
                break;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                found.push(ident(&group[start..i]));
                start = i + 1;
            }
            _ => {}
        }
    }
    found
}

/// The top-level modules a file's code names: `crate::` paths and groups, items the crate root
/// re-exports (`crate::Error` is `error`'s), and `super::` chains that climb out of the file's
/// top-level module (inline `mod` blocks counted). `module` is the file's module path
/// (`["policy", "config"]`). Ways around the check (`crate as`, `extern crate`, `#[path]`) are
/// named as arrows to `<forbidden: ...>`, which no rank allows.
fn modules_named(
    source: &str,
    module: &[String],
    root_items: &BTreeMap<String, String>,
) -> Vec<String> {
    let code = code_only(source);
    let mut found = Vec::new();
    for forbidden in ["crate as", "extern crate", "#[path"] {
        if code.contains(forbidden) {
            found.push(format!("<forbidden: {forbidden}>"));
        }
    }
    for (at, _) in code.match_indices("crate::") {
        if code[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
            continue; // `other_crate::`, not ours
        }
        for name in after_crate(&code[at + "crate::".len()..]) {
            match name.chars().next() {
                Some(c) if c.is_ascii_lowercase() => found.push(name),
                Some(_) => found.push(
                    root_items
                        .get(&name)
                        .cloned()
                        .unwrap_or_else(|| format!("<crate root item {name}>")),
                ),
                None => {}
            }
        }
    }
    // `super::` chains, with the inline modules open where they are written.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let bytes = code.as_bytes();
    let mut i = 0;
    while i < code.len() {
        match bytes[i] {
            b'{' => depth += 1,
            b'}' => {
                depth = depth.saturating_sub(1);
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
            }
            b'm' if code[i..].starts_with("mod ")
                && !code[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_') =>
            {
                let name = ident(&code[i + 4..]);
                let after = code[i + 4..].trim_start()[name.len()..].trim_start();
                if after.starts_with('{') {
                    inline.push((name, depth));
                }
            }
            b's' if code[i..].starts_with("super::")
                && !code[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':') =>
            {
                let mut climbs = 0;
                let mut rest = &code[i..];
                while let Some(next) = rest.strip_prefix("super::") {
                    climbs += 1;
                    rest = next;
                }
                let path = module.len() + inline.len();
                if climbs >= path {
                    found.extend(after_crate(rest));
                }
                i += "super::".len() * climbs;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    found.retain(|n| !n.is_empty());
    found
}

/// Every item the crate root re-exports (`pub use error::Error;`) → the module it comes from.
fn root_items() -> BTreeMap<String, String> {
    let lib = std::fs::read_to_string(root().join("src/lib.rs")).unwrap();
    let mut items = BTreeMap::new();
    for line in code_only(&lib).lines() {
        if let Some(path) = line.trim().strip_prefix("pub use ") {
            let parts: Vec<&str> = path.trim_end_matches(';').split("::").collect();
            if let (Some(first), Some(last)) = (parts.first(), parts.last()) {
                items.insert(last.trim().to_owned(), first.trim().to_owned());
            }
        }
    }
    items
}

/// Every arrow of the crate: (from, to) → the files that draw it.
fn arrows() -> BTreeMap<(String, String), Vec<String>> {
    let src = root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let root_items = root_items();
    let mut arrows: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(&src).unwrap();
        let mut module: Vec<String> = relative
            .components()
            .map(|c| {
                c.as_os_str()
                    .to_string_lossy()
                    .trim_end_matches(".rs")
                    .to_owned()
            })
            .collect();
        if module.last().is_some_and(|m| m == "mod") {
            module.pop();
        }
        let from = module[0].clone();
        if from == "lib" || from == "main" {
            continue;
        }
        let source = std::fs::read_to_string(&file).unwrap();
        for to in modules_named(&source, &module, &root_items) {
            if to != from {
                arrows
                    .entry((from.clone(), to))
                    .or_default()
                    .push(relative.display().to_string());
            }
        }
    }
    arrows
}

fn seen(code: &str, module: &[&str]) -> Vec<String> {
    let module: Vec<String> = module.iter().map(|m| (*m).to_owned()).collect();
    let items = BTreeMap::from([("Error".to_owned(), "error".to_owned())]);
    modules_named(code, &module, &items)
}

#[test]
fn ways_around_the_check_are_seen() {
    // Paths, groups over lines, a crate-root item, a URL in a string before a path.
    let code = "use crate::advisories::Finding;\n\
                use crate::{\n    policy::{self, Rule},\n    registry::apply,\n    time,\n};\n\
                let u = \"https://x\"; crate::report::render();\n\
                fn f() -> crate::Error { todo!() }\n";
    assert_eq!(
        seen(code, &["sbom"]),
        [
            "advisories",
            "policy",
            "registry",
            "time",
            "report",
            "error"
        ]
    );
    // Comments and strings name nothing; another crate's paths are not ours.
    assert!(
        seen(
            "// crate::attest\n/* crate::cli */ let s = \"crate::commands\"; use other_crate::cli;",
            &["sbom"]
        )
        .is_empty()
    );
    // super:: climbing out of the top-level module, counting inline modules.
    assert_eq!(
        seen("use super::super::attest::x;", &["policy", "config"]),
        ["attest"]
    );
    assert!(
        seen(
            "mod tests { use super::super::builtin; }",
            &["policy", "config"]
        )
        .is_empty()
    );
    assert_eq!(
        seen(
            "mod tests { use super::super::super::cli; }",
            &["policy", "config"]
        ),
        ["cli"]
    );
    // Aliases of the crate and #[path] are refused outright.
    assert_eq!(
        seen("use crate as c; c::attest::x();", &["sbom"]),
        ["<forbidden: crate as>"]
    );
    assert_eq!(
        seen("extern crate self as me;", &["sbom"]),
        ["<forbidden: extern crate>"]
    );
    assert_eq!(
        seen("#[path = \"../attest/x.rs\"] mod x;", &["sbom"]),
        ["<forbidden: #[path>"]
    );
}

#[test]
fn no_module_imports_one_the_architecture_page_does_not_allow() {
    let ranks = ranks();
    let mut wrong = Vec::new();
    for ((from, to), files) in arrows() {
        let (Some(&f), Some(&t)) = (ranks.get(&from), ranks.get(&to)) else {
            wrong.push(format!(
                "{from} -> {to}: a module docs/architecture.md does not place ({files:?})"
            ));
            continue;
        };
        if !(t < f || (f == 0 && t == 0)) {
            wrong.push(format!(
                "{from} (rank {f}) -> {to} (rank {t}) in {:?}",
                files.iter().collect::<BTreeSet<_>>()
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "arrows against the architecture:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_modules_import_one_another_without_a_loop() {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, to) in arrows().into_keys() {
        graph.entry(from).or_default().insert(to);
    }
    // Depth-first search for a back edge.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, bool>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match state.get(node) {
            Some(true) => return None,
            Some(false) => {
                let start = path.iter().position(|n| n == node).unwrap();
                let mut cycle = path[start..].to_vec();
                cycle.push(node.to_owned());
                return Some(cycle);
            }
            None => {}
        }
        state.insert(node.to_owned(), false);
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, state, path) {
                return Some(cycle);
            }
        }
        path.pop();
        state.insert(node.to_owned(), true);
        None
    }
    let mut state = BTreeMap::new();
    for node in graph.keys() {
        let found = visit(node, &graph, &mut state, &mut Vec::new());
        assert!(
            found.is_none(),
            "an import loop: {}",
            found.unwrap().join(" -> ")
        );
    }
}

/// The test sees what it claims to: the arrows of the pipeline are found.
#[test]
fn the_import_graph_is_read_from_the_source() {
    let arrows = arrows();
    for (from, to) in [
        ("advisories", "inventory"),
        ("policy", "registry"),
        ("report", "model"),
        ("attest", "model"),
        ("commands", "audit"),
    ] {
        assert!(
            arrows.contains_key(&(from.to_owned(), to.to_owned())),
            "{from} -> {to} not found"
        );
    }
}
