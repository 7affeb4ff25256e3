//! kapchart's source files stay small enough to read in one sitting: no file in `src/` is
//! longer than 700 lines unless its first comment says why it is one file.
//!
//! A file that needs to be longer (a grammar whose rules read best together, a table of test
//! cases) starts its first `//!` comment with a line containing "One file because", followed
//! by the reason. The test names every file over the limit without one.

use std::path::{Path, PathBuf};

/// The most lines a file in `src/` may have without saying why.
const MOST_LINES: usize = 700;

/// What a long file's first comment must contain.
const REASON: &str = "One file because";

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Whether the file's opening `//!` comment gives a reason for its length.
fn says_why(text: &str) -> bool {
    text.lines()
        .take_while(|l| l.starts_with("//!"))
        .any(|l| l.contains(REASON))
}

/// The files of `files` over the limit that do not say why, with their length.
fn too_long(files: &[(String, String)]) -> Vec<(String, usize)> {
    files
        .iter()
        .filter_map(|(name, text)| {
            let lines = text.lines().count();
            (lines > MOST_LINES && !says_why(text)).then(|| (name.clone(), lines))
        })
        .collect()
}

#[test]
fn no_file_in_src_is_over_700_lines_without_saying_why() {
    let mut paths = Vec::new();
    rust_files(
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")),
        &mut paths,
    );
    assert!(paths.len() > 50, "the walk found the source tree");
    let files: Vec<(String, String)> = paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).expect("read source");
            (p.display().to_string(), text)
        })
        .collect();
    let long = too_long(&files);
    assert!(
        long.is_empty(),
        "files over {MOST_LINES} lines whose first comment does not say \"{REASON} ...\": {long:#?}"
    );
}

#[test]
fn a_long_file_is_named_unless_its_first_comment_says_why() {
    let body = "fn f() {}\n".repeat(MOST_LINES + 1);
    let silent = format!("//! The grammar.\n{body}");
    let reasoned =
        format!("//! The grammar.\n//! One file because its rules read together.\n{body}");
    let reason_too_late = format!("//! The grammar.\n{body}// One file because of nothing.\n");
    let short = "//! Short.\nfn f() {}\n".to_string();
    let files = vec![
        ("silent.rs".to_string(), silent),
        ("reasoned.rs".to_string(), reasoned),
        ("late.rs".to_string(), reason_too_late),
        ("short.rs".to_string(), short),
    ];
    let named: Vec<String> = too_long(&files).into_iter().map(|(n, _)| n).collect();
    assert_eq!(named, ["silent.rs", "late.rs"]);
}
