/* safedeploy flags: dead, undefined, stale, resurrected and
 * retired-but-referenced feature flags, from the working tree, a commit,
 * the staged change or first-parent history (DESIGN.md §3); and
 * safedeploy hook: the git hooks that run those checks. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>

#include "cmd.h"
#include "color.h"
#include "flags.h"
#include "fsutil.h"
#include "msg.h"
#include "opts.h"
#include "progress.h"
#include "units.h"
#include "version.h"

enum {
	OPT_DIR = OPT_FIRST_OWN,
	OPT_REV,
	OPT_HISTORY,
	OPT_STAGED,
	OPT_SARIF,
	OPT_NO_CACHE,
	OPT_FORCE,
};

/* The options the flags and hook commands share. */
#define OPT_DIR_SPEC                                                           \
	{                                                                      \
		OPT_DIR, "directory", 'C', OPT_REQUIRED, "DIR",                \
			"the repository (default: the one holding the "        \
			"current directory)"                                   \
	}
#define OPT_NO_CACHE_SPEC                                                      \
	{                                                                      \
		OPT_NO_CACHE, "no-cache", 0, OPT_NONE, NULL,                   \
			"neither read nor write the history cache in "         \
			".git/safedeploy/"                                     \
	}

static const struct opt_spec flags_opts[] = {
	OPT_DIR_SPEC,
	{OPT_REV, "rev", 0, OPT_REQUIRED, "REV",
	 "read this commit instead of the working tree"},
	{OPT_HISTORY, "history", 0, OPT_NONE, NULL,
	 "also read first-parent history: stale, resurrected, retired"},
	{OPT_STAGED, "staged", 0, OPT_NONE, NULL,
	 "check only what the index adds over HEAD (the pre-commit check)"},
	{OPT_SARIF, "sarif", 0, OPT_REQUIRED, "FILE",
	 "also write the findings as SARIF 2.1.0 to FILE"},
	OPT_NO_CACHE_SPEC,
	OPTS_JSON,
	OPTS_CONFIG,
	OPTS_COLOR,
	OPTS_HELP,
	{0},
};

static const struct opt_spec timeline_opts[] = {
	OPT_DIR_SPEC,
	{OPT_REV, "rev", 0, OPT_REQUIRED, "REV",
	 "history up to this commit (default HEAD)"},
	OPT_NO_CACHE_SPEC,
	OPTS_JSON,
	OPTS_CONFIG,
	OPTS_COLOR,
	OPTS_HELP,
	{0},
};

struct flags_run {
	const char *dir, *rev, *sarif;
	char *sarif_buf, *config_buf;
	bool history, staged, json, no_cache, force;
	git_repository *repo;
	struct config cfg;
	struct flagspec fs;
	bool fs_loaded;
	struct flag_state st;
	struct flag_history h;
	struct progress progress;
};

static void flags_usage(void)
{
	printf("Usage: safedeploy flags [OPTIONS]\n"
	       "       safedeploy flags timeline [OPTIONS] NAME\n"
	       "\n"
	       "Find feature flags that are time bombs. Where flags are "
	       "defined and used comes\n"
	       "from flags: in the configuration (define, reference, "
	       "preset).\n"
	       "\n"
	       "  (default)   dead (defined, never referenced) and undefined "
	       "(referenced,\n"
	       "              never defined) flags of the working tree, or "
	       "of --rev\n"
	       "  --history   also stale (defined longer than max-age), "
	       "resurrected (defined\n"
	       "              again after its definition was removed) and "
	       "retired-but-referenced\n"
	       "  --staged    only what the staged change adds "
	       "(file:line:column: error: ...)\n"
	       "  timeline    one flag's events: born, extinct, born-again, "
	       "with the commits\n"
	       "\n"
	       "Options:\n");
	opts_print_help(stdout, flags_opts);
	printf("\nExit status: 0 no finding at error level, 1 findings at "
	       "error level,\n2 usage error, 4 cannot read the repository or "
	       "the configuration.\n");
}

static void timeline_usage(void)
{
	printf("Usage: safedeploy flags timeline [OPTIONS] NAME\n"
	       "\n"
	       "Print the events of flag NAME over first-parent history: when "
	       "its definition\nand its references were born, went extinct "
	       "and were born again, with the\ncommit, date, author and "
	       "subject of each.\n\nOptions:\n");
	opts_print_help(stdout, timeline_opts);
	printf("\nExit status: 0 shown, 1 the history never saw NAME, 2 "
	       "usage error,\n4 cannot read the repository or the "
	       "configuration.\n");
}

static int git_fail(const char *what)
{
	const git_error *e = git_error_last();

	msg_error("%s: %s", what,
		  e && e->message ? e->message : "unknown error");
	return SD_EXIT_CANNOT;
}

static int absolute(const char **path, char **buf)
{
	char cwd[4096];

	if (!*path || (*path)[0] == '/' || !strcmp(*path, "-"))
		return 0;
	if (!getcwd(cwd, sizeof(cwd)) || asprintf(buf, "%s/%s", cwd, *path) < 0)
		return -1;
	*path = *buf;
	return 0;
}

/* Open the repository (-C DIR or the current directory's) and load the
 * configuration from its root. */
static int open_repo(struct flags_run *r, struct cmd_ctx *ctx)
{
	struct sd_err err = {0};
	const char *wd;
	int rc;

	/* Paths on the command line are the caller's: make them absolute
	 * before moving to the repository's root. */
	if (absolute(&r->sarif, &r->sarif_buf) < 0 ||
	    absolute(&ctx->config_file, &r->config_buf) < 0) {
		msg_error("out of memory");
		return SD_EXIT_CANNOT;
	}
	if (r->dir && chdir(r->dir) < 0) {
		msg_error("cannot use '%s': %s", r->dir, strerror(errno));
		return SD_EXIT_CANNOT;
	}
	if (git_repository_open_ext(&r->repo, ".", 0, NULL) < 0) {
		msg_error("'%s' is not in a git repository",
			  r->dir ? r->dir : ".");
		return SD_EXIT_CANNOT;
	}
	/* .safedeploy.yml is read from the repository root. */
	wd = git_repository_workdir(r->repo);
	if (wd && chdir(wd) < 0) {
		msg_error("cannot use '%s': %s", wd, strerror(errno));
		return SD_EXIT_CANNOT;
	}
	rc = cmd_load_config(ctx, &r->cfg);
	if (rc)
		return rc;
	if (flagspec_load(&r->cfg, &r->fs, &err) < 0)
		return msg_err(&err);
	r->fs_loaded = true;
	if (!r->fs.any) {
		msg_error("no flag definitions configured: set flags.preset "
			  "(kubernetes, flagd, gitlab, list) or flags.define "
			  "in .safedeploy.yml");
		return SD_EXIT_CANNOT;
	}
	return 0;
}

static size_t getenv_size(const char *name, size_t dflt)
{
	const char *v = getenv(name);

	return v && *v ? (size_t)strtoull(v, NULL, 10) : dflt;
}

/* libgit2 for a read-only scan: blobs are read once (the memo keeps
 * their counts), so the object cache need not hold them; and objects are
 * not hashed again on every read. */
static void git_start(void)
{
	git_libgit2_init();
	git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, GIT_OBJECT_BLOB,
			 (size_t)0);
	git_libgit2_opts(GIT_OPT_SET_CACHE_OBJECT_LIMIT, GIT_OBJECT_TREE,
			 (size_t)0);
	git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
	/* Pack files are mapped in windows; a history scan touches all of
	 * a pack once, so keeping it all mapped only inflates the memory
	 * used (kueue's 169 MB pack). */
	git_libgit2_opts(GIT_OPT_SET_MWINDOW_SIZE, (size_t)(8 << 20));
	git_libgit2_opts(
		GIT_OPT_SET_MWINDOW_MAPPED_LIMIT,
		(size_t)getenv_size("SAFEDEPLOY_GIT_MAPPED", 32 << 20));
	git_libgit2_opts(
		GIT_OPT_SET_CACHE_MAX_SIZE,
		(ssize_t)getenv_size("SAFEDEPLOY_GIT_CACHE", 16 << 20));
}

static void run_release(struct flags_run *r)
{
	if (r->fs_loaded)
		flagspec_release(&r->fs);
	config_release(&r->cfg);
	flagstate_release(&r->st);
	flaghist_release(&r->h);
	git_repository_free(r->repo);
	free(r->sarif_buf);
	free(r->config_buf);
	git_libgit2_shutdown();
}

static void print_warnings(json_t *w)
{
	size_t i;
	json_t *s;

	json_array_foreach(w, i, s)
	{
		msg_warn("%s", json_string_value(s));
	}
}

/* The commit a revision names; HEAD of an empty repository is an error
 * that says so. */
static int resolve(struct flags_run *r, const char *rev, git_oid *out)
{
	git_object *obj = NULL, *commit = NULL;

	if (git_revparse_single(&obj, r->repo, rev) < 0 ||
	    git_object_peel(&commit, obj, GIT_OBJECT_COMMIT) < 0) {
		git_object_free(obj);
		if (!strcmp(rev, "HEAD") &&
		    git_repository_head_unborn(r->repo) == 1) {
			msg_error("the repository has no commits yet: there is "
				  "no history to read");
			return SD_EXIT_CANNOT;
		}
		msg_error("cannot resolve '%s': %s", rev,
			  git_error_last() && git_error_last()->message
				  ? git_error_last()->message
				  : "no such revision");
		return SD_EXIT_CANNOT;
	}
	*out = *git_object_id(commit);
	git_object_free(commit);
	git_object_free(obj);
	return 0;
}

static int load_history(struct flags_run *r, const char *rev)
{
	struct flaghist_opts o = {!r->no_cache, !r->no_cache, &r->progress};
	struct sd_err err = {0};
	git_oid target, head;
	int rc = resolve(r, rev, &target);

	if (rc)
		return rc;
	/* The cache follows HEAD: the history of another revision is read
	 * from it when it can be, but does not replace it. */
	if (git_reference_name_to_id(&head, r->repo, "HEAD") < 0 ||
	    !git_oid_equal(&head, &target))
		o.save_cache = false;
	if (flaghist_update(r->repo, &r->fs, &target, &r->h, &o, &err) < 0) {
		print_warnings(r->h.warnings);
		return msg_err(&err);
	}
	print_warnings(r->h.warnings);
	return 0;
}

static void count(const json_t *findings, size_t *errors, size_t *warnings)
{
	size_t i;
	json_t *f;

	*errors = *warnings = 0;
	json_array_foreach(findings, i, f)
	{
		if (!strcmp(json_string_value(json_object_get(f, "severity")),
			    "error"))
			(*errors)++;
		else
			(*warnings)++;
	}
}

static const char *where_of(const json_t *f, char *buf, size_t n)
{
	const char *path = json_string_value(json_object_get(f, "path"));
	json_int_t line = json_integer_value(json_object_get(f, "line"));

	if (!path)
		snprintf(buf, n, "-");
	else if (line)
		snprintf(buf, n, "%s:%lld:%lld", path, (long long)line,
			 (long long)json_integer_value(
				 json_object_get(f, "column")));
	else
		snprintf(buf, n, "%s", path);
	return buf;
}

static void print_table(const json_t *findings)
{
	size_t i, wk = 4, wf = 4, ww = 5;
	json_t *f;
	char where[4200];

	json_array_foreach(findings, i, f)
	{
		size_t l =
			strlen(json_string_value(json_object_get(f, "kind")));

		wk = l > wk ? l : wk;
		l = strlen(json_string_value(json_object_get(f, "flag")));
		wf = l > wf ? (l > 40 ? 40 : l) : wf;
		l = strlen(where_of(f, where, sizeof(where)));
		ww = l > ww ? (l > 50 ? 50 : l) : ww;
	}
	printf("%-8s  %-*s  %-*s  %-*s  %s\n", "SEVERITY", (int)wk, "KIND",
	       (int)wf, "FLAG", (int)ww, "WHERE", "WHAT");
	json_array_foreach(findings, i, f)
	{
		const char *sev =
			json_string_value(json_object_get(f, "severity"));
		bool error = !strcmp(sev, "error");

		printf("%s%-8s%s  %-*s  %-*s  %-*s  %s\n",
		       color_code(STDOUT_FILENO,
				  error ? COLOR_RED : COLOR_YELLOW),
		       sev, color_code(STDOUT_FILENO, COLOR_RESET), (int)wk,
		       json_string_value(json_object_get(f, "kind")), (int)wf,
		       json_string_value(json_object_get(f, "flag")), (int)ww,
		       where_of(f, where, sizeof(where)),
		       json_string_value(json_object_get(f, "message")));
	}
}

static int write_sarif(const char *file, const json_t *findings)
{
	json_t *doc = flags_sarif(findings, SD_VERSION);
	char *text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
	struct sd_err err = {0};
	int rc = 0;

	if (!text)
		rc = err_set(&err, SD_EXIT_CANNOT, "out of memory");
	else
		rc = fs_write_atomic(file, text, strlen(text), 0644, &err);
	free(text);
	json_decref(doc);
	return rc < 0 ? msg_err(&err) : 0;
}

/* Many stale warnings are a policy question, not many problems: say
 * where the knob is once, under the table. */
static void stale_hint(const json_t *findings, const struct flagspec *fs)
{
	size_t i, n = 0;
	json_t *f;

	json_array_foreach(findings, i, f)
	{
		if (!strcmp(json_string_value(json_object_get(f, "kind")),
			    "stale"))
			n++;
	}
	if (n >= 10)
		printf("hint: %zu flags are older than flags.max-age (%lld "
		       "days); raise it, or set flags.severity.stale: off\n",
		       n, (long long)(fs->max_age_ms / 86400000));
}

/* safedeploy flags [--rev REV] [--history]: a state and maybe history. */
static int run_scan(struct flags_run *r)
{
	struct sd_err err = {0};
	json_t *findings;
	size_t errors, warnings;
	int rc = 0;
	bool bare = git_repository_is_bare(r->repo);
	const char *rev = r->rev ? r->rev : bare ? "HEAD" : NULL;

	if (rev) {
		git_oid id;
		git_commit *c = NULL;
		git_tree *tree = NULL;

		if ((rc = resolve(r, rev, &id)))
			return rc;
		if (git_commit_lookup(&c, r->repo, &id) < 0 ||
		    git_commit_tree(&tree, c) < 0)
			rc = git_fail(rev);
		else if (flagstate_scan_tree(r->repo, tree, &r->fs, &r->st,
					     &err) < 0)
			rc = msg_err(&err);
		git_tree_free(tree);
		git_commit_free(c);
	} else if (flagstate_scan_workdir(r->repo, &r->fs, &r->st, &err) < 0) {
		rc = msg_err(&err);
	}
	if (rc)
		return rc;
	print_warnings(r->st.warnings);
	/* Nothing read from a working tree that has a HEAD: most likely a
	 * bare repository libgit2 took for one with a working tree. */
	if (!rev && !r->st.files && git_repository_head_unborn(r->repo) == 0) {
		git_index *index = NULL;

		if (git_repository_index(&index, r->repo) == 0 &&
		    !git_index_entrycount(index))
			msg_warn("the working tree '%s' has no tracked files; "
				 "for a bare repository use --rev HEAD",
				 git_repository_workdir(r->repo));
		git_index_free(index);
	}
	if (r->history) {
		if (!rev && git_repository_head_unborn(r->repo) == 1)
			msg_warn("the repository has no commits yet: no "
				 "history to read");
		else if ((rc = load_history(r, rev ? rev : "HEAD")))
			return rc;
	}
	findings = flags_findings(&r->fs, &r->st,
				  r->history && r->h.tip[0] ? &r->h : NULL,
				  units_now_ms() / 1000);
	count(findings, &errors, &warnings);
	if (r->sarif)
		rc = write_sarif(r->sarif, findings);
	if (r->json) {
		json_t *doc =
			json_pack("{s:i,s:O,s:{s:I,s:I,s:I,s:I}}", "version", 1,
				  "findings", findings, "scanned", "files",
				  (json_int_t)r->st.files, "bytes",
				  (json_int_t)r->st.bytes, "flags",
				  (json_int_t)r->st.n, "skipped",
				  (json_int_t)(r->st.skipped_large +
					       r->st.skipped_binary));

		if (r->history && r->h.tip[0])
			json_object_set_new(
				doc, "history",
				json_pack("{s:s,s:s,s:I,s:I,s:b,s:b}", "tip",
					  r->h.tip, "root", r->h.root,
					  "commits", (json_int_t)r->h.scanned,
					  "new-commits",
					  (json_int_t)r->h.new_commits, "cache",
					  r->h.cache_used, "shallow",
					  r->h.shallow));
		cmd_print_json(doc);
		json_decref(doc);
	} else {
		if (json_array_size(findings))
			print_table(findings);
		printf("%s%zu error%s, %zu warning%s%s: %zu flag%s in %llu "
		       "file%s",
		       json_array_size(findings) ? "\n" : "", errors,
		       errors == 1 ? "" : "s", warnings,
		       warnings == 1 ? "" : "s", color_code(STDOUT_FILENO, ""),
		       r->st.n, r->st.n == 1 ? "" : "s",
		       (unsigned long long)r->st.files,
		       r->st.files == 1 ? "" : "s");
		if (r->history && r->h.tip[0])
			printf(", %llu commit%s of history%s",
			       (unsigned long long)r->h.scanned,
			       r->h.scanned == 1 ? "" : "s",
			       r->h.shallow ? " (shallow)" : "");
		printf("\n");
		stale_hint(findings, &r->fs);
	}
	json_decref(findings);
	if (rc)
		return rc;
	return errors ? SD_EXIT_FAIL : SD_EXIT_OK;
}

static void print_problems(const json_t *problems)
{
	size_t i;
	json_t *p;

	json_array_foreach(problems, i, p)
	{
		const char *sev =
			json_string_value(json_object_get(p, "severity"));
		json_int_t line =
			json_integer_value(json_object_get(p, "line"));

		if (line)
			fprintf(stderr, "%s:%lld:%lld: ",
				json_string_value(json_object_get(p, "path")),
				(long long)line,
				(long long)json_integer_value(
					json_object_get(p, "column")));
		else if (json_string_length(json_object_get(p, "path")))
			fprintf(stderr, "%s: ",
				json_string_value(json_object_get(p, "path")));
		fprintf(stderr, "%s%s%s: %s\n",
			color_code(STDERR_FILENO, !strcmp(sev, "error")
							  ? COLOR_RED
							  : COLOR_YELLOW),
			sev, color_code(STDERR_FILENO, COLOR_RESET),
			json_string_value(json_object_get(p, "message")));
	}
}

static int report_problems(struct flags_run *r, json_t *problems,
			   const char *hint)
{
	size_t errors, warnings;

	count(problems, &errors, &warnings);
	if (r->json) {
		json_t *doc = json_pack("{s:i,s:O}", "version", 1, "problems",
					problems);

		cmd_print_json(doc);
		json_decref(doc);
	} else {
		print_problems(problems);
		if (errors && hint)
			fprintf(stderr, "%s", hint);
	}
	if (r->sarif) {
		int rc = write_sarif(r->sarif, problems);

		if (rc)
			return rc;
	}
	return errors ? SD_EXIT_FAIL : SD_EXIT_OK;
}

/* The history up to HEAD for the hooks, when there is a HEAD. */
static int hook_history(struct flags_run *r, bool *have)
{
	*have = false;
	if (git_repository_head_unborn(r->repo) == 1)
		return 0;
	if (load_history(r, "HEAD"))
		return SD_EXIT_CANNOT;
	*have = true;
	return 0;
}

static int run_staged(struct flags_run *r)
{
	struct sd_err err = {0};
	json_t *problems = NULL;
	bool have;
	int rc = hook_history(r, &have);

	if (rc)
		return rc;
	if (flags_check_staged(r->repo, &r->fs, have ? &r->h : NULL,
			       units_now_ms() / 1000, &problems, &err) < 0)
		return msg_err(&err);
	rc = report_problems(r, problems,
			     "safedeploy: the commit is blocked; fix the "
			     "lines above (or commit with --no-verify)\n");
	json_decref(problems);
	return rc;
}

static int parse(struct flags_run *r, const struct opt_spec *specs,
		 const char *cmd, int argc, char **argv, struct cmd_ctx *ctx,
		 void (*usage)(void), int *first_operand)
{
	struct opt_parser p;
	const char *arg;
	int opt, rc = 0;

	if (opts_init(&p, argc, argv, specs, cmd, false) < 0)
		return SD_EXIT_CANNOT;
	while (!rc && (opt = opts_next(&p, &arg)) != -1) {
		switch (opt) {
		case -2:
			rc = SD_EXIT_USAGE;
			break;
		case OPT_HELP:
			usage();
			rc = -1;
			break;
		case OPT_DIR:
			r->dir = arg;
			break;
		case OPT_REV:
			r->rev = arg;
			break;
		case OPT_HISTORY:
			r->history = true;
			break;
		case OPT_STAGED:
			r->staged = true;
			break;
		case OPT_SARIF:
			r->sarif = arg;
			break;
		case OPT_NO_CACHE:
			r->no_cache = true;
			break;
		case OPT_FORCE:
			r->force = true;
			break;
		case OPT_JSON:
			r->json = true;
			break;
		default:
			if (cmd_common_option(ctx, cmd, opt, arg))
				rc = SD_EXIT_USAGE;
		}
	}
	*first_operand = opts_index(&p);
	opts_release(&p);
	return rc;
}

static int cmd_flags_timeline(int argc, char **argv, struct cmd_ctx *ctx)
{
	struct flags_run r = {0};
	const char *cmd = "safedeploy flags timeline";
	char key[512];
	json_t *tl;
	int first, rc;

	git_start();
	flagstate_init(&r.st);
	flaghist_init(&r.h);
	rc = parse(&r, timeline_opts, cmd, argc, argv, ctx, timeline_usage,
		   &first);
	if (!rc && argc - first != 1)
		rc = msg_usage(cmd, argc - first ? "one flag name, please"
						 : "missing flag name");
	if (!rc)
		rc = open_repo(&r, ctx);
	if (!rc)
		rc = load_history(&r, r.rev ? r.rev : "HEAD");
	if (rc) {
		run_release(&r);
		return rc < 0 ? SD_EXIT_OK : rc;
	}
	flagspec_key(&r.fs, argv[first], strlen(argv[first]), key, sizeof(key));
	tl = flags_timeline_json(&r.h, key);
	if (!tl) {
		msg_error("flag '%s' does not appear in the history of %.12s "
			  "(%llu commits)",
			  argv[first], r.h.tip,
			  (unsigned long long)r.h.scanned);
		run_release(&r);
		return SD_EXIT_FAIL;
	}
	if (r.json) {
		json_object_set_new(tl, "version", json_integer(1));
		cmd_print_json(tl);
	} else {
		size_t i;
		json_t *e;

		printf("%s: %lld definition%s and %lld reference%s at %.12s\n",
		       json_string_value(json_object_get(tl, "flag")),
		       (long long)json_integer_value(
			       json_object_get(tl, "definitions")),
		       json_integer_value(json_object_get(tl, "definitions")) ==
				       1
			       ? ""
			       : "s",
		       (long long)json_integer_value(
			       json_object_get(tl, "references")),
		       json_integer_value(json_object_get(tl, "references")) ==
				       1
			       ? ""
			       : "s",
		       r.h.tip);
		int wp = 4;

		json_array_foreach(json_object_get(tl, "events"), i, e)
		{
			const char *p =
				json_string_value(json_object_get(e, "path"));
			int l = p ? (int)strlen(p) : 1;

			wp = l > wp ? (l > 60 ? 60 : l) : wp;
		}
		json_array_foreach(json_object_get(tl, "events"), i, e)
		{
			const char *type =
				json_string_value(json_object_get(e, "type"));
			const char *path =
				json_string_value(json_object_get(e, "path"));
			const char *c = !strcmp(type, "born-again") ? COLOR_RED
					: !strcmp(type, "extinct")
						? COLOR_YELLOW
						: COLOR_GREEN;

			printf("%.10s  %.10s  %-10s  %s%-10s%s  %-*s  %s (%s)\n",
			       json_string_value(json_object_get(e, "commit")),
			       json_string_value(json_object_get(e, "date")),
			       json_string_value(json_object_get(e, "kind")),
			       color_code(STDOUT_FILENO, c), type,
			       color_code(STDOUT_FILENO, COLOR_RESET), wp,
			       path ? path : "-",
			       json_string_value(json_object_get(e, "subject")),
			       json_string_value(json_object_get(e, "author")));
		}
	}
	json_decref(tl);
	run_release(&r);
	return SD_EXIT_OK;
}

int cmd_flags(int argc, char **argv, struct cmd_ctx *ctx)
{
	struct flags_run r = {0};
	int first, rc;

	/* "timeline" is the first operand, wherever the options are. */
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--"))
			break;
		if (!strcmp(a, "-C") || !strcmp(a, "--directory") ||
		    !strcmp(a, "--rev") || !strcmp(a, "--config") ||
		    !strcmp(a, "--sarif")) {
			i++;
			continue;
		}
		if (a[0] == '-')
			continue;
		if (!strcmp(a, "timeline")) {
			/* The same command line without the word. */
			memmove(argv + i, argv + i + 1,
				(size_t)(argc - i) * sizeof(*argv));
			return cmd_flags_timeline(argc - 1, argv, ctx);
		}
		break;
	}
	git_start();
	flagstate_init(&r.st);
	flaghist_init(&r.h);
	rc = parse(&r, flags_opts, "safedeploy flags", argc, argv, ctx,
		   flags_usage, &first);
	if (!rc && first < argc)
		rc = msg_usage("safedeploy flags", "unexpected argument '%s'",
			       argv[first]);
	if (!rc && r.staged && (r.rev || r.history))
		rc = msg_usage("safedeploy flags",
			       "--staged checks the index: it takes neither "
			       "--rev nor --history");
	if (!rc)
		rc = open_repo(&r, ctx);
	if (!rc)
		rc = r.staged ? run_staged(&r) : run_scan(&r);
	run_release(&r);
	return rc < 0 ? SD_EXIT_OK : rc;
}

/* safedeploy hook: install the shims, and what they run. */
/* pre_commit_shim and pre_push_shim: hooks/pre-commit and hooks/pre-push,
 * made into C arrays by the Makefile, so that what `hook install` writes is
 * byte for byte what `make install` puts under share/safedeploy/hooks. */
#include "hooks.h"

static const struct opt_spec hook_opts[] = {
	OPT_DIR_SPEC,
	{OPT_FORCE, "force", 'f', OPT_NONE, NULL,
	 "install: replace a different hook (kept as NAME.safedeploy-old, and "
	 "run first)"},
	OPT_NO_CACHE_SPEC,
	OPTS_JSON,
	OPTS_CONFIG,
	OPTS_COLOR,
	OPTS_HELP,
	{0},
};

static void hook_usage(void)
{
	printf("Usage: safedeploy hook install [--force] [-C DIR]\n"
	       "       safedeploy hook pre-commit\n"
	       "       safedeploy hook pre-push REMOTE URL < REFS\n"
	       "\n"
	       "install     put the pre-commit and pre-push shims into the "
	       "repository's hooks\n"
	       "            directory (core.hooksPath when set); a different "
	       "hook already\n"
	       "            there is left alone unless --force\n"
	       "pre-commit  what the pre-commit shim runs: safedeploy flags "
	       "--staged\n"
	       "pre-push    what the pre-push shim runs: the history check "
	       "over the commits\n"
	       "            being pushed\n"
	       "\nOptions:\n");
	opts_print_help(stdout, hook_opts);
	printf("\nExit status: 0 ok, 1 blocked (or a different hook is in "
	       "the way), 2 usage\nerror, 4 cannot read the repository or "
	       "the configuration.\n");
}

static int hooks_dir(git_repository *repo, char *out, size_t n)
{
	git_config *cfg = NULL;
	git_buf buf = {0};
	int rc = -1;

	if (git_repository_config_snapshot(&cfg, repo) == 0 &&
	    git_config_get_string_buf(&buf, cfg, "core.hooksPath") == 0) {
		const char *wd = git_repository_workdir(repo);

		if (buf.ptr[0] == '/')
			snprintf(out, n, "%s", buf.ptr);
		else if (buf.ptr[0] == '~' && getenv("HOME"))
			snprintf(out, n, "%s%s", getenv("HOME"), buf.ptr + 1);
		else
			snprintf(out, n, "%s%s",
				 wd ? wd : git_repository_path(repo), buf.ptr);
		rc = 0;
	} else {
		snprintf(out, n, "%shooks", git_repository_commondir(repo));
		rc = 0;
	}
	git_buf_dispose(&buf);
	git_config_free(cfg);
	return rc;
}

/* What is at DIR/NAME: 0 nothing, 1 our shim already, 2 another hook. */
static int hook_state(const char *dir, const char *name, const char *text)
{
	char path[4200];
	size_t len = 0, tl = strlen(text);
	struct sd_err err = {0};
	char *cur;
	int state;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (access(path, F_OK) < 0)
		return 0;
	if (fs_read_file(path, 16 << 20, &cur, &len, &err) < 0)
		return 2;
	state = len == tl && !memcmp(cur, text, tl) ? 1 : 2;
	free(cur);
	return state;
}

/* Install one shim. A different hook is moved aside to
 * NAME.safedeploy-old, which the shim runs first; one kept there before
 * goes to the first free NAME.safedeploy-old.N, so none is overwritten. */
static int install_one(const char *dir, const char *name, const char *text,
		       json_t *report)
{
	char path[4200], old[4300];
	size_t tl = strlen(text);
	int state = hook_state(dir, name, text);
	struct sd_err err = {0};

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (state == 1) {
		chmod(path, 0755);
		json_array_append_new(report,
				      json_pack("{s:s,s:s}", "path", path,
						"status", "already installed"));
		return 0;
	}
	if (state == 2) {
		char older[4400];

		snprintf(old, sizeof(old), "%s.safedeploy-old", path);
		if (access(old, F_OK) == 0) {
			int i = 2;

			do
				snprintf(older, sizeof(older), "%s.%d", old,
					 i++);
			while (access(older, F_OK) == 0 && i < 1000);
			if (rename(old, older) < 0) {
				msg_error("cannot move '%s' aside: %s", old,
					  strerror(errno));
				return SD_EXIT_CANNOT;
			}
		}
		if (rename(path, old) < 0) {
			msg_error("cannot move '%s' aside: %s", path,
				  strerror(errno));
			return SD_EXIT_CANNOT;
		}
	}
	if (fs_write_atomic(path, text, tl, 0755, &err) < 0)
		return msg_err(&err);
	json_array_append_new(
		report,
		state == 2 ? json_pack("{s:s,s:s,s:s}", "path", path, "status",
				       "installed", "previous", old)
			   : json_pack("{s:s,s:s}", "path", path, "status",
				       "installed"));
	return 0;
}

/* The hooks refuse to let a commit through when they cannot check it;
 * say so at install time rather than at the first commit. */
static void warn_unconfigured(struct flags_run *r, struct cmd_ctx *ctx)
{
	struct config cfg;
	struct flagspec fs;
	struct sd_err err = {0};
	const char *wd = git_repository_workdir(r->repo);
	char cwd[4096];

	if (!wd || !getcwd(cwd, sizeof(cwd)) || chdir(wd) < 0)
		return;
	config_init(&cfg);
	if (config_load(&cfg, ctx->config_file, &err) == 0 &&
	    flagspec_load(&cfg, &fs, &err) == 0) {
		if (!fs.any)
			msg_warn("no flag definitions are configured yet "
				 "(flags: in %s.safedeploy.yml); until there "
				 "are, the hooks stop every commit and push",
				 wd);
		flagspec_release(&fs);
	} else {
		msg_warn("the configuration cannot be used (%s); until it "
			 "can, the hooks stop every commit and push",
			 err.msg);
	}
	config_release(&cfg);
	if (chdir(cwd) < 0)
		return;
}

static int hook_install(struct flags_run *r, struct cmd_ctx *ctx, bool force)
{
	static const struct {
		const char *name, *text;
	} shims[] = {
		{"pre-commit", pre_commit_shim},
		{"pre-push", pre_push_shim},
	};
	char dir[4096];
	json_t *report;
	int rc = 0;

	if (git_repository_open_ext(&r->repo, r->dir ? r->dir : ".", 0, NULL) <
	    0) {
		msg_error("'%s' is not in a git repository",
			  r->dir ? r->dir : ".");
		return SD_EXIT_CANNOT;
	}
	hooks_dir(r->repo, dir, sizeof(dir));
	{
		struct sd_err err = {0};

		if (fs_mkdirs(dir, 0755, &err) < 0)
			return msg_err(&err);
	}
	/* Both or neither: a hook in the way stops the whole install. */
	for (size_t i = 0; i < 2 && !force; i++) {
		if (hook_state(dir, shims[i].name, shims[i].text) == 2) {
			msg_error("'%s/%s' is a different hook; installing "
				  "nothing (--force replaces it and keeps the "
				  "old one as %s.safedeploy-old)",
				  dir, shims[i].name, shims[i].name);
			return SD_EXIT_FAIL;
		}
	}
	report = json_array();
	for (size_t i = 0; i < 2 && !rc; i++)
		rc = install_one(dir, shims[i].name, shims[i].text, report);
	if (r->json) {
		json_t *doc =
			json_pack("{s:i,s:O}", "version", 1, "hooks", report);

		cmd_print_json(doc);
		json_decref(doc);
	} else {
		size_t i;
		json_t *h;

		json_array_foreach(report, i, h)
		{
			const char *prev = json_string_value(
				json_object_get(h, "previous"));

			printf("%s: %s",
			       json_string_value(json_object_get(h, "path")),
			       json_string_value(json_object_get(h, "status")));
			if (prev)
				printf(" (the previous hook is now %s)", prev);
			printf("\n");
		}
	}
	json_decref(report);
	if (!rc)
		warn_unconfigured(r, ctx);
	return rc;
}

/* pre-push: git gives one line per ref being pushed. The commits being
 * pushed are those reachable from a local oid and not from the remote's
 * (or, for a new branch, from none of the remote's refs). */
static int hook_pre_push(struct flags_run *r, const char *remote)
{
	char line[1024];
	json_t *pushed = json_object(), *problems = NULL, *all = json_array();
	int rc = 0;
	git_oid head;
	bool have_head = git_reference_name_to_id(&head, r->repo, "HEAD") == 0;

	/* Under the pre-commit framework, which reads git's lines itself,
	 * the range comes in PRE_COMMIT_FROM_REF and PRE_COMMIT_TO_REF. */
	const char *to = getenv("PRE_COMMIT_TO_REF");
	const char *from = getenv("PRE_COMMIT_FROM_REF");
	bool any = false, synth = false;

	if (!remote && getenv("PRE_COMMIT_REMOTE_NAME"))
		remote = getenv("PRE_COMMIT_REMOTE_NAME");
	for (;;) {
		char lref[512], lsha[64], rref[512], rsha[64];
		git_revwalk *walk = NULL;
		git_oid local, rem, id;
		struct sd_err err = {0};
		struct flaghist_opts o = {false, false, NULL};

		if (rc)
			break;
		if (fgets(line, sizeof(line), stdin)) {
			/* (a blank line is no ref) */
		} else if (!any && !synth && to && *to) {
			synth = true;
			snprintf(line, sizeof(line), "HEAD %s HEAD %s\n", to,
				 from && *from ? from
					       : "0000000000000000000000000000"
						 "000000000000");
		} else {
			break;
		}
		if (sscanf(line, "%511s %63s %511s %63s", lref, lsha, rref,
			   rsha) != 4)
			continue;
		any = true;
		if (git_oid_fromstr(&local, lsha) < 0 ||
		    git_oid_is_zero(&local))
			continue; /* a deletion */
		if (git_revwalk_new(&walk, r->repo) < 0 ||
		    git_revwalk_push(walk, &local) < 0) {
			git_revwalk_free(walk);
			rc = git_fail(lsha);
			break;
		}
		if (git_oid_fromstr(&rem, rsha) == 0 &&
		    !git_oid_is_zero(&rem) &&
		    git_revwalk_hide(walk, &rem) == 0) {
			/* hidden */
		} else if (remote) {
			char glob[600];

			snprintf(glob, sizeof(glob), "refs/remotes/%s/*",
				 remote);
			git_revwalk_hide_glob(walk, glob);
		}
		while (git_revwalk_next(&id, walk) == 0)
			json_object_set_new(pushed, git_oid_tostr_s(&id),
					    json_true());
		git_revwalk_free(walk);
		/* History up to what is pushed: the cache when that is
		 * HEAD, a scan of its own otherwise. */
		if (have_head && git_oid_equal(&head, &local)) {
			o.use_cache = o.save_cache = !r->no_cache;
		}
		flaghist_release(&r->h);
		flaghist_init(&r->h);
		o.progress = &r->progress;
		if (flaghist_update(r->repo, &r->fs, &local, &r->h, &o, &err) <
		    0) {
			print_warnings(r->h.warnings);
			rc = msg_err(&err);
			break;
		}
		print_warnings(r->h.warnings);
		flags_check_pushed(&r->fs, &r->h, pushed, &problems);
		json_array_extend(all, problems);
		json_decref(problems);
	}
	json_decref(pushed);
	if (!rc)
		rc = report_problems(r, all,
				     "safedeploy: the push is blocked; remove "
				     "the definition, add the name to "
				     "flags.allow-resurrect if it is meant, "
				     "or push with --no-verify\n");
	json_decref(all);
	return rc;
}

int cmd_hook(int argc, char **argv, struct cmd_ctx *ctx)
{
	struct flags_run r = {0};
	const char *cmd = "safedeploy hook";
	int rc, first;

	git_start();
	flagstate_init(&r.st);
	flaghist_init(&r.h);
	rc = parse(&r, hook_opts, cmd, argc, argv, ctx, hook_usage, &first);
	if (!rc && first >= argc)
		rc = msg_usage(cmd, "missing hook: install, pre-commit or "
				    "pre-push");
	if (!rc) {
		const char *what = argv[first];

		if (!strcmp(what, "install")) {
			rc = first + 1 < argc ? msg_usage(cmd,
							  "unexpected argument "
							  "'%s'",
							  argv[first + 1])
					      : hook_install(&r, ctx, r.force);
		} else if (!strcmp(what, "pre-commit")) {
			rc = open_repo(&r, ctx);
			if (!rc)
				rc = run_staged(&r);
		} else if (!strcmp(what, "pre-push")) {
			rc = open_repo(&r, ctx);
			if (!rc)
				rc = hook_pre_push(&r, first + 1 < argc
							       ? argv[first + 1]
							       : NULL);
		} else {
			rc = msg_usage(cmd,
				       "unknown hook '%s' (install, "
				       "pre-commit, pre-push)",
				       what);
		}
	}
	run_release(&r);
	return rc < 0 ? SD_EXIT_OK : rc;
}
