/* SPDX-License-Identifier: GPL-2.0 */
/*
 * progress.h - "what: N MiB at R MiB/s" on a terminal, nothing otherwise.
 */
#ifndef STRATA_PROGRESS_H
#define STRATA_PROGRESS_H

#include <stdint.h>

struct progress {
	const char *what;
	uint64_t bytes;
	double start, last;	/* seconds, CLOCK_MONOTONIC */
	int enabled;		/* stderr is a terminal */
};

void progress_start(struct progress *p, const char *what);
void progress_add(struct progress *p, uint64_t bytes);
/* Print the final line (on a terminal) and reset. */
void progress_done(struct progress *p);

#endif /* STRATA_PROGRESS_H */
