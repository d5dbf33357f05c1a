/* safedeploy probe merge: the pages of probes run in several places (say a
 * CI schedule on one provider and a cron job on another) as one page, on
 * which a component is down only when a quorum of locations says so: one
 * probe's network trouble does not take the page red. A location whose
 * summary is stale (its page.updated_at older than its own
 * x_safedeploy.stale_after_seconds) or unreadable does not vote, and is
 * named. */
#ifndef SD_MERGE_H
#define SD_MERGE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"

struct merge_input {
	const char *name; /* for messages: the file, or the probe's host */
	json_t *summary;  /* a Statuspage v2 summary.json; NULL if unreadable */
};

/* The merged summary (Statuspage v2, with x_safedeploy.locations and each
 * component's votes) as of now_ms; *voting gets how many locations were
 * fresh. notes (an array) gets one string per location that did not vote.
 * A component is down (the status most of its "down" voters gave) when at
 * least quorum fresh locations report it not operational; with fewer
 * fresh locations than quorum, every component is partial_outage
 * (unknown). */
json_t *merge_summaries(const struct merge_input *in, size_t n, int quorum,
			int64_t now_ms, size_t *voting, json_t *notes);

#endif
