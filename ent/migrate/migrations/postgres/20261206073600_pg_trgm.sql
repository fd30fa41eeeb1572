-- pg_trgm's GIN operator class (gin_trgm_ops) backs the trigram indexes of customers(search:), created
-- by the next migration. PostgreSQL only: SQLite's search has no such index. pg_trgm is a trusted
-- extension: the database's owner may create it without superuser rights.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
