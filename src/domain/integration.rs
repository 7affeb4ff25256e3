//! Integration after dosing: each dosing session calls for an integration session within 48 to
//! 72 hours (clinical.md section 1: "Integration session within 48 to 72 hours of dosing";
//! integration is called the most critical phase). Pure: the caller passes the time.
//!
//! The window is measured from the dose: the first dose of a drug that starts the session
//! clock, as the session's chart derives it (so a dose charted `@-50m` before the session was
//! opened counts from when it was given). A dosing session with no such dose standing counts
//! from its start, so that it still gets its reminder. The caller passes each session's first
//! dose ([`FirstDoses`]).
//!
//! An integration session is done for a dosing session when an integration session names it
//! in `dosing_session_id`, whenever that session took place: kapchart records and reminds,
//! the clinician judges whether a late or early integration was right.

use super::{PatientId, Session, SessionId, SessionKind};
use chrono::{DateTime, Duration, FixedOffset};
use std::collections::HashMap;

/// The first dose of each dosing session that has one (from each session's chart).
pub type FirstDoses = HashMap<SessionId, DateTime<FixedOffset>>;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The integration window, from the `[integration]` table of the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "IntegrationToml")]
pub struct IntegrationRules {
    /// The window opens this many hours after dosing (48, clinical.md section 1).
    pub due_after_hours: u32,
    /// The window closes this many hours after dosing (72, clinical.md section 1); after it the
    /// integration is overdue.
    pub due_before_hours: u32,
}

impl Default for IntegrationRules {
    fn default() -> Self {
        IntegrationRules {
            due_after_hours: 48,
            due_before_hours: 72,
        }
    }
}

/// The `[integration]` table as written, before it is checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IntegrationToml {
    due_after_hours: u32,
    due_before_hours: u32,
}

impl TryFrom<IntegrationToml> for IntegrationRules {
    type Error = String;
    fn try_from(t: IntegrationToml) -> Result<Self, Self::Error> {
        if t.due_before_hours <= t.due_after_hours {
            return Err(format!(
                "integration due_before_hours {} must be after due_after_hours {}",
                t.due_before_hours, t.due_after_hours
            ));
        }
        Ok(IntegrationRules {
            due_after_hours: t.due_after_hours,
            due_before_hours: t.due_before_hours,
        })
    }
}

/// Where the integration for one dosing session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IntegrationStatus {
    /// An integration session links to the dosing session.
    Done { session: SessionId },
    /// Not yet in the window; the window opens at `from`.
    Upcoming { from: DateTime<FixedOffset> },
    /// Inside the window (both ends included); it closes at `until`.
    Due { until: DateTime<FixedOffset> },
    /// The window closed at `since` with no integration session linked.
    Overdue { since: DateTime<FixedOffset> },
}

impl IntegrationStatus {
    pub fn is_done(&self) -> bool {
        matches!(self, IntegrationStatus::Done { .. })
    }

    /// Overdue first, then due, upcoming, done.
    fn rank(&self) -> u8 {
        match self {
            IntegrationStatus::Overdue { .. } => 0,
            IntegrationStatus::Due { .. } => 1,
            IntegrationStatus::Upcoming { .. } => 2,
            IntegrationStatus::Done { .. } => 3,
        }
    }
}

impl fmt::Display for IntegrationStatus {
    /// "integration done (session 7)", "integration from 28 Nov 12:00",
    /// "integration due until 29 Nov 12:00", "integration overdue since 29 Nov 12:00".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let when = |t: &DateTime<FixedOffset>| t.format("%-d %b %H:%M").to_string();
        match self {
            IntegrationStatus::Done { session } => {
                write!(f, "integration done (session {session})")
            }
            IntegrationStatus::Upcoming { from } => write!(f, "integration from {}", when(from)),
            IntegrationStatus::Due { until } => write!(f, "integration due until {}", when(until)),
            IntegrationStatus::Overdue { since } => {
                write!(f, "integration overdue since {}", when(since))
            }
        }
    }
}

/// The integration a dosing session calls for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegrationDue {
    pub dosing: SessionId,
    pub patient: PatientId,
    /// (opens, closes): `due_after_hours` and `due_before_hours` after the dosing session's
    /// first dose, or its start while it has none.
    pub window: (DateTime<FixedOffset>, DateTime<FixedOffset>),
    pub status: IntegrationStatus,
}

/// The integration window of one dosing session whose first dose was at `first_dose` (see
/// the module notes for the anchor).
pub fn window(
    dosing: &Session,
    first_dose: Option<DateTime<FixedOffset>>,
    rules: &IntegrationRules,
) -> (DateTime<FixedOffset>, DateTime<FixedOffset>) {
    let anchor = first_dose.unwrap_or(dosing.started);
    (
        anchor + Duration::hours(i64::from(rules.due_after_hours)),
        anchor + Duration::hours(i64::from(rules.due_before_hours)),
    )
}

/// The integration status of every dosing session in `sessions` (any patients) at `now`:
/// overdue first, then due, then upcoming, each by window start; done ones last.
pub fn integrations(
    sessions: &[Session],
    first_doses: &FirstDoses,
    rules: &IntegrationRules,
    now: DateTime<FixedOffset>,
) -> Vec<IntegrationDue> {
    // The first integration session of each dosing session, found in one pass: a clinic's
    // ten years hold tens of thousands of sessions.
    let mut first_integration: std::collections::HashMap<SessionId, &Session> =
        std::collections::HashMap::new();
    for s in sessions
        .iter()
        .filter(|s| s.kind == SessionKind::Integration)
    {
        if let Some(d) = s.dosing_session_id {
            let slot = first_integration.entry(d).or_insert(s);
            if (s.started, s.id) < (slot.started, slot.id) {
                *slot = s;
            }
        }
    }
    let mut out: Vec<IntegrationDue> = sessions
        .iter()
        .filter(|s| s.kind == SessionKind::Dosing)
        .map(|dosing| {
            let (from, until) = window(dosing, first_doses.get(&dosing.id).copied(), rules);
            let done = first_integration.get(&dosing.id);
            let status = match done {
                Some(s) => IntegrationStatus::Done { session: s.id },
                None if now < from => IntegrationStatus::Upcoming { from },
                None if now <= until => IntegrationStatus::Due { until },
                None => IntegrationStatus::Overdue { since: until },
            };
            IntegrationDue {
                dosing: dosing.id,
                patient: dosing.patient_id,
                window: (from, until),
                status,
            }
        })
        .collect();
    out.sort_by_key(|d| (d.status.rank(), d.window.0, d.dosing));
    out
}

/// The integrations still to do (upcoming, due or overdue), in the order of [`integrations`].
pub fn pending(
    sessions: &[Session],
    first_doses: &FirstDoses,
    rules: &IntegrationRules,
    now: DateTime<FixedOffset>,
) -> Vec<IntegrationDue> {
    let mut out = integrations(sessions, first_doses, rules, now);
    out.retain(|d| !d.status.is_done());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(d: u32, h: u32, m: u32) -> DateTime<FixedOffset> {
        FixedOffset::east_opt(3600)
            .unwrap()
            .with_ymd_and_hms(2026, 11, d, h, m, 0)
            .unwrap()
    }

    fn rules() -> IntegrationRules {
        IntegrationRules::default()
    }

    fn session(
        id: SessionId,
        kind: SessionKind,
        started: DateTime<FixedOffset>,
        ended: Option<DateTime<FixedOffset>>,
    ) -> Session {
        Session {
            id,
            patient_id: 1,
            kind,
            started,
            ended,
            clinician: "Dr Lee".into(),
            intention: None,
            dosing_session_id: None,
        }
    }

    fn dosing(id: SessionId, started: DateTime<FixedOffset>) -> Session {
        session(
            id,
            SessionKind::Dosing,
            started,
            Some(started + Duration::hours(2)),
        )
    }

    fn integration(id: SessionId, of: SessionId, started: DateTime<FixedOffset>) -> Session {
        Session {
            dosing_session_id: Some(of),
            ..session(id, SessionKind::Integration, started, None)
        }
    }

    /// Each dosing session dosed ten minutes after it started.
    fn doses(sessions: &[Session]) -> FirstDoses {
        sessions
            .iter()
            .filter(|s| s.kind == SessionKind::Dosing)
            .map(|s| (s.id, s.started + Duration::minutes(10)))
            .collect()
    }

    fn status(sessions: &[Session], now: DateTime<FixedOffset>) -> IntegrationStatus {
        integrations(sessions, &doses(sessions), &rules(), now)[0].status
    }

    #[test]
    fn shipped_config_has_the_48_to_72_hour_window() {
        assert_eq!(crate::config::Config::default().integration, rules());
    }

    #[test]
    fn rules_refuse_a_window_that_closes_before_it_opens() {
        let ok: IntegrationRules =
            toml::from_str("due_after_hours = 24\ndue_before_hours = 96\n").unwrap();
        assert_eq!((ok.due_after_hours, ok.due_before_hours), (24, 96));
        let err =
            toml::from_str::<IntegrationRules>("due_after_hours = 72\ndue_before_hours = 48\n")
                .unwrap_err()
                .to_string();
        assert!(err.contains("due_before_hours 48"), "{err}");
        let err = toml::from_str::<IntegrationRules>("due_after_hours = 48\ndue_within = 72\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("due_within"), "{err}");
    }

    #[test]
    fn status_at_each_boundary_of_the_window() {
        // Dosed at 10:10 on the 26th: the window runs from 10:10 on the 28th to 10:10 on
        // the 29th.
        let s = [dosing(1, at(26, 10, 0))];
        let (from, until) = (at(28, 10, 10), at(29, 10, 10));
        assert_eq!(
            integrations(&s, &doses(&s), &rules(), at(27, 0, 0))[0].window,
            (from, until)
        );
        assert_eq!(
            status(&s, at(26, 11, 0)),
            IntegrationStatus::Upcoming { from }
        );
        assert_eq!(
            status(&s, at(28, 10, 9)),
            IntegrationStatus::Upcoming { from }
        );
        assert_eq!(status(&s, at(28, 10, 10)), IntegrationStatus::Due { until });
        assert_eq!(status(&s, at(29, 10, 10)), IntegrationStatus::Due { until });
        assert_eq!(
            status(&s, at(29, 10, 11)),
            IntegrationStatus::Overdue { since: until }
        );
    }

    #[test]
    fn the_window_counts_from_the_dose_not_from_when_the_session_was_opened_or_ended() {
        // Opened at 00:08 on the 27th and ended at 00:40; the dose was charted back to 23:00
        // on the 26th.
        let s = [session(
            1,
            SessionKind::Dosing,
            at(27, 0, 8),
            Some(at(27, 0, 40)),
        )];
        let doses: FirstDoses = [(1, at(26, 23, 0))].into();
        let d = &integrations(&s, &doses, &rules(), at(28, 23, 30))[0];
        assert_eq!(d.window, (at(28, 23, 0), at(29, 23, 0)));
        assert_eq!(
            d.status,
            IntegrationStatus::Due {
                until: at(29, 23, 0)
            }
        );
        // With no dose standing, from its start.
        let d = &integrations(&s, &FirstDoses::new(), &rules(), at(28, 23, 30))[0];
        assert_eq!(d.window, (at(29, 0, 8), at(30, 0, 8)));
    }

    #[test]
    fn a_linked_integration_session_marks_it_done() {
        let mut s = vec![
            dosing(1, at(20, 10, 0)),
            integration(2, 1, at(22, 15, 0)),
            // An integration session for another dosing session does not count.
            integration(3, 99, at(22, 16, 0)),
        ];
        assert_eq!(
            status(&s, at(29, 0, 0)),
            IntegrationStatus::Done { session: 2 }
        );
        // Even before the window opens (the clinician judges the timing).
        assert_eq!(
            status(&s, at(21, 0, 0)),
            IntegrationStatus::Done { session: 2 }
        );
        // Only an integration session links: a follow-up naming the dosing session does not.
        s[1].kind = SessionKind::FollowUp;
        assert_eq!(
            status(&s, at(29, 0, 0)),
            IntegrationStatus::Overdue {
                since: at(23, 10, 10)
            }
        );
        assert!(pending(&s, &doses(&s), &rules(), at(29, 0, 0)).len() == 1);
    }

    #[test]
    fn other_session_kinds_need_no_integration() {
        let s = [
            session(1, SessionKind::Intake, at(20, 10, 0), Some(at(20, 11, 0))),
            session(
                2,
                SessionKind::Preparation,
                at(21, 10, 0),
                Some(at(21, 11, 0)),
            ),
            integration(3, 99, at(22, 10, 0)),
            session(4, SessionKind::FollowUp, at(23, 10, 0), None),
        ];
        assert_eq!(integrations(&s, &doses(&s), &rules(), at(29, 0, 0)), []);
    }

    #[test]
    fn overdue_first_then_due_then_upcoming_then_done() {
        let now = at(26, 12, 0);
        let mut other_patient = dosing(5, at(20, 9, 0));
        other_patient.patient_id = 2;
        let s = vec![
            dosing(1, at(26, 9, 0)),  // upcoming
            dosing(2, at(24, 9, 0)),  // due
            dosing(3, at(20, 10, 0)), // overdue, later window
            other_patient,            // overdue, earlier window
            dosing(6, at(18, 9, 0)),  // done
            integration(7, 6, at(20, 14, 0)),
            dosing(8, at(25, 9, 0)), // upcoming, later window
            dosing(9, at(10, 9, 0)), // done, earlier window
            integration(10, 9, at(12, 14, 0)),
        ];
        let got: Vec<(SessionId, PatientId, u8)> = integrations(&s, &doses(&s), &rules(), now)
            .iter()
            .map(|d| (d.dosing, d.patient, d.status.rank()))
            .collect();
        assert_eq!(
            got,
            [
                (5, 2, 0),
                (3, 1, 0),
                (2, 1, 1),
                (8, 1, 2),
                (1, 1, 2),
                (9, 1, 3),
                (6, 1, 3),
            ]
        );
        let pending: Vec<SessionId> = pending(&s, &doses(&s), &rules(), now)
            .iter()
            .map(|d| d.dosing)
            .collect();
        assert_eq!(pending, [5, 3, 2, 8, 1]);
    }

    #[test]
    fn status_reads_plainly() {
        assert_eq!(
            IntegrationStatus::Done { session: 7 }.to_string(),
            "integration done (session 7)"
        );
        assert_eq!(
            IntegrationStatus::Upcoming {
                from: at(28, 12, 0)
            }
            .to_string(),
            "integration from 28 Nov 12:00"
        );
        assert_eq!(
            IntegrationStatus::Due {
                until: at(29, 12, 0)
            }
            .to_string(),
            "integration due until 29 Nov 12:00"
        );
        assert_eq!(
            IntegrationStatus::Overdue {
                since: at(29, 12, 0)
            }
            .to_string(),
            "integration overdue since 29 Nov 12:00"
        );
    }
}
