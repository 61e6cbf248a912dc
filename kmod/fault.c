// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection for tests: stock distribution kernels come without
 * failslab, so strata fails its own allocations and branch I/O steps on
 * request.  debugfs, under strata/:
 *
 *   fail_percent  chance (0-100) that an injection point fails; 0: off
 *   fail_pid      only this process (thread group) and its children;
 *                 0: every task
 *   injected      how many failures were injected so far (read-only)
 *
 * Off, each point costs one load.
 */
#include <linux/debugfs.h>
#include <linux/random.h>
#include <linux/sched.h>
#include "strata.h"

static u32 strata_fail_percent;
static u32 strata_fail_pid;
static atomic_t strata_injected;
static struct dentry *strata_debugfs;

/* Is @current the chosen process or one of its descendants? */
static bool strata_fail_task(void)
{
	struct task_struct *t;
	bool hit = false;
	pid_t want = READ_ONCE(strata_fail_pid);

	if (!want)
		return true;
	rcu_read_lock();
	for (t = current; t->pid > 1; t = rcu_dereference(t->real_parent)) {
		if (task_tgid_nr(t) == want) {
			hit = true;
			break;
		}
	}
	rcu_read_unlock();
	return hit;
}

bool strata_should_fail(void)
{
	u32 percent = READ_ONCE(strata_fail_percent);

	if (likely(!percent))
		return false;
	if (!strata_fail_task() || get_random_u32_below(100) >= percent)
		return false;
	atomic_inc(&strata_injected);
	return true;
}

static int strata_injected_get(void *data, u64 *val)
{
	*val = atomic_read(&strata_injected);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(strata_injected_fops, strata_injected_get, NULL,
			 "%llu\n");

void strata_fault_init(void)
{
	strata_debugfs = debugfs_create_dir("strata", NULL);
	debugfs_create_u32("fail_percent", 0600, strata_debugfs,
			   &strata_fail_percent);
	debugfs_create_u32("fail_pid", 0600, strata_debugfs, &strata_fail_pid);
	debugfs_create_file_unsafe("injected", 0400, strata_debugfs, NULL,
				   &strata_injected_fops);
}

void strata_fault_exit(void)
{
	debugfs_remove(strata_debugfs);
}
