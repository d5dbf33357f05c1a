/* The git hooks' checks: the staged change (pre-commit) and the commits
 * being pushed (pre-push). See flags.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flags.h"
#include "units.h"

/* A flag_spec with only its definition sources, to read the definitions
 * of a tree without reading every file that may reference a flag. */
static void def_only(const struct flagspec *fs, struct flagspec *out)
{
	*out = *fs;
	out->nsrc = 0;
	for (size_t i = 0; i < fs->nsrc; i++)
		if (fs->src[i].kind == FLAG_DEF)
			out->src[out->nsrc++] = fs->src[i];
}

static json_t *problem(json_t *out, const char *path, unsigned line,
		       unsigned col, enum flag_severity sev, const char *kind,
		       const char *flag, const char *fmt, ...)
	__attribute__((format(printf, 8, 9)));

static json_t *problem(json_t *out, const char *path, unsigned line,
		       unsigned col, enum flag_severity sev, const char *kind,
		       const char *flag, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	json_t *p;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p = json_pack("{s:o,s:s,s:s,s:o,s:o}", "path", flags_json_string(path),
		      "severity", flag_severity_names[sev], "kind", kind,
		      "flag", flags_json_string(flag), "message",
		      flags_json_string(msg));
	json_object_set_new(p, "uri", flags_uri(path));
	if (line) {
		json_object_set_new(p, "line", json_integer(line));
		json_object_set_new(p, "column", json_integer(col));
	}
	json_array_append_new(out, p);
	return p;
}

/* The lines the patch from old to new adds, as a bitmap by line number. */
static unsigned char *added_lines(git_blob *old, git_blob *neu,
				  const char *path, size_t *nlines)
{
	git_patch *patch = NULL;
	git_diff_options o = GIT_DIFF_OPTIONS_INIT;
	size_t cap = 0;
	unsigned char *bits = NULL;

	*nlines = 0;
	o.context_lines = 0;
	o.flags = GIT_DIFF_FORCE_TEXT;
	if (git_patch_from_blobs(&patch, old, path, neu, path, &o) < 0)
		return NULL;
	for (size_t h = 0; h < git_patch_num_hunks(patch); h++) {
		int n = git_patch_num_lines_in_hunk(patch, h);

		for (int l = 0; l < n; l++) {
			const git_diff_line *dl = NULL;

			if (git_patch_get_line_in_hunk(&dl, patch, h,
						       (size_t)l) < 0 ||
			    dl->origin != GIT_DIFF_LINE_ADDITION ||
			    dl->new_lineno <= 0)
				continue;
			if ((size_t)dl->new_lineno >= cap) {
				size_t nc = cap ? cap : 1024;
				unsigned char *v;

				while (nc <= (size_t)dl->new_lineno)
					nc *= 2;
				v = realloc(bits, nc);
				if (!v)
					break;
				memset(v + cap, 0, nc - cap);
				bits = v;
				cap = nc;
			}
			bits[dl->new_lineno] = 1;
		}
	}
	git_patch_free(patch);
	*nlines = cap;
	return bits;
}

static const struct flag_event *last_def(const struct flag_timeline *t)
{
	for (size_t i = t ? t->nev : 0; i-- > 0;)
		if (t->ev[i].kind == FLAG_DEF)
			return &t->ev[i];
	return NULL;
}

static void when(const struct flag_history *h, uint32_t c, char *buf, size_t n)
{
	char date[40];

	units_format_utc(h->commits[c].time * 1000, date, sizeof(date));
	date[10] = '\0';
	snprintf(buf, n, "%.10s (%s, \"%.60s\")", h->commits[c].id, date,
		 h->commits[c].subject);
}

struct staged {
	git_repository *repo;
	const struct flagspec *fs;
	const struct flag_history *h;
	struct flag_state defs; /* definitions in HEAD */
	json_t *index_defs;	/* key -> definitions in the index */
	json_t *out;
	int64_t now;
};

/* Report every token of flag s (kind k) of the new file on an added line;
 * or once, without a line, when none is found there. */
static void report_added(struct staged *g, const char *path,
			 const struct flag_stat *s, int k,
			 const unsigned char *added, size_t nadded,
			 enum flag_severity sev, const char *kind,
			 const char *msg)
{
	bool any = false;

	for (unsigned i = 0; i < s->nloc[k]; i++) {
		unsigned line = s->loc[k][i].line;

		if (added && (line >= nadded || !added[line]))
			continue;
		problem(g->out, path, line, s->loc[k][i].col, sev, kind,
			s->name, "%s", msg);
		any = true;
	}
	if (!any)
		problem(g->out, path, s->nloc[k] ? s->loc[k][0].line : 0,
			s->nloc[k] ? s->loc[k][0].col : 0, sev, kind, s->name,
			"%s", msg);
}

static int check_file(struct staged *g, const git_diff_delta *d,
		      struct sd_err *err)
{
	const char *path = d->new_file.path;
	uint32_t mask = flagspec_classify(g->fs, path);
	struct flag_state old, neu;
	git_blob *ob = NULL, *nb = NULL;
	unsigned char *added = NULL;
	size_t nadded = 0;
	int rc = 0;

	if (!mask || d->status == GIT_DELTA_DELETED)
		return 0;
	flagstate_init(&old);
	flagstate_init(&neu);
	if (!git_oid_is_zero(&d->old_file.id) &&
	    d->old_file.mode != GIT_FILEMODE_COMMIT)
		git_blob_lookup(&ob, g->repo, &d->old_file.id);
	/* Both versions are loaded once, for the tokens and for the patch;
	 * a file over max-file-size is skipped, as everywhere. */
	if (git_blob_lookup(&nb, g->repo, &d->new_file.id) < 0 ||
	    (uint64_t)git_blob_rawsize(nb) > g->fs->max_file_size ||
	    (ob && (uint64_t)git_blob_rawsize(ob) > g->fs->max_file_size))
		goto out;
	if (ob)
		rc = flagstate_scan_text(&old, g->fs, mask, d->old_file.path,
					 git_blob_rawcontent(ob),
					 (size_t)git_blob_rawsize(ob), err);
	if (!rc)
		rc = flagstate_scan_text(&neu, g->fs, mask, path,
					 git_blob_rawcontent(nb),
					 (size_t)git_blob_rawsize(nb), err);
	if (rc)
		goto out;
	added = added_lines(ob, nb, path, &nadded);
	for (size_t i = 0; i < neu.n; i++) {
		const struct flag_stat *s = &neu.v[i];
		const struct flag_stat *o = flagstate_get(&old, s->key);
		int64_t od = o ? o->count[FLAG_DEF] : 0;
		int64_t orf = o ? o->count[FLAG_REF] : 0;
		json_t *idef = json_object_get(g->index_defs, s->key);
		const struct flag_stat *hd = flagstate_get(&g->defs, s->key);
		bool defined = json_integer_value(idef) > 0;
		bool was_defined = hd && hd->count[FLAG_DEF] > 0;
		const struct flag_timeline *t =
			g->h ? flaghist_get(g->h, s->key) : NULL;
		const struct flag_event *ld = last_def(t);
		json_t *retired = json_object_get(g->fs->retired, s->key);
		bool allowed =
			json_object_get(g->fs->allow_resurrect, s->key) != NULL;
		char msg[1024], x[200];

		if (s->count[FLAG_DEF] > od && !was_defined && !allowed &&
		    (retired || (ld && ld->type == EV_EXTINCT))) {
			enum flag_severity sev =
				g->fs->severity[FINDING_RESURRECTED];

			if (retired) {
				snprintf(msg, sizeof(msg),
					 "flag '%s' is listed in flags.retired "
					 "and must not be defined again",
					 s->name);
			} else {
				int64_t gap =
					g->now - g->h->commits[ld->commit].time;

				when(g->h, ld->commit, x, sizeof(x));
				if (gap * 1000 < g->fs->revert_window_ms)
					sev = SEV_WARNING;
				snprintf(
					msg, sizeof(msg),
					"flag '%s' was removed in %s; defining "
					"it again resurrects it%s",
					s->name, x,
					t->count[FLAG_REF] > 0
						? ", and code that still "
						  "uses it switches back on"
						: "");
			}
			if (sev != SEV_OFF)
				report_added(g, path, s, FLAG_DEF, added,
					     nadded, sev, "resurrected", msg);
		}
		if (s->count[FLAG_REF] > orf && !defined) {
			enum flag_severity sev;
			const char *kind;

			if (retired) {
				kind = "retired-but-referenced";
				sev = g->fs->severity
					      [FINDING_RETIRED_REFERENCED];
				snprintf(
					msg, sizeof(msg),
					"flag '%s' is listed in flags.retired; "
					"do not reference it",
					s->name);
			} else if (ld && ld->type == EV_EXTINCT) {
				kind = "retired-but-referenced";
				sev = g->fs->severity
					      [FINDING_RETIRED_REFERENCED];
				when(g->h, ld->commit, x, sizeof(x));
				snprintf(msg, sizeof(msg),
					 "flag '%s' was removed in %s; this "
					 "reference uses a retired flag",
					 s->name, x);
			} else {
				kind = "undefined";
				sev = g->fs->severity[FINDING_UNDEFINED];
				snprintf(msg, sizeof(msg),
					 "flag '%s' is not defined", s->name);
			}
			if (sev != SEV_OFF)
				report_added(g, path, s, FLAG_REF, added,
					     nadded, sev, kind, msg);
		}
	}
out:
	free(added);
	git_blob_free(ob);
	git_blob_free(nb);
	flagstate_release(&old);
	flagstate_release(&neu);
	return rc;
}

/* The definition count of every flag in the index: HEAD's, plus what the
 * staged change adds, minus what it removes. */
static int index_defs(struct staged *g, git_diff *diff, struct sd_err *err)
{
	struct flagspec dfs;

	def_only(g->fs, &dfs);
	g->index_defs = json_object();
	for (size_t i = 0; i < g->defs.n; i++)
		json_object_set_new_nocheck(
			g->index_defs, g->defs.v[i].key,
			json_integer(g->defs.v[i].count[FLAG_DEF]));
	for (size_t i = 0; i < git_diff_num_deltas(diff); i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		struct flag_state old, neu;
		uint32_t om = flagspec_classify(&dfs, d->old_file.path);
		uint32_t nm = flagspec_classify(&dfs, d->new_file.path);
		int rc = 0;

		if (!om && !nm)
			continue;
		flagstate_init(&old);
		flagstate_init(&neu);
		if (om && !git_oid_is_zero(&d->old_file.id))
			rc = flagstate_scan_blob(g->repo, &d->old_file.id, &dfs,
						 &old, om, d->old_file.path,
						 err);
		if (!rc && nm && d->status != GIT_DELTA_DELETED &&
		    !git_oid_is_zero(&d->new_file.id))
			rc = flagstate_scan_blob(g->repo, &d->new_file.id, &dfs,
						 &neu, nm, d->new_file.path,
						 err);
		for (int side = 0; !rc && side < 2; side++) {
			struct flag_state *st = side ? &neu : &old;

			for (size_t j = 0; j < st->n; j++) {
				json_t *v = json_object_get(g->index_defs,
							    st->v[j].key);
				json_int_t n = json_integer_value(v) +
					       (side ? 1 : -1) *
						       st->v[j].count[FLAG_DEF];

				json_object_set_new_nocheck(g->index_defs,
							    st->v[j].key,
							    json_integer(n));
			}
		}
		flagstate_release(&old);
		flagstate_release(&neu);
		if (rc)
			return -1;
	}
	return 0;
}

static bool head_is(git_repository *repo, const char *id)
{
	git_oid head;
	char hex[41];

	if (!id[0] || git_reference_name_to_id(&head, repo, "HEAD") < 0)
		return false;
	git_oid_tostr(hex, sizeof(hex), &head);
	return !strcmp(hex, id);
}

int flags_check_staged(git_repository *repo, const struct flagspec *fs,
		       const struct flag_history *h, int64_t now, json_t **out,
		       struct sd_err *err)
{
	struct staged g = {repo, fs, h, {0}, NULL, json_array(), now};
	git_diff_options o = GIT_DIFF_OPTIONS_INIT;
	git_object *head = NULL;
	git_tree *tree = NULL;
	git_index *index = NULL;
	git_diff *diff = NULL;
	struct flagspec dfs;
	int rc = -1;

	flagstate_init(&g.defs);
	if (git_revparse_single(&head, repo, "HEAD^{tree}") == 0)
		tree = (git_tree *)head;
	/* `git commit -a` and `git commit PATHS` give the hook a temporary
	 * index through GIT_INDEX_FILE: that is what will be committed. */
	if (getenv("GIT_INDEX_FILE") && *getenv("GIT_INDEX_FILE")
		    ? git_index_open(&index, getenv("GIT_INDEX_FILE")) < 0
		    : git_repository_index(&index, repo) < 0) {
		err_set(err, SD_EXIT_CANNOT, "cannot read the index: %s",
			git_error_last()->message);
		goto out;
	}
	/* HEAD's definitions: from the timelines when they end at HEAD
	 * (their counts are HEAD's), else read from HEAD's tree. */
	if (tree && h && head_is(repo, h->tip)) {
		for (size_t i = 0; i < h->nfl; i++) {
			struct flag_stat *s;

			if (!h->fl[i].count[FLAG_DEF])
				continue;
			s = flagstate_add(&g.defs, h->fl[i].key, h->fl[i].name);
			if (!s) {
				err_set(err, SD_EXIT_CANNOT, "out of memory");
				goto out;
			}
			s->count[FLAG_DEF] = h->fl[i].count[FLAG_DEF];
		}
	} else {
		def_only(fs, &dfs);
		if (tree &&
		    flagstate_scan_tree(repo, tree, &dfs, &g.defs, err) < 0)
			goto out;
	}
	o.flags = GIT_DIFF_IGNORE_SUBMODULES | GIT_DIFF_SKIP_BINARY_CHECK;
	if (git_diff_tree_to_index(&diff, repo, tree, index, &o) < 0) {
		err_set(err, SD_EXIT_CANNOT,
			"cannot compare the index with HEAD: %s",
			git_error_last()->message);
		goto out;
	}
	if (index_defs(&g, diff, err) < 0)
		goto out;
	for (size_t i = 0; i < git_diff_num_deltas(diff); i++)
		if (check_file(&g, git_diff_get_delta(diff, i), err) < 0)
			goto out;
	rc = 0;
out:
	git_diff_free(diff);
	git_index_free(index);
	git_object_free(head);
	flagstate_release(&g.defs);
	json_decref(g.index_defs);
	if (rc)
		json_decref(g.out);
	else
		*out = g.out;
	return rc;
}

int flags_check_pushed(const struct flagspec *fs, const struct flag_history *h,
		       const json_t *pushed, json_t **out)
{
	json_t *res = json_array();

	for (size_t i = 0; i < h->nfl; i++) {
		const struct flag_timeline *t = &h->fl[i];
		bool retired = json_object_get(fs->retired, t->key) != NULL;
		bool allowed =
			json_object_get(fs->allow_resurrect, t->key) != NULL;

		for (size_t j = 0; j < t->nev; j++) {
			const struct flag_event *e = &t->ev[j];
			const struct flag_commit *c = &h->commits[e->commit];
			enum flag_severity sev;
			char x[200], y[200];

			if (!json_object_get(pushed, c->id) ||
			    e->type == EV_EXTINCT)
				continue;
			when(h, e->commit, y, sizeof(y));
			if (e->kind == FLAG_DEF && !allowed &&
			    (retired || e->type == EV_BORN_AGAIN)) {
				const struct flag_event *gone = NULL;

				for (size_t k = j; k-- > 0;)
					if (t->ev[k].kind == FLAG_DEF) {
						gone = &t->ev[k];
						break;
					}
				sev = fs->severity[FINDING_RESURRECTED];
				if (gone && !retired) {
					int64_t gap =
						c->time -
						h->commits[gone->commit].time;

					if (gap * 1000 < fs->revert_window_ms ||
					    !strncmp(c->subject, "Revert", 6) ||
					    !strncmp(h->commits[gone->commit]
							     .subject,
						     "Revert", 6))
						sev = SEV_WARNING;
					when(h, gone->commit, x, sizeof(x));
				}
				if (sev == SEV_OFF)
					continue;
				problem(res, e->path ? e->path : "", 0, 0, sev,
					"resurrected", t->name,
					"flag '%s' is defined again in %s%s%s",
					t->name, y,
					retired ? ", but it is listed in "
						  "flags.retired"
						: ", after its removal in ",
					retired ? "" : x);
			}
		}
	}
	*out = res;
	return 0;
}
