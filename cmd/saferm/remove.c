/* saferm's main mode: examine every operand first (nothing changes), decide
 * what needs a confirmation (a protected path, the expansion of '/' + '*', a
 * permanent delete above the blast radius), then act on each operand in
 * order, to the trash or, with --permanent, for good. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "mounts.h"
#include "msg.h"
#include "progress.h"
#include "saferm.h"
#include "units.h"

/* Operands that are direct children of '/': this many or more look like
 * the expansion of "$EMPTY/"*. */
#define ROOT_GLOB_MIN 3

enum tstate {
	T_OK,	    /* to be removed */
	T_ERROR,    /* rm's own error: errnum or msg */
	T_ROOT,	    /* '/' with --preserve-root: GNU's two lines */
	T_DOT,	    /* '.' or '..' */
	T_IN_TRASH, /* already in a trash: cannot be trashed */
};

struct target {
	const char *operand;
	enum tstate state;
	int errnum;
	const char *msg;
	int parent_fd;
	char name[NAME_MAX + 1];
	char *abs;
	struct stat st, pst;
	bool is_mount;
	bool trailing_slash;
	char rule[PATH_MAX + 128]; /* protection; empty when none */
	bool counted;
	struct rmtree_count count;
	uint64_t entries, entries_sum; /* direct entries of a directory */
	bool entries_read;
};

static const char *type_name(const struct stat *st)
{
	switch (st->st_mode & S_IFMT) {
	case S_IFREG:
		return st->st_size ? "regular file" : "regular empty file";
	case S_IFDIR:
		return "directory";
	case S_IFLNK:
		return "symbolic link";
	case S_IFIFO:
		return "fifo";
	case S_IFSOCK:
		return "socket";
	case S_IFCHR:
		return "character special file";
	case S_IFBLK:
		return "block special file";
	}
	return "weird file";
}

static const char *short_type(const struct stat *st)
{
	return S_ISDIR(st->st_mode)   ? "directory"
	       : S_ISLNK(st->st_mode) ? "symlink"
	       : S_ISREG(st->st_mode) ? "file"
				      : "special";
}

static const char *q(const char *s, char *buf, size_t n)
{
	return saferm_quote(s, buf, n);
}

/* FNV-1a: an order-independent fingerprint of a directory's entries (a
 * sum of per-name hashes), for the plan; not a security measure, the plan
 * digest and the token's HMAC are. */
static uint64_t fnv1a(const char *s)
{
	uint64_t h = 14695981039346656037ull;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

/* Read only for a plan or a dry run: trashing a directory must stay O(1),
 * whatever it holds. */
static void direct_entries(struct target *t)
{
	int fd = openat(t->parent_fd, t->name,
			O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;
	struct dirent *e;

	t->entries_read = true;
	t->entries = t->entries_sum = 0;
	if (fd < 0)
		return;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		t->entries++;
		t->entries_sum += fnv1a(e->d_name);
	}
	closedir(d);
}

static bool is_empty_dir(struct target *t)
{
	direct_entries(t);
	return t->entries == 0;
}

static bool dot_or_dotdot(const char *base)
{
	return !strcmp(base, ".") || !strcmp(base, "..");
}

/* The absolute path of (parent_fd, name): the parent as the kernel knows
 * it, so that '..', symlinks in the middle and the cwd do not matter. */
static char *absolute(int parent_fd, const char *name)
{
	char link[64], dir[PATH_MAX], *out;
	ssize_t n;
	size_t len;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", parent_fd);
	n = readlink(link, dir, sizeof(dir) - 1);
	if (n <= 0)
		return NULL;
	dir[n] = '\0';
	len = (size_t)n + strlen(name) + 2;
	out = malloc(len);
	if (out)
		snprintf(out, len, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "",
			 name);
	return out;
}

static void examine(struct saferm *s, struct target *t)
{
	const char *op = t->operand;
	char dir[PATH_MAX], base[NAME_MAX + 1];
	size_t len = strlen(op), end, start;
	uint64_t mnt;

	t->parent_fd = -1;
	if (!*op) {
		t->state = T_ERROR;
		t->errnum = ENOENT;
		return;
	}
	if (len >= PATH_MAX) {
		t->state = T_ERROR;
		t->errnum = ENAMETOOLONG;
		return;
	}
	end = len;
	while (end > 1 && op[end - 1] == '/')
		end--;
	t->trailing_slash = end < len;
	if (end == 1 && op[0] == '/') {
		/* '/', '//', '///' */
		if (stat("/", &t->st) < 0) {
			t->state = T_ERROR;
			t->errnum = errno;
			return;
		}
		if (!s->o.recursive) {
			t->state = T_ERROR;
			t->errnum = EISDIR;
		} else {
			t->state = s->o.preserve_root ? T_ROOT : T_OK;
			snprintf(t->rule, sizeof(t->rule),
				 "the root directory");
			t->parent_fd =
				open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
			snprintf(t->name, sizeof(t->name), ".");
			t->abs = strdup("/");
		}
		return;
	}
	start = end;
	while (start > 0 && op[start - 1] != '/')
		start--;
	if (end - start > NAME_MAX) {
		t->state = T_ERROR;
		t->errnum = ENAMETOOLONG;
		return;
	}
	memcpy(base, op + start, end - start);
	base[end - start] = '\0';
	if (start == 0)
		snprintf(dir, sizeof(dir), ".");
	else if (start == 1)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(start - 1), op);
	snprintf(t->name, sizeof(t->name), "%s", base);

	t->parent_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (t->parent_fd < 0 ||
	    fstatat(t->parent_fd, base, &t->st, AT_SYMLINK_NOFOLLOW) < 0) {
		t->state = T_ERROR;
		t->errnum = errno;
		return;
	}
	if (t->trailing_slash) {
		struct stat through;

		/* "file/" is not a directory; "link/" names what the link
		 * points to: it must not be protected either. */
		if (stat(op, &through) < 0) {
			t->state = T_ERROR;
			t->errnum = errno;
			return;
		}
		if (S_ISLNK(t->st.st_mode)) {
			char buf[PATH_MAX + 128];
			const char *r;

			if (protect_trash_of(s, AT_FDCWD, op, true) < 0) {
				t->state = T_ERROR;
				t->errnum = ENOMEM;
				return;
			}
			if (through.st_dev == s->prot.root.st_dev &&
			    through.st_ino == s->prot.root.st_ino &&
			    s->o.recursive && s->o.preserve_root) {
				t->state = T_ROOT;
				return;
			}
			r = protect_rule(s, &through, NULL, false, buf,
					 sizeof(buf));
			if (r)
				snprintf(t->rule, sizeof(t->rule),
					 "%s, through the link", r);
		}
	}
	fstat(t->parent_fd, &t->pst);
	if (S_ISDIR(t->st.st_mode)) {
		if (!s->o.recursive) {
			if (!s->o.dir) {
				t->state = T_ERROR;
				t->errnum = EISDIR;
				return;
			}
			if (!is_empty_dir(t)) {
				t->state = T_ERROR;
				t->errnum = ENOTEMPTY;
				return;
			}
		}
		if (dot_or_dotdot(base)) {
			t->state = T_DOT;
			return;
		}
		if (s->o.recursive && s->o.preserve_root &&
		    t->st.st_dev == s->prot.root.st_dev &&
		    t->st.st_ino == s->prot.root.st_ino) {
			t->state = T_ROOT;
			return;
		}
	} else if (dot_or_dotdot(base)) {
		t->state = T_DOT;
		return;
	}
	if (mounts_id_at(t->parent_fd, base, &mnt, &t->is_mount, NULL) < 0) {
		t->is_mount = false;
		mnt = 0;
	}
	/* The trashes the object and its parent could be (or be in). */
	if (protect_trash_mount(s, mnt) < 0 ||
	    (t->is_mount && protect_trash_of(s, t->parent_fd, "", false) < 0)) {
		t->state = T_ERROR;
		t->errnum = ENOMEM;
		return;
	}
	t->abs = absolute(t->parent_fd, base);
	if (!t->abs) {
		t->state = T_ERROR;
		t->errnum = errno ? errno : ENOMEM;
		return;
	}
	if (!t->rule[0]) {
		char buf[PATH_MAX + 128];
		const char *r = protect_rule(s, &t->st, &t->pst, t->is_mount,
					     buf, sizeof(buf));

		if (r)
			snprintf(t->rule, sizeof(t->rule), "%s", r);
	}
	if (!s->o.permanent && !t->rule[0] && protect_in_trash(s, &t->pst))
		t->state = T_IN_TRASH;
}

/* The progress of counting: the entries counted before this operand. */
struct count_cb {
	struct progress *p;
	uint64_t before;
};

static void on_counted(void *ctx, const struct rmtree_count *c)
{
	struct count_cb *cb = ctx;

	progress_update(cb->p, cb->before + c->files + c->dirs);
}

/* Count t, up to max_files entries and max_bytes bytes (0: no limit). */
static void count(struct saferm *s, struct target *t, uint64_t max_files,
		  uint64_t max_bytes, struct count_cb *cb)
{
	struct sd_err err = {0};
	struct rmtree_ops ops = {
		.one_file_system = s->o.one_fs,
		.ctx = cb,
		.counted = on_counted,
	};

	if (t->state != T_OK || t->counted)
		return;
	t->counted = true;
	if (rmtree_count_ops(t->parent_fd, t->name, max_files, max_bytes, &ops,
			     &t->count, &err) < 0)
		t->count.unreadable = true;
}

static json_t *plan_target(const struct target *t, bool permanent)
{
	json_t *o = json_object();

	json_object_set_new(o, "operand", json_string(t->operand));
	json_object_set_new(o, "path",
			    t->abs ? json_string(t->abs) : json_null());
	if (t->state != T_OK) {
		json_object_set_new(o, "state", json_string("skipped"));
		return o;
	}
	json_object_set_new(o, "type", json_string(short_type(&t->st)));
	json_object_set_new(o, "dev", json_integer((json_int_t)t->st.st_dev));
	json_object_set_new(o, "ino", json_integer((json_int_t)t->st.st_ino));
	json_object_set_new(o, "size", json_integer((json_int_t)t->st.st_size));
	json_object_set_new(
		o, "mtime_ns",
		json_integer((json_int_t)t->st.st_mtim.tv_sec * 1000000000 +
			     t->st.st_mtim.tv_nsec));
	json_object_set_new(
		o, "ctime_ns",
		json_integer((json_int_t)t->st.st_ctim.tv_sec * 1000000000 +
			     t->st.st_ctim.tv_nsec));
	if (S_ISDIR(t->st.st_mode)) {
		char sum[24];

		json_object_set_new(o, "entries",
				    json_integer((json_int_t)t->entries));
		snprintf(sum, sizeof(sum), "%016llx",
			 (unsigned long long)t->entries_sum);
		json_object_set_new(o, "entries_digest", json_string(sum));
	}
	json_object_set_new(o, "protected",
			    t->rule[0] ? json_string(t->rule) : json_null());
	if (permanent && t->counted) {
		json_object_set_new(o, "files",
				    json_integer((json_int_t)(t->count.files +
							      t->count.dirs)));
		json_object_set_new(o, "bytes",
				    json_integer((json_int_t)t->count.bytes));
		json_object_set_new(
			o, "at_least",
			json_boolean(t->count.over || t->count.unreadable));
	}
	return o;
}

struct totals {
	uint64_t files, bytes;
	bool over, at_least;
	size_t protected_n, root_children, ok;
};

static json_t *make_plan(struct saferm *s, struct target *v, size_t n,
			 const struct totals *tot)
{
	json_t *plan = json_object(), *targets = json_array(), *opts;
	char cwd[PATH_MAX];
	struct utsname u;

	json_object_set_new(plan, "tool", json_string("saferm"));
	json_object_set_new(
		plan, "mode",
		json_string(s->o.permanent ? "permanent" : "trash"));
	opts = json_object();
	json_object_set_new(opts, "recursive", json_boolean(s->o.recursive));
	json_object_set_new(opts, "dir", json_boolean(s->o.dir));
	json_object_set_new(opts, "one_file_system", json_boolean(s->o.one_fs));
	json_object_set_new(opts, "preserve_root",
			    json_boolean(s->o.preserve_root));
	json_object_set_new(plan, "options", opts);
	json_object_set_new(plan, "cwd",
			    json_string(getcwd(cwd, sizeof(cwd)) ? cwd : ""));
	json_object_set_new(plan, "uid", json_integer((json_int_t)getuid()));
	json_object_set_new(plan, "host",
			    json_string(uname(&u) == 0 ? u.nodename : ""));
	for (size_t i = 0; i < n; i++) {
		if (v[i].state == T_OK && S_ISDIR(v[i].st.st_mode) &&
		    !v[i].entries_read)
			direct_entries(&v[i]);
		json_array_append_new(targets,
				      plan_target(&v[i], s->o.permanent));
	}
	json_object_set_new(plan, "targets", targets);
	if (s->o.permanent) {
		json_t *t = json_object();

		json_object_set_new(t, "files",
				    json_integer((json_int_t)tot->files));
		json_object_set_new(t, "bytes",
				    json_integer((json_int_t)tot->bytes));
		json_object_set_new(t, "at_least", json_boolean(tot->at_least));
		json_object_set_new(plan, "totals", t);
	}
	return plan;
}

static void print_rm_error(const struct target *t)
{
	char a[PATH_MAX * 2];

	switch (t->state) {
	case T_ERROR:
		msg_error("cannot remove %s: %s", q(t->operand, a, sizeof(a)),
			  t->msg ? t->msg : strerror(t->errnum));
		break;
	case T_ROOT:
		if (t->trailing_slash &&
		    strspn(t->operand, "/") != strlen(t->operand)) {
			char b[PATH_MAX * 2];

			msg_error("it is dangerous to operate recursively on "
				  "%s (same as %s)",
				  q(t->operand, a, sizeof(a)),
				  q("/", b, sizeof(b)));
		} else {
			msg_error("it is dangerous to operate recursively on "
				  "%s",
				  q(t->operand, a, sizeof(a)));
		}
		msg_error("use --no-preserve-root to override this failsafe");
		break;
	case T_DOT:
		msg_error("refusing to remove '.' or '..' directory: skipping "
			  "%s",
			  q(t->operand, a, sizeof(a)));
		break;
	case T_IN_TRASH:
		msg_error("cannot trash %s: it is already in the trash (use "
			  "--purge, or --permanent)",
			  q(t->operand, a, sizeof(a)));
		break;
	case T_OK:
		break;
	}
}

/* -f hides what is missing, as rm does. */
static bool ignorable(const struct saferm *s, const struct target *t)
{
	return s->o.force && t->state == T_ERROR &&
	       (t->errnum == ENOENT || t->errnum == ENOTDIR ||
		t->errnum == EINVAL || t->errnum == EILSEQ);
}

struct rm_cb {
	struct saferm *s;
	bool failed_child;
	struct progress *p; /* removing, across all operands */
	uint64_t *done;
};

static void on_removed(void *ctx, const char *path, bool is_dir)
{
	struct rm_cb *cb = ctx;
	char a[PATH_MAX * 2];

	if (cb->s->o.verbose)
		printf("removed %s%s\n", is_dir ? "directory " : "",
		       q(path, a, sizeof(a)));
	if (cb->p)
		progress_update(cb->p, ++*cb->done);
}

static void on_failed(void *ctx, const char *path, int errnum, const char *what)
{
	struct rm_cb *cb = ctx;
	char a[PATH_MAX * 2];

	if (cb->p)
		progress_finish(cb->p); /* the message on a line of its own */
	if (errnum)
		msg_error("cannot remove %s: %s", q(path, a, sizeof(a)),
			  strerror(errnum));
	else if (what && strstr(what, "device"))
		msg_error("skipping %s, since it's on a different device",
			  q(path, a, sizeof(a)));
	else
		msg_error("cannot remove %s: %s", q(path, a, sizeof(a)),
			  what ? what : "failed");
}

static bool prompt(struct saferm *s, const struct target *t)
{
	char a[PATH_MAX * 2];
	bool tty = s->o.presume_tty || isatty(STDIN_FILENO);
	bool write_protected;

	if (s->o.interactive == RMI_NEVER)
		return true;
	write_protected = !S_ISLNK(t->st.st_mode) &&
			  faccessat(t->parent_fd, t->name, W_OK,
				    AT_SYMLINK_NOFOLLOW) < 0 &&
			  errno == EACCES;
	if (s->o.interactive == RMI_SOMETIMES && !(write_protected && tty))
		return true;
	fprintf(stderr, "%s: remove %s%s %s? ", msg_prog(),
		write_protected ? "write-protected " : "", type_name(&t->st),
		q(t->operand, a, sizeof(a)));
	fflush(stderr);
	return saferm_yes();
}

/* '/' itself, confirmed with --no-preserve-root: what is under it. */
static int remove_root_entries(struct target *t, const struct rmtree_ops *ops)
{
	int fd = openat(t->parent_fd, ".",
			O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct dirent *e;
	int rc = 0;
	DIR *d;

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		msg_error("cannot remove '/': %s", strerror(errno));
		return -1;
	}
	while ((e = readdir(d))) {
		char path[NAME_MAX + 2];

		if (dot_or_dotdot(e->d_name))
			continue;
		snprintf(path, sizeof(path), "/%s", e->d_name);
		if (rmtree_remove(dirfd(d), e->d_name, path, ops) < 0)
			rc = -1;
	}
	closedir(d);
	return rc;
}

static int act_permanent(struct saferm *s, struct target *t, struct progress *p,
			 uint64_t *done)
{
	struct rm_cb cb = {.s = s, .p = p, .done = done};
	struct rmtree_ops ops = {
		.one_file_system = s->o.one_fs || s->o.preserve_all,
		.ctx = &cb,
		.removed = on_removed,
		.failed = on_failed,
	};

	if (!strcmp(t->name, "."))
		return remove_root_entries(t, &ops);
	return rmtree_remove(t->parent_fd, t->name, t->operand, &ops);
}

static int act_trash(struct saferm *s, struct target *t)
{
	struct trash *tr;
	struct sd_err err = {0};
	char entry[NAME_MAX + 1], a[PATH_MAX * 2];
	int errnum = 0;

	if (!strcmp(t->name, ".")) {
		msg_error(
			"cannot trash '/': the root directory cannot be moved "
			"(--permanent deletes what is under it)");
		return -1;
	}
	if (trash_select(&s->trash, t->parent_fd, t->name, &tr, &err) < 0) {
		msg_error(
			"cannot trash %s: %s; nothing was removed (--permanent "
			"deletes it for good)",
			q(t->operand, a, sizeof(a)), err.msg);
		return -1;
	}
	if (trash_put(tr, t->parent_fd, t->name, t->abs, time(NULL), entry,
		      sizeof(entry), &errnum, &err) < 0) {
		/* Renaming a directory needs write access to it; an empty
		 * one holds nothing to recover, so rm's way is as good. */
		if (errnum == EACCES && S_ISDIR(t->st.st_mode) &&
		    is_empty_dir(t) &&
		    unlinkat(t->parent_fd, t->name, AT_REMOVEDIR) == 0) {
			if (s->o.verbose)
				printf("removed directory %s\n",
				       q(t->operand, a, sizeof(a)));
			return 0;
		}
		if (errnum == EXDEV)
			msg_error("cannot trash %s: %s; nothing was removed",
				  q(t->operand, a, sizeof(a)), err.msg);
		else if (errnum)
			msg_error("cannot remove %s: %s",
				  q(t->operand, a, sizeof(a)),
				  strerror(errnum));
		else
			msg_error("cannot trash %s: %s",
				  q(t->operand, a, sizeof(a)), err.msg);
		return -1;
	}
	if (journal_add(s, tr->dir, entry) < 0)
		msg_warn("cannot record %s for --undo; it is in the trash",
			 q(t->operand, a, sizeof(a)));
	if (s->o.verbose)
		printf("removed %s%s (to the trash)\n",
		       S_ISDIR(t->st.st_mode) ? "directory " : "",
		       q(t->operand, a, sizeof(a)));
	return 0;
}

static void dry_run_line(struct saferm *s, const struct target *t,
			 bool confirmed_needed, json_t *items)
{
	char a[PATH_MAX * 2], size[32], files[96], where[PATH_MAX + 64];
	const char *action;
	json_t *o = json_object();

	json_object_set_new(o, "operand", json_string(t->operand));
	if (t->state != T_OK) {
		const char *why =
			t->state == T_ERROR
				? (t->msg ? t->msg : strerror(t->errnum))
			: t->state == T_ROOT ? "it is dangerous to operate "
					       "recursively on '/'"
			: t->state == T_DOT  ? "refusing to remove '.' or '..'"
					     : "already in the trash";

		json_object_set_new(o, "action", json_string("error"));
		json_object_set_new(o, "reason", json_string(why));
		if (!s->o.json && !ignorable(s, t))
			printf("error    %s: %s\n", q(t->operand, a, sizeof(a)),
			       why);
		json_array_append_new(items, o);
		return;
	}
	action = s->o.permanent ? "delete" : "trash";
	if (t->rule[0])
		action = confirmed_needed ? "confirm" : "refuse";
	units_format_size(t->count.bytes, size, sizeof(size));
	if (!t->counted)
		snprintf(files, sizeof(files),
			 "not counted: past the threshold already");
	else
		snprintf(files, sizeof(files), "%s%llu file%s, %s",
			 t->count.over || t->count.unreadable ? "at least "
							      : "",
			 (unsigned long long)(t->count.files + t->count.dirs),
			 t->count.files + t->count.dirs == 1 ? "" : "s", size);
	where[0] = '\0';
	if (!s->o.permanent && !t->rule[0]) {
		struct trash *tr;
		struct sd_err err = {0};

		if (trash_select(&s->trash, t->parent_fd, t->name, &tr, &err) <
		    0) {
			action = "error";
			snprintf(where, sizeof(where), "; cannot trash: %s",
				 err.msg);
			json_object_set_new(o, "reason", json_string(err.msg));
		} else {
			snprintf(where, sizeof(where), " -> %s", tr->dir);
			json_object_set_new(o, "trash", json_string(tr->dir));
		}
	}
	json_object_set_new(o, "action", json_string(action));
	json_object_set_new(o, "path", json_string(t->abs));
	json_object_set_new(o, "type", json_string(short_type(&t->st)));
	json_object_set_new(o, "files",
			    t->counted
				    ? json_integer((json_int_t)(t->count.files +
								t->count.dirs))
				    : json_null());
	json_object_set_new(o, "bytes",
			    t->counted
				    ? json_integer((json_int_t)t->count.bytes)
				    : json_null());
	json_object_set_new(o, "at_least",
			    json_boolean(!t->counted || t->count.over ||
					 t->count.unreadable));
	json_object_set_new(o, "protected",
			    t->rule[0] ? json_string(t->rule) : json_null());
	json_array_append_new(items, o);
	if (s->o.json)
		return;
	if (t->rule[0])
		printf("%-8s %s: protected (%s); %s, %s\n", action,
		       q(t->operand, a, sizeof(a)), t->rule, type_name(&t->st),
		       files);
	else
		printf("%-8s %s (%s, %s)%s\n", action,
		       q(t->operand, a, sizeof(a)), type_name(&t->st), files,
		       where);
}

static void summary_text(struct saferm *s, const struct totals *tot,
			 const struct target *v, size_t n, char *buf,
			 size_t len)
{
	char size[32], a[PATH_MAX * 2];
	size_t used;

	units_format_size(tot->bytes, size, sizeof(size));
	used = (size_t)snprintf(
		buf, len, "saferm: would %s %zu operand%s (%s%llu files, %s)",
		s->o.permanent ? "permanently delete" : "trash", tot->ok,
		tot->ok == 1 ? "" : "s", tot->at_least ? "at least " : "",
		(unsigned long long)tot->files, size);
	for (size_t i = 0; i < n && used < len; i++) {
		if (v[i].state != T_OK || !v[i].rule[0])
			continue;
		used += (size_t)snprintf(
			buf + used, len - used, "\n  %s: protected (%s)",
			q(v[i].operand, a, sizeof(a)), v[i].rule);
	}
	if (tot->root_children >= ROOT_GLOB_MIN && used < len)
		used += (size_t)snprintf(
			buf + used, len - used,
			"\n  %zu operands are direct children of '/': this "
			"looks like the expansion of '/*'",
			tot->root_children);
	if (s->o.permanent && tot->over && used < len)
		snprintf(buf + used, len - used,
			 "\n  above saferm.max-files or saferm.max-bytes: "
			 "this cannot be undone");
}

static void print_hint(void)
{
	fprintf(stderr,
		"%s: to go ahead anyway, run the same command with --dry-run "
		"first: it prints the command to confirm it\n",
		msg_prog());
}

int run_remove(struct saferm *s, int argc, char **operands)
{
	struct target *v = calloc((size_t)argc, sizeof(*v));
	struct totals tot = {0};
	struct progress counting, removing;
	struct count_cb ccb = {.p = &counting};
	uint64_t removed = 0;
	struct sd_err err = {0};
	bool need_confirm, confirmed = false, whole_refused = false,
			   hint = false;
	json_t *plan = NULL;
	int rc = SD_EXIT_OK;
	size_t n = (size_t)argc;
	char a[PATH_MAX * 2];

	if (!v)
		return SD_EXIT_CANNOT;
	if (protect_init(s, &err) < 0) {
		free(v);
		return msg_err(&err);
	}
	progress_start(&counting, STDERR_FILENO, "counting", 0);
	/* 1. Look at everything; change nothing. */
	for (size_t i = 0; i < n; i++) {
		v[i].operand = operands[i];
		examine(s, &v[i]);
	}
	for (size_t i = 0; i < n; i++) {
		struct target *t = &v[i];

		if (t->state != T_OK)
			continue;
		tot.ok++;
		if (t->rule[0])
			tot.protected_n++;
		if (t->pst.st_dev == s->prot.root.st_dev &&
		    t->pst.st_ino == s->prot.root.st_ino)
			tot.root_children++;
		if (s->o.permanent || s->o.dry_run) {
			/* --permanent needs to know only whether the
			 * operands together pass the threshold: each is
			 * counted up to what is left of it, and once past
			 * it the rest are not counted ("at least"). */
			uint64_t mf = s->o.max_files, mb = s->o.max_bytes;

			if (s->o.permanent && tot.over) {
				tot.at_least = true;
				continue;
			}
			if (s->o.permanent) {
				mf = mf > tot.files ? mf - tot.files : 1;
				mb = mb > tot.bytes ? mb - tot.bytes : 1;
			}
			ccb.before = tot.files;
			count(s, t, mf, mb, &ccb);
			/* "files" are entries of any type, directories
			 * included: each one is an unlink. */
			tot.files += t->count.files + t->count.dirs;
			tot.bytes += t->count.bytes;
			tot.at_least |= t->count.over || t->count.unreadable;
			tot.over |=
				s->o.permanent &&
				(t->count.over || tot.files > s->o.max_files ||
				 tot.bytes > s->o.max_bytes);
		}
	}
	progress_finish(&counting);
	need_confirm = tot.protected_n || tot.over ||
		       tot.root_children >= ROOT_GLOB_MIN;
	if (need_confirm || s->o.dry_run)
		plan = make_plan(s, v, n, &tot);

	/* 2. The dry run stops here. */
	if (s->o.dry_run) {
		json_t *items = json_array();

		for (size_t i = 0; i < n; i++) {
			dry_run_line(s, &v[i], need_confirm, items);
			if (v[i].state != T_OK && !ignorable(s, &v[i]))
				rc = SD_EXIT_FAIL;
		}
		if (!s->o.json) {
			char text[8192];

			summary_text(s, &tot, v, n, text, sizeof(text));
			printf("%s\n", text + strlen("saferm: "));
		}
		if (s->o.json) {
			json_t *doc = json_object();

			json_object_set_new(doc, "version", json_integer(1));
			json_object_set_new(doc, "items", items);
			json_object_set_new(doc, "confirmation_required",
					    json_boolean(need_confirm));
			if (need_confirm &&
			    saferm_print_rerun(s, plan, doc) != 0)
				rc = SD_EXIT_CANNOT;
			json_object_set_new(doc, "plan", json_incref(plan));
			json_dumpf(doc, stdout, JSON_INDENT(2));
			printf("\n");
			json_decref(doc);
		} else {
			json_decref(items);
			if (need_confirm &&
			    saferm_print_rerun(s, plan, NULL) != 0)
				rc = SD_EXIT_CANNOT;
		}
		goto out;
	}

	/* 3. Confirm what needs it: a token, or a code typed back. */
	if (need_confirm) {
		char text[8192];
		int r;

		summary_text(s, &tot, v, n, text, sizeof(text));
		if (!s->o.confirm && s->o.interactive == RMI_NEVER &&
		    !tot.over) {
			r = -1; /* -f never asks */
		} else {
			r = saferm_confirm(s, plan, text, !tot.over);
		}
		if (r == 0) {
			confirmed = true;
		} else if (r > 0) {
			rc = r;
			goto out;
		} else if (tot.root_children >= ROOT_GLOB_MIN) {
			msg_error("refusing to remove anything: %zu operands "
				  "are direct children of '/' (the expansion "
				  "of '/*'?); nothing was removed",
				  tot.root_children);
			whole_refused = true;
		}
		if (whole_refused) {
			print_hint();
			rc = SD_EXIT_FAIL;
			goto out;
		}
	}

	/* 4. rm -I: one question for the whole run. */
	if (s->o.prompt_once && (s->o.recursive || n > 3)) {
		fprintf(stderr, "%s: remove %zu argument%s%s? ", msg_prog(), n,
			n == 1 ? "" : "s",
			s->o.recursive ? " recursively" : "");
		fflush(stderr);
		if (!saferm_yes())
			goto out;
	}

	/* 5. Act, operand by operand, in order; a progress bar (on a
	 * terminal, past a second) when nothing else is printed meanwhile. */
	progress_start(&removing, STDERR_FILENO, "removing",
		       tot.at_least ? 0 : tot.files);
	if (!s->o.permanent || s->o.verbose || s->o.interactive == RMI_ALWAYS)
		removing.enabled = false;
	for (size_t i = 0; i < n; i++) {
		struct target *t = &v[i];

		if (t->state != T_OK) {
			if (!ignorable(s, t)) {
				print_rm_error(t);
				rc = SD_EXIT_FAIL;
			}
			continue;
		}
		if (t->rule[0] && !confirmed) {
			msg_error("refusing to remove %s: protected (%s)",
				  q(t->operand, a, sizeof(a)), t->rule);
			rc = SD_EXIT_FAIL;
			hint = true;
			continue;
		}
		if (!prompt(s, t))
			continue;
		if ((s->o.permanent ? act_permanent(s, t, &removing, &removed)
				    : act_trash(s, t)) < 0)
			rc = SD_EXIT_FAIL;
	}
	progress_finish(&removing);
	if (hint)
		print_hint();
out:
	json_decref(plan);
	for (size_t i = 0; i < n; i++) {
		if (v[i].parent_fd >= 0)
			close(v[i].parent_fd);
		free(v[i].abs);
	}
	free(v);
	return rc;
}
