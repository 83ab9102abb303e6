"""test_postern_check.py: `postern check` opens every lookup table that
main.cf and master.cf's -o overrides name and checks network lists: a
missing file, an unknown table type, a malformed mynetworks entry or
cidr line is reported and check exits 1. `postern start` refuses only
what would make a daemon fail: a daemon opens a broken table as one that
fails every lookup (mail defers), so start warns and runs."""
import os
import unittest

from agentlib import prog
from instance import Instance


@unittest.skipUnless(os.access(prog("master", "master"), os.X_OK),
                     "master not built")
class PosternCheckTest(unittest.TestCase):
    def setUp(self):
        self.inst = Instance(self)
        self.inst.write_master_cf(
            self.inst.service("qmgr", "unix", "qmgr", private="n", wakeup=60,
                              maxproc=1))

    def table_file(self, name, text):
        path = os.path.join(self.inst.etc, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def check(self, main_cf=None):
        if main_cf:
            self.inst.write_main_cf(main_cf)
        return self.inst.postern("check")

    def test_clean_tables_pass(self):
        cidr = self.table_file("clients.cidr", "10.0.0.0/8 OK\n")
        text = self.table_file("virtual", "a@example.com b@example.com\n")
        proc = self.check({
            "mynetworks": "127.0.0.0/8, [::1]/128, 192.0.2.1, host.example",
            "virtual_alias_maps": f"texthash:{text}, inline:{{ x=y, z=w }}",
            "smtpd_client_restrictions": f"check_client_access cidr:{cidr}, "
                                         "permit_mynetworks, reject",
            "relayhost": "[mx.example.com]:587",
        })
        self.assertEqual(proc.returncode, 0, proc.stderr)

    def test_missing_table_file(self):
        missing = os.path.join(self.inst.etc, "nosuch")
        proc = self.check({"virtual_alias_maps": f"texthash:{missing}"})
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertRegex(proc.stderr, r"main\.cf, line \d+: virtual_alias_maps: "
                         rf"texthash:{missing}: ")

    def test_unknown_table_type(self):
        proc = self.check({"alias_maps": "hsh:/etc/aliases"})
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn('alias_maps: hsh:/etc/aliases: unknown table type "hsh"',
                      proc.stderr)

    def test_malformed_mynetworks(self):
        proc = self.check({"mynetworks": "127.0.0.0/8, 10.0.0.0/33, 300.1.2.3"})
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("mynetworks: 10.0.0.0/33: not a valid address or network",
                      proc.stderr)
        self.assertIn("mynetworks: 300.1.2.3: not a valid address or network",
                      proc.stderr)
        self.assertNotIn("127.0.0.0/8:", proc.stderr)

    def test_malformed_cidr_entry(self):
        cidr = self.table_file("clients.cidr",
                               "10.0.0.0/8 OK\n10.0.0.0/99 REJECT\n")
        proc = self.check({"smtpd_client_restrictions":
                           f"check_client_access cidr:{cidr}, permit"})
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn(f"smtpd_client_restrictions: cidr:{cidr}: ", proc.stderr)
        self.assertIn("line 2", proc.stderr)

    def test_master_cf_override_tables(self):
        missing = os.path.join(self.inst.etc, "rcpt-access")
        self.inst.write_master_cf(
            self.inst.service("qmgr", "unix", "qmgr", private="n", wakeup=60,
                              maxproc=1)
            + self.inst.service("127.0.0.1:2599", "inet", "smtpd")
            + f"  -o smtpd_recipient_restrictions=check_recipient_access,"
              f"texthash:{missing}\n"
            + "  -o mynetworks=hsh:/etc/networks\n")
        proc = self.inst.postern("check")
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertRegex(proc.stderr, r"master\.cf, line 2 \(service "
                         r"127\.0\.0\.1:2599\): smtpd_recipient_restrictions: "
                         rf"texthash:{missing}: ")
        self.assertRegex(proc.stderr, r"master\.cf, line 2 \(service "
                         r"127\.0\.0\.1:2599\): mynetworks: hsh:/etc/networks: "
                         r'unknown table type "hsh"')

    def test_mail_in_maildrop_without_pickup_is_pointed_out(self):
        proc = self.inst.postern("check")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertNotIn("pickup", proc.stderr)
        with open(os.path.join(self.inst.queue, "maildrop",
                               "pd-1.000001.1.0"), "w") as f:
            f.write("POSTDROP 1\nSa\nRb\nM\n")
        proc = self.inst.postern("check")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("maildrop holds 1 message that sendmail queued while "
                      "the mail system was down, but master.cf runs no pickup "
                      "service", proc.stderr)
        self.inst.write_master_cf(
            self.inst.service("qmgr", "unix", "qmgr", private="n", wakeup=60,
                              maxproc=1)
            + self.inst.service("pickup", "unix", "pickup", private="n",
                                unpriv="n", wakeup=60, maxproc=1))
        proc = self.inst.postern("check")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertNotIn("no pickup", proc.stderr)

    def test_start_warns_but_runs_with_a_broken_table(self):
        self.inst.write_main_cf({"alias_maps": "hsh:/etc/aliases"})
        proc = self.inst.postern("start")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.addCleanup(self.inst.postern, "stop")
        self.assertIn('warning: ', proc.stderr)
        self.assertIn('unknown table type "hsh"', proc.stderr)
        self.assertEqual(self.inst.postern("status").returncode, 0)


    # ---- smtpd's TLS ----

    def test_tls_certificate_that_does_not_load(self):
        missing = os.path.join(self.inst.etc, "nosuch-cert.pem")
        proc = self.check({"smtpd_tls_security_level": "may",
                           "smtpd_tls_cert_file": missing})
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn(f"main.cf: smtpd TLS: cannot load certificate chain "
                      f"from {missing}: ", proc.stderr)

    def test_tls_protocol_list_and_level(self):
        proc = self.check({"smtpd_tls_security_level": "sometimes"})
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn('invalid smtpd_tls_security_level: "sometimes"',
                      proc.stderr)
        proc = self.check({"smtpd_tls_security_level": "may",
                           "smtpd_tls_protocols": ">=TLSv1.4"})
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn('smtpd TLS: unknown TLS protocol ">=TLSv1.4"',
                      proc.stderr)

    def test_tls_asked_for_by_a_master_cf_override(self):
        # main.cf has no TLS and no certificate; submission turns it on.
        proc = self.inst.postern("check")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.inst.write_master_cf(
            self.inst.service("qmgr", "unix", "qmgr", private="n", wakeup=60,
                              maxproc=1)
            + self.inst.service("127.0.0.1:2599", "inet", "smtpd")
            + "  -o smtpd_tls_security_level=encrypt\n")
        proc = self.inst.postern("check")
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("smtpd TLS: no certificate configured", proc.stderr)


    # ---- the smtp client's TLS ----

    def test_client_tls_settings_that_do_not_load(self):
        missing = os.path.join(self.inst.etc, "nosuch-ca.pem")
        proc = self.check({"smtp_tls_security_level": "verify",
                           "smtp_tls_CAfile": missing})
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn(f"main.cf: smtp TLS: cannot load CA certificates "
                      f"from {missing}: ", proc.stderr)
        proc = self.check({"lmtp_tls_security_level": "sometimes"})
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn('main.cf: lmtp TLS: invalid lmtp_tls_security_level '
                      '"sometimes"', proc.stderr)
        proc = self.check({"smtp_tls_security_level": "dane",
                           "smtp_tls_mandatory_protocols": ">=TLSv1.4"})
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn('smtp TLS: unknown TLS protocol ">=TLSv1.4"',
                      proc.stderr)
        # write_main_cf adds to what earlier calls wrote: undo them.
        proc = self.check({"smtp_tls_security_level": "may",
                           "smtp_tls_CAfile": "",
                           "smtp_tls_mandatory_protocols": ">=TLSv1.2",
                           "lmtp_tls_security_level": ""})
        self.assertEqual(proc.returncode, 0, proc.stderr)

if __name__ == "__main__":
    unittest.main()
