// SPDX-License-Identifier: GPL-2.0

//! `/sys/kernel/debug/dri/<minor>/virtio-gpu-*`: what the driver negotiated and found.

use crate::ext::drm::{Device, Registration};
use crate::proto::features::FEATURE_NAMES;
use crate::VirtGpuDrm;
use kernel::{c_str, prelude::*, seq_file::SeqFile, seq_print};

pub(crate) fn add_files(reg: &Registration<VirtGpuDrm>) {
    reg.add_debugfs_file(c_str!("virtio-gpu-features"), show_features);
    reg.add_debugfs_file(c_str!("virtio-gpu-host-visible"), show_host_visible);
    reg.add_debugfs_file(c_str!("virtio-gpu-objects"), show_objects);
    // Test facility: replaces the map_info of subsequent MAP_BLOB answers, so every
    // cache attribute can be tested end to end (QEMU only ever sends NONE and CACHED).
    let hv = &reg.device().data().host_visible;
    reg.add_debugfs_x32(c_str!("virtio-gpu-map-info-override"), &hv.override_value);
    reg.add_debugfs_bool(
        c_str!("virtio-gpu-map-info-override-enable"),
        &hv.override_enable,
    );
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
    let hv = &dev.data().host_visible;
    let Some(r) = hv.region() else {
        seq_print!(m, "none\n");
        return Ok(());
    };
    seq_print!(m, "address: {:#x}\nsize: {:#x}\n", r.phys(), r.len());
    let mut total = 0u64;
    for a in hv.allocations()?.iter() {
        seq_print!(
            m,
            "range {:#x}+{:#x} res={}\n",
            a.range.start,
            a.range.len,
            a.res_id
        );
        total += a.range.len;
    }
    seq_print!(m, "allocated: {:#x}\n", total);
    Ok(())
}

/// One line per live object: resource id, kind, size, and for host blobs the region
/// range, the host's map_info, the memory type guest mappings get and its user pgprot.
fn show_objects(dev: &Device<VirtGpuDrm>, m: &SeqFile) -> Result {
    let list = dev.data().objects.snapshot()?;
    for o in list.iter() {
        seq_print!(
            m,
            "res={} kind={} size={} ",
            o.res_id,
            o.kind.name(),
            o.size
        );
        match o.mapping {
            Some(h) => {
                seq_print!(
                    m,
                    "hv={:#x}+{:#x} map_info={:#x} mode={}",
                    h.range.start,
                    h.range.len,
                    h.map_info,
                    h.mode.map_or("refused", |c| c.name())
                );
                match h.mode {
                    Some(c) => seq_print!(
                        m,
                        " pgprot={:#x}\n",
                        crate::object::mm_mode(c).user_pgprot()
                    ),
                    None => seq_print!(m, " pgprot=-\n"),
                }
            }
            None => seq_print!(m, "hv=- map_info=- mode=- pgprot=-\n"),
        }
    }
    seq_print!(m, "objects: {}\n", list.len());
    seq_print!(
        m,
        "resource ids: {}\n",
        dev.data()
            .live_res_ids
            .load(core::sync::atomic::Ordering::Relaxed)
    );
    // Submissions the host has not answered yet; 0 once everything sent has retired.
    seq_print!(
        m,
        "fences in flight: {}\n",
        dev.data().queues.ctrl.fences_in_flight()
    );
    Ok(())
}
