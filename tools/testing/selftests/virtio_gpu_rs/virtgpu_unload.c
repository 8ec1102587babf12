// SPDX-License-Identifier: GPL-2.0
/*
 * virtio_gpu_rs module and device lifetime: an open render node or a live mapping pins the
 * module (delete_module answers EWOULDBLOCK, the kernel's "in use"), and the module
 * unloads cleanly once the last file and mapping are gone; unbinding the device with
 * objects mapped leaves guest memory mappings working and makes mappings of host memory
 * fault with SIGBUS. Leaves the module unloaded.
 */
#include <sys/syscall.h>
#include <sys/wait.h>
#include "virtgpu_util.h"
#include "virtgpu_blob.h"
#include "kselftest_harness.h"

static int delete_module(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK) ? -errno : 0;
}

/*
 * Hot-unplug with a client: unbinding the device while a render node is open unplugs the
 * DRM device (ioctls then fail with ENODEV) and frees it on close; binding again brings
 * a working node back.
 */
TEST(unbind_while_open_then_rebind)
{
	char path[64], drv[64], dev[64];
	int fd = vgpu_open_render(path, sizeof(path)), fd2;

	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, vgpu_bound_driver_dev(drv, sizeof(drv), dev, sizeof(dev)));
	ASSERT_STREQ("virtio_gpu_rs", drv);
	ASSERT_EQ(0, vgpu_sysfs_write("/sys/bus/virtio/drivers/virtio_gpu_rs/unbind", dev));
	ASSERT_EQ(0, vgpu_bound_driver(drv, sizeof(drv)));
	EXPECT_STREQ("(none)", drv);
	EXPECT_EQ(-ENODEV, vgpu_getparam(fd, VIRTGPU_PARAM_CAPSET_QUERY_FIX));
	close(fd);

	ASSERT_EQ(0, vgpu_sysfs_write("/sys/bus/virtio/drivers/virtio_gpu_rs/bind", dev));
	fd2 = vgpu_open_render(path, sizeof(path));
	ASSERT_GE(fd2, 0);
	EXPECT_EQ(1, vgpu_getparam(fd2, VIRTGPU_PARAM_CAPSET_QUERY_FIX));
	close(fd2);
}

/* Runs one aligned read and write of @p in a child; the signal that killed it, or 0. */
static int touch_in_child(void *p)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		volatile uint32_t *w = p;

		w[0] = w[0] + 1;
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

/*
 * Unbind with objects mapped: the guest-memory mapping keeps its bytes (its pages belong
 * to the guest), a host-blob mapping (GL device), through our fd or through its dma-buf,
 * faults with SIGBUS instead of reaching a device that was reset, ioctls fail with ENODEV, and everything is released once the
 * mappings and the file are gone. Binding again gives a device without objects.
 */
TEST(unbind_with_live_mappings)
{
	const size_t size = 64 * 1024;
	char path[64], drv[64], dev[64];
	int fd = vgpu_open_render(path, sizeof(path)), fd2;
	void *guest = MAP_FAILED, *host = MAP_FAILED, *viabuf = MAP_FAILED;
	uint32_t gbo, hbo;
	int dmabuf = -1;
	bool blobs, hostblobs;

	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, vgpu_bound_driver_dev(drv, sizeof(drv), dev, sizeof(dev)));
	ASSERT_STREQ("virtio_gpu_rs", drv);
	blobs = vgpu_getparam(fd, VIRTGPU_PARAM_RESOURCE_BLOB) == 1;
	hostblobs = blobs && vgpu_getparam(fd, VIRTGPU_PARAM_HOST_VISIBLE) == 1 &&
		    vgpu_ctx_init_capset(fd, VIRTGPU_DRM_CAPSET_VIRGL2) == 0;
	if (blobs) {
		ASSERT_EQ(0, vgpu_guest_blob(fd, size, VIRTGPU_BLOB_FLAG_USE_MAPPABLE, &gbo, NULL));
	} else {
		struct drm_virtgpu_resource_create rc = {
			.target = 2, .format = 1, .width = 128, .height = 128, .depth = 1,
			.array_size = 1, .stride = 512, .size = size,
		};

		ASSERT_EQ(0, vgpu_ioctl(fd, DRM_IOCTL_VIRTGPU_RESOURCE_CREATE, &rc));
		gbo = rc.bo_handle;
	}
	guest = vgpu_map_bo(fd, gbo, size);
	ASSERT_NE(MAP_FAILED, guest);
	vgpu_fill_words(guest, size, 0x77);
	if (hostblobs) {
		ASSERT_EQ(0, vgpu_host_blob(fd, size, VIRTGPU_BLOB_FLAG_USE_MAPPABLE, 0, &hbo, NULL));
		host = vgpu_map_bo(fd, hbo, size);
		ASSERT_NE(MAP_FAILED, host);
		vgpu_fill_words(host, size, 0x78);
		EXPECT_EQ(0, touch_in_child(host)) TH_LOG("host mapping faults before unbind");
		/* The same host memory through an export: the dma-buf's own mmap. */
		dmabuf = vgpu_prime_export(fd, hbo);
		ASSERT_GE(dmabuf, 0);
		viabuf = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, dmabuf, 0);
		ASSERT_NE(MAP_FAILED, viabuf);
		EXPECT_EQ(0, touch_in_child(viabuf)) TH_LOG("dma-buf mapping faults before unbind");
	}

	ASSERT_EQ(0, vgpu_sysfs_write("/sys/bus/virtio/drivers/virtio_gpu_rs/unbind", dev));
	EXPECT_EQ(-ENODEV, vgpu_getparam(fd, VIRTGPU_PARAM_CAPSET_QUERY_FIX));
	EXPECT_EQ(-1, vgpu_check_words(guest, size, 0x77)) TH_LOG("guest memory changed");
	EXPECT_EQ(0, touch_in_child(guest));
	if (hostblobs) {
		EXPECT_EQ(SIGBUS, touch_in_child(host)) TH_LOG("host mapping after unbind");
		/* The export's file shares the device's address space: zapped too. */
		EXPECT_EQ(SIGBUS, touch_in_child(viabuf)) TH_LOG("dma-buf mapping after unbind");
	}
	/* A new mapping of the unplugged device is refused. */
	EXPECT_EQ(MAP_FAILED, vgpu_map_bo(fd, gbo, size));
	munmap(guest, size);
	if (host != MAP_FAILED)
		munmap(host, size);
	if (viabuf != MAP_FAILED)
		munmap(viabuf, size);
	if (dmabuf >= 0)
		close(dmabuf);
	close(fd);

	ASSERT_EQ(0, vgpu_sysfs_write("/sys/bus/virtio/drivers/virtio_gpu_rs/bind", dev));
	fd2 = vgpu_open_render(path, sizeof(path));
	ASSERT_GE(fd2, 0);
	EXPECT_EQ(0, vgpu_debugfs_number("virtio-gpu-objects", "objects: "));
	close(fd2);
}

TEST(pinned_while_open)
{
	char path[64];
	int fd = vgpu_open_render(path, sizeof(path));

	ASSERT_GE(fd, 0);
	EXPECT_EQ(-EWOULDBLOCK, delete_module("virtio_gpu_rs"));
	EXPECT_EQ(0, access("/sys/module/virtio_gpu_rs", F_OK));
	/* The file still works after the refused unload. */
	EXPECT_EQ(1, vgpu_getparam(fd, VIRTGPU_PARAM_CAPSET_QUERY_FIX));
	close(fd);
}

/* A mapping outlives its file and still pins the module; after munmap it unloads. */
TEST(pinned_by_mapping_then_unloads)
{
	const size_t size = 16 * 1024;
	struct drm_virtgpu_resource_create rc = {
		.target = 2, .format = 1, .width = 64, .height = 64, .depth = 1, .array_size = 1,
		.stride = 256, .size = size,
	};
	char path[64];
	int fd = vgpu_open_render(path, sizeof(path));
	void *p;

	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, vgpu_ioctl(fd, DRM_IOCTL_VIRTGPU_RESOURCE_CREATE, &rc));
	p = vgpu_map_bo(fd, rc.bo_handle, size);
	ASSERT_NE(MAP_FAILED, p);
	vgpu_fill_words(p, size, 0x99);
	close(fd);

	EXPECT_EQ(-EWOULDBLOCK, delete_module("virtio_gpu_rs"));
	EXPECT_EQ(-1, vgpu_check_words(p, size, 0x99));
	munmap(p, size);

	ASSERT_EQ(0, delete_module("virtio_gpu_rs"));
	EXPECT_NE(0, access("/sys/module/virtio_gpu_rs", F_OK));
	EXPECT_NE(0, access(path, F_OK)) TH_LOG("%s still exists", path);
	EXPECT_EQ(-ENOENT, delete_module("virtio_gpu_rs"));
}

TEST_HARNESS_MAIN
