// SPDX-License-Identifier: GPL-2.0
/*
 * A small GLES client of Mesa's virgl driver, as Debian ships it: EGL on the surfaceless
 * platform (render node only, no window system), a GLES 3 context, an RGBA8
 * renderbuffer cleared to a known colour, then a second colour in a scissored corner,
 * both read back with glReadPixels and compared exactly.
 *
 * On virtio-gpu this exercises 3D resources, SUBMIT_3D through EXECBUFFER, transfers
 * from the host and fence waits. libEGL.so.1 and libGLESv2.so.2 (libglvnd) are
 * dlopen()ed, so the program builds without Mesa's libraries.
 */
#define EGL_EGL_PROTOTYPES 0
#define GL_GLES_PROTOTYPES 0
#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <GLES3/gl3.h>

#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mesa_tap.h"

#define W 64
#define H 64
/* Corner cleared with the second colour: [CX, W) x [CY, H). */
#define CX 40
#define CY 24

/* Colours of exactly representable k/255 components, so the clear is exact in UNORM8. */
static const uint8_t colour_a[4] = { 0x33, 0x66, 0xcc, 0xff };
static const uint8_t colour_b[4] = { 0xf0, 0x0f, 0x80, 0x40 };

#define EGL_FUNCS(X)                                                           \
	X(PFNEGLGETERRORPROC, eglGetError)                                     \
	X(PFNEGLQUERYSTRINGPROC, eglQueryString)                               \
	X(PFNEGLGETPLATFORMDISPLAYPROC, eglGetPlatformDisplay)                 \
	X(PFNEGLINITIALIZEPROC, eglInitialize)                                 \
	X(PFNEGLTERMINATEPROC, eglTerminate)                                   \
	X(PFNEGLBINDAPIPROC, eglBindAPI)                                       \
	X(PFNEGLCHOOSECONFIGPROC, eglChooseConfig)                             \
	X(PFNEGLCREATECONTEXTPROC, eglCreateContext)                           \
	X(PFNEGLDESTROYCONTEXTPROC, eglDestroyContext)                         \
	X(PFNEGLMAKECURRENTPROC, eglMakeCurrent)                               \
	X(PFNEGLRELEASETHREADPROC, eglReleaseThread)

#define GL_FUNCS(X)                                                            \
	X(PFNGLGETSTRINGPROC, glGetString)                                     \
	X(PFNGLGETERRORPROC, glGetError)                                       \
	X(PFNGLGENRENDERBUFFERSPROC, glGenRenderbuffers)                       \
	X(PFNGLBINDRENDERBUFFERPROC, glBindRenderbuffer)                       \
	X(PFNGLRENDERBUFFERSTORAGEPROC, glRenderbufferStorage)                 \
	X(PFNGLDELETERENDERBUFFERSPROC, glDeleteRenderbuffers)                 \
	X(PFNGLGENFRAMEBUFFERSPROC, glGenFramebuffers)                         \
	X(PFNGLBINDFRAMEBUFFERPROC, glBindFramebuffer)                         \
	X(PFNGLFRAMEBUFFERRENDERBUFFERPROC, glFramebufferRenderbuffer)         \
	X(PFNGLCHECKFRAMEBUFFERSTATUSPROC, glCheckFramebufferStatus)           \
	X(PFNGLDELETEFRAMEBUFFERSPROC, glDeleteFramebuffers)                   \
	X(PFNGLVIEWPORTPROC, glViewport)                                       \
	X(PFNGLCLEARCOLORPROC, glClearColor)                                   \
	X(PFNGLCLEARPROC, glClear)                                             \
	X(PFNGLENABLEPROC, glEnable)                                           \
	X(PFNGLDISABLEPROC, glDisable)                                         \
	X(PFNGLSCISSORPROC, glScissor)                                         \
	X(PFNGLPIXELSTOREIPROC, glPixelStorei)                                 \
	X(PFNGLREADPIXELSPROC, glReadPixels)                                   \
	X(PFNGLFINISHPROC, glFinish)

static struct {
	void *egl_lib, *gles_lib;
	PFNEGLGETPROCADDRESSPROC eglGetProcAddress;
#define DECLARE(type, name) type name;
	EGL_FUNCS(DECLARE)
	GL_FUNCS(DECLARE)
#undef DECLARE
	EGLDisplay dpy;
	EGLContext ctx;
	GLuint rb, fbo;
} g = { .dpy = EGL_NO_DISPLAY, .ctx = EGL_NO_CONTEXT };

static bool has_ext(const char *list, const char *ext)
{
	size_t n = strlen(ext);
	const char *p = list;

	while (p && (p = strstr(p, ext))) {
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
			return true;
		p += n;
	}
	return false;
}

/* libglvnd exports every EGL 1.5 and GLES 3.2 entry point; eglGetProcAddress as fallback. */
static void *lookup(void *lib, const char *name)
{
	void *f = dlsym(lib, name);

	return f ? f : (void *)g.eglGetProcAddress(name);
}

static bool load_libs(void)
{
	g.egl_lib = dlopen("libEGL.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!g.egl_lib) {
		tap_diag("dlopen(libEGL.so.1): %s", dlerror());
		return false;
	}
	g.gles_lib = dlopen("libGLESv2.so.2", RTLD_NOW | RTLD_LOCAL);
	if (!g.gles_lib) {
		tap_diag("dlopen(libGLESv2.so.2): %s", dlerror());
		return false;
	}
	g.eglGetProcAddress = (PFNEGLGETPROCADDRESSPROC)dlsym(g.egl_lib, "eglGetProcAddress");
	if (!g.eglGetProcAddress) {
		tap_diag("no eglGetProcAddress in libEGL.so.1");
		return false;
	}
#define LOAD(type, name)                                                       \
	g.name = (type)lookup(g.egl_lib, #name);                               \
	if (!g.name) {                                                         \
		tap_diag("no %s", #name);                                      \
		return false;                                                  \
	}
	EGL_FUNCS(LOAD)
#undef LOAD
#define LOAD(type, name)                                                       \
	g.name = (type)lookup(g.gles_lib, #name);                              \
	if (!g.name) {                                                         \
		tap_diag("no %s", #name);                                      \
		return false;                                                  \
	}
	GL_FUNCS(LOAD)
#undef LOAD
	return true;
}

static bool open_display(void)
{
	const char *client;
	EGLint major, minor;

	if (!load_libs())
		return false;
	client = g.eglQueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS);
	if (!has_ext(client, "EGL_MESA_platform_surfaceless")) {
		tap_diag("no EGL_MESA_platform_surfaceless in client extensions: %s",
			 client ? client : "(none)");
		return false;
	}
	g.dpy = g.eglGetPlatformDisplay(EGL_PLATFORM_SURFACELESS_MESA,
					(void *)EGL_DEFAULT_DISPLAY, NULL);
	if (g.dpy == EGL_NO_DISPLAY) {
		tap_diag("eglGetPlatformDisplay(surfaceless): 0x%x", g.eglGetError());
		return false;
	}
	if (!g.eglInitialize(g.dpy, &major, &minor)) {
		tap_diag("eglInitialize: 0x%x", g.eglGetError());
		return false;
	}
	tap_diag("EGL %d.%d, vendor %s, version %s", major, minor,
		 g.eglQueryString(g.dpy, EGL_VENDOR), g.eglQueryString(g.dpy, EGL_VERSION));
	return true;
}

static bool create_context(void)
{
	static const EGLint config_attrs[] = {
		EGL_SURFACE_TYPE, EGL_PBUFFER_BIT,
		EGL_RENDERABLE_TYPE, EGL_OPENGL_ES3_BIT,
		EGL_RED_SIZE, 8, EGL_GREEN_SIZE, 8, EGL_BLUE_SIZE, 8, EGL_ALPHA_SIZE, 8,
		EGL_NONE,
	};
	static const EGLint ctx_attrs[] = {
		EGL_CONTEXT_MAJOR_VERSION, 3,
		EGL_NONE,
	};
	const char *ext = g.eglQueryString(g.dpy, EGL_EXTENSIONS);
	EGLConfig config = NULL;
	EGLint n = 0;

	/* Rendering goes to our own FBO: no surface, so no config is needed either. */
	if (!has_ext(ext, "EGL_KHR_surfaceless_context")) {
		tap_diag("no EGL_KHR_surfaceless_context");
		return false;
	}
	if (!has_ext(ext, "EGL_KHR_no_config_context") &&
	    (!g.eglChooseConfig(g.dpy, config_attrs, &config, 1, &n) || n < 1)) {
		tap_diag("no GLES 3 RGBA8 config: 0x%x", g.eglGetError());
		return false;
	}
	if (!g.eglBindAPI(EGL_OPENGL_ES_API)) {
		tap_diag("eglBindAPI(GLES): 0x%x", g.eglGetError());
		return false;
	}
	g.ctx = g.eglCreateContext(g.dpy, config, EGL_NO_CONTEXT, ctx_attrs);
	if (g.ctx == EGL_NO_CONTEXT) {
		tap_diag("eglCreateContext(GLES 3): 0x%x", g.eglGetError());
		return false;
	}
	if (!g.eglMakeCurrent(g.dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, g.ctx)) {
		tap_diag("eglMakeCurrent(surfaceless): 0x%x", g.eglGetError());
		return false;
	}
	return true;
}

static bool renderer_is_virgl(void)
{
	const char *renderer = (const char *)g.glGetString(GL_RENDERER);
	const char *version = (const char *)g.glGetString(GL_VERSION);

	tap_diag("GL_RENDERER: %s", renderer ? renderer : "(null)");
	tap_diag("GL_VERSION: %s", version ? version : "(null)");
	return renderer && strstr(renderer, "virgl");
}

static bool create_fbo(void)
{
	GLenum status;

	g.glGenRenderbuffers(1, &g.rb);
	g.glBindRenderbuffer(GL_RENDERBUFFER, g.rb);
	g.glRenderbufferStorage(GL_RENDERBUFFER, GL_RGBA8, W, H);
	g.glGenFramebuffers(1, &g.fbo);
	g.glBindFramebuffer(GL_FRAMEBUFFER, g.fbo);
	g.glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_RENDERBUFFER, g.rb);
	status = g.glCheckFramebufferStatus(GL_FRAMEBUFFER);
	if (status != GL_FRAMEBUFFER_COMPLETE) {
		tap_diag("framebuffer status 0x%x, GL error 0x%x", status, g.glGetError());
		return false;
	}
	g.glViewport(0, 0, W, H);
	return true;
}

static void clear(const uint8_t c[4])
{
	g.glClearColor(c[0] / 255.0f, c[1] / 255.0f, c[2] / 255.0f, c[3] / 255.0f);
	g.glClear(GL_COLOR_BUFFER_BIT);
}

/* Reads the whole renderbuffer back; pixels in the corner must be @in, the rest @out. */
static bool check_pixels(const uint8_t out[4], const uint8_t *in)
{
	uint8_t *px = calloc(W * H, 4);
	int x, y, bad = 0;
	GLenum err;

	if (!px)
		return false;
	g.glPixelStorei(GL_PACK_ALIGNMENT, 1);
	g.glReadPixels(0, 0, W, H, GL_RGBA, GL_UNSIGNED_BYTE, px);
	err = g.glGetError();
	if (err != GL_NO_ERROR) {
		tap_diag("glReadPixels: GL error 0x%x", err);
		free(px);
		return false;
	}
	for (y = 0; y < H; y++) {
		for (x = 0; x < W; x++) {
			const uint8_t *p = px + 4 * (y * W + x);
			const uint8_t *want = in && x >= CX && y >= CY ? in : out;

			if (!memcmp(p, want, 4))
				continue;
			if (bad++ < 4)
				tap_diag("pixel (%d,%d) = %02x%02x%02x%02x, expected %02x%02x%02x%02x",
					 x, y, p[0], p[1], p[2], p[3], want[0], want[1], want[2],
					 want[3]);
		}
	}
	if (bad)
		tap_diag("%d of %d pixels wrong", bad, W * H);
	free(px);
	return !bad;
}

static bool clear_and_read(void)
{
	clear(colour_a);
	return check_pixels(colour_a, NULL);
}

static bool scissored_clear_and_read(void)
{
	g.glEnable(GL_SCISSOR_TEST);
	g.glScissor(CX, CY, W - CX, H - CY);
	clear(colour_b);
	g.glDisable(GL_SCISSOR_TEST);
	return check_pixels(colour_a, colour_b);
}

static void cleanup(void)
{
	if (g.ctx != EGL_NO_CONTEXT) {
		if (g.fbo)
			g.glDeleteFramebuffers(1, &g.fbo);
		if (g.rb)
			g.glDeleteRenderbuffers(1, &g.rb);
		g.glFinish();
		g.eglMakeCurrent(g.dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
		g.eglDestroyContext(g.dpy, g.ctx);
	}
	if (g.dpy != EGL_NO_DISPLAY)
		g.eglTerminate(g.dpy);
	if (g.eglReleaseThread)
		g.eglReleaseThread();
	/* Mesa's drivers do not support being unloaded: keep the libraries mapped. */
}

int main(void)
{
	tap_plan(6);
	tap_result(open_display(), true, "egl-surfaceless-display");
	if (tap_runnable("gles3-context"))
		tap_result(create_context(), true, "gles3-context");
	if (tap_runnable("renderer-is-virgl"))
		tap_result(renderer_is_virgl(), true, "renderer-is-virgl");
	if (tap_runnable("rgba8-fbo-complete"))
		tap_result(create_fbo(), true, "rgba8-fbo-complete");
	if (tap_runnable("clear-readback"))
		tap_result(clear_and_read(), false, "clear-readback");
	if (tap_runnable("scissored-clear-readback"))
		tap_result(scissored_clear_and_read(), false, "scissored-clear-readback");
	cleanup();
	return tap_exit();
}
