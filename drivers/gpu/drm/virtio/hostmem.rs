// SPDX-License-Identifier: GPL-2.0

//! The host-visible shared-memory region: ranges for host blobs, and the `map_info`
//! override used by tests.
//!
//! A range is handed out when a blob is mapped (RESOURCE_MAP_BLOB) and comes back only
//! after the host answered RESOURCE_UNMAP_BLOB for it, so two blobs never share guest
//! addresses while the host may still back the old one.

use crate::ext::mm::IoWindow;
use crate::proto::range::{self, Range};
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use kernel::{alloc::flags::__GFP_NOWARN, new_mutex, prelude::*, sync::Mutex};

/// One allocated range and the resource it belongs to.
#[derive(Clone, Copy)]
pub(crate) struct Allocation {
    pub(crate) range: Range,
    pub(crate) res_id: u32,
}

/// The allocations, as two parallel vectors so the pure allocator can see the ranges.
struct Used {
    /// Sorted by start, non-overlapping. Up to region size / page size entries: kvmalloc'd.
    ranges: KVVec<Range>,
    owners: KVVec<u32>,
}

/// Allocator over the host-visible region (empty when the device has none).
#[pin_data]
pub(crate) struct HostVisible {
    region: Option<IoWindow>,
    align: u64,
    #[pin]
    used: Mutex<Used>,
    /// Test facility (debugfs): while `override_enable` is set, `map_info` answers are
    /// replaced by `override_value`.
    pub(crate) override_value: AtomicU32,
    pub(crate) override_enable: AtomicBool,
}

impl HostVisible {
    /// `align`: the granularity of ranges (at least the page size).
    pub(crate) fn new(region: Option<IoWindow>, align: u64) -> impl PinInit<Self> {
        pin_init!(Self {
            region,
            align,
            used <- new_mutex!(Used { ranges: KVVec::new(), owners: KVVec::new() }, "virtgpu_host_visible"),
            override_value: AtomicU32::new(0),
            override_enable: AtomicBool::new(false),
        })
    }

    pub(crate) fn region(&self) -> Option<IoWindow> {
        self.region
    }

    /// Reserves `len` bytes for resource `res_id`: `ENODEV` without a region, `ENOSPC`
    /// when no gap is large enough.
    pub(crate) fn alloc(&self, len: u64, res_id: u32) -> Result<Range> {
        let region = self.region.ok_or(ENODEV)?;
        let mut used = self.used.lock();
        let start = range::first_fit(&used.ranges, region.len(), len, self.align).ok_or(ENOSPC)?;
        let pos = range::insert_pos(&used.ranges, start);
        let r = Range { start, len };
        used.ranges.reserve(1, GFP_KERNEL | __GFP_NOWARN)?;
        used.owners.reserve(1, GFP_KERNEL | __GFP_NOWARN)?;
        // Cannot fail: capacity reserved above and `pos <= len`.
        used.ranges
            .insert_within_capacity(pos, r)
            .map_err(|_| EINVAL)?;
        used.owners
            .insert_within_capacity(pos, res_id)
            .map_err(|_| EINVAL)?;
        Ok(r)
    }

    /// Returns a range from [`HostVisible::alloc`].
    pub(crate) fn free(&self, r: Range) {
        let mut used = self.used.lock();
        if let Some(i) = used.ranges.iter().position(|a| a.start == r.start) {
            used.ranges.remove(i).ok();
            used.owners.remove(i).ok();
        }
    }

    /// The `map_info` to use for a RESOURCE_MAP_BLOB answer of `reported`.
    pub(crate) fn effective_map_info(&self, reported: u32) -> u32 {
        if self.override_enable.load(Ordering::Relaxed) {
            self.override_value.load(Ordering::Relaxed)
        } else {
            reported
        }
    }

    /// A copy of the allocations (debugfs).
    pub(crate) fn allocations(&self) -> Result<KVVec<Allocation>> {
        let used = self.used.lock();
        let mut v = KVVec::with_capacity(used.ranges.len(), GFP_KERNEL | __GFP_NOWARN)?;
        for (range, res_id) in used.ranges.iter().zip(used.owners.iter()) {
            v.push(
                Allocation {
                    range: *range,
                    res_id: *res_id,
                },
                GFP_KERNEL,
            )?;
        }
        Ok(v)
    }
}
