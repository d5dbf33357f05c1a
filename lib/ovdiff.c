/* The sandbox's upper layers: what a run changed, and its commit; see
 * ovdiff.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "fprint.h"
#include "fsutil.h"
#include "ovdiff.h"
#include "rmtree.h"

/* An effect of the work list that a rename replaced. */
#define DROPPED EFFECT_N_OPS
#define NONE	SIZE_MAX
/* The buffer for copies and comparisons: two halves of CHUNK bytes. */
#define CHUNK 65536

#define XATTR_WHITEOUT "user.overlay.whiteout"
#define XATTR_OPAQUE   "user.overlay.opaque"
#define XATTR_METACOPY "user.overlay.metacopy"

/* A path that grows and shrinks by one name at a time. */
struct pbuf {
	char *s;
	size_t len, cap;
};

static int pb_set(struct pbuf *p, const char *s)
{
	size_t n = strlen(s);

	if (n + 1 > p->cap) {
		char *v = realloc(p->s, n + 256);

		if (!v)
			return -1;
		p->s = v;
		p->cap = n + 256;
	}
	memcpy(p->s, s, n + 1);
	p->len = n;
	return 0;
}

/* Append "/name" (just "name" after a "/"); *old is the length to go back
 * to with pb_pop. */
static int pb_push(struct pbuf *p, const char *name, size_t *old)
{
	size_t n = strlen(name);
	bool slash = p->len && p->s[p->len - 1] != '/';
	size_t need = p->len + slash + n + 1;

	if (need > p->cap) {
		size_t cap = need * 2;
		char *v = realloc(p->s, cap);

		if (!v)
			return -1;
		p->s = v;
		p->cap = cap;
	}
	*old = p->len;
	if (slash)
		p->s[p->len++] = '/';
	memcpy(p->s + p->len, name, n + 1);
	p->len += n;
	return 0;
}

static void pb_pop(struct pbuf *p, size_t old)
{
	p->len = old;
	p->s[old] = 0;
}

/* A copy of s without trailing slashes ("/" stays "/"). */
static char *trimmed(const char *s)
{
	size_t n = strlen(s);
	char *d;

	while (n > 1 && s[n - 1] == '/')
		n--;
	d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = 0;
	}
	return d;
}

/* 0 when path exists (st filled), 1 when it does not, -1 on another
 * error (errno). */
static int lst(const char *path, struct stat *st)
{
	if (lstat(path, st) == 0)
		return 0;
	return errno == ENOENT || errno == ENOTDIR ? 1 : -1;
}

static bool is_whiteout(const char *path, const struct stat *st)
{
	if (S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0))
		return true;
	return S_ISREG(st->st_mode) && st->st_size == 0 &&
	       lgetxattr(path, XATTR_WHITEOUT, NULL, 0) >= 0;
}

static bool is_opaque(const char *path)
{
	char v[4];
	ssize_t n = lgetxattr(path, XATTR_OPAQUE, v, sizeof(v));

	return n == 1 && v[0] == 'y';
}

static char type_of(mode_t m)
{
	return S_ISDIR(m) ? 'd' : S_ISREG(m) ? 'f' : S_ISLNK(m) ? 'l' : 's';
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* The names in directory path, sorted; symlinks are not followed. -1 with
 * errno set. */
static int list_dir(const char *path, char ***out, size_t *count)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;
	struct dirent *e;
	char **v = NULL;
	size_t n = 0, cap = 0;
	int saved;

	if (fd < 0)
		return -1;
	d = fdopendir(fd);
	if (!d) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	for (;;) {
		errno = 0;
		e = readdir(d);
		if (!e)
			break;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (n == cap) {
			size_t nc = cap ? 2 * cap : 32;
			char **nv = realloc(v, nc * sizeof(*v));

			if (!nv)
				goto fail;
			v = nv;
			cap = nc;
		}
		v[n] = strdup(e->d_name);
		if (!v[n])
			goto fail;
		n++;
	}
	if (errno)
		goto fail;
	closedir(d);
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_str);
	*out = v;
	*count = n;
	return 0;
fail:
	saved = errno ? errno : ENOMEM;
	free_names(v, n);
	closedir(d);
	errno = saved;
	return -1;
}

/* Read up to n bytes, fewer only at the end of the file. */
static ssize_t read_full(int fd, unsigned char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static int open_file(const char *path)
{
	return open(path, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
}

/* SHA-256 of a file's content into md (32 bytes). -1 with errno. */
static int hash_file(const char *path, unsigned char *buf, unsigned char *md)
{
	int fd = open_file(path);
	EVP_MD_CTX *x;
	ssize_t r;
	unsigned int len = 0;
	int rc = -1;

	if (fd < 0)
		return -1;
	x = EVP_MD_CTX_new();
	if (!x || !EVP_DigestInit_ex(x, EVP_sha256(), NULL)) {
		errno = ENOMEM;
		goto out;
	}
	while ((r = read_full(fd, buf, CHUNK)) > 0)
		EVP_DigestUpdate(x, buf, (size_t)r);
	if (r == 0 && EVP_DigestFinal_ex(x, md, &len))
		rc = 0;
out:
	EVP_MD_CTX_free(x);
	close(fd);
	return rc;
}

/* 1 when the two files hold the same bytes, 0 when not, -1 with errno. */
static int same_content(const char *a, const char *b, unsigned char *buf)
{
	int fa = open_file(a), fb = fa < 0 ? -1 : open_file(b);
	int rc = -1;

	if (fa < 0 || fb < 0)
		goto out;
	for (;;) {
		ssize_t ra = read_full(fa, buf, CHUNK);
		ssize_t rb = read_full(fb, buf + CHUNK, CHUNK);

		if (ra < 0 || rb < 0)
			goto out;
		if (ra != rb || memcmp(buf, buf + CHUNK, (size_t)ra)) {
			rc = 0;
			break;
		}
		if (ra == 0) {
			rc = 1;
			break;
		}
	}
out:
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	return rc;
}

/* A symlink's target, malloc'd; NULL with errno. */
static char *read_link(const char *path, size_t size_hint)
{
	size_t cap = size_hint + 2 > 64 ? size_hint + 2 : 64;

	for (;;) {
		char *s = malloc(cap);
		ssize_t n;

		if (!s)
			return NULL;
		n = readlink(path, s, cap);
		if (n < 0) {
			free(s);
			return NULL;
		}
		if ((size_t)n < cap) {
			s[n] = 0;
			return s;
		}
		free(s);
		if (cap > 1 << 20) {
			errno = ENAMETOOLONG;
			return NULL;
		}
		cap *= 2;
	}
}

/* ---------------------------------------------------------------------
 * Analysis
 */

/* A fingerprint to take. */
struct req {
	char *path;
	bool deep;
};

/* A rename candidate: a deleted regular file or directory, or a created
 * (or rewritten) one. */
struct cand {
	size_t idx; /* its effect in the work list */
	char *src;  /* what to read: the host path of a deleted entry, the
		       upper path of a new one */
	uint64_t size, files;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	bool overwrite;	    /* a rewritten file: a rename onto it replaces */
	uint64_t old_size;  /* what it replaces */
	size_t meta_idx[2]; /* its MODE and OWNER effects, or NONE */
	int hashed;	    /* 0 not yet, 1 done */
	bool used;
	unsigned char md[EVP_MAX_MD_SIZE];
};

struct cands {
	struct cand *v;
	size_t n, cap;
};

struct an {
	struct effects work;
	struct req *req;
	size_t nreq, capreq;
	struct cands del_f, new_f, del_d, new_d;
	unsigned char *buf; /* 2 * CHUNK */
	struct tjob *tj;    /* the trees to count */
	size_t ntj, captj;
	struct sd_err *err;
};

static int oom(struct an *a)
{
	return err_set(a->err, SD_EXIT_SAFERUN, "out of memory");
}

/* Append an effect; its index, or NONE when out of memory (err set). */
static size_t add(struct an *a, enum effect_op op, const char *path,
		  const char *to, char type, uint64_t files, uint64_t bytes,
		  const char *detail)
{
	if (effects_add(&a->work, op, path, to, type, files, bytes, detail) <
	    0) {
		oom(a);
		return NONE;
	}
	return a->work.n - 1;
}

static int want(struct an *a, const char *path, bool deep)
{
	if (a->nreq == a->capreq) {
		size_t cap = a->capreq ? 2 * a->capreq : 32;
		struct req *v = realloc(a->req, cap * sizeof(*v));

		if (!v)
			return oom(a);
		a->req = v;
		a->capreq = cap;
	}
	a->req[a->nreq].path = strdup(path);
	if (!a->req[a->nreq].path)
		return oom(a);
	a->req[a->nreq++].deep = deep;
	return 0;
}

static struct cand *new_cand(struct an *a, struct cands *c, size_t idx,
			     const char *src, const struct stat *st)
{
	struct cand *x;

	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		struct cand *v = realloc(c->v, cap * sizeof(*v));

		if (!v) {
			oom(a);
			return NULL;
		}
		c->v = v;
		c->cap = cap;
	}
	x = &c->v[c->n];
	memset(x, 0, sizeof(*x));
	x->src = strdup(src);
	if (!x->src) {
		oom(a);
		return NULL;
	}
	x->idx = idx;
	x->size = (uint64_t)st->st_size;
	x->mode = st->st_mode;
	x->uid = st->st_uid;
	x->gid = st->st_gid;
	x->meta_idx[0] = x->meta_idx[1] = NONE;
	c->n++;
	return x;
}

static void free_cands(struct cands *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].src);
	free(c->v);
}

/* Counting a directory tree: the files and bytes of a created or deleted
 * directory. Each is a job, and the jobs run on up to TALLY_THREADS
 * threads once the walk is done: for a command that wrote thousands of
 * files, this count is most of the analysis. */
#define TALLY_THREADS 4

struct tjob {
	char *path;
	dev_t dev;
	bool upper;
	size_t idx;	    /* its effect */
	struct cands *list; /* and its rename candidate (pos), or NULL */
	size_t pos;
	uint64_t files, bytes;
	int errnum; /* 0, or why errpath could not be read */
	char *errpath;
};

static int tjob_fail(struct tjob *j, const char *path, int errnum)
{
	j->errnum = errnum ? errnum : ENOMEM;
	j->errpath = strdup(path);
	return -1;
}

/* Count the entries below directory p (on j's filesystem) into j. Each
 * entry is looked at relative to its directory's descriptor (a path walk
 * from / for each would cost more than its stat); a directory is opened
 * by its path after its parent is closed, so that a deep tree holds one
 * descriptor, not one per level. In an upper layer, whiteouts are not
 * entries. */
static int count_dir(struct tjob *j, struct pbuf *p)
{
	int fd = open(p->s, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *e;
	char **subs = NULL;
	size_t nsubs = 0, cap = 0;
	int rc = 0;

	if (!d) {
		rc = tjob_fail(j, p->s, errno);
		if (fd >= 0)
			close(fd);
		return rc;
	}
	while (!rc) {
		struct stat sub;
		size_t old;

		errno = 0;
		e = readdir(d);
		if (!e) {
			if (errno)
				rc = tjob_fail(j, p->s, errno);
			break;
		}
		if (e->d_name[0] == '.' &&
		    (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
			continue;
		if (pb_push(p, e->d_name, &old) < 0) {
			rc = tjob_fail(j, p->s, ENOMEM);
			break;
		}
		if (fstatat(fd, e->d_name, &sub, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT)
				rc = tjob_fail(j, p->s, errno);
		} else if (sub.st_dev == j->dev &&
			   !(j->upper && is_whiteout(p->s, &sub))) {
			j->files++;
			if (S_ISREG(sub.st_mode))
				j->bytes += (uint64_t)sub.st_size;
			if (S_ISDIR(sub.st_mode)) {
				if (nsubs == cap) {
					size_t nc = cap ? 2 * cap : 16;
					char **v =
						realloc(subs, nc * sizeof(*v));

					if (!v)
						rc = tjob_fail(j, p->s, ENOMEM);
					else
						subs = v, cap = nc;
				}
				if (!rc && !(subs[nsubs++] = strdup(e->d_name)))
					rc = tjob_fail(j, p->s, ENOMEM);
			}
		}
		pb_pop(p, old);
	}
	closedir(d);
	for (size_t i = 0; i < nsubs; i++) {
		size_t old;

		if (!rc && subs[i]) {
			if (pb_push(p, subs[i], &old) < 0) {
				rc = tjob_fail(j, p->s, ENOMEM);
			} else {
				rc = count_dir(j, p);
				pb_pop(p, old);
			}
		}
		free(subs[i]);
	}
	free(subs);
	return rc;
}

static void tjob_run(struct tjob *j)
{
	struct pbuf p = {0};

	j->files = 1;
	if (pb_set(&p, j->path) < 0)
		tjob_fail(j, j->path, ENOMEM);
	else
		count_dir(j, &p);
	free(p.s);
}

struct tpool {
	struct tjob *v;
	size_t n, next;
};

static void *tally_worker(void *arg)
{
	struct tpool *t = arg;
	size_t i;

	while ((i = __atomic_fetch_add(&t->next, 1, __ATOMIC_RELAXED)) < t->n)
		tjob_run(&t->v[i]);
	return NULL;
}

/* Run the counting jobs, then put each count into its effect and its
 * candidate. The first job that failed (in walk order) is the error. */
static int run_tallies(struct an *a)
{
	struct tpool t = {.v = a->tj, .n = a->ntj};
	pthread_t th[TALLY_THREADS - 1] = {0};
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t want = cpus > 1 ? (size_t)cpus : 1, started = 0;

	if (want > TALLY_THREADS)
		want = TALLY_THREADS;
	if (want > t.n)
		want = t.n;
	/* This thread is one of them. */
	while (started + 1 < want &&
	       pthread_create(&th[started], NULL, tally_worker, &t) == 0)
		started++;
	tally_worker(&t);
	for (size_t i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	for (size_t i = 0; i < a->ntj; i++) {
		struct tjob *j = &a->tj[i];

		if (j->errnum) {
			errno = j->errnum;
			return err_errno(a->err, SD_EXIT_SAFERUN,
					 "cannot read '%s'",
					 j->errpath ? j->errpath : j->path);
		}
		a->work.v[j->idx].files = j->files;
		a->work.v[j->idx].bytes = j->bytes;
		if (j->list) {
			j->list->v[j->pos].files = j->files;
			j->list->v[j->pos].size = j->bytes;
		}
	}
	return 0;
}

/* The effect idx is p (lstat st) and everything below it: count it (a
 * directory later, in run_tallies; its rename candidate, if any, is the
 * last of list). */
static int tally(struct an *a, const char *p, const struct stat *st, bool upper,
		 size_t idx, struct cands *list)
{
	struct tjob *j;

	a->work.v[idx].files = 1;
	a->work.v[idx].bytes = S_ISREG(st->st_mode) ? (uint64_t)st->st_size : 0;
	if (!S_ISDIR(st->st_mode))
		return 0;
	if (a->ntj == a->captj) {
		size_t cap = a->captj ? 2 * a->captj : 16;
		struct tjob *v = realloc(a->tj, cap * sizeof(*v));

		if (!v)
			return oom(a);
		a->tj = v;
		a->captj = cap;
	}
	j = &a->tj[a->ntj];
	memset(j, 0, sizeof(*j));
	j->path = strdup(p);
	if (!j->path)
		return oom(a);
	a->ntj++;
	j->dev = st->st_dev;
	j->upper = upper;
	j->idx = idx;
	if (list && list->n) {
		j->list = list;
		j->pos = list->n - 1;
	}
	return 0;
}

/* Feed p (lstat st) and the tree below it into x: for each entry, sorted
 * by path, its path below root, type, permission bits, owner, and its
 * content's SHA-256, symlink target or device number. */
static int digest_tree(struct an *a, struct pbuf *p, size_t root,
		       const struct stat *st, bool upper, EVP_MD_CTX *x)
{
	char line[128];
	int len;
	char **names;
	size_t n;
	int rc = 0;

	EVP_DigestUpdate(x, p->s + root, p->len - root + 1);
	len = snprintf(line, sizeof(line), "%c %o %u %u %llu\n",
		       type_of(st->st_mode), (unsigned)(st->st_mode & 07777),
		       (unsigned)st->st_uid, (unsigned)st->st_gid,
		       S_ISREG(st->st_mode) ? (unsigned long long)st->st_size
					    : 0ULL);
	EVP_DigestUpdate(x, line, (size_t)len);
	if (S_ISREG(st->st_mode)) {
		unsigned char md[EVP_MAX_MD_SIZE];

		if (hash_file(p->s, a->buf, md) < 0)
			return err_errno(a->err, SD_EXIT_SAFERUN,
					 "cannot read '%s'", p->s);
		EVP_DigestUpdate(x, md, 32);
		return 0;
	}
	if (S_ISLNK(st->st_mode)) {
		char *t = read_link(p->s, (size_t)st->st_size);

		if (!t)
			return err_errno(a->err, SD_EXIT_SAFERUN,
					 "cannot read '%s'", p->s);
		EVP_DigestUpdate(x, t, strlen(t) + 1);
		free(t);
		return 0;
	}
	if (!S_ISDIR(st->st_mode)) {
		len = snprintf(line, sizeof(line), "%u:%u\n",
			       major(st->st_rdev), minor(st->st_rdev));
		EVP_DigestUpdate(x, line, (size_t)len);
		return 0;
	}
	if (list_dir(p->s, &names, &n) < 0)
		return err_errno(a->err, SD_EXIT_SAFERUN, "cannot read '%s'",
				 p->s);
	for (size_t i = 0; i < n && !rc; i++) {
		struct stat sub;
		size_t old;
		int r;

		if (pb_push(p, names[i], &old) < 0) {
			rc = oom(a);
			break;
		}
		r = lst(p->s, &sub);
		if (r < 0)
			rc = err_errno(a->err, SD_EXIT_SAFERUN,
				       "cannot read '%s'", p->s);
		else if (r == 0 && sub.st_dev == st->st_dev &&
			 !(upper && is_whiteout(p->s, &sub)))
			rc = digest_tree(a, p, root, &sub, upper, x);
		pb_pop(p, old);
	}
	free_names(names, n);
	return rc;
}

/* The tree digest of a directory candidate, once. */
static int cand_digest_dir(struct an *a, struct cand *c, bool upper)
{
	struct pbuf p = {0};
	struct stat st;
	EVP_MD_CTX *x;
	unsigned int len = 0;
	int rc;

	if (c->hashed)
		return 0;
	if (lstat(c->src, &st) < 0)
		return err_errno(a->err, SD_EXIT_SAFERUN, "cannot read '%s'",
				 c->src);
	if (pb_set(&p, c->src) < 0)
		return oom(a);
	x = EVP_MD_CTX_new();
	if (!x || !EVP_DigestInit_ex(x, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(x);
		free(p.s);
		return err_set(a->err, SD_EXIT_SAFERUN, "cannot start SHA-256");
	}
	rc = digest_tree(a, &p, p.len, &st, upper, x);
	if (!rc)
		EVP_DigestFinal_ex(x, c->md, &len);
	EVP_MD_CTX_free(x);
	free(p.s);
	if (!rc)
		c->hashed = 1;
	return rc;
}

static int cand_hash_file(struct an *a, struct cand *c)
{
	if (c->hashed)
		return 0;
	if (hash_file(c->src, a->buf, c->md) < 0)
		return err_errno(a->err, SD_EXIT_SAFERUN, "cannot read '%s'",
				 c->src);
	c->hashed = 1;
	return 0;
}

static int mode_effect(struct an *a, const char *path, char type, mode_t from,
		       mode_t to, size_t *idx)
{
	char d[32];

	*idx = NONE;
	if (type == 'l' || (from & 07777) == (to & 07777))
		return 0;
	snprintf(d, sizeof(d), "%04o -> %04o", (unsigned)(from & 07777),
		 (unsigned)(to & 07777));
	*idx = add(a, EFFECT_MODE, path, NULL, type, 1, 0, d);
	return *idx == NONE ? -1 : 0;
}

static int owner_effect(struct an *a, const char *path, char type, uid_t fu,
			gid_t fg, uid_t tu, gid_t tg, size_t *idx)
{
	char d[64];

	*idx = NONE;
	if (fu == tu && fg == tg)
		return 0;
	snprintf(d, sizeof(d), "%u:%u -> %u:%u", (unsigned)fu, (unsigned)fg,
		 (unsigned)tu, (unsigned)tg);
	*idx = add(a, EFFECT_OWNER, path, NULL, type, 1, 0, d);
	return *idx == NONE ? -1 : 0;
}

/* An entry (lstat st) and everything below it deleted from or created at
 * host path: its effect, its fingerprint (deep for a delete), its rename
 * candidate (a non-empty file into files, a directory into dirs, read
 * from src), and its count (from src; upper: src is in an upper layer). */
static int add_tree(struct an *a, enum effect_op op, const char *path,
		    const char *src, const struct stat *st, bool upper,
		    struct cands *files, struct cands *dirs)
{
	char type = type_of(st->st_mode);
	size_t idx;

	idx = add(a, op, path, NULL, type, 0, 0, NULL);
	if (idx == NONE || want(a, path, op == EFFECT_DELETE) < 0)
		return -1;
	if (type == 'f' && st->st_size > 0) {
		if (!new_cand(a, files, idx, src, st))
			return -1;
	} else if (type == 'd') {
		if (!new_cand(a, dirs, idx, src, st))
			return -1;
	}
	return tally(a, src, st, upper, idx, type == 'd' ? dirs : NULL);
}

/* The host path h (lstat hs) is deleted. */
static int add_delete(struct an *a, struct pbuf *h, const struct stat *hs)
{
	return add_tree(a, EFFECT_DELETE, h->s, h->s, hs, false, &a->del_f,
			&a->del_d);
}

/* The upper entry u (lstat us) is created at the host path h. */
static int add_create(struct an *a, struct pbuf *h, struct pbuf *u,
		      const struct stat *us)
{
	return add_tree(a, EFFECT_CREATE, h->s, u->s, us, true, &a->new_f,
			&a->new_d);
}

/* A file, symlink or special file in the upper layer over one of the same
 * type on the host. */
static int compare(struct an *a, struct pbuf *h, struct pbuf *u,
		   const struct stat *hs, const struct stat *us)
{
	char type = type_of(us->st_mode);
	bool content = false;
	size_t ci = NONE, mi, oi, before = a->work.n;

	if (S_ISREG(us->st_mode)) {
		int same = 0;

		if (hs->st_size == us->st_size) {
			same = same_content(h->s, u->s, a->buf);
			if (same < 0)
				return err_errno(a->err, SD_EXIT_SAFERUN,
						 "cannot compare '%s' with "
						 "'%s'",
						 u->s, h->s);
		}
		content = !same;
	} else if (S_ISLNK(us->st_mode)) {
		char *ht = read_link(h->s, (size_t)hs->st_size);
		char *ut = ht ? read_link(u->s, (size_t)us->st_size) : NULL;

		if (!ht || !ut) {
			free(ht);
			return err_errno(a->err, SD_EXIT_SAFERUN,
					 "cannot read '%s'", ht ? u->s : h->s);
		}
		content = strcmp(ht, ut) != 0;
		free(ht);
		free(ut);
	} else {
		content = hs->st_rdev != us->st_rdev;
	}
	if (content) {
		ci = add(a, EFFECT_MODIFY, h->s, NULL, type, 1,
			 S_ISREG(us->st_mode) ? (uint64_t)us->st_size : 0,
			 NULL);
		if (ci == NONE)
			return -1;
	}
	if (mode_effect(a, h->s, type, hs->st_mode, us->st_mode, &mi) < 0 ||
	    owner_effect(a, h->s, type, hs->st_uid, hs->st_gid, us->st_uid,
			 us->st_gid, &oi) < 0)
		return -1;
	if (!content && mi == NONE && oi == NONE &&
	    (hs->st_mtim.tv_sec != us->st_mtim.tv_sec ||
	     hs->st_mtim.tv_nsec != us->st_mtim.tv_nsec) &&
	    add(a, EFFECT_MODIFY, h->s, NULL, type, 1,
		S_ISREG(us->st_mode) ? (uint64_t)us->st_size : 0,
		OVDIFF_TIMES_ONLY) == NONE)
		return -1;
	if (a->work.n > before && want(a, h->s, false) < 0)
		return -1;
	if (ci != NONE && type == 'f' && us->st_size > 0) {
		struct cand *c = new_cand(a, &a->new_f, ci, u->s, us);

		if (!c)
			return -1;
		c->overwrite = true;
		c->old_size = (uint64_t)hs->st_size;
		c->meta_idx[0] = mi;
		c->meta_idx[1] = oi;
	}
	return 0;
}

static int walk(struct an *a, struct pbuf *h, struct pbuf *u);

/* One entry of an upper layer: u there, h on the host. */
static int visit(struct an *a, struct pbuf *h, struct pbuf *u)
{
	struct stat us, hs;
	int r = lst(u->s, &us);
	bool absent;

	if (r == 1)
		return 0;
	if (r < 0)
		return err_errno(a->err, SD_EXIT_SAFERUN, "cannot read '%s'",
				 u->s);
	r = lst(h->s, &hs);
	if (r < 0)
		return err_errno(a->err, SD_EXIT_SAFERUN, "cannot read '%s'",
				 h->s);
	absent = r == 1;
	if (is_whiteout(u->s, &us))
		/* Over nothing: overlay's bookkeeping (a path created and
		 * removed again), not a change of the host. */
		return absent ? 0 : add_delete(a, h, &hs);
	if (S_ISREG(us.st_mode) &&
	    lgetxattr(u->s, XATTR_METACOPY, NULL, 0) >= 0)
		return err_set(a->err, SD_EXIT_SAFERUN,
			       "'%s' is a metacopy: mount the overlay without "
			       "metacopy",
			       u->s);
	if (!absent && (hs.st_mode & S_IFMT) == (us.st_mode & S_IFMT)) {
		size_t mi, oi;

		if (!S_ISDIR(us.st_mode))
			return compare(a, h, u, &hs, &us);
		if (!is_opaque(u->s)) {
			/* A merge directory: its own mode and owner, then
			 * what changed inside. */
			if (mode_effect(a, h->s, 'd', hs.st_mode, us.st_mode,
					&mi) < 0 ||
			    owner_effect(a, h->s, 'd', hs.st_uid, hs.st_gid,
					 us.st_uid, us.st_gid, &oi) < 0)
				return -1;
			if ((mi != NONE || oi != NONE) &&
			    want(a, h->s, true) < 0)
				return -1;
			return walk(a, h, u);
		}
	}
	if (!absent && add_delete(a, h, &hs) < 0)
		return -1;
	return add_create(a, h, u, &us);
}

static int walk(struct an *a, struct pbuf *h, struct pbuf *u)
{
	char **names;
	size_t n;
	int rc = 0;

	if (list_dir(u->s, &names, &n) < 0)
		return err_errno(a->err, SD_EXIT_SAFERUN, "cannot read '%s'",
				 u->s);
	for (size_t i = 0; i < n && !rc; i++) {
		size_t oh, ou;

		if (pb_push(h, names[i], &oh) < 0) {
			rc = oom(a);
			break;
		}
		if (pb_push(u, names[i], &ou) < 0) {
			pb_pop(h, oh);
			rc = oom(a);
			break;
		}
		rc = visit(a, h, u);
		pb_pop(u, ou);
		pb_pop(h, oh);
	}
	free_names(names, n);
	return rc;
}

/* Candidates in the order they are matched in: by size (and entry count),
 * then path; a deleted entry is matched with the first new one, in path
 * order, of the same size and the same digest. */
static int cmp_cand(const void *x, const void *y, void *ctx)
{
	const struct cand *a = x, *b = y;
	const struct effects *e = ctx;

	if (a->size != b->size)
		return a->size < b->size ? -1 : 1;
	if (a->files != b->files)
		return a->files < b->files ? -1 : 1;
	return strcmp(e->v[a->idx].path, e->v[b->idx].path);
}

static void sort_cands(struct an *a, struct cands *c)
{
	if (c->n > 1)
		qsort_r(c->v, c->n, sizeof(*c->v), cmp_cand, &a->work);
}

/* The first candidate in c with d's size and entry count. */
static size_t first_same(const struct cands *c, const struct cand *d)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct cand *m = &c->v[mid];

		if (m->size < d->size ||
		    (m->size == d->size && m->files < d->files))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The new candidate with the same content as d (hashing both as needed),
 * or NULL; -1 on error. */
static int find_same(struct an *a, struct cands *nc, struct cand *d, bool dir,
		     struct cand **out)
{
	*out = NULL;
	for (size_t j = first_same(nc, d); j < nc->n; j++) {
		struct cand *c = &nc->v[j];

		if (c->size != d->size || c->files != d->files)
			break;
		if (c->used ||
		    !strcmp(a->work.v[c->idx].path, a->work.v[d->idx].path))
			continue;
		if (dir ? cand_digest_dir(a, d, false) < 0 ||
				    cand_digest_dir(a, c, true) < 0
			: cand_hash_file(a, d) < 0 || cand_hash_file(a, c) < 0)
			return -1;
		if (!memcmp(d->md, c->md, 32)) {
			*out = c;
			return 0;
		}
	}
	return 0;
}

/* A deleted file and a created (or rewritten) one with the same content:
 * one rename. Deleted candidates are taken in path order. */
static int match_files(struct an *a)
{
	for (size_t i = 0; i < a->del_f.n; i++) {
		struct cand *d = &a->del_f.v[i], *c;
		size_t mi, oi;
		char *f, *t;
		int rc;

		if (find_same(a, &a->new_f, d, false, &c) < 0)
			return -1;
		if (!c)
			continue;
		c->used = d->used = true;
		a->work.v[d->idx].op = DROPPED;
		a->work.v[c->idx].op = DROPPED;
		for (int k = 0; k < 2; k++)
			if (c->meta_idx[k] != NONE)
				a->work.v[c->meta_idx[k]].op = DROPPED;
		/* add() may move the work list: copies. */
		f = strdup(a->work.v[d->idx].path);
		t = strdup(a->work.v[c->idx].path);
		if (!f || !t) {
			free(f);
			free(t);
			return oom(a);
		}
		rc = add(a, EFFECT_RENAME, f, t, 'f', 1, d->size, NULL) == NONE;
		if (!rc && c->overwrite)
			rc = add(a, EFFECT_OVERWRITE, t, NULL, 'f', 1,
				 c->old_size, NULL) == NONE;
		if (!rc)
			rc = mode_effect(a, t, 'f', d->mode, c->mode, &mi) <
				     0 ||
			     owner_effect(a, t, 'f', d->uid, d->gid, c->uid,
					  c->gid, &oi) < 0;
		free(f);
		free(t);
		if (rc)
			return -1;
	}
	return 0;
}

/* A deleted directory whose whole tree reappears as a created one. */
static int match_dirs(struct an *a)
{
	for (size_t i = 0; i < a->del_d.n; i++) {
		struct cand *d = &a->del_d.v[i], *c;
		char *f, *t;
		int rc;

		if (find_same(a, &a->new_d, d, true, &c) < 0)
			return -1;
		if (!c)
			continue;
		c->used = d->used = true;
		a->work.v[d->idx].op = DROPPED;
		a->work.v[c->idx].op = DROPPED;
		f = strdup(a->work.v[d->idx].path);
		t = strdup(a->work.v[c->idx].path);
		rc = !f || !t ? oom(a)
		     : add(a, EFFECT_RENAME, f, t, 'd', d->files, d->size,
			   NULL) == NONE
			     ? -1
			     : 0;
		free(f);
		free(t);
		if (rc)
			return -1;
	}
	return 0;
}

static int cmp_cand_path(const void *x, const void *y, void *ctx)
{
	const struct cand *a = x, *b = y;
	const struct effects *e = ctx;

	return strcmp(e->v[a->idx].path, e->v[b->idx].path);
}

/* Renames: directories first (a renamed tree is one effect), then files;
 * the deleted entries in path order. */
static int match(struct an *a)
{
	sort_cands(a, &a->new_d);
	sort_cands(a, &a->new_f);
	if (a->del_d.n > 1)
		qsort_r(a->del_d.v, a->del_d.n, sizeof(*a->del_d.v),
			cmp_cand_path, &a->work);
	if (a->del_f.n > 1)
		qsort_r(a->del_f.v, a->del_f.n, sizeof(*a->del_f.v),
			cmp_cand_path, &a->work);
	if (match_dirs(a) < 0)
		return -1;
	return match_files(a);
}

static int cmp_req(const void *x, const void *y)
{
	const struct req *a = x, *b = y;

	return strcmp(a->path, b->path);
}

/* The fingerprints, sorted by path, one per path (deep when any request
 * for it is). */
static json_t *fingerprints(struct an *a)
{
	json_t *arr = json_array();

	if (!arr) {
		oom(a);
		return NULL;
	}
	if (a->nreq > 1)
		qsort(a->req, a->nreq, sizeof(*a->req), cmp_req);
	for (size_t i = 0; i < a->nreq;) {
		bool deep = false;
		size_t j = i;
		json_t *fp;

		for (; j < a->nreq && !strcmp(a->req[j].path, a->req[i].path);
		     j++)
			deep |= a->req[j].deep;
		fp = fprint_path(a->req[i].path, deep, a->err);
		if (!fp || json_array_append_new(arr, fp) < 0) {
			if (fp)
				oom(a);
			json_decref(arr);
			return NULL;
		}
		i = j;
	}
	return arr;
}

static void an_release(struct an *a)
{
	effects_release(&a->work);
	for (size_t i = 0; i < a->nreq; i++)
		free(a->req[i].path);
	free(a->req);
	free_cands(&a->del_f);
	free_cands(&a->new_f);
	free_cands(&a->del_d);
	free_cands(&a->new_d);
	for (size_t i = 0; i < a->ntj; i++) {
		free(a->tj[i].path);
		free(a->tj[i].errpath);
	}
	free(a->tj);
	free(a->buf);
}

/* Move the effects that are left into out; all or none. */
static int hand_over(struct an *a, struct effects *out)
{
	size_t start = out->n;

	for (size_t i = 0; i < a->work.n; i++) {
		const struct effect *x = &a->work.v[i];

		if (x->op == DROPPED)
			continue;
		if (effects_add(out, x->op, x->path, x->to, x->type, x->files,
				x->bytes, x->detail) < 0) {
			while (out->n > start) {
				struct effect *y = &out->v[--out->n];

				free(y->path);
				free(y->to);
				free(y->detail);
			}
			return oom(a);
		}
	}
	effects_sort(out);
	return 0;
}

int ovdiff_analyse(const struct ovdiff_layer *layers, size_t n,
		   struct effects *effects, json_t **targets,
		   struct sd_err *err)
{
	struct an a = {.err = err};
	struct pbuf h = {0}, u = {0};
	json_t *fps = NULL;
	int rc = 0;

	*targets = NULL;
	a.buf = malloc(2 * CHUNK);
	if (!a.buf)
		rc = oom(&a);
	for (size_t i = 0; i < n && !rc; i++) {
		char *host = trimmed(layers[i].host);
		char *upper = trimmed(layers[i].upper);
		struct stat st;

		if (!host || !upper || pb_set(&h, host) < 0 ||
		    pb_set(&u, upper) < 0)
			rc = oom(&a);
		else if (!*host || !*upper)
			rc = err_set(err, SD_EXIT_SAFERUN,
				     "an overlay layer without a directory");
		else if (stat(host, &st) < 0 || !S_ISDIR(st.st_mode))
			rc = err_set(err, SD_EXIT_SAFERUN,
				     "'%s' is not a directory", host);
		else
			rc = walk(&a, &h, &u);
		free(host);
		free(upper);
	}
	free(h.s);
	free(u.s);
	if (!rc)
		rc = run_tallies(&a);
	if (!rc)
		rc = match(&a);
	if (!rc) {
		fps = fingerprints(&a);
		if (!fps)
			rc = -1;
	}
	if (!rc && hand_over(&a, effects) < 0)
		rc = -1;
	an_release(&a);
	if (rc) {
		json_decref(fps);
		return -1;
	}
	*targets = fps;
	return 0;
}

/* ---------------------------------------------------------------------
 * Commit
 */

struct cm {
	const struct effects *e;
	char **hosts, **uppers; /* each layer's, trimmed */
	size_t n;
	unsigned char *buf; /* CHUNK */
	size_t *order;	    /* the effects by path */
	size_t *by_to;	    /* the renames by target */
	size_t nto;
	size_t failed;
	char first[768];
};

static void fail(struct cm *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* One change could not be applied: counted, the first one kept. */
static void fail(struct cm *c, const char *fmt, ...)
{
	va_list ap;

	c->failed++;
	if (c->first[0])
		return;
	va_start(ap, fmt);
	vsnprintf(c->first, sizeof(c->first), fmt, ap);
	va_end(ap);
}

/* The part of path below a layer's host directory: no empty, "." or ".."
 * component. */
static bool clean_rel(const char *rel)
{
	const char *p = rel;

	if (!*p)
		return false;
	for (;;) {
		const char *s = strchr(p, '/');
		size_t len = s ? (size_t)(s - p) : strlen(p);

		if (len == 0 || (len == 1 && p[0] == '.') ||
		    (len == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		if (!s)
			return true;
		p = s + 1;
	}
}

/* The upper path of a host path (malloc'd), or NULL when no layer covers
 * it or it is not clean (errno EINVAL) or out of memory (ENOMEM). */
static char *upper_of(const struct cm *c, const char *path)
{
	size_t best = NONE, blen = 0;
	const char *rel;
	char *out;

	for (size_t i = 0; i < c->n; i++) {
		size_t len = strlen(c->hosts[i]);
		bool root = len == 1 && c->hosts[i][0] == '/';

		if (strncmp(path, c->hosts[i], len) ||
		    (!root && path[len] != '/'))
			continue;
		if (best == NONE || len > blen) {
			best = i;
			blen = len;
		}
	}
	if (best == NONE) {
		errno = EINVAL;
		return NULL;
	}
	rel = path + blen;
	if (*rel == '/')
		rel++;
	if (!clean_rel(rel)) {
		errno = EINVAL;
		return NULL;
	}
	if (asprintf(&out, "%s%s%s", c->uppers[best],
		     strcmp(c->uppers[best], "/") ? "/" : "", rel) < 0) {
		errno = ENOMEM;
		return NULL;
	}
	return out;
}

/* The directory part of path into dir (n bytes) and a pointer to the
 * last name. -1 when too long. */
static int split(const char *path, char *dir, size_t n, const char **base)
{
	const char *s = strrchr(path, '/');

	if (!s) {
		snprintf(dir, n, ".");
		*base = path;
		return 0;
	}
	*base = s + 1;
	if (s == path)
		return snprintf(dir, n, "/") >= (int)n ? -1 : 0;
	if ((size_t)(s - path) >= n)
		return -1;
	memcpy(dir, path, (size_t)(s - path));
	dir[s - path] = 0;
	return 0;
}

/* chown that may be refused (EPERM, or EINVAL for an id not mapped here):
 * the owner is kept "when permitted". */
static int chown_soft(int fd, const char *path, const struct stat *st)
{
	int r = fd >= 0 ? fchown(fd, st->st_uid, st->st_gid)
			: fchownat(AT_FDCWD, path, st->st_uid, st->st_gid,
				   AT_SYMLINK_NOFOLLOW);

	return r < 0 && errno != EPERM && errno != EINVAL ? -1 : 0;
}

/* Owner, mode and times of st on path (or on fd when fd >= 0). */
static int set_meta(int fd, const char *path, const struct stat *st)
{
	struct timespec t[2] = {st->st_atim, st->st_mtim};

	if (chown_soft(fd, path, st) < 0)
		return -1;
	if (fd >= 0)
		return fchmod(fd, st->st_mode & 07777) < 0 ||
				       futimens(fd, t) < 0
			       ? -1
			       : 0;
	if (!S_ISLNK(st->st_mode) &&
	    fchmodat(AT_FDCWD, path, st->st_mode & 07777, 0) < 0)
		return -1;
	return utimensat(AT_FDCWD, path, t, AT_SYMLINK_NOFOLLOW);
}

/* Copy the regular file from into fd. */
static int copy_data(struct cm *c, const char *from, int fd)
{
	int in = open_file(from);
	ssize_t r;
	int saved;

	if (in < 0)
		return -1;
	while ((r = read_full(in, c->buf, CHUNK)) > 0)
		if (fs_write_all(fd, c->buf, (size_t)r) < 0)
			break;
	saved = errno;
	close(in);
	errno = saved;
	return r == 0 ? 0 : -1;
}

/* Make the entry path, new, as a copy of the upper entry from (lstat st):
 * a file with its content, a symlink, a special file, a directory with
 * everything below it; owner, mode and times from the upper layer. */
static int make_copy(struct cm *c, struct pbuf *from, struct pbuf *to,
		     const struct stat *st);

static int copy_children(struct cm *c, struct pbuf *from, struct pbuf *to)
{
	char **names;
	size_t n;
	int rc = 0;

	if (list_dir(from->s, &names, &n) < 0)
		return -1;
	for (size_t i = 0; i < n && !rc; i++) {
		struct stat st;
		size_t of, ot;

		if (pb_push(from, names[i], &of) < 0) {
			errno = ENOMEM;
			rc = -1;
			break;
		}
		if (pb_push(to, names[i], &ot) < 0) {
			pb_pop(from, of);
			errno = ENOMEM;
			rc = -1;
			break;
		}
		if (lstat(from->s, &st) < 0)
			rc = errno == ENOENT ? 0 : -1;
		else if (!is_whiteout(from->s, &st))
			rc = make_copy(c, from, to, &st);
		pb_pop(to, ot);
		pb_pop(from, of);
	}
	free_names(names, n);
	return rc;
}

static int make_copy(struct cm *c, struct pbuf *from, struct pbuf *to,
		     const struct stat *st)
{
	if (S_ISDIR(st->st_mode)) {
		if (mkdir(to->s, 0700) < 0 || copy_children(c, from, to) < 0)
			return -1;
		return set_meta(-1, to->s, st);
	}
	if (S_ISREG(st->st_mode)) {
		int fd = open(to->s,
			      O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
				      O_CLOEXEC,
			      0600);
		int rc, saved;

		if (fd < 0)
			return -1;
		rc = copy_data(c, from->s, fd) < 0 ||
				     set_meta(fd, NULL, st) < 0 || fsync(fd) < 0
			     ? -1
			     : 0;
		saved = errno;
		if (close(fd) < 0 && !rc) {
			saved = errno;
			rc = -1;
		}
		errno = saved;
		return rc;
	}
	if (S_ISLNK(st->st_mode)) {
		char *t = read_link(from->s, (size_t)st->st_size);
		int rc;

		if (!t)
			return -1;
		rc = symlink(t, to->s);
		free(t);
		return rc < 0 ? -1 : set_meta(-1, to->s, st);
	}
	if (mknod(to->s, st->st_mode & (S_IFMT | 0700), st->st_rdev) < 0)
		return -1;
	return set_meta(-1, to->s, st);
}

/* rename, and with noreplace never onto a path that exists. */
static int move(const char *from, const char *to, bool noreplace)
{
	struct stat st;

	if (!noreplace)
		return rename(from, to);
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL)
		return -1;
	/* A filesystem without RENAME_NOREPLACE. */
	if (lstat(to, &st) == 0) {
		errno = EEXIST;
		return -1;
	}
	return rename(from, to);
}

static void remove_tmp(const char *tmp, bool dir)
{
	char parent[PATH_MAX];
	const char *base;
	int fd;

	if (!dir) {
		unlink(tmp);
		return;
	}
	if (split(tmp, parent, sizeof(parent), &base) < 0)
		return;
	fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	rmtree_remove(fd, base, tmp, NULL);
	close(fd);
}

/* Put a copy of the upper entry up at the host path: built beside it
 * under a temporary name, then renamed onto it. 0, or -1 with errno. */
static int install(struct cm *c, const char *up, const char *path,
		   bool noreplace)
{
	char parent[PATH_MAX], tmp[PATH_MAX];
	const char *base;
	struct stat st;
	struct pbuf from = {0}, to = {0};
	int rc = -1, saved, fd = -1;
	bool dir;

	if (lstat(up, &st) < 0)
		return -1;
	if (split(path, parent, sizeof(parent), &base) < 0 ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s%s.saferun.XXXXXX", parent,
			     strcmp(parent, "/") ? "/" : "") >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	dir = S_ISDIR(st.st_mode);
	if (dir) {
		if (!mkdtemp(tmp))
			return -1;
	} else {
		fd = mkostemp(tmp, O_CLOEXEC);
		if (fd < 0)
			return -1;
	}
	if (S_ISREG(st.st_mode)) {
		rc = copy_data(c, up, fd) < 0 || set_meta(fd, NULL, &st) < 0 ||
				     fsync(fd) < 0
			     ? -1
			     : 0;
		saved = errno;
		if (close(fd) < 0 && !rc) {
			saved = errno;
			rc = -1;
		}
		errno = saved;
	} else if (dir) {
		if (pb_set(&from, up) < 0 || pb_set(&to, tmp) < 0)
			errno = ENOMEM;
		else if (copy_children(c, &from, &to) == 0 &&
			 set_meta(-1, tmp, &st) == 0)
			rc = 0;
	} else {
		/* The name is reserved; the symlink or special file takes
		 * its place. */
		close(fd);
		if (unlink(tmp) == 0 && pb_set(&from, up) == 0 &&
		    pb_set(&to, tmp) == 0)
			rc = make_copy(c, &from, &to, &st);
	}
	saved = errno;
	free(from.s);
	free(to.s);
	if (rc == 0 && move(tmp, path, noreplace) == 0)
		return 0;
	saved = rc == 0 ? errno : saved;
	remove_tmp(tmp, dir);
	errno = saved;
	return -1;
}

struct rm_ctx {
	struct cm *c;
	bool reported;
};

static void rm_failed(void *ctx, const char *path, int errnum, const char *what)
{
	struct rm_ctx *r = ctx;

	if (r->reported)
		return;
	r->reported = true;
	fail(r->c, "cannot remove '%s': %s", path,
	     errnum ? strerror(errnum)
	     : what ? what
		    : "failed");
}

/* Remove path and everything below it, not leaving its filesystem. */
static int remove_path(struct cm *c, const char *path)
{
	char parent[PATH_MAX];
	const char *base;
	struct rm_ctx r = {.c = c};
	struct rmtree_ops ops = {
		.one_file_system = true, .ctx = &r, .failed = rm_failed};
	int fd, rc;

	if (split(path, parent, sizeof(parent), &base) < 0) {
		fail(c, "cannot remove '%s': %s", path, strerror(ENAMETOOLONG));
		return -1;
	}
	fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		fail(c, "cannot remove '%s': %s", path, strerror(errno));
		return -1;
	}
	rc = rmtree_remove(fd, base, path, &ops);
	close(fd);
	if (rc < 0 && !r.reported)
		fail(c, "cannot remove '%s'", path);
	return rc;
}

/* The first position in idx (n indexes of effects sorted by the field
 * key picks) whose key is not below path. */
static size_t lower_bound(const struct cm *c, const size_t *idx, size_t n,
			  bool by_to, const char *path)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct effect *x = &c->e->v[idx[mid]];

		if (strcmp(by_to ? x->to : x->path, path) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool is_overwritten(const struct cm *c, const char *path)
{
	for (size_t i = lower_bound(c, c->order, c->e->n, false, path);
	     i < c->e->n && !strcmp(c->e->v[c->order[i]].path, path); i++)
		if (c->e->v[c->order[i]].op == EFFECT_OVERWRITE)
			return true;
	return false;
}

static bool renamed_onto(const struct cm *c, const char *path)
{
	size_t i = lower_bound(c, c->by_to, c->nto, true, path);

	return i < c->nto && !strcmp(c->e->v[c->by_to[i]].to, path);
}

/* Rename x from its path (or from tmp, where a cycle parked it). */
static void apply_rename(struct cm *c, const struct effect *x, const char *tmp)
{
	const char *from = tmp ? tmp : x->path;
	bool over = is_overwritten(c, x->to);
	char *up = upper_of(c, x->to);
	struct stat st;

	if (!up) {
		fail(c, "cannot rename '%s' to '%s': %s", x->path, x->to,
		     strerror(errno));
		return;
	}
	if (move(from, x->to, !over) < 0) {
		if (errno != EXDEV) {
			fail(c, "cannot rename '%s' to '%s': %s", x->path,
			     x->to, strerror(errno));
		} else if (install(c, up, x->to, !over) < 0) {
			/* Another filesystem: a copy, then the removal. */
			fail(c, "cannot rename '%s' to '%s': %s", x->path,
			     x->to, strerror(errno));
		} else {
			remove_path(c, from);
		}
		free(up);
		return;
	}
	if (lstat(up, &st) < 0 || set_meta(-1, x->to, &st) < 0)
		fail(c, "cannot set the mode, owner or times of '%s': %s",
		     x->to, strerror(errno));
	free(up);
}

/* Move path aside to a new name beside it, into tmp (PATH_MAX bytes). */
static int park(const char *path, char *tmp)
{
	char parent[PATH_MAX];
	const char *base;
	struct stat st;
	int fd;

	if (lstat(path, &st) < 0)
		return -1;
	if (split(path, parent, PATH_MAX, &base) < 0 ||
	    (size_t)snprintf(tmp, PATH_MAX, "%s%s.saferun.XXXXXX", parent,
			     strcmp(parent, "/") ? "/" : "") >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* A placeholder of the same kind, which rename(2) replaces. */
	if (S_ISDIR(st.st_mode)) {
		if (!mkdtemp(tmp))
			return -1;
	} else {
		fd = mkostemp(tmp, O_CLOEXEC);
		if (fd < 0)
			return -1;
		close(fd);
	}
	if (rename(path, tmp) < 0) {
		int saved = errno;

		if (S_ISDIR(st.st_mode))
			rmdir(tmp);
		else
			unlink(tmp);
		errno = saved;
		return -1;
	}
	return 0;
}

enum { R_PENDING, R_PARKED, R_DONE };

/* The renames, each once the path it moves onto is free: a rename onto
 * the path another one moves away waits for it (`mv b c; mv a b`), and a
 * cycle (two directories swapped) is broken by parking one of them under
 * a temporary name first. */
static void apply_renames(struct cm *c)
{
	const struct effects *e = c->e;
	unsigned char *state = calloc(e->n ? e->n : 1, 1);
	char(*tmp)[PATH_MAX] = NULL;
	size_t *parked_at = NULL, nparked = 0, left = 0;

	for (size_t i = 0; i < e->n; i++)
		left += e->v[i].op == EFFECT_RENAME;
	if (!left) {
		free(state);
		return;
	}
	tmp = malloc(2 * sizeof(*tmp));
	parked_at = calloc(e->n, sizeof(*parked_at));
	if (!state || !tmp || !parked_at) {
		fail(c, "cannot rename: %s", strerror(ENOMEM));
		goto out;
	}
	while (left) {
		bool progress = false;

		for (size_t k = 0; k < e->n; k++) {
			size_t i = c->order[k], j;
			const struct effect *x = &e->v[i];
			bool blocked = false;

			if (x->op != EFFECT_RENAME || state[i] == R_DONE)
				continue;
			for (j = lower_bound(c, c->order, e->n, false, x->to);
			     j < e->n && !strcmp(e->v[c->order[j]].path, x->to);
			     j++)
				if (e->v[c->order[j]].op == EFFECT_RENAME &&
				    c->order[j] != i &&
				    state[c->order[j]] == R_PENDING)
					blocked = true;
			if (blocked)
				continue;
			apply_rename(c, x,
				     state[i] == R_PARKED ? tmp[parked_at[i]]
							  : NULL);
			state[i] = R_DONE;
			left--;
			progress = true;
		}
		if (progress || !left)
			continue;
		/* A cycle: park the first one still in place. */
		for (size_t k = 0; k < e->n; k++) {
			size_t i = c->order[k];
			char(*more)[PATH_MAX];

			if (e->v[i].op != EFFECT_RENAME ||
			    state[i] != R_PENDING)
				continue;
			more = realloc(tmp, (nparked + 1) * sizeof(*tmp));
			if (!more) {
				fail(c, "cannot rename '%s': %s", e->v[i].path,
				     strerror(ENOMEM));
				state[i] = R_DONE;
				left--;
				break;
			}
			tmp = more;
			if (park(e->v[i].path, tmp[nparked]) < 0) {
				fail(c, "cannot rename '%s' to '%s': %s",
				     e->v[i].path, e->v[i].to, strerror(errno));
				state[i] = R_DONE;
				left--;
			} else {
				parked_at[i] = nparked++;
				state[i] = R_PARKED;
			}
			break;
		}
	}
out:
	free(state);
	free(tmp);
	free(parked_at);
}

static void apply_content(struct cm *c, const struct effect *x)
{
	char *up = upper_of(c, x->path);
	struct stat st;

	if (!up) {
		fail(c, "cannot write '%s': %s", x->path, strerror(errno));
		return;
	}
	if (x->op == EFFECT_MODIFY && x->detail &&
	    !strcmp(x->detail, OVDIFF_TIMES_ONLY)) {
		struct timespec t[2];

		if (lstat(up, &st) < 0)
			fail(c, "cannot read '%s': %s", up, strerror(errno));
		else if (t[0] = st.st_atim, t[1] = st.st_mtim,
			 utimensat(AT_FDCWD, x->path, t, AT_SYMLINK_NOFOLLOW) <
				 0)
			fail(c, "cannot set the times of '%s': %s", x->path,
			     strerror(errno));
	} else if (install(c, up, x->path, x->op == EFFECT_CREATE) < 0) {
		fail(c, "cannot %s '%s': %s",
		     x->op == EFFECT_CREATE ? "create" : "replace", x->path,
		     strerror(errno));
	}
	free(up);
}

static void apply_meta(struct cm *c, const struct effect *x)
{
	char *up = upper_of(c, x->path);
	struct stat st;

	if (!up || lstat(up, &st) < 0) {
		fail(c, "cannot read '%s': %s", up ? up : x->path,
		     strerror(errno));
	} else if (x->op == EFFECT_OWNER) {
		if (fchownat(AT_FDCWD, x->path, st.st_uid, st.st_gid,
			     AT_SYMLINK_NOFOLLOW) < 0)
			fail(c, "cannot change the owner of '%s': %s", x->path,
			     strerror(errno));
	} else if (!S_ISLNK(st.st_mode) &&
		   fchmodat(AT_FDCWD, x->path, st.st_mode & 07777, 0) < 0) {
		fail(c, "cannot change the mode of '%s': %s", x->path,
		     strerror(errno));
	}
	free(up);
}

/* 0 when path is below a layer and its upper entry (when need_upper)
 * exists; else -1 with err. */
static int check_path(struct cm *c, const char *path, bool need_upper,
		      struct sd_err *err)
{
	char *up = upper_of(c, path);
	struct stat st;

	if (!up)
		return errno == ENOMEM
			       ? err_set(err, SD_EXIT_SAFERUN, "out of memory")
			       : err_set(err, SD_EXIT_SAFERUN,
					 "'%s' is not below an overlaid "
					 "directory",
					 path);
	if (need_upper && lstat(up, &st) < 0) {
		err_set(err, SD_EXIT_SAFERUN,
			"'%s' is missing from the sandbox ('%s')", path, up);
		free(up);
		return -1;
	}
	free(up);
	return 0;
}

/* The upper entry of a created or rewritten path is still what the plan
 * describes: its type, and a regular file's size. */
static int check_upper(struct cm *c, const struct effect *x, struct sd_err *err)
{
	char *up = upper_of(c, x->path);
	struct stat st;
	bool same;

	if (!up || lstat(up, &st) < 0) {
		free(up);
		return 0; /* check_path says why */
	}
	same = type_of(st.st_mode) == x->type &&
	       (!S_ISREG(st.st_mode) || x->type != 'f' ||
		(uint64_t)st.st_size == x->bytes);
	free(up);
	if (same)
		return 0;
	return err_set(err, SD_EXIT_CONFIRM,
		       "'%s' changed in the sandbox since the plan, nothing "
		       "was applied",
		       x->path);
}

/* 0 unless removing or moving path would take an upper directory with it
 * (a sandbox kept inside a directory it overlays). */
static int spares_sandbox(struct cm *c, const char *path, struct sd_err *err)
{
	size_t len = strlen(path);

	for (size_t i = 0; i < c->n; i++)
		if (!strncmp(c->uppers[i], path, len) &&
		    (c->uppers[i][len] == '/' || c->uppers[i][len] == 0))
			return err_set(err, SD_EXIT_SAFERUN,
				       "'%s' holds the sandbox's own upper "
				       "directory '%s'",
				       path, c->uppers[i]);
	return 0;
}

/* Before anything is applied: each effect is one a sandbox makes, on a
 * path a layer covers, with its upper entry there, and not one that takes
 * the sandbox away before it is read. */
static int validate(struct cm *c, struct sd_err *err)
{
	for (size_t i = 0; i < c->e->n; i++) {
		const struct effect *x = &c->e->v[i];
		int rc;

		switch (x->op) {
		case EFFECT_DELETE:
			rc = check_path(c, x->path, false, err) < 0 ||
					     spares_sandbox(c, x->path, err) < 0
				     ? -1
				     : 0;
			break;
		case EFFECT_RENAME:
			if (!x->to)
				return err_set(err, SD_EXIT_SAFERUN,
					       "the rename of '%s' has no "
					       "target",
					       x->path);
			rc = check_path(c, x->path, false, err) < 0 ||
					     check_path(c, x->to, true, err) <
						     0 ||
					     spares_sandbox(c, x->path, err) < 0
				     ? -1
				     : 0;
			break;
		case EFFECT_CREATE:
		case EFFECT_MODIFY:
			rc = check_path(c, x->path, true, err) < 0 ||
					     check_upper(c, x, err) < 0
				     ? -1
				     : 0;
			break;
		case EFFECT_MODE:
		case EFFECT_OWNER:
			rc = check_path(c, x->path, true, err);
			break;
		case EFFECT_OVERWRITE:
			rc = check_path(c, x->path, !renamed_onto(c, x->path),
					err);
			break;
		default:
			return err_set(err, SD_EXIT_SAFERUN,
				       "cannot apply a '%s' effect from a "
				       "sandbox ('%s')",
				       effect_op_name(x->op), x->path);
		}
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int cmp_order(const void *x, const void *y, void *ctx)
{
	const struct effects *e = ctx;
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	int c = strcmp(e->v[a].path, e->v[b].path);

	return c ? c : (a > b) - (a < b);
}

static int cmp_to(const void *x, const void *y, void *ctx)
{
	const struct effects *e = ctx;

	return strcmp(e->v[*(const size_t *)x].to, e->v[*(const size_t *)y].to);
}

int ovdiff_commit(const struct ovdiff_layer *layers, size_t n,
		  const struct effects *effects, const json_t *targets,
		  struct sd_err *err)
{
	struct cm c = {.e = effects, .n = n};
	size_t *order;
	char *why;
	int rc = -1;

	if (!json_is_array(targets))
		return err_set(err, SD_EXIT_SAFERUN,
			       "the plan has no fingerprints");
	why = fprint_check_all(targets);
	if (why) {
		err_set(err, SD_EXIT_CONFIRM,
			"the host changed since the run, nothing was applied: "
			"%s",
			why);
		free(why);
		return -1;
	}
	c.hosts = calloc(n ? n : 1, sizeof(*c.hosts));
	c.uppers = calloc(n ? n : 1, sizeof(*c.uppers));
	c.buf = malloc(CHUNK);
	order = c.order =
		malloc((effects->n ? effects->n : 1) * sizeof(*order));
	c.by_to = malloc((effects->n ? effects->n : 1) * sizeof(*c.by_to));
	if (!c.hosts || !c.uppers || !c.buf || !c.order || !c.by_to) {
		err_set(err, SD_EXIT_SAFERUN, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		c.hosts[i] = trimmed(layers[i].host);
		c.uppers[i] = trimmed(layers[i].upper);
		if (!c.hosts[i] || !c.uppers[i]) {
			err_set(err, SD_EXIT_SAFERUN, "out of memory");
			goto out;
		}
		if (!*c.hosts[i] || !*c.uppers[i]) {
			err_set(err, SD_EXIT_SAFERUN,
				"an overlay layer without a directory");
			goto out;
		}
	}
	for (size_t i = 0; i < effects->n; i++) {
		order[i] = i;
		if (effects->v[i].op == EFFECT_RENAME && effects->v[i].to)
			c.by_to[c.nto++] = i;
	}
	if (effects->n > 1)
		qsort_r(order, effects->n, sizeof(*order), cmp_order,
			(void *)effects);
	if (c.nto > 1)
		qsort_r(c.by_to, c.nto, sizeof(*c.by_to), cmp_to,
			(void *)effects);
	if (validate(&c, err) < 0)
		goto out;

	/* 1. Deletes: they free the paths that renames and creates need. */
	for (size_t i = 0; i < effects->n; i++)
		if (effects->v[order[i]].op == EFFECT_DELETE)
			remove_path(&c, effects->v[order[i]].path);
	/* 2. Renames, on the host. */
	apply_renames(&c);
	/* 3. Creates and modifies, parents first. */
	for (size_t i = 0; i < effects->n; i++) {
		const struct effect *x = &effects->v[order[i]];

		if (x->op == EFFECT_CREATE || x->op == EFFECT_MODIFY ||
		    (x->op == EFFECT_OVERWRITE && !renamed_onto(&c, x->path)))
			apply_content(&c, x);
	}
	/* 4. Owners (a chown clears set-id bits), then modes; children
	 * first, so that a directory closed to its owner comes last. */
	for (size_t i = effects->n; i-- > 0;)
		if (effects->v[order[i]].op == EFFECT_OWNER)
			apply_meta(&c, &effects->v[order[i]]);
	for (size_t i = effects->n; i-- > 0;)
		if (effects->v[order[i]].op == EFFECT_MODE)
			apply_meta(&c, &effects->v[order[i]]);
	if (c.failed)
		err_set(err, SD_EXIT_SAFERUN,
			"%zu of %zu changes could not be applied: %s", c.failed,
			effects->n, c.first);
	else
		rc = 0;
out:
	for (size_t i = 0; c.hosts && i < n; i++)
		free(c.hosts[i]);
	for (size_t i = 0; c.uppers && i < n; i++)
		free(c.uppers[i]);
	free(c.hosts);
	free(c.uppers);
	free(c.buf);
	free(c.order);
	free(c.by_to);
	return rc;
}
