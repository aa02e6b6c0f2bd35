//! [`Name`]: a short, often repeated string (a partner id, a category, a
//! region, a currency) that is cheap to clone and can be shared.
//!
//! On the wire it is a plain JSON string. A client that holds many
//! referrals interns these (one allocation per distinct value, see
//! `inbox::state::Interner`); everyone else just uses it as a `&str`.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An immutable, reference-counted string. Derefs to `str`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Name(Arc<str>);

impl Name {
    /// The string itself.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `self` and `other` share one allocation (interned alike).
    pub fn ptr_eq(&self, other: &Name) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl From<&str> for Name {
    fn from(s: &str) -> Self {
        Self(Arc::from(s))
    }
}

impl From<String> for Name {
    fn from(s: String) -> Self {
        Self(Arc::from(s))
    }
}

impl From<&String> for Name {
    fn from(s: &String) -> Self {
        Self(Arc::from(s.as_str()))
    }
}

impl From<Name> for String {
    fn from(n: Name) -> Self {
        n.0.to_string()
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<String> for Name {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<Name> for str {
    fn eq(&self, other: &Name) -> bool {
        self == &*other.0
    }
}

impl PartialEq<Name> for &str {
    fn eq(&self, other: &Name) -> bool {
        *self == &*other.0
    }
}

impl PartialEq<Name> for String {
    fn eq(&self, other: &Name) -> bool {
        **self == *other.0
    }
}

impl Serialize for Name {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Borrow when the format allows it, so no intermediate `String`.
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(Self(Arc::from(&*s)))
    }
}

/// In the OpenAPI document a `Name` is a plain string.
impl utoipa::PartialSchema for Name {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        <String as utoipa::PartialSchema>::schema()
    }
}

impl utoipa::ToSchema for Name {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_a_json_string_both_ways() {
        let n: Name = serde_json::from_str(r#""acme-web""#).unwrap();
        assert_eq!(n, "acme-web");
        assert_eq!(serde_json::to_string(&n).unwrap(), r#""acme-web""#);
        let escaped: Name = serde_json::from_str(r#""a\"b""#).unwrap();
        assert_eq!(escaped.as_str(), "a\"b");
    }

    #[test]
    fn compares_with_strings_and_clones_share() {
        let n = Name::from("x");
        let s = String::from("x");
        assert_eq!(n, "x");
        assert_eq!("x", n);
        assert_eq!(n, s);
        assert_eq!(s, n);
        assert_ne!(n, "y");
        assert!(n.ptr_eq(&n.clone()));
        assert!(!n.ptr_eq(&Name::from("x")));
        assert_eq!(format!("{n} {n:?}"), "x \"x\"");
    }
}
