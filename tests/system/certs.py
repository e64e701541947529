"""Test certificates for the TLS system tests, made with the openssl CLI:
a private CA and server certificates (EC P-256) signed by it, or
self-signed ones. Everything lives in the module's work directory."""

import os
import ssl
import subprocess


def _run(*args):
    subprocess.run(["openssl", *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


class CA:
    def __init__(self, directory, name="mailwarden test CA"):
        os.makedirs(directory, exist_ok=True)
        self.dir = directory
        self.cert = os.path.join(directory, "ca.crt")
        self.key = os.path.join(directory, "ca.key")
        _run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", self.key, "-out", self.cert, "-days", "2", "-subj", f"/CN={name}")

    def issue(self, name, sans=None):
        """(cert, key) paths for a server certificate with CN=name and the
        given subjectAltNames (default DNS:name)."""
        return make_cert(self.dir, name, sans, ca=self)


def make_cert(directory, name, sans=None, ca=None):
    """(cert, key) for CN=name; self-signed unless ca is given."""
    os.makedirs(directory, exist_ok=True)
    base = os.path.join(directory, name.replace("*", "_"))
    cert, key = base + ".crt", base + ".key"
    san = ",".join(sans or [f"DNS:{name}"])
    if ca is None:
        _run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", key, "-out", cert, "-days", "2", "-subj", f"/CN={name}",
             "-addext", f"subjectAltName={san}")
    else:
        csr = base + ".csr"
        ext = base + ".ext"
        _run("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", key, "-out", csr, "-subj", f"/CN={name}")
        with open(ext, "w") as f:
            f.write(f"subjectAltName={san}\n")
        _run("x509", "-req", "-in", csr, "-CA", ca.cert, "-CAkey", ca.key, "-CAcreateserial",
             "-out", cert, "-days", "2", "-extfile", ext)
    os.chmod(key, 0o644)   # the tests' daemon may run as another user; the master reads it
    return cert, key


def client_context(cafile=None, verify=False):
    """A client SSLContext; by default it does not verify (the gateway's
    demo certificate is self-signed)."""
    ctx = ssl.create_default_context(cafile=cafile)
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def server_context(cert, key, maximum_version=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    if maximum_version is not None:
        ctx.maximum_version = maximum_version
    return ctx


def peer_common_name(sock):
    """The CN of the peer certificate of an SSLSocket (works without verification)."""
    from cryptography import x509
    der = sock.getpeercert(binary_form=True)
    cert = x509.load_der_x509_certificate(der)
    return cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value


def client_hello(version):
    """A minimal ClientHello record offering only `version` (e.g. 0x0300
    for SSLv3, 0x0302 for TLS 1.1), no extensions: what an old client sends."""
    body = bytes([version >> 8, version & 0xff]) + os.urandom(32) + b"\x00"
    suites = b"\x00\x2f\x00\x35\xc0\x13\xc0\x14\x00\xff"   # AES-CBC-SHA suites + SCSV
    body += len(suites).to_bytes(2, "big") + suites + b"\x01\x00"
    hs = b"\x01" + len(body).to_bytes(3, "big") + body
    return bytes([0x16, version >> 8, version & 0xff]) + len(hs).to_bytes(2, "big") + hs
