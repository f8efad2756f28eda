//! jiraflow's storage: narrow traits the rest of the system uses, and their SQLite backend.
//! Secrets (client secrets, access and refresh tokens) are sealed with XChaCha20-Poly1305 under a
//! master key, with the row's identity as associated data, before they reach the database.
