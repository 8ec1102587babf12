// SPDX-License-Identifier: GPL-2.0

//! Validation of ioctl arguments before anything is allocated or sent to the host.
//!
//! Each function mirrors the checks of the 7.2 C driver (`virtgpu_ioctl.c`, with the rounding
//! of `virtgpu_object.c` and `virtgpu_vram.c`) in the same order and with the same errnos, so
//! every input upstream rejects is rejected here with upstream's errno. Then come this
//! driver's stricter checks, which only ever reject inputs upstream accepts: no size, count or
//! dimension from userspace reaches an allocator or the host unchecked (a fuzzer made the C
//! driver WARN in `kvmalloc` on an unchecked size and exhaust guest memory through resource
//! sizes). Each check says which kind it is.
//!
//! Checks that need driver state (handle lookup: `ENOENT`; a context that already exists:
//! `EEXIST`; copies from userspace: `EFAULT`) stay in the driver; the functions say where in
//! their order those belong.

use super::features::DeviceCaps;
use super::uapi::{DrmVirtgpu3dTransfer, DrmVirtgpuResourceCreate, DrmVirtgpuResourceCreateBlob};

/// Why an ioctl's arguments are refused. [`Errno::code`] gives the positive errno number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Errno {
    /// `EINVAL` (22): the arguments are malformed or ask for something the device lacks.
    Inval,
    /// `ENOMEM` (12): a size within the UAPI's range but above this driver's cap; the same
    /// errno upstream returns when such an allocation fails.
    NoMem,
    /// `ENOSPC` (28): a host-visible blob larger than the whole host-visible region, which
    /// upstream reports (from `drm_mm`) when it tries to map it.
    NoSpc,
    /// `ENOSYS` (38): the operation does not exist on this device (TRANSFER_FROM_HOST on 2D).
    NoSys,
}

impl Errno {
    /// The positive errno number.
    pub const fn code(self) -> i32 {
        match self {
            Errno::Inval => 22,
            Errno::NoMem => 12,
            Errno::NoSpc => 28,
            Errno::NoSys => 38,
        }
    }

    /// The errno's name, for logs.
    pub const fn name(self) -> &'static str {
        match self {
            Errno::Inval => "EINVAL",
            Errno::NoMem => "ENOMEM",
            Errno::NoSpc => "ENOSPC",
            Errno::NoSys => "ENOSYS",
        }
    }
}

/// Default cap on an object with guest backing (shmem pages): 1 GiB.
///
/// That is a 16384x16384 RGBA8 surface, the largest 2D texture GL drivers advertise, and
/// keeps the per-object arrays upstream builds (page pointers, `ATTACH_BACKING` entries) a
/// few MiB, far from `kvmalloc`'s `INT_MAX` WARN. Lower it to the guest's memory with
/// [`Limits::cap_backing_to_ram`]: one object must not be able to pin all of it. (Many
/// objects together are bounded by the memory cgroup, which shmem pages are charged to.)
pub const MAX_BACKING_SIZE: u64 = 1 << 30;

/// Default cap on a host-only blob (`BLOB_MEM_HOST3D`): 256 GiB.
///
/// Its memory is the host's, so the guest only needs sane arithmetic and room in the DRM
/// fake-offset space (1 TiB with 4 KiB pages), and the host still checks it. 256 GiB is above
/// any single device-memory allocation a host GPU grants today.
pub const MAX_HOST_BLOB_SIZE: u64 = 1 << 38;

/// Cap on an inline command stream (`cmd_size` of RESOURCE_CREATE_BLOB; EXECBUFFER's `size`
/// should use the same): 1 MiB.
///
/// Upstream has none and copies up to 4 GiB with `memdup_user`/`vmemdup_user`. Mesa's virgl
/// winsys flushes at 65 K + 1 K dwords (260 KiB) and a blob's creation command is a few dozen
/// bytes. The command and its header travel in one kmalloc'd buffer, which must stay well
/// below the largest kmalloc (4 MiB with 4 KiB pages, where the page allocator warns).
pub const MAX_CMD_SIZE: u32 = 1 << 20;

/// Facts about the guest the size checks need, and the caps chosen for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The guest's `PAGE_SIZE` (4, 16 or 64 KiB on arm64). Must be a power of two; any other
    /// value makes every size check fail with `EINVAL`.
    pub page_size: u64,
    /// Largest object with guest backing, after rounding to pages.
    pub max_backing: u64,
    /// Largest host-only blob, after rounding to pages.
    pub max_host_blob: u64,
    /// Length of the host-visible shared-memory region (0 if there is none).
    pub host_visible_len: u64,
}

impl Limits {
    /// The default caps for a guest with `page_size` pages and a host-visible region of
    /// `host_visible_len` bytes.
    pub const fn new(page_size: u64, host_visible_len: u64) -> Self {
        Self {
            page_size,
            max_backing: MAX_BACKING_SIZE,
            max_host_blob: MAX_HOST_BLOB_SIZE,
            host_visible_len,
        }
    }

    /// Lowers `max_backing` to half of `ram_bytes` (the guest's total memory), so that no
    /// single object can take all of it.
    pub const fn cap_backing_to_ram(mut self, ram_bytes: u64) -> Self {
        let half = ram_bytes / 2;
        if half < self.max_backing {
            self.max_backing = half;
        }
        self
    }

    /// `size` rounded up to whole pages, or `None` on overflow or a bad page size.
    pub const fn page_align(&self, size: u64) -> Option<u64> {
        align_up(size, self.page_size)
    }
}

/// `v` rounded up to `align`; `None` if `align` is not a power of two or on overflow.
const fn align_up(v: u64, align: u64) -> Option<u64> {
    if !align.is_power_of_two() {
        return None;
    }
    match v.checked_add(align - 1) {
        Some(x) => Some(x & !(align - 1)),
        None => None,
    }
}

// ---------------------------------------------------------------------------------------
// RESOURCE_CREATE

/// `PIPE_TEXTURE_2D`: the only `target` the 2D device accepts.
pub const PIPE_TEXTURE_2D: u32 = 2;

/// Which host command creates the resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResourceKind {
    /// `RESOURCE_CREATE_2D` (no VIRGL): `format`, `width` and `height` only.
    TwoD,
    /// `RESOURCE_CREATE_3D` (VIRGL): every field goes to the host, which validates them.
    ThreeD,
}

/// A validated RESOURCE_CREATE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResourceCreate {
    /// The host command to use.
    pub kind: ResourceKind,
    /// Size of the guest backing: `size` (a page if 0) rounded up to whole pages.
    pub backing_size: u64,
}

/// Validates DRM_IOCTL_VIRTGPU_RESOURCE_CREATE.
///
/// Upstream: with VIRGL nothing is checked (the host validates the 3D parameters). Without it,
/// `depth > 1`, `nr_samples > 1`, `last_level > 1` (so `last_level == 1` passes), `target !=
/// PIPE_TEXTURE_2D` and `array_size > 1` are `EINVAL`, in that order, and the other 3D fields
/// are ignored. `format`, `width` and `height` are left to the host (0 is accepted). `size == 0`
/// means one page; the size is rounded up to whole pages.
///
/// Stricter: a backing above `limits.max_backing` is `ENOMEM` (upstream would try to allocate
/// up to 4 GiB of pages); a bad page size is `EINVAL`.
///
/// # Errors
///
/// `EINVAL` or `ENOMEM` as above.
pub fn resource_create(
    caps: &DeviceCaps,
    limits: &Limits,
    rc: &DrmVirtgpuResourceCreate,
) -> Result<ResourceCreate, Errno> {
    let kind = if caps.virgl_3d {
        ResourceKind::ThreeD
    } else {
        if rc.depth > 1
            || rc.nr_samples > 1
            || rc.last_level > 1
            || rc.target != PIPE_TEXTURE_2D
            || rc.array_size > 1
        {
            return Err(Errno::Inval);
        }
        ResourceKind::TwoD
    };
    let size = if rc.size == 0 {
        limits.page_size
    } else {
        u64::from(rc.size)
    };
    let backing_size = limits.page_align(size).ok_or(Errno::Inval)?;
    if backing_size > limits.max_backing {
        return Err(Errno::NoMem);
    }
    Ok(ResourceCreate { kind, backing_size })
}

// ---------------------------------------------------------------------------------------
// RESOURCE_CREATE_BLOB

// `VIRTGPU_BLOB_*` of virtgpu_drm.h have the values of `VIRTIO_GPU_BLOB_*` of virtio_gpu.h.
pub use super::wire::{
    BLOB_FLAG_USE_CROSS_DEVICE, BLOB_FLAG_USE_MAPPABLE, BLOB_FLAG_USE_SHAREABLE, BLOB_MEM_GUEST,
    BLOB_MEM_HOST3D, BLOB_MEM_HOST3D_GUEST,
};
/// Every flag userspace may pass (`VIRTGPU_BLOB_FLAG_USE_MASK` of virtgpu_ioctl.c).
pub const BLOB_FLAG_USE_MASK: u32 =
    BLOB_FLAG_USE_MAPPABLE | BLOB_FLAG_USE_SHAREABLE | BLOB_FLAG_USE_CROSS_DEVICE;
/// `DRM_VIRTGPU_BLOB_FLAG_HINT_DEFER_MAPPING`: map a host blob at first use, not at creation.
pub const BLOB_HINT_DEFER_MAPPING: u32 = 0x0001;

/// Where a blob's memory lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlobMem {
    /// `BLOB_MEM_GUEST`.
    Guest,
    /// `BLOB_MEM_HOST3D`.
    Host3d,
    /// `BLOB_MEM_HOST3D_GUEST`.
    Host3dGuest,
}

impl BlobMem {
    /// The UAPI and wire value.
    pub const fn value(self) -> u32 {
        match self {
            BlobMem::Guest => BLOB_MEM_GUEST,
            BlobMem::Host3d => BLOB_MEM_HOST3D,
            BlobMem::Host3dGuest => BLOB_MEM_HOST3D_GUEST,
        }
    }

    /// Whether the blob has guest pages (shmem) that are attached as its backing.
    pub const fn guest_backing(self) -> bool {
        matches!(self, BlobMem::Guest | BlobMem::Host3dGuest)
    }

    /// Whether the blob is a host 3D resource (`blob_id` and `cmd` apply, needs VIRGL).
    pub const fn host3d(self) -> bool {
        matches!(self, BlobMem::Host3d | BlobMem::Host3dGuest)
    }
}

/// A validated RESOURCE_CREATE_BLOB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlobCreate {
    /// Where the memory lives.
    pub mem: BlobMem,
    /// `blob_flags`, a subset of [`BLOB_FLAG_USE_MASK`].
    pub flags: u32,
    /// Object size: `size` rounded up to whole pages (and a multiple of the blob alignment).
    pub size: u64,
    /// `blob_id`; always 0 for [`BlobMem::Guest`].
    pub blob_id: u64,
    /// Bytes of inline command to copy from `cmd` and submit to the file's context before
    /// creating the blob (0: none). A multiple of 4, at most [`MAX_CMD_SIZE`].
    pub cmd_size: u32,
    /// The blob is mapped through the host-visible region (`HOST3D` + `MAPPABLE`): it needs a
    /// range of that region and RESOURCE_MAP_BLOB.
    pub host_visible: bool,
    /// Map it right after creation (upstream does unless `DEFER_MAPPING` is hinted).
    pub map_now: bool,
    /// Alignment of its offset in the host-visible region: the page size, or the device's
    /// blob alignment when larger (the spec requires MAP_BLOB offsets aligned to it).
    pub map_align: u64,
}

/// Validates DRM_IOCTL_VIRTGPU_RESOURCE_CREATE_BLOB.
///
/// Upstream (`verify_blob`, whose every failure the ioctl turns into `EINVAL`), in order:
/// RESOURCE_BLOB not negotiated; flags outside [`BLOB_FLAG_USE_MASK`]; CROSS_DEVICE without
/// RESOURCE_UUID; `blob_mem` other than GUEST, HOST3D, HOST3D_GUEST; HOST3D* without VIRGL;
/// HOST3D* with `cmd_size` not a multiple of 4; GUEST with `blob_id` or `cmd_size` non-zero;
/// with BLOB_ALIGNMENT, `size` not a multiple of `blob_alignment`. Hints other than
/// DEFER_MAPPING are ignored. The size is then rounded up to whole pages (upstream does not
/// require page-aligned sizes, so neither do we). `caps.blob_alignment` is only trusted when it
/// is a non-zero power of two; anything else counts as absent.
///
/// Stricter, only for inputs that passed the above: `size == 0` is `EINVAL` (upstream creates
/// an empty object); a size that overflows when rounded to pages is `EINVAL`; a rounded size
/// above `limits.max_backing` (with guest backing) or `limits.max_host_blob` (host-only) is
/// `ENOMEM`; `cmd_size` above [`MAX_CMD_SIZE`] is `ENOMEM`; HOST3D + MAPPABLE without a
/// host-visible region is `EINVAL` and one larger than the region is `ENOSPC` (upstream creates
/// the host resource first and fails the same way when it maps it, or at mmap time when the
/// mapping was deferred).
///
/// # Errors
///
/// `EINVAL`, `ENOMEM` or `ENOSPC` as above.
pub fn resource_create_blob(
    caps: &DeviceCaps,
    limits: &Limits,
    rc: &DrmVirtgpuResourceCreateBlob,
) -> Result<BlobCreate, Errno> {
    // Upstream's checks.
    if !caps.resource_blob || rc.blob_flags & !BLOB_FLAG_USE_MASK != 0 {
        return Err(Errno::Inval);
    }
    if rc.blob_flags & BLOB_FLAG_USE_CROSS_DEVICE != 0 && !caps.resource_uuid {
        return Err(Errno::Inval);
    }
    let mem = match rc.blob_mem {
        BLOB_MEM_GUEST => BlobMem::Guest,
        BLOB_MEM_HOST3D => BlobMem::Host3d,
        BLOB_MEM_HOST3D_GUEST => BlobMem::Host3dGuest,
        _ => return Err(Errno::Inval),
    };
    if mem.host3d() {
        if !caps.virgl_3d || rc.cmd_size & 3 != 0 {
            return Err(Errno::Inval);
        }
    } else if rc.blob_id != 0 || rc.cmd_size != 0 {
        return Err(Errno::Inval);
    }
    let blob_align = caps
        .blob_alignment
        .map(u64::from)
        .filter(|a| a.is_power_of_two());
    if let Some(a) = blob_align {
        if rc.size & (a - 1) != 0 {
            return Err(Errno::Inval);
        }
    }

    // Stricter checks.
    if rc.size == 0 {
        return Err(Errno::Inval);
    }
    let size = limits.page_align(rc.size).ok_or(Errno::Inval)?;
    let cap = if mem.guest_backing() {
        limits.max_backing
    } else {
        limits.max_host_blob
    };
    if size > cap || rc.cmd_size > MAX_CMD_SIZE {
        return Err(Errno::NoMem);
    }
    let host_visible = mem == BlobMem::Host3d && rc.blob_flags & BLOB_FLAG_USE_MAPPABLE != 0;
    if host_visible {
        if !caps.host_visible {
            return Err(Errno::Inval);
        }
        if size > limits.host_visible_len {
            return Err(Errno::NoSpc);
        }
    }
    let map_align = match blob_align {
        Some(a) if a > limits.page_size => a,
        _ => limits.page_size,
    };
    Ok(BlobCreate {
        mem,
        flags: rc.blob_flags,
        size,
        blob_id: rc.blob_id,
        cmd_size: rc.cmd_size,
        host_visible,
        map_now: host_visible && rc.blob_hints & BLOB_HINT_DEFER_MAPPING == 0,
        map_align,
    })
}

// ---------------------------------------------------------------------------------------
// TRANSFER_TO_HOST / TRANSFER_FROM_HOST

/// Direction of a transfer ioctl.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransferDir {
    /// DRM_IOCTL_VIRTGPU_TRANSFER_TO_HOST.
    ToHost,
    /// DRM_IOCTL_VIRTGPU_TRANSFER_FROM_HOST.
    FromHost,
}

/// What the transfer checks need to know about the object behind `bo_handle`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TransferObject {
    /// The GEM object's size.
    pub size: u64,
    /// A blob with guest memory (BLOB_MEM_GUEST or HOST3D_GUEST).
    pub guest_blob: bool,
    /// A host 3D blob (BLOB_MEM_HOST3D or HOST3D_GUEST).
    pub host3d_blob: bool,
}

/// A transfer box; validated ones have no coordinate plus extent that overflows `u32`.
pub use super::wire::Box3d;

/// The host command a validated transfer becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transfer {
    /// `TRANSFER_TO_HOST_2D`: rectangle and offset only.
    ToHost2d {
        /// Rectangle origin.
        x: u32,
        /// Rectangle origin.
        y: u32,
        /// Rectangle size.
        w: u32,
        /// Rectangle size.
        h: u32,
        /// Offset in the guest backing.
        offset: u64,
    },
    /// `TRANSFER_TO_HOST_3D` or `TRANSFER_FROM_HOST_3D` in the file's context.
    Host3d {
        /// Which of the two.
        dir: TransferDir,
        /// The box.
        bx: Box3d,
        /// Mip level.
        level: u32,
        /// Row stride (0 unless the object is a host 3D blob).
        stride: u32,
        /// Layer stride (0 unless the object is a host 3D blob).
        layer_stride: u32,
        /// Offset in the guest backing.
        offset: u64,
    },
}

/// The check upstream makes before it looks up the handle: TRANSFER_FROM_HOST needs VIRGL.
///
/// # Errors
///
/// `ENOSYS` for TRANSFER_FROM_HOST on a device without VIRGL (upstream's errno).
pub fn transfer_supported(caps: &DeviceCaps, dir: TransferDir) -> Result<(), Errno> {
    if dir == TransferDir::FromHost && !caps.virgl_3d {
        return Err(Errno::NoSys);
    }
    Ok(())
}

/// Validates a transfer ioctl once the handle has been looked up (call
/// [`transfer_supported`] before the lookup so that `ENOSYS` wins over `ENOENT`, as upstream).
///
/// Upstream, after the lookup: a guest-only blob (GUEST) is `EINVAL` in both directions. On
/// the 2D device TRANSFER_TO_HOST sends `TRANSFER_TO_HOST_2D` with `x`, `y`, `w`, `h` and
/// `offset`, ignoring `z`, `d`, `level`, `stride` and `layer_stride` (we ignore them too, so
/// userspace that leaves `d` at 0 keeps working). With VIRGL, `stride` or `layer_stride`
/// non-zero on anything but a host 3D blob is `EINVAL`; everything else goes to the host.
///
/// Stricter: a box whose `x + w`, `y + h` (and with VIRGL `z + d`) overflows `u32` is `EINVAL`,
/// as is an `offset` beyond the object's size; no resource can contain either, and upstream
/// forwards them to the host.
///
/// # Errors
///
/// `ENOSYS` (see [`transfer_supported`]) or `EINVAL` as above.
pub fn transfer(
    caps: &DeviceCaps,
    dir: TransferDir,
    args: &DrmVirtgpu3dTransfer,
    obj: &TransferObject,
) -> Result<Transfer, Errno> {
    transfer_supported(caps, dir)?;
    // Upstream's checks.
    if obj.guest_blob && !obj.host3d_blob {
        return Err(Errno::Inval);
    }
    if caps.virgl_3d && !obj.host3d_blob && (args.stride != 0 || args.layer_stride != 0) {
        return Err(Errno::Inval);
    }

    // Stricter checks.
    let b = &args.box_;
    let fits = |o: u32, e: u32| o.checked_add(e).is_some();
    if !fits(b.x, b.w) || !fits(b.y, b.h) || (caps.virgl_3d && !fits(b.z, b.d)) {
        return Err(Errno::Inval);
    }
    let offset = u64::from(args.offset);
    if offset > obj.size {
        return Err(Errno::Inval);
    }

    if !caps.virgl_3d {
        return Ok(Transfer::ToHost2d {
            x: b.x,
            y: b.y,
            w: b.w,
            h: b.h,
            offset,
        });
    }
    Ok(Transfer::Host3d {
        dir,
        bx: Box3d {
            x: b.x,
            y: b.y,
            z: b.z,
            w: b.w,
            h: b.h,
            d: b.d,
        },
        level: args.level,
        stride: args.stride,
        layer_stride: args.layer_stride,
        offset,
    })
}

// ---------------------------------------------------------------------------------------
// CONTEXT_INIT

// `VIRTGPU_CONTEXT_PARAM_*` of virtgpu_drm.h; the lead may move them to uapi.rs.
/// `VIRTGPU_CONTEXT_PARAM_CAPSET_ID`: the capset the context speaks.
pub const CONTEXT_PARAM_CAPSET_ID: u64 = 0x0001;
/// `VIRTGPU_CONTEXT_PARAM_NUM_RINGS`: number of fence timelines (rings).
pub const CONTEXT_PARAM_NUM_RINGS: u64 = 0x0002;
/// `VIRTGPU_CONTEXT_PARAM_POLL_RINGS_MASK`: rings whose fences wake `poll` on the DRM fd.
pub const CONTEXT_PARAM_POLL_RINGS_MASK: u64 = 0x0003;
/// `VIRTGPU_CONTEXT_PARAM_DEBUG_NAME`: user pointer to a NUL-terminated name.
pub const CONTEXT_PARAM_DEBUG_NAME: u64 = 0x0004;

/// Most parameters one CONTEXT_INIT takes: upstream's limit, one of each kind.
pub const MAX_CONTEXT_PARAMS: u32 = 4;
/// Highest capset id (upstream `MAX_CAPSET_ID`).
pub const MAX_CAPSET_ID: u64 = 63;
/// Most rings a context may have (upstream `MAX_RINGS`).
pub const MAX_RINGS: u64 = 64;
/// Most bytes of a debug name the driver copies (upstream `DEBUG_NAME_MAX_LEN - 1`).
pub const DEBUG_NAME_MAX: usize = 64;
/// `sizeof(struct drm_virtgpu_context_set_param)`: two `__u64`.
pub const CONTEXT_SET_PARAM_SIZE: usize = 16;

/// The checks upstream makes before copying the parameter array; returns how many bytes to
/// copy from `ctx_set_params`.
///
/// Upstream: CONTEXT_INIT or VIRGL not negotiated, or `num_params > 4`, is `EINVAL`.
/// `num_params == 0` is valid and creates the context with defaults. After the copy and
/// before the parameters are looked at, the driver answers `EEXIST` if the file's context
/// already exists.
///
/// # Errors
///
/// `EINVAL` as above.
pub fn context_init_params_len(caps: &DeviceCaps, num_params: u32) -> Result<usize, Errno> {
    if !caps.context_init || !caps.virgl_3d || num_params > MAX_CONTEXT_PARAMS {
        return Err(Errno::Inval);
    }
    usize::try_from(num_params)
        .ok()
        .and_then(|n| n.checked_mul(CONTEXT_SET_PARAM_SIZE))
        .ok_or(Errno::Inval)
}

/// The context CONTEXT_INIT asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ContextParams {
    /// The capset the context speaks (`None`: the host's default, virgl).
    pub capset_id: Option<u32>,
    /// Fence timelines; 0 when not given (the device's global timeline is used).
    pub num_rings: u32,
    /// Rings whose fences signal a DRM event to `poll`; bits below `num_rings` only.
    pub poll_rings_mask: u64,
    /// User pointer of the debug name, which the driver copies (up to [`DEBUG_NAME_MAX`]
    /// bytes; a bad pointer is `EFAULT`, as upstream).
    pub debug_name: Option<u64>,
}

impl ContextParams {
    /// The `context_init` field of CTX_CREATE: the capset id in its low 8 bits
    /// (`VIRTIO_GPU_CONTEXT_INIT_CAPSET_ID_MASK`), or 0.
    pub const fn context_init(&self) -> u32 {
        match self.capset_id {
            Some(id) => id,
            None => 0,
        }
    }
}

/// Folds CONTEXT_INIT parameters one at a time, as the driver reads them from its copy.
///
/// Upstream, per parameter: CAPSET_ID above 63, not reported by the host, or given twice is
/// `EINVAL`; NUM_RINGS above 64 or given twice is `EINVAL`; POLL_RINGS_MASK given twice after
/// a non-zero mask is `EINVAL`; DEBUG_NAME given twice is `EINVAL`; any other parameter is
/// `EINVAL`. At the end, a POLL_RINGS_MASK with bits at or above NUM_RINGS is `EINVAL`
/// (whatever order the two came in).
///
/// Stricter: NUM_RINGS of 0 is `EINVAL` (upstream passes 0 to `dma_fence_context_alloc`,
/// which WARNs), and every parameter given twice is `EINVAL` (upstream lets a zero
/// POLL_RINGS_MASK be repeated).
#[derive(Clone, Copy, Debug)]
pub struct ContextInitBuilder {
    capset_mask: u64,
    params: ContextParams,
    num_rings_given: bool,
    poll_mask_given: bool,
}

impl ContextInitBuilder {
    /// Starts an empty set of parameters for a device with `caps`.
    pub const fn new(caps: &DeviceCaps) -> Self {
        Self {
            capset_mask: caps.capset_mask,
            params: ContextParams {
                capset_id: None,
                num_rings: 0,
                poll_rings_mask: 0,
                debug_name: None,
            },
            num_rings_given: false,
            poll_mask_given: false,
        }
    }

    /// Records parameter `param` with `value`.
    ///
    /// # Errors
    ///
    /// `EINVAL` for an unknown parameter, a duplicate or a bad value (see the type's doc).
    pub fn param(&mut self, param: u64, value: u64) -> Result<(), Errno> {
        let p = &mut self.params;
        match param {
            CONTEXT_PARAM_CAPSET_ID => {
                if value > MAX_CAPSET_ID || self.capset_mask & (1u64 << value) == 0 {
                    return Err(Errno::Inval);
                }
                if p.capset_id.is_some() {
                    return Err(Errno::Inval);
                }
                p.capset_id = Some(u32::try_from(value).map_err(|_| Errno::Inval)?);
            }
            CONTEXT_PARAM_NUM_RINGS => {
                if self.num_rings_given || value > MAX_RINGS || value == 0 {
                    return Err(Errno::Inval);
                }
                p.num_rings = u32::try_from(value).map_err(|_| Errno::Inval)?;
                self.num_rings_given = true;
            }
            CONTEXT_PARAM_POLL_RINGS_MASK => {
                if self.poll_mask_given {
                    return Err(Errno::Inval);
                }
                p.poll_rings_mask = value;
                self.poll_mask_given = true;
            }
            CONTEXT_PARAM_DEBUG_NAME => {
                if p.debug_name.is_some() {
                    return Err(Errno::Inval);
                }
                p.debug_name = Some(value);
            }
            _ => return Err(Errno::Inval),
        }
        Ok(())
    }

    /// The parameters, once they are all in.
    ///
    /// # Errors
    ///
    /// `EINVAL` if POLL_RINGS_MASK names a ring at or above NUM_RINGS.
    pub fn finish(self) -> Result<ContextParams, Errno> {
        let p = self.params;
        // Bits 0..num_rings; `checked_shl` is `None` exactly for 64 rings.
        let valid = match 1u64.checked_shl(p.num_rings) {
            Some(bit) => bit - 1,
            None => u64::MAX,
        };
        if p.poll_rings_mask & !valid != 0 {
            return Err(Errno::Inval);
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::uapi::DrmVirtgpu3dBox;

    const PAGE: u64 = 4096;
    const INVAL: Result<(), Errno> = Err(Errno::Inval);

    fn two_d() -> DeviceCaps {
        DeviceCaps::default()
    }

    /// The QEMU GL device of the test setup: virgl, blob, host-visible 256 MiB, venus.
    fn gl() -> DeviceCaps {
        DeviceCaps {
            virgl_3d: true,
            edid: true,
            resource_blob: true,
            context_init: true,
            host_visible: true,
            capset_mask: (1 << 1) | (1 << 2) | (1 << 4),
            ..Default::default()
        }
    }

    fn limits() -> Limits {
        Limits::new(PAGE, 256 << 20)
    }

    #[test]
    fn errno_numbers() {
        assert_eq!(Errno::Inval.code(), 22);
        assert_eq!(Errno::NoMem.code(), 12);
        assert_eq!(Errno::NoSpc.code(), 28);
        assert_eq!(Errno::NoSys.code(), 38);
        assert_eq!(Errno::NoSys.name(), "ENOSYS");
    }

    #[test]
    fn limits_helpers() {
        let l = limits();
        assert_eq!(l.max_backing, MAX_BACKING_SIZE);
        assert_eq!(l.max_host_blob, MAX_HOST_BLOB_SIZE);
        assert_eq!(l.cap_backing_to_ram(512 << 20).max_backing, 256 << 20);
        assert_eq!(l.cap_backing_to_ram(u64::MAX).max_backing, MAX_BACKING_SIZE);
        assert_eq!(l.page_align(0), Some(0));
        assert_eq!(l.page_align(1), Some(PAGE));
        assert_eq!(l.page_align(PAGE), Some(PAGE));
        assert_eq!(l.page_align(u64::MAX), None);
        assert_eq!(l.page_align(u64::MAX - PAGE + 1), Some(u64::MAX - PAGE + 1));
        assert_eq!(Limits::new(3000, 0).page_align(1), None);
        assert_eq!(Limits::new(0, 0).page_align(1), None);
    }

    // RESOURCE_CREATE ---------------------------------------------------------------------

    /// What Mesa/IGT pass for a 2D 64x64 BGRA resource.
    fn rc2d() -> DrmVirtgpuResourceCreate {
        DrmVirtgpuResourceCreate {
            target: PIPE_TEXTURE_2D,
            format: 1,
            width: 64,
            height: 64,
            depth: 1,
            array_size: 1,
            size: 64 * 64 * 4,
            ..Default::default()
        }
    }

    #[test]
    fn resource_create_2d_success() {
        let ok = |rc: &DrmVirtgpuResourceCreate| resource_create(&two_d(), &limits(), rc);
        assert_eq!(
            ok(&rc2d()),
            Ok(ResourceCreate {
                kind: ResourceKind::TwoD,
                backing_size: 16384
            })
        );
        // Upstream: depth, array_size, nr_samples 0 or 1; last_level 0 or 1 (`> 1` check).
        let lenient = DrmVirtgpuResourceCreate {
            depth: 0,
            array_size: 0,
            nr_samples: 1,
            last_level: 1,
            ..rc2d()
        };
        assert!(ok(&lenient).is_ok());
        // Upstream: format, sizes, bind, flags and stride are the host's business.
        let odd = DrmVirtgpuResourceCreate {
            format: 0xdead,
            width: 0,
            height: 0,
            bind: !0,
            flags: !0,
            stride: 7,
            ..rc2d()
        };
        assert!(ok(&odd).is_ok());
    }

    #[test]
    fn resource_create_sizes() {
        let with = |size, caps: &DeviceCaps, l: &Limits| {
            resource_create(caps, l, &DrmVirtgpuResourceCreate { size, ..rc2d() })
                .map(|r| r.backing_size)
        };
        let l = limits();
        for caps in [two_d(), gl()] {
            // Upstream: size 0 allocates a single page; sizes round up to pages.
            assert_eq!(with(0, &caps, &l), Ok(PAGE));
            assert_eq!(with(1, &caps, &l), Ok(PAGE));
            assert_eq!(with(4097, &caps, &l), Ok(2 * PAGE));
            assert_eq!(with(1 << 30, &caps, &l), Ok(1 << 30));
            // Stricter: above the cap (upstream would try to allocate up to 4 GiB).
            assert_eq!(with((1 << 30) + 1, &caps, &l), Err(Errno::NoMem));
            assert_eq!(with(u32::MAX, &caps, &l), Err(Errno::NoMem));
            let small = l.cap_backing_to_ram(64 << 20);
            assert_eq!(with(32 << 20, &caps, &small), Ok(32 << 20));
            assert_eq!(with((32 << 20) + 1, &caps, &small), Err(Errno::NoMem));
            // 64 KiB pages.
            let big = Limits::new(1 << 16, 0);
            assert_eq!(with(0, &caps, &big), Ok(1 << 16));
            assert_eq!(with(4096, &caps, &big), Ok(1 << 16));
            // A bad page size is a driver bug: refuse rather than compute garbage.
            assert_eq!(with(4096, &caps, &Limits::new(0, 0)), Err(Errno::Inval));
        }
    }

    #[test]
    fn resource_create_2d_errnos() {
        // Upstream's five EINVAL checks on the 2D device, one field at a time.
        let bad = [
            DrmVirtgpuResourceCreate { depth: 2, ..rc2d() },
            DrmVirtgpuResourceCreate {
                nr_samples: 2,
                ..rc2d()
            },
            DrmVirtgpuResourceCreate {
                last_level: 2,
                ..rc2d()
            },
            DrmVirtgpuResourceCreate {
                target: 0,
                ..rc2d()
            },
            DrmVirtgpuResourceCreate {
                target: 3,
                ..rc2d()
            },
            DrmVirtgpuResourceCreate {
                array_size: 2,
                ..rc2d()
            },
            DrmVirtgpuResourceCreate {
                depth: u32::MAX,
                ..rc2d()
            },
        ];
        for rc in &bad {
            assert_eq!(
                resource_create(&two_d(), &limits(), rc),
                Err(Errno::Inval),
                "{rc:?}"
            );
            // With VIRGL the same requests are 3D resources for the host to judge.
            assert_eq!(
                resource_create(&gl(), &limits(), rc).map(|r| r.kind),
                Ok(ResourceKind::ThreeD)
            );
        }
        // Upstream checks the 3D fields before the size: EINVAL, not ENOMEM.
        let both = DrmVirtgpuResourceCreate {
            depth: 2,
            size: u32::MAX,
            ..rc2d()
        };
        assert_eq!(
            resource_create(&two_d(), &limits(), &both),
            Err(Errno::Inval)
        );
    }

    #[test]
    fn resource_create_3d_success() {
        let rc = DrmVirtgpuResourceCreate {
            target: 0, // PIPE_BUFFER
            format: 64,
            bind: 1 << 17,
            width: 1 << 20,
            height: 1,
            depth: 1,
            array_size: 1,
            size: 1 << 20,
            ..Default::default()
        };
        assert_eq!(
            resource_create(&gl(), &limits(), &rc),
            Ok(ResourceCreate {
                kind: ResourceKind::ThreeD,
                backing_size: 1 << 20
            })
        );
    }

    // RESOURCE_CREATE_BLOB ----------------------------------------------------------------

    fn blob(blob_mem: u32, blob_flags: u32, size: u64) -> DrmVirtgpuResourceCreateBlob {
        DrmVirtgpuResourceCreateBlob {
            blob_mem,
            blob_flags,
            size,
            ..Default::default()
        }
    }

    fn check(caps: &DeviceCaps, rc: &DrmVirtgpuResourceCreateBlob) -> Result<BlobCreate, Errno> {
        resource_create_blob(caps, &limits(), rc)
    }

    #[test]
    fn blob_guest_success() {
        // Guest blobs need only RESOURCE_BLOB (no VIRGL): the 2D device with blob=true.
        let caps = DeviceCaps {
            resource_blob: true,
            ..Default::default()
        };
        let r = check(
            &caps,
            &blob(BLOB_MEM_GUEST, BLOB_FLAG_USE_MAPPABLE, 3 * PAGE),
        )
        .unwrap();
        assert_eq!(
            r,
            BlobCreate {
                mem: BlobMem::Guest,
                flags: BLOB_FLAG_USE_MAPPABLE,
                size: 3 * PAGE,
                blob_id: 0,
                cmd_size: 0,
                host_visible: false,
                map_now: false,
                map_align: PAGE,
            }
        );
        assert!(r.mem.guest_backing() && !r.mem.host3d());
        // Upstream does not require page-aligned sizes: it rounds up.
        assert_eq!(
            check(&caps, &blob(BLOB_MEM_GUEST, 0, 1)).unwrap().size,
            PAGE
        );
        let shareable = BLOB_FLAG_USE_SHAREABLE | BLOB_FLAG_USE_MAPPABLE;
        assert!(check(&caps, &blob(BLOB_MEM_GUEST, shareable, PAGE)).is_ok());
        // Unknown hints are ignored, as upstream.
        let hinted = DrmVirtgpuResourceCreateBlob {
            blob_hints: !0,
            ..blob(BLOB_MEM_GUEST, 0, PAGE)
        };
        assert!(check(&caps, &hinted).is_ok());
    }

    #[test]
    fn blob_host3d_success() {
        let rc = DrmVirtgpuResourceCreateBlob {
            blob_id: 42,
            cmd_size: 48,
            cmd: 0x1000,
            ..blob(BLOB_MEM_HOST3D, BLOB_FLAG_USE_MAPPABLE, 1 << 20)
        };
        let r = check(&gl(), &rc).unwrap();
        assert_eq!(
            r,
            BlobCreate {
                mem: BlobMem::Host3d,
                flags: BLOB_FLAG_USE_MAPPABLE,
                size: 1 << 20,
                blob_id: 42,
                cmd_size: 48,
                host_visible: true,
                map_now: true,
                map_align: PAGE,
            }
        );
        assert_eq!(r.mem.value(), BLOB_MEM_HOST3D);
        assert!(!r.mem.guest_backing() && r.mem.host3d());
        // DEFER_MAPPING: created now, mapped at first use.
        let deferred = DrmVirtgpuResourceCreateBlob {
            blob_hints: BLOB_HINT_DEFER_MAPPING,
            ..rc
        };
        let r = check(&gl(), &deferred).unwrap();
        assert!(r.host_visible && !r.map_now);
        // Not MAPPABLE: host-only, needs no region and may exceed it.
        let hidden = blob(BLOB_MEM_HOST3D, BLOB_FLAG_USE_SHAREABLE, 1 << 30);
        let r = check(&gl(), &hidden).unwrap();
        assert!(!r.host_visible && !r.map_now);
        let no_region = DeviceCaps {
            host_visible: false,
            ..gl()
        };
        assert!(check(&no_region, &hidden).is_ok());
        // Host-only blobs are capped by max_host_blob, not by guest memory.
        let big = blob(BLOB_MEM_HOST3D, 0, MAX_HOST_BLOB_SIZE);
        assert!(check(&gl(), &big).is_ok());
    }

    #[test]
    fn blob_host3d_guest_success() {
        let rc = DrmVirtgpuResourceCreateBlob {
            blob_id: 7,
            ..blob(BLOB_MEM_HOST3D_GUEST, BLOB_FLAG_USE_MAPPABLE, 2 * PAGE)
        };
        let r = check(&gl(), &rc).unwrap();
        assert_eq!(r.mem, BlobMem::Host3dGuest);
        assert!(r.mem.guest_backing() && r.mem.host3d());
        // Mapped through its guest pages, never through the host-visible region.
        assert!(!r.host_visible && !r.map_now);
        assert_eq!(r.blob_id, 7);
        let no_region = DeviceCaps {
            host_visible: false,
            ..gl()
        };
        assert!(check(&no_region, &rc).is_ok());
    }

    #[test]
    fn blob_upstream_errnos() {
        let g = blob(BLOB_MEM_GUEST, 0, PAGE);
        // No RESOURCE_BLOB.
        let no_blob = DeviceCaps {
            resource_blob: false,
            ..gl()
        };
        assert_eq!(check(&no_blob, &g), Err(Errno::Inval));
        // Unknown flags.
        for f in [8, 0x10, 1 << 31, !0] {
            assert_eq!(
                check(&gl(), &blob(BLOB_MEM_GUEST, f, PAGE)),
                Err(Errno::Inval)
            );
        }
        // CROSS_DEVICE without RESOURCE_UUID, and with it.
        let x = blob(BLOB_MEM_GUEST, BLOB_FLAG_USE_CROSS_DEVICE, PAGE);
        assert_eq!(check(&gl(), &x), Err(Errno::Inval));
        let uuid = DeviceCaps {
            resource_uuid: true,
            ..gl()
        };
        assert!(check(&uuid, &x).is_ok());
        // Bad blob_mem.
        for m in [0, 4, 0x100, u32::MAX] {
            assert_eq!(check(&gl(), &blob(m, 0, PAGE)), Err(Errno::Inval), "{m}");
        }
        // HOST3D* without VIRGL.
        let blob_only = DeviceCaps {
            resource_blob: true,
            host_visible: true,
            ..Default::default()
        };
        for m in [BLOB_MEM_HOST3D, BLOB_MEM_HOST3D_GUEST] {
            assert_eq!(check(&blob_only, &blob(m, 0, PAGE)), Err(Errno::Inval));
        }
        // HOST3D* with a cmd_size that is not whole dwords.
        for m in [BLOB_MEM_HOST3D, BLOB_MEM_HOST3D_GUEST] {
            for cmd_size in [1, 2, 3, 5, 4095] {
                let rc = DrmVirtgpuResourceCreateBlob {
                    cmd_size,
                    ..blob(m, 0, PAGE)
                };
                assert_eq!(check(&gl(), &rc), Err(Errno::Inval));
            }
        }
        // GUEST with blob_id or a command.
        let id = DrmVirtgpuResourceCreateBlob { blob_id: 1, ..g };
        assert_eq!(check(&gl(), &id), Err(Errno::Inval));
        let cmd = DrmVirtgpuResourceCreateBlob { cmd_size: 4, ..g };
        assert_eq!(check(&gl(), &cmd), Err(Errno::Inval));
    }

    #[test]
    fn blob_alignment_feature() {
        let aligned = |a| DeviceCaps {
            blob_alignment: Some(a),
            ..gl()
        };
        // Upstream: with BLOB_ALIGNMENT the size must be a multiple of it.
        let caps = aligned(1 << 16);
        assert_eq!(
            check(&caps, &blob(BLOB_MEM_GUEST, 0, PAGE)),
            Err(Errno::Inval)
        );
        let r = check(&caps, &blob(BLOB_MEM_GUEST, 0, 1 << 16)).unwrap();
        assert_eq!((r.size, r.map_align), (1 << 16, 1 << 16));
        let hv = blob(BLOB_MEM_HOST3D, BLOB_FLAG_USE_MAPPABLE, 3 << 16);
        assert_eq!(check(&caps, &hv).unwrap().map_align, 1 << 16);
        // An alignment below the page size still rounds the size to pages.
        let r = check(&aligned(256), &blob(BLOB_MEM_GUEST, 0, 512)).unwrap();
        assert_eq!((r.size, r.map_align), (PAGE, PAGE));
        assert_eq!(
            check(&aligned(256), &blob(BLOB_MEM_GUEST, 0, 100)),
            Err(Errno::Inval)
        );
        // Untrustworthy values (the caller should pass None) count as absent, never divide.
        for bogus in [0, 3, 4097, u32::MAX] {
            let r = check(&aligned(bogus), &blob(BLOB_MEM_GUEST, 0, 100)).unwrap();
            assert_eq!((r.size, r.map_align), (PAGE, PAGE), "{bogus}");
        }
        // The alignment check comes before the stricter size checks, as in upstream.
        let both = blob(BLOB_MEM_GUEST, 0, MAX_BACKING_SIZE + PAGE);
        assert_eq!(check(&caps, &both), Err(Errno::Inval));
        assert_eq!(check(&gl(), &both), Err(Errno::NoMem));
    }

    #[test]
    fn blob_stricter_errnos() {
        // Size 0 (upstream creates an empty object).
        for m in [BLOB_MEM_GUEST, BLOB_MEM_HOST3D, BLOB_MEM_HOST3D_GUEST] {
            assert_eq!(check(&gl(), &blob(m, 0, 0)), Err(Errno::Inval));
        }
        // Rounding to pages would overflow.
        for s in [u64::MAX, u64::MAX - PAGE + 2] {
            assert_eq!(
                check(&gl(), &blob(BLOB_MEM_HOST3D, 0, s)),
                Err(Errno::Inval)
            );
        }
        // Guest backing above the cap.
        for m in [BLOB_MEM_GUEST, BLOB_MEM_HOST3D_GUEST] {
            assert!(check(&gl(), &blob(m, 0, MAX_BACKING_SIZE)).is_ok());
            let over = blob(m, 0, MAX_BACKING_SIZE + 1);
            assert_eq!(check(&gl(), &over), Err(Errno::NoMem));
            let huge = blob(m, 0, u64::MAX - PAGE + 1);
            assert_eq!(check(&gl(), &huge), Err(Errno::NoMem));
        }
        let l = limits().cap_backing_to_ram(1 << 20);
        let over_ram = blob(BLOB_MEM_GUEST, 0, (1 << 19) + 1);
        assert_eq!(
            resource_create_blob(&gl(), &l, &over_ram),
            Err(Errno::NoMem)
        );
        // Host-only blob above its cap.
        let over = blob(BLOB_MEM_HOST3D, 0, MAX_HOST_BLOB_SIZE + 1);
        assert_eq!(check(&gl(), &over), Err(Errno::NoMem));
        // Inline command above the cap, and at it.
        let cmd = |cmd_size| DrmVirtgpuResourceCreateBlob {
            cmd_size,
            ..blob(BLOB_MEM_HOST3D, 0, PAGE)
        };
        assert!(check(&gl(), &cmd(MAX_CMD_SIZE)).is_ok());
        assert_eq!(check(&gl(), &cmd(MAX_CMD_SIZE + 4)), Err(Errno::NoMem));
        assert_eq!(check(&gl(), &cmd(u32::MAX - 3)), Err(Errno::NoMem));
        // MAPPABLE host blob without a host-visible region.
        let hv = blob(BLOB_MEM_HOST3D, BLOB_FLAG_USE_MAPPABLE, PAGE);
        let no_region = DeviceCaps {
            host_visible: false,
            ..gl()
        };
        assert_eq!(check(&no_region, &hv), Err(Errno::Inval));
        // Larger than the whole region: ENOSPC, as upstream's map would fail.
        let region = 256 << 20;
        let fits = blob(BLOB_MEM_HOST3D, BLOB_FLAG_USE_MAPPABLE, region);
        assert!(check(&gl(), &fits).is_ok());
        let too_big = blob(BLOB_MEM_HOST3D, BLOB_FLAG_USE_MAPPABLE, region + 1);
        assert_eq!(check(&gl(), &too_big), Err(Errno::NoSpc));
        // Upstream's checks win over the stricter ones.
        let both = DrmVirtgpuResourceCreateBlob {
            blob_flags: 0x80,
            ..blob(BLOB_MEM_GUEST, 0, 0)
        };
        assert_eq!(check(&gl(), &both), Err(Errno::Inval));
    }

    // Transfers ---------------------------------------------------------------------------

    fn xfer(x: u32, y: u32, w: u32, h: u32) -> DrmVirtgpu3dTransfer {
        DrmVirtgpu3dTransfer {
            box_: DrmVirtgpu3dBox {
                x,
                y,
                z: 0,
                w,
                h,
                d: 1,
            },
            ..Default::default()
        }
    }

    const RES: TransferObject = TransferObject {
        size: 1 << 20,
        guest_blob: false,
        host3d_blob: false,
    };
    const GUEST_BLOB: TransferObject = TransferObject {
        size: 1 << 20,
        guest_blob: true,
        host3d_blob: false,
    };
    const HOST3D_BLOB: TransferObject = TransferObject {
        size: 1 << 20,
        guest_blob: false,
        host3d_blob: true,
    };
    const HOST3D_GUEST_BLOB: TransferObject = TransferObject {
        size: 1 << 20,
        guest_blob: true,
        host3d_blob: true,
    };

    #[test]
    fn transfer_2d() {
        use TransferDir::*;
        // Upstream: FROM_HOST without VIRGL is ENOSYS, before the handle lookup.
        assert_eq!(transfer_supported(&two_d(), FromHost), Err(Errno::NoSys));
        assert_eq!(transfer_supported(&two_d(), ToHost), Ok(()));
        assert_eq!(
            transfer(&two_d(), FromHost, &xfer(0, 0, 1, 1), &RES),
            Err(Errno::NoSys)
        );
        // TO_HOST 2D: z, d, level and strides are ignored, as upstream.
        let t = DrmVirtgpu3dTransfer {
            offset: 256,
            level: 3,
            stride: 99,
            layer_stride: 5,
            box_: DrmVirtgpu3dBox {
                x: 1,
                y: 2,
                z: u32::MAX,
                w: 3,
                h: 4,
                d: u32::MAX,
            },
            ..Default::default()
        };
        assert_eq!(
            transfer(&two_d(), ToHost, &t, &RES),
            Ok(Transfer::ToHost2d {
                x: 1,
                y: 2,
                w: 3,
                h: 4,
                offset: 256
            })
        );
        // Upstream: a guest-only blob cannot be transferred.
        let blob2d = DeviceCaps {
            resource_blob: true,
            ..two_d()
        };
        assert_eq!(
            transfer(&blob2d, ToHost, &xfer(0, 0, 1, 1), &GUEST_BLOB),
            Err(Errno::Inval)
        );
        // Stricter: boxes that wrap u32, offsets beyond the object.
        for (x, y, w, h) in [
            (1, 0, u32::MAX, 1),
            (0, u32::MAX, 1, 1),
            (u32::MAX, 0, 1, 0),
        ] {
            assert_eq!(
                transfer(&two_d(), ToHost, &xfer(x, y, w, h), &RES),
                Err(Errno::Inval)
            );
        }
        assert!(transfer(&two_d(), ToHost, &xfer(0, u32::MAX, 0, 0), &RES).is_ok());
        assert!(transfer(&two_d(), ToHost, &xfer(u32::MAX, 0, 0, 0), &RES).is_ok());
        let at = |offset| DrmVirtgpu3dTransfer {
            offset,
            ..xfer(0, 0, 1, 1)
        };
        assert!(transfer(&two_d(), ToHost, &at(1 << 20), &RES).is_ok());
        assert_eq!(
            transfer(&two_d(), ToHost, &at((1 << 20) + 1), &RES),
            Err(Errno::Inval)
        );
    }

    #[test]
    fn transfer_3d() {
        use TransferDir::*;
        for dir in [ToHost, FromHost] {
            assert_eq!(transfer_supported(&gl(), dir), Ok(()));
            let t = DrmVirtgpu3dTransfer {
                offset: 4096,
                level: 2,
                box_: DrmVirtgpu3dBox {
                    x: 1,
                    y: 2,
                    z: 3,
                    w: 4,
                    h: 5,
                    d: 6,
                },
                ..Default::default()
            };
            let want = Transfer::Host3d {
                dir,
                bx: Box3d {
                    x: 1,
                    y: 2,
                    z: 3,
                    w: 4,
                    h: 5,
                    d: 6,
                },
                level: 2,
                stride: 0,
                layer_stride: 0,
                offset: 4096,
            };
            assert_eq!(transfer(&gl(), dir, &t, &RES), Ok(want));
            assert_eq!(transfer(&gl(), dir, &t, &HOST3D_GUEST_BLOB), Ok(want));
            // Upstream: a guest-only blob is EINVAL.
            assert_eq!(transfer(&gl(), dir, &t, &GUEST_BLOB), Err(Errno::Inval));
            // Upstream: strides only on host 3D blobs.
            let strided = DrmVirtgpu3dTransfer {
                stride: 256,
                layer_stride: 4096,
                ..t
            };
            assert_eq!(transfer(&gl(), dir, &strided, &RES), Err(Errno::Inval));
            let only_layer = DrmVirtgpu3dTransfer {
                layer_stride: 1,
                ..t
            };
            assert_eq!(transfer(&gl(), dir, &only_layer, &RES), Err(Errno::Inval));
            for obj in [HOST3D_BLOB, HOST3D_GUEST_BLOB] {
                assert_eq!(
                    transfer(&gl(), dir, &strided, &obj),
                    Ok(Transfer::Host3d {
                        dir,
                        bx: want_box(&t),
                        level: 2,
                        stride: 256,
                        layer_stride: 4096,
                        offset: 4096,
                    })
                );
            }
            // Stricter: z + d wraps (checked with VIRGL only), and offsets past the object.
            let deep = DrmVirtgpu3dTransfer {
                box_: DrmVirtgpu3dBox {
                    z: 2,
                    d: u32::MAX - 1,
                    ..t.box_
                },
                ..t
            };
            assert_eq!(transfer(&gl(), dir, &deep, &RES), Err(Errno::Inval));
            let wide = DrmVirtgpu3dTransfer {
                box_: DrmVirtgpu3dBox {
                    x: u32::MAX,
                    ..t.box_
                },
                ..t
            };
            assert_eq!(transfer(&gl(), dir, &wide, &RES), Err(Errno::Inval));
            let far = DrmVirtgpu3dTransfer {
                offset: u32::MAX,
                ..t
            };
            assert_eq!(transfer(&gl(), dir, &far, &RES), Err(Errno::Inval));
        }
    }

    fn want_box(t: &DrmVirtgpu3dTransfer) -> Box3d {
        let b = &t.box_;
        Box3d {
            x: b.x,
            y: b.y,
            z: b.z,
            w: b.w,
            h: b.h,
            d: b.d,
        }
    }

    // CONTEXT_INIT ------------------------------------------------------------------------

    #[test]
    fn context_init_precheck() {
        // Upstream: needs CONTEXT_INIT and VIRGL, at most 4 params; 0 is fine.
        assert_eq!(context_init_params_len(&gl(), 0), Ok(0));
        assert_eq!(context_init_params_len(&gl(), 4), Ok(64));
        assert_eq!(context_init_params_len(&gl(), 5), Err(Errno::Inval));
        assert_eq!(context_init_params_len(&gl(), u32::MAX), Err(Errno::Inval));
        let no_init = DeviceCaps {
            context_init: false,
            ..gl()
        };
        assert_eq!(context_init_params_len(&no_init, 1), Err(Errno::Inval));
        let no_virgl = DeviceCaps {
            virgl_3d: false,
            ..gl()
        };
        assert_eq!(context_init_params_len(&no_virgl, 1), Err(Errno::Inval));
        assert_eq!(context_init_params_len(&two_d(), 0), Err(Errno::Inval));
    }

    fn build(params: &[(u64, u64)]) -> Result<ContextParams, Errno> {
        let mut b = ContextInitBuilder::new(&gl());
        for &(p, v) in params {
            b.param(p, v)?;
        }
        b.finish()
    }

    #[test]
    fn context_init_success() {
        // No params: the default context.
        assert_eq!(build(&[]), Ok(ContextParams::default()));
        assert_eq!(ContextParams::default().context_init(), 0);
        // What Mesa's venus driver passes.
        let venus = build(&[
            (CONTEXT_PARAM_CAPSET_ID, 4),
            (CONTEXT_PARAM_NUM_RINGS, 64),
            (CONTEXT_PARAM_POLL_RINGS_MASK, u64::MAX),
            (CONTEXT_PARAM_DEBUG_NAME, 0x7fff_0000),
        ])
        .unwrap();
        assert_eq!(
            venus,
            ContextParams {
                capset_id: Some(4),
                num_rings: 64,
                poll_rings_mask: u64::MAX,
                debug_name: Some(0x7fff_0000),
            }
        );
        assert_eq!(venus.context_init(), 4);
        // The mask may come before NUM_RINGS (upstream checks it at the end).
        let p = build(&[
            (CONTEXT_PARAM_POLL_RINGS_MASK, 0b101),
            (CONTEXT_PARAM_NUM_RINGS, 3),
        ])
        .unwrap();
        assert_eq!((p.num_rings, p.poll_rings_mask), (3, 0b101));
        // Boundaries: capset 1, one ring, mask of that ring, zero mask with no rings.
        assert!(build(&[(CONTEXT_PARAM_CAPSET_ID, 1)]).is_ok());
        assert!(build(&[
            (CONTEXT_PARAM_NUM_RINGS, 1),
            (CONTEXT_PARAM_POLL_RINGS_MASK, 1)
        ])
        .is_ok());
        assert!(build(&[(CONTEXT_PARAM_POLL_RINGS_MASK, 0)]).is_ok());
        // Capset 63 when the host reports it.
        let mut b = ContextInitBuilder::new(&DeviceCaps {
            capset_mask: 1 << 63,
            ..gl()
        });
        assert_eq!(b.param(CONTEXT_PARAM_CAPSET_ID, 63), Ok(()));
        assert_eq!(b.finish().unwrap().context_init(), 63);
    }

    #[test]
    fn context_init_upstream_errnos() {
        // Unknown parameters.
        for p in [0, 5, 0x100, u64::MAX] {
            assert_eq!(build(&[(p, 0)]), Err(Errno::Inval), "{p}");
        }
        // Capset above 63, or one the host did not report (0, 3, 5 are not in the mask).
        for v in [0, 3, 5, 63, 64, 1 << 32, u64::MAX] {
            assert_eq!(
                build(&[(CONTEXT_PARAM_CAPSET_ID, v)]),
                Err(Errno::Inval),
                "{v}"
            );
        }
        // Rings above 64.
        for v in [65, 1 << 32, u64::MAX] {
            assert_eq!(build(&[(CONTEXT_PARAM_NUM_RINGS, v)]), Err(Errno::Inval));
        }
        // Duplicates that upstream rejects.
        let dups = [
            [(CONTEXT_PARAM_CAPSET_ID, 1), (CONTEXT_PARAM_CAPSET_ID, 2)],
            [(CONTEXT_PARAM_NUM_RINGS, 1), (CONTEXT_PARAM_NUM_RINGS, 1)],
            [
                (CONTEXT_PARAM_POLL_RINGS_MASK, 1),
                (CONTEXT_PARAM_POLL_RINGS_MASK, 1),
            ],
            [(CONTEXT_PARAM_DEBUG_NAME, 1), (CONTEXT_PARAM_DEBUG_NAME, 2)],
        ];
        for d in &dups {
            assert_eq!(build(d), Err(Errno::Inval), "{d:?}");
        }
        // Mask bits at or above NUM_RINGS, in either order, or without NUM_RINGS.
        assert_eq!(
            build(&[
                (CONTEXT_PARAM_NUM_RINGS, 2),
                (CONTEXT_PARAM_POLL_RINGS_MASK, 0b100)
            ]),
            Err(Errno::Inval)
        );
        assert_eq!(
            build(&[
                (CONTEXT_PARAM_POLL_RINGS_MASK, 1 << 63),
                (CONTEXT_PARAM_NUM_RINGS, 63)
            ]),
            Err(Errno::Inval)
        );
        assert_eq!(
            build(&[(CONTEXT_PARAM_POLL_RINGS_MASK, 1)]),
            Err(Errno::Inval)
        );
        // A capset check does not depend on an earlier failure: the builder stays usable.
        let mut b = ContextInitBuilder::new(&gl());
        assert_eq!(b.param(CONTEXT_PARAM_CAPSET_ID, 3), INVAL);
        assert_eq!(b.param(CONTEXT_PARAM_CAPSET_ID, 2), Ok(()));
    }

    #[test]
    fn context_init_stricter_errnos() {
        // NUM_RINGS 0 (upstream WARNs in dma_fence_context_alloc).
        assert_eq!(build(&[(CONTEXT_PARAM_NUM_RINGS, 0)]), Err(Errno::Inval));
        // A repeated zero POLL_RINGS_MASK (upstream accepts it).
        assert_eq!(
            build(&[
                (CONTEXT_PARAM_POLL_RINGS_MASK, 0),
                (CONTEXT_PARAM_POLL_RINGS_MASK, 0)
            ]),
            Err(Errno::Inval)
        );
        // A zero debug-name pointer is recorded; the driver's copy answers EFAULT.
        assert_eq!(
            build(&[(CONTEXT_PARAM_DEBUG_NAME, 0)]).unwrap().debug_name,
            Some(0)
        );
    }
}
