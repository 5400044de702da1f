"""The database's own guarantees: append-only history tables, and the application's PostgreSQL role."""
