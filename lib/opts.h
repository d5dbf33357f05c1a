/* Option parsing for every command: one table per command gives getopt_long
 * its options and --help its text, so the two cannot drift apart. */
#ifndef SD_OPTS_H
#define SD_OPTS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

enum opt_arg { OPT_NONE, OPT_REQUIRED, OPT_OPTIONAL };

struct opt_spec {
	int id;		       /* what opts_next returns; > 0 */
	const char *long_name; /* without "--" */
	char short_name;       /* 0 for none */
	enum opt_arg arg;
	const char *argname; /* "FILE", shown in help */
	const char *help;    /* one line */
};

/* Options every safedeploy subcommand takes. */
enum {
	OPT_HELP = 1000,
	OPT_VERSION,
	OPT_CONFIG,
	OPT_COLOR,
	OPT_JSON,
	OPT_FIRST_OWN, /* commands number their own options from here */
};

#define OPTS_HELP                                                              \
	{                                                                      \
		OPT_HELP, "help", 'h', OPT_NONE, NULL,                         \
			"show this help and exit"                              \
	}
#define OPTS_CONFIG                                                            \
	{                                                                      \
		OPT_CONFIG, "config", 0, OPT_REQUIRED, "FILE",                 \
			"read this configuration file last"                    \
	}
#define OPTS_COLOR                                                             \
	{                                                                      \
		OPT_COLOR, "color", 0, OPT_OPTIONAL, "WHEN",                   \
			"colour: auto, always or never (default auto)"         \
	}
#define OPTS_JSON                                                              \
	{                                                                      \
		OPT_JSON, "json", 0, OPT_NONE, NULL,                           \
			"print one JSON document on standard output"           \
	}

struct opt_parser {
	int argc;
	char **argv;
	const struct opt_spec *specs;
	const char *cmd; /* for messages: "safedeploy token issue" */
	struct option *longopts;
	char shortopts[128];
	bool started;
};

/* specs ends with an entry whose id is 0. With stop_at_operand, parsing
 * stops at the first operand (for dispatchers); otherwise options and
 * operands may be mixed, and "--" ends the options. */
int opts_init(struct opt_parser *p, int argc, char **argv,
	      const struct opt_spec *specs, const char *cmd,
	      bool stop_at_operand);
/* The next option's id (its argument in *arg), -1 at the end (operands
 * start at opts_index), or -2 after printing a usage error. */
int opts_next(struct opt_parser *p, const char **arg);
int opts_index(const struct opt_parser *p);
void opts_release(struct opt_parser *p);

/* The option list for --help, aligned. */
void opts_print_help(FILE *out, const struct opt_spec *specs);

#endif
