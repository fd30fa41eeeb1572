// Package playground serves coffer's GraphiQL page from the binary itself: the page, its bootstrap
// script and the vendored React and GraphiQL builds (assets/vendor, fetched from npm by
// fetch-assets.sh) are embedded, so a bank's page loads no third-party script and the Playground
// works where no CDN is reachable.
package playground

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:embed assets/index.html assets/playground.js assets/vendor/*.js assets/vendor/*.css
var files embed.FS

// AssetPrefix is the URL path the assets are served under.
const AssetPrefix = "/playground/assets/"

// CSP is the page's Content-Security-Policy: scripts only from this origin (the bootstrap is a
// served file, not inline), fetches and WebSockets only to this origin. GraphiQL sets inline
// styles and its CSS embeds fonts and icons as data: URLs, hence those two allowances.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"font-src 'self' data:; img-src 'self' data:; connect-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// asset is one embedded file and the version tag that makes its URL immutable.
type asset struct {
	body        []byte
	contentType string
	tag         string
}

// server serves the page at every path it is mounted on and the assets under AssetPrefix.
type server struct {
	page   []byte
	assets map[string]asset
}

// Handler serves the Playground page (at every path it is mounted on) and its assets (under
// AssetPrefix); the page talks to endpoint, the GraphQL path, also used for WebSocket
// subscriptions. Its signature is that of gqlgen's playground.Handler, which it replaces. It
// panics only if the embedded files are broken, which the package's tests would have caught:
// there is nothing a caller could do about it at run time.
func Handler(title, endpoint string) http.Handler {
	h, err := build(title, endpoint)
	if err != nil {
		panic("playground: " + err.Error())
	}
	return h
}

func build(title, endpoint string) (*server, error) {
	h := &server{assets: map[string]asset{}}
	err := fs.WalkDir(files, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || p == "assets/index.html" {
			return err
		}
		body, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		h.assets[strings.TrimPrefix(p, "assets/")] = asset{
			body: body, contentType: mime.TypeByExtension(path.Ext(p)), tag: hex.EncodeToString(sum[:8]),
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	tmpl, err := template.ParseFS(files, "assets/index.html")
	if err != nil {
		return nil, err
	}
	// url gives an asset's address with its content tag, so a new build never meets a stale cache.
	url := func(name string) string { return AssetPrefix + name + "?v=" + h.assets[name].tag }
	var buf bytes.Buffer
	err = tmpl.Execute(&buf, map[string]any{
		"Title": title, "Endpoint": endpoint,
		"CSS":      url("vendor/graphiql-3.9.0.min.css"),
		"Scripts":  []string{url("vendor/react-18.3.1.production.min.js"), url("vendor/react-dom-18.3.1.production.min.js"), url("vendor/graphiql-3.9.0.min.js"), url("playground.js")},
		"Versions": "React 18.3.1, GraphiQL 3.9.0",
	})
	if err != nil {
		return nil, err
	}
	h.page = buf.Bytes()
	return h, nil
}

// ServeHTTP answers the page for any path outside AssetPrefix.
func (h *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if name, ok := strings.CutPrefix(r.URL.Path, AssetPrefix); ok {
		h.serveAsset(w, r, name)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Security-Policy", CSP)
	hd.Set("Cache-Control", "no-store")
	_, _ = w.Write(h.page)
}

func (h *server) serveAsset(w http.ResponseWriter, r *http.Request, name string) {
	a, ok := h.assets[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", a.contentType)
	hd.Set("Content-Security-Policy", CSP)
	// The tag in the URL names the content: only such a URL may be cached for good.
	if r.URL.Query().Get("v") == a.tag {
		hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		hd.Set("Cache-Control", "no-cache")
	}
	_, _ = w.Write(a.body)
}
