"""The Prometheus endpoint (issue 15, "Metrics"): metrics.listen serves
GET /metrics in text exposition format 0.0.4, parsed here with
python3-prometheus-client's parser (not a regex of ours); mail that flows
moves the counters by exactly what happened; any other path is 404; no
endpoint without metrics.listen; a bad address is a config error naming
the key."""

import base64
import os
import signal
import socket
import subprocess
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

import certs
import mwsys
from mwsys import SmtpClient, queue_id, send_message, unique, wait_until


def scrape(port, path="/metrics"):
    """The endpoint's answer: (status, content type, body text)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode()


def samples(port):
    """Every sample, parsed by prometheus_client: {(name, labels): value},
    labels as a sorted tuple of pairs."""
    status, ctype, text = scrape(port)
    assert status == 200, text
    assert ctype.startswith("text/plain; version=0.0.4"), ctype
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def listening_ports(pid):
    """The TCP ports process pid holds a listening socket on (IPv4)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except FileNotFoundError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    with open(f"/proc/{pid}/net/tcp") as f:
        rows = [line.split() for line in f.readlines()[1:]]
    return [int(r[1].split(":")[1], 16) for r in rows if r[3] == "0A" and r[9] in inodes]


def value(snapshot, name, **labels):
    return snapshot[(name, tuple(sorted(labels.items())))]


@pytest.fixture(scope="module")
def metrics_port(ports):
    return ports.get()


@pytest.fixture(scope="module")
def gw(make_gateway, sink, metrics_port):
    return make_gateway(sink=sink, metrics={"listen": f"127.0.0.1:{metrics_port}"})


def moved(before, after, name, **labels):
    return value(after, name, **labels) - value(before, name, **labels)


def wait_moved(port, before, name, want, **labels):
    """The sample moved by want (waited for: the queue counts after the
    reply); asserts it moved by exactly that, not more."""
    snap = {}

    def reached():
        snap.update(samples(port))
        return moved(before, snap, name, **labels) >= want

    wait_until(reached, what=f"{name}{labels} to move by {want}")
    assert moved(before, snap, name, **labels) == want, f"{name}{labels}"
    return snap


def test_every_family_has_help_and_type_and_parses(gw, metrics_port):
    status, _, text = scrape(metrics_port)
    assert status == 200
    families = {f.name: f for f in text_string_to_metric_families(text)}
    for name, kind in [
        ("mailwarden_sessions_open", "gauge"), ("mailwarden_sessions", "counter"),
        ("mailwarden_messages_received", "counter"), ("mailwarden_messages_accepted", "counter"),
        ("mailwarden_messages_refused", "counter"), ("mailwarden_messages_quarantined", "counter"),
        ("mailwarden_messages_discarded", "counter"), ("mailwarden_deliveries", "counter"),
        ("mailwarden_bounces", "counter"), ("mailwarden_tls_sessions", "counter"),
        ("mailwarden_auth", "counter"), ("mailwarden_scan_verdicts", "counter"),
        ("mailwarden_queue_messages", "gauge"), ("mailwarden_queue_oldest_message_age_seconds", "gauge"),
        ("mailwarden_spool_commit_seconds", "histogram"), ("mailwarden_delivery_latency_seconds", "histogram"),
        ("mailwarden_delivery_retries", "counter"), ("mailwarden_scan_symbol_hits", "counter"),
    ]:
        assert name in families, name
        assert families[name].type == kind, name
        assert families[name].documentation, name
    for line in text.splitlines():
        if line.startswith("# TYPE"):
            assert f"# HELP {line.split()[2]} " in text


def test_an_accepted_message_moves_received_accepted_sent_and_both_histograms(gw, sink, metrics_port):
    before = samples(metrics_port)
    token = unique("metrics-ok")
    reply = send_message(gw, f"Subject: {token}\r\n\r\nhello\r\n".encode())
    assert reply.code == 250, reply
    sink.wait_token(token)
    gw.wait_delivered(queue_id(reply))
    after = wait_moved(metrics_port, before, "mailwarden_deliveries_total", 1, status="sent", nexthop="route")
    assert moved(before, after, "mailwarden_messages_received_total") == 1
    assert moved(before, after, "mailwarden_messages_accepted_total") == 1
    assert moved(before, after, "mailwarden_sessions_total", listener="mta") == 1
    assert moved(before, after, "mailwarden_spool_commit_seconds_count") == 1
    assert moved(before, after, "mailwarden_spool_commit_seconds_bucket", le="+Inf") == 1
    assert moved(before, after, "mailwarden_delivery_latency_seconds_count") == 1
    assert moved(before, after, "mailwarden_deliveries_total", status="deferred", nexthop="route") == 0
    assert moved(before, after, "mailwarden_messages_refused_total", reason="size") == 0


def test_a_refused_size_and_a_nul_message_count_as_refused_not_received(gw, metrics_port):
    before = samples(metrics_port)
    with SmtpClient(gw.port) as c:
        assert c.greeting().code == 220
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@b.test> SIZE=999999999").code == 552
        c.cmd("QUIT")
    reply = send_message(gw, b"Subject: nul\r\n\r\na\x00b\r\n")
    assert reply.code == 554, reply
    after = wait_moved(metrics_port, before, "mailwarden_messages_refused_total", 1, reason="size")
    after = wait_moved(metrics_port, before, "mailwarden_messages_refused_total", 1, reason="protocol")
    assert moved(before, after, "mailwarden_messages_received_total") == 0
    assert moved(before, after, "mailwarden_messages_accepted_total") == 0
    assert moved(before, after, "mailwarden_sessions_total", listener="mta") == 2


def test_an_open_session_is_counted_until_it_ends(gw, metrics_port):
    base = value(samples(metrics_port), "mailwarden_sessions_open", listener="mta")
    with SmtpClient(gw.port) as c:
        assert c.greeting().code == 220
        assert value(samples(metrics_port), "mailwarden_sessions_open", listener="mta") == base + 1
        c.cmd("QUIT")
    wait_until(lambda: value(samples(metrics_port), "mailwarden_sessions_open", listener="mta") == base,
               what="the session to be gone from the gauge")


def test_another_path_is_404_and_another_method_405(gw, metrics_port):
    assert scrape(metrics_port, "/")[0] == 404
    assert scrape(metrics_port, "/metrics/x")[0] == 404
    assert scrape(metrics_port, "/../metrics")[0] == 404
    req = urllib.request.Request(f"http://127.0.0.1:{metrics_port}/metrics", data=b"x", method="POST")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=5)
    assert e.value.code == 405


def test_the_queue_serves_it_not_smtpd(gw, metrics_port):
    """Least privilege: the internet-facing smtpd holds no socket of the
    endpoint; the queue does."""
    def listens(pid):
        return any(local_port == metrics_port for local_port in listening_ports(pid))

    assert listens(gw.pid("queue"))
    assert not listens(gw.pid("smtpd"))


def test_no_endpoint_without_metrics_listen(make_gateway_fn, ports):
    gw = make_gateway_fn()
    assert not gw.events(event="metrics_ready")
    free = ports.get()
    s = socket.socket()
    with pytest.raises(ConnectionRefusedError):
        s.connect(("127.0.0.1", free))
    s.close()
    # The queue listens on nothing at all.
    assert listening_ports(gw.pid("queue")) == []

@pytest.mark.parametrize("bad", ["localhost:9925", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", "[::1:9925"])
def test_a_bad_listen_address_is_a_config_error_naming_the_key(mw_bin, tmp_path, bad):
    os.chmod(tmp_path, 0o755)
    cfg = tmp_path / "mw.yaml"
    cfg.write_text(f'state_dir: {tmp_path}/state\nmetrics:\n  listen: "{bad}"\n')
    r = subprocess.run([mw_bin, "check-config", "-c", str(cfg)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1, r
    assert f"{cfg}:3: metrics.listen:" in r.stdout + r.stderr, r


PASSWORD = "metrics horse battery"


@pytest.fixture(scope="module")
def submission_gw(make_gateway, ports, sink, mw_bin, workdir):
    """A second gateway with a STARTTLS submission listener and one login."""
    out = subprocess.run([mw_bin, "passwd", "alice@example.test"], input=PASSWORD + "\n", capture_output=True,
                         text=True, check=True).stdout
    path = os.path.join(workdir, "metrics-credentials")
    with open(path, "w") as f:
        f.write(out)
    os.chmod(path, 0o644)
    port = ports.get()
    gw = make_gateway(
        sink=sink,
        listeners=[{"name": "mta", "address": "127.0.0.1", "port": ports.get()},
                   {"name": "submission", "address": "127.0.0.1", "port": ports.get(), "mode": "submission"}],
        auth={"credentials": path, "failure_delay": "0s", "max_failures": 100},
        metrics={"listen": f"127.0.0.1:{port}"})
    gw.metrics_port = port
    return gw


def test_starttls_and_auth_are_counted_by_version_and_result(submission_gw):

    gw, port = submission_gw, submission_gw.metrics_port
    submission = next(l["port"] for l in gw.config["listeners"] if l["name"] == "submission")
    before = samples(port)
    with SmtpClient(submission) as c:
        assert c.greeting().code == 220
        c.ehlo()
        assert c.starttls(certs.client_context()).code == 220
        c.ehlo()
        version = c.sock.version()
        plain = lambda pw: base64.b64encode(f"\0alice@example.test\0{pw}".encode()).decode()
        assert c.cmd("AUTH PLAIN " + plain("wrong")).code == 535
        assert c.cmd("AUTH PLAIN " + plain(PASSWORD)).code == 235
        c.cmd("QUIT")
    after = wait_moved(port, before, "mailwarden_auth_total", 1, result="success")
    assert moved(before, after, "mailwarden_auth_total", result="failure") == 1
    assert moved(before, after, "mailwarden_tls_sessions_total", direction="inbound", version=version) == 1
    assert moved(before, after, "mailwarden_sessions_total", listener="submission") == 1
    assert moved(before, after, "mailwarden_sessions_total", listener="mta") == 0


QUARANTINE, DISCARD, REFUSE, CLEAN = (f"127.50.3.{i}" for i in range(1, 5))


@pytest.fixture(scope="module")
def scan_gw(make_gateway, ports, sink, workdir):
    """A third gateway whose score comes from a local zone per client
    address: one address per action."""
    zones = []
    for points, client in ((12, QUARANTINE), (22, DISCARD), (32, REFUSE)):
        path = os.path.join(workdir, f"metrics-z{points}.zone")
        with open(path, "w") as f:
            f.write(f"{client}\n")
        os.chmod(path, 0o644)
        zones.append({"file": path, "name": f"z{points}", "points": points})
    port = ports.get()
    gw = make_gateway(sink=sink, metrics={"listen": f"127.0.0.1:{port}"}, scan={
        "rbl_files": zones,
        "inbound": {"checks": {"rbl_file": "score"}, "quarantine": 10, "discard": 20, "refuse": 30},
    })
    gw.metrics_port = port
    return gw


def test_scan_verdicts_are_counted_by_action_and_refusals_by_reason(scan_gw, sink):
    port = scan_gw.metrics_port
    before = samples(port)
    token = unique("metrics-clean")
    replies = {client: send_message(scan_gw, f"Subject: {token}-{client}\r\n\r\nx\r\n".encode(), source=client)
               for client in (CLEAN, QUARANTINE, DISCARD, REFUSE)}
    assert [replies[c].code for c in (CLEAN, QUARANTINE, DISCARD, REFUSE)] == [250, 250, 250, 550], replies
    sink.wait_token(f"{token}-{CLEAN}")
    after = wait_moved(port, before, "mailwarden_deliveries_total", 1, status="sent", nexthop="route")
    for action in ("accept", "quarantine", "discard", "refuse"):
        assert moved(before, after, "mailwarden_scan_verdicts_total", action=action) == 1, action
    assert moved(before, after, "mailwarden_scan_verdicts_total", action="tag") == 0
    assert moved(before, after, "mailwarden_messages_received_total") == 4
    assert moved(before, after, "mailwarden_messages_accepted_total") == 1
    assert moved(before, after, "mailwarden_messages_quarantined_total") == 1
    assert moved(before, after, "mailwarden_messages_discarded_total") == 1
    assert moved(before, after, "mailwarden_messages_refused_total", reason="scan") == 1
    assert moved(before, after, "mailwarden_messages_refused_total", reason="policy") == 0
    # Two messages were made durable: the accepted one and the quarantined one.
    assert moved(before, after, "mailwarden_spool_commit_seconds_count") == 2
    # The scanner timed its content checks on each of the four (the one
    # refused by score was judged whole too), smtpd its rbl_file check on
    # each connection.
    timed = {(dict(labels)["stage"], dict(labels)["check"]): v - before.get((name, labels), 0)
             for (name, labels), v in after.items() if name == "mailwarden_check_duration_seconds_count"}
    content = {check: n for (stage, check), n in timed.items() if stage == "content"}
    assert content and all(n == 4 for n in content.values()), timed
    assert timed.get(("smtp", "rbl_file"), 0) >= 4, timed
    hits = {dict(labels)["symbol"]: v - before.get((name, labels), 0) for (name, labels), v in after.items()
            if name == "mailwarden_scan_symbol_hits_total"}
    assert hits.get("RBL_FILE") == 3, hits  # the three listed clients


@pytest.fixture
def refusing_hop(make_gateway_fn, make_sink_fn, ports):
    """A gateway of its own whose next hop answers RCPT as the test says."""
    hop = make_sink_fn()
    port = ports.get()
    gw = make_gateway_fn(sink=hop, metrics={"listen": f"127.0.0.1:{port}"})
    gw.metrics_port = port
    return gw, hop


def test_a_5xx_from_the_next_hop_counts_a_bounced_delivery_and_a_bounce(refusing_hop):
    gw, hop = refusing_hop
    hop.replies["RCPT"] = "550 5.1.1 no such user"
    before = samples(gw.metrics_port)
    reply = send_message(gw, b"Subject: bounce me\r\n\r\nx\r\n")
    assert reply.code == 250, reply
    after = wait_moved(gw.metrics_port, before, "mailwarden_bounces_total", 1)
    assert moved(before, after, "mailwarden_deliveries_total", status="bounced", nexthop="route") == 1
    assert moved(before, after, "mailwarden_deliveries_total", status="sent", nexthop="route") == 0
    assert moved(before, after, "mailwarden_delivery_latency_seconds_count") == 0


def test_a_deferred_message_shows_in_the_queue_gauges_until_it_leaves(refusing_hop):
    gw, hop = refusing_hop
    hop.replies["RCPT"] = "451 4.3.0 try later"
    before = samples(gw.metrics_port)

    def queued(snap):
        return sum(v for (name, _), v in snap.items() if name == "mailwarden_queue_messages")

    assert queued(before) == 0
    token = unique("metrics-deferred")
    reply = send_message(gw, f"Subject: {token}\r\n\r\nx\r\n".encode(), sender="")
    assert reply.code == 250, reply
    wait_until(lambda: moved(before, samples(gw.metrics_port), "mailwarden_deliveries_total", status="deferred",
                             nexthop="route") >= 1, what="a deferred delivery")
    snap = samples(gw.metrics_port)
    assert queued(snap) == 1
    wait_until(lambda: value(samples(gw.metrics_port), "mailwarden_queue_oldest_message_age_seconds") >= 1,
               what="the oldest message's age to show")
    del hop.replies["RCPT"]
    hop.wait_token(token)
    wait_until(lambda: queued(samples(gw.metrics_port)) == 0, what="the queue gauges to go back to 0")
    after = samples(gw.metrics_port)
    assert moved(before, after, "mailwarden_deliveries_total", status="sent", nexthop="route") == 1
    assert moved(before, after, "mailwarden_deliveries_total", status="bounced", nexthop="route") == 0
    # Every attempt after the first is a retry: the deferred ones but the
    # first, and the one that was sent.
    retries = moved(before, after, "mailwarden_delivery_retries_total")
    deferred = moved(before, after, "mailwarden_deliveries_total", status="deferred", nexthop="route")
    assert retries == deferred, (retries, deferred)
    wait_until(lambda: value(samples(gw.metrics_port), "mailwarden_queue_oldest_message_age_seconds") == 0,
               what="the oldest message's age to go back to 0")


def test_a_reload_keeps_the_endpoint_and_its_counts_and_says_a_new_address_waits(make_gateway_fn, ports):
    """The queue is not restarted by a reload, nor is the socket rebound:
    the endpoint stays up with its counts; a changed address is logged
    as waiting for the next start."""

    port = ports.get()
    gw = make_gateway_fn(metrics={"listen": f"127.0.0.1:{port}"})
    assert send_message(gw, b"Subject: before reload\r\n\r\nx\r\n", rcpt="user@other.test").code == 250
    before = samples(port)
    assert value(before, "mailwarden_messages_received_total") == 1
    gw.config["metrics"] = {"listen": f"127.0.0.1:{ports.get()}"}
    gw.write_config()
    start = gw.mark()
    os.kill(gw.master_pid, signal.SIGHUP)
    gw.wait_event(proc="master", event="reload", result="ok", start=start)
    gw.wait_event(proc="queue", event="reload", result="ok", start=start)
    gw.wait_for(r"event=config_warning .*metrics\.listen changed", start=start)
    assert value(samples(port), "mailwarden_messages_received_total") == 1


def test_an_outbound_starttls_is_counted_by_version(make_gateway_fn, ports, workdir):
    cert, key = certs.make_cert(os.path.join(workdir, "metrics-hop"), "hop.test", ["DNS:hop.test"])
    hop = mwsys.Sink(ports.get(), tls_context=certs.server_context(cert, key)).start()
    try:
        port = ports.get()
        gw = make_gateway_fn(sink=hop, metrics={"listen": f"127.0.0.1:{port}"}, outbound_tls={"level": "may"})
        before = samples(port)
        token = unique("metrics-tls-out")
        reply = send_message(gw, f"Subject: {token}\r\n\r\nx\r\n".encode())
        assert reply.code == 250, reply
        hop.wait_token(token)
        delivery = gw.wait_delivered(queue_id(reply))
        version = delivery["tls"].split("/")[0]
        assert version.startswith("TLSv1."), delivery
        after = wait_moved(port, before, "mailwarden_tls_sessions_total", 1, direction="outbound", version=version)
        assert moved(before, after, "mailwarden_deliveries_total", status="sent", nexthop="route") == 1
        for v in ("TLSv1.2", "TLSv1.3", "other"):
            assert moved(before, after, "mailwarden_tls_sessions_total", direction="inbound", version=v) == 0
    finally:
        hop.stop()
