//! The demo clinic's controlled-substance stock: one delivery of ketamine vials (50 mg/mL,
//! 10 mL) and esketamine nasal devices (28 mg) before the first course, with its lot, expiry,
//! supplier and the supplier's DEA number (21 CFR 1304.22(c)); one vial opened for the first
//! ketamine session and kept between sessions until the last of the courses wastes its rest,
//! witnessed by the nurse; whole devices for the esketamine doses; an opening count of the
//! safe yesterday morning; and a fresh vial opened for today's session. Every dose draws
//! through the same typed line a clinician uses (`dose ketamine 0.75mg/kg IM` takes the one
//! vial in use). Synthetic: no real supplier or lot.

use super::{DEMO_TEAM, morning};
use crate::app::Chart;
use crate::app::charting::{self, ChartingError, Rest};
use crate::config::Config;
use crate::domain::SessionId;
use crate::domain::entry::trim_number;
use crate::domain::stock::ledger::ContainerState;
use crate::domain::stock::{BusinessHours, ContainerId, MG_EPSILON, Presentation, Receipt};
use chrono::{DateTime, Duration, FixedOffset};

/// The demo's witness of wastes: its nurse.
const WITNESS: usize = 2;

/// The safe as the demo's courses use it.
pub(super) struct Safe {
    /// The ketamine vials, in the order they are used.
    vials: Vec<ContainerId>,
    /// The one in use.
    in_use: usize,
    /// The demo's passphrase, which every member of its team signs in with (the witness).
    passphrase: String,
}

impl Safe {
    /// The delivery, received 20 days before `now`, and the first vial opened just before the
    /// first ketamine dose (12 days before, at 09:08).
    pub(super) fn stocked(
        chart: &mut Chart,
        passphrase: &str,
        now: DateTime<FixedOffset>,
    ) -> Result<Safe, ChartingError> {
        let today = now.date_naive();
        let received = morning(today, 20, 15) + Duration::minutes(10);
        let expires = (received + Duration::days(540)).format("%Y-%m").to_string();
        let delivery = |drug: &str, presentation, containers, lot: &str| Receipt {
            drug: drug.into(),
            presentation,
            containers,
            lot: lot.into(),
            expires: expires.clone(),
            supplier: "Northwind Specialty Pharmacy Supply".into(),
            supplier_address: "400 Harbor Way, Columbus, OH 43215".into(),
            supplier_dea: "RN1234563".into(),
            invoice: Some("NW-DEMO-0001".into()),
        };
        let vial = Presentation::Vial {
            mg_per_ml: 50.0,
            ml: 10.0,
        };
        let (_, vials) = crate::app::stock::receive(
            chart,
            &delivery("ketamine", vial, 5, "KDEMO01"),
            &received,
        )?;
        crate::app::stock::receive(
            chart,
            &delivery(
                "esketamine",
                Presentation::Device { mg: 28.0 },
                12,
                "EDEMO01",
            ),
            &(received + Duration::minutes(4)),
        )?;
        let mut safe = Safe {
            vials,
            in_use: 0,
            passphrase: passphrase.to_string(),
        };
        safe.open_vial(chart, morning(today, 12, 9) + Duration::minutes(8))?;
        Ok(safe)
    }

    fn open_vial(
        &mut self,
        chart: &mut Chart,
        at: DateTime<FixedOffset>,
    ) -> Result<(), ChartingError> {
        let vial = self.vials.get(self.in_use).copied().ok_or_else(|| {
            ChartingError::Invalid("the demo's delivery has no sealed vial left".into())
        })?;
        crate::app::stock::open(chart, vial, &at)?;
        Ok(())
    }

    /// Opens the next sealed vial (the one in use was used up).
    pub(super) fn open_next_vial(
        &mut self,
        chart: &mut Chart,
        at: DateTime<FixedOffset>,
    ) -> Result<(), ChartingError> {
        self.in_use += 1;
        self.open_vial(chart, at)
    }

    /// Ends a dosing session keeping what its vial has left, as `session end --keep` does.
    pub(super) fn end_keeping(
        &self,
        chart: &mut Chart,
        config: &Config,
        session: SessionId,
        at: DateTime<FixedOffset>,
    ) -> Result<(), ChartingError> {
        let drawn = charting::session_chart(chart, config, session)?.drawn();
        let rests: Vec<(ContainerId, Rest)> = crate::app::stock::rests_of_session(chart, &drawn)?
            .into_iter()
            .map(|(c, _)| (c, Rest::Keep))
            .collect();
        charting::end_session_with_rests(chart, config, session, Vec::new(), None, &rests, &at)
            .map(|_| ())
    }

    /// Wastes what the vial in use holds, typed as a clinician would (`waste ketamine 314.4mg
    /// vial V1`), and the nurse witnesses it two minutes later with their own sign-in.
    pub(super) fn waste_rest(
        &self,
        chart: &mut Chart,
        config: &Config,
        session: SessionId,
        at: DateTime<FixedOffset>,
    ) -> Result<(), ChartingError> {
        let vial = self.vials[self.in_use];
        let rest = crate::app::stock::container(chart, vial)?.balance_mg();
        if rest <= MG_EPSILON {
            return Ok(());
        }
        let line = format!(
            "{} waste ketamine {}mg vial {vial}",
            at.format("@%H:%M"),
            trim_number(rest, 3)
        );
        let charted =
            charting::record_line(chart, config, session, &line, &(at + Duration::seconds(40)))?;
        let waste = charted.ids.first().copied().ok_or_else(|| {
            ChartingError::Invalid("the demo's waste line charted nothing".into())
        })?;
        crate::app::sign_in::witness(
            chart,
            waste,
            DEMO_TEAM[WITNESS].0,
            &self.passphrase,
            at + Duration::minutes(2),
        )?;
        Ok(())
    }

    /// Yesterday's opening count of every sealed container in the safe: it balances.
    pub(super) fn count_sealed(
        &self,
        chart: &mut Chart,
        config: &Config,
        now: DateTime<FixedOffset>,
    ) -> Result<(), ChartingError> {
        let counted: Vec<(ContainerId, f64, bool)> = crate::app::stock::on_hand(chart)?
            .iter()
            .filter(|l| l.state() == ContainerState::Sealed)
            .map(|l| (l.container.id, l.balance_mg(), false))
            .collect();
        if counted.is_empty() {
            return Ok(());
        }
        let at = morning(now.date_naive(), 1, 8);
        crate::app::stock::count(chart, config, &counted, BusinessHours::Opening, None, &at)?;
        Ok(())
    }
}
