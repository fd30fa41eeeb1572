#!/usr/bin/env bash
# Re-fetches the Playground's vendored files (server/playground/assets/vendor/) from the npm registry
# with `npm pack`, which checks each tarball against the registry's integrity hash. Run by
# `make playground-assets`; commit the result. The versions are pinned here and nowhere else.
set -euo pipefail
cd "$(dirname "$0")"
REACT=18.3.1      # the last React with UMD builds (GraphiQL 3 accepts React 16.8 to 18)
GRAPHIQL=3.9.0    # the last GraphiQL with a UMD build (graphiql.min.js); it bundles graphql and graphql-ws

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "react@$REACT" "react-dom@$REACT" "graphiql@$GRAPHIQL" >/dev/null)
out=assets/vendor
rm -rf "$out" && mkdir -p "$out"
take() { # take <tarball> <path in package> <name>
	tar -xzf "$tmp/$1" -C "$tmp" "package/$2"
	cp "$tmp/package/$2" "$out/$3"
	rm -rf "$tmp/package"
}
take "react-$REACT.tgz" umd/react.production.min.js "react-$REACT.production.min.js"
take "react-dom-$REACT.tgz" umd/react-dom.production.min.js "react-dom-$REACT.production.min.js"
take "graphiql-$GRAPHIQL.tgz" graphiql.min.js "graphiql-$GRAPHIQL.min.js"
take "graphiql-$GRAPHIQL.tgz" graphiql.min.css "graphiql-$GRAPHIQL.min.css"
take "graphiql-$GRAPHIQL.tgz" LICENSE "graphiql-LICENSE"
take "react-$REACT.tgz" LICENSE "react-LICENSE"
(cd "$out" && sha256sum -- *.js *.css) > "$out/SHA256SUMS"
echo "fetched into $out:"; cat "$out/SHA256SUMS"
