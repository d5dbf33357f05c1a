/* safedeploy probe: status-page checks run from somewhere else than what
 * they watch (DESIGN.md §4). `probe run --once` runs every check once, at
 * once, and says which are down. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alert.h"
#include "cmd.h"
#include "color.h"
#include "fsutil.h"
#include "msg.h"
#include "history.h"
#include "dnsq.h"
#include "indep.h"
#include "merge.h"
#include "opts.h"
#include "page.h"
#include "paths.h"
#include "probe.h"
#include "progress.h"
#include "units.h"

enum {
	OPT_ONCE = OPT_FIRST_OWN,
	OPT_EVERY,
	OPT_DB,
	OPT_OUT,
	OPT_PUBLISH,
	OPT_DNS_SERVER,
	OPT_QUORUM,
};

static const struct opt_spec merge_opts[] = {
	{OPT_QUORUM, "quorum", 0, OPT_REQUIRED, "N",
	 "locations that must agree a component is down (default: a "
	 "majority)"},
	{OPT_OUT, "out", 0, OPT_REQUIRED, "DIR",
	 "write the merged page (index.html, summary.json) there"},
	OPTS_CONFIG,
	OPTS_JSON,
	OPTS_COLOR,
	OPTS_HELP,
	{0},
};

static const struct opt_spec indep_opts[] = {
	{OPT_CONFIG, "config", 0, OPT_REQUIRED, "FILE",
	 "the checks and page.url: a Gatus file, or probe.endpoints"},
	{OPT_DNS_SERVER, "dns-server", 0, OPT_REQUIRED, "IP[:PORT]",
	 "ask this DNS server (default: the system's)"},
	OPTS_JSON,
	OPTS_COLOR,
	OPTS_HELP,
	{0},
};

static const struct opt_spec run_opts[] = {
	{OPT_ONCE, "once", 0, OPT_NONE, NULL,
	 "run every check once, then exit (1 if any is down)"},
	{OPT_EVERY, "every", 0, OPT_REQUIRED, "DURATION",
	 "run a round every DURATION until SIGTERM"},
	{OPT_DB, "db", 0, OPT_REQUIRED, "FILE",
	 "the history (default $XDG_STATE_HOME/safedeploy/probe.db)"},
	{OPT_OUT, "out", 0, OPT_REQUIRED, "DIR",
	 "write the status page there after each round"},
	{OPT_PUBLISH, "publish", 0, OPT_REQUIRED, "CMD",
	 "run CMD (through /bin/sh) after each page written"},
	{OPT_CONFIG, "config", 0, OPT_REQUIRED, "FILE",
	 "the checks: a Gatus file (endpoints:) or a safedeploy one "
	 "(probe.endpoints:)"},
	OPTS_JSON,
	OPTS_COLOR,
	OPTS_HELP,
	{0},
};

static void probe_usage(FILE *out)
{
	fprintf(out,
		"Usage: safedeploy probe run --once|--every DURATION [--config "
		"FILE] [--db FILE]\n"
		"                            [--out DIR] [--publish CMD] "
		"[--json]\n"
		"       safedeploy probe independence [--config FILE] "
		"[--dns-server IP[:PORT]] [--json]\n"
		"       safedeploy probe merge SUMMARY.json... [--quorum N] "
		"[--out DIR] [--json]\n"
		"\n"
		"Status-page checks (HTTP(S), TCP, TLS and DNS) in Gatus's "
		"grammar, run from\n"
		"somewhere else than what they watch.\n"
		"\n"
		"Commands:\n"
		"  run           run the checks\n"
		"  independence  check that the page and the probe share "
		"nothing with them\n"
		"  merge         one page from several locations' pages, by "
		"quorum\n"
		"\n"
		"Run 'safedeploy probe COMMAND --help' for the options of each.\n"
		"\n"
		"Exit status: 0 every check is up, 1 a check is down, 2 "
		"usage error,\n"
		"4 could not check (bad configuration).\n");
}

static void run_usage(void)
{
	printf("Usage: safedeploy probe run --once|--every DURATION [--config "
	       "FILE] [--db FILE]\n"
	       "                            [--out DIR] [--publish CMD] "
	       "[--json]\n"
	       "\n"
	       "Run every check, all at once: fresh connections, no DNS "
	       "cache; a check is up\n"
	       "when all its conditions hold. Results go into the history; "
	       "incidents open after\n"
	       "failure-threshold failures in a row and close after "
	       "success-threshold successes;\n"
	       "with --out, the status page is written after each round. The "
	       "checks come from\n"
	       "--config FILE (a Gatus file's endpoints:, or "
	       "probe.endpoints:), else from\n"
	       "probe.endpoints in the configuration files.\n\nOptions:\n");
	opts_print_help(stdout, run_opts);
}

struct run {
	const char *file, *every_text, *db_path, *out, *publish;
	bool once, json;
	int64_t every_ms;
	struct config cfg;
	struct probe_config pc;
	json_t *page_cfg; /* "page" of the Gatus file, or probe.page */
	json_t *page_origins;
	struct page_info info;
	char db_buf[4200], host[256];
	struct history *hist;
};

static const char *const PAGE_KEYS[] = {"name",	   "url",	  "id", "out",
					"publish", "stale-after", NULL};

/* A string setting of the page: FILE:LINE: page.KEY must be a string. */
static int page_string(struct run *r, const char *key, const char **out)
{
	json_t *v = json_object_get(r->page_cfg, key);

	if (!v)
		return 0;
	if (!json_is_string(v)) {
		msg_error("page.%s must be a string", key);
		return SD_EXIT_CANNOT;
	}
	*out = json_string_value(v);
	return 0;
}

static int load_page(struct run *r)
{
	const char *k, *stale = NULL;
	json_t *v;
	int rc;

	if (!r->page_cfg)
		return 0;
	if (!json_is_object(r->page_cfg)) {
		msg_error("page must be a mapping of name, url, id, out, "
			  "publish and stale-after");
		return SD_EXIT_CANNOT;
	}
	json_object_foreach(r->page_cfg, k, v)
	{
		bool known = false;

		(void)v;
		for (const char *const *p = PAGE_KEYS; *p; p++)
			known |= !strcmp(*p, k);
		if (!known)
			msg_warn("'page.%s' is not supported; ignored", k);
	}
	if ((rc = page_string(r, "name", &r->info.name)) ||
	    (rc = page_string(r, "url", &r->info.url)) ||
	    (rc = page_string(r, "id", &r->info.id)) ||
	    (!r->out && (rc = page_string(r, "out", &r->out))) ||
	    (!r->publish && (rc = page_string(r, "publish", &r->publish))) ||
	    (rc = page_string(r, "stale-after", &stale)))
		return rc;
	if (stale) {
		struct sd_err err = {0};
		int64_t ms;

		if (units_parse_duration(stale, &ms, &err) < 0 || ms < 1000) {
			msg_error("page.stale-after: %s",
				  err.msg[0] ? err.msg : "at least 1s");
			return SD_EXIT_CANNOT;
		}
		r->info.stale_after_s = ms / 1000;
	}
	return 0;
}

/* The checks: FILE when given (Gatus's endpoints:, or probe.endpoints:),
 * else probe.endpoints of the merged configuration. */
static int load_checks(struct run *r)
{
	struct sd_err err = {0};
	json_t *root = NULL, *origins = json_object();
	char *text = NULL;
	size_t len, i;
	const char *prefix = "probe.endpoints", *k;
	json_t *w, *v;
	int rc = 0;

	if (!r->file) {
		if (probe_config_load(&r->pc, r->cfg.root, prefix,
				      r->cfg.origins, &err) < 0)
			rc = msg_err(&err);
		r->page_cfg = json_incref(config_get(&r->cfg, "probe.page"));
		goto warn;
	}
	if (fs_read_file(r->file, 16u << 20, &text, &len, &err) < 0 ||
	    yaml_to_json(text, len, r->file, "", &root, origins, &err) < 0) {
		rc = msg_err(&err);
		goto out;
	}
	if (json_is_object(root) && json_object_get(root, "endpoints")) {
		/* A Gatus file: what else it configures is not ours. */
		prefix = "endpoints";
		r->page_cfg = json_incref(json_object_get(root, "page"));
		json_object_foreach(root, k, v)
		{
			const char *at =
				json_string_value(json_object_get(origins, k));

			(void)v;
			if (strcmp(k, "endpoints") && strcmp(k, "page") &&
			    strcmp(k, "alerting"))
				msg_warn("%s%s'%s' is not supported; ignored",
					 at ? at : "", at ? ": " : "", k);
		}
	} else {
		json_t *probe = json_object_get(root, "probe");

		r->page_cfg = json_incref(json_object_get(probe, "page"));
	}
	if (probe_config_load(&r->pc, root, prefix, origins, &err) < 0)
		rc = msg_err(&err);
warn:
	json_array_foreach(r->pc.warnings, i, w)
		msg_warn("%s", json_string_value(w));
out:
	free(text);
	json_decref(root);
	json_decref(origins);
	return rc;
}

static void print_result(const struct probe_result *r, size_t name_width)
{
	const char *on =
		color_code(STDOUT_FILENO, r->up ? COLOR_GREEN : COLOR_RED);
	const char *off = color_code(STDOUT_FILENO, COLOR_RESET);
	char status[16] = "-";
	size_t i;
	json_t *c;

	if (r->status)
		snprintf(status, sizeof(status), "%ld", r->status);
	else if (r->rcode[0])
		snprintf(status, sizeof(status), "%s", r->rcode);
	printf("%s%-4s%s  %-*s  %-8s %6lld ms  %s\n", on, r->up ? "up" : "DOWN",
	       off, (int)name_width, r->ep->key, status,
	       (long long)r->duration_ms, r->ep->url);
	if (r->up)
		return;
	if (r->error[0])
		printf("      %s\n", r->error);
	json_array_foreach(r->conditions, i,
			   c) if (json_is_false(json_object_get(c, "success")))
		printf("      %s\n",
		       json_string_value(json_object_get(c, "condition")));
}

/* --publish: CMD through /bin/sh, in the page's directory's terms:
 * SAFEDEPLOY_PAGE_DIR names it. A failure is reported, never fatal. */
static void publish(const struct run *r)
{
	pid_t pid;
	int wstatus;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		setenv("SAFEDEPLOY_PAGE_DIR", r->out, 1);
		if (r->json)
			dup2(STDERR_FILENO, STDOUT_FILENO);
		execl("/bin/sh", "sh", "-c", r->publish, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &wstatus, 0) < 0)
		msg_error("--publish: cannot run '%s'", r->publish);
	else if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus))
		msg_error("--publish command exited with status %d",
			  WEXITSTATUS(wstatus));
	else if (WIFSIGNALED(wstatus))
		msg_error("--publish command was killed by signal %d",
			  WTERMSIG(wstatus));
}

/* One round: run, print, record, write the page. 0 all up, 1 some down,
 * 4 when the history or the page could not be written. */
static int round_once(struct run *r)
{
	struct probe_config *pc = &r->pc;
	struct probe_result *res = calloc(pc->n, sizeof(*res));
	struct history_transition *tr = NULL;
	struct alert_stats as = {0};
	struct sd_err err = {0};
	size_t up = 0, width = 4, ntr = 0, k;
	json_t *alert_errors, *w;
	int rc;

	if (!res)
		return SD_EXIT_CANNOT;
	if (probe_run_once(pc, res, &err) < 0) {
		free(res);
		return msg_err(&err);
	}
	for (size_t i = 0; i < pc->n; i++) {
		up += res[i].up;
		if (strlen(pc->v[i].key) > width)
			width = strlen(pc->v[i].key);
	}
	if (width > 40)
		width = 40;
	rc = up == pc->n ? SD_EXIT_OK : SD_EXIT_FAIL;
	if (history_record(r->hist, pc, res, &tr, &ntr, &err) < 0)
		rc = msg_err(&err);
	/* The alerts of these transitions, and of earlier ones not yet
	 * delivered: up to 3 attempts now, the rest in later rounds. */
	alert_errors = json_array();
	if (alert_deliver(r->hist, pc, 3, &as, alert_errors, &err) < 0)
		rc = msg_err(&err);
	json_array_foreach(alert_errors, k, w)
		msg_warn("%s", json_string_value(w));
	json_decref(alert_errors);
	if (r->json) {
		json_t *doc = json_object(), *list = json_array(),
		       *inc = json_array();

		for (size_t i = 0; i < pc->n; i++)
			json_array_append_new(list, probe_result_json(&res[i]));
		for (size_t i = 0; i < ntr; i++)
			json_array_append_new(
				inc,
				json_pack("{s:s, s:I, s:s, s:s, s:s}", "key",
					  tr[i].key, "incident",
					  (json_int_t)tr[i].incident, "event",
					  tr[i].opened ? "opened" : "resolved",
					  "idempotency_key", tr[i].idempotency,
					  "reason", tr[i].reason));
		json_object_set_new(doc, "version", json_integer(1));
		json_object_set_new(doc, "up", json_integer((json_int_t)up));
		json_object_set_new(doc, "down",
				    json_integer((json_int_t)(pc->n - up)));
		json_object_set_new(doc, "results", list);
		json_object_set_new(doc, "incidents", inc);
		json_object_set_new(doc, "alerts",
				    json_pack("{s:I, s:I, s:I}", "sent",
					      (json_int_t)as.sent, "failed",
					      (json_int_t)as.failed, "given_up",
					      (json_int_t)as.given_up));
		cmd_print_json(doc);
		json_decref(doc);
	} else {
		for (size_t i = 0; i < pc->n; i++)
			print_result(&res[i], width);
		for (size_t i = 0; i < ntr; i++)
			printf("incident %lld %s: %s%s%s\n",
			       (long long)tr[i].incident,
			       tr[i].opened ? "opened" : "resolved", tr[i].key,
			       tr[i].reason[0] ? ": " : "", tr[i].reason);
		if (as.sent)
			printf("%zu alert%s sent\n", as.sent,
			       as.sent == 1 ? "" : "s");
		printf("%zu of %zu up\n", up, pc->n);
	}
	if (r->out) {
		int64_t now = units_now_ms();
		json_t *data = history_page_data(r->hist, pc, now, &err);

		if (!data || page_write(r->out, &r->info, data, now, &err) < 0)
			rc = msg_err(&err);
		else if (r->publish)
			publish(r);
		json_decref(data);
	}
	for (size_t i = 0; i < pc->n; i++)
		probe_result_release(&res[i]);
	free(res);
	free(tr);
	return fflush(stdout) ? SD_EXIT_CANNOT : rc;
}

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

/* --every: rounds at planned times (start + k * interval, plus up to a
 * tenth of the interval, at most 1s, of jitter), never drifting with how
 * long a round takes; a round that overruns skips the times it missed. On
 * SIGTERM or SIGINT the round under way finishes and the loop exits 0. */
static int run_every(struct run *r)
{
	struct sigaction sa = {0};
	int64_t start = progress_monotonic_ms(), k = 0, jitter_max;
	int rc = SD_EXIT_OK;

	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	jitter_max = r->every_ms / 10 < 1000 ? r->every_ms / 10 : 1000;
	while (!stop_signal) {
		int64_t planned, now;
		uint32_t rnd = 0;

		rc = round_once(r);
		if (rc == SD_EXIT_CANNOT && !r->hist)
			break;
		now = progress_monotonic_ms();
		do
			planned = start + ++k * r->every_ms;
		while (planned < now);
		if (jitter_max > 0 &&
		    getrandom(&rnd, sizeof(rnd), 0) == sizeof(rnd))
			planned += (int64_t)(rnd % (uint32_t)jitter_max);
		while (!stop_signal &&
		       (now = progress_monotonic_ms()) < planned) {
			struct timespec ts = {
				.tv_sec = (planned - now) / 1000,
				.tv_nsec = ((planned - now) % 1000) * 1000000,
			};

			nanosleep(&ts, NULL); /* EINTR on a signal */
		}
	}
	if (stop_signal)
		msg_warn("stopping on signal %d after the round",
			 (int)stop_signal);
	return stop_signal ? SD_EXIT_OK : rc;
}

static int open_history(struct run *r)
{
	struct sd_err err = {0};
	const char *configured = NULL;

	if (!r->db_path &&
	    config_get_string(&r->cfg, "probe.db", &configured, &err) < 0)
		return msg_err(&err);
	if (!r->db_path && configured)
		r->db_path = configured;
	if (!r->db_path) {
		char dir[4096];

		if (paths_state_dir(dir, sizeof(dir), &err) < 0 ||
		    fs_mkdirs(dir, 0700, &err) < 0)
			return msg_err(&err);
		snprintf(r->db_buf, sizeof(r->db_buf), "%s/probe.db", dir);
		r->db_path = r->db_buf;
	}
	if (history_open(&r->hist, r->db_path, 5000, &err) < 0)
		return msg_err(&err);
	return 0;
}

/* After the options: no operand is expected; release the parser. */
static int end_options(struct opt_parser *p, int argc, char **argv,
		       const char *cmd, int rc)
{
	if (!rc && opts_index(p) < argc)
		rc = msg_usage(cmd, "unexpected argument '%s'",
			       argv[opts_index(p)]);
	opts_release(p);
	return rc;
}

/* The configuration, the checks and the page's settings. */
static int load_all(struct run *r, struct cmd_ctx *ctx)
{
	int rc = cmd_load_config(ctx, &r->cfg);

	if (rc)
		return rc;
	rc = load_checks(r);
	return rc ? rc : load_page(r);
}

static void run_release(struct run *r)
{
	history_close(r->hist);
	json_decref(r->page_cfg);
	probe_config_release(&r->pc);
	config_release(&r->cfg);
}

static int parse_run_args(struct run *r, int argc, char **argv,
			  struct cmd_ctx *ctx)
{
	struct opt_parser p;
	const char *arg;
	int opt, rc = 0;

	if (opts_init(&p, argc, argv, run_opts, "safedeploy probe run", false) <
	    0)
		return SD_EXIT_CANNOT;
	while (!rc && (opt = opts_next(&p, &arg)) != -1) {
		switch (opt) {
		case OPT_HELP:
			run_usage();
			rc = -1;
			break;
		case OPT_ONCE:
			r->once = true;
			break;
		case OPT_EVERY:
			r->every_text = arg;
			break;
		case OPT_DB:
			r->db_path = arg;
			break;
		case OPT_OUT:
			r->out = arg;
			break;
		case OPT_PUBLISH:
			r->publish = arg;
			break;
		case OPT_CONFIG:
			r->file = arg;
			break;
		case OPT_JSON:
			r->json = true;
			break;
		default:
			if (cmd_common_option(ctx, "safedeploy probe run", opt,
					      arg))
				rc = SD_EXIT_USAGE;
		}
	}
	rc = end_options(&p, argc, argv, "safedeploy probe run", rc);
	if (rc)
		return rc;
	if (r->once == !!r->every_text)
		return msg_usage(
			"safedeploy probe run",
			r->once ? "give --once or --every, not both"
				: "missing --once or --every DURATION");
	if (r->every_text) {
		struct sd_err err = {0};

		if (units_parse_duration(r->every_text, &r->every_ms, &err) <
			    0 ||
		    r->every_ms < 1000)
			return msg_usage("safedeploy probe run", "--every: %s",
					 err.msg[0] ? err.msg : "at least 1s");
	}
	return 0;
}

static int cmd_probe_run(int argc, char **argv, struct cmd_ctx *ctx)
{
	struct run r = {0};
	int rc = parse_run_args(&r, argc, argv, ctx);

	if (rc)
		return rc < 0 ? SD_EXIT_OK : rc;
	/* --config before the command is a configuration file like any
	 * other; after it, the file of checks. */
	rc = load_all(&r, ctx);
	if (!rc) {
		int64_t smallest = r.pc.v[0].interval_ms;

		for (size_t i = 1; i < r.pc.n; i++)
			if (r.pc.v[i].interval_ms < smallest)
				smallest = r.pc.v[i].interval_ms;
		r.info.interval_s = (r.every_ms ? r.every_ms : smallest) / 1000;
		if (gethostname(r.host, sizeof(r.host) - 1) == 0)
			r.info.probe = r.host;
		rc = open_history(&r);
	}
	if (!rc)
		rc = r.once ? round_once(&r) : run_every(&r);
	run_release(&r);
	return rc;
}

static void indep_usage(void)
{
	printf("Usage: safedeploy probe independence [--config FILE] "
	       "[--dns-server IP[:PORT]] [--json]\n"
	       "\n"
	       "Check that the status page (page.url) and the probe share "
	       "nothing with what\n"
	       "they watch: addresses and networks, domains, hosting "
	       "provider (CNAME), name\n"
	       "servers, the probe's own addresses, and what the published "
	       "page loads.\n"
	       "PASS, WARN or FAIL for each; exit 1 on any FAIL.\n\nOptions:\n");
	opts_print_help(stdout, indep_opts);
}

static int cmd_probe_independence(int argc, char **argv, struct cmd_ctx *ctx)
{
	struct run r = {0};
	struct opt_parser p;
	struct sd_err err = {0};
	const char *arg, *server = NULL;
	json_t *findings = NULL, *f;
	size_t i, fails = 0, warns = 0;
	int opt, rc = 0;

	if (opts_init(&p, argc, argv, indep_opts,
		      "safedeploy probe independence", false) < 0)
		return SD_EXIT_CANNOT;
	while (!rc && (opt = opts_next(&p, &arg)) != -1) {
		switch (opt) {
		case OPT_HELP:
			indep_usage();
			rc = -1;
			break;
		case OPT_CONFIG:
			r.file = arg;
			break;
		case OPT_DNS_SERVER:
			server = arg;
			break;
		case OPT_JSON:
			r.json = true;
			break;
		default:
			if (cmd_common_option(ctx,
					      "safedeploy probe "
					      "independence",
					      opt, arg))
				rc = SD_EXIT_USAGE;
		}
	}
	rc = end_options(&p, argc, argv, "safedeploy probe independence", rc);
	if (rc)
		return rc < 0 ? SD_EXIT_OK : rc;
	if (server && dnsq_validate(server, "example.com", "A", &err) < 0)
		return msg_usage("safedeploy probe independence",
				 "--dns-server: %s", err.msg);
	rc = load_all(&r, ctx);
	if (!rc && !r.info.url) {
		msg_error("page.url is not set: the independence check needs "
			  "the address the status page is published at");
		rc = SD_EXIT_CANNOT;
	}
	if (!rc &&
	    indep_run(&r.pc, r.info.url, server, 5000, &findings, &err) < 0)
		rc = msg_err(&err);
	json_array_foreach(findings, i, f)
	{
		const char *v =
			json_string_value(json_object_get(f, "verdict"));

		fails += !strcmp(v, "FAIL");
		warns += !strcmp(v, "WARN");
		if (r.json)
			continue;
		printf("%s%-4s%s  %-11s  %s\n",
		       color_code(STDOUT_FILENO, !strcmp(v, "FAIL") ? COLOR_RED
						 : !strcmp(v, "WARN")
							 ? COLOR_YELLOW
							 : COLOR_GREEN),
		       v, color_code(STDOUT_FILENO, COLOR_RESET),
		       json_string_value(json_object_get(f, "check")),
		       json_string_value(json_object_get(f, "message")));
	}
	if (findings && r.json) {
		json_t *doc = json_pack(
			"{s:i, s:s, s:I, s:I, s:O}", "version", 1, "page",
			r.info.url, "fail", (json_int_t)fails, "warn",
			(json_int_t)warns, "findings", findings);

		cmd_print_json(doc);
		json_decref(doc);
	} else if (findings) {
		printf("%zu FAIL, %zu WARN\n", fails, warns);
	}
	if (!rc && fails)
		rc = SD_EXIT_FAIL;
	json_decref(findings);
	run_release(&r);
	return rc;
}

static void merge_usage(void)
{
	printf("Usage: safedeploy probe merge SUMMARY.json... [--quorum N] "
	       "[--out DIR] [--json]\n"
	       "\n"
	       "One page from the summary.json of probes run in several "
	       "places: a component is\n"
	       "down only when at least N fresh locations say so. A stale or "
	       "unreadable summary\n"
	       "does not vote. Exit 1 when a component is down, 4 when too "
	       "few locations are\n"
	       "fresh to reach the quorum.\n\nOptions:\n");
	opts_print_help(stdout, merge_opts);
}

/* The data page_html wants, from a merged summary: each component's name
 * and the uptime its first voting location reported. */
static json_t *merged_data(json_t *merged, const struct merge_input *in,
			   size_t n)
{
	json_t *comps = json_array(), *c;
	size_t i;

	json_array_foreach(json_object_get(merged, "components"), i, c)
	{
		const char *id = json_string_value(json_object_get(c, "id"));
		json_t *up = NULL;

		for (size_t l = 0; l < n && !up; l++)
			up = json_object_get(
				json_object_get(
					json_object_get(
						json_object_get(in[l].summary,
								"x_safedeploy"),
						"components"),
					id),
				"uptime");
		json_array_append_new(
			comps,
			json_pack("{s:s, s:O, s:n, s:O}", "key", id, "name",
				  json_object_get(c, "name"), "group", "uptime",
				  up ? up : json_object()));
	}
	return json_pack("{s:o, s:[]}", "components", comps, "incidents");
}

static int cmd_probe_merge(int argc, char **argv, struct cmd_ctx *ctx)
{
	struct opt_parser p;
	struct sd_err err = {0};
	const char *arg, *out = NULL, *quorum_text = NULL;
	struct merge_input *in = NULL;
	json_t *notes = json_array(), *merged = NULL, *c, *w;
	size_t n = 0, voting = 0, i, down = 0;
	int opt, rc = 0, quorum = 0, first;
	bool json = false;

	if (opts_init(&p, argc, argv, merge_opts, "safedeploy probe merge",
		      false) < 0)
		return SD_EXIT_CANNOT;
	while (!rc && (opt = opts_next(&p, &arg)) != -1) {
		switch (opt) {
		case OPT_HELP:
			merge_usage();
			rc = -1;
			break;
		case OPT_QUORUM:
			quorum_text = arg;
			break;
		case OPT_OUT:
			out = arg;
			break;
		case OPT_JSON:
			json = true;
			break;
		default:
			if (cmd_common_option(ctx, "safedeploy probe merge",
					      opt, arg))
				rc = SD_EXIT_USAGE;
		}
	}
	first = opts_index(&p);
	opts_release(&p);
	if (rc) {
		json_decref(notes);
		return rc < 0 ? SD_EXIT_OK : rc;
	}
	n = (size_t)(argc - first);
	if (n == 0) {
		json_decref(notes);
		return msg_usage("safedeploy probe merge",
				 "missing SUMMARY.json (one per location)");
	}
	quorum = (int)(n / 2 + 1);
	if (quorum_text) {
		char *end;
		long q = strtol(quorum_text, &end, 10);

		if (end == quorum_text || *end || q < 1 || (size_t)q > n) {
			json_decref(notes);
			return msg_usage("safedeploy probe merge",
					 "--quorum must be a number from 1 to "
					 "%zu (the locations given)",
					 n);
		}
		quorum = (int)q;
	}
	/* The configuration, for its colour and its warnings. */
	{
		struct config cfg;

		rc = cmd_load_config(ctx, &cfg);
		config_release(&cfg);
		if (rc) {
			json_decref(notes);
			return rc;
		}
	}
	in = calloc(n, sizeof(*in));
	for (size_t l = 0; in && l < n; l++) {
		json_error_t je;

		in[l].name = argv[first + (int)l];
		in[l].summary = json_load_file(in[l].name, 0, &je);
		if (!in[l].summary)
			msg_warn("%s:%d: %s", in[l].name, je.line, je.text);
	}
	if (!in) {
		json_decref(notes);
		return SD_EXIT_CANNOT;
	}
	merged = merge_summaries(in, n, quorum, units_now_ms(), &voting, notes);
	json_array_foreach(notes, i, w) msg_warn("%s", json_string_value(w));
	json_array_foreach(json_object_get(merged, "components"), i, c) down +=
		strcmp(json_string_value(json_object_get(c, "status")),
		       "operational") != 0;
	if (out) {
		json_t *data = merged_data(merged, in, n);
		json_t *page = json_object_get(merged, "page");
		struct page_info info = {
			.id = json_string_value(json_object_get(page, "id")),
			.name = json_string_value(
				json_object_get(page, "name")),
			.url = json_string_value(json_object_get(page, "url")),
			.interval_s = json_integer_value(json_object_get(
				json_object_get(merged, "x_safedeploy"),
				"interval_seconds")),
		};

		if (page_write_files(out, &info, merged, data, NULL, &err) < 0)
			rc = msg_err(&err);
		json_decref(data);
	}
	if (json) {
		json_object_set_new(merged, "version", json_integer(1));
		cmd_print_json(merged);
	} else {
		json_array_foreach(json_object_get(merged, "components"), i, c)
		{
			const char *id =
				json_string_value(json_object_get(c, "id"));
			json_t *x = json_object_get(
				json_object_get(
					json_object_get(merged, "x_safedeploy"),
					"components"),
				id);

			printf("%-20s %-22s %lld of %zu locations say it is "
			       "down\n",
			       id,
			       json_string_value(json_object_get(c, "status")),
			       (long long)json_integer_value(
				       json_object_get(x, "down")),
			       voting);
		}
		printf("%zu of %zu locations voting, quorum %d\n", voting, n,
		       quorum);
	}
	if (!rc && voting < (size_t)quorum) {
		msg_error("only %zu of %zu locations are fresh: the quorum of "
			  "%d cannot be reached",
			  voting, n, quorum);
		rc = SD_EXIT_CANNOT;
	} else if (!rc && down) {
		rc = SD_EXIT_FAIL;
	}
	for (size_t l = 0; l < n; l++)
		json_decref(in[l].summary);
	free(in);
	json_decref(merged);
	json_decref(notes);
	return rc;
}

int cmd_probe(int argc, char **argv, struct cmd_ctx *ctx)
{
	if (argc < 2)
		return msg_usage(
			"safedeploy probe",
			"missing command (run, independence or merge)");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		probe_usage(stdout);
		return SD_EXIT_OK;
	}
	if (!strcmp(argv[1], "run"))
		return cmd_probe_run(argc - 1, argv + 1, ctx);
	if (!strcmp(argv[1], "independence"))
		return cmd_probe_independence(argc - 1, argv + 1, ctx);
	if (!strcmp(argv[1], "merge"))
		return cmd_probe_merge(argc - 1, argv + 1, ctx);
	return msg_usage("safedeploy probe",
			 "unknown probe command '%s' (use run, independence "
			 "or merge)",
			 argv[1]);
}
