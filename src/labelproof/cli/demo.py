"""``labelproof demo``: seed the demo organisation, users and project."""

from __future__ import annotations

import typer

from labelproof.cli._common import DataDir, domain_errors, runtime


def register(app: typer.Typer) -> None:
    @app.command("demo")
    @domain_errors
    def demo(data_dir: DataDir = None) -> None:
        """Create the demo (a user per role, sample images, every annotation type)."""
        from labelproof.demo import seed_demo

        rt = runtime(data_dir)
        project_id, users, created = seed_demo(rt)
        if not created:
            typer.echo(
                f"demo already present (project {project_id}); passwords were shown "
                "when it was created"
            )
            return
        typer.echo(f"demo project {project_id} created. Users (passwords shown once):")
        for u in users:
            typer.echo(f"  {u.role:<16} {u.email:<34} {u.password}")
