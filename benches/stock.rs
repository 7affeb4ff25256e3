//! The controlled-substance log at a ten-year clinic's scale (2,000 patients, or
//! `KAPCHART_BENCH_PATIENTS`: the chart `kapchart demo --patients N` makes, from the same
//! generator, with its deliveries, vials drawn by the doses and wasted at each session's end)
//! beside a chart with one patient (one delivery, a few vials drawn).
//!
//! - `stock/*/log_month`: `app::stock::log` for ketamine over the chart's newest month (what
//!   `kapchart stock log --drug ketamine --from --to` reads: each container that moved in
//!   the month, with its whole ledger so that the running balance is right);
//! - `stock/*/show`: `app::stock::on_hand` (what `kapchart stock show` and the Stock screen
//!   read: the containers still holding something, with their ledgers).
//!
//! Printed first: how many containers and movements each chart holds and how many each read
//! returns. The ratio clinic / one patient is what the bench is for: the log of a month and
//! the stock on hand should cost what they show, not the chart's ten years.

mod common;

use chrono::{DateTime, Duration, FixedOffset};
use criterion::{Criterion, criterion_group, criterion_main};
use kapchart::app::{Chart, stock};
use std::hint::black_box;

/// The newest month of the chart's stock log: the thirty days up to its last movement.
fn newest_month(chart: &Chart) -> (DateTime<FixedOffset>, DateTime<FixedOffset>) {
    let last = stock::all(chart)
        .expect("the stock")
        .iter()
        .filter_map(|l| l.lines.last().map(|x| x.movement.at))
        .max()
        .expect("a chart with stock");
    (last - Duration::days(30), last)
}

fn stock_reads(c: &mut Criterion) {
    let sides = [
        ("one_patient_chart", common::clinic_chart(1)),
        ("clinic", common::clinic_chart(common::clinic_patients())),
    ];
    let mut g = c.benchmark_group("stock");
    for (label, path) in &sides {
        let chart = common::open(path);
        let all = stock::all(&chart).expect("the stock");
        let movements: usize = all.iter().map(|l| l.lines.len()).sum();
        let (from, to) = newest_month(&chart);
        let month = stock::log(&chart, Some("ketamine"), from, to).expect("log");
        let on_hand = stock::on_hand(&chart).expect("on hand");
        eprintln!(
            "{label}: {} patients, {} containers, {movements} movements; the month to {}: {} containers, {} movements in it; {} on hand",
            chart
                .behind_the_door_ref()
                .patient_count()
                .expect("patients"),
            all.len(),
            to.format("%Y-%m-%d"),
            month.len(),
            month
                .iter()
                .flat_map(|l| &l.lines)
                .filter(|x| x.movement.at >= from && x.movement.at <= to)
                .count(),
            on_hand.len()
        );
        g.bench_function(format!("{label}/log_month"), |b| {
            b.iter(|| black_box(stock::log(&chart, Some("ketamine"), from, to).expect("log")))
        });
        g.bench_function(format!("{label}/show"), |b| {
            b.iter(|| black_box(stock::on_hand(&chart).expect("on hand")))
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = stock_reads
}
criterion_main!(benches);
