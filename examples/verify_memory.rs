//! Peak memory (VmHWM) after each step of `kapchart verify` on a chart, to find what grows with
//! the chart: `cargo run --release --example verify_memory -- CHART CLINICIAN PASSPHRASE STEP`
//! where STEP is one of `integrity_check`, `cipher_integrity_check`, `verify` (the whole
//! check), each in a fresh process so that one step's peak does not hide another's.

fn peak_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, chart, who, passphrase, step] = args.as_slice() else {
        eprintln!("usage: verify_memory CHART CLINICIAN PASSPHRASE STEP");
        std::process::exit(2);
    };
    let path = std::path::Path::new(chart);
    println!("start: {} kB", peak_kb());
    match step.as_str() {
        "open" => {
            let chart = kapchart::store::Chart::open_as(path, who, passphrase, 5000).unwrap();
            println!("open: {} kB", peak_kb());
            drop(chart);
        }
        "integrity_check" | "cipher_integrity_check" => {
            let conn = kapchart::store::Chart::open_raw_connection(path, who, passphrase).unwrap();
            println!("raw open: {} kB", peak_kb());
            let mut rows = 0;
            conn.pragma_query(None, step, |_| {
                rows += 1;
                Ok(())
            })
            .unwrap();
            println!("{step}: {} kB ({rows} rows)", peak_kb());
        }
        "verify" => {
            let chart = kapchart::store::Chart::open_as(path, who, passphrase, 5000).unwrap();
            println!("open: {} kB", peak_kb());
            let report = chart.verify().unwrap();
            println!(
                "verify: {} kB ({} audit rows)",
                peak_kb(),
                report.audit_rows
            );
        }
        other => panic!("unknown step {other}"),
    }
}
