/*
 * Scalar values of the scan: section: see config_value.h.
 */
#include "scan/config_value.h"

#include <stdlib.h>
#include <string.h>

#include "config/loader.h"
#include "config/schema.h"
#include "util/alloc.h"
#include "verdict/points.h"

/* Text that ends up in logs, replies and resolver settings: no control
 * characters. */
const char *scan_value_check_text(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return "contains control characters";
	return NULL;
}

bool scan_value_text(struct loader *ld, struct fy_node *v, const char *name, int kline, char **out,
		     size_t max)
{
	const char *s;
	size_t len;
	int line;
	if (!loader_scalar(ld, v, name, kline, &s, &len, &line))
		return false;
	const char *why = scan_value_check_text(s, len);
	if (why) {
		loader_err(ld, line, name, "%s", why);
		return false;
	}
	if (len == 0 || len > max) {
		loader_err(ld, line, name, "must be 1 to %zu bytes long", max);
		return false;
	}
	free(*out);
	*out = xstrndup(s, len);
	return true;
}

/* A file name; a relative one is made absolute against the configuration
 * file's directory once the whole file is read (scan/config.c). */
bool scan_value_path(struct loader *ld, struct fy_node *v, const char *name, int kline, char **out)
{
	return scan_value_text(ld, v, name, kline, out, 4095);
}

/* Points or a threshold: a number of points with at most two decimals
 * between min and max (whole points), stored in hundredths. */
bool scan_value_points(struct loader *ld, struct fy_node *v, const char *name, int kline, int min, int max,
		       int *out)
{
	const char *s;
	size_t len;
	int line;
	if (!loader_scalar(ld, v, name, kline, &s, &len, &line))
		return false;
	int val;
	enum points_parsed r = points_parse(s, len, &val);
	if (r == POINTS_TOO_PRECISE) {
		loader_err(ld, line, name, "more than two decimals (points count in hundredths: e.g. 2.5 or 1.25)");
		return false;
	}
	if (r != POINTS_OK) {
		loader_err(ld, line, name, "not a number between %d and %d (at most two decimals, e.g. 2.5)", min, max);
		return false;
	}
	if (val < min * POINTS_ONE || val > max * POINTS_ONE) {
		loader_err(ld, line, name, "must be between %d and %d", min, max);
		return false;
	}
	*out = val;
	return true;
}

bool scan_value_bool(struct loader *ld, struct fy_node *v, const char *name, int kline, bool *out)
{
	const char *s;
	size_t len;
	int line;
	if (!loader_scalar(ld, v, name, kline, &s, &len, &line))
		return false;
	if (loader_text_is(s, len, "true") || loader_text_is(s, len, "false")) {
		*out = s[0] == 't';
		return true;
	}
	loader_err(ld, line, name, "must be true or false");
	return false;
}

/* A duration ("90", "15m", "2h") in seconds, between min and max. */
bool scan_value_duration(struct loader *ld, struct fy_node *v, const char *name, int kline, unsigned min,
			 unsigned max, unsigned *out)
{
	const char *s;
	size_t len;
	int line;
	if (!loader_scalar(ld, v, name, kline, &s, &len, &line))
		return false;
	char text[32] = "";
	unsigned long long secs = 0;
	if (len < sizeof(text))
		memcpy(text, s, len);
	if (len >= sizeof(text) || !schema_parse_duration(text, &secs) || secs < min || secs > max) {
		loader_err(ld, line, name, "must be a duration from %u to %u seconds (e.g. 90, 15m, 2h)", min, max);
		return false;
	}
	*out = (unsigned)secs;
	return true;
}

/* An SMTP reply: "4xx x.y.z text" or "5xx x.y.z text". */
bool scan_value_reply(struct loader *ld, struct fy_node *v, const char *name, int kline, char **out)
{
	if (!scan_value_text(ld, v, name, kline, out, 400))
		return false;
	const char *r = *out;
	bool ok = strlen(r) >= 4 && (r[0] == '4' || r[0] == '5') && r[1] >= '0' && r[1] <= '9' &&
		  r[2] >= '0' && r[2] <= '9' && r[3] == ' ';
	for (const char *p = r; ok && *p; p++)
		ok = *p >= ' ' && *p <= '~';
	if (!ok) {
		loader_err(ld, loader_line(v, kline), name,
			   "not an SMTP reply (use e.g. \"554 5.7.1 Service unavailable\")");
		free(*out);
		*out = NULL;
	}
	return ok;
}

/* Handlers of mapping_load() tables (config/mapping.h): field is the
 * member the table's offset names. */

void scan_value_load_points(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field)
{
	scan_value_points(ld, v, name, kline, -1000, 1000, field);
}

/* A direction's threshold (tag, quarantine, discard, refuse). */
void scan_value_load_threshold(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field)
{
	scan_value_points(ld, v, name, kline, 0, 100000, field);
}

void scan_value_load_bool(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field)
{
	scan_value_bool(ld, v, name, kline, field);
}

void scan_value_load_reply(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field)
{
	scan_value_reply(ld, v, name, kline, field);
}

void scan_value_load_path(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field)
{
	scan_value_path(ld, v, name, kline, field);
}

/* A domain name into *out, or an error at kname. */
void scan_value_domain(struct loader *ld, struct fy_node *val, const char *kname, int kl, char **out)
{
	if (scan_value_text(ld, val, kname, kl, out, 253) && schema_check_domain(*out, strlen(*out))) {
		loader_err(ld, kl, kname, "%s", schema_check_domain(*out, strlen(*out)));
		free(*out);
		*out = NULL;
	}
}

void scan_value_load_domain(struct loader *ld, struct fy_node *v, const char *name, int kline, void *field)
{
	scan_value_domain(ld, v, name, kline, field);
}
