// SPDX-License-Identifier: GPL-2.0
/*
 * The `make run` walk-through of PRIME: a vgem dumb buffer imported on our render node
 * and mapped through our fd (the mapping is the exporter's: /proc/self/maps names the
 * dma-buf, not our DRM node); one of our resources exported and imported by vgem; on the
 * GL device, the vgem import used by the host through transfers. Not a test: it prints
 * "ok" or "FAILED: why" per step, keeps going after a failure and exits 0 unless it found
 * no virtio_gpu render node. Without vgem it says so and shows nothing.
 */
#include <sys/mman.h>
#include <drm/drm_mode.h>
#include "virtgpu_util.h"
#include "virtgpu_blob.h"

/* The vgem dumb buffer: 1024 px of 32 bpp per 4 KiB row, as an import's host texture. */
#define ROWS 16
#define ROW_BYTES 4096
#define VGEM_LEN (ROWS * ROW_BYTES)

static int fd, vgem, failures;
static char node[64];

static void step(const char *what, int err)
{
	if (err) {
		printf("  %s: FAILED: %s\n", what, strerror(err < 0 ? -err : err));
		failures++;
	} else {
		printf("  %s: ok\n", what);
	}
}

/* A content check: @bad is vgpu_check_words()'s first differing word, or -1. */
static void check(const char *what, long bad)
{
	if (bad < 0) {
		printf("  %s: ok\n", what);
	} else {
		printf("  %s: FAILED: word %ld differs\n", what, bad);
		failures++;
	}
}

static int prime_export(int dev, uint32_t handle, int *dmabuf)
{
	struct drm_prime_handle p = { .handle = handle, .flags = DRM_CLOEXEC | DRM_RDWR };
	int ret = vgpu_ioctl(dev, DRM_IOCTL_PRIME_HANDLE_TO_FD, &p);

	if (!ret)
		*dmabuf = p.fd;
	return ret;
}

static int prime_import(int dev, int dmabuf, uint32_t *handle)
{
	struct drm_prime_handle p = { .fd = dmabuf };
	int ret = vgpu_ioctl(dev, DRM_IOCTL_PRIME_FD_TO_HANDLE, &p);

	if (!ret)
		*handle = p.handle;
	return ret;
}

static int transfer(bool to, uint32_t bo, uint32_t w, uint32_t h)
{
	struct drm_virtgpu_3d_transfer_to_host t = {
		.bo_handle = bo, .box = { .w = w, .h = h, .d = 1 },
	};

	return vgpu_ioctl(fd, to ? DRM_IOCTL_VIRTGPU_TRANSFER_TO_HOST :
			  DRM_IOCTL_VIRTGPU_TRANSFER_FROM_HOST, &t);
}

static int wait_bo(uint32_t bo)
{
	struct drm_virtgpu_3d_wait w = { .handle = bo };

	return vgpu_ioctl(fd, DRM_IOCTL_VIRTGPU_WAIT, &w);
}

/*
 * The host uses the import (GL device): its first transfer gives it a host texture over
 * vgem's pages; wiped through vgem, a transfer back restores the bytes there.
 */
static void import_device_use(uint32_t ours, void *theirs)
{
	struct drm_virtgpu_resource_info ri = { .bo_handle = ours };
	char what[128];
	int ret;

	if (vgpu_getparam(fd, VIRTGPU_PARAM_3D_FEATURES) != 1) {
		printf("  device use: skipped (no virgl 3D on this device: no TRANSFER_FROM_HOST)\n");
		return;
	}
	vgpu_fill_words(theirs, VGEM_LEN, 0x5a5a);
	ret = transfer(true, ours, 1024, ROWS);
	if (!ret)
		ret = wait_bo(ours);
	snprintf(what, sizeof(what), "TRANSFER_TO_HOST of the import (box 1024x%d px) + WAIT",
		 ROWS);
	step(what, ret);
	if (ret)
		return;
	ret = vgpu_ioctl(fd, DRM_IOCTL_VIRTGPU_RESOURCE_INFO, &ri);
	if (ret)
		step("RESOURCE_INFO of the import", ret);
	else
		printf("  the import now has host resource %u (%u bytes)\n", ri.res_handle,
		       ri.size);
	memset(theirs, 0, VGEM_LEN); /* vgem maps WC (Normal-NC), not Device: memset is fine */
	ret = transfer(false, ours, 1024, ROWS);
	if (!ret)
		ret = wait_bo(ours);
	step("wiped through vgem's mapping, TRANSFER_FROM_HOST + WAIT", ret);
	if (!ret)
		check("the host's copy came back into vgem's pages, read through vgem's mapping",
		      vgpu_check_words(theirs, VGEM_LEN, 0x5a5a));
}

/* 1 and 3: a vgem dumb buffer imported on our fd, mapped there, used by the device. */
static void vgem_to_us(void)
{
	struct drm_mode_create_dumb cd = { .width = 1024, .height = ROWS, .bpp = 32 };
	struct drm_mode_map_dumb md = { 0 };
	void *theirs = MAP_FAILED, *mine = MAP_FAILED;
	uint32_t ours = 0;
	char line[512], what[160];
	int dmabuf = -1, ret;

	printf("a vgem dumb buffer (1024x%d px, 32 bpp) imported on our fd:\n", ROWS);
	ret = vgpu_ioctl(vgem, DRM_IOCTL_MODE_CREATE_DUMB, &cd);
	if (!ret && cd.size != VGEM_LEN)
		ret = -EPROTO;
	if (!ret) {
		md.handle = cd.handle;
		ret = vgpu_ioctl(vgem, DRM_IOCTL_MODE_MAP_DUMB, &md);
	}
	if (!ret) {
		theirs = mmap(NULL, VGEM_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, vgem, md.offset);
		if (theirs == MAP_FAILED)
			ret = -errno;
	}
	snprintf(what, sizeof(what), "CREATE_DUMB on vgem (%d bytes), filled through vgem's mapping",
		 VGEM_LEN);
	step(what, ret);
	if (ret)
		goto out;
	vgpu_fill_words(theirs, VGEM_LEN, 0x6e6e);

	ret = prime_export(vgem, cd.handle, &dmabuf);
	step("exported by vgem (PRIME HANDLE_TO_FD)", ret);
	if (ret)
		goto out;
	ret = prime_import(fd, dmabuf, &ours);
	close(dmabuf);
	snprintf(what, sizeof(what), "imported on %s (PRIME FD_TO_HANDLE)", node);
	step(what, ret);
	if (ret)
		goto out;

	mine = vgpu_map_bo(fd, ours, VGEM_LEN);
	ret = mine == MAP_FAILED ? -errno : 0;
	step("DRM_IOCTL_VIRTGPU_MAP + mmap on our fd", ret);
	if (ret)
		goto out;
	vgpu_maps_line(mine, line, sizeof(line));
	printf("  our mapping in /proc/self/maps:\n    %s\n", line);
	if (strstr(line, "/dmabuf:") && !strstr(line, "/dev/dri")) {
		printf("  it is the exporter's mapping (the dma-buf's file, not %s): ok\n", node);
	} else {
		printf("  it is the exporter's mapping: FAILED: the line names no /dmabuf:\n");
		failures++;
	}
	check("the bytes vgem wrote, read through our mapping",
	      vgpu_check_words(mine, VGEM_LEN, 0x6e6e));
	vgpu_fill_words(mine, VGEM_LEN, 0x7a7a);
	check("bytes written through ours, read through vgem's mapping",
	      vgpu_check_words(theirs, VGEM_LEN, 0x7a7a));
	munmap(mine, VGEM_LEN);

	import_device_use(ours, theirs);
out:
	if (theirs != MAP_FAILED)
		munmap(theirs, VGEM_LEN);
	if (ours)
		vgpu_gem_close(fd, ours);
	if (cd.handle)
		vgpu_gem_close(vgem, cd.handle);
}

/* 2: one of our resources exported and imported by vgem, mapped through the dma-buf. */
static void us_to_vgem(void)
{
	const size_t len = 64 * 64 * 4;
	struct drm_virtgpu_resource_create rc = {
		.target = 2, .format = VIRGL_FORMAT_B8G8R8A8_UNORM, .width = 64, .height = 64,
		.depth = 1, .array_size = 1, .bind = VIRGL_BIND_SAMPLER_VIEW, .stride = 256,
		.size = len,
	};
	void *mine = MAP_FAILED, *theirs = MAP_FAILED;
	uint32_t vh = 0;
	char line[512], what[160];
	int dmabuf = -1, ret;

	printf("one of our objects exported to vgem:\n");
	ret = vgpu_ioctl(fd, DRM_IOCTL_VIRTGPU_RESOURCE_CREATE, &rc);
	if (!ret) {
		mine = vgpu_map_bo(fd, rc.bo_handle, len);
		if (mine == MAP_FAILED)
			ret = -errno;
	}
	snprintf(what, sizeof(what),
		 "RESOURCE_CREATE 64x64 B8G8R8A8 (resource %u), filled through our mapping",
		 rc.res_handle);
	step(what, ret);
	if (ret)
		goto out;
	vgpu_fill_words(mine, len, 0x1234);

	ret = prime_export(fd, rc.bo_handle, &dmabuf);
	step("exported (PRIME HANDLE_TO_FD on our fd)", ret);
	if (ret)
		goto out;
	ret = prime_import(vgem, dmabuf, &vh);
	step("imported by vgem (PRIME FD_TO_HANDLE on vgem's fd: it attaches and pins it)",
	     ret);
	if (ret)
		goto out;
	theirs = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, dmabuf, 0);
	ret = theirs == MAP_FAILED ? -errno : 0;
	step("mmap of the dma-buf fd", ret);
	if (ret)
		goto out;
	vgpu_maps_line(theirs, line, sizeof(line));
	printf("  the dma-buf's mapping in /proc/self/maps:\n    %s\n", line);
	check("our bytes, read through the dma-buf's mapping",
	      vgpu_check_words(theirs, len, 0x1234));
	vgpu_fill_words(theirs, len, 0xabcd);
	check("bytes written through the dma-buf's mapping, read through ours",
	      vgpu_check_words(mine, len, 0xabcd));
out:
	if (theirs != MAP_FAILED)
		munmap(theirs, len);
	if (dmabuf >= 0)
		close(dmabuf);
	if (vh)
		vgpu_gem_close(vgem, vh);
	if (mine != MAP_FAILED)
		munmap(mine, len);
	if (rc.bo_handle)
		vgpu_gem_close(fd, rc.bo_handle);
}

int main(void)
{
	char vpath[64];

	setvbuf(stdout, NULL, _IOLBF, 0);
	fd = vgpu_open_render(node, sizeof(node));
	if (fd < 0) {
		printf("no virtio_gpu render node\n");
		return 1;
	}
	vgem = vgpu_open_dri("card", 0, 63, "vgem", vpath, sizeof(vpath));
	if (vgem < 0) {
		printf("no vgem card node (vgem not loaded): PRIME skipped\n");
		close(fd);
		return 0;
	}
	printf("render node %s, vgem %s\n", node, vpath);
	vgem_to_us();
	us_to_vgem();
	if (failures)
		printf("PRIME: %d step(s) FAILED\n", failures);
	else
		printf("PRIME: every step ok\n");
	close(vgem);
	close(fd);
	return 0;
}
