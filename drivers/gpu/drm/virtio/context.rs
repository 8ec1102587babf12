// SPDX-License-Identifier: GPL-2.0

//! Per-file state: the file's 3D context on the host.
//!
//! Each open file gets a context id at open. The host context is created on first use,
//! with the parameters of CONTEXT_INIT if userspace sent it first (Mesa does), else as
//! the default (virgl) context older userspace relies on; it is destroyed when the file
//! is closed. Every object with a handle in the file is attached to the context while the
//! context exists (CTX_ATTACH_RESOURCE / CTX_DETACH_RESOURCE).

use crate::drv::VirtGpu;
use crate::ext::task;
use crate::object::VgObject;
use crate::proto::{submit::ContextView, validate::ContextParams, wire};
use crate::submit::Entity;
use kernel::{
    new_mutex,
    prelude::*,
    sync::{Arc, Mutex},
};

/// Longest debug name the host is sent (the wire field's size).
pub(crate) const DEBUG_NAME_LEN: usize = 64;

struct Ctx {
    /// The host has the context (CTX_CREATE answered OK).
    created: bool,
    /// Set by CONTEXT_INIT; `None`: the default context.
    params: Option<ContextParams>,
    debug_name: Option<([u8; DEBUG_NAME_LEN], usize)>,
}

/// Per-open-file data.
#[pin_data(PinnedDrop)]
pub(crate) struct VirtGpuFile {
    gpu: Arc<VirtGpu>,
    ctx_id: u32,
    #[pin]
    ctx: Mutex<Ctx>,
    /// The file's submissions.
    entity: Arc<Entity>,
}

impl VirtGpuFile {
    pub(crate) fn new(gpu: Arc<VirtGpu>) -> Result<Pin<KBox<Self>>> {
        // Context ids are positive, like the C driver's (0 means "no context").
        let ctx_id = gpu.ctx_ids.alloc(1, i32::MAX as u32)?;
        let ids = gpu.clone();
        let entity = match Entity::new(gpu.clone(), ctx_id) {
            Ok(e) => e,
            Err(e) => {
                gpu.ctx_ids.free(ctx_id);
                return Err(e);
            }
        };
        KBox::pin_init(
            try_pin_init!(Self {
                gpu,
                ctx_id,
                entity,
                ctx <- new_mutex!(
                    Ctx { created: false, params: None, debug_name: None },
                    "virtgpu_file_ctx"
                ),
            }),
            GFP_KERNEL,
        )
        .inspect_err(|_| ids.ctx_ids.free(ctx_id))
    }

    pub(crate) fn ctx_id(&self) -> u32 {
        self.ctx_id
    }

    /// The file's submission queue.
    pub(crate) fn entity(&self) -> &Arc<Entity> {
        &self.entity
    }

    /// What EXECBUFFER needs to know of the context (the default one until CONTEXT_INIT).
    pub(crate) fn view(&self) -> ContextView {
        self.ctx
            .lock()
            .params
            .as_ref()
            .map_or_else(ContextView::default, ContextView::from_params)
    }

    fn create_locked(&self, ctx: &mut Ctx) -> Result {
        let (name, len) = match ctx.debug_name {
            Some((n, l)) => (n, l),
            None => {
                let (comm, l) = task::current_comm();
                let mut n = [0u8; DEBUG_NAME_LEN];
                n[..l].copy_from_slice(&comm[..l]);
                (n, l)
            }
        };
        let mut cmd = wire::CtxCreate::new(0, &name[..len]);
        cmd.context_init = ctx.params.as_ref().map_or(0, |p| p.context_init());
        let cmd = cmd.encode(&wire::CtrlHdr::ctx(self.ctx_id));
        // From here on the host may have the context, answer or not: the file's close
        // then sends CTX_DESTROY before the id can be reused. Only a refusal means it
        // has none.
        ctx.created = true;
        match self.gpu.queues.ctrl.command(&cmd) {
            Err(e) if e == EINVAL || e == ENOMEM || e == EIO => {
                ctx.created = false;
                Err(e)
            }
            r => r,
        }
    }

    /// Creates the host context if it does not exist yet (3D devices only).
    pub(crate) fn ensure(&self) -> Result {
        if !self.gpu.caps.virgl_3d {
            return Ok(());
        }
        let mut ctx = self.ctx.lock();
        if ctx.created {
            return Ok(());
        }
        self.create_locked(&mut ctx)
    }

    /// Whether the host context exists (CONTEXT_INIT then fails with `EEXIST`).
    pub(crate) fn created(&self) -> bool {
        self.ctx.lock().created
    }

    /// CONTEXT_INIT: records `params` and creates the context; `EEXIST` if it exists.
    pub(crate) fn init(
        &self,
        params: ContextParams,
        debug_name: Option<([u8; DEBUG_NAME_LEN], usize)>,
    ) -> Result {
        let mut ctx = self.ctx.lock();
        if ctx.created {
            return Err(EEXIST);
        }
        ctx.params = Some(params);
        ctx.debug_name = debug_name;
        let r = self.create_locked(&mut ctx);
        if r.is_err() && !ctx.created {
            // The host refused it: a retry may bring other parameters.
            ctx.params = None;
            ctx.debug_name = None;
        }
        r
    }

    /// A handle to `obj` was created in this file: attach the object to the context.
    pub(crate) fn attach(&self, obj: &VgObject) -> Result {
        // An import has no host resource (yet): nothing to attach.
        if !self.gpu.caps.virgl_3d || obj.kind == crate::object::Kind::Import {
            return Ok(());
        }
        // As upstream: without CONTEXT_INIT support the context is made on first use, even
        // by an import; with it, userspace may still send CONTEXT_INIT, so wait for it.
        if !self.gpu.caps.context_init {
            self.ensure()?;
        }
        let ctx = self.ctx.lock();
        if !ctx.created {
            return Ok(());
        }
        let cmd = wire::CtxAttachResource {
            resource_id: obj.res_id(),
        }
        .encode(&wire::CtrlHdr::ctx(self.ctx_id));
        self.gpu.queues.ctrl.command(&cmd)
    }

    /// Attaches an import's new host resource to this file's context (created now if it
    /// does not exist yet), at the import's first use in this file.
    pub(crate) fn attach_import(&self, obj: &VgObject) -> Result {
        self.ensure()?;
        let cmd = wire::CtxAttachResource {
            resource_id: obj.res_id(),
        }
        .encode(&wire::CtrlHdr::ctx(self.ctx_id));
        self.gpu.queues.ctrl.command(&cmd)
    }

    /// The handle to `obj` in this file was closed.
    pub(crate) fn detach(&self, obj: &VgObject) {
        if !self.gpu.caps.virgl_3d {
            return;
        }
        // An import is attached only where it was used.
        if obj.kind == crate::object::Kind::Import && !obj.import_forget_ctx(self.ctx_id) {
            return;
        }
        let ctx = self.ctx.lock();
        if !ctx.created {
            return;
        }
        let cmd = wire::CtxDetachResource {
            resource_id: obj.res_id(),
        }
        .encode(&wire::CtrlHdr::ctx(self.ctx_id));
        // Submissions of this file still waiting to be sent may use the resource: the
        // detach goes after them, through the file's queue (not awaited).
        if let Ok(true) = self.entity.send_in_order(&cmd) {
            return;
        }
        if let Err(e) = self.gpu.queues.ctrl.command_teardown(&cmd) {
            if e != ENODEV {
                dev_warn!(
                    self.gpu.dev(),
                    "ctx {}: detaching resource {} failed: {:?}\n",
                    self.ctx_id,
                    obj.res_id(),
                    e
                );
            }
        }
    }
}

#[pinned_drop]
impl PinnedDrop for VirtGpuFile {
    fn drop(self: Pin<&mut Self>) {
        // Nothing of this file is sent after this, so the context can go.
        self.entity.close();
        let ctx = self.ctx.lock();
        let mut free_id = true;
        if ctx.created {
            let cmd = wire::CtxDestroy {}.encode(&wire::CtrlHdr::ctx(self.ctx_id));
            match self.gpu.queues.ctrl.command_teardown(&cmd) {
                Ok(_) => {}
                Err(e) if e == ENODEV => {}
                Err(e) => {
                    // The host may still have the context: never reuse its id.
                    dev_err!(
                        self.gpu.dev(),
                        "ctx {}: destroy failed: {:?}\n",
                        self.ctx_id,
                        e
                    );
                    free_id = false;
                }
            }
        }
        drop(ctx);
        if free_id {
            self.gpu.ctx_ids.free(self.ctx_id);
        }
    }
}
