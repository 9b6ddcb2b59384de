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

/// The top-level modules a piece of code names after `crate::`: paths (`crate::a::b`) and
/// grouped imports (`crate::{a::b, c}`, over several lines too). Comments are left out.
fn modules_named(code: &str) -> Vec<String> {
    let code: String = code
        .lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    let name = |text: &str| -> String {
        text.trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut found = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        if code[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
            continue; // `other_crate::`, not ours
        }
        let rest = &code[at + "crate::".len()..];
        let Some(group) = rest.strip_prefix('{') else {
            found.push(name(rest));
            continue;
        };
        // The names at the group's top level: after `{` and after each `,` at depth 0.
        let mut depth = 0;
        let mut start = 0;
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    found.push(name(&group[start..i]));
                    break;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    found.push(name(&group[start..i]));
                    start = i + 1;
                }
                _ => {}
            }
        }
    }
    found.retain(|n| n.starts_with(|c: char| c.is_ascii_lowercase()));
    found
}

/// Every arrow of the crate: (from, to) → the files that draw it.
fn arrows() -> BTreeMap<(String, String), Vec<String>> {
    let src = root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut arrows: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(&src).unwrap();
        let from = relative
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        if from == "lib" || from == "main" {
            continue;
        }
        for to in modules_named(&std::fs::read_to_string(&file).unwrap()) {
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

#[test]
fn paths_and_grouped_imports_are_seen_and_comments_are_not() {
    let code = "use crate::advisories::Finding;\n\
                use crate::{\n    policy::{self, Rule},\n    registry::apply,\n    time,\n};\n\
                let x = crate::report::render(); // crate::attest in a comment\n\
                use other_crate::cli;\n";
    assert_eq!(
        modules_named(code),
        ["advisories", "policy", "registry", "time", "report"]
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
