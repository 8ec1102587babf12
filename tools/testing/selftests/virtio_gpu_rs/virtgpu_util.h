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

/*
 * Opens the first /dev/dri/<@node><N> (N from @first to @last) whose DRM driver name is
 * @driver, its path in @path; -1 if none.
 */
static inline int vgpu_open_dri(const char *node, int first, int last, const char *driver,
				char *path, size_t len)
{
	char name[64];
	int i, fd;

	for (i = first; i <= last; i++) {
		snprintf(path, len, "/dev/dri/%s%d", node, i);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		vgpu_drm_name(fd, name, sizeof(name));
		if (!strcmp(name, driver))
			return fd;
		close(fd);
	}
	return -1;
}

/* Opens the first render node whose DRM driver name is virtio_gpu; -1 if none. */
static inline int vgpu_open_render(char *path, size_t len)
{
	return vgpu_open_dri("renderD", 128, 191, "virtio_gpu", path, len);
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

/*
 * The number after the first "@key" in debugfs @file (e.g. "objects: " in
 * virtio-gpu-objects), or -1 if the file or the key is missing.
 */
static inline long vgpu_debugfs_number(const char *file, const char *key)
{
	size_t len = 1 << 20;
	char *buf = malloc(len), *p;
	long n = -1;

	if (buf && !vgpu_debugfs_read_all(file, buf, len)) {
		p = strstr(buf, key);
		if (p)
			n = strtol(p + strlen(key), NULL, 0);
	}
	free(buf);
	return n;
}

/* Our driver's debugfs object list (-1: absent, e.g. on the C driver). */
static inline long vgpu_obj_count(void)
{
	return vgpu_debugfs_number("virtio-gpu-objects", "objects:");
}

/* Resource ids allocated, whether or not their object is listed. */
static inline long vgpu_res_id_count(void)
{
	return vgpu_debugfs_number("virtio-gpu-objects", "resource ids:");
}

/* Fenced commands the driver has queued that the host has not answered yet. */
static inline long vgpu_fences_in_flight(void)
{
	return vgpu_debugfs_number("virtio-gpu-objects", "fences in flight:");
}

/* Objects may be freed by a worker after their last reference: wait up to 5 s for @want. */
static inline long vgpu_obj_count_settle(long want)
{
	long n = vgpu_obj_count();
	int i;

	for (i = 0; i < 100 && n != want; i++) {
		usleep(50 * 1000);
		n = vgpu_obj_count();
	}
	return n;
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

/* ---- kernel mappings of dma-bufs (vgpu_ptprobe) and the kernel's page-table dump ---- */

struct vgpu_vmap {
	unsigned long vaddr;
	int iomem;
	int ret; /* 0 or the vmap's -errno */
};

/*
 * Asks vgpu_ptprobe to vmap dma-buf @dmabuf_fd (an fd of this process): through
 * dma_buf_vmap_unlocked() like an importer, or with @by_op through the exporter's vmap op
 * directly (no kernel warning when the exporter refuses). The outcome goes to @v. Returns
 * the probe's fd, which holds the mapping until vgpu_ptprobe_vunmap() or close(), or
 * -errno if the probe could not try (module not loaded: -ENOENT; not a dma-buf).
 */
static inline int vgpu_ptprobe_vmap(int dmabuf_fd, bool by_op, struct vgpu_vmap *v)
{
	int fd = open(VGPU_PTPROBE, O_RDWR | O_CLOEXEC), ret = 0;
	char cmd[32], line[128];
	ssize_t n;

	memset(v, 0, sizeof(*v));
	if (fd < 0)
		return -errno;
	snprintf(cmd, sizeof(cmd), "%s %d", by_op ? "vmap-op" : "vmap", dmabuf_fd);
	if (pwrite(fd, cmd, strlen(cmd), 0) < 0) {
		ret = -errno;
	} else {
		n = pread(fd, line, sizeof(line) - 1, 0);
		if (n < 0) {
			ret = -errno;
		} else {
			line[n] = 0;
			if (sscanf(line, "vaddr=%lx iomem=%d ret=%d", &v->vaddr, &v->iomem,
				   &v->ret) != 3)
				ret = -EPROTO;
		}
	}
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

/* Drops the vmap probe fd @pfd holds and closes it; 0 or the write's -errno. */
static inline int vgpu_ptprobe_vunmap(int pfd)
{
	int ret = pwrite(pfd, "vunmap", 6, 0) < 0 ? -errno : 0;

	close(pfd);
	return ret;
}

/* One line of the kernel page-table dump: a run of entries with the same attributes. */
struct vgpu_kpt {
	unsigned long start, end;	/* [start, end) */
	char level[8];			/* arm64 PGD..PTE, x86 pgd..pte */
	bool present;
	char memtype[16];		/* vgpu_pte_memtype()'s names; "none" if not present */
	char line[256];
};

#if defined(__aarch64__)
#define VGPU_KPT_FILE "/sys/kernel/debug/kernel_page_tables"

/* arch/arm64/mm/ptdump.c: the AttrIndx names, and " F" for an invalid entry. */
static inline int vgpu_kpt_attrs(char *attrs, struct vgpu_kpt *k)
{
	static const struct { const char *dump, *name; } mt[] = {
		{ "MEM/NORMAL", "normal" }, { "MEM/NORMAL-NC", "normal-nc" },
		{ "MEM/NORMAL-TAGGED", "normal-tagged" }, { "DEVICE/nGnRnE", "device-ngnrne" },
		{ "DEVICE/nGnRE", "device-ngnre" },
	};
	char *tok, *save;
	bool any = false, invalid = false;
	unsigned int i;

	snprintf(k->memtype, sizeof(k->memtype), "unknown");
	for (tok = strtok_r(attrs, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		any = true;
		if (!strcmp(tok, "F"))
			invalid = true;
		for (i = 0; i < sizeof(mt) / sizeof(mt[0]); i++)
			if (!strcmp(tok, mt[i].dump))
				snprintf(k->memtype, sizeof(k->memtype), "%s", mt[i].name);
	}
	/* An empty entry prints no attributes at all. */
	k->present = any && !invalid;
	return 0;
}
#elif defined(__x86_64__)
#define VGPU_KPT_FILE "/sys/kernel/debug/page_tables/kernel"

/*
 * arch/x86/mm/dump_pagetables.c prints PWT, PCD and PAT; their meaning is the PAT MSR's.
 * Linux programs WB WC UC- UC WB WP UC- WT when PAT is enabled (then pat_memtype_list
 * exists), except on CPUs with PAT errata that QEMU does not model. Without PAT the
 * firmware's table (unknown here) applies: -EOPNOTSUPP.
 */
static inline int vgpu_kpt_attrs(char *attrs, struct vgpu_kpt *k)
{
	static const char *const pat[8] = { "wb", "wc", "uc-", "uc", "wb", "wp", "uc-", "wt" };
	unsigned int idx = 0;
	char *tok, *save;

	if (access("/sys/kernel/debug/x86/pat_memtype_list", F_OK))
		return -EOPNOTSUPP;
	k->present = false;
	for (tok = strtok_r(attrs, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		if (!strcmp(tok, "RW") || !strcmp(tok, "ro"))
			k->present = true;
		else if (!strcmp(tok, "PWT"))
			idx |= 1;
		else if (!strcmp(tok, "PCD"))
			idx |= 2;
		else if (!strcmp(tok, "PAT"))
			idx |= 4;
	}
	snprintf(k->memtype, sizeof(k->memtype), "%s", pat[idx]);
	return 0;
}
#endif

/*
 * 0 if the kernel page-table dump exists and this architecture's lines can be decoded;
 * -EOPNOTSUPP if they cannot (x86 without PAT, other architectures), else -errno of the
 * file (-ENOENT: a kernel without CONFIG_PTDUMP_DEBUGFS).
 */
static inline int vgpu_kernel_pt_usable(void)
{
#if defined(__x86_64__)
	if (access("/sys/kernel/debug/x86/pat_memtype_list", F_OK))
		return -EOPNOTSUPP;
#endif
#ifdef VGPU_KPT_FILE
	return access(VGPU_KPT_FILE, R_OK) ? -errno : 0;
#else
	return -EOPNOTSUPP;
#endif
}

/*
 * The lines of the kernel page-table dump (CONFIG_PTDUMP_DEBUGFS) that overlap
 * [@addr, @addr + @len), in address order, at most @max of them into @k. Returns how many
 * lines overlap (more than @max possible), or -errno: -ENOENT without the dump file,
 * -EOPNOTSUPP where the dump cannot be decoded.
 */
static inline int vgpu_kernel_pt(unsigned long addr, unsigned long len, struct vgpu_kpt *k,
				 int max)
{
#ifdef VGPU_KPT_FILE
	char line[512], attrs[512];
	struct vgpu_kpt cur;
	int n = 0, ret = 0, off;
	FILE *f = fopen(VGPU_KPT_FILE, "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		memset(&cur, 0, sizeof(cur));
		/* "0x<start>-0x<end>   <size><unit> <level> <attributes...>" (arm64) */
		/* "0x<start>-0x<end>   <size><unit> <attributes...> <level>" (x86) */
		off = -1;
		if (sscanf(line, "0x%lx-0x%lx %*s %n", &cur.start, &cur.end, &off) < 2 || off < 0)
			continue; /* markers, "... entries skipped ..." */
		if (cur.end <= addr || cur.start >= addr + len)
			continue;
		snprintf(cur.line, sizeof(cur.line), "%.*s", (int)sizeof(cur.line) - 1, line);
		snprintf(attrs, sizeof(attrs), "%s", line + off);
#if defined(__aarch64__)
		{
			char *sp = attrs + strcspn(attrs, " ");

			snprintf(cur.level, sizeof(cur.level), "%.*s",
				 (int)(sp - attrs) < 7 ? (int)(sp - attrs) : 7, attrs);
			memmove(attrs, sp, strlen(sp) + 1);
		}
#else
		{
			char *last = strrchr(attrs, ' ');

			snprintf(cur.level, sizeof(cur.level), "%.7s", last ? last + 1 : attrs);
			if (last)
				*last = 0;
			else
				attrs[0] = 0;
		}
#endif
		ret = vgpu_kpt_attrs(attrs, &cur);
		if (ret)
			break;
		if (!cur.present)
			snprintf(cur.memtype, sizeof(cur.memtype), "none");
		if (n < max)
			k[n] = cur;
		n++;
	}
	fclose(f);
	return ret ? ret : n;
#else
	return -EOPNOTSUPP;
#endif
}

/* Open file descriptors of this process. */
static inline int vgpu_fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own */
}

/* The /proc/self/maps line of the mapping that holds @addr, "" if there is none. */
static inline void vgpu_maps_line(const void *addr, char *out, size_t len)
{
	unsigned long a = (unsigned long)addr, lo, hi;
	char line[512];
	FILE *f = fopen("/proc/self/maps", "re");

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

#endif
