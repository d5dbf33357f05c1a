/* Unit tests for lib/flagspec.c: the `flags:` configuration compiled
 * (sources, presets, aliases, exclusions), the literal pre-filter, flag keys
 * and scanning a file's text for tokens. */
#include <jansson.h>

#include "flagspec.h"
#include "unit.h"

/* The literal of a pattern, in a static buffer; NULL when there is none.
 * Its length must be what flagspec_literal said. */
static const char *lit(const char *pattern)
{
	static char buf[300];
	size_t len = 99;
	char *s = flagspec_literal(pattern, &len);

	if (!s) {
		CHECK_INT(len, 0);
		return NULL;
	}
	CHECK_INT(len, strlen(s));
	snprintf(buf, sizeof(buf), "%s", s);
	free(s);
	return buf;
}

/* Compile a `flags:` object (a reference to it is taken). */
static int spec(json_t *flags, struct flagspec *fs, struct sd_err *err)
{
	int rc;

	memset(err, 0, sizeof(*err));
	if (!flags) {
		UNIT_FAIL("json_pack failed");
		return -1;
	}
	rc = flagspec_from_json(flags, NULL, fs, err);
	json_decref(flags);
	return rc;
}

/* One define source: {define: [{paths: [glob], pattern}]}. */
static json_t *define(const char *glob, const char *pattern)
{
	return json_pack("{s:[{s:[s], s:s}]}", "define", "paths", glob,
			 "pattern", pattern);
}

/* The error message of a spec that must not compile. */
static const char *spec_error(json_t *flags)
{
	static struct sd_err err;
	struct flagspec fs;

	if (spec(flags, &fs, &err) == 0) {
		UNIT_FAIL("the spec compiled");
		flagspec_release(&fs);
		return "";
	}
	CHECK_INT(err.code, SD_EXIT_CANNOT);
	CHECK(err.msg[0] != '\0');
	return err.msg;
}

struct hits {
	const struct flagspec *fs;
	const char *text;
	int n, stop_at;
	char name[32][64];
	size_t off[32];
	size_t src[32];
};

static int collect(void *ud, const struct flag_source *src, const char *name,
		   size_t len, size_t off)
{
	struct hits *h = ud;

	/* A token from a pattern is the text at its offset. */
	if (src->pattern && name != h->text + off)
		UNIT_FAIL("token '%.*s' is not at offset %zu", (int)len, name,
			  off);
	if (h->n < 32) {
		snprintf(h->name[h->n], sizeof(h->name[0]), "%.*s", (int)len,
			 name);
		h->off[h->n] = off;
		h->src[h->n] = (size_t)(src - h->fs->src);
	}
	h->n++;
	return h->stop_at && h->n == h->stop_at ? 42 : 0;
}

/* Scan text as the file at path (classified by the spec); warnings, when
 * given, receive the scanner's. Returns flagscan_text's result. */
static int scan(const struct flagspec *fs, const char *path, const char *text,
		size_t len, struct hits *h, json_t *warnings)
{
	struct flagscan sc;
	int rc;

	h->fs = fs;
	h->text = text;
	if (flagscan_init(&sc, fs) < 0) {
		UNIT_FAIL("flagscan_init failed");
		return -1;
	}
	sc.warnings = warnings;
	rc = flagscan_text(&sc, flagspec_classify(fs, path), path, text, len,
			   collect, h);
	flagscan_release(&sc);
	return rc;
}

static void literal_from_plain_text(void)
{
	CHECK_STR(lit("features\\.(\\w+)"), "features.");
	CHECK_STR(lit("^\\s*(\\w+)\\s+featuregate\\.Feature\\s*="),
		  "featuregate.Feature");
	CHECK_STR(lit("\\bglFeatures\\.(\\w+)"), "glFeatures.");
	CHECK_STR(lit("^name:[ \\t]*['\"]?([\\w.-]+)"), "name:");
	/* Too short to be worth a memmem: none. */
	CHECK(lit("ab") == NULL);
	CHECK(lit("(\\w+)") == NULL);
	CHECK(lit("") == NULL);
	/* The longest run wins; the first of equal ones. */
	CHECK_STR(lit("abc\\ddefgh(\\w)"), "defgh");
	CHECK_STR(lit("abcd\\d(x)wxyz"), "abcd");
}

static void literal_and_quantifiers(void)
{
	/* An optional character is not in the literal. */
	CHECK(lit("ab?c") == NULL);
	CHECK_STR(lit("abcb?defgh"), "defgh");
	CHECK_STR(lit("xyzab?cdef"), "xyza");
	CHECK(strchr(lit("xyzab?cdef"), 'b') == NULL);
	CHECK_STR(lit("ab??cdef"), "cdef"); /* lazy */
	CHECK_STR(lit("foox*bar"), "foo");
	/* '+' keeps its character (it is there at least once) but ends the
	 * run: what follows may come after more of it. */
	CHECK_STR(lit("foox+bar"), "foox");
	CHECK_STR(lit("abc+defg"), "defg");
	CHECK_STR(lit("abc++defg"), "defg"); /* possessive */
	/* A quantified group or class ends the run. */
	CHECK_STR(lit("(a)?xyzw"), "xyzw");
	CHECK_STR(lit("[ab]*wxyz"), "wxyz");
	/* Regression (found by the fuzzer, fixed): a counted quantifier {n}, {n,} or {n,m} was skipped one
	 * character at a time: only its '{' was treated as the quantifier,
	 * and "n,m}" became part of the literal. "abcx{0,2}defg" gives
	 * "0,2}defg" (want "defg"), though it matches "abcdefg"; so the
	 * pre-filter dropped every file that has a real match. The same for
	 * "x{1,}abcd" -> "1,}abcd", "ab{1}cd" -> "1}cd" and after a group,
	 * class or escape: "(a){2}xyz" -> "2}xyz", "\d{3}abc" -> "3}abc".
	 * (tests/fuzz/crashes/flagpat/counted-quantifier) */
	CHECK(lit("abcx{0,2}defg") && !strcmp(lit("abcx{0,2}defg"), "defg"));
	CHECK(lit("\\d{3}abcd") && !strcmp(lit("\\d{3}abcd"), "abcd"));
	CHECK(lit("abc{2}def") == NULL || strstr("abccdef", lit("abc{2}def")));
	/* Up to PCRE2 10.42 "{,2}" is literal text; 10.43 made "{,m}" a
	 * quantifier. The literal leaves it out, right under both. */
	CHECK_STR(lit("x{,2}abcd"), "abcd");
}

static void literal_and_alternation(void)
{
	/* Alternation inside a group: the group is skipped. */
	CHECK_STR(lit("(a|b)xyz"), "xyz");
	CHECK_STR(lit("(?:get|is)Enabled\\(\"(\\w+)"), "Enabled(\"");
	/* At the top level: no literal is common to every match. */
	CHECK(lit("a|bcdef") == NULL);
	CHECK(lit("abcdef|x") == NULL);
	CHECK(lit("(x)|abcdef") == NULL);
	/* Groups and classes are skipped whole, nested ones too. */
	CHECK_STR(lit("((a|b)(c))wxyz"), "wxyz");
	CHECK_STR(lit("(?=abc)xyzw"), "xyzw");
	CHECK_STR(lit("(?<n>x)wxyz"), "wxyz");
	CHECK_STR(lit("[abc]defg"), "defg");
	CHECK_STR(lit("[]x]abcd"), "abcd");
	CHECK_STR(lit("[^]x]abcd"), "abcd");
	CHECK_STR(lit("[(|)]abcd"), "abcd");
	CHECK(lit("(abcdef") == NULL);
	CHECK(lit("[abcdef") == NULL);
	/* Regression (found by the fuzzer, fixed): a POSIX class inside a class ended the class at its first
	 * ']': "[[:alpha:]]abc" gave "]abc", not in "xabc", which the
	 * regex matches. (tests/fuzz/crashes/flagpat/posix-class) */
	CHECK(lit("[[:alpha:]]abc") == NULL ||
	      !strcmp(lit("[[:alpha:]]abc"), "abc"));
}

static void literal_gives_up_on_options(void)
{
	/* Options change what a character means. */
	CHECK(lit("(?i)abcdef") == NULL);
	CHECK(lit("abc(?i:def)ghij") == NULL);
	CHECK(lit("(?x)abc def") == NULL);
	CHECK(lit("(?^)abcdef") == NULL);
	CHECK(lit("(*CRLF)abcdef") == NULL);
	/* \Q...\E quoting. */
	CHECK(lit("\\Qabc\\E") == NULL);
	CHECK(lit("abcdef\\Q.\\E") == NULL);
}

static void literal_escapes(void)
{
	/* An escaped punctuation character is itself. */
	CHECK_STR(lit("a\\.b\\\\c\\(d"), "a.b\\c(d");
	CHECK_STR(lit("\\(\\)\\[\\]\\{"), "()[]{");
	CHECK_STR(lit("\\$\\^\\|x"), "$^|x"); /* \| is not alternation */
	CHECK_STR(lit("\\\\Qabc"), "\\Qabc"); /* \\ then a literal Q */
	/* A letter escape (a class, an anchor) ends the run. */
	CHECK_STR(lit("abc\\bdefg"), "defg");
	CHECK_STR(lit("abcd\\w+xyz"), "abcd");
	CHECK_STR(lit("wxyz\\sabc"), "wxyz");
	CHECK(lit("abc\\") == NULL);
	/* An escaped character can be optional too. */
	CHECK_STR(lit("abc\\.?defg"), "defg");
	/* Regression (found by the fuzzer, fixed): the argument of a multi-character escape was read as literal
	 * text: "\x41bcd" gave "41bcd" (the regex matches "Abcd"), and
	 * likewise "\x{41}bcd" -> "41}bcd", "\o{101}bcd" -> "101}bcd",
	 * "\101bcd" (octal) -> "01bcd", "\cAbcd" -> "Abcd" (matches
	 * "\x01bcd"), "\p{L}abcd" -> "{L}abcd", "(?<n>x)\k<n>abc" ->
	 * "<n>abc", "(x)\g1abcd" -> "1abcd".
	 * (tests/fuzz/crashes/flagpat/hex-escape) */
	CHECK(lit("\\x41bcd") == NULL || !strcmp(lit("\\x41bcd"), "bcd"));
	CHECK(lit("\\p{L}abcd") == NULL || !strcmp(lit("\\p{L}abcd"), "abcd"));
	CHECK(lit("\\cAbcd") == NULL || !strcmp(lit("\\cAbcd"), "bcd"));
}

static void sources_get_their_literal(void)
{
	struct flagspec fs;
	struct sd_err err;

	if (spec(define("*.go", "features\\.(\\w+)"), &fs, &err) < 0) {
		UNIT_FAIL("%s", err.msg);
		return;
	}
	CHECK_INT(fs.nsrc, 1);
	CHECK_STR(fs.src[0].literal, "features.");
	CHECK_INT(fs.src[0].literal_len, 9);
	CHECK_INT(fs.src[0].kind, FLAG_DEF);
	CHECK(fs.any);
	CHECK_STR(fs.src[0].origin, "flags.define[0].pattern");
	flagspec_release(&fs);
}

static size_t key(const struct flagspec *fs, const char *name, char *out,
		  size_t n)
{
	return flagspec_key(fs, name, strlen(name), out, n);
}

static const char *key_of(const struct flagspec *fs, const char *name)
{
	static char out[512];
	size_t n = key(fs, name, out, sizeof(out));

	CHECK_INT(n, strlen(out));
	return out;
}

static void keys_without_alias_are_the_name(void)
{
	struct flagspec fs;
	struct sd_err err;

	if (spec(define("*.go", "features\\.(\\w+)"), &fs, &err) < 0) {
		UNIT_FAIL("%s", err.msg);
		return;
	}
	CHECK_INT(fs.case_forms, 0);
	CHECK_STR(key_of(&fs, "POWER_PEG"), "POWER_PEG");
	CHECK_STR(key_of(&fs, "powerPeg"), "powerPeg");
	CHECK_STR(key_of(&fs, "power-peg"), "power-peg");
	CHECK_STR(key_of(&fs, "PowerPeg"), "PowerPeg");
	flagspec_release(&fs);
}

static void keys_with_case_forms_are_one(void)
{
	struct flagspec fs;
	struct sd_err err;
	char out[8];

	if (spec(json_pack("{s:[s,s,s,s]}", "alias", "snake", "kebab", "camel",
			   "upper"),
		 &fs, &err) < 0) {
		UNIT_FAIL("%s", err.msg);
		return;
	}
	CHECK_INT(fs.case_forms, FLAG_FORM_SNAKE | FLAG_FORM_KEBAB |
					 FLAG_FORM_CAMEL | FLAG_FORM_UPPER);
	CHECK_STR(key_of(&fs, "POWER_PEG"), "power_peg");
	CHECK_STR(key_of(&fs, "powerPeg"), "power_peg");
	CHECK_STR(key_of(&fs, "power-peg"), "power_peg");
	CHECK_STR(key_of(&fs, "PowerPeg"), "power_peg");
	CHECK_STR(key_of(&fs, "power_peg"), "power_peg");
	CHECK_STR(key_of(&fs, "power"), "power");
	CHECK_STR(key_of(&fs, "HTTPServer2Go"), "http_server2_go");
	CHECK_STR(key_of(&fs, "http2Server"), "http2_server");
	/* Mixed forms and other characters are no form: unchanged. */
	CHECK_STR(key_of(&fs, "Power_Peg"), "Power_Peg");
	CHECK_STR(key_of(&fs, "power_peg-x"), "power_peg-x");
	CHECK_STR(key_of(&fs, "Power-Peg"), "Power-Peg");
	CHECK_STR(key_of(&fs, "power.peg"), "power.peg");
	/* Truncated to the buffer, always terminated. */
	CHECK_INT(key(&fs, "PowerPeg", out, 5), 4);
	CHECK_STR(out, "powe");
	CHECK_INT(key(&fs, "POWER_PEG", out, sizeof(out)), 7);
	CHECK_STR(out, "power_p");
	CHECK_INT(key(&fs, "power-peg", out, 1), 0);
	flagspec_release(&fs);
}

static void keys_with_some_forms(void)
{
	struct flagspec fs;
	struct sd_err err;

	/* One alias may be a string. */
	if (spec(json_pack("{s:s}", "alias", "camel"), &fs, &err) < 0) {
		UNIT_FAIL("%s", err.msg);
		return;
	}
	CHECK_INT(fs.case_forms, FLAG_FORM_CAMEL);
	CHECK_STR(key_of(&fs, "powerPeg"), "power_peg");
	CHECK_STR(key_of(&fs, "PowerPeg"), "power_peg");
	/* Not a form that was asked for: unchanged. */
	CHECK_STR(key_of(&fs, "power-peg"), "power-peg");
	CHECK_STR(key_of(&fs, "POWER_PEG"), "POWER_PEG");
	CHECK_STR(key_of(&fs, "power_peg"), "power_peg");
	flagspec_release(&fs);

	if (spec(json_pack("{s:[s,s]}", "alias", "snake", "kebab"), &fs, &err) <
	    0) {
		UNIT_FAIL("%s", err.msg);
		return;
	}
	CHECK_STR(key_of(&fs, "power-peg"), "power_peg");
	CHECK_STR(key_of(&fs, "power_peg"), "power_peg");
	CHECK_STR(key_of(&fs, "powerPeg"), "powerPeg");
	CHECK_STR(key_of(&fs, "POWER_PEG"), "POWER_PEG");
	flagspec_release(&fs);
}

static void keys_with_a_regex_alias(void)
{
	struct flagspec fs;
	struct sd_err err;

	/* "FF_POWER_PEG" and "ff-power-peg" are the flag "power_peg". */
	if (spec(json_pack("{s:[{s:s, s:s}, s, s]}", "alias", "pattern",
			   "^(?:FF|ff)[_-]", "replace", "", "upper", "kebab"),
		 &fs, &err) < 0) {
		UNIT_FAIL("%s", err.msg);
		return;
	}
	CHECK_INT(fs.nalias_re, 1);
	CHECK_STR(key_of(&fs, "FF_POWER_PEG"), "power_peg");
	CHECK_STR(key_of(&fs, "ff-power-peg"), "power_peg");
	CHECK_STR(key_of(&fs, "POWER_PEG"), "power_peg");
	CHECK_STR(key_of(&fs, "xFF_POWER"), "xFF_POWER"); /* no match */
	flagspec_release(&fs);

	/* Groups in the replacement; every match replaced. */
	if (spec(json_pack("{s:[{s:s, s:s}]}", "alias", "pattern",
			   "(\\w+)\\.enabled", "replace", "$1"),
		 &fs, &err) < 0) {
		UNIT_FAIL("%s", err.msg);
		return;
	}
	CHECK_STR(key_of(&fs, "dark_mode.enabled"), "dark_mode");
	CHECK_STR(key_of(&fs, "a.enabled/b.enabled"), "a/b");
	CHECK_STR(key_of(&fs, "dark_mode"), "dark_mode");
	flagspec_release(&fs);
}

static void retired_names_are_keys(void)
{
	struct flagspec fs;
	struct sd_err err;

	if (spec(json_pack("{s:[s,s], s:[s,s], s:[s]}", "alias", "camel",
			   "upper", "retired", "PowerPeg", "SMARS",
			   "allow-resurrect", "OLD_UI"),
		 &fs, &err) < 0) {
		UNIT_FAIL("%s", err.msg);
		return;
	}
	CHECK_STR(json_string_value(json_object_get(fs.retired, "power_peg")),
		  "PowerPeg");
	CHECK_STR(json_string_value(json_object_get(fs.retired, "smars")),
		  "SMARS");
	CHECK(json_is_true(json_object_get(fs.allow_resurrect, "old_ui")));
	CHECK_INT(json_object_size(fs.retired), 2);
	flagspec_release(&fs);
}

static void tokens_are_found_with_offsets(void)
{
	static const char text[] =
		"package features\n"
		"\n"
		"const (\n"
		"\tPowerPeg featuregate.Feature = \"PowerPeg\"\n"
		"\t// SMARS is retired.\n"
		"\tSMARS   featuregate.Feature = \"SMARS\"\n"
		")\n";
	struct flagspec fs;
	struct sd_err err;
	struct hits h = {0};
	unsigned line, col;

	if (spec(define("pkg/features/*.go",
			"^\\s*([A-Za-z_]\\w*)\\s+featuregate\\.Feature\\s*="),
		 &fs, &err) < 0) {
		UNIT_FAIL("%s", err.msg);
		return;
	}
	CHECK_INT(scan(&fs, "pkg/features/kube_features.go", text, strlen(text),
		       &h, NULL),
		  0);
	CHECK_INT(h.n, 2);
	CHECK_STR(h.name[0], "PowerPeg");
	CHECK_INT(h.off[0], (size_t)(strstr(text, "PowerPeg") - text));
	CHECK_INT(h.src[0], 0);
	flagspec_line_col(text, h.off[0], &line, &col);
	CHECK_INT(line, 4);
	CHECK_INT(col, 2);
	CHECK_STR(h.name[1], "SMARS");
	CHECK_INT(h.off[1], (size_t)(strstr(text, "\tSMARS") + 1 - text));
	flagspec_line_col(text, h.off[1], &line, &col);
	CHECK_INT(line, 6);
	CHECK_INT(col, 2);
	/* A path no source applies to: nothing. */
	memset(&h, 0, sizeof(h));
	CHECK_INT(flagspec_classify(&fs, "cmd/main.go"), 0);
	CHECK_INT(scan(&fs, "cmd/main.go", text, strlen(text), &h, NULL), 0);
	CHECK_INT(h.n, 0);
	/* The callback stops the scan and its value is returned. */
	memset(&h, 0, sizeof(h));
	h.stop_at = 1;
	CHECK_INT(scan(&fs, "pkg/features/kube_features.go", text, strlen(text),
		       &h, NULL),
		  42);
	CHECK_INT(h.n, 1);
	/* A CRLF file: the same tokens (newline is ANYCRLF). */
	memset(&h, 0, sizeof(h));
	CHECK_INT(scan(&fs, "pkg/features/a.go",
		       "const (\r\n\tA featuregate.Feature = \"A\"\r\n"
		       "\tB featuregate.Feature = \"B\"\r\n)\r\n",
		       strlen("const (\r\n\tA featuregate.Feature = \"A\"\r\n"
			      "\tB featuregate.Feature = \"B\"\r\n)\r\n"),
		       &h, NULL),
		  0);
	CHECK_INT(h.n, 2);
	CHECK_STR(h.name[1], "B");
	flagspec_release(&fs);
}

static void many_tokens_and_references(void)
{
	static const char text[] = "if features.PowerPeg && features.SMARS {}\n"
				   "x := features.PowerPeg\n";
	struct flagspec fs;
	struct sd_err err;
	struct hits h = {0};

	if (spec(json_pack("{s:[{s:[s], s:s}]}", "reference", "paths", "*.go",
			   "pattern", "\\bfeatures\\.([A-Z]\\w*)"),
		 &fs, &err) < 0) {
		UNIT_FAIL("%s", err.msg);
		return;
	}
	CHECK_INT(fs.src[0].kind, FLAG_REF);
	CHECK(!fs.any); /* no define source */
	CHECK_INT(scan(&fs, "a/b.go", text, strlen(text), &h, NULL), 0);
	CHECK_INT(h.n, 3);
	CHECK_STR(h.name[0], "PowerPeg");
	CHECK_STR(h.name[1], "SMARS");
	CHECK_STR(h.name[2], "PowerPeg");
	CHECK_INT(h.off[2], strlen(text) - strlen("PowerPeg\n"));
	flagspec_release(&fs);
}

static void binary_text_has_no_tokens(void)
{
	char text[9000];
	struct flagspec fs;
	struct sd_err err;
	struct hits h = {0};

	if (spec(define("*", "features\\.(\\w+)"), &fs, &err) < 0) {
		UNIT_FAIL("%s", err.msg);
		return;
	}
	memcpy(text, "features.A\0features.B", 21);
	CHECK(flagspec_is_binary(text, 21));
	CHECK(!flagspec_is_binary(text, 10));
	CHECK_INT(scan(&fs, "x.bin", text, 21, &h, NULL), 0);
	CHECK_INT(h.n, 0);
	/* Only the first 8000 bytes decide, as for git. */
	memset(text, ' ', sizeof(text));
	memcpy(text, "features.A", 10);
	text[8500] = '\0';
	CHECK(!flagspec_is_binary(text, sizeof(text)));
	CHECK_INT(scan(&fs, "x.txt", text, sizeof(text), &h, NULL), 0);
	CHECK_INT(h.n, 1);
	CHECK_STR(h.name[0], "A");
	text[7999] = '\0';
	CHECK(flagspec_is_binary(text, sizeof(text)));
	flagspec_release(&fs);
}

/* A pattern that backtracks catastrophically on a line of a's that is not
 * followed by its literal; the match limit stops it with a warning. */
#define SLOW_PATTERN "^(a|aa)+(\\w)zqxj"

static void literal_prefilter_skips_text(void)
{
	char text[200];
	struct flagspec fs;
	struct sd_err err;
	struct hits h = {0};
	json_t *warnings = json_array();

	if (spec(define("*", SLOW_PATTERN), &fs, &err) < 0) {
		UNIT_FAIL("%s", err.msg);
		json_decref(warnings);
		return;
	}
	CHECK_STR(fs.src[0].literal, "zqxj");
	/* Without the literal the regex never runs: no warning. */
	memset(text, 'a', 60);
	text[60] = '\n';
	CHECK_INT(scan(&fs, "a.txt", text, 61, &h, warnings), 0);
	CHECK_INT(h.n, 0);
	CHECK_INT(json_array_size(warnings), 0);
	/* With it (elsewhere), the regex runs and hits the match limit. */
	memcpy(text + 61, "zqxj\n", 5);
	CHECK_INT(scan(&fs, "a.txt", text, 66, &h, warnings), 0);
	CHECK_INT(h.n, 0);
	CHECK_INT(json_array_size(warnings), 1);
	CHECK_CONTAINS(json_string_value(json_array_get(warnings, 0)),
		       "a.txt: pattern from flags.define[0].pattern stopped on "
		       "this file");
	/* And a real match is found. */
	CHECK_INT(scan(&fs, "a.txt", "aaabzqxj\n", 9, &h, NULL), 0);
	CHECK_INT(h.n, 1);
	CHECK_STR(h.name[0], "a");
	json_decref(warnings);
	flagspec_release(&fs);
}

static void json_source_gives_keys(void)
{
	static const char text[] =
		"{\n"
		"  \"$schema\": \"https://flagd.dev/schema\",\n"
		"  \"flags\": {\n"
		"    \"new-ui\": {\"state\": \"ENABLED\"},\n"
		"    \"dark_mode\": {\"state\": \"DISABLED\"}\n"
		"  }\n"
		"}\n";
	static const char nested[] = "{\"a\": {\"b\": {\"x\": 1, \"y\": 2}}}";
	struct flagspec fs;
	struct sd_err err;
	struct hits h = {0};
	json_t *warnings = json_array();

	if (spec(json_pack("{s:[{s:[s,s], s:s}, {s:[s], s:s}]}", "define",
			   "paths", "flags.json", "*.flagd.json", "json",
			   "flags", "paths", "nested.json", "json", "a.b"),
		 &fs, &err) < 0) {
		UNIT_FAIL("%s", err.msg);
		json_decref(warnings);
		return;
	}
	/* Regression (fixed): a JSON define source did not set fs.any (add_source returned
	 * before it), so a spec whose only definitions are JSON sources, such
	 * as `preset: flagd`, counts as having none: `safedeploy flags` then
	 * fails with "no flag definitions configured". */
	CHECK(fs.any);
	CHECK(fs.src[0].pattern == NULL);
	CHECK(fs.src[0].re == NULL);
	CHECK_STR(fs.src[0].json_key, "flags");
	CHECK_INT(flagspec_classify(&fs, "conf/prod.flagd.json"), 1);
	CHECK_INT(scan(&fs, "flags.json", text, strlen(text), &h, warnings), 0);
	CHECK_INT(h.n, 2);
	CHECK_STR(h.name[0], "new-ui");
	CHECK_INT(h.off[0], (size_t)(strstr(text, "new-ui") - text));
	CHECK_STR(h.name[1], "dark_mode");
	CHECK_INT(h.off[1], (size_t)(strstr(text, "dark_mode") - text));
	memset(&h, 0, sizeof(h));
	CHECK_INT(
		scan(&fs, "nested.json", nested, strlen(nested), &h, warnings),
		0);
	CHECK_INT(h.n, 2);
	CHECK_STR(h.name[0], "x");
	CHECK_STR(h.name[1], "y");
	CHECK_INT(json_array_size(warnings), 0);
	/* Not JSON, or no object there: a warning, no tokens. */
	memset(&h, 0, sizeof(h));
	CHECK_INT(scan(&fs, "flags.json", "{\"flags\": {", 11, &h, warnings),
		  0);
	CHECK_INT(h.n, 0);
	CHECK_INT(json_array_size(warnings), 1);
	CHECK_CONTAINS(json_string_value(json_array_get(warnings, 0)),
		       "flags.json:1:");
	CHECK_CONTAINS(json_string_value(json_array_get(warnings, 0)),
		       "not valid JSON");
	CHECK_INT(scan(&fs, "flags.json", "{\"flags\": [1]}", 14, &h, warnings),
		  0);
	CHECK_INT(h.n, 0);
	CHECK_INT(json_array_size(warnings), 2);
	CHECK_CONTAINS(json_string_value(json_array_get(warnings, 1)),
		       "no object at 'flags'");
	json_decref(warnings);
	flagspec_release(&fs);
}

static void bad_patterns_are_named(void)
{
	const char *m;

	m = spec_error(define("*.go", "features\\.(\\w+"));
	CHECK_CONTAINS(m, "flags.define[0].pattern: ");
	CHECK_CONTAINS(m, "invalid define pattern 'features\\.(\\w+'");
	CHECK_CONTAINS(m, "missing closing parenthesis");
	CHECK_CONTAINS(m, "at offset 14");
	m = spec_error(define("*.go", "features\\.([A-Z"));
	CHECK_CONTAINS(m, "at offset 15");
	m = spec_error(json_pack("{s:[{s:[s], s:s}]}", "reference", "paths",
				 "*.go", "pattern", "x(?<=a+)(y)"));
	CHECK_CONTAINS(m, "invalid reference pattern");
	CHECK_CONTAINS(m, "at offset");
	m = spec_error(define("*.go", "features\\.\\w+"));
	CHECK_CONTAINS(m, "has no capture group");
	CHECK_CONTAINS(m, "first group must capture the flag name");
	/* A non-capturing group is not one. */
	m = spec_error(define("*.go", "features\\.(?:\\w+)"));
	CHECK_CONTAINS(m, "capture group");
}

static void bad_config_is_named(void)
{
	const char *m;

	m = spec_error(json_pack("{s:s}", "preset", "launchdarkly"));
	CHECK_CONTAINS(m, "unknown preset 'launchdarkly'");
	CHECK_CONTAINS(m, "(known: kubernetes, flagd, gitlab, list)");
	m = spec_error(json_pack("{s:[s,s]}", "preset", "list", "unleash"));
	CHECK_CONTAINS(m, "unknown preset 'unleash'");
	m = spec_error(json_pack("{s:{s:s, s:s}}", "preset", "name", "list",
				 "path", "x"));
	CHECK_CONTAINS(m, "unknown key 'path' in a preset");
	m = spec_error(json_pack("{s:{s:s, s:s}}", "preset", "name", "list",
				 "paths", "flags.txt"));
	CHECK_CONTAINS(m, "a preset's paths must be a list of globs");
	m = spec_error(json_pack("{s:i}", "preset", 3));
	CHECK_CONTAINS(m, "a preset is a name");
	m = spec_error(define("a**", "features\\.(\\w+)"));
	CHECK_CONTAINS(m, "flags.define[0].paths[0]: 'a**': '**' must be a "
			  "whole path component");
	m = spec_error(define("[ab", "features\\.(\\w+)"));
	CHECK_CONTAINS(m, "unclosed '['");
	m = spec_error(json_pack("{s:[{s:[], s:s}]}", "define", "paths",
				 "pattern", "a(b)"));
	CHECK_CONTAINS(m, "'paths' must be a non-empty list of globs");
	m = spec_error(json_pack("{s:[s]}", "define", "x"));
	CHECK_CONTAINS(m, "flags.define[0]: expected a mapping");
	m = spec_error(json_pack("{s:s}", "define", "x"));
	CHECK_CONTAINS(m, "flags.define must be a list");
	m = spec_error(json_pack("{s:{s:s, s:[s]}}", "preset", "name", "list",
				 "paths", "../flags.txt"));
	CHECK_CONTAINS(m, "preset 'list': paths[0]: '..' cannot match");
	m = spec_error(json_pack("{s:[s]}", "exclude", "[x"));
	CHECK_CONTAINS(m, "flags.exclude[0]: unclosed '['");
	m = spec_error(json_pack("{s:s}", "max-age", "90 days"));
	CHECK_CONTAINS(m, "flags.max-age: ");
	m = spec_error(json_pack("{s:s}", "max-file-size", "big"));
	CHECK_CONTAINS(m, "flags.max-file-size: ");
}

static void bad_alias_is_named(void)
{
	const char *m;

	m = spec_error(json_pack("{s:[s,s]}", "alias", "snake", "pascal"));
	CHECK_CONTAINS(m, "flags.alias[1]: unknown alias 'pascal'");
	CHECK_CONTAINS(m, "known: snake, kebab, camel, upper");
	m = spec_error(json_pack("{s:s}", "alias", "Camel"));
	CHECK_CONTAINS(m, "unknown alias 'Camel'");
	m = spec_error(json_pack("{s:[{s:s}]}", "alias", "pattern", "^ff_"));
	CHECK_CONTAINS(m, "flags.alias[0]: a regex alias needs 'pattern' and "
			  "'replace'");
	m = spec_error(json_pack("{s:[{s:s, s:s}]}", "alias", "pattern", "ff_(",
				 "replace", ""));
	CHECK_CONTAINS(m, "invalid alias pattern 'ff_('");
	CHECK_CONTAINS(m, "at offset 4");
	m = spec_error(json_pack("{s:i}", "alias", 1));
	CHECK_CONTAINS(m, "flags.alias must be a list");
}

static void json_is_for_definitions(void)
{
	const char *m;

	m = spec_error(json_pack("{s:[{s:[s], s:s}]}", "reference", "paths",
				 "flags.json", "json", "flags"));
	CHECK_CONTAINS(m, "flags.reference[0]: 'json' is for definitions "
			  "only");
	/* Exactly one of pattern and json. */
	m = spec_error(json_pack("{s:[{s:[s], s:s, s:s}]}", "define", "paths",
				 "flags.json", "json", "flags", "pattern",
				 "(x)"));
	CHECK_CONTAINS(m, "give either 'pattern'");
	m = spec_error(json_pack("{s:[{s:[s]}]}", "define", "paths", "x"));
	CHECK_CONTAINS(m, "give either 'pattern'");
}

/* The preset named compiles; the sources that apply to path find want (the
 * first token) in text; its key is key when given. */
static void preset_finds(const char *preset, const char *path, const char *text,
			 const char *want, const char *keyw)
{
	struct flagspec fs;
	struct sd_err err;
	struct hits h = {0};
	char k[128];

	if (spec(json_pack("{s:s}", "preset", preset), &fs, &err) < 0) {
		UNIT_FAIL("preset %s: %s", preset, err.msg);
		return;
	}
	if (strcmp(preset, "flagd"))
		CHECK(fs.any);
	else
		CHECK(fs.any);
	CHECK(flagspec_classify(&fs, path) != 0);
	CHECK_INT(scan(&fs, path, text, strlen(text), &h, NULL), 0);
	if (h.n < 1) {
		UNIT_FAIL("preset %s: no token in %s", preset, path);
	} else {
		CHECK_STR(h.name[0], want);
		CHECK_CONTAINS(fs.src[h.src[0]].origin, preset);
		if (keyw) {
			flagspec_key(&fs, h.name[0], strlen(h.name[0]), k,
				     sizeof(k));
			CHECK_STR(k, keyw);
		}
	}
	flagspec_release(&fs);
}

static void presets_find_tokens(void)
{
	preset_finds("kubernetes", "pkg/features/kube_features.go",
		     "package features\n\nconst (\n"
		     "\t// owner: @sig-node\n"
		     "\tInPlacePodVerticalScaling featuregate.Feature = "
		     "\"InPlacePodVerticalScaling\"\n)\n",
		     "InPlacePodVerticalScaling", NULL);
	preset_finds("kubernetes", "pkg/kubelet/kubelet.go",
		     "if utilfeature.DefaultFeatureGate.Enabled("
		     "features.InPlacePodVerticalScaling) {\n",
		     "InPlacePodVerticalScaling", NULL);
	preset_finds("flagd", "deploy/flags.flagd.json",
		     "{\"flags\": {\"new-welcome-banner\": "
		     "{\"state\": \"ENABLED\", \"defaultVariant\": \"on\"}}}\n",
		     "new-welcome-banner", NULL);
	preset_finds("flagd", "web/src/app.ts",
		     "const on = await client.getBooleanValue("
		     "'new-welcome-banner', false);\n",
		     "new-welcome-banner", NULL);
	preset_finds("flagd", "svc/main.go",
		     "v, _ := client.BooleanValue(ctx, \"new-welcome-banner\", "
		     "false, openfeature.EvaluationContext{})\n",
		     "new-welcome-banner", NULL);
	preset_finds("gitlab", "config/feature_flags/wip/ai_chat_v2.yml",
		     "---\nname: ai_chat_v2\nintroduced_by_url: "
		     "https://gitlab.com/x/-/merge_requests/1\n"
		     "type: wip\ndefault_enabled: false\n",
		     "ai_chat_v2", "ai_chat_v2");
	preset_finds("gitlab", "app/models/project.rb",
		     "return unless Feature.enabled?(:ai_chat_v2, project)\n",
		     "ai_chat_v2", "ai_chat_v2");
	preset_finds("gitlab", "app/assets/javascripts/chat.vue",
		     "if (gon.features && this.glFeatures.aiChatV2) {\n",
		     "aiChatV2", "ai_chat_v2");
	preset_finds("list", "flags.txt",
		     "# flags we ship with\n\npower_peg   # the old one\n"
		     "smars\n",
		     "power_peg", NULL);
}

static void presets_with_paths_and_lists(void)
{
	struct flagspec fs;
	struct sd_err err;
	struct hits h = {0};

	/* A preset's definition paths can be replaced; references keep
	 * theirs. */
	if (spec(json_pack("{s:[{s:s, s:[s]}, s]}", "preset", "name", "list",
			   "paths", "conf/flags.lst", "kubernetes"),
		 &fs, &err) < 0) {
		UNIT_FAIL("%s", err.msg);
		return;
	}
	CHECK_INT(fs.nsrc, 3);
	CHECK_STR(fs.src[0].paths[0], "conf/flags.lst");
	CHECK_INT(fs.src[0].npaths, 1);
	CHECK_STR(fs.src[0].origin, "preset 'list'");
	CHECK_INT(flagspec_classify(&fs, "flags.txt"), 0);
	CHECK_INT(flagspec_classify(&fs, "conf/flags.lst"), 1);
	CHECK_INT(flagspec_classify(&fs, "pkg/a.go"), 6);
	CHECK_INT(scan(&fs, "conf/flags.lst", "a_flag\n", 7, &h, NULL), 0);
	CHECK_INT(h.n, 1);
	flagspec_release(&fs);
	/* gitlab brings its snake/camel alias. */
	if (spec(json_pack("{s:s}", "preset", "gitlab"), &fs, &err) < 0) {
		UNIT_FAIL("%s", err.msg);
		return;
	}
	CHECK_INT(fs.case_forms, FLAG_FORM_SNAKE | FLAG_FORM_CAMEL);
	CHECK_INT(fs.nsrc, 3);
	CHECK_INT(flagspec_classify(&fs, "ee/config/feature_flags/beta/x.yml"),
		  1);
	CHECK_INT(flagspec_classify(&fs, "a/config/feature_flags/beta/x.yml"),
		  0);
	flagspec_release(&fs);
}

static void classification_and_exclusion(void)
{
	struct flagspec fs;
	struct sd_err err;

	if (spec(json_pack("{s:[{s:[s], s:s}, {s:[s], s:s}], "
			   "s:[{s:[s,s], s:s}]}",
			   "define", "paths", "*.go", "pattern",
			   "(\\w+) featuregate", "paths", "/flags.txt",
			   "pattern", "^(\\w+)$", "reference", "paths", "*.go",
			   "*.ts", "pattern", "features\\.(\\w+)"),
		 &fs, &err) < 0) {
		UNIT_FAIL("%s", err.msg);
		return;
	}
	CHECK_INT(fs.nexclude, 3); /* vendor/, third_party/, node_modules/ */
	CHECK_INT(flagspec_classify(&fs, "pkg/a.go"), 1 | 4);
	CHECK_INT(flagspec_classify(&fs, "a.go"), 1 | 4);
	CHECK_INT(flagspec_classify(&fs, "web/x.ts"), 4);
	CHECK_INT(flagspec_classify(&fs, "flags.txt"), 2);
	CHECK_INT(flagspec_classify(&fs, "doc/flags.txt"), 0);
	CHECK_INT(flagspec_classify(&fs, "README.md"), 0);
	/* The default exclusions, at any depth. */
	CHECK_INT(flagspec_classify(&fs, "vendor/k8s.io/a.go"), 0);
	CHECK_INT(flagspec_classify(&fs, "staging/vendor/x/a.go"), 0);
	CHECK_INT(flagspec_classify(&fs, "third_party/a.go"), 0);
	CHECK_INT(flagspec_classify(&fs, "web/node_modules/x/y.ts"), 0);
	CHECK_INT(flagspec_classify(&fs, "vendorx/a.go"), 1 | 4);
	CHECK_INT(flagspec_classify(&fs, "pkg/vendor.go"), 1 | 4);
	/* Directories a walk can skip. */
	CHECK(flagspec_skip_dir(&fs, "vendor"));
	CHECK(flagspec_skip_dir(&fs, "a/b/vendor"));
	CHECK(flagspec_skip_dir(&fs, "web/node_modules"));
	CHECK(!flagspec_skip_dir(&fs, "pkg"));
	CHECK(!flagspec_skip_dir(&fs, "vendorx"));
	flagspec_release(&fs);
}

static void exclusion_can_be_replaced(void)
{
	struct flagspec fs;
	struct sd_err err;

	if (spec(json_pack("{s:[{s:[s], s:s}], s:[s,s]}", "define", "paths",
			   "*.go", "pattern", "(\\w+) featuregate", "exclude",
			   "/gen/", "*_test.go"),
		 &fs, &err) < 0) {
		UNIT_FAIL("%s", err.msg);
		return;
	}
	CHECK_INT(fs.nexclude, 2);
	CHECK_INT(flagspec_classify(&fs, "vendor/a.go"), 1);
	CHECK_INT(flagspec_classify(&fs, "gen/a.go"), 0);
	CHECK_INT(flagspec_classify(&fs, "gen/x/a.go"), 0);
	CHECK_INT(flagspec_classify(&fs, "pkg/gen/a.go"), 1);
	CHECK_INT(flagspec_classify(&fs, "pkg/a_test.go"), 0);
	CHECK(flagspec_skip_dir(&fs, "gen"));
	CHECK(!flagspec_skip_dir(&fs, "vendor"));
	CHECK(!flagspec_skip_dir(&fs, "pkg/gen"));
	flagspec_release(&fs);
	/* An empty list excludes nothing. */
	if (spec(json_pack("{s:[{s:[s], s:s}], s:[]}", "define", "paths",
			   "*.go", "pattern", "(\\w+) featuregate", "exclude"),
		 &fs, &err) < 0) {
		UNIT_FAIL("%s", err.msg);
		return;
	}
	CHECK_INT(fs.nexclude, 0);
	CHECK_INT(flagspec_classify(&fs, "vendor/a.go"), 1);
	CHECK(!flagspec_skip_dir(&fs, "vendor"));
	flagspec_release(&fs);
}

static void skip_dir_follows_the_sources(void)
{
	struct flagspec fs;
	struct sd_err err;

	/* Only anchored sources: other trees can be skipped. */
	if (spec(json_pack("{s:[{s:[s,s], s:s}]}", "define", "paths",
			   "/flags.txt", "/config/feature_flags/**/*.yml",
			   "pattern", "^name: (\\w+)"),
		 &fs, &err) < 0) {
		UNIT_FAIL("%s", err.msg);
		return;
	}
	CHECK(flagspec_skip_dir(&fs, "app"));
	CHECK(flagspec_skip_dir(&fs, "config/locales"));
	CHECK(!flagspec_skip_dir(&fs, "config"));
	CHECK(!flagspec_skip_dir(&fs, "config/feature_flags"));
	CHECK(!flagspec_skip_dir(&fs, "config/feature_flags/a/b"));
	CHECK_INT(flagspec_classify(&fs, "config/feature_flags/a/b/x.yml"), 1);
	CHECK_INT(flagspec_classify(&fs, "config/feature_flags/x.yml"), 1);
	CHECK_INT(flagspec_classify(&fs, "config/x.yml"), 0);
	flagspec_release(&fs);
}

static void defaults_and_digest(void)
{
	struct flagspec a, b, c;
	struct sd_err err;

	if (spec(define("*.go", "features\\.(\\w+)"), &a, &err) < 0 ||
	    spec(define("*.go", "features\\.(\\w+)"), &b, &err) < 0 ||
	    spec(define("*.go", "feature\\.(\\w+)"), &c, &err) < 0) {
		UNIT_FAIL("%s", err.msg);
		return;
	}
	CHECK_INT(a.max_age_ms, 90LL * 86400000);
	CHECK_INT(a.revert_window_ms, 7LL * 86400000);
	CHECK_INT(a.max_file_size, FLAG_MAX_FILE_SIZE);
	CHECK_INT(a.severity[FINDING_DEAD], SEV_ERROR);
	CHECK_INT(a.severity[FINDING_STALE], SEV_WARNING);
	CHECK_INT(strlen(a.digest), 64);
	CHECK_STR(a.digest, b.digest);
	CHECK(strcmp(a.digest, c.digest) != 0);
	flagspec_release(&a);
	flagspec_release(&b);
	flagspec_release(&c);
	if (spec(json_pack("{s:s, s:s, s:s, s:{s:s, s:s}}", "max-age", "30d",
			   "revert-window", "1h", "max-file-size", "1M",
			   "severity", "dead", "off", "stale", "error"),
		 &a, &err) < 0) {
		UNIT_FAIL("%s", err.msg);
		return;
	}
	CHECK_INT(a.max_age_ms, 30LL * 86400000);
	CHECK_INT(a.revert_window_ms, 3600000);
	CHECK_INT(a.max_file_size, 1 << 20);
	CHECK_INT(a.severity[FINDING_DEAD], SEV_OFF);
	CHECK_INT(a.severity[FINDING_STALE], SEV_ERROR);
	CHECK_INT(a.severity[FINDING_RESURRECTED], SEV_ERROR);
	CHECK(!a.any);
	flagspec_release(&a);
}

int main(void)
{
	RUN(literal_from_plain_text,
	    "flagspec: the literal is the longest plain run");
	RUN(literal_and_quantifiers,
	    "flagspec: optional characters are not in the literal");
	RUN(literal_and_alternation,
	    "flagspec: groups and classes are skipped, top-level | gives none");
	RUN(literal_gives_up_on_options,
	    "flagspec: no literal with options or \\Q quoting");
	RUN(literal_escapes, "flagspec: escapes in the literal");
	RUN(sources_get_their_literal, "flagspec: a source has its literal");
	RUN(keys_without_alias_are_the_name,
	    "flagspec: without alias a key is the name");
	RUN(keys_with_case_forms_are_one,
	    "flagspec: snake, kebab, camel and upper spellings are one key");
	RUN(keys_with_some_forms, "flagspec: only the forms asked for");
	RUN(keys_with_a_regex_alias, "flagspec: a regex alias");
	RUN(retired_names_are_keys, "flagspec: retired names are keys");
	RUN(tokens_are_found_with_offsets,
	    "flagspec: tokens are found with their offsets");
	RUN(many_tokens_and_references,
	    "flagspec: every token of a reference source");
	RUN(binary_text_has_no_tokens, "flagspec: binary text has no tokens");
	RUN(literal_prefilter_skips_text,
	    "flagspec: text without the literal is not matched");
	RUN(json_source_gives_keys,
	    "flagspec: a JSON source gives the keys of its object");
	RUN(bad_patterns_are_named,
	    "flagspec: a bad pattern is named with its offset");
	RUN(bad_config_is_named,
	    "flagspec: bad presets, globs and values are named");
	RUN(bad_alias_is_named, "flagspec: a bad alias is named");
	RUN(json_is_for_definitions, "flagspec: json is for definitions only");
	RUN(presets_find_tokens,
	    "flagspec: kubernetes, flagd, gitlab and list find tokens");
	RUN(presets_with_paths_and_lists,
	    "flagspec: presets in a list, with their own paths");
	RUN(classification_and_exclusion,
	    "flagspec: paths are classified, vendor/ excluded by default");
	RUN(exclusion_can_be_replaced,
	    "flagspec: exclude replaces the default");
	RUN(skip_dir_follows_the_sources,
	    "flagspec: a walk skips directories no source can match");
	RUN(defaults_and_digest, "flagspec: defaults, policy and digest");
	UNIT_DONE();
}
