"""agentlib.py: drives a delivery agent (virtual, local) directly over
its socket, as qmgr would, for test_virtual.py and test_local.py.

    env = AgentEnv(self, "virtual", main_cf={...})   # cleans up itself
    q = env.queue_file("s@x.org", ["a@ex.org"], b"Subject: x\r\n\r\nhi\r\n")
    [(status, dsn, relay, reason)] = env.deliver(q)

The agent runs standalone (`-S SOCKET`, see lib/delivery/agent.h) with a fresh
configuration directory; queue files are written by
tests/helpers/agent_qfile (lib/queue/qfile_writer) into queue/active, and
requests sent by tests/helpers/deliver_call (lib/delivery/deliver_req over
lib/ipc/attr). Standard library only.
"""
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
BUILDDIR = os.path.abspath(os.environ.get("POSTERN_BUILDDIR", TOP))


def prog(*parts):
    return os.path.join(BUILDDIR, *parts)


def is_root():
    return os.geteuid() == 0


def ensure_user(name, home):
    """As root: a test account `name` with home `home` (created with
    useradd when missing). Returns its pwd entry, or raises SkipTest."""
    if not is_root():
        raise unittest.SkipTest("needs root to create test accounts")
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        useradd = shutil.which("useradd") or "/usr/sbin/useradd"
        if not os.path.exists(useradd):
            raise unittest.SkipTest("no useradd to create test accounts")
        proc = subprocess.run([useradd, "--no-create-home", "--home-dir", home,
                               "--shell", "/bin/sh", name],
                              capture_output=True, text=True)
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            raise unittest.SkipTest(f"cannot create account {name}: "
                                    f"{proc.stderr.strip()}") from None
    if entry.pw_dir != home:
        subprocess.run(["usermod", "--home", home, name], capture_output=True)
        entry = pwd.getpwnam(name)
    os.makedirs(home, exist_ok=True)
    os.chown(home, entry.pw_uid, entry.pw_gid)
    os.chmod(home, 0o755)
    return entry


class AgentEnv:
    def __init__(self, testcase, agent, main_cf=None, start=True,
                 program=None):
        self.agent = agent
        # The program to run (default: the agent's own); the smtp client
        # runs as lmtp through a link of that name.
        self.program = program or prog(agent, agent)
        # Short path: unix socket names are limited to 107 bytes.
        self.root = tempfile.mkdtemp(prefix=f"pt-{agent}.", dir="/tmp")
        os.chmod(self.root, 0o755)
        self.etc = os.path.join(self.root, "etc")
        self.queue = os.path.join(self.root, "queue")
        self.log = os.path.join(self.root, "maillog")
        self.socket = os.path.join(self.root, f"{agent}.sock")
        for sub in ("etc", "queue/active", "queue/incoming", "queue/public"):
            os.makedirs(os.path.join(self.root, sub))
        self.settings = {
            "queue_directory": self.queue,
            "maillog_file": self.log,
            "max_idle": "30s",
        }
        if is_root():
            # Forwarded copies are written as mail_owner, as smtpd's are.
            nobody = pwd.getpwnam("nobody")
            self.settings["mail_owner"] = "nobody"
            os.chown(os.path.join(self.queue, "incoming"), nobody.pw_uid,
                     nobody.pw_gid)
        self.settings.update(main_cf or {})
        self.proc = None
        # Descriptors the agent inherits from the test (tests of what a
        # command delivery may see).
        self.pass_fds = ()
        # Run in the agent's process before exec (tests that start it
        # under another identity).
        self.preexec = None
        testcase.addCleanup(self.cleanup)
        if start:
            self.start()

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def write_main_cf(self):
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            for name, value in self.settings.items():
                f.write(f"{name} = {value}\n")

    def start(self):
        self.stop()
        self.write_main_cf()
        if os.path.exists(self.socket):
            os.unlink(self.socket)
        self.proc = subprocess.Popen(
            [self.program, "-c", self.etc, "-S", self.socket],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            pass_fds=self.pass_fds, preexec_fn=self.preexec)
        deadline = time.time() + 10
        while not os.path.exists(self.socket):
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.agent} exited: "
                                     f"{self.proc.stderr.read().decode()}")
            if time.time() > deadline:
                raise AssertionError(f"{self.agent} did not bind its socket")
            time.sleep(0.02)

    def restart(self, **settings):
        self.settings.update(settings)
        self.start()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        if self.proc and self.proc.stderr:
            self.proc.stderr.close()
        self.proc = None

    def cleanup(self):
        self.stop()
        if not os.environ.get("POSTERN_KEEP_INSTANCE"):
            shutil.rmtree(self.root, ignore_errors=True)

    def queue_file(self, sender, rcpts, content, queue="active"):
        """Writes a queue file; returns {"qid", "rcpts": {addr: offset}}."""
        out = subprocess.run(
            [prog("tests", "helpers", "agent_qfile"),
             os.path.join(self.queue, queue), sender] + list(rcpts),
            input=content, capture_output=True, check=True).stdout.decode()
        info = {"rcpts": {}, "order": []}
        for line in out.splitlines():
            key, _, rest = line.partition(" ")
            if key == "rcpt":
                offset, _, addr = rest.partition(" ")
                info["rcpts"][addr] = int(offset)
                info["order"].append(addr)
            else:
                info[key] = rest
        info["path"] = os.path.join(self.queue, queue, info["qid"])
        return info

    def deliver(self, qinfo, rcpts=(), count=1, keep_done=False,
                expect_ok=True, timeout=120, other_id=None, other_addr=None,
                transport=None, nexthop=None, requiretls=False):
        """Sends deliver/1 request(s); returns the reply lines, each a
        tuple (status, dsn, relay, reason), or "eof"."""
        args = [prog("tests", "helpers", "deliver_call"), "-n", str(count)]
        if keep_done:
            args.append("-k")
        if other_id:
            args += ["-i", other_id]
        if other_addr:
            args += ["-a", other_addr]
        if transport:
            args += ["-t", transport]
        if nexthop is not None:
            args += ["-h", nexthop]
        if requiretls:
            args.append("-r")
        args += [self.socket, self.queue, "active", qinfo["qid"]] + list(rcpts)
        proc = subprocess.run(args, capture_output=True, timeout=timeout)
        if expect_ok and proc.returncode != 0:
            raise AssertionError("deliver_call failed: "
                                 + proc.stderr.decode() + proc.stdout.decode())
        result = []
        self.hops = []  # hop_status of replies that carry one but "ok"
        for line in proc.stdout.decode().splitlines():
            if line.startswith("hop "):
                self.hops.append(line[4:])
                continue
            if line == "eof":
                result.append("eof")
                continue
            status, dsn, relay, reason = line.split(" ", 3)
            result.append((status, dsn, relay, reason))
        return result

    def is_done(self, qinfo, addr):
        """True when the recipient's record is marked done ('D')."""
        with open(qinfo["path"], "rb") as f:
            f.seek(qinfo["rcpts"][addr])
            return f.read(1) == b"D"

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def log_line(self, qinfo, rcpt):
        """The status line logged for rcpt (to=<rcpt>), or None."""
        for line in self.log_text().splitlines():
            if f"{qinfo['qid']}: to=<{rcpt}>," in line:
                return line
        return None

    def wait_log(self, pattern, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if re.search(pattern, self.log_text()):
                return
            time.sleep(0.05)
        raise AssertionError(f"no log line matching {pattern!r} in:\n"
                             + self.log_text()[-3000:])


STATUS_LINE = re.compile(
    r"postern/(\w+)\[\d+\]: (\w+): to=<([^>]*)>, (?:orig_to=<[^>]*>, )?"
    r"relay=(\w+), delay=[\d.]+, delays=[\d.]+/[\d.]+/[\d.]+/[\d.]+, "
    r"dsn=(\d\.\d+\.\d+), status=(sent|deferred|bounced) \((.*)\)$")


def maildir_files(root, sub="new"):
    d = os.path.join(root, sub)
    if not os.path.isdir(d):
        return []
    return sorted(os.path.join(d, n) for n in os.listdir(d))


def read(path, mode="rb"):
    with open(path, mode) as f:
        return f.read()
