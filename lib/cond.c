/* Probe conditions in Gatus's grammar (TwiN/gatus config/endpoint/
 * condition.go, placeholder.go): parsing, evaluation, rendering; see
 * cond.h. */
#include <fnmatch.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cond.h"
#include "extract.h"
#include "units.h"

/* Quoted text in messages is cut here, so the message still says what is
 * wrong after it (struct sd_err holds 1024 bytes). */
#define QUOTE_MAX 200

/* Characters of a value shown beside a pattern (Gatus's
 * maximumLengthBeforeTruncatingWhenComparedWithPattern). */
#define PAT_SHOW 25

/* Gatus's scan order: the first of these found in the text splits it. */
enum op { OP_EQ, OP_NE, OP_LE, OP_GE, OP_GT, OP_LT, OP_COUNT };
static const char *const op_name[OP_COUNT] = {"==", "!=", "<=", ">=", ">", "<"};

enum kind { K_LITERAL, K_REF, K_LEN, K_HAS, K_PAT, K_ANY };

/* What a placeholder operand yields, to refuse comparisons that can never
 * be true at load time. */
enum vtype { T_TEXT, T_INT, T_BOOL, T_RCODE, T_IP };

struct num {
	bool is_float;
	int64_t i;
	double d;
};

struct operand {
	enum kind kind;
	char *text;  /* as written, trimmed */
	unsigned ph; /* K_REF, K_LEN, K_HAS: one COND_USES_* bit */
	char *path;  /* [BODY] path without its leading '.'; NULL: the body */
	enum vtype type; /* K_REF, K_LEN, K_HAS */
	char *arg;	 /* K_PAT: pattern without '/'; K_ANY: NUL-separated */
	size_t nopts;
	const char *opt[COND_MAX_ANY];
	struct num num; /* K_LITERAL under < <= > >= */
};

struct cond {
	char *text;
	enum op op;
	struct operand side[2];
};

static const struct placeholder {
	const char *name;
	unsigned ph;
	enum vtype type;
} placeholders[] = {
	{"STATUS", COND_USES_STATUS, T_INT},
	{"RESPONSE_TIME", COND_USES_RESPONSE_TIME, T_INT},
	{"BODY", COND_USES_BODY, T_TEXT},
	{"IP", COND_USES_IP, T_IP},
	{"CONNECTED", COND_USES_CONNECTED, T_BOOL},
	{"CERTIFICATE_EXPIRATION", COND_USES_CERT, T_INT},
	{"DNS_RCODE", COND_USES_DNS_RCODE, T_RCODE},
};

/* Gatus placeholders that a safedeploy probe does not provide. */
static const char *const unsupported[] = {"DOMAIN_EXPIRATION", "CONTEXT"};

/* miekg/dns RcodeToString, which Gatus's [DNS_RCODE] comes from. */
static const char *const rcodes[] = {
	"NOERROR", "FORMERR",  "SERVFAIL", "NXDOMAIN", "NOTIMP",
	"REFUSED", "YXDOMAIN", "YXRRSET",  "NXRRSET",  "NOTAUTH",
	"NOTZONE", "BADSIG",   "BADVERS",  "BADKEY",   "BADTIME",
	"BADMODE", "BADNAME",  "BADALG",   "BADTRUNC", "BADCOOKIE",
};

#define COUNT(a) (sizeof(a) / sizeof(*(a)))

static int quote_len(size_t n)
{
	return n > QUOTE_MAX ? QUOTE_MAX : (int)n;
}

/* "condition 'TEXT': " and the rest. */
__attribute__((format(printf, 3, 4))) static int
cond_error(struct sd_err *err, const char *text, const char *fmt, ...)
{
	char what[800];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return err_set(err, SD_EXIT_USAGE, "condition '%.*s': %s",
		       quote_len(strlen(text)), text, what);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static void trim(const char **s, size_t *n)
{
	while (*n && is_space(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && is_space((*s)[*n - 1]))
		(*n)--;
}

static char *dup_n(const char *s, size_t n)
{
	char *t = malloc(n + 1);

	if (t) {
		memcpy(t, s, n);
		t[n] = '\0';
	}
	return t;
}

/* ---- numbers and durations, as Go's strconv and time parse them ---- */

static int lower(char c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Go's underscoreOK: '_' only between digits or after a base prefix. */
static bool underscore_ok(const char *s, size_t n)
{
	char saw = '^';
	size_t i = 0;
	bool hex = false;

	if (n && (s[0] == '+' || s[0] == '-')) {
		s++;
		n--;
	}
	if (n >= 2 && s[0] == '0' &&
	    (lower(s[1]) == 'b' || lower(s[1]) == 'o' || lower(s[1]) == 'x')) {
		i = 2;
		saw = '0';
		hex = lower(s[1]) == 'x';
	}
	for (; i < n; i++) {
		if (is_digit(s[i]) ||
		    (hex && lower(s[i]) >= 'a' && lower(s[i]) <= 'f')) {
			saw = '0';
			continue;
		}
		if (s[i] == '_') {
			if (saw != '0')
				return false;
			saw = '_';
			continue;
		}
		if (saw == '_')
			return false;
		saw = '!';
	}
	return saw != '_';
}

/* strconv.ParseInt(s, 0, 64): 0x, 0o, 0b and a leading 0 (octal), '_'
 * between digits. 0, -1 (not an integer) or -2 (out of range). */
static int go_parse_int(const char *s, size_t n, int64_t *out)
{
	const char *p = s, *end = s + n;
	bool neg = false, underscores = false;
	uint64_t v = 0, base = 10;

	if (p < end && (*p == '+' || *p == '-')) {
		neg = *p == '-';
		p++;
	}
	if (p == end)
		return -1;
	if (*p == '0') {
		if (end - p >= 3 && lower(p[1]) == 'b')
			base = 2;
		else if (end - p >= 3 && lower(p[1]) == 'o')
			base = 8;
		else if (end - p >= 3 && lower(p[1]) == 'x')
			base = 16;
		p += base == 10 ? 1 : 2;
		if (base == 10)
			base = 8;
	}
	for (; p < end; p++) {
		char c = (char)lower(*p);
		uint64_t d;

		if (c == '_') {
			underscores = true;
			continue;
		}
		if (is_digit(c))
			d = (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'z')
			d = (uint64_t)(c - 'a' + 10);
		else
			return -1;
		if (d >= base)
			return -1;
		if (v > (UINT64_MAX - d) / base)
			return -2;
		v = v * base + d;
	}
	if (underscores && !underscore_ok(s, n))
		return -1;
	if (v > (uint64_t)INT64_MAX + (neg ? 1 : 0))
		return -2;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

/* A decimal number, [+-]digits[.digits][e[+-]digits], as strtod reads it
 * whatever the locale. No hex, inf or nan. 0, -1 or -2 (out of range). */
static int parse_real(const char *s, size_t n, double *out)
{
	const char *dp = localeconv()->decimal_point;
	size_t i = 0, digits = 0, dpl = dp && *dp ? strlen(dp) : 1, o = 0;
	char small[128], *buf = small, *end;
	double d;

	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	while (i < n && is_digit(s[i])) {
		i++;
		digits++;
	}
	if (i < n && s[i] == '.') {
		i++;
		while (i < n && is_digit(s[i])) {
			i++;
			digits++;
		}
	}
	if (!digits)
		return -1;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		size_t exp = 0;

		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		while (i < n && is_digit(s[i])) {
			i++;
			exp++;
		}
		if (!exp)
			return -1;
	}
	if (i != n)
		return -1;
	if (n + dpl + 1 > sizeof(small) && !(buf = malloc(n + dpl + 1)))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] == '.' && dp && *dp) {
			memcpy(buf + o, dp, dpl);
			o += dpl;
		} else {
			buf[o++] = s[i];
		}
	}
	buf[o] = '\0';
	d = strtod(buf, &end);
	i = (size_t)(end - buf);
	if (buf != small)
		free(buf);
	if (i != o)
		return -1;
	if (!isfinite(d))
		return -2;
	*out = d;
	return 0;
}

/* The number part of a duration group, Go's [0-9]*(\.[0-9]*)? with a digit
 * somewhere: whole, and the fraction as num/den (nine digits at most). */
static bool read_group_number(const char *s, size_t n, uint64_t *whole,
			      uint64_t *num, uint64_t *den, bool *overflow)
{
	size_t i = 0, digits = 0;

	*whole = *num = 0;
	*den = 1;
	*overflow = false;
	for (; i < n && is_digit(s[i]); i++, digits++) {
		if (*whole > (UINT64_MAX - 9) / 10)
			*overflow = true;
		else
			*whole = *whole * 10 + (uint64_t)(s[i] - '0');
	}
	if (i < n && s[i] == '.') {
		for (i++; i < n && is_digit(s[i]); i++, digits++) {
			if (*den < 1000000000ULL) {
				*num = *num * 10 + (uint64_t)(s[i] - '0');
				*den *= 10;
			}
		}
	}
	return digits && i == n;
}

static int add_i64(int64_t *a, int64_t b)
{
	if (b > 0 ? *a > INT64_MAX - b : *a < INT64_MIN - b)
		return -1;
	*a += b;
	return 0;
}

/* A Go duration (time.ParseDuration: ns, us, µs, ms, s, m, h, groups such
 * as 1h30m, a sign) plus d and w, in milliseconds: ms and above through
 * units_parse_duration, ns and us here. 0, -1 or -2 (too large). */
static int go_duration(const char *s, size_t n, int64_t *ms)
{
	const char *p = s, *end = s + n;
	int64_t total = 0, sub_ns = 0;
	bool neg = false;

	if (p < end && (*p == '+' || *p == '-')) {
		neg = *p == '-';
		p++;
	}
	if (end - p == 1 && *p == '0') {
		*ms = 0;
		return 0;
	}
	if (p == end)
		return -1;
	while (p < end) {
		const char *num = p, *unit;
		size_t nlen, ulen;
		uint64_t whole, fnum, fden;
		bool overflow;

		while (p < end && (is_digit(*p) || *p == '.'))
			p++;
		unit = p;
		while (p < end && !is_digit(*p) && *p != '.')
			p++;
		nlen = (size_t)(unit - num);
		ulen = (size_t)(p - unit);
		if (!ulen || !read_group_number(num, nlen, &whole, &fnum, &fden,
						&overflow))
			return -1;
		if ((ulen == 2 && !memcmp(unit, "ns", 2)) ||
		    (ulen == 2 && !memcmp(unit, "us", 2)) ||
		    (ulen == 3 && !memcmp(unit, "\xc2\xb5s", 3)) ||
		    (ulen == 3 && !memcmp(unit, "\xce\xbcs", 3))) {
			int64_t mult = unit[0] == 'n' ? 1 : 1000;

			if (overflow || whole > (uint64_t)(INT64_MAX / mult) ||
			    add_i64(&sub_ns, (int64_t)whole * mult) < 0 ||
			    add_i64(&sub_ns, (int64_t)(fnum * (uint64_t)mult /
						       fden)) < 0)
				return -2;
		} else {
			static const char *const units[] = {"ms", "s", "m",
							    "h",  "d", "w"};
			char group[96];
			int64_t part;
			size_t u;

			for (u = 0; u < COUNT(units); u++)
				if (strlen(units[u]) == ulen &&
				    !memcmp(unit, units[u], ulen))
					break;
			if (u == COUNT(units))
				return -1;
			if (overflow)
				return -2;
			/* Only the digits that matter go to units: the
			 * whole part and nine fractional digits. */
			snprintf(group, sizeof(group), "%llu.%09llu%s",
				 (unsigned long long)whole,
				 (unsigned long long)(fnum *
						      (1000000000ULL / fden)),
				 units[u]);
			if (units_parse_duration(group, &part, NULL) < 0 ||
			    add_i64(&total, part) < 0)
				return -2;
		}
	}
	if (add_i64(&total, sub_ns / 1000000) < 0)
		return -2;
	*ms = neg ? -total : total;
	return 0;
}

/* Gatus's order for < <= > >=: a duration (in ms), an integer, a float.
 * 0, -1 (not a number) or -2 (a number too large). */
static int parse_number(const char *s, size_t n, struct num *out)
{
	int r1, r2, r3;

	out->is_float = false;
	if (!(r1 = go_duration(s, n, &out->i)))
		return 0;
	if (!(r2 = go_parse_int(s, n, &out->i)))
		return 0;
	if (!(r3 = parse_real(s, n, &out->d))) {
		out->is_float = true;
		return 0;
	}
	return r1 == -2 || r2 == -2 || r3 == -2 ? -2 : -1;
}

/* a < b: -1, a == b: 0, a > b: 1; exact, unlike Gatus, which truncates
 * floats to integers first. */
static int cmp_int_real(int64_t a, double b)
{
	int64_t bi;

	if (b >= 9223372036854775808.0)
		return -1;
	if (b < -9223372036854775808.0)
		return 1;
	bi = (int64_t)b;
	if (a != bi)
		return a < bi ? -1 : 1;
	if (b > (double)bi)
		return -1;
	return b < (double)bi ? 1 : 0;
}

static int cmp_num(const struct num *a, const struct num *b)
{
	if (!a->is_float && !b->is_float)
		return a->i < b->i ? -1 : a->i > b->i;
	if (!a->is_float)
		return cmp_int_real(a->i, b->d);
	if (!b->is_float)
		return -cmp_int_real(b->i, a->d);
	return a->d < b->d ? -1 : a->d > b->d;
}

/* ---- parsing ---- */

/* The first of Gatus's operators in text, and where. */
static const char *find_op(const char *text, enum op *op)
{
	for (int i = 0; i < OP_COUNT; i++) {
		char tok[6];
		const char *p;

		snprintf(tok, sizeof(tok), " %s ", op_name[i]);
		if ((p = strstr(text, tok))) {
			*op = (enum op)i;
			return p;
		}
	}
	return NULL;
}

/* An operator left in a (trimmed) side: inside it with a space on each
 * side, or at either end ("== 200" after "[STATUS] == == 200"). */
static const char *second_op(const char *s, size_t n)
{
	for (int i = 0; i < OP_COUNT; i++) {
		const char *name = op_name[i];
		size_t k = strlen(name);

		for (size_t j = 0; j + k <= n; j++) {
			if (memcmp(s + j, name, k))
				continue;
			if ((j == 0 || s[j - 1] == ' ') &&
			    (j + k == n || s[j + k] == ' '))
				return name;
		}
	}
	return NULL;
}

/* "(" against ")" and "[" against "]", in that order of checks. */
static const char *unbalanced(const char *s)
{
	int paren = 0, bracket = 0;

	for (; *s; s++) {
		paren += *s == '(' ? 1 : *s == ')' ? -1 : 0;
		bracket += *s == '[' ? 1 : *s == ']' ? -1 : 0;
		if (paren < 0)
			return "parentheses";
		if (bracket < 0)
			return "brackets";
	}
	return paren ? "parentheses" : bracket ? "brackets" : NULL;
}

static const char *type_name(enum vtype t)
{
	switch (t) {
	case T_INT:
		return "a number";
	case T_BOOL:
		return "true or false";
	case T_RCODE:
		return "a DNS response code";
	case T_IP:
		return "an address";
	default:
		return "text";
	}
}

/* [NAME] and an optional path, in s (NUL-terminated). 1 with o filled, 0
 * when s is not a placeholder at all (a literal such as "[1,2]"), -1 on
 * error. */
static int parse_ref(const char *cond, const char *s, struct operand *o,
		     struct sd_err *err)
{
	const struct placeholder *ph = NULL;
	size_t close, len = strlen(s);
	const char *rest;

	if (s[0] != '[')
		return 0;
	for (close = 1; s[close] && s[close] != ']'; close++)
		if (!is_alpha(s[close]) && s[close] != '_' &&
		    !(close > 1 && is_digit(s[close])))
			return 0;
	if (s[close] != ']' || close == 1)
		return 0;
	/* JSON's own words make an array literal, not a placeholder. */
	if ((close == 5 && !strncmp(s + 1, "true", 4)) ||
	    (close == 6 && !strncmp(s + 1, "false", 5)) ||
	    (close == 5 && !strncmp(s + 1, "null", 4)))
		return 0;
	for (size_t i = 0; i < COUNT(placeholders); i++)
		if (strlen(placeholders[i].name) == close - 1 &&
		    !strncasecmp(s + 1, placeholders[i].name, close - 1))
			ph = &placeholders[i];
	if (!ph) {
		for (size_t i = 0; i < COUNT(unsupported); i++)
			if (strlen(unsupported[i]) == close - 1 &&
			    !strncasecmp(s + 1, unsupported[i], close - 1))
				return cond_error(
					err, cond,
					"placeholder '%.*s' is not supported",
					(int)close + 1, s);
		return cond_error(err, cond,
				  "unknown placeholder '%.*s' (use [STATUS], "
				  "[RESPONSE_TIME], [BODY], [IP], [CONNECTED], "
				  "[CERTIFICATE_EXPIRATION] or [DNS_RCODE])",
				  quote_len(close + 1), s);
	}
	o->ph = ph->ph;
	o->type = ph->type;
	rest = s + close + 1;
	if (!*rest)
		return 1;
	if (ph->ph != COND_USES_BODY)
		return cond_error(err, cond,
				  "'%.*s': only [BODY] takes a path after it",
				  quote_len(len), s);
	if (*rest != '.' && *rest != '[')
		return cond_error(err, cond,
				  "'%.*s': expected '.' or '[' after '%.*s'",
				  quote_len(len), s, (int)close + 1, s);
	if (*rest == '.')
		rest++;
	if (!*rest)
		return cond_error(err, cond, "'%.*s': nothing after the '.'",
				  quote_len(len), s);
	if (jpath_validate(rest, err) < 0) {
		char what[QUOTE_MAX + 64];

		snprintf(what, sizeof(what), "condition '%.*s': malformed path",
			 quote_len(strlen(cond)), cond);
		return err_prefix(err, "%s", what);
	}
	o->path = strdup(rest);
	if (!o->path)
		return err_set(err, SD_EXIT_CANNOT, "out of memory");
	return 1;
}

static int parse_pat(const char *cond, const char *s, size_t n,
		     struct operand *o, struct sd_err *err)
{
	size_t k = 0, slashes = 0;

	o->arg = malloc(n + 1);
	if (!o->arg)
		return err_set(err, SD_EXIT_CANNOT, "out of memory");
	/* Gatus drops '/' from the pattern and the value: Go's
	 * filepath.Match would not let '*' cross it. */
	for (size_t i = 0; i < n; i++)
		if (s[i] != '/')
			o->arg[k++] = s[i];
	o->arg[k] = '\0';
	while (slashes < k && o->arg[k - 1 - slashes] == '\\')
		slashes++;
	if (slashes % 2)
		return cond_error(err, cond,
				  "'%.*s': the pattern ends with '\\'",
				  quote_len(strlen(o->text)), o->text);
	return 0;
}

static int parse_any(const char *cond, const char *s, size_t n,
		     struct operand *o, struct sd_err *err)
{
	const char *p = s, *end = s + n;
	size_t k = 0, left = n;

	trim(&p, &left);
	if (!left)
		return cond_error(err, cond, "empty any()");
	o->arg = malloc(n + 1);
	if (!o->arg)
		return err_set(err, SD_EXIT_CANNOT, "out of memory");
	for (p = s; p <= end;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *opt = p;
		size_t len = (size_t)((comma ? comma : end) - p);

		trim(&opt, &len);
		if (!len)
			return cond_error(err, cond, "empty option in '%.*s'",
					  quote_len(strlen(o->text)), o->text);
		if (o->nopts == COND_MAX_ANY)
			return cond_error(err, cond,
					  "more than %d options in any()",
					  COND_MAX_ANY);
		memcpy(o->arg + k, opt, len);
		o->arg[k + len] = '\0';
		o->opt[o->nopts++] = o->arg + k;
		k += len + 1;
		if (!comma)
			break;
		p = comma + 1;
	}
	return 0;
}

/* One side, trimmed, in s (malloc'd; o owns it from now on). */
static int parse_operand(const char *cond, char *s, struct operand *o,
			 struct sd_err *err)
{
	static const struct {
		const char *name;
		enum kind kind;
	} fns[] = {
		{"len", K_LEN},
		{"has", K_HAS},
		{"pat", K_PAT},
		{"any", K_ANY},
	};
	size_t n = strlen(s), name = 0, close, depth = 0;
	const char *what, *inner;
	size_t inner_len;
	int r;

	o->text = s;
	o->kind = K_LITERAL;
	if ((what = unbalanced(s)))
		return cond_error(err, cond, "unbalanced %s in '%.*s'", what,
				  quote_len(n), s);
	while (is_alpha(s[name]) || s[name] == '_')
		name++;
	if (name && s[name] == '(') {
		for (size_t i = 0; i < COUNT(fns); i++) {
			if (name != 3 || strncasecmp(s, fns[i].name, 3))
				continue;
			if (strncmp(s, fns[i].name, 3))
				return cond_error(
					err, cond,
					"unknown function '%.*s()': function "
					"names are lower case (len, has, pat, "
					"any)",
					(int)name, s);
			o->kind = fns[i].kind;
		}
	}
	if (o->kind == K_LITERAL) {
		r = parse_ref(cond, s, o, err);
		if (r > 0)
			o->kind = K_REF;
		return r < 0 ? -1 : 0;
	}
	for (close = name; s[close]; close++) {
		depth += s[close] == '(';
		if (s[close] == ')' && !--depth)
			break;
	}
	if (close != n - 1)
		return cond_error(err, cond,
				  "text after the closing ')' in '%.*s'",
				  quote_len(n), s);
	inner = s + name + 1;
	inner_len = close - name - 1;
	if (o->kind == K_PAT)
		return parse_pat(cond, inner, inner_len, o, err);
	if (o->kind == K_ANY)
		return parse_any(cond, inner, inner_len, o, err);
	/* len() and has() */
	trim(&inner, &inner_len);
	{
		char *ref = dup_n(inner, inner_len);

		if (!ref)
			return err_set(err, SD_EXIT_CANNOT, "out of memory");
		r = parse_ref(cond, ref, o, err);
		free(ref);
	}
	if (r < 0)
		return -1;
	if (!r)
		return cond_error(err, cond,
				  "%.3s() takes a placeholder such as "
				  "[BODY].items, not '%.*s'",
				  s, quote_len(inner_len), inner);
	o->type = o->kind == K_LEN ? T_INT : T_BOOL;
	return 0;
}

static bool is_placeholder(const struct operand *o)
{
	return o->kind == K_REF || o->kind == K_LEN || o->kind == K_HAS;
}

/* Whether a literal (or an any() option) could ever equal a value of type
 * t. any() compares text exactly, so its numbers must be plain decimals. */
static bool literal_fits(enum vtype t, const char *s, bool exact)
{
	int64_t i;
	char buf[32];

	switch (t) {
	case T_INT:
		if (go_parse_int(s, strlen(s), &i) < 0)
			return false;
		if (!exact)
			return true;
		snprintf(buf, sizeof(buf), "%lld", (long long)i);
		return !strcmp(buf, s);
	case T_BOOL:
		return !strcmp(s, "true") || !strcmp(s, "false");
	case T_RCODE:
		for (size_t k = 0; k < COUNT(rcodes); k++)
			if (!strcmp(s, rcodes[k]))
				return true;
		return false;
	default:
		return true;
	}
}

/* What the two sides must be for the operator. */
static int check_sides(const char *cond, struct cond *c, struct sd_err *err)
{
	struct operand *s = c->side;

	if ((s[0].kind == K_PAT || s[0].kind == K_ANY) &&
	    (s[1].kind == K_PAT || s[1].kind == K_ANY))
		return cond_error(err, cond,
				  "pat() or any() on both sides: one side "
				  "must be a placeholder");
	if (!is_placeholder(&s[0]) && !is_placeholder(&s[1]))
		return cond_error(err, cond,
				  "no placeholder on either side (such as "
				  "[STATUS] or [BODY].status)");
	for (int i = 0; i < 2; i++) {
		struct operand *o = &s[i], *other = &s[1 - i];
		size_t tl = strlen(o->text);
		int r;

		if (c->op == OP_EQ || c->op == OP_NE) {
			if (!is_placeholder(o) || o->type == T_TEXT ||
			    o->type == T_IP)
				continue;
			if (other->kind == K_LITERAL &&
			    !literal_fits(o->type, other->text, false))
				return cond_error(
					err, cond,
					"'%.*s' is %s, so it can never equal "
					"'%.*s'",
					quote_len(tl), o->text,
					type_name(o->type),
					quote_len(strlen(other->text)),
					other->text);
			for (size_t k = 0;
			     other->kind == K_ANY && k < other->nopts; k++)
				if (!literal_fits(o->type, other->opt[k], true))
					return cond_error(
						err, cond,
						"'%.*s' is %s, so it can never "
						"equal '%.*s'",
						quote_len(tl), o->text,
						type_name(o->type),
						quote_len(
							strlen(other->opt[k])),
						other->opt[k]);
			continue;
		}
		if (o->kind == K_PAT || o->kind == K_ANY)
			return cond_error(
				err, cond,
				"%.3s() only works with == and !=", o->text);
		if (is_placeholder(o) && o->type != T_INT && o->type != T_TEXT)
			return cond_error(err, cond,
					  "'%.*s' is %s, not a number: compare "
					  "it with == or !=",
					  quote_len(tl), o->text,
					  type_name(o->type));
		if (o->kind != K_LITERAL)
			continue;
		r = parse_number(o->text, tl, &o->num);
		if (r == -2)
			return cond_error(err, cond, "'%.*s' is too large",
					  quote_len(tl), o->text);
		if (r < 0)
			return cond_error(err, cond,
					  "'%.*s' is neither a number nor a "
					  "duration (e.g. 300, 1.5, 500ms, 2h, "
					  "30d)",
					  quote_len(tl), o->text);
	}
	return 0;
}

static void operand_release(struct operand *o)
{
	free(o->text);
	free(o->path);
	free(o->arg);
}

void cond_free(struct cond *c)
{
	if (!c)
		return;
	operand_release(&c->side[0]);
	operand_release(&c->side[1]);
	free(c->text);
	free(c);
}

struct cond *cond_parse(const char *text, struct sd_err *err)
{
	const char *at, *part[2], *other;
	size_t len, plen[2];
	struct cond *c;

	if (!text)
		text = "";
	len = strlen(text);
	if (len > COND_MAX_LEN) {
		cond_error(err, text, "longer than %d bytes", COND_MAX_LEN);
		return NULL;
	}
	part[0] = text;
	plen[0] = len;
	trim(&part[0], &plen[0]);
	if (!plen[0]) {
		err_set(err, SD_EXIT_USAGE, "empty condition");
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c || !(c->text = strdup(text))) {
		free(c);
		err_set(err, SD_EXIT_CANNOT, "out of memory");
		return NULL;
	}
	at = find_op(text, &c->op);
	if (!at) {
		cond_error(err, text,
			   "no operator (==, !=, <, <=, > or >=, with a space "
			   "on each side)");
		goto fail;
	}
	part[0] = text;
	plen[0] = (size_t)(at - text);
	part[1] = at + strlen(op_name[c->op]) + 2;
	plen[1] = len - (size_t)(part[1] - text);
	for (int i = 0; i < 2; i++) {
		char *s;

		trim(&part[i], &plen[i]);
		if (!plen[i]) {
			cond_error(err, text, "nothing %s of '%s'",
				   i ? "right" : "left", op_name[c->op]);
			goto fail;
		}
		if ((other = second_op(part[i], plen[i]))) {
			cond_error(err, text,
				   "a second operator '%s' in '%.*s'", other,
				   quote_len(plen[i]), part[i]);
			goto fail;
		}
		if (!(s = dup_n(part[i], plen[i]))) {
			err_set(err, SD_EXIT_CANNOT, "out of memory");
			goto fail;
		}
		if (parse_operand(text, s, &c->side[i], err) < 0)
			goto fail;
	}
	if (check_sides(text, c, err) < 0)
		goto fail;
	return c;
fail:
	cond_free(c);
	return NULL;
}

const char *cond_text(const struct cond *c)
{
	return c ? c->text : "";
}

unsigned cond_uses(const struct cond *c)
{
	return c ? c->side[0].ph | c->side[1].ph : 0;
}

void cond_values_init(struct cond_values *v)
{
	memset(v, 0, sizeof(*v));
	v->status = -1;
	v->connected = -1;
	v->cert_expiry_ms = COND_NO_CERT;
}

void cond_values_release(struct cond_values *v)
{
	if (!v)
		return;
	json_decref(v->json);
	v->json = NULL;
	v->json_tried = false;
}

/* ---- evaluation ---- */

/* A resolved placeholder: text (not NUL-terminated), or invalid. */
struct val {
	bool invalid;
	const char *s;
	size_t n;
	char *owned;
	char buf[32];
};

static void val_set_text(struct val *v, const char *s)
{
	v->s = s;
	v->n = strlen(s);
}

static void val_set_int(struct val *v, long long i)
{
	snprintf(v->buf, sizeof(v->buf), "%lld", i);
	val_set_text(v, v->buf);
}

static void val_set_owned(struct val *v, char *s)
{
	if (!s) {
		v->invalid = true;
		return;
	}
	v->owned = s;
	val_set_text(v, s);
}

static json_t *body_json(struct cond_values *v)
{
	json_error_t je;
	size_t flags = JSON_DECODE_ANY | JSON_ALLOW_NUL;

	if (v->json_tried)
		return v->json;
	v->json_tried = true;
	if (!v->body || !v->body_len)
		return NULL;
	v->json = json_loadb(v->body, v->body_len, flags, &je);
	/* Go reads every number as a float64; jansson refuses integers past
	 * int64 unless asked to do the same. */
	if (!v->json && json_error_code(&je) == json_error_numeric_overflow)
		v->json = json_loadb(v->body, v->body_len,
				     flags | JSON_DECODE_INT_AS_REAL, &je);
	return v->json;
}

/* The body without the white space around it, as Gatus's TrimSpace. */
static void body_text(const struct cond_values *v, const char **s, size_t *n)
{
	*s = v->body ? v->body : "";
	*n = v->body ? v->body_len : 0;
	trim(s, n);
}

/* A JSON real as Go's %v would show it, except that integral values stay
 * integers ("1000000", where Go says "1e+06"). */
static char *real_text(double d)
{
	const char *dp = localeconv()->decimal_point;
	size_t dpl = dp && *dp ? strlen(dp) : 0;
	char buf[64], out[64];
	size_t o = 0;
	int prec;

	if (d >= -9007199254740992.0 && d <= 9007199254740992.0 &&
	    d == (double)(int64_t)d) {
		snprintf(buf, sizeof(buf), "%lld", (long long)(int64_t)d);
		return strdup(buf);
	}
	for (prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	for (size_t i = 0; buf[i] && o < sizeof(out) - 1;) {
		if (dpl && !strncmp(buf + i, dp, dpl)) {
			out[o++] = '.';
			i += dpl;
		} else {
			out[o++] = buf[i++];
		}
	}
	out[o] = '\0';
	return strdup(out);
}

/* A JSON value as Gatus shows it: strings raw, numbers and booleans as
 * their text, objects and arrays as minified JSON (keys sorted, as Go's
 * encoding/json writes maps). */
static char *node_text(json_t *node)
{
	/* Never NULL (resolve() returns first). cppcheck takes the NULL
	 * test inside jansson's json_is_string() for a hint that it can be. */
	/* cppcheck-suppress[nullPointerRedundantCheck,ctunullpointer] */
	switch (json_typeof(node)) {
	case JSON_REAL:
		return real_text(json_real_value(node));
	case JSON_OBJECT:
	case JSON_ARRAY:
		return json_dumps(node, JSON_COMPACT | JSON_SORT_KEYS |
						JSON_ENCODE_ANY);
	default:
		return jpath_text(node, NULL);
	}
}

/* The value at a [BODY] path; NULL when it is missing or null (Gatus's
 * jsonpath.Eval fails on both). */
static json_t *body_node(const struct operand *o, struct cond_values *v)
{
	json_t *root = body_json(v), *node;

	if (!root)
		return NULL;
	node = jpath_get(root, o->path, NULL);
	return json_is_null(node) ? NULL : node;
}

/* The value of [NAME] without a path, or invalid when the check has none. */
static void resolve_plain(unsigned ph, const struct cond_values *v,
			  struct val *out)
{
	switch (ph) {
	case COND_USES_STATUS:
		if (v->status < 0)
			out->invalid = true;
		else
			val_set_int(out, v->status);
		break;
	case COND_USES_RESPONSE_TIME:
		val_set_int(out, v->response_time_ms);
		break;
	case COND_USES_CERT:
		if (v->cert_expiry_ms == COND_NO_CERT)
			out->invalid = true;
		else
			val_set_int(out, v->cert_expiry_ms);
		break;
	case COND_USES_IP:
		if (!v->ip || !*v->ip)
			out->invalid = true;
		else
			val_set_text(out, v->ip);
		break;
	case COND_USES_CONNECTED:
		if (v->connected < 0)
			out->invalid = true;
		else
			val_set_text(out, v->connected ? "true" : "false");
		break;
	case COND_USES_DNS_RCODE:
		if (!v->dns_rcode || !*v->dns_rcode)
			out->invalid = true;
		else
			val_set_text(out, v->dns_rcode);
		break;
	default: /* COND_USES_BODY */
		body_text(v, &out->s, &out->n);
		break;
	}
}

static void resolve(const struct operand *o, struct cond_values *v,
		    struct val *out)
{
	json_t *node = NULL;

	if (o->path) {
		node = body_node(o, v);
		if (o->kind == K_HAS) {
			val_set_text(out, node ? "true" : "false");
			return;
		}
		if (!node) {
			out->invalid = true;
			return;
		}
		if (o->kind == K_LEN && json_is_array(node)) {
			val_set_int(out, (long long)json_array_size(node));
			return;
		}
		if (o->kind == K_LEN && json_is_string(node)) {
			val_set_int(out, (long long)json_string_length(node));
			return;
		}
		val_set_owned(out, node_text(node));
	} else {
		resolve_plain(o->ph, v, out);
		if (o->kind == K_HAS) {
			bool has = !out->invalid && out->n > 0;

			out->invalid = false;
			val_set_text(out, has ? "true" : "false");
			return;
		}
		if (o->kind == K_LEN && o->ph == COND_USES_BODY &&
		    json_is_array(body_json(v))) {
			val_set_int(out, (long long)json_array_size(v->json));
			return;
		}
	}
	if (o->kind == K_LEN && !out->invalid)
		val_set_int(out, (long long)out->n);
}

static bool text_equal(const char *a, size_t an, const char *b, size_t bn)
{
	int64_t x, y;

	if (!go_parse_int(a, an, &x) && !go_parse_int(b, bn, &y))
		return x == y;
	return an == bn && !memcmp(a, b, an);
}

/* Gatus's pattern.Match: '/' dropped from the value too; fnmatch(3) in
 * place of Go's filepath.Match. A value with a NUL byte never matches. */
static bool glob_match(const char *pat, const char *s, size_t n)
{
	char *t;
	size_t k = 0;
	bool m;

	if (!strcmp(pat, "*"))
		return true;
	if (memchr(s, '\0', n) || !(t = malloc(n + 1)))
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] != '/')
			t[k++] = s[i];
	t[k] = '\0';
	m = fnmatch(pat, t, 0) == 0;
	free(t);
	return m;
}

static bool matches(const struct operand *fn, const struct val *v)
{
	if (fn->kind == K_PAT)
		return glob_match(fn->arg, v->s, v->n);
	for (size_t k = 0; k < fn->nopts; k++)
		if (strlen(fn->opt[k]) == v->n &&
		    !memcmp(fn->opt[k], v->s, v->n))
			return true;
	return false;
}

/* ---- rendering ---- */

struct out {
	char *buf;
	size_t cap, len;
};

/* Append what fits; control characters become '?' (white space ' '). */
static void put(struct out *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n && o->len + 1 < o->cap; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\t' || ch == '\n' || ch == '\r')
			ch = ' ';
		else if (ch < 0x20 || ch == 0x7f)
			ch = '?';
		o->buf[o->len++] = (char)ch;
	}
	if (o->cap)
		o->buf[o->len] = '\0';
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* Bytes of the first max characters of s (UTF-8; a stray byte counts as
 * one, as Go's %.25s counts runes); *more when s is longer. */
static size_t chars_prefix(const char *s, size_t n, size_t max, bool *more)
{
	size_t i = 0, chars = 0;

	while (i < n && chars < max) {
		size_t k = 1;

		while (k < 4 && i + k < n &&
		       ((unsigned char)s[i + k] & 0xc0) == 0x80 &&
		       ((unsigned char)s[i] & 0xc0) == 0xc0)
			k++;
		i += k;
		chars++;
	}
	*more = i < n;
	return i;
}

/* Gatus's formatDuration without its slip (it drops any trailing "0s" and
 * "0m", so 10s shows as "1" and 2h20m as "2h2"): whole seconds, zero
 * units at the end left out: "336h", "1h30m", "1h0m15s", "45s", "0s". */
static void go_duration_text(int64_t ms, char *buf, size_t n)
{
	uint64_t secs =
		ms < 0 ? (0 - (uint64_t)ms) / 1000 : (uint64_t)ms / 1000;
	unsigned long long h = secs / 3600, m = secs / 60 % 60, s = secs % 60;
	const char *sign = ms < 0 && secs ? "-" : "";

	if (h && !m && !s)
		snprintf(buf, n, "%s%lluh", sign, h);
	else if (h && !s)
		snprintf(buf, n, "%s%lluh%llum", sign, h, m);
	else if (h)
		snprintf(buf, n, "%s%lluh%llum%llus", sign, h, m, s);
	else if (m && !s)
		snprintf(buf, n, "%s%llum", sign, m);
	else if (m)
		snprintf(buf, n, "%s%llum%llus", sign, m, s);
	else
		snprintf(buf, n, "%s%llus", sign, s);
}

static void render_side(struct out *o, const struct cond *c, int i,
			const struct val *v)
{
	const struct operand *op = &c->side[i], *other = &c->side[1 - i];
	bool numeric = c->op != OP_EQ && c->op != OP_NE;

	puts_(o, op->text);
	if (!is_placeholder(op))
		return;
	puts_(o, " (");
	if (v->invalid) {
		puts_(o, "INVALID");
	} else if (numeric && op->kind == K_REF && op->ph == COND_USES_CERT) {
		char buf[64];
		int64_t ms = 0;

		go_parse_int(v->s, v->n, &ms);
		go_duration_text(ms, buf, sizeof(buf));
		puts_(o, buf);
	} else if (other->kind == K_PAT) {
		bool more;
		size_t k = chars_prefix(v->s, v->n, PAT_SHOW, &more);

		put(o, v->s, k);
		if (more)
			puts_(o, "...(truncated)");
	} else {
		put(o, v->s, v->n);
	}
	puts_(o, ")");
}

bool cond_eval(const struct cond *c, struct cond_values *v, char *out, size_t n)
{
	struct val val[2] = {{0}};
	struct out o = {out, out ? n : 0, 0};
	bool ok = false, invalid = false;
	struct num num[2];

	if (o.cap)
		out[0] = '\0';
	if (!c || !v)
		return false;
	for (int i = 0; i < 2; i++) {
		const struct operand *s = &c->side[i];

		if (is_placeholder(s))
			resolve(s, v, &val[i]);
		else
			val_set_text(&val[i], s->text);
		invalid |= val[i].invalid;
	}
	if (invalid) {
		ok = false;
	} else if (c->op == OP_EQ || c->op == OP_NE) {
		const struct operand *s = c->side;
		bool eq;

		if (s[0].kind == K_PAT || s[0].kind == K_ANY)
			eq = matches(&s[0], &val[1]);
		else if (s[1].kind == K_PAT || s[1].kind == K_ANY)
			eq = matches(&s[1], &val[0]);
		else
			eq = text_equal(val[0].s, val[0].n, val[1].s, val[1].n);
		ok = c->op == OP_EQ ? eq : !eq;
	} else {
		bool numeric = true;
		int cmp;

		for (int i = 0; i < 2; i++) {
			if (c->side[i].kind == K_LITERAL)
				num[i] = c->side[i].num;
			else if (parse_number(val[i].s, val[i].n, &num[i]) < 0)
				numeric = false;
		}
		if (numeric) {
			cmp = cmp_num(&num[0], &num[1]);
			ok = c->op == OP_LT   ? cmp < 0
			     : c->op == OP_LE ? cmp <= 0
			     : c->op == OP_GT ? cmp > 0
					      : cmp >= 0;
		}
	}
	render_side(&o, c, 0, &val[0]);
	puts_(&o, " ");
	puts_(&o, op_name[c->op]);
	puts_(&o, " ");
	render_side(&o, c, 1, &val[1]);
	free(val[0].owned);
	free(val[1].owned);
	return ok;
}
