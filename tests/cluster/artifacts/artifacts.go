// Package artifacts serves the shared fixtures over HTTPS under
// GitHub-release-like paths, with optional damage for failure tests.
//
// Paths:
//
//	/kubernetes-sigs/gateway-api/releases/download/<v>/<file>  -> <fixtures>/gateway-api/<v>/<file>
//	/kserve/kserve/releases/download/<v>/<file>                -> <fixtures>/kserve/<v>/<file>
//	/fixtures/<path>                                           -> <fixtures>/<path>
//
// A file missing from the fixtures is looked up in the further roots given to
// New, in order (the release assets rebuilt by tests/tools/gwapi_install_yaml.py
// in the build directory, same layout).
//
// Damage, by query or by a path prefix (the prefix form is for clients that
// drop queries):
//
//	?truncate=N   or /_truncate/N/<path>  first N bytes, Content-Length N (a short but "complete" file)
//	?cut=N        or /_cut/N/<path>       full Content-Length, connection closed after N bytes
//	?tamper=1     or /_tamper/<path>      same length, one byte in the middle flipped
//	?slow=MS      or /_slow/MS/<path>     MS milliseconds between 4 KiB chunks
//	?status=CODE  or /_status/CODE/<path> answer CODE with no body
//	?delay=MS     or /_delay/MS/<path>    wait MS before answering
//	                 /_fail/N/<path>      answer 500 to the first N requests for this exact URL path
//	                 /_id/WORD/<path>     no damage: makes the URL path (and so the fail count) unique
package artifacts

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Server serves files from Root, else from the first of More that has them.
type Server struct {
	Root string
	More []string
	mu   sync.Mutex
	hits map[string]int
}

// New makes a server over root, then more.
func New(root string, more ...string) *Server {
	return &Server{Root: root, More: more, hits: map[string]int{}}
}

var releases = map[string]string{
	"kubernetes-sigs/gateway-api": "gateway-api",
	"kserve/kserve":               "kserve",
}

// Hits returns how many times each path (without query) was requested.
func (s *Server) Hits() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, v := range s.hits {
		out[k] = v
	}
	return out
}

// resolve maps a URL path to a file under Root, else under the first of More
// that has it.
func (s *Server) resolve(p string) (string, bool) {
	rel, ok := relPath(p)
	if !ok {
		return "", false
	}
	file := filepath.Join(s.Root, rel)
	if !fileExists(file) {
		for _, r := range s.More {
			if f := filepath.Join(r, rel); fileExists(f) {
				return f, true
			}
		}
	}
	return file, true // missing everywhere: ServeHTTP answers 404
}

func fileExists(f string) bool {
	st, err := os.Stat(f)
	return err == nil && !st.IsDir()
}

// relPath maps a URL path to a path relative to a root.
func relPath(p string) (string, bool) {
	p = path.Clean("/" + p)
	if rest, ok := strings.CutPrefix(p, "/fixtures/"); ok {
		return filepath.FromSlash(rest), true
	}
	parts := strings.SplitN(strings.TrimPrefix(p, "/"), "/", 6)
	// owner/repo/releases/download/<v>/<file>
	if len(parts) == 6 && parts[2] == "releases" && parts[3] == "download" {
		if sub, ok := releases[parts[0]+"/"+parts[1]]; ok {
			return filepath.Join(sub, parts[4], filepath.FromSlash(parts[5])), true
		}
	}
	return "", false
}

type damage struct {
	truncate, cut, slow, status, delay, fail int
	tamper                                   bool
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// parseDamage reads damage from the query and strips path prefixes.
func parseDamage(r *http.Request) (string, damage) {
	q := r.URL.Query()
	d := damage{truncate: -1, cut: -1}
	if v := q.Get("truncate"); v != "" {
		d.truncate = atoi(v)
	}
	if v := q.Get("cut"); v != "" {
		d.cut = atoi(v)
	}
	d.tamper = q.Get("tamper") != "" && q.Get("tamper") != "0"
	d.slow = atoi(q.Get("slow"))
	d.status = atoi(q.Get("status"))
	d.delay = atoi(q.Get("delay"))
	p := r.URL.Path
	for {
		switch {
		case strings.HasPrefix(p, "/_tamper/"):
			d.tamper, p = true, strings.TrimPrefix(p, "/_tamper")
			continue
		case strings.HasPrefix(p, "/_truncate/"), strings.HasPrefix(p, "/_cut/"), strings.HasPrefix(p, "/_slow/"),
			strings.HasPrefix(p, "/_status/"), strings.HasPrefix(p, "/_delay/"), strings.HasPrefix(p, "/_fail/"),
			strings.HasPrefix(p, "/_id/"):
			parts := strings.SplitN(strings.TrimPrefix(p, "/"), "/", 3)
			if len(parts) < 3 {
				return p, d
			}
			n := atoi(parts[1])
			switch parts[0] {
			case "_truncate":
				d.truncate = n
			case "_cut":
				d.cut = n
			case "_slow":
				d.slow = n
			case "_status":
				d.status = n
			case "_delay":
				d.delay = n
			case "_fail":
				d.fail = n
			}
			p = "/" + parts[2]
			continue
		}
		return p, d
	}
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p, d := parseDamage(r)
	s.mu.Lock()
	s.hits[r.URL.Path]++
	hit := s.hits[r.URL.Path]
	s.mu.Unlock()
	if hit <= d.fail {
		http.Error(w, "injected failure", http.StatusInternalServerError)
		return
	}
	d.fail = 0
	if d.delay > 0 {
		select {
		case <-time.After(time.Duration(d.delay) * time.Millisecond):
		case <-r.Context().Done():
			return
		}
	}
	if d.status > 0 {
		w.WriteHeader(d.status)
		return
	}
	file, ok := s.resolve(p)
	if !ok {
		http.NotFound(w, r)
		return
	}
	st, err := os.Stat(file)
	if err != nil || st.IsDir() {
		http.NotFound(w, r)
		return
	}
	if d == (damage{truncate: -1, cut: -1}) {
		http.ServeFile(w, r, file) // ranges, conditional requests
		return
	}
	data, err := os.ReadFile(file)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	if d.tamper && len(data) > 0 {
		data = bytes.Clone(data)
		data[len(data)/2] ^= 0x20
	}
	length := len(data)
	if d.truncate >= 0 && d.truncate < len(data) {
		data = data[:d.truncate]
		length = len(data)
	}
	send := len(data)
	if d.cut >= 0 && d.cut < len(data) {
		send = d.cut
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(length))
	w.WriteHeader(200)
	if r.Method == http.MethodHead {
		return
	}
	fl, _ := w.(http.Flusher)
	for off := 0; off < send; {
		end := min(off+4096, send)
		if _, err := w.Write(data[off:end]); err != nil {
			return
		}
		off = end
		if d.slow > 0 {
			if fl != nil {
				fl.Flush()
			}
			select {
			case <-time.After(time.Duration(d.slow) * time.Millisecond):
			case <-r.Context().Done():
				return
			}
		}
	}
	if send < length {
		if fl != nil {
			fl.Flush()
		}
		// Abort: the client sees fewer bytes than Content-Length.
		panic(http.ErrAbortHandler)
	}
}

// Describe lists the served release paths, for the README and debugging.
func (s *Server) Describe() string {
	var b strings.Builder
	for repo, sub := range releases {
		fmt.Fprintf(&b, "/%s/releases/download/<v>/<file> -> %s\n", repo, filepath.Join(s.Root, sub))
	}
	_ = io.Discard
	return b.String()
}
