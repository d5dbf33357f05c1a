/* Crockford base32: digits and upper-case letters without I, L, O and U, so
 * that a token read aloud or retyped cannot be misread. Decoding ignores case
 * and hyphens, and reads I and L as 1 and O as 0. */
#ifndef SD_BASE32_H
#define SD_BASE32_H

#include <stddef.h>

/* Encode n bytes; out needs (n * 8 + 4) / 5 + 1 bytes. */
void base32_encode(const unsigned char *in, size_t n, char *out);

/* Decode text into exactly n bytes. Returns 0, or -1 with *bad_pos set to the
 * index of the first character that is not base32 (or -1 when the length is
 * wrong, with *chars set to the count of base32 characters seen). */
int base32_decode(const char *text, unsigned char *out, size_t n, long *bad_pos,
		  size_t *chars);

#endif
