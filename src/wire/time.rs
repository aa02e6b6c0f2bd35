//! Timestamps on the wire: RFC 3339, UTC, whole seconds (`2026-11-26T09:14:03Z`).

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};

/// A point in time as the protocol carries it.
pub type Timestamp = DateTime<Utc>;

/// The current time, truncated to whole seconds as the wire carries it.
pub fn now_seconds() -> Timestamp {
    Utc::now().trunc_subsecs(0)
}

/// `2026-11-26T09:14:03Z`.
pub fn format_timestamp(t: &Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Parses an RFC 3339 timestamp into UTC.
pub fn parse_timestamp(s: &str) -> Option<Timestamp> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Serde helpers writing whole-second `Z` timestamps.
pub mod serde_secs {
    use super::*;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_timestamp(t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let s = String::deserialize(d)?;
        parse_timestamp(&s)
            .ok_or_else(|| serde::de::Error::custom("expected an RFC 3339 timestamp"))
    }

    pub mod option {
        use super::*;

        pub fn serialize<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => s.serialize_str(&format_timestamp(t)),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
            match Option::<String>::deserialize(d)? {
                None => Ok(None),
                Some(s) => parse_timestamp(&s)
                    .map(Some)
                    .ok_or_else(|| serde::de::Error::custom("expected an RFC 3339 timestamp")),
            }
        }
    }
}
