// SPDX-License-Identifier: GPL-2.0

//! Probe and remove: feature negotiation results, config space, queues, capsets, the
//! host-visible region and the DRM device.

use crate::ext::{
    drm,
    virtio::{self, ShmRegion, VqHandler},
};
use crate::proto::{
    features::{self, DeviceCaps, FeatureList},
    wire,
};
use crate::{caps::Capsets, vq::CmdQueue, VirtGpuDrm};
use kernel::{c_str, prelude::*, str::CStr, sync::Arc};

/// Per-device state shared by the virtio and DRM sides.
#[pin_data]
pub(crate) struct VirtGpu {
    pub(crate) caps: DeviceCaps,
    pub(crate) num_scanouts: u32,
    pub(crate) host_visible: Option<ShmRegion>,
    pub(crate) queues: Arc<Queues>,
    #[pin]
    pub(crate) capsets: Capsets,
}

/// What probe reads from the device before the queues run.
struct DeviceConfig {
    caps: DeviceCaps,
    num_scanouts: u32,
    num_capsets: u32,
    host_visible: Option<ShmRegion>,
}

impl DeviceConfig {
    fn read(vdev: &virtio::Device<'_>) -> Self {
        let mut caps = DeviceCaps::from_features(|bit| vdev.has_feature(bit));
        if vdev.has_feature(features::F_BLOB_ALIGNMENT) {
            caps.blob_alignment = Some(vdev.read_config_u32(wire::config::BLOB_ALIGNMENT));
        }
        let host_visible = vdev
            .shm_region(wire::SHM_ID_HOST_VISIBLE)
            .filter(|r| r.len > 0);
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
pub(crate) struct Bound {
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
    ) -> Result<Pin<KBox<Bound>>> {
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
        let gpu = Arc::pin_init(
            pin_init!(VirtGpu {
                caps,
                num_scanouts: cfg.num_scanouts,
                host_visible: cfg.host_visible,
                queues: queues.clone(),
                capsets <- Capsets::new(infos),
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
        if let Some(r) = cfg.host_visible {
            dev_info!(dev, "host-visible region: {:#x} +{:#x}\n", r.addr, r.len);
        }
        dev_info!(
            dev,
            "{} scanouts, {} capsets, capset mask {:#x}\n",
            cfg.num_scanouts,
            cfg.num_capsets,
            caps.capset_mask
        );
        Ok(KBox::pin(Bound { gpu, drm: reg }, GFP_KERNEL)?)
    }
}

impl virtio::Driver for VirtGpuVirtio {
    type Data = Bound;
    // Not "virtio_gpu": that is the C driver's name and both may be loaded at once.
    const NAME: &'static CStr = c_str!("virtio_gpu_rs");
    const DEVICE_ID: u32 = crate::ext::bindings::VIRTIO_ID_GPU;
    const FEATURES: &'static [u32] = features::DRIVER_FEATURES;

    fn probe(vdev: &virtio::Device<'_>) -> Result<Pin<KBox<Bound>>> {
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
        queues.ctrl.attach(ctrl_vq);
        queues.cursor.attach(cursor_vq);
        vdev.ready();

        Self::init(vdev, cfg, &queues).inspect_err(|_| queues.stop(vdev))
    }
    fn remove(vdev: &virtio::Device<'_>, data: Pin<KBox<Bound>>) {
        // Unplug the DRM device first (waits for running ioctls), then stop the device,
        // then fail what is still queued.
        let Bound { gpu, drm } = KBox::into_inner(Pin::into_inner(data));
        drop(drm);
        gpu.queues.stop(vdev);
        dev_info!(vdev.as_dev(), "removed\n");
    }
}
