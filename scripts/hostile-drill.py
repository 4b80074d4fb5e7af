#!/usr/bin/env python3
"""Hostile-client drill: the release `icosistem-server` (in-memory store, demo data) on loopback
against slowloris heads, slow bodies, idle keep-alive connections and a connection flood above
its caps, while a well-behaved client keeps requesting; then SIGTERM with half-open and idle
connections open, a request in flight and a live notification stream open.

    python3 scripts/hostile-drill.py [path/to/icosistem-server]

Default binary: $CARGO_TARGET_DIR/release/icosistem-server (build it first:
`cargo build --release -p icosistem-server`). Python 3.10+ standard library only. Loopback
only; the hostile clients bind to 127.0.x.y source addresses to act as many clients. Bounded:
the whole drill is killed after 170 s (it takes about 30 s).

Phases (the well-behaved client runs through 1-4: two keep-alive connections from 127.0.0.1,
alternating GET /health and an authenticated GET /api/v2/users/me every 20 ms each):
  1. slowloris: 300 connections send half a request head and nothing more; each must be closed
     by the server within the header timeout + 1 s;
  2. slow body: 50 logins announce 1000 bytes and drip them; each must answer 408 within the
     body timeout + 1 s;
  3. idle keep-alive: 100 connections make one request and stay idle (kept: keep-alive 60 s);
  4. flood: 1,000 slowloris connections kept open (reconnecting when closed), 300 more from one
     address (above the per-address cap) and 300 from three others (above the total cap);
     the server's open fds are sampled every 100 ms; then the flood stops and the drill waits
     until a new connection is answered and the fds are back to where they were;
  5. SIGTERM with 300 fresh half-open connections, the 100 idle ones, a login in flight (its
     body completed 200 ms after the signal) and an open notification stream (SSE,
     GET /api/v2/notifications/stream): the process must exit within the grace period, the
     login must answer 200, the idle and half-open connections must close at once, and the
     stream must get its final `shutdown` event and end (not be cut by the grace period).

Asserted (exit 1 otherwise): 0 errors for the well-behaved client in phases 1-4; its p99 <= 50 ms
on both paths while >= 1,000 hostile connections are open; open fds never above the baseline +
the connection cap + a small margin; back to normal within 2 s after the flood; phase 1, 2 and
5 as stated.
"""

import asyncio
import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import http.client

HOST = "127.0.0.1"
HEADER_TIMEOUT = 2
BODY_TIMEOUT = 2
GRACE = 5
MAX_CONNECTIONS = 1200
PER_IP = 150
FD_MARGIN = 32
P99_LIMIT_MS = 50.0
RECOVERY_LIMIT_S = 2.0
FLOOD_SECONDS = 8
HALF_HEAD = b"GET /health HTTP/1.1\r\nHost: drill\r\nX-Slow: "

failures = []


def check(ok, what):
    print(("  ok    " if ok else "  FAIL  ") + what, flush=True)
    if not ok:
        failures.append(what)


# ---------------------------------------------------------------- the well-behaved client


def good_client(port, token, out_path, stop_path):
    """Runs in a child process: two keep-alive connections, one per path, each requesting every
    20 ms until `stop_path` exists; writes one JSON line per request to `out_path`."""
    results = []
    lock = threading.Lock()

    def loop(path, headers):
        conn = None
        while not os.path.exists(stop_path):
            started = time.time()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(HOST, port, timeout=5)
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except Exception as error:  # noqa: BLE001 - every failure is an error of the client
                status = "error: %s" % error.__class__.__name__
                conn = None
            elapsed = (time.time() - started) * 1000
            with lock:
                results.append((started, path, status, elapsed))
            time.sleep(max(0.0, 0.02 - elapsed / 1000))

    threads = [
        threading.Thread(target=loop, args=("/health", {})),
        threading.Thread(target=loop, args=("/api/v2/users/me", {"Authorization": "Bearer " + token})),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with open(out_path, "w") as out:
        for r in results:
            out.write(json.dumps(r) + "\n")


# ---------------------------------------------------------------- helpers


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def fds(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return -1


async def connect(port, source):
    return await asyncio.wait_for(asyncio.open_connection(HOST, port, local_addr=(source, 0)), 5)


async def read_response(reader, limit=5):
    """One answer with a Content-Length body (or up to EOF): (status, text)."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), limit)
    text = head.decode("latin-1")
    length = re.search(r"(?im)^content-length:\s*(\d+)", text)
    body = await asyncio.wait_for(reader.readexactly(int(length.group(1))), limit) if length else b""
    return int(text.split(" ", 2)[1]), text + body.decode("utf-8", "replace")


async def wait_closed(reader, limit):
    """Seconds until the server closes the connection (EOF or reset), None if it did not."""
    started = time.monotonic()
    try:
        await asyncio.wait_for(reader.read(), limit)
    except (ConnectionError, OSError):
        pass
    except asyncio.TimeoutError:
        return None
    return time.monotonic() - started


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered) + 0.5)) - 1))]


def close_all(writers):
    for w in writers:
        try:
            w.close()
        except Exception:  # noqa: BLE001
            pass


# ---------------------------------------------------------------- phases


async def slowloris(port):
    print("\n== 1. slowloris: 300 half-open heads (header timeout %d s)" % HEADER_TIMEOUT, flush=True)
    conns = []
    for i in range(300):
        reader, writer = await connect(port, "127.0.0.%d" % (2 + i % 3))
        writer.write(HALF_HEAD)
        conns.append((reader, writer, time.monotonic()))

    async def lifetime(reader, opened):
        closed = await wait_closed(reader, HEADER_TIMEOUT + 5)
        return None if closed is None else time.monotonic() - opened

    lifetimes = await asyncio.gather(*(lifetime(r, opened) for r, _, opened in conns))
    close_all(w for _, w, _ in conns)
    open_left = sum(1 for t in lifetimes if t is None)
    worst = max((t for t in lifetimes if t is not None), default=float("nan"))
    print("  closed %d/300, longest lifetime %.2f s" % (300 - open_left, worst))
    check(open_left == 0 and worst <= HEADER_TIMEOUT + 1, "half-open connections closed within header timeout + 1 s (%.2f s)" % worst)


async def slow_bodies(port):
    print("\n== 2. slow bodies: 50 logins dripping a 1000-byte body (body timeout %d s)" % BODY_TIMEOUT, flush=True)

    async def one(i):
        reader, writer = await connect(port, "127.0.0.5")
        writer.write(
            b"POST /api/v2/auth/login HTTP/1.1\r\nHost: drill\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n{\"email\":"
        )
        started = time.monotonic()

        async def drip():
            try:
                while True:
                    await asyncio.sleep(0.5)
                    writer.write(b" ")
                    await writer.drain()
            except (ConnectionError, OSError):
                pass

        dripping = asyncio.ensure_future(drip())
        try:
            status, _ = await read_response(reader, BODY_TIMEOUT + 5)
        except Exception:  # noqa: BLE001
            status = None
        dripping.cancel()
        writer.close()
        return status, time.monotonic() - started

    results = await asyncio.gather(*(one(i) for i in range(50)))
    statuses = [s for s, _ in results]
    worst = max(t for _, t in results)
    print("  answers %s, slowest %.2f s" % ({s: statuses.count(s) for s in set(statuses)}, worst))
    check(statuses == [408] * 50 and worst <= BODY_TIMEOUT + 1, "slow bodies answered 408 within body timeout + 1 s (%.2f s)" % worst)


async def idle_keep_alive(port):
    print("\n== 3. idle keep-alive: 100 connections, one request each, then idle", flush=True)
    conns = []
    for _ in range(100):
        reader, writer = await connect(port, "127.0.0.6")
        writer.write(b"GET /health HTTP/1.1\r\nHost: drill\r\n\r\n")
        status, _ = await read_response(reader)
        conns.append((reader, writer, status))
    check(all(s == 200 for _, _, s in conns), "100 keep-alive connections answered and left idle")
    return [(r, w) for r, w, _ in conns]


async def flood(port, pid, marks):
    print("\n== 4. flood: 1,000 slowloris + 300 above the per-address cap + 300 above the total cap (%d s)" % FLOOD_SECONDS, flush=True)
    stop = asyncio.Event()
    baseline = fds(pid)
    samples = []
    counts = {"connects": 0, "refused_fast": 0}

    async def worker(source):
        while not stop.is_set():
            try:
                reader, writer = await connect(port, source)
            except Exception:  # noqa: BLE001 - the backlog may be full: try again
                await asyncio.sleep(0.2)
                continue
            counts["connects"] += 1
            opened = time.monotonic()
            try:
                writer.write(HALF_HEAD)
            except Exception:  # noqa: BLE001
                pass
            closed = asyncio.ensure_future(reader.read())
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait([closed, stopping], return_when=asyncio.FIRST_COMPLETED)
            for f in (closed, stopping):
                f.cancel()
            writer.close()
            if time.monotonic() - opened < 0.5 and not stop.is_set():
                counts["refused_fast"] += 1
                await asyncio.sleep(0.25)

    # The per-address group connects first: it reaches its own cap (PER_IP) while the total
    # still has room, so both caps refuse whatever the scheduling (started after the slowloris,
    # it met a full total first on a fast run and only the total cap refused it).
    sources = ["127.0.2.1"] * 300
    sources += ["127.0.1.%d" % (1 + i % 10) for i in range(1000)]
    sources += ["127.0.3.%d" % (1 + i % 3) for i in range(300)]
    tasks = [asyncio.ensure_future(worker(s)) for s in sources]
    flood_start = time.monotonic()
    hostile_from = None
    while time.monotonic() - flood_start < FLOOD_SECONDS:
        n = fds(pid)
        samples.append(n)
        if hostile_from is None and n - baseline >= 1000:
            hostile_from = time.time()
            marks["hostile_from"] = hostile_from
        await asyncio.sleep(0.1)
    marks["hostile_until"] = time.time()
    stop.set()
    stopped = time.monotonic()
    await asyncio.gather(*tasks, return_exceptions=True)

    # Back to normal: a new client is answered and the fds are back to the baseline.
    recovered = None
    while time.monotonic() - stopped < 10:
        try:
            reader, writer = await connect(port, "127.0.0.7")
            writer.write(b"GET /health HTTP/1.1\r\nHost: drill\r\nConnection: close\r\n\r\n")
            status, _ = await read_response(reader, 1)
            writer.close()
        except Exception:  # noqa: BLE001
            status = None
        if status == 200 and fds(pid) <= baseline + 2:
            recovered = time.monotonic() - stopped
            break
        await asyncio.sleep(0.05)

    metrics = {}
    try:
        reader, writer = await connect(port, "127.0.0.7")
        writer.write(b"GET /metrics HTTP/1.1\r\nHost: drill\r\nConnection: close\r\n\r\n")
        _, text = await read_response(reader, 5)
        writer.close()
        for line in text.splitlines():
            if line.startswith(("http_connections_open", "http_connections_rejected_total", "http_connection_timeouts_total")):
                name, value = line.rsplit(" ", 1)
                metrics[name] = float(value)
    except Exception as error:  # noqa: BLE001
        print("  /metrics could not be read: %r" % error)
    for name in sorted(metrics):
        print("  %s %g" % (name, metrics[name]))
    peak = max(samples)
    print("  fds: baseline %d, peak %d (+%d; cap %d), hostile >= 1,000 open from +%.1f s" % (
        baseline, peak, peak - baseline, MAX_CONNECTIONS,
        (hostile_from - marks["flood_wall_start"]) if hostile_from else float("nan")))
    print("  hostile connects %d, of which closed within 0.5 s (refused) %d" % (counts["connects"], counts["refused_fast"]))
    check(hostile_from is not None, "at least 1,000 hostile connections held open at once")
    check(peak <= marks["fds_at_start"] + MAX_CONNECTIONS + FD_MARGIN,
          "open fds bounded: peak %d <= %d at start + cap %d + %d" % (peak, marks["fds_at_start"], MAX_CONNECTIONS, FD_MARGIN))
    check(metrics.get('http_connections_rejected_total{reason="per_ip"}', 0) > 0
          and metrics.get('http_connections_rejected_total{reason="max_connections"}', 0) > 0,
          "both caps refused connections (http_connections_rejected_total)")
    check(metrics.get("http_connections_open", 1e9) <= 100 + 2 + 2,
          "http_connections_open back to the idle and well-behaved ones (%g)" % metrics.get("http_connections_open", -1))
    check(recovered is not None and recovered <= RECOVERY_LIMIT_S,
          "back to normal after the flood in %s s" % ("%.2f" % recovered if recovered is not None else "never"))


async def open_stream(port, token):
    """A live notification stream: (reader, writer, status, content type)."""
    reader, writer = await connect(port, "127.0.0.12")
    writer.write(
        b"GET /api/v2/notifications/stream HTTP/1.1\r\nHost: drill\r\nAccept: text/event-stream\r\n"
        b"Authorization: Bearer %s\r\n\r\n" % token.encode()
    )
    await writer.drain()
    head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)).decode("latin-1")
    content_type = re.search(r"(?im)^content-type:\s*(\S+)", head)
    return reader, writer, int(head.split(" ", 2)[1]), content_type.group(1) if content_type else None


async def stream_end(reader, signalled, limit):
    """Reads a stream to its end: (seconds after the signal until the `shutdown` event, until
    EOF; None for what did not come)."""
    data, final_at, eof_at = b"", None, None
    deadline = signalled + limit
    while time.monotonic() < deadline:
        try:
            chunk = await asyncio.wait_for(reader.read(4096), max(0.01, deadline - time.monotonic()))
        except (ConnectionError, OSError):
            chunk = b""
        except asyncio.TimeoutError:
            break
        if not chunk:
            eof_at = time.monotonic() - signalled
            break
        data += chunk
        if final_at is None and b"event: shutdown" in data:
            final_at = time.monotonic() - signalled
    # The final event ends the body: the last chunk of a chunked body follows it.
    ended = final_at is not None and data.rstrip().endswith(b"0")
    return final_at, eof_at, ended


async def sigterm(port, proc, idle):
    print("\n== 5. SIGTERM with 300 half-open, 100 idle keep-alive, a login in flight and a notification stream (grace %d s)" % GRACE, flush=True)
    stream_reader, stream_writer, stream_status, stream_type = await open_stream(port, DEMO["token"])
    check(stream_status == 200 and stream_type == "text/event-stream",
          "the notification stream opens (%s %s)" % (stream_status, stream_type))
    half = []
    for i in range(300):
        reader, writer = await connect(port, "127.0.0.%d" % (8 + i % 3))
        writer.write(HALF_HEAD)
        half.append((reader, writer))
    reader, writer = await connect(port, "127.0.0.11")
    body = json.dumps({"email": DEMO["email"], "password": DEMO["password"]}).encode()
    writer.write(
        b"POST /api/v2/auth/login HTTP/1.1\r\nHost: drill\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body) + body[:10]
    )
    await writer.drain()
    await asyncio.sleep(0.3)
    signalled = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    watchers = [asyncio.ensure_future(wait_closed(r, GRACE + 3)) for r, _ in half + idle]
    stream_watch = asyncio.ensure_future(stream_end(stream_reader, signalled, GRACE + 3))
    await asyncio.sleep(0.2)
    writer.write(body[10:])
    await writer.drain()
    try:
        status, answer = await read_response(reader, GRACE + 3)
    except Exception as error:  # noqa: BLE001
        status, answer = None, repr(error)
    answered_after = time.monotonic() - signalled
    closes = await asyncio.gather(*watchers)
    final_at, stream_eof_at, stream_ended = await stream_watch
    exit_after = None
    while time.monotonic() - signalled < GRACE + 5:
        if proc.poll() is not None:
            exit_after = time.monotonic() - signalled
            break
        await asyncio.sleep(0.02)
    close_all(w for _, w in half + idle)
    writer.close()
    stream_writer.close()
    still_open = sum(1 for c in closes if c is None)
    slowest = max((c for c in closes if c is not None), default=float("nan"))
    print("  in-flight login: %s after %.2f s; idle/half-open closed %d/400, slowest %.2f s after the signal; exit after %s s (code %s)" % (
        status, answered_after, 400 - still_open, slowest,
        "%.2f" % exit_after if exit_after is not None else "never", proc.returncode))
    print("  notification stream: final `shutdown` event %s s after the signal, closed %s s after it" % (
        "%.2f" % final_at if final_at is not None else "never",
        "%.2f" % stream_eof_at if stream_eof_at is not None else "never"))
    check(status == 200 and "access_token" in answer, "the request in flight at SIGTERM is answered 200")
    check(still_open == 0 and slowest <= 1.0, "idle and half-open connections closed at once (slowest %.2f s)" % slowest)
    check(final_at is not None and final_at <= 1.0 and stream_ended,
          "the notification stream gets its final event at once and its body ends (%s s)" % (
              "%.2f" % final_at if final_at is not None else "never"))
    check(stream_eof_at is not None and stream_eof_at < GRACE,
          "the notification stream's connection closes before the grace period ends")
    check(exit_after is not None and exit_after <= GRACE and proc.returncode == 0,
          "the server exits cleanly within the %d s grace period" % GRACE)


# ---------------------------------------------------------------- main

DEMO = {}


def report_good_client(path_out, marks):
    rows = [json.loads(line) for line in open(path_out)]
    print("\n== well-behaved client (2 keep-alive connections, every 20 ms each)")
    print("  %-22s %-8s %7s %7s %8s %8s %8s" % ("window", "path", "count", "errors", "p50 ms", "p99 ms", "max ms"))
    windows = [("phases 1-4", 0, float("inf")), ("flood, >=1,000 open", marks.get("hostile_from", 0), marks.get("hostile_until", 0))]
    for name, since, until in windows:
        for path in ("/health", "/api/v2/users/me"):
            sel = [r for r in rows if r[1] == path and since <= r[0] <= until]
            lat = [r[3] for r in sel]
            errors = sum(1 for r in sel if r[2] != 200)
            print("  %-22s %-8s %7d %7d %8.2f %8.2f %8.2f" % (
                name, "health" if path == "/health" else "users/me", len(sel), errors,
                percentile(lat, 50), percentile(lat, 99), max(lat) if lat else float("nan")))
            check(errors == 0 and len(sel) > 0, "%s %s: 0 errors (%d requests)" % (name, path, len(sel)))
            if name.startswith("flood"):
                check(percentile(lat, 99) <= P99_LIMIT_MS, "%s %s: p99 %.2f ms <= %.0f ms" % (name, path, percentile(lat, 99), P99_LIMIT_MS))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--good-client":
        good_client(int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5])
        return 0
    target = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/icosistem-ci-target"))
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(target, "release", "icosistem-server")
    if not os.access(binary, os.X_OK):
        print("hostile-drill: %s is not built (cargo build --release -p icosistem-server)" % binary, file=sys.stderr)
        return 1
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 8192:
        print("hostile-drill: the open-file hard limit (%d) is too low" % hard, file=sys.stderr)
        return 1
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    work = tempfile.mkdtemp(prefix="hostile-drill.")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update({
        "ICOSISTEM_ADDR": "%s:%d" % (HOST, port),
        "JWT_SECRET_KEY": "hostile-drill-secret-of-at-least-32-bytes",
        "LOG_LEVEL": "warn",
        "ICOSISTEM_RATE_LIMIT_ENABLED": "false",
        "ICOSISTEM_HEADER_READ_TIMEOUT_SECS": str(HEADER_TIMEOUT),
        "ICOSISTEM_KEEP_ALIVE_TIMEOUT_SECS": "60",
        "ICOSISTEM_BODY_READ_TIMEOUT_SECS": str(BODY_TIMEOUT),
        "ICOSISTEM_SHUTDOWN_GRACE_SECS": str(GRACE),
        "ICOSISTEM_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
        "ICOSISTEM_MAX_CONNECTIONS_PER_IP": str(PER_IP),
    })
    log_path = os.path.join(work, "server.log")
    log = open(log_path, "w")
    proc = subprocess.Popen([binary, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    good = None

    def give_up(*_):
        print("hostile-drill: FAILED: over the time bound", file=sys.stderr)
        proc.kill()
        if good:
            good.kill()
        os._exit(1)

    signal.signal(signal.SIGALRM, give_up)
    signal.alarm(170)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection(HOST, port, timeout=2)
                conn.request("GET", "/health")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                print(open(log_path).read()[-3000:])
                print("hostile-drill: FAILED: the server did not start", file=sys.stderr)
                return 1
            time.sleep(0.1)
        printed = open(log_path).read()
        DEMO["password"] = re.search(r"password for all: ([^)]+)\)", printed).group(1)
        DEMO["email"] = re.search(r"(?m)^\s+admin\s+(\S+)", printed).group(1)
        conn = http.client.HTTPConnection(HOST, port, timeout=10)
        conn.request("POST", "/api/v2/auth/login", body=json.dumps(DEMO), headers={"Content-Type": "application/json"})
        token = json.loads(conn.getresponse().read())["access_token"]
        DEMO["token"] = token

        marks = {"fds_at_start": fds(proc.pid)}
        good_out = os.path.join(work, "good.jsonl")
        stop_path = os.path.join(work, "stop")
        good = subprocess.Popen([sys.executable, __file__, "--good-client", str(port), token, good_out, stop_path])
        time.sleep(0.5)
        print("server pid %d on port %d; fds at start %d; limits: header %d s, body %d s, grace %d s, max connections %d, per address %d" % (
            proc.pid, port, marks["fds_at_start"], HEADER_TIMEOUT, BODY_TIMEOUT, GRACE, MAX_CONNECTIONS, PER_IP))

        async def run():
            await slowloris(port)
            await slow_bodies(port)
            idle = await idle_keep_alive(port)
            marks["flood_wall_start"] = time.time()
            await flood(port, proc.pid, marks)
            open(stop_path, "w").close()
            await asyncio.get_running_loop().run_in_executor(None, good.wait)
            report_good_client(good_out, marks)
            await sigterm(port, proc, idle)

        asyncio.run(run())
    finally:
        signal.alarm(0)
        if proc.poll() is None:
            proc.kill()
        if good and good.poll() is None:
            good.kill()
        log.close()
    if failures:
        print("\nserver log (tail):\n" + open(log_path).read()[-3000:])
        print("hostile-drill: FAILED: %d check(s): %s" % (len(failures), "; ".join(failures)), file=sys.stderr)
        return 1
    print("\nhostile-drill: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
