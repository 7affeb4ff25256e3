//! The integration note screen: the draft in an editor, or the signed text with its
//! signature and addenda.

use super::{centered, panel_block};
use crate::tui::app::App;
use crate::tui::note::{NoteEditor, NotePanel};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Clear, Paragraph, Wrap};

pub fn draw(app: &App, n: &NoteEditor, frame: &mut Frame<'_>, area: Rect) {
    let d = &n.data;
    // A refusal is read whole: it wraps onto as many rows as it needs (up to four).
    let error = n.error.as_ref().map(|e| {
        super::dialog::wrap(
            Line::styled(format!("✗ {e}"), app.theme.alert()),
            usize::from(area.width.max(1)),
        )
    });
    let error_rows = error.as_ref().map_or(1, |rows| rows.len().clamp(1, 4)) as u16;
    // A signed note's state line names the signature; what was just done goes under it.
    let signed_status = n
        .status
        .as_ref()
        .filter(|_| n.is_signed() && error.is_none());
    let error_rows = error_rows + u16::from(signed_status.is_some());
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(1 + error_rows),
        Constraint::Min(4),
        Constraint::Length(if d.note.addenda.is_empty() { 1 } else { 6 }),
    ])
    .areas(area);
    let state = match (&d.note.signature, n.is_dirty()) {
        (Some(s), _) => format!(
            "SIGNED by {} {} · sha256 {}… (locked)",
            s.signer,
            s.signed.format("%d %b %Y %H:%M"),
            &s.sha256[..12]
        ),
        (None, true) => "draft · unsaved changes (saved within 2 s)".to_string(),
        (None, false) => n.status.clone().unwrap_or_else(|| "draft · saved".into()),
    };
    let mut lines = vec![Line::styled(
        format!(
            "Integration note #{} · {} · dosing {} on {} · {}",
            d.note.id,
            d.patient.name,
            d.dosing_number,
            d.dosing.started.format("%d %b %Y"),
            d.note.format.to_uppercase()
        ),
        app.theme.title(),
    )];
    match error {
        Some(rows) => lines.extend(rows),
        None if n.checking => lines.push(Line::raw("checking whether it can be signed…")),
        None => lines.push(Line::raw(state)),
    }
    if let Some(status) = signed_status {
        lines.push(Line::styled(status.clone(), app.theme.dim()));
    }
    frame.render_widget(Paragraph::new(lines), header);

    let mut editor = n.editor.clone();
    editor.set_block(panel_block(
        app,
        if n.is_signed() {
            " Signed text (read-only) ".into()
        } else {
            " Draft ".into()
        },
        n.panel.is_none(),
    ));
    frame.render_widget(&editor, body);

    if !d.note.addenda.is_empty() {
        let lines: Vec<Line<'_>> = d
            .note
            .addenda
            .iter()
            .map(|a| {
                Line::raw(format!(
                    "{} {} (sha256 {}…): {}",
                    a.at.format("%d %b %H:%M"),
                    a.author,
                    &a.sha256[..12],
                    a.text.replace('\n', " ")
                ))
            })
            .collect();
        frame.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: true })
                .block(panel_block(
                    app,
                    format!(" Addenda ({}) ", d.note.addenda.len()),
                    false,
                )),
            footer,
        );
    }

    match &n.panel {
        Some(NotePanel::Sign) => {
            let reason = n.sign_reason();
            let mut lines = vec![Line::raw(
                "Signing locks this text for good; later changes are addenda.",
            )];
            if let Some(b) = &d.check.blocked {
                lines.push(Line::styled(format!("✗ {b}"), app.theme.alert()));
            }
            for r in &d.check.needs_reason {
                lines.push(Line::styled(format!("⚠ {r}"), app.theme.caution()));
            }
            let mut focus = None;
            if !d.check.needs_reason.is_empty() {
                focus = Some(lines.len());
                lines.push(Line::raw(format!("Reason to sign now: {}▏", reason.text())));
            }
            lines.push(Line::styled("Enter sign · Esc back", app.theme.dim()));
            super::dialog::draw(app, frame, area, " Sign note ".into(), lines, focus, 76);
        }
        Some(NotePanel::Addendum { editor }) => {
            let popup = centered(area, 76, 10);
            let mut editor = (**editor).clone();
            editor.set_block(panel_block(
                app,
                " Addendum (Ctrl-S signs it · Esc sets it aside) ".into(),
                true,
            ));
            frame.render_widget(Clear, popup);
            frame.render_widget(&editor, popup);
        }
        None => {}
    }
}
