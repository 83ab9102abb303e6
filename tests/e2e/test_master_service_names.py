"""test_master_service_names.py: master.cf's inet column by service name.

An inet service may be named `smtp`, `submission`, `submissions` (alias
`smtps`), `imap`, `imaps`, `pop3`, `pop3s` or `lmtp`: /etc/services is
asked first, then Postern's built-in table of the mail ports
(lib/base/servport.c), so the names work on a system whose
/etc/services lacks them or is missing altogether.

The "missing" case is made real without any knob in Postern: as root,
the instance is started inside a private mount namespace (`unshare -m`)
in which an empty file is bind-mounted over /etc/services, so
getservbyname knows no name at all there. Each listener binds its
well-known port on an address of its own in 127.0.0.0/8, so the test
does not collide with anything on 127.0.0.1.

Also: the shipped conf/master.cf's submission and submissions entries,
uncommented, read back right with `postconf -M`, and `postern check`
names each one that has no certificate."""
import os
import random
import shutil
import subprocess
import tempfile
import unittest

from instance import Instance, builddir, is_root
from smtpd_util import BASE_MAIN_CF

TOP = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                   "..", ".."))
UNSHARE = shutil.which("unshare")
NAMES = {"smtp": 25, "submission": 587, "submissions": 465, "smtps": 465,
         "lmtp": 24}


def shipped_master_cf_with_submission():
    """conf/master.cf with the submission and submissions blocks
    uncommented, as an administrator enables them."""
    with open(os.path.join(TOP, "conf", "master.cf")) as f:
        lines = f.read().splitlines()
    out, enabling = [], False
    for line in lines:
        if line.startswith("#submission ") or line.startswith("#submissions "):
            enabling = True
            out.append(line[1:])
        elif enabling and line.startswith("#  -o "):
            out.append(line[1:])
        else:
            enabling = False
            out.append(line)
    return "\n".join(out) + "\n"


@unittest.skipUnless(os.access(os.path.join(builddir(), "smtpd", "smtpd"),
                               os.X_OK), "smtpd not built")
class ServiceNamesTest(unittest.TestCase):
    @unittest.skipUnless(is_root() and UNSHARE,
                         "needs root and unshare(1): a private mount "
                         "namespace hides /etc/services, and the names "
                         "are ports below 1024")
    def test_names_resolve_without_etc_services(self):
        inst = Instance(self)
        inst.write_main_cf(dict(BASE_MAIN_CF))
        address = "127.%d.%d.%d" % (random.randint(64, 250),
                                    random.randint(1, 250),
                                    random.randint(2, 250))
        lines = ""
        for name in ("smtp", "submission", "smtps", "lmtp"):
            lines += inst.service(f"{address}:{name}", "inet", "smtpd",
                                  args=["-o", f"smtpd_banner=$myhostname/{name}"])
        inst.write_master_cf(lines)
        empty = os.path.join(inst.etc, "empty-services")
        open(empty, "w").close()
        script = ('mount --bind "$1" /etc/services && '
                  'if getent services smtp; then exit 99; fi && '
                  'exec "$2" -c "$3" start')
        proc = subprocess.run([UNSHARE, "-m", "--propagation", "private",
                               "sh", "-c", script, "sh", empty,
                               inst.postern_bin, inst.etc],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(proc.returncode, 0,
                         proc.stdout + proc.stderr + inst.log_tail())
        # Outside the namespace /etc/services is untouched.
        for name in ("smtp", "submission", "smtps", "lmtp"):
            with Instance.connect(NAMES[name], host=address) as sock:
                banner = Instance.read_line(sock)
            self.assertEqual(banner, f"220 mx.example.test/{name}".encode())

    def test_postconf_shows_the_shipped_submission_entries(self):
        with tempfile.TemporaryDirectory() as conf:
            with open(os.path.join(conf, "main.cf"), "w") as f:
                f.write("")
            with open(os.path.join(conf, "master.cf"), "w") as f:
                f.write(shipped_master_cf_with_submission())
            proc = subprocess.run([os.path.join(builddir(), "tools", "postconf"),
                                   "-c", conf, "-M", "submission/inet",
                                   "submissions/inet"],
                                  capture_output=True, text=True, timeout=30)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.splitlines(), [
            "submission inet  n       -       n       -       -       smtpd "
            "-o syslog_name=postern/submission "
            "-o smtpd_tls_security_level=encrypt "
            "-o smtpd_sasl_auth_enable=yes -o smtpd_tls_auth_only=yes "
            "-o smtpd_client_restrictions=permit_sasl_authenticated,reject "
            "-o smtpd_relay_restrictions=permit_sasl_authenticated,reject",
            "submissions inet  n       -       n       -       -       smtpd "
            "-o syslog_name=postern/submissions -o smtpd_tls_wrappermode=yes "
            "-o smtpd_sasl_auth_enable=yes "
            "-o smtpd_client_restrictions=permit_sasl_authenticated,reject "
            "-o smtpd_relay_restrictions=permit_sasl_authenticated,reject",
        ])

    def test_check_names_each_submission_service_without_certificate(self):
        inst = Instance(self)
        inst.write_main_cf(dict(BASE_MAIN_CF))
        text = shipped_master_cf_with_submission()
        inst.write_master_cf(text)
        proc = inst.postern("check")
        self.assertEqual(proc.returncode, 1, proc.stderr)
        line_of = {name: i + 1 for i, line in enumerate(text.splitlines())
                   for name in ("submission", "submissions")
                   if line.startswith(name + " ")}
        self.assertIn(f"master.cf, line {line_of['submission']}: service "
                      "submission needs TLS (smtpd_tls_security_level = "
                      "encrypt) but no certificate is configured",
                      proc.stderr)
        self.assertIn(f"master.cf, line {line_of['submissions']}: service "
                      "submissions needs TLS (smtpd_tls_wrappermode = yes) "
                      "but no certificate is configured", proc.stderr)
        # The shipped file as it is (both commented out) passes.
        with open(os.path.join(TOP, "conf", "master.cf")) as f:
            inst.write_master_cf(f.read())
        proc = inst.postern("check")
        self.assertNotIn("needs TLS", proc.stderr)


if __name__ == "__main__":
    unittest.main()
