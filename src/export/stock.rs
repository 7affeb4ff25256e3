//! The controlled-substance log as a clinic hands it to an inspector: CSV (one row a
//! movement) and printable HTML (a table per container, one line a movement, with the
//! receipt's supplier and DEA number above it and totals in and out below), kept apart from
//! the clinical record (21 CFR 1304.04(h): Schedule III records separate or readily
//! retrievable). Pure: the ledgers come from `app::stock::log`.

use super::csv::text;
use super::report::html::esc;
use crate::domain::entry::trim_number;
use crate::domain::stock::ledger::{ContainerLedger, LedgerLine, MovementKind};
use chrono::{DateTime, FixedOffset};
use std::io::{self, Write};

/// What a movement's own note says: the manner of a waste, the reason of a count or a
/// correction, the beyond-use date of a kept rest.
pub fn note_of(kind: &MovementKind) -> Option<String> {
    match kind {
        MovementKind::Wasted { manner } => Some(manner.clone()),
        MovementKind::Counted { reason } | MovementKind::GivenBack { reason } => {
            Some(reason.clone())
        }
        MovementKind::Kept { beyond_use } => Some(format!("beyond use {beyond_use}")),
        MovementKind::Received | MovementKind::Opened | MovementKind::Administered => None,
    }
    .filter(|n| !n.is_empty())
}

fn in_range(l: &LedgerLine, from: DateTime<FixedOffset>, to: DateTime<FixedOffset>) -> bool {
    l.movement.at >= from && l.movement.at <= to
}

/// One row a movement, with its container's running balance after it.
pub fn csv(
    ledgers: &[ContainerLedger],
    from: DateTime<FixedOffset>,
    to: DateTime<FixedOffset>,
    out: &mut impl Write,
) -> io::Result<()> {
    writeln!(
        out,
        "container,drug,presentation,lot,expires,at,movement,change_mg,change_ml,balance_mg,by,witness,patient,entry,stock_record,note"
    )?;
    for c in ledgers {
        let k = &c.container;
        let p = k.receipt.presentation;
        for l in c.lines.iter().filter(|l| in_range(l, from, to)) {
            let m = &l.movement;
            writeln!(
                out,
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
                k.id,
                text(&k.receipt.drug),
                text(&p.to_string()),
                text(&k.receipt.lot),
                text(&k.receipt.expires),
                m.at.format("%Y-%m-%dT%H:%M:%S%:z"),
                m.kind.label(),
                trim_number(m.change_mg, 3),
                p.ml_of(m.change_mg)
                    .map(|ml| trim_number(ml, 3))
                    .unwrap_or_default(),
                trim_number(l.balance_mg, 3),
                text(&m.who),
                text(m.witness.as_deref().unwrap_or("")),
                text(m.patient.as_deref().unwrap_or("")),
                m.entry.map(|e| e.to_string()).unwrap_or_default(),
                m.stock.map(|e| e.to_string()).unwrap_or_default(),
                text(&note_of(&m.kind).unwrap_or_default()),
            )?;
        }
    }
    Ok(())
}

/// The log as printable HTML.
pub fn html(
    ledgers: &[ContainerLedger],
    clinic: &str,
    from: DateTime<FixedOffset>,
    to: DateTime<FixedOffset>,
    out: &mut impl Write,
) -> io::Result<()> {
    writeln!(
        out,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Controlled-substance log</title>\
<style>body{{font:11pt sans-serif;margin:1.5cm}}table{{border-collapse:collapse;width:100%;margin-bottom:1em}}\
td,th{{border:1px solid #999;padding:2px 4px;text-align:left}}td.n{{text-align:right}}\
section{{break-inside:avoid-page}}h2{{font-size:12pt;margin:1em 0 .2em}}p.meta{{margin:0 0 .4em}}</style></head><body>"
    )?;
    writeln!(
        out,
        "<h1>Controlled-substance log</h1><p class=\"meta\">{}Schedule III record kept apart from the clinical record (21 CFR 1304.04(h)); {} to {}.</p>",
        if clinic.trim().is_empty() {
            String::new()
        } else {
            format!("{}. ", esc(clinic))
        },
        from.format("%Y-%m-%d"),
        to.format("%Y-%m-%d")
    )?;
    if ledgers.is_empty() {
        writeln!(out, "<p>No movements in this period.</p>")?;
    }
    for c in ledgers {
        let k = &c.container;
        let r = &k.receipt;
        writeln!(
            out,
            "<section><h2>{} {} {}, lot {}, expires {}</h2><p class=\"meta\">Received {} from {}, {} (DEA {}){}</p>",
            k.id,
            esc(&r.drug),
            esc(&r.presentation.to_string()),
            esc(&r.lot),
            esc(&r.expires),
            k.received.format("%Y-%m-%d"),
            esc(&r.supplier),
            esc(&r.supplier_address),
            esc(&r.supplier_dea),
            r.invoice
                .as_deref()
                .map(|i| format!(", invoice {}", esc(i)))
                .unwrap_or_default()
        )?;
        writeln!(
            out,
            "<table><thead><tr><th>When</th><th>Movement</th><th>mg</th><th>Balance mg</th><th>By</th><th>Witness</th><th>Patient</th><th>Note</th></tr></thead><tbody>"
        )?;
        let (mut inward, mut outward) = (0.0, 0.0);
        for l in c.lines.iter().filter(|l| in_range(l, from, to)) {
            let m = &l.movement;
            if m.change_mg > 0.0 {
                inward += m.change_mg;
            } else {
                outward -= m.change_mg;
            }
            writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                m.at.format("%Y-%m-%d %H:%M"),
                m.kind.label(),
                trim_number(m.change_mg, 3),
                trim_number(l.balance_mg, 3),
                esc(&m.who),
                esc(m.witness.as_deref().unwrap_or("")),
                esc(m.patient.as_deref().unwrap_or("")),
                esc(&note_of(&m.kind).unwrap_or_default()),
            )?;
        }
        writeln!(
            out,
            "</tbody><tfoot><tr><th colspan=\"2\">In {} mg, out {} mg</th><th colspan=\"6\">Balance now {} mg</th></tr></tfoot></table></section>",
            trim_number(inward, 3),
            trim_number(outward, 3),
            trim_number(c.balance_mg(), 3)
        )?;
    }
    writeln!(out, "</body></html>")
}
