// SPDX-License-Identifier: GPL-2.0

//! Capability sets: the infos fetched at probe and the per-(id, version) data cache
//! behind `DRM_IOCTL_VIRTGPU_GET_CAPS`.

use crate::proto::wire::{self, CapsetInfo};
use crate::{resp_error, vq::CmdQueue};
use kernel::{new_mutex, prelude::*, sync::Mutex};

struct Cached {
    id: u32,
    version: u32,
    data: KVec<u8>,
}

/// The capsets a device reported.
#[pin_data]
pub(crate) struct Capsets {
    infos: KVec<CapsetInfo>,
    /// Held across a fetch, so concurrent misses for one capset fetch it once.
    #[pin]
    cache: Mutex<KVec<Cached>>,
}

impl Capsets {
    pub(crate) fn new(infos: KVec<CapsetInfo>) -> impl PinInit<Self> {
        pin_init!(Self { infos, cache <- new_mutex!(KVec::new(), "virtgpu_capset_cache") })
    }

    pub(crate) fn infos(&self) -> &[CapsetInfo] {
        &self.infos
    }

    /// Bit `id` set for every capset in `infos`.
    pub(crate) fn mask(infos: &[CapsetInfo]) -> u64 {
        infos.iter().fold(0, |m, i| m | (1u64 << i.id))
    }

    /// Asks the device for `num` capset infos. Any bad answer disables capsets entirely,
    /// like the C driver: a partial list would advertise contexts that cannot be made.
    pub(crate) fn fetch_infos(q: &CmdQueue, num: u32) -> Result<KVec<CapsetInfo>> {
        let mut infos = KVec::with_capacity(num as usize, GFP_KERNEL)?;
        for i in 0..num {
            let req = q.exchange(
                &wire::encode_get_capset_info(i),
                wire::RESP_CAPSET_INFO_SIZE,
            )?;
            let info = wire::decode_capset_info(req.response()?).map_err(resp_error)?;
            if infos.iter().any(|x: &CapsetInfo| x.id == info.id) {
                return Err(crate::errno::eproto());
            }
            infos.push(info, GFP_KERNEL)?;
        }
        Ok(infos)
    }

    /// Appends the first `min(size, max_size)` bytes of capset `id` at `version` to `out`,
    /// with the C driver's errors (ENOSYS: no capsets; EINVAL: size 0, unknown id or a
    /// version above the maximum). Fetched from the device once per (id, version).
    pub(crate) fn read(
        &self,
        q: &CmdQueue,
        id: u32,
        version: u32,
        out: &mut KVec<u8>,
        size: u32,
    ) -> Result {
        if self.infos.is_empty() {
            return Err(crate::errno::enosys());
        }
        if size == 0 {
            return Err(EINVAL);
        }
        let info = self
            .infos
            .iter()
            .find(|i| i.id == id && i.max_version >= version)
            .ok_or(EINVAL)?;
        let n = size.min(info.max_size) as usize;
        let mut cache = self.cache.lock();
        if let Some(c) = cache.iter().find(|c| c.id == id && c.version == version) {
            return out
                .extend_from_slice(&c.data[..n], GFP_KERNEL)
                .map_err(Into::into);
        }
        let req = q.exchange(
            &wire::encode_get_capset(id, version),
            wire::resp_capset_size(info.max_size),
        )?;
        let payload = wire::decode_capset(req.response()?, info.max_size).map_err(resp_error)?;
        let mut data = KVec::with_capacity(payload.len(), GFP_KERNEL)?;
        data.extend_from_slice(payload, GFP_KERNEL)?;
        out.extend_from_slice(&data[..n], GFP_KERNEL)?;
        cache.push(Cached { id, version, data }, GFP_KERNEL)?;
        Ok(())
    }

    /// Number of cached capset blobs (debugfs).
    pub(crate) fn cached(&self) -> usize {
        self.cache.lock().len()
    }
}
