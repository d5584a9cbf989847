//! Billing periods: UTC calendar months, written `YYYY-MM`.

use time::{Date, Month};

/// One UTC calendar month.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    year: i32,
    month: Month,
}

/// Why a period was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    /// Not `YYYY-MM`.
    #[error("period: expected a UTC month as YYYY-MM (e.g. 2026-11)")]
    Malformed,
    /// The month has not ended.
    #[error("period: {0} has not ended yet (invoices are for complete UTC months)")]
    Open(String),
}

impl Period {
    /// Parses `YYYY-MM`.
    pub fn parse(text: &str) -> Result<Self, PeriodError> {
        let (year, month) = text.split_once('-').ok_or(PeriodError::Malformed)?;
        if year.len() != 4 || month.len() != 2 {
            return Err(PeriodError::Malformed);
        }
        let year: i32 = year.parse().map_err(|_| PeriodError::Malformed)?;
        let month: u8 = month.parse().map_err(|_| PeriodError::Malformed)?;
        let month = Month::try_from(month).map_err(|_| PeriodError::Malformed)?;
        if !(2000..=9999).contains(&year) {
            return Err(PeriodError::Malformed);
        }
        Ok(Self { year, month })
    }

    /// The month containing `at_ms` (Unix milliseconds).
    pub fn containing(at_ms: i64) -> Self {
        let at = time::OffsetDateTime::from_unix_timestamp(at_ms.div_euclid(1000))
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        Self {
            year: at.year(),
            month: at.month(),
        }
    }

    fn first_day(self) -> Date {
        Date::from_calendar_date(self.year, self.month, 1).expect("a valid month")
    }

    /// The next month.
    pub fn next(self) -> Self {
        let (year, month) = match self.month {
            Month::December => (self.year + 1, Month::January),
            m => (self.year, m.next()),
        };
        Self { year, month }
    }

    /// The first millisecond of the month (Unix milliseconds, inclusive).
    pub fn start_ms(self) -> i64 {
        self.first_day().midnight().assume_utc().unix_timestamp() * 1000
    }

    /// The first millisecond after the month (exclusive end).
    pub fn end_ms(self) -> i64 {
        self.next().start_ms()
    }

    /// Refuses a month that has not ended at `now_ms`.
    pub fn ended_by(self, now_ms: i64) -> Result<Self, PeriodError> {
        if now_ms < self.end_ms() {
            return Err(PeriodError::Open(self.to_string()));
        }
        Ok(self)
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_parse_and_bound_their_milliseconds() {
        let nov = Period::parse("2026-11").unwrap();
        assert_eq!(nov.to_string(), "2026-11");
        assert_eq!(nov.start_ms(), 1_793_491_200_000);
        assert_eq!(nov.end_ms(), Period::parse("2026-12").unwrap().start_ms());
        let dec = Period::parse("2026-12").unwrap();
        assert_eq!(dec.next().to_string(), "2027-01");
        assert_eq!(Period::containing(nov.start_ms()), nov);
        assert_eq!(Period::containing(nov.end_ms() - 1), nov);
        for bad in [
            "2026-13", "2026-1", "26-11", "2026/11", "", "2026-00", "abcd-ef",
        ] {
            assert_eq!(Period::parse(bad), Err(PeriodError::Malformed), "{bad}");
        }
        assert!(nov.ended_by(nov.end_ms() - 1).is_err());
        assert!(nov.ended_by(nov.end_ms()).is_ok());
    }
}
