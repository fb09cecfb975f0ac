"""Reference point for bench/doc_load.c: PyYAML's libyaml-backed loader on the
same file (PyYAML's CSafeLoader uses the same C parser kstage uses)."""
import sys, time
try:
    import yaml
except ImportError:
    print("doc_load_py: PyYAML not installed, no reference figure")
    sys.exit(0)
path = sys.argv[1]
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
data = open(path, "rb").read()
loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
best = 1e18
for _ in range(rounds):
    t0 = time.perf_counter()
    docs = list(yaml.load_all(data, Loader=loader))
    best = min(best, (time.perf_counter() - t0) * 1e3)
print(f"doc_load_py {loader.__name__} docs={len(docs)} load_ms={best:.1f} (best of {rounds})")
