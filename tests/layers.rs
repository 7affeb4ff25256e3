//! kapchart's layers, kept by reading `src/`: imports point down only.
//!
//! domain < store, config < app < export, tui, cli. The domain is pure and imports nothing
//! else of the crate; the store knows the domain; the configuration knows the domain and the
//! key vocabulary; the application layer (use cases) knows domain, store and configuration and
//! never the front ends; exports render what the application layer gathers; the TUI and the
//! CLI sit on top. Test code (`tests.rs` files and `#[cfg(test)]` modules) may reach further.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Each top-level module and the modules of the crate it may import.
fn allowed() -> BTreeMap<&'static str, &'static [&'static str]> {
    BTreeMap::from([
        ("domain", &[][..]),
        ("clock", &[][..]),
        ("keys", &[][..]),
        ("paths", &[][..]),
        ("hardening", &[][..]),
        ("store", &["domain", "clock"][..]),
        ("logging", &["store"][..]),
        ("config", &["domain", "keys"][..]),
        ("app", &["domain", "store", "config", "clock"][..]),
        ("export", &["domain", "app"][..]),
        ("demo", &["domain", "store", "config", "app", "clock"][..]),
        (
            "tui",
            &[
                "domain",
                "store",
                "config",
                "keys",
                "app",
                "export",
                "hardening",
                "clock",
            ][..],
        ),
        (
            "cli",
            &[
                "domain",
                "store",
                "config",
                "keys",
                "app",
                "export",
                "tui",
                "demo",
                "logging",
                "paths",
                "hardening",
                "clock",
            ][..],
        ),
    ])
}

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

/// The file's code without its test modules.
fn production_code(text: &str) -> &str {
    match text.find("#[cfg(test)]\nmod tests {") {
        Some(i) => &text[..i],
        None => text,
    }
}

/// The crate modules a piece of code names (`crate::store::...` gives "store").
fn crate_modules(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.push(name.clone());
        }
        // `crate::{a, b}` names several.
        if after.starts_with('{') {
            let group = &after[1..after.find('}').unwrap_or(after.len())];
            out.extend(
                group
                    .split(',')
                    .map(|p| p.trim().split("::").next().unwrap_or("").to_string())
                    .filter(|p| !p.is_empty()),
            );
        }
        rest = after;
    }
    out
}

#[test]
fn imports_point_down_only() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let allowed = allowed();
    let mut wrong = Vec::new();
    let mut seen = 0;
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let top = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if ["lib", "main"].contains(&top.as_str()) || rel.ends_with("tests.rs") {
            continue;
        }
        let may = allowed.get(top.as_str()).unwrap_or_else(|| {
            panic!("{}: module {top} has no place in the layers", rel.display())
        });
        seen += 1;
        let text = std::fs::read_to_string(file).unwrap();
        for module in crate_modules(production_code(&text)) {
            if module != top && !may.contains(&module.as_str()) {
                wrong.push(format!("{} imports crate::{module}", rel.display()));
            }
        }
    }
    assert!(seen > 40, "read only {seen} files of src/");
    wrong.sort();
    wrong.dedup();
    assert!(
        wrong.is_empty(),
        "imports that point up:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_check_sees_a_wrong_import() {
    // The reader itself: a domain file naming the store would be caught.
    let found = crate_modules("use crate::store::Chart;\nuse crate::{config, tui::keymap};");
    assert_eq!(found, ["store", "config", "tui"]);
    let code = "use crate::domain::X;\n#[cfg(test)]\nmod tests {\n use crate::config::Config;\n}";
    assert_eq!(crate_modules(production_code(code)), ["domain"]);
}
