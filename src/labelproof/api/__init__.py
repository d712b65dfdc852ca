"""The HTTP API (FastAPI): thin routers that parse, authenticate and call one service."""
