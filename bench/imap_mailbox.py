"""bench/imap_mailbox.py: the large mailbox bench/imap measures on.

make(path, count) writes a Maildir (cur/ new/ tmp/) with `count`
messages of about 4.5 KiB each, the same every time (fixed seed):
  - 2 in 3 plain text, 1 in 5 multipart/alternative (text and HTML),
    the rest multipart/mixed with a small base64 attachment;
  - senders, recipients, subjects (some with RFC 2047 words, some
    replies) and dates that vary;
  - RARE_WORD in the text of three messages only;
  - every second message \\Seen, every tenth \\Flagged.
File names are Dovecot's (<secs>.M<usecs>P<pid>Q<n>.<host>,S=<size>,
W=<vsize>:2,<flags>) and mtimes are the messages' dates, as after a
delivery. No dovecot-uidlist: the first server to open it numbers the
messages. Standard library only.
"""
import base64
import os
import random

RARE_WORD = "quixotically"

WORDS = ("the of and to in is that for it as was with be by on not he this "
         "are or his from at which but have an they you were her she there "
         "one all we their been has when who will more no if out so said "
         "what up its about into than them can only other new some could "
         "time these two may then do first any my now such like our over "
         "man me even most made after also did many before must through "
         "back years where much your way well down should because each "
         "just those people how too little state good very make world "
         "still own see men work long get here between both life being "
         "under never day same another know while last might us great old "
         "year off come since against go came right used take three "
         "invoice meeting report budget schedule project release quarter "
         "server mailbox delivery network backup update review draft").split()
NAMES = ("Anna Berg", "Bob Stone", "Carla Diaz", "Dmitri Ivanov",
         "Eve Martin", "Farid Haddad", "Grace Lee", "Hiro Tanaka",
         "Ines Costa", "Jonas Weber", "Kim Nguyen", "Lena Fischer",
         "Mehmet Kaya", "Nora Svensson", "Olu Adeyemi", "Pia Rossi")
DOMAINS = ("example.com", "example.org", "example.net", "mail.example",
           "lists.example.org")


def _words(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


def _paragraphs(rng, size, rare):
    lines, total = [], 0
    while total < size:
        line = _words(rng, rng.randint(8, 13))
        lines.append(line)
        total += len(line) + 1
    if rare:
        lines[len(lines) // 2] += " " + RARE_WORD
    return "\n".join(lines) + "\n"


def _address(rng):
    name = rng.choice(NAMES)
    local = name.split()[0].lower()
    return name, f"{local}@{rng.choice(DOMAINS)}"


def _subject(rng, i):
    subject = _words(rng, rng.randint(3, 7)).capitalize()
    if i % 7 == 0:
        encoded = base64.b64encode(("Grüße: " + subject).encode()).decode()
        return f"=?UTF-8?B?{encoded}?="
    if i % 3 == 0:
        return "Re: " + subject
    return subject


def message(i, rng, rare):
    """The text of message i (LF line ends) and its date (epoch)."""
    when = 1735689600 + i * 311 + rng.randint(0, 300)
    name, addr = _address(rng)
    to_name, to_addr = "Bench User", "bench@bench.test"
    date = _rfc2822_date(when)
    headers = [
        f"Return-Path: <{addr}>",
        "Received: from mx.example.net (mx.example.net [192.0.2.25])\n"
        "\tby bench-host.bench.invalid (Postern) with ESMTPS id "
        f"4X{i:08d}\n\tfor <{to_addr}>; {date}",
        f"Message-ID: <{i}.{when}@{addr.split('@')[1]}>",
        f"Date: {date}",
        f"From: {name} <{addr}>",
        f"To: {to_name} <{to_addr}>",
        f"Subject: {_subject(rng, i)}",
        "MIME-Version: 1.0",
    ]
    if i % 4 == 1:
        headers.append("Cc: %s <%s>" % _address(rng))
    if i > 0 and i % 3 == 0:
        headers.append(f"In-Reply-To: <{i - 3}.{when - 933}@example.com>")
    kind = i % 15
    if kind < 10:
        body = _paragraphs(rng, 4050, rare)
        headers += ["Content-Type: text/plain; charset=utf-8",
                    "Content-Transfer-Encoding: 8bit"]
    elif kind < 13:
        boundary = f"=_alt_{i:06d}"
        text = _paragraphs(rng, 2000, rare)
        html = "<html><body><p>" + _paragraphs(rng, 1600, False).replace(
            "\n", "</p>\n<p>") + "</p></body></html>\n"
        headers.append(f'Content-Type: multipart/alternative; '
                       f'boundary="{boundary}"')
        body = (f"--{boundary}\nContent-Type: text/plain; charset=utf-8\n\n"
                f"{text}\n--{boundary}\nContent-Type: text/html; "
                f"charset=utf-8\n\n{html}\n--{boundary}--\n")
    else:
        boundary = f"=_mix_{i:06d}"
        text = _paragraphs(rng, 2000, rare)
        blob = bytes(rng.getrandbits(8) for _ in range(1200))
        attachment = base64.encodebytes(blob).decode()
        headers.append(f'Content-Type: multipart/mixed; '
                       f'boundary="{boundary}"')
        body = (f"--{boundary}\nContent-Type: text/plain; charset=utf-8\n\n"
                f"{text}\n--{boundary}\nContent-Type: application/pdf; "
                f'name="report-{i}.pdf"\nContent-Disposition: attachment; '
                f'filename="report-{i}.pdf"\n'
                f"Content-Transfer-Encoding: base64\n\n{attachment}\n"
                f"--{boundary}--\n")
    return "\n".join(headers) + "\n\n" + body, when


def _rfc2822_date(when):
    import email.utils
    return email.utils.formatdate(when, localtime=False)


def make(path, count):
    rng = random.Random(20261207)
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(path, sub), exist_ok=True)
    rare = {count // 5, count // 2, count - 7}
    for i in range(count):
        text, when = message(i, rng, i in rare)
        data = text.encode()
        vsize = len(data) + data.count(b"\n")
        flags = ("F" if i % 10 == 0 else "") + ("S" if i % 2 == 0 else "")
        name = (f"{when}.M{i % 1000000}P{4242}Q{i}.bench-host,S={len(data)},"
                f"W={vsize}:2,{flags}")
        file = os.path.join(path, "cur", name)
        with open(file, "wb") as f:
            f.write(data)
        os.utime(file, (when, when))
