package playground

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, target string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec.Result()
}

// The page loads every script and style from this server, and every one of them is served.
func TestPage_loadsOnlyOwnAssets(t *testing.T) {
	h := Handler("coffer", "/query")
	res := get(t, h, "/")
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Security-Policy") != CSP {
		t.Fatalf("page: status %d, CSP %q", res.StatusCode, res.Header.Get("Content-Security-Policy"))
	}
	if strings.Contains(string(body), "//") && regexp.MustCompile(`(src|href)="(https?:)?//`).Match(body) {
		t.Fatalf("page refers to another host:\n%s", body)
	}
	if strings.Contains(string(body), "<script>") {
		t.Fatal("page has an inline script, which the CSP forbids")
	}
	refs := regexp.MustCompile(`(?:src|href)="(/playground/assets/[^"]+)"`).FindAllStringSubmatch(string(body), -1)
	if len(refs) != 5 {
		t.Fatalf("want 4 scripts and 1 stylesheet, got %v", refs)
	}
	for _, ref := range refs {
		target := strings.ReplaceAll(ref[1], "&amp;", "&")
		res := get(t, h, target)
		ct := res.Header.Get("Content-Type")
		if res.StatusCode != http.StatusOK || !(strings.HasPrefix(ct, "text/javascript") || strings.HasPrefix(ct, "text/css")) {
			t.Errorf("%s: status %d, type %q", target, res.StatusCode, ct)
		}
		if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("%s: Cache-Control %q, want immutable for a tagged URL", target, cc)
		}
	}
}

func TestAsset_unknownOrUntagged(t *testing.T) {
	h := Handler("coffer", "/query")
	if res := get(t, h, AssetPrefix+"nope.js"); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown asset: status %d", res.StatusCode)
	}
	res := get(t, h, AssetPrefix+"playground.js?v=old")
	if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("stale tag: status %d, Cache-Control %q", res.StatusCode, res.Header.Get("Cache-Control"))
	}
}
