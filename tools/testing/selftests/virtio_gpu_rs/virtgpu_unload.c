// SPDX-License-Identifier: GPL-2.0
/*
 * virtio_gpu_rs module lifetime: an open render node pins the module (delete_module
 * answers EWOULDBLOCK, the kernel's "in use"), and the module unloads cleanly once the
 * last file is closed. Leaves the module unloaded.
 */
#include <sys/syscall.h>
#include "virtgpu_util.h"
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

TEST(pinned_while_open_then_unloads)
{
	char path[64];
	int fd = vgpu_open_render(path, sizeof(path));

	ASSERT_GE(fd, 0);
	EXPECT_EQ(-EWOULDBLOCK, delete_module("virtio_gpu_rs"));
	EXPECT_EQ(0, access("/sys/module/virtio_gpu_rs", F_OK));
	/* The file still works after the refused unload. */
	EXPECT_EQ(1, vgpu_getparam(fd, VIRTGPU_PARAM_CAPSET_QUERY_FIX));
	close(fd);

	ASSERT_EQ(0, delete_module("virtio_gpu_rs"));
	EXPECT_NE(0, access("/sys/module/virtio_gpu_rs", F_OK));
	EXPECT_NE(0, access(path, F_OK)) TH_LOG("%s still exists", path);
	EXPECT_EQ(-ENOENT, delete_module("virtio_gpu_rs"));
}

TEST_HARNESS_MAIN
