# An S3-compatible server for tests: moto (PyPI, `moto[server]`) on 127.0.0.1:<port>.
# Prints READY once it listens, then serves until its stdin closes, which happens when the test
# process exits however it exits, so no server outlives its tests.
import sys

import logging

from moto.server import ThreadedMotoServer

# One log line per request would bury the test output.
logging.getLogger("werkzeug").setLevel(logging.ERROR)

port = int(sys.argv[1])
server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
server.start()
print("READY", flush=True)
sys.stdin.read()
server.stop()
