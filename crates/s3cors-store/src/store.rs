//! S3 semantics over a [`Kv`] for metadata and [`Blobs`] for bytes.
//!
//! Keyspace (every value a versioned record, see [`crate::record`]):
//!
//! | key | value |
//! |---|---|
//! | `b/BUCKET` | [`BucketRecord`] |
//! | `o/BUCKET/KEY` | [`ObjectRecord`] |
//! | `u/BUCKET/KEY \0 UPLOADID` | [`UploadRecord`] |
//! | `p/UPLOADID/NNNNN` | [`PartRecord`] |
//! | `c/BUCKET` | [`CorsConfiguration`] |
//! | `y/BUCKET` | bucket policy (JSON text) |
//! | `d/BUCKET/UPLOADID` | [`CompletedUpload`] |
//!
//! A write stores its bytes in a committed blob first, then applies the metadata batch and flushes it,
//! and only then removes the blob it replaced: an acknowledged write is durable, and a crash at any
//! point leaves either the old or the new object, plus at most an unreferenced blob that
//! [`Store::open_dir`] sweeps away.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use md5::{Digest, Md5};
use parking_lot::{Mutex, RwLock};
use s3cors_cors::CorsConfiguration;
use s3cors_proto::checksum::ChecksumAlgorithm;
use s3cors_proto::{S3Error, S3ErrorCode};

use crate::NameMap;
use crate::blob::{BlobReader, BlobWriter, Blobs, FileBlobs, MemBlobs};
use crate::error::{Result, StoreError};
use crate::kv::{Batch, Kv, MemKv, SledKv};
use crate::list::{self, ListParams, Listed, Page};
use crate::record::{
    self, BucketRecord, CompletedUpload, ObjectHead, ObjectMeta, ObjectRecord, ObjectView, PartRecord,
    StoredChecksum, UploadRecord,
};

/// The smallest size of a part that is not the last one.
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;

const KEY_LOCKS: usize = 64;

/// The object store.
#[derive(Debug)]
pub struct Store {
    kv: Arc<dyn Kv>,
    blobs: Arc<dyn Blobs>,
    /// Bucket creation and deletion take it for writing; object writes for reading, so that no object
    /// lands in a bucket being deleted.
    bucket_lock: RwLock<()>,
    /// Every bucket's record, decoded: read on almost every request, written (under `bucket_lock`)
    /// after the key-value store commits.
    buckets: RwLock<NameMap<String, Arc<BucketRecord>>>,
    /// Serialises read-modify-write of one key, so that the blob an overwrite replaces is known.
    key_locks: Vec<Mutex<()>>,
    /// Whether operations touch the disk (and may block on fsync).
    durable: bool,
}

fn policy_key(bucket: &str) -> Vec<u8> {
    format!("y/{bucket}").into_bytes()
}

fn cors_key(bucket: &str) -> Vec<u8> {
    format!("c/{bucket}").into_bytes()
}

fn bucket_key(bucket: &str) -> Vec<u8> {
    format!("b/{bucket}").into_bytes()
}

fn object_base(bucket: &str) -> Vec<u8> {
    object_key(bucket, "")
}

fn object_key(bucket: &str, key: &str) -> Vec<u8> {
    [b"o/", bucket.as_bytes(), b"/", key.as_bytes()].concat()
}

fn upload_base(bucket: &str) -> Vec<u8> {
    format!("u/{bucket}/").into_bytes()
}

fn upload_key(bucket: &str, key: &str, upload_id: &str) -> Vec<u8> {
    [
        upload_base(bucket).as_slice(),
        key.as_bytes(),
        b"\0",
        upload_id.as_bytes(),
    ]
    .concat()
}

fn completed_key(bucket: &str, upload_id: &str) -> Vec<u8> {
    format!("d/{bucket}/{upload_id}").into_bytes()
}

fn part_base(upload_id: &str) -> Vec<u8> {
    format!("p/{upload_id}/").into_bytes()
}

fn part_key(upload_id: &str, number: u32) -> Vec<u8> {
    format!("p/{upload_id}/{number:05}").into_bytes()
}

/// The exclusive end of the keys starting with `prefix`.
fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    [prefix, &[0xFF]].concat()
}

fn now_ms() -> u64 {
    record::to_millis(SystemTime::now())
}

/// A blob written and committed, with what was learnt while writing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenBlob {
    /// Blob id.
    pub id: String,
    /// Size in bytes.
    pub size: u64,
    /// Binary MD5.
    pub md5: [u8; 16],
    /// The flexible checksum computed while writing, if one was.
    pub checksum: Option<(ChecksumAlgorithm, Vec<u8>)>,
}

fn b64(bytes: &[u8]) -> String {
    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes)
}

/// A new object's bytes and attributes.
#[derive(Debug, Clone)]
pub struct NewObject {
    /// The committed blob.
    pub blob: WrittenBlob,
    /// The quoted ETag.
    pub etag: String,
    /// Headers and metadata.
    pub meta: ObjectMeta,
    /// Part sizes for a multipart object, else empty.
    pub part_sizes: Vec<u64>,
    /// The canned ACL.
    pub acl: String,
    /// The checksum.
    pub checksum: Option<StoredChecksum>,
}

/// Conditions on the object a write replaces (S3's conditional writes): `If-Match` and
/// `If-None-Match: *`.
#[derive(Debug, Clone, Default)]
pub struct WriteCondition {
    /// `If-Match`: the current object must exist with this ETag.
    pub if_match: Option<String>,
    /// `If-None-Match: *`: no object may exist under the key.
    pub if_none_match: bool,
}

impl WriteCondition {
    fn is_set(&self) -> bool {
        self.if_match.is_some() || self.if_none_match
    }

    fn check(&self, key: &str, existing: Option<&ObjectHead>) -> Result<()> {
        let failed = |condition: &str| {
            StoreError::Rejected(
                S3Error::new(S3ErrorCode::PreconditionFailed).with_element("Condition", condition),
            )
        };
        if let Some(expected) = &self.if_match {
            match existing {
                None => return Err(StoreError::NoSuchKey(key.to_owned())),
                Some(o)
                    if o.etag.trim_matches('"') != expected.trim().trim_matches('"')
                        && expected.trim() != "*" =>
                {
                    return Err(failed("If-Match"));
                }
                Some(_) => {}
            }
        }
        if self.if_none_match && existing.is_some() {
            return Err(failed("If-None-Match"));
        }
        Ok(())
    }
}

/// A listed multipart upload.
pub type UploadPage = Page<UploadRecord>;

impl Store {
    fn new(kv: Arc<dyn Kv>, blobs: Arc<dyn Blobs>) -> Self {
        Store {
            kv,
            blobs,
            bucket_lock: RwLock::new(()),
            buckets: RwLock::new(NameMap::default()),
            key_locks: (0..KEY_LOCKS).map(|_| Mutex::new(())).collect(),
            durable: false,
        }
    }

    /// Whether operations touch the disk and may block (the durable store), so that callers on async
    /// threads should run them on a blocking thread; the memory store's operations never block.
    pub fn is_durable(&self) -> bool {
        self.durable
    }

    /// A store that keeps everything in memory.
    pub fn memory() -> Self {
        Self::new(Arc::new(MemKv::default()), Arc::new(MemBlobs::default()))
    }

    /// Opens the durable store in `dir` (`meta/` for sled, `objects/` and `tmp/` for bytes), and
    /// removes temporary files and unreferenced blobs left by an earlier crash.
    pub fn open_dir(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        let kv = SledKv::open(&dir.join("meta"))?;
        let blobs = FileBlobs::open(dir)?;
        let mut store = Self::new(Arc::new(kv), Arc::new(blobs));
        store.durable = true;
        *store.buckets.get_mut() = store
            .list_buckets()?
            .into_iter()
            .map(|b| (b.name.clone(), Arc::new(b)))
            .collect();
        let removed = store.sweep()?;
        if removed > 0 {
            tracing::info!(removed, "removed leftover temporary and unreferenced files");
        }
        Ok(store)
    }

    /// Removes blobs no record points to.
    fn sweep(&self) -> Result<usize> {
        let mut referenced = std::collections::HashSet::new();
        for (base, is_part) in [(b"o/".to_vec(), false), (b"p/".to_vec(), true)] {
            let end = prefix_end(&base);
            let mut cursor = base;
            loop {
                let batch = self.kv.scan(&cursor, &end, 1000)?;
                let Some((last, _)) = batch.last() else { break };
                let mut next = last.clone();
                next.push(0);
                for (_, v) in &batch {
                    let blob = if is_part {
                        record::decode::<PartRecord>(v)?.blob
                    } else {
                        record::decode::<ObjectRecord>(v)?.blob
                    };
                    referenced.insert(blob);
                }
                cursor = next;
            }
        }
        self.blobs.sweep(&|id| referenced.contains(id))
    }

    fn get<T: serde::de::DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>> {
        let mut decoded = None;
        self.kv.read(key, &mut |v| decoded = Some(record::decode(v)))?;
        decoded.transpose()
    }

    fn commit(&self, batch: Batch) -> Result<()> {
        self.kv.apply(batch)?;
        self.kv.flush()
    }

    fn key_lock(&self, bucket: &str, key: &str) -> &Mutex<()> {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (bucket, key).hash(&mut h);
        &self.key_locks[(h.finish() as usize) % KEY_LOCKS]
    }

    fn remove_blob(&self, id: &str) {
        if let Err(e) = self.blobs.remove(id) {
            tracing::warn!(blob = id, error = %e, "could not remove a replaced blob; it is swept at next start");
        }
    }

    // ---- buckets ----

    /// All buckets, by name.
    pub fn list_buckets(&self) -> Result<Vec<BucketRecord>> {
        self.kv
            .scan(b"b/", &prefix_end(b"b/"), usize::MAX)?
            .iter()
            .map(|(_, v)| record::decode(v))
            .collect()
    }

    /// A bucket, or `NoSuchBucket`.
    pub fn bucket(&self, name: &str) -> Result<Arc<BucketRecord>> {
        self.buckets
            .read()
            .get(name)
            .cloned()
            .ok_or_else(|| StoreError::NoSuchBucket(name.to_owned()))
    }

    /// Creates a bucket.
    pub fn create_bucket(&self, name: &str, owner: &str, region: &str, acl: &str) -> Result<BucketRecord> {
        let _guard = self.bucket_lock.write();
        if let Ok(existing) = self.bucket(name) {
            return Err(if existing.owner == owner {
                StoreError::BucketAlreadyOwnedByYou(name.to_owned())
            } else {
                StoreError::BucketAlreadyExists(name.to_owned())
            });
        }
        let rec = BucketRecord {
            name: name.to_owned(),
            created_ms: now_ms(),
            owner: owner.to_owned(),
            region: region.to_owned(),
            acl: acl.to_owned(),
        };
        let mut batch = Batch::default();
        batch.put(bucket_key(name), record::encode(&rec));
        self.commit(batch)?;
        self.buckets
            .write()
            .insert(name.to_owned(), Arc::new(rec.clone()));
        Ok(rec)
    }

    /// Deletes an empty bucket, aborting its unfinished multipart uploads.
    pub fn delete_bucket(&self, name: &str) -> Result<()> {
        let _guard = self.bucket_lock.write();
        self.bucket(name)?;
        let base = object_base(name);
        if !self.kv.scan(&base, &prefix_end(&base), 1)?.is_empty() {
            return Err(StoreError::BucketNotEmpty(name.to_owned()));
        }
        let mut batch = Batch::default();
        let mut blobs = Vec::new();
        let ubase = upload_base(name);
        for (k, v) in self.kv.scan(&ubase, &prefix_end(&ubase), usize::MAX)? {
            let upload: UploadRecord = record::decode(&v)?;
            for part in self.parts(&upload.upload_id)? {
                batch.delete(part_key(&upload.upload_id, part.number));
                blobs.push(part.blob);
            }
            batch.delete(k);
        }
        let dbase = format!("d/{name}/").into_bytes();
        for (k, _) in self.kv.scan(&dbase, &prefix_end(&dbase), usize::MAX)? {
            batch.delete(k);
        }
        batch.delete(bucket_key(name));
        batch.delete(cors_key(name));
        batch.delete(policy_key(name));
        self.commit(batch)?;
        self.buckets.write().remove(name);
        for b in blobs {
            self.remove_blob(&b);
        }
        Ok(())
    }

    // ---- access ----

    /// Sets a bucket's canned ACL.
    pub fn set_bucket_acl(&self, bucket: &str, acl: &str) -> Result<()> {
        let _guard = self.bucket_lock.write();
        let mut rec = BucketRecord::clone(&*self.bucket(bucket)?);
        rec.acl = acl.to_owned();
        let mut batch = Batch::default();
        batch.put(bucket_key(bucket), record::encode(&rec));
        self.commit(batch)?;
        self.buckets.write().insert(bucket.to_owned(), Arc::new(rec));
        Ok(())
    }

    /// Sets an object's canned ACL.
    pub fn set_object_acl(&self, bucket: &str, key: &str, acl: &str) -> Result<()> {
        let _buckets = self.bucket_lock.read();
        let _key = self.key_lock(bucket, key).lock();
        let mut rec = self.object(bucket, key)?;
        rec.acl = acl.to_owned();
        let mut batch = Batch::default();
        batch.put(object_key(bucket, key), record::encode(&rec));
        self.commit(batch)
    }

    /// Stores a bucket policy (its JSON text, validated by the caller).
    pub fn put_policy(&self, bucket: &str, text: &str) -> Result<()> {
        let _guard = self.bucket_lock.read();
        self.bucket(bucket)?;
        let mut batch = Batch::default();
        batch.put(policy_key(bucket), record::encode(&text.to_owned()));
        self.commit(batch)
    }

    /// A bucket's policy text, if any.
    pub fn policy(&self, bucket: &str) -> Result<Option<String>> {
        self.get(&policy_key(bucket))
    }

    /// Every stored policy, by bucket (to warm a cache at start).
    pub fn all_policies(&self) -> Result<Vec<(String, String)>> {
        self.kv
            .scan(b"y/", &prefix_end(b"y/"), usize::MAX)?
            .iter()
            .map(|(k, v)| Ok((String::from_utf8_lossy(&k[2..]).into_owned(), record::decode(v)?)))
            .collect()
    }

    /// Removes a bucket policy; removing none succeeds.
    pub fn delete_policy(&self, bucket: &str) -> Result<()> {
        let _guard = self.bucket_lock.read();
        self.bucket(bucket)?;
        let mut batch = Batch::default();
        batch.delete(policy_key(bucket));
        self.commit(batch)
    }

    // ---- CORS ----

    /// Stores a bucket's CORS configuration, replacing any earlier one, durably.
    pub fn put_cors(&self, bucket: &str, config: &CorsConfiguration) -> Result<()> {
        let _guard = self.bucket_lock.read();
        self.bucket(bucket)?;
        let mut batch = Batch::default();
        batch.put(cors_key(bucket), record::encode(config));
        self.commit(batch)
    }

    /// A bucket's CORS configuration, if any (`NoSuchBucket` when the bucket does not exist).
    pub fn cors(&self, bucket: &str) -> Result<Option<CorsConfiguration>> {
        self.bucket(bucket)?;
        self.get(&cors_key(bucket))
    }

    /// Removes a bucket's CORS configuration; removing none succeeds.
    pub fn delete_cors(&self, bucket: &str) -> Result<()> {
        let _guard = self.bucket_lock.read();
        self.bucket(bucket)?;
        let mut batch = Batch::default();
        batch.delete(cors_key(bucket));
        self.commit(batch)
    }

    /// Every stored CORS configuration, by bucket (to warm a cache at start).
    pub fn all_cors(&self) -> Result<Vec<(String, CorsConfiguration)>> {
        self.kv
            .scan(b"c/", &prefix_end(b"c/"), usize::MAX)?
            .iter()
            .map(|(k, v)| Ok((String::from_utf8_lossy(&k[2..]).into_owned(), record::decode(v)?)))
            .collect()
    }

    // ---- blobs ----

    /// Starts writing a new blob.
    pub fn create_blob(&self) -> Result<Box<dyn BlobWriter>> {
        self.blobs.create()
    }

    /// Opens an object's bytes.
    pub fn open_blob(&self, id: &str) -> Result<BlobReader> {
        self.blobs.open(id)
    }

    /// Discards a committed blob that no record took (e.g. a body whose digest did not match).
    pub fn discard_blob(&self, id: &str) {
        self.remove_blob(id);
    }

    /// Copies `range` (inclusive, or the whole blob) of a blob into a new committed blob, computing the
    /// `checksum` algorithm's digest on the way.
    pub fn copy_blob(
        &self,
        src: &str,
        range: Option<(u64, u64)>,
        checksum: Option<ChecksumAlgorithm>,
    ) -> Result<WrittenBlob> {
        let mut out = self.blobs.create()?;
        let mut md5 = Md5::new();
        let mut size = 0u64;
        let mut checksum = checksum.map(|a| (a, a.hasher()));
        let mut write = |chunk: &[u8]| -> Result<()> {
            md5.update(chunk);
            if let Some((_, h)) = &mut checksum {
                h.update(chunk);
            }
            size += chunk.len() as u64;
            Ok(out.write(chunk)?)
        };
        match self.blobs.open(src)? {
            BlobReader::Memory(bytes) => {
                let (start, end) = range.unwrap_or((0, (bytes.len() as u64).saturating_sub(1)));
                if !bytes.is_empty() {
                    let slice = bytes
                        .get(start as usize..=end as usize)
                        .ok_or_else(|| StoreError::Corrupt("copy range outside the blob".to_owned()))?;
                    write(slice)?;
                }
            }
            BlobReader::File(mut f) => {
                let (start, len) = match range {
                    Some((s, e)) => (s, e - s + 1),
                    None => (0, u64::MAX),
                };
                f.seek(SeekFrom::Start(start))?;
                let mut reader = f.take(len);
                let mut buf = vec![0u8; 1024 * 1024];
                loop {
                    let n = reader.read(&mut buf)?;
                    if n == 0 {
                        break;
                    }
                    write(&buf[..n])?;
                }
            }
        }
        let id = out.commit()?;
        Ok(WrittenBlob {
            id,
            size,
            md5: md5.finalize().into(),
            checksum: checksum.map(|(a, h)| (a, h.finish())),
        })
    }

    // ---- objects ----

    /// An object's record, or `NoSuchBucket` / `NoSuchKey`.
    pub fn object(&self, bucket: &str, key: &str) -> Result<ObjectRecord> {
        match self.get(&object_key(bucket, key))? {
            Some(rec) => Ok(rec),
            None => self.absent_object(bucket, key),
        }
    }

    /// The error for an object that is not there: its bucket's, if the bucket is missing too.
    fn absent_object<T>(&self, bucket: &str, key: &str) -> Result<T> {
        self.bucket(bucket)?;
        Err(StoreError::NoSuchKey(key.to_owned()))
    }

    /// Calls `read` with the object `bucket/key` read in place, its text borrowed from the stored
    /// record (no copy of it, no allocation for its strings); errors as [`Store::object`]. `read` runs
    /// while the record is borrowed (in the memory store, under its map's read lock), so it must not
    /// read or write metadata itself; opening the blob is fine.
    pub fn read_object<R>(
        &self,
        bucket: &str,
        key: &str,
        read: impl FnOnce(&ObjectView<'_>) -> R,
    ) -> Result<R> {
        let mut read = Some(read);
        let mut out = None;
        self.kv.read(&object_key(bucket, key), &mut |bytes| {
            if let Some(read) = read.take() {
                out = Some(record::decode::<ObjectView<'_>>(bytes).map(|view| read(&view)));
            }
        })?;
        match out {
            Some(result) => result,
            None => self.absent_object(bucket, key),
        }
    }

    /// Makes a committed blob the object `bucket/key`, durably, replacing any earlier object, when
    /// `cond` holds for the object it replaces (otherwise the blob is discarded).
    pub fn put_object(
        &self,
        bucket: &str,
        key: &str,
        new: NewObject,
        cond: &WriteCondition,
    ) -> Result<ObjectRecord> {
        let rec = ObjectRecord {
            blob: new.blob.id.clone(),
            size: new.blob.size,
            etag: new.etag,
            modified_ms: now_ms(),
            meta: new.meta,
            part_sizes: new.part_sizes,
            acl: new.acl,
            checksum: new.checksum,
        };
        let _buckets = self.bucket_lock.read();
        let object = object_key(bucket, key);
        let old = {
            let _key = self.key_lock(bucket, key).lock();
            let checked = self.bucket(bucket).and_then(|_| {
                let old: Option<ObjectHead> = self.get(&object)?;
                cond.check(key, old.as_ref())?;
                Ok(old)
            });
            let old = match checked {
                Ok(old) => old,
                Err(e) => {
                    drop(_key);
                    self.remove_blob(&rec.blob);
                    return Err(e);
                }
            };
            let mut batch = Batch::default();
            batch.put(object, record::encode(&rec));
            self.commit(batch)?;
            old
        };
        if let Some(old) = old {
            self.remove_blob(&old.blob);
        }
        Ok(rec)
    }

    /// Deletes an object; deleting a missing key succeeds, as in S3.
    pub fn delete_object(&self, bucket: &str, key: &str) -> Result<()> {
        let _buckets = self.bucket_lock.read();
        self.bucket(bucket)?;
        let old = {
            let _key = self.key_lock(bucket, key).lock();
            let old: Option<ObjectHead> = self.get(&object_key(bucket, key))?;
            if old.is_some() {
                let mut batch = Batch::default();
                batch.delete(object_key(bucket, key));
                self.commit(batch)?;
            }
            old
        };
        if let Some(old) = old {
            self.remove_blob(&old.blob);
        }
        Ok(())
    }

    /// Lists objects.
    pub fn list_objects(&self, bucket: &str, params: &ListParams) -> Result<Page<ObjectRecord>> {
        self.bucket(bucket)?;
        list::list(
            self.kv.as_ref(),
            &object_base(bucket),
            params,
            |k| String::from_utf8(k.to_vec()).ok(),
            |v| record::decode(v),
        )
    }

    // ---- multipart ----

    /// Starts a multipart upload.
    pub fn create_upload(
        &self,
        bucket: &str,
        key: &str,
        meta: ObjectMeta,
        acl: &str,
        owner: &str,
        checksum: Option<(ChecksumAlgorithm, bool)>,
    ) -> Result<UploadRecord> {
        let _buckets = self.bucket_lock.read();
        self.bucket(bucket)?;
        let initiated_ms = now_ms();
        let upload_id = format!(
            "{initiated_ms:012x}{}",
            s3cors_proto::hex(&rand::random::<[u8; 20]>())
        );
        let rec = UploadRecord {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            upload_id,
            initiated_ms,
            meta,
            acl: acl.to_owned(),
            owner: owner.to_owned(),
            checksum_algorithm: checksum.map(|(a, _)| a.name().to_owned()),
            checksum_full_object: checksum.is_some_and(|(_, full)| full),
        };
        let mut batch = Batch::default();
        batch.put(upload_key(bucket, key, &rec.upload_id), record::encode(&rec));
        self.commit(batch)?;
        Ok(rec)
    }

    /// An upload in progress, or `NoSuchBucket` / `NoSuchUpload`.
    pub fn upload(&self, bucket: &str, key: &str, upload_id: &str) -> Result<UploadRecord> {
        match self.get(&upload_key(bucket, key, upload_id))? {
            Some(rec) => Ok(rec),
            None => {
                self.bucket(bucket)?;
                Err(StoreError::NoSuchUpload(upload_id.to_owned()))
            }
        }
    }

    /// Records a part, replacing an earlier part with the same number.
    pub fn put_part(&self, upload: &UploadRecord, number: u32, blob: &WrittenBlob) -> Result<PartRecord> {
        let rec = PartRecord {
            number,
            blob: blob.id.clone(),
            size: blob.size,
            md5: blob.md5,
            modified_ms: now_ms(),
            checksum: blob.checksum.as_ref().map(|(_, d)| b64(d)),
        };
        let old = {
            let _key = self.key_lock(&upload.bucket, &upload.key).lock();
            if self
                .get::<UploadRecord>(&upload_key(&upload.bucket, &upload.key, &upload.upload_id))?
                .is_none()
            {
                drop(_key);
                self.remove_blob(&blob.id);
                return Err(StoreError::NoSuchUpload(upload.upload_id.clone()));
            }
            let old: Option<PartRecord> = self.get(&part_key(&upload.upload_id, number))?;
            let mut batch = Batch::default();
            batch.put(part_key(&upload.upload_id, number), record::encode(&rec));
            self.commit(batch)?;
            old
        };
        if let Some(old) = old {
            self.remove_blob(&old.blob);
        }
        Ok(rec)
    }

    /// All parts of an upload, by number.
    pub fn parts(&self, upload_id: &str) -> Result<Vec<PartRecord>> {
        let base = part_base(upload_id);
        self.kv
            .scan(&base, &prefix_end(&base), usize::MAX)?
            .iter()
            .map(|(_, v)| record::decode(v))
            .collect()
    }

    /// Completes an upload from the listed `(part number, etag)` pairs: checks order, existence, ETags
    /// and sizes as S3 does, concatenates the parts into the object and forgets the upload.
    pub fn complete_upload(
        &self,
        upload: &UploadRecord,
        listed: &[(u32, String)],
        cond: &WriteCondition,
    ) -> Result<ObjectRecord> {
        let stored = self.parts(&upload.upload_id)?;
        if cond.is_set() {
            cond.check(
                &upload.key,
                self.get::<ObjectHead>(&object_key(&upload.bucket, &upload.key))?
                    .as_ref(),
            )?;
        }
        let mut chosen = Vec::with_capacity(listed.len());
        let mut previous = 0u32;
        for (number, etag) in listed {
            if *number <= previous {
                return Err(StoreError::Rejected(S3Error::new(S3ErrorCode::InvalidPartOrder)));
            }
            previous = *number;
            let part = stored
                .iter()
                .find(|p| p.number == *number && p.etag().trim_matches('"') == etag.trim().trim_matches('"'))
                .ok_or_else(|| {
                    StoreError::Rejected(
                        S3Error::new(S3ErrorCode::InvalidPart)
                            .with_element("UploadId", upload.upload_id.clone())
                            .with_element("PartNumber", number.to_string())
                            .with_element("ETag", etag.clone()),
                    )
                })?;
            chosen.push(part);
        }
        if let Some((_, all_but_last)) = chosen.split_last()
            && let Some(small) = all_but_last.iter().find(|p| p.size < MIN_PART_SIZE)
        {
            return Err(StoreError::Rejected(
                S3Error::new(S3ErrorCode::EntityTooSmall)
                    .with_element("ProposedSize", small.size.to_string())
                    .with_element("MinSizeAllowed", MIN_PART_SIZE.to_string())
                    .with_element("PartNumber", small.number.to_string())
                    .with_element("ETag", small.etag()),
            ));
        }
        // The object's checksum: composed of the parts' checksums, or over the whole object (computed
        // while concatenating; CRC64NVME when the upload named no algorithm, as S3 does by default).
        let algorithm = upload
            .checksum_algorithm
            .as_deref()
            .and_then(ChecksumAlgorithm::from_name);
        let full_object =
            algorithm.is_none_or(|a| upload.checksum_full_object || a == ChecksumAlgorithm::Crc64Nvme);
        let mut whole = full_object.then(|| algorithm.unwrap_or(ChecksumAlgorithm::Crc64Nvme).hasher());
        // Concatenate the chosen parts into one blob.
        let mut out = self.blobs.create()?;
        let mut size = 0u64;
        let mut write = |data: &[u8]| -> Result<()> {
            if let Some(h) = &mut whole {
                h.update(data);
            }
            Ok(out.write(data)?)
        };
        for part in &chosen {
            match self.blobs.open(&part.blob)? {
                BlobReader::Memory(b) => write(&b)?,
                BlobReader::File(mut f) => {
                    let mut buf = vec![0u8; 1024 * 1024];
                    loop {
                        let n = f.read(&mut buf)?;
                        if n == 0 {
                            break;
                        }
                        write(&buf[..n])?;
                    }
                }
            }
            size += part.size;
        }
        let checksum = match (whole, algorithm) {
            (Some(h), a) => Some(StoredChecksum {
                algorithm: a.unwrap_or(ChecksumAlgorithm::Crc64Nvme).name().to_owned(),
                value: b64(&h.finish()),
                full_object: true,
            }),
            (None, Some(a)) => {
                let mut h = a.hasher();
                for p in &chosen {
                    let digest = p
                        .checksum
                        .as_deref()
                        .map(|c| a.decode(c))
                        .transpose()
                        .map_err(StoreError::Rejected)?;
                    h.update(&digest.unwrap_or_default());
                }
                Some(StoredChecksum {
                    algorithm: a.name().to_owned(),
                    value: format!("{}-{}", b64(&h.finish()), chosen.len()),
                    full_object: false,
                })
            }
            (None, None) => None,
        };
        let id = out.commit()?;
        let etag = s3cors_proto::multipart_etag(chosen.iter().map(|p| &p.md5));
        let rec = ObjectRecord {
            blob: id.clone(),
            size,
            etag,
            modified_ms: now_ms(),
            meta: upload.meta.clone(),
            part_sizes: chosen.iter().map(|p| p.size).collect(),
            acl: upload.acl.clone(),
            checksum,
        };
        let _buckets = self.bucket_lock.read();
        let old = {
            let _key = self.key_lock(&upload.bucket, &upload.key).lock();
            let ukey = upload_key(&upload.bucket, &upload.key, &upload.upload_id);
            if self.get::<UploadRecord>(&ukey)?.is_none() {
                drop(_key);
                self.remove_blob(&id);
                return Err(StoreError::NoSuchUpload(upload.upload_id.clone()));
            }
            let old: Option<ObjectHead> = self.get(&object_key(&upload.bucket, &upload.key))?;
            if let Err(e) = cond.check(&upload.key, old.as_ref()) {
                drop(_key);
                self.remove_blob(&id);
                return Err(e);
            }
            let mut batch = Batch::default();
            batch.put(object_key(&upload.bucket, &upload.key), record::encode(&rec));
            let done = CompletedUpload {
                key: upload.key.clone(),
                etag: rec.etag.clone(),
                size: rec.size,
            };
            batch.put(
                completed_key(&upload.bucket, &upload.upload_id),
                record::encode(&done),
            );
            batch.delete(ukey);
            for p in &stored {
                batch.delete(part_key(&upload.upload_id, p.number));
            }
            self.commit(batch)?;
            old
        };
        for p in &stored {
            self.remove_blob(&p.blob);
        }
        if let Some(old) = old {
            self.remove_blob(&old.blob);
        }
        Ok(rec)
    }

    /// A completed upload, so that a repeated CompleteMultipartUpload can answer as the first did.
    pub fn completed_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<Option<CompletedUpload>> {
        Ok(self
            .get::<CompletedUpload>(&completed_key(bucket, upload_id))?
            .filter(|c| c.key == key))
    }

    /// Aborts an upload and removes its parts.
    pub fn abort_upload(&self, upload: &UploadRecord) -> Result<()> {
        let parts = {
            let _key = self.key_lock(&upload.bucket, &upload.key).lock();
            let parts = self.parts(&upload.upload_id)?;
            let mut batch = Batch::default();
            batch.delete(upload_key(&upload.bucket, &upload.key, &upload.upload_id));
            for p in &parts {
                batch.delete(part_key(&upload.upload_id, p.number));
            }
            self.commit(batch)?;
            parts
        };
        for p in parts {
            self.remove_blob(&p.blob);
        }
        Ok(())
    }

    /// Lists uploads in progress, ordered by key then initiation. `params.after` is the key marker;
    /// `upload_id_marker` further skips uploads of that key up to and including that id.
    pub fn list_uploads(
        &self,
        bucket: &str,
        params: &ListParams,
        upload_id_marker: Option<&str>,
    ) -> Result<UploadPage> {
        self.bucket(bucket)?;
        // Uploads are keyed `KEY \0 ID`; the lister sees `KEY \0 ID` names, which sort like (key, id).
        let mut p = params.clone();
        p.after = match (params.after.as_deref(), upload_id_marker) {
            (Some(k), Some(id)) => Some(format!("{k}\0{id}")),
            (Some(k), None) => Some(format!("{k}\0\u{10FFFF}")),
            (None, _) => None,
        };
        let page = list::list(
            self.kv.as_ref(),
            &upload_base(bucket),
            &p,
            |k| String::from_utf8(k.to_vec()).ok(),
            |v| record::decode::<UploadRecord>(v),
        )?;
        let items = page
            .items
            .into_iter()
            .map(|i| match i {
                Listed::Entry(_, rec) => Listed::Entry(rec.key.clone(), rec),
                Listed::Prefix(p) => Listed::Prefix(p),
            })
            .collect();
        Ok(Page {
            items,
            truncated: page.truncated,
        })
    }

    /// Makes everything durable (on shutdown).
    pub fn flush(&self) -> Result<()> {
        self.kv.flush()
    }
}
