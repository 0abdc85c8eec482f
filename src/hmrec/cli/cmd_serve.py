"""``hmrec serve``: the HTTP service and web page over one or more bundles written by ``hmrec train``."""

from __future__ import annotations

import os
import signal
import socket
import threading
from pathlib import Path

import typer

from hmrec.cli.main import app
from hmrec.errors import HmrecError

ADMIN_TOKEN_ENV = "HMREC_ADMIN_TOKEN"


class MissingExtraError(HmrecError):
    """An optional dependency group is not installed."""


@app.command("serve")
def serve_command(
    model_dir: list[Path] = typer.Option(
        ...,
        "--model-dir",
        help="A bundle (the --out of `hmrec train`), or a folder of bundles; repeat to serve several models.",
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (0.0.0.0 to listen on every interface)."),
    port: int = typer.Option(8000, "--port", help="TCP port."),
    no_verify: bool = typer.Option(
        False, "--no-verify", help="Skip the sha256 check of the bundle's files (sizes are still checked)."
    ),
    access_log: bool = typer.Option(False, "--access-log", help="Log every request (off: it costs throughput)."),
) -> None:
    """Serve recommendations over HTTP (JSON API under /v1, docs at /docs) and the web page at /.

    A new bundle is loaded without a restart by SIGHUP or by POST /admin/reload with
    'Authorization: Bearer $HMREC_ADMIN_TOKEN' (the endpoint is off when that variable is unset).
    """
    try:
        import uvicorn

        from hmrec.serve.app import create_app
    except ImportError as exc:
        raise MissingExtraError(
            f"hmrec serve needs FastAPI and uvicorn ({exc.name} is not installed) "
            "(fix: pip install 'hmrec[serve]')"
        ) from None
    from hmrec.errors import ParameterError
    from hmrec.serve.state import ServeState

    if not 0 < port < 65536:
        raise ParameterError(f"--port must be in 1..65535, got {port} (fix: e.g. --port 8000)")
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ParameterError(
                f"--host {host} --port {port}: cannot listen there ({exc.strerror}) (fix: choose another --port)"
            ) from None
    state = ServeState(model_dir, checksums=not no_verify, admin_token=os.environ.get(ADMIN_TOKEN_ENV))

    def reload_in_background(signum: int, frame: object) -> None:
        def run() -> None:
            try:
                names = state.reload()
                typer.echo(f"reloaded: {', '.join(names)}", err=True)
            except HmrecError as exc:
                typer.echo(f"reload failed, still serving the previous bundles: {exc}", err=True)

        threading.Thread(target=run, name="hmrec-reload", daemon=True).start()

    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, reload_in_background)
    names = ", ".join(f"{name} ({b.directory})" for name, b in state.bundles.items())
    typer.echo(f"Serving {names} on http://{host}:{port} (API docs at /docs)", err=True)
    uvicorn.run(create_app(state), host=host, port=port, access_log=access_log, log_level="warning")
