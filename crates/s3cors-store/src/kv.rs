//! The ordered key-value seam under the store: sled on disk, a `BTreeMap` in memory.

use std::collections::BTreeMap;
use std::path::Path;

use parking_lot::RwLock;

use crate::error::Result;

/// Writes applied atomically: all or none.
#[derive(Debug, Default)]
pub struct Batch {
    ops: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

impl Batch {
    /// Sets a key.
    pub fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.ops.push((key, Some(value)));
    }

    /// Removes a key.
    pub fn delete(&mut self, key: Vec<u8>) {
        self.ops.push((key, None));
    }
}

/// One key-value pair of a scan.
pub type Entry = (Vec<u8>, Vec<u8>);

/// An ordered key-value store with atomic batches and durable flushes.
pub trait Kv: Send + Sync + std::fmt::Debug + 'static {
    /// Calls `read` with the value of a key, if it has one, where it lies (nothing is copied out).
    fn read(&self, key: &[u8], read: &mut dyn FnMut(&[u8])) -> Result<()>;
    /// Applies a batch atomically.
    fn apply(&self, batch: Batch) -> Result<()>;
    /// Up to `limit` entries with `start <= key < end`, in key order.
    fn scan(&self, start: &[u8], end: &[u8], limit: usize) -> Result<Vec<Entry>>;
    /// Makes every applied batch durable.
    fn flush(&self) -> Result<()>;
}

/// sled, the embedded default.
#[derive(Debug)]
pub struct SledKv {
    db: sled::Db,
}

impl SledKv {
    /// Opens (or creates) the database in `dir`.
    pub fn open(dir: &Path) -> Result<Self> {
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(8 * 1024 * 1024)
            .flush_every_ms(Some(1000))
            .open()?;
        Ok(SledKv { db })
    }
}

impl Kv for SledKv {
    fn read(&self, key: &[u8], read: &mut dyn FnMut(&[u8])) -> Result<()> {
        if let Some(v) = self.db.get(key)? {
            read(&v);
        }
        Ok(())
    }

    fn apply(&self, batch: Batch) -> Result<()> {
        let mut b = sled::Batch::default();
        for (k, v) in batch.ops {
            match v {
                Some(v) => b.insert(k, v),
                None => b.remove(k),
            }
        }
        Ok(self.db.apply_batch(b)?)
    }

    fn scan(&self, start: &[u8], end: &[u8], limit: usize) -> Result<Vec<Entry>> {
        if start >= end {
            return Ok(Vec::new());
        }
        self.db
            .range(start..end)
            .take(limit)
            .map(|r| r.map(|(k, v)| (k.to_vec(), v.to_vec())).map_err(Into::into))
            .collect()
    }

    fn flush(&self) -> Result<()> {
        self.db.flush()?;
        Ok(())
    }
}

/// In memory, for `--memory` and tests.
#[derive(Debug, Default)]
pub struct MemKv {
    map: RwLock<BTreeMap<Vec<u8>, Vec<u8>>>,
}

impl Kv for MemKv {
    fn read(&self, key: &[u8], read: &mut dyn FnMut(&[u8])) -> Result<()> {
        if let Some(v) = self.map.read().get(key) {
            read(v);
        }
        Ok(())
    }

    fn apply(&self, batch: Batch) -> Result<()> {
        let mut map = self.map.write();
        for (k, v) in batch.ops {
            match v {
                Some(v) => map.insert(k, v),
                None => map.remove(&k),
            };
        }
        Ok(())
    }

    fn scan(&self, start: &[u8], end: &[u8], limit: usize) -> Result<Vec<Entry>> {
        if start >= end {
            return Ok(Vec::new());
        }
        let map = self.map.read();
        Ok(map
            .range(start.to_vec()..end.to_vec())
            .take(limit)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    fn flush(&self) -> Result<()> {
        Ok(())
    }
}
