// SPDX-License-Identifier: GPL-2.0

//! The cache attributes of every guest mapping of a host-visible blob, decided by `map_info`.
//!
//! The host answers `RESOURCE_MAP_BLOB` with `map_info`, which says how the host itself maps
//! the memory. On arm64 two aliases of one physical page with different memory types is a
//! correctness bug (the architecture calls it "mismatched memory attributes": a cached alias
//! can hold stale lines that a non-cached alias never sees, and vice versa). So userspace mmap
//! through our fd, kernel vmap and dma-buf mmap of a host blob all take the mode returned by
//! [`cache_mode`], and nothing else.
//!
//! | `map_info & 0x0f` | [`CacheMode`] | pgprot | arm64 memory type |
//! |---|---|---|---|
//! | CACHED (1) | `Cached` | the vma's default | Normal Write-Back |
//! | WC (3) | `WriteCombine` | `pgprot_writecombine` | Normal Non-cacheable |
//! | UNCACHED (2) | `Uncached` | `pgprot_noncached` | Device-nGnRnE |
//! | NONE (0) | per [`NonePolicy`] (default `Cached`) | | |
//! | 4..=15 | refused: [`MapInfoError::Unknown`] | | |
//!
//! UNCACHED gets Device-nGnRnE because that is what `pgprot_noncached` means on arm64 and what
//! the host's uncached mapping (of device or carve-out memory) requires: no speculation, no
//! gathering, no reordering. Userspace should know that Device memory faults on unaligned
//! accesses, so a generic `memcpy` into such a mapping may get SIGBUS; that is the honest
//! consequence of the host's answer, not something to paper over with a weaker type.
//!
//! # Why NONE maps cached by default
//!
//! QEMU sends NONE when virglrenderer's GL backend cannot query the attribute, which is the
//! case for every plain virgl host blob today (Venus memory reports CACHED). The memory behind
//! those blobs is host userspace memory (GL buffer mappings) that the host CPU accesses
//! cacheable. A non-cacheable guest alias of host-cacheable memory is exactly the
//! mismatched-attribute bug above, and it is also 10-100x slower. The Linux C driver maps NONE
//! cached; the Windows viogpu driver maps it non-cached. [`NonePolicy::Refuse`] is the strict
//! alternative for hosts that want every attribute stated.
//!
//! Unlike the C driver, which acts only on WC and UNCACHED and maps every other value cached,
//! a value this code does not know is refused, never guessed.

/// `VIRTIO_GPU_MAP_CACHE_MASK`: the bits of `map_info` that carry the cache attribute. The
/// other bits are reserved and ignored.
pub const VIRTIO_GPU_MAP_CACHE_MASK: u32 = 0x0f;
/// `VIRTIO_GPU_MAP_CACHE_NONE`: the host did not say.
pub const VIRTIO_GPU_MAP_CACHE_NONE: u32 = 0x00;
/// `VIRTIO_GPU_MAP_CACHE_CACHED`: the host maps the memory cacheable.
pub const VIRTIO_GPU_MAP_CACHE_CACHED: u32 = 0x01;
/// `VIRTIO_GPU_MAP_CACHE_UNCACHED`: the host maps the memory non-cached.
pub const VIRTIO_GPU_MAP_CACHE_UNCACHED: u32 = 0x02;
/// `VIRTIO_GPU_MAP_CACHE_WC`: the host maps the memory write-combined.
pub const VIRTIO_GPU_MAP_CACHE_WC: u32 = 0x03;

/// The cache attribute a guest mapping of a host blob gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheMode {
    /// Normal cacheable memory (the vma's default pgprot).
    Cached,
    /// Write-combining (`pgprot_writecombine`; Normal Non-cacheable on arm64).
    WriteCombine,
    /// Non-cached (`pgprot_noncached`; Device-nGnRnE on arm64).
    Uncached,
}

impl CacheMode {
    /// Short name for logs and debugfs.
    pub const fn name(self) -> &'static str {
        match self {
            CacheMode::Cached => "cached",
            CacheMode::WriteCombine => "wc",
            CacheMode::Uncached => "uncached",
        }
    }
}

/// What `VIRTIO_GPU_MAP_CACHE_NONE` maps to (see the module documentation for the default).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NonePolicy {
    /// Map cached, like the C driver: right for virgl's host-cacheable GL buffers.
    #[default]
    Cached,
    /// Refuse the mapping: for hosts that must state every attribute.
    Refuse,
}

/// Why a host blob cannot be mapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapInfoError {
    /// `map_info` was NONE and the policy is [`NonePolicy::Refuse`].
    NoneRefused,
    /// A cache attribute this driver does not know (the masked value).
    Unknown(u32),
}

impl core::fmt::Display for MapInfoError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            MapInfoError::NoneRefused => write!(f, "map_info NONE refused by policy"),
            MapInfoError::Unknown(v) => write!(f, "unknown map_info cache attribute {v:#x}"),
        }
    }
}

/// The cache mode of every guest mapping of a host blob whose MAP_BLOB answer carried
/// `map_info` (already decoded from little-endian).
///
/// # Errors
///
/// [`MapInfoError::NoneRefused`] for NONE under [`NonePolicy::Refuse`], and
/// [`MapInfoError::Unknown`] for any attribute other than NONE, CACHED, UNCACHED and WC.
pub const fn cache_mode(map_info: u32, none: NonePolicy) -> Result<CacheMode, MapInfoError> {
    match map_info & VIRTIO_GPU_MAP_CACHE_MASK {
        VIRTIO_GPU_MAP_CACHE_CACHED => Ok(CacheMode::Cached),
        VIRTIO_GPU_MAP_CACHE_WC => Ok(CacheMode::WriteCombine),
        VIRTIO_GPU_MAP_CACHE_UNCACHED => Ok(CacheMode::Uncached),
        VIRTIO_GPU_MAP_CACHE_NONE => match none {
            NonePolicy::Cached => Ok(CacheMode::Cached),
            NonePolicy::Refuse => Err(MapInfoError::NoneRefused),
        },
        other => Err(MapInfoError::Unknown(other)),
    }
}

/// The name of `map_info`'s cache attribute as the host stated it, for logs and debugfs.
pub const fn describe(map_info: u32) -> &'static str {
    match map_info & VIRTIO_GPU_MAP_CACHE_MASK {
        VIRTIO_GPU_MAP_CACHE_NONE => "none",
        VIRTIO_GPU_MAP_CACHE_CACHED => "cached",
        VIRTIO_GPU_MAP_CACHE_UNCACHED => "uncached",
        VIRTIO_GPU_MAP_CACHE_WC => "wc",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICIES: [NonePolicy; 2] = [NonePolicy::Cached, NonePolicy::Refuse];

    /// The table in the module documentation, written out independently of the code.
    fn expected(v: u32, none: NonePolicy) -> Result<CacheMode, MapInfoError> {
        match v & 0xf {
            0 if none == NonePolicy::Cached => Ok(CacheMode::Cached),
            0 => Err(MapInfoError::NoneRefused),
            1 => Ok(CacheMode::Cached),
            2 => Ok(CacheMode::Uncached),
            3 => Ok(CacheMode::WriteCombine),
            m => Err(MapInfoError::Unknown(m)),
        }
    }

    #[test]
    fn constants_match_the_uapi_header() {
        assert_eq!(VIRTIO_GPU_MAP_CACHE_MASK, 0x0f);
        assert_eq!(VIRTIO_GPU_MAP_CACHE_NONE, 0x00);
        assert_eq!(VIRTIO_GPU_MAP_CACHE_CACHED, 0x01);
        assert_eq!(VIRTIO_GPU_MAP_CACHE_UNCACHED, 0x02);
        assert_eq!(VIRTIO_GPU_MAP_CACHE_WC, 0x03);
    }

    #[test]
    fn every_byte_value_both_policies() {
        for v in 0..=0xffu32 {
            for p in POLICIES {
                assert_eq!(cache_mode(v, p), expected(v, p), "map_info {v:#x} {p:?}");
            }
        }
    }

    #[test]
    fn the_four_known_values() {
        let c = NonePolicy::Cached;
        assert_eq!(cache_mode(0, c), Ok(CacheMode::Cached));
        assert_eq!(
            cache_mode(0, NonePolicy::Refuse),
            Err(MapInfoError::NoneRefused)
        );
        for p in POLICIES {
            assert_eq!(cache_mode(1, p), Ok(CacheMode::Cached));
            assert_eq!(cache_mode(2, p), Ok(CacheMode::Uncached));
            assert_eq!(cache_mode(3, p), Ok(CacheMode::WriteCombine));
            for v in 4..=0xf {
                assert_eq!(cache_mode(v, p), Err(MapInfoError::Unknown(v)));
            }
        }
        assert_eq!(NonePolicy::default(), NonePolicy::Cached);
    }

    #[test]
    fn upper_bits_are_ignored() {
        let uppers = [
            0x10u32,
            0x80,
            0x100,
            0xff00,
            0x8000_0000,
            0xffff_fff0,
            0x1234_5670,
        ];
        for hi in uppers {
            for lo in 0..=0xfu32 {
                let v = hi | lo;
                for p in POLICIES {
                    assert_eq!(cache_mode(v, p), cache_mode(lo, p), "{v:#x}");
                    assert_eq!(cache_mode(v, p), expected(v, p), "{v:#x}");
                }
                assert_eq!(describe(v), describe(lo), "{v:#x}");
            }
        }
        // The unknown value reported is the masked one.
        assert_eq!(
            cache_mode(u32::MAX, NonePolicy::Cached),
            Err(MapInfoError::Unknown(0xf))
        );
    }

    #[test]
    fn describe_every_byte_value() {
        for v in 0..=0xffu32 {
            let want = match v & 0xf {
                0 => "none",
                1 => "cached",
                2 => "uncached",
                3 => "wc",
                _ => "unknown",
            };
            assert_eq!(describe(v), want, "{v:#x}");
        }
    }

    #[test]
    fn names_and_messages() {
        assert_eq!(CacheMode::Cached.name(), "cached");
        assert_eq!(CacheMode::WriteCombine.name(), "wc");
        assert_eq!(CacheMode::Uncached.name(), "uncached");
        // A known mode's name is the host's name for the attribute that produced it.
        for v in 1..=3u32 {
            assert_eq!(
                cache_mode(v, NonePolicy::Refuse).unwrap().name(),
                describe(v)
            );
        }
        assert_eq!(
            MapInfoError::Unknown(7).to_string(),
            "unknown map_info cache attribute 0x7"
        );
        assert_eq!(
            MapInfoError::NoneRefused.to_string(),
            "map_info NONE refused by policy"
        );
    }
}
