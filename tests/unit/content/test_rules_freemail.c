/* SpamAssassin's FreeMail plugin (rules_eval_freemail.c) and the HeaderEval
 * tests of rules_eval_header.c, run through the rule engine as Debian's
 * rule files use them (issue 11; SCAN-5: content rules). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "content/mime.h"
#include "content/rules.h"

static char dir[] = "/tmp/mw-freemail-XXXXXX";
static struct rule_set *rs;

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
	mime_prepare();
}

static void teardown(void)
{
	rules_free(rs);
	rs = NULL;
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
	strcpy(dir, "/tmp/mw-freemail-XXXXXX");
}

TestSuite(freemail, .init = setup, .fini = teardown);

/* The providers of the tests, in the forms Debian's list uses. */
#define DOMAINS "freemail_domains gmail.com hotmail.com yahoo.* aol.co*.* *.att.ne.jp\n"

static void load(const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/20_freemail.cf", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	const char *p = path;
	char err[512];
	rs = rules_load(&p, 1, err, sizeof(err));
	cr_assert_not_null(rs, "%s", err);
}

struct seen {
	char names[16][64];
	size_t n;
};

static void on_hit(void *arg, const char *name, int points, const char *describe)
{
	struct seen *s = arg;
	if (s->n < 16)
		snprintf(s->names[s->n++], sizeof(s->names[0]), "%s", name);
}

/* The message header[CRLF]body (and mailto: links, envelope sender): does
 * rule name hit? */
static bool fires_with(const char *name, const char *header, const char *body, const char *mailto, const char *env)
{
	char full[8192];
	snprintf(full, sizeof(full), "%s\r\n%s", header, body);
	const char *paras[] = { body };
	size_t plen[] = { strlen(body) };
	const char *uris[] = { mailto };
	size_t ulen[] = { mailto ? strlen(mailto) : 0 };
	struct rules_input in = { .full = full, .full_len = strlen(full), .header = header, .header_len = strlen(header),
				  .body = paras, .body_len = plen, .n_body = 1, .rawbody = paras, .rawbody_len = plen,
				  .n_rawbody = 1, .uri = uris, .uri_len = ulen, .n_uri = mailto ? 1 : 0,
				  .envelope_from = env };
	struct seen s = { .n = 0 };
	rules_match(rs, &in, on_hit, &s);
	for (size_t i = 0; i < s.n; i++)
		if (strcmp(s.names[i], name) == 0)
			return true;
	return false;
}

static bool fires(const char *name, const char *header, const char *body)
{
	return fires_with(name, header, body, NULL, NULL);
}

static bool noted(const char *text)
{
	for (size_t i = 0; i < rules_notes(rs); i++)
		if (strstr(rules_note(rs, i), text))
			return true;
	return false;
}

Test(freemail, from_is_a_listed_provider_with_wildcards_that_stop_at_dots)
{
	load("ifplugin Mail::SpamAssassin::Plugin::FreeMail\n" DOMAINS
	     "header FM_FROM eval:check_freemail_from()\nscore FM_FROM 1\nendif\n");
	cr_assert_eq(rules_count(rs), 1, "the plugin's ifplugin block is read");
	cr_assert(fires("FM_FROM", "From: Joe <Joe@GMail.com>\r\n", "hi"));
	cr_assert(fires("FM_FROM", "From: joe@yahoo.de\r\n", "hi"), "yahoo.*");
	cr_assert(fires("FM_FROM", "From: joe@aol.com.ar\r\n", "hi"), "aol.co*.*");
	cr_assert(fires("FM_FROM", "From: joe@x.att.ne.jp\r\n", "hi"), "*.att.ne.jp");
	cr_assert_not(fires("FM_FROM", "From: joe@yahoo.co.uk\r\n", "hi"), "'*' does not cross a dot");
	cr_assert_not(fires("FM_FROM", "From: joe@mail.gmail.com\r\n", "hi"), "a subdomain is not the provider");
	cr_assert_not(fires("FM_FROM", "From: joe@example.com\r\n", "hi"));
	cr_assert_not(fires("FM_FROM", "From: info@gmail.com\r\n", "hi"), "role mailboxes are not free mail");
	cr_assert_not(fires("FM_FROM", "From: a=b.c=d@gmail.com\r\n", "hi"), "forwarding addresses either");
}

Test(freemail, from_counts_every_sender_address_and_the_envelope)
{
	load(DOMAINS "header FM_FROM eval:check_freemail_from()\nscore FM_FROM 1\n");
	cr_assert(fires_with("FM_FROM", "From: joe@example.com\r\n", "hi", NULL, "joe@hotmail.com"));
	cr_assert(fires("FM_FROM", "From: joe@example.com\r\nReturn-Path: <joe@hotmail.com>\r\n", "hi"),
		  "without an envelope: the Return-Path");
	cr_assert(fires("FM_FROM", "From: joe@example.com\r\nResent-Sender: x@gmail.com\r\n", "hi"));
	cr_assert_not(fires("FM_FROM", "From: joe@gmail.com\r\nResent-From: list@example.com\r\n", "hi"),
		      "a resent message: Resent-From alone names the sender");
}

Test(freemail, welcomelist_and_no_domains_mean_no_free_mail)
{
	load(DOMAINS "freemail_welcomelist boss@gmail.com hotmail.com\n"
		     "header FM_FROM eval:check_freemail_from()\nscore FM_FROM 1\n");
	cr_assert_not(fires("FM_FROM", "From: boss@gmail.com\r\n", "hi"));
	cr_assert_not(fires("FM_FROM", "From: joe@hotmail.com\r\n", "hi"));
	cr_assert(fires("FM_FROM", "From: joe@gmail.com\r\n", "hi"));
	rules_free(rs);
	load("header FM_FROM eval:check_freemail_from()\nscore FM_FROM 1\n");
	cr_assert_not(fires("FM_FROM", "From: joe@gmail.com\r\n", "hi"), "no freemail_domains: no hit");
}

Test(freemail, a_bad_setting_is_noted_with_file_and_line)
{
	load(DOMAINS "freemail_domains good.example b@d/\nfreemail_max_body_emails lots\n");
	cr_assert(noted("20_freemail.cf:2: freemail_domains: not a domain: b@d/"));
	cr_assert(noted("20_freemail.cf:3: freemail_max_body_emails: not a number"));
	cr_assert_eq(rules_ignored(rs), 0, "freemail settings are taken, not ignored");
}

Test(freemail, header_with_and_without_a_regex)
{
	load(DOMAINS "header FM_RT_DIGIT eval:check_freemail_header('Reply-To', '\\d@')\nscore FM_RT_DIGIT 1\n"
		     "header FM_RT eval:check_freemail_header('Reply-To')\nscore FM_RT 1\n"
		     "header FM_ENV_DIGIT eval:check_freemail_header('EnvelopeFrom', '\\d@')\nscore FM_ENV_DIGIT 1\n");
	const char *digit = "From: a@example.com\r\nReply-To: x@example.com, joe7@gmail.com\r\n";
	cr_assert(fires("FM_RT_DIGIT", digit, "hi"), "any address of the field");
	cr_assert(fires("FM_RT", digit, "hi"));
	cr_assert_not(fires("FM_RT_DIGIT", "Reply-To: joe@gmail.com\r\n", "hi"));
	cr_assert(fires("FM_RT", "Reply-To: joe@gmail.com\r\n", "hi"));
	cr_assert_not(fires("FM_RT", "From: joe@gmail.com\r\n", "hi"));
	cr_assert(fires_with("FM_ENV_DIGIT", "From: a@example.com\r\n", "hi", NULL, "bob12@hotmail.com"));
	cr_assert_not(fires_with("FM_ENV_DIGIT", "From: a@example.com\r\n", "hi", NULL, "bob12@example.com"));
}

Test(freemail, replyto_to_another_free_mailbox)
{
	load(DOMAINS "header FM_REPLYTO eval:check_freemail_replyto('replyto')\nscore FM_REPLYTO 1\n"
		     "header FM_REPLY eval:check_freemail_replyto('reply')\nscore FM_REPLY 1\n");
	cr_assert(fires("FM_REPLYTO", "From: a@gmail.com\r\nReply-To: b@hotmail.com\r\n", "hi"));
	cr_assert_not(fires("FM_REPLYTO", "From: a@gmail.com\r\nReply-To: a@gmail.com\r\n", "hi"));
	cr_assert_not(fires("FM_REPLYTO", "From: a@example.com\r\nReply-To: b@gmail.com\r\n", "hi"),
		      "a free Reply-To alone is no contradiction");
	cr_assert(fires("FM_REPLYTO", "From: a@example.com\r\nReply-To: b@gmail.com\r\n", "write to c@hotmail.com now"),
		  "the body asks for another free mailbox");
	cr_assert_not(fires("FM_REPLYTO", "From: a@gmail.com\r\n", "write to c@hotmail.com now"),
		      "replyto needs a Reply-To");
	cr_assert(fires("FM_REPLY", "From: a@gmail.com\r\n", "write to c@hotmail.com now"),
		  "reply: without Reply-To, From against the body");
	cr_assert(fires_with("FM_REPLY", "From: a@gmail.com\r\n", "click", "mailto:c@hotmail.com", NULL),
		  "a mailto: link counts as a body address");
	cr_assert_not(fires_with("FM_REPLY", "From: a@gmail.com\r\n", "c@hotmail.com Http://example.com",
				 "mailto:c@hotmail.com", NULL),
		      "a link shown as its address counts where the text shows it (here before a word and colon)");
	cr_assert_not(fires_with("FM_REPLYTO", "From: a@gmail.com\r\nReply-To: b@hotmail.com\r\n", "hi", NULL,
				 "owner-list@lists.example.org"),
		      "mail from a list or bounce sender is skipped");
}

Test(freemail, body_addresses_that_are_quotes_or_too_many_do_not_count)
{
	load(DOMAINS "header FM_BODY eval:check_freemail_body()\nscore FM_BODY 1\n"
		     "header FM_BODY_DIGIT eval:check_freemail_body('\\d@')\nscore FM_BODY_DIGIT 1\n");
	cr_assert(fires("FM_BODY", "Subject: x\r\n", "contact me at joe@gmail.com today"));
	cr_assert_not(fires("FM_BODY_DIGIT", "Subject: x\r\n", "contact me at joe@gmail.com today"));
	cr_assert(fires("FM_BODY_DIGIT", "Subject: x\r\n", "contact me at joe9@gmail.com today"));
	cr_assert_not(fires("FM_BODY", "Subject: x\r\n", "joe@gmail.com wrote: hello"), "a quotation");
	cr_assert_not(fires("FM_BODY", "Subject: x\r\n", "From: Joe <joe@gmail.com>"), "a quoted header");
	cr_assert(fires("FM_BODY", "Subject: x\r\n", "joe@gmail.com   phone: 555"), "a contact label is no quote");
	cr_assert_not(fires("FM_BODY", "Subject: x\r\n", "see http://t.example/?u=joe@gmail.com"), "inside a link");
	cr_assert_not(fires("FM_BODY", "Subject: x\r\n", "a@gmail.com b@gmail.com c@gmail.com"),
		      "three free addresses: a list, skipped");
	cr_assert_not(fires("FM_BODY", "Subject: x\r\n", "a@gmail.com b@x.com c@y.com d@z.com e@w.com"),
		      "five addresses: skipped");
	rules_free(rs);
	load(DOMAINS "freemail_skip_when_over_max 0\nheader FM_BODY eval:check_freemail_body()\nscore FM_BODY 1\n");
	cr_assert(fires("FM_BODY", "Subject: x\r\n", "a@gmail.com b@gmail.com c@gmail.com"));
}

/* --- HeaderEval ------------------------------------------------------------------ */

#define HEADER_EVALS                                                                  \
	"header OUTLOOK eval:check_outlook_message_id()\nscore OUTLOOK 1\n"           \
	"header ALL_CAPS eval:subject_is_all_caps()\nscore ALL_CAPS 1\n"              \
	"header NO_TO eval:check_for_missing_to_header()\nscore NO_TO 1\n"            \
	"header TO_USER eval:check_for_to_in_subject('user')\nscore TO_USER 1\n"      \
	"header TO_ADDR eval:check_for_to_in_subject('address')\nscore TO_ADDR 1\n"   \
	"header RATWARE eval:check_ratware_envelope_from()\nscore RATWARE 1\n"        \
	"header ENV_IS_FROM eval:check_for_matching_env_and_hdr_from()\nscore ENV_IS_FROM 1\n" \
	"header DIFF_DOMAINS eval:check_equal_from_domains()\nscore DIFF_DOMAINS 1\n" \
	"header TEMPLATE eval:check_unresolved_template()\nscore TEMPLATE 1\n" \
	"header NAME_ID eval:check_ratware_name_id()\nscore NAME_ID 1\n" \
	"header NO_RCVD eval:gated_through_received_hdr_remover()\nscore NO_RCVD 1\n" \
	"header SORTED eval:sorted_recipients()\nscore SORTED 1\n" \
	"header SIMILAR eval:similar_recipients('0.65', 'undef')\nscore SIMILAR 1\n"

/* 01dd85ee: the time part Outlook writes for this Date. */
#define OUTLOOK_DATE "Date: Mon, 07 Dec 2026 02:00:00 +0000\r\n"

Test(freemail, outlook_message_id_must_fit_the_date)
{
	load(HEADER_EVALS);
	cr_assert_not(fires("OUTLOOK", OUTLOOK_DATE "Message-Id: <000001dd85ee$0a1b2c3d$4e5f6a7b@pc>\r\n", "x"));
	cr_assert(fires("OUTLOOK", OUTLOOK_DATE "Message-Id: <000001aa0000$0a1b2c3d$4e5f6a7b@pc>\r\n", "x"));
	cr_assert(fires("OUTLOOK", "Date: Thu, 10 Dec 2026 02:00:00 +0000\r\n"
				   "Message-Id: <000001dd85ee$0a1b2c3d$4e5f6a7b@pc>\r\n", "x"),
		  "three days off (the margin is about 30 hours), no Received to save it");
	cr_assert_not(fires("OUTLOOK", "Received: from a by b; Mon, 07 Dec 2026 02:00:00 +0000\r\n"
				       "Date: Thu, 10 Dec 2026 02:00:00 +0000\r\n"
				       "Message-Id: <000001dd85ee$0a1b2c3d$4e5f6a7b@pc>\r\n", "x"),
		      "the first relay's time fits");
	cr_assert_not(fires("OUTLOOK", OUTLOOK_DATE "Message-Id: <abc@example.com>\r\n", "x"), "not Outlook's form");
}

Test(freemail, subject_in_capitals)
{
	load(HEADER_EVALS);
	cr_assert(fires("ALL_CAPS", "Subject: FREE MONEY FOR YOU\r\n", "x"));
	cr_assert(fires("ALL_CAPS", "Subject: Re: FREE MONEY FOR YOU!!\r\n", "x"));
	cr_assert_not(fires("ALL_CAPS", "Subject: Free money for you\r\n", "x"));
	cr_assert_not(fires("ALL_CAPS", "Subject: FREEMONEYFORYOU\r\n", "x"), "one word");
	cr_assert_not(fires("ALL_CAPS", "Subject: FREE NOW\r\n", "x"), "shorter than 10");
	cr_assert_not(fires("ALL_CAPS", "Subject: =?koi8-r?Q?FREE_MONEY_FOR_YOU?=\r\n", "x"), "a charset that looks so");
	cr_assert_not(fires("ALL_CAPS", "Subject: 1234 5678 90\r\n", "x"), "no letters");
}

Test(freemail, to_missing_or_named_in_the_subject)
{
	load(HEADER_EVALS);
	cr_assert(fires("NO_TO", "From: a@example.com\r\n", "x"));
	cr_assert(fires("NO_TO", "To:  \r\n", "x"));
	cr_assert_not(fires("NO_TO", "Apparently-To: b@example.com\r\n", "x"));
	cr_assert_not(fires("NO_TO", "To: b@example.com\r\n", "x"));
	cr_assert(fires("TO_USER", "To: joe@example.com\r\nSubject: joe, your prize\r\n", "x"));
	cr_assert(fires("TO_USER", "To: joe@example.com\r\nSubject: Re: hi joe\r\n", "x"));
	cr_assert(fires("TO_USER", "To: joe@example.com\r\nSubject: JOE\r\n", "x"));
	cr_assert_not(fires("TO_USER", "To: joe@example.com\r\nSubject: JOE, your prize\r\n", "x"),
		      "a greeting must be written as the address is");
	cr_assert_not(fires("TO_USER", "To: joe@example.com\r\nSubject: joey is here\r\n", "x"));
	cr_assert(fires("TO_ADDR", "To: joe@example.com\r\nSubject: for Joe@Example.com only\r\n", "x"));
	cr_assert_not(fires("TO_ADDR", "To: joe@example.com\r\nSubject: for joe only\r\n", "x"));
}

Test(freemail, envelope_sender_made_of_the_recipient_or_equal_to_from)
{
	load(HEADER_EVALS);
	const char *to = "To: joe@mail.example.com\r\nFrom: joe@example.org\r\n";
	cr_assert(fires_with("RATWARE", to, "x", NULL, "example.com.joe@spam.test"));
	cr_assert(fires_with("RATWARE", to, "x", NULL, "example.com-joe@spam.test"));
	cr_assert_not(fires_with("RATWARE", to, "x", NULL, "joe@example.com"));
	cr_assert_not(fires_with("RATWARE", to, "x", NULL, "SRS0=ab=cd=example.com.joe@fwd.test"), "SRS");
	cr_assert(fires_with("ENV_IS_FROM", to, "x", NULL, "JOE@example.org"));
	cr_assert_not(fires_with("ENV_IS_FROM", to, "x", NULL, "bounce@example.org"));
	cr_assert(fires("ENV_IS_FROM", "From: a@example.org\r\nReturn-Path: <a@example.org>\r\n", "x"));
	cr_assert(fires_with("DIFF_DOMAINS", to, "x", NULL, "bounce@mail.example.net"));
	cr_assert_not(fires_with("DIFF_DOMAINS", to, "x", NULL, "bounce@lists.EXAMPLE.org"), "same last two labels");
	cr_assert_not(fires("DIFF_DOMAINS", to, "x"), "no envelope sender known");
}

/* A saved message: the envelope is read from the header as SpamAssassin
 * does, only from fields the final delivery wrote above the Received ones. */
Test(freemail, envelope_of_a_saved_message_comes_from_above_the_received_fields)
{
	load(HEADER_EVALS);
	const char *rcvd = "Received: from a by b; Mon, 07 Dec 2026 02:00:00 +0000\r\n";
	char hdr[1024];
	snprintf(hdr, sizeof(hdr), "Return-Path: <b@other.net>\r\n%sFrom: a@example.org\r\n", rcvd);
	cr_assert(fires("DIFF_DOMAINS", hdr, "x"));
	snprintf(hdr, sizeof(hdr), "%sReturn-Path: <b@other.net>\r\nFrom: a@example.org\r\n", rcvd);
	cr_assert_not(fires("DIFF_DOMAINS", hdr, "x"), "below a Received: an earlier hop's");
	snprintf(hdr, sizeof(hdr), "X-Envelope-From: <b@other.net>\r\nReturn-Path: <a@example.org>\r\n%s"
		 "From: a@example.org\r\n", rcvd);
	cr_assert(fires("DIFF_DOMAINS", hdr, "x"), "X-Envelope-From first");
	snprintf(hdr, sizeof(hdr), "Return-Path: <b@other.net>\r\nX-Sender: c@list.example\r\n"
		 "Received: from x by y with ESMTP (fetchmail-5.9.0)\r\nFrom: a@example.org\r\n");
	cr_assert_not(fires("DIFF_DOMAINS", hdr, "x"), "fetched by fetchmail: no envelope known");
}

Test(freemail, templates_ratware_ids_and_removed_received_fields)
{
	load(HEADER_EVALS);
	const char *rcvd = "Received: from a by b; Mon, 07 Dec 2026 02:00:00 +0000\r\n";
	char hdr[1024];
	snprintf(hdr, sizeof(hdr), "%sX-Mailer: %%MAILER_NAME\r\n", rcvd);
	cr_assert(fires("TEMPLATE", hdr, "x"));
	snprintf(hdr, sizeof(hdr), "%sSubject: 100%%FREE\r\nX-Mailer: 50%%off\r\n", rcvd);
	cr_assert_not(fires("TEMPLATE", hdr, "x"), "Subject is exempt; lower case is no placeholder");
	snprintf(hdr, sizeof(hdr), "%sMessage-Id: <ABCDEFGHIJKLMNOPQRSTUVWXYZAB.joe@spam.test>\r\n"
		 "From: \"Joe\" <joe@spam.test>\r\n", rcvd);
	cr_assert(fires("NAME_ID", hdr, "x"));
	snprintf(hdr, sizeof(hdr), "%sMessage-Id: <ABCDEFGHIJKLMNOPQRSTUVWXYZAB.joe@spam.test>\r\n"
		 "From: joe@spam.test\r\n", rcvd);
	cr_assert_not(fires("NAME_ID", hdr, "x"), "no quoted name");
	cr_assert(fires("NO_RCVD", "From: a@example.org\r\n", "x"));
	cr_assert_not(fires("NO_RCVD", rcvd, "x"));
	cr_assert(fires("NO_RCVD", "Received: from groups.msn.com (x.msn.com [10.0.0.1]) by y\r\n", "x"));
}

Test(freemail, recipients_in_order_or_alike)
{
	load(HEADER_EVALS);
	cr_assert(fires("SORTED", "To: a@x.test, b@y.test, c@x.test, d@z.test\r\nCc: e@w.test, f@v.test, g@u.test\r\n",
			"x"));
	cr_assert_not(fires("SORTED", "To: a@x.test, c@y.test, b@x.test, d@z.test, e@w.test, f@v.test, g@u.test\r\n",
			    "x"));
	cr_assert_not(fires("SORTED", "To: a@x.test, b@y.test, c@x.test\r\n", "x"), "fewer than 7");
	cr_assert(fires("SIMILAR", "To: joe@mail1.test, ann@mail2.test, bob@mail3.test, kim@mail4.test, lee@mail5.test\r\n",
			"x"), "hosts alike but not the same: a harvested list");
	cr_assert_not(fires("SIMILAR", "To: joe@aa.test, bob@mail.test, kim@x.test, lee@pp.test, sue@zz.test\r\n", "x"));
}
