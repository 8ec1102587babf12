// SPDX-License-Identifier: GPL-2.0

//! A borrowed `struct device` for passing between our abstractions.
//!
//! The 7.2 kernel crate keeps `Device::as_raw` and `Device::parent` private, so a device
//! found by one abstraction (the virtio transport's parent) cannot be handed to another
//! (DRM) through `kernel::device::Device`.

use super::bindings;
use core::{marker::PhantomData, ptr::NonNull};

/// A device that is valid for `'a`.
///
/// # Invariants
///
/// `ptr` points to a live `struct device` for `'a`.
#[derive(Clone, Copy)]
pub struct DeviceRef<'a> {
    ptr: NonNull<bindings::device>,
    _p: PhantomData<&'a bindings::device>,
}

impl<'a> DeviceRef<'a> {
    /// # Safety
    ///
    /// `ptr` must point to a device that stays alive for `'a`.
    pub unsafe fn from_raw(ptr: NonNull<bindings::device>) -> Self {
        // INVARIANT: Guaranteed by the caller.
        Self {
            ptr,
            _p: PhantomData,
        }
    }

    /// The raw pointer, valid for `'a`.
    pub fn as_raw(&self) -> *mut bindings::device {
        self.ptr.as_ptr()
    }

    /// The device for `dev_*!` logging.
    pub fn as_dev(&self) -> &'a kernel::device::Device {
        // SAFETY: Valid for `'a` by the type invariant; the two bindgen views of
        // `struct device` are the same C type.
        unsafe { kernel::device::Device::from_raw(self.ptr.as_ptr().cast()) }
    }
}
