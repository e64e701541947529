/* Relay analysis (content/relays.c, issue 11; SCAN-5): Received fields in
 * the forms real MTAs write, the trust boundary (inferred, configured, the
 * gateway's own hop) and the X-Spam-Relays-* text. The lines are our own,
 * written in each MTA's format with documentation addresses. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "content/relays.h"

struct form {
	const char *mta;
	const char *line;
	const char *ip, *rdns, *helo, *by, *id;
};

static const struct form forms[] = {
	{ "postfix", "from mail.example.org (mail.example.org [198.51.100.7])\r\n\tby mx.example.net (Postfix) with ESMTPS "
		     "id 4QxYz1;\r\n\tMon, 7 Dec 2026 04:00:00 +0000",
	  "198.51.100.7", "mail.example.org", "mail.example.org", "mx.example.net", "4QxYz1" },
	{ "postfix_unknown", "from bulk-sender (unknown [203.0.113.9]) by mx.example.net (Postfix) with ESMTP id AB12; "
			     "Mon, 7 Dec 2026 04:00:00 +0000",
	  "203.0.113.9", "", "bulk-sender", "mx.example.net", "AB12" },
	{ "sendmail_ident", "from helo.example.com (root@host.example.com [192.0.2.10]) by relay.example.net "
			    "(8.17.1/8.17.1) with ESMTP id 2B7H4aQ1; Mon, 7 Dec 2026 04:00:00 +0100",
	  "192.0.2.10", "host.example.com", "helo.example.com", "relay.example.net", "2B7H4aQ1" },
	{ "sendmail_noname", "from friendly.example ([198.51.100.20]) by relay.example.net (8.17.1/8.17.1) with SMTP "
			     "id x1; Mon, 7 Dec 2026 04:00:00 +0100",
	  "198.51.100.20", "", "friendly.example", "relay.example.net", "x1" },
	{ "exim", "from host-7.example.org ([198.51.100.77] helo=greeting.example)\n\tby mx.example.net with esmtps "
		  "(Exim 4.96)\n\tid 1r2ABC-000123-Xy; Mon, 07 Dec 2026 04:00:00 +0000",
	  "198.51.100.77", "host-7.example.org", "greeting.example", "mx.example.net", "1r2ABC-000123-Xy" },
	{ "exim_no_rdns", "from [198.51.100.78] (helo=greeting.example) by mx.example.net with esmtp (Exim 4.96) id "
			  "1r2ABD-000124-Zz; Mon, 07 Dec 2026 04:00:00 +0000",
	  "198.51.100.78", "", "greeting.example", "mx.example.net", "1r2ABD-000124-Zz" },
	{ "exim_same", "from mail.example.org ([198.51.100.79]) by mx.example.net with esmtp (Exim 4.96) id "
		       "1r2ABE-0001; Mon, 07 Dec 2026 04:00:00 +0000",
	  "198.51.100.79", "mail.example.org", "mail.example.org", "mx.example.net", "1r2ABE-0001" },
	{ "qmail", "from unknown (HELO desktop) (203.0.113.44) by mail.example.net with SMTP; 7 Dec 2026 04:00:00 -0000",
	  "203.0.113.44", "", "desktop", "mail.example.net", "" },
	{ "qmail_rdns", "from client.example.org (HELO desktop) (203.0.113.45) by mail.example.net with SMTP; "
			"7 Dec 2026 04:00:00 -0000",
	  "203.0.113.45", "client.example.org", "desktop", "mail.example.net", "" },
	{ "smtpd32", "from 192.0.2.50 [198.51.100.60] by mail.example.net (SMTPD32-7.06) id A4F; "
		     "Fri, 02 Aug 2002 02:18:18 -0400",
	  "198.51.100.60", "", "192.0.2.50", "mail.example.net", "A4F" },
	{ "exchange", "from EXCH01.corp.example.com (10.1.2.3) by EXCH02.corp.example.com (10.1.2.4) with Microsoft "
		      "SMTP Server (version=TLS1_2) id 15.1.2507.27; Mon, 7 Dec 2026 04:00:00 +0000",
	  "10.1.2.3", "", "EXCH01.corp.example.com", "EXCH02.corp.example.com", "" },
	{ "qmail_same", "from relay.example.org (198.51.100.31) by mx.example.net with SMTP; 7 Dec 2026 04:00:00 -0000",
	  "198.51.100.31", "relay.example.org", "relay.example.org", "mx.example.net", "" },
	{ "gmail", "from mail-wr1-f41.google.com (mail-wr1-f41.google.com. [209.85.221.41])\r\n        by mx.google.com "
		   "with SMTPS id v12si;\r\n        Mon, 07 Dec 2026 04:00:00 -0800 (PST)",
	  "209.85.221.41", "mail-wr1-f41.google.com", "mail-wr1-f41.google.com", "mx.google.com", "v12si" },
	{ "ipv6", "from mail.example.org (mail.example.org [IPv6:2001:db8::25]) by mx.example.net (Postfix) with ESMTP "
		  "id Q1; Mon, 7 Dec 2026 04:00:00 +0000",
	  "2001:db8::25", "mail.example.org", "mail.example.org", "mx.example.net", "Q1" },
	{ "mailwarden", "from client.example ([192.0.2.5])\r\n\tby mx.gw.test (mailwarden) with ESMTP id 0123456789ABCDEF;"
			"\r\n\tMon, 07 Dec 2026 04:00:00 +0000",
	  "192.0.2.5", "", "client.example", "mx.gw.test", "0123456789ABCDEF" },
	{ "mailwarden_named", "from client.example (host.example.org [192.0.2.6]) by mx.gw.test (mailwarden) with "
			      "ESMTPS id 0123; Mon, 07 Dec 2026 04:00:00 +0000",
	  "192.0.2.6", "host.example.org", "client.example", "mx.gw.test", "0123" },
};

/* Each MTA's form, with what it says. */
Test(relays, parses_each_form)
{
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		const struct form *f = &forms[i];
		struct relay r;
		cr_assert_eq(relays_parse_line(f->line, strlen(f->line), &r), RELAY_PARSED, "%s", f->mta);
		cr_expect_str_eq(r.ip, f->ip, "%s", f->mta);
		cr_expect_str_eq(r.rdns, f->rdns, "%s", f->mta);
		cr_expect_str_eq(r.helo, f->helo, "%s", f->mta);
		cr_expect_str_eq(r.by, f->by, "%s", f->mta);
		cr_expect_str_eq(r.id, f->id, "%s", f->mta);
	}
}

Test(relays, reads_ident_envelope_and_auth)
{
	struct relay r;
	const char *l = "from laptop (dsl-1.example.org [203.0.113.50]) (Authenticated sender: joe) by "
			"smtp.example.net (Postfix) with ESMTPSA id 9F (envelope-from <joe@example.net>); "
			"Mon, 7 Dec 2026 04:00:00 +0000";
	cr_assert_eq(relays_parse_line(l, strlen(l), &r), RELAY_PARSED);
	cr_expect_str_eq(r.auth, "ESMTPSA");
	cr_expect_str_eq(r.envfrom, "joe@example.net");
	const char *s = "from helo.example.com (joe@host.example.com [192.0.2.10]) by relay.example.net (8.17.1) "
			"with ESMTP id 1; Mon, 7 Dec 2026 04:00:00 +0100";
	cr_assert_eq(relays_parse_line(s, strlen(s), &r), RELAY_PARSED);
	cr_expect_str_eq(r.ident, "joe");
	cr_expect_str_eq(r.auth, "");
}

Test(relays, tells_local_and_unparseable_fields_apart)
{
	struct relay r;
	const char *local[] = {
		"by mx.example.net (Postfix, from userid 1000) id 5A; Mon, 7 Dec 2026 04:00:00 +0000",
		"(qmail 1234 invoked by uid 0); 7 Dec 2026 04:00:00 -0000",
		"from www-data by web.example.net with local (Exim 4.96) id 1r; Mon, 7 Dec 2026 04:00:00 +0000",
		"from virtual.example by relay.example.net ; Mon, 7 Dec 2026 04:00:00 +0000",
		"from joe@example.org by mail.example.net by uid 502 with qmail-scanner-1.10 (Clear:0.); 7 May 2002",
	};
	for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++)
		cr_expect_eq(relays_parse_line(local[i], strlen(local[i]), &r), RELAY_LOCAL, "%s", local[i]);
	const char *odd = "from somewhere (no address here) by relay.example.net with SMTP id 7; Mon, 7 Dec 2026";
	cr_expect_eq(relays_parse_line(odd, strlen(odd), &r), RELAY_UNPARSEABLE);
	const char *fetch = "from pop.example.net [192.0.2.99] by localhost with POP3 (fetchmail-6.4.37) for <joe>";
	cr_expect_eq(relays_parse_line(fetch, strlen(fetch), &r), RELAY_FETCHER);
}

/* A value never carries a blank or bracket into the pseudo-header, where
 * "rdns=\S+" would run into the next key. */
Test(relays, makes_values_safe_for_the_text)
{
	struct relay r;
	const char *l = "from evil(x)helo (a<b>c|d [192.0.2.1]) by mx.example.net (Postfix) with ESMTP id 1; Mon";
	cr_assert_eq(relays_parse_line(l, strlen(l), &r), RELAY_PARSED);
	cr_expect_eq(strpbrk(r.rdns, " []()<>|"), NULL, "%s", r.rdns);
	cr_expect_eq(strpbrk(r.helo, " []()<>|"), NULL, "%s", r.helo);
}

/* Hostile input: a field far beyond the bounds, names beyond their buffers. */
Test(relays, stays_within_bounds)
{
	static char big[RELAYS_LINE_MAX * 4];
	memset(big, 'a', sizeof(big) - 1);
	memcpy(big, "from ", 5);
	struct relay r;
	relays_parse_line(big, strlen(big), &r);
	char line[2048];
	char name[600];
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	snprintf(line, sizeof(line), "from %s (%s [192.0.2.1]) by %s (Postfix) id 1", name, name, name);
	cr_assert_eq(relays_parse_line(line, strlen(line), &r), RELAY_PARSED);
	cr_expect_eq(strlen(r.rdns), sizeof(r.rdns) - 1);
	cr_expect_eq(strlen(r.by), sizeof(r.by) - 1);
}

#define HOP_OURS "Received: from client.example (unknown [198.51.100.7]) by mx.gw.test (mailwarden) with ESMTP " \
		 "id 1; Mon, 7 Dec 2026 04:00:00 +0000\r\n"
#define HOP_INSIDE "Received: from desk.corp.example (desk.corp.example [10.0.0.5]) by mail.corp.example " \
		   "(Postfix) with ESMTP id 2; Mon, 7 Dec 2026 03:59:00 +0000\r\n"
#define HOP_PUBLIC "Received: from sender.example (out.sender.example [203.0.113.9]) by mail.corp.example " \
		   "(Postfix) with ESMTP id 3; Mon, 7 Dec 2026 03:58:00 +0000\r\n"

static void build(struct relays *rs, const char *hdr, const struct relay_trust *t)
{
	relays_build(rs, hdr, strlen(hdr), t);
}

/* SpamAssassin's inference without trusted_networks: private addresses
 * (and logged-in hops) are ours, up to the first public one. */
Test(relays, infers_trust_from_private_addresses)
{
	static struct relays rs;
	struct relay_trust t = { 0 };
	build(&rs, "Received: from a (a [10.0.0.1]) by mx.example (Postfix) id 1; Mon\r\n" HOP_PUBLIC HOP_INSIDE, &t);
	cr_assert_eq(rs.n, 3);
	cr_expect(rs.r[0].trusted && rs.r[0].internal);
	cr_expect(!rs.r[1].trusted && !rs.r[1].internal);
	cr_expect(!rs.r[2].trusted, "trust never comes back below an untrusted hop");
	char text[4096];
	relays_text(&rs, RELAYS_TRUSTED, text, sizeof(text));
	cr_expect_str_eq(text, "[ ip=10.0.0.1 rdns=a helo=a by=mx.example ident= envfrom= intl=1 id=1 auth= msa=0 ]");
	relays_text(&rs, RELAYS_EXTERNAL, text, sizeof(text));
	cr_expect(strncmp(text, "[ ip=203.0.113.9 rdns=out.sender.example helo=sender.example ", 60) == 0, "%s", text);
	cr_expect(strstr(text, "] [ ip=10.0.0.5 ") != NULL, "%s", text);
}

/* Configured networks decide, with 127/8 always in; internal_networks
 * narrows what is internal within what is trusted. */
Test(relays, takes_configured_networks)
{
	static struct relays rs;
	struct cidr_list trusted = { 0 }, internal = { 0 };
	char bad[64];
	cr_assert(relays_parse_networks("203.0.113.0/24 10.", &trusted, bad, sizeof(bad)));
	cr_assert(relays_parse_networks("10.0.0.0/8", &internal, bad, sizeof(bad)));
	struct relay_trust t = { &trusted, &internal, NULL, false };
	build(&rs, HOP_PUBLIC HOP_INSIDE, &t);
	cr_assert_eq(rs.n, 2);
	cr_expect(rs.r[0].trusted && !rs.r[0].internal);
	cr_expect(rs.r[1].trusted && !rs.r[1].internal, "internal ends at the first hop outside it");
	cidr_list_free(&internal);
	build(&rs, HOP_INSIDE HOP_PUBLIC, &t);
	cr_expect(rs.r[0].trusted && rs.r[0].internal, "internal_networks unset: trusted_networks serve");
	cr_expect(!relays_parse_networks("!10.1.0.0/16", &trusted, bad, sizeof(bad)));
	cr_expect_str_eq(bad, "!10.1.0.0/16");
	cidr_list_free(&trusted);
}

/* The gateway's own hop: smtpd's word, whatever the address looks like
 * (a private-looking client smtpd does not trust is untrusted). */
Test(relays, judges_the_gateway_hop_by_smtpd)
{
	static struct relays rs;
	const char *hdr = "Received: from client.example (unknown [10.9.9.9]) by mx.gw.test (mailwarden) with ESMTP "
			  "id 1; Mon, 7 Dec 2026 04:00:00 +0000\r\n" HOP_INSIDE;
	struct relay_trust t = { NULL, NULL, "10.9.9.9", false };
	build(&rs, hdr, &t);
	cr_expect(!rs.r[0].trusted && !rs.r[0].internal);
	t.client_trusted = true;
	build(&rs, hdr, &t);
	cr_expect(rs.r[0].trusted && rs.r[0].internal);
	cr_expect(rs.r[1].trusted, "10.0.0.5 is private: inferred");
	t.client_trusted = false;
	build(&rs, HOP_OURS, &(struct relay_trust){ NULL, NULL, "198.51.100.7", false });
	cr_expect(!rs.r[0].trusted);
	/* smtpd's mapped form of an IPv4 client is the same client */
	const char *mapped = "Received: from c (unknown [::ffff:10.9.9.9]) by mx.gw.test (mailwarden) id 1; Mon\r\n";
	build(&rs, mapped, &(struct relay_trust){ NULL, NULL, "::ffff:10.9.9.9", false });
	cr_expect_str_eq(rs.r[0].ip, "10.9.9.9");
	cr_expect(!rs.r[0].trusted, "judged as the gateway's hop, not inferred from 10/8");
}

/* A fetchmail hop in the trusted part: the hops above it are forgotten. */
Test(relays, restarts_after_a_mail_fetcher)
{
	static struct relays rs;
	struct relay_trust t = { 0 };
	build(&rs,
	      "Received: from localhost (localhost [127.0.0.1]) by home.example (Postfix) id 1; Mon\r\n"
	      "Received: from pop.example.net [192.0.2.99] by localhost with POP3 (fetchmail-6.4.37) for <joe>; Mon\r\n" HOP_PUBLIC,
	      &t);
	cr_assert_eq(rs.n, 1);
	cr_expect_str_eq(rs.r[0].ip, "203.0.113.9");
}

Test(relays, counts_at_most_relays_max)
{
	static char hdr[RELAYS_MAX * 2 * sizeof(HOP_PUBLIC)];
	size_t used = 0;
	for (int i = 0; i < RELAYS_MAX * 2; i++)
		used += (size_t)snprintf(hdr + used, sizeof(hdr) - used, "%s", HOP_PUBLIC);
	static struct relays rs;
	struct relay_trust t = { 0 };
	build(&rs, hdr, &t);
	cr_expect_eq(rs.n, RELAYS_MAX);
	static char text[64];
	relays_text(&rs, RELAYS_UNTRUSTED, text, sizeof(text));
	cr_expect_str_eq(text, "", "a relay that does not fit is left out whole");
}
