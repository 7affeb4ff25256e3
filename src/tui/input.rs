//! A one-line text field with a cursor, counted in characters so that any text is safe.

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InputLine {
    text: String,
    /// Cursor position in characters.
    cursor: usize,
}

impl InputLine {
    pub fn with_text(text: &str) -> InputLine {
        InputLine {
            text: text.to_string(),
            cursor: text.chars().count(),
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn cursor(&self) -> usize {
        self.cursor
    }

    pub fn is_blank(&self) -> bool {
        self.text.trim().is_empty()
    }

    fn byte_at(&self, chars: usize) -> usize {
        self.text
            .char_indices()
            .nth(chars)
            .map(|(i, _)| i)
            .unwrap_or(self.text.len())
    }

    pub fn insert(&mut self, c: char) {
        if c.is_control() {
            return;
        }
        let at = self.byte_at(self.cursor);
        self.text.insert(at, c);
        self.cursor += 1;
    }

    pub fn delete_back(&mut self) {
        if self.cursor == 0 {
            return;
        }
        let at = self.byte_at(self.cursor - 1);
        self.text.remove(at);
        self.cursor -= 1;
    }

    pub fn delete_forward(&mut self) {
        if self.cursor < self.text.chars().count() {
            let at = self.byte_at(self.cursor);
            self.text.remove(at);
        }
    }

    pub fn left(&mut self) {
        self.cursor = self.cursor.saturating_sub(1);
    }

    pub fn right(&mut self) {
        self.cursor = (self.cursor + 1).min(self.text.chars().count());
    }

    pub fn home(&mut self) {
        self.cursor = 0;
    }

    pub fn end(&mut self) {
        self.cursor = self.text.chars().count();
    }

    pub fn clear(&mut self) {
        *self = InputLine::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_at_the_cursor_with_any_characters() {
        let mut i = InputLine::with_text("obs cafe");
        i.left();
        i.delete_back();
        i.insert('é');
        assert_eq!(i.text(), "obs caée");
        i.home();
        i.delete_back();
        i.delete_forward();
        assert_eq!(i.text(), "bs caée");
        i.end();
        i.right();
        i.delete_forward();
        assert_eq!(i.cursor(), 7);
        i.insert('\u{1b}');
        assert_eq!(
            i.text(),
            "bs caée",
            "control characters never enter the line"
        );
    }
}
