/*
 * Points, the unit of every score (SCAN-2): inside the gateway a point
 * value is an int counting hundredths of a point ("centipoints"), so that
 * SpamAssassin's decimal scores (2.5, -1.9) add up exactly. The
 * administrator only ever sees points: the configuration is read with
 * points_parse() and every log line, header and report writes
 * points_format(). Pure functions: no I/O, no allocation.
 */
#ifndef MW_VERDICT_POINTS_H
#define MW_VERDICT_POINTS_H

#include <stdbool.h>
#include <stddef.h>

#define POINTS_ONE 100         /* one point, in hundredths */
#define POINTS_TEXT_MAX 16     /* enough for any int: "-21474836.48" */

/* Hundredths as the shortest exact decimal in points: 300 -> "3",
 * 250 -> "2.5", 125 -> "1.25", -50 -> "-0.5", 0 -> "0". Also a valid
 * JSON number. Returns out (cap >= POINTS_TEXT_MAX always suffices; a
 * smaller buffer gets a cut string, never an overflow). */
const char *points_format(int hundredths, char *out, size_t cap);

enum points_parsed {
	POINTS_OK,
	POINTS_NOT_A_NUMBER,     /* also beyond +-10 000 000 points */
	POINTS_TOO_PRECISE,      /* more than two decimals (0.001) */
};

/* Points as written in the configuration, "[-]DIGITS[.D[D]]" (3, 2.5,
 * -1.25, 0.05), to hundredths in *out (untouched unless POINTS_OK). The
 * caller checks its own range. */
enum points_parsed points_parse(const char *s, size_t len, int *out);

#endif
