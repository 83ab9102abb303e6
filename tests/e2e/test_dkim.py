"""lib/dkim end to end (tests/helpers/dkimtool): verification with the
keys looked up through lib/dns from a real DNS server on loopback
(dnsmasq), a missing key and a silent server; our signatures verified
by two independent verifiers, and theirs by us:
- Debian's python3-dkim (dkimpy), given the keys through its dnsfunc;
- opendkim-testmsg (opendkim-tools), which asks the system resolver on
  port 53: it runs in a network and mount namespace of its own
  (unshare, as root) where dnsmasq serves port 53 of that namespace's
  loopback and a resolv.conf naming it is bind-mounted over
  /etc/resolv.conf. Nothing leaves the namespace."""
import os
import shutil
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


DKIMPY_SIGN = textwrap.dedent("""
    import sys, dkim
    msg = open(sys.argv[1], "rb").read()
    key = open(sys.argv[2], "rb").read()
    sig = dkim.sign(msg, sys.argv[3].encode(), b"example.org", key,
                    signature_algorithm=sys.argv[4].encode(),
                    canonicalize=(b"relaxed", b"simple"))
    sys.stdout.buffer.write(sig + msg)
""")

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

    def test_dkimpy_signatures_verify_with_us(self):
        path = os.path.join(self.dir, "plain")
        with open(path, "wb") as f:
            f.write(crlf(vector("dkimpy/rfc6376.msg")))
        signed = b""
        for key, selector, alg in (("test.private", "r", "rsa-sha256"),
                                   ("ed25519test.key", "e", "ed25519-sha256")):
            out = subprocess.run(
                [SYSTEM_PYTHON, "-c", DKIMPY_SIGN, path,
                 os.path.join(DKIM_DIR, "dkimpy", key), selector, alg],
                capture_output=True, timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr.decode())
            signed = out.stdout
            with open(path, "wb") as f:
                f.write(signed)
        if not dnsmasq_path():
            self.skipTest("dnsmasq (Debian dnsmasq-base) not installed")
        zone = list(dns_util.TEST_ZONE)
        with open(self.keys) as f:
            for line in f.read().splitlines():
                zone.append(txt_option(*line.split(" ", 1)))
        with Dnsmasq(zone) as dns:
            results = dkimtool_verify(dns.server, signed)
        self.assertEqual([(r["a"], r["result"]) for r in results],
                         [("ed25519-sha256", "pass"), ("rsa-sha256", "pass")])

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


OPENDKIM_TESTMSG = "/usr/sbin/opendkim-testmsg"


def opendkim_usable():
    return (os.access(OPENDKIM_TESTMSG, os.X_OK) and os.getuid() == 0
            and shutil.which("unshare") and shutil.which("ip")
            and dnsmasq_path() is not None)


@unittest.skipUnless(os.path.isdir(DKIM_DIR), "no ../shared/conformance/dkim")
@unittest.skipUnless(opendkim_usable(),
                     "needs root, unshare, ip, dnsmasq and opendkim-testmsg "
                     "(Debian opendkim-tools)")
class InteropOpendkim(unittest.TestCase):
    """opendkim-testmsg verifies what we sign and signs what we verify."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pt-dkim-", dir="/tmp")
        with open(os.path.join(self.dir, "resolv.conf"), "w") as f:
            f.write("nameserver 127.0.0.1\n")
        self.records = {
            "r._domainkey.example.org": vector("dkimpy/test.txt").decode().strip(),
            "e._domainkey.example.org":
                vector("dkimpy/ed25519test.dns").decode().strip(),
        }

    def in_namespace(self, command, stdin):
        """Runs command (a shell line) in a private network and mount
        namespace with dnsmasq on its 127.0.0.1:53 serving the keys;
        returns (exit status, output)."""
        txt = " ".join("'--txt-record=%s,%s'" % (owner, value)
                       for owner, value in self.records.items())
        script = "\n".join([
            "ip link set lo up",
            f"mount --bind {self.dir}/resolv.conf /etc/resolv.conf",
            f"{dnsmasq_path()} --keep-in-foreground --conf-file=/dev/null "
            "--port=53 --listen-address=127.0.0.1 --bind-interfaces "
            "--no-resolv --no-hosts --local=/example.org/ --user=root "
            f"--pid-file={self.dir}/pid {txt} &",
            "for i in 1 2 3 4 5 6 7 8 9 10; do",
            "  [ -s " + self.dir + "/pid ] && break; sleep 0.2; done",
            command + "; rc=$?",
            "kill %1; exit $rc"])
        path = os.path.join(self.dir, "run.sh")
        if os.path.exists(os.path.join(self.dir, "pid")):
            os.unlink(os.path.join(self.dir, "pid"))
        with open(path, "w") as f:
            f.write(script)
        out = subprocess.run(["unshare", "--net", "--mount", "sh", path],
                             input=stdin, capture_output=True, timeout=60)
        if b"Operation not permitted" in out.stderr and b"unshare" in out.stderr:
            self.skipTest("unshare is not permitted here")
        return out.returncode, out.stdout, out.stderr.decode(errors="replace")

    def sign(self, message, key, selector):
        out = subprocess.run(
            [DKIMTOOL, "sign", "-d", "example.org", "-k",
             os.path.join(DKIM_DIR, "dkimpy", key), "-s", selector],
            input=message, capture_output=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr.decode())
        return out.stdout

    def test_opendkim_verifies_our_rsa_signature(self):
        signed = self.sign(crlf(vector("dkimpy/rfc6376.msg")), "test.private", "r")
        rc, _, err = self.in_namespace(OPENDKIM_TESTMSG, signed)
        self.assertEqual(rc, 0, err)
        rc, _, err = self.in_namespace(OPENDKIM_TESTMSG,
                                       signed.replace(b"Joe.", b"Jim."))
        self.assertNotEqual(rc, 0)
        self.assertIn("Bad signature", err)

    def test_opendkim_verifies_our_ed25519_signature(self):
        signed = self.sign(crlf(vector("dkimpy/ed25519test.msg")),
                           "ed25519test.key", "e")
        rc, _, err = self.in_namespace(OPENDKIM_TESTMSG, signed)
        self.assertEqual(rc, 0, err)

    def test_opendkim_rsa_sha1_signature_is_policy(self):
        """opendkim-testmsg signs rsa-sha1 (it has no option for
        sha256): we parse it and refuse it as RFC 8301 says."""
        key = os.path.join(DKIM_DIR, "dkimpy", "test.private")
        rc, signed, err = self.in_namespace(
            f"{OPENDKIM_TESTMSG} -d example.org -s r -k {key} -C",
            crlf(vector("dkimpy/rfc6376.msg")))
        self.assertEqual(rc, 0, err)
        self.assertIn(b"DKIM-Signature:", signed)
        zone = list(dns_util.TEST_ZONE) + [
            txt_option(o, v) for o, v in self.records.items()]
        with Dnsmasq(zone) as dns:
            results = dkimtool_verify(dns.server, crlf(signed))
        self.assertEqual([(r["a"], r["result"], r["reason"]) for r in results],
                         [("rsa-sha1", "policy",
                           "rsa-sha1 is not accepted (RFC 8301)")])


if __name__ == "__main__":
    unittest.main()
