package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/index"
)

// searchIndex is a trigram index (PostgreSQL: GIN with gin_trgm_ops, from the pg_trgm extension
// the migration creates) on a column that customers(search:) matches with ILIKE '%term%', so that
// a search on 100,000 customers reads only the index's candidates. SQLite gets a plain index of
// the same name (it has no trigram index; its search scans). name is the index's name, unique in
// the database.
func searchIndex(name, column string) ent.Index {
	return index.Fields(column).StorageKey(name).Annotations(
		entsql.IndexTypes(map[string]string{dialect.Postgres: "GIN"}),
		entsql.OpClass("gin_trgm_ops"),
	)
}
