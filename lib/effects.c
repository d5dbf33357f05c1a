/* The effects of a saferun plan; see effects.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "effects.h"
#include "units.h"

static const char *const op_names[EFFECT_N_OPS] = {
	[EFFECT_DELETE] = "delete",
	[EFFECT_CREATE] = "create",
	[EFFECT_MODIFY] = "modify",
	[EFFECT_RENAME] = "rename",
	[EFFECT_MODE] = "mode",
	[EFFECT_OWNER] = "owner",
	[EFFECT_OVERWRITE] = "overwrite",
	[EFFECT_TRUNCATE] = "truncate",
	[EFFECT_DEVICE] = "device",
	[EFFECT_OBJECT] = "object",
	[EFFECT_UNCAPTURED] = "uncaptured",
};

const char *effect_op_name(enum effect_op op)
{
	return op < EFFECT_N_OPS ? op_names[op] : "unknown";
}

int effect_op_parse(const char *name)
{
	for (int i = 0; i < EFFECT_N_OPS; i++)
		if (!strcmp(op_names[i], name))
			return i;
	return -1;
}

static char *dup_or_null(const char *s, bool *failed)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*failed = true;
	return d;
}

int effects_add(struct effects *e, enum effect_op op, const char *path,
		const char *to, char type, uint64_t files, uint64_t bytes,
		const char *detail)
{
	struct effect *x;
	bool failed = false;

	if (e->n == e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 16;
		struct effect *v = realloc(e->v, cap * sizeof(*v));

		if (!v)
			return -1;
		e->v = v;
		e->cap = cap;
	}
	x = &e->v[e->n];
	memset(x, 0, sizeof(*x));
	x->op = op;
	x->type = type;
	x->files = files;
	x->bytes = bytes;
	x->path = dup_or_null(path ? path : "", &failed);
	x->to = dup_or_null(to, &failed);
	x->detail = dup_or_null(detail, &failed);
	if (failed) {
		free(x->path);
		free(x->to);
		free(x->detail);
		return -1;
	}
	e->n++;
	return 0;
}

void effects_release(struct effects *e)
{
	for (size_t i = 0; i < e->n; i++) {
		free(e->v[i].path);
		free(e->v[i].to);
		free(e->v[i].detail);
	}
	free(e->v);
	memset(e, 0, sizeof(*e));
}

static int cmp_effect(const void *a, const void *b)
{
	const struct effect *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	if (c)
		return c;
	return (int)x->op - (int)y->op;
}

void effects_sort(struct effects *e)
{
	if (e->n > 1)
		qsort(e->v, e->n, sizeof(*e->v), cmp_effect);
}

json_t *effects_json(const struct effects *e)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < e->n; i++) {
		const struct effect *x = &e->v[i];
		char type[2] = {x->type ? x->type : '?', 0};
		json_t *o = json_object();

		json_object_set_new(o, "op",
				    json_string(effect_op_name(x->op)));
		json_object_set_new(o, "path", json_string(x->path));
		if (x->to)
			json_object_set_new(o, "to", json_string(x->to));
		json_object_set_new(o, "type", json_string(type));
		json_object_set_new(o, "files",
				    json_integer((json_int_t)x->files));
		json_object_set_new(o, "bytes",
				    json_integer((json_int_t)x->bytes));
		if (x->detail)
			json_object_set_new(o, "detail",
					    json_string(x->detail));
		json_array_append_new(arr, o);
	}
	return arr;
}

static const char *opt_string(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

int effects_from_json(struct effects *e, const json_t *arr, struct sd_err *err)
{
	size_t i;
	const json_t *o;

	if (!json_is_array(arr))
		return err_set(err, SD_EXIT_SAFERUN,
			       "plan: 'effects' is not a list");
	json_array_foreach(arr, i, o)
	{
		const char *op = opt_string(o, "op"),
			   *path = opt_string(o, "path");
		const char *type = opt_string(o, "type");
		const json_t *files = json_object_get(o, "files");
		const json_t *bytes = json_object_get(o, "bytes");
		int n = op ? effect_op_parse(op) : -1;

		if (n < 0 || !path || !type || strlen(type) != 1 ||
		    !json_is_integer(files) || !json_is_integer(bytes) ||
		    json_integer_value(files) < 0 ||
		    json_integer_value(bytes) < 0)
			return err_set(err, SD_EXIT_SAFERUN,
				       "plan: effect %zu is not valid", i + 1);
		if (effects_add(e, (enum effect_op)n, path, opt_string(o, "to"),
				type[0], (uint64_t)json_integer_value(files),
				(uint64_t)json_integer_value(bytes),
				opt_string(o, "detail")) < 0)
			return err_set(err, SD_EXIT_SAFERUN, "out of memory");
	}
	return 0;
}

void effects_totals(const struct effects *e, struct effects_totals *t)
{
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < e->n; i++) {
		const struct effect *x = &e->v[i];

		if (x->op < EFFECT_N_OPS)
			t->n[x->op]++;
		if (x->op == EFFECT_DELETE) {
			t->deleted_files += x->files ? x->files : 1;
			t->deleted_bytes += x->bytes;
		}
	}
}

/* A growing text buffer for the summary. */
struct text {
	char *s;
	size_t len, cap;
	bool failed;
};

static void text_add(struct text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int need;

	if (t->failed)
		return;
	va_start(ap, fmt);
	need = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (need < 0) {
		t->failed = true;
		return;
	}
	if (t->len + (size_t)need + 1 > t->cap) {
		size_t cap = (t->len + (size_t)need + 1) * 2;
		char *s = realloc(t->s, cap);

		if (!s) {
			t->failed = true;
			return;
		}
		t->s = s;
		t->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
	va_end(ap);
	t->len += (size_t)need;
}

/* The length of the directory part that a and b share ("/a/b/c" and
 * "/a/b/d" share "/a/b": 4). */
static size_t common_dir(const char *a, size_t alen, const char *b)
{
	size_t i = 0, last = 0;

	while (i < alen && a[i] && a[i] == b[i]) {
		if (a[i] == '/')
			last = i;
		i++;
	}
	/* One path is the other's parent, or they are the same. */
	if (i == alen && (b[i] == '/' || b[i] == 0))
		return alen;
	return last;
}

static const char *verb(enum effect_op op)
{
	switch (op) {
	case EFFECT_DELETE:
		return "delete";
	case EFFECT_CREATE:
		return "create";
	case EFFECT_MODIFY:
		return "modify";
	case EFFECT_RENAME:
		return "rename";
	case EFFECT_MODE:
		return "change the mode of";
	case EFFECT_OWNER:
		return "change the owner of";
	case EFFECT_OVERWRITE:
		return "overwrite";
	case EFFECT_TRUNCATE:
		return "truncate";
	case EFFECT_DEVICE:
		return "write to";
	case EFFECT_OBJECT:
		return "change";
	case EFFECT_UNCAPTURED:
	case EFFECT_N_OPS:
		break;
	}
	return "write, not captured,";
}

static const char *noun(char type, uint64_t n)
{
	switch (type) {
	case 'd':
		return n == 1 ? "directory" : "directories";
	case 'o':
		return n == 1 ? "object" : "objects";
	case 'b':
		return n == 1 ? "device" : "devices";
	default:
		return n == 1 ? "file" : "files";
	}
}

/* path as shown: relative to base when it lies below it. */
static const char *shown(const char *path, const char *base, size_t len)
{
	size_t n = base ? strlen(base) : 0;

	if (!n || (n == 1 && base[0] == '/'))
		return path;
	if (len >= n && !strncmp(path, base, n)) {
		if (len == n)
			return ".";
		if (path[n] == '/' && len > n + 1)
			return path + n + 1;
	}
	return path;
}

static void one_line(struct text *t, const struct effect *x, const char *base)
{
	char bytes[32] = "";

	if ((x->op == EFFECT_DELETE || x->op == EFFECT_CREATE) &&
	    x->type == 'd') {
		char n[32];

		units_format_count(x->files, n, sizeof(n));
		units_format_size(x->bytes, bytes, sizeof(bytes));
		text_add(t, "  %-9s %s/ (%s %s, %s)\n", effect_op_name(x->op),
			 shown(x->path, base, strlen(x->path)), n,
			 noun('f', x->files), bytes);
		return;
	}
	text_add(t, "  %-9s %s%s%s", effect_op_name(x->op),
		 shown(x->path, base, strlen(x->path)), x->to ? " -> " : "",
		 x->to ? shown(x->to, base, strlen(x->to)) : "");
	if (x->detail)
		text_add(t, " (%s)", x->detail);
	else if (x->op == EFFECT_DELETE || x->op == EFFECT_CREATE ||
		 x->op == EFFECT_MODIFY) {
		units_format_size(x->bytes, bytes, sizeof(bytes));
		text_add(t, " (%s)", bytes);
	}
	text_add(t, "\n");
}

char *effects_summary(const struct effects *e, bool full, size_t max_lines,
		      const char *base)
{
	struct text t = {0};
	size_t lines = 0, hidden = 0;

	if (e->n == 0)
		text_add(&t, "no changes\n");
	if (full) {
		for (size_t i = 0; i < e->n; i++)
			one_line(&t, &e->v[i], base);
		return t.failed ? (free(t.s), NULL) : t.s;
	}
	/* One line per kind of effect, over the deepest directory its paths
	 * share. Objects and devices are named one by one (there are few,
	 * and each matters), up to the line budget. */
	for (int op = 0; op < EFFECT_N_OPS; op++) {
		uint64_t count = 0, bytes = 0;
		const char *first = NULL;
		size_t shared = 0, n = 0;
		char type = 0;
		char num[32], size[32];

		for (size_t i = 0; i < e->n; i++) {
			const struct effect *x = &e->v[i];

			if ((int)x->op != op)
				continue;
			if (x->type == 'o' || x->type == 'b' ||
			    op == EFFECT_RENAME || op == EFFECT_UNCAPTURED) {
				if (lines < max_lines || !max_lines) {
					one_line(&t, x, base);
					lines++;
				} else {
					hidden++;
				}
				continue;
			}
			count += (op == EFFECT_DELETE || op == EFFECT_CREATE) &&
						 x->files
					 ? x->files
					 : 1;
			bytes += x->bytes;
			n++;
			type = !type || type == x->type ? x->type : 'f';
			if (!first) {
				first = x->path;
				shared = strlen(first);
			} else {
				shared = common_dir(first, shared, x->path);
			}
		}
		if (!n)
			continue;
		if (max_lines && lines >= max_lines) {
			hidden += n;
			continue;
		}
		lines++;
		units_format_count(count, num, sizeof(num));
		units_format_size(bytes, size, sizeof(size));
		if ((op == EFFECT_DELETE || op == EFFECT_CREATE) && type == 'd')
			type = 'f'; /* the count is of files inside */
		text_add(&t, "would %s %s %s", verb((enum effect_op)op), num,
			 noun(type, count));
		if (op == EFFECT_DELETE || op == EFFECT_CREATE ||
		    op == EFFECT_MODIFY || op == EFFECT_TRUNCATE)
			text_add(&t, " (%s)", size);
		if (n == 1) {
			text_add(&t, ": %s\n",
				 shown(first, base, strlen(first)));
		} else if (!shared) {
			text_add(&t, " under /\n");
		} else {
			const char *d = shown(first, base, shared);

			if (!strcmp(d, "."))
				text_add(&t, " under ./\n");
			else
				text_add(&t, " under %.*s\n",
					 (int)(shared - (size_t)(d - first)),
					 d);
		}
	}
	if (hidden)
		text_add(&t, "and %zu more (--full shows every path)\n",
			 hidden);
	return t.failed ? (free(t.s), NULL) : t.s;
}
