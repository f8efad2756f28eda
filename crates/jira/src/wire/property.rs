//! Entity properties of issues and comments (`/issue/{key}/properties`,
//! `/comment/{id}/properties`): arbitrary JSON under a key, at most 32,768 characters.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A property: key and JSON value.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct EntityProperty {
    /// The key (at most 255 characters).
    pub key: String,
    /// The value; absent in key listings.
    #[serde(default)]
    pub value: Value,
}

/// One entry of a key listing.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct PropertyKey {
    /// The key.
    pub key: String,
    /// Link to the property.
    #[serde(default, rename = "self")]
    pub self_url: Option<String>,
}

/// `GET .../properties`: the keys set on an entity.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct PropertyKeys {
    /// The keys.
    #[serde(default)]
    pub keys: Vec<PropertyKey>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What a `PUT` of a property did: Jira answers 201 for a new key and 200 for a replaced one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropertyWrite {
    /// The key did not exist before.
    Created,
    /// The key existed; its value was replaced.
    Updated,
}
