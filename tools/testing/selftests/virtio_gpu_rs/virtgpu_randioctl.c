// SPDX-License-Identifier: GPL-2.0
/*
 * Random object ioctls: RESOURCE_CREATE, RESOURCE_CREATE_BLOB, RESOURCE_INFO, MAP (+ mmap),
 * TRANSFER_*, WAIT, CONTEXT_INIT and GEM_CLOSE with random and boundary arguments, on
 * live, closed and made-up handles, from two files. Every call must succeed or fail with an
 * errno the UAPI can give; afterwards, with both files closed, no object, resource id or
 * host-visible range may be left. The kernel log check (and KASAN/lockdep on the debug
 * kernel) catches what the driver does wrong on the way.
 *
 * Not a coverage-guided fuzzer: a fixed-seed smoke test of the argument checking that
 * runs in every `make check` (VGPU_RAND_ITERS, VGPU_RAND_SEED override the defaults).
 */
#include <sys/mman.h>
#include "virtgpu_util.h"
#include "virtgpu_blob.h"
#include "kselftest_harness.h"

#define MAX_BOS 64

static uint64_t rng;

static uint64_t rnd(void)
{
	/* xorshift64* */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ull;
}

static uint32_t pick32(const uint32_t *v, size_t n)
{
	return v[rnd() % n];
}

/* Mostly plausible values, sometimes boundaries, sometimes garbage. */
static uint32_t some_u32(void)
{
	static const uint32_t b[] = { 0, 1, 2, 3, 4, 63, 64, 4095, 4096, 4097, 0x7fffffff,
				      0x80000000, 0xfffff000, 0xffffffff };

	switch (rnd() % 4) {
	case 0:
		return pick32(b, sizeof(b) / sizeof(b[0]));
	case 1:
		return (uint32_t)rnd();
	default:
		return rnd() % 256;
	}
}

/* Sizes: mostly small, some boundaries; never more than the guest can zero quickly. */
static uint64_t some_size(void)
{
	static const uint64_t b[] = { 0, 1, 4095, 4096, 4097, 65536, 1 << 20, 0xfffff000ull,
				      1ull << 32, 1ull << 40, ~0ull, ~0ull << 12 };

	switch (rnd() % 3) {
	case 0:
		return b[rnd() % (sizeof(b) / sizeof(b[0]))];
	default:
		return (rnd() % 16 + 1) * 4096;
	}
}

struct state {
	int fd[2];
	uint32_t bo[2][MAX_BOS];
	unsigned int nbo[2];
	unsigned long calls, ok;
};

static uint32_t some_handle(struct state *s, int f)
{
	switch (rnd() % 4) {
	case 0:
		return some_u32();
	default:
		return s->nbo[f] ? s->bo[f][rnd() % s->nbo[f]] : 1;
	}
}

static void keep(struct state *s, int f, uint32_t h)
{
	if (s->nbo[f] < MAX_BOS)
		s->bo[f][s->nbo[f]++] = h;
	else
		vgpu_gem_close(s->fd[f], h);
}

/* errnos the object ioctls may give; anything else is a bug. */
static bool allowed(int e)
{
	switch (e) {
	case 0: case EINVAL: case ENOENT: case ENOMEM: case ENOSPC: case ENOSYS: case EEXIST:
	case EFAULT: case EBUSY: case EIO: case EACCES: case EOPNOTSUPP: case E2BIG:
		return true;
	default:
		return false;
	}
}

static int one_call(struct state *s, int f)
{
	int fd = s->fd[f];

	switch (rnd() % 9) {
	case 0: {
		struct drm_virtgpu_resource_create rc = {
			.target = rnd() % 2 ? 2 : some_u32(), .format = rnd() % 2 ? 1 : some_u32(),
			.bind = some_u32(), .width = some_u32(), .height = some_u32(),
			.depth = rnd() % 2 ? 1 : some_u32(), .array_size = rnd() % 2 ? 1 : some_u32(),
			.last_level = rnd() % 4 ? 0 : some_u32(), .nr_samples = rnd() % 4 ? 0 : some_u32(),
			.flags = rnd() % 4 ? 0 : some_u32(), .stride = some_u32(),
			.size = (uint32_t)some_size(),
		};
		int r = vgpu_ioctl(fd, DRM_IOCTL_VIRTGPU_RESOURCE_CREATE, &rc);

		if (!r)
			keep(s, f, rc.bo_handle);
		return r;
	}
	case 1: {
		static const uint32_t mems[] = { 0, 1, 2, 3, 4, 0xffffffff };
		uint32_t cmd[16];
		struct drm_virtgpu_resource_create_blob rb = {
			.blob_mem = pick32(mems, 6), .blob_flags = rnd() % 2 ? 1 : some_u32(),
			.size = some_size(), .blob_id = rnd() % 3 ? 0 : rnd(),
			.blob_hints = rnd() % 4 ? 0 : some_u32(),
		};
		int r, i;

		for (i = 0; i < 16; i++)
			cmd[i] = (uint32_t)rnd();
		if (rnd() % 3 == 0) {
			/*
			 * Random sizes and pointers; the stream itself is a virgl NOP over
			 * random payload: random opcodes would fuzz virglrenderer rather than
			 * the driver's argument checking.
			 */
			rb.cmd = (uintptr_t)cmd;
			rb.cmd_size = rnd() % 2 ? (rnd() % 16) * 4 : some_u32();
			if (rb.cmd_size >= 4 && rb.cmd_size <= sizeof(cmd))
				cmd[0] = VIRGL_CMD0(0, 0, rb.cmd_size / 4 - 1);
			if (rb.cmd_size > sizeof(cmd) && rnd() % 2)
				rb.cmd = 8; /* a bad pointer instead */
		}
		r = vgpu_ioctl(fd, DRM_IOCTL_VIRTGPU_RESOURCE_CREATE_BLOB, &rb);
		if (!r)
			keep(s, f, rb.bo_handle);
		return r;
	}
	case 2: {
		struct drm_virtgpu_resource_info ri = { .bo_handle = some_handle(s, f) };

		return vgpu_ioctl(fd, DRM_IOCTL_VIRTGPU_RESOURCE_INFO, &ri);
	}
	case 3: {
		struct drm_virtgpu_map m = { .handle = some_handle(s, f) };
		int r = vgpu_ioctl(fd, DRM_IOCTL_VIRTGPU_MAP, &m);
		size_t len = (rnd() % 4 + 1) * 4096;
		void *p;

		if (r)
			return r;
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			 rnd() % 8 ? m.offset : m.offset + 4096 * (rnd() % 4));
		if (p == MAP_FAILED)
			return -errno;
		/* Aligned word accesses only: the mapping may be Device memory. */
		((volatile uint32_t *)p)[rnd() % (len / 4)] = (uint32_t)rnd();
		munmap(p, len);
		return 0;
	}
	case 4:
	case 5: {
		struct drm_virtgpu_3d_transfer_to_host t = {
			.bo_handle = some_handle(s, f),
			.box = { .x = some_u32(), .y = some_u32(), .z = rnd() % 2 ? 0 : some_u32(),
				 .w = some_u32(), .h = some_u32(), .d = rnd() % 2 ? 1 : some_u32() },
			.level = rnd() % 4 ? 0 : some_u32(), .offset = rnd() % 2 ? 0 : some_u32(),
			.stride = rnd() % 2 ? 0 : some_u32(),
			.layer_stride = rnd() % 2 ? 0 : some_u32(),
		};

		return vgpu_ioctl(fd, rnd() % 2 ? DRM_IOCTL_VIRTGPU_TRANSFER_TO_HOST :
				  DRM_IOCTL_VIRTGPU_TRANSFER_FROM_HOST, &t);
	}
	case 6: {
		struct drm_virtgpu_3d_wait w = {
			.handle = some_handle(s, f), .flags = rnd() % 2 ? VIRTGPU_WAIT_NOWAIT : 0,
		};

		return vgpu_ioctl(fd, DRM_IOCTL_VIRTGPU_WAIT, &w);
	}
	case 7: {
		struct drm_virtgpu_context_set_param p[5];
		struct drm_virtgpu_context_init ci = {
			.num_params = rnd() % 7, .ctx_set_params = (uintptr_t)p,
		};
		unsigned int i;

		for (i = 0; i < 5; i++) {
			p[i].param = rnd() % 6;
			p[i].value = rnd() % 2 ? rnd() % 8 : rnd();
			/*
			 * No venus (capset 4) contexts: inline commands there would be fed to
			 * QEMU's venus render server, which this test is not meant to fuzz.
			 */
			if (p[i].param == VIRTGPU_CONTEXT_PARAM_CAPSET_ID && p[i].value == 4)
				p[i].value = 2;
			/* A debug name must point at a string; the rest are numbers. */
			if (p[i].param == VIRTGPU_CONTEXT_PARAM_DEBUG_NAME)
				p[i].value = rnd() % 2 ? (uintptr_t)"randioctl" : 8;
		}
		return vgpu_ioctl(fd, DRM_IOCTL_VIRTGPU_CONTEXT_INIT, &ci);
	}
	default: {
		uint32_t h = some_handle(s, f);
		unsigned int i;
		int r = vgpu_gem_close(fd, h);

		for (i = 0; i < s->nbo[f]; i++)
			if (s->bo[f][i] == h) {
				s->bo[f][i] = s->bo[f][--s->nbo[f]];
				break;
			}
		return r;
	}
	}
}

/* Bytes of the host-visible region still allocated (0 on a device without one), or -1. */
static long hostvis_allocated(void)
{
	char buf[1 << 16], *p;

	if (vgpu_debugfs_read_all("virtio-gpu-host-visible", buf, sizeof(buf)))
		return -1;
	if (!strncmp(buf, "none", 4))
		return 0;
	p = strstr(buf, "allocated: ");
	return p ? strtol(p + strlen("allocated: "), NULL, 0) : -1;
}

FIXTURE(rand) {
	int unused;
};

FIXTURE_SETUP(rand)
{
}

FIXTURE_TEARDOWN(rand)
{
}

/* Long runs (VGPU_RAND_ITERS) need more than the harness' default 30 s. */
TEST_F_TIMEOUT(rand, random_object_ioctls, 900)
{
	const char *it = getenv("VGPU_RAND_ITERS"), *seed = getenv("VGPU_RAND_SEED");
	unsigned long iters = it ? strtoul(it, NULL, 0) : 3000, i, bad = 0;
	struct state s = { 0 };
	char path[64];
	int f;

	rng = seed ? strtoull(seed, NULL, 0) : 0x9e3779b97f4a7c15ull;
	TH_LOG("seed %#llx, %lu calls", (unsigned long long)rng, iters);
	for (f = 0; f < 2; f++) {
		s.fd[f] = vgpu_open_render(path, sizeof(path));
		ASSERT_GE(s.fd[f], 0);
	}
	for (i = 0; i < iters; i++) {
		int r = one_call(&s, rnd() % 2);

		s.calls++;
		if (!r)
			s.ok++;
		if (!allowed(-r)) {
			if (bad++ < 10)
				TH_LOG("call %lu: unexpected errno %d (%s)", i, -r, strerror(-r));
		}
	}
	EXPECT_EQ(0, bad);
	TH_LOG("%lu calls, %lu succeeded", s.calls, s.ok);
	close(s.fd[0]);
	close(s.fd[1]);
	for (i = 0; i < 100 && vgpu_debugfs_number("virtio-gpu-objects", "objects: "); i++)
		usleep(50 * 1000);
	EXPECT_EQ(0, vgpu_debugfs_number("virtio-gpu-objects", "objects: ")) TH_LOG("objects left after both files closed");
	EXPECT_EQ(0, vgpu_debugfs_number("virtio-gpu-objects", "resource ids: ")) TH_LOG("resource ids left");
	EXPECT_EQ(0, hostvis_allocated()) TH_LOG("host-visible ranges left");
}

TEST_HARNESS_MAIN
