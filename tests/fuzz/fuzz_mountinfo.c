/* Fuzz target: mounts_parse (lib/mounts.c), the mount table saferm reads to
 * find mount points and the trash of each filesystem; in a container or
 * under a hostile FUSE mount its text is not ours to trust. */
#include <stdlib.h>

#include "fuzz.h"
#include "mounts.h"

#define FUZZ_MAX_LEN 16384

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sd_err err = {0};
	struct mount_table t = {0};
	int rc = mounts_parse(&t, (const char *)data, size, "fuzz", &err);

	if (rc < 0 && !err.msg[0])
		abort();
	for (size_t i = 0; rc == 0 && i < t.n; i++) {
		/* Every entry is whole and findable by its ID. */
		if (!t.v[i].point || !t.v[i].fstype || !t.v[i].source ||
		    !t.v[i].root || !mounts_by_id(&t, t.v[i].id))
			abort();
	}
	mounts_release(&t);
	return 0;
}
