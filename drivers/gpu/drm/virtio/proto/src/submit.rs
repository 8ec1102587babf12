// SPDX-License-Identifier: GPL-2.0

//! DRM_IOCTL_VIRTGPU_EXECBUFFER: argument validation, the submission plan, the syncobj
//! descriptors copied from userspace, and the pure part of fence bookkeeping.
//!
//! [`execbuffer`] makes the checks of the 7.2 C driver (`virtgpu_submit.c`,
//! `virtio_gpu_execbuffer_ioctl`) that need no driver state, in upstream's order and with
//! upstream's errnos, then this driver's caps, which only reject inputs upstream would try to
//! allocate for. The rest of upstream's order needs driver state and stays in the driver;
//! [`ExecPlan`] lists it step by step with the errno of each step.
//!
//! Fences follow `virtgpu_fence.c`: one device-wide counter hands out fence ids, every fence
//! belongs to one dma-fence context (the device's, or one per ring of a file's context), and a
//! response carrying fence id N signals the pending fence N and every earlier pending fence of
//! the same dma-fence context ([`Retire`]).

use super::features::DeviceCaps;
use super::uapi::DrmVirtgpuExecbuffer;
use super::validate::{ContextParams, Errno, MAX_CMD_SIZE, MAX_RINGS};

// `VIRTGPU_EXECBUF_*` of virtgpu_drm.h; the lead may move them to uapi.rs.
/// `VIRTGPU_EXECBUF_FENCE_FD_IN`: wait for the sync_file in `fence_fd` first.
pub const EXECBUF_FENCE_FD_IN: u32 = 0x01;
/// `VIRTGPU_EXECBUF_FENCE_FD_OUT`: return a sync_file of the submission in `fence_fd`.
pub const EXECBUF_FENCE_FD_OUT: u32 = 0x02;
/// `VIRTGPU_EXECBUF_RING_IDX`: fence the submission on ring `ring_idx` of the context.
pub const EXECBUF_RING_IDX: u32 = 0x04;
/// Every flag userspace may pass (`VIRTGPU_EXECBUF_FLAGS`).
pub const EXECBUF_FLAGS: u32 = EXECBUF_FENCE_FD_IN | EXECBUF_FENCE_FD_OUT | EXECBUF_RING_IDX;
/// `VIRTGPU_EXECBUF_SYNCOBJ_RESET`: empty an in-syncobj once the submission is queued.
pub const EXECBUF_SYNCOBJ_RESET: u32 = 0x01;
/// Every flag an in-syncobj may carry (`VIRTGPU_EXECBUF_SYNCOBJ_FLAGS`); out-syncobjs take none.
pub const EXECBUF_SYNCOBJ_FLAGS: u32 = EXECBUF_SYNCOBJ_RESET;
/// `sizeof(struct drm_virtgpu_execbuffer_syncobj)`: `handle` (u32), `flags` (u32), `point` (u64).
pub const SYNCOBJ_DESC_SIZE: usize = 16;

/// `VIRTGPU_EVENT_FENCE_SIGNALED`: type of the DRM event of a fence on a polled ring.
pub const EVENT_FENCE_SIGNALED: u32 = 0x9000_0000;
/// Length of that event: a bare `struct drm_event` (`type`, `length`).
pub const FENCE_EVENT_LEN: u32 = 8;
/// Bytes of unread events a DRM file may hold (`file->event_space` in `drm_file.c`).
/// `drm_event_reserve_init` takes [`FENCE_EVENT_LEN`] of it at submission and answers
/// `ENOMEM` when it is used up; `read()` gives it back.
pub const DRM_EVENT_SPACE: u32 = 4096;
/// Fence events a file may have reserved and not yet read: 512.
pub const MAX_PENDING_FENCE_EVENTS: u32 = DRM_EVENT_SPACE / FENCE_EVENT_LEN;

/// Default cap on `num_bo_handles`: 131072 (etnaviv's `nr_bos` limit).
///
/// Upstream has none: it passes the count to `kvmalloc_array` (handles) and to the object
/// array, so 2^32 - 1 handles make `kvmalloc` WARN on a 16 GiB request. Mesa's virgl winsys
/// lists each resource of a command buffer once, and a buffer holds at most 65 K + 1 K dwords
/// (`VIRGL_MAX_CMDBUF_DWORDS`), each handle taking at least a dword, plus the bound resources
/// it re-emits after a flush (about 1300 at Gallium's maxima): under 68 K. Venus passes none.
/// At the cap the arrays are 512 KiB of handles and 1 MiB of object pointers.
pub const MAX_BO_HANDLES: u32 = 1 << 17;

/// Default cap on `num_in_syncobjs` and on `num_out_syncobjs`, each: 4096.
///
/// Upstream has none (one `kvzalloc` per direction; the in-array WARNs from 2^28 entries). Mesa's venus and
/// virgl pass no syncobjs; the native-context winsys (`vdrm_virtgpu.c`) passes one per wait or
/// signal semaphore of a submission. xe caps the same thing at 1024 (`DRM_XE_MAX_SYNCS`);
/// this is four times that and keeps both of upstream's arrays under 100 KiB.
pub const MAX_SYNCOBJS: u32 = 1 << 12;

/// The caps [`execbuffer`] applies on top of upstream's checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SubmitLimits {
    /// Largest command stream (`size`), in bytes.
    pub max_cmd_size: u32,
    /// Most `bo_handles`.
    pub max_bo_handles: u32,
    /// Most syncobjs in each direction.
    pub max_syncobjs: u32,
}

impl SubmitLimits {
    /// [`MAX_CMD_SIZE`] (shared with RESOURCE_CREATE_BLOB's inline command: Mesa's virgl flushes
    /// at 260 KiB, venus sends its bulk through a shared-memory ring and submits only small
    /// streams here), [`MAX_BO_HANDLES`] and [`MAX_SYNCOBJS`].
    pub const DEFAULT: Self = Self {
        max_cmd_size: MAX_CMD_SIZE,
        max_bo_handles: MAX_BO_HANDLES,
        max_syncobjs: MAX_SYNCOBJS,
    };
}

impl Default for SubmitLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// What EXECBUFFER needs to know about the file's context.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ContextView {
    /// The capset CONTEXT_INIT chose; `None` for the default virgl context (no CONTEXT_INIT,
    /// or one without CAPSET_ID). Upstream does not look at it: EXECBUFFER on a file without
    /// CONTEXT_INIT creates the default context and submits to it.
    pub capset_id: Option<u32>,
    /// Rings (fence timelines) of the context: 0 without NUM_RINGS, at most 64.
    pub num_rings: u32,
    /// Rings whose fences send [`EVENT_FENCE_SIGNALED`] to the file (`ring_idx_mask`).
    pub poll_rings_mask: u64,
}

impl ContextView {
    /// The view of a context created by CONTEXT_INIT with `p`.
    pub const fn from_params(p: &ContextParams) -> Self {
        Self {
            capset_id: p.capset_id,
            num_rings: p.num_rings,
            poll_rings_mask: p.poll_rings_mask,
        }
    }
}

impl From<&ContextParams> for ContextView {
    fn from(p: &ContextParams) -> Self {
        Self::from_params(p)
    }
}

/// The fence timeline a submission is fenced on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timeline {
    /// The timeline of submissions without RING_IDX. Upstream shares one dma-fence context
    /// between all files; this driver gives each file its own, because it queues each file's
    /// submissions separately and one shared context could then signal out of order. The
    /// command carries no ring.
    Device,
    /// Ring `n` (below 64) of the file's context: dma-fence context `base + n`; the command
    /// carries `VIRTIO_GPU_FLAG_INFO_RING_IDX` and `ring_idx = n`.
    Ring(u8),
}

impl Timeline {
    /// The `ring_idx` to put in the command header (with `FLAG_INFO_RING_IDX`), if any; what
    /// `CtrlHdr::with_fence` takes.
    pub const fn ring_idx(self) -> Option<u8> {
        match self {
            Timeline::Device => None,
            Timeline::Ring(r) => Some(r),
        }
    }

    /// The dma-fence context of the timeline, given the context of submissions without ring
    /// and the first of the file's ring contexts (upstream: `base_fence_ctx + ring_idx`).
    /// `None` on overflow, which `dma_fence_context_alloc` never hands out.
    pub fn fence_context(self, device_ctx: u64, base_ctx: u64) -> Option<u64> {
        match self {
            Timeline::Device => Some(device_ctx),
            Timeline::Ring(r) => base_ctx.checked_add(u64::from(r)),
        }
    }
}

/// `min(stride, 16)`: how much of each element upstream copies.
fn desc_copy_len(stride: u32) -> usize {
    usize::try_from(stride).map_or(SYNCOBJ_DESC_SIZE, |s| s.min(SYNCOBJ_DESC_SIZE))
}

/// An array of `struct drm_virtgpu_execbuffer_syncobj` in user memory.
///
/// Upstream reads element `i` at `addr + i * stride` and copies `min(stride, 16)` bytes of it
/// into a zeroed descriptor, so any stride is accepted: a larger one skips the bytes it does
/// not know (room for a larger struct later), a smaller one leaves the remaining fields zero
/// (stride 0 reads nothing, giving handle 0, which the lookups then refuse).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncobjArray {
    /// User address of the first element.
    pub addr: u64,
    /// Number of elements.
    pub count: u32,
    /// Distance between elements (`syncobj_stride`).
    pub stride: u32,
}

impl SyncobjArray {
    /// Whether there is nothing to copy.
    pub const fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Bytes to copy per element: `min(stride, 16)`.
    pub fn copy_len(&self) -> usize {
        desc_copy_len(self.stride)
    }

    /// User address of element `index`; `None` if `index >= count` or the address wraps
    /// (upstream's copy would fault there: answer `EFAULT`).
    pub fn element_addr(&self, index: u32) -> Option<u64> {
        if index >= self.count {
            return None;
        }
        let off = u64::from(index).checked_mul(u64::from(self.stride))?;
        let addr = self.addr.checked_add(off)?;
        // The bytes copied must not wrap either.
        addr.checked_add(u64::try_from(self.copy_len()).ok()?)?;
        Some(addr)
    }

    /// Bytes from `addr` that cover every element, for one bulk copy: `(count - 1) * stride +
    /// min(stride, 16)`, 0 when empty. `None` if the range wraps the address space (`EFAULT`).
    /// With a large stride this is much more than the descriptors themselves: copy element by
    /// element then, as upstream does.
    pub fn span(&self) -> Option<u64> {
        let Some(last) = self.count.checked_sub(1) else {
            return Some(0);
        };
        let len = u64::from(last)
            .checked_mul(u64::from(self.stride))?
            .checked_add(u64::try_from(self.copy_len()).ok()?)?;
        self.addr.checked_add(len)?;
        Some(len)
    }
}

/// A validated EXECBUFFER: what to copy, what to wait for, what to create.
///
/// The driver continues in upstream's order (`virtio_gpu_execbuffer_ioctl`), each step with
/// its errno:
/// 1. create the file's context if it does not exist yet (the default virgl one);
/// 2. if [`out_fence`](Self::out_fence): allocate the fence (`ENOMEM`); if
///    [`fence_event`](Self::fence_event): reserve [`FENCE_EVENT_LEN`] of the file's event space
///    (`ENOMEM` when full);
/// 3. copy [`bo_handles_len`](Self::bo_handles_len) bytes of handles (`EFAULT`) and look them
///    up (`ENOENT`);
/// 4. copy [`cmd_size`](Self::cmd_size) bytes of command (`EFAULT`);
/// 5. if [`out_fence_fd`](Self::out_fence_fd): reserve an fd (`EMFILE`) and create the
///    sync_file (`ENOMEM`);
/// 6. out-syncobjs, in order: copy (`EFAULT`), [`SyncobjRef::signal`] (`EINVAL`), find the
///    syncobj (`EINVAL`, not `ENOENT`), a fence chain for a timeline point (`ENOMEM`);
/// 7. in-syncobjs, in order: copy (`EFAULT`), [`SyncobjRef::wait`] (`EINVAL`),
///    `drm_syncobj_find_fence` (`ENOENT` without the syncobj, `EINVAL` without a fence), the
///    wait (`ERESTARTSYS`), with RESET find the syncobj again (`EINVAL`);
/// 8. with [`in_fence_fd`](Self::in_fence_fd): `sync_file_get_fence` (`EINVAL` for anything
///    but a sync_file, negative fds included), then the wait;
/// 9. lock the objects' reservations (`EINTR`; a handle listed twice is `EALREADY` from
///    `drm_gem_lock_reservations`, Mesa's virgl never repeats one), queue, notify; install the
///    fd and write it to `fence_fd`; attach the fence to the out-syncobjs; reset the RESET
///    in-syncobjs.
///
/// Upstream waits (steps 7 and 8) skip fences of the submission's own dma-fence context,
/// which the host orders itself ([`Timeline::fence_context`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExecPlan {
    /// Bytes of command stream to copy from `command` and send in `SUBMIT_3D`. May be 0 (venus
    /// submits empty streams just to get a fence) or not a multiple of 4 (the host's decoder
    /// owns the stream format; upstream forwards it as is).
    pub cmd_size: u32,
    /// Number of GEM handles at `bo_handles`.
    pub num_bo_handles: u32,
    /// Bytes to copy from `bo_handles` (4 per handle).
    pub bo_handles_len: usize,
    /// FENCE_FD_IN: the fd whose sync_file to wait for.
    pub in_fence_fd: Option<i32>,
    /// FENCE_FD_OUT: create a sync_file of the submission's fence and write its fd to
    /// `fence_fd` (which is otherwise left alone).
    pub out_fence_fd: bool,
    /// The timeline the submission's fence is on.
    pub timeline: Timeline,
    /// The fence sends [`EVENT_FENCE_SIGNALED`] to the file when it signals: RING_IDX on a ring
    /// in the context's POLL_RINGS_MASK (never without RING_IDX).
    pub fence_event: bool,
    /// Upstream fences the submission only if something observes the fence: an out fd, an
    /// out-syncobj, a bo (whose reservation gets the fence) or an event. Otherwise the command
    /// goes out unfenced. A driver that tracks all work may fence every submission.
    pub out_fence: bool,
    /// Syncobjs to wait for (`in_syncobjs`).
    pub in_syncobjs: SyncobjArray,
    /// Syncobjs to signal (`out_syncobjs`).
    pub out_syncobjs: SyncobjArray,
    /// The stream goes to the default virgl context ([`ContextView::capset_id`] is `None`).
    pub default_context: bool,
}

/// Validates DRM_IOCTL_VIRTGPU_EXECBUFFER and plans the submission.
///
/// Upstream, in order: no VIRGL is `ENOSYS` (whatever the arguments); flags outside
/// [`EXECBUF_FLAGS`] are `EINVAL`; with RING_IDX, `ring_idx >= num_rings` is `EINVAL` (so is a
/// context without rings, which upstream also refuses for lacking `base_fence_ctx`). Without
/// RING_IDX, `ring_idx` is ignored. `size` 0 is valid, and so is any `syncobj_stride` (see
/// [`SyncobjArray`]); `fence_fd` is only read with FENCE_FD_IN (see [`ExecPlan`] for when it is
/// checked); pointers are only used by the copies.
///
/// Stricter, only for inputs that passed the above: `size` above `limits.max_cmd_size`,
/// `num_bo_handles` above `limits.max_bo_handles`, or either syncobj count above
/// `limits.max_syncobjs` is `ENOMEM`, the errno upstream returns when such an allocation
/// fails (upstream tries them, and WARNs in `kvmalloc` above `INT_MAX` bytes). A context
/// claiming more than 64 rings (CONTEXT_INIT never makes one) has only its first 64 usable.
///
/// # Errors
///
/// `ENOSYS`, `EINVAL` or `ENOMEM` as above.
pub fn execbuffer(
    caps: &DeviceCaps,
    ctx: &ContextView,
    args: &DrmVirtgpuExecbuffer,
    limits: &SubmitLimits,
) -> Result<ExecPlan, Errno> {
    // Upstream's checks.
    if !caps.virgl_3d {
        return Err(Errno::NoSys);
    }
    if args.flags & !EXECBUF_FLAGS != 0 {
        return Err(Errno::Inval);
    }
    let timeline = if args.flags & EXECBUF_RING_IDX != 0 {
        if args.ring_idx >= ctx.num_rings || u64::from(args.ring_idx) >= MAX_RINGS {
            return Err(Errno::Inval);
        }
        Timeline::Ring(u8::try_from(args.ring_idx).map_err(|_| Errno::Inval)?)
    } else {
        Timeline::Device
    };

    // Stricter checks.
    if args.size > limits.max_cmd_size
        || args.num_bo_handles > limits.max_bo_handles
        || args.num_in_syncobjs > limits.max_syncobjs
        || args.num_out_syncobjs > limits.max_syncobjs
    {
        return Err(Errno::NoMem);
    }
    let bo_handles_len = usize::try_from(args.num_bo_handles)
        .ok()
        .and_then(|n| n.checked_mul(core::mem::size_of::<u32>()))
        .ok_or(Errno::NoMem)?;

    let fence_event = match timeline {
        Timeline::Device => false,
        Timeline::Ring(r) => match 1u64.checked_shl(u32::from(r)) {
            Some(bit) => ctx.poll_rings_mask & bit != 0,
            None => false,
        },
    };
    let out_fence_fd = args.flags & EXECBUF_FENCE_FD_OUT != 0;
    let out_fence =
        out_fence_fd || args.num_out_syncobjs != 0 || args.num_bo_handles != 0 || fence_event;
    let in_fence_fd = if args.flags & EXECBUF_FENCE_FD_IN != 0 {
        Some(args.fence_fd)
    } else {
        None
    };
    Ok(ExecPlan {
        cmd_size: args.size,
        num_bo_handles: args.num_bo_handles,
        bo_handles_len,
        in_fence_fd,
        out_fence_fd,
        timeline,
        fence_event,
        out_fence,
        in_syncobjs: SyncobjArray {
            addr: args.in_syncobjs,
            count: args.num_in_syncobjs,
            stride: args.syncobj_stride,
        },
        out_syncobjs: SyncobjArray {
            addr: args.out_syncobjs,
            count: args.num_out_syncobjs,
            stride: args.syncobj_stride,
        },
        default_context: ctx.capset_id.is_none(),
    })
}

// ---------------------------------------------------------------------------------------
// Syncobj descriptors

/// A `struct drm_virtgpu_execbuffer_syncobj` as copied from userspace, not yet checked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncobjRef {
    /// The syncobj's handle in the file.
    pub handle: u32,
    /// `VIRTGPU_EXECBUF_SYNCOBJ_*`.
    pub flags: u32,
    /// Timeline point; 0 for a binary syncobj.
    pub point: u64,
}

/// A checked in-syncobj: wait for its fence (at `point`) before running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyncobjWait {
    /// The syncobj's handle.
    pub handle: u32,
    /// Point to wait for (0: the syncobj's current fence).
    pub point: u64,
    /// Empty the syncobj once the submission is queued (SYNCOBJ_RESET).
    pub reset: bool,
}

/// A checked out-syncobj: gets the submission's fence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyncobjSignal {
    /// The syncobj's handle.
    pub handle: u32,
    /// Point to add (`drm_syncobj_add_point`, needs a fence chain); 0 replaces the syncobj's
    /// fence (`drm_syncobj_replace_fence`).
    pub point: u64,
}

impl SyncobjSignal {
    /// Whether the fence is added as a timeline point rather than replacing the fence.
    pub const fn is_timeline(&self) -> bool {
        self.point != 0
    }
}

impl SyncobjRef {
    /// Checks an in-syncobj (upstream `virtio_gpu_parse_deps`).
    ///
    /// # Errors
    ///
    /// `EINVAL` for flags outside [`EXECBUF_SYNCOBJ_FLAGS`].
    pub const fn wait(&self) -> Result<SyncobjWait, Errno> {
        if self.flags & !EXECBUF_SYNCOBJ_FLAGS != 0 {
            return Err(Errno::Inval);
        }
        Ok(SyncobjWait {
            handle: self.handle,
            point: self.point,
            reset: self.flags & EXECBUF_SYNCOBJ_RESET != 0,
        })
    }

    /// Checks an out-syncobj (upstream `virtio_gpu_parse_post_deps`).
    ///
    /// # Errors
    ///
    /// `EINVAL` for any flag, RESET included.
    pub const fn signal(&self) -> Result<SyncobjSignal, Errno> {
        if self.flags != 0 {
            return Err(Errno::Inval);
        }
        Ok(SyncobjSignal {
            handle: self.handle,
            point: self.point,
        })
    }
}

/// Decodes element `index` of a syncobj array copied from userspace into `bytes`.
///
/// The element starts at `index * stride`; `min(stride, 16)` bytes of it are read and the
/// rest of the descriptor is zero, as upstream's copy does. The fields are in the CPU's byte
/// order (it is a UAPI struct, not a virtio one). `bytes` may be the whole array (a bulk copy
/// of [`SyncobjArray::span`] bytes) or one element copied alone (then `index` is 0).
///
/// Returns `None` if `bytes` is too short for the element or the offset overflows.
pub fn parse_syncobj(bytes: &[u8], stride: u32, index: usize) -> Option<SyncobjRef> {
    let len = desc_copy_len(stride);
    let start = index.checked_mul(usize::try_from(stride).ok()?)?;
    let src = bytes.get(start..start.checked_add(len)?)?;
    let mut d = [0u8; SYNCOBJ_DESC_SIZE];
    for (to, from) in d.iter_mut().zip(src) {
        *to = *from;
    }
    Some(SyncobjRef {
        handle: u32::from_ne_bytes([d[0], d[1], d[2], d[3]]),
        flags: u32::from_ne_bytes([d[4], d[5], d[6], d[7]]),
        point: u64::from_ne_bytes([d[8], d[9], d[10], d[11], d[12], d[13], d[14], d[15]]),
    })
}

// ---------------------------------------------------------------------------------------
// Fences

/// Hands out fence ids: one counter for the whole device, as upstream
/// (`fence_drv.current_fence_id`).
///
/// Ids start at 1 (a fence's seqno is never 0) and only grow, so the ids of any one timeline
/// (the device's, or one ring of one context) are strictly increasing, which is what both the
/// virtio-gpu spec (fence ids as sequence numbers of a context's ring) and dma-fence contexts
/// require. They are unique device-wide, so a response's fence id names one fence.
///
/// Take the id under the lock that adds the command to the virtqueue, so that ids follow the
/// queue order (upstream: `virtio_gpu_fence_emit` under `ctrlq.qlock`).
///
/// The ids are 64-bit and never wrap: at a billion fences a second they last 584 years;
/// [`FenceSeq::next_id`] answers `None` rather than wrap. Compare them as 64-bit numbers
/// ([`fence_is_later`]), and create the dma-fences with 64-bit seqnos (`dma_fence_init64`):
/// upstream uses `dma_fence_init`, whose `dma_fence_is_later` compares the low 32 bits with
/// wrap-around, which is only right while the fences being compared are less than 2^31 apart.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FenceSeq {
    last: u64,
}

impl FenceSeq {
    /// A counter that has handed out nothing yet.
    pub const fn new() -> Self {
        Self { last: 0 }
    }

    /// A counter whose last id was `last`.
    pub const fn resume_after(last: u64) -> Self {
        Self { last }
    }

    /// The next fence id; `None` once `u64::MAX` has been handed out.
    pub fn next_id(&mut self) -> Option<u64> {
        let id = self.last.checked_add(1)?;
        self.last = id;
        Some(id)
    }

    /// The last id handed out (0 if none).
    pub const fn last(&self) -> u64 {
        self.last
    }
}

/// Whether fence id `a` comes after `b` on the same timeline (64-bit, no wrap-around).
pub const fn fence_is_later(a: u64, b: u64) -> bool {
    a > b
}

/// A fence the host has not signalled yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PendingFence {
    /// Its dma-fence context ([`Timeline::fence_context`]).
    pub context: u64,
    /// Its fence id (from [`FenceSeq`]), also its seqno.
    pub id: u64,
}

/// What a response with `VIRTIO_GPU_FLAG_FENCE` and fence id N completes.
///
/// Upstream (`virtio_gpu_fence_event_process`): if the pending fence with id N exists, it and
/// every pending fence of the same dma-fence context with a smaller id signal; if none has id
/// N (already signalled through a later one, or an id the host made up), nothing signals.
/// Fences of other contexts are untouched whatever their ids: each ring and the device
/// timeline complete independently. Signal the completed fences in list (that is, id) order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retire {
    /// The dma-fence context that advanced.
    pub context: u64,
    /// The fence id N of the response.
    pub id: u64,
}

impl Retire {
    /// Finds the pending fence a response with fence id `resp_fence_id` names.
    pub fn find<I: IntoIterator<Item = PendingFence>>(
        resp_fence_id: u64,
        pending: I,
    ) -> Option<Self> {
        pending
            .into_iter()
            .find(|f| f.id == resp_fence_id)
            .map(|f| Self {
                context: f.context,
                id: f.id,
            })
    }

    /// Whether the response completes pending fence `f`.
    pub const fn completes(&self, f: &PendingFence) -> bool {
        f.context == self.context && !fence_is_later(f.id, self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gl() -> DeviceCaps {
        DeviceCaps {
            virgl_3d: true,
            resource_blob: true,
            context_init: true,
            host_visible: true,
            capset_mask: (1 << 1) | (1 << 2) | (1 << 4),
            ..Default::default()
        }
    }

    /// What Mesa's venus sets up: capset 4, 64 rings, no polled ring.
    fn venus_ctx() -> ContextView {
        ContextView {
            capset_id: Some(4),
            num_rings: 64,
            poll_rings_mask: 0,
        }
    }

    /// What Mesa's virgl sets up with CONTEXT_INIT: capset 2, no rings.
    fn virgl_ctx() -> ContextView {
        ContextView {
            capset_id: Some(2),
            ..Default::default()
        }
    }

    fn check(ctx: &ContextView, a: &DrmVirtgpuExecbuffer) -> Result<ExecPlan, Errno> {
        execbuffer(&gl(), ctx, a, &SubmitLimits::DEFAULT)
    }

    #[test]
    fn constants_match_the_header() {
        assert_eq!(EXECBUF_FLAGS, 0x7);
        assert_eq!(EXECBUF_SYNCOBJ_FLAGS, 0x1);
        assert_eq!(MAX_PENDING_FENCE_EVENTS, 512);
        assert_eq!(SubmitLimits::default(), SubmitLimits::DEFAULT);
        assert_eq!(SubmitLimits::DEFAULT.max_cmd_size, 1 << 20);
    }

    #[test]
    fn mesa_venus_submissions() {
        // The CPU-ring fence venus takes at start-up: no stream, no bos.
        let cpu = DrmVirtgpuExecbuffer {
            flags: EXECBUF_RING_IDX | EXECBUF_FENCE_FD_OUT,
            ring_idx: 0,
            ..Default::default()
        };
        let p = check(&venus_ctx(), &cpu).unwrap();
        assert_eq!(p.cmd_size, 0);
        assert_eq!(p.timeline, Timeline::Ring(0));
        assert!(p.out_fence && p.out_fence_fd && !p.fence_event);
        assert_eq!(p.in_fence_fd, None);
        assert!(!p.default_context);
        // A queue batch on ring 5 without syncs: unfenced, as upstream.
        let batch = DrmVirtgpuExecbuffer {
            flags: EXECBUF_RING_IDX,
            size: 96,
            command: 0x1000,
            ring_idx: 5,
            ..Default::default()
        };
        let p = check(&venus_ctx(), &batch).unwrap();
        assert_eq!((p.cmd_size, p.timeline), (96, Timeline::Ring(5)));
        assert!(!p.out_fence);
        // The highest ring.
        let last = DrmVirtgpuExecbuffer {
            ring_idx: 63,
            ..batch
        };
        assert_eq!(
            check(&venus_ctx(), &last).unwrap().timeline,
            Timeline::Ring(63)
        );
    }

    #[test]
    fn mesa_virgl_submission() {
        // Both fence fds, three bos, no rings; a poll mask would not matter without RING_IDX.
        let a = DrmVirtgpuExecbuffer {
            flags: EXECBUF_FENCE_FD_IN | EXECBUF_FENCE_FD_OUT,
            size: 4 * 100,
            command: 0x1000,
            bo_handles: 0x2000,
            num_bo_handles: 3,
            fence_fd: 7,
            ..Default::default()
        };
        let p = check(&virgl_ctx(), &a).unwrap();
        assert_eq!(p.timeline, Timeline::Device);
        assert_eq!(p.in_fence_fd, Some(7));
        assert!(p.out_fence_fd && p.out_fence && !p.fence_event);
        assert_eq!((p.num_bo_handles, p.bo_handles_len), (3, 12));
        // Without CONTEXT_INIT: the default context.
        let p = check(&ContextView::default(), &a).unwrap();
        assert!(p.default_context);
        assert_eq!(p.timeline, Timeline::Device);
    }

    #[test]
    fn native_context_syncobjs() {
        // vdrm: RING_IDX, stride 16, syncobjs in both directions.
        let a = DrmVirtgpuExecbuffer {
            flags: EXECBUF_RING_IDX,
            size: 64,
            ring_idx: 1,
            syncobj_stride: 16,
            num_in_syncobjs: 2,
            num_out_syncobjs: 1,
            in_syncobjs: 0x3000,
            out_syncobjs: 0x4000,
            ..Default::default()
        };
        let p = check(&venus_ctx(), &a).unwrap();
        assert!(p.out_fence);
        assert_eq!(
            p.in_syncobjs,
            SyncobjArray {
                addr: 0x3000,
                count: 2,
                stride: 16
            }
        );
        assert_eq!(
            p.out_syncobjs,
            SyncobjArray {
                addr: 0x4000,
                count: 1,
                stride: 16
            }
        );
        // In-syncobjs alone do not need a fence.
        let only_in = DrmVirtgpuExecbuffer {
            num_out_syncobjs: 0,
            ..a
        };
        assert!(!check(&venus_ctx(), &only_in).unwrap().out_fence);
    }

    #[test]
    fn every_flag_combination() {
        let ctx = ContextView {
            capset_id: Some(4),
            num_rings: 4,
            poll_rings_mask: 0b0100,
        };
        for flags in 0..8u32 {
            for ring_idx in 0..6u32 {
                let a = DrmVirtgpuExecbuffer {
                    flags,
                    ring_idx,
                    fence_fd: -1,
                    ..Default::default()
                };
                let r = check(&ctx, &a);
                let ring = flags & EXECBUF_RING_IDX != 0;
                if ring && ring_idx >= 4 {
                    assert_eq!(r, Err(Errno::Inval), "{flags:#x} {ring_idx}");
                    continue;
                }
                let p = r.unwrap();
                let event = ring && ring_idx == 2;
                let fd_out = flags & EXECBUF_FENCE_FD_OUT != 0;
                assert_eq!(p.fence_event, event);
                assert_eq!(p.out_fence_fd, fd_out);
                assert_eq!(p.out_fence, fd_out || event);
                let want_in = (flags & EXECBUF_FENCE_FD_IN != 0).then_some(-1);
                assert_eq!(p.in_fence_fd, want_in);
                let want_tl = if ring {
                    Timeline::Ring(u8::try_from(ring_idx).unwrap())
                } else {
                    Timeline::Device
                };
                assert_eq!(p.timeline, want_tl);
            }
        }
    }

    #[test]
    fn upstream_errnos() {
        let ok = DrmVirtgpuExecbuffer::default();
        // No VIRGL: ENOSYS before anything else.
        let two_d = DeviceCaps::default();
        let l = SubmitLimits::DEFAULT;
        assert_eq!(execbuffer(&two_d, &venus_ctx(), &ok, &l), Err(Errno::NoSys));
        let bad = DrmVirtgpuExecbuffer {
            flags: u32::MAX,
            size: u32::MAX,
            ..ok
        };
        assert_eq!(
            execbuffer(&two_d, &venus_ctx(), &bad, &l),
            Err(Errno::NoSys)
        );
        // Unknown flags, one bit at a time.
        for bit in 3..32 {
            let a = DrmVirtgpuExecbuffer {
                flags: 1 << bit,
                ..ok
            };
            assert_eq!(check(&venus_ctx(), &a), Err(Errno::Inval), "bit {bit}");
        }
        // RING_IDX without rings (no CONTEXT_INIT, or CONTEXT_INIT without NUM_RINGS).
        let ring0 = DrmVirtgpuExecbuffer {
            flags: EXECBUF_RING_IDX,
            ..ok
        };
        assert_eq!(check(&ContextView::default(), &ring0), Err(Errno::Inval));
        assert_eq!(check(&virgl_ctx(), &ring0), Err(Errno::Inval));
        // ring_idx at or past num_rings.
        let one = ContextView {
            num_rings: 1,
            ..venus_ctx()
        };
        assert!(check(&one, &ring0).is_ok());
        for ring_idx in [1, 63, 64, 255, 256, u32::MAX] {
            let a = DrmVirtgpuExecbuffer { ring_idx, ..ring0 };
            assert_eq!(check(&one, &a), Err(Errno::Inval), "{ring_idx}");
        }
        for ring_idx in [64, 256, u32::MAX] {
            let a = DrmVirtgpuExecbuffer { ring_idx, ..ring0 };
            assert_eq!(check(&venus_ctx(), &a), Err(Errno::Inval), "{ring_idx}");
        }
        // Without RING_IDX, ring_idx is ignored.
        let ignored = DrmVirtgpuExecbuffer {
            ring_idx: u32::MAX,
            ..ok
        };
        assert_eq!(
            check(&ContextView::default(), &ignored).unwrap().timeline,
            Timeline::Device
        );
        // Upstream's checks win over the caps.
        let both = DrmVirtgpuExecbuffer {
            flags: 0x8,
            size: u32::MAX,
            num_bo_handles: u32::MAX,
            ..ok
        };
        assert_eq!(check(&venus_ctx(), &both), Err(Errno::Inval));
        let both = DrmVirtgpuExecbuffer {
            flags: EXECBUF_RING_IDX,
            ring_idx: 64,
            size: u32::MAX,
            ..ok
        };
        assert_eq!(check(&venus_ctx(), &both), Err(Errno::Inval));
    }

    #[test]
    fn upstream_accepts() {
        // Size 0, any stride, garbage pointers and fds without their flags.
        let a = DrmVirtgpuExecbuffer {
            command: u64::MAX,
            bo_handles: u64::MAX,
            fence_fd: i32::MIN,
            syncobj_stride: u32::MAX,
            in_syncobjs: u64::MAX,
            out_syncobjs: u64::MAX,
            ..Default::default()
        };
        let p = check(&venus_ctx(), &a).unwrap();
        assert_eq!(p.in_fence_fd, None);
        assert!(!p.out_fence);
        // A stream that is not a multiple of 4.
        let odd = DrmVirtgpuExecbuffer {
            size: 7,
            ..Default::default()
        };
        assert_eq!(check(&venus_ctx(), &odd).unwrap().cmd_size, 7);
        // FENCE_FD_IN with a negative fd: refused later, by sync_file_get_fence.
        let neg = DrmVirtgpuExecbuffer {
            flags: EXECBUF_FENCE_FD_IN,
            fence_fd: -1,
            ..Default::default()
        };
        assert_eq!(check(&venus_ctx(), &neg).unwrap().in_fence_fd, Some(-1));
        // Syncobj counts with stride 0.
        let zero = DrmVirtgpuExecbuffer {
            num_in_syncobjs: 3,
            ..Default::default()
        };
        assert_eq!(check(&venus_ctx(), &zero).unwrap().in_syncobjs.stride, 0);
    }

    #[test]
    fn caps() {
        let l = SubmitLimits::DEFAULT;
        let ctx = venus_ctx();
        let at = |a: DrmVirtgpuExecbuffer| check(&ctx, &a);
        let d = DrmVirtgpuExecbuffer::default();
        assert!(at(DrmVirtgpuExecbuffer {
            size: l.max_cmd_size,
            ..d
        })
        .is_ok());
        for size in [l.max_cmd_size + 1, u32::MAX] {
            assert_eq!(at(DrmVirtgpuExecbuffer { size, ..d }), Err(Errno::NoMem));
        }
        let p = at(DrmVirtgpuExecbuffer {
            num_bo_handles: MAX_BO_HANDLES,
            ..d
        })
        .unwrap();
        assert_eq!(p.bo_handles_len, 512 << 10);
        for num_bo_handles in [MAX_BO_HANDLES + 1, u32::MAX] {
            assert_eq!(
                at(DrmVirtgpuExecbuffer {
                    num_bo_handles,
                    ..d
                }),
                Err(Errno::NoMem)
            );
        }
        for n in [MAX_SYNCOBJS, MAX_SYNCOBJS + 1, u32::MAX] {
            let want = if n <= MAX_SYNCOBJS {
                Ok(())
            } else {
                Err(Errno::NoMem)
            };
            let inn = DrmVirtgpuExecbuffer {
                num_in_syncobjs: n,
                ..d
            };
            let out = DrmVirtgpuExecbuffer {
                num_out_syncobjs: n,
                ..d
            };
            assert_eq!(at(inn).map(|_| ()), want);
            assert_eq!(at(out).map(|_| ()), want);
        }
        // Custom limits, down to nothing.
        let none = SubmitLimits {
            max_cmd_size: 0,
            max_bo_handles: 0,
            max_syncobjs: 0,
        };
        let one = DrmVirtgpuExecbuffer { size: 1, ..d };
        assert_eq!(execbuffer(&gl(), &ctx, &one, &none), Err(Errno::NoMem));
        assert!(execbuffer(&gl(), &ctx, &d, &none).is_ok());
    }

    #[test]
    fn poll_rings() {
        let ctx = ContextView {
            capset_id: Some(4),
            num_rings: 64,
            poll_rings_mask: (1 << 63) | 1,
        };
        let on = |ring_idx| {
            let a = DrmVirtgpuExecbuffer {
                flags: EXECBUF_RING_IDX,
                ring_idx,
                ..Default::default()
            };
            let p = check(&ctx, &a).unwrap();
            assert_eq!(p.out_fence, p.fence_event);
            p.fence_event
        };
        assert!(on(0));
        assert!(on(63));
        assert!(!on(1));
        assert!(!on(62));
        // A view with a mask but more rings than the UAPI allows: ring 64 is still refused.
        let wide = ContextView {
            num_rings: 200,
            poll_rings_mask: u64::MAX,
            ..ctx
        };
        let a = DrmVirtgpuExecbuffer {
            flags: EXECBUF_RING_IDX,
            ring_idx: 64,
            ..Default::default()
        };
        assert_eq!(check(&wide, &a), Err(Errno::Inval));
    }

    #[test]
    fn context_view_from_params() {
        let p = ContextParams {
            capset_id: Some(4),
            num_rings: 64,
            poll_rings_mask: 3,
            debug_name: None,
        };
        let v = ContextView::from(&p);
        assert_eq!(
            v,
            ContextView {
                capset_id: Some(4),
                num_rings: 64,
                poll_rings_mask: 3
            }
        );
        assert_eq!(
            ContextView::from_params(&ContextParams::default()),
            ContextView::default()
        );
    }

    #[test]
    fn timelines() {
        assert_eq!(Timeline::Device.ring_idx(), None);
        assert_eq!(Timeline::Ring(7).ring_idx(), Some(7));
        assert_eq!(Timeline::Device.fence_context(10, 100), Some(10));
        assert_eq!(Timeline::Ring(0).fence_context(10, 100), Some(100));
        assert_eq!(Timeline::Ring(63).fence_context(10, 100), Some(163));
        assert_eq!(Timeline::Ring(1).fence_context(10, u64::MAX), None);
        assert_eq!(Timeline::Device.fence_context(10, u64::MAX), Some(10));
    }

    // Syncobjs -----------------------------------------------------------------------------

    fn desc(handle: u32, flags: u32, point: u64, stride: usize) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&handle.to_ne_bytes());
        v.extend_from_slice(&flags.to_ne_bytes());
        v.extend_from_slice(&point.to_ne_bytes());
        v.resize(stride.max(16), 0xee);
        v.truncate(stride);
        v
    }

    #[test]
    fn parse_stride_16_and_larger() {
        for stride in [16usize, 20, 24, 64, 4096] {
            let mut b = desc(1, 0, 0, stride);
            b.extend(desc(2, EXECBUF_SYNCOBJ_RESET, 42, stride));
            b.extend(desc(3, 0, u64::MAX, stride));
            let s = u32::try_from(stride).unwrap();
            assert_eq!(
                parse_syncobj(&b, s, 0),
                Some(SyncobjRef {
                    handle: 1,
                    flags: 0,
                    point: 0
                })
            );
            assert_eq!(
                parse_syncobj(&b, s, 1),
                Some(SyncobjRef {
                    handle: 2,
                    flags: EXECBUF_SYNCOBJ_RESET,
                    point: 42
                })
            );
            assert_eq!(parse_syncobj(&b, s, 2).unwrap().point, u64::MAX);
            assert_eq!(parse_syncobj(&b, s, 3), None);
            // The last element only needs its first 16 bytes.
            let short = &b[..2 * stride + 16];
            assert_eq!(parse_syncobj(short, s, 2).unwrap().handle, 3);
            assert_eq!(parse_syncobj(&b[..2 * stride + 15], s, 2), None);
        }
    }

    #[test]
    fn parse_small_strides() {
        let full = desc(0x0403_0201, 0x0807_0605, 0x100f_0e0d_0c0b_0a09, 16);
        let f = |stride: u32| parse_syncobj(&full, stride, 0).unwrap();
        // Upstream copies min(stride, 16) bytes into a zeroed descriptor.
        assert_eq!(f(16).point, 0x100f_0e0d_0c0b_0a09);
        let s8 = f(8);
        assert_eq!(
            (s8.handle, s8.flags, s8.point),
            (0x0403_0201, 0x0807_0605, 0)
        );
        let s4 = f(4);
        assert_eq!((s4.handle, s4.flags, s4.point), (0x0403_0201, 0, 0));
        assert_eq!(f(0), SyncobjRef::default());
        // A partial handle keeps its first bytes, in memory order.
        let mut want = [0u8; 4];
        want[..2].copy_from_slice(&full[..2]);
        assert_eq!(f(2).handle, u32::from_ne_bytes(want));
        // Stride 0: every index reads the same (empty) bytes.
        assert_eq!(
            parse_syncobj(&[], 0, usize::MAX),
            Some(SyncobjRef::default())
        );
        // Element 1 with stride 8 is the second half of the buffer.
        let e1 = parse_syncobj(&full, 8, 1).unwrap();
        assert_eq!(
            e1.handle,
            u32::from_ne_bytes(full[8..12].try_into().unwrap())
        );
        assert_eq!(e1.point, 0);
    }

    #[test]
    fn parse_bounds() {
        let b = desc(1, 0, 0, 16);
        assert_eq!(parse_syncobj(&b[..15], 16, 0), None);
        assert_eq!(parse_syncobj(&[], 16, 0), None);
        assert_eq!(parse_syncobj(&b, 16, usize::MAX), None);
        assert_eq!(parse_syncobj(&b, u32::MAX, 2), None);
        assert_eq!(parse_syncobj(&b, u32::MAX, 0).unwrap().handle, 1);
    }

    #[test]
    fn syncobj_flags() {
        let r = |flags, point| SyncobjRef {
            handle: 9,
            flags,
            point,
        };
        // In: RESET or nothing.
        assert_eq!(
            r(0, 5).wait(),
            Ok(SyncobjWait {
                handle: 9,
                point: 5,
                reset: false
            })
        );
        assert!(r(EXECBUF_SYNCOBJ_RESET, 0).wait().unwrap().reset);
        for bit in 1..32 {
            assert_eq!(r(1 << bit, 0).wait(), Err(Errno::Inval), "bit {bit}");
            assert_eq!(
                r(EXECBUF_SYNCOBJ_RESET | (1 << bit), 0).wait(),
                Err(Errno::Inval)
            );
        }
        // Out: no flag at all, not even RESET.
        for bit in 0..32 {
            assert_eq!(r(1 << bit, 0).signal(), Err(Errno::Inval), "bit {bit}");
        }
        let binary = r(0, 0).signal().unwrap();
        assert!(!binary.is_timeline());
        let point = r(0, 7).signal().unwrap();
        assert_eq!(
            point,
            SyncobjSignal {
                handle: 9,
                point: 7
            }
        );
        assert!(point.is_timeline());
    }

    #[test]
    fn syncobj_arrays() {
        let a = SyncobjArray {
            addr: 0x1000,
            count: 3,
            stride: 24,
        };
        assert!(!a.is_empty());
        assert_eq!(a.copy_len(), 16);
        assert_eq!(a.element_addr(0), Some(0x1000));
        assert_eq!(a.element_addr(2), Some(0x1000 + 48));
        assert_eq!(a.element_addr(3), None);
        assert_eq!(a.span(), Some(2 * 24 + 16));
        let small = SyncobjArray { stride: 8, ..a };
        assert_eq!((small.copy_len(), small.span()), (8, Some(24)));
        let zero = SyncobjArray { stride: 0, ..a };
        assert_eq!((zero.copy_len(), zero.span()), (0, Some(0)));
        assert_eq!(zero.element_addr(2), Some(0x1000));
        let empty = SyncobjArray {
            count: 0,
            ..Default::default()
        };
        assert!(empty.is_empty());
        assert_eq!(empty.span(), Some(0));
        assert_eq!(empty.element_addr(0), None);
        // count * stride at their maxima does not overflow u64 ...
        let huge = SyncobjArray {
            addr: 0,
            count: u32::MAX,
            stride: u32::MAX,
        };
        let last = u64::from(u32::MAX - 1) * u64::from(u32::MAX);
        assert_eq!(huge.span(), Some(last + 16));
        assert_eq!(huge.element_addr(u32::MAX - 1), Some(last));
        // ... but the address range can wrap: EFAULT.
        let wraps = SyncobjArray {
            addr: u64::MAX - 100,
            ..huge
        };
        assert_eq!(wraps.span(), None);
        assert_eq!(wraps.element_addr(0), Some(u64::MAX - 100));
        assert_eq!(wraps.element_addr(1), None);
        // The end address must be representable too.
        let edge = SyncobjArray {
            addr: u64::MAX - 16,
            count: 1,
            stride: 16,
        };
        assert_eq!(edge.span(), Some(16));
        assert_eq!(edge.element_addr(0), Some(u64::MAX - 16));
        let over = SyncobjArray {
            addr: u64::MAX - 15,
            ..edge
        };
        assert_eq!(over.span(), None);
        assert_eq!(over.element_addr(0), None);
        // A bulk copy of span() bytes parses element by element.
        let mut b = desc(1, 0, 0, 24);
        b.extend(desc(2, 0, 0, 24));
        b.extend(desc(3, 0, 0, 16));
        assert_eq!(u64::try_from(b.len()).unwrap(), a.span().unwrap());
        for i in 0..3u32 {
            let e = parse_syncobj(&b, a.stride, usize::try_from(i).unwrap()).unwrap();
            assert_eq!(e.handle, i + 1);
        }
    }

    // Fences -------------------------------------------------------------------------------

    #[test]
    fn fence_ids() {
        let mut s = FenceSeq::new();
        assert_eq!(s.last(), 0);
        assert_eq!(s.next_id(), Some(1));
        assert_eq!(s.next_id(), Some(2));
        assert_eq!(s.last(), 2);
        assert_eq!(FenceSeq::default(), FenceSeq::new());
        // Past 32 bits without a hitch.
        let mut s = FenceSeq::resume_after(u64::from(u32::MAX));
        assert_eq!(s.next_id(), Some(1 << 32));
        // Exhaustion: u64::MAX is the last id, then None for good, no wrap to 0.
        let mut s = FenceSeq::resume_after(u64::MAX - 1);
        assert_eq!(s.next_id(), Some(u64::MAX));
        assert_eq!(s.next_id(), None);
        assert_eq!(s.next_id(), None);
        assert_eq!(s.last(), u64::MAX);
    }

    fn pf(context: u64, id: u64) -> PendingFence {
        PendingFence { context, id }
    }

    /// Runs upstream's completion over a pending list; returns the ids signalled, in order.
    fn respond(pending: &mut Vec<PendingFence>, resp: u64) -> Vec<u64> {
        let Some(r) = Retire::find(resp, pending.iter().copied()) else {
            return Vec::new();
        };
        let done = pending
            .iter()
            .filter(|f| r.completes(f))
            .map(|f| f.id)
            .collect();
        pending.retain(|f| !r.completes(f));
        done
    }

    #[test]
    fn retire_same_context_in_order() {
        // Device timeline (context 1) and two rings (10, 11), ids from one counter.
        let mut seq = FenceSeq::new();
        let mut pending = Vec::new();
        for ctx in [1, 10, 1, 11, 10, 1] {
            pending.push(pf(ctx, seq.next_id().unwrap()));
        }
        // ids: 1@1 2@10 3@1 4@11 5@10 6@1
        assert_eq!(respond(&mut pending, 3), vec![1, 3]);
        // Ring 10's response for 5 signals 2 too, nothing of the other contexts.
        assert_eq!(respond(&mut pending, 5), vec![2, 5]);
        // An id that is no longer pending, or never was, signals nothing.
        assert_eq!(respond(&mut pending, 2), Vec::<u64>::new());
        assert_eq!(respond(&mut pending, 0), Vec::<u64>::new());
        assert_eq!(respond(&mut pending, 99), Vec::<u64>::new());
        assert_eq!(pending, vec![pf(11, 4), pf(1, 6)]);
        assert_eq!(respond(&mut pending, 6), vec![6]);
        assert_eq!(respond(&mut pending, 4), vec![4]);
        assert!(pending.is_empty());
    }

    #[test]
    fn retire_out_of_order_responses() {
        let mut pending = vec![pf(7, 1), pf(7, 2), pf(7, 3)];
        // The host answers 3 first: 1 and 2 go with it; their own answers find nothing.
        assert_eq!(respond(&mut pending, 3), vec![1, 2, 3]);
        assert_eq!(respond(&mut pending, 1), Vec::<u64>::new());
        assert_eq!(respond(&mut pending, 2), Vec::<u64>::new());
    }

    #[test]
    fn retire_compares_64_bits() {
        // Fences more than 2^31 apart on one timeline: upstream's 32-bit dma_fence_is_later
        // would not see 1 as earlier than 2^31 + 1 and leave it pending; 64-bit ids do.
        let far = (1u64 << 31) + 1;
        let mut pending = vec![pf(3, 1), pf(3, far)];
        assert_eq!(respond(&mut pending, far), vec![1, far]);
        // Across the 32-bit boundary: 2^32 - 1 is before 2^32 + 1, and 2^32 + 1 (low half 1)
        // is not completed by an earlier fence whose low half is larger.
        let mut pending = vec![pf(3, (1 << 32) - 1), pf(3, (1 << 32) + 1)];
        assert_eq!(respond(&mut pending, (1 << 32) - 1), vec![(1 << 32) - 1]);
        assert_eq!(pending, vec![pf(3, (1 << 32) + 1)]);
        assert!(fence_is_later(1 << 32, u64::from(u32::MAX)));
        assert!(!fence_is_later(5, 5));
        assert!(fence_is_later(u64::MAX, 0));
        // The last possible id completes everything before it on its context.
        let mut pending = vec![pf(3, 1), pf(4, 2), pf(3, u64::MAX)];
        assert_eq!(respond(&mut pending, u64::MAX), vec![1, u64::MAX]);
        assert_eq!(pending, vec![pf(4, 2)]);
    }

    #[test]
    fn retire_find_and_completes() {
        let r = Retire::find(2, [pf(1, 1), pf(5, 2)]).unwrap();
        assert_eq!(r, Retire { context: 5, id: 2 });
        assert!(r.completes(&pf(5, 1)));
        assert!(r.completes(&pf(5, 2)));
        assert!(!r.completes(&pf(5, 3)));
        assert!(!r.completes(&pf(1, 1)));
        assert_eq!(Retire::find(3, [pf(1, 1)]), None);
        assert_eq!(Retire::find(1, core::iter::empty()), None);
    }
}
