/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared helpers of the virtio_gpu_rs selftests: finding the virtio-gpu render node,
 * checking which driver is bound, reading the driver's debugfs.
 */
#ifndef VIRTGPU_UTIL_H
#define VIRTGPU_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <drm/drm.h>
#include <drm/virtgpu_drm.h>

#define VGPU_MAX_CAPSETS 16

struct vgpu_capset {
	uint32_t id, max_version, max_size;
};

/* DRM_IOCTL_VERSION name of an open DRM fd, "" on error. */
static inline void vgpu_drm_name(int fd, char *name, size_t len)
{
	struct drm_version v = { .name = name, .name_len = len - 1 };

	memset(name, 0, len);
	if (ioctl(fd, DRM_IOCTL_VERSION, &v))
		name[0] = 0;
}

/* Opens the first render node whose DRM driver name is virtio_gpu; -1 if none. */
static inline int vgpu_open_render(char *path, size_t len)
{
	char name[64];
	int i, fd;

	for (i = 128; i < 192; i++) {
		snprintf(path, len, "/dev/dri/renderD%d", i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		vgpu_drm_name(fd, name, sizeof(name));
		if (!strcmp(name, "virtio_gpu"))
			return fd;
		close(fd);
	}
	return -1;
}

/*
 * Name of the driver bound to the (only) virtio device of type GPU (id 0x0010), in
 * @drv; 0 if found. The device's name (virtioN) goes to @devname if not NULL.
 */
static inline int vgpu_bound_driver_dev(char *drv, size_t len, char *devname, size_t dlen)
{
	char p[512], link[512], buf[32];
	struct dirent *de;
	DIR *d = opendir("/sys/bus/virtio/devices");
	int ret = -1;
	ssize_t n;
	FILE *f;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/sys/bus/virtio/devices/%s/device", de->d_name);
		f = fopen(p, "r");
		if (!f)
			continue;
		if (!fgets(buf, sizeof(buf), f) || strtoul(buf, NULL, 0) != 0x10) {
			fclose(f);
			continue;
		}
		fclose(f);
		snprintf(p, sizeof(p), "/sys/bus/virtio/devices/%s/driver", de->d_name);
		n = readlink(p, link, sizeof(link) - 1);
		if (n < 0) {
			snprintf(drv, len, "(none)");
		} else {
			link[n] = 0;
			snprintf(drv, len, "%.63s", strrchr(link, '/') ? strrchr(link, '/') + 1 : link);
		}
		if (devname)
			snprintf(devname, dlen, "%.63s", de->d_name);
		ret = 0;
		break;
	}
	closedir(d);
	return ret;
}

static inline int vgpu_bound_driver(char *drv, size_t len)
{
	return vgpu_bound_driver_dev(drv, len, NULL, 0);
}

/* Writes @val to sysfs file @path; 0 or -errno. */
static inline int vgpu_sysfs_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* Reads a whole debugfs file of our DRM device into @buf; 0 on success. */
static inline int vgpu_debugfs_read(const char *file, char *buf, size_t len)
{
	char p[320];
	struct dirent *de;
	DIR *d = opendir("/sys/kernel/debug/dri");
	int ret = -1, fd;
	ssize_t n;

	if (!d)
		return -1;
	while (ret && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/sys/kernel/debug/dri/%s/%s", de->d_name, file);
		fd = open(p, O_RDONLY);
		if (fd < 0)
			continue;
		n = read(fd, buf, len - 1);
		close(fd);
		if (n >= 0) {
			buf[n] = 0;
			ret = 0;
		}
	}
	closedir(d);
	return ret;
}

/* Capset infos as the driver reports them in debugfs; count or -1. */
static inline int vgpu_capsets(struct vgpu_capset *c, int max)
{
	char buf[4096], *line;
	int n = 0;

	if (vgpu_debugfs_read("virtio-gpu-features", buf, sizeof(buf)))
		return -1;
	for (line = strtok(buf, "\n"); line && n < max; line = strtok(NULL, "\n")) {
		if (sscanf(line, "capset id %u : max version %u, max size %u",
			   &c[n].id, &c[n].max_version, &c[n].max_size) == 3)
			n++;
	}
	return n;
}

/* The "capsets cached" count from debugfs, or -1. */
static inline int vgpu_capsets_cached(void)
{
	char buf[4096], *p;

	if (vgpu_debugfs_read("virtio-gpu-features", buf, sizeof(buf)))
		return -1;
	p = strstr(buf, "capsets cached");
	if (!p || !(p = strchr(p, ':')))
		return -1;
	return atoi(p + 1);
}

/* GETPARAM: value (>= 0) or -errno. */
static inline long long vgpu_getparam(int fd, uint64_t param)
{
	int value = -1;
	struct drm_virtgpu_getparam gp = { .param = param, .value = (uintptr_t)&value };

	if (ioctl(fd, DRM_IOCTL_VIRTGPU_GETPARAM, &gp))
		return -errno;
	return value;
}

/* Path of debugfs file @file of our DRM device (first dri/<N> that has it); 0 if found. */
static inline int vgpu_debugfs_path(const char *file, char *path, size_t len)
{
	struct dirent *de;
	DIR *d = opendir("/sys/kernel/debug/dri");
	int ret = -1;

	if (!d)
		return -1;
	while (ret && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, len, "/sys/kernel/debug/dri/%s/%s", de->d_name, file);
		if (!access(path, F_OK))
			ret = 0;
	}
	closedir(d);
	return ret;
}

/* Like vgpu_debugfs_read, but reads until EOF (files longer than one read()). */
static inline int vgpu_debugfs_read_all(const char *file, char *buf, size_t len)
{
	char p[320];
	size_t got = 0;
	ssize_t n;
	int fd;

	if (vgpu_debugfs_path(file, p, sizeof(p)))
		return -1;
	fd = open(p, O_RDONLY);
	if (fd < 0)
		return -1;
	while (got < len - 1 && (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += n;
	close(fd);
	buf[got] = 0;
	return 0;
}

/* Writes @val to debugfs file @file of our DRM device; 0 or -errno. */
static inline int vgpu_debugfs_write(const char *file, const char *val)
{
	char p[320];

	if (vgpu_debugfs_path(file, p, sizeof(p)))
		return -ENOENT;
	return vgpu_sysfs_write(p, val);
}

#define VGPU_PTPROBE "/sys/kernel/debug/vgpu_ptprobe"

/*
 * The vgpu_ptprobe line for @addr of this process ("addr=... pte=... pfn=... memtype=...
 * valid=..."), read from the page-table entry; 0 or -errno (-ENOENT: module not loaded).
 */
static inline int vgpu_ptprobe_line(const void *addr, char *line, size_t len)
{
	char a[32];
	int fd = open(VGPU_PTPROBE, O_RDWR | O_CLOEXEC), ret = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	snprintf(a, sizeof(a), "0x%lx", (unsigned long)addr);
	if (pwrite(fd, a, strlen(a), 0) < 0) {
		ret = -errno;
	} else {
		n = pread(fd, line, len - 1, 0);
		if (n < 0)
			ret = -errno;
		else
			line[n] = 0;
	}
	close(fd);
	if (!ret && strchr(line, '\n'))
		*strchr(line, '\n') = 0;
	return ret;
}

/*
 * Memory type of the page-table entry mapping @addr ("normal", "normal-nc",
 * "device-ngnrne", ... on arm64; "wb", "wc", "uc-", "uc" on x86_64; "none" if no entry
 * is present) into @out; 0 or -errno. Touches nothing: fault the page in first.
 */
static inline int vgpu_pte_memtype(const void *addr, char *out, size_t len)
{
	char line[256], *m;
	int ret = vgpu_ptprobe_line(addr, line, sizeof(line));

	if (ret)
		return ret;
	m = strstr(line, "memtype=");
	if (!m)
		return -EPROTO;
	m += strlen("memtype=");
	snprintf(out, len, "%.*s", (int)strcspn(m, " \n"), m);
	return 0;
}

#endif
