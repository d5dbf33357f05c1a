/* Running a command in a copy-on-write sandbox; see sandbox.h.
 *
 * Three processes besides the caller. The builder (a child of the caller)
 * enters the new namespaces and builds the new root; with privileges it
 * first mounts the overlays in a mount namespace of its own, then enters
 * the user namespace (whose id maps the caller writes: they need
 * CAP_SETUID where the caller is) and binds the root onto itself (a mount
 * copied into a less privileged namespace is locked, and pivot_root(2)
 * refuses a locked one); without, it maps its own ids and mounts
 * everything in the user namespace. It then forks the reaper, PID 1 of the
 * new PID namespace, which mounts /proc, pivots into the new root and
 * forks the command; when the command is gone, the reaper kills what is
 * left, reaps it, and lists what was written where nothing is kept.
 *
 * They report to the caller through a SOCK_SEQPACKET socket pair, one
 * record a message: a type byte and text, NUL-terminated. Everything they
 * need is planned by the caller before the fork (the mounts, the
 * directories, the option strings), so that after it they only make
 * system calls and format messages: no allocation, no lock.
 *
 * Records: M (ready for the id maps; the caller answers with one byte),
 * G pid (the reaper), S t (the command is about to be exec'd, at CLOCK_
 * MONOTONIC t ns), N errno (its exec failed), F n (layer n fell back to a
 * read-only bind), U line (uncaptured), E message (the sandbox could not be
 * built), X status t (the command ended, at t). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mounts.h"
#include "paths.h"
#include "sandbox.h"

#define E_SR SD_EXIT_SAFERUN

/* One record: type byte, text, NUL; below PIPE_BUF. */
#define REC_MAX 2048
/* A directory that holds a mount point is rebuilt entry by entry (without
 * CAP_SYS_ADMIN in the initial namespace); past this many entries it is
 * bound read-only instead. */
#define SPLIT_MAX 256
/* mount(2) option data is one page. */
#define MOUNT_DATA_MAX 4000
/* A file in a directory that the sandbox rebuilds (at the top level, or
 * beside a mount point) is copied into its tmpfs up to this size, and
 * reported if written; a larger one is bound read-only. */
#define COPY_MAX (1 << 20)

/* The signals forwarded to the command. */
static const int fwd_sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
#define N_FWD (sizeof(fwd_sigs) / sizeof(fwd_sigs[0]))

/* Device nodes bound from the host into the sandbox's /dev. */
static const char *const dev_nodes[] = {"null",	  "zero",    "full",
					"random", "urandom", "tty"};
#define N_DEV (sizeof(dev_nodes) / sizeof(dev_nodes[0]))
static const char *const dev_links[][2] = {
	{"fd", "/proc/self/fd"},       {"stdin", "/proc/self/fd/0"},
	{"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"},
	{"ptmx", "pts/ptmx"},
};
#define N_DEV_LINKS (sizeof(dev_links) / sizeof(dev_links[0]))

enum op_kind {
	OP_MKDIR,   /* a directory in the tmpfs of the new root */
	OP_MKFILE,  /* an empty file there (to mount something on) */
	OP_SYMLINK, /* a symlink there (data: what it points to) */
	OP_OVERLAY, /* an overlay of host at target (data: its options) */
	OP_BIND,    /* host bound read-only at target */
	OP_COPY,    /* a copy of the (small, regular) file host at target */
	OP_HIDE,    /* an empty read-only tmpfs, or file, over target */
};

struct op {
	enum op_kind kind;
	char *host, *target, *data;
	const char *why; /* OP_BIND: why it is read-only (NULL: not said) */
	mode_t mode;	 /* OP_MKDIR, OP_COPY */
	uid_t uid;
	gid_t gid;
	off_t size; /* OP_COPY: the host file's size and mtime */
	struct timespec mtime;
	bool is_dir; /* OP_BIND (recursive), OP_HIDE */
	int layer;   /* OP_OVERLAY */
};

/* A directory of a tmpfs (/, /dev, a rebuilt one) whose new and removed
 * entries are reported after the run. */
struct skel {
	char *path;  /* in the sandbox */
	char *names; /* what the sandbox put there, each NUL-terminated */
	size_t len;
};

struct plan {
	char *dir, *root, *cwd, *empty;
	char *const *argv;
	bool priv, net;
	uid_t uid;
	gid_t gid;
	pid_t parent;
	int fd; /* the builder's end of the socket pair */
	struct op *ops;
	size_t n_ops, cap_ops;
	struct skel *skels;
	size_t n_skels, cap_skels;
	struct sandbox_layer *layers;
	size_t n_layers, cap_layers;
	char **hidden;
	size_t n_hidden;
	struct mount_table mt;
	bool *visible; /* per mt entry: the mount seen at its mount point */
	bool *layer_failed; /* per layer, in the caller: fell back (F) */
	bool dev_ok[N_DEV];
	bool sys;
	mode_t root_mode; /* of the tmpfs of / */
	sigset_t saved_mask;
	struct sigaction saved_act[N_FWD], saved_chld;
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double ms_between(int64_t a, int64_t b)
{
	return b > a ? (double)(b - a) / 1e6 : 0.0;
}

__attribute__((format(printf, 1, 2))) static char *str_printf(const char *fmt,
							      ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

static char *path_join(const char *a, const char *b)
{
	return str_printf("%s%s%s", a, strcmp(a, "/") ? "/" : "", b);
}

/* Below (or at, with or_equal) dir: "/a/b" is below "/a" and "/". */
static bool path_below(const char *p, const char *dir, bool or_equal)
{
	size_t n = strlen(dir);

	if (!strcmp(dir, "/"))
		return or_equal || strcmp(p, "/");
	if (strncmp(p, dir, n))
		return false;
	return p[n] == '/' || (or_equal && !p[n]);
}

static size_t path_depth(const char *p)
{
	size_t d = 0;

	for (; *p; p++)
		d += *p == '/';
	return d;
}

/* Overlayfs splits its options at ',' and lowerdir at ':', and takes a
 * backslash as an escape. */
static char *ovl_escape(const char *s)
{
	char *out = malloc(strlen(s) * 2 + 1), *o = out;

	if (!out)
		return NULL;
	for (; *s; s++) {
		if (*s == ',' || *s == ':' || *s == '\\')
			*o++ = '\\';
		*o++ = *s;
	}
	*o = '\0';
	return out;
}

/* ---- the plan, made by the caller ---- */

static void plan_free(struct plan *pl)
{
	for (size_t i = 0; i < pl->n_ops; i++) {
		free(pl->ops[i].host);
		free(pl->ops[i].target);
		free(pl->ops[i].data);
	}
	free(pl->ops);
	for (size_t i = 0; i < pl->n_skels; i++) {
		free(pl->skels[i].path);
		free(pl->skels[i].names);
	}
	free(pl->skels);
	for (size_t i = 0; i < pl->n_layers; i++) {
		free(pl->layers[i].host);
		free(pl->layers[i].upper);
	}
	free(pl->layers);
	for (size_t i = 0; i < pl->n_hidden; i++)
		free(pl->hidden[i]);
	free(pl->hidden);
	mounts_release(&pl->mt);
	free(pl->visible);
	free(pl->layer_failed);
	free(pl->dir);
	free(pl->root);
	free(pl->cwd);
	free(pl->empty);
}

static int oom(struct sd_err *err)
{
	return err_set(err, E_SR, "out of memory");
}

static struct op *add_op(struct plan *pl, enum op_kind kind, const char *host,
			 struct sd_err *err)
{
	struct op *op;

	if (pl->n_ops == pl->cap_ops) {
		size_t cap = pl->cap_ops ? pl->cap_ops * 2 : 64;
		struct op *v = realloc(pl->ops, cap * sizeof(*v));

		if (!v)
			return oom(err), NULL;
		pl->ops = v;
		pl->cap_ops = cap;
	}
	op = &pl->ops[pl->n_ops];
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	op->layer = -1;
	op->host = strdup(host);
	op->target = str_printf("%s%s", pl->root, host);
	if (!op->host || !op->target) {
		free(op->host);
		free(op->target);
		return oom(err), NULL;
	}
	pl->n_ops++;
	return op;
}

/* The mode to give a directory the sandbox makes for a host one. Without
 * the initial namespace's privileges, the caller owns it whoever owns the
 * host's: it gets the permissions the caller has on the host's as its
 * owner's (no write access to /usr, say). */
static mode_t seen_mode(const struct plan *pl, const struct stat *st)
{
	mode_t m = st->st_mode & 07777, who;

	if (pl->priv || st->st_uid == pl->uid)
		return m;
	who = st->st_gid == pl->gid ? (m >> 3) & 7 : m & 7;
	return (m & 07077) | (who << 6);
}

static int add_mkdir(struct plan *pl, const char *host, const struct stat *st,
		     struct sd_err *err)
{
	struct op *op = add_op(pl, OP_MKDIR, host, err);

	if (!op)
		return -1;
	op->mode = seen_mode(pl, st);
	op->uid = st->st_uid;
	op->gid = st->st_gid;
	return 0;
}

/* A read-only bind of host (after an empty file to bind it on, with
 * mkfile). */
static int add_bind(struct plan *pl, const char *host, bool mkfile, bool is_dir,
		    const char *why, struct sd_err *err)
{
	struct op *op;

	if (mkfile && !add_op(pl, OP_MKFILE, host, err))
		return -1;
	if (!(op = add_op(pl, OP_BIND, host, err)))
		return -1;
	op->is_dir = is_dir;
	op->why = why;
	return 0;
}

static int add_overlay(struct plan *pl, const char *host, const struct stat *st,
		       struct sd_err *err)
{
	size_t n = pl->n_layers;
	char *upper, *work, *e_low, *e_up, *e_work;
	struct op *op = NULL;

	if (n == pl->cap_layers) {
		size_t cap = n ? n * 2 : 32;
		struct sandbox_layer *v = realloc(pl->layers, cap * sizeof(*v));

		if (!v)
			return oom(err);
		pl->layers = v;
		pl->cap_layers = cap;
	}
	upper = str_printf("%s/upper/%zu", pl->dir, n);
	work = str_printf("%s/work/%zu", pl->dir, n);
	pl->layers[n].host = strdup(host);
	pl->layers[n].upper = upper;
	if (!upper || !pl->layers[n].host) {
		free(work);
		free(upper);
		free(pl->layers[n].host);
		return oom(err);
	}
	pl->n_layers++;
	if (!work)
		return oom(err);
	/* The top of the overlay shows the upper directory's mode and
	 * owner. */
	if (mkdir(upper, 0700) < 0 || chmod(upper, seen_mode(pl, st)) < 0 ||
	    (pl->priv && chown(upper, st->st_uid, st->st_gid) < 0)) {
		err_errno(err, E_SR, "cannot create directory '%s'", upper);
		free(work);
		return -1;
	}
	if (mkdir(work, 0700) < 0) {
		err_errno(err, E_SR, "cannot create directory '%s'", work);
		free(work);
		return -1;
	}
	e_low = ovl_escape(host);
	e_up = ovl_escape(upper);
	e_work = ovl_escape(work);
	free(work);
	if (e_low && e_up && e_work &&
	    (op = add_op(pl, OP_OVERLAY, host, err))) {
		op->layer = (int)n;
		op->data = str_printf(
			"userxattr,volatile,lowerdir=%s,upperdir=%s,workdir=%s",
			e_low, e_up, e_work);
	} else {
		op = NULL;
	}
	free(e_low);
	free(e_up);
	free(e_work);
	if (!op || !op->data)
		return oom(err);
	if (strlen(op->data) > MOUNT_DATA_MAX)
		return err_set(err, E_SR, "path too long for an overlay: '%s'",
			       host);
	return 0;
}

static bool is_hidden(const struct plan *pl, const char *p)
{
	for (size_t i = 0; i < pl->n_hidden; i++)
		if (!strcmp(pl->hidden[i], p))
			return true;
	return false;
}

static bool below_hidden(const struct plan *pl, const char *p)
{
	for (size_t i = 0; i < pl->n_hidden; i++)
		if (path_below(p, pl->hidden[i], true))
			return true;
	return false;
}

/* A mount (as seen on the host) strictly below p. */
static bool mounts_below(const struct plan *pl, const char *p)
{
	for (size_t i = 0; i < pl->mt.n; i++)
		if (pl->visible[i] && path_below(pl->mt.v[i].point, p, false))
			return true;
	return false;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted entry names of a host directory. */
static int list_dir(const char *path, char ***names, size_t *n,
		    struct sd_err *err)
{
	DIR *d = opendir(path);
	struct dirent *de;
	size_t cap = 0;

	*names = NULL;
	*n = 0;
	if (!d)
		return err_errno(err, E_SR, "cannot read directory '%s'", path);
	while ((errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (*n == cap) {
			size_t ncap = cap ? cap * 2 : 32;
			char **v = realloc(*names, ncap * sizeof(*v));

			if (!v)
				goto nomem;
			*names = v;
			cap = ncap;
		}
		if (!((*names)[*n] = strdup(de->d_name)))
			goto nomem;
		(*n)++;
	}
	if (errno) {
		err_errno(err, E_SR, "cannot read directory '%s'", path);
		goto fail;
	}
	closedir(d);
	if (*n)
		qsort(*names, *n, sizeof(**names), cmp_str);
	return 0;
nomem:
	oom(err);
fail:
	closedir(d);
	for (size_t i = 0; i < *n; i++)
		free((*names)[i]);
	free(*names);
	*names = NULL;
	*n = 0;
	return -1;
}

static int skel_add_name(struct skel *s, const char *name)
{
	size_t n = strlen(name) + 1;
	char *v = realloc(s->names, s->len + n);

	if (!v)
		return -1;
	memcpy(v + s->len, name, n);
	s->names = v;
	s->len += n;
	return 0;
}

static struct skel *add_skel(struct plan *pl, const char *path,
			     struct sd_err *err)
{
	struct skel *s;

	if (pl->n_skels == pl->cap_skels) {
		size_t cap = pl->cap_skels ? pl->cap_skels * 2 : 8;
		struct skel *v = realloc(pl->skels, cap * sizeof(*v));

		if (!v)
			return oom(err), NULL;
		pl->skels = v;
		pl->cap_skels = cap;
	}
	s = &pl->skels[pl->n_skels];
	memset(s, 0, sizeof(*s));
	if (!(s->path = strdup(path)))
		return oom(err), NULL;
	pl->n_skels++;
	return s;
}

static bool is_special_top(const char *host, const char *name)
{
	return !strcmp(host, "/") &&
	       (!strcmp(name, "proc") || !strcmp(name, "sys") ||
		!strcmp(name, "dev"));
}

static int plan_dir(struct plan *pl, const char *host, struct sd_err *err);

/* One entry of a directory rebuilt in the tmpfs (host is its path): 1 when
 * it is gone. */
static int plan_entry(struct plan *pl, const char *host, bool top,
		      struct sd_err *err)
{
	struct stat st;
	char buf[PATH_MAX];
	ssize_t n;
	struct op *op;

	if (lstat(host, &st) < 0)
		return 1;	 /* gone meanwhile */
	if (is_hidden(pl, host)) /* something for OP_HIDE to cover */
		return S_ISDIR(st.st_mode) ? add_mkdir(pl, host, &st, err)
		       : add_op(pl, OP_MKFILE, host, err) ? 0
							  : -1;
	if (S_ISLNK(st.st_mode)) {
		n = readlink(host, buf, sizeof(buf) - 1);
		if (n < 0)
			return 1;
		buf[n] = '\0';
		if (!(op = add_op(pl, OP_SYMLINK, host, err)))
			return -1;
		if (!(op->data = strdup(buf)))
			return oom(err);
		return 0;
	}
	if (S_ISREG(st.st_mode) && st.st_size <= COPY_MAX) {
		if (!(op = add_op(pl, OP_COPY, host, err)))
			return -1;
		op->mode = seen_mode(pl, &st);
		op->uid = st.st_uid;
		op->gid = st.st_gid;
		op->size = st.st_size;
		op->mtime = st.st_mtim;
		return 0;
	}
	if (!S_ISDIR(st.st_mode))
		return add_bind(pl, host, true, false,
				!S_ISREG(st.st_mode) ? NULL
				: top ? "a large file at the top level"
				      : "a large file beside a mount point",
				err);
	if (add_mkdir(pl, host, &st, err) < 0)
		return -1;
	if (!mounts_below(pl, host))
		return add_overlay(pl, host, &st, err);
	return plan_dir(pl, host, err);
}

/* host is rebuilt in the tmpfs: its entries one by one. */
static int plan_dir(struct plan *pl, const char *host, struct sd_err *err)
{
	char **names;
	size_t n, si;
	bool top = !strcmp(host, "/");
	int r = 0;

	if (list_dir(host, &names, &n, err) < 0)
		return -1;
	if (!top && n > SPLIT_MAX) {
		r = add_bind(pl, host, false, true,
			     "too many entries beside a mount point", err);
		goto out;
	}
	if (!add_skel(pl, host, err)) {
		r = -1;
		goto out;
	}
	si = pl->n_skels - 1;
	for (size_t i = 0; i < n && !r; i++) {
		char *p = path_join(host, names[i]);

		if (!p) {
			r = oom(err);
			break;
		}
		/* proc, sys and dev at the top: made below */
		r = is_special_top(host, names[i])
			    ? 1
			    : plan_entry(pl, p, top, err);
		/* (pl->skels may have moved) */
		if (r == 1)
			r = 0;
		else if (!r && skel_add_name(&pl->skels[si], names[i]) < 0)
			r = oom(err);
		free(p);
	}
	if (!r && top) {
		static const struct {
			const char *name;
			mode_t mode;
		} special[] = {{"/proc", 0555}, {"/sys", 0555}, {"/dev", 0755}};

		for (size_t i = 0; i < 3 && !r; i++) {
			struct stat st = {.st_mode = special[i].mode};

			r = add_mkdir(pl, special[i].name, &st, err);
			if (!r && skel_add_name(&pl->skels[si],
						special[i].name + 1) < 0)
				r = oom(err);
		}
	}
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

static int cmp_depth(const void *a, const void *b)
{
	const struct mount_info *x = *(const struct mount_info *const *)a;
	const struct mount_info *y = *(const struct mount_info *const *)b;
	size_t dx = path_depth(x->point), dy = path_depth(y->point);

	if (dx != dy)
		return dx < dy ? -1 : 1;
	return strcmp(x->point, y->point);
}

/* With privileges, in a mount namespace of the initial user namespace: an
 * overlay for every mount but / (its overlay cannot show them), stacked on
 * its parent's. */
static int plan_mounts(struct plan *pl, struct sd_err *err)
{
	const struct mount_info **v = calloc(pl->mt.n + 1, sizeof(*v));
	size_t n = 0;
	int r = 0;

	if (!v)
		return oom(err);
	for (size_t i = 0; i < pl->mt.n; i++) {
		const char *p = pl->mt.v[i].point;

		if (!pl->visible[i] || path_below(p, "/proc", true) ||
		    path_below(p, "/sys", true) ||
		    path_below(p, "/dev", true) || below_hidden(pl, p))
			continue;
		v[n++] = &pl->mt.v[i];
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_depth);
	for (size_t i = 0; i < n && !r; i++) {
		struct stat st;

		if (lstat(v[i]->point, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			r = add_overlay(pl, v[i]->point, &st, err);
		else
			r = add_bind(pl, v[i]->point, false, false,
				     S_ISREG(st.st_mode) ? "a file mount"
							 : NULL,
				     err);
	}
	free(v);
	return r;
}

static int add_hidden(struct plan *pl, const char *path)
{
	char *real = realpath(path, NULL);
	char **v;

	if (!real)
		return 0; /* nothing to hide */
	if (!strcmp(real, "/")) {
		free(real);
		return 0;
	}
	v = realloc(pl->hidden, (pl->n_hidden + 1) * sizeof(*v));
	if (!v) {
		free(real);
		return -1;
	}
	pl->hidden = v;
	pl->hidden[pl->n_hidden++] = real;
	return 0;
}

static int plan_hides(struct plan *pl, struct sd_err *err)
{
	if (pl->n_hidden)
		qsort(pl->hidden, pl->n_hidden, sizeof(*pl->hidden), cmp_str);
	for (size_t i = 0; i < pl->n_hidden; i++) {
		struct stat st;
		struct op *op;
		bool dup = false;

		/* Below another one (sorted: a parent comes first): hidden
		 * with it. */
		for (size_t j = 0; j < i; j++)
			dup |= path_below(pl->hidden[i], pl->hidden[j], true);
		if (dup || lstat(pl->hidden[i], &st) < 0)
			continue;
		if (!(op = add_op(pl, OP_HIDE, pl->hidden[i], err)))
			return -1;
		op->is_dir = S_ISDIR(st.st_mode);
	}
	return 0;
}

/* CAP_SYS_ADMIN in the effective set. */
static bool have_sys_admin(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) < 0)
		return false;
	return d[CAP_SYS_ADMIN / 32].effective & (1u << (CAP_SYS_ADMIN % 32));
}

/* Whether this process sees every user id as itself (the initial user
 * namespace, or one that maps the whole range): only then can the
 * sandbox map the whole range too. Root in a container or in another
 * user namespace with a partial map gets the unprivileged sandbox. */
static bool full_id_map(void)
{
	char buf[256];
	int fd = open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
	ssize_t n;
	unsigned long inside, outside, count;

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	return sscanf(buf, "%lu %lu %lu", &inside, &outside, &count) == 3 &&
	       inside == 0 && outside == 0 && count == 4294967295ul;
}

/* The mounts seen on the host (not those under another one, nor / or
 * what is hidden). */
static int plan_visible(struct plan *pl, struct sd_err *err)
{
	if (mounts_load(&pl->mt, NULL, err) < 0)
		return err->code = E_SR, -1;
	if (!(pl->visible = calloc(pl->mt.n + 1, sizeof(*pl->visible))))
		return oom(err);
	for (size_t i = 0; i < pl->mt.n; i++) {
		const char *p = pl->mt.v[i].point;
		uint64_t id;

		pl->visible[i] =
			strcmp(p, "/") && !below_hidden(pl, p) &&
			mounts_id_at(AT_FDCWD, p, &id, NULL, NULL) == 0 &&
			id == pl->mt.v[i].id;
	}
	return 0;
}

/* dir/upper, dir/work and dir/root, with the mode of the tmpfs of /. */
static int make_dirs(struct plan *pl, struct sd_err *err)
{
	static const char *const sub[] = {"upper", "work", "root"};
	struct stat st;

	for (size_t i = 0; i < 3; i++) {
		char *p = str_printf("%s/%s", pl->dir, sub[i]);
		int r;

		if (!p)
			return oom(err);
		r = mkdir(p, 0755);
		if (r < 0)
			err_errno(err, E_SR, "cannot create directory '%s'", p);
		free(p);
		if (r < 0)
			return -1;
	}
	if (stat("/", &st) < 0)
		return err_errno(err, E_SR, "cannot examine '/'");
	pl->root_mode = seen_mode(pl, &st);
	return 0;
}

/* What /dev will hold: the nodes the host has, the links, pts, shm. */
static int plan_dev(struct plan *pl, struct sd_err *err)
{
	struct skel *s = add_skel(pl, "/dev", err);
	struct stat st;

	if (!s)
		return -1;
	for (size_t i = 0; i < N_DEV; i++) {
		char p[64];

		snprintf(p, sizeof(p), "/dev/%s", dev_nodes[i]);
		pl->dev_ok[i] = stat(p, &st) == 0 && S_ISCHR(st.st_mode);
		if (pl->dev_ok[i] && skel_add_name(s, dev_nodes[i]) < 0)
			return oom(err);
	}
	for (size_t i = 0; i < N_DEV_LINKS; i++)
		if (skel_add_name(s, dev_links[i][0]) < 0)
			return oom(err);
	if (skel_add_name(s, "pts") < 0 || skel_add_name(s, "shm") < 0)
		return oom(err);
	return add_skel(pl, "/dev/shm", err) ? 0 : -1;
}

static int make_plan(struct plan *pl, const struct sandbox_opts *o,
		     struct sd_err *err)
{
	char buf[PATH_MAX];
	struct stat st;

	if (!o->dir || !o->argv || !o->argv[0])
		return err_set(err, E_SR, "no sandbox directory or command");
	if (!(pl->dir = realpath(o->dir, NULL)))
		return err_errno(err, E_SR, "cannot use sandbox directory '%s'",
				 o->dir);
	if (stat(pl->dir, &st) < 0 || !S_ISDIR(st.st_mode) ||
	    !strcmp(pl->dir, "/"))
		return err_set(err, E_SR, "'%s' is not a sandbox directory",
			       o->dir);
	if (o->cwd && o->cwd[0] == '/') {
		pl->cwd = strdup(o->cwd);
	} else {
		if (!getcwd(buf, sizeof(buf)))
			return err_errno(err, E_SR,
					 "cannot get the current directory");
		pl->cwd = o->cwd ? path_join(buf, o->cwd) : strdup(buf);
	}
	pl->root = str_printf("%s/root", pl->dir);
	pl->empty = str_printf("%s/root/.sandbox-empty", pl->dir);
	if (!pl->cwd || !pl->root || !pl->empty)
		return oom(err);
	pl->argv = o->argv;
	pl->net = o->net;
	pl->uid = geteuid();
	pl->gid = getegid();
	pl->parent = getpid();
	pl->priv = pl->uid == 0 && have_sys_admin() && full_id_map();

	/* What to hide. */
	if (add_hidden(pl, pl->dir) < 0)
		return oom(err);
	if (paths_state_dir(buf, sizeof(buf), NULL) == 0 &&
	    add_hidden(pl, buf) < 0)
		return oom(err);
	for (size_t i = 0; o->hide && o->hide[i]; i++)
		if (add_hidden(pl, o->hide[i]) < 0)
			return oom(err);

	if (plan_visible(pl, err) < 0 || make_dirs(pl, err) < 0)
		return -1;
	if (pl->priv) {
		/* One overlay of /, one of every other mount */
		static const char *const need[] = {"/proc", "/dev"};

		for (size_t i = 0; i < 2; i++)
			if (stat(need[i], &st) < 0 || !S_ISDIR(st.st_mode))
				return err_set(err, E_SR,
					       "no directory '%s' on the host",
					       need[i]);
		if (stat("/", &st) < 0)
			return err_errno(err, E_SR, "cannot examine '/'");
		if (add_overlay(pl, "/", &st, err) < 0 ||
		    plan_mounts(pl, err) < 0)
			return -1;
	} else if (plan_dir(pl, "/", err) < 0) {
		return -1;
	}
	if (plan_hides(pl, err) < 0 || plan_dev(pl, err) < 0)
		return -1;
	pl->sys = stat("/sys", &st) == 0 && S_ISDIR(st.st_mode);
	return 0;
}

/* ---- the builder, the reaper and the command (after the fork) ---- */

__attribute__((format(printf, 3, 4))) static void say(int fd, char type,
						      const char *fmt, ...)
{
	char buf[REC_MAX];
	va_list ap;
	int n;

	buf[0] = type;
	va_start(ap, fmt);
	n = vsnprintf(buf + 1, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n + 1] = '\0';
	while (send(fd, buf, (size_t)n + 2, MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
}

/* Report a failure (with ": strerror(errno)" when errnum) and exit. */
__attribute__((format(printf, 3, 4))) static _Noreturn void
die(const struct plan *pl, int errnum, const char *fmt, ...)
{
	char msg[REC_MAX - 256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (errnum)
		say(pl->fd, 'E', "%s: %s", msg, strerror(errnum));
	else
		say(pl->fd, 'E', "%s", msg);
	_exit(E_SR);
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n, len = (ssize_t)strlen(text);

	if (fd < 0)
		return -1;
	n = write(fd, text, (size_t)len);
	if (n != len) {
		int e = n < 0 ? errno : EIO;

		close(fd);
		errno = e;
		return -1;
	}
	return close(fd);
}

/* Remount the bind at target read-only, keeping the flags that a user
 * namespace may not change (nosuid, nodev, noexec, the atime ones). */
static int remount_ro(const char *target)
{
	static const struct {
		unsigned long st, ms;
	} keep[] = {{ST_NOSUID, MS_NOSUID},	    {ST_NODEV, MS_NODEV},
		    {ST_NOEXEC, MS_NOEXEC},	    {ST_NOATIME, MS_NOATIME},
		    {ST_NODIRATIME, MS_NODIRATIME}, {ST_RELATIME, MS_RELATIME}};
	unsigned long flags = MS_REMOUNT | MS_BIND | MS_RDONLY;
	struct statvfs sv;

	if (statvfs(target, &sv) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		if (sv.f_flag & keep[i].st)
			flags |= keep[i].ms;
	if (!(sv.f_flag & (ST_NOATIME | ST_RELATIME)))
		flags |= MS_STRICTATIME; /* not the default relatime */
	return mount("none", target, "none", flags, NULL);
}

/* host bound (recursively when a directory) at target, every mount of it
 * read-only; on a failure, nothing is left bound. */
static int bind_ro(const struct plan *pl, const char *host, const char *target,
		   bool is_dir)
{
	char path[PATH_MAX];
	int e;

	if (mount(host, target, "none", MS_BIND | (is_dir ? MS_REC : 0), NULL) <
	    0)
		return -1;
	if (remount_ro(target) < 0)
		goto undo;
	for (size_t i = 0; is_dir && i < pl->mt.n; i++) {
		if (!pl->visible[i] ||
		    !path_below(pl->mt.v[i].point, host, false))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s%s", pl->root,
				     pl->mt.v[i].point) >= sizeof(path)) {
			errno = ENAMETOOLONG;
			goto undo;
		}
		/* Under a mount made later by the host: not there. */
		if (remount_ro(path) < 0 && errno != ENOENT)
			goto undo;
	}
	return 0;
undo:
	e = errno;
	umount2(target, MNT_DETACH);
	errno = e;
	return -1;
}

/* A copy of op->host at op->target, with its mode, owner (when it is
 * mapped) and times. */
static int copy_file(const struct op *op)
{
	struct timespec times[2] = {{.tv_nsec = UTIME_OMIT}, op->mtime};
	int in, out, e = 0;
	off_t left = op->size;

	in = open(op->host, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (in < 0)
		return -1;
	out = open(op->target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		e = errno;
		close(in);
		errno = e;
		return -1;
	}
	while (left > 0) {
		ssize_t n = sendfile(out, in, NULL, (size_t)left);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			e = n < 0 ? errno : EIO; /* shorter meanwhile */
			break;
		}
		left -= n;
	}
	if (!e && fchown(out, op->uid, op->gid) < 0 && errno != EINVAL)
		e = errno;
	if (!e && (fchmod(out, op->mode) < 0 || futimens(out, times) < 0))
		e = errno;
	close(in);
	close(out);
	errno = e;
	return e ? -1 : 0;
}

/* An empty file of mode 0, to mount something on. */
static int make_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);

	return fd < 0 ? -1 : close(fd);
}

/* empty: an empty file (a /proc/self/fd path), for OP_HIDE. */
static void do_op(const struct plan *pl, const struct op *op, const char *empty)
{
	int e;

	switch (op->kind) {
	case OP_MKDIR:
		if (mkdir(op->target, op->mode) < 0)
			die(pl, errno, "cannot create directory '%s'",
			    op->target);
		/* mkdir applies the umask; unmapped owners stay ours */
		if (chmod(op->target, op->mode) < 0)
			die(pl, errno, "cannot change mode of '%s'",
			    op->target);
		if (lchown(op->target, op->uid, op->gid) < 0 && errno != EINVAL)
			die(pl, errno, "cannot change owner of '%s'",
			    op->target);
		break;
	case OP_MKFILE:
		if (make_file(op->target) < 0)
			die(pl, errno, "cannot create '%s'", op->target);
		break;
	case OP_SYMLINK:
		if (symlink(op->data, op->target) < 0)
			die(pl, errno, "cannot create symlink '%s'",
			    op->target);
		break;
	case OP_OVERLAY:
		if (mount("overlay", op->target, "overlay", 0, op->data) == 0)
			break;
		e = errno;
		if (bind_ro(pl, op->host, op->target, true) < 0)
			die(pl, e, "cannot mount overlay on '%s'", op->host);
		say(pl->fd, 'F', "%d", op->layer);
		say(pl->fd, 'U',
		    "'%s': read-only in the sandbox: overlay failed: %s",
		    op->host, strerror(e));
		break;
	case OP_BIND:
		if (bind_ro(pl, op->host, op->target, op->is_dir) < 0) {
			e = errno;
			say(pl->fd, 'U',
			    "'%s': empty in the sandbox: cannot bind it: %s",
			    op->host, strerror(e));
		} else if (op->why) {
			say(pl->fd, 'U', "'%s': read-only in the sandbox: %s",
			    op->host, op->why);
		}
		break;
	case OP_COPY:
		if (copy_file(op) < 0) {
			e = errno;
			unlink(op->target);
			if (make_file(op->target) < 0)
				die(pl, errno, "cannot create '%s'",
				    op->target);
			if (bind_ro(pl, op->host, op->target, false) < 0)
				say(pl->fd, 'U',
				    "'%s': empty in the sandbox: cannot copy "
				    "it: %s",
				    op->host, strerror(e));
			else
				say(pl->fd, 'U',
				    "'%s': read-only in the sandbox: cannot "
				    "copy it: %s",
				    op->host, strerror(e));
		}
		break;
	case OP_HIDE:
		if (op->is_dir) {
			if (mount("tmpfs", op->target, "tmpfs",
				  MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
				  "mode=0755,size=4k") < 0)
				die(pl, errno, "cannot hide '%s'", op->host);
		} else if (mount(empty, op->target, "none", MS_BIND, NULL) <
				   0 ||
			   remount_ro(op->target) < 0) {
			die(pl, errno, "cannot hide '%s'", op->host);
		}
		break;
	}
}

/* The new root in pl->root: a tmpfs, with the overlays in it (or, with
 * privileges, the overlay of / over it). */
static void build_root(const struct plan *pl)
{
	char opts[32], empty[40];
	int fd;

	snprintf(opts, sizeof(opts), "mode=0%o", (unsigned)pl->root_mode);
	if (mount("tmpfs", pl->root, "tmpfs", MS_NOSUID, opts) < 0)
		die(pl, errno, "cannot mount a tmpfs on '%s'", pl->root);
	/* An empty file to bind over the files to hide, reached through a
	 * descriptor (the overlay of / covers it). */
	fd = open(pl->empty, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	if (fd < 0)
		die(pl, errno, "cannot create '%s'", pl->empty);
	snprintf(empty, sizeof(empty), "/proc/self/fd/%d", fd);
	for (size_t i = 0; i < pl->n_ops; i++)
		do_op(pl, &pl->ops[i], empty);
	close(fd);
	if (!pl->priv && unlink(pl->empty) < 0)
		die(pl, errno, "cannot remove '%s'", pl->empty);
}

static void in_root(const struct plan *pl, char *buf, size_t n,
		    const char *path)
{
	if ((size_t)snprintf(buf, n, "%s%s", pl->root, path) >= n)
		die(pl, ENAMETOOLONG, "cannot use '%s'", pl->root);
}

/* /dev, /sys and the loopback interface, in the user namespace. */
static void build_rest(const struct plan *pl)
{
	char p[PATH_MAX], host[64];
	int fd;

	in_root(pl, p, sizeof(p), "/dev");
	if (mount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NOEXEC,
		  "mode=0755,size=1m") < 0)
		die(pl, errno, "cannot mount a tmpfs on '%s'", p);
	for (size_t i = 0; i < N_DEV; i++) {
		if (!pl->dev_ok[i])
			continue;
		snprintf(host, sizeof(host), "/dev/%s", dev_nodes[i]);
		in_root(pl, p, sizeof(p), host);
		if (make_file(p) < 0)
			die(pl, errno, "cannot create '%s'", p);
		if (mount(host, p, "none", MS_BIND, NULL) < 0)
			die(pl, errno, "cannot bind '%s'", host);
	}
	for (size_t i = 0; i < N_DEV_LINKS; i++) {
		snprintf(host, sizeof(host), "/dev/%s", dev_links[i][0]);
		in_root(pl, p, sizeof(p), host);
		if (symlink(dev_links[i][1], p) < 0)
			die(pl, errno, "cannot create symlink '%s'", p);
	}
	in_root(pl, p, sizeof(p), "/dev/pts");
	if (mkdir(p, 0755) < 0)
		die(pl, errno, "cannot create directory '%s'", p);
	/* gid=5 (tty) only when it is mapped */
	if (mount("devpts", p, "devpts", MS_NOSUID | MS_NOEXEC,
		  pl->priv ? "newinstance,ptmxmode=0666,mode=0620,gid=5"
			   : "newinstance,ptmxmode=0666,mode=0620") < 0)
		die(pl, errno, "cannot mount devpts on '%s'", p);
	in_root(pl, p, sizeof(p), "/dev/shm");
	if (mkdir(p, 01777) < 0)
		die(pl, errno, "cannot create directory '%s'", p);
	if (mount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") < 0)
		die(pl, errno, "cannot mount a tmpfs on '%s'", p);
	if (pl->sys) {
		in_root(pl, p, sizeof(p), "/sys");
		if (bind_ro(pl, "/sys", p, true) < 0)
			die(pl, errno, "cannot bind '/sys' read-only");
	}
	if (!pl->net) {
		struct ifreq ifr = {0};

		fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			die(pl, errno, "cannot bring the loopback up");
		strcpy(ifr.ifr_name, "lo");
		if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0 ||
		    (ifr.ifr_flags |= IFF_UP, ioctl(fd, SIOCSIFFLAGS, &ifr)) <
			    0)
			die(pl, errno, "cannot bring the loopback up");
		close(fd);
	}
}

/* In the reaper: the pid of the command. */
static volatile sig_atomic_t cmd_pid;

/* A signal from outside the sandbox (sent by the caller: si_pid is 0 in
 * here) goes on to the command; one from the terminal reached it anyway. */
static void relay(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (si->si_code > 0 || si->si_pid != 0)
		return;
	if (cmd_pid > 0)
		kill(cmd_pid, sig);
}

/* New or removed entries in a tmpfs directory. */
static void scan_skel(const struct plan *pl, const struct skel *s)
{
	char buf[8192];
	int fd = open(s->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	const char *sep = strcmp(s->path, "/") ? "/" : "";
	ssize_t n;
	struct stat st;

	if (fd < 0)
		return;
	while ((n = getdents64(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < n;) {
			struct dirent64 *de = (struct dirent64 *)(buf + off);
			bool known = false;

			off += de->d_reclen;
			if (!strcmp(de->d_name, ".") ||
			    !strcmp(de->d_name, ".."))
				continue;
			for (size_t i = 0; i < s->len && !known;
			     i += strlen(s->names + i) + 1)
				known = !strcmp(s->names + i, de->d_name);
			if (!known)
				say(pl->fd, 'U',
				    "'%s%s%s': written in the sandbox, not kept",
				    s->path, sep, de->d_name);
		}
	}
	for (size_t i = 0; i < s->len; i += strlen(s->names + i) + 1)
		if (fstatat(fd, s->names + i, &st, AT_SYMLINK_NOFOLLOW) < 0 &&
		    errno == ENOENT)
			say(pl->fd, 'U',
			    "'%s%s%s': removed in the sandbox, not kept",
			    s->path, sep, s->names + i);
	close(fd);
}

/* A copied file that was written (or replaced). */
static void check_copy(const struct plan *pl, const struct op *op)
{
	struct stat st;

	if (op->kind != OP_COPY || lstat(op->host, &st) < 0)
		return; /* removed: reported by the scan */
	if (!S_ISREG(st.st_mode) || st.st_size != op->size ||
	    st.st_mtim.tv_sec != op->mtime.tv_sec ||
	    st.st_mtim.tv_nsec != op->mtime.tv_nsec ||
	    (st.st_mode & 07777) != op->mode)
		say(pl->fd, 'U', "'%s': written in the sandbox, not kept",
		    op->host);
}

/* After execvp failed with EACCES: whether argv0 (without a slash) is
 * anywhere in PATH; execvp says EACCES when a directory of PATH cannot be
 * searched, and the command is just not there. */
static bool in_path(const char *argv0)
{
	const char *path = getenv("PATH"), *p, *end;
	char buf[PATH_MAX];
	struct stat st;

	if (!path)
		path = "/bin:/usr/bin"; /* execvp's default */
	for (p = path;; p = end + 1) {
		end = strchr(p, ':');
		if (!end)
			end = p + strlen(p);
		if ((size_t)snprintf(buf, sizeof(buf), "%.*s%s%s",
				     (int)(end - p), p, end > p ? "/" : "",
				     argv0) < sizeof(buf) &&
		    stat(buf, &st) == 0)
			return true;
		if (!*end)
			return false;
	}
}

static _Noreturn void run_command(const struct plan *pl)
{
	int e;

	for (size_t i = 0; i < N_FWD; i++)
		sigaction(fwd_sigs[i], &pl->saved_act[i], NULL);
	sigaction(SIGCHLD, &pl->saved_chld, NULL);
	sigprocmask(SIG_SETMASK, &pl->saved_mask, NULL);
	say(pl->fd, 'S', "%lld", (long long)now_ns());
	execvp(pl->argv[0], pl->argv);
	e = errno;
	if (e == EACCES && !strchr(pl->argv[0], '/') && !in_path(pl->argv[0]))
		e = ENOENT;
	say(pl->fd, 'N', "%d", e);
	_exit(e == ENOENT ? 127 : 126);
}

/* PID 1 of the sandbox. */
static _Noreturn void run_reaper(const struct plan *pl)
{
	char p[PATH_MAX];
	struct sigaction sa = {.sa_sigaction = relay,
			       .sa_flags = SA_SIGINFO | SA_RESTART};
	sigset_t fwd;
	int status = 0;
	int64_t t_exit;
	pid_t pid;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	in_root(pl, p, sizeof(p), "/proc");
	if (mount("proc", p, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) <
	    0)
		die(pl, errno, "cannot mount proc on '%s'", p);
	if (chdir(pl->root) < 0)
		die(pl, errno, "cannot change to '%s'", pl->root);
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		die(pl, errno, "cannot pivot into '%s'", pl->root);
	if (umount2(".", MNT_DETACH) < 0)
		die(pl, errno, "cannot detach the old root");
	if (chdir("/") < 0 || chdir(pl->cwd) < 0)
		die(pl, errno, "cannot change to '%s' in the sandbox", pl->cwd);

	sigemptyset(&fwd);
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < N_FWD; i++) {
		sigaddset(&fwd, fwd_sigs[i]);
		sigaction(fwd_sigs[i], &sa, NULL);
	}
	/* Blocked since the caller: one sent meanwhile is relayed once the
	 * command is there. */
	pid = fork();
	if (pid < 0)
		die(pl, errno, "cannot fork");
	if (pid == 0)
		run_command(pl);
	cmd_pid = pid;
	sigprocmask(SIG_UNBLOCK, &fwd, NULL);
	for (;;) {
		int st;
		pid_t w = waitpid(-1, &st, 0);

		if (w == pid)
			status = st;
		if (w == pid || (w < 0 && errno != EINTR))
			break;
	}
	t_exit = now_ns();
	/* Whatever the command left behind. */
	kill(-1, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	for (size_t i = 0; i < pl->n_skels; i++)
		scan_skel(pl, &pl->skels[i]);
	for (size_t i = 0; i < pl->n_ops; i++)
		check_copy(pl, &pl->ops[i]);
	say(pl->fd, 'X', "%d %lld", status, (long long)t_exit);
	_exit(0);
}

static void map_ids(const struct plan *pl)
{
	char line[64];

	if (write_file("/proc/self/setgroups", "deny") < 0)
		die(pl, errno, "cannot write '/proc/self/setgroups'");
	snprintf(line, sizeof(line), "%u %u 1\n", (unsigned)pl->uid,
		 (unsigned)pl->uid);
	if (write_file("/proc/self/uid_map", line) < 0)
		die(pl, errno, "cannot write '/proc/self/uid_map'");
	snprintf(line, sizeof(line), "%u %u 1\n", (unsigned)pl->gid,
		 (unsigned)pl->gid);
	if (write_file("/proc/self/gid_map", line) < 0)
		die(pl, errno, "cannot write '/proc/self/gid_map'");
}

/* The builder. */
static _Noreturn void run_builder(const struct plan *pl)
{
	int flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID |
		    (pl->net ? 0 : CLONE_NEWNET);
	sigset_t block;
	int status;
	char c;
	pid_t pid;

	sigemptyset(&block);
	for (size_t i = 0; i < N_FWD; i++)
		sigaddset(&block, fwd_sigs[i]);
	sigprocmask(SIG_BLOCK, &block, NULL);
	/* The reaper waits for its children (the caller's may be ignored) */
	signal(SIGCHLD, SIG_DFL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != pl->parent)
		_exit(E_SR);
	if (pl->priv) {
		/* The overlays first, where the host's mounts are not locked
		 * (a user namespace may not copy a mount with children). */
		if (unshare(CLONE_NEWNS) < 0)
			die(pl, errno, "cannot create a mount namespace");
		if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0)
			die(pl, errno, "cannot make the mounts private");
		build_root(pl);
		if (unshare(flags) < 0)
			die(pl, errno, "cannot create the sandbox namespaces");
		say(pl->fd, 'M', "%s", "");
		if (recv(pl->fd, &c, 1, 0) != 1)
			_exit(E_SR);
		/* pivot_root refuses a mount locked by the user namespace:
		 * a copy of it is not. */
		if (mount(pl->root, pl->root, "none", MS_BIND | MS_REC, NULL) <
		    0)
			die(pl, errno, "cannot bind '%s'", pl->root);
	} else {
		/* /proc/self is root's in a process that changed ids */
		if (prctl(PR_GET_DUMPABLE) != 1)
			prctl(PR_SET_DUMPABLE, 1);
		if (unshare(flags) < 0)
			die(pl, errno, "cannot create the sandbox namespaces");
		map_ids(pl);
		if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0)
			die(pl, errno, "cannot make the mounts private");
		build_root(pl);
	}
	build_rest(pl);
	pid = fork();
	if (pid < 0)
		die(pl, errno, "cannot fork");
	if (pid == 0)
		run_reaper(pl);
	say(pl->fd, 'G', "%d", (int)pid);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	_exit(0);
}

/* ---- the caller's side ---- */

static int write_maps(pid_t pid, struct sd_err *err)
{
	static const char *const files[] = {"uid_map", "gid_map"};
	char path[64];

	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, files[i]);
		if (write_file(path, "0 0 4294967295\n") < 0)
			return err_errno(err, E_SR, "cannot write '%s'", path);
	}
	return 0;
}

static int add_line(struct sandbox_result *r, const char *line)
{
	char **v = realloc(r->uncaptured,
			   (r->n_uncaptured + 1) * sizeof(*r->uncaptured));

	if (!v)
		return -1;
	r->uncaptured = v;
	if (!(v[r->n_uncaptured] = strdup(line)))
		return -1;
	r->n_uncaptured++;
	return 0;
}

struct run_state {
	pid_t builder, reaper;
	int pending; /* a signal to forward once the reaper is known */
	bool exec_seen, ended, failed;
	int64_t t0, t_exec, t_exit, t_kill;
};

/* One record from the sandbox. -1 with err on a failure. */
static int on_record(struct plan *pl, int fd, struct run_state *st,
		     struct sandbox_result *r, char *rec, size_t len,
		     struct sd_err *err)
{
	char type = rec[0], *text = rec + 1;
	long long t;
	int v;

	if (len < 2 || rec[len - 1] != '\0')
		return 0;
	switch (type) {
	case 'M':
		if (write_maps(st->builder, err) < 0)
			return -1;
		if (send(fd, "1", 1, MSG_NOSIGNAL) != 1)
			return err_errno(err, E_SR,
					 "cannot signal the sandbox");
		break;
	case 'G':
		st->reaper = (pid_t)atoi(text);
		if (st->reaper > 0 && st->pending)
			kill(st->reaper, st->pending);
		break;
	case 'S':
		st->exec_seen = true;
		st->t_exec = atoll(text);
		break;
	case 'N':
		r->exec_errno = atoi(text);
		break;
	case 'F':
		v = atoi(text);
		if (v >= 0 && (size_t)v < pl->n_layers)
			pl->layer_failed[v] = true;
		break;
	case 'U':
		if (add_line(r, text) < 0)
			return oom(err);
		break;
	case 'E':
		if (!st->failed) {
			st->failed = true;
			err_set(err, E_SR, "%s", text);
		}
		break;
	case 'X':
		if (sscanf(text, "%d %lld", &v, &t) == 2) {
			st->ended = true;
			r->status = v;
			st->t_exit = t;
		}
		break;
	}
	return 0;
}

static void kill_sandbox(struct run_state *st)
{
	/* The reaper takes every process of the sandbox with it; before
	 * there is one, the builder does (PR_SET_PDEATHSIG). */
	if (st->reaper > 0)
		kill(st->reaper, SIGKILL);
	else
		kill(st->builder, SIGKILL);
}

/* Read the records until every process of the sandbox is gone. */
static int supervise(struct plan *pl, int fd, int sigfd, int64_t timeout_ms,
		     struct run_state *st, struct sandbox_result *r,
		     struct sd_err *err)
{
	int64_t deadline = timeout_ms > 0 ? st->t0 + timeout_ms * 1000000 : 0;
	char rec[REC_MAX + 1];
	int rc = 0;

	for (;;) {
		struct pollfd pf[2] = {{.fd = fd, .events = POLLIN},
				       {.fd = sigfd, .events = POLLIN}};
		int wait_ms = -1, n;

		if (deadline && !st->t_kill) {
			int64_t left = deadline - now_ns();

			if (left <= 0) {
				r->timed_out = true;
				st->t_kill = now_ns();
				kill_sandbox(st);
				continue;
			}
			wait_ms = (int)((left + 999999) / 1000000);
		}
		n = poll(pf, 2, wait_ms);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			kill_sandbox(st);
			return err_errno(err, E_SR,
					 "cannot wait for the sandbox");
		}
		if (pf[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
				/* From the terminal (the command's process
				 * group got it too): not again. */
				if (si.ssi_code > 0)
					continue;
				if (st->reaper > 0)
					kill(st->reaper, (int)si.ssi_signo);
				else
					st->pending = (int)si.ssi_signo;
			}
		}
		if (!(pf[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		ssize_t len = recv(fd, rec, REC_MAX, MSG_DONTWAIT);

		if (len < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			kill_sandbox(st);
			return err_errno(err, E_SR,
					 "cannot read from the sandbox");
		}
		if (len == 0)
			return rc; /* all gone */
		rec[len] = '\0';
		if (!rc &&
		    on_record(pl, fd, st, r, rec, (size_t)len, err) < 0) {
			kill_sandbox(st);
			rc = -1;
		}
	}
}

bool sandbox_not_found(const struct sandbox_result *r)
{
	return r->exec_errno == ENOENT;
}

void sandbox_result_release(struct sandbox_result *r)
{
	if (!r)
		return;
	/* Reaped if it is done; if not, it only has its exit left, and
	 * whoever adopts it when the caller exits reaps it. Its descriptors
	 * are closed before the kernel drops the namespaces, so it holds no
	 * pipe the caller's caller waits on. */
	if (r->pid > 0)
		waitpid(r->pid, NULL, WNOHANG);
	for (size_t i = 0; i < r->n_layers; i++) {
		free(r->layers[i].host);
		free(r->layers[i].upper);
	}
	free(r->layers);
	for (size_t i = 0; i < r->n_uncaptured; i++)
		free(r->uncaptured[i]);
	free(r->uncaptured);
	memset(r, 0, sizeof(*r));
}

/* The layers that were mounted, moved from the plan to the result; the
 * directories of those that fell back are removed. */
static void take_layers(struct plan *pl, struct sandbox_result *r)
{
	size_t n = 0;

	for (size_t i = 0; i < pl->n_layers; i++) {
		if (pl->layer_failed[i]) {
			char *work = str_printf("%s/work/%zu", pl->dir, i);

			rmdir(pl->layers[i].upper);
			if (work)
				rmdir(work);
			free(work);
			free(pl->layers[i].host);
			free(pl->layers[i].upper);
			continue;
		}
		pl->layers[n++] = pl->layers[i];
	}
	r->layers = pl->layers;
	r->n_layers = n;
	pl->layers = NULL;
	pl->n_layers = 0;
}

int sandbox_run(const struct sandbox_opts *o, struct sandbox_result *r,
		struct sd_err *err)
{
	struct plan pl = {0};
	struct run_state st = {0};
	struct sd_err local;
	sigset_t fwd;
	int sv[2] = {-1, -1}, sigfd = -1, status = 0, rc = -1;

	if (!err)
		err = &local;
	err->msg[0] = '\0';
	memset(r, 0, sizeof(*r));
	st.t0 = now_ns();
	if (make_plan(&pl, o, err) < 0)
		goto out;
	if (!(pl.layer_failed = calloc(pl.n_layers + 1, 1))) {
		oom(err);
		goto out;
	}
	sigaction(SIGCHLD, NULL, &pl.saved_chld);
	sigemptyset(&fwd);
	for (size_t i = 0; i < N_FWD; i++) {
		sigaction(fwd_sigs[i], NULL, &pl.saved_act[i]);
		if (fwd_sigs[i] == SIGINT || fwd_sigs[i] == SIGTERM)
			sigaddset(&fwd, fwd_sigs[i]);
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		err_errno(err, E_SR, "cannot create a socket pair");
		goto out;
	}
	pl.fd = sv[1];
	if (sigprocmask(SIG_BLOCK, &fwd, &pl.saved_mask) < 0) {
		err_errno(err, E_SR, "cannot block signals");
		goto out;
	}
	sigfd = signalfd(-1, &fwd, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sigfd < 0) {
		err_errno(err, E_SR, "cannot create a signalfd");
		goto unblock;
	}
	st.builder = fork();
	if (st.builder < 0) {
		err_errno(err, E_SR, "cannot fork");
		goto unblock;
	}
	if (st.builder == 0) {
		close(sv[0]);
		close(sigfd);
		run_builder(&pl);
	}
	close(sv[1]);
	sv[1] = -1;
	rc = supervise(&pl, sv[0], sigfd, o->timeout_ms, &st, r, err);
	if (rc == 0 && st.failed)
		rc = -1;
	/* All gone but the builder, which is tearing the namespaces down:
	 * the overlays' caches, tens of milliseconds after a command that
	 * wrote 10,000 files, for nothing the caller needs. Unless something
	 * went wrong, nobody waits for it (see sandbox_result_release). */
	if (rc == 0 && (st.ended || r->timed_out)) {
		if (waitpid(st.builder, &status, WNOHANG) == 0)
			r->pid = st.builder;
	} else {
		while (waitpid(st.builder, &status, 0) < 0 && errno == EINTR)
			;
	}
	if (rc == 0 && !st.ended && !r->timed_out) {
		if (WIFSIGNALED(status))
			rc = err_set(err, E_SR,
				     "the sandbox ended unexpectedly: killed "
				     "by signal %d",
				     WTERMSIG(status));
		else
			rc = err_set(err, E_SR,
				     "the sandbox ended unexpectedly");
	}
	if (rc == 0) {
		int64_t t_end = now_ns();

		if (r->exec_errno)
			r->status = W_EXITCODE(
				r->exec_errno == ENOENT ? 127 : 126, 0);
		else if (r->timed_out && !st.ended)
			r->status = SIGKILL; /* WIFSIGNALED, WTERMSIG 9 */
		r->setup_ms =
			ms_between(st.t0, st.exec_seen ? st.t_exec : t_end);
		r->teardown_ms =
			ms_between(st.ended ? st.t_exit : st.t_kill, t_end);
		take_layers(&pl, r);
	}
unblock:
	if (sigfd >= 0) {
		struct signalfd_siginfo si;

		/* Consumed here, not delivered when unblocked. */
		while (read(sigfd, &si, sizeof(si)) == sizeof(si))
			;
		close(sigfd);
	}
	sigprocmask(SIG_SETMASK, &pl.saved_mask, NULL);
out:
	if (rc < 0)
		sandbox_result_release(r);
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	plan_free(&pl);
	return rc;
}

/* ---- sandbox_available ---- */

static long read_sysctl(const char *path)
{
	char buf[32] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

/* The steps of the check, for the child's exit status (not 1: valgrind's
 * --error-exitcode). */
enum {
	AV_OK,
	AV_USERNS = 20,
	AV_MAPS,
	AV_MOUNT,
	AV_OVERLAY,
	AV_OTHER,
};

/* The check failed at a step: its errno to the caller, the step as the
 * exit status. */
static _Noreturn void check_failed(int fd, int step)
{
	int e = errno;

	say(fd, 'E', "%d", e);
	_exit(step);
}

static _Noreturn void check_child(int fd)
{
	static const char *const where[] = {"/tmp", "/mnt", "/dev"};
	uid_t uid = geteuid();
	gid_t gid = getegid();
	char line[64], p[4][32], opts[160];
	const char *w = NULL;

	if (prctl(PR_GET_DUMPABLE) != 1)
		prctl(PR_SET_DUMPABLE, 1);
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID) < 0)
		check_failed(fd, AV_USERNS);
	if (write_file("/proc/self/setgroups", "deny") < 0)
		check_failed(fd, AV_MAPS);
	snprintf(line, sizeof(line), "%u %u 1\n", (unsigned)uid, (unsigned)uid);
	if (write_file("/proc/self/uid_map", line) < 0)
		check_failed(fd, AV_MAPS);
	snprintf(line, sizeof(line), "%u %u 1\n", (unsigned)gid, (unsigned)gid);
	if (write_file("/proc/self/gid_map", line) < 0)
		check_failed(fd, AV_MAPS);
	if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0)
		check_failed(fd, AV_MOUNT);
	/* A tmpfs over a directory there always is, in this namespace */
	for (size_t i = 0; i < 3 && !w; i++)
		if (mount("tmpfs", where[i], "tmpfs", 0, "mode=0755") == 0)
			w = where[i];
	if (!w)
		check_failed(fd, AV_MOUNT);
	for (size_t i = 0; i < 4; i++) {
		snprintf(p[i], sizeof(p[i]), "%s/%c", w, "luwm"[i]);
		if (mkdir(p[i], 0755) < 0)
			check_failed(fd, AV_OTHER);
	}
	snprintf(opts, sizeof(opts),
		 "userxattr,lowerdir=%s,upperdir=%s,workdir=%s", p[0], p[1],
		 p[2]);
	if (mount("overlay", p[3], "overlay", 0, opts) < 0)
		check_failed(fd, AV_OVERLAY);
	_exit(AV_OK);
}

int sandbox_available(struct sd_err *err)
{
	int sv[2], status, e = 0;
	char rec[REC_MAX];
	ssize_t n;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return err_errno(err, E_SR, "cannot create a socket pair");
	pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return err_errno(err, E_SR, "cannot fork");
	}
	if (pid == 0) {
		close(sv[0]);
		check_child(sv[1]);
	}
	close(sv[1]);
	while ((n = recv(sv[0], rec, sizeof(rec) - 1, 0)) < 0 && errno == EINTR)
		;
	if (n > 1 && rec[0] == 'E') {
		rec[n] = '\0';
		e = atoi(rec + 1);
	}
	close(sv[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return err_errno(err, E_SR, "cannot wait for a child");
	if (!WIFEXITED(status))
		return err_set(err, E_SR,
			       "cannot check for user namespaces: the check "
			       "was killed by signal %d",
			       WTERMSIG(status));
	switch (WEXITSTATUS(status)) {
	case AV_OK:
		return 0;
	case AV_USERNS:
		if (read_sysctl("/proc/sys/user/max_user_namespaces") == 0)
			return err_set(err, E_SR,
				       "user namespaces are disabled (sysctl "
				       "user.max_user_namespaces is 0)");
		if (geteuid() != 0 &&
		    read_sysctl("/proc/sys/kernel/unprivileged_userns_clone") ==
			    0)
			return err_set(
				err, E_SR,
				"unprivileged user namespaces are "
				"disabled (sysctl "
				"kernel.unprivileged_userns_clone is 0)");
		errno = e;
		return err_errno(err, E_SR, "cannot create a user namespace");
	case AV_MAPS:
		errno = e;
		return err_errno(err, E_SR,
				 "cannot map ids in a user namespace");
	case AV_MOUNT:
		if (e == EPERM &&
		    read_sysctl("/proc/sys/kernel/"
				"apparmor_restrict_unprivileged_userns") == 1)
			return err_set(err, E_SR,
				       "user namespaces are restricted by "
				       "AppArmor (sysctl "
				       "kernel.apparmor_restrict_unprivileged_"
				       "userns is 1)");
		errno = e;
		return err_errno(err, E_SR, "cannot mount in a user namespace");
	case AV_OVERLAY:
		if (e == ENODEV)
			return err_set(err, E_SR,
				       "overlayfs is not available (no "
				       "'overlay' in /proc/filesystems)");
		errno = e;
		return err_errno(err, E_SR,
				 "cannot mount an overlay in a user namespace");
	case AV_OTHER:
		errno = e;
		return err_errno(err, E_SR, "cannot check for user namespaces");
	default:
		return err_set(err, E_SR,
			       "cannot check for user namespaces: the check "
			       "exited with status %d",
			       WEXITSTATUS(status));
	}
}
