/* The c-ares wrapper against a real DNS server: dnsmasq on loopback,
 * started by the test with its own records (no other resolver). */
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "dns/dns.h"

static pid_t dnsmasq;
static char servers[64];
static struct event_base *base;
static struct dns *dns;

static void start_dnsmasq(void)
{
	int port = 20000 + (getpid() % 20000);
	snprintf(servers, sizeof(servers), "127.0.0.1:%d", port);
	char portarg[32];
	snprintf(portarg, sizeof(portarg), "--port=%d", port);
	dnsmasq = fork();
	if (dnsmasq == 0) {
		execlp("dnsmasq", "dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts",
		       "--no-daemon", "--listen-address=127.0.0.1", "--bind-interfaces", portarg,
		       "--user=root", "--pid-file=", "--log-facility=/dev/null",
		       "--mx-host=mx.test,mx2.mx.test,20", "--mx-host=mx.test,mx1.mx.test,10",
		       "--host-record=mx1.mx.test,192.0.2.1,2001:db8::1",
		       "--host-record=mx2.mx.test,192.0.2.2",
		       "--txt-record=txt.test,v=spf1 -all",
		       "--ptr-record=1.2.0.192.in-addr.arpa,mx1.mx.test",
		       "--ptr-record=1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa,mx1.mx.test",
		       "--address=/nxdomain.test/", (char *)NULL);
		_exit(127);
	}
	usleep(300000);  /* dnsmasq binds within milliseconds; nothing to wait on in C */
}

static void setup(void)
{
	start_dnsmasq();
	base = event_base_new();
	dns = dns_new(base, servers, 500, 2);
	cr_assert_not_null(dns);
}

static void teardown(void)
{
	dns_free(dns);
	event_base_free(base);
	kill(dnsmasq, SIGTERM);
	waitpid(dnsmasq, NULL, 0);
}

static enum dns_status got_status;
static size_t got_n;
static char got[8][16 + sizeof(((struct dns_mx *)0)->host)];  /* "pref host" */
static bool called;

static void on_mx(void *arg, enum dns_status st, const struct dns_mx *mx, size_t n)
{
	called = true;
	got_status = st;
	got_n = n;
	for (size_t i = 0; i < n && i < 8; i++)
		snprintf(got[i], sizeof(got[i]), "%u %s", mx[i].preference, mx[i].host);
	event_base_loopbreak(base);
}

static void on_addr(void *arg, enum dns_status st, const struct sockaddr_storage *a, size_t n)
{
	called = true;
	got_status = st;
	got_n = n;
	for (size_t i = 0; i < n && i < 8; i++) {
		const void *p = a[i].ss_family == AF_INET ? (const void *)&((const struct sockaddr_in *)&a[i])->sin_addr
							  : (const void *)&((const struct sockaddr_in6 *)&a[i])->sin6_addr;
		inet_ntop(a[i].ss_family, p, got[i], sizeof(got[i]));
	}
	event_base_loopbreak(base);
}

static void on_text(void *arg, enum dns_status st, char *const *t, size_t n)
{
	called = true;
	got_status = st;
	got_n = n;
	for (size_t i = 0; i < n && i < 8; i++)
		snprintf(got[i], sizeof(got[i]), "%s", t[i]);
	event_base_loopbreak(base);
}

static void run(void)
{
	called = false;
	event_base_dispatch(base);
	cr_assert(called);
}

Test(dns, mx_sorted_by_preference, .init = setup, .fini = teardown)
{
	dns_query_mx(dns, "mx.test", on_mx, NULL);
	cr_assert_not(called, "callbacks must never run inside the query call");
	run();
	cr_assert_eq(got_status, DNS_OK);
	cr_assert_eq(got_n, 2);
	cr_assert_str_eq(got[0], "10 mx1.mx.test");
	cr_assert_str_eq(got[1], "20 mx2.mx.test");
}

Test(dns, a_and_aaaa, .init = setup, .fini = teardown)
{
	dns_query_addr(dns, "mx1.mx.test", AF_INET, on_addr, NULL);
	run();
	cr_assert_eq(got_status, DNS_OK);
	cr_assert_str_eq(got[0], "192.0.2.1");
	dns_query_addr(dns, "mx1.mx.test", AF_INET6, on_addr, NULL);
	run();
	cr_assert_eq(got_status, DNS_OK);
	cr_assert_str_eq(got[0], "2001:db8::1");
	dns_query_addr(dns, "mx2.mx.test", AF_INET6, on_addr, NULL);
	run();
	cr_assert_neq(got_status, DNS_OK);  /* dnsmasq answers NODATA or REFUSED here */
	cr_assert_eq(got_n, 0);
}

Test(dns, nxdomain, .init = setup, .fini = teardown)
{
	dns_query_mx(dns, "nothing.nxdomain.test", on_mx, NULL);
	run();
	cr_assert(got_status == DNS_NXDOMAIN || got_status == DNS_NODATA, "status %d", got_status);
	cr_assert_eq(got_n, 0);
}

Test(dns, txt_and_ptr, .init = setup, .fini = teardown)
{
	dns_query_txt(dns, "txt.test", on_text, NULL);
	run();
	cr_assert_eq(got_status, DNS_OK);
	cr_assert_str_eq(got[0], "v=spf1 -all");
	struct sockaddr_in sin = { .sin_family = AF_INET };
	inet_pton(AF_INET, "192.0.2.1", &sin.sin_addr);
	dns_query_ptr(dns, (struct sockaddr *)&sin, on_text, NULL);
	run();
	cr_assert_eq(got_status, DNS_OK);
	cr_assert_str_eq(got[0], "mx1.mx.test");
}

Test(dns, unreachable_server_is_a_temporary_failure)
{
	base = event_base_new();
	dns = dns_new(base, "127.0.0.1:9", 200, 1);  /* nothing listens on discard */
	dns_query_mx(dns, "mx.test", on_mx, NULL);
	run();
	cr_assert_eq(got_status, DNS_TEMPFAIL);
	dns_free(dns);
	event_base_free(base);
}

/* A name c-ares refuses at once (EBADNAME, inside the query call): its
 * answer is deferred to the loop. */
static void query_bad_name(void)
{
	char name[400];
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	dns_query_mx(dns, name, on_mx, NULL);
	cr_assert_not(called);
}

Test(dns, bad_name_is_answered_asynchronously, .init = setup, .fini = teardown)
{
	query_bad_name();
	run();
	cr_assert_neq(got_status, DNS_OK);
}

/* Issue 18 item 12: an answer deferred to the loop is not lost when the
 * resolver is freed before the loop runs again (the queue stopping): its
 * caller, a delivery waiting for it, hears TEMPFAIL and can end. */
Test(dns, free_delivers_an_answer_still_deferred, .init = setup, .fini = teardown)
{
	query_bad_name();
	dns_free(dns);
	dns = NULL;
	cr_assert(called);
	cr_assert_eq(got_status, DNS_TEMPFAIL, "got %s", dns_status_name(got_status));
}

/* A resolver that never answers: PTR must say TEMPFAIL, not "no PTR"
 * (the scanner refuses clients without reverse DNS, never for a timeout). */
Test(dns, ptr_timeout_is_a_temporary_failure_not_nxdomain)
{
	int silent = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in at = { .sin_family = AF_INET };
	inet_pton(AF_INET, "127.0.0.1", &at.sin_addr);
	cr_assert_eq(bind(silent, (struct sockaddr *)&at, sizeof(at)), 0);
	socklen_t len = sizeof(at);
	getsockname(silent, (struct sockaddr *)&at, &len);
	char server[64];
	snprintf(server, sizeof(server), "127.0.0.1:%u", ntohs(at.sin_port));
	base = event_base_new();
	dns = dns_new(base, server, 100, 1);
	struct sockaddr_in sin = { .sin_family = AF_INET };
	inet_pton(AF_INET, "192.0.2.99", &sin.sin_addr);
	dns_query_ptr(dns, (struct sockaddr *)&sin, on_text, NULL);
	run();
	cr_assert_eq(got_status, DNS_TEMPFAIL, "got %s", dns_status_name(got_status));
	dns_free(dns);
	event_base_free(base);
	close(silent);
}

Test(dns, ptr_nxdomain_and_ipv6, .init = setup, .fini = teardown)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	inet_pton(AF_INET, "192.0.2.200", &sin.sin_addr);
	dns_query_ptr(dns, (struct sockaddr *)&sin, on_text, NULL);
	run();
	cr_assert_neq(got_status, DNS_OK);
	cr_assert_eq(got_n, 0);
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	inet_pton(AF_INET6, "2001:db8::1", &sin6.sin6_addr);
	dns_query_ptr(dns, (struct sockaddr *)&sin6, on_text, NULL);
	run();
	cr_assert_eq(got_status, DNS_OK, "got %s", dns_status_name(got_status));
	cr_assert_str_eq(got[0], "mx1.mx.test");
}
