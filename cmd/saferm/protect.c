/* saferm's protections: by device and inode, never by spelling. Protected
 * are '/', its direct children, $HOME, every mount point, the trash
 * directories and the paths under saferm.protect in the configuration, and
 * every ancestor of one of those (removing /home removes $HOME too). */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "msg.h"
#include "saferm.h"

#define MAX_GLOB_MATCHES 256

static bool same(const struct stat *a, dev_t dev, ino_t ino)
{
	return a->st_dev == dev && a->st_ino == ino;
}

static int guard_add(struct protect *p, const struct stat *st, const char *rule,
		     const char *path, bool ancestor)
{
	struct guard *g;

	for (size_t i = 0; i < p->n; i++)
		if (same(st, p->v[i].dev, p->v[i].ino) &&
		    p->v[i].ancestor == ancestor)
			return 0;
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 32;
		struct guard *v = realloc(p->v, cap * sizeof(*v));

		if (!v)
			return -1;
		p->v = v;
		p->cap = cap;
	}
	g = &p->v[p->n];
	g->dev = st->st_dev;
	g->ino = st->st_ino;
	g->rule = strdup(rule);
	g->path = strdup(path);
	g->ancestor = ancestor;
	if (!g->rule || !g->path) {
		free(g->rule);
		free(g->path);
		return -1;
	}
	p->n++;
	return 0;
}

/* stat without following a final symlink, without waking automounts and
 * without waiting on a network filesystem's server for fresh attributes. */
static int quick_lstat(const char *path, struct stat *st)
{
	struct statx x;

	if (statx(AT_FDCWD, path,
		  AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_STATX_DONT_SYNC,
		  STATX_TYPE | STATX_INO, &x) < 0)
		return -1;
	memset(st, 0, sizeof(*st));
	st->st_dev = makedev(x.stx_dev_major, x.stx_dev_minor);
	st->st_ino = x.stx_ino;
	st->st_mode = x.stx_mode;
	return 0;
}

/* Protect path itself (following a symlink, and the link too) and, with
 * ancestors, every directory above it below '/'. */
static int protect_path(struct protect *p, const char *path, const char *rule,
			bool ancestors)
{
	char buf[PATH_MAX];
	struct stat st;
	size_t len;

	if (!ancestors) {
		if (stat(path, &st) == 0 && guard_add(p, &st, rule, path, 0))
			return -1;
		if (quick_lstat(path, &st) == 0 &&
		    guard_add(p, &st, rule, path, 0))
			return -1;
		return 0;
	}
	if (!realpath(path, buf))
		return 0; /* what does not exist cannot be removed */
	len = strlen(buf);
	/* Every proper ancestor below '/': '/a', '/a/b', ... */
	for (size_t i = 1; i < len; i++) {
		if (buf[i] != '/')
			continue;
		buf[i] = '\0';
		if (strchr(buf + 1, '/') && quick_lstat(buf, &st) == 0 &&
		    guard_add(p, &st, rule, path, 1)) {
			buf[i] = '/';
			return -1;
		}
		buf[i] = '/';
	}
	return 0;
}

/* The home trash, its files/ and info/ (with ancestors: the directories
 * above it). */
static int home_trash_paths(struct saferm *s, bool ancestors)
{
	struct protect *p = &s->prot;
	char path[PATH_MAX];
	const char *rule = "trash directory";

	if (!s->trash.home_dir)
		return 0;
	if (protect_path(p, s->trash.home_dir, rule, ancestors) < 0)
		return -1;
	if (ancestors)
		return 0;
	snprintf(path, sizeof(path), "%s/files", s->trash.home_dir);
	if (protect_path(p, path, rule, false) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/info", s->trash.home_dir);
	return protect_path(p, path, rule, false);
}

/* The topdir trashes of one mount: .Trash, .Trash/$uid and .Trash-$uid at
 * its top, with their files/ and info/. */
static int mount_trash_paths(struct saferm *s, size_t i)
{
	struct protect *p = &s->prot;
	const char *top = s->trash.mounts.v[i].point;
	const char *sep = strcmp(top, "/") ? "/" : "";
	const char *rule = "trash directory";
	unsigned uid = (unsigned)getuid();
	char path[PATH_MAX];
	struct stat st;

	if (p->trash_scanned[i])
		return 0;
	p->trash_scanned[i] = true;
	snprintf(path, sizeof(path), "%s%s.Trash", top, sep);
	if (quick_lstat(path, &st) == 0) {
		if (guard_add(p, &st, rule, path, 0) < 0)
			return -1;
		snprintf(path, sizeof(path), "%s%s.Trash/%u", top, sep, uid);
		if (quick_lstat(path, &st) == 0 &&
		    guard_add(p, &st, rule, path, 0) < 0)
			return -1;
	}
	snprintf(path, sizeof(path), "%s%s.Trash-%u", top, sep, uid);
	if (quick_lstat(path, &st) == 0 && guard_add(p, &st, rule, path, 0) < 0)
		return -1;
	for (int k = 0; k < 4; k++) {
		snprintf(path, sizeof(path), "%s%s.Trash%s%u/%s", top, sep,
			 k < 2 ? "/" : "-", uid, k % 2 ? "info" : "files");
		if (quick_lstat(path, &st) == 0 &&
		    guard_add(p, &st, rule, path, 0) < 0)
			return -1;
	}
	return 0;
}

/* Scanning every mount's top for trashes costs six lookups per mount, and
 * would touch every mounted filesystem (a dead NFS server included): only
 * the mounts operands are on are scanned. A trash directory can only be
 * reached through the mount whose top holds it (or through a mount of the
 * same filesystem, which is scanned when an operand is on it). */
int protect_trash_mount(struct saferm *s, uint64_t id)
{
	struct protect *p = &s->prot;

	if (p->all_scanned)
		return 0;
	for (size_t i = 0; id && i < s->trash.mounts.n; i++)
		if (s->trash.mounts.v[i].id == id)
			return mount_trash_paths(s, i);
	/* No mount ID (a kernel before 5.8), or a mount newer than the
	 * table: every mount, once. */
	for (size_t i = 0; i < s->trash.mounts.n; i++)
		if (mount_trash_paths(s, i) < 0)
			return -1;
	p->all_scanned = true;
	return 0;
}

int protect_trash_of(struct saferm *s, int dirfd, const char *name, bool follow)
{
	struct statx x;
	int flags = AT_NO_AUTOMOUNT | AT_STATX_DONT_SYNC |
		    (follow ? 0 : AT_SYMLINK_NOFOLLOW) |
		    (*name ? 0 : AT_EMPTY_PATH);

	if (s->prot.all_scanned)
		return 0;
	if (statx(dirfd, name, flags, STATX_MNT_ID, &x) < 0 ||
	    !(x.stx_mask & STATX_MNT_ID))
		x.stx_mnt_id = 0;
	return protect_trash_mount(s, x.stx_mnt_id);
}

bool protect_in_trash(struct saferm *s, const struct stat *st)
{
	for (size_t i = 0; i < s->prot.n; i++)
		if (!s->prot.v[i].ancestor &&
		    same(st, s->prot.v[i].dev, s->prot.v[i].ino) &&
		    !strcmp(s->prot.v[i].rule, "trash directory"))
			return true;
	return false;
}

/* saferm.protect: absolute paths or globs, "~/" for $HOME. */
static int each_configured(struct saferm *s, bool ancestors)
{
	json_t *list = config_get(&s->cfg, "saferm.protect"), *item;
	size_t i;

	json_array_foreach(list, i, item)
	{
		const char *pat = json_string_value(item);
		char key[64], rule[512];
		const char *at;
		glob_t g;

		if (!pat)
			continue;
		snprintf(key, sizeof(key), "saferm.protect[%zu]", i);
		at = config_origin(&s->cfg, key);
		if (!at)
			at = config_origin(&s->cfg, "saferm.protect");
		snprintf(rule, sizeof(rule), "listed in saferm.protect%s%s%s",
			 at ? " at " : "", at ? at : "", "");
		if (glob(pat, GLOB_TILDE | GLOB_BRACE | GLOB_NOSORT, NULL,
			 &g) != 0)
			continue;
		for (size_t k = 0; k < g.gl_pathc && k < MAX_GLOB_MATCHES;
		     k++) {
			if (protect_path(&s->prot, g.gl_pathv[k], rule,
					 ancestors) < 0) {
				globfree(&g);
				return -1;
			}
		}
		globfree(&g);
	}
	return 0;
}

static int load_exact(struct saferm *s)
{
	const char *home = getenv("HOME");

	if (home && *home &&
	    protect_path(&s->prot, home, "your home directory", false) < 0)
		return -1;
	if (home_trash_paths(s, false) < 0 || each_configured(s, false) < 0)
		return -1;
	return 0;
}

/* Is a the directory of, or an ancestor of, an earlier mount point than
 * the i-th? Then its guard is there already. */
static bool done_before(const struct mount_table *t, size_t i, const char *a,
			size_t alen)
{
	for (size_t j = 0; j < i; j++) {
		const char *pt = t->v[j].point;

		if (!strncmp(pt, a, alen) && (pt[alen] == '/' || !pt[alen]))
			return true;
	}
	return false;
}

/* The ancestors of every mount point below '/': mount points are already
 * canonical in the mount table (resolving them would touch the mounted
 * filesystem, a dead NFS server), and the ancestors they share (/sys/fs
 * for every cgroup mount) are looked up once. */
static int mount_ancestors(struct saferm *s)
{
	const struct mount_table *t = &s->trash.mounts;

	for (size_t i = 0; i < t->n; i++) {
		const char *pt = t->v[i].point;
		char buf[PATH_MAX];
		struct stat st;

		for (size_t k = 1; k < sizeof(buf) && pt[k]; k++) {
			if (pt[k] != '/')
				continue;
			memcpy(buf, pt, k);
			buf[k] = '\0';
			if (!strchr(buf + 1, '/') || done_before(t, i, buf, k))
				continue;
			if (quick_lstat(buf, &st) == 0 &&
			    guard_add(&s->prot, &st, "mount point", pt, 1) < 0)
				return -1;
		}
	}
	return 0;
}

static int load_ancestors(struct saferm *s)
{
	const char *home = getenv("HOME");

	if (home && *home &&
	    protect_path(&s->prot, home, "your home directory", true) < 0)
		return -1;
	if (mount_ancestors(s) < 0)
		return -1;
	if (home_trash_paths(s, true) < 0 || each_configured(s, true) < 0)
		return -1;
	return 0;
}

int protect_init(struct saferm *s, struct sd_err *err)
{
	struct protect *p = &s->prot;

	if (stat("/", &p->root) < 0)
		return err_errno(err, SD_EXIT_CANNOT, "cannot stat '/'");
	if (saferm_trash_init(s) != 0)
		return err_set(err, SD_EXIT_CANNOT, "cannot find the trash");
	p->trash_scanned = calloc(s->trash.mounts.n + 1, sizeof(bool));
	if (!p->trash_scanned || load_exact(s) < 0)
		return err_set(err, SD_EXIT_CANNOT, "out of memory");
	return 0;
}

void protect_release(struct protect *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].rule);
		free(p->v[i].path);
	}
	free(p->v);
	free(p->trash_scanned);
	memset(p, 0, sizeof(*p));
}

const char *protect_rule(struct saferm *s, const struct stat *st,
			 const struct stat *parent, bool is_mount, char *buf,
			 size_t n)
{
	struct protect *p = &s->prot;
	const struct guard *anc = NULL;

	if (same(st, p->root.st_dev, p->root.st_ino))
		return "the root directory";
	if (parent && same(parent, p->root.st_dev, p->root.st_ino))
		return "direct child of /";
	if (is_mount)
		return "mount point";
	if (S_ISDIR(st->st_mode) && !p->ancestors_loaded) {
		p->ancestors_loaded = true;
		if (load_ancestors(s) < 0) {
			snprintf(buf, n, "cannot check: out of memory");
			return buf;
		}
	}
	for (size_t i = 0; i < p->n; i++) {
		if (!same(st, p->v[i].dev, p->v[i].ino))
			continue;
		if (!p->v[i].ancestor) {
			snprintf(buf, n, "%s", p->v[i].rule);
			return buf;
		}
		if (!anc)
			anc = &p->v[i];
	}
	if (anc && S_ISDIR(st->st_mode)) {
		char q[PATH_MAX + 8];

		saferm_quote(anc->path, q, sizeof(q));
		if (!strcmp(anc->rule, "mount point") ||
		    !strcmp(anc->rule, "trash directory"))
			snprintf(buf, n, "contains %s %s", anc->rule, q);
		else
			snprintf(buf, n, "contains %s, %s", q, anc->rule);
		return buf;
	}
	return NULL;
}
