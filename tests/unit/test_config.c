/* Unit tests for lib/yaml.c and lib/config.c: YAML typing, anchors, errors
 * with positions, origins, validation and the merge of the standard files. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "unit.h"

static char tmp_root[256]; /* short, so that paths below it fit */

/* yaml_to_json on a string, under the name "t.yml". */
static json_t *yaml(const char *text, json_t *origins, struct sd_err *err)
{
	json_t *out = (json_t *)1;

	if (yaml_to_json(text, strlen(text), "t.yml", NULL, &out, origins,
			 err) < 0) {
		CHECK(out == NULL);
		return NULL;
	}
	return out;
}

/* The error message yaml_to_json gives for text (empty on success). */
static const char *yaml_error(const char *text, struct sd_err *err)
{
	json_t *v;

	memset(err, 0, sizeof(*err));
	v = yaml(text, NULL, err);
	if (v) {
		json_decref(v);
		UNIT_FAIL("no error for \"%s\"", text);
		return "";
	}
	CHECK_INT(err->code, SD_EXIT_CANNOT);
	return err->msg;
}

static const char *str_at(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static long long int_at(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v)) {
		UNIT_FAIL("'%s' is not an integer", key);
		return -1;
	}
	return json_integer_value(v);
}

/* Write text to tmp_root/name, creating directories on the way. */
static const char *tmp_write(const char *name, const char *text)
{
	static char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmp_root, name);
	for (char *p = path + strlen(tmp_root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0700);
		*p = '/';
	}
	f = fopen(path, "w");
	if (!f) {
		UNIT_FAIL("cannot write '%s'", path);
		return path;
	}
	fputs(text, f);
	fclose(f);
	return path;
}

static const char *tmp_path(const char *name)
{
	static char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", tmp_root, name);
	return path;
}

/* Load one file into a fresh config; the caller releases it. */
static int load_one(struct config *cfg, const char *name, const char *text,
		    struct sd_err *err)
{
	memset(err, 0, sizeof(*err));
	config_init(cfg);
	return config_load_file(cfg, tmp_write(name, text), err);
}

static void scalars_follow_the_core_schema(void)
{
	struct sd_err err = {0};
	json_t *v = yaml("a: true\n"
			 "b: 'true'\n"
			 "c: 0x10\n"
			 "d: ~\n"
			 "e: 0o17\n"
			 "f: -42\n"
			 "g: 1.5\n"
			 "h: hello\n"
			 "i: \"5\"\n"
			 "j: !!str 7\n"
			 "k: FALSE\n"
			 "l:\n"
			 "m: yes\n"
			 "n: 1e3\n"
			 "o: Null\n"
			 "p: +7\n"
			 "q: .inf\n"
			 "r: 012\n",
			 NULL, &err);

	CHECK(v != NULL);
	if (!v)
		return;
	CHECK(json_is_true(json_object_get(v, "a")));
	CHECK_STR(str_at(v, "b"), "true");
	CHECK_INT(int_at(v, "c"), 16);
	CHECK(json_is_null(json_object_get(v, "d")));
	CHECK_INT(int_at(v, "e"), 15);
	CHECK_INT(int_at(v, "f"), -42);
	CHECK(json_is_real(json_object_get(v, "g")));
	CHECK(json_real_value(json_object_get(v, "g")) == 1.5);
	CHECK_STR(str_at(v, "h"), "hello");
	CHECK_STR(str_at(v, "i"), "5");
	CHECK_STR(str_at(v, "j"), "7");
	CHECK(json_is_false(json_object_get(v, "k")));
	CHECK(json_is_null(json_object_get(v, "l")));
	CHECK_STR(str_at(v, "m"), "yes"); /* YAML 1.2: not a boolean */
	CHECK(json_real_value(json_object_get(v, "n")) == 1000.0);
	CHECK(json_is_null(json_object_get(v, "o")));
	CHECK_INT(int_at(v, "p"), 7);
	CHECK_STR(str_at(v, "q"), ".inf"); /* JSON has no infinity */
	CHECK_INT(int_at(v, "r"), 12);
	json_decref(v);
}

static void scalar_errors(void)
{
	struct sd_err err;

	CHECK_STR(yaml_error("a: 99999999999999999999\n", &err),
		  "t.yml:1:4: integer '99999999999999999999' out of range");
	CHECK_CONTAINS(yaml_error("a:\n  b: 0xffffffffffffffffff\n", &err),
		       "t.yml:2:6: integer");
	CHECK_STR(yaml_error("a: !!int nine\n", &err),
		  "t.yml:1:4: 'nine' is not a valid !!int");
}

static void nested_maps_and_lists(void)
{
	struct sd_err err = {0};
	json_t *v = yaml("a:\n"
			 "  b:\n"
			 "    - x\n"
			 "    - {c: 1, d: [true, null]}\n"
			 "  e: []\n"
			 "f: {}\n",
			 NULL, &err);
	json_t *b, *item;

	CHECK(v != NULL);
	if (!v)
		return;
	b = json_object_get(json_object_get(v, "a"), "b");
	CHECK_INT(json_array_size(b), 2);
	CHECK_STR(json_string_value(json_array_get(b, 0)), "x");
	item = json_array_get(b, 1);
	CHECK_INT(int_at(item, "c"), 1);
	CHECK(json_is_true(json_array_get(json_object_get(item, "d"), 0)));
	CHECK(json_is_null(json_array_get(json_object_get(item, "d"), 1)));
	CHECK_INT(
		json_array_size(json_object_get(json_object_get(v, "a"), "e")),
		0);
	CHECK_INT(json_object_size(json_object_get(v, "f")), 0);
	json_decref(v);
}

static void empty_documents_are_null(void)
{
	struct sd_err err = {0};
	const char *texts[] = {"", "---\n", "# only a comment\n", "~\n"};

	for (size_t i = 0; i < sizeof(texts) / sizeof(*texts); i++) {
		json_t *v = yaml(texts[i], NULL, &err);

		CHECK(v != NULL && json_is_null(v));
		json_decref(v);
	}
}

static void anchors_and_aliases(void)
{
	struct sd_err err = {0};
	json_t *origins = json_object();
	json_t *v = yaml("base: &b\n"
			 "  x: 1\n"
			 "  y: [1, 2]\n"
			 "copy: *b\n"
			 "name: &n hello\n"
			 "again: *n\n",
			 origins, &err);
	json_t *base, *copy;

	CHECK(v != NULL);
	if (!v) {
		json_decref(origins);
		return;
	}
	base = json_object_get(v, "base");
	copy = json_object_get(v, "copy");
	CHECK(json_equal(base, copy));
	/* A copy, not the same object: merging into one leaves the other. */
	CHECK(base != copy);
	CHECK_STR(str_at(v, "again"), "hello");
	CHECK_STR(json_string_value(json_object_get(origins, "copy")),
		  "t.yml:4:1");
	/* What an alias brings in keeps the position of its definition. */
	CHECK_STR(json_string_value(json_object_get(origins, "copy.x")),
		  "t.yml:2:3");
	json_decref(v);
	json_decref(origins);
	CHECK_STR(yaml_error("a: *nope\n", &err),
		  "t.yml:1:4: unknown anchor 'nope'");
	/* An anchor is not known inside its own node: no cycles. */
	CHECK_CONTAINS(yaml_error("a: &a [*a]\n", &err), "unknown anchor 'a'");
}

static void merge_keys(void)
{
	struct sd_err err = {0};
	json_t *origins = json_object();
	json_t *v = yaml("base: &b {x: 1, y: 2}\n"
			 "other: &o {x: 9, z: 3}\n"
			 "one:\n"
			 "  <<: *b\n"
			 "  y: 5\n"
			 "two:\n"
			 "  <<: [*b, *o]\n"
			 "  w: 0\n"
			 "inline:\n"
			 "  <<: {q: 1}\n"
			 "quoted:\n"
			 "  \"<<\": 1\n",
			 origins, &err);
	json_t *m;

	CHECK(v != NULL);
	if (!v) {
		json_decref(origins);
		return;
	}
	m = json_object_get(v, "one");
	CHECK_INT(json_object_size(m), 2);
	CHECK_INT(int_at(m, "x"), 1);
	CHECK_INT(int_at(m, "y"), 5); /* explicit keys win */
	m = json_object_get(v, "two");
	CHECK_INT(json_object_size(m), 4);
	CHECK_INT(int_at(m, "x"), 1); /* the first mapping listed wins */
	CHECK_INT(int_at(m, "z"), 3);
	CHECK_INT(int_at(m, "w"), 0);
	CHECK(json_object_get(m, "<<") == NULL);
	CHECK_INT(int_at(json_object_get(v, "inline"), "q"), 1);
	CHECK_INT(int_at(json_object_get(v, "quoted"), "<<"), 1);
	CHECK_STR(json_string_value(json_object_get(origins, "one.y")),
		  "t.yml:5:3");
	CHECK_STR(json_string_value(json_object_get(origins, "one.x")),
		  "t.yml:1:11");
	CHECK_STR(json_string_value(json_object_get(origins, "two.z")),
		  "t.yml:2:18");
	json_decref(v);
	json_decref(origins);
	CHECK_STR(yaml_error("m:\n  <<: 1\n", &err),
		  "t.yml:2:7: a merge key '<<' takes a mapping or a list of "
		  "mappings");
	CHECK_CONTAINS(yaml_error("m:\n  <<: [{a: 1}, [2]]\n", &err),
		       "t.yml:2:16: a merge key '<<'");
}

static void billion_laughs_is_refused(void)
{
	struct sd_err err;

	CHECK_CONTAINS(yaml_error("a: &a [lol, lol, lol, lol, lol, lol]\n"
				  "b: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
				  "c: &c [*b, *b, *b, *b, *b, *b, *b, *b]\n"
				  "d: &d [*c, *c, *c, *c, *c, *c, *c, *c]\n"
				  "e: &e [*d, *d, *d, *d, *d, *d, *d, *d]\n"
				  "f: &f [*e, *e, *e, *e, *e, *e, *e, *e]\n"
				  "g: &g [*f, *f, *f, *f, *f, *f, *f, *f]\n"
				  "h: &h [*g, *g, *g, *g, *g, *g, *g, *g]\n"
				  "i: &i [*h, *h, *h, *h, *h, *h, *h, *h]\n",
				  &err),
		       "too many alias expansions");
	CHECK_CONTAINS(err.msg, "t.yml:");
	/* The same through merge keys. */
	CHECK_CONTAINS(yaml_error("a: &a {k: [x, x, x, x, x, x, x, x]}\n"
				  "b: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
				  "c: &c [*b, *b, *b, *b, *b, *b, *b, *b]\n"
				  "d: &d [*c, *c, *c, *c, *c, *c, *c, *c]\n"
				  "e: &e [*d, *d, *d, *d, *d, *d, *d, *d]\n"
				  "f: {<<: *a, g: [*e, *e]}\n",
				  &err),
		       "too many alias expansions");
	/* Few nodes, but each a copy of one long scalar (the regression test for
	 * tests/fuzz/crashes/yaml/alias-amplification.yml); the message names
	 * the alias that went over. */
	{
		size_t n = 100000;
		char *text = malloc(n + 512), *p = text;

		p += sprintf(p, "a: &a ");
		memset(p, 'x', n);
		p += n;
		p += sprintf(p, "\nb: [*a");
		for (int i = 1; i < 50; i++)
			p += sprintf(p, ", *a");
		sprintf(p, "]\n");
		CHECK_CONTAINS(yaml_error(text, &err),
			       "too much text brought in by aliases");
		CHECK_CONTAINS(err.msg, "t.yml:2:");
		free(text);
	}
}

static void structural_errors_name_line_and_column(void)
{
	struct sd_err err;
	char deep[2048];
	size_t n = 0;

	CHECK_STR(yaml_error("a: 1\nb: 2\na: 3\n", &err),
		  "t.yml:3:1: duplicate key 'a'");
	CHECK_STR(yaml_error("top:\n  k: 1\n  k: 2\n", &err),
		  "t.yml:3:3: duplicate key 'k'");
	CHECK_CONTAINS(yaml_error("a: 1\n---\nb: 2\n", &err),
		       "t.yml:2:1: more than one document");
	/* Bad indentation on line 3. */
	CHECK_STR(yaml_error("a:\n  b: 1\n c: 2\n", &err),
		  "t.yml:3:2: did not find expected key while parsing a "
		  "block mapping");
	CHECK_CONTAINS(yaml_error("a: [1, 2\nb: 3\n", &err), "t.yml:2:");
	CHECK_CONTAINS(yaml_error("a:\n\tb: 1\n", &err), "t.yml:2:1: ");
	CHECK_CONTAINS(yaml_error("a: \"open\n", &err), "t.yml:");
	CHECK_CONTAINS(yaml_error("a: \xff\n", &err),
		       "t.yml:1:4: invalid leading UTF-8 octet");
	CHECK_STR(yaml_error("? [a]\n: 1\n", &err),
		  "t.yml:1:3: a mapping key must be a scalar, not a list");
	for (int i = 0; i < 1000; i++)
		deep[n++] = '[';
	deep[n] = '\0';
	CHECK_CONTAINS(yaml_error(deep, &err), "nesting too deep");
}

static void origins_record_line_and_column(void)
{
	struct sd_err err = {0};
	json_t *origins = json_object(), *v;

	v = yaml("token:\n"
		 "  ttl: 5m\n"
		 "flags:\n"
		 "  define:\n"
		 "    - pattern: x\n"
		 "      name: y\n",
		 origins, &err);
	CHECK(v != NULL);
	CHECK_STR(json_string_value(json_object_get(origins, "token")),
		  "t.yml:1:1");
	CHECK_STR(json_string_value(json_object_get(origins, "token.ttl")),
		  "t.yml:2:3");
	CHECK_STR(json_string_value(
			  json_object_get(origins, "flags.define[0].pattern")),
		  "t.yml:5:7");
	CHECK_STR(json_string_value(
			  json_object_get(origins, "flags.define[0].name")),
		  "t.yml:6:7");
	json_decref(v);
	json_object_clear(origins);
	CHECK(yaml_to_json("k: 1\n", 5, "p.yml", "pre", &v, origins, &err) ==
	      0);
	CHECK_STR(json_string_value(json_object_get(origins, "pre.k")),
		  "p.yml:1:1");
	json_decref(v);
	json_decref(origins);
}

static void json_files_are_accepted(void)
{
	struct sd_err err;
	struct config cfg;
	int64_t ms = 0;
	const char *path;

	CHECK_INT(
		load_one(
			&cfg, "c.json",
			"{\"token\": {\"ttl\": \"10m\"}, \"color\": \"never\"}",
			&err),
		0);
	path = tmp_path("c.json");
	CHECK_INT(config_get_duration(&cfg, "token.ttl", &ms, &err), 1);
	CHECK_INT(ms, 600000);
	CHECK_STR(config_origin(&cfg, "token.ttl"), path);
	CHECK_INT(json_array_size(cfg.files), 1);
	config_release(&cfg);

	CHECK_INT(load_one(&cfg, "bad.json", "{\n  \"a\": x}\n", &err), -1);
	CHECK_INT(err.code, SD_EXIT_CANNOT);
	CHECK_CONTAINS(err.msg, "/bad.json:2:8: invalid token");
	config_release(&cfg);
	CHECK_INT(load_one(&cfg, "dup.json", "{\"a\": 1,\n \"a\": 2}", &err),
		  -1);
	CHECK_CONTAINS(err.msg, "/dup.json:2:");
	CHECK_CONTAINS(err.msg, "duplicate");
	config_release(&cfg);
	CHECK_INT(load_one(&cfg, "list.json", "[1]", &err), -1);
	CHECK_CONTAINS(err.msg, "must be a mapping of keys");
	config_release(&cfg);
	CHECK_INT(load_one(&cfg, "bad-ttl.json", "{\"token\": {\"ttl\": 5}}",
			   &err),
		  -1);
	CHECK_CONTAINS(err.msg, "/bad-ttl.json: 'token.ttl': expected a "
				"duration");
	config_release(&cfg);
	CHECK_INT(load_one(&cfg, "empty.json", "\n", &err), 0);
	CHECK_INT(json_object_size(cfg.root), 0);
	config_release(&cfg);
}

static void standard_files_merge_in_order(void)
{
	struct sd_err err = {0};
	struct config cfg;
	char cwd[PATH_MAX], want[PATH_MAX + 64];
	const char *explicit_file;
	json_t *extra;
	int64_t ms = 0;
	const char *s = NULL;

	tmp_write("etc/config.yml", "color: never\n"
				    "token:\n"
				    "  ttl: 1m\n"
				    "  key-file: /from/system\n"
				    "extra:\n"
				    "  a: 1\n");
	tmp_write("xdg/safedeploy/config.yml", "token:\n"
					       "  ttl: 2m\n"
					       "extra: [1, 2, 3]\n");
	tmp_write("repo/.git/HEAD", "ref: refs/heads/main\n");
	tmp_write("repo/.safedeploy.yml", "token:\n"
					  "  ttl: 3m\n"
					  "extra: [9]\n");
	explicit_file = tmp_write("explicit.yml", "color: always\n");
	setenv("SAFEDEPLOY_SYSCONFDIR", tmp_path("etc"), 1);
	setenv("XDG_CONFIG_HOME", tmp_path("xdg"), 1);
	CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	mkdir(tmp_path("repo/sub"), 0700);
	CHECK_INT(chdir(tmp_path("repo/sub")), 0);

	config_init(&cfg);
	CHECK_INT(config_load(&cfg, explicit_file, &err), 0);
	CHECK_STR(err.msg, "");
	CHECK_INT(json_array_size(cfg.files), 4);
	CHECK_STR(json_string_value(json_array_get(cfg.files, 0)),
		  tmp_path("etc/config.yml"));
	CHECK_STR(json_string_value(json_array_get(cfg.files, 1)),
		  tmp_path("xdg/safedeploy/config.yml"));
	CHECK_CONTAINS(json_string_value(json_array_get(cfg.files, 2)),
		       "/repo/.safedeploy.yml");
	CHECK_STR(json_string_value(json_array_get(cfg.files, 3)),
		  tmp_path("explicit.yml"));
	CHECK_INT(config_get_string(&cfg, "color", &s, &err), 1);
	CHECK_STR(s, "always");
	CHECK_INT(config_get_duration(&cfg, "token.ttl", &ms, &err), 1);
	CHECK_INT(ms, 180000);
	CHECK_INT(config_get_string(&cfg, "token.key-file", &s, &err), 1);
	CHECK_STR(s, "/from/system"); /* objects merge key by key */
	extra = config_get(&cfg, "extra");
	CHECK(json_is_array(extra));
	CHECK_INT(json_array_size(extra), 1); /* lists are replaced */
	CHECK_INT(json_integer_value(json_array_get(extra, 0)), 9);
	CHECK_CONTAINS(config_origin(&cfg, "token.ttl"),
		       "/repo/.safedeploy.yml:2:3");
	snprintf(want, sizeof(want), "%s:4:3", tmp_path("etc/config.yml"));
	CHECK_STR(config_origin(&cfg, "token.key-file"), want);
	snprintf(want, sizeof(want), "%s:1:1", tmp_path("explicit.yml"));
	CHECK_STR(config_origin(&cfg, "color"), want);
	/* The system file's extra.a went with the mapping it was in. */
	CHECK(config_origin(&cfg, "extra.a") == NULL);
	CHECK_INT(json_array_size(cfg.warnings), 3); /* 'extra' is unknown */
	config_release(&cfg);

	/* Without a repository and with nothing in the standard places. */
	CHECK_INT(chdir(tmp_path("etc")), 0);
	setenv("SAFEDEPLOY_SYSCONFDIR", tmp_path("nowhere"), 1);
	setenv("XDG_CONFIG_HOME", tmp_path("nowhere/either"), 1);
	config_init(&cfg);
	CHECK_INT(config_load(&cfg, NULL, &err), 0);
	CHECK_INT(json_array_size(cfg.files), 0);
	CHECK_INT(json_object_size(cfg.root), 0);
	config_release(&cfg);

	/* --config FILE must exist. */
	config_init(&cfg);
	CHECK_INT(config_load(&cfg, tmp_path("missing.yml"), &err), -1);
	CHECK_INT(err.code, SD_EXIT_CANNOT);
	CHECK_CONTAINS(err.msg, "missing.yml");
	CHECK_CONTAINS(err.msg, "No such file");
	config_release(&cfg);

	/* An invalid standard file is an error, not skipped. */
	setenv("SAFEDEPLOY_SYSCONFDIR", tmp_path("etc"), 1);
	tmp_write("etc/config.yml", "token:\n  ttl: 5x\n");
	config_init(&cfg);
	CHECK_INT(config_load(&cfg, NULL, &err), -1);
	CHECK_CONTAINS(err.msg, "etc/config.yml:2:3: 'token.ttl'");
	config_release(&cfg);

	CHECK_INT(chdir(cwd), 0);
	unsetenv("SAFEDEPLOY_SYSCONFDIR");
	unsetenv("XDG_CONFIG_HOME");
}

static void unknown_keys_warn_with_a_suggestion(void)
{
	struct sd_err err;
	struct config cfg;
	const char *path;
	char want[PATH_MAX + 128];

	CHECK_INT(load_one(&cfg, "w.yml",
			   "tokn:\n"
			   "  ttl: 5m\n"
			   "token:\n"
			   "  tll: 5m\n"
			   "zzzzzz: 1\n"
			   "colour: auto\n",
			   &err),
		  0);
	path = tmp_path("w.yml");
	CHECK_INT(json_array_size(cfg.warnings), 4);
	snprintf(want, sizeof(want),
		 "%s:1:1: unknown key 'tokn' (did you mean 'token'?)", path);
	CHECK_STR(json_string_value(json_array_get(cfg.warnings, 0)), want);
	snprintf(want, sizeof(want),
		 "%s:4:3: unknown key 'token.tll' (did you mean 'token.ttl'?)",
		 path);
	CHECK_STR(json_string_value(json_array_get(cfg.warnings, 1)), want);
	snprintf(want, sizeof(want), "%s:5:1: unknown key 'zzzzzz'", path);
	CHECK_STR(json_string_value(json_array_get(cfg.warnings, 2)), want);
	CHECK_CONTAINS(json_string_value(json_array_get(cfg.warnings, 3)),
		       "(did you mean 'color'?)");
	/* Unknown keys are kept: a newer version's keys do no harm. */
	CHECK(config_get(&cfg, "zzzzzz") != NULL);
	config_release(&cfg);
}

static void invalid_values_are_errors(void)
{
	struct sd_err err;
	struct config cfg;
	char want[PATH_MAX + 256];

	CHECK_INT(load_one(&cfg, "d.yml", "token:\n  ttl: 5x\n", &err), -1);
	CHECK_INT(err.code, SD_EXIT_CANNOT);
	snprintf(want, sizeof(want),
		 "%s:2:3: 'token.ttl': invalid duration '5x': unknown unit "
		 "'x' (use ms, s, m, h, d or w)",
		 tmp_path("d.yml"));
	CHECK_STR(err.msg, want);
	config_release(&cfg);

	CHECK_INT(load_one(&cfg, "e.yml", "color: sometimes\n", &err), -1);
	CHECK_CONTAINS(err.msg, "e.yml:1:1: 'color': must be one of auto, "
				"always, never (got 'sometimes')");
	config_release(&cfg);
	CHECK_INT(load_one(&cfg, "e2.yml", "color: true\n", &err), -1);
	CHECK_CONTAINS(err.msg, "'color': must be one of auto, always, never "
				"(got a boolean)");
	config_release(&cfg);

	CHECK_INT(load_one(&cfg, "t.yml", "token: [a]\n", &err), -1);
	CHECK_CONTAINS(err.msg,
		       "t.yml:1:1: 'token': expected a mapping, got a list");
	config_release(&cfg);
	CHECK_INT(load_one(&cfg, "t2.yml", "token:\n  ttl: 300\n", &err), -1);
	CHECK_CONTAINS(err.msg, "'token.ttl': expected a duration such as "
				"'5m', got an integer");
	config_release(&cfg);
	CHECK_INT(load_one(&cfg, "t3.yml", "token:\n  key-file: [a]\n", &err),
		  -1);
	CHECK_CONTAINS(err.msg,
		       "'token.key-file': expected a string, got a list");
	config_release(&cfg);
	CHECK_INT(load_one(&cfg, "t4.yml", "token:\n  ttl:\n", &err), -1);
	CHECK_CONTAINS(err.msg, "'token.ttl': expected a duration such as "
				"'5m', got null");
	config_release(&cfg);

	/* A YAML error names the file. */
	CHECK_INT(load_one(&cfg, "y.yml", "a:\n  b: 1\n c: 2\n", &err), -1);
	CHECK_CONTAINS(err.msg, "/y.yml:3:2: did not find expected key");
	config_release(&cfg);
}

static void top_level_must_be_a_mapping(void)
{
	struct sd_err err;
	struct config cfg;

	CHECK_INT(load_one(&cfg, "l.yml", "- a\n- b\n", &err), -1);
	CHECK_CONTAINS(err.msg,
		       "/l.yml:1:1: the configuration must be a mapping of "
		       "keys");
	config_release(&cfg);
	CHECK_INT(load_one(&cfg, "s.yml", "just text\n", &err), -1);
	CHECK_CONTAINS(err.msg, "must be a mapping of keys");
	config_release(&cfg);
	/* Empty files and sections with everything commented out are fine. */
	CHECK_INT(load_one(&cfg, "empty.yml", "# nothing yet\n", &err), 0);
	CHECK_INT(json_object_size(cfg.root), 0);
	CHECK_INT(config_load_file(&cfg, tmp_write("n.yml", "token:\n"), &err),
		  0);
	CHECK(json_is_object(config_get(&cfg, "token")));
	CHECK_INT(json_array_size(cfg.files), 2);
	config_release(&cfg);
}

static void typed_getters(void)
{
	struct sd_err err;
	struct config cfg;
	const char *s = "untouched";
	bool b = false;
	int64_t ms = -1;
	uint64_t bytes = 0;
	char want[PATH_MAX + 128];

	CHECK_INT(load_one(&cfg, "g.yml",
			   "color: auto\n"
			   "token:\n"
			   "  ttl: 90s\n"
			   "extra:\n"
			   "  flag: true\n"
			   "  size: 10M\n"
			   "  n: 5\n"
			   "  neg: -5\n"
			   "  s: str\n"
			   "  bad: 5x\n"
			   "  nothing: ~\n",
			   &err),
		  0);
	CHECK_INT(config_get_string(&cfg, "color", &s, &err), 1);
	CHECK_STR(s, "auto");
	CHECK_INT(config_get_duration(&cfg, "token.ttl", &ms, &err), 1);
	CHECK_INT(ms, 90000);
	CHECK_INT(config_get_bool(&cfg, "extra.flag", &b, &err), 1);
	CHECK(b);
	CHECK_INT(config_get_size(&cfg, "extra.size", &bytes, &err), 1);
	CHECK_INT(bytes, 10485760);
	CHECK_INT(config_get_size(&cfg, "extra.n", &bytes, &err), 1);
	CHECK_INT(bytes, 5);

	/* Absent: 0, value untouched. */
	s = "untouched";
	CHECK_INT(config_get_string(&cfg, "token.key-file", &s, &err), 0);
	CHECK_STR(s, "untouched");
	CHECK_INT(config_get_string(&cfg, "extra.nothing", &s, &err), 0);
	CHECK_INT(config_get_bool(&cfg, "no.such.key", &b, &err), 0);
	CHECK(config_get(&cfg, "token.ttl.deeper") == NULL);
	CHECK(config_get(&cfg, "color.x") == NULL);
	CHECK(config_origin(&cfg, "no.such.key") == NULL);

	/* The wrong type: -1, naming origin and key. */
	CHECK_INT(config_get_bool(&cfg, "extra.s", &b, &err), -1);
	snprintf(want, sizeof(want),
		 "%s:9:3: 'extra.s': expected a boolean, got a string",
		 tmp_path("g.yml"));
	CHECK_STR(err.msg, want);
	CHECK_INT(err.code, SD_EXIT_CANNOT);
	CHECK_INT(config_get_string(&cfg, "extra.n", &s, &err), -1);
	CHECK_CONTAINS(err.msg, "'extra.n': expected a string, got an integer");
	CHECK_INT(config_get_string(&cfg, "token", &s, &err), -1);
	CHECK_CONTAINS(err.msg, "expected a string, got a mapping");
	ms = 42;
	CHECK_INT(config_get_duration(&cfg, "extra.bad", &ms, &err), -1);
	CHECK_CONTAINS(err.msg, "g.yml:10:3: 'extra.bad': invalid duration "
				"'5x': unknown unit 'x'");
	CHECK_INT(err.code, SD_EXIT_CANNOT);
	CHECK_INT(ms, 42);
	CHECK_INT(config_get_duration(&cfg, "extra.n", &ms, &err), -1);
	CHECK_CONTAINS(err.msg, "expected a duration such as '5m'");
	CHECK_INT(config_get_size(&cfg, "extra.neg", &bytes, &err), -1);
	CHECK_CONTAINS(err.msg, "'extra.neg': a size must not be negative");
	CHECK_INT(config_get_size(&cfg, "extra.flag", &bytes, &err), -1);
	CHECK_CONTAINS(err.msg, "got a boolean");
	CHECK_INT(config_get_size(&cfg, "extra.bad", &bytes, &err), -1);
	CHECK_CONTAINS(err.msg, "invalid size '5x'");
	CHECK_INT(bytes, 5);
	config_release(&cfg);
}

int main(void)
{
	snprintf(tmp_root, sizeof(tmp_root), "%s", unit_mkdtemp("config"));
	RUN(scalars_follow_the_core_schema,
	    "config: YAML scalars follow the 1.2 core schema, quoted stays text");
	RUN(scalar_errors, "config: an integer out of range is an error");
	RUN(nested_maps_and_lists, "config: nested mappings and lists");
	RUN(empty_documents_are_null, "config: an empty document is null");
	RUN(anchors_and_aliases, "config: anchors and aliases are resolved");
	RUN(merge_keys, "config: '<<' merge keys, explicit keys win");
	RUN(billion_laughs_is_refused,
	    "config: alias expansion is capped (billion laughs)");
	RUN(structural_errors_name_line_and_column,
	    "config: duplicate keys, documents, syntax errors name line:column");
	RUN(origins_record_line_and_column,
	    "config: origins record file:line:column of each key");
	RUN(json_files_are_accepted, "config: .json files, and their errors");
	RUN(standard_files_merge_in_order,
	    "config: system, user, repository, --config merge in order");
	RUN(unknown_keys_warn_with_a_suggestion,
	    "config: an unknown key warns, with a did-you-mean");
	RUN(invalid_values_are_errors,
	    "config: an invalid value names file:line:column and key");
	RUN(top_level_must_be_a_mapping,
	    "config: the top level must be a mapping; empty is fine");
	RUN(typed_getters, "config: typed getters, absent and wrong types");
	UNIT_DONE();
}
