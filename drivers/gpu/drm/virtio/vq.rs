// SPDX-License-Identifier: GPL-2.0

//! The control queue: typed request/response exchanges with the device.
//!
//! Each request owns its command and response buffers in an `Arc`; the queue holds one
//! reference until the device returns the buffers (or until the queue is shut down), so a
//! waiter that gives up (timeout, signal) never frees memory the device may still write.

use crate::ext::{
    dma_fence::{Fence, Signaller},
    sync::{Completion, SpinLockIrq, WaitResult},
    virtio::{ReqBuf, VqRequest},
};
use crate::new_spinlock_irq;
use crate::proto::{submit::FenceSeq, wire};
use crate::submit::Entity;
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::{
    prelude::*,
    sync::{aref::ARef, Arc},
    time::{delay::fsleep, msecs_to_jiffies, Delta},
};

/// The virtqueue type of our queues.
pub(crate) type Virtqueue = crate::ext::virtio::Virtqueue<Request>;

/// How long a control command may take before the caller gets `ETIMEDOUT`.
pub(crate) const CMD_TIMEOUT_MS: u32 = 5000;

enum ReqState {
    Pending,
    /// The device returned the buffers, having written this many response bytes.
    Done(u32),
    /// The queue was shut down before the device answered.
    Failed(Error),
}

/// One command and its response buffer.
#[pin_data]
pub(crate) struct Request {
    cmd: ReqBuf,
    resp: ReqBuf,
    /// The device-wide fence id the queue gave it (0: unfenced).
    fence_id: AtomicU64,
    #[pin]
    state: SpinLockIrq<ReqState>,
    #[pin]
    done: Completion,
}

impl VqRequest for Request {
    fn out_buf(&self) -> &ReqBuf {
        &self.cmd
    }

    fn in_buf(&self) -> &ReqBuf {
        &self.resp
    }
}

impl Request {
    /// A request sending `cmd` and expecting at most `resp_len` response bytes.
    pub(crate) fn new(cmd: &[u8], resp_len: usize) -> Result<Arc<Self>> {
        Self::with_buf(ReqBuf::from_slice(cmd)?, resp_len)
    }

    /// A request sending the encoded command in `cmd`.
    pub(crate) fn with_buf(cmd: ReqBuf, resp_len: usize) -> Result<Arc<Self>> {
        let resp = ReqBuf::zeroed(resp_len)?;
        Arc::pin_init(
            pin_init!(Self {
                cmd,
                resp,
                fence_id: AtomicU64::new(0),
                state <- new_spinlock_irq!(ReqState::Pending, "virtgpu_req_state"),
                done <- Completion::new(),
            }),
            GFP_KERNEL,
        )
    }

    fn finish(&self, result: Result<u32>) {
        let mut st = self.state.lock();
        *st = match result {
            Ok(len) => ReqState::Done(len),
            Err(e) => ReqState::Failed(e),
        };
        drop(st);
        self.done.complete_all();
    }

    /// The response of a completed request (as returned by [`CmdQueue::exchange`]).
    pub(crate) fn response(&self) -> Result<&[u8]> {
        self.result()
    }

    /// Waits up to `timeout_ms` for the response and returns the bytes the device wrote.
    ///
    /// `ETIMEDOUT` on timeout, `ERESTARTSYS` on a signal, `ENODEV` if the queue was shut
    /// down. The request stays valid in the queue in every case.
    pub(crate) fn wait(&self, timeout_ms: u32) -> Result<&[u8]> {
        match self
            .done
            .wait_interruptible_timeout(msecs_to_jiffies(timeout_ms))
        {
            WaitResult::Done => self.result(),
            WaitResult::Timeout => Err(ETIMEDOUT),
            WaitResult::Signal => Err(ERESTARTSYS),
        }
    }

    /// Like [`Request::wait`], but signals do not cut it short: for teardown, which must
    /// know whether the device let go of something even in a process being killed.
    pub(crate) fn wait_uninterruptible(&self, timeout_ms: u32) -> Result<&[u8]> {
        match self.done.wait_timeout(msecs_to_jiffies(timeout_ms)) {
            WaitResult::Done => self.result(),
            _ => Err(ETIMEDOUT),
        }
    }

    fn result(&self) -> Result<&[u8]> {
        let len = match *self.state.lock() {
            ReqState::Done(len) => len,
            ReqState::Failed(e) => return Err(e),
            // Completed only after the state is set.
            ReqState::Pending => return Err(EIO),
        };
        // `Done` is only set for requests the queue handed back, so the bytes are readable.
        let resp = self.resp.returned_bytes().ok_or(EIO)?;
        Ok(&resp[..(len as usize).min(resp.len())])
    }
}

/// A fenced request the device has not returned yet.
pub(crate) struct InFlight {
    /// Device-wide fence id, also the request's.
    pub(crate) id: u64,
    /// dma-fence context of the fence (one per timeline: fences of one context signal in
    /// order).
    pub(crate) context: u64,
    pub(crate) signaller: Signaller,
    /// Told when the fence signalled, if the submission holds something to release.
    pub(crate) owner: Option<Arc<Entity>>,
}

/// A command ready for the device, and the fence it signals when done.
pub(crate) struct Ready {
    pub(crate) req: Arc<Request>,
    pub(crate) fence: Option<ReadyFence>,
}

/// The fence of a [`Ready`] command.
pub(crate) struct ReadyFence {
    pub(crate) context: u64,
    pub(crate) signaller: Signaller,
    /// Whom to tell when the fence signals (see [`InFlight`]).
    pub(crate) owner: Option<Arc<Entity>>,
}

struct QueueInner {
    /// `None` once the queue is shut down.
    vq: Option<Virtqueue>,
    /// Hands out fence ids in ring order (QEMU retires a timeline's fences by comparing ids).
    seq: FenceSeq,
    /// Fenced requests in ring order; room for a full ring is reserved at attach.
    in_flight: KVec<InFlight>,
    /// The device is being removed: no more submissions (driver commands still go).
    stopping: bool,
}

/// The device answered fenced request `id`: it and every earlier fence of its context are
/// done (as upstream's `virtio_gpu_fence_event_process`).
pub(crate) fn retire(in_flight: &mut KVec<InFlight>, id: u64) {
    let Some(ctx) = in_flight.iter().find(|f| f.id == id).map(|f| f.context) else {
        return;
    };
    let mut i = 0;
    while i < in_flight.len() {
        let f = &in_flight[i];
        if f.context == ctx && f.id <= id {
            if let Ok(f) = in_flight.remove(i) {
                f.signaller.signal();
                if let Some(o) = f.owner {
                    Entity::kick(o);
                }
            }
        } else {
            i += 1;
        }
    }
}

/// A virtqueue carrying [`Request`]s.
#[pin_data]
pub(crate) struct CmdQueue {
    #[pin]
    inner: SpinLockIrq<QueueInner>,
}

impl CmdQueue {
    /// A queue without a virtqueue yet (see [`CmdQueue::attach`]): the interrupt handler
    /// must exist before `find_vqs` creates the virtqueues.
    pub(crate) fn new() -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Self {
                inner <- new_spinlock_irq!(
                    QueueInner {
                        vq: None,
                        seq: FenceSeq::new(),
                        in_flight: KVec::new(),
                        stopping: false,
                    },
                    "virtgpu_queue"
                ),
            }),
            GFP_KERNEL,
        )
    }

    /// Gives the queue its virtqueue.
    pub(crate) fn attach(&self, vq: Virtqueue) -> Result {
        // At most one request per descriptor can be in flight.
        let room = KVec::with_capacity(vq.size() as usize, GFP_KERNEL)?;
        let mut g = self.inner.lock();
        g.in_flight = room;
        g.vq = Some(vq);
        Ok(())
    }

    /// Fenced commands the device has not returned yet (debugfs).
    pub(crate) fn fences_in_flight(&self) -> usize {
        self.inner.lock().in_flight.len()
    }

    /// Queues the commands of `batch` from its front, in order, as long as the ring has
    /// room, giving each fenced one the next fence id; notifies the device once. Queued
    /// commands leave `batch`; what is left waits for room (`Ok`, retry later). `ENODEV`
    /// once the queue is shut down.
    pub(crate) fn queue_ready(&self, batch: &mut KVec<Ready>) -> Result {
        let mut g = self.inner.lock();
        let inner = &mut *g;
        if inner.stopping {
            return Err(ENODEV);
        }
        let vq = inner.vq.as_mut().ok_or(ENODEV)?;
        let mut queued = false;
        let mut err = None;
        while !batch.is_empty() {
            if batch[0].fence.is_some() && inner.in_flight.len() == inner.in_flight.capacity() {
                break;
            }
            let Ok(Ready { req, fence }) = batch.remove(0) else {
                break;
            };
            let id = if fence.is_some() {
                let id = match inner.seq.next_id() {
                    Some(id) => id,
                    None => {
                        err = Some(EOVERFLOW);
                        let _ = batch.insert_within_capacity(0, Ready { req, fence });
                        break;
                    }
                };
                if let Err(e) = req.cmd.patch(wire::HDR_FENCE_ID_OFFSET, &id.to_le_bytes()) {
                    err = Some(e);
                    let _ = batch.insert_within_capacity(0, Ready { req, fence });
                    break;
                }
                req.fence_id.store(id, Ordering::Relaxed);
                id
            } else {
                0
            };
            if let Err((e, req)) = vq.add_quiet(req) {
                // Back to the front; the fence id is not reused (ids only need to grow).
                let _ = batch.insert_within_capacity(0, Ready { req, fence });
                if e != ENOSPC {
                    err = Some(e);
                }
                break;
            }
            queued = true;
            if let Some(f) = fence {
                // Room checked above.
                let _ = inner.in_flight.push_within_capacity(InFlight {
                    id,
                    context: f.context,
                    signaller: f.signaller,
                    owner: f.owner,
                });
            }
        }
        if queued {
            vq.kick();
        }
        err.map_or(Ok(()), Err)
    }

    /// No more submissions from now on (`queue_ready` answers `ENODEV`): the device is being
    /// removed. The driver's own commands (unmapping blobs) still go.
    pub(crate) fn stop_submissions(&self) {
        self.inner.lock().stopping = true;
    }

    /// The fences still in flight whose dma-fence context is in `base..base + n`, in ring
    /// order (so each context's last one comes last).
    pub(crate) fn fences_of(&self, base: u64, n: u64) -> Result<KVec<ARef<Fence>>> {
        let room = self.inner.lock().in_flight.capacity();
        let mut out = KVec::with_capacity(room, GFP_KERNEL)?;
        let g = self.inner.lock();
        for f in g.in_flight.iter() {
            if f.context >= base && f.context - base < n {
                if out
                    .push_within_capacity(f.signaller.fence().into())
                    .is_err()
                {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// Queues `req` and notifies the device. While the ring is full it polls for space,
    /// without being interrupted, for at most [`CMD_TIMEOUT_MS`] (`ETIMEDOUT`): a device
    /// that stopped answering must not hang its callers or the device's removal.
    pub(crate) fn submit(&self, req: &Arc<Request>) -> Result {
        let mut waited = 0;
        loop {
            let mut g = self.inner.lock();
            let vq = g.vq.as_mut().ok_or(ENODEV)?;
            match vq.add(req.clone()) {
                Ok(()) => return Ok(()),
                Err((e, _)) if e != ENOSPC => return Err(e),
                Err(_) => {}
            }
            drop(g);
            if waited >= CMD_TIMEOUT_MS {
                return Err(ETIMEDOUT);
            }
            fsleep(Delta::from_millis(1));
            waited += 1;
        }
    }

    /// Sends `cmd` and waits for a response of at most `resp_len` bytes.
    pub(crate) fn exchange(&self, cmd: &[u8], resp_len: usize) -> Result<Arc<Request>> {
        let req = Request::new(cmd, resp_len)?;
        self.submit(&req)?;
        req.wait(CMD_TIMEOUT_MS)?;
        Ok(req)
    }

    /// Sends `cmd`, which the device answers with `RESP_OK_NODATA` on success.
    pub(crate) fn command(&self, cmd: &[u8]) -> Result {
        self.command_buf(ReqBuf::from_slice(cmd)?)
    }

    /// Like [`CmdQueue::command`] for a command already in a request buffer (e.g. one
    /// copied from userspace by [`ReqBuf::from_head_and_user`]).
    pub(crate) fn command_buf(&self, cmd: ReqBuf) -> Result {
        let req = Request::with_buf(cmd, crate::proto::wire::RESP_NODATA_SIZE)?;
        self.submit(&req)?;
        req.wait(CMD_TIMEOUT_MS)?;
        crate::proto::wire::decode_nodata(req.response()?).map_err(crate::resp_error)
    }

    /// Like [`CmdQueue::command`] for teardown: waits without being interrupted by signals.
    ///
    /// `Ok(answer)` when the device answered (its verdict inside): it has processed the
    /// command. `ENODEV`: the device is gone. `ETIMEDOUT`: no answer, the device may still
    /// act on what the command was about.
    pub(crate) fn command_teardown(
        &self,
        cmd: &[u8],
    ) -> Result<core::result::Result<(), crate::proto::wire::RespError>> {
        let req = Request::new(cmd, crate::proto::wire::RESP_NODATA_SIZE)?;
        self.submit(&req)?;
        let resp = req.wait_uninterruptible(CMD_TIMEOUT_MS)?;
        Ok(crate::proto::wire::decode_nodata(resp))
    }

    /// Completes every request the device has returned. Interrupt context.
    pub(crate) fn drain(&self) {
        let mut g = self.inner.lock();
        let inner = &mut *g;
        let Some(vq) = inner.vq.as_mut() else { return };
        loop {
            vq.disable_cb();
            while let Some((req, len)) = vq.get_used() {
                req.finish(Ok(len));
                let id = req.fence_id.load(Ordering::Relaxed);
                if id != 0 {
                    // Our own record of the fence, not the device's echo of it: a device
                    // cannot name fences it was never given.
                    retire(&mut inner.in_flight, id);
                }
            }
            if vq.enable_cb() {
                break;
            }
        }
    }

    /// Detaches the queue after the device was reset: completes used requests, fails the
    /// others with `ENODEV` and wakes every waiter.
    pub(crate) fn shutdown(&self) {
        let mut g = self.inner.lock();
        if let Some(mut vq) = g.vq.take() {
            while let Some((req, len)) = vq.get_used() {
                req.finish(Ok(len));
                let id = req.fence_id.load(Ordering::Relaxed);
                if id != 0 {
                    retire(&mut g.in_flight, id);
                }
            }
            while let Some(req) = vq.detach_unused() {
                req.finish(Err(ENODEV));
            }
        }
        // What the device never answered fails: its fences signal with ENODEV.
        while let Ok(f) = g.in_flight.remove(0) {
            f.signaller.fail(ENODEV);
            if let Some(o) = f.owner {
                Entity::kick(o);
            }
        }
    }
}
