/*
 * See points.h.
 */
#include "verdict/points.h"

#include <stdio.h>

const char *points_format(int hundredths, char *out, size_t cap)
{
	long long v = hundredths;  /* -INT_MIN does not fit an int */
	const char *sign = v < 0 ? "-" : "";
	unsigned long long a = (unsigned long long)(v < 0 ? -v : v);
	unsigned long long whole = a / 100, frac = a % 100;
	if (frac == 0)
		snprintf(out, cap, "%s%llu", sign, whole);
	else if (frac % 10 == 0)
		snprintf(out, cap, "%s%llu.%llu", sign, whole, frac / 10);
	else
		snprintf(out, cap, "%s%llu.%02llu", sign, whole, frac);
	return out;
}

enum points_parsed points_parse(const char *s, size_t len, int *out)
{
	size_t i = 0;
	bool neg = len > 0 && s[0] == '-';
	i += neg;
	long long whole = 0;
	size_t digits = 0;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
		whole = whole * 10 + (s[i] - '0');
		if (whole > 10000000)
			return POINTS_NOT_A_NUMBER;
	}
	if (digits == 0)
		return POINTS_NOT_A_NUMBER;
	long long frac = 0;
	if (i < len && s[i] == '.') {
		size_t decimals = 0;
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, decimals++)
			if (decimals < 2)
				frac = frac * 10 + (s[i] - '0');
		if (decimals == 0 || i < len)
			return POINTS_NOT_A_NUMBER;
		if (decimals > 2)
			return POINTS_TOO_PRECISE;
		if (decimals == 1)
			frac *= 10;
	}
	if (i < len)
		return POINTS_NOT_A_NUMBER;
	long long v = whole * 100 + frac;
	*out = (int)(neg ? -v : v);
	return POINTS_OK;
}
