//! `--state FILE`: the world saved as JSON (atomically, periodically and on shutdown) and loaded
//! on start.
//!
//! The file holds the whole world, tokens included, so a restarted simulator keeps its issues and
//! every token it issued stays valid. The clock offset and the realism knobs are not saved: they
//! come from the command line of each run.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::clock::EpochMs;
use crate::state::SimState;
use crate::world::World;

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

/// Marks a file as a simulator state file (a stray JSON file is rejected with a clear message).
const FORMAT: &str = "jiraflow-sim-state";
/// Bumped when the world model changes incompatibly.
const VERSION: u32 = 1;

#[derive(Serialize)]
struct SavedRef<'a> {
    format: &'static str,
    version: u32,
    saved_at: EpochMs,
    world: &'a World,
}

#[derive(Deserialize)]
struct Header {
    format: Option<String>,
    version: Option<u32>,
}

#[derive(Deserialize)]
struct Saved {
    world: World,
}

/// Loads a saved world. `Ok(None)` when the file does not exist yet. Errors name the line and
/// column of a syntax or shape problem.
pub fn load(path: &Path) -> Result<Option<World>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err.to_string()),
    };
    let located =
        |err: serde_json::Error| format!("line {} column {}: {err}", err.line(), err.column());
    let header: Header = serde_json::from_str(&text).map_err(located)?;
    if header.format.as_deref() != Some(FORMAT) {
        return Err(format!(
            "not a simulator state file (expected \"format\": \"{FORMAT}\")"
        ));
    }
    if header.version != Some(VERSION) {
        return Err(format!(
            "state file format version {} is not supported (this simulator reads version {VERSION})",
            header
                .version
                .map_or_else(|| "(none)".to_owned(), |v| v.to_string())
        ));
    }
    let saved: Saved = serde_json::from_str(&text).map_err(located)?;
    Ok(Some(saved.world))
}

/// The bytes [`save`] writes.
pub fn encode(world: &World, now: EpochMs) -> Result<Vec<u8>, String> {
    serde_json::to_vec(&SavedRef {
        format: FORMAT,
        version: VERSION,
        saved_at: now,
        world,
    })
    .map_err(|e| e.to_string())
}

/// Saves the world atomically: written to a temporary file in the same directory, flushed to
/// disk, then renamed over `path`, so a crash leaves either the old or the new file, never half.
pub fn save(world: &World, path: &Path) -> Result<(), String> {
    let bytes = encode(world, 0)?;
    write_atomically(path, &bytes)
}

/// Writes `bytes` to `path` atomically (temporary file, fsync, rename).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| format!("{} is not a file path", path.display()))?;
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let written = (|| -> std::io::Result<()> {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        // Persist the rename itself; not every platform can open a directory, so best effort.
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && let Ok(dir) = std::fs::File::open(dir)
        {
            let _ = dir.sync_all();
        }
        Ok(())
    })();
    written.map_err(|err| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write {}: {err}", path.display())
    })
}

/// Starts the background saver: every `interval` (when the world changed) and once more on
/// shutdown. A zero interval saves on shutdown only.
pub fn spawn_saver(state: &SimState, path: PathBuf, interval: Duration) {
    let saver = state.clone();
    state.tasks.spawn(async move {
        let mut last: Option<u64> = None;
        if !interval.is_zero() {
            loop {
                tokio::select! {
                    () = saver.shutdown.cancelled() => break,
                    () = tokio::time::sleep(interval) => {}
                }
                last = save_if_changed(&saver, &path, last).await;
            }
        }
        save_if_changed(&saver, &path, None).await;
    });
}

/// Serialises the world (under the read lock, on a blocking thread: a large world takes a while)
/// and writes it unless it is byte-identical to the last save. Returns the digest of what is now
/// on disk.
async fn save_if_changed(state: &SimState, path: &Path, last: Option<u64>) -> Option<u64> {
    let state = state.clone();
    let path = path.to_owned();
    let task = tokio::task::spawn_blocking(move || {
        let bytes = encode(&state.world.read(), state.clock.now_ms())?;
        // The timestamp differs on every save; compare what follows it.
        let digest = digest_without_timestamp(&bytes);
        if Some(digest) == last {
            return Ok(digest);
        }
        write_atomically(&path, &bytes).map(|()| digest)
    });
    match task.await {
        Ok(Ok(digest)) => Some(digest),
        Ok(Err(err)) => {
            tracing::error!(%err, "cannot save simulator state");
            last
        }
        Err(err) => {
            tracing::error!(%err, "state saver failed");
            last
        }
    }
}

fn digest_without_timestamp(bytes: &[u8]) -> u64 {
    use std::hash::{DefaultHasher, Hasher};
    let world_start = bytes
        .windows(8)
        .position(|w| w == b"\"world\":")
        .unwrap_or(0);
    let mut hasher = DefaultHasher::new();
    hasher.write(&bytes[world_start..]);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("jiraflow-persist-{}", crate::util::uuid()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    #[test]
    fn a_saved_world_loads_back() {
        let dir = temp_dir();
        let path = dir.join("state.json");
        let world = World {
            next_id: 12_345,
            ..World::default()
        };
        save(&world, &path).expect("saved");
        let loaded = load(&path).expect("loads").expect("exists");
        assert_eq!(loaded.next_id, 12_345);
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .expect("dir")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "no temporary file is left behind");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_missing_file_is_a_fresh_start() {
        let path = temp_dir().join("absent.json");
        assert!(matches!(load(&path), Ok(None)));
    }

    #[test]
    fn a_corrupt_file_is_reported_with_line_and_column() {
        let path = temp_dir().join("corrupt.json");
        std::fs::write(&path, "{\n  \"format\": \"jiraflow-sim-state\",\n  oops\n}").expect("w");
        let err = load(&path).expect_err("corrupt");
        assert!(err.starts_with("line 3 column 3"), "{err}");
    }

    #[test]
    fn a_json_file_that_is_not_a_state_file_is_refused() {
        let path = temp_dir().join("other.json");
        std::fs::write(&path, "{\"hello\": 1}").expect("w");
        let err = load(&path).expect_err("foreign");
        assert!(err.contains("not a simulator state file"), "{err}");
        std::fs::write(
            &path,
            "{\"format\": \"jiraflow-sim-state\", \"version\": 99, \"world\": {}}",
        )
        .expect("w");
        let err = load(&path).expect_err("future version");
        assert!(err.contains("version 99"), "{err}");
    }

    #[test]
    fn the_change_digest_ignores_the_save_time() {
        let world = World::default();
        let a = encode(&world, 1).expect("a");
        let b = encode(&world, 2).expect("b");
        assert_ne!(a, b);
        assert_eq!(digest_without_timestamp(&a), digest_without_timestamp(&b));
    }
}
