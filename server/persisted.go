package main

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Bounds of the automatic persisted queries (APQ): the query texts clients registered by their
// SHA-256. Registering needs no authentication (a client sends the hash before it logs in), so
// anyone can fill the cache: both bounds cap its memory at about 8 MiB, and an evicted query only
// costs its client one more round trip (PERSISTED_QUERY_NOT_FOUND, then the full text again).
const (
	persistedQueryEntries  = 1000
	persistedQueryMaxBytes = 8 << 10 // longer texts are served but not kept: sent in full each time
)

// persistedQueries is gqlgen's APQ extension over a bounded cache, with codes on the errors it
// gives a client without one (which the error presenter would otherwise show as INTERNAL).
// It must be registered before operationLimits: a request that carries only the hash gets its
// query text here, and the limits on the text must see it.
type persistedQueries struct {
	extension.AutomaticPersistedQuery
}

func newPersistedQueries() persistedQueries {
	return persistedQueries{extension.AutomaticPersistedQuery{
		Cache: persistedQueryCache{lru: lru.New[string](persistedQueryEntries)},
	}}
}

var _ graphql.OperationParameterMutator = persistedQueries{}

func (p persistedQueries) MutateOperationParameters(ctx context.Context, raw *graphql.RawParams) *gqlerror.Error {
	err := p.AutomaticPersistedQuery.MutateOperationParameters(ctx, raw)
	if err != nil && err.Extensions["code"] == nil {
		// "invalid APQ extension data", "unsupported APQ version", "provided APQ hash does not
		// match query": a malformed request, like a body gqlgen cannot decode.
		errcode.Set(err, "BAD_REQUEST")
	}
	return err
}

// persistedQueryCache keeps query texts by hash, up to persistedQueryMaxBytes each.
type persistedQueryCache struct {
	lru *lru.LRU[string]
}

var _ graphql.Cache[string] = persistedQueryCache{}

func (c persistedQueryCache) Get(ctx context.Context, hash string) (string, bool) {
	return c.lru.Get(ctx, hash)
}

func (c persistedQueryCache) Add(ctx context.Context, hash, query string) {
	if len(query) <= persistedQueryMaxBytes {
		c.lru.Add(ctx, hash, query)
	}
}
