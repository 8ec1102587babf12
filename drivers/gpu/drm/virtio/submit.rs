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

/// A submission waiting in an entity's FIFO.
struct Job {
    ready: Ready,
    /// Fences to wait for before sending; signalled ones are dropped as they are found.
    deps: KVec<ARef<Fence>>,
}

impl Job {
    /// Gives up on the job: its fence signals with `e`, nothing reaches the host.
    fn fail(self, e: Error) {
        if let Some(f) = self.ready.fence {
            f.signaller.fail(e);
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
    /// The work took jobs off the queue and is sending them: the ioctl must not overtake.
    flushing: bool,
    /// The callback on the pending dependency of the queue's head.
    waiting: Option<FenceCallback<Entity>>,
    /// Submissions holding objects or an event whose fence has not been seen signalled.
    held: KVec<Held>,
    /// The last fence of each timeline: all of the file's fences once it signalled.
    last: [Option<ARef<Fence>>; TIMELINES],
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
    /// Signalled when the FIFO has been sent (or cancelled).
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
        this.reap();
        this.advance();
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
                        flushing: false,
                        waiting: None,
                        held: KVec::new(),
                        last: [const { None }; TIMELINES],
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
        if let Some(q) = SUBMIT_WQ.get() {
            let _ = q.enqueue(this);
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
            let mut batch = KVec::new();
            {
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
                while !st.queue.is_empty() {
                    let head = &mut st.queue[0];
                    head.deps.retain(|f| !f.is_signaled());
                    if let Some(dep) = head.deps.first() {
                        let dep = dep.clone();
                        match dep.add_callback(self.clone()) {
                            Ok(Ok(cb)) => {
                                st.waiting = Some(cb);
                                break;
                            }
                            // Signalled meanwhile: look again.
                            Ok(Err(_)) => continue,
                            Err(e) => {
                                if let Ok(job) = st.queue.remove(0) {
                                    job.fail(e);
                                }
                                continue;
                            }
                        }
                    }
                    let Ok(job) = st.queue.remove(0) else { break };
                    // Without memory the job is dropped, which signals its fence with
                    // ECANCELED.
                    let _ = batch.push(job.ready, GFP_KERNEL);
                }
                if batch.is_empty() {
                    if st.queue.is_empty() {
                        self.sent.notify_all();
                    }
                    return;
                }
                st.flushing = true;
            }
            self.send(&mut batch);
            let mut st = self.state.lock();
            st.flushing = false;
            if st.queue.is_empty() {
                self.sent.notify_all();
                return;
            }
            if st.waiting.is_some() {
                return;
            }
        }
    }

    /// Queues `batch` on the control queue, waiting for room in the ring (never in the
    /// ioctl: only the work sends batches). Fails what cannot be sent.
    fn send(&self, batch: &mut KVec<Ready>) {
        let mut waited = 0;
        loop {
            let e = match self.gpu.queues.ctrl.queue_ready(batch) {
                Ok(()) if batch.is_empty() => return,
                Ok(()) if waited < CMD_TIMEOUT_MS => {
                    fsleep(Delta::from_millis(1));
                    waited += 1;
                    continue;
                }
                Ok(()) => ETIMEDOUT,
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

    /// Queues a job from the ioctl: straight to the ring if nothing is ahead of it and its
    /// dependencies signalled, else into the FIFO.
    fn push(self: &Arc<Self>, st: &mut EntityState, mut job: Job) -> Result {
        job.deps.retain(|f| !f.is_signaled());
        if st.queue.is_empty() && !st.flushing && job.deps.is_empty() {
            let mut one = KVec::with_capacity(1, GFP_KERNEL)?;
            // Room for one was just allocated.
            let _ = one.push_within_capacity(job.ready);
            match self.gpu.queues.ctrl.queue_ready(&mut one) {
                Ok(()) if one.is_empty() => return Ok(()),
                // Ring full: the work sends it when there is room.
                Ok(()) => {
                    let Some(ready) = one.pop() else {
                        return Ok(());
                    };
                    job = Job {
                        ready,
                        deps: KVec::new(),
                    };
                }
                Err(e) => return Err(e),
            }
        }
        let first = st.queue.is_empty();
        st.queue.push(job, GFP_KERNEL)?;
        if first && !st.flushing {
            Self::kick(self.clone());
        }
        Ok(())
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

    /// The file is closed: jobs not sent yet are cancelled (their fences signal with
    /// `ECANCELED`), and no callback stays registered. Sent jobs complete normally.
    pub(crate) fn close(&self) {
        let (queue, waiting) = {
            let mut st = self.state.lock();
            st.closed = true;
            self.sent.notify_all();
            (core::mem::take(&mut st.queue), st.waiting.take())
        };
        drop(waiting);
        for job in queue {
            job.fail(crate::errno::ecanceled());
        }
        // The host may drop the fences of a context it destroys: let the sent work finish
        // first, for at most CMD_TIMEOUT_MS in all. A timeline's last fence signals last.
        let start = kernel::time::Instant::<kernel::time::Monotonic>::now();
        let mut last = {
            let mut st = self.state.lock();
            core::mem::replace(&mut st.last, [const { None }; TIMELINES])
        };
        for f in last.iter_mut().filter_map(Option::take) {
            let spent = u32::try_from(start.elapsed().as_millis()).unwrap_or(u32::MAX);
            let Some(left) = CMD_TIMEOUT_MS.checked_sub(spent).filter(|l| *l > 0) else {
                break;
            };
            if !f.wait_uninterruptible(kernel::time::msecs_to_jiffies(left) as usize) {
                break;
            }
        }
        self.reap();
    }
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
            objs.push(obj, flags)?;
        }
    }

    let hdr = wire::CtrlHdr::ctx(fpriv.ctx_id());
    let hdr = if plan.out_fence {
        hdr.with_fence(0, plan.timeline.ring_idx())
    } else {
        hdr
    };
    let head = wire::Submit3d {
        size: plan.cmd_size,
    }
    .encode(&hdr);
    let len = plan.cmd_size as usize;
    let cmd = crate::ext::virtio::ReqBuf::from_head_and_user(
        &head,
        UserSlice::new(UserPtr::from_addr(args.command as usize), len).reader(),
        len,
    )?;
    let req = Request::with_buf(cmd, wire::RESP_NODATA_SIZE)?;

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
        // The host orders a timeline's own work: no need to wait for it here.
        if f.context() != fence_ctx {
            deps.push(f, GFP_KERNEL)?;
        }
        if w.reset {
            resets.push(Syncobj::find(file, w.handle).ok_or(EINVAL)?, GFP_KERNEL)?;
        }
    }
    if let Some(fd) = plan.in_fence_fd {
        let f = dma_fence::sync_file_fence(fd).ok_or(EINVAL)?;
        if f.context() != fence_ctx {
            deps.push(f, GFP_KERNEL)?;
        }
    }

    let mut resv = if objs.is_empty() {
        None
    } else {
        Some(ResvLocked::lock(objs)?)
    };

    let mut st = entity.state.lock();
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
        }
        st.last[idx] = Some(fence.clone());
        out = Some(ReadyFence {
            context: fence_ctx,
            signaller,
            owner: holds.then(|| entity.clone()),
        });
        Some(fence)
    } else {
        None
    };
    if let (Some(f), Some(r)) = (&fence, resv.as_mut()) {
        r.add_fence(f, ResvUsage::Write);
    }
    let pushed = entity.push(
        &mut st,
        Job {
            ready: Ready { req, fence: out },
            deps,
        },
    );
    // The objects stay with the held entry (added last above, still there: it is only
    // removed under this lock) until the fence signals.
    if let (Some(r), true) = (resv.take(), fence.is_some()) {
        if let Some(h) = st.held.last_mut() {
            h.objs = r.unlock();
        }
    }
    drop(st);
    drop(resv);
    if let Err(e) = pushed {
        // The job's fence signalled with an error: release what it held.
        Entity::kick(entity.clone());
        return Err(e);
    }

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
