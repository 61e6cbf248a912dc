/* SPDX-License-Identifier: GPL-2.0 */
/*
 * oci.h - import OCI image layouts and docker save archives.
 */
#ifndef STRATA_OCI_H
#define STRATA_OCI_H

#include "store.h"

/*
 * Import every image of @src (an OCI layout directory, or a tar of one,
 * or a docker save archive, directory or tar), verifying every blob
 * digest and diff-id, tagging each with its reference or with @tag.
 * Either all of it reaches the store or none of it.  Prints the image
 * ids on stdout.  0, or -1 after printing why.
 */
int oci_import(const struct store *st, const char *src, const char *tag);

#endif /* STRATA_OCI_H */
