"""``labelproof serve``: the API server (uvicorn)."""

from __future__ import annotations

from typing import Annotated

import typer

from labelproof.cli._common import DataDir, domain_errors, runtime
from labelproof.config import DEFAULT_HOST, DEFAULT_PORT

#: Idle keep-alive connections stay open this long (uvicorn's default of 5 s makes busy
#: clients that pause between requests race the server's close: "connection reset").
KEEP_ALIVE_S = 30


def register(app: typer.Typer) -> None:
    @app.command("serve")
    @domain_errors
    def serve(
        data_dir: DataDir = None,
        host: Annotated[str, typer.Option(help="Address to listen on.")] = DEFAULT_HOST,
        port: Annotated[int, typer.Option(help="Port to listen on.")] = DEFAULT_PORT,
        workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
        retention_timer: Annotated[
            bool,
            typer.Option(
                "--retention-timer/--no-retention-timer",
                help="Carry out due destructions every LABELPROOF_RETENTION_INTERVAL seconds.",
            ),
        ] = True,
    ) -> None:
        """Start the API on an empty or existing data directory (migrated on start)."""
        import uvicorn

        from labelproof.api.app import create_app
        from labelproof.services.custody.retention import start_timer

        rt = runtime(data_dir)
        if retention_timer:  # one timer in this (parent) process, whatever the workers
            start_timer(rt, rt.settings.retention_interval_seconds)
        typer.echo(
            f"labelproof: data in {rt.settings.data_dir}; "
            f"database {rt.engine.url.render_as_string(hide_password=True)}",
            err=True,
        )
        typer.echo(f"labelproof: serving on http://{host}:{port}/ (API docs at /docs)", err=True)
        if workers > 1:
            import os

            os.environ["LABELPROOF_DATA_DIR"] = str(rt.settings.data_dir)
            uvicorn.run(
                "labelproof.api.asgi:app",
                host=host,
                port=port,
                workers=workers,
                log_level="warning",
                timeout_keep_alive=KEEP_ALIVE_S,
            )
        else:
            uvicorn.run(
                create_app(rt), host=host, port=port, log_level="warning", timeout_keep_alive=30
            )
