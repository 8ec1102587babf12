// SPDX-License-Identifier: GPL-2.0

//! GEM objects: host resources with their guest backing.
//!
//! One object type serves every kind of resource; what differs is the backing, and
//! `mmap`, the host teardown and debugfs dispatch on it in one place:
//!
//! - shmem pages (2D/3D resources, guest blobs, host3d-guest blobs), attached to the host
//!   resource by guest-physical (or DMA) address and mapped cached;
//! - a range of the host-visible region (host3d blobs), mapped with the memory type the
//!   host's `map_info` asks for, or not at all.
//!
//! Resource ids come from an IDA and go back only after the host answered
//! RESOURCE_UNREF: until then the host may still know the id. A host range goes back only
//! after RESOURCE_UNMAP_BLOB was answered.

use crate::drv::VirtGpu;
use crate::ext::{
    gem::{self, Object},
    mm::{self, VmaNew},
};
use crate::proto::{
    map_info::{self, CacheMode, NonePolicy},
    range::Range,
    wire,
};
use crate::{resp_error, VirtGpuDrm};
use kernel::{
    new_mutex,
    prelude::*,
    sync::{Arc, Mutex},
};

/// A GEM object of this driver.
pub(crate) type VgObject = Object<VirtGpuObject>;

/// What userspace asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// RESOURCE_CREATE on a device without 3D.
    Res2d,
    /// RESOURCE_CREATE with virgl.
    Res3d,
    /// BLOB_MEM_GUEST.
    BlobGuest,
    /// BLOB_MEM_HOST3D: memory of the host, mappable through the host-visible region.
    BlobHost3d,
    /// BLOB_MEM_HOST3D_GUEST: a host resource backed by guest pages.
    BlobHost3dGuest,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Res2d => "2d",
            Kind::Res3d => "3d",
            Kind::BlobGuest => "blob-guest",
            Kind::BlobHost3d => "blob-host3d",
            Kind::BlobHost3dGuest => "blob-host3d-guest",
        }
    }

    /// Whether the object has shmem pages.
    pub(crate) fn has_pages(self) -> bool {
        !matches!(self, Kind::BlobHost3d)
    }

    /// The `blob_mem` RESOURCE_INFO reports (0 for non-blob resources).
    pub(crate) fn blob_mem(self) -> u32 {
        match self {
            Kind::Res2d | Kind::Res3d => 0,
            Kind::BlobGuest => wire::BLOB_MEM_GUEST,
            Kind::BlobHost3d => wire::BLOB_MEM_HOST3D,
            Kind::BlobHost3dGuest => wire::BLOB_MEM_HOST3D_GUEST,
        }
    }
}

/// A resource id, returned to the allocator on drop.
pub(crate) struct ResId {
    gpu: Arc<VirtGpu>,
    id: u32,
}

impl ResId {
    pub(crate) fn alloc(gpu: &Arc<VirtGpu>) -> Result<Self> {
        // Ids are positive `int`s in the C driver too; 0 means "no resource" on the wire.
        let id = gpu.res_ids.alloc(1, i32::MAX as u32)?;
        Ok(Self {
            gpu: gpu.clone(),
            id,
        })
    }
}

impl Drop for ResId {
    fn drop(&mut self) {
        self.gpu.res_ids.free(self.id);
    }
}

/// A blob's place in the host-visible region and how guest mappings of it are cached.
#[derive(Clone, Copy)]
pub(crate) struct HostMapping {
    pub(crate) range: Range,
    /// As the host reported it (or the test override replaced it).
    pub(crate) map_info: u32,
    /// `None`: the attribute is unknown, so the blob must not be mapped.
    pub(crate) mode: Option<CacheMode>,
}

struct State {
    /// The host knows the resource (RESOURCE_CREATE_* answered OK).
    created: bool,
    /// Host blobs: the region range, once RESOURCE_MAP_BLOB was answered.
    mapping: Option<HostMapping>,
}

/// Driver data of a GEM object.
#[pin_data]
pub(crate) struct VirtGpuObject {
    gpu: Arc<VirtGpu>,
    res: ResId,
    pub(crate) kind: Kind,
    pub(crate) blob_flags: u32,
    #[pin]
    state: Mutex<State>,
    /// Held while host work on the object (a transfer) is in flight; WAIT takes it.
    #[pin]
    busy: Mutex<()>,
}

impl VirtGpuObject {
    pub(crate) fn new(
        gpu: &Arc<VirtGpu>,
        kind: Kind,
        blob_flags: u32,
    ) -> impl PinInit<Self, Error> {
        let gpu = gpu.clone();
        try_pin_init!(Self {
            res: ResId::alloc(&gpu)?,
            gpu,
            kind,
            blob_flags,
            state <- new_mutex!(State { created: false, mapping: None }, "virtgpu_object"),
            busy <- new_mutex!((), "virtgpu_object_busy"),
        })
    }

    pub(crate) fn res_id(&self) -> u32 {
        self.res.id
    }

    pub(crate) fn gpu(&self) -> &Arc<VirtGpu> {
        &self.gpu
    }

    /// Records that the host created the resource (it must then be unreferenced).
    pub(crate) fn set_created(&self) {
        self.state.lock().created = true;
    }

    pub(crate) fn mapping(&self) -> Option<HostMapping> {
        self.state.lock().mapping
    }

    /// Marks host work on the object in flight until the guard is dropped.
    pub(crate) fn busy(&self) -> kernel::sync::MutexGuard<'_, ()> {
        self.busy.lock()
    }

    /// Whether no host work is in flight (WAIT with NOWAIT).
    pub(crate) fn try_idle(&self) -> bool {
        self.busy.try_lock().is_some()
    }

    /// Waits until the host work in flight is done.
    pub(crate) fn wait_idle(&self) {
        drop(self.busy.lock());
    }

    pub(crate) fn mappable(&self) -> bool {
        self.blob_flags & wire::BLOB_FLAG_USE_MAPPABLE != 0
    }
}

/// The guest backing of a shmem object as `virtio_gpu_mem_entry`s, physically contiguous
/// segments merged. `ENOMEM` if the command would not fit one buffer.
pub(crate) fn backing_entries(obj: &VgObject) -> Result<KVec<(u64, u32)>> {
    let sgt = obj.shmem_sg_table()?;
    let dma = !obj.gpu().dma_quirk;
    let mut ents: KVec<(u64, u32)> = KVec::new();
    for (addr, len) in sgt.segments(dma) {
        if let Some(last) = ents.last_mut() {
            if last.0.checked_add(u64::from(last.1)) == Some(addr) {
                if let Some(n) = last.1.checked_add(len) {
                    last.1 = n;
                    continue;
                }
            }
        }
        ents.push((addr, len), GFP_KERNEL)?;
    }
    if ents.len() > MAX_BACKING_ENTRIES {
        return Err(ENOMEM);
    }
    Ok(ents)
}

/// Most memory entries one command may carry: bounds the kmalloc of the command buffer
/// (16 bytes each, so 1 MiB) whatever the object size and page fragmentation.
pub(crate) const MAX_BACKING_ENTRIES: usize = 65536;

impl VirtGpuObject {
    /// RESOURCE_MAP_BLOB: places a mappable host blob in the host-visible region.
    /// Idempotent; `EINVAL` for objects that are not mappable host blobs.
    pub(crate) fn map_blob(&self, size: usize) -> Result<HostMapping> {
        if self.kind != Kind::BlobHost3d || !self.mappable() {
            return Err(EINVAL);
        }
        let mut st = self.state.lock();
        if let Some(m) = st.mapping {
            return Ok(m);
        }
        let hv = &self.gpu.host_visible;
        let range = hv.alloc(size as u64, self.res_id())?;
        let req = self.gpu.queues.ctrl.exchange(
            &wire::encode_map_blob(self.res_id(), range.start),
            wire::RESP_MAP_INFO_SIZE,
        );
        let answer = req.and_then(|r| {
            let bytes = r.response()?;
            wire::decode_map_info(bytes).map_err(resp_error)
        });
        let reported = match answer {
            Ok(v) => v,
            Err(e) => {
                // Not mapped, so the range was never in use: reuse is safe... unless the
                // host did map it and only the answer got lost (timeout). Keep it then.
                if e != ETIMEDOUT {
                    hv.free(range);
                }
                return Err(e);
            }
        };
        let map_info = hv.effective_map_info(reported);
        let mode = match map_info::cache_mode(map_info, NonePolicy::Cached) {
            Ok(m) => Some(m),
            Err(e) => {
                dev_warn!(
                    self.gpu.dev(),
                    "resource {}: {}: guest mappings refused\n",
                    self.res_id(),
                    format_args!("{}", e)
                );
                None
            }
        };
        let m = HostMapping {
            range,
            map_info,
            mode,
        };
        st.mapping = Some(m);
        Ok(m)
    }

    /// Tells the host to forget the resource: UNMAP_BLOB (then the range is free), then
    /// RESOURCE_UNREF (then the id and the pages are free). A device that is gone cannot
    /// use anything any more; a device that does not answer may, so that is an error.
    fn release_host(&self) -> Result {
        let mut st = self.state.lock();
        let q = &self.gpu.queues.ctrl;
        if let Some(m) = st.mapping {
            match q.command_teardown(&wire::encode_unmap_blob(self.res_id())) {
                Ok(()) | Err(ENODEV) => {
                    self.gpu.host_visible.free(m.range);
                    st.mapping = None;
                }
                Err(e) => {
                    dev_err!(
                        self.gpu.dev(),
                        "resource {}: UNMAP_BLOB failed: {:?}\n",
                        self.res_id(),
                        e
                    );
                    return Err(e);
                }
            }
        }
        if st.created {
            match q.command_teardown(&wire::encode_resource_unref(self.res_id())) {
                Ok(()) | Err(ENODEV) => st.created = false,
                Err(e) => {
                    dev_err!(
                        self.gpu.dev(),
                        "resource {}: UNREF failed: {:?}\n",
                        self.res_id(),
                        e
                    );
                    return Err(e);
                }
            }
        }
        Ok(())
    }
}

/// The table of our objects' callbacks.
pub(crate) static OBJECT_FUNCS: gem::Funcs<VirtGpuObject> = gem::Funcs::new();

impl gem::DriverObject for VirtGpuObject {
    type Driver = VirtGpuDrm;
    const FUNCS: &'static gem::Funcs<Self> = &OBJECT_FUNCS;

    fn release(obj: &VgObject) -> Result {
        let r = obj.release_host();
        obj.gpu.objects.remove(obj.res_id());
        r
    }

    fn open(obj: &VgObject, file: &crate::VgFile) -> Result {
        file.data().attach(obj)
    }

    fn close(obj: &VgObject, file: &crate::VgFile) {
        file.data().detach(obj)
    }

    fn mmap(obj: &VgObject, vma: &VmaNew) -> Result {
        if obj.kind.has_pages() {
            return obj.mmap_shmem(vma);
        }
        let (phys, mode) = obj.host_window()?;
        // SAFETY: `phys` is the object's range of the host-visible region, device memory
        // that stays reserved for it (and mapped by the host) until the object is
        // released, which cannot happen while the vma holds its reference.
        unsafe { vma.remap_io(phys, mm_mode(mode)) }
    }

    fn vmap_io(obj: &VgObject) -> Result<(u64, mm::CacheMode)> {
        let (phys, mode) = obj.host_window()?;
        Ok((phys, mm_mode(mode)))
    }
}

/// The one cache-mode decision, in the memory-management layer's terms.
fn mm_mode(mode: CacheMode) -> mm::CacheMode {
    match mode {
        CacheMode::Cached => mm::CacheMode::Cached,
        CacheMode::WriteCombine => mm::CacheMode::WriteCombine,
        CacheMode::Uncached => mm::CacheMode::Uncached,
    }
}

impl VirtGpuObject {
    /// Where a mappable host blob lives in the host-visible region and how every guest
    /// mapping of it (userspace, dma-buf, kernel) must be cached. A blob created with
    /// DEFER_MAPPING is placed in the region now. `EINVAL` for objects that are not
    /// mappable host blobs and for blobs whose `map_info` is unknown.
    pub(crate) fn host_window(self: &VgObject) -> Result<(u64, CacheMode)> {
        if self.kind != Kind::BlobHost3d || !self.mappable() {
            return Err(EINVAL);
        }
        let m = self.map_blob(self.size())?;
        self.gpu.objects.update(self);
        let mode = m.mode.ok_or(EINVAL)?;
        let phys = self.gpu.host_visible.phys(&m.range).ok_or(EINVAL)?;
        Ok((phys, mode))
    }
}

/// What debugfs shows of one object.
#[derive(Clone, Copy)]
pub(crate) struct ObjectInfo {
    pub(crate) res_id: u32,
    pub(crate) kind: Kind,
    pub(crate) size: usize,
    pub(crate) mapping: Option<HostMapping>,
}

/// The device's live objects, for debugfs (sorted by resource id).
#[pin_data]
pub(crate) struct ObjectList {
    #[pin]
    list: Mutex<KVec<ObjectInfo>>,
}

impl ObjectList {
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self { list <- new_mutex!(KVec::new(), "virtgpu_objects") })
    }

    fn info(obj: &VgObject) -> ObjectInfo {
        ObjectInfo {
            res_id: obj.res_id(),
            kind: obj.kind,
            size: obj.size(),
            mapping: obj.mapping(),
        }
    }

    /// Lists `obj` (once the host created it).
    pub(crate) fn insert(&self, obj: &VgObject) -> Result {
        let info = Self::info(obj);
        let mut l = self.list.lock();
        let pos = l
            .iter()
            .position(|i| i.res_id > info.res_id)
            .unwrap_or(l.len());
        l.reserve(1, GFP_KERNEL)?;
        l.insert_within_capacity(pos, info).map_err(|_| EINVAL)
    }

    /// Refreshes the entry of `obj` (e.g. after MAP_BLOB).
    pub(crate) fn update(&self, obj: &VgObject) {
        let info = Self::info(obj);
        let mut l = self.list.lock();
        if let Some(i) = l.iter_mut().find(|i| i.res_id == info.res_id) {
            *i = info;
        }
    }

    pub(crate) fn remove(&self, res_id: u32) {
        self.list.lock().retain(|i| i.res_id != res_id);
    }

    /// A snapshot of the list.
    pub(crate) fn snapshot(&self) -> Result<KVec<ObjectInfo>> {
        let l = self.list.lock();
        let mut v = KVec::with_capacity(l.len(), GFP_KERNEL)?;
        for i in l.iter() {
            v.push(*i, GFP_KERNEL)?;
        }
        Ok(v)
    }
}
