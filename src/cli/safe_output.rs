//! Standard output as it may safely reach a terminal: a control character that reached the
//! chart anyway (an old chart, a row written behind kapchart's back) is printed as its escape
//! (`\u{1b}`) instead of acting on the reader's terminal. Newline and tab pass; JSON output
//! is unchanged (serde escapes control characters itself).

use crate::domain::text::escape_controls;
use std::io::{self, Write};

pub struct SafeOutput<W: Write> {
    inner: W,
    /// The start of a UTF-8 sequence cut off at the end of the last write.
    carry: Vec<u8>,
}

impl<W: Write> SafeOutput<W> {
    pub fn new(inner: W) -> Self {
        SafeOutput {
            inner,
            carry: Vec::new(),
        }
    }

    fn emit(&mut self, text: &str) -> io::Result<()> {
        self.inner.write_all(escape_controls(text, true).as_bytes())
    }
}

impl<W: Write> Write for SafeOutput<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut data = std::mem::take(&mut self.carry);
        data.extend_from_slice(buf);
        let mut rest = &data[..];
        while !rest.is_empty() {
            match std::str::from_utf8(rest) {
                Ok(s) => {
                    self.emit(s)?;
                    rest = &[];
                }
                Err(e) => {
                    let (good, bad) = rest.split_at(e.valid_up_to());
                    // Valid up to here by construction.
                    self.emit(std::str::from_utf8(good).unwrap_or_default())?;
                    match e.error_len() {
                        None => {
                            self.carry = bad.to_vec();
                            rest = &[];
                        }
                        Some(k) => {
                            for b in &bad[..k] {
                                write!(self.inner, "\\x{b:02x}")?;
                            }
                            rest = &bad[k..];
                        }
                    }
                }
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        for b in std::mem::take(&mut self.carry) {
            write!(self.inner, "\\x{b:02x}")?;
        }
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_controls_keeps_text_and_joins_split_characters() {
        let mut out = SafeOutput::new(Vec::new());
        out.write_all("name: Ann\u{1b}]0;x\u{7}\n\tok é".as_bytes())
            .unwrap();
        let e = "é".as_bytes();
        out.write_all(&e[..1]).unwrap();
        out.write_all(&e[1..]).unwrap();
        out.write_all(b"\xff").unwrap();
        out.flush().unwrap();
        assert_eq!(
            String::from_utf8(out.inner).unwrap(),
            "name: Ann\\u{1b}]0;x\\u{7}\n\tok éé\\xff"
        );
    }
}
