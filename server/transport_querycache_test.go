package main

import (
	"context"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
)

// TestQueryCache_keepsShortQueries_boundedInSizeAndCount checks both bounds: a query text over
// queryCacheMaxBytes is never kept, and no more than queryCacheEntries documents are.
func TestQueryCache_keepsShortQueries_boundedInSizeAndCount(t *testing.T) {
	ctx := context.Background()
	c := newQueryCache()
	doc := &ast.QueryDocument{}
	short := "{ me { username } }"
	long := "{ me { username } }" + strings.Repeat(" ", queryCacheMaxBytes)
	c.Add(ctx, short, doc)
	c.Add(ctx, long, doc)
	if got, ok := c.Get(ctx, short); !ok || got != doc {
		t.Errorf("short query: got %v, %v; want the document", got, ok)
	}
	if _, ok := c.Get(ctx, long); ok {
		t.Errorf("a query of %d bytes was kept, over the bound of %d", len(long), queryCacheMaxBytes)
	}
	for i := range queryCacheEntries + 10 {
		c.Add(ctx, "{ me { username } } #"+strings.Repeat("x", i), doc)
	}
	key := func(i int) string { return "{ me { username } } #" + strings.Repeat("x", i) }
	kept := 0
	for i := range queryCacheEntries + 10 {
		if _, ok := c.Get(ctx, key(i)); ok {
			kept++
		}
	}
	if kept != queryCacheEntries {
		t.Errorf("cache holds %d of the documents, want the bound %d", kept, queryCacheEntries)
	}
	if _, ok := c.Get(ctx, short); ok {
		t.Error("the oldest document survived more than queryCacheEntries newer ones")
	}
}
