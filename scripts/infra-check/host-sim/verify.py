"""Checks one scenario of the simulated host deploy (host-sim.sh): the
events the recorders logged, the exit codes and the files left in the
simulated root. Prints one line per check; exit 1 if any failed.

    python3 verify.py SCENARIO SIM_DIR ROOT
"""
import json
import os
import pathlib
import sys

VERSION = "sha-0123456789ab"


def main():
    scenario, sim, root = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
    events = []
    for line in (sim / "events.tsv").read_text().splitlines():
        cmd, cwd, deploy_sh, *args = line.split("\t")
        events.append({"cmd": cmd, "cwd": cwd, "deploy_sh": deploy_sh, "args": args})
    results = []

    def check(name, ok, detail=""):
        results.append(ok)
        print(f"{'ok  ' if ok else 'FAIL'} {scenario}: {name}{': ' + detail if detail and not ok else ''}")

    def rc(name):
        f = sim / f"{name}.rc"
        return int(f.read_text()) if f.exists() else None

    def idx(pred):
        return next((i for i, e in enumerate(events) if pred(e)), None)

    check("bootstrap (cloud-init runcmd) exits 0", rc("bootstrap") == 0, f"exit {rc('bootstrap')}")

    # Item 8: unattended-upgrades holds the dpkg lock at first boot.
    apt = [e for e in events if e["cmd"] == "apt-get"]
    no_wait = [" ".join(e["args"][:3]) for e in apt if not any(a.startswith("DPkg::Lock::Timeout=") for a in e["args"])]
    check("every apt-get waits for the dpkg lock (-o DPkg::Lock::Timeout)", apt and not no_wait,
          f"{len(no_wait)} of {len(apt)} calls do not: {no_wait[:3]}")

    if scenario == "replacement":
        # Item 3: CD's Run Command arrives as soon as the agent is online.
        agent = [e for e in events if e["cmd"] == "systemctl" and "amazon-ssm-agent" in e["args"]
                 and ("--now" in e["args"] or "start" in e["args"])]
        check("the SSM agent is started", bool(agent))
        check("/opt/chat/deploy.sh exists when the SSM agent starts", bool(agent) and agent[0]["deploy_sh"] == "present",
              "absent: a Run Command sent now fails with 'not found'")
        early = rc("early-deploy")
        log = (sim / "early-deploy.log").read_text() if (sim / "early-deploy.log").exists() else ""
        check("CD's Run Command sent at agent start waits for the bootstrap and deploys (exit 0)", early == 0,
              f"exit {early}: {log.strip().splitlines()[-1] if log.strip() else 'no output'}")

        # Item 4: where Docker keeps images.
        mount = idx(lambda e: e["cmd"] == "mount" and "/var/lib/docker" in e["args"])
        docker_pkg = idx(lambda e: e["cmd"] == "apt-get" and "docker-ce" in e["args"])
        check("the data volume is mounted at /var/lib/docker before Docker is installed",
              mount is not None and docker_pkg is not None and mount < docker_pkg, f"mount at {mount}, install at {docker_pkg}")
        daemon = root / "etc/docker/daemon.json"
        conf = json.loads(daemon.read_text()) if daemon.exists() else {}
        data_root = conf.get("data-root", "/var/lib/docker")
        snapshotter = conf.get("features", {}).get("containerd-snapshotter")
        check("Docker keeps images and volumes on the data volume (data-root /var/lib/docker, containerd image store off)",
              data_root == "/var/lib/docker" and snapshotter is False,
              f"data-root {data_root}, features.containerd-snapshotter {snapshotter}: Docker Engine 29+ "
              "keeps images in containerd's store under /var/lib/containerd, on the root volume")

        # Item 5: compose from the release directory and from /opt/chat.
        paths = [e for e in events if e["cmd"] == "compose-paths"]
        bad = [f"{e['cwd']}: {e['args'][0]}" for e in paths if e["args"][0] != "ok;"]
        check("every docker compose call finds its build contexts, Dockerfiles and bind mounts", paths and not bad,
              "; ".join(bad[:3]))
        op = [e for e in paths if e["cwd"] == "/opt/chat"]
        check("an operator's `docker compose run` from /opt/chat was simulated", bool(op))

        ups = [e for e in events if e["cmd"] == "docker" and "up" in e["args"]]
        check("the stack is started from pulled images (up --no-build)", ups and all("--no-build" in e["args"] for e in ups))
        current = root / "opt/chat/current"
        check("/opt/chat/current points at the release", current.is_symlink() and os.readlink(current) == f"releases/{VERSION}",
              os.readlink(current) if current.is_symlink() else "missing")
        deployed = root / "var/lib/chat/deployed"
        check("the host records the deployed release", deployed.exists() and deployed.read_text().strip() == VERSION)

    if scenario == "private-images":
        # Item 2: new GHCR packages are private.
        out = (sim / "deploy.log").read_text() if (sim / "deploy.log").exists() else ""
        check("a deploy whose images cannot be pulled fails", rc("deploy") not in (None, 0), f"exit {rc('deploy')}")
        check("and says how to fix it (public packages, or a read-only token in SSM registry/token)",
              "public" in out and "registry/token" in out, out.strip().splitlines()[-1] if out.strip() else "no output")

    passed = sum(results)
    print(f"{scenario}: {passed} passed, {len(results) - passed} failed")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
