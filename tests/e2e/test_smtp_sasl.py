"""test_smtp_sasl.py: SASL from the smtp client to a smarthost, between
two whole Postern instances on loopback.

The receiver (the smarthost) runs smtpd with AUTH through its own auth
service (passwd-file: user "relay", password "relay-secret") and takes
mail for b.virt only from clients that logged in
(smtpd_recipient_restrictions = permit_sasl_authenticated, reject). The
sender reaches it by relayhost = [127.0.0.1]:PORT with
smtp_sasl_auth_enable = yes. Covered: the right credentials deliver
(SCRAM-SHA-256 by default on a connection without TLS, PLAIN when the
administrator allows plain text), PLAIN over STARTTLS with the default
security options (smtp_tls_security_level = encrypt), credentials by sender
(smtp_sender_dependent_authentication), a wrong password defers with the
server's reply quoted as Postfix words it and the password in no log
line, no credentials for the host means no AUTH at all, and the default
security options refuse plain-text mechanisms over an unencrypted
connection."""
import os
import re
import shutil
import subprocess
import time
import unittest

from instance import Instance, port_refuses
from test_smtp_relay import MESSAGE, have_programs, mailbox_setup, inject_into, wait_for_log

OPENSSL = shutil.which("openssl")
RELAY_USER = "relay"
RELAY_PASSWORD = "relay-secret"
WRONG_PASSWORD = "not-the-Secret-42"


def auth_built():
    from agentlib import prog
    return os.access(prog("auth/auth"), os.X_OK)


@unittest.skipUnless(OPENSSL, "no openssl command")
@unittest.skipUnless(have_programs() and auth_built(),
                     "master, smtpd, qmgr, virtual, smtp, auth or helpers "
                     "not built")
class SmtpSaslTest(unittest.TestCase):
    def setUp(self):
        self.rx = Instance(self)
        self.rx_base, vparams = mailbox_setup(self.rx, "b.virt", ("bob",))
        users = os.path.join(self.rx.etc, "users")
        with open(users, "w") as f:
            f.write(f"{RELAY_USER}:{{PLAIN}}{RELAY_PASSWORD}::::::\n")
        # STARTTLS on offer: a client that asks for it gets TLS.
        cert = os.path.join(self.rx.etc, "cert.pem")
        key = os.path.join(self.rx.etc, "key.pem")
        subprocess.run([OPENSSL, "req", "-x509", "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                        "-keyout", key, "-out", cert, "-days", "2", "-subj",
                        "/CN=smarthost.b.test"],
                       check=True, capture_output=True, timeout=60)
        if os.geteuid() == 0:
            os.chown(key, self.rx.owner_uid, self.rx.owner_gid)
        self.rx_port = self.rx.free_port()
        self.rx.write_main_cf(dict(vparams, **{
            "smtpd_tls_security_level": "may",
            "smtpd_tls_cert_file": cert,
            "smtpd_tls_key_file": key,
            "myhostname": "smarthost.b.test",
            "mydestination": "$myhostname, localhost",
            "smtpd_peername_lookup": "no",
            "smtpd_sasl_auth_enable": "yes",
            "smtpd_recipient_restrictions":
                "permit_sasl_authenticated, reject",
            "passdb": f"passwd-file:{users}",
            "auth_failure_delay": "1s",
        }))
        self.rx.write_master_cf(
            self.rx.service(f"127.0.0.1:{self.rx_port}", "inet", "smtpd")
            + self.rx.service("qmgr", "unix", "qmgr", private="n", wakeup=1,
                              maxproc=1)
            + self.rx.service("virtual", "unix", "virtual", unpriv="n")
            + self.rx.service("auth", "unix", "auth", maxproc=1))
        self.rx.start()
        self.rx.wait_until(lambda: not port_refuses(self.rx_port), timeout=10,
                           what="the smarthost's smtpd")
        self.tx = Instance(self)
        self.tx_base, self.tx_vparams = mailbox_setup(self.tx, "a.virt",
                                                      ("alice",))

    def start_tx(self, passwords, **params):
        table = os.path.join(self.tx.etc, "sasl_passwd")
        with open(table, "w") as f:
            for key, value in passwords.items():
                f.write(f"{key} {value}\n")
        os.chmod(table, 0o600)
        base = dict(self.tx_vparams, **{
            "myhostname": "mx.a.test",
            "mydestination": "$myhostname, localhost",
            "queue_run_delay": "300s",
            "minimal_backoff_time": "300s",
            "maximal_backoff_time": "600s",
            "relayhost": self.relayhost(),
            "smtp_sasl_auth_enable": "yes",
            "smtp_sasl_password_maps": f"texthash:{table}",
        })
        base.update(params)
        self.tx.write_main_cf(base)
        self.tx.write_master_cf(
            self.tx.service("qmgr", "unix", "qmgr", private="n", wakeup=1,
                            maxproc=1)
            + self.tx.service("smtp", "unix", "smtp")
            + self.tx.service("virtual", "unix", "virtual", unpriv="n"))
        self.tx.start()

    def relayhost(self):
        return f"[127.0.0.1]:{self.rx_port}"

    def inject(self, *rcpts, sender="alice@a.virt"):
        return inject_into(self, self.tx, sender, rcpts)

    def wait_log(self, inst, pattern, timeout=30):
        return wait_for_log(self, inst, pattern, self.tx, self.rx,
                            "smarthost", timeout)

    def delivered(self, qid):
        self.wait_log(self.tx, rf"{qid}: to=<bob@b\.virt>, relay=127\.0\.0\.1"
                               rf"\[127\.0\.0\.1\]:{self.rx_port}, .*"
                               r"dsn=2\.0\.0, status=sent \(250 ")
        self.rx.wait_until(
            lambda: os.listdir(os.path.join(self.rx_base, "b.virt", "bob",
                                            "new"))
            if os.path.isdir(os.path.join(self.rx_base, "b.virt", "bob",
                                          "new")) else [],
            timeout=20, what="bob's copy on the smarthost")

    def assert_no_password_logged(self):
        for inst in (self.tx, self.rx):
            text = inst.log_text()
            self.assertNotIn(RELAY_PASSWORD, text)
            self.assertNotIn(WRONG_PASSWORD, text)

    # ---- the cases ----

    def test_scram_by_default_without_tls(self):
        self.start_tx({"[127.0.0.1]:%d" % self.rx_port:
                       f"{RELAY_USER}:{RELAY_PASSWORD}"})
        qid = self.inject("bob@b.virt")
        self.delivered(qid)
        self.wait_log(self.rx, r"client=unknown\[127\.0\.0\.1\], "
                               r"sasl_method=SCRAM-SHA-256, "
                               rf"sasl_username={RELAY_USER}$")
        self.assert_no_password_logged()

    def test_plain_when_the_administrator_allows_it(self):
        # Keyed by the host alone: the second key Postfix tries.
        self.start_tx({"127.0.0.1": f"{RELAY_USER}:{RELAY_PASSWORD}"},
                      smtp_sasl_security_options="noanonymous",
                      smtp_sasl_mechanism_filter="plain, login")
        qid = self.inject("bob@b.virt")
        self.delivered(qid)
        self.wait_log(self.rx, r"sasl_method=PLAIN, "
                               rf"sasl_username={RELAY_USER}$")
        self.assert_no_password_logged()

    def test_plain_over_starttls(self):
        # The usual smarthost set-up: TLS required, plain text allowed
        # under TLS only. Postern's default smtp_sasl_tls_security_options
        # (noanonymous) allows it without the line Postfix needs.
        self.start_tx({self.relayhost(): f"{RELAY_USER}:{RELAY_PASSWORD}"},
                      smtp_tls_security_level="encrypt",
                      smtp_tls_loglevel="1",
                      smtp_sasl_mechanism_filter="plain")
        qid = self.inject("bob@b.virt")
        self.delivered(qid)
        self.wait_log(self.tx, r"TLS connection established to "
                               r"127\.0\.0\.1\[127\.0\.0\.1\]:")
        self.wait_log(self.rx, r"sasl_method=PLAIN, "
                               rf"sasl_username={RELAY_USER}$")
        self.assert_no_password_logged()

    def test_credentials_by_sender(self):
        # The host's entry is wrong; the sender's, found first, is right.
        self.start_tx({"alice@a.virt": f"{RELAY_USER}:{RELAY_PASSWORD}",
                       "127.0.0.1": f"{RELAY_USER}:{WRONG_PASSWORD}"},
                      smtp_sender_dependent_authentication="yes")
        qid = self.inject("bob@b.virt")
        self.delivered(qid)
        self.wait_log(self.rx, rf"sasl_method=SCRAM-SHA-256, "
                               rf"sasl_username={RELAY_USER}$")

    def test_wrong_password_defers_with_the_reply_quoted(self):
        self.start_tx({self.relayhost(): f"{RELAY_USER}:{WRONG_PASSWORD}"})
        qid = self.inject("bob@b.virt")
        m = self.wait_log(
            self.tx,
            rf"{qid}: to=<bob@b\.virt>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:"
            rf"{self.rx_port}, .*dsn=(4\.7\.8), "
            r"status=deferred \(SASL authentication failed; server "
            r"127\.0\.0\.1\[127\.0\.0\.1\] said: (535 5\.7\.8 [^)]*)\)$")
        self.assertIn("authentication failed", m.group(2))
        # The smarthost saw the attempt; nothing reached bob.
        self.wait_log(self.rx, r"SASL SCRAM-SHA-256 authentication failed")
        self.assertFalse(os.path.isdir(os.path.join(self.rx_base, "b.virt",
                                                    "bob", "new"))
                         and os.listdir(os.path.join(self.rx_base, "b.virt",
                                                     "bob", "new")))
        self.assert_no_password_logged()

    def test_no_credentials_for_the_host_means_no_auth(self):
        self.start_tx({"[elsewhere.example]:587":
                       f"{RELAY_USER}:{RELAY_PASSWORD}"})
        qid = self.inject("bob@b.virt")
        # Unauthenticated, the smarthost refuses the recipient.
        self.wait_log(
            self.tx,
            rf"{qid}: to=<bob@b\.virt>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:"
            rf"{self.rx_port}, .*status=bounced \(host 127\.0\.0\.1"
            r"\[127\.0\.0\.1\] said: 554 5\.7\.1 ")
        rx_log = self.rx.log_text()
        self.assertNotIn("sasl_method=", rx_log)
        self.assertNotIn("authentication failed", rx_log)

    def test_plain_text_refused_without_tls_by_default(self):
        self.start_tx({self.relayhost(): f"{RELAY_USER}:{RELAY_PASSWORD}"},
                      smtp_sasl_mechanism_filter="plain, login")
        qid = self.inject("bob@b.virt")
        self.wait_log(
            self.tx,
            rf"{qid}: to=<bob@b\.virt>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:"
            rf"{self.rx_port}, .*dsn=4\.7\.0, "
            r"status=deferred \(SASL authentication failed; cannot "
            r"authenticate to server 127\.0\.0\.1\[127\.0\.0\.1\]: no "
            r"mechanism available\)$")
        rx_log = self.rx.log_text()
        self.assertNotIn("sasl_method=", rx_log)
        self.assertNotIn("authentication failed", rx_log)
        self.assert_no_password_logged()


if __name__ == "__main__":
    unittest.main()
