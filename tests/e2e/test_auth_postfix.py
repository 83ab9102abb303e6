"""test_auth_postfix.py: Debian's Postfix authenticates against the auth
service. A throwaway Postfix instance (its own main.cf and master.cf
under a temporary directory, `postfix -c DIR start`, queue_directory and
data_directory there too, listening on a free 127.0.0.1 port) is given
smtpd_sasl_type = dovecot and smtpd_sasl_path = our socket's absolute
path; Python's smtplib then logs in to that Postfix with the right
password (235) and a wrong one (535), with PLAIN and with LOGIN, and a
whole SCRAM-SHA-256 exchange through Postfix computed with hashlib/hmac.

Postfix's master must start as root, so the test needs root. Its smtpd
runs as its mail_owner, which must get through our private/ directory
(mode 0700, owned by our mail_owner): the Postfix instance is given our
mail_owner, one of the two set-ups docs/auth.md describes."""
import os
import base64
import hashlib
import hmac
import shutil
import signal
import smtplib
import subprocess
import tempfile
import time
import unittest

from auth_util import start_auth_instance
from instance import free_port, is_root

POSTFIX = "/usr/sbin/postfix"
POSTFIX_DAEMONS = "/usr/lib/postfix/sbin"
USERS = "alice@example.org:{PLAIN}secret\n"

MASTER_CF = """\
{port} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


class PostfixInstance:
    """A throwaway Postfix under a temporary directory."""

    def __init__(self, testcase, port, mail_owner, sasl_path):
        self.root = tempfile.mkdtemp(prefix="pf-", dir="/tmp")
        os.chmod(self.root, 0o755)
        self.etc = os.path.join(self.root, "etc")
        os.makedirs(self.etc)
        self.maillog = os.path.join(self.root, "maillog")
        # postfix start creates what is below the queue directory.
        os.makedirs(os.path.join(self.root, "spool"))
        main = {
            "compatibility_level": "3.6",
            "queue_directory": os.path.join(self.root, "spool"),
            "data_directory": os.path.join(self.root, "data"),
            "daemon_directory": POSTFIX_DAEMONS,
            "mail_owner": mail_owner,
            "myhostname": "postfix-test.example.org",
            "mydestination": "",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "maillog_file": self.maillog,
            "maillog_file_prefixes": self.root,
            "smtpd_sasl_auth_enable": "yes",
            "smtpd_sasl_type": "dovecot",
            "smtpd_sasl_path": sasl_path,
            "smtpd_tls_security_level": "none",
            "smtpd_sasl_security_options": "noanonymous",
            "alias_maps": "",
            "alias_database": "",
        }
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            f.write("".join(f"{k} = {v}\n" for k, v in main.items()))
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(port=port))
        testcase.addCleanup(self.cleanup)

    def run(self, *args):
        return subprocess.run([POSTFIX, "-c", self.etc, *args],
                              capture_output=True, text=True, timeout=60)

    def start(self):
        out = self.run("start")
        if out.returncode != 0:
            raise AssertionError(f"postfix start failed: {out.stdout}"
                                 f"{out.stderr}\n{self.log()}")

    def log(self):
        try:
            with open(self.maillog, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def master_pid(self):
        try:
            with open(os.path.join(self.root, "spool", "pid",
                                   "master.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def cleanup(self):
        pid = self.master_pid()
        self.run("stop")
        deadline = time.monotonic() + 10
        while pid and time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            if pid:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        shutil.rmtree(self.root, ignore_errors=True)


@unittest.skipUnless(os.access(POSTFIX, os.X_OK) and
                     os.access(os.path.join(POSTFIX_DAEMONS, "smtpd"),
                               os.X_OK),
                     "Debian's postfix is not installed (scripts/install-deps "
                     "--test installs it)")
@unittest.skipUnless(is_root(), "needs root: Postfix's master starts as root")
class PostfixThroughOurAuthTest(unittest.TestCase):
    def setUp(self):
        self.inst, self.socket_path, _ = start_auth_instance(
            self, USERS, {"auth_failure_delay": "1s"})
        self.port = free_port()
        self.postfix = PostfixInstance(self, self.port, self.inst.mail_owner,
                                       self.socket_path)
        self.postfix.start()
        deadline = time.monotonic() + 15
        while True:
            try:
                with smtplib.SMTP("127.0.0.1", self.port, timeout=5) as s:
                    s.ehlo()
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("Postfix did not answer:\n"
                                         + self.postfix.log())
                time.sleep(0.2)

    def login(self, user, password, mech=None):
        """(code, message) of AUTH on a fresh connection to Postfix."""
        with smtplib.SMTP("127.0.0.1", self.port, timeout=15) as s:
            s.ehlo("client.example.org")
            self.assertIn("auth", s.esmtp_features, self.postfix.log())
            try:
                if mech:
                    s.user, s.password = user, password
                    auth_object = {"PLAIN": s.auth_plain,
                                   "LOGIN": s.auth_login}[mech]
                    return s.auth(mech, auth_object)
                return s.login(user, password)
            except smtplib.SMTPAuthenticationError as e:
                return e.smtp_code, e.smtp_error

    def scram(self, user, password):
        """AUTH SCRAM-SHA-256 through Postfix, computed here; returns the
        final reply code and whether our server signature was right."""
        b64 = lambda data: base64.b64encode(data).decode()
        with smtplib.SMTP("127.0.0.1", self.port, timeout=15) as s:
            s.ehlo()
            first_bare = f"n={user},r={b64(os.urandom(18))}"
            code, text = s.docmd("AUTH", "SCRAM-SHA-256 " +
                                 b64(("n,," + first_bare).encode()))
            self.assertEqual(code, 334, text)
            server_first = base64.b64decode(text).decode()
            attrs = dict(a.split("=", 1) for a in server_first.split(","))
            salted = hashlib.pbkdf2_hmac("sha256", password.encode(),
                                         base64.b64decode(attrs["s"]),
                                         int(attrs["i"]))
            client_key = hmac.new(salted, b"Client Key", "sha256").digest()
            without_proof = f"c=biws,r={attrs['r']}"
            message = f"{first_bare},{server_first},{without_proof}".encode()
            signature = hmac.new(hashlib.sha256(client_key).digest(), message,
                                 "sha256").digest()
            proof = bytes(a ^ b for a, b in zip(client_key, signature))
            code, text = s.docmd(b64(f"{without_proof},p={b64(proof)}"
                                     .encode()))
            if code != 334:
                return code, None
            server_key = hmac.new(salted, b"Server Key", "sha256").digest()
            expected = "v=" + b64(hmac.new(server_key, message,
                                           "sha256").digest())
            verified = base64.b64decode(text).decode() == expected
            code, text = s.docmd("")
            return code, verified

    def test_scram_through_postfix(self):
        self.assertEqual(self.scram("alice@example.org", "secret"),
                         (235, True), self.postfix.log())
        code, _ = self.scram("alice@example.org", "wrong")
        self.assertEqual(code, 535, self.postfix.log())

    def test_right_and_wrong_password(self):
        with smtplib.SMTP("127.0.0.1", self.port, timeout=15) as s:
            s.ehlo()
            mechs = s.esmtp_features.get("auth", "").split()
        self.assertEqual(sorted(mechs), ["LOGIN", "PLAIN", "SCRAM-SHA-256"],
                         self.postfix.log())
        code, _ = self.login("alice@example.org", "secret")
        self.assertEqual(code, 235, self.postfix.log())
        started = time.monotonic()
        code, _ = self.login("alice@example.org", "wrong")
        self.assertEqual(code, 535, self.postfix.log())
        self.assertGreaterEqual(time.monotonic() - started, 0.9)
        code, _ = self.login("alice@example.org", "secret", mech="LOGIN")
        self.assertEqual(code, 235, self.postfix.log())
        code, _ = self.login("alice@example.org", "nope", mech="LOGIN")
        self.assertEqual(code, 535, self.postfix.log())
        # Our side saw Postfix's requests, with the client's address.
        self.inst.wait_for_log(r"passwd-file\(alice@example\.org,127\.0\.0\.1\)"
                               r": authenticated \(method=PLAIN, "
                               r"service=smtp\)")
        self.inst.wait_for_log(r"passwd-file\(alice@example\.org,127\.0\.0\.1\)"
                               r": Password mismatch \(method=LOGIN")


if __name__ == "__main__":
    unittest.main()
