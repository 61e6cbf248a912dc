// SPDX-License-Identifier: GPL-2.0
/*
 * Name indexes of really-read-only (rr) directories.
 *
 * rr branches promise never to change while mounted, so what their
 * directories hold can be read once.  For a union directory whose whole
 * lower stack is rr, the first lookup below it reads every lower real
 * directory into one hash table: name -> the first layer of the stack that
 * has the name or its ".wh." whiteout.  A later lookup then skips the
 * layers that cannot answer: a missing name costs one probe instead of two
 * real lookups per layer, and a name of the bottom layer goes there
 * directly.  Directories with very many names are not indexed.
 */
#include <linux/fs.h>
#include <linux/hash.h>
#include <linux/slab.h>
#include <linux/stringhash.h>
#include "strata.h"

/* Below this many rr layers the real lookups are cheap enough. */
#define STRATA_INDEX_MIN_LAYERS	4
/* Bound on memory: bigger directories are looked up layer by layer. */
#define STRATA_INDEX_MAX_NAMES	BIT(18)

struct strata_index_node {
	struct hlist_node hash;
	u32 hashval;
	unsigned int first;		/* position in the lower stack */
	unsigned int len;
	char name[];
};

struct strata_name_index {
	struct hlist_head *buckets;
	unsigned int bits;
	unsigned int count;
};

struct strata_index_reader {
	struct dir_context ctx;
	struct strata_name_index *idx;
	unsigned int pos;
	int err;
};

static u32 strata_index_hash(const char *name, unsigned int len)
{
	return full_name_hash(NULL, name, len);
}

static struct strata_index_node *
strata_index_find(const struct strata_name_index *idx, const char *name,
		  unsigned int len, u32 hashval)
{
	struct strata_index_node *n;

	hlist_for_each_entry(n, &idx->buckets[hash_32(hashval, idx->bits)], hash)
		if (n->hashval == hashval && n->len == len &&
		    !memcmp(n->name, name, len))
			return n;
	return NULL;
}

static int strata_index_grow(struct strata_name_index *idx)
{
	unsigned int bits = idx->bits + 1, i;
	struct hlist_head *b;
	struct hlist_node *tmp;
	struct strata_index_node *n;

	b = kvcalloc(1U << bits, sizeof(*b), GFP_KERNEL);
	if (!b)
		return -ENOMEM;
	for (i = 0; i < (1U << idx->bits); i++)
		hlist_for_each_entry_safe(n, tmp, &idx->buckets[i], hash)
			hlist_add_head(&n->hash, &b[hash_32(n->hashval, bits)]);
	kvfree(idx->buckets);
	idx->buckets = b;
	idx->bits = bits;
	return 0;
}

/* Record @name at @pos unless an upper layer had it already. */
static int strata_index_add(struct strata_name_index *idx, const char *name,
			    unsigned int len, unsigned int pos)
{
	u32 hashval = strata_index_hash(name, len);
	struct strata_index_node *n;

	if (strata_index_find(idx, name, len, hashval))
		return 0;
	if (idx->count >= STRATA_INDEX_MAX_NAMES)
		return -E2BIG;
	if (idx->count >= (2U << idx->bits) && strata_index_grow(idx))
		return -ENOMEM;
	n = kmalloc(struct_size(n, name, len), GFP_KERNEL);
	if (!n)
		return -ENOMEM;
	n->hashval = hashval;
	n->first = pos;
	n->len = len;
	memcpy(n->name, name, len);
	hlist_add_head(&n->hash, &idx->buckets[hash_32(hashval, idx->bits)]);
	idx->count++;
	return 0;
}

static bool strata_index_fill(struct dir_context *ctx, const char *name,
			      int len, loff_t offset, u64 ino,
			      unsigned int type)
{
	struct strata_index_reader *ir =
		container_of(ctx, struct strata_index_reader, ctx);

	/* A whiteout answers for its name; markers answer nothing. */
	if (strata_classify_name(&name, &len) == STRATA_NAME_SKIP)
		return true;
	ir->err = strata_index_add(ir->idx, name, len, ir->pos);
	return !ir->err;
}

void strata_index_free(struct strata_name_index *idx)
{
	struct strata_index_node *n;
	struct hlist_node *tmp;
	unsigned int i;

	if (IS_ERR_OR_NULL(idx))
		return;
	for (i = 0; i < (1U << idx->bits); i++)
		hlist_for_each_entry_safe(n, tmp, &idx->buckets[i], hash)
			kfree(n);
	kvfree(idx->buckets);
	kfree(idx);
}

static struct strata_name_index *strata_index_build(struct super_block *sb,
						    const struct strata_entry *e)
{
	struct strata_index_reader ir = { .ctx.actor = strata_index_fill };
	struct strata_name_index *idx;
	const struct cred *old;
	unsigned int pos;
	int err = 0;

	idx = strata_fail_alloc(kzalloc(sizeof(*idx), GFP_KERNEL));
	if (!idx)
		return ERR_PTR(-ENOMEM);
	idx->bits = 8;
	idx->buckets = kvcalloc(1U << idx->bits, sizeof(*idx->buckets),
				GFP_KERNEL);
	if (!idx->buckets) {
		kfree(idx);
		return ERR_PTR(-ENOMEM);
	}
	ir.idx = idx;
	old = strata_override_creds(sb);
	for (pos = 0; pos < e->nr && !err; pos++) {
		struct path path = {
			.mnt = e->r[pos].br->mnt,
			.dentry = e->r[pos].dentry,
		};
		struct file *file;

		file = dentry_open(&path, O_RDONLY | O_DIRECTORY, current_cred());
		if (IS_ERR(file)) {
			err = PTR_ERR(file);
			break;
		}
		ir.pos = pos;
		err = iterate_dir(file, &ir.ctx);
		fput(file);
		err = err ?: ir.err;
	}
	revert_creds(old);
	if (err) {
		strata_index_free(idx);
		return ERR_PTR(err);
	}
	return idx;
}

/*
 * The index of @e's lower stack, built on first use; NULL when the stack
 * is not indexed (too short, not all rr, too many names, or out of
 * memory: then lookups simply walk every layer).
 */
static struct strata_name_index *strata_index_get(struct super_block *sb,
						  struct strata_entry *e)
{
	struct strata_name_index *idx = READ_ONCE(e->index), *old;
	unsigned int i;

	if (idx)
		return IS_ERR(idx) ? NULL : idx;
	if (e->nr < STRATA_INDEX_MIN_LAYERS)
		return NULL;
	for (i = 0; i < e->nr; i++)
		if (READ_ONCE(e->r[i].br->mode) != STRATA_BR_RR)
			break;
	idx = i < e->nr ? ERR_PTR(-EPERM) : strata_index_build(sb, e);
	/* Whoever published first wins; a failure is remembered too. */
	old = cmpxchg(&e->index, NULL, idx);
	if (old) {
		strata_index_free(idx);
		idx = old;
	}
	return IS_ERR(idx) ? NULL : idx;
}

/*
 * The first position in @e's lower stack that can answer for @name, or
 * 0 when unknown, or @e->nr when no lower layer has it.
 */
unsigned int strata_index_first(struct super_block *sb, struct strata_entry *e,
				const struct qstr *name)
{
	struct strata_name_index *idx = strata_index_get(sb, e);
	struct strata_index_node *n;

	if (!idx)
		return 0;
	n = strata_index_find(idx, name->name, name->len,
			      strata_index_hash(name->name, name->len));
	return n ? n->first : e->nr;
}
