/* Relay analysis through the rule engine (rules_eval_relay.c, issue 11;
 * SCAN-5): header rules on X-Spam-Relays-*, the rule files'
 * trusted_networks lines, and RelayEval's tests as Debian's files use them. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "content/mime.h"
#include "content/rules.h"

static struct rule_set *rs;

static void free_rules(void)
{
	rules_free(rs);
	rs = NULL;
}

TestSuite(relay_rules, .init = mime_prepare, .fini = free_rules);

/* The rule file text, loaded from a file of its own that is gone again
 * once read. */
static void load(const char *text)
{
	char path[] = "/tmp/mw-relayrules-XXXXXX.cf";
	int fd = mkstemps(path, 3);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	const char *p = path;
	char err[512];
	rs = rules_load(&p, 1, err, sizeof(err));
	unlink(path);
	cr_assert_not_null(rs, "%s", err);
}

static bool hit;
static const char *wanted;

static void on_hit(void *arg, const char *name, int points, const char *describe)
{
	if (strcmp(name, wanted) == 0)
		hit = true;
}

static bool fires(const char *name, const char *header, const char *client_ip, bool client_trusted)
{
	const char *body = "text\r\n";
	size_t blen = strlen(body);
	struct rules_input in = { .full = header, .full_len = strlen(header), .header = header,
				  .header_len = strlen(header), .body = &body, .body_len = &blen, .n_body = 1,
				  .client_ip = client_ip, .client_trusted = client_trusted };
	hit = false;
	wanted = name;
	rules_match(rs, &in, on_hit, NULL);
	return hit;
}

#define RDNS_RULES \
	"header RDNS_NONE X-Spam-Relays-External =~ /^[^\\]]+ rdns= /\nscore RDNS_NONE 1\n" \
	"header ANY_TRUSTED X-Spam-Relays-Trusted =~ /ip=/\nscore ANY_TRUSTED 1\n"

#define NAMELESS "Received: from bulk (unknown [203.0.113.9]) by mx.example.net (Postfix) with ESMTP id 1; Mon\r\n"
#define NAMED "Received: from out.example.org (out.example.org [198.51.100.3]) by mx.example.net (Postfix) " \
	      "with ESMTP id 2; Mon\r\n"

Test(relay_rules, pseudo_header_serves_the_first_external_relay)
{
	load(RDNS_RULES);
	cr_expect(fires("RDNS_NONE", NAMELESS NAMED, NULL, false));
	cr_expect_not(fires("RDNS_NONE", NAMED NAMELESS, NULL, false), "only the first external relay counts");
	cr_expect_not(fires("ANY_TRUSTED", NAMED, NULL, false));
}

Test(relay_rules, rule_files_trusted_networks_move_the_boundary)
{
	load(RDNS_RULES "trusted_networks 203.0.113/24\n");
	cr_expect_not(fires("RDNS_NONE", NAMELESS NAMED, NULL, false), "the nameless hop is ours now");
	cr_expect(fires("ANY_TRUSTED", NAMELESS NAMED, NULL, false));
}

/* The gateway's hop is the client's: smtpd's trust decides. */
Test(relay_rules, gateway_hop_follows_smtpd)
{
	load(RDNS_RULES);
	const char *ours = "Received: from desk (unknown [10.1.1.1]) by mx.gw.test (mailwarden) with ESMTP id 3; Mon\r\n";
	cr_expect(fires("RDNS_NONE", ours, "10.1.1.1", false), "a private-looking client smtpd does not trust");
	cr_expect(fires("ANY_TRUSTED", ours, "10.1.1.1", true));
	cr_expect_not(fires("RDNS_NONE", ours, "10.1.1.1", true));
}

Test(relay_rules, relay_evals)
{
	load("header ALL_TRUSTED eval:check_all_trusted()\nscore ALL_TRUSTED -1\n"
	     "header NO_RELAYS eval:check_no_relays()\nscore NO_RELAYS -1\n"
	     "header UNPARSEABLE eval:check_relays_unparseable()\nscore UNPARSEABLE 1\n"
	     "header RCVD_HELO_IP_MISMATCH eval:helo_ip_mismatch()\nscore RCVD_HELO_IP_MISMATCH 1\n"
	     "header NO_RDNS_DOTCOM_HELO eval:check_for_no_rdns_dotcom_helo()\nscore NO_RDNS_DOTCOM_HELO 1\n"
	     "header FORGED_TRAIL eval:check_for_forged_received_trail()\nscore FORGED_TRAIL 1\n");
#define INSIDE "Received: from a (a.corp [10.0.0.5]) by mx.corp (Postfix) id 1; Mon\r\n"
	cr_expect(fires("ALL_TRUSTED", INSIDE, NULL, false));
	cr_expect_not(fires("ALL_TRUSTED", INSIDE NAMED, NULL, false));
	cr_expect(fires("NO_RELAYS", "Subject: x\r\n", NULL, false));
	cr_expect_not(fires("NO_RELAYS", NAMED, NULL, false));
	cr_expect(fires("UNPARSEABLE", "Received: from x (no address) by y with SMTP id 1; Mon\r\n", NULL, false));
	const char *mismatch = "Received: from 192.0.2.200 (unknown [198.51.100.9]) by mx.example.net (Postfix) id 1; Mon\r\n";
	cr_expect(fires("RCVD_HELO_IP_MISMATCH", mismatch, NULL, false));
	cr_expect_not(fires("RCVD_HELO_IP_MISMATCH", NAMELESS, NULL, false));
	const char *dotcom = "Received: from mx05.hotmail.com (unknown [198.51.100.9]) by mx.example.net (Postfix) id 1; Mon\r\n";
	cr_expect(fires("NO_RDNS_DOTCOM_HELO", dotcom, NULL, false));
	cr_expect_not(fires("NO_RDNS_DOTCOM_HELO", NAMELESS, NULL, false));
	/* Each hop claims a receiver the next one's sender does not match. */
	const char *trail = "Received: from a.one.example (a.one.example [198.51.100.1]) by mx.example.net (Postfix) id 1; Mon\r\n"
			    "Received: from b.two.example (b.two.example [198.51.100.2]) by relay.other.example (8.17) id 2; Mon\r\n"
			    "Received: from c.three.example (c.three.example [198.51.100.3]) by gw.third.example (8.17) id 3; Mon\r\n";
	cr_expect(fires("FORGED_TRAIL", trail, NULL, false));
	cr_expect_not(fires("FORGED_TRAIL", NAMED, NULL, false));
}

/* A folded Received field is one line to the rules, with one space per
 * fold, as SpamAssassin unfolds (Debian's __DOMINO_RCVD spans a fold). */
Test(relay_rules, folded_fields_unfold_to_one_space)
{
	load("header DOMINO Received =~ /by \\S+ \\(Lotus Domino /\nscore DOMINO 1\n");
	cr_expect(fires("DOMINO", "Received: from x ([192.0.2.1]) by relay.example\r\n    (Lotus Domino Release 5.0.5) "
				  "with SMTP id 1; Mon\r\n", NULL, false));
}

/* HeaderEval's free-mail forgery tests: the provider's own marks clear a
 * From address of theirs; without them it is forged. */
Test(relay_rules, forged_free_mail_received_headers)
{
	load("header FORGED_YAHOO_RCVD eval:check_for_forged_yahoo_received_headers()\nscore FORGED_YAHOO_RCVD 1\n"
	     "header FORGED_HOTMAIL_RCVD2 eval:check_for_no_hotmail_received_headers()\nscore FORGED_HOTMAIL_RCVD2 1\n"
	     "header __FORGED_HOTMAIL_RCVD eval:check_for_forged_hotmail_received_headers()\n"
	     "meta FORGED_HOTMAIL_CLAIM __FORGED_HOTMAIL_RCVD\nscore FORGED_HOTMAIL_CLAIM 1\n"
	     "header FORGED_GMAIL_RCVD eval:check_for_forged_gmail_received_headers()\nscore FORGED_GMAIL_RCVD 1\n");
	cr_expect(fires("FORGED_YAHOO_RCVD", NAMED "From: joe@yahoo.com\r\n", NULL, false));
	cr_expect_not(fires("FORGED_YAHOO_RCVD", "Received: from [192.0.2.1] by web12.mail.sc5.yahoo.com via HTTP; Mon\r\n"
						 NAMED "From: joe@yahoo.com\r\n", NULL, false));
	cr_expect_not(fires("FORGED_YAHOO_RCVD", NAMED "From: joe@example.org\r\n", NULL, false));
	cr_expect(fires("FORGED_HOTMAIL_RCVD2", NAMED "From: joe@hotmail.com\r\n", NULL, false));
	cr_expect(fires("FORGED_HOTMAIL_CLAIM", "Received: from mx12.hotmail.com ([198.51.100.9]) by mx.example.net "
						"(8.17) id 1; Mon\r\nFrom: joe@example.org\r\n", NULL, false));
	cr_expect_not(fires("FORGED_HOTMAIL_RCVD2", "Received: from BAY4-F12.hotmail.com (bay4-f12.bay4.hotmail.com "
						"[65.54.171.12]) by mx.example.net (Postfix) id 1; Mon\r\n"
						"X-Originating-IP: [192.0.2.7]\r\nFrom: joe@hotmail.com\r\n", NULL, false));
	cr_expect(fires("FORGED_GMAIL_RCVD", NAMED "From: joe@gmail.com\r\n", NULL, false));
	cr_expect_not(fires("FORGED_GMAIL_RCVD", "X-Received: by 10.1.2.3 with SMTP id a1mr; Mon\r\n" NAMED
						 "From: joe@gmail.com\r\n", NULL, false));
}
