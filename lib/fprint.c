/* Fingerprints of plan targets; see fprint.h. */
#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "fprint.h"

static const char *type_name(mode_t m)
{
	return S_ISDIR(m)   ? "directory"
	       : S_ISREG(m) ? "file"
	       : S_ISLNK(m) ? "symlink"
			    : "special";
}

static json_int_t ns(const struct timespec *t)
{
	return (json_int_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

struct walk {
	EVP_MD_CTX *md;
	uint64_t entries;
	char path[4096]; /* relative to the top, for the digest and errors */
	const char *top;
	struct sd_err *err;
};

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* The names in fd's directory, sorted: the digest must not depend on the
 * order readdir happens to return. Takes fd. */
static int read_names(struct walk *w, int fd, char ***out, size_t *count)
{
	DIR *d = fdopendir(fd);
	struct dirent *e;
	char **v = NULL;
	size_t n = 0, cap = 0;

	if (!d) {
		close(fd);
		return err_errno(w->err, SD_EXIT_CANNOT, "cannot read '%s/%s'",
				 w->top, w->path);
	}
	errno = 0;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (n == cap) {
			char **nv = realloc(v, (cap = cap ? 2 * cap : 32) *
						       sizeof(*v));

			if (!nv)
				goto oom;
			v = nv;
		}
		if (!(v[n] = strdup(e->d_name)))
			goto oom;
		n++;
	}
	if (errno) {
		free_names(v, n);
		closedir(d);
		return err_errno(w->err, SD_EXIT_CANNOT, "cannot read '%s/%s'",
				 w->top, w->path);
	}
	closedir(d);
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_names);
	*out = v;
	*count = n;
	return 0;
oom:
	free_names(v, n);
	closedir(d);
	return err_set(w->err, SD_EXIT_CANNOT, "out of memory");
}

/* Digest every entry below the directory fd (taken), depth first, names
 * sorted at each level. Descent re-checks device and inode, and never
 * follows a symlink. */
static int walk_dir(struct walk *w, int fd)
{
	char **names = NULL;
	size_t n = 0, base = strlen(w->path);
	int rc = 0;
	int keep = dup(fd);

	if (keep < 0) {
		close(fd);
		return err_errno(w->err, SD_EXIT_CANNOT, "cannot read '%s'",
				 w->top);
	}
	if (read_names(w, fd, &names, &n) < 0) {
		close(keep);
		return -1;
	}
	for (size_t i = 0; i < n && !rc; i++) {
		struct stat st;
		char line[4096 + 256];
		int len;

		if ((size_t)snprintf(w->path + base, sizeof(w->path) - base,
				     "%s%s", base ? "/" : "",
				     names[i]) >= sizeof(w->path) - base) {
			rc = err_set(w->err, SD_EXIT_CANNOT,
				     "path too long below '%s'", w->top);
			break;
		}
		if (fstatat(keep, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue; /* gone meanwhile: not there now */
			rc = err_errno(w->err, SD_EXIT_CANNOT,
				       "cannot read '%s/%s'", w->top, w->path);
			break;
		}
		w->entries++;
		len = snprintf(
			line, sizeof(line),
			"%s%c%s %o %u %u %" PRIu64 " %lld %lld\n", w->path, 0,
			type_name(st.st_mode), (unsigned)st.st_mode,
			(unsigned)st.st_uid, (unsigned)st.st_gid,
			S_ISDIR(st.st_mode) ? 0 : (uint64_t)st.st_size,
			S_ISDIR(st.st_mode) ? 0LL : (long long)ns(&st.st_mtim),
			S_ISDIR(st.st_mode) ? 0LL : (long long)ns(&st.st_ctim));
		EVP_DigestUpdate(w->md, line, (size_t)len);
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(keep, names[i],
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
						 O_CLOEXEC);
			struct stat now;

			if (sub < 0 || fstat(sub, &now) < 0 ||
			    now.st_dev != st.st_dev ||
			    now.st_ino != st.st_ino) {
				if (sub >= 0)
					close(sub);
				rc = err_errno(w->err, SD_EXIT_CANNOT,
					       "cannot read '%s/%s'", w->top,
					       w->path);
				break;
			}
			rc = walk_dir(w, sub);
		}
		w->path[base] = 0;
	}
	w->path[base] = 0;
	free_names(names, n);
	close(keep);
	return rc;
}

json_t *fprint_path(const char *path, bool deep, struct sd_err *err)
{
	struct stat st;
	json_t *o = json_object();

	if (!o) {
		err_set(err, SD_EXIT_CANNOT, "out of memory");
		return NULL;
	}
	json_object_set_new(o, "path", json_string(path));
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR) {
			json_object_set_new(o, "absent", json_true());
			return o;
		}
		err_errno(err, SD_EXIT_CANNOT, "cannot read '%s'", path);
		json_decref(o);
		return NULL;
	}
	json_object_set_new(o, "type", json_string(type_name(st.st_mode)));
	json_object_set_new(o, "dev", json_integer((json_int_t)st.st_dev));
	json_object_set_new(o, "ino", json_integer((json_int_t)st.st_ino));
	json_object_set_new(o, "mode", json_integer((json_int_t)st.st_mode));
	json_object_set_new(o, "uid", json_integer((json_int_t)st.st_uid));
	json_object_set_new(o, "gid", json_integer((json_int_t)st.st_gid));
	json_object_set_new(o, "size", json_integer((json_int_t)st.st_size));
	json_object_set_new(o, "mtime_ns", json_integer(ns(&st.st_mtim)));
	json_object_set_new(o, "ctime_ns", json_integer(ns(&st.st_ctim)));
	if (deep && S_ISDIR(st.st_mode)) {
		struct walk w = {.top = path, .err = err};
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned int len = 0;
		char hex[2 * EVP_MAX_MD_SIZE + 1];
		int fd = open(path,
			      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		struct stat now;
		int rc;

		if (fd < 0 || fstat(fd, &now) < 0 || now.st_ino != st.st_ino ||
		    now.st_dev != st.st_dev) {
			err_errno(err, SD_EXIT_CANNOT, "cannot read '%s'",
				  path);
			if (fd >= 0)
				close(fd);
			json_decref(o);
			return NULL;
		}
		w.md = EVP_MD_CTX_new();
		if (!w.md || !EVP_DigestInit_ex(w.md, EVP_sha256(), NULL)) {
			close(fd);
			EVP_MD_CTX_free(w.md);
			json_decref(o);
			err_set(err, SD_EXIT_CANNOT, "cannot start SHA-256");
			return NULL;
		}
		rc = walk_dir(&w, fd);
		EVP_DigestFinal_ex(w.md, md, &len);
		EVP_MD_CTX_free(w.md);
		if (rc < 0) {
			json_decref(o);
			return NULL;
		}
		for (unsigned i = 0; i < len; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
		json_object_set_new(o, "entries",
				    json_integer((json_int_t)w.entries));
		json_object_set_new(o, "digest", json_string(hex));
	}
	return o;
}

static json_int_t geti(const json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static const char *gets(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

static char *sentence(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static char *sentence(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s ? s : strdup("a target changed");
}

char *fprint_check(const json_t *rec)
{
	const char *path = gets(rec, "path");
	bool deep = json_object_get(rec, "digest") != NULL;
	bool was_absent = json_is_true(json_object_get(rec, "absent"));
	struct sd_err err = {0};
	json_t *now;

	/* A device, a cluster object, a SQL text: compared by planning
	 * again, not here. */
	if (json_object_get(rec, "kind"))
		return NULL;
	now = fprint_path(path, deep, &err);
	char *why = NULL;
	const char *t;

	if (!now)
		return sentence("'%s' cannot be read now: %s", path, err.msg);
	if (json_is_true(json_object_get(now, "absent"))) {
		if (!was_absent)
			why = sentence("'%s' no longer exists", path);
		goto out;
	}
	t = gets(now, "type");
	if (was_absent) {
		why = sentence("'%s' was absent and now exists (a %s)", path,
			       t);
	} else if (strcmp(t, gets(rec, "type"))) {
		why = sentence("'%s' is now a %s, it was a %s", path, t,
			       gets(rec, "type"));
	} else if (geti(now, "dev") != geti(rec, "dev") ||
		   geti(now, "ino") != geti(rec, "ino")) {
		why = sentence("'%s' was replaced by another %s", path, t);
	} else if (geti(now, "mode") != geti(rec, "mode")) {
		why = sentence("'%s' changed mode (%04o, it was %04o)", path,
			       (unsigned)geti(now, "mode") & 07777,
			       (unsigned)geti(rec, "mode") & 07777);
	} else if (geti(now, "uid") != geti(rec, "uid") ||
		   geti(now, "gid") != geti(rec, "gid")) {
		why = sentence("'%s' changed owner", path);
	} else if (deep && geti(now, "entries") != geti(rec, "entries")) {
		why = sentence("'%s' changed: %lld entries below it now, %lld "
			       "in the plan",
			       path, (long long)geti(now, "entries"),
			       (long long)geti(rec, "entries"));
	} else if (deep && strcmp(gets(now, "digest"), gets(rec, "digest"))) {
		why = sentence("'%s' changed: an entry below it was modified",
			       path);
	} else if (strcmp(t, "directory") &&
		   (geti(now, "size") != geti(rec, "size") ||
		    geti(now, "mtime_ns") != geti(rec, "mtime_ns") ||
		    geti(now, "ctime_ns") != geti(rec, "ctime_ns"))) {
		why = sentence("'%s' was modified", path);
	}
out:
	json_decref(now);
	return why;
}

char *fprint_check_all(const json_t *recorded)
{
	size_t i, changed = 0;
	const json_t *rec;
	char *out = NULL;
	size_t len = 0;

	json_array_foreach(recorded, i, rec)
	{
		char *why = fprint_check(rec);

		if (!why)
			continue;
		if (++changed <= 3) {
			size_t add = strlen(why) + 2;
			char *n = realloc(out, len + add + 1);

			if (n) {
				snprintf(n + len, add + 1, "%s%s",
					 len ? "; " : "", why);
				out = n;
				len = strlen(out);
			}
		}
		free(why);
	}
	if (changed > 3) {
		char *n = NULL;

		if (asprintf(&n, "%s; and %zu more", out ? out : "",
			     changed - 3) >= 0) {
			free(out);
			out = n;
		}
	}
	if (changed && !out)
		out = strdup("a target changed");
	return out;
}
