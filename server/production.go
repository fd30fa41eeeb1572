package main

import "net/http"

// hstsValue is the Strict-Transport-Security answered outside development: a year, this host only
// (includeSubDomains would bind every other service of the operator's domain to HTTPS as well).
// Browsers ignore it over plain HTTP, so a deployment that terminates TLS at the proxy loses nothing.
const hstsValue = "max-age=31536000"

// strictTransport adds HSTS to every answer outside development.
func strictTransport(dev bool, next http.Handler) http.Handler {
	if dev {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", hstsValue)
		next.ServeHTTP(w, r)
	})
}
