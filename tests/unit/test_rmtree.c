/* Unit tests for lib/rmtree.c: removal that never leaves the tree (symlinks,
 * a swap race, mounts), failures reported once, deep trees, counting. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rmtree.h"
#include "unit.h"

static char tmp[256];

/* What the callbacks saw. */
struct seen {
	int removed, removed_dirs, failed, swapped_links;
	char last_removed[4096];
	char fail_path[8][4096];
	int fail_errnum[8];
	char fail_what[8][64];
};

static void on_removed(void *ctx, const char *path, bool is_dir)
{
	struct seen *s = ctx;

	s->removed++;
	s->removed_dirs += is_dir;
	/* In the race, a subdirectory seen as a symlink: unlinked. */
	if (!is_dir && !strncmp(path, "race/s", 6) && !strchr(path + 6, '/'))
		s->swapped_links++;
	/* A precision, so that snprintf does not measure the whole of a
	 * 200 KB path (the 1,000-level tree) only to keep 4 KB of it. */
	snprintf(s->last_removed, sizeof(s->last_removed), "%.*s",
		 (int)sizeof(s->last_removed) - 1, path);
}

static void on_failed(void *ctx, const char *path, int errnum, const char *what)
{
	struct seen *s = ctx;

	if (s->failed < 8) {
		snprintf(s->fail_path[s->failed], sizeof(s->fail_path[0]),
			 "%.*s", (int)sizeof(s->fail_path[0]) - 1, path);
		s->fail_errnum[s->failed] = errnum;
		snprintf(s->fail_what[s->failed], sizeof(s->fail_what[0]), "%s",
			 what ? what : "");
	}
	s->failed++;
}

static struct rmtree_ops ops_for(struct seen *s, bool one_fs)
{
	struct rmtree_ops o = {.one_file_system = one_fs,
			       .ctx = s,
			       .removed = on_removed,
			       .failed = on_failed};

	memset(s, 0, sizeof(*s));
	return o;
}

static void mkpath(char *buf, size_t n, const char *rel)
{
	if ((size_t)snprintf(buf, n, "%s/%s", tmp, rel) >= n)
		UNIT_FAIL("path too long: %s", rel);
}

static void mkd(const char *rel)
{
	char p[512];

	mkpath(p, sizeof(p), rel);
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		UNIT_FAIL("mkdir %s: %s", p, strerror(errno));
}

static void mkf(const char *rel, size_t size)
{
	char p[512], buf[4096];
	int fd;

	mkpath(p, sizeof(p), rel);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		UNIT_FAIL("create %s: %s", p, strerror(errno));
		return;
	}
	memset(buf, 'x', sizeof(buf));
	while (size) {
		size_t n = size < sizeof(buf) ? size : sizeof(buf);

		if (write(fd, buf, n) != (ssize_t)n)
			UNIT_FAIL("write %s", p);
		size -= n;
	}
	close(fd);
}

static void mkl(const char *target, const char *rel)
{
	char p[512];

	mkpath(p, sizeof(p), rel);
	if (symlink(target, p) < 0)
		UNIT_FAIL("symlink %s: %s", p, strerror(errno));
}

static bool exists(const char *rel)
{
	char p[512];
	struct stat st;

	mkpath(p, sizeof(p), rel);
	return lstat(p, &st) == 0;
}

static int tmpfd(void)
{
	return open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static void removes_a_tree_but_not_what_its_symlinks_point_to(void)
{
	char out[512];
	struct seen s;
	struct rmtree_ops o = ops_for(&s, false);
	int fd = tmpfd();

	mkd("outside");
	mkf("outside/keep", 5);
	mkpath(out, sizeof(out), "outside");
	mkd("t1");
	mkd("t1/a");
	mkd("t1/a/b");
	mkd("t1/empty");
	mkf("t1/f", 10);
	mkf("t1/a/g", 20);
	mkf("t1/a/b/h", 0);
	mkl(out, "t1/a/to_dir");
	mkl("../../outside/keep", "t1/a/b/to_file");
	mkl("/nonexistent/dangling", "t1/dangling");
	{
		char p[512];

		mkpath(p, sizeof(p), "t1/a/fifo");
		CHECK_INT(mkfifo(p, 0600), 0);
	}
	CHECK_INT(rmtree_remove(fd, "t1", "t1", &o), 0);
	CHECK_INT(s.failed, 0);
	CHECK_INT(s.removed, 11);
	CHECK_INT(s.removed_dirs, 4);
	CHECK_STR(s.last_removed, "t1"); /* post-order: the top last */
	CHECK(!exists("t1"));
	CHECK(exists("outside/keep"));
	close(fd);
}

static void a_top_symlink_or_file_is_unlinked_itself(void)
{
	char out[512];
	struct seen s;
	struct rmtree_ops o = ops_for(&s, false);
	int fd = tmpfd();

	mkd("outside2");
	mkf("outside2/keep", 1);
	mkpath(out, sizeof(out), "outside2");
	mkl(out, "link");
	CHECK_INT(rmtree_remove(fd, "link", "some/link", &o), 0);
	CHECK_INT(s.removed, 1);
	CHECK_INT(s.removed_dirs, 0);
	CHECK_STR(s.last_removed, "some/link");
	CHECK(!exists("link"));
	CHECK(exists("outside2/keep"));

	mkf("plain", 3);
	o = ops_for(&s, false);
	CHECK_INT(rmtree_remove(fd, "plain", "plain", &o), 0);
	CHECK(!exists("plain"));
	CHECK_INT(s.removed, 1);

	/* A missing top is reported, with rm's errno. */
	o = ops_for(&s, false);
	CHECK_INT(rmtree_remove(fd, "plain", "plain", &o), -1);
	CHECK_INT(s.failed, 1);
	CHECK_INT(s.fail_errnum[0], ENOENT);
	CHECK_STR(s.fail_path[0], "plain");
	close(fd);
}

static void trailing_slashes_are_shown_like_gnu_rm(void)
{
	struct seen s;
	struct rmtree_ops o = ops_for(&s, false);
	int fd = tmpfd();

	mkd("sl");
	mkf("sl/x", 1);
	CHECK_INT(rmtree_remove(fd, "sl", "sl///", &o), 0);
	CHECK_STR(s.last_removed, "sl/");
	CHECK_INT(s.removed, 2);
	mkd("sl");
	mkf("sl/x", 1);
	/* The first removal is sl/x: a failure there shows the child path. */
	o = ops_for(&s, false);
	o.removed = NULL;
	CHECK_INT(rmtree_remove(fd, "sl", "sl//", &o), 0);
	CHECK(!exists("sl"));
	close(fd);
}

/* 1,000 levels, built and checked with descriptors since the path is far
 * past PATH_MAX for the name length used. */
static int make_deep(int top, int levels)
{
	char name[200];
	int fd = dup(top);

	memset(name, 'd', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	for (int i = 0; i < levels && fd >= 0; i++) {
		int next;

		if (mkdirat(fd, name, 0755) < 0)
			return -1;
		next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		close(fd);
		fd = next;
	}
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static void a_1000_level_tree_is_counted_and_removed(void)
{
	struct rlimit old, low;
	struct rmtree_count c;
	struct sd_err err = {0};
	struct seen s;
	struct rmtree_ops o = ops_for(&s, true);
	int fd = tmpfd(), deep;

	mkd("deep");
	deep = openat(fd, "deep", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK_INT(make_deep(deep, 1000), 0);
	close(deep);
	mkf("deep/f", 7);
	CHECK_INT(rmtree_count(fd, "deep", 0, 0, true, &c, &err), 0);
	CHECK_INT(c.dirs, 1001);
	CHECK_INT(c.files, 1);
	CHECK(!c.over && !c.unreadable);

	/* Below the depth in descriptors: the soft limit is raised to the
	 * hard one for the walk, then put back. */
	CHECK_INT(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = 256;
	if (old.rlim_max > 2000)
		CHECK_INT(setrlimit(RLIMIT_NOFILE, &low), 0);
	CHECK_INT(rmtree_remove(fd, "deep", "deep", &o), 0);
	CHECK_INT(s.failed, 0);
	CHECK_INT(s.removed_dirs, 1001);
	CHECK(!exists("deep"));
	{
		struct rlimit now;

		getrlimit(RLIMIT_NOFILE, &now);
		if (old.rlim_max > 2000)
			CHECK_INT(now.rlim_cur, 256);
	}
	setrlimit(RLIMIT_NOFILE, &old);
	close(fd);
}

/* With a hard limit too low for the depth, the walk reports the level it
 * cannot open, once, and the directories above it are kept quietly. */
static void past_the_descriptor_limit_it_fails_cleanly(void)
{
	int fd = tmpfd(), deep, status;
	pid_t pid;

	mkd("deep2");
	deep = openat(fd, "deep2", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	CHECK_INT(make_deep(deep, 300), 0);
	close(deep);
	pid = fork();
	if (pid == 0) {
		struct rlimit rl = {100, 100};
		struct seen s;
		struct rmtree_ops o = ops_for(&s, false);
		int r;

		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			_exit(77);
		r = rmtree_remove(fd, "deep2", "deep2", &o);
		_exit(r == -1 && s.failed == 1 && s.fail_errnum[0] == EMFILE &&
				      s.removed_dirs == 0 && exists("deep2")
			      ? 0
			      : 1);
	}
	CHECK(pid > 0);
	CHECK_INT(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status));
	/* valgrind refuses any change to the hard limit (EPERM). */
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
		printf("# skip: cannot lower the descriptor hard limit\n");
	else
		CHECK_INT(WEXITSTATUS(status), 0);
	{
		struct seen s;
		struct rmtree_ops o = ops_for(&s, false);

		CHECK_INT(rmtree_remove(fd, "deep2", "deep2", &o), 0);
	}
	close(fd);
}

static int set_immutable(const char *rel, bool on)
{
	char p[512];
	int fd, flags, r;

	mkpath(p, sizeof(p), rel);
	fd = open(p, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	r = ioctl(fd, FS_IOC_GETFLAGS, &flags);
	if (r == 0) {
		flags = on ? flags | FS_IMMUTABLE_FL : flags & ~FS_IMMUTABLE_FL;
		r = ioctl(fd, FS_IOC_SETFLAGS, &flags);
	}
	close(fd);
	return r;
}

static void a_failure_is_reported_once_at_the_child(void)
{
	struct seen s;
	struct rmtree_ops o = ops_for(&s, false);
	int fd = tmpfd();

	mkd("once");
	mkd("once/a");
	mkd("once/a/b");
	mkf("once/a/b/stuck", 1);
	mkf("once/a/b/other", 1);
	mkf("once/z", 1);
	if (set_immutable("once/a/b/stuck", true) < 0) {
		printf("# skip: cannot set the immutable flag: %s\n",
		       strerror(errno));
		goto out;
	}
	CHECK_INT(rmtree_remove(fd, "once", "once", &o), -1);
	CHECK_INT(s.failed, 1);
	CHECK_STR(s.fail_path[0], "once/a/b/stuck");
	CHECK_INT(s.fail_errnum[0], EPERM);
	CHECK(exists("once/a/b/stuck"));
	CHECK(!exists("once/a/b/other"));
	CHECK(!exists("once/z"));
	set_immutable("once/a/b/stuck", false);
out:
	o = ops_for(&s, false);
	CHECK_INT(rmtree_remove(fd, "once", "once", &o), 0);
	CHECK(!exists("once"));
	close(fd);
}

/* A private mount namespace (a child process) with a tmpfs and a bind
 * mount of the same filesystem inside the tree. */
static int enter_mount_ns(void)
{
	if (unshare(CLONE_NEWNS) < 0) {
		char map[64];
		uid_t uid = getuid();
		gid_t gid = getgid();
		int f;

		if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
			return -1;
		f = open("/proc/self/setgroups", O_WRONLY | O_CLOEXEC);
		if (f >= 0) {
			(void)!write(f, "deny", 4);
			close(f);
		}
		snprintf(map, sizeof(map), "%u %u 1", (unsigned)uid,
			 (unsigned)uid);
		f = open("/proc/self/uid_map", O_WRONLY | O_CLOEXEC);
		if (f < 0 || write(f, map, strlen(map)) < 0)
			return -1;
		close(f);
		snprintf(map, sizeof(map), "%u %u 1", (unsigned)gid,
			 (unsigned)gid);
		f = open("/proc/self/gid_map", O_WRONLY | O_CLOEXEC);
		if (f < 0 || write(f, map, strlen(map)) < 0)
			return -1;
		close(f);
	}
	/* The type of a bind or propagation change is ignored; "none"
	 * rather than NULL, which valgrind reports as an unaddressable
	 * mount(type). */
	return mount(NULL, "/", "none", MS_REC | MS_PRIVATE, NULL);
}

static void mounts_child(void)
{
	char p[512], q[512];
	struct rmtree_count c;
	struct sd_err err = {0};
	struct seen s;
	struct rmtree_ops o = ops_for(&s, true);
	int fd;

	/* A descriptor opened before unshare would see the old namespace's
	 * mounts, not these. */
	if (enter_mount_ns() < 0)
		_exit(77);
	fd = tmpfd();
	mkd("bindsrc");
	mkf("bindsrc/precious", 3);
	mkd("mt");
	mkd("mt/a");
	mkd("mt/a/tmpfs");
	mkd("mt/a/bind");
	mkf("mt/a/f", 1);
	mkf("mt/g", 1);
	mkpath(p, sizeof(p), "mt/a/tmpfs");
	if (mount("tmpfs", p, "tmpfs", 0, "size=1m") < 0)
		_exit(77);
	mkf("mt/a/tmpfs/precious", 3);
	mkpath(p, sizeof(p), "bindsrc");
	mkpath(q, sizeof(q), "mt/a/bind");
	if (mount(p, q, "none", MS_BIND, NULL) < 0)
		_exit(77);

	/* Counting with one_file_system leaves both mounts out. */
	CHECK_INT(rmtree_count(fd, "mt", 0, 0, true, &c, &err), 0);
	CHECK_INT(c.dirs, 2);
	CHECK_INT(c.files, 2);
	CHECK_INT(rmtree_count(fd, "mt", 0, 0, false, &c, &err), 0);
	CHECK_INT(c.dirs, 4);
	CHECK_INT(c.files, 4);

	CHECK_INT(rmtree_remove(fd, "mt", "mt", &o), -1);
	CHECK_INT(s.failed, 2);
	for (int i = 0; i < 2 && i < s.failed; i++) {
		CHECK_INT(s.fail_errnum[i], 0);
		CHECK_STR(s.fail_what[i], "different device");
		CHECK(!strcmp(s.fail_path[i], "mt/a/tmpfs") ||
		      !strcmp(s.fail_path[i], "mt/a/bind"));
	}
	CHECK(strcmp(s.fail_path[0], s.fail_path[1]));
	CHECK(exists("mt/a/tmpfs/precious"));
	CHECK(exists("bindsrc/precious"));
	CHECK(!exists("mt/a/f"));
	CHECK(!exists("mt/g"));

	/* Without it, like rm -rf: the mounts are emptied, their mount points
	 * fail (busy), once each. */
	o = ops_for(&s, false);
	CHECK_INT(rmtree_remove(fd, "mt", "mt", &o), -1);
	CHECK_INT(s.failed, 2);
	CHECK_INT(s.fail_errnum[0], EBUSY);
	CHECK(!exists("mt/a/tmpfs/precious"));
	CHECK(!exists("bindsrc/precious"));
	fflush(stdout);
	_exit(unit_current_failed);
}

static void mounts_are_skipped_with_one_file_system(void)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0)
		mounts_child();
	CHECK(pid > 0);
	CHECK_INT(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
		printf("# skip: no private mount namespace here\n");
	else
		CHECK_INT(WEXITSTATUS(status), 0);
}

/* The attacker: swaps each subdirectory of the tree for a symlink to the
 * outside directory and back, as fast as it can. */
struct race {
	int dirfd;
	char outside[512];
	atomic_bool stop;
	unsigned long swaps;
};

static void *attacker(void *arg)
{
	struct race *r = arg;
	char name[32], moved[32];

	while (!atomic_load(&r->stop)) {
		for (int i = 0; i < 20 && !atomic_load(&r->stop); i++) {
			snprintf(name, sizeof(name), "s%d", i);
			snprintf(moved, sizeof(moved), "m%d", i);
			if (renameat(r->dirfd, name, r->dirfd, moved) < 0)
				continue;
			if (symlinkat(r->outside, r->dirfd, name) == 0)
				r->swaps++;
			sched_yield();
			unlinkat(r->dirfd, name, 0);
			renameat(r->dirfd, moved, r->dirfd, name);
		}
	}
	return NULL;
}

static void a_symlink_swap_race_never_leaves_the_tree(void)
{
	char p[512];
	struct race r = {0};
	unsigned long changed = 0, links = 0, iterations = 0;
	time_t end = time(NULL) + 4;
	int fd = tmpfd(), outfiles = 0;

	mkd("victim");
	for (int i = 0; i < 50; i++) {
		snprintf(p, sizeof(p), "victim/v%d", i);
		mkf(p, 1);
	}
	mkpath(r.outside, sizeof(r.outside), "victim");
	for (; iterations < 300 && time(NULL) < end; iterations++) {
		pthread_t th;
		struct seen s;
		struct rmtree_ops o = ops_for(&s, false);

		mkd("race");
		for (int i = 0; i < 20; i++) {
			snprintf(p, sizeof(p), "race/s%d", i);
			mkd(p);
			for (int j = 0; j < 5; j++) {
				snprintf(p, sizeof(p), "race/s%d/f%d", i, j);
				mkf(p, 0);
			}
		}
		r.dirfd = openat(fd, "race", O_RDONLY | O_DIRECTORY);
		atomic_store(&r.stop, false);
		pthread_create(&th, NULL, attacker, &r);
		rmtree_remove(fd, "race", "race", &o);
		atomic_store(&r.stop, true);
		pthread_join(th, NULL);
		close(r.dirfd);
		links += (unsigned long)s.swapped_links;
		for (int i = 0; i < s.failed && i < 8; i++)
			changed += !strcmp(s.fail_what[i],
					   "changed during removal");
		o = ops_for(&s, false);
		if (exists("race"))
			CHECK_INT(rmtree_remove(fd, "race", "race", &o), 0);
		outfiles = 0;
		for (int i = 0; i < 50; i++) {
			snprintf(p, sizeof(p), "victim/v%d", i);
			outfiles += exists(p);
		}
		if (outfiles != 50) {
			UNIT_FAIL("iteration %lu: %d of 50 outside files left",
				  iterations, outfiles);
			break;
		}
	}
	printf("# %lu iterations, %lu swaps, %lu swapped-in links unlinked, "
	       "%lu directories reported as changed\n",
	       iterations, r.swaps, links, changed);
	CHECK(r.swaps > 0);
	CHECK(exists("victim"));
	close(fd);
}

static void counts_entries_sizes_and_disk_usage(void)
{
	struct rmtree_count c;
	struct sd_err err = {0};
	struct stat st;
	uint64_t want = 0, disk = 0;
	const char *all[] = {"cnt", "cnt/d", "cnt/a", "cnt/d/b", "cnt/l"};
	char p[512];
	int fd = tmpfd();

	mkd("cnt");
	mkd("cnt/d");
	mkf("cnt/a", 1000);
	mkf("cnt/d/b", 5000);
	mkl("cnt/a", "cnt/l");
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		mkpath(p, sizeof(p), all[i]);
		CHECK_INT(lstat(p, &st), 0);
		want += (uint64_t)st.st_size;
		disk += (uint64_t)st.st_blocks * 512;
	}
	CHECK_INT(rmtree_count(fd, "cnt", 0, 0, false, &c, &err), 0);
	CHECK_INT(c.files, 3);
	CHECK_INT(c.dirs, 2);
	CHECK_INT(c.bytes, want);
	CHECK_INT(c.disk, disk);
	CHECK(c.disk > 0);
	CHECK(!c.over && !c.unreadable);

	/* A single file is one file of its size; a symlink is the link. */
	CHECK_INT(rmtree_count(fd, "cnt/d/b", 0, 0, false, &c, &err), 0);
	CHECK_INT(c.files, 1);
	CHECK_INT(c.dirs, 0);
	CHECK_INT(c.bytes, 5000);
	CHECK_INT(rmtree_count(fd, "cnt/l", 0, 0, false, &c, &err), 0);
	CHECK_INT(c.files, 1);
	CHECK_INT(c.bytes, strlen("cnt/a"));

	CHECK_INT(rmtree_count(fd, "nothing-here", 0, 0, false, &c, &err), -1);
	CHECK_CONTAINS(err.msg, "cannot stat 'nothing-here'");
	CHECK_CONTAINS(err.msg, "No such file");
	close(fd);
}

static void counting_stops_past_a_limit(void)
{
	struct rmtree_count c;
	struct sd_err err = {0};
	char p[512];
	int fd = tmpfd();

	mkd("lim");
	for (int i = 0; i < 2000; i++) {
		snprintf(p, sizeof(p), "lim/f%d", i);
		mkf(p, 100);
	}
	CHECK_INT(rmtree_count(fd, "lim", 10, 0, false, &c, &err), 0);
	CHECK(c.over);
	CHECK_INT(c.files + c.dirs, 11); /* stopped at the first past it */
	CHECK_INT(rmtree_count(fd, "lim", 0, 1000, false, &c, &err), 0);
	CHECK(c.over);
	CHECK(c.bytes > 1000);
	CHECK(c.files <= 10);
	CHECK_INT(rmtree_count(fd, "lim", 2001, 0, false, &c, &err), 0);
	CHECK(!c.over);
	CHECK_INT(c.files, 2000);
	close(fd);
}

/* Root reads everything: the unreadable cases run in a child as nobody. */
static void unreadable_child(void)
{
	struct rmtree_count c;
	struct sd_err err = {0};
	struct seen s;
	struct rmtree_ops o = ops_for(&s, false);
	int fd;

	if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
		_exit(77);
	fd = tmpfd();
	CHECK_INT(rmtree_count(fd, "unr", 0, 0, false, &c, &err), 0);
	CHECK(c.unreadable);
	CHECK_INT(c.dirs, 3); /* unr, unr/closed, unr/empty */
	CHECK_INT(c.files, 1);
	/* rm -rf: the empty unreadable directory goes, the other one is
	 * reported with the reason, once. */
	CHECK_INT(rmtree_remove(fd, "unr", "unr", &o), -1);
	CHECK_INT(s.failed, 1);
	CHECK_STR(s.fail_path[0], "unr/closed");
	CHECK_INT(s.fail_errnum[0], EACCES);
	CHECK(!exists("unr/empty"));
	CHECK(!exists("unr/f"));
	fflush(stdout);
	_exit(unit_current_failed);
}

static void unreadable_directories_are_at_least(void)
{
	char p[512];
	int status, fd = tmpfd();
	pid_t pid;

	mkd("unr");
	mkd("unr/closed");
	mkd("unr/empty");
	mkf("unr/closed/hidden", 1);
	mkf("unr/f", 1);
	if (geteuid() == 0) {
		/* Writable, so that only unr/closed is in the way. */
		if (chmod(tmp, 0777) < 0 ||
		    fchownat(fd, "unr", 65534, 65534, 0) < 0 ||
		    fchownat(fd, "unr/closed", 65534, 65534, 0) < 0 ||
		    fchownat(fd, "unr/empty", 65534, 65534, 0) < 0)
			UNIT_FAIL("chown: %s", strerror(errno));
	}
	mkpath(p, sizeof(p), "unr/closed");
	chmod(p, 0300);
	mkpath(p, sizeof(p), "unr/empty");
	chmod(p, 0);
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		unreadable_child();
	CHECK_INT(waitpid(pid, &status, 0), pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
		printf("# skip: cannot become nobody\n");
	else
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	mkpath(p, sizeof(p), "unr/closed");
	chmod(p, 0755);
	{
		struct seen s;
		struct rmtree_ops o = ops_for(&s, false);

		CHECK_INT(rmtree_remove(fd, "unr", "unr", &o), 0);
	}
	chmod(tmp, 0700);
	close(fd);
}

int main(void)
{
	snprintf(tmp, sizeof(tmp), "%s", unit_mkdtemp("rmtree"));
	RUN(removes_a_tree_but_not_what_its_symlinks_point_to,
	    "removes a tree, not what its symlinks point to");
	RUN(a_top_symlink_or_file_is_unlinked_itself,
	    "a top symlink or file is unlinked itself");
	RUN(trailing_slashes_are_shown_like_gnu_rm,
	    "trailing slashes are shown like gnu rm");
	RUN(a_1000_level_tree_is_counted_and_removed,
	    "a 1000-level tree is counted and removed");
	RUN(past_the_descriptor_limit_it_fails_cleanly,
	    "past the descriptor limit it fails cleanly");
	RUN(a_failure_is_reported_once_at_the_child,
	    "a failure is reported once, at the child");
	RUN(mounts_are_skipped_with_one_file_system,
	    "mounts are skipped with one_file_system");
	RUN(a_symlink_swap_race_never_leaves_the_tree,
	    "a symlink swap race never leaves the tree");
	RUN(counts_entries_sizes_and_disk_usage,
	    "counts entries, sizes and disk usage");
	RUN(counting_stops_past_a_limit, "counting stops past a limit");
	RUN(unreadable_directories_are_at_least,
	    "unreadable directories are \"at least\"");
	UNIT_DONE();
}
