/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Headers our own bindgen run sees. The kernel crate binds DRM only for DRM=y and
 * does not bind virtio at all; distribution kernels build DRM as a module.
 */
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/scatterlist.h>
#include <linux/seq_file.h>
#include <linux/fs.h>
#include <drm/drm_device.h>
#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_ioctl.h>
#include <drm/drm_debugfs.h>
#include <drm/drm_gem.h>
#include <drm/drm_gem_shmem_helper.h>
#include <linux/idr.h>
#include <linux/mm.h>
#include <linux/completion.h>
#include <linux/dma-fence.h>
#include <linux/dma-fence-chain.h>
#include <linux/dma-fence-unwrap.h>
#include <linux/dma-resv.h>
#include <linux/sync_file.h>
#include <drm/drm_syncobj.h>
#include <drm/drm_prime.h>
#include <linux/dma-buf.h>
#include <linux/virtio_dma_buf.h>
#include <uapi/drm/virtgpu_drm.h>
#include <uapi/linux/virtio_gpu.h>
#include "helpers.h"
