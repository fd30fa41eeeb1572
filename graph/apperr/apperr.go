// Package apperr is coffer's one error type: a code from the public contract (API.md), a message
// safe to show a client, and for input errors the offending fields. Domain packages return it;
// the GraphQL error presenter maps it to extensions.code once, and hides every other error.
package apperr

import (
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"
	"time"
)

// Code is an extensions.code of the contract.
type Code string

const (
	Unauthenticated    Code = "UNAUTHENTICATED"
	Forbidden          Code = "FORBIDDEN"
	NotFound           Code = "NOT_FOUND"
	BadUserInput       Code = "BAD_USER_INPUT"
	Conflict           Code = "CONFLICT"
	InsufficientFunds  Code = "INSUFFICIENT_FUNDS"
	PreconditionFailed Code = "PRECONDITION_FAILED"
	InvalidCode        Code = "INVALID_CODE"
	AccountLocked      Code = "ACCOUNT_LOCKED"
	AccountDisabled    Code = "ACCOUNT_DISABLED"
	TooManyRequests    Code = "TOO_MANY_REQUESTS"
	Internal           Code = "INTERNAL"
)

// Error is a failure a client may see.
type Error struct {
	Code    Code
	Message string
	// Fields maps bare input field names ("email", not "input.email") to a human message.
	Fields map[string]string
	// RetryAfterSeconds, when positive, is how long a TOO_MANY_REQUESTS asks to wait
	// (extensions.retryAfter).
	RetryAfterSeconds int
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return e.Message
	}
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + e.Fields[k]
	}
	return e.Message + " (" + strings.Join(parts, "; ") + ")"
}

// New returns an error with a code and a client-safe message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Field is a BAD_USER_INPUT error naming one input field.
func Field(name, message string) *Error {
	return &Error{Code: BadUserInput, Message: "invalid input", Fields: map[string]string{name: message}}
}

// ConflictOn is a CONFLICT naming the input field whose value is taken.
func ConflictOn(name, message string) *Error {
	return &Error{Code: Conflict, Message: message, Fields: map[string]string{name: message}}
}

// TooMany is a TOO_MANY_REQUESTS that says how long to wait, rounded up to whole seconds.
func TooMany(retryAfter time.Duration, format string, args ...any) *Error {
	e := New(TooManyRequests, format, args...)
	e.RetryAfterSeconds = max(int((retryAfter+time.Second-1)/time.Second), 1)
	return e
}

// Fields collects input problems so that a client learns all of them at once.
type Fields map[string]string

// Add records a problem with field name unless one is already recorded for it.
func (f Fields) Add(name, message string) {
	if _, ok := f[name]; !ok {
		f[name] = message
	}
}

// Err returns nil when nothing was recorded, else one BAD_USER_INPUT naming every field.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	return &Error{Code: BadUserInput, Message: "invalid input", Fields: maps.Clone(map[string]string(f))}
}

// CodeOf returns the code of err, INTERNAL for anything that is not an *Error.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// Is reports whether err carries code.
func Is(err error, code Code) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}
