package api

import (
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var routeParam = regexp.MustCompile(`:(\w+)`)

// specPath turns a fiber route into its OpenAPI form: /c/:id → /c/{id}; a trailing * is {path}
// (or {key} under /blobs).
func specPath(route string) string {
	p := routeParam.ReplaceAllString(route, "{$1}")
	if strings.HasPrefix(p, "/blobs/") {
		return strings.Replace(p, "*", "{key}", 1)
	}
	return strings.Replace(p, "*", "{path}", 1)
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	s := &Server{BlobHandler: http.NotFoundHandler()}
	routed := map[string]bool{}
	for _, r := range s.App().GetRoutes(true) {
		if r.Method != http.MethodHead {
			routed[strings.ToLower(r.Method)+" "+specPath(r.Path)] = true
		}
	}
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			documented[method+" "+path] = true
		}
	}
	if diff := cmp.Diff(keys(routed), keys(documented)); diff != "" {
		t.Errorf("routes (-) vs OpenAPI paths (+):\n%s", diff)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
}

func TestOpenAPIServedWithoutAuth(t *testing.T) {
	e := newPageEnv(t)
	resp, body := e.get(t, "/api/v1/openapi.json", nil)
	if resp.StatusCode != 200 || !json.Valid(body) {
		t.Fatalf("GET /api/v1/openapi.json = %d, valid JSON %v", resp.StatusCode, json.Valid(body))
	}
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
