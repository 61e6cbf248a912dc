// SPDX-License-Identifier: GPL-2.0
/*
 * strata: the filesystem type, its superblock and the module.
 */
#include <linux/module.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/statfs.h>
#include <linux/seq_file.h>
#include <net/genetlink.h>
#include "strata.h"

#define STRATA_VERSION "0.1.0"

static int strata_statfs(struct dentry *dentry, struct kstatfs *buf)
{
	struct strata_branch *br = strata_top(STRATA_FS(dentry->d_sb));
	struct path top = { .mnt = br->mnt, .dentry = br->mnt->mnt_root };
	const struct cred *old;
	int err;

	old = strata_override_creds(dentry->d_sb);
	err = vfs_statfs(&top, buf);
	revert_creds(old);
	if (!err)
		buf->f_type = STRATA_SUPER_MAGIC;
	return err;
}

/* syncfs of the union: what was written went to the rw branch. */
static int strata_sync_fs(struct super_block *sb, int wait)
{
	struct strata_fs *sfs = STRATA_FS(sb);
	struct super_block *upper_sb;
	int err;

	if (!strata_is_writable(sfs) || !wait)
		return 0;
	upper_sb = strata_upper_mnt(sb)->mnt_sb;
	/*
	 * At umount our own s_umount is held; the rw branch may be a strata
	 * union too, whose s_umount is of the same class: nest by depth.
	 */
	down_read_nested(&upper_sb->s_umount, sb->s_stack_depth);
	err = sync_filesystem(upper_sb);
	up_read(&upper_sb->s_umount);
	return err;
}

static const struct super_operations strata_super_ops = {
	.sync_fs	= strata_sync_fs,
	.alloc_inode	= strata_alloc_inode,
	.free_inode	= strata_free_inode,
	.evict_inode	= strata_evict_inode,
	.statfs		= strata_statfs,
	.show_options	= strata_show_options,
};

int strata_fill_super(struct super_block *sb, struct fs_context *fc)
{
	struct strata_fs *sfs = STRATA_FS(sb);
	struct strata_entry *re;
	struct inode *root_inode;
	int err;

	/* Branch work is done with the mounter's credentials. */
	sfs->creds = prepare_creds();
	if (!sfs->creds)
		return -ENOMEM;

	err = strata_branches_setup(fc, sb);
	if (err)
		return err;
	strata_lockdep_sb(sb);
	if (strata_rw_branch(sfs)) {
		struct strata_fs_context *ctx = fc->fs_private;

		/* Before the work directory is emptied: it may be another's. */
		err = strata_inuse_claim_mount(fc, sb);
		if (err)
			return err;
		err = strata_workdir_setup(fc, sb, ctx->workdir.dentry ?
					   &ctx->workdir : NULL);
		if (err)
			return err;
	}

	sb->s_magic = STRATA_SUPER_MAGIC;
	sb->s_op = &strata_super_ops;
	sb->s_d_op = &strata_dentry_ops;
	sb->s_xattr = strata_xattr_handlers;
	sb->s_maxbytes = MAX_LFS_FILESIZE;
	sb->s_time_gran = 1;
	sb->s_flags |= SB_POSIXACL;
	/* Without a rw branch on top the union is read-only. */
	if (!strata_rw_branch(sfs))
		sb->s_flags |= SB_RDONLY;

	err = strata_build_root_entry(sb, sfs->table, &re);
	if (err)
		return err;
	root_inode = strata_get_inode(sb, re);
	if (IS_ERR(root_inode)) {
		strata_entry_free(re);
		return PTR_ERR(root_inode);
	}
	sb->s_root = d_make_root(root_inode);
	if (!sb->s_root) {
		strata_entry_free(re);
		return -ENOMEM;
	}
	sb->s_root->d_fsdata = re;
	sb->s_root->d_time = 0;
	return strata_nl_register(sb);
}

static void strata_kill_sb(struct super_block *sb)
{
	struct strata_fs *sfs = STRATA_FS(sb);

	if (sfs)
		strata_nl_unregister(sb);
	kill_anon_super(sb);
	if (sfs)
		strata_fs_free(sfs);
}

struct file_system_type strata_fs_type = {
	.owner			= THIS_MODULE,
	.name			= "strata",
	.init_fs_context	= strata_init_fs_context,
	.kill_sb		= strata_kill_sb,
};
MODULE_ALIAS_FS("strata");
MODULE_ALIAS_GENL_FAMILY(STRATA_FAMILY_NAME);

static int __init strata_init(void)
{
	int err;

	err = strata_inode_cache_init();
	if (err)
		return err;
	strata_fault_init();
	err = strata_nl_init();
	if (err)
		goto out_cache;
	err = register_filesystem(&strata_fs_type);
	if (err)
		goto out_nl;
	return 0;
out_nl:
	strata_nl_exit();
out_cache:
	strata_fault_exit();
	strata_inode_cache_exit();
	return err;
}

static void __exit strata_exit(void)
{
	unregister_filesystem(&strata_fs_type);
	strata_nl_exit();
	strata_fault_exit();
	strata_inode_cache_exit();
}

module_init(strata_init);
module_exit(strata_exit);

MODULE_DESCRIPTION("strata: a union filesystem for image layers and containers");
MODULE_LICENSE("GPL");
MODULE_VERSION(STRATA_VERSION);
