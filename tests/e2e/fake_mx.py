"""fake_mx.py: a deliberately misbehaving SMTP/LMTP receiver for the
smtp and lmtp client tests (standard library only). It runs in the test's
own process, on a free loopback port, and records what the client did.

API
---
    mx = FakeMX(Behaviour(...), host="127.0.0.1")   # or "::1", or unix_path=
                               # port=N: that port (several MX hosts on
                               #   one port, at 127.0.0.x each)
    mx.start()                 # listening; mx.host, mx.port (or mx.unix_path)
    ... run the client ...
    mx.wait_transactions(1)    # bounded wait (timeout=10 s) for N messages
    mx.transactions            # [Transaction], in the order they ended
    mx.connections             # number of connections accepted
    mx.sessions                # [Session]: per connection, its commands and
                               #   the packets they arrived in (pipelining)
    mx.behaviour = Behaviour(...)   # takes effect from the next connection
    mx.stop()                  # also a context manager: `with FakeMX(...) as mx`

Behaviour(...) fields (keyword arguments; defaults give a well-behaved
ESMTP server that accepts everything):
    hostname        name in the greeting and the EHLO reply ["fake-mx.test"]
    delay           seconds to wait before every reply [0]
    delays          {phase: seconds} extra wait before that phase's reply
    replies         {phase: (code, text)}: answer that phase with this
                    reply instead of the normal one (a 4xx/5xx, or a
                    rate-limit reply from RATE_LIMIT_REPLIES). A 421 closes
                    the connection after it is sent, as RFC 5321 says.
    rcpt_replies    {address or 0-based index in the transaction: (code,
                    text)} for chosen RCPT commands
    drop_at         phase at which the connection is closed without a reply
                    (after the command has been read; "greeting": at once)
    fail_connections  apply replies/rcpt_replies/drop_at/delays only to
                    the first N connections (None: to all) - for "defer,
                    then deliver on retry" tests
    pipelining, eightbitmime, smtputf8, dsn, enhancedstatuscodes  offered
                    in EHLO [all True]
    chunking        offer CHUNKING and accept BDAT [False]
    size_limit      offer SIZE N and refuse larger messages (552 5.3.4)
    tls             None (no STARTTLS) or (certfile, keyfile): offer it
    requiretls      offer REQUIRETLS (RFC 8689) once TLS is on, and take
                    MAIL's REQUIRETLS parameter then [False]
    lmtp            speak LMTP (RFC 2033): LHLO, one reply per accepted
                    recipient after the data [False]
    lmtp_replies    {address: (code, text)}: that recipient's reply after
                    the data in LMTP mode (others get 250 2.1.5)
    check_params    refuse with 555 5.5.4 an ESMTP parameter whose
                    extension was not offered (BODY=8BITMIME without
                    8BITMIME, SMTPUTF8, NOTIFY/ORCPT/RET/ENVID without DSN,
                    SIZE without SIZE) [True]

Phases: "greeting", "ehlo" (EHLO, HELO or LHLO), "starttls", "mail",
"rcpt", "data" (the reply to DATA itself), "dot" (the reply after the
message content, DATA's end or BDAT LAST), "bdat" (a BDAT that is not
LAST), "rset", "noop", "quit".

Transaction fields: connection (1-based number), helo, tls (bool),
mail_from, mail_params {NAME: value or None}, rcpts [(address, params)]
(accepted ones only), data (bytes with CRLF, dot-unstuffed), via ("DATA"
or "BDAT"), chunks (BDAT sizes).
Session fields: number, peer, commands [str], packets [[str]] (the
command lines that arrived in one recv(): a client that pipelines shows
MAIL, RCPT and DATA in one packet), tls_version, tls_error, closed_by
("client", "server", "drop", "timeout").

Helpers: RATE_LIMIT_REPLIES (rate-limit and reputation replies worded the
way large providers word them, paraphrased), make_certs(dir) (a CA, a
leaf it signs, a self-signed leaf, an expired leaf and one for another
name, made with the openssl command), ipv6_loopback_available().

Bounds: at most MAX_CONNECTIONS connections open at once (more are closed
at once), command lines of at most 4096 bytes, messages of at most
MAX_MESSAGE bytes, an idle client is dropped after session_timeout
seconds [30]; stop() ends every thread within a few seconds."""
import os
import shutil
import socket
import ssl
import subprocess
import threading
import time

MAX_CONNECTIONS = 64
MAX_LINE = 4096
MAX_MESSAGE = 64 * 1024 * 1024

# Replies that large providers send when a sender goes too fast or has a
# poor reputation, paraphrased (the client's back-off must recognise the
# codes and the kind of wording, not one provider's exact text).
RATE_LIMIT_REPLIES = {
    "gmail_421": (421, "4.7.28 Our system has detected an unusual rate of "
                       "mail from your IP address; to protect our users, "
                       "mail from it is temporarily rate limited. Try again later."),
    "gmail_450": (450, "4.7.28 An unusual rate of unsolicited mail from your "
                       "IP address was detected; messages are temporarily "
                       "rate limited."),
    "yahoo_421": (421, "4.7.0 [TSS04] Messages from your address are "
                       "temporarily deferred due to unexpected volume or "
                       "user complaints"),
    "outlook_451": (451, "4.7.650 The mail server has been temporarily rate "
                         "limited because of IP reputation."),
    "too_many_connections": (421, "4.7.0 Too many concurrent connections "
                                  "from your address, try again later"),
    "rate_451": (451, "4.7.1 Rate limit exceeded, please slow down and try "
                      "again later"),
}

PHASES = ("greeting", "ehlo", "starttls", "mail", "rcpt", "data", "dot",
          "bdat", "rset", "noop", "quit")


class Behaviour:
    def __init__(self, **kwargs):
        self.hostname = "fake-mx.test"
        self.delay = 0.0
        self.delays = {}
        self.replies = {}
        self.rcpt_replies = {}
        self.drop_at = None
        self.fail_connections = None
        self.pipelining = True
        self.eightbitmime = True
        self.smtputf8 = True
        self.dsn = True
        self.enhancedstatuscodes = True
        self.chunking = False
        self.size_limit = None
        self.tls = None
        self.requiretls = False
        self.lmtp = False
        self.lmtp_replies = {}
        self.check_params = True
        self.session_timeout = 30.0
        for name, value in kwargs.items():
            if not hasattr(self, name):
                raise TypeError(f"unknown behaviour {name!r}")
            setattr(self, name, value)
        for phase in list(self.replies) + list(self.delays) + (
                [self.drop_at] if self.drop_at else []):
            if phase not in PHASES:
                raise ValueError(f"unknown phase {phase!r}")


class Transaction:
    def __init__(self, connection, helo, tls):
        self.connection = connection
        self.helo = helo
        self.tls = tls
        self.mail_from = None
        self.mail_params = {}
        self.rcpts = []
        self.data = b""
        self.via = None
        self.chunks = []

    def __repr__(self):
        return (f"Transaction(conn={self.connection}, from={self.mail_from!r}, "
                f"rcpts={self.rcpts!r}, {len(self.data)} bytes via {self.via})")


class Session:
    def __init__(self, number, peer):
        self.number = number
        self.peer = peer
        self.commands = []
        self.packets = []
        self.tls_version = None
        self.tls_error = None
        self.closed_by = None


class _Closed(Exception):
    pass


def ipv6_loopback_available():
    """True when ::1 can be bound here."""
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False


def _parse_params(words):
    params = {}
    for word in words:
        name, eq, value = word.partition("=")
        params[name.upper()] = value if eq else None
    return params


def _path(arg, keyword):
    """('addr', [params]) from 'FROM:<addr> P=V', or None when malformed."""
    if not arg.upper().startswith(keyword):
        return None
    rest = arg[len(keyword):].lstrip()
    if not rest.startswith("<") or ">" not in rest:
        return None
    address, _, tail = rest[1:].partition(">")
    return address, tail.split()


class _Conn:
    """One client connection, run in its own thread."""

    def __init__(self, mx, sock, number, peer, behaviour):
        self.mx = mx
        self.sock = sock
        self.number = number
        self.b = behaviour
        self.session = Session(number, peer)
        self.faulty = (behaviour.fail_connections is None
                       or number <= behaviour.fail_connections)
        self.buf = b""
        self.packet = None
        self.tls = False
        self.helo = None
        self.txn = None
        self.rcpt_index = 0
        sock.settimeout(behaviour.session_timeout)

    # ---- low-level I/O ----
    def _recv(self):
        if self.mx.stopping:
            raise _Closed("server")
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            raise _Closed("timeout")
        except (OSError, ssl.SSLError):
            raise _Closed("client")
        if not data:
            raise _Closed("client")
        return data

    def readline(self, command=True):
        while b"\n" not in self.buf:
            if len(self.buf) > (MAX_LINE + 2 if command else MAX_MESSAGE):
                self.send("500 5.5.2 Line too long\r\n")
                raise _Closed("server")
            self.buf += self._recv()
            if command:
                # The complete lines of this recv() form one packet.
                self.packet = []
                self.session.packets.append(self.packet)
            else:
                self.packet = None  # command lines after data: a new packet
        line, _, self.buf = self.buf.partition(b"\n")
        if line.endswith(b"\r"):
            line = line[:-1]
        if command:
            text = line.decode("utf-8", "replace")
            if self.packet is None:
                self.packet = []
                self.session.packets.append(self.packet)
            self.packet.append(text)
            self.session.commands.append(text)
            return text
        return line

    def read_exact(self, count):
        while len(self.buf) < count:
            self.buf += self._recv()
            self.packet = None
        data, self.buf = self.buf[:count], self.buf[count:]
        return data

    def send(self, text):
        try:
            self.sock.sendall(text.encode("utf-8"))
        except (OSError, ssl.SSLError):
            raise _Closed("client")

    def pause(self, phase):
        wait = self.b.delay + (self.b.delays.get(phase, 0) if self.faulty else 0)
        end = time.monotonic() + wait
        while not self.mx.stopping and time.monotonic() < end:
            time.sleep(min(0.05, end - time.monotonic()))

    def reply(self, code, text, phase=None, more=None):
        """Sends code + text (and continuation lines `more` first)."""
        if phase:
            self.pause(phase)
        lines = (more or []) + [text]
        out = "".join(f"{code}-{line}\r\n" for line in lines[:-1])
        self.send(out + f"{code} {lines[-1]}\r\n")
        if code == 421:
            raise _Closed("server")

    def scripted(self, phase):
        """The scripted reply for phase, after a drop or a delay."""
        if not self.faulty:
            return None
        if self.b.drop_at == phase:
            raise _Closed("drop")
        return self.b.replies.get(phase)

    def answer(self, phase, code, text, more=None):
        """The scripted reply if any, else the normal one; True if normal."""
        scripted = self.scripted(phase)
        if scripted:
            self.reply(scripted[0], scripted[1], phase)
            return False
        self.reply(code, text, phase, more)
        return True

    # ---- the session ----
    def run(self):
        try:
            self.answer("greeting", 220,
                        f"{self.b.hostname} {'LMTP' if self.b.lmtp else 'ESMTP'} fake_mx")
            while True:
                line = self.readline()
                verb, _, arg = line.partition(" ")
                upper = verb.upper()
                handler = getattr(self, "cmd_" + verb.lower(), None)
                wrong_hello = (upper in ("EHLO", "HELO") and self.b.lmtp) or \
                    (upper == "LHLO" and not self.b.lmtp)
                if handler is None or wrong_hello:
                    self.reply(500, "5.5.1 Command unrecognized")
                    continue
                handler(arg.strip())
        except _Closed as closed:
            self.session.closed_by = str(closed)
        finally:
            try:
                self.sock.close()
            except OSError:
                pass

    def extensions(self):
        b = self.b
        ext = []
        if b.pipelining:
            ext.append("PIPELINING")
        if b.size_limit is not None:
            ext.append(f"SIZE {b.size_limit}")
        if b.eightbitmime:
            ext.append("8BITMIME")
        if b.smtputf8:
            ext.append("SMTPUTF8")
        if b.dsn:
            ext.append("DSN")
        if b.enhancedstatuscodes:
            ext.append("ENHANCEDSTATUSCODES")
        if b.chunking:
            ext.append("CHUNKING")
        if b.tls and not self.tls:
            ext.append("STARTTLS")
        if b.requiretls and self.tls:
            ext.append("REQUIRETLS")
        return ext

    def _hello(self, arg, extended):
        if not arg:
            self.reply(501, "5.5.4 Syntax: hostname required")
            return
        lines = [f"{self.b.hostname} greets {arg}"]
        if extended:
            lines += self.extensions()
        if self.answer("ehlo", 250, lines[-1], more=lines[:-1]):
            self.helo = arg
            self.txn = None

    def cmd_ehlo(self, arg):
        self._hello(arg, True)

    def cmd_lhlo(self, arg):
        self._hello(arg, True)

    def cmd_helo(self, arg):
        self._hello(arg, False)

    def cmd_starttls(self, arg):
        if not self.b.tls or self.tls:
            self.reply(502, "5.5.1 STARTTLS not offered")
            return
        if not self.answer("starttls", 220, "2.0.0 Ready to start TLS"):
            return
        self.buf = b""  # RFC 3207: nothing pipelined past STARTTLS counts
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*self.b.tls)
        try:
            self.sock = context.wrap_socket(self.sock, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            self.session.tls_error = str(exc)
            raise _Closed("client")
        self.tls = True
        self.session.tls_version = self.sock.version()
        self.helo = None
        self.txn = None

    def _unsupported(self, params):
        """The first parameter whose extension was not offered, or None."""
        if not self.b.check_params:
            return None
        needs = {"BODY": self.b.eightbitmime, "SMTPUTF8": self.b.smtputf8,
                 "SIZE": self.b.size_limit is not None, "RET": self.b.dsn,
                 "ENVID": self.b.dsn, "NOTIFY": self.b.dsn, "ORCPT": self.b.dsn,
                 "REQUIRETLS": self.b.requiretls and self.tls}
        for name, value in params.items():
            if name == "BODY" and value and value.upper() == "7BIT":
                continue
            if not needs.get(name, False):
                return name
        return None

    def cmd_mail(self, arg):
        if self.helo is None:
            self.reply(503, "5.5.1 Send EHLO first")
            return
        if self.txn is not None:
            self.reply(503, "5.5.1 Nested MAIL command")
            return
        parsed = _path(arg, "FROM:")
        if parsed is None:
            self.reply(501, "5.5.4 Syntax: MAIL FROM:<address>")
            return
        params = _parse_params(parsed[1])
        bad = self._unsupported(params)
        if bad:
            self.reply(555, f"5.5.4 Unsupported parameter {bad}")
            return
        if self.b.size_limit is not None and params.get("SIZE", "0").isdigit() \
                and int(params.get("SIZE") or 0) > self.b.size_limit:
            self.reply(552, "5.3.4 Message size exceeds fixed limit")
            return
        if self.answer("mail", 250, "2.1.0 Ok"):
            self.txn = Transaction(self.number, self.helo, self.tls)
            self.txn.mail_from = parsed[0]
            self.txn.mail_params = params
            self.rcpt_index = 0

    def cmd_rcpt(self, arg):
        if self.txn is None:
            self.reply(503, "5.5.1 Need MAIL command")
            return
        parsed = _path(arg, "TO:")
        if parsed is None:
            self.reply(501, "5.5.4 Syntax: RCPT TO:<address>")
            return
        params = _parse_params(parsed[1])
        bad = self._unsupported(params)
        index = self.rcpt_index
        self.rcpt_index += 1
        if bad:
            self.reply(555, f"5.5.4 Unsupported parameter {bad}")
            return
        chosen = None
        if self.faulty:
            chosen = self.b.rcpt_replies.get(parsed[0].lower(),
                                             self.b.rcpt_replies.get(index))
        if chosen:
            self.reply(chosen[0], chosen[1], "rcpt")
            return
        if self.answer("rcpt", 250, "2.1.5 Ok"):
            self.txn.rcpts.append((parsed[0], params))

    def _deliver(self, data, via):
        """The message content arrived: record it and reply."""
        txn = self.txn
        self.txn = None
        if self.b.size_limit is not None and len(data) > self.b.size_limit:
            self.reply(552, "5.3.4 Message size exceeds fixed limit", "dot")
            return
        scripted = self.scripted("dot")
        if scripted:
            for _ in (txn.rcpts if self.b.lmtp else [None]):
                self.reply(scripted[0], scripted[1], "dot")
            return
        txn.data = data
        txn.via = via
        self.mx._record(txn)
        if self.b.lmtp:
            for address, _ in txn.rcpts:
                code, text = self.b.lmtp_replies.get(address.lower(),
                                                     (250, f"2.1.5 <{address}> delivered"))
                self.reply(code, text, "dot")
        else:
            self.reply(250, f"2.0.0 Ok: queued as FAKE{len(self.mx.transactions)}", "dot")

    def cmd_data(self, arg):
        if self.txn is None:
            self.reply(503, "5.5.1 Need MAIL command")
            return
        if not self.txn.rcpts:
            self.reply(554, "5.5.1 No valid recipients")
            return
        if self.txn.chunks:
            self.reply(503, "5.5.1 DATA after BDAT")
            return
        if not self.answer("data", 354, "End data with <CR><LF>.<CR><LF>"):
            self.txn = None
            return
        lines = []
        size = 0
        while True:
            line = self.readline(command=False)
            if line == b".":
                break
            if line.startswith(b"."):
                line = line[1:]
            size += len(line) + 2
            if size <= MAX_MESSAGE:
                lines.append(line)
        data = b"".join(line + b"\r\n" for line in lines)
        self._deliver(data, "DATA")

    def cmd_bdat(self, arg):
        words = arg.split()
        if not self.b.chunking or not words or not words[0].isdigit() or \
                len(words) > 2 or (len(words) == 2 and words[1].upper() != "LAST"):
            self.reply(500 if not self.b.chunking else 501,
                       "5.5.1 BDAT not offered" if not self.b.chunking
                       else "5.5.4 Syntax: BDAT size [LAST]")
            return
        count = int(words[0])
        if count > MAX_MESSAGE:
            raise _Closed("server")
        chunk = self.read_exact(count)
        last = len(words) == 2
        if self.txn is None or not self.txn.rcpts:
            self.reply(503, "5.5.1 Need MAIL and RCPT before BDAT")
            return
        self.txn.chunks.append(count)
        self.txn.data += chunk
        if last:
            self._deliver(self.txn.data, "BDAT")
        else:
            scripted = self.scripted("bdat")
            if scripted:
                self.txn = None
                self.reply(scripted[0], scripted[1], "bdat")
                return
            self.reply(250, f"2.0.0 {count} octets received", "bdat")

    def cmd_rset(self, arg):
        if self.answer("rset", 250, "2.0.0 Ok"):
            self.txn = None

    def cmd_noop(self, arg):
        self.answer("noop", 250, "2.0.0 Ok")

    def cmd_quit(self, arg):
        self.answer("quit", 221, "2.0.0 Bye")
        raise _Closed("client")


class FakeMX:
    def __init__(self, behaviour=None, host="127.0.0.1", unix_path=None,
                 port=0):
        self.behaviour = behaviour or Behaviour()
        self.host = host
        self.port = None
        self.want_port = port  # 0: any free one
        self.unix_path = unix_path
        self.transactions = []
        self.sessions = []
        self.connections = 0
        self.stopping = False
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._listener = None
        self._threads = []
        self._socks = []

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        if self.unix_path:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            if os.path.exists(self.unix_path):
                os.unlink(self.unix_path)
            sock.bind(self.unix_path)
        else:
            family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.want_port))
            self.port = sock.getsockname()[1]
        sock.listen(64)
        sock.settimeout(0.2)
        self._listener = sock
        thread = threading.Thread(target=self._accept_loop, daemon=True,
                                  name="fake_mx-accept")
        thread.start()
        self._threads.append(thread)
        return self

    def _accept_loop(self):
        while not self.stopping:
            try:
                conn, peer = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                open_now = sum(1 for t in self._threads[1:] if t.is_alive())
                if open_now >= MAX_CONNECTIONS:
                    conn.close()
                    continue
                self.connections += 1
                number = self.connections
                session = _Conn(self, conn, number, peer, self.behaviour)
                self.sessions.append(session.session)
                self._socks.append(conn)
                thread = threading.Thread(target=session.run, daemon=True,
                                          name=f"fake_mx-{number}")
                self._threads.append(thread)
                self._cond.notify_all()
            thread.start()

    def _record(self, txn):
        with self._lock:
            self.transactions.append(txn)
            self._cond.notify_all()

    def wait_transactions(self, count, timeout=10.0):
        """Waits until `count` transactions were recorded; returns them."""
        end = time.monotonic() + timeout
        with self._lock:
            while len(self.transactions) < count:
                left = end - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"fake_mx: {len(self.transactions)} of {count} "
                        f"transactions after {timeout}s")
                self._cond.wait(left)
            return list(self.transactions)

    def wait_connections(self, count, timeout=10.0):
        end = time.monotonic() + timeout
        with self._lock:
            while self.connections < count:
                left = end - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"fake_mx: {self.connections} of "
                                         f"{count} connections after {timeout}s")
                self._cond.wait(left)

    def stop(self):
        self.stopping = True
        if self._listener:
            self._listener.close()
        with self._lock:
            socks = list(self._socks)
        for sock in socks:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in self._threads:
            thread.join(timeout=5)
        if self.unix_path and os.path.exists(self.unix_path):
            os.unlink(self.unix_path)


# ---- certificates ----

OPENSSL = shutil.which("openssl")

_CA_CONF = """[ca]
default_ca = fake
[fake]
database = {dir}/index.txt
new_certs_dir = {dir}
serial = {dir}/serial
default_md = sha256
unique_subject = no
policy = anything
copy_extensions = copy
[anything]
commonName = supplied
"""


def _openssl(*args, cwd=None):
    proc = subprocess.run([OPENSSL, *args], capture_output=True, text=True,
                          timeout=60, cwd=cwd)
    if proc.returncode != 0:
        raise RuntimeError(f"openssl {args[0]}: {proc.stderr.strip()}")


def _key_and_csr(directory, name, cn):
    key = os.path.join(directory, f"{name}.key")
    csr = os.path.join(directory, f"{name}.csr")
    _openssl("req", "-new", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
             "-out", csr, "-subj", f"/CN={cn}", "-addext",
             f"subjectAltName=DNS:{cn}")
    return key, csr


def make_certs(directory, name="mx.test"):
    """Certificates for the TLS cases, made with the openssl command in
    `directory`. Returns a dict of (certfile, keyfile) pairs plus "ca"
    (the CA certificate a verifying client trusts):
      good        signed by the CA, for `name`, valid now
      wrong_name  signed by the CA, for "other.invalid"
      expired     signed by the CA, for `name`, expired in 2020
      self_signed for `name`, signed by itself (untrusted)"""
    if not OPENSSL:
        raise RuntimeError("no openssl command")
    os.makedirs(directory, exist_ok=True)
    ca_key = os.path.join(directory, "ca.key")
    ca_crt = os.path.join(directory, "ca.crt")
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", ca_key,
             "-out", ca_crt, "-days", "30", "-subj", "/CN=fake_mx test CA")
    conf = os.path.join(directory, "ca.conf")
    with open(conf, "w") as f:
        f.write(_CA_CONF.format(dir=directory))
    open(os.path.join(directory, "index.txt"), "w").close()
    with open(os.path.join(directory, "serial"), "w") as f:
        f.write("1000\n")

    def sign(label, cn, start=None, end=None):
        key, csr = _key_and_csr(directory, label, cn)
        crt = os.path.join(directory, f"{label}.crt")
        dates = (["-startdate", start, "-enddate", end] if start
                 else ["-days", "30"])
        _openssl("ca", "-batch", "-config", conf, "-cert", ca_crt,
                 "-keyfile", ca_key, "-in", csr, "-out", crt, "-notext",
                 *dates)
        return crt, key

    certs = {"ca": ca_crt,
             "good": sign("good", name),
             "wrong_name": sign("wrong_name", "other.invalid"),
             "expired": sign("expired", name, "20200101000000Z",
                             "20200201000000Z")}
    key = os.path.join(directory, "self_signed.key")
    crt = os.path.join(directory, "self_signed.crt")
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
             "-out", crt, "-days", "30", "-subj", f"/CN={name}",
             "-addext", f"subjectAltName=DNS:{name}")
    certs["self_signed"] = (crt, key)
    return certs
