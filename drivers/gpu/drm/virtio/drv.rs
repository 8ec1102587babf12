// SPDX-License-Identifier: GPL-2.0

//! Probe and remove: feature negotiation results, config space, queues, capsets, the
//! host-visible region and the DRM device.

use crate::ext::ida::Ida;
use crate::ext::{
    drm,
    mm::IoWindow,
    virtio::{self, VqHandler},
};
use crate::hostmem::HostVisible;
use crate::object::ObjectList;
use crate::proto::validate::Limits;
use crate::proto::{
    features::{self, DeviceCaps, FeatureList},
    wire,
};
use crate::{caps::Capsets, vq::CmdQueue, VirtGpuDrm};
use kernel::{
    c_str,
    page::PAGE_SIZE,
    prelude::*,
    str::CStr,
    sync::{aref::ARef, Arc},
};

/// Per-device state shared by the virtio and DRM sides.
#[pin_data]
pub(crate) struct VirtGpu {
    /// The virtio device, for logging.
    dev: ARef<kernel::device::Device>,
    pub(crate) caps: DeviceCaps,
    pub(crate) num_scanouts: u32,
    /// Size limits of the validation rules (page size, caps, region size).
    pub(crate) limits: Limits,
    /// The device takes guest-physical addresses (no `ACCESS_PLATFORM`).
    pub(crate) dma_quirk: bool,
    pub(crate) queues: Arc<Queues>,
    #[pin]
    pub(crate) capsets: Capsets,
    #[pin]
    pub(crate) host_visible: HostVisible,
    #[pin]
    pub(crate) res_ids: Ida,
    /// Where the cyclic search for the next resource id starts.
    pub(crate) next_res_id: core::sync::atomic::AtomicU32,
    /// Resource ids currently allocated (debugfs): objects plus ids leaked to a host
    /// that never answered.
    pub(crate) live_res_ids: core::sync::atomic::AtomicU32,
    #[pin]
    pub(crate) ctx_ids: Ida,
    #[pin]
    pub(crate) objects: ObjectList,
}

impl VirtGpu {
    pub(crate) fn dev(&self) -> &kernel::device::Device {
        &self.dev
    }

    /// Sends RESOURCE_UNMAP_BLOB for every blob mapped in the host-visible region, before
    /// a reset: QEMU can stall its control queue for good when a reset meets a mapped
    /// blob. The objects' own release later finds the device gone and frees the ranges.
    fn unmap_all_blobs(&self) {
        let Ok(ids) = self.objects.mapped_res_ids() else {
            return;
        };
        for id in ids.iter() {
            let r = self
                .queues
                .ctrl
                .command_teardown(&wire::encode_unmap_blob(*id));
            if let Err(e) = r {
                dev_warn!(
                    self.dev(),
                    "resource {}: UNMAP_BLOB at removal: {:?}\n",
                    id,
                    e
                );
            }
        }
    }
}

/// What probe reads from the device before the queues run.
struct DeviceConfig {
    caps: DeviceCaps,
    num_scanouts: u32,
    num_capsets: u32,
    host_visible: Option<IoWindow>,
}

impl DeviceConfig {
    fn read(vdev: &virtio::Device<'_>) -> Self {
        let mut caps = DeviceCaps::from_features(|bit| vdev.has_feature(bit));
        if vdev.has_feature(features::F_BLOB_ALIGNMENT) {
            let a = vdev.read_config_u32(wire::config::BLOB_ALIGNMENT);
            // Forks of crosvm and libkrun use bit 5 for other features: trust it only with
            // a sane alignment.
            if a != 0 && a.is_power_of_two() {
                caps.blob_alignment = Some(a);
            } else {
                dev_warn!(
                    vdev.as_dev(),
                    "BLOB_ALIGNMENT offered with blob_alignment {:#x}: ignoring the feature\n",
                    a
                );
            }
        }
        let host_visible = vdev
            .shm_window(wire::SHM_ID_HOST_VISIBLE)
            .filter(|w| !w.is_empty());
        if host_visible.is_none() && vdev.shm_region(wire::SHM_ID_HOST_VISIBLE).is_some() {
            dev_warn!(
                vdev.as_dev(),
                "host-visible region empty or not page aligned: ignoring it\n"
            );
        }
        caps.host_visible = host_visible.is_some();
        Self {
            caps,
            num_scanouts: vdev.read_config_u32(wire::config::NUM_SCANOUTS),
            num_capsets: vdev.read_config_u32(wire::config::NUM_CAPSETS),
            host_visible,
        }
    }
}

/// The control and cursor queues; also receives their interrupts.
pub(crate) struct Queues {
    pub(crate) ctrl: Arc<CmdQueue>,
    pub(crate) cursor: Arc<CmdQueue>,
}

impl Queues {
    /// Stops the device and frees its queues: reset (no more buffer use or interrupts),
    /// then complete or fail whatever is still queued, then delete the virtqueues.
    fn stop(&self, vdev: &virtio::Device<'_>) {
        vdev.reset();
        self.ctrl.shutdown();
        self.cursor.shutdown();
        vdev.del_vqs();
    }
}

impl VqHandler for Queues {
    fn vq_done(&self, index: usize) {
        match index {
            0 => self.ctrl.drain(),
            _ => self.cursor.drain(),
        }
    }
}

/// What stays bound to the virtio device.
pub(crate) struct Binding {
    gpu: Arc<VirtGpu>,
    drm: drm::Registration<VirtGpuDrm>,
}

/// The virtio side of the driver.
pub(crate) struct VirtGpuVirtio;

static DRM_VTABLE: drm::DriverVTable<VirtGpuDrm> = drm::DriverVTable::new();

impl VirtGpuVirtio {
    /// Probe once the queues run: capsets, then the DRM device.
    fn init(
        vdev: &virtio::Device<'_>,
        cfg: DeviceConfig,
        queues: &Arc<Queues>,
    ) -> Result<Pin<KBox<Binding>>> {
        let dev = vdev.as_dev();
        let infos = match Capsets::fetch_infos(&queues.ctrl, cfg.num_capsets) {
            Ok(infos) => infos,
            Err(e) => {
                // The C driver goes on without capsets too: 2D keeps working.
                dev_err!(
                    dev,
                    "capset infos unusable ({:?}): 3D contexts disabled\n",
                    e
                );
                KVec::new()
            }
        };
        for (i, c) in infos.iter().enumerate() {
            dev_info!(
                dev,
                "capset {}: id {}, max version {}, max size {}\n",
                i,
                c.id,
                c.max_version,
                c.max_size
            );
        }
        let caps = DeviceCaps {
            capset_mask: Capsets::mask(&infos),
            ..cfg.caps
        };
        let hv_len = cfg.host_visible.map_or(0, |w| w.len());
        let limits = Limits::new(PAGE_SIZE as u64, hv_len)
            .cap_backing_to_ram(crate::ext::mm::total_ram_bytes());
        // Ranges of the region start on page boundaries, or the device's blob alignment.
        let hv_align = caps
            .blob_alignment
            .map_or(PAGE_SIZE as u64, |a| u64::from(a).max(PAGE_SIZE as u64));
        let gpu = Arc::pin_init(
            try_pin_init!(VirtGpu {
                dev: vdev.as_dev().into(),
                caps,
                num_scanouts: cfg.num_scanouts,
                limits,
                dma_quirk: vdev.has_dma_quirk(),
                queues: queues.clone(),
                capsets <- Capsets::new(infos),
                host_visible <- HostVisible::new(cfg.host_visible, hv_align),
                res_ids <- Ida::new(),
                next_res_id: core::sync::atomic::AtomicU32::new(1),
                live_res_ids: core::sync::atomic::AtomicU32::new(0),
                ctx_ids <- Ida::new(),
                objects <- ObjectList::new(),
            }),
            GFP_KERNEL,
        )?;

        let parent = vdev.parent().ok_or(ENODEV)?;
        let mut reg = drm::Registration::new(&DRM_VTABLE, parent, gpu.clone())?;
        crate::debugfs::add_files(&reg);
        reg.register()?;

        // The protocol crate's `core::fmt::Display` reaches the kernel printer via `Arguments`.
        dev_info!(
            dev,
            "features: {}\n",
            format_args!("{}", FeatureList(&caps))
        );
        if let Some(w) = cfg.host_visible {
            dev_info!(
                dev,
                "host-visible region: {:#x} +{:#x}\n",
                w.phys(),
                w.len()
            );
        }
        dev_info!(
            dev,
            "{} scanouts, {} capsets, capset mask {:#x}\n",
            cfg.num_scanouts,
            cfg.num_capsets,
            caps.capset_mask
        );
        Ok(KBox::pin(Binding { gpu, drm: reg }, GFP_KERNEL)?)
    }
}

impl virtio::Driver for VirtGpuVirtio {
    type Data = Binding;
    // Not "virtio_gpu": that is the C driver's name and both may be loaded at once.
    const NAME: &'static CStr = c_str!("virtio_gpu_rs");
    const DEVICE_ID: u32 = crate::ext::bindings::VIRTIO_ID_GPU;
    const FEATURES: &'static [u32] = features::DRIVER_FEATURES;

    fn probe(vdev: &virtio::Device<'_>) -> Result<Pin<KBox<Binding>>> {
        let dev = vdev.as_dev();
        if !vdev.has_feature(features::F_VERSION_1) {
            dev_err!(
                dev,
                "legacy (pre-1.0) virtio-gpu devices are not supported\n"
            );
            return Err(ENODEV);
        }
        let cfg = DeviceConfig::read(vdev);
        let queues = Arc::new(
            Queues {
                ctrl: CmdQueue::new()?,
                cursor: CmdQueue::new()?,
            },
            GFP_KERNEL,
        )?;
        let [ctrl_vq, cursor_vq] =
            vdev.find_vqs([c_str!("control"), c_str!("cursor")], queues.clone())?;
        if let Err(e) = queues
            .ctrl
            .attach(ctrl_vq)
            .and_then(|()| queues.cursor.attach(cursor_vq))
        {
            queues.stop(vdev);
            return Err(e);
        }
        vdev.ready();

        Self::init(vdev, cfg, &queues).inspect_err(|_| queues.stop(vdev))
    }
    fn remove(vdev: &virtio::Device<'_>, data: Pin<KBox<Binding>>) {
        // Unplug the DRM device first (waits for running ioctls and mmaps, zaps the
        // mappings), then take the host blobs out of the host-visible region while the
        // device still answers, then stop the device and fail what is still queued.
        let Binding { gpu, drm } = KBox::into_inner(Pin::into_inner(data));
        // Submissions still waiting in a file's queue fail from here on (ENODEV).
        gpu.queues.ctrl.stop_submissions();
        drop(drm);
        gpu.unmap_all_blobs();
        gpu.queues.stop(vdev);
        dev_info!(vdev.as_dev(), "removed\n");
    }
}
