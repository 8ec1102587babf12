// SPDX-License-Identifier: GPL-2.0
/*
 * Prints "param value" for GETPARAM 1..9 of the virtio_gpu render node (value, or
 * -errno). Run under the C driver and under ours on the same device; the selftest
 * compares the two dumps.
 */
#include "virtgpu_util.h"

int main(void)
{
	char path[64];
	int fd = vgpu_open_render(path, sizeof(path));
	uint64_t p;

	if (fd < 0) {
		fprintf(stderr, "no virtio_gpu render node\n");
		return 1;
	}
	for (p = 1; p <= 9; p++)
		printf("%llu %lld\n", (unsigned long long)p, vgpu_getparam(fd, p));
	close(fd);
	return 0;
}
