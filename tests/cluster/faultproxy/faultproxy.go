// Package faultproxy is a TLS reverse proxy in front of the API server that
// can inject faults per request, and counts requests per method and path.
//
// Control API (plain HTTP on loopback, JSON):
//
//	GET    /rules          list rules
//	POST   /rules          add a rule (body: Rule), returns the rule with its id
//	DELETE /rules          clear all rules
//	DELETE /rules/{id}     remove one rule
//	GET    /counters       {"GET /api/v1/namespaces": 3, ...} (path without query);
//	                       a request that could change the cluster (any method but
//	                       GET, HEAD, OPTIONS, without dryRun=All in its query) is
//	                       also counted as "WRITE PATCH /api/v1/...": a plan must
//	                       leave no WRITE key
//	DELETE /counters       reset counters
//	GET    /faults         {"status 500 PATCH /api/v1/...": 1, "reset GET /api": 2, ...}:
//	                       the faults that fired (status and reset, not latency),
//	                       by action, method and path; DELETE /counters resets them
//	POST   /seed           body {"seed": N}: probabilistic rules draw from a
//	                       generator seeded with N from now on (reproducible runs)
//	GET    /healthz        ok
package faultproxy

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Actions a rule can take.
const (
	ActionStatus  = "status"  // answer with Status (and Retry-After when RetryAfter > 0)
	ActionReset   = "reset"   // reset the TCP connection (RST) without an answer
	ActionLatency = "latency" // wait LatencyMs, then forward normally
	ActionHang    = "hang"    // never answer (until the client gives up or HangMs passes)
)

// Rule is one fault. Zero values mean "any" or "unlimited".
type Rule struct {
	ID          int     `json:"id"`
	Method      string  `json:"method,omitempty"`      // exact, case-insensitive; "" = any
	Path        string  `json:"path,omitempty"`        // Go regexp matched against the URL path (no query); "" = any
	Action      string  `json:"action"`                // status | reset | latency | hang
	Status      int     `json:"status,omitempty"`      // for status (default 503)
	Body        string  `json:"body,omitempty"`        // for status; default is a Kubernetes Status JSON
	RetryAfter  int     `json:"retryAfter,omitempty"`  // seconds, sets Retry-After for status
	LatencyMs   int     `json:"latencyMs,omitempty"`   // for latency
	HangMs      int     `json:"hangMs,omitempty"`      // for hang; 0 = until the client disconnects
	Nth         int     `json:"nth,omitempty"`         // first match that fires (1-based); 0/1 = the first
	Times       int     `json:"times,omitempty"`       // how many times it fires; 0 = forever
	Probability float64 `json:"probability,omitempty"` // 0 < p < 1: fire on this share of eligible matches
	After       bool    `json:"after,omitempty"`       // status/reset: forward first (the API server acts), then answer the fault instead of its reply
	Matched     int     `json:"matched"`               // read-only: matching requests seen
	Fired       int     `json:"fired"`                 // read-only: faults injected

	re *regexp.Regexp
}

// Proxy holds the rules and counters.
type Proxy struct {
	mu       sync.Mutex
	rules    []*Rule
	nextID   int
	counters map[string]int
	faults   map[string]int
	rnd      *rand.Rand
	rp       *httputil.ReverseProxy
}

// New makes a proxy forwarding to upstream (https URL) trusting upstreamTLS.
func New(upstream *url.URL, upstreamTLS *tls.Config) *Proxy {
	p := &Proxy{counters: map[string]int{}, faults: map[string]int{}, rnd: rand.New(rand.NewSource(time.Now().UnixNano())), nextID: 1}
	tr := &http.Transport{
		TLSClientConfig:     upstreamTLS,
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 100,
		IdleConnTimeout:     90 * time.Second,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(upstream)
			r.Out.Host = upstream.Host
		},
		Transport:     tr,
		FlushInterval: -1,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			http.Error(w, "fault proxy: upstream: "+err.Error(), http.StatusBadGateway)
		},
	}
	return p
}

// Seed makes probabilistic rules reproducible.
func (p *Proxy) Seed(s int64) { p.mu.Lock(); p.rnd = rand.New(rand.NewSource(s)); p.mu.Unlock() }

// AddRule validates and adds a rule.
func (p *Proxy) AddRule(r Rule) (Rule, error) {
	switch r.Action {
	case ActionStatus, ActionReset, ActionLatency, ActionHang:
	default:
		return r, fmt.Errorf("unknown action %q (want status, reset, latency or hang)", r.Action)
	}
	if r.Path != "" {
		re, err := regexp.Compile(r.Path)
		if err != nil {
			return r, fmt.Errorf("bad path regexp: %v", err)
		}
		r.re = re
	}
	if r.Action == ActionStatus && r.Status == 0 {
		r.Status = http.StatusServiceUnavailable
	}
	if r.Probability < 0 || r.Probability > 1 {
		return r, fmt.Errorf("probability must be within [0,1]")
	}
	if r.After && r.Action != ActionStatus && r.Action != ActionReset {
		return r, fmt.Errorf("after applies to status and reset only")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	r.ID = p.nextID
	r.Matched, r.Fired = 0, 0
	p.nextID++
	rr := r
	p.rules = append(p.rules, &rr)
	return rr, nil
}

// Rules returns a copy of the rules.
func (p *Proxy) Rules() []Rule {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Rule, 0, len(p.rules))
	for _, r := range p.rules {
		out = append(out, *r)
	}
	return out
}

// Clear removes all rules.
func (p *Proxy) Clear() { p.mu.Lock(); p.rules = nil; p.mu.Unlock() }

// Remove deletes one rule.
func (p *Proxy) Remove(id int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, r := range p.rules {
		if r.ID == id {
			p.rules = append(p.rules[:i], p.rules[i+1:]...)
			return true
		}
	}
	return false
}

func copyCounts(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Counters returns a copy of the request counters.
func (p *Proxy) Counters() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return copyCounts(p.counters)
}

// Faults returns a copy of the tallies of fired status and reset faults.
func (p *Proxy) Faults() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return copyCounts(p.faults)
}

// ResetCounters zeroes the counters and the fault tallies.
func (p *Proxy) ResetCounters() {
	p.mu.Lock()
	p.counters = map[string]int{}
	p.faults = map[string]int{}
	p.mu.Unlock()
}

// Mutating reports whether the API server would carry r out for real: a
// method other than GET, HEAD and OPTIONS whose query has no dryRun=All.
func Mutating(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	for _, v := range r.URL.Query()["dryRun"] {
		if v == "All" {
			return false
		}
	}
	return true
}

// pick counts the request and returns the first rule that fires, if any.
func (p *Proxy) pick(r *http.Request) *Rule {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counters[r.Method+" "+r.URL.Path]++
	if Mutating(r) {
		p.counters["WRITE "+r.Method+" "+r.URL.Path]++
	}
	for _, rule := range p.rules {
		if rule.Method != "" && !strings.EqualFold(rule.Method, r.Method) {
			continue
		}
		if rule.re != nil && !rule.re.MatchString(r.URL.Path) {
			continue
		}
		rule.Matched++
		nth := rule.Nth
		if nth < 1 {
			nth = 1
		}
		if rule.Matched < nth {
			continue
		}
		if rule.Times > 0 && rule.Fired >= rule.Times {
			continue
		}
		if rule.Probability > 0 && rule.Probability < 1 && p.rnd.Float64() >= rule.Probability {
			continue
		}
		rule.Fired++
		switch rule.Action {
		case ActionStatus:
			p.faults[fmt.Sprintf("status %d %s %s", rule.Status, r.Method, r.URL.Path)]++
		case ActionReset:
			p.faults["reset "+r.Method+" "+r.URL.Path]++
		}
		c := *rule
		return &c
	}
	return nil
}

// ServeHTTP is the data path.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rule := p.pick(r)
	if rule != nil && rule.After {
		// the API server carries the request out; its reply is lost
		p.rp.ServeHTTP(httptest.NewRecorder(), r)
	}
	if rule != nil {
		switch rule.Action {
		case ActionStatus:
			if rule.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(rule.RetryAfter))
			}
			body := rule.Body
			if body == "" {
				body = fmt.Sprintf(`{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"injected by kstage fault proxy (rule %d)","reason":"%s","code":%d}`,
					rule.ID, reasonFor(rule.Status), rule.Status)
				w.Header().Set("Content-Type", "application/json")
			}
			w.WriteHeader(rule.Status)
			io.WriteString(w, body)
			return
		case ActionReset:
			resetConn(w)
			return
		case ActionLatency:
			select {
			case <-time.After(time.Duration(rule.LatencyMs) * time.Millisecond):
			case <-r.Context().Done():
				return
			}
		case ActionHang:
			var timeout <-chan time.Time
			if rule.HangMs > 0 {
				timeout = time.After(time.Duration(rule.HangMs) * time.Millisecond)
			}
			select {
			case <-timeout:
				resetConn(w)
			case <-r.Context().Done():
			}
			return
		}
	}
	p.rp.ServeHTTP(w, r)
}

func reasonFor(code int) string {
	switch code {
	case 429:
		return "TooManyRequests"
	case 500:
		return "InternalError"
	case 503:
		return "ServiceUnavailable"
	case 504:
		return "Timeout"
	case 409:
		return "Conflict"
	}
	return "Unknown"
}

// resetConn closes the client connection with an RST where it can.
func resetConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler) // HTTP/2: resets the stream
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*tls.Conn); ok {
		if nc, ok := tc.NetConn().(*net.TCPConn); ok {
			nc.SetLinger(0)
			nc.Close()
			return
		}
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}

// Control returns the control API handler.
func (p *Proxy) Control() http.Handler {
	mux := http.NewServeMux()
	writeJSON := func(w http.ResponseWriter, code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("GET /rules", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, p.Rules()) })
	mux.HandleFunc("POST /rules", func(w http.ResponseWriter, r *http.Request) {
		var rule Rule
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rule); err != nil {
			writeJSON(w, 400, map[string]string{"error": err.Error()})
			return
		}
		added, err := p.AddRule(rule)
		if err != nil {
			writeJSON(w, 400, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, 201, added)
	})
	mux.HandleFunc("DELETE /rules", func(w http.ResponseWriter, r *http.Request) { p.Clear(); writeJSON(w, 200, []Rule{}) })
	mux.HandleFunc("DELETE /rules/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.Atoi(r.PathValue("id"))
		if !p.Remove(id) {
			writeJSON(w, 404, map[string]string{"error": "no such rule"})
			return
		}
		writeJSON(w, 200, map[string]int{"removed": id})
	})
	mux.HandleFunc("GET /counters", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, p.Counters()) })
	mux.HandleFunc("GET /faults", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, p.Faults()) })
	mux.HandleFunc("POST /seed", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Seed *int64 `json:"seed"`
		}
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&body); err != nil || body.Seed == nil {
			writeJSON(w, 400, map[string]string{"error": "want {\"seed\": N}"})
			return
		}
		p.Seed(*body.Seed)
		writeJSON(w, 200, map[string]int64{"seed": *body.Seed})
	})
	mux.HandleFunc("DELETE /counters", func(w http.ResponseWriter, r *http.Request) { p.ResetCounters(); writeJSON(w, 200, map[string]int{}) })
	return mux
}

// ServerTLS returns a server config for the data side. HTTP/2 is off so that
// "reset" is a real TCP reset and each request is on a visible connection.
func ServerTLS(cert tls.Certificate) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}, MinVersion: tls.VersionTLS12}
}
