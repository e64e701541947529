/*
 * See encryption.h.
 */
#include "content/encryption.h"

#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include <openssl/asn1.h>
#include <openssl/objects.h>

#define PDF_HEADER_WINDOW 1024   /* ISO 32000-1 Annex H.3: readers accept %PDF- this far in */

static const struct {
	const char *symbol, *name;
} kinds[ENCRYPTION_KINDS] = {
	[ENCRYPTION_NONE] = { "", "none" },
	[ENCRYPTION_SMIME] = { "ENCRYPTED_SMIME", "S/MIME" },
	[ENCRYPTION_PGP] = { "ENCRYPTED_PGP", "PGP" },
	[ENCRYPTION_PDF] = { "ENCRYPTED_PDF", "PDF" },
	[ENCRYPTION_OFFICE] = { "ENCRYPTED_OFFICE", "Office" },
};

const char *encryption_symbol(enum encryption_kind k)
{
	return kinds[k].symbol;
}

const char *encryption_name(enum encryption_kind k)
{
	return kinds[k].name;
}

int encryption_cms_type(const unsigned char *der, size_t len)
{
	if (len < 2)
		return NID_undef;
	const unsigned char *p = der;
	long inner;
	int tag, xclass;
	long max = len > LONG_MAX ? LONG_MAX : (long)len;
	/* The ContentInfo SEQUENCE: definite or, as BER allows and some
	 * clients send, indefinite length. */
	int r = ASN1_get_object(&p, &inner, &tag, &xclass, max);
	if ((r & 0x80) || tag != V_ASN1_SEQUENCE || xclass != V_ASN1_UNIVERSAL || !(r & V_ASN1_CONSTRUCTED))
		return NID_undef;
	long left = max - (long)(p - der);
	ASN1_OBJECT *oid = d2i_ASN1_OBJECT(NULL, &p, left);
	if (!oid)
		return NID_undef;
	int nid = OBJ_obj2nid(oid);
	ASN1_OBJECT_free(oid);
	return nid;
}

static bool ends_with_nocase(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* S/MIME: a pkcs7-mime part (by type, or a .p7m file sent under another
 * type) is encrypted unless its CMS says it is signed or compressed. */
static bool smime_encrypted(const char *type, const char *filename, const char *data, size_t len)
{
	bool pkcs7 = strcmp(type, "application/pkcs7-mime") == 0 || strcmp(type, "application/x-pkcs7-mime") == 0 ||
		     (filename && ends_with_nocase(filename, ".p7m"));
	if (!pkcs7)
		return false;
	int nid = encryption_cms_type((const unsigned char *)data, len);
	return nid != NID_pkcs7_signed && nid != NID_id_smime_ct_compressedData;
}

/* needle at the start of a line of hay[0..len). */
static bool line_starts_with(const char *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle);
	for (const char *p = hay; p && (size_t)(p - hay) + n <= len;) {
		const char *hit = memmem(p, len - (size_t)(p - hay), needle, n);
		if (!hit)
			return false;
		if (hit == hay || hit[-1] == '\n' || hit[-1] == '\r')
			return true;
		p = hit + 1;
	}
	return false;
}

static bool pgp_encrypted(const char *type, const char *data, size_t len)
{
	return strcmp(type, "application/pgp-encrypted") == 0 ||
	       line_starts_with(data, len, "-----BEGIN PGP MESSAGE-----");
}

static bool pdf_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\0';
}

/* "/Encrypt" as a key with a reference ("12 0 R") or a dictionary ("<<")
 * for its value. */
static bool pdf_encrypted(const char *data, size_t len)
{
	size_t window = len < PDF_HEADER_WINDOW ? len : PDF_HEADER_WINDOW;
	if (!memmem(data, window, "%PDF-", 5))
		return false;
	static const char key[] = "/Encrypt";
	const size_t klen = sizeof(key) - 1;
	for (const char *p = data, *end = data + len; (p = memmem(p, (size_t)(end - p), key, klen)) != NULL;) {
		const char *v = p + klen;
		p = v;
		while (v < end && pdf_space(*v))
			v++;
		if (v == p && v < end && *v != '<')
			continue;  /* /EncryptMetadata, /Encrypted...: another name */
		if (v < end && ((*v >= '0' && *v <= '9') || (*v == '<' && v + 1 < end && v[1] == '<')))
			return true;
	}
	return false;
}

static bool office_encrypted(const char *data, size_t len)
{
	static const unsigned char cfb_magic[8] = { 0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1 };
	/* The directory entry's name, UTF-16LE. */
	static const char stream[] = "E\0n\0c\0r\0y\0p\0t\0e\0d\0P\0a\0c\0k\0a\0g\0e\0";
	return len >= sizeof(cfb_magic) && memcmp(data, cfb_magic, sizeof(cfb_magic)) == 0 &&
	       memmem(data, len, stream, sizeof(stream) - 1) != NULL;
}

enum encryption_kind encryption_of_part(const char *type, const char *filename, const char *data, size_t len)
{
	if (!data)
		len = 0;
	if (smime_encrypted(type, filename, data ? data : "", len))
		return ENCRYPTION_SMIME;
	if (len == 0)
		return strcmp(type, "application/pgp-encrypted") == 0 ? ENCRYPTION_PGP : ENCRYPTION_NONE;
	if (pgp_encrypted(type, data, len))
		return ENCRYPTION_PGP;
	if (pdf_encrypted(data, len))
		return ENCRYPTION_PDF;
	if (office_encrypted(data, len))
		return ENCRYPTION_OFFICE;
	return ENCRYPTION_NONE;
}
