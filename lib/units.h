/* Durations (90s, 5m, 2h, 7d, 1h30m, 250ms) and sizes (10k, 1.5G, 512),
 * parsed strictly: a unit typo is an error, never a silent zero. */
#ifndef SD_UNITS_H
#define SD_UNITS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Parse a duration into milliseconds. Units: ms, s, m, h, d, w; groups may
 * follow each other (1h30m); a number needs a unit. */
int units_parse_duration(const char *s, int64_t *ms, struct sd_err *err);

/* Parse a size into bytes. A bare number is bytes; K, M, G, T, P (or KiB…)
 * are powers of 1024 and KB, MB… powers of 1000, as in GNU coreutils. */
int units_parse_size(const char *s, uint64_t *bytes, struct sd_err *err);

/* "250ms", "45s", "1m30s", "2h", "7d": the two largest non-zero units. */
const char *units_format_duration(int64_t ms, char *buf, size_t n);

/* "512B", "1.5K", "10M", "2.3G". */
const char *units_format_size(uint64_t bytes, char *buf, size_t n);

/* "1,234,567": a count with thousands separators. */
const char *units_format_count(uint64_t n, char *buf, size_t size);

/* Wall-clock time now, in Unix milliseconds. */
int64_t units_now_ms(void);

/* Unix milliseconds as RFC 3339 UTC, "2026-11-21T16:05:03Z". */
const char *units_format_utc(int64_t ms, char *buf, size_t n);

/* The reverse, for that exact form: Unix milliseconds, or -1. */
int64_t units_parse_utc(const char *s);

#endif
