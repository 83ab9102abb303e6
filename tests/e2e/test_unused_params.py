"""test_unused_params.py: an unknown main.cf parameter is reported once.

Every process of the suite reads main.cf, but only master logs the
"unused parameter" warning (once per start and per reload); daemons read
it quietly, and of the tools only `postern check` and postconf report
it. A whole instance (master, smtpd, qmgr, virtual) runs in the
foreground, so whatever any process writes to stderr is captured too,
and mail flows through every daemon before the lines are counted."""
import os
import smtplib
import subprocess
import unittest

from agentlib import prog
from instance import Instance, port_refuses

WARNING = "unused parameter: no_such_parameter=42"


def have_programs():
    return all(os.access(prog(p), os.X_OK)
               for p in ("master/master", "smtpd/smtpd", "qmgr/qmgr",
                         "virtual/virtual", "tools/postconf"))


@unittest.skipUnless(have_programs(), "master, smtpd, qmgr or virtual not built")
class UnusedParameterTest(unittest.TestCase):
    def setUp(self):
        self.inst = inst = Instance(self)
        self.base = os.path.join(inst.root, "vmail")
        os.makedirs(self.base)
        if os.geteuid() == 0:
            uid, gid = inst.owner_uid, inst.owner_gid
            os.chown(self.base, uid, gid)
        else:
            uid, gid = os.getuid(), os.getgid()
        inst.write_main_cf({
            "myhostname": "mx.example.test",
            "mydestination": "$myhostname, localhost",
            "alias_maps": "",
            "smtpd_peername_lookup": "no",
            "virtual_mailbox_domains": "virt.test",
            "virtual_mailbox_base": self.base,
            "virtual_mailbox_maps": "inline:{ alice@virt.test=virt.test/alice/ }",
            "virtual_uid_maps": f"static:{uid}",
            "virtual_gid_maps": f"static:{gid}",
            "virtual_minimum_uid": "1",
            # A helper parameter that something refers to is not unused.
            "my_banner_host": "mx.example.test",
            "smtpd_banner": "$my_banner_host ESMTP",
            "no_such_parameter": "42",
        })
        self.port = inst.free_port()
        inst.write_master_cf(
            inst.service(f"127.0.0.1:{self.port}", "inet", "smtpd")
            + inst.service("qmgr", "unix", "qmgr", private="n", wakeup=1,
                           maxproc=1)
            + inst.service("virtual", "unix", "virtual", unpriv="n"))
        self.fg_out = os.path.join(inst.log_dir, "start-fg.out")

    def send_mail(self, count):
        for i in range(count):
            with smtplib.SMTP("127.0.0.1", self.port, timeout=10) as s:
                s.sendmail("bob@example.com", ["alice@virt.test"],
                           f"Subject: {i}\r\n\r\nhello\r\n")

    def fg_text(self):
        with open(self.fg_out, encoding="utf-8", errors="replace") as f:
            return f.read()

    def test_warned_once_per_master_start(self):
        inst = self.inst
        inst.start_fg()
        inst.wait_until(lambda: not port_refuses(self.port), timeout=10,
                        what="smtpd's port")
        self.send_mail(3)
        inst.wait_for_log(r"postern/virtual\[\d+\]: .*status=sent", count=3,
                          timeout=20)
        log = inst.log_text()
        lines = [l for l in log.splitlines() if WARNING in l]
        self.assertEqual(len(lines), 1, log)
        self.assertRegex(lines[0], r"postern/master\[\d+\]: warning: "
                                   + r".*/etc/main\.cf: " + WARNING)
        # smtpd, qmgr and virtual all read main.cf: none of them said it,
        # not even on stderr (start-fg keeps it).
        for daemon in ("smtpd", "qmgr", "virtual"):
            self.assertRegex(log, rf"postern/{daemon}\[\d+\]: ")
        self.assertEqual(self.fg_text().count(WARNING), 1, self.fg_text())
        self.assertNotIn("my_banner_host", log)

        # A reload reads main.cf again: one more line.
        inst.reload()
        self.send_mail(1)
        inst.wait_for_log(r"postern/virtual\[\d+\]: .*status=sent", count=4,
                          timeout=20)
        self.assertEqual(inst.log_text().count(WARNING), 2)

    def test_tools(self):
        inst = self.inst
        proc = inst.start()
        # postern start leaves the report to master: one line in all.
        self.assertEqual((proc.stdout + proc.stderr).count(WARNING), 1,
                         proc.stderr)
        self.assertIn(f"master: warning: {inst.etc}/main.cf: {WARNING}",
                      proc.stderr)
        inst.wait_for_log(WARNING)
        status = inst.status()
        self.assertNotIn(WARNING, status.stdout + status.stderr)
        check = inst.postern("check")
        self.assertIn(WARNING, check.stderr)
        postconf = subprocess.run([prog("tools", "postconf"), "-c", inst.etc,
                                   "-n"], capture_output=True, text=True,
                                  timeout=30)
        self.assertEqual(postconf.stderr.count(WARNING), 1)
        # Other tools read main.cf quietly.
        postmap = subprocess.run([prog("tools", "postmap"), "-c", inst.etc,
                                  "-q", "x", "inline:{x=1}"],
                                 capture_output=True, text=True, timeout=30)
        self.assertEqual(postmap.returncode, 0, postmap.stderr)
        self.assertNotIn(WARNING, postmap.stderr)
        self.assertEqual(inst.log_text().count(WARNING), 1)


if __name__ == "__main__":
    unittest.main()
