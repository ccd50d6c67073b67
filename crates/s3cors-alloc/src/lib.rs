//! The s3cors server's global allocator.
//!
//! A request allocates a few dozen small blocks (header maps and values, the canonical request, the
//! object record's strings, futures) and frees them before the next one. glibc's `malloc` serves
//! blocks over about 1 KiB, and any block its per-thread cache is full for, from its general free
//! lists; mimalloc serves every small block from a per-thread free list. Large blocks (object body
//! chunks of 256 KiB, 1 MiB write batches, the store's buffers) stay with the system allocator,
//! which returns them to the kernel as soon as they are freed; mimalloc would keep them in its
//! segments and raise the resident set of a server that has streamed a large object.
//!
//! The choice depends only on the layout, which Rust passes unchanged to `dealloc`, so every block
//! is freed by the allocator that made it. `docs/performance.md` has the measurements.

#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::ffi::c_void;

use libmimalloc_sys as mi;

/// Blocks of at most this many bytes come from mimalloc. hyper's 8 KiB read buffer is below it;
/// the 256 KiB chunks of a streamed object body are above it.
pub const SMALL_MAX: usize = 32 * 1024;

/// mimalloc for blocks of at most [`SMALL_MAX`] bytes, the system allocator for larger ones.
#[derive(Debug, Clone, Copy, Default)]
pub struct SplitAlloc;

fn small(size: usize) -> bool {
    size <= SMALL_MAX
}

fn aligned(p: *mut c_void, align: usize) -> bool {
    (p as usize) & (align - 1) == 0
}

/// A small block from mimalloc. `mi_malloc` is its fast path; it returns blocks of 16 bytes or more
/// 16-aligned, which covers nearly every Rust layout, and a block that does not meet a larger
/// alignment is exchanged for one from `mi_malloc_aligned` (whose own fast path only serves block
/// sizes up to 1 KiB). The zeroed variant is the same with `mi_zalloc`.
///
/// # Safety
/// `layout` has a non-zero size.
unsafe fn mi_alloc(layout: Layout, zeroed: bool) -> *mut u8 {
    let (size, align) = (layout.size(), layout.align());
    // SAFETY: plain C allocation calls; a block that is freed is one just allocated.
    unsafe {
        let p = if zeroed {
            mi::mi_zalloc(size)
        } else {
            mi::mi_malloc(size)
        };
        if p.is_null() || aligned(p, align) {
            return p.cast();
        }
        mi::mi_free(p);
        let p = if zeroed {
            mi::mi_zalloc_aligned(size, align)
        } else {
            mi::mi_malloc_aligned(size, align)
        };
        p.cast()
    }
}

// SAFETY: small blocks come from mimalloc (`mi_alloc` returns blocks meeting the layout's
// alignment, or null) and large ones from `System`; which one depends only on the layout's size.
// `dealloc` and `realloc` receive the layout the block was allocated with (a `GlobalAlloc`
// contract), so they pick the allocator that made it. A `realloc` that crosses `SMALL_MAX`
// allocates in the other allocator, copies the smaller of the two sizes and frees the old block in
// its own allocator.
unsafe impl GlobalAlloc for SplitAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract (a non-zero size) is passed on unchanged.
        unsafe {
            if small(layout.size()) {
                mi_alloc(layout, false)
            } else {
                System.alloc(layout)
            }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        unsafe {
            if small(layout.size()) {
                mi_alloc(layout, true)
            } else {
                System.alloc_zeroed(layout)
            }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated with `layout` by this allocator, so by the allocator the
        // same size test picks; `mi_free` frees blocks from any of mimalloc's allocation calls.
        unsafe {
            if small(layout.size()) {
                mi::mi_free(ptr.cast());
            } else {
                System.dealloc(ptr, layout);
            }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let (was_small, is_small) = (small(layout.size()), small(new_size));
        if was_small && is_small {
            // SAFETY: `ptr` is a live mimalloc block; `mi_realloc` keeps its contents up to the
            // smaller size. A result that misses the alignment falls through to the copy below,
            // from the block `mi_realloc` returned.
            unsafe {
                let p = mi::mi_realloc(ptr.cast(), new_size);
                if p.is_null() || aligned(p, layout.align()) {
                    return p.cast();
                }
                return self.move_to_new(p.cast(), layout, new_size);
            }
        }
        if !was_small && !is_small {
            // SAFETY: `ptr` is a live `System` block of `layout`; the caller's contract is passed on.
            return unsafe { System.realloc(ptr, layout, new_size) };
        }
        // SAFETY: `ptr` is live with `layout`, as the caller guarantees.
        unsafe { self.move_to_new(ptr, layout, new_size) }
    }
}

impl SplitAlloc {
    /// A new block of `new_size` with `layout`'s alignment, holding the first
    /// `min(layout.size(), new_size)` bytes of `ptr`; `ptr` is then freed by the allocator that
    /// `layout`'s size picks.
    ///
    /// # Safety
    /// `ptr` is a live block this allocator would free with `layout`'s size class, readable for
    /// `min(layout.size(), new_size)` bytes; `new_size` is non-zero and, rounded up to the
    /// alignment, fits `isize`.
    unsafe fn move_to_new(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees what `from_size_align_unchecked` requires.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: `new_layout` has a non-zero size.
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both blocks are live, distinct, and at least `min(old, new)` bytes long.
            unsafe {
                std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                if small(layout.size()) {
                    mi::mi_free(ptr.cast());
                } else {
                    System.dealloc(ptr, layout);
                }
            }
        }
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Blocks on both sides of the threshold, and reallocations across it both ways, keep their
    /// contents and free cleanly (run under the test harness's own allocator, calling ours
    /// directly).
    #[test]
    fn realloc_across_the_threshold_keeps_the_bytes() {
        let a = SplitAlloc;
        for (from, to, align) in [
            (16, SMALL_MAX, 8),
            (24, 1_500, 64),
            (1_500, 40, 32),
            (SMALL_MAX, SMALL_MAX + 1, 8),
            (SMALL_MAX + 1, SMALL_MAX, 128),
            (100, 300_000, 16),
            (300_000, 64, 8),
            (1 << 20, 2 << 20, 8),
        ] {
            let layout = Layout::from_size_align(from, align).expect("a valid layout");
            // SAFETY: non-zero sizes; each block is written within its size, reallocated with the
            // layout it has, and freed once with its final layout.
            unsafe {
                let p = a.alloc(layout);
                assert!(!p.is_null());
                for i in 0..from {
                    *p.add(i) = (i % 251) as u8;
                }
                let q = a.realloc(p, layout, to);
                assert!(!q.is_null());
                assert_eq!(q as usize % align, 0, "alignment after {from} -> {to}");
                for i in 0..from.min(to) {
                    assert_eq!(*q.add(i), (i % 251) as u8, "byte {i} after {from} -> {to}");
                }
                a.dealloc(q, Layout::from_size_align(to, align).expect("a valid layout"));
            }
        }
    }

    /// Zeroed blocks are zero on both sides of the threshold, and large alignments are honoured.
    #[test]
    fn zeroed_and_aligned_blocks() {
        let a = SplitAlloc;
        for (size, align) in [
            (8, 8),
            (24, 8),
            (48, 32),
            (1_280, 256),
            (SMALL_MAX, 64),
            (SMALL_MAX + 1, 4096),
            (1 << 20, 16),
        ] {
            let layout = Layout::from_size_align(size, align).expect("a valid layout");
            // SAFETY: a non-zero size; the block is read within its size and freed once.
            unsafe {
                let p = a.alloc_zeroed(layout);
                assert!(!p.is_null());
                assert_eq!(p as usize % align, 0);
                assert!((0..size).all(|i| *p.add(i) == 0));
                a.dealloc(p, layout);
            }
        }
    }
}
