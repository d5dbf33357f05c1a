/* The flags of one version of the tree: see flags.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flags.h"
#include "fsutil.h"

void flagstate_init(struct flag_state *st)
{
	memset(st, 0, sizeof(*st));
	st->index = json_object();
	st->warnings = json_array();
}

void flagstate_release(struct flag_state *st)
{
	for (size_t i = 0; i < st->n; i++) {
		free(st->v[i].key);
		free(st->v[i].name);
		for (int k = 0; k < 2; k++)
			for (unsigned j = 0; j < st->v[i].nloc[k]; j++)
				free(st->v[i].loc[k][j].path);
	}
	free(st->v);
	json_decref(st->index);
	json_decref(st->warnings);
	memset(st, 0, sizeof(*st));
}

int flags_reserve(void *pv, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 16;
	void *old, *grown;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	/* pv points to a pointer of some object type: copied, not
	 * accessed as a void *, so that no alias rule is broken. */
	memcpy(&old, pv, sizeof(old));
	grown = realloc(old, n * size);
	if (!grown)
		return -1;
	memcpy(pv, &grown, sizeof(grown));
	*cap = n;
	return 0;
}

struct flag_stat *flagstate_get(const struct flag_state *st, const char *key)
{
	json_t *i = json_object_get(st->index, key);

	return i ? &st->v[json_integer_value(i)] : NULL;
}

static struct flag_stat *intern(struct flag_state *st, const char *key,
				const char *name, size_t nlen)
{
	struct flag_stat *s = flagstate_get(st, key);

	if (s)
		return s;
	if (flags_reserve(&st->v, &st->cap, st->n + 1, sizeof(*st->v)) < 0)
		return NULL;
	s = &st->v[st->n];
	memset(s, 0, sizeof(*s));
	s->key = strdup(key);
	s->name = strndup(name, nlen);
	if (!s->key || !s->name ||
	    json_object_set_new_nocheck(st->index, key,
					json_integer((json_int_t)st->n)) < 0) {
		free(s->key);
		free(s->name);
		return NULL;
	}
	st->n++;
	return s;
}

struct flag_stat *flagstate_add(struct flag_state *st, const char *key,
				const char *name)
{
	return intern(st, key, name, strlen(name));
}

/* One file being scanned: its path, text, and a cursor so that line and
 * column are found without rescanning from the start for every hit. */
struct file_scan {
	struct flag_state *st;
	const struct flagspec *fs;
	const char *path, *text;
	size_t cur_off, cur_bol;
	unsigned cur_line;
	bool oom;
};

static void locate(struct file_scan *f, size_t off, unsigned *line,
		   unsigned *col)
{
	if (off < f->cur_off) {
		f->cur_off = f->cur_bol = 0;
		f->cur_line = 1;
	}
	for (size_t i = f->cur_off; i < off; i++)
		if (f->text[i] == '\n') {
			f->cur_line++;
			f->cur_bol = i + 1;
		}
	f->cur_off = off;
	*line = f->cur_line;
	*col = (unsigned)(off - f->cur_bol) + 1;
}

static int on_hit(void *ud, const struct flag_source *src, const char *name,
		  size_t len, size_t off)
{
	struct file_scan *f = ud;
	char key[512];
	struct flag_stat *s;
	struct flag_loc *l;
	int k = src->kind;

	if (!flagspec_key(f->fs, name, len, key, sizeof(key)))
		return 0;
	s = intern(f->st, key, name, len);
	if (!s) {
		f->oom = true;
		return 1;
	}
	if (k == FLAG_DEF && !s->name_from_def) {
		char *n = strndup(name, len);

		if (n) {
			free(s->name);
			s->name = n;
			s->name_from_def = true;
		}
	}
	s->count[k]++;
	if (s->nloc[k] < FLAG_MAX_LOCS) {
		l = &s->loc[k][s->nloc[k]];
		l->path = strdup(f->path);
		if (!l->path) {
			f->oom = true;
			return 1;
		}
		locate(f, off, &l->line, &l->col);
		s->nloc[k]++;
	}
	return 0;
}

static void warnf(struct flag_state *st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void warnf(struct flag_state *st, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (json_array_size(st->warnings) < 100)
		json_array_append_new(st->warnings, json_string(buf));
}

int flagstate_scan_text(struct flag_state *st, const struct flagspec *fs,
			uint32_t mask, const char *path, const char *text,
			size_t len, struct sd_err *err)
{
	struct file_scan f = {st, fs, path, text, 0, 0, 1, false};
	struct flagscan sc;

	if (flagspec_is_binary(text, len)) {
		st->skipped_binary++;
		return 0;
	}
	if (flagscan_init(&sc, fs) < 0)
		return err_set(err, SD_EXIT_CANNOT, "out of memory");
	sc.warnings = st->warnings;
	flagscan_text(&sc, mask, path, text, len, on_hit, &f);
	flagscan_release(&sc);
	st->files++;
	st->bytes += len;
	if (f.oom)
		return err_set(err, SD_EXIT_CANNOT, "out of memory");
	return 0;
}

static int too_large(struct flag_state *st, const struct flagspec *fs,
		     const char *path, uint64_t size)
{
	if (size <= fs->max_file_size)
		return 0;
	st->skipped_large++;
	warnf(st, "%s: skipped, %llu bytes is over the %llu-byte limit", path,
	      (unsigned long long)size, (unsigned long long)fs->max_file_size);
	return 1;
}

int flagstate_scan_blob(git_repository *repo, const git_oid *oid,
			const struct flagspec *fs, struct flag_state *st,
			uint32_t mask, const char *path, struct sd_err *err)
{
	git_odb *odb = NULL;
	git_object_t type;
	size_t size = 0;
	git_blob *blob = NULL;
	int rc;

	if (git_repository_odb(&odb, repo) == 0 &&
	    git_odb_read_header(&size, &type, odb, oid) == 0 &&
	    too_large(st, fs, path, size)) {
		git_odb_free(odb);
		return 0;
	}
	git_odb_free(odb);
	if (git_blob_lookup(&blob, repo, oid) < 0) {
		warnf(st, "%s: cannot read blob %s", path,
		      git_oid_tostr_s(oid));
		return 0;
	}
	rc = flagstate_scan_text(st, fs, mask, path, git_blob_rawcontent(blob),
				 (size_t)git_blob_rawsize(blob), err);
	git_blob_free(blob);
	return rc;
}

struct tree_walk {
	git_repository *repo;
	const struct flagspec *fs;
	struct flag_state *st;
	struct sd_err *err;
	int rc;
};

static int tree_cb(const char *root, const git_tree_entry *e, void *ud)
{
	struct tree_walk *w = ud;
	char path[4096];
	uint32_t mask;

	snprintf(path, sizeof(path), "%s%s", root, git_tree_entry_name(e));
	switch (git_tree_entry_type(e)) {
	case GIT_OBJECT_TREE:
		return flagspec_skip_dir(w->fs, path) ? 1 : 0;
	case GIT_OBJECT_BLOB:
		if (git_tree_entry_filemode(e) == GIT_FILEMODE_LINK)
			return 0;
		mask = flagspec_classify(w->fs, path);
		if (mask &&
		    flagstate_scan_blob(w->repo, git_tree_entry_id(e), w->fs,
					w->st, mask, path, w->err) < 0) {
			w->rc = -1;
			return -1;
		}
		return 0;
	default: /* submodules */
		return 0;
	}
}

int flagstate_scan_tree(git_repository *repo, git_tree *tree,
			const struct flagspec *fs, struct flag_state *st,
			struct sd_err *err)
{
	struct tree_walk w = {repo, fs, st, err, 0};

	if (git_tree_walk(tree, GIT_TREEWALK_PRE, tree_cb, &w) < 0 && !w.rc)
		return err_set(err, SD_EXIT_CANNOT, "cannot walk the tree: %s",
			       git_error_last() ? git_error_last()->message
						: "unknown error");
	return w.rc;
}

/* A file of the working tree, read from disk. A file that vanished or
 * cannot be read is a warning, not a failure. */
static int scan_file(const char *workdir, const char *rel,
		     const struct flagspec *fs, struct flag_state *st,
		     struct sd_err *err)
{
	char path[4096];
	uint32_t mask = flagspec_classify(fs, rel);
	struct stat sb;
	struct sd_err rerr = {0};
	char *buf;
	size_t len = 0;
	int fd, rc;

	if (!mask)
		return 0;
	snprintf(path, sizeof(path), "%s%s", workdir, rel);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno != ENOENT && errno != ELOOP)
			warnf(st, "%s: cannot read: %s", rel, strerror(errno));
		return 0;
	}
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) ||
	    too_large(st, fs, rel, (uint64_t)sb.st_size)) {
		close(fd);
		return 0;
	}
	if (fs_read_fd(fd, rel, fs->max_file_size, &buf, &len, &rerr) < 0) {
		close(fd);
		warnf(st, "%s", rerr.msg);
		return 0;
	}
	close(fd);
	rc = flagstate_scan_text(st, fs, mask, rel, buf, len, err);
	free(buf);
	return rc;
}

int flagstate_scan_workdir(git_repository *repo, const struct flagspec *fs,
			   struct flag_state *st, struct sd_err *err)
{
	const char *workdir = git_repository_workdir(repo);
	git_status_options so = GIT_STATUS_OPTIONS_INIT;
	git_status_list *list = NULL;
	git_index *index = NULL;
	size_t n;

	if (!workdir)
		return err_set(err, SD_EXIT_CANNOT,
			       "the repository has no working tree (bare); "
			       "use --rev");
	if (git_repository_index(&index, repo) < 0)
		return err_set(err, SD_EXIT_CANNOT, "cannot read the index: %s",
			       git_error_last()->message);
	n = git_index_entrycount(index);
	for (size_t i = 0; i < n; i++) {
		const git_index_entry *e = git_index_get_byindex(index, i);
		const git_index_entry *prev =
			i ? git_index_get_byindex(index, i - 1) : NULL;

		/* A conflicted path has up to three entries: read the file
		 * once. */
		if (!e ||
		    (e->mode != GIT_FILEMODE_BLOB &&
		     e->mode != GIT_FILEMODE_BLOB_EXECUTABLE) ||
		    (prev && !strcmp(prev->path, e->path)))
			continue;
		if (scan_file(workdir, e->path, fs, st, err) < 0) {
			git_index_free(index);
			return -1;
		}
	}
	git_index_free(index);
	so.show = GIT_STATUS_SHOW_WORKDIR_ONLY;
	so.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED |
		   GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS |
		   GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
	if (git_status_list_new(&list, repo, &so) < 0)
		return err_set(err, SD_EXIT_CANNOT,
			       "cannot list untracked files: %s",
			       git_error_last()->message);
	n = git_status_list_entrycount(list);
	for (size_t i = 0; i < n; i++) {
		const git_status_entry *e = git_status_byindex(list, i);

		if (!(e->status & GIT_STATUS_WT_NEW) || !e->index_to_workdir)
			continue;
		if (scan_file(workdir, e->index_to_workdir->new_file.path, fs,
			      st, err) < 0) {
			git_status_list_free(list);
			return -1;
		}
	}
	git_status_list_free(list);
	return 0;
}
