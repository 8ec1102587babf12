// SPDX-License-Identifier: GPL-2.0
/*
 * virtio_gpu_rs objects: RESOURCE_CREATE, RESOURCE_INFO, MAP and mmap, TRANSFER_*, WAIT,
 * CONTEXT_INIT, RESOURCE_CREATE_BLOB and GEM_CLOSE, with upstream's errnos; the contents
 * of guest objects and host blobs; the memory type each mapping really got, read from its
 * page-table entry through the vgpu_ptprobe module, and of the driver's kernel mappings
 * (vmap through an exported dma-buf) read from the kernel's page-table dump; the driver's
 * debugfs views of objects and of the host-visible region.
 *
 * VGPU_GPU=2d|gl names the device configuration. Host blobs need the GL device (virgl,
 * resource_blob, host_visible); on the 2D device those tests skip and say so.
 */
#include <setjmp.h>
#include <stddef.h>
#include <signal.h>
#include <sys/mman.h>
#include <drm/drm_mode.h>
#include "virtgpu_util.h"
#include "virtgpu_blob.h"
#include "kselftest_harness.h"

#define MAP_INFO_MASK 0x0f /* VIRTIO_GPU_MAP_CACHE_MASK */

static long page_size(void)
{
	return sysconf(_SC_PAGESIZE);
}

static const char *gpu_config(void)
{
	const char *g = getenv("VGPU_GPU");

	return g ? g : "";
}

/* ---- ioctl wrappers: 0 or -errno ---- */

static int map_offset(int fd, uint32_t handle, uint64_t *off)
{
	struct drm_virtgpu_map m = { .handle = handle };
	int ret = vgpu_ioctl(fd, DRM_IOCTL_VIRTGPU_MAP, &m);

	if (!ret && off)
		*off = m.offset;
	return ret;
}

static int res_info(int fd, uint32_t handle, struct drm_virtgpu_resource_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	ri->bo_handle = handle;
	return vgpu_ioctl(fd, DRM_IOCTL_VIRTGPU_RESOURCE_INFO, ri);
}

static int wait_bo(int fd, uint32_t handle, uint32_t flags)
{
	struct drm_virtgpu_3d_wait w = { .handle = handle, .flags = flags };

	return vgpu_ioctl(fd, DRM_IOCTL_VIRTGPU_WAIT, &w);
}

static int to_host(int fd, uint32_t handle, uint32_t w, uint32_t h, uint32_t stride)
{
	struct drm_virtgpu_3d_transfer_to_host t = {
		.bo_handle = handle, .box = { .w = w, .h = h, .d = 1 }, .stride = stride,
	};

	return vgpu_ioctl(fd, DRM_IOCTL_VIRTGPU_TRANSFER_TO_HOST, &t);
}

static int from_host(int fd, uint32_t handle, uint32_t w, uint32_t h, uint32_t stride)
{
	struct drm_virtgpu_3d_transfer_from_host t = {
		.bo_handle = handle, .box = { .w = w, .h = h, .d = 1 }, .stride = stride,
	};

	return vgpu_ioctl(fd, DRM_IOCTL_VIRTGPU_TRANSFER_FROM_HOST, &t);
}

/* A resource of @w x @h B8G8R8A8 pixels: PIPE_TEXTURE_2D, 2D on the plain device. */
static int create_2d(int fd, uint32_t w, uint32_t h, uint32_t *bo, uint32_t *res)
{
	struct drm_virtgpu_resource_create rc = {
		.target = VIRGL_PIPE_TEXTURE_2D, .format = VIRGL_FORMAT_B8G8R8A8_UNORM,
		.bind = VIRGL_BIND_SAMPLER_VIEW, .width = w, .height = h, .depth = 1,
		.array_size = 1, .stride = w * 4, .size = w * h * 4,
	};
	int ret = vgpu_ioctl(fd, DRM_IOCTL_VIRTGPU_RESOURCE_CREATE, &rc);

	if (!ret) {
		*bo = rc.bo_handle;
		if (res)
			*res = rc.res_handle;
	}
	return ret;
}

static int create_blob(int fd, struct drm_virtgpu_resource_create_blob *rb)
{
	return vgpu_ioctl(fd, DRM_IOCTL_VIRTGPU_RESOURCE_CREATE_BLOB, rb);
}

static int host_blob(int fd, uint32_t size, uint32_t flags, uint32_t *bo, uint32_t *res)
{
	return vgpu_host_blob(fd, size, flags, 0, bo, res);
}

static int ctx_init(int fd, const struct drm_virtgpu_context_set_param *p, uint32_t n)
{
	struct drm_virtgpu_context_init ci = { .num_params = n, .ctx_set_params = (uintptr_t)p };

	return vgpu_ioctl(fd, DRM_IOCTL_VIRTGPU_CONTEXT_INIT, &ci);
}

/* ---- contents ---- */

static sigjmp_buf touch_env;
static volatile sig_atomic_t touch_sig;

static void touch_handler(int sig)
{
	touch_sig = sig;
	siglongjmp(touch_env, 1);
}

/* Writes then reads the first word at @p; 0, or the signal the access raised. */
static int touch_guarded(void *p)
{
	struct sigaction sa = { .sa_handler = touch_handler }, obus, osegv;
	volatile uint32_t *w = p;
	int sig = 0;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &obus);
	sigaction(SIGSEGV, &sa, &osegv);
	touch_sig = 0;
	if (!sigsetjmp(touch_env, 1)) {
		w[0] = 0x1234abcd;
		(void)w[0];
	} else {
		sig = touch_sig;
	}
	sigaction(SIGBUS, &obus, NULL);
	sigaction(SIGSEGV, &osegv, NULL);
	return sig;
}

/* ---- memory types, as the page-table entry encodes them ---- */

enum cache_mode { CM_CACHED, CM_WC, CM_UNCACHED, CM_REFUSED };

static const char *const mode_names[] = { "cached", "wc", "uncached", "refused" };

/* The documented policy: map_info masked with VIRTIO_GPU_MAP_CACHE_MASK. */
static enum cache_mode policy(uint32_t map_info)
{
	switch (map_info & MAP_INFO_MASK) {
	case 0: /* NONE: mapped cached, like the Linux C driver */
	case 1:
		return CM_CACHED;
	case 2:
		return CM_UNCACHED;
	case 3:
		return CM_WC;
	default:
		return CM_REFUSED;
	}
}

/* Whether the PTE memory type @got is what @m must install on this architecture. */
static bool memtype_is(const char *got, enum cache_mode m)
{
#if defined(__aarch64__)
	static const char *const want[] = { "normal", "normal-nc", "device-ngnrne" };

	return m < CM_REFUSED && !strcmp(got, want[m]);
#elif defined(__x86_64__)
	/*
	 * On x86 the PAT layer has the last word on MMIO: a WB request over a range whose
	 * MTRR is UC (the q35 PCI hole, where the host-visible BAR lives) and a WC request
	 * over a range with a conflicting memtype become UC-. Never anything more cached
	 * than asked for, which is what matters for coherency.
	 */
	switch (m) {
	case CM_CACHED:
		return !strcmp(got, "wb") || !strcmp(got, "uc-");
	case CM_WC:
		return !strcmp(got, "wc") || !strcmp(got, "uc-");
	case CM_UNCACHED: /* pgprot_noncached is UC- on x86 */
		return !strcmp(got, "uc-") || !strcmp(got, "uc");
	default:
		return false;
	}
#else
	return false;
#endif
}

/* ---- debugfs views ---- */

struct vobj {
	unsigned int res;
	char kind[24];
	unsigned long long size;
	bool hv;
	unsigned long long hv_off, hv_len;
	bool has_map_info;
	unsigned int map_info;
	char mode[16];
};

#define DBG_BUF (256 * 1024)

/*
 * Parses "res=<id> kind=<k> size=<n> hv=<off>+<len>|- map_info=<0xN>|- mode=<m>|-";
 * 0 if the line has at least res, kind and size.
 */
static int parse_obj(char *line, struct vobj *o)
{
	char *save, *tok, *v;
	int seen = 0;

	memset(o, 0, sizeof(*o));
	for (tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		v = strchr(tok, '=');
		if (!v)
			continue;
		*v++ = 0;
		if (!strcmp(tok, "res")) {
			o->res = strtoul(v, NULL, 0);
			seen |= 1;
		} else if (!strcmp(tok, "kind")) {
			snprintf(o->kind, sizeof(o->kind), "%s", v);
			seen |= 2;
		} else if (!strcmp(tok, "size")) {
			o->size = strtoull(v, NULL, 0);
			seen |= 4;
		} else if (!strcmp(tok, "hv") && strcmp(v, "-")) {
			char *plus;

			o->hv_off = strtoull(v, &plus, 0);
			if (*plus == '+') {
				o->hv_len = strtoull(plus + 1, NULL, 0);
				o->hv = true;
			}
		} else if (!strcmp(tok, "map_info") && strcmp(v, "-")) {
			o->map_info = strtoul(v, NULL, 0);
			o->has_map_info = true;
		} else if (!strcmp(tok, "mode")) {
			snprintf(o->mode, sizeof(o->mode), "%s", v);
		}
	}
	return seen == 7 ? 0 : -1;
}

/* The debugfs line of resource @res: 1 found, 0 not listed, -1 debugfs unreadable. */
static int find_obj(unsigned int res, struct vobj *o)
{
	char *buf = malloc(DBG_BUF), *line, *save;
	int found = 0;

	if (!buf || vgpu_debugfs_read_all("virtio-gpu-objects", buf, DBG_BUF)) {
		free(buf);
		return -1;
	}
	for (line = strtok_r(buf, "\n", &save); line && !found;
	     line = strtok_r(NULL, "\n", &save))
		if (!strncmp(line, "res=", 4) && !parse_obj(line, o) && o->res == res)
			found = 1;
	free(buf);
	return found;
}

struct hostvis {
	bool present;
	unsigned long long addr, size, allocated;
	int ranges;		/* range lines */
	int ranges_of_res;	/* range lines of the resource asked for */
	unsigned long long off, len; /* last range of that resource */
};

static int read_hostvis(unsigned int res, struct hostvis *h)
{
	char *buf = malloc(DBG_BUF), *line, *save;

	memset(h, 0, sizeof(*h));
	if (!buf || vgpu_debugfs_read_all("virtio-gpu-host-visible", buf, DBG_BUF)) {
		free(buf);
		return -1;
	}
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long off, len;
		unsigned int r;

		if (sscanf(line, "address: %llx", &h->addr) == 1) {
			h->present = true;
		} else if (sscanf(line, "size: %llx", &h->size) == 1) {
			continue;
		} else if (sscanf(line, "allocated: %llx", &h->allocated) == 1) {
			continue;
		} else if (sscanf(line, "range %llx+%llx res=%u", &off, &len, &r) == 3) {
			h->ranges++;
			if (r == res) {
				h->ranges_of_res++;
				h->off = off;
				h->len = len;
			}
		}
	}
	free(buf);
	return 0;
}

/* ---- device features ---- */

struct features {
	bool virgl, blob, host_visible, context_init, cross_device;
	long long capsets;
	long long blob_alignment; /* -ENOENT unless negotiated */
};

static void get_features(int fd, struct features *f)
{
	f->virgl = vgpu_getparam(fd, VIRTGPU_PARAM_3D_FEATURES) == 1;
	f->blob = vgpu_getparam(fd, VIRTGPU_PARAM_RESOURCE_BLOB) == 1;
	f->host_visible = vgpu_getparam(fd, VIRTGPU_PARAM_HOST_VISIBLE) == 1;
	f->context_init = vgpu_getparam(fd, VIRTGPU_PARAM_CONTEXT_INIT) == 1;
	f->cross_device = vgpu_getparam(fd, VIRTGPU_PARAM_CROSS_DEVICE) == 1;
	f->capsets = vgpu_getparam(fd, VIRTGPU_PARAM_SUPPORTED_CAPSET_IDs);
	f->blob_alignment = vgpu_getparam(fd, VIRTGPU_PARAM_BLOB_ALIGNMENT);
}

/* ---- kernel mappings (vmap through a dma-buf), read from the kernel's page tables ---- */

#define KPT_MAX 16


/* The kernel page-table dump is there and decodable here: 0, or the test skips or fails. */
static int need_kernel_pt(struct __test_metadata *_metadata)
{
	int ret = vgpu_kernel_pt_usable();

	if (ret == -EOPNOTSUPP)
		SKIP(return ret, "kernel page-table dump not decodable here (x86: PAT off)");
	ASSERT_EQ(0, ret) TH_LOG("%s: %s (CONFIG_PTDUMP_DEBUGFS=y is in common.config)",
				 VGPU_KPT_FILE, strerror(-ret));
	return ret;
}

/*
 * The kernel mapping [@vaddr, @vaddr + @len) as the kernel's page tables have it: covered
 * by present entries, all of the memory type @mode requires.
 */
static void check_kernel_mapping(struct __test_metadata *_metadata, unsigned long vaddr,
				 size_t len, enum cache_mode mode)
{
	struct vgpu_kpt k[KPT_MAX];
	unsigned long next = vaddr;
	int n, i;

	n = vgpu_kernel_pt(vaddr, len, k, KPT_MAX);
	ASSERT_GE(n, 1) TH_LOG("%s has no line for %#lx: %s", VGPU_KPT_FILE, vaddr,
			       n ? strerror(-n) : "no entry");
	ASSERT_LE(n, KPT_MAX) TH_LOG("%d lines for %#lx + %#zx", n, vaddr, len);
	for (i = 0; i < n; i++) {
		TH_LOG("vmap %#lx + %#zx, %s: %s", vaddr, len, mode_names[mode], k[i].line);
		EXPECT_LE(k[i].start, next) TH_LOG("hole before %#lx", k[i].start);
		EXPECT_TRUE(k[i].present) TH_LOG("not present: %s", k[i].line);
		EXPECT_TRUE(memtype_is(k[i].memtype, mode))
		TH_LOG("expected %s, kernel page tables say %s", mode_names[mode], k[i].memtype);
		next = k[i].end;
	}
	EXPECT_GE(next, vaddr + len) TH_LOG("mapped up to %#lx only", next);
}

/* After vunmap no entry is present over [@vaddr, @vaddr + @len) any more. */
static void check_kernel_unmapped(struct __test_metadata *_metadata, unsigned long vaddr,
				  size_t len)
{
	struct vgpu_kpt k[KPT_MAX];
	int n, i;

	n = vgpu_kernel_pt(vaddr, len, k, KPT_MAX);
	ASSERT_GE(n, 0) TH_LOG("%s: %s", VGPU_KPT_FILE, strerror(-n));
	for (i = 0; i < n && i < KPT_MAX; i++)
		EXPECT_FALSE(k[i].present) TH_LOG("still mapped after vunmap: %s", k[i].line);
}

/*
 * Exports @bo, vmaps the dma-buf through dma_buf_vmap() as an importer would, and checks
 * the kernel mapping: present over the whole object, with @mode's memory type, iomem as
 * @iomem says; then vunmaps it and checks the entries are gone.
 */
static void check_vmap(struct __test_metadata *_metadata, int fd, uint32_t bo, size_t size,
		       enum cache_mode mode, bool iomem)
{
	struct vgpu_vmap v;
	int dfd, pfd;

	dfd = vgpu_prime_export(fd, bo);
	ASSERT_GE(dfd, 0) TH_LOG("PRIME export: %s", strerror(-dfd));
	pfd = vgpu_ptprobe_vmap(dfd, false, &v);
	ASSERT_GE(pfd, 0) TH_LOG("%s vmap: %s (the runner must insmod vgpu_ptprobe.ko)",
				 VGPU_PTPROBE, strerror(-pfd));
	EXPECT_EQ(0, v.ret) TH_LOG("dma_buf_vmap: %s", strerror(-v.ret));
	if (!v.ret) {
		EXPECT_EQ(iomem, v.iomem);
		EXPECT_EQ(0, v.vaddr % page_size()) TH_LOG("vaddr %#lx", v.vaddr);
		check_kernel_mapping(_metadata, v.vaddr, size, mode);
	}
	EXPECT_EQ(0, vgpu_ptprobe_vunmap(pfd));
	if (!v.ret)
		check_kernel_unmapped(_metadata, v.vaddr, size);
	close(dfd);
}

/* ====================================================================================== */

/* The probe itself: anonymous memory is cached, an unmapped address has no entry. */
TEST(ptprobe_reads_page_tables)
{
	char mt[32], line[256];
	uint8_t *p = mmap(NULL, page_size(), PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int ret;

	ASSERT_NE(MAP_FAILED, p);
	ret = vgpu_pte_memtype(p, mt, sizeof(mt));
	ASSERT_EQ(0, ret) TH_LOG("%s: %s (the runner must insmod vgpu_ptprobe.ko)",
				 VGPU_PTPROBE, strerror(-ret));
	/* Not touched yet: no entry (or the shared zero page after a read). */
	EXPECT_STREQ("none", mt);
	p[0] = 1;
	ASSERT_EQ(0, vgpu_ptprobe_line(p, line, sizeof(line)));
	ASSERT_EQ(0, vgpu_pte_memtype(p, mt, sizeof(mt)));
	EXPECT_TRUE(memtype_is(mt, CM_CACHED)) TH_LOG("anonymous page: %s", line);
	EXPECT_NE(NULL, strstr(line, "valid=1")) TH_LOG("%s", line);
	munmap(p, page_size());
	ASSERT_EQ(0, vgpu_pte_memtype(p, mt, sizeof(mt)));
	EXPECT_STREQ("none", mt);
	/* Addresses outside any vma of ours, a kernel one included: no entry, no oops. */
	ASSERT_EQ(0, vgpu_pte_memtype((void *)0x1000, mt, sizeof(mt)));
	EXPECT_STREQ("none", mt);
	ASSERT_EQ(0, vgpu_pte_memtype((void *)~0xfffUL, mt, sizeof(mt)));
	EXPECT_STREQ("none", mt);
}

/*
 * The probe against mappings whose memory type the PCI core chooses: a prefetchable BAR
 * of the GPU through sysfs, as resourceN (pgprot_device) and resourceN_wc
 * (pgprot_writecombine). Both are populated at mmap time; nothing is touched.
 */
TEST(ptprobe_reads_device_and_wc)
{
	char drv[64], dev[64], p[320], pci[256], line[256], mt[32];
	unsigned long long start, end, flags;
	int bar = -1, i, fd;
	void *m;
	FILE *f;

	ASSERT_EQ(0, vgpu_bound_driver_dev(drv, sizeof(drv), dev, sizeof(dev)));
	snprintf(p, sizeof(p), "/sys/bus/virtio/devices/%s/..", dev);
	ASSERT_NE(NULL, realpath(p, pci));
	snprintf(p, sizeof(p), "%s/resource", pci);
	f = fopen(p, "r");
	ASSERT_NE(NULL, f) TH_LOG("%s", p);
	/* IORESOURCE_MEM 0x200, IORESOURCE_PREFETCH 0x2000 */
	for (i = 0; i < 6 && fscanf(f, "%llx %llx %llx", &start, &end, &flags) == 3; i++)
		if (end > start && (flags & 0x2200) == 0x2200) {
			bar = i;
			break;
		}
	fclose(f);
	if (bar < 0)
		SKIP(return, "%s has no prefetchable memory BAR", pci);

	for (i = 0; i < 2; i++) {
		snprintf(p, sizeof(p), "%s/resource%d%s", pci, bar, i ? "_wc" : "");
		fd = open(p, O_RDWR | O_CLOEXEC);
		ASSERT_GE(fd, 0) TH_LOG("%s: %s", p, strerror(errno));
		m = mmap(NULL, page_size(), PROT_READ, MAP_SHARED, fd, 0);
		close(fd);
		if (m == MAP_FAILED)
			SKIP(return, "mmap of %s: %s", p, strerror(errno));
		ASSERT_EQ(0, vgpu_ptprobe_line(m, line, sizeof(line)));
		ASSERT_EQ(0, vgpu_pte_memtype(m, mt, sizeof(mt)));
		TH_LOG("%s: %s", p, line);
		EXPECT_NE(NULL, strstr(line, "valid=1"));
#if defined(__aarch64__)
		EXPECT_STREQ(i ? "normal-nc" : "device-ngnre", mt);
#elif defined(__x86_64__)
		/* PAT may keep an existing UC- memtype of the BAR for the _wc mapping too. */
		EXPECT_TRUE(i ? (!strcmp(mt, "wc") || !strcmp(mt, "uc-")) :
				(!strcmp(mt, "uc-") || !strcmp(mt, "uc")));
#endif
		munmap(m, page_size());
	}
}

FIXTURE(obj) {
	int fd;
	char path[64];
	struct features f;
	bool gl;	/* the GL device: virgl 3D */
};

FIXTURE_SETUP(obj)
{
	self->fd = vgpu_open_render(self->path, sizeof(self->path));
	ASSERT_GE(self->fd, 0) TH_LOG("no render node with driver name virtio_gpu");
	get_features(self->fd, &self->f);
	self->gl = self->f.virgl;
	if (!strcmp(gpu_config(), "gl")) {
		ASSERT_TRUE(self->f.virgl && self->f.blob && self->f.host_visible)
		TH_LOG("VGPU_GPU=gl but the device lacks virgl, blob or host-visible");
	} else if (!strcmp(gpu_config(), "2d")) {
		ASSERT_FALSE(self->f.virgl);
	}
}

FIXTURE_TEARDOWN(obj)
{
	close(self->fd);
}

/* RESOURCE_CREATE + RESOURCE_INFO, and the object as debugfs lists it. */
TEST_F(obj, create_info_debugfs)
{
	struct drm_virtgpu_resource_info ri;
	uint32_t bo, res;
	struct vobj o;

	ASSERT_EQ(0, create_2d(self->fd, 64, 64, &bo, &res));
	EXPECT_NE(0, bo);
	EXPECT_NE(0, res);
	ASSERT_EQ(0, res_info(self->fd, bo, &ri));
	EXPECT_EQ(res, ri.res_handle);
	EXPECT_EQ(64 * 64 * 4, ri.size);
	ASSERT_EQ(1, find_obj(res, &o)) TH_LOG("res %u not in virtio-gpu-objects", res);
	EXPECT_STREQ(self->gl ? "3d" : "2d", o.kind);
	EXPECT_EQ(64 * 64 * 4, o.size);
	EXPECT_FALSE(o.hv);
	EXPECT_FALSE(o.has_map_info);

	ASSERT_EQ(0, vgpu_gem_close(self->fd, bo));
	EXPECT_EQ(0, vgpu_obj_count_settle(0));
	EXPECT_EQ(0, find_obj(res, &o)) TH_LOG("res %u still listed after GEM_CLOSE", res);
}

/*
 * Dumb buffers on the primary node, as upstream: 32 bpp only (EINVAL otherwise), pitch
 * width * 4, size page-rounded, MAP_DUMB + mmap give the bytes; a size beyond the backing
 * cap is EINVAL before anything is allocated; not on the render node (EACCES).
 */
TEST_F(obj, dumb_buffers)
{
	struct drm_mode_create_dumb cd = { .width = 100, .height = 30, .bpp = 32 };
	struct drm_mode_map_dumb md = { 0 };
	struct drm_mode_destroy_dumb dd = { 0 };
	long objs = vgpu_obj_count();
	char path[64];
	size_t size;
	void *p;
	int card;

	card = vgpu_open_dri("card", 0, 63, "virtio_gpu", path, sizeof(path));
	ASSERT_GE(card, 0) TH_LOG("no virtio_gpu card node");
	ASSERT_EQ(0, vgpu_ioctl(card, DRM_IOCTL_MODE_CREATE_DUMB, &cd));
	EXPECT_EQ(400, cd.pitch);
	size = (100 * 4 * 30 + page_size() - 1) / page_size() * page_size();
	EXPECT_EQ(size, cd.size);
	EXPECT_EQ(objs + 1, vgpu_obj_count());
	md.handle = cd.handle;
	ASSERT_EQ(0, vgpu_ioctl(card, DRM_IOCTL_MODE_MAP_DUMB, &md));
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, card, md.offset);
	ASSERT_NE(MAP_FAILED, p);
	vgpu_fill_words(p, size, 0x0d0d);
	EXPECT_EQ(-1, vgpu_check_words(p, size, 0x0d0d));
	munmap(p, size);
	dd.handle = cd.handle;
	EXPECT_EQ(0, vgpu_ioctl(card, DRM_IOCTL_MODE_DESTROY_DUMB, &dd));
	EXPECT_EQ(objs, vgpu_obj_count_settle(objs));

	cd = (struct drm_mode_create_dumb){ .width = 64, .height = 64, .bpp = 16 };
	EXPECT_EQ(-EINVAL, vgpu_ioctl(card, DRM_IOCTL_MODE_CREATE_DUMB, &cd));
	cd = (struct drm_mode_create_dumb){ .width = 32768, .height = 32767, .bpp = 32 };
	EXPECT_EQ(-EINVAL, vgpu_ioctl(card, DRM_IOCTL_MODE_CREATE_DUMB, &cd))
	TH_LOG("4 GiB dumb buffer");
	cd = (struct drm_mode_create_dumb){ .width = 64, .height = 64, .bpp = 32 };
	EXPECT_EQ(-EACCES, vgpu_ioctl(self->fd, DRM_IOCTL_MODE_CREATE_DUMB, &cd));
	EXPECT_EQ(objs, vgpu_obj_count());
	close(card);
}

/* Upstream: a zero size means one page. */
TEST_F(obj, create_zero_size_is_one_page)
{
	struct drm_virtgpu_resource_create rc = {
		.target = VIRGL_PIPE_TEXTURE_2D, .format = VIRGL_FORMAT_B8G8R8A8_UNORM,
		.bind = VIRGL_BIND_SAMPLER_VIEW, .width = 1, .height = 1, .depth = 1,
		.array_size = 1,
	};
	struct drm_virtgpu_resource_info ri;

	ASSERT_EQ(0, vgpu_ioctl(self->fd, DRM_IOCTL_VIRTGPU_RESOURCE_CREATE, &rc));
	ASSERT_EQ(0, res_info(self->fd, rc.bo_handle, &ri));
	EXPECT_EQ(page_size(), ri.size);
	EXPECT_EQ(0, vgpu_gem_close(self->fd, rc.bo_handle));
}

/*
 * 3D requests on the 2D device and bad targets/formats: EINVAL (upstream checks depth,
 * nr_samples, last_level, target and array_size itself; a bad format is refused by the
 * host, which our driver waits for). Sizes and dimensions past what the guest could hold
 * never reach an allocator: EINVAL or ENOMEM, nothing left behind.
 */
TEST_F(obj, create_errors)
{
	struct drm_virtgpu_resource_create base = {
		.target = VIRGL_PIPE_TEXTURE_2D, .format = VIRGL_FORMAT_B8G8R8A8_UNORM,
		.bind = VIRGL_BIND_SAMPLER_VIEW, .width = 16, .height = 16, .depth = 1,
		.array_size = 1, .stride = 64, .size = 16 * 64,
	}, rc;
	long before = vgpu_obj_count();
	int ret;

	ASSERT_GE(before, 0) TH_LOG("debugfs virtio-gpu-objects unreadable");
	if (!self->gl) {
#define FIELD(f) offsetof(struct drm_virtgpu_resource_create, f)
		static const struct { const char *what; size_t off; uint32_t value; } cases[] = {
			{ "depth 2", FIELD(depth), 2 },
			{ "nr_samples 2", FIELD(nr_samples), 2 },
			{ "last_level 2", FIELD(last_level), 2 },
			{ "array_size 2", FIELD(array_size), 2 },
			{ "target 0 (buffer)", FIELD(target), 0 },
			{ "target 3 (3D texture)", FIELD(target), 3 },
			{ "target 0xffff", FIELD(target), 0xffff },
			{ "format 0", FIELD(format), 0 },
			{ "format 0xdead", FIELD(format), 0xdead },
		};
#undef FIELD
		unsigned int i;

		for (i = 0; i < ARRAY_SIZE(cases); i++) {
			rc = base;
			memcpy((char *)&rc + cases[i].off, &cases[i].value, sizeof(uint32_t));
			EXPECT_EQ(-EINVAL, vgpu_ioctl(self->fd, DRM_IOCTL_VIRTGPU_RESOURCE_CREATE, &rc))
			TH_LOG("2D device, %s", cases[i].what);
		}
	}

	/*
	 * width * height * 4 overflows 32 bits; size asks for one page. The 2D device
	 * (QEMU's pixman) must refuse it; a virgl host validates 3D dimensions against its
	 * own limits as upstream lets it, and either refuses cleanly or creates the resource.
	 */
	rc = base;
	rc.width = 0x10000;
	rc.height = 0x10000;
	rc.stride = 0x40000;
	rc.size = 0;
	ret = vgpu_ioctl(self->fd, DRM_IOCTL_VIRTGPU_RESOURCE_CREATE, &rc);
	if (self->gl && !ret) {
		EXPECT_EQ(0, vgpu_gem_close(self->fd, rc.bo_handle));
	} else {
		EXPECT_TRUE(ret == -EINVAL || ret == -ENOMEM) TH_LOG("65536x65536: %d", ret);
	}
	/* 4 GiB - 4 KiB of backing for a 16x16 image: more than the guest has. */
	rc = base;
	rc.size = 0xfffff000u;
	ret = vgpu_ioctl(self->fd, DRM_IOCTL_VIRTGPU_RESOURCE_CREATE, &rc);
	EXPECT_TRUE(ret == -EINVAL || ret == -ENOMEM) TH_LOG("size 0xfffff000: %d", ret);

	EXPECT_EQ(before, vgpu_obj_count_settle(before)) TH_LOG("a refused create left an object");
}

/*
 * Unknown and closed handles: ENOENT from MAP, RESOURCE_INFO, WAIT and the transfers
 * (TRANSFER_FROM_HOST is ENOSYS on the 2D device before any lookup); GEM_CLOSE of a
 * handle that is gone is the core's EINVAL.
 */
TEST_F(obj, stale_handles)
{
	struct drm_virtgpu_resource_info ri;
	uint32_t bo, bad[3];
	unsigned int i;

	ASSERT_EQ(0, create_2d(self->fd, 16, 16, &bo, NULL));
	ASSERT_EQ(0, vgpu_gem_close(self->fd, bo));
	bad[0] = bo;
	bad[1] = 0;
	bad[2] = 0xdeadbeef;
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(-ENOENT, map_offset(self->fd, bad[i], NULL)) TH_LOG("MAP %#x", bad[i]);
		EXPECT_EQ(-ENOENT, res_info(self->fd, bad[i], &ri)) TH_LOG("INFO %#x", bad[i]);
		EXPECT_EQ(-ENOENT, wait_bo(self->fd, bad[i], 0)) TH_LOG("WAIT %#x", bad[i]);
		EXPECT_EQ(-ENOENT, wait_bo(self->fd, bad[i], VIRTGPU_WAIT_NOWAIT));
		EXPECT_EQ(-ENOENT, to_host(self->fd, bad[i], 16, 16, 0)) TH_LOG("TO_HOST %#x", bad[i]);
		EXPECT_EQ(self->gl ? -ENOENT : -ENOSYS, from_host(self->fd, bad[i], 16, 16, 0))
		TH_LOG("FROM_HOST %#x", bad[i]);
	}
	EXPECT_EQ(-EINVAL, vgpu_gem_close(self->fd, bo));
	EXPECT_EQ(-EINVAL, vgpu_gem_close(self->fd, 0xdeadbeef));
}

/* Handles are per file: another open of the node does not see ours. */
TEST_F(obj, handles_are_per_file)
{
	struct drm_virtgpu_resource_info ri;
	char path[64];
	int fd2 = vgpu_open_render(path, sizeof(path));
	uint32_t bo;

	ASSERT_GE(fd2, 0);
	ASSERT_EQ(0, create_2d(self->fd, 16, 16, &bo, NULL));
	EXPECT_EQ(-ENOENT, res_info(fd2, bo, &ri));
	EXPECT_EQ(-ENOENT, map_offset(fd2, bo, NULL));
	EXPECT_EQ(-EINVAL, vgpu_gem_close(fd2, bo));
	EXPECT_EQ(0, res_info(self->fd, bo, &ri));
	close(fd2);
	EXPECT_EQ(0, vgpu_gem_close(self->fd, bo));
}

/*
 * mmap through the fake offset: a prefix works and shares the pages, anything past the
 * object or starting inside it is EINVAL (exact offset lookup), a private mapping is
 * EINVAL, the offset dies with the last handle but a live mapping keeps the object.
 */
TEST_F(obj, mmap_bounds)
{
	const size_t size = 128 * 128 * 4; /* 64 KiB */
	long ps = page_size();
	uint8_t *full, *prefix, *p;
	uint64_t off, off2;
	uint32_t bo, res;
	struct vobj o;

	ASSERT_EQ(0, create_2d(self->fd, 128, 128, &bo, &res));
	ASSERT_EQ(0, map_offset(self->fd, bo, &off));
	EXPECT_EQ(0, off % ps);
	ASSERT_EQ(0, map_offset(self->fd, bo, &off2));
	EXPECT_EQ(off, off2) TH_LOG("MAP twice gives one offset");

	full = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, off);
	ASSERT_NE(MAP_FAILED, full) TH_LOG("mmap of the whole object: %s", strerror(errno));
	prefix = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, off);
	ASSERT_NE(MAP_FAILED, prefix) TH_LOG("mmap of a one-page prefix: %s", strerror(errno));
	vgpu_fill_words(full, size, 0x11);
	EXPECT_EQ(-1, vgpu_check_words(prefix, ps, 0x11)) TH_LOG("prefix does not see the object");
	prefix[8] = 0x5a;
	EXPECT_EQ(0x5a, full[8]);
	vgpu_fill_words(full, size, 0x11);
	munmap(prefix, ps);
	vgpu_fill_words(full, size, 0x11);

	errno = 0;
	p = mmap(NULL, size + ps, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, off);
	EXPECT_EQ(MAP_FAILED, p) TH_LOG("mmap one page past the object succeeded");
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	p = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, off + ps);
	EXPECT_EQ(MAP_FAILED, p) TH_LOG("mmap at an offset inside the object succeeded");
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	p = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE, self->fd, off);
	EXPECT_EQ(MAP_FAILED, p) TH_LOG("private (COW) mapping of an object succeeded");
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	p = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0x7fff0000000ULL);
	EXPECT_EQ(MAP_FAILED, p) TH_LOG("mmap of an offset no object has succeeded");
	EXPECT_EQ(EINVAL, errno);

	/* The mapping holds the object after its last handle is gone. */
	ASSERT_EQ(0, vgpu_gem_close(self->fd, bo));
	EXPECT_EQ(-1, vgpu_check_words(full, size, 0x11)) TH_LOG("bytes changed after GEM_CLOSE");
	EXPECT_EQ(1, find_obj(res, &o)) TH_LOG("object freed while still mapped");
	errno = 0;
	p = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, off);
	EXPECT_EQ(MAP_FAILED, p) TH_LOG("mmap through a closed handle's offset succeeded");
	EXPECT_EQ(EACCES, errno) TH_LOG("errno %d", errno);
	munmap(full, size);
	EXPECT_EQ(0, vgpu_obj_count_settle(0));
}

/* Guest memory (shmem pages) is mapped cached: read from the page-table entry. */
TEST_F(obj, guest_mapping_is_cached)
{
	char line[256], mt[32];
	uint32_t bo;
	uint8_t *p;

	ASSERT_EQ(0, create_2d(self->fd, 32, 32, &bo, NULL));
	p = vgpu_map_bo(self->fd, bo, 32 * 32 * 4);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("%s", strerror(errno));
	p[0] = 1;
	ASSERT_EQ(0, vgpu_ptprobe_line(p, line, sizeof(line))) TH_LOG("vgpu_ptprobe not loaded");
	ASSERT_EQ(0, vgpu_pte_memtype(p, mt, sizeof(mt)));
	EXPECT_TRUE(memtype_is(mt, CM_CACHED)) TH_LOG("%s", line);
	munmap(p, 32 * 32 * 4);
	EXPECT_EQ(0, vgpu_gem_close(self->fd, bo));
}

/*
 * fdinfo: the value of key @key ("drm-total-memory" ...) in bytes, -1 if absent. The DRM
 * core prints sizes as "<n>", "<n> KiB" or "<n> MiB".
 */
static long long fdinfo_bytes(int fd, const char *key)
{
	char path[64], line[256];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		size_t n = strlen(key);
		char unit[8] = "";

		if (strncmp(line, key, n) || line[n] != ':')
			continue;
		if (sscanf(line + n + 1, "%lld %7s", &v, unit) < 1)
			break;
		if (!strcmp(unit, "KiB"))
			v <<= 10;
		else if (!strcmp(unit, "MiB"))
			v <<= 20;
		break;
	}
	fclose(f);
	return v;
}

static bool fdinfo_has(int fd, const char *text)
{
	char path[64], buf[4096];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	return strstr(buf, text) != NULL;
}

/*
 * Per-client memory stats in fdinfo (what gputop and nvtop read): guest memory counts as
 * total and resident, a host blob as total only (its memory is the host's), and closing
 * the handles brings both back to 0.
 */
TEST_F(obj, fdinfo_memory_stats)
{
	const long long size = 64 * 1024;
	char path[64];
	uint32_t bo, hbo = 0;
	bool host = false;
	int fd = vgpu_open_render(path, sizeof(path)), fd2;

	ASSERT_GE(fd, 0);
	EXPECT_TRUE(fdinfo_has(fd, "drm-driver:\tvirtio_gpu\n"));
	EXPECT_EQ(0, fdinfo_bytes(fd, "drm-total-memory"));
	if (self->f.virgl && self->f.blob && self->f.host_visible && self->f.context_init)
		host = vgpu_ctx_init_capset(fd, VIRTGPU_DRM_CAPSET_VIRGL2) == 0;
	ASSERT_EQ(0, create_2d(fd, 128, 128, &bo, NULL));
	if (host)
		ASSERT_EQ(0, host_blob(fd, size, VIRTGPU_BLOB_FLAG_USE_MAPPABLE, &hbo, NULL));
	EXPECT_EQ(host ? 2 * size : size, fdinfo_bytes(fd, "drm-total-memory"));
	EXPECT_EQ(size, fdinfo_bytes(fd, "drm-resident-memory"));
	/* Another file does not count this file's objects. */
	fd2 = vgpu_open_render(path, sizeof(path));
	ASSERT_GE(fd2, 0);
	EXPECT_EQ(0, fdinfo_bytes(fd2, "drm-total-memory"));
	close(fd2);
	EXPECT_EQ(0, vgpu_gem_close(fd, bo));
	if (host)
		EXPECT_EQ(0, vgpu_gem_close(fd, hbo));
	EXPECT_EQ(0, fdinfo_bytes(fd, "drm-total-memory"));
	close(fd);
}

/*
 * Kernel mappings of guest memory: a resource (and a guest blob with resource_blob),
 * exported and vmapped through dma_buf_vmap() like an importer does, is mapped cached
 * (vmap() of its shmem pages, in the vmalloc area), not as I/O memory. Read from the
 * kernel's page-table dump.
 */
TEST_F(obj, guest_vmap_is_cached)
{
	const size_t size = 16 * page_size();
	uint32_t bo;

	if (need_kernel_pt(_metadata))
		return;
	ASSERT_EQ(0, create_2d(self->fd, 64, 64, &bo, NULL)); /* 16 KiB */
	check_vmap(_metadata, self->fd, bo, 64 * 64 * 4, CM_CACHED, false);
	EXPECT_EQ(0, vgpu_gem_close(self->fd, bo));
	if (!self->f.blob)
		return;
	ASSERT_EQ(0, vgpu_guest_blob(self->fd, size, VIRTGPU_BLOB_FLAG_USE_MAPPABLE |
				     VIRTGPU_BLOB_FLAG_USE_SHAREABLE, &bo, NULL));
	check_vmap(_metadata, self->fd, bo, size, CM_CACHED, false);
	EXPECT_EQ(0, vgpu_gem_close(self->fd, bo));
	EXPECT_EQ(0, vgpu_obj_count_settle(0));
}

/* 2D device: TRANSFER_TO_HOST of the whole resource, then WAIT. */
TEST_F(obj, transfer_2d)
{
	uint32_t bo;
	uint8_t *p;

	if (self->gl)
		SKIP(return, "2D transfer path: the GL device transfers through virgl (see transfer_roundtrip)");
	ASSERT_EQ(0, create_2d(self->fd, 64, 64, &bo, NULL));
	p = vgpu_map_bo(self->fd, bo, 64 * 64 * 4);
	ASSERT_NE(MAP_FAILED, p);
	vgpu_fill_words(p, 64 * 64 * 4, 0x22);
	EXPECT_EQ(0, to_host(self->fd, bo, 64, 64, 0));
	EXPECT_EQ(0, wait_bo(self->fd, bo, 0));
	EXPECT_EQ(0, wait_bo(self->fd, bo, VIRTGPU_WAIT_NOWAIT));
	munmap(p, 64 * 64 * 4);
	EXPECT_EQ(0, vgpu_gem_close(self->fd, bo));
}

/*
 * GL device: bytes written through mmap survive TRANSFER_TO_HOST, a wipe of the guest
 * copy and TRANSFER_FROM_HOST. WAIT blocks until the transfer is done; NOWAIT is then 0.
 */
TEST_F(obj, transfer_roundtrip)
{
	const uint32_t w = 64, h = 64;
	const size_t size = w * h * 4;
	uint32_t bo;
	uint8_t *p;
	long bad;
	int ret;

	if (!self->gl)
		SKIP(return, "no virgl 3D on this device (VGPU_GPU=%s): TRANSFER_FROM_HOST needs it",
		     gpu_config());
	ASSERT_EQ(0, create_2d(self->fd, w, h, &bo, NULL));
	p = vgpu_map_bo(self->fd, bo, size);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("%s", strerror(errno));
	vgpu_fill_words(p, size, 0x33);
	ASSERT_EQ(0, to_host(self->fd, bo, w, h, 0));
	ret = wait_bo(self->fd, bo, VIRTGPU_WAIT_NOWAIT);
	EXPECT_TRUE(ret == 0 || ret == -EBUSY) TH_LOG("NOWAIT after a transfer: %d", ret);
	ASSERT_EQ(0, wait_bo(self->fd, bo, 0));
	EXPECT_EQ(0, wait_bo(self->fd, bo, VIRTGPU_WAIT_NOWAIT));

	memset(p, 0, size);
	ASSERT_EQ(0, from_host(self->fd, bo, w, h, 0));
	ASSERT_EQ(0, wait_bo(self->fd, bo, 0));
	bad = vgpu_check_words(p, size, 0x33);
	EXPECT_EQ(-1, bad) TH_LOG("word %ld: %#x, wrote %#x", bad, ((uint32_t *)p)[bad],
				  vgpu_pattern(0x33, bad));
	munmap(p, size);
	EXPECT_EQ(0, vgpu_gem_close(self->fd, bo));
}

/* GL device: upstream refuses strides for non-blob resources and transfers of guest blobs. */
TEST_F(obj, transfer_errors)
{
	uint32_t bo, gb;

	if (!self->gl)
		SKIP(return, "no virgl 3D on this device (VGPU_GPU=%s)", gpu_config());
	ASSERT_EQ(0, create_2d(self->fd, 16, 16, &bo, NULL));
	EXPECT_EQ(-EINVAL, to_host(self->fd, bo, 16, 16, 64)) TH_LOG("stride on a non-blob");
	EXPECT_EQ(-EINVAL, from_host(self->fd, bo, 16, 16, 64)) TH_LOG("stride on a non-blob");
	ASSERT_EQ(0, vgpu_guest_blob(self->fd, page_size(), VIRTGPU_BLOB_FLAG_USE_MAPPABLE, &gb, NULL));
	EXPECT_EQ(-EINVAL, to_host(self->fd, gb, 16, 16, 0)) TH_LOG("guest blob");
	EXPECT_EQ(-EINVAL, from_host(self->fd, gb, 16, 16, 0)) TH_LOG("guest blob");
	EXPECT_EQ(0, vgpu_gem_close(self->fd, gb));
	EXPECT_EQ(0, vgpu_gem_close(self->fd, bo));
}

/* CONTEXT_INIT: EINVAL on the 2D device (no context_init/virgl); its errno paths on GL. */
TEST_F(obj, context_init_errors)
{
	struct drm_virtgpu_context_set_param p[5];
	char path[64];
	uint64_t missing = 0;
	uint32_t bo;
	int fd, i;

	if (!self->gl || !self->f.context_init) {
		EXPECT_EQ(-EINVAL, ctx_init(self->fd, NULL, 0));
		EXPECT_EQ(-EINVAL, vgpu_ctx_init_capset(self->fd, VIRTGPU_DRM_CAPSET_VIRGL2));
		return;
	}
	for (i = 1; i < 64; i++)
		if (!(self->f.capsets & (1LL << i))) {
			missing = i;
			break;
		}

	/* Each case on a fresh file: upstream keeps partial state of a failed init. */
#define FRESH() ({ fd = vgpu_open_render(path, sizeof(path)); ASSERT_GE(fd, 0); fd; })
	EXPECT_EQ(-EINVAL, vgpu_ctx_init_capset(FRESH(), missing)) TH_LOG("capset %llu not offered",
								     (unsigned long long)missing);
	close(fd);
	EXPECT_EQ(-EINVAL, vgpu_ctx_init_capset(FRESH(), 0)) TH_LOG("capset 0");
	close(fd);
	EXPECT_EQ(-EINVAL, vgpu_ctx_init_capset(FRESH(), 64)) TH_LOG("capset 64");
	close(fd);
	EXPECT_EQ(-EINVAL, vgpu_ctx_init_capset(FRESH(), 1ULL << 33 | VIRTGPU_DRM_CAPSET_VIRGL2));
	close(fd);

	memset(p, 0, sizeof(p));
	p[0].param = 0x99;
	EXPECT_EQ(-EINVAL, ctx_init(FRESH(), p, 1)) TH_LOG("unknown param");
	close(fd);
	p[0].param = 0;
	EXPECT_EQ(-EINVAL, ctx_init(FRESH(), p, 1)) TH_LOG("param 0");
	close(fd);
	for (i = 0; i < 5; i++) {
		p[i].param = VIRTGPU_CONTEXT_PARAM_NUM_RINGS;
		p[i].value = 1;
	}
	EXPECT_EQ(-EINVAL, ctx_init(FRESH(), p, 5)) TH_LOG("5 params");
	close(fd);
	p[0] = (struct drm_virtgpu_context_set_param){ VIRTGPU_CONTEXT_PARAM_CAPSET_ID, 2 };
	p[1] = (struct drm_virtgpu_context_set_param){ VIRTGPU_CONTEXT_PARAM_CAPSET_ID, 2 };
	EXPECT_EQ(-EINVAL, ctx_init(FRESH(), p, 2)) TH_LOG("capset twice");
	close(fd);
	p[0] = (struct drm_virtgpu_context_set_param){ VIRTGPU_CONTEXT_PARAM_NUM_RINGS, 65 };
	EXPECT_EQ(-EINVAL, ctx_init(FRESH(), p, 1)) TH_LOG("65 rings");
	close(fd);
	p[0] = (struct drm_virtgpu_context_set_param){ VIRTGPU_CONTEXT_PARAM_NUM_RINGS, 2 };
	p[1] = (struct drm_virtgpu_context_set_param){ VIRTGPU_CONTEXT_PARAM_POLL_RINGS_MASK, 4 };
	EXPECT_EQ(-EINVAL, ctx_init(FRESH(), p, 2)) TH_LOG("poll mask past the rings");
	close(fd);
	EXPECT_EQ(-EFAULT, ctx_init(FRESH(), (void *)8, 1)) TH_LOG("bad param array");
	close(fd);
	p[0] = (struct drm_virtgpu_context_set_param){ VIRTGPU_CONTEXT_PARAM_DEBUG_NAME, 8 };
	EXPECT_EQ(-EFAULT, ctx_init(FRESH(), p, 1)) TH_LOG("bad debug name pointer");
	close(fd);

	/* A full valid init, then a second one: EEXIST. */
	p[0] = (struct drm_virtgpu_context_set_param){ VIRTGPU_CONTEXT_PARAM_CAPSET_ID,
						       VIRTGPU_DRM_CAPSET_VIRGL2 };
	p[1] = (struct drm_virtgpu_context_set_param){ VIRTGPU_CONTEXT_PARAM_NUM_RINGS, 2 };
	p[2] = (struct drm_virtgpu_context_set_param){ VIRTGPU_CONTEXT_PARAM_POLL_RINGS_MASK, 3 };
	p[3] = (struct drm_virtgpu_context_set_param){ VIRTGPU_CONTEXT_PARAM_DEBUG_NAME,
						       (uintptr_t)"vgpu-selftest" };
	EXPECT_EQ(0, ctx_init(FRESH(), p, 4));
	EXPECT_EQ(-EEXIST, vgpu_ctx_init_capset(fd, VIRTGPU_DRM_CAPSET_VIRGL2));
	EXPECT_EQ(-EEXIST, ctx_init(fd, NULL, 0));
	close(fd);
	/* The implicit default context (made by RESOURCE_CREATE on virgl) counts too. */
	ASSERT_EQ(0, create_2d(FRESH(), 16, 16, &bo, NULL));
	EXPECT_EQ(-EEXIST, vgpu_ctx_init_capset(fd, VIRTGPU_DRM_CAPSET_VIRGL2));
	close(fd);
#undef FRESH
}

/*
 * RESOURCE_CREATE_BLOB validation, upstream's verify_blob: every refusal is EINVAL
 * (including blobs on a device without resource_blob). Sizes the guest cannot hold:
 * EINVAL or ENOMEM, before allocating.
 */
TEST_F(obj, blob_errors)
{
	struct drm_virtgpu_resource_create_blob rb;
	uint32_t cmd[4] = { 0 };
	long before = vgpu_obj_count();
	uint64_t big[] = { 1ULL << 40, ~0ULL << 12, (1ULL << 32) + 4096 };
	unsigned int i;
	int ret;

	ASSERT_GE(before, 0);
#define BLOB(...) ({ rb = (struct drm_virtgpu_resource_create_blob){ __VA_ARGS__ }; \
		     create_blob(self->fd, &rb); })
	if (!self->f.blob) {
		EXPECT_EQ(-EINVAL, BLOB(.blob_mem = VIRTGPU_BLOB_MEM_GUEST, .size = 4096,
					.blob_flags = VIRTGPU_BLOB_FLAG_USE_MAPPABLE))
		TH_LOG("guest blob without resource_blob");
		EXPECT_EQ(-EINVAL, BLOB(.blob_mem = VIRTGPU_BLOB_MEM_HOST3D, .size = 4096));
		EXPECT_EQ(before, vgpu_obj_count());
		return;
	}
	EXPECT_EQ(-EINVAL, BLOB(.blob_mem = 0, .size = 4096)) TH_LOG("blob_mem 0");
	EXPECT_EQ(-EINVAL, BLOB(.blob_mem = 4, .size = 4096)) TH_LOG("blob_mem 4");
	EXPECT_EQ(-EINVAL, BLOB(.blob_mem = 0xffffffff, .size = 4096)) TH_LOG("blob_mem ~0");
	EXPECT_EQ(-EINVAL, BLOB(.blob_mem = VIRTGPU_BLOB_MEM_GUEST, .size = 4096,
				.blob_flags = 0x8)) TH_LOG("unknown flag 0x8");
	EXPECT_EQ(-EINVAL, BLOB(.blob_mem = VIRTGPU_BLOB_MEM_GUEST, .size = 4096,
				.blob_flags = 0x80000000)) TH_LOG("unknown flag 1<<31");
	if (!self->f.cross_device)
		EXPECT_EQ(-EINVAL, BLOB(.blob_mem = VIRTGPU_BLOB_MEM_GUEST, .size = 4096,
					.blob_flags = VIRTGPU_BLOB_FLAG_USE_CROSS_DEVICE))
		TH_LOG("CROSS_DEVICE without resource UUIDs");
	EXPECT_EQ(-EINVAL, BLOB(.blob_mem = VIRTGPU_BLOB_MEM_GUEST, .size = 4096, .blob_id = 1))
	TH_LOG("guest blob with a blob_id");
	EXPECT_EQ(-EINVAL, BLOB(.blob_mem = VIRTGPU_BLOB_MEM_GUEST, .size = 4096,
				.cmd = (uintptr_t)cmd, .cmd_size = 8))
	TH_LOG("guest blob with a command");
	if (self->f.virgl)
		EXPECT_EQ(-EINVAL, BLOB(.blob_mem = VIRTGPU_BLOB_MEM_HOST3D, .size = 4096,
					.blob_id = 1, .cmd = (uintptr_t)cmd, .cmd_size = 6))
		TH_LOG("command size not a multiple of 4");
	EXPECT_EQ(-EINVAL, BLOB(.blob_mem = VIRTGPU_BLOB_MEM_GUEST, .size = 0))
	TH_LOG("size 0");
	for (i = 0; i < ARRAY_SIZE(big); i++) {
		ret = BLOB(.blob_mem = VIRTGPU_BLOB_MEM_GUEST, .size = big[i],
			   .blob_flags = VIRTGPU_BLOB_FLAG_USE_MAPPABLE);
		EXPECT_TRUE(ret == -EINVAL || ret == -ENOMEM)
		TH_LOG("guest blob of %#llx bytes: %d", (unsigned long long)big[i], ret);
		if (!ret)
			vgpu_gem_close(self->fd, rb.bo_handle);
	}
	EXPECT_EQ(before, vgpu_obj_count_settle(before)) TH_LOG("a refused blob left an object");

	/* Unaligned sizes: EINVAL against BLOB_ALIGNMENT, else rounded up to the page. */
	if (self->f.blob_alignment > 0) {
		EXPECT_EQ(-EINVAL, BLOB(.blob_mem = VIRTGPU_BLOB_MEM_GUEST,
					.size = self->f.blob_alignment + 1))
		TH_LOG("size not a multiple of BLOB_ALIGNMENT %lld", self->f.blob_alignment);
	} else {
		struct drm_virtgpu_resource_info ri;

		ASSERT_EQ(0, BLOB(.blob_mem = VIRTGPU_BLOB_MEM_GUEST, .size = page_size() + 1,
				  .blob_flags = VIRTGPU_BLOB_FLAG_USE_MAPPABLE))
		TH_LOG("no BLOB_ALIGNMENT: upstream accepts any size");
		ASSERT_EQ(0, res_info(self->fd, rb.bo_handle, &ri));
		EXPECT_EQ(2 * page_size(), ri.size);
		EXPECT_EQ(0, vgpu_gem_close(self->fd, rb.bo_handle));
	}
#undef BLOB
}

/* A guest blob: RESOURCE_INFO and debugfs say what it is; it has no host-visible range. */
TEST_F(obj, guest_blob_info)
{
	struct drm_virtgpu_resource_info ri;
	uint32_t bo, res;
	struct vobj o;

	if (!self->f.blob)
		SKIP(return, "no resource_blob on this device (VGPU_GPU=%s)", gpu_config());
	ASSERT_EQ(0, vgpu_guest_blob(self->fd, 16 * page_size(), VIRTGPU_BLOB_FLAG_USE_MAPPABLE,
				&bo, &res));
	ASSERT_EQ(0, res_info(self->fd, bo, &ri));
	EXPECT_EQ(res, ri.res_handle);
	EXPECT_EQ(16 * page_size(), ri.size);
	EXPECT_EQ(VIRTGPU_BLOB_MEM_GUEST, ri.blob_mem);
	ASSERT_EQ(1, find_obj(res, &o));
	EXPECT_STREQ("blob-guest", o.kind);
	EXPECT_EQ(16 * page_size(), o.size);
	EXPECT_FALSE(o.hv);
	EXPECT_EQ(0, vgpu_gem_close(self->fd, bo));
}

/* A guest blob filled, unmapped, mapped again: same bytes; its mapping is cached. */
TEST_F(obj, guest_blob_remap_keeps_bytes)
{
	const size_t size = 16 * page_size();
	char mt[32];
	uint8_t *a, *b;
	uint32_t bo;

	if (!self->f.blob)
		SKIP(return, "no resource_blob on this device (VGPU_GPU=%s)", gpu_config());
	ASSERT_EQ(0, vgpu_guest_blob(self->fd, size, VIRTGPU_BLOB_FLAG_USE_MAPPABLE, &bo, NULL));
	a = vgpu_map_bo(self->fd, bo, size);
	ASSERT_NE(MAP_FAILED, a) TH_LOG("%s", strerror(errno));
	vgpu_fill_words(a, size, 0x44);
	ASSERT_EQ(0, vgpu_pte_memtype(a, mt, sizeof(mt)));
	EXPECT_TRUE(memtype_is(mt, CM_CACHED)) TH_LOG("guest blob mapped %s", mt);
	ASSERT_EQ(0, munmap(a, size));
	b = vgpu_map_bo(self->fd, bo, size);
	ASSERT_NE(MAP_FAILED, b) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(-1, vgpu_check_words(b, size, 0x44));
	munmap(b, size);
	EXPECT_EQ(0, vgpu_gem_close(self->fd, bo));
}

/*
 * The same guest blob through a second handle in a second file (PRIME export and
 * self-import): the bytes written through the first are there.
 */
TEST_F(obj, guest_blob_second_handle_keeps_bytes)
{
	const size_t size = 4 * page_size();
	struct drm_prime_handle exp = { .flags = DRM_CLOEXEC | DRM_RDWR }, imp = { 0 };
	struct drm_virtgpu_resource_info ri, ri2;
	char path[64];
	uint8_t *a, *b;
	uint32_t bo;
	int fd2, ret;

	if (!self->f.blob)
		SKIP(return, "no resource_blob on this device (VGPU_GPU=%s)", gpu_config());
	ASSERT_EQ(0, vgpu_guest_blob(self->fd, size, VIRTGPU_BLOB_FLAG_USE_MAPPABLE |
				VIRTGPU_BLOB_FLAG_USE_SHAREABLE, &bo, NULL));
	a = vgpu_map_bo(self->fd, bo, size);
	ASSERT_NE(MAP_FAILED, a);
	vgpu_fill_words(a, size, 0x55);
	ASSERT_EQ(0, munmap(a, size));

	exp.handle = bo;
	ret = vgpu_ioctl(self->fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &exp);
	if (ret == -EOPNOTSUPP || ret == -ENOSYS || ret == -ENODEV) {
		vgpu_gem_close(self->fd, bo);
		/* TODO(issue 6): runs for real once PRIME export is implemented. */
		SKIP(return, "PRIME export not implemented yet (%s): no second handle",
		     strerror(-ret));
	}
	ASSERT_EQ(0, ret);
	fd2 = vgpu_open_render(path, sizeof(path));
	ASSERT_GE(fd2, 0);
	imp.fd = exp.fd;
	ASSERT_EQ(0, vgpu_ioctl(fd2, DRM_IOCTL_PRIME_FD_TO_HANDLE, &imp));
	close(exp.fd);
	ASSERT_EQ(0, res_info(self->fd, bo, &ri));
	ASSERT_EQ(0, res_info(fd2, imp.handle, &ri2));
	EXPECT_EQ(ri.res_handle, ri2.res_handle) TH_LOG("not the same resource");
	b = vgpu_map_bo(fd2, imp.handle, size);
	ASSERT_NE(MAP_FAILED, b) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(-1, vgpu_check_words(b, size, 0x55));
	munmap(b, size);
	EXPECT_EQ(0, vgpu_gem_close(fd2, imp.handle));
	close(fd2);
	EXPECT_EQ(0, vgpu_gem_close(self->fd, bo));
}

/*
 * 1000 create/map/touch/free cycles (a guest blob with resource_blob, else a 2D
 * resource): every step works, and nothing is left: no object, no host-visible range.
 */
TEST_F_TIMEOUT(obj, stress_create_map_free, 600)
{
	const size_t size = page_size();
	unsigned int i, first_res = 0, max_res = 0;
	struct hostvis hv;
	uint32_t bo, res;
	uint8_t *p;
	int ret;

	ASSERT_EQ(0, vgpu_obj_count_settle(0)) TH_LOG("objects alive before the loop");
	for (i = 0; i < 1000; i++) {
		if (self->f.blob)
			ret = vgpu_guest_blob(self->fd, size, VIRTGPU_BLOB_FLAG_USE_MAPPABLE, &bo, &res);
		else
			ret = create_2d(self->fd, 32, 32, &bo, &res);
		ASSERT_EQ(0, ret) TH_LOG("cycle %u", i);
		if (!first_res)
			first_res = res;
		if (res > max_res)
			max_res = res;
		p = vgpu_map_bo(self->fd, bo, size);
		ASSERT_NE(MAP_FAILED, p) TH_LOG("cycle %u: %s", i, strerror(errno));
		p[0] = i;
		p[size - 1] = ~i;
		ASSERT_EQ((uint8_t)i, p[0]);
		ASSERT_EQ(0, munmap(p, size));
		ASSERT_EQ(0, vgpu_gem_close(self->fd, bo)) TH_LOG("cycle %u", i);
	}
	TH_LOG("resource ids %u..%u over 1000 cycles", first_res, max_res);
	EXPECT_EQ(0, vgpu_obj_count_settle(0)) TH_LOG("objects left after the loop");
	EXPECT_EQ(0, vgpu_res_id_count()) TH_LOG("resource ids left after the loop");
	ASSERT_EQ(0, read_hostvis(0, &hv));
	EXPECT_EQ(0, hv.ranges);
	EXPECT_EQ(0, hv.allocated);
}

/* ---- host blobs (GL device) ---- */

FIXTURE(host) {
	int fd;
	char path[64];
	struct features f;
};

static void open_host_ctx(struct __test_metadata *_metadata, int *fd, char *path, size_t len,
		       struct features *f)
{
	char mt[32];
	int ret;

	*fd = vgpu_open_render(path, len);
	ASSERT_GE(*fd, 0);
	get_features(*fd, f);
	if (!f->virgl || !f->blob || !f->host_visible || !f->context_init) {
		ASSERT_STRNE("gl", gpu_config()) TH_LOG("VGPU_GPU=gl but host blobs unavailable");
		SKIP(return, "host blobs need virgl, resource_blob, host_visible and context_init"
		     " (VGPU_GPU=%s)", gpu_config());
	}
	ASSERT_TRUE(f->capsets & (1 << VIRTGPU_DRM_CAPSET_VIRGL2));
	ASSERT_EQ(0, vgpu_ctx_init_capset(*fd, VIRTGPU_DRM_CAPSET_VIRGL2));
	ret = vgpu_pte_memtype(&ret, mt, sizeof(mt));
	ASSERT_EQ(0, ret) TH_LOG("vgpu_ptprobe: %s (the runner must insmod vgpu_ptprobe.ko)",
				 strerror(-ret));
}

FIXTURE_SETUP(host)
{
	open_host_ctx(_metadata, &self->fd, self->path, sizeof(self->path), &self->f);
}

FIXTURE_TEARDOWN(host)
{
	close(self->fd);
}

/*
 * Checks one mapped host blob: the memory type its PTE got is what @mode requires, the
 * PTE points into the host-visible region at the object's range, and debugfs agrees.
 */
static void check_host_mapping(struct __test_metadata *_metadata, void *p, unsigned int res,
			       uint64_t size, enum cache_mode mode)
{
	char line[256], mt[32], *pfn_s;
	struct hostvis hv;
	struct vobj o;

	ASSERT_EQ(0, vgpu_ptprobe_line(p, line, sizeof(line)));
	ASSERT_EQ(0, vgpu_pte_memtype(p, mt, sizeof(mt)));
	EXPECT_TRUE(memtype_is(mt, mode)) TH_LOG("expected %s, PTE says %s",
						 mode_names[mode], line);
	ASSERT_EQ(1, find_obj(res, &o));
	EXPECT_STREQ("blob-host3d", o.kind);
	EXPECT_STREQ(mode_names[mode], o.mode);
	ASSERT_TRUE(o.hv) TH_LOG("mapped host blob without a host-visible range in debugfs");
	EXPECT_GE(o.hv_len, size);
	ASSERT_EQ(0, read_hostvis(res, &hv));
	ASSERT_TRUE(hv.present);
	EXPECT_EQ(1, hv.ranges_of_res);
	EXPECT_EQ(o.hv_off, hv.off);
	EXPECT_EQ(o.hv_len, hv.len);
	EXPECT_LE(o.hv_off + o.hv_len, hv.size);
	pfn_s = strstr(line, "pfn=");
	ASSERT_NE(NULL, pfn_s);
	EXPECT_EQ((hv.addr + o.hv_off) / page_size(), strtoull(pfn_s + 4, NULL, 0))
	TH_LOG("PTE outside the object's range (region %#llx + %#llx): %s", hv.addr,
	       o.hv_off, line);
}

/*
 * A virgl HOST3D blob: mapped, written, unmapped, read back through a second mapping,
 * with the memory type the real host's map_info calls for; freeing it frees its range.
 */
TEST_F(host, map_write_read_free)
{
	const size_t size = 16 * page_size();
	struct drm_virtgpu_resource_info ri;
	struct hostvis before, after;
	uint32_t bo, res;
	struct vobj o;
	uint8_t *a, *b;
	long bad;

	ASSERT_EQ(0, read_hostvis(0, &before));
	ASSERT_EQ(0, host_blob(self->fd, size, VIRTGPU_BLOB_FLAG_USE_MAPPABLE, &bo, &res));
	ASSERT_EQ(0, res_info(self->fd, bo, &ri));
	EXPECT_EQ(res, ri.res_handle);
	EXPECT_EQ(size, ri.size);
	EXPECT_EQ(VIRTGPU_BLOB_MEM_HOST3D, ri.blob_mem);

	a = vgpu_map_bo(self->fd, bo, size);
	ASSERT_NE(MAP_FAILED, a) TH_LOG("%s", strerror(errno));
	vgpu_fill_words(a, size, 0x66);
	ASSERT_EQ(1, find_obj(res, &o));
	ASSERT_TRUE(o.has_map_info) TH_LOG("no map_info in debugfs for a mapped host blob");
	TH_LOG("host map_info %#x -> %s", o.map_info, mode_names[policy(o.map_info)]);
	/* QEMU answers NONE for virgl buffers today: mapped cached, like the C driver. */
	ASSERT_NE(CM_REFUSED, policy(o.map_info)) TH_LOG("the real host sent %#x", o.map_info);
	check_host_mapping(_metadata, a, res, size, policy(o.map_info));
	ASSERT_EQ(0, munmap(a, size));

	b = vgpu_map_bo(self->fd, bo, size);
	ASSERT_NE(MAP_FAILED, b) TH_LOG("%s", strerror(errno));
	bad = vgpu_check_words(b, size, 0x66);
	EXPECT_EQ(-1, bad) TH_LOG("word %ld differs after remapping", bad);
	check_host_mapping(_metadata, b, res, size, policy(o.map_info));
	ASSERT_EQ(0, munmap(b, size));

	ASSERT_EQ(0, vgpu_gem_close(self->fd, bo));
	EXPECT_EQ(0, vgpu_obj_count_settle(0));
	EXPECT_EQ(0, find_obj(res, &o));
	ASSERT_EQ(0, read_hostvis(res, &after));
	EXPECT_EQ(0, after.ranges_of_res) TH_LOG("range of res %u not freed", res);
	EXPECT_EQ(before.allocated, after.allocated);
	EXPECT_EQ(before.ranges, after.ranges);
}

/* Upstream: MAP of a host blob without MAPPABLE gives an offset, mmap is EINVAL. */
TEST_F(host, not_mappable)
{
	const size_t size = 4 * page_size();
	uint32_t bo, res;
	struct hostvis hv;
	uint64_t off;
	struct vobj o;
	void *p;

	ASSERT_EQ(0, host_blob(self->fd, size, 0, &bo, &res));
	ASSERT_EQ(0, map_offset(self->fd, bo, &off));
	errno = 0;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, off);
	EXPECT_EQ(MAP_FAILED, p) TH_LOG("mmap of a non-MAPPABLE host blob succeeded");
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(1, find_obj(res, &o));
	EXPECT_FALSE(o.hv) TH_LOG("non-MAPPABLE blob got a host-visible range");
	ASSERT_EQ(0, read_hostvis(res, &hv));
	EXPECT_EQ(0, hv.ranges_of_res);
	EXPECT_EQ(0, vgpu_gem_close(self->fd, bo));
}

/*
 * A host blob without MAPPABLE still exports (for other devices, by UUID where the host
 * has them), but its dma-buf has no CPU access: mmap fails with ENODEV, and
 * dma_buf_vmap() with EINVAL (no vmap op, hence no WARN either).
 */
TEST_F(host, not_mappable_export)
{
	const size_t size = 4 * page_size();
	struct vgpu_vmap v;
	uint32_t bo, res;
	int dfd, pfd;

	ASSERT_EQ(0, host_blob(self->fd, size, VIRTGPU_BLOB_FLAG_USE_SHAREABLE, &bo, &res));
	dfd = vgpu_prime_export(self->fd, bo);
	ASSERT_GE(dfd, 0) TH_LOG("PRIME export: %s", strerror(-dfd));
	errno = 0;
	EXPECT_EQ(MAP_FAILED, mmap(NULL, size, PROT_READ, MAP_SHARED, dfd, 0));
	EXPECT_EQ(ENODEV, errno);
	pfd = vgpu_ptprobe_vmap(dfd, false, &v);
	ASSERT_GE(pfd, 0) TH_LOG("%s vmap: %s", VGPU_PTPROBE, strerror(-pfd));
	EXPECT_EQ(-EINVAL, v.ret);
	if (v.ret)
		close(pfd);
	else
		EXPECT_EQ(0, vgpu_ptprobe_vunmap(pfd));
	close(dfd);
	EXPECT_EQ(0, vgpu_gem_close(self->fd, bo));
	EXPECT_EQ(0, vgpu_obj_count_settle(0));
}

/*
 * Another driver (vgem) imports a mappable host blob: its attachment is accepted (vgem
 * maps nothing); a device that maps it must take memory without struct page
 * (vgpu_ptprobe's does not: EOPNOTSUPP); the dma-buf's own mapping and ours are the same
 * host memory.
 */
TEST_F(host, export_to_vgem)
{
	const size_t size = 16 * page_size();
	struct drm_prime_handle imp = { 0 };
	char path[64], cmd[32], line[128];
	uint8_t *ours, *theirs;
	uint32_t bo, res;
	int vgem, dfd, pfd;
	uint64_t off;
	ssize_t n;

	vgem = vgpu_open_dri("card", 0, 63, "vgem", path, sizeof(path));
	if (vgem < 0)
		SKIP(return, "vgem not loaded");
	ASSERT_EQ(0, host_blob(self->fd, size, VIRTGPU_BLOB_FLAG_USE_MAPPABLE |
			       VIRTGPU_BLOB_FLAG_USE_SHAREABLE, &bo, &res));
	ASSERT_EQ(0, map_offset(self->fd, bo, &off));
	ours = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, off);
	ASSERT_NE(MAP_FAILED, ours);
	vgpu_fill_words(ours, size, 0x4242);
	dfd = vgpu_prime_export(self->fd, bo);
	ASSERT_GE(dfd, 0) TH_LOG("PRIME export: %s", strerror(-dfd));
	imp.fd = dfd;
	ASSERT_EQ(0, vgpu_ioctl(vgem, DRM_IOCTL_PRIME_FD_TO_HANDLE, &imp))
	TH_LOG("vgem refused the host blob's dma-buf");
	/* A device that would map it but takes only memory with struct pages is refused. */
	pfd = open(VGPU_PTPROBE, O_RDWR | O_CLOEXEC);
	ASSERT_GE(pfd, 0);
	snprintf(cmd, sizeof(cmd), "dmamap %d", dfd);
	ASSERT_LT(0, write(pfd, cmd, strlen(cmd)));
	n = pread(pfd, line, sizeof(line) - 1, 0);
	ASSERT_GT(n, 0);
	line[n] = 0;
	EXPECT_NE(NULL, strstr(line, "ret=-95")) TH_LOG("dmamap of a host blob: %s", line);
	close(pfd);
	theirs = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, dfd, 0);
	ASSERT_NE(MAP_FAILED, theirs) TH_LOG("dma-buf mmap: %s", strerror(errno));
	EXPECT_EQ(-1, vgpu_check_words(theirs, size, 0x4242));
	vgpu_fill_words(theirs, size, 0x2424);
	EXPECT_EQ(-1, vgpu_check_words(ours, size, 0x2424));
	munmap(theirs, size);
	munmap(ours, size);
	EXPECT_EQ(0, vgpu_gem_close(vgem, imp.handle));
	close(vgem);
	close(dfd);
	EXPECT_EQ(0, vgpu_gem_close(self->fd, bo));
	EXPECT_EQ(0, vgpu_obj_count_settle(0));
}

/* DEFER_MAPPING: no host-visible range until the blob is mmapped. */
TEST_F(host, defer_mapping_hint)
{
	const size_t size = 4 * page_size();
	uint32_t bo, res;
	struct hostvis hv;
	struct vobj o;
	uint8_t *p;

	ASSERT_EQ(0, vgpu_host_blob(self->fd, size, VIRTGPU_BLOB_FLAG_USE_MAPPABLE,
				     DRM_VIRTGPU_BLOB_FLAG_HINT_DEFER_MAPPING, &bo, &res));
	ASSERT_EQ(1, find_obj(res, &o));
	EXPECT_FALSE(o.hv) TH_LOG("DEFER_MAPPING blob got a range at creation");
	ASSERT_EQ(0, read_hostvis(res, &hv));
	EXPECT_EQ(0, hv.ranges_of_res);

	p = vgpu_map_bo(self->fd, bo, size);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("%s", strerror(errno));
	vgpu_fill_words(p, size, 0xaa);
	EXPECT_EQ(-1, vgpu_check_words(p, size, 0xaa));
	ASSERT_EQ(1, find_obj(res, &o));
	ASSERT_TRUE(o.has_map_info);
	check_host_mapping(_metadata, p, res, size, policy(o.map_info));
	munmap(p, size);
	EXPECT_EQ(0, vgpu_gem_close(self->fd, bo));
	ASSERT_EQ(0, read_hostvis(res, &hv));
	EXPECT_EQ(0, hv.ranges_of_res);
}

/* A prefix of a host blob maps; past its end is EINVAL. */
TEST_F(host, mmap_bounds)
{
	const size_t size = 4 * page_size();
	uint32_t bo, res;
	uint64_t off;
	uint8_t *p;

	ASSERT_EQ(0, host_blob(self->fd, size, VIRTGPU_BLOB_FLAG_USE_MAPPABLE, &bo, &res));
	ASSERT_EQ(0, map_offset(self->fd, bo, &off));
	p = mmap(NULL, page_size(), PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, off);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("prefix: %s", strerror(errno));
	vgpu_fill_words(p, page_size(), 0x77);
	EXPECT_EQ(-1, vgpu_check_words(p, page_size(), 0x77));
	munmap(p, page_size());
	errno = 0;
	p = mmap(NULL, size + page_size(), PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, off);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, vgpu_gem_close(self->fd, bo));
}

/* 1000 host blob create/map/touch/free cycles: no object and no range left. */
TEST_F_TIMEOUT(host, stress_create_map_free, 600)
{
	const size_t size = page_size();
	struct hostvis before, after;
	uint32_t bo, res;
	unsigned int i;
	uint8_t *p;

	ASSERT_EQ(0, read_hostvis(0, &before));
	for (i = 0; i < 1000; i++) {
		ASSERT_EQ(0, host_blob(self->fd, size, VIRTGPU_BLOB_FLAG_USE_MAPPABLE, &bo, &res))
		TH_LOG("cycle %u", i);
		p = vgpu_map_bo(self->fd, bo, size);
		ASSERT_NE(MAP_FAILED, p) TH_LOG("cycle %u: %s", i, strerror(errno));
		vgpu_fill_words(p, 64, i);
		ASSERT_EQ(-1, vgpu_check_words(p, 64, i)) TH_LOG("cycle %u", i);
		ASSERT_EQ(0, munmap(p, size));
		ASSERT_EQ(0, vgpu_gem_close(self->fd, bo)) TH_LOG("cycle %u", i);
	}
	EXPECT_EQ(0, vgpu_obj_count_settle(0));
	EXPECT_EQ(0, vgpu_res_id_count()) TH_LOG("resource ids left after the loop");
	ASSERT_EQ(0, read_hostvis(0, &after));
	EXPECT_EQ(before.ranges, after.ranges);
	EXPECT_EQ(0, after.ranges);
	EXPECT_EQ(0, after.allocated);
}

/* ---- map_info end to end, through the debugfs override knob ---- */

FIXTURE(mapinfo) {
	int fd;
	char path[64];
	struct features f;
};

FIXTURE_VARIANT(mapinfo) {
	uint32_t map_info;
	enum cache_mode mode;
};

FIXTURE_VARIANT_ADD(mapinfo, none) { .map_info = 0x0, .mode = CM_CACHED };
FIXTURE_VARIANT_ADD(mapinfo, cached) { .map_info = 0x1, .mode = CM_CACHED };
FIXTURE_VARIANT_ADD(mapinfo, uncached) { .map_info = 0x2, .mode = CM_UNCACHED };
FIXTURE_VARIANT_ADD(mapinfo, wc) { .map_info = 0x3, .mode = CM_WC };
/* Bits above VIRTIO_GPU_MAP_CACHE_MASK do not change the cache type. */
FIXTURE_VARIANT_ADD(mapinfo, wc_high_bits) { .map_info = 0x13, .mode = CM_WC };
FIXTURE_VARIANT_ADD(mapinfo, unknown_4) { .map_info = 0x4, .mode = CM_REFUSED };
FIXTURE_VARIANT_ADD(mapinfo, unknown_7) { .map_info = 0x7, .mode = CM_REFUSED };
FIXTURE_VARIANT_ADD(mapinfo, unknown_f) { .map_info = 0xf, .mode = CM_REFUSED };

#define OVERRIDE "virtio-gpu-map-info-override"
#define OVERRIDE_ENABLE "virtio-gpu-map-info-override-enable"

FIXTURE_SETUP(mapinfo)
{
	char v[16];

	open_host_ctx(_metadata, &self->fd, self->path, sizeof(self->path), &self->f);
	if (_metadata->exit_code)
		return;
	snprintf(v, sizeof(v), "%#x", variant->map_info);
	ASSERT_EQ(0, vgpu_debugfs_write(OVERRIDE, v)) TH_LOG("debugfs %s", OVERRIDE);
	ASSERT_EQ(0, vgpu_debugfs_write(OVERRIDE_ENABLE, "1")) TH_LOG("debugfs %s",
								       OVERRIDE_ENABLE);
}

FIXTURE_TEARDOWN(mapinfo)
{
	EXPECT_EQ(0, vgpu_debugfs_write(OVERRIDE_ENABLE, "0"));
	close(self->fd);
}

/*
 * A fresh host blob under an overridden map_info: the PTE of its first touch has the
 * memory type the policy gives, or (unknown value) the mapping is refused: mmap fails with
 * EINVAL, or the first touch raises SIGBUS.
 */
TEST_F(mapinfo, pte_memtype)
{
	const size_t size = 4 * page_size();
	struct hostvis hv;
	uint32_t bo, res;
	struct vobj o;
	uint64_t off;
	uint8_t *p;
	long bad;
	int sig;

	ASSERT_EQ(variant->mode, policy(variant->map_info));
	ASSERT_EQ(0, host_blob(self->fd, size, VIRTGPU_BLOB_FLAG_USE_MAPPABLE, &bo, &res));
	ASSERT_EQ(0, map_offset(self->fd, bo, &off)) TH_LOG("MAP gives an offset in any case");
	errno = 0;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, off);
	if (variant->mode == CM_REFUSED) {
		if (p == MAP_FAILED) {
			EXPECT_EQ(EINVAL, errno) TH_LOG("map_info %#x: mmap failed with %s",
							variant->map_info, strerror(errno));
		} else {
			sig = touch_guarded(p);
			EXPECT_EQ(SIGBUS, sig) TH_LOG("map_info %#x: mmap accepted, first touch %s",
						      variant->map_info,
						      sig ? strsignal(sig) : "worked");
			munmap(p, size);
		}
	} else {
		ASSERT_NE(MAP_FAILED, p) TH_LOG("map_info %#x: %s", variant->map_info,
						strerror(errno));
		ASSERT_EQ(0, touch_guarded(p)) TH_LOG("first touch faulted");
		vgpu_fill_words(p, size, 0x88);
		bad = vgpu_check_words(p, size, 0x88);
		EXPECT_EQ(-1, bad) TH_LOG("word %ld", bad);
		ASSERT_EQ(1, find_obj(res, &o));
		ASSERT_TRUE(o.has_map_info);
		EXPECT_EQ(variant->map_info & MAP_INFO_MASK, o.map_info & MAP_INFO_MASK)
		TH_LOG("debugfs map_info %#x, override %#x", o.map_info, variant->map_info);
		check_host_mapping(_metadata, p, res, size, variant->mode);
		munmap(p, size);
	}
	ASSERT_EQ(0, vgpu_debugfs_write(OVERRIDE_ENABLE, "0"));
	ASSERT_EQ(0, vgpu_gem_close(self->fd, bo));
	EXPECT_EQ(0, vgpu_obj_count_settle(0));
	ASSERT_EQ(0, read_hostvis(res, &hv));
	EXPECT_EQ(0, hv.ranges_of_res) TH_LOG("range of res %u not freed", res);
}

/*
 * The mapping of a host blob's dma-buf (what an importer's userspace gets) under an
 * overridden map_info: the same memory type and host-visible range as the blob's own
 * mappings (the export's mmap is the object's, same policy), the same bytes as a mapping
 * through our fd; or, for an unknown value, no CPU access at all (ENODEV).
 */
TEST_F(mapinfo, dmabuf_mmap_memtype)
{
	const size_t size = 4 * page_size();
	uint8_t *p, *q;
	uint32_t bo, res;
	uint64_t off;
	int dfd;

	ASSERT_EQ(variant->mode, policy(variant->map_info));
	ASSERT_EQ(0, host_blob(self->fd, size, VIRTGPU_BLOB_FLAG_USE_MAPPABLE |
			       VIRTGPU_BLOB_FLAG_USE_SHAREABLE, &bo, &res));
	ASSERT_EQ(0, vgpu_debugfs_write(OVERRIDE_ENABLE, "0"));
	dfd = vgpu_prime_export(self->fd, bo);
	ASSERT_GE(dfd, 0) TH_LOG("PRIME export: %s", strerror(-dfd));
	errno = 0;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, dfd, 0);
	if (variant->mode == CM_REFUSED) {
		EXPECT_EQ(MAP_FAILED, p) TH_LOG("map_info %#x: dma-buf mmap accepted",
						variant->map_info);
		EXPECT_EQ(ENODEV, errno);
		if (p != MAP_FAILED)
			munmap(p, size);
	} else {
		ASSERT_NE(MAP_FAILED, p) TH_LOG("map_info %#x: %s", variant->map_info,
						strerror(errno));
		ASSERT_EQ(0, touch_guarded(p)) TH_LOG("first touch faulted");
		check_host_mapping(_metadata, p, res, size, variant->mode);
		ASSERT_EQ(0, map_offset(self->fd, bo, &off));
		q = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, off);
		ASSERT_NE(MAP_FAILED, q);
		vgpu_fill_words(p, size, 0x5151);
		EXPECT_EQ(-1, vgpu_check_words(q, size, 0x5151));
		vgpu_fill_words(q, size, 0x6161);
		EXPECT_EQ(-1, vgpu_check_words(p, size, 0x6161));
		munmap(q, size);
		munmap(p, size);
	}
	close(dfd);
	ASSERT_EQ(0, vgpu_gem_close(self->fd, bo));
	EXPECT_EQ(0, vgpu_obj_count_settle(0));
}

/*
 * The kernel mapping of a host blob under an overridden map_info, made through a dma-buf
 * as an importer would (dma_buf_vmap -> drm_gem_dmabuf_vmap -> the driver's vmap): the
 * kernel's page tables give it the memory type the policy gives user mappings (arm64:
 * MEM/NORMAL, MEM/NORMAL-NC, DEVICE/nGnRnE), as I/O memory. Four pages map with PTEs;
 * 2 MiB, created first and so (today's placement) at the start of the empty region, is
 * 2 MiB-aligned and maps as a block (PMD), whose attributes the kernel builds separately.
 * An unknown value exports the blob with a table that has no vmap (dma_buf_vmap() says
 * EINVAL without the WARN_ON_ONCE() it gives a failing vmap) and an mmap that fails with
 * ENODEV.
 */
TEST_F(mapinfo, vmap_memtype)
{
	const size_t sizes[] = { 2 << 20, 4 * page_size() };
	/* A refused blob has no mapping to look at: only the small one. */
	unsigned int i, first = variant->mode == CM_REFUSED ? 1 : 0;
	uint32_t bo[2], res[2];
	struct vgpu_vmap v;
	struct hostvis hv;
	int dfd, pfd, ret;

	ASSERT_EQ(variant->mode, policy(variant->map_info));
	if (variant->mode != CM_REFUSED && need_kernel_pt(_metadata))
		return;
	for (i = first; i < 2; i++) {
		ret = host_blob(self->fd, sizes[i], VIRTGPU_BLOB_FLAG_USE_MAPPABLE, &bo[i],
				&res[i]);
		ASSERT_EQ(0, ret) TH_LOG("host blob %u: %s", i, strerror(-ret));
	}
	ASSERT_EQ(0, vgpu_debugfs_write(OVERRIDE_ENABLE, "0"));
	if (variant->mode == CM_REFUSED) {
		dfd = vgpu_prime_export(self->fd, bo[1]);
		ASSERT_GE(dfd, 0) TH_LOG("PRIME export: %s", strerror(-dfd));
		pfd = vgpu_ptprobe_vmap(dfd, false, &v);
		ASSERT_GE(pfd, 0) TH_LOG("%s vmap: %s", VGPU_PTPROBE, strerror(-pfd));
		EXPECT_EQ(-EINVAL, v.ret) TH_LOG("map_info %#x: vmap gave %d (vaddr %#lx)",
						 variant->map_info, v.ret, v.vaddr);
		if (v.ret)
			close(pfd);
		else
			EXPECT_EQ(0, vgpu_ptprobe_vunmap(pfd));
		/* Nor may userspace map it through the dma-buf. */
		errno = 0;
		EXPECT_EQ(MAP_FAILED, mmap(NULL, sizes[1], PROT_READ, MAP_SHARED, dfd, 0));
		EXPECT_EQ(ENODEV, errno);
		close(dfd);
	} else {
		for (i = first; i < 2; i++)
			check_vmap(_metadata, self->fd, bo[i], sizes[i], variant->mode, true);
	}
	for (i = first; i < 2; i++)
		ASSERT_EQ(0, vgpu_gem_close(self->fd, bo[i]));
	EXPECT_EQ(0, vgpu_obj_count_settle(0)) TH_LOG("the dma-buf kept an object alive");
	for (i = first; i < 2; i++) {
		ASSERT_EQ(0, read_hostvis(res[i], &hv));
		EXPECT_EQ(0, hv.ranges_of_res) TH_LOG("range of res %u not freed", res[i]);
	}
}

TEST_HARNESS_MAIN
