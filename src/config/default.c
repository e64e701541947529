/*
 * The embedded default configuration: a demo gateway on 127.0.0.1 with an
 * unprivileged port and local delivery into a maildir under the state
 * directory. It is loaded first on every start, and a configuration file
 * overrides the keys it sets, so this text also defines the default of
 * every key of the schema. The keys of a registered section (scan:,
 * queue:) have their defaults in the owner's table (config/section.h):
 * a user's section replaces the whole part, so they cannot live here.
 * It goes through the same loader and schema as any user file.
 *
 * The demo also scans content (issue 11): config_default_scan_yaml() is
 * its scan: section, loaded only when no configuration file is given. A
 * file without a scan: section keeps scanning nothing, as it always did:
 * a gateway that an administrator configured must not start judging
 * mail with rules nobody chose.
 */
#include "config/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/alloc.h"

/* The rules of Debian's spamassassin package. */
#define DEFAULT_RULES_DEBIAN "/usr/share/spamassassin"
/* mailwarden's own small set, in the source tree (CMakeLists.txt). */
#ifndef MW_RULES_DIR
#define MW_RULES_DIR "rules"
#endif
#define DEFAULT_RULES_BUILTIN MW_RULES_DIR "/mailwarden-base.cf"
/* mailwarden's YARA rules (issue 12: the EICAR test file), so the demo
 * finds the test virus without clamd. */
#define DEFAULT_YARA_RULES MW_RULES_DIR "/yara"

const char config_default_yaml[] =
	"# mailwarden embedded default configuration\n"
	"# hostname: defaults to the machine's name\n"
	"state_dir: ./mailwarden-data\n"
	"user: mailwarden\n"
	"smtpd_user: mailwarden-smtpd\n"
	"scanner_user: mailwarden-scan\n"
	"smtpd_processes: 1\n"
	"allow_open_relay: false\n"
	"shutdown_grace: 10s\n"
	"security:\n"
	"  seccomp: true\n"
	"log:\n"
	"  target: stderr\n"
	"  format: kv\n"
	"  level: info\n"
	"listeners:\n"
	"  - name: mta\n"
	"    address: 127.0.0.1\n"
	"    port: 2525\n"
	"    mode: mta\n"
	"    tls: starttls\n"
	"    auth: off\n"
	"  - name: submission\n"
	"    address: 127.0.0.1\n"
	"    port: 2587\n"
	"    mode: submission\n"
	"    tls: starttls\n"
	"    auth: required\n"
	"  - name: submissions\n"
	"    address: 127.0.0.1\n"
	"    port: 2465\n"
	"    mode: submission\n"
	"    tls: implicit\n"
	"    auth: required\n"
	"# certificates: without any, a self-signed one is made in state_dir/tls on first start\n"
	"tls:\n"
	"  min_version: TLSv1.2\n"
	"  ciphers: ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!eNULL\n"
	"outbound_tls:\n"
	"  level: may\n"
	"  min_version: TLSv1.2\n"
	"  mta_sts:\n"
	"    enabled: false\n"
	"    fetch_timeout_ms: 10000\n"
	"    https_port: 443\n"
	"  dane:\n"
	"    enabled: false\n"
	"    trust_anchor: /usr/share/dns/root.key\n"
	"  tlsrpt:\n"
	"    enabled: false\n"
	"auth:\n"
	"  max_failures: 5\n"
	"  lockout: 10m\n"
	"  failure_delay: 1s\n"
	"  received_identity: false\n"
	"local_domains:\n"
	"  - example.test\n"
	"trusted_networks:\n"
	"  - 127.0.0.1/32\n"
	"  - ::1/128\n"
	"routes:\n"
	"  example.test: maildir:maildir/example.test\n"
	"limits:\n"
	"  line_length: 2048\n"
	"  message_size: 25M\n"
	"  recipients: 1000\n"
	"  connections: 1000\n"
	"  connections_per_ip: 20\n"
	"  command_timeout: 5m\n"
	"  data_timeout: 10m\n"
	"  errors: 10\n"
	"  tls_handshakes_per_minute: 60\n"
	"dns:\n"
	"  timeout: 2s\n"
	"emergency:\n"
	"  partners:\n"
	"    max_age: 180d\n"
	"    text: only mail between known partners is accepted now; please try again later\n"
	"# queue: every key has its default (queue/config.c)\n"
	"queue: {}\n";

/* The demo's content policy, the same checks for both directions: mail of
 * the demo's own clients (trusted_networks, outbound) is tagged, never
 * held, so a newcomer sees the X-Spam headers in the maildir; mail from
 * anyone else is tagged, quarantined or refused as the README's example
 * does. Bayes stays silent until `mailwarden learn` has taught it. The
 * GTUBE test string scores 1000 through the gtube check, or through
 * SpamAssassin's own GTUBE rule when its rules are used (not both). */
static const char demo_checks_yaml[] =
	"    checks:\n"
	"      headers: score\n"
	"      verdict_headers: score\n"
	"      mime: score\n"
	"      rules: score\n"
	"      bayes: score\n";
static const char demo_gtube_yaml[] = "      gtube: {action: score, points: 1000}\n";
static const char demo_inbound_yaml[] = "    tag: 5\n    quarantine: 10\n    refuse: 15\n";
static const char demo_outbound_yaml[] = "    tag: 5\n";

const char *config_default_rules_in(const char *debian_dir, const char *builtin_file, const char **what)
{
	struct stat st;
	if (stat(debian_dir, &st) == 0 && S_ISDIR(st.st_mode)) {
		*what = "Debian's spamassassin package";
		return debian_dir;
	}
	if (access(builtin_file, R_OK) == 0) {
		*what = "mailwarden's built-in set (apt install spamassassin for SpamAssassin's)";
		return builtin_file;
	}
	*what = "none found (apt install spamassassin)";
	return NULL;
}

const char *config_default_rules(const char **what)
{
	return config_default_rules_in(DEFAULT_RULES_DEBIAN, DEFAULT_RULES_BUILTIN, what);
}

/* Append text to the buffer at *p (room checked by the caller's sizing). */
static void put(char **p, const char *end, const char *text)
{
	int n = snprintf(*p, (size_t)(end - *p), "%s", text);
	*p += n > 0 && *p + n < end ? n : 0;
}

/* text as a YAML single-quoted scalar: a quote is written twice. */
static void put_quoted(char **p, const char *end, const char *text)
{
	put(p, end, "'");
	for (const char *r = text; *r && *p + 2 < end; r++) {
		if (*r == '\'')
			*(*p)++ = '\'';
		*(*p)++ = *r;
	}
	put(p, end, "'");
}

char *config_default_scan_yaml(void)
{
	const char *what, *rules = config_default_rules(&what);
	bool spamassassin = rules && strcmp(rules, DEFAULT_RULES_DEBIAN) == 0;
	struct stat st;
	bool yara = stat(DEFAULT_YARA_RULES, &st) == 0 && S_ISDIR(st.st_mode);
	size_t cap = (rules ? 2 * strlen(rules) : 0) + 2 * sizeof(DEFAULT_YARA_RULES) + 2 * sizeof(demo_checks_yaml) +
		     2 * sizeof(demo_gtube_yaml) + sizeof(demo_inbound_yaml) + sizeof(demo_outbound_yaml) + 160;
	char *yaml = xmalloc(cap), *p = yaml, *end = yaml + cap;
	put(&p, end, "scan:\n");
	if (rules) {
		put(&p, end, "  rules: [");
		put_quoted(&p, end, rules);
		put(&p, end, "]\n");
	}
	if (yara) {  /* its check refuses in both directions (scan/config.c) */
		put(&p, end, "  yara: {rules: ");
		put_quoted(&p, end, DEFAULT_YARA_RULES);
		put(&p, end, "}\n");
	}
	const char *const directions[] = { "  inbound:\n", "  outbound:\n" };
	const char *const thresholds[] = { demo_inbound_yaml, demo_outbound_yaml };
	for (size_t d = 0; d < 2; d++) {
		put(&p, end, directions[d]);
		put(&p, end, demo_checks_yaml);
		if (!spamassassin)
			put(&p, end, demo_gtube_yaml);
		put(&p, end, thresholds[d]);
	}
	return yaml;
}
