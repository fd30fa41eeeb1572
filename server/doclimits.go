package main

import (
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// checkDocumentSize refuses a query whose selection sets are too wide or whose fields are too
// many, after parsing and before validation: validation compares the fields of one selection set
// pair by pair (OverlappingFieldsCanBeMerged), so `{ me { id id … } }` with 1,990 fields took a
// quarter of a second to be refused, while parsing it takes well under a millisecond.
//
// perSet bounds the selections of one selection set (fields and fragment spreads, the contents of
// inline fragments counted with their parent's); total bounds the fields written in the document,
// each fragment definition counted once (spreads are priced after validation, by the complexity
// limit). A query with no more identifiers than both limits cannot exceed them and is not parsed
// here; a query that does not parse is left to gqlgen, which reports the parse error itself.
func checkDocumentSize(query string, tokenLimit, perSet, total int) *gqlerror.Error {
	if identifiers(query) <= min(perSet, total) {
		return nil
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, tokenLimit)
	if err != nil {
		return nil
	}
	var c documentCounter
	for _, op := range doc.Operations {
		c.set(op.SelectionSet)
	}
	for _, f := range doc.Fragments {
		c.set(f.SelectionSet)
	}
	switch {
	case c.widest > perSet:
		return limitError(errcode.ValidationFailed, "a selection set has %d selections, over the limit of %d", c.widest, perSet)
	case c.fields > total:
		return limitError(errcode.ValidationFailed, "query has %d fields, over the limit of %d", c.fields, total)
	}
	return nil
}

// documentCounter counts the fields of a document and its widest selection set.
type documentCounter struct {
	fields int
	widest int
}

func (c *documentCounter) set(set ast.SelectionSet) {
	c.widest = max(c.widest, c.level(set))
}

// level counts the selections of one level, walking the sets of its fields as sets of their own.
func (c *documentCounter) level(set ast.SelectionSet) int {
	n := 0
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			n++
			c.fields++
			if len(sel.SelectionSet) > 0 {
				c.set(sel.SelectionSet)
			}
		case *ast.FragmentSpread:
			n++
		case *ast.InlineFragment:
			// Validation merges an inline fragment's fields with its parent's.
			n += c.level(sel.SelectionSet)
		}
	}
	return n
}

// identifiers counts the runs of name characters in a query text: an upper bound of its fields
// and spreads (names inside strings and comments count too), found without parsing.
func identifiers(query string) int {
	n, inName := 0, false
	for i := 0; i < len(query); i++ {
		b := query[i]
		isName := b == '_' || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (inName && b >= '0' && b <= '9')
		if isName && !inName {
			n++
		}
		inName = isName
	}
	return n
}
