"""Deployment rules that no linter knows, checked on the files themselves.

    python rules.py INFRA_DIR COMPOSE_FILE

  - a volume Terraform must never replace (lifecycle prevent_destroy) takes
    its availability zone from a value pinned in state: a terraform_data
    whose input is ignored after the first apply, never straight from a
    data source (a new zone, or an opted-in Local Zone sorting first, would
    make the plan want to replace the volume);
  - no healthcheck starts a JVM (a Kafka tool) more often than once a
    minute once the service is up (a burstable instance pays for each);
    start_interval keeps the start-up checks quick.
Prints one line per rule; exit 1 if one is broken.
"""
import re
import sys
import pathlib

import hcl2
import yaml

results = []


def check(name, ok, detail=""):
    results.append(bool(ok))
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail and not ok else ''}")


def one(v):
    return v[0] if isinstance(v, list) and len(v) == 1 else v


def load(infra):
    resources, locals_ = {}, {}
    for tf in sorted(pathlib.Path(infra).glob("*.tf")):
        with open(tf) as f:
            doc = hcl2.load(f)
        for block in doc.get("resource", []):
            for rtype, named in block.items():
                for name, body in named.items():
                    resources[f"{rtype}.{name}"] = body
        for block in doc.get("locals", []):
            locals_.update(block)
    return resources, locals_


def resolve(expr, locals_, depth=0):
    """Follows ${local.x} to its expression."""
    expr = str(one(expr))
    m = re.fullmatch(r"\$\{local\.([a-z0-9_]+)\}", expr)
    if m and depth < 10 and m.group(1) in locals_:
        return resolve(locals_[m.group(1)], locals_, depth + 1)
    return expr


def lifecycle(body):
    lc = body.get("lifecycle", [{}])
    return lc[0] if isinstance(lc, list) and lc else (lc or {})


def pinned_zone(resources, locals_):
    for addr, body in resources.items():
        if not one(lifecycle(body).get("prevent_destroy", False)) or "availability_zone" not in body:
            continue
        expr = resolve(body["availability_zone"], locals_)
        m = re.fullmatch(r"\$\{terraform_data\.([a-z0-9_]+)\.output\}", expr)
        ok = False
        if m:
            pin = resources.get(f"terraform_data.{m.group(1)}", {})
            ignored = str(lifecycle(pin).get("ignore_changes", ""))
            ok = "input" in ignored
        check(f"{addr}: its availability zone is pinned in state (terraform_data output, input ignored)", ok,
              f"it is {expr}: a change of what that evaluates to replaces the volume")


def jvm_healthchecks(compose_file):
    doc = yaml.safe_load(open(compose_file))

    def seconds(v, default):
        if v is None:
            return default
        total = 0
        for n, unit in re.findall(r"(\d+)(ms|s|m|h)", str(v)):
            total += int(n) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]
        return total

    for name, svc in (doc.get("services") or {}).items():
        hc = svc.get("healthcheck") or {}
        test = " ".join(hc.get("test") or []) if isinstance(hc.get("test"), list) else str(hc.get("test") or "")
        if "/opt/kafka/bin/" not in test and "java " not in test:
            continue
        interval = seconds(hc.get("interval"), 30)
        check(f"{name}: its JVM healthcheck runs at most once a minute once up (interval {interval:g}s)", interval >= 60)
        check(f"{name}: and quickly while starting (start_interval, start_period)",
              hc.get("start_interval") is not None and hc.get("start_period") is not None)


def main():
    infra, compose_file = sys.argv[1], sys.argv[2]
    resources, locals_ = load(infra)
    pinned_zone(resources, locals_)
    jvm_healthchecks(compose_file)
    passed = sum(results)
    print(f"deployment rules: {passed} passed, {len(results) - passed} failed")
    return 0 if results and all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
