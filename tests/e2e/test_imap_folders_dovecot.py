"""test_imap_folders_dovecot.py: our folder list, subscriptions and LIST
answers against Debian's Dovecot 2.3 on the same Maildirs.

The same IMAP commands go to Dovecot's imap binary (run preauthenticated
on stdin, with a private configuration, never the system service) and
to tests/helpers/imap_folders, which answers them with lib/storage's
mailbox_list, subscriptions and list_command. Both ways:

  - a tree built by Dovecot (CREATE, SUBSCRIBE, DELETE) is listed by
    both: we read Dovecot's directories and its subscriptions file;
  - a tree built by us is listed by both: Dovecot reads ours.

For every query the untagged lines must be the same set (Dovecot
answers in the order of its list index, we in name order) and the
tagged result the same word; where Dovecot gives a response code, ours
must be the same. Separators '/' and '.' are both run. The deliberate
differences (docs/imap-folders.md) are not in the script: RENAME INBOX,
and DELETE of a folder whose children stay, which Dovecot's list index
then still shows as selectable.

Skips when dovecot-imapd is missing, or when run as root without a
`nobody` account to run both sides as (Dovecot refuses root).
"""
import os
import pwd
import shutil
import subprocess
import tempfile
import unittest

BUILDDIR = os.environ.get("POSTERN_BUILDDIR",
                          os.path.join(os.path.dirname(__file__), "..", ".."))
HELPER = os.path.abspath(os.path.join(BUILDDIR, "tests", "helpers", "imap_folders"))
DOVECOT_IMAP = "/usr/lib/dovecot/imap"

SPECIAL = {"sent": "Sent", "drafts": "Drafts", "trash": "Trash", "junk": "Junk"}


def setup_script(s, other):
    return [
        f"CREATE INBOX{s}sub", "CREATE Sent", f"CREATE Sent{s}x",
        f"CREATE a{s}b{s}c", "CREATE Drafts", "CREATE Trash", "CREATE Zed",
        "CREATE &AMQ-rger", 'CREATE "sp ace"', f"CREATE gone{s}x",
        "SUBSCRIBE INBOX", "SUBSCRIBE Sent", f"SUBSCRIBE Sent{s}x",
        f"SUBSCRIBE a{s}b{s}c", f"SUBSCRIBE gone{s}x", "SUBSCRIBE &AMQ-rger",
        f"DELETE gone{s}x",
        # name checks and refusals
        f"CREATE x{s}", f"CREATE y{s}{s}z", f"CREATE {s}lead", "CREATE ~home",
        "CREATE Sent", "CREATE inbox", f"CREATE b{other}c", "DELETE INBOX",
        "DELETE nonexist", "DELETE a", "RENAME Zed Zed",
        f"RENAME a{s}b{s}c a{s}b{s}c{s}d", "RENAME nonexist foo",
        "RENAME Zed Sent", f"RENAME x Renamed{s}deep", "SUBSCRIBE nonexist",
        f"UNSUBSCRIBE Sent{s}x", f"SUBSCRIBE Sent{s}x",
        'CREATE "a%b"', 'CREATE "t\\"q"', f"CREATE m{s}n", f"RENAME m q{s}r",
        f"CREATE INBOX{s}kid", f"RENAME INBOX{s}kid Kid", "CREATE k",
        f"CREATE k{s}l", "DELETE k", "CREATE k", "DELETE Kid", "DELETE Kid",
    ]


def query_script(s):
    return [
        'LIST "" *', 'LIST "" %', 'LIST "" INBOX*', f'LIST "a{s}" %',
        'LIST "" inbox', 'LIST "" ""', f'LIST "a{s}b" ""', 'LSUB "" *',
        'LSUB "" %', f'LSUB "" a{s}%', 'LIST (SUBSCRIBED) "" *',
        'LIST (SUBSCRIBED RECURSIVEMATCH) "" % RETURN (CHILDREN)',
        'LIST (SUBSCRIBED RECURSIVEMATCH) "" *',
        'LIST "" % RETURN (CHILDREN SUBSCRIBED SPECIAL-USE)',
        'LIST (SPECIAL-USE) "" *', 'LIST "" * RETURN (SPECIAL-USE)',
        f'LIST "" (INBOX Sent a{s}% Zed) RETURN ()',
        'LIST "" % RETURN (STATUS (MESSAGES UNSEEN))',
        f'LIST "" Renamed{s}*', 'LIST (RECURSIVEMATCH) "" %',
        'LIST (FOO) "" %', 'LIST () "" ""', 'LIST "" Sent',
        'LIST "" * RETURN (SUBSCRIBED)', 'LSUB "" S*', 'LIST "" "*b"',
        f'LIST "" q{s}*', 'LIST "" k*', f'LIST "" %{s}%', 'LIST "" *X*',
    ]


def responses(output, count):
    """Splits an IMAP transcript into [(sorted untagged lines, tagged)]
    for the commands t1..tN."""
    result = {}
    untagged = []
    for line in output.replace("\r\n", "\n").split("\n"):
        if line.startswith("* "):
            if not line.startswith(("* PREAUTH", "* BYE", "* OK", "* NO")):
                untagged.append(line)
            continue
        tag = line.split(" ", 1)[0]
        if tag.startswith("t") and tag[1:].isdigit():
            result[int(tag[1:])] = (sorted(untagged), line.split(" ", 1)[1])
            untagged = []
    return [result.get(i + 1, ([], "(no answer)")) for i in range(count)]


def status_word_and_code(tagged):
    words = tagged.split(" ")
    code = words[1] if len(words) > 1 and words[1].startswith("[") else None
    return words[0], code


class FoldersAgainstDovecot(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.access(DOVECOT_IMAP, os.X_OK):
            raise unittest.SkipTest("dovecot-imapd missing: scripts/install-deps installs it")
        if not os.access(HELPER, os.X_OK):
            raise unittest.SkipTest("tests/helpers/imap_folders not built")
        cls.as_user = []
        if os.geteuid() == 0:
            try:
                nobody = pwd.getpwnam("nobody")
            except KeyError:
                raise unittest.SkipTest("running as root and no nobody account: Dovecot refuses root")
            cls.uid, cls.gid = nobody.pw_uid, nobody.pw_gid
            cls.as_user = ["setpriv", f"--reuid={cls.uid}", f"--regid={cls.gid}",
                           "--clear-groups"]
        else:
            cls.uid, cls.gid = os.getuid(), os.getgid()

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="postern-folders-")
        os.chmod(self.dir, 0o755)
        self.addCleanup(shutil.rmtree, self.dir, True)

    def own(self, path):
        for dirpath, dirnames, filenames in os.walk(path):
            os.chown(dirpath, self.uid, self.gid)
            for name in filenames:
                os.chown(os.path.join(dirpath, name), self.uid, self.gid)

    def dovecot_conf(self, name, maildir, sep):
        base = os.path.join(self.dir, name)
        for sub in ("run", "state"):
            os.makedirs(os.path.join(base, sub), exist_ok=True)
        mailboxes = "".join(
            f"  mailbox {folder} {{\n    special_use = \\{use.capitalize()}\n  }}\n"
            for use, folder in SPECIAL.items())
        conf = os.path.join(base, "dovecot.conf")
        with open(conf, "w") as f:
            f.write(f"base_dir = {base}/run\nstate_dir = {base}/state\n"
                    f"log_path = {base}/log\nmail_location = maildir:{maildir}\n"
                    f"ssl = no\nfirst_valid_uid = 1\nfirst_valid_gid = 1\n"
                    f"namespace inbox {{\n  inbox = yes\n  separator = {sep}\n"
                    f"{mailboxes}}}\n")
        self.own(base)
        return conf

    def run_side(self, side, maildir, sep, commands):
        script = "".join(f"t{i + 1} {c}\r\n" for i, c in enumerate(commands))
        script += "z LOGOUT\r\n"
        env = {"HOME": self.dir, "USER": pwd.getpwuid(self.uid).pw_name,
               "PATH": "/usr/bin:/bin"}
        if side == "dovecot":
            argv = [DOVECOT_IMAP, "-c", self.dovecot_conf("dovecot", maildir, sep)]
        else:
            argv = [HELPER, maildir, sep] + [f"{u}={n}" for u, n in SPECIAL.items()]
        proc = subprocess.run(self.as_user + argv, input=script.encode(),
                              capture_output=True, timeout=60, env=env)
        out = proc.stdout.decode("utf-8", "replace")
        self.assertIn("z OK", out, f"{side} did not finish: {out}\n{proc.stderr!r}")
        return responses(out, len(commands))

    def add_messages(self, maildir):
        for rel in ("cur/1.M1P1.host:2,S", "new/2.M2P1.host",
                    ".Sent/cur/3.M3P1.host:2,"):
            with open(os.path.join(maildir, rel), "w") as f:
                f.write("Subject: x\n\nbody\n")
        self.own(maildir)

    def compare(self, commands, ours, theirs, what):
        for command, (our_lines, our_tagged), (dc_lines, dc_tagged) in zip(
                commands, ours, theirs):
            with self.subTest(what=what, command=command):
                self.assertEqual(our_lines, dc_lines)
                our_word, our_code = status_word_and_code(our_tagged)
                dc_word, dc_code = status_word_and_code(dc_tagged)
                self.assertEqual(our_word, dc_word, f"ours: {our_tagged} dovecot: {dc_tagged}")
                if dc_code:
                    self.assertEqual(our_code, dc_code, f"ours: {our_tagged} dovecot: {dc_tagged}")

    def one_separator(self, sep):
        other = "." if sep == "/" else "/"
        setup, queries = setup_script(sep, other), query_script(sep)
        built = {}
        for builder in ("dovecot", "ours"):
            maildir = os.path.join(self.dir, f"{builder}-{'slash' if sep == '/' else 'dot'}")
            os.mkdir(maildir)
            self.own(maildir)
            built[builder] = self.run_side(builder, maildir, sep, setup)
            self.add_messages(maildir)
            answers = {side: self.run_side(side, maildir, sep, queries)
                       for side in ("dovecot", "ours")}
            self.compare(queries, answers["ours"], answers["dovecot"],
                         f"tree built by {builder}, separator {sep}")
        self.compare(setup, built["ours"], built["dovecot"],
                     f"building the tree, separator {sep}")

    def test_slash_separator(self):
        self.one_separator("/")

    def test_dot_separator(self):
        self.one_separator(".")

    def test_dovecot_reads_our_subscriptions_file(self):
        maildir = os.path.join(self.dir, "subs")
        os.mkdir(maildir)
        self.own(maildir)
        self.run_side("ours", maildir, "/", [
            "CREATE Lists/postern", "CREATE &AMQ-rger", "SUBSCRIBE Lists/postern",
            "SUBSCRIBE &AMQ-rger", "SUBSCRIBE INBOX", "UNSUBSCRIBE INBOX"])
        with open(os.path.join(maildir, "subscriptions"), "rb") as f:
            self.assertEqual(f.read(), b"V\t2\n\nLists\tpostern\n&AMQ-rger\n")
        (lines, tagged), = self.run_side("dovecot", maildir, "/", ['LSUB "" *'])
        self.assertEqual(lines, ['* LSUB () "/" &AMQ-rger',
                                 '* LSUB () "/" Lists/postern'])


if __name__ == "__main__":
    unittest.main()
