/* Fuzz target: flag patterns (lib/flagspec.c: flagspec_from_json,
 * flagscan_text, flagspec_literal, flagspec_key). Input: a PCRE2 pattern on
 * the first line (a `flags.define` pattern over the paths "*"), then the
 * text of a file. A pattern that compiles is scanned over the text.
 *
 * The invariant of the pre-filter: whenever the regex matches somewhere in
 * the text, the literal flagspec_literal gives for it (when it gives one)
 * is in the text; otherwise flagscan_text would skip files with real
 * matches. The regex is compiled here as lib/flagspec.c compiles it
 * (PCRE2_MULTILINE, newline ANYCRLF) and run with pcre2_match. Each token
 * and the pattern itself also go through flagspec_key with and without the
 * case-form aliases. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <pcre2.h>
#include <stdlib.h>

#include "flagspec.h"
#include "fuzz.h"

#define FUZZ_MAX_LEN 4096

/* As lib/flagspec.c: a match that takes more steps is not a match. */
#define MATCH_LIMIT 2000000

/* Specs for keys: every case form, and gitlab's snake and camel. */
static struct flagspec all_forms, some_forms;

static void key_spec(struct flagspec *fs, json_t *alias)
{
	json_t *flags = json_pack("{s:o}", "alias", alias);
	struct sd_err err = {0};

	if (!flags || flagspec_from_json(flags, NULL, fs, &err) < 0)
		abort();
	json_decref(flags);
}

static void key_specs(void)
{
	static int done;

	if (done)
		return;
	done = 1;
	key_spec(&all_forms,
		 json_pack("[s,s,s,s]", "snake", "kebab", "camel", "upper"));
	key_spec(&some_forms, json_pack("[s,s]", "snake", "camel"));
}

/* flagspec_key of name in every buffer size: NUL-terminated, its length
 * returned, a shorter buffer holding a prefix of the key; and a key is its
 * own key. */
static void check_key(const struct flagspec *fs, const char *name, size_t len)
{
	static const size_t sizes[] = {0, 1, 2, 3, 8, 64};
	char full[512], part[64], again[512];
	size_t n = flagspec_key(fs, name, len, full, sizeof(full));

	if (n >= sizeof(full) || full[n])
		abort();
	if (memchr(name, '\0', len))
		return; /* the key holds the NUL too */
	if (strlen(full) != n)
		abort();
	if (!n && len && len < sizeof(full) && !fs->case_forms &&
	    !fs->nalias_re)
		abort(); /* without aliases the key is the name */
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t m = flagspec_key(fs, name, len, part, sizes[i]);

		if (sizes[i] < 2) {
			if (m)
				abort();
			continue;
		}
		if (m >= sizes[i] || strlen(part) != m ||
		    strncmp(part, full, m))
			abort();
	}
	if (len < 256 && !fs->nalias_re) {
		size_t k = flagspec_key(fs, full, n, again, sizeof(again));

		if (k != n || strcmp(again, full))
			abort();
	}
}

struct scan_state {
	const char *text;
	size_t len;
	const struct flagspec *fs;
	size_t tokens;
};

static int on_token(void *ud, const struct flag_source *src, const char *name,
		    size_t len, size_t off)
{
	struct scan_state *st = ud;
	unsigned line, col;

	/* A token is the non-empty text at its offset. */
	if (src != &st->fs->src[0] || !len || off > st->len ||
	    len > st->len - off || name != st->text + off)
		abort();
	flagspec_line_col(st->text, off, &line, &col);
	if (line < 1 || col < 1 || col > off + 1)
		abort();
	check_key(st->fs, name, len);
	check_key(&all_forms, name, len);
	check_key(&some_forms, name, len);
	st->tokens++;
	return 0;
}

/* pcre2_match of pattern in text, compiled as lib/flagspec.c does: 1 when
 * it matches (*group1 set when its first group captured something), 0 when
 * it does not, -1 when that is not known (a limit), -2 when the pattern
 * does not compile. */
static int regex_matches(const char *pattern, const char *text, size_t len,
			 int *group1)
{
	pcre2_compile_context *cc = pcre2_compile_context_create(NULL);
	pcre2_match_context *mc = pcre2_match_context_create(NULL);
	pcre2_match_data *md = NULL;
	pcre2_code *re = NULL;
	PCRE2_SIZE erroff, *ov;
	int code, r, rc = -1;

	*group1 = 0;
	if (!cc || !mc)
		abort();
	pcre2_set_newline(cc, PCRE2_NEWLINE_ANYCRLF);
	pcre2_set_match_limit(mc, MATCH_LIMIT);
	re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
			   PCRE2_MULTILINE, &code, &erroff, cc);
	if (!re)
		rc = -2;
	else
		md = pcre2_match_data_create_from_pattern(re, NULL);
	if (md) {
		r = pcre2_match(re, (PCRE2_SPTR)text, len, 0, 0, md, mc);
		if (r == PCRE2_ERROR_NOMATCH) {
			rc = 0;
		} else if (r >= 0) {
			rc = 1;
			ov = pcre2_get_ovector_pointer(md);
			*group1 =
				r >= 2 && ov[2] != PCRE2_UNSET && ov[3] > ov[2];
		}
	}
	pcre2_match_data_free(md);
	pcre2_code_free(re);
	pcre2_match_context_free(mc);
	pcre2_compile_context_free(cc);
	return rc;
}

/* {define: [{paths: ["*"], pattern}]}, the pattern bytes as they are. */
static json_t *define_spec(const char *pattern)
{
	json_t *src = json_pack("{s:[s]}", "paths", "*");
	json_t *flags = json_pack("{s:[o]}", "define", src);

	if (!src || !flags ||
	    json_object_set_new(src, "pattern", json_string_nocheck(pattern)))
		abort();
	return flags;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sd_err err = {0};
	struct flagspec fs;
	struct flagscan sc;
	struct scan_state st = {0};
	char *pattern, *lit;
	size_t off = fuzz_split(data, size, &pattern), lit_len = 7;
	const char *text = (const char *)data + off;
	size_t len = size - off;
	json_t *flags, *warnings;
	int m, group1;

	key_specs();
	/* The literal, for any string at all. */
	lit = flagspec_literal(pattern, &lit_len);
	if (lit ? strlen(lit) != lit_len || lit_len < 3 : lit_len != 0)
		abort();
	check_key(&all_forms, pattern, strlen(pattern));
	check_key(&some_forms, pattern, strlen(pattern));

	/* The invariant, whatever flagspec makes of the pattern. */
	m = regex_matches(pattern, text, len, &group1);
	if (m == 1 && lit && !memmem(text, len, lit, lit_len))
		abort(); /* the pre-filter would drop this match */

	flags = define_spec(pattern);
	if (flagspec_from_json(flags, NULL, &fs, &err) < 0) {
		if (!err.msg[0] || err.code != SD_EXIT_CANNOT)
			abort();
		json_decref(flags);
		free(lit);
		free(pattern);
		return 0;
	}
	json_decref(flags);
	/* It compiled, so it compiled here too; with the same literal. */
	if (m == -2)
		abort();
	if (fs.nsrc != 1 || !fs.any || !fs.src[0].re ||
	    (lit ? !fs.src[0].literal || strcmp(lit, fs.src[0].literal)
		 : fs.src[0].literal != NULL))
		abort();
	if (flagspec_classify(&fs, "a/b.txt") != 1 ||
	    flagspec_skip_dir(&fs, "a"))
		abort();
	check_key(&fs, pattern, strlen(pattern));

	if (flagscan_init(&sc, &fs) < 0)
		abort();
	warnings = json_array();
	sc.warnings = warnings;
	st.text = text;
	st.len = len;
	st.fs = &fs;
	if (flagscan_text(&sc, 1, "fuzz.txt", text, len, on_token, &st))
		abort();
	/* A first match with a name is a token, unless the text is binary
	 * or the scan stopped on a limit (with a warning). */
	if (m == 1 && group1 && !st.tokens && !flagspec_is_binary(text, len) &&
	    !json_array_size(warnings))
		abort();
	/* No match, no token. */
	if (m == 0 && st.tokens)
		abort();
	json_decref(warnings);
	flagscan_release(&sc);
	flagspec_release(&fs);
	free(lit);
	free(pattern);
	return 0;
}
