"""What the real Envoy Gateway suites share: its pods and container status,
the status conditions and their field managers, and the end-to-end check of
a migration through it. Everything through kubectl."""
import json
import time
import urllib.request

from kserve_real import ISVC_NS

EG_NS = "envoy-gateway-system"
EG_MANAGER = "envoy-gateway"  # its binary's name: the field manager of its writes
EG_CONTROLLER = "gateway.envoyproxy.io/gatewayclass-controller"


def eventually(ok, timeout=180):
    """Polls ok() until it holds or timeout seconds pass; the caller asserts after."""
    deadline = time.monotonic() + timeout
    while not ok() and time.monotonic() < deadline:
        time.sleep(1)


def eg_container(pod):
    return next(cs for cs in pod["status"]["containerStatuses"] if cs["name"] == "envoy-gateway")


def status_managers(obj):
    """The field managers of obj's status subresource."""
    return {m["manager"] for m in obj["metadata"]["managedFields"] if m.get("subresource") == "status"}


def cond(obj, typ, conds=None):
    for c in conds if conds is not None else obj["status"]["conditions"]:
        if c["type"] == typ:
            return c
    raise AssertionError(f"no {typ} condition in {json.dumps(obj.get('status', conds))[:1500]}")


def check_migrated_through_eg(eg):
    """After the shipped migration: the InferenceService Ready by KServe
    through an HTTPRoute Envoy Gateway accepted, the GatewayClass and the
    Gateway Accepted and Programmed by Envoy Gateway itself, its proxy's
    Deployment and LoadBalancer Service, and an inference request through
    the Gateway's address."""
    isvc = eg.get("inferenceservice", "sklearn-v2-iris", "-n", ISVC_NS, "--show-managed-fields")
    assert cond(isvc, "Ready")["status"] == "True", isvc["status"]
    assert "manager" in status_managers(isvc)
    route = eg.get("httproute", "sklearn-v2-iris", "-n", ISVC_NS, "--show-managed-fields")
    ref = route["spec"]["parentRefs"][0]
    gw_ns, gw_name = ref.get("namespace", ISVC_NS), ref["name"]

    # the GatewayClass and the Gateway: Accepted and Programmed by Envoy
    # Gateway itself, for their current generation; nothing of the sim wrote them
    gw = eg.get("gateway", gw_name, "-n", gw_ns, "--show-managed-fields")
    gc = eg.get("gatewayclass", gw["spec"]["gatewayClassName"], "--show-managed-fields")
    assert gc["spec"]["controllerName"] == EG_CONTROLLER
    acc = cond(gc, "Accepted")
    assert acc["status"] == "True" and acc["observedGeneration"] == gc["metadata"]["generation"], acc
    assert status_managers(gc) == {EG_MANAGER}, gc["metadata"]["managedFields"]
    for typ in ("Accepted", "Programmed"):
        c = cond(gw, typ)
        assert c["status"] == "True" and c["observedGeneration"] == gw["metadata"]["generation"], c
    assert status_managers(gw) == {EG_MANAGER}, gw["metadata"]["managedFields"]
    assert "kstage-sim" not in {m["manager"] for o in (gc, gw, route) for m in o["metadata"]["managedFields"]}

    # the route: spec by KServe, its parent status by Envoy Gateway, accepted
    assert {m["manager"] for m in route["metadata"]["managedFields"]} == {"manager", EG_MANAGER}
    parents = [p for p in route["status"]["parents"] if p["controllerName"] == EG_CONTROLLER]
    assert len(parents) == 1 and cond(route, "Accepted", parents[0]["conditions"])["status"] == "True", route["status"]

    # the proxy Envoy Gateway made for the Gateway: its Deployment (pods run
    # by the simulated kubelet) and its LoadBalancer Service, whose address
    # (given by the sim, as a cloud would) is the Gateway's
    sel = f"gateway.envoyproxy.io/owning-gateway-name={gw_name},gateway.envoyproxy.io/owning-gateway-namespace={gw_ns}"
    deps = eg.get("deployments", "-n", EG_NS, "-l", sel, "--show-managed-fields")["items"]
    assert len(deps) == 1 and deps[0]["status"].get("availableReplicas", 0) >= 1
    assert EG_MANAGER in {m["manager"] for m in deps[0]["metadata"]["managedFields"]}
    svcs = eg.get("services", "-n", EG_NS, "-l", sel)["items"]
    assert len(svcs) == 1 and svcs[0]["spec"]["type"] == "LoadBalancer"
    lb = svcs[0]["status"]["loadBalancer"]["ingress"][0]
    assert [a["value"] for a in gw["status"]["addresses"]] == [lb["ip"]]

    # an independent inference request through that address
    host = isvc["status"]["url"].split("://", 1)[1]
    body = {"inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "FP32", "data": [[6.8, 2.8, 4.8, 1.4]]}]}
    req = urllib.request.Request(f"http://{lb['ip']}:{lb['ports'][0]['port']}/v2/models/sklearn-v2-iris/infer",
                                 data=json.dumps(body).encode(), method="POST",
                                 headers={"Host": host, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        reply = json.loads(resp.read())
    assert reply["model_name"] == "sklearn-v2-iris" and reply["outputs"][0]["shape"] == [1]
