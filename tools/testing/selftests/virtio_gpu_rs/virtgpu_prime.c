// SPDX-License-Identifier: GPL-2.0
/*
 * virtio_gpu_rs PRIME: our objects exported as dma-bufs and imported by another driver
 * (vgem, which attaches and pins them; its shmem import maps the attachment only when it
 * needs the pages), contents checked through the dma-buf's own mapping both ways;
 * self-import identity; foreign dma-bufs imported and mapped on our fd; export/import
 * cycles that leave no object, fd or dma-buf behind; an import pinning its exporter's
 * module.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <drm/drm.h>
#include <drm/drm_mode.h>
#include <linux/udmabuf.h>
#include <drm/virtgpu_drm.h>

#include "kselftest_harness.h"
#include "virtgpu_blob.h"

/* The first /dev/dri/card* of vgem; -1 if vgem is not loaded. */
static int open_vgem(void)
{
	char path[64];

	return vgpu_open_dri("card", 0, 63, "vgem", path, sizeof(path));
}

static int prime_export(int fd, uint32_t handle, int *dmabuf)
{
	int ret = vgpu_prime_export(fd, handle);

	if (ret < 0)
		return ret;
	*dmabuf = ret;
	return 0;
}

static int prime_import(int fd, int dmabuf, uint32_t *handle)
{
	struct drm_prime_handle p = { .fd = dmabuf };
	int ret = vgpu_ioctl(fd, DRM_IOCTL_PRIME_FD_TO_HANDLE, &p);

	if (!ret)
		*handle = p.handle;
	return ret;
}

FIXTURE(prime) {
	int fd, vgem;
	bool blob;
};

FIXTURE_SETUP(prime)
{
	char path[64];

	self->fd = vgpu_open_render(path, sizeof(path));
	ASSERT_GE(self->fd, 0) TH_LOG("no virtio_gpu render node");
	self->vgem = open_vgem();
	self->blob = vgpu_getparam(self->fd, VIRTGPU_PARAM_RESOURCE_BLOB) == 1;
}

FIXTURE_TEARDOWN(prime)
{
	if (self->vgem >= 0)
		close(self->vgem);
	close(self->fd);
}

/*
 * Exports @bo (@len bytes, mapped by us at @ours) to vgem, whose import attaches to (and
 * pins) the object; then the dma-buf's own mapping and ours see each other's bytes.
 */
static void check_export_to_vgem(struct __test_metadata *_metadata, FIXTURE_DATA(prime) *self,
				 uint32_t bo, void *ours, size_t len)
{
	uint32_t vh = 0;
	void *theirs;
	int dmabuf;

	vgpu_fill_words(ours, len, 0x1234);
	ASSERT_EQ(0, prime_export(self->fd, bo, &dmabuf));
	/* Without get_sg_table the attach fails with ENOSYS (drm_gem_map_attach). */
	ASSERT_EQ(0, prime_import(self->vgem, dmabuf, &vh)) TH_LOG("vgem refused our dma-buf");
	theirs = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, dmabuf, 0);
	ASSERT_NE(MAP_FAILED, theirs);
	EXPECT_EQ(-1, vgpu_check_words(theirs, len, 0x1234));
	vgpu_fill_words(theirs, len, 0xabcd);
	EXPECT_EQ(-1, vgpu_check_words(ours, len, 0xabcd));
	munmap(theirs, len);
	EXPECT_EQ(0, vgpu_gem_close(self->vgem, vh));
	close(dmabuf);
}

TEST_F(prime, guest_blob_to_vgem)
{
	const size_t len = 64 * 1024;
	uint32_t bo;
	void *p;

	if (self->vgem < 0)
		SKIP(return, "vgem not loaded");
	if (!self->blob)
		SKIP(return, "no RESOURCE_BLOB");
	ASSERT_EQ(0, vgpu_guest_blob(self->fd, len, VIRTGPU_BLOB_FLAG_USE_MAPPABLE |
				     VIRTGPU_BLOB_FLAG_USE_SHAREABLE, &bo, NULL));
	p = vgpu_map_bo(self->fd, bo, len);
	ASSERT_NE(MAP_FAILED, p);
	check_export_to_vgem(_metadata, self, bo, p, len);
	munmap(p, len);
	EXPECT_EQ(0, vgpu_gem_close(self->fd, bo));
}

TEST_F(prime, resource_to_vgem)
{
	struct drm_virtgpu_resource_create rc = {
		.target = 2, .format = 1 /* B8G8R8A8 */, .width = 64, .height = 64, .depth = 1,
		.array_size = 1, .bind = 1 << 3 /* VIRGL_BIND_SAMPLER_VIEW */, .stride = 256,
		.size = 64 * 64 * 4,
	};
	const size_t len = 64 * 64 * 4;
	void *p;

	if (self->vgem < 0)
		SKIP(return, "vgem not loaded");
	ASSERT_EQ(0, vgpu_ioctl(self->fd, DRM_IOCTL_VIRTGPU_RESOURCE_CREATE, &rc));
	p = vgpu_map_bo(self->fd, rc.bo_handle, len);
	ASSERT_NE(MAP_FAILED, p);
	check_export_to_vgem(_metadata, self, rc.bo_handle, p, len);
	munmap(p, len);
	EXPECT_EQ(0, vgpu_gem_close(self->fd, rc.bo_handle));
}

/* Command @cmd to vgpu_ptprobe on a fresh open file, its answer line in @line; 0 or -errno. */
static int ptprobe_cmd(const char *cmd, char *line, size_t len)
{
	int fd = open(VGPU_PTPROBE, O_RDWR | O_CLOEXEC), ret = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	if (write(fd, cmd, strlen(cmd)) < 0) {
		ret = -errno;
	} else {
		n = pread(fd, line, len - 1, 0);
		if (n <= 0)
			ret = n ? -errno : -EPROTO;
		else
			line[n] = 0;
	}
	close(fd);
	return ret;
}

/* "dmamap" of vgpu_ptprobe: a device's view of dma-buf @dmabuf through its DMA addresses. */
static int ptprobe_dmamap(int dmabuf, unsigned int *nents, size_t *len, uint32_t *sum)
{
	char cmd[32], line[128] = "";
	int ret, r = -1;

	snprintf(cmd, sizeof(cmd), "dmamap %d", dmabuf);
	ret = ptprobe_cmd(cmd, line, sizeof(line));
	if (ret)
		return ret;
	return sscanf(line, "nents=%u len=%zu sum=0x%x ret=%d", nents, len, sum, &r) == 4 ?
	       r : -EPROTO;
}

/* The sum vgpu_ptprobe's "dmamap" computes, over our own mapping. */
static uint32_t weighted_sum(const uint32_t *w, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i < len / 4; i++)
		sum += w[i] * (uint32_t)(i + 1);
	return sum;
}

/*
 * An importing device's view: vgpu_ptprobe attaches, maps the attachment (our
 * get_sg_table, mapped for its device) and reads the object through the DMA addresses
 * alone. It sees exactly the bytes we wrote, in order, and the whole object.
 */
TEST_F(prime, importer_dma_view)
{
	struct drm_virtgpu_resource_create rc = {
		.target = 2, .format = 1, .width = 128, .height = 128, .depth = 1, .array_size = 1,
		.bind = 1 << 3, .stride = 512, .size = 128 * 512,
	};
	const size_t size = 128 * 512;
	unsigned int nents;
	uint32_t sum;
	size_t len;
	int dmabuf, ret;
	void *p;

	ASSERT_EQ(0, vgpu_ioctl(self->fd, DRM_IOCTL_VIRTGPU_RESOURCE_CREATE, &rc));
	p = vgpu_map_bo(self->fd, rc.bo_handle, size);
	ASSERT_NE(MAP_FAILED, p);
	vgpu_fill_words(p, size, 0x5151);
	ASSERT_EQ(0, prime_export(self->fd, rc.bo_handle, &dmabuf));
	ret = ptprobe_dmamap(dmabuf, &nents, &len, &sum);
	if (ret == -ENOENT)
		SKIP(goto out, "vgpu_ptprobe not loaded");
	ASSERT_EQ(0, ret);
	TH_LOG("%u DMA segments, %zu bytes", nents, len);
	EXPECT_EQ(size, len);
	EXPECT_EQ(weighted_sum(p, size), sum) TH_LOG("the importer's DMA view differs");
out:
	munmap(p, size);
	close(dmabuf);
	EXPECT_EQ(0, vgpu_gem_close(self->fd, rc.bo_handle));
}

/* Importing our own dma-buf gives back our object: the same handle in the same file. */
TEST_F(prime, self_import_identity)
{
	struct drm_virtgpu_resource_create rc = {
		.target = 2, .format = 1, .width = 16, .height = 16, .depth = 1, .array_size = 1,
		.bind = 1 << 3, .stride = 64, .size = 16 * 64,
	};
	struct drm_virtgpu_resource_info a = { 0 }, b = { 0 };
	uint32_t again, other_h;
	char path[64];
	int dmabuf, other;

	ASSERT_EQ(0, vgpu_ioctl(self->fd, DRM_IOCTL_VIRTGPU_RESOURCE_CREATE, &rc));
	ASSERT_EQ(0, prime_export(self->fd, rc.bo_handle, &dmabuf));
	ASSERT_EQ(0, prime_import(self->fd, dmabuf, &again));
	EXPECT_EQ(rc.bo_handle, again);
	/* Another file of the same device gets a handle to the same resource. */
	other = vgpu_open_render(path, sizeof(path));
	ASSERT_GE(other, 0);
	ASSERT_EQ(0, prime_import(other, dmabuf, &other_h));
	a.bo_handle = rc.bo_handle;
	b.bo_handle = other_h;
	ASSERT_EQ(0, vgpu_ioctl(self->fd, DRM_IOCTL_VIRTGPU_RESOURCE_INFO, &a));
	ASSERT_EQ(0, vgpu_ioctl(other, DRM_IOCTL_VIRTGPU_RESOURCE_INFO, &b));
	EXPECT_EQ(a.res_handle, b.res_handle);
	close(other);
	close(dmabuf);
	EXPECT_EQ(0, vgpu_gem_close(self->fd, rc.bo_handle));
}

/*
 * Our exports are virtio dma-bufs: another virtio driver may ask the UUID the host knows
 * the resource by. A device without RESOURCE_UUID (VIRTGPU_PARAM_CROSS_DEVICE 0, both
 * QEMU configurations here) has none: ENODEV. With it, the UUID is assigned once and
 * stays the same. A foreign dma-buf is no virtio one.
 */
TEST_F(prime, export_uuid)
{
	struct drm_virtgpu_resource_create rc = {
		.target = 2, .format = 1, .width = 16, .height = 16, .depth = 1, .array_size = 1,
		.bind = 1 << 3, .stride = 64, .size = 16 * 64,
	};
	char cmd[32], line[128] = "", uuid[64] = "", again[64] = "";
	bool feature = vgpu_getparam(self->fd, VIRTGPU_PARAM_CROSS_DEVICE) == 1;
	int dmabuf, virtio = -1, r = 1;

	ASSERT_EQ(0, vgpu_ioctl(self->fd, DRM_IOCTL_VIRTGPU_RESOURCE_CREATE, &rc));
	ASSERT_EQ(0, prime_export(self->fd, rc.bo_handle, &dmabuf));
	snprintf(cmd, sizeof(cmd), "uuid %d", dmabuf);
	ASSERT_EQ(0, ptprobe_cmd(cmd, line, sizeof(line)));
	ASSERT_EQ(3, sscanf(line, "virtio=%d ret=%d uuid=%63s", &virtio, &r, uuid)) TH_LOG("%s", line);
	EXPECT_EQ(1, virtio) TH_LOG("our export is not a virtio dma-buf");
	if (feature) {
		EXPECT_EQ(0, r);
		EXPECT_EQ(32, strlen(uuid)) TH_LOG("%s", line);
		ASSERT_EQ(0, ptprobe_cmd(cmd, line, sizeof(line)));
		ASSERT_EQ(3, sscanf(line, "virtio=%d ret=%d uuid=%63s", &virtio, &r, again));
		EXPECT_STREQ(uuid, again) TH_LOG("the UUID changed");
	} else {
		EXPECT_EQ(-ENODEV, r) TH_LOG("%s", line);
		EXPECT_STREQ("-", uuid);
	}
	close(dmabuf);
	EXPECT_EQ(0, vgpu_gem_close(self->fd, rc.bo_handle));

	if (self->vgem >= 0) {
		struct drm_mode_create_dumb cd = { .width = 16, .height = 16, .bpp = 32 };

		ASSERT_EQ(0, vgpu_ioctl(self->vgem, DRM_IOCTL_MODE_CREATE_DUMB, &cd));
		ASSERT_EQ(0, prime_export(self->vgem, cd.handle, &dmabuf));
		snprintf(cmd, sizeof(cmd), "uuid %d", dmabuf);
		ASSERT_EQ(0, ptprobe_cmd(cmd, line, sizeof(line)));
		ASSERT_EQ(3, sscanf(line, "virtio=%d ret=%d uuid=%63s", &virtio, &r, uuid));
		EXPECT_EQ(0, virtio) TH_LOG("%s", line);
		close(dmabuf);
		EXPECT_EQ(0, vgpu_gem_close(self->vgem, cd.handle));
	}
}

/* Importing something that is not a live dma-buf fd: the DRM core's errnos, no object. */
TEST_F(prime, import_errors)
{
	long before = vgpu_obj_count();
	int pipefd[2], closed;
	uint32_t h;

	closed = dup(self->fd);
	ASSERT_GE(closed, 0);
	close(closed);
	EXPECT_EQ(-EBADF, prime_import(self->fd, closed, &h));
	EXPECT_EQ(-EBADF, prime_import(self->fd, -1, &h));
	ASSERT_EQ(0, pipe(pipefd));
	EXPECT_EQ(-EINVAL, prime_import(self->fd, pipefd[0], &h));
	/* The DRM fd itself is no dma-buf either. */
	EXPECT_EQ(-EINVAL, prime_import(self->fd, self->fd, &h));
	close(pipefd[0]);
	close(pipefd[1]);
	if (before >= 0)
		EXPECT_EQ(before, vgpu_obj_count());
}

/*
 * The dma-buf keeps our object alive after its last handle is closed: importing it again
 * gives a handle to the same bytes.
 */
TEST_F(prime, export_outlives_handle)
{
	struct drm_virtgpu_resource_create rc = {
		.target = 2, .format = 1, .width = 32, .height = 32, .depth = 1, .array_size = 1,
		.bind = 1 << 3, .stride = 128, .size = 32 * 128,
	};
	const size_t len = 32 * 128;
	uint32_t again;
	int dmabuf;
	void *p;

	ASSERT_EQ(0, vgpu_ioctl(self->fd, DRM_IOCTL_VIRTGPU_RESOURCE_CREATE, &rc));
	p = vgpu_map_bo(self->fd, rc.bo_handle, len);
	ASSERT_NE(MAP_FAILED, p);
	vgpu_fill_words(p, len, 0x0707);
	munmap(p, len);
	ASSERT_EQ(0, prime_export(self->fd, rc.bo_handle, &dmabuf));
	ASSERT_EQ(0, vgpu_gem_close(self->fd, rc.bo_handle));
	ASSERT_EQ(0, prime_import(self->fd, dmabuf, &again));
	close(dmabuf);
	p = vgpu_map_bo(self->fd, again, len);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, vgpu_check_words(p, len, 0x0707));
	munmap(p, len);
	EXPECT_EQ(0, vgpu_gem_close(self->fd, again));
}

/*
 * Imports foreign dma-buf @dmabuf (closed here) on our fd, whose exporter's mapping of
 * @len bytes is @theirs and holds the @seed pattern; MAP + mmap on our fd must be the
 * dma-buf's mapping (/proc/self/maps names its file, not our DRM node) and share the
 * bytes both ways (ours writes @seed2). Returns our mapping; the handle goes to @ours.
 */
static void *import_and_map(struct __test_metadata *_metadata, FIXTURE_DATA(prime) *self,
			    int dmabuf, void *theirs, size_t len, uint32_t seed, uint32_t seed2,
			    uint32_t *ours)
{
	char line[512];
	void *mine;
	int ret;

	/* Upstream 7.2 refuses foreign imports (ENODEV) whenever the device has 3D. */
	ret = prime_import(self->fd, dmabuf, ours);
	close(dmabuf);
	EXPECT_EQ(0, ret);
	if (ret)
		return MAP_FAILED;
	mine = vgpu_map_bo(self->fd, *ours, len);
	EXPECT_NE(MAP_FAILED, mine);
	if (mine == MAP_FAILED)
		return mine;
	EXPECT_EQ(-1, vgpu_check_words(mine, len, seed));
	vgpu_fill_words(mine, len, seed2);
	EXPECT_EQ(-1, vgpu_check_words(theirs, len, seed2));
	vgpu_maps_line(mine, line, sizeof(line));
	TH_LOG("%s", line);
	EXPECT_NE(NULL, strstr(line, "dmabuf")) TH_LOG("not the dma-buf's mapping");
	EXPECT_EQ(NULL, strstr(line, "/dev/dri")) TH_LOG("still our DRM node's mapping");
	return mine;
}

/*
 * A foreign dma-buf (a vgem dumb buffer) imported on our render node: MAP + mmap on our
 * fd is the exporter's mapping (dma_buf_mmap(): /proc/self/maps names the dma-buf's file,
 * not our DRM node), bytes written through vgem's mapping are read through ours and back.
 * The import outlives the exporter's handle and fd. (Device uses: import_transfer_*,
 * import_submit_*.)
 */
TEST_F(prime, vgem_import_mmap_is_the_exporters)
{
	struct drm_mode_create_dumb cd = { .width = 64, .height = 64, .bpp = 32 };
	struct drm_mode_map_dumb md = { 0 };
	uint32_t ours;
	void *theirs, *mine;
	size_t len;
	int dmabuf;

	if (self->vgem < 0)
		SKIP(return, "vgem not loaded");
	ASSERT_EQ(0, vgpu_ioctl(self->vgem, DRM_IOCTL_MODE_CREATE_DUMB, &cd));
	len = cd.size;
	md.handle = cd.handle;
	ASSERT_EQ(0, vgpu_ioctl(self->vgem, DRM_IOCTL_MODE_MAP_DUMB, &md));
	theirs = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, self->vgem, md.offset);
	ASSERT_NE(MAP_FAILED, theirs);
	vgpu_fill_words(theirs, len, 0x6e6e);
	ASSERT_EQ(0, prime_export(self->vgem, cd.handle, &dmabuf));
	mine = import_and_map(_metadata, self, dmabuf, theirs, len, 0x6e6e, 0x7a7a, &ours);
	ASSERT_NE(MAP_FAILED, mine);

	/* The exporter lets go of its handle: our import and its mapping stay. */
	munmap(theirs, len);
	ASSERT_EQ(0, vgpu_gem_close(self->vgem, cd.handle));
	EXPECT_EQ(-1, vgpu_check_words(mine, len, 0x7a7a));
	munmap(mine, len);

	EXPECT_EQ(0, vgpu_gem_close(self->fd, ours));
}

/*
 * A udmabuf (pages of a memfd) imported on our render node: MAP + mmap on our fd is the
 * udmabuf's mapping, and its bytes are the memfd's, both ways.
 */
TEST_F(prime, udmabuf_import_mmap)
{
	const size_t len = 16 * 4096;
	struct udmabuf_create uc = { .flags = UDMABUF_FLAGS_CLOEXEC, .size = len };
	int dev, memfd, dmabuf;
	void *mem, *mine;
	uint32_t ours;

	dev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		SKIP(return, "no /dev/udmabuf");
	memfd = memfd_create("vgpu-udmabuf", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	ASSERT_GE(memfd, 0);
	ASSERT_EQ(0, ftruncate(memfd, len));
	ASSERT_EQ(0, fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK));
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	ASSERT_NE(MAP_FAILED, mem);
	vgpu_fill_words(mem, len, 0x0d0d);
	uc.memfd = memfd;
	dmabuf = ioctl(dev, UDMABUF_CREATE, &uc);
	ASSERT_GE(dmabuf, 0) TH_LOG("UDMABUF_CREATE: %s", strerror(errno));
	mine = import_and_map(_metadata, self, dmabuf, mem, len, 0x0d0d, 0x0e0e, &ours);
	ASSERT_NE(MAP_FAILED, mine);
	munmap(mine, len);
	munmap(mem, len);
	EXPECT_EQ(0, vgpu_gem_close(self->fd, ours));
	close(memfd);
	close(dev);
}

/* A vgem dumb buffer of @len bytes (a multiple of the page size), its handle in @handle. */
static int vgem_dumb(int vgem, size_t len, uint32_t *handle, uint64_t *size)
{
	struct drm_mode_create_dumb cd = {
		.width = sysconf(_SC_PAGESIZE) / 4, .height = len / sysconf(_SC_PAGESIZE), .bpp = 32,
	};
	int ret = vgpu_ioctl(vgem, DRM_IOCTL_MODE_CREATE_DUMB, &cd);

	if (!ret) {
		*handle = cd.handle;
		*size = cd.size;
	}
	return ret;
}

/* vgem's own mapping of its dumb buffer @handle; MAP_FAILED on error. */
static void *vgem_map(int vgem, uint32_t handle, size_t len)
{
	struct drm_mode_map_dumb md = { .handle = handle };

	if (vgpu_ioctl(vgem, DRM_IOCTL_MODE_MAP_DUMB, &md))
		return MAP_FAILED;
	return mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, vgem, md.offset);
}

/*
 * A mapping of an import on our fd covers the dma-buf and nothing more: MAP's offset with
 * a length beyond the buffer's size is refused (EINVAL), the exact size maps the bytes
 * vgem wrote through its own mapping, up to the last word.
 */
TEST_F(prime, import_mmap_beyond_size)
{
	const size_t page = sysconf(_SC_PAGESIZE), len = 2 * page;
	struct drm_virtgpu_map m = { 0 };
	uint32_t vh, ours;
	uint64_t size;
	void *theirs, *mine;
	int dmabuf, err;

	if (self->vgem < 0)
		SKIP(return, "vgem not loaded");
	ASSERT_EQ(0, vgem_dumb(self->vgem, len, &vh, &size));
	ASSERT_EQ(len, size);
	theirs = vgem_map(self->vgem, vh, len);
	ASSERT_NE(MAP_FAILED, theirs);
	vgpu_fill_words(theirs, len, 0x3c3c);
	ASSERT_EQ(0, prime_export(self->vgem, vh, &dmabuf));
	ASSERT_EQ(0, prime_import(self->fd, dmabuf, &ours));
	close(dmabuf);
	m.handle = ours;
	ASSERT_EQ(0, vgpu_ioctl(self->fd, DRM_IOCTL_VIRTGPU_MAP, &m));

	mine = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, m.offset);
	err = errno;
	EXPECT_EQ(MAP_FAILED, mine) TH_LOG("3 pages of a 2-page import mapped");
	EXPECT_EQ(EINVAL, err) TH_LOG("mmap beyond the size: %s", strerror(err));
	if (mine != MAP_FAILED)
		munmap(mine, 3 * page);

	mine = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, m.offset);
	ASSERT_NE(MAP_FAILED, mine) TH_LOG("exact size: %s", strerror(errno));
	EXPECT_EQ(-1, vgpu_check_words(mine, len, 0x3c3c));
	munmap(mine, len);
	munmap(theirs, len);
	EXPECT_EQ(0, vgpu_gem_close(self->fd, ours));
	EXPECT_EQ(0, vgpu_gem_close(self->vgem, vh));
}

struct dmabuf_stats {
	long bufs, attachments;
};

/*
 * Whether @line is all of @fmt (a number, then "%n"): sscanf() alone also counts a line
 * that matches up to the number and differs after it.
 */
static bool total_line(const char *line, const char *fmt, long *n)
{
	int end = -1;

	return sscanf(line, fmt, n, &end) == 1 && end > 0;
}

/*
 * The dma-bufs of the system and their attachments, from
 * /sys/kernel/debug/dma_buf/bufinfo (dma_buf_debug_show() in 7.2): one line per buffer
 * (size, flags, mode, count, exp_name, ino, name: tab-separated, starting with the
 * size's digits), its fences ("\t<usage> fence:..."), then "\tAttached Devices:", one
 * "\t<device>" line per attachment and "Total N devices attached"; at the end
 * "Total N objects, M bytes". The lines are counted and checked against both totals.
 * 0, -errno of the file (-ENOENT without debugfs), or -EPROTO if the counts disagree.
 */
static int dmabuf_stats(struct dmabuf_stats *st)
{
	FILE *f = fopen("/sys/kernel/debug/dma_buf/bufinfo", "re");
	long total_objs = -1, total_att = 0, n;
	bool in_att = false;
	char *line = NULL;
	size_t cap = 0;

	memset(st, 0, sizeof(*st));
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) >= 0) {
		line[strcspn(line, "\n")] = 0;
		if (total_line(line, "Total %ld devices attached%n", &n)) {
			total_att += n;
			in_att = false;
		} else if (total_line(line, "Total %ld objects,%n", &n)) {
			total_objs = n;
		} else if (!strcmp(line, "\tAttached Devices:")) {
			in_att = true;
		} else if (in_att && line[0] == '\t') {
			st->attachments++;
		} else if (line[0] >= '0' && line[0] <= '9' && strchr(line, '\t')) {
			st->bufs++;
			in_att = false;
		}
	}
	free(line);
	fclose(f);
	if (total_objs != st->bufs || total_att != st->attachments)
		return -EPROTO;
	return 0;
}

/* What a leak would change: this process's fds, our objects and ids, the dma-bufs. */
struct leak_snapshot {
	int fds;
	long objs, ids;
	struct dmabuf_stats db;
	int db_ret;
};

static void leak_snapshot(struct leak_snapshot *s)
{
	s->fds = vgpu_fd_count();
	s->objs = vgpu_obj_count();
	s->ids = vgpu_res_id_count();
	s->db_ret = dmabuf_stats(&s->db);
}

static bool leak_same(const struct leak_snapshot *a, const struct leak_snapshot *b)
{
	return a->fds == b->fds && a->objs == b->objs && a->ids == b->ids &&
	       a->db_ret == b->db_ret && a->db.bufs == b->db.bufs &&
	       a->db.attachments == b->db.attachments;
}

/*
 * Takes @now until it equals @before, for up to 5 s: objects are freed by a worker after
 * their last reference, and a dma-buf released there goes through the delayed fput.
 */
static void leak_settle(const struct leak_snapshot *before, struct leak_snapshot *now)
{
	int i;

	leak_snapshot(now);
	for (i = 0; i < 100 && !leak_same(before, now); i++) {
		usleep(50 * 1000);
		leak_snapshot(now);
	}
}

/*
 * With one dma-buf exported and attached by its importer, bufinfo lists exactly one
 * buffer and one attachment more than @before: the leak check below can see a leak.
 */
static void check_one_more(struct __test_metadata *_metadata,
			   const struct leak_snapshot *before, const char *what)
{
	struct dmabuf_stats now;

	ASSERT_EQ(0, dmabuf_stats(&now));
	EXPECT_EQ(before->db.bufs + 1, now.bufs) TH_LOG("%s: dma-bufs listed", what);
	EXPECT_EQ(before->db.attachments + 1, now.attachments)
	TH_LOG("%s: attachments listed", what);
}

static double since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) + (t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/*
 * Export and import cycles, 1000 each way (VGPU_PRIME_CYCLES to change): (a) one of our
 * guest-memory objects (a 2D resource; every other cycle a guest blob if the device has
 * blobs) exported and imported by vgem, then vgem's handle, the dma-buf fd and our handle
 * closed; (b) a vgem dumb buffer exported, imported on our fd, MAP + mmap, its page
 * written and read back, munmap, everything closed (which handle first alternates). Afterwards the
 * process has the same fds, our driver the same objects and resource ids, and the system
 * the same dma-bufs and attachments as before.
 */
TEST_F_TIMEOUT(prime, cycles_leave_nothing, 900)
{
	const char *env = getenv("VGPU_PRIME_CYCLES");
	const unsigned long cycles = env ? strtoul(env, NULL, 0) : 1000;
	const size_t page = sysconf(_SC_PAGESIZE);
	struct leak_snapshot before, after;
	uint32_t bo, vh, ours;
	struct timespec t0;
	void *m;
	unsigned long i;
	uint64_t size;
	int dmabuf;

	if (self->vgem < 0)
		SKIP(return, "vgem not loaded");
	leak_snapshot(&before);
	ASSERT_EQ(0, before.db_ret) TH_LOG("dma_buf/bufinfo: %s", strerror(-before.db_ret));
	ASSERT_GE(before.fds, 0);
	if (before.objs < 0 || before.ids < 0)
		TH_LOG("no virtio-gpu-objects in debugfs (C driver): objects not checked");
	TH_LOG("before: %d fds, %ld objects, %ld resource ids, %ld dma-bufs, %ld attachments",
	       before.fds, before.objs, before.ids, before.db.bufs, before.db.attachments);
	if (!self->blob)
		TH_LOG("no RESOURCE_BLOB: (a) exports 2D resources only");

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < cycles; i++) {
		if (self->blob && i % 2) {
			ASSERT_EQ(0, vgpu_guest_blob(self->fd, page, VIRTGPU_BLOB_FLAG_USE_MAPPABLE |
						     VIRTGPU_BLOB_FLAG_USE_SHAREABLE, &bo, NULL))
			TH_LOG("cycle %lu", i);
		} else {
			struct drm_virtgpu_resource_create rc = {
				.target = 2, .format = 1, .width = 16, .height = 16, .depth = 1,
				.array_size = 1, .bind = 1 << 3, .stride = 64, .size = 16 * 64,
			};

			ASSERT_EQ(0, vgpu_ioctl(self->fd, DRM_IOCTL_VIRTGPU_RESOURCE_CREATE, &rc))
			TH_LOG("cycle %lu", i);
			bo = rc.bo_handle;
		}
		ASSERT_EQ(0, prime_export(self->fd, bo, &dmabuf)) TH_LOG("cycle %lu", i);
		ASSERT_EQ(0, prime_import(self->vgem, dmabuf, &vh)) TH_LOG("cycle %lu", i);
		if (!i)
			check_one_more(_metadata, &before, "vgem's import of ours");
		ASSERT_EQ(0, vgpu_gem_close(self->vgem, vh));
		ASSERT_EQ(0, close(dmabuf));
		ASSERT_EQ(0, vgpu_gem_close(self->fd, bo));
	}
	TH_LOG("(a) %lu export cycles in %.1f s", cycles, since(&t0));

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < cycles; i++) {
		ASSERT_EQ(0, vgem_dumb(self->vgem, page, &vh, &size)) TH_LOG("cycle %lu", i);
		ASSERT_EQ(0, prime_export(self->vgem, vh, &dmabuf)) TH_LOG("cycle %lu", i);
		ASSERT_EQ(0, prime_import(self->fd, dmabuf, &ours)) TH_LOG("cycle %lu", i);
		if (!i)
			check_one_more(_metadata, &before, "our import of vgem's");
		ASSERT_EQ(0, close(dmabuf));
		m = vgpu_map_bo(self->fd, ours, page);
		ASSERT_NE(MAP_FAILED, m) TH_LOG("cycle %lu: %s", i, strerror(errno));
		vgpu_fill_words(m, page, i);
		ASSERT_EQ(-1, vgpu_check_words(m, page, i)) TH_LOG("cycle %lu", i);
		ASSERT_EQ(0, munmap(m, page));
		if (i % 2) {
			ASSERT_EQ(0, vgpu_gem_close(self->vgem, vh));
			ASSERT_EQ(0, vgpu_gem_close(self->fd, ours));
		} else {
			ASSERT_EQ(0, vgpu_gem_close(self->fd, ours));
			ASSERT_EQ(0, vgpu_gem_close(self->vgem, vh));
		}
	}
	TH_LOG("(b) %lu import cycles in %.1f s", cycles, since(&t0));

	leak_settle(&before, &after);
	TH_LOG("after: %d fds, %ld objects, %ld resource ids, %ld dma-bufs, %ld attachments",
	       after.fds, after.objs, after.ids, after.db.bufs, after.db.attachments);
	EXPECT_EQ(before.fds, after.fds) TH_LOG("file descriptors left behind");
	EXPECT_EQ(before.objs, after.objs) TH_LOG("objects left behind");
	EXPECT_EQ(before.ids, after.ids) TH_LOG("resource ids left behind");
	EXPECT_EQ(0, after.db_ret) TH_LOG("dma_buf/bufinfo: %s", strerror(-after.db_ret));
	EXPECT_EQ(before.db.bufs, after.db.bufs) TH_LOG("dma-bufs left behind");
	EXPECT_EQ(before.db.attachments, after.db.attachments) TH_LOG("attachments left behind");
}

/* ---- imports used by the device ---- */

/*
 * A vgem dumb buffer of @rows rows of 4 KiB, mapped through vgem (the exporter) at
 * *@theirs and exported; its vgem handle goes to @handle. The dma-buf fd, or -1.
 */
static int vgem_rows(struct __test_metadata *_metadata, FIXTURE_DATA(prime) *self,
		     uint32_t rows, uint32_t *handle, void **theirs)
{
	const size_t len = (size_t)rows * 4096;
	uint64_t size = 0;
	int dmabuf = -1;

	*theirs = MAP_FAILED;
	EXPECT_EQ(0, vgem_dumb(self->vgem, len, handle, &size));
	if (_metadata->exit_code)
		return -1;
	EXPECT_EQ(len, size);
	*theirs = vgem_map(self->vgem, *handle, len);
	EXPECT_NE(MAP_FAILED, *theirs);
	EXPECT_EQ(0, prime_export(self->vgem, *handle, &dmabuf));
	return dmabuf;
}

/* TRANSFER_TO_HOST (@to) or _FROM_HOST of a @w x @h box at the origin of @bo. */
static int transfer(int fd, bool to, uint32_t bo, uint32_t w, uint32_t h)
{
	struct drm_virtgpu_3d_transfer_to_host t = {
		.bo_handle = bo, .box = { .w = w, .h = h, .d = 1 },
	};

	return vgpu_ioctl(fd, to ? DRM_IOCTL_VIRTGPU_TRANSFER_TO_HOST :
			  DRM_IOCTL_VIRTGPU_TRANSFER_FROM_HOST, &t);
}

static int wait_bo(int fd, uint32_t bo)
{
	struct drm_virtgpu_3d_wait w = { .handle = bo };

	return vgpu_ioctl(fd, DRM_IOCTL_VIRTGPU_WAIT, &w);
}

/* EXECBUFFER without a command listing @bo, with an out-fence when @out is not NULL. */
static int submit_bo(int fd, uint32_t bo, int *out)
{
	struct drm_virtgpu_execbuffer eb = {
		.flags = out ? VIRTGPU_EXECBUF_FENCE_FD_OUT : 0,
		.bo_handles = (uintptr_t)&bo, .num_bo_handles = 1, .fence_fd = -1,
	};
	int ret = vgpu_ioctl(fd, DRM_IOCTL_VIRTGPU_EXECBUFFER, &eb);

	if (!ret && out)
		*out = eb.fence_fd;
	return ret;
}

/* A submission without objects on @fd still completes: its context works. */
static void context_works(struct __test_metadata *_metadata, int fd)
{
	int out = -1;

	ASSERT_EQ(0, vgpu_submit(fd, VIRTGPU_EXECBUF_FENCE_FD_OUT, 0, -1, &out));
	EXPECT_EQ(1, vgpu_fence_wait(out, 10000)) TH_LOG("the context stopped working");
	close(out);
}

/*
 * A foreign buffer used by the device (GL): the first transfer gives the import a host
 * resource (a texture of 1024 B8G8R8A8 pixels per 4 KiB row) over the exporter's pages,
 * which the driver knows only by their DMA addresses. Bytes written through vgem go to the
 * host; wiped through vgem, a transfer back restores them: the device read and wrote the
 * exporter's memory. RESOURCE_INFO names the resource; closing frees it and the
 * attachment (the debugfs object list and vgem's module refcount are back).
 */
TEST_F(prime, import_transfer_roundtrip)
{
	const uint32_t rows = 16;
	const size_t len = rows * 4096;
	struct drm_virtgpu_resource_info ri = { 0 };
	long objs = vgpu_obj_count();
	uint32_t vh, ours;
	void *theirs;
	int dmabuf;

	if (self->vgem < 0)
		SKIP(return, "vgem not loaded");
	if (vgpu_getparam(self->fd, VIRTGPU_PARAM_3D_FEATURES) != 1)
		SKIP(return, "no virgl 3D: TRANSFER_FROM_HOST needs it (see import_transfer_2d)");
	dmabuf = vgem_rows(_metadata, self, rows, &vh, &theirs);
	ASSERT_GE(dmabuf, 0);
	vgpu_fill_words(theirs, len, 0x5a5a);
	ASSERT_EQ(0, prime_import(self->fd, dmabuf, &ours));
	close(dmabuf);
	EXPECT_EQ(objs, vgpu_obj_count()) TH_LOG("an unused import is not on the host");

	ASSERT_EQ(0, transfer(self->fd, true, ours, 1024, rows));
	ASSERT_EQ(0, wait_bo(self->fd, ours));
	EXPECT_EQ(objs + 1, vgpu_obj_count()) TH_LOG("no host resource after the first use");
	memset(theirs, 0, len);
	ASSERT_EQ(0, transfer(self->fd, false, ours, 1024, rows));
	ASSERT_EQ(0, wait_bo(self->fd, ours));
	EXPECT_EQ(-1, vgpu_check_words(theirs, len, 0x5a5a))
	TH_LOG("the host's copy did not come back into the exporter's pages");

	ri.bo_handle = ours;
	ASSERT_EQ(0, vgpu_ioctl(self->fd, DRM_IOCTL_VIRTGPU_RESOURCE_INFO, &ri));
	EXPECT_NE(0, ri.res_handle);
	EXPECT_EQ(0, ri.blob_mem);
	EXPECT_EQ(len, ri.size);

	munmap(theirs, len);
	EXPECT_EQ(0, vgpu_gem_close(self->vgem, vh));
	EXPECT_EQ(0, vgpu_gem_close(self->fd, ours));
	EXPECT_EQ(objs, vgpu_obj_count_settle(objs));
}

/*
 * The 2D device has no read-back, but an import still gets a 2D resource over its pages
 * at its first transfer, and the device takes the transfers (and keeps answering).
 */
TEST_F(prime, import_transfer_2d)
{
	long objs = vgpu_obj_count();
	uint32_t vh, ours;
	void *theirs;
	int dmabuf;

	if (self->vgem < 0)
		SKIP(return, "vgem not loaded");
	if (vgpu_getparam(self->fd, VIRTGPU_PARAM_3D_FEATURES) == 1)
		SKIP(return, "virgl 3D: see import_transfer_roundtrip");
	dmabuf = vgem_rows(_metadata, self, 4, &vh, &theirs);
	ASSERT_GE(dmabuf, 0);
	ASSERT_EQ(0, prime_import(self->fd, dmabuf, &ours));
	close(dmabuf);
	ASSERT_EQ(0, transfer(self->fd, true, ours, 1024, 4));
	ASSERT_EQ(0, transfer(self->fd, true, ours, 16, 2));
	EXPECT_EQ(objs + 1, vgpu_obj_count());
	EXPECT_EQ(-ENOSYS, transfer(self->fd, false, ours, 16, 2));
	munmap(theirs, 4 * 4096);
	EXPECT_EQ(0, vgpu_gem_close(self->vgem, vh));
	EXPECT_EQ(0, vgpu_gem_close(self->fd, ours));
	EXPECT_EQ(objs, vgpu_obj_count_settle(objs));
}

/*
 * A virgl (GL) context cannot use a foreign buffer on this host: the submission naming
 * it fails with EOPNOTSUPP before anything reaches the host, and the context keeps
 * working (the failure that made upstream revert imports with 3D killed the context).
 */
TEST_F(prime, import_submit_virgl_refused)
{
	long objs = vgpu_obj_count();
	uint32_t vh, ours;
	void *theirs;
	int dmabuf, out = -1;

	if (self->vgem < 0)
		SKIP(return, "vgem not loaded");
	if (vgpu_getparam(self->fd, VIRTGPU_PARAM_3D_FEATURES) != 1)
		SKIP(return, "no virgl 3D: EXECBUFFER is ENOSYS");
	dmabuf = vgem_rows(_metadata, self, 4, &vh, &theirs);
	ASSERT_GE(dmabuf, 0);
	ASSERT_EQ(0, prime_import(self->fd, dmabuf, &ours));
	close(dmabuf);
	context_works(_metadata, self->fd);
	EXPECT_EQ(-EOPNOTSUPP, submit_bo(self->fd, ours, &out));
	EXPECT_EQ(objs, vgpu_obj_count()) TH_LOG("a refused use created a host resource");
	context_works(_metadata, self->fd);
	/* A use the host serves still works on this context. */
	vgpu_fill_words(theirs, 4 * 4096, 0x3c3c);
	ASSERT_EQ(0, transfer(self->fd, true, ours, 1024, 4));
	memset(theirs, 0, 4 * 4096);
	ASSERT_EQ(0, transfer(self->fd, false, ours, 1024, 4));
	ASSERT_EQ(0, wait_bo(self->fd, ours));
	EXPECT_EQ(-1, vgpu_check_words(theirs, 4 * 4096, 0x3c3c));
	/* Having a host resource now changes nothing for the GL context. */
	EXPECT_EQ(-EOPNOTSUPP, submit_bo(self->fd, ours, NULL));
	context_works(_metadata, self->fd);
	munmap(theirs, 4 * 4096);
	EXPECT_EQ(0, vgpu_gem_close(self->vgem, vh));
	EXPECT_EQ(0, vgpu_gem_close(self->fd, ours));
	EXPECT_EQ(objs, vgpu_obj_count_settle(objs));
}

/* ---- vgpu_ptprobe's test exporter: dynamic, movable, optionally without mmap ---- */

/* A test export of @len bytes (with mmap unless @nommap): its dma-buf fd, or -errno. */
static int test_export(size_t len, bool nommap)
{
	char cmd[48], line[64] = "";
	int fd = -1, r = -1, ret;

	snprintf(cmd, sizeof(cmd), "export %zu%s", len, nommap ? " nommap" : "");
	ret = ptprobe_cmd(cmd, line, sizeof(line));
	if (ret)
		return ret;
	if (sscanf(line, "fd=%d ret=%d", &fd, &r) != 2)
		return -EPROTO;
	return r ? r : fd;
}

struct export_stat {
	unsigned int pins, maps, gen, moves, mapcalls, vmaps;
};

static int test_export_stat(int dmabuf, struct export_stat *st)
{
	char cmd[32], line[128] = "";
	int r = -1, ret;

	snprintf(cmd, sizeof(cmd), "stat %d", dmabuf);
	ret = ptprobe_cmd(cmd, line, sizeof(line));
	if (ret)
		return ret;
	if (sscanf(line, "pins=%u maps=%u gen=%u moves=%u mapcalls=%u vmaps=%u ret=%d",
		   &st->pins, &st->maps, &st->gen, &st->moves, &st->mapcalls, &st->vmaps,
		   &r) != 7)
		return -EPROTO;
	return r;
}

/* Moves test export @dmabuf to new pages; the sg tables still mapped over the old ones go
 * to @mapped. 0 or -errno. */
static int test_export_move(int dmabuf, unsigned int *mapped)
{
	char cmd[32], line[128] = "";
	unsigned int moved, pins;
	int r = -1, ret;

	snprintf(cmd, sizeof(cmd), "move %d", dmabuf);
	ret = ptprobe_cmd(cmd, line, sizeof(line));
	if (ret)
		return ret;
	if (sscanf(line, "moved=%u pins=%u mapped=%u ret=%d", &moved, &pins, mapped, &r) != 4)
		return -EPROTO;
	return r;
}

/*
 * An exporter that moves its buffer (dynamic: it has pin/unpin and calls the importers'
 * invalidate_mappings): our import is attached dynamically, so it neither pins the
 * buffer nor keeps its mapping. At the move the host resource loses its backing and the
 * attachment is unmapped before the exporter copies the bytes and poisons the old pages;
 * the next use maps the new pages and attaches them. With virgl, bytes the host holds come
 * back into the new pages (a stale attachment would write the poisoned old ones); on the
 * 2D device the new pages are mapped and transferred from.
 */
TEST_F(prime, import_follows_exporter_move)
{
	const uint32_t rows = 16;
	const size_t len = rows * 4096;
	bool gl = vgpu_getparam(self->fd, VIRTGPU_PARAM_3D_FEATURES) == 1;
	struct export_stat st;
	unsigned int mapped = 99;
	long objs = vgpu_obj_count();
	uint32_t ours;
	void *theirs;
	int dmabuf;

	dmabuf = test_export(len, false);
	ASSERT_GE(dmabuf, 0) TH_LOG("vgpu_ptprobe export: %s", strerror(-dmabuf));
	theirs = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, dmabuf, 0);
	ASSERT_NE(MAP_FAILED, theirs);
	vgpu_fill_words(theirs, len, 0x1111);
	ASSERT_EQ(0, prime_import(self->fd, dmabuf, &ours));
	ASSERT_EQ(0, test_export_stat(dmabuf, &st));
	EXPECT_EQ(0, st.mapcalls) TH_LOG("an unused import mapped the buffer");

	ASSERT_EQ(0, transfer(self->fd, true, ours, 1024, rows));
	ASSERT_EQ(0, test_export_stat(dmabuf, &st));
	EXPECT_EQ(1, st.maps);
	EXPECT_EQ(0, st.pins) TH_LOG("a dynamic importer's mapping pinned the buffer");

	ASSERT_EQ(0, test_export_move(dmabuf, &mapped)) TH_LOG("the exporter could not move");
	EXPECT_EQ(0, mapped) TH_LOG("our mapping of the old pages outlived the move");
	ASSERT_EQ(0, test_export_stat(dmabuf, &st));
	EXPECT_EQ(1, st.gen);
	EXPECT_EQ(0, st.maps);
	EXPECT_EQ(-1, vgpu_check_words(theirs, len, 0x1111)) TH_LOG("the move lost bytes");

	if (gl) {
		memset(theirs, 0, len);
		ASSERT_EQ(0, transfer(self->fd, false, ours, 1024, rows));
		ASSERT_EQ(0, wait_bo(self->fd, ours));
		EXPECT_EQ(-1, vgpu_check_words(theirs, len, 0x1111))
		TH_LOG("the host did not write the new pages");
	} else {
		ASSERT_EQ(0, transfer(self->fd, true, ours, 1024, rows));
	}
	ASSERT_EQ(0, test_export_stat(dmabuf, &st));
	EXPECT_EQ(2, st.mapcalls) TH_LOG("the next use did not map the new pages");
	EXPECT_EQ(1, st.maps);

	/* Moving again, then closing without another use. */
	ASSERT_EQ(0, test_export_move(dmabuf, &mapped));
	EXPECT_EQ(0, mapped);
	munmap(theirs, len);
	EXPECT_EQ(0, vgpu_gem_close(self->fd, ours));
	EXPECT_EQ(objs, vgpu_obj_count_settle(objs));
	ASSERT_EQ(0, test_export_stat(dmabuf, &st));
	EXPECT_EQ(0, st.maps);
	close(dmabuf);
}

/*
 * An import whose exporter has no mmap: MAP refuses it (ENODEV) rather than handing out
 * an offset whose mmap would fail; device use is unaffected.
 */
TEST_F(prime, import_without_exporter_mmap)
{
	struct drm_virtgpu_map m = { 0 };
	uint32_t ours;
	int dmabuf;

	dmabuf = test_export(4 * 4096, true);
	ASSERT_GE(dmabuf, 0) TH_LOG("vgpu_ptprobe export: %s", strerror(-dmabuf));
	errno = 0;
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 4096, PROT_READ, MAP_SHARED, dmabuf, 0));
	EXPECT_EQ(EINVAL, errno) TH_LOG("the exporter's own mmap refusal");
	ASSERT_EQ(0, prime_import(self->fd, dmabuf, &ours));
	close(dmabuf);
	m.handle = ours;
	EXPECT_EQ(-ENODEV, vgpu_ioctl(self->fd, DRM_IOCTL_VIRTGPU_MAP, &m));
	EXPECT_EQ(0, transfer(self->fd, true, ours, 1024, 4));
	EXPECT_EQ(0, vgpu_gem_close(self->fd, ours));
}

/*
 * A venus context takes memory by resource id: a submission naming an import gives it a
 * guest blob over the exporter's pages (RESOURCE_INFO says BLOB_MEM_GUEST), attached to
 * the context, and completes; transfers of a guest blob are then EINVAL, as for ours.
 */
TEST_F(prime, import_submit_venus)
{
	struct drm_virtgpu_resource_info ri = { 0 };
	long objs = vgpu_obj_count();
	uint32_t vh, ours;
	char path[64];
	void *theirs;
	int dmabuf, vfd, out = -1;

	if (self->vgem < 0)
		SKIP(return, "vgem not loaded");
	if (!(vgpu_getparam(self->fd, VIRTGPU_PARAM_SUPPORTED_CAPSET_IDs) & (1 << 4)))
		SKIP(return, "no venus capset");
	vfd = vgpu_open_render(path, sizeof(path));
	ASSERT_GE(vfd, 0);
	ASSERT_EQ(0, vgpu_ctx_init_capset(vfd, 4));
	dmabuf = vgem_rows(_metadata, self, 4, &vh, &theirs);
	ASSERT_GE(dmabuf, 0);
	ASSERT_EQ(0, prime_import(vfd, dmabuf, &ours));
	close(dmabuf);
	ASSERT_EQ(0, submit_bo(vfd, ours, &out));
	EXPECT_EQ(1, vgpu_fence_wait(out, 10000));
	close(out);
	EXPECT_EQ(objs + 1, vgpu_obj_count());
	ri.bo_handle = ours;
	ASSERT_EQ(0, vgpu_ioctl(vfd, DRM_IOCTL_VIRTGPU_RESOURCE_INFO, &ri));
	EXPECT_EQ(VIRTGPU_BLOB_MEM_GUEST, ri.blob_mem);
	EXPECT_EQ(-EINVAL, transfer(vfd, true, ours, 1024, 4));
	context_works(_metadata, vfd);
	munmap(theirs, 4 * 4096);
	EXPECT_EQ(0, vgpu_gem_close(self->vgem, vh));
	EXPECT_EQ(0, vgpu_gem_close(vfd, ours));
	close(vfd);
	EXPECT_EQ(objs, vgpu_obj_count_settle(objs));
}

#define VGEM_REFCNT "/sys/module/vgem/refcnt"

static long vgem_refcnt(void)
{
	FILE *f = fopen(VGEM_REFCNT, "re");
	long n = -1;

	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

/* delete_module("vgem") as rmmod does (O_NONBLOCK: refuse while in use); 0 or -errno. */
static int rmmod_vgem(void)
{
	return syscall(__NR_delete_module, "vgem", O_NONBLOCK) ? -errno : 0;
}

/*
 * An import holds the exporter's module: with only our handle to a vgem buffer left (its
 * dma-buf fd, vgem's handle and vgem's file closed), vgem cannot be unloaded (EWOULDBLOCK)
 * and the import still has vgem's bytes; once our handle is closed it can. vgem is loaded
 * again for the tests that follow.
 */
TEST_F(prime, vgem_unload_pinned_by_import)
{
	const size_t len = 4 * sysconf(_SC_PAGESIZE);
	uint32_t vh, ours;
	struct timespec t0;
	int dmabuf, ret, i, status;
	uint64_t size;
	void *theirs, *mine;

	if (self->vgem < 0)
		SKIP(return, "vgem not loaded");
	if (access(VGEM_REFCNT, R_OK))
		SKIP(return, "vgem is built in (no %s): it cannot be unloaded", VGEM_REFCNT);
	ASSERT_EQ(0, vgem_dumb(self->vgem, len, &vh, &size));
	theirs = vgem_map(self->vgem, vh, len);
	ASSERT_NE(MAP_FAILED, theirs);
	vgpu_fill_words(theirs, len, 0x4b4b);
	munmap(theirs, len); /* the mapping would hold vgem's file */
	ASSERT_EQ(0, prime_export(self->vgem, vh, &dmabuf));
	ASSERT_EQ(0, prime_import(self->fd, dmabuf, &ours));
	close(dmabuf);
	EXPECT_EQ(0, vgpu_gem_close(self->vgem, vh));
	close(self->vgem);
	self->vgem = -1;

	/* From here on vgem must end up loaded: no ASSERT until it is. */
	TH_LOG("vgem refcnt with our import alive: %ld", vgem_refcnt());
	ret = rmmod_vgem();
	EXPECT_EQ(-EWOULDBLOCK, ret) TH_LOG("rmmod vgem with an import alive: %s",
					   ret ? strerror(-ret) : "unloaded");
	if (!ret) {
		/* Nothing to compare with any more; closing the handle may well crash. */
		TH_LOG("vgem unloaded under a live import");
	} else {
		mine = vgpu_map_bo(self->fd, ours, len);
		EXPECT_NE(MAP_FAILED, mine) TH_LOG("MAP + mmap of the import: %s", strerror(errno));
		if (mine != MAP_FAILED) {
			EXPECT_EQ(-1, vgpu_check_words(mine, len, 0x4b4b));
			munmap(mine, len);
		}
	}
	EXPECT_EQ(0, vgpu_gem_close(self->fd, ours));

	/* Our object, and with it the dma-buf, may be released by a worker: up to 5 s. */
	if (ret) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (i = 0; i < 100 && (ret = rmmod_vgem()) == -EWOULDBLOCK; i++)
			usleep(50 * 1000);
		EXPECT_EQ(0, ret) TH_LOG("rmmod vgem after our handle closed: %s (refcnt %ld)",
					 strerror(-ret), vgem_refcnt());
		if (!ret)
			TH_LOG("vgem unloaded %.2f s after our handle was closed", since(&t0));
	}

	if (access("/sys/module/vgem", F_OK)) {
		status = system("modprobe vgem");
		ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("modprobe vgem failed (status %#x): the tests after this one lose vgem",
		       status);
	}
	self->vgem = open_vgem();
	ASSERT_GE(self->vgem, 0) TH_LOG("vgem reloaded but no vgem card node");
}

TEST_HARNESS_MAIN
