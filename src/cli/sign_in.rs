//! Signing in at the command line: who signs in, and the wait that wrong sign-ins before
//! ask for.

use super::Failure;
use crate::app::AppError;
use std::io::IsTerminal;

/// A sign-in at the command line, after the wait that wrong sign-ins before it ask for (they
/// are counted beside the chart, so they add up across commands: `store::sign_in_wait`).
/// The wait and the refusal say how many were wrong in a row, never which of the clinician
/// and the passphrase was.
pub(crate) fn guarded<T>(
    chart: &std::path::Path,
    open: impl FnOnce() -> Result<T, AppError>,
) -> Result<T, AppError> {
    crate::app::sign_in::guarded(
        chart,
        |count, wait| {
            eprintln!(
                "kapchart: {count} wrong sign-ins in a row at this chart; waiting {} s before this one",
                wait.as_millis().div_ceil(1000)
            );
        },
        open,
    )
}

/// Who is signing in: `KAPCHART_CLINICIAN` (an id or a name, any case), or asked at the
/// terminal when the team has more than one clinician. Empty: the team's only clinician
/// (the store refuses it, naming the team, when there are several).
pub(crate) fn who(chart: &std::path::Path) -> Result<String, Failure> {
    if let Some(w) = std::env::var("KAPCHART_CLINICIAN")
        .ok()
        .filter(|w| !w.trim().is_empty())
    {
        return Ok(w);
    }
    let team = crate::app::sign_in::team(chart).unwrap_or_default();
    if team.len() <= 1 || !std::io::stderr().is_terminal() || !std::io::stdin().is_terminal() {
        return Ok(String::new());
    }
    eprintln!("Who is signing in?");
    for m in &team {
        eprintln!("  {:>3}  {} ({})", m.id, m.name, m.role);
    }
    eprint!("Clinician (id or name): ");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    let who = line.trim().to_string();
    // Names are no secret (they are on the sign-in list): an unknown or shared one is said
    // before the passphrase is asked for.
    let list = || {
        team.iter()
            .map(|m| format!("{} {}", m.id, m.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match crate::domain::team::matching(&team, &who).as_slice() {
        [_] => Ok(who),
        [] => Err(Failure::runtime(format!(
            "no clinician '{who}' on this chart's team; the team: {}",
            list()
        ))),
        several => Err(Failure::runtime(format!(
            "more than one clinician is named '{who}' (ids {}); sign in with the id",
            several
                .iter()
                .map(|m| m.id.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}
