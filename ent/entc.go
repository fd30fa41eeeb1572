//go:build ignore

// entc generates the ent client from ent/schema, with entgql's Node, pagination and field
// collection. Run through `make generate` (generate.go), before gqlgen.
package main

import (
	"log"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
)

func main() {
	ex, err := entgql.NewExtension(entgql.WithConfigPath("./gqlgen.yml"))
	if err != nil {
		log.Fatalf("creating entgql extension: %v", err)
	}
	err = entc.Generate("./ent/schema", &gen.Config{
		Features: []gen.Feature{
			gen.FeatureLock,
			gen.FeatureExecQuery,
			gen.FeatureGlobalID,
			gen.FeatureUpsert,
			gen.FeatureVersionedMigration,
		},
	}, entc.Extensions(ex),
		// ScanValues/AssignValues on every entity: statements that join tables scan like ent does.
		entc.TemplateFiles("./ent/template/columns.tmpl"))
	if err != nil {
		log.Fatalf("running ent codegen: %v", err)
	}
}
