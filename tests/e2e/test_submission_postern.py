"""test_submission_postern.py: the whole submission path with Postern's
own pieces only: one instance runs smtpd (STARTTLS, AUTH required for
relay) and the auth service (the default master.cf's auth line,
smtpd_sasl_path at its default private/auth), with passdb = a
Dovecot-format passwd-file. Real clients: smtplib, a raw socket client
that computes SCRAM-SHA-256 proofs itself, and swaks.

The passwd-file holds {PLAIN} users and, where doveadm (dovecot-core) is
installed, one user per scheme with a hash `doveadm pw -s SCHEME` made.
auth_failure_delay is 1 s (the smallest); the lock-out is 3 failures in
a 6 s window, so its case finishes in seconds. Cases whose logins fail
connect from loopback addresses of their own and use users of their
own: failures count per address and per user."""
import base64
import hashlib
import hmac
import os
import shutil
import smtplib
import subprocess
import threading
import time
import unittest

from instance import Instance, builddir
from smtpd_util import BASE_MAIN_CF
from test_smtpd_sasl import OPENSSL, Raw, b64, client_context, plain

DOVEADM = shutil.which("doveadm")
SWAKS = shutil.which("swaks")
PLAIN_USERS = {"alice": "secret", "bob": "hunter2", "carol": "c-pass",
               "dave": "d-pass", "sam": "scram pencil"}
SCHEMES = ["SHA512-CRYPT", "SHA256-CRYPT", "BLF-CRYPT", "ARGON2ID",
           "ARGON2I", "SSHA512", "SSHA256", "CRYPT", "PLAIN"]
SCHEME_PASSWORD = "Tr0ub4dor &3"
FAILURE_DELAY = 1.0
LOCKOUT_WINDOW = 6.0


def scheme_user(scheme):
    return "u-" + scheme.lower()


def doveadm_hash(scheme, password):
    out = subprocess.run([DOVEADM, "pw", "-s", scheme, "-p", password],
                         capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise unittest.SkipTest(f"doveadm pw -s {scheme}: {out.stderr.strip()}")
    return out.stdout.strip()


SMTPD_BUILT = all(os.access(os.path.join(builddir(), d, d), os.X_OK)
                  for d in ("smtpd", "auth"))


@unittest.skipUnless(OPENSSL, "no openssl command")
@unittest.skipUnless(SMTPD_BUILT, "smtpd or auth not built")
class PosternSubmissionTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = inst = Instance()
        try:
            cert = os.path.join(inst.etc, "cert.pem")
            key = os.path.join(inst.etc, "key.pem")
            subprocess.run([OPENSSL, "req", "-x509", "-newkey", "rsa:2048",
                            "-nodes", "-keyout", key, "-out", cert, "-days",
                            "2", "-subj", "/CN=mx.example.test"],
                           check=True, capture_output=True, timeout=60)
            if os.geteuid() == 0:
                os.chown(key, inst.owner_uid, inst.owner_gid)
            users = os.path.join(inst.etc, "users")
            with open(users, "w") as f:
                for user, password in PLAIN_USERS.items():
                    f.write(f"{user}:{{PLAIN}}{password}::::::\n")
                cls.scheme_skip = None
                if DOVEADM:
                    # BLF-CRYPT and CRYPT both come out as $2y$ bcrypt;
                    # the label differs, which is what is tested.
                    for scheme in SCHEMES:
                        f.write(f"{scheme_user(scheme)}:"
                                f"{doveadm_hash(scheme, SCHEME_PASSWORD)}"
                                f"::::::\n")
                    f.write("sam-stored:" + doveadm_hash(
                        "SCRAM-SHA-256", PLAIN_USERS["sam"]) + "::::::\n")
                else:
                    cls.scheme_skip = "doveadm not installed (dovecot-core)"
            params = dict(BASE_MAIN_CF)
            params.update({
                "smtpd_tls_security_level": "may",
                "smtpd_tls_cert_file": cert,
                "smtpd_tls_key_file": key,
                "smtpd_sasl_auth_enable": "yes",
                "smtpd_relay_restrictions": "permit_mynetworks, "
                    "permit_sasl_authenticated, reject_unauth_destination",
                "smtpd_sender_restrictions": "reject_sender_login_mismatch",
                "smtpd_sender_login_maps": "inline:{alice@example.test=alice, "
                    "bob@example.test=bob}",
                "passdb": f"passwd-file:{users}",
                "auth_failure_delay": f"{int(FAILURE_DELAY)}s",
                "auth_lockout_threshold": "3",
                "auth_lockout_window": f"{int(LOCKOUT_WINDOW)}s",
            })
            inst.write_main_cf(params)
            cls.port = inst.free_port()
            inst.write_master_cf(
                inst.service(f"127.0.0.1:{cls.port}", "inet", "smtpd",
                             args=["-o", "smtpd_tls_auth_only=yes"])
                + inst.service("auth", "unix", "auth", maxproc=1))
            inst.start()
        except BaseException:
            inst.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def setUp(self):
        self.mark = self.inst.log_mark()

    def raw_tls(self, source="127.0.0.1"):
        """A client after STARTTLS and EHLO; returns (client, EHLO lines)."""
        r = Raw(self.port, source)
        self.addCleanup(r.close)
        self.assertEqual(r.reply()[0], 220)
        r.cmd("EHLO client.example")
        r.starttls()
        code, lines = r.cmd("EHLO client.example")
        self.assertEqual(code, 250)
        return r, lines

    def smtp_tls(self):
        c = smtplib.SMTP("127.0.0.1", self.port, timeout=30)
        self.addCleanup(c.close)
        c.starttls(context=client_context())
        c.ehlo("client.example")
        return c

    def incoming(self):
        path = os.path.join(self.inst.queue, "incoming")
        return set(n for n in os.listdir(path) if not n.startswith("."))

    def queued_content(self, before):
        import json
        new = self.inst.wait_until(lambda: self.incoming() - before,
                                   what="a new queue file")
        helper = os.path.join(builddir(), "tests", "helpers", "qfile_json")
        out = subprocess.run([helper, os.path.join(self.inst.queue, "incoming",
                                                   new.pop())],
                             capture_output=True, check=True)
        return json.loads(out.stdout.decode("ascii"))["content"]

    def timed_auth(self, r, user, password):
        t0 = time.monotonic()
        code, lines = r.cmd("AUTH PLAIN " + plain(user, password))
        return code, lines, time.monotonic() - t0

    # ---- PLAIN and LOGIN over STARTTLS, relay, Received ----

    def test_plain_over_starttls_relays_with_esmtpsa(self):
        before = self.incoming()
        c = self.smtp_tls()
        c.login("alice", "secret")  # PLAIN: smtplib knows no SCRAM
        self.assertEqual(c.sendmail("alice@example.test", ["far@remote.test"],
                                    b"Subject: relayed\r\n\r\nbody\r\n"), {})
        self.assertRegex(self.queued_content(before),
                         r"\n\tby mx\.example\.test \(Postern\) with ESMTPSA id ")
        self.inst.wait_for_log(r"client=unknown\[127\.0\.0\.1\], "
                               r"sasl_method=PLAIN, sasl_username=alice$",
                               since=self.mark)
        self.inst.wait_for_log(r"auth\[\d+\]: passwd-file\(alice,127\.0\.0\.1\): "
                               r"authenticated \(method=PLAIN, service=smtp\)",
                               since=self.mark)

    def test_login_over_starttls(self):
        r, lines = self.raw_tls()
        self.assertIn("AUTH PLAIN LOGIN SCRAM-SHA-256", lines)
        self.assertEqual(r.cmd("AUTH LOGIN"), (334, ["VXNlcm5hbWU6"]))
        self.assertEqual(r.cmd(b64("bob")), (334, ["UGFzc3dvcmQ6"]))
        self.assertEqual(r.cmd(b64("hunter2"))[0], 235)
        self.assertEqual(r.cmd("MAIL FROM:<bob@example.test>")[0], 250)
        self.assertEqual(r.cmd("RCPT TO:<far@remote.test>")[0], 250)

    def test_relay_refused_without_auth(self):
        r, _ = self.raw_tls()
        self.assertEqual(r.cmd("MAIL FROM:<x@elsewhere.test>")[0], 250)
        self.assertEqual(r.cmd("RCPT TO:<far@remote.test>"),
                         (554, ["5.7.1 <far@remote.test>: Relay access denied"]))
        # Local mail still goes in without AUTH.
        self.assertEqual(r.cmd("RCPT TO:<bob@example.test>")[0], 250)

    def test_sender_mismatch_refused(self):
        r, _ = self.raw_tls()
        self.assertEqual(r.cmd("AUTH PLAIN " + plain("alice", "secret"))[0], 235)
        self.assertEqual(r.cmd("MAIL FROM:<bob@example.test>")[0], 250)
        self.assertEqual(r.cmd("RCPT TO:<far@remote.test>"),
                         (553, ["5.7.1 <bob@example.test>: Sender address "
                                "rejected: not owned by user alice"]))

    # ---- failures: the delay and the lock-out ----

    def test_wrong_password_535_after_the_delay(self):
        r, _ = self.raw_tls("127.0.0.40")
        code, lines, took = self.timed_auth(r, "dave", "wrong")
        self.assertEqual(code, 535)
        self.assertTrue(lines[0].startswith("5.7.8 Error: authentication failed:"),
                        lines)
        self.assertGreaterEqual(took, 0.9 * FAILURE_DELAY)
        self.assertLess(took, FAILURE_DELAY + 4)
        # A success is not held back.
        code, _, took = self.timed_auth(r, "dave", "d-pass")
        self.assertEqual(code, 235)
        self.assertLess(took, 0.9 * FAILURE_DELAY)
        self.inst.wait_for_log(r"auth\[\d+\]: passwd-file\(dave,127\.0\.0\.40\): "
                               r"Password mismatch \(method=PLAIN, service=smtp",
                               since=self.mark)

    def test_lockout_then_the_window_passes(self):
        source = "127.0.0.41"
        t0 = time.monotonic()
        # Three failures at once (three sessions), each held back 1 s.
        results = []

        def fail_once():
            r, _ = self.raw_tls(source)
            results.append(r.cmd("AUTH PLAIN " + plain("carol", "guess"))[0])
        threads = [threading.Thread(target=fail_once) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(results, [535, 535, 535])
        # Locked out: the right password fails too, after the delay.
        r, _ = self.raw_tls(source)
        code, lines, took = self.timed_auth(r, "carol", "c-pass")
        self.assertEqual(code, 535, lines)
        self.assertGreaterEqual(took, 0.9 * FAILURE_DELAY)
        self.inst.wait_for_log(r"passdb\(carol,127\.0\.0\.41\): Invalid "
                               r"credentials \(locked out;", since=self.mark)
        self.assertLess(time.monotonic() - t0, LOCKOUT_WINDOW,
                        "too slow to see the lock-out inside its window")
        # Once the window has passed, the right password works again.
        time.sleep(max(0.0, t0 + LOCKOUT_WINDOW + 0.5 - time.monotonic()))
        code, lines, _ = self.timed_auth(r, "carol", "c-pass")
        self.assertEqual(code, 235, lines)

    # ---- a Dovecot passwd-file with each scheme ----

    def test_each_scheme_logs_in_through_smtpd(self):
        if self.scheme_skip:
            self.skipTest(self.scheme_skip)
        r, _ = self.raw_tls()
        for scheme in SCHEMES:
            with self.subTest(scheme=scheme):
                user = scheme_user(scheme)
                code, lines = r.cmd("AUTH PLAIN " + plain(user, SCHEME_PASSWORD))
                self.assertEqual((code, lines[0]),
                                 (235, "2.7.0 Authentication successful"))
                # A new session for the next login (one AUTH a session).
                r.close()
                r, _ = self.raw_tls()
        # And a wrong password fails for a hashed scheme (own address).
        r, _ = self.raw_tls("127.0.0.42")
        self.assertEqual(r.cmd("AUTH PLAIN " + plain(
            scheme_user("SHA512-CRYPT"), "nope"))[0], 535)

    # ---- SCRAM-SHA-256 through smtpd's 334 challenges ----

    def scram_login(self, user, password, source="127.0.0.1"):
        """RFC 5802 through RFC 4954's exchange, proofs computed here.
        Returns (final code, whether the server's signature was right)."""
        r, lines = self.raw_tls(source)
        self.assertIn("AUTH PLAIN LOGIN SCRAM-SHA-256", lines)
        cnonce = base64.b64encode(os.urandom(18)).decode()
        first_bare = f"n={user},r={cnonce}"
        code, texts = r.cmd("AUTH SCRAM-SHA-256 " + b64("n,," + first_bare))
        self.assertEqual(code, 334, texts)
        server_first = base64.b64decode(texts[0]).decode()
        attrs = dict(a.split("=", 1) for a in server_first.split(","))
        self.assertTrue(attrs["r"].startswith(cnonce))
        salted = hashlib.pbkdf2_hmac("sha256", password.encode(),
                                     base64.b64decode(attrs["s"]),
                                     int(attrs["i"]))
        client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
        stored_key = hashlib.sha256(client_key).digest()
        without_proof = f"c={b64('n,,')},r={attrs['r']}"
        auth_message = f"{first_bare},{server_first},{without_proof}".encode()
        signature = hmac.new(stored_key, auth_message, hashlib.sha256).digest()
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        code, texts = r.cmd(b64(without_proof + ",p="
                                + base64.b64encode(proof).decode()))
        if code != 334:
            return code, None
        server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
        expected = "v=" + base64.b64encode(
            hmac.new(server_key, auth_message, hashlib.sha256).digest()).decode()
        verified = base64.b64decode(texts[0]).decode() == expected
        code, _ = r.cmd("")
        return code, verified

    def test_scram_sha_256_through_smtpd(self):
        self.assertEqual(self.scram_login("sam", "scram pencil"), (235, True))
        self.inst.wait_for_log(r"sasl_method=SCRAM-SHA-256, sasl_username=sam|"
                               r"passwd-file\(sam,127\.0\.0\.1\): authenticated "
                               r"\(method=SCRAM-SHA-256", since=self.mark)
        # A wrong password: the proof fails, 535 (own address).
        self.assertEqual(self.scram_login("sam", "wrong", "127.0.0.43")[0], 535)

    def test_scram_with_a_doveadm_stored_key(self):
        if self.scheme_skip:
            self.skipTest(self.scheme_skip)
        self.assertEqual(self.scram_login("sam-stored", "scram pencil"),
                         (235, True))

    # ---- swaks ----

    @unittest.skipUnless(SWAKS, "swaks not installed")
    def test_swaks_tls_auth_plain(self):
        before = self.incoming()
        out = subprocess.run(
            [SWAKS, "--server", f"127.0.0.1:{self.port}", "--tls",
             "--auth", "PLAIN", "--auth-user", "alice",
             "--auth-password", "secret", "--from", "alice@example.test",
             "--to", "friend@remote.test", "--helo", "client.example"],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("235 2.7.0 Authentication successful", out.stdout)
        self.assertRegex(self.queued_content(before), r"with ESMTPSA id ")


if __name__ == "__main__":
    unittest.main()
