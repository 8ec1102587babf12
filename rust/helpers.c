// SPDX-License-Identifier: GPL-2.0
/*
 * Out-of-line wrappers for static inline kernel functions used from Rust.
 */
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/module.h>
#include <drm/drm_device.h>
#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_ioctl.h>
#include <drm/drm_gem_shmem_helper.h>
#include <drm/drm_vma_manager.h>
#include <linux/completion.h>
#include <linux/dma-fence.h>
#include <linux/dma-fence-chain.h>
#include <linux/slab.h>
#include <linux/sync_file.h>
#include <drm/drm_syncobj.h>
#include <drm/drm_prime.h>
#include <linux/dma-buf.h>
#include <linux/virtio_dma_buf.h>
#include <linux/debugfs.h>
#include <linux/dma-mapping.h>
#include <linux/dma-direct.h>
#include <linux/dma-map-ops.h>
#include <linux/swiotlb.h>
#include <linux/idr.h>
#include <linux/io.h>
#include <linux/iosys-map.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/workqueue.h>
#include <linux/vmalloc.h>
#include "helpers.h"

/* dma_buf_attach(), dma_buf_mmap(), dma_buf_vmap() for PRIME imports. */
MODULE_IMPORT_NS("DMA_BUF");

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
	/* drm-driver, drm-client-id, ... and the driver's show_fdinfo (memory stats). */
	.show_fdinfo = drm_show_fdinfo,
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

bool vgpu_helper_virtio_has_dma_quirk(const struct virtio_device *vdev)
{
	return virtio_has_dma_quirk(vdev);
}

void vgpu_helper_drm_gem_object_get(struct drm_gem_object *obj)
{
	drm_gem_object_get(obj);
}

void vgpu_helper_drm_gem_object_put(struct drm_gem_object *obj)
{
	drm_gem_object_put(obj);
}

u64 vgpu_helper_drm_gem_mmap_offset(struct drm_gem_object *obj)
{
	return drm_vma_node_offset_addr(&obj->vma_node);
}

struct dentry *vgpu_helper_drm_debugfs_root(struct drm_device *dev)
{
	return dev->debugfs_root;
}

/*
 * Mappings of objects without struct pages (host-visible memory): only the GEM
 * reference the core takes per vma is managed; the PTEs are set up at mmap time.
 */
const struct vm_operations_struct vgpu_gem_io_vm_ops = {
	.open = drm_gem_vm_open,
	.close = drm_gem_vm_close,
};

/* Must match enum CacheMode in rust/mm.rs. */
#define VGPU_CACHE_CACHED 0
#define VGPU_CACHE_WC 1
#define VGPU_CACHE_UNCACHED 2

static int vgpu_cache_prot(unsigned int mode, pgprot_t *prot)
{
	switch (mode) {
	case VGPU_CACHE_CACHED:
		return 0;
	case VGPU_CACHE_WC:
		*prot = pgprot_writecombine(*prot);
		return 0;
	case VGPU_CACHE_UNCACHED:
		*prot = pgprot_noncached(*prot);
		return 0;
	default:
		return -EINVAL;
	}
}

/*
 * Maps the whole vma to the physical range starting at @phys with the memory type
 * @mode asks for. The PTEs are installed here, so a later fault cannot pick other
 * attributes.
 */
int vgpu_helper_vma_remap_io(struct vm_area_struct *vma, phys_addr_t phys, unsigned int mode)
{
	pgprot_t prot;
	int ret;

	/* Private (copy-on-write) mappings of device memory make no sense. */
	if (!PAGE_ALIGNED(phys) || is_cow_mapping(vma->vm_flags))
		return -EINVAL;
	vm_flags_set(vma, VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP);
	prot = vm_get_page_prot(vma->vm_flags);
	ret = vgpu_cache_prot(mode, &prot);
	if (ret)
		return ret;
	vma->vm_page_prot = prot;
	vma->vm_ops = &vgpu_gem_io_vm_ops;
	return io_remap_pfn_range(vma, vma->vm_start, PHYS_PFN(phys),
				  vma->vm_end - vma->vm_start, vma->vm_page_prot);
}

/*
 * A kernel mapping of device memory with the same memory type a user mapping made with
 * @mode gets (vgpu_helper_vma_remap_io()): both start from the user pgprot of a shared
 * read-write mapping.
 */
void __iomem *vgpu_helper_ioremap_mode(phys_addr_t phys, size_t size, unsigned int mode)
{
	pgprot_t prot = vm_get_page_prot(VM_READ | VM_WRITE | VM_SHARED);

	if (vgpu_cache_prot(mode, &prot))
		return NULL;
	return ioremap_prot(phys, size, prot);
}

void vgpu_helper_iounmap(void __iomem *addr)
{
	iounmap(addr);
}

void vgpu_helper_iosys_map_set_vaddr_iomem(struct iosys_map *map, void __iomem *addr)
{
	iosys_map_set_vaddr_iomem(map, addr);
}

void __iomem *vgpu_helper_iosys_map_vaddr_iomem(const struct iosys_map *map)
{
	return map->is_iomem ? map->vaddr_iomem : NULL;
}

/* The page offset of @vma within @obj (the fake offset is the object's start). */
unsigned long vgpu_helper_drm_gem_vma_pgoff(struct drm_gem_object *obj,
					    const struct vm_area_struct *vma)
{
	return vma->vm_pgoff - drm_vma_node_start(&obj->vma_node);
}

/* drm_gem_shmem_mmap() plus the shmem fault handler for the vma. */
int vgpu_helper_vma_mmap_shmem(struct drm_gem_shmem_object *shmem, struct vm_area_struct *vma)
{
	int ret = drm_gem_shmem_mmap(shmem, vma);

	if (!ret)
		vma->vm_ops = &drm_gem_shmem_vm_ops;
	return ret;
}

unsigned long vgpu_helper_vma_start(const struct vm_area_struct *vma)
{
	return vma->vm_start;
}

unsigned long vgpu_helper_vma_end(const struct vm_area_struct *vma)
{
	return vma->vm_end;
}

struct scatterlist *vgpu_helper_sgt_first(struct sg_table *sgt)
{
	return sgt->sgl;
}

unsigned int vgpu_helper_sgt_nents(const struct sg_table *sgt, bool dma)
{
	return dma ? sgt->nents : sgt->orig_nents;
}

/* The DMA (@dma) or CPU-physical address and length of one segment. */
void vgpu_helper_sg_segment(struct scatterlist *sg, bool dma, u64 *addr, u32 *len)
{
	if (dma) {
		*addr = sg_dma_address(sg);
		*len = sg_dma_len(sg);
	} else {
		*addr = sg_phys(sg);
		*len = sg->length;
	}
}

void vgpu_helper_sgt_sync_for_device(struct device *dev, struct sg_table *sgt)
{
	dma_sync_sgtable_for_device(dev, sgt, DMA_BIDIRECTIONAL);
}

void vgpu_helper_sgt_sync_for_cpu(struct device *dev, struct sg_table *sgt)
{
	dma_sync_sgtable_for_cpu(dev, sgt, DMA_BIDIRECTIONAL);
}

void vgpu_helper_ida_init(struct ida *ida)
{
	ida_init(ida);
}

/*
 * Read-write debugfs files over values the Rust side accesses atomically: the file
 * accesses them with READ_ONCE()/WRITE_ONCE() as well (debugfs_create_x32() and
 * debugfs_create_bool() use plain loads and stores).
 */
static int vgpu_u32_get(void *data, u64 *val)
{
	*val = READ_ONCE(*(u32 *)data);
	return 0;
}

static int vgpu_u32_set(void *data, u64 val)
{
	if (val > U32_MAX)
		return -EINVAL;
	WRITE_ONCE(*(u32 *)data, val);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(vgpu_x32_fops, vgpu_u32_get, vgpu_u32_set, "0x%08llx\n");

static int vgpu_bool_get(void *data, u64 *val)
{
	*val = READ_ONCE(*(bool *)data);
	return 0;
}

static int vgpu_bool_set(void *data, u64 val)
{
	if (val > 1)
		return -EINVAL;
	WRITE_ONCE(*(bool *)data, val);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(vgpu_bool_fops, vgpu_bool_get, vgpu_bool_set, "%llu\n");

void vgpu_helper_debugfs_create_x32(const char *name, struct dentry *parent, u32 *value)
{
	debugfs_create_file_unsafe(name, 0600, parent, value, &vgpu_x32_fops);
}

void vgpu_helper_debugfs_create_bool(const char *name, struct dentry *parent, bool *value)
{
	debugfs_create_file_unsafe(name, 0600, parent, value, &vgpu_bool_fops);
}

/* The pgprot a shared read-write user mapping with memory type @mode gets. */
u64 vgpu_helper_cache_mode_pgprot(unsigned int mode)
{
	pgprot_t prot = vm_get_page_prot(VM_READ | VM_WRITE | VM_SHARED);

	if (vgpu_cache_prot(mode, &prot))
		return 0;
	return (u64)pgprot_val(prot);
}

/* The current task's name, NUL-terminated, into a buffer of TASK_COMM_LEN (16) bytes. */
void vgpu_helper_current_comm(char *buf)
{
	char comm[TASK_COMM_LEN];

	get_task_comm(comm, current);
	memcpy(buf, comm, TASK_COMM_LEN);
}

struct scatterlist *vgpu_helper_sg_next(struct scatterlist *sg)
{
	return sg_next(sg);
}

u64 vgpu_helper_totalram_bytes(void)
{
	return (u64)totalram_pages() << PAGE_SHIFT;
}

void vgpu_helper_init_completion(struct completion *x)
{
	init_completion(x);
}

/*
 * The GEM status of a shmem object for fdinfo memory stats: resident once it has pages.
 * Called under the file's table spinlock, so it only reads.
 */
unsigned int vgpu_helper_shmem_status(struct drm_gem_shmem_object *shmem)
{
	return READ_ONCE(shmem->pages) ? DRM_GEM_OBJECT_RESIDENT : 0;
}

void vgpu_helper_dma_fence_get(struct dma_fence *fence)
{
	dma_fence_get(fence);
}

void vgpu_helper_dma_fence_put(struct dma_fence *fence)
{
	dma_fence_put(fence);
}

bool vgpu_helper_dma_fence_is_signaled(struct dma_fence *fence)
{
	return dma_fence_is_signaled(fence);
}

int vgpu_helper_dma_fence_get_status(struct dma_fence *fence)
{
	return dma_fence_get_status(fence);
}

void vgpu_helper_dma_fence_set_error(struct dma_fence *fence, int error)
{
	dma_fence_set_error(fence, error);
}

/*
 * A bare fence with its inline lock and 64-bit seqnos. No release op: the core frees it
 * with kfree_rcu, and once signalled it no longer points at the driver's ops, so a fence
 * held by userspace (a sync_file) may outlive the module.
 */
struct dma_fence *vgpu_helper_dma_fence_new(const struct dma_fence_ops *ops, u64 context,
					    u64 seqno)
{
	struct dma_fence *fence = kzalloc(sizeof(*fence), GFP_KERNEL);

	if (fence)
		dma_fence_init64(fence, ops, NULL, context, seqno);
	return fence;
}

/* A sync_file of @fence; returns its file with the one reference the caller owns. */
struct file *vgpu_helper_sync_file_create(struct dma_fence *fence)
{
	struct sync_file *sf = sync_file_create(fence);

	return sf ? sf->file : NULL;
}

struct vgpu_event {
	struct drm_pending_event base;
	struct drm_event event;
};

/*
 * A bare struct drm_event of @type, reserved in @file's event space (ENOMEM when full).
 * drm_send_event() or drm_event_cancel_free() frees it.
 */
struct drm_pending_event *vgpu_helper_drm_event_reserve(struct drm_device *dev,
							struct drm_file *file, u32 type)
{
	struct vgpu_event *e = kzalloc(sizeof(*e), GFP_KERNEL);

	if (!e)
		return ERR_PTR(-ENOMEM);
	e->event.type = type;
	e->event.length = sizeof(e->event);
	if (drm_event_reserve_init(dev, file, &e->base, &e->event)) {
		kfree(e);
		return ERR_PTR(-ENOMEM);
	}
	return &e->base;
}

void vgpu_helper_drm_syncobj_put(struct drm_syncobj *syncobj)
{
	drm_syncobj_put(syncobj);
}

struct dma_fence_chain *vgpu_helper_dma_fence_chain_alloc(void)
{
	return dma_fence_chain_alloc();
}

void vgpu_helper_dma_fence_chain_free(struct dma_fence_chain *chain)
{
	dma_fence_chain_free(chain);
}

struct workqueue_struct *vgpu_helper_alloc_workqueue(const char *name)
{
	return alloc_workqueue("%s", WQ_UNBOUND | WQ_MEM_RECLAIM, 0, name);
}

bool vgpu_helper_is_vmalloc_addr(const void *p)
{
	return is_vmalloc_addr(p);
}

/* One scatterlist entry per page of the vmalloc'ed @buf..@buf+@len (@nents pages). */
void vgpu_helper_sg_init_vmalloc(struct scatterlist *sgl, unsigned int nents, const void *buf,
				 size_t len)
{
	unsigned int i;

	sg_init_table(sgl, nents);
	for (i = 0; i < nents && len; i++) {
		size_t off = offset_in_page(buf);
		size_t n = min_t(size_t, len, PAGE_SIZE - off);

		sg_set_page(&sgl[i], vmalloc_to_page(buf), n, off);
		buf += n;
		len -= n;
	}
}

/*
 * Our own export on this device (@buf made with one of our two tables @a, @b): its
 * object, with a new reference; NULL otherwise.
 */
struct drm_gem_object *vgpu_helper_prime_self(struct drm_device *dev, struct dma_buf *buf,
					      const struct virtio_dma_buf_ops *a,
					      const struct virtio_dma_buf_ops *b)
{
	struct drm_gem_object *obj;

	if (buf->ops != &a->ops && buf->ops != &b->ops)
		return NULL;
	obj = buf->priv;
	if (obj->dev != dev)
		return NULL;
	drm_gem_object_get(obj);
	return obj;
}

/*
 * Exports @obj as a virtio dma-buf with @ops, as drm_gem_prime_export() and
 * drm_gem_dmabuf_export() would with the DRM core's ops: the dma-buf shares the object's
 * reservation and holds a reference to the object and to the device (both dropped by
 * drm_gem_dmabuf_release()), and pins this module (owner). Its file's mapping is the
 * device's, so an unplug zaps dma-buf mmaps like DRM-fd ones (drm_gem_prime_mmap() puts
 * them at the object's fake offset in that address space).
 */
struct dma_buf *vgpu_helper_prime_export(struct drm_gem_object *obj, int flags,
					 const struct virtio_dma_buf_ops *ops)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);
	struct drm_device *dev = obj->dev;
	struct dma_buf *buf;

	exp_info.ops = &ops->ops;
	exp_info.size = obj->size;
	exp_info.flags = flags;
	exp_info.priv = obj;
	exp_info.resv = obj->resv;
	buf = virtio_dma_buf_export(&exp_info);
	if (IS_ERR(buf))
		return buf;
	drm_dev_get(dev);
	drm_gem_object_get(obj);
	buf->file->f_mapping = dev->anon_inode->i_mapping;
	return buf;
}

/* The object an export of ours was made from (dma-buf private data). */
struct drm_gem_object *vgpu_helper_dma_buf_gem(struct dma_buf *buf)
{
	return buf->priv;
}

/* The object an attachment to an export of ours maps. */
struct drm_gem_object *vgpu_helper_attachment_gem(struct dma_buf_attachment *attach)
{
	return attach->dmabuf->priv;
}

/*
 * A one-entry table of device memory @phys..@phys + @len (no struct page behind it)
 * mapped for the importing device. Only importers that declared they handle such
 * peer-to-peer memory may have it: others may look for the pages (EOPNOTSUPP).
 */
struct sg_table *vgpu_helper_map_resource(struct dma_buf_attachment *attach, u64 phys,
					  size_t len, enum dma_data_direction dir)
{
	struct sg_table *sgt;
	dma_addr_t addr;
	int ret;

	if (!attach->peer2peer)
		return ERR_PTR(-EOPNOTSUPP);
	if (len > UINT_MAX)
		return ERR_PTR(-E2BIG);
	sgt = kzalloc(sizeof(*sgt), GFP_KERNEL);
	if (!sgt)
		return ERR_PTR(-ENOMEM);
	ret = sg_alloc_table(sgt, 1, GFP_KERNEL);
	if (ret)
		goto free;
	addr = dma_map_resource(attach->dev, phys, len, dir, DMA_ATTR_SKIP_CPU_SYNC);
	ret = dma_mapping_error(attach->dev, addr);
	if (ret)
		goto table;
	sg_set_page(sgt->sgl, NULL, len, 0);
	sg_dma_address(sgt->sgl) = addr;
	sg_dma_len(sgt->sgl) = len;
	return sgt;
table:
	sg_free_table(sgt);
free:
	kfree(sgt);
	return ERR_PTR(ret);
}

void vgpu_helper_unmap_resource(struct dma_buf_attachment *attach, struct sg_table *sgt,
				enum dma_data_direction dir)
{
	dma_unmap_resource(attach->dev, sg_dma_address(sgt->sgl), sg_dma_len(sgt->sgl), dir,
			   DMA_ATTR_SKIP_CPU_SYNC);
	sg_free_table(sgt);
	kfree(sgt);
}

/*
 * Attaches the initialised private object @obj to the foreign @buf, dynamically (@ops
 * tell us when the exporter moves it) and without mapping it: that waits for the first
 * device use. The object shares the buffer's reservation and keeps a reference to it.
 */
int vgpu_helper_gem_import_attach(struct drm_device *dev, struct drm_gem_object *obj,
				  struct dma_buf *buf, const struct dma_buf_attach_ops *ops)
{
	struct dma_buf_attachment *att = dma_buf_dynamic_attach(buf, dev->dev, ops, obj);

	if (IS_ERR(att))
		return PTR_ERR(att);
	/* The attachment's reference (dropped by drm_prime_gem_destroy()); the PRIME core
	 * sets obj->dma_buf with a reference of its own once a handle exists. */
	get_dma_buf(buf);
	obj->import_attach = att;
	obj->resv = buf->resv;
	return 0;
}

struct drm_gem_object *vgpu_helper_attachment_importer(struct dma_buf_attachment *attach)
{
	return attach->importer_priv;
}

int vgpu_helper_dma_resv_lock_interruptible(struct dma_resv *resv)
{
	return dma_resv_lock_interruptible(resv, NULL);
}

void vgpu_helper_dma_resv_lock(struct dma_resv *resv)
{
	dma_resv_lock(resv, NULL);
}

void vgpu_helper_dma_resv_unlock(struct dma_resv *resv)
{
	dma_resv_unlock(resv);
}

/* Undoes vgpu_helper_gem_import_attach() once the attachment is unmapped. */
void vgpu_helper_gem_import_destroy(struct drm_gem_object *obj)
{
	drm_prime_gem_destroy(obj, NULL);
}

bool vgpu_helper_gem_import_has_mmap(struct drm_gem_object *obj)
{
	return obj->import_attach->dmabuf->ops->mmap;
}

/* Maps the import's attachment for our device; the caller holds the reservation. */
struct sg_table *vgpu_helper_gem_import_map(struct drm_gem_object *obj)
{
	return dma_buf_map_attachment(obj->import_attach, DMA_BIDIRECTIONAL);
}

/* The caller holds the reservation. */
void vgpu_helper_gem_import_unmap(struct drm_gem_object *obj, struct sg_table *sgt)
{
	dma_buf_unmap_attachment(obj->import_attach, sgt, DMA_BIDIRECTIONAL);
}

/*
 * The guest-physical address of DMA address @dma of @dev, for a virtio device that takes
 * physical addresses while the rest of the kernel maps buffers for it through the DMA API
 * (an exporter mapped an import's attachment). Only dma-direct without bouncing has such
 * an address: behind an IOMMU or a swiotlb bounce buffer there is none (EOPNOTSUPP).
 * dma-direct.h and dma-map-ops.h are meant for DMA implementations; this is the one place
 * that needs the translation, and it refuses where it would have to guess.
 */
int vgpu_helper_dma_to_guest_phys(struct device *dev, u64 dma, u64 *phys)
{
	phys_addr_t p;

	/* Bouncing is forced (e.g. confidential guests) or can happen only outside the
	 * device's DMA mask, 64 bits for virtio-pci. */
	if (device_iommu_mapped(dev) || get_dma_ops(dev) || is_swiotlb_force_bounce(dev))
		return -EOPNOTSUPP;
	p = dma_to_phys(dev, dma);
	*phys = p;
	return 0;
}

/*
 * A userspace mapping of an import is the exporter's (as drm_gem_shmem_mmap() does for
 * imports): our vm_ops go, dma_buf_mmap() installs the exporter's and the dma-buf's file,
 * and the reference drm_gem_mmap_obj() took for our vm_ops is dropped.
 */
int vgpu_helper_gem_mmap_import(struct drm_gem_object *obj, struct vm_area_struct *vma)
{
	int ret;

	vma->vm_private_data = NULL;
	vma->vm_ops = NULL;
	ret = dma_buf_mmap(obj->import_attach->dmabuf, vma, 0);
	if (!ret)
		drm_gem_object_put(obj);
	return ret;
}

/* Kernel mapping of an import: the exporter's (reservation held by the caller). */
int vgpu_helper_gem_vmap_import(struct drm_gem_object *obj, struct iosys_map *map)
{
	return dma_buf_vmap(obj->import_attach->dmabuf, map);
}

void vgpu_helper_gem_vunmap_import(struct drm_gem_object *obj, struct iosys_map *map)
{
	dma_buf_vunmap(obj->import_attach->dmabuf, map);
}

size_t vgpu_helper_dma_buf_size(struct dma_buf *buf)
{
	return buf->size;
}
