// Package coffer is a GraphQL banking backend; its main is ./server.
package coffer

// One entry point for generated code, ent before gqlgen (gqlgen binds to ent's types).
//go:generate go run -mod=mod ./ent/entc.go
//go:generate go tool gqlgen generate
