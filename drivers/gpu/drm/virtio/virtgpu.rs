// SPDX-License-Identifier: GPL-2.0

//! virtio-gpu DRM driver, in Rust.
//!
//! Binds virtio devices of type GPU (id 16) and exposes them as DRM devices named
//! `virtio_gpu` with the upstream `virtgpu_drm.h` UAPI.

/// Our abstraction layer over what the 7.2 kernel crate lacks (`rust/` at the top of the
/// repository), compiled into this crate. Shaped for the kernel crate: not every item is
/// used by this driver yet.
#[allow(dead_code)]
#[path = "../../../../rust"]
pub mod ext {
    pub mod bindings;
    pub mod device;
    pub mod dma_buf;
    pub mod dma_fence;
    pub mod drm;
    pub mod gem;
    pub mod ida;
    pub mod mm;
    pub mod prime;
    pub mod sync;
    pub mod syncobj;
    pub mod task;
    pub mod virtio;
    pub mod workqueue;
}

/// The wire protocol and UAPI, a field-for-field mirror of the C headers (documented
/// there); it also builds and is tested on the host by cargo.
#[allow(dead_code, missing_docs)]
#[path = "proto/src/lib.rs"]
pub mod proto;

mod caps;
mod context;
mod debugfs;
mod drv;
mod hostmem;
mod ioctl;
mod layout;
mod object;
mod prime;
mod submit;
#[cfg(CONFIG_KUNIT)]
mod tests;
mod vq;

use ext::drm;
use kernel::{c_str, prelude::*};

/// The DRM side of the driver.
pub(crate) struct VirtGpuDrm;

/// Our DRM device.
pub(crate) type VgDevice = drm::Device<VirtGpuDrm>;
/// An open file of our DRM device.
pub(crate) type VgFile = drm::File<VirtGpuDrm>;

impl drm::Driver for VirtGpuDrm {
    type Data = drv::VirtGpu;
    type File = context::VirtGpuFile;
    type Object = object::VirtGpuObject;

    const INFO: drm::DriverInfo = drm::DriverInfo {
        name: c_str!("virtio_gpu"),
        desc: c_str!("virtio GPU (Rust)"),
        major: 0,
        minor: 1,
        patchlevel: 0,
    };
    const FEATURES: u32 = ext::bindings::drm_driver_feature_DRIVER_GEM
        | ext::bindings::drm_driver_feature_DRIVER_RENDER
        | ext::bindings::drm_driver_feature_DRIVER_SYNCOBJ
        | ext::bindings::drm_driver_feature_DRIVER_SYNCOBJ_TIMELINE;
    const IOCTLS: &'static [ext::bindings::drm_ioctl_desc] = ioctl::IOCTLS;

    fn open(dev: &drm::Device<Self>) -> Result<Pin<KBox<context::VirtGpuFile>>> {
        context::VirtGpuFile::new(dev.data_arc())
    }

    fn import_data(dev: &drm::Device<Self>) -> impl PinInit<object::VirtGpuObject, Error> {
        object::VirtGpuObject::new(&dev.data_arc(), object::Kind::Import, 0)
    }

    const HAS_DUMB: bool = true;

    fn dumb_create(
        dev: &drm::Device<Self>,
        file: &drm::File<Self>,
        width: u32,
        height: u32,
        bpp: u32,
    ) -> Result<drm::DumbBuffer> {
        ioctl::dumb_create(dev, file, width, height, bpp)
    }
}

/// Errnos the kernel crate of 7.2 has no constants for.
pub(crate) mod errno {
    use kernel::{bindings, error::Error};

    fn err(code: u32) -> Error {
        // The UAPI errno constants are small positive numbers.
        Error::from_errno(-(code as i32))
    }

    /// `EPROTO`: the device broke the protocol.
    pub(crate) fn eproto() -> Error {
        err(bindings::EPROTO)
    }

    /// `ENOSYS`: GET_CAPS on a device without capsets (upstream's errno).
    pub(crate) fn enosys() -> Error {
        err(bindings::ENOSYS)
    }

    /// `ECANCELED`: the fence of a submission that was never sent (its file was closed).
    pub(crate) fn ecanceled() -> Error {
        err(bindings::ECANCELED)
    }
}

/// Maps a protocol-level response error to an errno.
pub(crate) fn resp_error(e: proto::wire::RespError) -> Error {
    Error::from_errno(-proto::wire::resp_errno(e))
}

struct VirtGpuModule {
    _reg: ext::virtio::Registration<drv::VirtGpuVirtio>,
    /// Dropped after the registration: unbinding queues entity work, drained here.
    _wq: ext::workqueue::ModuleQueueOwner,
}

impl kernel::Module for VirtGpuModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let wq = submit::SUBMIT_WQ.init(c_str!("virtio_gpu_rs_submit"))?;
        Ok(Self {
            _reg: ext::virtio::Registration::new(module)?,
            _wq: wq,
        })
    }
}

module! {
    type: VirtGpuModule,
    name: "virtio_gpu_rs",
    authors: ["virtio-gpu-rs developers"],
    description: "virtio-gpu DRM driver written in Rust",
    license: "GPL",
}
