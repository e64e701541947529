/*
 * The files the scanner reads: IP allow/deny lists (CIDR per line), local
 * DNSBL zones (zone.h) and the recipient table. Loaded in smtpd before the
 * privilege drop (scan_prepare). Afterwards smtpd is chrooted and cannot
 * open them: the queue process watches them (scan/watch.h) and, when one
 * changed, hands smtpd fresh read-only descriptors of all of them; smtpd
 * builds a new scan_data from those in a worker thread and swaps it in
 * (scan/reload.c). A scan_data is read-only once built.
 */
#ifndef MW_SCAN_DATA_H
#define MW_SCAN_DATA_H

#include <stdbool.h>
#include <stddef.h>

#include "scan/policy.h"

struct ipset;
struct zone;
struct zone_stats;
struct dnset;
struct greylist;

struct scan_data {
	struct ipset *allow, *deny;
	struct zone **zones;       /* one per scan_config.rbl_files, NULL if unreadable or a dnset */
	struct dnset **dnsets;     /* one per scan_config.rbl_files, NULL unless a readable dnset */
	struct zone_stats *zone_stats;
	size_t n_zones;
	char **rcpts;              /* sorted, lower case: "user@domain" or "@domain" */
	size_t n_rcpts;
	char **rcpt_domains;       /* sorted: the domains the table speaks for */
	size_t n_rcpt_domains;
	struct greylist *greylist;  /* state_dir/greylist.db when the greylist check is on */
	bool unreadable[SCAN_FILES_MAX]; /* per scan_config_files() slot: configured, not loaded */
};

/* c's scanner files by path, and the greylist database (in c's
 * state_dir) when c or one of its emergency levels has greylisting on. */
struct config;
struct scan_data *scan_data_load(const struct config *c);
/* From descriptors in scan_config_files() order (-1: by path, or absent);
 * no greylist. May run in a worker thread: touches nothing shared. */
struct scan_data *scan_data_load_fds(const struct scan_config *sc, const int *fds, size_t n);
void scan_data_free(struct scan_data *d);

/* Can the file in slot i of scan_config_files() be loaded (a readable
 * regular file within the size limit)? If not, why. Opens and closes it. */
bool scan_data_file_ok(const char *path, size_t i, char *why, size_t whylen);

/* The first file d could not load although it is not optional, or NULL:
 * such a data set must not be used (fail closed, issue 16). */
const char *scan_data_missing_required(const struct scan_data *d, const struct scan_config *sc);

/* One log line per file loaded (main thread only). */
void scan_data_log(const struct scan_data *d, const struct scan_config *sc);

/* smtpd: replace the process's data with fresh (scan.c); the greylist
 * database moves over. The old data is freed: no check keeps a pointer
 * into it across a wait. */
void scan_replace_data(struct scan_data *fresh);

/* A file of networks, one per line ("#" comments): a set, or NULL if the
 * file cannot be read. Bad lines are logged and skipped. */
struct ipset *scan_data_cidr_file(const char *path, const char *text, size_t len, size_t *bad);

/* Recipient table: known (true), unknown in a domain the table covers
 * (false), or the table says nothing about the domain (*covered false). */
bool scan_data_rcpt_known(const struct scan_data *d, const char *addr, bool *covered);

/* The process's loaded files (scan.c), for the checks; NULL without a scan section. */
const struct scan_data *scan_process_data(void);

/* Read a whole file (up to max bytes) into a malloc'ed buffer. */
char *scan_data_read_file(const char *path, size_t max, size_t *len);

#endif
