"""test_master.py: master and `postern` driven end to end.

The services are tests/helpers/master_testsvc, which speaks
lib/ipc/master_proto.h directly (greeting "220 testsvc pid=P uid=U ...", then
echo; "crash" aborts the child). Each test runs its own instance
(tests/e2e/instance.py) on free loopback ports.
"""
import grp
import os
import re
import socket
import threading
import time
import unittest

from instance import Instance, InstanceError, children_of, is_root, pid_alive, port_refuses

SVC = "master_testsvc"


def lacks_journal(path):
    """(whether the file system holding path keeps no journal, its type),
    worked out from /proc on our own."""
    st = os.stat(path)
    fstype = None
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if fields[2] == f"{os.major(st.st_dev)}:{os.minor(st.st_dev)}":
                fstype = fields[fields.index("-") + 1]
                break
    expect = False
    if fstype in ("ext2", "ext3", "ext4"):
        try:
            dev = os.path.basename(os.readlink(
                f"/sys/dev/block/{os.major(st.st_dev)}:{os.minor(st.st_dev)}"))
        except OSError:
            dev = None
        if dev and fstype == "ext2":
            expect = True
        elif dev and os.path.exists(f"/proc/fs/ext4/{dev}"):
            jbd2 = os.listdir("/proc/fs/jbd2") if os.path.isdir(
                "/proc/fs/jbd2") else []
            expect = not any(n.startswith(dev + "-") for n in jbd2)
    return expect, fstype


def has_group(name):
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


def greeting(sock):
    line = Instance.read_line(sock).decode()
    m = re.match(r"220 testsvc pid=(\d+) uid=(\d+) gid=(\d+) gen=(\d+) "
                 r"service=(\S+) cwd=(\S+)", line)
    if not m:
        raise AssertionError(f"bad greeting {line!r}")
    return {"pid": int(m.group(1)), "uid": int(m.group(2)),
            "gid": int(m.group(3)), "gen": int(m.group(4)),
            "service": m.group(5), "cwd": m.group(6)}


def listening_inode(port):
    """Inode of the 127.0.0.1:port listening socket, from /proc/net/tcp."""
    want = f"0100007F:{port:04X}"
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == want and fields[3] == "0A":
                return int(fields[9])
    return None


class MasterTestCase(unittest.TestCase):
    def make(self, master_cf="", **main):
        inst = Instance(self, main_cf=main or None)
        inst.write_master_cf(master_cf)
        return inst

    def inet(self, inst, port, *args, maxproc="-", unpriv="-", chroot="n"):
        return inst.service(f"127.0.0.1:{port}", "inet", SVC, private="n",
                            unpriv=unpriv, chroot=chroot, maxproc=maxproc,
                            args=args)


class TestStartStop(MasterTestCase):
    def test_start_status_stop_leaves_nothing(self):
        inst = Instance(self)
        port = inst.free_port()
        inst.write_master_cf(
            self.inet(inst, port)
            + inst.service("ping", "unix", SVC)
            + inst.service("pickup", "fifo", SVC, private="n"))
        self.assertNotEqual(inst.status().returncode, 0)
        inst.start()
        status = inst.status()
        self.assertEqual(status.returncode, 0)
        self.assertRegex(status.stderr, r"postern/postern-script: the Postern "
                         r"mail system is running: PID: \d+")
        master = inst.master_pid()
        with open(os.path.join(inst.queue, "pid", "master.pid")) as f:
            self.assertEqual(int(f.read().strip()), master)
        inst.wait_for_log(r"postern/master\[%d\]: daemon started" % master)
        self.assertTrue(os.path.exists(os.path.join(inst.queue, "private", "ping")))
        self.assertTrue(os.path.exists(os.path.join(inst.queue, "public", "pickup")))

        # A busy child and an idle one when we stop.
        busy = inst.connect(port)
        self.addCleanup(busy.close)
        greeting(busy)
        inst.stop()
        self.assertEqual(inst.instance_pids(), [])
        self.assertFalse(pid_alive(master))
        stopped = inst.status()
        self.assertEqual(stopped.returncode, 1)
        self.assertIn("the Postern mail system is not running", stopped.stderr)
        self.assertTrue(port_refuses(port))
        self.assertFalse(os.path.exists(os.path.join(inst.queue, "private", "ping")))
        inst.wait_for_log(r"terminating on signal 15")

    def test_mail_config_and_relative_dir(self):
        import subprocess
        inst = Instance(self)
        port = inst.free_port()
        inst.write_master_cf(self.inet(inst, port))
        inst.start()
        env = dict(os.environ, MAIL_CONFIG=inst.etc)
        by_env = subprocess.run([inst.postern_bin, "status"], env=env,
                                capture_output=True, text=True, timeout=30)
        self.assertEqual(by_env.returncode, 0, by_env.stderr)
        self.assertIn(f"PID: {inst.master_pid()}", by_env.stderr)
        # A relative -c works and the child gets it absolute.
        relative = subprocess.run([inst.postern_bin, "-c", "etc", "status"],
                                  cwd=inst.root, capture_output=True, text=True,
                                  timeout=30)
        self.assertEqual(relative.returncode, 0, relative.stderr)
        with inst.connect(port) as sock:
            pid = greeting(sock)["pid"]
            argv = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
            self.assertEqual(argv[2], inst.etc.encode())

    def test_start_fg_runs_master_in_the_foreground(self):
        inst = Instance(self)
        port = inst.free_port()
        inst.write_master_cf(self.inet(inst, port))
        proc = inst.start_fg()
        # postern exec'd master: the same process is the master.
        self.assertEqual(inst.master_pid(), proc.pid)
        with inst.connect(port) as sock:
            greeting(sock)
        proc.terminate()
        self.assertEqual(proc.wait(30), 0)
        self.assertEqual(inst.instance_pids(), [])
        self.assertNotEqual(inst.status().returncode, 0)

    def test_stop_reaches_grandchildren(self):
        inst = Instance(self)
        port = inst.free_port()
        inst.write_master_cf(self.inet(inst, port))
        inst.start()
        with inst.connect(port) as sock:
            greeting(sock)
            sock.sendall(b"fork\r\n")
            line = Instance.read_line(sock).decode()
        grandchild = int(line.split("=")[1])
        self.assertTrue(pid_alive(grandchild))
        inst.stop()
        inst.wait_until(lambda: not pid_alive(grandchild), timeout=5,
                        what="the grandchild to be gone")
        self.assertEqual(inst.instance_pids(), [])

    def test_stop_kills_child_that_ignores_sigterm(self):
        inst = Instance(self)
        port = inst.free_port()
        inst.write_master_cf(self.inet(inst, port, "stubborn"))
        inst.start()
        with inst.connect(port) as sock:
            child = greeting(sock)["pid"]
            started = time.monotonic()
            inst.stop()
            self.assertLess(time.monotonic() - started, 30)
        self.assertFalse(pid_alive(child))
        self.assertEqual(inst.instance_pids(), [])
        self.assertIn("killing them", inst.log_text())

    def test_second_master_on_same_queue_is_refused(self):
        inst = Instance(self)
        port = inst.free_port()
        inst.write_master_cf(self.inet(inst, port))
        inst.start()
        first = inst.master_pid()
        again = inst.postern("start")
        self.assertEqual(again.returncode, 1)
        self.assertIn("already running", again.stderr)
        # master itself refuses too, even when started behind postern's back.
        import subprocess
        direct = subprocess.run([os.path.join(inst.daemon_dir, "master"),
                                 "-c", inst.etc, "-w"],
                                capture_output=True, text=True, timeout=30)
        self.assertEqual(direct.returncode, 1)
        self.assertRegex(direct.stderr, r"fatal: the Postern mail system is "
                         r"already running \(master pid %d" % first)
        self.assertEqual(inst.master_pid(), first)
        with inst.connect(port) as sock:
            greeting(sock)

    def test_start_fails_cleanly_when_port_is_taken(self):
        inst = Instance(self)
        blocker = socket.socket()
        self.addCleanup(blocker.close)
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        port = blocker.getsockname()[1]
        inst.write_master_cf(self.inet(inst, port))
        proc = inst.postern("start")
        self.assertEqual(proc.returncode, 1)
        self.assertRegex(proc.stderr, r"master\.cf, line 1: service "
                         r"127\.0\.0\.1:%d/inet: bind 127\.0\.0\.1:%d: "
                         r"Address already in use" % (port, port))
        self.assertIsNone(inst.master_pid())
        self.assertEqual(inst.instance_pids(), [])


class TestBadConfiguration(MasterTestCase):
    def assert_refused(self, inst, pattern):
        proc = inst.postern("start")
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertRegex(proc.stderr, pattern)
        self.assertIn("was not started", proc.stderr)
        self.assertIsNone(inst.master_pid())
        self.assertEqual(inst.instance_pids(), [])

    def test_bad_master_cf_type(self):
        inst = Instance(self)
        port = inst.free_port()
        inst.write_master_cf("# comment\n" + self.inet(inst, port)
                             + "foo inte n - n - - master_testsvc\n")
        self.assert_refused(inst, re.escape(inst.etc) + r"/master\.cf, line 3: ")

    def test_master_cf_missing_command(self):
        inst = Instance(self)
        port = inst.free_port()
        inst.write_master_cf(self.inet(inst, port)
                             + inst.service("x", "unix", "no_such_daemon"))
        self.assert_refused(inst, r"master\.cf, line 2: command "
                            + re.escape(inst.daemon_dir) + r"/no_such_daemon: "
                            r"No such file or directory")

    def test_master_cf_unknown_service_name(self):
        inst = Instance(self)
        inst.write_master_cf(inst.service("no-such-service-name", "inet", SVC))
        self.assert_refused(inst, r"master\.cf, line 1: unknown service name "
                            r"\"no-such-service-name\"")

    def test_master_cf_duplicate_service(self):
        inst = Instance(self)
        inst.write_master_cf(inst.service("a", "unix", SVC)
                             + inst.service("a", "unix", SVC))
        self.assert_refused(inst, r"master\.cf, line 2: duplicate service a/unix")

    def test_bad_main_cf_syntax(self):
        inst = Instance(self)
        inst.write_master_cf(inst.service("a", "unix", SVC))
        inst.write_main_cf(text_after="this line has no equals sign\n")
        proc = inst.postern("start")
        self.assertEqual(proc.returncode, 1)
        line = len(open(os.path.join(inst.etc, "main.cf")).read().splitlines())
        self.assertRegex(proc.stderr, re.escape(inst.etc)
                         + r"/main\.cf, line %d: " % line)
        self.assertIsNone(inst.master_pid())

    def test_bad_main_cf_value(self):
        inst = Instance(self, main_cf={"default_process_limit": "lots"})
        inst.write_master_cf(inst.service("a", "unix", SVC))
        self.assert_refused(inst, r"main\.cf, line \d+: .*default_process_limit")

    def test_check_creates_queue_tree(self):
        inst = Instance(self)
        self.assertFalse(os.path.exists(inst.queue))
        proc = inst.postern("check")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        expect = {"incoming": 0o700, "active": 0o700, "deferred": 0o700,
                  "hold": 0o700, "corrupt": 0o700, "defer": 0o700,
                  "bounce": 0o700, "trace": 0o700, "flush": 0o700,
                  "private": 0o700, "public": 0o755, "maildrop": 0o700,
                  "pid": 0o755}
        # maildrop/ is postdrop's (docs/sendmail.md) when its group exists.
        if is_root() and has_group("postdrop"):
            expect["maildrop"] = 0o1730
        for name, mode in expect.items():
            st = os.stat(os.path.join(inst.queue, name))
            self.assertEqual(st.st_mode & 0o7777, mode, name)
            owner = 0 if (name == "pid" and is_root()) else inst.owner_uid
            self.assertEqual(st.st_uid, owner, name)
        self.assertEqual(os.stat(inst.data).st_mode & 0o777, 0o700)
        # Unsafe modes are repaired with a warning naming the directory,
        # as postfix set-permissions would.
        private = os.path.join(inst.queue, "private")
        os.chmod(private, 0o777)
        proc = inst.postern("check")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn(f"warning: {private}: mode was 0777", proc.stderr)
        self.assertEqual(os.stat(private).st_mode & 0o7777, 0o700)

    def test_start_creates_and_repairs_its_directories(self):
        """postern start makes a missing queue subdirectory and repairs a
        0755 data_directory (and a too-open queue directory) with a
        warning instead of refusing to start."""
        inst = Instance(self)
        inst.write_master_cf(inst.service("qmgr", "unix", "qmgr",
                                          private="n", wakeup=60, maxproc=1))
        inst.postern("check", check=True)
        os.rmdir(os.path.join(inst.queue, "deferred"))
        os.chmod(inst.data, 0o755)
        os.chmod(os.path.join(inst.queue, "hold"), 0o750)
        proc = inst.postern("start")
        self.addCleanup(inst.postern, "stop")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn(f"warning: {inst.data}: mode was 0755", proc.stderr)
        self.assertIn(f"warning: {inst.queue}/hold: mode was 0750", proc.stderr)
        self.assertIn(f"created {inst.queue}/deferred", proc.stderr)
        self.assertEqual(os.stat(inst.data).st_mode & 0o777, 0o700)
        self.assertEqual(os.stat(os.path.join(inst.queue, "hold")).st_mode
                         & 0o777, 0o700)
        self.assertTrue(os.path.isdir(os.path.join(inst.queue, "deferred")))

    def test_shared_directory_is_not_repaired(self):
        """A data_directory such as /tmp (sticky, writable by all) is
        reported, never chmod'ed."""
        inst = Instance(self, main_cf={"data_directory": "/tmp"})
        proc = inst.postern("check")
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("/tmp: mode 1777 lets group or others in", proc.stderr)
        self.assertEqual(os.stat("/tmp").st_mode & 0o7777, 0o1777)

    def test_check_warns_about_a_queue_without_journal(self):
        """postern check warns when the queue's file system keeps no
        journal (ext2, or ext4 made without one): its renames between
        queue directories do not survive an OS crash whole. Whether this
        machine's does is worked out here from /proc on our own."""
        inst = Instance(self)
        proc = inst.postern("check")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        expect, fstype = lacks_journal(inst.queue)
        warned = "is on a file system without a journal" in proc.stderr
        self.assertEqual(warned, expect, proc.stderr)
        if expect:
            self.assertIn(f"queue_directory {inst.queue} is on a file system "
                          f"without a journal ({fstype} on ", proc.stderr)

    def test_installation_warning_once_per_start(self):
        """A warning about the whole installation (no journal under the
        queue) comes from check and once per start, not from reload,
        status or stop."""
        inst = Instance(self)
        inst.postern("check", check=True)
        if not lacks_journal(inst.queue)[0]:
            self.skipTest("the queue's file system keeps a journal here")
        inst.write_master_cf(inst.service("qmgr", "unix", "qmgr",
                                          private="n", wakeup=60, maxproc=1))
        mark = inst.log_mark()
        warning = "is on a file system without a journal"
        said = {}
        for command in ("start", "status", "reload", "status", "stop",
                        "check"):
            proc = inst.postern(command)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            said[command] = said.get(command, 0) + proc.stderr.count(warning)
        self.assertEqual(said, {"start": 1, "status": 0, "reload": 0,
                                "stop": 0, "check": 1})
        self.assertEqual(inst.log_since(mark).count(warning), 2)


    @unittest.skipUnless(is_root(), "needs root to give a directory away")
    def test_check_repairs_wrong_owner(self):
        inst = Instance(self)
        inst.postern("check", check=True)
        active = os.path.join(inst.queue, "active")
        os.chown(active, 0, 0)
        proc = inst.postern("check")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn(f"warning: {active}: was owned by uid 0; gave it to "
                      f"{inst.mail_owner}", proc.stderr)
        self.assertEqual(os.stat(active).st_uid, inst.owner_uid)


class TestChildren(MasterTestCase):
    def test_crash_respawn(self):
        inst = Instance(self)
        port = inst.free_port()
        inst.write_master_cf(self.inet(inst, port, maxproc=1))
        inst.start()
        with inst.connect(port) as sock:
            first = greeting(sock)["pid"]
            sock.sendall(b"crash\r\n")
            self.assertEqual(sock.recv(100), b"")
        inst.wait_for_log(r"warning: process \S+master_testsvc pid %d killed "
                          r"by signal 6" % first)
        with inst.connect(port) as sock:
            second = greeting(sock)["pid"]
            sock.sendall(b"hello\r\n")
            self.assertEqual(Instance.read_line(sock), b"hello")
        self.assertNotEqual(first, second)
        # It had served a client: a crash then is no reason to throttle.
        self.assertNotIn("throttled", inst.log_text())

    def test_killed_idle_child_is_replaced(self):
        inst = Instance(self)
        port = inst.free_port()
        inst.write_master_cf(self.inet(inst, port, maxproc=1))
        inst.start()
        with inst.connect(port) as sock:
            first = greeting(sock)["pid"]
        # Now idle; kill it from outside.
        os.kill(first, 9)
        inst.wait_until(lambda: not pid_alive(first), what="child to die")
        with inst.connect(port) as sock:
            self.assertNotEqual(greeting(sock)["pid"], first)

    def test_maxproc_is_honoured(self):
        inst = Instance(self)
        port = inst.free_port()
        inst.write_master_cf(self.inet(inst, port, maxproc=2))
        inst.start()
        a, b, c = inst.connect(port), inst.connect(port), inst.connect(port)
        for s in (a, b, c):
            self.addCleanup(s.close)
        pids = {greeting(a)["pid"], greeting(b)["pid"]}
        self.assertEqual(len(pids), 2)
        # The third connection waits: no third child is started.
        c.settimeout(1.0)
        with self.assertRaises(socket.timeout):
            c.recv(1)
        self.assertEqual(len(inst.master_children()), 2)
        a.close()
        c.settimeout(10)
        third = greeting(c)
        self.assertIn(third["pid"], pids)
        self.assertEqual(len(inst.master_children()), 2)

    def test_default_process_limit_applies_to_dash(self):
        inst = Instance(self, main_cf={"default_process_limit": "1"})
        port = inst.free_port()
        inst.write_master_cf(self.inet(inst, port, maxproc="-"))
        inst.start()
        with inst.connect(port) as a, inst.connect(port) as b:
            greeting(a)
            b.settimeout(1.0)
            with self.assertRaises(socket.timeout):
                b.recv(1)

    def test_unlimited_maxproc(self):
        inst = Instance(self, main_cf={"default_process_limit": "1"})
        port = inst.free_port()
        inst.write_master_cf(self.inet(inst, port, maxproc=0))
        inst.start()
        socks = [inst.connect(port) for _ in range(4)]
        for s in socks:
            self.addCleanup(s.close)
        self.assertEqual(len({greeting(s)["pid"] for s in socks}), 4)

    def test_throttle_after_startup_failures(self):
        inst = Instance(self, main_cf={"service_throttle_time": "2s"})
        port = inst.free_port()
        inst.write_master_cf(self.inet(inst, port, "fail"))
        inst.start()
        mark = inst.log_mark()
        sock = inst.connect(port)
        self.addCleanup(sock.close)
        inst.wait_for_log(r"postern/master\[\d+\]: warning: process \S+"
                          r"master_testsvc pid \d+ exit status 1", since=mark)
        inst.wait_for_log(r"warning: \S+master_testsvc: bad command startup -- "
                          r"service 127\.0\.0\.1:%d \(inet\) is throttled for 2 "
                          r"seconds" % port, since=mark)
        time.sleep(3.0)
        # Without the throttle it would have been restarted hundreds of
        # times in 3 seconds; with it, once every 2 seconds.
        failures = len(re.findall(r"exit status 1", inst.log_since(mark)))
        self.assertGreaterEqual(failures, 2)
        self.assertLessEqual(failures, 3)

    def test_throttle_lifts_when_fixed(self):
        inst = Instance(self, main_cf={"service_throttle_time": "1s"})
        port = inst.free_port()
        inst.write_master_cf(self.inet(inst, port, "fail"))
        inst.start()
        with inst.connect(port) as sock:
            inst.wait_for_log(r"is throttled")
        inst.write_master_cf(self.inet(inst, port))
        inst.reload()
        with inst.connect(port) as sock:
            greeting(sock)

    def test_wakeup_triggers_unix_and_fifo(self):
        inst = Instance(self)
        notes = os.path.join(inst.scratch, "notes")
        inst.write_master_cf(
            inst.service("tick", "unix", SVC, wakeup=1, maxproc=1,
                         args=[f"log={notes}"])
            + inst.service("pickup", "fifo", SVC, private="n", wakeup=1,
                           maxproc=1, args=[f"log={notes}"])
            + inst.service("lazy", "unix", SVC, wakeup="1?", maxproc=1,
                           args=[f"log={notes}"]))
        inst.start()

        def count(service):
            try:
                text = open(notes).read()
            except FileNotFoundError:
                return 0
            return len(re.findall(r"wakeup service=%s\n" % service, text))

        inst.wait_until(lambda: count("tick") >= 3 and count("pickup") >= 3,
                        timeout=15, what="three wakeups of tick and pickup")
        # "1?" wakes only once the service has been used.
        self.assertEqual(count("lazy"), 0)
        with inst.connect_unix(os.path.join(inst.queue, "private", "lazy")) as s:
            greeting(s)
        inst.wait_until(lambda: count("lazy") >= 1, timeout=10,
                        what="a wakeup of lazy after its first use")

    def test_unix_dgram_service(self):
        inst = Instance(self)
        notes = os.path.join(inst.scratch, "notes")
        inst.write_master_cf(inst.service("log", "unix-dgram", SVC, wakeup=1,
                                          maxproc=1, args=[f"log={notes}"]))
        inst.start()
        path = os.path.join(inst.queue, "private", "log")
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            s.sendto(b"hello", path)

        def seen():
            try:
                text = open(notes).read()
            except FileNotFoundError:
                return False
            return "datagram service=log hello" in text and \
                "wakeup service=log" in text
        inst.wait_until(seen, what="a datagram and a wakeup")

    def test_pass_service_serves_passed_descriptor(self):
        inst = Instance(self)
        inst.write_master_cf(inst.service("handoff", "pass", SVC))
        inst.start()
        ours, theirs = socket.socketpair()
        self.addCleanup(ours.close)
        with inst.connect_unix(os.path.join(inst.queue, "private", "handoff")) as s:
            socket.send_fds(s, [b"x"], [theirs.fileno()])
            theirs.close()
            ours.settimeout(10)
            info = greeting(ours)
            self.assertEqual(info["service"], "handoff")
            ours.sendall(b"ping\n")
            self.assertEqual(Instance.read_line(ours), b"ping")

    def test_child_argv_and_environment(self):
        inst = Instance(self)
        port = inst.free_port()
        inst.write_master_cf(self.inet(inst, port, "-o", "smtpd_banner=hi"))
        inst.start()
        with inst.connect(port) as sock:
            pid = greeting(sock)["pid"]
            argv = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")[:-1]
            self.assertEqual(argv, [SVC.encode(), b"-c", inst.etc.encode(), b"-n",
                                    f"127.0.0.1:{port}".encode(), b"-t", b"inet",
                                    b"-o", b"smtpd_banner=hi"])
            fds = sorted(int(fd) for fd in os.listdir(f"/proc/{pid}/fd"))
            # stdio, status pipe, lifeline, one listener, the connection.
            self.assertEqual(fds[:6], [0, 1, 2, 3, 4, 5])
            self.assertTrue(os.readlink(f"/proc/{pid}/fd/5").startswith("socket:"))


def have_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


class TestInetInterfaces(MasterTestCase):
    def test_bare_port_binds_every_listed_interface(self):
        inst = Instance(self, main_cf={"inet_interfaces": "127.0.0.1, 127.0.0.2"})
        port = inst.free_port()
        inst.write_master_cf(inst.service(str(port), "inet", SVC, private="n"))
        inst.start()
        for host in ("127.0.0.1", "127.0.0.2"):
            with Instance.connect(port, host=host) as sock:
                greeting(sock)
        self.assertTrue(port_refuses(port, host="127.0.0.3"))

    def test_loopback_only(self):
        inst = Instance(self, main_cf={"inet_interfaces": "loopback-only",
                                       "inet_protocols": "all"})
        port = inst.free_port()
        inst.write_master_cf(inst.service(str(port), "inet", SVC, private="n"))
        inst.start()
        with Instance.connect(port) as sock:
            greeting(sock)
        self.assertTrue(port_refuses(port, host="127.0.0.2"))
        if have_ipv6_loopback():
            with Instance.connect(port, host="::1") as sock:
                greeting(sock)
        else:
            self.assertIn("skipping [::1]", inst.log_text())

    def test_explicit_host_overrides_inet_interfaces(self):
        inst = Instance(self, main_cf={"inet_interfaces": "127.0.0.1"})
        port = inst.free_port()
        inst.write_master_cf(inst.service(f"127.0.0.2:{port}", "inet", SVC,
                                          private="n"))
        inst.start()
        with Instance.connect(port, host="127.0.0.2") as sock:
            greeting(sock)
        self.assertTrue(port_refuses(port, host="127.0.0.1"))

    def test_reload_follows_inet_interfaces(self):
        inst = Instance(self, main_cf={"inet_interfaces": "all"})
        port = inst.free_port()
        inst.write_master_cf(inst.service(str(port), "inet", SVC, private="n"))
        inst.start()
        with Instance.connect(port, host="127.0.0.2") as sock:
            greeting(sock)
        # 0.0.0.0:port must be closed before 127.0.0.1:port can be bound.
        busy = Instance.connect(port, host="127.0.0.2")
        self.addCleanup(busy.close)
        greeting(busy)
        inst.write_main_cf({"inet_interfaces": "127.0.0.1"})
        inst.reload()
        # The wildcard socket is shut down at reload, even though a busy
        # retiring child holds it, so 127.0.0.1:port is bound at once.
        with Instance.connect(port) as sock:
            greeting(sock)
        self.assertTrue(port_refuses(port, host="127.0.0.2"))
        self.assertNotIn("service disabled", inst.log_text())
        self.assertNotIn("retrying", inst.log_text())


class TestReload(MasterTestCase):
    def test_reload_keeps_listener_and_refuses_nothing(self):
        inst = Instance(self)
        port = inst.free_port()
        inst.write_master_cf(self.inet(inst, port))
        inst.start()
        inode = listening_inode(port)
        self.assertIsNotNone(inode)
        with inst.connect(port) as sock:
            old = greeting(sock)

        failures, served = [], [0]
        stop = threading.Event()

        def hammer():
            while not stop.is_set():
                try:
                    with Instance.connect(port, timeout=10) as s:
                        greeting(s)
                        served[0] += 1
                except Exception as exc:  # noqa: BLE001 - reported below
                    failures.append(repr(exc))

        thread = threading.Thread(target=hammer)
        thread.start()
        try:
            for _ in range(3):
                inst.reload()
                time.sleep(0.2)
        finally:
            stop.set()
            thread.join(30)
        self.assertEqual(failures, [])
        self.assertGreater(served[0], 0)
        self.assertEqual(listening_inode(port), inode)
        # Children were renewed: the old one got EOF on its lifeline.
        inst.wait_until(lambda: not pid_alive(old["pid"]), what="old child to exit")
        with inst.connect(port) as sock:
            self.assertGreater(greeting(sock)["gen"], old["gen"])

    def test_reload_moves_changed_port(self):
        inst = Instance(self)
        old_port, new_port = inst.free_port(), inst.free_port()
        inst.write_master_cf(self.inet(inst, old_port))
        inst.start()
        busy = inst.connect(old_port)
        self.addCleanup(busy.close)
        greeting(busy)
        inst.write_master_cf(self.inet(inst, new_port))
        inst.reload()
        with inst.connect(new_port) as sock:
            greeting(sock)
        # The old port refuses at once, although a retiring child that is
        # still busy holds a copy of its socket...
        self.assertTrue(port_refuses(old_port))
        self.assertIsNone(listening_inode(old_port))
        # ...and that child's session goes on undisturbed.
        busy.sendall(b"still here\r\n")
        self.assertEqual(Instance.read_line(busy), b"still here")

    def test_reload_adds_and_removes_services(self):
        inst = Instance(self)
        port = inst.free_port()
        inst.write_master_cf(self.inet(inst, port) + inst.service("gone", "unix", SVC))
        inst.start()
        inode = listening_inode(port)
        gone = os.path.join(inst.queue, "private", "gone")
        new = os.path.join(inst.queue, "public", "new")
        self.assertTrue(os.path.exists(gone))
        inst.write_master_cf(self.inet(inst, port, maxproc=3)
                             + inst.service("new", "unix", SVC, private="n"))
        inst.reload()
        self.assertFalse(os.path.exists(gone))
        with inst.connect_unix(new) as sock:
            self.assertEqual(greeting(sock)["service"], "new")
        # A changed line with the same endpoint keeps its socket.
        self.assertEqual(listening_inode(port), inode)

    def test_reload_with_bad_config_keeps_running(self):
        inst = Instance(self)
        port = inst.free_port()
        inst.write_master_cf(self.inet(inst, port))
        inst.start()
        inst.write_master_cf(self.inet(inst, port) + "junk\n")
        proc = inst.postern("reload")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("master.cf, line 2", proc.stderr)
        # Behind postern's back, master itself keeps the old table.
        mark = inst.log_mark()
        os.kill(inst.master_pid(), 1)
        inst.wait_for_log(r"reload failed; keeping the running configuration",
                          since=mark)
        with inst.connect(port) as sock:
            greeting(sock)

    def test_master_service_disable(self):
        inst = Instance(self)
        port = inst.free_port()
        inst.write_master_cf(self.inet(inst, port) + inst.service("u", "unix", SVC))
        inst.start()
        inst.write_main_cf({"master_service_disable": "inet"})
        inst.reload()
        inst.wait_until(lambda: port_refuses(port), what="inet service to stop")
        self.assertTrue(os.path.exists(os.path.join(inst.queue, "private", "u")))


class TestPrivileges(MasterTestCase):
    @unittest.skipUnless(is_root(), "privilege drop needs root")
    def test_unpriv_chroot_and_root_services(self):
        inst = Instance(self)
        p_unpriv, p_root, p_chroot = (inst.free_port() for _ in range(3))
        inst.write_master_cf(self.inet(inst, p_unpriv, unpriv="y")
                             + self.inet(inst, p_root, unpriv="n")
                             + self.inet(inst, p_chroot, unpriv="y", chroot="y"))
        inst.start()
        with inst.connect(p_unpriv) as sock:
            info = greeting(sock)
            self.assertEqual((info["uid"], info["gid"]),
                             (inst.owner_uid, inst.owner_gid))
            self.assertEqual(process_groups(info["pid"]), [inst.owner_gid])
        with inst.connect(p_root) as sock:
            self.assertEqual(greeting(sock)["uid"], 0)
        with inst.connect(p_chroot) as sock:
            info = greeting(sock)
            self.assertEqual(info["uid"], inst.owner_uid)
            self.assertEqual(info["cwd"], "/")
            self.assertEqual(os.readlink(f"/proc/{info['pid']}/root"), inst.queue)
        self.assertNotIn("not running as root", inst.log_text())

    @unittest.skipUnless(is_root(), "privilege drop needs root")
    def test_who_drops_an_unprivileged_service(self):
        # A program of ours (daemon_directory) starts as root and is told
        # the ids to drop to after its pre-init (smtpd reads a root-only
        # TLS key there); a command named by path is not known to drop by
        # itself, so master drops it before exec and tells it nothing.
        inst = Instance(self)
        p_ours, p_path = inst.free_port(), inst.free_port()
        inst.write_master_cf(
            self.inet(inst, p_ours, unpriv="y")
            + inst.service(f"127.0.0.1:{p_path}", "inet", inst.program(SVC),
                           private="n", unpriv="y"))
        inst.start()
        expected = f"POSTERN_UNPRIV={inst.owner_uid}:{inst.owner_gid}".encode()
        for port, told in ((p_ours, True), (p_path, False)):
            with inst.connect(port) as sock:
                info = greeting(sock)
                self.assertEqual((info["uid"], info["gid"]),
                                 (inst.owner_uid, inst.owner_gid))
                with open(f"/proc/{info['pid']}/environ", "rb") as f:
                    environ = f.read().split(b"\0")
                self.assertEqual(expected in environ, told, environ)

    @unittest.skipIf(is_root(), "only meaningful for an ordinary user")
    def test_ordinary_user_runs_everything_as_self(self):
        inst = Instance(self)
        port = inst.free_port()
        inst.write_master_cf(self.inet(inst, port, unpriv="y", chroot="y"))
        inst.start()
        with inst.connect(port) as sock:
            info = greeting(sock)
        self.assertEqual(info["uid"], os.getuid())
        self.assertNotEqual(info["cwd"], "/")
        self.assertEqual(len(re.findall(r"not running as root", inst.log_text())), 1)


def process_groups(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Groups:"):
                return [int(g) for g in line.split()[1:]]
    return []


if __name__ == "__main__":
    unittest.main()
