"""test_smtp_fallback.py: the next hop chosen by sender
(sender_dependent_relayhost_maps, in qmgr's routing) and the relays tried
after a next hop's own servers failed (smtp_fallback_relay, in the smtp
daemon), between two whole Postern instances on loopback.

The receiver takes mail for b.virt into a virtual mailbox; the sender's
relayhost points at a loopback port where nothing listens, so mail
reaches the receiver only through the feature under test."""
import os
import re
import subprocess
import time
import unittest

import test_smtp_agent as agent_tests
from agentlib import AgentEnv, prog
from dns_util import Dnsmasq, dnsmasq_path
from smtp_receiver import Receiver
from instance import Instance, port_refuses
from test_smtp_relay import MESSAGE, have_programs, mailbox_setup, inject_into, wait_for_log


@unittest.skipUnless(have_programs(), "master, smtpd, qmgr, virtual, smtp or "
                                      "helpers not built")
class SmtpFallbackTest(unittest.TestCase):
    def setUp(self):
        self.rx = Instance(self)
        self.rx_base, vparams = mailbox_setup(self.rx, "b.virt", ("bob",))
        self.rx_port = self.rx.free_port()
        self.rx.write_main_cf(dict(vparams, **{
            "myhostname": "mx.b.test",
            "mydestination": "$myhostname, localhost",
            "smtpd_peername_lookup": "no",
        }))
        self.rx.write_master_cf(
            self.rx.service(f"127.0.0.1:{self.rx_port}", "inet", "smtpd")
            + self.rx.service("qmgr", "unix", "qmgr", private="n", wakeup=1,
                              maxproc=1)
            + self.rx.service("virtual", "unix", "virtual", unpriv="n"))
        self.rx.start()
        self.rx.wait_until(lambda: not port_refuses(self.rx_port), timeout=10,
                           what="the receiver's smtpd")
        self.tx = Instance(self)
        self.tx_base, self.tx_vparams = mailbox_setup(self.tx, "a.virt",
                                                      ("alice",))
        self.dead_port = self.tx.free_port()  # nothing listens there

    def start_tx(self, **params):
        base = dict(self.tx_vparams, **{
            "myhostname": "mx.a.test",
            "mydestination": "$myhostname, localhost",
            "queue_run_delay": "300s",
            "minimal_backoff_time": "300s",
            "maximal_backoff_time": "600s",
            "relayhost": f"[127.0.0.1]:{self.dead_port}",
        })
        base.update(params)
        self.tx.write_main_cf(base)
        self.tx.write_master_cf(
            self.tx.service("qmgr", "unix", "qmgr", private="n", wakeup=1,
                            maxproc=1)
            + self.tx.service("smtp", "unix", "smtp")
            + self.tx.service("virtual", "unix", "virtual", unpriv="n"))
        self.tx.start()

    def inject(self, sender, *rcpts):
        return inject_into(self, self.tx, sender, rcpts)

    def wait_log(self, inst, pattern, timeout=30):
        return wait_for_log(self, inst, pattern, self.tx, self.rx,
                            timeout=timeout)

    def sent_to_rx(self, qid):
        return self.wait_log(
            self.tx, rf"{qid}: to=<bob@b\.virt>, relay=127\.0\.0\.1"
                     rf"\[127\.0\.0\.1\]:{self.rx_port}, .*dsn=2\.0\.0, "
                     r"status=sent \(250 ")

    def deferred_dead(self, qid):
        return self.wait_log(
            self.tx, rf"{qid}: to=<bob@b\.virt>, relay=none, .*"
                     r"status=deferred \(connect to 127\.0\.0\.1"
                     rf"\[127\.0\.0\.1\]:{self.dead_port}: Connection refused\)")

    def test_sender_dependent_relayhost(self):
        self.start_tx(sender_dependent_relayhost_maps=(
            f"inline:{{ alice@a.virt=[127.0.0.1]:{self.rx_port}, "
            f"@c.virt=[127.0.0.1]:{self.rx_port}, carol@c.virt=DUNNO }}"))
        # By the whole address, and by @domain.
        self.sent_to_rx(self.inject("alice@a.virt", "bob@b.virt"))
        self.sent_to_rx(self.inject("dave@c.virt", "bob@b.virt"))
        # DUNNO, and a sender not listed: relayhost, which is down.
        self.deferred_dead(self.inject("carol@c.virt", "bob@b.virt"))
        self.deferred_dead(self.inject("eve@e.virt", "bob@b.virt"))

    def test_fallback_relay_after_the_relayhost_failed(self):
        self.start_tx(smtp_fallback_relay=f"[127.0.0.1]:{self.rx_port}")
        qid = self.inject("alice@a.virt", "bob@b.virt")
        self.sent_to_rx(qid)
        self.rx.wait_until(
            lambda: os.path.isdir(os.path.join(self.rx_base, "b.virt", "bob",
                                               "new")) and
            os.listdir(os.path.join(self.rx_base, "b.virt", "bob", "new")),
            timeout=20, what="bob's copy")

    def test_no_fallback_relay_means_deferred(self):
        self.start_tx()
        self.deferred_dead(self.inject("alice@a.virt", "bob@b.virt"))

    def test_fallback_relay_that_fails_too(self):
        other_dead = self.tx.free_port()
        self.start_tx(smtp_fallback_relay=f"[127.0.0.1]:{other_dead}")
        qid = self.inject("alice@a.virt", "bob@b.virt")
        # The last server tried speaks for the mail: the fallback's.
        self.wait_log(
            self.tx, rf"{qid}: to=<bob@b\.virt>, relay=none, .*"
                     r"status=deferred \(connect to 127\.0\.0\.1"
                     rf"\[127\.0\.0\.1\]:{other_dead}: Connection refused\)")


@unittest.skipUnless(agent_tests.have_programs(),
                     "smtp or the agent test helpers not built")
@unittest.skipUnless(dnsmasq_path(), "no dnsmasq (Debian package dnsmasq-base)")
class FallbackAfterLookupTest(unittest.TestCase):
    """smtp_fallback_relay after the next hop's DNS lookup, against
    dnsmasq on loopback (the zone of test_smtp_agent.py)."""

    def setUp(self):
        self.dns = Dnsmasq(agent_tests.AGENT_ZONE)
        self.addCleanup(self.dns.cleanup)
        self.rx = Receiver(self)

    def deliver(self, rcpt, nexthop):
        env = AgentEnv(self, "smtp", main_cf={
            "myhostname": "client.test",
            "smtp_connect_timeout": "5s",
            "postern_dns_servers": self.dns.server,
            "postern_dns_timeout": "2s",
            "smtp_fallback_relay": f"[127.0.0.1]:{self.rx.port}",
        })
        q = env.queue_file("s@x.org", [rcpt], agent_tests.CONTENT)
        return env.deliver(q, transport="smtp", nexthop=nexthop)

    def test_name_not_found_goes_to_the_fallback_relay(self):
        reply = self.deliver("a@nosuch.example", "nosuch.example")
        self.assertEqual(reply[0][0], "sent", reply)
        self.assertEqual(self.rx.connections, 1)

    def test_null_mx_bounces_without_the_fallback_relay(self):
        reply = self.deliver("a@nullmx.example", "nullmx.example")
        self.assertEqual(reply[0][:2], ("bounced", "5.1.0"), reply)
        self.assertEqual(self.rx.connections, 0)


if __name__ == "__main__":
    unittest.main()
