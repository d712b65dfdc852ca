"""``labelproof.api.asgi:app`` for ASGI servers, configured from the environment."""

from __future__ import annotations

from labelproof.api.app import create_app
from labelproof.config import load_settings
from labelproof.services.context import open_runtime

app = create_app(open_runtime(load_settings()))
