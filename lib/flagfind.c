/* Findings over a state and its history, their timelines and SARIF: see
 * flags.h. Every finding is a query over the timelines (DESIGN.md §3). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flags.h"
#include "units.h"

json_t *flags_json_string(const char *s)
{
	size_t n = strlen(s), o = 0;
	char *buf;
	json_t *j = json_stringn(s, n);

	if (j)
		return j;
	/* Not UTF-8: each byte that does not start a valid sequence becomes
	 * U+FFFD (3 bytes). */
	buf = malloc(3 * n + 1);
	if (!buf)
		return json_string("?");
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		size_t len = c < 0x80		  ? 1
			     : (c & 0xe0) == 0xc0 ? 2
			     : (c & 0xf0) == 0xe0 ? 3
			     : (c & 0xf8) == 0xf0 ? 4
						  : 0;
		json_t *one =
			len && i + len <= n ? json_stringn(s + i, len) : NULL;

		if (one) {
			memcpy(buf + o, s + i, len);
			o += len;
			i += len;
			json_decref(one);
		} else {
			memcpy(buf + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	j = json_stringn(buf, o);
	free(buf);
	return j ? j : json_string("?");
}

json_t *flags_uri(const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(path), o = 0;
	char *buf = malloc(3 * n + 1);
	json_t *j;

	if (!buf)
		return json_string("");
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)path[i];

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr("/-._~", ch)) {
			buf[o++] = (char)ch;
		} else {
			buf[o++] = '%';
			buf[o++] = hex[ch >> 4];
			buf[o++] = hex[ch & 15];
		}
	}
	buf[o] = '\0';
	j = json_string(buf);
	free(buf);
	return j;
}

static const char *const kind_names[2] = {"definition", "reference"};
static const char *const type_names[3] = {"born", "extinct", "born-again"};

static json_t *commit_json(const struct flag_history *h, uint32_t i)
{
	const struct flag_commit *c = &h->commits[i];
	char date[40];

	units_format_utc(c->time * 1000, date, sizeof(date));
	return json_pack("{s:s,s:s,s:o,s:o}", "commit", c->id, "date", date,
			 "author", flags_json_string(c->author), "subject",
			 flags_json_string(c->subject));
}

json_t *flags_timeline_json(const struct flag_history *h, const char *key)
{
	const struct flag_timeline *t = flaghist_get(h, key);
	json_t *evs;

	if (!t)
		return NULL;
	evs = json_array();
	for (size_t i = 0; i < t->nev; i++) {
		const struct flag_event *e = &t->ev[i];
		json_t *o = commit_json(h, e->commit);

		json_object_set_new(o, "kind",
				    json_string(kind_names[e->kind]));
		json_object_set_new(o, "type",
				    json_string(type_names[e->type]));
		json_object_set_new(o, "path",
				    e->path ? flags_json_string(e->path)
					    : json_null());
		json_array_append_new(evs, o);
	}
	return json_pack("{s:o,s:o,s:I,s:I,s:o}", "flag",
			 flags_json_string(t->name), "key",
			 flags_json_string(t->key), "definitions",
			 (json_int_t)t->count[FLAG_DEF], "references",
			 (json_int_t)t->count[FLAG_REF], "events", evs);
}

/* "1a2b3c4d5e (2025-03-01, "Retire Power Peg")" */
static void describe_commit(const struct flag_history *h, uint32_t i, char *buf,
			    size_t n)
{
	const struct flag_commit *c = &h->commits[i];
	char date[40];

	units_format_utc(c->time * 1000, date, sizeof(date));
	date[10] = '\0';
	snprintf(buf, n, "%.10s (%s, \"%.80s\")", c->id, date, c->subject);
}

struct ctx {
	const struct flagspec *fs;
	const struct flag_state *st;
	const struct flag_history *h;
	int64_t now;
	json_t *out;
};

static json_t *locations(const struct flag_stat *s, int kind)
{
	json_t *a = json_array();

	for (unsigned i = 0; s && i < s->nloc[kind]; i++)
		json_array_append_new(
			a, json_pack("{s:o,s:i,s:i}", "path",
				     flags_json_string(s->loc[kind][i].path),
				     "line", (int)s->loc[kind][i].line,
				     "column", (int)s->loc[kind][i].col));
	return a;
}

static json_t *add(struct ctx *c, enum flag_finding kind,
		   enum flag_severity sev, const char *name, const char *key,
		   const struct flag_stat *s, int lkind, const char *fallback,
		   const char *fmt, ...) __attribute__((format(printf, 9, 10)));

static json_t *add(struct ctx *c, enum flag_finding kind,
		   enum flag_severity sev, const char *name, const char *key,
		   const struct flag_stat *s, int lkind, const char *fallback,
		   const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	json_t *f;

	if (sev == SEV_OFF)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	f = json_pack("{s:s,s:s,s:o,s:o,s:o,s:I,s:I,s:o}", "kind",
		      flag_finding_names[kind], "severity",
		      flag_severity_names[sev], "flag", flags_json_string(name),
		      "key", flags_json_string(key), "message",
		      flags_json_string(msg), "definitions",
		      (json_int_t)(s ? s->count[FLAG_DEF] : 0), "references",
		      (json_int_t)(s ? s->count[FLAG_REF] : 0), "locations",
		      locations(s, lkind));
	if (!f)
		return NULL;
	if (s && s->nloc[lkind]) {
		json_object_set_new(f, "path",
				    flags_json_string(s->loc[lkind][0].path));
		json_object_set_new(f, "line",
				    json_integer(s->loc[lkind][0].line));
		json_object_set_new(f, "column",
				    json_integer(s->loc[lkind][0].col));
		json_object_set_new(f, "uri", flags_uri(s->loc[lkind][0].path));
	} else if (fallback) {
		json_object_set_new(f, "path", flags_json_string(fallback));
		json_object_set_new(f, "uri", flags_uri(fallback));
	}
	json_array_append_new(c->out, f);
	return f;
}

/* The event that started the current life of kind k (the last born or
 * born-again), or NULL. */
static const struct flag_event *last_birth(const struct flag_timeline *t, int k)
{
	for (size_t i = t->nev; i-- > 0;)
		if (t->ev[i].kind == k && t->ev[i].type != EV_EXTINCT)
			return &t->ev[i];
	return NULL;
}

static const struct flag_event *last_event(const struct flag_timeline *t, int k,
					   size_t before)
{
	for (size_t i = before; i-- > 0;)
		if (t->ev[i].kind == k)
			return &t->ev[i];
	return NULL;
}

static void check_resurrected(struct ctx *c, const struct flag_timeline *t,
			      const struct flag_stat *s)
{
	const struct flag_history *h = c->h;
	const struct flag_event *born = last_birth(t, FLAG_DEF), *gone, *ref;
	size_t bi;
	char x[200], y[200], refs[200] = "";
	int64_t gap;
	bool revert;
	enum flag_severity sev = c->fs->severity[FINDING_RESURRECTED];

	if (!born || born->type != EV_BORN_AGAIN ||
	    json_object_get(c->fs->allow_resurrect, t->key))
		return;
	bi = (size_t)(born - t->ev);
	gone = last_event(t, FLAG_DEF, bi);
	if (!gone || gone->type != EV_EXTINCT)
		return;
	gap = h->commits[born->commit].time - h->commits[gone->commit].time;
	/* Back by a revert, or removed by one (a change reverted and then
	 * landed again): not a new meaning for an old name. */
	bool back_by_revert =
		!strncmp(h->commits[born->commit].subject, "Revert", 6);
	revert = back_by_revert ||
		 !strncmp(h->commits[gone->commit].subject, "Revert", 6);
	const char *revert_note =
		back_by_revert ? " (brought back by a revert)"
			       : " (its removal was a revert: the change is "
				 "landing again)";
	if (gap * 1000 < c->fs->revert_window_ms || revert)
		sev = sev == SEV_OFF ? SEV_OFF : SEV_WARNING;
	describe_commit(h, gone->commit, x, sizeof(x));
	describe_commit(h, born->commit, y, sizeof(y));
	/* Did code that uses it survive the gap (the Knight pattern)?
	 * Commits are numbered in history order, so the references' state
	 * after the removal is their last event up to that commit. */
	ref = NULL;
	for (size_t i = 0; i < t->nev; i++)
		if (t->ev[i].kind == FLAG_REF &&
		    t->ev[i].commit <= gone->commit)
			ref = &t->ev[i];
	if (ref && ref->type != EV_EXTINCT) {
		bool removed = false;

		for (size_t i = 0; i < t->nev; i++)
			if (t->ev[i].kind == FLAG_REF &&
			    t->ev[i].type == EV_EXTINCT &&
			    t->ev[i].commit > gone->commit &&
			    t->ev[i].commit <= born->commit)
				removed = true;
		snprintf(refs, sizeof(refs), "; %s",
			 removed ? "code that used it outlived the definition "
				   "for a while"
				 : "code that used it was never removed, so "
				   "the new definition switches the old code "
				   "back on");
	}
	json_t *f = add(c, FINDING_RESURRECTED, sev, t->name, t->key, s,
			FLAG_DEF, born->path,
			"flag '%s' was removed in %s and defined again in %s, "
			"%lld days later%s%s",
			t->name, x, y, (long long)(gap / 86400), refs,
			revert ? revert_note
			: gap * 1000 < c->fs->revert_window_ms
				? " (within the revert window)"
				: "");
	if (f) {
		json_object_set_new(f, "removed", commit_json(h, gone->commit));
		json_object_set_new(f, "defined-again",
				    commit_json(h, born->commit));
		json_object_set_new(f, "gap-days", json_integer(gap / 86400));
	}
}

static void check_resurrected_uncommitted(struct ctx *c,
					  const struct flag_timeline *t,
					  const struct flag_stat *s,
					  const struct flag_event *gone)
{
	const struct flag_history *h = c->h;
	enum flag_severity sev = c->fs->severity[FINDING_RESURRECTED];
	int64_t gap = c->now - h->commits[gone->commit].time;
	bool revert = !strncmp(h->commits[gone->commit].subject, "Revert", 6);
	char x[200];
	json_t *f;

	if (json_object_get(c->fs->allow_resurrect, t->key))
		return;
	if (gap * 1000 < c->fs->revert_window_ms || revert)
		sev = sev == SEV_OFF ? SEV_OFF : SEV_WARNING;
	describe_commit(h, gone->commit, x, sizeof(x));
	f = add(c, FINDING_RESURRECTED, sev, t->name, t->key, s, FLAG_DEF, NULL,
		"flag '%s' was removed in %s and is defined again here, not "
		"committed yet, %lld days later%s",
		t->name, x, (long long)(gap / 86400),
		t->count[FLAG_REF] > 0 ? "; code that uses it is still there, "
					 "so the new definition switches it "
					 "back on"
				       : "");
	if (f) {
		json_object_set_new(f, "removed", commit_json(h, gone->commit));
		json_object_set_new(f, "gap-days", json_integer(gap / 86400));
	}
}

static void check_stale(struct ctx *c, const struct flag_timeline *t,
			const struct flag_stat *s)
{
	const struct flag_event *born = last_birth(t, FLAG_DEF);
	int64_t age_ms;
	char x[200];
	json_t *f;

	if (!born)
		return;
	age_ms = c->now * 1000 - c->h->commits[born->commit].time * 1000;
	if (age_ms <= c->fs->max_age_ms)
		return;
	describe_commit(c->h, born->commit, x, sizeof(x));
	/* In a shallow clone a flag "born" at the first commit there may be
	 * much older: say it is at least that old. */
	bool at_least = c->h->shallow &&
			!strcmp(c->h->commits[born->commit].id, c->h->root);
	f = add(c, FINDING_STALE, c->fs->severity[FINDING_STALE], t->name,
		t->key, s, FLAG_DEF, born->path,
		"flag '%s' has been defined for %s%lld days, since %s%s; "
		"max-age is %lld days",
		t->name, at_least ? "at least " : "",
		(long long)(age_ms / 86400000), at_least ? "before " : "", x,
		(long long)(c->fs->max_age_ms / 86400000));
	if (f) {
		json_object_set_new(f, "defined",
				    commit_json(c->h, born->commit));
		json_object_set_new(f, "age-days",
				    json_integer(age_ms / 86400000));
	}
}

static void check_flag(struct ctx *c, const char *key,
		       const struct flag_stat *s)
{
	const struct flag_timeline *t = c->h ? flaghist_get(c->h, key) : NULL;
	const char *name = s ? s->name : t ? t->name : key;
	int64_t def = s ? s->count[FLAG_DEF] : 0;
	int64_t ref = s ? s->count[FLAG_REF] : 0;
	const struct flagspec *fs = c->fs;
	/* allow-resurrect wins over retired: the name was let back. */
	json_t *retired = json_object_get(fs->allow_resurrect, key)
				  ? NULL
				  : json_object_get(fs->retired, key);

	if (retired) {
		if (def > 0)
			add(c, FINDING_RESURRECTED,
			    fs->severity[FINDING_RESURRECTED], name, key, s,
			    FLAG_DEF, NULL,
			    "flag '%s' is listed in flags.retired and must not "
			    "be defined again",
			    name);
		else if (ref > 0)
			add(c, FINDING_RETIRED_REFERENCED,
			    fs->severity[FINDING_RETIRED_REFERENCED], name, key,
			    s, FLAG_REF, NULL,
			    "flag '%s' is listed in flags.retired but %lld "
			    "reference%s remain%s",
			    name, (long long)ref, ref == 1 ? "" : "s",
			    ref == 1 ? "s" : "");
		return;
	}
	if (def > 0 && ref == 0)
		add(c, FINDING_DEAD, fs->severity[FINDING_DEAD], name, key, s,
		    FLAG_DEF, NULL, "flag '%s' is defined but never referenced",
		    name);
	if (def == 0 && ref > 0) {
		const struct flag_event *gone =
			t ? last_event(t, FLAG_DEF, t->nev) : NULL;

		if (gone && gone->type == EV_EXTINCT) {
			char x[200];
			json_t *f;

			describe_commit(c->h, gone->commit, x, sizeof(x));
			f = add(c, FINDING_RETIRED_REFERENCED,
				fs->severity[FINDING_RETIRED_REFERENCED], name,
				key, s, FLAG_REF, NULL,
				"flag '%s' lost its definition in %s but %lld "
				"reference%s remain%s",
				name, x, (long long)ref, ref == 1 ? "" : "s",
				ref == 1 ? "s" : "");
			if (f)
				json_object_set_new(
					f, "removed",
					commit_json(c->h, gone->commit));
		} else {
			add(c, FINDING_UNDEFINED,
			    fs->severity[FINDING_UNDEFINED], name, key, s,
			    FLAG_REF, NULL,
			    "flag '%s' is referenced but never defined%s", name,
			    ref > 1 ? " (and elsewhere, see locations)" : "");
		}
	}
	if (t && def > 0) {
		const struct flag_event *ld = last_event(t, FLAG_DEF, t->nev);

		if (ld && ld->type == EV_EXTINCT) {
			/* Gone at the last commit, back in what was scanned
			 * (the working tree): a resurrection not committed
			 * yet, and too new to be stale. */
			check_resurrected_uncommitted(c, t, s, ld);
		} else {
			check_resurrected(c, t, s);
			check_stale(c, t, s);
		}
	}
}

static int rank(const json_t *f)
{
	const char *sev = json_string_value(json_object_get(f, "severity"));
	const char *kind = json_string_value(json_object_get(f, "kind"));
	int r = !strcmp(sev, "error") ? 0 : 100;

	for (int k = 0; k < FINDING_KINDS; k++)
		if (!strcmp(kind, flag_finding_names[k]))
			r += k;
	return r;
}

static int compare(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int d = rank(x) - rank(y);

	if (d)
		return d;
	return strcmp(json_string_value(json_object_get(x, "flag")),
		      json_string_value(json_object_get(y, "flag")));
}

json_t *flags_findings(const struct flagspec *fs, const struct flag_state *st,
		       const struct flag_history *h, int64_t now)
{
	struct ctx c = {fs, st, h, now, json_array()};
	json_t *sorted;
	size_t n;
	json_t **items;

	for (size_t i = 0; i < st->n; i++)
		check_flag(&c, st->v[i].key, &st->v[i]);
	n = json_array_size(c.out);
	items = calloc(n ? n : 1, sizeof(*items));
	if (!items)
		return c.out;
	for (size_t i = 0; i < n; i++)
		items[i] = json_array_get(c.out, i);
	qsort(items, n, sizeof(*items), compare);
	sorted = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append(sorted, items[i]);
	free(items);
	json_decref(c.out);
	return sorted;
}

json_t *flags_sarif(const json_t *findings, const char *version)
{
	static const char *const help[FINDING_KINDS] = {
		"A flag is defined but no code references it.",
		"Code references a flag that is not defined.",
		"A flag has been defined for longer than flags.max-age.",
		("A flag was defined again after its definition was removed: "
		 "old code guarded by it may switch back on."),
		"A flag's definition is gone but code still references it.",
	};
	json_t *rules = json_array(), *results = json_array(), *f;
	size_t i;

	for (int k = 0; k < FINDING_KINDS; k++) {
		char id[64];

		snprintf(id, sizeof(id), "flags/%s", flag_finding_names[k]);
		json_array_append_new(
			rules, json_pack("{s:s,s:s,s:{s:s}}", "id", id, "name",
					 flag_finding_names[k],
					 "shortDescription", "text", help[k]));
	}
	json_array_foreach(findings, i, f)
	{
		char id[64];
		const char *path =
			json_string_value(json_object_get(f, "path"));
		json_t *r;
		int rule = 0;

		for (int k = 0; k < FINDING_KINDS; k++)
			if (!strcmp(json_string_value(
					    json_object_get(f, "kind")),
				    flag_finding_names[k]))
				rule = k;
		snprintf(id, sizeof(id), "flags/%s", flag_finding_names[rule]);
		r = json_pack("{s:s,s:i,s:s,s:{s:O}}", "ruleId", id,
			      "ruleIndex", rule, "level",
			      json_string_value(json_object_get(f, "severity")),
			      "message", "text", json_object_get(f, "message"));
		if (path) {
			json_t *region = json_object();
			json_t *line = json_object_get(f, "line");

			if (line) {
				json_object_set(region, "startLine", line);
				json_object_set(region, "startColumn",
						json_object_get(f, "column"));
			}
			json_object_set_new(
				r, "locations",
				json_pack("[{s:{s:{s:o,s:s},s:o}}]",
					  "physicalLocation",
					  "artifactLocation", "uri",
					  json_object_get(f, "uri")
						  ? json_incref(json_object_get(
							    f, "uri"))
						  : flags_uri(path),
					  "uriBaseId", "%SRCROOT%", "region",
					  region));
			if (!line)
				json_object_del(
					json_object_get(
						json_array_get(
							json_object_get(
								r, "locations"),
							0),
						"physicalLocation"),
					"region");
		}
		json_object_set_new(r, "partialFingerprints",
				    json_pack("{s:O}", "flagKey",
					      json_object_get(f, "key")));
		json_array_append_new(results, r);
	}
	return json_pack(
		"{s:s,s:s,s:[{s:{s:{s:s,s:s,s:s,s:o}},s:o}]}", "$schema",
		"https://json.schemastore.org/sarif-2.1.0.json", "version",
		"2.1.0", "runs", "tool", "driver", "name", "safedeploy flags",
		"version", version, "informationUri",
		"https://github.com/safedeploy/safedeploy", "rules", rules,
		"results", results);
}
