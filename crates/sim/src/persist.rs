//! `--state FILE`: the world saved as JSON on shutdown and loaded on start.

/// Serde adapter for maps of binary content (attachments), stored base64-encoded.
pub mod bytes_map {
    use std::collections::BTreeMap;

    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Serialises each value as a base64 string.
    pub fn serialize<S: Serializer>(
        map: &BTreeMap<u64, bytes::Bytes>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let encoded: BTreeMap<u64, String> =
            map.iter().map(|(k, v)| (*k, STANDARD.encode(v))).collect();
        encoded.serialize(serializer)
    }

    /// Reads base64 strings back into bytes.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<BTreeMap<u64, bytes::Bytes>, D::Error> {
        let encoded = BTreeMap::<u64, String>::deserialize(deserializer)?;
        encoded
            .into_iter()
            .map(|(k, v)| {
                STANDARD
                    .decode(v)
                    .map(|b| (k, bytes::Bytes::from(b)))
                    .map_err(serde::de::Error::custom)
            })
            .collect()
    }
}

use std::path::Path;

use crate::world::World;

/// Loads a saved world. `Ok(None)` when the file does not exist yet.
pub fn load(path: &Path) -> Result<Option<World>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err.to_string()),
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|err| format!("line {} column {}: {err}", err.line(), err.column()))
}

/// Saves the world atomically (write to a temporary file, then rename).
pub fn save(world: &World, path: &Path) -> Result<(), String> {
    let tmp = path.with_extension("tmp");
    let text = serde_json::to_vec(world).map_err(|e| e.to_string())?;
    std::fs::write(&tmp, text).map_err(|e| e.to_string())?;
    std::fs::rename(&tmp, path).map_err(|e| e.to_string())
}
