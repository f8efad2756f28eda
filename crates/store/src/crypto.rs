//! The master key and the sealed-value envelope.
//!
//! A sealed value is `key_id (1 byte) || nonce (24 random bytes) || XChaCha20-Poly1305 ciphertext
//! and tag`. The associated data is `table:row_id:column` ([`aad`]), so a ciphertext copied into
//! another row or column fails to open. 24-byte random nonces make accidental nonce reuse
//! negligible without any counter state shared between processes.
//!
//! The master key is 32 random bytes, given as base64 in `JIRAFLOW_MASTER_KEY` or kept in
//! `<data_dir>/master.key`, which is created with mode 0600 on first start. A key file readable
//! by group or others is refused rather than warned about: a leaked key file exposes every
//! token, and fixing it is one `chmod`.

use std::fs::OpenOptions;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretBox, SecretString};

use crate::error::{StoreError, StoreResult};

/// The environment variable holding the base64 master key.
pub const MASTER_KEY_ENV: &str = "JIRAFLOW_MASTER_KEY";
/// The key file's name inside the data directory.
pub const KEY_FILE_NAME: &str = "master.key";

const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = 1 + NONCE_LEN;

/// Where a master key came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// The `JIRAFLOW_MASTER_KEY` environment variable.
    Environment,
    /// An existing key file.
    File(PathBuf),
    /// A key file created just now (first start).
    CreatedFile(PathBuf),
}

/// A 256-bit master key. Zeroed on drop; `Debug` is redacted.
pub struct MasterKey(SecretBox<[u8; 32]>);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey([REDACTED])")
    }
}

impl Clone for MasterKey {
    fn clone(&self) -> Self {
        Self::from_bytes(*self.0.expose_secret())
    }
}

impl MasterKey {
    /// A fresh random key from the operating system's CSPRNG (via `rand`'s thread RNG).
    #[must_use]
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self::from_bytes(bytes)
    }

    /// Wraps raw key bytes.
    #[must_use]
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(SecretBox::new(Box::new(bytes)))
    }

    /// Parses a base64 (standard alphabet) key of exactly 32 bytes; surrounding whitespace is
    /// ignored.
    pub fn from_base64(encoded: &str) -> StoreResult<Self> {
        let decoded = STANDARD
            .decode(encoded.trim())
            .map_err(|_| StoreError::MasterKey("the master key is not valid base64".to_owned()))?;
        let bytes: [u8; 32] = decoded.as_slice().try_into().map_err(|_| {
            StoreError::MasterKey(format!(
                "the master key must be 32 bytes (44 base64 characters), got {} bytes",
                decoded.len()
            ))
        })?;
        Ok(Self::from_bytes(bytes))
    }

    /// The key as base64, for writing a key file or printing once after `rotate-key`.
    #[must_use]
    pub fn to_base64(&self) -> SecretString {
        SecretString::from(STANDARD.encode(self.0.expose_secret()))
    }

    /// Resolves the key the way `jiraflow` starts: `JIRAFLOW_MASTER_KEY` if set, otherwise
    /// `<data_dir>/master.key`, created on first start.
    pub fn from_environment(data_dir: &Path) -> StoreResult<(Self, KeySource)> {
        let env = std::env::var(MASTER_KEY_ENV).ok();
        Self::resolve(env.as_deref(), data_dir)
    }

    /// [`Self::from_environment`] with the environment value passed in (for tests).
    pub fn resolve(env_value: Option<&str>, data_dir: &Path) -> StoreResult<(Self, KeySource)> {
        if let Some(value) = env_value.filter(|v| !v.trim().is_empty()) {
            return Ok((Self::from_base64(value)?, KeySource::Environment));
        }
        Self::load_or_create_file(&data_dir.join(KEY_FILE_NAME))
    }

    /// Reads a key file, refusing one readable by group or others.
    pub fn read_file(path: &Path) -> StoreResult<Self> {
        let io = |source| StoreError::Io {
            path: path.to_owned(),
            source,
        };
        let mode = std::fs::metadata(path).map_err(io)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(StoreError::KeyFilePermissions {
                path: path.to_owned(),
                mode,
            });
        }
        let text = SecretString::from(std::fs::read_to_string(path).map_err(io)?);
        Self::from_base64(text.expose_secret())
    }

    /// Reads the key file, or creates it (mode 0600, parent directory 0700) with a fresh key.
    /// When two processes start at once, `create_new` lets exactly one write it and the other
    /// reads the winner's key.
    pub fn load_or_create_file(path: &Path) -> StoreResult<(Self, KeySource)> {
        if path.exists() {
            return Ok((Self::read_file(path)?, KeySource::File(path.to_owned())));
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|source| StoreError::Io {
                    path: dir.to_owned(),
                    source,
                })?;
        }
        let key = Self::generate();
        match Self::write_new_file(&key, path) {
            Ok(()) => Ok((key, KeySource::CreatedFile(path.to_owned()))),
            Err(StoreError::Io { source, .. }) if source.kind() == ErrorKind::AlreadyExists => {
                Ok((Self::read_file(path)?, KeySource::File(path.to_owned())))
            }
            Err(e) => Err(e),
        }
    }

    /// Writes the key to a new file with mode 0600; fails if the file exists.
    pub fn write_new_file(&self, path: &Path) -> StoreResult<()> {
        let io = |source| StoreError::Io {
            path: path.to_owned(),
            source,
        };
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(io)?;
        let mut line = self.to_base64().expose_secret().to_owned();
        line.push('\n');
        file.write_all(line.as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&Key::from(*self.0.expose_secret()))
    }
}

/// The associated data binding a sealed value to its place: `table:row_id:column`.
#[must_use]
pub fn aad(table: &str, row_id: &str, column: &str) -> String {
    format!("{table}:{row_id}:{column}")
}

/// Seals `plaintext` under `key` (identified in the envelope as `key_id`) bound to `aad`.
pub fn seal(key: &MasterKey, key_id: u8, aad: &[u8], plaintext: &[u8]) -> StoreResult<Vec<u8>> {
    let mut nonce_bytes = [0u8; NONCE_LEN];
    rand::rng().fill_bytes(&mut nonce_bytes);
    let nonce = XNonce::from(nonce_bytes);
    let ciphertext = key
        .cipher()
        .encrypt(
            &nonce,
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| StoreError::MasterKey("encryption failed".to_owned()))?;
    let mut out = Vec::with_capacity(HEADER_LEN + ciphertext.len());
    out.push(key_id);
    out.extend_from_slice(&nonce_bytes);
    out.extend_from_slice(&ciphertext);
    Ok(out)
}

/// Opens a sealed value. Fails (`Decrypt`, naming `aad` but not the value) when the key or key
/// id differs, the associated data differs, or any byte was changed.
pub fn open(key: &MasterKey, key_id: u8, aad: &[u8], sealed: &[u8]) -> StoreResult<Vec<u8>> {
    let fail = || StoreError::Decrypt {
        context: String::from_utf8_lossy(aad).into_owned(),
    };
    if sealed.len() < HEADER_LEN + TAG_LEN || sealed[0] != key_id {
        return Err(fail());
    }
    let nonce_bytes: [u8; NONCE_LEN] = sealed[1..HEADER_LEN].try_into().map_err(|_| fail())?;
    key.cipher()
        .decrypt(
            &XNonce::from(nonce_bytes),
            Payload {
                msg: &sealed[HEADER_LEN..],
                aad,
            },
        )
        .map_err(|_| fail())
}

/// The key id byte a sealed value was written with, if it is long enough to be one.
#[must_use]
pub fn sealed_key_id(sealed: &[u8]) -> Option<u8> {
    sealed.first().copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_sealed_value_opens_with_the_same_key_and_aad() -> anyhow::Result<()> {
        let key = MasterKey::generate();
        let sealed = seal(&key, 1, b"t:r:c", b"secret")?;
        assert_eq!(open(&key, 1, b"t:r:c", &sealed)?, b"secret");
        Ok(())
    }

    #[test]
    fn a_different_key_or_key_id_cannot_open_it() -> anyhow::Result<()> {
        let key = MasterKey::generate();
        let sealed = seal(&key, 1, b"t:r:c", b"secret")?;
        assert!(open(&MasterKey::generate(), 1, b"t:r:c", &sealed).is_err());
        assert!(open(&key, 2, b"t:r:c", &sealed).is_err());
        Ok(())
    }

    #[test]
    fn base64_keys_round_trip_and_bad_lengths_are_refused() -> anyhow::Result<()> {
        let key = MasterKey::generate();
        let again = MasterKey::from_base64(key.to_base64().expose_secret())?;
        let sealed = seal(&key, 3, b"a", b"b")?;
        assert_eq!(open(&again, 3, b"a", &sealed)?, b"b");
        let err = MasterKey::from_base64("c2hvcnQ=")
            .err()
            .map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("32 bytes")));
        assert!(MasterKey::from_base64("not base64!").is_err());
        Ok(())
    }

    #[test]
    fn the_key_file_is_created_owner_only_and_reused() -> anyhow::Result<()> {
        let dir = std::env::temp_dir().join(format!("jf-key-{}", uuid::Uuid::new_v4()));
        let (first, source) = MasterKey::resolve(None, &dir)?;
        assert!(matches!(source, KeySource::CreatedFile(_)));
        let path = dir.join(KEY_FILE_NAME);
        assert_eq!(
            std::fs::metadata(&path)?.permissions().mode() & 0o777,
            0o600
        );
        let (second, source) = MasterKey::resolve(None, &dir)?;
        assert!(matches!(source, KeySource::File(_)));
        let sealed = seal(&first, 1, b"x", b"y")?;
        assert_eq!(open(&second, 1, b"x", &sealed)?, b"y");
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }

    #[test]
    fn a_key_file_readable_by_others_is_refused() -> anyhow::Result<()> {
        let dir = std::env::temp_dir().join(format!("jf-key-{}", uuid::Uuid::new_v4()));
        MasterKey::resolve(None, &dir)?;
        let path = dir.join(KEY_FILE_NAME);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))?;
        let err = MasterKey::resolve(None, &dir).err();
        assert!(
            matches!(err, Some(StoreError::KeyFilePermissions { .. })),
            "{err:?}"
        );
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }

    #[test]
    fn the_environment_variable_wins_over_the_key_file() -> anyhow::Result<()> {
        let dir = std::env::temp_dir().join(format!("jf-key-{}", uuid::Uuid::new_v4()));
        let key = MasterKey::generate();
        let (_, source) = MasterKey::resolve(Some(key.to_base64().expose_secret()), &dir)?;
        assert_eq!(source, KeySource::Environment);
        assert!(
            !dir.exists(),
            "no key file is created when the variable is set"
        );
        Ok(())
    }

    #[test]
    fn debug_of_a_master_key_is_redacted() {
        assert_eq!(
            format!("{:?}", MasterKey::generate()),
            "MasterKey([REDACTED])"
        );
    }

    proptest! {
        #[test]
        fn seal_then_open_round_trips(plain in proptest::collection::vec(any::<u8>(), 0..256),
                                      aad in proptest::collection::vec(any::<u8>(), 0..64)) {
            let key = MasterKey::from_bytes([7; 32]);
            let sealed = seal(&key, 1, &aad, &plain).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let opened = open(&key, 1, &aad, &sealed).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(opened, plain);
        }

        #[test]
        fn tampering_with_any_byte_fails(plain in proptest::collection::vec(any::<u8>(), 0..64),
                                         index in any::<prop::sample::Index>(),
                                         flip in 1u8..=255) {
            let key = MasterKey::from_bytes([9; 32]);
            let mut sealed = seal(&key, 1, b"t:r:c", &plain).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let i = index.index(sealed.len());
            sealed[i] ^= flip;
            prop_assert!(open(&key, 1, b"t:r:c", &sealed).is_err());
        }

        #[test]
        fn a_different_aad_fails(plain in proptest::collection::vec(any::<u8>(), 0..64),
                                 other in "[a-z:0-9]{0,20}") {
            prop_assume!(other != "t:r:c");
            let key = MasterKey::from_bytes([5; 32]);
            let sealed = seal(&key, 1, b"t:r:c", &plain).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(open(&key, 1, other.as_bytes(), &sealed).is_err());
        }
    }
}
