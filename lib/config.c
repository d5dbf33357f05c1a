/* Configuration files: each one read, checked against config_keys[] and
 * merged over the ones before it (the YAML reader is yaml.c). */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "fsutil.h"
#include "paths.h"
#include "units.h"

#define CONFIG_MAX_BYTES (4u << 20)
/* How far an unknown key may be from a known one to be suggested. */
#define CONFIG_SUGGEST_DISTANCE 2

/* One file being checked: its values' origins and where problems go. */
struct check {
	const char *file;
	json_t *origins;
	json_t *warnings;
	struct sd_err *err;
};

void config_init(struct config *cfg)
{
	cfg->root = json_object();
	cfg->origins = json_object();
	cfg->warnings = json_array();
	cfg->files = json_array();
}

void config_release(struct config *cfg)
{
	json_decref(cfg->root);
	json_decref(cfg->origins);
	json_decref(cfg->warnings);
	json_decref(cfg->files);
	cfg->root = cfg->origins = cfg->warnings = cfg->files = NULL;
}

static char *str_printf(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* A malloc'd formatted string, or NULL when out of memory. */
static char *str_printf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	s = malloc((size_t)n + 1);
	if (!s)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

static char *path_join(const char *prefix, const char *key)
{
	return *prefix ? str_printf("%s.%s", prefix, key)
		       : str_printf("%s", key);
}

static const char *type_name(const json_t *v)
{
	/* Never NULL: every caller has a value. cppcheck takes the NULL test
	 * inside jansson's json_is_null() for a hint that it can be. */
	/* cppcheck-suppress[nullPointerRedundantCheck,ctunullpointer] */
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "a mapping";
	case JSON_ARRAY:
		return "a list";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

/* The origin of path, else of the nearest key above it that has one (list
 * items have none of their own). */
static const char *origin_near(const json_t *origins, const char *path)
{
	char buf[1024];
	size_t n = strlen(path);

	if (n >= sizeof(buf))
		return NULL;
	memcpy(buf, path, n + 1);
	while (n) {
		const char *o =
			json_string_value(json_object_get(origins, buf));

		if (o)
			return o;
		while (n && buf[n - 1] != '.' && buf[n - 1] != '[')
			n--;
		if (n)
			n--;
		buf[n] = '\0';
	}
	return NULL;
}

static int check_fail(struct check *c, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A hard error about the value at path: "origin: 'path': what is wrong". */
static int check_fail(struct check *c, const char *path, const char *fmt, ...)
{
	const char *origin = origin_near(c->origins, path);
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(c->err, SD_EXIT_CANNOT, "%s: '%s': %s",
		       origin ? origin : c->file, path, msg);
}

static const struct config_key *key_find(const char *pattern)
{
	for (const struct config_key *k = config_keys; k->path; k++)
		if (!strcmp(k->path, pattern))
			return k;
	return NULL;
}

/* A table with "a.b" but no "a" still makes "a" a section. */
static bool key_is_parent(const char *pattern)
{
	size_t n = strlen(pattern);

	for (const struct config_key *k = config_keys; k->path; k++)
		if (!strncmp(k->path, pattern, n) && k->path[n] == '.')
			return true;
	return false;
}

static size_t levenshtein(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[65];

	if (la > 64 || lb > 64)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* The known key under parent_pattern closest to key, if close enough. */
static const char *key_suggest(const char *parent_pattern, const char *key)
{
	size_t plen = strlen(parent_pattern), best_dist = SIZE_MAX;
	const char *best = NULL;

	for (const struct config_key *k = config_keys; k->path; k++) {
		const char *name = k->path;
		size_t d;

		if (plen) {
			if (strncmp(name, parent_pattern, plen) ||
			    name[plen] != '.')
				continue;
			name += plen + 1;
		}
		if (strchr(name, '.') || strchr(name, '['))
			continue;
		d = levenshtein(key, name);
		if (d <= CONFIG_SUGGEST_DISTANCE && d < strlen(key) &&
		    d < best_dist) {
			best = name;
			best_dist = d;
		}
	}
	return best;
}

static int check_warn(struct check *c, const char *parent_pattern,
		      const char *parent_path, const char *key,
		      const char *path)
{
	const char *origin = origin_near(c->origins, path);
	const char *hint = key_suggest(parent_pattern, key);
	char *msg;

	if (!origin)
		origin = c->file;
	if (hint)
		msg = str_printf(
			"%s: unknown key '%s' (did you mean '%s%s%s'?)", origin,
			path, parent_path, *parent_path ? "." : "", hint);
	else
		msg = str_printf("%s: unknown key '%s'", origin, path);
	if (!msg || json_array_append_new(c->warnings, json_string(msg)) < 0) {
		free(msg);
		return err_set(c->err, SD_EXIT_CANNOT, "out of memory");
	}
	free(msg);
	return 0;
}

static int check_object(struct check *c, json_t *obj, const char *pattern,
			const char *path);

static int check_enum(struct check *c, const struct config_key *k,
		      const json_t *v, const char *path)
{
	const char *s = json_string_value(v), *p = k->choices;
	char list[256];
	size_t used = 0;

	while (s && p && *p) {
		size_t n = strcspn(p, "|");

		if (strlen(s) == n && !strncmp(s, p, n))
			return 0;
		p += n + (p[n] == '|');
	}
	/* "auto|always|never" reads "auto, always, never" in a message. */
	for (p = k->choices ? k->choices : ""; *p && used + 3 < sizeof(list);
	     p++) {
		if (*p == '|') {
			list[used++] = ',';
			list[used++] = ' ';
		} else {
			list[used++] = *p;
		}
	}
	list[used] = '\0';
	if (s)
		return check_fail(c, path, "must be one of %s (got '%s')", list,
				  s);
	return check_fail(c, path, "must be one of %s (got %s)", list,
			  type_name(v));
}

static int check_list(struct check *c, const struct config_key *k, json_t *v,
		      const char *pattern, const char *path)
{
	char *item_pattern, *item_path;
	json_t *item;
	size_t i;
	int rc = 0;

	if (!json_is_array(v))
		return check_fail(c, path, "expected a list of %s, got %s",
				  k->type == CFG_LIST ? "mappings" : "strings",
				  type_name(v));
	json_array_foreach(v, i, item)
	{
		if (k->type == CFG_STRINGS && json_is_string(item))
			continue;
		item_path = str_printf("%s[%zu]", path, i);
		if (!item_path)
			return err_set(c->err, SD_EXIT_CANNOT, "out of memory");
		if (k->type == CFG_STRINGS) {
			rc = check_fail(c, item_path,
					"expected a string, got %s",
					type_name(item));
		} else if (!json_is_object(item)) {
			rc = check_fail(c, item_path,
					"expected a mapping, got %s",
					type_name(item));
		} else {
			item_pattern = str_printf("%s[]", pattern);
			if (!item_pattern)
				rc = err_set(c->err, SD_EXIT_CANNOT,
					     "out of memory");
			else
				rc = check_object(c, item, item_pattern,
						  item_path);
			free(item_pattern);
		}
		free(item_path);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* The value v at key of parent, described by table row k. */
static int check_value(struct check *c, json_t *parent, const char *key,
		       json_t *v, const struct config_key *k,
		       const char *pattern, const char *path)
{
	struct sd_err uerr = {0};
	uint64_t bytes;
	int64_t ms;

	switch (k->type) {
	case CFG_SECTION:
		/* "token:" with every line below commented out. */
		if (json_is_null(v)) {
			if (json_object_set_new(parent, key, json_object()) < 0)
				return err_set(c->err, SD_EXIT_CANNOT,
					       "out of memory");
			return 0;
		}
		if (!json_is_object(v))
			return check_fail(c, path, "expected a mapping, got %s",
					  type_name(v));
		return check_object(c, v, pattern, path);
	case CFG_STRING:
		if (!json_is_string(v))
			return check_fail(c, path, "expected a string, got %s",
					  type_name(v));
		return 0;
	case CFG_BOOL:
		if (!json_is_boolean(v))
			return check_fail(c, path, "expected a boolean, got %s",
					  type_name(v));
		return 0;
	case CFG_INT:
		if (!json_is_integer(v))
			return check_fail(c, path,
					  "expected an integer, got %s",
					  type_name(v));
		return 0;
	case CFG_DURATION:
		if (!json_is_string(v))
			return check_fail(c, path,
					  "expected a duration such as '5m', "
					  "got %s",
					  type_name(v));
		if (units_parse_duration(json_string_value(v), &ms, &uerr) < 0)
			return check_fail(c, path, "%s", uerr.msg);
		return 0;
	case CFG_SIZE:
		if (json_is_integer(v) && json_integer_value(v) < 0)
			return check_fail(c, path,
					  "a size must not be negative (got "
					  "%" JSON_INTEGER_FORMAT ")",
					  json_integer_value(v));
		if (json_is_integer(v))
			return 0;
		if (!json_is_string(v))
			return check_fail(c, path,
					  "expected a size such as '10M' or a "
					  "number of bytes, got %s",
					  type_name(v));
		if (units_parse_size(json_string_value(v), &bytes, &uerr) < 0)
			return check_fail(c, path, "%s", uerr.msg);
		return 0;
	case CFG_ENUM:
		return check_enum(c, k, v, path);
	case CFG_STRINGS:
	case CFG_LIST:
		return check_list(c, k, v, pattern, path);
	case CFG_ANY:
	default:
		return 0;
	}
}

/* Every key of obj against the table: pattern is obj's path as the table
 * writes it ("flags.define[]"), path as the file does ("flags.define[0]"). */
static int check_object(struct check *c, json_t *obj, const char *pattern,
			const char *path)
{
	static const struct config_key section = {NULL, CFG_SECTION};
	const char *key;
	json_t *v;
	int rc = 0;

	json_object_foreach(obj, key, v)
	{
		char *kpattern = path_join(pattern, key);
		char *kpath = path_join(path, key);
		const struct config_key *k = NULL;

		if (!kpattern || !kpath)
			rc = err_set(c->err, SD_EXIT_CANNOT, "out of memory");
		else if ((k = key_find(kpattern)) || key_is_parent(kpattern))
			rc = check_value(c, obj, key, v, k ? k : &section,
					 kpattern, kpath);
		else
			rc = check_warn(c, pattern, path, key, kpath);
		free(kpattern);
		free(kpath);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* Origins of a JSON file: the file name, for want of positions. */
static int json_origins(json_t *v, const char *path, const char *file,
			json_t *origins)
{
	const char *key;
	json_t *kid;
	size_t i;

	json_object_foreach(v, key, kid)
	{
		char *kpath = path_join(path, key);
		int rc;

		if (!kpath ||
		    json_object_set_new(origins, kpath, json_string(file)) < 0)
			rc = -1;
		else
			rc = json_origins(kid, kpath, file, origins);
		free(kpath);
		if (rc < 0)
			return -1;
	}
	json_array_foreach(v, i, kid)
	{
		char *ipath = str_printf("%s[%zu]", path, i);
		int rc = ipath ? json_origins(kid, ipath, file, origins) : -1;

		free(ipath);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int json_parse(const char *data, size_t len, const char *file,
		      json_t **out, json_t *origins, struct sd_err *err)
{
	json_error_t jerr;

	*out = NULL;
	if (strspn(data, " \t\r\n") == len) {
		*out = json_null();
		return 0;
	}
	*out = json_loadb(data, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
			  &jerr);
	if (!*out)
		return err_set(err, SD_EXIT_CANNOT, "%s:%d:%d: %s", file,
			       jerr.line, jerr.column, jerr.text);
	if (json_origins(*out, "", file, origins) < 0) {
		json_decref(*out);
		*out = NULL;
		return err_set(err, SD_EXIT_CANNOT, "out of memory");
	}
	return 0;
}

/* Forget the origins of v, at path, and of everything below it. */
static void origins_drop(json_t *origins, const json_t *v, const char *path)
{
	const char *key;
	json_t *kid;
	size_t i;

	json_object_del(origins, path);
	json_object_foreach((json_t *)v, key, kid)
	{
		char *kpath = path_join(path, key);

		if (kpath)
			origins_drop(origins, kid, kpath);
		free(kpath);
	}
	json_array_foreach(v, i, kid)
	{
		char *ipath = str_printf("%s[%zu]", path, i);

		if (ipath)
			origins_drop(origins, kid, ipath);
		free(ipath);
	}
}

/* Objects merge key by key; anything else at a key replaces what was there,
 * lists included, and the origins of what it replaces go with it. */
static int merge_object(json_t *dst, json_t *src, json_t *origins,
			const char *path)
{
	const char *key;
	json_t *sval;

	json_object_foreach(src, key, sval)
	{
		json_t *dval = json_object_get(dst, key);
		char *kpath = path_join(path, key);
		int rc;

		if (!kpath)
			return -1;
		if (json_is_object(dval) && json_is_object(sval)) {
			rc = merge_object(dval, sval, origins, kpath);
		} else {
			if (dval)
				origins_drop(origins, dval, kpath);
			rc = json_object_set(dst, key, sval);
		}
		free(kpath);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n >= t && !strcmp(s + n - t, tail);
}

int config_load_file(struct config *cfg, const char *path, struct sd_err *err)
{
	struct check c = {path, NULL, cfg->warnings, err};
	json_t *tree = NULL;
	char *data;
	size_t len;
	int rc = -1;

	if (fs_read_file(path, CONFIG_MAX_BYTES, &data, &len, err) < 0)
		return -1;
	json_array_append_new(cfg->files, json_string(path));
	c.origins = json_object();
	if (!c.origins) {
		err_set(err, SD_EXIT_CANNOT, "out of memory");
		goto out;
	}
	if (ends_with(path, ".json")) {
		if (json_parse(data, len, path, &tree, c.origins, err) < 0)
			goto out;
	} else if (yaml_to_json(data, len, path, NULL, &tree, c.origins, err) <
		   0) {
		goto out;
	}
	if (json_is_null(tree)) {
		json_decref(tree);
		tree = json_object();
	}
	if (!json_is_object(tree)) {
		err_set(err, SD_EXIT_CANNOT,
			"%s:1:1: the configuration must be a mapping of keys",
			path);
		goto out;
	}
	if (check_object(&c, tree, "", "") < 0)
		goto out;
	if (merge_object(cfg->root, tree, cfg->origins, "") < 0 ||
	    json_object_update(cfg->origins, c.origins) < 0) {
		err_set(err, SD_EXIT_CANNOT, "out of memory");
		goto out;
	}
	rc = 0;
out:
	free(data);
	json_decref(tree);
	json_decref(c.origins);
	return rc;
}

/* A standard file: not being there is fine, anything else wrong is not. */
static int load_optional(struct config *cfg, const char *path,
			 struct sd_err *err)
{
	struct stat st;

	if (stat(path, &st) < 0 && (errno == ENOENT || errno == ENOTDIR))
		return 0;
	return config_load_file(cfg, path, err);
}

int config_load(struct config *cfg, const char *explicit_file,
		struct sd_err *err)
{
	char path[PATH_MAX], root[PATH_MAX];
	int n;

	n = snprintf(path, sizeof(path), "%s/config.yml", paths_sysconfdir());
	if (n < 0 || (size_t)n >= sizeof(path))
		return err_set(err, SD_EXIT_CANNOT,
			       "the configuration path '%s' is too long",
			       paths_sysconfdir());
	if (load_optional(cfg, path, err) < 0)
		return -1;
	/* Without a home directory there is no user file to read. */
	if (paths_user_config(path, sizeof(path), NULL) == 0 &&
	    load_optional(cfg, path, err) < 0)
		return -1;
	if (paths_repo_root(root, sizeof(root)) == 0) {
		n = snprintf(path, sizeof(path), "%s/.safedeploy.yml", root);
		if (n >= 0 && (size_t)n < sizeof(path) &&
		    load_optional(cfg, path, err) < 0)
			return -1;
	}
	if (explicit_file && config_load_file(cfg, explicit_file, err) < 0)
		return -1;
	return 0;
}

json_t *config_get(const struct config *cfg, const char *path)
{
	json_t *v = cfg->root;
	const char *p = path;

	for (;;) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);

		if (!json_is_object(v))
			return NULL;
		v = json_object_getn(v, p, n);
		if (!v || !dot)
			return v;
		p = dot + 1;
	}
}

const char *config_origin(const struct config *cfg, const char *path)
{
	return json_string_value(json_object_get(cfg->origins, path));
}

static int get_fail(const struct config *cfg, const char *path,
		    struct sd_err *err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int get_fail(const struct config *cfg, const char *path,
		    struct sd_err *err, const char *fmt, ...)
{
	const char *origin = config_origin(cfg, path);
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (origin)
		return err_set(err, SD_EXIT_CANNOT, "%s: '%s': %s", origin,
			       path, msg);
	return err_set(err, SD_EXIT_CANNOT, "'%s': %s", path, msg);
}

/* A null value (a key written with nothing after it) counts as absent. */
static json_t *get_set(const struct config *cfg, const char *path)
{
	json_t *v = config_get(cfg, path);

	return json_is_null(v) ? NULL : v;
}

int config_get_string(const struct config *cfg, const char *path,
		      const char **value, struct sd_err *err)
{
	json_t *v = get_set(cfg, path);

	if (!v)
		return 0;
	if (!json_is_string(v))
		return get_fail(cfg, path, err, "expected a string, got %s",
				type_name(v));
	*value = json_string_value(v);
	return 1;
}

int config_get_bool(const struct config *cfg, const char *path, bool *value,
		    struct sd_err *err)
{
	json_t *v = get_set(cfg, path);

	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return get_fail(cfg, path, err, "expected a boolean, got %s",
				type_name(v));
	*value = json_is_true(v);
	return 1;
}

int config_get_duration(const struct config *cfg, const char *path, int64_t *ms,
			struct sd_err *err)
{
	json_t *v = get_set(cfg, path);
	struct sd_err uerr = {0};

	if (!v)
		return 0;
	if (!json_is_string(v))
		return get_fail(cfg, path, err,
				"expected a duration such as '5m', got %s",
				type_name(v));
	if (units_parse_duration(json_string_value(v), ms, &uerr) < 0)
		return get_fail(cfg, path, err, "%s", uerr.msg);
	return 1;
}

int config_get_size(const struct config *cfg, const char *path, uint64_t *bytes,
		    struct sd_err *err)
{
	json_t *v = get_set(cfg, path);
	struct sd_err uerr = {0};

	if (!v)
		return 0;
	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0)
			return get_fail(cfg, path, err,
					"a size must not be negative (got "
					"%" JSON_INTEGER_FORMAT ")",
					json_integer_value(v));
		*bytes = (uint64_t)json_integer_value(v);
		return 1;
	}
	if (!json_is_string(v))
		return get_fail(cfg, path, err,
				"expected a size such as '10M' or a number of "
				"bytes, got %s",
				type_name(v));
	if (units_parse_size(json_string_value(v), bytes, &uerr) < 0)
		return get_fail(cfg, path, err, "%s", uerr.msg);
	return 1;
}
