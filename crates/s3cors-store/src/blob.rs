//! Object bytes: files under the data directory, or buffers in memory.
//!
//! A file blob is written to `tmp/ID`, fsync'd, renamed to `objects/XX/ID` and its directory fsync'd
//! before [`BlobWriter::commit`] returns, so a blob that metadata points to is always whole. Blob ids are
//! random hex: keys never become paths, so no key can reach outside the data directory.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use parking_lot::RwLock;

use crate::NameMap;
use crate::error::{Result, StoreError};
use crate::unique::Unique;

/// Where a blob's bytes can be read from.
#[derive(Debug)]
pub enum BlobReader {
    /// An open file.
    File(File),
    /// A buffer.
    Memory(Bytes),
}

/// A blob being written. Dropping it uncommitted discards it.
pub trait BlobWriter: Send + std::fmt::Debug {
    /// Appends bytes.
    fn write(&mut self, data: &[u8]) -> io::Result<()>;
    /// Makes the blob durable and visible; returns its id.
    fn commit(self: Box<Self>) -> Result<String>;
}

/// A place for blobs.
pub trait Blobs: Send + Sync + std::fmt::Debug + 'static {
    /// Starts a new blob.
    fn create(&self) -> Result<Box<dyn BlobWriter>>;
    /// Opens a committed blob.
    fn open(&self, id: &str) -> Result<BlobReader>;
    /// Removes a blob; a missing one is not an error.
    fn remove(&self, id: &str) -> Result<()>;
    /// Removes temporary files and every blob for which `keep` is false; returns how many went.
    fn sweep(&self, keep: &dyn Fn(&str) -> bool) -> Result<usize>;
}

/// A fresh blob id: 32 hex digits, the process's mixed counter then its seed ([`Unique`]). Ids never
/// repeat within a process, their leading digits spread files over the `objects/XX` directories, and
/// the seed keeps processes sharing a data directory apart unless two drew the same 64 bits. An id
/// names a file and is never shown to clients, so it need not be unpredictable (a fresh random id
/// cost a thread-local generator's ~600 instructions on every PUT).
fn new_id() -> String {
    let u = Unique::next();
    let mut raw = [0u8; 16];
    raw[..8].copy_from_slice(&u.mixed().to_be_bytes());
    raw[8..].copy_from_slice(&u.seed.to_be_bytes());
    s3cors_proto::hex(&raw)
}

fn valid_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Files under a data directory.
#[derive(Debug)]
pub struct FileBlobs {
    objects: PathBuf,
    tmp: PathBuf,
}

impl FileBlobs {
    /// Uses `dir/objects` and `dir/tmp`, creating them.
    pub fn open(dir: &Path) -> Result<Self> {
        let objects = dir.join("objects");
        let tmp = dir.join("tmp");
        fs::create_dir_all(&objects)?;
        fs::create_dir_all(&tmp)?;
        Ok(FileBlobs { objects, tmp })
    }

    fn path(&self, id: &str) -> Result<PathBuf> {
        if !valid_id(id) {
            return Err(StoreError::Corrupt(format!("invalid blob id {id:?}")));
        }
        Ok(self.objects.join(&id[..2]).join(id))
    }
}

#[derive(Debug)]
struct FileWriter {
    file: Option<File>,
    tmp_path: PathBuf,
    final_path: PathBuf,
    id: String,
}

impl BlobWriter for FileWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<()> {
        match &mut self.file {
            Some(f) => f.write_all(data),
            None => Err(io::Error::other("blob already committed")),
        }
    }

    fn commit(mut self: Box<Self>) -> Result<String> {
        let file = self
            .file
            .take()
            .ok_or_else(|| io::Error::other("blob already committed"))?;
        file.sync_all()?;
        drop(file);
        let dir = self
            .final_path
            .parent()
            .ok_or_else(|| io::Error::other("blob path has no parent"))?;
        fs::create_dir_all(dir)?;
        fs::rename(&self.tmp_path, &self.final_path)?;
        File::open(dir)?.sync_all()?;
        Ok(std::mem::take(&mut self.id))
    }
}

impl Drop for FileWriter {
    fn drop(&mut self) {
        if self.file.is_some() {
            let _ = fs::remove_file(&self.tmp_path);
        }
    }
}

impl Blobs for FileBlobs {
    fn create(&self) -> Result<Box<dyn BlobWriter>> {
        let id = new_id();
        let tmp_path = self.tmp.join(&id);
        let file = File::options().write(true).create_new(true).open(&tmp_path)?;
        let final_path = self.path(&id)?;
        Ok(Box::new(FileWriter {
            file: Some(file),
            tmp_path,
            final_path,
            id,
        }))
    }

    fn open(&self, id: &str) -> Result<BlobReader> {
        Ok(BlobReader::File(File::open(self.path(id)?)?))
    }

    fn remove(&self, id: &str) -> Result<()> {
        match fs::remove_file(self.path(id)?) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    fn sweep(&self, keep: &dyn Fn(&str) -> bool) -> Result<usize> {
        let mut removed = 0;
        for entry in fs::read_dir(&self.tmp)? {
            fs::remove_file(entry?.path())?;
            removed += 1;
        }
        for shard in fs::read_dir(&self.objects)? {
            let shard = shard?.path();
            if !shard.is_dir() {
                continue;
            }
            for entry in fs::read_dir(&shard)? {
                let entry = entry?;
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if !valid_id(&name) || !keep(&name) {
                    fs::remove_file(entry.path())?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }
}

/// Buffers in memory.
#[derive(Debug, Default)]
pub struct MemBlobs {
    blobs: Arc<RwLock<NameMap<String, Bytes>>>,
}

#[derive(Debug)]
struct MemWriter {
    buf: BytesMut,
    blobs: Arc<RwLock<NameMap<String, Bytes>>>,
}

impl BlobWriter for MemWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<()> {
        self.buf.extend_from_slice(data);
        Ok(())
    }

    fn commit(self: Box<Self>) -> Result<String> {
        let id = new_id();
        self.blobs.write().insert(id.clone(), self.buf.freeze());
        Ok(id)
    }
}

impl Blobs for MemBlobs {
    fn create(&self) -> Result<Box<dyn BlobWriter>> {
        Ok(Box::new(MemWriter {
            buf: BytesMut::new(),
            blobs: Arc::clone(&self.blobs),
        }))
    }

    fn open(&self, id: &str) -> Result<BlobReader> {
        self.blobs
            .read()
            .get(id)
            .cloned()
            .map(BlobReader::Memory)
            .ok_or_else(|| StoreError::Corrupt(format!("missing blob {id}")))
    }

    fn remove(&self, id: &str) -> Result<()> {
        self.blobs.write().remove(id);
        Ok(())
    }

    fn sweep(&self, keep: &dyn Fn(&str) -> bool) -> Result<usize> {
        let mut blobs = self.blobs.write();
        let before = blobs.len();
        blobs.retain(|id, _| keep(id));
        Ok(before - blobs.len())
    }
}

#[cfg(test)]
mod tests {
    use super::{new_id, valid_id};

    #[test]
    fn blob_ids_are_distinct_valid_and_spread_over_the_directories() {
        let ids: Vec<String> = (0..20_000).map(|_| new_id()).collect();
        assert!(ids.iter().all(|id| valid_id(id)));
        let distinct: std::collections::HashSet<&str> = ids.iter().map(String::as_str).collect();
        assert_eq!(distinct.len(), ids.len());
        // `objects/XX` takes the first two digits: 20,000 ids should reach nearly all 256.
        let dirs: std::collections::HashSet<&str> = ids.iter().map(|id| &id[..2]).collect();
        assert!(dirs.len() > 240, "only {} directories", dirs.len());
    }
}
