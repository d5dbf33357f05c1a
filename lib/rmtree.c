/* Race-safe recursive removal and counting (saferm --permanent, --purge and
 * the blast-radius count); see rmtree.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "rmtree.h"

/* Per-level getdents buffer: small, because one may be held per level of a
 * deep tree; glibc's DIR would hold 32 KiB per level. */
#define RMTREE_BUF 8192

/* One open directory of the walk. Frame i's parent descriptor is frame
 * i - 1's, and the caller's dirfd for frame 0. */
struct frame {
	int fd;
	char *buf; /* NULL until the first read; shrunk while descending */
	size_t cap, pos, len;
	size_t path_len; /* display path of its entries: path[0, path_len) */
	size_t name_off; /* its own name, path + name_off (not frame 0) */
	dev_t dev;
	ino_t ino;
	bool child_failed; /* a failure below was already reported */
	bool retried;
};

struct walk {
	bool count_mode, one_fs, stop;
	const struct rmtree_ops *ops;
	struct rmtree_count *c;
	uint64_t max_entries, max_bytes;
	int dirfd;
	const char *top_name;
	char *top_display;
	dev_t top_dev;
	char *path;
	size_t path_cap;
	struct frame *st;
	size_t depth, st_cap;
	char *spare; /* one free RMTREE_BUF buffer, reused by the next level */
	struct rlimit saved_nofile;
	bool raised_nofile;
	bool failed;
};

static const char changed[] = "changed during removal";

static void report(struct walk *w, const char *path, int errnum,
		   const char *what)
{
	w->failed = true;
	if (w->depth)
		w->st[w->depth - 1].child_failed = true;
	if (w->ops && w->ops->failed)
		w->ops->failed(w->ops->ctx, path, errnum, what);
}

static void removed(struct walk *w, const char *path, bool is_dir)
{
	if (w->ops && w->ops->removed)
		w->ops->removed(w->ops->ctx, path, is_dir);
}

static bool limits_passed(struct walk *w)
{
	const struct rmtree_count *c = w->c;

	if ((w->max_entries && c->files + c->dirs > w->max_entries) ||
	    (w->max_bytes && c->bytes > w->max_bytes)) {
		w->c->over = true;
		w->stop = true;
	}
	return w->stop;
}

/* path = path[0, base) + "/" + name. No PATH_MAX: the path is only shown. */
static int path_set(struct walk *w, size_t base, const char *name)
{
	size_t n = strlen(name), need = base + n + 2;

	if (need > w->path_cap) {
		size_t cap = w->path_cap ? w->path_cap : 256;
		char *p;

		while (cap < need)
			cap *= 2;
		p = realloc(w->path, cap);
		if (!p)
			return -1;
		w->path = p;
		w->path_cap = cap;
	}
	w->path[base] = '/';
	memcpy(w->path + base + 1, name, n + 1);
	return 0;
}

static char *buf_get(struct walk *w)
{
	char *b = w->spare;

	w->spare = NULL;
	return b ? b : malloc(RMTREE_BUF);
}

static void buf_put(struct walk *w, char *b, size_t cap)
{
	if (b && cap == RMTREE_BUF && !w->spare)
		w->spare = b;
	else
		free(b);
}

/* A deep tree needs one descriptor per level: past the soft limit, raise
 * it to the hard one (restored at the end) rather than fail early. */
static int open_dir(struct walk *w, int pfd, const char *name)
{
	int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	int fd = openat(pfd, name, flags);
	struct rlimit rl;

	if (fd >= 0 || errno != EMFILE || w->raised_nofile)
		return fd;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max) {
		errno = EMFILE;
		return -1;
	}
	w->saved_nofile = rl;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
		errno = EMFILE;
		return -1;
	}
	w->raised_nofile = true;
	return openat(pfd, name, flags);
}

static int push(struct walk *w, int fd, dev_t dev, ino_t ino)
{
	struct frame *f;

	if (w->depth == w->st_cap) {
		size_t cap = w->st_cap ? w->st_cap * 2 : 16;
		struct frame *p = realloc(w->st, cap * sizeof(*p));

		if (!p)
			return -1;
		w->st = p;
		w->st_cap = cap;
	}
	if (w->depth) {
		/* Keep only what the parent has not read yet, so that memory
		 * follows the tree's size, not depth times the buffer. */
		struct frame *up = &w->st[w->depth - 1];
		size_t rest = up->len - up->pos;

		if (!rest) {
			buf_put(w, up->buf, up->cap);
			up->buf = NULL;
			up->cap = up->pos = up->len = 0;
		} else if (rest <= up->cap / 2) {
			char *p;

			memmove(up->buf, up->buf + up->pos, rest);
			p = realloc(up->buf, rest);
			if (p) {
				up->buf = p;
				up->cap = rest;
			}
			up->pos = 0;
			up->len = rest;
		}
	}
	f = &w->st[w->depth];
	memset(f, 0, sizeof(*f));
	f->fd = fd;
	f->dev = dev;
	f->ino = ino;
	if (w->depth) {
		f->name_off = w->st[w->depth - 1].path_len + 1;
		f->path_len = strlen(w->path);
	} else {
		f->path_len = strlen(w->path); /* the trimmed display */
		w->top_dev = dev;
	}
	w->depth++;
	return 0;
}

static int parent_fd(const struct walk *w)
{
	return w->depth >= 2 ? w->st[w->depth - 2].fd : w->dirfd;
}

static bool is_dir_changed(int e)
{
	return e == ELOOP || e == ENOTDIR;
}

/* Open a directory entry for descent, checking that what was opened is what
 * was examined (sx). 1: pushed; 0: handled (reported or skipped). */
static int enter(struct walk *w, int pfd, const char *name, const char *path,
		 const struct statx *sx)
{
	dev_t dev = makedev(sx->stx_dev_major, sx->stx_dev_minor);
	struct stat st;
	int fd, e;

	if (w->depth && w->one_fs &&
	    (dev != w->top_dev ||
	     (sx->stx_attributes & STATX_ATTR_MOUNT_ROOT))) {
		if (!w->count_mode)
			report(w, path, 0, "different device");
		return 0;
	}
	fd = open_dir(w, pfd, name);
	if (fd < 0) {
		e = errno;
		if (w->count_mode) {
			w->c->unreadable = true;
			return 0;
		}
		if (e == ENOENT && w->depth)
			return 0;
		if (is_dir_changed(e)) {
			report(w, path, 0, changed);
			return 0;
		}
		/* An empty directory that cannot be read can still go, as
		 * with rm; a non-empty one is reported with the open's error. */
		if (e != EMFILE && e != ENFILE &&
		    unlinkat(pfd, name, AT_REMOVEDIR) == 0) {
			removed(w, path, true);
			return 0;
		}
		report(w, path, e,
		       e == EMFILE ? "too deep for the open file limit" : NULL);
		return 0;
	}
	if (fstat(fd, &st) < 0 || st.st_dev != dev ||
	    st.st_ino != sx->stx_ino) {
		close(fd);
		if (w->count_mode)
			w->c->unreadable = true;
		else
			report(w, path, 0, changed);
		return 0;
	}
	if (push(w, fd, dev, sx->stx_ino) < 0) {
		close(fd);
		if (w->count_mode)
			w->c->unreadable = true;
		else
			report(w, path, ENOMEM, NULL);
		return 0;
	}
	return 1;
}

static int xstatx(int pfd, const char *name, unsigned mask, struct statx *sx)
{
	return statx(pfd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, mask,
		     sx);
}

/* Remove one entry of the directory pfd, or descend into it. type is the
 * d_type (DT_UNKNOWN for the top). */
static void rm_entry(struct walk *w, int pfd, const char *name,
		     const char *path, unsigned char type)
{
	struct statx sx;
	int e = 0;

	if (type != DT_DIR) {
		/* No stat for what is not a directory: unlink says. */
		if (unlinkat(pfd, name, 0) == 0) {
			removed(w, path, false);
			return;
		}
		e = errno;
		if (e == ENOENT && w->depth)
			return; /* gone already: what rm -rf wants */
		/* Unlinking a directory fails with EISDIR, or with EACCES,
		 * EPERM, EROFS… checked first: without a d_type, look. */
		if (e != EISDIR && (type != DT_UNKNOWN || e == ENOENT)) {
			report(w, path, e, NULL);
			return;
		}
	}
	if (xstatx(pfd, name, STATX_TYPE | STATX_INO, &sx) < 0) {
		if (errno == ENOENT && w->depth)
			return;
		report(w, path, e && e != EISDIR ? e : errno, NULL);
		return;
	}
	if (!S_ISDIR(sx.stx_mode)) {
		if (e && e != EISDIR) { /* sticky directory, immutable file */
			report(w, path, e, NULL);
			return;
		}
		/* d_type said directory: it was replaced; the new entry is
		 * unlinked, never followed. */
		if (unlinkat(pfd, name, 0) == 0)
			removed(w, path, false);
		else if (errno != ENOENT)
			report(w, path, errno, NULL);
		return;
	}
	enter(w, pfd, name, path, &sx);
}

static void count_entry(struct walk *w, int pfd, const char *name,
			const char *path)
{
	struct statx sx;

	if (xstatx(pfd, name,
		   STATX_TYPE | STATX_INO | STATX_SIZE | STATX_BLOCKS,
		   &sx) < 0) {
		if (errno != ENOENT)
			w->c->unreadable = true;
		return;
	}
	if (S_ISDIR(sx.stx_mode) && w->depth && w->one_fs &&
	    (makedev(sx.stx_dev_major, sx.stx_dev_minor) != w->top_dev ||
	     (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT)))
		return;
	if (S_ISDIR(sx.stx_mode))
		w->c->dirs++;
	else
		w->c->files++;
	w->c->bytes += sx.stx_size;
	w->c->disk += sx.stx_blocks * 512;
	if (limits_passed(w) || !S_ISDIR(sx.stx_mode))
		return;
	enter(w, pfd, name, path, &sx);
}

/* The next entry of the innermost directory: 1 with *d set, 0 at the end,
 * -1 with errno on a read error. */
static int next_entry(struct walk *w, struct frame *f, struct dirent64 **d)
{
	for (;;) {
		struct dirent64 *e;
		ssize_t n;

		if (f->pos < f->len) {
			e = (struct dirent64 *)(f->buf + f->pos);
			f->pos += e->d_reclen;
			if (e->d_name[0] == '.' &&
			    (!e->d_name[1] ||
			     (e->d_name[1] == '.' && !e->d_name[2])))
				continue;
			*d = e;
			return 1;
		}
		if (f->cap < RMTREE_BUF) {
			free(f->buf);
			f->cap = 0;
			f->buf = buf_get(w);
			if (!f->buf) {
				errno = ENOMEM;
				return -1;
			}
			f->cap = RMTREE_BUF;
		}
		f->pos = f->len = 0;
		n = getdents64(f->fd, f->buf, f->cap);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -1 : 0;
		f->len = (size_t)n;
	}
}

static const char *frame_display(struct walk *w, struct frame *f)
{
	if (f == w->st)
		return w->top_display;
	w->path[f->path_len] = '\0';
	return w->path;
}

static void pop(struct walk *w)
{
	struct frame *f = &w->st[w->depth - 1];

	close(f->fd);
	buf_put(w, f->buf, f->cap);
	w->depth--;
}

/* All entries of the innermost directory are done: remove it. */
static void leave(struct walk *w)
{
	struct frame *f = &w->st[w->depth - 1];
	const char *path = frame_display(w, f);
	const char *name = w->depth == 1 ? w->top_name : w->path + f->name_off;
	bool child_failed = f->child_failed;
	int e;

	if (w->count_mode) {
		pop(w);
		return;
	}
	if (unlinkat(parent_fd(w), name, AT_REMOVEDIR) == 0) {
		pop(w);
		removed(w, path, true);
		return;
	}
	e = errno;
	if ((e == ENOTEMPTY || e == EEXIST) && !child_failed && !f->retried &&
	    lseek(f->fd, 0, SEEK_SET) == 0) {
		/* Entries created meanwhile, or missed by a readdir racing
		 * with our unlinks: one more pass. */
		f->retried = true;
		f->pos = f->len = 0;
		return;
	}
	pop(w);
	if (e == ENOENT && w->depth)
		return;
	/* rm reports the child that could not be removed, not its parents'
	 * "Directory not empty" as well. */
	if ((e == ENOTEMPTY || e == EEXIST) && child_failed) {
		w->failed = true;
		if (w->depth)
			w->st[w->depth - 1].child_failed = true;
		return;
	}
	report(w, path, e, NULL);
}

static void walk_step(struct walk *w)
{
	struct frame *f = &w->st[w->depth - 1];
	struct dirent64 *d;
	int r = next_entry(w, f, &d);

	if (r < 0) {
		if (w->count_mode)
			w->c->unreadable = true;
		else
			report(w, frame_display(w, f), errno,
			       "traversal failed");
		f->child_failed = true;
		leave(w);
		return;
	}
	if (r == 0) {
		leave(w);
		return;
	}
	if (path_set(w, f->path_len, d->d_name) < 0) {
		if (w->count_mode)
			w->c->unreadable = true;
		else
			report(w, frame_display(w, f), ENOMEM, NULL);
		return;
	}
	if (w->count_mode) {
		count_entry(w, f->fd, d->d_name, w->path);
		if (w->ops && w->ops->counted)
			w->ops->counted(w->ops->ctx, w->c);
	} else {
		rm_entry(w, f->fd, d->d_name, w->path, d->d_type);
	}
}

/* Trailing slashes: the top is shown with one ("a/"), its entries below
 * without ("a/x"), as GNU rm's fts does. */
static int walk_init(struct walk *w, int dirfd, const char *name,
		     const char *display)
{
	size_t n;

	if (!display)
		display = name;
	n = strlen(display);
	w->dirfd = dirfd;
	w->top_name = name;
	w->top_display = malloc(n + 1);
	if (!w->top_display)
		return -1;
	memcpy(w->top_display, display, n + 1);
	while (n > 1 && display[n - 1] == '/' && display[n - 2] == '/')
		w->top_display[--n] = '\0';
	if (n && display[n - 1] == '/')
		n--;
	if (path_set(w, 0, "") < 0)
		return -1;
	memcpy(w->path, display, n);
	w->path[n] = '\0';
	return 0;
}

static void walk_release(struct walk *w)
{
	while (w->depth)
		pop(w);
	free(w->st);
	free(w->path);
	free(w->top_display);
	free(w->spare);
	if (w->raised_nofile)
		setrlimit(RLIMIT_NOFILE, &w->saved_nofile);
}

int rmtree_remove(int dirfd, const char *name, const char *display,
		  const struct rmtree_ops *ops)
{
	struct walk w = {.ops = ops, .one_fs = ops && ops->one_file_system};

	if (walk_init(&w, dirfd, name, display) < 0) {
		report(&w, display ? display : name, ENOMEM, NULL);
		walk_release(&w);
		return -1;
	}
	rm_entry(&w, dirfd, name, w.top_display, DT_UNKNOWN);
	while (w.depth)
		walk_step(&w);
	walk_release(&w);
	return w.failed ? -1 : 0;
}

int rmtree_count(int dirfd, const char *name, uint64_t max_entries,
		 uint64_t max_bytes, bool one_file_system,
		 struct rmtree_count *c, struct sd_err *err)
{
	struct rmtree_ops ops = {.one_file_system = one_file_system};

	return rmtree_count_ops(dirfd, name, max_entries, max_bytes, &ops, c,
				err);
}

int rmtree_count_ops(int dirfd, const char *name, uint64_t max_entries,
		     uint64_t max_bytes, const struct rmtree_ops *ops,
		     struct rmtree_count *c, struct sd_err *err)
{
	struct walk w = {.count_mode = true,
			 .ops = ops,
			 .one_fs = ops && ops->one_file_system,
			 .c = c,
			 .max_entries = max_entries,
			 .max_bytes = max_bytes};
	struct statx sx;

	memset(c, 0, sizeof(*c));
	if (xstatx(dirfd, name, STATX_TYPE | STATX_INO, &sx) < 0)
		return err_errno(err, SD_EXIT_CANNOT, "cannot stat '%s'", name);
	if (walk_init(&w, dirfd, name, name) < 0) {
		walk_release(&w);
		return err_set(err, SD_EXIT_CANNOT, "out of memory");
	}
	count_entry(&w, dirfd, name, w.top_display);
	while (w.depth && !w.stop)
		walk_step(&w);
	walk_release(&w);
	return 0;
}
