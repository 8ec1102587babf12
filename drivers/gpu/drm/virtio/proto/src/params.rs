// SPDX-License-Identifier: GPL-2.0

//! `DRM_IOCTL_VIRTGPU_GETPARAM` semantics, identical to the upstream C driver.

use super::features::DeviceCaps;

pub const PARAM_3D_FEATURES: u64 = 1;
pub const PARAM_CAPSET_QUERY_FIX: u64 = 2;
pub const PARAM_RESOURCE_BLOB: u64 = 3;
pub const PARAM_HOST_VISIBLE: u64 = 4;
pub const PARAM_CROSS_DEVICE: u64 = 5;
pub const PARAM_CONTEXT_INIT: u64 = 6;
pub const PARAM_SUPPORTED_CAPSET_IDS: u64 = 7;
pub const PARAM_EXPLICIT_DEBUG_NAME: u64 = 8;
pub const PARAM_BLOB_ALIGNMENT: u64 = 9;

/// Why a parameter has no value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamError {
    /// Unknown parameter: `EINVAL`.
    Unknown,
    /// Known, but the feature was not negotiated (BLOB_ALIGNMENT): `ENOENT`.
    NotNegotiated,
}

/// The `int` GETPARAM writes to userspace for `param`.
///
/// The capset mask is truncated to `int` exactly like upstream (ids above 31 cannot be
/// reported through this UAPI).
pub fn getparam(caps: &DeviceCaps, param: u64) -> Result<i32, ParamError> {
    let b = i32::from;
    Ok(match param {
        PARAM_3D_FEATURES => b(caps.virgl_3d),
        PARAM_CAPSET_QUERY_FIX => 1,
        PARAM_RESOURCE_BLOB => b(caps.resource_blob),
        PARAM_HOST_VISIBLE => b(caps.host_visible),
        PARAM_CROSS_DEVICE => b(caps.resource_uuid),
        PARAM_CONTEXT_INIT => b(caps.context_init),
        PARAM_SUPPORTED_CAPSET_IDS => caps.capset_mask as u32 as i32,
        PARAM_EXPLICIT_DEBUG_NAME => b(caps.context_init),
        PARAM_BLOB_ALIGNMENT => caps.blob_alignment.ok_or(ParamError::NotNegotiated)? as i32,
        _ => return Err(ParamError::Unknown),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_d_device() {
        let caps = DeviceCaps::default();
        assert_eq!(getparam(&caps, PARAM_3D_FEATURES), Ok(0));
        assert_eq!(getparam(&caps, PARAM_CAPSET_QUERY_FIX), Ok(1));
        assert_eq!(getparam(&caps, PARAM_SUPPORTED_CAPSET_IDS), Ok(0));
        assert_eq!(
            getparam(&caps, PARAM_BLOB_ALIGNMENT),
            Err(ParamError::NotNegotiated)
        );
    }

    #[test]
    fn gl_device() {
        let caps = DeviceCaps {
            virgl_3d: true,
            resource_blob: true,
            context_init: true,
            host_visible: true,
            capset_mask: (1 << 1) | (1 << 2) | (1 << 4),
            blob_alignment: Some(4096),
            ..Default::default()
        };
        assert_eq!(getparam(&caps, PARAM_3D_FEATURES), Ok(1));
        assert_eq!(getparam(&caps, PARAM_HOST_VISIBLE), Ok(1));
        assert_eq!(getparam(&caps, PARAM_EXPLICIT_DEBUG_NAME), Ok(1));
        assert_eq!(getparam(&caps, PARAM_SUPPORTED_CAPSET_IDS), Ok(0x16));
        assert_eq!(getparam(&caps, PARAM_BLOB_ALIGNMENT), Ok(4096));
    }

    #[test]
    fn unknown_params() {
        let caps = DeviceCaps::default();
        for p in [0, 10, 0x100, u64::MAX, 1 << 32 | 1] {
            assert_eq!(getparam(&caps, p), Err(ParamError::Unknown), "param {p:#x}");
        }
    }
}
