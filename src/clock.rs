//! Time: the one place keycard reads the wall clock.
//!
//! Every check that depends on time (`exp`, `nbf`, `iat`, key grace periods, and later idle and
//! absolute session timeouts) asks a [`Clock`]. Production code uses [`SystemClock`]; tests use
//! [`ManualClock`] and move time by hand instead of sleeping.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The latest instant keycard represents: 9999-12-31T23:59:59Z.
///
/// RFC 3339 cannot write a later year, so time claims past it are rejected as malformed in every
/// format, keeping JWT and PASETO tokens interchangeable.
pub const MAX_TIMESTAMP: i64 = 253_402_300_799;

/// An instant, in whole seconds since the Unix epoch, between 1970-01-01 and [`MAX_TIMESTAMP`].
///
/// This is the resolution of JWT NumericDate claims; PASETO's RFC 3339 claims are read to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The Unix epoch.
    pub const EPOCH: Timestamp = Timestamp(0);

    /// An instant from seconds since the Unix epoch, or `None` outside `0..=MAX_TIMESTAMP`.
    pub const fn from_unix(secs: i64) -> Option<Timestamp> {
        if secs >= 0 && secs <= MAX_TIMESTAMP {
            Some(Timestamp(secs))
        } else {
            None
        }
    }

    /// Seconds since the Unix epoch.
    pub const fn as_unix(self) -> i64 {
        self.0
    }

    /// This instant plus `d`, saturating at [`MAX_TIMESTAMP`].
    pub fn saturating_add(self, d: Duration) -> Timestamp {
        let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        Timestamp(self.0.saturating_add(secs).min(MAX_TIMESTAMP))
    }

    /// This instant minus `d`, saturating at the epoch.
    pub fn saturating_sub(self, d: Duration) -> Timestamp {
        let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        Timestamp(self.0.saturating_sub(secs).max(0))
    }

    /// The time from `earlier` to `self`, zero if `earlier` is later.
    pub fn duration_since(self, earlier: Timestamp) -> Duration {
        Duration::from_secs(u64::try_from(self.0 - earlier.0).unwrap_or(0))
    }

    /// This instant as a [`time::OffsetDateTime`] in UTC.
    pub fn to_offset_date_time(self) -> time::OffsetDateTime {
        // In range by construction: 0..=MAX_TIMESTAMP is inside time's supported years.
        time::OffsetDateTime::from_unix_timestamp(self.0)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
    }

    /// RFC 3339 text in UTC with a `Z` suffix, the form PASETO claims use.
    pub fn to_rfc3339(self) -> String {
        let t = self.to_offset_date_time();
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    }

    /// Parses RFC 3339 text (any offset, optional fractional seconds, which are dropped).
    pub fn parse_rfc3339(text: &str) -> Option<Timestamp> {
        let t = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
            .ok()?;
        Timestamp::from_unix(t.unix_timestamp())
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let secs = i64::deserialize(d)?;
        Timestamp::from_unix(secs).ok_or_else(|| serde::de::Error::custom("timestamp out of range"))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

/// A source of the current time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

/// The operating system's wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(MAX_TIMESTAMP))
            .unwrap_or(0);
        Timestamp(secs.clamp(0, MAX_TIMESTAMP))
    }
}

/// A clock that only moves when told to; share it (it is cheap to clone) between the parts of a
/// test so they agree on "now".
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock showing `start`.
    pub fn new(start: Timestamp) -> ManualClock {
        ManualClock(Arc::new(AtomicI64::new(start.0)))
    }

    /// Moves the clock forward by `d`.
    pub fn advance(&self, d: Duration) {
        let secs = i64::try_from(d.as_secs()).unwrap_or(MAX_TIMESTAMP);
        let _ = self
            .0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |now| {
                Some(now.saturating_add(secs).min(MAX_TIMESTAMP))
            });
    }

    /// Sets the clock to `t` (which may move it backwards).
    pub fn set(&self, t: Timestamp) {
        self.0.store(t.0, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

/// A shared clock handle, as held by the issuer, the verifier and the key ring.
pub type SharedClock = Arc<dyn Clock>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_bounds() {
        assert_eq!(Timestamp::from_unix(-1), None);
        assert_eq!(Timestamp::from_unix(MAX_TIMESTAMP + 1), None);
        assert!(Timestamp::from_unix(MAX_TIMESTAMP).is_some());
        let max = Timestamp::from_unix(MAX_TIMESTAMP).unwrap();
        assert_eq!(max.saturating_add(Duration::from_secs(u64::MAX)), max);
        assert_eq!(
            Timestamp::EPOCH.saturating_sub(Duration::from_secs(5)),
            Timestamp::EPOCH
        );
    }

    #[test]
    fn rfc3339_round_trip_and_offsets() {
        let t = Timestamp::from_unix(1_700_000_000).unwrap();
        assert_eq!(t.to_rfc3339(), "2023-11-14T22:13:20Z");
        assert_eq!(Timestamp::parse_rfc3339(&t.to_rfc3339()), Some(t));
        assert_eq!(
            Timestamp::parse_rfc3339("2023-11-14T23:13:20.999+01:00"),
            Some(t)
        );
        assert_eq!(
            Timestamp::parse_rfc3339("9999-12-31T23:59:59Z").map(Timestamp::as_unix),
            Some(MAX_TIMESTAMP)
        );
        assert_eq!(Timestamp::parse_rfc3339("1969-12-31T23:59:59Z"), None);
        assert_eq!(Timestamp::parse_rfc3339("2023-11-14"), None);
        assert_eq!(Timestamp::parse_rfc3339("1700000000"), None);
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(Timestamp::from_unix(100).unwrap());
        assert_eq!(c.now().as_unix(), 100);
        c.advance(Duration::from_secs(5));
        assert_eq!(c.clone().now().as_unix(), 105);
        c.set(Timestamp::from_unix(7).unwrap());
        assert_eq!(c.now().as_unix(), 7);
    }
}
