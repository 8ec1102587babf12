// SPDX-License-Identifier: GPL-2.0

//! The virtio-gpu wire protocol and the `virtgpu_drm.h` UAPI, in plain `core` Rust.
//!
//! This crate is compiled twice: into the kernel module (as a module of the driver crate)
//! and on the host by `cargo test`. It therefore depends on nothing but `core`, performs no
//! I/O and allocates nothing; every encoding is explicit little-endian so the same code is
//! right on any guest endianness.

// `MODULE` is set when the kernel build compiles this as a module of the driver crate.
#![cfg_attr(not(any(test, MODULE)), no_std)]

#[path = "features.rs"]
pub mod features;
#[path = "map_info.rs"]
pub mod map_info;
#[path = "params.rs"]
pub mod params;
#[path = "range.rs"]
pub mod range;
#[path = "submit.rs"]
pub mod submit;
#[path = "uapi.rs"]
pub mod uapi;
#[path = "validate.rs"]
pub mod validate;
#[path = "wire.rs"]
pub mod wire;
