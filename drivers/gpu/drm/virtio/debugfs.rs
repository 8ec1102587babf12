// SPDX-License-Identifier: GPL-2.0

//! `/sys/kernel/debug/dri/<minor>/virtio-gpu-*`: what the driver negotiated and found.

use crate::ext::drm::{Device, Registration};
use crate::proto::features::FEATURE_NAMES;
use crate::VirtGpuDrm;
use kernel::{c_str, prelude::*, seq_file::SeqFile, seq_print};

pub(crate) fn add_files(reg: &Registration<VirtGpuDrm>) {
    reg.add_debugfs_file(c_str!("virtio-gpu-features"), show_features);
    reg.add_debugfs_file(c_str!("virtio-gpu-host-visible"), show_host_visible);
}

fn show_features(dev: &Device<VirtGpuDrm>, m: &SeqFile) -> Result {
    let gpu = dev.data();
    for (bit, name) in FEATURE_NAMES {
        seq_print!(
            m,
            "{:<16}: {}\n",
            name,
            if gpu.caps.has(bit) { "yes" } else { "no" }
        );
    }
    match gpu.caps.blob_alignment {
        Some(a) => seq_print!(m, "{:<16}: {}\n", "blob align (B)", a),
        None => seq_print!(m, "{:<16}: -\n", "blob align (B)"),
    }
    seq_print!(m, "{:<16}: {}\n", "scanouts", gpu.num_scanouts);
    seq_print!(m, "{:<16}: {}\n", "capsets", gpu.capsets.infos().len());
    for c in gpu.capsets.infos() {
        seq_print!(
            m,
            "capset id {:>2}    : max version {}, max size {}\n",
            c.id,
            c.max_version,
            c.max_size
        );
    }
    seq_print!(m, "{:<16}: {}\n", "capsets cached", gpu.capsets.cached());
    Ok(())
}

fn show_host_visible(dev: &Device<VirtGpuDrm>, m: &SeqFile) -> Result {
    match dev.data().host_visible {
        Some(r) => seq_print!(m, "address: {:#x}\nsize: {:#x}\n", r.addr, r.len),
        None => seq_print!(m, "none\n"),
    }
    Ok(())
}
