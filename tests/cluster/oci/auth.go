package oci

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
)

// Credentials the protected parts of the test registry accept.
const (
	AuthUser     = "kstage"
	AuthPassword = "kstage-registry-secret"
	AuthService  = "kstage-test-registry"
)

// WithAuth puts h behind two kinds of authentication, as real registries do:
//   - repositories under "bearer/" answer 401 with
//     `WWW-Authenticate: Bearer realm="https://HOST/token",service=...,scope=repository:REPO:pull`
//     (Docker Hub, GHCR, Harbor); GET /token with HTTP basic credentials gives
//     {"token": T, "access_token": T}; T then opens that repository only;
//   - repositories under "basic/" answer 401 with `WWW-Authenticate: Basic realm=...`
//     and accept the same credentials as HTTP basic.
//
// Everything else stays anonymous.
func WithAuth(h http.Handler) http.Handler {
	var mu sync.Mutex
	tokens := map[string]string{} // token -> repository
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			u, p, ok := r.BasicAuth()
			if !ok || u != AuthUser || p != AuthPassword {
				w.Header().Set("WWW-Authenticate", `Basic realm="kstage test token service"`)
				http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}`, http.StatusUnauthorized)
				return
			}
			scope := r.URL.Query().Get("scope")
			repo, ok := strings.CutPrefix(scope, "repository:")
			if i := strings.LastIndex(repo, ":"); ok && i > 0 {
				repo = repo[:i]
			}
			if r.URL.Query().Get("service") != AuthService || !ok || !strings.HasPrefix(repo, "bearer/") {
				http.Error(w, `{"errors":[{"code":"DENIED","message":"bad service or scope"}]}`, http.StatusForbidden)
				return
			}
			b := make([]byte, 16)
			_, _ = rand.Read(b)
			t := hex.EncodeToString(b)
			mu.Lock()
			tokens[t] = repo
			mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"token": t, "access_token": t, "expires_in": 300})
			return
		}
		rest, isV2 := strings.CutPrefix(r.URL.Path, "/v2/")
		switch {
		case isV2 && strings.HasPrefix(rest, "bearer/"):
			repo := repoOf(rest)
			t, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			mu.Lock()
			okRepo := tokens[t]
			mu.Unlock()
			if t == "" || okRepo != repo {
				w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="https://%s/token",service="%s",scope="repository:%s:pull"`,
					r.Host, AuthService, repo))
				http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
				return
			}
		case isV2 && strings.HasPrefix(rest, "basic/"):
			u, p, ok := r.BasicAuth()
			if !ok || u != AuthUser || p != AuthPassword {
				w.Header().Set("WWW-Authenticate", `Basic realm="kstage test registry"`)
				http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// repoOf is the repository of a /v2/ path rest ("a/b/manifests/t" -> "a/b").
func repoOf(rest string) string {
	for _, k := range []string{"/manifests/", "/blobs/", "/tags/"} {
		if i := strings.LastIndex(rest, k); i >= 0 {
			return rest[:i]
		}
	}
	return rest
}
