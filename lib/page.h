/* The status page: index.html (self-contained: inline CSS and JS, nothing
 * loaded from any other host), summary.json in Atlassian Statuspage's v2
 * format (plus our data under "x_safedeploy") and history.json, each
 * written atomically (a reader sees the old file or the new one, never
 * half of one; a full disk leaves the old page as it was). */
#ifndef SD_PAGE_H
#define SD_PAGE_H

#include <stdint.h>

#include <jansson.h>

#include "err.h"

/* Statuspage's component statuses, from best to worst, and the page
 * indicator and description each worst one gives. */
extern const char *const PAGE_STATUS[4];
extern const char *const PAGE_INDICATOR[4];
extern const char *const PAGE_DESCRIPTION[4];

struct page_info {
	const char *id;	       /* Statuspage page id (default "status") */
	const char *name;      /* the page's title (default "Status") */
	const char *url;       /* where it is published, or NULL */
	int64_t interval_s;    /* how often the probe runs */
	int64_t stale_after_s; /* older than this: STALE (default 3 intervals) */
	const char *probe;     /* where the probe runs (host name) */
};

/* A Statuspage v2 summary from its parts (each reference is taken): the
 * page object, the worst component's level (an index of PAGE_STATUS), the
 * components, the unresolved incidents and our x_safedeploy object. */
json_t *page_document(json_t *page, int worst, json_t *components,
		      json_t *incidents, json_t *x);

/* summary.json's document, from history_page_data's; generated_ms is the
 * generation time (page.updated_at). */
json_t *page_summary(const struct page_info *info, json_t *data,
		     int64_t generated_ms);

/* The HTML page for that summary and data. Malloc'd. */
char *page_html(const struct page_info *info, json_t *summary, json_t *data);

/* Write index.html and summary.json (and history.json when history is not
 * NULL) for that summary and data into dir (created if missing). */
int page_write_files(const char *dir, const struct page_info *info,
		     json_t *summary, json_t *data, json_t *history,
		     struct sd_err *err);

/* Write the three files into dir (created if missing). */
int page_write(const char *dir, const struct page_info *info, json_t *data,
	       int64_t generated_ms, struct sd_err *err);

#endif
