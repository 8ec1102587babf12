// SPDX-License-Identifier: GPL-2.0
/*
 * vgpu_ptprobe: test-only module that reports the memory type of a user mapping as the
 * page-table entry itself encodes it, so the virtio_gpu_rs selftests check what the MMU
 * will do rather than what the driver believes it asked for.
 *
 * /sys/kernel/debug/vgpu_ptprobe (0600): write a user virtual address of the writing
 * process ("0x..." or decimal); a following read on the same open file returns
 *
 *   addr=0x... pte=0x<raw> pfn=0x... memtype=<name> valid=<0|1>
 *
 * arm64 names come from AttrIndx (PTE bits [4:2]) mapped through the kernel's MT_*
 * indices: normal, normal-tagged, normal-nc, device-ngnrne, device-ngnre. x86_64 names
 * come from PAT/PCD/PWT looked up in the PAT MSR: wb, wc, uc-, uc, wt, wp. An address
 * without a present leaf entry gives valid=0 memtype=none.
 *
 * VM_IO/VM_PFNMAP vmas are walked with follow_pfnmap_start(), which reports the leaf's
 * pgprot and pfn; the pte field is then rebuilt from those two (equal to the raw leaf
 * entry for a page-sized leaf). Other vmas are walked by hand: pte_offset_map_lock() is
 * not exported to modules, so the PTE is read locklessly under RCU the way GUP-fast does,
 * with mmap_lock held for read so that the vma and its upper tables stay put.
 *
 * Kernel mappings of dma-bufs, for tests that look the address up in the kernel's own
 * page-table dump (CONFIG_PTDUMP_DEBUGFS; init_mm is not exported, so this module cannot
 * walk the kernel tables itself). Commands written to the same file:
 *
 *   vmap <fd>      dma_buf_vmap_unlocked() of dma-buf <fd> of the writing process, what
 *                  an importer calls;
 *   vmap-op <fd>   the exporter's dma_buf_ops.vmap under the reservation lock: the same
 *                  path minus dma_buf_vmap()'s sharing count and its WARN_ON_ONCE() on
 *                  failure, for vmaps a test expects the exporter to refuse;
 *   vunmap         undoes the vmap this file holds (write fails with ENOENT if none).
 *
 * After a vmap command, a read returns "vaddr=0x... iomem=<0|1> ret=<0|-errno>"; on
 * success the file keeps the dma-buf reference and the mapping until vunmap or until it
 * is closed. One vmap per open file (EBUSY); a bad fd fails the write (EBADF, EINVAL).
 *
 *   dmamap <fd>    attaches this module's (faux) device to dma-buf <fd>, maps the
 *                  attachment (the exporter's map_dma_buf) and reads the buffer through
 *                  the DMA addresses alone, as a device would (no IOMMU in the test
 *                  guests: a DMA address is the physical one). A read then returns
 *                  "nents=N len=L sum=0x... ret=<0|-errno>", sum being the 32-bit sum of
 *                  word[i] * (i + 1) over the buffer's words in DMA order.
 *
 *   uuid <fd>      is_virtio_dma_buf() of dma-buf <fd> and, for a virtio one,
 *                  virtio_dma_buf_get_uuid(): "virtio=<0|1> ret=<0|-errno> uuid=<32 hex
 *                  digits, or - on failure>"; ret=-EINVAL for a dma-buf that is not a
 *                  virtio one. This links the module against virtio_dma_buf.ko
 *                  (CONFIG_VIRTIO_DMA_SHARED_BUFFER=m): modprobe virtio_dma_buf before
 *                  insmod vgpu_ptprobe.ko.
 *
 * A test exporter, so that tests can import a dma-buf whose exporter is dynamic (it has
 * pin/unpin, the core calls map/unmap/pin/unpin/vmap/vunmap under its reservation lock)
 * and can move its backing store under the importers:
 *
 *   export <size> [nommap]
 *                  allocates ceil(size / PAGE_SIZE) zeroed pages (size at most 256 MiB),
 *                  exports them as a dma-buf (exp_name "vgpu_ptprobe", the dma-buf's own
 *                  reservation object) and installs an O_CLOEXEC, O_RDWR fd for it in the
 *                  writing process: "fd=N ret=0", or "fd=-1 ret=-errno". With nommap
 *                  the exporter has no mmap op (mmap of the dma-buf fails with EINVAL).
 *                  An mmap maps nothing up front: faults insert the current page, so a
 *                  move (which zaps the mappings) is followed by faults on the new pages;
 *                  copies a MAP_PRIVATE mapping made on write are kept.
 *                  A vmap is a vmap() of the current pages and blocks moves until undone.
 *   move <fd>      moves test export <fd> to freshly allocated pages: under the
 *                  reservation lock, dma_buf_invalidate_mappings() (every dynamic
 *                  importer's invalidate_mappings), then waits (interruptibly, 10 s in all)
 *                  with the lock dropped for all fences of the reservation object
 *                  (DMA_RESV_USAGE_BOOKKEEP) and repeats both until no fence is left
 *                  once relocked; then zaps the user mappings, copies the contents to the
 *                  new pages, fills each old page with 0x6b and switches to the new pages.
 *                  Old pages stay allocated while an sg table mapped over them is still
 *                  mapped (an importer unmaps after invalidate_mappings in bounded time,
 *                  not at once) and are freed at its unmap or at release. Answers "moved=1
 *                  pins=N mapped=M ret=0", M being the sg tables still mapped over the old
 *                  pages; "moved=0 ... ret=-errno" when it did not move: -EBUSY while
 *                  pinned (a static importer's mapping pins, as does dma_buf_pin()) or
 *                  vmapped, -ETIMEDOUT, -EINTR, -ENOMEM (M then counts the tables over
 *                  the current pages, which stayed).
 *   stat <fd>      "pins=N maps=N gen=N moves=N mapcalls=N vmaps=N ret=0" for test export
 *                  <fd>: maps = sg tables currently mapped (all generations), gen = the
 *                  current page generation (0 at export, +1 per move), mapcalls = calls
 *                  of map_dma_buf so far, vmaps = vmaps currently held.
 *
 * move and stat fail the write with EINVAL for a dma-buf that is not a test export. The
 * module cannot be unloaded while a test export lives (the dma-buf holds a reference).
 */
#include <linux/debugfs.h>
#include <linux/device/faux.h>
#include <linux/dma-mapping.h>
#include <linux/scatterlist.h>
#include <linux/dma-buf.h>
#include <linux/dma-resv.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/iosys-map.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pgtable.h>
#include <linux/rcupdate.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uuid.h>
#include <linux/virtio_dma_buf.h>
#include <linux/vmalloc.h>
#ifdef CONFIG_X86_64
#include <asm/memtype.h>
#include <asm/msr.h>
#endif

#define PTPROBE_LINE 160

struct ptprobe_file {
	struct mutex lock; /* serialises commands (which fill line) against each other and reads */
	char line[PTPROBE_LINE];
	size_t len;
	struct dma_buf *dmabuf; /* held from a successful vmap until vunmap or release */
	struct iosys_map map;
	bool by_op; /* mapped through the exporter's op rather than dma_buf_vmap() */
};

struct ptprobe_leaf {
	u64 raw;
	unsigned long pfn;
	bool valid;
	bool huge; /* a PMD or PUD leaf: x86 keeps PAT at bit 12 there */
};

#ifdef CONFIG_ARM64
static const char *ptprobe_memtype(const struct ptprobe_leaf *l)
{
	switch ((l->raw & PTE_ATTRINDX_MASK) >> 2) {
	case MT_NORMAL:
		return "normal";
	case MT_NORMAL_TAGGED:
		return "normal-tagged";
	case MT_NORMAL_NC:
		return "normal-nc";
	case MT_DEVICE_nGnRnE:
		return "device-ngnrne";
	case MT_DEVICE_nGnRE:
		return "device-ngnre";
	default:
		return "unknown";
	}
}
#elif defined(CONFIG_X86_64)
static const char *ptprobe_memtype(const struct ptprobe_leaf *l)
{
	/* PAT MSR entry types (SDM vol. 3, "PAT"). */
	static const char *const types[8] = {
		[0] = "uc", [1] = "wc", [4] = "wt", [5] = "wp", [6] = "wb", [7] = "uc-",
	};
	/* Without PAT, PWT/PCD select one of these fixed types. */
	static const char *const nopat[4] = { "wb", "wt", "uc-", "uc" };
	u64 pat_bit = l->huge ? _PAGE_PAT_LARGE : _PAGE_PAT;
	unsigned int idx = (l->raw & _PAGE_PWT ? 1 : 0) | (l->raw & _PAGE_PCD ? 2 : 0) |
			   (l->raw & pat_bit ? 4 : 0);
	const char *name;
	u64 pat;

	if (!pat_enabled())
		return nopat[idx & 3];
	rdmsrq(MSR_IA32_CR_PAT, pat);
	name = types[(pat >> (8 * idx)) & 7];
	return name ? name : "unknown";
}
#else
static const char *ptprobe_memtype(const struct ptprobe_leaf *l)
{
	return "unknown";
}
#endif

/* IO and raw PFN mappings: the kernel's own walker, with its locking. */
static int ptprobe_pfnmap(struct vm_area_struct *vma, unsigned long addr,
			  struct ptprobe_leaf *l)
{
	struct follow_pfnmap_args args = { .vma = vma, .address = addr };

	if (follow_pfnmap_start(&args))
		return 0; /* nothing mapped there (yet) */
	l->pfn = args.pfn;
	l->raw = pte_val(pfn_pte(args.pfn, args.pgprot));
	l->huge = args.addr_mask != PAGE_MASK;
	l->valid = true;
	follow_pfnmap_end(&args);
	return 0;
}

/* Everything else: a read-only lockless walk, mmap_lock held for read by the caller. */
static int ptprobe_walk(struct mm_struct *mm, unsigned long addr, struct ptprobe_leaf *l)
{
	pgd_t *pgdp;
	p4d_t *p4dp, p4d;
	pud_t *pudp, pud;
	pmd_t *pmdp, pmd;
	pte_t pte;

	pgdp = pgd_offset(mm, addr);
	if (pgd_none(*pgdp) || pgd_bad(*pgdp))
		return 0;
	p4dp = p4d_offset(pgdp, addr);
	p4d = p4dp_get(p4dp);
	if (p4d_none(p4d) || p4d_bad(p4d))
		return 0;
	pudp = pud_offset(p4dp, addr);
	pud = pudp_get(pudp);
	if (!pud_present(pud))
		return 0;
	if (pud_leaf(pud)) {
		l->raw = pud_val(pud);
		l->pfn = pud_pfn(pud) + ((addr & ~PUD_MASK) >> PAGE_SHIFT);
		l->huge = true;
		l->valid = true;
		return 0;
	}
	if (pud_bad(pud))
		return 0;
	pmdp = pmd_offset(pudp, addr);
	pmd = pmdp_get_lockless(pmdp);
	if (!pmd_present(pmd))
		return 0;
	if (pmd_leaf(pmd)) {
		l->raw = pmd_val(pmd);
		l->pfn = pmd_pfn(pmd) + ((addr & ~PMD_MASK) >> PAGE_SHIFT);
		l->huge = true;
		l->valid = true;
		return 0;
	}
	if (pmd_bad(pmd))
		return 0;
	/*
	 * A PTE table can be freed under us only by a collapse, which defers the free
	 * past an RCU grace period; reading the table through our own copy of the pmd
	 * inside an RCU read section is what GUP-fast relies on as well.
	 */
	rcu_read_lock();
	pte = ptep_get(pte_offset_kernel(&pmd, addr));
	rcu_read_unlock();
	l->raw = pte_val(pte);
	if (pte_present(pte)) {
		l->pfn = pte_pfn(pte);
		l->valid = true;
	}
	return 0;
}

static int ptprobe_lookup(unsigned long addr, struct ptprobe_leaf *l)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	int ret = 0;

	if (!mm)
		return -EINVAL;
	if (mmap_read_lock_killable(mm))
		return -EINTR;
	vma = find_vma(mm, addr);
	if (vma && vma->vm_start <= addr) {
		if (vma->vm_flags & (VM_IO | VM_PFNMAP))
			ret = ptprobe_pfnmap(vma, addr, l);
		else
			ret = ptprobe_walk(mm, addr, l);
	}
	mmap_read_unlock(mm);
	return ret;
}

/* Drops the vmap and the dma-buf reference @pf holds; pf->lock held (or @pf released). */
static void ptprobe_vunmap(struct ptprobe_file *pf)
{
	struct dma_buf *dmabuf = pf->dmabuf;

	if (pf->by_op) {
		if (dmabuf->ops->vunmap) {
			dma_resv_lock(dmabuf->resv, NULL);
			dmabuf->ops->vunmap(dmabuf, &pf->map);
			dma_resv_unlock(dmabuf->resv);
		}
	} else {
		dma_buf_vunmap_unlocked(dmabuf, &pf->map);
	}
	dma_buf_put(dmabuf);
	pf->dmabuf = NULL;
	iosys_map_clear(&pf->map);
}

/*
 * vmap of dma-buf @fd of the current process; the outcome goes to pf->line. Fails only
 * for a file that holds a vmap already or an @fd that is no dma-buf. pf->lock held.
 */
static int ptprobe_vmap(struct ptprobe_file *pf, int fd, bool by_op)
{
	struct dma_buf *dmabuf;
	struct iosys_map map;
	unsigned long vaddr = 0;
	int ret;

	if (pf->dmabuf)
		return -EBUSY;
	dmabuf = dma_buf_get(fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	iosys_map_clear(&map);
	if (!by_op) {
		ret = dma_buf_vmap_unlocked(dmabuf, &map);
	} else if (!dmabuf->ops->vmap) {
		ret = -EINVAL; /* what dma_buf_vmap() answers, without a warning either */
	} else {
		dma_resv_lock(dmabuf->resv, NULL);
		ret = dmabuf->ops->vmap(dmabuf, &map);
		dma_resv_unlock(dmabuf->resv);
	}
	if (ret) {
		dma_buf_put(dmabuf);
	} else {
		pf->dmabuf = dmabuf;
		pf->map = map;
		pf->by_op = by_op;
		vaddr = map.is_iomem ? (__force unsigned long)map.vaddr_iomem :
				       (unsigned long)map.vaddr;
	}
	pf->len = scnprintf(pf->line, sizeof(pf->line), "vaddr=0x%lx iomem=%d ret=%d\n",
			    vaddr, !ret && map.is_iomem, ret);
	return 0;
}

static int ptprobe_user_addr(struct ptprobe_file *pf, unsigned long addr)
{
	struct ptprobe_leaf l = { };
	int ret = ptprobe_lookup(addr, &l);

	if (ret)
		return ret;
	pf->len = scnprintf(pf->line, sizeof(pf->line),
			    "addr=0x%lx pte=0x%llx pfn=0x%lx memtype=%s valid=%d\n", addr,
			    (unsigned long long)l.raw, l.pfn,
			    l.valid ? ptprobe_memtype(&l) : "none", l.valid);
	return 0;
}

static struct faux_device *ptprobe_fdev;

/* See "dmamap" above; the outcome goes to pf->line. pf->lock held. */
static int ptprobe_dmamap(struct ptprobe_file *pf, int fd)
{
	struct dma_buf_attachment *att;
	struct dma_buf *dmabuf;
	struct scatterlist *sg;
	struct sg_table *sgt;
	unsigned int i, nents = 0;
	size_t len = 0, j;
	u32 sum = 0;
	int ret = 0;

	dmabuf = dma_buf_get(fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	att = dma_buf_attach(dmabuf, &ptprobe_fdev->dev);
	if (IS_ERR(att)) {
		ret = PTR_ERR(att);
		goto out;
	}
	sgt = dma_buf_map_attachment_unlocked(att, DMA_BIDIRECTIONAL);
	if (IS_ERR(sgt)) {
		ret = PTR_ERR(sgt);
		goto detach;
	}
	for_each_sgtable_dma_sg(sgt, sg, i) {
		const u32 *w = phys_to_virt((phys_addr_t)sg_dma_address(sg));

		for (j = 0; j < sg_dma_len(sg) / 4; j++)
			sum += w[j] * (u32)(len / 4 + j + 1);
		len += sg_dma_len(sg);
		nents++;
	}
	dma_buf_unmap_attachment_unlocked(att, sgt, DMA_BIDIRECTIONAL);
detach:
	dma_buf_detach(dmabuf, att);
out:
	dma_buf_put(dmabuf);
	pf->len = scnprintf(pf->line, sizeof(pf->line), "nents=%u len=%zu sum=0x%08x ret=%d\n",
			    nents, len, sum, ret);
	return 0;
}

/* See "uuid" above; the outcome goes to pf->line. pf->lock held. */
static int ptprobe_uuid(struct ptprobe_file *pf, int fd)
{
	struct dma_buf *dmabuf;
	uuid_t uuid;
	bool virtio;
	int ret;

	dmabuf = dma_buf_get(fd);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	virtio = is_virtio_dma_buf(dmabuf);
	ret = virtio ? virtio_dma_buf_get_uuid(dmabuf, &uuid) : -EINVAL;
	dma_buf_put(dmabuf);
	if (ret)
		pf->len = scnprintf(pf->line, sizeof(pf->line), "virtio=%d ret=%d uuid=-\n",
				    virtio, ret);
	else
		pf->len = scnprintf(pf->line, sizeof(pf->line), "virtio=%d ret=0 uuid=%*phN\n",
				    virtio, (int)sizeof(uuid.b), uuid.b);
	return 0;
}

/* ---- test exporter ---- */

#define PTPROBE_EXPORT_MAX SZ_256M
#define PTPROBE_POISON 0x6b
#define PTPROBE_MOVE_TIMEOUT (10 * HZ)

/* One generation of backing pages. */
struct ptprobe_pages {
	struct list_head node; /* in ptprobe_export.retired once replaced by a move */
	struct page **pages;
	unsigned int gen;
	unsigned int mapped; /* sg tables currently mapped over these pages */
};

/* What map_dma_buf hands out: the table and the generation it maps. */
struct ptprobe_sgt {
	struct sg_table sgt;
	struct ptprobe_pages *pages;
};

/* A test export, the dma-buf's priv. All but npages is protected by buf->resv. */
struct ptprobe_export {
	struct dma_buf *buf;
	pgoff_t npages; /* invariant */
	struct ptprobe_pages *cur;
	struct list_head retired; /* old generations still mapped by some importer */
	unsigned int pins, maps, vmaps, moves, mapcalls;
};

static void ptprobe_pages_free(struct ptprobe_pages *p, pgoff_t npages)
{
	pgoff_t i;

	for (i = 0; i < npages && p->pages[i]; i++)
		__free_page(p->pages[i]);
	kvfree(p->pages);
	kfree(p);
}

static struct ptprobe_pages *ptprobe_pages_alloc(pgoff_t npages, unsigned int gen)
{
	struct ptprobe_pages *p = kzalloc_obj(*p);
	pgoff_t i;

	if (!p)
		return NULL;
	p->gen = gen;
	p->pages = kvcalloc(npages, sizeof(*p->pages), GFP_KERNEL);
	if (!p->pages) {
		kfree(p);
		return NULL;
	}
	for (i = 0; i < npages; i++) {
		p->pages[i] = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!p->pages[i]) {
			ptprobe_pages_free(p, npages);
			return NULL;
		}
	}
	return p;
}

static int ptprobe_exp_pin(struct dma_buf_attachment *attach)
{
	struct ptprobe_export *exp = attach->dmabuf->priv;

	dma_resv_assert_held(exp->buf->resv);
	exp->pins++;
	return 0;
}

static void ptprobe_exp_unpin(struct dma_buf_attachment *attach)
{
	struct ptprobe_export *exp = attach->dmabuf->priv;

	dma_resv_assert_held(exp->buf->resv);
	if (!WARN_ON(!exp->pins))
		exp->pins--;
}

static struct sg_table *ptprobe_exp_map(struct dma_buf_attachment *attach,
					enum dma_data_direction dir)
{
	struct ptprobe_export *exp = attach->dmabuf->priv;
	struct ptprobe_sgt *s;
	int ret;

	dma_resv_assert_held(exp->buf->resv);
	exp->mapcalls++;
	s = kzalloc_obj(*s);
	if (!s)
		return ERR_PTR(-ENOMEM);
	ret = sg_alloc_table_from_pages(&s->sgt, exp->cur->pages, exp->npages, 0,
					exp->npages << PAGE_SHIFT, GFP_KERNEL);
	if (ret)
		goto free;
	ret = dma_map_sgtable(attach->dev, &s->sgt, dir, 0);
	if (ret)
		goto free_table;
	s->pages = exp->cur;
	s->pages->mapped++;
	exp->maps++;
	return &s->sgt;

free_table:
	sg_free_table(&s->sgt);
free:
	kfree(s);
	return ERR_PTR(ret);
}

static void ptprobe_exp_unmap(struct dma_buf_attachment *attach, struct sg_table *sgt,
			      enum dma_data_direction dir)
{
	struct ptprobe_export *exp = attach->dmabuf->priv;
	struct ptprobe_sgt *s = container_of(sgt, struct ptprobe_sgt, sgt);
	struct ptprobe_pages *p = s->pages;

	dma_resv_assert_held(exp->buf->resv);
	dma_unmap_sgtable(attach->dev, sgt, dir, 0);
	sg_free_table(sgt);
	kfree(s);
	exp->maps--;
	/* The last mapping of a generation a move replaced: nobody can reach it any more. */
	if (!--p->mapped && p != exp->cur) {
		list_del(&p->node);
		ptprobe_pages_free(p, exp->npages);
	}
}

static void ptprobe_exp_release(struct dma_buf *buf)
{
	struct ptprobe_export *exp = buf->priv;
	struct ptprobe_pages *p, *tmp;

	/* Importers unmap before they detach, and the core releases only once all have. */
	WARN_ON(exp->maps || exp->pins || exp->vmaps);
	list_for_each_entry_safe(p, tmp, &exp->retired, node)
		ptprobe_pages_free(p, exp->npages);
	ptprobe_pages_free(exp->cur, exp->npages);
	kfree(exp);
}

static int ptprobe_exp_vmap(struct dma_buf *buf, struct iosys_map *map)
{
	struct ptprobe_export *exp = buf->priv;
	void *vaddr;

	dma_resv_assert_held(buf->resv);
	vaddr = vmap(exp->cur->pages, exp->npages, VM_MAP, PAGE_KERNEL);
	if (!vaddr)
		return -ENOMEM;
	exp->vmaps++;
	iosys_map_set_vaddr(map, vaddr);
	return 0;
}

static void ptprobe_exp_vunmap(struct dma_buf *buf, struct iosys_map *map)
{
	struct ptprobe_export *exp = buf->priv;

	dma_resv_assert_held(buf->resv);
	vunmap(map->vaddr);
	exp->vmaps--;
}

/*
 * Inserts the current page. The reservation lock orders this against a move, which zaps
 * every user PTE of the dma-buf's file under that lock before switching pages (the lock
 * nests inside mmap_lock, as dma_resv_lockdep() records).
 */
static vm_fault_t ptprobe_exp_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct ptprobe_export *exp = vma->vm_private_data;
	vm_fault_t ret;

	if (vmf->pgoff >= exp->npages)
		return VM_FAULT_SIGBUS;
	dma_resv_lock(exp->buf->resv, NULL);
	ret = vmf_insert_page(vma, vmf->address, exp->cur->pages[vmf->pgoff]);
	dma_resv_unlock(exp->buf->resv);
	return ret;
}

static const struct vm_operations_struct ptprobe_exp_vm_ops = {
	.fault = ptprobe_exp_fault,
};

/*
 * The vma's file is the dma-buf's (dma_buf_mmap() sets it for importers' mmaps too), so
 * unmap_mapping_range() on buf->file->f_mapping reaches every mapping; the vma's
 * reference on that file keeps @exp alive.
 */
static int ptprobe_exp_mmap(struct dma_buf *buf, struct vm_area_struct *vma)
{
	/* vm_insert_page() wants VM_MIXEDMAP set here: a fault may hold only the vma lock. */
	vm_flags_mod(vma, VM_MIXEDMAP | VM_DONTEXPAND | VM_DONTDUMP, VM_PFNMAP);
	vma->vm_ops = &ptprobe_exp_vm_ops;
	vma->vm_private_data = buf->priv;
	return 0;
}

#define PTPROBE_EXPORT_OPS					\
	.pin = ptprobe_exp_pin,					\
	.unpin = ptprobe_exp_unpin,				\
	.map_dma_buf = ptprobe_exp_map,				\
	.unmap_dma_buf = ptprobe_exp_unmap,			\
	.release = ptprobe_exp_release,				\
	.vmap = ptprobe_exp_vmap,				\
	.vunmap = ptprobe_exp_vunmap

static const struct dma_buf_ops ptprobe_exp_ops = {
	PTPROBE_EXPORT_OPS,
	.mmap = ptprobe_exp_mmap,
};

static const struct dma_buf_ops ptprobe_exp_ops_nommap = {
	PTPROBE_EXPORT_OPS,
};

/* See "export" above; the outcome goes to pf->line. pf->lock held. */
static int ptprobe_export(struct ptprobe_file *pf, u64 size, bool mmap)
{
	DEFINE_DMA_BUF_EXPORT_INFO(info);
	struct ptprobe_export *exp;
	struct dma_buf *buf;
	int fd;

	if (!size || size > PTPROBE_EXPORT_MAX) {
		fd = -EINVAL;
		goto out;
	}
	fd = -ENOMEM;
	exp = kzalloc_obj(*exp);
	if (!exp)
		goto out;
	INIT_LIST_HEAD(&exp->retired);
	exp->npages = DIV_ROUND_UP(size, PAGE_SIZE);
	exp->cur = ptprobe_pages_alloc(exp->npages, 0);
	if (!exp->cur) {
		kfree(exp);
		goto out;
	}
	info.exp_name = "vgpu_ptprobe";
	info.ops = mmap ? &ptprobe_exp_ops : &ptprobe_exp_ops_nommap;
	info.size = exp->npages << PAGE_SHIFT;
	info.flags = O_RDWR;
	info.priv = exp;
	buf = dma_buf_export(&info);
	if (IS_ERR(buf)) {
		ptprobe_pages_free(exp->cur, exp->npages);
		kfree(exp);
		fd = PTR_ERR(buf);
		goto out;
	}
	exp->buf = buf;
	fd = dma_buf_fd(buf, O_CLOEXEC | O_RDWR);
	if (fd < 0)
		dma_buf_put(buf); /* releases @exp */
out:
	pf->len = scnprintf(pf->line, sizeof(pf->line), "fd=%d ret=%d\n", fd < 0 ? -1 : fd,
			    fd < 0 ? fd : 0);
	return 0;
}

/* A test export of ours behind dma-buf @fd, with a reference, or an ERR_PTR. */
static struct dma_buf *ptprobe_export_get(int fd)
{
	struct dma_buf *buf = dma_buf_get(fd);

	if (IS_ERR(buf))
		return buf;
	if (buf->ops != &ptprobe_exp_ops && buf->ops != &ptprobe_exp_ops_nommap) {
		dma_buf_put(buf);
		return ERR_PTR(-EINVAL);
	}
	return buf;
}

/*
 * Invalidates the importers' mappings and waits for the fences; returns 0 with
 * buf->resv held and no fence left, or -errno with it unlocked. Fences are waited for
 * with the lock dropped, so importers may map (and fence) again meanwhile: hence the
 * invalidation is repeated until, relocked, no fence remains.
 */
static int ptprobe_move_quiesce(struct ptprobe_export *exp)
{
	struct dma_resv *resv = exp->buf->resv;
	long left = PTPROBE_MOVE_TIMEOUT;
	int ret;

	ret = dma_resv_lock_interruptible(resv, NULL);
	if (ret)
		return ret;
	for (;;) {
		/* Pinned importers may not move, and a vmap is a pin too. */
		if (exp->pins || exp->vmaps) {
			ret = -EBUSY;
			break;
		}
		dma_buf_invalidate_mappings(exp->buf);
		if (dma_resv_test_signaled(resv, DMA_RESV_USAGE_BOOKKEEP))
			return 0;
		dma_resv_unlock(resv);
		left = dma_resv_wait_timeout(resv, DMA_RESV_USAGE_BOOKKEEP, true, left);
		if (left <= 0)
			return left ? (left == -ERESTARTSYS ? -EINTR : left) : -ETIMEDOUT;
		ret = dma_resv_lock_interruptible(resv, NULL);
		if (ret)
			return ret;
	}
	dma_resv_unlock(resv);
	return ret;
}

/* See "move" above; the outcome goes to pf->line. pf->lock held. */
static int ptprobe_move(struct ptprobe_file *pf, int fd)
{
	struct ptprobe_pages *old, *new = NULL;
	struct ptprobe_export *exp;
	unsigned int pins, mapped;
	struct dma_buf *buf;
	pgoff_t i;
	int ret;

	buf = ptprobe_export_get(fd);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	exp = buf->priv;
	ret = ptprobe_move_quiesce(exp);
	if (ret) {
		/* What blocked the move, for the report. */
		dma_resv_lock(buf->resv, NULL);
		pins = exp->pins;
		mapped = exp->cur->mapped;
		dma_resv_unlock(buf->resv);
		goto out;
	}
	old = exp->cur;
	new = ptprobe_pages_alloc(exp->npages, old->gen + 1);
	if (!new) {
		ret = -ENOMEM;
	} else {
		/* CPU mappings first, so that no store lands in a page already copied. */
		unmap_mapping_range(buf->file->f_mapping, 0, 0, 0);
		for (i = 0; i < exp->npages; i++) {
			copy_highpage(new->pages[i], old->pages[i]);
			memset_page(old->pages[i], 0, PTPROBE_POISON, PAGE_SIZE);
		}
		exp->cur = new;
		exp->moves++;
		if (old->mapped)
			list_add_tail(&old->node, &exp->retired);
	}
	pins = exp->pins;
	mapped = old->mapped;
	dma_resv_unlock(buf->resv);
	if (new && !mapped)
		ptprobe_pages_free(old, exp->npages);
out:
	dma_buf_put(buf);
	pf->len = scnprintf(pf->line, sizeof(pf->line), "moved=%d pins=%u mapped=%u ret=%d\n",
			    !ret, pins, mapped, ret);
	return 0;
}

/* See "stat" above; the outcome goes to pf->line. pf->lock held. */
static int ptprobe_stat(struct ptprobe_file *pf, int fd)
{
	struct ptprobe_export *exp;
	struct dma_buf *buf;
	int ret;

	buf = ptprobe_export_get(fd);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	exp = buf->priv;
	ret = dma_resv_lock_interruptible(buf->resv, NULL);
	if (!ret) {
		pf->len = scnprintf(pf->line, sizeof(pf->line),
				    "pins=%u maps=%u gen=%u moves=%u mapcalls=%u vmaps=%u ret=0\n",
				    exp->pins, exp->maps, exp->cur->gen, exp->moves,
				    exp->mapcalls, exp->vmaps);
		dma_resv_unlock(buf->resv);
	}
	dma_buf_put(buf);
	return ret;
}

/* "<size> [nommap]" of the export command. */
static int ptprobe_parse_export(char *arg, u64 *size, bool *mmap)
{
	char *opt = strchr(arg, ' ');

	*mmap = true;
	if (opt) {
		*opt++ = 0;
		if (strcmp(skip_spaces(opt), "nommap"))
			return -EINVAL;
		*mmap = false;
	}
	return kstrtou64(arg, 0, size);
}

static ssize_t ptprobe_write(struct file *file, const char __user *ubuf, size_t count,
			     loff_t *ppos)
{
	struct ptprobe_file *pf = file->private_data;
	unsigned long addr;
	char buf[32], *cmd;
	int ret, fd;
	bool mmap;
	u64 size;

	if (count == 0 || count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = 0;
	cmd = strim(buf);

	mutex_lock(&pf->lock);
	if (str_has_prefix(cmd, "vmap-op ")) {
		ret = kstrtoint(cmd + strlen("vmap-op "), 0, &fd);
		if (!ret)
			ret = ptprobe_vmap(pf, fd, true);
	} else if (str_has_prefix(cmd, "vmap ")) {
		ret = kstrtoint(cmd + strlen("vmap "), 0, &fd);
		if (!ret)
			ret = ptprobe_vmap(pf, fd, false);
	} else if (str_has_prefix(cmd, "dmamap ")) {
		ret = kstrtoint(cmd + strlen("dmamap "), 0, &fd);
		if (!ret)
			ret = ptprobe_dmamap(pf, fd);
	} else if (str_has_prefix(cmd, "uuid ")) {
		ret = kstrtoint(cmd + strlen("uuid "), 0, &fd);
		if (!ret)
			ret = ptprobe_uuid(pf, fd);
	} else if (str_has_prefix(cmd, "export ")) {
		ret = ptprobe_parse_export(cmd + strlen("export "), &size, &mmap);
		if (!ret)
			ret = ptprobe_export(pf, size, mmap);
	} else if (str_has_prefix(cmd, "move ")) {
		ret = kstrtoint(cmd + strlen("move "), 0, &fd);
		if (!ret)
			ret = ptprobe_move(pf, fd);
	} else if (str_has_prefix(cmd, "stat ")) {
		ret = kstrtoint(cmd + strlen("stat "), 0, &fd);
		if (!ret)
			ret = ptprobe_stat(pf, fd);
	} else if (!strcmp(cmd, "vunmap")) {
		ret = pf->dmabuf ? 0 : -ENOENT;
		if (!ret) {
			ptprobe_vunmap(pf);
			pf->len = scnprintf(pf->line, sizeof(pf->line), "vunmap ret=0\n");
		}
	} else {
		ret = kstrtoul(cmd, 0, &addr);
		if (!ret)
			ret = ptprobe_user_addr(pf, addr);
	}
	mutex_unlock(&pf->lock);
	return ret ? ret : count;
}

static ssize_t ptprobe_read(struct file *file, char __user *ubuf, size_t count,
			    loff_t *ppos)
{
	struct ptprobe_file *pf = file->private_data;
	ssize_t ret;

	mutex_lock(&pf->lock);
	ret = simple_read_from_buffer(ubuf, count, ppos, pf->line, pf->len);
	mutex_unlock(&pf->lock);
	return ret;
}

static int ptprobe_open(struct inode *inode, struct file *file)
{
	struct ptprobe_file *pf = kzalloc(sizeof(*pf), GFP_KERNEL);

	if (!pf)
		return -ENOMEM;
	mutex_init(&pf->lock);
	file->private_data = pf;
	return 0;
}

static int ptprobe_release(struct inode *inode, struct file *file)
{
	struct ptprobe_file *pf = file->private_data;

	if (pf->dmabuf)
		ptprobe_vunmap(pf);
	mutex_destroy(&pf->lock);
	kfree(pf);
	return 0;
}

static const struct file_operations ptprobe_fops = {
	.owner = THIS_MODULE,
	.open = ptprobe_open,
	.release = ptprobe_release,
	.read = ptprobe_read,
	.write = ptprobe_write,
	.llseek = default_llseek,
};

static struct dentry *ptprobe_dentry;

static int __init ptprobe_init(void)
{
	int ret;

	/* The importing device of "dmamap": DMA-capable, 64-bit, no IOMMU. */
	ptprobe_fdev = faux_device_create("vgpu_ptprobe", NULL, NULL);
	if (!ptprobe_fdev)
		return -ENOMEM;
	ptprobe_fdev->dev.dma_mask = &ptprobe_fdev->dev.coherent_dma_mask;
	ret = dma_set_mask_and_coherent(&ptprobe_fdev->dev, DMA_BIT_MASK(64));
	if (ret)
		goto err;
	ptprobe_dentry = debugfs_create_file("vgpu_ptprobe", 0600, NULL, NULL, &ptprobe_fops);
	ret = PTR_ERR_OR_ZERO(ptprobe_dentry);
	if (!ret)
		return 0;
err:
	faux_device_destroy(ptprobe_fdev);
	return ret;
}

static void __exit ptprobe_exit(void)
{
	debugfs_remove(ptprobe_dentry);
	faux_device_destroy(ptprobe_fdev);
}

module_init(ptprobe_init);
module_exit(ptprobe_exit);
MODULE_DESCRIPTION("virtio_gpu_rs selftests: memory types from user PTEs, dma-buf vmaps and DMA views");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS("DMA_BUF");
