"""Checks that a `docker compose` invocation finds what docker-compose.yml
refers to by a relative path: build contexts, Dockerfiles and bind-mount
sources, relative to the project directory compose would use. Prints "ok"
or one line per missing path; exit 1 when one is missing.

    python3 compose_paths.py CWD ARGS...   (the arguments after `docker compose`)
"""
import os
import sys

import yaml


def main():
    cwd, args = sys.argv[1], sys.argv[2:]
    files, project_dir = [], None
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-f", "--file"):
            files.append(args[i + 1])
            i += 2
            continue
        if a == "--project-directory":
            project_dir = args[i + 1]
            i += 2
            continue
        if a in ("-p", "--project-name", "--env-file", "--profile"):
            i += 2
            continue
        if not a.startswith("-"):
            break
        i += 1
    if not files:
        files = [os.path.join(cwd, "docker-compose.yml")]
    files = [f if os.path.isabs(f) else os.path.join(cwd, f) for f in files]
    if not os.path.exists(files[0]):
        print(f"no compose file {files[0]}")
        return 1
    # Compose takes the directory of the first file as given (a symlink is not
    # followed), unless --project-directory says otherwise.
    base = project_dir or os.path.dirname(files[0])
    with open(files[0]) as f:
        doc = yaml.safe_load(f)
    missing = []
    for name, svc in (doc.get("services") or {}).items():
        build = svc.get("build")
        if isinstance(build, str):
            build = {"context": build}
        if isinstance(build, dict):
            ctx = os.path.join(base, build.get("context", "."))
            if not os.path.isdir(ctx):
                missing.append(f"{name}: build context {ctx}")
            elif build.get("dockerfile") and not os.path.isfile(os.path.join(ctx, build["dockerfile"])):
                missing.append(f"{name}: Dockerfile {os.path.join(ctx, build['dockerfile'])}")
        for v in svc.get("volumes") or []:
            src = v.split(":")[0] if isinstance(v, str) else (v.get("source") if v.get("type") == "bind" else None)
            if src and src.startswith((".", "/")) and not os.path.exists(os.path.join(base, src)):
                missing.append(f"{name}: bind mount source {os.path.normpath(os.path.join(base, src))}")
    for m in missing:
        print(m)
    if not missing:
        print("ok")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
