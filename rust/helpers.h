/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Out-of-line wrappers for static inline kernel functions and macros used by the Rust
 * abstractions in this directory. Named vgpu_helper_* so they never clash with the
 * kernel's own rust_helper_* exports.
 */
#ifndef VGPU_RUST_HELPERS_H
#define VGPU_RUST_HELPERS_H

#include <linux/types.h>

struct virtio_device;
struct virtqueue;
struct virtqueue_info;
struct virtio_shm_region;
struct device;
struct module;
struct file_operations;

bool vgpu_helper_virtio_has_feature(const struct virtio_device *vdev, unsigned int fbit);
int vgpu_helper_virtio_find_vqs(struct virtio_device *vdev, unsigned int nvqs,
				struct virtqueue *vqs[], struct virtqueue_info *vqs_info);
void vgpu_helper_virtio_del_vqs(struct virtio_device *vdev);
void vgpu_helper_virtio_device_ready(struct virtio_device *vdev);
bool vgpu_helper_virtio_get_shm_region(struct virtio_device *vdev,
				       struct virtio_shm_region *region, u8 id);
u32 vgpu_helper_virtio_cread_le32(struct virtio_device *vdev, unsigned int offset);
void *vgpu_helper_virtio_get_priv(struct virtio_device *vdev);
void vgpu_helper_virtio_set_priv(struct virtio_device *vdev, void *priv);
struct device *vgpu_helper_virtio_dev(struct virtio_device *vdev);
struct device *vgpu_helper_virtio_parent(struct virtio_device *vdev);
struct virtio_device *vgpu_helper_virtqueue_vdev(struct virtqueue *vq);
const char *vgpu_helper_dev_name(const struct device *dev);
extern const struct file_operations vgpu_drm_gem_fops;



struct spinlock;
unsigned long vgpu_helper_spin_lock_irqsave(struct spinlock *lock);
int vgpu_helper_spin_trylock_irqsave(struct spinlock *lock, unsigned long *flags);
void vgpu_helper_spin_unlock_irqrestore(struct spinlock *lock, unsigned long flags);
#endif
