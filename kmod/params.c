// SPDX-License-Identifier: GPL-2.0
/*
 * Mount options: the br= list, the one-branch-per-call fsconfig keys, the
 * overlayfs spelling, and how the union shows itself in mountinfo.
 *
 * Branch paths are resolved as soon as they are given, so an error names
 * the branch while the user still knows which argument it was, and so
 * FSCONFIG_SET_PATH/SET_FD work for paths of any length.
 */
#include <linux/fs_parser.h>
#include <linux/namei.h>
#include <linux/seq_file.h>
#include <linux/security.h>
#include <linux/slab.h>
#include <linux/file.h>
#include "strata.h"

enum strata_opt {
	OPT_br,
	OPT_branch,
	OPT_branch_rw,
	OPT_branch_ro,
	OPT_branch_rr,
	OPT_lowerdir,
	OPT_lowerdir_add,
	OPT_upperdir,
	OPT_workdir,
	OPT_whiteout,
	OPT_userxattr,
};

static const struct constant_table strata_whiteout_names[] = {
	{ "aufs",	STRATA_WH_AUFS },
	{ "overlay",	STRATA_WH_OVERLAY },
	{}
};

static const struct fs_parameter_spec strata_param_specs[] = {
	fsparam_string("br",		OPT_br),
	fsparam_path("branch",		OPT_branch),
	fsparam_path("branch_rw",	OPT_branch_rw),
	fsparam_path("branch_ro",	OPT_branch_ro),
	fsparam_path("branch_rr",	OPT_branch_rr),
	fsparam_string("lowerdir",	OPT_lowerdir),
	fsparam_path("lowerdir+",	OPT_lowerdir_add),
	fsparam_path("upperdir",	OPT_upperdir),
	fsparam_path("workdir",		OPT_workdir),
	fsparam_enum("whiteout",	OPT_whiteout, strata_whiteout_names),
	fsparam_flag("userxattr",	OPT_userxattr),
	{}
};

static const char *const strata_mode_names[] = {
	[STRATA_BR_RW] = "rw",
	[STRATA_BR_RO] = "ro",
	[STRATA_BR_RR] = "rr",
};

static int strata_parse_mode(const char *s, enum strata_mode *mode)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(strata_mode_names); i++) {
		if (!strcmp(s, strata_mode_names[i])) {
			*mode = i;
			return 0;
		}
	}
	return -EINVAL;
}

/* Resolve one branch directory and report failures naming it. */
static int strata_resolve(struct fs_context *fc, struct fs_parameter *param,
			  const char *name, struct path *path)
{
	int err;

	if (param && param->type == fs_value_is_file) {
		*path = param->file->f_path;
		path_get(path);
	} else if (param && param->type == fs_value_is_filename) {
		err = fs_lookup_param(fc, param, false, LOOKUP_FOLLOW, path);
		if (err)
			goto fail;
	} else {
		err = kern_path(name, LOOKUP_FOLLOW, path);
		if (err)
			goto fail;
	}
	if (!d_is_dir(path->dentry)) {
		/* Callers keep @path (ctx->workdir) and put it again at free. */
		path_put(path);
		*path = (struct path){};
		errorfc(fc, "branch %s: not a directory", name);
		return -ENOTDIR;
	}
	return 0;

fail:
	if (err == -ENOENT)
		errorfc(fc, "branch %s: does not exist", name);
	else if (err == -ENOTDIR)
		errorfc(fc, "branch %s: not a directory", name);
	else
		errorfc(fc, "branch %s: cannot resolve (%pe)", name, ERR_PTR(err));
	return err;
}

/* The name shown for a branch: its absolute path. */
static char *strata_path_name(const struct path *path)
{
	char *buf, *p, *name;

	buf = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!buf)
		return ERR_PTR(-ENOMEM);
	p = d_path(path, buf, PATH_MAX);
	name = IS_ERR(p) ? ERR_CAST(p) : kstrdup(p, GFP_KERNEL);
	kfree(buf);
	return name ?: ERR_PTR(-ENOMEM);
}

static int strata_spec_fill(struct fs_context *fc, struct strata_branch_spec *spec,
			    struct fs_parameter *param, const char *given,
			    enum strata_mode mode, bool mode_given)
{
	char *name;
	int err;

	if (!given[0]) {
		errorfc(fc, "empty branch path");
		return -EINVAL;
	}
	err = strata_resolve(fc, param, given, &spec->path);
	if (err)
		return err;
	name = strata_path_name(&spec->path);
	if (IS_ERR(name)) {
		path_put(&spec->path);
		return PTR_ERR(name);
	}
	spec->name = name;
	spec->mode = mode;
	spec->mode_given = mode_given;
	return 0;
}

static int strata_add_branch(struct fs_context *fc, struct fs_parameter *param,
			     const char *given, enum strata_mode mode,
			     bool mode_given)
{
	struct strata_fs_context *ctx = fc->fs_private;
	struct strata_branch_spec *specs;
	int err;

	if (ctx->nr >= STRATA_MAX_BRANCHES) {
		errorfc(fc, "too many branches (max %u)", STRATA_MAX_BRANCHES);
		return -EINVAL;
	}
	if (ctx->nr == ctx->alloc) {
		unsigned int n = max(16U, ctx->alloc * 2);

		/* kvrealloc() changed signature in 6.12: grow by hand */
		specs = kvmalloc_array(n, sizeof(*specs), GFP_KERNEL);
		if (!specs)
			return -ENOMEM;
		if (ctx->nr)
			memcpy(specs, ctx->specs, ctx->nr * sizeof(*specs));
		kvfree(ctx->specs);
		ctx->specs = specs;
		ctx->alloc = n;
	}
	memset(&ctx->specs[ctx->nr], 0, sizeof(ctx->specs[0]));
	err = strata_spec_fill(fc, &ctx->specs[ctx->nr], param, given, mode,
			       mode_given);
	if (err)
		return err;
	ctx->nr++;
	return 0;
}

/*
 * Split a list at unescaped @sep and undo the "\x" escapes in place.
 * Returns the next element, or NULL at the end; *mode_at gets the
 * position of the last unescaped '=' in the element (or NULL).
 */
static char *strata_next_elem(char **cursor, char sep, char **mode_at)
{
	char *s = *cursor, *in, *out;

	if (!s)
		return NULL;
	*mode_at = NULL;
	for (in = out = s; *in; in++) {
		if (*in == '\\' && in[1]) {
			*out++ = *++in;
			continue;
		}
		if (*in == sep) {
			*out = '\0';
			*cursor = in + 1;
			return s;
		}
		if (*in == '=')
			*mode_at = out;
		*out++ = *in;
	}
	*out = '\0';
	*cursor = NULL;
	return s;
}

static int strata_parse_list(struct fs_context *fc, char *list, bool with_modes)
{
	char *cursor = list, *elem, *eq;
	enum strata_mode mode;
	int err;

	while ((elem = strata_next_elem(&cursor, ':', &eq))) {
		bool given = false;

		mode = STRATA_BR_RO;
		if (with_modes && eq) {
			*eq = '\0';
			if (strata_parse_mode(eq + 1, &mode)) {
				errorfc(fc, "branch %s: unknown mode '%s'",
					elem, eq + 1);
				return -EINVAL;
			}
			given = true;
		} else if (!with_modes) {
			given = true;
		}
		err = strata_add_branch(fc, NULL, elem, mode, given);
		if (err)
			return err;
	}
	return 0;
}

static const char *strata_param_name(struct fs_parameter *param)
{
	switch (param->type) {
	case fs_value_is_string:
		return param->string;
	case fs_value_is_filename:
		return param->name->name;
	case fs_value_is_file:
		return "(fd)";
	default:
		return "";
	}
}

static int strata_parse_param(struct fs_context *fc, struct fs_parameter *param)
{
	struct strata_fs_context *ctx = fc->fs_private;
	struct fs_parse_result result;
	int opt, err;

	opt = fs_parse(fc, strata_param_specs, param, &result);
	if (opt < 0)
		return opt;

	switch (opt) {
	case OPT_br:
	case OPT_branch:
	case OPT_branch_rw:
	case OPT_branch_ro:
	case OPT_branch_rr:
		if (ctx->has_lower)
			return invalfc(fc, "br= and lowerdir= cannot be combined");
		ctx->has_br = true;
		break;
	case OPT_lowerdir:
	case OPT_lowerdir_add:
	case OPT_upperdir:
		if (ctx->has_br)
			return invalfc(fc, "br= and lowerdir= cannot be combined");
		ctx->has_lower = true;
		break;
	}

	if (opt != OPT_whiteout && opt != OPT_userxattr && opt != OPT_br &&
	    opt != OPT_lowerdir && param->type == fs_value_is_flag)
		return invalfc(fc, "empty branch path");

	switch (opt) {
	case OPT_br:
		return strata_parse_list(fc, param->string, true);
	case OPT_lowerdir:
		/* overlayfs semantics: lowerdir= replaces the lower list */
		while (ctx->nr) {
			ctx->nr--;
			path_put(&ctx->specs[ctx->nr].path);
			kfree(ctx->specs[ctx->nr].name);
		}
		return strata_parse_list(fc, param->string, false);
	case OPT_branch:
		return strata_add_branch(fc, param, strata_param_name(param),
					 STRATA_BR_RO, false);
	case OPT_branch_rw:
		return strata_add_branch(fc, param, strata_param_name(param),
					 STRATA_BR_RW, true);
	case OPT_branch_ro:
	case OPT_lowerdir_add:
		return strata_add_branch(fc, param, strata_param_name(param),
					 STRATA_BR_RO, true);
	case OPT_branch_rr:
		return strata_add_branch(fc, param, strata_param_name(param),
					 STRATA_BR_RR, true);
	case OPT_upperdir:
		if (ctx->upper.name) {
			path_put(&ctx->upper.path);
			kfree(ctx->upper.name);
			ctx->upper.name = NULL;
		}
		return strata_spec_fill(fc, &ctx->upper, param,
					strata_param_name(param),
					STRATA_BR_RW, true);
	case OPT_workdir:
		path_put(&ctx->workdir);
		memset(&ctx->workdir, 0, sizeof(ctx->workdir));
		kfree(ctx->workdir_name);
		ctx->workdir_name = NULL;
		err = strata_resolve(fc, param, strata_param_name(param),
				     &ctx->workdir);
		if (err)
			return err;
		ctx->workdir_name = strata_path_name(&ctx->workdir);
		if (IS_ERR(ctx->workdir_name)) {
			err = PTR_ERR(ctx->workdir_name);
			ctx->workdir_name = NULL;
			path_put(&ctx->workdir);
			memset(&ctx->workdir, 0, sizeof(ctx->workdir));
		}
		return err;
	case OPT_whiteout:
		ctx->whiteout = result.uint_32;
		return 0;
	case OPT_userxattr:
		ctx->userxattr = true;
		return 0;
	}
	return -EINVAL;
}

/*
 * mount(2) data: split at unescaped commas, so "\," stays in a path.  The
 * generic splitter would cut such a path in two.
 */
static int strata_parse_monolithic(struct fs_context *fc, void *data)
{
	char *options = data, *key, *value, *eq;
	int err;

	if (!options)
		return 0;
	err = security_sb_eat_lsm_opts(options, &fc->security);
	if (err)
		return err;

	while ((key = options)) {
		char *in, *end = NULL;

		for (in = key; *in; in++) {
			if (*in == '\\' && in[1]) {
				in++;
				continue;
			}
			if (*in == ',') {
				end = in;
				break;
			}
		}
		if (end) {
			*end = '\0';
			options = end + 1;
		} else {
			options = NULL;
		}
		if (!*key)
			continue;
		eq = strchr(key, '=');
		value = NULL;
		if (eq) {
			if (eq == key)
				continue;
			*eq = '\0';
			value = eq + 1;
		}
		err = vfs_parse_fs_string(fc, key, value,
					  value ? strlen(value) : 0);
		if (err)
			return err;
	}
	return 0;
}

static int strata_reconfigure(struct fs_context *fc)
{
	struct strata_fs_context *ctx = fc->fs_private;
	struct super_block *sb = fc->root->d_sb;
	struct strata_fs *sfs = STRATA_FS(sb);

	if (ctx->nr || ctx->upper.name)
		return invalfc(fc, "branches cannot be changed by remount");
	if (ctx->whiteout != sfs->whiteout || ctx->userxattr != sfs->userxattr)
		return invalfc(fc, "whiteout= and userxattr cannot be changed by remount");
	if (!(fc->sb_flags & SB_RDONLY) &&
	    (!sfs->table || !strata_rw_branch(sfs)))
		return invalfc(fc, "no rw branch: the union stays read-only");
	return 0;
}

static void strata_free_fc(struct fs_context *fc)
{
	struct strata_fs_context *ctx = fc->fs_private;
	unsigned int i;

	if (fc->s_fs_info)
		strata_fs_free(fc->s_fs_info);
	if (!ctx)
		return;
	for (i = 0; i < ctx->nr; i++) {
		path_put(&ctx->specs[i].path);
		kfree(ctx->specs[i].name);
	}
	kvfree(ctx->specs);
	if (ctx->upper.name) {
		path_put(&ctx->upper.path);
		kfree(ctx->upper.name);
	}
	path_put(&ctx->workdir);
	kfree(ctx->workdir_name);
	kfree(ctx);
}

static int strata_get_tree(struct fs_context *fc);

static const struct fs_context_operations strata_context_ops = {
	.parse_monolithic	= strata_parse_monolithic,
	.parse_param		= strata_parse_param,
	.get_tree		= strata_get_tree,
	.reconfigure		= strata_reconfigure,
	.free			= strata_free_fc,
};

static int strata_get_tree(struct fs_context *fc)
{
	return get_tree_nodev(fc, strata_fill_super);
}

int strata_init_fs_context(struct fs_context *fc)
{
	struct strata_fs_context *ctx;
	struct strata_fs *sfs;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	if (fc->purpose == FS_CONTEXT_FOR_RECONFIGURE) {
		sfs = STRATA_FS(fc->root->d_sb);
		ctx->whiteout = sfs->whiteout;
		ctx->userxattr = sfs->userxattr;
	} else {
		sfs = strata_fs_alloc();
		if (!sfs) {
			kfree(ctx);
			return -ENOMEM;
		}
		fc->s_fs_info = sfs;
	}
	fc->fs_private = ctx;
	fc->ops = &strata_context_ops;
	return 0;
}

/* Print a path with the br= escapes, then mountinfo's own escapes. */
static void strata_show_path(struct seq_file *m, const char *path)
{
	char *buf, *out;
	const char *in;

	buf = kmalloc(strlen(path) * 2 + 1, GFP_KERNEL);
	if (!buf) {
		seq_escape(m, path, " \t\n\\:=,");
		return;
	}
	for (in = path, out = buf; *in; in++) {
		if (strchr("\\:=,", *in))
			*out++ = '\\';
		*out++ = *in;
	}
	*out = '\0';
	seq_escape(m, buf, " \t\n\\");
	kfree(buf);
}

int strata_show_options(struct seq_file *m, struct dentry *root)
{
	struct strata_fs *sfs = STRATA_FS(root->d_sb);
	struct strata_table *t = strata_table(sfs);
	unsigned int i;

	seq_puts(m, ",br=");
	for (i = 0; i < t->nr; i++) {
		if (i)
			seq_putc(m, ':');
		strata_show_path(m, t->br[i]->name);
		seq_printf(m, "=%s",
			   strata_mode_names[READ_ONCE(t->br[i]->mode)]);
	}
	if (sfs->whiteout != STRATA_WH_AUFS)
		seq_puts(m, ",whiteout=overlay");
	if (sfs->userxattr)
		seq_puts(m, ",userxattr");
	return 0;
}
