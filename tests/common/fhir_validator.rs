//! The FHIR tests' validator: tests/fhir_validate.py (fhir.resources 8.x, the R4B models) run
//! on a bundle. Its Python is `$KAPCHART_FHIR_PYTHON`, else `target/fhir-venv/bin/python`,
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

/// Asserts that `json`, one Bundle, validates.
pub fn validate_fhir(json: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bundle.json");
    std::fs::write(&file, json).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fhir_validate.py");
    let out = Command::new(python())
        .arg(script)
        .arg(&file)
        .output()
        .expect("run the FHIR validator");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "FHIR R4B validation failed:\n{text}");
    assert!(text.contains("1 bundle(s) valid"), "{text}");
}
