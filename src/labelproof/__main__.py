"""``python -m labelproof`` runs the CLI."""

from labelproof.cli import main

main()
