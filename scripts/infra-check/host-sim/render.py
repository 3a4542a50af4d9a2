"""Renders infra/cloud-init.yaml.tftpl the way compute.tf does (templatefile
with base64gzip of the host script, sample values) and writes its
write_files into a root directory, as cloud-init would; prints the runcmd
entries, one command per line (words separated by tabs).

    python3 render.py INFRA_DIR ROOT
"""
import base64
import gzip
import os
import pathlib
import re
import sys

import yaml

SAMPLE = {
    "project": "chat", "environment": "production", "region": "us-east-1",
    "bucket": "chat-production-123456789012-us-east-1", "ssm_path": "/chat/production",
    "domain_name": "chat.example.com", "acme_email": "ops@example.com",
    "image_repository": "ghcr.io/example-org/chat", "enable_bot": "false",
    "data_volume_id": "vol-0123456789abcdef0", "backup_time_utc": "03:15",
    "kms_key_arn": "arn:aws:kms:us-east-1:123456789012:key/0d9b2c1e-1111-2222-3333-444455556666",
}


def main():
    infra, root = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    tpl = (infra / "cloud-init.yaml.tftpl").read_text()
    values = dict(SAMPLE)
    values["host_script_gz"] = base64.b64encode(gzip.compress((infra / "host" / "chat-host.sh").read_bytes())).decode()
    rendered = re.sub(r"\$\{([a-z_]+)\}", lambda m: values[m.group(1)], tpl)
    doc = yaml.safe_load(rendered)
    for f in doc.get("write_files", []):
        content = f.get("content", "")
        enc = f.get("encoding", "")
        if enc in ("gz+b64", "gzip+base64"):
            data = gzip.decompress(base64.b64decode(content))
        elif enc in ("b64", "base64"):
            data = base64.b64decode(content)
        else:
            data = content.encode()
        dest = root / f["path"].lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
        os.chmod(dest, int(str(f.get("permissions", "0644")), 8))
    for cmd in doc.get("runcmd", []):
        print("\t".join(cmd) if isinstance(cmd, list) else cmd)


if __name__ == "__main__":
    main()
