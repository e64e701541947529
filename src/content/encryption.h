/*
 * Encrypted content (issue 12, SCAN-10): which decoded leaf parts of a
 * message (content/mime.h) are encrypted, so that no engine can see what
 * they carry. Pure recognisers over one part's type, name and decoded
 * bytes: no I/O, no allocation beyond OpenSSL's for one ASN.1 object
 * identifier. Thread-safe. content/check_encryption.c applies the policy.
 *
 * Recognised:
 *   S/MIME   application/pkcs7-mime or x-pkcs7-mime, or a *.p7m file,
 *            whose CMS content type (the OID of the outer ContentInfo,
 *            read with OpenSSL) is not signed-data or compressed-data:
 *            enveloped-data, authEnveloped-data, encrypted-data, or no
 *            CMS at all (what cannot be read cannot be scanned either).
 *            The smime-type parameter is the sender's claim; the OID is
 *            what the data is, so a part labelled signed-data that is
 *            enveloped is still found.
 *   PGP      application/pgp-encrypted (the control part of PGP/MIME's
 *            multipart/encrypted, RFC 3156 4), or an armoured block
 *            "-----BEGIN PGP MESSAGE-----" at the start of a line of any
 *            part (inline PGP, and PGP/MIME's own payload).
 *   PDF      "%PDF-" in the first 1024 bytes and an /Encrypt key whose
 *            value is an indirect reference or a dictionary (the trailer's
 *            or a cross-reference stream's, ISO 32000-1 7.5.4, 7.5.8);
 *            /EncryptMetadata and text that merely mentions the word are
 *            not it.
 *   Office   an OLE compound file (MS-CFB magic) with a directory entry
 *            named "EncryptedPackage" (MS-OFFCRYPTO 2.3.4.4: how Office
 *            stores an encrypted OOXML document).
 * Not here: encrypted archives (content/archive*, the attachment policy).
 */
#ifndef MW_CONTENT_ENCRYPTION_H
#define MW_CONTENT_ENCRYPTION_H

#include <stddef.h>

enum encryption_kind {
	ENCRYPTION_NONE,
	ENCRYPTION_SMIME,
	ENCRYPTION_PGP,
	ENCRYPTION_PDF,
	ENCRYPTION_OFFICE,
};
#define ENCRYPTION_KINDS 5

/* What one leaf part is: type lower case ("application/pkcs7-mime"),
 * filename decoded or NULL, data[0..len) with its transfer encoding
 * undone. */
enum encryption_kind encryption_of_part(const char *type, const char *filename, const char *data, size_t len);

/* "ENCRYPTED_SMIME" ... ("" for ENCRYPTION_NONE), and for people
 * "S/MIME", "PGP", "PDF", "Office". */
const char *encryption_symbol(enum encryption_kind k);
const char *encryption_name(enum encryption_kind k);

/* The CMS content type of a DER ContentInfo in der[0..len): OpenSSL's NID
 * (NID_pkcs7_enveloped, ...), or NID_undef when it is not one. Exposed
 * for the unit tests. */
int encryption_cms_type(const unsigned char *der, size_t len);

#endif
