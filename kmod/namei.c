// SPDX-License-Identifier: GPL-2.0
/*
 * Lookup: walk the parent's stack of real directories top to bottom.
 *
 *  - the first branch that has the name wins;
 *  - a whiteout (".wh.NAME" beside it, or a 0/0 character device NAME)
 *    hides the name in the branches below;
 *  - a non-directory hides everything below it;
 *  - a directory merges with same-named directories below it until an
 *    opaque directory, a whiteout or a non-directory.
 *
 * An entry and its ".wh." whiteout in the same branch: the entry is seen
 * and the whiteout only hides lower branches (the OCI layer rule).
 */
#include <linux/namei.h>
#include <linux/slab.h>
#include "strata.h"

struct strata_lookup_data {
	struct strata_fs *sfs;
	const struct qstr *name;
	struct strata_real *found;
	unsigned int nr;
	struct strata_branch *upper_br;	/* the parent's rw branch, if any */
	struct strata_branch *stop;	/* where the walk stopped */
	unsigned int depth;		/* redirects followed to get here */
	char *redirect;		/* a directory moved here ... */
	struct strata_branch *redirect_br;	/* ... in this branch */
};

/*
 * Redirects within redirects: each level only reaches branches below the
 * last, but a crafted stack of layers must not recurse without end.
 */
#define STRATA_REDIRECT_DEPTH	4

/*
 * Look @name up in one real parent directory.  Returns 1 when the walk
 * must stop here, 0 to go on below, or -errno.  In the @last directory
 * of the stack nothing is below to hide: whiteouts and opaque markers
 * are not looked for.
 */
static int strata_lookup_branch(struct strata_lookup_data *ld,
				const struct strata_real *parent, bool last)
{
	struct dentry *this;
	int ret;

	this = lookup_one_len_unlocked(ld->name->name, parent->dentry,
				       ld->name->len);
	if (IS_ERR(this))
		return PTR_ERR(this);

	if (d_is_negative(this) || strata_is_whiteout_dentry(this)) {
		bool whiteout = d_is_positive(this);

		dput(this);
		if (whiteout)
			return 1;
		if (last)
			return 0;
		return strata_whiteout_present(parent->dentry, ld->name, false);
	}

	/* A non-directory below a directory is hidden by it. */
	if (ld->nr && !d_is_dir(this)) {
		dput(this);
		return 1;
	}
	ld->found[ld->nr].dentry = this;
	ld->found[ld->nr].br = parent->br;
	atomic_long_inc(&parent->br->users);
	ld->nr++;
	if (!d_is_dir(this))
		return 1;

	/*
	 * A directory renamed in the union: its contents in the branches
	 * below live at the path its redirect names, not under this name.
	 * Only branches that were rw in this mount hold records (the one
	 * now, or one a live commit made a layer); image layers carry none,
	 * and reading them for one would cost a getxattr per layer.
	 */
	if (ld->depth < STRATA_REDIRECT_DEPTH && parent->br->was_rw) {
		ld->redirect = strata_get_redirect(ld->sfs, this);
		if (IS_ERR(ld->redirect)) {
			ret = PTR_ERR(ld->redirect);
			ld->redirect = NULL;
			return ret;
		}
		if (ld->redirect) {
			ld->redirect_br = parent->br;
			return 1;
		}
	}

	if (last)
		return 0;
	ret = strata_dir_is_opaque(ld->sfs, this);
	if (ret)
		return ret;
	return strata_whiteout_present(parent->dentry, ld->name, false);
}

static int strata_lookup_in(struct super_block *sb,
			    struct strata_entry *pe, struct dentry *pupper,
			    const struct qstr *name, unsigned int depth,
			    struct strata_entry **ep);

/* The root's stack strictly below branch @br, as a pinned view. */
static struct strata_entry *strata_root_below(struct super_block *sb,
					      struct strata_branch *br)
{
	struct strata_entry *root = STRATA_E(sb->s_root), *view;
	unsigned int j = 0;

	if (br != root->upper_br) {
		while (j < root->nr && root->r[j].br != br)
			j++;
		if (j < root->nr)
			j++;
	}
	view = strata_entry_alloc(root->nr - j);
	if (!view)
		return NULL;
	view->pinned = true;
	memcpy(view->r, root->r + j, view->nr * sizeof(*view->r));
	return view;
}

/*
 * The stack a redirect in branch @br names: walk its path from the root
 * through the branches below @br only.  Components are plain names, so
 * a redirect can only reach directories of this union's own branches
 * below the one that holds it.
 */
static int strata_resolve_redirect(struct super_block *sb, char *path,
				   struct strata_branch *br,
				   unsigned int depth, struct strata_entry **ep)
{
	struct strata_entry *view = strata_root_below(sb, br), *pe = view;
	struct strata_entry *cur = NULL, *next;
	char *comp;
	int err = 0;

	*ep = NULL;
	if (!view)
		return -ENOMEM;

	while ((comp = strsep(&path, "/"))) {
		struct qstr q = QSTR_INIT(comp, strlen(comp));

		if (!*comp)
			continue;
		if (!strcmp(comp, ".") || !strcmp(comp, "..") ||
		    strata_is_reserved_name(comp, q.len) || q.len > NAME_MAX) {
			err = -EIO;
			break;
		}
		err = strata_lookup_in(sb, pe, NULL, &q, depth, &next);
		strata_entry_free(cur);
		cur = next;
		if (err || !cur)
			break;
		if (!cur->nr || !d_is_dir(cur->r[0].dentry)) {
			strata_entry_free(cur);
			cur = NULL;
			break;
		}
		pe = cur;
	}
	if (err) {
		strata_entry_free(cur);
		cur = NULL;
	}
	strata_entry_free(view);
	*ep = cur;
	return err;
}

/* Look @name up in the stack @pupper (may be NULL) over @pe's lower part. */
static int strata_lookup_in(struct super_block *sb,
			    struct strata_entry *pe, struct dentry *pupper,
			    const struct qstr *name, unsigned int depth,
			    struct strata_entry **ep)
{
	unsigned int i, n = strata_stack_nr(pe, pupper), skip, first;
	unsigned int lower_start = pupper ? 1 : 0;
	struct strata_real small[4];
	struct strata_lookup_data ld = {
		.sfs = STRATA_FS(sb),
		.name = name,
		.upper_br = pupper ? pe->upper_br : NULL,
		.depth = depth,
	};
	struct strata_entry *e = NULL, *moved = NULL;
	const struct cred *old;
	int err = 0;

	*ep = NULL;
	if (!n)
		return 0;
	/* The lower layers that cannot answer are skipped: no slot for them. */
	first = strata_index_first(sb, pe, name);
	ld.found = small;
	if (n - first > ARRAY_SIZE(small)) {
		ld.found = strata_fail_alloc(kvmalloc_array(n - first,
							    sizeof(*ld.found),
							    GFP_KERNEL));
		if (!ld.found)
			return -ENOMEM;
	}

	old = strata_override_creds(sb);
	for (i = 0; i < n; i++) {
		struct strata_real r;

		/* Entering the lower stack: skip what cannot answer. */
		if (i == lower_start)
			i += first;
		if (i >= n)
			break;
		r = strata_stack_at(pe, pupper, i);
		err = strata_lookup_branch(&ld, &r, i == n - 1);
		if (err) {
			ld.stop = r.br;
			break;
		}
	}
	if (err > 0)
		err = 0;
	if (!err && ld.redirect)
		err = strata_resolve_redirect(sb, ld.redirect, ld.redirect_br,
					      depth + 1, &moved);
	revert_creds(old);
	kfree(ld.redirect);

	/* A name found in the rw branch becomes the entry's upper. */
	skip = ld.nr && ld.upper_br && ld.found[0].br == ld.upper_br ? 1 : 0;
	if (!err && ld.nr) {
		unsigned int nfound = ld.nr - skip;
		unsigned int nmoved = moved ? moved->nr : 0;

		e = strata_entry_alloc(nfound + nmoved);
		if (e) {
			/* What the walk found, then what the redirect names. */
			memcpy(e->r, ld.found + skip, nfound * sizeof(*e->r));
			ld.nr = skip;
			if (nmoved)
				memcpy(e->r + nfound, moved->r,
				       nmoved * sizeof(*e->r));
			if (moved)
				moved->nr = 0;
		}
		if (e && skip) {
			e->upper = ld.found[0].dentry;
			e->upper_br = ld.found[0].br;
			ld.found[0].dentry = NULL;
		}
		/* A redirected stack was not walked here: any change counts. */
		if (e)
			e->stop = moved ? NULL : ld.stop;
		if (!e)
			err = -ENOMEM;
	}
	strata_entry_free(moved);
	for (i = 0; i < ld.nr; i++)
		strata_real_drop(&ld.found[i]);
	if (ld.found != small)
		kvfree(ld.found);
	*ep = e;
	return err;
}

/*
 * Look @name up in the stack of the union directory @parent.  With
 * @lower_only, the rw branch is skipped: "would a lower branch show this
 * name?", which decides whether removing it needs a whiteout.  *ep is
 * NULL for a negative result.
 */
int strata_lookup_stack(struct dentry *parent, const struct qstr *name,
			bool lower_only, struct strata_entry **ep)
{
	struct strata_entry *pe = STRATA_E(parent);

	return strata_lookup_in(parent->d_sb, pe,
				lower_only ? NULL : strata_entry_upper(pe),
				name, 0, ep);
}

struct dentry *strata_lookup(struct inode *dir, struct dentry *dentry,
			     unsigned int flags)
{
	struct super_block *sb = dir->i_sb;
	struct strata_entry *e;
	struct inode *inode = NULL;
	struct dentry *alias;
	int err;

	if (strata_is_reserved_name(dentry->d_name.name, dentry->d_name.len))
		return d_splice_alias(NULL, dentry);

	atomic64_inc(&STRATA_FS(sb)->stats.lookups);
	/* A parent reached through a descriptor was not revalidated. */
	strata_refresh_dir(dentry->d_parent);
	/*
	 * The parent's stack is right as of the branch change count in its
	 * d_time; so is what is found in it.  Read it before the stack.
	 */
	dentry->d_time = smp_load_acquire(&dentry->d_parent->d_time);
	err = strata_lookup_stack(dentry->d_parent, &dentry->d_name, false, &e);
	if (err)
		return ERR_PTR(err);
	if (e) {
		inode = strata_get_inode(sb, e);
		if (IS_ERR(inode)) {
			strata_entry_free(e);
			return ERR_CAST(inode);
		}
		dentry->d_fsdata = e;
	}
	alias = d_splice_alias(inode, dentry);
	/*
	 * The directory's old dentry, still in use, came back: it takes
	 * the stack just built (refresh.c).  @dentry is dropped unseen.
	 */
	if (e && !IS_ERR_OR_NULL(alias)) {
		dentry->d_fsdata = NULL;
		strata_adopt_entry(alias, e, dentry->d_time);
	}
	return alias;
}

/*
 * The root merges the branch roots of @t down to the first opaque one.
 * Its entry is pinned: it takes no references, the branch mounts hold
 * the roots, and a branch change replaces it while lookups may still
 * walk the old one.
 */
int strata_build_root_entry(struct super_block *sb, struct strata_table *t,
			    struct strata_entry **ep)
{
	struct strata_fs *sfs = STRATA_FS(sb);
	struct strata_entry *e;
	const struct cred *old;
	unsigned int n;
	int err = 0;

	e = strata_entry_alloc(t->nr);
	if (!e)
		return -ENOMEM;
	e->pinned = true;
	old = strata_override_creds(sb);
	for (n = 0; n < t->nr; n++) {
		e->r[n].dentry = t->br[n]->mnt->mnt_root;
		e->r[n].br = t->br[n];
		err = strata_dir_is_opaque(sfs, e->r[n].dentry);
		if (err) {
			e->stop = t->br[n];
			n++;
			break;
		}
	}
	revert_creds(old);
	e->nr = n;
	if (err < 0) {
		strata_entry_free(e);
		return err;
	}
	/* The rw branch's root is the upper of the union root. */
	if (t->br[0]->mode == STRATA_BR_RW) {
		e->upper = e->r[0].dentry;
		e->upper_br = e->r[0].br;
		memmove(e->r, e->r + 1, (n - 1) * sizeof(e->r[0]));
		e->nr = n - 1;
	}
	*ep = e;
	return 0;
}
