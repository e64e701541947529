/*
 * libFuzzer target for what the scanner's main thread reads from a
 * message's header section before the DKIM and DMARC checks run
 * (content/authdns.c): the DKIM-Signature tag lists and the From field.
 * Build and run: see fuzz/README.md.
 *
 * Besides crashes and sanitizer reports, the target aborts when the plan
 * breaks its contract: at most AUTHDNS_NAMES_MAX names, each one that
 * authdns_name_ok accepts after its "_dmarc." or "._domainkey." part, in
 * lower case; a From domain is a valid name or "".
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "content/authdns.h"
#include "content/mime.h"

#define CHECK(cond)                  \
	do {                         \
		if (!(cond))         \
			abort();     \
	} while (0)

static bool org_same(const char *domain, char *out, size_t cap)
{
	size_t n = strlen(domain);
	if (n >= cap)
		return false;
	memcpy(out, domain, n + 1);
	return true;
}

static void check_name(const char *name)
{
	for (const char *p = name; *p; p++)
		CHECK(!isupper((unsigned char)*p));
	const char *dk = strstr(name, "._domainkey.");
	if (strncmp(name, "_dmarc.", 7) == 0)
		CHECK(authdns_name_ok(name + 7));
	else
		CHECK(dk && authdns_name_ok(dk + 12));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	if (!ready) {
		mime_prepare();
		ready = true;
	}
	struct authdns *a = calloc(1, sizeof(*a));
	authdns_plan(a, (const char *)data, size, true, true, org_same);
	CHECK(a->n <= AUTHDNS_NAMES_MAX);
	CHECK(!a->from_domain[0] || authdns_name_ok(a->from_domain));
	for (size_t i = 0; i < a->n; i++)
		check_name(a->rec[i].name);
	char tag[64];
	if (authdns_tag((const char *)data, size, "d", tag, sizeof(tag)))
		CHECK(tag[0] && strlen(tag) < sizeof(tag));
	free(a);
	return 0;
}
