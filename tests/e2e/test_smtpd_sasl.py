"""test_smtpd_sasl.py: SMTP AUTH in smtpd against a real auth server.

Every case runs twice (sasl_server.py): against a real Dovecot's auth
service, and against Postern's own auth service in a second instance.
Both have a passwd-file: alice/secret and bob/hunter2. Dovecot offers
PLAIN, LOGIN and ANONYMOUS (which smtpd_sasl_security_options =
noanonymous hides); Postern's service PLAIN, LOGIN, SCRAM-SHA-256. One
Postern instance runs smtpd with smtpd_sasl_path at the server's
socket on several loopback ports:
  submission  STARTTLS offered, smtpd_tls_auth_only = yes
  plain       STARTTLS offered, AUTH in plain text too (Postfix's default)
  lenient     as submission, smtpd_forbid_unauth_pipelining = no (the
              STARTTLS injection reaches the TLS code)
  broken      broken_sasl_auth_clients = yes
  nosasl      smtpd_sasl_path at a socket that does not exist
  header      smtpd_sasl_authenticated_header = yes
  noplain     plaintext mechanisms only over TLS (the security options)
  discard     smtpd_discard_ehlo_keywords = auth
  known, authonly, unauthonly   the other *_sender_login_mismatch
Relay: smtpd_relay_restrictions = permit_mynetworks,
permit_sasl_authenticated, reject_unauth_destination (127.0.0.1 is not
in mynetworks); smtpd_sender_restrictions = reject_sender_login_mismatch
with alice@example.test owned by alice, bob@example.test by bob.
syslog_name = postfix, so fail2ban's stock postfix filter reads our
log unchanged. No qmgr runs: messages stay in incoming/. Tests whose
logins fail connect from loopback addresses of their own: Dovecot
delays every later login from an address that failed, and Postern's
service counts failures per address toward its lock-out."""
import base64
import json
import os
import re
import shutil
import smtplib
import socket
import ssl
import subprocess
import time
import unittest

from instance import Instance, builddir
from sasl_server import AuthServerUnavailable, DovecotAuth, PosternAuth
from smtpd_util import BASE_MAIN_CF

OPENSSL = shutil.which("openssl")
SWAKS = shutil.which("swaks")
FAIL2BAN_REGEX = shutil.which("fail2ban-regex")
FAIL2BAN_FILTER = "/etc/fail2ban/filter.d/postfix.conf"
USERS = {"alice": "secret", "bob": "hunter2"}

SERVICES = {
    "submission": ["-o", "smtpd_tls_auth_only=yes"],
    "plain": [],
    "lenient": ["-o", "smtpd_tls_auth_only=yes",
                "-o", "smtpd_forbid_unauth_pipelining=no"],
    "broken": ["-o", "broken_sasl_auth_clients=yes"],
    "nosasl": ["-o", "smtpd_sasl_path=/nonexistent/auth-client"],
    "header": ["-o", "smtpd_sasl_authenticated_header=yes"],
    "discard": ["-o", "smtpd_discard_ehlo_keywords=auth"],
    "noplain": ["-o", "smtpd_sasl_security_options=noplaintext,noanonymous",
                "-o", "smtpd_sasl_tls_security_options=noanonymous"],
    "known": ["-o", "smtpd_sender_restrictions="
              "reject_known_sender_login_mismatch"],
    "authonly": ["-o", "smtpd_sender_restrictions="
                 "reject_authenticated_sender_login_mismatch"],
    "unauthonly": ["-o", "smtpd_sender_restrictions="
                   "reject_unauthenticated_sender_login_mismatch"],
}


def b64(text):
    return base64.b64encode(text.encode()).decode()


def plain(user, password):
    return b64(f"\0{user}\0{password}")


def client_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Raw:
    """A line-exact SMTP client that can switch to TLS."""

    def __init__(self, port, source="127.0.0.1"):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=20,
                                             source_address=(source, 0))
        self.file = self.sock.makefile("rb")

    def send(self, text):
        self.sock.sendall(text.encode())

    def reply(self):
        """(code, [texts]); (None, []) at EOF."""
        lines = []
        while True:
            line = self.file.readline(4096)
            if not line:
                return (None, lines)
            line = line.rstrip(b"\r\n").decode()
            lines.append(line[4:])
            if len(line) < 4 or line[3] != "-":
                return (int(line[:3]), lines)

    def cmd(self, text):
        self.send(text + "\r\n")
        return self.reply()

    def starttls(self):
        code, _ = self.cmd("STARTTLS")
        assert code == 220, code
        self.sock = client_context().wrap_socket(self.sock)
        self.file = self.sock.makefile("rb")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class SmtpdSaslCases:
    """The cases, run once per auth server class (the subclasses at the
    end of the file)."""
    auth_class = None

    @classmethod
    def setUpClass(cls):
        cls.auth = cls.auth_class(USERS)
        try:
            cls.auth.start()
        except AuthServerUnavailable as e:
            raise unittest.SkipTest(str(e))
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
            params = dict(BASE_MAIN_CF)
            params.update({
                "syslog_name": "postfix",
                "smtpd_tls_security_level": "may",
                "smtpd_tls_cert_file": cert,
                "smtpd_tls_key_file": key,
                "smtpd_sasl_auth_enable": "yes",
                "smtpd_sasl_type": "dovecot",
                "smtpd_sasl_path": cls.auth.socket_path,
                "smtpd_relay_restrictions": "permit_mynetworks, "
                    "permit_sasl_authenticated, reject_unauth_destination",
                "smtpd_sender_restrictions": "reject_sender_login_mismatch",
                "smtpd_sender_login_maps": "inline:{alice@example.test=alice, "
                    "bob@example.test=bob}",
                "local_recipient_maps": "inline:{bob=1, postmaster=1, alice=1}",
            })
            inst.write_main_cf(params)
            cls.ports = {}
            lines = ""
            for name, args in SERVICES.items():
                port = cls.ports[name] = inst.free_port()
                lines += inst.service(f"127.0.0.1:{port}", "inet", "smtpd",
                                      args=args)
            inst.write_master_cf(lines)
            inst.start()
        except BaseException:
            inst.cleanup()
            cls.auth.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()
        cls.auth.stop()

    def setUp(self):
        self.mark = self.inst.log_mark()

    def raw(self, name, source="127.0.0.1"):
        """A client; tests that fail logins connect from an address of
        their own, as Dovecot delays each further login from an address
        that failed (up to 15 s)."""
        r = Raw(self.ports[name], source)
        self.addCleanup(r.close)
        code, _ = r.reply()
        self.assertEqual(code, 220)
        return r

    def smtp(self, name):
        c = smtplib.SMTP("127.0.0.1", self.ports[name], timeout=20)
        self.addCleanup(c.close)
        return c

    def incoming(self):
        path = os.path.join(self.inst.queue, "incoming")
        return set(n for n in os.listdir(path) if not n.startswith("."))

    def queued_content(self, before):
        new = self.inst.wait_until(lambda: self.incoming() - before,
                                   what="a new queue file")
        self.assertEqual(len(new), 1)
        helper = os.path.join(builddir(), "tests", "helpers", "qfile_json")
        out = subprocess.run([helper, os.path.join(self.inst.queue, "incoming",
                                                   new.pop())],
                             capture_output=True, check=True)
        return json.loads(out.stdout.decode("ascii"))["content"]

    # ---- EHLO and where AUTH is allowed ----

    def test_auth_offered_only_after_starttls_with_tls_auth_only(self):
        r = self.raw("submission")
        code, lines = r.cmd("EHLO client.example")
        self.assertEqual(code, 250)
        self.assertFalse([l for l in lines if l.startswith("AUTH")], lines)
        code, lines = r.cmd("AUTH PLAIN " + plain("alice", "secret"))
        self.assertEqual((code, lines[0]),
                         (504, "5.5.4 Encryption required for requested "
                               "authentication mechanism"))
        r.starttls()
        code, lines = r.cmd("EHLO client.example")
        # The server's mechanisms, less ANONYMOUS (noanonymous).
        self.assertIn("AUTH " + self.auth.ehlo_mechanisms, lines)
        self.assertFalse([l for l in lines if l.startswith("AUTH=")], lines)

    def test_plain_text_auth_with_postfix_default(self):
        r = self.raw("plain")
        code, lines = r.cmd("EHLO client.example")
        self.assertIn("AUTH " + self.auth.ehlo_mechanisms, lines)
        code, lines = r.cmd("AUTH PLAIN " + plain("alice", "secret"))
        self.assertEqual((code, lines[0]), (235, "2.7.0 Authentication successful"))

    def test_security_options_before_and_after_tls(self):
        r = self.raw("noplain")
        code, lines = r.cmd("EHLO client.example")
        # Only the mechanisms that send no password in clear (SCRAM).
        secure = self.auth.ehlo_secure_mechanisms
        self.assertEqual([l for l in lines if l.startswith("AUTH")],
                         ["AUTH " + secure] if secure else [], lines)
        self.assertEqual(r.cmd("AUTH PLAIN " + plain("alice", "secret")),
                         (504, ["5.5.4 Unrecognized authentication type"]))
        r.starttls()
        code, lines = r.cmd("EHLO client.example")
        self.assertIn("AUTH " + self.auth.ehlo_mechanisms, lines)
        self.assertEqual(r.cmd("AUTH PLAIN " + plain("alice", "secret"))[0], 235)

    def test_discarded_auth_keyword_turns_auth_off(self):
        r = self.raw("discard")
        code, lines = r.cmd("EHLO client.example")
        self.assertFalse([l for l in lines if l.startswith("AUTH")], lines)
        self.assertEqual(r.cmd("AUTH PLAIN " + plain("alice", "secret")),
                         (503, ["5.5.1 Error: authentication not enabled"]))

    def test_broken_sasl_auth_clients_adds_auth_equals(self):
        r = self.raw("broken")
        code, lines = r.cmd("EHLO client.example")
        self.assertIn("AUTH " + self.auth.ehlo_mechanisms, lines)
        self.assertIn("AUTH=" + self.auth.ehlo_mechanisms, lines)

    # ---- the exchange ----

    def test_auth_plain_with_smtplib_over_starttls_relays_with_esmtpsa(self):
        before = self.incoming()
        c = self.smtp("submission")
        c.starttls(context=client_context())
        c.ehlo("client.example")
        self.assertIn("PLAIN", c.esmtp_features["auth"].split())
        c.login("alice", "secret")
        refused = c.sendmail("alice@example.test", ["someone@remote.test"],
                             b"Subject: relayed\r\n\r\nbody\r\n")
        self.assertEqual(refused, {})
        content = self.queued_content(before)
        self.assertRegex(content, r"\n\tby mx\.example\.test \(Postern\) "
                                  r"with ESMTPSA id ")
        self.assertNotIn("Authenticated sender", content)
        self.inst.wait_for_log(
            r"postfix/smtpd\[\d+\]: [0-9A-Za-z]+: client=unknown\[127\.0\.0\.1\], "
            r"sasl_method=PLAIN, sasl_username=alice$", since=self.mark)

    def test_auth_login_step_by_step(self):
        r = self.raw("submission")
        r.starttls()
        r.cmd("EHLO client.example")
        self.assertEqual(r.cmd("AUTH LOGIN"), (334, ["VXNlcm5hbWU6"]))
        self.assertEqual(r.cmd(b64("bob")), (334, ["UGFzc3dvcmQ6"]))
        code, lines = r.cmd(b64("hunter2"))
        self.assertEqual((code, lines[0]), (235, "2.7.0 Authentication successful"))
        # Authenticated: MAIL's AUTH= is kept for the client= line.
        self.assertEqual(r.cmd("MAIL FROM:<bob@example.test> AUTH=bob@example.test")[0], 250)
        self.assertEqual(r.cmd("RCPT TO:<x@remote.test>")[0], 250)

    def test_initial_response_equals_is_empty(self):
        r = self.raw("plain", "127.0.0.23")
        r.cmd("EHLO client.example")
        # "=" is an empty initial response, which PLAIN refuses.
        code, lines = r.cmd("AUTH PLAIN =")
        self.assertEqual(code, 535)
        self.assertTrue(lines[0].startswith("5.7.8 Error: authentication failed: "))
        # Without one, the server's empty challenge is "334 ".
        self.assertEqual(r.cmd("AUTH PLAIN"), (334, [""]))
        code, _ = r.cmd(plain("alice", "secret"))
        self.assertEqual(code, 235)

    def test_wrong_password_is_535_and_logged_for_fail2ban(self):
        r = self.raw("submission", "127.0.0.22")
        r.starttls()
        r.cmd("EHLO client.example")
        code, lines = r.cmd("AUTH PLAIN " + plain("alice", "wrong"))
        self.assertEqual(code, 535)
        self.assertRegex(lines[0], r"^5\.7\.8 Error: authentication failed: ")
        line = self.inst.wait_for_log(
            r"postfix/smtpd\[\d+\]: warning: unknown\[127\.0\.0\.22\]: SASL PLAIN "
            r"authentication failed: .*, sasl_username=alice", since=self.mark)
        self.assertTrue(line)
        # Still usable: the right password now works.
        self.assertEqual(r.cmd("AUTH PLAIN " + plain("alice", "secret"))[0], 235)

    @unittest.skipUnless(FAIL2BAN_REGEX and os.path.exists(FAIL2BAN_FILTER),
                         "fail2ban-regex or its postfix filter missing (fail2ban)")
    def test_fail2ban_postfix_filter_matches_failures(self):
        for user, password, source in (("alice", "nope", "127.0.0.24"),
                                       ("nobody", "x", "127.0.0.25")):
            r = self.raw("plain", source)
            r.cmd("EHLO client.example")
            self.assertEqual(r.cmd("AUTH PLAIN " + plain(user, password))[0], 535)
            r.close()
        r = self.raw("plain", "127.0.0.21")
        r.cmd("EHLO client.example")
        self.assertEqual(r.cmd("AUTH LOGIN")[0], 334)
        self.assertEqual(r.cmd(b64("alice"))[0], 334)
        self.assertEqual(r.cmd(b64("wrong"))[0], 535)
        self.inst.wait_for_log(r"SASL LOGIN authentication failed", since=self.mark)
        log = os.path.join(self.inst.root, "f2b.log")
        with open(log, "w") as f:
            f.write(self.inst.log_since(self.mark))
        out = subprocess.run(
            [FAIL2BAN_REGEX, log, f"{FAIL2BAN_FILTER}[mode=auth]"],
            capture_output=True, text=True, timeout=120)
        m = re.search(r"Failregex: (\d+) total", out.stdout)
        self.assertTrue(m, out.stdout + out.stderr)
        self.assertEqual(int(m.group(1)), 3, out.stdout)
        self.assertIn("127.0.0.21", out.stdout)

    def test_abort_is_501(self):
        r = self.raw("plain")
        r.cmd("EHLO client.example")
        self.assertEqual(r.cmd("AUTH LOGIN")[0], 334)
        self.assertEqual(r.cmd("*"), (501, ["5.7.0 Authentication aborted"]))
        self.inst.wait_for_log(r"warning: unknown\[127\.0\.0\.1\]: SASL LOGIN "
                               r"authentication aborted", since=self.mark)
        # A command again, not SASL data.
        self.assertEqual(r.cmd("NOOP")[0], 250)

    def test_response_that_is_not_base64_fails(self):
        r = self.raw("plain")
        r.cmd("EHLO client.example")
        self.assertEqual(r.cmd("AUTH LOGIN")[0], 334)
        code, lines = r.cmd("MAIL FROM:<x@example.test>")  # data, not a command
        self.assertEqual((code, lines[0]),
                         (535, "5.7.8 Error: authentication failed: Invalid "
                               "base64 data in continued response"))

    def test_response_limit(self):
        r = self.raw("plain")
        r.cmd("EHLO client.example")
        self.assertEqual(r.cmd("AUTH LOGIN")[0], 334)
        self.assertEqual(r.cmd("A" * 13000),
                         (500, ["5.5.6 SASL response limit exceeded"]))
        self.assertEqual(r.cmd("NOOP")[0], 250)

    def test_refusals(self):
        r = self.raw("plain")
        r.cmd("EHLO client.example")
        self.assertEqual(r.cmd("AUTH CRAM-MD5"),
                         (504, ["5.5.4 Unrecognized authentication type"]))
        self.assertEqual(r.cmd("AUTH ANONYMOUS"),
                         (504, ["5.5.4 Unrecognized authentication type"]))
        self.assertEqual(r.cmd("AUTH"), (501, ["5.5.4 Syntax: AUTH mechanism"]))
        self.assertEqual(r.cmd("MAIL FROM:<>")[0], 250)
        self.assertEqual(r.cmd("AUTH PLAIN " + plain("alice", "secret")),
                         (503, ["5.5.1 Error: MAIL transaction in progress"]))
        self.assertEqual(r.cmd("RSET")[0], 250)
        self.assertEqual(r.cmd("AUTH PLAIN " + plain("alice", "secret"))[0], 235)
        self.assertEqual(r.cmd("AUTH PLAIN " + plain("alice", "secret")),
                         (503, ["5.5.1 Error: already authenticated"]))

    def test_auth_server_unreachable_is_454(self):
        r = self.raw("nosasl")
        code, lines = r.cmd("EHLO client.example")
        self.assertEqual(code, 250)
        self.assertFalse([l for l in lines if l.startswith("AUTH")], lines)
        self.assertEqual(r.cmd("AUTH PLAIN " + plain("alice", "secret")),
                         (454, ["4.7.0 Temporary authentication failure: "
                                "Can't connect to authentication server"]))

    # ---- what authentication unlocks ----

    def test_relay_refused_without_auth(self):
        r = self.raw("plain")
        r.cmd("EHLO client.example")
        self.assertEqual(r.cmd("MAIL FROM:<x@elsewhere.test>")[0], 250)
        code, lines = r.cmd("RCPT TO:<someone@remote.test>")
        self.assertEqual((code, lines[0]),
                         (554, "5.7.1 <someone@remote.test>: Relay access denied"))

    def test_authenticated_header_and_auth_param(self):
        before = self.incoming()
        r = self.raw("header")
        r.cmd("EHLO client.example")
        self.assertEqual(r.cmd("AUTH PLAIN " + plain("bob", "hunter2"))[0], 235)
        self.assertEqual(r.cmd("MAIL FROM:<bob@example.test> "
                               "AUTH=bob+2Bx@example.test")[0], 250)
        self.assertEqual(r.cmd("RCPT TO:<friend@remote.test>")[0], 250)
        self.assertEqual(r.cmd("DATA")[0], 354)
        self.assertEqual(r.cmd("Subject: h\r\n\r\nbody\r\n.")[0], 250)
        content = self.queued_content(before)
        self.assertRegex(content, r"\[127\.0\.0\.1\]\)\n\t\(Authenticated "
                                  r"sender: bob\)\n\tby mx\.example\.test "
                                  r"\(Postern\) with ESMTPA id ")
        # RFC 4954 section 5: AUTH= from an authenticated client is kept.
        self.inst.wait_for_log(r"client=unknown\[127\.0\.0\.1\], "
                               r"sasl_method=PLAIN, sasl_username=bob, "
                               r"sasl_sender=bob\+x@example\.test$",
                               since=self.mark)

    def test_auth_param_ignored_without_auth(self):
        r = self.raw("header")
        r.cmd("EHLO client.example")
        self.assertEqual(r.cmd("MAIL FROM:<x@elsewhere.test> "
                               "AUTH=bob@example.test")[0], 250)
        self.assertEqual(r.cmd("RCPT TO:<bob@example.test>")[0], 250)
        self.assertEqual(r.cmd("DATA")[0], 354)
        self.assertEqual(r.cmd("Subject: h\r\n\r\nbody\r\n.")[0], 250)
        self.inst.wait_for_log(r"client=unknown\[127\.0\.0\.1\]$",
                               since=self.mark)
        self.assertNotIn("sasl_sender", self.inst.log_since(self.mark))

    def test_esmtpa_without_tls(self):
        before = self.incoming()
        c = self.smtp("plain")
        c.ehlo("client.example")
        c.login("bob", "hunter2")
        c.sendmail("bob@example.test", ["someone@remote.test"],
                   b"Subject: a\r\n\r\nbody\r\n")
        content = self.queued_content(before)
        self.assertRegex(content, r"with ESMTPA id ")

    def test_sender_login_mismatch(self):
        r = self.raw("plain")
        r.cmd("EHLO client.example")
        # Not logged in: a sender the map knows is refused.
        self.assertEqual(r.cmd("MAIL FROM:<alice@example.test>")[0], 250)
        self.assertEqual(
            r.cmd("RCPT TO:<bob@example.test>"),
            (553, ["5.7.1 <alice@example.test>: Sender address rejected: "
                   "not logged in"]))
        r.cmd("RSET")
        self.assertEqual(r.cmd("AUTH PLAIN " + plain("alice", "secret"))[0], 235)
        # Someone else's address.
        self.assertEqual(r.cmd("MAIL FROM:<bob@example.test>")[0], 250)
        self.assertEqual(
            r.cmd("RCPT TO:<bob@example.test>"),
            (553, ["5.7.1 <bob@example.test>: Sender address rejected: "
                   "not owned by user alice"]))
        self.inst.wait_for_log(
            r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.1\]: 553 5\.7\.1 "
            r"<bob@example\.test>: Sender address rejected: not owned by user "
            r"alice; from=<bob@example\.test> to=<bob@example\.test>",
            since=self.mark)
        r.cmd("RSET")
        # An address the map does not know (reject_sender_login_mismatch).
        self.assertEqual(r.cmd("MAIL FROM:<other@example.test>")[0], 250)
        self.assertEqual(r.cmd("RCPT TO:<bob@example.test>")[0], 553)
        r.cmd("RSET")
        self.assertEqual(r.cmd("MAIL FROM:<alice@example.test>")[0], 250)
        self.assertEqual(r.cmd("RCPT TO:<bob@example.test>")[0], 250)

    def sender_verdict(self, name, sender, login=None):
        r = self.raw(name)
        r.cmd("EHLO client.example")
        if login:
            self.assertEqual(r.cmd("AUTH PLAIN " + plain(login, USERS[login]))[0], 235)
        self.assertEqual(r.cmd(f"MAIL FROM:<{sender}>")[0], 250)
        return r.cmd("RCPT TO:<bob@example.test>")[0]

    def test_other_login_mismatch_restrictions(self):
        # known: a sender the map does not know passes.
        self.assertEqual(self.sender_verdict("known", "other@example.test", "alice"), 250)
        self.assertEqual(self.sender_verdict("known", "bob@example.test", "alice"), 553)
        self.assertEqual(self.sender_verdict("known", "alice@example.test"), 553)
        # authenticated only: anyone may use any sender unauthenticated.
        self.assertEqual(self.sender_verdict("authonly", "alice@example.test"), 250)
        self.assertEqual(self.sender_verdict("authonly", "other@example.test", "bob"), 553)
        # unauthenticated only: a login may use any sender.
        self.assertEqual(self.sender_verdict("unauthonly", "bob@example.test", "alice"), 250)
        self.assertEqual(self.sender_verdict("unauthonly", "bob@example.test"), 553)
        self.assertEqual(self.sender_verdict("unauthonly", "other@example.test"), 250)
        # The null sender is never checked.
        self.assertEqual(self.sender_verdict("authonly", "", "bob"), 250)

    # ---- STARTTLS forgets (RFC 3207) ----

    def test_starttls_forgets_authentication(self):
        r = self.raw("plain")
        r.cmd("EHLO client.example")
        self.assertEqual(r.cmd("AUTH PLAIN " + plain("alice", "secret"))[0], 235)
        r.starttls()
        r.cmd("EHLO client.example")
        self.assertEqual(r.cmd("MAIL FROM:<x@elsewhere.test>")[0], 250)
        self.assertEqual(r.cmd("RCPT TO:<someone@remote.test>")[0], 554)

    def test_auth_pipelined_with_starttls_is_not_honoured(self):
        r = self.raw("lenient")
        r.cmd("EHLO client.example")
        # In one packet: STARTTLS, then an AUTH a man in the middle added.
        r.send("STARTTLS\r\nAUTH PLAIN " + plain("alice", "secret") + "\r\n")
        self.assertEqual(r.reply()[0], 220)
        r.sock = client_context().wrap_socket(r.sock)
        r.file = r.sock.makefile("rb")
        r.cmd("EHLO client.example")
        self.assertEqual(r.cmd("MAIL FROM:<x@elsewhere.test>")[0], 250)
        self.assertEqual(r.cmd("RCPT TO:<someone@remote.test>")[0], 554)
        self.assertNotIn("sasl_username", self.inst.log_since(self.mark))

    # ---- the auth server's connection ----

    def test_other_sessions_go_on_while_one_waits(self):
        # The server delays a failed login (auth_failure_delay): the
        # same smtpd process answers another client meanwhile.
        a = self.raw("plain", "127.0.0.26")
        a.cmd("EHLO client.example")
        a.send("AUTH PLAIN " + plain("alice", "wrong") + "\r\n")
        b = self.raw("plain")
        t0 = time.monotonic()
        self.assertEqual(b.cmd("EHLO other.example")[0], 250)
        self.assertEqual(b.cmd("NOOP")[0], 250)
        b_took = time.monotonic() - t0
        self.assertEqual(a.reply()[0], 535)
        a_took = time.monotonic() - t0
        self.assertLess(b_took, 0.5)
        self.assertGreater(a_took, 0.9 * self.auth.failure_delay)
        pids = set(re.findall(r"postfix/smtpd\[(\d+)\]: connect from unknown"
                              r"\[127\.0\.0\.(?:1|26)\]",
                              self.inst.log_since(self.mark)))
        self.assertEqual(len(pids), 1, "one smtpd process served both")

    # ---- a real client ----

    @unittest.skipUnless(SWAKS, "swaks not installed")
    def test_swaks_submission(self):
        before = self.incoming()
        out = subprocess.run(
            [SWAKS, "--server", f"127.0.0.1:{self.ports['submission']}",
             "--tls", "--auth", "LOGIN", "--auth-user", "bob",
             "--auth-password", "hunter2", "--from", "bob@example.test",
             "--to", "friend@remote.test", "--helo", "client.example"],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("235 2.7.0 Authentication successful", out.stdout)
        self.assertRegex(self.queued_content(before), r"with ESMTPSA id ")


class SmtpdSaslServerRestartCases:
    """The auth server goes away mid-exchange (its auth process is
    killed) and comes back: its own server and instance, as the other
    tests must not see it."""
    auth_class = None

    def setUp(self):
        self.auth = self.auth_class(USERS)
        try:
            self.auth.start()
        except AuthServerUnavailable as e:
            self.skipTest(str(e))
        self.addCleanup(self.auth.stop)
        params = dict(BASE_MAIN_CF)
        params.update({"smtpd_sasl_auth_enable": "yes",
                       "smtpd_sasl_path": self.auth.socket_path})
        self.inst = inst = Instance(self, main_cf=params)
        self.port = inst.free_port()
        inst.write_master_cf(inst.service(f"127.0.0.1:{self.port}", "inet",
                                          "smtpd"))
        inst.start()

    def client(self):
        r = Raw(self.port)
        self.addCleanup(r.close)
        self.assertEqual(r.reply()[0], 220)
        self.assertIn("AUTH " + self.auth.ehlo_mechanisms,
                      r.cmd("EHLO client.example")[1])
        return r

    def test_other_sasl_types_are_a_configuration_error(self):
        mark = self.inst.log_mark()
        port = self.inst.free_port()
        self.inst.write_master_cf(
            self.inst.service(f"127.0.0.1:{self.port}", "inet", "smtpd")
            + self.inst.service(f"127.0.0.1:{port}", "inet", "smtpd",
                                args=["-o", "smtpd_sasl_type=cyrus"]))
        self.inst.reload()
        # A connection makes master start smtpd, which refuses to run
        # (master then throttles the service, as Postfix's does).
        with socket.create_connection(("127.0.0.1", port), timeout=20):
            self.inst.wait_for_log(r"smtpd\[\d+\]: fatal: unsupported SASL "
                                   r"server implementation: cyrus", since=mark)

    def test_exchange_in_flight_fails_454_and_the_next_reconnects(self):
        mark = self.inst.log_mark()
        a = self.client()
        self.assertEqual(a.cmd("AUTH LOGIN"), (334, ["VXNlcm5hbWU6"]))
        self.auth.kill_auth_process()
        # Told without having to say anything more.
        self.assertEqual(a.reply(), (454, ["4.7.0 Temporary authentication "
                                          "failure: Connection lost to "
                                          "authentication server"]))
        self.inst.wait_for_log(r"warning: SASL: auth socket .*: connection "
                               r"closed by the server", since=mark)
        # The session goes on, and so does the next exchange.
        self.assertEqual(a.cmd("AUTH PLAIN " + plain("alice", "secret"))[0], 235)
        b = self.client()
        self.assertEqual(b.cmd("AUTH PLAIN " + plain("bob", "hunter2"))[0], 235)


SMTPD_BUILT = os.access(os.path.join(builddir(), "smtpd", "smtpd"), os.X_OK)


@unittest.skipUnless(OPENSSL, "no openssl command")
@unittest.skipUnless(SMTPD_BUILT, "smtpd not built")
class SmtpdSaslDovecotTest(SmtpdSaslCases, unittest.TestCase):
    auth_class = DovecotAuth


@unittest.skipUnless(OPENSSL, "no openssl command")
@unittest.skipUnless(SMTPD_BUILT, "smtpd not built")
class SmtpdSaslPosternTest(SmtpdSaslCases, unittest.TestCase):
    auth_class = PosternAuth


@unittest.skipUnless(SMTPD_BUILT, "smtpd not built")
class SmtpdSaslServerRestartDovecotTest(SmtpdSaslServerRestartCases,
                                        unittest.TestCase):
    auth_class = DovecotAuth


@unittest.skipUnless(SMTPD_BUILT, "smtpd not built")
class SmtpdSaslServerRestartPosternTest(SmtpdSaslServerRestartCases,
                                        unittest.TestCase):
    auth_class = PosternAuth


if __name__ == "__main__":
    unittest.main()
