// SPDX-License-Identifier: GPL-2.0
/*
 * cmd_monitor.c - "strata monitor": follow the monitor multicast group.
 *
 * Besides strata's own group the socket joins nlctrl's "notify" group,
 * which reports families coming and going: when strata.ko is unloaded its
 * group disappears with it (and our membership), and when it is loaded
 * again the group is joined anew, so one monitor outlives module reloads.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "report.h"
#include "strata_nl.h"
#include "util.h"

/* Events come in bursts (a copy-up per file of a large tree). */
#define MONITOR_RCVBUF (4 << 20)

struct monitor {
	struct strata_nl *c;
	uint32_t group;			/* strata's "monitor", 0 while unloaded */
	bool json;
	int failed;			/* writing to stdout failed */
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

void help_monitor(FILE *out)
{
	fputs(
"Usage: strata monitor [OPTIONS]\n"
"\n"
"Print one line per event of every strata union until interrupted\n"
"(SIGINT, SIGTERM):\n"
"  mount ID: dev MAJ:MIN, rw|ro, whiteout FORMAT, OPTIONS\n"
"  umount ID\n"
"  copy-up ID: PATH, SIZE bytes, MS ms\n"
"  branch-add|branch-del|branch-set ID: index N, MODE, DIR\n"
"  module unloaded | module loaded\n"
"PATH is relative to the union's root; MODE is the branch's mode after\n"
"the change (for branch-del, the mode it had).  Needs CAP_SYS_ADMIN.\n"
"\n"
"Options:\n"
"  -j, --json         one JSON object per line instead\n"
"  -m, --module FILE  if strata is not loaded, load this strata.ko\n"
"                     instead of the one in the module directory\n"
"  -h, --help         show this help\n"
"\n"
"Exit status: 0 stopped by a signal, 1 the events could not be followed\n"
"(for example without CAP_SYS_ADMIN), 2 usage error.\n", out);
}

static void emit_json(struct monitor *m, json_t *j)
{
	if (report_json_print(stdout, j, true))
		m->failed = 1;
}

static void on_ctrl(struct monitor *m, const struct nlmsghdr *nlh, uint8_t cmd)
{
	struct genl_family_info info;
	char *why = NULL;

	if (cmd != CTRL_CMD_NEWFAMILY && cmd != CTRL_CMD_DELFAMILY)
		return;
	if (genl_family_parse(nlh, &info, &why)) {
		free(why);
		return;		/* someone else's family, or garbage: not ours */
	}
	if (strcmp(info.name, STRATA_FAMILY_NAME))
		return;
	if (cmd == CTRL_CMD_DELFAMILY) {
		/* The kernel dropped our membership along with the group. */
		m->c->fam.id = 0;
		m->group = 0;
	} else {
		m->c->fam = info;
		m->group = genl_group_id(&info, STRATA_MCGRP_MONITOR);
		if (!m->group || nl_join(m->c->s, m->group))
			warn_msg("monitor", "strata is back, but its monitor group "
				 "cannot be joined: %s",
				 m->group ? strerror(errno) : "no such group");
	}
	if (m->json)
		emit_json(m, report_event_module_json(cmd == CTRL_CMD_NEWFAMILY));
	else
		report_event_module_text(stdout, cmd == CTRL_CMD_NEWFAMILY);
}

static void on_strata(struct monitor *m, const struct nlmsghdr *nlh, uint8_t cmd)
{
	struct strata_mount_list l = {};
	struct strata_branch_change_info br;
	struct strata_copy_up_info ev;
	char *why = NULL;
	uint32_t id;

	switch (cmd) {
	case STRATA_CMD_MOUNT_NEW_NTF:
		if (strata_mount_parse(nlh, &l, &why) || strata_mount_list_finish(&l, &why))
			break;
		if (m->json)
			emit_json(m, report_event_mount_json(&l.v[0]));
		else
			report_event_mount_text(stdout, &l.v[0]);
		break;
	case STRATA_CMD_MOUNT_DEL_NTF:
		if (strata_mount_del_parse(nlh, &id, &why))
			break;
		if (m->json)
			emit_json(m, report_event_umount_json(id));
		else
			report_event_umount_text(stdout, id);
		break;
	case STRATA_CMD_COPY_UP_NTF:
		if (strata_copy_up_parse(nlh, &ev, &why))
			break;
		if (m->json)
			emit_json(m, report_event_copy_up_json(&ev));
		else
			report_event_copy_up_text(stdout, &ev);
		strata_copy_up_free(&ev);
		break;
	case STRATA_CMD_BRANCH_CHANGE_NTF:
		if (strata_branch_change_parse(nlh, &br, &why))
			break;
		if (m->json)
			emit_json(m, report_event_branch_json(&br));
		else
			report_event_branch_text(stdout, &br);
		strata_branch_change_free(&br);
		break;
	default:
		break;		/* an event of a newer module */
	}
	/* One bad event must not end the stream. */
	if (why)
		warn_msg("monitor", "malformed event from the kernel: %s", why);
	free(why);
	strata_mount_list_free(&l);
}

static int event_cb(const struct nlmsghdr *nlh, void *data)
{
	struct monitor *m = data;
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);

	if (mnl_nlmsg_get_payload_len(nlh) < GENL_HDRLEN)
		return MNL_CB_OK;
	if (nlh->nlmsg_type == GENL_ID_CTRL)
		on_ctrl(m, nlh, g->cmd);
	else if (m->c->fam.id && nlh->nlmsg_type == m->c->fam.id)
		on_strata(m, nlh, g->cmd);
	if (fflush(stdout))
		m->failed = 1;
	return MNL_CB_OK;
}

/*
 * nlctrl's notify group, looked up before any group is joined, so that no
 * event can be mistaken for the reply.  0 when unknown: then a reloaded
 * module goes unnoticed, and that is all.
 */
static uint32_t ctrl_notify_group(struct monitor *m)
{
	struct genl_family_info ctrl;

	if (genl_get_family(m->c->s, "nlctrl", &ctrl))
		return 0;
	return genl_group_id(&ctrl, "notify");
}

static int follow(struct monitor *m)
{
	struct pollfd pfd = { .fd = mnl_socket_get_fd(m->c->s->mnl), .events = POLLIN };
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block, orig;
	ssize_t n;

	/* Signals are delivered only inside ppoll(): no race with the check. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &orig);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	while (!stop_signal && !m->failed) {
		if (ppoll(&pfd, 1, NULL, &orig) < 0) {
			if (errno == EINTR)
				continue;
			err_errno("monitor", errno);
			return EXIT_FAILED;
		}
		n = nl_recv(m->c->s);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			if (errno == ENOBUFS) {
				warn_msg("monitor", "events were lost (receive buffer full)");
				continue;
			}
			err_errno("monitor", errno);
			return EXIT_FAILED;
		}
		mnl_cb_run(m->c->s->rxbuf, n, 0, 0, event_cb, m);
	}
	if (m->failed) {
		err_msg("monitor", "write error on standard output");
		return EXIT_FAILED;
	}
	return EXIT_OK;
}

int cmd_monitor(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json",   no_argument,       NULL, 'j' },
		{ "module", required_argument, NULL, 'm' },
		{ "help",   no_argument,       NULL, 'h' },
		{}
	};
	struct strata_nl_opts o = { .load = true, .rcvbuf = MONITOR_RCVBUF };
	struct monitor m = {};
	int ret = EXIT_FAILED, c;
	uint32_t ctrl_group;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":jm:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			m.json = true;
			break;
		case 'm':
			o.module = optarg;
			break;
		case 'h':
			help_monitor(stdout);
			return EXIT_OK;
		default:
			return option_error("monitor", c, argv);
		}
	}
	if (optind < argc)
		return usage_error("monitor", "unexpected argument '%s'", argv[optind]);

	m.c = strata_nl_open(&o);
	if (!m.c)
		return EXIT_FAILED;
	m.group = genl_group_id(&m.c->fam, STRATA_MCGRP_MONITOR);
	if (!m.group) {
		err_msg("monitor", "the strata module has no monitor group");
		goto out;
	}
	ctrl_group = ctrl_notify_group(&m);
	if (nl_join(m.c->s, m.group)) {
		if (errno == EPERM || errno == EACCES)
			err_msg("monitor", "joining the monitor group needs CAP_SYS_ADMIN");
		else
			err_msg("monitor", "cannot join the monitor group: %s",
				strerror(errno));
		goto out;
	}
	if (ctrl_group)
		nl_join(m.c->s, ctrl_group);
	ret = follow(&m);
out:
	strata_nl_close(m.c);
	return ret;
}
