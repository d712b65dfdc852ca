"""Services: the business rules and the authorization of labelproof.

Every function takes a SQLAlchemy ``Session`` and the acting ``Actor`` first, then
keyword-only arguments; it raises ``labelproof.errors`` exceptions, never HTTP ones. The
API, the CLI and background jobs all go through these functions, so none can bypass the
authorization they hold.
"""
