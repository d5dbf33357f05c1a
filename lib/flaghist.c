/* Per-flag timelines over first-parent history: see flags.h.
 *
 * For each commit, oldest first, the tree is compared with its first
 * parent's by a recursion that skips entries whose ids are equal (whole
 * unchanged subtrees cost one comparison), and that never enters a
 * directory no source can match or an excluded one. Each changed blob's
 * tokens are counted once per (blob id, sources) and remembered, so a
 * version is read once even though it is the "new" side of one commit and
 * the "old" side of a later one. The counts are summed over the whole
 * commit before any decision, so a flag moved from one file to another in
 * one commit has no event. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flags.h"
#include "fsutil.h"

#define CACHE_VERSION 1

void flaghist_init(struct flag_history *h)
{
	memset(h, 0, sizeof(*h));
	h->index = json_object();
	h->cindex = json_object();
	h->warnings = json_array();
}

void flaghist_release(struct flag_history *h)
{
	for (size_t i = 0; i < h->nfl; i++) {
		for (size_t j = 0; j < h->fl[i].nev; j++)
			free(h->fl[i].ev[j].path);
		free(h->fl[i].ev);
		free(h->fl[i].key);
		free(h->fl[i].name);
	}
	free(h->fl);
	for (size_t i = 0; i < h->ncommits; i++) {
		free(h->commits[i].author);
		free(h->commits[i].subject);
	}
	free(h->commits);
	json_decref(h->index);
	json_decref(h->cindex);
	json_decref(h->warnings);
	memset(h, 0, sizeof(*h));
}

const struct flag_timeline *flaghist_get(const struct flag_history *h,
					 const char *key)
{
	json_t *i = json_object_get(h->index, key);

	return i ? &h->fl[json_integer_value(i)] : NULL;
}

static void hwarn(struct flag_history *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void hwarn(struct flag_history *h, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (json_array_size(h->warnings) < 100)
		json_array_append_new(h->warnings, json_string(buf));
}

static long timeline_intern(struct flag_history *h, const char *key,
			    const char *name)
{
	json_t *i = json_object_get(h->index, key);
	struct flag_timeline *t;

	if (i)
		return (long)json_integer_value(i);
	if (flags_reserve(&h->fl, &h->flcap, h->nfl + 1, sizeof(*h->fl)) < 0)
		return -1;
	t = &h->fl[h->nfl];
	memset(t, 0, sizeof(*t));
	t->key = strdup(key);
	t->name = strdup(name);
	if (!t->key || !t->name ||
	    json_object_set_new_nocheck(h->index, key,
					json_integer((json_int_t)h->nfl)) < 0) {
		free(t->key);
		free(t->name);
		return -1;
	}
	return (long)h->nfl++;
}

static long commit_intern(struct flag_history *h, const char *id, int64_t time,
			  const char *author, const char *subject)
{
	json_t *i = json_object_get(h->cindex, id);
	struct flag_commit *c;

	if (i)
		return (long)json_integer_value(i);
	if (flags_reserve(&h->commits, &h->ccap, h->ncommits + 1,
			  sizeof(*h->commits)) < 0)
		return -1;
	c = &h->commits[h->ncommits];
	snprintf(c->id, sizeof(c->id), "%s", id);
	c->time = time;
	c->author = strdup(author ? author : "");
	c->subject = strdup(subject ? subject : "");
	if (!c->author || !c->subject ||
	    json_object_set_new(h->cindex, id,
				json_integer((json_int_t)h->ncommits)) < 0)
		return -1;
	return (long)h->ncommits++;
}

static int add_event(struct flag_timeline *t, int kind, int type,
		     uint32_t commit, const char *path)
{
	struct flag_event *e;

	if (flags_reserve(&t->ev, &t->cap, t->nev + 1, sizeof(*t->ev)) < 0)
		return -1;
	e = &t->ev[t->nev++];
	e->kind = (uint8_t)kind;
	e->type = (uint8_t)type;
	e->commit = commit;
	e->path = path ? strdup(path) : NULL;
	return 0;
}

/* The memo: (blob id, source mask) -> the tokens counted in it, as pairs
 * (timeline, kind << 31 | count) in one growing array. */
struct memo_ent {
	git_oid oid;
	uint32_t mask;
	uint32_t n;
	size_t off;
	bool used;
};

struct memo {
	struct memo_ent *t;
	size_t cap, used;
	uint32_t *vals;
	size_t nvals, vcap;
};

static size_t memo_hash(const git_oid *oid, uint32_t mask)
{
	size_t h;

	memcpy(&h, oid->id, sizeof(h));
	return h ^ (mask * 0x9e3779b97f4a7c15ULL);
}

static struct memo_ent *memo_find(struct memo *m, const git_oid *oid,
				  uint32_t mask, bool *found)
{
	size_t i;

	if (m->used * 2 >= m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 4096;
		struct memo_ent *t = calloc(cap, sizeof(*t));

		if (!t)
			return NULL;
		for (size_t j = 0; j < m->cap; j++) {
			if (!m->t[j].used)
				continue;
			i = memo_hash(&m->t[j].oid, m->t[j].mask) & (cap - 1);
			while (t[i].used)
				i = (i + 1) & (cap - 1);
			t[i] = m->t[j];
		}
		free(m->t);
		m->t = t;
		m->cap = cap;
	}
	i = memo_hash(oid, mask) & (m->cap - 1);
	while (m->t[i].used) {
		if (m->t[i].mask == mask && git_oid_equal(&m->t[i].oid, oid)) {
			*found = true;
			return &m->t[i];
		}
		i = (i + 1) & (m->cap - 1);
	}
	*found = false;
	return &m->t[i];
}

/* The work of one update. */
struct touch {
	uint32_t fl;
	int64_t delta[2];
	const char *pos[2], *neg[2]; /* a path that added / removed tokens */
};

struct hctx {
	git_repository *repo;
	git_odb *odb;
	const struct flagspec *fs;
	struct flag_history *h;
	struct flagscan sc;
	struct memo memo;
	/* per blob being counted */
	uint32_t *blob_mark, *blob_pos; /* by timeline, sized markcap */
	uint32_t blob_serial;
	size_t markcap;
	uint32_t *tmp; /* pairs for the blob being counted */
	size_t ntmp, tmpcap;
	/* per commit */
	struct touch *touch;
	size_t ntouch, touchcap;
	int32_t *touch_idx; /* by timeline, -1 when untouched; markcap */
	char **paths;	    /* this commit's changed paths */
	size_t npaths, pathcap;
	bool oom;
	struct sd_err *err;
};

static int grow_marks(struct hctx *c, size_t need)
{
	size_t cap = c->markcap ? c->markcap : 256;

	if (need <= c->markcap)
		return 0;
	while (cap < need)
		cap *= 2;
	uint32_t *bm = realloc(c->blob_mark, cap * sizeof(*bm));
	if (bm)
		c->blob_mark = bm;
	uint32_t *bp = realloc(c->blob_pos, cap * sizeof(*bp));
	if (bp)
		c->blob_pos = bp;
	int32_t *ti = realloc(c->touch_idx, cap * sizeof(*ti));
	if (ti)
		c->touch_idx = ti;
	if (!bm || !bp || !ti)
		return -1;
	for (size_t i = c->markcap; i < cap; i++) {
		c->blob_mark[i] = 0;
		c->touch_idx[i] = -1;
	}
	c->markcap = cap;
	return 0;
}

static int count_hit(void *ud, const struct flag_source *src, const char *name,
		     size_t len, size_t off)
{
	struct hctx *c = ud;
	char key[512];
	long id;
	uint32_t *p;

	(void)off;
	if (!flagspec_key(c->fs, name, len, key, sizeof(key)))
		return 0;
	{
		json_t *i = json_object_get(c->h->index, key);

		if (i) {
			id = (long)json_integer_value(i);
			if (src->kind == FLAG_DEF &&
			    !c->h->fl[id].count[FLAG_DEF]) {
				/* The definition's spelling names it. */
				char *n = strndup(name, len);

				if (n) {
					free(c->h->fl[id].name);
					c->h->fl[id].name = n;
				}
			}
		} else {
			char *n = strndup(name, len);

			id = n ? timeline_intern(c->h, key, n) : -1;
			free(n);
		}
	}
	if (id < 0 || grow_marks(c, (size_t)id + 1) < 0) {
		c->oom = true;
		return 1;
	}
	if (c->blob_mark[id] != c->blob_serial) {
		/* Two pairs, (id, def count) and (id, ref count): a
		 * flag can be both defined and referenced in one file. */
		if (flags_reserve(&c->tmp, &c->tmpcap, c->ntmp + 4,
				  sizeof(*c->tmp)) < 0) {
			c->oom = true;
			return 1;
		}
		c->blob_mark[id] = c->blob_serial;
		c->blob_pos[id] = (uint32_t)c->ntmp;
		c->tmp[c->ntmp++] = (uint32_t)id;
		c->tmp[c->ntmp++] = 0;
		c->tmp[c->ntmp++] = (uint32_t)id;
		c->tmp[c->ntmp++] = 1u << 31;
	}
	p = &c->tmp[c->blob_pos[id] + (src->kind == FLAG_REF ? 2 : 0) + 1];
	if ((*p & 0x7fffffffu) < 0x7fffffffu)
		(*p)++;
	return 0;
}

/* The counts of a blob for the sources in mask: from the memo, or read. */
static struct memo_ent *blob_counts(struct hctx *c, const git_oid *oid,
				    uint32_t mask, const char *path)
{
	bool found;
	struct memo_ent *e = memo_find(&c->memo, oid, mask, &found);
	git_blob *blob = NULL;
	git_object_t type;
	size_t size = 0;

	if (!e) {
		c->oom = true;
		return NULL;
	}
	if (found)
		return e;
	c->ntmp = 0;
	c->blob_serial++;
	if (git_odb_read_header(&size, &type, c->odb, oid) == 0 &&
	    size > c->fs->max_file_size) {
		/* skipped: counts nothing */
	} else if (git_blob_lookup(&blob, c->repo, oid) == 0) {
		const char *text = git_blob_rawcontent(blob);
		size_t len = (size_t)git_blob_rawsize(blob);

		c->h->blobs_read++;
		c->h->bytes_read += len;
		flagscan_text(&c->sc, mask, path, text, len, count_hit, c);
		git_blob_free(blob);
		if (c->oom)
			return NULL;
	} else {
		hwarn(c->h, "%s: cannot read blob %s: %s", path,
		      git_oid_tostr_s(oid),
		      git_error_last() ? git_error_last()->message : "?");
	}
	/* The memo may have been resized by nothing here; find again. */
	e = memo_find(&c->memo, oid, mask, &found);
	if (!e) {
		c->oom = true;
		return NULL;
	}
	e->used = true;
	e->oid = *oid;
	e->mask = mask;
	e->off = c->memo.nvals;
	e->n = 0;
	for (size_t i = 0; i < c->ntmp; i += 2) {
		if (!(c->tmp[i + 1] & 0x7fffffffu))
			continue;
		if (flags_reserve(&c->memo.vals, &c->memo.vcap,
				  c->memo.nvals + 2,
				  sizeof(*c->memo.vals)) < 0) {
			c->oom = true;
			return NULL;
		}
		c->memo.vals[c->memo.nvals++] = c->tmp[i];
		c->memo.vals[c->memo.nvals++] = c->tmp[i + 1];
		e->n++;
	}
	c->memo.used++;
	return e;
}

static struct touch *touch(struct hctx *c, uint32_t fl)
{
	if (grow_marks(c, (size_t)fl + 1) < 0)
		return NULL;
	if (c->touch_idx[fl] < 0) {
		if (flags_reserve(&c->touch, &c->touchcap, c->ntouch + 1,
				  sizeof(*c->touch)) < 0)
			return NULL;
		memset(&c->touch[c->ntouch], 0, sizeof(c->touch[0]));
		c->touch[c->ntouch].fl = fl;
		c->touch_idx[fl] = (int32_t)c->ntouch++;
	}
	return &c->touch[c->touch_idx[fl]];
}

static const char *keep_path(struct hctx *c, const char *path)
{
	if (flags_reserve(&c->paths, &c->pathcap, c->npaths + 1,
			  sizeof(*c->paths)) < 0)
		return NULL;
	return c->paths[c->npaths++] = strdup(path);
}

/* A blob leaves (sign -1) or enters (+1) the tree at path. */
static int apply_blob(struct hctx *c, const git_oid *oid, const char *path,
		      int sign)
{
	uint32_t mask = flagspec_classify(c->fs, path);
	struct memo_ent *e;
	const char *kept = NULL;

	if (!mask)
		return 0;
	e = blob_counts(c, oid, mask, path);
	if (!e)
		return -1;
	for (uint32_t i = 0; i < e->n; i++) {
		uint32_t fl = c->memo.vals[e->off + 2 * i];
		uint32_t v = c->memo.vals[e->off + 2 * i + 1];
		int kind = v >> 31;
		struct touch *t = touch(c, fl);

		if (!t)
			return -1;
		if (!kept && !(kept = keep_path(c, path)))
			return -1;
		t->delta[kind] += sign * (int64_t)(v & 0x7fffffffu);
		if (sign > 0 && !t->pos[kind])
			t->pos[kind] = kept;
		if (sign < 0 && !t->neg[kind])
			t->neg[kind] = kept;
	}
	return 0;
}

static bool is_tree(const git_tree_entry *e)
{
	return e && git_tree_entry_type(e) == GIT_OBJECT_TREE;
}

static bool is_blob(const git_tree_entry *e)
{
	return e && git_tree_entry_type(e) == GIT_OBJECT_BLOB &&
	       git_tree_entry_filemode(e) != GIT_FILEMODE_LINK;
}

static int diff_trees(struct hctx *c, git_tree *old, git_tree *neu, char *path,
		      size_t plen);

static int diff_entry(struct hctx *c, const git_tree_entry *o,
		      const git_tree_entry *n, char *path, size_t plen)
{
	const char *name = git_tree_entry_name(o ? o : n);
	size_t nl = strlen(name);
	int rc = 0;

	if (plen + nl + 2 >= 4096)
		return 0;
	memcpy(path + plen, name, nl + 1);
	if (is_tree(o) || is_tree(n)) {
		if (!flagspec_skip_dir(c->fs, path)) {
			git_tree *ot = NULL, *nt = NULL;

			if (is_tree(o) &&
			    git_tree_lookup(&ot, c->repo,
					    git_tree_entry_id(o)) < 0)
				ot = NULL;
			if (is_tree(n) &&
			    git_tree_lookup(&nt, c->repo,
					    git_tree_entry_id(n)) < 0)
				nt = NULL;
			path[plen + nl] = '/';
			path[plen + nl + 1] = '\0';
			rc = diff_trees(c, ot, nt, path, plen + nl + 1);
			path[plen + nl] = '\0';
			git_tree_free(ot);
			git_tree_free(nt);
			if (rc < 0)
				return rc;
		}
	}
	if (is_blob(o) && !(is_blob(n) && git_oid_equal(git_tree_entry_id(o),
							git_tree_entry_id(n))))
		rc = apply_blob(c, git_tree_entry_id(o), path, -1);
	if (!rc && is_blob(n) &&
	    !(is_blob(o) &&
	      git_oid_equal(git_tree_entry_id(o), git_tree_entry_id(n))))
		rc = apply_blob(c, git_tree_entry_id(n), path, +1);
	path[plen] = '\0';
	return rc;
}

static int diff_trees(struct hctx *c, git_tree *old, git_tree *neu, char *path,
		      size_t plen)
{
	size_t nn = neu ? git_tree_entrycount(neu) : 0;
	size_t no = old ? git_tree_entrycount(old) : 0;

	for (size_t i = 0; i < nn; i++) {
		const git_tree_entry *n = git_tree_entry_byindex(neu, i);
		const git_tree_entry *o =
			old ? git_tree_entry_byname(old, git_tree_entry_name(n))
			    : NULL;

		if (o &&
		    git_oid_equal(git_tree_entry_id(o), git_tree_entry_id(n)) &&
		    git_tree_entry_filemode(o) == git_tree_entry_filemode(n))
			continue;
		if (diff_entry(c, o, n, path, plen) < 0)
			return -1;
	}
	for (size_t i = 0; i < no; i++) {
		const git_tree_entry *o = git_tree_entry_byindex(old, i);

		if (neu && git_tree_entry_byname(neu, git_tree_entry_name(o)))
			continue;
		if (diff_entry(c, o, NULL, path, plen) < 0)
			return -1;
	}
	return 0;
}

static bool has_extinct(const struct flag_timeline *t, int kind)
{
	for (size_t i = 0; i < t->nev; i++)
		if (t->ev[i].kind == kind && t->ev[i].type == EV_EXTINCT)
			return true;
	return false;
}

/* After a commit's trees are compared: apply the summed deltas, and emit
 * the events of the counts that crossed zero. */
static int settle_commit(struct hctx *c, git_commit *commit)
{
	long cidx = -1;

	for (size_t i = 0; i < c->ntouch; i++) {
		struct touch *t = &c->touch[i];
		struct flag_timeline *fl = &c->h->fl[t->fl];

		c->touch_idx[t->fl] = -1;
		for (int k = 0; k < 2; k++) {
			int64_t before = fl->count[k], after;
			int type = -1;
			const char *path;

			if (!t->delta[k])
				continue;
			after = before + t->delta[k];
			if (after < 0)
				after = 0; /* cannot happen; never trust it */
			fl->count[k] = after;
			if (before <= 0 && after > 0)
				type = has_extinct(fl, k) ? EV_BORN_AGAIN
							  : EV_BORN;
			else if (before > 0 && after <= 0)
				type = EV_EXTINCT;
			if (type < 0)
				continue;
			if (cidx < 0) {
				char id[41];
				const git_signature *a =
					git_commit_author(commit);

				git_oid_tostr(id, sizeof(id),
					      git_commit_id(commit));
				cidx = commit_intern(
					c->h, id,
					(int64_t)git_commit_time(commit),
					a && a->name ? a->name : "",
					git_commit_summary(commit));
				if (cidx < 0)
					return -1;
			}
			path = type == EV_EXTINCT ? t->neg[k] : t->pos[k];
			if (add_event(fl, k, type, (uint32_t)cidx, path) < 0)
				return -1;
		}
	}
	c->ntouch = 0;
	for (size_t i = 0; i < c->npaths; i++)
		free(c->paths[i]);
	c->npaths = 0;
	return 0;
}

/* The ids in .git/shallow: commits whose parents are not here. */
static json_t *shallow_set(git_repository *repo)
{
	char path[4096], line[128];
	json_t *set = json_object();
	FILE *f;

	snprintf(path, sizeof(path), "%sshallow", git_repository_path(repo));
	f = fopen(path, "re");
	if (!f)
		return set;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (strlen(line) == 40)
			json_object_set_new(set, line, json_true());
	}
	fclose(f);
	return set;
}

/* Cache: one file per first-parent line, named by its tip, so that
 * switching branches (or worktrees sharing one .git) does not rescan:
 * <commondir>/safedeploy/flags-<config digest>-<tip>.json. */
#define CACHE_KEEP 8

static char *cache_dir(git_repository *repo)
{
	char *p = NULL;

	if (asprintf(&p, "%ssafedeploy", git_repository_commondir(repo)) < 0)
		return NULL;
	return p;
}

char *flaghist_cache_path(git_repository *repo, const struct flagspec *fs,
			  const char *tip)
{
	char *p = NULL;

	if (asprintf(&p, "%ssafedeploy/flags-%.16s-%s.json",
		     git_repository_commondir(repo), fs->digest, tip) < 0)
		return NULL;
	return p;
}

/* The cache file of this configuration whose tip is target or the
 * latest ancestor of it; NULL when none. *others counts those that do
 * not fit. */
static char *cache_pick(git_repository *repo, const struct flagspec *fs,
			const git_oid *target, int *others)
{
	char *dir = cache_dir(repo), prefix[64], *best = NULL;
	int64_t best_time = INT64_MIN;
	struct dirent *d;
	DIR *dh;

	*others = 0;
	snprintf(prefix, sizeof(prefix), "flags-%.16s-", fs->digest);
	dh = dir ? opendir(dir) : NULL;
	while (dh && (d = readdir(dh))) {
		size_t pl = strlen(prefix);
		char hex[41];
		git_oid tip;
		git_commit *c = NULL;
		int64_t t;

		if (strncmp(d->d_name, prefix, pl) ||
		    strlen(d->d_name) != pl + 40 + 5 ||
		    strcmp(d->d_name + pl + 40, ".json"))
			continue;
		memcpy(hex, d->d_name + pl, 40);
		hex[40] = '\0';
		if (git_oid_fromstr(&tip, hex) < 0)
			continue;
		if (!git_oid_equal(&tip, target) &&
		    git_graph_descendant_of(repo, target, &tip) != 1) {
			/* A line that contains target (an older revision)
			 * is not a misfit worth a warning. */
			if (git_graph_descendant_of(repo, &tip, target) != 1)
				(*others)++;
			continue;
		}
		t = git_oid_equal(&tip, target) ? INT64_MAX
		    : git_commit_lookup(&c, repo, &tip) == 0
			    ? (int64_t)git_commit_time(c)
			    : INT64_MIN;
		git_commit_free(c);
		if (t > best_time || !best) {
			free(best);
			best = NULL;
			if (asprintf(&best, "%s/%s", dir, d->d_name) < 0)
				best = NULL;
			best_time = t;
		}
	}
	if (dh)
		closedir(dh);
	free(dir);
	return best;
}

/* Keep the CACHE_KEEP most recently written cache files. */
static void cache_prune(git_repository *repo)
{
	char *dir = cache_dir(repo);
	struct {
		char name[300];
		time_t mtime;
	} files[64];
	int n = 0;
	struct dirent *d;
	DIR *dh = dir ? opendir(dir) : NULL;

	while (dh && (d = readdir(dh)) && n < 64) {
		struct stat st;
		size_t l = strlen(d->d_name);

		if (strncmp(d->d_name, "flags-", 6) || l < 5 ||
		    strcmp(d->d_name + l - 5, ".json") || l >= 300 ||
		    fstatat(dirfd(dh), d->d_name, &st, 0) < 0)
			continue;
		snprintf(files[n].name, sizeof(files[n].name), "%s", d->d_name);
		files[n++].mtime = st.st_mtime;
	}
	if (dh)
		closedir(dh);
	while (n > CACHE_KEEP) {
		int oldest = 0;
		char *path = NULL;

		for (int i = 1; i < n; i++)
			if (files[i].mtime < files[oldest].mtime)
				oldest = i;
		if (asprintf(&path, "%s/%s", dir, files[oldest].name) > 0)
			unlink(path);
		free(path);
		files[oldest] = files[--n];
	}
	free(dir);
}

static int cache_load(struct flag_history *h, const char *path,
		      const struct flagspec *fs)
{
	json_error_t jerr;
	json_t *doc, *commits, *flags, *item;
	size_t i;
	const char *why = NULL;

	doc = json_load_file(path, 0, &jerr);
	if (!doc) {
		if (access(path, F_OK) == 0)
			hwarn(h,
			      "the flag cache '%s' is corrupt (%s at line %d); "
			      "rebuilding it",
			      path, jerr.text, jerr.line);
		return -1;
	}
	commits = json_object_get(doc, "commits");
	flags = json_object_get(doc, "flags");
	if (json_integer_value(json_object_get(doc, "version")) !=
	    CACHE_VERSION)
		why = "another format version";
	else if (strcmp(json_string_value(json_object_get(doc, "digest"))
				? json_string_value(
					  json_object_get(doc, "digest"))
				: "",
			fs->digest))
		why = "another configuration";
	else if (!json_is_array(commits) || !json_is_array(flags) ||
		 !json_is_string(json_object_get(doc, "tip")))
		why = "missing fields";
	json_array_foreach(commits, i, item)
	{
		const char *id = json_string_value(json_array_get(item, 0));

		if (why)
			break;
		if (!id || strlen(id) != 40 ||
		    !json_is_integer(json_array_get(item, 1)) ||
		    commit_intern(h, id,
				  json_integer_value(json_array_get(item, 1)),
				  json_string_value(json_array_get(item, 2)),
				  json_string_value(json_array_get(item, 3))) !=
			    (long)i)
			why = "a bad commit entry";
	}
	json_array_foreach(flags, i, item)
	{
		const char *key = json_string_value(json_array_get(item, 0));
		const char *name = json_string_value(json_array_get(item, 1));
		json_t *evs = json_array_get(item, 4), *ev;
		size_t j;
		long id;

		if (why)
			break;
		if (!key || !name || !json_is_array(evs) ||
		    json_object_get(h->index, key) ||
		    (id = timeline_intern(h, key, name)) < 0) {
			why = "a bad flag entry";
			break;
		}
		h->fl[id].count[0] =
			json_integer_value(json_array_get(item, 2));
		h->fl[id].count[1] =
			json_integer_value(json_array_get(item, 3));
		if (h->fl[id].count[0] < 0 || h->fl[id].count[1] < 0)
			why = "a negative count";
		json_array_foreach(evs, j, ev)
		{
			json_int_t k =
				json_integer_value(json_array_get(ev, 0));
			json_int_t t =
				json_integer_value(json_array_get(ev, 1));
			json_int_t ci =
				json_integer_value(json_array_get(ev, 2));

			if (k < 0 || k > 1 || t < 0 || t > 2 || ci < 0 ||
			    (size_t)ci >= h->ncommits ||
			    add_event(&h->fl[id], (int)k, (int)t, (uint32_t)ci,
				      json_string_value(
					      json_array_get(ev, 3))) < 0) {
				why = "a bad event";
				break;
			}
		}
	}
	if (!why) {
		snprintf(h->tip, sizeof(h->tip), "%s",
			 json_string_value(json_object_get(doc, "tip")));
		snprintf(h->root, sizeof(h->root), "%s",
			 json_string_value(json_object_get(doc, "root"))
				 ? json_string_value(
					   json_object_get(doc, "root"))
				 : "");
		h->scanned = (uint64_t)json_integer_value(
			json_object_get(doc, "scanned"));
		h->shallow = json_is_true(json_object_get(doc, "shallow"));
		if (strlen(h->tip) != 40)
			why = "a bad tip";
	}
	json_decref(doc);
	if (why) {
		hwarn(h,
		      "the flag cache '%s' is not usable (%s); rebuilding it",
		      path, why);
		return -1;
	}
	return 0;
}

static json_t *cache_doc(const struct flag_history *h,
			 const struct flagspec *fs)
{
	json_t *commits = json_array(), *flags = json_array();

	for (size_t i = 0; i < h->ncommits; i++)
		json_array_append_new(
			commits,
			json_pack("[s,I,o,o]", h->commits[i].id,
				  (json_int_t)h->commits[i].time,
				  flags_json_string(h->commits[i].author),
				  flags_json_string(h->commits[i].subject)));
	for (size_t i = 0; i < h->nfl; i++) {
		const struct flag_timeline *t = &h->fl[i];
		json_t *evs = json_array();

		for (size_t j = 0; j < t->nev; j++)
			json_array_append_new(
				evs,
				json_pack("[i,i,i,o]", t->ev[j].kind,
					  t->ev[j].type, (int)t->ev[j].commit,
					  t->ev[j].path ? flags_json_string(
								  t->ev[j].path)
							: json_null()));
		json_array_append_new(flags,
				      json_pack("[o,o,I,I,o]",
						flags_json_string(t->key),
						flags_json_string(t->name),
						(json_int_t)t->count[0],
						(json_int_t)t->count[1], evs));
	}
	return json_pack("{s:i,s:s,s:s,s:s,s:I,s:b,s:o,s:o}", "version",
			 CACHE_VERSION, "digest", fs->digest, "tip", h->tip,
			 "root", h->root, "scanned", (json_int_t)h->scanned,
			 "shallow", h->shallow, "commits", commits, "flags",
			 flags);
}

/* Written to a temporary file and renamed over the old one under a lock,
 * so that a reader sees the old cache or the new one, whole, and two runs
 * at once leave one of theirs. A failure to write is a warning: the scan
 * itself succeeded. */
static void cache_save(struct flag_history *h, const struct flagspec *fs,
		       const char *path)
{
	char dir[4096], lock[4200];
	json_t *doc = cache_doc(h, fs);
	char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	const char *slash = strrchr(path, '/');
	struct sd_err err = {0};
	int lfd = -1;

	json_decref(doc);
	if (!text || !slash)
		goto out;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (fs_mkdirs(dir, 0755, &err) < 0) {
		hwarn(h, "cannot create the flag cache: %s", err.msg);
		goto out;
	}
	snprintf(lock, sizeof(lock), "%s/flags.lock", dir);
	lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lfd < 0 || flock(lfd, LOCK_EX) < 0) {
		hwarn(h, "cannot lock '%s': %s", lock, strerror(errno));
		goto out;
	}
	if (fs_write_atomic(path, text, strlen(text), 0644, &err) < 0) {
		int e = errno;

		hwarn(h, "cannot write the flag cache '%s': %s", path,
		      strerror(e));
		goto out;
	}
	h->cache_saved = true;
out:
	if (lfd >= 0)
		close(lfd);
	free(text);
}

static void reset(struct flag_history *h)
{
	json_t *w = json_incref(h->warnings);

	flaghist_release(h);
	flaghist_init(h);
	json_decref(h->warnings);
	h->warnings = w;
}

int flaghist_update(git_repository *repo, const struct flagspec *fs,
		    const git_oid *target, struct flag_history *h,
		    const struct flaghist_opts *o, struct sd_err *err)
{
	struct hctx c = {0};
	git_oid *chain = NULL, tip;
	size_t n = 0, cap = 0;
	json_t *shallow = NULL;
	char *cpath = NULL;
	bool have_tip = false, found_tip = false;
	git_commit *commit = NULL;
	int rc = -1;
	char path[4096];

	h->new_commits = h->blobs_read = h->bytes_read = 0;
	h->cache_used = h->cache_saved = false;
	if (o && o->use_cache && !h->tip[0]) {
		int others = 0;

		cpath = cache_pick(repo, fs, target, &others);
		if (cpath && cache_load(h, cpath, fs) == 0)
			h->cache_used = true;
		else
			reset(h);
		if (!cpath && others)
			hwarn(h,
			      "no cached flag history fits %.12s (another "
			      "branch, or history rewritten); scanning from "
			      "the root",
			      git_oid_tostr_s(target));
	}
	if (h->tip[0] && git_oid_fromstr(&tip, h->tip) == 0)
		have_tip = true;
	/* The first-parent line from target back to the cached tip or the
	 * root (or a shallow boundary). */
	shallow = shallow_set(repo);
	for (git_oid cur = *target;;) {
		char id[41];

		if (have_tip && git_oid_equal(&cur, &tip)) {
			found_tip = true;
			break;
		}
		if (flags_reserve(&chain, &cap, n + 1, sizeof(*chain)) < 0) {
			err_set(err, SD_EXIT_CANNOT, "out of memory");
			goto out;
		}
		chain[n++] = cur;
		git_oid_tostr(id, sizeof(id), &cur);
		if (json_object_get(shallow, id)) {
			h->shallow = true;
			break;
		}
		if (git_commit_lookup(&commit, repo, &cur) < 0) {
			err_set(err, SD_EXIT_CANNOT,
				"cannot read commit %s: %s", id,
				git_error_last() ? git_error_last()->message
						 : "?");
			goto out;
		}
		if (!git_commit_parentcount(commit)) {
			git_commit_free(commit);
			commit = NULL;
			break;
		}
		cur = *git_commit_parent_id(commit, 0);
		git_commit_free(commit);
		commit = NULL;
	}
	if (have_tip && !found_tip) {
		/* The cached tip is an ancestor, but not on the first-parent
		 * line (a merged branch's tip): read from the root. */
		reset(h);
		free(chain);
		chain = NULL;
		json_decref(shallow);
		free(cpath);
		return flaghist_update(
			repo, fs, target, h,
			&(struct flaghist_opts){false, o && o->save_cache,
						o ? o->progress : NULL},
			err);
	}
	if (!found_tip) {
		h->scanned = 0;
		git_oid_tostr(h->root, sizeof(h->root), &chain[n - 1]);
		if (h->shallow)
			hwarn(h,
			      "shallow clone: history starts at %.12s; flags "
			      "removed before it are not known (git fetch "
			      "--unshallow for all of it)",
			      h->root);
	}
	c.repo = repo;
	c.fs = fs;
	c.h = h;
	c.err = err;
	if (git_repository_odb(&c.odb, repo) < 0 ||
	    flagscan_init(&c.sc, fs) < 0) {
		err_set(err, SD_EXIT_CANNOT, "cannot open the object database");
		goto out;
	}
	c.sc.warnings = h->warnings;
	if (o && o->progress)
		progress_start(o->progress, 2, "flags: history", n);
	for (size_t i = n; i-- > 0;) {
		git_tree *old = NULL, *neu = NULL;
		git_commit *parent = NULL;
		bool root = i == n - 1 && !found_tip;

		if (git_commit_lookup(&commit, repo, &chain[i]) < 0 ||
		    git_commit_tree(&neu, commit) < 0) {
			err_set(err, SD_EXIT_CANNOT,
				"cannot read commit %s: %s",
				git_oid_tostr_s(&chain[i]),
				git_error_last() ? git_error_last()->message
						 : "?");
			goto out;
		}
		if (!root && git_commit_parent(&parent, commit, 0) == 0) {
			if (git_commit_tree(&old, parent) < 0)
				old = NULL;
			git_commit_free(parent);
		}
		path[0] = '\0';
		rc = diff_trees(&c, old, neu, path, 0);
		git_tree_free(old);
		git_tree_free(neu);
		if (rc == 0)
			rc = settle_commit(&c, commit);
		if (rc < 0 || c.oom) {
			if (!err->msg[0])
				err_set(err, SD_EXIT_CANNOT, "out of memory");
			rc = -1;
			goto out;
		}
		h->tip_time = (int64_t)git_commit_time(commit);
		git_commit_free(commit);
		commit = NULL;
		h->scanned++;
		h->new_commits++;
		if (o && o->progress)
			progress_update(o->progress, n - i);
	}
	if (o && o->progress)
		progress_finish(o->progress);
	git_oid_tostr(h->tip, sizeof(h->tip), target);
	if (found_tip && !h->new_commits &&
	    git_commit_lookup(&commit, repo, target) == 0) {
		h->tip_time = (int64_t)git_commit_time(commit);
		git_commit_free(commit);
		commit = NULL;
	}
	if (o && o->save_cache && (h->new_commits || !h->cache_used)) {
		char *npath = flaghist_cache_path(repo, fs, h->tip);

		if (npath) {
			cache_save(h, fs, npath);
			/* The file it grew from is superseded. */
			if (h->cache_saved && cpath && strcmp(cpath, npath))
				unlink(cpath);
			cache_prune(repo);
		}
		free(npath);
	}
	rc = 0;
out:
	git_commit_free(commit);
	flagscan_release(&c.sc);
	git_odb_free(c.odb);
	free(c.memo.t);
	free(c.memo.vals);
	free(c.blob_mark);
	free(c.blob_pos);
	free(c.touch_idx);
	free(c.tmp);
	free(c.touch);
	for (size_t i = 0; i < c.npaths; i++)
		free(c.paths[i]);
	free(c.paths);
	free(chain);
	free(cpath);
	json_decref(shallow);
	return rc;
}
