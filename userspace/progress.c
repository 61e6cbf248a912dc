// SPDX-License-Identifier: GPL-2.0
/*
 * progress.c - throttled progress lines on stderr, only on a terminal, so
 * logs and pipes stay quiet.
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void show(struct progress *p, const char *end)
{
	double secs = now() - p->start;
	double mib = p->bytes / 1048576.0;

	fprintf(stderr, "\r%s: %.1f MiB at %.1f MiB/s%s", p->what, mib,
		secs > 0 ? mib / secs : 0.0, end);
	fflush(stderr);
}

void progress_start(struct progress *p, const char *what)
{
	p->what = what;
	p->bytes = 0;
	p->start = p->last = now();
	p->enabled = isatty(STDERR_FILENO);
}

void progress_add(struct progress *p, uint64_t bytes)
{
	double t;

	p->bytes += bytes;
	if (!p->enabled)
		return;
	t = now();
	if (t - p->last < 0.2)
		return;
	p->last = t;
	show(p, "");
}

void progress_done(struct progress *p)
{
	/* Nothing was counted: no line for it. */
	if (p->enabled && p->what && p->bytes)
		show(p, "\n");
	p->what = NULL;
}
