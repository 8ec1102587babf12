// SPDX-License-Identifier: GPL-2.0

//! First-fit placement of host-visible blobs in the device's shared-memory region.
//!
//! This crate allocates nothing: the driver owns the list of used ranges (offsets within the
//! region, sorted by start, non-overlapping), asks [`first_fit`] where a new range goes and
//! inserts it at [`insert_pos`]. Every computation is checked, so a region as large as
//! `u64::MAX` or a corrupt list yields `None` rather than a wrapped offset or a panic.

/// A half-open range `[start, start + len)` of region offsets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Range {
    /// First offset.
    pub start: u64,
    /// Length in bytes.
    pub len: u64,
}

impl Range {
    /// One past the last offset, or `None` if that does not fit in `u64`.
    pub const fn end(&self) -> Option<u64> {
        self.start.checked_add(self.len)
    }
}

/// `v` rounded up to `align`, a power of two; `None` on overflow.
const fn align_up(v: u64, align: u64) -> Option<u64> {
    match v.checked_add(align - 1) {
        Some(x) => Some(x & !(align - 1)),
        None => None,
    }
}

/// The lowest `align`-aligned start such that `[start, start + len)` lies within
/// `[0, region_len)` and overlaps none of `used`.
///
/// `used` must be sorted by start and non-overlapping, each range with an end that fits in
/// `u64`. Returns `None` when nothing fits, when `len` is 0, when `align` is not a power of
/// two, and when `used` breaks its invariants (a corrupt list must not yield a range that
/// another blob already owns).
pub fn first_fit(used: &[Range], region_len: u64, len: u64, align: u64) -> Option<u64> {
    if len == 0 || !align.is_power_of_two() || len > region_len {
        return None;
    }
    // Validate the whole list first: an early fit must not hide a later overlap.
    let mut prev_end = 0u64;
    for r in used {
        if r.start < prev_end {
            return None;
        }
        prev_end = r.end()?;
    }
    let fits = |start: u64, limit: u64| start.checked_add(len).is_some_and(|e| e <= limit);
    // `cursor` is the first offset not covered by the ranges visited so far.
    let mut cursor = 0u64;
    for r in used {
        let start = align_up(cursor, align)?;
        if fits(start, r.start.min(region_len)) {
            return Some(start);
        }
        // Validated above, so `end()` is `Some`; sorted, so the cursor only moves forward.
        cursor = r.end()?;
        if cursor >= region_len {
            return None;
        }
    }
    let start = align_up(cursor, align)?;
    fits(start, region_len).then_some(start)
}

/// Where a range starting at `start` goes in `used` to keep it sorted by start.
pub fn insert_pos(used: &[Range], start: u64) -> usize {
    used.partition_point(|r| r.start < start)
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn r(start: u64, len: u64) -> Range {
        Range { start, len }
    }

    #[test]
    fn end_is_checked() {
        assert_eq!(r(1, 2).end(), Some(3));
        assert_eq!(r(u64::MAX, 0).end(), Some(u64::MAX));
        assert_eq!(r(u64::MAX, 1).end(), None);
        assert_eq!(r(1, u64::MAX).end(), None);
    }

    #[test]
    fn bad_arguments() {
        assert_eq!(first_fit(&[], 4096, 0, 4096), None);
        assert_eq!(first_fit(&[], 4096, 4096, 0), None);
        assert_eq!(first_fit(&[], 4096 * 4, 4096, 3), None);
        assert_eq!(first_fit(&[], 4096 * 4, 4096, 4096 + 1), None);
        assert_eq!(first_fit(&[], 0, 1, 1), None);
        assert_eq!(first_fit(&[], 4096, 4097, 1), None);
    }

    #[test]
    fn empty_region_list() {
        assert_eq!(first_fit(&[], 1 << 20, 4096, 4096), Some(0));
        assert_eq!(first_fit(&[], 1, 1, 1), Some(0));
        // An alignment larger than the region still allows offset 0.
        assert_eq!(first_fit(&[], 4096, 4096, 1 << 63), Some(0));
    }

    #[test]
    fn exact_fit() {
        assert_eq!(first_fit(&[], 8192, 8192, 4096), Some(0));
        let used = [r(0, 4096), r(8192, 4096)];
        assert_eq!(first_fit(&used, 12288, 4096, 4096), Some(4096));
        assert_eq!(first_fit(&used, 12288, 4097, 1), None);
        // Exactly the tail.
        let used = [r(0, 4096)];
        assert_eq!(first_fit(&used, 8192, 4096, 4096), Some(4096));
        assert_eq!(first_fit(&used, 8191, 4096, 4096), None);
        // Full region.
        let used = [r(0, 8192)];
        assert_eq!(first_fit(&used, 8192, 1, 1), None);
    }

    #[test]
    fn gaps_first_fit_not_best_fit() {
        let used = [r(4096, 4096), r(3 * 4096, 4096), r(6 * 4096, 4096)];
        let region = 10 * 4096;
        assert_eq!(first_fit(&used, region, 4096, 4096), Some(0));
        assert_eq!(first_fit(&used, region, 2 * 4096, 4096), Some(4 * 4096));
        assert_eq!(first_fit(&used, region, 3 * 4096, 4096), Some(7 * 4096));
        assert_eq!(first_fit(&used, region, 4 * 4096, 4096), None);
        // Byte granularity inside gaps.
        let used = [r(0, 10), r(20, 10)];
        assert_eq!(first_fit(&used, 100, 10, 1), Some(10));
        assert_eq!(first_fit(&used, 100, 11, 1), Some(30));
    }

    #[test]
    fn alignment_skips_gaps() {
        // The first gap [4096, 8192) is large enough but not 64K-aligned.
        let used = [r(0, 4096), r(8192, 4096)];
        assert_eq!(first_fit(&used, 1 << 20, 4096, 1 << 16), Some(1 << 16));
        // The gap [1, 0x10000) holds 0x8000 bytes at 0x8000 only when aligned to 0x8000.
        let used = [r(0, 1), r(0x10000, 1)];
        assert_eq!(first_fit(&used, 0x20000, 0x8000, 0x8000), Some(0x8000));
        assert_eq!(first_fit(&used, 0x20000, 0x8001, 0x8000), None);
        assert_eq!(first_fit(&used, 0x30000, 0x8001, 0x8000), Some(0x18000));
        // Aligned start past the end of the region.
        assert_eq!(first_fit(&[r(0, 1)], 0x10000, 1, 0x10000), None);
    }

    #[test]
    fn fragmentation() {
        // Every other page used: 50% free but no two contiguous pages.
        let used: Vec<Range> = (0..64).map(|i| r(i * 2 * 4096, 4096)).collect();
        let region = 128 * 4096;
        assert_eq!(first_fit(&used, region, 4096, 4096), Some(4096));
        assert_eq!(first_fit(&used, region, 2 * 4096, 4096), None);
        assert_eq!(
            first_fit(&used, region + 4096, 2 * 4096, 4096),
            Some(region - 4096)
        );
    }

    #[test]
    fn top_of_u64() {
        let max = u64::MAX;
        assert_eq!(first_fit(&[], max, max, 1), Some(0));
        assert_eq!(first_fit(&[], max, max - 1, 2), Some(0));
        let used = [r(0, 1)];
        assert_eq!(first_fit(&used, max, max - 1, 1), Some(1));
        assert_eq!(first_fit(&used, max, max - 1, 2), None);
        assert_eq!(first_fit(&used, max, 1 << 62, 1 << 63), Some(1 << 63));
        // Aligning the cursor would overflow.
        let used = [r(0, max - 1)];
        assert_eq!(first_fit(&used, max, 1, 1 << 63), None);
        assert_eq!(first_fit(&used, max, 1, 1), Some(max - 1));
        // A used range ending exactly at u64::MAX.
        let used = [r(1, max - 1)];
        assert_eq!(first_fit(&used, max, 1, 1), Some(0));
        assert_eq!(first_fit(&used, max, 2, 1), None);
        // Used ranges outside the region do not matter, but their ends must not wrap.
        assert_eq!(first_fit(&[r(1 << 40, 1)], 4096, 4096, 4096), Some(0));
        assert_eq!(first_fit(&[r(max, 1)], 4096, 4096, 4096), None);
    }

    #[test]
    fn corrupt_lists_give_none() {
        // Unsorted, overlapping, and overlapping late (after a fit would be found).
        assert_eq!(
            first_fit(&[r(8192, 4096), r(0, 4096)], 1 << 20, 4096, 4096),
            None
        );
        assert_eq!(
            first_fit(&[r(0, 8192), r(4096, 8192)], 1 << 20, 4096, 4096),
            None
        );
        let late = [r(4096, 4096), r(1 << 16, 4096), r(0, 4096)];
        assert_eq!(first_fit(&late, 1 << 20, 4096, 4096), None);
        // Zero-length and touching ranges are fine.
        let ok = [r(0, 4096), r(4096, 0), r(4096, 4096)];
        assert_eq!(first_fit(&ok, 1 << 20, 4096, 4096), Some(8192));
    }

    #[test]
    fn insert_positions() {
        let used = [r(0, 1), r(10, 1), r(20, 1)];
        assert_eq!(insert_pos(&[], 5), 0);
        assert_eq!(insert_pos(&used, 0), 0);
        assert_eq!(insert_pos(&used, 5), 1);
        assert_eq!(insert_pos(&used, 10), 1);
        assert_eq!(insert_pos(&used, 11), 2);
        assert_eq!(insert_pos(&used, 25), 3);
        assert_eq!(insert_pos(&used, u64::MAX), 3);
    }

    /// Tiny deterministic generator (Knuth's MMIX constants), so the test needs no crates.
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 33
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// The obvious answer: try every aligned start against a map of used units.
    fn naive(map: &[bool], len: u64, align: u64) -> Option<u64> {
        if len == 0 || !align.is_power_of_two() {
            return None;
        }
        let n = map.len() as u64;
        (0..n)
            .step_by(align as usize)
            .find(|&s| s + len <= n && (s..s + len).all(|u| !map[u as usize]))
    }

    /// Builds a map and the equivalent sorted range list, then allocates into it until full,
    /// checking each answer against [`naive`] and that it really is free.
    #[test]
    fn cross_check_against_a_unit_map() {
        let mut rng = Lcg(0x5eed);
        for round in 0..2000 {
            let region = 1 + rng.below(96);
            let mut map = vec![false; region as usize];
            for u in map.iter_mut() {
                *u = rng.below(4) == 0;
            }
            let mut used: Vec<Range> = Vec::new();
            for (i, &b) in map.iter().enumerate() {
                let i = i as u64;
                if !b {
                    continue;
                }
                if let Some(last) = used.last_mut().filter(|l| l.end() == Some(i)) {
                    last.len += 1;
                } else {
                    used.push(r(i, 1));
                }
            }
            for _ in 0..8 {
                let len = rng.below(12);
                let align = [1, 2, 4, 8, 16, 3, 0][rng.below(7) as usize];
                let got = first_fit(&used, region, len, align);
                assert_eq!(
                    got,
                    naive(&map, len, align),
                    "round {round} len {len} align {align}"
                );
                if let Some(s) = got {
                    assert_eq!(s % align, 0);
                    for u in s..s + len {
                        assert!(!map[u as usize]);
                        map[u as usize] = true;
                    }
                    let at = insert_pos(&used, s);
                    used.insert(at, r(s, len));
                    assert!(used.windows(2).all(|w| w[0].end().unwrap() <= w[1].start));
                }
            }
        }
    }

    /// The same model scaled to page units at a high base offset, so page-granular callers and
    /// large offsets are covered too.
    #[test]
    fn cross_check_scaled_pages() {
        const PAGE: u64 = 1 << 16;
        let mut rng = Lcg(42);
        for _ in 0..500 {
            let pages = 1 + rng.below(48);
            let map: Vec<bool> = (0..pages).map(|_| rng.below(3) == 0).collect();
            let used: Vec<Range> = map
                .iter()
                .enumerate()
                .filter(|(_, &b)| b)
                .map(|(i, _)| r(i as u64 * PAGE, PAGE))
                .collect();
            let len = 1 + rng.below(6);
            let align = 1 << rng.below(3);
            let want = naive(&map, len, align).map(|p| p * PAGE);
            assert_eq!(
                first_fit(&used, pages * PAGE, len * PAGE, align * PAGE),
                want
            );
        }
    }
}
