/* saferun's copy-on-write path: run the command in the sandbox
 * (lib/sandbox.c), turn what it changed into a plan (lib/ovdiff.c), and
 * apply those changes, not the command, once the plan is confirmed; a
 * --commit later applies a kept sandbox, unless the host changed since.
 *
 * A sandbox waiting for its token is kept under
 * $XDG_STATE_HOME/safedeploy/saferun/sandboxes/KEY/ (KEY: the invocation,
 * see main.c): box/ (the layers), plan.json, layers.json, expires and
 * boot_id. Nothing of it is synced to disk: the overlays are mounted
 * volatile (lib/sandbox.c), so after a crash the layers could hold torn
 * files. A kept sandbox is therefore good for the boot it was made in
 * only (boot_id): after a restart --commit refuses it and it is pruned. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "effects.h"
#include "fprint.h"
#include "fsutil.h"
#include "msg.h"
#include "ovdiff.h"
#include "plan.h"
#include "rmtree.h"
#include "sandbox.h"
#include "saferun.h"
#include "shquote.h"
#include "token.h"
#include "units.h"
#include "version.h"

#define SUMMARY_LINES 12
/* A kept sandbox whose token has expired goes at the next run. */
#define PRUNE_GRACE 60

/* Overlay work directories are left mode 000: make every directory
 * writable before the race-safe removal. */
static int open_dir_cb(const char *path, const struct stat *st, int type,
		       struct FTW *f)
{
	(void)f;
	if (type == FTW_D || type == FTW_DNR)
		chmod(path, (st->st_mode & 07777) | 0700);
	return 0;
}

static void remove_tree(const char *path)
{
	nftw(path, open_dir_cb, 16, FTW_PHYS | FTW_MOUNT);
	rmtree_remove(AT_FDCWD, path, path, NULL);
}

/* This boot's id (36 characters), or "" when it cannot be read. */
static void boot_id(char id[64])
{
	char *text = NULL;
	size_t len;
	struct sd_err err = {0};

	id[0] = 0;
	if (fs_read_file("/proc/sys/kernel/random/boot_id", 63, &text, &len,
			 &err) < 0)
		return;
	text[strcspn(text, "\n")] = 0;
	snprintf(id, 64, "%s", text);
	free(text);
}

/* Whether the sandbox kept in dir was made in this boot. */
static bool this_boot(const char *dir)
{
	char path[4600], now[64], *text = NULL;
	size_t len;
	struct sd_err err = {0};
	bool same;

	boot_id(now);
	snprintf(path, sizeof(path), "%s/boot_id", dir);
	if (!now[0] || fs_read_file(path, 63, &text, &len, &err) < 0)
		return false;
	text[strcspn(text, "\n")] = 0;
	same = !strcmp(text, now);
	free(text);
	return same;
}

void sandbox_prune(struct saferun *s)
{
	char dir[4400];
	DIR *d;
	struct dirent *e;
	int64_t now = token_now();

	snprintf(dir, sizeof(dir), "%s/sandboxes", s->run_dir);
	d = opendir(dir);
	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[4700], *text = NULL;
		size_t len;
		struct sd_err err = {0};
		struct stat st;
		bool old = false;
		char *dash;

		/* --commit says itself what is wrong with its own. */
		if (e->d_name[0] == '.' ||
		    (s->o.commit && !strcmp(e->d_name, s->key)))
			continue;
		snprintf(path, sizeof(path), "%s/%s/expires", dir, e->d_name);
		if (fs_read_file(path, 64, &text, &len, &err) == 0) {
			old = strtoll(text, NULL, 10) + PRUNE_GRACE < now;
			free(text);
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			old = old || !this_boot(path);
		} else if ((dash = strstr(e->d_name, ".tmp-"))) {
			/* A run in progress, or one that died. */
			pid_t pid = (pid_t)atoi(dash + 5);

			old = pid > 0 && kill(pid, 0) < 0 && errno == ESRCH;
		} else {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			old = stat(path, &st) == 0 &&
			      st.st_mtime + 86400 < (time_t)now;
		}
		if (old) {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			remove_tree(path);
		}
	}
	closedir(d);
}

static json_t *layers_json(const struct sandbox_result *r)
{
	json_t *a = json_array();

	for (size_t i = 0; i < r->n_layers; i++) {
		json_t *o = json_object();

		json_object_set_new(o, "host",
				    json_string_nocheck(r->layers[i].host));
		json_object_set_new(o, "upper",
				    json_string_nocheck(r->layers[i].upper));
		json_array_append_new(a, o);
	}
	return a;
}

/* The layers of a kept sandbox (pointers into doc). */
static struct ovdiff_layer *layers_from(const json_t *doc, size_t *n)
{
	size_t i, count = json_array_size(doc);
	struct ovdiff_layer *v = calloc(count ? count : 1, sizeof(*v));
	json_t *o;

	if (!v)
		return NULL;
	json_array_foreach(doc, i, o)
	{
		v[i].host = json_string_value(json_object_get(o, "host"));
		v[i].upper = json_string_value(json_object_get(o, "upper"));
		if (!v[i].host || !v[i].upper) {
			free(v);
			return NULL;
		}
	}
	*n = count;
	return v;
}

static int exit_of(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return RUN_FAILED;
}

static void print_status(FILE *out, int status, bool timed_out,
			 int64_t timeout_ms)
{
	char d[32];

	if (timed_out) {
		units_format_duration(timeout_ms, d, sizeof(d));
		fprintf(out,
			"the command did not finish within %s in the sandbox "
			"and was killed\n",
			d);
	} else if (WIFSIGNALED(status)) {
		fprintf(out,
			"in the sandbox, the command was killed by "
			"signal %d\n",
			WTERMSIG(status));
	} else if (exit_of(status)) {
		fprintf(out,
			"in the sandbox, the command exited with status "
			"%d\n",
			exit_of(status));
	}
}

/* Apply a confirmed sandbox: the recorded changes, re-checked against the
 * host first. Returns the exit status. */
static int apply(const char *box_dir, const json_t *layers_doc,
		 const json_t *plan, int cmd_status)
{
	struct effects e = {0};
	struct sd_err err = {0};
	struct ovdiff_layer *layers;
	size_t n = 0;
	int rc;

	layers = layers_from(layers_doc, &n);
	if (!layers)
		return msg_error("the kept sandbox '%s' is damaged", box_dir),
		       RUN_FAILED;
	if (effects_from_json(&e, json_object_get(plan, "effects"), &err) < 0) {
		free(layers);
		return msg_err(&err), RUN_FAILED;
	}
	rc = ovdiff_commit(layers, n, &e, json_object_get(plan, "targets"),
			   &err);
	if (rc < 0) {
		msg_err(&err);
		rc = err.code == SD_EXIT_CONFIRM ? RUN_CONFIRM : RUN_FAILED;
	} else {
		fprintf(stderr, "saferun: applied %zu change%s\n", e.n,
			e.n == 1 ? "" : "s");
		rc = cmd_status;
	}
	effects_release(&e);
	free(layers);
	return rc;
}

/* When the kept sandbox in dir expires, and the boot it belongs to. */
static int write_expires(const char *dir, int64_t when, struct sd_err *err)
{
	char path[4600], text[80];

	boot_id(text);
	if (!text[0])
		return err_set(err, RUN_FAILED,
			       "cannot read this boot's id from "
			       "/proc/sys/kernel/random/boot_id");
	snprintf(path, sizeof(path), "%s/boot_id", dir);
	strcat(text, "\n");
	if (fs_write_nosync(path, text, strlen(text), 0600, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/expires", dir);
	snprintf(text, sizeof(text), "%lld\n", (long long)when);
	return fs_write_nosync(path, text, strlen(text), 0600, err);
}

/* Without a sandbox, the effects are unknown: run only with a token. */
static int run_blind(struct saferun *s, const char *why)
{
	json_t *plan = plan_base(s, "blind");
	struct policy_verdict v = {0};
	int rc, confirmed = 0;

	msg_error("cannot run '%s' in the sandbox: %s", s->cmd_argv[0], why);
	fprintf(stderr, "saferun: its effects are unknown: it runs only once "
			"confirmed\n");
	json_object_set_new(plan, "effects", json_array());
	json_object_set_new(plan, "targets", json_array());
	json_object_set_new(plan, "facts", json_pack("{s:s}", "sandbox", why));
	rc = policy_decide(s, NULL, &v);
	if (!rc)
		rc = policy_deny(&v);
	if (rc) {
		json_decref(plan);
		return rc;
	}
	rc = finish_plan(s, plan, "effects unknown (no sandbox)\n", true, &v,
			 &confirmed);
	json_decref(plan);
	if (rc == 0 && confirmed)
		return exec_command(s->cmd_argv);
	return rc;
}

int run_sandbox(struct saferun *s)
{
	struct sandbox_opts so = {0};
	struct sandbox_result r = {0};
	struct effects e = {0};
	struct sd_err err = {0};
	struct policy_verdict v = {0};
	char tmp[4400], box[4500], keep[4400], path[4600];
	json_t *targets = NULL, *plan = NULL, *facts, *unc;
	struct ovdiff_layer *layers = NULL;
	char *summary = NULL;
	FILE *out = s->o.dry_run || s->o.json ? stdout : stderr;
	int rc, confirmed = 0, status, saved_out = -1, run_rc;

	/* The policy first: a denied command does not even run in the
	 * sandbox (with --net it could reach what no overlay protects). */
	rc = policy_decide(s, NULL, &v);
	if (!rc)
		rc = policy_deny(&v);
	if (rc)
		return rc;
	if (sandbox_available(&err) < 0)
		return run_blind(s, err.msg);
	snprintf(tmp, sizeof(tmp), "%s/sandboxes/%s.tmp-%d", s->run_dir, s->key,
		 (int)getpid());
	snprintf(box, sizeof(box), "%s/box", tmp);
	if (fs_mkdirs(box, 0700, &err) < 0)
		return msg_err(&err), RUN_FAILED;
	so.dir = box;
	so.argv = s->cmd_argv;
	so.cwd = s->cwd;
	so.net = s->o.net;
	so.timeout_ms = s->o.timeout_ms;
	/* With --json, standard output is the plan's: what the command
	 * prints goes to standard error. */
	if (s->o.json) {
		fflush(stdout);
		saved_out = dup(1);
		if (saved_out >= 0)
			dup2(2, 1);
	}
	run_rc = sandbox_run(&so, &r, &err);
	if (saved_out >= 0) {
		fflush(stdout);
		dup2(saved_out, 1);
		close(saved_out);
	}
	if (run_rc < 0) {
		msg_err(&err);
		rc = RUN_FAILED;
		goto discard;
	}
	status = r.status;
	if (sandbox_not_found(&r)) {
		msg_error("'%s': command not found in the sandbox",
			  s->cmd_argv[0]);
		rc = RUN_NOT_FOUND;
		goto discard;
	}
	if (r.timed_out) {
		print_status(stderr, status, true, s->o.timeout_ms);
		fprintf(stderr, "saferun: nothing was applied to the host\n");
		rc = 128 + SIGKILL;
		goto discard;
	}
	layers = calloc(r.n_layers ? r.n_layers : 1, sizeof(*layers));
	if (!layers) {
		rc = RUN_FAILED;
		goto discard;
	}
	for (size_t i = 0; i < r.n_layers; i++) {
		layers[i].host = r.layers[i].host;
		layers[i].upper = r.layers[i].upper;
	}
	if (ovdiff_analyse(layers, r.n_layers, &e, &targets, &err) < 0) {
		msg_err(&err);
		rc = RUN_FAILED;
		goto discard;
	}
	unc = json_array();
	for (size_t i = 0; i < r.n_uncaptured; i++) {
		effects_add(&e, EFFECT_UNCAPTURED, r.uncaptured[i], NULL, 's',
			    0, 0, NULL);
		json_array_append_new(unc,
				      json_string_nocheck(r.uncaptured[i]));
	}
	effects_sort(&e);
	if (effects_bad_name(&e)) {
		json_decref(unc);
		rc = refuse_bad_name(effects_bad_name(&e));
		goto discard;
	}
	plan = plan_base(s, "sandbox");
	json_object_set_new(plan, "command", json_string("sandbox"));
	json_object_set_new(plan, "fidelity", json_string("sandbox"));
	json_object_set_new(plan, "effects", effects_json(&e));
	json_object_set_new(plan, "targets", targets);
	targets = NULL;
	facts = json_object();
	json_object_set_new(facts, "status", json_integer(exit_of(status)));
	json_object_set_new(facts, "network", json_boolean(s->o.net));
	json_object_set_new(facts, "uncaptured", unc);
	json_object_set_new(plan, "facts", facts);
	if (v.action != POLICY_NONE || v.builtin)
		json_object_set_new(plan, "policy",
				    json_pack("{s:s,s:s,s:s,s:b}", "action",
					      policy_action_name(v.action),
					      "rule", v.rule, "message",
					      v.message, "builtin", v.builtin));
	summary = effects_summary(&e, s->o.full, SUMMARY_LINES, s->cwd);
	if (!s->o.json) {
		print_summary(s, out, plan, &e);
		print_status(out, status, false, 0);
		if (s->o.full)
			fprintf(out,
				"sandbox: set-up %.1f ms, tear-down %.1f ms\n",
				r.setup_ms, r.teardown_ms);
	}
	/* Nothing changed that could be applied: done, with the command's
	 * own status. */
	if (e.n == 0 || e.n == r.n_uncaptured) {
		if (s->o.json) {
			json_t *o = json_pack("{s:s,s:O,s:s,s:b}", "version",
					      SD_VERSION, "plan", plan,
					      "summary", summary, "confirm", 0);

			json_dumpf(o, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
			putchar('\n');
			json_decref(o);
		}
		rc = exit_of(status);
		goto discard;
	}
	/* Keep the sandbox where --commit finds it. */
	snprintf(keep, sizeof(keep), "%s/sandboxes/%s", s->run_dir, s->key);
	remove_tree(keep);
	if (rename(tmp, keep) < 0) {
		msg_error("cannot keep the sandbox in '%s': %s", keep,
			  strerror(errno));
		rc = RUN_FAILED;
		goto discard;
	}
	snprintf(tmp, sizeof(tmp), "%s", keep);
	/* The layers now live under the new name. */
	{
		json_t *ld = layers_json(&r);
		size_t i;
		json_t *o;
		size_t old = strlen(box);

		snprintf(box, sizeof(box), "%s/box", keep);
		json_array_foreach(ld, i, o)
		{
			const char *u =
				json_string_value(json_object_get(o, "upper"));
			char moved[4600];

			if (u && strlen(u) >= old) {
				snprintf(moved, sizeof(moved), "%s%s", box,
					 u + old);
				json_object_set_new(o, "upper",
						    json_string_nocheck(moved));
			}
		}
		snprintf(path, sizeof(path), "%s/layers.json", keep);
		if (save_json(path, ld, &err) < 0) {
			json_decref(ld);
			msg_err(&err);
			rc = RUN_FAILED;
			goto discard;
		}
		snprintf(path, sizeof(path), "%s/plan.json", keep);
		if (save_json(path, plan, &err) < 0) {
			json_decref(ld);
			msg_err(&err);
			rc = RUN_FAILED;
			goto discard;
		}
		if (write_expires(keep, token_now() + s->o.ttl, &err) < 0) {
			json_decref(ld);
			msg_err(&err);
			rc = RUN_FAILED;
			goto discard;
		}
		if (v.action == POLICY_ALLOW && !v.builtin && !s->o.dry_run) {
			confirmed = 1;
			rc = 0;
		} else {
			rc = finish_plan(s, plan, summary, false, &v,
					 &confirmed);
		}
		if (rc == 0 && confirmed)
			rc = apply(keep, ld, plan, exit_of(status));
		json_decref(ld);
	}
	if (confirmed || (rc != 0 && rc != RUN_CONFIRM))
		goto discard;
	goto out; /* kept for --commit */
discard:
	remove_tree(tmp);
out:
	free(layers);
	free(summary);
	json_decref(plan);
	json_decref(targets);
	effects_release(&e);
	sandbox_result_release(&r);
	return rc;
}

int run_commit(struct saferun *s)
{
	char dir[4400], path[4600], *text = NULL, *why;
	size_t len;
	struct sd_err err = {0};
	struct policy_verdict v = {0};
	struct effects e = {0};
	json_t *plan = NULL, *layers = NULL, *status;
	int rc, confirmed = 0;

	snprintf(dir, sizeof(dir), "%s/sandboxes/%s", s->run_dir, s->key);
	snprintf(path, sizeof(path), "%s/plan.json", dir);
	if (fs_read_file(path, PLAN_MAX_SIZE, &text, &len, &err) < 0) {
		msg_error("no sandbox run of this command is waiting to be "
			  "applied (applied, discarded or expired); run it "
			  "again without --commit");
		return RUN_CONFIRM;
	}
	if (!this_boot(dir)) {
		free(text);
		msg_error("the sandbox run of this command was made before the "
			  "machine restarted, and a sandbox does not outlive a "
			  "restart (its files may be incomplete); run it again "
			  "without --commit");
		remove_tree(dir);
		return RUN_CONFIRM;
	}
	plan = json_loads(text, 0, NULL);
	free(text);
	snprintf(path, sizeof(path), "%s/layers.json", dir);
	if (plan && fs_read_file(path, PLAN_MAX_SIZE, &text, &len, &err) == 0) {
		layers = json_loads(text, 0, NULL);
		free(text);
	}
	if (!plan || !layers || !json_is_array(layers)) {
		msg_error("the kept sandbox '%s' is damaged; run the command "
			  "again without --commit",
			  dir);
		rc = RUN_FAILED;
		goto out;
	}
	if (effects_from_json(&e, json_object_get(plan, "effects"), &err) < 0) {
		msg_err(&err);
		rc = RUN_FAILED;
		goto out;
	}
	if (!s->o.json) {
		print_summary(s, stderr, plan, &e);
	}
	why = fprint_check_all(json_object_get(plan, "targets"));
	if (why) {
		msg_error("refusing to apply: the host changed since the "
			  "sandbox run: %s",
			  relative_to(s, why));
		free(why);
		rc = RUN_CONFIRM;
		goto out;
	}
	{
		json_t *pol = json_object_get(plan, "policy");

		v.builtin = json_is_true(json_object_get(pol, "builtin"));
	}
	rc = finish_plan(s, plan, NULL, false, &v, &confirmed);
	status = json_object_get(json_object_get(plan, "facts"), "status");
	if (rc == 0 && confirmed) {
		rc = apply(dir, layers, plan, (int)json_integer_value(status));
		if (rc != RUN_CONFIRM)
			remove_tree(dir);
	}
out:
	effects_release(&e);
	json_decref(plan);
	json_decref(layers);
	return rc;
}
