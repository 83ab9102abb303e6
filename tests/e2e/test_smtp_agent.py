"""test_smtp_agent.py: the smtp and lmtp delivery agent (smtp/), driven
directly over its socket with deliver/1 requests as qmgr sends them
(agentlib.py), against a scripted receiver (smtp_receiver.py): one
transaction per request for all its recipients, each recipient's own
outcome and Postfix-shaped log line, connection refused, connection
reuse with RSET and the retry of a broken kept connection, and LMTP over
TCP and a unix socket with one reply per recipient."""
import os
import re
import time
import unittest

from agentlib import AgentEnv, prog
from dns_util import TEST_ZONE, Blackhole, Dnsmasq, dnsmasq_path
from instance import free_port
from smtp_receiver import Receiver

CONTENT = (b"From: Sender <s@x.org>\r\nTo: a@ex.org\r\nSubject: test\r\n\r\n"
           b"Hello\r\n.leading dot\r\n")


def have_programs():
    return all(os.access(prog(*p), os.X_OK)
               for p in (("smtp", "smtp"), ("tests", "helpers", "deliver_call"),
                         ("tests", "helpers", "agent_qfile")))


def status_line(env, qinfo, rcpt):
    line = env.log_line(qinfo, rcpt)
    if line is None:
        raise AssertionError(f"no status line for {rcpt}:\n{env.log_text()}")
    return line


@unittest.skipUnless(have_programs(), "smtp or the agent test helpers not built")
class SmtpAgentTest(unittest.TestCase):
    def setUp(self):
        self.rx = Receiver(self)
        self.env = AgentEnv(self, "smtp", main_cf={
            "myhostname": "client.test",
            "smtp_connect_timeout": "5s",
        })
        self.nexthop = f"[127.0.0.1]:{self.rx.port}"
        self.relay = f"127.0.0.1[127.0.0.1]:{self.rx.port}"

    def deliver(self, q, **kw):
        return self.env.deliver(q, transport="smtp", nexthop=self.nexthop, **kw)

    def test_one_transaction_for_all_recipients(self):
        rcpts = ["a@ex.org", "b@ex.org", "c@ex.org"]
        q = self.env.queue_file("s@x.org", rcpts, CONTENT)
        reply = self.deliver(q)
        self.assertEqual([r[0] for r in reply], ["sent"] * 3, reply)
        self.assertEqual(self.rx.connections, 1)
        self.assertEqual(len(self.rx.transactions), 1)
        txn = self.rx.transactions[0]
        self.assertEqual(txn["rcpts"], rcpts)
        self.assertTrue(txn["sender"].startswith("MAIL FROM:<s@x.org>"))
        self.assertEqual(txn["data"], CONTENT)
        self.assertEqual(self.rx.command_names().count("MAIL"), 1)
        for addr in rcpts:
            self.assertTrue(self.env.is_done(q, addr))
            line = status_line(self.env, q, addr)
            self.assertRegex(
                line,
                rf"postern/smtp\[\d+\]: {q['qid']}: to=<{re.escape(addr)}>, "
                rf"relay={re.escape(self.relay)}, delay=[\d.]+, "
                r"delays=[\d.]+/[\d.]+/[\d.]+/[\d.]+, dsn=2\.0\.0, "
                r"status=sent \(250 2\.0\.0 Ok: queued as RX1\)$")

    def test_each_recipient_its_own_outcome(self):
        def rcpt_reply(addr):
            if addr.startswith("bad"):
                return f"550 5.1.1 <{addr}>: Recipient address rejected"
            if addr.startswith("later"):
                return "450 4.2.0 <%s>: Recipient address rejected: " \
                       "Greylisted" % addr
            return "250 2.1.5 Ok"
        self.rx.rcpt_reply = rcpt_reply
        q = self.env.queue_file("s@x.org", ["good@ex.org", "bad@ex.org",
                                            "later@ex.org"], CONTENT)
        reply = self.deliver(q)
        self.assertEqual([r[0] for r in reply], ["sent", "bounced", "deferred"])
        self.assertEqual([r[1] for r in reply], ["2.0.0", "5.1.1", "4.2.0"])
        self.assertEqual(self.env.hops, [])  # ok: greylisting is no rate limit
        self.assertTrue(self.env.is_done(q, "good@ex.org"))
        self.assertFalse(self.env.is_done(q, "bad@ex.org"))
        self.assertFalse(self.env.is_done(q, "later@ex.org"))
        self.assertEqual(self.rx.transactions[0]["accepted"], ["good@ex.org"])
        self.assertRegex(
            status_line(self.env, q, "bad@ex.org"),
            rf"relay={re.escape(self.relay)}, .*dsn=5\.1\.1, status=bounced "
            r"\(host 127\.0\.0\.1\[127\.0\.0\.1\] said: 550 5\.1\.1 "
            r"<bad@ex\.org>: Recipient address rejected \(in reply to RCPT "
            r"TO command\)\)$")
        self.assertRegex(
            status_line(self.env, q, "later@ex.org"),
            r"dsn=4\.2\.0, status=deferred \(host 127\.0\.0\.1\[127\.0\.0\.1\] "
            r"said: 450 4\.2\.0 <later@ex\.org>: Recipient address rejected: "
            r"Greylisted \(in reply to RCPT TO command\)\)$")

    def test_connection_refused_defers(self):
        port = free_port()
        q = self.env.queue_file("s@x.org", ["a@ex.org", "b@ex.org"], CONTENT)
        reply = self.env.deliver(q, transport="smtp",
                                 nexthop=f"[127.0.0.1]:{port}")
        self.assertEqual([r[0] for r in reply], ["deferred", "deferred"])
        self.assertEqual(reply[0][1], "4.4.1")
        self.assertEqual(self.env.hops, ["failed"])  # qmgr's feedback
        self.assertRegex(
            status_line(self.env, q, "a@ex.org"),
            rf"relay=none, delay=[\d.]+, delays=[\d.]+/[\d.]+/[\d.]+/[\d.]+, "
            rf"dsn=4\.4\.1, status=deferred \(connect to "
            rf"127\.0\.0\.1\[127\.0\.0\.1\]:{port}: Connection refused\)$")

    def test_refused_greeting_defers(self):
        self.rx.greeting = "421 4.3.2 rx.test Service not available"
        q = self.env.queue_file("s@x.org", ["a@ex.org"], CONTENT)
        reply = self.deliver(q)
        self.assertEqual(reply[0][0], "deferred")
        self.assertIn("421 4.3.2 rx.test Service not available",
                      status_line(self.env, q, "a@ex.org"))

    def test_rate_limit_reply_reports_a_throttled_hop(self):
        self.rx.rcpt_reply = lambda addr: (
            "450 4.7.28 Our system has detected an unusual rate of mail "
            "from your address")
        q = self.env.queue_file("s@x.org", ["a@ex.org"], CONTENT)
        reply = self.deliver(q)
        self.assertEqual(reply[0][:2], ("deferred", "4.7.28"))
        self.assertEqual(self.env.hops, ["throttled"])

    def test_rate_limit_greeting_reports_a_throttled_hop(self):
        self.rx.greeting = "421 4.7.0 Too many connections from your host"
        q = self.env.queue_file("s@x.org", ["a@ex.org"], CONTENT)
        reply = self.deliver(q)
        self.assertEqual(reply[0][0], "deferred")
        self.assertEqual(self.env.hops, ["throttled"])

    def test_connection_reused_for_the_next_request(self):
        first = self.env.queue_file("s@x.org", ["a@ex.org"], CONTENT)
        second = self.env.queue_file("s@x.org", ["b@ex.org"], CONTENT)
        self.assertEqual(self.deliver(first)[0][0], "sent")
        self.assertEqual(self.deliver(second)[0][0], "sent")
        self.assertEqual(self.rx.connections, 1, self.rx.commands)
        self.assertEqual(len(self.rx.transactions), 2)
        names = self.rx.command_names()
        # RSET between the transactions checks the kept connection.
        self.assertEqual(names.count("RSET"), 1, names)
        self.assertLess(names.index("RSET"), len(names) - 1)
        self.assertNotIn("conn_use=", status_line(self.env, first, "a@ex.org"))
        self.assertIn(f"relay={self.relay}, conn_use=2, ",
                      status_line(self.env, second, "b@ex.org"))

    def test_idle_connection_closed_after_cache_time_limit(self):
        self.env.restart(smtp_connection_cache_time_limit="1s")
        q = self.env.queue_file("s@x.org", ["a@ex.org"], CONTENT)
        self.assertEqual(self.deliver(q)[0][0], "sent")
        deadline = time.time() + 10
        while time.time() < deadline and "QUIT" not in self.rx.command_names():
            time.sleep(0.1)
        self.assertIn("QUIT", self.rx.command_names())
        q2 = self.env.queue_file("s@x.org", ["b@ex.org"], CONTENT)
        self.assertEqual(self.deliver(q2)[0][0], "sent")
        self.assertEqual(self.rx.connections, 2)

    def test_no_reuse_when_cache_off(self):
        self.env.restart(smtp_connection_cache_on_demand="no")
        for addr in ("a@ex.org", "b@ex.org"):
            q = self.env.queue_file("s@x.org", [addr], CONTENT)
            self.assertEqual(self.deliver(q)[0][0], "sent")
        self.assertEqual(self.rx.connections, 2)
        self.assertEqual(self.rx.command_names().count("QUIT"), 2)

    def test_reuse_count_limit(self):
        self.env.restart(smtp_connection_reuse_count_limit="2")
        for addr in ("a@ex.org", "b@ex.org", "c@ex.org"):
            q = self.env.queue_file("s@x.org", [addr], CONTENT)
            self.assertEqual(self.deliver(q)[0][0], "sent")
        self.assertEqual(self.rx.connections, 2)

    def test_broken_kept_connection_is_retried_on_a_fresh_one(self):
        self.rx.close_after_txn = 1  # the server drops it after one
        first = self.env.queue_file("s@x.org", ["a@ex.org"], CONTENT)
        second = self.env.queue_file("s@x.org", ["b@ex.org"], CONTENT)
        self.assertEqual(self.deliver(first)[0][0], "sent")
        reply = self.deliver(second)
        self.assertEqual(reply[0][0], "sent", self.env.log_text())
        self.assertEqual(self.rx.connections, 2)
        self.assertEqual(len(self.rx.transactions), 2)
        self.assertNotIn("conn_use=", status_line(self.env, second, "b@ex.org"))

    def test_kept_connection_checked_by_rset_pipelined_with_mail(self):
        """The RSET that checks a kept connection goes in front of MAIL in
        one pipeline (no round trip of its own); when it is refused the
        request goes over a fresh connection, as before."""
        self.rx.rset_reply = "421 4.4.2 rx.test Error: timeout exceeded"
        first = self.env.queue_file("s@x.org", ["a@ex.org"], CONTENT)
        second = self.env.queue_file("s@x.org", ["b@ex.org"], CONTENT)
        self.assertEqual(self.deliver(first)[0][0], "sent")
        self.assertEqual(self.deliver(second)[0][0], "sent", self.env.log_text())
        self.assertEqual(self.rx.connections, 2)
        self.assertEqual([t["rcpts"] for t in self.rx.transactions],
                         [["a@ex.org"], ["b@ex.org"]])
        # MAIL was sent right behind RSET, before its 421 came back.
        deadline = time.time() + 5
        while time.time() < deadline and \
                self.rx.command_names(conn=1).count("MAIL") < 2:
            time.sleep(0.05)
        names = self.rx.command_names(conn=1)
        self.assertEqual(names[names.index("RSET"):][:2], ["RSET", "MAIL"], names)
        self.assertRegex(self.env.log_text(),
                         r"cached connection to 127\.0\.0\.1\[127\.0\.0\.1\]:"
                         rf"{self.rx.port} is gone \(host 127\.0\.0\.1\[127\.0\.0\.1\] "
                         r"said: 421 4\.4\.2 rx\.test Error: timeout exceeded "
                         r"\(in reply to RSET command\)\); trying a new connection")
        self.assertNotIn("conn_use=", status_line(self.env, second, "b@ex.org"))


# MX records for the agent's DNS tests: the best MX has an address where
# nothing listens (127.0.0.3), the second is the receiver's (127.0.0.1).
AGENT_ZONE = TEST_ZONE + [
    ("--mx-host", "agent.example,mx1.agent.example,10"),
    ("--mx-host", "agent.example,mx2.agent.example,20"),
    ("--host-record", "mx1.agent.example,127.0.0.3"),
    ("--host-record", "mx2.agent.example,127.0.0.1"),
    ("--host-record", "host.agent.example,127.0.0.1"),
]


@unittest.skipUnless(have_programs(), "smtp or the agent test helpers not built")
@unittest.skipUnless(dnsmasq_path(), "no dnsmasq (Debian package dnsmasq-base)")
class SmtpDnsTest(unittest.TestCase):
    """Domain next hops through the agent's DNS client (smtp/smtp_dns.c,
    lib/dns/targets) against dnsmasq on loopback."""

    def setUp(self):
        self.dns = Dnsmasq(AGENT_ZONE)
        self.addCleanup(self.dns.cleanup)
        self.rx = Receiver(self)

    def agent(self, server):
        return AgentEnv(self, "smtp", main_cf={
            "myhostname": "client.test",
            "smtp_connect_timeout": "5s",
            "postern_dns_servers": server,
            "postern_dns_timeout": "2s",
        })

    def test_mx_lookup_in_preference_order(self):
        env = self.agent(self.dns.server)
        q = env.queue_file("s@x.org", ["a@agent.example"], CONTENT)
        reply = env.deliver(q, transport="smtp",
                            nexthop=f"agent.example:{self.rx.port}")
        self.assertEqual(reply[0][0], "sent", reply)
        self.assertEqual(self.rx.connections, 1)
        # the best MX refused; the second took it, named as in Postfix
        self.assertIn(f"relay=mx2.agent.example[127.0.0.1]:{self.rx.port}",
                      status_line(env, q, "a@agent.example"))

    def test_bracketed_host_is_an_address_lookup(self):
        env = self.agent(self.dns.server)
        q = env.queue_file("s@x.org", ["a@agent.example"], CONTENT)
        reply = env.deliver(q, transport="smtp",
                            nexthop=f"[host.agent.example]:{self.rx.port}")
        self.assertEqual(reply[0][0], "sent", reply)

    def test_null_mx_bounces(self):
        env = self.agent(self.dns.server)
        q = env.queue_file("s@x.org", ["a@nullmx.example"], CONTENT)
        reply = env.deliver(q, transport="smtp", nexthop="nullmx.example")
        self.assertEqual(reply[0][:2], ("bounced", "5.1.0"))
        self.assertIn("Domain nullmx.example does not accept mail (nullMX)",
                      reply[0][3])
        self.assertEqual(self.rx.connections, 0)

    def test_nxdomain_bounces(self):
        env = self.agent(self.dns.server)
        q = env.queue_file("s@x.org", ["a@nosuch.example"], CONTENT)
        reply = env.deliver(q, transport="smtp", nexthop="nosuch.example")
        self.assertEqual(reply[0][0], "bounced", reply)
        self.assertIn("Host or domain name not found", reply[0][3])

    def test_unanswered_lookup_defers_as_a_failed_hop(self):
        hole = Blackhole()
        self.addCleanup(hole.cleanup)
        env = self.agent(hole.server)
        q = env.queue_file("s@x.org", ["a@agent.example"], CONTENT)
        reply = env.deliver(q, transport="smtp",
                            nexthop=f"agent.example:{self.rx.port}")
        self.assertEqual(reply[0][0], "deferred", reply)
        self.assertEqual(reply[0][1][0], "4")
        self.assertEqual(env.hops, ["failed"])
        self.assertEqual(self.rx.connections, 0)


@unittest.skipUnless(have_programs(), "smtp or the agent test helpers not built")
class SmtpNextHostTest(unittest.TestCase):
    """A next hop with several addresses (Postfix 3.5's list of
    destinations; MX hosts once DNS is in): trouble with one moves on
    to the next, within smtp_mx_address_limit and
    smtp_mx_session_limit."""

    def setUp(self):
        self.second = Receiver(self)
        self.env = AgentEnv(self, "smtp", main_cf={
            "myhostname": "client.test", "smtp_connect_timeout": "5s"})

    def deliver(self, first_port, rcpts=("a@ex.org",)):
        q = self.env.queue_file("s@x.org", list(rcpts), CONTENT)
        nexthop = f"[127.0.0.1]:{first_port}, [127.0.0.1]:{self.second.port}"
        return q, self.env.deliver(q, transport="smtp", nexthop=nexthop)

    def test_refused_connection_moves_on(self):
        q, reply = self.deliver(free_port())
        self.assertEqual(reply[0][:3], ("sent", "2.0.0",
                         f"127.0.0.1[127.0.0.1]:{self.second.port}"))
        self.assertEqual(self.second.connections, 1)

    def test_4xx_greeting_moves_on(self):
        first = Receiver(self)
        first.greeting = "421 4.7.0 rx.test Too many connections"
        q, reply = self.deliver(first.port)
        self.assertEqual(reply[0][0], "sent")
        self.assertEqual(first.connections, 1)
        self.assertEqual(len(self.second.transactions), 1)

    def test_deferred_recipient_tried_on_the_next_host(self):
        first = Receiver(self)
        first.rcpt_reply = lambda addr: (
            "451 4.3.0 try later" if addr.startswith("b") else "250 2.1.5 Ok")
        q, reply = self.deliver(first.port, ("a@ex.org", "b@ex.org"))
        self.assertEqual([r[0] for r in reply], ["sent", "sent"])
        self.assertEqual(first.transactions[0]["accepted"], ["a@ex.org"])
        self.assertEqual(self.second.transactions[0]["rcpts"], ["b@ex.org"])

    def test_session_limit_stops_there(self):
        self.env.restart(smtp_mx_session_limit="1")
        first = Receiver(self)
        first.rcpt_reply = lambda addr: "451 4.3.0 try later"
        q, reply = self.deliver(first.port)
        self.assertEqual(reply[0][:2], ("deferred", "4.3.0"))
        self.assertEqual(self.second.connections, 0)

    def test_address_limit(self):
        self.env.restart(smtp_mx_address_limit="1")
        port = free_port()
        q, reply = self.deliver(port)
        self.assertEqual(reply[0][:2], ("deferred", "4.4.1"))
        self.assertIn(f"connect to 127.0.0.1[127.0.0.1]:{port}: Connection "
                      "refused", reply[0][3])
        self.assertEqual(self.second.connections, 0)


@unittest.skipUnless(have_programs(), "smtp or the agent test helpers not built")
class LmtpAgentTest(unittest.TestCase):
    def start_env(self):
        self.env = AgentEnv(self, "lmtp", start=False, main_cf={
            "myhostname": "client.test"})
        link = self.env.path("lmtp")
        os.symlink(prog("smtp", "smtp"), link)
        self.env.program = link
        self.env.start()

    def per_rcpt_reply(self, addr, txn):
        if addr.startswith("full"):
            return f"552 5.2.2 <{addr}> Mailbox full"
        if addr.startswith("busy"):
            return f"451 4.3.0 <{addr}> Temporary failure"
        return f"250 2.0.0 <{addr}> Saved"

    def check_per_recipient(self, nexthop, relay):
        q = self.env.queue_file("s@x.org", ["ok@ex.org", "full@ex.org",
                                            "busy@ex.org"], CONTENT)
        reply = self.env.deliver(q, transport="lmtp", nexthop=nexthop)
        self.assertEqual([r[0] for r in reply], ["sent", "bounced", "deferred"],
                         self.env.log_text())
        self.assertEqual(len(self.rx.transactions), 1)
        self.assertEqual(self.rx.command_names()[0], "LHLO")
        self.assertEqual(self.rx.transactions[0]["data"], CONTENT)
        self.assertTrue(self.env.is_done(q, "ok@ex.org"))
        self.assertFalse(self.env.is_done(q, "full@ex.org"))
        self.assertRegex(
            status_line(self.env, q, "ok@ex.org"),
            rf"postern/lmtp\[\d+\]: {q['qid']}: to=<ok@ex\.org>, "
            rf"relay={re.escape(relay)}, .*dsn=2\.0\.0, status=sent "
            r"\(250 2\.0\.0 <ok@ex\.org> Saved\)$")
        self.assertRegex(
            status_line(self.env, q, "full@ex.org"),
            r"dsn=5\.2\.2, status=bounced \(host .* said: 552 5\.2\.2 "
            r"<full@ex\.org> Mailbox full \(in reply to end of DATA "
            r"command\)\)$")

    def test_lmtp_over_inet(self):
        self.rx = Receiver(self, lmtp=True)
        self.rx.lmtp_reply = self.per_rcpt_reply
        self.start_env()
        self.check_per_recipient(f"inet:127.0.0.1:{self.rx.port}",
                                 f"127.0.0.1[127.0.0.1]:{self.rx.port}")

    def test_lmtp_over_unix_relative_to_queue_directory(self):
        self.start_env()
        os.makedirs(os.path.join(self.env.queue, "private"), exist_ok=True)
        path = os.path.join(self.env.queue, "private", "rx-lmtp")
        self.rx = Receiver(self, lmtp=True, unix_path=path)
        self.rx.lmtp_reply = self.per_rcpt_reply
        self.check_per_recipient("unix:private/rx-lmtp",
                                 "client.test[private/rx-lmtp]")

    def test_lmtp_missing_socket_defers(self):
        self.start_env()
        q = self.env.queue_file("s@x.org", ["a@ex.org"], CONTENT)
        reply = self.env.deliver(q, transport="lmtp",
                                 nexthop="unix:private/nothing-here")
        self.assertEqual(reply[0][:2], ("deferred", "4.4.1"))
        self.assertIn("status=deferred (connect to private/nothing-here: "
                      "No such file or directory)",
                      status_line(self.env, q, "a@ex.org"))


if __name__ == "__main__":
    unittest.main()
