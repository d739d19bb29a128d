//! Every public method of `Client` has a doc example that runs as a
//! doctest (issue 14): this test reads the sources, finds each `pub fn` and
//! `pub async fn` in an `impl Client` block and fails when its doc comment
//! has no runnable ```` ``` ```` block. `no_run` is accepted only for the
//! methods listed in [`NOT_RUN`], each with the reason; `ignore` never.

use std::path::{Path, PathBuf};

/// Methods whose example may be `no_run`, and why (none today: the scripted
/// transport models terminals, streams and stdin).
const NOT_RUN: &[(&str, &str)] = &[];

/// One public method of `Client` and the fences of its doc comment.
#[derive(Debug)]
struct Method {
    file: String,
    line: usize,
    name: String,
    /// The info string of each opening fence (`""`, `"no_run"`, ...).
    fences: Vec<String>,
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("the src folder is readable")
        .map(|e| e.expect("a readable entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The public methods of every `impl Client {` block of `text`.
fn client_methods(file: &str, text: &str) -> Vec<Method> {
    let lines: Vec<&str> = text.lines().collect();
    let mut methods = Vec::new();
    let mut in_client = false;
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with("impl Client {") {
            in_client = true;
            continue;
        }
        if *line == "}" {
            in_client = false;
            continue;
        }
        if !in_client {
            continue;
        }
        let sig = line.trim_start();
        let Some(rest) = sig
            .strip_prefix("pub async fn ")
            .or_else(|| sig.strip_prefix("pub fn "))
        else {
            continue;
        };
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        // The doc comment: the `///` lines above, attributes skipped.
        let mut doc = Vec::new();
        let mut j = i;
        while j > 0 {
            j -= 1;
            let above = lines[j].trim_start();
            if let Some(d) = above.strip_prefix("///") {
                doc.push(d.trim_start());
            } else if !above.starts_with("#[") {
                break;
            }
        }
        doc.reverse();
        let mut fences = Vec::new();
        let mut open = false;
        for d in doc {
            if let Some(info) = d.strip_prefix("```") {
                if !open {
                    fences.push(info.trim().to_string());
                }
                open = !open;
            }
        }
        methods.push(Method {
            file: file.to_string(),
            line: i + 1,
            name,
            fences,
        });
    }
    methods
}

/// True when a fence with this info string is compiled and run.
fn runs(info: &str) -> bool {
    let words: Vec<&str> = info
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect();
    words
        .iter()
        .all(|w| matches!(*w, "rust" | "should_panic") || w.starts_with("edition"))
}

#[test]
fn every_public_client_method_has_a_tested_example() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut methods = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("a readable source file");
        let shown = path
            .strip_prefix(&src)
            .unwrap_or(path)
            .display()
            .to_string();
        methods.extend(client_methods(&shown, &text));
    }
    assert!(
        methods.len() > 70,
        "found only {} public Client methods: has the layout changed?",
        methods.len()
    );
    let mut problems = Vec::new();
    let mut tested = 0;
    for m in &methods {
        let where_ = format!("{}:{} Client::{}", m.file, m.line, m.name);
        if m.fences.iter().any(|f| f.contains("ignore")) {
            problems.push(format!("{where_}: an `ignore` example is never compiled"));
        } else if m.fences.iter().any(|f| runs(f)) {
            tested += 1;
        } else if m.fences.is_empty() {
            problems.push(format!("{where_}: no doc example"));
        } else if !NOT_RUN.iter().any(|(n, _)| *n == m.name) {
            problems.push(format!(
                "{where_}: the example does not run ({:?}); run it on a ScriptedTransport, or list the method in NOT_RUN with the reason",
                m.fences
            ));
        }
    }
    eprintln!(
        "{tested} of {} public Client methods have a tested example",
        methods.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_scanner_reads_fences_and_attributes() {
    let text = "impl Client {\n    /// Doc.\n    ///\n    /// ```no_run\n    /// x\n    /// ```\n    #[doc(alias = \"y\")]\n    pub async fn a(&self) {}\n\n    /// No example.\n    pub fn b(&self) {}\n}\nimpl Other {\n    /// ```\n    pub fn c() {}\n}\n";
    let m = client_methods("x.rs", text);
    assert_eq!(m.len(), 2);
    assert_eq!(
        (m[0].name.as_str(), m[0].fences.clone()),
        ("a", vec!["no_run".to_string()])
    );
    assert!(m[1].fences.is_empty());
    assert!(runs("") && runs("rust") && !runs("no_run") && !runs("ignore") && !runs("text"));
}
