/* saferun's file and git commands (see tools.h): rm, find -delete, rsync
 * with a delete option, git clean, git reset --hard, chmod, chown, chgrp,
 * mv, cp and truncate. find, rsync and git run their own dry run and the
 * output is parsed, strictly (a line that is not understood is an error,
 * never a guess); the others are emulated from the filesystem, their
 * options read the way the tool itself reads them (GNU getopt_long: bundled
 * short options, abbreviated long ones, options after operands unless
 * POSIXLY_CORRECT is set), so that an option the tool does not know is an
 * error here too. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fprint.h"
#include "fsutil.h"
#include "rmtree.h"
#include "shquote.h"
#include "units.h"
#include "tools.h"

/* What a native dry run may print before it is refused as too much. */
#define CAPTURE_MAX ((size_t)256 << 20)

/* ---------------------------------------------------------------------
 * Small helpers shared by every planning function.
 */

static int oom(struct sd_err *err)
{
	return err_set(err, SD_EXIT_SAFERUN, "out of memory");
}

static char *xasprintf(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

static bool streq(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

static char type_of(mode_t m)
{
	return S_ISDIR(m)   ? 'd'
	       : S_ISREG(m) ? 'f'
	       : S_ISLNK(m) ? 'l'
	       : S_ISBLK(m) ? 'b'
			    : 's';
}

static int plan_begin(struct tool_plan *p, enum fidelity f, struct sd_err *err)
{
	p->fidelity = f;
	if (!p->targets)
		p->targets = json_array();
	if (!p->facts)
		p->facts = json_object();
	return p->targets && p->facts ? 0 : oom(err);
}

static int add_effect(struct tool_plan *p, struct sd_err *err,
		      enum effect_op op, const char *path, const char *to,
		      char type, uint64_t files, uint64_t bytes,
		      const char *detail)
{
	if (effects_add(&p->effects, op, path, to, type, files, bytes, detail) <
	    0)
		return oom(err);
	return 0;
}

/* A JSON string of any bytes: a name that is not UTF-8 gets its bytes
 * above 0x7f written as \xNN, so that it is shown rather than lost. */
static json_t *json_text(const char *s)
{
	json_t *j = json_string(s);
	char *esc, *o;

	if (j || !(esc = malloc(4 * strlen(s) + 1)))
		return j;
	for (o = esc; *s; s++)
		if ((unsigned char)*s < 0x80)
			*o++ = *s;
		else
			o += sprintf(o, "\\x%02x", (unsigned char)*s);
	*o = 0;
	j = json_string(esc);
	free(esc);
	return j;
}

/* Append a sentence to the array facts[key] ("errors": what the real
 * command would report and skip; "notes": what else it would say). */
static int fact_line(struct tool_plan *p, struct sd_err *err, const char *key,
		     const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fact_line(struct tool_plan *p, struct sd_err *err, const char *key,
		     const char *fmt, ...)
{
	json_t *arr = json_object_get(p->facts, key);
	va_list ap;
	char *s = NULL;

	if (!arr) {
		arr = json_array();
		if (!arr || json_object_set_new(p->facts, key, arr) < 0)
			return oom(err);
	}
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (!s || json_array_append_new(arr, json_text(s)) < 0) {
		free(s);
		return oom(err);
	}
	free(s);
	return 0;
}

#define NOTE_ERROR(p, err, ...) fact_line(p, err, "errors", __VA_ARGS__)

/* Record the fingerprint of path once (a second request for the same path
 * only upgrades it to deep). */
static int add_target(struct tool_plan *p, const char *path, bool deep,
		      struct sd_err *err)
{
	size_t i;
	json_t *t, *f;

	json_array_foreach(p->targets, i, t)
	{
		if (!streq(json_string_value(json_object_get(t, "path")), path))
			continue;
		if (!deep || json_object_get(t, "digest") ||
		    !streq(json_string_value(json_object_get(t, "type")),
			   "directory"))
			return 0;
		if (!(f = fprint_path(path, true, err)))
			return -1;
		json_array_set_new(p->targets, i, f);
		return 0;
	}
	if (!(f = fprint_path(path, deep, err)))
		return -1;
	if (json_array_append_new(p->targets, f) < 0)
		return oom(err);
	return 0;
}

/* The path as the tool sees it: relative to the command's directory, as
 * typed otherwise (a trailing slash matters: it follows a symlink). */
static char *at_cwd(const struct tool_ctx *c, const char *path)
{
	if (path[0] == '/' || !c->cwd || !*c->cwd)
		return strdup(path);
	return xasprintf("%s%s%s", c->cwd,
			 c->cwd[strlen(c->cwd) - 1] == '/' ? "" : "/", path);
}

/* Lexical clean-up of an absolute path: no empty or "." components, no
 * trailing slash (".." kept: a symlink before it decides where it leads).
 * In place. */
static void lexical_clean(char *path)
{
	char *out = path + 1, *in = path;

	if (path[0] != '/')
		return;
	/* Each component is written with the slash before it: out never
	 * passes in. */
	while (*in) {
		size_t len;

		while (*in == '/')
			in++;
		if (!*in)
			break;
		len = strcspn(in, "/");
		if (len != 1 || in[0] != '.') {
			if (out > path + 1)
				*out++ = '/';
			memmove(out, in, len);
			out += len;
		}
		in += len;
	}
	*out = 0;
}

/* The absolute host path of what a path operand names: the directory it
 * is in resolved (a symlink on the way decides where it really is), the
 * last component kept as it is (never followed). malloc'd. A small cache
 * of the last directory resolved serves a tool's long listings. */
struct resolver {
	char *dir, *real;
};

static void resolver_release(struct resolver *r)
{
	free(r->dir);
	free(r->real);
	r->dir = r->real = NULL;
}

static char *host_path_r(const struct tool_ctx *c, const char *path,
			 struct resolver *r)
{
	char *typed = at_cwd(c, path), *slash, *base, *dir, *real, *out;
	size_t len;

	if (!typed)
		return NULL;
	len = strlen(typed);
	while (len > 1 && typed[len - 1] == '/')
		typed[--len] = 0;
	slash = strrchr(typed, '/');
	if (!slash || !strcmp(typed, "/"))
		return typed;
	base = slash + 1;
	if (!strcmp(base, ".") || !strcmp(base, "..")) {
		real = realpath(typed, NULL);
		if (real) {
			free(typed);
			return real;
		}
		lexical_clean(typed);
		return typed;
	}
	dir = slash == typed ? strdup("/") : strndup(typed, slash - typed);
	if (!dir) {
		free(typed);
		return NULL;
	}
	if (r && r->dir && !strcmp(r->dir, dir)) {
		real = strdup(r->real);
	} else {
		real = realpath(dir, NULL);
		if (r && real) {
			resolver_release(r);
			r->dir = strdup(dir);
			r->real = strdup(real);
			if (!r->dir || !r->real)
				resolver_release(r);
		}
	}
	free(dir);
	if (!real) {
		lexical_clean(typed);
		return typed;
	}
	out = xasprintf("%s%s%s", real, strcmp(real, "/") ? "/" : "", base);
	free(real);
	free(typed);
	return out;
}

static char *host_path(const struct tool_ctx *c, const char *path)
{
	return host_path_r(c, path, NULL);
}

static const char *last_component(const char *s)
{
	const char *base = s, *p;

	for (p = s; *p; p++)
		if (p[0] == '/' && p[1] && p[1] != '/')
			base = p + 1;
	return base;
}

/* The last component of s without its trailing slashes: "a/b//" -> "b".
 * malloc'd. */
static char *base_name_of(const char *s)
{
	const char *b = last_component(s);
	size_t len = strlen(b);

	while (len > 1 && b[len - 1] == '/')
		len--;
	return strndup(b, len);
}

static bool dot_or_dotdot(const char *s)
{
	char *b = base_name_of(s);
	bool r = b && (!strcmp(b, ".") || !strcmp(b, ".."));

	free(b);
	return r;
}

static int root_stat(struct stat *st)
{
	return stat("/", st);
}

static bool is_root(const struct stat *st)
{
	struct stat r;

	return S_ISDIR(st->st_mode) && root_stat(&r) == 0 &&
	       r.st_dev == st->st_dev && r.st_ino == st->st_ino;
}

/* The password and group databases through the reentrant calls, with a
 * buffer that grows while it is too small. */
struct pwent {
	struct passwd pw;
	char *buf;
};

struct grent {
	struct group gr;
	char *buf;
};

/* By name (name != NULL) or by id; false when there is none. */
static bool pw_get(const char *name, uid_t uid, struct pwent *e)
{
	struct passwd *hit = NULL;
	size_t n = 4096;
	int rc;

	for (e->buf = NULL;; n *= 2) {
		char *b = realloc(e->buf, n);

		if (!b)
			break;
		e->buf = b;
		rc = name ? getpwnam_r(name, &e->pw, b, n, &hit)
			  : getpwuid_r(uid, &e->pw, b, n, &hit);
		if (rc != ERANGE || n > ((size_t)1 << 24))
			break;
	}
	if (!hit) {
		free(e->buf);
		e->buf = NULL;
	}
	return hit != NULL;
}

static bool gr_get(const char *name, gid_t gid, struct grent *e)
{
	struct group *hit = NULL;
	size_t n = 4096;
	int rc;

	for (e->buf = NULL;; n *= 2) {
		char *b = realloc(e->buf, n);

		if (!b)
			break;
		e->buf = b;
		rc = name ? getgrnam_r(name, &e->gr, b, n, &hit)
			  : getgrgid_r(gid, &e->gr, b, n, &hit);
		if (rc != ERANGE || n > ((size_t)1 << 24))
			break;
	}
	if (!hit) {
		free(e->buf);
		e->buf = NULL;
	}
	return hit != NULL;
}

/* The user and group names of ids, for details ("root:root"). */
static void owner_name(uid_t uid, gid_t gid, char *buf, size_t n)
{
	struct pwent pw;
	struct grent gr;
	bool has_pw = pw_get(NULL, uid, &pw), has_gr = gr_get(NULL, gid, &gr);
	char u[32], g[32];

	snprintf(u, sizeof(u), "%u", (unsigned)uid);
	snprintf(g, sizeof(g), "%u", (unsigned)gid);
	snprintf(buf, n, "%s:%s", has_pw ? pw.pw.pw_name : u,
		 has_gr ? gr.gr.gr_name : g);
	if (has_pw)
		free(pw.buf);
	if (has_gr)
		free(gr.buf);
}

/* ---------------------------------------------------------------------
 * Running a native dry run in the command's directory.
 */

static int run_raw(const struct tool_ctx *c, char *const *argv, char **out,
		   char **errout, int *status, struct sd_err *err)
{
	const char *lc_all = getenv("LC_ALL");
	char *saved = lc_all ? strdup(lc_all) : NULL;
	int back, rc;

	*out = *errout = NULL;
	if (lc_all && !saved)
		return oom(err);
	back = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (c->cwd && *c->cwd && chdir(c->cwd) < 0) {
		rc = err_errno(err, SD_EXIT_SAFERUN, "cannot change to '%s'",
			       c->cwd);
		goto out;
	}
	/* Messages in English: they are parsed ("Would remove"). */
	setenv("LC_ALL", "C", 1);
	rc = tools_capture(argv, c->timeout_ms, CAPTURE_MAX, out, errout,
			   status, err);
	if (saved)
		setenv("LC_ALL", saved, 1);
	else
		unsetenv("LC_ALL");
	if (back >= 0 && fchdir(back) < 0 && rc == 0)
		rc = err_errno(err, SD_EXIT_SAFERUN,
			       "cannot change back to the directory");
	if (rc < 0) {
		free(*out);
		free(*errout);
		*out = *errout = NULL;
	}
out:
	if (back >= 0)
		close(back);
	free(saved);
	return rc;
}

/* The first line of a tool's stderr, or how it ended. */
static void why_failed(const char *errout, int status, char *buf, size_t n)
{
	const char *s = errout ? errout : "";

	while (*s == '\n')
		s++;
	if (*s)
		snprintf(buf, n, "%.*s", (int)strcspn(s, "\n"), s);
	else if (WIFEXITED(status))
		snprintf(buf, n, "exit status %d", WEXITSTATUS(status));
	else
		snprintf(buf, n, "killed by signal %d",
			 WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* Run argv; anything but exit status 0 is an error "LABEL failed: the
 * first line of its stderr". */
static int run_native(const struct tool_ctx *c, char *const *argv,
		      const char *label, char **out, struct sd_err *err)
{
	char *errout = NULL, why[512];
	int status = 0;

	if (run_raw(c, argv, out, &errout, &status, err) < 0)
		return err_prefix(err, "%s failed", label);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		why_failed(errout, status, why, sizeof(why));
		free(*out);
		free(errout);
		*out = NULL;
		return err_set(err, SD_EXIT_SAFERUN, "%s failed: %s", label,
			       why);
	}
	free(errout);
	return 0;
}

static int set_native(struct tool_plan *p, char *const *argv,
		      struct sd_err *err)
{
	size_t n = 1;
	int argc = 0;

	for (; argv[argc]; argc++)
		n += 4 * strlen(argv[argc]) + 3;
	free(p->native);
	if (!(p->native = malloc(n)))
		return oom(err);
	if (shquote_argv(p->native, n, argv, argc) < 0)
		return err_set(err, SD_EXIT_SAFERUN,
			       "cannot quote the preview command");
	return 0;
}

/* An empty file of ours for a preview to write into (c->tmpdir, else
 * $TMPDIR or /tmp); its path in buf. The caller unlinks it. */
static int private_file(const struct tool_ctx *c, const char *what, char *buf,
			size_t n, struct sd_err *err)
{
	const char *dir =
		c->tmpdir && *c->tmpdir ? c->tmpdir : getenv("TMPDIR");
	int fd;

	if (!dir || !*dir)
		dir = "/tmp";
	if ((size_t)snprintf(buf, n, "%s/saferun-%s-XXXXXX", dir, what) >= n)
		return err_set(err, SD_EXIT_SAFERUN, "path too long: '%s'",
			       dir);
	if ((fd = mkostemp(buf, O_CLOEXEC)) < 0) {
		err_errno(err, SD_EXIT_SAFERUN, "cannot create a file in '%s'",
			  dir);
		buf[0] = 0;
		return -1;
	}
	close(fd);
	return 0;
}

/* A growing NULL-terminated argv; the strings are not owned, except those
 * added with argv_own (freed with the vector). */
struct argvec {
	char **v;
	size_t n, cap;
	char **owned;
	size_t nowned, capowned;
	bool failed;
};

static void argv_add(struct argvec *a, const char *s)
{
	if (a->failed)
		return;
	if (!s) {
		a->failed = true;
		return;
	}
	if (a->n + 2 > a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 32;
		char **v = realloc(a->v, cap * sizeof(*v));

		if (!v) {
			a->failed = true;
			return;
		}
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = (char *)s;
	a->v[a->n] = NULL;
}

/* Add a malloc'd string that the vector frees. */
static void argv_own(struct argvec *a, char *s)
{
	if (!s || a->failed) {
		free(s);
		a->failed = true;
		return;
	}
	if (a->nowned == a->capowned) {
		size_t cap = a->capowned ? 2 * a->capowned : 16;
		char **v = realloc(a->owned, cap * sizeof(*v));

		if (!v) {
			free(s);
			a->failed = true;
			return;
		}
		a->owned = v;
		a->capowned = cap;
	}
	a->owned[a->nowned++] = s;
	argv_add(a, s);
}

static void argv_release(struct argvec *a)
{
	for (size_t i = 0; i < a->nowned; i++)
		free(a->owned[i]);
	free(a->owned);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

/* ---------------------------------------------------------------------
 * Command lines, read as the tools read them.
 */

enum { ARG_NONE, ARG_REQ, ARG_OPT };

struct optdef {
	const char *lng; /* without the dashes, or NULL */
	int shrt;	 /* the letter, or 0 */
	int arg;	 /* ARG_NONE, ARG_REQ, ARG_OPT */
	int id;		 /* 0 ends a table */
};

struct optev {
	int id;
	int shrt;	 /* the letter; 0 for a long option */
	const char *lng; /* the long name as defined (or as typed for a
			    --no-NAME negation) */
	const char *arg; /* its argument, or NULL */
	int tok;	 /* the argv index where it was */
};

struct cmdline {
	struct optev *ev;
	size_t nev, capev;
	char **ops; /* operands: pointers into argv */
	size_t nops, capops;
};

#define P_PERMUTE 1 /* options may follow operands (getopt_long, popt, git) */
#define P_ABBREV  2 /* a unique prefix of a long option names it (getopt) */
#define P_POSIX	  4 /* POSIXLY_CORRECT in the environment ends permutation */
#define P_NEG	  8 /* rsync: --no-NAME turns a known option off */

#define OPT_NEG (-1) /* the id of a --no-NAME negation */

static void cmdline_release(struct cmdline *cl)
{
	free(cl->ev);
	free(cl->ops);
	memset(cl, 0, sizeof(*cl));
}

static int cl_event(struct cmdline *cl, const struct optdef *d, int shrt,
		    const char *lng, const char *arg, int tok)
{
	if (cl->nev == cl->capev) {
		size_t cap = cl->capev ? 2 * cl->capev : 16;
		struct optev *v = realloc(cl->ev, cap * sizeof(*v));

		if (!v)
			return -1;
		cl->ev = v;
		cl->capev = cap;
	}
	cl->ev[cl->nev++] = (struct optev){.id = d ? d->id : OPT_NEG,
					   .shrt = shrt,
					   .lng = lng,
					   .arg = arg,
					   .tok = tok};
	return 0;
}

static int cl_operand(struct cmdline *cl, char *s)
{
	if (cl->nops == cl->capops) {
		size_t cap = cl->capops ? 2 * cl->capops : 16;
		char **v = realloc(cl->ops, cap * sizeof(*v));

		if (!v)
			return -1;
		cl->ops = v;
		cl->capops = cap;
	}
	cl->ops[cl->nops++] = s;
	return 0;
}

static const struct optdef *find_short(const struct optdef *defs, int ch)
{
	for (const struct optdef *d = defs; d->id; d++)
		if (d->shrt == ch)
			return d;
	return NULL;
}

static const struct optdef *find_long(const struct optdef *defs,
				      const char *name, size_t len, int flags,
				      bool *ambiguous)
{
	const struct optdef *hit = NULL;

	*ambiguous = false;
	for (const struct optdef *d = defs; d->id; d++)
		if (d->lng && strlen(d->lng) == len &&
		    !strncmp(d->lng, name, len))
			return d;
	if (!(flags & P_ABBREV) || !len)
		return NULL;
	for (const struct optdef *d = defs; d->id; d++) {
		if (!d->lng || strncmp(d->lng, name, len))
			continue;
		if (!hit)
			hit = d;
		else if (hit->id != d->id || hit->arg != d->arg)
			*ambiguous = true;
	}
	return *ambiguous ? NULL : hit;
}

/* Read argv[start..argc) into options and operands. Errors are "cannot
 * plan 'TOOL': unknown option '--foo'" and the like. */
static int parse_cmdline(const char *tool, char *const *argv, int argc,
			 int start, const struct optdef *defs, int flags,
			 struct cmdline *cl, struct sd_err *err)
{
	bool permute = (flags & P_PERMUTE) &&
		       !((flags & P_POSIX) && getenv("POSIXLY_CORRECT"));
	bool only_operands = false;

	memset(cl, 0, sizeof(*cl));
	for (int i = start; i < argc; i++) {
		char *a = argv[i];
		const struct optdef *d;

		if (only_operands || a[0] != '-' || !a[1]) {
			if (cl_operand(cl, a) < 0)
				goto nomem;
			if (!permute)
				only_operands = true;
			continue;
		}
		if (!strcmp(a, "--")) {
			only_operands = true;
			continue;
		}
		if (a[1] == '-') {
			const char *name = a + 2, *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			const char *arg = NULL;
			bool amb;

			d = find_long(defs, name, len, flags, &amb);
			if (amb) {
				cmdline_release(cl);
				return err_set(err, SD_EXIT_SAFERUN,
					       "cannot plan '%s': option "
					       "'--%.*s' is ambiguous",
					       tool, (int)len, name);
			}
			if (!d && (flags & P_NEG) && !eq &&
			    !strncmp(name, "no-", 3)) {
				const char *rest = name + 3;

				if ((strlen(rest) == 1 &&
				     find_short(defs, rest[0])) ||
				    find_long(defs, rest, strlen(rest), 0,
					      &amb)) {
					if (cl_event(cl, NULL, 0, name, NULL,
						     i) < 0)
						goto nomem;
					continue;
				}
			}
			if (!d) {
				cmdline_release(cl);
				return err_set(err, SD_EXIT_SAFERUN,
					       "cannot plan '%s': unknown "
					       "option '--%.*s'",
					       tool, (int)len, name);
			}
			if (eq) {
				if (d->arg == ARG_NONE) {
					cmdline_release(cl);
					return err_set(err, SD_EXIT_SAFERUN,
						       "cannot plan '%s': "
						       "option '--%s' takes "
						       "no argument",
						       tool, d->lng);
				}
				arg = eq + 1;
			} else if (d->arg == ARG_REQ) {
				if (i + 1 >= argc) {
					cmdline_release(cl);
					return err_set(err, SD_EXIT_SAFERUN,
						       "cannot plan '%s': "
						       "option '--%s' needs "
						       "an argument",
						       tool, d->lng);
				}
				arg = argv[++i];
			}
			if (cl_event(cl, d, 0, d->lng, arg, i) < 0)
				goto nomem;
			continue;
		}
		for (const char *s = a + 1; *s; s++) {
			const char *arg = NULL;

			d = find_short(defs, (unsigned char)*s);
			if (!d) {
				cmdline_release(cl);
				if (isprint((unsigned char)*s))
					return err_set(err, SD_EXIT_SAFERUN,
						       "cannot plan '%s': "
						       "unknown option '-%c'",
						       tool, *s);
				return err_set(err, SD_EXIT_SAFERUN,
					       "cannot plan '%s': unknown "
					       "option '-\\%03o'",
					       tool, (unsigned char)*s);
			}
			if (d->arg != ARG_NONE) {
				if (s[1])
					arg = s + 1;
				else if (d->arg == ARG_REQ) {
					if (i + 1 >= argc) {
						cmdline_release(cl);
						return err_set(
							err, SD_EXIT_SAFERUN,
							"cannot plan '%s': "
							"option '-%c' needs "
							"an argument",
							tool, *s);
					}
					arg = argv[++i];
				}
			}
			if (cl_event(cl, d, *s, d->lng, arg, i) < 0)
				goto nomem;
			if (d->arg != ARG_NONE)
				break;
		}
	}
	return 0;
nomem:
	cmdline_release(cl);
	return oom(err);
}

static bool cl_has(const struct cmdline *cl, int id)
{
	for (size_t i = 0; i < cl->nev; i++)
		if (cl->ev[i].id == id)
			return true;
	return false;
}

/* getopt's argmatch: arg is one of words, or an unambiguous prefix of
 * one; the index, or -1. Words that mean the same are listed together in
 * groups ending with NULL, and a prefix of several words of one group is
 * not ambiguous. */
static int argmatch(const char *arg, const char *const *words, const int *ids)
{
	int hit = -1;
	size_t len = strlen(arg);

	for (int i = 0; words[i]; i++) {
		if (!strcmp(words[i], arg))
			return ids[i];
		if (len && !strncmp(words[i], arg, len)) {
			if (hit >= 0 && hit != ids[i])
				return -2;
			hit = ids[i];
		}
	}
	return hit;
}

/* Whether a plan is for --help or --version only: nothing happens. */
enum { OPT_HELP = 1000, OPT_VERSION };

#define HELP_ROWS                                                              \
	{"help", 0, ARG_NONE, OPT_HELP},                                       \
	{                                                                      \
		"version", 0, ARG_NONE, OPT_VERSION                            \
	}

static bool only_prints(const struct cmdline *cl)
{
	return cl_has(cl, OPT_HELP) || cl_has(cl, OPT_VERSION);
}

/* ---------------------------------------------------------------------
 * rm: emulated. GNU rm's rules: -f ignores missing operands (a later -i
 * or -I cancels that), a directory needs -r (or -d when empty), "." and
 * ".." are refused, and '/' too unless --no-preserve-root.
 */

enum {
	RM_FORCE = 1,
	RM_I,
	RM_BIG_I,
	RM_INTERACTIVE,
	RM_ONE_FS,
	RM_NO_PRESERVE,
	RM_PRESERVE,
	RM_RECURSIVE,
	RM_DIR,
	RM_VERBOSE,
	RM_TTY,
};

static const struct optdef rm_opts[] = {
	{"force", 'f', ARG_NONE, RM_FORCE},
	{NULL, 'i', ARG_NONE, RM_I},
	{NULL, 'I', ARG_NONE, RM_BIG_I},
	{"interactive", 0, ARG_OPT, RM_INTERACTIVE},
	{"one-file-system", 0, ARG_NONE, RM_ONE_FS},
	{"no-preserve-root", 0, ARG_NONE, RM_NO_PRESERVE},
	{"preserve-root", 0, ARG_OPT, RM_PRESERVE},
	{"recursive", 'r', ARG_NONE, RM_RECURSIVE},
	{NULL, 'R', ARG_NONE, RM_RECURSIVE},
	{"dir", 'd', ARG_NONE, RM_DIR},
	{"verbose", 'v', ARG_NONE, RM_VERBOSE},
	{"-presume-input-tty", 0, ARG_NONE, RM_TTY},
	HELP_ROWS,
	{NULL, 0, 0, 0},
};

struct rm_flags {
	bool force, recursive, dir, one_fs, preserve_root, preserve_all;
};

static bool dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	bool empty = true;

	if (!d)
		return false;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			empty = false;
			break;
		}
	closedir(d);
	return empty;
}

static int count_tree(const char *path, bool one_fs, struct rmtree_count *cnt,
		      struct sd_err *err)
{
	memset(cnt, 0, sizeof(*cnt));
	if (rmtree_count(AT_FDCWD, path, 0, 0, one_fs, cnt, err) < 0)
		return -1;
	if (cnt->unreadable)
		return err_set(err, SD_EXIT_CANNOT,
			       "cannot read everything below '%s'", path);
	return 0;
}

static int rm_whole_root(struct tool_plan *p, struct sd_err *err)
{
	return add_effect(p, err, EFFECT_DELETE, "/", NULL, 'd', 0, 0,
			  "everything on the machine; not counted") < 0 ||
			       add_target(p, "/", false, err) < 0
		       ? -1
		       : 0;
}

static int rm_one(const struct tool_ctx *c, struct tool_plan *p,
		  const struct rm_flags *f, const char *op, struct sd_err *err)
{
	char *typed = at_cwd(c, op), *shown = NULL, *kept = NULL;
	struct rmtree_count cnt;
	struct stat st, lst;
	int rc = -1;

	if (!typed || !(shown = host_path(c, op)))
		goto nomem;
	if (lstat(typed, &st) < 0) {
		int e = errno;

		if (!(f->force && (e == ENOENT || e == ENOTDIR)) &&
		    NOTE_ERROR(p, err, "cannot remove '%s': %s", op,
			       strerror(e)) < 0)
			goto out;
		rc = add_target(p, shown, false, err);
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		bool via_link = lstat(shown, &lst) == 0 && S_ISLNK(lst.st_mode);

		if (!f->recursive && !(f->dir && dir_is_empty(typed))) {
			if (NOTE_ERROR(p, err, "cannot remove '%s': %s", op,
				       strerror(f->dir ? ENOTEMPTY : EISDIR)) <
			    0)
				goto out;
			rc = add_target(p, shown, false, err);
			goto out;
		}
		if (dot_or_dotdot(op)) {
			if (NOTE_ERROR(p, err,
				       "refusing to remove '.' or '..' "
				       "directory: skipping '%s'",
				       op) < 0)
				goto out;
			rc = add_target(p, shown, false, err);
			goto out;
		}
		if (is_root(&st)) {
			if (f->recursive && !p->why_refuse &&
			    !(p->why_refuse = strdup("recursive operation on "
						     "'/'")))
				goto nomem;
			if (!f->preserve_root) {
				rc = rm_whole_root(p, err);
				goto out;
			}
			if (NOTE_ERROR(p, err,
				       "it is dangerous to operate "
				       "recursively on '%s'",
				       op) < 0)
				goto out;
			rc = add_target(p, "/", false, err);
			goto out;
		}
		if (f->preserve_all) {
			char *parent = xasprintf("%s/..", typed);
			struct stat pst;
			bool other = !parent || lstat(parent, &pst) < 0 ||
				     pst.st_dev != st.st_dev;

			free(parent);
			if (other) {
				if (NOTE_ERROR(p, err,
					       "skipping '%s', since it's on "
					       "a different device",
					       op) < 0)
					goto out;
				rc = add_target(p, shown, false, err);
				goto out;
			}
		}
		if (count_tree(typed, f->one_fs, &cnt, err) < 0)
			goto out;
		if (via_link) {
			/* "link/": rm empties the directory the symlink
			 * points to, then fails on the symlink itself. */
			char *real = realpath(typed, NULL), *detail;

			if (!real)
				goto nomem;
			detail = xasprintf("its contents, through the symlink "
					   "'%s'",
					   op);
			rc = detail ? add_effect(
					      p, err, EFFECT_DELETE, real, NULL,
					      'd', cnt.files + cnt.dirs - 1,
					      cnt.bytes - (uint64_t)st.st_size,
					      detail)
				    : oom(err);
			free(detail);
			if (rc == 0)
				rc = NOTE_ERROR(p, err,
						"cannot remove '%s': %s", op,
						strerror(ENOTDIR));
			if (rc == 0)
				rc = add_target(p, shown, false, err);
			if (rc == 0)
				rc = add_target(p, real, true, err);
			free(real);
			goto out;
		}
		if (f->one_fs) {
			/* Say what another file system keeps, if anything:
			 * rm then fails on the directories above it. */
			struct rmtree_count all;

			if (count_tree(typed, false, &all, err) < 0)
				goto out;
			if (all.files + all.dirs > cnt.files + cnt.dirs &&
			    !(kept = xasprintf("%llu entries on other file "
					       "systems kept",
					       (unsigned long long)(all.files +
								    all.dirs -
								    cnt.files -
								    cnt.dirs))))
				goto nomem;
		}
		rc = add_effect(p, err, EFFECT_DELETE, shown, NULL, 'd',
				cnt.files + cnt.dirs, cnt.bytes, kept);
		if (rc == 0)
			rc = add_target(p, shown, true, err);
		goto out;
	}
	rc = add_effect(p, err, EFFECT_DELETE, shown, NULL, type_of(st.st_mode),
			1, (uint64_t)st.st_size, NULL);
	if (rc == 0)
		rc = add_target(p, shown, false, err);
	goto out;
nomem:
	rc = oom(err);
out:
	free(typed);
	free(shown);
	free(kept);
	return rc;
}

static int plan_rm(const struct tool_ctx *c, struct tool_plan *p,
		   struct sd_err *err)
{
	static const char *const when[] = {"never",  "no",  "none", "once",
					   "always", "yes", NULL};
	static const int when_id[] = {0, 0, 0, 1, 2, 2};
	struct rm_flags f = {.preserve_root = true};
	struct cmdline cl;
	bool no_preserve = false;
	int rc = 0;

	if (parse_cmdline("rm", c->argv, c->argc, 1, rm_opts,
			  P_PERMUTE | P_ABBREV | P_POSIX, &cl, err) < 0)
		return -1;
	if (plan_begin(p, FIDELITY_EXACT, err) < 0)
		goto fail;
	for (size_t i = 0; i < cl.nev; i++) {
		const struct optev *e = &cl.ev[i];

		switch (e->id) {
		case RM_FORCE:
			f.force = true;
			break;
		case RM_I:
		case RM_BIG_I:
			f.force = false;
			break;
		case RM_INTERACTIVE:
			if (e->arg) {
				int w = argmatch(e->arg, when, when_id);

				if (w < 0) {
					err_set(err, SD_EXIT_SAFERUN,
						"cannot plan 'rm': invalid "
						"argument '%s' for "
						"'--interactive'",
						e->arg);
					goto fail;
				}
				if (w > 0)
					f.force = false;
			} else {
				f.force = false;
			}
			break;
		case RM_ONE_FS:
			f.one_fs = true;
			break;
		case RM_NO_PRESERVE:
			f.preserve_root = false;
			no_preserve = true;
			break;
		case RM_PRESERVE:
			if (e->arg && strcmp(e->arg, "all")) {
				err_set(err, SD_EXIT_SAFERUN,
					"cannot plan 'rm': unrecognized "
					"--preserve-root argument '%s'",
					e->arg);
				goto fail;
			}
			f.preserve_root = true;
			f.preserve_all = e->arg != NULL;
			break;
		case RM_RECURSIVE:
			f.recursive = true;
			break;
		case RM_DIR:
			f.dir = true;
			break;
		default:
			break;
		}
	}
	if (only_prints(&cl))
		goto out;
	if (cl.nops == 0 && !f.force) {
		err_set(err, SD_EXIT_SAFERUN,
			"cannot plan 'rm': missing "
			"operand");
		goto fail;
	}
	for (size_t i = 0; i < cl.nops && rc == 0; i++)
		rc = rm_one(c, p, &f, cl.ops[i], err);
	if (rc < 0)
		goto fail;
	if (no_preserve && !p->why_refuse &&
	    !(p->why_refuse = strdup("rm --no-preserve-root: the failsafe for "
				     "'/' is off"))) {
		oom(err);
		goto fail;
	}
out:
	cmdline_release(&cl);
	return 0;
fail:
	cmdline_release(&cl);
	return -1;
}

/* ---------------------------------------------------------------------
 * find ... -delete: run with -delete replaced by -print0 (and -depth,
 * which -delete implies); each path printed is a delete. Actions that
 * would act during the preview (-exec, -ok, -fprint: a command run, a file
 * written) are refused; the ones that only print are made -true so that
 * nothing but the -print0 list reaches stdout.
 */

static bool argv_has(const struct tool_ctx *c, const char *word)
{
	for (int i = 1; i < c->argc; i++)
		if (streq(c->argv[i], word))
			return true;
	return false;
}

static bool match_find(const struct tool_ctx *c)
{
	return argv_has(c, "-delete");
}

/* How many arguments an expression word takes; -1 for -exec and its kind
 * (up to ";" or "+"). */
static int find_arity(const char *w)
{
	static const char *const one[] = {
		"-name",	"-iname",      "-path",	    "-ipath",
		"-wholename",	"-iwholename", "-regex",    "-iregex",
		"-lname",	"-ilname",     "-newer",    "-anewer",
		"-cnewer",	"-perm",       "-type",	    "-xtype",
		"-user",	"-group",      "-uid",	    "-gid",
		"-size",	"-links",      "-inum",	    "-samefile",
		"-used",	"-amin",       "-atime",    "-cmin",
		"-ctime",	"-mmin",       "-mtime",    "-fstype",
		"-context",	"-maxdepth",   "-mindepth", "-regextype",
		"-files0-from", "-printf",     "-fprint",   "-fprint0",
		"-fls",		NULL,
	};

	if (!strcmp(w, "-fprintf"))
		return 2;
	if (!strcmp(w, "-exec") || !strcmp(w, "-execdir") ||
	    !strcmp(w, "-ok") || !strcmp(w, "-okdir"))
		return -1;
	if (!strncmp(w, "-newer", 6) && w[6])
		return 1; /* -newerXY */
	for (int i = 0; one[i]; i++)
		if (!strcmp(w, one[i]))
			return 1;
	return 0;
}

static bool find_expression_start(const char *a)
{
	return (a[0] == '-' && a[1]) || !strcmp(a, "(") || !strcmp(a, ")") ||
	       !strcmp(a, "!") || !strcmp(a, ",");
}

static int plan_find(const struct tool_ctx *c, struct tool_plan *p,
		     struct sd_err *err)
{
	struct argvec a = {0}, shown = {0};
	struct resolver r = {0};
	char *out = NULL, *paths = NULL, list[PATH_MAX] = "";
	int i = 1, first_start, end_start, rc = -1;
	bool has_depth = false, has_delete = false;
	size_t len, off;

	if (plan_begin(p, FIDELITY_NATIVE, err) < 0)
		return -1;
	/* The list goes to a file of ours: -print0 on stdout would be cut
	 * at its first NUL. */
	if (private_file(c, "find", list, sizeof(list), err) < 0)
		return -1;
	argv_add(&a, c->argv[0]);
	/* Leading options: -H -L -P -D LIST -OLEVEL. */
	for (; i < c->argc; i++) {
		const char *w = c->argv[i];

		if (!strcmp(w, "-H") || !strcmp(w, "-L") || !strcmp(w, "-P") ||
		    (!strncmp(w, "-O", 2) && w[2]) ||
		    (!strncmp(w, "-D", 2) && w[2])) {
			argv_add(&a, w);
		} else if (!strcmp(w, "-D") && i + 1 < c->argc) {
			argv_add(&a, w);
			argv_add(&a, c->argv[++i]);
		} else {
			break;
		}
	}
	first_start = i;
	for (; i < c->argc && !find_expression_start(c->argv[i]); i++)
		argv_add(&a, c->argv[i]);
	end_start = i;
	for (int j = i; j < c->argc; j++) {
		const char *w = c->argv[j];
		int n = find_arity(w);

		if (!strcmp(w, "-depth") || !strcmp(w, "-d"))
			has_depth = true;
		if (n < 0) {
			err_set(err, SD_EXIT_SAFERUN,
				"cannot plan 'find' with '%s': the preview "
				"would run the command",
				w);
			goto out;
		}
		j += n;
	}
	if (!has_depth)
		argv_add(&a, "-depth");
	for (int j = i; j < c->argc; j++) {
		if (!strcmp(c->argv[j], "-delete"))
			has_delete = true;
		j += find_arity(c->argv[j]);
	}
	if (!has_delete) {
		/* "-delete" only as the argument of a test: nothing is
		 * deleted, and the rest only prints. */
		rc = 0;
		goto out;
	}
	for (; i < c->argc; i++) {
		const char *w = c->argv[i];
		int n = find_arity(w);

		if (!strcmp(w, "-fprint") || !strcmp(w, "-fprint0") ||
		    !strcmp(w, "-fls") || !strcmp(w, "-fprintf")) {
			err_set(err, SD_EXIT_SAFERUN,
				"cannot plan 'find' with '%s': the preview "
				"would write the file",
				w);
			goto out;
		}
		if (!strcmp(w, "-delete")) {
			argv_add(&a, "-fprint0");
			argv_add(&a, list);
		} else if (!strcmp(w, "-print") || !strcmp(w, "-print0") ||
			   !strcmp(w, "-ls") || !strcmp(w, "-printf")) {
			argv_add(&a, "-true");
			i += n;
		} else {
			argv_add(&a, w);
			for (int k = 0; k < n && i + 1 < c->argc; k++)
				argv_add(&a, c->argv[++i]);
		}
	}
	/* The plan shows -print0 where the file of ours is, so that it is
	 * the same plan every time. */
	for (size_t k = 0; k < a.n; k++) {
		if (k + 1 < a.n && a.v[k + 1] == list) {
			argv_add(&shown, "-print0");
			k++;
		} else {
			argv_add(&shown, a.v[k]);
		}
	}
	if (a.failed || shown.failed) {
		oom(err);
		goto out;
	}
	if (set_native(p, shown.v, err) < 0 ||
	    run_native(c, a.v, "find", &out, err) < 0 ||
	    fs_read_file(list, CAPTURE_MAX, &paths, &len, err) < 0)
		goto out;
	for (off = 0; off < len;) {
		const char *path = paths + off;
		size_t plen = strlen(path);
		char *abs;
		struct stat st;

		off += plen + 1;
		if (!plen)
			continue;
		if (!(abs = host_path_r(c, path, &r))) {
			oom(err);
			goto out;
		}
		if (lstat(abs, &st) == 0 &&
		    add_effect(p, err, EFFECT_DELETE, abs, NULL,
			       type_of(st.st_mode), 1, (uint64_t)st.st_size,
			       NULL) < 0) {
			free(abs);
			goto out;
		}
		free(abs);
	}
	/* What the plan was computed against: each starting point. */
	for (int j = first_start; j < end_start; j++) {
		char *abs = host_path(c, c->argv[j]);
		int t = abs ? add_target(p, abs, true, err) : oom(err);

		free(abs);
		if (t < 0)
			goto out;
	}
	if (first_start == end_start && !argv_has(c, "-files0-from")) {
		char *abs = host_path(c, ".");
		int t = abs ? add_target(p, abs, true, err) : oom(err);

		free(abs);
		if (t < 0)
			goto out;
	}
	rc = 0;
out:
	unlink(list);
	resolver_release(&r);
	free(out);
	free(paths);
	argv_release(&a);
	argv_release(&shown);
	return rc;
}

/* ---------------------------------------------------------------------
 * rsync with --delete*, --del or --remove-source-files: run with
 * --dry-run and an itemized out-format of our own, the options that
 * change what it prints (-v, -q, --progress, --stats, --info, ...) left
 * out. The fields are separated by a control character, which rsync
 * prints escaped ("\#037") like every control character in a name, so a
 * name can never be mistaken for a separator.
 */

enum {
	RS_KEEP = 1, /* passed on as it is */
	RS_DROP,     /* changes only what is printed: left out */
	RS_DROP_P,   /* -P: --partial kept, --progress left out */
	RS_REFUSE,   /* batch files: no preview possible */
	RS_DELETE,   /* a delete option (kept) */
	RS_REMOVE_SRC /* --remove-source-files (kept) */,
	RS_BACKUP, /* -b, --backup (kept) */
	RS_DRY,	   /* -n: the command itself is a dry run */
};

static const struct optdef rsync_opts[] = {
	{"verbose", 'v', ARG_NONE, RS_DROP},
	{"info", 0, ARG_REQ, RS_DROP},
	{"debug", 0, ARG_REQ, RS_DROP},
	{"stderr", 0, ARG_REQ, RS_DROP},
	{"quiet", 'q', ARG_NONE, RS_DROP},
	{"no-motd", 0, ARG_NONE, RS_KEEP},
	{"checksum", 'c', ARG_NONE, RS_KEEP},
	{"archive", 'a', ARG_NONE, RS_KEEP},
	{"recursive", 'r', ARG_NONE, RS_KEEP},
	{"inc-recursive", 0, ARG_NONE, RS_KEEP},
	{"i-r", 0, ARG_NONE, RS_KEEP},
	{"no-inc-recursive", 0, ARG_NONE, RS_KEEP},
	{"no-i-r", 0, ARG_NONE, RS_KEEP},
	{"relative", 'R', ARG_NONE, RS_KEEP},
	{"no-implied-dirs", 0, ARG_NONE, RS_KEEP},
	{"backup", 'b', ARG_NONE, RS_BACKUP},
	{"backup-dir", 0, ARG_REQ, RS_BACKUP},
	{"suffix", 0, ARG_REQ, RS_KEEP},
	{"update", 'u', ARG_NONE, RS_KEEP},
	{"inplace", 0, ARG_NONE, RS_KEEP},
	{"append", 0, ARG_NONE, RS_KEEP},
	{"append-verify", 0, ARG_NONE, RS_KEEP},
	{"dirs", 'd', ARG_NONE, RS_KEEP},
	{"old-dirs", 0, ARG_NONE, RS_KEEP},
	{"old-d", 0, ARG_NONE, RS_KEEP},
	{"mkpath", 0, ARG_NONE, RS_KEEP},
	{"links", 'l', ARG_NONE, RS_KEEP},
	{"copy-links", 'L', ARG_NONE, RS_KEEP},
	{"copy-unsafe-links", 0, ARG_NONE, RS_KEEP},
	{"safe-links", 0, ARG_NONE, RS_KEEP},
	{"insecure-links", 0, ARG_NONE, RS_KEEP},
	{"confine-root", 0, ARG_REQ, RS_KEEP},
	{"munge-links", 0, ARG_NONE, RS_KEEP},
	{"copy-dirlinks", 'k', ARG_NONE, RS_KEEP},
	{"keep-dirlinks", 'K', ARG_NONE, RS_KEEP},
	{"hard-links", 'H', ARG_NONE, RS_KEEP},
	{"perms", 'p', ARG_NONE, RS_KEEP},
	{"executability", 'E', ARG_NONE, RS_KEEP},
	{"chmod", 0, ARG_REQ, RS_KEEP},
	{"acls", 'A', ARG_NONE, RS_KEEP},
	{"xattrs", 'X', ARG_NONE, RS_KEEP},
	{"owner", 'o', ARG_NONE, RS_KEEP},
	{"group", 'g', ARG_NONE, RS_KEEP},
	{"devices", 0, ARG_NONE, RS_KEEP},
	{"copy-devices", 0, ARG_NONE, RS_KEEP},
	{"write-devices", 0, ARG_NONE, RS_KEEP},
	{"specials", 0, ARG_NONE, RS_KEEP},
	{"drop-D", 0, ARG_NONE, RS_KEEP},
	{NULL, 'D', ARG_NONE, RS_KEEP},
	{"times", 't', ARG_NONE, RS_KEEP},
	{"atimes", 'U', ARG_NONE, RS_KEEP},
	{"open-noatime", 0, ARG_NONE, RS_KEEP},
	{"crtimes", 'N', ARG_NONE, RS_KEEP},
	{"omit-dir-times", 'O', ARG_NONE, RS_KEEP},
	{"omit-link-times", 'J', ARG_NONE, RS_KEEP},
	{"super", 0, ARG_NONE, RS_KEEP},
	{"fake-super", 0, ARG_NONE, RS_KEEP},
	{"sparse", 'S', ARG_NONE, RS_KEEP},
	{"preallocate", 0, ARG_NONE, RS_KEEP},
	{"dry-run", 'n', ARG_NONE, RS_DRY},
	{"whole-file", 'W', ARG_NONE, RS_KEEP},
	{"no-whole-file", 0, ARG_NONE, RS_KEEP},
	{"no-W", 0, ARG_NONE, RS_KEEP},
	{"checksum-choice", 0, ARG_REQ, RS_KEEP},
	{"cc", 0, ARG_REQ, RS_KEEP},
	{"one-file-system", 'x', ARG_NONE, RS_KEEP},
	{"block-size", 'B', ARG_REQ, RS_KEEP},
	{"rsh", 'e', ARG_REQ, RS_KEEP},
	{"rsync-path", 0, ARG_REQ, RS_KEEP},
	{"existing", 0, ARG_NONE, RS_KEEP},
	{"ignore-non-existing", 0, ARG_NONE, RS_KEEP},
	{"ignore-existing", 0, ARG_NONE, RS_KEEP},
	{"remove-source-files", 0, ARG_NONE, RS_REMOVE_SRC},
	{"del", 0, ARG_NONE, RS_DELETE},
	{"delete", 0, ARG_NONE, RS_DELETE},
	{"delete-before", 0, ARG_NONE, RS_DELETE},
	{"delete-during", 0, ARG_NONE, RS_DELETE},
	{"delete-delay", 0, ARG_NONE, RS_DELETE},
	{"delete-after", 0, ARG_NONE, RS_DELETE},
	{"delete-excluded", 0, ARG_NONE, RS_DELETE},
	{"delete-missing-args", 0, ARG_NONE, RS_DELETE},
	{"ignore-missing-args", 0, ARG_NONE, RS_KEEP},
	{"ignore-errors", 0, ARG_NONE, RS_KEEP},
	{"force", 0, ARG_NONE, RS_KEEP},
	{"max-delete", 0, ARG_REQ, RS_KEEP},
	{"max-size", 0, ARG_REQ, RS_KEEP},
	{"min-size", 0, ARG_REQ, RS_KEEP},
	{"max-alloc", 0, ARG_REQ, RS_KEEP},
	{"partial", 0, ARG_NONE, RS_KEEP},
	{"partial-dir", 0, ARG_REQ, RS_KEEP},
	{"delay-updates", 0, ARG_NONE, RS_KEEP},
	{"prune-empty-dirs", 'm', ARG_NONE, RS_KEEP},
	{"numeric-ids", 0, ARG_NONE, RS_KEEP},
	{"usermap", 0, ARG_REQ, RS_KEEP},
	{"groupmap", 0, ARG_REQ, RS_KEEP},
	{"chown", 0, ARG_REQ, RS_KEEP},
	{"timeout", 0, ARG_REQ, RS_KEEP},
	{"contimeout", 0, ARG_REQ, RS_KEEP},
	{"ignore-times", 'I', ARG_NONE, RS_KEEP},
	{"size-only", 0, ARG_NONE, RS_KEEP},
	{"modify-window", '@', ARG_REQ, RS_KEEP},
	{"temp-dir", 'T', ARG_REQ, RS_KEEP},
	{"fuzzy", 'y', ARG_NONE, RS_KEEP},
	{"compare-dest", 0, ARG_REQ, RS_KEEP},
	{"copy-dest", 0, ARG_REQ, RS_KEEP},
	{"link-dest", 0, ARG_REQ, RS_KEEP},
	{"compress", 'z', ARG_NONE, RS_KEEP},
	{"compress-choice", 0, ARG_REQ, RS_KEEP},
	{"zc", 0, ARG_REQ, RS_KEEP},
	{"compress-level", 0, ARG_REQ, RS_KEEP},
	{"zl", 0, ARG_REQ, RS_KEEP},
	{"compress-threads", 0, ARG_REQ, RS_KEEP},
	{"zt", 0, ARG_REQ, RS_KEEP},
	{"skip-compress", 0, ARG_REQ, RS_KEEP},
	{"cvs-exclude", 'C', ARG_NONE, RS_KEEP},
	{"filter", 'f', ARG_REQ, RS_KEEP},
	{NULL, 'F', ARG_NONE, RS_KEEP},
	{"exclude", 0, ARG_REQ, RS_KEEP},
	{"exclude-from", 0, ARG_REQ, RS_KEEP},
	{"include", 0, ARG_REQ, RS_KEEP},
	{"include-from", 0, ARG_REQ, RS_KEEP},
	{"files-from", 0, ARG_REQ, RS_KEEP},
	{"from0", '0', ARG_NONE, RS_KEEP},
	{"old-args", 0, ARG_NONE, RS_KEEP},
	{"secluded-args", 's', ARG_NONE, RS_KEEP},
	{"protect-args", 0, ARG_NONE, RS_KEEP},
	{"trust-sender", 0, ARG_NONE, RS_KEEP},
	{"copy-as", 0, ARG_REQ, RS_KEEP},
	{"address", 0, ARG_REQ, RS_KEEP},
	{"port", 0, ARG_REQ, RS_KEEP},
	{"sockopts", 0, ARG_REQ, RS_KEEP},
	{"blocking-io", 0, ARG_NONE, RS_KEEP},
	{"outbuf", 0, ARG_REQ, RS_KEEP},
	{"stats", 0, ARG_NONE, RS_DROP},
	{"8-bit-output", '8', ARG_NONE, RS_KEEP},
	{"human-readable", 'h', ARG_NONE, RS_DROP},
	{"progress", 0, ARG_NONE, RS_DROP},
	{NULL, 'P', ARG_NONE, RS_DROP_P},
	{"itemize-changes", 'i', ARG_NONE, RS_DROP},
	{"remote-option", 'M', ARG_REQ, RS_KEEP},
	{"out-format", 0, ARG_REQ, RS_DROP},
	{"log-format", 0, ARG_REQ, RS_DROP},
	{"log-file", 0, ARG_REQ, RS_DROP},
	{"log-file-format", 0, ARG_REQ, RS_DROP},
	{"password-file", 0, ARG_REQ, RS_KEEP},
	{"early-input", 0, ARG_REQ, RS_KEEP},
	{"list-only", 0, ARG_NONE, RS_KEEP},
	{"bwlimit", 0, ARG_REQ, RS_KEEP},
	{"stop-after", 0, ARG_REQ, RS_KEEP},
	{"time-limit", 0, ARG_REQ, RS_KEEP},
	{"stop-at", 0, ARG_REQ, RS_KEEP},
	{"fsync", 0, ARG_NONE, RS_KEEP},
	{"write-batch", 0, ARG_REQ, RS_REFUSE},
	{"only-write-batch", 0, ARG_REQ, RS_REFUSE},
	{"read-batch", 0, ARG_REQ, RS_REFUSE},
	{"protocol", 0, ARG_REQ, RS_KEEP},
	{"iconv", 0, ARG_REQ, RS_KEEP},
	{"checksum-seed", 0, ARG_REQ, RS_KEEP},
	{"ipv4", '4', ARG_NONE, RS_KEEP},
	{"ipv6", '6', ARG_NONE, RS_KEEP},
	{"version", 'V', ARG_NONE, OPT_VERSION},
	{"help", 0, ARG_NONE, OPT_HELP},
	{NULL, 0, 0, 0},
};

static bool match_rsync(const struct tool_ctx *c)
{
	struct cmdline cl;
	struct sd_err err;
	bool hit = false;

	if (parse_cmdline("rsync", c->argv, c->argc, 1, rsync_opts,
			  P_PERMUTE | P_POSIX | P_NEG, &cl, &err) < 0) {
		/* Not readable: let the plan say why, if it looks like a
		 * delete at all. */
		for (int i = 1; i < c->argc; i++) {
			const char *a = c->argv[i];

			if (!strcmp(a, "--"))
				break;
			if (!strcmp(a, "--del") || !strncmp(a, "--delete", 8) ||
			    !strcmp(a, "--remove-source-files"))
				return true;
		}
		return false;
	}
	hit = cl_has(&cl, RS_DELETE) || cl_has(&cl, RS_REMOVE_SRC);
	cmdline_release(&cl);
	return hit;
}

/* A local path or a remote one (host:path, user@host:path, host::module,
 * rsync://host/...): a colon before the first slash, as rsync decides. */
static bool rsync_remote(const char *s)
{
	const char *colon = strchr(s, ':'), *slash = strchr(s, '/');

	if (!strncmp(s, "rsync://", 8))
		return true;
	return colon && (!slash || colon < slash);
}

/* rsync's escapes undone: "\#ooo" is the byte ooo (octal); every other
 * backslash is itself (rsync escapes a backslash that would start one). In
 * place. */
static void rsync_unescape(char *s)
{
	char *o = s;

	for (char *i = s; *i;) {
		if (i[0] == '\\' && i[1] == '#' && i[2] >= '0' && i[2] <= '7' &&
		    i[3] >= '0' && i[3] <= '7' && i[4] >= '0' && i[4] <= '7') {
			*o++ = (char)((i[2] - '0') * 64 + (i[3] - '0') * 8 +
				      (i[4] - '0'));
			i += 5;
		} else {
			*o++ = *i++;
		}
	}
	*o = 0;
}

/* "rwxr-sr-t" (rsync's %B) as a mode; -1 when it is not one. */
static int perms_parse(const char *s)
{
	static const char rwx[] = "rwxrwxrwx";
	int m = 0;

	if (strlen(s) != 9)
		return -1;
	for (int i = 0; i < 9; i++) {
		int bit = 0400 >> i;
		char ch = s[i];

		if (ch == rwx[i]) {
			m |= bit;
		} else if (ch == '-') {
		} else if ((i == 2 || i == 5) && (ch == 's' || ch == 'S')) {
			m |= (i == 2 ? 04000 : 02000) | (ch == 's' ? bit : 0);
		} else if (i == 8 && (ch == 't' || ch == 'T')) {
			m |= 01000 | (ch == 't' ? bit : 0);
		} else {
			return -1;
		}
	}
	return m;
}

#define RS_SEP	  "\\#037"
#define RS_FIELDS 7 /* %i %l %B %U %G %f %n */

struct rsync_run {
	const char *dest;  /* as typed */
	char *dest_abs;	   /* local: its host path */
	bool remote_dest;  /* host:path */
	bool dest_is_file; /* one file copied to a new name */
	bool local_src;	   /* every source is local */
	bool remove_src, backup;
};

/* The host path (or, remote, the object name) of a name rsync printed. */
static char *rsync_dest_path(const struct rsync_run *r, const char *name)
{
	size_t len = strlen(name);
	char *n, *out;

	if (r->dest_is_file)
		return strdup(r->remote_dest ? r->dest : r->dest_abs);
	if (!(n = strdup(name)))
		return NULL;
	while (len > 0 && n[len - 1] == '/')
		n[--len] = 0;
	if (!strcmp(n, ".") || !len) {
		free(n);
		return strdup(r->remote_dest ? r->dest : r->dest_abs);
	}
	if (r->remote_dest) {
		size_t dl = strlen(r->dest);

		out = xasprintf(
			"%s%s%s", r->dest,
			dl && (r->dest[dl - 1] == '/' || r->dest[dl - 1] == ':')
				? ""
				: "/",
			n);
	} else {
		out = xasprintf("%s%s%s", r->dest_abs,
				strcmp(r->dest_abs, "/") ? "/" : "", n);
		if (out)
			lexical_clean(out);
	}
	free(n);
	return out;
}

/* Split "SENDER-NAME<sep>NAME" (%f and %n). With one separator, there.
 * With more (a name holds the byte 0x1f), where the sender's name ends
 * with the other, as it does, if that is one place only. */
static int rsync_split_names(char *s, char **f, char **n)
{
	size_t sl = strlen(RS_SEP);
	char *at = NULL;
	int found = 0;

	for (char *sep = strstr(s, RS_SEP); sep; sep = strstr(sep + 1, RS_SEP))
		found++;
	if (found == 1) {
		at = strstr(s, RS_SEP);
	} else if (found > 1) {
		int fits = 0;

		for (char *sep = strstr(s, RS_SEP); sep;
		     sep = strstr(sep + 1, RS_SEP)) {
			const char *name = sep + sl;
			size_t nl = strlen(name), fl = (size_t)(sep - s);

			while (nl > 0 && name[nl - 1] == '/')
				nl--;
			if (nl <= fl && !strncmp(sep - nl, name, nl)) {
				fits++;
				at = sep;
			}
		}
		if (fits != 1)
			at = NULL;
	}
	if (!at)
		return -1;
	*at = 0;
	*f = s;
	*n = at + sl;
	return 0;
}

static int rsync_line(const struct tool_ctx *c, struct tool_plan *p,
		      const struct rsync_run *r, char *line, struct sd_err *err)
{
	char *f[RS_FIELDS], *s = line, *path = NULL, detail[320];
	const char *it;
	struct stat st;
	bool have_st, is_new;
	char type, x;
	uint64_t len;
	int rc = 0, n = 0;

	if (!strncmp(line, "created directory ", 18))
		return 0; /* the "cd+++++++++ ./" line says it */
	if (!strncmp(line, "skipping ", 9) ||
	    !strncmp(line, "cannot delete non-empty directory: ", 35)) {
		rsync_unescape(line);
		return fact_line(p, err, "notes", "%s", line);
	}
	/* The first five fields never hold a separator; the last two are
	 * names, and a name with a 0x1f byte in it prints like one. */
	for (; n < RS_FIELDS - 2; n++) {
		char *sep = strstr(s, RS_SEP);

		if (!sep)
			goto unparsed;
		*sep = 0;
		f[n] = s;
		s = sep + strlen(RS_SEP);
	}
	if (rsync_split_names(s, &f[5], &f[6]) < 0)
		goto unparsed;
	if (strlen(f[0]) != 11 || !*f[6])
		goto unparsed;
	it = f[0];
	for (int i = 1; i < RS_FIELDS; i++)
		rsync_unescape(f[i]);
	len = strtoull(f[1], NULL, 10);
	if (!strncmp(it, "*deleting", 9)) {
		if (!(path = rsync_dest_path(r, f[6])))
			return oom(err);
		have_st = !r->remote_dest && lstat(path, &st) == 0;
		type = r->remote_dest		       ? 'o'
		       : have_st		       ? type_of(st.st_mode)
		       : f[6][strlen(f[6]) - 1] == '/' ? 'd'
						       : 'f';
		rc = add_effect(p, err, EFFECT_DELETE, path, NULL, type, 1,
				have_st && !S_ISDIR(st.st_mode)
					? (uint64_t)st.st_size
					: 0,
				r->backup ? "backup kept" : NULL);
		free(path);
		return rc;
	}
	if (!strchr("<>ch.", it[0]) || !strchr("fdLDS", it[1]))
		goto unparsed;
	for (int i = 2; i < 11; i++)
		if (!strchr("+. ?cstTpoguanbx", it[i]))
			goto unparsed;
	x = it[1];
	is_new = !strcmp(it + 2, "+++++++++");
	type = x == 'f' ? 'f' : x == 'd' ? 'd' : x == 'L' ? 'l' : 's';
	if (r->remove_src && x != 'd' && it[0] != '*') {
		/* The sender removes each non-directory it has on the
		 * receiver, sent now or already there. */
		char *src = r->local_src ? host_path(c, f[5]) : strdup(f[5]);

		if (!src)
			return oom(err);
		rc = add_effect(p, err, EFFECT_DELETE, src, NULL,
				r->local_src ? type : 'o', 1, len,
				"source removed after the transfer");
		free(src);
		if (rc < 0)
			return -1;
	}
	if (!(path = rsync_dest_path(r, f[6])))
		return oom(err);
	have_st = !r->remote_dest && lstat(path, &st) == 0;
	if (r->remote_dest)
		type = 'o';
	if (it[0] == '.') {
		/* Attributes only. */
		if (strchr(it + 2, 'p')) {
			int m = perms_parse(f[2]);

			if (have_st && m >= 0)
				snprintf(detail, sizeof(detail), "%04o -> %04o",
					 (unsigned)st.st_mode & 07777,
					 (unsigned)m);
			else
				snprintf(detail, sizeof(detail), "-> %s", f[2]);
			rc = add_effect(p, err, EFFECT_MODE, path, NULL, type,
					1, 0, detail);
		}
		if (rc == 0 && (it[6] == 'o' || it[7] == 'g')) {
			char was[128] = "?", now[128];
			char *e1, *e2;
			unsigned long u = strtoul(f[3], &e1, 10);
			unsigned long g = strtoul(f[4], &e2, 10);

			if (have_st)
				owner_name(st.st_uid, st.st_gid, was,
					   sizeof(was));
			if (*e1 || *e2)
				snprintf(now, sizeof(now), "%s:%s", f[3], f[4]);
			else
				owner_name((uid_t)u, (gid_t)g, now,
					   sizeof(now));
			snprintf(detail, sizeof(detail), "%s -> %s", was, now);
			rc = add_effect(p, err, EFFECT_OWNER, path, NULL, type,
					1, 0, detail);
		}
		free(path);
		return rc;
	}
	if (is_new) {
		rc = add_effect(p, err, EFFECT_CREATE, path, NULL, type, 1,
				x == 'f' ? len : 0, NULL);
	} else if (have_st && S_ISREG(st.st_mode)) {
		snprintf(detail, sizeof(detail), "replaced, was %llu bytes%s",
			 (unsigned long long)st.st_size,
			 r->backup ? "; backup kept" : "");
		rc = add_effect(p, err, EFFECT_MODIFY, path, NULL, type, 1,
				x == 'f' ? len : 0, detail);
	} else {
		rc = add_effect(p, err, EFFECT_MODIFY, path, NULL, type, 1,
				x == 'f' ? len : 0,
				r->backup ? "replaced; backup kept"
					  : "replaced");
	}
	free(path);
	return rc;
unparsed:
	return err_set(err, SD_EXIT_SAFERUN,
		       "cannot parse rsync's dry run: '%s'", line);
}

static int plan_rsync(const struct tool_ctx *c, struct tool_plan *p,
		      struct sd_err *err)
{
	struct cmdline cl;
	struct argvec a = {0};
	struct rsync_run r = {0};
	char *out = NULL, *line, *save = NULL;
	int rc = -1;

	if (parse_cmdline("rsync", c->argv, c->argc, 1, rsync_opts,
			  P_PERMUTE | P_POSIX | P_NEG, &cl, err) < 0)
		return -1;
	if (plan_begin(p, FIDELITY_NATIVE, err) < 0)
		goto out;
	if (only_prints(&cl) || cl_has(&cl, RS_DRY)) {
		rc = 0; /* prints, or is a dry run itself: changes nothing */
		goto out;
	}
	for (size_t i = 0; i < cl.nev; i++)
		if (cl.ev[i].id == RS_REFUSE) {
			err_set(err, SD_EXIT_SAFERUN,
				"cannot plan 'rsync' with '--%s': a batch "
				"file has no dry run",
				cl.ev[i].lng);
			goto out;
		}
	if (cl.nops < 2) {
		err_set(err, SD_EXIT_SAFERUN,
			"cannot plan 'rsync': no destination (with one "
			"operand rsync only lists)");
		goto out;
	}
	r.dest = cl.ops[cl.nops - 1];
	r.remote_dest = rsync_remote(r.dest);
	r.remove_src = cl_has(&cl, RS_REMOVE_SRC);
	r.backup = cl_has(&cl, RS_BACKUP);
	r.local_src = true;
	for (size_t i = 0; i + 1 < cl.nops; i++)
		if (rsync_remote(cl.ops[i]))
			r.local_src = false;
	if (!r.remote_dest) {
		struct stat st, sst;
		size_t dl = strlen(r.dest);
		char *src0;

		if (!(r.dest_abs = host_path(c, r.dest))) {
			oom(err);
			goto out;
		}
		/* One file to a name that is not a directory: the name is
		 * the file. */
		src0 = r.local_src ? at_cwd(c, cl.ops[0]) : NULL;
		if (cl.nops == 2 && src0 && dl && r.dest[dl - 1] != '/' &&
		    (stat(r.dest_abs, &st) < 0 || !S_ISDIR(st.st_mode)) &&
		    stat(src0, &sst) == 0 && !S_ISDIR(sst.st_mode))
			r.dest_is_file = true;
		free(src0);
	} else if (json_object_set_new(p->facts, "remote", json_text(r.dest)) <
		   0) {
		oom(err);
		goto out;
	}
	argv_add(&a, c->argv[0]);
	argv_add(&a, "--dry-run");
	argv_add(&a, "--itemize-changes");
	if (r.remove_src)
		argv_add(&a, "--itemize-changes"); /* the unchanged too */
	argv_add(&a, "--out-format=%i\037%l\037%B\037%U\037%G\037%f\037%n");
	for (size_t i = 0; i < cl.nev; i++) {
		const struct optev *e = &cl.ev[i];

		if (e->id == RS_DROP || e->id == OPT_HELP ||
		    e->id == OPT_VERSION)
			continue;
		if (e->id == RS_DROP_P) {
			argv_add(&a, "--partial");
			continue;
		}
		if (e->id == OPT_NEG)
			argv_own(&a, xasprintf("--%s", e->lng));
		else if (e->shrt) {
			argv_own(&a, xasprintf("-%c", e->shrt));
			if (e->arg)
				argv_add(&a, e->arg);
		} else if (e->arg)
			argv_own(&a, xasprintf("--%s=%s", e->lng, e->arg));
		else
			argv_own(&a, xasprintf("--%s", e->lng));
	}
	argv_add(&a, "--");
	for (size_t i = 0; i < cl.nops; i++)
		argv_add(&a, cl.ops[i]);
	if (a.failed) {
		oom(err);
		goto out;
	}
	if (set_native(p, a.v, err) < 0 ||
	    run_native(c, a.v, "rsync --dry-run", &out, err) < 0)
		goto out;
	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (rsync_line(c, p, &r, line, err) < 0)
			goto out;
	/* What the plan was computed against: the local sources and the
	 * local destination, whole. */
	for (size_t i = 0; i < cl.nops; i++) {
		char *abs;
		int t;

		if (rsync_remote(cl.ops[i]))
			continue;
		abs = host_path(c, cl.ops[i]);
		t = abs ? add_target(p, abs, true, err) : oom(err);
		free(abs);
		if (t < 0)
			goto out;
	}
	rc = 0;
out:
	free(out);
	free(r.dest_abs);
	argv_release(&a);
	cmdline_release(&cl);
	return rc;
}

/* ---------------------------------------------------------------------
 * git clean: run as git clean -n with the same options (-f only when
 * doubled, which also removes nested repositories; -i and -q left out);
 * "Would remove P" is a delete, a directory counted from the filesystem.
 * git reset --hard [REV]: a preview from git diff of what the work tree
 * loses, and an undo from git stash create.
 */

static bool match_git_clean(const struct tool_ctx *c)
{
	return c->argc > 1 && streq(c->argv[1], "clean");
}

static bool match_git_reset(const struct tool_ctx *c)
{
	if (c->argc < 2 || !streq(c->argv[1], "reset"))
		return false;
	for (int i = 2; i < c->argc && strcmp(c->argv[i], "--"); i++)
		if (!strcmp(c->argv[i], "--hard"))
			return true;
	return false;
}

/* git's C-style quoting of a path undone ("a\nb", octal escapes). The
 * unquoted path is malloc'd in *out; -1 when s is not a quoted path. */
static int git_unquote(const char *s, char **out)
{
	size_t len = strlen(s);
	char *o;

	if (s[0] != '"') {
		*out = strdup(s);
		return *out ? 0 : -1;
	}
	if (len < 2 || s[len - 1] != '"' || !(o = malloc(len)))
		return -1;
	*out = o;
	for (size_t i = 1; i < len - 1; i++) {
		const char *esc = "abfnrtv\\\"", *rep = "\a\b\f\n\r\t\v\\\"";
		const char *hit;

		if (s[i] != '\\') {
			*o++ = s[i];
			continue;
		}
		if (++i >= len - 1)
			goto bad;
		if ((hit = strchr(esc, s[i])) && *hit) {
			*o++ = rep[hit - esc];
		} else if (s[i] >= '0' && s[i] <= '3' && i + 2 < len - 1 &&
			   s[i + 1] >= '0' && s[i + 1] <= '7' &&
			   s[i + 2] >= '0' && s[i + 2] <= '7') {
			*o++ = (char)((s[i] - '0') * 64 + (s[i + 1] - '0') * 8 +
				      (s[i + 2] - '0'));
			i += 2;
		} else {
			goto bad;
		}
	}
	*o = 0;
	return 0;
bad:
	free(*out);
	*out = NULL;
	return -1;
}

enum {
	GC_QUIET = 1,
	GC_DRY,
	GC_FORCE,
	GC_INTERACTIVE,
	GC_DIRS,
	GC_EXCLUDE,
	GC_X,
	GC_BIG_X,
};

static const struct optdef git_clean_opts[] = {
	{"quiet", 'q', ARG_NONE, GC_QUIET},
	{"dry-run", 'n', ARG_NONE, GC_DRY},
	{"force", 'f', ARG_NONE, GC_FORCE},
	{"interactive", 'i', ARG_NONE, GC_INTERACTIVE},
	{NULL, 'd', ARG_NONE, GC_DIRS},
	{"exclude", 'e', ARG_REQ, GC_EXCLUDE},
	{NULL, 'x', ARG_NONE, GC_X},
	{NULL, 'X', ARG_NONE, GC_BIG_X},
	{NULL, 0, 0, 0},
};

/* Whether git clean would run at all without -f or -i. */
static int git_clean_forced(const struct tool_ctx *c, bool *forced,
			    struct sd_err *err)
{
	char *argv[] = {c->argv[0], "config", "--type=bool",
			"clean.requireForce", NULL};
	char *out = NULL, *errout = NULL;
	int status;

	if (run_raw(c, argv, &out, &errout, &status, err) < 0)
		return -1;
	*forced = WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
		  !strncmp(out, "false", 5);
	free(out);
	free(errout);
	return 0;
}

static int git_clean_path(const struct tool_ctx *c, struct tool_plan *p,
			  const char *rel, struct resolver *r,
			  struct sd_err *err)
{
	char *abs = host_path_r(c, rel, r);
	struct rmtree_count cnt;
	struct stat st;
	int rc;

	if (!abs)
		return oom(err);
	if (lstat(abs, &st) < 0) {
		rc = add_target(p, abs, false, err); /* gone meanwhile */
	} else if (S_ISDIR(st.st_mode)) {
		rc = count_tree(abs, false, &cnt, err);
		if (rc == 0)
			rc = add_effect(p, err, EFFECT_DELETE, abs, NULL, 'd',
					cnt.files + cnt.dirs, cnt.bytes, NULL);
		if (rc == 0)
			rc = add_target(p, abs, true, err);
	} else {
		rc = add_effect(p, err, EFFECT_DELETE, abs, NULL,
				type_of(st.st_mode), 1, (uint64_t)st.st_size,
				NULL);
		if (rc == 0)
			rc = add_target(p, abs, false, err);
	}
	free(abs);
	return rc;
}

static int plan_git_clean(const struct tool_ctx *c, struct tool_plan *p,
			  struct sd_err *err)
{
	struct cmdline cl;
	struct argvec a = {0};
	struct resolver r = {0};
	char *out = NULL, *line, *save = NULL;
	int force = 0, rc = -1;
	bool interactive = false;

	if (parse_cmdline("git clean", c->argv, c->argc, 2, git_clean_opts,
			  P_PERMUTE | P_ABBREV, &cl, err) < 0)
		return -1;
	if (plan_begin(p, FIDELITY_NATIVE, err) < 0)
		goto out;
	if (cl_has(&cl, GC_DRY)) {
		rc = 0; /* a dry run itself: removes nothing */
		goto out;
	}
	argv_add(&a, c->argv[0]);
	argv_add(&a, "clean");
	argv_add(&a, "-n");
	for (size_t i = 0; i < cl.nev; i++) {
		const struct optev *e = &cl.ev[i];

		switch (e->id) {
		case GC_FORCE:
			force++;
			break;
		case GC_INTERACTIVE:
			interactive = true;
			break;
		case GC_DIRS:
			argv_add(&a, "-d");
			break;
		case GC_X:
			argv_add(&a, "-x");
			break;
		case GC_BIG_X:
			argv_add(&a, "-X");
			break;
		case GC_EXCLUDE:
			argv_add(&a, "-e");
			argv_add(&a, e->arg);
			break;
		default:
			break;
		}
	}
	if (force >= 2) {
		argv_add(&a, "-f");
		argv_add(&a, "-f");
	}
	argv_add(&a, "--");
	for (size_t i = 0; i < cl.nops; i++)
		argv_add(&a, cl.ops[i]);
	if (a.failed) {
		oom(err);
		goto out;
	}
	if (!force && !interactive) {
		bool forced;

		if (git_clean_forced(c, &forced, err) < 0)
			goto out;
		if (!forced) {
			err_set(err, SD_EXIT_SAFERUN,
				"git clean would refuse to run: "
				"clean.requireForce is true and neither -f "
				"nor -i is given");
			goto out;
		}
	}
	if (set_native(p, a.v, err) < 0 ||
	    run_native(c, a.v, "git clean -n", &out, err) < 0)
		goto out;
	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *path = NULL;
		int t;

		if (!strncmp(line, "Would skip repository ", 22))
			continue;
		if (!strncmp(line, "Would refuse to remove ", 23)) {
			if (fact_line(p, err, "notes", "%s", line + 6) < 0)
				goto out;
			continue;
		}
		if (strncmp(line, "Would remove ", 13) ||
		    git_unquote(line + 13, &path) < 0 || !*path) {
			free(path);
			err_set(err, SD_EXIT_SAFERUN,
				"cannot parse git clean's dry run: '%s'", line);
			goto out;
		}
		t = git_clean_path(c, p, path, &r, err);
		free(path);
		if (t < 0)
			goto out;
	}
	rc = 0;
out:
	resolver_release(&r);
	free(out);
	argv_release(&a);
	cmdline_release(&cl);
	return rc;
}

enum {
	GR_HARD = 1,
	GR_OTHER_MODE,
	GR_QUIET,
	GR_REFRESH,
	GR_RECURSE,
	GR_NO_RECURSE,
};

static const struct optdef git_reset_opts[] = {
	{"hard", 0, ARG_NONE, GR_HARD},
	{"soft", 0, ARG_NONE, GR_OTHER_MODE},
	{"mixed", 0, ARG_NONE, GR_OTHER_MODE},
	{"merge", 0, ARG_NONE, GR_OTHER_MODE},
	{"keep", 0, ARG_NONE, GR_OTHER_MODE},
	{"quiet", 'q', ARG_NONE, GR_QUIET},
	{"no-quiet", 0, ARG_NONE, GR_QUIET},
	{"refresh", 0, ARG_NONE, GR_REFRESH},
	{"no-refresh", 0, ARG_NONE, GR_REFRESH},
	{"recurse-submodules", 0, ARG_OPT, GR_RECURSE},
	{"no-recurse-submodules", 0, ARG_NONE, GR_NO_RECURSE},
	{NULL, 0, 0, 0},
};

/* One "git diff --name-status -z" entry. */
struct git_change {
	char status;
	char *path;
	long added, deleted; /* numstat; -1 for binary or unknown */
};

struct git_changes {
	struct git_change *v;
	size_t n;
};

static void git_changes_release(struct git_changes *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->v[i].path);
	free(g->v);
	g->v = NULL;
	g->n = 0;
}

static struct git_change *git_change_find(const struct git_changes *g,
					  const char *path)
{
	for (size_t i = 0; i < g->n; i++)
		if (!strcmp(g->v[i].path, path))
			return &g->v[i];
	return NULL;
}

/* "S\tpath" lines (paths quoted by git when they need it) into g. */
static int git_parse_name_status(char *out, struct git_changes *g,
				 struct sd_err *err)
{
	char *save = NULL;

	for (char *line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		struct git_change *v;
		char *path = NULL;

		if (!strchr("MTADU", line[0]) || line[1] != '\t' ||
		    git_unquote(line + 2, &path) < 0 || !*path) {
			free(path);
			return err_set(err, SD_EXIT_SAFERUN,
				       "cannot parse git diff's output: '%s'",
				       line);
		}
		if (!(v = realloc(g->v, (g->n + 1) * sizeof(*v)))) {
			free(path);
			return oom(err);
		}
		g->v = v;
		v[g->n++] = (struct git_change){.status = line[0],
						.path = path,
						.added = -1,
						.deleted = -1};
	}
	return 0;
}

/* "added\tdeleted\tpath" lines onto the entries of g ("-" for binary). */
static void git_parse_numstat(char *out, struct git_changes *g)
{
	char *save = NULL;

	for (char *line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *t1 = strchr(line, '\t'), *t2, *path = NULL;
		struct git_change *ch;

		if (!t1 || !(t2 = strchr(t1 + 1, '\t')) ||
		    git_unquote(t2 + 1, &path) < 0)
			continue;
		if ((ch = git_change_find(g, path)) && line[0] != '-') {
			ch->added = strtol(line, NULL, 10);
			ch->deleted = strtol(t1 + 1, NULL, 10);
		}
		free(path);
	}
}

static int git_diff(const struct tool_ctx *c, const char *what, const char *rev,
		    struct git_changes *g, struct sd_err *err)
{
	char *argv[] = {c->argv[0],	"diff",
			"--no-renames", "--no-ext-diff",
			"--no-color",	"--no-relative",
			(char *)what,	(char *)rev,
			"--",		NULL};
	char *out = NULL;
	int rc = 0;

	if (run_native(c, argv, "git diff", &out, err) < 0)
		return -1;
	if (!strcmp(what, "--numstat"))
		git_parse_numstat(out, g);
	else
		rc = git_parse_name_status(out, g, err);
	free(out);
	return rc;
}

/* The lines of a git command's output, in place: up to n, the count. */
static int split_lines(char *out, char **lines, int n)
{
	int got = 0;
	char *save = NULL;

	for (char *l = strtok_r(out, "\n", &save); l && got < n;
	     l = strtok_r(NULL, "\n", &save))
		lines[got++] = l;
	return got;
}

/* git stash create, with the index copied (stash create rewrites the
 * index it reads, which would change the index fingerprint with every
 * plan) and the dates of HEAD (the same changes give the same commit, so
 * that planning again gives the same plan). The oid, or "" when there is
 * nothing to save; NULL with err when it fails. */
static char *git_stash_create(const struct tool_ctx *c, const char *index,
			      const char *when, struct sd_err *err)
{
	char copy[PATH_MAX] = "", *data = NULL, *out = NULL, *errout = NULL;
	char *env_index = NULL, *env_ad = NULL, *env_cd = NULL, *oid = NULL;
	size_t len = 0;
	int status = 0;

	if (private_file(c, "index", copy, sizeof(copy), err) < 0)
		return NULL;
	if (fs_read_file(index, (size_t)1 << 31, &data, &len, err) < 0 ||
	    fs_write_atomic(copy, data, len, 0600, err) < 0)
		goto out;
	env_index = xasprintf("GIT_INDEX_FILE=%s", copy);
	env_ad = xasprintf("GIT_AUTHOR_DATE=@%s +0000", when);
	env_cd = xasprintf("GIT_COMMITTER_DATE=@%s +0000", when);
	if (!env_index || !env_ad || !env_cd) {
		oom(err);
		goto out;
	}
	{
		/* Without a configured identity, a stand-in one: the undo
		 * commit is never published. */
		char *plain[] = {"env",	     env_index, env_ad,	  env_cd,
				 c->argv[0], "stash",	"create", NULL};
		char *stand_in[] = {"env",
				    env_index,
				    env_ad,
				    env_cd,
				    "GIT_AUTHOR_NAME=saferun",
				    "GIT_AUTHOR_EMAIL=saferun@localhost",
				    "GIT_COMMITTER_NAME=saferun",
				    "GIT_COMMITTER_EMAIL=saferun@localhost",
				    c->argv[0],
				    "stash",
				    "create",
				    NULL};
		char **tries[] = {plain, stand_in}, why[512];

		for (int t = 0; t < 2; t++) {
			free(out);
			free(errout);
			out = errout = NULL;
			if (run_raw(c, tries[t], &out, &errout, &status, err) <
			    0)
				goto out;
			if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
				out[strcspn(out, "\n")] = 0;
				if (!(oid = strdup(out)))
					oom(err);
				goto out;
			}
			why_failed(errout, status, why, sizeof(why));
			err_set(err, SD_EXIT_SAFERUN,
				"git stash create failed: %s", why);
		}
	}
out:
	if (copy[0])
		unlink(copy);
	free(data);
	free(out);
	free(errout);
	free(env_index);
	free(env_ad);
	free(env_cd);
	return oid;
}

static int plan_git_reset(const struct tool_ctx *c, struct tool_plan *p,
			  struct sd_err *err)
{
	struct cmdline cl;
	struct git_changes dirty = {0}, to_rev = {0}, *changes = &dirty;
	char *out[5] = {NULL}, *lines[4], *top = NULL, *index = NULL;
	char *head_file = NULL, *head = NULL, *when = NULL, *rev = NULL;
	char *ref = NULL, *stash = NULL, *native = NULL;
	const char *rev_arg = "HEAD";
	bool hard = false;
	int rc = -1;

	if (parse_cmdline("git reset", c->argv, c->argc, 2, git_reset_opts,
			  P_PERMUTE | P_ABBREV, &cl, err) < 0)
		return -1;
	for (size_t i = 0; i < cl.nev; i++)
		if (cl.ev[i].id == GR_HARD || cl.ev[i].id == GR_OTHER_MODE)
			hard = cl.ev[i].id == GR_HARD;
	if (!hard) {
		err_set(err, SD_EXIT_SAFERUN,
			"cannot plan 'git reset': only 'git reset --hard' is "
			"planned");
		goto out;
	}
	if (cl.nops > 1) {
		err_set(err, SD_EXIT_SAFERUN,
			"cannot plan 'git reset': a hard reset takes one "
			"commit, not paths");
		goto out;
	}
	if (cl.nops)
		rev_arg = cl.ops[0];
	if (plan_begin(p, FIDELITY_PREVIEW, err) < 0)
		goto out;
	{
		char *argv[] = {c->argv[0],   "rev-parse", "--show-toplevel",
				"--git-path", "index",	   "--git-path",
				"HEAD",	      NULL};

		if (run_native(c, argv, "git rev-parse", &out[0], err) < 0)
			goto out;
		if (split_lines(out[0], lines, 3) != 3) {
			err_set(err, SD_EXIT_SAFERUN,
				"cannot plan 'git reset': not in a work tree");
			goto out;
		}
		top = strdup(lines[0]);
		index = host_path(c, lines[1]);
		head_file = host_path(c, lines[2]);
		if (!top || !index || !head_file) {
			oom(err);
			goto out;
		}
	}
	{
		char *argv[] = {
			c->argv[0],	    "log",  "-1", "--no-show-signature",
			"--format=%H%n%ct", "HEAD", "--", NULL};

		if (run_native(c, argv, "git log", &out[1], err) < 0)
			goto out;
		if (split_lines(out[1], lines, 2) != 2) {
			err_set(err, SD_EXIT_SAFERUN,
				"cannot plan 'git reset': no HEAD commit");
			goto out;
		}
		head = lines[0];
		when = lines[1];
	}
	{
		char *spec = xasprintf("%s^{commit}", rev_arg), *errout = NULL;
		char *argv[] = {c->argv[0], "rev-parse",	"--verify",
				"--quiet",  "--end-of-options", spec,
				NULL};
		int status = 0;

		if (!spec) {
			oom(err);
			goto out;
		}
		rc = run_raw(c, argv, &out[2], &errout, &status, err);
		free(spec);
		free(errout);
		if (rc < 0)
			goto out;
		rc = -1;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
		    split_lines(out[2], lines, 1) != 1) {
			err_set(err, SD_EXIT_SAFERUN,
				"cannot plan 'git reset': '%s' is not a "
				"commit",
				rev_arg);
			goto out;
		}
		rev = lines[0];
	}
	{
		char *argv[] = {c->argv[0], "symbolic-ref", "-q", "HEAD", NULL};
		char *errout = NULL;
		int status = 0;

		if (run_raw(c, argv, &out[3], &errout, &status, err) < 0)
			goto out;
		free(errout);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
		    split_lines(out[3], lines, 1) == 1) {
			char *argv2[] = {c->argv[0],   "rev-parse",
					 "--git-path", lines[0],
					 "--git-path", "packed-refs",
					 NULL};

			if (run_native(c, argv2, "git rev-parse", &out[4],
				       err) < 0)
				goto out;
			if (split_lines(out[4], lines, 2) != 2 ||
			    !(ref = host_path(c, lines[0]))) {
				err_set(err, SD_EXIT_SAFERUN,
					"cannot plan 'git reset': cannot "
					"find the branch's ref file");
				goto out;
			}
			if (access(ref, F_OK) < 0) {
				/* packed: that file is the ref's state */
				free(ref);
				if (!(ref = host_path(c, lines[1]))) {
					oom(err);
					goto out;
				}
			}
		}
	}
	/* What differs from HEAD (the uncommitted changes), and, for
	 * another commit, from it: what the work tree becomes. */
	if (git_diff(c, "--name-status", "HEAD", &dirty, err) < 0 ||
	    git_diff(c, "--numstat", "HEAD", &dirty, err) < 0)
		goto out;
	if (strcmp(rev, head)) {
		if (git_diff(c, "--name-status", rev, &to_rev, err) < 0)
			goto out;
		changes = &to_rev;
	}
	for (size_t i = 0; i < changes->n; i++) {
		const struct git_change *ch = &changes->v[i];
		const struct git_change *d = git_change_find(&dirty, ch->path);
		char *abs = xasprintf("%s/%s", top, ch->path), detail[256];
		struct stat st;
		bool exists;
		int t = 0;

		if (!abs) {
			oom(err);
			goto out;
		}
		exists = lstat(abs, &st) == 0;
		if (d && d->added >= 0)
			snprintf(detail, sizeof(detail),
				 "uncommitted changes lost (+%ld -%ld)",
				 d->added, d->deleted);
		else if (d)
			snprintf(detail, sizeof(detail),
				 "uncommitted changes lost");
		else
			snprintf(detail, sizeof(detail), "as in '%s'", rev_arg);
		switch (ch->status) {
		case 'M':
		case 'T':
		case 'U':
			if (ch->status == 'U')
				snprintf(detail, sizeof(detail),
					 "unresolved merge conflict lost");
			t = add_effect(p, err, EFFECT_MODIFY, abs, NULL,
				       exists ? type_of(st.st_mode) : 'f', 1,
				       exists ? (uint64_t)st.st_size : 0,
				       detail);
			break;
		case 'A':
			/* In the index, not in the commit: it goes. */
			if (exists)
				t = add_effect(p, err, EFFECT_DELETE, abs, NULL,
					       type_of(st.st_mode), 1,
					       (uint64_t)st.st_size,
					       d && d->status == 'A'
						       ? "staged new file lost"
						       : detail);
			break;
		case 'D':
			/* In the commit, not in the index or the work
			 * tree: it comes back, over an untracked file in
			 * its way. */
			if (exists)
				t = add_effect(p, err, EFFECT_OVERWRITE, abs,
					       NULL, type_of(st.st_mode), 1,
					       (uint64_t)st.st_size,
					       "untracked file replaced");
			else
				t = add_effect(p, err, EFFECT_CREATE, abs, NULL,
					       'f', 1, 0,
					       d ? "deleted file restored"
						 : detail);
			break;
		}
		if (t == 0)
			t = add_target(p, abs, false, err);
		free(abs);
		if (t < 0)
			goto out;
	}
	if (json_object_set_new(p->facts, "head", json_string(head)) < 0 ||
	    (strcmp(rev, head) &&
	     json_object_set_new(p->facts, "rev", json_string(rev)) < 0)) {
		oom(err);
		goto out;
	}
	if (access(index, F_OK) == 0) {
		struct sd_err serr = {0};

		stash = git_stash_create(c, index, when, &serr);
		if (stash && *stash) {
			char *undo = xasprintf("git stash apply %s", stash);

			if (!undo ||
			    json_object_set_new(p->facts, "undo",
						json_string(undo)) < 0) {
				free(undo);
				oom(err);
				goto out;
			}
			free(undo);
		} else if (!stash &&
			   json_object_set_new(p->facts, "undo_error",
					       json_string(serr.msg)) < 0) {
			oom(err);
			goto out;
		}
	}
	if (add_target(p, index, false, err) < 0 ||
	    add_target(p, head_file, false, err) < 0 ||
	    (ref && add_target(p, ref, false, err) < 0))
		goto out;
	native = xasprintf("git diff --name-status %s", rev);
	if (!native) {
		oom(err);
		goto out;
	}
	p->native = native;
	native = NULL;
	rc = 0;
out:
	for (size_t i = 0; i < sizeof(out) / sizeof(*out); i++)
		free(out[i]);
	free(top);
	free(index);
	free(head_file);
	free(ref);
	free(stash);
	free(native);
	git_changes_release(&dirty);
	git_changes_release(&to_rev);
	cmdline_release(&cl);
	return rc;
}

/* ---------------------------------------------------------------------
 * chmod, chown, chgrp: emulated. A walk of each operand (symlinks found
 * on the way never followed, except with chown -L; an operand that is a
 * symlink followed as the tool does), one effect per file whose mode or
 * owner would change.
 */

/* The modes, as gnulib's modechange.c reads and applies them: numeric
 * (fewer than 5 digits keep a directory's set-id bits), or clauses
 * [ugoa]*([-+=]([rwxXst]*|[ugo]))+ and [-+=][0-7]+ separated by commas; no
 * "who" means all, less the umask. */
#define CHMOD_BITS 07777
#define ALL_RWX	   0777

enum { MC_ORDINARY, MC_X_IF_ANY_X, MC_COPY };

struct mode_change {
	char op;   /* '=', '+', '-'; 0 ends the list */
	char flag; /* MC_* */
	mode_t affected, value, mentioned;
};

static struct mode_change *mode_equals(mode_t mode, mode_t mentioned)
{
	struct mode_change *m = calloc(2, sizeof(*m));

	if (m)
		m[0] = (struct mode_change){.op = '=',
					    .flag = MC_ORDINARY,
					    .affected = CHMOD_BITS,
					    .value = mode,
					    .mentioned = mentioned};
	return m;
}

/* NULL when s is not a mode (errno EINVAL) or out of memory (ENOMEM). */
static struct mode_change *mode_compile(const char *s)
{
	struct mode_change *mc;
	size_t used = 0, need = 1;
	const char *p;

	if (*s >= '0' && *s < '8') {
		unsigned octal = 0;

		for (p = s; *p >= '0' && *p < '8'; p++)
			if ((octal = 8 * octal + (unsigned)(*p - '0')) >
			    CHMOD_BITS)
				goto invalid0;
		if (*p)
			goto invalid0;
		return mode_equals(octal,
				   p - s < 5 ? (octal & (S_ISUID | S_ISGID)) |
						       S_ISVTX | ALL_RWX
					     : CHMOD_BITS);
	}
	for (p = s; *p; p++)
		need += *p == '=' || *p == '+' || *p == '-';
	if (!(mc = calloc(need, sizeof(*mc)))) {
		errno = ENOMEM;
		return NULL;
	}
	for (p = s;; p++) {
		mode_t affected = 0;

		for (;; p++) {
			if (*p == 'u')
				affected |= S_ISUID | S_IRWXU;
			else if (*p == 'g')
				affected |= S_ISGID | S_IRWXG;
			else if (*p == 'o')
				affected |= S_ISVTX | S_IRWXO;
			else if (*p == 'a')
				affected |= CHMOD_BITS;
			else if (*p == '=' || *p == '+' || *p == '-')
				break;
			else
				goto invalid;
		}
		do {
			char op = *p++, flag = MC_COPY;
			mode_t value, mentioned = 0;

			if (*p >= '0' && *p < '8') {
				unsigned octal = 0;

				for (; *p >= '0' && *p < '8'; p++)
					if ((octal = 8 * octal +
						     (unsigned)(*p - '0')) >
					    CHMOD_BITS)
						goto invalid;
				if (affected || (*p && *p != ','))
					goto invalid;
				affected = mentioned = CHMOD_BITS;
				value = octal;
				flag = MC_ORDINARY;
			} else if (*p == 'u') {
				value = S_IRWXU;
				p++;
			} else if (*p == 'g') {
				value = S_IRWXG;
				p++;
			} else if (*p == 'o') {
				value = S_IRWXO;
				p++;
			} else {
				value = 0;
				flag = MC_ORDINARY;
				for (;; p++) {
					if (*p == 'r')
						value |= S_IRUSR | S_IRGRP |
							 S_IROTH;
					else if (*p == 'w')
						value |= S_IWUSR | S_IWGRP |
							 S_IWOTH;
					else if (*p == 'x')
						value |= S_IXUSR | S_IXGRP |
							 S_IXOTH;
					else if (*p == 'X')
						flag = MC_X_IF_ANY_X;
					else if (*p == 's')
						value |= S_ISUID | S_ISGID;
					else if (*p == 't')
						value |= S_ISVTX;
					else
						break;
				}
			}
			mc[used++] = (struct mode_change){
				.op = op,
				.flag = flag,
				.affected = affected,
				.value = value,
				.mentioned = mentioned	? mentioned
					     : affected ? affected & value
							: value};
		} while (*p == '=' || *p == '+' || *p == '-');
		if (*p != ',')
			break;
	}
	if (*p == 0)
		return mc;
invalid:
	free(mc);
invalid0:
	errno = EINVAL;
	return NULL;
}

static mode_t mode_adjust(mode_t old, bool dir, mode_t umask_value,
			  const struct mode_change *ch)
{
	mode_t mode = old & CHMOD_BITS;

	for (; ch->op; ch++) {
		mode_t affected = ch->affected, value = ch->value;
		mode_t omit = (dir ? S_ISUID | S_ISGID : 0) & ~ch->mentioned;

		if (ch->flag == MC_COPY) {
			value &= mode;
			value |= ((value & (S_IRUSR | S_IRGRP | S_IROTH)
					   ? S_IRUSR | S_IRGRP | S_IROTH
					   : 0) |
				  (value & (S_IWUSR | S_IWGRP | S_IWOTH)
					   ? S_IWUSR | S_IWGRP | S_IWOTH
					   : 0) |
				  (value & (S_IXUSR | S_IXGRP | S_IXOTH)
					   ? S_IXUSR | S_IXGRP | S_IXOTH
					   : 0));
		} else if (ch->flag == MC_X_IF_ANY_X) {
			if ((mode & (S_IXUSR | S_IXGRP | S_IXOTH)) || dir)
				value |= S_IXUSR | S_IXGRP | S_IXOTH;
		}
		value &= (affected ? affected : ~umask_value) & ~omit;
		if (ch->op == '=') {
			mode_t preserved = (affected ? ~affected : 0) | omit;

			mode = (mode & preserved) | value;
		} else if (ch->op == '+') {
			mode |= value;
		} else {
			mode &= ~value;
		}
	}
	return mode;
}

static mode_t current_umask(void)
{
	mode_t m = umask(0);

	umask(m);
	return m;
}

/* The walk: each entry with the stat that the tool would act on. */
enum { FOLLOW_NONE, FOLLOW_TOP, FOLLOW_ALL }; /* -P, -H, -L */

struct walker {
	int follow;
	bool recurse;
	void *ctx;
	/* path: the host path; top: an operand. */
	int (*visit)(void *ctx, const char *path, const struct stat *st,
		     bool top, struct sd_err *err);
};

struct ancestor {
	dev_t dev;
	ino_t ino;
	const struct ancestor *up;
};

static int walk_below(const struct walker *w, const char *path,
		      const struct stat *st, const struct ancestor *up,
		      struct sd_err *err)
{
	struct ancestor me = {st->st_dev, st->st_ino, up};
	DIR *d;
	struct dirent *e;
	int rc = 0;

	for (const struct ancestor *a = up; a; a = a->up)
		if (a->dev == st->st_dev && a->ino == st->st_ino)
			return 0; /* a cycle (-L): not again */
	if (!(d = opendir(path)))
		return err_errno(err, SD_EXIT_CANNOT, "cannot read '%s'", path);
	while (rc == 0 && (errno = 0, e = readdir(d))) {
		struct stat cst;
		char *child;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		child = xasprintf("%s%s%s", path, strcmp(path, "/") ? "/" : "",
				  e->d_name);
		if (!child) {
			rc = oom(err);
			break;
		}
		if ((w->follow == FOLLOW_ALL ? stat(child, &cst) : -1) < 0 &&
		    lstat(child, &cst) < 0) {
			if (errno != ENOENT)
				rc = err_errno(err, SD_EXIT_CANNOT,
					       "cannot read '%s'", child);
			free(child);
			continue;
		}
		rc = w->visit(w->ctx, child, &cst, false, err);
		if (rc == 0 && S_ISDIR(cst.st_mode))
			rc = walk_below(w, child, &cst, &me, err);
		free(child);
	}
	if (rc == 0 && errno)
		rc = err_errno(err, SD_EXIT_CANNOT, "cannot read '%s'", path);
	closedir(d);
	return rc;
}

/* What chmod and chown share: the plan, -R, --preserve-root. */
struct perm_common {
	const struct tool_ctx *c;
	struct tool_plan *p;
	enum effect_op op; /* EFFECT_MODE or EFFECT_OWNER */
	bool recurse, preserve_root;
};

/* Walk one operand. The host path of what is acted on: the operand
 * itself, or where its symlink leads when the tool follows it. */
static int walk_operand(struct perm_common *pc, struct walker *w,
			const char *op, struct sd_err *err)
{
	char *typed = at_cwd(pc->c, op), *path = NULL;
	struct stat st;
	bool follow = w->follow != FOLLOW_NONE;
	int rc = -1;

	if (!typed)
		return oom(err);
	if ((follow ? stat(typed, &st) : lstat(typed, &st)) < 0) {
		int e = errno;
		struct stat lst;

		if (follow && lstat(typed, &lst) == 0 && S_ISLNK(lst.st_mode))
			rc = NOTE_ERROR(pc->p, err,
					"cannot operate on dangling symlink "
					"'%s'",
					op);
		else
			rc = NOTE_ERROR(pc->p, err, "cannot access '%s': %s",
					op, strerror(e));
		if (rc == 0 && (path = host_path(pc->c, op)))
			rc = add_target(pc->p, path, false, err);
		else if (rc == 0)
			rc = oom(err);
		goto out;
	}
	path = follow ? realpath(typed, NULL) : host_path(pc->c, op);
	if (!path) {
		rc = err_errno(err, SD_EXIT_CANNOT, "cannot resolve '%s'", op);
		goto out;
	}
	if (pc->recurse && is_root(&st)) {
		if (!pc->p->why_refuse &&
		    !(pc->p->why_refuse = strdup("recursive operation on "
						 "'/'"))) {
			rc = oom(err);
			goto out;
		}
		if (pc->preserve_root) {
			rc = NOTE_ERROR(pc->p, err,
					"it is dangerous to operate "
					"recursively on '%s'",
					op);
		} else {
			/* Not walked: everything on the machine. */
			rc = add_effect(pc->p, err, pc->op, "/", NULL, 'd', 0,
					0,
					"everything on the machine; not "
					"walked");
		}
		if (rc == 0)
			rc = add_target(pc->p, "/", false, err);
		goto out;
	}
	/* An operand named twice (or a symlink to another one) changes
	 * once. */
	for (size_t i = 0; i < pc->p->effects.n; i++)
		if (pc->p->effects.v[i].op == pc->op &&
		    !strcmp(pc->p->effects.v[i].path, path)) {
			rc = 0;
			goto out;
		}
	rc = w->visit(w->ctx, path, &st, true, err);
	if (rc == 0 && w->recurse && S_ISDIR(st.st_mode))
		rc = walk_below(w, path, &st, NULL, err);
	if (rc == 0)
		rc = add_target(pc->p, path, true, err);
	if (rc == 0 && follow) {
		/* the operand itself too, when it is a symlink */
		char *shown = host_path(pc->c, op);

		rc = shown ? add_target(pc->p, shown, false, err) : oom(err);
		free(shown);
	}
out:
	free(typed);
	free(path);
	return rc;
}

struct chmod_ctx {
	struct tool_plan *p;
	const struct mode_change *changes;
	mode_t umask_value;
};

static int chmod_visit(void *ctx, const char *path, const struct stat *st,
		       bool top, struct sd_err *err)
{
	struct chmod_ctx *x = ctx;
	mode_t old = st->st_mode & CHMOD_BITS, now;
	char detail[32];

	(void)top;
	if (S_ISLNK(st->st_mode))
		return 0; /* a symlink's mode cannot change */
	now = mode_adjust(st->st_mode, S_ISDIR(st->st_mode), x->umask_value,
			  x->changes);
	if (now == old)
		return 0;
	snprintf(detail, sizeof(detail), "%04o -> %04o", (unsigned)old,
		 (unsigned)now);
	return add_effect(x->p, err, EFFECT_MODE, path, NULL,
			  type_of(st->st_mode), 1, 0, detail);
}

enum {
	CM_CHANGES = 1,
	CM_QUIET,
	CM_VERBOSE,
	CM_NO_PRESERVE,
	CM_PRESERVE,
	CM_REFERENCE,
	CM_RECURSIVE,
	CM_MODE,
	CM_DEREF,
	CM_NO_DEREF,
	CM_FROM,
	CM_H,
	CM_L,
	CM_P,
};

static const struct optdef chmod_opts[] = {
	{"changes", 'c', ARG_NONE, CM_CHANGES},
	{"silent", 'f', ARG_NONE, CM_QUIET},
	{"quiet", 0, ARG_NONE, CM_QUIET},
	{"verbose", 'v', ARG_NONE, CM_VERBOSE},
	{"no-preserve-root", 0, ARG_NONE, CM_NO_PRESERVE},
	{"preserve-root", 0, ARG_NONE, CM_PRESERVE},
	{"reference", 0, ARG_REQ, CM_REFERENCE},
	{"recursive", 'R', ARG_NONE, CM_RECURSIVE},
	/* "chmod -w FILE": a mode that looks like options */
	{NULL, 'r', ARG_OPT, CM_MODE},
	{NULL, 'w', ARG_OPT, CM_MODE},
	{NULL, 'x', ARG_OPT, CM_MODE},
	{NULL, 'X', ARG_OPT, CM_MODE},
	{NULL, 's', ARG_OPT, CM_MODE},
	{NULL, 't', ARG_OPT, CM_MODE},
	{NULL, 'u', ARG_OPT, CM_MODE},
	{NULL, 'g', ARG_OPT, CM_MODE},
	{NULL, 'o', ARG_OPT, CM_MODE},
	{NULL, 'a', ARG_OPT, CM_MODE},
	{NULL, ',', ARG_OPT, CM_MODE},
	{NULL, '+', ARG_OPT, CM_MODE},
	{NULL, '=', ARG_OPT, CM_MODE},
	{NULL, '0', ARG_OPT, CM_MODE},
	{NULL, '1', ARG_OPT, CM_MODE},
	{NULL, '2', ARG_OPT, CM_MODE},
	{NULL, '3', ARG_OPT, CM_MODE},
	{NULL, '4', ARG_OPT, CM_MODE},
	{NULL, '5', ARG_OPT, CM_MODE},
	{NULL, '6', ARG_OPT, CM_MODE},
	{NULL, '7', ARG_OPT, CM_MODE},
	HELP_ROWS,
	{NULL, 0, 0, 0},
};

static int plan_chmod(const struct tool_ctx *c, struct tool_plan *p,
		      struct sd_err *err)
{
	struct cmdline cl;
	struct perm_common pc = {.c = c, .p = p, .op = EFFECT_MODE};
	struct chmod_ctx x = {.p = p, .umask_value = current_umask()};
	struct walker w = {
		.follow = FOLLOW_TOP, .ctx = &x, .visit = chmod_visit};
	struct mode_change *changes = NULL;
	char *mode = NULL;
	const char *reference = NULL;
	size_t first = 0;
	int rc = -1;

	if (parse_cmdline("chmod", c->argv, c->argc, 1, chmod_opts,
			  P_PERMUTE | P_ABBREV | P_POSIX, &cl, err) < 0)
		return -1;
	if (plan_begin(p, FIDELITY_EXACT, err) < 0)
		goto out;
	for (size_t i = 0; i < cl.nev; i++) {
		const struct optev *e = &cl.ev[i];

		if (e->id == CM_RECURSIVE) {
			pc.recurse = true;
		} else if (e->id == CM_PRESERVE) {
			pc.preserve_root = true;
		} else if (e->id == CM_NO_PRESERVE) {
			pc.preserve_root = false;
		} else if (e->id == CM_REFERENCE) {
			reference = e->arg;
		} else if (e->id == CM_MODE) {
			/* the whole word is the mode, joined by commas */
			const char *word = c->argv[e->tok];
			char *m = mode ? xasprintf("%s,%s", mode, word)
				       : strdup(word);

			free(mode);
			if (!(mode = m)) {
				oom(err);
				goto out;
			}
		}
	}
	if (only_prints(&cl)) {
		rc = 0;
		goto out;
	}
	if (reference) {
		struct stat st;
		char *ref = at_cwd(c, reference);

		if (!ref || stat(ref, &st) < 0) {
			err_errno(err, SD_EXIT_SAFERUN,
				  "cannot plan 'chmod': cannot stat '%s'",
				  reference);
			free(ref);
			goto out;
		}
		free(ref);
		changes = mode_equals(st.st_mode & CHMOD_BITS, CHMOD_BITS);
	} else {
		if (!mode) {
			if (cl.nops == 0) {
				err_set(err, SD_EXIT_SAFERUN,
					"cannot plan 'chmod': missing "
					"operand");
				goto out;
			}
			if (!(mode = strdup(cl.ops[first++]))) {
				oom(err);
				goto out;
			}
		}
		changes = mode_compile(mode);
		if (!changes && errno == EINVAL) {
			err_set(err, SD_EXIT_SAFERUN,
				"cannot plan 'chmod': invalid mode: '%s'",
				mode);
			goto out;
		}
	}
	if (!changes) {
		oom(err);
		goto out;
	}
	if (first >= cl.nops) {
		err_set(err, SD_EXIT_SAFERUN,
			"cannot plan 'chmod': missing operand after '%s'",
			mode ? mode : reference);
		goto out;
	}
	x.changes = changes;
	w.recurse = pc.recurse;
	for (size_t i = first; i < cl.nops; i++)
		if (walk_operand(&pc, &w, cl.ops[i], err) < 0)
			goto out;
	rc = 0;
out:
	free(changes);
	free(mode);
	cmdline_release(&cl);
	return rc;
}

/* chown OWNER[:GROUP] / chgrp GROUP. Names as coreutils' parse_user_spec
 * reads them: "u", "u:g", "u:" (the user's login group), ":g", "u.g"
 * when "u.g" is no user; a name that is not one may be a number ("+N":
 * only a number). */
struct owner_spec {
	bool set_uid, set_gid;
	uid_t uid;
	gid_t gid;
};

static int parse_id(const char *s, unsigned long *out)
{
	char *end;

	if (*s == '+')
		s++;
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return *end || errno || *out > (unsigned long)UINT32_MAX - 1 ? -1 : 0;
}

static int parse_owner(const char *tool, const char *spec, bool group_only,
		       struct owner_spec *o, struct sd_err *err)
{
	char *buf = strdup(spec), *user = NULL, *group = NULL, *sep;
	struct pwent pw;
	struct grent gr;
	unsigned long n;
	int rc = -1;

	memset(o, 0, sizeof(*o));
	if (!buf)
		return oom(err);
	if (group_only) {
		group = buf;
	} else {
		user = buf;
		sep = strchr(buf, ':');
		if (!sep && (sep = strchr(buf, '.'))) {
			/* "u.g", unless "u.g" is a user */
			if (pw_get(buf, 0, &pw)) {
				free(pw.buf);
				sep = NULL;
			}
		}
		if (sep) {
			*sep = 0;
			group = sep + 1;
		}
	}
	if (user && *user) {
		if (*user != '+' && pw_get(user, 0, &pw)) {
			o->uid = pw.pw.pw_uid;
			free(pw.buf);
		} else if (parse_id(user, &n) == 0) {
			o->uid = (uid_t)n;
		} else {
			err_set(err, SD_EXIT_SAFERUN,
				"cannot plan '%s': invalid user: '%s'", tool,
				spec);
			goto out;
		}
		o->set_uid = true;
		if (group && !*group) {
			/* "user:": the login group */
			if (!pw_get(NULL, o->uid, &pw)) {
				err_set(err, SD_EXIT_SAFERUN,
					"cannot plan '%s': invalid spec: "
					"'%s'",
					tool, spec);
				goto out;
			}
			o->gid = pw.pw.pw_gid;
			o->set_gid = true;
			free(pw.buf);
		}
	}
	if (group && *group) {
		if (*group != '+' && gr_get(group, 0, &gr)) {
			o->gid = gr.gr.gr_gid;
			free(gr.buf);
		} else if (parse_id(group, &n) == 0) {
			o->gid = (gid_t)n;
		} else {
			err_set(err, SD_EXIT_SAFERUN,
				"cannot plan '%s': invalid group: '%s'", tool,
				group);
			goto out;
		}
		o->set_gid = true;
	}
	rc = 0;
out:
	free(buf);
	return rc;
}

struct chown_ctx {
	struct tool_plan *p;
	struct owner_spec to, from;
	bool deref; /* a symlink's referent changes, not the link */
};

static int chown_visit(void *ctx, const char *path, const struct stat *lst,
		       bool top, struct sd_err *err)
{
	struct chown_ctx *x = ctx;
	struct stat st = *lst;
	char was[160], now[160], detail[340], *real = NULL;
	uid_t uid;
	gid_t gid;
	int rc;

	(void)top;
	if (S_ISLNK(st.st_mode) && x->deref) {
		/* chown -R -H/-L on a symlink it did not follow: the
		 * referent changes */
		if (stat(path, &st) < 0 || !(real = realpath(path, NULL)))
			return 0; /* dangling: chown reports it, no change */
		path = real;
	}
	if ((x->from.set_uid && st.st_uid != x->from.uid) ||
	    (x->from.set_gid && st.st_gid != x->from.gid)) {
		free(real);
		return 0;
	}
	uid = x->to.set_uid ? x->to.uid : st.st_uid;
	gid = x->to.set_gid ? x->to.gid : st.st_gid;
	if (uid == st.st_uid && gid == st.st_gid) {
		free(real);
		return 0;
	}
	owner_name(st.st_uid, st.st_gid, was, sizeof(was));
	owner_name(uid, gid, now, sizeof(now));
	snprintf(detail, sizeof(detail), "%s -> %s", was, now);
	rc = add_effect(x->p, err, EFFECT_OWNER, path, NULL,
			type_of(st.st_mode), 1, 0, detail);
	free(real);
	return rc;
}

static const struct optdef chown_opts[] = {
	{"changes", 'c', ARG_NONE, CM_CHANGES},
	{"silent", 'f', ARG_NONE, CM_QUIET},
	{"quiet", 0, ARG_NONE, CM_QUIET},
	{"verbose", 'v', ARG_NONE, CM_VERBOSE},
	{"dereference", 0, ARG_NONE, CM_DEREF},
	{"no-dereference", 'h', ARG_NONE, CM_NO_DEREF},
	{"from", 0, ARG_REQ, CM_FROM},
	{"no-preserve-root", 0, ARG_NONE, CM_NO_PRESERVE},
	{"preserve-root", 0, ARG_NONE, CM_PRESERVE},
	{"reference", 0, ARG_REQ, CM_REFERENCE},
	{"recursive", 'R', ARG_NONE, CM_RECURSIVE},
	{NULL, 'H', ARG_NONE, CM_H},
	{NULL, 'L', ARG_NONE, CM_L},
	{NULL, 'P', ARG_NONE, CM_P},
	HELP_ROWS,
	{NULL, 0, 0, 0},
};

static int plan_chown_chgrp(const struct tool_ctx *c, struct tool_plan *p,
			    bool chgrp, struct sd_err *err)
{
	const char *tool = chgrp ? "chgrp" : "chown";
	struct cmdline cl;
	struct perm_common pc = {.c = c, .p = p, .op = EFFECT_OWNER};
	struct chown_ctx x = {.p = p};
	struct walker w = {
		.follow = FOLLOW_NONE, .ctx = &x, .visit = chown_visit};
	const char *reference = NULL, *from = NULL;
	int deref = -1, traversal = CM_P, rc = -1;
	size_t first = 0;

	if (parse_cmdline(tool, c->argv, c->argc, 1, chown_opts,
			  P_PERMUTE | P_ABBREV | P_POSIX, &cl, err) < 0)
		return -1;
	if (plan_begin(p, FIDELITY_EXACT, err) < 0)
		goto out;
	for (size_t i = 0; i < cl.nev; i++) {
		const struct optev *e = &cl.ev[i];

		switch (e->id) {
		case CM_RECURSIVE:
			pc.recurse = true;
			break;
		case CM_PRESERVE:
			pc.preserve_root = true;
			break;
		case CM_NO_PRESERVE:
			pc.preserve_root = false;
			break;
		case CM_REFERENCE:
			reference = e->arg;
			break;
		case CM_FROM:
			from = e->arg;
			break;
		case CM_DEREF:
			deref = 1;
			break;
		case CM_NO_DEREF:
			deref = 0;
			break;
		case CM_H:
		case CM_L:
		case CM_P:
			traversal = e->id;
			break;
		default:
			break;
		}
	}
	if (only_prints(&cl)) {
		rc = 0;
		goto out;
	}
	if (pc.recurse) {
		if (traversal == CM_P) {
			if (deref == 1) {
				err_set(err, SD_EXIT_SAFERUN,
					"cannot plan '%s': -R --dereference "
					"requires either -H or -L",
					tool);
				goto out;
			}
			deref = 0;
		}
		w.follow = traversal == CM_H   ? FOLLOW_TOP
			   : traversal == CM_L ? FOLLOW_ALL
					       : FOLLOW_NONE;
	}
	/* Without -R, or with -H/-L: what a symlink points to changes. */
	x.deref = deref != 0;
	if (!pc.recurse)
		w.follow = x.deref ? FOLLOW_TOP : FOLLOW_NONE;
	if (reference) {
		struct stat st;
		char *ref = at_cwd(c, reference);

		if (!ref || stat(ref, &st) < 0) {
			err_errno(err, SD_EXIT_SAFERUN,
				  "cannot plan '%s': cannot stat '%s'", tool,
				  reference);
			free(ref);
			goto out;
		}
		free(ref);
		x.to = (struct owner_spec){.set_uid = !chgrp,
					   .set_gid = true,
					   .uid = st.st_uid,
					   .gid = st.st_gid};
	} else {
		if (cl.nops == 0) {
			err_set(err, SD_EXIT_SAFERUN,
				"cannot plan '%s': missing operand", tool);
			goto out;
		}
		if (parse_owner(tool, cl.ops[first++], chgrp, &x.to, err) < 0)
			goto out;
	}
	if (from && parse_owner(tool, from, false, &x.from, err) < 0)
		goto out;
	if (first >= cl.nops) {
		err_set(err, SD_EXIT_SAFERUN,
			"cannot plan '%s': missing operand after '%s'", tool,
			first ? cl.ops[0] : reference);
		goto out;
	}
	w.recurse = pc.recurse;
	for (size_t i = first; i < cl.nops; i++)
		if (walk_operand(&pc, &w, cl.ops[i], err) < 0)
			goto out;
	rc = 0;
out:
	cmdline_release(&cl);
	return rc;
}

static int plan_chown(const struct tool_ctx *c, struct tool_plan *p,
		      struct sd_err *err)
{
	return plan_chown_chgrp(c, p, false, err);
}

static int plan_chgrp(const struct tool_ctx *c, struct tool_plan *p,
		      struct sd_err *err)
{
	return plan_chown_chgrp(c, p, true, err);
}

/* ---------------------------------------------------------------------
 * mv and cp: emulated; only what is lost or moved: a destination that is
 * replaced (overwrite: its bytes are lost unless a backup is kept), and
 * for mv each rename. cp -r into an existing directory merges: each file
 * it replaces below.
 */

enum {
	XF_BACKUP = 1,
	XF_B,
	XF_FORCE,
	XF_INTERACTIVE,
	XF_NO_CLOBBER,
	XF_STRIP,
	XF_SUFFIX,
	XF_TARGET,
	XF_NO_TARGET,
	XF_UPDATE,
	XF_OTHER,
	XF_RECURSIVE,
	XF_ARCHIVE,
	XF_NO_DEREF, /* -d, -P */
	XF_DEREF,    /* -L */
	XF_H,
	XF_PARENTS,
	XF_REMOVE_DEST,
	XF_LINK, /* -l, -s */
};

static const struct optdef mv_opts[] = {
	{"backup", 0, ARG_OPT, XF_BACKUP},
	{NULL, 'b', ARG_NONE, XF_B},
	{"force", 'f', ARG_NONE, XF_FORCE},
	{"interactive", 'i', ARG_NONE, XF_INTERACTIVE},
	{"no-clobber", 'n', ARG_NONE, XF_NO_CLOBBER},
	{"strip-trailing-slashes", 0, ARG_NONE, XF_STRIP},
	{"suffix", 'S', ARG_REQ, XF_SUFFIX},
	{"target-directory", 't', ARG_REQ, XF_TARGET},
	{"no-target-directory", 'T', ARG_NONE, XF_NO_TARGET},
	{"update", 'u', ARG_NONE, XF_UPDATE},
	{"verbose", 'v', ARG_NONE, XF_OTHER},
	{"context", 'Z', ARG_NONE, XF_OTHER},
	HELP_ROWS,
	{NULL, 0, 0, 0},
};

static const struct optdef cp_opts[] = {
	{"archive", 'a', ARG_NONE, XF_ARCHIVE},
	{"attributes-only", 0, ARG_NONE, XF_OTHER},
	{"backup", 0, ARG_OPT, XF_BACKUP},
	{NULL, 'b', ARG_NONE, XF_B},
	{"copy-contents", 0, ARG_NONE, XF_OTHER},
	{NULL, 'd', ARG_NONE, XF_NO_DEREF},
	{"force", 'f', ARG_NONE, XF_FORCE},
	{"interactive", 'i', ARG_NONE, XF_INTERACTIVE},
	{NULL, 'H', ARG_NONE, XF_H},
	{"link", 'l', ARG_NONE, XF_LINK},
	{"dereference", 'L', ARG_NONE, XF_DEREF},
	{"no-clobber", 'n', ARG_NONE, XF_NO_CLOBBER},
	{"no-dereference", 'P', ARG_NONE, XF_NO_DEREF},
	{NULL, 'p', ARG_NONE, XF_OTHER},
	{"preserve", 0, ARG_OPT, XF_OTHER},
	{"no-preserve", 0, ARG_REQ, XF_OTHER},
	{"parents", 0, ARG_NONE, XF_PARENTS},
	{"recursive", 'R', ARG_NONE, XF_RECURSIVE},
	{NULL, 'r', ARG_NONE, XF_RECURSIVE},
	{"reflink", 0, ARG_OPT, XF_OTHER},
	{"remove-destination", 0, ARG_NONE, XF_REMOVE_DEST},
	{"sparse", 0, ARG_REQ, XF_OTHER},
	{"strip-trailing-slashes", 0, ARG_NONE, XF_STRIP},
	{"symbolic-link", 's', ARG_NONE, XF_LINK},
	{"suffix", 'S', ARG_REQ, XF_SUFFIX},
	{"target-directory", 't', ARG_REQ, XF_TARGET},
	{"no-target-directory", 'T', ARG_NONE, XF_NO_TARGET},
	{"update", 'u', ARG_NONE, XF_UPDATE},
	{"verbose", 'v', ARG_NONE, XF_OTHER},
	{"one-file-system", 'x', ARG_NONE, XF_OTHER},
	{NULL, 'Z', ARG_NONE, XF_OTHER},
	{"context", 0, ARG_OPT, XF_OTHER},
	HELP_ROWS,
	{NULL, 0, 0, 0},
};

struct xfer {
	const struct tool_ctx *c;
	struct tool_plan *p;
	bool mv, no_clobber, backup, update, recursive, parents;
	bool force, remove_dest, linking; /* cp -f, --remove-destination,
					     -l or -s */
	int deref; /* cp: 0 never, 1 command line (-H), 2 always (-L) */
};

static bool newer_or_same(const struct stat *dst, const struct stat *src)
{
	return dst->st_mtim.tv_sec > src->st_mtim.tv_sec ||
	       (dst->st_mtim.tv_sec == src->st_mtim.tv_sec &&
		dst->st_mtim.tv_nsec >= src->st_mtim.tv_nsec);
}

/* dst (a host path) exists and would be replaced by src. */
static int xfer_overwrite(struct xfer *x, const char *dst,
			  const struct stat *dst_st, const char *detail,
			  struct sd_err *err)
{
	uint64_t files = 1, bytes = (uint64_t)dst_st->st_size;
	char buf[PATH_MAX + 64];

	if (S_ISDIR(dst_st->st_mode))
		bytes = 0; /* only an empty one can be replaced */
	if (x->backup) {
		bytes = 0;
		snprintf(buf, sizeof(buf), "%s%sbackup kept",
			 detail ? detail : "", detail ? "; " : "");
		detail = buf;
	}
	return add_effect(x->p, err, EFFECT_OVERWRITE, dst, NULL,
			  type_of(dst_st->st_mode), files, bytes, detail);
}

/* Whether the host path inner is outer or below it. */
static bool is_below(const char *outer, const char *inner)
{
	size_t n = strlen(outer);

	return !strncmp(outer, inner, n) &&
	       (inner[n] == '/' || inner[n] == 0 || !strcmp(outer, "/"));
}

/* cp src onto dst: what it replaces, recursively into directories that
 * exist on both sides. src_typed as the user typed it (for messages),
 * src and dst host paths. */
static int cp_one(struct xfer *x, const char *src_typed, const char *src,
		  const struct stat *sst, const char *dst, struct sd_err *err)
{
	struct stat dst_st, tst;
	char *through = NULL, detail[PATH_MAX + 64];
	const char *victim = dst;
	int rc = 0;

	if (lstat(dst, &dst_st) < 0)
		return 0; /* created: nothing lost */
	if (x->linking && !x->force && !x->remove_dest &&
	    !S_ISDIR(sst->st_mode) && !S_ISDIR(dst_st.st_mode))
		return NOTE_ERROR(x->p, err,
				  "cannot create link '%s' to '%s': %s", dst,
				  src_typed, strerror(EEXIST));
	if (S_ISLNK(dst_st.st_mode) && !S_ISDIR(sst->st_mode) &&
	    !x->remove_dest) {
		/* cp writes through a symlink it finds as destination */
		if (stat(dst, &tst) < 0)
			return NOTE_ERROR(x->p, err,
					  "not writing through dangling "
					  "symlink '%s'",
					  dst);
		if (!(through = realpath(dst, NULL)))
			return oom(err);
		victim = through;
		dst_st = tst;
	}
	if (dst_st.st_dev == sst->st_dev && dst_st.st_ino == sst->st_ino) {
		rc = NOTE_ERROR(x->p, err, "'%s' and '%s' are the same file",
				src_typed, dst);
		goto out;
	}
	if (S_ISDIR(sst->st_mode)) {
		DIR *d;
		struct dirent *e;

		if (!S_ISDIR(dst_st.st_mode)) {
			rc = NOTE_ERROR(x->p, err,
					"cannot overwrite non-directory '%s' "
					"with directory '%s'",
					dst, src_typed);
			goto out;
		}
		if (!(d = opendir(src))) {
			rc = err_errno(err, SD_EXIT_CANNOT, "cannot read '%s'",
				       src);
			goto out;
		}
		while (rc == 0 && (errno = 0, e = readdir(d))) {
			char *s2, *d2;
			struct stat cst;

			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			s2 = xasprintf("%s/%s", src, e->d_name);
			d2 = xasprintf("%s/%s", victim, e->d_name);
			if (!s2 || !d2)
				rc = oom(err);
			else if ((x->deref == 2 ? stat(s2, &cst) : -1) < 0 &&
				 lstat(s2, &cst) < 0)
				rc = errno == ENOENT
					     ? 0
					     : err_errno(err, SD_EXIT_CANNOT,
							 "cannot read '%s'",
							 s2);
			else
				rc = cp_one(x, s2, s2, &cst, d2, err);
			free(s2);
			free(d2);
		}
		if (rc == 0 && errno)
			rc = err_errno(err, SD_EXIT_CANNOT, "cannot read '%s'",
				       src);
		closedir(d);
		goto out;
	}
	if (S_ISDIR(dst_st.st_mode)) {
		rc = NOTE_ERROR(x->p, err,
				"cannot overwrite directory '%s' with "
				"non-directory",
				dst);
		goto out;
	}
	if (x->no_clobber || (x->update && newer_or_same(&dst_st, sst)))
		goto out;
	if (through)
		snprintf(detail, sizeof(detail), "through the symlink '%s'",
			 dst);
	rc = xfer_overwrite(x, victim, &dst_st, through ? detail : NULL, err);
out:
	free(through);
	return rc;
}

static int mv_one(struct xfer *x, const char *src_typed, const char *src,
		  const struct stat *sst, const char *dst, struct sd_err *err)
{
	struct stat dst_st, parent_st;
	struct rmtree_count cnt = {.files = 1, .bytes = 0};
	char *parent, *slash, *real_src = NULL;
	bool exists = lstat(dst, &dst_st) == 0;
	const char *detail = NULL;
	int rc;

	if (exists) {
		if (dst_st.st_dev == sst->st_dev &&
		    dst_st.st_ino == sst->st_ino)
			return NOTE_ERROR(x->p, err,
					  "'%s' and '%s' are the same file",
					  src_typed, dst);
		if (x->no_clobber || (x->update && !S_ISDIR(dst_st.st_mode) &&
				      newer_or_same(&dst_st, sst)))
			return 0;
		if (S_ISDIR(sst->st_mode) && !S_ISDIR(dst_st.st_mode))
			return NOTE_ERROR(x->p, err,
					  "cannot overwrite non-directory "
					  "'%s' with directory '%s'",
					  dst, src_typed);
		if (!S_ISDIR(sst->st_mode) && S_ISDIR(dst_st.st_mode))
			return NOTE_ERROR(x->p, err,
					  "cannot overwrite directory '%s' "
					  "with non-directory",
					  dst);
		if (S_ISDIR(dst_st.st_mode) && !dir_is_empty(dst))
			return NOTE_ERROR(x->p, err,
					  "cannot move '%s' to '%s': %s",
					  src_typed, dst, strerror(ENOTEMPTY));
	}
	if (S_ISDIR(sst->st_mode) && (real_src = realpath(src, NULL))) {
		char *real_parent = NULL;

		if ((parent = strdup(dst)) && (slash = strrchr(parent, '/'))) {
			*slash = 0;
			real_parent = realpath(*parent ? parent : "/", NULL);
		}
		free(parent);
		if (real_parent && is_below(real_src, real_parent)) {
			free(real_parent);
			free(real_src);
			return NOTE_ERROR(x->p, err,
					  "cannot move '%s' to a "
					  "subdirectory of itself, '%s'",
					  src_typed, dst);
		}
		free(real_parent);
	}
	free(real_src);
	if (exists && (rc = xfer_overwrite(x, dst, &dst_st, NULL, err)) < 0)
		return -1;
	if (S_ISDIR(sst->st_mode)) {
		if (count_tree(src, false, &cnt, err) < 0)
			return -1;
		cnt.files += cnt.dirs;
	} else {
		cnt.bytes = (uint64_t)sst->st_size;
	}
	parent = strdup(dst);
	if (!parent)
		return oom(err);
	if ((slash = strrchr(parent, '/')))
		*slash = 0;
	if (stat(*parent ? parent : "/", &parent_st) == 0 &&
	    parent_st.st_dev != sst->st_dev)
		detail = "across file systems: copied, then deleted";
	free(parent);
	return add_effect(x->p, err, EFFECT_RENAME, src, dst,
			  type_of(sst->st_mode), cnt.files, cnt.bytes, detail);
}

/* --backup[=CONTROL] and -b: whether backups are made (not with
 * "none"/"off", from the option or $VERSION_CONTROL). */
static int backup_wanted(const char *tool, const char *control, bool *wanted,
			 struct sd_err *err)
{
	static const char *const words[] = {"none",	"off",	    "simple",
					    "never",	"existing", "nil",
					    "numbered", "t",	    NULL};
	static const int ids[] = {0, 0, 1, 1, 2, 2, 3, 3};
	int w;

	if (!control || !*control) {
		*wanted = true;
		return 0;
	}
	if ((w = argmatch(control, words, ids)) < 0)
		return err_set(err, SD_EXIT_SAFERUN,
			       "cannot plan '%s': invalid backup type '%s'",
			       tool, control);
	*wanted = w != 0;
	return 0;
}

static int plan_mv_cp(const struct tool_ctx *c, struct tool_plan *p, bool mv,
		      struct sd_err *err)
{
	const char *tool = mv ? "mv" : "cp", *target = NULL;
	struct xfer x = {.c = c, .p = p, .mv = mv, .deref = -1};
	struct cmdline cl;
	bool no_target = false;
	size_t nsrc;
	int rc = -1;

	if (parse_cmdline(tool, c->argv, c->argc, 1, mv ? mv_opts : cp_opts,
			  P_PERMUTE | P_ABBREV | P_POSIX, &cl, err) < 0)
		return -1;
	if (plan_begin(p, FIDELITY_EXACT, err) < 0)
		goto out;
	for (size_t i = 0; i < cl.nev; i++) {
		const struct optev *e = &cl.ev[i];

		switch (e->id) {
		case XF_BACKUP:
			if (backup_wanted(tool,
					  e->arg ? e->arg
						 : getenv("VERSION_CONTROL"),
					  &x.backup, err) < 0)
				goto out;
			break;
		case XF_B:
			if (backup_wanted(tool, getenv("VERSION_CONTROL"),
					  &x.backup, err) < 0)
				goto out;
			break;
		case XF_FORCE:
		case XF_INTERACTIVE:
			/* mv: the last of -f, -i, -n wins; cp -f does not
			 * undo -n */
			if (mv || e->id == XF_INTERACTIVE)
				x.no_clobber = false;
			if (e->id == XF_FORCE)
				x.force = true;
			break;
		case XF_REMOVE_DEST:
			x.remove_dest = true;
			break;
		case XF_NO_CLOBBER:
			x.no_clobber = true;
			break;
		case XF_TARGET:
			target = e->arg;
			break;
		case XF_NO_TARGET:
			no_target = true;
			break;
		case XF_UPDATE:
			x.update = true;
			break;
		case XF_RECURSIVE:
			x.recursive = true;
			break;
		case XF_ARCHIVE:
			x.recursive = true;
			x.deref = 0;
			break;
		case XF_NO_DEREF:
			x.deref = 0;
			break;
		case XF_DEREF:
			x.deref = 2;
			break;
		case XF_H:
			x.deref = 1;
			break;
		case XF_PARENTS:
			x.parents = true;
			break;
		case XF_LINK:
			x.linking = true;
			break;
		default:
			break;
		}
	}
	if (only_prints(&cl)) {
		rc = 0;
		goto out;
	}
	if (x.backup && x.no_clobber) {
		err_set(err, SD_EXIT_SAFERUN,
			"cannot plan '%s': options --backup and --no-clobber "
			"are mutually exclusive",
			tool);
		goto out;
	}
	if (x.deref < 0) /* cp: follow sources unless recursive */
		x.deref = x.recursive ? 0 : 2;
	if (target && no_target) {
		err_set(err, SD_EXIT_SAFERUN,
			"cannot plan '%s': cannot combine --target-directory "
			"(-t) and --no-target-directory (-T)",
			tool);
		goto out;
	}
	nsrc = target ? cl.nops : cl.nops ? cl.nops - 1 : 0;
	if (nsrc == 0) {
		err_set(err, SD_EXIT_SAFERUN,
			cl.nops ? "cannot plan '%s': missing destination file "
				  "operand after '%s'"
				: "cannot plan '%s': missing file operand%s",
			tool, cl.nops ? cl.ops[0] : "");
		goto out;
	}
	if (no_target && cl.nops > 2) {
		err_set(err, SD_EXIT_SAFERUN,
			"cannot plan '%s': extra operand '%s'", tool,
			cl.ops[2]);
		goto out;
	}
	if (!target && !no_target) {
		struct stat st;
		char *last = at_cwd(c, cl.ops[cl.nops - 1]);
		bool dir = last && stat(last, &st) == 0 && S_ISDIR(st.st_mode);

		free(last);
		if (dir || nsrc > 1 || x.parents)
			target = cl.ops[cl.nops - 1];
		if (target && !dir) {
			err_set(err, SD_EXIT_SAFERUN,
				"cannot plan '%s': target '%s' is not a "
				"directory",
				tool, target);
			goto out;
		}
	} else if (target) {
		struct stat st;
		char *t = at_cwd(c, target);
		bool dir = t && stat(t, &st) == 0 && S_ISDIR(st.st_mode);

		free(t);
		if (!dir) {
			err_set(err, SD_EXIT_SAFERUN,
				"cannot plan '%s': target directory '%s' is "
				"not a directory",
				tool, target);
			goto out;
		}
	}
	for (size_t i = 0; i < nsrc; i++) {
		const char *op = cl.ops[i];
		char *src = host_path(c, op), *dst = NULL,
		     *typed = at_cwd(c, op);
		struct stat sst;
		bool follow = !mv && x.deref > 0;
		int t = 0;

		if (!src || !typed) {
			t = oom(err);
		} else if ((follow ? stat(typed, &sst) : lstat(typed, &sst)) <
			   0) {
			t = NOTE_ERROR(p, err, "cannot stat '%s': %s", op,
				       strerror(errno));
			if (t == 0)
				t = add_target(p, src, false, err);
		} else if (!mv && S_ISDIR(sst.st_mode) && !x.recursive) {
			t = NOTE_ERROR(p, err,
				       "-r not specified; omitting directory "
				       "'%s'",
				       op);
		} else {
			char *base = base_name_of(op), *dst_typed = NULL;

			if (follow) {
				free(src);
				if (!(src = realpath(typed, NULL)))
					t = err_errno(err, SD_EXIT_CANNOT,
						      "cannot resolve '%s'",
						      op);
			}
			if (t == 0 && !target)
				dst_typed = strdup(cl.ops[cl.nops - 1]);
			else if (t == 0 && x.parents)
				dst_typed = xasprintf("%s/%s", target, op);
			else if (t == 0 && base)
				dst_typed = xasprintf("%s/%s", target, base);
			if (t == 0) {
				dst = dst_typed ? host_path(c, dst_typed)
						: NULL;
				if (!dst)
					t = oom(err);
			}
			free(dst_typed);
			free(base);
			if (t == 0 && mv)
				t = mv_one(&x, op, src, &sst, dst, err);
			else if (t == 0 && S_ISDIR(sst.st_mode) &&
				 is_below(src, dst))
				t = NOTE_ERROR(p, err,
					       "cannot copy a directory, '%s', "
					       "into itself, '%s'",
					       op, dst);
			else if (t == 0)
				t = cp_one(&x, op, src, &sst, dst, err);
			if (t == 0)
				t = add_target(p, src, true, err);
			if (t == 0)
				t = add_target(p, dst, true, err);
		}
		free(src);
		free(dst);
		free(typed);
		if (t < 0)
			goto out;
	}
	rc = 0;
out:
	cmdline_release(&cl);
	return rc;
}

static int plan_mv(const struct tool_ctx *c, struct tool_plan *p,
		   struct sd_err *err)
{
	return plan_mv_cp(c, p, true, err);
}

static int plan_cp(const struct tool_ctx *c, struct tool_plan *p,
		   struct sd_err *err)
{
	return plan_mv_cp(c, p, false, err);
}

/* ---------------------------------------------------------------------
 * truncate: emulated. Sizes as GNU truncate reads them: N, +N, -N, <N
 * (at most), >N (at least), /N (down to a multiple), %N (up to one), with
 * the suffixes K M G T P E Z Y (powers of 1024; KB, MB, ... of 1000; KiB,
 * MiB, ... of 1024; g, m, t, k too).
 */

enum { TR_ABS, TR_REL, TR_MAX, TR_MIN, TR_RDN, TR_RUP };

static int truncate_size(const char *s, int *mode, int64_t *size)
{
	static const char letters[] = "kKmMgGtTPEZY";
	static const int powers[] = {1, 1, 2, 2, 3, 3, 4, 4, 5, 6, 7, 8};
	const char *p = s, *hit;
	long double v;
	int64_t n;
	char *end;

	*mode = TR_ABS;
	while (isspace((unsigned char)*p))
		p++;
	if (*p && strchr("<>/%", *p)) {
		*mode = *p == '<'   ? TR_MAX
			: *p == '>' ? TR_MIN
			: *p == '/' ? TR_RDN
				    : TR_RUP;
		p++;
		while (isspace((unsigned char)*p))
			p++;
	}
	if (*p == '+' || *p == '-') {
		if (*mode != TR_ABS)
			return -2; /* multiple relative modifiers */
		*mode = TR_REL;
	}
	if (!isdigit((unsigned char)p[*p == '+' || *p == '-']))
		return -1;
	errno = 0;
	n = strtoll(p, &end, 10);
	if (errno)
		return -1;
	v = (long double)n;
	if (*end && (hit = strchr(letters, *end))) {
		int base = 1024;

		end++;
		if ((end[0] == 'B' || end[0] == 'D') && !end[1]) {
			base = 1000;
			end++;
		} else if (end[0] == 'i' && end[1] == 'B' && !end[2]) {
			end += 2;
		}
		for (int i = 0; i < powers[hit - letters]; i++)
			v *= base;
	}
	if (*end || v > (long double)INT64_MAX || v < (long double)INT64_MIN)
		return -1;
	*size = (int64_t)v;
	return 0;
}

enum { TR_NO_CREATE = 1, TR_IO_BLOCKS, TR_REFERENCE, TR_SIZE };

static const struct optdef truncate_opts[] = {
	{"no-create", 'c', ARG_NONE, TR_NO_CREATE},
	{"io-blocks", 'o', ARG_NONE, TR_IO_BLOCKS},
	{"reference", 'r', ARG_REQ, TR_REFERENCE},
	{"size", 's', ARG_REQ, TR_SIZE},
	HELP_ROWS,
	{NULL, 0, 0, 0},
};

static int64_t truncate_new_size(int mode, int64_t size, int64_t base)
{
	switch (mode) {
	case TR_REL:
		return base + size < 0 ? 0 : base + size;
	case TR_MAX:
		return base < size ? base : size;
	case TR_MIN:
		return base > size ? base : size;
	case TR_RDN:
		return base / size * size;
	case TR_RUP:
		return (base + size - 1) / size * size;
	default:
		return size;
	}
}

static int plan_truncate(const struct tool_ctx *c, struct tool_plan *p,
			 struct sd_err *err)
{
	struct cmdline cl;
	const char *size_arg = NULL, *reference = NULL;
	bool no_create = false, io_blocks = false;
	int mode = TR_ABS, rc = -1;
	int64_t size = 0, ref_size = -1;

	if (parse_cmdline("truncate", c->argv, c->argc, 1, truncate_opts,
			  P_PERMUTE | P_ABBREV | P_POSIX, &cl, err) < 0)
		return -1;
	if (plan_begin(p, FIDELITY_EXACT, err) < 0)
		goto out;
	for (size_t i = 0; i < cl.nev; i++) {
		const struct optev *e = &cl.ev[i];

		if (e->id == TR_NO_CREATE)
			no_create = true;
		else if (e->id == TR_IO_BLOCKS)
			io_blocks = true;
		else if (e->id == TR_REFERENCE)
			reference = e->arg;
		else if (e->id == TR_SIZE)
			size_arg = e->arg;
	}
	if (only_prints(&cl)) {
		rc = 0;
		goto out;
	}
	if (size_arg) {
		int r = truncate_size(size_arg, &mode, &size);

		if (r < 0) {
			err_set(err, SD_EXIT_SAFERUN,
				r == -2 ? "cannot plan 'truncate': multiple "
					  "relative modifiers specified in "
					  "'%s'"
					: "cannot plan 'truncate': invalid "
					  "number: '%s'",
				size_arg);
			goto out;
		}
		if ((mode == TR_RDN || mode == TR_RUP) && size == 0) {
			err_set(err, SD_EXIT_SAFERUN,
				"cannot plan 'truncate': division by zero");
			goto out;
		}
		if (mode == TR_ABS && size < 0) {
			err_set(err, SD_EXIT_SAFERUN,
				"cannot plan 'truncate': invalid number: '%s'",
				size_arg);
			goto out;
		}
	}
	if (!size_arg && !reference) {
		err_set(err, SD_EXIT_SAFERUN,
			"cannot plan 'truncate': you must specify either "
			"'--size' or '--reference'");
		goto out;
	}
	if (size_arg && reference && mode == TR_ABS) {
		err_set(err, SD_EXIT_SAFERUN,
			"cannot plan 'truncate': you must specify a relative "
			"'--size' with '--reference'");
		goto out;
	}
	if (io_blocks && !size_arg) {
		err_set(err, SD_EXIT_SAFERUN,
			"cannot plan 'truncate': '--io-blocks' was specified "
			"but '--size' was not");
		goto out;
	}
	if (cl.nops == 0) {
		err_set(err, SD_EXIT_SAFERUN,
			"cannot plan 'truncate': missing file operand");
		goto out;
	}
	if (reference) {
		struct stat st;
		char *r = at_cwd(c, reference);

		if (!r || stat(r, &st) < 0) {
			err_errno(err, SD_EXIT_SAFERUN,
				  "cannot plan 'truncate': cannot stat '%s'",
				  reference);
			free(r);
			goto out;
		}
		free(r);
		ref_size = st.st_size;
		if (!size_arg) {
			mode = TR_ABS;
			size = ref_size;
		}
	}
	for (size_t i = 0; i < cl.nops; i++) {
		const char *op = cl.ops[i];
		char *typed = at_cwd(c, op), *path = NULL;
		char was[32], now[32], detail[80];
		struct stat st;
		int64_t n = size, to, base;
		int t = 0;

		if (!typed) {
			t = oom(err);
		} else if (stat(typed, &st) < 0) {
			if (errno != ENOENT) {
				t = NOTE_ERROR(p, err,
					       "cannot open '%s' for writing: "
					       "%s",
					       op, strerror(errno));
			} else if (!no_create) {
				/* created, at the size asked for */
				if (io_blocks) {
					char *dir = strdup(typed), *sl;
					struct stat dst;

					if (dir && (sl = strrchr(dir, '/')))
						*sl = 0;
					n = size *
					    (dir && stat(*dir ? dir : "/",
							 &dst) == 0
						     ? dst.st_blksize
						     : 512);
					free(dir);
				}
				base = ref_size >= 0 ? ref_size : 0;
				to = truncate_new_size(mode, n, base);
				units_format_size((uint64_t)to, now,
						  sizeof(now));
				snprintf(detail, sizeof(detail),
					 "new file of %s", now);
				if (!(path = host_path(c, op)))
					t = oom(err);
				else
					t = add_effect(p, err, EFFECT_CREATE,
						       path, NULL, 'f', 1,
						       (uint64_t)to, detail);
			}
			if (t == 0 && !path && !(path = host_path(c, op)))
				t = oom(err);
			if (t == 0)
				t = add_target(p, path, false, err);
		} else if (S_ISDIR(st.st_mode)) {
			t = NOTE_ERROR(p, err,
				       "cannot open '%s' for writing: %s", op,
				       strerror(EISDIR));
		} else if (!(path = realpath(typed, NULL))) {
			t = oom(err);
		} else {
			if (io_blocks)
				n = size *
				    (st.st_blksize ? st.st_blksize : 512);
			base = ref_size >= 0 && size_arg ? ref_size
							 : (int64_t)st.st_size;
			to = truncate_new_size(mode, n, base);
			if (!S_ISREG(st.st_mode)) {
				/* devices, fifos: truncate leaves them */
			} else if (to != st.st_size) {
				units_format_size((uint64_t)st.st_size, was,
						  sizeof(was));
				units_format_size((uint64_t)to, now,
						  sizeof(now));
				snprintf(detail, sizeof(detail), "%s -> %s",
					 was, now);
				t = add_effect(
					p, err, EFFECT_TRUNCATE, path, NULL,
					'f', 1,
					to < st.st_size
						? (uint64_t)(st.st_size - to)
						: 0,
					detail);
			}
			if (t == 0)
				t = add_target(p, path, false, err);
			if (t == 0) {
				/* the operand too: a symlink repointed
				 * would truncate another file */
				char *shown = host_path(c, op);

				t = shown ? add_target(p, shown, false, err)
					  : oom(err);
				free(shown);
			}
		}
		free(typed);
		free(path);
		if (t < 0)
			goto out;
	}
	rc = 0;
out:
	cmdline_release(&cl);
	return rc;
}

/* ---------------------------------------------------------------------
 * The rows.
 */

const struct tool tools_fs[] = {
	{"rm", NULL, "rm", plan_rm},
	{"find", match_find, "find -delete", plan_find},
	{"rsync", match_rsync, "rsync", plan_rsync},
	{"git", match_git_clean, "git clean", plan_git_clean},
	{"git", match_git_reset, "git reset --hard", plan_git_reset},
	{"chmod", NULL, "chmod", plan_chmod},
	{"chown", NULL, "chown", plan_chown},
	{"chgrp", NULL, "chgrp", plan_chgrp},
	{"mv", NULL, "mv", plan_mv},
	{"cp", NULL, "cp", plan_cp},
	{"truncate", NULL, "truncate", plan_truncate},
	{NULL, NULL, NULL, NULL},
};
