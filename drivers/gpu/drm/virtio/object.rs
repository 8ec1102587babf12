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
    gem::{self, Mmap, Object},
    mm,
};
use crate::proto::{
    map_info::{self, CacheMode, NonePolicy},
    range::Range,
    wire::{self, RespError},
};
use crate::{resp_error, VirtGpuDrm};
use core::sync::atomic::Ordering;
use kernel::{
    alloc::flags::__GFP_NOWARN,
    new_mutex,
    prelude::*,
    rbtree::RBTree,
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
    /// A foreign dma-buf (PRIME import), attached but not mapped: the host has no
    /// resource for it, and its CPU mappings are the exporter's.
    Import,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Res2d => "2d",
            Kind::Res3d => "3d",
            Kind::BlobGuest => "blob-guest",
            Kind::BlobHost3d => "blob-host3d",
            Kind::BlobHost3dGuest => "blob-host3d-guest",
            Kind::Import => "import",
        }
    }

    /// Whether the object has shmem pages.
    pub(crate) fn has_pages(self) -> bool {
        !matches!(self, Kind::BlobHost3d | Kind::Import)
    }

    /// The `blob_mem` RESOURCE_INFO reports (0 for non-blob resources).
    pub(crate) fn blob_mem(self) -> u32 {
        match self {
            Kind::Res2d | Kind::Res3d | Kind::Import => 0,
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
    /// Ids are positive `int`s, as in the C driver (0 means "no resource" on the wire),
    /// handed out cyclically: a freed id comes back only after all others were used, so
    /// a command stream of another context that still names an old resource does not
    /// hit a new one (upstream never reuses ids by default, for virglrenderer).
    pub(crate) fn alloc(gpu: &Arc<VirtGpu>) -> Result<Self> {
        const MAX: u32 = i32::MAX as u32;
        let next = gpu.next_res_id.load(Ordering::Relaxed).clamp(1, MAX);
        let id = match gpu.res_ids.alloc(next, MAX) {
            Err(e) if e == ENOSPC && next > 1 => gpu.res_ids.alloc(1, next - 1),
            r => r,
        }?;
        gpu.next_res_id
            .store(if id == MAX { 1 } else { id + 1 }, Ordering::Relaxed);
        gpu.live_res_ids.fetch_add(1, Ordering::Relaxed);
        Ok(Self {
            gpu: gpu.clone(),
            id,
        })
    }
}

impl Drop for ResId {
    fn drop(&mut self) {
        self.gpu.res_ids.free(self.id);
        self.gpu.live_res_ids.fetch_sub(1, Ordering::Relaxed);
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

/// Where a host blob stands with RESOURCE_MAP_BLOB.
#[derive(Clone, Copy)]
enum MapState {
    Unmapped,
    /// MAP_BLOB was sent for `Range` but no usable answer came (timeout, the caller was
    /// killed, a malformed answer): the host may have mapped it, so the range stays
    /// reserved until an UNMAP_BLOB is answered.
    Unknown(Range),
    Mapped(HostMapping),
}

/// What the host has for an import ([`Kind::Import`]): nothing until the first device
/// use (`prime::import_use`), then one resource for the import's life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ImportHost {
    None,
    /// A resource with a format, 1024 B8G8R8A8 pixels (4 KiB) per row, one row per 4 KiB of
    /// the buffer (a texture with virgl, a 2D resource without): the target of transfers.
    Image,
    /// A BLOB_MEM_GUEST blob, for contexts that take memory by resource id (venus).
    GuestBlob,
}

pub(crate) struct State {
    /// The host may know the resource: set before RESOURCE_CREATE_* is sent, so the
    /// release sends RESOURCE_UNREF even if the answer never came.
    pub(crate) created: bool,
    map: MapState,
    /// Imports only: the host resource, and the contexts it is attached to (objects of
    /// ours are attached to every file's context at handle creation; an import only once
    /// it has a host resource, at its first use in that file).
    pub(crate) import: ImportHost,
    pub(crate) import_ctxs: KVec<u32>,
    /// The exporter moved the buffer: the host resource has no backing until the next use
    /// attaches the new pages.
    pub(crate) import_stale: bool,
    /// RESOURCE_ASSIGN_UUID's answer, asked once (at the first `get_uuid` of an export);
    /// `Some(None)`: the host refused or did not answer.
    uuid: Option<Option<[u8; 16]>>,
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
            state <- new_mutex!(
                State {
                    created: false,
                    map: MapState::Unmapped,
                    import: ImportHost::None,
                    import_ctxs: KVec::new(),
                    import_stale: false,
                    uuid: None,
                },
                "virtgpu_object"
            ),
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

    /// The object's host state, locked: serialises an import's first uses.
    pub(crate) fn state(&self) -> kernel::sync::MutexGuard<'_, State> {
        self.state.lock()
    }

    /// The resource of an import is no longer attached to context `ctx_id`: whether it
    /// was (then the caller detaches it).
    pub(crate) fn import_forget_ctx(&self, ctx_id: u32) -> bool {
        let mut st = self.state.lock();
        match st.import_ctxs.iter().position(|&c| c == ctx_id) {
            Some(i) => {
                let _ = st.import_ctxs.remove(i);
                true
            }
            None => false,
        }
    }

    pub(crate) fn mapping(&self) -> Option<HostMapping> {
        match self.state.lock().map {
            MapState::Mapped(m) => Some(m),
            _ => None,
        }
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
pub(crate) fn backing_entries(obj: &VgObject) -> Result<KVVec<(u64, u32)>> {
    let sgt = obj.shmem_sg_table()?;
    let dma = !obj.gpu().dma_quirk;
    let mut ents: KVVec<(u64, u32)> = KVVec::new();
    for (addr, len) in sgt.segments(dma) {
        push_entry(&mut ents, addr, len)?;
    }
    Ok(ents)
}

/// Appends the segment `addr..addr + len` to `ents`, merged into the last entry if it
/// continues it; `ENOMEM` beyond [`MAX_BACKING_ENTRIES`].
pub(crate) fn push_entry(ents: &mut KVVec<(u64, u32)>, addr: u64, len: u32) -> Result {
    if let Some(last) = ents.last_mut() {
        if last.0.checked_add(u64::from(last.1)) == Some(addr) {
            if let Some(n) = last.1.checked_add(len) {
                last.1 = n;
                return Ok(());
            }
        }
    }
    if ents.len() == MAX_BACKING_ENTRIES {
        return Err(ENOMEM);
    }
    ents.push((addr, len), GFP_KERNEL | __GFP_NOWARN)?;
    Ok(())
}

/// Most memory entries one command may carry: bounds the kmalloc of the command buffer
/// (16 bytes each, so 1 MiB) whatever the object size and page fragmentation.
pub(crate) const MAX_BACKING_ENTRIES: usize = 65536;

impl VirtGpuObject {
    /// RESOURCE_MAP_BLOB: places a mappable host blob in the host-visible region.
    /// Idempotent; `EINVAL` for objects that are not mappable host blobs, `EIO` once an
    /// earlier attempt got no usable answer.
    pub(crate) fn map_blob(&self, size: usize) -> Result<HostMapping> {
        if self.kind != Kind::BlobHost3d || !self.mappable() {
            return Err(EINVAL);
        }
        let mut st = self.state.lock();
        match st.map {
            MapState::Mapped(m) => return Ok(m),
            MapState::Unknown(_) => return Err(EIO),
            MapState::Unmapped => {}
        }
        let hv = &self.gpu.host_visible;
        let range = hv.alloc(size as u64, self.res_id())?;
        st.map = MapState::Unknown(range);
        let answer = self
            .gpu
            .queues
            .ctrl
            .exchange(
                &wire::encode_map_blob(self.res_id(), range.start),
                wire::RESP_MAP_INFO_SIZE,
            )
            .and_then(|r| Ok(wire::decode_map_info(r.response()?)));
        let reported = match answer {
            Ok(Ok(v)) => v,
            // The host refused: nothing is mapped, the range is free again.
            Ok(Err(e @ RespError::Device(_))) => {
                hv.free(range);
                st.map = MapState::Unmapped;
                return Err(resp_error(e));
            }
            Ok(Err(e)) => return Err(resp_error(e)),
            Err(e) if e == ENODEV => {
                hv.free(range);
                st.map = MapState::Unmapped;
                return Err(e);
            }
            Err(e) => return Err(e),
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
        st.map = MapState::Mapped(m);
        Ok(m)
    }

    /// Tells the host to forget the resource: UNMAP_BLOB (then the range is free), then
    /// RESOURCE_UNREF (then the id and the pages are free). A device that is gone holds
    /// nothing any more; a device that does not answer may still use everything, so that
    /// is an error and the caller leaks the object.
    fn release_host(&self) -> Result {
        let mut st = self.state.lock();
        let q = &self.gpu.queues.ctrl;
        let range = match st.map {
            MapState::Unmapped => None,
            MapState::Unknown(r) => Some((r, false)),
            MapState::Mapped(m) => Some((m.range, true)),
        };
        if let Some((range, mapped)) = range {
            match q.command_teardown(&wire::encode_unmap_blob(self.res_id())) {
                Ok(Ok(())) => self.gpu.host_visible.free(range),
                Err(e) if e == ENODEV => self.gpu.host_visible.free(range),
                // Refused: for a blob we never saw mapped, it was not; for a mapped one
                // the host may keep it, so the range is never handed out again.
                Ok(Err(_)) if !mapped => self.gpu.host_visible.free(range),
                Ok(Err(e)) => dev_err!(
                    self.gpu.dev(),
                    "resource {}: UNMAP_BLOB refused ({:?}): range {:#x} stays reserved\n",
                    self.res_id(),
                    e,
                    range.start
                ),
                Err(e) => {
                    dev_err!(
                        self.gpu.dev(),
                        "resource {}: UNMAP_BLOB got no answer: {:?}\n",
                        self.res_id(),
                        e
                    );
                    return Err(e);
                }
            }
            st.map = MapState::Unmapped;
        }
        if st.created {
            // Any answer means the host processed it and holds nothing for this id.
            match q.command_teardown(&wire::encode_resource_unref(self.res_id())) {
                Ok(_) => st.created = false,
                Err(e) if e == ENODEV => st.created = false,
                Err(e) => {
                    dev_err!(
                        self.gpu.dev(),
                        "resource {}: RESOURCE_UNREF got no answer: {:?}\n",
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

    fn release(&self) -> Result {
        let r = self.release_host();
        self.gpu.objects.remove(self.res_id());
        r
    }

    fn open(obj: &VgObject, file: &crate::VgFile) -> Result {
        file.data().attach(obj)
    }

    fn close(obj: &VgObject, file: &crate::VgFile) {
        file.data().detach(obj)
    }

    fn mmap(m: &Mmap<'_, Self>) -> Result {
        let obj = m.obj();
        if obj.kind.has_pages() {
            return m.map_shmem();
        }
        let off = u64::try_from(m.offset()?).map_err(|_| EINVAL)?;
        let (window, start, mode) = obj.host_window()?;
        let start = start.checked_add(off).ok_or(EINVAL)?;
        m.vma().remap_io(&window, start, mm_mode(mode))
    }

    fn vmap_io(obj: &VgObject) -> Result<(mm::IoWindow, u64, mm::CacheMode)> {
        let (window, start, mode) = obj.host_window()?;
        Ok((window, start, mm_mode(mode)))
    }

    fn import_invalidate(obj: &VgObject, guard: &gem::ResvGuard<'_>) {
        crate::prime::import_invalidate(obj, guard)
    }

    /// As upstream: resources and CROSS_DEVICE blobs have a UUID if the device assigns
    /// them (RESOURCE_UUID); asked on first use and kept. `ENODEV` otherwise.
    fn uuid(obj: &VgObject) -> Result<[u8; 16]> {
        let gpu = &obj.gpu;
        let named = match obj.kind {
            Kind::Res2d | Kind::Res3d => true,
            Kind::Import => false,
            _ => obj.blob_flags & wire::BLOB_FLAG_USE_CROSS_DEVICE != 0,
        };
        if !gpu.caps.resource_uuid || !named {
            return Err(ENODEV);
        }
        let mut st = obj.state.lock();
        if let Some(u) = st.uuid {
            return u.ok_or(ENODEV);
        }
        let answer = gpu
            .queues
            .ctrl
            .exchange(
                &wire::encode_assign_uuid(obj.res_id()),
                wire::RESP_RESOURCE_UUID_SIZE,
            )
            .and_then(|r| r.response().map(wire::decode_resource_uuid));
        let uuid = match answer {
            Ok(Ok(u)) => Some(u),
            Ok(Err(e)) => {
                dev_warn!(
                    gpu.dev(),
                    "resource {}: no UUID: {:?}\n",
                    obj.res_id(),
                    resp_error(e)
                );
                None
            }
            // Not answered (yet): asking again may work.
            Err(e) => return Err(e),
        };
        st.uuid = Some(uuid);
        uuid.ok_or(ENODEV)
    }
}

/// The one cache-mode decision, in the memory-management layer's terms.
pub(crate) fn mm_mode(mode: CacheMode) -> mm::CacheMode {
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
    pub(crate) fn host_window(self: &VgObject) -> Result<(mm::IoWindow, u64, CacheMode)> {
        if self.kind != Kind::BlobHost3d || !self.mappable() {
            return Err(EINVAL);
        }
        let m = self.map_blob(self.size())?;
        self.gpu.objects.update(self);
        let mode = m.mode.ok_or(EINVAL)?;
        let window = self.gpu.host_visible.region().ok_or(EINVAL)?;
        Ok((window, m.range.start, mode))
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

/// The device's live objects, for debugfs, by resource id.
#[pin_data]
pub(crate) struct ObjectList {
    #[pin]
    list: Mutex<RBTree<u32, ObjectInfo>>,
}

impl ObjectList {
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self { list <- new_mutex!(RBTree::new(), "virtgpu_objects") })
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
        self.list
            .lock()
            .try_create_and_insert(info.res_id, info, GFP_KERNEL)?;
        Ok(())
    }

    /// Refreshes the entry of `obj` (e.g. after MAP_BLOB).
    pub(crate) fn update(&self, obj: &VgObject) {
        let info = Self::info(obj);
        if let Some(i) = self.list.lock().get_mut(&info.res_id) {
            *i = info;
        }
    }

    pub(crate) fn remove(&self, res_id: u32) {
        self.list.lock().remove(&res_id);
    }

    /// The resource ids of the blobs mapped in the host-visible region.
    pub(crate) fn mapped_res_ids(&self) -> Result<KVVec<u32>> {
        let l = self.list.lock();
        let mut v = KVVec::new();
        for (id, i) in l.iter() {
            if i.mapping.is_some() {
                v.push(*id, GFP_KERNEL | __GFP_NOWARN)?;
            }
        }
        Ok(v)
    }

    /// A snapshot of the list, in resource id order.
    pub(crate) fn snapshot(&self) -> Result<KVVec<ObjectInfo>> {
        let l = self.list.lock();
        let mut v = KVVec::new();
        for (_, i) in l.iter() {
            v.push(*i, GFP_KERNEL | __GFP_NOWARN)?;
        }
        Ok(v)
    }
}
