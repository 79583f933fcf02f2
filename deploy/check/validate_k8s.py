"""Validates rendered Kubernetes objects against Kubernetes' own OpenAPI schemas, offline.

Uses the schemas bundled in the pinned kubernetes-validate package (requirements.txt), in
strict mode: an unknown field anywhere is an error, as `kubectl apply` with server-side field
validation would make it. Every object is checked against each Kubernetes version given, so
an API that one of them lacks (or has removed) fails.

  python validate_k8s.py --k8s 1.30.0 --k8s 1.37.0 --delegate keda.sh/v1alpha1/ScaledObject \
      rendered-a.yaml rendered-b.yaml

Kinds named with --delegate are custom resources validated elsewhere (tools/crd-check.mjs);
any other kind without a schema is an error, never a skip. Exit status 0 when all is valid.
"""

import argparse
import sys

import yaml
from kubernetes_validate import utils


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--k8s", action="append", required=True, help="Kubernetes version, e.g. 1.30.0")
    parser.add_argument("--delegate", action="append", default=[], help="apiVersion/kind checked elsewhere")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    delegated = set(args.delegate)

    failures = 0
    checked = 0
    for path in args.files:
        with open(path, encoding="utf-8") as f:
            docs = [d for d in yaml.safe_load_all(f) if d]
        for index, obj in enumerate(docs):
            kind = obj.get("kind", "?")
            name = (obj.get("metadata") or {}).get("name", "?")
            where = f"{path}#{index} {kind}/{name}"
            key = f"{obj.get('apiVersion')}/{kind}"
            if key in delegated:
                continue
            for version in args.k8s:
                try:
                    utils.validate(obj, version, strict=True)
                except utils.ValidationError as e:
                    field = ".".join(str(p) for p in e.path) or "(root)"
                    print(f"FAIL {where}: Kubernetes {version}: {field}: {e.message}")
                    failures += 1
                except utils.SchemaNotFoundError as e:
                    print(f"FAIL {where}: {e.message}; a custom resource needs its model in deploy/check/tools")
                    failures += 1
                except utils.VersionNotSupportedError:
                    print(f"FAIL kubernetes-validate has no schemas for Kubernetes {version}")
                    return 2
            checked += 1
    print(f"{checked} objects validated against Kubernetes {', '.join(args.k8s)} (strict), {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
