/* Unit tests for cmd/saferun/tools_fs.c: each known command planned on
 * real trees and repositories in a temporary directory (real git, rsync,
 * find), the effects, targets and errors checked; where the tool can be
 * run for real on a copy, its result is compared with the plan (chmod's
 * symbolic modes, truncate's sizes, what rm, find, rsync and git clean
 * remove), so that a wrong emulation cannot pass. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../cmd/saferun/tools.h"
#include "fprint.h"
#include "unit.h"
#include "units.h"

static char base[PATH_MAX];

/* base/rel, in one of a few rotating buffers. */
static const char *P(const char *rel)
{
	static char buf[8][PATH_MAX];
	static int next;
	char *b = buf[next++ % 8];

	if (snprintf(b, PATH_MAX, "%s/%s", base, rel) >= PATH_MAX)
		UNIT_FAIL("path too long: %s", rel);
	return b;
}

/* A shell command run in base. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int sh(const char *fmt, ...)
{
	char cmd[8192];
	int n;
	va_list ap;

	n = snprintf(cmd, sizeof(cmd), "cd '%s' && (", base);
	va_start(ap, fmt);
	n += vsnprintf(cmd + n, sizeof(cmd) - (size_t)n, fmt, ap);
	va_end(ap);
	snprintf(cmd + n, sizeof(cmd) - (size_t)n, ") >/dev/null 2>&1");
	return system(cmd);
}

static void mkfile(const char *rel, size_t size)
{
	int fd = open(P(rel), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	char buf[4096];

	memset(buf, 'x', sizeof(buf));
	if (fd < 0) {
		UNIT_FAIL("cannot create %s: %s", rel, strerror(errno));
		return;
	}
	while (size) {
		size_t n = size < sizeof(buf) ? size : sizeof(buf);

		if (write(fd, buf, n) != (ssize_t)n)
			UNIT_FAIL("cannot write %s", rel);
		size -= n;
	}
	close(fd);
}

static void mkd(const char *rel)
{
	if (mkdir(P(rel), 0755) < 0 && errno != EEXIST)
		UNIT_FAIL("cannot mkdir %s: %s", rel, strerror(errno));
}

/* Everything below a path and itself, as du -b counts. */
static uint64_t walk_bytes, walk_files;

static int walk_cb(const char *path, const struct stat *st, int flag,
		   struct FTW *f)
{
	(void)path;
	(void)flag;
	(void)f;
	walk_bytes += (uint64_t)st->st_size;
	walk_files++;
	return 0;
}

static void tree_size(const char *rel, uint64_t *files, uint64_t *bytes)
{
	walk_bytes = walk_files = 0;
	nftw(P(rel), walk_cb, 16, FTW_PHYS);
	*files = walk_files;
	*bytes = walk_bytes;
}

static uint64_t size_of(const char *rel)
{
	struct stat st;

	return lstat(P(rel), &st) == 0 ? (uint64_t)st.st_size : (uint64_t)-1;
}

static bool exists(const char *rel)
{
	struct stat st;

	return lstat(P(rel), &st) == 0;
}

/* One plan. */
struct run {
	const struct tool *tool;
	struct tool_plan p;
	struct sd_err err;
	int rc;
};

static struct run R;

/* Plan argv (NULL-terminated) in base/cwd; the result in R. */
static void plan_in(const char *cwd, ...)
{
	char *argv[64];
	int argc = 0;
	va_list ap;
	struct tool_ctx c = {0};

	tool_plan_release(&R.p);
	memset(&R, 0, sizeof(R));
	va_start(ap, cwd);
	while (argc < 63 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	c.argv = argv;
	c.argc = argc;
	c.cwd = cwd[0] == '/' ? cwd : P(cwd);
	c.timeout_ms = 30000;
	c.tmpdir = NULL;
	R.tool = tools_find(&c);
	if (!R.tool) {
		R.rc = -2;
		return;
	}
	R.rc = R.tool->plan(&c, &R.p, &R.err);
}

#define PLAN(...) plan_in(".", __VA_ARGS__, (char *)NULL)

static const struct effect *eff(enum effect_op op, const char *abs)
{
	for (size_t i = 0; i < R.p.effects.n; i++)
		if (R.p.effects.v[i].op == op &&
		    !strcmp(R.p.effects.v[i].path, abs))
			return &R.p.effects.v[i];
	return NULL;
}

static size_t n_ops(enum effect_op op)
{
	size_t n = 0;

	for (size_t i = 0; i < R.p.effects.n; i++)
		n += R.p.effects.v[i].op == op;
	return n;
}

static const json_t *target(const char *abs)
{
	size_t i;
	const json_t *t;

	json_array_foreach(R.p.targets, i, t)
	{
		const char *p = json_string_value(json_object_get(t, "path"));

		if (p && !strcmp(p, abs))
			return t;
	}
	return NULL;
}

static bool fact_has(const char *key, const char *needle)
{
	size_t i;
	const json_t *s;

	json_array_foreach(json_object_get(R.p.facts, key), i, s)
	{
		if (strstr(json_string_value(s), needle))
			return true;
	}
	return false;
}

static void dump(void)
{
	printf("#   rc %d err '%s' effects %zu\n", R.rc, R.err.msg,
	       R.p.effects.n);
	for (size_t i = 0; i < R.p.effects.n; i++) {
		const struct effect *e = &R.p.effects.v[i];

		printf("#     %s %s%s%s %c files=%llu bytes=%llu (%s)\n",
		       effect_op_name(e->op), e->path, e->to ? " -> " : "",
		       e->to ? e->to : "", e->type,
		       (unsigned long long)e->files,
		       (unsigned long long)e->bytes,
		       e->detail ? e->detail : "");
	}
	if (R.p.facts) {
		char *f = json_dumps(R.p.facts, JSON_COMPACT);

		printf("#   facts %s\n", f ? f : "?");
		free(f);
	}
}

#define CHECK_EFFECT(op, abs, type_, files_, bytes_)                           \
	do {                                                                   \
		const struct effect *unit_e = eff(op, abs);                    \
		if (!unit_e) {                                                 \
			UNIT_FAIL("no %s effect on %s", effect_op_name(op),    \
				  abs);                                        \
			dump();                                                \
		} else {                                                       \
			CHECK_INT(unit_e->type, type_);                        \
			CHECK_INT(unit_e->files, files_);                      \
			CHECK_INT(unit_e->bytes, bytes_);                      \
		}                                                              \
	} while (0)

#define CHECK_DETAIL(op, abs, text)                                            \
	do {                                                                   \
		const struct effect *unit_e = eff(op, abs);                    \
		CHECK(unit_e != NULL);                                         \
		if (unit_e)                                                    \
			CHECK_STR(unit_e->detail, text);                       \
	} while (0)

#define CHECK_OK()                                                             \
	do {                                                                   \
		if (R.rc != 0) {                                               \
			UNIT_FAIL("plan failed: %s", R.err.msg);               \
			dump();                                                \
		}                                                              \
	} while (0)

/* ---------------------------------------------------------------- rm */

static void rm_tree(void)
{
	uint64_t files, bytes;
	const json_t *t;

	mkd("rm");
	mkd("rm/d");
	mkd("rm/d/sub");
	mkfile("rm/d/a", 10);
	mkfile("rm/d/sub/b", 20);
	mkfile("rm/d/sp ace", 3);
	mkfile("rm/d/new\nline", 4);
	mkfile("rm/-dash", 7);
	mkfile("rm/sp ace", 5);
	mkd("rm/empty");
	tree_size("rm/d", &files, &bytes);
	CHECK_INT(files, 6);

	plan_in("rm", "rm", "-rf", "d", (char *)NULL);
	CHECK_OK();
	CHECK_STR(R.tool->name, "rm");
	CHECK_INT(R.p.fidelity, FIDELITY_EXACT);
	CHECK_INT(R.p.effects.n, 1);
	CHECK_EFFECT(EFFECT_DELETE, P("rm/d"), 'd', files, bytes);
	t = target(P("rm/d"));
	CHECK(t != NULL);
	CHECK_INT(json_integer_value(json_object_get(t, "entries")), 5);
	CHECK(json_object_get(t, "digest") != NULL);
	CHECK(R.p.why_refuse == NULL);
	CHECK(R.p.native == NULL);

	/* Options after operands, --recursive abbreviated, leading dash,
	 * spaces. */
	plan_in("rm", "rm", "d", "--recur", "--", "-dash", "sp ace",
		(char *)NULL);
	CHECK_OK();
	CHECK_INT(R.p.effects.n, 3);
	CHECK_EFFECT(EFFECT_DELETE, P("rm/d"), 'd', files, bytes);
	CHECK_EFFECT(EFFECT_DELETE, P("rm/-dash"), 'f', 1, 7);
	CHECK_EFFECT(EFFECT_DELETE, P("rm/sp ace"), 'f', 1, 5);
	CHECK(target(P("rm/-dash")) != NULL);

	/* A name with a newline, inside. */
	plan_in("rm", "rm", "d/new\nline", (char *)NULL);
	CHECK_OK();
	CHECK_EFFECT(EFFECT_DELETE, P("rm/d/new\nline"), 'f', 1, 4);
}

static void rm_refusals_and_errors(void)
{
	plan_in("rm", "rm", "missing", (char *)NULL);
	CHECK_OK();
	CHECK_INT(R.p.effects.n, 0);
	CHECK(fact_has("errors", "cannot remove 'missing': No such file or "
				 "directory"));
	CHECK(json_is_true(json_object_get(target(P("rm/missing")), "absent")));

	plan_in("rm", "rm", "-f", "missing", (char *)NULL);
	CHECK_OK();
	CHECK_INT(R.p.effects.n, 0);
	CHECK(json_object_get(R.p.facts, "errors") == NULL);
	/* -i after -f: missing operands are errors again */
	plan_in("rm", "rm", "-fi", "missing", (char *)NULL);
	CHECK(fact_has("errors", "No such file"));

	plan_in("rm", "rm", "d", (char *)NULL);
	CHECK_OK();
	CHECK_INT(R.p.effects.n, 0);
	CHECK(fact_has("errors", "cannot remove 'd': Is a directory"));

	plan_in("rm", "rm", "-d", "d", "empty", (char *)NULL);
	CHECK_OK();
	CHECK_INT(R.p.effects.n, 1);
	CHECK_EFFECT(EFFECT_DELETE, P("rm/empty"), 'd', 1, size_of("rm/empty"));
	CHECK(fact_has("errors", "cannot remove 'd': Directory not empty"));

	plan_in("rm", "rm", "-r", ".", (char *)NULL);
	CHECK_OK();
	CHECK_INT(R.p.effects.n, 0);
	CHECK(fact_has("errors", "refusing to remove '.' or '..' directory: "
				 "skipping '.'"));

	plan_in("rm", "rm", "-rf", "--foo", "d", (char *)NULL);
	CHECK_INT(R.rc, -1);
	CHECK_STR(R.err.msg, "cannot plan 'rm': unknown option '--foo'");
	plan_in("rm", "rm", "-rz", "d", (char *)NULL);
	CHECK_INT(R.rc, -1);
	CHECK_STR(R.err.msg, "cannot plan 'rm': unknown option '-z'");
	plan_in("rm", "rm", "--preserve-root=some", "d", (char *)NULL);
	CHECK_INT(R.rc, -1);
	plan_in("rm", "rm", (char *)NULL);
	CHECK_INT(R.rc, -1);
	CHECK_CONTAINS(R.err.msg, "missing operand");
	plan_in("rm", "rm", "--help", "d", (char *)NULL);
	CHECK_OK();
	CHECK_INT(R.p.effects.n, 0);
}

static void rm_root_and_symlinks(void)
{
	uint64_t files, bytes;

	/* rm refuses '/' itself; the plan says so and needs a token. */
	plan_in("rm", "rm", "-rf", "/", (char *)NULL);
	CHECK_OK();
	CHECK_INT(R.p.effects.n, 0);
	CHECK_STR(R.p.why_refuse, "recursive operation on '/'");
	CHECK(fact_has("errors", "dangerous to operate recursively on '/'"));
	plan_in("rm", "rm", "-rf", "//", (char *)NULL);
	CHECK_STR(R.p.why_refuse, "recursive operation on '/'");

	plan_in("rm", "rm", "-rf", "--no-preserve-root", "/", (char *)NULL);
	CHECK_OK();
	CHECK_STR(R.p.why_refuse, "recursive operation on '/'");
	CHECK_INT(R.p.effects.n, 1);
	CHECK(eff(EFFECT_DELETE, "/") != NULL);
	CHECK(json_object_get(target("/"), "digest") == NULL);

	plan_in("rm", "rm", "--no-preserve-root", "sp ace", (char *)NULL);
	CHECK_OK();
	CHECK(R.p.why_refuse != NULL);

	/* A symlink is removed, never followed. */
	if (symlink("d", P("rm/link")) < 0)
		UNIT_FAIL("symlink: %s", strerror(errno));
	plan_in("rm", "rm", "-rf", "link", (char *)NULL);
	CHECK_OK();
	CHECK_INT(R.p.effects.n, 1);
	CHECK_EFFECT(EFFECT_DELETE, P("rm/link"), 'l', 1, 1);
	/* ... unless named with a trailing slash: its directory is
	 * emptied, and rm fails on the link. */
	tree_size("rm/d", &files, &bytes);
	plan_in("rm", "rm", "-r", "link/", (char *)NULL);
	CHECK_OK();
	CHECK_EFFECT(EFFECT_DELETE, P("rm/d"), 'd', files - 1,
		     bytes - size_of("rm/d"));
	CHECK(fact_has("errors", "cannot remove 'link/': Not a directory"));
	sh("cp -a rm rm2 && cd rm2 && rm -r link/");
	CHECK(exists("rm2/d"));
	CHECK(!exists("rm2/d/a"));
	CHECK(exists("rm2/link"));
	sh("rm -rf rm2");
}

/* -------------------------------------------------------------- find */

static void find_delete(void)
{
	char *rest[] = {"f/x.log", "f/sub/z.log", "f/we ird\nname.log",
			"f/-x.log", NULL};

	mkd("f");
	mkd("f/sub");
	mkfile("f/x.log", 5);
	mkfile("f/y.txt", 6);
	mkfile("f/sub/z.log", 7);
	mkfile("f/we ird\nname.log", 8);
	mkfile("f/-x.log", 9);

	PLAN("find", "f", "-name", "*.log", "-delete");
	CHECK_OK();
	CHECK_STR(R.tool->name, "find");
	CHECK_INT(R.p.fidelity, FIDELITY_NATIVE);
	CHECK_INT(R.p.effects.n, 4);
	CHECK_EFFECT(EFFECT_DELETE, P("f/x.log"), 'f', 1, 5);
	CHECK_EFFECT(EFFECT_DELETE, P("f/sub/z.log"), 'f', 1, 7);
	CHECK_EFFECT(EFFECT_DELETE, P("f/we ird\nname.log"), 'f', 1, 8);
	CHECK_EFFECT(EFFECT_DELETE, P("f/-x.log"), 'f', 1, 9);
	CHECK(eff(EFFECT_DELETE, P("f/y.txt")) == NULL);
	CHECK(json_object_get(target(P("f")), "digest") != NULL);
	CHECK_CONTAINS(R.p.native, "-depth");
	CHECK_STR(R.p.native, "find f -depth -name '*.log' -print0");
	CHECK(strstr(R.p.native, "-delete") == NULL);
	CHECK(exists("f/x.log")); /* nothing deleted by the preview */

	/* The real run deletes exactly those. */
	sh("find f -name '*.log' -delete");
	for (int i = 0; rest[i]; i++)
		CHECK(!exists(rest[i]));
	CHECK(exists("f/y.txt"));

	/* Everything, the directories counting one each. */
	mkfile("f/x.log", 5);
	PLAN("find", "f", "-delete");
	CHECK_OK();
	CHECK_INT(R.p.effects.n, 4);
	CHECK_EFFECT(EFFECT_DELETE, P("f"), 'd', 1, size_of("f"));
	CHECK_EFFECT(EFFECT_DELETE, P("f/sub"), 'd', 1, size_of("f/sub"));
	CHECK_EFFECT(EFFECT_DELETE, P("f/y.txt"), 'f', 1, 6);

	/* -print alongside does not disturb the list; -exec is refused. */
	PLAN("find", ".", "-name", "y.txt", "-print", "-delete");
	CHECK_OK();
	CHECK_INT(R.p.effects.n, 1);
	CHECK_EFFECT(EFFECT_DELETE, P("f/y.txt"), 'f', 1, 6);
	PLAN("find", "f", "-exec", "true", "{}", ";", "-delete");
	CHECK_INT(R.rc, -1);
	CHECK_CONTAINS(R.err.msg, "'-exec'");

	/* Not a match without -delete; a failing preview is an error. */
	PLAN("find", "f", "-name", "x");
	CHECK_INT(R.rc, -2);
	PLAN("find", "nope", "-delete");
	CHECK_INT(R.rc, -1);
	CHECK_STR(R.err.msg, "find failed: find: 'nope': No such file or "
			     "directory");
}

/* ------------------------------------------------------------- rsync */

static void rsync_setup(void)
{
	sh("rm -rf rs && mkdir -p rs/src/sub rs/dst/old rs/dst/sub");
	mkfile("rs/src/a", 3);
	mkfile("rs/src/sub/n", 4);
	mkfile("rs/src/we ird\nname", 5);
	mkfile("rs/src/s", 6);
	mkfile("rs/dst/a2", 11);
	mkfile("rs/dst/old/x", 12);
	mkfile("rs/dst/sub/n", 13);
	mkfile("rs/dst/-dash", 14);
	sh("cp -p rs/src/s rs/dst/s && chmod 600 rs/dst/s");
}

static void rsync_delete(void)
{
	rsync_setup();
	plan_in("rs", "rsync", "-av", "--progress", "--delete", "src/", "dst/",
		(char *)NULL);
	CHECK_OK();
	CHECK_STR(R.tool->name, "rsync");
	CHECK_INT(R.p.fidelity, FIDELITY_NATIVE);
	CHECK_EFFECT(EFFECT_DELETE, P("rs/dst/a2"), 'f', 1, 11);
	CHECK_EFFECT(EFFECT_DELETE, P("rs/dst/old/x"), 'f', 1, 12);
	CHECK_EFFECT(EFFECT_DELETE, P("rs/dst/old"), 'd', 1, 0);
	CHECK_EFFECT(EFFECT_DELETE, P("rs/dst/-dash"), 'f', 1, 14);
	CHECK_EFFECT(EFFECT_CREATE, P("rs/dst/a"), 'f', 1, 3);
	CHECK_EFFECT(EFFECT_CREATE, P("rs/dst/we ird\nname"), 'f', 1, 5);
	CHECK_EFFECT(EFFECT_MODIFY, P("rs/dst/sub/n"), 'f', 1, 4);
	CHECK_DETAIL(EFFECT_MODE, P("rs/dst/s"), "0600 -> 0644");
	CHECK_INT(n_ops(EFFECT_DELETE), 4);
	CHECK_INT(R.p.effects.n, 8);
	CHECK(json_object_get(target(P("rs/dst")), "digest") != NULL);
	CHECK(json_object_get(target(P("rs/src")), "digest") != NULL);
	CHECK_CONTAINS(R.p.native, "--dry-run");
	CHECK(strstr(R.p.native, "-v") == NULL);
	CHECK(exists("rs/dst/a2"));

	/* The real run: the deletes gone, the creates there. */
	sh("cd rs && rsync -a --delete src/ dst/");
	CHECK(!exists("rs/dst/a2") && !exists("rs/dst/old") &&
	      !exists("rs/dst/-dash"));
	CHECK(exists("rs/dst/a") && exists("rs/dst/we ird\nname"));

	/* --remove-source-files: the sources go too, sent or not. */
	rsync_setup();
	plan_in("rs", "rsync", "-a", "--remove-source-files", "src/", "dst",
		(char *)NULL);
	CHECK_OK();
	CHECK_EFFECT(EFFECT_DELETE, P("rs/src/a"), 'f', 1, 3);
	CHECK_EFFECT(EFFECT_DELETE, P("rs/src/s"), 'f', 1, 6);
	CHECK_EFFECT(EFFECT_DELETE, P("rs/src/sub/n"), 'f', 1, 4);
	CHECK(eff(EFFECT_DELETE, P("rs/src/sub")) == NULL);
	CHECK(eff(EFFECT_DELETE, P("rs/dst/a2")) == NULL);
	/* A name with the byte rsync's separator prints as. */
	mkfile("rs/src/odd\037name", 8);
	plan_in("rs", "rsync", "-a", "--remove-source-files", "src/", "dst",
		(char *)NULL);
	CHECK_OK();
	CHECK_EFFECT(EFFECT_DELETE, P("rs/src/odd\037name"), 'f', 1, 8);
	CHECK_EFFECT(EFFECT_CREATE, P("rs/dst/odd\037name"), 'f', 1, 8);
	sh("cd rs && rsync -a --remove-source-files src/ dst");
	CHECK(!exists("rs/src/a") && !exists("rs/src/s") &&
	      !exists("rs/src/sub/n"));
}

static void rsync_errors_and_remote(void)
{
	int fd;

	rsync_setup();
	plan_in("rs", "rsync", "-a", "--delete", "--frobnicate", "src/", "dst/",
		(char *)NULL);
	CHECK_INT(R.rc, -1);
	CHECK_STR(R.err.msg,
		  "cannot plan 'rsync': unknown option '--frobnicate'");
	plan_in("rs", "rsync", "-a", "--delete", "nope/", "dst/", (char *)NULL);
	CHECK_INT(R.rc, -1);
	CHECK_CONTAINS(R.err.msg, "rsync --dry-run failed: rsync: ");
	plan_in("rs", "rsync", "-a", "src/", "dst/", (char *)NULL);
	CHECK_INT(R.rc, -2); /* no delete: not this row */
	plan_in("rs", "rsync", "--delete", "--write-batch=b", "src/", "dst/",
		(char *)NULL);
	CHECK_INT(R.rc, -1);

	/* A remote destination, through a stand-in for ssh. */
	fd = open(P("rs/fakersh"), O_WRONLY | O_CREAT | O_TRUNC, 0755);
	if (fd < 0 || write(fd, "#!/bin/sh\nshift\nexec \"$@\"\n", 26) != 26)
		UNIT_FAIL("cannot write fakersh");
	if (fd >= 0)
		close(fd);
	{
		char dest[PATH_MAX + 16];

		snprintf(dest, sizeof(dest), "fakehost:%s/", P("rs/dst"));
		plan_in("rs", "rsync", "-a", "--delete", "-e", "./fakersh",
			"src/", dest, (char *)NULL);
		CHECK_OK();
		snprintf(dest, sizeof(dest), "fakehost:%s/a2", P("rs/dst"));
		CHECK_EFFECT(EFFECT_DELETE, dest, 'o', 1, 0);
		snprintf(dest, sizeof(dest), "fakehost:%s/a", P("rs/dst"));
		CHECK_EFFECT(EFFECT_CREATE, dest, 'o', 1, 3);
		CHECK(json_object_get(R.p.facts, "remote") != NULL);
		CHECK(target(P("rs/src")) != NULL);
	}
}

/* --------------------------------------------------------------- git */

static void git_repo(const char *dir)
{
	sh("rm -rf %s && mkdir %s && cd %s && git init -q -b main && "
	   "git config user.name t && git config user.email t@example.com",
	   dir, dir, dir);
}

static void git_clean(void)
{
	uint64_t files, bytes;

	git_repo("gc");
	mkfile("gc/t", 1);
	mkfile("gc/.gitignore", 6);
	sh("cd gc && printf '*.log\\n' > .gitignore && git add . && "
	   "git commit -qm one");
	mkfile("gc/u", 5);
	mkd("gc/ud");
	mkfile("gc/ud/1", 1);
	mkfile("gc/ud/2", 2);
	mkfile("gc/i.log", 3);
	mkfile("gc/n\nl", 4);
	mkfile("gc/-d", 6);
	mkd("gc/sub");
	mkfile("gc/sub/s", 7);
	sh("mkdir gc/nr && cd gc/nr && git init -q");
	tree_size("gc/ud", &files, &bytes);

	plan_in("gc", "git", "clean", "-fd", (char *)NULL);
	CHECK_OK();
	CHECK_STR(R.tool->what, "git clean");
	CHECK_EFFECT(EFFECT_DELETE, P("gc/u"), 'f', 1, 5);
	CHECK_EFFECT(EFFECT_DELETE, P("gc/ud"), 'd', files, bytes);
	CHECK_EFFECT(EFFECT_DELETE, P("gc/n\nl"), 'f', 1, 4);
	CHECK_EFFECT(EFFECT_DELETE, P("gc/-d"), 'f', 1, 6);
	CHECK(eff(EFFECT_DELETE, P("gc/i.log")) == NULL);
	CHECK(eff(EFFECT_DELETE, P("gc/nr")) == NULL);
	CHECK_INT(R.p.effects.n, 5); /* and sub */
	CHECK(json_object_get(target(P("gc/ud")), "digest") != NULL);
	CHECK_STR(R.p.native, "git clean -n -d --");

	plan_in("gc", "git", "clean", "-ffdx", (char *)NULL);
	CHECK_OK();
	CHECK(eff(EFFECT_DELETE, P("gc/i.log")) != NULL);
	CHECK(eff(EFFECT_DELETE, P("gc/nr")) != NULL);

	/* From a subdirectory, a path outside it. */
	plan_in("gc/sub", "git", "clean", "-f", "--", "../u", (char *)NULL);
	CHECK_OK();
	CHECK_INT(R.p.effects.n, 1);
	CHECK_EFFECT(EFFECT_DELETE, P("gc/u"), 'f', 1, 5);

	/* The real run removes what the plan said, and only that. */
	plan_in("gc", "git", "clean", "-fd", (char *)NULL);
	sh("cd gc && git clean -fd");
	for (size_t i = 0; i < R.p.effects.n; i++)
		if (exists(R.p.effects.v[i].path + strlen(base) + 1))
			UNIT_FAIL("not removed: %s", R.p.effects.v[i].path);
	CHECK(exists("gc/t") && exists("gc/i.log") && exists("gc/nr"));
}

static void git_clean_errors(void)
{
	mkd("notrepo");
	plan_in("notrepo", "git", "clean", "-f", (char *)NULL);
	CHECK_INT(R.rc, -1);
	CHECK_CONTAINS(R.err.msg,
		       "git clean -n failed: fatal: not a git repository");
	plan_in("gc", "git", "clean", "-f", "--frob", (char *)NULL);
	CHECK_INT(R.rc, -1);
	CHECK_STR(R.err.msg,
		  "cannot plan 'git clean': unknown option '--frob'");
	plan_in("gc", "git", "clean", "-d", (char *)NULL);
	CHECK_INT(R.rc, -1);
	CHECK_CONTAINS(R.err.msg, "clean.requireForce");
	plan_in("gc", "git", "status", (char *)NULL);
	CHECK_INT(R.rc, -2);
}

static char *git_out(const char *dir, const char *cmd)
{
	char line[256] = "", full[PATH_MAX + 300];
	FILE *f;

	snprintf(full, sizeof(full), "cd '%s' && %s", P(dir), cmd);
	if (!(f = popen(full, "r")))
		return strdup("");
	if (!fgets(line, sizeof(line), f))
		line[0] = 0;
	pclose(f);
	line[strcspn(line, "\n")] = 0;
	return strdup(line);
}

static void git_reset_hard(void)
{
	char *head, *undo;
	char *first_targets;
	json_t *saved;

	git_repo("gr");
	mkfile("gr/a", 2);
	mkfile("gr/b", 3);
	mkfile("gr/c", 4);
	sh("cd gr && git add . && git commit -qm one && printf 'cc\\n' >> c "
	   "&& printf 'd\\n' > d && git add . && git commit -qm two");
	sh("cd gr && printf 'more\\n' >> a && printf 'new\\n' > 'n e w' && "
	   "git add 'n e w' && rm b");
	head = git_out("gr", "git rev-parse HEAD");

	plan_in("gr", "git", "reset", "--hard", (char *)NULL);
	CHECK_OK();
	CHECK_STR(R.tool->what, "git reset --hard");
	CHECK_INT(R.p.fidelity, FIDELITY_PREVIEW);
	CHECK_DETAIL(EFFECT_MODIFY, P("gr/a"),
		     "uncommitted changes lost "
		     "(+1 -1)");
	CHECK_EFFECT(EFFECT_DELETE, P("gr/n e w"), 'f', 1, 4);
	CHECK_DETAIL(EFFECT_DELETE, P("gr/n e w"), "staged new file lost");
	CHECK_DETAIL(EFFECT_CREATE, P("gr/b"), "deleted file restored");
	CHECK_INT(R.p.effects.n, 3);
	CHECK_STR(json_string_value(json_object_get(R.p.facts, "head")), head);
	undo = (char *)json_string_value(json_object_get(R.p.facts, "undo"));
	CHECK(undo && !strncmp(undo, "git stash apply ", 16));
	CHECK(target(P("gr/.git/index")) != NULL);
	CHECK(target(P("gr/.git/HEAD")) != NULL);
	CHECK(target(P("gr/.git/refs/heads/main")) != NULL);
	CHECK(target(P("gr/a")) != NULL);
	CHECK(exists("gr/n e w")); /* nothing changed by the preview */

	/* Planning again: the same plan, the targets unchanged. */
	saved = json_deep_copy(R.p.targets);
	first_targets = strdup(undo ? undo : "");
	plan_in("gr", "git", "reset", "--hard", "HEAD", (char *)NULL);
	CHECK_OK();
	CHECK_STR(json_string_value(json_object_get(R.p.facts, "undo")),
		  first_targets);
	{
		char *changed = fprint_check_all(saved);

		if (changed)
			UNIT_FAIL("targets changed by planning: %s", changed);
		free(changed);
	}
	json_decref(saved);
	/* The undo really holds the changes: apply after a real reset. */
	{
		char cmd[400];

		snprintf(cmd, sizeof(cmd),
			 "cd gr && git reset -q --hard && %s && grep -q more a",
			 first_targets);
		CHECK_INT(sh("%s", cmd), 0);
	}
	free(first_targets);

	/* To another commit: what differs from it too. */
	sh("cd gr && git reset -q --hard && printf 'x\\n' >> a");
	plan_in("gr", "git", "reset", "--hard", "HEAD~1", (char *)NULL);
	CHECK_OK();
	CHECK_DETAIL(EFFECT_MODIFY, P("gr/c"), "as in 'HEAD~1'");
	CHECK_DETAIL(EFFECT_DELETE, P("gr/d"), "as in 'HEAD~1'");
	CHECK_DETAIL(EFFECT_MODIFY, P("gr/a"),
		     "uncommitted changes lost "
		     "(+1 -1)");
	CHECK(json_object_get(R.p.facts, "rev") != NULL);

	/* An untracked file in the way of the commit's is overwritten. */
	sh("cd gr && git reset -q --hard && git checkout -q -b side && "
	   "printf 'y\\n' > y && git add y && git commit -qm y && "
	   "git checkout -q main && printf 'mine!\\n' > y");
	plan_in("gr", "git", "reset", "--hard", "side", (char *)NULL);
	CHECK_OK();
	CHECK_EFFECT(EFFECT_OVERWRITE, P("gr/y"), 'f', 1, 6);
	CHECK(json_object_get(R.p.facts, "undo") == NULL); /* clean tree */

	plan_in("gr", "git", "reset", "--hard", "nope", (char *)NULL);
	CHECK_INT(R.rc, -1);
	CHECK_CONTAINS(R.err.msg, "'nope' is not a commit");
	plan_in("gr", "git", "reset", "--hard", "HEAD", "a", (char *)NULL);
	CHECK_INT(R.rc, -1);
	plan_in("gr", "git", "reset", "--soft", (char *)NULL);
	CHECK_INT(R.rc, -2);
	plan_in("notrepo", "git", "reset", "--hard", (char *)NULL);
	CHECK_INT(R.rc, -1);
	CHECK_CONTAINS(R.err.msg, "not a git repository");
	free(head);
}

/* ------------------------------------------------------------- chmod */

static const char *const chmod_names[] = {
	"m",	  "m/f644",    "m/f755",  "m/f600",	"m/f000", "m/fsuid",
	"m/d755", "m/d755/in", "m/dsgid", "m/dsgid/in", "m/l",	  NULL,
};

static void chmod_tree(void)
{
	static const struct {
		const char *name;
		mode_t mode;
	} files[] = {{"m/f644", 0644},	  {"m/f755", 0755},
		     {"m/f600", 0600},	  {"m/f000", 0000},
		     {"m/fsuid", 04755},  {"m/d755/in", 0640},
		     {"m/dsgid/in", 0664}};

	sh("rm -rf m");
	mkd("m");
	mkd("m/d755");
	mkd("m/dsgid");
	for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
		mkfile(files[i].name, 1);
		chmod(P(files[i].name), files[i].mode);
	}
	chmod(P("m/dsgid"), 02775);
	if (symlink("f644", P("m/l")) < 0)
		UNIT_FAIL("symlink");
}

static mode_t cur_umask(void)
{
	mode_t m = umask(0);

	umask(m);
	return m;
}

/* One case of the table: a mode, -R or not, the operand below a copy. */
struct chmod_case {
	const char *mode;
	bool recursive, whole; /* chmod -R; a copy of the whole tree */
	const char *operand;
	mode_t predicted[16];
};

static void chmod_rel(char *buf, size_t n, int k, const char *name)
{
	snprintf(buf, n, "c/%d%s", k, name + 1); /* "m/f644" -> "c/K/f644" */
}

/* Plan each case on a copy of m of its own (c/K), then run the real
 * chmod on every copy (one script) and compare every mode. */
static void chmod_cases(struct chmod_case *cases, int n)
{
	FILE *script;
	char rel[128], op[128];

	/* Copies: the whole tree for -R, else only the operand. */
	if (!(script = fopen(P("c.sh"), "w"))) {
		UNIT_FAIL("cannot write c.sh");
		return;
	}
	fprintf(script, "rm -rf c && mkdir c\n");
	for (int k = 0; k < n; k++)
		if (cases[k].recursive || cases[k].whole)
			fprintf(script, "cp -a m c/%d\n", k);
		else
			fprintf(script, "mkdir c/%d && cp -a m%s c/%d/\n", k,
				cases[k].operand, k);
	fclose(script);
	sh("sh c.sh");
	for (int k = 0; k < n; k++) {
		struct chmod_case *cc = &cases[k];

		for (int i = 0; chmod_names[i]; i++) {
			struct stat st;

			chmod_rel(rel, sizeof(rel), k, chmod_names[i]);
			cc->predicted[i] = lstat(P(rel), &st) == 0
						   ? st.st_mode & 07777
						   : (mode_t)-1;
		}
		snprintf(op, sizeof(op), "c/%d%s", k, cc->operand);
		if (cc->recursive)
			plan_in(".", "chmod", "-R", (char *)cc->mode, op,
				(char *)NULL);
		else
			plan_in(".", "chmod", (char *)cc->mode, op,
				(char *)NULL);
		if (R.rc != 0) {
			UNIT_FAIL("chmod %s: %s", cc->mode, R.err.msg);
			continue;
		}
		for (int i = 0; chmod_names[i]; i++) {
			const struct effect *e;
			unsigned from, to;

			chmod_rel(rel, sizeof(rel), k, chmod_names[i]);
			if (!(e = eff(EFFECT_MODE, P(rel))))
				continue;
			if (cc->predicted[i] == (mode_t)-1)
				UNIT_FAIL("chmod %s: %s changes, not there",
					  cc->mode, rel);
			if (!e->detail ||
			    sscanf(e->detail, "%o -> %o", &from, &to) != 2)
				UNIT_FAIL("detail of %s: %s", rel, e->detail);
			else if (from != cc->predicted[i])
				UNIT_FAIL("chmod %s: %s was %04o, plan says "
					  "%04o",
					  cc->mode, rel, cc->predicted[i],
					  from);
			else
				cc->predicted[i] = to;
		}
	}
	if (!(script = fopen(P("c.sh"), "w"))) {
		UNIT_FAIL("cannot write c.sh");
		return;
	}
	for (int k = 0; k < n; k++)
		fprintf(script, "chmod %s '%s' c/%d%s\n",
			cases[k].recursive ? "-R" : "", cases[k].mode, k,
			cases[k].operand);
	fclose(script);
	sh("sh c.sh");
	for (int k = 0; k < n; k++)
		for (int i = 0; chmod_names[i]; i++) {
			struct stat st;

			chmod_rel(rel, sizeof(rel), k, chmod_names[i]);
			if (cases[k].predicted[i] == (mode_t)-1)
				continue; /* not in this copy */
			lstat(P(rel), &st);
			if ((st.st_mode & 07777) != cases[k].predicted[i])
				UNIT_FAIL("chmod %s'%s' %s (umask %03o): %s "
					  "is %04o, the plan said %04o",
					  cases[k].recursive ? "-R " : "",
					  cases[k].mode, cases[k].operand,
					  (unsigned)cur_umask(), rel,
					  st.st_mode & 07777,
					  cases[k].predicted[i]);
		}
}

static void chmod_modes_match_real_chmod(void)
{
	static const char *const modes[] = {
		"u+x",	   "go-w",
		"a=r",	   "+X",
		"a+X",	   "u=rwX,go=rX",
		"=rw",	   "o=u",
		"g=u-w",   "g+s",
		"u-s",	   "+t",
		"755",	   "0644",
		"00755",   "644",
		"-w",	   "a+rwx,o-x",
		"u=",	   "ug+w,o-rwx",
		"+x",	   "=",
		"a-X",	   "u+s,g+s",
		"o+t,a-t", "=rwx",
		"go=",	   "u=g",
		"a=rw,+X", "ug=rwx,o=rx",
		"+w",	   "o-u",
		"7777",	   "0",
		"=X",	   "g-s",
		"02755",   "u+rw,g=r,o-rwx",
		NULL,
	};
	static const char *const operands[] = {"", "/f644", "/dsgid", "/fsuid"};
	static const mode_t masks[] = {022, 077, 027, 0};
	struct chmod_case cases[sizeof(modes) / sizeof(*modes) * 4];
	int n;

	chmod_tree();
	for (size_t u = 0; u < sizeof(masks) / sizeof(*masks); u++) {
		umask(masks[u]);
		n = 0;
		for (int i = 0; modes[i]; i++)
			for (int o = 0; o < 4; o++)
				cases[n++] = (struct chmod_case){
					.mode = modes[i],
					.recursive = o == 0,
					.operand = operands[o]};
		chmod_cases(cases, n);
	}
	umask(022);
	/* A symlink operand: what it points to changes. */
	cases[0] = (struct chmod_case){
		.mode = "600", .operand = "/l", .whole = true};
	chmod_cases(cases, 1);
	CHECK(eff(EFFECT_MODE, P("c/0/f644")) != NULL);
	CHECK(eff(EFFECT_MODE, P("c/0/l")) == NULL);
	sh("rm -rf c c.sh");
}

static void chmod_errors_and_root(void)
{
	chmod_tree();
	PLAN("chmod", "--frob", "644", "m");
	CHECK_INT(R.rc, -1);
	CHECK_STR(R.err.msg, "cannot plan 'chmod': unknown option '--frob'");
	PLAN("chmod", "u+q", "m");
	CHECK_INT(R.rc, -1);
	CHECK_STR(R.err.msg, "cannot plan 'chmod': invalid mode: 'u+q'");
	PLAN("chmod", "644");
	CHECK_INT(R.rc, -1);
	PLAN("chmod", "644", "m/nope");
	CHECK_OK();
	CHECK(fact_has("errors", "cannot access 'm/nope'"));

	PLAN("chmod", "-R", "755", "/");
	CHECK_OK();
	CHECK_STR(R.p.why_refuse, "recursive operation on '/'");
	CHECK_INT(R.p.effects.n, 1);
	CHECK(eff(EFFECT_MODE, "/") != NULL);
	PLAN("chmod", "-R", "--preserve-root", "755", "/");
	CHECK_OK();
	CHECK_INT(R.p.effects.n, 0);
	CHECK(fact_has("errors", "dangerous"));

	PLAN("chmod", "--reference=m/f600", "m/f644");
	CHECK_OK();
	CHECK_DETAIL(EFFECT_MODE, P("m/f644"), "0644 -> 0600");
	CHECK(json_object_get(target(P("m/f644")), "mode") != NULL);
}

/* ------------------------------------------------------------- chown */

static void chown_owner(void)
{
	const json_t *t;

	if (geteuid() != 0) {
		printf("# skip chown: not root\n");
		return;
	}
	chmod_tree();
	PLAN("chown", "-R", "nobody:nogroup", "m");
	CHECK_OK();
	CHECK_INT(R.p.fidelity, FIDELITY_EXACT);
	CHECK_INT(R.p.effects.n, 11); /* every entry, the symlink itself */
	CHECK_DETAIL(EFFECT_OWNER, P("m/f644"), "root:root -> nobody:nogroup");
	CHECK_EFFECT(EFFECT_OWNER, P("m/l"), 'l', 1, 0);
	t = target(P("m"));
	CHECK(t && json_object_get(t, "digest"));
	sh("cp -a m mo && chown -R nobody:nogroup mo");
	for (int i = 0; chmod_names[i]; i++) {
		struct stat st;
		char rel[64];

		snprintf(rel, sizeof(rel), "mo%s", chmod_names[i] + 1);
		lstat(P(rel), &st);
		CHECK_INT(st.st_uid, 65534);
	}
	/* Only what changes; --from; a group alone; chgrp. */
	PLAN("chown", "-R", "nobody:nogroup", "mo");
	CHECK_OK();
	CHECK_INT(R.p.effects.n, 0);
	PLAN("chown", "-R", "--from=nobody", "root", "mo");
	CHECK_OK();
	CHECK_INT(R.p.effects.n, 11);
	CHECK_DETAIL(EFFECT_OWNER, P("mo/f644"),
		     "nobody:nogroup -> "
		     "root:nogroup");
	PLAN("chown", ":root", "m/f644");
	CHECK_OK();
	CHECK_INT(R.p.effects.n, 0);
	PLAN("chgrp", "nogroup", "m/f644", "m/l");
	CHECK_OK();
	CHECK_INT(R.p.effects.n, 1); /* the link leads to f644 */
	CHECK_DETAIL(EFFECT_OWNER, P("m/f644"), "root:root -> root:nogroup");
	PLAN("chown", "-h", "1234:5678", "m/l");
	CHECK_OK();
	CHECK_EFFECT(EFFECT_OWNER, P("m/l"), 'l', 1, 0);
	CHECK_DETAIL(EFFECT_OWNER, P("m/l"), "root:root -> 1234:5678");
	PLAN("chown", "no-such-user-x", "m");
	CHECK_INT(R.rc, -1);
	CHECK_CONTAINS(R.err.msg, "invalid user");
	PLAN("chown", "-R", "--dereference", "root", "m");
	CHECK_INT(R.rc, -1);
	PLAN("chown", "-R", "root", "/");
	CHECK_OK();
	CHECK_STR(R.p.why_refuse, "recursive operation on '/'");
	sh("rm -rf mo");
}

/* ---------------------------------------------------------- mv and cp */

static void mv_cp(void)
{
	sh("rm -rf x && mkdir -p x/dir x/dir/a x/src/sub x/dst/src/sub");
	mkfile("x/a", 3);
	mkfile("x/b", 7);
	mkfile("x/-x", 2);
	mkfile("x/dir/b", 9);
	mkfile("x/src/f", 1);
	mkfile("x/src/sub/g", 2);
	mkfile("x/src/new", 2);
	mkfile("x/dst/src/f", 10);
	mkfile("x/dst/src/sub/g", 20);
	mkfile("x/dst/src/keep", 30);

	plan_in("x", "mv", "a", "b", (char *)NULL);
	CHECK_OK();
	CHECK_INT(R.p.effects.n, 2);
	CHECK_EFFECT(EFFECT_OVERWRITE, P("x/b"), 'f', 1, 7);
	CHECK_EFFECT(EFFECT_RENAME, P("x/a"), 'f', 1, 3);
	CHECK_STR(eff(EFFECT_RENAME, P("x/a"))->to, P("x/b"));
	CHECK(target(P("x/a")) && target(P("x/b")));

	plan_in("x", "mv", "-n", "a", "b", (char *)NULL);
	CHECK_OK();
	CHECK_INT(R.p.effects.n, 0);
	plan_in("x", "mv", "-b", "a", "b", (char *)NULL);
	CHECK_OK();
	CHECK_EFFECT(EFFECT_OVERWRITE, P("x/b"), 'f', 1, 0);
	CHECK_DETAIL(EFFECT_OVERWRITE, P("x/b"), "backup kept");

	/* Into a directory: b replaces dir/b; a cannot replace dir/a. */
	plan_in("x", "mv", "a", "b", "--", "-x", "dir", (char *)NULL);
	CHECK_OK();
	CHECK_EFFECT(EFFECT_OVERWRITE, P("x/dir/b"), 'f', 1, 9);
	CHECK(fact_has("errors", "cannot overwrite directory"));
	CHECK_STR(eff(EFFECT_RENAME, P("x/b"))->to, P("x/dir/b"));
	CHECK_STR(eff(EFFECT_RENAME, P("x/-x"))->to, P("x/dir/-x"));
	CHECK(eff(EFFECT_RENAME, P("x/a")) == NULL);
	CHECK(json_is_true(json_object_get(target(P("x/dir/-x")), "absent")));
	plan_in("x", "mv", "-t", "dir", "b", (char *)NULL);
	CHECK_OK();
	CHECK_EFFECT(EFFECT_OVERWRITE, P("x/dir/b"), 'f', 1, 9);
	plan_in("x", "mv", "-T", "b", "dir", (char *)NULL);
	CHECK_OK();
	CHECK_INT(R.p.effects.n, 0);
	CHECK(fact_has("errors", "cannot overwrite directory 'x/dir'") ||
	      fact_has("errors", "cannot overwrite directory"));
	plan_in("x", "mv", "a", "b", "-x", (char *)NULL);
	CHECK_INT(R.rc, -1);
	plan_in("x", "mv", "a", "b", "c", (char *)NULL);
	CHECK_INT(R.rc, -1);
	CHECK_CONTAINS(R.err.msg, "target 'c' is not a directory");
	plan_in("x", "mv", "nope", "b", (char *)NULL);
	CHECK_OK();
	CHECK(fact_has("errors", "cannot stat 'nope'"));
	plan_in("x", "mv", "src", "src/sub", (char *)NULL);
	CHECK_OK();
	CHECK(fact_has("errors", "subdirectory of itself"));
	plan_in("x", "mv", "--frob", "a", "b", (char *)NULL);
	CHECK_INT(R.rc, -1);
	CHECK_STR(R.err.msg, "cannot plan 'mv': unknown option '--frob'");

	/* cp -r merges into an existing tree. */
	plan_in("x", "cp", "-r", "src", "dst", (char *)NULL);
	CHECK_OK();
	CHECK_INT(R.p.effects.n, 2);
	CHECK_EFFECT(EFFECT_OVERWRITE, P("x/dst/src/f"), 'f', 1, 10);
	CHECK_EFFECT(EFFECT_OVERWRITE, P("x/dst/src/sub/g"), 'f', 1, 20);
	plan_in("x", "cp", "-rn", "src", "dst", (char *)NULL);
	CHECK_OK();
	CHECK_INT(R.p.effects.n, 0);
	plan_in("x", "cp", "src", "a", "dir", (char *)NULL);
	CHECK_OK();
	CHECK(fact_has("errors", "-r not specified; omitting directory "
				 "'src'"));
	plan_in("x", "cp", "b", "a", (char *)NULL);
	CHECK_OK();
	CHECK_INT(R.p.effects.n, 1);
	CHECK_EFFECT(EFFECT_OVERWRITE, P("x/a"), 'f', 1, 3);
	if (symlink("b", P("x/lnk")) < 0)
		UNIT_FAIL("symlink");
	plan_in("x", "cp", "a", "lnk", (char *)NULL);
	CHECK_OK();
	CHECK_EFFECT(EFFECT_OVERWRITE, P("x/b"), 'f', 1, 7);
	if (eff(EFFECT_OVERWRITE, P("x/b")))
		CHECK_CONTAINS(eff(EFFECT_OVERWRITE, P("x/b"))->detail,
			       "through the symlink");
	plan_in("x", "cp", "--remove-destination", "a", "lnk", (char *)NULL);
	CHECK_OK();
	CHECK_INT(R.p.effects.n, 1);
	CHECK_EFFECT(EFFECT_OVERWRITE, P("x/lnk"), 'l', 1, 1);
	plan_in("x", "cp", "-l", "a", "b", (char *)NULL);
	CHECK_OK();
	CHECK_INT(R.p.effects.n, 0);
	CHECK(fact_has("errors", "File exists"));
	CHECK(sh("cd x && cp -l a b") != 0);
	plan_in("x", "cp", "-lf", "a", "b", (char *)NULL);
	CHECK_OK();
	CHECK_EFFECT(EFFECT_OVERWRITE, P("x/b"), 'f', 1, 7);
	plan_in("x", "cp", "a", "a", (char *)NULL);
	CHECK_OK();
	CHECK(fact_has("errors", "are the same file"));
}

/* ---------------------------------------------------------- truncate */

static void truncate_against_real(const char *size, const char *file)
{
	char real_now[32];
	uint64_t before, after;
	const struct effect *e;

	sh("rm -f tc && cp -p %s tc", file);
	before = size_of("tc");
	plan_in(".", "truncate", "-s", (char *)size, "tc", (char *)NULL);
	if (R.rc != 0) {
		UNIT_FAIL("truncate -s %s: %s", size, R.err.msg);
		return;
	}
	e = eff(EFFECT_TRUNCATE, P("tc"));
	sh("truncate -s '%s' tc", size);
	after = size_of("tc");
	if (after == before) {
		if (e)
			UNIT_FAIL("truncate -s %s: no change, plan %s", size,
				  e->detail);
		return;
	}
	if (!e) {
		UNIT_FAIL("truncate -s %s: %llu -> %llu, no effect", size,
			  (unsigned long long)before,
			  (unsigned long long)after);
		return;
	}
	CHECK_INT(e->bytes, after < before ? before - after : 0);
	units_format_size(after, real_now, sizeof(real_now));
	if (!strstr(e->detail, real_now))
		UNIT_FAIL("truncate -s %s: detail '%s', real size %s", size,
			  e->detail, real_now);
}

static void truncate_sizes(void)
{
	static const char *const sizes[] = {
		"0",	 "+1K",	  "-1000", "<100", ">100",  ">9000", "%4096",
		"/4096", "5KB",	  "5KiB",  "5K",   "1M",    "+0",    "-9999",
		"%1000", "/7",	  "2kB",   "1MB",  "<6000", " 10",   "+1g",
		"10KD",	 "< 100", "10k",   "10m",  NULL,
	};
	int fd;

	mkfile("t5000", 5000);
	fd = open(P("t10m"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, 10 << 20) < 0)
		UNIT_FAIL("cannot make t10m");
	if (fd >= 0)
		close(fd);
	for (int i = 0; sizes[i]; i++)
		truncate_against_real(sizes[i], "t5000");

	plan_in(".", "truncate", "-s", "0", "t10m", (char *)NULL);
	CHECK_OK();
	CHECK_EFFECT(EFFECT_TRUNCATE, P("t10m"), 'f', 1, 10 << 20);
	CHECK_DETAIL(EFFECT_TRUNCATE, P("t10m"), "10M -> 0B");
	CHECK(target(P("t10m")) != NULL);

	plan_in(".", "truncate", "-s", "1K", "newfile", (char *)NULL);
	CHECK_OK();
	CHECK_EFFECT(EFFECT_CREATE, P("newfile"), 'f', 1, 1024);
	CHECK(json_is_true(json_object_get(target(P("newfile")), "absent")));
	plan_in(".", "truncate", "-c", "-s", "1K", "newfile", (char *)NULL);
	CHECK_OK();
	CHECK_INT(R.p.effects.n, 0);
	plan_in(".", "truncate", "-s", "0", "rm", (char *)NULL);
	CHECK_OK();
	CHECK(fact_has("errors", "Is a directory"));
	plan_in(".", "truncate", "-s", "10Q", "t5000", (char *)NULL);
	CHECK_INT(R.rc, -1);
	CHECK_CONTAINS(R.err.msg, "invalid number");
	/* What real truncate refuses, refused. */
	{
		static const char *const bad[] = {"+ 5", "<+5", "%-5", "1b",
						  "--5", "10e", "+-5", NULL};

		for (int i = 0; bad[i]; i++) {
			plan_in(".", "truncate", "-s", (char *)bad[i], "t5000",
				(char *)NULL);
			if (R.rc != -1)
				UNIT_FAIL("truncate -s '%s' planned", bad[i]);
			if (sh("truncate -s '%s' t5000", bad[i]) == 0)
				UNIT_FAIL("real truncate -s '%s' worked",
					  bad[i]);
		}
	}
	plan_in(".", "truncate", "-s", "%0", "t5000", (char *)NULL);
	CHECK_INT(R.rc, -1);
	plan_in(".", "truncate", "t5000", (char *)NULL);
	CHECK_INT(R.rc, -1);
	plan_in(".", "truncate", "--size=0", "--frob", "t5000", (char *)NULL);
	CHECK_STR(R.err.msg, "cannot plan 'truncate': unknown option "
			     "'--frob'");
	plan_in(".", "truncate", "-r", "t5000", "t10m", (char *)NULL);
	CHECK_OK();
	CHECK_EFFECT(EFFECT_TRUNCATE, P("t10m"), 'f', 1, (10 << 20) - 5000);
}

/* ------------------------------------------------------------ lookup */

static void rows_match_the_right_commands(void)
{
	plan_in(".", "/usr/bin/rm", "-f", "nothing-here", (char *)NULL);
	CHECK(R.tool && !strcmp(R.tool->name, "rm"));
	plan_in(".", "git", "log", (char *)NULL);
	CHECK(R.tool == NULL);
	plan_in(".", "git", (char *)NULL);
	CHECK(R.tool == NULL);
	plan_in(".", "find", ".", "-name", "-delete", "-print", (char *)NULL);
	/* "-delete" as a name to match: nothing deleted */
	CHECK_OK();
	CHECK_INT(R.p.effects.n, 0);
	plan_in(".", "rsync", "a", "b", "--delete-after", (char *)NULL);
	CHECK(R.tool && !strcmp(R.tool->name, "rsync"));
	CHECK_STR(fidelity_name(FIDELITY_EXACT), "exact");
}

int main(void)
{
	char *real;

	umask(022);
	unit_mkdtemp("toolsfs");
	real = realpath(unit_tmp, NULL);
	snprintf(base, sizeof(base), "%s", real ? real : unit_tmp);
	free(real);
	if (chdir(base) < 0)
		return 99;
	/* git must not read the caller's configuration or wait for one */
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("LC_ALL", "C", 1);
	setenv("HOME", base, 1);
	unsetenv("GIT_DIR");
	unsetenv("GIT_WORK_TREE");
	unsetenv("POSIXLY_CORRECT");

	RUN(rm_tree, "rm -rf counts every file and byte of a tree");
	RUN(rm_refusals_and_errors,
	    "rm: missing operands, directories, '.', unknown options");
	RUN(rm_root_and_symlinks, "rm: '/' needs a token; symlinks not "
				  "followed, unless 'link/'");
	RUN(find_delete, "find -delete: the list of its own dry run");
	RUN(rsync_delete, "rsync --delete: deletes, creates, modes, "
			  "--remove-source-files");
	RUN(rsync_errors_and_remote,
	    "rsync: unknown options, a failing dry run, a remote destination");
	RUN(git_clean, "git clean: what -n lists, nested repositories, "
		       "quoted names");
	RUN(git_clean_errors, "git clean: outside a repository, "
			      "requireForce, unknown options");
	RUN(git_reset_hard, "git reset --hard: changes lost, an undo, a "
			    "stable plan");
	RUN(chmod_modes_match_real_chmod,
	    "chmod: symbolic and numeric modes as real chmod applies them");
	RUN(chmod_errors_and_root, "chmod: errors, '/', --reference");
	RUN(chown_owner, "chown/chgrp: only what changes, --from, -h, '/'");
	RUN(mv_cp, "mv/cp: overwrites, renames, -n, -b, -t, -T, cp -r "
		   "merges");
	RUN(truncate_sizes, "truncate: every size form as real truncate");
	RUN(rows_match_the_right_commands, "the rows match their commands");
	tool_plan_release(&R.p);
	UNIT_DONE();
}
