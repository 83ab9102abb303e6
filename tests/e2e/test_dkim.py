"""lib/dkim end to end (tests/helpers/dkimtool): verification with the
keys looked up through lib/dns from a real DNS server on loopback
(dnsmasq), a missing key and a silent server; and our signatures
verified by an independent verifier, Debian's python3-dkim (dkimpy),
given the keys through its dnsfunc. opendkim-testmsg (opendkim-tools)
asks the system resolver on port 53 and cannot be pointed at a loopback
test server, so it is not used (docs/dkim.md)."""
import os
import subprocess
import tempfile
import textwrap
import unittest

import dns_util
from dns_util import Blackhole, Dnsmasq, dnsmasq_path
from instance import builddir

DKIMTOOL = os.path.join(builddir(), "tests", "helpers", "dkimtool")
TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONFORMANCE = os.environ.get("POSTERN_CONFORMANCE_DIR") or os.path.join(
    TOP, "..", "shared", "conformance")
DKIM_DIR = os.path.join(CONFORMANCE, "dkim")
SYSTEM_PYTHON = "/usr/bin/python3"


def vector(name):
    with open(os.path.join(DKIM_DIR, name), "rb") as f:
        return f.read()


def crlf(data):
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def txt_option(owner, value):
    """A dnsmasq --txt-record: strings of at most 255 bytes (commas
    separate them; DKIM records hold none)."""
    parts = [value[i:i + 255] for i in range(0, len(value), 255)]
    return ("--txt-record", ",".join([owner] + parts))


def stalwart_keys(name):
    head = vector(name).replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    return [line.decode().split(" ", 1) for line in head.split(b"\n") if line]


def stalwart_message(name):
    return crlf(vector(name).replace(b"\r\n", b"\n").split(b"\n\n", 1)[1])


def dkimtool_verify(server, message, now=None, timeout_ms=None):
    args = [DKIMTOOL, "verify", "-s", server]
    if now:
        args += ["-T", str(now)]
    if timeout_ms:
        args += ["-t", str(timeout_ms)]
    out = subprocess.run(args, input=message, capture_output=True, timeout=60)
    if out.returncode != 0:
        raise AssertionError(out.stderr.decode())
    results = []
    for line in out.stdout.decode().splitlines():
        if line.startswith("d="):
            head, _, reason = line.partition(" reason=")
            fields = dict(kv.split("=", 1) for kv in head.split(" "))
            fields["reason"] = reason
            results.append(fields)
    return results


@unittest.skipUnless(os.path.isdir(DKIM_DIR), "no ../shared/conformance/dkim")
@unittest.skipUnless(dnsmasq_path(), "dnsmasq (Debian dnsmasq-base) not installed")
class VerifyWithDns(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # gmail.com answered here (NXDOMAIN), never asked upstream
        zone = list(dns_util.TEST_ZONE) + [("--local", "/gmail.com/")]
        for owner, value in stalwart_keys("stalwart-mail-auth/001.txt"):
            zone.append(txt_option(owner, value))
        zone.append(txt_option("sed._domainkey.test.ex",
                               vector("dkimpy/eximtest.dns").decode().strip()))
        cls.dns = Dnsmasq(zone)

    @classmethod
    def tearDownClass(cls):
        cls.dns.stop()

    def test_rfc8463_example_passes(self):
        results = dkimtool_verify(self.dns.server,
                                  stalwart_message("stalwart-mail-auth/001.txt"))
        self.assertEqual([(r["a"], r["result"]) for r in results],
                         [("ed25519-sha256", "pass"), ("rsa-sha256", "pass")])
        # one name asked once per key
        names = [n for t, n in self.dns.queries() if t == "TXT"]
        self.assertIn("brisbane._domainkey.football.example.com", names)
        self.assertIn("test._domainkey.football.example.com", names)

    def test_exim_ed25519_passes(self):
        results = dkimtool_verify(self.dns.server,
                                  crlf(vector("dkimpy/ed25519test2.msg")))
        self.assertEqual([r["result"] for r in results], ["pass"])

    def test_missing_key_is_permerror(self):
        msg = crlf(vector("dkimpy/test2.message"))  # gmail.com: not served
        results = dkimtool_verify(self.dns.server, msg)
        self.assertEqual([(r["result"], r["reason"]) for r in results],
                         [("permerror", "no key for signature")])

    def test_silent_server_is_temperror(self):
        hole = Blackhole()
        try:
            results = dkimtool_verify(hole.server, stalwart_message(
                "stalwart-mail-auth/001.txt"), timeout_ms=1000)
        finally:
            hole.cleanup()
        self.assertEqual([(r["result"], r["reason"]) for r in results],
                         [("temperror", "key lookup failed")] * 2)


def dkimpy_available():
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        return False
    return subprocess.run([SYSTEM_PYTHON, "-c", "import dkim, nacl"],
                          capture_output=True, timeout=30).returncode == 0


DKIMPY_VERIFY = textwrap.dedent("""
    import sys, dkim
    keys = dict(line.split(" ", 1) for line in open(sys.argv[1]).read().splitlines())
    def dnsfunc(name, timeout=5):
        return keys.get(name.decode().rstrip("."), "").encode()
    msg = open(sys.argv[2], "rb").read()
    d = dkim.DKIM(msg)
    count = len([h for h in d.headers if h[0].lower() == b"dkim-signature"])
    def one(i):
        try:
            return str(d.verify(idx=i, dnsfunc=dnsfunc))
        except dkim.ValidationError:  # dkimpy raises on a body hash mismatch
            return "False"
    print(" ".join(one(i) for i in range(count)))
""")


@unittest.skipUnless(os.path.isdir(DKIM_DIR), "no ../shared/conformance/dkim")
@unittest.skipUnless(dkimpy_available(),
                     "python3-dkim and python3-nacl (Debian) not installed")
class InteropDkimpy(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pt-dkim-", dir="/tmp")
        rsa = vector("dkimpy/test.txt").decode().strip()
        ed = vector("dkimpy/ed25519test.dns").decode().strip()
        self.keys = os.path.join(self.dir, "keys")
        with open(self.keys, "w") as f:
            f.write(f"r._domainkey.example.org {rsa}\n"
                    f"e._domainkey.example.org {ed}\n")

    def sign(self, message, *extra):
        args = [DKIMTOOL, "sign", "-d", "example.org",
                "-k", os.path.join(DKIM_DIR, "dkimpy/test.private"), "-s", "r",
                "-k", os.path.join(DKIM_DIR, "dkimpy/ed25519test.key"), "-s", "e"]
        out = subprocess.run(args + list(extra), input=message,
                             capture_output=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr.decode())
        return out.stdout

    def dkimpy(self, signed):
        path = os.path.join(self.dir, "msg")
        with open(path, "wb") as f:
            f.write(signed)
        out = subprocess.run([SYSTEM_PYTHON, "-c", DKIMPY_VERIFY, self.keys, path],
                             capture_output=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr.decode())
        return out.stdout.decode().split()

    def test_relaxed_signatures_verify(self):
        signed = self.sign(crlf(vector("dkimpy/rfc6376.msg")))
        self.assertEqual(self.dkimpy(signed), ["True", "True"])

    def test_simple_signatures_verify(self):
        signed = self.sign(crlf(vector("dkimpy/ed25519test.msg")), "-c", "simple",
                           "-i", "test@mail.example.org", "-t", "1700000000")
        self.assertEqual(self.dkimpy(signed), ["True", "True"])

    def test_folded_headers_and_long_body(self):
        body = b"".join(b"line %d  with \t spaces  \r\n" % i for i in range(3000))
        msg = (b"From: A\r\n <a@example.org>\r\nTo: b@example.net\r\n"
               b"Subject: long\r\n  folded subject\r\nCc: c@example.net\r\n"
               b"\r\n" + body + b"\r\n\r\n")
        signed = self.sign(msg)
        self.assertEqual(self.dkimpy(signed), ["True", "True"])
        # a changed body is caught by the independent verifier too
        self.assertEqual(self.dkimpy(signed.replace(b"line 2999", b"line 2998")),
                         ["False", "False"])


if __name__ == "__main__":
    unittest.main()
