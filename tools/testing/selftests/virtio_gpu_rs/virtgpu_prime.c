// SPDX-License-Identifier: GPL-2.0
/*
 * virtio_gpu_rs PRIME: our objects exported as dma-bufs and imported by another driver
 * (vgem, which attaches and pins them; its shmem import maps the attachment only when it
 * needs the pages), contents checked through the dma-buf's own mapping both ways;
 * self-import identity.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
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
	struct drm_prime_handle p = { .handle = handle, .flags = DRM_CLOEXEC | DRM_RDWR };
	int ret = vgpu_ioctl(fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &p);

	if (!ret)
		*dmabuf = p.fd;
	return ret;
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

/* "dmamap" of vgpu_ptprobe: a device's view of dma-buf @dmabuf through its DMA addresses. */
static int ptprobe_dmamap(int dmabuf, unsigned int *nents, size_t *len, uint32_t *sum)
{
	char cmd[32], line[128] = "";
	int fd = open(VGPU_PTPROBE, O_RDWR | O_CLOEXEC), ret, r = -1;
	ssize_t n;

	if (fd < 0)
		return -errno;
	snprintf(cmd, sizeof(cmd), "dmamap %d", dmabuf);
	if (write(fd, cmd, strlen(cmd)) < 0) {
		ret = -errno;
	} else {
		n = pread(fd, line, sizeof(line) - 1, 0);
		ret = n > 0 && sscanf(line, "nents=%u len=%zu sum=0x%x ret=%d", nents, len, sum,
				      &r) == 4 ? r : -EPROTO;
	}
	close(fd);
	return ret;
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

/* The /proc/self/maps line of the mapping at @addr, "" if none. */
static void maps_line(const void *addr, char *out, size_t len)
{
	unsigned long a = (unsigned long)addr, lo, hi;
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");

	out[0] = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && a >= lo && a < hi) {
			line[strcspn(line, "\n")] = 0;
			snprintf(out, len, "%s", line);
			break;
		}
	}
	fclose(f);
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
	maps_line(mine, line, sizeof(line));
	TH_LOG("%s", line);
	EXPECT_NE(NULL, strstr(line, "dmabuf")) TH_LOG("not the dma-buf's mapping");
	EXPECT_EQ(NULL, strstr(line, "/dev/dri")) TH_LOG("still our DRM node's mapping");
	return mine;
}

/*
 * A foreign dma-buf (a vgem dumb buffer) imported on our render node: MAP + mmap on our
 * fd is the exporter's mapping (dma_buf_mmap(): /proc/self/maps names the dma-buf's file,
 * not our DRM node), bytes written through vgem's mapping are read through ours and back.
 * The import outlives the exporter's handle and fd. It has no host resource: a transfer
 * or a submission naming it is refused (EINVAL).
 */
TEST_F(prime, vgem_import_mmap_is_the_exporters)
{
	struct drm_mode_create_dumb cd = { .width = 64, .height = 64, .bpp = 32 };
	struct drm_mode_map_dumb md = { 0 };
	struct drm_virtgpu_3d_transfer_to_host t = { 0 };
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

	t.bo_handle = ours;
	t.box.w = 1;
	t.box.h = 1;
	t.box.d = 1;
	EXPECT_EQ(-EINVAL, vgpu_ioctl(self->fd, DRM_IOCTL_VIRTGPU_TRANSFER_TO_HOST, &t));
	if (vgpu_getparam(self->fd, VIRTGPU_PARAM_3D_FEATURES) == 1) {
		struct drm_virtgpu_execbuffer eb = {
			.bo_handles = (uintptr_t)&ours, .num_bo_handles = 1, .fence_fd = -1,
		};

		EXPECT_EQ(-EINVAL, vgpu_ioctl(self->fd, DRM_IOCTL_VIRTGPU_EXECBUFFER, &eb));
	}
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

TEST_HARNESS_MAIN
