// SPDX-License-Identifier: GPL-2.0

//! Probe and remove: feature negotiation results, config space, queues, capsets, the
//! host-visible region and the DRM device.

use crate::ext::{
    drm,
    virtio::{self, ShmRegion, VqHandler},
};
use crate::proto::{
    features::{self, DeviceCaps},
    wire,
};
use crate::{caps::Capsets, vq::CmdQueue, VirtGpuDrm};
use kernel::{c_str, prelude::*, str::CStr, sync::Arc};

/// Per-device state shared by the virtio and DRM sides.
#[pin_data]
pub(crate) struct VirtGpu {
    pub(crate) caps: DeviceCaps,
    pub(crate) num_scanouts: u32,
    pub(crate) num_capsets: u32,
    pub(crate) host_visible: Option<ShmRegion>,
    pub(crate) ctrlq: Arc<CmdQueue>,
    pub(crate) cursorq: Arc<CmdQueue>,
    #[pin]
    pub(crate) capsets: Capsets,
}

/// Receives the interrupts of both queues.
struct Queues {
    ctrl: Arc<CmdQueue>,
    cursor: Arc<CmdQueue>,
}

impl VqHandler for Queues {
    fn vq_done(&self, index: usize) {
        match index {
            0 => self.ctrl.drain(),
            _ => self.cursor.drain(),
        }
    }
}

/// Stops the device and frees its queues: reset (no more buffer use or interrupts), then
/// complete or fail whatever is still queued, then delete the virtqueues.
fn stop_queues(vdev: &virtio::Device<'_>, ctrlq: &CmdQueue, cursorq: &CmdQueue) {
    vdev.reset();
    ctrlq.shutdown();
    cursorq.shutdown();
    vdev.del_vqs();
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
    #[allow(clippy::too_many_arguments)]
    fn init(
        vdev: &virtio::Device<'_>,
        mut caps: DeviceCaps,
        num_scanouts: u32,
        num_capsets: u32,
        host_visible: Option<ShmRegion>,
        ctrlq: &Arc<CmdQueue>,
        cursorq: &Arc<CmdQueue>,
    ) -> Result<Pin<KBox<Bound>>> {
        let dev = vdev.as_dev();
        let infos = match Capsets::fetch_infos(ctrlq, num_capsets) {
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
        let gpu = Arc::pin_init(
            pin_init!(VirtGpu {
                caps: DeviceCaps { capset_mask: Capsets::mask(&infos), ..caps },
                num_scanouts,
                num_capsets,
                host_visible,
                ctrlq: ctrlq.clone(),
                cursorq: cursorq.clone(),
                capsets <- Capsets::new(infos),
            }),
            GFP_KERNEL,
        )?;
        caps = gpu.caps;

        let parent = vdev.parent().ok_or(ENODEV)?;
        let mut reg = drm::Registration::new(&DRM_VTABLE, parent, gpu.clone())?;
        crate::debugfs::add_files(&reg);
        reg.register()?;

        let on = |b: bool| if b { '+' } else { '-' };
        dev_info!(
            dev,
            "features: {}virgl {}edid {}resource_uuid {}resource_blob {}host_visible {}context_init {}blob_alignment\n",
            on(caps.virgl_3d), on(caps.edid), on(caps.resource_uuid), on(caps.resource_blob),
            on(caps.host_visible), on(caps.context_init), on(caps.blob_alignment.is_some())
        );
        if let Some(r) = host_visible {
            dev_info!(dev, "host-visible region: {:#x} +{:#x}\n", r.addr, r.len);
        }
        dev_info!(
            dev,
            "{} scanouts, {} capsets, capset mask {:#x}\n",
            num_scanouts,
            num_capsets,
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
        let mut caps = DeviceCaps::from_features(|bit| vdev.has_feature(bit));
        if vdev.has_feature(features::F_BLOB_ALIGNMENT) {
            caps.blob_alignment = Some(vdev.read_config_u32(wire::config::BLOB_ALIGNMENT));
        }
        let num_scanouts = vdev.read_config_u32(wire::config::NUM_SCANOUTS);
        let num_capsets = vdev.read_config_u32(wire::config::NUM_CAPSETS);
        let host_visible = vdev
            .shm_region(wire::SHM_ID_HOST_VISIBLE)
            .filter(|r| r.len > 0);
        caps.host_visible = host_visible.is_some();

        let ctrlq = CmdQueue::new()?;
        let cursorq = CmdQueue::new()?;
        let handler = Arc::new(
            Queues {
                ctrl: ctrlq.clone(),
                cursor: cursorq.clone(),
            },
            GFP_KERNEL,
        )?;
        let [ctrl_vq, cursor_vq] = vdev.find_vqs([c_str!("control"), c_str!("cursor")], handler)?;
        ctrlq.attach(ctrl_vq);
        cursorq.attach(cursor_vq);
        vdev.ready();

        match Self::init(
            vdev,
            caps,
            num_scanouts,
            num_capsets,
            host_visible,
            &ctrlq,
            &cursorq,
        ) {
            Ok(bound) => Ok(bound),
            Err(e) => {
                stop_queues(vdev, &ctrlq, &cursorq);
                Err(e)
            }
        }
    }

    fn remove(vdev: &virtio::Device<'_>, data: Pin<KBox<Bound>>) {
        // Unplug the DRM device first (waits for running ioctls), then stop the device,
        // then fail what is still queued.
        let Bound { gpu, drm } = KBox::into_inner(Pin::into_inner(data));
        drop(drm);
        stop_queues(vdev, &gpu.ctrlq, &gpu.cursorq);
        dev_info!(vdev.as_dev(), "removed\n");
    }
}
