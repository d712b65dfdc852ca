"""API routers; each route's function name is its stable OpenAPI operation id."""
