//! The clinic's controlled-substance stock in a generated chart: deliveries of ketamine vials
//! (50 mg/mL, 10 mL) and esketamine nasal devices (28 mg), each with its lot, expiry,
//! supplier and the supplier's DEA number (21 CFR 1304.22(c)); a sealed vial for each IM or
//! IV dosing session, which its dose lines name (`dose ketamine 0.6mg/kg IM vial V12`, as a
//! clinician types it) and whose rest is wasted at the session's end, witnessed by the
//! clinic's nurse; whole devices for each esketamine session; and now and then an opening
//! count of the safe that balances. Sublingual ketamine (compounded troches) is charted
//! without a draw, as a drug kapchart keeps no stock of.
//!
//! A delivery of 5-25 vials (or 12-30 devices) is received the afternoon before the session
//! that finds the safe without enough: in a chart of a few thousand patients, one every few
//! days to few weeks, more often as the clinic grows.

use super::*;
use crate::domain::stock::{BusinessHours, ContainerId, Draw, Presentation, Receipt, Waste};
use crate::store::WitnessSignIn;
use chrono::Timelike;
use std::collections::VecDeque;

/// What one ketamine vial holds: 50 mg/mL, 10 mL.
pub(super) const VIAL: Presentation = Presentation::Vial {
    mg_per_ml: 50.0,
    ml: 10.0,
};

/// One esketamine nasal spray device (Spravato: 28 mg).
pub(super) const DEVICE: Presentation = Presentation::Device { mg: 28.0 };

/// The nurse who witnesses the wastes of a generated chart, added to its team (synthetic).
pub(super) const WITNESS: &str = "Wren Witness";
const WITNESS_PASSPHRASE: &str = "scale-chart witness passphrase";

/// What a dosing session draws from.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Supply {
    /// Nothing the stock keeps (sublingual, or not a dosing session).
    None,
    /// One sealed ketamine vial for the session.
    Vial(ContainerId),
    /// Whole esketamine devices, one per 28 mg.
    Devices(Vec<ContainerId>),
}

pub(super) struct Pharmacy {
    rng: Rng,
    vials: VecDeque<ContainerId>,
    devices: VecDeque<ContainerId>,
    deliveries: u32,
    last_day: Option<NaiveDate>,
    pub(super) witness: WitnessSignIn,
}

impl Pharmacy {
    /// The clinic's stock before its first delivery, and its nurse on the team.
    pub(super) fn new(
        chart: &mut Chart,
        seed: u64,
        at: DateTime<FixedOffset>,
    ) -> Result<Pharmacy, ChartingError> {
        chart.add_team_member(
            WITNESS,
            crate::domain::team::Role::Nurse,
            Some("RN"),
            WITNESS_PASSPHRASE,
            at,
        )?;
        let witness = chart
            .behind_the_door_ref()
            .witness_sign_in(WITNESS, WITNESS_PASSPHRASE)?;
        Ok(Pharmacy {
            rng: Rng::new(seed ^ 0x57_0C4E),
            vials: VecDeque::new(),
            devices: VecDeque::new(),
            deliveries: 0,
            last_day: None,
            witness,
        })
    }

    /// What the dosing session starting at `at` draws from (for `dose_mg` of esketamine,
    /// that many devices), receiving a delivery first when the safe holds too little, and,
    /// on some days before the first session, an opening count of the safe.
    pub(super) fn supply(
        &mut self,
        chart: &mut Chart,
        config: &Config,
        regimen: Regimen,
        dose_mg: f64,
        at: DateTime<FixedOffset>,
    ) -> Result<Supply, ChartingError> {
        let devices = match regimen {
            Regimen::Im | Regimen::Iv => 0,
            Regimen::Intranasal => (dose_mg / DEVICE.content_mg()).round().max(1.0) as usize,
            Regimen::Sublingual => return Ok(Supply::None),
        };
        if devices == 0 && self.vials.is_empty() {
            let n = self.rng.range(5, 25) as u32;
            let received = self.receive(chart, "ketamine", VIAL, n, at)?;
            self.vials.extend(received);
        }
        if devices > 0 && self.devices.len() < devices {
            let n = self.rng.range(12, 30) as u32;
            let received = self.receive(chart, "esketamine", DEVICE, n, at)?;
            self.devices.extend(received);
        }
        let day = at.date_naive();
        if self.last_day != Some(day) {
            self.last_day = Some(day);
            if self.rng.chance(0.15) {
                self.count(chart, config, at - Duration::minutes(20))?;
            }
        }
        Ok(if devices == 0 {
            Supply::Vial(self.vials.pop_front().expect("a delivery was received"))
        } else {
            Supply::Devices(self.devices.drain(..devices).collect())
        })
    }

    /// A delivery, received the afternoon before `at`.
    fn receive(
        &mut self,
        chart: &mut Chart,
        drug: &str,
        presentation: Presentation,
        containers: u32,
        at: DateTime<FixedOffset>,
    ) -> Result<Vec<ContainerId>, ChartingError> {
        self.deliveries += 1;
        let received = (at - Duration::days(1))
            .with_hour(15)
            .and_then(|t| t.with_minute(self.rng.range(0, 59) as u32))
            .unwrap_or(at - Duration::days(1));
        let expires = received + Duration::days(540);
        let receipt = Receipt {
            drug: drug.into(),
            presentation,
            containers,
            lot: format!(
                "{}{}{:04}",
                if presentation.is_device() { "E" } else { "K" },
                received.format("%y%m"),
                self.deliveries
            ),
            expires: expires.format("%Y-%m").to_string(),
            supplier: "Northwind Specialty Pharmacy Supply".into(),
            supplier_address: "400 Harbor Way, Columbus, OH 43215".into(),
            supplier_dea: "RN1234563".into(),
            invoice: Some(format!("NW-{:06}", self.deliveries)),
        };
        Ok(crate::app::stock::receive(chart, &receipt, &received)?.1)
    }

    /// An opening count of every sealed container in the safe: it balances.
    fn count(
        &mut self,
        chart: &mut Chart,
        config: &Config,
        at: DateTime<FixedOffset>,
    ) -> Result<(), ChartingError> {
        let counted: Vec<(ContainerId, f64, bool)> = self
            .vials
            .iter()
            .map(|c| (*c, VIAL.content_mg(), false))
            .chain(
                self.devices
                    .iter()
                    .map(|c| (*c, DEVICE.content_mg(), false)),
            )
            .collect();
        if !counted.is_empty() {
            crate::app::stock::count(chart, config, &counted, BusinessHours::Opening, None, &at)?;
        }
        Ok(())
    }
}

impl Supply {
    /// The line as typed with its vial named (`dose ketamine 0.6mg/kg IM vial V12`).
    pub(super) fn name_vial(&self, line: String) -> String {
        match self {
            Supply::Vial(v) if line.starts_with("dose ketamine ") => format!("{line} vial {v}"),
            _ => line,
        }
    }

    /// Fills in what a planned dose draws, as `app::stock::attach_draws` does for a typed
    /// line: the named vial, or the session's devices. Hands back the mg drawn.
    pub(super) fn draw(&self, payload: &mut Payload) -> f64 {
        let Payload::Dose(d) = payload else {
            return 0.0;
        };
        d.drawn = match self {
            Supply::Vial(v) if d.vial == Some(*v) => vec![Draw {
                container: *v,
                mg: d.total_mg,
            }],
            Supply::Devices(ids) if d.drug == "esketamine" => ids
                .iter()
                .map(|c| Draw {
                    container: *c,
                    mg: DEVICE.content_mg(),
                })
                .collect(),
            _ => return 0.0,
        };
        d.drawn.iter().map(|x| x.mg).sum()
    }

    /// The rest of the session's vial, wasted at its end, when something is left.
    pub(super) fn rest(&self, drawn_mg: f64, manner: &str) -> Option<Payload> {
        let Supply::Vial(v) = self else {
            return None;
        };
        let rest = crate::domain::stock::ledger::round_mg(VIAL.content_mg() - drawn_mg);
        (rest > crate::domain::stock::MG_EPSILON).then(|| {
            Payload::Waste(Waste {
                drug: "ketamine".into(),
                mg: rest,
                manner: manner.into(),
                drawn: vec![Draw {
                    container: *v,
                    mg: rest,
                }],
                vial: Some(*v),
            })
        })
    }
}
