"""Readiness probe for the broker started by deploy/kafka/start.sh.

Ready means: a Kafka client can bootstrap from the PLAINTEXT listener and the
cluster metadata lists at least one broker. A KRaft broker only starts serving
requests after it has registered with its controller and been unfenced, so
this is the same point at which it logs "Kafka Server started".

Uses aiokafka (the project's client) when it can be imported; otherwise falls
back to a standard-library ApiVersions round trip so that the scripts do not
depend on the virtualenv.

Exit status: 0 ready, 1 timed out, 2 the broker process died.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import socket
import struct
import sys
import time


def _alive(pid: int | None) -> bool:
    if pid is None:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


async def _probe_aiokafka(bootstrap: str) -> str | None:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    try:
        await admin.start()
        cluster = await admin.describe_cluster()
    finally:
        await admin.close()
    brokers = cluster.get("brokers") or []
    if not brokers:
        return None
    return f"cluster {cluster.get('cluster_id')} with {len(brokers)} broker(s)"


def _probe_stdlib(bootstrap: str) -> str | None:
    host, _, port = bootstrap.rpartition(":")
    client_id = b"slawatch-probe"
    # Request header v1 (api_key=18 ApiVersions, api_version=0, correlation_id,
    # client_id) and an empty v0 body.
    body = struct.pack(">hhih", 18, 0, 7, len(client_id)) + client_id
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(struct.pack(">i", len(body)) + body)
        header = b""
        while len(header) < 10:
            chunk = sock.recv(10 - len(header))
            if not chunk:
                return None
            header += chunk
    _size, correlation_id, error_code = struct.unpack(">iih", header)
    if correlation_id != 7 or error_code != 0:
        return None
    return "ApiVersions answered"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", required=True, help="host:port")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds")
    parser.add_argument("--pid", type=int, default=None, help="fail early if it exits")
    args = parser.parse_args()
    # Connection errors while the broker boots are expected; don't print them.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)

    try:
        import aiokafka  # noqa: F401

        use_aiokafka = True
    except ImportError:
        use_aiokafka = False
        print("probe: aiokafka not importable, using a raw ApiVersions request", file=sys.stderr)

    deadline = time.monotonic() + args.timeout
    last_error = "no attempt yet"
    while time.monotonic() < deadline:
        if not _alive(args.pid):
            print(f"probe: broker process {args.pid} exited", file=sys.stderr)
            return 2
        try:
            if use_aiokafka:
                result = asyncio.run(_probe_aiokafka(args.bootstrap))
            else:
                result = _probe_stdlib(args.bootstrap)
            if result:
                print(f"probe: {args.bootstrap} ready: {result}", file=sys.stderr)
                return 0
            last_error = "no broker in metadata yet"
        except Exception as exc:  # the broker is still starting; any error means "not yet"
            last_error = f"{type(exc).__name__}: {exc}"
        time.sleep(0.5)
    print(
        f"probe: {args.bootstrap} not ready after {args.timeout:.0f}s ({last_error})",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
