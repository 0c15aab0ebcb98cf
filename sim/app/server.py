"""Serve the planner's app on this machine (Panel on a Bokeh/Tornado server).

The server binds to 127.0.0.1 unless told otherwise; browsers may open its websocket only
from the address it serves (no other web page can drive it). Once it listens it prints one
line, ``staffsim app: serving SCENARIO at http://HOST:PORT/``, which scripts can wait for.
"""

from __future__ import annotations

import signal
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sim.config.yaml_lines import MAX_FILE_BYTES

LOCAL = "127.0.0.1"
READY = "staffsim app: serving"
"""The start of the line printed once the server listens."""


def free_port(host: str = LOCAL) -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def serve(
    scenario: Path | None = None,
    *,
    port: int = 8765,
    host: str = LOCAL,
    open_browser: bool = True,
    say: Callable[[str], None] = print,
) -> None:
    """Serve the app until interrupted.

    Args:
        scenario: a scenario file to open in every new tab (default: the shipped baseline).
        port: TCP port; 0 picks a free one.
        host: address to listen on; anything but 127.0.0.1 is reachable from other machines.
        open_browser: open the page in the default browser.
        say: where the ready line goes (stdout by default, flushed).
    """
    import panel as pn

    from sim.app.jobs import context, stop_all
    from sim.app.page import create_app

    context()  # the fork server starts before the first job, with staffsim preloaded
    if port == 0:
        port = free_port(host if host not in ("0.0.0.0", "") else LOCAL)
    origins = sorted({f"{LOCAL}:{port}", f"localhost:{port}", f"{host}:{port}"})
    path = str(scenario) if scenario is not None else None

    def factory() -> Any:  # Panel calls this once per browser tab
        return create_app(path)

    server: Any = pn.serve(
        {"/": factory},
        port=port,
        address=host,
        websocket_origin=origins,
        show=False,
        start=False,
        title="staffsim: the planner's app",
        # an upload travels base64-encoded inside one websocket message
        websocket_max_message_size=int(MAX_FILE_BYTES * 1.4) + 1_000_000,
    )
    url = f"http://{host}:{port}/"
    say(f"{READY} {scenario or 'the shipped scenarios'} at {url}")
    sys.stdout.flush()
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    loop = server.io_loop

    def stop(signum: int, frame: Any) -> None:  # SIGTERM: stop serving, end the jobs, exit normally
        loop.add_callback_from_signal(loop.stop)

    signal.signal(signal.SIGTERM, stop)
    server.start()
    try:
        loop.start()
    finally:
        stop_all()
