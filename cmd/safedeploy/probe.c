/* safedeploy probe: status-page checks run from somewhere else than what
 * they watch (DESIGN.md §4). `probe run --once` runs every check once, at
 * once, and says which are down. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "color.h"
#include "fsutil.h"
#include "msg.h"
#include "opts.h"
#include "probe.h"

enum {
	OPT_ONCE = OPT_FIRST_OWN,
};

static const struct opt_spec run_opts[] = {
	{OPT_ONCE, "once", 0, OPT_NONE, NULL,
	 "run every check once, then exit (1 if any is down)"},
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
		"Usage: safedeploy probe run --once [--config FILE] [--json]\n"
		"\n"
		"Status-page checks (HTTP(S), TCP, TLS and DNS) in Gatus's "
		"grammar, run from\n"
		"somewhere else than what they watch.\n"
		"\n"
		"Commands:\n"
		"  run        run the checks\n"
		"\n"
		"Run 'safedeploy probe run --help' for its options.\n"
		"\n"
		"Exit status: 0 every check is up, 1 a check is down, 2 "
		"usage error,\n"
		"4 could not check (bad configuration).\n");
}

static void run_usage(void)
{
	printf("Usage: safedeploy probe run --once [--config FILE] [--json]\n"
	       "\n"
	       "Run every check once, all at once: fresh connections, no DNS "
	       "cache; a check is\n"
	       "up when all its conditions hold. The checks come from --config "
	       "FILE (a Gatus\n"
	       "file's endpoints:, or probe.endpoints:), else from probe.endpoints "
	       "in the\n"
	       "configuration files.\n\nOptions:\n");
	opts_print_help(stdout, run_opts);
}

/* The checks: FILE when given (Gatus's endpoints:, or probe.endpoints:),
 * else probe.endpoints of the merged configuration. */
static int load_checks(struct config *cfg, const char *file,
		       struct probe_config *pc)
{
	struct sd_err err = {0};
	json_t *root = NULL, *origins = json_object();
	char *text = NULL;
	size_t len, i;
	const char *prefix = "probe.endpoints", *k;
	json_t *w, *v;
	int rc = 0;

	if (!file) {
		if (probe_config_load(pc, cfg->root, prefix, cfg->origins,
				      &err) < 0)
			rc = msg_err(&err);
		goto warn;
	}
	if (fs_read_file(file, 16u << 20, &text, &len, &err) < 0 ||
	    yaml_to_json(text, len, file, "", &root, origins, &err) < 0) {
		rc = msg_err(&err);
		goto out;
	}
	if (json_is_object(root) && json_object_get(root, "endpoints")) {
		/* A Gatus file: what else it configures is not ours. */
		prefix = "endpoints";
		json_object_foreach(root, k, v)
		{
			const char *at =
				json_string_value(json_object_get(origins, k));

			(void)v;
			if (strcmp(k, "endpoints"))
				msg_warn("%s%s'%s' is not supported; ignored",
					 at ? at : "", at ? ": " : "", k);
		}
	}
	if (probe_config_load(pc, root, prefix, origins, &err) < 0)
		rc = msg_err(&err);
warn:
	json_array_foreach(pc->warnings, i, w)
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

static int run_once(struct probe_config *pc, bool json)
{
	struct probe_result *res = calloc(pc->n, sizeof(*res));
	struct sd_err err = {0};
	size_t up = 0, width = 4;
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
	if (json) {
		json_t *doc = json_object(), *list = json_array();

		for (size_t i = 0; i < pc->n; i++)
			json_array_append_new(list, probe_result_json(&res[i]));
		json_object_set_new(doc, "version", json_integer(1));
		json_object_set_new(doc, "up", json_integer((json_int_t)up));
		json_object_set_new(doc, "down",
				    json_integer((json_int_t)(pc->n - up)));
		json_object_set_new(doc, "results", list);
		cmd_print_json(doc);
		json_decref(doc);
	} else {
		for (size_t i = 0; i < pc->n; i++)
			print_result(&res[i], width);
		printf("%zu of %zu up\n", up, pc->n);
	}
	rc = up == pc->n ? SD_EXIT_OK : SD_EXIT_FAIL;
	for (size_t i = 0; i < pc->n; i++)
		probe_result_release(&res[i]);
	free(res);
	return fflush(stdout) ? SD_EXIT_CANNOT : rc;
}

static int cmd_probe_run(int argc, char **argv, struct cmd_ctx *ctx)
{
	struct opt_parser p;
	const char *arg, *file = NULL;
	bool once = false, json = false;
	struct config cfg;
	struct probe_config pc = {0};
	int opt, rc;

	if (opts_init(&p, argc, argv, run_opts, "safedeploy probe run", false) <
	    0)
		return SD_EXIT_CANNOT;
	while ((opt = opts_next(&p, &arg)) != -1) {
		switch (opt) {
		case OPT_HELP:
			opts_release(&p);
			run_usage();
			return SD_EXIT_OK;
		case OPT_ONCE:
			once = true;
			break;
		case OPT_CONFIG:
			file = arg;
			break;
		case OPT_JSON:
			json = true;
			break;
		default:
			if (cmd_common_option(ctx, "safedeploy probe run", opt,
					      arg)) {
				opts_release(&p);
				return SD_EXIT_USAGE;
			}
		}
	}
	if (opts_index(&p) < argc) {
		rc = msg_usage("safedeploy probe run",
			       "unexpected argument '%s'",
			       argv[opts_index(&p)]);
		opts_release(&p);
		return rc;
	}
	opts_release(&p);
	if (!once)
		return msg_usage("safedeploy probe run", "missing --once");
	/* --config before the command is a configuration file like any
	 * other; after it, the file of checks. */
	rc = cmd_load_config(ctx, &cfg);
	if (rc)
		return rc;
	rc = load_checks(&cfg, file, &pc);
	if (!rc)
		rc = run_once(&pc, json);
	probe_config_release(&pc);
	config_release(&cfg);
	return rc;
}

int cmd_probe(int argc, char **argv, struct cmd_ctx *ctx)
{
	if (argc < 2)
		return msg_usage("safedeploy probe", "missing command (run)");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		probe_usage(stdout);
		return SD_EXIT_OK;
	}
	if (!strcmp(argv[1], "run"))
		return cmd_probe_run(argc - 1, argv + 1, ctx);
	return msg_usage("safedeploy probe",
			 "unknown probe command '%s' (use run)", argv[1]);
}
