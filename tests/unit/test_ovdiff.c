/* Unit tests for lib/ovdiff.c: real overlays (userxattr, in a user and
 * mount namespace, as saferun's sandbox mounts them), the effects read
 * from their upper layers, and the commit: the host ends as the same script
 * run directly would leave it, and a stale host is refused untouched. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "effects.h"
#include "fprint.h"
#include "ovdiff.h"
#include "unit.h"

static char base[256];
static int sandbox_state; /* 0 unknown, 1 works, -1 cannot mount here */

/* One scenario's directories: the host tree, the overlay's upper, work and
 * mount directories, and a reference tree where the script runs directly. */
struct scen {
	char host[512], up[512], wk[512], mnt[512], ref[512];
};

static void xmkdir(const char *p, mode_t mode)
{
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		UNIT_FAIL("mkdir %s: %s", p, strerror(errno));
	chmod(p, mode);
}

static void scen_init(struct scen *s, const char *name)
{
	char d[400];

	snprintf(d, sizeof(d), "%s/%s", base, name);
	xmkdir(d, 0755);
	snprintf(s->host, sizeof(s->host), "%s/host", d);
	snprintf(s->up, sizeof(s->up), "%s/up", d);
	snprintf(s->wk, sizeof(s->wk), "%s/wk", d);
	snprintf(s->mnt, sizeof(s->mnt), "%s/mnt", d);
	snprintf(s->ref, sizeof(s->ref), "%s/ref", d);
	xmkdir(s->host, 0755);
	xmkdir(s->up, 0755);
	xmkdir(s->wk, 0755);
	xmkdir(s->mnt, 0755);
	xmkdir(s->ref, 0755);
}

static void join(char *out, size_t n, const char *dir, const char *rel)
{
	if ((size_t)snprintf(out, n, "%s/%s", dir, rel) >= n)
		UNIT_FAIL("path too long: %s/%s", dir, rel);
}

static void put(const char *dir, const char *rel, const char *content,
		mode_t mode)
{
	char p[1024];
	int fd;

	join(p, sizeof(p), dir, rel);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 ||
	    write(fd, content, strlen(content)) != (ssize_t)strlen(content)) {
		UNIT_FAIL("write %s: %s", p, strerror(errno));
	}
	if (fd >= 0) {
		fchmod(fd, mode);
		close(fd);
	}
}

static void mkd(const char *dir, const char *rel)
{
	char p[1024];

	join(p, sizeof(p), dir, rel);
	xmkdir(p, 0755);
}

/* Run script with sh in dir, directly: the reference. */
static int run_direct(const char *dir, const char *script)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		if (chdir(dir) < 0)
			_exit(126);
		execl("/bin/sh", "sh", "-c", script, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static int write_proc(pid_t pid, const char *file, const char *text)
{
	char p[64];
	int fd, rc;

	snprintf(p, sizeof(p), "/proc/%d/%s", (int)pid, file);
	fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = write(fd, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : -1;
	close(fd);
	return rc;
}

/* The child's id maps: every id to itself (root can), else only this
 * process's own uid and gid. */
static int write_maps(pid_t pid)
{
	char map[64];

	if (write_proc(pid, "uid_map", "0 0 4294967295") == 0 &&
	    write_proc(pid, "gid_map", "0 0 4294967295") == 0)
		return 0;
	snprintf(map, sizeof(map), "%u %u 1", (unsigned)geteuid(),
		 (unsigned)geteuid());
	if (write_proc(pid, "uid_map", map) < 0)
		return -1;
	write_proc(pid, "setgroups", "deny");
	snprintf(map, sizeof(map), "%u %u 1", (unsigned)getegid(),
		 (unsigned)getegid());
	return write_proc(pid, "gid_map", map);
}

/* Run script with sh in a copy-on-write view of s->host: a child in new
 * user and mount namespaces (its id maps written by this process) mounts
 * the overlay as an unprivileged sandbox does. 0 when the script succeeded, 77 when no
 * overlay can be mounted here. */
static int run_sandbox(const struct scen *s, const char *script)
{
	int up[2], down[2], status;
	char opts[2048], c = 0;
	pid_t pid;

	if (pipe(up) < 0 || pipe(down) < 0)
		return -1;
	snprintf(opts, sizeof(opts),
		 "userxattr,lowerdir=%s,upperdir=%s,"
		 "workdir=%s",
		 s->host, s->up, s->wk);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(up[0]);
		close(down[1]);
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
			_exit(77);
		if (write(up[1], "u", 1) != 1 || read(down[0], &c, 1) != 1 ||
		    c != 'm')
			_exit(77);
		/* "none" rather than NULL: valgrind reports a NULL type. */
		if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0)
			_exit(77);
		if (mount("overlay", s->mnt, "overlay", 0, opts) < 0)
			_exit(77);
		if (chdir(s->mnt) < 0)
			_exit(126);
		execl("/bin/sh", "sh", "-c", script, (char *)NULL);
		_exit(127);
	}
	close(up[1]);
	close(down[0]);
	if (pid < 0) {
		close(up[0]);
		close(down[1]);
		return -1;
	}
	if (read(up[0], &c, 1) == 1) {
		c = write_maps(pid) == 0 ? 'm' : 'x';
		if (write(down[1], &c, 1) != 1)
			c = 'x';
	}
	close(up[0]);
	close(down[1]);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	/* overlayfs leaves its work directory mode 0: let rm -rf in. */
	snprintf(opts, sizeof(opts), "%s/work", s->wk);
	chmod(opts, 0700);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* run_sandbox, deciding once whether this machine can: false (and a skip
 * line) when it cannot. */
static bool sandbox(const struct scen *s, const char *script)
{
	int rc;

	if (sandbox_state < 0) {
		printf("# skip: no overlay in a user namespace here\n");
		return false;
	}
	rc = run_sandbox(s, script);
	if (rc == 77 && sandbox_state == 0) {
		sandbox_state = -1;
		printf("# skip: no overlay in a user namespace here\n");
		return false;
	}
	sandbox_state = 1;
	if (rc != 0)
		UNIT_FAIL("the script in the sandbox exited with %d", rc);
	return rc == 0;
}

/* Compare two trees: names, types, permission bits, contents, symlink
 * targets. The number of differences (the first few are reported). */
static int tree_diff(const char *a, const char *b, int *budget)
{
	struct dirent **na = NULL, **nb = NULL;
	int ca = scandir(a, &na, NULL, alphasort);
	int cb = scandir(b, &nb, NULL, alphasort);
	int diff = 0, i = 0, j = 0;

	if (ca < 0 || cb < 0) {
		UNIT_FAIL("cannot read %s or %s", a, b);
		diff = 1;
		goto out;
	}
	while (i < ca || j < cb) {
		const char *x = i < ca ? na[i]->d_name : NULL;
		const char *y = j < cb ? nb[j]->d_name : NULL;
		char pa[4096], pb[4096];
		struct stat sa, sb;
		int c;

		if (x && (!strcmp(x, ".") || !strcmp(x, ".."))) {
			i++;
			continue;
		}
		if (y && (!strcmp(y, ".") || !strcmp(y, ".."))) {
			j++;
			continue;
		}
		c = !x ? 1 : !y ? -1 : strcmp(x, y);
		if (c) {
			diff++;
			if ((*budget)-- > 0)
				UNIT_FAIL("'%s' only in %s", c < 0 ? x : y,
					  c < 0 ? a : b);
			if (c < 0)
				i++;
			else
				j++;
			continue;
		}
		snprintf(pa, sizeof(pa), "%s/%s", a, x);
		snprintf(pb, sizeof(pb), "%s/%s", b, y);
		i++;
		j++;
		if (lstat(pa, &sa) < 0 || lstat(pb, &sb) < 0) {
			diff++;
			continue;
		}
		if ((sa.st_mode & S_IFMT) != (sb.st_mode & S_IFMT) ||
		    (!S_ISLNK(sa.st_mode) &&
		     (sa.st_mode & 07777) != (sb.st_mode & 07777))) {
			diff++;
			if ((*budget)-- > 0)
				UNIT_FAIL("%s is %o, %s is %o", pa,
					  (unsigned)sa.st_mode, pb,
					  (unsigned)sb.st_mode);
			continue;
		}
		if (S_ISDIR(sa.st_mode)) {
			diff += tree_diff(pa, pb, budget);
		} else if (S_ISREG(sa.st_mode) || S_ISLNK(sa.st_mode)) {
			char ta[4096] = "", tb[4096] = "";
			bool same;

			if (S_ISLNK(sa.st_mode)) {
				(void)!readlink(pa, ta, sizeof(ta) - 1);
				(void)!readlink(pb, tb, sizeof(tb) - 1);
				same = !strcmp(ta, tb);
			} else {
				FILE *fa = fopen(pa, "rb"),
				     *fb = fopen(pb, "rb");
				int ka, kb;

				same = fa && fb;
				while (same) {
					ka = getc(fa);
					kb = getc(fb);
					if (ka != kb)
						same = false;
					if (ka == EOF)
						break;
				}
				if (fa)
					fclose(fa);
				if (fb)
					fclose(fb);
			}
			if (!same) {
				diff++;
				if ((*budget)-- > 0)
					UNIT_FAIL("%s and %s differ", pa, pb);
			}
		}
	}
out:
	for (int k = 0; k < ca; k++)
		free(na[k]);
	for (int k = 0; k < cb; k++)
		free(nb[k]);
	free(na);
	free(nb);
	return diff;
}

#define CHECK_SAME_TREE(a, b)                                                  \
	do {                                                                   \
		int budget = 8;                                                \
		int unit_d = tree_diff((a), (b), &budget);                     \
		if (unit_d)                                                    \
			UNIT_FAIL("%d differences between %s and %s", unit_d,  \
				  (a), (b));                                   \
	} while (0)

/* With OVDIFF_DUMP set, the effects and fingerprints of each analysis as
 * TAP comments. */
static void dump(const struct effects *e, json_t *t)
{
	char *s, *j;

	if (!getenv("OVDIFF_DUMP"))
		return;
	s = effects_summary(e, true, 0, NULL);
	j = json_dumps(t, JSON_INDENT(1) | JSON_SORT_KEYS);
	printf("# %s\n# %s\n", s ? s : "", j ? j : "");
	free(s);
	free(j);
}

/* The effect op at host + "/" + rel, or NULL. */
static const struct effect *find(const struct effects *e, enum effect_op op,
				 const char *host, const char *rel)
{
	char p[1024];

	join(p, sizeof(p), host, rel);
	for (size_t i = 0; i < e->n; i++)
		if (e->v[i].op == op && !strcmp(e->v[i].path, p))
			return &e->v[i];
	return NULL;
}

#define CHECK_EFFECT(e, op, host, rel, type_, files_, bytes_, detail_)         \
	do {                                                                   \
		const struct effect *unit_x = find((e), (op), (host), (rel));  \
		if (!unit_x) {                                                 \
			UNIT_FAIL("no %s effect for %s", effect_op_name(op),   \
				  (rel));                                      \
			break;                                                 \
		}                                                              \
		CHECK_INT(unit_x->type, (type_));                              \
		CHECK_INT(unit_x->files, (files_));                            \
		CHECK_INT(unit_x->bytes, (bytes_));                            \
		if ((detail_) != NULL)                                         \
			CHECK_STR(unit_x->detail, (const char *)(detail_));    \
		else                                                           \
			CHECK(!unit_x->detail);                                \
	} while (0)

/* The fingerprint of host + "/" + rel in targets, or NULL. */
static json_t *target(json_t *targets, const char *host, const char *rel)
{
	char p[1024];
	size_t i;
	json_t *t;

	join(p, sizeof(p), host, rel);
	json_array_foreach(targets, i, t)
	{
		const char *tp = json_string_value(json_object_get(t, "path"));

		if (tp && !strcmp(tp, p))
			return t;
	}
	return NULL;
}

/* The tree of the main scenario, and what the command does to it. */
static void main_tree(const char *d)
{
	put(d, "a.txt", "alpha content\n", 0644);
	put(d, "mod.txt", "original\n", 0644);
	put(d, "del.txt", "to delete\n", 0644);
	mkd(d, "gone");
	put(d, "gone/f1", "1", 0644);
	put(d, "gone/f2", "22", 0644);
	put(d, "gone/f3", "333", 0644);
	mkd(d, "re");
	put(d, "re/r", "r\n", 0644);
	mkd(d, "dir1");
	put(d, "dir1/q", "q content\n", 0644);
	mkd(d, "dir1/sub");
	put(d, "dir1/sub/z", "zzz\n", 0600);
	put(d, "f", "mode only\n", 0644);
	put(d, "both", "both\n", 0644);
	put(d, "touched", "t\n", 0644);
	put(d, "keep", "unchanged\n", 0644);
	mkd(d, "deep");
	mkd(d, "deep/er");
	put(d, "deep/er/x", "x\n", 0644);
}

static const char main_script[] =
	"set -e\n"
	"echo new > created.txt\n"
	"echo more >> mod.txt\n"
	"rm del.txt\n"
	"rm -rf gone\n"
	"rm -r re; mkdir re; echo x > re/new\n"
	"mv a.txt b.txt\n"
	"mv dir1 dir2\n"
	"chmod 600 f\n"
	"echo changed >> both; chmod 640 both\n"
	"ln -s b.txt link\n"
	"mkdir newdir newdir/deeper; echo aa > newdir/one\n"
	"echo bbb > newdir/deeper/two\n"
	"touch -d @1000000000 touched\n"
	"echo y > deep/er/y\n";

static void check_main_effects(const struct effects *e, const char *h)
{
	char to[1024];
	const struct effect *x;

	CHECK_INT(e->n, 15);
	x = find(e, EFFECT_RENAME, h, "a.txt");
	CHECK(x != NULL);
	if (x) {
		join(to, sizeof(to), h, "b.txt");
		CHECK_STR(x->to, to);
		CHECK_INT(x->type, 'f');
		CHECK_INT(x->bytes, 14);
	}
	x = find(e, EFFECT_RENAME, h, "dir1");
	CHECK(x != NULL);
	if (x) {
		join(to, sizeof(to), h, "dir2");
		CHECK_STR(x->to, to);
		CHECK_INT(x->type, 'd');
		CHECK_INT(x->files, 4);
		CHECK_INT(x->bytes, 14);
	}
	CHECK_EFFECT(e, EFFECT_MODIFY, h, "both", 'f', 1, 13, NULL);
	CHECK_EFFECT(e, EFFECT_MODE, h, "both", 'f', 1, 0, "0644 -> 0640");
	CHECK_EFFECT(e, EFFECT_CREATE, h, "created.txt", 'f', 1, 4, NULL);
	CHECK_EFFECT(e, EFFECT_DELETE, h, "del.txt", 'f', 1, 10, NULL);
	CHECK_EFFECT(e, EFFECT_MODE, h, "f", 'f', 1, 0, "0644 -> 0600");
	CHECK(!find(e, EFFECT_MODIFY, h, "f"));
	CHECK_EFFECT(e, EFFECT_DELETE, h, "gone", 'd', 4, 6, NULL);
	CHECK_EFFECT(e, EFFECT_CREATE, h, "link", 'l', 1, 0, NULL);
	CHECK_EFFECT(e, EFFECT_MODIFY, h, "mod.txt", 'f', 1, 14, NULL);
	CHECK_EFFECT(e, EFFECT_CREATE, h, "newdir", 'd', 4, 7, NULL);
	CHECK(!find(e, EFFECT_CREATE, h, "newdir/one"));
	CHECK_EFFECT(e, EFFECT_DELETE, h, "re", 'd', 2, 2, NULL);
	CHECK_EFFECT(e, EFFECT_CREATE, h, "re", 'd', 2, 2, NULL);
	CHECK_EFFECT(e, EFFECT_MODIFY, h, "touched", 'f', 1, 2,
		     OVDIFF_TIMES_ONLY);
	CHECK_EFFECT(e, EFFECT_CREATE, h, "deep/er/y", 'f', 1, 2, NULL);
	CHECK(!find(e, EFFECT_DELETE, h, "a.txt"));
	CHECK(!find(e, EFFECT_CREATE, h, "b.txt"));
	CHECK(!find(e, EFFECT_CREATE, h, "dir2"));
	CHECK(!find(e, EFFECT_MODIFY, h, "keep"));
	/* Sorted: by path, then operation. */
	for (size_t i = 1; i < e->n; i++) {
		int c = strcmp(e->v[i - 1].path, e->v[i].path);

		CHECK(c < 0 || (c == 0 && e->v[i - 1].op < e->v[i].op));
	}
}

static void check_main_targets(json_t *t, const char *h)
{
	json_t *x;

	CHECK(json_is_array(t));
	/* a.txt b.txt both created.txt deep/er/y del.txt dir1 dir2 f gone
	 * link mod.txt newdir re touched */
	CHECK_INT(json_array_size(t), 15);
	x = target(t, h, "created.txt");
	CHECK(x && json_is_true(json_object_get(x, "absent")));
	x = target(t, h, "b.txt");
	CHECK(x && json_is_true(json_object_get(x, "absent")));
	x = target(t, h, "dir2");
	CHECK(x && json_is_true(json_object_get(x, "absent")));
	x = target(t, h, "gone");
	CHECK(x && json_integer_value(json_object_get(x, "entries")) == 3 &&
	      json_object_get(x, "digest"));
	x = target(t, h, "dir1");
	CHECK(x && json_object_get(x, "digest"));
	x = target(t, h, "re");
	CHECK(x && json_object_get(x, "digest"));
	x = target(t, h, "mod.txt");
	CHECK(x && !json_object_get(x, "absent") &&
	      json_integer_value(json_object_get(x, "size")) == 9);
	x = target(t, h, "f");
	CHECK(x && !json_object_get(x, "absent"));
	CHECK(!target(t, h, "keep"));
	CHECK(!target(t, h, "deep"));
	for (size_t i = 1; i < json_array_size(t); i++)
		CHECK(strcmp(json_string_value(json_object_get(
				     json_array_get(t, i - 1), "path")),
			     json_string_value(json_object_get(
				     json_array_get(t, i), "path"))) < 0);
}

static void analyses_and_commits_a_run(void)
{
	struct scen s;
	struct ovdiff_layer l;
	struct effects e = {0};
	json_t *t = NULL;
	struct sd_err err = {0};
	char p[1024];
	struct stat st;

	scen_init(&s, "main");
	main_tree(s.host);
	main_tree(s.ref);
	if (!sandbox(&s, main_script))
		return;
	/* Nothing reached the host. */
	{
		char copy[600];
		int budget = 8;

		snprintf(copy, sizeof(copy), "%s/../orig", s.host);
		xmkdir(copy, 0755);
		main_tree(copy);
		CHECK_INT(tree_diff(s.host, copy, &budget), 0);
	}
	l.host = s.host;
	l.upper = s.up;
	if (ovdiff_analyse(&l, 1, &e, &t, &err) < 0) {
		UNIT_FAIL("ovdiff_analyse: %s", err.msg);
		return;
	}
	dump(&e, t);
	check_main_effects(&e, s.host);
	check_main_targets(t, s.host);

	/* Again: the same effects, the same fingerprints. */
	{
		struct effects e2 = {0};
		json_t *t2 = NULL, *j1, *j2;

		CHECK_INT(ovdiff_analyse(&l, 1, &e2, &t2, &err), 0);
		j1 = effects_json(&e);
		j2 = effects_json(&e2);
		CHECK(json_equal(j1, j2));
		CHECK(json_equal(t, t2));
		json_decref(j1);
		json_decref(j2);
		json_decref(t2);
		effects_release(&e2);
	}

	/* The commit leaves the host as the script run directly does. */
	CHECK_INT(run_direct(s.ref, main_script), 0);
	if (ovdiff_commit(&l, 1, &e, t, &err) < 0)
		UNIT_FAIL("ovdiff_commit: %s", err.msg);
	CHECK_SAME_TREE(s.host, s.ref);
	join(p, sizeof(p), s.host, "touched");
	CHECK(lstat(p, &st) == 0 && st.st_mtime == 1000000000);
	/* No temporary entry is left. */
	{
		DIR *d = opendir(s.host);
		struct dirent *de;

		while (d && (de = readdir(d)))
			CHECK(strncmp(de->d_name, ".saferun.", 9));
		if (d)
			closedir(d);
	}
	json_decref(t);
	effects_release(&e);
}

static void a_stale_host_is_refused_untouched(void)
{
	struct scen s;
	struct ovdiff_layer l;
	struct effects e = {0};
	json_t *t = NULL;
	struct sd_err err = {0};
	char snap[600], cmd[1300], p[1024];
	json_t *before;

	scen_init(&s, "stale");
	main_tree(s.host);
	if (!sandbox(&s, main_script))
		return;
	l.host = s.host;
	l.upper = s.up;
	if (ovdiff_analyse(&l, 1, &e, &t, &err) < 0) {
		UNIT_FAIL("ovdiff_analyse: %s", err.msg);
		return;
	}
	/* Meanwhile, on the host: an edit of a file the command modifies, a
	 * new file in the directory it deletes. */
	join(p, sizeof(p), s.host, "mod.txt");
	{
		FILE *f = fopen(p, "a");

		CHECK(f != NULL);
		if (f) {
			fputs("host edit\n", f);
			fclose(f);
		}
	}
	put(s.host, "gone/new-important", "precious\n", 0644);
	snprintf(snap, sizeof(snap), "%s/../snap", s.host);
	snprintf(cmd, sizeof(cmd), "cp -a '%s' '%s'", s.host, snap);
	CHECK_INT(system(cmd), 0);
	/* Every inode, size and time below the host, before. */
	before = fprint_path(s.host, true, &err);
	CHECK(before != NULL);

	memset(&err, 0, sizeof(err));
	CHECK_INT(ovdiff_commit(&l, 1, &e, t, &err), -1);
	CHECK_INT(err.code, SD_EXIT_CONFIRM);
	if (getenv("OVDIFF_DUMP"))
		printf("# %s\n", err.msg);
	CHECK_CONTAINS(err.msg, "nothing was applied");
	CHECK_CONTAINS(err.msg, p);
	join(p, sizeof(p), s.host, "gone");
	CHECK_CONTAINS(err.msg, p);
	CHECK_SAME_TREE(s.host, snap);
	{
		struct sd_err e2 = {0};
		json_t *after = fprint_path(s.host, true, &e2);

		CHECK(after && json_equal(before, after));
		json_decref(after);
		json_decref(before);
	}
	join(p, sizeof(p), s.host, "gone/new-important");
	CHECK(access(p, F_OK) == 0);
	join(p, sizeof(p), s.host, "created.txt");
	CHECK(access(p, F_OK) < 0);

	json_decref(t);
	effects_release(&e);
	memset(&e, 0, sizeof(e));
	t = NULL;

	/* One created path that appeared on the host is enough. */
	scen_init(&s, "stale2");
	l.host = s.host;
	l.upper = s.up;
	if (!sandbox(&s, "set -e; echo n > created.txt"))
		return;
	CHECK_INT(ovdiff_analyse(&l, 1, &e, &t, &err), 0);
	dump(&e, t);
	CHECK_INT(e.n, 1);
	put(s.host, "created.txt", "host\n", 0644);
	CHECK_INT(ovdiff_commit(&l, 1, &e, t, &err), -1);
	CHECK_INT(err.code, SD_EXIT_CONFIRM);
	CHECK_CONTAINS(err.msg, "was absent and now exists");
	join(p, sizeof(p), s.host, "created.txt");
	{
		FILE *f = fopen(p, "r");
		char line[32] = "";

		CHECK(f && fgets(line, sizeof(line), f));
		CHECK_STR(line, "host\n");
		if (f)
			fclose(f);
	}
	json_decref(t);
	effects_release(&e);
}

static void a_large_deleted_tree_is_counted(void)
{
	struct scen s;
	struct ovdiff_layer l;
	struct effects e = {0};
	json_t *t = NULL;
	struct sd_err err = {0};
	char rel[64], content[16], p[1024];
	uint64_t bytes = 0;

	scen_init(&s, "large");
	mkd(s.host, "big");
	for (int d = 0; d < 20; d++) {
		snprintf(rel, sizeof(rel), "big/d%02d", d);
		mkd(s.host, rel);
		for (int f = 0; f < 100; f++) {
			int len = (d * 100 + f) % 11 + 1;

			snprintf(rel, sizeof(rel), "big/d%02d/f%03d", d, f);
			memset(content, 'a' + f % 26, (size_t)len);
			content[len] = 0;
			put(s.host, rel, content, 0644);
			bytes += (uint64_t)len;
		}
	}
	put(s.host, "other", "o\n", 0644);
	if (!sandbox(&s, "set -e; rm -rf big"))
		return;
	l.host = s.host;
	l.upper = s.up;
	CHECK_INT(ovdiff_analyse(&l, 1, &e, &t, &err), 0);
	dump(&e, t);
	CHECK_INT(e.n, 1);
	CHECK_EFFECT(&e, EFFECT_DELETE, s.host, "big", 'd', 2021, bytes, NULL);
	CHECK_INT(json_array_size(t), 1);
	CHECK_INT(json_integer_value(
			  json_object_get(json_array_get(t, 0), "entries")),
		  2020);
	{
		struct effects_totals tot;

		effects_totals(&e, &tot);
		CHECK_INT(tot.deleted_files, 2021);
		CHECK_INT(tot.deleted_bytes, bytes);
	}
	CHECK_INT(ovdiff_commit(&l, 1, &e, t, &err), 0);
	join(p, sizeof(p), s.host, "big");
	CHECK(access(p, F_OK) < 0);
	join(p, sizeof(p), s.host, "other");
	CHECK(access(p, F_OK) == 0);
	json_decref(t);
	effects_release(&e);
}

/* Many trees to count at once (the counting runs on several threads):
 * each created tree of its own shape, one 1,500 levels deep, a deleted
 * one, and a renamed one that is only found as a rename if its counts are
 * right. */
static void many_trees_are_counted(void)
{
	struct scen s;
	struct ovdiff_layer l;
	struct effects e = {0};
	struct sd_err err = {0};
	json_t *t = NULL;
	char rel[64], script[640];
	struct rlimit lim, low;

	scen_init(&s, "many");
	mkd(s.host, "old");
	mkd(s.host, "old/deep");
	for (int f = 0; f < 30; f++) {
		snprintf(rel, sizeof(rel), "old/%s%02d", f % 2 ? "deep/" : "",
			 f);
		put(s.host, rel, "twelve bytes", 0644);
	}
	mkd(s.host, "moved");
	mkd(s.host, "moved/in");
	put(s.host, "moved/in/a", "abc", 0644);
	put(s.host, "moved/b", "defgh", 0644);
	/* Tree n<i>: i files of i bytes, i more in n<i>/sub, an empty file
	 * and a symlink: 2 * i + 4 entries with the two directories, and
	 * 2 * i * i bytes. */
	snprintf(script, sizeof(script),
		 "set -e; for i in $(seq 1 24); do mkdir -p n$i/sub; "
		 "for j in $(seq 1 $i); do head -c $i /dev/zero > n$i/f$j; "
		 "head -c $i /dev/zero > n$i/sub/g$j; done; : > n$i/empty; "
		 "ln -s f1 n$i/link; done; rm -r old; mv moved renamed; "
		 "mkdir -p deep/$(printf 'd/%%.0s' $(seq 1 1500))");
	if (!sandbox(&s, script))
		return;
	l.host = s.host;
	l.upper = s.up;
	/* Fewer descriptors than the deep tree has levels. */
	CHECK_INT(getrlimit(RLIMIT_NOFILE, &lim), 0);
	low = lim;
	low.rlim_cur = 256;
	CHECK_INT(setrlimit(RLIMIT_NOFILE, &low), 0);
	CHECK_INT(ovdiff_analyse(&l, 1, &e, &t, &err), 0);
	setrlimit(RLIMIT_NOFILE, &lim);
	for (int i = 1; i <= 24; i++) {
		snprintf(rel, sizeof(rel), "n%d", i);
		CHECK_EFFECT(&e, EFFECT_CREATE, s.host, rel, 'd', 2 * i + 4,
			     2 * i * i, NULL);
	}
	CHECK_EFFECT(&e, EFFECT_DELETE, s.host, "old", 'd', 32, 30 * 12, NULL);
	{
		const struct effect *x =
			find(&e, EFFECT_RENAME, s.host, "moved");

		CHECK(x && x->files == 4 && x->bytes == 8);
	}
	CHECK_EFFECT(&e, EFFECT_CREATE, s.host, "deep", 'd', 1501, 0, NULL);
	CHECK_INT(e.n, 24 + 3);
	effects_release(&e);
	json_decref(t);
}

static void odd_tree(const char *d)
{
	put(d, "a b", "spaced\n", 0644);
	put(d, "new\nline", "newline name\n", 0644);
	mkd(d, "sp ace");
	put(d, "sp ace/x y", "inside\n", 0644);
	put(d, "tab\there", "tab\n", 0644);
}

static const char odd_script[] =
	"set -e\n"
	"echo changed >> 'a b'\n"
	"mv 'sp ace' 'sp ace2'\n"
	"printf 'nl\\n' > \"$(printf 'created\\nname')\"\n"
	"rm \"$(printf 'new\\nline')\"\n"
	"mv \"$(printf 'tab\\there')\" 'moved tab'\n";

static void names_with_spaces_and_newlines(void)
{
	struct scen s;
	struct ovdiff_layer l;
	struct effects e = {0};
	json_t *t = NULL;
	struct sd_err err = {0};
	const struct effect *x;
	char to[1024];

	scen_init(&s, "odd");
	odd_tree(s.host);
	odd_tree(s.ref);
	if (!sandbox(&s, odd_script))
		return;
	l.host = s.host;
	l.upper = s.up;
	CHECK_INT(ovdiff_analyse(&l, 1, &e, &t, &err), 0);
	dump(&e, t);
	CHECK_INT(e.n, 5);
	CHECK_EFFECT(&e, EFFECT_MODIFY, s.host, "a b", 'f', 1, 15, NULL);
	CHECK_EFFECT(&e, EFFECT_CREATE, s.host, "created\nname", 'f', 1, 3,
		     NULL);
	CHECK_EFFECT(&e, EFFECT_DELETE, s.host, "new\nline", 'f', 1, 13, NULL);
	x = find(&e, EFFECT_RENAME, s.host, "sp ace");
	join(to, sizeof(to), s.host, "sp ace2");
	CHECK(x && x->to && !strcmp(x->to, to) && x->files == 2);
	x = find(&e, EFFECT_RENAME, s.host, "tab\there");
	join(to, sizeof(to), s.host, "moved tab");
	CHECK(x && x->to && !strcmp(x->to, to));
	CHECK(target(t, s.host, "new\nline") != NULL);
	CHECK_INT(run_direct(s.ref, odd_script), 0);
	if (ovdiff_commit(&l, 1, &e, t, &err) < 0)
		UNIT_FAIL("ovdiff_commit: %s", err.msg);
	CHECK_SAME_TREE(s.host, s.ref);
	json_decref(t);
	effects_release(&e);
}

/* Replacements in every direction, renames onto paths that something else
 * frees, a rename over an existing file. */
static void tricky_tree(const char *d)
{
	put(d, "x", "file to become a dir\n", 0644);
	mkd(d, "y");
	put(d, "y/in", "dir to become a file\n", 0644);
	mkd(d, "d");
	put(d, "d/k", "kept through a rename\n", 0644);
	mkd(d, "e");
	put(d, "e/m", "moved onto a freed path\n", 0644);
	put(d, "src", "overwrites dst\n", 0644);
	put(d, "dst", "is overwritten\n", 0644);
	put(d, "same1", "same\n", 0644);
	put(d, "same2", "same\n", 0644);
	put(d, "chm", "renamed and chmod\n", 0644);
	put(d, "lnk-target", "t\n", 0644);
	{
		char p[1024];

		join(p, sizeof(p), d, "oldlink");
		if (symlink("lnk-target", p) < 0)
			UNIT_FAIL("symlink %s: %s", p, strerror(errno));
	}
	mkd(d, "mode-dir");
	put(d, "mode-dir/in", "i\n", 0644);
	mkd(d, "ca");
	put(d, "ca/1", "chain a\n", 0644);
	mkd(d, "cz");
	put(d, "cz/1", "chain z\n", 0644);
	mkd(d, "sa");
	put(d, "sa/v", "swap a\n", 0644);
	mkd(d, "sb");
	put(d, "sb/v", "swap b\n", 0644);
}

static const char tricky_script[] = "set -e\n"
				    "rm x; mkdir x; echo now a dir > x/inside\n"
				    "rm -r y; echo now a file > y\n"
				    "mv d d2; mkdir d; echo fresh > d/new\n"
				    "rm -r e/m; rmdir e; mv d2 e\n"
				    "mv src dst\n"
				    "rm same1; echo same > same3\n"
				    "mv chm chm2; chmod 600 chm2\n"
				    "ln -sfn other oldlink\n"
				    "chmod 700 mode-dir\n"
				    "mv cz cy; mv ca cz\n"
				    "mv sa st; mv sb sa; mv st sb\n";

static void replacements_and_renames_commit_in_order(void)
{
	struct scen s;
	struct ovdiff_layer l;
	struct effects e = {0};
	json_t *t = NULL;
	struct sd_err err = {0};
	const struct effect *x;
	char to[1024];

	scen_init(&s, "tricky");
	tricky_tree(s.host);
	tricky_tree(s.ref);
	if (!sandbox(&s, tricky_script))
		return;
	l.host = s.host;
	l.upper = s.up;
	CHECK_INT(ovdiff_analyse(&l, 1, &e, &t, &err), 0);
	dump(&e, t);
	CHECK_EFFECT(&e, EFFECT_DELETE, s.host, "x", 'f', 1, 21, NULL);
	CHECK_EFFECT(&e, EFFECT_CREATE, s.host, "x", 'd', 2, 10, NULL);
	CHECK_EFFECT(&e, EFFECT_DELETE, s.host, "y", 'd', 2, 21, NULL);
	CHECK_EFFECT(&e, EFFECT_CREATE, s.host, "y", 'f', 1, 11, NULL);
	/* d moved to e (whose own tree is deleted), a new d made. */
	x = find(&e, EFFECT_RENAME, s.host, "d");
	join(to, sizeof(to), s.host, "e");
	CHECK(x && x->to && !strcmp(x->to, to) && x->files == 2);
	CHECK_EFFECT(&e, EFFECT_CREATE, s.host, "d", 'd', 2, 6, NULL);
	CHECK_EFFECT(&e, EFFECT_DELETE, s.host, "e", 'd', 2, 24, NULL);
	CHECK(!find(&e, EFFECT_DELETE, s.host, "d"));
	/* mv src dst: a rename over an existing file. */
	x = find(&e, EFFECT_RENAME, s.host, "src");
	join(to, sizeof(to), s.host, "dst");
	CHECK(x && x->to && !strcmp(x->to, to));
	CHECK_EFFECT(&e, EFFECT_OVERWRITE, s.host, "dst", 'f', 1, 15, NULL);
	CHECK(!find(&e, EFFECT_MODIFY, s.host, "dst"));
	/* Same content, first in path order. */
	x = find(&e, EFFECT_RENAME, s.host, "same1");
	join(to, sizeof(to), s.host, "same3");
	CHECK(x && x->to && !strcmp(x->to, to));
	/* Renamed, then chmod'ed. */
	x = find(&e, EFFECT_RENAME, s.host, "chm");
	CHECK(x != NULL);
	CHECK_EFFECT(&e, EFFECT_MODE, s.host, "chm2", 'f', 1, 0,
		     "0644 -> 0600");
	CHECK_EFFECT(&e, EFFECT_MODIFY, s.host, "oldlink", 'l', 1, 0, NULL);
	CHECK_EFFECT(&e, EFFECT_MODE, s.host, "mode-dir", 'd', 1, 0,
		     "0755 -> 0700");
	/* A chain (ca must wait for cz to move) and a cycle (a swap). */
	x = find(&e, EFFECT_RENAME, s.host, "ca");
	join(to, sizeof(to), s.host, "cz");
	CHECK(x && x->to && !strcmp(x->to, to));
	x = find(&e, EFFECT_RENAME, s.host, "cz");
	join(to, sizeof(to), s.host, "cy");
	CHECK(x && x->to && !strcmp(x->to, to));
	x = find(&e, EFFECT_RENAME, s.host, "sa");
	join(to, sizeof(to), s.host, "sb");
	CHECK(x && x->to && !strcmp(x->to, to));
	x = find(&e, EFFECT_RENAME, s.host, "sb");
	join(to, sizeof(to), s.host, "sa");
	CHECK(x && x->to && !strcmp(x->to, to));
	CHECK(!find(&e, EFFECT_DELETE, s.host, "sa"));
	CHECK(!find(&e, EFFECT_CREATE, s.host, "sa"));
	{
		json_t *fp = target(t, s.host, "mode-dir");

		CHECK(fp && json_object_get(fp, "digest"));
	}

	CHECK_INT(run_direct(s.ref, tricky_script), 0);
	if (ovdiff_commit(&l, 1, &e, t, &err) < 0)
		UNIT_FAIL("ovdiff_commit: %s", err.msg);
	CHECK_SAME_TREE(s.host, s.ref);
	json_decref(t);
	effects_release(&e);
}

/* An overlay's leftovers that are not changes: a file created and removed
 * again leaves nothing; a file rewritten with the same content and times
 * is nothing. */
static void nothing_changed_is_no_effect(void)
{
	struct scen s;
	struct ovdiff_layer l;
	struct effects e = {0};
	json_t *t = NULL;
	struct sd_err err = {0};

	scen_init(&s, "none");
	put(s.host, "a", "a\n", 0644);
	put(s.host, "b", "b\n", 0644);
	{
		struct timespec ts[2] = {{1500000000, 0}, {1500000000, 0}};
		char p[1024];

		join(p, sizeof(p), s.host, "a");
		utimensat(AT_FDCWD, p, ts, 0);
		join(p, sizeof(p), s.host, "b");
		utimensat(AT_FDCWD, p, ts, 0);
	}
	if (!sandbox(
		    &s,
		    "set -e; echo tmp > t; rm t; rm a; echo a > a; "
		    "touch -r b a; touch -r b b; chown \"$(id -u):$(id -g)\" b"))
		return;
	l.host = s.host;
	l.upper = s.up;
	CHECK_INT(ovdiff_analyse(&l, 1, &e, &t, &err), 0);
	dump(&e, t);
	/* a is new content over a whiteout: compared with the host's a;
	 * the same bytes, mode and times: no change. */
	for (size_t i = 0; i < e.n; i++)
		UNIT_FAIL("unexpected %s %s (%s)", effect_op_name(e.v[i].op),
			  e.v[i].path, e.v[i].detail ? e.v[i].detail : "");
	CHECK_INT(e.n, 0);
	CHECK_INT(json_array_size(t), 0);
	CHECK_INT(ovdiff_commit(&l, 1, &e, t, &err), 0);
	json_decref(t);
	effects_release(&e);
}

/* Errors on one path are reported and the rest is applied. */
static void a_failed_path_does_not_stop_the_rest(void)
{
	struct scen s;
	struct ovdiff_layer l;
	struct effects e = {0};
	json_t *t = NULL;
	struct sd_err err = {0};
	char p[1024];
	int fd, flags = 0, on;

	scen_init(&s, "partial");
	mkd(s.host, "locked");
	if (!sandbox(&s, "set -e; echo a > locked/new; echo b > free"))
		return;
	l.host = s.host;
	l.upper = s.up;
	CHECK_INT(ovdiff_analyse(&l, 1, &e, &t, &err), 0);
	dump(&e, t);
	CHECK_INT(e.n, 2);
	/* The parent of a created path is not bound: make it immutable. */
	join(p, sizeof(p), s.host, "locked");
	fd = open(p, O_RDONLY | O_DIRECTORY);
	if (fd < 0 || ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0 ||
	    (on = flags | FS_IMMUTABLE_FL,
	     ioctl(fd, FS_IOC_SETFLAGS, &on) < 0)) {
		printf("# skip: cannot set the immutable flag: %s\n",
		       strerror(errno));
		if (fd >= 0)
			close(fd);
		json_decref(t);
		effects_release(&e);
		return;
	}
	CHECK_INT(ovdiff_commit(&l, 1, &e, t, &err), -1);
	CHECK_INT(err.code, SD_EXIT_SAFERUN);
	CHECK_CONTAINS(err.msg, "1 of 2 changes could not be applied");
	CHECK_CONTAINS(err.msg, "locked/new");
	ioctl(fd, FS_IOC_SETFLAGS, &flags);
	close(fd);
	join(p, sizeof(p), s.host, "free");
	CHECK(access(p, F_OK) == 0);
	join(p, sizeof(p), s.host, "locked/new");
	CHECK(access(p, F_OK) < 0);
	json_decref(t);
	effects_release(&e);
}

/* An upper layer made by hand, as overlayfs leaves it: whiteouts as files
 * with user.overlay.whiteout (in a directory marked opaque "x", which is
 * not opaque), an opaque directory, an owner change, a fifo, a whiteout
 * over nothing; and a metacopy, which cannot be read. No namespace
 * needed. */
static void hand_made_upper_layers(void)
{
	struct scen s;
	struct ovdiff_layer l;
	struct effects e = {0};
	json_t *t = NULL;
	struct sd_err err = {0};
	struct timespec ts[2] = {{1600000000, 0}, {1600000000, 0}};
	char p[1024], q[1024];
	struct stat st;

	if (geteuid() != 0) {
		printf("# skip: needs root (chown, a 0:0 device)\n");
		return;
	}
	scen_init(&s, "hand");
	put(s.host, "a", "a\n", 0644);
	put(s.host, "own", "o\n", 0644);
	mkd(s.host, "x");
	put(s.host, "x/1", "one\n", 0644);
	put(s.host, "x/2", "two\n", 0644);
	mkd(s.host, "opq");
	put(s.host, "opq/old", "old\n", 0644);

	put(s.up, "a", "", 0644);
	join(p, sizeof(p), s.up, "a");
	if (setxattr(p, "user.overlay.whiteout", "", 0, 0) < 0) {
		printf("# skip: no user xattrs here: %s\n", strerror(errno));
		return;
	}
	put(s.up, "own", "o\n", 0644);
	join(p, sizeof(p), s.up, "own");
	join(q, sizeof(q), s.host, "own");
	CHECK_INT(utimensat(AT_FDCWD, q, ts, 0), 0);
	CHECK_INT(utimensat(AT_FDCWD, p, ts, 0), 0);
	CHECK_INT(chown(p, 1000, 1000), 0);
	mkd(s.up, "x");
	join(p, sizeof(p), s.up, "x");
	CHECK_INT(setxattr(p, "user.overlay.opaque", "x", 1, 0), 0);
	put(s.up, "x/1", "", 0644);
	join(p, sizeof(p), s.up, "x/1");
	CHECK_INT(setxattr(p, "user.overlay.whiteout", "", 0, 0), 0);
	mkd(s.up, "opq");
	join(p, sizeof(p), s.up, "opq");
	CHECK_INT(setxattr(p, "user.overlay.opaque", "y", 1, 0), 0);
	put(s.up, "opq/new", "new\n", 0644);
	join(p, sizeof(p), s.up, "fifo");
	CHECK_INT(mkfifo(p, 0640), 0);
	join(p, sizeof(p), s.up, "nothing");
	CHECK_INT(mknod(p, S_IFCHR, makedev(0, 0)), 0);

	l.host = s.host;
	l.upper = s.up;
	CHECK_INT(ovdiff_analyse(&l, 1, &e, &t, &err), 0);
	dump(&e, t);
	CHECK_INT(e.n, 6);
	CHECK_EFFECT(&e, EFFECT_DELETE, s.host, "a", 'f', 1, 2, NULL);
	CHECK_EFFECT(&e, EFFECT_OWNER, s.host, "own", 'f', 1, 0,
		     "0:0 -> 1000:1000");
	CHECK_EFFECT(&e, EFFECT_DELETE, s.host, "x/1", 'f', 1, 4, NULL);
	CHECK(!find(&e, EFFECT_DELETE, s.host, "x"));
	CHECK_EFFECT(&e, EFFECT_DELETE, s.host, "opq", 'd', 2, 4, NULL);
	CHECK_EFFECT(&e, EFFECT_CREATE, s.host, "opq", 'd', 2, 4, NULL);
	CHECK_EFFECT(&e, EFFECT_CREATE, s.host, "fifo", 's', 1, 0, NULL);
	CHECK(!find(&e, EFFECT_DELETE, s.host, "nothing"));

	/* The sandbox changed after the plan: refused. */
	join(p, sizeof(p), s.up, "fifo");
	CHECK_INT(unlink(p), 0);
	put(s.up, "fifo", "now a file\n", 0644);
	CHECK_INT(ovdiff_commit(&l, 1, &e, t, &err), -1);
	CHECK_INT(err.code, SD_EXIT_CONFIRM);
	CHECK_CONTAINS(err.msg, "changed in the sandbox since the plan");
	join(p, sizeof(p), s.host, "a");
	CHECK(access(p, F_OK) == 0);
	join(p, sizeof(p), s.up, "fifo");
	unlink(p);
	CHECK_INT(mkfifo(p, 0640), 0);

	CHECK_INT(ovdiff_commit(&l, 1, &e, t, &err), 0);
	join(p, sizeof(p), s.host, "a");
	CHECK(access(p, F_OK) < 0);
	join(p, sizeof(p), s.host, "own");
	CHECK(lstat(p, &st) == 0 && st.st_uid == 1000 && st.st_gid == 1000);
	join(p, sizeof(p), s.host, "x/1");
	CHECK(access(p, F_OK) < 0);
	join(p, sizeof(p), s.host, "x/2");
	CHECK(access(p, F_OK) == 0);
	join(p, sizeof(p), s.host, "opq/old");
	CHECK(access(p, F_OK) < 0);
	join(p, sizeof(p), s.host, "opq/new");
	CHECK(access(p, F_OK) == 0);
	join(p, sizeof(p), s.host, "fifo");
	CHECK(lstat(p, &st) == 0 && S_ISFIFO(st.st_mode) &&
	      (st.st_mode & 07777) == 0640);
	json_decref(t);
	effects_release(&e);
	memset(&e, 0, sizeof(e));

	/* A metacopy holds no data of its own: an error, no effects. */
	put(s.up, "meta", "", 0644);
	join(p, sizeof(p), s.up, "meta");
	CHECK_INT(setxattr(p, "user.overlay.metacopy", "", 0, 0), 0);
	CHECK_INT(ovdiff_analyse(&l, 1, &e, &t, &err), -1);
	CHECK_INT(err.code, SD_EXIT_SAFERUN);
	CHECK_CONTAINS(err.msg, "is a metacopy");
	CHECK_INT(e.n, 0);
	CHECK(t == NULL);
}

/* A plan's effects are checked before anything is applied. */
static void effects_outside_the_layers_are_refused(void)
{
	struct scen s;
	struct ovdiff_layer l;
	struct effects e = {0};
	json_t *t = json_array();
	struct sd_err err = {0};
	char p[1024];

	scen_init(&s, "refuse");
	put(s.host, "victim", "v\n", 0644);
	put(s.up, "new", "n\n", 0644);
	l.host = s.host;
	l.upper = s.up;
	join(p, sizeof(p), s.host, "victim");
	effects_add(&e, EFFECT_DELETE, p, NULL, 'f', 1, 2, NULL);
	effects_add(&e, EFFECT_DELETE, "/etc/passwd", NULL, 'f', 1, 2, NULL);
	CHECK_INT(ovdiff_commit(&l, 1, &e, t, &err), -1);
	CHECK_INT(err.code, SD_EXIT_SAFERUN);
	CHECK_CONTAINS(err.msg, "'/etc/passwd' is not below");
	CHECK(access(p, F_OK) == 0);
	effects_release(&e);

	join(p, sizeof(p), s.host, "sub/../../escape");
	effects_add(&e, EFFECT_DELETE, p, NULL, 'f', 1, 2, NULL);
	CHECK_INT(ovdiff_commit(&l, 1, &e, t, &err), -1);
	CHECK_CONTAINS(err.msg, "is not below");
	effects_release(&e);

	join(p, sizeof(p), s.host, "missing");
	effects_add(&e, EFFECT_CREATE, p, NULL, 'f', 1, 2, NULL);
	CHECK_INT(ovdiff_commit(&l, 1, &e, t, &err), -1);
	CHECK_CONTAINS(err.msg, "missing from the sandbox");
	effects_release(&e);

	effects_add(&e, EFFECT_OBJECT, "deployment/web", NULL, 'o', 1, 0, NULL);
	CHECK_INT(ovdiff_commit(&l, 1, &e, t, &err), -1);
	CHECK_CONTAINS(err.msg, "cannot apply a 'object' effect");
	effects_release(&e);
	json_decref(t);
}

int main(void)
{
	umask(022);
	snprintf(base, sizeof(base), "%s", unit_mkdtemp("ovdiff"));
	RUN(analyses_and_commits_a_run, "analyses and commits a sandbox run");
	RUN(a_stale_host_is_refused_untouched,
	    "a stale host is refused, nothing applied");
	RUN(a_large_deleted_tree_is_counted,
	    "a deleted tree of 2,000 files is counted");
	RUN(many_trees_are_counted,
	    "many trees counted at once, a tree renamed by its counts");
	RUN(names_with_spaces_and_newlines,
	    "names with spaces, tabs and newlines");
	RUN(replacements_and_renames_commit_in_order,
	    "replacements and renames commit in order");
	RUN(nothing_changed_is_no_effect, "overlay leftovers are no effect");
	RUN(a_failed_path_does_not_stop_the_rest,
	    "a failed path does not stop the rest");
	RUN(hand_made_upper_layers, "hand-made upper layers");
	RUN(effects_outside_the_layers_are_refused,
	    "effects outside the layers are refused");
	UNIT_DONE();
}
