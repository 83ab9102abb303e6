"""test_local.py: the local delivery agent, driven directly over its
socket with deliver/1 requests built from real queue files (agentlib.py),
and newaliases/postalias, which build its alias tables.

As root the tests create accounts (pt-local1, pt-local2) with homes in
the test directory and check that deliveries run as the recipient (or
as default_privs for aliases). As an ordinary user they deliver to the
invoking account; the .forward and home_mailbox tests, which need a home
directory the test may write, are skipped with the reason.
"""
import os
import pwd
import re
import resource
import subprocess
import unittest

from agentlib import (STATUS_LINE, AgentEnv, ensure_user, is_root,
                      maildir_files, prog, read)

CONTENT = (b"From: Sender <s@x.org>\nSubject: test\n\n"
           b"From the start\nline two\n")


class LocalTest(unittest.TestCase):
    def setUp(self):
        self.env = AgentEnv(self, "local", start=False)
        self.spool = self.env.path("spool")
        self.out = self.env.path("out")
        os.makedirs(self.spool)
        os.makedirs(self.out)
        os.chmod(self.out, 0o1777)
        if is_root():
            self.user = ensure_user("pt-local1", self.env.path("home1"))
            self.nobody = pwd.getpwnam("nobody")
            os.chmod(self.spool, 0o1777)
        else:
            self.user = pwd.getpwuid(os.getuid())
            self.nobody = self.user
        self.name = self.user.pw_name
        self.aliases = self.env.path("etc", "aliases")
        self.env.settings.update({
            "mail_spool_directory": self.spool,
            "alias_maps": f"hash:{self.aliases}",
            "alias_database": f"hash:{self.aliases}",
            "recipient_delimiter": "+",
            "default_privs": "nobody",
        })
        self.write_aliases("postmaster: root\n")

    def write_aliases(self, text):
        os.makedirs(self.env.etc, exist_ok=True)
        with open(self.aliases, "w") as f:
            f.write(text)
        self.env.write_main_cf()
        proc = subprocess.run([prog("tools", "newaliases"), "-c",
                               self.env.etc], capture_output=True, text=True)
        self.assertEqual(proc.returncode, 0, proc.stderr)

    def start(self, **settings):
        self.env.settings.update(settings)
        self.env.start()

    def test_spool_mbox_exact(self):
        self.start()
        q = self.env.queue_file("s@x.org", [f"{self.name}@host"], CONTENT)
        reply = self.env.deliver(q)
        self.assertEqual(reply, [("sent", "2.0.0", "local",
                                  "delivered to mailbox")])
        mbox = os.path.join(self.spool, self.name)
        text = read(mbox)
        self.assertRegex(text.split(b"\n")[0],
                         rb"^From s@x\.org  \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d "
                         rb"\d{4}$")
        self.assertEqual(text.split(b"\n", 1)[1],
                         b"Return-Path: <s@x.org>\n"
                         + f"Delivered-To: {self.name}@host\n".encode()
                         + b"From: Sender <s@x.org>\nSubject: test\n\n"
                         b">From the start\nline two\n\n")
        st = os.stat(mbox)
        self.assertEqual(st.st_uid, self.user.pw_uid)
        self.assertTrue(self.env.is_done(q, f"{self.name}@host"))
        m = STATUS_LINE.search(self.env.log_line(q, f"{self.name}@host"))
        self.assertEqual(m.group(1), "local")
        # The null sender is MAILER-DAEMON on the From_ line.
        q = self.env.queue_file("", [f"{self.name}+tag@host"], CONTENT)
        self.assertEqual(self.env.deliver(q)[0][0], "sent")
        self.assertIn(b"\n\nFrom MAILER-DAEMON  ", read(mbox))
        self.assertIn(b"\nReturn-Path: <>\n"
                      + f"Delivered-To: {self.name}+tag@host\n".encode(),
                      read(mbox))

    def test_unknown_user_and_loop(self):
        self.start()
        q = self.env.queue_file("s@x.org", ["no-such-user-xyz@host"], CONTENT)
        self.assertEqual(self.env.deliver(q), [
            ("bounced", "5.1.1", "local",
             'unknown user: "no-such-user-xyz"')])
        q = self.env.queue_file(
            "s@x.org", [f"{self.name}@host"],
            f"Delivered-To: {self.name}@host\n".encode() + CONTENT)
        self.assertEqual(self.env.deliver(q), [
            ("bounced", "5.4.6", "local",
             f"mail forwarding loop for {self.name}@host")])
        self.assertFalse(os.path.exists(os.path.join(self.spool, self.name)))

    def test_alias_fanout(self):
        include = self.env.path("etc", "list.inc")
        with open(include, "w") as f:
            f.write(f"# members\n{self.out}/inc.mbox\n")
        os.chmod(include, 0o644)
        self.write_aliases(
            f"team: {self.name}, {self.out}/team.mbox,\n"
            f"  \"|/bin/sh -c 'env > {self.out}/env.txt; "
            f"cat > {self.out}/cmd.txt'\",\n"
            f"  remote@example.net, :include:{include}\n")
        # Files in :include: files need "include" (Postfix's default
        # leaves it out).
        self.start(allow_mail_to_files="alias, forward, include")
        sender = "a`touch${IFS}" + self.out + "/pwned`$(id)@x.org"
        q = self.env.queue_file(sender, ["team@host"], CONTENT)
        reply = self.env.deliver(q)
        self.assertEqual(reply[0][:3], ("sent", "2.0.0", "local"))
        self.assertTrue(self.env.is_done(q, "team@host"))
        # The account's mailbox.
        text = read(os.path.join(self.spool, self.name))
        self.assertIn(b"\nDelivered-To: team@host\n", text)
        # The file, written as default_privs.
        team = os.path.join(self.out, "team.mbox")
        self.assertIn(b">From the start\n", read(team))
        self.assertEqual(os.stat(team).st_uid, self.nobody.pw_uid)
        self.assertIn(b"Subject: test", read(os.path.join(self.out,
                                                          "inc.mbox")))
        # The command: message on stdin, envelope only in the environment.
        cmd = read(os.path.join(self.out, "cmd.txt"))
        self.assertTrue(cmd.startswith(b"From "), cmd[:40])
        self.assertIn(b"\nReturn-Path: <", cmd)
        self.assertIn(b"\n\nFrom the start\n", cmd)
        env = dict(line.split("=", 1) for line in
                   read(os.path.join(self.out, "env.txt"), "r").splitlines()
                   if "=" in line)
        self.assertEqual(env["SENDER"], sender)
        self.assertEqual(env["RECIPIENT"], "team@host")
        self.assertEqual(env["LOCAL"], "team")
        self.assertEqual(env["DOMAIN"], "host")
        self.assertEqual(env["USER"], self.nobody.pw_name)
        self.assertFalse(os.path.exists(os.path.join(self.out, "pwned")))
        self.assertEqual(os.stat(os.path.join(self.out, "cmd.txt")).st_uid,
                         self.nobody.pw_uid)
        # The remote address: forwarded in a new queue file.
        incoming = os.listdir(os.path.join(self.env.queue, "incoming"))
        self.assertEqual(len(incoming), 1)
        fwd_path = os.path.join(self.env.queue, "incoming", incoming[0])
        # Owned by mail_owner, so that qmgr can take it.
        self.assertEqual(os.stat(fwd_path).st_uid,
                         pwd.getpwnam(self.env.settings.get(
                             "mail_owner", self.user.pw_name)).pw_uid)
        fwd = read(fwd_path)
        self.assertIn(b"remote@example.net", fwd)
        self.assertIn(b"Delivered-To: team@host\nFrom: Sender", fwd)
        log = self.env.log_text()
        self.assertRegex(log, rf"to=<{self.name}@host>, orig_to=<team@host>, "
                              r"relay=local, .*status=sent \(delivered to "
                              r"mailbox\)")
        self.assertRegex(log, r"to=<remote@example.net>, orig_to=<team@host>"
                              rf".*status=sent \(forwarded as {incoming[0]}\)")

    def test_alias_self_reference(self):
        self.write_aliases(f"{self.name}: {self.name}, {self.out}/copy.mbox\n"
                           f"a1: a2\na2: a1\n")
        self.start()
        q = self.env.queue_file("s@x.org", [f"{self.name}@host"], CONTENT)
        self.assertEqual(self.env.deliver(q)[0][0], "sent")
        self.assertTrue(os.path.exists(os.path.join(self.spool, self.name)))
        self.assertTrue(os.path.exists(os.path.join(self.out, "copy.mbox")))
        # a1 -> a2 -> a1: a loop that names no account bounces.
        q = self.env.queue_file("s@x.org", ["a1@host"], CONTENT)
        self.assertEqual(self.env.deliver(q)[0][:2], ("bounced", "5.1.1"))

    def test_command_exit_codes(self):
        self.write_aliases(
            "tf: \"|/bin/sh -c 'exit 75'\"\n"
            "nu: \"|/bin/sh -c 'echo no such mailbox; exit 67'\"\n"
            "ok: |/bin/true\n")
        self.start()
        q = self.env.queue_file("s@x.org", ["tf@host", "nu@host", "ok@host"],
                                CONTENT)
        reply = self.env.deliver(q)
        self.assertEqual(reply[0][:2], ("deferred", "4.3.0"))
        self.assertEqual(reply[1][:2], ("bounced", "5.1.1"))
        self.assertIn("no such mailbox", reply[1][3])
        self.assertEqual(reply[2][:2], ("sent", "2.0.0"))
        self.assertEqual(reply[2][3], "delivered to command: /bin/true")
        self.assertFalse(self.env.is_done(q, "tf@host"))
        self.assertTrue(self.env.is_done(q, "ok@host"))

    def test_command_time_limit_int_max(self):
        # command_time_limit at INT_MAX seconds: the wait for the pipe
        # must not overflow into "timed out at once". The message is
        # larger than a pipe buffer, so the agent waits for the command.
        self.write_aliases(f"big: \"|/bin/sh -c 'cat > {self.out}/big'\"\n")
        self.start(command_time_limit="2147483647s")
        body = b"x" * 70 + b"\n"
        content = CONTENT + body * 4000
        q = self.env.queue_file("s@x.org", ["big@host"], content)
        reply = self.env.deliver(q)
        self.assertEqual(reply[0][:2], ("sent", "2.0.0"), reply)
        self.assertIn(body * 4000, read(os.path.join(self.out, "big")))

    def test_command_sees_no_descriptor_of_ours(self):
        # The agent holds a descriptor numbered high (above the 1024 a
        # close loop might stop at); the command must see only 0-2.
        high = 1500
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard != resource.RLIM_INFINITY and hard <= high:
            self.skipTest(f"descriptor limit {hard} too low")
        if soft != resource.RLIM_INFINITY and soft <= high:
            resource.setrlimit(resource.RLIMIT_NOFILE, (high + 1, hard))
            self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE,
                            (soft, hard))
        fd = os.open(self.env.path("etc", "main.cf"), os.O_RDONLY)
        os.dup2(fd, high, inheritable=True)
        os.close(fd)
        self.addCleanup(os.close, high)
        self.env.pass_fds = (high,)
        listing = os.path.join(self.out, "fds.txt")
        # ls opens /proc/self/fd itself, as the lowest free number: 3.
        self.write_aliases(
            f"fds: \"|/bin/sh -c 'ls /proc/self/fd > {listing}'\"\n")
        self.start()
        q = self.env.queue_file("s@x.org", ["fds@host"], CONTENT)
        self.assertEqual(self.env.deliver(q)[0][0], "sent")
        seen = sorted(int(n) for n in read(listing, "r").split())
        self.assertEqual(seen, [0, 1, 2, 3])

    def test_command_refused_under_a_mixed_identity(self):
        # Not root, but not one identity either: real uid nobody,
        # effective and saved uid daemon. There is nothing a drop can do,
        # and the command must not run as daemon (the effective id) when
        # the delivery is meant to run as the real user: it is refused
        # and the delivery deferred, not run.
        if not is_root():
            self.skipTest("needs root to start the agent as two users")
        daemon = pwd.getpwnam("daemon")
        nobody = self.nobody
        ran = os.path.join(self.out, "ran.txt")
        self.write_aliases(f"cmd: \"|/bin/sh -c 'id -u > {ran}'\"\n")
        for top, dirs, files in os.walk(self.env.root):
            for name in dirs + files:
                os.lchown(os.path.join(top, name), daemon.pw_uid,
                          daemon.pw_gid)
        os.chown(self.env.root, daemon.pw_uid, daemon.pw_gid)

        def mixed_identity():
            os.setgroups([])
            os.setresgid(daemon.pw_gid, daemon.pw_gid, daemon.pw_gid)
            os.setresuid(nobody.pw_uid, daemon.pw_uid, daemon.pw_uid)
        self.env.preexec = mixed_identity
        self.start()
        q = self.env.queue_file("s@x.org", ["cmd@host"], CONTENT)
        for top, dirs, files in os.walk(self.env.queue):
            for name in dirs + files:
                os.lchown(os.path.join(top, name), daemon.pw_uid,
                          daemon.pw_gid)
        reply = self.env.deliver(q)
        self.assertEqual(reply[0][:2], ("deferred", "4.3.0"), reply)
        self.assertFalse(os.path.exists(ran), "the command ran")
        self.assertIn("cannot drop privileges", self.env.log_text() +
                      reply[0][3])

    def test_restricted_commands_and_files(self):
        include = self.env.path("etc", "inc")
        with open(include, "w") as f:
            f.write("|/bin/true\n")
        self.write_aliases(f"c: |/bin/true\nf: {self.out}/f.mbox\n"
                           f"i: :include:{include}\n")
        self.start(allow_mail_to_commands="forward",
                   allow_mail_to_files="forward")
        q = self.env.queue_file("s@x.org", ["c@host", "f@host"], CONTENT)
        reply = self.env.deliver(q)
        self.assertEqual(reply[0][:2], ("bounced", "5.7.1"))
        self.assertEqual(reply[0][3], "mail to command is restricted")
        self.assertEqual(reply[1][3], "mail to file is restricted")
        # By default, commands in :include: files are refused too.
        self.env.restart(allow_mail_to_commands="alias, forward")
        q = self.env.queue_file("s@x.org", ["i@host", "c@host"], CONTENT)
        reply = self.env.deliver(q)
        self.assertEqual(reply[0][:2], ("bounced", "5.7.1"))
        self.assertEqual(reply[1][:2], ("sent", "2.0.0"))

    def test_duplicates_delivered_once(self):
        self.write_aliases(f"d: {self.name}, {self.name}, \\{self.name}, "
                           f"{self.out}/d.mbox, {self.out}/d.mbox\n")
        self.start()
        q = self.env.queue_file("s@x.org", ["d@host"], CONTENT)
        self.assertEqual(self.env.deliver(q)[0][0], "sent")
        self.assertEqual(read(os.path.join(self.spool, self.name))
                         .count(b"\nSubject: test\n"), 1)
        self.assertEqual(read(os.path.join(self.out, "d.mbox"))
                         .count(b"\nSubject: test\n"), 1)

    def test_alias_table_error_defers(self):
        self.start(alias_maps=f"hash:{self.env.path('etc', 'missing')}")
        q = self.env.queue_file("s@x.org", [f"{self.name}@host"], CONTENT)
        self.assertEqual(self.env.deliver(q)[0][:2], ("deferred", "4.3.0"))

    def test_mailbox_command(self):
        self.start(mailbox_command=f"/bin/sh -c 'cat > {self.out}/mc-$user-"
                                   f"$extension.txt; echo $EXTENSION > "
                                   f"{self.out}/ext.txt'")
        q = self.env.queue_file("s@x.org", [f"{self.name}+box@host"],
                                CONTENT)
        reply = self.env.deliver(q)
        self.assertEqual(reply[0][0], "sent", reply)
        path = os.path.join(self.out, f"mc-{self.name}-box.txt")
        self.assertIn(b"Subject: test", read(path))
        self.assertEqual(read(os.path.join(self.out, "ext.txt")), b"box\n")
        if is_root():
            self.assertEqual(os.stat(path).st_uid, self.user.pw_uid)

    def test_home_mailbox_maildir(self):
        if not is_root():
            self.skipTest("needs root: writes into a test account's home")
        self.start(home_mailbox="Maildir/")
        q = self.env.queue_file("s@x.org", [f"{self.name}@host"], CONTENT)
        self.assertEqual(self.env.deliver(q), [
            ("sent", "2.0.0", "local", "delivered to maildir")])
        files = maildir_files(os.path.join(self.user.pw_dir, "Maildir"))
        self.assertEqual(len(files), 1)
        self.assertEqual(read(files[0]),
                         b"Return-Path: <s@x.org>\n"
                         + f"Delivered-To: {self.name}@host\n".encode()
                         + CONTENT)
        self.assertEqual(os.stat(files[0]).st_uid, self.user.pw_uid)

    def test_forward(self):
        if not is_root():
            self.skipTest("needs root: writes .forward into a test "
                          "account's home")
        home = self.user.pw_dir
        with open(os.path.join(home, ".forward"), "w") as f:
            f.write(f"\\{self.name}, \"|/bin/sh -c 'id -u > {self.out}/"
                    f"fwd-uid.txt; cat > {self.out}/fwd.txt'\"\n")
        with open(os.path.join(home, ".forward+list"), "w") as f:
            f.write(f"{self.out}/list.mbox\n")
        for name in (".forward", ".forward+list"):
            os.chown(os.path.join(home, name), self.user.pw_uid,
                     self.user.pw_gid)
        self.start()
        q = self.env.queue_file("s@x.org", [f"{self.name}@host",
                                            f"{self.name}+list@host"],
                                CONTENT)
        reply = self.env.deliver(q)
        self.assertEqual([r[0] for r in reply], ["sent", "sent"], reply)
        self.assertTrue(os.path.exists(os.path.join(self.spool, self.name)))
        # The command ran as the recipient, not as root or default_privs.
        self.assertEqual(read(os.path.join(self.out, "fwd-uid.txt"), "r"),
                         f"{self.user.pw_uid}\n")
        list_mbox = os.path.join(self.out, "list.mbox")
        self.assertEqual(os.stat(list_mbox).st_uid, self.user.pw_uid)
        # A .forward that someone else owns is ignored.
        os.chown(os.path.join(home, ".forward+list"), self.nobody.pw_uid, 0)
        q = self.env.queue_file("s@x.org", [f"{self.name}+list@host"],
                                CONTENT)
        self.assertEqual(self.env.deliver(q)[0][3], "delivered to mailbox")
        # Commands in .forward can be forbidden.
        self.env.restart(allow_mail_to_commands="alias")
        q = self.env.queue_file("s@x.org", [f"{self.name}@host"], CONTENT)
        reply = self.env.deliver(q)
        self.assertEqual(reply[0][:2], ("bounced", "5.7.1"))


    def test_forward_path_recipient_names(self):
        # $domain and $local in forward_path are the recipient's, as in
        # Postfix's local: per-domain .forward files work.
        if not is_root():
            self.skipTest("needs root: writes .forward into a test "
                          "account's home")
        home = self.user.pw_dir
        path = os.path.join(home, f".forward-{self.name}-host")
        with open(path, "w") as f:
            f.write(f"{self.out}/perdomain.mbox\n")
        os.chown(path, self.user.pw_uid, self.user.pw_gid)
        self.start(forward_path="$home/.forward-$local-$domain")
        q = self.env.queue_file("s@x.org", [f"{self.name}@host"], CONTENT)
        reply = self.env.deliver(q)
        self.assertEqual(reply[0][0], "sent", reply)
        self.assertIn(b"Subject: test",
                      read(os.path.join(self.out, "perdomain.mbox")))

class AliasToolsTest(unittest.TestCase):
    def setUp(self):
        self.env = AgentEnv(self, "local", start=False)
        self.aliases = self.env.path("etc", "aliases")
        self.env.settings["alias_database"] = f"hash:{self.aliases}"
        self.env.write_main_cf()

    def run_tool(self, *args):
        return subprocess.run(list(args), capture_output=True, text=True)

    def test_newaliases_and_postalias(self):
        with open(self.aliases, "w") as f:
            f.write("# comment\nPostmaster: root\n\"john doe\": john,\n"
                    "  \"|/usr/bin/vacation john\"\n")
        proc = self.run_tool(prog("tools", "newaliases"), "-c", self.env.etc)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertTrue(os.path.exists(self.aliases + ".db"))
        proc = self.run_tool(prog("tools", "postalias"), "-c", self.env.etc,
                             "-q", "POSTMASTER", f"hash:{self.aliases}")
        self.assertEqual((proc.returncode, proc.stdout), (0, "root\n"))
        # sendmail -bi runs newaliases from command_directory.
        os.unlink(self.aliases + ".db")
        self.env.settings["command_directory"] = prog("tools")
        self.env.write_main_cf()
        proc = self.run_tool(prog("tools", "sendmail"), "-C", self.env.etc,
                             "-bi")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        proc = self.run_tool(prog("tools", "postalias"), "-c", self.env.etc,
                             "-q", "POSTMASTER", f"hash:{self.aliases}")
        self.assertEqual((proc.returncode, proc.stdout), (0, "root\n"))
        proc = self.run_tool(prog("tools", "postalias"), "-c", self.env.etc,
                             "-q", "john doe", f"hash:{self.aliases}")
        self.assertEqual(proc.stdout, "john, \"|/usr/bin/vacation john\"\n")
        proc = self.run_tool(prog("tools", "postalias"), "-c", self.env.etc,
                             "-q", "nobody-here", f"hash:{self.aliases}")
        self.assertEqual(proc.returncode, 1)
        # A malformed line: one clear error naming file and line, and the
        # old table stays.
        with open(self.aliases, "a") as f:
            f.write("no colon here\n")
        proc = self.run_tool(prog("tools", "newaliases"), "-c", self.env.etc)
        self.assertEqual(proc.returncode, 2)
        self.assertRegex(proc.stderr, re.escape(self.aliases)
                         + r", line 5: need name:value pair")
        proc = self.run_tool(prog("tools", "postalias"), "-c", self.env.etc,
                             "-q", "postmaster", f"hash:{self.aliases}")
        self.assertEqual(proc.stdout, "root\n")
        proc = self.run_tool(prog("tools", "postalias"), "-c", self.env.etc,
                             "-s", f"hash:{self.aliases}")
        self.assertIn("postmaster: root\n", proc.stdout)


if __name__ == "__main__":
    unittest.main()
