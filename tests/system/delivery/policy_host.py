"""The MTA-STS policy host of the outbound TLS tests (RFC 8461, issue 17):
HTTPS on loopback with a certificate of the test's throwaway CA, serving
https://mta-sts.<domain>/... through a function the test gives."""

import http.server
import ssl
import threading


class PolicyHost:
    """HTTPS on 127.0.0.1:port. answer(domain, path) returns (status,
    headers, body) or None for 404; domain is the Host header without the
    port and the "mta-sts." label. Requests are counted per domain."""

    def __init__(self, port, cert, key, answer):
        self.port = port
        self.requests = {}
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                domain = self.headers.get("Host", "").split(":")[0].removeprefix("mta-sts.")
                outer.requests[domain] = outer.requests.get(domain, 0) + 1
                reply = answer(domain, self.path)
                if reply is None:
                    self.send_error(404)
                    return
                status, headers, body = reply
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


WELL_KNOWN = "/.well-known/mta-sts.txt"


def policy_text(body, content_type="text/plain"):
    """A 200 answer with a length."""
    data = body.encode()
    return 200, {"Content-Type": content_type, "Content-Length": str(len(data))}, data
