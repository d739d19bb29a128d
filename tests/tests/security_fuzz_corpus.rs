//! Replays every committed fuzz corpus file (`fuzz/corpus/<target>/*`)
//! through the very functions the cargo-fuzz targets call
//! (`fuzz/src/harness.rs`, included here), so CI exercises the corpus in
//! seconds without cargo-fuzz or a nightly toolchain.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

#[path = "../../fuzz/src/harness.rs"]
#[allow(dead_code)]
mod harness;

use std::path::PathBuf;

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("fuzz")
        .join("corpus")
}

/// Every target has a committed corpus, and every file of it passes.
#[test]
fn every_committed_corpus_file_passes_its_target() {
    let mut total = 0;
    for (name, target) in harness::TARGETS {
        let dir = corpus_dir().join(name);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        assert!(
            !files.is_empty(),
            "no corpus for the fuzz target {name} in {}",
            dir.display()
        );
        for file in &files {
            // A fuzzer running on this corpus may replace files meanwhile.
            let data = match std::fs::read(file) {
                Ok(d) => d,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => panic!("{}: {e}", file.display()),
            };
            let outcome = std::panic::catch_unwind(|| target(&data));
            assert!(
                outcome.is_ok(),
                "{name}: {} breaks a property (replay it with `cargo xtask fuzz --seconds 1 {name}` or `cargo fuzz run {name} {}`)",
                file.display(),
                file.display()
            );
        }
        total += files.len();
    }
    eprintln!("{total} corpus files replayed");
}

/// The corpus stays small enough to commit.
#[test]
fn the_committed_corpus_is_small() {
    let mut bytes = 0u64;
    for (name, _) in harness::TARGETS {
        for e in std::fs::read_dir(corpus_dir().join(name)).unwrap() {
            bytes += e.unwrap().metadata().unwrap().len();
        }
    }
    assert!(bytes < 2 * 1024 * 1024, "the corpus is {bytes} bytes");
}

/// The harness's properties can fail: a shell line with an unquoted `;` is
/// caught by the POSIX tokenizer, and a quoted one is read back.
#[test]
fn the_posix_tokenizer_rejects_metacharacters() {
    assert_eq!(
        harness::posix_words("sudo -n -- '/usr/bin/dokku' 'a;b' 'it'\\''s'"),
        vec!["sudo", "-n", "--", "/usr/bin/dokku", "a;b", "it's"]
    );
    for bad in ["a;b", "$(x)", "a|b", "`id`", "a\nb", "'open"] {
        assert!(
            std::panic::catch_unwind(|| harness::posix_words(bad)).is_err(),
            "{bad:?}"
        );
    }
}
