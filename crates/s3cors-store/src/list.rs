//! Listing with prefix, delimiter, marker and page size, as ListObjects(V2) and ListMultipartUploads
//! define them (<https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html>).
//!
//! Keys are compared as UTF-8 bytes, which is S3's order. A common prefix counts as one entry and is
//! skipped in one seek: since UTF-8 never contains the byte `0xFF`, `prefix + 0xFF` sorts after every key
//! that starts with `prefix`.

use crate::error::Result;
use crate::kv::Kv;

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct ListParams {
    /// Only keys starting with this.
    pub prefix: String,
    /// Roll keys up to the first occurrence of this after the prefix.
    pub delimiter: Option<String>,
    /// Only entries strictly after this (marker, start-after or continuation position).
    pub after: Option<String>,
    /// Page size.
    pub max: usize,
}

/// One listed item: a stored entry or a common prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listed<V> {
    /// A stored entry with its key.
    Entry(String, V),
    /// A common prefix.
    Prefix(String),
}

impl<V> Listed<V> {
    /// The key or prefix.
    pub fn name(&self) -> &str {
        match self {
            Listed::Entry(k, _) => k,
            Listed::Prefix(p) => p,
        }
    }
}

/// A page of results.
#[derive(Debug, Clone)]
pub struct Page<V> {
    /// Entries and prefixes in order.
    pub items: Vec<Listed<V>>,
    /// Whether more follow.
    pub truncated: bool,
}

const SCAN_BATCH: usize = 1000;

/// Lists the keyspace below `base` (e.g. `o/bucket/`). `name_of` maps a stored key (after `base`) to the
/// listed name; `decode` turns a value into `V`.
pub fn list<V>(
    kv: &dyn Kv,
    base: &[u8],
    params: &ListParams,
    name_of: impl Fn(&[u8]) -> Option<String>,
    decode: impl Fn(&[u8]) -> Result<V>,
) -> Result<Page<V>> {
    let mut items = Vec::new();
    if params.max == 0 {
        return Ok(Page {
            items,
            truncated: false,
        });
    }
    let with = |tail: &[u8]| [base, tail].concat();
    let end = with(&[params.prefix.as_bytes(), &[0xFF]].concat());
    let after = params.after.as_deref().unwrap_or("");
    let mut cursor = if after.as_bytes() >= params.prefix.as_bytes() {
        with(after.as_bytes())
    } else {
        with(params.prefix.as_bytes())
    };
    let delimiter = params.delimiter.as_deref().filter(|d| !d.is_empty());
    loop {
        let batch = kv.scan(&cursor, &end, SCAN_BATCH)?;
        let exhausted = batch.len() < SCAN_BATCH;
        let mut jumped = false;
        let mut last_key = None;
        for (k, v) in batch {
            let Some(name) = name_of(&k[base.len()..]) else {
                continue;
            };
            last_key = Some(k);
            if name.as_str() <= after {
                continue;
            }
            if let Some(d) = delimiter
                && let Some(pos) = name[params.prefix.len()..].find(d)
            {
                let cp = &name[..params.prefix.len() + pos + d.len()];
                if cp > after {
                    if items.len() == params.max {
                        return Ok(Page {
                            items,
                            truncated: true,
                        });
                    }
                    items.push(Listed::Prefix(cp.to_owned()));
                }
                cursor = with(&[cp.as_bytes(), &[0xFF]].concat());
                jumped = true;
                break;
            }
            if items.len() == params.max {
                return Ok(Page {
                    items,
                    truncated: true,
                });
            }
            let value = decode(&v)?;
            items.push(Listed::Entry(name, value));
        }
        if jumped {
            continue;
        }
        match last_key {
            Some(mut k) if !exhausted => {
                k.push(0);
                cursor = k;
            }
            _ => {
                return Ok(Page {
                    items,
                    truncated: false,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv::{Batch, MemKv};
    use proptest::prelude::*;

    fn kv_with(keys: &[&str]) -> MemKv {
        let kv = MemKv::default();
        let mut b = Batch::default();
        for k in keys {
            b.put([b"o/b/".as_slice(), k.as_bytes()].concat(), k.as_bytes().to_vec());
        }
        kv.apply(b).expect("apply");
        kv
    }

    fn run(
        kv: &MemKv,
        prefix: &str,
        delim: Option<&str>,
        after: Option<&str>,
        max: usize,
    ) -> (Vec<String>, bool) {
        let params = ListParams {
            prefix: prefix.to_owned(),
            delimiter: delim.map(str::to_owned),
            after: after.map(str::to_owned),
            max,
        };
        let page = list(
            kv,
            b"o/b/",
            &params,
            |k| String::from_utf8(k.to_vec()).ok(),
            |v| Ok(v.to_vec()),
        )
        .expect("list");
        let names = page
            .items
            .iter()
            .map(|i| match i {
                Listed::Entry(k, _) => k.clone(),
                Listed::Prefix(p) => format!("{p}*"),
            })
            .collect();
        (names, page.truncated)
    }

    #[test]
    fn delimiter_rolls_up_and_pages() {
        let kv = kv_with(&["a", "b/1", "b/2", "c/x/1", "c/y", "d", "é"]);
        assert_eq!(
            run(&kv, "", Some("/"), None, 100),
            (s(&["a", "b/*", "c/*", "d", "é"]), false)
        );
        assert_eq!(run(&kv, "", Some("/"), None, 2), (s(&["a", "b/*"]), true));
        assert_eq!(run(&kv, "", Some("/"), Some("b/"), 2), (s(&["c/*", "d"]), true));
        assert_eq!(
            run(&kv, "c/", Some("/"), None, 100),
            (s(&["c/x/*", "c/y"]), false)
        );
        assert_eq!(
            run(&kv, "", None, Some("b/1"), 3),
            (s(&["b/2", "c/x/1", "c/y"]), true)
        );
        assert_eq!(run(&kv, "", None, None, 0), (s(&[]), false));
        assert_eq!(run(&kv, "zz", None, None, 10), (s(&[]), false));
        assert_eq!(
            run(&kv, "", Some("x/"), None, 10),
            (s(&["a", "b/1", "b/2", "c/x/*", "c/y", "d", "é"]), false)
        );
    }

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| (*x).to_owned()).collect()
    }

    /// A naive model: sort all keys, keep the prefix, roll up at the delimiter, drop repeats.
    fn model(keys: &[String], prefix: &str, delim: Option<&str>) -> Vec<String> {
        let mut sorted = keys.to_vec();
        sorted.sort();
        let mut out: Vec<String> = Vec::new();
        for k in sorted.iter().filter(|k| k.starts_with(prefix)) {
            let item = match delim.and_then(|d| k[prefix.len()..].find(d).map(|p| (p, d))) {
                Some((p, d)) => format!("{}*", &k[..prefix.len() + p + d.len()]),
                None => k.clone(),
            };
            if out.last() != Some(&item) {
                out.push(item);
            }
        }
        out
    }

    proptest! {
        #[test]
        fn paging_through_everything_matches_the_model(
            keys in proptest::collection::vec("[ab/]{1,5}", 0..40),
            prefix in "[ab/]{0,2}",
            delim in proptest::option::of("[/b]"),
            max in 1usize..5,
        ) {
            let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
            let kv = kv_with(&refs);
            let mut got = Vec::new();
            let mut after: Option<String> = None;
            loop {
                let (names, truncated) = run(&kv, &prefix, delim.as_deref(), after.as_deref(), max);
                prop_assert!(names.len() <= max);
                after = names.last().map(|n| n.trim_end_matches('*').to_owned());
                got.extend(names);
                if !truncated { break; }
            }
            prop_assert_eq!(got, model(&keys, &prefix, delim.as_deref()));
        }
    }
}
