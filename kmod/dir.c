// SPDX-License-Identifier: GPL-2.0
/*
 * Namespace operations of a writable union: create, link, remove and
 * rename, each done in the rw branch with the mounter's credentials after
 * the caller passed the VFS permission checks on the union.
 *
 * Each change goes from one consistent view to the next by a single step
 * in the rw branch, so a crash leaves the old or the new view:
 *
 *  - aufs format: an entry and its ".wh." whiteout may coexist, the entry
 *    winning (the OCI rule), so a whiteout is written before the entry it
 *    replaces goes away, and removed after the entry replacing it exists;
 *  - overlay format: the whiteout takes the entry's very name, so it is
 *    made in the work directory and swapped in with RENAME_EXCHANGE, or
 *    left by RENAME_WHITEOUT.
 */
#include <linux/namei.h>
#include <linux/slab.h>
#include <linux/cred.h>
#include "vfs.h"

struct strata_cattr {
	umode_t mode;
	dev_t rdev;
	const char *link;
	struct dentry *hardlink;	/* real source of link() */
};

/* The mounter's credentials, creating files owned by the caller. */
static int strata_creator_creds(struct super_block *sb,
				const struct cred **oldp, struct cred **newp)
{
	kuid_t fsuid = current_fsuid();
	kgid_t fsgid = current_fsgid();
	const struct cred *old;
	struct cred *new;

	old = strata_override_creds(sb);
	new = prepare_creds();
	revert_creds(old);
	if (!new)
		return -ENOMEM;
	new->fsuid = fsuid;
	new->fsgid = fsgid;
	*oldp = override_creds(new);
	*newp = new;
	return 0;
}

static void strata_revert_creator(const struct cred *old, struct cred *new)
{
	revert_creds(old);
	put_cred(new);
}

/* Would a lower branch show @name in the union directory @parent? */
static int strata_lower_has(struct dentry *parent, const struct qstr *name)
{
	struct strata_entry *e;
	int err;

	err = strata_lookup_stack(parent, name, true, &e);
	if (err || !e)
		return err;
	strata_entry_free(e);
	return 1;
}

static bool strata_has_lower_stack(struct dentry *dentry)
{
	return dentry->d_fsdata && STRATA_E(dentry)->nr;
}

static int strata_create_real(struct inode *dir, struct dentry **d,
			      const struct strata_cattr *a)
{
	if (a->hardlink)
		return strata_do_link(a->hardlink, dir, *d);
	switch (a->mode & S_IFMT) {
	case S_IFREG:
		return strata_do_create(dir, *d, a->mode);
	case S_IFDIR:
		return strata_do_mkdir(dir, d, a->mode);
	case S_IFLNK:
		return strata_do_symlink(dir, *d, a->link);
	default:
		return strata_do_mknod(dir, *d, a->mode, a->rdev);
	}
}

/*
 * Move @d out of @upperdir into the work directory under a temporary
 * name: an atomic removal of a directory that still holds whiteouts.
 */
static int strata_move_to_work(struct super_block *sb, struct dentry *upperdir,
			       struct dentry *d)
{
	struct dentry *workdir = STRATA_FS(sb)->workdir, *trap, *temp;
	int err = -EIO;

	trap = lock_rename(workdir, upperdir);
	if (IS_ERR(trap))
		return PTR_ERR(trap);
	temp = strata_temp_dentry(sb);
	if (IS_ERR(temp)) {
		err = PTR_ERR(temp);
		goto out;
	}
	if (d->d_parent == upperdir && !d_unhashed(d) && trap != d &&
	    trap != temp)
		err = strata_do_rename(d_inode(upperdir), d, d_inode(workdir),
				       temp, 0);
	dput(temp);
out:
	unlock_rename(workdir, upperdir);
	if (!err)
		strata_discard_temp(sb, d);
	return err;
}

/* Remove @upper, a real entry of @upperdir. */
static int strata_remove_upper(struct super_block *sb, struct dentry *upperdir,
			       struct dentry *upper, bool is_dir)
{
	struct inode *udir = d_inode(upperdir);
	int err = -EIO;

	/* Held twice, the real dentry stays positive for open files. */
	dget(upper);
	inode_lock_nested(udir, I_MUTEX_PARENT);
	if (upper->d_parent == upperdir && !d_unhashed(upper)) {
		if (is_dir)
			err = strata_do_rmdir(udir, upper);
		else
			err = strata_do_unlink(udir, upper);
	}
	inode_unlock(udir);
	dput(upper);
	/* Empty in the union view, but it holds whiteouts or markers. */
	if (err == -ENOTEMPTY && is_dir)
		err = strata_move_to_work(sb, upperdir, upper);
	return err;
}

/* overlay format: swap a fresh whiteout into @upper's place. */
static int strata_replace_by_whiteout(struct super_block *sb,
				      struct dentry *upperdir,
				      struct dentry *upper)
{
	struct dentry *workdir = STRATA_FS(sb)->workdir, *trap, *wh;
	struct inode *wdir = d_inode(workdir);
	int err;

	inode_lock_nested(wdir, I_MUTEX_PARENT);
	wh = strata_temp_dentry(sb);
	err = PTR_ERR_OR_ZERO(wh);
	if (!err) {
		err = strata_do_mknod(wdir, wh, S_IFCHR | WHITEOUT_MODE,
				      WHITEOUT_DEV);
		if (err)
			dput(wh);
	}
	inode_unlock(wdir);
	if (err)
		return err;

	trap = lock_rename(workdir, upperdir);
	if (IS_ERR(trap)) {
		err = PTR_ERR(trap);
		goto out;
	}
	err = -EIO;
	if (upper->d_parent == upperdir && wh->d_parent == workdir &&
	    trap != upper && trap != wh)
		err = strata_do_rename(wdir, wh, d_inode(upperdir), upper,
				       RENAME_EXCHANGE);
	unlock_rename(workdir, upperdir);
out:
	/* After the exchange @upper sits in the work directory. */
	strata_discard_temp(sb, err ? wh : upper);
	if (!err)
		atomic64_inc(&STRATA_FS(sb)->stats.whiteouts);
	dput(wh);
	return err;
}

/* overlay format: create in the work directory, swap over the whiteout. */
static int strata_create_over_whiteout(struct super_block *sb,
				       struct dentry *upperdir,
				       const struct qstr *name,
				       const struct strata_cattr *a,
				       struct dentry **newd)
{
	struct dentry *workdir = STRATA_FS(sb)->workdir, *trap, *temp, *wh;
	struct inode *wdir = d_inode(workdir);
	int err;

	inode_lock_nested(wdir, I_MUTEX_PARENT);
	temp = strata_temp_dentry(sb);
	err = PTR_ERR_OR_ZERO(temp);
	if (!err) {
		err = strata_create_real(wdir, &temp, a);
		if (err)
			dput(temp);
	}
	inode_unlock(wdir);
	if (err)
		return err;
	/* Whatever the whiteout hid must stay hidden below a directory. */
	if (d_is_dir(temp)) {
		err = strata_set_opaque(sb, temp);
		if (err)
			goto fail;
	}

	trap = lock_rename(workdir, upperdir);
	if (IS_ERR(trap)) {
		err = PTR_ERR(trap);
		goto fail;
	}
	wh = lookup_one_len(name->name, upperdir, name->len);
	err = PTR_ERR_OR_ZERO(wh);
	if (!err) {
		err = -EIO;
		if (strata_is_whiteout_dentry(wh) && temp->d_parent == workdir &&
		    trap != temp && trap != wh)
			err = strata_do_rename(wdir, temp, d_inode(upperdir), wh,
					       RENAME_EXCHANGE);
	}
	unlock_rename(workdir, upperdir);
	if (!err) {
		strata_discard_temp(sb, wh);	/* the old whiteout */
		dput(wh);
		*newd = temp;
		return 0;
	}
	if (!IS_ERR(wh))
		dput(wh);
fail:
	strata_discard_temp(sb, temp);
	dput(temp);
	return err;
}

/* Create the object in the rw branch; *newd gets its real dentry. */
static int strata_create_upper(struct super_block *sb, struct dentry *upperdir,
			       const struct qstr *name, struct strata_cattr *a,
			       struct dentry **newd)
{
	struct inode *udir = d_inode(upperdir);
	struct dentry *d;
	int wh = 0, err;

	inode_lock_nested(udir, I_MUTEX_PARENT);
	d = lookup_one_len(name->name, upperdir, name->len);
	if (IS_ERR(d)) {
		inode_unlock(udir);
		return PTR_ERR(d);
	}
	if (d_is_positive(d)) {
		inode_unlock(udir);
		wh = strata_is_whiteout_dentry(d);
		dput(d);
		if (!wh)
			return -EEXIST;
		return strata_create_over_whiteout(sb, upperdir, name, a, newd);
	}
	wh = strata_whiteout_present(upperdir, name, true);
	err = wh < 0 ? wh : strata_create_real(udir, &d, a);
	inode_unlock(udir);
	if (err) {
		dput(d);
		return err;
	}
	if (wh) {
		/*
		 * A directory replacing a whiteout must not merge with what
		 * it hid.  Until the marker exists, the same-branch whiteout
		 * keeps it from merging anyway.
		 */
		if (d_is_dir(d)) {
			err = strata_set_opaque(sb, d);
			if (err) {
				strata_remove_real(upperdir, d);
				dput(d);
				return err;
			}
		}
		inode_lock_nested(udir, I_MUTEX_PARENT);
		err = strata_unwhiteout_locked(upperdir, name);
		inode_unlock(udir);
		if (err)
			pr_warn_ratelimited("strata: stale whiteout of %pd2 left (%d)\n",
					    d, err);
	}
	*newd = d;
	return 0;
}

static int strata_create_object(struct dentry *dentry, struct strata_cattr *a,
				struct inode *link_inode)
{
	struct super_block *sb = dentry->d_sb;
	struct dentry *upperdir, *newd = NULL;
	struct strata_entry *e;
	struct inode *inode;
	const struct cred *old;
	struct cred *cred;
	int err;

	if (strata_is_reserved_name(dentry->d_name.name, dentry->d_name.len))
		return -EPERM;
	err = strata_copy_up(dentry->d_parent);
	if (err)
		return err;
	upperdir = strata_upper(dentry->d_parent);

	e = strata_entry_alloc(0);
	if (!e)
		return -ENOMEM;
	err = mnt_want_write(strata_upper_mnt(sb));
	if (err)
		goto out_free;
	/* The union is SB_POSIXACL, so the VFS left the umask to us. */
	if (!a->hardlink && !IS_POSIXACL(d_inode(upperdir)))
		a->mode &= ~current_umask();
	err = strata_creator_creds(sb, &old, &cred);
	if (!err) {
		err = strata_create_upper(sb, upperdir, &dentry->d_name, a, &newd);
		strata_revert_creator(old, cred);
	}
	mnt_drop_write(strata_upper_mnt(sb));
	if (err)
		goto out_free;

	e->upper = newd;
	e->upper_br = strata_top(STRATA_FS(sb));
	/* A new non-directory hides all below; a new directory may merge. */
	if (!d_is_dir(newd))
		e->stop = e->upper_br;
	atomic_long_inc(&e->upper_br->users);
	if (link_inode) {
		inode = link_inode;
		ihold(inode);
	} else {
		inode = strata_get_inode(sb, e);
		if (IS_ERR(inode)) {
			/*
			 * The object exists in the rw branch now: unhash the
			 * negative dentry so the next lookup finds it.
			 */
			err = PTR_ERR(inode);
			d_drop(dentry);
			goto out_free;
		}
	}
	strata_entry_free(dentry->d_fsdata);
	dentry->d_fsdata = e;
	d_instantiate(dentry, inode);
	strata_copyattr(inode);
	return 0;

out_free:
	strata_entry_free(e);
	return err;
}

int strata_create(strata_idmap_t *idmap, struct inode *dir,
		  struct dentry *dentry, umode_t mode, bool excl)
{
	struct strata_cattr a = { .mode = (mode & 07777) | S_IFREG };

	return strata_create_object(dentry, &a, NULL);
}

int strata_mkdir(strata_idmap_t *idmap, struct inode *dir,
		 struct dentry *dentry, umode_t mode)
{
	struct strata_cattr a = { .mode = (mode & 07777) | S_IFDIR };

	return strata_create_object(dentry, &a, NULL);
}

int strata_mknod(strata_idmap_t *idmap, struct inode *dir,
		 struct dentry *dentry, umode_t mode, dev_t rdev)
{
	struct strata_cattr a = { .mode = mode, .rdev = rdev };

	/* A 0/0 character device is what overlay-format whiteouts are. */
	if (S_ISCHR(mode) && rdev == WHITEOUT_DEV)
		return -EPERM;
	return strata_create_object(dentry, &a, NULL);
}

int strata_symlink(strata_idmap_t *idmap, struct inode *dir,
		   struct dentry *dentry, const char *target)
{
	struct strata_cattr a = { .mode = S_IFLNK | 0777, .link = target };

	return strata_create_object(dentry, &a, NULL);
}

int strata_link(struct dentry *old, struct inode *dir, struct dentry *new)
{
	struct strata_cattr a = { .mode = d_inode(old)->i_mode };
	int err;

	/* Refuse before the copy-up, which would stay behind. */
	if (strata_is_reserved_name(new->d_name.name, new->d_name.len))
		return -EPERM;
	err = strata_copy_up(old);
	if (err)
		return err;
	a.hardlink = strata_upper(old);
	return strata_create_object(new, &a, d_inode(old));
}

static int strata_tmpfile_open(struct inode *inode, struct file *file)
{
	/*
	 * The real file is opened by strata_tmpfile() itself; count the
	 * writer as strata_open() does, for strata_release().
	 */
	if (file->f_mode & FMODE_WRITE)
		atomic_inc(&STRATA_FS(inode->i_sb)->open_writers);
	return 0;
}

/* O_TMPFILE: an unnamed file in the rw branch, linkable with linkat(). */
int strata_tmpfile(strata_idmap_t *idmap, struct inode *dir,
		   struct file *file, umode_t mode)
{
	struct dentry *dentry = file->f_path.dentry;
	struct super_block *sb = dentry->d_sb;
	struct path parentpath = { .mnt = strata_upper_mnt(sb) };
	const struct cred *old;
	struct strata_entry *e;
	struct file *realfile;
	struct inode *inode;
	struct cred *cred;
	int err;

	err = strata_copy_up(dentry->d_parent);
	if (err)
		return err;
	parentpath.dentry = strata_upper(dentry->d_parent);
	if (!IS_POSIXACL(d_inode(parentpath.dentry)))
		mode &= ~current_umask();
	e = strata_entry_alloc(0);
	if (!e)
		return -ENOMEM;
	err = mnt_want_write(parentpath.mnt);
	if (err)
		goto out_free;
	err = strata_creator_creds(sb, &old, &cred);
	if (!err) {
		realfile = strata_open_real_tmpfile(file, &parentpath, mode,
						    current_cred());
		strata_revert_creator(old, cred);
		err = PTR_ERR_OR_ZERO(realfile);
	}
	mnt_drop_write(parentpath.mnt);
	if (err)
		goto out_free;

	e->upper = dget(realfile->f_path.dentry);
	e->upper_br = strata_top(STRATA_FS(sb));
	e->stop = e->upper_br;
	/* Writers are frozen out of branch changes: the count is current. */
	dentry->d_time = READ_ONCE(STRATA_FS(sb)->gen);
	atomic_long_inc(&e->upper_br->users);
	inode = strata_get_inode(sb, e);
	if (IS_ERR(inode)) {
		err = PTR_ERR(inode);
		goto out_fput;
	}
	dentry->d_fsdata = e;
	/* d_tmpfile() drops the link the unnamed file never had. */
	set_nlink(inode, 1);
	d_tmpfile(file, inode);
	err = finish_open(file, dentry, strata_tmpfile_open);
	if (err) {
		fput(realfile);
		return err;
	}
	file->private_data = realfile;
	if (realfile->f_mode & FMODE_CAN_ODIRECT)
		file->f_mode |= FMODE_CAN_ODIRECT;
	return 0;

out_fput:
	fput(realfile);
out_free:
	strata_entry_free(e);
	return err;
}

static int strata_remove(struct dentry *dentry, bool is_dir)
{
	struct super_block *sb = dentry->d_sb;
	struct strata_fs *sfs = STRATA_FS(sb);
	struct dentry *parent = dentry->d_parent, *upperdir, *upper;
	struct inode *inode = d_inode(dentry);
	const struct cred *old;
	int lower, err, counted = 0;

	if (is_dir) {
		err = strata_dir_check_empty(dentry);
		if (err)
			return err;
	}
	err = strata_copy_up(parent);
	if (err)
		return err;
	/* One name of a lower file with others: they keep the count right. */
	if (!is_dir) {
		counted = strata_hl_prepare_drop(dentry);
		if (counted < 0)
			return counted;
	}
	upperdir = strata_upper(parent);
	lower = strata_lower_has(parent, &dentry->d_name);
	if (lower < 0)
		return lower;

	/*
	 * A copy-up of this very file may be under way (another task opened
	 * it for writing): let it finish, then remove what it made.  Copy-up
	 * takes no union lock, so this cannot deadlock.  The order is that of
	 * copy-up: copy_lock, then the rw branch's freeze protection.
	 */
	mutex_lock(&STRATA_I(inode)->copy_lock);
	err = mnt_want_write(strata_upper_mnt(sb));
	if (err) {
		mutex_unlock(&STRATA_I(inode)->copy_lock);
		return err;
	}
	old = strata_override_creds(sb);
	upper = strata_upper(dentry);
	if (!upper) {
		err = strata_whiteout(sb, upperdir, &dentry->d_name);
	} else if (!lower) {
		/* Nothing below: no whiteout, so none is left behind. */
		err = strata_remove_upper(sb, upperdir, upper, is_dir);
	} else if (sfs->whiteout == STRATA_WH_AUFS) {
		err = strata_whiteout(sb, upperdir, &dentry->d_name);
		if (!err)
			err = strata_remove_upper(sb, upperdir, upper, is_dir);
	} else {
		err = strata_replace_by_whiteout(sb, upperdir, upper);
	}
	revert_creds(old);
	if (!err && counted && !upper)
		strata_hl_dropped(sb, inode);
	if (!err) {
		if (is_dir)
			clear_nlink(inode);
		else if (inode->i_nlink)
			drop_nlink(inode);
		/*
		 * The next lookup builds the dentry afresh; a copy-up that
		 * waited for the lock sees it unhashed and gives up.
		 */
		d_drop(dentry);
	}
	mnt_drop_write(strata_upper_mnt(sb));
	mutex_unlock(&STRATA_I(inode)->copy_lock);
	return err;
}

int strata_unlink(struct inode *dir, struct dentry *dentry)
{
	return strata_remove(dentry, false);
}

int strata_rmdir(struct inode *dir, struct dentry *dentry)
{
	return strata_remove(dentry, true);
}

struct strata_rename {
	struct dentry *old, *new;
	struct dentry *olddir, *newdir;		/* real parents, rw branch */
	bool exchange, is_dir, new_pos, new_is_dir;
	bool redirect_old, redirect_new;	/* dirs with lower contents */
	int old_lower, new_lower;		/* lower branches have the name */
};

/* Where the lower directory @r lives, relative to its branch's root. */
static char *strata_lower_relpath(struct super_block *sb,
				  const struct strata_real *r)
{
	struct dentry *root = r->br->mnt->mnt_root;
	char *buf, *rootbuf, *p, *rp, *rel = ERR_PTR(-ENOMEM);
	size_t rlen;

	buf = kmalloc(PATH_MAX, GFP_KERNEL);
	rootbuf = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!buf || !rootbuf)
		goto out;
	p = dentry_path_raw(r->dentry, buf, PATH_MAX);
	rp = dentry_path_raw(root, rootbuf, PATH_MAX);
	rel = ERR_PTR(-EIO);
	if (IS_ERR(p) || IS_ERR(rp))
		goto out;
	rlen = strcmp(rp, "/") ? strlen(rp) : 0;
	if (strncmp(p, rp, rlen) || (p[rlen] != '/' && p[rlen] != '\0'))
		goto out;
	rel = kstrdup(p[rlen] ? p + rlen : "/", GFP_KERNEL);
	if (!rel)
		rel = ERR_PTR(-ENOMEM);
out:
	kfree(rootbuf);
	kfree(buf);
	return rel;
}

/*
 * Before a directory with lower contents moves: record in its rw copy
 * where those contents are, unless an earlier move did already.
 */
static int strata_record_redirect(struct super_block *sb, struct dentry *dir)
{
	struct dentry *upper = strata_upper(dir);
	bool recorded;
	char *path;
	int err;

	path = strata_get_redirect(STRATA_FS(sb), upper);
	if (IS_ERR(path))
		return PTR_ERR(path);
	/* An earlier move recorded it already. */
	recorded = path;
	kfree(path);
	if (recorded)
		return 0;
	path = strata_lower_relpath(sb, &STRATA_E(dir)->r[0]);
	if (IS_ERR(path))
		return PTR_ERR(path);
	err = strata_set_redirect(sb, upper, path);
	kfree(path);
	/* A rw branch without xattrs cannot record it: mv copies instead. */
	return err == -EOPNOTSUPP ? -EXDEV : err;
}

/* The real rename, with the branch directories locked. */
static int strata_rename_locked(struct super_block *sb, struct strata_rename *r,
				unsigned int flags)
{
	struct strata_fs *sfs = STRATA_FS(sb);
	struct dentry *oldupper = strata_upper(r->old), *newupper;
	unsigned int real_flags = flags;
	bool wh_target, need_wh, swap_wh = false;
	struct dentry *trap;
	int err;

	trap = lock_rename(r->olddir, r->newdir);
	if (IS_ERR(trap))
		return PTR_ERR(trap);
	err = -EIO;
	if (oldupper->d_parent != r->olddir || d_unhashed(oldupper))
		goto out_unlock;
	err = -EINVAL;
	if (trap == oldupper)
		goto out_unlock;
	newupper = lookup_one_len(r->new->d_name.name, r->newdir,
				  r->new->d_name.len);
	err = PTR_ERR_OR_ZERO(newupper);
	if (err)
		goto out_unlock;
	err = -ENOTEMPTY;
	if (trap == newupper)
		goto out_put;

	err = -ESTALE;
	wh_target = strata_is_whiteout_dentry(newupper);
	if (r->exchange) {
		if (newupper != strata_upper(r->new))
			goto out_put;
	} else if (wh_target) {
		/* Renaming over an overlay-format whiteout replaces it. */
		real_flags &= ~RENAME_NOREPLACE;
		if (r->is_dir) {
			real_flags |= RENAME_EXCHANGE;
			swap_wh = true;
		}
	} else if (d_is_positive(newupper) &&
		   (!r->new_pos || newupper != strata_upper(r->new))) {
		goto out_put;
	}

	need_wh = !r->exchange && r->old_lower;
	if (need_wh && sfs->whiteout == STRATA_WH_OVERLAY && !swap_wh)
		real_flags |= RENAME_WHITEOUT;
	err = strata_do_rename(d_inode(r->olddir), oldupper, d_inode(r->newdir),
			       newupper, real_flags);
	if (err == -EINVAL && (real_flags & RENAME_WHITEOUT)) {
		/* The branch cannot leave a whiteout itself. */
		err = strata_do_rename(d_inode(r->olddir), oldupper,
				       d_inode(r->newdir), newupper,
				       real_flags & ~RENAME_WHITEOUT);
		if (!err)
			err = strata_whiteout_locked(sb, r->olddir,
						     &r->old->d_name);
	}
	if (err)
		goto out_put;
	if (need_wh && sfs->whiteout == STRATA_WH_OVERLAY)
		atomic64_inc(&sfs->stats.whiteouts);
	/* The swapped whiteout now sits at the old name. */
	if (swap_wh && !(need_wh && sfs->whiteout == STRATA_WH_OVERLAY))
		err = strata_do_unlink(d_inode(r->olddir), newupper);
	/* An aufs whiteout at the new name has nothing left to hide. */
	if (!err && !r->exchange)
		err = strata_unwhiteout_locked(r->newdir, &r->new->d_name);
out_put:
	dput(newupper);
out_unlock:
	unlock_rename(r->olddir, r->newdir);
	return err;
}

int strata_rename(strata_idmap_t *idmap, struct inode *olddir,
		  struct dentry *old, struct inode *newdir,
		  struct dentry *new, unsigned int flags)
{
	struct super_block *sb = old->d_sb;
	struct strata_fs *sfs = STRATA_FS(sb);
	struct strata_rename r = {
		.old = old,
		.new = new,
		.exchange = flags & RENAME_EXCHANGE,
		.is_dir = d_is_dir(old),
		.new_pos = d_is_positive(new),
	};
	const struct cred *old_cred;
	int err, counted = 0;

	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	/* ".wh." names are the branches' format, never union entries. */
	if (strata_is_reserved_name(new->d_name.name, new->d_name.len))
		return -EPERM;
	r.new_is_dir = r.new_pos && d_is_dir(new);
	/* Directories with contents in lower branches move by redirect. */
	r.redirect_old = r.is_dir && strata_has_lower_stack(old);
	r.redirect_new = r.exchange && r.new_is_dir && strata_has_lower_stack(new);
	if (!r.exchange && r.new_is_dir) {
		err = strata_dir_check_empty(new);
		if (err)
			return err;
	}

	err = strata_copy_up(old->d_parent) ?: strata_copy_up(new->d_parent) ?:
	      strata_copy_up(old);
	if (!err && r.exchange)
		err = strata_copy_up(new);
	if (err)
		return err;
	/* A lower name replaced: as for unlink (strata_remove()). */
	if (!r.exchange && r.new_pos && !r.new_is_dir) {
		counted = strata_hl_prepare_drop(new);
		if (counted < 0)
			return counted;
	}
	r.olddir = strata_upper(old->d_parent);
	r.newdir = strata_upper(new->d_parent);
	r.old_lower = strata_lower_has(old->d_parent, &old->d_name);
	r.new_lower = strata_lower_has(new->d_parent, &new->d_name);
	if (r.old_lower < 0)
		return r.old_lower;
	if (r.new_lower < 0)
		return r.new_lower;

	err = mnt_want_write(strata_upper_mnt(sb));
	if (err)
		return err;
	old_cred = strata_override_creds(sb);

	/*
	 * A directory landing on a name lower branches have hides them: by
	 * being opaque, or by its redirect, which takes its lower contents
	 * from elsewhere.
	 */
	if (r.redirect_old)
		err = strata_record_redirect(sb, old);
	else if (r.is_dir && r.new_lower)
		err = strata_set_opaque(sb, strata_upper(old));
	if (!err && r.redirect_new)
		err = strata_record_redirect(sb, new);
	else if (!err && r.exchange && r.new_is_dir && r.old_lower)
		err = strata_set_opaque(sb, strata_upper(new));
	/* aufs: whiteout first; the moving entry wins until it is gone. */
	if (!err && !r.exchange && r.old_lower &&
	    sfs->whiteout == STRATA_WH_AUFS)
		err = strata_whiteout(sb, r.olddir, &old->d_name);
	/* A target directory holding only whiteouts goes to the workdir. */
	if (!err && !r.exchange && r.new_is_dir && strata_upper(new)) {
		if (r.new_lower && sfs->whiteout == STRATA_WH_AUFS)
			err = strata_whiteout(sb, r.newdir, &new->d_name);
		if (!err)
			err = strata_remove_upper(sb, r.newdir, strata_upper(new),
						  true);
	}
	/* Moved entries may carry recorded inode numbers. */
	if (!err && r.olddir != r.newdir)
		err = strata_set_impure(sb, r.newdir);
	if (!err && r.exchange && r.olddir != r.newdir)
		err = strata_set_impure(sb, r.olddir);
	if (!err)
		err = strata_rename_locked(sb, &r, flags);

	revert_creds(old_cred);
	/* The count is on the rw branch: written under its protection. */
	if (!err && !r.exchange && r.new_pos && counted && !strata_upper(new))
		strata_hl_dropped(sb, d_inode(new));
	mnt_drop_write(strata_upper_mnt(sb));
	if (!err && !r.exchange && r.new_pos) {
		if (r.new_is_dir)
			clear_nlink(d_inode(new));
		else
			drop_nlink(d_inode(new));
	}
	return err;
}
