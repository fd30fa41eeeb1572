#!/usr/bin/env bash
# A whole session with nothing but curl: log in as the administrator, create a customer, mint
# coins for them, log in as the customer, send coins twice with the same idempotencyKey (money moves
# once) and read the balance. Every request is a JSON POST to /query with the token in the
# Authorization header. Needs curl and a running server (`make run`):
#
#   docs/curl-session.sh                                # against http://127.0.0.1:8080
#   COFFER_URL=http://127.0.0.1:9000 ADMIN_PASSWORD=... docs/curl-session.sh
set -euo pipefail
URL=${COFFER_URL:-http://127.0.0.1:8080}
ADMIN_PASSWORD=${ADMIN_PASSWORD:-coffer-admin-password}
suffix=$(date +%s)-$$ # a fresh customer each run

# gql TOKEN QUERY [VARIABLES]: posts {"query": QUERY, "variables": VARIABLES} and prints the
# answer; stops the script when the answer has errors. QUERY must not contain double quotes:
# values, and always credentials, go in VARIABLES (a JSON object), never in the query text.
gql() {
	local token=$1 query=$2 vars=${3:-'{}'} answer
	answer=$(curl -sS -X POST "$URL/query" -H 'Content-Type: application/json' \
		${token:+-H "Authorization: Bearer $token"} \
		--data "{\"query\": \"$query\", \"variables\": $vars}")
	echo "$answer" >&2
	if [[ $answer == *'"errors"'* ]]; then echo "request failed: $query" >&2; exit 1; fi
	echo "$answer"
}
# json_string: $1 as a JSON string (backslashes and double quotes escaped).
json_string() { local s=${1//\\/\\\\}; s=${s//\"/\\\"}; printf '"%s"' "$s"; }
login='mutation($login: String!, $password: String!) { login(input: {login: $login, password: $password}) { auth { token } } }'
create='mutation($in: CreateCustomerInput!) { createCustomer(input: $in) { id account { iban } } }'
# token: the value of the first "token" field in an answer.
token() { sed -n 's/.*"token":"\([^"]*\)".*/\1/p'; }

echo "== health: $(curl -sS "$URL/healthz")" >&2

echo '== log in as admin' >&2
admin=$(gql '' "$login" "{\"login\": \"admin\", \"password\": $(json_string "$ADMIN_PASSWORD")}" | token)

echo "== create customer carol-$suffix and mint 50.00 for her" >&2
gql "$admin" "$create" "{\"in\": {\"username\": \"carol-$suffix\", \"password\": \"carol-password-1\", \"name\": \"Carol Curl\", \"email\": \"carol-$suffix@example.com\"}}" >/dev/null
gql "$admin" "$create" "{\"in\": {\"username\": \"dave-$suffix\", \"password\": \"dave-password-1\", \"name\": \"Dave Curl\"}}" >/dev/null
gql "$admin" "mutation { createCoins(input: {recipient: {username: \\\"carol-$suffix\\\"}, amount: \\\"50.00\\\", targetDate: \\\"$(date -u +%Y-%m-%dT00:00:00Z)\\\"}) { id status } }" >/dev/null

echo '== log in as carol' >&2
carol=$(gql '' "$login" "{\"login\": \"carol-$suffix\", \"password\": \"carol-password-1\"}" | token)

echo '== send 12.50 to dave, twice with the same idempotencyKey' >&2
send="mutation { sendCoins(input: {recipient: {username: \\\"dave-$suffix\\\"}, amount: \\\"12.50\\\", idempotencyKey: \\\"curl-$suffix\\\"}) { id status } }"
first=$(gql "$carol" "$send")
second=$(gql "$carol" "$send")
[[ $first == "$second" ]] || { echo "the retry answered differently" >&2; exit 1; }

echo '== balance (50.00 - 12.50, once)' >&2
gql "$carol" "{ me { customer { balance { amount currency } } } }"
