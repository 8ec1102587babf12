/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Object helpers shared by the virtio_gpu_rs test programs: GEM handles, mappings, word
 * patterns that are safe on Device memory, guest blobs, and HOST3D blobs backed by a
 * virgl buffer the way Mesa's virgl winsys creates them. Functions return 0 or -errno
 * (errno is set as well).
 */
#ifndef VIRTGPU_BLOB_H
#define VIRTGPU_BLOB_H

#include <sys/mman.h>
#include "virtgpu_util.h"

/* virgl protocol bits used to create a host buffer for a HOST3D blob (virgl_protocol.h). */
#define VIRGL_CCMD_PIPE_RESOURCE_CREATE 48
#define VIRGL_PIPE_RES_CREATE_SIZE 11
#define VIRGL_CMD0(cmd, obj, len) ((cmd) | ((obj) << 8) | ((len) << 16))
#define VIRGL_PIPE_BUFFER 0
#define VIRGL_PIPE_TEXTURE_2D 2
#define VIRGL_FORMAT_B8G8R8A8_UNORM 1
#define VIRGL_FORMAT_R8_UNORM 64
#define VIRGL_BIND_SAMPLER_VIEW (1u << 3)
#define VIRGL_BIND_VERTEX_BUFFER (1u << 4)
/* A persistent buffer is what virglrenderer can map (glBufferStorage + glMapBufferRange). */
#define VIRGL_RESOURCE_FLAG_MAP_PERSISTENT (1u << 1)
#define VIRGL_RESOURCE_FLAG_MAP_COHERENT (1u << 2)

static inline int vgpu_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) ? -errno : 0;
}

static inline int vgpu_gem_close(int fd, uint32_t handle)
{
	struct drm_gem_close c = { .handle = handle };

	return vgpu_ioctl(fd, DRM_IOCTL_GEM_CLOSE, &c);
}

/* PRIME export of @handle as a read-write dma-buf: its fd, or -errno. */
static inline int vgpu_prime_export(int fd, uint32_t handle)
{
	struct drm_prime_handle p = { .handle = handle, .flags = DRM_CLOEXEC | DRM_RDWR };
	int ret = vgpu_ioctl(fd, DRM_IOCTL_PRIME_HANDLE_TO_FD, &p);

	return ret ? ret : p.fd;
}

/* MAP + mmap of @len bytes, shared, read/write; MAP_FAILED with errno set on failure. */
static inline void *vgpu_map_bo(int fd, uint32_t handle, size_t len)
{
	struct drm_virtgpu_map m = { .handle = handle };
	int ret = vgpu_ioctl(fd, DRM_IOCTL_VIRTGPU_MAP, &m);

	if (ret) {
		errno = -ret;
		return MAP_FAILED;
	}
	return mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, m.offset);
}

static inline uint32_t vgpu_pattern(uint32_t seed, size_t i)
{
	return (uint32_t)(seed ^ (i * 2654435761u) ^ 0xa5000000u);
}

/*
 * Word-wise volatile accesses only: the C library's memset/memcpy may use DC ZVA or
 * unaligned accesses, which fault on arm64 Device memory.
 */
static inline void vgpu_fill_words(void *p, size_t len, uint32_t seed)
{
	volatile uint32_t *w = p;
	size_t i;

	for (i = 0; i < len / 4; i++)
		w[i] = vgpu_pattern(seed, i);
}

/* Index of the first word that differs from the pattern, or -1. */
static inline long vgpu_check_words(const void *p, size_t len, uint32_t seed)
{
	const volatile uint32_t *w = p;
	size_t i;

	for (i = 0; i < len / 4; i++)
		if (w[i] != vgpu_pattern(seed, i))
			return i;
	return -1;
}

static inline int vgpu_guest_blob(int fd, uint64_t size, uint32_t flags, uint32_t *bo,
				  uint32_t *res)
{
	struct drm_virtgpu_resource_create_blob rb = {
		.blob_mem = VIRTGPU_BLOB_MEM_GUEST, .blob_flags = flags, .size = size,
	};
	int ret = vgpu_ioctl(fd, DRM_IOCTL_VIRTGPU_RESOURCE_CREATE_BLOB, &rb);

	if (ret)
		return ret;
	*bo = rb.bo_handle;
	if (res)
		*res = rb.res_handle;
	return 0;
}

/*
 * A HOST3D blob backed by a virgl buffer: the inline command creates the host's pipe
 * resource under a fresh blob id in the file's context, as Mesa's virgl winsys does.
 * The file needs a virgl2 context (vgpu_ctx_init_capset()).
 */
static inline int vgpu_host_blob(int fd, uint32_t size, uint32_t flags, uint32_t hints,
				 uint32_t *bo, uint32_t *res)
{
	static uint32_t next_blob_id = 1;
	uint32_t cmd[VIRGL_PIPE_RES_CREATE_SIZE + 1] = {
		VIRGL_CMD0(VIRGL_CCMD_PIPE_RESOURCE_CREATE, 0, VIRGL_PIPE_RES_CREATE_SIZE),
		VIRGL_PIPE_BUFFER,			/* target */
		VIRGL_FORMAT_R8_UNORM,			/* format */
		VIRGL_BIND_VERTEX_BUFFER,		/* bind */
		size, 1, 1, 1,				/* width, height, depth, array_size */
		0, 0,					/* last_level, nr_samples */
		VIRGL_RESOURCE_FLAG_MAP_PERSISTENT | VIRGL_RESOURCE_FLAG_MAP_COHERENT,
		0,					/* blob id, below */
	};
	struct drm_virtgpu_resource_create_blob rb = {
		.blob_mem = VIRTGPU_BLOB_MEM_HOST3D, .blob_flags = flags, .size = size,
		.cmd = (uintptr_t)cmd, .cmd_size = sizeof(cmd), .blob_hints = hints,
	};

	int ret;

	rb.blob_id = cmd[VIRGL_PIPE_RES_CREATE_SIZE] = next_blob_id++;
	ret = vgpu_ioctl(fd, DRM_IOCTL_VIRTGPU_RESOURCE_CREATE_BLOB, &rb);
	if (ret)
		return ret;
	*bo = rb.bo_handle;
	if (res)
		*res = rb.res_handle;
	return 0;
}

static inline int vgpu_ctx_init_capset(int fd, uint64_t capset)
{
	struct drm_virtgpu_context_set_param p = {
		.param = VIRTGPU_CONTEXT_PARAM_CAPSET_ID, .value = capset,
	};
	struct drm_virtgpu_context_init ci = { .num_params = 1, .ctx_set_params = (uintptr_t)&p };

	return vgpu_ioctl(fd, DRM_IOCTL_VIRTGPU_CONTEXT_INIT, &ci);
}

/* ---- command submission (EXECBUFFER) and sync_file fences ---- */

#include <poll.h>

/*
 * EXECBUFFER of the @size bytes at @cmd with VIRTGPU_EXECBUF_* @flags on ring @ring
 * (used with RING_IDX) and in-fence fd @in_fd (used with FENCE_FD_IN). A size of 0 sends
 * no command, only the fence: what Mesa's venus sends. With FENCE_FD_OUT the out-fence's
 * fd goes to @out_fd. 0 or -errno.
 */
static inline int vgpu_submit_cmd(int fd, const void *cmd, uint32_t size, uint32_t flags,
				  uint32_t ring, int in_fd, int *out_fd)
{
	struct drm_virtgpu_execbuffer eb = {
		.flags = flags, .size = size, .command = (uintptr_t)cmd, .fence_fd = in_fd,
		.ring_idx = ring,
	};
	int ret = vgpu_ioctl(fd, DRM_IOCTL_VIRTGPU_EXECBUFFER, &eb);

	if (!ret && out_fd && (flags & VIRTGPU_EXECBUF_FENCE_FD_OUT))
		*out_fd = eb.fence_fd;
	return ret;
}

/* An EXECBUFFER without a command (size 0); see vgpu_submit_cmd(). */
static inline int vgpu_submit(int fd, uint32_t flags, uint32_t ring, int in_fd, int *out_fd)
{
	return vgpu_submit_cmd(fd, NULL, 0, flags, ring, in_fd, out_fd);
}

/* Waits up to @timeout_ms for sync_file @fence_fd: 1 signalled, 0 still pending, -errno. */
static inline int vgpu_fence_wait(int fence_fd, int timeout_ms)
{
	struct pollfd p = { .fd = fence_fd, .events = POLLIN };
	int ret;

	do {
		ret = poll(&p, 1, timeout_ms);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return -errno;
	if (ret && (p.revents & (POLLERR | POLLNVAL)))
		return -EINVAL;
	return ret ? 1 : 0;
}

/*
 * CONTEXT_INIT with capset @capset, @num_rings rings (0: the parameter is left out) and,
 * if not 0, the rings in @poll_mask raising VIRTGPU_EVENT_FENCE_SIGNALED on the file.
 */
static inline int vgpu_ctx_init_rings(int fd, uint64_t capset, uint32_t num_rings,
				      uint64_t poll_mask)
{
	struct drm_virtgpu_context_set_param p[3] = {
		{ VIRTGPU_CONTEXT_PARAM_CAPSET_ID, capset },
	};
	struct drm_virtgpu_context_init ci = { .num_params = 1, .ctx_set_params = (uintptr_t)p };

	if (num_rings)
		p[ci.num_params++] = (struct drm_virtgpu_context_set_param){
			VIRTGPU_CONTEXT_PARAM_NUM_RINGS, num_rings };
	if (poll_mask)
		p[ci.num_params++] = (struct drm_virtgpu_context_set_param){
			VIRTGPU_CONTEXT_PARAM_POLL_RINGS_MASK, poll_mask };
	return vgpu_ioctl(fd, DRM_IOCTL_VIRTGPU_CONTEXT_INIT, &ci);
}

#endif
