//! kapchart's layers, kept by reading `src/` as Rust: imports point down only, and the front
//! ends come in through `app`.
//!
//! domain < store, config < app < export, tui, cli. The domain is pure and imports nothing
//! else of the crate; the store knows the domain; the configuration knows the domain and the
//! key vocabulary; the application layer (use cases, and the chart handle the front ends
//! hold) knows domain, store and configuration and never the front ends; exports render what
//! the application layer gathers; the TUI and the CLI sit on top and never name the store.
//! SQL (`rusqlite`) lives in the store only, the terminal (`ratatui`, `crossterm`) in the TUI
//! only, the command line's parser (`clap`) in the CLI and `main.rs` only. Test code (files
//! named `tests.rs` or `*_tests.rs`, modules declared `#[cfg(test)]`, and the files those
//! declare) may reach further.
//!
//! Every path is read with `syn`: `use` trees (groups, renames, `self`/`super`), paths in
//! expressions, types and patterns, and the tokens of macro calls (`matches!`, `format!`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use syn::visit::{self, Visit};

/// Each top-level module and the modules of the crate it may name.
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
        // The sync sends what the export builds, recording through the use cases.
        ("sync", &["domain", "config", "app", "export"][..]),
        // The generators write years of history behind the use cases on purpose.
        ("demo", &["domain", "store", "config", "app", "clock"][..]),
        (
            "tui",
            &[
                "domain",
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
                "config",
                "keys",
                "app",
                "export",
                "sync",
                "tui",
                "demo",
                "logging",
                "paths",
                "hardening",
                "clock",
            ][..],
        ),
        (
            "main",
            &["cli", "logging", "paths", "hardening", "clock"][..],
        ),
    ])
}

/// The external crates that belong to one layer, and the layers that may name them.
fn external() -> BTreeMap<&'static str, &'static [&'static str]> {
    BTreeMap::from([
        ("rusqlite", &["store"][..]),
        ("ratatui", &["tui"][..]),
        ("ratatui_textarea", &["tui"][..]),
        ("crossterm", &["tui"][..]),
        ("clap", &["cli", "main"][..]),
        ("clap_complete", &["cli", "main"][..]),
    ])
}

/// The front ends, which hold `app::Chart` and never what is behind it.
const FRONT_ENDS: &[&str] = &["tui", "cli", "export"];

/// The way behind the door, kept for the generators and tests.
const BEHIND_THE_DOOR: &[&str] = &["behind_the_door", "behind_the_door_ref"];

/// One thing a file names that its layer may not.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Violation {
    file: String,
    line: usize,
    what: String,
}

fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg") && {
            let text = a
                .meta
                .require_list()
                .map(|l| l.tokens.to_string())
                .unwrap_or_default();
            // `cfg(test)` and `cfg(all(test, ...))`; `cfg(not(test))` is production code.
            text.split(|c: char| !c.is_alphanumeric() && c != '_')
                .any(|w| w == "test")
                && !text.contains("not")
        }
    })
}

/// Reads one file's paths and reports what its layer may not name.
struct Checker<'a> {
    file: &'a str,
    layer: &'a str,
    /// The module path of the code being read (`["tui", "view", "live"]`), for `super`.
    module: Vec<String>,
    out: Vec<Violation>,
}

impl Checker<'_> {
    /// Checks an absolute path of the crate (`["store", "team"]`) or an external one.
    fn check(&mut self, segments: &[String], line: usize) {
        let Some(first) = segments.first() else {
            return;
        };
        if let Some(may) = external().get(first.as_str()) {
            if !may.contains(&self.layer) {
                self.report(line, format!("uses the crate {first}"));
            }
            return;
        }
        let top = match first.as_str() {
            "crate" | "kapchart" => segments.get(1).cloned(),
            "super" => {
                let mut at = self.module.clone();
                let mut rest = segments.iter();
                while rest.clone().next().is_some_and(|s| s == "super") {
                    rest.next();
                    at.pop();
                }
                at.first().cloned().or_else(|| rest.next().cloned())
            }
            _ => None,
        };
        let Some(top) = top else { return };
        if top == self.layer || !allowed().contains_key(top.as_str()) {
            return;
        }
        let may = allowed()[self.layer];
        if !may.contains(&top.as_str()) {
            self.report(line, format!("names crate::{top}"));
        }
    }

    fn report(&mut self, line: usize, what: String) {
        self.out.push(Violation {
            file: self.file.to_string(),
            line,
            what,
        });
    }

    /// Every path a `use` tree brings in, as segments from its root.
    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree, line: usize) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree, line);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                prefix.push(n.ident.to_string());
                self.check(&prefix.clone(), line);
                prefix.pop();
            }
            syn::UseTree::Rename(r) => {
                prefix.push(r.ident.to_string());
                self.check(&prefix.clone(), line);
                prefix.pop();
            }
            syn::UseTree::Glob(_) => self.check(&prefix.clone(), line),
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.use_tree(prefix, t, line);
                }
            }
        }
    }

    /// Paths inside a macro call's tokens (`matches!(e, crate::store::X)`).
    fn tokens(&mut self, tokens: proc_macro2::TokenStream) {
        let trees: Vec<proc_macro2::TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < trees.len() {
            match &trees[i] {
                proc_macro2::TokenTree::Group(g) => self.tokens(g.stream()),
                proc_macro2::TokenTree::Ident(id) => {
                    let mut segments = vec![id.to_string()];
                    let mut j = i;
                    while let (
                        Some(proc_macro2::TokenTree::Punct(a)),
                        Some(proc_macro2::TokenTree::Punct(b)),
                        Some(proc_macro2::TokenTree::Ident(next)),
                    ) = (trees.get(j + 1), trees.get(j + 2), trees.get(j + 3))
                    {
                        if a.as_char() != ':' || b.as_char() != ':' {
                            break;
                        }
                        segments.push(next.to_string());
                        j += 3;
                    }
                    if segments.len() > 1 {
                        self.check(&segments, id.span().start().line);
                        i = j;
                    }
                }
                proc_macro2::TokenTree::Punct(_) | proc_macro2::TokenTree::Literal(_) => {}
            }
            i += 1;
        }
    }
}

impl<'ast> Visit<'ast> for Checker<'_> {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if is_cfg_test(&m.attrs) {
            return;
        }
        self.module.push(m.ident.to_string());
        visit::visit_item_mod(self, m);
        self.module.pop();
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        if !is_cfg_test(&f.attrs) {
            visit::visit_item_fn(self, f);
        }
    }

    fn visit_item_impl(&mut self, i: &'ast syn::ItemImpl) {
        if !is_cfg_test(&i.attrs) {
            visit::visit_item_impl(self, i);
        }
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        if is_cfg_test(&u.attrs) {
            return;
        }
        let line = u.use_token.span.start().line;
        self.use_tree(&mut Vec::new(), &u.tree, line);
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        let segments: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
        if segments.len() > 1 {
            let line = p.segments[0].ident.span().start().line;
            self.check(&segments, line);
        }
        visit::visit_path(self, p);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.tokens(m.tokens.clone());
        visit::visit_macro(self, m);
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        let name = call.method.to_string();
        if FRONT_ENDS.contains(&self.layer) && BEHIND_THE_DOOR.contains(&name.as_str()) {
            self.report(
                call.method.span().start().line,
                format!("reaches behind the door ({name})"),
            );
        }
        visit::visit_expr_method_call(self, call);
    }
}

/// What `source`, a file of the module `module` (`["tui", "live"]`) in the layer `layer`,
/// names that its layer may not.
fn violations(file: &str, layer: &str, module: &[&str], source: &str) -> Vec<Violation> {
    let parsed = syn::parse_file(source).unwrap_or_else(|e| panic!("{file}: {e}"));
    let mut checker = Checker {
        file,
        layer,
        module: module.iter().map(|s| s.to_string()).collect(),
        out: Vec::new(),
    };
    checker.visit_file(&parsed);
    checker.out
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

/// The files that `#[cfg(test)] mod name;` declarations bring in (with `#[path]` or not).
fn test_module_files(files: &[PathBuf]) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    for file in files {
        let parsed = syn::parse_file(&std::fs::read_to_string(file).unwrap()).unwrap();
        let dir = file.parent().unwrap();
        let stem = file.file_stem().unwrap().to_string_lossy().to_string();
        // A module's own files sit beside `mod.rs`/`lib.rs`/`main.rs`, else in a folder of
        // the file's name.
        let home = if ["mod", "lib", "main"].contains(&stem.as_str()) {
            dir.to_path_buf()
        } else {
            dir.join(&stem)
        };
        for item in &parsed.items {
            let syn::Item::Mod(m) = item else { continue };
            if m.content.is_some() || !is_cfg_test(&m.attrs) {
                continue;
            }
            let named = m
                .attrs
                .iter()
                .find(|a| a.path().is_ident("path"))
                .and_then(|a| match &a.meta.require_name_value().ok()?.value {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }) => Some(dir.join(s.value())),
                    _ => None,
                });
            let name = m.ident.to_string();
            match named {
                Some(p) => {
                    out.insert(p);
                }
                None => {
                    out.insert(home.join(format!("{name}.rs")));
                    out.insert(home.join(&name).join("mod.rs"));
                }
            }
        }
    }
    out
}

#[test]
fn imports_point_down_only_and_front_ends_come_in_through_app() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let tests = test_module_files(&files);
    let allowed = allowed();
    let mut wrong = Vec::new();
    let mut seen = 0;
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let name = rel.to_string_lossy().to_string();
        let module: Vec<String> = rel
            .with_extension("")
            .components()
            .map(|c| c.as_os_str().to_string_lossy().to_string())
            .filter(|c| c != "mod")
            .collect();
        let top = module[0].clone();
        if top == "lib" || name.ends_with("tests.rs") || tests.contains(file) {
            continue;
        }
        assert!(
            allowed.contains_key(top.as_str()),
            "{name}: module {top} has no place in the layers"
        );
        seen += 1;
        let text = std::fs::read_to_string(file).unwrap();
        let module: Vec<&str> = module.iter().map(String::as_str).collect();
        wrong.extend(violations(&name, &top, &module, &text));
    }
    assert!(seen > 40, "read only {seen} files of src/");
    assert!(
        tests.iter().any(|t| t.ends_with("live_window_tests.rs")),
        "a #[path] test module was not found: {tests:?}"
    );
    let wrong: Vec<String> = wrong
        .iter()
        .map(|v| format!("{}:{} {}", v.file, v.line, v.what))
        .collect();
    assert!(wrong.is_empty(), "layers crossed:\n{}", wrong.join("\n"));
}

/// The checker on planted sources: each kind of crossing is reported, with its line.
#[test]
fn the_check_sees_each_kind_of_crossing() {
    let found = |layer: &str, module: &[&str], code: &str| -> Vec<(usize, String)> {
        violations("planted.rs", layer, module, code)
            .into_iter()
            .map(|v| (v.line, v.what))
            .collect()
    };
    // A front end naming the store.
    assert_eq!(
        found("tui", &["tui", "live"], "use crate::store::Chart;"),
        [(1, "names crate::store".to_string())]
    );
    assert_eq!(
        found("cli", &["cli"], "use crate::store::{self, StoreError};"),
        [
            (1, "names crate::store".to_string()),
            (1, "names crate::store".to_string())
        ]
    );
    // The domain using SQL.
    assert_eq!(
        found(
            "domain",
            &["domain", "entry"],
            "\nuse rusqlite::Connection;"
        ),
        [(2, "uses the crate rusqlite".to_string())]
    );
    // The application layer drawing on the terminal.
    assert_eq!(
        found(
            "app",
            &["app", "views"],
            "fn f() { let _ = ratatui::text::Line::from(\"\"); }"
        ),
        [(1, "uses the crate ratatui".to_string())]
    );
    // The domain importing the layer above it, and reaching it through `super`.
    assert_eq!(
        found("domain", &["domain", "chart"], "use crate::app::charting;"),
        [(1, "names crate::app".to_string())]
    );
    assert_eq!(
        found("domain", &["domain"], "use super::app::views;"),
        [(1, "names crate::app".to_string())]
    );
    // A `use` grouped at the crate's root: each member is checked.
    assert_eq!(
        found("tui", &["tui"], "use crate::{app, store};"),
        [(1, "names crate::store".to_string())]
    );
    assert_eq!(
        found(
            "export",
            &["export"],
            "use crate::{app::{self, Chart}, store::{audit::Head}};"
        ),
        [(1, "names crate::store".to_string())]
    );
    // A path in an expression, not a `use`; and one inside a macro's tokens.
    assert_eq!(
        found(
            "cli",
            &["cli"],
            "fn f(p: &Path) {\n    let _ = crate::store::team(p);\n}"
        ),
        [(2, "names crate::store".to_string())]
    );
    assert_eq!(
        found(
            "tui",
            &["tui"],
            "fn f(e: E) -> bool {\n\n    matches!(e, crate::store::StoreError::Busy(_))\n}"
        ),
        [(3, "names crate::store".to_string())]
    );
    // A type in a signature.
    assert_eq!(
        found(
            "cli",
            &["cli", "export"],
            "fn f(c: &crate::store::Chart) {}"
        ),
        [(1, "names crate::store".to_string())]
    );
    // A front end reaching behind the door of `app::Chart`.
    assert_eq!(
        found(
            "cli",
            &["cli"],
            "fn f(c: &mut Chart) { c.behind_the_door().raw_connection(); }"
        ),
        [(1, "reaches behind the door (behind_the_door)".to_string())]
    );
    // The parser of the command line outside it.
    assert_eq!(
        found(
            "tui",
            &["tui"],
            "#[derive(Debug)]\nstruct A;\nimpl clap::Args for A {}"
        ),
        [(3, "uses the crate clap".to_string())]
    );
    // What is allowed is not reported: the front ends through app, the store on SQL, the
    // TUI on the terminal, and test code reaching anywhere.
    assert!(
        found(
            "tui",
            &["tui"],
            "use crate::app::{Chart, charting};\nuse ratatui::Frame;"
        )
        .is_empty()
    );
    assert!(
        found(
            "store",
            &["store"],
            "use rusqlite::Connection;\nuse crate::domain::Entry;"
        )
        .is_empty()
    );
    assert!(found("app", &["app"], "use crate::store::{self, StoreError};").is_empty());
    assert!(
        found("tui", &["tui"], "#[cfg(test)]\nmod tests {\n    use crate::store::Chart;\n}\n#[cfg(test)]\nfn f() { crate::store::team(p); }")
            .is_empty()
    );
    // `super` within a layer stays in it.
    assert!(
        found(
            "tui",
            &["tui", "view", "live"],
            "use super::super::app::Live;"
        )
        .is_empty()
    );
}
