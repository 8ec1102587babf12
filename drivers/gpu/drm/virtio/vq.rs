// SPDX-License-Identifier: GPL-2.0

//! The control queue: typed request/response exchanges with the device.
//!
//! Each request owns its command and response buffers in an `Arc`; the queue holds one
//! reference as the virtqueue token until the device returns the buffers (or until the
//! queue is shut down), so a waiter that gives up (timeout, signal) never frees memory
//! the device may still write.

use crate::ext::{
    sync::SpinLockIrq,
    virtio::{Sg, Virtqueue},
};
use crate::new_spinlock_irq;
use core::{cell::UnsafeCell, ptr::NonNull};
use kernel::{
    new_condvar,
    prelude::*,
    sync::{Arc, CondVar, CondVarTimeoutResult},
    time::msecs_to_jiffies,
};

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
    cmd: KVec<u8>,
    /// Written by the device only (DMA); read by the CPU only once the state is `Done`.
    resp: UnsafeCell<KVec<u8>>,
    #[pin]
    state: SpinLockIrq<ReqState>,
    #[pin]
    done: CondVar,
}

// SAFETY: `resp` is only read after `state` became `Done` under the lock, after which the
// device no longer writes it; every other field is immutable or synchronised.
unsafe impl Sync for Request {}
// SAFETY: All fields are owned buffers or kernel synchronisation primitives.
unsafe impl Send for Request {}

impl Request {
    /// A request sending `cmd` and expecting at most `resp_len` response bytes.
    pub(crate) fn new(cmd: &[u8], resp_len: usize) -> Result<Arc<Self>> {
        let mut c = KVec::with_capacity(cmd.len(), GFP_KERNEL)?;
        c.extend_from_slice(cmd, GFP_KERNEL)?;
        let r = KVec::from_elem(0u8, resp_len, GFP_KERNEL)?;
        Arc::pin_init(
            pin_init!(Self {
                cmd: c,
                resp: UnsafeCell::new(r),
                state <- new_spinlock_irq!(ReqState::Pending, "virtgpu_req_state"),
                done <- new_condvar!("virtgpu_req_done"),
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
        self.done.notify_all();
    }

    /// The response of a completed request (as returned by [`CmdQueue::exchange`]).
    pub(crate) fn response(&self) -> Result<&[u8]> {
        self.wait(0)
    }

    /// Waits up to `timeout_ms` for the response and returns the bytes the device wrote.
    ///
    /// `ETIMEDOUT` on timeout, `ERESTARTSYS` on a signal, `ENODEV` if the queue was shut
    /// down. The request stays valid in the queue in every case.
    pub(crate) fn wait(&self, timeout_ms: u32) -> Result<&[u8]> {
        let mut left = msecs_to_jiffies(timeout_ms);
        let mut st = self.state.lock();
        let len = loop {
            match *st {
                ReqState::Done(len) => break len,
                ReqState::Failed(e) => return Err(e),
                ReqState::Pending => {}
            }
            match self.done.wait_interruptible_timeout(&mut st, left) {
                CondVarTimeoutResult::Timeout => return Err(ETIMEDOUT),
                CondVarTimeoutResult::Signal { .. } => return Err(ERESTARTSYS),
                CondVarTimeoutResult::Woken { jiffies } => left = jiffies,
            }
        };
        drop(st);
        // SAFETY: The state is `Done`: the device has returned the buffer and will not
        // write it again, and nothing else mutates it.
        let resp = unsafe { &*self.resp.get() };
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
    /// Signalled when descriptors are freed, for submitters that found the ring full.
    #[pin]
    space: CondVar,
}

impl CmdQueue {
    /// A queue without a virtqueue yet (see [`CmdQueue::attach`]): the interrupt handler
    /// must exist before `find_vqs` creates the virtqueues.
    pub(crate) fn new() -> Result<Arc<Self>> {
        Arc::pin_init(
            pin_init!(Self {
                inner <- new_spinlock_irq!(QueueInner { vq: None }, "virtgpu_queue"),
                space <- new_condvar!("virtgpu_queue_space"),
            }),
            GFP_KERNEL,
        )
    }

    /// Gives the queue its virtqueue.
    pub(crate) fn attach(&self, vq: Virtqueue) {
        self.inner.lock().vq = Some(vq);
    }

    /// Queues `req` and notifies the device. Sleeps while the ring is full.
    pub(crate) fn submit(&self, req: &Arc<Request>) -> Result {
        let mut g = self.inner.lock();
        loop {
            let vq = g.vq.as_mut().ok_or(ENODEV)?;
            // SAFETY: Both buffers are kmalloc'ed `KVec`s owned by the request, which the
            // token below keeps alive until the device returns them.
            let (mut out, mut inp) = unsafe {
                let resp = &*req.resp.get();
                (
                    [Sg::new(req.cmd.as_ptr(), req.cmd.len())],
                    [Sg::new(resp.as_ptr(), resp.len())],
                )
            };
            let token = Arc::into_raw(req.clone());
            // SAFETY: `Arc::into_raw` never returns null.
            let tok = unsafe { NonNull::new_unchecked(token.cast_mut().cast::<u8>()) };
            match vq.add_sgs(&mut out, &mut inp, tok) {
                Ok(()) => {
                    vq.kick();
                    return Ok(());
                }
                Err(e) => {
                    // SAFETY: The queue did not take the token; reclaim its reference.
                    drop(unsafe { Arc::from_raw(token) });
                    if e != ENOSPC {
                        return Err(e);
                    }
                    self.space.wait(&mut g);
                }
            }
        }
    }

    /// Sends `cmd` and waits for a response of at most `resp_len` bytes.
    pub(crate) fn exchange(&self, cmd: &[u8], resp_len: usize) -> Result<Arc<Request>> {
        let req = Request::new(cmd, resp_len)?;
        self.submit(&req)?;
        req.wait(CMD_TIMEOUT_MS)?;
        Ok(req)
    }

    /// Completes every request the device has returned. Interrupt context.
    pub(crate) fn drain(&self) {
        let mut g = self.inner.lock();
        let Some(vq) = g.vq.as_mut() else { return };
        loop {
            vq.disable_cb();
            while let Some((tok, len)) = vq.get_buf() {
                // SAFETY: Every token is an `Arc<Request>` from `submit`.
                let req = unsafe { Arc::<Request>::from_raw(tok.as_ptr().cast()) };
                req.finish(Ok(len));
            }
            if vq.enable_cb() {
                break;
            }
        }
        drop(g);
        self.space.notify_all();
    }

    /// Detaches the queue after the device was reset: completes used requests, fails the
    /// others with `ENODEV` and wakes every waiter.
    pub(crate) fn shutdown(&self) {
        let mut g = self.inner.lock();
        if let Some(mut vq) = g.vq.take() {
            while let Some((tok, len)) = vq.get_buf() {
                // SAFETY: As in `drain`.
                unsafe { Arc::<Request>::from_raw(tok.as_ptr().cast()) }.finish(Ok(len));
            }
            while let Some(tok) = vq.detach_unused_buf() {
                // SAFETY: As in `drain`.
                unsafe { Arc::<Request>::from_raw(tok.as_ptr().cast()) }.finish(Err(ENODEV));
            }
        }
        drop(g);
        self.space.notify_all();
    }
}
