/* Judging what every target says; see verify.h. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extract.h"
#include "verify.h"

const char *const verdict_names[] = {
	[V_MATCH] = "match",
	[V_MISMATCH] = "mismatch",
	[V_UNREACHABLE] = "unreachable",
	[V_INVALID] = "invalid",
	[V_TERMINATING] = "terminating",
	[V_NOT_READY] = "not-ready",
};

static const char *const rule_flags[] = {
	[R_EXPECT] = "--expect",	   [R_SAME] = "--same",
	[R_SAME_PREFIX] = "--same-prefix", [R_EXACTLY_ONE] = "--exactly-one",
	[R_MIN] = "--min-targets",
};

void verify_init(struct verify *v)
{
	memset(v, 0, sizeof(*v));
	v->notes = json_array();
	v->urls = json_object();
}

static void target_release(struct verify *v, struct vtarget *t)
{
	free(t->name);
	free(t->url);
	free(t->address);
	free(t->reason);
	for (size_t i = 0; t->values && i < v->nfields; i++)
		free(t->values[i]);
	free(t->values);
	free(t->kinds);
	json_decref(t->answer);
}

void verify_release(struct verify *v)
{
	for (size_t i = 0; i < v->ntargets; i++)
		target_release(v, &v->targets[i]);
	free(v->targets);
	for (size_t i = 0; i < v->nfields; i++) {
		free(v->fields[i].name);
		free(v->fields[i].path);
	}
	free(v->fields);
	for (size_t i = 0; i < v->nrules; i++) {
		free(v->rules[i].name);
		free(v->rules[i].value);
		free(v->rules[i].path);
		free(v->rules[i].message);
	}
	free(v->rules);
	json_decref(v->notes);
	json_decref(v->urls);
	memset(v, 0, sizeof(*v));
}

static bool valid_name(const char *s, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_-.", s[i]))
			return false;
	return true;
}

static bool is_commit_name(const char *name)
{
	return strstr(name, "commit") || strstr(name, "revision") ||
	       strstr(name, "sha");
}

int verify_add_field(struct verify *v, const char *spec, struct sd_err *err)
{
	const char *eq = strchr(spec, '=');
	struct vfield f = {0};
	struct vfield *bigger;

	if (!eq || !valid_name(spec, (size_t)(eq - spec)) || !eq[1])
		return err_set(err, SD_EXIT_USAGE,
			       "--field '%s': expected NAME=PATH, e.g. "
			       "version=build.version",
			       spec);
	f.prom = !strncmp(eq + 1, "prom:", 5);
	if (f.prom) {
		const char *dot = strrchr(eq + 6, '.');

		if (!dot || dot == eq + 6 || !dot[1])
			return err_set(
				err, SD_EXIT_USAGE,
				"--field '%s': expected prom:METRIC.LABEL",
				spec);
	} else if (jpath_validate(eq + 1, err) < 0) {
		return err_prefix(err, "--field");
	}
	f.name = strndup(spec, (size_t)(eq - spec));
	f.path = strdup(eq + 1 + (f.prom ? 5 : 0));
	f.commit = is_commit_name(f.name);
	for (size_t i = 0; i < v->nfields; i++) {
		if (!strcmp(v->fields[i].name, f.name)) {
			free(v->fields[i].name);
			free(v->fields[i].path);
			v->fields[i] = f;
			return 0;
		}
	}
	bigger = realloc(v->fields, (v->nfields + 1) * sizeof(*bigger));
	if (!bigger || !f.name || !f.path) {
		free(f.name);
		free(f.path);
		return err_set(err, SD_EXIT_CANNOT, "out of memory");
	}
	v->fields = bigger;
	v->fields[v->nfields++] = f;
	return 0;
}

int verify_add_rule(struct verify *v, enum rule_kind kind, const char *arg,
		    struct sd_err *err)
{
	struct vrule r = {.kind = kind, .field = -1};
	const char *eq = strchr(arg, '=');
	struct vrule *bigger;

	switch (kind) {
	case R_EXPECT:
	case R_EXACTLY_ONE:
		if (!eq || !valid_name(arg, (size_t)(eq - arg)))
			return err_set(err, SD_EXIT_USAGE,
				       "%s '%s': expected NAME=VALUE",
				       rule_flags[kind], arg);
		r.name = strndup(arg, (size_t)(eq - arg));
		r.value = strdup(eq + 1);
		break;
	case R_SAME:
		if (!valid_name(arg, strlen(arg)))
			return err_set(err, SD_EXIT_USAGE,
				       "--same '%s': expected a field name",
				       arg);
		r.name = strdup(arg);
		break;
	case R_SAME_PREFIX:
		if (jpath_validate(arg, err) < 0)
			return err_prefix(err, "--same-prefix");
		r.path = strdup(arg);
		break;
	case R_MIN: {
		char *end;

		r.min = strtol(arg, &end, 10);
		if (!*arg || *end || r.min < 1 || r.min > 1000000)
			return err_set(err, SD_EXIT_USAGE,
				       "--min-targets '%s': expected a number "
				       "from 1",
				       arg);
		break;
	}
	}
	bigger = realloc(v->rules, (v->nrules + 1) * sizeof(*bigger));
	if (!bigger) {
		free(r.name);
		free(r.value);
		free(r.path);
		return err_set(err, SD_EXIT_CANNOT, "out of memory");
	}
	v->rules = bigger;
	v->rules[v->nrules++] = r;
	return 0;
}

static int field_index(const struct verify *v, const char *name)
{
	for (size_t i = 0; i < v->nfields; i++)
		if (!strcmp(v->fields[i].name, name))
			return (int)i;
	return -1;
}

int verify_check(struct verify *v, struct sd_err *err)
{
	bool has_same = false;
	char names[512] = "";

	if (!v->nfields &&
	    (verify_add_field(v, "version=build.version", err) < 0 ||
	     verify_add_field(v, "commit=git.commit.id", err) < 0))
		return -1;
	for (size_t i = 0; i < v->nfields; i++) {
		size_t n = strlen(names);

		snprintf(names + n, sizeof(names) - n, "%s%s", n ? ", " : "",
			 v->fields[i].name);
	}
	for (size_t i = 0; i < v->nrules; i++) {
		struct vrule *r = &v->rules[i];

		has_same |= r->kind == R_SAME;
		if (!r->name)
			continue;
		r->field = field_index(v, r->name);
		if (r->field < 0)
			return err_set(err, SD_EXIT_USAGE,
				       "%s: unknown field '%s' (the fields are "
				       "%s; add one with --field %s=PATH)",
				       rule_flags[r->kind], r->name, names,
				       r->name);
	}
	if (has_same)
		return 0;
	/* By default every field must agree, except one that exactly one
	 * target may hold (a role). */
	for (size_t f = 0; f < v->nfields; f++) {
		bool exempt = false;

		for (size_t i = 0; i < v->nrules; i++)
			exempt |= v->rules[i].kind == R_EXACTLY_ONE &&
				  v->rules[i].field == (int)f;
		if (!exempt &&
		    verify_add_rule(v, R_SAME, v->fields[f].name, err) < 0)
			return -1;
		if (!exempt)
			v->rules[v->nrules - 1].field = (int)f;
	}
	return 0;
}

int verify_add_target(struct verify *v, const char *name, const char *url,
		      const char *address, struct sd_err *err)
{
	struct vtarget *bigger, *t;

	if (json_object_get(v->urls, url))
		return 1;
	if (json_object_set_new(v->urls, url, json_true()) < 0)
		return err_set(err, SD_EXIT_CANNOT, "invalid URL '%s'", url);
	bigger = realloc(v->targets, (v->ntargets + 1) * sizeof(*bigger));
	if (!bigger)
		return err_set(err, SD_EXIT_CANNOT, "out of memory");
	v->targets = bigger;
	t = &v->targets[v->ntargets];
	memset(t, 0, sizeof(*t));
	t->name = strdup(name ? name : url);
	t->url = strdup(url);
	t->address = address ? strdup(address) : NULL;
	if (!t->name || !t->url)
		return err_set(err, SD_EXIT_CANNOT, "out of memory");
	v->ntargets++;
	return 0;
}

static void set_verdict(struct vtarget *t, enum verdict verdict,
			const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_verdict(struct vtarget *t, enum verdict verdict,
			const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	t->verdict = verdict;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* A reason may quote the answer (a parser's "near '…'"): never let
	 * a target write control characters to a terminal. */
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	free(t->reason);
	t->reason = strdup(buf);
}

/* A mismatch adds its reason to any earlier one. */
static void add_mismatch(struct vtarget *t, const char *text)
{
	char *joined;

	if (t->verdict == V_MISMATCH && t->reason) {
		size_t n = strlen(t->reason) + strlen(text) + 3;

		joined = malloc(n);
		if (!joined)
			return;
		snprintf(joined, n, "%s; %s", t->reason, text);
		free(t->reason);
		t->reason = joined;
		return;
	}
	set_verdict(t, V_MISMATCH, "%s", text);
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

void verify_read_answer(struct verify *v, struct vtarget *t,
			const struct http_result *r)
{
	bool need_json = false;
	json_error_t jerr;
	struct sd_err err;

	t->asked = true;
	t->seconds = r->seconds;
	if (r->ip[0] && !t->proxied) {
		free(t->address);
		t->address = strdup(r->ip);
	}
	t->values = calloc(v->nfields, sizeof(*t->values));
	t->kinds = calloc(v->nfields, sizeof(*t->kinds));
	if (r->failure == HTTP_TOO_LARGE) {
		set_verdict(t, V_INVALID, "%s", r->error);
		return;
	}
	if (r->failure == HTTP_TLS) {
		set_verdict(t, V_UNREACHABLE, "TLS: %s (see --cacert)",
			    r->error);
		return;
	}
	if (r->failure != HTTP_OK) {
		set_verdict(t, V_UNREACHABLE, "%s", r->error);
		return;
	}
	if (r->status >= 300 && r->status < 400) {
		set_verdict(t, V_INVALID,
			    "HTTP %ld: redirected to '%s', not followed (use "
			    "--follow)",
			    r->status, r->location[0] ? r->location : "?");
		return;
	}
	if (r->status < 200 || r->status >= 300) {
		set_verdict(t, V_INVALID, "HTTP %ld", r->status);
		return;
	}
	if (!t->values || !t->kinds) {
		set_verdict(t, V_INVALID, "out of memory");
		return;
	}
	for (size_t i = 0; i < v->nfields; i++)
		need_json |= !v->fields[i].prom;
	for (size_t i = 0; i < v->nrules; i++)
		need_json |= v->rules[i].kind == R_SAME_PREFIX;
	if (need_json) {
		if (!r->len) {
			set_verdict(t, V_INVALID, "empty answer");
			return;
		}
		t->answer = json_loadb(r->body, r->len, 0, &jerr);
		if (!t->answer) {
			set_verdict(t, V_INVALID,
				    "answer is not JSON%s%s%s: line %d, column "
				    "%d: %s",
				    r->content_type[0] ? " (" : "",
				    r->content_type,
				    r->content_type[0] ? ")" : "", jerr.line,
				    jerr.column, jerr.text);
			return;
		}
	}
	for (size_t i = 0; i < v->nfields; i++) {
		const struct vfield *f = &v->fields[i];

		if (f->prom) {
			const char *dot = strrchr(f->path, '.');
			char *metric =
				strndup(f->path, (size_t)(dot - f->path));
			int rc =
				metric ? promtext_label(r->body ? r->body : "",
							r->len, metric, dot + 1,
							&t->values[i], &err)
				       : -1;

			free(metric);
			if (rc < 0) {
				set_verdict(t, V_INVALID, "field '%s': %s",
					    f->name,
					    metric ? err.msg : "out of memory");
				return;
			}
			t->kinds[i] = "string";
			if (has_control(t->values[i])) {
				free(t->values[i]);
				t->values[i] = NULL;
				set_verdict(t, V_INVALID,
					    "field '%s' contains control "
					    "characters",
					    f->name);
				return;
			}
			continue;
		}
		json_t *val = jpath_get(t->answer, f->path, &err);

		if (!val) {
			set_verdict(t, V_INVALID, "field '%s': %s", f->name,
				    err.msg);
			return;
		}
		t->values[i] = jpath_text(val, &t->kinds[i]);
		if (t->values[i] && has_control(t->values[i])) {
			free(t->values[i]);
			t->values[i] = NULL;
			set_verdict(t, V_INVALID,
				    "field '%s' contains control characters",
				    f->name);
			return;
		}
		if (!t->values[i]) {
			set_verdict(t, V_INVALID,
				    "field '%s' ('%s') is %s %s, not a value",
				    f->name, f->path,
				    t->kinds[i][0] == 'a' ||
						    t->kinds[i][0] == 'o'
					    ? "an"
					    : "a",
				    t->kinds[i]);
			return;
		}
	}
	if (t->not_ready)
		set_verdict(t, V_NOT_READY, "pod is not Ready");
	else
		t->verdict = V_MATCH;
}

void verify_reset(struct verify *v)
{
	for (size_t i = 0; i < v->ntargets; i++) {
		struct vtarget *t = &v->targets[i];

		if (t->fixed)
			continue;
		for (size_t f = 0; t->values && f < v->nfields; f++)
			free(t->values[f]);
		free(t->values);
		free(t->kinds);
		free(t->reason);
		json_decref(t->answer);
		t->values = NULL;
		t->kinds = NULL;
		t->reason = NULL;
		t->answer = NULL;
		t->verdict = V_MATCH;
		t->asked = false;
		t->seconds = 0;
	}
	for (size_t i = 0; i < v->nrules; i++) {
		free(v->rules[i].message);
		v->rules[i].message = NULL;
		v->rules[i].ok = true;
	}
	json_array_clear(v->notes);
	memset(v->counts, 0, sizeof(v->counts));
}

bool verify_values_equal(const struct vfield *f, const char *a, const char *b)
{
	size_t la, lb;

	if (!strcmp(a, b))
		return true;
	if (!f || !f->commit)
		return false;
	/* An abbreviated commit id matches the full one it starts. */
	la = strlen(a);
	lb = strlen(b);
	if (la < 7 || lb < 7)
		return false;
	return la < lb ? !strncasecmp(a, b, la) : !strncasecmp(a, b, lb);
}

static bool has_values(const struct vtarget *t)
{
	return t->verdict == V_MATCH || t->verdict == V_NOT_READY ||
	       t->verdict == V_MISMATCH;
}

/* The most common value of field f among targets with values (first seen
 * wins a tie), how many hold it, and how many distinct values there are.
 * Linear in targets times distinct values, which are few. */
static const char *majority(const struct verify *v, int f, size_t *count,
			    size_t *groups)
{
	const char **reps = calloc(v->ntargets + 1, sizeof(*reps));
	size_t *counts = calloc(v->ntargets + 1, sizeof(*counts));
	const char *best = NULL;
	size_t ngroups = 0, best_n = 0;

	*groups = 0;
	*count = 0;
	if (!reps || !counts) {
		free(reps);
		free(counts);
		return NULL;
	}
	for (size_t i = 0; i < v->ntargets; i++) {
		const struct vtarget *t = &v->targets[i];
		size_t g;

		if (!has_values(t))
			continue;
		for (g = 0; g < ngroups; g++)
			if (verify_values_equal(&v->fields[f], reps[g],
						t->values[f]))
				break;
		if (g == ngroups)
			reps[ngroups++] = t->values[f];
		counts[g]++;
	}
	for (size_t g = 0; g < ngroups; g++) {
		if (counts[g] > best_n) {
			best_n = counts[g];
			best = reps[g];
		}
	}
	free(reps);
	free(counts);
	*groups = ngroups;
	*count = best_n;
	return best;
}

static void rule_fail(struct vrule *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void rule_fail(struct vrule *r, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	r->ok = false;
	if (!fmt)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	free(r->message);
	r->message = strdup(buf);
}

/* Values of one field compared across types are compared as text; say so
 * once per field. */
static void note_mixed_kinds(struct verify *v, int f)
{
	const char *first = NULL;

	for (size_t i = 0; i < v->ntargets; i++) {
		const struct vtarget *t = &v->targets[i];
		char note[512];

		if (!has_values(t) || !t->kinds[f])
			continue;
		if (!first) {
			first = t->kinds[f];
		} else if (strcmp(first, t->kinds[f])) {
			snprintf(note, sizeof(note),
				 "field '%s' is a %s on some targets and a %s "
				 "on others (%s); compared as text",
				 v->fields[f].name, first, t->kinds[f],
				 t->name);
			json_array_append_new(v->notes, json_string(note));
			return;
		}
	}
}

static void judge_expect(struct verify *v, struct vrule *r)
{
	const struct vfield *f = &v->fields[r->field];
	size_t bad = 0;

	for (size_t i = 0; i < v->ntargets; i++) {
		struct vtarget *t = &v->targets[i];
		char text[1024];

		if (!has_values(t) ||
		    verify_values_equal(f, t->values[r->field], r->value))
			continue;
		snprintf(text, sizeof(text), "%s=%s, expected %s", f->name,
			 t->values[r->field], r->value);
		add_mismatch(t, text);
		bad++;
	}
	if (bad)
		rule_fail(r, NULL);
}

static void judge_same(struct verify *v, struct vrule *r)
{
	const struct vfield *f = &v->fields[r->field];
	size_t count, groups;
	const char *best = majority(v, r->field, &count, &groups);

	note_mixed_kinds(v, r->field);
	if (groups <= 1)
		return;
	rule_fail(r, NULL);
	for (size_t i = 0; i < v->ntargets; i++) {
		struct vtarget *t = &v->targets[i];
		char text[1024];

		if (!has_values(t) ||
		    verify_values_equal(f, t->values[r->field], best))
			continue;
		snprintf(text, sizeof(text), "%s=%s (%zu other%s %s %s)",
			 f->name, t->values[r->field], count,
			 count == 1 ? "" : "s", count == 1 ? "says" : "say",
			 best);
		add_mismatch(t, text);
	}
}

/* Every key under an object (all feature flags) equal on all targets. */
static void judge_same_prefix(struct verify *v, struct vrule *r)
{
	json_t *keys = json_object();
	const char *key;
	json_t *dummy;
	struct sd_err err;

	for (size_t i = 0; i < v->ntargets; i++) {
		struct vtarget *t = &v->targets[i];
		json_t *obj;

		if (!has_values(t) || !t->answer)
			continue;
		obj = jpath_get(t->answer, r->path, &err);
		if (!json_is_object(obj)) {
			char text[1100];

			snprintf(text, sizeof(text), "%s",
				 obj ? "not an object" : err.msg);
			add_mismatch(t, text);
			rule_fail(r, NULL);
			continue;
		}
		json_object_foreach(obj, key, dummy)
			json_object_set_new(keys, key, json_true());
	}
	json_object_foreach(keys, key, dummy)
	{
		struct vfield f = {.name = (char *)key};
		const char *best = NULL;
		size_t best_n = 0;
		char **texts = calloc(v->ntargets, sizeof(*texts));

		if (!texts)
			break;
		for (size_t i = 0; i < v->ntargets; i++) {
			struct vtarget *t = &v->targets[i];
			json_t *val;
			const char *kind;

			if (!has_values(t) || !t->answer)
				continue;
			val = json_object_get(
				jpath_get(t->answer, r->path, &err), key);
			texts[i] = val ? jpath_text(val, &kind) : NULL;
			if (!texts[i])
				texts[i] = strdup(val ? "(not a value)"
						      : "(absent)");
		}
		for (size_t i = 0; i < v->ntargets; i++) {
			size_t n = 0;

			for (size_t j = 0; texts[i] && j < v->ntargets; j++)
				n += texts[j] && !strcmp(texts[i], texts[j]);
			if (n > best_n) {
				best_n = n;
				best = texts[i];
			}
		}
		for (size_t i = 0; i < v->ntargets; i++) {
			char text[1024];

			if (!texts[i] ||
			    verify_values_equal(&f, texts[i], best))
				continue;
			snprintf(text, sizeof(text), "%s.%s=%s (others %s)",
				 r->path, key, texts[i], best);
			add_mismatch(&v->targets[i], text);
			rule_fail(r, NULL);
		}
		for (size_t i = 0; i < v->ntargets; i++)
			free(texts[i]);
		free(texts);
	}
	json_decref(keys);
}

static void judge_exactly_one(struct verify *v, struct vrule *r)
{
	const struct vfield *f = &v->fields[r->field];
	char names[512] = "";
	size_t n = 0;

	for (size_t i = 0; i < v->ntargets; i++) {
		struct vtarget *t = &v->targets[i];

		if (!has_values(t) ||
		    !verify_values_equal(f, t->values[r->field], r->value))
			continue;
		if (n++ < 5) {
			size_t used = strlen(names);

			snprintf(names + used, sizeof(names) - used, "%s%s",
				 used ? ", " : "", t->name);
		}
	}
	if (n == 1)
		return;
	if (n == 0) {
		rule_fail(r, "no target says %s=%s; exactly one must", f->name,
			  r->value);
		return;
	}
	rule_fail(r, "%zu targets say %s=%s (%s%s); exactly one may", n,
		  f->name, r->value, names, n > 5 ? ", …" : "");
	for (size_t i = 0; i < v->ntargets; i++) {
		struct vtarget *t = &v->targets[i];
		char text[256];

		if (!has_values(t) ||
		    !verify_values_equal(f, t->values[r->field], r->value))
			continue;
		snprintf(text, sizeof(text), "%s=%s on %zu targets", f->name,
			 r->value, n);
		add_mismatch(t, text);
	}
}

void verify_judge(struct verify *v)
{
	for (size_t i = 0; i < v->nrules; i++) {
		struct vrule *r = &v->rules[i];

		r->ok = true;
		switch (r->kind) {
		case R_EXPECT:
			judge_expect(v, r);
			break;
		case R_SAME:
			judge_same(v, r);
			break;
		case R_SAME_PREFIX:
			judge_same_prefix(v, r);
			break;
		case R_EXACTLY_ONE:
			judge_exactly_one(v, r);
			break;
		case R_MIN:
			break;
		}
	}
	memset(v->counts, 0, sizeof(v->counts));
	for (size_t i = 0; i < v->ntargets; i++)
		v->counts[v->targets[i].verdict]++;
	v->rules_ok = v->ntargets > 0;
	for (size_t i = 0; i < v->nrules; i++) {
		struct vrule *r = &v->rules[i];

		if (r->kind == R_MIN && v->counts[V_MATCH] < (size_t)r->min)
			rule_fail(r,
				  "only %zu target%s agree; --min-targets is "
				  "%ld",
				  v->counts[V_MATCH],
				  v->counts[V_MATCH] == 1 ? "" : "s", r->min);
		v->rules_ok &= r->ok;
	}
}

int verify_exit_status(const struct verify *v)
{
	if (!v->ntargets || !v->rules_ok || v->counts[V_MISMATCH] ||
	    v->counts[V_INVALID] || v->counts[V_NOT_READY])
		return SD_EXIT_FAIL;
	if (v->counts[V_UNREACHABLE] > (size_t)v->allow_unreachable)
		return SD_EXIT_CANNOT;
	return SD_EXIT_OK;
}

/* "version=1.2.3 commit=4f2a9c1" */
static void values_text(const struct verify *v, const struct vtarget *t,
			char *buf, size_t n)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t f = 0; f < v->nfields && used < n; f++)
		used += (size_t)snprintf(
			buf + used, n - used, "%s%s=%s", f ? " " : "",
			v->fields[f].name,
			t->values && t->values[f] ? t->values[f] : "?");
}

static void who(const struct vtarget *t, char *buf, size_t n)
{
	if (t->address && strcmp(t->address, t->name))
		snprintf(buf, n, "%s (%s)", t->name, t->address);
	else
		snprintf(buf, n, "%s", t->name);
}

/* One line for a single target, else a count and up to ten lines. */
static void summarise_group(const struct verify *v, json_t *out,
			    enum verdict verdict, const char *what)
{
	size_t n = v->counts[verdict], shown = 0;
	char line[2048], id[600], vals[1024];

	if (!n)
		return;
	if (n > 1)
		json_array_append_new(out, json_sprintf("%zu %s:", n, what));
	for (size_t i = 0; i < v->ntargets && shown < 10; i++) {
		const struct vtarget *t = &v->targets[i];
		const char *detail = t->reason ? t->reason : "";

		if (t->verdict != verdict)
			continue;
		who(t, id, sizeof(id));
		if (verdict == V_MISMATCH) {
			values_text(v, t, vals, sizeof(vals));
			detail = vals;
		}
		if (n == 1)
			snprintf(line, sizeof(line), "1 %s: %s %s", what, id,
				 detail);
		else
			snprintf(line, sizeof(line), "  %s %s", id, detail);
		json_array_append_new(out, json_string(line));
		shown++;
	}
	if (n > shown)
		json_array_append_new(
			out, json_sprintf("  … and %zu more", n - shown));
}

json_t *verify_summary(const struct verify *v)
{
	json_t *out = json_array();
	size_t asked = v->ntargets - v->counts[V_TERMINATING];
	char line[2048], vals[1024];
	size_t i;
	json_t *note;

	if (!v->ntargets) {
		json_array_append_new(out, json_string("no targets: nothing "
						       "was checked"));
		return out;
	}
	vals[0] = '\0';
	for (i = 0; i < v->ntargets; i++)
		if (v->targets[i].verdict == V_MATCH) {
			values_text(v, &v->targets[i], vals, sizeof(vals));
			break;
		}
	snprintf(line, sizeof(line), "%zu of %zu target%s agree%s%s",
		 v->counts[V_MATCH], asked, asked == 1 ? "" : "s",
		 vals[0] ? ": " : "", vals);
	json_array_append_new(out, json_string(line));
	summarise_group(v, out, V_MISMATCH,
			v->counts[V_MISMATCH] == 1 ? "differs" : "differ");
	summarise_group(v, out, V_INVALID, "invalid");
	summarise_group(v, out, V_UNREACHABLE, "unreachable");
	summarise_group(v, out, V_NOT_READY, "not ready");
	summarise_group(v, out, V_TERMINATING, "terminating, not asked");
	for (i = 0; i < v->nrules; i++)
		if (!v->rules[i].ok && v->rules[i].message)
			json_array_append_new(out,
					      json_string(v->rules[i].message));
	json_array_foreach(v->notes, i, note) json_array_append(out, note);
	return out;
}
