"""test_smtpd_tls.py: TLS in smtpd, with real clients.

One instance runs smtpd on several loopback ports, all with a
self-signed certificate made with `openssl req` in the instance:
  plain       smtpd_tls_security_level = may (STARTTLS offered)
  wrapper     smtpd_tls_wrappermode = yes (implicit TLS, as port 465)
  encrypt     smtpd_tls_security_level = encrypt (as port 587)
  modern      smtpd_tls_protocols = >=TLSv1.3
  lenient     smtpd_forbid_unauth_pipelining = no (the STARTTLS
              injection reaches the TLS code instead of being refused
              for pipelining)
  none        smtpd_tls_security_level = none
Clients: Python's smtplib and ssl, `openssl s_client`, and a raw socket
wrapped in TLS mid-session. No qmgr runs: messages stay in incoming/,
where their Received: header is read."""
import json
import os
import re
import shutil
import smtplib
import socket
import ssl
import subprocess
import unittest

from instance import Instance, builddir, is_root
from smtpd_util import BASE_MAIN_CF

OPENSSL = shutil.which("openssl")
SERVICES = {
    "plain": [],
    "wrapper": ["-o", "smtpd_tls_wrappermode=yes"],
    "encrypt": ["-o", "smtpd_tls_security_level=encrypt"],
    "modern": ["-o", "smtpd_tls_protocols=>=TLSv1.3"],
    "lenient": ["-o", "smtpd_forbid_unauth_pipelining=no"],
    "none": ["-o", "smtpd_tls_security_level=none"],
}
ESTABLISHED = (r"Anonymous TLS connection established from "
               r"unknown\[127\.0\.0\.1\]: (TLSv1\.[23]) with cipher (\S+) "
               r"\((\d+)/(\d+) bits\)")


def client_context(maximum=None, minimum=None):
    """A client context that accepts the self-signed certificate."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if maximum:
        ctx.maximum_version = maximum
    if minimum:
        ctx.minimum_version = minimum
    return ctx


@unittest.skipUnless(OPENSSL, "no openssl command")
@unittest.skipUnless(os.access(os.path.join(builddir(), "smtpd", "smtpd"), os.X_OK),
                     "smtpd not built")
class SmtpdTlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.inst = inst = Instance()
        try:
            cls.cert = os.path.join(inst.etc, "cert.pem")
            cls.key = os.path.join(inst.etc, "key.pem")
            subprocess.run([OPENSSL, "req", "-x509", "-newkey", "rsa:2048",
                            "-nodes", "-keyout", cls.key, "-out", cls.cert,
                            "-days", "2", "-subj", "/CN=mx.example.test"],
                           check=True, capture_output=True, timeout=60)
            params = dict(BASE_MAIN_CF)
            params.update({
                "smtpd_tls_security_level": "may",
                "smtpd_tls_cert_file": cls.cert,
                "smtpd_tls_key_file": cls.key,
                "smtpd_tls_loglevel": "1",
                "smtpd_tls_received_header": "yes",
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
            raise

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()

    def setUp(self):
        self.mark = self.inst.log_mark()

    def incoming(self):
        path = os.path.join(self.inst.queue, "incoming")
        return set(n for n in os.listdir(path) if not n.startswith("."))

    def queued_content(self, before):
        """The content of the one message queued since `before`."""
        new = self.inst.wait_until(lambda: self.incoming() - before,
                                   what="a new queue file")
        self.assertEqual(len(new), 1)
        helper = os.path.join(builddir(), "tests", "helpers", "qfile_json")
        out = subprocess.run([helper, os.path.join(self.inst.queue, "incoming",
                                                   new.pop())],
                             capture_output=True, check=True)
        return json.loads(out.stdout.decode("ascii"))["content"]

    def queued_attrs(self, before):
        """The named attributes of the one message queued since `before`."""
        new = self.inst.wait_until(lambda: self.incoming() - before,
                                   what="a new queue file")
        self.assertEqual(len(new), 1)
        helper = os.path.join(builddir(), "tests", "helpers", "qfile_json")
        out = subprocess.run([helper, os.path.join(self.inst.queue, "incoming",
                                                   new.pop())],
                             capture_output=True, check=True)
        return json.loads(out.stdout.decode("ascii"))["attrs"]

    def smtp(self, name):
        client = smtplib.SMTP("127.0.0.1", self.ports[name], timeout=20)
        self.addCleanup(client.close)
        return client

    def raw(self, name):
        sock = socket.create_connection(("127.0.0.1", self.ports[name]),
                                        timeout=20)
        self.addCleanup(sock.close)
        return sock

    @staticmethod
    def reply(stream):
        """(code, [lines]) read from a file object; (None, []) at EOF."""
        lines = []
        while True:
            line = stream.readline(4096)
            if not line:
                return (None, lines)
            line = line.rstrip(b"\r\n").decode()
            lines.append(line[4:])
            if len(line) < 4 or line[3] != "-":
                return (int(line[:3]), lines)

    # ---- STARTTLS ----

    def test_starttls_with_smtplib_queues_with_esmtps(self):
        before = self.incoming()
        c = self.smtp("plain")
        c.ehlo("client.example")
        self.assertTrue(c.has_extn("starttls"))
        code, _ = c.starttls(context=client_context())
        self.assertEqual(code, 220)
        # RFC 3207: EHLO again; STARTTLS is no longer offered.
        c.ehlo("client.example")
        self.assertFalse(c.has_extn("starttls"))
        self.assertEqual(c.docmd("STARTTLS"),
                         (554, b"5.5.1 Error: TLS already active"))
        c.sendmail("alice@far.example", ["bob@example.test"],
                   b"Subject: over TLS\r\n\r\nhello\r\n")
        c.quit()
        content = self.queued_content(before)
        self.assertRegex(
            content,
            r"^Received: from client\.example \(unknown \[127\.0\.0\.1\]\)\n"
            r"\t\(using TLSv1\.3 with cipher TLS_\S+ \(\d+/\d+ bits\)\n"
            r"\t key-exchange \S+ server-signature RSA-PSS \(2048 bits\)"
            r"( server-digest \S+)?\)\n"
            r"\t\(No client certificate requested\)\n"
            r"\tby mx\.example\.test \(Postern\) with ESMTPS id \w+\n")
        m = self.inst.wait_for_log(ESTABLISHED, since=self.mark)
        self.assertEqual(m.group(1), "TLSv1.3")
        self.inst.wait_for_log(r"disconnect from unknown\[127\.0\.0\.1\] "
                               r"ehlo=2 starttls=1/2 mail=1 rcpt=1 data=1 "
                               r"quit=1 commands=7/8", since=self.mark)

    # ---- REQUIRETLS (RFC 8689) ----

    def test_requiretls_offered_only_under_tls(self):
        c = self.smtp("plain")
        c.ehlo("client.example")
        self.assertFalse(c.has_extn("requiretls"))
        code, text = c.docmd("MAIL FROM:<alice@far.example> REQUIRETLS")
        self.assertEqual((code, text),
                         (555, b"5.5.4 Unsupported option: REQUIRETLS"))
        c.starttls(context=client_context())
        c.ehlo("client.example")
        self.assertTrue(c.has_extn("requiretls"))

    def test_requiretls_is_kept_with_the_message(self):
        before = self.incoming()
        c = self.smtp("plain")
        c.starttls(context=client_context())
        c.ehlo("client.example")
        c.sendmail("alice@far.example", ["bob@example.test"],
                   b"Subject: secret\r\n\r\nhello\r\n",
                   mail_options=["REQUIRETLS"])
        self.assertEqual(self.queued_attrs(before).get("requiretls"), "1")
        before = self.incoming()
        c.sendmail("alice@far.example", ["bob@example.test"],
                   b"Subject: not secret\r\n\r\nhello\r\n")
        c.quit()
        self.assertNotIn("requiretls", self.queued_attrs(before))

    def test_requiretls_on_wrapper_port(self):
        c = smtplib.SMTP_SSL("127.0.0.1", self.ports["wrapper"], timeout=20,
                             context=client_context())
        self.addCleanup(c.close)
        c.ehlo("client.example")
        self.assertTrue(c.has_extn("requiretls"))
        code, _ = c.docmd("MAIL FROM:<alice@far.example> REQUIRETLS")
        self.assertEqual(code, 250)
        c.quit()

    def test_plain_session_says_esmtp(self):
        before = self.incoming()
        c = self.smtp("plain")
        c.sendmail("alice@far.example", ["bob@example.test"],
                   b"Subject: plain\r\n\r\nhello\r\n")
        c.quit()
        content = self.queued_content(before)
        self.assertIn(" with ESMTP id ", content)
        self.assertNotIn("(using ", content)

    def test_openssl_s_client_starttls(self):
        proc = subprocess.run(
            [OPENSSL, "s_client", "-starttls", "smtp", "-crlf", "-ign_eof",
             "-connect", f"127.0.0.1:{self.ports['plain']}"],
            # One command: s_client sends what it has at once, and
            # pipelining before EHLO is refused.
            input=b"QUIT\n", capture_output=True, timeout=30)
        out = proc.stdout.decode(errors="replace")
        self.assertIn("New, TLSv1.3, Cipher is TLS_", out)
        self.assertIn("221 2.0.0 Bye", out)
        self.inst.wait_for_log(ESTABLISHED, since=self.mark)

    def test_starttls_not_offered_at_level_none(self):
        c = self.smtp("none")
        c.ehlo("client.example")
        self.assertFalse(c.has_extn("starttls"))
        self.assertEqual(c.docmd("STARTTLS"),
                         (502, b"5.5.1 Error: command not implemented"))

    def test_starttls_refused_inside_a_transaction(self):
        c = self.smtp("plain")
        c.ehlo("client.example")
        self.assertEqual(c.mail("alice@far.example")[0], 250)
        self.assertEqual(c.docmd("STARTTLS"),
                         (503, b"5.5.1 Error: MAIL transaction in progress"))

    # ---- RFC 3207 section 4.2 and the STARTTLS injection ----

    def test_pipelined_commands_after_starttls_are_discarded(self):
        sock = self.raw("lenient")
        plain = sock.makefile("rb")
        self.assertEqual(self.reply(plain)[0], 220)
        sock.sendall(b"EHLO client.example\r\n")
        self.assertEqual(self.reply(plain)[0], 250)
        # A man in the middle appends commands to the client's STARTTLS,
        # in the same packet: they must not run inside the TLS session.
        sock.sendall(b"STARTTLS\r\nNOOP\r\nMAIL FROM:<evil@far.example>\r\n")
        self.assertEqual(self.reply(plain),
                         (220, ["2.0.0 Ready to start TLS"]))
        tls = client_context().wrap_socket(sock)
        stream = tls.makefile("rb")
        tls.sendall(b"EHLO client.example\r\n")
        code, lines = self.reply(stream)
        # The first reply in TLS answers our EHLO, not the injected NOOP.
        self.assertEqual((code, lines[0]), (250, "mx.example.test"))
        # The injected MAIL did not run, and the EHLO before TLS is gone.
        tls.sendall(b"RCPT TO:<bob@example.test>\r\n")
        self.assertEqual(self.reply(stream),
                         (503, ["5.5.1 Error: need MAIL command"]))
        tls.sendall(b"QUIT\r\n")
        self.assertEqual(self.reply(stream)[0], 221)
        self.inst.wait_for_log(r"disconnect from unknown\[127\.0\.0\.1\] "
                               r"ehlo=2 starttls=1 rcpt=0/1 quit=1 "
                               r"commands=4/5",
                               since=self.mark)

    def test_state_before_starttls_is_forgotten(self):
        c = self.smtp("lenient")
        c.ehlo("client.example")
        c.starttls(context=client_context())
        # No EHLO since the handshake: ESMTP parameters need one.
        self.assertEqual(c.docmd("MAIL FROM:<a@far.example> SIZE=10"),
                         (555, b"5.5.4 Unsupported option: ESMTP parameters "
                               b"need EHLO"))

    def test_pipelined_starttls_refused_by_default(self):
        sock = self.raw("plain")
        plain = sock.makefile("rb")
        self.assertEqual(self.reply(plain)[0], 220)
        sock.sendall(b"EHLO client.example\r\n")
        self.assertEqual(self.reply(plain)[0], 250)
        sock.sendall(b"STARTTLS\r\nNOOP\r\n")
        self.assertEqual(self.reply(plain),
                         (554, ["5.5.0 Error: SMTP protocol synchronization"]))
        self.assertEqual(self.reply(plain), (None, []))

    # ---- encrypt: 530 before STARTTLS ----

    def test_encrypt_refuses_mail_before_starttls(self):
        c = self.smtp("encrypt")
        c.ehlo("client.example")
        self.assertTrue(c.has_extn("starttls"))
        self.assertEqual(c.mail("alice@far.example"),
                         (530, b"5.7.0 Must issue a STARTTLS command first"))
        c.starttls(context=client_context())
        c.ehlo("client.example")
        self.assertEqual(c.mail("alice@far.example")[0], 250)

    # ---- wrapper mode (port 465) ----

    def test_wrapper_mode_with_smtplib(self):
        before = self.incoming()
        c = smtplib.SMTP_SSL("127.0.0.1", self.ports["wrapper"], timeout=20,
                             context=client_context())
        self.addCleanup(c.close)
        c.ehlo("client.example")
        self.assertFalse(c.has_extn("starttls"))
        c.sendmail("alice@far.example", ["bob@example.test"],
                   b"Subject: implicit TLS\r\n\r\nhello\r\n")
        c.quit()
        content = self.queued_content(before)
        self.assertIn(" with ESMTPS id ", content)
        self.inst.wait_for_log(ESTABLISHED, since=self.mark)

    def test_wrapper_mode_plain_client_gets_nothing(self):
        sock = self.raw("wrapper")
        sock.sendall(b"EHLO client.example\r\n")
        sock.settimeout(10)
        try:
            data = sock.recv(100)
        except ConnectionResetError:
            data = b""
        # No greeting in clear text: at most a TLS alert record.
        self.assertFalse(data.startswith(b"220"), data)
        self.inst.wait_for_log(r"SSL_accept error from unknown\[127\.0\.0\.1\]",
                               since=self.mark)

    # ---- the protocol floor ----

    def test_tls11_refused(self):
        # The client offers TLSv1.1 alone (and allows itself the old
        # ciphers it needs); the default floor is TLSv1.2.
        proc = subprocess.run(
            [OPENSSL, "s_client", "-connect",
             f"127.0.0.1:{self.ports['wrapper']}", "-tls1_1", "-cipher",
             "DEFAULT@SECLEVEL=0"],
            input=b"", capture_output=True, timeout=30)
        out = proc.stdout.decode(errors="replace")
        self.assertNotEqual(proc.returncode, 0, out)
        self.assertNotRegex(out, r"New, TLSv1\.1, Cipher is [A-Z]")
        self.inst.wait_for_log(r"SSL_accept error from unknown\[127\.0\.0\.1\]"
                               r": .*unsupported protocol", since=self.mark)

    def test_protocol_floor_follows_smtpd_tls_protocols(self):
        # Refused where smtpd_tls_protocols = >=TLSv1.3 ...
        c = self.smtp("modern")
        c.ehlo("client.example")
        with self.assertRaises((ssl.SSLError, OSError)):
            c.starttls(context=client_context(maximum=ssl.TLSVersion.TLSv1_2))
        self.inst.wait_for_log(r"SSL_accept error from unknown\[127\.0\.0\.1\]"
                               r": .*unsupported protocol", since=self.mark)
        # ... and accepted by default, the same client.
        c = self.smtp("plain")
        c.ehlo("client.example")
        c.starttls(context=client_context(maximum=ssl.TLSVersion.TLSv1_2))
        self.assertEqual(c.sock.version(), "TLSv1.2")
        c.ehlo("client.example")
        self.assertEqual(c.noop()[0], 250)


def make_certificate(cert, key, name):
    subprocess.run([OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2", "-subj",
                    f"/CN={name}"], check=True, capture_output=True, timeout=60)


def der_of(cert):
    with open(cert) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


@unittest.skipUnless(OPENSSL, "no openssl command")
@unittest.skipUnless(os.access(os.path.join(builddir(), "smtpd", "smtpd"), os.X_OK),
                     "smtpd not built")
class CertificateReloadTest(unittest.TestCase):
    """A certificate renewed on disk the way certbot renews it (new files
    renamed into place) is served to new sessions after `postern reload`,
    while a session that began before the reload goes on with the old
    one: master renews the smtpd processes, and the old process finishes
    its sessions."""

    def setUp(self):
        self.inst = inst = Instance(self)
        self.cert = os.path.join(inst.etc, "fullchain.pem")
        self.key = os.path.join(inst.etc, "privkey.pem")
        make_certificate(self.cert, self.key, "old.example.test")
        params = dict(BASE_MAIN_CF)
        params.update({"smtpd_tls_security_level": "may",
                       "smtpd_tls_cert_file": self.cert,
                       "smtpd_tls_key_file": self.key})
        inst.write_main_cf(params)
        self.port = inst.free_port()
        inst.write_master_cf(inst.service(f"127.0.0.1:{self.port}", "inet",
                                          "smtpd"))
        inst.start()

    def tls_session(self):
        c = smtplib.SMTP("127.0.0.1", self.port, timeout=20)
        self.addCleanup(c.close)
        c.ehlo("client.example")
        c.starttls(context=client_context())
        c.ehlo("client.example")
        return c

    def test_reload_serves_the_renewed_certificate(self):
        old_der = der_of(self.cert)
        before = self.tls_session()
        self.assertEqual(before.sock.getpeercert(binary_form=True), old_der)
        # certbot writes new files and renames them into place.
        make_certificate(self.cert + ".new", self.key + ".new",
                         "new.example.test")
        os.replace(self.key + ".new", self.key)
        os.replace(self.cert + ".new", self.cert)
        new_der = der_of(self.cert)
        self.assertNotEqual(new_der, old_der)
        self.inst.reload()

        def served_new():
            c = self.tls_session()
            der = c.sock.getpeercert(binary_form=True)
            c.quit()
            return der == new_der
        # The retiring process stops accepting as soon as it sees the
        # reload; a connection in that instant may still reach it.
        self.inst.wait_until(served_new, timeout=10,
                             what="a session with the renewed certificate")
        # The session from before the reload was not dropped.
        before.sendmail("alice@far.example", ["bob@example.test"],
                        b"Subject: across a reload\r\n\r\nhello\r\n")
        self.assertEqual(before.quit()[0], 221)


def process_ids(pid):
    """{"Uid": (real, effective, saved, fs), "Gid": ...} of a process."""
    ids = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("Uid", "Gid"):
                ids[key] = tuple(int(x) for x in rest.split())
    return ids


@unittest.skipUnless(OPENSSL, "no openssl command")
@unittest.skipUnless(os.access(os.path.join(builddir(), "smtpd", "smtpd"), os.X_OK),
                     "smtpd not built")
@unittest.skipUnless(is_root(), "needs root: a key readable by root alone, "
                     "and the drop to mail_owner")
class RootOnlyKeyTest(unittest.TestCase):
    """A private key readable by root alone (certbot's privkey.pem: mode
    0600, owner root) works: smtpd starts as root, reads it in its
    pre_init, then drops to mail_owner for good before it serves anyone.
    `postern reload` re-reads a renewed one the same way (new smtpd
    processes start as root again)."""

    def setUp(self):
        self.inst = inst = Instance(self)
        self.cert = os.path.join(inst.etc, "fullchain.pem")
        self.key = os.path.join(inst.etc, "privkey.pem")
        self.make_pair("old.example.test")
        params = dict(BASE_MAIN_CF)
        params.update({"smtpd_tls_security_level": "may",
                       "smtpd_tls_cert_file": self.cert,
                       "smtpd_tls_key_file": self.key})
        inst.write_main_cf(params)
        self.port = inst.free_port()
        inst.write_master_cf(inst.service(f"127.0.0.1:{self.port}", "inet",
                                          "smtpd"))
        inst.start()

    def make_pair(self, name):
        """A new certificate and a root-only key, renamed into place as
        certbot does."""
        make_certificate(self.cert + ".new", self.key + ".new", name)
        os.chown(self.key + ".new", 0, 0)
        os.chmod(self.key + ".new", 0o600)
        os.replace(self.key + ".new", self.key)
        os.replace(self.cert + ".new", self.cert)

    def tls_session(self):
        c = smtplib.SMTP("127.0.0.1", self.port, timeout=20)
        self.addCleanup(c.close)
        c.ehlo("client.example")
        self.assertTrue(c.has_extn("starttls"), self.inst.log_tail())
        c.starttls(context=client_context())
        c.ehlo("client.example")
        return c

    def smtpd_pids(self):
        return [p for p in self.inst.master_children()
                if os.path.basename(os.readlink(f"/proc/{p}/exe")) == "smtpd"]

    def test_root_only_key_then_runs_as_mail_owner(self):
        st = os.stat(self.key)
        self.assertEqual((st.st_uid, st.st_mode & 0o777), (0, 0o600))
        c = self.tls_session()
        self.assertEqual(c.sock.getpeercert(binary_form=True),
                         der_of(self.cert))
        pids = self.smtpd_pids()
        self.assertEqual(len(pids), 1, pids)
        ids = process_ids(pids[0])
        owner = self.inst.owner_uid, self.inst.owner_gid
        self.assertEqual(set(ids["Uid"]), {owner[0]})
        self.assertEqual(set(ids["Gid"]), {owner[1]})
        with open(f"/proc/{pids[0]}/status") as f:
            groups = re.search(r"^Groups:(.*)$", f.read(), re.M).group(1)
        self.assertEqual(groups.split(), [str(owner[1])])
        self.assertEqual(c.quit()[0], 221)
        self.assertNotIn("cannot load private key", self.inst.log_text())

    def test_reload_rereads_a_root_only_key(self):
        before = self.tls_session()
        self.make_pair("new.example.test")
        new_der = der_of(self.cert)
        self.inst.reload()

        def served_new():
            c = self.tls_session()
            der = c.sock.getpeercert(binary_form=True)
            c.quit()
            return der == new_der
        self.inst.wait_until(served_new, timeout=10,
                             what="a session with the renewed certificate")
        self.assertEqual(before.quit()[0], 221)
        self.assertNotIn("cannot load private key", self.inst.log_text())


if __name__ == "__main__":
    unittest.main()
