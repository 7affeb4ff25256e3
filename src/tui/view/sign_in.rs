//! The sign-in widget drawn over a screen: who (the team's list) and the passphrase, masked.
//! At start it is the whole screen; on the lock screen it follows the lock's own lines; for
//! a hand-over or a witness it sits over the screen, which stays as it was beneath.

use crate::tui::sign_in::{Field, SignIn};
use crate::tui::state::App;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

/// Draws `s` in a dialog titled `title`, after the `intro` lines.
pub fn draw<'a>(
    app: &App,
    s: &SignIn,
    title: String,
    intro: Vec<Line<'a>>,
    frame: &mut Frame<'_>,
    area: Rect,
) {
    let theme = &app.theme;
    let mut lines = intro;
    lines.push(Line::from(""));
    let mut focus = None;
    if !s.team_read {
        lines.push(Line::styled("(reading the team…)", theme.dim()));
    } else if s.asks_who() {
        let hint = if s.field == Field::Who {
            "Who is signing in? (↑ ↓ or type a name, Enter)"
        } else {
            // Up goes back to the list: the lock offers who was signed in, a hand-over
            // someone else, and either may be the wrong one.
            "Who is signing in (↑ to change):"
        };
        lines.push(Line::from(hint));
        for (i, m) in s.team.iter().enumerate() {
            let text = format!("{} ({})", m.name, m.role);
            if i == s.chosen {
                if s.field == Field::Who {
                    focus = Some(lines.len());
                }
                lines.push(Line::styled(format!("  ▸ {text}"), theme.title()));
            } else if s.field == Field::Who {
                lines.push(Line::from(format!("    {text}")));
            }
        }
        lines.push(Line::from(""));
    } else if let Some(m) = s.chosen() {
        lines.push(Line::from(format!("Signing in: {} ({})", m.name, m.role)));
    } else if let Some(who) = &s.given_who {
        lines.push(Line::from(format!("Signing in: {who}")));
    }
    if s.field == Field::Passphrase {
        focus = Some(lines.len());
    }
    let cursor = if s.field == Field::Passphrase {
        Span::styled("▏", theme.title())
    } else {
        Span::raw("")
    };
    lines.push(Line::from(vec![
        Span::raw("Passphrase: "),
        Span::raw(masked(s.passphrase.chars().count())),
        cursor,
    ]));
    if s.waiting() {
        lines.push(Line::styled("checking…", theme.dim()));
    }
    if let Some(e) = &s.error {
        lines.push(Line::from(""));
        lines.push(Line::styled(format!("✗ {e}"), theme.alert()));
    }
    super::dialog::draw(app, frame, area, title, lines, focus, 64);
}

/// A dot per character typed; a long paste is counted instead, so the field stays one row.
fn masked(typed: usize) -> String {
    if typed > 40 {
        format!("{}… {typed} characters", "•".repeat(24))
    } else {
        "•".repeat(typed)
    }
}
