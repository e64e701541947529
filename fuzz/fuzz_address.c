/*
 * libFuzzer target for the envelope path parser and the ESMTP parameter
 * parser (smtp/address.c, smtp/params.c): the bytes after "MAIL FROM:" or
 * "RCPT TO:" as a client sends them. Build and run: see fuzz/README.md.
 *
 * Besides crashes and sanitizer reports, the target aborts when a result
 * breaks the documented contract: consumed bytes, cleared output on
 * error, length limits, no control bytes stored, flags honoured, error
 * positions inside the text, and the address_format() round trip.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smtp/address.h"
#include "smtp/params.h"

#define CHECK(cond)                  \
	do {                         \
		if (!(cond))         \
			abort();     \
	} while (0)

/* "<Postmaster>" keeps its spelling as written, but formats as "Postmaster". */
static bool same_address(const struct address *a, const struct address *b)
{
	bool same_local = a->kind == ADDRESS_POSTMASTER ? strcasecmp(a->local, b->local) == 0
							 : strcmp(a->local, b->local) == 0;

	return a->kind == b->kind && same_local &&
	       strcmp(a->domain, b->domain) == 0 && a->domain_is_literal == b->domain_is_literal &&
	       a->has_utf8 == b->has_utf8;
}

/* Only a quoted local part may hold a space; nothing stored holds NUL,
 * CR, LF, other C0 controls or DEL (the C1 controls are refused by the
 * UTF-8 check, and are two bytes >= 0x80 here). */
static void check_stored_bytes(const char *s, bool space_ok)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		CHECK(*p > 0x20 || (*p == 0x20 && space_ok));
		CHECK(*p != 0x7f);
	}
}

static void fuzz_params(const char *text, size_t len)
{
	struct mail_params mp;
	const char *bad = NULL;
	enum params_error e;

	e = params_parse_mail(text, len, &mp, &bad);
	if (e == PARAMS_OK) {
		CHECK(!mp.has_size || mp.size <= (UINT64_C(1) << 63));
		CHECK(mp.has_size || mp.size == 0);
	} else {
		CHECK(bad != NULL && bad >= text && bad < text + len);
		CHECK(!mp.has_size && !mp.smtputf8 && mp.body == MAIL_BODY_7BIT);
	}

	bad = NULL;
	struct rcpt_params rp;
	e = params_parse_rcpt(text, len, &rp, &bad);
	if (e == PARAMS_OK)
		CHECK(memchr(rp.notify, '\0', sizeof(rp.notify)) && memchr(rp.orcpt, '\0', sizeof(rp.orcpt)));
	else
		CHECK(bad != NULL && bad >= text && bad < text + len);
}

static void fuzz_path(const char *text, size_t size, bool utf8, bool allow_null,
		      bool allow_postmaster)
{
	struct address a, b;
	size_t used = 12345, used2;
	char buf[ADDRESS_PATH_MAX + 1], again[ADDRESS_PATH_MAX + 2];
	size_t n;
	enum address_error e;

	e = address_parse_path(text, size, utf8, allow_null, allow_postmaster, &a, &used);
	if (e != ADDRESS_OK) {
		CHECK(used == 0);
		CHECK(a.local[0] == '\0' && a.domain[0] == '\0');
		CHECK(address_strerror(e) != NULL);
		return;
	}

	CHECK(used >= 2 && used <= size);
	CHECK(text[0] == '<' && text[used - 1] == '>');
	CHECK(a.kind != ADDRESS_NULL || allow_null);
	CHECK(a.kind != ADDRESS_POSTMASTER || allow_postmaster);
	CHECK(utf8 || !a.has_utf8);
	CHECK(strlen(a.local) <= ADDRESS_LOCAL_MAX);
	CHECK(strlen(a.domain) <= ADDRESS_DOMAIN_MAX);
	check_stored_bytes(a.local, a.local[0] == '"');
	check_stored_bytes(a.domain, false);
	if (a.kind == ADDRESS_MAILBOX) {
		CHECK(a.local[0] != '\0' && a.domain[0] != '\0');
		CHECK(strlen(a.local) + 1 + strlen(a.domain) <= ADDRESS_PATH_MAX);
		CHECK(a.domain_is_literal == (a.domain[0] == '['));
		CHECK(a.domain[strlen(a.domain) - 1] != '.');
	}

	/* Anything accepted without SMTPUTF8 is accepted, identically, with it. */
	if (!utf8) {
		CHECK(address_parse_path(text, size, true, allow_null, allow_postmaster, &b, &used2) ==
		      ADDRESS_OK);
		CHECK(used2 == used && same_address(&a, &b));
	}

	/* Round trip: "<" format ">" parses back to the same address. */
	n = address_format(&a, buf, sizeof(buf));
	CHECK(n == strlen(buf));
	CHECK(n > 0 || a.kind == ADDRESS_NULL);
	again[0] = '<';
	memcpy(again + 1, buf, n);
	again[n + 1] = '>';
	CHECK(address_parse_path(again, n + 2, utf8, allow_null, allow_postmaster, &b, &used2) ==
	      ADDRESS_OK);
	CHECK(used2 == n + 2 && same_address(&a, &b));
	/* One byte short of the room it needs, it refuses. */
	if (n > 0)
		CHECK(address_format(&a, buf, n) == 0);

	fuzz_params(text + used, size - used);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;

	for (int flags = 0; flags < 8; flags++)
		fuzz_path(text, size, flags & 1, flags & 2, flags & 4);
	/* The parameter parser also on its own, whatever the path did. */
	fuzz_params(text, size);
	return 0;
}
