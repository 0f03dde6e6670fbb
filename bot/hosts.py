"""Which Host names a local web server answers (against DNS rebinding).

A page on evil.example whose name is made to resolve to 127.0.0.1 reaches a
server on this machine with `Host: evil.example`; the browser treats it as
that site's own origin, so the same-origin checks pass. Answering only the
names the server is really reached by (this machine's, plus any configured
for a deployment) closes that: any other Host gets 421.
"""
from __future__ import annotations

from typing import Iterable

from aiohttp import web

LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")
NOT_ALLOWED = "Host no permitido."


def allowed_hosts(port: int, names: str = "") -> frozenset[str]:
    """This machine's names on `port`, plus the comma-separated names in the environment variable
    `names`, comma-separated (as the browser sends them: «soporte.empresa.mx» or «soporte.empresa.mx:8443»)."""
    extra = names.split(",")
    return frozenset([f"{host}:{port}" for host in LOCAL_HOSTS] + [n.strip().lower() for n in extra if n.strip()])


def host_guard(allowed: Iterable[str]):
    """aiohttp middleware: 421 for a Host header not in `allowed`."""
    names = frozenset(allowed)

    @web.middleware
    async def guard(request: web.Request, handler):
        if request.headers.get("Host", "").lower() not in names:
            raise web.HTTPMisdirectedRequest(text=NOT_ALLOWED)
        return await handler(request)

    return guard
