//! Temporary databases for tests.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use jiraflow_store::conformance::DynStore;
use jiraflow_store::{MasterKey, SqliteStore, StoreResult};

/// A temporary directory removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let path = std::env::temp_dir().join(format!("jiraflow-store-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&path).expect("temp dir");
        Self(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn db(&self) -> PathBuf {
        self.0.join("jiraflow.db")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Makes stores in temporary directories that live as long as this value.
#[derive(Default)]
pub struct Stores(Mutex<Vec<TempDir>>);

impl Stores {
    fn keep(&self, dir: TempDir) {
        self.0.lock().expect("not poisoned").push(dir);
    }

    /// A fresh store in its own directory.
    pub async fn fresh(&self) -> StoreResult<DynStore> {
        let dir = TempDir::new();
        let store = SqliteStore::open(&dir.db(), MasterKey::generate()).await?;
        self.keep(dir);
        Ok(Arc::new(store))
    }

    /// Two independent stores (separate pools, like two processes) on one file.
    pub async fn pair(&self) -> StoreResult<(DynStore, DynStore)> {
        let dir = TempDir::new();
        let key = MasterKey::generate();
        let a = SqliteStore::open(&dir.db(), key.clone()).await?;
        let b = SqliteStore::open(&dir.db(), key).await?;
        self.keep(dir);
        Ok((Arc::new(a), Arc::new(b)))
    }
}
