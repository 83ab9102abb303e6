"""smtp_receiver.py: a small scripted SMTP/LMTP server for the smtp and
lmtp client tests (test_smtp_*.py). Standard library only.

    rx = Receiver(self)                           # TCP on 127.0.0.1
    rx = Receiver(self, lmtp=True, unix_path=p)   # LMTP on a unix socket
    rx.rcpt_reply = lambda addr: "550 5.1.1 <%s>: Recipient address rejected" % addr
    ... deliver ...
    rx.connections, rx.transactions[0]["rcpts"], rx.commands

Each connection is served in its own thread, line by line, so pipelined
commands are answered in order as a real server does. What the client
sent is recorded: every command line (rx.commands, with the connection
number), and every transaction (sender, recipients, content without the
dot-stuffing). Replies are scripted with plain attributes that tests
change before the client connects:
    greeting              the 220 line (a 4xx/5xx refuses the session)
    rcpt_reply(addr)      reply to RCPT TO
    data_reply(txn)       SMTP: reply to the end of data
    lmtp_reply(addr, txn) LMTP: the reply for one accepted recipient
    close_after_txn       close a connection silently after that many
                          transactions (a server that dropped an idle one)
    rset_reply            reply to RSET (the connection stays open, so
                          what the client pipelined after it is recorded)
Every wait is bounded; the server stops at the test's cleanup."""
import os
import socket
import threading
import time


class Receiver:
    def __init__(self, testcase, lmtp=False, unix_path=None):
        self.lmtp = lmtp
        self.unix_path = unix_path
        self.greeting = "220 rx.test ESMTP ready" if not lmtp else \
            "220 rx.test LMTP ready"
        self.extensions = ["PIPELINING", "SIZE 10240000", "8BITMIME",
                           "ENHANCEDSTATUSCODES", "DSN"]
        self.rcpt_reply = lambda addr: "250 2.1.5 Ok"
        self.data_reply = lambda txn: f"250 2.0.0 Ok: queued as RX{txn['n']}"
        self.lmtp_reply = lambda addr, txn: f"250 2.0.0 <{addr}> delivered"
        self.close_after_txn = None
        self.rset_reply = "250 2.0.0 Ok"
        self.lock = threading.Lock()
        self.connections = 0
        self.commands = []      # (connection number, line)
        self.transactions = []  # dicts: n, conn, sender, rcpts, data
        self._stop = False
        if unix_path:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            if os.path.exists(unix_path):
                os.unlink(unix_path)
            self.sock.bind(unix_path)
            os.chmod(unix_path, 0o666)
            self.port = None
        else:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.sock.bind(("127.0.0.1", 0))
            self.port = self.sock.getsockname()[1]
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.thread = threading.Thread(target=self._accept_loop, daemon=True)
        self.thread.start()
        testcase.addCleanup(self.stop)

    def stop(self):
        self._stop = True
        self.thread.join(timeout=5)
        self.sock.close()

    # ---- what the client did ----

    def command_names(self, conn=None):
        return [line.split(" ", 1)[0].split(":", 1)[0].upper()
                for c, line in self.commands if conn is None or c == conn]

    def wait_transactions(self, count, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                if len(self.transactions) >= count:
                    return
            time.sleep(0.05)
        raise AssertionError(f"{len(self.transactions)} transactions, "
                             f"wanted {count}; commands: {self.commands}")

    # ---- the server ----

    def _accept_loop(self):
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.connections += 1
                number = self.connections
            threading.Thread(target=self._serve, args=(conn, number),
                             daemon=True).start()

    def _serve(self, conn, number):
        conn.settimeout(30)
        f = conn.makefile("rb")
        out = conn.makefile("wb", buffering=0)
        txn_done = 0

        def reply(text):
            out.write(text.encode() + b"\r\n")

        try:
            reply(self.greeting)
            if not self.greeting.startswith("2"):
                return
            txn = None
            while not self._stop:
                raw = f.readline(4096)
                if not raw:
                    return
                line = raw.rstrip(b"\r\n").decode("utf-8", "replace")
                with self.lock:
                    self.commands.append((number, line))
                verb = line.split(" ", 1)[0].split(":", 1)[0].upper()
                if verb in ("EHLO", "LHLO"):
                    if (verb == "LHLO") != self.lmtp:
                        reply("500 5.5.1 Error: command not recognized")
                        continue
                    lines = ["rx.test"] + self.extensions
                    for i, ext in enumerate(lines):
                        sep = " " if i == len(lines) - 1 else "-"
                        reply(f"250{sep}{ext}")
                elif verb == "HELO":
                    reply("250 rx.test")
                elif verb == "MAIL":
                    txn = {"n": len(self.transactions) + 1, "conn": number,
                           "sender": line, "rcpts": [], "accepted": [],
                           "data": b""}
                    reply("250 2.1.0 Ok")
                elif verb == "RCPT":
                    addr = line[line.find("<") + 1:line.find(">")]
                    answer = self.rcpt_reply(addr)
                    if txn is not None:
                        txn["rcpts"].append(addr)
                        if answer.startswith("2"):
                            txn["accepted"].append(addr)
                    reply(answer)
                elif verb == "DATA":
                    if txn is None or not txn["accepted"]:
                        reply("554 5.5.1 Error: no valid recipients")
                        continue
                    reply("354 End data with <CR><LF>.<CR><LF>")
                    data = b""
                    while True:
                        chunk = f.readline(1 << 20)
                        if not chunk:
                            return
                        if chunk == b".\r\n":
                            break
                        if chunk.startswith(b".."):
                            chunk = chunk[1:]
                        data += chunk
                    txn["data"] = data
                    with self.lock:
                        self.transactions.append(txn)
                    if self.lmtp:
                        for addr in txn["accepted"]:
                            reply(self.lmtp_reply(addr, txn))
                    else:
                        reply(self.data_reply(txn))
                    txn = None
                    txn_done += 1
                    if self.close_after_txn and txn_done >= self.close_after_txn:
                        return
                elif verb == "RSET":
                    txn = None
                    reply(self.rset_reply)
                elif verb == "NOOP":
                    reply("250 2.0.0 Ok")
                elif verb == "QUIT":
                    reply("221 2.0.0 Bye")
                    return
                else:
                    reply("502 5.5.2 Error: command not recognized")
        except (OSError, ValueError):
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass
