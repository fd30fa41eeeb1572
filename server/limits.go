package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"runtime/debug"
	"strings"
	"unicode/utf8"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"coffer/graph/apperr"
)

// errComplexity is gqlgen's own code for an operation over the cost limit.
const errComplexity = "COMPLEXITY_LIMIT_EXCEEDED"

func init() {
	// Like a parse or validation error, an operation over its cost never started: HTTP 422.
	errcode.RegisterErrorType(errComplexity, errcode.KindProtocol)
}

// introspectionDepth is the depth allowed inside __schema and __type: the introspection queries
// of GraphiQL and graphql-js nest `ofType` seven to nine levels deep under types, fields and args
// (up to 15 levels), more than an application query needs. Each level is one type, so this depth
// costs little; the fan-out is bounded by introspectionLists.
const introspectionDepth = 20

// introspectionLists bounds how often the lists of types (fields, inputFields, interfaces,
// possibleTypes) nest inside introspection: __type { fields { type { fields { type { fields ...
// multiplies the answer by the number of fields at every level. Like graphql-js's
// MaxIntrospectionDepthRule, three are refused; the introspection query needs one.
const introspectionLists = 2

// defaultPageCost is the page size a connection costs when a query gives neither first nor last:
// graph.pageArgs then returns 50 items.
const defaultPageCost = 50

// hardenGraphQL applies the GraphQL limits of h to gql. Every limit is checked before any
// resolver runs, so a refused operation has no effect.
func hardenGraphQL(gql *handler.Server, h Hardening, dev bool) {
	gql.SetParserTokenLimit(h.MaxTokens)
	// "Did you mean ...?" would let a client enumerate the schema even without introspection.
	gql.SetDisableSuggestion(!dev)
	if !dev {
		// gqlgen swaps only two of the rules that suggest; these are the others.
		gql.SetValidationRulesFn(rulesWithoutSuggestions)
	}
	gql.SetRecoverFunc(recoverToInternal)
	if h.Introspection {
		gql.Use(extension.Introspection{})
	}
	gql.Use(&operationLimits{h: h})
	gql.Use(&inputText{})
}

// rulesWithoutSuggestions are gqlparser's rules with every rule that can answer "Did you mean"
// replaced by its variant that does not.
func rulesWithoutSuggestions() *rules.Rules {
	r := rules.NewDefaultRules()
	for _, rule := range []core.Rule{
		rules.FieldsOnCorrectTypeRuleWithoutSuggestions, rules.ScalarLeafsRuleWithoutSuggestions,
		rules.KnownArgumentNamesRuleWithoutSuggestions, rules.KnownTypeNamesRuleWithoutSuggestions,
		rules.ValuesOfCorrectTypeRuleWithoutSuggestions,
	} {
		r.RemoveRule(strings.TrimSuffix(rule.Name, "WithoutSuggestions"))
		r.AddRule(rule.Name, rule.RuleFunc)
	}
	return r
}

// recoverToInternal turns a panic in a resolver into INTERNAL: the stack goes to the log, never to
// the client.
func recoverToInternal(ctx context.Context, v any) error {
	slog.ErrorContext(ctx, "panic while resolving", "panic", v, "stack", string(debug.Stack()))
	return apperr.New(apperr.Internal, "internal error")
}

// operationLimits refuses operations whose text or shape is beyond the configured limits, then
// those whose cost is: first the query length (before parsing), then the width of selection sets
// and the number of fields (after parsing, before validation), then depth, aliases, directives
// and introspection, then complexity.
type operationLimits struct {
	h  Hardening
	es graphql.ExecutableSchema
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
	graphql.OperationContextMutator
} = (*operationLimits)(nil)

func (l *operationLimits) ExtensionName() string { return "OperationLimits" }

func (l *operationLimits) Validate(es graphql.ExecutableSchema) error {
	l.es = es
	return nil
}

// MutateOperationParameters runs before the query is parsed.
func (l *operationLimits) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if n := utf8.RuneCountInString(p.Query); n > l.h.MaxQueryLength {
		return limitError(errcode.ParseFailed, "query is %d characters long, over the limit of %d", n, l.h.MaxQueryLength)
	}
	return checkDocumentSize(p.Query, l.h.MaxTokens, l.h.MaxSelections, l.h.MaxFields)
}

// MutateOperationContext runs after parsing and validation, before execution.
func (l *operationLimits) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	op := opCtx.Operation
	if op == nil {
		return nil
	}
	m := measurer{fragments: map[string]shape{}}
	s := m.selectionSet(op.SelectionSet)
	s.directives = satAdd(s.directives, len(op.Directives))
	switch {
	case s.depth > l.h.MaxDepth:
		return limitError(errcode.ValidationFailed, "query depth %d is over the limit of %d", s.depth, l.h.MaxDepth)
	case s.introspectionDepth > max(introspectionDepth, l.h.MaxDepth):
		return limitError(errcode.ValidationFailed, "introspection depth %d is over the limit of %d", s.introspectionDepth, max(introspectionDepth, l.h.MaxDepth))
	case s.introspectionLists > introspectionLists:
		return limitError(errcode.ValidationFailed, "introspection nests lists of types %d times, over the limit of %d", s.introspectionLists, introspectionLists)
	case s.aliases > l.h.MaxAliases:
		return limitError(errcode.ValidationFailed, "query has %d aliases, over the limit of %d", s.aliases, l.h.MaxAliases)
	case s.directives > l.h.MaxDirectives:
		return limitError(errcode.ValidationFailed, "query has %d directives, over the limit of %d", s.directives, l.h.MaxDirectives)
	case s.introspects && !l.h.Introspection:
		return limitError(errcode.ValidationFailed, "introspection is disabled")
	case s.fields > l.h.MaxComplexity:
		// Every field costs at least one, so this refuses fragment bombs before the complexity
		// walk, which expands every fragment spread again.
		return limitError(errComplexity, "operation has complexity over %d, the limit", l.h.MaxComplexity)
	}
	cost := complexity.Calculate(ctx, pagedCost{l.es}, op, opCtx.Variables)
	if cost > l.h.MaxComplexity {
		return limitError(errComplexity, "operation has complexity %d, over the limit of %d", cost, l.h.MaxComplexity)
	}
	return nil
}

func limitError(code, format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	errcode.Set(err, code)
	return err
}

// shape is what the limits measure of a selection set, relative to where it appears.
type shape struct {
	depth              int // longest path of fields outside introspection
	introspectionDepth int // longest path through __schema or __type
	lists              int // most type-list fields (fields, interfaces, ...) nested on one path
	introspectionLists int // lists, on paths through __schema or __type
	aliases            int
	directives         int
	fields             int // fields outside introspection, each fragment spread expanded
	introspects        bool
}

// measurer measures an operation. Each fragment is measured once: counts of fragments spread many
// times multiply (saturating), but the walk stays linear in the query's size.
type measurer struct {
	fragments map[string]shape
}

func (m *measurer) selectionSet(set ast.SelectionSet) shape {
	var s shape
	for _, sel := range set {
		var c shape
		switch sel := sel.(type) {
		case *ast.Field:
			c = m.field(sel)
		case *ast.InlineFragment:
			c = m.selectionSet(sel.SelectionSet)
			c.directives = satAdd(c.directives, len(sel.Directives))
		case *ast.FragmentSpread:
			c = m.fragment(sel)
			c.directives = satAdd(c.directives, len(sel.Directives))
		}
		s.depth = max(s.depth, c.depth)
		s.introspectionDepth = max(s.introspectionDepth, c.introspectionDepth)
		s.lists = max(s.lists, c.lists)
		s.introspectionLists = max(s.introspectionLists, c.introspectionLists)
		s.aliases = satAdd(s.aliases, c.aliases)
		s.directives = satAdd(s.directives, c.directives)
		s.fields = satAdd(s.fields, c.fields)
		s.introspects = s.introspects || c.introspects
	}
	return s
}

func (m *measurer) field(f *ast.Field) shape {
	child := m.selectionSet(f.SelectionSet)
	s := shape{
		aliases:            child.aliases,
		directives:         satAdd(child.directives, len(f.Directives)),
		introspects:        child.introspects,
		lists:              child.lists,
		introspectionLists: child.introspectionLists,
	}
	switch f.Name {
	case "fields", "inputFields", "interfaces", "possibleTypes":
		s.lists++
	}
	if f.Alias != "" && f.Alias != f.Name {
		s.aliases = satAdd(s.aliases, 1)
	}
	if f.Name == "__schema" || f.Name == "__type" {
		s.introspects = true
		s.introspectionDepth = 1 + max(child.depth, child.introspectionDepth)
		s.introspectionLists = max(child.lists, child.introspectionLists)
		if f.Name == "__type" {
			// gqlgen's complexity walk skips __schema but not __type.
			s.fields = satAdd(child.fields, 1)
		}
		return s
	}
	s.depth = 1 + child.depth
	if child.introspectionDepth > 0 {
		s.introspectionDepth = 1 + child.introspectionDepth
	}
	s.fields = satAdd(child.fields, 1)
	return s
}

func (m *measurer) fragment(spread *ast.FragmentSpread) shape {
	if s, ok := m.fragments[spread.Name]; ok {
		return s
	}
	if spread.Definition == nil {
		return shape{}
	}
	// Validation has refused fragment cycles; the placeholder still guards the recursion.
	m.fragments[spread.Name] = shape{}
	s := m.selectionSet(spread.Definition.SelectionSet)
	s.directives = satAdd(s.directives, len(spread.Definition.Directives))
	m.fragments[spread.Name] = s
	return s
}

// satAdd adds two counts, stopping at a ceiling far above any limit instead of overflowing.
func satAdd(a, b int) int {
	const ceiling = 1 << 40
	if a+b > ceiling || a+b < 0 {
		return ceiling
	}
	return a + b
}

// pagedCost is the schema's cost model for complexity.Calculate: a field that takes first or last
// returns that many items, so its selection costs that many times, and so does a field that takes
// a list of ids (nodes) for each id; other fields cost one plus
// their selection (gqlgen's default). It applies to every connection of the schema, present and
// future, without a cost function per field.
type pagedCost struct {
	graphql.ExecutableSchema
}

func (p pagedCost) Complexity(ctx context.Context, typeName, field string, childComplexity int, args map[string]any) (int, bool) {
	def := p.Schema().Types[typeName]
	if def == nil {
		return 0, false
	}
	fd := def.Fields.ForName(field)
	if fd == nil {
		return p.ExecutableSchema.Complexity(ctx, typeName, field, childComplexity, args)
	}
	if ids := fd.Arguments.ForName("ids"); ids != nil && ids.Type.Elem != nil {
		// nodes(ids:) returns one item per id, duplicates included: each is resolved in full.
		return satAdd(1, satMul(max(listLen(args["ids"]), 1), childComplexity)), true
	}
	if fd.Arguments.ForName("first") == nil && fd.Arguments.ForName("last") == nil {
		return p.ExecutableSchema.Complexity(ctx, typeName, field, childComplexity, args)
	}
	n := max(pageArg(args["first"]), pageArg(args["last"]))
	if n == 0 && args["first"] == nil && args["last"] == nil {
		n = defaultPageCost
	}
	return satAdd(1, satMul(max(n, 1), childComplexity)), true
}

// listLen is the length of a list argument as the complexity walker hands it over.
func listLen(v any) int {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice {
		return 0
	}
	return rv.Len()
}

// pageArg reads a first/last argument as the complexity walker hands it over (a literal or a
// coerced variable).
func pageArg(v any) int {
	var n int64
	switch v := v.(type) {
	case int:
		n = int64(v)
	case int32:
		n = int64(v)
	case int64:
		n = v
	case float64:
		n = int64(v)
	case json.Number:
		n, _ = v.Int64()
	case *int:
		if v != nil {
			n = int64(*v)
		}
	}
	if n < 0 {
		return 0
	}
	return int(min(n, 1<<20))
}

func satMul(a, b int) int {
	if a == 0 || b == 0 {
		return 0
	}
	const ceiling = 1 << 40
	if a > ceiling/b {
		return ceiling
	}
	return a * b
}
