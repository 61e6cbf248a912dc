// SPDX-License-Identifier: GPL-2.0
/*
 * The work directory: where copy-ups and removals are staged so that the
 * rw branch only ever changes by atomic renames.  It lives in the rw
 * branch's filesystem (rename cannot cross filesystems): by default a
 * reserved directory in its root, or workdir=DIR/work.  Whatever a crash
 * left there is removed at the next mount.
 */
#include <linux/namei.h>
#include <linux/slab.h>
#include <linux/list.h>
#include "vfs.h"

#define STRATA_WORK_NAME	".wh..wh.work"
#define STRATA_WORK_SUBDIR	"work"
#define STRATA_INDEX_NAME	".wh..wh.index"
#define STRATA_INDEX_SUBDIR	"index"
#define STRATA_CLEAN_DEPTH	4

struct strata_name_reader {
	struct dir_context ctx;
	struct list_head names;
	int err;
};

static bool strata_collect_name(struct dir_context *ctx, const char *name,
				int len, loff_t offset, u64 ino,
				unsigned int type)
{
	struct strata_name_reader *nr =
		container_of(ctx, struct strata_name_reader, ctx);
	struct strata_name *n;

	if (name[0] == '.' && (len == 1 || (len == 2 && name[1] == '.')))
		return true;
	n = kmalloc(struct_size(n, name, len + 1), GFP_KERNEL);
	if (!n) {
		nr->err = -ENOMEM;
		return false;
	}
	memcpy(n->name, name, len);
	n->name[len] = '\0';
	n->len = len;
	list_add_tail(&n->list, &nr->names);
	return true;
}

/*
 * Add the names in @dir of the rw branch to @names (struct strata_name,
 * kmalloc'ed), read before anything is done to them: the directory may
 * not change while it is being read.  The caller frees the list, also
 * on error.
 */
int strata_list_dir(struct super_block *sb, struct dentry *dir,
		    struct list_head *names)
{
	struct path path = { .mnt = strata_upper_mnt(sb), .dentry = dir };
	struct strata_name_reader nr = { .ctx.actor = strata_collect_name };
	struct file *file;
	int err;

	INIT_LIST_HEAD(&nr.names);
	file = dentry_open(&path, O_RDONLY | O_DIRECTORY, current_cred());
	if (IS_ERR(file))
		return PTR_ERR(file);
	err = iterate_dir(file, &nr.ctx);
	fput(file);
	list_splice_tail(&nr.names, names);
	return err ?: nr.err;
}

/* Remove everything inside @dir, which is in the rw branch. */
int strata_clean_dir(struct super_block *sb, struct dentry *dir, int depth)
{
	struct strata_name *n, *tmp;
	LIST_HEAD(names);
	int err;

	if (depth > STRATA_CLEAN_DEPTH)
		return -ELOOP;
	err = strata_list_dir(sb, dir, &names);

	list_for_each_entry_safe(n, tmp, &names, list) {
		struct dentry *d;

		list_del(&n->list);
		if (!err) {
			inode_lock_nested(d_inode(dir), I_MUTEX_PARENT);
			d = lookup_one_len(n->name, dir, n->len);
			inode_unlock(d_inode(dir));
			if (IS_ERR(d)) {
				err = PTR_ERR(d);
			} else {
				if (d_is_dir(d))
					err = strata_clean_dir(sb, d, depth + 1);
				if (!err)
					err = strata_remove_real(dir, d);
				dput(d);
			}
		}
		kfree(n);
	}
	return err;
}

/*
 * Unlink or rmdir @d from @dir, if it is still there.  The extra
 * reference keeps @d positive (the VFS would turn a dentry nobody else
 * holds negative), since union entries and open files may still use it.
 */
int strata_remove_real(struct dentry *dir, struct dentry *d)
{
	struct inode *dinode = d_inode(dir);
	int err = 0;

	dget(d);
	inode_lock_nested(dinode, I_MUTEX_PARENT);
	if (d->d_parent == dir && d_is_positive(d)) {
		if (d_is_dir(d))
			err = strata_do_rmdir(dinode, d);
		else
			err = strata_do_unlink(dinode, d);
	}
	inode_unlock(dinode);
	dput(d);
	return err;
}

/* Remove a temporary from the work directory, with all it holds. */
void strata_discard_temp(struct super_block *sb, struct dentry *temp)
{
	struct strata_fs *sfs = STRATA_FS(sb);
	int err = 0;

	if (d_is_dir(temp))
		err = strata_clean_dir(sb, temp, 1);
	if (!err)
		err = strata_remove_real(sfs->workdir, temp);
	if (err)
		pr_warn_ratelimited("strata: cannot remove %pd2 from the work directory (%d)\n",
				    temp, err);
}

/* A fresh negative dentry for a temporary; caller holds workdir's lock. */
struct dentry *strata_temp_dentry(struct super_block *sb)
{
	struct strata_fs *sfs = STRATA_FS(sb);
	char name[24];
	struct dentry *d;
	int len;

	len = snprintf(name, sizeof(name), "#%lx",
		       atomic_long_inc_return(&sfs->tmp_seq));
	d = lookup_one_len(name, sfs->workdir, len);
	if (!IS_ERR(d) && d_is_positive(d)) {
		dput(d);
		return ERR_PTR(-EEXIST);
	}
	return d;
}

int strata_workdir_setup(struct fs_context *fc, struct super_block *sb,
			 const struct path *given)
{
	struct strata_fs *sfs = STRATA_FS(sb);
	struct vfsmount *mnt = strata_upper_mnt(sb);
	struct dentry *parent = given ? given->dentry : mnt->mnt_root;
	const char *name = given ? STRATA_WORK_SUBDIR : STRATA_WORK_NAME;
	const struct cred *old;
	struct dentry *work;
	int err;

	if (given) {
		if (given->dentry->d_sb != mnt->mnt_sb)
			return invalfc(fc, "workdir: not on the filesystem of the rw branch %s",
				       strata_top(sfs)->name);
		if (is_subdir(given->dentry, mnt->mnt_root) ||
		    is_subdir(mnt->mnt_root, given->dentry))
			return invalfc(fc, "workdir: overlaps the rw branch %s",
				       strata_top(sfs)->name);
	}

	err = mnt_want_write(mnt);
	if (err) {
		errorfc(fc, "branch %s: not writable (%pe)", strata_top(sfs)->name,
			ERR_PTR(err));
		return err;
	}
	old = strata_override_creds(sb);
	inode_lock_nested(d_inode(parent), I_MUTEX_PARENT);
	work = lookup_one_len(name, parent, strlen(name));
	if (!IS_ERR(work) && d_is_negative(work)) {
		err = strata_do_mkdir(d_inode(parent), &work, S_IFDIR | 0700);
		if (err) {
			dput(work);
			work = ERR_PTR(err);
		}
	}
	inode_unlock(d_inode(parent));
	if (IS_ERR(work)) {
		err = PTR_ERR(work);
		errorfc(fc, "branch %s: cannot create the work directory (%pe)",
			strata_top(sfs)->name, work);
		goto out;
	}
	if (!d_is_dir(work)) {
		dput(work);
		err = -ENOTDIR;
		errorfc(fc, "branch %s: %s is not a directory", strata_top(sfs)->name,
			name);
		goto out;
	}
	sfs->workdir = work;
	/* Leftovers of an interrupted copy-up or removal. */
	err = strata_clean_dir(sb, work, 1);
	if (err) {
		errorfc(fc, "branch %s: cannot clean the work directory (%pe)",
			strata_top(sfs)->name, ERR_PTR(err));
		goto out;
	}
	/* Beside it, the index of lower files with several links. */
	err = strata_hl_setup(sb, parent, given ? STRATA_INDEX_SUBDIR :
						     STRATA_INDEX_NAME);
	if (err)
		errorfc(fc, "branch %s: cannot set up the index directory (%pe)",
			strata_top(sfs)->name, ERR_PTR(err));
out:
	revert_creds(old);
	mnt_drop_write(mnt);
	return err;
}

/*
 * The work directory of a rw branch added to a mounted union (now its
 * top): the same set-up as at mount, with messages going to the kernel
 * log, the caller reporting the error over netlink.
 */
int strata_workdir_setup_live(struct super_block *sb)
{
	struct fs_context *fc;
	int err;

	fc = kzalloc(sizeof(*fc), GFP_KERNEL);
	if (!fc)
		return -ENOMEM;
	fc->log.prefix = "strata";
	err = strata_workdir_setup(fc, sb, NULL);
	kfree(fc);
	return err;
}
