/*
 * The queue's part of `mailwarden ctl status` beyond the emergency level
 * (issue 15), as "key: value" lines: the configuration file and the
 * SHA-256 of the bytes the queue loaded, the listeners (name, address,
 * port, TLS mode, open sessions), the queue by state, the open SMTP
 * sessions, and the scanner's health. The numbers come from the shared
 * metrics block (util/metrics.h) that every process counts into, so the
 * status and the metrics endpoint never disagree. Runs in the queue.
 */
#ifndef MW_QUEUE_STATUS_REPORT_H
#define MW_QUEUE_STATUS_REPORT_H

#include <stdio.h>

struct config;
struct content_client;

/* scanner may be NULL (not known yet). */
void status_report_print(FILE *out, const struct config *c, const struct content_client *scanner);

#endif
