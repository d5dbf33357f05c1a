/* Crockford base32; see base32.h. */
#include <ctype.h>
#include <string.h>

#include "base32.h"

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

void base32_encode(const unsigned char *in, size_t n, char *out)
{
	unsigned int acc = 0, bits = 0;
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = alphabet[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits)
		out[o++] = alphabet[(acc << (5 - bits)) & 31];
	out[o] = '\0';
}

static int value_of(char c)
{
	const char *hit;

	c = (char)toupper((unsigned char)c);
	if (c == 'I' || c == 'L')
		c = '1';
	else if (c == 'O')
		c = '0';
	if (!c)
		return -1;
	hit = strchr(alphabet, c);
	return hit ? (int)(hit - alphabet) : -1;
}

int base32_decode(const char *text, unsigned char *out, size_t n, long *bad_pos,
		  size_t *chars)
{
	unsigned int acc = 0, bits = 0;
	size_t o = 0, seen = 0;

	*bad_pos = -1;
	for (size_t i = 0; text[i]; i++) {
		int v;

		if (text[i] == '-')
			continue;
		v = value_of(text[i]);
		if (v < 0) {
			*bad_pos = (long)i;
			return -1;
		}
		seen++;
		acc = (acc << 5) | (unsigned int)v;
		bits += 5;
		if (bits >= 8) {
			if (o < n)
				out[o] = (unsigned char)(acc >> (bits - 8));
			o++;
			bits -= 8;
		}
	}
	if (chars)
		*chars = seen;
	/* Exactly the characters n bytes need, and no stray bits set. */
	if (seen != (n * 8 + 4) / 5 || (acc & ((1u << bits) - 1)))
		return -1;
	return 0;
}
