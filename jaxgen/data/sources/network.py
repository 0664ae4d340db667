"""A quick check that a download can start: a TCP connection within a few seconds."""

from __future__ import annotations

import socket
import threading
import urllib.parse
import urllib.request

CHECK_SECONDS = 3.0  # the connection check's limit, name lookup included


def unreachable(url: str, timeout: float | None = None) -> str | None:
    """``None`` if a TCP connection to ``url``'s host (or to the proxy that serves it) opens
    within ``timeout`` seconds (default :data:`CHECK_SECONDS`), name lookup included; else
    why not. It runs in a thread, so even a lookup that hangs is given up in time."""
    timeout = CHECK_SECONDS if timeout is None else timeout
    parts = urllib.parse.urlsplit(url)
    host, port = parts.hostname, parts.port or (443 if parts.scheme == 'https' else 80)
    proxy = urllib.request.getproxies().get(parts.scheme)
    if proxy and not urllib.request.proxy_bypass(host):
        parts = urllib.parse.urlsplit(proxy if '://' in proxy else f'http://{proxy}')
        host, port = parts.hostname, parts.port or 80
    outcome: list[str | None] = []

    def connect():
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            outcome.append(None)
        except OSError as e:
            outcome.append(f'{host}:{port} is unreachable ({e.strerror or e or type(e).__name__})')

    thread = threading.Thread(target=connect, daemon=True)
    thread.start()
    thread.join(timeout)
    return outcome[0] if outcome else f'{host}:{port} did not answer within {timeout:g} s'
