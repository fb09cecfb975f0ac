/*
 * core/numfmt.h - number formatting with Go's exact semantics.
 *
 * kstage must print numbers byte for byte as Helm does, and Helm prints them
 * with Go's strconv and encoding/json. C's printf differs (no shortest
 * round-trip, "1e+06" vs "1e+6", "+Inf"), so these reproduce Go.
 */
#ifndef KSTAGE_CORE_NUMFMT_H
#define KSTAGE_CORE_NUMFMT_H

#include <stdint.h>
#include "buf.h"

/* strconv.FormatFloat(f, fmt, prec, 64) for fmt 'e', 'E', 'f', 'g', 'G';
 * prec -1 means the shortest representation that round-trips. */
void numfmt_float(kbuf *out, double f, char fmt, int prec);
/* encoding/json's float64 encoding ("1e+21", "1e-7", "1000000");
 * returns -1 (and writes nothing) for NaN and infinities, as Go refuses them. */
int numfmt_float_json(kbuf *out, double f);
/* fmt.Sprint(f) for a float64: %v, which is 'g' shortest. */
void numfmt_float_v(kbuf *out, double f);
void numfmt_int(kbuf *out, int64_t i);

#endif
