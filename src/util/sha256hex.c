#include "util/sha256hex.h"

#include <openssl/evp.h>

bool sha256_hex(const void *buf, size_t len, char out[SHA256_HEX_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	out[0] = '\0';
	if (!EVP_Digest(buf, len, md, &n, EVP_sha256(), NULL) || n * 2 != SHA256_HEX_LEN)
		return false;
	static const char hex[] = "0123456789abcdef";
	for (unsigned i = 0; i < n; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[SHA256_HEX_LEN] = '\0';
	return true;
}
