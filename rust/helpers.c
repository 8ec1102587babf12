// SPDX-License-Identifier: GPL-2.0
/*
 * Out-of-line wrappers for static inline kernel functions used from Rust.
 */
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/module.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_ioctl.h>
#include "helpers.h"

bool vgpu_helper_virtio_has_feature(const struct virtio_device *vdev, unsigned int fbit)
{
	return virtio_has_feature(vdev, fbit);
}

int vgpu_helper_virtio_find_vqs(struct virtio_device *vdev, unsigned int nvqs,
				struct virtqueue *vqs[], struct virtqueue_info *vqs_info)
{
	return virtio_find_vqs(vdev, nvqs, vqs, vqs_info, NULL);
}

void vgpu_helper_virtio_del_vqs(struct virtio_device *vdev)
{
	vdev->config->del_vqs(vdev);
}

void vgpu_helper_virtio_device_ready(struct virtio_device *vdev)
{
	virtio_device_ready(vdev);
}

bool vgpu_helper_virtio_get_shm_region(struct virtio_device *vdev,
				       struct virtio_shm_region *region, u8 id)
{
	return virtio_get_shm_region(vdev, region, id);
}

u32 vgpu_helper_virtio_cread_le32(struct virtio_device *vdev, unsigned int offset)
{
	__le32 v;

	/* Modern (VERSION_1) devices: config space is little-endian. */
	virtio_cread_bytes(vdev, offset, &v, sizeof(v));
	return le32_to_cpu(v);
}

void *vgpu_helper_virtio_get_priv(struct virtio_device *vdev)
{
	return vdev->priv;
}

void vgpu_helper_virtio_set_priv(struct virtio_device *vdev, void *priv)
{
	vdev->priv = priv;
}

struct device *vgpu_helper_virtio_dev(struct virtio_device *vdev)
{
	return &vdev->dev;
}

struct device *vgpu_helper_virtio_parent(struct virtio_device *vdev)
{
	return vdev->dev.parent;
}

struct virtio_device *vgpu_helper_virtqueue_vdev(struct virtqueue *vq)
{
	return vq->vdev;
}

const char *vgpu_helper_dev_name(const struct device *dev)
{
	return dev_name(dev);
}

/*
 * DEFINE_DRM_GEM_FOPS, owned by this module: while a client holds a DRM node open the
 * module cannot be unloaded (the 7.2 Rust DRM abstractions leave .owner NULL).
 */
const struct file_operations vgpu_drm_gem_fops = {
	.owner = THIS_MODULE,
	DRM_GEM_FOPS,
};

unsigned long vgpu_helper_spin_lock_irqsave(struct spinlock *lock)
{
	unsigned long flags;

	spin_lock_irqsave(lock, flags);
	return flags;
}

void vgpu_helper_spin_unlock_irqrestore(struct spinlock *lock, unsigned long flags)
{
	spin_unlock_irqrestore(lock, flags);
}

int vgpu_helper_spin_trylock_irqsave(struct spinlock *lock, unsigned long *flags)
{
	return spin_trylock_irqsave(lock, *flags);
}
