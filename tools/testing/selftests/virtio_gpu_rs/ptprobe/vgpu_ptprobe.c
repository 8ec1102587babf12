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
 */
#include <linux/debugfs.h>
#include <linux/device/faux.h>
#include <linux/dma-mapping.h>
#include <linux/scatterlist.h>
#include <linux/dma-buf.h>
#include <linux/dma-resv.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/iosys-map.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pgtable.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
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

static ssize_t ptprobe_write(struct file *file, const char __user *ubuf, size_t count,
			     loff_t *ppos)
{
	struct ptprobe_file *pf = file->private_data;
	unsigned long addr;
	char buf[32], *cmd;
	int ret, fd;

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
