package graph

import (
	"regexp"
	"strings"
	"unicode"

	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"coffer/graph/apperr"
)

// gqlparser refuses a literal that breaks @oneOf (RecipientInput) during validation, with
// GRAPHQL_VALIDATION_FAILED and these messages; a value given in variables reaches the domain,
// which refuses it with BAD_USER_INPUT. Clients get BAD_USER_INPUT either way (API.md): the
// contract does not depend on whether the input was written inline.
var oneOfMessages = []*regexp.Regexp{
	regexp.MustCompile(`^OneOf Input Object "(\w+)" must specify exactly one key\.$`),
	regexp.MustCompile(`^Field "(\w+)\.\w+" must be non-null\.$`), // the one key given is null
}

// oneOfViolation reports whether e is gqlparser's refusal of a @oneOf literal, and the name of
// the input field such objects are given in (RecipientInput in "recipient").
func oneOfViolation(e *gqlerror.Error) (field string, ok bool) {
	if e.Extensions["code"] != errcode.ValidationFailed {
		return "", false
	}
	for _, re := range oneOfMessages {
		if m := re.FindStringSubmatch(e.Message); m != nil {
			return inputFieldName(m[1]), true
		}
	}
	return "", false
}

// inputFieldName is the field an input type is given in, by the schema's naming: RecipientInput
// in recipient.
func inputFieldName(typeName string) string {
	name := []rune(strings.TrimSuffix(typeName, "Input"))
	if len(name) == 0 {
		return typeName
	}
	name[0] = unicode.ToLower(name[0])
	return string(name)
}

// oneOfError is the BAD_USER_INPUT a client gets for a @oneOf violation, keeping the location.
func oneOfError(e *gqlerror.Error, field string) *gqlerror.Error {
	out := *e
	out.Message = "invalid input"
	out.Rule = ""
	out.Extensions = map[string]any{
		"code":   string(apperr.BadUserInput),
		"fields": map[string]string{field: "give exactly one of its fields, not null"},
	}
	return &out
}
