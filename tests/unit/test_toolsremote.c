/* Unit tests for cmd/saferun/tools_remote.c: dd, mkfs and wipefs on a real
 * image file and, where losetup works, a loop device (mounted in a private
 * mount namespace: refused); psql's statement lexer on tricky SQL; the
 * parsers of kubectl's, helm's, terraform's and aws's output on recorded
 * text; the planners end to end with stand-ins for the tools (shell
 * scripts on PATH), terraform for real when it is installed, and the
 * tools that are not installed (127). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../cmd/saferun/tools.h"
#include "../../cmd/saferun/tools_parse.h"
#include "fprint.h"
#include "unit.h"

static char tmp[256];
static char cwd[4096];
static char saved_path[8192];

static void path_of(char *buf, size_t n, const char *rel)
{
	if ((size_t)snprintf(buf, n, "%s/%s", tmp, rel) >= n)
		UNIT_FAIL("path too long: %s", rel);
}

static void write_file(const char *rel, const char *text, mode_t mode)
{
	char p[512];
	FILE *f;

	path_of(p, sizeof(p), rel);
	f = fopen(p, "w");
	if (!f) {
		UNIT_FAIL("cannot write %s", p);
		return;
	}
	fputs(text, f);
	fclose(f);
	chmod(p, mode);
}

static bool have(const char *prog)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", prog);
	return system(cmd) == 0;
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* Plan argv (NULL-terminated) with the table's tool: 0 or -1; *found
 * false when no row applies. */
static int plan_for(char *const *argv, struct tool_plan *p, struct sd_err *err,
		    bool *found)
{
	struct tool_ctx c = {
		.argv = argv, .cwd = cwd, .timeout_ms = 60000, .tmpdir = tmp};
	const struct tool *t;

	while (argv[c.argc])
		c.argc++;
	c.exe = argv[0];
	memset(p, 0, sizeof(*p));
	memset(err, 0, sizeof(*err));
	t = tools_find(&c);
	if (found)
		*found = t != NULL;
	if (!t)
		return -1;
	return t->plan(&c, p, err);
}

static bool matches(char *const *argv)
{
	struct tool_ctx c = {.argv = argv, .cwd = cwd};

	while (argv[c.argc])
		c.argc++;
	return tools_find(&c) != NULL;
}

static const char *jget(const json_t *o, const char *path)
{
	char key[128];
	const char *dot;

	while ((dot = strchr(path, '.'))) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		o = json_object_get(o, key);
		path = dot + 1;
	}
	return json_string_value(json_object_get(o, path));
}

/* The target fingerprint of the given kind. */
static json_t *target_kind(const struct tool_plan *p, const char *kind)
{
	size_t i;
	json_t *t;

	json_array_foreach(p->targets, i, t)
	{
		const char *k = json_string_value(json_object_get(t, "kind"));

		if (k && !strcmp(k, kind))
			return t;
	}
	return NULL;
}

/* The fingerprints of paths among the targets (those without "kind") are
 * unchanged now. */
static void check_fprints(const struct tool_plan *p)
{
	size_t i;
	json_t *t;

	json_array_foreach(p->targets, i, t)
	{
		char *why;

		if (json_object_get(t, "kind"))
			continue;
		why = fprint_check(t);
		if (why)
			UNIT_FAIL("target changed: %s", why);
		free(why);
	}
}

/* Put the stand-ins (tmp/bin) first on PATH, or PATH back. */
static void fake_path(bool on)
{
	char p[9000];

	if (on) {
		snprintf(p, sizeof(p), "%s/bin:%s", tmp, saved_path);
		setenv("PATH", p, 1);
	} else {
		setenv("PATH", saved_path, 1);
	}
}

static char *slurp(const char *rel)
{
	char p[512], *buf = NULL;
	size_t len = 0;
	FILE *f;

	path_of(p, sizeof(p), rel);
	f = fopen(p, "r");
	if (!f)
		return strdup("");
	buf = malloc(1 << 16);
	if (buf) {
		len = fread(buf, 1, (1 << 16) - 1, f);
		buf[len] = 0;
	}
	fclose(f);
	return buf;
}

/* ------------------------------------------------------------------ */

static void table_matches(void)
{
	char *dd_of[] = {"dd", "if=/dev/zero", "of=/tmp/x", NULL};
	char *dd_stdout[] = {"dd", "if=/dev/zero", "count=1", NULL};
	char *mkfs_ext4[] = {"mkfs.ext4", "/dev/sdz", NULL};
	char *mkfs_t[] = {"/sbin/mkfs", "-t", "ext4", "/dev/sdz", NULL};
	char *wipe_a[] = {"wipefs", "-a", "/dev/sdz", NULL};
	char *wipe_af[] = {"wipefs", "-af", "/dev/sdz", NULL};
	char *wipe_o[] = {"wipefs", "--offset", "0x438", "/dev/sdz", NULL};
	char *wipe_n[] = {"wipefs", "-an", "/dev/sdz", NULL};
	char *wipe_noact[] = {"wipefs", "-a", "--no-act", "/dev/sdz", NULL};
	char *wipe_list[] = {"wipefs", "/dev/sdz", NULL};
	char *psql_c[] = {"psql", "-d", "app", "-c", "DROP TABLE x", NULL};
	char *psql_i[] = {"psql", "-d", "app", NULL};
	char *k_del[] = {"kubectl", "-n", "prod", "delete", "pod", "x", NULL};
	char *k_apply[] = {"kubectl", "apply", "-f", "x.yaml", NULL};
	char *k_get[] = {"kubectl", "get", "pods", NULL};
	char *k_dry[] = {"kubectl", "delete",		"pod",
			 "x",	    "--dry-run=server", NULL};
	char *k_view[] = {"kubectl", "apply", "view-last-applied", "x", NULL};
	char *h_un[] = {"helm", "--namespace", "web", "uninstall", "r1", NULL};
	char *h_dry[] = {"helm", "uninstall", "r1", "--dry-run", NULL};
	char *h_list[] = {"helm", "list", NULL};
	char *tf_apply[] = {"terraform", "-chdir=infra", "apply", NULL};
	char *tf_destroy[] = {"terraform", "destroy", "-auto-approve", NULL};
	char *tf_plan[] = {"terraform", "plan", NULL};
	char *s3_rm[] = {"aws", "--profile", "p",	    "s3",
			 "rm",	"s3://b/",   "--recursive", NULL};
	char *s3_sync[] = {"aws",     "s3",	  "sync", ".",
			   "s3://b/", "--delete", NULL};
	char *s3_sync_keep[] = {"aws", "s3", "sync", ".", "s3://b/", NULL};
	char *s3_dry[] = {"aws", "s3", "rm", "s3://b/k", "--dryrun", NULL};
	char *s3_ls[] = {"aws", "s3", "ls", NULL};

	CHECK(matches(dd_of));
	CHECK(!matches(dd_stdout));
	CHECK(matches(mkfs_ext4));
	CHECK(matches(mkfs_t));
	CHECK(matches(wipe_a));
	CHECK(matches(wipe_af));
	CHECK(matches(wipe_o));
	CHECK(!matches(wipe_n));
	CHECK(!matches(wipe_noact));
	CHECK(!matches(wipe_list));
	CHECK(matches(psql_c));
	CHECK(!matches(psql_i));
	CHECK(matches(k_del));
	CHECK(matches(k_apply));
	CHECK(!matches(k_get));
	CHECK(!matches(k_dry));
	CHECK(!matches(k_view));
	CHECK(matches(h_un));
	CHECK(!matches(h_dry));
	CHECK(!matches(h_list));
	CHECK(matches(tf_apply));
	CHECK(matches(tf_destroy));
	CHECK(!matches(tf_plan));
	CHECK(matches(s3_rm));
	CHECK(matches(s3_sync));
	CHECK(!matches(s3_sync_keep));
	CHECK(!matches(s3_dry));
	CHECK(!matches(s3_ls));
}

/* ------------------------------------------------------------------ */
/* Devices                                                            */

static bool have_ext4;
static char img[512];

static void make_image(void)
{
	path_of(img, sizeof(img), "img");
	have_ext4 = have("mkfs.ext4") &&
		    sh("truncate -s 8M '%s' && mkfs.ext4 -q -F -L saferun '%s' "
		       ">/dev/null 2>&1",
		       img, img) == 0;
}

static void image_file(void)
{
	char of[700], newf[600];
	struct tool_plan p;
	struct sd_err err;
	json_t *dev;

	if (!have_ext4) {
		printf("# skip: no mkfs.ext4 to make an image\n");
		return;
	}
	snprintf(of, sizeof(of), "of=%s", img);
	{
		char *argv[] = {"dd",	 "if=/dev/zero", of,
				"bs=1M", "count=1",	 NULL};

		CHECK_INT(plan_for(argv, &p, &err, NULL), 0);
		CHECK_INT(p.effects.n, 1);
		if (p.effects.n == 1) {
			CHECK_INT(p.effects.v[0].op, EFFECT_DEVICE);
			CHECK_INT(p.effects.v[0].type, 'f');
			CHECK_STR(p.effects.v[0].path, img);
			CHECK_INT(p.effects.v[0].bytes, 8 << 20);
			CHECK_CONTAINS(p.effects.v[0].detail, "ext4");
			CHECK_CONTAINS(p.effects.v[0].detail, "'saferun'");
			CHECK_CONTAINS(p.effects.v[0].detail, "written by dd");
		}
		CHECK(p.always_confirm);
		CHECK(p.why_refuse == NULL);
		CHECK_INT(p.fidelity, FIDELITY_PREVIEW);
		dev = json_object_get(p.facts, "device");
		CHECK_STR(jget(dev, "signature.TYPE"), "ext4");
		CHECK_STR(jget(dev, "signature.LABEL"), "saferun");
		CHECK(jget(dev, "signature.UUID") != NULL);
		CHECK_STR(jget(dev, "type"), "file");
		CHECK_INT(json_integer_value(json_object_get(dev, "size")),
			  8 << 20);
		CHECK(json_is_array(json_object_get(dev, "mounted")));
		CHECK_INT(json_array_size(json_object_get(dev, "mounted")), 0);
		/* The node (fprint) and the device object. */
		CHECK_STR(jget(json_array_get(p.targets, 0), "type"), "file");
		CHECK_STR(jget(target_kind(&p, "device"), "signature.TYPE"),
			  "ext4");
		check_fprints(&p);
		tool_plan_release(&p);
	}
	{
		char *argv[] = {"mkfs.xfs", "-f", img, NULL};

		CHECK_INT(plan_for(argv, &p, &err, NULL), 0);
		CHECK_INT(p.effects.n, 1);
		if (p.effects.n == 1)
			CHECK_CONTAINS(p.effects.v[0].detail,
				       "formatted as xfs");
		tool_plan_release(&p);
	}
	{
		char *argv[] = {"mkfs", "-t", "ext3", img, "4096", NULL};

		CHECK_INT(plan_for(argv, &p, &err, NULL), 0);
		CHECK_INT(p.effects.n, 1);
		if (p.effects.n == 1) {
			CHECK_STR(p.effects.v[0].path, img);
			CHECK_CONTAINS(p.effects.v[0].detail,
				       "formatted as ext3");
		}
		tool_plan_release(&p);
	}
	{
		/* mke2fs -n only says what it would do. */
		char *argv[] = {"mkfs.ext4", "-n", img, NULL};

		CHECK_INT(plan_for(argv, &p, &err, NULL), 0);
		CHECK_INT(p.effects.n, 0);
		tool_plan_release(&p);
	}
	{
		char *argv[] = {"wipefs", "-a", img, NULL};

		CHECK_INT(plan_for(argv, &p, &err, NULL), 0);
		CHECK_INT(p.fidelity, FIDELITY_NATIVE);
		CHECK_INT(p.effects.n, 1);
		if (p.effects.n == 1)
			CHECK_CONTAINS(p.effects.v[0].detail, "(1 signature)");
		CHECK_INT(json_array_size(json_object_get(p.facts, "erased")),
			  1);
		CHECK_CONTAINS(json_string_value(json_array_get(
				       json_object_get(p.facts, "erased"), 0)),
			       "(ext4)");
		CHECK_CONTAINS(p.native, "--no-act");
		tool_plan_release(&p);
		/* and nothing was erased */
		CHECK_INT(sh("blkid -p '%s' | grep -q ext4", img), 0);
	}
	{
		/* dd onto a file that does not exist: it is created. */
		path_of(newf, sizeof(newf), "new.bin");
		snprintf(of, sizeof(of), "of=%s", newf);
		char *argv[] = {"dd", "if=/dev/zero", of, NULL};

		CHECK_INT(plan_for(argv, &p, &err, NULL), 0);
		CHECK_INT(p.effects.n, 1);
		if (p.effects.n == 1)
			CHECK_INT(p.effects.v[0].op, EFFECT_CREATE);
		CHECK(json_is_true(json_object_get(json_array_get(p.targets, 0),
						   "absent")));
		tool_plan_release(&p);
	}
	{
		char *argv[] = {"mkfs.ext4", "/nonexistent/dev", NULL};

		CHECK_INT(plan_for(argv, &p, &err, NULL), -1);
		CHECK_CONTAINS(err.msg, "cannot read '/nonexistent/dev'");
		CHECK(p.effects.n == 0 && !p.targets);
	}
	{
		char *argv[] = {"dd", "if=/dev/zero", "of=/dev/null", NULL};

		CHECK_INT(plan_for(argv, &p, &err, NULL), 0);
		CHECK_INT(p.effects.n, 0);
		tool_plan_release(&p);
	}
}

static char loopdev[64];

/* A loop device over the image, or "" (skip) when losetup does not work
 * here. */
static void attach_loop(void)
{
	char cmd[700];
	FILE *f;

	loopdev[0] = 0;
	if (!have_ext4 || !have("losetup"))
		return;
	snprintf(cmd, sizeof(cmd), "losetup -f --show '%s' 2>/dev/null", img);
	f = popen(cmd, "r");
	if (!f)
		return;
	if (!fgets(loopdev, sizeof(loopdev), f))
		loopdev[0] = 0;
	loopdev[strcspn(loopdev, "\n")] = 0;
	if (pclose(f) != 0 || strncmp(loopdev, "/dev/loop", 9))
		loopdev[0] = 0;
}

static void loop_device(void)
{
	struct tool_plan p;
	struct sd_err err;
	struct stat st;
	char rdev[32];
	json_t *dev;

	if (!loopdev[0]) {
		printf("# skip: losetup does not work here\n");
		return;
	}
	{
		char *argv[] = {"wipefs", "--all", loopdev, NULL};

		CHECK_INT(plan_for(argv, &p, &err, NULL), 0);
		if (err.msg[0])
			printf("# %s\n", err.msg);
		CHECK_INT(p.effects.n, 1);
		if (p.effects.n == 1) {
			CHECK_INT(p.effects.v[0].type, 'b');
			CHECK_INT(p.effects.v[0].bytes, 8 << 20);
			CHECK_CONTAINS(p.effects.v[0].detail, "ext4");
		}
		dev = json_object_get(p.facts, "device");
		CHECK_STR(jget(dev, "type"), "block");
		CHECK_STR(jget(dev, "signature.TYPE"), "ext4");
		CHECK(stat(loopdev, &st) == 0);
		snprintf(rdev, sizeof(rdev), "%u:%u", major(st.st_rdev),
			 minor(st.st_rdev));
		CHECK_STR(jget(dev, "rdev"), rdev);
		CHECK_STR(jget(target_kind(&p, "device"), "rdev"), rdev);
		CHECK(p.why_refuse == NULL);
		tool_plan_release(&p);
	}
	{
		/* The image: the loop device over it holds it. */
		char *argv[] = {"mkfs.ext4", img, NULL};
		json_t *holders;

		CHECK_INT(plan_for(argv, &p, &err, NULL), 0);
		holders = json_object_get(json_object_get(p.facts, "device"),
					  "holders");
		CHECK_INT(json_array_size(holders), 1);
		CHECK_STR(json_string_value(json_array_get(holders, 0)),
			  loopdev + 5);
		CHECK(p.why_refuse == NULL);
		tool_plan_release(&p);
	}
}

/* In a private mount namespace (a child): mount the loop device; mkfs on
 * it, dd onto the image under it, are refused. Exit 77: cannot mount. */
static void mounted_child(void)
{
	char mnt[512], want[700], of[600];
	struct tool_plan p;
	struct sd_err err;

	if (unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", "none", MS_REC | MS_PRIVATE, NULL) < 0)
		_exit(77);
	path_of(mnt, sizeof(mnt), "mnt");
	mkdir(mnt, 0755);
	if (mount(loopdev, mnt, "ext4", 0, NULL) < 0)
		_exit(77);
	{
		char *argv[] = {"mkfs.ext4", loopdev, NULL};

		CHECK_INT(plan_for(argv, &p, &err, NULL), 0);
		snprintf(want, sizeof(want), "'%s' is mounted on '%s'", loopdev,
			 mnt);
		CHECK_STR(p.why_refuse, want);
		CHECK_INT(
			json_array_size(json_object_get(
				json_object_get(p.facts, "device"), "mounted")),
			1);
		tool_plan_release(&p);
	}
	{
		snprintf(of, sizeof(of), "of=%s", img);
		char *argv[] = {"dd", "if=/dev/zero", of, NULL};

		CHECK_INT(plan_for(argv, &p, &err, NULL), 0);
		snprintf(want, sizeof(want), "'%s' is mounted on '%s'", loopdev,
			 mnt);
		CHECK_STR(p.why_refuse, want);
		tool_plan_release(&p);
	}
	umount(mnt);
	fflush(stdout);
	_exit(unit_current_failed);
}

static void mounted_is_refused(void)
{
	int status;
	pid_t pid;

	if (!loopdev[0]) {
		printf("# skip: losetup does not work here\n");
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		mounted_child();
	CHECK(pid > 0);
	CHECK_INT(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
		printf("# skip: cannot mount in a private mount namespace\n");
	else
		CHECK_INT(WEXITSTATUS(status), 0);
}

/* A partitioned image: the whole disk is refused when a partition of it is
 * mounted. Needs partition scanning on loop devices (losetup -P). */
static void partition_child(const char *disk, const char *part)
{
	char mnt[512], want[700];
	struct tool_plan p;
	struct sd_err err;
	char *argv[] = {"wipefs", "-a", (char *)disk, NULL};

	if (unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", "none", MS_REC | MS_PRIVATE, NULL) < 0)
		_exit(77);
	path_of(mnt, sizeof(mnt), "pmnt");
	mkdir(mnt, 0755);
	if (mount(part, mnt, "ext4", 0, NULL) < 0)
		_exit(77);
	CHECK_INT(plan_for(argv, &p, &err, NULL), 0);
	snprintf(want, sizeof(want), "'%s' is mounted on '%s'", part, mnt);
	CHECK_STR(p.why_refuse, want);
	CHECK_INT(json_array_size(json_object_get(
			  json_object_get(p.facts, "device"), "partitions")),
		  1);
	tool_plan_release(&p);
	umount(mnt);
	fflush(stdout);
	_exit(unit_current_failed);
}

static void partition_mounted_is_refused(void)
{
	char pimg[512], cmd[700], disk[64] = "", part[80];
	struct stat st;
	FILE *f;
	int status;
	pid_t pid;

	if (!loopdev[0] || !have("sfdisk")) {
		printf("# skip: no losetup or sfdisk here\n");
		return;
	}
	path_of(pimg, sizeof(pimg), "pimg");
	if (sh("truncate -s 16M '%s' && echo 'start=2048, size=8192, "
	       "type=83' | sfdisk -q '%s' >/dev/null 2>&1",
	       pimg, pimg)) {
		printf("# skip: sfdisk failed\n");
		return;
	}
	snprintf(cmd, sizeof(cmd), "losetup -f --show -P '%s' 2>/dev/null",
		 pimg);
	f = popen(cmd, "r");
	if (f) {
		if (!fgets(disk, sizeof(disk), f))
			disk[0] = 0;
		pclose(f);
	}
	disk[strcspn(disk, "\n")] = 0;
	if (!disk[0]) {
		printf("# skip: losetup -P failed\n");
		return;
	}
	snprintf(part, sizeof(part), "%sp1", disk);
	/* udev may create the node a little later, or never (containers). */
	for (int i = 0; i < 20 && stat(part, &st) < 0; i++)
		usleep(50000);
	if (stat(part, &st) < 0 ||
	    sh("mkfs.ext4 -q -F '%s' >/dev/null 2>&1", part)) {
		printf("# skip: no partition device for a loop device here\n");
		sh("losetup -d '%s'", disk);
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		partition_child(disk, part);
	CHECK(pid > 0);
	CHECK_INT(waitpid(pid, &status, 0), pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
		printf("# skip: cannot mount in a private mount namespace\n");
	else
		CHECK_INT(WEXITSTATUS(status), 0);
	if (sh("losetup -d '%s'", disk))
		UNIT_FAIL("cannot detach %s", disk);
}

static void blkid_parser(void)
{
	json_t *o = remote_blkid_export("DEVNAME=/dev/sdb1\nLABEL=my\\ "
					"disk\nUUID=1234-ABCD\nTYPE=vfat\n"
					"USAGE=filesystem\n");

	CHECK(json_object_get(o, "DEVNAME") == NULL);
	CHECK_STR(jget(o, "LABEL"), "my disk");
	CHECK_STR(jget(o, "TYPE"), "vfat");
	json_decref(o);
}

static void wipefs_parser(void)
{
	json_t *lines = json_array();
	struct sd_err err = {0};

	CHECK_INT(remote_wipefs_erased(
			  "/dev/sdb: 8 bytes were erased at offset 0x00000200 "
			  "(gpt): 45 46 49 20 50 41 52 54\n/dev/sdb: 2 bytes "
			  "were erased at offset 0x000001fe (PMBR): 55 aa\n",
			  lines, &err),
		  0);
	CHECK_INT(json_array_size(lines), 2);
	CHECK_INT(remote_wipefs_erased("wipefs: error: /dev/sdb: probing "
				       "initialization failed\n",
				       lines, &err),
		  -1);
	CHECK_CONTAINS(err.msg, "cannot parse wipefs's dry run: 'wipefs:");
	json_decref(lines);
}

/* ------------------------------------------------------------------ */
/* psql                                                               */

struct sql_case {
	const char *sql;
	int statements;
	const char *what;   /* the first flag, or NULL for none */
	const char *target; /* its target */
	int flags;	    /* how many in all */
};

static const struct sql_case sql_cases[] = {
	{"SELECT 1; DROP TABLE users;", 2, "drop", "table users", 1},
	{"select ';DROP TABLE x;' as s", 1, NULL, NULL, 0},
	{"SELECT 'it''s; DROP TABLE x'; select 2", 2, NULL, NULL, 0},
	{"SELECT $$; DROP TABLE x; $$", 1, NULL, NULL, 0},
	{"CREATE FUNCTION f() RETURNS void AS $body$ BEGIN DROP TABLE t; "
	 "DELETE FROM t; END $body$ LANGUAGE plpgsql; SELECT 2",
	 2, NULL, NULL, 0},
	{"SELECT $a$ $$ ; $b$ ; $a$, $1 FROM t", 1, NULL, NULL, 0},
	{"-- DROP TABLE a;\nSELECT 1 /* ; DROP TABLE b; /* nested; */ still; "
	 "*/;",
	 1, NULL, NULL, 0},
	{"delete from users", 1, "delete without where", "table users", 1},
	{"DELETE FROM ONLY public.users WHERE id = 1", 1, NULL, NULL, 0},
	{"DELETE FROM \"Users\" u USING t WHERE u.id = t.id", 1, NULL, NULL, 0},
	{"update accounts set balance = 0", 1, "update without where",
	 "table accounts", 1},
	{"UPDATE t SET a = (SELECT max(b) FROM u WHERE u.id = t.id)", 1,
	 "update without where", "table t", 1},
	{"UPDATE s.t SET a = 1 WHERE id IN (SELECT id FROM u)", 1, NULL, NULL,
	 0},
	{"TRUNCATE TABLE a, b RESTART IDENTITY CASCADE", 1, "truncate",
	 "table a, b", 1},
	{"truncate logs", 1, "truncate", "table logs", 1},
	{"ALTER TABLE IF EXISTS s.t DROP COLUMN c", 1, "alter drop",
	 "table s.t", 1},
	{"alter table t add column c int", 1, NULL, NULL, 0},
	{"DROP MATERIALIZED VIEW IF EXISTS mv CASCADE", 1, "drop",
	 "materialized view mv", 1},
	{"drop index concurrently idx_a", 1, "drop", "index idx_a", 1},
	{"DROP DATABASE prod", 1, "drop", "database prod", 1},
	{"drop foreign data wrapper w", 1, "drop", "foreign data wrapper w", 1},
	{"WITH gone AS (DELETE FROM logs RETURNING *) SELECT count(*) FROM "
	 "gone",
	 1, "delete without where", "table logs", 1},
	{"WITH x AS (SELECT 1) DELETE FROM t", 1, "delete without where",
	 "table t", 1},
	{"EXPLAIN DELETE FROM t", 1, NULL, NULL, 0},
	{"EXPLAIN ANALYZE DELETE FROM t", 1, "delete without where", "table t",
	 1},
	{"explain (analyze, buffers) update t set a = 1", 1,
	 "update without where", "table t", 1},
	{"SELECT E'it\\'s; DROP TABLE x'; SELECT 1", 2, NULL, NULL, 0},
	{"SELECT \"weird;name\" FROM t", 1, NULL, NULL, 0},
	{"CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC DELETE "
	 "FROM t; SELECT 1; END; SELECT 3",
	 2, NULL, NULL, 0},
	{"DO $$BEGIN EXECUTE 'DROP TABLE ' || 'x'; END$$", 1, "do block",
	 "do block", 1},
	{"DO $$BEGIN RAISE NOTICE 'hi'; END$$", 1, NULL, NULL, 0},
	{"INSERT INTO t VALUES (1) ON CONFLICT (id) DO UPDATE SET v = 2", 1,
	 NULL, NULL, 0},
	{"CREATE TABLE t (id int REFERENCES u ON DELETE CASCADE ON UPDATE "
	 "CASCADE)",
	 1, NULL, NULL, 0},
	{"SELECT * FROM t FOR UPDATE; GRANT DELETE ON t TO bob", 2, NULL, NULL,
	 0},
	{"SELECT format('DROP TABLE %I', tablename) FROM pg_tables \\gexec", 2,
	 "gexec", "SELECT format('DROP TABLE %I', tablename) FROM pg_tables",
	 1},
	{"\\! rm -rf /tmp/x\nSELECT 1;", 2, "shell command",
	 "shell: rm -rf /tmp/x", 1},
	{"SELECT 1;\n\\set x 1\n\n  -- only a comment\n", 2, NULL, NULL, 0},
	{"DROP TABLE a; DROP TABLE b;", 2, "drop", "table a", 2},
	{"DeLeTe FrOm t wHeRe x", 1, NULL, NULL, 0},
	{"SELECT 1 -- comment ; DROP TABLE x\n; DROP TABLE y", 2, "drop",
	 "table y", 1},
	{"SELECT 'abc; DROP TABLE x", 1, NULL, NULL, 0},
	{"drop table if exists \"My Table\", s.t cascade", 1, "drop",
	 "table \"My Table\", s.t", 1},
	{"CREATE OR REPLACE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC UPDATE t "
	 "SET a = 1; CASE WHEN true THEN 1 END; END; TRUNCATE t",
	 2, "truncate", "table t", 1},
	{"SELECT 1; BEGIN; DELETE FROM t WHERE id = 2; COMMIT", 4, NULL, NULL,
	 0},
	/* In -c, COPY's data comes from stdin, not the text. */
	{"COPY t FROM stdin; DROP TABLE z", 2, "drop", "table z", 1},
};

/* In a file, COPY FROM STDIN's data follows it, up to "\.". */
static void sql_copy_data(void)
{
	static const char sql[] = "COPY t (a, b) FROM stdin;\n"
				  "1\tit's; DROP TABLE data\n"
				  "2\t$$ /* unbalanced\n"
				  "\\.\n"
				  "\\copy u from stdin with csv\n"
				  "x,'; delete from u\n"
				  "\\.\n"
				  "DELETE FROM t;\n";
	struct sd_err err = {0};
	json_t *st = remote_sql_statements(sql, strlen(sql), "data.sql", &err);
	json_t *last = json_array_get(st, json_array_size(st) - 1);

	CHECK_INT(json_array_size(st), 3);
	CHECK_STR(jget(last, "sql"), "DELETE FROM t");
	CHECK_STR(
		jget(json_array_get(json_object_get(last, "flags"), 0), "what"),
		"delete without where");
	json_decref(st);
}

static void sql_lexer(void)
{
	for (size_t i = 0; i < sizeof(sql_cases) / sizeof(*sql_cases); i++) {
		const struct sql_case *c = &sql_cases[i];
		struct sd_err err = {0};
		json_t *st = remote_sql_statements(c->sql, strlen(c->sql), "-c",
						   &err),
		       *s, *f;
		const char *what = NULL, *target = NULL;
		int flags = 0;
		size_t k;

		if (!st) {
			UNIT_FAIL("case %zu: %s", i, err.msg);
			continue;
		}
		json_array_foreach(st, k, s)
		{
			size_t m;

			json_array_foreach(json_object_get(s, "flags"), m, f)
			{
				if (!flags++) {
					what = jget(f, "what");
					target = jget(f, "target");
				}
			}
		}
		if ((int)json_array_size(st) != c->statements ||
		    flags != c->flags ||
		    (c->what && (!what || strcmp(what, c->what))) ||
		    (c->target && (!target || strcmp(target, c->target)))) {
			char *dump = json_dumps(st, JSON_COMPACT);

			UNIT_FAIL("case %zu (%s): got %s", i, c->sql, dump);
			free(dump);
		}
		json_decref(st);
	}
}

static void psql_plans(void)
{
	char main_sql[512], inc[512], *hex;
	struct tool_plan p;
	struct sd_err err;

	write_file("inc.sql", "-- included\nTRUNCATE audit;\n", 0644);
	write_file("main.sql",
		   "BEGIN;\nSELECT 'DROP TABLE nope;';\n"
		   "CREATE FUNCTION g() RETURNS void AS $$\n"
		   "  DELETE FROM t; -- not now\n$$ LANGUAGE sql;\n"
		   "\\ir inc.sql\n"
		   "delete from sessions;\nCOMMIT;\n",
		   0644);
	path_of(main_sql, sizeof(main_sql), "main.sql");
	path_of(inc, sizeof(inc), "inc.sql");
	{
		char *argv[] = {"psql", "-X",	  "-v", "ON_ERROR_STOP=1",
				"-f",	main_sql, NULL};
		json_t *t, *stmts;

		CHECK_INT(plan_for(argv, &p, &err, NULL), 0);
		if (err.msg[0])
			printf("# %s\n", err.msg);
		CHECK_INT(p.fidelity, FIDELITY_PREVIEW);
		CHECK(p.always_confirm);
		CHECK_INT(p.effects.n, 2);
		if (p.effects.n == 2) {
			CHECK_STR(p.effects.v[0].path, "table audit");
			CHECK_STR(p.effects.v[0].detail, "TRUNCATE audit");
			CHECK_INT(p.effects.v[0].type, 'o');
			CHECK_STR(p.effects.v[1].path, "table sessions");
		}
		stmts = json_object_get(p.facts, "statements");
		CHECK_INT(json_array_size(stmts), 7);
		CHECK_STR(json_string_value(json_array_get(stmts, 0)), "BEGIN");
		t = target_kind(&p, "psql");
		hex = (char *)jget(t, "sql_sha256");
		CHECK(hex && strlen(hex) == 64);
		CHECK_INT(json_array_size(json_object_get(t, "files")), 2);
		CHECK_STR(jget(json_array_get(json_object_get(t, "files"), 1),
			       "path"),
			  inc);
		tool_plan_release(&p);
	}
	{
		char *argv[] = {"psql",
				"-Xqc",
				"DROP TABLE x",
				"--command=delete from y where false or true",
				"--command",
				"update z set a = 1",
				NULL};

		CHECK_INT(plan_for(argv, &p, &err, NULL), 0);
		CHECK_INT(p.effects.n, 2);
		if (p.effects.n == 2) {
			CHECK_STR(p.effects.v[0].path, "table x");
			CHECK_STR(p.effects.v[1].path, "table z");
		}
		CHECK(json_object_get(target_kind(&p, "psql"), "file") == NULL);
		tool_plan_release(&p);
	}
	{
		char *argv[] = {"psql", "-c", "SELECT * FROM users", NULL};

		CHECK_INT(plan_for(argv, &p, &err, NULL), 0);
		CHECK_INT(p.effects.n, 0);
		CHECK(!p.always_confirm);
		tool_plan_release(&p);
	}
	{
		char *argv[] = {"psql", "-f", "-", NULL};

		CHECK_INT(plan_for(argv, &p, &err, NULL), -1);
		CHECK_CONTAINS(err.msg, "standard input");
	}
	{
		char *argv[] = {"psql", "--file=/nonexistent.sql", NULL};

		CHECK_INT(plan_for(argv, &p, &err, NULL), -1);
		CHECK_CONTAINS(err.msg, "/nonexistent.sql");
	}
}

/* ------------------------------------------------------------------ */
/* kubectl                                                            */

static const char kubectl_get_json[] =
	"{\n"
	"    \"apiVersion\": \"v1\",\n"
	"    \"items\": [\n"
	"        {\n"
	"            \"apiVersion\": \"apps/v1\",\n"
	"            \"kind\": \"Deployment\",\n"
	"            \"metadata\": {\n"
	"                \"annotations\": {\"deployment.kubernetes.io/"
	"revision\": \"3\"},\n"
	"                \"creationTimestamp\": \"2026-11-02T09:14:07Z\",\n"
	"                \"generation\": 3,\n"
	"                \"labels\": {\"app\": \"web\"},\n"
	"                \"name\": \"web\",\n"
	"                \"namespace\": \"prod\",\n"
	"                \"resourceVersion\": \"918273\",\n"
	"                \"uid\": \"6f1c3a52-0d9e-4b57-9a55-1f3c2b7d8e90\"\n"
	"            },\n"
	"            \"spec\": {\"replicas\": 3},\n"
	"            \"status\": {\"availableReplicas\": 3}\n"
	"        },\n"
	"        {\n"
	"            \"apiVersion\": \"v1\",\n"
	"            \"kind\": \"Service\",\n"
	"            \"metadata\": {\n"
	"                \"name\": \"web\",\n"
	"                \"namespace\": \"prod\",\n"
	"                \"resourceVersion\": \"918001\",\n"
	"                \"uid\": \"0b7e2f11-5c3d-4a8e-b1f2-9d8c7e6a5b43\"\n"
	"            },\n"
	"            \"spec\": {\"type\": \"ClusterIP\"}\n"
	"        }\n"
	"    ],\n"
	"    \"kind\": \"List\",\n"
	"    \"metadata\": {\"resourceVersion\": \"\"}\n"
	"}\n";

static const char kubectl_diff_text[] =
	"diff -u -N /tmp/LIVE-2165355453/apps.v1.Deployment.prod.web "
	"/tmp/MERGED-1486513342/apps.v1.Deployment.prod.web\n"
	"--- /tmp/LIVE-2165355453/apps.v1.Deployment.prod.web\t2026-11-22 "
	"10:02:11.361584410 +0000\n"
	"+++ /tmp/MERGED-1486513342/apps.v1.Deployment.prod.web\t2026-11-22 "
	"10:02:11.365584458 +0000\n"
	"@@ -6,7 +6,7 @@\n"
	"   creationTimestamp: \"2026-11-02T09:14:07Z\"\n"
	"-  generation: 3\n"
	"+  generation: 4\n"
	"   labels:\n"
	"@@ -40,7 +40,7 @@\n"
	"-        image: registry.example.com/web:1.4.2\n"
	"+        image: registry.example.com/web:1.5.0\n"
	"diff -u -N /tmp/LIVE-2165355453/v1.ConfigMap.prod.web.config "
	"/tmp/MERGED-1486513342/v1.ConfigMap.prod.web.config\n"
	"--- /tmp/LIVE-2165355453/v1.ConfigMap.prod.web.config\t2026-11-22 "
	"10:02:11.369584506 +0000\n"
	"+++ /tmp/MERGED-1486513342/v1.ConfigMap.prod.web.config\t2026-11-22 "
	"10:02:11.369584506 +0000\n"
	"@@ -0,0 +1,9 @@\n"
	"+apiVersion: v1\n"
	"+data:\n"
	"+  LOG_LEVEL: info\n"
	"\\ No newline at end of file\n"
	"diff -u -N /tmp/LIVE-2165355453/networking.k8s.io.v1.Ingress.prod.old "
	"/tmp/MERGED-1486513342/networking.k8s.io.v1.Ingress.prod.old\n"
	"--- /tmp/LIVE-2165355453/networking.k8s.io.v1.Ingress.prod.old\t"
	"2026-11-22 10:02:11.369584506 +0000\n"
	"+++ /tmp/MERGED-1486513342/networking.k8s.io.v1.Ingress.prod.old\t"
	"2026-11-22 10:02:11.369584506 +0000\n"
	"@@ -1,20 +0,0 @@\n"
	"-apiVersion: networking.k8s.io/v1\n"
	"-kind: Ingress\n";

static void kubectl_parsers(void)
{
	struct sd_err err = {0};
	json_t *names = json_array(), *changes = json_object(), *objs;

	CHECK_INT(remote_kubectl_names("pod/web-7d4b9c8f6-x2x9q\n"
				       "deployment.apps/web\n"
				       "service/web\n"
				       "clusterrole.rbac.authorization.k8s.io/"
				       "system:web-reader\n",
				       names, &err),
		  0);
	CHECK_INT(json_array_size(names), 4);
	CHECK_STR(json_string_value(json_array_get(names, 1)),
		  "deployment.apps/web");
	CHECK_INT(remote_kubectl_names("No resources found\n", names, &err), 0);
	CHECK_INT(json_array_size(names), 4);
	CHECK_INT(remote_kubectl_names("pod \"web\" deleted (server dry run)\n",
				       names, &err),
		  -1);
	CHECK_STR(err.msg, "cannot parse kubectl's dry run: 'pod \"web\" "
			   "deleted (server dry run)'");

	CHECK_INT(remote_kubectl_diff(kubectl_diff_text, changes, &err), 0);
	CHECK_INT(json_object_size(changes), 3);
	CHECK_STR(json_string_value(
			  json_object_get(changes, "deployment.apps/web")),
		  "update");
	CHECK_STR(json_string_value(
			  json_object_get(changes, "configmap/web.config")),
		  "create");
	CHECK_STR(json_string_value(json_object_get(
			  changes, "ingress.networking.k8s.io/old")),
		  "delete");
	CHECK_INT(remote_kubectl_diff("error: the server could not find the "
				      "requested resource\n",
				      changes, &err),
		  -1);
	CHECK_CONTAINS(err.msg, "cannot parse kubectl's diff");

	objs = remote_kubectl_objects(kubectl_get_json, &err);
	CHECK_INT(json_array_size(objs), 2);
	CHECK_STR(jget(json_array_get(objs, 0), "key"), "deployment.apps/web");
	CHECK_STR(jget(json_array_get(objs, 0), "resourceVersion"), "918273");
	CHECK_STR(jget(json_array_get(objs, 1), "key"), "service/web");
	json_decref(objs);
	objs = remote_kubectl_objects(
		"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
		"\"p\",\"namespace\":\"d\",\"uid\":\"u1\",\"resourceVersion\":"
		"\"7\"}}",
		&err);
	CHECK_INT(json_array_size(objs), 1);
	CHECK_STR(jget(json_array_get(objs, 0), "uid"), "u1");
	json_decref(objs);
	CHECK(remote_kubectl_objects("The connection to the server was "
				     "refused",
				     &err) == NULL);
	CHECK_CONTAINS(err.msg, "cannot parse kubectl get's output");
	json_decref(names);
	json_decref(changes);
}

/* A kubectl stand-in: logs its arguments, prints the recorded output. */
static void fake_kubectl(void)
{
	char script[2048];

	snprintf(script, sizeof(script),
		 "#!/bin/sh\n"
		 "echo \"$*\" >> %s/kubectl.log\n"
		 "case \"$*\" in\n"
		 "*--dry-run=server*)\n"
		 "  [ -n \"$FAIL\" ] && { echo 'E1122 03:19:16.163646   15187 "
		 "memcache.go:265] noise' >&2; echo 'Error from server "
		 "(Forbidden): pods \"web\" is forbidden' >&2; exit 1; }\n"
		 "  case \"$*\" in *delete*) printf 'deployment.apps/web\\n"
		 "service/web\\n';;\n"
		 "  *) printf 'deployment.apps/web\\nconfigmap/web.config\\n"
		 "service/web\\n';; esac;;\n"
		 "*get*) cat %s/get.json;;\n"
		 "diff*) echo \"EXT=$KUBECTL_EXTERNAL_DIFF\" >> "
		 "%s/kubectl.log; cat %s/diff.txt; exit 1;;\n"
		 "esac\n",
		 tmp, tmp, tmp, tmp);
	write_file("bin/kubectl", script, 0755);
	write_file("get.json", kubectl_get_json, 0644);
	write_file("diff.txt", kubectl_diff_text, 0644);
}

static void kubectl_plans(void)
{
	struct tool_plan p;
	struct sd_err err;
	char *log, log_path[512];

	fake_kubectl();
	fake_path(true);
	setenv("KUBECTL_EXTERNAL_DIFF", "colordiff", 1);
	{
		char *argv[] = {"kubectl",	  "-n", "prod",
				"delete",	  "-f", "web.yaml",
				"--wait=false",	  "-o", "json",
				"--grace-period", "5",	NULL};
		json_t *fp;

		CHECK_INT(plan_for(argv, &p, &err, NULL), 0);
		if (err.msg[0])
			printf("# %s\n", err.msg);
		CHECK_INT(p.fidelity, FIDELITY_NATIVE);
		CHECK_INT(p.effects.n, 2);
		if (p.effects.n == 2) {
			CHECK_STR(p.effects.v[0].path, "deployment.apps/web");
			CHECK_STR(p.effects.v[0].detail,
				  "delete (server dry run, namespace prod)");
			CHECK_INT(p.effects.v[0].op, EFFECT_OBJECT);
		}
		fp = target_kind(&p, "kubectl");
		CHECK(jget(fp, "dry_run_sha256") != NULL);
		CHECK_INT(json_array_size(json_object_get(fp, "objects")), 2);
		CHECK_STR(
			jget(json_array_get(json_object_get(fp, "objects"), 0),
			     "uid"),
			"6f1c3a52-0d9e-4b57-9a55-1f3c2b7d8e90");
		CHECK_CONTAINS(p.native, "--dry-run=server -o name");
		tool_plan_release(&p);
		log = slurp("kubectl.log");
		CHECK_CONTAINS(log,
			       "-n prod delete --dry-run=server -o name "
			       "-f web.yaml --wait=false --grace-period 5\n");
		CHECK_CONTAINS(log, "-n prod get -f web.yaml -o json\n");
		free(log);
	}
	{
		char *argv[] = {"kubectl", "apply", "-f",      "k8s/",
				"--prune", "-l",    "app=web", "--force",
				"-n",	   "prod",  NULL};

		path_of(log_path, sizeof(log_path), "kubectl.log");
		unlink(log_path);
		CHECK_INT(plan_for(argv, &p, &err, NULL), 0);
		if (err.msg[0])
			printf("# %s\n", err.msg);
		CHECK_INT(p.effects.n, 3);
		if (p.effects.n == 3) {
			CHECK_STR(p.effects.v[0].path, "deployment.apps/web");
			CHECK_STR(p.effects.v[0].detail,
				  "update (server dry run)");
			CHECK_STR(p.effects.v[1].path, "configmap/web.config");
			CHECK_STR(p.effects.v[1].detail,
				  "create (server dry run)");
			CHECK_STR(p.effects.v[2].path,
				  "ingress.networking.k8s.io/old");
			CHECK_STR(p.effects.v[2].detail,
				  "delete (kubectl diff)");
		}
		CHECK_INT(
			json_array_size(json_object_get(p.facts, "unchanged")),
			1);
		CHECK(jget(p.facts, "diff") != NULL);
		tool_plan_release(&p);
		log = slurp("kubectl.log");
		CHECK_CONTAINS(log, "diff -f k8s/ --prune -l app=web -n prod\n"
				    "EXT=diff -u -N\n");
		free(log);
		CHECK_STR(getenv("KUBECTL_EXTERNAL_DIFF"), "colordiff");
	}
	{
		char *argv[] = {"kubectl", "delete", "pod", "web", NULL};

		setenv("FAIL", "1", 1);
		CHECK_INT(plan_for(argv, &p, &err, NULL), -1);
		unsetenv("FAIL");
		CHECK_STR(err.msg,
			  "kubectl's dry run failed: 'kubectl delete "
			  "--dry-run=server -o name pod web' exited with "
			  "status 1: Error from server (Forbidden): pods "
			  "\"web\" is forbidden");
		CHECK(p.effects.n == 0 && !p.native);
	}
	{
		char *argv[] = {"kubectl", "delete", "-f", "-", NULL};

		CHECK_INT(plan_for(argv, &p, &err, NULL), -1);
		CHECK_CONTAINS(err.msg, "standard input");
	}
	unsetenv("KUBECTL_EXTERNAL_DIFF");
	fake_path(false);
}

/* The real kubectl, against a server that is not there. */
static void kubectl_real_failure(void)
{
	struct tool_plan p;
	struct sd_err err;
	char kc[512];
	char *argv[] = {"kubectl", "delete", "pod", "x", NULL};

	if (!have("kubectl")) {
		printf("# skip: kubectl is not installed\n");
		return;
	}
	write_file("kubeconfig",
		   "apiVersion: v1\nkind: Config\nclusters:\n- cluster: "
		   "{server: \"https://127.0.0.1:1\"}\n  name: c\ncontexts:\n"
		   "- context: {cluster: c, user: u}\n  name: x\n"
		   "current-context: x\nusers:\n- name: u\n  user: {token: "
		   "t}\n",
		   0600);
	path_of(kc, sizeof(kc), "kubeconfig");
	setenv("KUBECONFIG", kc, 1);
	CHECK_INT(plan_for(argv, &p, &err, NULL), -1);
	unsetenv("KUBECONFIG");
	CHECK_CONTAINS(err.msg, "kubectl's dry run failed: 'kubectl delete "
				"--dry-run=server -o name pod x' exited with "
				"status 1: ");
	CHECK_CONTAINS(err.msg, "127.0.0.1:1");
	CHECK(!strstr(err.msg, "memcache.go"));
}

/* ------------------------------------------------------------------ */
/* helm                                                               */

static const char helm_manifest_text[] =
	"---\n"
	"# Source: web/templates/serviceaccount.yaml\n"
	"apiVersion: v1\n"
	"kind: ServiceAccount\n"
	"metadata:\n"
	"  name: web\n"
	"  labels:\n"
	"    helm.sh/chart: web-0.3.1\n"
	"    app.kubernetes.io/managed-by: Helm\n"
	"---\n"
	"# Source: web/templates/pvc.yaml\n"
	"apiVersion: v1\n"
	"kind: PersistentVolumeClaim\n"
	"metadata:\n"
	"  name: web-data\n"
	"  annotations:\n"
	"    \"helm.sh/resource-policy\": keep\n"
	"spec:\n"
	"  accessModes: [ReadWriteOnce]\n"
	"  resources:\n"
	"    requests:\n"
	"      storage: 10Gi\n"
	"---\n"
	"# Source: web/templates/empty.yaml\n"
	"---\n"
	"# Source: web/templates/deployment.yaml\n"
	"apiVersion: apps/v1\n"
	"kind: Deployment\n"
	"metadata:\n"
	"  name: web\n"
	"  namespace: shop\n"
	"spec:\n"
	"  replicas: 2\n"
	"  template:\n"
	"    spec:\n"
	"      containers:\n"
	"        - name: web\n"
	"          image: \"nginx:1.27\"\n"
	"          args: [\"--config\", \"---\"]\n"
	"---\n"
	"# Source: web/templates/list.yaml\n"
	"apiVersion: v1\n"
	"kind: List\n"
	"items:\n"
	"  - apiVersion: v1\n"
	"    kind: ConfigMap\n"
	"    metadata: {name: a}\n"
	"  - apiVersion: networking.k8s.io/v1\n"
	"    kind: Ingress\n"
	"    metadata: {name: web}\n";

static void helm_parsers(void)
{
	struct sd_err err = {0};
	json_t *o = remote_helm_manifest(helm_manifest_text, &err);
	json_int_t rev = 0;

	CHECK(o != NULL);
	if (!o)
		printf("# %s\n", err.msg);
	CHECK_INT(json_array_size(o), 5);
	CHECK_STR(jget(json_array_get(o, 0), "key"), "serviceaccount/web");
	CHECK_STR(jget(json_array_get(o, 1), "key"),
		  "persistentvolumeclaim/web-data");
	CHECK(json_is_true(json_object_get(json_array_get(o, 1), "keep")));
	CHECK_STR(jget(json_array_get(o, 2), "key"), "deployment.apps/web");
	CHECK_STR(jget(json_array_get(o, 2), "namespace"), "shop");
	CHECK_STR(jget(json_array_get(o, 4), "key"),
		  "ingress.networking.k8s.io/web");
	json_decref(o);
	CHECK(remote_helm_manifest("apiVersion: v1\nkind: [oops\n", &err) ==
	      NULL);
	CHECK_CONTAINS(err.msg, "cannot parse helm's manifest");
	CHECK(remote_helm_manifest("apiVersion: v1\nmetadata: {name: x}\n",
				   &err) == NULL);
	CHECK_CONTAINS(err.msg, "document 1 has no kind");

	CHECK_INT(remote_helm_revision(
			  "{\"name\":\"web\",\"info\":{\"first_deployed\":"
			  "\"2026-10-01T08:00:00Z\",\"status\":\"deployed\","
			  "\"description\":\"Upgrade complete\"},\"version\":"
			  "7,\"namespace\":\"shop\"}",
			  &rev, &err),
		  0);
	CHECK_INT(rev, 7);
	CHECK_INT(remote_helm_revision("Error: release: not found", &rev, &err),
		  -1);
}

static void helm_plans(void)
{
	struct tool_plan p;
	struct sd_err err;
	char script[1024], *log;

	snprintf(script, sizeof(script),
		 "#!/bin/sh\n"
		 "echo \"$*\" >> %s/helm.log\n"
		 "case \"$*\" in\n"
		 "'get manifest gone'*) echo 'Error: release: not found' >&2; "
		 "exit 1;;\n"
		 "'get manifest'*) cat %s/manifest.yaml;;\n"
		 "status*) echo '{\"name\":\"web\",\"version\":4}';;\n"
		 "esac\n",
		 tmp, tmp);
	write_file("bin/helm", script, 0755);
	write_file("manifest.yaml", helm_manifest_text, 0644);
	fake_path(true);
	{
		char *argv[] = {"helm",	  "--kube-context",
				"prod",	  "uninstall",
				"web",	  "gone",
				"-n",	  "shop",
				"--wait", "--timeout",
				"5m",	  "--ignore-not-found",
				NULL};
		json_t *fp;

		CHECK_INT(plan_for(argv, &p, &err, NULL), 0);
		if (err.msg[0])
			printf("# %s\n", err.msg);
		CHECK_INT(p.fidelity, FIDELITY_PREVIEW);
		CHECK_INT(p.effects.n, 4);
		if (p.effects.n == 4) {
			CHECK_STR(p.effects.v[0].path, "serviceaccount/web");
			CHECK_STR(p.effects.v[0].detail,
				  "delete (release web)");
		}
		CHECK_STR(json_string_value(json_array_get(
				  json_object_get(p.facts, "kept"), 0)),
			  "persistentvolumeclaim/web-data");
		CHECK_STR(json_string_value(json_array_get(
				  json_object_get(p.facts, "not_found"), 0)),
			  "gone");
		fp = target_kind(&p, "helm");
		CHECK_INT(json_integer_value(json_object_get(fp, "revision")),
			  4);
		CHECK_STR(jget(fp, "namespace"), "shop");
		CHECK_STR(jget(fp, "release"), "web");
		tool_plan_release(&p);
		log = slurp("helm.log");
		CHECK_CONTAINS(log, "get manifest web --kube-context prod -n "
				    "shop\n");
		CHECK_CONTAINS(log, "status web -o json --kube-context prod -n "
				    "shop\n");
		free(log);
	}
	{
		char *argv[] = {"helm", "uninstall", "gone", NULL};

		CHECK_INT(plan_for(argv, &p, &err, NULL), -1);
		CHECK_STR(err.msg, "helm get manifest failed: 'helm get "
				   "manifest gone' exited with status 1: "
				   "Error: release: not found");
	}
	fake_path(false);
}

/* ------------------------------------------------------------------ */
/* terraform                                                          */

static const char tf_show_json[] =
	"{\"format_version\":\"1.2\",\"terraform_version\":\"1.11.4\","
	"\"resource_changes\":["
	"{\"address\":\"aws_instance.web[0]\",\"mode\":\"managed\",\"type\":"
	"\"aws_instance\",\"name\":\"web\",\"index\":0,\"change\":{\"actions\":"
	"[\"delete\",\"create\"],\"before\":{\"ami\":\"ami-1\"},\"after\":{"
	"\"ami\":\"ami-2\"}},\"action_reason\":\"replace_because_cannot_"
	"update\"},"
	"{\"address\":\"aws_s3_bucket.logs\",\"change\":{\"actions\":["
	"\"no-op\"]}},"
	"{\"address\":\"data.aws_ami.ubuntu\",\"mode\":\"data\",\"change\":{"
	"\"actions\":[\"read\"]}},"
	"{\"address\":\"module.db.aws_db_instance.main\",\"change\":{"
	"\"actions\":[\"update\"]}},"
	"{\"address\":\"aws_iam_role.old\",\"change\":{\"actions\":["
	"\"delete\"]}},"
	"{\"address\":\"random_id.suffix\",\"change\":{\"actions\":["
	"\"create\"]}}],"
	"\"timestamp\":\"2026-11-22T03:16:53Z\",\"applyable\":true,"
	"\"complete\":true,\"errored\":false}";

static void terraform_parser(void)
{
	struct sd_err err = {0};
	json_t *ch = remote_terraform_changes(tf_show_json, &err);

	CHECK_INT(json_array_size(ch), 4);
	CHECK_STR(jget(json_array_get(ch, 0), "address"),
		  "aws_instance.web[0]");
	CHECK_STR(jget(json_array_get(ch, 0), "actions"), "delete, create");
	CHECK_STR(jget(json_array_get(ch, 1), "actions"), "update");
	CHECK_STR(jget(json_array_get(ch, 2), "actions"), "delete");
	CHECK_STR(jget(json_array_get(ch, 3), "actions"), "create");
	json_decref(ch);
	CHECK(remote_terraform_changes("{\"errored\":true}", &err) == NULL);
	CHECK(remote_terraform_changes("Error: no plan", &err) == NULL);
	CHECK_CONTAINS(err.msg, "cannot parse terraform show's output");
	ch = remote_terraform_changes("{\"format_version\":\"1.2\"}", &err);
	CHECK_INT(json_array_size(ch), 0);
	json_decref(ch);
}

/* terraform for real, with terraform_data (built in: no provider to
 * download) and local state. */
static void terraform_real(void)
{
	struct tool_plan p;
	struct sd_err err;
	char dir[512], chdir_arg[600];

	if (!have("terraform")) {
		printf("# skip: terraform is not installed\n");
		return;
	}
	path_of(dir, sizeof(dir), "tf");
	mkdir(dir, 0755);
	write_file("tf/main.tf",
		   "variable \"n\" { default = \"a\" }\n"
		   "resource \"terraform_data\" \"one\" { input = var.n }\n"
		   "resource \"terraform_data\" \"two\" { input = \"x\" }\n",
		   0644);
	if (sh("cd '%s' && terraform init -input=false >/dev/null 2>&1 && "
	       "terraform apply -input=false -auto-approve >/dev/null 2>&1",
	       dir)) {
		printf("# skip: terraform init or apply failed here\n");
		return;
	}
	snprintf(chdir_arg, sizeof(chdir_arg), "-chdir=%s", dir);
	{
		char *argv[] = {"terraform",	    chdir_arg, "apply",
				"-auto-approve",    "-var",    "n=b",
				"-lock-timeout=5s", NULL};
		char want[700], plan[600];
		json_t *fp;

		CHECK_INT(plan_for(argv, &p, &err, NULL), 0);
		if (err.msg[0])
			printf("# %s\n", err.msg);
		CHECK_INT(p.fidelity, FIDELITY_NATIVE);
		CHECK_INT(p.effects.n, 1);
		if (p.effects.n == 1) {
			CHECK_STR(p.effects.v[0].path, "terraform_data.one");
			CHECK_STR(p.effects.v[0].detail, "update");
		}
		snprintf(plan, sizeof(plan), "%s/tfplan", tmp);
		CHECK(p.apply_argv != NULL);
		if (p.apply_argv) {
			CHECK_STR(p.apply_argv[0], "terraform");
			CHECK_STR(p.apply_argv[1], chdir_arg);
			CHECK_STR(p.apply_argv[2], "apply");
			CHECK_STR(p.apply_argv[3], "-input=false");
			CHECK_STR(p.apply_argv[4], "-lock-timeout=5s");
			CHECK_STR(p.apply_argv[5], plan);
			CHECK(p.apply_argv[6] == NULL);
		}
		snprintf(want, sizeof(want), "-out=%s", plan);
		CHECK_CONTAINS(p.native, want);
		CHECK_CONTAINS(p.native, "-var n=b");
		CHECK(!strstr(p.native, "auto-approve"));
		fp = target_kind(&p, "terraform");
		CHECK_STR(jget(fp, "tfplan"), plan);
		/* What would change, not the saved file (terraform stamps
		 * it): a plan made again binds the same. */
		CHECK(jget(fp, "changes_sha256") &&
		      strlen(jget(fp, "changes_sha256")) == 64);
		CHECK(!jget(fp, "tfplan_sha256"));
		CHECK_INT(json_integer_value(json_object_get(
				  json_object_get(p.facts, "terraform"),
				  "change")),
			  1);
		tool_plan_release(&p);
	}
	{
		char *argv[] = {"terraform", chdir_arg, "destroy", NULL};

		CHECK_INT(plan_for(argv, &p, &err, NULL), 0);
		CHECK_INT(p.effects.n, 2);
		if (p.effects.n == 2)
			CHECK_STR(p.effects.v[0].detail, "delete");
		tool_plan_release(&p);
	}
	{
		char *argv[] = {"terraform", chdir_arg,	 "apply",
				"-var",	     "nosuch=1", NULL};

		CHECK_INT(plan_for(argv, &p, &err, NULL), -1);
		CHECK_CONTAINS(err.msg, "terraform plan failed: ");
		CHECK_CONTAINS(err.msg, "Error: ");
	}
}

/* ------------------------------------------------------------------ */
/* aws                                                                */

static void aws_parser(void)
{
	struct effects e = {0};
	struct sd_err err = {0};
	char want[600];

	write_file("exists.txt", "12345", 0644);
	CHECK_INT(remote_aws_dryrun(
			  "(dryrun) delete: s3://logs-prod/2026/11/01/app.log\n"
			  "(dryrun) delete: s3://logs-prod/2026/11/01/a to b."
			  "log\n"
			  "(dryrun) upload: site/index.html to "
			  "s3://www-bucket/index.html\n"
			  "(dryrun) upload: notes to self.txt to "
			  "s3://www-bucket/notes to self.txt\n"
			  "Completed 1 file(s) with 3 file(s) remaining\r"
			  "(dryrun) download: s3://b/k/exists.txt to "
			  "exists.txt   \n"
			  "(dryrun) copy: s3://a/x to s3://b/x\n"
			  "(dryrun) delete: old/local.txt\n",
			  tmp, &e, &err),
		  0);
	CHECK_INT(e.n, 7);
	if (e.n == 7) {
		CHECK_INT(e.v[0].op, EFFECT_OBJECT);
		CHECK_STR(e.v[0].path, "s3://logs-prod/2026/11/01/app.log");
		CHECK_STR(e.v[0].detail, "delete (dry run)");
		CHECK_STR(e.v[1].path, "s3://logs-prod/2026/11/01/a to b.log");
		CHECK_STR(e.v[2].path, "s3://www-bucket/index.html");
		CHECK_STR(e.v[2].detail,
			  "upload from site/index.html (dry run)");
		CHECK_STR(e.v[3].path, "s3://www-bucket/notes to self.txt");
		CHECK_INT(e.v[4].op, EFFECT_OVERWRITE);
		snprintf(want, sizeof(want), "%s/exists.txt", tmp);
		CHECK_STR(e.v[4].path, want);
		CHECK_INT(e.v[4].bytes, 5);
		CHECK_STR(e.v[5].path, "s3://b/x");
		CHECK_INT(e.v[6].op, EFFECT_DELETE);
	}
	effects_release(&e);
	CHECK_INT(remote_aws_dryrun("(dryrun) delete: s3://b/k\n"
				    "fatal error: An error occurred "
				    "(AccessDenied)\n",
				    tmp, &e, &err),
		  -1);
	CHECK_STR(err.msg, "cannot parse aws's dry run: 'fatal error: An error "
			   "occurred (AccessDenied)'");
	effects_release(&e);
	/* Two places to split and neither has the same name on both sides:
	 * say so, never guess. */
	CHECK_INT(remote_aws_dryrun("(dryrun) download: s3://b/a to a to a\n",
				    tmp, &e, &err),
		  -1);
	CHECK_CONTAINS(err.msg, "cannot parse aws's dry run");
	effects_release(&e);
}

static void aws_plans(void)
{
	struct tool_plan p;
	struct sd_err err;
	char script[1024], *log;

	snprintf(script, sizeof(script),
		 "#!/bin/sh\n"
		 "echo \"$*\" >> %s/aws.log\n"
		 "printf '(dryrun) delete: s3://b/logs/a.log\\n"
		 "(dryrun) delete: s3://b/logs/b.log\\n'\n",
		 tmp);
	write_file("bin/aws", script, 0755);
	fake_path(true);
	{
		char *argv[] = {"aws",	       "--region", "eu-west-1",
				"s3",	       "rm",	   "s3://b/logs/",
				"--recursive", "--quiet",  NULL};

		CHECK_INT(plan_for(argv, &p, &err, NULL), 0);
		CHECK_INT(p.effects.n, 2);
		CHECK_INT(p.fidelity, FIDELITY_NATIVE);
		CHECK(jget(target_kind(&p, "aws-s3"), "dryrun_sha256") != NULL);
		tool_plan_release(&p);
		log = slurp("aws.log");
		CHECK_STR(log, "--region eu-west-1 s3 rm --dryrun s3://b/logs/ "
			       "--recursive\n");
		free(log);
	}
	fake_path(false);
}

/* ------------------------------------------------------------------ */

/* Not installed: what tools_capture says (127), passed on. */
static void not_installed(void)
{
	char *kubectl[] = {"kubectl", "delete", "pod", "x", NULL};
	char *helm[] = {"helm", "uninstall", "web", NULL};
	char *tf[] = {"terraform", "destroy", NULL};
	char *aws[] = {"aws", "s3", "rm", "s3://b/k", NULL};
	char *const *all[] = {kubectl, helm, tf, aws};
	char empty[512];
	struct tool_plan p;
	struct sd_err err;

	path_of(empty, sizeof(empty), "empty");
	mkdir(empty, 0755);
	setenv("PATH", empty, 1);
	for (size_t i = 0; i < 4; i++) {
		CHECK_INT(plan_for(all[i], &p, &err, NULL), -1);
		CHECK_INT(err.code, 127);
		CHECK_CONTAINS(err.msg, "cannot run '");
		CHECK(p.effects.n == 0 && !p.targets && !p.native);
	}
	fake_path(false);
}

static void error_lines(void)
{
	char *l;

	l = remote_error_line("E1122 03:19:16.163646   15187 memcache.go:265] "
			      "\"Unhandled Error\"\nThe connection to the "
			      "server 127.0.0.1:1 was refused - did you "
			      "specify the right host or port?\n",
			      "");
	CHECK_STR(l, "The connection to the server 127.0.0.1:1 was refused - "
		     "did you specify the right host or port?");
	free(l);
	l = remote_error_line("There are some problems with the CLI "
			      "configuration:\n\xe2\x95\xb7\n\xe2\x94\x82 "
			      "Error: Value for undeclared variable\n"
			      "\xe2\x94\x82\n",
			      "");
	CHECK_STR(l, "Error: Value for undeclared variable");
	free(l);
	l = remote_error_line("", "oops\n");
	CHECK_STR(l, "oops");
	free(l);
}

int main(void)
{
	const char *path = getenv("PATH");

	snprintf(saved_path, sizeof(saved_path), "%s",
		 path ? path : "/usr/bin:/bin:/usr/sbin:/sbin");
	snprintf(tmp, sizeof(tmp), "%s", unit_mkdtemp("toolsremote"));
	if (!getcwd(cwd, sizeof(cwd)))
		return 99;
	path_of(cwd, sizeof(cwd), "bin");
	mkdir(cwd, 0755);
	snprintf(cwd, sizeof(cwd), "%s", tmp);
	make_image();
	attach_loop();

	RUN(table_matches, "the table matches the destructive forms only");
	RUN(image_file, "dd, mkfs and wipefs on an image file");
	RUN(loop_device, "a loop device: type, size, signature, holders");
	RUN(mounted_is_refused, "a mounted device is refused");
	RUN(partition_mounted_is_refused,
	    "a disk with a mounted partition is refused");
	RUN(blkid_parser, "blkid's export format");
	RUN(wipefs_parser, "wipefs's dry run lines");
	RUN(sql_lexer, "psql: statements split and flagged");
	RUN(sql_copy_data, "psql: COPY FROM STDIN data in a file skipped");
	RUN(psql_plans, "psql: -c, -f and \\ir planned");
	RUN(kubectl_parsers, "kubectl: names, diff and get parsed");
	RUN(kubectl_plans, "kubectl: delete and apply planned");
	RUN(kubectl_real_failure, "kubectl: a failed dry run says why");
	RUN(helm_parsers, "helm: manifest and status parsed");
	RUN(helm_plans, "helm: uninstall planned");
	RUN(terraform_parser, "terraform: show -json parsed");
	RUN(terraform_real, "terraform: a saved plan, applied");
	RUN(aws_parser, "aws: the dry run listing parsed");
	RUN(aws_plans, "aws: s3 rm planned with --dryrun");
	RUN(not_installed, "tools that are not installed: 127");
	RUN(error_lines, "the line that says why a preview failed");

	if (loopdev[0] && sh("losetup -d '%s'", loopdev))
		printf("# could not detach %s\n", loopdev);
	UNIT_DONE();
}
