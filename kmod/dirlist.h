/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Directory listings: the names of a stack of real directories merged in
 * branch order, with what readdir reports for each.  readdir.c builds
 * them; name_index.c keeps the listing of an all-rr lower stack on its
 * union dentry, where it serves lookups (which layer can answer for a
 * name) and readdir (the merged names, ready to emit) until the dentry
 * goes.
 */
#ifndef _STRATA_DIRLIST_H
#define _STRATA_DIRLIST_H

#include <linux/types.h>
#include <linux/list.h>

/* One name, in a chunk of its listing. */
struct strata_dname {
	struct hlist_node hash;
	u64 ino;			/* d_ino, already the union's number */
	u32 hashval;
	u32 vidx;			/* index in ->vis, if visible */
	u16 first;			/* stack position that answers for it */
	u8 len;
	u8 type;			/* d_type */
	bool hidden;			/* a whiteout: hides lower names */
	char name[];
};

/*
 * Names are packed into page-sized chunks in the order they were read
 * (one allocation per chunk, not per name); a hash table finds them.
 */
struct strata_dchunk {
	struct strata_dchunk *next;
	unsigned int used;		/* bytes of @data in use */
	unsigned long data[];
};

/*
 * struct strata_name_index (strata.h only names it): a listing.  @vis
 * holds the visible names in the order readdir returns them.
 */
struct strata_name_index {
	struct hlist_head *buckets;
	unsigned int bits;
	unsigned int count;		/* names in the hash table */
	struct strata_dchunk *chunks, *tail;
	struct strata_dname **vis;
	unsigned int nvis;
	size_t bytes;			/* memory held */
	u64 gen;			/* branch change count when built */
	bool published;			/* on a dentry, counted in the bound */
};

struct strata_real;
struct super_block;

/* readdir.c */
struct strata_name_index *strata_dlist_build(struct super_block *sb,
					     const struct strata_real *r,
					     unsigned int n,
					     unsigned int max_names);
struct strata_dname *strata_dlist_find(const struct strata_name_index *l,
				       const char *name, unsigned int len);
void strata_dlist_free(struct strata_name_index *l);

/* name_index.c */
struct strata_entry;
struct strata_name_index *strata_index_listing(struct super_block *sb,
					       struct strata_entry *e,
					       bool *shared);

#endif /* _STRATA_DIRLIST_H */
