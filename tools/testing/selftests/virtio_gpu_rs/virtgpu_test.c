// SPDX-License-Identifier: GPL-2.0
/*
 * virtio_gpu_rs: the render node, GETPARAM and GET_CAPS against the device the guest
 * runs on. VGPU_GPU=2d|gl tells which QEMU device configuration to expect;
 * VGPU_REF_PARAMS names a GETPARAM dump taken with the upstream C driver on the same
 * device (virtgpu_params).
 */
#include <sys/mman.h>
#include "virtgpu_util.h"
#include "kselftest_harness.h"

static const char *gpu_config(void)
{
	const char *g = getenv("VGPU_GPU");

	return g ? g : "";
}

FIXTURE(render) {
	int fd;
	char path[64];
};

FIXTURE_SETUP(render)
{
	self->fd = vgpu_open_render(self->path, sizeof(self->path));
	ASSERT_GE(self->fd, 0) TH_LOG("no render node with driver name virtio_gpu");
}

FIXTURE_TEARDOWN(render)
{
	close(self->fd);
}

/* The node says virtio_gpu, and the device behind it is bound to our module. */
TEST_F(render, bound_to_rust_driver)
{
	char name[64], drv[64];

	vgpu_drm_name(self->fd, name, sizeof(name));
	EXPECT_STREQ("virtio_gpu", name);
	ASSERT_EQ(0, vgpu_bound_driver(drv, sizeof(drv)));
	EXPECT_STREQ("virtio_gpu_rs", drv);
	/* The C driver (module virtio_gpu) must not be loaded. */
	EXPECT_NE(0, access("/sys/module/virtio_gpu", F_OK));
	EXPECT_EQ(0, access("/sys/module/virtio_gpu_rs", F_OK));
}

/* Every GETPARAM answer equals the C driver's on the same device. */
TEST_F(render, getparam_matches_c_driver)
{
	const char *ref = getenv("VGPU_REF_PARAMS");
	unsigned long long p;
	long long want;
	int checked = 0;
	FILE *f;

	if (!ref)
		SKIP(return, "VGPU_REF_PARAMS not set (no C driver reference)");
	f = fopen(ref, "r");
	ASSERT_NE(NULL, f);
	while (fscanf(f, "%llu %lld", &p, &want) == 2) {
		long long got = vgpu_getparam(self->fd, p);

		EXPECT_EQ(want, got) TH_LOG("param %llu: C driver %lld, ours %lld", p, want, got);
		checked++;
	}
	fclose(f);
	EXPECT_EQ(9, checked);
}

/* The values the QEMU device configuration implies. */
TEST_F(render, getparam_matches_device_config)
{
	long long mask = vgpu_getparam(self->fd, VIRTGPU_PARAM_SUPPORTED_CAPSET_IDs);
	long long align = vgpu_getparam(self->fd, VIRTGPU_PARAM_BLOB_ALIGNMENT);

	EXPECT_EQ(1, vgpu_getparam(self->fd, VIRTGPU_PARAM_CAPSET_QUERY_FIX));
	EXPECT_EQ(vgpu_getparam(self->fd, VIRTGPU_PARAM_CONTEXT_INIT),
		  vgpu_getparam(self->fd, VIRTGPU_PARAM_EXPLICIT_DEBUG_NAME));
	/* BLOB_ALIGNMENT: ENOENT unless negotiated, then a power of two. */
	if (align < 0) {
		EXPECT_EQ(-ENOENT, align);
	} else {
		EXPECT_EQ(0, align & (align - 1));
	}

	if (!strcmp(gpu_config(), "2d")) {
		EXPECT_EQ(0, vgpu_getparam(self->fd, VIRTGPU_PARAM_3D_FEATURES));
		EXPECT_EQ(0, vgpu_getparam(self->fd, VIRTGPU_PARAM_RESOURCE_BLOB));
		EXPECT_EQ(0, vgpu_getparam(self->fd, VIRTGPU_PARAM_HOST_VISIBLE));
		EXPECT_EQ(0, mask);
	} else if (!strcmp(gpu_config(), "gl")) {
		EXPECT_EQ(1, vgpu_getparam(self->fd, VIRTGPU_PARAM_3D_FEATURES));
		EXPECT_EQ(1, vgpu_getparam(self->fd, VIRTGPU_PARAM_RESOURCE_BLOB));
		EXPECT_EQ(1, vgpu_getparam(self->fd, VIRTGPU_PARAM_HOST_VISIBLE));
		EXPECT_EQ(1, vgpu_getparam(self->fd, VIRTGPU_PARAM_CONTEXT_INIT));
		ASSERT_GE(mask, 0);
		EXPECT_EQ((1 << 1) | (1 << 2) | (1 << 4), mask & ((1 << 1) | (1 << 2) | (1 << 4)));
	} else {
		SKIP(return, "VGPU_GPU not set");
	}
}

TEST_F(render, getparam_errors)
{
	int value = 0x5a5a5a5a;
	struct drm_virtgpu_getparam gp = { .value = (uintptr_t)&value };
	uint64_t bad[] = { 0, 10, 0x100, 1ULL << 32 | VIRTGPU_PARAM_3D_FEATURES, ~0ULL };
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		gp.param = bad[i];
		EXPECT_EQ(-1, ioctl(self->fd, DRM_IOCTL_VIRTGPU_GETPARAM, &gp));
		EXPECT_EQ(EINVAL, errno) TH_LOG("param %#llx", (unsigned long long)bad[i]);
	}
	EXPECT_EQ(0x5a5a5a5a, value);

	/* Bad destination pointers: unmapped page, kernel address. */
	gp.param = VIRTGPU_PARAM_CAPSET_QUERY_FIX;
	gp.value = 8;
	EXPECT_EQ(-1, ioctl(self->fd, DRM_IOCTL_VIRTGPU_GETPARAM, &gp));
	EXPECT_EQ(EFAULT, errno);
	gp.value = 0xffff800000000000ULL;
	EXPECT_EQ(-1, ioctl(self->fd, DRM_IOCTL_VIRTGPU_GETPARAM, &gp));
	EXPECT_EQ(EFAULT, errno);
	/* Bad ioctl argument itself. */
	EXPECT_EQ(-1, ioctl(self->fd, DRM_IOCTL_VIRTGPU_GETPARAM, (void *)8));
	EXPECT_EQ(EFAULT, errno);
}

/* The capsets the driver lists in debugfs match the GETPARAM mask. */
TEST_F(render, capset_infos_match_mask)
{
	struct vgpu_capset c[VGPU_MAX_CAPSETS];
	long long mask = vgpu_getparam(self->fd, VIRTGPU_PARAM_SUPPORTED_CAPSET_IDs), m = 0;
	int n = vgpu_capsets(c, VGPU_MAX_CAPSETS), i;

	ASSERT_GE(n, 0) TH_LOG("debugfs virtio-gpu-features unreadable");
	for (i = 0; i < n; i++) {
		EXPECT_GT(c[i].max_size, 0);
		m |= 1LL << c[i].id;
	}
	EXPECT_EQ(mask, m);
	if (!strcmp(gpu_config(), "gl")) {
		EXPECT_GE(n, 3);
	}
}

static int get_caps(int fd, uint32_t id, uint32_t ver, void *addr, uint32_t size)
{
	struct drm_virtgpu_get_caps gc = {
		.cap_set_id = id, .cap_set_ver = ver, .addr = (uintptr_t)addr, .size = size,
	};

	return ioctl(fd, DRM_IOCTL_VIRTGPU_GET_CAPS, &gc) ? -errno : 0;
}

/* Every capset: data written up to max_size and not a byte more, same data twice. */
TEST_F(render, get_caps_contents)
{
	struct vgpu_capset c[VGPU_MAX_CAPSETS];
	int n = vgpu_capsets(c, VGPU_MAX_CAPSETS), i;
	const uint32_t slack = 64;

	ASSERT_GE(n, 0);
	if (n == 0) {
		char buf[16];

		EXPECT_EQ(-ENOSYS, get_caps(self->fd, 1, 0, buf, sizeof(buf)));
		return;
	}
	for (i = 0; i < n; i++) {
		uint32_t sz = c[i].max_size + slack, k, nonzero = 0;
		uint8_t *a = malloc(sz), *b = malloc(sz);

		ASSERT_NE(NULL, a);
		ASSERT_NE(NULL, b);
		memset(a, 0xaa, sz);
		memset(b, 0x55, sz);
		ASSERT_EQ(0, get_caps(self->fd, c[i].id, c[i].max_version, a, sz));
		ASSERT_EQ(0, get_caps(self->fd, c[i].id, c[i].max_version, b, sz));
		EXPECT_EQ(0, memcmp(a, b, c[i].max_size)) TH_LOG("capset %u differs between calls", c[i].id);
		for (k = c[i].max_size; k < sz; k++)
			if (a[k] != 0xaa)
				break;
		EXPECT_EQ(sz, k) TH_LOG("capset %u: byte %u past max_size written", c[i].id, k);
		for (k = 0; k < c[i].max_size; k++)
			nonzero |= a[k];
		EXPECT_NE(0, nonzero) TH_LOG("capset %u is all zero", c[i].id);
		/* virgl capsets start with their max_version (union virgl_caps). */
		if (c[i].id == VIRTGPU_DRM_CAPSET_VIRGL || c[i].id == VIRTGPU_DRM_CAPSET_VIRGL2) {
			uint32_t hdr;

			memcpy(&hdr, a, sizeof(hdr));
			EXPECT_EQ(c[i].max_version, hdr) TH_LOG("capset %u header", c[i].id);
		}
		free(a);
		free(b);
	}
}

/* Each (id, version) is fetched from the host once: repeated calls hit the cache. */
TEST_F(render, get_caps_cached_once)
{
	struct vgpu_capset c[VGPU_MAX_CAPSETS];
	uint8_t buf[64];
	int n = vgpu_capsets(c, VGPU_MAX_CAPSETS), before, i;

	if (n <= 0)
		SKIP(return, "device has no capsets");
	ASSERT_EQ(0, get_caps(self->fd, c[0].id, 0, buf, sizeof(buf)));
	before = vgpu_capsets_cached();
	ASSERT_GE(before, 1);
	for (i = 0; i < 5; i++)
		ASSERT_EQ(0, get_caps(self->fd, c[0].id, 0, buf, sizeof(buf)));
	EXPECT_EQ(before, vgpu_capsets_cached());
	/* A version not fetched yet (if the capset has one) adds exactly one entry. */
	if (c[0].max_version >= 1) {
		ASSERT_EQ(0, get_caps(self->fd, c[0].id, 1, buf, sizeof(buf)));
		ASSERT_EQ(0, get_caps(self->fd, c[0].id, 1, buf, sizeof(buf)));
		EXPECT_LE(vgpu_capsets_cached(), before + 1);
	}
}

/* A short user buffer gets exactly its size. */
TEST_F(render, get_caps_short_buffer)
{
	struct vgpu_capset c[VGPU_MAX_CAPSETS];
	uint8_t buf[16], full[16];
	int n = vgpu_capsets(c, VGPU_MAX_CAPSETS);

	if (n <= 0)
		SKIP(return, "device has no capsets");
	ASSERT_GE(c[0].max_size, 8);
	memset(full, 0, sizeof(full));
	ASSERT_EQ(0, get_caps(self->fd, c[0].id, c[0].max_version, full, 8));
	memset(buf, 0xaa, sizeof(buf));
	ASSERT_EQ(0, get_caps(self->fd, c[0].id, c[0].max_version, buf, 4));
	EXPECT_EQ(0, memcmp(buf, full, 4));
	EXPECT_EQ(0xaa, buf[4]);
	EXPECT_EQ(0xaa, buf[15]);
}

TEST_F(render, get_caps_errors)
{
	struct vgpu_capset c[VGPU_MAX_CAPSETS];
	uint8_t buf[64];
	void *ro;
	int n = vgpu_capsets(c, VGPU_MAX_CAPSETS);

	if (n <= 0)
		SKIP(return, "device has no capsets");
	EXPECT_EQ(-EINVAL, get_caps(self->fd, c[0].id, c[0].max_version, buf, 0));
	EXPECT_EQ(-EINVAL, get_caps(self->fd, c[0].id, c[0].max_version + 1, buf, sizeof(buf)));
	EXPECT_EQ(-EINVAL, get_caps(self->fd, 63, 0, buf, sizeof(buf)));
	EXPECT_EQ(-EINVAL, get_caps(self->fd, 0, 0, buf, sizeof(buf)));
	EXPECT_EQ(-EFAULT, get_caps(self->fd, c[0].id, c[0].max_version, (void *)8, sizeof(buf)));
	ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	EXPECT_EQ(-EFAULT, get_caps(self->fd, c[0].id, c[0].max_version, ro, sizeof(buf)));
	munmap(ro, 4096);
}

/* Ioctl numbers past the driver's table get the DRM core's answer. */
TEST_F(render, unknown_ioctl_number)
{
	struct drm_virtgpu_context_init ci = { 0 };

	EXPECT_EQ(-1, ioctl(self->fd, DRM_IOWR(DRM_COMMAND_BASE + 0x20, struct drm_virtgpu_getparam), &ci));
	EXPECT_EQ(EINVAL, errno);
}

/* Many clients at once, each with its own file. */
TEST(many_opens)
{
	char path[64];
	int fds[32], i;

	for (i = 0; i < 32; i++) {
		fds[i] = vgpu_open_render(path, sizeof(path));
		ASSERT_GE(fds[i], 0);
		EXPECT_EQ(1, vgpu_getparam(fds[i], VIRTGPU_PARAM_CAPSET_QUERY_FIX));
	}
	for (i = 0; i < 32; i++)
		close(fds[i]);
}

TEST_HARNESS_MAIN
