"""The database: engines for SQLite and PostgreSQL, the request's session in its declared
mode, and the one mapping from database errors to problems."""
