// SPDX-License-Identifier: GPL-2.0
/*
 * kmod.c - load strata.ko through libkmod.
 *
 * By name the module is looked up like modprobe does (module directory of
 * the running kernel, dependencies, blacklist); by path it is inserted
 * like insmod does.  libkmod's own messages are routed through our error
 * format so every line the user sees starts with "strata:".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <libkmod.h>

#include "kmod.h"
#include "util.h"

#define MODULE_NAME "strata"

int fs_list_has(const char *text, const char *name)
{
	size_t nlen = strlen(name);
	const char *line = text, *end, *field;

	while (*line) {
		end = strchrnul(line, '\n');
		/* "nodev\tNAME" or "\tNAME": the name is after the last tab. */
		field = memrchr(line, '\t', end - line);
		field = field ? field + 1 : line;
		if ((size_t)(end - field) == nlen && !memcmp(field, name, nlen))
			return 1;
		line = *end ? end + 1 : end;
	}
	return 0;
}

int fs_is_registered(const char *name)
{
	char *text = read_small_file("/proc/filesystems");
	int ret;

	if (!text)
		return -1;
	ret = fs_list_has(text, name);
	free(text);
	return ret;
}

static void kmod_log(void *data, int priority, const char *file, int line,
		     const char *fn, const char *format, va_list args)
{
	(void)data; (void)file; (void)line; (void)fn;
	if (priority > LOG_ERR)
		return;
	fputs(PROGNAME ": libkmod: ", stderr);
	vfprintf(stderr, format, args);
}

/* Text for an error of init_module/finit_module, as insmod explains it. */
static const char *insert_error(int err)
{
	switch (err) {
	case ENOEXEC:
		return "invalid module format (built for another kernel?)";
	case ENOENT:
		return "unknown symbol in module, or unknown parameter (see dmesg)";
	case ESRCH:
		return "module has the wrong symbol version (see dmesg)";
	case EINVAL:
		return "invalid module or parameters (see dmesg)";
	case EPERM:
		return "not permitted (needs CAP_SYS_MODULE; module loading may be disabled)";
	case ENOSYS:
		return "loading modules is not possible here (no init_module system call)";
	case EKEYREJECTED:
	case EKEYREVOKED:
	case ENOKEY:
		return "module signature rejected (unsigned module with lockdown?)";
	default:
		return strerror(err);
	}
}

static int load_path(struct kmod_ctx *ctx, const char *path)
{
	struct kmod_module *mod;
	char *object = xasprintf("module %s", path);
	int err;

	err = kmod_module_new_from_path(ctx, path, &mod);
	if (err < 0) {
		err_errno(object, -err);
		free(object);
		return -1;
	}
	err = kmod_module_insert_module(mod, 0, NULL);
	kmod_module_unref(mod);
	if (err < 0 && err != -EEXIST) {
		err_msg(object, "%s", insert_error(-err));
		free(object);
		return -1;
	}
	free(object);
	return 0;
}

static int load_name(struct kmod_ctx *ctx)
{
	const char *object = "module " MODULE_NAME;
	struct kmod_list *list = NULL, *l;
	int err, ret = 0;

	/* Without index files the lookup below still explains the problem. */
	kmod_load_resources(ctx);
	err = kmod_module_new_from_lookup(ctx, MODULE_NAME, &list);
	if (err < 0) {
		err_errno(object, -err);
		return -1;
	}
	if (!list) {
		err_msg(object, "not found in %s (give the file with --module FILE)",
			kmod_get_dirname(ctx));
		return -1;
	}
	kmod_list_foreach(l, list) {
		struct kmod_module *mod = kmod_module_get_module(l);

		err = kmod_module_probe_insert_module(mod,
				KMOD_PROBE_APPLY_BLACKLIST_ALIAS_ONLY,
				NULL, NULL, NULL, NULL);
		kmod_module_unref(mod);
		if (err < 0 && err != -EEXIST) {
			err_msg(object, "%s", insert_error(-err));
			ret = -1;
			break;
		}
		if (err > 0) {
			err_msg(object, "blacklisted");
			ret = -1;
			break;
		}
	}
	kmod_module_unref_list(list);
	return ret;
}

int module_load(const char *path)
{
	const char *null_config = NULL;
	struct kmod_ctx *ctx;
	int ret;

	/* A path load reads no configuration, as insmod does. */
	ctx = kmod_new(NULL, path ? &null_config : NULL);
	if (!ctx) {
		err_msg("module " MODULE_NAME, "cannot initialise libkmod");
		return -1;
	}
	kmod_set_log_fn(ctx, kmod_log, NULL);
	ret = path ? load_path(ctx, path) : load_name(ctx);
	kmod_unref(ctx);
	return ret;
}

int fs_make_available(const char *name, const char *path)
{
	int c = fs_is_registered(name);

	if (c == 0 || (c < 0 && path))
		return module_load(path);
	return 0;
}
