/*
 * The files the scanner reads: IP allow/deny lists (CIDR per line), local
 * DNSBL zones (zone.h) and the recipient table. Loaded in smtpd before the
 * privilege drop (scan_prepare); a change to any of them makes the master
 * reload (master watches scan_config_files()), so a new smtpd generation
 * loads the new version while the old one finishes its sessions.
 * Read-only once loaded.
 */
#ifndef MW_SCAN_DATA_H
#define MW_SCAN_DATA_H

#include <stdbool.h>
#include <stddef.h>

#include "scan/policy.h"

struct ipset;
struct zone;
struct greylist;

struct scan_data {
	struct ipset *allow, *deny;
	struct zone **zones;       /* one per scan_config.rbl_files, NULL if unreadable */
	size_t n_zones;
	char **rcpts;              /* sorted, lower case: "user@domain" or "@domain" */
	size_t n_rcpts;
	char **rcpt_domains;       /* sorted: the domains the table speaks for */
	size_t n_rcpt_domains;
	struct greylist *greylist;  /* state_dir/greylist.db when the greylist check is on */
};

/* state_dir: where greylist.db lives (absolute). */
struct scan_data *scan_data_load(const struct scan_config *sc, const char *state_dir);
void scan_data_free(struct scan_data *d);

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
