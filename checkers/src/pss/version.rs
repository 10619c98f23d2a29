//! Pod Security levels and policy versions as the namespace labels spell
//! them (`pod-security.kubernetes.io/enforce: restricted`,
//! `enforce-version: v1.33` or `latest`), parsed the way upstream's
//! `api.ParseLevel` / `api.ParseVersion` do.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The newest policy version this grader implements; `latest` and any newer
/// `v1.N` are clamped to it, as upstream clamps to its `maxVersion`.
pub const MAX_MINOR: u32 = 37;

/// A Pod Security Standards level that has checks. (`privileged` has none,
/// so it is not a level this grader evaluates.)
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Minimally restrictive: prevents known privilege escalations.
    Baseline,
    /// Heavily restricted: current pod hardening best practice.
    Restricted,
}

impl Level {
    /// The label value: `baseline` or `restricted`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Baseline => "baseline",
            Self::Restricted => "restricted",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "baseline" => Ok(Self::Baseline),
            "restricted" => Ok(Self::Restricted),
            _ => Err(VersionError::Level(s.to_owned())),
        }
    }
}

/// A policy version: `latest` or `v1.N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// The newest policy ([`MAX_MINOR`]).
    Latest,
    /// `v1.N`, as requested (may be newer than [`MAX_MINOR`]; see
    /// [`Version::resolved`]).
    V1(u32),
}

impl Version {
    /// The minor version whose policy applies: `latest` and versions newer
    /// than [`MAX_MINOR`] become [`MAX_MINOR`].
    pub fn minor(self) -> u32 {
        match self {
            Self::Latest => MAX_MINOR,
            Self::V1(n) => n.min(MAX_MINOR),
        }
    }

    /// The concrete `v1.N` whose policy applies.
    #[must_use]
    pub fn resolved(self) -> Self {
        Self::V1(self.minor())
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Latest => f.write_str("latest"),
            Self::V1(n) => write!(f, "v1.{n}"),
        }
    }
}

/// A level or version string that is not one the API accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    /// Not `baseline` or `restricted`.
    #[error("unknown Pod Security level {0:?}: expected \"baseline\" or \"restricted\"")]
    Level(String),
    /// Not `latest` or `v1.N`.
    #[error("invalid Pod Security version {0:?}: expected \"latest\" or \"v1.N\" (e.g. \"v1.33\")")]
    Version(String),
}

impl FromStr for Version {
    type Err = VersionError;

    /// Accepts what upstream's `^v1\.([0-9]|[1-9][0-9]*)$` accepts, plus
    /// `latest`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "latest" {
            return Ok(Self::Latest);
        }
        let bad = || VersionError::Version(s.to_owned());
        let digits = s.strip_prefix("v1.").ok_or_else(bad)?;
        let leading_zero = digits.len() > 1 && digits.starts_with('0');
        if digits.is_empty() || leading_zero || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        digits.parse().map(Self::V1).map_err(|_| bad())
    }
}

impl Serialize for Version {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Version {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "PssVersion".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A Pod Security policy version: `latest` or `v1.N` (e.g. `v1.33`).",
            "type": "string",
            "pattern": "^(latest|v1\\.(0|[1-9][0-9]*))$"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_label_values() {
        assert_eq!("latest".parse(), Ok(Version::Latest));
        assert_eq!("v1.0".parse(), Ok(Version::V1(0)));
        assert_eq!("v1.33".parse(), Ok(Version::V1(33)));
        for bad in ["v1.", "v1.01", "1.33", "v2.1", "v1.3a", "", "Latest"] {
            assert!(bad.parse::<Version>().is_err(), "{bad}");
        }
    }

    #[test]
    fn latest_and_future_clamp() {
        assert_eq!(Version::Latest.resolved(), Version::V1(MAX_MINOR));
        assert_eq!(Version::V1(99).resolved(), Version::V1(MAX_MINOR));
        assert_eq!(Version::V1(12).resolved(), Version::V1(12));
    }

    #[test]
    fn serde_round_trip() {
        let v: Version = serde_json::from_str("\"v1.33\"").expect("version");
        assert_eq!(v, Version::V1(33));
        assert_eq!(
            serde_json::to_string(&Version::Latest).ok().as_deref(),
            Some("\"latest\"")
        );
        let l: Level = serde_json::from_str("\"baseline\"").expect("level");
        assert_eq!(l, Level::Baseline);
    }
}
