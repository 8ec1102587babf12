/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Out-of-line wrappers for static inline kernel functions and macros used by the Rust
 * abstractions in this directory. Named vgpu_helper_* so they never clash with the
 * kernel's own rust_helper_* exports.
 */
#ifndef VGPU_RUST_HELPERS_H
#define VGPU_RUST_HELPERS_H

#include <linux/types.h>
#include <linux/dma-direction.h>

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

struct drm_gem_object;
struct drm_gem_shmem_object;
struct drm_device;
struct vm_area_struct;
struct vm_operations_struct;
struct scatterlist;
struct sg_table;
struct ida;
struct dentry;
bool vgpu_helper_virtio_has_dma_quirk(const struct virtio_device *vdev);
void vgpu_helper_drm_gem_object_get(struct drm_gem_object *obj);
void vgpu_helper_drm_gem_object_put(struct drm_gem_object *obj);
u64 vgpu_helper_drm_gem_mmap_offset(struct drm_gem_object *obj);
struct dentry *vgpu_helper_drm_debugfs_root(struct drm_device *dev);
extern const struct vm_operations_struct vgpu_gem_io_vm_ops;
int vgpu_helper_vma_remap_io(struct vm_area_struct *vma, phys_addr_t phys, unsigned int mode);
int vgpu_helper_vma_mmap_shmem(struct drm_gem_shmem_object *shmem, struct vm_area_struct *vma);
unsigned long vgpu_helper_vma_start(const struct vm_area_struct *vma);
unsigned long vgpu_helper_vma_end(const struct vm_area_struct *vma);
struct scatterlist *vgpu_helper_sgt_first(struct sg_table *sgt);
unsigned int vgpu_helper_sgt_nents(const struct sg_table *sgt, bool dma);
void vgpu_helper_sg_segment(struct scatterlist *sg, bool dma, u64 *addr, u32 *len);
void vgpu_helper_sgt_sync_for_device(struct device *dev, struct sg_table *sgt);
void vgpu_helper_sgt_sync_for_cpu(struct device *dev, struct sg_table *sgt);
void vgpu_helper_ida_init(struct ida *ida);
void vgpu_helper_debugfs_create_x32(const char *name, struct dentry *parent, u32 *value);
void vgpu_helper_debugfs_create_bool(const char *name, struct dentry *parent, bool *value);
void vgpu_helper_current_comm(char *buf);
struct scatterlist *vgpu_helper_sg_next(struct scatterlist *sg);
u64 vgpu_helper_totalram_bytes(void);
struct completion;
void vgpu_helper_init_completion(struct completion *x);
struct iosys_map;
void __iomem *vgpu_helper_ioremap_mode(phys_addr_t phys, size_t size, unsigned int mode);
void vgpu_helper_iounmap(void __iomem *addr);
void vgpu_helper_iosys_map_set_vaddr_iomem(struct iosys_map *map, void __iomem *addr);
void __iomem *vgpu_helper_iosys_map_vaddr_iomem(const struct iosys_map *map);
unsigned long vgpu_helper_drm_gem_vma_pgoff(struct drm_gem_object *obj,
					    const struct vm_area_struct *vma);
u64 vgpu_helper_cache_mode_pgprot(unsigned int mode);
unsigned int vgpu_helper_shmem_status(struct drm_gem_shmem_object *shmem);

struct dma_fence;
struct dma_fence_ops;
struct dma_fence_chain;
struct drm_pending_event;
struct drm_syncobj;
struct sync_file;
struct file;

void vgpu_helper_dma_fence_get(struct dma_fence *fence);
void vgpu_helper_dma_fence_put(struct dma_fence *fence);
bool vgpu_helper_dma_fence_is_signaled(struct dma_fence *fence);
int vgpu_helper_dma_fence_get_status(struct dma_fence *fence);
void vgpu_helper_dma_fence_set_error(struct dma_fence *fence, int error);
struct dma_fence *vgpu_helper_dma_fence_new(const struct dma_fence_ops *ops, u64 context,
					    u64 seqno);
struct file *vgpu_helper_sync_file_create(struct dma_fence *fence);
struct drm_pending_event *vgpu_helper_drm_event_reserve(struct drm_device *dev,
							struct drm_file *file, u32 type);
void vgpu_helper_drm_syncobj_put(struct drm_syncobj *syncobj);
struct dma_fence_chain *vgpu_helper_dma_fence_chain_alloc(void);
void vgpu_helper_dma_fence_chain_free(struct dma_fence_chain *chain);
struct workqueue_struct;
struct workqueue_struct *vgpu_helper_alloc_workqueue(const char *name);
struct scatterlist;
bool vgpu_helper_is_vmalloc_addr(const void *p);
void vgpu_helper_sg_init_vmalloc(struct scatterlist *sgl, unsigned int nents, const void *buf,
				 size_t len);
struct dma_buf;
struct drm_gem_object;
struct vm_area_struct;
struct iosys_map;
struct virtio_dma_buf_ops;
struct dma_buf_attachment;
struct sg_table;

struct drm_gem_object *vgpu_helper_prime_self(struct drm_device *dev, struct dma_buf *buf,
					      const struct virtio_dma_buf_ops *a,
					      const struct virtio_dma_buf_ops *b);
struct dma_buf *vgpu_helper_prime_export(struct drm_gem_object *obj, int flags,
					 const struct virtio_dma_buf_ops *ops);
struct drm_gem_object *vgpu_helper_dma_buf_gem(struct dma_buf *buf);
struct drm_gem_object *vgpu_helper_attachment_gem(struct dma_buf_attachment *attach);
struct sg_table *vgpu_helper_map_resource(struct dma_buf_attachment *attach, u64 phys,
					  size_t len, enum dma_data_direction dir);
void vgpu_helper_unmap_resource(struct dma_buf_attachment *attach, struct sg_table *sgt,
				enum dma_data_direction dir);
struct dma_buf_attach_ops;
struct dma_resv;
int vgpu_helper_gem_import_attach(struct drm_device *dev, struct drm_gem_object *obj,
				  struct dma_buf *buf, const struct dma_buf_attach_ops *ops);
struct drm_gem_object *vgpu_helper_attachment_importer(struct dma_buf_attachment *attach);
int vgpu_helper_dma_resv_lock_interruptible(struct dma_resv *resv);
void vgpu_helper_dma_resv_lock(struct dma_resv *resv);
void vgpu_helper_dma_resv_unlock(struct dma_resv *resv);
void vgpu_helper_gem_import_destroy(struct drm_gem_object *obj);
bool vgpu_helper_gem_import_has_mmap(struct drm_gem_object *obj);
struct sg_table *vgpu_helper_gem_import_map(struct drm_gem_object *obj);
void vgpu_helper_gem_import_unmap(struct drm_gem_object *obj, struct sg_table *sgt);
struct device;
int vgpu_helper_dma_to_guest_phys(struct device *dev, u64 dma, u64 *phys);
int vgpu_helper_gem_mmap_import(struct drm_gem_object *obj, struct vm_area_struct *vma);
int vgpu_helper_gem_vmap_import(struct drm_gem_object *obj, struct iosys_map *map);
void vgpu_helper_gem_vunmap_import(struct drm_gem_object *obj, struct iosys_map *map);
size_t vgpu_helper_dma_buf_size(struct dma_buf *buf);
#endif
