//! Groups (`/group`, `/group/bulk`, `/group/member`). Prefer group ids: names can be renamed.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ids::GroupId;

/// A group as `POST /group` and `POST /group/user` return it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    /// The group id.
    #[serde(default)]
    pub group_id: Option<GroupId>,
    /// The group name.
    #[serde(default)]
    pub name: Option<String>,
    /// Link to the group.
    #[serde(default, rename = "self")]
    pub self_url: Option<String>,
    /// Everything else (`users`, `expand`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A group as `/group/bulk` lists it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupDetails {
    /// The group id.
    #[serde(default)]
    pub group_id: Option<GroupId>,
    /// The group name.
    #[serde(default)]
    pub name: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
