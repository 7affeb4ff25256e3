//! The integration note screen: the draft in an editor, or the signed text with its
//! signature and addenda.

use super::{centered, fit, panel_block};
use crate::tui::note::{NoteEditor, NotePanel};
use crate::tui::state::App;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

pub fn draw(app: &App, n: &NoteEditor, frame: &mut Frame<'_>, area: Rect) {
    let d = &n.data;
    // A signed note's state line names the signature; what was just done goes under it.
    let signed_status = n
        .status
        .as_ref()
        .filter(|_| n.is_signed() && n.error.is_none());
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
    // A refusal is read whole: it wraps onto as many rows as it needs (up to four).
    let refusal = n.error.is_some();
    match &n.error {
        Some(e) => lines.push(Line::styled(format!("✗ {e}"), app.theme.alert())),
        None if n.checking => lines.push(Line::raw("checking whether it can be signed…")),
        None => lines.push(Line::raw(state)),
    }
    if let Some(status) = signed_status {
        lines.push(Line::styled(status.clone(), app.theme.dim()));
    }
    // The title breaks at its separators, the state or the refusal at spaces (three rows at
    // most, four for a refusal, the last marked ` …`).
    let width = usize::from(area.width);
    let mut rows = lines.into_iter();
    let mut header_rows = rows
        .next()
        .map(|l| fit::limit(fit::wrap_at(l, " · ", width), 2, width))
        .unwrap_or_default();
    let most = if refusal { 4 } else { 3 };
    header_rows.extend(rows.flat_map(|l| fit::limit(fit::wrap(l, width), most, width)));
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(header_rows.len() as u16),
        Constraint::Min(4),
        Constraint::Length(if d.note.addenda.is_empty() { 1 } else { 6 }),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(header_rows), header);

    let block = panel_block(
        app,
        if n.is_signed() {
            " Signed text (read-only) ".into()
        } else {
            " Draft ".into()
        },
        n.panel.is_none(),
    );
    super::draft::draw(&n.editor, block, n.panel.is_none(), frame, body);

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
        let block = panel_block(app, format!(" Addenda ({}) ", d.note.addenda.len()), false);
        let inner = block.inner(footer);
        let rows = fit::block(
            lines.into_iter().map(|l| (l, false)).collect(),
            usize::from(inner.width),
            usize::from(inner.height),
        );
        frame.render_widget(Paragraph::new(rows).block(block), footer);
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
            let block = panel_block(
                app,
                " Addendum (Ctrl-S signs it · Esc sets it aside) ".into(),
                true,
            );
            super::clear_rows(frame, area, popup);
            super::draft::draw(editor, block, true, frame, popup);
        }
        None => {}
    }
}
