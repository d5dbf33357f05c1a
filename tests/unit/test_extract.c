/* Unit tests for lib/extract.c: JSON dot paths and Prometheus labels, with
 * the hostile answers a target may give. */
#include "unit.h"
#include "extract.h"

/* The text at path in the JSON doc, or "ERR: message" (static). */
static const char *at(const char *doc, const char *path)
{
	static char out[2048];
	struct sd_err err = {0};
	json_error_t jerr;
	json_t *root = json_loads(doc, JSON_DECODE_ANY, &jerr);
	const char *kind = NULL;
	json_t *v;
	char *t;

	if (!root) {
		snprintf(out, sizeof(out), "BAD JSON: %s", jerr.text);
		return out;
	}
	v = jpath_get(root, path, &err);
	if (!v) {
		snprintf(out, sizeof(out), "ERR %d: %s", err.code, err.msg);
	} else {
		t = jpath_text(v, &kind);
		snprintf(out, sizeof(out), "%s", t ? t : kind);
		free(t);
	}
	json_decref(root);
	return out;
}

/* The message of jpath_validate(path), or "ok" (static). */
static const char *bad(const char *path)
{
	static struct sd_err err;

	memset(&err, 0, sizeof(err));
	if (jpath_validate(path, &err) == 0)
		return "ok";
	if (err.code != SD_EXIT_USAGE)
		return "wrong code";
	return err.msg;
}

static void simple_paths(void)
{
	const char *info =
		"{\"build\":{\"version\":\"1.2.3\",\"name\":\"app\"},"
		"\"git\":{\"branch\":\"main\",\"commit\":"
		"{\"id\":\"df027cf\",\"time\":\"2024-01-01\"}}}";

	CHECK_STR(at(info, "build.version"), "1.2.3");
	CHECK_STR(at(info, "git.commit.id"), "df027cf");
	CHECK_STR(at(info, "git.branch"), "main");
	CHECK_STR(at("{\"a b\":{\"c-d\":\"x\"}}", "a b.c-d"), "x");
	CHECK_STR(at("{\"a\\\"q\":1}", "a\"q"), "1");
	CHECK_STR(at("{\"\\u00e9t\\u00e9\":\"summer\"}", "\xc3\xa9t\xc3\xa9"),
		  "summer");
}

static void borrowed_reference(void)
{
	json_t *root = json_pack("{s:{s:i}}", "a", "b", 7);
	struct sd_err err = {0};
	json_t *v = jpath_get(root, "a.b", &err);

	CHECK(v == json_object_get(json_object_get(root, "a"), "b"));
	CHECK_INT(root->refcount, 1);
	CHECK_INT(v->refcount, 1);
	json_decref(root);
}

static void indexes(void)
{
	const char *doc = "{\"items\":[{\"metadata\":{\"name\":\"p0\"}},"
			  "{\"metadata\":{\"name\":\"p1\"}}],"
			  "\"a\":[[1],[2,3],[4,5,[6,7,{\"z\":\"deep\"}]]]}";

	CHECK_STR(at(doc, "items[0].metadata.name"), "p0");
	CHECK_STR(at(doc, "items[1].metadata.name"), "p1");
	CHECK_STR(at(doc, "a[1][1]"), "3");
	CHECK_STR(at(doc, "a[2][2][1]"), "7");
	CHECK_STR(at(doc, "a[2][2][2].z"), "deep");
	CHECK_STR(at(doc, "a[0][000]"), "1");
	CHECK_STR(at("[\"x\",\"y\"]", "[1]"), "y");
	CHECK_STR(at("[[\"x\",{\"k\":\"v\"}]]", "[0][1].k"), "v");
	CHECK_STR(at("{\"a\":[0,{\"b\":\"c\"}]}", "a.[1].b"), "c");
}

static void quoted_keys(void)
{
	const char *doc =
		"{\"features\":{\"power.peg\":\"on\",\"a[b]\":\"br\"},"
		"\"top.level\":{\"x\":\"tx\"},\"q\\\"k\":\"quote\","
		"\"b\\\\s\":\"back\",\"\":\"empty\",\"l\":[{\"m.n\":[\"o\"]}]}";

	CHECK_STR(at(doc, "features[\"power.peg\"]"), "on");
	CHECK_STR(at(doc, "features[\"a[b]\"]"), "br");
	CHECK_STR(at(doc, "[\"top.level\"].x"), "tx");
	CHECK_STR(at(doc, "[\"top.level\"][\"x\"]"), "tx");
	CHECK_STR(at(doc, "[\"q\\\"k\"]"), "quote");
	CHECK_STR(at(doc, "[\"b\\\\s\"]"), "back");
	CHECK_STR(at(doc, "[\"\"]"), "empty");
	CHECK_STR(at(doc, "l[0][\"m.n\"][0]"), "o");
	CHECK_STR(at(doc, "features.[\"power.peg\"]"), "on");
	CHECK_STR(bad("features[\"power.peg\"]"), "ok");
}

static void validate_accepts(void)
{
	CHECK_STR(bad("build.version"), "ok");
	CHECK_STR(bad("a"), "ok");
	CHECK_STR(bad("items[0].metadata.name"), "ok");
	CHECK_STR(bad("a[1][2]"), "ok");
	CHECK_STR(bad("[0]"), "ok");
	CHECK_STR(bad("a b.c\"d.e-f:g"), "ok");
	CHECK_STR(bad("a[18446744073709551615]"), "ok");
}

static void validate_errors_say_what_and_where(void)
{
	CHECK_STR(bad(""), "'': empty path");
	CHECK_STR(bad(".a"), "'.a': empty segment before '.' at character 1");
	CHECK_STR(bad("a..b"),
		  "'a..b': empty segment before '.' at character 3");
	CHECK_STR(bad("a."), "'a.': empty segment after '.' at character 2");
	CHECK_STR(bad("."), "'.': empty segment before '.' at character 1");
	CHECK_STR(bad("a[0]."),
		  "'a[0].': empty segment after '.' at character 5");
	CHECK_STR(bad("a["), "'a[': unclosed '[' at character 2");
	CHECK_STR(bad("a[0"), "'a[0': unclosed '[' at character 2");
	CHECK_STR(bad("a[\"k\""), "'a[\"k\"': unclosed '[' at character 2");
	CHECK_STR(bad("a[\"k"), "'a[\"k': unclosed '\"' at character 3");
	CHECK_STR(bad("a[\"k\\"), "'a[\"k\\': unclosed '\"' at character 3");
	CHECK_STR(bad("a[x]"),
		  "'a[x]': expected an index or a quoted key after '[' at "
		  "character 3");
	CHECK_STR(bad("a[-1]"),
		  "'a[-1]': expected an index or a quoted key after '[' at "
		  "character 3");
	CHECK_STR(bad("a[+1]"),
		  "'a[+1]': expected an index or a quoted key after '[' at "
		  "character 3");
	CHECK_STR(bad("a[ 1]"),
		  "'a[ 1]': expected an index or a quoted key after '[' at "
		  "character 3");
	CHECK_STR(bad("a[]"), "'a[]': empty '[]' at character 2");
	CHECK_STR(bad("a[1x]"), "'a[1x]': expected ']' at character 4");
	CHECK_STR(bad("a[1.5]"), "'a[1.5]': expected ']' at character 4");
	CHECK_STR(bad("a[\"k\"x]"), "'a[\"k\"x]': expected ']' at character 6");
	CHECK_STR(bad("a]"), "'a]': expected '.' or '[' at character 2");
	CHECK_STR(bad("]"), "']': unexpected ']' at character 1");
	CHECK_STR(bad("a.]"), "'a.]': unexpected ']' at character 3");
	CHECK_STR(bad("a[0]b"), "'a[0]b': expected '.' or '[' at character 5");
	CHECK_STR(bad("a[\"\\x\"]"),
		  "'a[\"\\x\"]': bad escape (only \\\" and \\\\ are allowed) "
		  "at character 4");
	CHECK_STR(bad("a[18446744073709551616]"),
		  "'a[18446744073709551616]': index too large at character 3");
	CHECK_STR(bad("a[99999999999999999999999999999]"),
		  "'a[99999999999999999999999999999]': index too large at "
		  "character 3");
	CHECK_INT(jpath_validate(NULL, NULL), -1);
	CHECK_INT(jpath_validate("a..b", NULL), -1);
}

static void long_path_is_quoted_within_the_message(void)
{
	char path[3000];
	const char *m;

	memset(path, 'x', sizeof(path) - 3);
	memcpy(path + sizeof(path) - 3, "..", 3);
	m = bad(path);
	CHECK_CONTAINS(m, "empty segment before '.' at character 2999");
}

static void get_errors_name_the_segment(void)
{
	const char *doc = "{\"git\":{\"branch\":\"main\"},\"a\":\"str\","
			  "\"items\":[1,2],\"one\":[1],\"none\":[],\"n\":null,"
			  "\"num\":4,\"t\":true,\"obj\":{\"arr\":[[1]]}}";

	CHECK_STR(at("{}", "git.commit.id"),
		  "ERR 1: 'git.commit.id': 'git' is missing");
	CHECK_STR(at(doc, "git.commit.id"),
		  "ERR 1: 'git.commit.id': 'commit' is missing");
	CHECK_STR(at(doc, "a.b"),
		  "ERR 1: 'a.b': 'a' is a string, not an object");
	CHECK_STR(at(doc, "items[3]"),
		  "ERR 1: 'items[3]': 'items' has 2 elements");
	CHECK_STR(at(doc, "items[2]"),
		  "ERR 1: 'items[2]': 'items' has 2 elements");
	CHECK_STR(at(doc, "one[1]"), "ERR 1: 'one[1]': 'one' has 1 element");
	CHECK_STR(at(doc, "none[0]"),
		  "ERR 1: 'none[0]': 'none' has 0 elements");
	CHECK_STR(at(doc, "items.x"),
		  "ERR 1: 'items.x': 'items' is an array, not an object");
	CHECK_STR(at(doc, "git[0]"),
		  "ERR 1: 'git[0]': 'git' is an object, not an array");
	CHECK_STR(at(doc, "n.x"), "ERR 1: 'n.x': 'n' is null, not an object");
	CHECK_STR(at(doc, "num.x"),
		  "ERR 1: 'num.x': 'num' is a number, not an object");
	CHECK_STR(at(doc, "t[0]"),
		  "ERR 1: 't[0]': 't' is a boolean, not an array");
	CHECK_STR(at(doc, "obj.arr[0][1]"),
		  "ERR 1: 'obj.arr[0][1]': 'obj.arr[0]' has 1 element");
	CHECK_STR(at(doc, "obj.arr[0][0].x"),
		  "ERR 1: 'obj.arr[0][0].x': 'obj.arr[0][0]' is a number, not "
		  "an object");
	CHECK_STR(at(doc, "obj[\"a.b\"]"),
		  "ERR 1: 'obj[\"a.b\"]': 'a.b' is missing");
	CHECK_STR(
		at(doc, "items[18446744073709551615]"),
		"ERR 1: 'items[18446744073709551615]': 'items' has 2 elements");
	/* The whole answer has no name of its own. */
	CHECK_STR(at("[1]", "a"),
		  "ERR 1: 'a': the answer is an array, not an object");
	CHECK_STR(at("\"s\"", "a"),
		  "ERR 1: 'a': the answer is a string, not an object");
	CHECK_STR(at("{}", "[0]"),
		  "ERR 1: '[0]': the answer is an object, not an array");
	CHECK_STR(at("[]", "[0]"), "ERR 1: '[0]': the answer has 0 elements");
	/* An unchecked bad path is still a usage error. */
	CHECK_STR(at(doc, "a..b"),
		  "ERR 2: 'a..b': empty segment before '.' at character 3");
}

static void get_handles_null_root_and_err(void)
{
	struct sd_err err = {0};
	json_t *o = json_object();

	CHECK(jpath_get(NULL, "a", &err) == NULL);
	CHECK_STR(err.msg, "'a': the answer is null, not an object");
	CHECK(jpath_get(o, "a", NULL) == NULL);
	CHECK(jpath_get(o, NULL, NULL) == NULL);
	json_decref(o);
}

/* jpath_text of one JSON text, or "NULL:kind" (static). */
static const char *text(const char *doc)
{
	static char out[256];
	json_t *v = json_loads(doc, JSON_DECODE_ANY, NULL);
	const char *kind = "unset";
	char *t;

	if (!v)
		return "BAD JSON";
	t = jpath_text(v, &kind);
	if (t)
		snprintf(out, sizeof(out), "%s:%s", kind, t);
	else
		snprintf(out, sizeof(out), "NULL:%s", kind);
	free(t);
	json_decref(v);
	return out;
}

static void text_of_each_type(void)
{
	CHECK_STR(text("\"1.2.3\""), "string:1.2.3");
	CHECK_STR(text("\"\""), "string:");
	CHECK_STR(text("\"a\\nb\""), "string:a\nb");
	CHECK_STR(text("42"), "number:42");
	CHECK_STR(text("-7"), "number:-7");
	CHECK_STR(text("0"), "number:0");
	CHECK_STR(text("9223372036854775807"), "number:9223372036854775807");
	CHECK_STR(text("-9223372036854775808"), "number:-9223372036854775808");
	CHECK_STR(text("1.5"), "number:1.5");
	CHECK_STR(text("0.1"), "number:0.1");
	CHECK_STR(text("1.0"), "number:1.0");
	CHECK_STR(text("-0.0"), "number:-0.0");
	CHECK_STR(text("1e20"), "number:1e20");
	CHECK_STR(text("1.5e-7"), "number:1.5e-7");
	CHECK_STR(text("3.141592653589793"), "number:3.141592653589793");
	CHECK_STR(text("123456789.125"), "number:123456789.125");
	CHECK_STR(text("1.7976931348623157e308"),
		  "number:1.7976931348623157e308");
	CHECK_STR(text("true"), "boolean:true");
	CHECK_STR(text("false"), "boolean:false");
	CHECK_STR(text("null"), "NULL:null");
	CHECK_STR(text("[\"1.2.3\"]"), "NULL:array");
	CHECK_STR(text("[]"), "NULL:array");
	CHECK_STR(text("{}"), "NULL:object");
	CHECK_STR(text("{\"version\":\"1.2.3\"}"), "NULL:object");
}

static void text_reals_round_trip(void)
{
	const double vals[] = {0.1,	      0.2,	  1.0 / 3,  2.5e-300,
			       6.02214076e23, -1234.5678, 4.9e-324, 100.0,
			       1e16,	      12345678.9};
	size_t i;

	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		json_t *v = json_real(vals[i]);
		const char *kind;
		char *t = jpath_text(v, &kind);

		CHECK(t != NULL);
		CHECK_STR(kind, "number");
		if (t) {
			json_t *back = json_loads(t, JSON_DECODE_ANY, NULL);

			CHECK(json_is_real(back));
			CHECK(json_real_value(back) == vals[i]);
			json_decref(back);
		}
		free(t);
		json_decref(v);
	}
}

static void text_of_spring_commit(void)
{
	const char *full = "{\"git\":{\"commit\":{\"id\":{\"full\":"
			   "\"df027cf1f9b8ac8a3ab6bd7a0b4a9c3b3d1b4f2e\","
			   "\"abbrev\":\"df027cf\"},\"time\":\"x\"}}}";

	CHECK_STR(at(full, "git.commit.id"),
		  "df027cf1f9b8ac8a3ab6bd7a0b4a9c3b3d1b4f2e");
	CHECK_STR(at(full, "git.commit.id.abbrev"), "df027cf");
	CHECK_STR(text("{\"abbrev\":\"df027cf\"}"), "object:df027cf");
	CHECK_STR(text("{\"full\":\"f\",\"abbrev\":\"a\"}"), "object:f");
	CHECK_STR(text("{\"full\":7,\"abbrev\":\"a\"}"), "object:a");
	CHECK_STR(text("{\"full\":null,\"abbrev\":null}"), "NULL:object");
	CHECK_STR(text("{\"full\":{\"full\":\"x\"}}"), "NULL:object");
	CHECK_STR(text("{\"abbrev\":[\"a\"]}"), "NULL:object");
}

static void text_edge_cases(void)
{
	const char *kind = "unset";
	json_t *v = json_stringn("1.2.3\0evil", 10);
	char *t;

	/* An embedded NUL must not make "1.2.3\0evil" look like "1.2.3". */
	t = jpath_text(v, &kind);
	CHECK_STR(kind, "string");
	CHECK(t && strcmp(t, "1.2.3") != 0);
	CHECK_STR(t, "\"1.2.3\\u0000evil\"");
	free(t);
	json_decref(v);
	v = json_pack("{s:s#}", "full", "ab\0c", (int)4);
	t = jpath_text(v, &kind);
	CHECK(t && strcmp(t, "ab") != 0);
	free(t);
	json_decref(v);
	kind = "unset";
	CHECK(jpath_text(NULL, &kind) == NULL);
	CHECK_STR(kind, "null");
	v = json_integer(5);
	t = jpath_text(v, NULL);
	CHECK_STR(t, "5");
	free(t);
	json_decref(v);
}

static void deep_nesting(void)
{
	size_t depth = 10000, i;
	char *doc = malloc(2 * depth + 1), *path;
	struct sd_err err = {0};
	json_t *root, *v, *leaf;
	const char *kind;

	/* jansson refuses this depth; nothing here may crash either way. */
	memset(doc, '[', depth);
	memset(doc + depth, ']', depth);
	doc[2 * depth] = '\0';
	root = json_loads(doc, 0, NULL);
	if (root) {
		CHECK(jpath_get(root, "a", &err) == NULL);
		json_decref(root);
	}
	/* Within jansson's limit. */
	depth = 1000;
	memset(doc, '[', depth);
	memset(doc + depth, ']', depth);
	doc[2 * depth] = '\0';
	root = json_loads(doc, 0, NULL);
	CHECK(root != NULL);
	path = malloc(3 * depth + 1);
	for (i = 0; i < depth - 1; i++)
		memcpy(path + 3 * i, "[0]", 3);
	path[3 * i] = '\0';
	v = jpath_get(root, path, &err);
	CHECK(json_is_array(v));
	CHECK_INT(json_array_size(v), 0);
	CHECK(jpath_text(v, &kind) == NULL);
	CHECK_STR(kind, "array");
	memcpy(path + 3 * i, "[0]", 4);
	CHECK(jpath_get(root, path, &err) == NULL);
	CHECK_CONTAINS(err.msg, "has 0 elements");
	json_decref(root);
	free(doc);
	free(path);

	/* Built by hand, with no parser limit: the walk must not recurse. */
	depth = 10000;
	leaf = json_string("bottom");
	root = leaf;
	for (i = 0; i < depth; i++) {
		json_t *a = json_array();

		json_array_append_new(a, root);
		root = a;
	}
	path = malloc(3 * depth + 1);
	for (i = 0; i < depth; i++)
		memcpy(path + 3 * i, "[0]", 3);
	path[3 * depth] = '\0';
	CHECK(jpath_validate(path, &err) == 0);
	CHECK(jpath_get(root, path, &err) == leaf);
	free(path);
	/* Free from the top one level at a time to keep recursion shallow. */
	while (json_is_array(root)) {
		json_t *in = json_incref(json_array_get(root, 0));

		json_decref(root);
		root = in;
	}
	json_decref(root);
}

static void long_paths_and_keys(void)
{
	size_t n = 100000, i;
	char *path = malloc(2 * n + 1);
	struct sd_err err = {0};
	json_t *o = json_object();

	for (i = 0; i < n; i++)
		memcpy(path + 2 * i, "a.", 2);
	path[2 * n - 1] = '\0';
	CHECK_INT(jpath_validate(path, &err), 0);
	CHECK(jpath_get(o, path, &err) == NULL);
	CHECK_CONTAINS(err.msg, "': 'a' is missing");
	CHECK(strlen(err.msg) < sizeof(err.msg));
	free(path);
	json_decref(o);
}

/* promtext_label on a NUL-terminated text: the value, or "ERR: msg". */
static const char *prom(const char *txt, const char *metric, const char *label)
{
	static char out[8192];
	struct sd_err err = {0};
	size_t len = strlen(txt);
	/* An exact-size copy, so that ASan catches any read past len. */
	char *copy = malloc(len ? len : 1), *v = (char *)"untouched";

	memcpy(copy, txt, len);
	if (promtext_label(copy, len, metric, label, &v, &err) < 0) {
		snprintf(out, sizeof(out), "ERR %d: %s%s", err.code, err.msg,
			 v ? " (value set)" : "");
	} else {
		snprintf(out, sizeof(out), "%s", v);
		free(v);
	}
	free(copy);
	return out;
}

static const char *exposition =
	"# HELP app_build_info_total A decoy with a longer name.\n"
	"# TYPE app_build_info_total counter\n"
	"app_build_info_total{version=\"0.0.0\"} 3\n"
	"app_build_inf{version=\"0.0.1\"} 1\n"
	"\n"
	"# HELP app_build_info Build information.\n"
	"# TYPE app_build_info gauge\n"
	"app_build_info{version=\"1.2.3\",revision=\"abc123\","
	"goversion=\"go1.22\"} 1\n"
	"app_build_info{version=\"9.9.9\",revision=\"later\"} 1\n"
	"http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n"
	"process_start_time_seconds 1.7e9\n";

static void prom_finds_labels(void)
{
	CHECK_STR(prom(exposition, "app_build_info", "version"), "1.2.3");
	CHECK_STR(prom(exposition, "app_build_info", "revision"), "abc123");
	CHECK_STR(prom(exposition, "app_build_info", "goversion"), "go1.22");
	CHECK_STR(prom(exposition, "app_build_info_total", "version"), "0.0.0");
	CHECK_STR(prom(exposition, "app_build_inf", "version"), "0.0.1");
	CHECK_STR(prom(exposition, "http_requests_total", "code"), "200");
	CHECK_STR(prom("m{a=\"1\"} 1", "m", "a"), "1"); /* no final newline */
	CHECK_STR(prom("  m { a = \"x\" , b=\"y\", } 1 \n", "m", "b"), "y");
	CHECK_STR(prom("m{a=\"x\",} +Inf\n", "m", "a"), "x");
	CHECK_STR(prom("m{a=\"x\"}1\n", "m", "a"), "x");
	CHECK_STR(prom("m{a=\"\"} NaN\n", "m", "a"), "");
	CHECK_STR(prom("m{a=\"x\"} -1.5e-3 -17\n", "m", "a"), "x");
	CHECK_STR(prom("m{a=\"x\"} 0x1p-2\n", "m", "a"), "x");
	CHECK_STR(prom("m:sub{a=\"c\"}\t1\n", "m:sub", "a"), "c");
	CHECK_STR(prom("\t# comment\n\n \nm{a=\"x\"} 1\n", "m", "a"), "x");
	CHECK_STR(prom("m{a=\"}\",b=\"{,\"} 1\n", "m", "b"), "{,");
	CHECK_STR(prom("m{a=\"x\"} 1\nm{a=\"y\" 1\n", "m", "a"), "x");
}

static void prom_unescapes(void)
{
	CHECK_STR(prom("m{a=\"x\\\"y\\\\z\\nw\"} 1\n", "m", "a"), "x\"y\\z\nw");
	/* Other escapes stay as written, as Prometheus keeps them. */
	CHECK_STR(prom("m{a=\"C:\\dir\\t\"} 1\n", "m", "a"), "C:\\dir\\t");
	CHECK_STR(prom("m{a=\"\\\\\"} 1\n", "m", "a"), "\\");
	CHECK_STR(prom("m{a=\"caf\xc3\xa9\"} 1\n", "m", "a"), "caf\xc3\xa9");
}

static void prom_names_match_exactly(void)
{
	const char *only_longer = "app_build_info_total{version=\"0\"} 1\n"
				  "xapp_build_info{version=\"0\"} 1\n"
				  "app_build_infoX{version=\"0\"} 1\n";

	CHECK_STR(prom(only_longer, "app_build_info", "version"),
		  "ERR 1: metric 'app_build_info' not found");
	CHECK_STR(prom("app_build_inf{version=\"0\"} 1\n", "app_build_info",
		       "version"),
		  "ERR 1: metric 'app_build_info' not found");
	/* Someone else's odd line is not ours to judge. */
	CHECK_STR(prom("app_build_info-x{version=\"0\"} 1\n"
		       "app_build_info.x{version=\"0\"} 1\n"
		       "app_build_info{version=\"ok\"} 1\n",
		       "app_build_info", "version"),
		  "ok");
	CHECK_STR(prom("# app_build_info{version=\"no\"} 1\n", "app_build_info",
		       "version"),
		  "ERR 1: metric 'app_build_info' not found");
}

static void prom_skips_others_malformed_lines(void)
{
	const char *txt = "other{a=\"unclosed} 1\n"
			  "{\"quoted.name\", a=\"b\"} 1\n"
			  "9bad 1\n"
			  "=== garbage ===\n"
			  "other2{=} x y z w\n"
			  "m{a=\"fine\"} 1\n";

	CHECK_STR(prom(txt, "m", "a"), "fine");
}

static void prom_missing_label_and_metric(void)
{
	CHECK_STR(prom(exposition, "app_build_info", "branch"),
		  "ERR 1: metric 'app_build_info' has no label 'branch'");
	CHECK_STR(
		prom(exposition, "process_start_time_seconds", "x"),
		"ERR 1: metric 'process_start_time_seconds' has no label 'x'");
	CHECK_STR(prom(exposition, "nope", "version"),
		  "ERR 1: metric 'nope' not found");
	CHECK_STR(prom("", "m", "a"), "ERR 1: metric 'm' not found");
	CHECK_STR(prom("\n\n# only comments\n", "m", "a"),
		  "ERR 1: metric 'm' not found");
	/* Only the first sample counts, even when a later one has it. */
	CHECK_STR(prom("m{b=\"1\"} 1\nm{a=\"2\"} 1\n", "m", "a"),
		  "ERR 1: metric 'm' has no label 'a'");
	/* Label names match exactly too. */
	CHECK_STR(prom("m{ab=\"1\",b=\"2\"} 1\n", "m", "a"),
		  "ERR 1: metric 'm' has no label 'a'");
}

static void prom_malformed_wanted_line(void)
{
	CHECK_STR(prom("# c\nm{a=\"x} 1\n", "m", "a"),
		  "ERR 1: line 2: unclosed '\"' at column 5");
	CHECK_STR(prom("m{a=\"x\"\n", "m", "a"),
		  "ERR 1: line 1: expected ',' or '}' at column 8");
	CHECK_STR(prom("m{a=\"x\",\n", "m", "a"),
		  "ERR 1: line 1: unclosed '{' at column 2");
	CHECK_STR(prom("m{a=\"x\"}\n", "m", "a"),
		  "ERR 1: line 1: missing value at column 9");
	CHECK_STR(prom("m\n", "m", "a"),
		  "ERR 1: line 1: missing value at column 2");
	CHECK_STR(prom("m{a=\"x\"} one\n", "m", "a"),
		  "ERR 1: line 1: value is not a number at column 10");
	CHECK_STR(prom("m{a=\"x\"} 1 12.5\n", "m", "a"),
		  "ERR 1: line 1: timestamp is not an integer at column 12");
	CHECK_STR(prom("m{a=\"x\"} 1 99999999999999999999\n", "m", "a"),
		  "ERR 1: line 1: timestamp is not an integer at column 12");
	CHECK_STR(prom("m{a=\"x\"} 1 2 3\n", "m", "a"),
		  "ERR 1: line 1: unexpected text after the timestamp at "
		  "column 14");
	CHECK_STR(prom("m{a \"x\"} 1\n", "m", "a"),
		  "ERR 1: line 1: expected '=' after a label name at column 5");
	CHECK_STR(prom("m{a=x} 1\n", "m", "a"),
		  "ERR 1: line 1: expected '\"' after '=' at column 5");
	CHECK_STR(prom("m{1a=\"x\"} 1\n", "m", "a"),
		  "ERR 1: line 1: expected a label name at column 3");
	CHECK_STR(prom("m{a:b=\"x\"} 1\n", "m", "a"),
		  "ERR 1: line 1: expected '=' after a label name at column 4");
	CHECK_STR(prom("m{a=\"x\",a=\"y\"} 1\n", "m", "a"),
		  "ERR 1: line 1: label 'a' appears twice");
	CHECK_STR(prom("m{a=\"x\\", "m", "a"),
		  "ERR 1: line 1: unclosed '\"' at column 5");
	/* A malformed line before the wanted label still fails. */
	CHECK_STR(prom("m{b=\"x\" c=\"y\",a=\"z\"} 1\n", "m", "a"),
		  "ERR 1: line 1: expected ',' or '}' at column 9");
	CHECK_STR(prom("m{a=\"x\"} 0x1.8\n", "m", "a"),
		  "ERR 1: line 1: value is not a number at column 10");
	CHECK_STR(prom("m{a=\"x\"} 1e\n", "m", "a"),
		  "ERR 1: line 1: value is not a number at column 10");
}

static void prom_not_nul_terminated(void)
{
	const char *full = "m{a=\"real\"} 1\nd{a=\"decoy\"} 1\n";
	size_t cut = strlen("m{a=\"real\"} 1\n");
	struct sd_err err = {0};
	char *buf = malloc(strlen(full)), *v = NULL;

	memcpy(buf, full, strlen(full));
	CHECK_INT(promtext_label(buf, cut, "m", "a", &v, &err), 0);
	CHECK_STR(v, "real");
	free(v);
	v = NULL;
	/* The decoy past len is not part of the text. */
	CHECK_INT(promtext_label(buf, cut, "d", "a", &v, &err), -1);
	CHECK_STR(err.msg, "metric 'd' not found");
	CHECK(v == NULL);
	/* Cut inside the wanted line: what is left of it is malformed. */
	CHECK_INT(promtext_label(buf, 8, "m", "a", &v, &err), -1);
	CHECK_STR(err.msg, "line 1: unclosed '\"' at column 5");
	CHECK_INT(promtext_label(buf, 11, "m", "a", &v, &err), -1);
	CHECK_STR(err.msg, "line 1: missing value at column 12");
	CHECK_INT(promtext_label(buf, 0, "m", "a", &v, &err), -1);
	CHECK_STR(err.msg, "metric 'm' not found");
	/* Every cut stays within the buffer (ASan checks the reads). */
	for (cut = 0; cut <= strlen(full); cut++) {
		if (promtext_label(buf, cut, "d", "a", &v, &err) == 0)
			free(v);
		if (promtext_label(buf, cut, "m", "a", &v, &err) == 0)
			free(v);
	}
	free(buf);
}

static void prom_crlf(void)
{
	const char *txt = "# HELP m x\r\n# TYPE m gauge\r\n\r\n"
			  "m{a=\"1.2.3\",b=\"z\"} 1\r\n";

	CHECK_STR(prom(txt, "m", "a"), "1.2.3");
	CHECK_STR(prom(txt, "m", "b"), "z");
	CHECK_STR(prom("m{a=\"x\"} 1 5\r\n", "m", "a"), "x");
	CHECK_STR(prom("m{a=\"x\"} 1\r", "m", "a"), "x");
	/* A stray CR inside a line is not an end of line. */
	CHECK_STR(prom("m{a=\"x\"} 1\rjunk\n", "m", "a"),
		  "ERR 1: line 1: value is not a number at column 10");
}

static void prom_huge_label_value(void)
{
	size_t n = 4096, big = 1 << 20;
	char *txt = malloc(big + 64), *v = NULL;
	struct sd_err err = {0};
	size_t len;

	/* Exactly at the cap is fine. */
	len = (size_t)snprintf(txt, 16, "m{a=\"");
	memset(txt + len, 'v', n);
	len += n;
	memcpy(txt + len, "\"} 1\n", 5);
	len += 5;
	CHECK_INT(promtext_label(txt, len, "m", "a", &v, &err), 0);
	CHECK_INT(v ? strlen(v) : 0, 4096);
	free(v);
	v = NULL;
	/* One byte more is not. */
	len = (size_t)snprintf(txt, 16, "m{a=\"");
	memset(txt + len, 'v', n + 1);
	len += n + 1;
	memcpy(txt + len, "\"} 1\n", 5);
	len += 5;
	CHECK_INT(promtext_label(txt, len, "m", "a", &v, &err), -1);
	CHECK_STR(err.msg,
		  "line 1: value of label 'a' is longer than 4096 bytes");
	CHECK(v == NULL);
	/* Escapes count as what they stand for: 4096 '\n' are 4096 bytes. */
	len = (size_t)snprintf(txt, 16, "m{a=\"");
	for (size_t i = 0; i < n; i++) {
		txt[len++] = '\\';
		txt[len++] = 'n';
	}
	memcpy(txt + len, "\"} 1\n", 5);
	len += 5;
	CHECK_INT(promtext_label(txt, len, "m", "a", &v, &err), 0);
	CHECK_INT(v ? strlen(v) : 0, 4096);
	free(v);
	v = NULL;
	/* A whole MiB in one value, and other labels of any size. */
	len = (size_t)snprintf(txt, 16, "m{b=\"");
	memset(txt + len, 'b', big - 32);
	len += big - 32;
	memcpy(txt + len, "\",a=\"ok\"} 1\n", 12);
	len += 12;
	CHECK_INT(promtext_label(txt, len, "m", "a", &v, &err), 0);
	CHECK_STR(v, "ok");
	free(v);
	v = NULL;
	CHECK_INT(promtext_label(txt, len, "m", "b", &v, &err), -1);
	CHECK_CONTAINS(err.msg, "longer than 4096 bytes");
	/* An unclosed value running to the end of a huge text. */
	len = (size_t)snprintf(txt, 16, "m{a=\"");
	memset(txt + len, 'x', big - 16);
	len += big - 16;
	CHECK_INT(promtext_label(txt, len, "m", "b", &v, &err), -1);
	CHECK_STR(err.msg, "line 1: unclosed '\"' at column 5");
	free(txt);
}

static void prom_nul_bytes(void)
{
	static const char txt[] = "m{a=\"1.2.3\0evil\"} 1\n";
	static const char other[] = "x{a=\"\0\"} 1\0\nm{a=\"ok\"} 1\n";
	struct sd_err err = {0};
	char *v = NULL;

	CHECK_INT(promtext_label(txt, sizeof(txt) - 1, "m", "a", &v, &err), -1);
	CHECK_STR(err.msg, "line 1: NUL byte in the value of label 'a'");
	CHECK(v == NULL);
	CHECK_INT(promtext_label(other, sizeof(other) - 1, "m", "a", &v, &err),
		  0);
	CHECK_STR(v, "ok");
	free(v);
}

static void prom_many_lines_and_line_numbers(void)
{
	size_t lines = 50000, i, len = 0;
	char *txt = malloc(lines * 16 + 64), *v = NULL;
	struct sd_err err = {0};

	for (i = 0; i < lines; i++)
		len += (size_t)snprintf(txt + len, 16, "x%zu 1\n", i % 1000);
	len += (size_t)snprintf(txt + len, 64, "m{a=\"x\" 1\n");
	CHECK_INT(promtext_label(txt, len, "m", "a", &v, &err), -1);
	CHECK_STR(err.msg, "line 50001: expected ',' or '}' at column 9");
	free(txt);
}

/* A small deterministic generator, so that failures can be replayed. */
static unsigned long long rng_state = 88172645463325252ULL;

static unsigned rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (unsigned)(rng_state >> 32);
}

static void hostile_bytes_never_crash(void)
{
	static const char alphabet[] = "m{}=\",\\ \t\r\n#a_:.0123456789e+-xIN";
	const char *base = exposition;
	size_t blen = strlen(base), round, i;
	struct sd_err err = {0};
	char *v;

	for (round = 0; round < 20000; round++) {
		size_t len = rnd() % 200;
		char *buf = malloc(len ? len : 1);

		for (i = 0; i < len; i++)
			buf[i] = (round & 1) ? (char)rnd()
					     : alphabet[rnd() %
							(sizeof(alphabet) - 1)];
		v = NULL;
		if (promtext_label(buf, len, "m", "a", &v, &err) == 0)
			free(v);
		free(buf);
	}
	/* Mutations of a real exposition. */
	for (round = 0; round < 20000; round++) {
		char *buf = malloc(blen);
		size_t len = rnd() % (blen + 1);

		memcpy(buf, base, blen);
		for (i = rnd() % 6; i > 0; i--)
			buf[rnd() % blen] =
				alphabet[rnd() % (sizeof(alphabet) - 1)];
		v = NULL;
		if (promtext_label(buf, len, "app_build_info", "version", &v,
				   &err) == 0)
			free(v);
		free(buf);
	}
	/* Random paths. */
	for (round = 0; round < 20000; round++) {
		static const char pa[] = "ab.[]\"\\0123456789";
		char path[40];
		size_t len = rnd() % (sizeof(path) - 1);
		json_t *root = json_loads(
			"{\"a\":[{\"b\":[1,\"x\"]}],\"b\":{}}", 0, NULL);

		for (i = 0; i < len; i++)
			path[i] = pa[rnd() % (sizeof(pa) - 1)];
		path[len] = '\0';
		memset(&err, 0, sizeof(err));
		if (jpath_validate(path, &err) < 0)
			CHECK_INT(err.code, SD_EXIT_USAGE);
		if (jpath_get(root, path, &err) == NULL)
			CHECK(err.code == SD_EXIT_USAGE ||
			      err.code == SD_EXIT_FAIL);
		json_decref(root);
	}
}

int main(void)
{
	RUN(simple_paths, "extract: build.version and git.commit.id");
	RUN(borrowed_reference, "extract: jpath_get returns a borrowed value");
	RUN(indexes, "extract: items[0].metadata.name, a[1][2], nested arrays");
	RUN(quoted_keys, "extract: [\"key.with.dots\"] and its escapes");
	RUN(validate_accepts, "extract: valid paths pass jpath_validate");
	RUN(validate_errors_say_what_and_where,
	    "extract: each path syntax error says what and where");
	RUN(long_path_is_quoted_within_the_message,
	    "extract: a long bad path still leaves room for the problem");
	RUN(get_errors_name_the_segment,
	    "extract: a missing or mismatched field names its segment");
	RUN(get_handles_null_root_and_err,
	    "extract: NULL root, path and err do not crash");
	RUN(text_of_each_type, "extract: jpath_text of every JSON type");
	RUN(text_reals_round_trip, "extract: reals print shortest, read back");
	RUN(text_of_spring_commit,
	    "extract: Spring's full git commit object gives full or abbrev");
	RUN(text_edge_cases, "extract: a NUL inside a string cannot pass");
	RUN(deep_nesting, "extract: deep nesting neither crashes nor recurses");
	RUN(long_paths_and_keys, "extract: a 100000-segment path is fine");
	RUN(prom_finds_labels, "extract: prom label of the first sample");
	RUN(prom_unescapes, "extract: prom values are unescaped");
	RUN(prom_names_match_exactly,
	    "extract: prom app_build_info_total is not app_build_info");
	RUN(prom_skips_others_malformed_lines,
	    "extract: prom others' malformed lines are skipped");
	RUN(prom_missing_label_and_metric,
	    "extract: prom missing metric or label is an error");
	RUN(prom_malformed_wanted_line,
	    "extract: prom a malformed line of the metric says where");
	RUN(prom_not_nul_terminated,
	    "extract: prom never reads past len, decoy ignored");
	RUN(prom_crlf, "extract: prom CRLF line endings");
	RUN(prom_huge_label_value, "extract: prom label values cap at 4096");
	RUN(prom_nul_bytes, "extract: prom a NUL in the wanted value fails");
	RUN(prom_many_lines_and_line_numbers,
	    "extract: prom line numbers count every line");
	RUN(hostile_bytes_never_crash,
	    "extract: random bytes and paths never crash");
	UNIT_DONE();
}
