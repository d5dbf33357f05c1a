/* Fuzz target: config_load_file (lib/config.c) with the input as a YAML
 * file and then as a JSON file, merged into one configuration, then every
 * key of the table read through its typed getter. */
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"

#define FUZZ_MAX_LEN 65536

static void read_keys(const struct config *cfg)
{
	for (const struct config_key *k = config_keys; k->path; k++) {
		struct sd_err err = {0};
		const char *s;
		bool b;
		int64_t ms;
		uint64_t bytes;

		config_get(cfg, k->path);
		config_origin(cfg, k->path);
		switch (k->type) {
		case CFG_STRING:
		case CFG_ENUM:
			config_get_string(cfg, k->path, &s, &err);
			break;
		case CFG_BOOL:
			config_get_bool(cfg, k->path, &b, &err);
			break;
		case CFG_DURATION:
			config_get_duration(cfg, k->path, &ms, &err);
			break;
		case CFG_SIZE:
			config_get_size(cfg, k->path, &bytes, &err);
			break;
		default:
			break;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	struct sd_err err = {0};
	char json[4200];
	const char *yml = fuzz_file("config.yml", data, size);

	/* config_load_file picks the parser by the name's ending. */
	snprintf(json, sizeof(json), "%s", yml);
	snprintf(json + strlen(json) - 4, 6, ".json");
	unlink(json);
	if (symlink(yml, json) < 0)
		abort();
	config_init(&cfg);
	if (config_load_file(&cfg, yml, &err) < 0 && !err.msg[0])
		abort();
	err.msg[0] = '\0';
	if (config_load_file(&cfg, json, &err) < 0 && !err.msg[0])
		abort();
	if (!json_is_object(cfg.root))
		abort();
	read_keys(&cfg);
	config_release(&cfg);
	return 0;
}
