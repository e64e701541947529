/*
 * libFuzzer target: the recognisers of encrypted content
 * (content/encryption.c) on a decoded part from the network. The first
 * byte picks the part's type (S/MIME, .p7m by name, PGP/MIME's control
 * part, PDF, octet-stream); the rest is the part. Contract checks: the
 * kind is one of the enum's, the same input gives the same kind, and the
 * CMS reader never reports a content type for fewer than two bytes.
 */
#include <stdint.h>
#include <stdlib.h>

#include <openssl/objects.h>

#include "content/encryption.h"

static const struct {
	const char *type, *name;
} parts[] = {
	{ "application/pkcs7-mime", "smime.p7m" },
	{ "application/octet-stream", "report.p7m" },
	{ "application/pgp-encrypted", NULL },
	{ "application/pdf", "a.pdf" },
	{ "application/octet-stream", NULL },
	{ "text/plain", NULL },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t pick = data[0] % (sizeof(parts) / sizeof(parts[0]));
	const char *part = (const char *)data + 1;
	size_t len = size - 1;
	enum encryption_kind k = encryption_of_part(parts[pick].type, parts[pick].name, part, len);
	if ((unsigned)k >= ENCRYPTION_KINDS || encryption_of_part(parts[pick].type, parts[pick].name, part, len) != k)
		abort();
	if (len < 2 && encryption_cms_type((const unsigned char *)part, len) != NID_undef)
		abort();
	return 0;
}
