//! `kapchart clinician add|update|list|remove`: the clinic's team. Adding and removing are for
//! admins; the newcomer's passphrase is asked twice at the terminal (they type it
//! themselves), or taken from KAPCHART_NEW_PASSPHRASE for scripts.

use crate::cli::lines::to_json;
use crate::cli::prompt::{Ask, check_strength, passphrase};
use crate::cli::{Ctx, Failure, Outcome};
use crate::domain::npi::IdentifierKind;
use crate::domain::team::Role;
use chrono::Local;
use clap::Subcommand;
use std::io::Write;
use zeroize::Zeroizing;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Add a clinician to the team (admins only); prints the new id. Their passphrase is
    /// asked twice, or taken from KAPCHART_NEW_PASSPHRASE
    Add {
        /// Their name as it appears on entries and notes
        #[arg(long)]
        name: String,
        /// prescriber, therapist, nurse, monitor or admin
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Credentials after their name, e.g. "MD", "RN", "LMFT"
        #[arg(long)]
        credentials: Option<String>,
    },
    /// Record a clinician's NPI and the clinic's staff id for them (admins only), by which a
    /// clinic's FHIR server matches them across laptops; an empty value withdraws one
    Update {
        id: i64,
        /// Their National Provider Identifier (ten digits; the check digit is checked)
        #[arg(long)]
        npi: Option<String>,
        /// The clinic's staff id for them, issued under `[clinic] staff_id_system`
        #[arg(long)]
        staff_id: Option<String>,
    },
    /// The team: id, name, role, credentials, NPI and staff id, when added, when removed
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove a clinician from the team (admins only). The chart is re-keyed so that their
    /// passphrase no longer opens it; their name stays on what they charted. Needs every
    /// other kapchart using the chart closed
    Remove {
        id: i64,
        /// Why, e.g. "left the clinic" (recorded)
        #[arg(long)]
        reason: String,
    },
}

/// "NPI 1234567893, staff id S-0042" for one clinician; empty when none.
fn identifiers_of(all: &[(i64, IdentifierKind, String)], id: i64) -> String {
    all.iter()
        .filter(|(c, _, _)| *c == id)
        .map(|(_, k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
}

pub fn run(ctx: &Ctx, cmd: Command, out: &mut impl Write) -> Outcome {
    match cmd {
        Command::Add {
            name,
            role,
            credentials,
        } => {
            let mut chart = ctx.open()?;
            if !chart.role()?.is_some_and(Role::manages_team) {
                return Err(Failure::runtime(format!(
                    "only an admin may add clinicians to the team; {} is signed in; nothing was changed",
                    chart.clinician().name
                )));
            }
            let pass = newcomer_passphrase(&name)?;
            check_strength(&ctx.config, &pass, &name, "nobody was added")?;
            let id = chart.add_team_member(
                &name,
                role,
                credentials.as_deref(),
                &pass,
                crate::clock::now(),
            )?;
            crate::logging::event(&ctx.paths.log, "team.add", &[("clinician", id)]);
            writeln!(out, "{id}")?;
            Ok(())
        }
        Command::Update { id, npi, staff_id } => {
            let mut chart = ctx.open()?;
            chart.record_clinician_identifiers(
                id,
                npi.as_deref(),
                staff_id.as_deref(),
                crate::clock::now(),
            )?;
            crate::logging::event(&ctx.paths.log, "team.identifier", &[("clinician", id)]);
            let standing = identifiers_of(&chart.clinician_identifiers()?, id);
            writeln!(
                out,
                "clinician {id}: {}",
                if standing.is_empty() {
                    "no NPI or staff id recorded".to_string()
                } else {
                    standing
                }
            )?;
            Ok(())
        }
        Command::List { json } => {
            let chart = ctx.open()?;
            let members = chart.team_members()?;
            let identifiers = chart.clinician_identifiers()?;
            let of = |id: i64, kind: IdentifierKind| {
                identifiers
                    .iter()
                    .find(|(c, k, _)| *c == id && *k == kind)
                    .map(|(_, _, v)| v.clone())
            };
            // A removal is not called done while the removed clinician's keyring entry still
            // opens the chart key (its re-key was interrupted).
            let unfinished: Vec<i64> = chart
                .unfinished_removals()?
                .into_iter()
                .map(|m| m.id)
                .collect();
            if json {
                let v: Vec<serde_json::Value> = members
                    .iter()
                    .map(|m| {
                        serde_json::json!({
                            "id": m.id,
                            "name": m.name,
                            "role": m.role,
                            "credentials": m.credentials,
                            "npi": of(m.id, IdentifierKind::Npi),
                            "staff_id": of(m.id, IdentifierKind::Staff),
                            "added": m.added_at.to_rfc3339(),
                            "removed": m.removed_at.map(|t| t.to_rfc3339()),
                            "removal": m.removed,
                            // Null for a clinician who stands.
                            "removal_finished": m.removed.as_ref().map(|_| !unfinished.contains(&m.id)),
                        })
                    })
                    .collect();
                writeln!(out, "{}", to_json(&v))?;
            } else {
                for m in &members {
                    let name = match &m.credentials {
                        Some(c) => format!("{}, {c}", m.name),
                        None => m.name.clone(),
                    };
                    let added = m.added_at.with_timezone(&Local).format("%Y-%m-%d");
                    let removed = m
                        .removed_at
                        .map(|t| {
                            if unfinished.contains(&m.id) {
                                format!(
                                    "  removal begun {}, NOT FINISHED: their passphrase still opens the chart until kapchart runs with no other kapchart using the chart",
                                    t.with_timezone(&Local).format("%Y-%m-%d")
                                )
                            } else {
                                format!("  removed {}", t.with_timezone(&Local).format("%Y-%m-%d"))
                            }
                        })
                        .unwrap_or_default();
                    let me = if m.id == chart.clinician().id {
                        "  (you)"
                    } else {
                        ""
                    };
                    let ids = identifiers_of(&identifiers, m.id);
                    let ids = if ids.is_empty() {
                        ids
                    } else {
                        format!("  {ids}")
                    };
                    writeln!(
                        out,
                        "{:>4}  {name}  {}{ids}  added {added}{removed}{me}",
                        m.id, m.role
                    )?;
                }
            }
            Ok(())
        }
        Command::Remove { id, reason } => {
            let mut chart = ctx.open_alone()?;
            let name = chart
                .team_members()?
                .into_iter()
                .find(|m| m.id == id)
                .map(|m| m.name)
                .ok_or_else(|| {
                    Failure::runtime(format!(
                        "no clinician {id} on this chart's team (kapchart clinician list); nothing was changed"
                    ))
                })?;
            chart.remove_team_member(id, &reason, crate::clock::now())?;
            crate::logging::event(&ctx.paths.log, "team.remove", &[("clinician", id)]);
            writeln!(
                out,
                "removed {name} (id {id}) from the team; the chart was re-keyed: their passphrase no longer opens it, and what they charted keeps their name"
            )?;
            Ok(())
        }
    }
}

/// The newcomer's passphrase: KAPCHART_NEW_PASSPHRASE, or asked twice without echo.
fn newcomer_passphrase(name: &str) -> Result<Zeroizing<String>, Failure> {
    passphrase(&Ask {
        env: "KAPCHART_NEW_PASSPHRASE",
        no_terminal: "no passphrase for the new clinician: set KAPCHART_NEW_PASSPHRASE, or run kapchart clinician add in a terminal to be asked; nobody was added",
        prompt: &format!("Passphrase for {name} (they type it): "),
        empty: None,
        again: Some((
            "Same passphrase again: ",
            "the two passphrases differ; nobody was added",
        )),
    })
}
