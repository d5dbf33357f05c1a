/* safedeploy: the multi-command binary. Parses the global options and
 * dispatches through the table of subcommands, one file each. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "color.h"
#include "msg.h"
#include "opts.h"
#include "units.h"
#include "version.h"

static const struct cmd_entry commands[] = {
	{"token", cmd_token,
	 "issue, check and redeem confirmation tokens bound to a plan"},
	{"verify", cmd_verify,
	 "ask every pod what it runs; fail on any version or commit skew"},
	{"probe", cmd_probe,
	 "status-page checks from outside; exit 1 when one is down"},
	{"flags", cmd_flags,
	 "dead, undefined, stale and resurrected feature flags (git history)"},
	{"hook", cmd_hook,
	 "install and run the git hooks (pre-commit, pre-push)"},
	{"config", cmd_config,
	 "show the merged configuration and where each value came from"},
	{NULL},
};

static const struct opt_spec global_opts[] = {
	OPTS_HELP,
	{OPT_VERSION, "version", 0, OPT_NONE, NULL,
	 "print the version and exit"},
	OPTS_CONFIG,
	OPTS_COLOR,
	{0},
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: safedeploy [OPTIONS] COMMAND [ARGS]...\n"
		"\n"
		"Stop the classic production accidents before they happen.\n"
		"\n"
		"Commands:\n");
	for (const struct cmd_entry *c = commands; c->name; c++)
		fprintf(out, "  %-10s %s\n", c->name, c->summary);
	fprintf(out, "  %-10s %s\n", "help", "show the help of a command");
	fprintf(out, "\nOptions:\n");
	opts_print_help(out, global_opts);
	fprintf(out,
		"\n"
		"Run 'safedeploy help COMMAND' for the options of a command.\n"
		"\n"
		"Exit status: 0 ok, 1 a check failed, 2 usage error, 3 "
		"confirmation required\nor token refused, 4 could not check.\n");
}

static const struct cmd_entry *find_command(const char *name)
{
	for (const struct cmd_entry *c = commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

static int unknown_command(const char *name)
{
	return msg_usage("safedeploy", "unknown command '%s'", name);
}

static int help_command(int argc, char **argv, struct cmd_ctx *ctx)
{
	const struct cmd_entry *c;
	char *help_argv[4];
	int n = 0;

	if (argc < 2) {
		usage(stdout);
		return SD_EXIT_OK;
	}
	c = find_command(argv[1]);
	if (!c)
		return unknown_command(argv[1]);
	/* "help token issue" is "token issue --help". */
	help_argv[n++] = argv[1];
	if (argc > 2)
		help_argv[n++] = argv[2];
	help_argv[n++] = "--help";
	help_argv[n] = NULL;
	return c->run(n, help_argv, ctx);
}

int main(int argc, char **argv)
{
	struct cmd_ctx ctx = {0};
	struct opt_parser p;
	const struct cmd_entry *c;
	const char *arg;
	int opt;

	msg_init("safedeploy");
	ctx.argv = argv;
	ctx.argc = argc;
	if (opts_init(&p, argc, argv, global_opts, "safedeploy", true) < 0)
		return SD_EXIT_CANNOT;
	while ((opt = opts_next(&p, &arg)) != -1) {
		switch (opt) {
		case OPT_HELP:
			opts_release(&p);
			usage(stdout);
			return SD_EXIT_OK;
		case OPT_VERSION:
			opts_release(&p);
			printf("safedeploy %s\n", SD_VERSION);
			return SD_EXIT_OK;
		default:
			if (cmd_common_option(&ctx, "safedeploy", opt, arg)) {
				opts_release(&p);
				return SD_EXIT_USAGE;
			}
		}
	}
	argc -= opts_index(&p);
	argv += opts_index(&p);
	opts_release(&p);
	if (argc < 1)
		return msg_usage("safedeploy", "missing command");
	if (!strcmp(argv[0], "help"))
		return help_command(argc, argv, &ctx);
	c = find_command(argv[0]);
	if (!c)
		return unknown_command(argv[0]);
	return c->run(argc, argv, &ctx);
}

int cmd_set_color(const char *cmd, const char *when)
{
	enum color_mode mode;

	if (color_parse(when, &mode) < 0)
		return msg_usage(cmd,
				 "invalid --color value '%s' (use auto, "
				 "always or never)",
				 when);
	color_set_mode(mode);
	return 0;
}

int cmd_common_option(struct cmd_ctx *ctx, const char *cmd, int opt,
		      const char *arg)
{
	switch (opt) {
	case OPT_CONFIG:
		ctx->config_file = arg;
		return 0;
	case OPT_COLOR:
		ctx->color = arg ? arg : "always";
		return cmd_set_color(cmd, ctx->color);
	default:
		return -1;
	}
}

int cmd_load_config(struct cmd_ctx *ctx, struct config *cfg)
{
	struct sd_err err = {0};
	size_t i;
	json_t *w;
	const char *color;

	config_init(cfg);
	if (config_load(cfg, ctx->config_file, &err) < 0) {
		config_release(cfg); /* releasing again is harmless */
		return msg_err(&err);
	}
	/* The flag wins over the file. */
	if (!ctx->color && config_get_string(cfg, "color", &color, &err) > 0) {
		enum color_mode mode;

		if (color_parse(color, &mode) == 0)
			color_set_mode(mode);
	}
	json_array_foreach(cfg->warnings, i, w)
		msg_warn("%s", json_string_value(w));
	return 0;
}

int cmd_print_json(json_t *doc)
{
	int r = json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	fputc('\n', stdout);
	return r < 0 || fflush(stdout) != 0 ? -1 : 0;
}

const char *cmd_format_utc(int64_t t, char *buf, size_t n)
{
	return units_format_utc(t * 1000, buf, n);
}
