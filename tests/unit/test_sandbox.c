/* Unit tests for lib/sandbox.c, for real: commands run in the sandbox write,
 * modify and delete files (the host is untouched, the upper layer holds
 * the changes and the whiteouts), do not see the sandbox directory nor the
 * paths to hide, are killed at the timeout with all they started, cannot
 * reach the host's loopback, read standard input, pass their status
 * through, see the caller's ids, and get SIGTERM when the caller does;
 * writes to /dev are reported. As root (in a mount namespace of the test's
 * own, for its mounts): chown works, a mount below a directory gets its
 * own layer, an overlay that fails is bound read-only, and, as nobody, only
 * the caller's ids are mapped and a directory with a mount below is
 * rebuilt. Skipped when the machine has no sandbox (sandbox_available).
 * The set-up and tear-down times are printed as TAP comments, never
 * checked. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <grp.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sandbox.h"
#include "unit.h"

#define SKIP(name, why)                                                        \
	printf("ok %d - %s # skip %s\n", ++unit_count, name, why)

static char tmp[256];  /* this binary's directory */
static char host[512]; /* files the commands change: tmp/files */
static int boxes;      /* sandbox directories made so far */

static void mkpath(char *buf, size_t n, const char *rel)
{
	if ((size_t)snprintf(buf, n, "%s/%s", host, rel) >= n)
		UNIT_FAIL("path too long: %s", rel);
}

static void put(const char *rel, const char *text)
{
	char p[600];
	FILE *f;

	mkpath(p, sizeof(p), rel);
	f = fopen(p, "we");
	if (!f) {
		UNIT_FAIL("create %s: %s", p, strerror(errno));
		return;
	}
	fputs(text, f);
	fclose(f);
}

static void mkd(const char *rel)
{
	char p[600];

	mkpath(p, sizeof(p), rel);
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		UNIT_FAIL("mkdir %s: %s", p, strerror(errno));
}

/* The content of a file (up to 255 bytes), "" when it cannot be read. */
static const char *slurp(const char *path)
{
	static char buf[256];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* a/b into buf */
static void pjoin(char *buf, size_t n, const char *a, const char *b)
{
	if ((size_t)snprintf(buf, n, "%s/%s", a, b) >= n)
		UNIT_FAIL("path too long: %s/%s", a, b);
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static bool is_whiteout(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISCHR(st.st_mode) &&
	       major(st.st_rdev) == 0 && minor(st.st_rdev) == 0;
}

/* A fresh, empty sandbox directory under tmp. */
static const char *new_box(void)
{
	static char box[300];

	snprintf(box, sizeof(box), "%s/box%d", tmp, boxes++);
	if (mkdir(box, 0700) < 0)
		UNIT_FAIL("mkdir %s: %s", box, strerror(errno));
	return box;
}

/* The upper directory of the layer that holds path (the longest host
 * directory above it), and path's place in it. */
static bool upper_of(const struct sandbox_result *r, const char *path,
		     char *buf, size_t n)
{
	const struct sandbox_layer *best = NULL;
	size_t best_len = 0;

	for (size_t i = 0; i < r->n_layers; i++) {
		size_t len = strlen(r->layers[i].host);

		if (!strncmp(path, r->layers[i].host, len) &&
		    (path[len] == '/' || !path[len] ||
		     !strcmp(r->layers[i].host, "/")) &&
		    len >= best_len) {
			best = &r->layers[i];
			best_len = len;
		}
	}
	if (!best)
		return false;
	snprintf(buf, n, "%s%s", best->upper,
		 path + (strcmp(best->host, "/") ? best_len : 0));
	return true;
}

/* With privileges, / is one layer. */
static bool root_layer(const struct sandbox_result *r)
{
	for (size_t i = 0; i < r->n_layers; i++)
		if (!strcmp(r->layers[i].host, "/"))
			return true;
	return false;
}

static bool has_line(const struct sandbox_result *r, const char *line)
{
	for (size_t i = 0; i < r->n_uncaptured; i++)
		if (!strcmp(r->uncaptured[i], line))
			return true;
	return false;
}

static void show_lines(const struct sandbox_result *r)
{
	for (size_t i = 0; i < r->n_uncaptured; i++)
		printf("#   uncaptured: %s\n", r->uncaptured[i]);
}

/* Run sh -c script in a fresh sandbox; -1 (and a failure) if it could not
 * be run. */
static int run_sh(const char *script, struct sandbox_opts *o,
		  struct sandbox_result *r)
{
	char *argv[] = {"sh", "-c", (char *)script, NULL};
	struct sd_err err = {0};

	o->dir = new_box();
	o->argv = argv;
	if (!o->cwd)
		o->cwd = host;
	if (sandbox_run(o, r, &err) < 0) {
		UNIT_FAIL("sandbox_run: %s", err.msg);
		return -1;
	}
	return 0;
}

static int exit_code(const struct sandbox_result *r)
{
	return WIFEXITED(r->status) ? WEXITSTATUS(r->status)
				    : 1000 + WTERMSIG(r->status);
}

static void times(const char *what, const struct sandbox_result *r)
{
	printf("# setup %.1f ms teardown %.1f ms (%s)\n", r->setup_ms,
	       r->teardown_ms, what);
}

static void changes_land_in_the_upper_layer(void)
{
	struct sandbox_opts o = {0};
	struct sandbox_result r;
	char script[2048], p[1024], up[1024];

	put("modify", "old\n");
	put("delete", "gone?\n");
	put("keep", "same\n");
	mkd("tree");
	mkd("tree/sub");
	put("tree/sub/leaf", "leaf\n");
	snprintf(script, sizeof(script),
		 "set -e; cd '%s'; echo new > new; echo changed > modify; "
		 "rm delete; rm -rf tree; mkdir made; echo x > made/inside",
		 host);
	if (run_sh(script, &o, &r) < 0)
		return;
	CHECK_INT(exit_code(&r), 0);
	times("write, modify, delete", &r);
	show_lines(&r);

	/* The host is untouched. */
	mkpath(p, sizeof(p), "new");
	CHECK(!exists(p));
	mkpath(p, sizeof(p), "modify");
	CHECK_STR(slurp(p), "old\n");
	mkpath(p, sizeof(p), "delete");
	CHECK_STR(slurp(p), "gone?\n");
	mkpath(p, sizeof(p), "tree/sub/leaf");
	CHECK_STR(slurp(p), "leaf\n");
	mkpath(p, sizeof(p), "made");
	CHECK(!exists(p));

	/* The upper layer holds the changes. */
	CHECK(upper_of(&r, host, up, sizeof(up)));
	pjoin(p, sizeof(p), up, "new");
	CHECK_STR(slurp(p), "new\n");
	pjoin(p, sizeof(p), up, "modify");
	CHECK_STR(slurp(p), "changed\n");
	pjoin(p, sizeof(p), up, "made/inside");
	CHECK_STR(slurp(p), "x\n");
	pjoin(p, sizeof(p), up, "delete");
	CHECK(is_whiteout(p));
	pjoin(p, sizeof(p), up, "tree");
	CHECK(is_whiteout(p));
	pjoin(p, sizeof(p), up, "keep");
	CHECK(!exists(p));
	CHECK_INT(r.n_uncaptured, 0);

	/* / is a layer (with privileges), or every top-level directory is;
	 * the uppers are in dir. */
	bool top = false;

	for (size_t i = 0; i < r.n_layers; i++) {
		top |= !strcmp(r.layers[i].host, root_layer(&r) ? "/" : "/usr");
		CHECK(!strncmp(r.layers[i].upper, o.dir, strlen(o.dir)));
	}
	CHECK(top);
	sandbox_result_release(&r);
}

static void the_sandbox_directory_and_others_are_hidden(void)
{
	char secret[600], secrets[600];
	const char *hide[] = {secret, secrets, NULL};
	struct sandbox_opts o = {.hide = hide};
	struct sandbox_result r;
	char script[4096];

	put("secret", "key\n");
	mkd("secrets");
	put("secrets/key", "key\n");
	mkpath(secret, sizeof(secret), "secret");
	mkpath(secrets, sizeof(secrets), "secrets");
	/* dir is known only once run_sh made it: the next box. */
	snprintf(
		script, sizeof(script),
		"[ -d '%s/box%d' ] && [ -z \"$(ls -A '%s/box%d')\" ] && "
		"! touch '%s/box%d/x' 2>/dev/null && "
		"[ -f '%s' ] && [ ! -s '%s' ] && ! echo x 2>/dev/null >'%s' && "
		"[ -d '%s' ] && [ -z \"$(ls -A '%s')\" ]",
		tmp, boxes, tmp, boxes, tmp, boxes, secret, secret, secret,
		secrets, secrets);
	if (run_sh(script, &o, &r) < 0)
		return;
	CHECK_INT(exit_code(&r), 0);
	CHECK_STR(slurp(secret), "key\n");
	sandbox_result_release(&r);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void a_command_that_never_ends_is_killed(void)
{
	struct sandbox_opts o = {.timeout_ms = 300};
	struct sandbox_result r;
	char script[1024], p[600];
	double t0 = now_ms(), took;

	snprintf(script, sizeof(script),
		 "echo started > '%s/started'; sleep 100 & sleep 100", host);
	if (run_sh(script, &o, &r) < 0)
		return;
	took = now_ms() - t0;
	CHECK(r.timed_out);
	CHECK(WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGKILL);
	CHECK(took >= 300 && took < 5000);
	mkpath(p, sizeof(p), "started");
	CHECK(!exists(p));
	times("killed at the timeout", &r);
	sandbox_result_release(&r);
}

static void what_the_command_leaves_behind_is_killed(void)
{
	struct sandbox_opts o = {0};
	struct sandbox_result r;
	double t0 = now_ms();

	if (run_sh("sleep 100 & exit 3", &o, &r) < 0)
		return;
	CHECK(now_ms() - t0 < 5000);
	CHECK_INT(exit_code(&r), 3);
	CHECK(!r.timed_out);
	sandbox_result_release(&r);
}

/* A listener on 127.0.0.1 of the host; its port in *port. */
static int listener(int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(fd, 4) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		UNIT_FAIL("listener: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

static void without_net_the_host_is_out_of_reach(void)
{
	struct sandbox_opts o = {0};
	struct sandbox_result r;
	char script[256];
	int port, fd = listener(&port);

	if (fd < 0)
		return;
	/* bash's /dev/tcp: a connect(2), no program needed */
	snprintf(script, sizeof(script),
		 "exec bash -c 'exec 3<>/dev/tcp/127.0.0.1/%d' 2>/dev/null",
		 port);
	if (run_sh(script, &o, &r) == 0) {
		CHECK(exit_code(&r) != 0);
		sandbox_result_release(&r);
	}
	/* The same with the network: it connects. */
	memset(&o, 0, sizeof(o));
	o.net = true;
	if (run_sh(script, &o, &r) == 0) {
		CHECK_INT(exit_code(&r), 0);
		sandbox_result_release(&r);
	}
	/* The loopback of the sandbox itself works. */
	memset(&o, 0, sizeof(o));
	if (run_sh("bash -c 'exec 3<>/dev/tcp/127.0.0.1/1' 2>&1 | "
		   "grep -q refused",
		   &o, &r) == 0) {
		CHECK_INT(exit_code(&r), 0);
		sandbox_result_release(&r);
	}
	close(fd);
}

static void a_command_not_found_is_told_apart(void)
{
	char *argv[] = {"no-such-command-sandbox-test", NULL};
	struct sandbox_opts o = {.argv = argv, .cwd = "/"};
	struct sandbox_result r;
	struct sd_err err = {0};

	o.dir = new_box();
	if (sandbox_run(&o, &r, &err) < 0) {
		UNIT_FAIL("sandbox_run: %s", err.msg);
		return;
	}
	CHECK(sandbox_not_found(&r));
	CHECK_INT(r.exec_errno, ENOENT);
	CHECK_INT(exit_code(&r), 127);
	sandbox_result_release(&r);

	/* Not executable: 126, found. */
	char path[600], *argv2[] = {path, NULL};

	mkpath(path, sizeof(path), "not-executable");
	put("not-executable", "#!/bin/sh\n");
	o.argv = argv2;
	o.dir = new_box();
	if (sandbox_run(&o, &r, &err) < 0) {
		UNIT_FAIL("sandbox_run: %s", err.msg);
		return;
	}
	CHECK(!sandbox_not_found(&r));
	CHECK_INT(r.exec_errno, EACCES);
	CHECK_INT(exit_code(&r), 126);
	sandbox_result_release(&r);
}

static void a_command_reads_standard_input(void)
{
	struct sandbox_opts o = {0};
	struct sandbox_result r;
	int p[2], saved = dup(0);

	if (saved < 0 || pipe(p) < 0) {
		UNIT_FAIL("pipe: %s", strerror(errno));
		return;
	}
	if (write(p[1], "hello\n", 6) != 6)
		UNIT_FAIL("write: %s", strerror(errno));
	close(p[1]);
	dup2(p[0], 0);
	close(p[0]);
	if (run_sh("read x && [ \"$x\" = hello ]", &o, &r) == 0) {
		CHECK_INT(exit_code(&r), 0);
		sandbox_result_release(&r);
	}
	dup2(saved, 0);
	close(saved);
}

static void the_exit_status_is_passed_through(void)
{
	struct sandbox_opts o = {0};
	struct sandbox_result r;

	if (run_sh("exit 7", &o, &r) == 0) {
		CHECK(WIFEXITED(r.status));
		CHECK_INT(WEXITSTATUS(r.status), 7);
		CHECK_INT(r.exec_errno, 0);
		times("exit 7", &r);
		sandbox_result_release(&r);
	}
	memset(&o, 0, sizeof(o));
	if (run_sh("kill -TERM $$", &o, &r) == 0) {
		CHECK(WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGTERM);
		sandbox_result_release(&r);
	}
}

static void writes_where_nothing_is_kept_are_reported(void)
{
	struct sandbox_opts o = {0};
	struct sandbox_result r;

	/* / is root's (not writable without root, as on the host) */
	if (run_sh("echo x > /dev/newfile && echo y > /dev/shm/seg && "
		   "rm /dev/stdin && echo ok > /dev/null && "
		   "{ [ $(id -u) != 0 ] || mkdir /new-top-level-dir; }",
		   &o, &r) < 0)
		return;
	CHECK_INT(exit_code(&r), 0);
	CHECK(has_line(&r, "'/dev/newfile': written in the sandbox, not kept"));
	CHECK(has_line(&r, "'/dev/shm/seg': written in the sandbox, not kept"));
	/* At the top level: in the layer of /, or in the tmpfs of / */
	if (root_layer(&r)) {
		char up[1024];

		CHECK(upper_of(&r, "/new-top-level-dir", up, sizeof(up)));
		CHECK(exists(up));
	} else if (geteuid() == 0) {
		CHECK(has_line(
			&r,
			"'/new-top-level-dir': written in the sandbox, not kept"));
	}
	CHECK(has_line(&r, "'/dev/stdin': removed in the sandbox, not kept"));
	CHECK(!exists("/dev/newfile"));
	CHECK(!exists("/new-top-level-dir"));
	show_lines(&r);
	sandbox_result_release(&r);
}

static void the_command_sees_the_callers_uid(void)
{
	struct sandbox_opts o = {0};
	struct sandbox_result r;
	char script[256];

	snprintf(script, sizeof(script),
		 "[ \"$(id -u)\" = %u ] && [ \"$(id -g)\" = %u ] && "
		 "[ -r /proc/self/status ] && [ \"$$\" -lt 10 ]",
		 (unsigned)geteuid(), (unsigned)getegid());
	if (run_sh(script, &o, &r) == 0) {
		CHECK_INT(exit_code(&r), 0);
		sandbox_result_release(&r);
	}
}

static void chown_works_as_root(void)
{
	struct sandbox_opts o = {0};
	struct sandbox_result r;
	char script[1024], p[600], up[1024];
	struct stat st;

	put("theirs", "x\n");
	mkpath(p, sizeof(p), "theirs");
	if (chown(p, 4321, 4321) < 0)
		UNIT_FAIL("chown: %s", strerror(errno));
	snprintf(script, sizeof(script),
		 "cd '%s' && [ \"$(stat -c %%u:%%g theirs)\" = 4321:4321 ] && "
		 "echo y >> theirs && touch owned && chown 1234:5678 owned",
		 host);
	if (run_sh(script, &o, &r) == 0) {
		CHECK_INT(exit_code(&r), 0);
		CHECK(upper_of(&r, host, up, sizeof(up)));
		pjoin(p, sizeof(p), up, "owned");
		CHECK(lstat(p, &st) == 0 && st.st_uid == 1234 &&
		      st.st_gid == 5678);
		pjoin(p, sizeof(p), up, "theirs");
		CHECK(lstat(p, &st) == 0 && st.st_uid == 4321 &&
		      st.st_gid == 4321);
		sandbox_result_release(&r);
	}
}

static void a_mount_below_gets_its_own_layer(void)
{
	struct sandbox_opts o = {0};
	struct sandbox_result r;
	char script[2048], mnt[600], p[1024], up[1200];
	bool found = false;

	mkd("mnt");
	mkpath(mnt, sizeof(mnt), "mnt");
	/* In this process's own mount namespace (main): not the host's. */
	if (mount("tmpfs", mnt, "tmpfs", 0, "mode=0755") < 0) {
		UNIT_FAIL("mount tmpfs on %s: %s", mnt, strerror(errno));
		return;
	}
	pjoin(p, sizeof(p), mnt, "old");
	put("mnt/old", "old\n");
	snprintf(script, sizeof(script),
		 "echo new > '%s/new' && echo more >> '%s/old' && "
		 "echo above > '%s/above'",
		 mnt, mnt, host);
	if (run_sh(script, &o, &r) == 0) {
		CHECK_INT(exit_code(&r), 0);
		for (size_t i = 0; i < r.n_layers; i++)
			found |= !strcmp(r.layers[i].host, mnt);
		CHECK(found);
		CHECK(upper_of(&r, mnt, up, sizeof(up)));
		pjoin(p, sizeof(p), up, "new");
		CHECK_STR(slurp(p), "new\n");
		pjoin(p, sizeof(p), up, "old");
		CHECK_STR(slurp(p), "old\nmore\n");
		pjoin(p, sizeof(p), mnt, "old");
		CHECK_STR(slurp(p), "old\n");
		pjoin(p, sizeof(p), mnt, "new");
		CHECK(!exists(p));
		CHECK(upper_of(&r, host, up, sizeof(up)));
		pjoin(p, sizeof(p), up, "above");
		CHECK_STR(slurp(p), "above\n");
		show_lines(&r);
		sandbox_result_release(&r);
	}
	umount2(mnt, MNT_DETACH);
}

/* Make every directory below path writable (overlay leaves work
 * directories of mode 000 and the tops of layers can be 0555), each before
 * it is read. */
static void open_up(const char *path)
{
	struct stat st;
	struct dirent *e;
	DIR *d;

	if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return;
	chmod(path, (st.st_mode & 07777) | 0700);
	if (!(d = opendir(path)))
		return;
	while ((e = readdir(d))) {
		char sub[4096];

		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    (size_t)snprintf(sub, sizeof(sub), "%s/%s", path,
				     e->d_name) < sizeof(sub))
			open_up(sub);
	}
	closedir(d);
}

static void remove_tree(const char *path)
{
	char cmd[600];

	open_up(path);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", path);
}

/* An overlay of an overlay of an overlay is one too many: the sandbox's
 * falls back to a read-only bind. */
static void an_overlay_that_fails_is_bound_read_only(void)
{
	static const char *const dirs[] = {"l",	 "u1", "w1", "o1",
					   "u2", "w2", "o2"};
	struct sandbox_opts o = {0};
	struct sandbox_result r;
	char p[7][600], opts[2048], script[2048], line[1024];

	for (size_t i = 0; i < 7; i++) {
		char rel[16];

		snprintf(rel, sizeof(rel), "st/%s", dirs[i]);
		mkd("st");
		mkd(rel);
		mkpath(p[i], sizeof(p[i]), rel);
	}
	put("st/l/f", "f\n");
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s", p[0],
		 p[1], p[2]);
	if (mount("overlay", p[3], "overlay", 0, opts) < 0) {
		UNIT_FAIL("mount overlay: %s", strerror(errno));
		return;
	}
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s", p[3],
		 p[4], p[5]);
	if (mount("overlay", p[6], "overlay", 0, opts) < 0) {
		UNIT_FAIL("mount overlay: %s", strerror(errno));
		umount2(p[3], MNT_DETACH);
		return;
	}
	snprintf(script, sizeof(script),
		 "[ \"$(cat '%s/f')\" = f ] && ! touch '%s/g' 2>/dev/null",
		 p[6], p[6]);
	if (run_sh(script, &o, &r) == 0) {
		CHECK_INT(exit_code(&r), 0);
		snprintf(line, sizeof(line),
			 "'%s': read-only in the sandbox: overlay failed: "
			 "Invalid argument",
			 p[6]);
		CHECK(has_line(&r, line));
		show_lines(&r);
		for (size_t i = 0; i < r.n_layers; i++)
			CHECK(strcmp(r.layers[i].host, p[6]));
		sandbox_result_release(&r);
	}
	umount2(p[6], MNT_DETACH);
	umount2(p[3], MNT_DETACH);
}

/* A top-level directory of the host for a test's mounts (in this process's
 * mount namespace only), or NULL. */
static const char *spare_top(void)
{
	static const char *const v[] = {"/srv", "/media", "/opt", "/mnt"};
	struct stat st;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (lstat(v[i], &st) == 0 && S_ISDIR(st.st_mode))
			return v[i];
	return NULL;
}

/* Checks of the child below: a message on standard output, and 1. */
__attribute__((format(printf, 1, 2))) static int child_fail(const char *fmt,
							    ...)
{
	va_list ap;

	printf("#   ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	return 1;
}

/* The part of the test below that runs as nobody. */
static int as_nobody(const char *top, const char *box, const char *spare,
		     const char *script)
{
	char *argv[] = {"sh", "-c", (char *)script, NULL}, hidden[600];
	const char *hide[] = {hidden, NULL};
	struct sandbox_opts o = {
		.dir = box, .argv = argv, .cwd = top, .hide = hide};
	struct sandbox_result r;
	struct sd_err err = {0};
	char p[1024], up[1024];
	int bad = 0;

	snprintf(hidden, sizeof(hidden), "%s/a/hidden", spare);
	if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) ||
	    setresuid(65534, 65534, 65534))
		return child_fail("cannot become nobody: %s", strerror(errno));
	if (sandbox_run(&o, &r, &err) < 0)
		return child_fail("sandbox_run: %s", err.msg);
	printf("# setup %.1f ms teardown %.1f ms (without root)\n", r.setup_ms,
	       r.teardown_ms);
	show_lines(&r);
	if (exit_code(&r) != 0)
		bad = child_fail("the command failed");
	pjoin(p, sizeof(p), top, "new");
	if (exists(p))
		bad = child_fail("%s: on the host", p);
	if (!upper_of(&r, p, up, sizeof(up)) || strcmp(slurp(up), "new\n"))
		bad = child_fail("%s: not in the upper layer", p);
	/* The mount below spare has a layer; spare and spare/a are
	 * rebuilt, not overlaid. */
	snprintf(p, sizeof(p), "%s/a/b/new", spare);
	if (!upper_of(&r, p, up, sizeof(up)) || strcmp(slurp(up), "n\n"))
		bad = child_fail("%s: not in the upper layer", p);
	if (exists(p))
		bad = child_fail("%s: on the host", p);
	for (size_t i = 0; i < r.n_layers; i++)
		if (!strcmp(r.layers[i].host, "/") ||
		    !strcmp(r.layers[i].host, spare))
			bad = child_fail("a layer for %s", r.layers[i].host);
	sandbox_result_release(&r);
	return bad;
}

/* As nobody (run by root): only its own ids are mapped; the permissions
 * are the host's; a directory with a mount below it is rebuilt. In a
 * child, which reports through its exit status. */
static void without_root_only_the_callers_ids_are_mapped(void)
{
	char top[256], box[300], script[2048], p[600];
	const char *spare = spare_top();
	int status;
	pid_t pid;

	/* Directly under the top-level directory: the copy-up of a
	 * directory of another owner (root) is not possible without root. */
	snprintf(top, sizeof(top), "/tmp/sd-sandbox-nobody-XXXXXX");
	if (!spare || !mkdtemp(top)) {
		UNIT_FAIL("no top-level directory or no mkdtemp: %s",
			  strerror(errno));
		return;
	}
	pjoin(box, sizeof(box), top, "box");
	if (chmod(top, 0755) < 0 || mkdir(box, 0700) < 0 ||
	    chown(top, 65534, 65534) < 0 || chown(box, 65534, 65534) < 0)
		UNIT_FAIL("prepare %s: %s", top, strerror(errno));
	/* spare/a/b a mount (a tmpfs, in our mount namespace), beside it
	 * the file spare/a/file, all root's. */
	if (mount("tmpfs", spare, "tmpfs", 0, "mode=0755") < 0)
		UNIT_FAIL("mount on %s: %s", spare, strerror(errno));
	snprintf(p, sizeof(p), "%s/a", spare);
	if (mkdir(p, 0755) < 0)
		UNIT_FAIL("mkdir %s: %s", p, strerror(errno));
	snprintf(p, sizeof(p), "%s/a/b", spare);
	if (mkdir(p, 0755) < 0 || mount("tmpfs", p, "tmpfs", 0, "mode=1777"))
		UNIT_FAIL("mount on %s: %s", p, strerror(errno));
	for (int i = 0; i < 2; i++) {
		FILE *f;

		snprintf(p, sizeof(p), "%s/a/%s", spare, i ? "hidden" : "file");
		f = fopen(p, "we");
		if (!f || fputs("data\n", f) < 0 || fclose(f))
			UNIT_FAIL("write %s", p);
	}
	snprintf(
		script, sizeof(script),
		"[ \"$(id -u):$(id -g)\" = 65534:65534 ] && "
		"[ \"$(grep -c . /proc/self/uid_map)\" = 1 ] && "
		"echo new > '%s/new' && ! touch /usr/new 2>/dev/null && "
		"! echo x 2>/dev/null >> /etc/passwd && "
		"echo n > '%s/a/b/new' && [ \"$(cat '%s/a/file')\" = data ] && "
		"! echo m 2>/dev/null >> '%s/a/file' && "
		"! mkdir '%s/a/dir' 2>/dev/null && "
		"[ -f '%s/a/hidden' ] && [ ! -s '%s/a/hidden' ]",
		top, spare, spare, spare, spare, spare, spare);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int bad = as_nobody(top, box, spare, script);

		fflush(stdout);
		_exit(bad);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		UNIT_FAIL("the child failed (status %d)", status);
	umount2(spare, MNT_DETACH);
	remove_tree(top);
}

static void a_setup_failure_is_an_error(void)
{
	char *argv[] = {"true", NULL};
	struct sandbox_opts o = {.argv = argv, .cwd = "/no/such/directory"};
	struct sandbox_result r;
	struct sd_err err = {0};

	o.dir = new_box();
	CHECK_INT(sandbox_run(&o, &r, &err), -1);
	CHECK_INT(err.code, SD_EXIT_SAFERUN);
	CHECK_CONTAINS(err.msg, "cannot change to '/no/such/directory' in "
				"the sandbox: No such file or directory");
	CHECK_INT(r.n_layers, 0);

	/* Not an empty directory */
	o.cwd = "/";
	CHECK_INT(sandbox_run(&o, &r, &err), -1);
	CHECK_CONTAINS(err.msg, "cannot create directory");
	o.dir = "/no/such/directory";
	CHECK_INT(sandbox_run(&o, &r, &err), -1);
	CHECK_CONTAINS(err.msg, "cannot use sandbox directory "
				"'/no/such/directory'");
}

static void sigterm_to_the_caller_goes_to_the_command(void)
{
	struct sandbox_opts o = {0};
	struct sandbox_result r;
	int p[2], status;
	pid_t helper, me = getpid();
	char c;

	/* The command tells the helper it is ready on fd 5; the helper then
	 * sends SIGTERM to this process (blocked in sandbox_run). */
	if (pipe(p) < 0) {
		UNIT_FAIL("pipe: %s", strerror(errno));
		return;
	}
	helper = fork();
	if (helper == 0) {
		close(p[1]);
		if (read(p[0], &c, 1) == 1)
			kill(me, SIGTERM);
		_exit(0);
	}
	close(p[0]);
	if (p[1] != 5) {
		dup2(p[1], 5);
		close(p[1]);
	}
	if (run_sh("trap 'exit 42' TERM; echo >&5; exec 5>&-; "
		   "sleep 30 & wait",
		   &o, &r) == 0) {
		CHECK_INT(exit_code(&r), 42);
		sandbox_result_release(&r);
	}
	close(5);
	waitpid(helper, &status, 0);
}

static void a_trivial_command(void)
{
	char *argv[] = {"true", NULL};
	struct sandbox_opts o = {.argv = argv, .cwd = "/"};
	struct sandbox_result r;
	struct sd_err err = {0};

	for (int i = 0; i < 3; i++) {
		o.dir = new_box();
		if (sandbox_run(&o, &r, &err) < 0) {
			UNIT_FAIL("sandbox_run: %s", err.msg);
			return;
		}
		CHECK_INT(exit_code(&r), 0);
		times("true", &r);
		sandbox_result_release(&r);
	}
}

/* The tests that need root (the others run without it too). */
static const struct {
	void (*fn)(void);
	const char *name;
} as_root[] = {
	{chown_works_as_root, "chown works inside as root"},
	{a_mount_below_gets_its_own_layer,
	 "a mount below a directory gets its own layer"},
	{an_overlay_that_fails_is_bound_read_only,
	 "an overlay that fails is bound read-only"},
	{without_root_only_the_callers_ids_are_mapped,
	 "without root only the caller's ids are mapped"},
};

int main(void)
{
	struct sd_err err = {0};

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (sandbox_available(&err) < 0) {
		printf("1..0 # skip no sandbox here: %s\n", err.msg);
		return 0;
	}
	/* As root: a mount namespace of our own, for the mount test. */
	if (geteuid() == 0 &&
	    (unshare(CLONE_NEWNS) < 0 ||
	     mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0)) {
		printf("# cannot make a mount namespace: %s\n",
		       strerror(errno));
		return 1;
	}
	snprintf(tmp, sizeof(tmp), "%s", unit_mkdtemp("sandbox"));
	/* Readable by all: without root, the caller must reach it. */
	chmod(tmp, 0755);
	pjoin(host, sizeof(host), tmp, "files");
	if (mkdir(host, 0755) < 0) {
		perror("mkdir");
		return 99;
	}
	RUN(a_trivial_command, "a trivial command");
	RUN(changes_land_in_the_upper_layer,
	    "writes, modifications and deletions land in the upper layer");
	RUN(the_sandbox_directory_and_others_are_hidden,
	    "the sandbox directory and the paths to hide are hidden");
	RUN(a_command_that_never_ends_is_killed,
	    "a command that never ends is killed at the timeout");
	RUN(what_the_command_leaves_behind_is_killed,
	    "what the command leaves behind is killed");
	RUN(without_net_the_host_is_out_of_reach,
	    "without net the host's loopback is out of reach");
	RUN(a_command_not_found_is_told_apart, "a command not found");
	RUN(a_command_reads_standard_input, "a command reads standard input");
	RUN(the_exit_status_is_passed_through,
	    "the exit status is passed through");
	RUN(writes_where_nothing_is_kept_are_reported,
	    "writes where nothing is kept are reported");
	RUN(the_command_sees_the_callers_uid,
	    "the command sees the caller's ids");
	for (size_t i = 0; i < sizeof(as_root) / sizeof(as_root[0]); i++)
		if (geteuid() == 0)
			RUN(as_root[i].fn, as_root[i].name);
		else
			SKIP(as_root[i].name, "not root");
	RUN(a_setup_failure_is_an_error, "a setup failure is an error");
	RUN(sigterm_to_the_caller_goes_to_the_command,
	    "SIGTERM to the caller goes to the command");
	remove_tree(tmp);
	unit_tmp[0] = '\0';
	UNIT_DONE();
}
