//! Drawing: pure functions of the state. Nothing here reads the chart, the clock or the
//! terminal; the frame's size decides the layout.

mod authors;
mod dialog;
mod draft;
mod fit;
mod flowsheet;
mod help;
mod home;
mod home_forms;
mod live;
mod lock;
mod note;
mod panels;
mod patient;
mod purpose;
mod search;
mod sign_in;
mod stock;
mod timeline;
mod values;
mod when;

pub use help::pages as help_pages;

use super::state::{App, Screen};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

/// Below this the screens cannot be drawn without hiding something that matters.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 18;

pub fn draw(app: &App, frame: &mut Frame<'_>) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let text = format!(
            "Terminal too small: {}x{}.\nkapchart needs at least {MIN_WIDTH}x{MIN_HEIGHT}.\nEnlarge the window; nothing is lost.",
            area.width, area.height
        );
        frame.render_widget(
            Paragraph::new(text)
                .style(app.theme.caution())
                .wrap(Wrap { trim: true }),
            area,
        );
        return;
    }
    let [body, hints] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(area);
    if let Some(l) = &app.lock {
        // The lock replaces the whole screen: nothing of the one beneath is drawn.
        lock::draw(app, l, frame, body);
        hint_line(app, frame, hints);
        return;
    }
    match &app.screen {
        Screen::SignIn(s) => sign_in::draw(
            app,
            s,
            " kapchart: sign in ".into(),
            vec![Line::from("The chart is encrypted: sign in to open it.")],
            frame,
            body,
        ),
        Screen::Home(h) => home::draw(app, h, frame, body),
        Screen::Live(l) => live::draw(app, l, frame, body),
        Screen::Note(n) => note::draw(app, n, frame, body),
        Screen::Patient(p) => patient::draw(app, p, frame, body),
        Screen::Search(s) => search::draw(app, s, frame, body),
        Screen::Stock(s) => stock::draw(app, s, frame, body),
    }
    if let Some(h) = &app.hand_over {
        let intro = vec![Line::from(
            "Hand over: who takes the screen? What is typed and open stays as it is.",
        )];
        sign_in::draw(app, h, " Hand over ".into(), intro, frame, body);
    }
    if let Some(w) = &app.witness {
        let intro = vec![
            Line::from(format!("{}, charted by {}", w.summary, w.author)),
            Line::from("A second clinician signs in to witness it. Esc: not now."),
        ];
        let title = format!(" Witness {} #{} ", w.what, w.dose);
        sign_in::draw(app, &w.sign_in, title, intro, frame, body);
    }
    hint_line(app, frame, hints);
    if app.help_open {
        help::draw(app, frame, area);
    }
}

/// The keys that apply now, from the keymap: as many as fit, help always among them; and,
/// at the right, who is signed in (every write is theirs).
fn hint_line(app: &App, frame: &mut Frame<'_>, area: Rect) {
    let area = match &app.signed_in {
        Some(c) => {
            // Who is signed in, whole: the keys give way first (help stays).
            let label = format!(" {}", crate::tui::sign_in::signed_in_label(c));
            let room = usize::from(area.width).saturating_sub(11);
            let label = format!("{} ", fit::shorten(Line::from(label), room));
            let width = fit::width(&label) as u16;
            let [keys, who] =
                Layout::horizontal([Constraint::Min(1), Constraint::Length(width)]).areas(area);
            frame.render_widget(Line::styled(label, app.theme.title()).right_aligned(), who);
            keys
        }
        None => area,
    };
    let mut hints = app.keymap.hints(app.context());
    // A session without a discharge panel ends plainly; only dosing and integration
    // sessions have an integration note to open.
    if let Screen::Live(l) = &app.screen
        && !l.is_dosing()
    {
        use crate::tui::keymap::Command;
        for (_, what) in &mut hints {
            if *what == Command::Discharge.describe() {
                *what = Command::EndSession.describe();
            }
        }
        if l.data.session().kind != crate::domain::SessionKind::Integration {
            hints.retain(|(_, what)| *what != Command::Note.describe());
        }
    }
    // The lock key is hinted only where it locks.
    if !crate::tui::lock::can_lock(app) {
        hints.retain(|(_, what)| *what != "lock");
    }
    if let Some(i) = hints.iter().position(|(_, what)| *what == "help") {
        let help = hints.remove(i);
        hints.insert(0, help);
    }
    let mut spans = Vec::new();
    let mut used = 0;
    for (key, what) in hints {
        let width = key.chars().count() + what.chars().count() + 3;
        if used + width > usize::from(area.width) {
            break;
        }
        used += width;
        spans.push(Span::styled(format!(" {key}"), app.theme.title()));
        spans.push(Span::raw(format!(" {what} ")));
    }
    frame.render_widget(Line::from(spans), area);
}

/// `text` in `style`, with the words a search found (byte ranges `marks`) in `found` laid
/// over it.
pub(super) fn marked_spans<'a>(
    text: &str,
    marks: &[std::ops::Range<usize>],
    style: Style,
    found: Style,
) -> Vec<Span<'a>> {
    let mut spans = Vec::new();
    let mut at = 0;
    for r in marks {
        if r.start < at || r.end > text.len() {
            continue;
        }
        if r.start > at {
            spans.push(Span::styled(text[at..r.start].to_string(), style));
        }
        spans.push(Span::styled(
            text[r.clone()].to_string(),
            style.patch(found),
        ));
        at = r.end;
    }
    if at < text.len() || spans.is_empty() {
        spans.push(Span::styled(text[at..].to_string(), style));
    }
    spans
}

/// A rectangle of at most `width` x `height` in the middle of `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// Clears the whole rows a box drawn over a screen at `popup` spans, across all of `area`:
/// nothing beneath is left half covered beside it (a value cut by the box's edge would read
/// as another value).
pub fn clear_rows(frame: &mut Frame<'_>, area: Rect, popup: Rect) {
    frame.render_widget(
        ratatui::widgets::Clear,
        Rect {
            x: area.x,
            y: popup.y,
            width: area.width,
            height: popup.height,
        },
    );
}

/// A titled block, highlighted when it has the focus.
pub fn panel_block<'a>(app: &App, title: String, focused: bool) -> Block<'a> {
    let block = Block::bordered().title(title);
    if focused {
        block.border_style(app.theme.focus_border())
    } else {
        block.border_style(Style::new())
    }
}
