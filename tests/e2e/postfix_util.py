"""postfix_util.py: a throwaway instance of Debian's Postfix for interop
tests: its own main.cf and master.cf under a temporary directory
(`postfix -c DIR start`), queue_directory and data_directory there too,
listening on a free 127.0.0.1 port, logging to a file.

    pf = PostfixInstance(self, port, mail_owner, {"virtual_transport": ...},
                         extra_services="lmtp unix - - n - - lmtp\\n")
    pf.start()

Postfix's master must start as root: callers skip without root
(POSTFIX_SKIP says why) or when Postfix is missing."""
import os
import shutil
import signal
import smtplib
import subprocess
import tempfile
import time

from instance import is_root

POSTFIX = "/usr/sbin/postfix"
POSTFIX_DAEMONS = "/usr/lib/postfix/sbin"

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
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
postlog   unix-dgram n  -       n       -       1       postlogd
"""


def postfix_missing():
    """Why a Postfix interop test cannot run here, or None."""
    if not (os.access(POSTFIX, os.X_OK) and
            os.access(os.path.join(POSTFIX_DAEMONS, "smtpd"), os.X_OK)):
        return ("Debian's postfix is not installed (scripts/install-deps "
                "--test installs it)")
    if not is_root():
        return "needs root: Postfix's master starts as root"
    return None


class PostfixInstance:
    """A throwaway Postfix under a temporary directory."""

    def __init__(self, testcase, port, mail_owner, main=None,
                 extra_services=""):
        self.port = port
        self.root = tempfile.mkdtemp(prefix="pf-", dir="/tmp")
        os.chmod(self.root, 0o755)
        self.etc = os.path.join(self.root, "etc")
        os.makedirs(self.etc)
        self.maillog = os.path.join(self.root, "maillog")
        # postfix start creates what is below the queue directory.
        os.makedirs(os.path.join(self.root, "spool"))
        params = {
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
            "smtpd_tls_security_level": "none",
            "alias_maps": "",
            "alias_database": "",
        }
        params.update(main or {})
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            f.write("".join(f"{k} = {v}\n" for k, v in params.items()))
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(port=port) + extra_services)
        testcase.addCleanup(self.cleanup)

    def run(self, *args):
        return subprocess.run([POSTFIX, "-c", self.etc, *args],
                              capture_output=True, text=True, timeout=60)

    def start(self, timeout=15):
        """Starts Postfix and waits until its smtpd answers."""
        out = self.run("start")
        if out.returncode != 0:
            raise AssertionError(f"postfix start failed: {out.stdout}"
                                 f"{out.stderr}\n{self.log()}")
        deadline = time.monotonic() + timeout
        while True:
            try:
                with smtplib.SMTP("127.0.0.1", self.port, timeout=5) as s:
                    s.ehlo()
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("Postfix did not answer:\n"
                                         + self.log())
                time.sleep(0.2)

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
