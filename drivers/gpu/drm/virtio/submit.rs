// SPDX-License-Identifier: GPL-2.0

//! EXECBUFFER: command submission with fences, without ever blocking the submitter.
//!
//! Each open file has an [`Entity`]: a FIFO of its submissions, in ioctl order. A
//! submission whose dependencies (in-fence fd, in-syncobjs) have all signalled and that has
//! nothing queued ahead goes straight to the virtqueue from the ioctl. Otherwise it waits
//! in the FIFO: the entity registers a callback on the first pending dependency of its
//! head, and the callback queues the entity's work, which sends whatever became ready, in
//! order, notifying the device once per batch. The host thus sees a file's commands in the
//! order they were submitted (Mesa relies on it), and the ioctl returns at once either way.
//! Upstream instead waits in the ioctl (`dma_fence_wait` on foreign in-fences).
//!
//! Fences: a file has one dma-fence context for submissions without RING_IDX and one per
//! ring, allocated at open; seqnos are taken in FIFO order, so each context signals in
//! order. (Upstream shares one context between all files for submissions without
//! RING_IDX; with a per-file FIFO that could signal out of order across files.) The
//! device-wide fence ids the host sees are given when a command enters the virtqueue
//! (`CmdQueue::queue_ready`), so they grow in ring order as QEMU expects.
//!
//! What a submission holds until its fence signals (its objects, the fence event) is kept
//! by the entity and released by the entity's work in process context: an object closed
//! while a submission uses it lives until then.

use crate::ext::{
    dma_fence::{
        self, Fence, FenceCallback, FenceNames, FenceNotify, FenceOps, Signaller, SyncFile,
    },
    drm::PendingEvent,
    gem::{ResvLocked, ResvUsage},
    syncobj::{self, FenceChain, Syncobj},
    virtio::ReqBuf,
    workqueue::ModuleQueue,
};
use crate::object::VgObject;
use crate::proto::{
    submit::{self as psub, SubmitLimits, Timeline},
    uapi::DrmVirtgpuExecbuffer,
    validate::Errno,
    wire,
};
use crate::vq::{Ready, ReadyFence, Request, CMD_TIMEOUT_MS};
use crate::{drv::VirtGpu, VgDevice, VgFile, VirtGpuDrm};
use kernel::{
    alloc::flags::__GFP_NOWARN,
    c_str,
    fs::file::FileDescriptorReservation,
    impl_has_work, new_condvar, new_mutex, new_work,
    prelude::*,
    sync::{aref::ARef, Arc, CondVar, Mutex},
    time::{delay::fsleep, Delta},
    uaccess::{UserPtr, UserSlice},
    workqueue::{Work, WorkItem},
};

/// The queue the entities' work runs on; drained at module exit.
pub(crate) static SUBMIT_WQ: ModuleQueue = ModuleQueue::new();

pub(crate) struct VgFences;

impl FenceNames for VgFences {
    const DRIVER: &'static CStr = c_str!("virtio_gpu_rs");
    const TIMELINE: &'static CStr = c_str!("virtio_gpu_ctx");
}

pub(crate) static FENCE_OPS: FenceOps<VgFences> = FenceOps::new();

/// Timelines of a file: the one without RING_IDX, then the 64 rings.
const TIMELINES: usize = 1 + 64;

/// Most submissions a file may have waiting to be sent. Beyond, EXECBUFFER waits
/// (interruptibly) for room, as upstream waits for room in the ring: a client submitting
/// behind a fence that never signals cannot fill kernel memory.
const MAX_QUEUED: usize = 1024;

/// A submission waiting in an entity's FIFO.
struct Job {
    ready: Ready,
    /// Fences to wait for before sending; signalled ones are dropped as they are found.
    deps: KVec<ARef<Fence>>,
}

impl Job {
    /// Gives up on the job: its fence signals with `e`, nothing reaches the host. Callers
    /// make sure the earlier fences of its timeline have signalled (or the device is gone),
    /// so fences still signal in order.
    fn fail(self, e: Error) {
        if let Some(ReadyFence {
            signaller, owner, ..
        }) = self.ready.fence
        {
            signaller.fail(e);
            // Release what it held now, not at the next unrelated signal.
            if let Some(o) = owner {
                Entity::kick(o);
            }
        }
    }
}

/// What a submission keeps alive until its fence signals.
struct Held {
    fence: ARef<Fence>,
    objs: KVec<ARef<VgObject>>,
    event: Option<PendingEvent<VirtGpuDrm>>,
}

struct EntityState {
    /// Submissions not sent yet, oldest first.
    queue: KVec<Job>,
    /// Room for a batch of the whole queue, reserved by the ioctl, so that sending never
    /// allocates (and never drops a job for lack of memory).
    spare: KVec<Ready>,
    /// The work took jobs off the queue and is sending them: the ioctl must not overtake.
    flushing: bool,
    /// The callback on the pending dependency of the queue's head.
    waiting: Option<FenceCallback<Entity>>,
    /// Submissions holding objects or an event whose fence has not been seen signalled.
    held: KVec<Held>,
    /// Last seqno of each timeline.
    seqno: [u64; TIMELINES],
    /// The file is closed: nothing more is sent.
    closed: bool,
}

/// The submission queue of one file.
#[pin_data]
pub(crate) struct Entity {
    gpu: Arc<VirtGpu>,
    ctx_id: u32,
    /// First of the file's [`TIMELINES`] dma-fence contexts.
    fence_base: u64,
    #[pin]
    state: Mutex<EntityState>,
    /// Signalled whenever the work sent a batch or the FIFO emptied, and at close.
    #[pin]
    sent: CondVar,
    #[pin]
    work: Work<Entity>,
}

impl_has_work! {
    impl HasWork<Self> for Entity { self.work }
}

impl WorkItem for Entity {
    type Pointer = Arc<Entity>;

    fn run(this: Arc<Entity>) {
        // Sending first: releasing objects may wait for the host.
        this.advance();
        this.reap();
    }
}

impl FenceNotify for Entity {
    fn notify(this: &Arc<Self>) {
        Self::kick(this.clone());
    }
}

impl Entity {
    pub(crate) fn new(gpu: Arc<VirtGpu>, ctx_id: u32) -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Self {
                gpu,
                ctx_id,
                fence_base: dma_fence::context_alloc(TIMELINES as u32),
                state <- new_mutex!(
                    EntityState {
                        queue: KVec::new(),
                        spare: KVec::new(),
                        flushing: false,
                        waiting: None,
                        held: KVec::new(),
                        seqno: [0; TIMELINES],
                        closed: false,
                    },
                    "virtgpu_entity"
                ),
                sent <- new_condvar!("virtgpu_entity_sent"),
                work <- new_work!("virtgpu_entity_work"),
            }),
            GFP_KERNEL,
        )
    }

    /// Queues the entity's work (any context). A reference dropped here is never the last
    /// one while work is pending, so the entity is never freed in interrupt context.
    pub(crate) fn kick(this: Arc<Self>) {
        match SUBMIT_WQ.get() {
            Some(q) => {
                let _ = q.enqueue(this);
            }
            // Entities only exist between module init and exit.
            None => pr_warn!("virtio_gpu_rs: entity work without a workqueue\n"),
        }
    }

    fn context(&self, t: Timeline) -> u64 {
        match t {
            Timeline::Device => self.fence_base,
            Timeline::Ring(r) => self.fence_base + 1 + u64::from(r),
        }
    }

    fn timeline_index(t: Timeline) -> usize {
        match t {
            Timeline::Device => 0,
            Timeline::Ring(r) => 1 + usize::from(r),
        }
    }

    /// Releases what signalled submissions held, and delivers their events. Objects are
    /// dropped outside the entity's lock: their release may talk to the host.
    fn reap(&self) {
        let done = {
            let mut st = self.state.lock();
            let n = st.held.iter().filter(|h| h.fence.is_signaled()).count();
            if n == 0 {
                return;
            }
            // Without memory, the next run of the work tries again.
            let Ok(mut done) = KVec::with_capacity(n, GFP_KERNEL) else {
                return;
            };
            let mut i = 0;
            while i < st.held.len() && done.len() < n {
                if st.held[i].fence.is_signaled() {
                    if let Ok(h) = st.held.remove(i) {
                        let _ = done.push_within_capacity(h);
                    }
                } else {
                    i += 1;
                }
            }
            done
        };
        for h in done {
            if let Some(ev) = h.event {
                drop(ev.send());
            }
            drop(h.objs);
        }
    }

    /// Sends the jobs at the head of the FIFO whose dependencies signalled.
    fn advance(self: &Arc<Self>) {
        loop {
            let mut block_on = None;
            let mut batch = {
                let mut st = self.state.lock();
                if st.closed || st.flushing {
                    return;
                }
                if let Some(w) = &st.waiting {
                    if !w.fence().is_signaled() {
                        return;
                    }
                }
                st.waiting = None;
                let mut batch = core::mem::take(&mut st.spare);
                while !st.queue.is_empty() {
                    let head = &mut st.queue[0];
                    head.deps.retain(|f| !f.is_signaled());
                    if let Some(dep) = head.deps.first().cloned() {
                        match dep.add_callback(self.clone()) {
                            Ok(Ok(cb)) => st.waiting = Some(cb),
                            // Signalled meanwhile: look again.
                            Ok(Err(_)) => continue,
                            // No memory for a callback: wait for it right here instead.
                            Err(_) => block_on = Some(dep),
                        }
                        break;
                    }
                    let Ok(job) = st.queue.remove(0) else { break };
                    if let Err(e) = batch.push_within_capacity(job.ready) {
                        // Not reached: the ioctl reserved room for every queued job.
                        let _ = st.queue.insert_within_capacity(
                            0,
                            Job {
                                ready: e.0,
                                deps: KVec::new(),
                            },
                        );
                        break;
                    }
                }
                if batch.is_empty() {
                    st.spare = batch;
                    if st.queue.is_empty() {
                        self.sent.notify_all();
                    }
                    if block_on.is_none() {
                        return;
                    }
                    KVec::new()
                } else {
                    st.flushing = true;
                    batch
                }
            };
            if !batch.is_empty() {
                self.send(&mut batch);
                let mut st = self.state.lock();
                st.flushing = false;
                // Keep whichever buffer has more room: the ioctl may have grown the other.
                if batch.capacity() > st.spare.capacity() {
                    st.spare = batch;
                }
                self.sent.notify_all();
                if block_on.is_none() && (st.queue.is_empty() || st.waiting.is_some()) {
                    return;
                }
            }
            if let Some(dep) = block_on {
                // No callback could be allocated: wait here, in bounded steps so that a
                // closing file is noticed, after sending what was ready before it.
                dep.wait_uninterruptible(kernel::time::msecs_to_jiffies(100));
            }
        }
    }

    /// Queues `batch` on the control queue, waiting for room in the ring as long as it
    /// takes (QEMU keeps fenced commands in the ring until they are done: a full ring is
    /// the host's backpressure, as upstream). Only the work sends batches, never the ioctl.
    /// What cannot be sent fails: with the device's error once it is gone, or with
    /// `ECANCELED` if the file was closed meanwhile.
    fn send(&self, batch: &mut KVec<Ready>) {
        loop {
            let e = match self.gpu.queues.ctrl.queue_ready(batch) {
                Ok(()) if batch.is_empty() => return,
                Ok(()) if !self.state.lock().closed => {
                    fsleep(Delta::from_millis(1));
                    continue;
                }
                Ok(()) => crate::errno::ecanceled(),
                Err(e) => e,
            };
            for r in batch.drain_all() {
                Job {
                    ready: r,
                    deps: KVec::new(),
                }
                .fail(e);
            }
            return;
        }
    }

    /// Waits (interruptibly) while the FIFO holds [`MAX_QUEUED`] jobs. Called before any
    /// lock of the submission is taken; concurrent submitters may overshoot a little.
    fn wait_room(&self) -> Result {
        let mut st = self.state.lock();
        while st.queue.len() >= MAX_QUEUED && !st.closed {
            if self.sent.wait_interruptible(&mut st) {
                return Err(ERESTARTSYS);
            }
        }
        Ok(())
    }

    /// Room for one more job, taken before its fence exists, so that queueing it cannot
    /// fail for lack of memory.
    fn reserve(st: &mut EntityState) -> Result {
        st.queue.reserve(1, GFP_KERNEL)?;
        let n = st.queue.len() + 1;
        st.spare.reserve(n, GFP_KERNEL)?;
        Ok(())
    }

    /// Queues a job from the ioctl (room reserved by [`Entity::reserve`]): straight to the
    /// ring if nothing is ahead of it and its dependencies signalled, else into the FIFO.
    /// `Err` only when the device is gone (the job then failed).
    fn push(self: &Arc<Self>, st: &mut EntityState, mut job: Job) -> Result {
        job.deps.retain(|f| !f.is_signaled());
        if st.queue.is_empty() && !st.flushing && job.deps.is_empty() {
            let mut one = core::mem::take(&mut st.spare);
            if let Err(e) = one.push_within_capacity(job.ready) {
                job.ready = e.0;
            } else {
                let r = self.gpu.queues.ctrl.queue_ready(&mut one);
                let left = one.pop();
                st.spare = one;
                match (r, left) {
                    (Ok(()), None) => return Ok(()),
                    // Ring full: the work sends it when there is room.
                    (Ok(()), Some(ready)) => job.ready = ready,
                    (Err(e), left) => {
                        if let Some(ready) = left {
                            Job {
                                ready,
                                deps: KVec::new(),
                            }
                            .fail(e);
                        }
                        return Err(e);
                    }
                }
            }
        }
        let first = st.queue.is_empty();
        // Room reserved by `reserve`; without it, allocate.
        if let Err(e) = st.queue.push_within_capacity(job) {
            st.queue.push(e.0, GFP_KERNEL)?;
        }
        if first && !st.flushing {
            Self::kick(self.clone());
        }
        Ok(())
    }

    /// Sends `cmd` (an unfenced command of the file's context, e.g. CTX_DETACH_RESOURCE) in
    /// order with the file's submissions: `Ok(false)` if nothing is waiting (the caller
    /// sends it itself, now), else it joins the FIFO (`Ok(true)`) and is sent after the
    /// earlier submissions, unawaited.
    pub(crate) fn send_in_order(self: &Arc<Self>, cmd: &[u8]) -> Result<bool> {
        let mut st = self.state.lock();
        if st.closed || (st.queue.is_empty() && !st.flushing) {
            return Ok(false);
        }
        let req = Request::new(cmd, wire::RESP_NODATA_SIZE)?;
        Self::reserve(&mut st)?;
        self.push(
            &mut st,
            Job {
                ready: Ready { req, fence: None },
                deps: KVec::new(),
            },
        )?;
        Ok(true)
    }

    /// Waits until every submission of the file has been sent to the host (not completed),
    /// so that a command sent outside the FIFO (a transfer, a blob's inline command) does
    /// not overtake them: upstream keeps that order by blocking EXECBUFFER itself.
    /// `ERESTARTSYS` on a signal.
    pub(crate) fn wait_sent(&self) -> Result {
        let mut st = self.state.lock();
        while (!st.queue.is_empty() || st.flushing) && !st.closed {
            if self.sent.wait_interruptible(&mut st) {
                return Err(ERESTARTSYS);
            }
        }
        Ok(())
    }

    /// The file is closed. Nothing more is sent; a batch being sent is waited for; then the
    /// work the host has is waited for (the host may drop the fences of a context it
    /// destroys), and only then are the jobs that never reached the host cancelled (their
    /// fences signal `ECANCELED`), so each timeline still signals in order. Waits at most
    /// [`CMD_TIMEOUT_MS`] in all, for a host that stopped answering.
    pub(crate) fn close(&self) {
        let start = kernel::time::Instant::<kernel::time::Monotonic>::now();
        let left = || {
            let spent = u32::try_from(start.elapsed().as_millis()).unwrap_or(u32::MAX);
            CMD_TIMEOUT_MS.saturating_sub(spent)
        };
        let (queue, waiting) = {
            let mut st = self.state.lock();
            st.closed = true;
            self.sent.notify_all();
            while st.flushing && left() > 0 {
                drop(st);
                fsleep(Delta::from_millis(1));
                st = self.state.lock();
            }
            (core::mem::take(&mut st.queue), st.waiting.take())
        };
        drop(waiting);
        if let Ok(fences) = self
            .gpu
            .queues
            .ctrl
            .fences_of(self.fence_base, TIMELINES as u64)
        {
            for f in fences.iter() {
                let ms = left();
                if ms == 0 || !f.wait_uninterruptible(kernel::time::msecs_to_jiffies(ms)) {
                    break;
                }
            }
        }
        for job in queue {
            job.fail(crate::errno::ecanceled());
        }
        self.reap();
    }
}

/// Adds the fences inside `f` (a sync_file's array, a timeline point's chain) that the
/// submission must wait for: the pending ones of other timelines. The host orders the
/// submission's own timeline itself (upstream skips those fences too).
fn add_deps(deps: &mut KVec<ARef<Fence>>, f: &Fence, own: u64) -> Result {
    f.for_each_unwrapped(|leaf| {
        if leaf.context() != own && !leaf.is_signaled() {
            deps.push(leaf.into(), GFP_KERNEL)?;
        }
        Ok(())
    })
}

/// A SUBMIT_3D of `size` bytes of command stream at user address `addr`, with header `hdr`,
/// copied once into its request buffer (`EFAULT` if unreadable).
pub(crate) fn user_submit_3d(hdr: &wire::CtrlHdr, size: u32, addr: u64) -> Result<ReqBuf> {
    let head = wire::Submit3d { size }.encode(hdr);
    let len = size as usize;
    ReqBuf::from_head_and_user(
        &head,
        UserSlice::new(UserPtr::from_addr(addr as usize), len).reader(),
        len,
    )
}

fn errno(e: Errno) -> Error {
    Error::from_errno(-e.code())
}

/// Reads element `i` of a syncobj array (`min(stride, 16)` bytes of it).
fn read_syncobj(a: &psub::SyncobjArray, i: u32) -> Result<psub::SyncobjRef> {
    let addr = a.element_addr(i).ok_or(EFAULT)?;
    let len = a.copy_len();
    let mut buf = [0u8; psub::SYNCOBJ_DESC_SIZE];
    UserSlice::new(UserPtr::from_addr(addr as usize), len)
        .reader()
        .read_slice(&mut buf[..len])?;
    psub::parse_syncobj(&buf, a.stride, 0).ok_or(EFAULT)
}

/// An out-syncobj to signal once the submission is queued.
struct PostDep {
    syncobj: Syncobj,
    /// For a timeline point.
    chain: Option<FenceChain>,
    point: u64,
}

/// `DRM_IOCTL_VIRTGPU_EXECBUFFER`, in upstream's order of checks and errnos
/// (`proto::submit::ExecPlan` lists them), but never waiting for a fence.
pub(crate) fn execbuffer(
    dev: &VgDevice,
    args: &mut DrmVirtgpuExecbuffer,
    file: &VgFile,
) -> Result<u32> {
    let gpu = dev.data();
    let _guard = dev.enter().ok_or(ENODEV)?;
    let fpriv = file.data();
    let plan =
        psub::execbuffer(&gpu.caps, &fpriv.view(), args, &SubmitLimits::DEFAULT).map_err(errno)?;
    fpriv.ensure()?;
    let entity = fpriv.entity();
    let fence_ctx = entity.context(plan.timeline);
    entity.wait_room()?;

    let event = if plan.fence_event {
        Some(PendingEvent::reserve(
            dev,
            file,
            psub::EVENT_FENCE_SIGNALED,
        )?)
    } else {
        None
    };

    let mut objs: KVec<ARef<VgObject>> = KVec::new();
    if plan.num_bo_handles > 0 {
        let flags = GFP_KERNEL | __GFP_NOWARN;
        let mut bytes = KVec::with_capacity(plan.bo_handles_len, flags)?;
        UserSlice::new(
            UserPtr::from_addr(args.bo_handles as usize),
            plan.bo_handles_len,
        )
        .reader()
        .read_all(&mut bytes, flags)?;
        objs = KVec::with_capacity(plan.num_bo_handles as usize, flags)?;
        for h in bytes.chunks_exact(4) {
            let h = u32::from_ne_bytes([h[0], h[1], h[2], h[3]]);
            let obj = VgObject::lookup(file, h).map_err(|_| ENOENT)?;
            // A foreign dma-buf's import gets a host resource the context can name, or
            // the submission fails here, before the host sees a stream naming it.
            if obj.kind == crate::object::Kind::Import {
                crate::prime::import_use(&obj, fpriv, crate::prime::Use::Submit)?;
            }
            objs.push(obj, flags)?;
        }
    }

    let hdr = wire::CtrlHdr::ctx(fpriv.ctx_id());
    let hdr = if plan.out_fence {
        hdr.with_fence(0, plan.timeline.ring_idx())
    } else {
        hdr
    };
    let req = Request::with_buf(
        user_submit_3d(&hdr, plan.cmd_size, args.command)?,
        wire::RESP_NODATA_SIZE,
    )?;

    let fd = if plan.out_fence_fd {
        Some(FileDescriptorReservation::get_unused_fd_flags(
            kernel::bindings::O_CLOEXEC,
        )?)
    } else {
        None
    };

    let mut posts = KVec::new();
    for i in 0..plan.out_syncobjs.count {
        let s = read_syncobj(&plan.out_syncobjs, i)?
            .signal()
            .map_err(errno)?;
        let syncobj = Syncobj::find(file, s.handle).ok_or(EINVAL)?;
        let chain = if s.is_timeline() {
            Some(FenceChain::new()?)
        } else {
            None
        };
        posts.push(
            PostDep {
                syncobj,
                chain,
                point: s.point,
            },
            GFP_KERNEL,
        )?;
    }

    let mut deps = KVec::new();
    let mut resets = KVec::new();
    for i in 0..plan.in_syncobjs.count {
        let w = read_syncobj(&plan.in_syncobjs, i)?.wait().map_err(errno)?;
        let f = syncobj::find_fence(file, w.handle, w.point)?;
        add_deps(&mut deps, &f, fence_ctx)?;
        if w.reset {
            resets.push(Syncobj::find(file, w.handle).ok_or(EINVAL)?, GFP_KERNEL)?;
        }
    }
    if let Some(fd) = plan.in_fence_fd {
        let f = dma_fence::sync_file_fence(fd).ok_or(EINVAL)?;
        add_deps(&mut deps, &f, fence_ctx)?;
    }

    let mut resv = if objs.is_empty() {
        None
    } else {
        Some(ResvLocked::lock(objs)?)
    };

    let mut st = entity.state.lock();
    Entity::reserve(&mut st)?;
    let mut out = None;
    let mut sync_file = None;
    let fence = if plan.out_fence {
        let idx = Entity::timeline_index(plan.timeline);
        let seqno = st.seqno[idx] + 1;
        let signaller = Signaller::new(&FENCE_OPS, fence_ctx, seqno)?;
        st.seqno[idx] = seqno;
        if fd.is_some() {
            sync_file = Some(SyncFile::new(signaller.fence())?);
        }
        let fence: ARef<Fence> = signaller.fence().into();
        // Only a submission that holds something needs the entity told when it is done.
        let holds = resv.is_some() || event.is_some();
        if holds {
            st.held.push(
                Held {
                    fence: fence.clone(),
                    objs: KVec::new(),
                    event,
                },
                GFP_KERNEL,
            )?;
            // From here nothing fails but a removed device: the fence is public.
            if let (Some(r), Some(h)) = (resv.take(), st.held.last_mut()) {
                h.objs = r.add_fence_and_unlock(&fence, ResvUsage::Write);
            }
        }
        out = Some(ReadyFence {
            context: fence_ctx,
            signaller,
            owner: holds.then(|| entity.clone()),
        });
        Some(fence)
    } else {
        None
    };
    let pushed = entity.push(
        &mut st,
        Job {
            ready: Ready { req, fence: out },
            deps,
        },
    );
    drop(st);
    drop(resv);
    pushed?;

    if let (Some(fd), Some(sf)) = (fd, sync_file) {
        args.fence_fd = fd.reserved_fd() as i32;
        sf.install(fd);
    }
    if let Some(f) = &fence {
        for p in posts {
            match p.chain {
                Some(c) => p.syncobj.add_point(c, f, p.point),
                None => p.syncobj.replace_fence(Some(f)),
            }
        }
    }
    for s in resets {
        s.replace_fence(None);
    }
    Ok(0)
}
