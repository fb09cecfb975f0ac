package sim

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
)

// Backend is a Service reference in a route.
type Backend struct {
	Namespace, Name string
	Port            int64
}

// RouteRule is one path match with its backends.
type RouteRule struct {
	PathType string // PathPrefix | Exact | RegularExpression
	Path     string
	Backends []Backend
}

// Route is an accepted HTTPRoute on a Programmed Gateway.
type Route struct {
	Namespace, Name string
	Gateway         string
	Hostnames       []string
	Rules           []RouteRule
}

// RouteTable is what the data plane routes along.
type RouteTable struct {
	mu     sync.RWMutex
	routes []Route
	models map[string]string // "ns/service" -> model name
}

// SetRoutes replaces the routes.
func (t *RouteTable) SetRoutes(r []Route) { t.mu.Lock(); t.routes = r; t.mu.Unlock() }

// SetModels replaces the model backends.
func (t *RouteTable) SetModels(m map[string]string) { t.mu.Lock(); t.models = m; t.mu.Unlock() }

func hostMatches(patterns []string, host string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		p = strings.ToLower(p)
		if p == host {
			return true
		}
		if strings.HasPrefix(p, "*.") && strings.HasSuffix(host, p[1:]) && len(host) > len(p)-1 {
			return true
		}
	}
	return false
}

func pathMatches(rule RouteRule, path string) (bool, int) {
	switch rule.PathType {
	case "Exact":
		return path == rule.Path, len(rule.Path) + 1000
	case "RegularExpression":
		re, err := regexp.Compile("^(?:" + rule.Path + ")")
		if err != nil {
			return false, 0
		}
		return re.MatchString(path), len(rule.Path)
	default:
		p := strings.TrimRight(rule.Path, "/")
		return p == "" || path == p || strings.HasPrefix(path, p+"/"), len(p)
	}
}

// Match finds the route and backend for host and path (most specific path wins).
func (t *RouteTable) Match(host, path string) (*Route, *Backend, string) {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(host)
	t.mu.RLock()
	defer t.mu.RUnlock()
	var best *Route
	var bestB *Backend
	bestScore := -1
	for i := range t.routes {
		r := &t.routes[i]
		if !hostMatches(r.Hostnames, host) {
			continue
		}
		for j := range r.Rules {
			ok, score := pathMatches(r.Rules[j], path)
			if ok && score > bestScore && len(r.Rules[j].Backends) > 0 {
				best, bestB, bestScore = r, &r.Rules[j].Backends[0], score
			}
		}
	}
	if best == nil {
		return nil, nil, ""
	}
	return best, bestB, t.models[bestB.Namespace+"/"+bestB.Name]
}

// ServeHTTP routes by Host header like Envoy would.
func (t *RouteTable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	route, be, model := t.Match(r.Host, r.URL.Path)
	if route == nil {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusNotFound) // Envoy answers 404 with an empty body for no route
		return
	}
	w.Header().Set("X-Kstage-Route", route.Namespace+"/"+route.Name)
	w.Header().Set("X-Kstage-Backend", fmt.Sprintf("%s/%s:%d", be.Namespace, be.Name, be.Port))
	if model != "" {
		ServeModel(w, r, model)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"route": route.Namespace + "/" + route.Name, "gateway": route.Gateway,
		"backend": fmt.Sprintf("%s/%s:%d", be.Namespace, be.Name, be.Port),
		"host":    r.Host, "method": r.Method, "path": r.URL.Path,
	})
}

// Iris classifies one iris flower (sepal length, sepal width, petal length,
// petal width) with the classic decision tree: 0 setosa, 1 versicolor, 2 virginica.
func Iris(x []float64) int {
	switch {
	case x[2] < 2.45:
		return 0
	case x[3] < 1.75:
		if x[2] < 4.95 {
			return 1
		}
		return 2
	default:
		return 2
	}
}

type v2Tensor struct {
	Name     string `json:"name"`
	Shape    []int  `json:"shape"`
	Datatype string `json:"datatype"`
	Data     any    `json:"data"`
}

func flatten(v any, out *[]float64) error {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if err := flatten(e, out); err != nil {
				return err
			}
		}
	case float64:
		*out = append(*out, x)
	default:
		return fmt.Errorf("unsupported element %T in data", v)
	}
	return nil
}

func v2Error(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// ServeModel answers Open Inference Protocol v2 (and v1 predict) requests for one iris model.
func ServeModel(w http.ResponseWriter, r *http.Request, model string) {
	p := r.URL.Path
	w.Header().Set("Content-Type", "application/json")
	switch {
	case p == "/v2/health/ready" || p == "/v2/health/live" || p == "/v2":
		json.NewEncoder(w).Encode(map[string]any{"ready": true, "live": true, "name": "kstage-iris", "version": "0.15.2"})
		return
	case p == "/v2/models/"+model || p == "/v2/models/"+model+"/ready":
		json.NewEncoder(w).Encode(map[string]any{
			"name": model, "ready": true, "platform": "kstage-iris", "versions": []string{},
			"inputs":  []any{map[string]any{"name": "input-0", "datatype": "FP32", "shape": []int{-1, 4}}},
			"outputs": []any{map[string]any{"name": "output-0", "datatype": "INT32", "shape": []int{-1}}},
		})
		return
	case strings.HasPrefix(p, "/v2/models/") && strings.HasSuffix(p, "/infer"):
		name := strings.TrimSuffix(strings.TrimPrefix(p, "/v2/models/"), "/infer")
		if name != model {
			v2Error(w, 404, fmt.Sprintf("Model with name %s does not exist.", name))
			return
		}
		if r.Method != http.MethodPost {
			v2Error(w, 405, "method not allowed")
			return
		}
		body, _ := io.ReadAll(io.LimitReader(r.Body, 16<<20))
		var req struct {
			ID     string     `json:"id"`
			Inputs []v2Tensor `json:"inputs"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			v2Error(w, 400, "invalid JSON: "+err.Error())
			return
		}
		if len(req.Inputs) != 1 {
			v2Error(w, 400, fmt.Sprintf("expected 1 input tensor, got %d", len(req.Inputs)))
			return
		}
		var xs []float64
		if err := flatten(req.Inputs[0].Data, &xs); err != nil {
			v2Error(w, 400, err.Error())
			return
		}
		if len(xs) == 0 || len(xs)%4 != 0 {
			v2Error(w, 400, fmt.Sprintf("input must have 4 features per row, got %d values", len(xs)))
			return
		}
		preds := make([]int, 0, len(xs)/4)
		for i := 0; i < len(xs); i += 4 {
			preds = append(preds, Iris(xs[i:i+4]))
		}
		id := req.ID
		if id == "" {
			id = fmt.Sprintf("%x", sha256.Sum256(body))[:32]
		}
		json.NewEncoder(w).Encode(map[string]any{
			"model_name": model, "model_version": nil, "id": id, "parameters": nil,
			"outputs": []any{map[string]any{"name": "output-0", "shape": []int{len(preds)}, "datatype": "INT32", "parameters": nil, "data": preds}},
		})
		return
	case p == "/v1/models/"+model+":predict":
		var req struct {
			Instances [][]float64 `json:"instances"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			v2Error(w, 400, err.Error())
			return
		}
		preds := []int{}
		for _, x := range req.Instances {
			if len(x) != 4 {
				v2Error(w, 400, "each instance needs 4 features")
				return
			}
			preds = append(preds, Iris(x))
		}
		json.NewEncoder(w).Encode(map[string]any{"predictions": preds})
		return
	case p == "/v1/models/"+model:
		json.NewEncoder(w).Encode(map[string]any{"name": model, "ready": true})
		return
	}
	v2Error(w, 404, "not found: "+p)
}
