// SPDX-License-Identifier: GPL-2.0
/*
 * quotactl: project quota plumbing for the shell selftests (busybox has
 * none), built like getdents; the guest does not run it as a test.
 *
 *   quotactl projid ID DIR...         give DIR project ID, inherited
 *   quotactl limit MNT ID KIB INODES  hard (= soft) limits, 0 is none
 *   quotactl usage MNT ID             prints "BYTES INODES"
 *   quotactl nores CMD [ARG...]       run CMD without CAP_SYS_RESOURCE
 *                                     (which lets VFS quotas be exceeded)
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/quota.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef __NR_quotactl_fd
#define __NR_quotactl_fd 443
#endif

static int quota(const char *mnt, int cmd, unsigned int id, struct if_dqblk *dq)
{
	int fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret;

	if (fd < 0)
		return -1;
	ret = syscall(__NR_quotactl_fd, fd, QCMD(cmd, PRJQUOTA), id, dq);
	close(fd);
	return ret;
}

static int projid(const char *dir, unsigned int id)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret = -1;
	struct fsxattr fa;

	if (fd < 0)
		return -1;
	if (!ioctl(fd, FS_IOC_FSGETXATTR, &fa)) {
		fa.fsx_projid = id;
		fa.fsx_xflags |= FS_XFLAG_PROJINHERIT;
		ret = ioctl(fd, FS_IOC_FSSETXATTR, &fa);
	}
	close(fd);
	return ret;
}

static int nores(char **argv)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	int i = CAP_SYS_RESOURCE / 32;
	unsigned int bit = 1U << (CAP_SYS_RESOURCE % 32);

	/* From the bounding set too: root gets it back at exec otherwise. */
	if (prctl(PR_CAPBSET_DROP, CAP_SYS_RESOURCE, 0, 0, 0) ||
	    syscall(SYS_capget, &h, d))
		return -1;
	d[i].effective &= ~bit;
	d[i].permitted &= ~bit;
	d[i].inheritable &= ~bit;
	if (syscall(SYS_capset, &h, d))
		return -1;
	execvp(argv[0], argv);
	return -1;
}

int main(int argc, char **argv)
{
	struct if_dqblk dq = { 0 };
	int i;

	if (argc > 2 && !strcmp(argv[1], "projid")) {
		for (i = 3; i < argc; i++)
			if (projid(argv[i], strtoul(argv[2], NULL, 0)))
				goto fail;
		return 0;
	}
	if (argc == 6 && !strcmp(argv[1], "limit")) {
		dq.dqb_bhardlimit = dq.dqb_bsoftlimit = strtoull(argv[4], NULL, 0);
		dq.dqb_ihardlimit = dq.dqb_isoftlimit = strtoull(argv[5], NULL, 0);
		dq.dqb_valid = QIF_LIMITS;
		if (quota(argv[2], Q_SETQUOTA, strtoul(argv[3], NULL, 0), &dq))
			goto fail;
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "usage")) {
		if (quota(argv[2], Q_GETQUOTA, strtoul(argv[3], NULL, 0), &dq))
			goto fail;
		printf("%llu %llu\n", (unsigned long long)dq.dqb_curspace,
		       (unsigned long long)dq.dqb_curinodes);
		return 0;
	}
	if (argc > 2 && !strcmp(argv[1], "nores")) {
		nores(argv + 2);
		goto fail;
	}
	fprintf(stderr, "usage: quotactl projid ID DIR... | limit MNT ID KIB INODES | usage MNT ID | nores CMD...\n");
	return 2;
fail:
	fprintf(stderr, "quotactl %s: %s\n", argv[1], strerror(errno));
	return 1;
}
