//! The published wording of the questionnaires kapchart scores, shown item by item in the
//! questionnaire form (F2) so the clinician reads out exactly what the instrument asks.
//!
//! - PHQ-9: Kroenke K, Spitzer RL, Williams JBW, J Gen Intern Med 2001;16:606-613. Developed
//!   by Drs. Spitzer, Williams, Kroenke and colleagues with an educational grant from Pfizer
//!   Inc.; "no permission required to reproduce, translate, display or distribute"
//!   (phqscreeners.com).
//! - GAD-7: Spitzer RL, Kroenke K, Williams JBW, Löwe B, Arch Intern Med 2006;166:1092-1097;
//!   same terms as the PHQ-9 (phqscreeners.com).
//! - PCL-5: Weathers FW, Litz BT, Keane TM, Palmieri PA, Marx BP, Schnurr PP (2013), The
//!   PTSD Checklist for DSM-5, National Center for PTSD (ptsd.va.gov); a US government work
//!   in the public domain.

use crate::domain::measures::Instrument;

/// The question put before the items.
pub fn stem(instrument: Instrument) -> &'static str {
    match instrument {
        Instrument::Phq9 => {
            "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
        }
        Instrument::Gad7 => {
            "Over the last 2 weeks, how often have you been bothered by the following problems?"
        }
        Instrument::Pcl5 => "In the past month, how much were you bothered by:",
    }
}

/// The answers, from 0 up.
pub fn scale(instrument: Instrument) -> &'static [&'static str] {
    match instrument {
        Instrument::Phq9 | Instrument::Gad7 => &[
            "Not at all",
            "Several days",
            "More than half the days",
            "Nearly every day",
        ],
        Instrument::Pcl5 => &[
            "Not at all",
            "A little bit",
            "Moderately",
            "Quite a bit",
            "Extremely",
        ],
    }
}

/// The items, in order.
pub fn items(instrument: Instrument) -> &'static [&'static str] {
    match instrument {
        Instrument::Phq9 => &PHQ9,
        Instrument::Gad7 => &GAD7,
        Instrument::Pcl5 => &PCL5,
    }
}

const PHQ9: [&str; 9] = [
    "Little interest or pleasure in doing things",
    "Feeling down, depressed, or hopeless",
    "Trouble falling or staying asleep, or sleeping too much",
    "Feeling tired or having little energy",
    "Poor appetite or overeating",
    "Feeling bad about yourself - or that you are a failure or have let yourself or your family down",
    "Trouble concentrating on things, such as reading the newspaper or watching television",
    "Moving or speaking so slowly that other people could have noticed? Or the opposite - being so fidgety or restless that you have been moving around a lot more than usual",
    "Thoughts that you would be better off dead or of hurting yourself in some way",
];

const GAD7: [&str; 7] = [
    "Feeling nervous, anxious or on edge",
    "Not being able to stop or control worrying",
    "Worrying too much about different things",
    "Trouble relaxing",
    "Being so restless that it is hard to sit still",
    "Becoming easily annoyed or irritable",
    "Feeling afraid as if something awful might happen",
];

const PCL5: [&str; 20] = [
    "Repeated, disturbing, and unwanted memories of the stressful experience?",
    "Repeated, disturbing dreams of the stressful experience?",
    "Suddenly feeling or acting as if the stressful experience were actually happening again (as if you were actually back there reliving it)?",
    "Feeling very upset when something reminded you of the stressful experience?",
    "Having strong physical reactions when something reminded you of the stressful experience (for example, heart pounding, trouble breathing, sweating)?",
    "Avoiding memories, thoughts, or feelings related to the stressful experience?",
    "Avoiding external reminders of the stressful experience (for example, people, places, conversations, activities, objects, or situations)?",
    "Trouble remembering important parts of the stressful experience?",
    "Having strong negative beliefs about yourself, other people, or the world (for example, having thoughts such as: I am bad, there is something seriously wrong with me, no one can be trusted, the world is completely dangerous)?",
    "Blaming yourself or someone else for the stressful experience or what happened after it?",
    "Having strong negative feelings such as fear, horror, anger, guilt, or shame?",
    "Loss of interest in activities that you used to enjoy?",
    "Feeling distant or cut off from other people?",
    "Trouble experiencing positive feelings (for example, being unable to feel happiness or have loving feelings for people close to you)?",
    "Irritable behavior, angry outbursts, or acting aggressively?",
    "Taking too many risks or doing things that could cause you harm?",
    "Being \"superalert\" or watchful or on guard?",
    "Feeling jumpy or easily startled?",
    "Having difficulty concentrating?",
    "Trouble falling or staying asleep?",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_instrument_has_one_wording_per_item_and_one_answer_per_score() {
        for i in Instrument::ALL {
            assert_eq!(items(i).len(), i.item_count(), "{}", i.name());
            assert_eq!(
                scale(i).len(),
                usize::from(i.max_item()) + 1,
                "{}",
                i.name()
            );
        }
    }
}
