// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_tar.c - libFuzzer harness for the first thing an import does with
 * a layer: read it with libarchive (any supported format and filter, as
 * the import does) and judge every entry with tarsafe_check().  It must
 * never crash or leak, and what it lets through must be relative and stay
 * inside the layer.
 */
#include <archive.h>
#include <archive_entry.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../tarsafe.h"

/* A path tarsafe let through may not climb out of the layer. */
static void check_path(const char *p)
{
	const char *c;

	if (!p)
		return;
	if (p[0] == '/')
		abort();
	for (c = p; (c = strstr(c, "..")); c += 2)
		if ((c == p || c[-1] == '/') && (c[2] == '/' || !c[2]))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct tarsafe_opts opts[] = { { false }, { true } };
	struct archive_entry *e;
	struct archive *a;
	int n = 0;

	a = archive_read_new();
	if (!a)
		return 0;
	archive_read_support_format_all(a);
	archive_read_support_filter_all(a);
	if (archive_read_open_memory(a, data, size) != ARCHIVE_OK)
		goto out;
	/* Bounded: a tiny input can describe very many entries. */
	while (n++ < 4096 && archive_read_next_header(a, &e) == ARCHIVE_OK) {
		const char *link = archive_entry_hardlink(e);

		if (tarsafe_check(e, &opts[n & 1]))
			continue;
		check_path(archive_entry_pathname(e));
		check_path(link);
		archive_read_data_skip(a);
	}
out:
	archive_read_free(a);
	return 0;
}
