/* The `flags:` configuration compiled: see flagspec.h. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcre2.h>

#include "flagspec.h"
#include "pathglob.h"
#include "plan.h"
#include "units.h"

/* Bump when the way timelines are derived changes: cached ones are then
 * rebuilt. */
#define FLAGS_ENGINE_VERSION 1

/* PCRE2 gives up on a file after this many backtracking steps: a pattern
 * that backtracks catastrophically on one odd file must not hang a hook. */
#define FLAG_MATCH_LIMIT 2000000

const char *const flag_finding_names[FINDING_KINDS] = {
	"dead", "undefined", "stale", "resurrected", "retired-but-referenced",
};
const char *const flag_severity_names[3] = {"off", "warning", "error"};

static const enum flag_severity default_severity[FINDING_KINDS] = {
	SEV_ERROR, SEV_ERROR, SEV_WARNING, SEV_ERROR, SEV_ERROR,
};

static const char *const default_exclude[] = {
	"vendor/",
	"third_party/",
	"node_modules/",
	NULL,
};

/* Presets: the definition and reference sources of common flag systems.
 * Adding one is a row here, a line in the man page and README, and a test
 * in tests/flags.bats. */
struct preset_source {
	enum flag_kind kind;
	const char *paths[14];
	const char *pattern;
	const char *json_key;
};

struct preset {
	const char *name;
	unsigned forms;
	struct preset_source src[4];
};

static const struct preset presets[] = {
	/* Kubernetes-style Go feature gates: `Name featuregate.Feature =
	 * "Name"` in a features package, used as `features.Name`. */
	{"kubernetes",
	 0,
	 {{FLAG_DEF,
	   {"*.go"},
	   "^\\s*([A-Za-z_]\\w*)\\s+featuregate\\.Feature\\s*=\\s*\"",
	   NULL},
	  {FLAG_REF, {"*.go"}, "\\bfeatures?\\.([A-Z]\\w*)\\b(?![.(])", NULL}}},
	/* OpenFeature flagd: the keys of "flags" in a flagd JSON file, used
	 * through the SDKs' typed evaluation calls. */
	{"flagd",
	 0,
	 {{FLAG_DEF,
	   {"*.flagd.json", "flagd.json", "flags.json"},
	   NULL,
	   "flags"},
	  {FLAG_REF,
	   {"*.go", "*.java", "*.kt", "*.js", "*.jsx", "*.ts", "*.tsx", "*.py",
	    "*.cs", "*.php", "*.rb", "*.swift", "*.rs"},
	   "\\b(?:[Gg]et_?)?(?:Boolean|String|Number|Integer|Int|Float|Double|"
	   "Object|boolean|string|number|integer|float|object)_?(?:Value|"
	   "Details|value|details)\\s*\\(\\s*(?:[A-Za-z_][\\w.]*\\s*,\\s*)?"
	   "[\"'`]([^\"'`\\s]+)[\"'`]",
	   NULL}}},
	/* GitLab: one YAML file per flag with `name:`, used from Ruby as
	 * Feature.enabled?(:name) and from JavaScript as glFeatures.name
	 * (camelCase, hence the snake/camel alias). */
	{"gitlab",
	 FLAG_FORM_SNAKE | FLAG_FORM_CAMEL,
	 {{FLAG_DEF,
	   {"/config/feature_flags/**/*.yml",
	    "/ee/config/feature_flags/**/*.yml"},
	   "^name:[ \\t]*['\"]?([\\w.-]+)",
	   NULL},
	  {FLAG_REF,
	   {"*.rb", "*.haml", "*.erb"},
	   "\\b(?:Feature\\.(?:enabled|disabled)\\?|push_frontend_feature_flag|"
	   "push_force_frontend_feature_flag|feature_flag_enabled\\?)\\(\\s*:"
	   "(\\w+)",
	   NULL},
	  {FLAG_REF,
	   {"*.js", "*.vue", "*.ts"},
	   "\\bglFeatures\\.(\\w+)",
	   NULL}}},
	/* A plain list: one name per line, '#' comments. */
	{"list",
	 0,
	 {{FLAG_DEF,
	   {"/flags.txt"},
	   "^[ \\t]*([A-Za-z_][\\w.-]*)[ \\t]*(?:#.*)?$",
	   NULL}}},
};

static void free_strv(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

static char **strv_from(const char *const *src, size_t n)
{
	char **v = calloc(n + 1, sizeof(*v));

	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!(v[i] = strdup(src[i]))) {
			free_strv(v);
			return NULL;
		}
	return v;
}

/* "FILE:LINE:COL: " for a config path, or "" when it has no origin. */
static const char *where(const struct config *cfg, const char *path, char *buf,
			 size_t n)
{
	const char *o = cfg ? config_origin(cfg, path) : NULL;

	if (o)
		snprintf(buf, n, "%s: ", o);
	else
		buf[0] = '\0';
	return buf;
}

/* Literal extraction. Walk the top level of the pattern; any construct we
 * do not understand ends the current run, which is always safe. */

/* Past the class that starts at p ('['), or NULL when it does not end.
 * A ']' first in the class is a member; [:alpha:] inside it is one. */
static const char *class_end(const char *p)
{
	const char *q = p + 1;

	if (*q == '^')
		q++;
	if (*q == ']')
		q++;
	while (*q && *q != ']') {
		if (*q == '\\' && q[1]) {
			q += 2;
		} else if (q[0] == '[' &&
			   (q[1] == ':' || q[1] == '.' || q[1] == '=')) {
			const char *e = strchr(q + 2, q[1]);

			q = e && e[1] == ']' ? e + 2 : q + 1;
		} else {
			q++;
		}
	}
	return *q ? q + 1 : NULL;
}
static const char *skip_group(const char *p)
{
	int depth = 0;

	for (; *p; p++) {
		if (*p == '\\' && p[1]) {
			p++;
		} else if (*p == '[') {
			p = class_end(p);
			if (!p)
				return NULL;
			p--; /* at the ']'; the loop steps past it */
		} else if (*p == '(') {
			depth++;
		} else if (*p == ')') {
			if (--depth == 0)
				return p + 1;
		}
	}
	return NULL;
}

/* The end of a {n}, {n,}, {n,m} or {,m} quantifier at p, or NULL when
 * the brace is a literal. */
static const char *brace_end(const char *p)
{
	const char *q = p + 1;
	bool digits = false;

	if (*p != '{')
		return NULL;
	while (isdigit((unsigned char)*q))
		q++, digits = true;
	if (*q == ',') {
		q++;
		while (isdigit((unsigned char)*q))
			q++, digits = true;
	}
	return digits && *q == '}' ? q + 1 : NULL;
}

static bool optional_quantifier(const char *p)
{
	return *p == '?' || *p == '*' ||
	       (brace_end(p) && (p[1] == '0' || p[1] == ','));
}

static bool any_quantifier(const char *p)
{
	return *p == '?' || *p == '*' || *p == '+' || brace_end(p);
}

/* Past the quantifier at p and its lazy or possessive mark. */
static const char *skip_quantifier(const char *p)
{
	const char *e = brace_end(p);

	p = e ? e : p + 1;
	if (*p == '?' || *p == '+')
		p++;
	return p;
}

/* Past an escape that is not a literal character: \w, \x{41}, \p{Lu},
 * \cA, \101, \k<name>, \g{-1}... */
static const char *skip_escape(const char *p)
{
	char k = p[1];
	const char *q = p + 2;

	if (k == 'c')
		return *q ? q + 1 : q;
	if (isdigit((unsigned char)k)) {
		while (isdigit((unsigned char)*q))
			q++;
		return q;
	}
	if (strchr("xopPNgk", k) && *q == '{') {
		while (*q && *q != '}')
			q++;
		return *q ? q + 1 : q;
	}
	if ((k == 'k' || k == 'g') && (*q == '<' || *q == '\'')) {
		char close = *q == '<' ? '>' : '\'';

		while (*++q && *q != close)
			;
		return *q ? q + 1 : q;
	}
	if (k == 'x') {
		for (int i = 0; i < 2 && isxdigit((unsigned char)*q); i++)
			q++;
		return q;
	}
	if ((k == 'p' || k == 'P') && *q)
		return q + 1;
	if (k == 'g') {
		if (*q == '-' || *q == '+')
			q++;
		while (isdigit((unsigned char)*q))
			q++;
	}
	return q;
}

char *flagspec_literal(const char *pattern, size_t *len)
{
	char run[256], best[256];
	size_t rl = 0, bl = 0;
	const char *p = pattern;

	*len = 0;
	/* Options that change what a character means, \Q quoting, and
	 * alternation at the top level: give up. */
	for (const char *s = pattern; *s; s++) {
		if (*s == '\\' && s[1]) {
			if (s[1] == 'Q' || s[1] == 'E')
				return NULL;
			s++;
		} else if (s[0] == '(' && s[1] == '?' &&
			   (isalpha((unsigned char)s[2]) || s[2] == '^' ||
			    s[2] == '-')) {
			return NULL;
		} else if (s[0] == '(' && s[1] == '*') {
			return NULL;
		}
	}
#define END_RUN()                                                              \
	do {                                                                   \
		if (rl > bl) {                                                 \
			memcpy(best, run, rl);                                 \
			bl = rl;                                               \
		}                                                              \
		rl = 0;                                                        \
	} while (0)
	while (*p) {
		char c;

		if (*p == '|')
			return NULL;
		if (*p == '(') {
			const char *e = skip_group(p);

			if (!e)
				return NULL;
			END_RUN();
			p = e;
			continue;
		}
		if (*p == '[') {
			const char *e = class_end(p);

			if (!e)
				return NULL;
			END_RUN();
			p = e;
			continue;
		}
		if (*p == '\\') {
			if (!p[1])
				return NULL;
			if (isalnum((unsigned char)p[1]) ||
			    (unsigned char)p[1] >= 0x80) {
				/* run[0, rl) is written before rl grows, which
				 * cppcheck does not follow. */
				/* cppcheck-suppress legacyUninitvar */
				END_RUN();
				p = skip_escape(p);
				continue;
			}
			c = p[1];
			p += 2;
		} else if (strchr(".^$)", *p)) {
			END_RUN();
			p++;
			continue;
		} else if (any_quantifier(p)) {
			/* A quantifier on a group, a class or an escape: the
			 * run has already ended. */
			END_RUN();
			p = skip_quantifier(p);
			continue;
		} else {
			c = *p++;
		}
		if (optional_quantifier(p)) {
			END_RUN();
			p = skip_quantifier(p);
			continue;
		}
		if (rl < sizeof(run))
			run[rl++] = c;
		if (any_quantifier(p)) {
			END_RUN();
			p = skip_quantifier(p);
		}
	}
	END_RUN();
#undef END_RUN
	if (bl < 3)
		return NULL;
	char *out = malloc(bl + 1);

	if (!out)
		return NULL;
	memcpy(out, best, bl);
	out[bl] = '\0';
	*len = bl;
	return out;
}

static void *compile(const char *pattern, const char *what, const char *loc,
		     bool need_group, struct sd_err *err)
{
	pcre2_compile_context *cc = pcre2_compile_context_create(NULL);
	PCRE2_SIZE erroff = 0;
	uint32_t groups = 0;
	pcre2_code *re;
	int code = 0;

	if (!cc) {
		err_set(err, SD_EXIT_CANNOT, "out of memory");
		return NULL;
	}
	pcre2_set_newline(cc, PCRE2_NEWLINE_ANYCRLF);
	re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
			   PCRE2_MULTILINE, &code, &erroff, cc);
	pcre2_compile_context_free(cc);
	if (!re) {
		PCRE2_UCHAR msg[256];

		pcre2_get_error_message(code, msg, sizeof(msg));
		err_set(err, SD_EXIT_CANNOT,
			"%sinvalid %s '%s': %s at offset %zu", loc, what,
			pattern, (char *)msg, (size_t)erroff);
		return NULL;
	}
	pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &groups);
	if (need_group && groups < 1) {
		pcre2_code_free(re);
		err_set(err, SD_EXIT_CANNOT,
			"%s%s '%s' has no capture group: the first group "
			"must capture the flag name, as in 'features\\.(\\w+)'",
			loc, what, pattern);
		return NULL;
	}
	/* JIT where the platform has it; pcre2_match uses it by itself. */
	pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	return re;
}

static int add_source(struct flagspec *fs, enum flag_kind kind, char **paths,
		      const char *pattern, const char *json_key,
		      const char *origin, struct sd_err *err)
{
	struct flag_source *s;
	char loc[600];

	snprintf(loc, sizeof(loc), "%s: ", origin);
	if (fs->nsrc == FLAG_MAX_SOURCES) {
		free_strv(paths);
		return err_set(err, SD_EXIT_CANNOT,
			       "%smore than %d flag sources", loc,
			       FLAG_MAX_SOURCES);
	}
	s = &fs->src[fs->nsrc++];
	s->kind = kind;
	s->paths = paths;
	for (s->npaths = 0; paths[s->npaths]; s->npaths++)
		;
	s->origin = strdup(origin);
	if (kind == FLAG_DEF)
		fs->any = true;
	if (json_key) {
		s->json_key = strdup(json_key);
		return s->json_key && s->origin
			       ? 0
			       : err_set(err, SD_EXIT_CANNOT, "out of memory");
	}
	s->pattern = strdup(pattern);
	if (!s->pattern || !s->origin)
		return err_set(err, SD_EXIT_CANNOT, "out of memory");
	s->re = compile(pattern,
			kind == FLAG_DEF ? "define pattern"
					 : "reference pattern",
			loc, true, err);
	if (!s->re)
		return -1;
	s->literal = flagspec_literal(pattern, &s->literal_len);
	return 0;
}

static int load_preset(struct flagspec *fs, json_t *item, const char *loc,
		       struct sd_err *err)
{
	const char *name =
		json_is_string(item) ? json_string_value(item) : NULL;
	json_t *paths = NULL;
	const struct preset *p = NULL;
	char origin[600], known[200] = "";

	if (json_is_object(item)) {
		json_t *n = json_object_get(item, "name");
		const char *k;
		json_t *v;

		json_object_foreach(item, k, v)
		{
			if (strcmp(k, "name") && strcmp(k, "paths"))
				return err_set(err, SD_EXIT_CANNOT,
					       "%sunknown key '%s' in a preset "
					       "(known: name, paths)",
					       loc, k);
		}
		name = json_string_value(n);
		paths = json_object_get(item, "paths");
		if (paths && !json_is_array(paths))
			return err_set(err, SD_EXIT_CANNOT,
				       "%sa preset's paths must be a list of "
				       "globs",
				       loc);
	}
	if (!name)
		return err_set(err, SD_EXIT_CANNOT,
			       "%sa preset is a name, or a mapping with name "
			       "and paths",
			       loc);
	for (size_t i = 0; i < sizeof(presets) / sizeof(presets[0]); i++) {
		if (!strcmp(presets[i].name, name))
			p = &presets[i];
		snprintf(known + strlen(known), sizeof(known) - strlen(known),
			 "%s%s", i ? ", " : "", presets[i].name);
	}
	if (!p)
		return err_set(err, SD_EXIT_CANNOT,
			       "%sunknown preset '%s' (known: %s)", loc, name,
			       known);
	snprintf(origin, sizeof(origin), "preset '%s'", name);
	fs->case_forms |= p->forms;
	for (size_t i = 0; i < 4 && (p->src[i].pattern || p->src[i].json_key);
	     i++) {
		const struct preset_source *ps = &p->src[i];
		char **v;

		if (paths && ps->kind == FLAG_DEF) {
			size_t n = json_array_size(paths), j;

			v = calloc(n + 1, sizeof(*v));
			for (j = 0; v && j < n; j++) {
				const char *g = json_string_value(
					json_array_get(paths, j));
				const char *bad =
					g ? pathglob_check(g) : "not a string";

				if (bad) {
					free_strv(v);
					return err_set(err, SD_EXIT_CANNOT,
						       "%spreset '%s': "
						       "paths[%zu]: %s",
						       loc, name, j, bad);
				}
				v[j] = strdup(g);
			}
		} else {
			size_t n = 0;

			while (ps->paths[n])
				n++;
			v = strv_from(ps->paths, n);
		}
		if (!v)
			return err_set(err, SD_EXIT_CANNOT, "out of memory");
		if (add_source(fs, ps->kind, v, ps->pattern, ps->json_key,
			       origin, err) < 0)
			return -1;
	}
	return 0;
}

static int load_sources(struct flagspec *fs, const struct config *cfg,
			json_t *list, enum flag_kind kind, const char *key,
			struct sd_err *err)
{
	size_t i;
	json_t *item;
	char path[200], loc[600];

	if (!list)
		return 0;
	if (!json_is_array(list))
		return err_set(err, SD_EXIT_CANNOT,
			       "%sflags.%s must be a list of {paths, pattern}",
			       where(cfg, "flags", loc, sizeof(loc)), key);
	json_array_foreach(list, i, item)
	{
		json_t *paths, *pat, *js;
		char **v;
		size_t n, j;
		const char *o;

		snprintf(path, sizeof(path), "flags.%s[%zu]", key, i);
		o = cfg ? config_origin(cfg, path) : NULL;
		where(cfg, path, loc, sizeof(loc));
		/* List items have no position of their own: their first
		 * key's will do. */
		if (!loc[0] && cfg) {
			char kp[260];

			snprintf(kp, sizeof(kp), "%s.paths", path);
			where(cfg, kp, loc, sizeof(loc));
			/* where() rewrote loc; cppcheck does not see it. */
			/* cppcheck-suppress identicalInnerCondition */
			if (!loc[0]) {
				snprintf(kp, sizeof(kp), "%s.pattern", path);
				where(cfg, kp, loc, sizeof(loc));
			}
		}
		if (!json_is_object(item))
			return err_set(err, SD_EXIT_CANNOT,
				       "%s%s: expected a mapping with paths "
				       "and pattern",
				       loc, path);
		paths = json_object_get(item, "paths");
		pat = json_object_get(item, "pattern");
		js = json_object_get(item, "json");
		if (!json_is_array(paths) || !json_array_size(paths))
			return err_set(err, SD_EXIT_CANNOT,
				       "%s%s: 'paths' must be a non-empty list "
				       "of globs",
				       loc, path);
		if (!json_is_string(pat) == !json_is_string(js))
			return err_set(err, SD_EXIT_CANNOT,
				       "%s%s: give either 'pattern' (a regex "
				       "whose first group is the name) or "
				       "'json' (the object whose keys are the "
				       "names)",
				       loc, path);
		if (js && kind == FLAG_REF)
			return err_set(err, SD_EXIT_CANNOT,
				       "%s%s: 'json' is for definitions only",
				       loc, path);
		n = json_array_size(paths);
		v = calloc(n + 1, sizeof(*v));
		if (!v)
			return err_set(err, SD_EXIT_CANNOT, "out of memory");
		for (j = 0; j < n; j++) {
			const char *g =
				json_string_value(json_array_get(paths, j));
			const char *bad =
				g ? pathglob_check(g) : "not a string";

			if (bad) {
				free_strv(v);
				return err_set(err, SD_EXIT_CANNOT,
					       "%s%s.paths[%zu]: %s%s%s%s", loc,
					       path, j, g ? "'" : "",
					       g ? g : "", g ? "': " : "", bad);
			}
			if (!(v[j] = strdup(g))) {
				free_strv(v);
				return err_set(err, SD_EXIT_CANNOT,
					       "out of memory");
			}
		}
		snprintf(path, sizeof(path), "flags.%s[%zu].pattern", key, i);
		if (!o)
			o = cfg ? config_origin(cfg, path) : NULL;
		if (add_source(fs, kind, v, json_string_value(pat),
			       json_string_value(js), o ? o : path, err) < 0)
			return -1;
	}
	return 0;
}

static int load_alias(struct flagspec *fs, const struct config *cfg,
		      json_t *alias, struct sd_err *err)
{
	size_t i;
	json_t *item;
	char loc[600];

	if (!alias)
		return 0;
	if (json_is_string(alias)) {
		json_t *one = json_pack("[O]", alias);
		int rc = load_alias(fs, cfg, one, err);

		json_decref(one);
		return rc;
	}
	where(cfg, "flags.alias", loc, sizeof(loc));
	if (!json_is_array(alias))
		return err_set(err, SD_EXIT_CANNOT,
			       "%sflags.alias must be a list of snake, kebab, "
			       "camel, upper or {pattern, replace}",
			       loc);
	fs->alias_re =
		calloc(json_array_size(alias) + 1, sizeof(*fs->alias_re));
	if (!fs->alias_re)
		return err_set(err, SD_EXIT_CANNOT, "out of memory");
	json_array_foreach(alias, i, item)
	{
		const char *s = json_string_value(item);

		if (s && !strcmp(s, "snake"))
			fs->case_forms |= FLAG_FORM_SNAKE;
		else if (s && !strcmp(s, "kebab"))
			fs->case_forms |= FLAG_FORM_KEBAB;
		else if (s && !strcmp(s, "camel"))
			fs->case_forms |= FLAG_FORM_CAMEL;
		else if (s && !strcmp(s, "upper"))
			fs->case_forms |= FLAG_FORM_UPPER;
		else if (s)
			return err_set(err, SD_EXIT_CANNOT,
				       "%sflags.alias[%zu]: unknown alias '%s' "
				       "(known: snake, kebab, camel, upper, "
				       "or {pattern, replace})",
				       loc, i, s);
		else {
			const char *p = json_string_value(
				json_object_get(item, "pattern"));
			const char *r = json_string_value(
				json_object_get(item, "replace"));
			struct flag_alias_re *a = &fs->alias_re[fs->nalias_re];

			if (!p || !r)
				return err_set(err, SD_EXIT_CANNOT,
					       "%sflags.alias[%zu]: a regex "
					       "alias needs 'pattern' and "
					       "'replace' strings",
					       loc, i);
			a->re = compile(p, "alias pattern", loc, false, err);
			if (!a->re)
				return -1;
			a->pattern = strdup(p);
			if (!(a->replace = strdup(r)) || !a->pattern)
				return err_set(err, SD_EXIT_CANNOT,
					       "out of memory");
			fs->nalias_re++;
		}
	}
	return 0;
}

static int load_severity(struct flagspec *fs, json_t *sev)
{
	for (int k = 0; k < FINDING_KINDS; k++) {
		const char *v = json_string_value(
			json_object_get(sev, flag_finding_names[k]));

		fs->severity[k] = default_severity[k];
		for (int s = 0; v && s < 3; s++)
			if (!strcmp(v, flag_severity_names[s]))
				fs->severity[k] = (enum flag_severity)s;
	}
	return 0;
}

static int load_names(struct flagspec *fs, json_t *list, json_t **out,
		      bool keep_name)
{
	size_t i;
	json_t *item;
	char key[512];

	*out = json_object();
	if (!*out)
		return -1;
	json_array_foreach(list, i, item)
	{
		const char *s = json_string_value(item);

		if (!s || !flagspec_key(fs, s, strlen(s), key, sizeof(key)))
			continue;
		json_object_set_new_nocheck(
			*out, key, keep_name ? json_string(s) : json_true());
	}
	return 0;
}

/* The digest of everything that decides the timelines: sources, paths,
 * exclusions, aliases and the engine's version. */
static int make_digest(struct flagspec *fs, struct sd_err *err)
{
	json_t *d = json_pack("{s:i, s:[], s:[], s:i, s:[], s:I}", "engine",
			      FLAGS_ENGINE_VERSION, "sources", "exclude",
			      "forms", (int)fs->case_forms, "alias",
			      "max-file-size", (json_int_t)fs->max_file_size);
	struct plan plan = {0};

	if (!d)
		return err_set(err, SD_EXIT_CANNOT, "out of memory");
	for (size_t i = 0; i < fs->nsrc; i++) {
		struct flag_source *s = &fs->src[i];
		json_t *paths = json_array();

		for (size_t j = 0; j < s->npaths; j++)
			json_array_append_new(paths, json_string(s->paths[j]));
		json_array_append_new(
			json_object_get(d, "sources"),
			json_pack("{s:s, s:o, s:s?, s:s?}", "kind",
				  s->kind == FLAG_DEF ? "define" : "reference",
				  "paths", paths, "pattern", s->pattern, "json",
				  s->json_key));
	}
	for (size_t i = 0; i < fs->nexclude; i++)
		json_array_append_new(json_object_get(d, "exclude"),
				      json_string(fs->exclude[i]));
	for (size_t i = 0; i < fs->nalias_re; i++)
		json_array_append_new(json_object_get(d, "alias"),
				      json_pack("[s,s]",
						fs->alias_re[i].pattern,
						fs->alias_re[i].replace));
	if (plan_from_json(&plan, d, err) < 0) {
		json_decref(d);
		return -1;
	}
	json_decref(d);
	memcpy(fs->digest, plan.hex, sizeof(fs->digest));
	plan_release(&plan);
	return 0;
}

int flagspec_from_json(json_t *flags, const struct config *cfg,
		       struct flagspec *fs, struct sd_err *err)
{
	json_t *preset, *excl, *v;
	char loc[600];
	int64_t ms;
	uint64_t bytes;
	struct sd_err uerr = {0};

	memset(fs, 0, sizeof(*fs));
	fs->max_age_ms = 90LL * 86400000;
	fs->revert_window_ms = 7LL * 86400000;
	fs->max_file_size = FLAG_MAX_FILE_SIZE;
	if (!json_is_object(flags))
		flags = NULL;
	if (load_alias(fs, cfg, json_object_get(flags, "alias"), err) < 0)
		goto fail;
	preset = json_object_get(flags, "preset");
	if (preset) {
		size_t i;
		json_t *item;

		where(cfg, "flags.preset", loc, sizeof(loc));
		if (json_is_array(preset)) {
			json_array_foreach(preset, i, item)
			{
				if (load_preset(fs, item, loc, err) < 0)
					goto fail;
			}
		} else if (load_preset(fs, preset, loc, err) < 0) {
			goto fail;
		}
	}
	if (load_sources(fs, cfg, json_object_get(flags, "define"), FLAG_DEF,
			 "define", err) < 0 ||
	    load_sources(fs, cfg, json_object_get(flags, "reference"), FLAG_REF,
			 "reference", err) < 0)
		goto fail;
	excl = json_object_get(flags, "exclude");
	if (excl) {
		size_t i, n = json_array_size(excl);

		fs->exclude = calloc(n + 1, sizeof(*fs->exclude));
		if (!fs->exclude) {
			err_set(err, SD_EXIT_CANNOT, "out of memory");
			goto fail;
		}
		for (i = 0; i < n; i++) {
			const char *g =
				json_string_value(json_array_get(excl, i));
			const char *bad =
				g ? pathglob_check(g) : "not a string";

			if (bad) {
				err_set(err, SD_EXIT_CANNOT,
					"%sflags.exclude[%zu]: %s",
					where(cfg, "flags.exclude", loc,
					      sizeof(loc)),
					i, bad);
				goto fail;
			}
			fs->exclude[fs->nexclude++] = strdup(g);
		}
	} else {
		fs->exclude = strv_from(default_exclude, 3);
		fs->nexclude = 3;
	}
	if ((v = json_object_get(flags, "max-age"))) {
		if (units_parse_duration(
			    json_string_value(v) ? json_string_value(v) : "",
			    &ms, &uerr) < 0) {
			err_set(err, SD_EXIT_CANNOT, "%sflags.max-age: %s",
				where(cfg, "flags.max-age", loc, sizeof(loc)),
				uerr.msg);
			goto fail;
		}
		fs->max_age_ms = ms;
	}
	if ((v = json_object_get(flags, "revert-window"))) {
		if (units_parse_duration(
			    json_string_value(v) ? json_string_value(v) : "",
			    &ms, &uerr) < 0) {
			err_set(err, SD_EXIT_CANNOT,
				"%sflags.revert-window: %s",
				where(cfg, "flags.revert-window", loc,
				      sizeof(loc)),
				uerr.msg);
			goto fail;
		}
		fs->revert_window_ms = ms;
	}
	if ((v = json_object_get(flags, "max-file-size"))) {
		if (json_is_integer(v) && json_integer_value(v) >= 0)
			fs->max_file_size = (uint64_t)json_integer_value(v);
		else if (units_parse_size(json_string_value(v)
						  ? json_string_value(v)
						  : "",
					  &bytes, &uerr) == 0)
			fs->max_file_size = bytes;
		else {
			err_set(err, SD_EXIT_CANNOT,
				"%sflags.max-file-size: %s",
				where(cfg, "flags.max-file-size", loc,
				      sizeof(loc)),
				uerr.msg[0] ? uerr.msg : "expected a size");
			goto fail;
		}
	}
	load_severity(fs, json_object_get(flags, "severity"));
	if (load_names(fs, json_object_get(flags, "retired"), &fs->retired,
		       true) < 0 ||
	    load_names(fs, json_object_get(flags, "allow-resurrect"),
		       &fs->allow_resurrect, false) < 0) {
		err_set(err, SD_EXIT_CANNOT, "out of memory");
		goto fail;
	}
	if (make_digest(fs, err) < 0)
		goto fail;
	return 0;
fail:
	flagspec_release(fs);
	return -1;
}

int flagspec_load(const struct config *cfg, struct flagspec *fs,
		  struct sd_err *err)
{
	return flagspec_from_json(config_get(cfg, "flags"), cfg, fs, err);
}

void flagspec_release(struct flagspec *fs)
{
	for (size_t i = 0; i < fs->nsrc; i++) {
		free_strv(fs->src[i].paths);
		free(fs->src[i].pattern);
		free(fs->src[i].json_key);
		free(fs->src[i].literal);
		free(fs->src[i].origin);
		pcre2_code_free(fs->src[i].re);
	}
	for (size_t i = 0; i < fs->nalias_re; i++) {
		pcre2_code_free(fs->alias_re[i].re);
		free(fs->alias_re[i].pattern);
		free(fs->alias_re[i].replace);
	}
	free(fs->alias_re);
	free_strv(fs->exclude);
	json_decref(fs->retired);
	json_decref(fs->allow_resurrect);
	memset(fs, 0, sizeof(*fs));
}

static bool excluded(const struct flagspec *fs, const char *path)
{
	char dir[4096];
	size_t n = strlen(path);

	if (n >= sizeof(dir))
		return true;
	for (size_t i = 0; i < fs->nexclude; i++) {
		if (pathglob_match(fs->exclude[i], path))
			return true;
		memcpy(dir, path, n + 1);
		for (char *s = strrchr(dir, '/'); s; s = strrchr(dir, '/')) {
			*s = '\0';
			if (pathglob_match_dir(fs->exclude[i], dir))
				return true;
		}
	}
	return false;
}

uint32_t flagspec_classify(const struct flagspec *fs, const char *path)
{
	uint32_t mask = 0;

	/* The configuration names flags (retired:, patterns): it is not
	 * where they are defined or used. */
	if (!strcmp(path, ".safedeploy.yml"))
		return 0;

	for (size_t i = 0; i < fs->nsrc; i++)
		for (size_t j = 0; j < fs->src[i].npaths; j++)
			if (pathglob_match(fs->src[i].paths[j], path)) {
				mask |= 1u << i;
				break;
			}
	if (mask && excluded(fs, path))
		return 0;
	return mask;
}

bool flagspec_skip_dir(const struct flagspec *fs, const char *dir)
{
	for (size_t i = 0; i < fs->nexclude; i++)
		if (pathglob_match_dir(fs->exclude[i], dir))
			return true;
	for (size_t i = 0; i < fs->nsrc; i++)
		for (size_t j = 0; j < fs->src[i].npaths; j++)
			if (pathglob_may_match_below(fs->src[i].paths[j], dir))
				return false;
	return true;
}

int flagscan_init(struct flagscan *sc, const struct flagspec *fs)
{
	memset(sc, 0, sizeof(*sc));
	sc->fs = fs;
	for (size_t i = 0; i < fs->nsrc; i++) {
		if (!fs->src[i].re)
			continue;
		sc->md[i] = pcre2_match_data_create_from_pattern(fs->src[i].re,
								 NULL);
		if (!sc->md[i]) {
			flagscan_release(sc);
			return -1;
		}
	}
	return 0;
}

void flagscan_release(struct flagscan *sc)
{
	for (size_t i = 0; i < FLAG_MAX_SOURCES; i++)
		pcre2_match_data_free(sc->md[i]);
	memset(sc->md, 0, sizeof(sc->md));
}

bool flagspec_is_binary(const char *text, size_t len)
{
	return memchr(text, '\0', len < 8000 ? len : 8000) != NULL;
}

static void warn(struct flagscan *sc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void warn(struct flagscan *sc, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (!sc->warnings)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (json_array_size(sc->warnings) < 100)
		json_array_append_new(sc->warnings, json_string(buf));
}

/* The keys of the object at a dotted path of a JSON file; each reported at
 * the offset of its first quoted occurrence in the text. */
static int scan_json(struct flagscan *sc, const struct flag_source *src,
		     const char *name, const char *text, size_t len,
		     flag_hit_fn cb, void *ud)
{
	json_error_t jerr;
	json_t *doc = json_loadb(text, len, JSON_ALLOW_NUL, &jerr), *obj;
	char path[256], *save = NULL;
	const char *key;
	json_t *v;
	int rc = 0;

	if (!doc) {
		warn(sc, "%s:%d:%d: not valid JSON, no flags read from it: %s",
		     name, jerr.line, jerr.column, jerr.text);
		return 0;
	}
	snprintf(path, sizeof(path), "%s", src->json_key);
	obj = doc;
	for (char *tok = strtok_r(path, ".", &save); tok && obj;
	     tok = strtok_r(NULL, ".", &save))
		obj = json_object_get(obj, tok);
	if (!json_is_object(obj)) {
		warn(sc, "%s: no object at '%s', no flags read from it", name,
		     src->json_key);
		json_decref(doc);
		return 0;
	}
	json_object_foreach(obj, key, v)
	{
		size_t kl = strlen(key), off = 0;
		const char *at = NULL;

		(void)v;
		for (const char *p = text;
		     (p = memmem(p, len - (size_t)(p - text), key, kl)); p++) {
			if (p > text && p[-1] == '"' &&
			    (size_t)(p - text) + kl < len && p[kl] == '"') {
				at = p;
				break;
			}
		}
		if (at)
			off = (size_t)(at - text);
		rc = cb(ud, src, at ? at : key, kl, off);
		if (rc)
			break;
	}
	json_decref(doc);
	return rc;
}

static pcre2_match_context *match_context(void)
{
	static pcre2_match_context *mc;

	if (!mc) {
		mc = pcre2_match_context_create(NULL);
		if (mc)
			pcre2_set_match_limit(mc, FLAG_MATCH_LIMIT);
	}
	return mc;
}

int flagscan_text(struct flagscan *sc, uint32_t mask, const char *name,
		  const char *text, size_t len, flag_hit_fn cb, void *ud)
{
	const struct flagspec *fs = sc->fs;
	pcre2_match_context *mc = match_context();
	int rc;

	if (!mask || flagspec_is_binary(text, len))
		return 0;
	for (size_t i = 0; i < fs->nsrc; i++) {
		const struct flag_source *src = &fs->src[i];
		PCRE2_SIZE start = 0, *ov;
		int r;

		if (!(mask & (1u << i)))
			continue;
		if (src->json_key) {
			if ((rc = scan_json(sc, src, name, text, len, cb, ud)))
				return rc;
			continue;
		}
		if (src->literal &&
		    !memmem(text, len, src->literal, src->literal_len))
			continue;
		while (start <= len) {
			r = pcre2_match(src->re, (PCRE2_SPTR)text, len, start,
					0, sc->md[i], mc);
			if (r == PCRE2_ERROR_NOMATCH)
				break;
			if (r < 0) {
				PCRE2_UCHAR msg[200];

				pcre2_get_error_message(r, msg, sizeof(msg));
				warn(sc,
				     "%s: pattern from %s stopped on this "
				     "file: %s",
				     name, src->origin, (char *)msg);
				break;
			}
			ov = pcre2_get_ovector_pointer(sc->md[i]);
			if (r >= 2 && ov[2] != PCRE2_UNSET && ov[3] > ov[2]) {
				rc = cb(ud, src, text + ov[2], ov[3] - ov[2],
					ov[2]);
				if (rc)
					return rc;
			}
			start = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
		}
	}
	return 0;
}

static unsigned form_of(const char *s, size_t n)
{
	bool upper = false, lower = false, us = false, dash = false;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (isupper(c))
			upper = true;
		else if (islower(c))
			lower = true;
		else if (c == '_')
			us = true;
		else if (c == '-')
			dash = true;
		else if (!isdigit(c))
			return 0;
	}
	if (us && dash)
		return 0;
	if (dash)
		return upper ? 0 : FLAG_FORM_KEBAB;
	if (us)
		return upper && lower ? 0
		       : upper	      ? FLAG_FORM_UPPER
				      : FLAG_FORM_SNAKE;
	if (!upper)
		return FLAG_FORM_SNAKE | FLAG_FORM_KEBAB | FLAG_FORM_CAMEL |
		       FLAG_FORM_UPPER; /* one lower-case word */
	if (!lower)
		return FLAG_FORM_UPPER | FLAG_FORM_CAMEL;
	return FLAG_FORM_CAMEL;
}

/* "powerPeg", "PowerPeg", "power-peg", "POWER_PEG" -> "power_peg";
 * "HTTPServer2Go" -> "http_server2_go". */
static size_t words(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		bool boundary = false;

		if (c == '_' || c == '-') {
			if (o && out[o - 1] != '_' && o + 1 < cap)
				out[o++] = '_';
			continue;
		}
		if (isupper(c) && i > 0) {
			unsigned char p = (unsigned char)s[i - 1];
			unsigned char nx =
				i + 1 < n ? (unsigned char)s[i + 1] : 0;

			/* fooBar, HTTPServer, s3Bucket; not S3BUCKET. */
			boundary = islower(p) || (isdigit(p) && islower(nx)) ||
				   (isupper(p) && islower(nx));
		}
		if (boundary && o && out[o - 1] != '_' && o + 1 < cap)
			out[o++] = '_';
		if (o + 1 < cap)
			out[o++] = (char)tolower(c);
	}
	out[o] = '\0';
	return o;
}

size_t flagspec_key(const struct flagspec *fs, const char *name, size_t len,
		    char *out, size_t n)
{
	char buf[512];
	const char *s = name;
	size_t l = len;

	if (n < 2)
		return 0;
	for (size_t i = 0; i < fs->nalias_re; i++) {
		PCRE2_UCHAR tmp[512];
		PCRE2_SIZE tl = sizeof(tmp);
		int r = pcre2_substitute(fs->alias_re[i].re, (PCRE2_SPTR)s, l,
					 0, PCRE2_SUBSTITUTE_GLOBAL, NULL, NULL,
					 (PCRE2_SPTR)fs->alias_re[i].replace,
					 PCRE2_ZERO_TERMINATED, tmp, &tl);

		if (r > 0 && tl < sizeof(buf)) {
			memcpy(buf, tmp, tl);
			s = buf;
			l = tl;
		}
	}
	if (fs->case_forms && (form_of(s, l) & fs->case_forms))
		return words(s, l, out, n);
	if (l >= n)
		l = n - 1;
	memmove(out, s, l);
	out[l] = '\0';
	return l;
}

void flagspec_line_col(const char *text, size_t off, unsigned *line,
		       unsigned *col)
{
	unsigned l = 1;
	size_t bol = 0;

	for (size_t i = 0; i < off; i++)
		if (text[i] == '\n') {
			l++;
			bol = i + 1;
		}
	*line = l;
	*col = (unsigned)(off - bol) + 1;
}
