"""instance.py: a throw-away Postern instance for end-to-end tests.

Standard library only. Typical use in a unittest.TestCase:

    inst = Instance(self)                      # cleans up via addCleanup
    port = inst.free_port()
    inst.write_master_cf(inst.service(f"127.0.0.1:{port}", "inet",
                                      "master_testsvc"))
    inst.start()                               # postern start, must succeed
    with inst.connect(port) as sock: ...
    inst.wait_for_log(r"daemon started")
    inst.stop()                                # postern stop, waits

Layout under a fresh temporary directory ROOT (short, because unix socket
paths are limited to 107 bytes):
    ROOT/etc/main.cf, ROOT/etc/master.cf    configuration (-c ROOT/etc)
    ROOT/queue                              queue_directory
    ROOT/data                               data_directory
    ROOT/libexec                            daemon_directory: symlinks to
                                            every built daemon and test
                                            helper in POSTERN_BUILDDIR
    ROOT/log/maillog                        maillog_file
Every process of the instance carries "-c ROOT/etc" in its command line;
cleanup kills whatever still does (master, children, strays), then
removes ROOT (kept when POSTERN_KEEP_INSTANCE is set, for debugging).

Sanitizer builds (./configure --enable-sanitizers): daemons run with
stderr on /dev/null, so importing this module points ASAN_OPTIONS,
UBSAN_OPTIONS and LSAN_OPTIONS at log_path=DIR/report (DIR is a fresh
mode-1777 directory in /tmp, $POSTERN_SANITIZER_DIR) for every process
started from then on; main.cf's import_environment hands them to every
daemon. Instance cleanup fails the test when any process wrote a report
there or when the maillog holds one (see sanitizer_reports()); tests/run
does the same after every e2e test, for tools run without an Instance.

Running as root, the services' mail_owner is a real unprivileged account:
`postern` (created with useradd when missing; tests that need it call
Instance.require_mail_owner() and skip with the reason when it cannot be
had). As an ordinary user everything runs as that user.
"""
import atexit
import errno
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
DAEMON_NAMES = ("master smtpd qmgr smtp local virtual imapd pop3d auth anvil showq "
                "bounce pickup lmtpd").split()
DEFAULT_MAIL_OWNER = "postern"

_used_ports = set()

SANITIZER_VARS = ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS")
SANITIZER_REPORT = re.compile(
    r"ERROR: (?:Address|Leak|UndefinedBehavior)Sanitizer|runtime error:|"
    r"SUMMARY: (?:Address|Leak|UndefinedBehavior)Sanitizer")
_SANITIZER_SEEN_SUFFIX = ".reported"


def sanitizer_setup():
    """Points the sanitizers' log_path at a shared report directory for
    every process started from now on (idempotent); returns the directory.
    Options already in the environment are kept, except log_path."""
    path = os.environ.get("POSTERN_SANITIZER_DIR")
    if path and os.path.isdir(path):
        return path
    path = tempfile.mkdtemp(prefix="pt-san-", dir="/tmp")
    # Daemons that dropped privileges write their reports here too.
    os.chmod(path, 0o1777)
    os.environ["POSTERN_SANITIZER_DIR"] = path
    atexit.register(shutil.rmtree, path, True)
    for var in SANITIZER_VARS:
        opts = [o for o in os.environ.get(var, "").split(":")
                if o and not o.startswith("log_path=")]
        if var == "UBSAN_OPTIONS" and not any(
                o.startswith("print_stacktrace=") for o in opts):
            opts.append("print_stacktrace=1")
        opts.append(f"log_path={path}/report")
        os.environ[var] = ":".join(opts)
    return path


def sanitizer_reports():
    """Sanitizer reports written since the last call: a list of texts, each
    starting with its file name. Each report is returned once (the file is
    renamed); an empty list when there are none."""
    path = os.environ.get("POSTERN_SANITIZER_DIR")
    if not path or not os.path.isdir(path):
        return []
    reports = []
    for name in sorted(os.listdir(path)):
        if name.endswith(_SANITIZER_SEEN_SUFFIX):
            continue
        full = os.path.join(path, name)
        try:
            with open(full, encoding="utf-8", errors="replace") as f:
                text = f.read()
            os.rename(full, full + _SANITIZER_SEEN_SUFFIX)
        except OSError:
            continue
        reports.append(f"{name}:\n{text}")
    return reports


sanitizer_setup()


def builddir():
    """The build tree holding the programs (tests/run sets POSTERN_BUILDDIR)."""
    return os.path.abspath(os.environ.get("POSTERN_BUILDDIR", TOP))


def is_root():
    return os.geteuid() == 0


def free_port(host="127.0.0.1"):
    """A TCP port that nothing listens on now and that this process has not
    handed out before. (Another process could still take it before the
    instance binds it; ports come from the kernel's ephemeral range, so
    that is rare.)"""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(50):
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            port = sock.getsockname()[1]
        if port not in _used_ports:
            _used_ports.add(port)
            return port
    raise RuntimeError("no free port found")


def port_refuses(port, host="127.0.0.1", timeout=2.0):
    """True when a TCP connection to host:port is refused."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return False
    except ConnectionRefusedError:
        return True
    except OSError:
        return False


def ensure_mail_owner(name=DEFAULT_MAIL_OWNER):
    """As root: the account `name`, created as a system user when missing.
    Returns the pwd entry, or raises unittest.SkipTest saying why not."""
    if not is_root():
        raise unittest.SkipTest("needs root (privilege drop to mail_owner)")
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    if not os.path.exists(useradd):
        raise unittest.SkipTest(f"no account {name!r} and no useradd to make one")
    proc = subprocess.run([useradd, "--system", "--home-dir", "/nonexistent",
                           "--shell", "/usr/sbin/nologin", name],
                          capture_output=True, text=True)
    try:
        return pwd.getpwnam(name)
    except KeyError:
        raise unittest.SkipTest(f"cannot create account {name!r}: "
                                f"{proc.stderr.strip()}") from None


def _world_traversable(path):
    """True when every directory from / to path lets others search it."""
    path = os.path.realpath(path)
    while True:
        try:
            if not os.stat(path).st_mode & 0o001:
                return False
        except OSError:
            return False
        parent = os.path.dirname(path)
        if parent == path:
            return True
        path = parent


def _process_cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def _process_stat(pid):
    """(state, ppid, pgid) of a process, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return fields[0], int(fields[1]), int(fields[2])


def pid_alive(pid):
    """True when pid exists and is not a zombie."""
    st = _process_stat(pid)
    return st is not None and st[0] != "Z"


def all_pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def children_of(pid):
    """Live processes whose parent is pid."""
    result = []
    for p in all_pids():
        st = _process_stat(p)
        if st and st[1] == pid and st[0] != "Z":
            result.append(p)
    return result


def process_uid(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Uid:"):
                return int(line.split()[1])
    raise RuntimeError(f"no Uid line for {pid}")


class InstanceError(AssertionError):
    pass


class Instance:
    """One temporary Postern instance. Pass the TestCase to have cleanup
    registered with addCleanup; otherwise use it as a context manager or
    call cleanup() yourself."""

    def __init__(self, testcase=None, mail_owner=None, main_cf=None):
        self.build = builddir()
        self.postern_bin = os.path.join(self.build, "tools", "postern")
        self.root = tempfile.mkdtemp(prefix="pt-", dir="/tmp")
        # Unprivileged children must be able to reach the queue and logs.
        os.chmod(self.root, 0o755)
        self.etc = os.path.join(self.root, "etc")
        self.queue = os.path.join(self.root, "queue")
        self.data = os.path.join(self.root, "data")
        self.daemon_dir = os.path.join(self.root, "libexec")
        self.log_dir = os.path.join(self.root, "log")
        self.maillog = os.path.join(self.log_dir, "maillog")
        for d in (self.etc, self.daemon_dir, self.log_dir):
            os.makedirs(d, mode=0o755, exist_ok=True)
            os.chmod(d, 0o755)
        if is_root():
            owner = mail_owner or ensure_mail_owner().pw_name
        else:
            owner = pwd.getpwuid(os.getuid()).pw_name
        self.mail_owner = owner
        self.owner_uid = pwd.getpwnam(owner).pw_uid
        self.owner_gid = pwd.getpwnam(owner).pw_gid
        self._populate_daemon_dir()
        # The log file is written by every process, unprivileged ones too.
        with open(self.maillog, "a"):
            pass
        os.chmod(self.maillog, 0o666)
        # World-writable scratch space for test services' own notes.
        self.scratch = os.path.join(self.root, "scratch")
        os.makedirs(self.scratch, exist_ok=True)
        os.chmod(self.scratch, 0o1777)
        self.main_params = {
            "queue_directory": self.queue,
            "data_directory": self.data,
            "daemon_directory": self.daemon_dir,
            "maillog_file": self.maillog,
            "maillog_file_prefixes": self.root,
            "mail_owner": owner,
            "inet_interfaces": "loopback-only",
            "inet_protocols": "ipv4",
            "import_environment": "MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ "
                                  "LANG=C ASAN_OPTIONS UBSAN_OPTIONS "
                                  "LSAN_OPTIONS",
        }
        if main_cf:
            self.main_params.update(main_cf)
        self.write_main_cf()
        self.write_master_cf("")
        self._cleaned = False
        if testcase is not None:
            testcase.addCleanup(self.cleanup)

    # ---- set-up ----

    def _populate_daemon_dir(self):
        # Symlinks, unless mail_owner could not follow them: a checkout
        # under /root (mode 0700) run as root would leave every
        # unprivileged service unable to exec. Then copies.
        self.copied_programs = is_root() and not _world_traversable(self.build)
        for name in DAEMON_NAMES:
            path = os.path.join(self.build, name, name)
            if os.access(path, os.X_OK):
                self.add_program(name, path)
        # lmtp is the smtp program run under that name (make install
        # links it the same way).
        smtp_path = os.path.join(self.build, "smtp", "smtp")
        if os.access(smtp_path, os.X_OK):
            self.add_program("lmtp", smtp_path)
        # imap-login is the imapd program run under that name.
        imapd_path = os.path.join(self.build, "imapd", "imapd")
        if os.access(imapd_path, os.X_OK):
            self.add_program("imap-login", imapd_path)
        helpers = os.path.join(self.build, "tests", "helpers")
        if os.path.isdir(helpers):
            for name in sorted(os.listdir(helpers)):
                path = os.path.join(helpers, name)
                if "." not in name and os.path.isfile(path) and os.access(path, os.X_OK):
                    if not os.path.lexists(os.path.join(self.daemon_dir, name)):
                        self.add_program(name, path)

    def add_program(self, name, target):
        """Makes daemon_directory/name run target (a path): a symlink, or a
        copy when mail_owner could not reach the build tree."""
        link = os.path.join(self.daemon_dir, name)
        if os.path.lexists(link):
            os.unlink(link)
        if getattr(self, "copied_programs", False):
            shutil.copy2(target, link)
            os.chmod(link, 0o755)
        else:
            os.symlink(target, link)

    def program(self, name):
        """The path of a daemon or test helper that mail_owner can run
        (daemon_directory/name): as root with a build tree under a mode-0700
        directory (/root, mktemp -d), the build tree's copy is out of its
        reach. Use it for helpers run as mail_owner."""
        return os.path.join(self.daemon_dir, name)

    def write_main_cf(self, extra=None, text_after=""):
        """Writes etc/main.cf from main_params (updated with extra), plus raw
        text appended as is (for deliberately broken files)."""
        if extra:
            self.main_params.update(extra)
        lines = [f"{k} = {v}" for k, v in self.main_params.items()]
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            f.write("# written by tests/e2e/instance.py\n")
            f.write("\n".join(lines) + "\n" + text_after)

    def write_master_cf(self, text):
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write(text)

    @staticmethod
    def service(name, type_, command, private="-", unpriv="-", chroot="n",
                wakeup="-", maxproc="-", args=()):
        """One master.cf line."""
        fields = [name, type_, private, unpriv, chroot, str(wakeup),
                  str(maxproc), command] + [str(a) for a in args]
        return " ".join(fields) + "\n"

    def free_port(self):
        return free_port()

    # ---- control ----

    def postern(self, *args, check=False, timeout=90):
        """Runs tools/postern -c ETC ARGS; returns the CompletedProcess
        (stdout and stderr as text). With check, a non-zero exit raises
        with the output and the log tail."""
        proc = subprocess.run([self.postern_bin, "-c", self.etc, *args],
                              capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise InstanceError(
                f"postern {' '.join(args)} exited {proc.returncode}\n"
                f"stdout: {proc.stdout}\nstderr: {proc.stderr}\n"
                f"maillog tail:\n{self.log_tail()}")
        return proc

    def start(self):
        return self.postern("start", check=True)

    def stop(self):
        return self.postern("stop", check=True)

    def start_fg(self, timeout=10.0):
        """`postern start-fg` in the background (master stays in the
        foreground of that process, as under systemd). Returns the Popen
        once master runs; its stdout/stderr go to ROOT/log/start-fg.out."""
        out = open(os.path.join(self.log_dir, "start-fg.out"), "wb")
        proc = subprocess.Popen([self.postern_bin, "-c", self.etc, "start-fg"],
                                stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT)
        out.close()
        self._fg = proc
        self.wait_until(lambda: proc.poll() is not None or self.master_pid(),
                        timeout=timeout, what="master in the foreground")
        if proc.poll() is not None:
            raise InstanceError(f"start-fg exited {proc.returncode}:\n"
                                + open(os.path.join(self.log_dir, "start-fg.out")).read())
        return proc

    def reload(self, wait=True):
        """postern reload; with wait, returns once master logged the reload."""
        mark = self.log_mark()
        proc = self.postern("reload", check=True)
        if wait:
            self.wait_for_log(r"postern/master\[\d+\]: reload -- ", since=mark)
        return proc

    def status(self):
        return self.postern("status")

    def master_pid(self):
        """The running master's pid (from postern status), or None."""
        proc = self.status()
        m = re.search(r"running: PID: (\d+)", proc.stderr + proc.stdout)
        return int(m.group(1)) if proc.returncode == 0 and m else None

    def master_children(self):
        pid = self.master_pid()
        return children_of(pid) if pid else []

    def instance_pids(self):
        """Every live process of this instance: those whose command line
        names its configuration directory (master and all its children
        do), and anything else in their process groups (what a child
        started, such as a pipe delivery)."""
        needle = self.etc.encode()
        named, groups = set(), set()
        for p in all_pids():
            if p == os.getpid():
                continue
            if needle in _process_cmdline(p) and pid_alive(p):
                named.add(p)
                st = _process_stat(p)
                # master's own group may be the test runner's (start-fg).
                if st and st[2] == p:
                    groups.add(p)
        if groups:
            for p in all_pids():
                st = _process_stat(p)
                if st and st[2] in groups and st[0] != "Z" and p != os.getpid():
                    named.add(p)
        return sorted(named)

    # ---- logs ----

    def log_text(self):
        try:
            with open(self.maillog, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def log_mark(self):
        """An offset into the log; pass it as `since` to look only at
        later lines."""
        try:
            return os.path.getsize(self.maillog)
        except FileNotFoundError:
            return 0

    def log_since(self, mark):
        with open(self.maillog, "rb") as f:
            f.seek(mark)
            return f.read().decode("utf-8", "replace")

    def log_tail(self, lines=30):
        return "\n".join(self.log_text().splitlines()[-lines:])

    def wait_for_log(self, pattern, since=0, timeout=10.0, count=1):
        """Waits until `pattern` (a regex) matches `count` times in the log
        after offset `since`; returns the last match. Raises with the log
        tail on timeout."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            matches = list(regex.finditer(self.log_since(since)))
            if len(matches) >= count:
                return matches[count - 1]
            if time.monotonic() > deadline:
                raise InstanceError(
                    f"timed out after {timeout}s waiting for {pattern!r} "
                    f"(x{count}, saw {len(matches)})\nmaillog tail:\n"
                    f"{self.log_tail()}")
            time.sleep(0.05)

    @staticmethod
    def wait_until(predicate, timeout=10.0, what="condition", interval=0.05):
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise InstanceError(f"timed out after {timeout}s waiting for {what}")
            time.sleep(interval)

    # ---- clients ----

    @staticmethod
    def connect(port, host="127.0.0.1", timeout=10.0):
        """A connected TCP socket with a timeout (use `with`)."""
        return socket.create_connection((host, port), timeout=timeout)

    def connect_unix(self, path, timeout=10.0):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(path)
        return sock

    @staticmethod
    def read_line(sock, limit=4096):
        """One line (bytes, without CRLF) read byte-wise, so nothing after it
        is consumed. Raises on timeout, EOF, or a line over `limit`."""
        data = bytearray()
        while len(data) < limit:
            ch = sock.recv(1)
            if not ch:
                raise InstanceError(f"EOF after {bytes(data)!r}")
            if ch == b"\n":
                return bytes(data).rstrip(b"\r")
            data += ch
        raise InstanceError("line too long")

    # ---- cleanup ----

    def kill_leftovers(self):
        """SIGKILLs every process of this instance; returns their pids."""
        killed = []
        for _ in range(20):
            pids = self.instance_pids()
            if not pids:
                break
            for p in pids:
                try:
                    os.kill(p, signal.SIGKILL)
                    killed.append(p)
                except ProcessLookupError:
                    pass
            time.sleep(0.05)
        return killed

    def sanitizer_findings(self):
        """Sanitizer reports from this instance's processes (and any other
        program run since the last check): report files, plus report lines
        in the maillog and in start-fg's output. A list of texts."""
        found = sanitizer_reports()
        for path in (self.maillog, os.path.join(self.log_dir, "start-fg.out")):
            try:
                with open(path, encoding="utf-8", errors="replace") as f:
                    lines = [l for l in f if SANITIZER_REPORT.search(l)]
            except OSError:
                continue
            if lines:
                found.append(f"{path}:\n" + "".join(lines[:20]))
        return found

    def cleanup(self):
        if self._cleaned:
            return
        self._cleaned = True
        try:
            if self.master_pid():
                self.postern("stop", timeout=30)
        except Exception:
            pass
        self.kill_leftovers()
        fg = getattr(self, "_fg", None)
        if fg is not None and fg.poll() is None:
            fg.kill()
        if fg is not None:
            fg.wait(10)
        # Reports are written by the time every process is gone.
        findings = self.sanitizer_findings()
        if os.environ.get("POSTERN_KEEP_INSTANCE"):
            print(f"keeping instance {self.root}")
        else:
            shutil.rmtree(self.root, ignore_errors=True)
        if findings:
            raise InstanceError("sanitizer report(s):\n"
                                + "\n".join(t[:6000] for t in findings))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()
        return False
