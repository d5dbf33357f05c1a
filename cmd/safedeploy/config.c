/* safedeploy config: the merged configuration, where each value came from,
 * and the keys the suite knows. Exits 4 when a file is invalid, so it is
 * also the way to check a configuration. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "msg.h"
#include "opts.h"

enum {
	OPT_ORIGIN = OPT_FIRST_OWN,
	OPT_KEYS,
};

static const struct opt_spec config_opts[] = {
	{OPT_ORIGIN, "origin", 0, OPT_NONE, NULL,
	 "show the file, line and column each value came from"},
	{OPT_KEYS, "keys", 0, OPT_NONE, NULL, "list every key the suite knows"},
	OPTS_JSON,
	OPTS_CONFIG,
	OPTS_COLOR,
	OPTS_HELP,
	{0},
};

static const char *const type_names[] = {
	[CFG_SECTION] = "section",   [CFG_STRING] = "string",
	[CFG_BOOL] = "boolean",	     [CFG_INT] = "integer",
	[CFG_DURATION] = "duration", [CFG_SIZE] = "size",
	[CFG_STRINGS] = "strings",   [CFG_ENUM] = "enum",
	[CFG_LIST] = "list",	     [CFG_ANY] = "any",
};

static void usage(void)
{
	printf("Usage: safedeploy config [--origin] [--json] [--config FILE]\n"
	       "       safedeploy config --keys\n"
	       "\n"
	       "Print the configuration as merged from, in order (later "
	       "wins):\n"
	       "  /etc/safedeploy/config.yml, "
	       "$XDG_CONFIG_HOME/safedeploy/config.yml,\n"
	       "  .safedeploy.yml at the repository root, and --config "
	       "FILE.\n"
	       "One line per value: key=value, the value as JSON. Exits 4 "
	       "when a file is\n"
	       "invalid, naming the file, line, column and key.\n"
	       "\n"
	       "Options:\n");
	opts_print_help(stdout, config_opts);
}

static void print_flat(const struct config *cfg, json_t *v, char *path,
		       size_t len, size_t cap, bool origin)
{
	const char *key;
	json_t *child;

	if (json_is_object(v)) {
		json_object_foreach(v, key, child)
		{
			size_t n =
				(size_t)snprintf(path + len, cap - len, "%s%s",
						 len ? "." : "", key);

			if (len + n < cap)
				print_flat(cfg, child, path, len + n, cap,
					   origin);
			path[len] = '\0';
		}
		return;
	}
	char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY |
					   JSON_PRESERVE_ORDER);
	const char *from = config_origin(cfg, path);

	if (origin && from)
		printf("%s=%s\t# %s\n", path, text ? text : "", from);
	else
		printf("%s=%s\n", path, text ? text : "");
	free(text);
}

static int list_keys(bool json)
{
	json_t *doc = json_object(), *keys = json_array();

	int w = 0;

	for (const struct config_key *k = config_keys; k->path; k++)
		if (k->type != CFG_SECTION && (int)strlen(k->path) > w)
			w = (int)strlen(k->path);
	for (const struct config_key *k = config_keys; k->path; k++) {
		if (json) {
			json_t *row =
				json_pack("{s:s, s:s, s:s}", "key", k->path,
					  "type", type_names[k->type], "help",
					  k->help ? k->help : "");

			if (k->choices)
				json_object_set_new(row, "choices",
						    json_string(k->choices));
			json_array_append_new(keys, row);
		} else if (k->type != CFG_SECTION) {
			printf("%-*s %-9s %s%s%s%s\n", w, k->path,
			       type_names[k->type], k->help ? k->help : "",
			       k->choices ? " (" : "",
			       k->choices ? k->choices : "",
			       k->choices ? ")" : "");
		}
	}
	if (json) {
		json_object_set_new(doc, "version", json_integer(1));
		json_object_set_new(doc, "keys", keys);
		cmd_print_json(doc);
	} else {
		json_decref(keys);
	}
	json_decref(doc);
	return SD_EXIT_OK;
}

int cmd_config(int argc, char **argv, struct cmd_ctx *ctx)
{
	bool origin = false, keys = false, json = false;
	struct opt_parser p;
	struct config cfg;
	const char *arg;
	char path[1024] = "";
	int opt, rc;

	if (opts_init(&p, argc, argv, config_opts, "safedeploy config", false) <
	    0)
		return SD_EXIT_CANNOT;
	while ((opt = opts_next(&p, &arg)) != -1) {
		switch (opt) {
		case OPT_HELP:
			opts_release(&p);
			usage();
			return SD_EXIT_OK;
		case OPT_ORIGIN:
			origin = true;
			break;
		case OPT_KEYS:
			keys = true;
			break;
		case OPT_JSON:
			json = true;
			break;
		default:
			if (cmd_common_option(ctx, "safedeploy config", opt,
					      arg)) {
				opts_release(&p);
				return SD_EXIT_USAGE;
			}
		}
	}
	if (opts_index(&p) < argc) {
		rc = msg_usage("safedeploy config", "unexpected argument '%s'",
			       argv[opts_index(&p)]);
		opts_release(&p);
		return rc;
	}
	opts_release(&p);
	if (keys)
		return list_keys(json);
	rc = cmd_load_config(ctx, &cfg);
	if (rc) {
		if (json) {
			json_t *doc = json_pack("{s:i, s:b}", "version", 1,
						"valid", 0);

			cmd_print_json(doc);
			json_decref(doc);
		}
		return rc;
	}
	if (json) {
		json_t *doc = json_pack(
			"{s:i, s:b, s:O, s:O, s:O, s:O}", "version", 1, "valid",
			1, "files", cfg.files, "config", cfg.root, "origins",
			cfg.origins, "warnings", cfg.warnings);

		cmd_print_json(doc);
		json_decref(doc);
	} else {
		print_flat(&cfg, cfg.root, path, 0, sizeof(path), origin);
	}
	config_release(&cfg);
	return SD_EXIT_OK;
}
