//! The FHIR tests' validator (tests/fhir_validate.py: fhir.resources 8.x, the R4B models)
//! run on a bundle, and a base64 decoder of their own. Its Python is `$KAPCHART_FHIR_PYTHON`, else `target/fhir-venv/bin/python`,
//! which `bash .ci/test` (the README's test command) creates.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The Python that has fhir.resources.
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("KAPCHART_FHIR_PYTHON").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fhir-venv/bin/python");
    assert!(
        venv.exists(),
        "FHIR validation needs fhir.resources: run bash .ci/test or set KAPCHART_FHIR_PYTHON"
    );
    venv
}

/// Runs tests/fhir_validate.py on the files: (success, stdout + stderr).
pub fn run_validator(files: &[PathBuf]) -> (bool, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fhir_validate.py");
    let out = Command::new(python())
        .arg(script)
        .args(files)
        .output()
        .expect("run the FHIR validator");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Asserts that every one of `bundles` validates (each written to a file of its own).
pub fn validate_bundles(bundles: &[serde_json::Value]) {
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<PathBuf> = bundles
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let path = dir.path().join(format!("bundle-{i:03}.json"));
            std::fs::write(&path, serde_json::to_string_pretty(b).unwrap()).unwrap();
            path
        })
        .collect();
    let (valid, said) = run_validator(&files);
    assert!(valid, "{said}");
    assert!(
        said.contains(&format!("{} bundle(s) valid", files.len())),
        "{said}"
    );
}

/// Asserts that `json`, one Bundle, validates.
pub fn validate_fhir(json: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bundle.json");
    std::fs::write(&file, json).unwrap();
    let (ok, text) = run_validator(&[file]);
    assert!(ok, "FHIR R4B validation failed:\n{text}");
    assert!(text.contains("1 bundle(s) valid"), "{text}");
}

/// A base64 decoder, independent of the exporter's encoder.
pub fn base64_decode(s: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c}"),
        }
    };
    let mut out = Vec::new();
    for chunk in s.as_bytes().chunks(4) {
        let digits: Vec<u8> = chunk.iter().copied().filter(|&c| c != b'=').collect();
        let mut n = 0u32;
        for (i, &c) in digits.iter().enumerate() {
            n |= value(c) << (18 - 6 * i);
        }
        for i in 0..digits.len().saturating_sub(1) {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}
