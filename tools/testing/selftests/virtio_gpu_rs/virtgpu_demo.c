// SPDX-License-Identifier: GPL-2.0
/*
 * The `make run` walk-through: a guest blob and a host blob created, mapped, written and
 * read back; each host blob's map_info with the memory type its mapping got, read from
 * the page-table entry (vgpu_ptprobe); the objects as debugfs lists them while they live.
 * Not a test: it prints what happens and exits 0 unless something could not be shown.
 */
#include <sys/mman.h>
#include "virtgpu_util.h"
#include "virtgpu_blob.h"

static int fd;

static void show_debugfs(const char *file)
{
	char buf[8192];

	printf("  --- debugfs %s ---\n", file);
	if (vgpu_debugfs_read(file, buf, sizeof(buf)))
		printf("  (unreadable)\n");
	else
		printf("%s", buf);
}

static long roundtrip(uint32_t bo, size_t size, const char *what)
{
	void *a = vgpu_map_bo(fd, bo, size), *b;
	char mt[32] = "?";
	long bad;

	if (a == MAP_FAILED) {
		printf("  %s: mmap failed: %s\n", what, strerror(errno));
		return -2;
	}
	vgpu_fill_words(a, size, 0x1234);
	vgpu_pte_memtype(a, mt, sizeof(mt));
	munmap(a, size);
	b = vgpu_map_bo(fd, bo, size);
	if (b == MAP_FAILED) {
		printf("  %s: second mmap failed: %s\n", what, strerror(errno));
		return -2;
	}
	bad = vgpu_check_words(b, size, 0x1234);
	printf("  %s: wrote %zu bytes through one mapping, read them back through a second: %s;"
	       " PTE memory type %s\n", what, size, bad < 0 ? "intact" : "CORRUPT", mt);
	munmap(b, size);
	return bad;
}

/* A host blob mapped while the map_info override reports @value; prints what happened. */
static void override_demo(uint32_t value)
{
	uint32_t bo, res;
	char mt[32] = "?", v[16];
	void *p;

	snprintf(v, sizeof(v), "%#x", value);
	vgpu_debugfs_write("virtio-gpu-map-info-override", v);
	vgpu_debugfs_write("virtio-gpu-map-info-override-enable", "1");
	if (vgpu_host_blob(fd, 4096, VIRTGPU_BLOB_FLAG_USE_MAPPABLE, 0, &bo, &res)) {
		printf("  map_info %#x: host blob creation failed: %s\n", value, strerror(errno));
		goto out;
	}
	p = vgpu_map_bo(fd, bo, 4096);
	if (p == MAP_FAILED) {
		printf("  map_info %#x: mmap refused (%s)\n", value, strerror(errno));
	} else {
		*(volatile uint32_t *)p = 1;
		vgpu_pte_memtype(p, mt, sizeof(mt));
		printf("  map_info %#x: mapping got PTE memory type %s\n", value, mt);
		munmap(p, 4096);
	}
	vgpu_gem_close(fd, bo);
out:
	vgpu_debugfs_write("virtio-gpu-map-info-override-enable", "0");
}

int main(void)
{
	const size_t size = 64 * 1024;
	uint32_t gbo, gres, hbo, hres;
	bool hostblobs;
	char path[64];

	setvbuf(stdout, NULL, _IOLBF, 0);
	fd = vgpu_open_render(path, sizeof(path));
	if (fd < 0) {
		printf("no virtio_gpu render node\n");
		return 1;
	}
	printf("render node %s\n", path);
	if (vgpu_getparam(fd, VIRTGPU_PARAM_RESOURCE_BLOB) != 1) {
		printf("this device has no blob resources (2D configuration): nothing to show\n");
		return 0;
	}

	/* Mesa's order: the context first (any object creation makes the default one). */
	hostblobs = vgpu_getparam(fd, VIRTGPU_PARAM_HOST_VISIBLE) == 1 &&
		    vgpu_ctx_init_capset(fd, VIRTGPU_DRM_CAPSET_VIRGL2) == 0;
	if (hostblobs)
		printf("context: virgl2 (CONTEXT_INIT)\n");
	if (vgpu_guest_blob(fd, size, VIRTGPU_BLOB_FLAG_USE_MAPPABLE, &gbo, &gres)) {
		printf("guest blob: %s\n", strerror(errno));
		return 1;
	}
	printf("guest blob (BLOB_MEM_GUEST, shmem pages): resource %u\n", gres);
	roundtrip(gbo, size, "guest blob");

	if (!hostblobs) {
		printf("no host-visible region or virgl2 context: no host blobs\n");
		return 0;
	}
	if (vgpu_host_blob(fd, size, VIRTGPU_BLOB_FLAG_USE_MAPPABLE, 0, &hbo, &hres)) {
		printf("host blob: %s\n", strerror(errno));
		return 1;
	}
	printf("host blob (BLOB_MEM_HOST3D, a virgl buffer created by the inline command):"
	       " resource %u\n", hres);
	roundtrip(hbo, size, "host blob");
	printf("\n  objects while both blobs live:\n");
	show_debugfs("virtio-gpu-objects");
	show_debugfs("virtio-gpu-host-visible");

	printf("\nmap_info override (debugfs test facility; QEMU itself sends NONE or CACHED):\n");
	override_demo(0x1);
	override_demo(0x3);
	override_demo(0x2);
	override_demo(0x0);
	override_demo(0x7);

	vgpu_gem_close(fd, gbo);
	vgpu_gem_close(fd, hbo);
	printf("\n  after GEM_CLOSE of both (UNMAP_BLOB sent, range free):\n");
	show_debugfs("virtio-gpu-objects");
	show_debugfs("virtio-gpu-host-visible");
	close(fd);
	return 0;
}
