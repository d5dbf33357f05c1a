/* The FreeDesktop.org trash (spec 1.0): choosing, creating and checking
 * trash directories, moving objects in and out, listing, directorysizes;
 * see trash.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "rmtree.h"
#include "trash.h"

/* A .trashinfo holds two short lines; anything bigger is not ours. */
#define TRASHINFO_MAX (64u << 10)
#define DIRSIZES_MAX  (64u << 20)
#define DIRSIZES_NAME "directorysizes"
#define SUFFIX_LEN    (sizeof(TRASHINFO_SUFFIX) - 1)
/* info/NAME.trashinfo must fit in NAME_MAX too. */
#define ENTRY_MAX      (NAME_MAX - SUFFIX_LEN)
#define COUNTER_TRIES  32
#define RANDOM_TRIES   100
#define DIR_FLAGS      (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#define PATH_DIR_FLAGS (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/* --- Percent-encoding and the .trashinfo format -------------------------- */

static bool keep_literal(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~' || c == '/';
}

int trash_path_encode(char *buf, size_t n, const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	if (!n)
		return -1;
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if (keep_literal(*p)) {
			if (o + 1 >= n)
				return -1;
			buf[o++] = (char)*p;
		} else {
			if (o + 3 >= n)
				return -1;
			buf[o++] = '%';
			buf[o++] = hex[*p >> 4];
			buf[o++] = hex[*p & 15];
		}
	}
	if (o > INT_MAX)
		return -1;
	buf[o] = '\0';
	return (int)o;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *trash_path_decode(const char *text)
{
	char *out = malloc(strlen(text) + 1), *o = out;

	if (!out)
		return NULL;
	for (const char *p = text; *p; p++) {
		int hi, lo;

		if (*p != '%') {
			*o++ = *p;
			continue;
		}
		/* Never '+' as a space: that is form encoding, not RFC 2396. */
		hi = hex_value(p[1]);
		lo = hi < 0 ? -1 : hex_value(p[2]);
		if (lo < 0 || (hi == 0 && lo == 0)) {
			free(out);
			return NULL;
		}
		*o++ = (char)(hi * 16 + lo);
		p += 2;
	}
	*o = '\0';
	return out;
}

/* An encoded copy of path, malloc'd; NULL when out of memory. */
static char *encode_dup(const char *path)
{
	size_t n = strlen(path) * 3 + 1;
	char *buf = malloc(n);

	if (buf && trash_path_encode(buf, n, path) < 0) {
		free(buf);
		buf = NULL;
	}
	return buf;
}

int trashinfo_format(char *buf, size_t n, const char *path, time_t when)
{
	char date[64], *enc;
	struct tm tm;
	int r;

	if (!localtime_r(&when, &tm) ||
	    !strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm))
		return -1;
	enc = encode_dup(path);
	if (!enc)
		return -1;
	r = snprintf(buf, n, "[Trash Info]\nPath=%s\nDeletionDate=%s\n", enc,
		     date);
	free(enc);
	if (r < 0 || (size_t)r >= n)
		return -1;
	return r;
}

static bool digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (s[i] - '0');
	}
	return true;
}

/* "YYYY-MM-DDThh:mm:ss" in local time; the spec's own example drops the
 * dashes ("20040831T22:32:08"), so that is read too. -1 when invalid. */
static int64_t parse_date(const char *s, size_t n)
{
	struct tm tm = {0};
	int y, mo, d, h, mi, sec, dash = n == 19;
	const char *t = s + 8 + 2 * dash;
	time_t r;

	if (n != 19 && n != 17)
		return -1;
	if (!digits(s, 4, &y) || (dash && (s[4] != '-' || s[7] != '-')) ||
	    !digits(s + 4 + dash, 2, &mo) || !digits(s + 6 + 2 * dash, 2, &d))
		return -1;
	if (t[0] != 'T' || t[3] != ':' || t[6] != ':' ||
	    !digits(t + 1, 2, &h) || !digits(t + 4, 2, &mi) ||
	    !digits(t + 7, 2, &sec))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	tm.tm_isdst = -1;
	r = mktime(&tm);
	return r == (time_t)-1 ? -1 : (int64_t)r;
}

int trashinfo_parse(const char *text, size_t len, char **path, int64_t *deleted,
		    struct sd_err *err)
{
	const char *p = text, *end = text + len, *pv = NULL, *dv = NULL;
	size_t pn = 0, dn = 0;
	bool first = true;
	char *raw;

	*path = NULL;
	*deleted = -1;
	if (memchr(text, '\0', len))
		return err_set(err, SD_EXIT_CANNOT, "it contains a NUL byte");
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line = p;
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		p += n + (nl ? 1 : 0);
		if (n && line[n - 1] == '\r')
			n--;
		if (first) {
			if (n != 12 || memcmp(line, "[Trash Info]", 12))
				break;
			first = false;
			continue;
		}
		/* Keys of another group are not ours. */
		if (n && line[0] == '[')
			break;
		if (!pv && n >= 5 && !memcmp(line, "Path=", 5)) {
			pv = line + 5;
			pn = n - 5;
		} else if (!dv && n >= 13 &&
			   !memcmp(line, "DeletionDate=", 13)) {
			dv = line + 13;
			dn = n - 13;
		}
	}
	if (first)
		return err_set(err, SD_EXIT_CANNOT,
			       "its first line is not '[Trash Info]'");
	if (!pv)
		return err_set(err, SD_EXIT_CANNOT, "it has no Path");
	if (!pn)
		return err_set(err, SD_EXIT_CANNOT, "its Path is empty");
	raw = strndup(pv, pn);
	if (!raw)
		return err_set(err, SD_EXIT_CANNOT, "out of memory");
	*path = trash_path_decode(raw);
	free(raw);
	if (!*path)
		return err_set(err, SD_EXIT_CANNOT,
			       "its Path has an invalid percent escape or an "
			       "encoded NUL byte");
	if (dv)
		*deleted = parse_date(dv, dn);
	return 0;
}

/* --- Paths --------------------------------------------------------------- */

/* path with repeated slashes collapsed and trailing ones dropped ("/"
 * stays), malloc'd. */
static char *clean_path(const char *path)
{
	char *out = malloc(strlen(path) + 1), *o = out;

	if (!out)
		return NULL;
	for (const char *p = path; *p; p++)
		if (*p != '/' || o == out || o[-1] != '/')
			*o++ = *p;
	while (o > out + 1 && o[-1] == '/')
		o--;
	*o = '\0';
	return out;
}

/* a + "/" + b, malloc'd, without doubling the slash after "/". */
static char *join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	bool slash = la && a[la - 1] != '/';
	char *out = malloc(la + slash + lb + 1);

	if (!out)
		return NULL;
	memcpy(out, a, la);
	if (slash)
		out[la] = '/';
	memcpy(out + la + slash, b, lb + 1);
	return out;
}

static bool has_dotdot(const char *path)
{
	for (const char *p = path; *p;) {
		const char *e = strchrnul(p, '/');

		if (e - p == 2 && p[0] == '.' && p[1] == '.')
			return true;
		p = *e ? e + 1 : e;
	}
	return false;
}

/* Is path topdir itself or below it? */
static bool is_under(const char *path, const char *topdir)
{
	size_t n = strlen(topdir);

	if (!strcmp(topdir, "/"))
		return path[0] == '/';
	return !strncmp(path, topdir, n) && (path[n] == '/' || !path[n]);
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* The absolute original path of an entry of t from its decoded Path, or
 * NULL with why filled: a Path that would restore outside the place it
 * came from (trash-cli PR #392) is hostile. */
static char *entry_abs_path(const struct trash *t, const char *path, char *why,
			    size_t wn)
{
	char *joined, *abs;
	const char *base;

	if (has_dotdot(path)) {
		snprintf(why, wn, "its Path has a '..' component");
		return NULL;
	}
	if (t->kind == TRASH_HOME && path[0] != '/') {
		snprintf(why, wn, "its Path is relative in the home trash");
		return NULL;
	}
	if (t->kind != TRASH_HOME && path[0] == '/' &&
	    !is_under(path, t->topdir)) {
		snprintf(why, wn, "its Path is outside '%s'", t->topdir);
		return NULL;
	}
	joined = path[0] == '/' ? strdup(path) : join(t->topdir, path);
	abs = joined ? clean_path(joined) : NULL;
	free(joined);
	if (!abs) {
		snprintf(why, wn, "out of memory");
		return NULL;
	}
	base = base_name(abs);
	if (!*base || !strcmp(base, ".") ||
	    (t->kind != TRASH_HOME && !strcmp(abs, t->topdir))) {
		snprintf(why, wn, "its Path names no file");
		free(abs);
		return NULL;
	}
	return abs;
}

/* --- The set of trash directories ---------------------------------------- */

int trash_set_init(struct trash_set *s, struct sd_err *err)
{
	const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
	char *raw;

	memset(s, 0, sizeof(*s));
	s->uid = getuid();
	/* The basedir spec: unset, empty or relative means the default. */
	if (xdg && xdg[0] == '/')
		raw = join(xdg, "Trash");
	else if (home && home[0] == '/')
		raw = join(home, ".local/share/Trash");
	else
		return err_set(err, SD_EXIT_CANNOT,
			       "cannot find the home trash: neither "
			       "XDG_DATA_HOME nor HOME is an absolute path");
	s->home_dir = raw ? clean_path(raw) : NULL;
	free(raw);
	if (!s->home_dir)
		return err_set(err, SD_EXIT_CANNOT, "out of memory");
	if (mounts_load(&s->mounts, NULL, err) < 0) {
		free(s->home_dir);
		s->home_dir = NULL;
		return -1;
	}
	return 0;
}

static void trash_free(struct trash *t)
{
	if (!t)
		return;
	if (t->dir_fd >= 0)
		close(t->dir_fd);
	if (t->files_fd >= 0)
		close(t->files_fd);
	if (t->info_fd >= 0)
		close(t->info_fd);
	free(t->dir);
	free(t->topdir);
	free(t);
}

void trash_set_release(struct trash_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		trash_free(s->v[i]);
	free(s->v);
	free(s->home_dir);
	mounts_release(&s->mounts);
	memset(s, 0, sizeof(*s));
}

bool trash_is_trash_dir(const struct trash_set *s, dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct trash *t = s->v[i];

		if ((t->dev == dev && t->ino == ino) ||
		    (t->files_fd >= 0 && t->files_dev == dev &&
		     t->files_ino == ino) ||
		    (t->info_fd >= 0 && t->info_dev == dev &&
		     t->info_ino == ino))
			return true;
	}
	return false;
}

static struct trash *find_trash(const struct trash_set *s, enum trash_kind kind,
				uint64_t mnt_id, const char *dir)
{
	for (size_t i = 0; i < s->n; i++) {
		struct trash *t = s->v[i];

		if (t->kind == kind &&
		    (kind == TRASH_HOME || t->mnt_id == mnt_id) &&
		    !strcmp(t->dir, dir))
			return t;
	}
	return NULL;
}

/* A trash for the open directory dir_fd (taken over, even on failure). */
static struct trash *trash_new(enum trash_kind kind, const char *dir,
			       const char *topdir, int dir_fd,
			       struct sd_err *err)
{
	struct trash *t = calloc(1, sizeof(*t));
	struct stat st;

	if (!t) {
		close(dir_fd);
		err_set(err, SD_EXIT_CANNOT, "out of memory");
		return NULL;
	}
	t->kind = kind;
	t->dir_fd = dir_fd;
	t->files_fd = t->info_fd = -1;
	t->dir = strdup(dir);
	t->topdir = topdir ? strdup(topdir) : NULL;
	if (!t->dir || (topdir && !t->topdir)) {
		trash_free(t);
		err_set(err, SD_EXIT_CANNOT, "out of memory");
		return NULL;
	}
	if (fstat(dir_fd, &st) < 0 ||
	    mounts_id_at(dir_fd, "", &t->mnt_id, NULL, NULL) < 0) {
		err_errno(err, SD_EXIT_CANNOT, "cannot examine '%s'", dir);
		trash_free(t);
		return NULL;
	}
	t->dev = st.st_dev;
	t->ino = st.st_ino;
	return t;
}

static int set_add(struct trash_set *s, struct trash *t, struct sd_err *err)
{
	struct trash **v = realloc(s->v, (s->n + 1) * sizeof(*v));

	if (!v) {
		trash_free(t);
		return err_set(err, SD_EXIT_CANNOT, "out of memory");
	}
	s->v = v;
	s->v[s->n++] = t;
	return 0;
}

/* Open files/ or info/ of t, making it (0700) with create. A missing one
 * without create stays -1: listing shows what there is. */
static int open_sub(struct trash *t, const char *sub, int *fd, dev_t *dev,
		    ino_t *ino, bool create, struct sd_err *err)
{
	struct stat st;

	if (*fd >= 0)
		return 0;
	*fd = openat(t->dir_fd, sub, DIR_FLAGS);
	if (*fd < 0 && errno == ENOENT && create) {
		if (mkdirat(t->dir_fd, sub, 0700) < 0 && errno != EEXIST)
			return err_errno(err, SD_EXIT_CANNOT,
					 "cannot create '%s/%s'", t->dir, sub);
		*fd = openat(t->dir_fd, sub, DIR_FLAGS);
	}
	if (*fd < 0) {
		if (errno == ENOENT && !create)
			return 0;
		if (errno == ELOOP)
			return err_set(err, SD_EXIT_CANNOT,
				       "'%s/%s' is a symbolic link", t->dir,
				       sub);
		return err_errno(err, SD_EXIT_CANNOT, "cannot open '%s/%s'",
				 t->dir, sub);
	}
	if (fstat(*fd, &st) < 0) {
		err_errno(err, SD_EXIT_CANNOT, "cannot examine '%s/%s'", t->dir,
			  sub);
		close(*fd);
		*fd = -1;
		return -1;
	}
	*dev = st.st_dev;
	*ino = st.st_ino;
	return 0;
}

static int open_subdirs(struct trash *t, bool create, struct sd_err *err)
{
	if (open_sub(t, "files", &t->files_fd, &t->files_dev, &t->files_ino,
		     create, err) < 0 ||
	    open_sub(t, "info", &t->info_fd, &t->info_dev, &t->info_ino, create,
		     err) < 0)
		return -1;
	return 0;
}

/* Why (dirfd, name), which could not be opened as a directory, is not
 * usable, after open failed with errno. */
static void why_not_dir(int dirfd, const char *name, const char *path,
			char *why, size_t wn)
{
	int e = errno;
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		snprintf(why, wn, "'%s' is a symbolic link", path);
	else if (e == ENOTDIR || e == ELOOP)
		snprintf(why, wn, "'%s' is not a directory", path);
	else
		snprintf(why, wn, "cannot open '%s': %s", path, strerror(e));
}

/* The home trash, made (mkdir -p, 0700) with create; NULL with errno
 * ENOENT when it does not exist and create is false. */
static struct trash *home_trash(struct trash_set *s, bool create,
				struct sd_err *err)
{
	struct trash *t = find_trash(s, TRASH_HOME, 0, s->home_dir);
	char why[PATH_MAX + 64];
	int fd;

	if (t)
		return open_subdirs(t, create, err) < 0 ? NULL : t;
	if (create && fs_mkdirs(s->home_dir, 0700, err) < 0)
		return NULL;
	fd = open(s->home_dir, DIR_FLAGS);
	if (fd < 0) {
		if (errno == ENOENT && !create) {
			err_errno(err, SD_EXIT_CANNOT, "cannot open '%s'",
				  s->home_dir);
			return NULL;
		}
		why_not_dir(AT_FDCWD, s->home_dir, s->home_dir, why,
			    sizeof(why));
		err_set(err, SD_EXIT_CANNOT, "cannot use the home trash: %s",
			why);
		errno = EINVAL;
		return NULL;
	}
	t = trash_new(TRASH_HOME, s->home_dir, NULL, fd, err);
	if (!t || set_add(s, t, err) < 0)
		return NULL;
	return open_subdirs(t, create, err) < 0 ? NULL : t;
}

/* The mount path is on, or would be created on: that of its nearest
 * existing ancestor. Symlinks are followed (a moved ~/.local, a restore
 * through a symlinked directory), as mkdir -p and open would. */
static int path_mount(const char *path, uint64_t *id)
{
	char *p = strdup(path);
	int r = -1;

	if (!p)
		return -1;
	for (;;) {
		int fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
		char *slash;

		if (fd >= 0) {
			r = mounts_id_at(fd, "", id, NULL, NULL);
			close(fd);
			break;
		}
		slash = strrchr(p, '/');
		if (!slash || (slash == p && !p[1]))
			break;
		if (slash == p)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	free(p);
	return r;
}

/* The mount the home trash is on, or would be created on. why is set when
 * the home trash exists but cannot be used (a symlink, not a directory). */
static int home_mount(struct trash_set *s, uint64_t *id, char *why, size_t wn)
{
	struct trash *t = find_trash(s, TRASH_HOME, 0, s->home_dir);
	char *parent;
	int fd, r;

	why[0] = '\0';
	if (t) {
		*id = t->mnt_id;
		return 0;
	}
	fd = open(s->home_dir, PATH_DIR_FLAGS);
	if (fd >= 0) {
		r = mounts_id_at(fd, "", id, NULL, NULL);
		close(fd);
		return r;
	}
	if (errno != ENOENT)
		why_not_dir(AT_FDCWD, s->home_dir, s->home_dir, why, wn);
	parent = strdup(s->home_dir);
	if (!parent)
		return -1;
	*strrchr(parent, '/') = '\0';
	r = path_mount(*parent ? parent : "/", id);
	free(parent);
	return r;
}

/* The mount point of m, opened and checked to be m itself: a mount hidden
 * under a later one on the same point cannot be reached by its path. */
static int open_topdir(const struct mount_info *m, struct sd_err *err)
{
	uint64_t id;
	int fd = open(m->point, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return err_errno(err, SD_EXIT_CANNOT, "cannot open '%s'",
				 m->point);
	if (mounts_id_at(fd, "", &id, NULL, NULL) < 0 || id != m->id) {
		close(fd);
		return err_set(err, SD_EXIT_CANNOT,
			       "'%s' is hidden by another mount on it",
			       m->point);
	}
	return fd;
}

/* Is .Trash under top_fd usable (spec: a real directory with the sticky
 * bit)? Returns an O_PATH descriptor of it; -1 with why empty when it does
 * not exist, else why says what is wrong. */
static int open_shared_trash(int top_fd, const char *path, char *why, size_t wn)
{
	struct stat st, st2;
	int fd;

	why[0] = '\0';
	if (fstatat(top_fd, ".Trash", &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)
			snprintf(why, wn, "cannot examine '%s': %s", path,
				 strerror(errno));
		return -1;
	}
	if (S_ISLNK(st.st_mode)) {
		snprintf(why, wn, "'%s' is a symbolic link", path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, wn, "'%s' is not a directory", path);
		return -1;
	}
	if (!(st.st_mode & S_ISVTX)) {
		snprintf(why, wn, "'%s' has no sticky bit", path);
		return -1;
	}
	fd = openat(top_fd, ".Trash", PATH_DIR_FLAGS);
	if (fd < 0) {
		why_not_dir(top_fd, ".Trash", path, why, wn);
		return -1;
	}
	/* What was checked is what was opened. */
	if (fstat(fd, &st2) < 0 || st2.st_dev != st.st_dev ||
	    st2.st_ino != st.st_ino || !(st2.st_mode & S_ISVTX)) {
		snprintf(why, wn, "'%s' changed while being checked", path);
		close(fd);
		return -1;
	}
	return fd;
}

/* $topdir/.Trash/$uid (kind TRASH_TOPDIR_UID) or $topdir/.Trash-$uid of
 * mount m, checked as the spec says and made with create. NULL with why
 * empty when it does not exist (and create is false), else why says what is
 * wrong. */
static struct trash *topdir_trash(struct trash_set *s,
				  const struct mount_info *m, int top_fd,
				  enum trash_kind kind, bool create, char *why,
				  size_t wn)
{
	char name[32], rel[48], *path = NULL;
	struct trash *t = NULL;
	struct sd_err err = {0};
	struct stat st;
	int base_fd = top_fd, fd = -1;
	bool made = false;

	why[0] = '\0';
	snprintf(name, sizeof(name), "%u", (unsigned)s->uid);
	if (kind == TRASH_TOPDIR_UID)
		snprintf(rel, sizeof(rel), ".Trash/%s", name);
	else
		snprintf(rel, sizeof(rel), ".Trash-%s", name);
	path = join(m->point, rel);
	if (!path) {
		snprintf(why, wn, "out of memory");
		return NULL;
	}
	t = find_trash(s, kind, m->id, path);
	if (t) {
		if (open_subdirs(t, create, &err) < 0) {
			snprintf(why, wn, "%s", err.msg);
			t = NULL;
		}
		goto out;
	}
	if (kind == TRASH_TOPDIR_UID) {
		char *shared = join(m->point, ".Trash");

		if (!shared) {
			snprintf(why, wn, "out of memory");
			goto out;
		}
		base_fd = open_shared_trash(top_fd, shared, why, wn);
		free(shared);
		if (base_fd < 0)
			goto out;
	} else {
		snprintf(name, sizeof(name), ".Trash-%u", (unsigned)s->uid);
	}
	if (create) {
		if (mkdirat(base_fd, name, 0700) == 0) {
			made = true;
		} else if (errno != EEXIST) {
			snprintf(why, wn, "cannot create '%s': %s", path,
				 strerror(errno));
			goto out;
		}
	}
	fd = openat(base_fd, name, DIR_FLAGS);
	if (fd < 0) {
		if (errno != ENOENT || create)
			why_not_dir(base_fd, name, path, why, wn);
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(why, wn, "cannot examine '%s': %s", path,
			 strerror(errno));
		goto out;
	}
	if (st.st_uid != s->uid) {
		/* FAT and the like give every file one owner: no place to
		 * keep a private trash; and a planted one is not ours. */
		if (made)
			unlinkat(base_fd, name, AT_REMOVEDIR);
		snprintf(why, wn, "'%s' is not owned by you", path);
		goto out;
	}
	t = trash_new(kind, path, m->point, fd, &err);
	fd = -1;
	if (!t || set_add(s, t, &err) < 0 ||
	    open_subdirs(t, create, &err) < 0) {
		snprintf(why, wn, "%s", err.msg);
		t = NULL;
	}
out:
	if (fd >= 0)
		close(fd);
	if (base_fd != top_fd && base_fd >= 0)
		close(base_fd);
	free(path);
	return t;
}

static const struct mount_info *find_mount(struct trash_set *s, uint64_t id)
{
	const struct mount_info *m = mounts_by_id(&s->mounts, id);
	struct mount_table fresh;

	/* Mounted since trash_set_init: read the table again. */
	if (!m && mounts_load(&fresh, NULL, NULL) == 0) {
		mounts_release(&s->mounts);
		s->mounts = fresh;
		m = mounts_by_id(&s->mounts, id);
	}
	return m;
}

int trash_select(struct trash_set *s, int parent_fd, const char *name,
		 struct trash **out, struct sd_err *err)
{
	char why1[PATH_MAX + 128], why2[PATH_MAX + 128];
	const struct mount_info *m;
	uint64_t id, home_id;
	struct trash *t;
	bool root;
	int top_fd;

	if (mounts_id_at(parent_fd, name, &id, &root, err) < 0)
		return -1;
	/* A mount point moves (or rather fails to) within its parent. */
	if (root && mounts_id_at(parent_fd, "", &id, NULL, err) < 0)
		return -1;
	if (home_mount(s, &home_id, why1, sizeof(why1)) == 0 && id == home_id) {
		if (why1[0])
			return err_set(err, SD_EXIT_CANNOT,
				       "cannot use the home trash: %s", why1);
		t = home_trash(s, true, err);
		if (!t)
			return -1;
		if (t->mnt_id == id) {
			*out = t;
			return 0;
		}
	}
	m = find_mount(s, id);
	if (!m)
		return err_set(err, SD_EXIT_CANNOT,
			       "cannot find mount %" PRIu64
			       " in /proc/self/mountinfo",
			       id);
	top_fd = open_topdir(m, err);
	if (top_fd < 0)
		return err_prefix(err,
				  "no usable trash on the filesystem mounted "
				  "at '%s'",
				  m->point);
	t = topdir_trash(s, m, top_fd, TRASH_TOPDIR_UID, true, why1,
			 sizeof(why1));
	if (!t)
		t = topdir_trash(s, m, top_fd, TRASH_TOPDIR_USER, true, why2,
				 sizeof(why2));
	close(top_fd);
	if (t && t->mnt_id != id) {
		snprintf(why2, sizeof(why2), "'%s' is on another mount",
			 t->dir);
		t = NULL;
	}
	if (!t)
		return err_set(err, SD_EXIT_CANNOT,
			       "no usable trash on the filesystem mounted at "
			       "'%s': %s%s%s",
			       m->point, why1, why1[0] && why2[0] ? "; " : "",
			       why2);
	*out = t;
	return 0;
}

/* --- Putting into the trash ---------------------------------------------- */

/* How many bytes of s[0, len) to keep so as not to split a UTF-8
 * sequence. */
static size_t utf8_cut(const char *s, size_t len)
{
	while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
		len--;
	return len;
}

/* The try-th name for base: base itself, then GLib's "a.2.txt" (the
 * counter before the first dot that does not start the name), then random
 * suffixes. Cut so that NAME.trashinfo fits in NAME_MAX. */
static void candidate(const char *base, unsigned try, char *out, size_t n)
{
	char sfx[24] = "";
	const char *start = base, *dot, *ext;
	size_t stem, ext_len, sfx_len, blen = strlen(base);

	while (*start == '.')
		start++;
	dot = strchr(start, '.');
	stem = dot ? (size_t)(dot - base) : blen;
	ext = dot ? dot : "";
	if (try >= 2 && try <= COUNTER_TRIES) {
		snprintf(sfx, sizeof(sfx), ".%u", try);
	} else if (try > COUNTER_TRIES) {
		uint32_t r = 0;

		if (getrandom(&r, sizeof(r), 0) != sizeof(r))
			r = (uint32_t)getpid() * 2654435761u + try;
		snprintf(sfx, sizeof(sfx), ".%08" PRIx32, r);
	}
	sfx_len = strlen(sfx);
	ext_len = strlen(ext);
	if (ext_len + sfx_len >= ENTRY_MAX / 2) {
		/* An "extension" that long is no extension. */
		stem = blen;
		ext = "";
		ext_len = 0;
	}
	if (stem + sfx_len + ext_len > ENTRY_MAX)
		stem = utf8_cut(base, ENTRY_MAX - sfx_len - ext_len);
	snprintf(out, n, "%.*s%s%s", (int)stem, base, sfx, ext);
}

/* The Path to write for (parent_fd, name) in t: abs_path when it is usable
 * (absolute, no "..", under the topdir), else the kernel's path of the
 * parent. It must pass the reader's checks (entry_abs_path). */
static char *info_path(const struct trash *t, int parent_fd, const char *name,
		       const char *abs_path)
{
	char link[64], buf[PATH_MAX], why[PATH_MAX + 64];

	for (int pass = 0; pass < 2; pass++) {
		char *cand = NULL, *abs;
		ssize_t n;

		if (pass == 0) {
			cand = clean_path(abs_path);
		} else {
			snprintf(link, sizeof(link), "/proc/self/fd/%d",
				 parent_fd);
			n = readlink(link, buf, sizeof(buf) - 1);
			if (n <= 0 || buf[0] != '/')
				break;
			buf[n] = '\0';
			cand = join(buf, name);
		}
		if (!cand)
			break;
		if (cand[0] == '/' && !has_dotdot(cand) &&
		    (t->kind == TRASH_HOME || is_under(cand, t->topdir))) {
			const char *rel = cand;

			if (t->kind != TRASH_HOME)
				rel = cand + strlen(t->topdir) +
				      (strcmp(t->topdir, "/") != 0);
			abs = entry_abs_path(t,
					     t->kind == TRASH_HOME ? cand : rel,
					     why, sizeof(why));
			if (abs) {
				char *r = strdup(t->kind == TRASH_HOME ? cand
								       : rel);

				free(abs);
				free(cand);
				return r;
			}
		}
		free(cand);
	}
	return NULL;
}

/* renameat2(RENAME_NOREPLACE); where the filesystem lacks it, a
 * placeholder of the same type claims the name and the rename replaces
 * it (trash-rs' way). errno is the failure's. */
static int move_noreplace(int ofd, const char *oname, int nfd,
			  const char *nname, bool is_dir)
{
	int fd, e;

	if (renameat2(ofd, oname, nfd, nname, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
		return -1;
	e = errno;
	if (is_dir) {
		if (mkdirat(nfd, nname, 0700) < 0)
			return -1;
	} else {
		fd = openat(nfd, nname,
			    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
				    O_CLOEXEC,
			    0600);
		if (fd < 0)
			return -1;
		close(fd);
	}
	if (renameat(ofd, oname, nfd, nname) == 0)
		return 0;
	e = errno;
	unlinkat(nfd, nname, is_dir ? AT_REMOVEDIR : 0);
	errno = e;
	return -1;
}

/* Create info/iname in dfd holding text, whole or not at all: written to
 * an unnamed file (O_TMPFILE) that is then linked under its name, which,
 * like O_EXCL, never replaces a name taken (EEXIST). Created with O_EXCL
 * and then written, a SIGKILL between the two left an empty .trashinfo
 * that no reader parses and --purge never removed (tests/faults.bats).
 * Where the filesystem has no O_TMPFILE, that is still the way. -1 with
 * errno, *step saying which step failed ("create" or "write"). */
static int info_create(int dfd, const char *iname, const char *text, size_t len,
		       const char **step)
{
	char proc[64];
	int fd, e;

	*step = "create";
	fd = openat(dfd, ".", O_WRONLY | O_TMPFILE | O_CLOEXEC, 0600);
	if (fd >= 0) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		if (fs_write_all(fd, text, len) < 0)
			*step = "write";
		else if (linkat(AT_FDCWD, proc, dfd, iname,
				AT_SYMLINK_FOLLOW) == 0) {
			close(fd);
			return 0;
		}
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return -1;
	fd = openat(dfd, iname,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (fs_write_all(fd, text, len) < 0) {
		e = errno;
		close(fd);
	} else if (close(fd) < 0) {
		/* The descriptor is gone either way: never close it again,
		 * another thread may already hold the number. */
		e = errno;
	} else {
		return 0;
	}
	unlinkat(dfd, iname, 0);
	*step = "write";
	errno = e;
	return -1;
}

int trash_put(struct trash *t, int parent_fd, const char *name,
	      const char *abs_path, time_t when, char *entry, size_t entry_len,
	      int *errnum, struct sd_err *err)
{
	char cand[ENTRY_MAX + 1], iname[NAME_MAX + 1], *path, *text = NULL;
	size_t cap;
	struct stat st;
	int len, rc = -1;

	*errnum = 0;
	if (!*name || strchr(name, '/') || !strcmp(name, ".") ||
	    !strcmp(name, ".."))
		return err_set(err, SD_EXIT_FAIL, "invalid file name '%s'",
			       name);
	if (t->files_fd < 0 || t->info_fd < 0)
		return err_set(err, SD_EXIT_CANNOT,
			       "the trash '%s' has no files or info directory",
			       t->dir);
	if (fstatat(parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		*errnum = errno;
		return err_errno(err, SD_EXIT_FAIL, "cannot examine '%s'",
				 abs_path);
	}
	path = info_path(t, parent_fd, name, abs_path);
	if (!path)
		return err_set(err, SD_EXIT_CANNOT,
			       "cannot work out the path of '%s' below '%s'",
			       abs_path, t->topdir ? t->topdir : "/");
	cap = strlen(path) * 3 + 128;
	text = malloc(cap);
	if (!text || (len = trashinfo_format(text, cap, path, when)) < 0) {
		err_set(err, SD_EXIT_CANNOT, "out of memory");
		goto out;
	}
	for (unsigned try = 1; try <= COUNTER_TRIES + RANDOM_TRIES; try++) {
		const char *step;

		candidate(name, try, cand, sizeof(cand));
		if (strlen(cand) >= entry_len) {
			err_set(err, SD_EXIT_CANNOT,
				"no room for the entry name '%s'", cand);
			goto out;
		}
		snprintf(iname, sizeof(iname), "%s" TRASHINFO_SUFFIX, cand);
		/* The info file first and complete: a reader never sees an
		 * object in files/ without it, nor a half-written one. */
		if (info_create(t->info_fd, iname, text, (size_t)len, &step) <
		    0) {
			if (errno == EEXIST)
				continue;
			*errnum = errno;
			err_errno(err, SD_EXIT_CANNOT, "cannot %s '%s/info/%s'",
				  step, t->dir, iname);
			goto out;
		}
		if (move_noreplace(parent_fd, name, t->files_fd, cand,
				   S_ISDIR(st.st_mode)) == 0) {
			snprintf(entry, entry_len, "%s", cand);
			rc = 0;
			goto out;
		}
		*errnum = errno;
		unlinkat(t->info_fd, iname, 0);
		/* A stale orphan in files/ holds the name. */
		if (*errnum == EEXIST || *errnum == ENOTEMPTY) {
			*errnum = 0;
			continue;
		}
		errno = *errnum;
		if (*errnum == EXDEV)
			err_set(err, SD_EXIT_CANNOT,
				"'%s' is not on the mount of the trash '%s'",
				abs_path, t->dir);
		else
			err_errno(err, SD_EXIT_CANNOT,
				  "cannot move '%s' to '%s/files/%s'", abs_path,
				  t->dir, cand);
		goto out;
	}
	*errnum = EEXIST;
	err_set(err, SD_EXIT_CANNOT, "no free name for '%s' in the trash '%s'",
		name, t->dir);
out:
	free(text);
	free(path);
	return rc;
}

/* --- Reading entries ----------------------------------------------------- */

/* Read and check info/NAME.trashinfo of t: 1 when read, 0 when there is
 * none, -1 with why. */
static int read_info(const struct trash *t, const char *name, char **abs,
		     int64_t *deleted, int64_t *mtime, char *why, size_t wn)
{
	char iname[NAME_MAX + 1], *text = NULL, *path = NULL;
	struct sd_err err = {0};
	struct stat st;
	size_t len;
	int fd;

	*abs = NULL;
	*deleted = -1;
	if (t->info_fd < 0)
		return 0;
	if (strlen(name) > ENTRY_MAX) {
		snprintf(why, wn, "its name is too long");
		return -1;
	}
	snprintf(iname, sizeof(iname), "%s" TRASHINFO_SUFFIX, name);
	/* O_NONBLOCK: a FIFO planted in info/ must not hang the listing. */
	fd = openat(t->info_fd, iname,
		    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno == ELOOP)
			snprintf(why, wn, "it is a symbolic link");
		else
			snprintf(why, wn, "cannot open it: %s",
				 strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(why, wn, "it is not a regular file");
		return -1;
	}
	if (st.st_size > (off_t)TRASHINFO_MAX ||
	    fs_read_fd(fd, iname, TRASHINFO_MAX, &text, &len, &err) < 0) {
		close(fd);
		if (err.msg[0])
			snprintf(why, wn, "%s", err.msg);
		else
			snprintf(why, wn, "it is larger than %u KiB",
				 TRASHINFO_MAX >> 10);
		return -1;
	}
	close(fd);
	if (trashinfo_parse(text, len, &path, deleted, &err) < 0) {
		free(text);
		snprintf(why, wn, "%s", err.msg);
		return -1;
	}
	free(text);
	*abs = entry_abs_path(t, path, why, wn);
	free(path);
	if (!*abs)
		return -1;
	*mtime = (int64_t)st.st_mtim.tv_sec;
	return 1;
}

/* A directory stream over fd, which stays open. */
static DIR *open_dir(int fd)
{
	int d = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir;

	if (d < 0)
		return NULL;
	dir = fdopendir(d);
	if (!dir)
		close(d);
	return dir;
}

/* --- directorysizes ------------------------------------------------------ */

struct size_line {
	char *name;
	uint64_t size;
	int64_t mtime; /* of the .trashinfo */
};

struct sizes {
	struct size_line *v;
	size_t n, cap;
	bool dirty; /* differs from the file */
};

static void sizes_release(struct sizes *z)
{
	for (size_t i = 0; i < z->n; i++)
		free(z->v[i].name);
	free(z->v);
	memset(z, 0, sizeof(*z));
}

static int sizes_add(struct sizes *z, const char *name, uint64_t size,
		     int64_t mtime)
{
	if (z->n == z->cap) {
		size_t cap = z->cap ? z->cap * 2 : 16;
		struct size_line *v = realloc(z->v, cap * sizeof(*v));

		if (!v)
			return -1;
		z->v = v;
		z->cap = cap;
	}
	z->v[z->n].name = strdup(name);
	if (!z->v[z->n].name)
		return -1;
	z->v[z->n].size = size;
	z->v[z->n].mtime = mtime;
	z->n++;
	return 0;
}

static int size_line_cmp(const void *a, const void *b)
{
	return strcmp(((const struct size_line *)a)->name,
		      ((const struct size_line *)b)->name);
}

static const struct size_line *sizes_find(const struct sizes *z,
					  const char *name)
{
	struct size_line key = {.name = (char *)name};

	if (!z->n)
		return NULL;
	return bsearch(&key, z->v, z->n, sizeof(key), size_line_cmp);
}

static bool valid_entry_name(const char *name)
{
	return *name && !strchr(name, '/') && strcmp(name, ".") &&
	       strcmp(name, "..");
}

/* One line: "<size> <mtime> <encoded name>". */
static bool parse_size_line(char *line, struct sizes *z)
{
	char *end, *name;
	uint64_t size;
	int64_t mtime;
	bool ok;

	if (*line < '0' || *line > '9')
		return false;
	errno = 0;
	size = strtoull(line, &end, 10);
	if (errno || *end != ' ')
		return false;
	line = end + 1;
	if ((*line < '0' || *line > '9') && *line != '-')
		return false;
	mtime = strtoll(line, &end, 10);
	if (errno || *end != ' ' || end == line)
		return false;
	name = trash_path_decode(end + 1);
	ok = name && valid_entry_name(name) &&
	     sizes_add(z, name, size, mtime) == 0;
	free(name);
	return ok;
}

/* The cache of t, sorted by name; malformed lines are skipped (and
 * dropped at the next rewrite). A missing or unreadable file is empty. */
static void sizes_load(const struct trash *t, struct sizes *z)
{
	char *text = NULL, *line, *next;
	struct stat st;
	size_t len;
	int fd;

	memset(z, 0, sizeof(*z));
	fd = openat(t->dir_fd, DIRSIZES_NAME,
		    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    fs_read_fd(fd, DIRSIZES_NAME, DIRSIZES_MAX, &text, &len, NULL) <
		    0) {
		close(fd);
		z->dirty = true;
		return;
	}
	close(fd);
	if (memchr(text, '\0', len))
		z->dirty = true;
	for (line = text; line < text + len && *line; line = next) {
		char *nl = strchr(line, '\n');

		next = nl ? nl + 1 : line + strlen(line);
		if (nl)
			*nl = '\0';
		if (!parse_size_line(line, z))
			z->dirty = true;
	}
	free(text);
	if (z->n)
		qsort(z->v, z->n, sizeof(*z->v), size_line_cmp);
}

/* Replace t's directorysizes by z: a temporary file in the trash
 * directory, then rename, so that a reader sees the old or the new. */
static int sizes_write(const struct trash *t, const struct sizes *z,
		       struct sd_err *err)
{
	char *text = NULL, tmp[64];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int fd = -1, rc = -1;

	if (!f)
		return err_set(err, SD_EXIT_CANNOT, "out of memory");
	for (size_t i = 0; i < z->n; i++) {
		char *enc = encode_dup(z->v[i].name);

		if (!enc) {
			fclose(f);
			free(text);
			return err_set(err, SD_EXIT_CANNOT, "out of memory");
		}
		fprintf(f, "%" PRIu64 " %" PRId64 " %s\n", z->v[i].size,
			z->v[i].mtime, enc);
		free(enc);
	}
	if (fclose(f) != 0) {
		free(text);
		return err_set(err, SD_EXIT_CANNOT, "out of memory");
	}
	for (int k = 0; k < 16 && fd < 0; k++) {
		uint32_t r = 0;

		if (getrandom(&r, sizeof(r), 0) != sizeof(r))
			r = (uint32_t)getpid() + (uint32_t)k * 7919u;
		snprintf(tmp, sizeof(tmp), DIRSIZES_NAME ".%08" PRIx32, r);
		fd = openat(t->dir_fd, tmp,
			    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
				    O_CLOEXEC,
			    0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		err_errno(err, SD_EXIT_CANNOT, "cannot write '%s/%s'", t->dir,
			  DIRSIZES_NAME);
		goto out;
	}
	if (fs_write_all(fd, text, len) < 0) {
		err_errno(err, SD_EXIT_CANNOT, "cannot write '%s/%s'", t->dir,
			  tmp);
		close(fd);
		unlinkat(t->dir_fd, tmp, 0);
		goto out;
	}
	if (close(fd) < 0 ||
	    renameat(t->dir_fd, tmp, t->dir_fd, DIRSIZES_NAME) < 0) {
		err_errno(err, SD_EXIT_CANNOT, "cannot write '%s/%s'", t->dir,
			  DIRSIZES_NAME);
		unlinkat(t->dir_fd, tmp, 0);
		goto out;
	}
	rc = 0;
out:
	free(text);
	return rc;
}

int trash_forget_size(struct trash *t, const char *name, struct sd_err *err)
{
	struct sizes z;
	size_t kept = 0;
	int rc = 0;

	sizes_load(t, &z);
	for (size_t i = 0; i < z.n; i++) {
		if (!strcmp(z.v[i].name, name)) {
			free(z.v[i].name);
			z.dirty = true;
		} else {
			z.v[kept++] = z.v[i];
		}
	}
	z.n = kept;
	if (z.dirty)
		rc = sizes_write(t, &z, err);
	sizes_release(&z);
	return rc;
}

/* The disk usage of files/NAME (du -B1): from the cache when the
 * .trashinfo has not changed since (spec 1.0 section "directorysizes"),
 * else counted and put in fresh; mtime < 0 means no cache (an orphan). */
static uint64_t entry_size(const struct trash *t, const char *name,
			   const struct stat *st, int64_t mtime,
			   const struct sizes *old, struct sizes *fresh)
{
	struct rmtree_count c = {0};
	const struct size_line *l;

	if (!S_ISDIR(st->st_mode))
		return (uint64_t)st->st_blocks * 512;
	l = mtime >= 0 ? sizes_find(old, name) : NULL;
	if (l && l->mtime == mtime) {
		if (sizes_add(fresh, name, l->size, mtime) < 0)
			fresh->dirty = true;
		return l->size;
	}
	if (rmtree_count(t->files_fd, name, 0, 0, true, &c, NULL) < 0)
		return TRASH_SIZE_UNKNOWN;
	/* A partial count is shown but not remembered. */
	if (mtime >= 0 && !c.unreadable)
		sizes_add(fresh, name, c.disk, mtime);
	fresh->dirty = true;
	return c.disk;
}

/* --- Listing ------------------------------------------------------------- */

static void warnf(trash_warn_fn warn, void *ctx, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void warnf(trash_warn_fn warn, void *ctx, const char *fmt, ...)
{
	char msg[PATH_MAX * 2];
	va_list ap;

	if (!warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	warn(ctx, msg);
}

struct lister {
	struct trash_list *out;
	size_t cap;
	trash_warn_fn warn;
	void *ctx;
	bool sizes;
};

/* Append an entry; name and path are taken over. */
static int add_entry(struct lister *l, struct trash *t, char *name, char *path,
		     int64_t deleted, enum trash_entry_state state, bool is_dir,
		     uint64_t size)
{
	struct trash_entry *e;

	if (l->out->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct trash_entry *v = realloc(l->out->v, cap * sizeof(*v));

		if (!v) {
			free(name);
			free(path);
			return -1;
		}
		l->out->v = v;
		l->cap = cap;
	}
	e = &l->out->v[l->out->n++];
	e->trash = t;
	e->name = name;
	e->path = path;
	e->deleted = deleted;
	e->state = state;
	e->is_dir = is_dir;
	e->size = size;
	return 0;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct names {
	char **v;
	size_t n, cap;
};

static int names_add(struct names *ns, const char *name)
{
	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? ns->cap * 2 : 64;
		char **v = realloc(ns->v, cap * sizeof(*v));

		if (!v)
			return -1;
		ns->v = v;
		ns->cap = cap;
	}
	if (!(ns->v[ns->n] = strdup(name)))
		return -1;
	ns->n++;
	return 0;
}

static void names_release(struct names *ns)
{
	for (size_t i = 0; i < ns->n; i++)
		free(ns->v[i]);
	free(ns->v);
}

/* The entries of info/. The name of every valid .trashinfo goes to seen; a
 * corrupt or hostile one is skipped with a warning, and its files/ entry
 * then shows as an orphan, so that it stays visible and can be purged
 * (never restored: its Path is not to be trusted). */
static int list_info(struct lister *l, struct trash *t, struct names *seen,
		     const struct sizes *old, struct sizes *fresh)
{
	char why[PATH_MAX + 128];
	struct dirent *de;
	DIR *d = open_dir(t->info_fd);

	if (!d) {
		warnf(l->warn, l->ctx, "cannot read '%s/info': %s", t->dir,
		      strerror(errno));
		return 0;
	}
	for (errno = 0; (de = readdir(d)); errno = 0) {
		size_t n = strlen(de->d_name);
		int64_t deleted, mtime = -1;
		char *name, *abs;
		struct stat st;
		bool has;
		int r;

		if (n <= SUFFIX_LEN ||
		    strcmp(de->d_name + n - SUFFIX_LEN, TRASHINFO_SUFFIX))
			continue;
		name = strndup(de->d_name, n - SUFFIX_LEN);
		if (!name) {
			closedir(d);
			return -1;
		}
		r = read_info(t, name, &abs, &deleted, &mtime, why,
			      sizeof(why));
		if (r > 0 && names_add(seen, name) < 0) {
			free(name);
			free(abs);
			closedir(d);
			return -1;
		}
		if (r <= 0) {
			if (r < 0)
				warnf(l->warn, l->ctx,
				      "skipping '%s/info/%s': %s", t->dir,
				      de->d_name, why);
			free(name);
			continue;
		}
		has = t->files_fd >= 0 &&
		      fstatat(t->files_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
		if (add_entry(l, t, name, abs, deleted,
			      has ? TRASH_ENTRY_OK : TRASH_ENTRY_NO_FILE,
			      has && S_ISDIR(st.st_mode),
			      has && l->sizes ? entry_size(t, name, &st, mtime,
							   old, fresh)
					      : TRASH_SIZE_UNKNOWN) < 0) {
			closedir(d);
			return -1;
		}
	}
	if (errno)
		warnf(l->warn, l->ctx, "cannot read '%s/info': %s", t->dir,
		      strerror(errno));
	closedir(d);
	return 0;
}

/* The entries of files/ that have no .trashinfo: an emergency the spec
 * wants shown. */
static int list_orphans(struct lister *l, struct trash *t,
			const struct names *seen, const struct sizes *old,
			struct sizes *fresh)
{
	struct dirent *de;
	DIR *d = open_dir(t->files_fd);

	if (!d) {
		warnf(l->warn, l->ctx, "cannot read '%s/files': %s", t->dir,
		      strerror(errno));
		return 0;
	}
	for (errno = 0; (de = readdir(d)); errno = 0) {
		const char *key = de->d_name;
		struct stat st;
		char *name;

		if (!strcmp(key, ".") || !strcmp(key, ".."))
			continue;
		if (seen->n &&
		    bsearch(&key, seen->v, seen->n, sizeof(char *), str_cmp))
			continue;
		if (fstatat(t->files_fd, key, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* gone meanwhile */
		name = strdup(key);
		if (!name ||
		    add_entry(l, t, name, NULL, -1, TRASH_ENTRY_NO_INFO,
			      S_ISDIR(st.st_mode),
			      l->sizes ? entry_size(t, key, &st, -1, old, fresh)
				       : TRASH_SIZE_UNKNOWN) < 0) {
			closedir(d);
			return -1;
		}
	}
	if (errno)
		warnf(l->warn, l->ctx, "cannot read '%s/files': %s", t->dir,
		      strerror(errno));
	closedir(d);
	return 0;
}

static int list_trash(struct lister *l, struct trash *t)
{
	struct sizes old = {0}, fresh = {0};
	struct names seen = {0};
	int rc = 0;

	if (l->sizes)
		sizes_load(t, &old);
	if (t->info_fd >= 0)
		rc = list_info(l, t, &seen, &old, &fresh);
	if (seen.n)
		qsort(seen.v, seen.n, sizeof(*seen.v), str_cmp);
	if (!rc && t->files_fd >= 0)
		rc = list_orphans(l, t, &seen, &old, &fresh);
	/* Lines of entries gone since are dropped too; the spec accepts a
	 * lost update when two writers race. */
	if (!rc && l->sizes && (old.dirty || fresh.dirty || old.n != fresh.n))
		sizes_write(t, &fresh, NULL);
	sizes_release(&old);
	sizes_release(&fresh);
	names_release(&seen);
	return rc;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct trash_entry *x = a, *y = b;
	int c;

	if (x->deleted != y->deleted)
		return x->deleted < y->deleted ? -1 : 1;
	c = strcmp(x->name, y->name);
	return c ? c : strcmp(x->trash->dir, y->trash->dir);
}

/* The topdir trashes of m that exist and pass the checks, added to the
 * set; problems worth telling are warned about. */
static void find_topdir_trashes(struct trash_set *s, const struct mount_info *m,
				trash_warn_fn warn, void *ctx)
{
	static const enum trash_kind kinds[] = {TRASH_TOPDIR_UID,
						TRASH_TOPDIR_USER};
	char why[PATH_MAX + 128], rel[48];
	int top = open_topdir(m, NULL);

	if (top < 0)
		return;
	for (size_t k = 0; k < 2; k++) {
		struct stat st;

		if (topdir_trash(s, m, top, kinds[k], false, why,
				 sizeof(why)) ||
		    !why[0])
			continue;
		if (kinds[k] == TRASH_TOPDIR_UID)
			snprintf(rel, sizeof(rel), ".Trash/%u",
				 (unsigned)s->uid);
		else
			snprintf(rel, sizeof(rel), ".Trash-%u",
				 (unsigned)s->uid);
		/* A .Trash that fails the checks matters only to a user who
		 * has a directory in it: the spec wants it reported. */
		if (fstatat(top, rel, &st, AT_SYMLINK_NOFOLLOW) == 0)
			warnf(warn, ctx, "not listing '%s%s%s': %s", m->point,
			      strcmp(m->point, "/") ? "/" : "", rel, why);
	}
	close(top);
}

int trash_list_all(struct trash_set *s, bool sizes, trash_warn_fn warn,
		   void *ctx, struct trash_list *out, struct sd_err *err)
{
	struct lister l = {
		.out = out, .warn = warn, .ctx = ctx, .sizes = sizes};
	struct sd_err herr = {0};
	struct stat st;

	memset(out, 0, sizeof(*out));
	if (!home_trash(s, false, &herr) && lstat(s->home_dir, &st) == 0)
		warnf(warn, ctx, "%s", herr.msg);
	for (size_t i = 0; i < s->mounts.n; i++)
		find_topdir_trashes(s, &s->mounts.v[i], warn, ctx);
	for (size_t i = 0; i < s->n; i++) {
		struct trash *t = s->v[i];
		bool dup = false;

		/* One directory seen through several mounts (bind mounts,
		 * a home trash that is also a topdir trash) is listed once. */
		for (size_t j = 0; j < i && !dup; j++)
			dup = s->v[j]->dev == t->dev && s->v[j]->ino == t->ino;
		if (dup)
			continue;
		if (list_trash(&l, t) < 0) {
			trash_list_release(out);
			return err_set(err, SD_EXIT_CANNOT, "out of memory");
		}
	}
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), entry_cmp);
	return 0;
}

void trash_entry_release(struct trash_entry *e)
{
	free(e->name);
	free(e->path);
	e->name = e->path = NULL;
}

void trash_list_release(struct trash_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		trash_entry_release(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* --- One entry, restoring ------------------------------------------------ */

/* The trash of this user whose directory is dir: the home trash or a
 * topdir trash of a mount that is not hidden, with the spec's checks. */
static struct trash *trash_by_dir(struct trash_set *s, const char *dir,
				  struct sd_err *err)
{
	static const enum trash_kind kinds[] = {TRASH_TOPDIR_UID,
						TRASH_TOPDIR_USER};
	char rel[48], why[PATH_MAX + 128];

	if (!strcmp(dir, s->home_dir))
		return home_trash(s, false, err);
	/* From the last: a later mount on the same point hides an earlier. */
	for (size_t i = s->mounts.n; i-- > 0;) {
		const struct mount_info *m = &s->mounts.v[i];

		for (size_t k = 0; k < 2; k++) {
			struct trash *t;
			char *path;
			bool match;
			int top;

			if (kinds[k] == TRASH_TOPDIR_UID)
				snprintf(rel, sizeof(rel), ".Trash/%u",
					 (unsigned)s->uid);
			else
				snprintf(rel, sizeof(rel), ".Trash-%u",
					 (unsigned)s->uid);
			path = join(m->point, rel);
			match = path && !strcmp(path, dir);
			free(path);
			if (!match || (top = open_topdir(m, NULL)) < 0)
				continue;
			t = topdir_trash(s, m, top, kinds[k], false, why,
					 sizeof(why));
			close(top);
			if (!t)
				err_set(err, SD_EXIT_CANNOT,
					"'%s' is not a usable trash: %s", dir,
					why[0] ? why : "it does not exist");
			return t;
		}
	}
	err_set(err, SD_EXIT_CANNOT,
		"'%s' is not one of your trash directories", dir);
	return NULL;
}

int trash_entry_load(struct trash_set *s, const char *dir, const char *name,
		     struct trash_entry *e, struct sd_err *err)
{
	char why[PATH_MAX + 128], *clean, *abs = NULL;
	int64_t deleted, mtime;
	struct trash *t;
	struct stat st;
	bool has;
	int r;

	memset(e, 0, sizeof(*e));
	e->deleted = -1;
	e->size = TRASH_SIZE_UNKNOWN;
	if (!valid_entry_name(name))
		return err_set(err, SD_EXIT_CANNOT,
			       "invalid trash entry name '%s'", name);
	clean = clean_path(dir);
	if (!clean)
		return err_set(err, SD_EXIT_CANNOT, "out of memory");
	t = trash_by_dir(s, clean, err);
	free(clean);
	if (!t)
		return -1;
	r = read_info(t, name, &abs, &deleted, &mtime, why, sizeof(why));
	if (r < 0)
		return err_set(err, SD_EXIT_CANNOT,
			       "'%s/info/%s" TRASHINFO_SUFFIX "': %s", t->dir,
			       name, why);
	has = t->files_fd >= 0 &&
	      fstatat(t->files_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
	if (!r && !has)
		return err_set(err, SD_EXIT_CANNOT,
			       "'%s' is not in the trash '%s'", name, t->dir);
	e->name = strdup(name);
	if (!e->name) {
		free(abs);
		return err_set(err, SD_EXIT_CANNOT, "out of memory");
	}
	e->trash = t;
	e->path = abs;
	e->deleted = r ? deleted : -1;
	e->state = !r	 ? TRASH_ENTRY_NO_INFO
		   : has ? TRASH_ENTRY_OK
			 : TRASH_ENTRY_NO_FILE;
	e->is_dir = has && S_ISDIR(st.st_mode);
	return 0;
}

/* Descriptors of t's files/ and info/ on mount id, where the destination
 * is: a rename works within one mount only. They are t's own, or, for a
 * topdir trash seen through another mount of the same filesystem (a bind
 * mount), the same directories opened through that mount (*opened). */
static int fds_on_mount(const struct trash *t, uint64_t id, int *files_fd,
			int *info_fd, bool *opened)
{
	struct mount_table mt = {0};
	const struct mount_info *m;
	int top = -1, base = -1, dir = -1, rc = -1;
	uint64_t fid;
	struct stat st;

	*opened = false;
	if (mounts_id_at(t->files_fd, "", &fid, NULL, NULL) < 0)
		return -1;
	if (fid == id) {
		*files_fd = t->files_fd;
		*info_fd = t->info_fd;
		return 0;
	}
	if (t->kind == TRASH_HOME || mounts_load(&mt, NULL, NULL) < 0)
		return -1;
	m = mounts_by_id(&mt, id);
	if (!m || (top = open_topdir(m, NULL)) < 0)
		goto out;
	base = t->kind == TRASH_TOPDIR_UID
		       ? openat(top, ".Trash", PATH_DIR_FLAGS)
		       : dup(top);
	if (base < 0)
		goto out;
	dir = openat(base, base_name(t->dir), DIR_FLAGS);
	if (dir < 0 || fstat(dir, &st) < 0 || st.st_dev != t->dev ||
	    st.st_ino != t->ino)
		goto out;
	*files_fd = openat(dir, "files", DIR_FLAGS);
	*info_fd = openat(dir, "info", DIR_FLAGS);
	if (*files_fd < 0 || *info_fd < 0 ||
	    mounts_id_at(*files_fd, "", &fid, NULL, NULL) < 0 || fid != id) {
		if (*files_fd >= 0)
			close(*files_fd);
		if (*info_fd >= 0)
			close(*info_fd);
		goto out;
	}
	*opened = true;
	rc = 0;
out:
	if (dir >= 0)
		close(dir);
	if (base >= 0)
		close(base);
	if (top >= 0)
		close(top);
	mounts_release(&mt);
	return rc;
}

int trash_restore(const struct trash_entry *e, const char *to_dir, char *dest,
		  size_t dest_len, struct sd_err *err)
{
	const struct trash *t = e->trash;
	char src[PATH_MAX + NAME_MAX + 16], why[PATH_MAX + 128];
	char iname[NAME_MAX + 1], *abs = NULL, *target = NULL, *parent = NULL;
	const char *base;
	int files_fd = -1, info_fd = -1, pfd = -1, rc = -1;
	bool opened = false;
	uint64_t id, pid;
	struct stat st;

	snprintf(src, sizeof(src), "%s/files/%s", t->dir, e->name);
	if (e->state == TRASH_ENTRY_NO_FILE)
		return err_set(err, SD_EXIT_FAIL,
			       "cannot restore '%s': it is missing from the "
			       "trash",
			       src);
	if (e->state != TRASH_ENTRY_OK || !e->path)
		return err_set(err, SD_EXIT_FAIL,
			       "cannot restore '%s': it has no .trashinfo, so "
			       "where it came from is unknown",
			       src);
	if (strlen(e->name) > ENTRY_MAX || !valid_entry_name(e->name))
		return err_set(err, SD_EXIT_FAIL,
			       "cannot restore '%s': invalid entry name", src);
	/* The listing checked the Path; the caller may have built e. */
	abs = entry_abs_path(t, e->path, why, sizeof(why));
	if (!abs || abs[0] != '/') {
		free(abs);
		return err_set(err, SD_EXIT_FAIL,
			       "refusing to restore '%s': %s", src,
			       abs ? "its Path is relative" : why);
	}
	target = to_dir ? join(to_dir, base_name(abs)) : strdup(abs);
	parent = target ? strdup(target) : NULL;
	if (!parent) {
		err_set(err, SD_EXIT_CANNOT, "out of memory");
		goto out;
	}
	if (strlen(target) >= dest_len) {
		err_set(err, SD_EXIT_CANNOT, "'%s' is too long", target);
		goto out;
	}
	{
		char *slash = strrchr(parent, '/');

		if (!slash)
			snprintf(parent, strlen(parent) + 1, ".");
		else if (slash == parent)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	base = base_name(target);
	if (fstatat(t->files_fd, e->name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		err_errno(err, SD_EXIT_FAIL, "cannot restore '%s'", src);
		goto out;
	}
	/* Before creating any parent: none is left behind on the wrong
	 * filesystem (an unmounted USB disk's mount point). */
	if (path_mount(parent, &id) < 0 ||
	    fds_on_mount(t, id, &files_fd, &info_fd, &opened) < 0) {
		errno = EXDEV;
		err_set(err, SD_EXIT_FAIL,
			"cannot restore '%s' to '%s': it is on another "
			"filesystem",
			src, target);
		goto out;
	}
	if (fs_mkdirs(parent, 0777, err) < 0) {
		err_prefix(err, "cannot restore '%s'", src);
		goto out;
	}
	pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0) {
		err_errno(err, SD_EXIT_FAIL,
			  "cannot restore '%s': cannot open '%s'", src, parent);
		goto out;
	}
	if (mounts_id_at(pfd, "", &pid, NULL, NULL) < 0 || pid != id) {
		err_set(err, SD_EXIT_FAIL,
			"cannot restore '%s' to '%s': it is on another "
			"filesystem",
			src, target);
		goto out;
	}
	if (move_noreplace(files_fd, e->name, pfd, base, S_ISDIR(st.st_mode)) <
	    0) {
		if (errno == EEXIST || errno == ENOTEMPTY)
			err_set(err, SD_EXIT_FAIL,
				"cannot restore '%s': '%s' already exists", src,
				target);
		else if (errno == EXDEV)
			err_set(err, SD_EXIT_FAIL,
				"cannot restore '%s' to '%s': it is on another "
				"filesystem",
				src, target);
		else
			err_errno(err, SD_EXIT_FAIL,
				  "cannot restore '%s' to '%s'", src, target);
		goto out;
	}
	/* Restored whatever happens next; a leftover info file would only
	 * show as an orphan. */
	snprintf(iname, sizeof(iname), "%s" TRASHINFO_SUFFIX, e->name);
	if (info_fd >= 0)
		unlinkat(info_fd, iname, 0);
	snprintf(dest, dest_len, "%s", target);
	rc = 0;
out:
	if (pfd >= 0)
		close(pfd);
	if (opened) {
		close(files_fd);
		close(info_fd);
	}
	free(abs);
	free(target);
	free(parent);
	return rc;
}
