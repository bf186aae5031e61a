#!/usr/bin/env python3
"""deploy/k8s against the Kubernetes API schema, offline (no cluster): every object of every manifest is
built into the model classes of the Kubernetes Python client (Debian's python3-kubernetes), which checks
types and required fields, and every key must be a field of its type (a typo such as `livenesProbe` fails,
as kubectl's strict validation would). Then what the deployment needs: probes on /healthz and /readyz,
non-root and read-only root filesystem, no privilege escalation, requests and limits, the token from the
Secret, and every resource of kustomization.yaml present. The fleet: the API node and every worker read
FACEWEAVE_DATABASE_URL from a defined Secret and mount one ReadWriteMany volume at the --media-dir they are
given; the API node runs no jobs itself (--max-concurrent-jobs 0). With FACEWEAVE (the built binary), every
flag a container passes is one that `faceweave [SUBCOMMAND] --help` lists.
Usage: k8s_manifests_test.py DEPLOY_K8S_DIR [FACEWEAVE]"""
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml
from kubernetes import client

KINDS = {
    ("v1", "ConfigMap"): "V1ConfigMap",
    ("v1", "Secret"): "V1Secret",
    ("v1", "Service"): "V1Service",
    ("v1", "PersistentVolumeClaim"): "V1PersistentVolumeClaim",
    ("apps/v1", "Deployment"): "V1Deployment",
}
PRIMITIVES = {"str", "int", "float", "bool", "object", "date", "datetime"}


def check_fields(value, type_name, where, problems):
    """Every key is a field of type_name (recursively); primitive values have their type."""
    if value is None:
        return
    m = re.fullmatch(r"list\[(.+)\]", type_name)
    if m:
        if not isinstance(value, list):
            problems.append(f"{where}: expected a list")
            return
        for i, item in enumerate(value):
            check_fields(item, m.group(1), f"{where}[{i}]", problems)
        return
    m = re.fullmatch(r"dict\(str, (.+)\)", type_name)
    if m:
        if not isinstance(value, dict):
            problems.append(f"{where}: expected a map")
            return
        for k, v in value.items():
            check_fields(v, m.group(1), f"{where}.{k}", problems)
        return
    if type_name in PRIMITIVES:
        expected = {"str": str, "int": int, "float": (int, float), "bool": bool}.get(type_name)
        # Quantities (requests, limits, storage) are strings in the client, but the API takes numbers too.
        if re.search(r"\.(limits|requests)\.", where):
            expected = (str, int, float)
        if expected and (not isinstance(value, expected) or (expected is int and isinstance(value, bool))):
            problems.append(f"{where}: expected {type_name}, got {type(value).__name__} {value!r}")
        return
    cls = getattr(client, type_name)
    if not isinstance(value, dict):
        problems.append(f"{where}: expected an object ({type_name})")
        return
    json_to_attr = {v: k for k, v in cls.attribute_map.items()}
    for key, v in value.items():
        if key not in json_to_attr:
            problems.append(f"{where}: unknown field '{key}' in {type_name}")
            continue
        check_fields(v, cls.openapi_types[json_to_attr[key]], f"{where}.{key}", problems)


def build(value, type_name):
    """The client's own deserializer: raises ValueError on a missing required field or a bad enum."""
    api = client.ApiClient()
    return api._ApiClient__deserialize(value, type_name)


def load(directory):
    objects = []
    for path in sorted(directory.rglob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                objects.append((path.relative_to(directory), doc))
    return objects


def help_text(binary, subcommand):
    """What `faceweave --help` and `faceweave SUBCOMMAND --help` say (the flags each accepts)."""
    env = dict(os.environ, FACEWEAVE_TELEMETRY="off")
    out = ""
    for argv in ([binary, "--help"], [binary, subcommand, "--help"]):
        r = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)
        if r.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} exited with {r.returncode}: {r.stderr}")
        out += r.stdout
    return out


def check_flags(binary, args, where, failures):
    """Every --flag in args is one the binary's help lists for the subcommand args names."""
    subcommand = next((a for a in args if not a.startswith("-") and a in ("serve", "worker")), None)
    if subcommand is None:
        failures.append(f"{where}: runs neither serve nor worker: {args}")
        return
    text = help_text(binary, subcommand)
    for flag in (a for a in args if a.startswith("--")):
        if not re.search(re.escape(flag) + r"\b", text):
            failures.append(f"{where}: `faceweave {subcommand}` has no flag {flag}")


def flag_value(args, flag):
    return args[args.index(flag) + 1] if flag in args and args.index(flag) + 1 < len(args) else None


def check_fleet(path, name, pod, by_name, failures):
    """Database URL from a Secret; the shared media volume (ReadWriteMany) at the --media-dir."""
    c = pod["containers"][0]
    args = c.get("args", [])
    env = {e["name"]: e for e in c.get("env", [])}
    ref = env.get("FACEWEAVE_DATABASE_URL", {}).get("valueFrom", {}).get("secretKeyRef")
    if not ref:
        failures.append(f"{path}: {name} must read FACEWEAVE_DATABASE_URL from a Secret")
    else:
        secret = by_name.get(("Secret", ref.get("name")), (None, None))[1]
        keys = set((secret or {}).get("stringData", {})) | set((secret or {}).get("data", {}))
        if ref.get("key") not in keys:
            failures.append(f"{path}: {name} reads key {ref.get('key')} of Secret {ref.get('name')}, not defined")
        if ref.get("optional"):
            failures.append(f"{path}: {name} cannot run without the database: the Secret must not be optional")
    media = flag_value(args, "--media-dir")
    mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    claim = volumes.get(mounts.get(media), {}).get("persistentVolumeClaim", {}).get("claimName")
    pvc = by_name.get(("PersistentVolumeClaim", claim), (None, None))[1]
    if media is None or pvc is None or "ReadWriteMany" not in pvc["spec"].get("accessModes", []):
        failures.append(f"{path}: {name} needs --media-dir on a mounted ReadWriteMany PersistentVolumeClaim")
    return media, claim


def main():
    root = Path(sys.argv[1])
    binary = sys.argv[2] if len(sys.argv) > 2 else None
    failures = []
    objects = load(root)
    assert objects, f"no manifests in {root}"
    by_name = {}
    for path, doc in objects:
        key = (doc.get("apiVersion"), doc.get("kind"))
        where = f"{path} {doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
        if key not in KINDS:
            failures.append(f"{where}: kind {key} is not checked here; add it to KINDS")
            continue
        problems = []
        check_fields(doc, KINDS[key], where, problems)
        try:
            build(doc, KINDS[key])
        except (ValueError, TypeError) as e:
            problems.append(f"{where}: {e}")
        failures += problems
        by_name[(doc["kind"], doc["metadata"]["name"])] = (path, doc)
        print(("not ok - " if problems else "ok - ") + where)

    # kustomization.yaml names files that exist.
    kustomization = yaml.safe_load((root / "kustomization.yaml").read_text())
    for resource in kustomization["resources"]:
        if not (root / resource).is_file():
            failures.append(f"kustomization.yaml: resource {resource} does not exist")

    # What the deployment itself needs.
    media_claims = set()
    secret_names = {n for (k, n) in by_name if k == "Secret"}
    config_names = {n for (k, n) in by_name if k == "ConfigMap"}
    for (kind, name), (path, doc) in by_name.items():
        if kind != "Deployment":
            continue
        pod = doc["spec"]["template"]["spec"]
        psc = pod.get("securityContext", {})
        if not psc.get("runAsNonRoot") or psc.get("runAsUser", 0) == 0:
            failures.append(f"{path}: {name} must run as a non-root user")
        if doc["spec"]["selector"]["matchLabels"].items() - doc["spec"]["template"]["metadata"]["labels"].items():
            failures.append(f"{path}: {name}'s selector does not match its pod labels")
        for c in pod["containers"]:
            sc = c.get("securityContext", {})
            if sc.get("readOnlyRootFilesystem") is not True or sc.get("allowPrivilegeEscalation") is not False:
                failures.append(f"{path}: {name}/{c['name']} needs readOnlyRootFilesystem and no privilege escalation")
            res = c.get("resources", {})
            if not res.get("requests") or not res.get("limits"):
                failures.append(f"{path}: {name}/{c['name']} needs requests and limits")
            for ref in c.get("envFrom", []):
                if ref.get("configMapRef", {}).get("name") not in config_names:
                    failures.append(f"{path}: {name} reads a ConfigMap that is not defined")
            mounts = {m["name"] for m in c.get("volumeMounts", [])}
            volumes = {v["name"] for v in pod.get("volumes", [])}
            if mounts - volumes:
                failures.append(f"{path}: {name} mounts undefined volumes {sorted(mounts - volumes)}")
            if "/tmp" not in {m["mountPath"] for m in c.get("volumeMounts", [])}:
                failures.append(f"{path}: {name} has a read-only root filesystem but no writable /tmp")
        component = doc["metadata"]["labels"].get("app.kubernetes.io/component", "")
        if component == "api" or component.startswith("worker"):
            media_claims.add(check_fleet(path, name, pod, by_name, failures))
            if binary:
                check_flags(binary, pod["containers"][0].get("args", []), f"{path}: {name}", failures)
        if component == "api":
            c = pod["containers"][0]
            if flag_value(c.get("args", []), "--max-concurrent-jobs") != "0":
                failures.append(f"{path}: the API node must run no jobs itself (--max-concurrent-jobs 0)")
            if c.get("livenessProbe", {}).get("httpGet", {}).get("path") != "/healthz":
                failures.append(f"{path}: the API's liveness probe must ask /healthz")
            if c.get("readinessProbe", {}).get("httpGet", {}).get("path") != "/readyz":
                failures.append(f"{path}: the API's readiness probe must ask /readyz")
            for v in pod.get("volumes", []):
                if "secret" in v and v["secret"]["secretName"] not in secret_names:
                    failures.append(f"{path}: the token Secret {v['secret']['secretName']} is not defined")
        if "gpu" in str(path):
            limits = pod["containers"][0]["resources"]["limits"]
            if str(limits.get("nvidia.com/gpu")) != "1":
                failures.append(f"{path}: the GPU variant must ask for nvidia.com/gpu: 1")

    # One media volume at one path for every node: jobs store absolute paths.
    if len(media_claims) != 1:
        failures.append(f"the API node and the workers must share one media volume at one path: {sorted(media_claims, key=str)}")

    for f in failures:
        print("FAIL - " + f)
    if failures:
        sys.exit(1)
    print(f"ok - {len(objects)} objects in {root} validate")


if __name__ == "__main__":
    main()
