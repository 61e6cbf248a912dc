#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# compat-probe.sh INCLUDE_DIR: print -DSTRATA_HAVE_* for each API shape
# found in the target kernel's headers (see compat.h).  Exact text is
# probed, never version numbers: Debian's kernels carry backports.
inc=$1/linux

probe() {
	grep -qsF -- "$2" "$inc/$1" && printf -- '-D%s ' "$3"
}

probe fs.h 'int (*permission) (struct mnt_idmap *' STRATA_HAVE_MNT_IDMAP
probe backing-file.h 'backing_file_open(const struct file *user_file' \
	STRATA_HAVE_BACKING_FILE_USER_FILE
probe backing-file.h 'backing_file_open(const struct path *user_path' \
	STRATA_HAVE_BACKING_FILE_USER_PATH
probe fs.h '(*get_inode_acl)' STRATA_HAVE_GET_INODE_ACL
probe dcache.h 'enum d_real_type' STRATA_HAVE_D_REAL_TYPE
probe splice.h 'ssize_t vfs_splice_read(' STRATA_HAVE_VFS_SPLICE_READ
# The series that forked splice_file_range() off do_splice_direct() also
# moved the output's freeze protection into do_splice_direct().
probe splice.h 'ssize_t splice_file_range(' STRATA_HAVE_SPLICE_FILE_RANGE
probe backing-file.h 'backing_tmpfile_open(const struct file *user_file' \
	STRATA_HAVE_BACKING_TMPFILE
probe fs.h 'int freeze_super(struct super_block *super, enum freeze_holder who)' \
	STRATA_HAVE_FREEZE_HOLDER
exit 0
