/* saferm's trash modes: --list, --restore and --purge, over every trash of
 * this user (the home trash and each mount's). */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "base32.h"
#include "msg.h"
#include "progress.h"
#include "saferm.h"
#include "units.h"

#define ID_LEN 8

int saferm_trash_init(struct saferm *s)
{
	struct sd_err err = {0};

	if (s->trash_ready)
		return 0;
	if (trash_set_init(&s->trash, &err) < 0)
		return msg_err(&err);
	s->trash_ready = true;
	return 0;
}

void saferm_warn_cb(void *ctx, const char *msg)
{
	(void)ctx;
	msg_warn("%s", msg);
}

/* A short stable ID for an entry: SHA-256 of its trash and name. */
static void entry_id(const struct trash_entry *e, char *out)
{
	unsigned char d[SHA256_DIGEST_LENGTH];
	char key[PATH_MAX * 2], full[16];
	int n = snprintf(key, sizeof(key), "%s/%s", e->trash->dir, e->name);

	SHA256((const unsigned char *)key,
	       n < 0			 ? 0
	       : (size_t)n < sizeof(key) ? (size_t)n
					 : sizeof(key) - 1,
	       d);
	base32_encode(d, 5, full);
	for (int i = 0; i < ID_LEN; i++)
		out[i] = (char)(full[i] >= 'A' && full[i] <= 'Z'
					? full[i] - 'A' + 'a'
					: full[i]);
	out[ID_LEN] = '\0';
}

static const char *local_time(int64_t t, char *buf, size_t n)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t < 0 || !localtime_r(&tt, &tm) ||
	    !strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, n, "unknown");
	return buf;
}

static const char *state_name(enum trash_entry_state st)
{
	return st == TRASH_ENTRY_OK	   ? "ok"
	       : st == TRASH_ENTRY_NO_FILE ? "orphan-info"
					   : "orphan-file";
}

static int load(struct saferm *s, bool sizes, struct trash_list *l)
{
	struct sd_err err = {0};
	int rc = saferm_trash_init(s);

	if (rc)
		return rc;
	if (trash_list_all(&s->trash, sizes, saferm_warn_cb, NULL, l, &err) < 0)
		return msg_err(&err);
	return 0;
}

static json_t *entry_json(const struct trash_entry *e)
{
	json_t *o = json_object();
	char id[ID_LEN + 1], when[40];

	entry_id(e, id);
	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "path",
			    e->path ? json_string(e->path) : json_null());
	json_object_set_new(o, "deleted",
			    e->deleted >= 0
				    ? json_string(local_time(e->deleted, when,
							     sizeof(when)))
				    : json_null());
	json_object_set_new(o, "deleted_epoch",
			    e->deleted >= 0 ? json_integer(e->deleted)
					    : json_null());
	json_object_set_new(o, "size",
			    e->size == TRASH_SIZE_UNKNOWN
				    ? json_null()
				    : json_integer((json_int_t)e->size));
	json_object_set_new(o, "type",
			    json_string(e->is_dir ? "directory" : "file"));
	json_object_set_new(o, "state", json_string(state_name(e->state)));
	json_object_set_new(o, "trash", json_string(e->trash->dir));
	json_object_set_new(o, "name", json_string(e->name));
	return o;
}

/* A path as the list shows it: as is, with a '/' after a directory, and
 * quoted only when it holds a control character (a newline in a name must
 * not fake a line of the list). */
static const char *list_path(const char *path, bool dir, char *buf, size_t n)
{
	char tmp[PATH_MAX + 2];
	bool plain = true;

	snprintf(tmp, sizeof(tmp), "%s%s", path, dir ? "/" : "");
	for (const unsigned char *p = (const unsigned char *)tmp; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			plain = false;
	if (plain) {
		snprintf(buf, n, "%s", tmp);
		return buf;
	}
	return saferm_quote(tmp, buf, n);
}

int run_list(struct saferm *s)
{
	struct trash_list l = {0};
	uint64_t total = 0;
	int rc = load(s, true, &l);

	if (rc)
		return rc;
	if (s->o.json) {
		json_t *doc = json_object(), *items = json_array();

		for (size_t i = 0; i < l.n; i++)
			json_array_append_new(items, entry_json(&l.v[i]));
		json_object_set_new(doc, "version", json_integer(1));
		json_object_set_new(doc, "items", items);
		json_dumpf(doc, stdout, JSON_INDENT(2));
		printf("\n");
		json_decref(doc);
		trash_list_release(&l);
		return SD_EXIT_OK;
	}
	if (l.n)
		printf("%-8s  %-19s  %8s  %s\n", "ID", "DELETED", "SIZE",
		       "PATH");
	for (size_t i = 0; i < l.n; i++) {
		const struct trash_entry *e = &l.v[i];
		char id[ID_LEN + 1], when[40], size[32], qp[PATH_MAX * 2];

		entry_id(e, id);
		if (e->size == TRASH_SIZE_UNKNOWN)
			snprintf(size, sizeof(size), "?");
		else
			units_format_size(e->size, size, sizeof(size));
		if (e->size != TRASH_SIZE_UNKNOWN)
			total += e->size;
		if (e->state == TRASH_ENTRY_OK)
			printf("%-8s  %-19s  %8s  %s\n", id,
			       local_time(e->deleted, when, sizeof(when)), size,
			       list_path(e->path, e->is_dir, qp, sizeof(qp)));
		else
			printf("%-8s  %-19s  %8s  (orphan: %s) %s/%s/%s%s\n",
			       id, local_time(e->deleted, when, sizeof(when)),
			       size,
			       e->state == TRASH_ENTRY_NO_FILE ? "info without "
								 "its file"
							       : "file without "
								 "its info",
			       e->trash->dir,
			       e->state == TRASH_ENTRY_NO_FILE ? "info"
							       : "files",
			       e->name,
			       e->state == TRASH_ENTRY_NO_FILE
				       ? TRASHINFO_SUFFIX
				       : "");
	}
	{
		char size[32];

		units_format_size(total, size, sizeof(size));
		printf("%zu item%s, %s\n", l.n, l.n == 1 ? "" : "s", size);
	}
	trash_list_release(&l);
	return SD_EXIT_OK;
}

static bool matches(const struct trash_entry *e, const char *pat)
{
	char id[ID_LEN + 1];
	const char *base;

	entry_id(e, id);
	if (!strcasecmp(id, pat))
		return true;
	if (e->state != TRASH_ENTRY_OK || !e->path)
		return false;
	if (strchr(pat, '/'))
		return !strcmp(e->path, pat) || fnmatch(pat, e->path, 0) == 0;
	base = strrchr(e->path, '/');
	base = base ? base + 1 : e->path;
	return fnmatch(pat, base, 0) == 0;
}

/* When an entry arrived: DeletionDate has seconds only, so ties go to the
 * files/ entry's ctime, which the rename into the trash set. */
static bool newer(const struct trash_entry *a, const struct trash_entry *b)
{
	struct stat sa, sb;

	if (a->deleted != b->deleted)
		return a->deleted > b->deleted;
	if (fstatat(a->trash->files_fd, a->name, &sa, AT_SYMLINK_NOFOLLOW) ||
	    fstatat(b->trash->files_fd, b->name, &sb, AT_SYMLINK_NOFOLLOW))
		return false;
	if (sa.st_ctim.tv_sec != sb.st_ctim.tv_sec)
		return sa.st_ctim.tv_sec > sb.st_ctim.tv_sec;
	return sa.st_ctim.tv_nsec > sb.st_ctim.tv_nsec;
}

int run_restore(struct saferm *s)
{
	struct trash_list l = {0};
	struct progress p;
	size_t matched = 0, done = 0, older = 0;
	bool *skip;
	int rc = load(s, false, &l);

	if (rc)
		return rc;
	progress_start(&p, STDERR_FILENO, "restoring", 0);
	/* When a path was trashed several times, the latest copy is the one
	 * put back (unless an ID names another): decided before anything
	 * moves. */
	skip = calloc(l.n + 1, sizeof(*skip));
	if (!skip) {
		trash_list_release(&l);
		return SD_EXIT_CANNOT;
	}
	for (size_t i = 0; i < l.n; i++) {
		char id[ID_LEN + 1];

		skip[i] = !matches(&l.v[i], s->o.restore);
		entry_id(&l.v[i], id);
		if (skip[i] || !strcasecmp(id, s->o.restore))
			continue;
		for (size_t k = 0; k < l.n && !skip[i]; k++)
			if (k != i && matches(&l.v[k], s->o.restore) &&
			    l.v[k].path && l.v[i].path &&
			    !strcmp(l.v[k].path, l.v[i].path) &&
			    newer(&l.v[k], &l.v[i])) {
				skip[i] = true;
				older++;
			}
	}
	for (size_t i = 0; i < l.n; i++) {
		const struct trash_entry *e = &l.v[i];
		struct sd_err err = {0};
		char dest[PATH_MAX], qa[PATH_MAX * 2], id[ID_LEN + 1];

		if (skip[i])
			continue;
		entry_id(e, id);
		matched++;
		if (e->state != TRASH_ENTRY_OK) {
			msg_error("cannot restore %s: it is an orphan (%s)", id,
				  state_name(e->state));
			rc = SD_EXIT_FAIL;
			continue;
		}
		if (trash_restore(e, s->o.to, dest, sizeof(dest), &err) < 0) {
			msg_error("%s", err.msg);
			rc = SD_EXIT_FAIL;
			continue;
		}
		done++;
		progress_update(&p, done);
		printf("restored %s\n", saferm_quote(dest, qa, sizeof(qa)));
	}
	progress_finish(&p);
	if (!matched) {
		char qa[PATH_MAX * 2];

		msg_error("no trashed item matches %s (see --list)",
			  saferm_quote(s->o.restore, qa, sizeof(qa)));
		rc = SD_EXIT_FAIL;
	}
	if (older)
		fprintf(stderr,
			"%s: %zu older cop%s of the same path%s stay%s in the "
			"trash (restore %s by ID; see --list)\n",
			msg_prog(), older, older == 1 ? "y" : "ies",
			older == 1 ? "" : "s", older == 1 ? "s" : "",
			older == 1 ? "it" : "them");
	free(skip);
	trash_list_release(&l);
	return rc;
}

struct purge_item {
	const struct trash_entry *e;
	struct stat st;
	bool has_file;
	bool counted; /* false: past the threshold before its turn */
	struct rmtree_count c;
};

/* When the info file does not say, the time the entry arrived: a rename
 * updates the ctime. */
static int64_t entry_time(const struct purge_item *it)
{
	struct stat st;

	if (it->e->deleted >= 0)
		return it->e->deleted;
	if (it->has_file)
		return it->st.st_ctim.tv_sec;
	if (it->e->trash->info_fd >= 0) {
		char info[NAME_MAX + 16];

		snprintf(info, sizeof(info), "%s" TRASHINFO_SUFFIX,
			 it->e->name);
		if (fstatat(it->e->trash->info_fd, info, &st,
			    AT_SYMLINK_NOFOLLOW) == 0)
			return st.st_ctim.tv_sec;
	}
	return 0;
}

static json_t *purge_plan(struct saferm *s, struct purge_item *v, size_t n,
			  uint64_t files, uint64_t bytes, bool at_least)
{
	json_t *plan = json_object(), *items = json_array(), *tot;
	struct utsname u;

	json_object_set_new(plan, "tool", json_string("saferm"));
	json_object_set_new(plan, "mode", json_string("purge"));
	json_object_set_new(plan, "uid", json_integer((json_int_t)getuid()));
	json_object_set_new(plan, "host",
			    json_string(uname(&u) == 0 ? u.nodename : ""));
	json_object_set_new(plan, "older_than_ms",
			    json_integer(s->o.older ? s->o.older_ms : 0));
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();

		json_object_set_new(o, "trash",
				    json_string(v[i].e->trash->dir));
		json_object_set_new(o, "name", json_string(v[i].e->name));
		json_object_set_new(o, "path",
				    v[i].e->path ? json_string(v[i].e->path)
						 : json_null());
		json_object_set_new(o, "dev",
				    json_integer((json_int_t)v[i].st.st_dev));
		json_object_set_new(o, "ino",
				    json_integer((json_int_t)v[i].st.st_ino));
		json_object_set_new(
			o, "files",
			json_integer((json_int_t)(v[i].c.files + v[i].c.dirs)));
		json_object_set_new(o, "bytes",
				    json_integer((json_int_t)v[i].c.bytes));
		json_array_append_new(items, o);
	}
	json_object_set_new(plan, "items", items);
	tot = json_object();
	json_object_set_new(tot, "files", json_integer((json_int_t)files));
	json_object_set_new(tot, "bytes", json_integer((json_int_t)bytes));
	json_object_set_new(tot, "at_least", json_boolean(at_least));
	json_object_set_new(plan, "totals", tot);
	return plan;
}

struct purge_cb {
	bool failed;
	struct progress *p;
	uint64_t done, before; /* entries removed; counted before this item */
};

static void purge_removed(void *ctx, const char *path, bool is_dir)
{
	struct purge_cb *cb = ctx;

	(void)path;
	(void)is_dir;
	progress_update(cb->p, ++cb->done);
}

static void purge_counted(void *ctx, const struct rmtree_count *c)
{
	struct purge_cb *cb = ctx;

	progress_update(cb->p, cb->before + c->files + c->dirs);
}

static void purge_failed(void *ctx, const char *path, int errnum,
			 const char *what)
{
	struct purge_cb *cb = ctx;
	char qa[PATH_MAX * 2];

	cb->failed = true;
	progress_finish(cb->p); /* the message on a line of its own */
	if (errnum)
		msg_error("cannot purge %s: %s",
			  saferm_quote(path, qa, sizeof(qa)), strerror(errnum));
	else
		msg_error("cannot purge %s: %s",
			  saferm_quote(path, qa, sizeof(qa)),
			  what ? what : "skipped");
}

static int purge_one(const struct purge_item *it, struct purge_cb *pcb)
{
	const struct trash_entry *e = it->e;
	struct purge_cb *cb = pcb;
	struct rmtree_ops ops = {
		.one_file_system = true,
		.ctx = cb,
		.removed = purge_removed,
		.failed = purge_failed,
	};
	char display[PATH_MAX], info[NAME_MAX + 16];
	struct sd_err err = {0};

	snprintf(display, sizeof(display), "%s/files/%s", e->trash->dir,
		 e->name);
	cb->failed = false;
	if (it->has_file &&
	    rmtree_remove(e->trash->files_fd, e->name, display, &ops) < 0)
		return -1;
	snprintf(info, sizeof(info), "%s" TRASHINFO_SUFFIX, e->name);
	if (unlinkat(e->trash->info_fd, info, 0) < 0 && errno != ENOENT) {
		char qa[PATH_MAX * 2];

		msg_error("cannot purge %s: %s",
			  saferm_quote(info, qa, sizeof(qa)), strerror(errno));
		return -1;
	}
	if (it->has_file && S_ISDIR(it->st.st_mode))
		trash_forget_size(e->trash, e->name, &err);
	return 0;
}

int run_purge(struct saferm *s)
{
	struct trash_list l = {0};
	struct purge_item *v;
	uint64_t files = 0, bytes = 0;
	bool at_least = false, over = false;
	struct progress p;
	struct purge_cb cb = {.p = &p};
	size_t n = 0;
	int64_t cutoff = 0;
	json_t *plan = NULL;
	char size[32];
	int rc = load(s, false, &l);

	if (rc)
		return rc;
	v = calloc(l.n + 1, sizeof(*v));
	if (!v) {
		trash_list_release(&l);
		return SD_EXIT_CANNOT;
	}
	if (s->o.older)
		cutoff = (int64_t)time(NULL) - s->o.older_ms / 1000;
	progress_start(&p, STDERR_FILENO, "counting", 0);
	for (size_t i = 0; i < l.n; i++) {
		struct purge_item *it = &v[n];
		struct sd_err err = {0};
		struct rmtree_ops ops = {
			.one_file_system = true,
			.ctx = &cb,
			.counted = purge_counted,
		};
		uint64_t mf = s->o.max_files, mb = s->o.max_bytes;

		it->e = &l.v[i];
		it->has_file = it->e->state != TRASH_ENTRY_NO_FILE &&
			       it->e->trash->files_fd >= 0 &&
			       fstatat(it->e->trash->files_fd, it->e->name,
				       &it->st, AT_SYMLINK_NOFOLLOW) == 0;
		if (s->o.older && entry_time(it) > cutoff)
			continue;
		n++;
		if (!it->has_file)
			continue;
		/* Whether the threshold is passed is all that is needed:
		 * each item is counted up to what is left of it, and once
		 * past it the rest are not counted ("at least"). */
		if (over) {
			it->c.over = at_least = true;
			continue;
		}
		mf = mf > files ? mf - files : 1;
		mb = mb > bytes ? mb - bytes : 1;
		cb.before = files;
		it->counted = true;
		if (rmtree_count_ops(it->e->trash->files_fd, it->e->name, mf,
				     mb, &ops, &it->c, &err) < 0)
			it->c.unreadable = true;
		files += it->c.files + it->c.dirs;
		bytes += it->c.bytes;
		at_least |= it->c.over || it->c.unreadable;
		over = it->c.over || files > s->o.max_files ||
		       bytes > s->o.max_bytes;
	}
	progress_finish(&p);
	units_format_size(bytes, size, sizeof(size));
	if (n)
		plan = purge_plan(s, v, n, files, bytes, at_least);
	if (s->o.dry_run) {
		json_t *doc = json_object(), *items = json_array();

		for (size_t i = 0; i < n; i++) {
			json_t *o = entry_json(v[i].e);

			bool uncounted = v[i].has_file && !v[i].counted;

			json_object_set_new(
				o, "files",
				uncounted ? json_null()
					  : json_integer(
						    (json_int_t)(v[i].c.files +
								 v[i].c.dirs)));
			json_object_set_new(
				o, "bytes",
				uncounted ? json_null()
					  : json_integer(
						    (json_int_t)v[i].c.bytes));
			json_array_append_new(items, o);
			if (!s->o.json) {
				char when[40], sz[32], qp[PATH_MAX * 2];

				/* Past the threshold, the rest is not
				 * counted: "?" rather than a size. */
				if (uncounted)
					snprintf(sz, sizeof(sz), "?");
				else
					units_format_size(v[i].c.bytes, sz,
							  sizeof(sz));
				printf("purge  %s  %8s  %s\n",
				       local_time(entry_time(&v[i]), when,
						  sizeof(when)),
				       sz,
				       v[i].e->path
					       ? saferm_quote(v[i].e->path, qp,
							      sizeof(qp))
					       : v[i].e->name);
			}
		}
		if (!s->o.json)
			printf("would purge %zu item%s: %s%llu files, %s\n", n,
			       n == 1 ? "" : "s", at_least ? "at least " : "",
			       (unsigned long long)files, size);
		if (over &&
		    saferm_print_rerun(s, plan, s->o.json ? doc : NULL) != 0)
			rc = SD_EXIT_CANNOT;
		if (s->o.json) {
			json_object_set_new(doc, "version", json_integer(1));
			json_object_set_new(doc, "items", items);
			json_object_set_new(doc, "files",
					    json_integer((json_int_t)files));
			json_object_set_new(doc, "bytes",
					    json_integer((json_int_t)bytes));
			json_object_set_new(doc, "confirmation_required",
					    json_boolean(over));
			json_dumpf(doc, stdout, JSON_INDENT(2));
			printf("\n");
		} else {
			json_decref(items);
			items = NULL;
		}
		json_decref(doc);
		goto out;
	}
	if (!n) {
		printf("nothing to purge\n");
		goto out;
	}
	if (over) {
		char text[512];

		snprintf(text, sizeof(text),
			 "saferm: would permanently delete %zu trashed item%s "
			 "(%s%llu files, %s); this cannot be undone",
			 n, n == 1 ? "" : "s", at_least ? "at least " : "",
			 (unsigned long long)files, size);
		rc = saferm_confirm(s, plan, text, false);
		if (rc)
			goto out;
	}
	{
		size_t done = 0;

		/* By entries removed: one item can be most of the work. */
		progress_start(&p, STDERR_FILENO, "purging",
			       at_least ? 0 : files);
		cb.done = 0;
		for (size_t i = 0; i < n; i++) {
			if (purge_one(&v[i], &cb) < 0)
				rc = SD_EXIT_FAIL;
			else
				done++;
		}
		progress_finish(&p);
		printf("purged %zu item%s, freed %s%s\n", done,
		       done == 1 ? "" : "s", at_least ? "at least " : "", size);
	}
out:
	json_decref(plan);
	free(v);
	trash_list_release(&l);
	return rc;
}
