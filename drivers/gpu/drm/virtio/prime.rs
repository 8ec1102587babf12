// SPDX-License-Identifier: GPL-2.0

//! Foreign dma-bufs at their first device use.
//!
//! An import (`Kind::Import`) is attached to its dma-buf but not mapped, and the host
//! knows nothing of it: MAP, mmap (the exporter's), RESOURCE_INFO, WAIT and exports are
//! not device uses. The first use that needs the host maps the attachment, builds the
//! memory entries from its DMA addresses alone (never the exporter's `struct page`s) and
//! creates one host resource over them, chosen by what the host can do with it:
//!
//! - a transfer (TRANSFER_TO/FROM_HOST): a resource with a format ([`ImportHost::Image`]),
//!   since virglrenderer transfers only to and from resources it created itself (a guest
//!   blob has none: its GL backend then marks the whole context as failed);
//! - an EXECBUFFER naming it, on a context that imports memory by resource id (venus): a
//!   guest blob. Never on a virgl context: its command stream would name a resource the
//!   GL backend cannot use, which is what broke virglrenderer when upstream allowed
//!   imports with 3D (2026); such a submission fails with `EOPNOTSUPP` before anything
//!   is sent, and the context keeps working.
//!
//! The resource is then attached to each context that uses the import, and goes with the
//! import (RESOURCE_UNREF, then the attachment is unmapped).

use crate::context::VirtGpuFile;
use crate::ext::gem::ResvGuard;
use crate::ioctl::{attach_backing, encode_entries};
use crate::object::{push_entry, ImportHost, Kind, VgObject};
use crate::proto::wire;
use kernel::{alloc::flags::__GFP_NOWARN, prelude::*};

/// How an import is about to be used.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Use {
    Transfer,
    Submit,
}

/// Bytes per row of an [`ImportHost::Image`]: 1024 pixels of 4 bytes.
pub(crate) const IMAGE_STRIDE: u32 = 4096;

/// virgl's capsets (`VIRTIO_GPU_CAPSET_VIRGL`, `_VIRGL2`).
const CAPSET_VIRGL: u32 = 1;
const CAPSET_VIRGL2: u32 = 2;
/// Gallium's `PIPE_TEXTURE_2D` and virgl's `VIRGL_BIND_SAMPLER_VIEW`.
const PIPE_TEXTURE_2D: u32 = 2;
const VIRGL_BIND_SAMPLER_VIEW: u32 = 1 << 3;

/// Capsets whose contexts are virglrenderer's GL backend (the default context is one).
fn is_virgl(capset: Option<u32>) -> bool {
    matches!(capset, None | Some(CAPSET_VIRGL) | Some(CAPSET_VIRGL2))
}

fn eopnotsupp() -> Error {
    Error::from_errno(-(kernel::bindings::EOPNOTSUPP as i32))
}

/// Makes sure the host has a resource for import `obj` fit for `u` and that `file`'s
/// context has it attached: `EOPNOTSUPP` for uses this host cannot serve (nothing sent),
/// the host's errno if it refuses the resource. Returns the host resource's kind.
pub(crate) fn import_use(obj: &VgObject, file: &VirtGpuFile, u: Use) -> Result<ImportHost> {
    let gpu = obj.gpu();
    if obj.kind != Kind::Import {
        return Err(EINVAL);
    }
    if u == Use::Submit && is_virgl(file.view().capset_id) {
        return Err(eopnotsupp());
    }
    let host = match u {
        Use::Transfer => ImportHost::Image,
        Use::Submit if gpu.caps.resource_blob => ImportHost::GuestBlob,
        Use::Submit => ImportHost::None,
    };
    // The buffer's reservation first: an exporter's move holds it while we detach the
    // host backing, so mapping, (re)attaching and the move never overlap. The object's
    // state lock nests inside it, as in a vmap.
    let guard = obj.lock_resv()?;
    let mut st = obj.state();
    let mut created = false;
    if st.import == ImportHost::None {
        if host == ImportHost::None {
            return Err(eopnotsupp());
        }
        let ents = entries(obj, &guard)?;
        // From here on the host may know the id: the release unreferences it.
        st.created = true;
        create(obj, host, &ents)?;
        st.import = host;
        created = true;
    } else if st.import_stale {
        // Moved since the last use: the host gets the pages where they are now.
        let ents = entries(obj, &guard)?;
        attach_backing(gpu, obj, &ents)?;
        st.import_stale = false;
    }
    let attached = if gpu.caps.virgl_3d && !st.import_ctxs.contains(&file.ctx_id()) {
        st.import_ctxs
            .reserve(1, GFP_KERNEL)
            .map_err(Error::from)
            .and_then(|()| file.attach_import(obj))
            .and_then(|()| Ok(st.import_ctxs.push(file.ctx_id(), GFP_KERNEL)?))
    } else {
        Ok(())
    };
    let host = st.import;
    drop(st);
    drop(guard);
    if created {
        // Listed for debugfs, which reads the state: not under its lock.
        gpu.objects.insert(obj)?;
    }
    attached.map(|()| host)
}

/// The import's memory entries: its DMA segments, as guest-physical addresses for a
/// device without `ACCESS_PLATFORM` (where those exist), contiguous ones merged.
fn entries(obj: &VgObject, guard: &ResvGuard<'_>) -> Result<KVVec<(u64, u32)>> {
    let quirk = obj.gpu().dma_quirk;
    let mut ents: KVVec<(u64, u32)> = KVVec::new();
    for (dma, len) in obj.import_dma_segments(guard)? {
        let addr = if quirk { obj.dma_to_phys(dma)? } else { dma };
        push_entry(&mut ents, addr, len)?;
    }
    Ok(ents)
}

/// Creates the host resource `host` of import `obj` over `ents`.
fn create(obj: &VgObject, host: ImportHost, ents: &[(u64, u32)]) -> Result {
    let gpu = obj.gpu();
    let hdr = wire::CtrlHdr::default();
    let size = u64::try_from(obj.size()).map_err(|_| EINVAL)?;
    match host {
        ImportHost::None => Err(EINVAL),
        ImportHost::Image => {
            let height = u32::try_from(size / u64::from(IMAGE_STRIDE)).map_err(|_| EINVAL)?;
            if size % u64::from(IMAGE_STRIDE) != 0 {
                return Err(EINVAL);
            }
            let width = IMAGE_STRIDE / 4;
            if gpu.caps.virgl_3d {
                gpu.queues.ctrl.command(
                    &wire::ResourceCreate3d {
                        resource_id: obj.res_id(),
                        target: PIPE_TEXTURE_2D,
                        format: wire::formats::B8G8R8A8_UNORM,
                        bind: VIRGL_BIND_SAMPLER_VIEW,
                        width,
                        height,
                        depth: 1,
                        array_size: 1,
                        last_level: 0,
                        nr_samples: 0,
                        flags: 0,
                    }
                    .encode(&hdr),
                )?;
            } else {
                gpu.queues.ctrl.command(
                    &wire::ResourceCreate2d {
                        resource_id: obj.res_id(),
                        format: wire::formats::B8G8R8A8_UNORM,
                        width,
                        height,
                    }
                    .encode(&hdr),
                )?;
            }
            attach_backing(gpu, obj, ents)
        }
        ImportHost::GuestBlob => {
            let nr_entries = u32::try_from(ents.len()).map_err(|_| ENOMEM)?;
            let mut buf = KVec::from_elem(
                0u8,
                wire::create_blob_size(ents.len()).ok_or(ENOMEM)?,
                GFP_KERNEL | __GFP_NOWARN,
            )?;
            wire::ResourceCreateBlob {
                resource_id: obj.res_id(),
                blob_mem: wire::BLOB_MEM_GUEST,
                blob_flags: wire::BLOB_FLAG_USE_SHAREABLE,
                nr_entries,
                blob_id: 0,
                size,
            }
            .encode_into(&hdr, &mut buf)
            .map_err(|_| EINVAL)?;
            encode_entries::<wire::ResourceCreateBlob>(&mut buf, ents)?;
            gpu.queues.ctrl.command(&buf)
        }
    }
}

/// The exporter moves import `obj` (its reservation held): the host resource loses its
/// backing (RESOURCE_DETACH_BACKING, answered before we return, so the exporter may
/// reuse the old pages once we do), and the next use attaches the new pages. Transfers
/// are synchronous and submissions naming an import are only allowed where the host
/// takes it as a guest blob, so nothing queued still needs the old backing.
pub(crate) fn import_invalidate(obj: &VgObject, _guard: &ResvGuard<'_>) {
    let gpu = obj.gpu();
    let mut st = obj.state();
    if st.import == ImportHost::None || !st.created || st.import_stale {
        return;
    }
    st.import_stale = true;
    let cmd = wire::ResourceDetachBacking {
        resource_id: obj.res_id(),
    }
    .encode(&wire::CtrlHdr::default());
    match gpu.queues.ctrl.command_teardown(&cmd) {
        Ok(Ok(())) => {}
        Err(e) if e == ENODEV => {}
        Ok(Err(e)) => dev_warn!(
            gpu.dev(),
            "resource {}: DETACH_BACKING refused ({:?})\n",
            obj.res_id(),
            e
        ),
        Err(e) => dev_err!(
            gpu.dev(),
            "resource {}: DETACH_BACKING got no answer ({:?}): the host may still use the moved pages\n",
            obj.res_id(),
            e
        ),
    }
}
