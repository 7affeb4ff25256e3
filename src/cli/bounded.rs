//! Reading input with a limit: a line or a file longer than its field allows is refused
//! once the limit is passed, never read whole into memory first (`domain::text`).

use crate::domain::text::{Field, TextError};
use std::io::{BufRead, Read};

/// One line of input read with a limit.
pub enum Line {
    /// The line's bytes, without its line break.
    Bytes(Vec<u8>),
    /// The line is longer than the limit; reading stopped there.
    TooLong,
}

/// Reads the next line (at most `field`'s size in bytes); `None` at the end of input.
pub fn read_line(input: &mut impl BufRead, field: Field) -> std::io::Result<Option<Line>> {
    let mut buf = Vec::new();
    let limit = field.max_bytes() as u64 + 1;
    let n = input.by_ref().take(limit).read_until(b'\n', &mut buf)?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
        return Ok(Some(Line::Bytes(buf)));
    }
    if buf.len() > field.max_bytes() {
        return Ok(Some(Line::TooLong));
    }
    Ok(Some(Line::Bytes(buf)))
}

/// Reads all of `input` as text for `field`, refusing it once it passes the limit.
pub fn read_text(input: &mut impl Read, field: Field) -> Result<Vec<u8>, ReadError> {
    let mut buf = Vec::new();
    input
        .take(field.max_bytes() as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(ReadError::Io)?;
    if buf.len() > field.max_bytes() {
        return Err(ReadError::Text(TextError::TooLong { field, found: None }));
    }
    Ok(buf)
}

pub enum ReadError {
    Io(std::io::Error),
    Text(TextError),
}
