//! The form open over the live screen, drawn as its dialog; each form's lines come from its
//! own file under `tui/panels/` (`Panel::view`).

use crate::tui::live::Live;
use crate::tui::state::App;
use ratatui::Frame;
use ratatui::layout::Rect;

pub fn draw(app: &App, live: &Live, frame: &mut Frame<'_>, area: Rect) {
    let Some(panel) = &live.panel else {
        return;
    };
    let view = panel.view(app, live);
    super::dialog::draw(app, frame, area, view.title, view.lines, view.focus, 78);
}
