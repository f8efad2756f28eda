//! Small helpers shared by the simulator's modules.

use rand::Rng;
use rand::distr::Alphanumeric;

/// A random URL-safe token of `len` characters.
pub fn random_token(len: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// A random UUID string (v4).
pub fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}
