//! Export to FHIR R4: one dosing session, and a patient's whole course (14 sessions, ~300
//! entries, six signed notes), each read from the chart (`export::session_record_from`,
//! `export::course_record_from`), built into a Bundle (`export::fhir::bundle`) and serialised
//! to JSON, as `kapchart export` does. The same patient in a ten-year clinic chart against a
//! chart with only that patient: the ratio is what the rest of the chart costs.

mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use kapchart::app::Chart;
use kapchart::domain::SessionKind;
use kapchart::export::{self, fhir};
use std::hint::black_box;

struct Side {
    label: &'static str,
    chart: Chart,
    patient: i64,
    session: i64,
}

fn side(label: &'static str, patients: usize) -> Side {
    let chart = common::open(&common::clinic_chart(patients));
    let patient = common::first_patient(&chart);
    let session = chart
        .sessions(Some(patient))
        .expect("sessions")
        .into_iter()
        .find(|s| s.kind == SessionKind::Dosing)
        .expect("a dosing session")
        .id;
    Side {
        label,
        chart,
        patient,
        session,
    }
}

fn session_json(s: &Side) -> String {
    let record = export::session_record_from(
        &s.chart,
        &kapchart::config::Config::default(),
        s.session,
        common::now(),
    )
    .expect("record");
    fhir::bundle(&record).to_string()
}

fn course_json(s: &Side) -> String {
    let record = export::course_record_from(
        &s.chart,
        &kapchart::config::Config::default(),
        s.patient,
        common::now(),
    )
    .expect("record");
    fhir::bundle(&record).to_string()
}

fn exports(c: &mut Criterion) {
    let sides = [
        side("one_patient", 1),
        side("clinic", common::clinic_patients()),
    ];
    for s in &sides {
        eprintln!(
            "{}: session bundle {} KB, course bundle {} KB",
            s.label,
            session_json(s).len() / 1024,
            course_json(s).len() / 1024
        );
    }
    let mut g = c.benchmark_group("export_session_fhir");
    for s in &sides {
        g.bench_function(s.label, |b| b.iter(|| black_box(session_json(s))));
    }
    g.finish();
    let mut g = c.benchmark_group("export_course_fhir");
    for s in &sides {
        g.bench_function(s.label, |b| b.iter(|| black_box(course_json(s))));
    }
    g.finish();
    // The course split: reading the record, and building + serialising the Bundle.
    let mut g = c.benchmark_group("export_course_parts");
    let s = &sides[1];
    g.bench_function("read_record", |b| {
        b.iter(|| {
            black_box(
                export::course_record_from(
                    &s.chart,
                    &kapchart::config::Config::default(),
                    s.patient,
                    common::now(),
                )
                .expect("record"),
            )
        })
    });
    let record = export::course_record_from(
        &s.chart,
        &kapchart::config::Config::default(),
        s.patient,
        common::now(),
    )
    .expect("record");
    g.bench_function("bundle_and_json", |b| {
        b.iter(|| black_box(fhir::bundle(&record).to_string()))
    });
    g.finish();
}

criterion_group!(benches, exports);
criterion_main!(benches);
