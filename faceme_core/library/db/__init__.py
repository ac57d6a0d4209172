"""The library's SQLite schema (SQLAlchemy Core tables) and its ordered migrations."""
