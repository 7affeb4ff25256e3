//! The home screen's patient list, a page at a time: the first page when the screen opens
//! or the filter changes, the next when the selection moves past the rows read so far.

use super::AppError;
use super::Chart;
use crate::domain::Patient;
use crate::domain::patient_filter::PatientFilter;

/// Patients read at a time: more than any screen shows at once.
pub const PAGE: usize = 50;

/// A read the list asks for: the page under `filter` after `after` (the first when None).
#[derive(Debug, Clone, PartialEq)]
pub struct PageRead {
    pub filter: PatientFilter,
    pub after: Option<Patient>,
}

/// A page as read, with the read it answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub read: PageRead,
    pub rows: Vec<Patient>,
    /// No patient comes after these under the filter.
    pub last: bool,
}

/// The rows of the list read so far, under one filter.
#[derive(Debug, Clone, PartialEq)]
pub struct PatientList {
    pub filter: PatientFilter,
    pub rows: Vec<Patient>,
    /// Every patient under the filter is in `rows`.
    pub complete: bool,
}

impl PatientList {
    /// The read that continues the list, unless it is complete.
    pub fn next_read(&self) -> Option<PageRead> {
        (!self.complete).then(|| PageRead {
            filter: self.filter.clone(),
            after: self.rows.last().cloned(),
        })
    }

    /// Takes a page in: the first page of a filter replaces the rows, the page after the
    /// last row is added to them. A page that answers neither (a read overtaken by another)
    /// is left out, and false returned.
    pub fn take(&mut self, page: Page) -> bool {
        let follows = page.read.filter == self.filter
            && page.read.after.as_ref().map(|p| p.id) == self.rows.last().map(|p| p.id)
            && !self.complete;
        if page.read.after.is_none() {
            self.filter = page.read.filter;
            self.rows = page.rows;
        } else if follows {
            self.rows.extend(page.rows);
        } else {
            return false;
        }
        self.complete = page.last;
        true
    }
}

/// Reads one page of the list.
pub fn read(chart: &Chart, read: PageRead) -> Result<Page, AppError> {
    // One more than a page says whether another page follows.
    let mut rows = chart
        .store
        .patient_page(&read.filter, read.after.as_ref(), PAGE + 1)?;
    let last = rows.len() <= PAGE;
    rows.truncate(PAGE);
    Ok(Page { read, rows, last })
}

/// The first page under `filter`, as the list that starts with it.
pub fn first_page(chart: &Chart, filter: PatientFilter) -> Result<PatientList, AppError> {
    let page = read(
        chart,
        PageRead {
            filter: filter.clone(),
            after: None,
        },
    )?;
    Ok(PatientList {
        filter,
        rows: page.rows,
        complete: page.last,
    })
}

/// The list under `filter` read again from its first page, page by page until it holds at
/// least `rows` rows (or every patient under it): what a screen that had read that far
/// shows once another process changed the chart.
pub fn read_again(
    chart: &Chart,
    filter: PatientFilter,
    rows: usize,
) -> Result<PatientList, AppError> {
    let mut list = first_page(chart, filter)?;
    while list.rows.len() < rows {
        let Some(next) = list.next_read() else { break };
        if !list.take(read(chart, next)?) {
            break;
        }
    }
    Ok(list)
}
