/*
 * What an emergency level changes in the scanner's policy, for
 * check-config --levels (SCAN-11: "each level's effect documented").
 * Pure: compares two loaded snapshots.
 */
#include "scan/policy.h"

#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "content/check.h"
#include "scan/scan.h"
#include "verdict/points.h"

static void describe_check(const char *dir, const char *check, const struct scan_check_policy *was,
			   const struct scan_check_policy *now, struct config_errors *out)
{
	char a[POINTS_TEXT_MAX], b[POINTS_TEXT_MAX];
	if (was->action != now->action)
		config_errors_add(out, "  scan.%s.checks.%s: %s -> %s", dir, check, scan_check_action_names[was->action],
				  scan_check_action_names[now->action]);
	else if (now->action == SCAN_CHECK_SCORE && was->points != now->points)
		config_errors_add(out, "  scan.%s.checks.%s.points: %s -> %s", dir, check,
				  points_format(was->points, a, sizeof(a)), points_format(now->points, b, sizeof(b)));
}

/* A threshold: 0 means the action is not used. */
static void describe_threshold(const char *dir, const char *what, int was, int now, struct config_errors *out)
{
	char a[POINTS_TEXT_MAX], b[POINTS_TEXT_MAX];
	if (was != now)
		config_errors_add(out, "  scan.%s.%s: %s -> %s", dir, what, was ? points_format(was, a, sizeof(a)) : "off",
				  now ? points_format(now, b, sizeof(b)) : "off");
}

static void describe_direction(const char *dir, const struct scan_direction *was, const struct scan_direction *now,
			       struct config_errors *out)
{
	for (size_t i = 0; i < scan_n_checks; i++)
		describe_check(dir, scan_checks[i]->name, &was->checks[i], &now->checks[i], out);
	for (size_t i = 0; i < content_n_checks; i++)
		describe_check(dir, content_checks[i]->name, &was->content[i], &now->content[i], out);
	describe_threshold(dir, "tag", was->tag, now->tag, out);
	describe_threshold(dir, "quarantine", was->quarantine, now->quarantine, out);
	describe_threshold(dir, "discard", was->discard, now->discard, out);
	describe_threshold(dir, "refuse", was->refuse, now->refuse, out);
}

void scan_level_describe(const struct config *base, const struct config *lv, struct config_errors *out)
{
	if (!base->scan || !lv->scan)
		return;
	if (base->scan->scanner_timeout_ms != lv->scan->scanner_timeout_ms)
		config_errors_add(out, "  scan.scanner_timeout_ms: %u -> %u", base->scan->scanner_timeout_ms,
				  lv->scan->scanner_timeout_ms);
	describe_direction("inbound", &base->scan->inbound, &lv->scan->inbound, out);
	describe_direction("outbound", &base->scan->outbound, &lv->scan->outbound, out);
}
