/* A progress bar on stderr for work that can take over a second: drawn only
 * on a terminal, only once the work has lasted PROGRESS_DELAY_MS, redrawn at
 * most every PROGRESS_REDRAW_MS, and erased when done. */
#ifndef SD_PROGRESS_H
#define SD_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

#define PROGRESS_DELAY_MS  1000
#define PROGRESS_REDRAW_MS 100

struct progress {
	int fd;
	bool enabled;
	char label[64];
	uint64_t total, done;
	int64_t start_ms, last_ms;
	int64_t delay_ms; /* PROGRESS_DELAY_MS, or SAFEDEPLOY_PROGRESS_DELAY */
	bool drawn;
	unsigned draws;
	int64_t (*clock_ms)(void); /* monotonic milliseconds */
};

/* total 0 means unknown (a count is shown instead of a bar). The delay
 * before the bar appears is SAFEDEPLOY_PROGRESS_DELAY milliseconds when it
 * is set to a number (0: at once), else PROGRESS_DELAY_MS. */
void progress_start(struct progress *p, int fd, const char *label,
		    uint64_t total);
void progress_update(struct progress *p, uint64_t done);
void progress_finish(struct progress *p);

int64_t progress_monotonic_ms(void);

#endif
