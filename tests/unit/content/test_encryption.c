/* The recognisers of encrypted content (issue 12, SCAN-10;
 * content/encryption.h): S/MIME by the CMS content type OID, PGP/MIME and
 * inline PGP, encrypted PDF by its /Encrypt key, encrypted Office by the
 * OLE EncryptedPackage stream; and what is not encrypted stays NONE. */
#include <criterion/criterion.h>
#include <string.h>

#include <openssl/objects.h>

#include "content/encryption.h"

/* The start of a BER ContentInfo: SEQUENCE (indefinite), OID, [0]. */
#define CI_START "\x30\x80\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07"
static const char enveloped[] = CI_START "\x03\xa0\x80";
static const char signed_data[] = CI_START "\x02\xa0\x80";
static const char encrypted_data[] = CI_START "\x06\xa0\x80";
/* Definite length, id-ct-authEnvelopedData 1.2.840.113549.1.9.16.1.23. */
static const char auth_enveloped[] = "\x30\x0f\x06\x0b\x2a\x86\x48\x86\xf7\x0d\x01\x09\x10\x01\x17\xa0\x00";
/* id-ct-compressedData 1.2.840.113549.1.9.16.1.9. */
static const char compressed[] = "\x30\x0f\x06\x0b\x2a\x86\x48\x86\xf7\x0d\x01\x09\x10\x01\x09\xa0\x00";

static enum encryption_kind of(const char *type, const char *name, const char *data, size_t len)
{
	return encryption_of_part(type, name, data, len);
}

#define OF(type, name, lit) of(type, name, lit, sizeof(lit) - 1)

Test(encryption, cms_content_type_is_read_from_the_oid)
{
	cr_assert_eq(encryption_cms_type((const unsigned char *)enveloped, sizeof(enveloped) - 1), NID_pkcs7_enveloped);
	cr_assert_eq(encryption_cms_type((const unsigned char *)signed_data, sizeof(signed_data) - 1), NID_pkcs7_signed);
	cr_assert_eq(encryption_cms_type((const unsigned char *)"\x04\x02" "ab", 4), NID_undef, "not a SEQUENCE");
	cr_assert_eq(encryption_cms_type((const unsigned char *)"\x30\x80\x06\x09\x2a", 5), NID_undef, "cut short");
	cr_assert_eq(encryption_cms_type((const unsigned char *)"", 0), NID_undef);
}

Test(encryption, smime_enveloped_and_other_encrypted_cms_are_smime)
{
	cr_assert_eq(OF("application/pkcs7-mime", "smime.p7m", enveloped), ENCRYPTION_SMIME);
	cr_assert_eq(OF("application/x-pkcs7-mime", NULL, enveloped), ENCRYPTION_SMIME);
	cr_assert_eq(OF("application/pkcs7-mime", NULL, auth_enveloped), ENCRYPTION_SMIME);
	cr_assert_eq(OF("application/pkcs7-mime", NULL, encrypted_data), ENCRYPTION_SMIME);
	/* A .p7m sent as octet-stream: judged by its name, then its OID. */
	cr_assert_eq(OF("application/octet-stream", "Report.P7M", enveloped), ENCRYPTION_SMIME);
	/* What cannot be read as CMS cannot be scanned either. */
	cr_assert_eq(OF("application/pkcs7-mime", NULL, "garbage"), ENCRYPTION_SMIME);
}

Test(encryption, smime_signed_or_compressed_data_is_not_encrypted)
{
	cr_assert_eq(OF("application/pkcs7-mime", "smime.p7m", signed_data), ENCRYPTION_NONE);
	cr_assert_eq(OF("application/pkcs7-mime", NULL, compressed), ENCRYPTION_NONE);
	cr_assert_eq(OF("application/pkcs7-signature", "smime.p7s", signed_data), ENCRYPTION_NONE);
	/* The OID, not a name, decides: enveloped data under another name. */
	cr_assert_eq(OF("application/octet-stream", "data.bin", enveloped), ENCRYPTION_NONE);
}

Test(encryption, pgp_mime_and_inline_pgp)
{
	cr_assert_eq(OF("application/pgp-encrypted", NULL, "Version: 1\r\n"), ENCRYPTION_PGP);
	cr_assert_eq(of("application/pgp-encrypted", NULL, NULL, 0), ENCRYPTION_PGP, "an empty control part");
	cr_assert_eq(OF("text/plain", NULL, "Hello,\r\n\r\n-----BEGIN PGP MESSAGE-----\r\n\r\nhQEMA\r\n"
					"-----END PGP MESSAGE-----\r\n"), ENCRYPTION_PGP);
	cr_assert_eq(OF("application/octet-stream", "msg.asc", "-----BEGIN PGP MESSAGE-----\nx\n"), ENCRYPTION_PGP);
	/* Quoted in a sentence, signed, or a key: not an encrypted block. */
	cr_assert_eq(OF("text/plain", NULL, "paste it after -----BEGIN PGP MESSAGE----- please\r\n"), ENCRYPTION_NONE);
	cr_assert_eq(OF("text/plain", NULL, "-----BEGIN PGP SIGNED MESSAGE-----\r\nhi\r\n"), ENCRYPTION_NONE);
	cr_assert_eq(OF("text/plain", NULL, "-----BEGIN PGP PUBLIC KEY BLOCK-----\r\n"), ENCRYPTION_NONE);
}

Test(encryption, pdf_with_an_encrypt_dictionary)
{
	cr_assert_eq(OF("application/pdf", "a.pdf", "%PDF-1.4\n1 0 obj<<>>endobj\ntrailer\n<< /Root 1 0 R "
						     "/Encrypt 5 0 R /ID [<a><b>] >>\n%%EOF\n"), ENCRYPTION_PDF);
	cr_assert_eq(OF("application/pdf", "a.pdf", "%PDF-1.7\n9 0 obj<</Type/XRef/Encrypt<</Filter/Standard"
						     "/V 4>>/Size 9>>stream\n"), ENCRYPTION_PDF);
	cr_assert_eq(OF("application/octet-stream", "x", "junk before\n%PDF-1.3\ntrailer<</Encrypt\r\n7 0 R>>"),
		     ENCRYPTION_PDF, "found by content, whatever the type");
}

Test(encryption, pdf_without_encryption_is_none)
{
	cr_assert_eq(OF("application/pdf", "a.pdf", "%PDF-1.4\ntrailer\n<< /Root 1 0 R /Size 3 >>\n%%EOF\n"),
		     ENCRYPTION_NONE);
	cr_assert_eq(OF("application/pdf", "a.pdf", "%PDF-1.4\n<< /EncryptMetadata false >>\n"), ENCRYPTION_NONE);
	cr_assert_eq(OF("application/pdf", "a.pdf", "%PDF-1.4\n(see /Encrypt in the spec)\n"), ENCRYPTION_NONE);
	cr_assert_eq(OF("text/plain", NULL, "trailer << /Encrypt 5 0 R >>"), ENCRYPTION_NONE, "not a PDF");
}

Test(encryption, office_encrypted_package_in_ole)
{
	char doc[1024] = "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1";
	static const char name[] = "E\0n\0c\0r\0y\0p\0t\0e\0d\0P\0a\0c\0k\0a\0g\0e\0";
	memcpy(doc + 512, name, sizeof(name) - 1);
	cr_assert_eq(of("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "a.docx", doc,
			sizeof(doc)), ENCRYPTION_OFFICE);
	static const char other[] = "W\0o\0r\0d\0D\0o\0c\0u\0m\0e\0n\0t\0";
	memset(doc + 512, 0, sizeof(name));
	memcpy(doc + 512, other, sizeof(other) - 1);
	cr_assert_eq(of("application/msword", "a.doc", doc, sizeof(doc)), ENCRYPTION_NONE);
	cr_assert_eq(of("application/zip", "a.docx", "PK\x03\x04", 4), ENCRYPTION_NONE);
}

Test(encryption, symbols_and_names)
{
	cr_assert_str_eq(encryption_symbol(ENCRYPTION_SMIME), "ENCRYPTED_SMIME");
	cr_assert_str_eq(encryption_symbol(ENCRYPTION_PGP), "ENCRYPTED_PGP");
	cr_assert_str_eq(encryption_symbol(ENCRYPTION_PDF), "ENCRYPTED_PDF");
	cr_assert_str_eq(encryption_symbol(ENCRYPTION_OFFICE), "ENCRYPTED_OFFICE");
	cr_assert_str_eq(encryption_name(ENCRYPTION_SMIME), "S/MIME");
	cr_assert_eq(OF("text/plain", NULL, "hello"), ENCRYPTION_NONE);
}
