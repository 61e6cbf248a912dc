// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink control channel (family "strata", see
 * Documentation/netlink/specs/strata.yaml): a registry of mounted unions,
 * mount-get to inspect them, and the monitor multicast group.
 */
#include <linux/file.h>
#include <linux/idr.h>
#include <linux/namei.h>
#include <linux/nsproxy.h>
#include <linux/slab.h>
#include <net/genetlink.h>
#include "strata.h"

/*
 * The generator makes the multicast group table static to genl.c, while
 * the family (written by hand for genetlink-legacy) lives here: compile
 * the generated code as part of this file.
 */
#include "genl.c"

static DEFINE_MUTEX(strata_mounts_lock);
static LIST_HEAD(strata_mounts);
static DEFINE_IDA(strata_mount_ids);
static struct genl_family strata_nl_family;

/* Where the dump continues: the next mount id, the next branch in it. */
struct strata_dump_ctx {
	u32 id;
	u32 branch;
};

static const char *const strata_nl_modes[] = {
	[STRATA_BR_RW] = "rw", [STRATA_BR_RO] = "ro", [STRATA_BR_RR] = "rr",
};

static bool strata_nl_visible(const struct strata_fs *sfs)
{
	/* Dumps show the unions mounted from the caller's mount namespace. */
	return sfs->mnt_ns == current->nsproxy->mnt_ns;
}

static int strata_nl_put_branches(struct sk_buff *skb, struct strata_fs *sfs,
				  u32 *from)
{
	struct strata_table *t = strata_table(sfs);
	u32 i;

	for (i = *from; i < t->nr; i++) {
		struct strata_branch *br = t->br[i];
		struct nlattr *nest;

		nest = nla_nest_start(skb, STRATA_A_MOUNT_BRANCH);
		if (!nest ||
		    nla_put_u32(skb, STRATA_A_BRANCH_INDEX, i) ||
		    nla_put_string(skb, STRATA_A_BRANCH_PATH, br->name) ||
		    nla_put_u32(skb, STRATA_A_BRANCH_MODE, READ_ONCE(br->mode)) ||
		    nla_put_string(skb, STRATA_A_BRANCH_FSTYPE,
				   br->mnt->mnt_sb->s_type->name)) {
			if (nest)
				nla_nest_cancel(skb, nest);
			*from = i;
			return -EMSGSIZE;
		}
		nla_nest_end(skb, nest);
	}
	*from = i;
	return 0;
}

static int strata_nl_put_counters(struct sk_buff *skb, struct strata_fs *sfs)
{
	struct nlattr *nest = nla_nest_start(skb, STRATA_A_MOUNT_COUNTERS);

	if (!nest ||
	    nla_put_u64_64bit(skb, STRATA_A_COUNTERS_LOOKUPS,
			      atomic64_read(&sfs->stats.lookups), 0) ||
	    nla_put_u64_64bit(skb, STRATA_A_COUNTERS_COPY_UPS,
			      atomic64_read(&sfs->stats.copy_ups), 0) ||
	    nla_put_u64_64bit(skb, STRATA_A_COUNTERS_COPY_BYTES,
			      atomic64_read(&sfs->stats.copy_bytes), 0) ||
	    nla_put_u64_64bit(skb, STRATA_A_COUNTERS_WHITEOUTS,
			      atomic64_read(&sfs->stats.whiteouts), 0) ||
	    nla_put_u64_64bit(skb, STRATA_A_COUNTERS_BRANCH_CHANGES,
			      atomic64_read(&sfs->stats.branch_changes), 0))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

static int strata_nl_put_options(struct sk_buff *skb, struct super_block *sb)
{
	struct seq_file m = {};
	int err;

	/* Reuse show_options so netlink and mountinfo always agree. */
	m.size = PAGE_SIZE;
	for (;;) {
		m.buf = kvmalloc(m.size, GFP_KERNEL);
		if (!m.buf)
			return -ENOMEM;
		m.count = 0;
		strata_show_options(&m, sb->s_root);
		if (m.count < m.size)
			break;
		kvfree(m.buf);
		m.size <<= 1;
	}
	m.buf[m.count] = '\0';
	/* An attribute's length has 16 bits: very long options stay out. */
	if (nla_total_size(m.count + 1) > U16_MAX) {
		kvfree(m.buf);
		return -EMSGSIZE;
	}
	/* Skip the leading comma of the mountinfo form. */
	err = nla_put_string(skb, STRATA_A_MOUNT_OPTIONS,
			     m.count ? m.buf + 1 : m.buf);
	kvfree(m.buf);
	return err;
}

/*
 * One mount as a message: everything up to the branches in the first
 * part, as many branches as fit from *from on.  -EMSGSIZE when not even
 * the head fits.
 */
static int strata_nl_fill(struct sk_buff *skb, struct super_block *sb,
			  const char *mountpoint, u32 portid, u32 seq,
			  int flags, u8 cmd, u32 *from)
{
	struct strata_fs *sfs = STRATA_FS(sb);
	void *hdr;
	int err;

	hdr = genlmsg_put(skb, portid, seq, &strata_nl_family, flags, cmd);
	if (!hdr)
		return -EMSGSIZE;
	err = -EMSGSIZE;
	if (nla_put_u32(skb, STRATA_A_MOUNT_ID, sfs->id) ||
	    nla_put_u32(skb, STRATA_A_MOUNT_DEV, new_encode_dev(sb->s_dev)) ||
	    (mountpoint &&
	     nla_put_string(skb, STRATA_A_MOUNT_MOUNTPOINT, mountpoint)) ||
	    nla_put_u32(skb, STRATA_A_MOUNT_WHITEOUT, sfs->whiteout) ||
	    (!strata_is_writable(sfs) &&
	     nla_put_flag(skb, STRATA_A_MOUNT_READONLY)) ||
	    strata_nl_put_counters(skb, sfs))
		goto cancel;
	/*
	 * The options repeat the branches; a union too large for them to
	 * fit one message goes without, and the branches tell all.
	 */
	if (!*from) {
		err = strata_nl_put_options(skb, sb);
		if (err == -ENOMEM)
			goto cancel;
	}
	err = strata_nl_put_branches(skb, sfs, from);
	/* Some branches fit: send them, the caller continues from *from. */
	genlmsg_end(skb, hdr);
	return err;
cancel:
	genlmsg_cancel(skb, hdr);
	return err;
}

/* Room for the whole union in one reply, within reason. */
static size_t strata_nl_size(struct strata_fs *sfs)
{
	struct strata_table *t = strata_table(sfs);
	size_t size = NLMSG_GOODSIZE;
	unsigned int i;

	for (i = 0; i < t->nr; i++)
		size += 2 * strlen(t->br[i]->name) + 96;
	return min_t(size_t, size, SZ_4M);
}

static struct strata_fs *strata_nl_find(u32 id)
{
	struct strata_fs *sfs;

	list_for_each_entry(sfs, &strata_mounts, node)
		if (sfs->id == id)
			return sfs;
	return NULL;
}

int strata_nl_mount_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct strata_fs *sfs = NULL;
	struct super_block *sb = NULL;
	char *buf = NULL, *mountpoint = NULL;
	struct file *file = NULL;
	struct sk_buff *msg;
	u32 from = 0;
	int err;

	if (info->attrs[STRATA_A_MOUNT_FD]) {
		file = fget(nla_get_s32(info->attrs[STRATA_A_MOUNT_FD]));
		if (!file) {
			NL_SET_ERR_MSG_ATTR(info->extack,
					    info->attrs[STRATA_A_MOUNT_FD],
					    "not an open file descriptor");
			return -EBADF;
		}
		sb = file_inode(file)->i_sb;
		if (sb->s_type != &strata_fs_type) {
			NL_SET_ERR_MSG_ATTR(info->extack,
					    info->attrs[STRATA_A_MOUNT_FD],
					    "file descriptor is not inside a strata union");
			err = -EINVAL;
			goto out;
		}
		buf = kmalloc(PATH_MAX, GFP_KERNEL);
		if (buf) {
			struct path root = {
				.mnt = file->f_path.mnt,
				.dentry = file->f_path.mnt->mnt_root,
			};

			mountpoint = d_path(&root, buf, PATH_MAX);
			if (IS_ERR(mountpoint))
				mountpoint = NULL;
		}
	} else if (!info->attrs[STRATA_A_MOUNT_ID]) {
		NL_SET_ERR_MSG(info->extack, "mount-get needs the id or fd attribute");
		return -EINVAL;
	}

	mutex_lock(&strata_mounts_lock);
	if (sb) {
		sfs = STRATA_FS(sb);
	} else {
		sfs = strata_nl_find(nla_get_u32(info->attrs[STRATA_A_MOUNT_ID]));
		if (!sfs || !strata_nl_visible(sfs)) {
			mutex_unlock(&strata_mounts_lock);
			NL_SET_ERR_MSG_ATTR(info->extack,
					    info->attrs[STRATA_A_MOUNT_ID],
					    "no strata union with this id");
			err = -ENOENT;
			goto out;
		}
		sb = sfs->sb;
	}
	msg = genlmsg_new(strata_nl_size(sfs), GFP_KERNEL);
	if (!msg) {
		mutex_unlock(&strata_mounts_lock);
		err = -ENOMEM;
		goto out;
	}
	/* One reply; a union with more branches than fit is truncated. */
	err = strata_nl_fill(msg, sb, mountpoint, info->snd_portid,
			     info->snd_seq, 0, STRATA_CMD_MOUNT_GET, &from);
	mutex_unlock(&strata_mounts_lock);
	if (err && err != -EMSGSIZE) {
		nlmsg_free(msg);
		goto out;
	}
	if (from < strata_table(sfs)->nr)
		NL_SET_ERR_MSG(info->extack,
			       "reply truncated: dump the mount for every branch");
	err = genlmsg_reply(msg, info);
out:
	kfree(buf);
	if (file)
		fput(file);
	return err;
}

int strata_nl_mount_get_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct strata_dump_ctx *ctx = (void *)cb->ctx;
	struct strata_fs *sfs;
	int err = 0;

	BUILD_BUG_ON(sizeof(*ctx) > sizeof_field(struct netlink_callback, ctx));
	mutex_lock(&strata_mounts_lock);
	list_for_each_entry(sfs, &strata_mounts, node) {
		if (sfs->id < ctx->id || !strata_nl_visible(sfs))
			continue;
		if (sfs->id > ctx->id) {
			ctx->id = sfs->id;
			ctx->branch = 0;
		}
		err = strata_nl_fill(skb, sfs->sb, NULL,
				     NETLINK_CB(cb->skb).portid,
				     cb->nlh->nlmsg_seq, NLM_F_MULTI,
				     STRATA_CMD_MOUNT_GET, &ctx->branch);
		if (err)
			break;
		ctx->id++;
		ctx->branch = 0;
	}
	mutex_unlock(&strata_mounts_lock);
	/* A full skb: come back for the rest (6.1 wants a positive length). */
	if (err == -EMSGSIZE && skb->len)
		return skb->len;
	return err ?: skb->len;
}

static void strata_nl_multicast(struct sk_buff *msg)
{
	genlmsg_multicast(&strata_nl_family, msg, 0, STRATA_NLGRP_MONITOR,
			  GFP_KERNEL);
}

static bool strata_nl_listening(void)
{
	return genl_has_listeners(&strata_nl_family, &init_net,
				  STRATA_NLGRP_MONITOR);
}

void strata_nl_copy_up_event(struct dentry *dentry, u64 size, u64 duration_ns)
{
	struct strata_fs *sfs = STRATA_FS(dentry->d_sb);
	struct sk_buff *msg;
	char *buf, *path;
	void *hdr;

	if (!strata_nl_listening())
		return;
	buf = kmalloc(PATH_MAX, GFP_KERNEL);
	msg = genlmsg_new(GENLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!buf || !msg)
		goto fail;
	path = dentry_path_raw(dentry, buf, PATH_MAX);
	hdr = genlmsg_put(msg, 0, 0, &strata_nl_family, 0,
			  STRATA_CMD_COPY_UP_NTF);
	if (IS_ERR(path) || !hdr ||
	    nla_put_u32(msg, STRATA_A_COPY_UP_MOUNT_ID, sfs->id) ||
	    nla_put_string(msg, STRATA_A_COPY_UP_PATH, path) ||
	    nla_put_u64_64bit(msg, STRATA_A_COPY_UP_SIZE, size, 0) ||
	    nla_put_u64_64bit(msg, STRATA_A_COPY_UP_DURATION_NS, duration_ns, 0))
		goto fail;
	genlmsg_end(msg, hdr);
	kfree(buf);
	strata_nl_multicast(msg);
	return;
fail:
	kfree(buf);
	nlmsg_free(msg);
}

static void strata_nl_mount_event(struct super_block *sb, u8 cmd)
{
	struct strata_fs *sfs = STRATA_FS(sb);
	struct sk_buff *msg;
	u32 from = 0;
	void *hdr;
	int err;

	if (!strata_nl_listening())
		return;
	msg = genlmsg_new(cmd == STRATA_CMD_MOUNT_NEW_NTF ? strata_nl_size(sfs) :
			  GENLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return;
	if (cmd == STRATA_CMD_MOUNT_NEW_NTF) {
		err = strata_nl_fill(msg, sb, NULL, 0, 0, 0, cmd, &from);
		if (err && err != -EMSGSIZE)
			goto fail;
	} else {
		hdr = genlmsg_put(msg, 0, 0, &strata_nl_family, 0, cmd);
		if (!hdr || nla_put_u32(msg, STRATA_A_MOUNT_ID, sfs->id))
			goto fail;
		genlmsg_end(msg, hdr);
	}
	strata_nl_multicast(msg);
	return;
fail:
	nlmsg_free(msg);
}

int strata_nl_register(struct super_block *sb)
{
	struct strata_fs *sfs = STRATA_FS(sb), *pos;
	int id;

	id = ida_alloc_min(&strata_mount_ids, 1, GFP_KERNEL);
	if (id < 0)
		return id;
	sfs->id = id;
	sfs->sb = sb;
	sfs->mnt_ns = current->nsproxy->mnt_ns;
	mutex_lock(&strata_mounts_lock);
	/* Ids are reused: keep the list in id order for resumable dumps. */
	list_for_each_entry(pos, &strata_mounts, node)
		if (pos->id > sfs->id)
			break;
	list_add_tail(&sfs->node, &pos->node);
	mutex_unlock(&strata_mounts_lock);
	strata_nl_mount_event(sb, STRATA_CMD_MOUNT_NEW_NTF);
	return 0;
}

void strata_nl_unregister(struct super_block *sb)
{
	struct strata_fs *sfs = STRATA_FS(sb);

	if (!sfs->id)
		return;
	mutex_lock(&strata_mounts_lock);
	list_del(&sfs->node);
	mutex_unlock(&strata_mounts_lock);
	strata_nl_mount_event(sb, STRATA_CMD_MOUNT_DEL_NTF);
	ida_free(&strata_mount_ids, sfs->id);
	sfs->id = 0;
}

/*
 * Formatted extack messages on both kernels, longer than 6.12's own
 * 80-byte buffer.  extack->_msg must outlive the handler: the ack is
 * built after genl_mutex is dropped, so messages go round a ring of
 * buffers; always NUL-terminated, and reused only after a full turn of
 * concurrent failing requests.
 */
#define STRATA_NL_MSGS 16
static char strata_nl_msgbuf[STRATA_NL_MSGS][256];
static atomic_t strata_nl_msgseq;

void strata_nl_errf(struct netlink_ext_ack *extack, const char *fmt, ...)
{
	char *buf;
	va_list args;

	if (!extack)
		return;
	buf = strata_nl_msgbuf[(unsigned int)atomic_inc_return(&strata_nl_msgseq) %
			       STRATA_NL_MSGS];
	va_start(args, fmt);
	vsnprintf(buf, sizeof(strata_nl_msgbuf[0]), fmt, args);
	va_end(args);
	extack->_msg = buf;
}

/*
 * The union a changing command addresses, by mount-id or mount-fd, with
 * an active reference; the caller must hold CAP_SYS_ADMIN over its user
 * namespace.
 */
static struct super_block *strata_nl_target(struct genl_info *info)
{
	struct nlattr *fd_attr = info->attrs[STRATA_A_BRANCH_OP_MOUNT_FD];
	struct nlattr *id_attr = info->attrs[STRATA_A_BRANCH_OP_MOUNT_ID];
	struct super_block *sb = NULL;
	struct strata_fs *sfs;

	if (fd_attr) {
		struct file *file = fget_raw(nla_get_s32(fd_attr));

		if (!file) {
			NL_SET_ERR_MSG_ATTR(info->extack, fd_attr,
					    "not an open file descriptor");
			return ERR_PTR(-EBADF);
		}
		sb = file_inode(file)->i_sb;
		if (sb->s_type != &strata_fs_type) {
			fput(file);
			NL_SET_ERR_MSG_ATTR(info->extack, fd_attr,
					    "file descriptor is not inside a strata union");
			return ERR_PTR(-EINVAL);
		}
		/* The open file keeps it active; take a reference of our own. */
		atomic_inc(&sb->s_active);
		fput(file);
	} else if (id_attr) {
		mutex_lock(&strata_mounts_lock);
		sfs = strata_nl_find(nla_get_u32(id_attr));
		if (sfs && strata_nl_visible(sfs) &&
		    atomic_inc_not_zero(&sfs->sb->s_active))
			sb = sfs->sb;
		mutex_unlock(&strata_mounts_lock);
		if (!sb) {
			NL_SET_ERR_MSG_ATTR(info->extack, id_attr,
					    "no strata union with this id");
			return ERR_PTR(-ENOENT);
		}
	} else {
		NL_SET_ERR_MSG(info->extack, "needs the mount-id or mount-fd attribute");
		return ERR_PTR(-EINVAL);
	}
	if (!ns_capable(sb->s_user_ns, CAP_SYS_ADMIN)) {
		deactivate_super(sb);
		NL_SET_ERR_MSG(info->extack,
			       "needs CAP_SYS_ADMIN over the union's user namespace");
		return ERR_PTR(-EPERM);
	}
	return sb;
}

static int strata_nl_index(struct genl_info *info, u32 *index)
{
	if (!info->attrs[STRATA_A_BRANCH_OP_INDEX]) {
		NL_SET_ERR_MSG(info->extack, "needs the index attribute");
		return -EINVAL;
	}
	*index = nla_get_u32(info->attrs[STRATA_A_BRANCH_OP_INDEX]);
	return 0;
}

/* The directory a branch-add names, and its absolute path as a name. */
static int strata_nl_branch_path(struct genl_info *info, struct path *path,
				 char **name)
{
	struct nlattr *path_attr = info->attrs[STRATA_A_BRANCH_OP_PATH];
	struct nlattr *fd_attr = info->attrs[STRATA_A_BRANCH_OP_DIR_FD];
	struct nlattr *bad;
	char *buf, *p;
	int err;

	if (!!path_attr == !!fd_attr) {
		NL_SET_ERR_MSG(info->extack,
			       "needs exactly one of the path and dir-fd attributes");
		return -EINVAL;
	}
	if (path_attr) {
		bad = path_attr;
		err = kern_path(nla_data(path_attr),
				LOOKUP_FOLLOW | LOOKUP_DIRECTORY, path);
	} else {
		struct file *file = fget_raw(nla_get_s32(fd_attr));

		bad = fd_attr;
		err = -EBADF;
		if (file) {
			*path = file->f_path;
			path_get(path);
			fput(file);
			err = d_is_dir(path->dentry) ? 0 : -ENOTDIR;
			if (err)
				path_put(path);
		}
	}
	if (err) {
		strata_nl_errf(info->extack, "branch %s: cannot use it (%d)",
			       path_attr ? (char *)nla_data(path_attr) : "fd", err);
		info->extack->bad_attr = bad;
		return err;
	}
	buf = kmalloc(PATH_MAX, GFP_KERNEL);
	p = buf ? d_path(path, buf, PATH_MAX) : ERR_PTR(-ENOMEM);
	if (IS_ERR(p)) {
		kfree(buf);
		path_put(path);
		NL_SET_ERR_MSG_ATTR(info->extack, bad, "the branch has no path");
		return PTR_ERR(p);
	}
	*name = kstrdup(p, GFP_KERNEL);
	kfree(buf);
	if (!*name) {
		path_put(path);
		return -ENOMEM;
	}
	return 0;
}

int strata_nl_branch_add_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *mode_attr = info->attrs[STRATA_A_BRANCH_OP_MODE];
	struct nlattr *index_attr = info->attrs[STRATA_A_BRANCH_OP_INDEX];
	enum strata_mode mode = STRATA_BR_RO;
	struct super_block *sb;
	struct path path;
	u32 index = 1;
	char *name;
	int err;

	if (mode_attr)
		mode = nla_get_u32(mode_attr);
	if (index_attr)
		index = nla_get_u32(index_attr);
	/* Permission first: the path says nothing to whoever may not ask. */
	sb = strata_nl_target(info);
	if (IS_ERR(sb))
		return PTR_ERR(sb);
	err = strata_nl_branch_path(info, &path, &name);
	if (err)
		goto out;
	/* No index: just under the top, or on top of a read-only union. */
	if (!index_attr && !strata_rw_branch(STRATA_FS(sb)) &&
	    mode == STRATA_BR_RW)
		index = 0;
	err = strata_branch_add(sb, &path, name, mode, index, info->extack);
	path_put(&path);
	kfree(name);
out:
	deactivate_super(sb);
	return err;
}

int strata_nl_branch_del_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct super_block *sb;
	u32 index;
	int err;

	err = strata_nl_index(info, &index);
	if (err)
		return err;
	sb = strata_nl_target(info);
	if (IS_ERR(sb))
		return PTR_ERR(sb);
	err = strata_branch_del(sb, index, info->extack);
	deactivate_super(sb);
	return err;
}

int strata_nl_branch_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct super_block *sb;
	u32 index;
	int err;

	err = strata_nl_index(info, &index);
	if (err)
		return err;
	if (!info->attrs[STRATA_A_BRANCH_OP_MODE]) {
		NL_SET_ERR_MSG(info->extack, "needs the mode attribute");
		return -EINVAL;
	}
	sb = strata_nl_target(info);
	if (IS_ERR(sb))
		return PTR_ERR(sb);
	err = strata_branch_set(sb, index,
				nla_get_u32(info->attrs[STRATA_A_BRANCH_OP_MODE]),
				info->extack);
	deactivate_super(sb);
	return err;
}

static const u32 strata_nl_changes[] = {
	[STRATA_CHANGE_ADD] = STRATA_BRANCH_CHANGE_ADD,
	[STRATA_CHANGE_DEL] = STRATA_BRANCH_CHANGE_DEL,
	[STRATA_CHANGE_MODE] = STRATA_BRANCH_CHANGE_SET,
};

void strata_nl_branch_event(struct super_block *sb, int change,
			    const struct strata_branch *br, unsigned int index)
{
	struct strata_fs *sfs = STRATA_FS(sb);
	struct sk_buff *msg;
	void *hdr;

	if (!strata_nl_listening())
		return;
	msg = genlmsg_new(NLMSG_GOODSIZE + strlen(br->name), GFP_KERNEL);
	if (!msg)
		return;
	hdr = genlmsg_put(msg, 0, 0, &strata_nl_family, 0,
			  STRATA_CMD_BRANCH_CHANGE_NTF);
	if (!hdr ||
	    nla_put_u32(msg, STRATA_A_BRANCH_OP_MOUNT_ID, sfs->id) ||
	    nla_put_u32(msg, STRATA_A_BRANCH_OP_CHANGE, strata_nl_changes[change]) ||
	    nla_put_u32(msg, STRATA_A_BRANCH_OP_INDEX, index) ||
	    nla_put_string(msg, STRATA_A_BRANCH_OP_PATH, br->name) ||
	    nla_put_u32(msg, STRATA_A_BRANCH_OP_MODE, READ_ONCE(br->mode))) {
		nlmsg_free(msg);
		return;
	}
	genlmsg_end(msg, hdr);
	strata_nl_multicast(msg);
}

/*
 * Events carry paths of files: only administrators may listen.  The
 * generator cannot express group flags yet, so they are added here.
 */
static struct genl_multicast_group strata_mcgrps[ARRAY_SIZE(strata_nl_mcgrps)]
	__ro_after_init;

static struct genl_family strata_nl_family __ro_after_init = {
	.name		= STRATA_FAMILY_NAME,
	.version	= STRATA_FAMILY_VERSION,
	.netnsok	= true,
	.module		= THIS_MODULE,
	.ops		= strata_nl_ops,
	.n_ops		= ARRAY_SIZE(strata_nl_ops),
	.resv_start_op	= STRATA_CMD_MOUNT_GET + 1,
	.mcgrps		= strata_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(strata_mcgrps),
};

int __init strata_nl_init(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(strata_mcgrps); i++) {
		strata_mcgrps[i] = strata_nl_mcgrps[i];
		strata_mcgrps[i].flags = GENL_MCAST_CAP_SYS_ADMIN;
	}
	return genl_register_family(&strata_nl_family);
}

void strata_nl_exit(void)
{
	genl_unregister_family(&strata_nl_family);
}
