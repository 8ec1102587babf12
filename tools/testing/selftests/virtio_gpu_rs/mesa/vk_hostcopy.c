// SPDX-License-Identifier: GPL-2.0
/*
 * A small Vulkan client of Mesa's venus driver, as Debian ships it: two 1 MiB buffers in
 * HOST_VISIBLE|HOST_COHERENT memory, the first filled through its mapping, copied into
 * the second by vkCmdCopyBuffer, the submission waited on through a VkFence and a
 * timeline semaphore, and every byte checked through the mapping of the second.
 *
 * On virtio-gpu this exercises EXECBUFFER with ring indices and out-fences, HOST3D blobs
 * with blob ids mapped through the host-visible region (venus memory is CACHED), and
 * fence completion. The loader is dlopen()ed, so the program builds without Mesa's
 * libraries; run it where libvulkan.so.1 and the virtio ICD are (VK_DRIVER_FILES).
 */
#define VK_NO_PROTOTYPES
#include <vulkan/vulkan.h>

#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mesa_tap.h"

#define BUF_SIZE (1u << 20)
/* Timeline: starts here, the copy signals TIMELINE_START + 1. */
#define TIMELINE_START 41
/* Generous: the host renders with llvmpipe behind a TCG guest. */
#define WAIT_NS (60ull * 1000 * 1000 * 1000)

#define VK_FUNCS(X)                                                            \
	X(vkEnumeratePhysicalDevices)                                          \
	X(vkGetPhysicalDeviceProperties2)                                      \
	X(vkGetPhysicalDeviceFeatures2)                                        \
	X(vkGetPhysicalDeviceQueueFamilyProperties)                            \
	X(vkGetPhysicalDeviceMemoryProperties)                                 \
	X(vkCreateDevice)                                                      \
	X(vkDestroyInstance)                                                   \
	X(vkGetDeviceProcAddr)                                                 \
	X(vkDestroyDevice)                                                     \
	X(vkGetDeviceQueue)                                                    \
	X(vkCreateBuffer)                                                      \
	X(vkDestroyBuffer)                                                     \
	X(vkGetBufferMemoryRequirements)                                       \
	X(vkAllocateMemory)                                                    \
	X(vkFreeMemory)                                                        \
	X(vkBindBufferMemory)                                                  \
	X(vkMapMemory)                                                         \
	X(vkUnmapMemory)                                                       \
	X(vkCreateCommandPool)                                                 \
	X(vkDestroyCommandPool)                                                \
	X(vkAllocateCommandBuffers)                                            \
	X(vkBeginCommandBuffer)                                                \
	X(vkEndCommandBuffer)                                                  \
	X(vkCmdCopyBuffer)                                                     \
	X(vkCmdPipelineBarrier)                                                \
	X(vkCreateFence)                                                       \
	X(vkDestroyFence)                                                      \
	X(vkWaitForFences)                                                     \
	X(vkGetFenceStatus)                                                    \
	X(vkCreateSemaphore)                                                   \
	X(vkDestroySemaphore)                                                  \
	X(vkWaitSemaphores)                                                    \
	X(vkGetSemaphoreCounterValue)                                          \
	X(vkQueueSubmit)                                                       \
	X(vkDeviceWaitIdle)

struct buf {
	VkBuffer buffer;
	VkDeviceMemory memory;
	uint8_t *map;
};

static struct {
	void *lib;
	PFN_vkGetInstanceProcAddr vkGetInstanceProcAddr;
	PFN_vkCreateInstance vkCreateInstance;
	PFN_vkEnumerateInstanceVersion vkEnumerateInstanceVersion;
#define DECLARE(name) PFN_##name name;
	VK_FUNCS(DECLARE)
#undef DECLARE
	VkInstance instance;
	VkPhysicalDevice phys;
	uint32_t queue_family;
	VkDevice device;
	VkQueue queue;
	struct buf src, dst;
	VkCommandPool pool;
	VkCommandBuffer cmd;
	VkFence fence;
	VkSemaphore timeline;
} vk;

static void fill_pattern(uint8_t *p, size_t size, uint32_t seed)
{
	uint32_t x = seed;
	size_t i;

	/* xorshift32: no period shorter than the buffer, so misplaced pages show. */
	for (i = 0; i < size; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = x >> 24;
	}
}

static bool load_loader(void)
{
	vk.lib = dlopen("libvulkan.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!vk.lib) {
		tap_diag("dlopen(libvulkan.so.1): %s", dlerror());
		return false;
	}
	vk.vkGetInstanceProcAddr = (PFN_vkGetInstanceProcAddr)dlsym(vk.lib, "vkGetInstanceProcAddr");
	if (!vk.vkGetInstanceProcAddr) {
		tap_diag("no vkGetInstanceProcAddr in libvulkan.so.1");
		return false;
	}
	vk.vkCreateInstance = (PFN_vkCreateInstance)vk.vkGetInstanceProcAddr(NULL, "vkCreateInstance");
	vk.vkEnumerateInstanceVersion = (PFN_vkEnumerateInstanceVersion)
		vk.vkGetInstanceProcAddr(NULL, "vkEnumerateInstanceVersion");
	return vk.vkCreateInstance && vk.vkEnumerateInstanceVersion;
}

static bool create_instance(void)
{
	VkApplicationInfo app = {
		.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
		.pApplicationName = "vk_hostcopy",
		.apiVersion = VK_API_VERSION_1_2,
	};
	VkInstanceCreateInfo info = {
		.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
		.pApplicationInfo = &app,
	};
	uint32_t version = 0;
	VkResult r;

	if (!load_loader())
		return false;
	vk.vkEnumerateInstanceVersion(&version);
	tap_diag("loader instance version %u.%u.%u", VK_API_VERSION_MAJOR(version),
		 VK_API_VERSION_MINOR(version), VK_API_VERSION_PATCH(version));
	r = vk.vkCreateInstance(&info, NULL, &vk.instance);
	if (r != VK_SUCCESS) {
		tap_diag("vkCreateInstance: %d", r);
		return false;
	}
#define LOAD(name)                                                             \
	vk.name = (PFN_##name)vk.vkGetInstanceProcAddr(vk.instance, #name);    \
	if (!vk.name) {                                                        \
		tap_diag("vkGetInstanceProcAddr(%s) failed", #name);          \
		return false;                                                  \
	}
	VK_FUNCS(LOAD)
#undef LOAD
	return true;
}

static bool is_venus(const VkPhysicalDeviceProperties2 *p,
		     const VkPhysicalDeviceDriverProperties *d)
{
	return d->driverID == VK_DRIVER_ID_MESA_VENUS ||
	       strstr(p->properties.deviceName, "Venus");
}

static bool find_venus(void)
{
	VkPhysicalDevice devs[16];
	uint32_t n = 16, i;
	VkResult r;

	r = vk.vkEnumeratePhysicalDevices(vk.instance, &n, devs);
	if (r != VK_SUCCESS && r != VK_INCOMPLETE) {
		tap_diag("vkEnumeratePhysicalDevices: %d", r);
		return false;
	}
	for (i = 0; i < n; i++) {
		VkPhysicalDeviceDriverProperties drv = {
			.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES,
		};
		VkPhysicalDeviceProperties2 props = {
			.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
			.pNext = &drv,
		};
		uint32_t api;

		vk.vkGetPhysicalDeviceProperties2(devs[i], &props);
		api = props.properties.apiVersion;
		tap_diag("device %u: %s, driver %s (%s), id %d, Vulkan %u.%u.%u", i,
			 props.properties.deviceName, drv.driverName, drv.driverInfo,
			 drv.driverID, VK_API_VERSION_MAJOR(api), VK_API_VERSION_MINOR(api),
			 VK_API_VERSION_PATCH(api));
		if (!vk.phys && is_venus(&props, &drv) && api >= VK_API_VERSION_1_2)
			vk.phys = devs[i];
	}
	if (!vk.phys)
		tap_diag("no Venus device with Vulkan 1.2 among %u", n);
	return vk.phys;
}

static bool create_device(void)
{
	VkPhysicalDeviceVulkan12Features f12 = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
	};
	VkPhysicalDeviceFeatures2 f = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
		.pNext = &f12,
	};
	VkQueueFamilyProperties qf[16];
	uint32_t n = 16, i;
	float prio = 1.0f;
	VkDeviceQueueCreateInfo qinfo = {
		.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
		.queueCount = 1,
		.pQueuePriorities = &prio,
	};
	VkPhysicalDeviceVulkan12Features enable12 = {
		.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
		.timelineSemaphore = VK_TRUE,
	};
	VkDeviceCreateInfo info = {
		.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
		.pNext = &enable12,
		.queueCreateInfoCount = 1,
		.pQueueCreateInfos = &qinfo,
	};
	VkResult r;

	vk.vkGetPhysicalDeviceFeatures2(vk.phys, &f);
	if (!f12.timelineSemaphore) {
		tap_diag("timelineSemaphore not supported");
		return false;
	}
	vk.vkGetPhysicalDeviceQueueFamilyProperties(vk.phys, &n, qf);
	/* Every graphics or compute queue also does transfers. */
	for (i = 0; i < n; i++)
		if (qf[i].queueFlags & (VK_QUEUE_GRAPHICS_BIT | VK_QUEUE_COMPUTE_BIT |
					VK_QUEUE_TRANSFER_BIT))
			break;
	if (i == n) {
		tap_diag("no queue family with transfers among %u", n);
		return false;
	}
	vk.queue_family = qinfo.queueFamilyIndex = i;
	r = vk.vkCreateDevice(vk.phys, &info, NULL, &vk.device);
	if (r != VK_SUCCESS) {
		tap_diag("vkCreateDevice: %d", r);
		return false;
	}
	vk.vkGetDeviceQueue(vk.device, vk.queue_family, 0, &vk.queue);
	return true;
}

/* The first memory type allowed by @bits with all of @flags, or -1. */
static int find_memory_type(uint32_t bits, VkMemoryPropertyFlags flags)
{
	VkPhysicalDeviceMemoryProperties mp;
	uint32_t i;

	vk.vkGetPhysicalDeviceMemoryProperties(vk.phys, &mp);
	for (i = 0; i < mp.memoryTypeCount; i++) {
		if (!(bits & (1u << i)) || (mp.memoryTypes[i].propertyFlags & flags) != flags)
			continue;
		tap_diag("memory type %u: flags 0x%x, heap %u (%" PRIu64 " MiB)", i,
			 mp.memoryTypes[i].propertyFlags, mp.memoryTypes[i].heapIndex,
			 (uint64_t)(mp.memoryHeaps[mp.memoryTypes[i].heapIndex].size >> 20));
		return i;
	}
	return -1;
}

static bool create_buffer(struct buf *b, VkBufferUsageFlags usage, int *type)
{
	VkBufferCreateInfo info = {
		.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
		.size = BUF_SIZE,
		.usage = usage,
		.sharingMode = VK_SHARING_MODE_EXCLUSIVE,
	};
	VkMemoryAllocateInfo alloc = {
		.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
	};
	VkMemoryRequirements req;
	VkResult r;

	r = vk.vkCreateBuffer(vk.device, &info, NULL, &b->buffer);
	if (r != VK_SUCCESS) {
		tap_diag("vkCreateBuffer: %d", r);
		return false;
	}
	vk.vkGetBufferMemoryRequirements(vk.device, b->buffer, &req);
	*type = find_memory_type(req.memoryTypeBits, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
				 VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
	if (*type < 0) {
		tap_diag("no HOST_VISIBLE|HOST_COHERENT type in 0x%x", req.memoryTypeBits);
		return false;
	}
	alloc.allocationSize = req.size;
	alloc.memoryTypeIndex = *type;
	r = vk.vkAllocateMemory(vk.device, &alloc, NULL, &b->memory);
	if (r != VK_SUCCESS) {
		tap_diag("vkAllocateMemory(%" PRIu64 " bytes, type %d): %d",
			 (uint64_t)req.size, *type, r);
		return false;
	}
	r = vk.vkBindBufferMemory(vk.device, b->buffer, b->memory, 0);
	if (r != VK_SUCCESS) {
		tap_diag("vkBindBufferMemory: %d", r);
		return false;
	}
	return true;
}

static bool map_buffer(struct buf *b)
{
	void *p;
	VkResult r = vk.vkMapMemory(vk.device, b->memory, 0, VK_WHOLE_SIZE, 0, &p);

	if (r != VK_SUCCESS) {
		tap_diag("vkMapMemory: %d", r);
		return false;
	}
	b->map = p;
	return true;
}

static bool record_copy(void)
{
	VkCommandPoolCreateInfo pinfo = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
		.queueFamilyIndex = vk.queue_family,
	};
	VkCommandBufferAllocateInfo ainfo = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
		.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
		.commandBufferCount = 1,
	};
	VkCommandBufferBeginInfo begin = {
		.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
		.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
	};
	VkBufferCopy region = { .size = BUF_SIZE };
	/* The fence alone does not make the copy visible to host reads. */
	VkBufferMemoryBarrier to_host = {
		.sType = VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER,
		.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
		.dstAccessMask = VK_ACCESS_HOST_READ_BIT,
		.srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
		.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED,
		.buffer = vk.dst.buffer,
		.size = VK_WHOLE_SIZE,
	};
	VkResult r;

	r = vk.vkCreateCommandPool(vk.device, &pinfo, NULL, &vk.pool);
	if (r != VK_SUCCESS) {
		tap_diag("vkCreateCommandPool: %d", r);
		return false;
	}
	ainfo.commandPool = vk.pool;
	r = vk.vkAllocateCommandBuffers(vk.device, &ainfo, &vk.cmd);
	if (r != VK_SUCCESS) {
		tap_diag("vkAllocateCommandBuffers: %d", r);
		return false;
	}
	r = vk.vkBeginCommandBuffer(vk.cmd, &begin);
	if (r != VK_SUCCESS) {
		tap_diag("vkBeginCommandBuffer: %d", r);
		return false;
	}
	vk.vkCmdCopyBuffer(vk.cmd, vk.src.buffer, vk.dst.buffer, 1, &region);
	vk.vkCmdPipelineBarrier(vk.cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
				VK_PIPELINE_STAGE_HOST_BIT, 0, 0, NULL, 1, &to_host, 0, NULL);
	r = vk.vkEndCommandBuffer(vk.cmd);
	if (r != VK_SUCCESS) {
		tap_diag("vkEndCommandBuffer: %d", r);
		return false;
	}
	return true;
}

static bool submit(void)
{
	VkFenceCreateInfo finfo = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
	VkSemaphoreTypeCreateInfo tinfo = {
		.sType = VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO,
		.semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE,
		.initialValue = TIMELINE_START,
	};
	VkSemaphoreCreateInfo sinfo = {
		.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO,
		.pNext = &tinfo,
	};
	uint64_t signal = TIMELINE_START + 1;
	VkTimelineSemaphoreSubmitInfo tsubmit = {
		.sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
		.signalSemaphoreValueCount = 1,
		.pSignalSemaphoreValues = &signal,
	};
	VkSubmitInfo info = {
		.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
		.pNext = &tsubmit,
		.commandBufferCount = 1,
		.pCommandBuffers = &vk.cmd,
		.signalSemaphoreCount = 1,
		.pSignalSemaphores = &vk.timeline,
	};
	VkResult r;

	r = vk.vkCreateFence(vk.device, &finfo, NULL, &vk.fence);
	if (r != VK_SUCCESS) {
		tap_diag("vkCreateFence: %d", r);
		return false;
	}
	r = vk.vkCreateSemaphore(vk.device, &sinfo, NULL, &vk.timeline);
	if (r != VK_SUCCESS) {
		tap_diag("vkCreateSemaphore(timeline): %d", r);
		return false;
	}
	r = vk.vkQueueSubmit(vk.queue, 1, &info, vk.fence);
	if (r != VK_SUCCESS) {
		tap_diag("vkQueueSubmit: %d", r);
		return false;
	}
	return true;
}

static bool wait_fence(void)
{
	VkResult r = vk.vkWaitForFences(vk.device, 1, &vk.fence, VK_TRUE, WAIT_NS);

	if (r != VK_SUCCESS) {
		tap_diag("vkWaitForFences: %d%s", r, r == VK_TIMEOUT ? " (timeout)" : "");
		return false;
	}
	r = vk.vkGetFenceStatus(vk.device, vk.fence);
	if (r != VK_SUCCESS) {
		tap_diag("vkGetFenceStatus after the wait: %d", r);
		return false;
	}
	return true;
}

static bool wait_timeline(void)
{
	uint64_t want = TIMELINE_START + 1, got = 0;
	VkSemaphoreWaitInfo info = {
		.sType = VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO,
		.semaphoreCount = 1,
		.pSemaphores = &vk.timeline,
		.pValues = &want,
	};
	VkResult r = vk.vkWaitSemaphores(vk.device, &info, WAIT_NS);

	if (r != VK_SUCCESS) {
		tap_diag("vkWaitSemaphores(%" PRIu64 "): %d%s", want, r,
			 r == VK_TIMEOUT ? " (timeout)" : "");
		return false;
	}
	r = vk.vkGetSemaphoreCounterValue(vk.device, vk.timeline, &got);
	tap_diag("timeline value %" PRIu64 " (signalled %" PRIu64 ")", got, want);
	if (r != VK_SUCCESS || got != want) {
		tap_diag("vkGetSemaphoreCounterValue: %d", r);
		return false;
	}
	return true;
}

static bool verify(void)
{
	uint8_t *want = malloc(BUF_SIZE);
	size_t i, bad = 0, first = 0;

	if (!want)
		return false;
	fill_pattern(want, BUF_SIZE, 0x5eed1234);
	for (i = 0; i < BUF_SIZE; i++) {
		if (vk.dst.map[i] == want[i])
			continue;
		if (!bad++)
			first = i;
	}
	if (bad)
		tap_diag("%zu of %u bytes differ, first at 0x%zx: 0x%02x, expected 0x%02x", bad,
			 BUF_SIZE, first, vk.dst.map[first], want[first]);
	free(want);
	return !bad;
}

static void destroy_buffer(struct buf *b)
{
	if (b->map)
		vk.vkUnmapMemory(vk.device, b->memory);
	if (b->buffer)
		vk.vkDestroyBuffer(vk.device, b->buffer, NULL);
	if (b->memory)
		vk.vkFreeMemory(vk.device, b->memory, NULL);
}

static void cleanup(void)
{
	if (vk.device) {
		vk.vkDeviceWaitIdle(vk.device);
		if (vk.timeline)
			vk.vkDestroySemaphore(vk.device, vk.timeline, NULL);
		if (vk.fence)
			vk.vkDestroyFence(vk.device, vk.fence, NULL);
		if (vk.pool)
			vk.vkDestroyCommandPool(vk.device, vk.pool, NULL);
		destroy_buffer(&vk.src);
		destroy_buffer(&vk.dst);
		vk.vkDestroyDevice(vk.device, NULL);
	}
	if (vk.instance)
		vk.vkDestroyInstance(vk.instance, NULL);
	/* The loader stays mapped: nothing is gained by unloading it at exit. */
}

/*
 * The memory type of the HOST_VISIBLE mapping, read from its page-table entry by the test
 * module vgpu_ptprobe, must be the one the host's map_info asks for: our driver's debugfs
 * object list names the map_info and mode of every host blob (venus memory: CACHED, so
 * Normal). Skips without the probe or without our driver's list (the C driver has none).
 */
static const char *memtype_of_mode(const char *mode)
{
	if (!strcmp(mode, "cached"))
		return "normal";
	if (!strcmp(mode, "wc"))
		return "normal-nc";
	if (!strcmp(mode, "uncached"))
		return "device-ngnrne";
	return NULL;
}

/* The mode shared by every mapped host blob in our driver's list; 0, or -1 if none/mixed. */
static int host_blob_mode(char *mode, size_t len)
{
	char path[300], line[512], *m;
	struct dirent *e;
	int found = 0;
	DIR *d = opendir("/sys/kernel/debug/dri");
	FILE *f;

	if (!d)
		return -1;
	mode[0] = 0;
	while ((e = readdir(d))) {
		snprintf(path, sizeof(path), "/sys/kernel/debug/dri/%s/virtio-gpu-objects",
			 e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			if (!strstr(line, "kind=blob-host3d ") || !(m = strstr(line, " mode=")))
				continue;
			m += strlen(" mode=");
			m[strcspn(m, " \n")] = 0;
			if (found && strcmp(mode, m))
				found = -1;
			else if (!found)
				found = 1;
			snprintf(mode, len, "%s", m);
		}
		fclose(f);
	}
	closedir(d);
	return found == 1 ? 0 : -1;
}

static void check_memtype(const char *name)
{
	char a[32], line[256] = "", mode[32], *m;
	const char *want;
	int fd = open("/sys/kernel/debug/vgpu_ptprobe", O_RDWR | O_CLOEXEC);
	ssize_t n = -1;

	if (fd >= 0) {
		snprintf(a, sizeof(a), "0x%lx", (unsigned long)vk.src.map);
		if (pwrite(fd, a, strlen(a), 0) > 0)
			n = pread(fd, line, sizeof(line) - 1, 0);
		close(fd);
	}
	if (n <= 0 || !(m = strstr(line, "memtype="))) {
		printf("ok %d %s # SKIP no vgpu_ptprobe to read the page table\n", ++tap_num, name);
		return;
	}
	line[n] = 0;
	m += strlen("memtype=");
	m[strcspn(m, " \n")] = 0;
	if (host_blob_mode(mode, sizeof(mode))) {
		printf("ok %d %s # SKIP no single host-blob mode in a virtio-gpu-objects list (memtype %s)\n",
		       ++tap_num, name, m);
		return;
	}
	want = memtype_of_mode(mode);
	tap_diag("host blobs: mode %s; PTE of the HOST_VISIBLE mapping: memtype %s", mode, m);
	tap_result(want && !strcmp(want, m), false, name);
}

int main(void)
{
	int src_type = -1, dst_type = -1;
	bool ok;

	tap_plan(10);
	tap_result(create_instance(), true, "instance");
	if (tap_runnable("venus-device"))
		tap_result(find_venus(), true, "venus-device");
	if (tap_runnable("device-with-timeline-semaphores"))
		tap_result(create_device(), true, "device-with-timeline-semaphores");
	if (tap_runnable("host-coherent-buffers")) {
		ok = create_buffer(&vk.src, VK_BUFFER_USAGE_TRANSFER_SRC_BIT, &src_type) &&
		     create_buffer(&vk.dst, VK_BUFFER_USAGE_TRANSFER_DST_BIT, &dst_type);
		tap_result(ok, true, "host-coherent-buffers");
	}
	if (tap_runnable("map-and-fill")) {
		ok = map_buffer(&vk.src) && map_buffer(&vk.dst);
		if (ok) {
			fill_pattern(vk.src.map, BUF_SIZE, 0x5eed1234);
			memset(vk.dst.map, 0xa5, BUF_SIZE);
		}
		tap_result(ok, true, "map-and-fill");
	}
	if (tap_runnable("host-visible-memtype"))
		check_memtype("host-visible-memtype");
	if (tap_runnable("copy-submitted"))
		tap_result(record_copy() && submit(), true, "copy-submitted");
	if (tap_runnable("timeline-value-reached"))
		tap_result(wait_timeline(), false, "timeline-value-reached");
	/* The bytes are only meaningful once the fence said the copy is done. */
	if (tap_runnable("fence-signalled"))
		tap_result(wait_fence(), true, "fence-signalled");
	if (tap_runnable("copy-verified"))
		tap_result(verify(), false, "copy-verified");
	cleanup();
	return tap_exit();
}
