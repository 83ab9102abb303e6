"""test_install.py: `make install` gives a suite that runs from its prefix.

Installs the build into a DESTDIR staging tree, then runs the installed
`postern`, `postconf` and `master` with a Postfix-style main.cf that sets
queue_directory, data_directory, daemon_directory, maillog_file and
inet_interfaces, as issue 2's "done when" asks.
"""
import grp
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from instance import builddir, free_port, is_root, ensure_mail_owner, port_refuses


def make_install(destdir):
    build = builddir()
    args = ["make", "-C", build, "install", f"DESTDIR={destdir}"]
    # Install with the flags the tree was built with, so nothing rebuilds.
    try:
        with open(os.path.join(build, ".build-flags")) as f:
            if "-Werror" in f.read():
                args.append("WERROR=-Werror")
    except OSError:
        pass
    return subprocess.run(args, capture_output=True, text=True, timeout=600)


def installed_paths(destdir):
    """The prefix directories from the Makefile's defaults."""
    with open(os.path.join(builddir(), "Makefile")) as f:
        text = f.read()
    prefix = re.search(r"^prefix\s*=\s*(.*)$", text, re.M).group(1).strip()
    return {
        "sbin": destdir + prefix + "/sbin",
        "daemons": destdir + prefix + "/libexec/postern",
        "conf": destdir + prefix + "/etc/postern",
    }


class InstallTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="pt-inst-", dir="/tmp")
        os.chmod(self.root, 0o755)
        self.addCleanup(shutil.rmtree, self.root, True)
        self.dest = os.path.join(self.root, "stage")
        proc = make_install(self.dest)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.paths = installed_paths(self.dest)

    def test_layout(self):
        for tool in ("postern", "postconf", "postmap"):
            self.assertTrue(os.access(os.path.join(self.paths["sbin"], tool), os.X_OK), tool)
        self.assertTrue(os.access(os.path.join(self.paths["daemons"], "master"), os.X_OK))
        for name in ("main.cf", "master.cf"):
            self.assertTrue(os.path.isfile(os.path.join(self.paths["conf"], name)), name)
        # lmtp is the smtp program under a second name (master.cf's lmtp).
        smtp = os.path.join(self.paths["daemons"], "smtp")
        if os.path.exists(smtp):
            lmtp = os.path.join(self.paths["daemons"], "lmtp")
            self.assertTrue(os.access(lmtp, os.X_OK))
            self.assertEqual(os.stat(lmtp).st_ino, os.stat(smtp).st_ino)

    def test_postdrop_is_setgid_postdrop_when_root(self):
        postdrop = os.path.join(self.paths["sbin"], "postdrop")
        self.assertTrue(os.access(postdrop, os.X_OK))
        st = os.stat(postdrop)
        try:
            gid = grp.getgrnam("postdrop").gr_gid
        except KeyError:
            gid = None
        if is_root() and gid is not None:
            self.assertEqual(st.st_gid, gid)
            self.assertEqual(st.st_mode & 0o7777, 0o2755)
        else:
            self.assertEqual(st.st_mode & 0o6000, 0)
        # Nothing else carries a set-uid or set-gid bit.
        for d in (self.paths["sbin"], self.paths["daemons"]):
            for name in os.listdir(d):
                if name != "postdrop":
                    mode = os.stat(os.path.join(d, name)).st_mode
                    self.assertEqual(mode & 0o6000, 0, name)

    def test_existing_config_is_kept(self):
        main_cf = os.path.join(self.paths["conf"], "main.cf")
        with open(main_cf, "a") as f:
            f.write("\n# local edit\nmyhostname = kept.example\n")
        proc = make_install(self.dest)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("keeping existing", proc.stdout)
        with open(main_cf) as f:
            self.assertIn("myhostname = kept.example", f.read())

    def test_installed_suite_starts_and_stops(self):
        conf = os.path.join(self.root, "conf")
        os.makedirs(conf)
        shutil.copy(os.path.join(self.paths["conf"], "master.cf"), conf)
        log = os.path.join(self.root, "maillog")
        owner = ensure_mail_owner().pw_name if is_root() else None
        with open(os.path.join(conf, "main.cf"), "w") as f:
            f.write(f"""# a Postfix-style main.cf for an installed suite
queue_directory = {self.root}/queue
data_directory = {self.root}/data
daemon_directory = {self.paths['daemons']}
maillog_file = {log}
inet_interfaces = 127.0.0.1
""" + (f"mail_owner = {owner}\n" if owner else ""))
        sbin = self.paths["sbin"]
        postconf = os.path.join(sbin, "postconf")
        postern = os.path.join(sbin, "postern")
        # Move every inet listener of the default master.cf to a free
        # loopback port, the way an admin would, with postconf -M.
        listing = subprocess.run([postconf, "-c", conf, "-M"], capture_output=True,
                                 text=True, check=True).stdout
        ports = []
        for line in listing.splitlines():
            fields = line.split()
            if len(fields) > 1 and fields[1] == "inet":
                port = free_port()
                ports.append(port)
                subprocess.run([postconf, "-c", conf, "-MX", f"{fields[0]}/inet"], check=True)
                entry = f"127.0.0.1:{port}/inet=127.0.0.1:{port} " + " ".join(fields[1:])
                subprocess.run([postconf, "-c", conf, "-Me", entry], check=True)
        start = subprocess.run([postern, "-c", conf, "start"], capture_output=True,
                               text=True, timeout=60)
        self.addCleanup(subprocess.run, [postern, "-c", conf, "stop"],
                        capture_output=True, timeout=60)
        self.assertEqual(start.returncode, 0, start.stdout + start.stderr)
        status = subprocess.run([postern, "-c", conf, "status"], capture_output=True, text=True)
        self.assertEqual(status.returncode, 0, status.stderr)
        self.assertRegex(status.stdout + status.stderr, r"running: PID: \d+")
        with open(log) as f:
            self.assertRegex(f.read(), r"postern/master\[\d+\]: daemon started")
        for port in ports:
            self.assertFalse(port_refuses(port), f"nothing listens on {port}")
        stop = subprocess.run([postern, "-c", conf, "stop"], capture_output=True,
                              text=True, timeout=60)
        self.assertEqual(stop.returncode, 0, stop.stderr)
        status = subprocess.run([postern, "-c", conf, "status"], capture_output=True, text=True)
        self.assertNotEqual(status.returncode, 0)


if __name__ == "__main__":
    unittest.main()
