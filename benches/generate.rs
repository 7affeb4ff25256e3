//! Generation speed of `kapchart::demo::scale::generate`: 100 patients (or
//! `KAPCHART_BENCH_GEN_PATIENTS`) into a new encrypted chart, timed once (a run takes seconds,
//! too long for criterion's samples), against a baseline run right after it: the same entry
//! payloads inserted bare into a plain table of another new encrypted chart with the same
//! pragmas (synchronous = NORMAL while generating, as `generate` sets it), one transaction
//! per session. The ratio is what parsing, planning, the audit trail,
//! the notes and the extra commits (patients, sessions, notes) cost over the bare writes.
//!
//! `cargo bench --bench generate`

mod common;

use kapchart::config::Config;
use std::time::Instant;

/// CPU time of this process so far (user + system), from /proc: on a loaded machine the wall
/// time is inflated by waiting for a core, the CPU time is not.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Fields 14 and 15 of stat (utime, stime), counted after the command name.
    (ticks(11) + ticks(12)) / 100.0
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not meaningful here.
    let patients: usize = std::env::var("KAPCHART_BENCH_GEN_PATIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let config = Config::default();

    let (path, mut chart) = common::fresh_chart("generate.db");
    let started = Instant::now();
    let cpu = cpu_seconds();
    let mut progress_calls = 0usize;
    let report = kapchart::demo::scale::generate(
        &mut chart,
        &config,
        patients,
        common::SEED,
        common::now(),
        &mut |_, _| progress_calls += 1,
    )
    .expect("generate");
    let generated = started.elapsed().as_secs_f64();
    let generated_cpu = cpu_seconds() - cpu;
    // Transactions: patient, details and course per patient; start and entries per session;
    // note, draft, signature and addenda; plus up to one more per acknowledgement or
    // correction (when its target was in the same batch).
    let (commits, extra): (i64, i64) = chart
        .behind_the_door_ref().raw_connection()
        .query_row(
            "SELECT (SELECT count(*) FROM patients) * 3 + (SELECT count(*) FROM sessions) * 2
                  + (SELECT count(*) FROM notes) + (SELECT count(*) FROM note_drafts)
                  + (SELECT count(*) FROM note_signatures) + (SELECT count(*) FROM note_addenda),
                    (SELECT count(*) FROM entries WHERE kind = 'acknowledgement' OR corrects IS NOT NULL)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("count commits");

    // What the generated clinic looks like: how often each flag and correction occurs.
    let share = |sql: &str| -> f64 {
        chart
            .behind_the_door_ref()
            .raw_connection()
            .query_row(sql, [], |r| r.get::<_, f64>(0))
            .expect("share")
    };
    let dosing_with = |pattern: &str| {
        share(&format!(
            "SELECT 100.0 * count(DISTINCT e.session_id) / (SELECT count(*) FROM sessions WHERE kind = 'dosing')
             FROM entries e WHERE e.flags LIKE '%{pattern}%'"
        ))
    };
    println!(
        "dosing sessions with: pre-dose caution {:.1}%, BP alert {:.1}%, SpO2 alert {:.1}%, \
         deep sedation {:.1}%, a late entry {:.1}%; entries late {:.2}%, amended {:.2}%, struck {:.2}%; \
         notes signed with a reason {:.1}%",
        dosing_with("bp-predose"),
        dosing_with("bp-high"),
        dosing_with("spo2-low"),
        dosing_with("deep-sedation"),
        dosing_with("\"late\""),
        share("SELECT 100.0 * sum(flags LIKE '%\"late\"%') / count(*) FROM entries"),
        share("SELECT 100.0 * sum(correction = 'amend') / count(*) FROM entries"),
        share("SELECT 100.0 * sum(correction = 'strike') / count(*) FROM entries"),
        share("SELECT 100.0 * sum(reason IS NOT NULL) / max(count(*), 1) FROM note_signatures"),
    );

    // The baseline: the same payloads, bare, one transaction per session.
    let mut by_session: Vec<Vec<String>> = Vec::new();
    {
        let mut stmt = chart
            .behind_the_door_ref()
            .raw_connection()
            .prepare("SELECT session_id, payload FROM entries ORDER BY session_id, id")
            .expect("prepare");
        let mut rows = stmt.query([]).expect("query");
        let mut current = None;
        while let Some(row) = rows.next().expect("row") {
            let session: i64 = row.get(0).expect("session");
            if current != Some(session) {
                current = Some(session);
                by_session.push(Vec::new());
            }
            if let Some(last) = by_session.last_mut() {
                last.push(row.get(1).expect("payload"));
            }
        }
    }
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    drop(chart);
    let (_, mut bare) = common::fresh_chart("generate-baseline.db");
    let conn = bare.behind_the_door_ref().raw_connection();
    conn.execute_batch("CREATE TABLE bench_baseline (id INTEGER PRIMARY KEY, payload TEXT)")
        .expect("baseline table");
    // As `generate` writes: commits not fsynced one by one.
    conn.pragma_update(None, "synchronous", "NORMAL")
        .expect("synchronous");
    let started = Instant::now();
    let cpu = cpu_seconds();
    for payloads in &by_session {
        conn.execute_batch("BEGIN IMMEDIATE").expect("begin");
        {
            let mut stmt = conn
                .prepare_cached("INSERT INTO bench_baseline (payload) VALUES (?1)")
                .expect("prepare");
            for p in payloads {
                stmt.execute([p]).expect("insert");
            }
        }
        conn.execute_batch("COMMIT").expect("commit");
    }
    let baseline = started.elapsed().as_secs_f64();
    let baseline_cpu = cpu_seconds() - cpu;
    let _ = &mut bare;

    let per_100k = generated * 100_000.0 / report.entries.max(1) as f64;
    println!(
        "generate: {} patients, {} sessions, {} entries ({:.0} per course), {commits}-{} transactions, chart {:.1} MB",
        report.patients,
        report.sessions,
        report.entries,
        report.entries as f64 / report.patients.max(1) as f64,
        commits + extra,
        size as f64 / 1e6
    );
    println!(
        "generate: {generated:.2} s wall ({generated_cpu:.2} s CPU) = {:.0} entries/s = {per_100k:.1} s per 100,000 entries ({:.1} s CPU) ({progress_calls} progress calls)",
        report.entries as f64 / generated,
        generated_cpu * 100_000.0 / report.entries.max(1) as f64
    );
    println!(
        "baseline: {baseline:.2} s wall ({baseline_cpu:.2} s CPU) for the same payloads bare, {} transactions = {:.0} entries/s",
        by_session.len(),
        report.entries as f64 / baseline
    );
    println!("ratio generate / baseline: {:.2}", generated / baseline);
}
