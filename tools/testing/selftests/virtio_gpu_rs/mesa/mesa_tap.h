/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TAP output for the real-client programs. They run inside the chroot of Debian's
 * arm64 Mesa, which they reach only through dlopen(), so they link nothing but libc.
 *
 * A step that cannot run because an earlier one failed is reported as a skip: the
 * failure itself is counted once, where it happened.
 */
#ifndef MESA_TAP_H
#define MESA_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static int tap_num;
static int tap_failed;
/* Set once a step fails that every later one depends on. */
static const char *tap_blocked;

static void tap_plan(int n)
{
	printf("TAP version 13\n1..%d\n", n);
	fflush(stdout);
}

static void tap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/*
 * Reports one step and returns @ok. A failure with @fatal set turns all later steps
 * into skips.
 */
static bool tap_result(bool ok, bool fatal, const char *name)
{
	tap_num++;
	if (ok) {
		printf("ok %d %s\n", tap_num, name);
	} else {
		printf("not ok %d %s\n", tap_num, name);
		tap_failed++;
		if (fatal && !tap_blocked)
			tap_blocked = name;
	}
	fflush(stdout);
	return ok;
}

/* True when the step may run; otherwise reports it as skipped. */
static bool tap_runnable(const char *name)
{
	if (!tap_blocked)
		return true;
	tap_num++;
	printf("ok %d %s # SKIP %s failed\n", tap_num, name, tap_blocked);
	fflush(stdout);
	return false;
}

static int tap_exit(void)
{
	return tap_failed ? 1 : 0;
}

#endif /* MESA_TAP_H */
