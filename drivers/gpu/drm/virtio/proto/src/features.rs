// SPDX-License-Identifier: GPL-2.0

//! Feature bits of the virtio-gpu device and what the driver makes of them.

/// `VIRTIO_GPU_F_*` bit numbers.
pub const F_VIRGL: u32 = 0;
pub const F_EDID: u32 = 1;
pub const F_RESOURCE_UUID: u32 = 2;
pub const F_RESOURCE_BLOB: u32 = 3;
pub const F_CONTEXT_INIT: u32 = 4;
pub const F_BLOB_ALIGNMENT: u32 = 5;
/// `VIRTIO_F_VERSION_1`: the driver only speaks modern virtio.
pub const F_VERSION_1: u32 = 32;

/// Every device feature the driver offers to negotiate (VERSION_1 is offered by the core).
/// VIRGL only on little-endian guests: the virgl command stream is native-endian.
pub const DRIVER_FEATURES: &[u32] = if cfg!(target_endian = "little") {
    &[
        F_VIRGL,
        F_EDID,
        F_RESOURCE_UUID,
        F_RESOURCE_BLOB,
        F_CONTEXT_INIT,
        F_BLOB_ALIGNMENT,
    ]
} else {
    &[
        F_EDID,
        F_RESOURCE_UUID,
        F_RESOURCE_BLOB,
        F_CONTEXT_INIT,
        F_BLOB_ALIGNMENT,
    ]
};

/// Names used in logs and debugfs, indexed by bit number.
pub const FEATURE_NAMES: [(u32, &str); 6] = [
    (F_VIRGL, "virgl"),
    (F_EDID, "edid"),
    (F_RESOURCE_UUID, "resource_uuid"),
    (F_RESOURCE_BLOB, "resource_blob"),
    (F_CONTEXT_INIT, "context_init"),
    (F_BLOB_ALIGNMENT, "blob_alignment"),
];

/// What the device and driver agreed on, plus what probe learned from the config space.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeviceCaps {
    pub virgl_3d: bool,
    pub edid: bool,
    pub resource_uuid: bool,
    pub resource_blob: bool,
    pub context_init: bool,
    /// `Some(alignment)` when BLOB_ALIGNMENT was negotiated.
    pub blob_alignment: Option<u32>,
    /// A host-visible shared memory region was found.
    pub host_visible: bool,
    /// Bit `id` set for every capset the host reported.
    pub capset_mask: u64,
}

impl DeviceCaps {
    /// Builds the capabilities from a predicate "is feature bit N negotiated".
    pub fn from_features(has: impl Fn(u32) -> bool) -> Self {
        Self {
            virgl_3d: cfg!(target_endian = "little") && has(F_VIRGL),
            edid: has(F_EDID),
            resource_uuid: has(F_RESOURCE_UUID),
            resource_blob: has(F_RESOURCE_BLOB),
            context_init: has(F_CONTEXT_INIT),
            blob_alignment: None,
            host_visible: false,
            capset_mask: 0,
        }
    }

    /// Whether feature bit `bit` is in effect.
    pub fn has(&self, bit: u32) -> bool {
        match bit {
            F_VIRGL => self.virgl_3d,
            F_EDID => self.edid,
            F_RESOURCE_UUID => self.resource_uuid,
            F_RESOURCE_BLOB => self.resource_blob,
            F_CONTEXT_INIT => self.context_init,
            F_BLOB_ALIGNMENT => self.blob_alignment.is_some(),
            _ => false,
        }
    }
}

/// Displays the features in effect as `+virgl -edid ... +host_visible`, for the probe log.
pub struct FeatureList<'a>(pub &'a DeviceCaps);

impl core::fmt::Display for FeatureList<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let sign = |on: bool| if on { '+' } else { '-' };
        for (bit, name) in FEATURE_NAMES {
            write!(f, "{}{} ", sign(self.0.has(bit)), name)?;
        }
        // Not a feature bit, but what users look for next to them.
        write!(f, "{}host_visible", sign(self.0.host_visible))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_features_maps_every_bit() {
        let all = DeviceCaps::from_features(|_| true);
        for (bit, _) in FEATURE_NAMES {
            if bit != F_BLOB_ALIGNMENT {
                assert!(all.has(bit), "bit {bit}");
            }
        }
        let none = DeviceCaps::from_features(|_| false);
        for (bit, _) in FEATURE_NAMES {
            assert!(!none.has(bit));
        }
        assert!(DRIVER_FEATURES.contains(&F_BLOB_ALIGNMENT));
    }

    #[test]
    fn feature_list_text() {
        let caps = DeviceCaps {
            virgl_3d: true,
            blob_alignment: Some(4096),
            host_visible: true,
            ..Default::default()
        };
        assert_eq!(
            FeatureList(&caps).to_string(),
            "+virgl -edid -resource_uuid -resource_blob -context_init +blob_alignment +host_visible"
        );
    }
}
