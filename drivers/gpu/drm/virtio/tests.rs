// SPDX-License-Identifier: GPL-2.0

//! KUnit tests run in the guest when the module loads (results in
//! `/sys/kernel/debug/kunit/virtio_gpu_rs*/results` and the kernel log).

use kernel::prelude::*;

#[kunit_tests(virtio_gpu_rs_proto)]
mod proto_tests {
    use crate::proto::{features::DeviceCaps, params, wire};

    #[test]
    fn header_is_little_endian_on_this_cpu() {
        let mut b = [0u8; wire::HDR_SIZE];
        wire::CtrlHdr {
            type_: 0x0108,
            flags: 1,
            fence_id: 0x0102030405060708,
            ctx_id: 9,
            ring_idx: 2,
        }
        .encode(&mut b);
        assert_eq!(b[0], 0x08);
        assert_eq!(b[1], 0x01);
        assert_eq!(b[8], 0x08);
        assert_eq!(b[15], 0x01);
        assert_eq!(b[16], 9);
        assert_eq!(b[20], 2);
    }

    #[test]
    fn device_errors_become_errnos() {
        let e = |t| crate::resp_error(wire::RespError::Device(t)).to_errno();
        assert_eq!(
            e(wire::cmd::RESP_ERR_OUT_OF_MEMORY),
            kernel::error::code::ENOMEM.to_errno()
        );
        assert_eq!(
            e(wire::cmd::RESP_ERR_INVALID_CONTEXT_ID),
            kernel::error::code::EINVAL.to_errno()
        );
        assert_eq!(
            e(wire::cmd::RESP_ERR_UNSPEC),
            kernel::error::code::EIO.to_errno()
        );
        let t = crate::resp_error(wire::RespError::Truncated).to_errno();
        assert_eq!(t, crate::errno::eproto().to_errno());
    }

    #[test]
    fn getparam_matches_upstream() {
        let caps = DeviceCaps {
            blob_alignment: None,
            ..Default::default()
        };
        assert_eq!(
            params::getparam(&caps, params::PARAM_CAPSET_QUERY_FIX),
            Ok(1)
        );
        assert_eq!(
            params::getparam(&caps, params::PARAM_BLOB_ALIGNMENT),
            Err(params::ParamError::NotNegotiated)
        );
        assert_eq!(params::getparam(&caps, 0), Err(params::ParamError::Unknown));
    }
}

#[kunit_tests(virtio_gpu_rs_map_info)]
mod map_info_tests {
    use crate::proto::map_info::{cache_mode, CacheMode, MapInfoError, NonePolicy};

    #[test]
    fn every_attribute_has_one_answer() {
        // The same pure function the mmap path uses, run on the guest CPU.
        assert_eq!(cache_mode(0x1, NonePolicy::Cached), Ok(CacheMode::Cached));
        assert_eq!(
            cache_mode(0x3, NonePolicy::Cached),
            Ok(CacheMode::WriteCombine)
        );
        assert_eq!(cache_mode(0x2, NonePolicy::Cached), Ok(CacheMode::Uncached));
        assert_eq!(cache_mode(0x0, NonePolicy::Cached), Ok(CacheMode::Cached));
        assert_eq!(
            cache_mode(0x0, NonePolicy::Refuse),
            Err(MapInfoError::NoneRefused)
        );
        for v in 4..=0xf {
            assert_eq!(
                cache_mode(v, NonePolicy::Cached),
                Err(MapInfoError::Unknown(v))
            );
        }
        // Bits above the mask are reserved and ignored.
        assert_eq!(
            cache_mode(0xf3, NonePolicy::Cached),
            Ok(CacheMode::WriteCombine)
        );
    }

    #[test]
    fn map_info_answer_is_little_endian() {
        let mut r = [0u8; crate::proto::wire::RESP_MAP_INFO_SIZE];
        r[0..4].copy_from_slice(&crate::proto::wire::cmd::RESP_OK_MAP_INFO.to_le_bytes());
        r[24] = 0x03;
        assert_eq!(crate::proto::wire::decode_map_info(&r), Ok(3));
    }
}

#[kunit_tests(virtio_gpu_rs_ida)]
mod ida_tests {
    use crate::ext::ida::Ida;
    use kernel::prelude::*;

    #[test]
    fn ids_are_reused_only_after_free() {
        let ida = KBox::pin_init(Ida::new(), GFP_KERNEL).unwrap();
        let a = ida.alloc(1, 3).unwrap();
        let b = ida.alloc(1, 3).unwrap();
        let c = ida.alloc(1, 3).unwrap();
        assert_eq!((a, b, c), (1, 2, 3));
        assert_eq!(ida.alloc(1, 3).err(), Some(kernel::error::code::ENOSPC));
        ida.free(b);
        assert_eq!(ida.alloc(1, 3).unwrap(), 2);
        for id in [a, b, c] {
            ida.free(id);
        }
    }
}

#[kunit_tests(virtio_gpu_rs_queue)]
mod queue_tests {
    use crate::vq::{CmdQueue, Request};
    use kernel::error::code::*;

    #[test]
    fn buffers_are_unreadable_until_returned() {
        // The CPU may read a DMA buffer only once the device handed it back.
        let b = crate::ext::virtio::ReqBuf::zeroed(8).unwrap();
        assert!(b.returned_bytes().is_none());
    }

    #[test]
    fn pending_request_times_out() {
        let req = Request::new(&[1, 2, 3], 8).unwrap();
        assert_eq!(req.wait(10).err(), Some(ETIMEDOUT));
    }

    #[test]
    fn detached_queue_refuses_requests() {
        // A queue without a virtqueue (before attach, after shutdown) fails cleanly.
        let q = CmdQueue::new().unwrap();
        let req = Request::new(&[0; 24], 24).unwrap();
        assert_eq!(q.submit(&req).err(), Some(ENODEV));
        q.shutdown();
        assert_eq!(q.submit(&req).err(), Some(ENODEV));
    }
}

#[kunit_tests(virtio_gpu_rs_fence)]
mod fence_tests {
    use crate::ext::dma_fence::{self, FenceNotify, Signaller};
    use crate::submit::FENCE_OPS;
    use crate::vq::{retire, InFlight};
    use core::sync::atomic::{AtomicU32, Ordering};
    use kernel::{prelude::*, sync::Arc};

    struct Counter(AtomicU32);

    impl FenceNotify for Counter {
        fn notify(this: &Arc<Self>) {
            this.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn dropped_signaller_cancels() -> Result {
        let ctx = dma_fence::context_alloc(1);
        let s = Signaller::new(&FENCE_OPS, ctx, 1)?;
        let f: kernel::sync::aref::ARef<_> = s.fence().into();
        assert_eq!(f.status(), Ok(false));
        drop(s);
        assert!(f.is_signaled());
        assert_eq!(f.status(), Err(crate::errno::ecanceled()));
        let s = Signaller::new(&FENCE_OPS, ctx, 2)?;
        let f: kernel::sync::aref::ARef<_> = s.fence().into();
        s.signal();
        assert_eq!(f.status(), Ok(true));
        Ok(())
    }

    #[test]
    fn callbacks_run_once_and_unregister() -> Result {
        let ctx = dma_fence::context_alloc(1);
        let n = Arc::new(Counter(AtomicU32::new(0)), GFP_KERNEL)?;
        let s = Signaller::new(&FENCE_OPS, ctx, 1)?;
        let cb = s.fence().add_callback(n.clone())?;
        assert!(cb.is_ok());
        s.signal();
        assert_eq!(n.0.load(Ordering::Relaxed), 1);
        drop(cb);
        // A second fence whose callback is dropped before it signals: never called.
        let s = Signaller::new(&FENCE_OPS, ctx, 2)?;
        let cb = s.fence().add_callback(n.clone())?;
        drop(cb);
        s.signal();
        assert_eq!(n.0.load(Ordering::Relaxed), 1);
        // Already signalled: nothing registered, the target comes back.
        let s = Signaller::new(&FENCE_OPS, ctx, 3)?;
        let f: kernel::sync::aref::ARef<_> = s.fence().into();
        s.signal();
        assert!(f.add_callback(n.clone())?.is_err());
        assert_eq!(n.0.load(Ordering::Relaxed), 1);
        Ok(())
    }

    #[test]
    fn retire_completes_its_context_in_order() -> Result {
        let (a, b) = (dma_fence::context_alloc(1), dma_fence::context_alloc(1));
        let mut v = KVec::new();
        let mut fences = KVec::new();
        for (id, ctx, seq) in [(1u64, a, 1u64), (2, b, 1), (3, a, 2), (4, a, 3)] {
            let s = Signaller::new(&FENCE_OPS, ctx, seq)?;
            fences.push(kernel::sync::aref::ARef::from(s.fence()), GFP_KERNEL)?;
            v.push(
                InFlight {
                    id,
                    context: ctx,
                    signaller: s,
                    owner: None,
                },
                GFP_KERNEL,
            )?;
        }
        // The answer to fence 3 completes 1 and 3 (same context), not 2 or 4.
        retire(&mut v, 3);
        let done: KVec<bool> = {
            let mut d = KVec::new();
            for f in fences.iter() {
                d.push(f.is_signaled(), GFP_KERNEL)?;
            }
            d
        };
        assert_eq!(&done[..], &[true, false, true, false]);
        assert_eq!(v.len(), 2);
        // An id nobody has (already retired, or made up) changes nothing.
        retire(&mut v, 3);
        retire(&mut v, 99);
        assert_eq!(v.len(), 2);
        retire(&mut v, 2);
        retire(&mut v, 4);
        assert!(v.is_empty());
        assert!(fences.iter().all(|f| f.is_signaled()));
        Ok(())
    }
}
