/* saferun: see what a destructive command will do, then run exactly that.
 *
 * A known command (tools.h) is planned through its own dry run or an
 * emulation; anything else runs in a copy-on-write sandbox first
 * (sandboxrun.c). Either way the result is a plan (DESIGN.md §1): argv,
 * cwd, the executable and its hash, an allowlist of the environment, the
 * effects and a fingerprint of every target. A policy (policy.c) may allow
 * or deny it; otherwise it runs only once confirmed, on a terminal by a
 * code typed back, elsewhere with a token bound to the plan's digest. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "color.h"
#include "confirm.h"
#include "effects.h"
#include "fprint.h"
#include "fsutil.h"
#include "msg.h"
#include "opts.h"
#include "paths.h"
#include "plan.h"
#include "saferun.h"
#include "shquote.h"
#include "token.h"
#include "units.h"
#include "version.h"

#define DEFAULT_TTL	   300
#define DEFAULT_PREVIEW_MS 120000
#define SUMMARY_LINES	   12
#define PLAN_VERSION	   1

enum {
	O_DRY_RUN = OPT_FIRST_OWN,
	O_CONFIRM,
	O_SANDBOX,
	O_COMMIT,
	O_NET,
	O_TIMEOUT,
	O_FULL,
	O_TTL,
};

static const struct opt_spec specs[] = {
	{'n', "dry-run", 'n', OPT_NONE, NULL,
	 "show the plan and the token to run it; run nothing"},
	{O_CONFIRM, "confirm", 0, OPT_REQUIRED, "TOKEN",
	 "run: the token for this exact plan"},
	{O_SANDBOX, "sandbox", 0, OPT_NONE, NULL,
	 "find the effects in the sandbox, even for a known command"},
	{O_COMMIT, "commit", 0, OPT_NONE, NULL,
	 "apply what the last sandbox run of this command changed"},
	{O_NET, "net", 0, OPT_NONE, NULL, "keep the network in the sandbox"},
	{O_TIMEOUT, "timeout", 0, OPT_REQUIRED, "DURATION",
	 "kill the sandbox run or a dry run after DURATION"},
	{O_FULL, "full", 0, OPT_NONE, NULL, "list every path, not the summary"},
	{O_TTL, "ttl", 0, OPT_REQUIRED, "DURATION",
	 "how long an issued token stays valid (default 5m)"},
	OPTS_JSON,
	OPTS_CONFIG,
	OPTS_COLOR,
	OPTS_HELP,
	{OPT_VERSION, "version", 0, OPT_NONE, NULL,
	 "print the version and exit"},
	{0},
};

/* The environment a plan binds: what changes where a command acts. */
static const char *const env_allow[] = {
	"PATH",
	"HOME",
	"KUBECONFIG",
	"KUBECTL_CONTEXT",
	"AWS_PROFILE",
	"AWS_REGION",
	"AWS_DEFAULT_REGION",
	"AWS_ENDPOINT_URL",
	"PGHOST",
	"PGPORT",
	"PGDATABASE",
	"PGUSER",
	"PGSERVICE",
	"GIT_DIR",
	"GIT_WORK_TREE",
	"TF_WORKSPACE",
	"TF_DATA_DIR",
	"HELM_NAMESPACE",
	"HELM_KUBECONTEXT",
	"RSYNC_RSH",
	NULL,
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: saferun [OPTION]... [--] COMMAND [ARG]...\n"
		"\n"
		"Show what COMMAND will do to files, devices, databases or "
		"clusters, then run\nit only once that exact plan is "
		"confirmed: on a terminal by typing back a\ncode, elsewhere "
		"with --confirm TOKEN from the printed re-run line. Known\n"
		"commands are planned through their own dry run or an "
		"emulation; anything\nelse runs first in a copy-on-write "
		"sandbox, whose changes are then applied.\n"
		"\nOptions:\n");
	opts_print_help(out, specs);
	fprintf(out, "\nExit status: the command's own once it has run; 1 "
		     "denied by a policy rule;\n3 confirmation needed or "
		     "token refused; 125 saferun failed; 127 command\nnot "
		     "found.\n");
}

static int usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* Usage errors exit 125, not 2: the status belongs to the command. */
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "saferun: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'saferun --help' for more information.\n");
	return RUN_FAILED;
}

static int parse_options(struct saferun *s, int argc, char **argv, int *first)
{
	struct opt_parser p;
	const char *arg;
	struct sd_err err = {0};
	int id, rc = 0;

	if (opts_init(&p, argc, argv, specs, "saferun", true) < 0)
		return RUN_FAILED;
	while (!rc && (id = opts_next(&p, &arg)) != -1) {
		switch (id) {
		case -2:
			rc = RUN_FAILED;
			break;
		case 'n':
			s->o.dry_run = true;
			break;
		case O_CONFIRM:
			s->o.confirm = arg;
			break;
		case O_SANDBOX:
			s->o.sandbox = true;
			break;
		case O_COMMIT:
			s->o.commit = true;
			break;
		case O_NET:
			s->o.net = true;
			break;
		case O_TIMEOUT:
			if (units_parse_duration(arg, &s->o.timeout_ms, &err) <
				    0 ||
			    s->o.timeout_ms <= 0)
				rc = usage_error("--timeout: not a duration: "
						 "'%s'",
						 arg);
			break;
		case O_FULL:
			s->o.full = true;
			break;
		case O_TTL: {
			int64_t ms;

			if (units_parse_duration(arg, &ms, &err) < 0 ||
			    ms < 1000 || ms / 1000 > TOKEN_MAX_TTL)
				rc = usage_error("--ttl: not a duration from "
						 "1s to 194d: '%s'",
						 arg);
			else
				s->o.ttl = ms / 1000;
			break;
		}
		case OPT_JSON:
			s->o.json = true;
			break;
		case OPT_CONFIG:
			s->o.config = arg;
			break;
		case OPT_COLOR: {
			enum color_mode m;

			if (color_parse(arg ? arg : "always", &m) < 0)
				rc = usage_error("--color: expected auto, "
						 "always or never, not '%s'",
						 arg);
			else
				color_set_mode(m);
			break;
		}
		case OPT_HELP:
			usage(stdout);
			rc = -1;
			break;
		case OPT_VERSION:
			printf("saferun (safedeploy) %s\n", SD_VERSION);
			rc = -1;
			break;
		}
	}
	*first = opts_index(&p);
	opts_release(&p);
	if (rc)
		return rc;
	if (*first >= argc)
		return usage_error("missing command");
	if (s->o.commit && s->o.dry_run)
		return usage_error("--commit applies; it cannot be a dry run");
	if (s->o.commit && !s->o.confirm && !s->o.tty && !isatty(2))
		return usage_error("--commit needs --confirm TOKEN");
	return 0;
}

static int load_config(struct saferun *s)
{
	struct sd_err err = {0};
	size_t i;
	json_t *w;
	int64_t ms;
	int r;

	config_init(&s->cfg);
	if (config_load(&s->cfg, s->o.config, &err) < 0)
		return msg_err(&err), RUN_FAILED;
	json_array_foreach(s->cfg.warnings, i, w)
		msg_warn("%s", json_string_value(w));
	if (policy_validate(&s->cfg, &err) < 0)
		return msg_err(&err), RUN_FAILED;
	if (!s->o.ttl) {
		s->o.ttl = DEFAULT_TTL;
		r = config_get_duration(&s->cfg, "token.ttl", &ms, &err);
		if (r < 0)
			return msg_err(&err), RUN_FAILED;
		if (r > 0 && ms >= 1000)
			s->o.ttl = ms / 1000;
	}
	if (!s->o.timeout_ms) {
		r = config_get_duration(&s->cfg, "saferun.timeout", &ms, &err);
		if (r < 0)
			return msg_err(&err), RUN_FAILED;
		if (r > 0)
			s->o.timeout_ms = ms;
	}
	if (config_get_string(&s->cfg, "token.key-file", &s->o.key_file, &err) <
	    0)
		return msg_err(&err), RUN_FAILED;
	return 0;
}

/* argv[0] through PATH, as execvp would find it. */
static int resolve_exe(const char *name, char *out, size_t n)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	if (strchr(name, '/')) {
		if (access(name, X_OK) < 0 || !realpath(name, out))
			return -1;
		return 0;
	}
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		const char *colon = strchr(path, ':');
		size_t len = colon ? (size_t)(colon - path) : strlen(path);
		struct stat st;

		snprintf(buf, sizeof(buf), "%.*s%s%s", (int)len,
			 len ? path : ".", "/", name);
		if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(buf, X_OK) == 0 && realpath(buf, out)) {
			(void)n;
			return 0;
		}
		path += len + (colon ? 1 : 0);
		if (!colon)
			break;
	}
	return -1;
}

static void hex_of(const unsigned char *md, unsigned len, char *out)
{
	for (unsigned i = 0; i < len; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static int sha256_file(const char *path, char hex[65])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	EVP_MD_CTX *ctx;
	unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	ssize_t got;

	if (fd < 0)
		return -1;
	ctx = EVP_MD_CTX_new();
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(ctx);
		close(fd);
		return -1;
	}
	while ((got = read(fd, buf, sizeof(buf))) > 0)
		EVP_DigestUpdate(ctx, buf, (size_t)got);
	close(fd);
	EVP_DigestFinal_ex(ctx, md, &len);
	EVP_MD_CTX_free(ctx);
	if (got < 0)
		return -1;
	hex_of(md, len, hex);
	return 0;
}

static json_t *argv_json(char *const *argv, int argc)
{
	json_t *a = json_array();

	for (int i = 0; i < argc; i++)
		json_array_append_new(a, json_string_nocheck(argv[i]));
	return a;
}

/* The key of this invocation: what a later --commit or a stale token is
 * matched with. */
static void invocation_key(struct saferun *s)
{
	json_t *k = json_object();
	char *text;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	json_object_set_new(k, "argv", argv_json(s->cmd_argv, s->cmd_argc));
	json_object_set_new(k, "cwd", json_string_nocheck(s->cwd));
	json_object_set_new(k, "uid", json_integer((json_int_t)getuid()));
	json_object_set_new(k, "sandbox", json_boolean(s->o.sandbox));
	text = plan_canonical(k);
	EVP_Digest(text, strlen(text), md, &len, EVP_sha256(), NULL);
	hex_of(md, len, s->key);
	free(text);
	json_decref(k);
}

json_t *plan_base(struct saferun *s, const char *mode)
{
	json_t *p = json_object(), *env = json_object(), *exe = json_object();
	char host[256] = "", sum[65] = "";

	gethostname(host, sizeof(host) - 1);
	json_object_set_new(p, "tool", json_string("saferun"));
	json_object_set_new(p, "plan_version", json_integer(PLAN_VERSION));
	json_object_set_new(p, "mode", json_string(mode));
	json_object_set_new(p, "argv", argv_json(s->cmd_argv, s->cmd_argc));
	json_object_set_new(p, "cwd", json_string_nocheck(s->cwd));
	json_object_set_new(p, "uid", json_integer((json_int_t)getuid()));
	json_object_set_new(p, "host", json_string_nocheck(host));
	json_object_set_new(exe, "path", json_string_nocheck(s->exe));
	if (sha256_file(s->exe, sum) == 0)
		json_object_set_new(exe, "sha256", json_string(sum));
	json_object_set_new(p, "exe", exe);
	for (const char *const *e = env_allow; *e; e++) {
		const char *v = getenv(*e);

		if (v)
			json_object_set_new(env, *e, json_string_nocheck(v));
	}
	json_object_set_new(p, "env", env);
	return p;
}

int save_json(const char *path, const json_t *doc, struct sd_err *err)
{
	char *text = json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS);
	int rc;

	if (!text)
		return err_set(err, RUN_FAILED, "cannot write '%s'", path);
	rc = fs_write_nosync(path, text, strlen(text), 0600, err);
	free(text);
	return rc;
}

static const char *policy_line(const struct policy_verdict *v, char *buf,
			       size_t n)
{
	if (v->action == POLICY_NONE && !v->builtin)
		return NULL;
	snprintf(buf, n, "%s by %s%s%s",
		 v->builtin		     ? "needs confirmation"
		 : v->action == POLICY_ALLOW ? "allowed"
		 : v->action == POLICY_DENY  ? "denied"
					     : "needs confirmation",
		 v->rule, v->message[0] ? ": " : "", v->message);
	return buf;
}

/* The summary a person can judge in one screen. */
void print_summary(struct saferun *s, FILE *out, const json_t *plan,
		   const struct effects *e)
{
	int fd = fileno(out);
	const char *what = json_string_value(json_object_get(plan, "command"));
	const char *fid = json_string_value(json_object_get(plan, "fidelity"));
	const char *native = json_string_value(json_object_get(plan, "native"));
	char *text = effects_summary(e, s->o.full, SUMMARY_LINES, s->cwd);
	char line[8192] = "";

	shquote_argv(line, sizeof(line), s->cmd_argv, s->cmd_argc);
	fprintf(out, "%splan for:%s %s\n", color_code(fd, COLOR_BOLD),
		color_code(fd, COLOR_RESET), line);
	if (!strcmp(json_string_value(json_object_get(plan, "mode")),
		    "sandbox"))
		fprintf(out,
			"%sran in the sandbox (network %s); nothing on the "
			"host has changed yet%s\n",
			color_code(fd, COLOR_DIM),
			json_is_true(json_object_get(
				json_object_get(plan, "facts"), "network"))
				? "on"
				: "off",
			color_code(fd, COLOR_RESET));
	else if (what)
		fprintf(out, "%s%s (%s%s%s)%s\n", color_code(fd, COLOR_DIM),
			what, fid ? fid : "", native ? ": " : "",
			native ? native : "", color_code(fd, COLOR_RESET));
	fputs(text ? text : "", out);
	free(text);
}

static void print_facts(FILE *out, const json_t *facts)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)facts, k, v)
	{
		if (json_is_string(v)) {
			fprintf(out, "%s: %s\n", k, json_string_value(v));
		} else if (!strcmp(k, "errors") && json_is_array(v)) {
			size_t i;
			json_t *x;

			json_array_foreach(v, i, x) fprintf(
				out, "note: %s\n",
				json_string_value(x) ? json_string_value(x)
						     : "");
		}
	}
}

/* saferun's own argv for the re-run line: without -n/--dry-run, any
 * --confirm, and with --commit for a sandbox plan. NULL-terminated. */
static char **rerun_argv(struct saferun *s, bool commit, int *n)
{
	char **v = calloc((size_t)s->argc + 3, sizeof(*v));
	int k = 0, cmd = s->argc - s->cmd_argc;

	if (!v)
		return NULL;
	v[k++] = "saferun";
	if (commit && !s->o.commit)
		v[k++] = "--commit";
	for (int i = 1; i < cmd; i++) {
		const char *a = s->argv[i];

		/* What only shaped the dry run's output. */
		if (!strcmp(a, "-n") || !strcmp(a, "--dry-run") ||
		    !strcmp(a, "--json") || !strcmp(a, "--full"))
			continue;
		if (!strcmp(a, "--confirm")) {
			i++;
			continue;
		}
		if (!strncmp(a, "--confirm=", 10))
			continue;
		v[k++] = (char *)a;
	}
	if (cmd < 1 || strcmp(s->argv[cmd - 1], "--"))
		v[k++] = "--";
	for (int i = cmd; i < s->argc; i++)
		v[k++] = s->argv[i];
	*n = k;
	return v;
}

static int load_key(struct saferun *s, struct token_key *key)
{
	struct sd_err err = {0};
	char path[4096];

	if (token_key_path(s->o.key_file, path, sizeof(path), &err) < 0 ||
	    token_key_load(key, path, true, &err) < 0)
		return msg_err(&err), RUN_FAILED;
	return 0;
}

/* msg with every "'CWD/" turned into "'", in place: paths below the
 * working directory read as the user typed them. */
char *relative_to(const struct saferun *s, char *msg)
{
	char pat[4200];
	size_t n;
	char *at;

	n = (size_t)snprintf(pat, sizeof(pat), "'%s/", s->cwd);
	if (n >= sizeof(pat) || !strcmp(s->cwd, "/"))
		return msg;
	while ((at = strstr(msg, pat)))
		memmove(at + 1, at + n, strlen(at + n) + 1);
	return msg;
}

static const char *rel_path(const struct saferun *s, const char *p)
{
	size_t n = strlen(s->cwd);

	if (n > 1 && !strncmp(p, s->cwd, n) && p[n] == '/' && p[n + 1])
		return p + n + 1;
	return p;
}

/* Say, from shown up to limit lines, each effect of from that is not in
 * in (same operation on the same path), with how. Returns the lines said. */
static size_t say_missing(const struct saferun *s, const struct effects *from,
			  const struct effects *in, const char *how,
			  size_t limit, size_t shown)
{
	for (size_t i = 0; i < from->n && shown < limit; i++) {
		bool found = false;

		for (size_t j = 0; j < in->n && !found; j++)
			found = in->v[j].op == from->v[i].op &&
				!strcmp(in->v[j].path, from->v[i].path);
		if (!found) {
			fprintf(stderr, "saferun: %s %s '%s'\n", how,
				effect_op_name(from->v[i].op),
				rel_path(s, from->v[i].path));
			shown++;
		}
	}
	return shown;
}

/* What differs between the plan a token was issued for (kept when it was
 * issued) and the plan now: the one line that matters when a token is
 * refused. */
static void explain_stale(struct saferun *s, const json_t *now)
{
	char path[4400], *text = NULL, *why;
	size_t len, shown = 0;
	json_t *old, *x;
	struct sd_err err = {0};
	struct effects a = {0}, b = {0};

	snprintf(path, sizeof(path), "%s/plans/%s.json", s->run_dir, s->key);
	if (fs_read_file(path, PLAN_MAX_SIZE, &text, &len, &err) < 0)
		return;
	old = json_loads(text, 0, NULL);
	free(text);
	if (!old)
		return;
	why = fprint_check_all(json_object_get(old, "targets"));
	if (why) {
		fprintf(stderr, "saferun: changed since the plan: %s\n",
			relative_to(s, why));
		free(why);
	}
	if (effects_from_json(&a, json_object_get(old, "effects"), &err) == 0 &&
	    effects_from_json(&b, json_object_get(now, "effects"), &err) == 0) {
		shown = say_missing(s, &b, &a, "would now also", 5, 0);
		say_missing(s, &a, &b, "would no longer", 10, shown);
	}
	x = json_object_get(old, "exe");
	if (!json_equal(x, json_object_get(now, "exe")))
		fprintf(stderr, "saferun: the executable '%s' changed\n",
			s->exe);
	if (!json_equal(json_object_get(old, "env"),
			json_object_get(now, "env")))
		fprintf(stderr, "saferun: the environment changed\n");
	effects_release(&a);
	effects_release(&b);
	json_decref(old);
}

/* Bind plan to a token and ask for it. *confirmed on success. Returns 0
 * to go ahead, or the exit status. */
int finish_plan(struct saferun *s, json_t *plan, const char *summary,
		bool always_confirm, const struct policy_verdict *v,
		int *confirmed)
{
	struct token_key key = {0};
	struct plan bound = {0};
	struct sd_err err = {0};
	char path[4400], line[8192], pol[2048];
	char **rv = NULL;
	int rc, rn = 0, at;
	bool commit = !strcmp(json_string_value(json_object_get(plan, "mode")),
			      "sandbox");

	(void)always_confirm;
	*confirmed = 0;
	if (plan_from_json(&bound, plan, &err) < 0)
		return msg_err(&err), RUN_FAILED;
	rc = load_key(s, &key);
	if (rc)
		goto out;
	rv = rerun_argv(s, commit, &rn);
	at = commit && !s->o.commit ? 2 : 1; /* after --commit */
	if (!rv) {
		rc = RUN_FAILED;
		goto out;
	}
	if (s->o.confirm) {
		struct token_info info;

		if (token_verify(&key, bound.digest, s->o.confirm, token_now(),
				 &info, &err) < 0) {
			msg_err(&err);
			if (info.verdict == TOKEN_OTHER_PLAN)
				explain_stale(s, plan);
			rc = RUN_CONFIRM;
			goto out;
		}
	}
	/* The plan a later token was issued for, so that a refusal can say
	 * what changed since. */
	snprintf(path, sizeof(path), "%s/plans", s->run_dir);
	if (fs_mkdirs(path, 0700, &err) == 0) {
		snprintf(path, sizeof(path), "%s/plans/%s.json", s->run_dir,
			 s->key);
		save_json(path, plan, &err);
	}
	if (s->o.dry_run) {
		char tok[TOKEN_TEXT_LEN + 1], ttl[32];

		if (token_issue(&key, bound.digest, token_now(), s->o.ttl, tok,
				&err) < 0 ||
		    confirm_rerun_line(line, sizeof(line), rv, rn, at, tok) <
			    0) {
			rc = err.msg[0] ? (msg_err(&err), RUN_FAILED)
					: RUN_FAILED;
			goto out;
		}
		units_format_duration(s->o.ttl * 1000, ttl, sizeof(ttl));
		if (s->o.json) {
			json_t *o = json_object();

			json_object_set_new(o, "version",
					    json_string(SD_VERSION));
			json_object_set_new(o, "digest",
					    json_string(bound.hex));
			json_object_set_new(o, "plan", json_incref(plan));
			json_object_set_new(o, "summary", json_string(summary));
			json_object_set_new(o, "token", json_string(tok));
			json_object_set_new(o, "rerun", json_string(line));
			json_object_set_new(
				o, "policy",
				json_string(policy_line(v, pol, sizeof(pol))));
			json_dumpf(o, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
			putchar('\n');
			json_decref(o);
		} else {
			printf("plan sha256:%.12s\nto go ahead, run within "
			       "%s:\n  %s\n",
			       bound.hex, ttl, line);
		}
		rc = 0;
		goto out;
	}
	{
		struct confirm_request req = {0};
		struct confirm_result res;

		req.plan = &bound;
		req.summary = NULL;
		req.argv = rv;
		req.argc = rn;
		req.insert_at = at;
		req.token = s->o.confirm;
		req.ttl = s->o.ttl;
		req.key = &key;
		req.state_dir = s->state_dir;
		req.tty = s->o.tty;
		memset(&res, 0, sizeof(res));
		fprintf(stderr, "%splan sha256:%.12s%s\n",
			color_code(2, COLOR_DIM), bound.hex,
			color_code(2, COLOR_RESET));
		if (confirm_plan(&req, &res, &err) == 0) {
			*confirmed = 1;
			rc = 0;
		} else if (res.rerun[0]) {
			if (s->o.json) {
				json_t *o = json_object();

				json_object_set_new(o, "version",
						    json_string(SD_VERSION));
				json_object_set_new(o, "digest",
						    json_string(bound.hex));
				json_object_set_new(o, "plan",
						    json_incref(plan));
				json_object_set_new(o, "summary",
						    json_string(summary));
				json_object_set_new(o, "token",
						    json_string(res.token));
				json_object_set_new(o, "rerun",
						    json_string(res.rerun));
				json_dumpf(o, stdout,
					   JSON_INDENT(2) | JSON_SORT_KEYS);
				putchar('\n');
				json_decref(o);
			}
			fprintf(stderr,
				"saferun: confirmation needed; to go ahead, "
				"run:\n  %s\n",
				res.rerun);
			rc = RUN_CONFIRM;
		} else {
			msg_err(&err);
			rc = err.code == SD_EXIT_CONFIRM ? RUN_CONFIRM
							 : RUN_FAILED;
		}
	}
out:
	free(rv);
	token_key_release(&key);
	plan_release(&bound);
	return rc;
}

/* Replace saferun with the command (or what the plan applies instead). */
int exec_command(char **argv)
{
	fflush(stdout);
	fflush(stderr);
	execvp(argv[0], argv);
	msg_error("cannot run '%s': %s", argv[0], strerror(errno));
	return errno == ENOENT ? RUN_NOT_FOUND : 126;
}

/* A plan is JSON, and JSON text is UTF-8: a path that is not cannot be
 * named in one. The first such path, or NULL. */
const char *effects_bad_name(const struct effects *e)
{
	for (size_t i = 0; i < e->n; i++) {
		const char *p[2] = {e->v[i].path, e->v[i].to};

		for (int k = 0; k < 2; k++) {
			json_t *j = p[k] ? json_string(p[k]) : NULL;

			if (p[k] && !j)
				return p[k];
			json_decref(j);
		}
	}
	return NULL;
}

int refuse_bad_name(const char *name)
{
	char shown[1024];
	size_t o = 0;

	for (const unsigned char *c = (const unsigned char *)name;
	     *c && o + 5 < sizeof(shown); c++) {
		if (*c < 0x20 || *c >= 0x7f)
			o += (size_t)snprintf(shown + o, sizeof(shown) - o,
					      "\\x%02x", *c);
		else
			shown[o++] = (char)*c;
	}
	shown[o] = 0;
	msg_error("cannot make a plan: the name '%s' is not valid UTF-8, and "
		  "a plan (JSON) cannot hold it",
		  shown);
	return RUN_FAILED;
}

static void copy_facts(json_t *plan, const json_t *facts)
{
	json_t *bound = json_object();
	const char *k;
	json_t *v;

	/* An undo point ("git stash create") is a new commit each second:
	 * shown, but not part of what the token binds. */
	json_object_foreach((json_t *)facts, k, v) if (strcmp(k, "undo"))
		json_object_set(bound, k, v);
	json_object_set_new(plan, "facts", bound);
}

static int run_native(struct saferun *s, const struct tool *t)
{
	struct tool_plan p = {0};
	struct tool_ctx c = {0};
	struct sd_err err = {0};
	struct policy_verdict v = {0};
	char tmp[4400], pol[2048];
	json_t *plan = NULL;
	char *summary = NULL;
	bool confirm;
	int rc, confirmed = 0;
	FILE *out = s->o.dry_run || s->o.json ? stdout : stderr;

	snprintf(tmp, sizeof(tmp), "%s/tmp/%s", s->run_dir, s->key);
	if (fs_mkdirs(tmp, 0700, &err) < 0)
		return msg_err(&err), RUN_FAILED;
	c.argv = s->cmd_argv;
	c.argc = s->cmd_argc;
	c.exe = s->exe;
	c.cwd = s->cwd;
	c.timeout_ms = s->o.timeout_ms ? s->o.timeout_ms : DEFAULT_PREVIEW_MS;
	c.tmpdir = tmp;
	if (t->plan(&c, &p, &err) < 0) {
		char line[8192] = "";

		msg_error("cannot plan '%s': %s", t->what, err.msg);
		shquote_argv(line, sizeof(line), s->cmd_argv, s->cmd_argc);
		fprintf(stderr,
			"saferun: nothing was run; to see its effects in the "
			"sandbox instead:\n  saferun --sandbox -- %s\n",
			line);
		tool_plan_release(&p);
		return err.code == RUN_NOT_FOUND ? RUN_NOT_FOUND : RUN_FAILED;
	}
	effects_sort(&p.effects);
	if (effects_bad_name(&p.effects)) {
		rc = refuse_bad_name(effects_bad_name(&p.effects));
		goto out;
	}
	plan = plan_base(s, "native");
	json_object_set_new(plan, "command", json_string(t->what));
	json_object_set_new(plan, "fidelity",
			    json_string(fidelity_name(p.fidelity)));
	json_object_set_new(plan, "native",
			    p.native ? json_string_nocheck(p.native)
				     : json_null());
	json_object_set_new(plan, "effects", effects_json(&p.effects));
	json_object_set_new(plan, "targets",
			    p.targets ? json_incref(p.targets) : json_array());
	copy_facts(plan, p.facts ? p.facts : json_object());
	if (p.apply_argv) {
		int n = 0;

		while (p.apply_argv[n])
			n++;
		json_object_set_new(plan, "apply", argv_json(p.apply_argv, n));
	}
	/* Policy: built-in rules first (only a token passes them), then
	 * the configured rules. */
	rc = policy_decide(s, p.why_refuse, &v);
	if (rc)
		goto out;
	if (v.action != POLICY_NONE || v.builtin) {
		json_t *o = json_object();

		json_object_set_new(o, "action",
				    json_string(policy_action_name(v.action)));
		json_object_set_new(o, "rule", json_string(v.rule));
		json_object_set_new(o, "message", json_string(v.message));
		json_object_set_new(o, "builtin", json_boolean(v.builtin));
		json_object_set_new(plan, "policy", o);
	}
	summary = effects_summary(&p.effects, s->o.full, SUMMARY_LINES, s->cwd);
	confirm = v.builtin || p.always_confirm || v.action == POLICY_CONFIRM ||
		  (v.action == POLICY_NONE && p.effects.n > 0);
	/* Nothing to confirm: the command runs as if saferun were not
	 * there, without a word. */
	if (!confirm && !s->o.dry_run && v.action != POLICY_DENY) {
		rc = exec_command(p.apply_argv ? p.apply_argv : s->cmd_argv);
		goto out;
	}
	if (!s->o.json) {
		print_summary(s, out, plan, &p.effects);
		if (p.facts)
			print_facts(out, p.facts);
		if (policy_line(&v, pol, sizeof(pol)))
			fprintf(out, "policy: %s\n", pol);
	}
	rc = policy_deny(&v);
	if (rc)
		goto out;
	if (!confirm) {
		if (s->o.json) {
			json_t *o = json_object();

			json_object_set_new(o, "version",
					    json_string(SD_VERSION));
			json_object_set_new(o, "plan", json_incref(plan));
			json_object_set_new(o, "summary", json_string(summary));
			json_object_set_new(o, "confirm", json_false());
			json_dumpf(o, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
			putchar('\n');
			json_decref(o);
		} else {
			printf("would run without confirmation\n");
		}
		rc = 0;
		goto out;
	}
	rc = finish_plan(s, plan, summary, p.always_confirm, &v, &confirmed);
	if (rc == 0 && confirmed) {
		/* The plan was computed just now and the token checked
		 * against it: run. */
		rc = exec_command(p.apply_argv ? p.apply_argv : s->cmd_argv);
	}
out:
	free(summary);
	json_decref(plan);
	tool_plan_release(&p);
	return rc;
}

int main(int argc, char **argv)
{
	struct saferun s;
	struct sd_err err = {0};
	int first = 0, rc;

	memset(&s, 0, sizeof(s));
	msg_init("saferun");
	s.argc = argc;
	s.argv = argv;
	s.o.tty = getenv("SAFERUN_TTY");
	rc = parse_options(&s, argc, argv, &first);
	if (rc)
		return rc < 0 ? 0 : rc;
	s.cmd_argv = argv + first;
	s.cmd_argc = argc - first;
	if (!getcwd(s.cwd, sizeof(s.cwd))) {
		msg_error("cannot read the working directory: %s",
			  strerror(errno));
		return RUN_FAILED;
	}
	for (int i = 0; i < s.cmd_argc; i++) {
		json_t *j = json_string(s.cmd_argv[i]);

		if (!j)
			return refuse_bad_name(s.cmd_argv[i]);
		json_decref(j);
	}
	{
		json_t *j = json_string(s.cwd);

		if (!j)
			return refuse_bad_name(s.cwd);
		json_decref(j);
	}
	rc = load_config(&s);
	if (!rc && paths_state_dir(s.state_dir, sizeof(s.state_dir), &err) < 0)
		rc = (msg_err(&err), RUN_FAILED);
	if (rc)
		goto out;
	snprintf(s.run_dir, sizeof(s.run_dir), "%s/saferun", s.state_dir);
	if (resolve_exe(s.cmd_argv[0], s.exe, sizeof(s.exe)) < 0) {
		msg_error("'%s': command not found", s.cmd_argv[0]);
		rc = RUN_NOT_FOUND;
		goto out;
	}
	invocation_key(&s);
	sandbox_prune(&s);
	if (s.o.commit) {
		rc = run_commit(&s);
	} else {
		struct tool_ctx c = {
			.argv = s.cmd_argv, .argc = s.cmd_argc, .cwd = s.cwd};
		const struct tool *t = s.o.sandbox ? NULL : tools_find(&c);

		rc = t ? run_native(&s, t) : run_sandbox(&s);
	}
out:
	config_release(&s.cfg);
	if (fflush(stdout) != 0 && !rc)
		rc = RUN_FAILED;
	return rc;
}
