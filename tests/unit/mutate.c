/* tests/unit/mutate.c - random edits of a seed text. See mutate.h. */
#include "mutate.h"

#include <string.h>

size_t unit_mutate(char *buf, const char *seed, size_t n, const char *alphabet, unsigned (*rnd)(void))
{
	size_t m = n, pos, alen = strlen(alphabet);
	int edits = 1 + (int)(rnd() % 3), e;
	memcpy(buf, seed, n);
	for (e = 0; e < edits && m > 1; e++) {
		pos = rnd() % m;
		switch (rnd() % 3) {
		case 0: /* delete */
			memmove(buf + pos, buf + pos + 1, m - pos - 1);
			m--;
			break;
		case 1: /* replace */
			buf[pos] = alphabet[rnd() % alen];
			break;
		default: /* insert */
			if (m < n + 7) {
				memmove(buf + pos + 1, buf + pos, m - pos);
				buf[pos] = alphabet[rnd() % alen];
				m++;
			}
		}
	}
	return m;
}
