// SPDX-License-Identifier: GPL-2.0

//! The control queue: typed request/response exchanges with the device.
//!
//! Each request owns its command and response buffers in an `Arc`; the queue holds one
//! reference until the device returns the buffers (or until the queue is shut down), so a
//! waiter that gives up (timeout, signal) never frees memory the device may still write.

use crate::ext::{
    sync::{Completion, SpinLockIrq, WaitResult},
    virtio::{ReqBuf, VqRequest},
};
use crate::new_spinlock_irq;
use kernel::{
    prelude::*,
    sync::Arc,
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
        let cmd = ReqBuf::from_slice(cmd)?;
        let resp = ReqBuf::zeroed(resp_len)?;
        Arc::pin_init(
            pin_init!(Self {
                cmd,
                resp,
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

struct QueueInner {
    /// `None` once the queue is shut down.
    vq: Option<Virtqueue>,
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
                inner <- new_spinlock_irq!(QueueInner { vq: None }, "virtgpu_queue"),
            }),
            GFP_KERNEL,
        )
    }

    /// Gives the queue its virtqueue.
    pub(crate) fn attach(&self, vq: Virtqueue) {
        self.inner.lock().vq = Some(vq);
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
        let req = self.exchange(cmd, crate::proto::wire::RESP_NODATA_SIZE)?;
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
        let Some(vq) = g.vq.as_mut() else { return };
        loop {
            vq.disable_cb();
            while let Some((req, len)) = vq.get_used() {
                req.finish(Ok(len));
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
            }
            while let Some(req) = vq.detach_unused() {
                req.finish(Err(ENODEV));
            }
        }
    }
}
