//! Styles. Meaning never rests on colour alone: every flag also has a symbol, and with
//! NO_COLOR set the same screens are drawn with bold, reverse and strike-through only.

use ratatui::style::{Color, Modifier, Style};

/// Marks used beside values and rows; readable without colour.
pub const ALERT: &str = "!";
pub const OVERDUE: &str = "⚠";
pub const LATE: &str = "late";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

impl Default for Theme {
    fn default() -> Self {
        Theme { color: true }
    }
}

impl Theme {
    /// Honours NO_COLOR (<https://no-color.org>): any non-empty value turns colour off.
    pub fn from_env() -> Theme {
        Theme {
            color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }

    fn paint(&self, color: Color, modifier: Modifier) -> Style {
        let style = Style::new().add_modifier(modifier);
        if self.color { style.fg(color) } else { style }
    }

    pub fn alert(&self) -> Style {
        self.paint(Color::Red, Modifier::BOLD)
    }

    pub fn overdue(&self) -> Style {
        if self.color {
            Style::new()
                .fg(Color::White)
                .bg(Color::Red)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        }
    }

    pub fn caution(&self) -> Style {
        self.paint(Color::Yellow, Modifier::BOLD)
    }

    pub fn ok(&self) -> Style {
        self.paint(Color::Green, Modifier::empty())
    }

    pub fn dim(&self) -> Style {
        self.paint(Color::DarkGray, Modifier::empty())
    }

    pub fn struck(&self) -> Style {
        self.paint(Color::DarkGray, Modifier::CROSSED_OUT)
    }

    /// A word a search found: underlined and bold (and yellow, in colour), so that it reads
    /// without colour and on the selected row too.
    pub fn found(&self) -> Style {
        self.paint(Color::Yellow, Modifier::BOLD | Modifier::UNDERLINED)
    }

    pub fn selected(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    pub fn title(&self) -> Style {
        self.paint(Color::Cyan, Modifier::BOLD)
    }

    pub fn focus_border(&self) -> Style {
        self.paint(Color::Cyan, Modifier::BOLD)
    }

    pub fn series(&self, index: usize) -> Style {
        let colors = [Color::Red, Color::Blue, Color::Magenta];
        if self.color {
            Style::new().fg(colors[index % colors.len()])
        } else {
            Style::new()
        }
    }
}
