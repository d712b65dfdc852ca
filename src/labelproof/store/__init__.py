"""Infrastructure: the SQL store (SQLAlchemy 2 + Alembic) and the blob store."""
