/* Progress bar; see progress.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"
#include "progress.h"

#define BAR_WIDTH 30

int64_t progress_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void progress_start(struct progress *p, int fd, const char *label,
		    uint64_t total)
{
	const char *delay = getenv("SAFEDEPLOY_PROGRESS_DELAY");

	memset(p, 0, sizeof(*p));
	p->fd = fd;
	p->enabled = isatty(fd);
	p->total = total;
	p->clock_ms = progress_monotonic_ms;
	p->delay_ms = PROGRESS_DELAY_MS;
	if (delay && *delay && strspn(delay, "0123456789") == strlen(delay) &&
	    strlen(delay) <= 6)
		p->delay_ms = strtol(delay, NULL, 10);
	snprintf(p->label, sizeof(p->label), "%s", label);
	p->start_ms = p->clock_ms();
}

static void draw(struct progress *p)
{
	char line[160];
	int n;

	if (p->total) {
		uint64_t done = p->done > p->total ? p->total : p->done;
		int fill = (int)(done * BAR_WIDTH / p->total);
		char bar[BAR_WIDTH + 1];

		memset(bar, '#', (size_t)fill);
		memset(bar + fill, '.', (size_t)(BAR_WIDTH - fill));
		bar[BAR_WIDTH] = '\0';
		n = snprintf(
			line, sizeof(line), "\r%s [%s] %3d%% %llu/%llu\033[K",
			p->label, bar, (int)(done * 100 / p->total),
			(unsigned long long)done, (unsigned long long)p->total);
	} else {
		n = snprintf(line, sizeof(line), "\r%s %llu\033[K", p->label,
			     (unsigned long long)p->done);
	}
	if (n > 0)
		fs_write_all(p->fd, line,
			     (size_t)n < sizeof(line) ? (size_t)n
						      : sizeof(line) - 1);
	p->drawn = true;
	p->draws++;
}

void progress_update(struct progress *p, uint64_t done)
{
	int64_t now;

	p->done = done;
	if (!p->enabled)
		return;
	now = p->clock_ms();
	if (now - p->start_ms < p->delay_ms)
		return;
	if (p->drawn && now - p->last_ms < PROGRESS_REDRAW_MS)
		return;
	p->last_ms = now;
	draw(p);
}

void progress_finish(struct progress *p)
{
	if (p->enabled && p->drawn)
		fs_write_all(p->fd, "\r\033[K", 4);
	p->drawn = false;
}
