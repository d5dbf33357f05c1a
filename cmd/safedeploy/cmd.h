/* The safedeploy subcommands. Adding one: a file cmd/safedeploy/NAME.c with
 * cmd_NAME, a row in the table in main.c, a section in safedeploy.1 and
 * README, its options in completions/, and tests/NAME.bats. */
#ifndef SD_CMD_H
#define SD_CMD_H

#include "config.h"
#include "err.h"

struct cmd_ctx {
	const char *config_file; /* --config given before the subcommand */
	const char *color;	 /* --color given before the subcommand */
	char **argv;		 /* the whole command line, as typed */
	int argc;
};

struct cmd_entry {
	const char *name;
	int (*run)(int argc, char **argv, struct cmd_ctx *ctx);
	const char *summary;
};

int cmd_token(int argc, char **argv, struct cmd_ctx *ctx);
int cmd_config(int argc, char **argv, struct cmd_ctx *ctx);
int cmd_verify(int argc, char **argv, struct cmd_ctx *ctx);
int cmd_probe(int argc, char **argv, struct cmd_ctx *ctx);
int cmd_flags(int argc, char **argv, struct cmd_ctx *ctx);
int cmd_hook(int argc, char **argv, struct cmd_ctx *ctx);

/* Load the configuration (ctx->config_file last), print its warnings, and
 * apply the settings every command shares (colour). Returns 0, or the exit
 * status after printing the error. */
int cmd_load_config(struct cmd_ctx *ctx, struct config *cfg);

/* Handle --color[=WHEN]: 0, or SD_EXIT_USAGE after printing the error. */
int cmd_set_color(const char *cmd, const char *when);

/* The options every subcommand takes the same way (--config, --color):
 * 0 when handled, SD_EXIT_USAGE on a bad value, -1 when opt is not one. */
int cmd_common_option(struct cmd_ctx *ctx, const char *cmd, int opt,
		      const char *arg);

/* A JSON document on stdout, with the "version" of its format first. */
int cmd_print_json(json_t *doc);

/* RFC 3339 UTC time, "2026-11-21T16:05:03Z". */
const char *cmd_format_utc(int64_t t, char *buf, size_t n);

#endif
