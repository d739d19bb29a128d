//! Every Dokku command pix sends is built by a pure builder in its
//! resource's file of `dokku-client` (`dokku_client::apps::lock`, ...):
//! neither the workflows (pix-ops) nor the CLI (pix-cli) write command text
//! of their own. The one exception is `pix dokku -- ARGS`, whose words are
//! the user's own (`Command::raw`), marked where it is built.

mod common;

use common::rust_files;
use std::path::Path;

/// Constructors that take a command's name as text.
const FORBIDDEN: &[&str] = &["Command::read(", "Command::write(", "Command::raw("];

/// The marker that allows `Command::raw` on the line it precedes.
const USERS_OWN_WORDS: &str = "one-home: the user's own words";

/// `file:line: text` of each line that builds a command by hand.
fn hand_built(root: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(root, &mut files);
    files.sort();
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read source");
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            let Some(pattern) = FORBIDDEN.iter().find(|p| code.contains(**p)) else {
                continue;
            };
            let allowed =
                *pattern == "Command::raw(" && i > 0 && lines[i - 1].contains(USERS_OWN_WORDS);
            if !allowed {
                found.push(format!("{}:{}: {}", file.display(), i + 1, line.trim()));
            }
        }
    }
    found
}

#[test]
fn workflows_and_the_cli_build_no_command_text() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut found = Vec::new();
    for crate_dir in ["pix-ops/src", "pix-cli/src"] {
        found.extend(hand_built(&workspace.join(crate_dir)));
    }
    assert!(
        found.is_empty(),
        "Dokku commands built outside dokku-client (add a builder to the resource's file there and call it):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_finds_a_hand_built_command() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("a.rs"),
        "fn f() { let c = Command::write(\"apps:lock\").value(app); }\n// one-home: the user's own words\nlet ok = Command::raw(words);\nlet bad = Command::raw(words);\n// Command::read(\"in a comment\") is not code\n",
    )
    .expect("write");
    let found = hand_built(dir.path());
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].ends_with(":1: fn f() { let c = Command::write(\"apps:lock\").value(app); }"));
    assert!(found[1].contains(":4: let bad"));
}
