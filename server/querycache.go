package main

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
)

// Bounds of the parsed-query cache: clients send the same few operations again and again, and
// parsing and validating each one anew was about 7% of the server's CPU. Both bounds keep a
// client that sends endless distinct (or long) queries from growing the server's memory.
const (
	queryCacheEntries  = 500
	queryCacheMaxBytes = 4 << 10 // longer query texts are parsed every time
)

// queryCache keeps parsed and validated documents by query text (gqlgen adds a document only
// once it passed validation). Limits that depend on variables still run for every request.
type queryCache struct {
	lru *lru.LRU[*ast.QueryDocument]
}

var _ graphql.Cache[*ast.QueryDocument] = queryCache{}

func newQueryCache() queryCache {
	return queryCache{lru: lru.New[*ast.QueryDocument](queryCacheEntries)}
}

func (c queryCache) Get(ctx context.Context, query string) (*ast.QueryDocument, bool) {
	if len(query) > queryCacheMaxBytes {
		return nil, false
	}
	return c.lru.Get(ctx, query)
}

func (c queryCache) Add(ctx context.Context, query string, doc *ast.QueryDocument) {
	if len(query) <= queryCacheMaxBytes {
		c.lru.Add(ctx, query, doc)
	}
}
