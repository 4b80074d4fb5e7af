"""A local SMTP server for the icosistem-delivery tests and the HTTP journey (aiosmtpd).

Usage: smtp_sink.py PORT OUTDIR [--reply "451 4.3.0 try later"] [--tls CERT KEY]

Writes each accepted message to OUTDIR/<n>.eml; with --reply answers DATA with that line
instead (a 4xx or 5xx); with --tls requires STARTTLS with the given certificate. Prints READY
once listening and runs until stdin closes (the test's process handle dropping it).
"""
import argparse
import os
import ssl
import sys

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, outdir, reply):
        self.outdir = outdir
        self.reply = reply
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        if self.reply:
            return self.reply
        self.count += 1
        path = os.path.join(self.outdir, "%d.eml" % self.count)
        with open(path + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(path + ".tmp", path)
        return "250 OK"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("outdir")
    p.add_argument("--reply")
    p.add_argument("--tls", nargs=2)
    a = p.parse_args()
    kwargs = {}
    if a.tls:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.tls[0], a.tls[1])
        kwargs = {"tls_context": ctx, "require_starttls": True}
    controller = Controller(Handler(a.outdir, a.reply), hostname="127.0.0.1", port=a.port, **kwargs)
    controller.start()
    print("READY", flush=True)
    sys.stdin.read()
    controller.stop()


main()
