/* The probe's history in SQLite (one file): raw results kept for a bounded
 * window, hourly rollups for the uptime figures and the daily bars,
 * each endpoint's run of failures or successes, and incidents opened after
 * N failures in a row and resolved after M successes. Every round is one
 * transaction, so a probe killed in the middle leaves the history as it
 * was before the round; each incident transition is recorded once, with an
 * idempotency key, in the same transaction. */
#ifndef SD_HISTORY_H
#define SD_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "probe.h"

#define HISTORY_RAW_DAYS    7  /* raw results kept */
#define HISTORY_ROLLUP_DAYS 90 /* hourly rollups kept (the daily bars) */

struct history;

/* Open (creating it, 0600) the database at path; a locked database waits at
 * most busy_ms, a corrupt or foreign file is an error that names it. */
int history_open(struct history **h, const char *path, int busy_ms,
		 struct sd_err *err);
void history_close(struct history *h);

/* An incident opened or resolved by a round. */
struct history_transition {
	char key[256];	      /* the endpoint's key */
	int64_t incident;     /* the incident's id */
	bool opened;	      /* false: resolved */
	int64_t at_ms;	      /* when */
	char idempotency[96]; /* "<db id>-incident-<id>-opened" */
	char reason[512];     /* the failure that opened it */
};

/* Record one round (results of pc->n checks) and move the incidents; the
 * transitions made are appended to *tr (malloc'd, *ntr of them). */
int history_record(struct history *h, const struct probe_config *pc,
		   const struct probe_result *r, struct history_transition **tr,
		   size_t *ntr, struct sd_err *err);

/* Transitions whose alerts are not all delivered (or given up), oldest
 * first, at most 1000. */
int history_pending(struct history *h, struct history_transition **v, size_t *n,
		    struct sd_err *err);
/* The state of one delivery (an alert of a transition): attempts made,
 * whether one succeeded, when the next may be made. */
int history_delivery_get(struct history *h, const char *id, int *attempts,
			 bool *sent, int64_t *next_ms);
/* Record an attempt of delivery id (of transition). */
int history_delivery_put(struct history *h, const char *id,
			 const char *transition, bool sent, const char *error,
			 int64_t now_ms, int64_t next_ms, struct sd_err *err);
/* Every alert of the transition is delivered or given up. */
int history_transition_done(struct history *h, const char *idempotency,
			    int64_t now_ms, struct sd_err *err);

/* What the page shows, for every endpoint of pc, as of now_ms:
 *   {"components": [{"key", "name", "group", "state": "up|down|unknown",
 *     "failures": N (in a row), "since_ms", "last": {result}, "uptime":
 *     {"24h", "7d", "30d"} (ratios or null), "days": {"first": date,
 *     "checks": [90 counts], "up": [90 counts]} (oldest first), "recent":
 *     {"at_ms": [...], "up": [...], "duration_ms": [...]} (the last 50,
 *     oldest first)}],
 *   "incidents": [{"id", "key", "opened_ms", "resolved_ms", "reason"}]
 *     (open ones, and those resolved in the last 7 days)} */
json_t *history_page_data(struct history *h, const struct probe_config *pc,
			  int64_t now_ms, struct sd_err *err);

#endif
