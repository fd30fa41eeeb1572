package main

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"coffer/graph/apperr"
	"coffer/graph/plaintext"
)

// textExceptions are the inputs that may hold some control characters, by "Type.field" (an input
// object's field) or "Type.field.argument": JSON text may be pretty-printed, and base64 may be
// wrapped in lines (Go's decoder skips CR and LF). Every other text input is single-line.
var textExceptions = map[string]string{
	"Mutation.setAdditionalInformation.jsonValue": plaintext.JSONWhitespace,
	"DocumentFileInput.base64Content":             "\r\n",
}

// inputText refuses control and bidirectional formatting characters in every String and ID
// input of an operation, argument or input-object field, literal or variable, once per operation
// and before any resolver runs: the same BAD_USER_INPUT on both stores, naming the bare field,
// instead of PostgreSQL's INTERNAL for a NUL and SQLite's silent storage of it. Strings inside a
// JSON scalar are free-form, but may not hold a NUL (PostgreSQL's jsonb cannot).
type inputText struct {
	schema *ast.Schema
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = (*inputText)(nil)

func (t *inputText) ExtensionName() string { return "InputText" }

func (t *inputText) Validate(es graphql.ExecutableSchema) error {
	t.schema = es.Schema()
	return nil
}

func (t *inputText) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	if opCtx.Operation == nil || opCtx.Doc == nil {
		return nil
	}
	w := textWalker{schema: t.schema, vars: opCtx.Variables, problems: apperr.Fields{}, seen: map[string]bool{}, doc: opCtx.Doc}
	w.selectionSet(opCtx.Operation.SelectionSet)
	if len(w.problems) > 0 {
		// The shape the error presenter gives an *apperr.Error, written out: gqlgen's WebSocket
		// transport sends the error list itself, relying on the presenter having run in place.
		return &gqlerror.Error{Message: "invalid input", Extensions: map[string]any{
			"code": string(apperr.BadUserInput), "fields": map[string]string(w.problems)}}
	}
	return nil
}

// textWalker visits every field of an operation once, each fragment once.
type textWalker struct {
	schema   *ast.Schema
	vars     map[string]any
	doc      *ast.QueryDocument
	seen     map[string]bool
	problems apperr.Fields
}

func (w *textWalker) selectionSet(set ast.SelectionSet) {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			w.arguments(sel)
			w.selectionSet(sel.SelectionSet)
		case *ast.InlineFragment:
			w.selectionSet(sel.SelectionSet)
		case *ast.FragmentSpread:
			if w.seen[sel.Name] {
				continue
			}
			w.seen[sel.Name] = true
			if def := w.doc.Fragments.ForName(sel.Name); def != nil {
				w.selectionSet(def.SelectionSet)
			}
		}
	}
}

func (w *textWalker) arguments(f *ast.Field) {
	if f.Definition == nil || f.ObjectDefinition == nil {
		return
	}
	for _, arg := range f.Arguments {
		def := f.Definition.Arguments.ForName(arg.Name)
		if def == nil || arg.Value == nil {
			continue
		}
		v, err := arg.Value.Value(w.vars)
		if err != nil {
			continue // validation reported it
		}
		w.value(v, def.Type, arg.Name, f.ObjectDefinition.Name+"."+f.Name+"."+arg.Name)
	}
}

// value checks v, of type t, given as the input named name (where is its key in textExceptions).
func (w *textWalker) value(v any, t *ast.Type, name, where string) {
	if v == nil {
		return
	}
	if t.Elem != nil {
		if list, ok := v.([]any); ok {
			for _, e := range list {
				w.value(e, t.Elem, name, where)
			}
			return
		}
		w.value(v, t.Elem, name, where) // a single value given for a list
		return
	}
	switch def := w.schema.Types[t.NamedType]; {
	case def == nil:
	case def.Kind == ast.InputObject:
		obj, _ := v.(map[string]any)
		for key, fv := range obj {
			if fd := def.Fields.ForName(key); fd != nil {
				w.value(fv, fd.Type, key, def.Name+"."+key)
			}
		}
	case def.Name == "String" || def.Name == "ID":
		if s, ok := v.(string); ok {
			if problem := plaintext.Problem(s, textExceptions[where]); problem != "" {
				w.problems.Add(name, problem)
			}
		}
	case def.Name == "JSON":
		w.json(v, name)
	}
}

// json refuses a NUL anywhere in a JSON value, keys included.
func (w *textWalker) json(v any, name string) {
	switch v := v.(type) {
	case string:
		if strings.ContainsRune(v, 0) {
			w.problems.Add(name, "must not contain a NUL character (U+0000)")
		}
	case []any:
		for _, e := range v {
			w.json(e, name)
		}
	case map[string]any:
		for k, e := range v {
			w.json(k, name)
			w.json(e, name)
		}
	}
}
