// SPDX-License-Identifier: GPL-2.0
/*
 * Regular files: a union file holds an open real file and sends every
 * data operation there, so the page cache is the real inode's and reading
 * a lower file through the union never caches it twice.
 */
#include <linux/fs.h>
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/uio.h>
#include <linux/fadvise.h>
#include <linux/splice.h>
#include "strata.h"

/* The real file of an operation, and whether the operation must fput it. */
struct strata_rf {
	struct file *file;
	bool put;
};

/*
 * The real file opened with the union file.  If the file was copied up
 * since (another task wrote it), read the copy: open it for this one
 * call, so readers see the data written after the copy-up.  The same
 * when a metadata-only copy got its data.
 */
static int strata_real_fget(struct file *file, struct strata_rf *rf)
{
	struct file *realfile = file->private_data;
	struct dentry *dentry = file_dentry(file);
	const struct cred *old;
	struct path realpath;

	rf->file = realfile;
	rf->put = false;
	strata_data_path(dentry, &realpath);
	if (likely(file_inode(realfile) == d_inode(realpath.dentry)))
		return 0;
	old = strata_override_creds(dentry->d_sb);
	realfile = strata_open_real(file, realfile->f_flags, &realpath,
				    current_cred());
	revert_creds(old);
	if (IS_ERR(realfile))
		return PTR_ERR(realfile);
	rf->file = realfile;
	rf->put = true;
	return 0;
}

static void strata_real_fput(struct strata_rf *rf)
{
	if (rf->put)
		fput(rf->file);
}

static struct file *strata_real_file(const struct file *file)
{
	return file->private_data;
}

static int strata_open(struct inode *inode, struct file *file)
{
	/*
	 * Not f_path.dentry: when the union is a branch of another one, 6.1
	 * opens this file with the upper union's path; file_dentry() finds
	 * this union's own dentry through d_real().
	 */
	struct dentry *dentry = file_dentry(file);
	struct file *realfile;
	const struct cred *old;
	struct path realpath;
	int flags = file->f_flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC);
	bool writer = file->f_mode & FMODE_WRITE;
	bool trunc = file->f_flags & O_TRUNC;
	/*
	 * Opening for writing (or truncation) copies a lower file up with
	 * its data, unless the data is truncated away right after.  It
	 * holds off branch changes like any write (they freeze the union);
	 * the VFS holds that already when it truncates.
	 */
	bool protect = writer && !trunc;
	int err;

	if (protect)
		sb_start_write(inode->i_sb);
	if (writer || trunc) {
		err = strata_copy_up_data(dentry, trunc);
		if (err)
			goto out;
	}
	strata_data_path(dentry, &realpath);
	old = strata_override_creds(inode->i_sb);
	realfile = strata_open_real(file, flags, &realpath, current_cred());
	revert_creds(old);
	err = PTR_ERR_OR_ZERO(realfile);
	if (err)
		goto out;
	/* A branch change does not take the rw branch from open writers. */
	if (writer)
		atomic_inc(&STRATA_FS(inode->i_sb)->open_writers);
out:
	if (protect)
		sb_end_write(inode->i_sb);
	if (err)
		return err;

	file->private_data = realfile;
	/* O_DIRECT is possible exactly when the real file allows it. */
	if (realfile->f_mode & FMODE_CAN_ODIRECT)
		file->f_mode |= FMODE_CAN_ODIRECT;
	return 0;
}

static int strata_release(struct inode *inode, struct file *file)
{
	if (file->f_mode & FMODE_WRITE)
		atomic_dec(&STRATA_FS(inode->i_sb)->open_writers);
	fput(strata_real_file(file));
	return 0;
}

static rwf_t strata_rw_flags(const struct kiocb *iocb)
{
	rwf_t flags = 0;

	if (iocb->ki_flags & IOCB_NOWAIT)
		flags |= RWF_NOWAIT;
	if (iocb->ki_flags & IOCB_HIPRI)
		flags |= RWF_HIPRI;
	return flags;
}

static ssize_t strata_read_iter(struct kiocb *iocb, struct iov_iter *iter)
{
	struct file *file = iocb->ki_filp;
	const struct cred *old;
	struct strata_rf rf;
	ssize_t ret;

	if (!iov_iter_count(iter))
		return 0;
	ret = strata_real_fget(file, &rf);
	if (ret)
		return ret;
	old = strata_override_creds(file_inode(file)->i_sb);
	ret = vfs_iter_read(rf.file, iter, &iocb->ki_pos, strata_rw_flags(iocb));
	revert_creds(old);
	strata_real_fput(&rf);
	return ret;
}

static ssize_t strata_write_iter(struct kiocb *iocb, struct iov_iter *iter)
{
	struct file *file = iocb->ki_filp;
	struct inode *inode = file_inode(file);
	const struct cred *old;
	rwf_t flags = strata_rw_flags(iocb);
	ssize_t ret;

	if (!iov_iter_count(iter))
		return 0;
	if (iocb->ki_flags & IOCB_DSYNC)
		flags |= RWF_DSYNC;
	if (iocb->ki_flags & IOCB_SYNC)
		flags |= RWF_SYNC;
	/* Opened for writing, so the real file is the copy already. */
	inode_lock(inode);
	/*
	 * Set-id bits are judged against the caller: the real filesystem
	 * sees the mounter, who may keep them.
	 */
	ret = file_remove_privs(file);
	if (ret)
		goto out;
	old = strata_override_creds(inode->i_sb);
	ret = vfs_iter_write(strata_real_file(file), iter, &iocb->ki_pos, flags);
	revert_creds(old);
	/* Size, and set-id bits the write dropped. */
	strata_copyattr(inode);
out:
	inode_unlock(inode);
	return ret;
}

static long strata_fallocate(struct file *file, int mode, loff_t offset,
			     loff_t len)
{
	struct inode *inode = file_inode(file);
	const struct cred *old;
	long ret;

	inode_lock(inode);
	ret = file_remove_privs(file);
	if (!ret) {
		old = strata_override_creds(inode->i_sb);
		ret = vfs_fallocate(strata_real_file(file), mode, offset, len);
		revert_creds(old);
		strata_copyattr(inode);
	}
	inode_unlock(inode);
	return ret;
}

static ssize_t strata_splice_read(struct file *file, loff_t *ppos,
				  struct pipe_inode_info *pipe, size_t len,
				  unsigned int flags)
{
	const struct cred *old;
	struct strata_rf rf;
	ssize_t ret;

	ret = strata_real_fget(file, &rf);
	if (ret)
		return ret;
	old = strata_override_creds(file_inode(file)->i_sb);
	ret = strata_real_splice_read(rf.file, ppos, pipe, len, flags);
	revert_creds(old);
	strata_real_fput(&rf);
	return ret;
}

static int strata_mmap(struct file *file, struct vm_area_struct *vma)
{
	const struct cred *old;
	struct strata_rf rf;
	int ret;

	ret = strata_real_fget(file, &rf);
	if (ret)
		return ret;
	if (!rf.file->f_op->mmap) {
		strata_real_fput(&rf);
		return -ENODEV;
	}
	/* The mapping belongs to the real file from now on. */
	vma_set_file(vma, rf.file);
	old = strata_override_creds(file_inode(file)->i_sb);
	ret = call_mmap(rf.file, vma);
	revert_creds(old);
	strata_real_fput(&rf);
	return ret;
}

static loff_t strata_llseek(struct file *file, loff_t offset, int whence)
{
	struct inode *inode = file_inode(file);
	const struct cred *old;
	struct strata_rf rf;
	loff_t ret;

	/* Common case that needs no real file position: SEEK_CUR 0. */
	if (whence == SEEK_CUR && !offset)
		return vfs_setpos(file, file->f_pos, MAX_LFS_FILESIZE);

	ret = strata_real_fget(file, &rf);
	if (ret)
		return ret;
	/* The real file's position follows the union file's. */
	inode_lock(inode);
	rf.file->f_pos = file->f_pos;
	old = strata_override_creds(inode->i_sb);
	ret = vfs_llseek(rf.file, offset, whence);
	revert_creds(old);
	file->f_pos = rf.file->f_pos;
	inode_unlock(inode);
	strata_real_fput(&rf);
	return ret;
}

static int strata_fsync(struct file *file, loff_t start, loff_t end,
			int datasync)
{
	const struct cred *old;
	int ret;

	old = strata_override_creds(file_inode(file)->i_sb);
	ret = vfs_fsync_range(strata_real_file(file), start, end, datasync);
	revert_creds(old);
	return ret;
}

static int strata_fadvise(struct file *file, loff_t offset, loff_t len,
			  int advice)
{
	const struct cred *old;
	int ret;

	old = strata_override_creds(file_inode(file)->i_sb);
	ret = vfs_fadvise(strata_real_file(file), offset, len, advice);
	revert_creds(old);
	return ret;
}

static int strata_flush(struct file *file, fl_owner_t id)
{
	struct file *realfile = strata_real_file(file);
	const struct cred *old;
	int ret = 0;

	if (realfile->f_op->flush) {
		old = strata_override_creds(file_inode(file)->i_sb);
		ret = realfile->f_op->flush(realfile, id);
		revert_creds(old);
	}
	return ret;
}

const struct file_operations strata_file_fops = {
	.open		= strata_open,
	.release	= strata_release,
	.read_iter	= strata_read_iter,
	.write_iter	= strata_write_iter,
	.splice_read	= strata_splice_read,
	.splice_write	= iter_file_splice_write,
	.fallocate	= strata_fallocate,
	.mmap		= strata_mmap,
	.llseek		= strata_llseek,
	.fsync		= strata_fsync,
	.fadvise	= strata_fadvise,
	.flush		= strata_flush,
};
