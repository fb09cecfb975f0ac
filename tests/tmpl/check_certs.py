#!/usr/bin/env python3
"""tests/tmpl/check_certs.py - the certificates `kstage template` makes
(genCA, genSignedCert, genSelfSignedCert, their WithKey forms,
genPrivateKey) must work, not only look like PEM: each pair is put to a
real TLS handshake through Python's ssl module (a client that trusts only
the CA and checks the host name against the SANs), every key must match
its certificate, and the key types must be the PEM blocks Sprig writes.

Prints one line per check and "certs: N passed, M failed"; exit 1 on any
failure.

  KSTAGE_BIN  kstage binary (default build/kstage)
"""
import base64
import hashlib
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KSTAGE = os.environ.get("KSTAGE_BIN", os.path.join(ROOT, "build", "kstage"))

CHART_YAML = "apiVersion: v2\nname: certs\nversion: 0.1.0\n"
TEMPLATE = """\
{{- $ca := genCA "test-ca" 30 }}
{{- $srv := genSignedCert "svc" (list "127.0.0.1") (list "svc.example.test" "localhost") 30 $ca }}
{{- $self := genSelfSignedCert "self.example.test" nil (list "self.example.test") 30 }}
{{- $ek := genPrivateKey "ecdsa" }}
{{- $eca := genCAWithKey "ec-ca" 30 $ek }}
{{- $esrv := genSignedCertWithKey "ec" nil (list "ec.example.test") 30 $eca (genPrivateKey "ecdsa") }}
{{- $rk := genPrivateKey "rsa" }}
{{- $uca := genCA "wild*card ca" 30 }}
apiVersion: v1
kind: Secret
metadata:
  name: certs
data:
  ca.crt: {{ $ca.Cert | b64enc }}
  ca.key: {{ $ca.Key | b64enc }}
  srv.crt: {{ $srv.Cert | b64enc }}
  srv.key: {{ $srv.Key | b64enc }}
  self.crt: {{ $self.Cert | b64enc }}
  self.key: {{ $self.Key | b64enc }}
  eca.crt: {{ $eca.Cert | b64enc }}
  eca.key: {{ $eca.Key | b64enc }}
  ek: {{ $ek | b64enc }}
  esrv.crt: {{ $esrv.Cert | b64enc }}
  esrv.key: {{ $esrv.Key | b64enc }}
  rsa.key: {{ $rk | b64enc }}
  ed.key: {{ genPrivateKey "ed25519" | b64enc }}
  uca.crt: {{ $uca.Cert | b64enc }}
"""

results = []


def check(name, ok, detail=""):
    results.append(ok)
    print("%s %s%s" % ("ok  " if ok else "FAIL", name, (": " + detail) if detail and not ok else ""))


def cn_string_tag(pem):
    """the ASN.1 tag of the first commonName value in a PEM certificate"""
    body = "".join(l for l in pem.splitlines() if not l.startswith("-----"))
    der = base64.b64decode(body)
    at = der.find(b"\x06\x03\x55\x04\x03")  # OID 2.5.4.3
    return der[at + 5] if at >= 0 else None


def der_len(der, at):
    """(content start, content length) of the DER element at `at`"""
    n = der[at + 1]
    if n < 0x80:
        return at + 2, n
    k = n & 0x7F
    return at + 2 + k, int.from_bytes(der[at + 2:at + 2 + k], "big")


def key_ids(path):
    """(subject key id, authority key id, SHA-256 of the public key's bits
    cut to 160 bits), from openssl's reading of the certificate"""
    def ext(name):
        p = subprocess.run(["openssl", "x509", "-in", path, "-noout", "-ext", name], capture_output=True, text=True)
        lines = [l.strip() for l in p.stdout.splitlines()[1:] if l.strip()]
        return lines[0].replace("keyid:", "").replace(":", "").lower() if lines else None
    pub = subprocess.run(["openssl", "x509", "-in", path, "-noout", "-pubkey"], capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub, capture_output=True).stdout
    start, _ = der_len(der, 0)              # SubjectPublicKeyInfo
    alg_start, alg_len = der_len(der, start)  # AlgorithmIdentifier
    bits_start, bits_len = der_len(der, alg_start + alg_len)
    bits = der[bits_start + 1:bits_start + bits_len]  # past the unused-bits byte
    return ext("subjectKeyIdentifier"), ext("authorityKeyIdentifier"), hashlib.sha256(bits).hexdigest()[:40]


def handshake(tmp, ca, crt, key, host):
    """A TLS server with crt/key, a client trusting only ca and checking host."""
    srv_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    srv_ctx.load_cert_chain(os.path.join(tmp, crt), os.path.join(tmp, key))  # raises if they differ
    cli_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    cli_ctx.load_verify_locations(os.path.join(tmp, ca))
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    errs = []

    def serve():
        try:
            conn, _ = lsock.accept()
            with srv_ctx.wrap_socket(conn, server_side=True) as s:
                s.sendall(s.recv(5))
        except Exception as e:  # reported through the client side
            errs.append(e)

    t = threading.Thread(target=serve)
    t.start()
    try:
        with socket.create_connection(lsock.getsockname(), timeout=10) as c:
            with cli_ctx.wrap_socket(c, server_hostname=host) as s:
                s.sendall(b"hello")
                return s.recv(5) == b"hello"
    finally:
        t.join(10)
        lsock.close()


def main():
    with tempfile.TemporaryDirectory(prefix="kstage-certs-") as tmp:
        chart = os.path.join(tmp, "chart")
        os.makedirs(os.path.join(chart, "templates"))
        with open(os.path.join(chart, "Chart.yaml"), "w") as f:
            f.write(CHART_YAML)
        with open(os.path.join(chart, "templates", "certs.yaml"), "w") as f:
            f.write(TEMPLATE)
        p = subprocess.run([KSTAGE, "template", "r", chart], capture_output=True, text=True)
        if p.returncode != 0:
            check("kstage template", False, p.stderr.strip())
            return finish()
        doc = yaml.safe_load(p.stdout)
        files = {}
        for k, v in doc["data"].items():
            files[k] = base64.b64decode(v).decode()
            with open(os.path.join(tmp, k), "w") as f:
                f.write(files[k])
        pem = {
            "ca.key": "RSA PRIVATE KEY", "srv.key": "RSA PRIVATE KEY", "self.key": "RSA PRIVATE KEY",
            "rsa.key": "RSA PRIVATE KEY", "ek": "EC PRIVATE KEY", "eca.key": "EC PRIVATE KEY",
            "esrv.key": "EC PRIVATE KEY", "ed.key": "PRIVATE KEY",
        }
        for k, kind in sorted(pem.items()):
            check("%s is a %s block" % (k, kind), files[k].startswith("-----BEGIN %s-----\n" % kind))
        check("genCAWithKey keeps the key", files["eca.key"] == files["ek"])
        # Go writes the common name as a PrintableString when it can, else UTF8String
        for k, want in (("srv.crt", 0x13), ("ca.crt", 0x13), ("uca.crt", 0x0C)):
            tag = cn_string_tag(files[k])
            check("%s common name is ASN.1 type 0x%02x" % (k, want), tag == want, "got %r" % tag)
        # Go (1.25) gives a CA a Subject Key Identifier, the first 160 bits
        # of the SHA-256 of its public key, and names it as the Authority
        # Key Identifier of what the CA signs; a self-signed leaf has neither
        ids = {k: key_ids(os.path.join(tmp, k)) for k in ("ca.crt", "srv.crt", "eca.crt", "esrv.crt", "self.crt")}
        for ca, leaf in (("ca.crt", "srv.crt"), ("eca.crt", "esrv.crt")):
            check("%s subject key id is Go's" % ca, ids[ca][0] is not None and ids[ca][0] == ids[ca][2],
                  "%r, want %r" % (ids[ca][0], ids[ca][2]))
            check("%s has no authority key id" % ca, ids[ca][1] is None, repr(ids[ca][1]))
            check("%s names %s's key id" % (leaf, ca), ids[leaf][1] == ids[ca][0] and ids[leaf][0] is None,
                  "%r %r" % (ids[leaf], ids[ca][0]))
        check("self.crt has no key ids", ids["self.crt"][:2] == (None, None), repr(ids["self.crt"]))
        cases = [
            ("RSA certificate signed by genCA, DNS name", "ca.crt", "srv.crt", "srv.key", "svc.example.test"),
            ("RSA certificate signed by genCA, second DNS name", "ca.crt", "srv.crt", "srv.key", "localhost"),
            ("RSA certificate signed by genCA, IP SAN", "ca.crt", "srv.crt", "srv.key", "127.0.0.1"),
            ("self-signed certificate", "self.crt", "self.crt", "self.key", "self.example.test"),
            ("ECDSA certificate signed by genCAWithKey", "eca.crt", "esrv.crt", "esrv.key", "ec.example.test"),
        ]
        for name, ca, crt, key, host in cases:
            try:
                check(name, handshake(tmp, ca, crt, key, host))
            except Exception as e:
                check(name, False, str(e))
        # a certificate that does not name the host must be refused
        try:
            handshake(tmp, "ca.crt", "srv.crt", "srv.key", "other.example.test")
            check("host name not in the SANs is refused", False, "handshake succeeded")
        except ssl.SSLCertVerificationError:
            check("host name not in the SANs is refused", True)
        # and a certificate from another CA
        try:
            handshake(tmp, "eca.crt", "srv.crt", "srv.key", "svc.example.test")
            check("certificate of another CA is refused", False, "handshake succeeded")
        except ssl.SSLCertVerificationError:
            check("certificate of another CA is refused", True)
    return finish()


def finish():
    failed = results.count(False)
    print("certs: %d passed, %d failed" % (len(results) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
