//! The modules of the workflows (pix-ops) and of the CLI (pix-cli) form a
//! graph without cycles: a module that needs another's helper finds it in a
//! module both depend on, never in a sibling that depends back on it (the
//! deploy ↔ remote and the CLI's ten-file import loops, issue 14). Test
//! modules (`#[cfg(test)]`) are not counted.

use std::collections::{BTreeMap, BTreeSet};
mod common;

use common::rust_files;
use std::path::Path;

/// A dependency of one module on another, and where it is written.
#[derive(Debug, Clone)]
struct Edge {
    to: String,
    at: String,
}

/// The crate's top-level module a file belongs to (`provision/apply.rs` is
/// `provision`); `None` for the crate root.
fn module_of(root: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(root).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main")).then(|| name.to_string())
}

/// The lines of `text` that are not test code: everything from a
/// `#[cfg(test)]` item to its closing brace is left out.
fn non_test_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut skipping = false;
    let mut depth: i64 = 0;
    let mut opened = false;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split("//").next().unwrap_or_default();
        if !skipping && line.trim_start().starts_with("#[cfg(test)]") {
            skipping = true;
            depth = 0;
            opened = false;
            continue;
        }
        if skipping {
            for c in line.chars() {
                match c {
                    '{' => {
                        depth += 1;
                        opened = true;
                    }
                    '}' => depth -= 1,
                    _ => {}
                }
            }
            if (opened && depth <= 0) || (!opened && line.trim_end().ends_with(';')) {
                skipping = false;
            }
            continue;
        }
        out.push((i + 1, line.to_string()));
    }
    out
}

/// The first identifier of each top-level item of a `use crate::{...}`
/// group, given the text after the opening brace.
fn group_heads(group: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut at_item_start = true;
    let mut current = String::new();
    for c in group.chars() {
        match c {
            '{' => {
                depth += 1;
                at_item_start = false;
            }
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                at_item_start = true;
                current.clear();
            }
            c if depth == 0 && at_item_start && (c.is_alphanumeric() || c == '_') => {
                current.push(c)
            }
            _ if depth == 0 && at_item_start && !current.is_empty() => {
                heads.push(std::mem::take(&mut current));
                at_item_start = false;
            }
            _ => {}
        }
    }
    if at_item_start && !current.is_empty() {
        heads.push(current);
    }
    heads
}

/// Every module's dependencies on the crate's other modules.
fn module_graph(root: &Path) -> BTreeMap<String, Vec<Edge>> {
    let mut files = Vec::new();
    rust_files(root, &mut files);
    files.sort();
    let mut graph: BTreeMap<String, Vec<Edge>> = BTreeMap::new();
    let mut modules = BTreeSet::new();
    for file in &files {
        if let Some(m) = module_of(root, file) {
            modules.insert(m);
        }
    }
    for file in &files {
        let Some(from) = module_of(root, file) else {
            continue;
        };
        let text = std::fs::read_to_string(file).expect("read source");
        let lines = non_test_lines(&text);
        // `use crate::{a, b::c}` groups may span lines: join them, keeping
        // each group's first line number.
        let joined: String = lines.iter().map(|(_, l)| format!("{l}\n")).collect();
        let line_at = |offset: usize| {
            let n = joined[..offset].matches('\n').count();
            lines.get(n).map_or(0, |(number, _)| *number)
        };
        let mut found: Vec<(String, usize)> = Vec::new();
        for (offset, _) in joined.match_indices("crate::") {
            let rest = &joined[offset + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                for head in group_heads(group) {
                    found.push((head, offset));
                }
            } else {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                found.push((name, offset));
            }
        }
        let edges = graph.entry(from.clone()).or_default();
        for (to, offset) in found {
            if to != from && modules.contains(&to) {
                edges.push(Edge {
                    to,
                    at: format!("{}:{}", file.display(), line_at(offset)),
                });
            }
        }
    }
    graph
}

/// The strongly connected components of more than one module (Tarjan).
fn cycles(graph: &BTreeMap<String, Vec<Edge>>) -> Vec<Vec<String>> {
    struct State<'a> {
        graph: &'a BTreeMap<String, Vec<Edge>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        next: usize,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on_stack.insert(v);
        let graph = s.graph;
        for edge in graph.get(v).map(Vec::as_slice).unwrap_or_default() {
            let w = edge.to.as_str();
            let Some((w, _)) = graph.get_key_value(w) else {
                continue;
            };
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.found.push(component);
            }
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !state.index.contains_key(v.as_str()) {
            visit(&mut state, v);
        }
    }
    state.found
}

/// A readable account of each cycle: its modules and the lines that tie them.
fn describe(graph: &BTreeMap<String, Vec<Edge>>, found: &[Vec<String>]) -> String {
    let mut out = String::new();
    for component in found {
        out.push_str(&format!("cycle: {}\n", component.join(" ↔ ")));
        for from in component {
            let mut seen = BTreeSet::new();
            for edge in &graph[from] {
                if component.contains(&edge.to) && seen.insert(&edge.to) {
                    out.push_str(&format!("  {from} → {} ({})\n", edge.to, edge.at));
                }
            }
        }
    }
    out
}

#[test]
fn the_workflows_and_the_cli_have_no_import_cycles() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut report = String::new();
    for crate_dir in ["pix-ops/src", "pix-cli/src"] {
        let graph = module_graph(&workspace.join(crate_dir));
        assert!(
            graph.len() > 5,
            "{crate_dir}: only {} modules read",
            graph.len()
        );
        let found = cycles(&graph);
        if !found.is_empty() {
            report.push_str(&format!("{crate_dir}:\n{}", describe(&graph, &found)));
        }
    }
    assert!(
        report.is_empty(),
        "modules that import each other (move what both need to a module both depend on):\n{report}"
    );
}

#[test]
fn the_check_finds_a_cycle_and_ignores_tests() {
    let dir = tempfile::tempdir().expect("tempdir");
    let write =
        |name: &str, text: &str| std::fs::write(dir.path().join(name), text).expect("write");
    write("lib.rs", "mod a; mod b; mod c; mod d;\n");
    write(
        "a.rs",
        "use crate::{b::{One, Two}, error::Error};\nfn f() {}\n",
    );
    write("b.rs", "fn g() { crate::c::h() }\n");
    write(
        "c.rs",
        "use crate::a;\n// crate::d in a comment is not code\n",
    );
    write(
        "d.rs",
        "fn k() {}\n#[cfg(test)]\nmod tests {\n    use crate::a;\n}\n",
    );
    let graph = module_graph(dir.path());
    let found = cycles(&graph);
    assert_eq!(
        found,
        vec![vec!["a".to_string(), "b".into(), "c".into()]],
        "{graph:?}"
    );
    let text = describe(&graph, &found);
    assert!(text.contains("a → b ("), "{text}");
    assert!(text.contains("a.rs:1)"), "{text}");
    assert!(
        text.contains("b → c (") && text.contains("c → a ("),
        "{text}"
    );
    assert!(
        graph["d"].is_empty(),
        "test modules are not counted: {graph:?}"
    );
}
