"""lmtpd_util.py: a Postern instance whose master runs lmtpd, for
test_lmtpd.py and test_lmtpd_postfix.py.

    env = LmtpdEnv(self)               # cleans up itself
    conn = env.lmtp()                  # smtplib.LMTP on private/lmtp-in
    conn = env.lmtp(tcp=True)          # ... on 127.0.0.1:PORT
    replies = lmtp_transaction(conn, "s@x.org", ["a@ex.org"], body)

The virtual mailboxes: a@ex.org, b@ex.org and c@ex.org are Maildirs
below env.base (ex.org/a/ ...), owned by a test account when run as root
(by the invoking user otherwise)."""
import os
import pwd
import smtplib

from agentlib import ensure_user, is_root, maildir_files, read
from instance import Instance

SERVICE = "lmtp-in"
USERS = ("a", "b", "c")


class LmtpdEnv:
    def __init__(self, testcase, main_cf=None, start=True):
        self.inst = Instance(testcase)
        root = self.inst.root
        self.base = os.path.join(root, "vmail")
        os.makedirs(self.base)
        if is_root():
            self.user = ensure_user("pt-vmail", os.path.join(root, "vhome"))
            os.chown(self.base, self.user.pw_uid, self.user.pw_gid)
        else:
            self.user = pwd.getpwuid(os.getuid())
        self.spool_dir = os.path.join(root, "lmtp-tmp")
        os.makedirs(self.spool_dir, mode=0o700)
        boxes = ", ".join(f"{u}@ex.org=ex.org/{u}/" for u in USERS)
        self.inst.main_params.update({
            "myhostname": "lmtp.example.test",
            "virtual_mailbox_base": self.base,
            "virtual_mailbox_maps": f"inline:{{ {boxes} }}",
            "virtual_uid_maps": f"static:{self.user.pw_uid}",
            "virtual_gid_maps": f"static:{self.user.pw_gid}",
            "virtual_minimum_uid": "1",
            "recipient_delimiter": "+",
            "lmtpd_temp_directory": self.spool_dir,
        })
        self.inst.main_params.update(main_cf or {})
        self.inst.write_main_cf()
        self.port = self.inst.free_port()
        text = self.inst.service("qmgr", "unix", "qmgr", private="n",
                                 wakeup=300, maxproc=1)
        text += self.inst.service(SERVICE, "unix", "lmtpd", unpriv="n")
        text += self.inst.service(f"127.0.0.1:{self.port}", "inet", "lmtpd",
                                  private="n", unpriv="n")
        self.inst.write_master_cf(text)
        self.socket = os.path.join(self.inst.queue, "private", SERVICE)
        if start:
            self.start()

    def start(self):
        self.inst.start()
        self.inst.wait_until(lambda: os.path.exists(self.socket),
                             what="lmtpd's socket")

    def restart(self, **params):
        self.inst.stop()
        self.inst.write_main_cf(params)
        self.start()

    def lmtp(self, tcp=False, timeout=30):
        if tcp:
            return smtplib.LMTP("127.0.0.1", self.port, timeout=timeout)
        conn = smtplib.LMTP(self.socket, timeout=timeout)
        return conn

    def mailbox(self, user):
        return os.path.join(self.base, "ex.org", user)

    def messages(self, user):
        """The contents of user's messages in new/, oldest name first."""
        return [read(p) for p in maildir_files(self.mailbox(user))]


def lmtp_transaction(conn, sender, rcpts, body, lhlo="client.example.test"):
    """One LMTP transaction: (rcpt replies, data replies). The data
    replies are one per accepted recipient (RFC 2033), each (code, text);
    smtplib's own sendmail reads only the first, so the rest are read
    here."""
    if conn.ehlo_resp is None:
        code, _ = conn.ehlo(lhlo)
        assert code == 250, code
    code, text = conn.mail(sender)
    assert code == 250, (code, text)
    rcpt_replies = [conn.rcpt(r) for r in rcpts]
    accepted = sum(1 for code, _ in rcpt_replies if code == 250)
    if accepted == 0:
        return rcpt_replies, []
    data_replies = [conn.data(body)]
    for _ in range(accepted - 1):
        data_replies.append(conn.getreply())
    return rcpt_replies, data_replies
