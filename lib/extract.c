/* Reading one field out of a target's answer: dot paths into JSON and labels
 * of Prometheus text-format metrics; see extract.h. */
#include <limits.h>
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "extract.h"

/* Label values beyond this are not versions; refuse rather than copy. */
#define PROM_VALUE_MAX 4096

/* Keep quoted path text short enough that the message still says what is
 * wrong after it. */
#define QUOTE_MAX 400

static int quote_len(size_t n)
{
	return n > QUOTE_MAX ? QUOTE_MAX : (int)n;
}

/* ---- paths ---- */

struct jp_step {
	int is_index;
	size_t index;
	const char *key; /* NUL-terminated, in the iterator's buffer */
	size_t end;	 /* offset in the path just past this step */
};

struct jp_iter {
	const char *path;
	size_t pos;
	int want_segment; /* at the start or just after a '.' */
	char *buf;	  /* strlen(path) + 1: no key can be longer */
};

static int jp_error(struct sd_err *err, const struct jp_iter *it,
		    const char *what, size_t offset)
{
	return err_set(err, SD_EXIT_USAGE, "'%.*s': %s at character %zu",
		       quote_len(strlen(it->path)), it->path, what, offset + 1);
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* "[N]" or ["key"] starting at the '[' at it->pos. */
static int jp_bracket(struct jp_iter *it, struct jp_step *st,
		      struct sd_err *err)
{
	const char *p = it->path;
	size_t open = it->pos, q = open + 1;

	if (is_digit(p[q])) {
		size_t n = 0;

		while (is_digit(p[q])) {
			size_t d = (size_t)(p[q] - '0');

			if (n > (SIZE_MAX - d) / 10)
				return jp_error(err, it, "index too large",
						open + 1);
			n = n * 10 + d;
			q++;
		}
		st->is_index = 1;
		st->index = n;
	} else if (p[q] == '"') {
		size_t k = 0;

		q++;
		for (;;) {
			if (!p[q])
				return jp_error(err, it, "unclosed '\"'",
						open + 1);
			if (p[q] == '"')
				break;
			if (p[q] == '\\') {
				if (!p[q + 1])
					return jp_error(err, it,
							"unclosed '\"'",
							open + 1);
				if (p[q + 1] != '"' && p[q + 1] != '\\')
					return jp_error(
						err, it,
						"bad escape (only \\\" and \\\\ are allowed)",
						q);
				q++;
			}
			it->buf[k++] = p[q++];
		}
		it->buf[k] = '\0';
		q++;
		st->is_index = 0;
		st->key = it->buf;
	} else if (!p[q]) {
		return jp_error(err, it, "unclosed '['", open);
	} else if (p[q] == ']') {
		return jp_error(err, it, "empty '[]'", open);
	} else {
		return jp_error(err, it,
				"expected an index or a quoted key after '['",
				q);
	}
	if (!p[q])
		return jp_error(err, it, "unclosed '['", open);
	if (p[q] != ']')
		return jp_error(err, it, "expected ']'", q);
	it->pos = q + 1;
	st->end = it->pos;
	return 1;
}

/* The next step of the path: 1 with *st filled, 0 at the end, -1 on a
 * syntax error. */
static int jp_next(struct jp_iter *it, struct jp_step *st, struct sd_err *err)
{
	const char *p = it->path;
	char c = p[it->pos];
	size_t start, n;

	if (!it->want_segment) {
		if (!c)
			return 0;
		if (c == '[')
			return jp_bracket(it, st, err);
		if (c != '.')
			return jp_error(err, it, "expected '.' or '['",
					it->pos);
		it->pos++;
		it->want_segment = 1;
		c = p[it->pos];
		if (!c)
			return jp_error(err, it, "empty segment after '.'",
					it->pos - 1);
	}
	if (!c)
		return err_set(err, SD_EXIT_USAGE, "'': empty path");
	if (c == '.')
		return jp_error(err, it, "empty segment before '.'", it->pos);
	if (c == ']')
		return jp_error(err, it, "unexpected ']'", it->pos);
	it->want_segment = 0;
	if (c == '[')
		return jp_bracket(it, st, err);
	start = it->pos;
	while (p[it->pos] && !strchr(".[]", p[it->pos]))
		it->pos++;
	n = it->pos - start;
	memcpy(it->buf, p + start, n);
	it->buf[n] = '\0';
	st->is_index = 0;
	st->key = it->buf;
	st->end = it->pos;
	return 1;
}

static int jp_start(struct jp_iter *it, const char *path, struct sd_err *err)
{
	if (!path)
		return err_set(err, SD_EXIT_USAGE, "'': empty path");
	it->path = path;
	it->pos = 0;
	it->want_segment = 1;
	it->buf = malloc(strlen(path) + 1);
	if (!it->buf)
		return err_set(err, SD_EXIT_CANNOT, "out of memory");
	return 0;
}

int jpath_validate(const char *path, struct sd_err *err)
{
	struct jp_iter it;
	struct jp_step st;
	int r;

	if (jp_start(&it, path, err) < 0)
		return -1;
	while ((r = jp_next(&it, &st, err)) > 0)
		;
	free(it.buf);
	return r;
}

/* "a string", "an object", … for "'x' is a string, not an object". */
static const char *a_kind(const json_t *v)
{
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

/* What went wrong at a step whose container is cur, which is the path up
 * to offset prefix (0: the whole answer). */
static void jp_wrong_kind(struct sd_err *err, const char *path, size_t prefix,
			  const json_t *cur, const char *want)
{
	int plen = quote_len(strlen(path));

	if (!prefix)
		err_set(err, SD_EXIT_FAIL, "'%.*s': the answer is %s, not %s",
			plen, path, a_kind(cur), want);
	else
		err_set(err, SD_EXIT_FAIL, "'%.*s': '%.*s' is %s, not %s", plen,
			path, quote_len(prefix), path, a_kind(cur), want);
}

static void jp_too_short(struct sd_err *err, const char *path, size_t prefix,
			 size_t n)
{
	const char *s = n == 1 ? "" : "s";
	int plen = quote_len(strlen(path));

	if (!prefix)
		err_set(err, SD_EXIT_FAIL,
			"'%.*s': the answer has %zu element%s", plen, path, n,
			s);
	else
		err_set(err, SD_EXIT_FAIL, "'%.*s': '%.*s' has %zu element%s",
			plen, path, quote_len(prefix), path, n, s);
}

json_t *jpath_get(json_t *root, const char *path, struct sd_err *err)
{
	struct jp_iter it;
	struct jp_step st;
	json_t *cur = root;
	size_t prefix = 0;
	int r;

	/* A bad path is a usage error even if nobody validated it first. */
	if (jpath_validate(path, err) < 0 || jp_start(&it, path, err) < 0)
		return NULL;
	while ((r = jp_next(&it, &st, err)) > 0) {
		if (st.is_index) {
			size_t n;

			if (!json_is_array(cur)) {
				jp_wrong_kind(err, path, prefix, cur,
					      "an array");
				break;
			}
			n = json_array_size(cur);
			if (st.index >= n) {
				jp_too_short(err, path, prefix, n);
				break;
			}
			cur = json_array_get(cur, st.index);
		} else {
			json_t *next;

			if (!json_is_object(cur)) {
				jp_wrong_kind(err, path, prefix, cur,
					      "an object");
				break;
			}
			next = json_object_get(cur, st.key);
			if (!next) {
				err_set(err, SD_EXIT_FAIL,
					"'%.*s': '%.*s' is missing",
					quote_len(strlen(path)), path,
					quote_len(strlen(st.key)), st.key);
				break;
			}
			cur = next;
		}
		prefix = st.end;
	}
	free(it.buf);
	return r == 0 ? cur : NULL;
}

/* ---- values as text ---- */

/* The shortest decimal that reads back as d, in jansson's style: "1.0"
 * rather than "1", "1e20" rather than "1e+20", '.' whatever the locale. */
static char *real_text(double d)
{
	const char *dp = localeconv()->decimal_point;
	size_t dpl = dp && *dp ? strlen(dp) : 0;
	char buf[64], out[64];
	size_t i, o = 0;
	int prec;

	for (prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	for (i = 0; buf[i] && o < sizeof(out) - 3;) {
		if (dpl && !strncmp(buf + i, dp, dpl)) {
			out[o++] = '.';
			i += dpl;
		} else if (buf[i] == 'e') {
			out[o++] = buf[i++];
			if (buf[i] == '+')
				i++;
			else if (buf[i] == '-')
				out[o++] = buf[i++];
			while (buf[i] == '0' && buf[i + 1])
				i++;
		} else {
			out[o++] = buf[i++];
		}
	}
	out[o] = '\0';
	if (!strpbrk(out, ".e")) {
		out[o++] = '.';
		out[o++] = '0';
		out[o] = '\0';
	}
	return strdup(out);
}

static char *string_text(const json_t *v)
{
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	char *t;

	/* With JSON_ALLOW_NUL, "1.2.3\u0000x" would compare equal to "1.2.3"
	 * as a C string; its JSON text cannot. */
	if (memchr(s, '\0', n))
		return json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	t = malloc(n + 1);
	if (t) {
		memcpy(t, s, n);
		t[n] = '\0';
	}
	return t;
}

char *jpath_text(json_t *v, const char **kind)
{
	const char *k_dummy;
	char buf[32];
	json_t *f;

	if (!kind)
		kind = &k_dummy;
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_STRING:
		*kind = "string";
		return string_text(v);
	case JSON_INTEGER:
		*kind = "number";
		snprintf(buf, sizeof(buf), "%lld",
			 (long long)json_integer_value(v));
		return strdup(buf);
	case JSON_REAL:
		*kind = "number";
		return real_text(json_real_value(v));
	case JSON_TRUE:
		*kind = "boolean";
		return strdup("true");
	case JSON_FALSE:
		*kind = "boolean";
		return strdup("false");
	case JSON_ARRAY:
		*kind = "array";
		return NULL;
	case JSON_OBJECT:
		/* Spring Boot's management.info.git.mode=full. */
		*kind = "object";
		f = json_object_get(v, "full");
		if (!json_is_string(f))
			f = json_object_get(v, "abbrev");
		return json_is_string(f) ? string_text(f) : NULL;
	default:
		*kind = "null";
		return NULL;
	}
}

/* ---- Prometheus text format ---- */

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int is_name_start(char c, int colon)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       (colon && c == ':');
}

static int is_name_char(char c, int colon)
{
	return is_name_start(c, colon) || is_digit(c);
}

static int is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Whether s[0..n) is a sample value as Go's ParseFloat takes it (which is
 * what Prometheus uses): decimal, hexadecimal, Inf, NaN. Done by hand so
 * that the locale's decimal point does not matter. */
static int is_float(const char *s, size_t n)
{
	size_t i = 0, digits = 0;
	int hex = 0;

	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	if ((n - i == 3 && !strncasecmp(s + i, "inf", 3)) ||
	    (n - i == 8 && !strncasecmp(s + i, "infinity", 8)) ||
	    (n - i == 3 && !strncasecmp(s + i, "nan", 3)))
		return 1;
	if (n - i > 2 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
		hex = 1;
		i += 2;
	}
	while (i < n && (hex ? is_hex(s[i]) : is_digit(s[i]))) {
		i++;
		digits++;
	}
	if (i < n && s[i] == '.') {
		i++;
		while (i < n && (hex ? is_hex(s[i]) : is_digit(s[i]))) {
			i++;
			digits++;
		}
	}
	if (!digits)
		return 0;
	if (i < n && (hex ? (s[i] == 'p' || s[i] == 'P')
			  : (s[i] == 'e' || s[i] == 'E'))) {
		size_t exp = 0;

		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		while (i < n && is_digit(s[i])) {
			i++;
			exp++;
		}
		if (!exp)
			return 0;
	} else if (hex) {
		return 0; /* Go requires the 'p' exponent of a hex float */
	}
	return i == n;
}

/* Whether s[0..n) is an int64 millisecond timestamp. */
static int is_timestamp(const char *s, size_t n)
{
	unsigned long long v = 0, max = (unsigned long long)LLONG_MAX;
	size_t i = 0;

	if (i < n && (s[i] == '+' || s[i] == '-')) {
		if (s[i] == '-')
			max++;
		i++;
	}
	if (i == n)
		return 0;
	for (; i < n; i++) {
		if (!is_digit(s[i]))
			return 0;
		v = v * 10 + (unsigned long long)(s[i] - '0');
		if (v > max)
			return 0;
	}
	return 1;
}

struct prom_line {
	const char *s; /* the line, without its end of line */
	size_t n;
	size_t lineno;
	const char *label;
	char *value; /* the label's unescaped value once seen */
	struct sd_err *err;
};

static int prom_error(struct prom_line *l, size_t col, const char *what)
{
	return err_set(l->err, SD_EXIT_FAIL, "line %zu: %s at column %zu",
		       l->lineno, what, col + 1);
}

/* Read the quoted label value whose '"' is at *i; store it unescaped when
 * keep. Escapes other than \\ \" \n stay as written, as in Prometheus. */
static int prom_value(struct prom_line *l, size_t *i, int keep)
{
	size_t open = *i, j = open + 1, k = 0;
	char *out = NULL;

	if (keep) {
		if (l->value)
			return err_set(l->err, SD_EXIT_FAIL,
				       "line %zu: label '%s' appears twice",
				       l->lineno, l->label);
		out = malloc(PROM_VALUE_MAX + 1);
		if (!out)
			return err_set(l->err, SD_EXIT_CANNOT, "out of memory");
	}
	while (j < l->n && l->s[j] != '"') {
		char c = l->s[j++];

		if (c == '\\') {
			if (j >= l->n)
				break;
			c = l->s[j++];
			if (c == 'n') {
				c = '\n';
			} else if (c != '\\' && c != '"') {
				if (out && k < PROM_VALUE_MAX)
					out[k] = '\\';
				k++;
			}
		}
		if (!out)
			continue;
		/* A NUL would end the value early for whoever compares it. */
		if (!c) {
			free(out);
			return err_set(
				l->err, SD_EXIT_FAIL,
				"line %zu: NUL byte in the value of label '%s'",
				l->lineno, l->label);
		}
		if (k >= PROM_VALUE_MAX) {
			free(out);
			return err_set(
				l->err, SD_EXIT_FAIL,
				"line %zu: value of label '%s' is longer than %d bytes",
				l->lineno, l->label, PROM_VALUE_MAX);
		}
		out[k++] = c;
	}
	if (j >= l->n) {
		free(out);
		return prom_error(l, open, "unclosed '\"'");
	}
	if (out) {
		out[k] = '\0';
		l->value = out;
	}
	*i = j + 1;
	return 0;
}

/* The "{…}" at *i. */
static int prom_labels(struct prom_line *l, size_t *i)
{
	size_t j = *i + 1;

	for (;;) {
		size_t start, len;
		int keep;

		while (j < l->n && is_blank(l->s[j]))
			j++;
		if (j >= l->n)
			return prom_error(l, *i, "unclosed '{'");
		if (l->s[j] == '}')
			break;
		start = j;
		if (!is_name_start(l->s[j], 0))
			return prom_error(l, j, "expected a label name");
		while (j < l->n && is_name_char(l->s[j], 0))
			j++;
		len = j - start;
		keep = len == strlen(l->label) &&
		       !memcmp(l->s + start, l->label, len);
		while (j < l->n && is_blank(l->s[j]))
			j++;
		if (j >= l->n || l->s[j] != '=')
			return prom_error(l, j,
					  "expected '=' after a label name");
		j++;
		while (j < l->n && is_blank(l->s[j]))
			j++;
		if (j >= l->n || l->s[j] != '"')
			return prom_error(l, j, "expected '\"' after '='");
		if (prom_value(l, &j, keep) < 0)
			return -1;
		while (j < l->n && is_blank(l->s[j]))
			j++;
		if (j < l->n && l->s[j] == ',') {
			j++;
			continue;
		}
		if (j >= l->n || l->s[j] != '}')
			return prom_error(l, j, "expected ',' or '}'");
	}
	*i = j + 1;
	return 0;
}

/* The rest of a sample line of the wanted metric, from just after its
 * name: labels, value, timestamp. */
static int prom_sample(struct prom_line *l, size_t i)
{
	size_t start;

	while (i < l->n && is_blank(l->s[i]))
		i++;
	if (i < l->n && l->s[i] == '{' && prom_labels(l, &i) < 0)
		return -1;
	while (i < l->n && is_blank(l->s[i]))
		i++;
	if (i >= l->n)
		return prom_error(l, i, "missing value");
	start = i;
	while (i < l->n && !is_blank(l->s[i]))
		i++;
	if (!is_float(l->s + start, i - start))
		return prom_error(l, start, "value is not a number");
	while (i < l->n && is_blank(l->s[i]))
		i++;
	if (i >= l->n)
		return 0;
	start = i;
	while (i < l->n && !is_blank(l->s[i]))
		i++;
	if (!is_timestamp(l->s + start, i - start))
		return prom_error(l, start, "timestamp is not an integer");
	while (i < l->n && is_blank(l->s[i]))
		i++;
	if (i < l->n)
		return prom_error(l, i, "unexpected text after the timestamp");
	return 0;
}

int promtext_label(const char *text, size_t len, const char *metric,
		   const char *label, char **value, struct sd_err *err)
{
	size_t off = 0, mlen = metric ? strlen(metric) : 0;
	struct prom_line l = {.label = label ? label : "", .err = err};

	*value = NULL;
	if (!metric)
		metric = "";
	while (off < len) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t i = 0, name;

		l.s = text + off;
		l.n = nl ? (size_t)(nl - l.s) : len - off;
		off += l.n + 1;
		l.lineno++;
		if (l.n && l.s[l.n - 1] == '\r')
			l.n--;
		while (i < l.n && is_blank(l.s[i]))
			i++;
		if (i >= l.n || l.s[i] == '#')
			continue;
		name = i;
		while (i < l.n && is_name_char(l.s[i], 1))
			i++;
		/* Others' odd lines are their business: only a line that is
		 * clearly the wanted metric's sample must be well formed. */
		if (!is_name_start(l.s[name], 1) || i - name != mlen ||
		    memcmp(l.s + name, metric, mlen))
			continue;
		if (i < l.n && l.s[i] != '{' && !is_blank(l.s[i]))
			continue;
		if (prom_sample(&l, i) < 0) {
			free(l.value);
			return -1;
		}
		if (!l.value)
			return err_set(err, SD_EXIT_FAIL,
				       "metric '%s' has no label '%s'", metric,
				       l.label);
		*value = l.value;
		return 0;
	}
	return err_set(err, SD_EXIT_FAIL, "metric '%s' not found", metric);
}
