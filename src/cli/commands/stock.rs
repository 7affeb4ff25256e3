//! `kapchart stock`: the controlled-substance log (21 CFR 1304.22(c)). Receipts, opening a
//! container, keeping a vial's rest, counts, inventories, strikes of a wrong record, what is
//! on hand, and the log an inspector reads. Doses and wastes are charted as lines
//! (`kapchart log`: `dose ketamine 35mg IM vial V12`, `waste ketamine 10mg vial V12 witness`).

use crate::app::stock;
use crate::cli::lines::to_json;
use crate::cli::parse::{parse_container, parse_date};
use crate::cli::{Ctx, Failure, Outcome};
use crate::domain::entry::trim_number;
use crate::domain::stock::ledger::{ContainerLedger, LedgerLine};
use crate::domain::stock::{
    BusinessHours, ContainerId, InventoryKind, Presentation, Receipt, StrengthText, parse_expiry,
    parse_strength, parse_volume,
};
use chrono::NaiveDate;
use clap::Subcommand;
use serde_json::{Value, json};
use std::io::Write;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Record a delivery: each container gets an id (V12) and its full content
    Receive {
        /// The drug, as configured ([drugs] known), e.g. ketamine
        drug: String,
        /// Strength: mg per mL for a vial (50mg/mL), or mg per device (28mg)
        #[arg(long)]
        strength: String,
        /// Volume of each vial, e.g. 10mL (not for devices)
        #[arg(long)]
        volume: Option<String>,
        /// How many containers arrived
        #[arg(long)]
        containers: u32,
        #[arg(long)]
        lot: String,
        /// Expiry as printed, YYYY-MM
        #[arg(long)]
        expires: String,
        /// The supplier's name
        #[arg(long)]
        supplier: String,
        #[arg(long = "supplier-address")]
        supplier_address: String,
        /// The supplier's DEA registration number
        #[arg(long = "supplier-dea")]
        supplier_dea: String,
        /// The invoice or DEA Form 222 / CSOS reference
        #[arg(long)]
        invoice: Option<String>,
    },
    /// Open (break the seal of) a container, like V12
    Open {
        #[arg(value_parser = parse_container)]
        container: ContainerId,
    },
    /// Keep the rest of an opened vial for a later session, until its beyond-use date
    Keep {
        #[arg(value_parser = parse_container)]
        container: ContainerId,
    },
    /// Record a physical count: V12=465 (measured) or V12~465 (estimated, an opened
    /// container), in mg; a difference from the ledger needs --reason
    Count {
        /// Each container counted and what it holds in mg
        #[arg(required = true)]
        counted: Vec<String>,
        /// opening or close (of business)
        #[arg(long, default_value = "close")]
        taken: String,
        /// Why the count differs from the ledger (recorded)
        #[arg(long)]
        reason: Option<String>,
    },
    /// Record an inventory (21 CFR 1304.11) of every container on hand
    Inventory {
        /// initial, biennial or on-demand
        #[arg(long)]
        kind: String,
        /// opening or close (of business)
        #[arg(long, default_value = "close")]
        taken: String,
    },
    /// Waste what is left of a container outside any session (a kept vial past its
    /// beyond-use date, one dropped), with the reason; a second clinician witnesses it
    /// (`stock witness RECORD`)
    Waste {
        #[arg(value_parser = parse_container)]
        container: ContainerId,
        /// How much, in mg (default: all it holds; a device only whole)
        #[arg(long, value_parser = parse_mg)]
        mg: Option<f64>,
        /// How it was disposed of (default: [stock] waste_manner)
        #[arg(long)]
        manner: Option<String>,
        /// Why it is wasted outside a session (recorded)
        #[arg(long)]
        reason: String,
    },
    /// Witness another clinician's waste outside a session, signed in as yourself
    /// (KAPCHART_CLINICIAN)
    Witness {
        /// The waste's stock record, as `stock waste` printed it
        record: i64,
    },
    /// Strike a wrong stock record (a receipt, open, keep, count, waste or witness), with the
    /// reason
    Strike {
        record: i64,
        #[arg(long)]
        reason: String,
    },
    /// The containers on hand: sealed, open and kept, with their balances
    Show {
        /// Print them as JSON (`{"containers": [...]}`: id, drug, lot, state, balance)
        #[arg(long)]
        json: bool,
    },
    /// Every movement of each container, with its running balance, who and the witness
    Log {
        #[arg(long)]
        drug: Option<String>,
        /// From this day (YYYY-MM-DD, local), default the first
        #[arg(long, value_parser = parse_date)]
        from: Option<NaiveDate>,
        /// To this day (YYYY-MM-DD, local), default today
        #[arg(long, value_parser = parse_date)]
        to: Option<NaiveDate>,
        /// text, csv, html, json or fhir (a FHIR R4 Bundle)
        #[arg(long, default_value = "text")]
        format: String,
    },
}

fn hours(text: &str) -> Result<BusinessHours, Failure> {
    BusinessHours::parse(text.trim()).ok_or_else(|| {
        Failure::runtime(format!(
            "--taken '{text}' is not understood; expected opening or close (of business)"
        ))
    })
}

fn counted_line(text: &str) -> Result<(ContainerId, f64, bool), Failure> {
    let bad = || {
        Failure::runtime(format!(
            "'{text}' is not a count; expected a container and its mg, like V12=465 (measured) or V12~465 (estimated)"
        ))
    };
    let (id, mg, estimated) = if let Some((id, mg)) = text.split_once('=') {
        (id, mg, false)
    } else if let Some((id, mg)) = text.split_once('~') {
        (id, mg, true)
    } else {
        return Err(bad());
    };
    let container = ContainerId::parse(id.trim()).ok_or_else(bad)?;
    let mg = mg.trim().trim_end_matches("mg").trim();
    let mg: f64 = mg.parse().map_err(|_| bad())?;
    if !mg.is_finite() || mg < 0.0 {
        return Err(bad());
    }
    Ok((container, mg, estimated))
}

fn receipt_of(cmd: &Command, known: &[String]) -> Result<Receipt, Failure> {
    let Command::Receive {
        drug,
        strength,
        volume,
        containers,
        lot,
        expires,
        supplier,
        supplier_address,
        supplier_dea,
        invoice,
    } = cmd
    else {
        return Err(Failure::runtime("not a receipt"));
    };
    let drug = drug.trim().to_lowercase();
    if !known.contains(&drug) {
        return Err(Failure::runtime(format!(
            "'{drug}' is not a drug this clinic charts; expected one of: {}",
            known.join(", ")
        )));
    }
    let presentation = match (parse_strength(strength).map_err(Failure::runtime)?, volume) {
        (StrengthText::PerMl(mg_per_ml), Some(v)) => Presentation::Vial {
            mg_per_ml,
            ml: parse_volume(v).map_err(Failure::runtime)?,
        },
        (StrengthText::PerMl(_), None) => {
            return Err(Failure::runtime(
                "a vial's volume is recorded with its strength: give --volume, like 10mL",
            ));
        }
        (StrengthText::PerDevice(mg), None) => Presentation::Device { mg },
        (StrengthText::PerDevice(_), Some(_)) => {
            return Err(Failure::runtime(
                "a strength in mg alone is a device's; for a vial give mg per mL (50mg/mL) with --volume",
            ));
        }
    };
    Ok(Receipt {
        drug,
        presentation,
        containers: *containers,
        lot: lot.trim().to_string(),
        expires: parse_expiry(expires).map_err(Failure::runtime)?,
        supplier: supplier.trim().to_string(),
        supplier_address: supplier_address.trim().to_string(),
        supplier_dea: supplier_dea.trim().to_string(),
        invoice: invoice.as_ref().map(|i| i.trim().to_string()),
    })
}

pub fn run(ctx: &Ctx, cmd: Command, out: &mut impl Write) -> Outcome {
    let now = crate::clock::now_local();
    match cmd {
        Command::Receive { .. } => {
            let receipt = receipt_of(&cmd, &ctx.config.drugs.known)?;
            let mut chart = ctx.open()?;
            let (id, containers) = stock::receive(&mut chart, &receipt, &now)?;
            crate::logging::event(&ctx.paths.log, "stock.receive", &[]);
            let ids: Vec<String> = containers.iter().map(ContainerId::to_string).collect();
            writeln!(out, "receipt {id}: {}", ids.join(" "))?;
        }
        Command::Open { container } => {
            let mut chart = ctx.open()?;
            let id = stock::open(&mut chart, container, &now)?;
            crate::logging::event(&ctx.paths.log, "stock.open", &[]);
            writeln!(out, "{container} opened (stock record {id})")?;
        }
        Command::Keep { container } => {
            let mut chart = ctx.open()?;
            let until = stock::keep(&mut chart, &ctx.config, container, &now)?;
            crate::logging::event(&ctx.paths.log, "stock.keep", &[]);
            writeln!(out, "{container} kept until {until}")?;
        }
        Command::Count {
            counted,
            taken,
            reason,
        } => {
            let taken = hours(&taken)?;
            let lines = counted
                .iter()
                .map(|c| counted_line(c))
                .collect::<Result<Vec<_>, _>>()?;
            let mut chart = ctx.open()?;
            let done = stock::count(
                &mut chart,
                &ctx.config,
                &lines,
                taken,
                reason.as_deref(),
                &now,
            )?;
            crate::logging::event(&ctx.paths.log, "stock.count", &[]);
            writeln!(out, "count {} ({} of business)", done.id, taken.label())?;
            for l in &done.count.lines {
                let diff = l.difference_mg();
                let mark = if l.balances() {
                    "balances".to_string()
                } else {
                    format!("DIFFERS by {} mg", signed(diff))
                };
                writeln!(
                    out,
                    "  {:<6} expected {:>9} mg  counted {:>9} mg{}  {mark}",
                    l.container.to_string(),
                    trim_number(l.expected_mg, 3),
                    trim_number(l.counted_mg, 3),
                    if l.estimated { " (est.)" } else { "" },
                )?;
            }
            if let Some(n) = done.notice {
                writeln!(
                    out,
                    "{} mg missing: past the clinic's threshold ([stock] significant_loss_mg), a theft or significant loss is noticed to the DEA Field Division in writing by {} (one business day), and DEA Form 106 filed within 45 days (88 FR 40707); kapchart does not file either",
                    trim_number(n.missing_mg, 3),
                    n.notice_by
                )?;
            }
        }
        Command::Inventory { kind, taken } => {
            let kind = InventoryKind::parse(kind.trim()).ok_or_else(|| {
                Failure::runtime(format!(
                    "--kind '{kind}' is not an inventory; expected initial, biennial or on-demand"
                ))
            })?;
            let taken = hours(&taken)?;
            let mut chart = ctx.open()?;
            let (id, inv) = stock::inventory(&mut chart, kind, taken, &now)?;
            crate::logging::event(&ctx.paths.log, "stock.inventory", &[]);
            writeln!(
                out,
                "inventory {id}: {} at {} of business, {} on {}, {} containers",
                kind.label(),
                taken.label(),
                chart.clinician().name,
                now.date_naive(),
                inv.lines.len()
            )?;
            for l in &inv.lines {
                writeln!(
                    out,
                    "  {:<6} {:>9} mg{}",
                    l.container.to_string(),
                    trim_number(l.counted_mg, 3),
                    if l.estimated {
                        " (estimated: opened)"
                    } else {
                        ""
                    }
                )?;
            }
        }
        Command::Waste {
            container,
            mg,
            manner,
            reason,
        } => {
            let mut chart = ctx.open()?;
            let (id, wasted) = stock::waste(
                &mut chart,
                &ctx.config,
                container,
                mg,
                manner.as_deref(),
                &reason,
                &now,
            )?;
            crate::logging::event(&ctx.paths.log, "stock.waste", &[]);
            writeln!(
                out,
                "{container}: {} mg wasted (stock record {id}), awaiting a witness: another clinician runs `kapchart stock witness {id}`",
                trim_number(wasted, 3)
            )?;
        }
        Command::Witness { record } => {
            let mut chart = ctx.open()?;
            let id = stock::witness_waste(&mut chart, record, &now)?;
            crate::logging::event(&ctx.paths.log, "stock.witness", &[]);
            writeln!(
                out,
                "stock record {record} witnessed by {} (stock record {id})",
                chart.clinician().name
            )?;
        }
        Command::Strike { record, reason } => {
            let mut chart = ctx.open()?;
            let id = stock::strike(&mut chart, record, &reason, &now)?;
            crate::logging::event(&ctx.paths.log, "stock.strike", &[]);
            writeln!(out, "{id}")?;
        }
        Command::Show { json } => {
            let chart = ctx.open()?;
            let on_hand = stock::on_hand(&chart)?;
            if json {
                let rows: Vec<Value> = on_hand.iter().map(container_json).collect();
                writeln!(out, "{}", to_json(&json!({ "containers": rows })))?;
            } else if on_hand.is_empty() {
                writeln!(
                    out,
                    "no controlled substances on hand (kapchart stock receive records a delivery)"
                )?;
            } else {
                for l in &on_hand {
                    writeln!(out, "{}", container_line(l))?;
                }
            }
        }
        Command::Log {
            drug,
            from,
            to,
            format,
        } => {
            let tz = now.timezone();
            let from_t = from
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .and_then(|t| t.and_local_timezone(tz).earliest())
                .map_or_else(
                    || {
                        chrono::DateTime::from_timestamp_millis(0)
                            .unwrap_or_default()
                            .fixed_offset()
                    },
                    |t| t.fixed_offset(),
                );
            let to_t = to
                .and_then(|d| d.and_hms_milli_opt(23, 59, 59, 999))
                .and_then(|t| t.and_local_timezone(tz).latest())
                .map_or(now.fixed_offset(), |t| t.fixed_offset());
            let drug = drug.map(|d| d.trim().to_lowercase());
            let mut chart = ctx.open()?;
            let ledgers = stock::log(&chart, drug.as_deref(), from_t, to_t)?;
            // The log names the patients doses went to: a look at the record, audited.
            let access = stock::log_access(&chart)?;
            crate::cli::audited::record_access(&mut chart, access);
            let in_range = |l: &&LedgerLine| l.movement.at >= from_t && l.movement.at <= to_t;
            match format.as_str() {
                "text" => {
                    for c in &ledgers {
                        writeln!(out, "{}", container_line(c))?;
                        for l in c.lines.iter().filter(in_range) {
                            writeln!(out, "  {}", movement_line(l))?;
                        }
                    }
                }
                "json" => {
                    let rows: Vec<Value> = ledgers
                        .iter()
                        .map(|c| {
                            let mut v = container_json(c);
                            v["movements"] =
                                c.lines.iter().filter(in_range).map(movement_json).collect();
                            v
                        })
                        .collect();
                    writeln!(out, "{}", to_json(&json!({ "containers": rows })))?;
                }
                "csv" => crate::export::stock::csv(&ledgers, from_t, to_t, out)?,
                "html" => crate::export::stock::html(
                    &ledgers,
                    &ctx.config.chart.clinic,
                    from_t,
                    to_t,
                    out,
                )?,
                "fhir" => {
                    let log = crate::app::stock_log::stock_log(
                        &chart,
                        &ctx.config,
                        drug.as_deref(),
                        from_t,
                        to_t,
                        now.fixed_offset(),
                    )?;
                    writeln!(out, "{}", to_json(&crate::export::fhir::stock_bundle(&log)))?;
                }
                other => {
                    return Err(Failure::runtime(format!(
                        "--format '{other}' is not one the log is written in; expected text, csv, html, json or fhir"
                    )));
                }
            }
        }
    }
    Ok(())
}

fn signed(mg: f64) -> String {
    if mg > 0.0 {
        format!("+{}", trim_number(mg, 3))
    } else {
        trim_number(mg, 3)
    }
}

/// "V12  ketamine 50 mg/mL, 10 mL vial  lot L123 exp 2027-06  open  465 mg (9.3 mL)"
fn container_line(l: &ContainerLedger) -> String {
    let c = &l.container;
    let ml = l
        .balance_ml()
        .map(|ml| format!(" ({} mL)", trim_number(ml, 3)))
        .unwrap_or_default();
    let state = match l.state() {
        crate::domain::stock::ledger::ContainerState::Kept { beyond_use } => {
            format!("kept until {beyond_use}")
        }
        s => s.label().to_string(),
    };
    format!(
        "{:<6} {} {}  lot {} exp {}  {state}  {} mg{ml}",
        c.id.to_string(),
        c.receipt.drug,
        c.receipt.presentation,
        c.receipt.lot,
        c.receipt.expires,
        trim_number(l.balance_mg(), 3)
    )
}

fn movement_line(l: &LedgerLine) -> String {
    let m = &l.movement;
    let mut text = format!(
        "{}  {:<14} {:>9} mg  balance {:>9} mg  by {}",
        m.at.format("%Y-%m-%d %H:%M"),
        m.kind.label(),
        signed(m.change_mg),
        trim_number(l.balance_mg, 3),
        m.who
    );
    if let Some(w) = &m.witness {
        text.push_str(&format!(", witness {w}"));
    }
    if let Some(p) = &m.patient {
        text.push_str(&format!(", patient {p}"));
    }
    if let Some(e) = m.entry {
        text.push_str(&format!(" (entry {e})"));
    }
    if let Some(s) = m.stock {
        text.push_str(&format!(" (stock record {s})"));
    }
    if let Some(note) = crate::export::stock::note_of(&m.kind) {
        text.push_str(&format!(": {note}"));
    }
    text
}

fn container_json(l: &ContainerLedger) -> Value {
    let c = &l.container;
    json!({
        "id": c.id.to_string(),
        "drug": c.receipt.drug,
        "presentation": c.receipt.presentation.to_string(),
        "lot": c.receipt.lot,
        "expires": c.receipt.expires,
        "state": l.state().label(),
        "balance_mg": l.balance_mg(),
        "balance_ml": l.balance_ml(),
        "receipt": c.receipt_id,
        "supplier": c.receipt.supplier,
        "supplier_dea": c.receipt.supplier_dea,
    })
}

fn movement_json(l: &LedgerLine) -> Value {
    let m = &l.movement;
    json!({
        "id": m.id,
        "at": m.at.to_rfc3339(),
        "kind": m.kind.label(),
        "change_mg": m.change_mg,
        "balance_mg": l.balance_mg,
        "who": m.who,
        "witness": m.witness,
        "patient": m.patient,
        "entry": m.entry,
        "stock_record": m.stock,
        "note": crate::export::stock::note_of(&m.kind),
    })
}

/// `--mg 314.4` or `--mg 314.4mg`: more than 0.
fn parse_mg(text: &str) -> Result<f64, String> {
    let digits = text.trim().trim_end_matches("mg").trim();
    match digits.parse::<f64>() {
        Ok(mg) if mg.is_finite() && mg > 0.0 => Ok(mg),
        _ => Err(format!(
            "'{text}' is not an amount in mg; expected a number above 0, like 120 or 120mg"
        )),
    }
}
