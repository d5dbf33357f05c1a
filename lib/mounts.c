/* The mount table from /proc/self/mountinfo and the mount of an object by
 * statx(STATX_MNT_ID); see mounts.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fsutil.h"
#include "mounts.h"

/* Thousands of mounts (containers, snaps) stay far below this. */
#define MOUNTINFO_MAX (64u << 20)

/* Split off the next space-separated field of a line; NULL at the end. */
static char *next_field(char **p)
{
	char *s = *p, *e;

	while (*s == ' ')
		s++;
	if (!*s)
		return NULL;
	e = strchr(s, ' ');
	if (e) {
		*e = '\0';
		*p = e + 1;
	} else {
		*p = s + strlen(s);
	}
	return s;
}

static bool is_octal(char c)
{
	return c >= '0' && c <= '7';
}

/* The kernel escapes space, tab, newline and backslash as \ooo
 * (show_mountinfo, mangle()); anything else after a backslash is kept. */
static char *unescape(const char *s)
{
	size_t n = strlen(s);
	char *out = malloc(n + 1), *o = out;

	if (!out)
		return NULL;
	while (*s) {
		if (s[0] == '\\' && is_octal(s[1]) && is_octal(s[2]) &&
		    is_octal(s[3])) {
			int v = (s[1] - '0') * 64 + (s[2] - '0') * 8 +
				(s[3] - '0');

			if (v > 0 && v < 256) {
				*o++ = (char)v;
				s += 4;
				continue;
			}
		}
		*o++ = *s++;
	}
	*o = '\0';
	return out;
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return !errno && !*end;
}

static bool has_option(const char *opts, const char *want)
{
	size_t n = strlen(want);

	for (const char *p = opts; p && *p;) {
		const char *c = strchr(p, ',');
		size_t len = c ? (size_t)(c - p) : strlen(p);

		if (len == n && !memcmp(p, want, n))
			return true;
		p = c ? c + 1 : NULL;
	}
	return false;
}

static void info_free(struct mount_info *m)
{
	free(m->point);
	free(m->root);
	free(m->fstype);
	free(m->source);
}

/* One line: "ID PARENT MAJ:MIN ROOT POINT OPTS [OPTIONAL...] - FSTYPE
 * SOURCE SUPEROPTS". Returns a static description of what is wrong. */
static const char *parse_line(char *line, struct mount_info *m)
{
	char *p = line, *f[6], *fstype, *source, *dev, *colon;
	uint64_t maj, min;

	for (int i = 0; i < 6; i++)
		if (!(f[i] = next_field(&p)))
			return "too few fields";
	for (;;) {
		char *opt = next_field(&p);

		if (!opt)
			return "no ' - ' separator";
		if (!strcmp(opt, "-"))
			break;
	}
	fstype = next_field(&p);
	source = next_field(&p);
	if (!fstype || !source)
		return "too few fields after ' - '";
	if (!parse_u64(f[0], &m->id) || !parse_u64(f[1], &m->parent))
		return "invalid mount ID";
	dev = f[2];
	colon = strchr(dev, ':');
	if (!colon)
		return "invalid device number";
	*colon = '\0';
	if (!parse_u64(dev, &maj) || !parse_u64(colon + 1, &min) ||
	    maj > 0xfffff || min > 0xfffff)
		return "invalid device number";
	m->dev = makedev((unsigned)maj, (unsigned)min);
	if (f[4][0] != '/')
		return "mount point is not absolute";
	m->root = unescape(f[3]);
	m->point = unescape(f[4]);
	m->fstype = unescape(fstype);
	m->source = unescape(source);
	m->read_only = has_option(f[5], "ro");
	if (!m->root || !m->point || !m->fstype || !m->source)
		return "out of memory";
	return NULL;
}

int mounts_parse(struct mount_table *t, const char *text, size_t len,
		 const char *name, struct sd_err *err)
{
	size_t cap = 0, lineno = 0;
	const char *p = text, *end = text + len;

	t->v = NULL;
	t->n = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		struct mount_info m = {0};
		const char *why;
		char *line;

		lineno++;
		if (!n) {
			p += 1;
			continue;
		}
		if (memchr(p, '\0', n)) {
			mounts_release(t);
			return err_set(err, SD_EXIT_CANNOT,
				       "'%s' line %zu: contains a NUL byte",
				       name, lineno);
		}
		line = strndup(p, n);
		p += n + (nl ? 1 : 0);
		if (!line) {
			mounts_release(t);
			return err_set(err, SD_EXIT_CANNOT, "out of memory");
		}
		why = parse_line(line, &m);
		free(line);
		if (why) {
			info_free(&m);
			mounts_release(t);
			return err_set(err, SD_EXIT_CANNOT, "'%s' line %zu: %s",
				       name, lineno, why);
		}
		if (t->n == cap) {
			size_t ncap = cap ? cap * 2 : 32;
			struct mount_info *v = realloc(t->v, ncap * sizeof(*v));

			if (!v) {
				info_free(&m);
				mounts_release(t);
				return err_set(err, SD_EXIT_CANNOT,
					       "out of memory");
			}
			t->v = v;
			cap = ncap;
		}
		t->v[t->n++] = m;
	}
	return 0;
}

int mounts_load(struct mount_table *t, const char *path, struct sd_err *err)
{
	char *text;
	size_t len;
	int fd, r;

	if (!path)
		path = "/proc/self/mountinfo";
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_errno(err, SD_EXIT_CANNOT, "cannot open '%s'", path);
	r = fs_read_fd(fd, path, MOUNTINFO_MAX, &text, &len, err);
	close(fd);
	if (r < 0)
		return -1;
	r = mounts_parse(t, text, len, path, err);
	free(text);
	return r;
}

void mounts_release(struct mount_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		info_free(&t->v[i]);
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

const struct mount_info *mounts_by_id(const struct mount_table *t, uint64_t id)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].id == id)
			return &t->v[i];
	return NULL;
}

int mounts_id_at(int dirfd, const char *name, uint64_t *id, bool *is_root,
		 struct sd_err *err)
{
	struct statx stx;
	int flags = AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT;

	if (!name || !*name) {
		name = "";
		flags |= AT_EMPTY_PATH;
	}
	if (statx(dirfd, name, flags, STATX_MNT_ID, &stx) < 0)
		return err_errno(err, SD_EXIT_CANNOT, "cannot examine '%s'",
				 *name ? name : ".");
	if (!(stx.stx_mask & STATX_MNT_ID)) {
		errno = ENOTSUP;
		return err_set(err, SD_EXIT_CANNOT,
			       "cannot find the mount of '%s': the kernel does "
			       "not report mount IDs",
			       *name ? name : ".");
	}
	*id = stx.stx_mnt_id;
	if (is_root)
		*is_root = (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
			   (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
	return 0;
}
