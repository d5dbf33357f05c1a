/* YAML to jansson through libyaml's event parser: the one place libyaml is
 * used, so that the rest of the suite only ever sees JSON values. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "config.h"

/* No configuration nests this deep; the limit keeps the recursion below (and
 * jansson's, later) well inside the stack. */
#define YAML_MAX_DEPTH 256
/* Nodes brought in by aliases, over the whole document: plenty for any real
 * file, far too few for a "billion laughs" of nested aliases. */
#define YAML_MAX_EXPANSIONS 10000
/* Text (scalars and keys) brought in by aliases, over the whole document: a
 * node count alone lets a few aliases of one long scalar copy it thousands of
 * times (a 50 KB file became 400 MB). As much as a configuration file may
 * hold is plenty. */
#define YAML_MAX_EXPANDED_BYTES (4u << 20)

enum ynode_kind { YN_SCALAR, YN_SEQ, YN_MAP, YN_ALIAS };

enum ytag { TAG_NONE, TAG_STR, TAG_NULL, TAG_BOOL, TAG_INT, TAG_FLOAT };

/* The first pass keeps the events as this tree, so that the second can
 * expand an alias with the line and column of every node it brings in. */
struct ynode {
	enum ynode_kind kind;
	enum ytag tag;
	bool plain;
	size_t line, col;
	char *value; /* a scalar's text, NUL-terminated */
	size_t len;
	struct ynode **kids; /* items; or key, value, key, value… */
	size_t nkids, cap;
	struct ynode *target; /* what an alias names */
	size_t index;	      /* in yctx.nodes */
};

struct yctx {
	yaml_parser_t parser;
	bool parser_ready;
	const char *text;
	size_t len;
	const char *name;
	struct sd_err *err;
	struct ynode **nodes; /* every node, to free them in one place */
	size_t nnodes, cap;
	json_t *anchors;       /* anchor name -> index in nodes */
	size_t expanded;       /* nodes brought in by aliases */
	size_t expanded_bytes; /* and their text */
};

static int yerr(struct yctx *c, size_t line, size_t col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int yerr(struct yctx *c, size_t line, size_t col, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(c->err, SD_EXIT_CANNOT, "%s:%zu:%zu: %s", c->name, line,
		       col, msg);
}

static int oom(struct yctx *c)
{
	return err_set(c->err, SD_EXIT_CANNOT, "%s: out of memory", c->name);
}

/* Count len bytes of text brought in by the alias via (if any). */
static int expand_text(struct yctx *c, const struct ynode *via, size_t len)
{
	if (!via)
		return 0;
	c->expanded_bytes += len;
	if (c->expanded_bytes > YAML_MAX_EXPANDED_BYTES)
		return yerr(c, via->line, via->col,
			    "too much text brought in by aliases (more than "
			    "%u bytes)",
			    YAML_MAX_EXPANDED_BYTES);
	return 0;
}

static int parser_error(struct yctx *c)
{
	const yaml_parser_t *p = &c->parser;
	size_t line = 1, col = 1;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return oom(c);
	case YAML_READER_ERROR:
		/* Encoding errors carry a byte offset, not a mark. */
		for (size_t i = 0; i < p->problem_offset && i < c->len; i++) {
			if (c->text[i] == '\n') {
				line++;
				col = 1;
			} else {
				col++;
			}
		}
		if (p->problem_value != -1)
			return yerr(c, line, col, "%s (byte 0x%02x)",
				    p->problem ? p->problem : "invalid input",
				    (unsigned)p->problem_value);
		return yerr(c, line, col, "%s",
			    p->problem ? p->problem : "invalid input");
	default:
		return yerr(
			c, p->problem_mark.line + 1, p->problem_mark.column + 1,
			"%s%s%s", p->problem ? p->problem : "invalid yaml",
			p->context ? " " : "", p->context ? p->context : "");
	}
}

static int next_event(struct yctx *c, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&c->parser, ev))
		return parser_error(c);
	return 0;
}

static struct ynode *node_new(struct yctx *c, enum ynode_kind kind,
			      const yaml_mark_t *mark)
{
	struct ynode *n;

	if (c->nnodes == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct ynode **bigger =
			realloc(c->nodes, cap * sizeof(*bigger));

		if (!bigger)
			return NULL;
		c->nodes = bigger;
		c->cap = cap;
	}
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->kind = kind;
	n->index = c->nnodes;
	n->line = mark->line + 1;
	n->col = mark->column + 1;
	c->nodes[c->nnodes++] = n;
	return n;
}

static int node_add(struct ynode *parent, struct ynode *kid)
{
	if (parent->nkids == parent->cap) {
		size_t cap = parent->cap ? parent->cap * 2 : 8;
		struct ynode **bigger =
			realloc(parent->kids, cap * sizeof(*bigger));

		if (!bigger)
			return -1;
		parent->kids = bigger;
		parent->cap = cap;
	}
	parent->kids[parent->nkids++] = kid;
	return 0;
}

static enum ytag tag_kind(const yaml_char_t *tag)
{
	static const struct {
		const char *name;
		enum ytag kind;
	} tags[] = {
		{"!", TAG_STR},
		{YAML_STR_TAG, TAG_STR},
		{YAML_NULL_TAG, TAG_NULL},
		{YAML_BOOL_TAG, TAG_BOOL},
		{YAML_INT_TAG, TAG_INT},
		{YAML_FLOAT_TAG, TAG_FLOAT},
	};

	if (!tag)
		return TAG_NONE;
	for (size_t i = 0; i < sizeof(tags) / sizeof(*tags); i++)
		if (!strcmp((const char *)tag, tags[i].name))
			return tags[i].kind;
	/* Application tags mean nothing here: the value is read by its style. */
	return TAG_NONE;
}

/* Pass one: ev (owned by the caller) starts a node; read the rest of it. */
static int node_load(struct yctx *c, const yaml_event_t *ev, int depth,
		     struct ynode **out)
{
	const yaml_char_t *anchor = NULL;
	enum yaml_event_type_e end;
	struct ynode *n;
	json_t *slot;

	if (depth > YAML_MAX_DEPTH)
		return yerr(c, ev->start_mark.line + 1,
			    ev->start_mark.column + 1,
			    "nesting too deep (more than %d levels)",
			    YAML_MAX_DEPTH);
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		n = node_new(c, YN_SCALAR, &ev->start_mark);
		if (!n)
			return oom(c);
		n->len = ev->data.scalar.length;
		n->value = malloc(n->len + 1);
		if (!n->value)
			return oom(c);
		memcpy(n->value, ev->data.scalar.value, n->len);
		n->value[n->len] = '\0';
		n->tag = tag_kind(ev->data.scalar.tag);
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		anchor = ev->data.scalar.anchor;
		break;
	case YAML_ALIAS_EVENT:
		/* An anchor is known once its node is complete, so an alias
		 * can never point into its own node: there are no cycles. */
		slot = json_object_get(c->anchors,
				       (const char *)ev->data.alias.anchor);
		if (!slot)
			return yerr(c, ev->start_mark.line + 1,
				    ev->start_mark.column + 1,
				    "unknown anchor '%s'",
				    (const char *)ev->data.alias.anchor);
		n = node_new(c, YN_ALIAS, &ev->start_mark);
		if (!n)
			return oom(c);
		n->target = c->nodes[json_integer_value(slot)];
		*out = n;
		return 0;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (ev->type == YAML_SEQUENCE_START_EVENT) {
			n = node_new(c, YN_SEQ, &ev->start_mark);
			anchor = ev->data.sequence_start.anchor;
			end = YAML_SEQUENCE_END_EVENT;
		} else {
			n = node_new(c, YN_MAP, &ev->start_mark);
			anchor = ev->data.mapping_start.anchor;
			end = YAML_MAPPING_END_EVENT;
		}
		if (!n)
			return oom(c);
		for (;;) {
			yaml_event_t kid_ev;
			struct ynode *kid = NULL;
			int r;

			if (next_event(c, &kid_ev) < 0)
				return -1;
			if (kid_ev.type == end) {
				yaml_event_delete(&kid_ev);
				break;
			}
			r = node_load(c, &kid_ev, depth + 1, &kid);
			yaml_event_delete(&kid_ev);
			if (r < 0)
				return -1;
			if (node_add(n, kid) < 0)
				return oom(c);
		}
		break;
	default:
		return yerr(c, ev->start_mark.line + 1,
			    ev->start_mark.column + 1, "unexpected yaml event");
	}
	if (anchor &&
	    json_object_set_new(c->anchors, (const char *)anchor,
				json_integer((json_int_t)n->index)) < 0)
		return oom(c);
	*out = n;
	return 0;
}

static char *path_key(const char *prefix, const char *key)
{
	size_t p = strlen(prefix), k = strlen(key);
	char *s = malloc(p + k + 2);

	if (!s)
		return NULL;
	memcpy(s, prefix, p);
	if (p)
		s[p++] = '.';
	memcpy(s + p, key, k + 1);
	return s;
}

static char *path_index(const char *prefix, size_t i)
{
	size_t n = strlen(prefix) + 24;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, "%s[%zu]", prefix, i);
	return s;
}

static int origin_set(struct yctx *c, json_t *origins, const char *path,
		      const struct ynode *n)
{
	char buf[PATH_MAX + 64];

	snprintf(buf, sizeof(buf), "%s:%zu:%zu", c->name, n->line, n->col);
	if (json_object_set_new(origins, path, json_string(buf)) < 0)
		return oom(c);
	return 0;
}

static bool all_of(const char *s, const char *end, const char *set)
{
	if (s == end)
		return false;
	for (; s < end; s++)
		if (!strchr(set, *s))
			return false;
	return true;
}

static bool is_one_of(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (!strcmp(s, *words))
			return true;
	return false;
}

/* [-+]? ( "." DIGITS | DIGITS ( "." DIGITS? )? ) ( [eE] [-+]? DIGITS )? */
static bool is_float(const char *s)
{
	const char *digits = "0123456789";
	size_t n;
	bool mantissa = false;

	if (*s == '-' || *s == '+')
		s++;
	n = strspn(s, digits);
	mantissa = n > 0;
	s += n;
	if (*s == '.') {
		s++;
		n = strspn(s, digits);
		mantissa = mantissa || n > 0;
		s += n;
	}
	if (!mantissa)
		return false;
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '-' || *s == '+')
			s++;
		n = strspn(s, digits);
		if (!n)
			return false;
		s += n;
	}
	return !*s;
}

/* A plain scalar under the YAML 1.2 core schema. *kind tells which of the
 * core tags it resolved to, for an explicit tag to be checked against. */
static int scalar_resolve(struct yctx *c, const struct ynode *n, json_t **out,
			  enum ytag *kind)
{
	static const char *const nulls[] = {"",	    "~",    "null",
					    "Null", "NULL", NULL};
	static const char *const trues[] = {"true", "True", "TRUE", NULL};
	static const char *const falses[] = {"false", "False", "FALSE", NULL};
	const char *s = n->value, *end = n->value + n->len;
	const char *hex = "0123456789abcdefABCDEF";
	const char *dec = "0123456789";
	int base = 0;

	*out = NULL;
	*kind = TAG_STR;
	if (strlen(s) != n->len) {
		/* Only a quoted scalar can hold a NUL; it stays a string. */
	} else if (is_one_of(s, nulls)) {
		*kind = TAG_NULL;
		*out = json_null();
	} else if (is_one_of(s, trues) || is_one_of(s, falses)) {
		*kind = TAG_BOOL;
		*out = json_boolean(is_one_of(s, trues));
	} else if (s[0] == '0' && s[1] == 'x' && all_of(s + 2, end, hex)) {
		base = 16;
		s += 2;
	} else if (s[0] == '0' && s[1] == 'o' &&
		   all_of(s + 2, end, "01234567")) {
		base = 8;
		s += 2;
	} else if (all_of(s + (*s == '-' || *s == '+'), end, dec)) {
		base = 10;
	} else if (is_float(s)) {
		char *stop;
		double d;

		errno = 0;
		d = strtod(s, &stop);
		if (*stop) {
			/* Not this locale's number: keep the text. */
		} else if (isinf(d)) {
			return yerr(c, n->line, n->col,
				    "number '%.64s' out of range", n->value);
		} else {
			*kind = TAG_FLOAT;
			*out = json_real(d);
		}
	}
	/* .inf and .nan stay strings: JSON (and jansson) has no such numbers. */
	if (base) {
		char *stop;

		errno = 0;
		if (base == 10) {
			long long v = strtoll(s, &stop, 10);

			if (errno == ERANGE)
				return yerr(c, n->line, n->col,
					    "integer '%.64s' out of range",
					    n->value);
			*out = json_integer(v);
		} else {
			unsigned long long v = strtoull(s, &stop, base);

			if (errno == ERANGE ||
			    v > (unsigned long long)INT64_MAX)
				return yerr(c, n->line, n->col,
					    "integer '%.64s' out of range",
					    n->value);
			*out = json_integer((json_int_t)v);
		}
		*kind = TAG_INT;
	}
	if (!*out) {
		*kind = TAG_STR;
		*out = json_stringn(n->value, n->len);
	}
	if (!*out)
		return yerr(c, n->line, n->col, "invalid utf-8 in a string");
	return 0;
}

static int scalar_to_json(struct yctx *c, const struct ynode *n, json_t **out)
{
	static const char *const tag_names[] = {
		[TAG_NULL] = "!!null",
		[TAG_BOOL] = "!!bool",
		[TAG_INT] = "!!int",
		[TAG_FLOAT] = "!!float",
	};
	enum ytag kind;

	if (n->tag == TAG_STR || (n->tag == TAG_NONE && !n->plain)) {
		*out = json_stringn(n->value, n->len);
		if (!*out)
			return yerr(c, n->line, n->col,
				    "invalid utf-8 in a string");
		return 0;
	}
	if (scalar_resolve(c, n, out, &kind) < 0)
		return -1;
	if (n->tag == TAG_NONE || n->tag == kind)
		return 0;
	if (n->tag == TAG_FLOAT && kind == TAG_INT) {
		json_t *real = json_real((double)json_integer_value(*out));

		json_decref(*out);
		*out = real;
		return 0;
	}
	json_decref(*out);
	*out = NULL;
	return yerr(c, n->line, n->col, "'%.64s' is not a valid %s", n->value,
		    tag_names[n->tag]);
}

static int node_to_json(struct yctx *c, const struct ynode *n, const char *path,
			int depth, const struct ynode *via, json_t *origins,
			json_t **out);

/* Add the pairs of mapping n to obj, skipping keys obj already has: called
 * first for a mapping's own keys, then for what its "<<" merges in, so that
 * explicit keys win, then earlier merged mappings over later ones. */
static int map_fill(struct yctx *c, json_t *obj, const struct ynode *n,
		    const char *path, int depth, const struct ynode *via,
		    json_t *origins)
{
	const struct ynode *merge = NULL, *src;
	json_t *seen = json_object();
	int rc = -1;

	if (!seen)
		return oom(c);
	if (depth > YAML_MAX_DEPTH) {
		yerr(c, n->line, n->col,
		     "nesting too deep (more than %d levels)", YAML_MAX_DEPTH);
		goto out;
	}
	for (size_t i = 0; i + 1 < n->nkids; i += 2) {
		const struct ynode *k = n->kids[i], *v = n->kids[i + 1];
		const struct ynode *kt = k->kind == YN_ALIAS ? k->target : k;
		char *kpath = NULL;
		json_t *val;

		if (kt->kind != YN_SCALAR) {
			yerr(c, k->line, k->col,
			     "a mapping key must be a scalar, not a %s",
			     kt->kind == YN_MAP ? "mapping" : "list");
			goto out;
		}
		if (strlen(kt->value) != kt->len) {
			yerr(c, k->line, k->col,
			     "a mapping key must not contain a nul character");
			goto out;
		}
		if (json_object_get(seen, kt->value)) {
			yerr(c, k->line, k->col, "duplicate key '%s'",
			     kt->value);
			goto out;
		}
		if (json_object_set_new(seen, kt->value, json_true()) < 0) {
			yerr(c, k->line, k->col, "invalid utf-8 in a key");
			goto out;
		}
		if (k == kt && kt->plain && kt->tag == TAG_NONE &&
		    !strcmp(kt->value, "<<")) {
			merge = v;
			continue;
		}
		if (json_object_get(obj, kt->value))
			continue;
		if (expand_text(c, via, kt->len) < 0)
			goto out;
		if (origins && !(kpath = path_key(path, kt->value))) {
			oom(c);
			goto out;
		}
		/* Where the key was written: what a reader of a message looks for. */
		if ((origins && origin_set(c, origins, kpath, k) < 0) ||
		    node_to_json(c, v, kpath, depth + 1, via, origins, &val) <
			    0) {
			free(kpath);
			goto out;
		}
		free(kpath);
		if (json_object_set_new(obj, kt->value, val) < 0) {
			oom(c);
			goto out;
		}
	}
	rc = 0;
	if (!merge)
		goto out;
	src = merge->kind == YN_ALIAS ? merge->target : merge;
	if (merge->kind == YN_ALIAS && !via)
		via = merge;
	if (src->kind == YN_MAP) {
		if (via && ++c->expanded > YAML_MAX_EXPANSIONS)
			goto too_many;
		rc = map_fill(c, obj, src, path, depth + 1, via, origins);
		goto out;
	}
	if (src->kind != YN_SEQ)
		goto bad_merge;
	for (size_t i = 0; i < src->nkids; i++) {
		const struct ynode *item = src->kids[i];
		const struct ynode *item_via = via;

		if (item->kind == YN_ALIAS) {
			if (!item_via)
				item_via = item;
			item = item->target;
		}
		if (item->kind != YN_MAP) {
			merge = src->kids[i];
			goto bad_merge;
		}
		if (item_via && ++c->expanded > YAML_MAX_EXPANSIONS)
			goto too_many;
		rc = map_fill(c, obj, item, path, depth + 1, item_via, origins);
		if (rc < 0)
			goto out;
	}
	goto out;
bad_merge:
	rc = yerr(c, merge->line, merge->col,
		  "a merge key '<<' takes a mapping or a list of mappings");
	goto out;
too_many:
	rc = yerr(c, via->line, via->col,
		  "too many alias expansions (more than %d nodes)",
		  YAML_MAX_EXPANSIONS);
out:
	json_decref(seen);
	return rc;
}

/* Pass two. via is the alias being expanded, if any: what it brings in is
 * counted against YAML_MAX_EXPANSIONS. path is NULL when origins is. */
static int node_to_json(struct yctx *c, const struct ynode *n, const char *path,
			int depth, const struct ynode *via, json_t *origins,
			json_t **out)
{
	json_t *v;

	*out = NULL;
	if (n->kind == YN_ALIAS)
		return node_to_json(c, n->target, path, depth, via ? via : n,
				    origins, out);
	if (via && ++c->expanded > YAML_MAX_EXPANSIONS)
		return yerr(c, via->line, via->col,
			    "too many alias expansions (more than %d nodes)",
			    YAML_MAX_EXPANSIONS);
	if (depth > YAML_MAX_DEPTH)
		return yerr(c, n->line, n->col,
			    "nesting too deep (more than %d levels)",
			    YAML_MAX_DEPTH);
	switch (n->kind) {
	case YN_SCALAR:
		if (expand_text(c, via, n->len) < 0)
			return -1;
		return scalar_to_json(c, n, out);
	case YN_SEQ:
		v = json_array();
		if (!v)
			return oom(c);
		for (size_t i = 0; i < n->nkids; i++) {
			char *ipath = NULL;
			json_t *item;
			int r;

			if (origins && !(ipath = path_index(path, i))) {
				json_decref(v);
				return oom(c);
			}
			r = node_to_json(c, n->kids[i], ipath, depth + 1, via,
					 origins, &item);
			free(ipath);
			if (r < 0 || json_array_append_new(v, item) < 0) {
				json_decref(v);
				return r < 0 ? -1 : oom(c);
			}
		}
		*out = v;
		return 0;
	case YN_MAP:
		v = json_object();
		if (!v)
			return oom(c);
		if (map_fill(c, v, n, path, depth, via, origins) < 0) {
			json_decref(v);
			return -1;
		}
		*out = v;
		return 0;
	default:
		return yerr(c, n->line, n->col, "unexpected yaml node");
	}
}

static void yctx_release(struct yctx *c)
{
	if (c->parser_ready)
		yaml_parser_delete(&c->parser);
	for (size_t i = 0; i < c->nnodes; i++) {
		free(c->nodes[i]->value);
		free(c->nodes[i]->kids);
		free(c->nodes[i]);
	}
	free(c->nodes);
	json_decref(c->anchors);
}

int yaml_to_json(const char *text, size_t len, const char *name,
		 const char *prefix, json_t **out, json_t *origins,
		 struct sd_err *err)
{
	struct yctx c = {0};
	struct ynode *root = NULL;
	bool have_doc = false, done = false;
	int rc = -1;

	*out = NULL;
	c.text = text;
	c.len = len;
	c.name = name ? name : "-";
	c.err = err;
	c.anchors = json_object();
	if (!c.anchors || !yaml_parser_initialize(&c.parser)) {
		oom(&c);
		goto out;
	}
	c.parser_ready = true;
	yaml_parser_set_input_string(&c.parser, (const unsigned char *)text,
				     len);
	while (!done) {
		yaml_event_t ev;
		int r = 0;

		if (next_event(&c, &ev) < 0)
			goto out;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (have_doc)
				r = yerr(&c, ev.start_mark.line + 1,
					 ev.start_mark.column + 1,
					 "more than one document (a "
					 "configuration file holds one)");
			have_doc = true;
			break;
		case YAML_SCALAR_EVENT:
		case YAML_ALIAS_EVENT:
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			r = node_load(&c, &ev, 0, &root);
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
		if (r < 0)
			goto out;
	}
	if (!root) {
		*out = json_null();
		rc = 0;
		goto out;
	}
	rc = node_to_json(&c, root, origins ? (prefix ? prefix : "") : NULL, 0,
			  NULL, origins, out);
out:
	yctx_release(&c);
	return rc;
}
