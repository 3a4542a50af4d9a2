"""The policies of infra/ and the requests made against them, as one JSON
document for evaluate.mjs (scripts/infra-check/iam-check.sh).

    python requests.py INFRA_DIR DEPLOY_YML HOST_SCRIPT BACKUP_SCRIPT DEPLOY_DOC > cases.json

Policies:
  - every data "aws_iam_policy_document" in INFRA_DIR/*.tf, rendered the way
    the AWS provider renders it, with sample values for the references
    (SAMPLE below; an unknown reference is an error, not a guess);
  - the deploy role's policy: the deploy-policy.json block of DEPLOY_DOC
    (docs/deploy.md), with its placeholders filled in.
Requests, each with the decision it must get:
  - read from the code: every `aws s3 cp` of DEPLOY_YML's steps (CD's uploads,
    with the encryption headers that its --sse flags send), every `aws`
    call of HOST_SCRIPT (chat-host.sh: release downloads, SSM parameters)
    and the backup upload (backup.sh's flags with the environment the
    chat-backup unit in HOST_SCRIPT gives it); an `aws` call of a kind this
    file does not know fails the check, so a new one gets an expectation;
  - fixed ones that must stay denied (what the host must not do, other
    encryption, plain HTTP).
"""
import json
import pathlib
import re
import shlex
import sys

import hcl2
import yaml

ACCOUNT = "123456789012"
REGION = "us-east-1"
NAME = "chat-production"
BUCKET = f"{NAME}-{ACCOUNT}-{REGION}"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0d9b2c1e-1111-2222-3333-444455556666"
OTHER_KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/99999999-1111-2222-3333-444455556666"
SSM_PATH = "/chat/production"
DEPLOY_ROLE = f"arn:aws:iam::{ACCOUNT}:role/chat-github-deploy"
INSTANCE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/{NAME}-instance"
INSTANCE_ARN = f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-0123456789abcdef0"
VERSION = "sha-0123456789ab"

# The values Terraform would put in for the references in the documents.
SAMPLE = {
    "local.partition": "aws",
    "local.account_id": ACCOUNT,
    "local.name": NAME,
    "local.ssm_path": SSM_PATH,
    "var.aws_region": REGION,
    "var.project": "chat",
    "var.environment": "production",
    "aws_s3_bucket.main.arn": BUCKET_ARN,
    "aws_s3_bucket.main.id": BUCKET,
    "aws_kms_key.main.arn": KEY_ARN,
}
# Shell variables of the scripts, for object keys and flag values.
SHELL = {
    "BUCKET": BUCKET, "CHAT_BUCKET": BUCKET, "bundle": f"{VERSION}.tar.gz", "VERSION": VERSION,
    "version": VERSION, "CHAT_KMS_KEY_ARN": KEY_ARN, "CHAT_SSM_PATH": SSM_PATH, "prefix": "registry",
}
SECURE = {"aws:SecureTransport": "true", "s3:TlsVersion": "1.3"}


def one(v):
    """bc-python-hcl2 wraps attribute values in a list."""
    return v[0] if isinstance(v, list) and len(v) == 1 else v


def interpolate(s):
    def sub(m):
        expr = m.group(1).strip()
        if expr not in SAMPLE:
            sys.exit(f"requests.py: no sample value for the reference ${{{expr}}}: add it to SAMPLE")
        return SAMPLE[expr]
    return re.sub(r"\$\{([^}]+)\}", sub, s)


def strings(v):
    v = one(v)
    if isinstance(v, str):
        v = [v]
    return [interpolate(x) for x in v]


def render_document(doc):
    statements = []
    for st in doc.get("statement", []):
        out = {}
        if "sid" in st:
            out["Sid"] = one(st["sid"])
        out["Effect"] = one(st.get("effect", "Allow"))
        for hcl, key in (("actions", "Action"), ("not_actions", "NotAction"),
                         ("resources", "Resource"), ("not_resources", "NotResource")):
            if hcl in st:
                out[key] = strings(st[hcl])
        for hcl, key in (("principals", "Principal"), ("not_principals", "NotPrincipal")):
            for p in st.get(hcl, []):
                typ, ids = one(p["type"]), strings(p["identifiers"])
                if typ == "*" and ids == ["*"]:
                    out[key] = "*"
                else:
                    out.setdefault(key, {}).setdefault(typ, []).extend(ids)
        for c in st.get("condition", []):
            test, var = one(c["test"]), interpolate(one(c["variable"]))
            out.setdefault("Condition", {}).setdefault(test, {})[var] = strings(c["values"])
        statements.append(out)
    return {"Version": "2012-10-17", "Statement": statements}


def policy_documents(infra):
    docs = {}
    for tf in sorted(pathlib.Path(infra).glob("*.tf")):
        with open(tf) as f:
            parsed = hcl2.load(f)
        for data in parsed.get("data", []):
            for name, body in data.get("aws_iam_policy_document", {}).items():
                docs[name] = render_document(body)
    return docs


def deploy_policy(doc_path):
    text = pathlib.Path(doc_path).read_text()
    m = re.search(r"`deploy-policy\.json`.*?```json\n(.*?)```", text, re.S)
    if not m:
        sys.exit(f"requests.py: no deploy-policy.json block in {doc_path}")
    body = (m.group(1).replace("ACCOUNT_ID", ACCOUNT).replace("REGION", REGION)
            .replace("STATE_BUCKET", "chat-tfstate").replace("ZONE_ID", "Z0123456789"))
    return json.loads(body)


def shell_words(script):
    """Each `aws ...` command of a shell script, as words, with line
    continuations joined and $VAR / ${VAR} / "$VAR" replaced from SHELL."""
    script = re.sub(r"\\\n\s*", " ", script)
    out = []
    for line in script.splitlines():
        line = line.strip()
        m = re.search(r"(?<![\w/.-])(aws\s+(?:s3|s3api|ssm|kms|sts|ec2)\s+[^)|;&]*)", line)
        if not m or line.startswith("#"):
            continue
        cmd = re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)(?:%/)?\}?",
                     lambda v: SHELL.get(v.group(1), "$" + v.group(1)), m.group(1))
        try:
            words = shlex.split(cmd, comments=True)
        except ValueError:
            words = cmd.split()
        out.append(words)
    return out


def flag(words, name):
    return words[words.index(name) + 1] if name in words else None


def s3_key(uri):
    m = re.match(r"s3://([^/]+)/(.*)$", uri)
    if not m:
        sys.exit(f"requests.py: cannot read the S3 URI {uri}")
    return m.group(2)


def sse_context(words):
    ctx = {}
    if flag(words, "--sse"):
        ctx["s3:x-amz-server-side-encryption"] = flag(words, "--sse")
    if flag(words, "--sse-kms-key-id"):
        ctx["s3:x-amz-server-side-encryption-aws-kms-key-id"] = flag(words, "--sse-kms-key-id")
    return ctx


def s3_put(who, principal, key, ctx, expect, why):
    return {"who": who, "principal": principal, "action": "s3:PutObject", "resource": f"{BUCKET_ARN}/{key}",
            "context": {**SECURE, **ctx}, "policies": ["bucket"], "expect": expect, "why": why}


def cd_requests(deploy_yml):
    wf = yaml.safe_load(pathlib.Path(deploy_yml).read_text())
    reqs = []
    for job_name, job in wf["jobs"].items():
        for step in job.get("steps", []):
            for words in shell_words(step.get("run", "")):
                if words[1:3] == ["s3", "cp"]:
                    args = [w for w in words[3:] if not w.startswith("--")]
                    dest = next(w for w in reversed(args) if w.startswith("s3://"))
                    key = s3_key(dest.replace("$BUCKET", BUCKET))
                    reqs.append(s3_put("CD", DEPLOY_ROLE, key, sse_context(words), "Allow",
                                       f"{job_name}: {step.get('name')}: aws s3 cp ... {dest}"))
                elif words[1] == "ssm" and words[2] == "send-command":
                    for res in (f"arn:aws:ssm:{REGION}::document/{flag(words, '--document-name')}", INSTANCE_ARN):
                        reqs.append({"who": "CD", "principal": DEPLOY_ROLE, "action": "ssm:SendCommand",
                                     "resource": res, "context": {"ssm:resourceTag/Project": "chat"},
                                     "policies": [], "expect": "Allow", "why": f"{step.get('name')}: aws ssm send-command",
                                     # An AWS-owned document's ARN has no account, which the
                                     # simulator's ARN validation refuses: evaluated unvalidated.
                                     "unvalidated": "::document/" in res})
                elif words[1] == "ssm" and words[2] in ("get-command-invocation", "describe-instance-information"):
                    action = "ssm:" + "".join(p.capitalize() for p in words[2].split("-"))
                    reqs.append({"who": "CD", "principal": DEPLOY_ROLE, "action": action, "resource": "*",
                                 "context": {}, "policies": [], "expect": "Allow", "why": f"{step.get('name')}: aws ssm {words[2]}"})
                else:
                    sys.exit(f"requests.py: {deploy_yml}: no IAM expectation for `{' '.join(words[:3])}`: add one")
    # CD's uploads are encrypted by the bucket default with the environment's key.
    reqs.append({"who": "CD", "principal": DEPLOY_ROLE, "action": "kms:GenerateDataKey", "resource": KEY_ARN,
                 "context": {"kms:ViaService": f"s3.{REGION}.amazonaws.com", "aws:ResourceTag/Project": "chat"},
                 "policies": ["kms"], "expect": "Allow", "why": "S3 encrypts CD's uploads with the key"})
    return reqs


def host_requests(host_script):
    reqs = []
    for words in shell_words(pathlib.Path(host_script).read_text()):
        sub = words[1:3]
        if sub == ["s3", "cp"]:
            src = next(w for w in words[3:] if w.startswith("s3://"))
            key = s3_key(src)
            reqs.append({"who": "host", "principal": INSTANCE_ROLE, "action": "s3:GetObject",
                         "resource": f"{BUCKET_ARN}/{key}", "context": dict(SECURE), "policies": ["bucket"],
                         "expect": "Allow", "why": f"chat-host.sh: aws s3 cp {src}"})
            reqs.append({"who": "host", "principal": INSTANCE_ROLE, "action": "kms:Decrypt", "resource": KEY_ARN,
                         "context": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}, "policies": ["kms"],
                         "expect": "Allow", "why": f"S3 decrypts {key} for the host"})
        elif sub == ["ssm", "get-parameters-by-path"]:
            path = flag(words, "--path").rstrip("/")
            reqs.append({"who": "host", "principal": INSTANCE_ROLE, "action": "ssm:GetParametersByPath",
                         "resource": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{path}", "context": {},
                         "policies": [], "expect": "Allow", "why": "chat-host.sh: .env from SSM"})
        elif sub == ["ssm", "get-parameter"]:
            name = flag(words, "--name")
            reqs.append({"who": "host", "principal": INSTANCE_ROLE, "action": "ssm:GetParameter",
                         "resource": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{name}", "context": {},
                         "policies": [], "expect": "Allow", "why": f"chat-host.sh: aws ssm get-parameter {name}"})
        else:
            sys.exit(f"requests.py: {host_script}: no IAM expectation for `{' '.join(words[:3])}`: add one")
        if "--with-decryption" in words:
            reqs.append({"who": "host", "principal": INSTANCE_ROLE, "action": "kms:Decrypt", "resource": KEY_ARN,
                         "context": {"kms:ViaService": f"ssm.{REGION}.amazonaws.com"}, "policies": ["kms"],
                         "expect": "Allow", "why": "SSM decrypts the SecureStrings for the host"})
    return reqs


def backup_requests(host_script, backup_script):
    unit = dict(re.findall(r"^Environment=(BACKUP_[A-Z0-9_]+)=(.*)$", pathlib.Path(host_script).read_text(), re.M))
    env = {k: re.sub(r"\$([A-Z_]+)", lambda v: SHELL.get(v.group(1), v.group(0)), v) for k, v in unit.items()}
    text = pathlib.Path(backup_script).read_text()
    # backup.sh: --sse "$sse" always; --sse-kms-key-id when aws:kms and a key is set.
    if 'sse_args=(--sse "$sse")' not in text or "--sse-kms-key-id" not in text:
        sys.exit(f"requests.py: {backup_script} no longer builds sse_args as this file models it: update backup_requests")
    sse = env.get("BACKUP_S3_SSE", "AES256")
    flags = ["--sse", sse]
    if sse == "aws:kms" and env.get("BACKUP_S3_KMS_KEY_ID"):
        flags += ["--sse-kms-key-id", env["BACKUP_S3_KMS_KEY_ID"]]
    prefix = s3_key(env.get("BACKUP_S3_URI", "s3://missing/").rstrip("/") + "/")
    return [
        s3_put("backup", INSTANCE_ROLE, f"{prefix}chat-20260101T031500Z.dump", sse_context(flags), "Allow",
               "chat-backup.service: backup.sh " + " ".join(flags)),
        {"who": "backup", "principal": INSTANCE_ROLE, "action": "kms:GenerateDataKey", "resource": KEY_ARN,
         "context": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}, "policies": ["kms"], "expect": "Allow",
         "why": "S3 encrypts the dump with the key"},
    ]


def must_be_denied():
    def get(key, why):
        return {"who": "host", "principal": INSTANCE_ROLE, "action": "s3:GetObject", "resource": f"{BUCKET_ARN}/{key}",
                "context": dict(SECURE), "policies": ["bucket"], "expect": "Deny", "why": why}
    return [
        get("backups/chat-20260101T031500Z.dump", "the host cannot read dumps back"),
        {"who": "host", "principal": INSTANCE_ROLE, "action": "s3:DeleteObject", "resource": f"{BUCKET_ARN}/backups/x.dump",
         "context": dict(SECURE), "policies": ["bucket"], "expect": "Deny", "why": "the host cannot delete dumps"},
        {"who": "host", "principal": INSTANCE_ROLE, "action": "s3:ListBucket", "resource": BUCKET_ARN,
         "context": dict(SECURE), "policies": ["bucket"], "expect": "Deny", "why": "the host cannot list the bucket"},
        s3_put("host", INSTANCE_ROLE, f"releases/{VERSION}.tar.gz", {}, "Deny", "the host cannot publish releases"),
        s3_put("backup", INSTANCE_ROLE, "backups/x.dump", {"s3:x-amz-server-side-encryption": "AES256"}, "Deny",
               "SSE-S3 instead of the key"),
        s3_put("backup", INSTANCE_ROLE, "backups/x.dump", {"s3:x-amz-server-side-encryption": "aws:kms",
               "s3:x-amz-server-side-encryption-aws-kms-key-id": OTHER_KEY_ARN}, "Deny", "another KMS key"),
        s3_put("CD", DEPLOY_ROLE, f"releases/{VERSION}.tar.gz", {"s3:x-amz-server-side-encryption": "AES256"}, "Deny",
               "CD asking for SSE-S3"),
        {"who": "CD", "principal": DEPLOY_ROLE, "action": "s3:PutObject", "resource": f"{BUCKET_ARN}/releases/x",
         "context": {"aws:SecureTransport": "false"}, "policies": ["bucket"], "expect": "Deny", "why": "plain HTTP"},
        {"who": "host", "principal": INSTANCE_ROLE, "action": "ssm:GetParameter",
         "resource": f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/other-app/production/DB_PASSWORD", "context": {},
         "policies": [], "expect": "Deny", "why": "another application's parameter"},
        {"who": "host", "principal": INSTANCE_ROLE, "action": "kms:Decrypt", "resource": KEY_ARN, "context": {},
         "policies": ["kms"], "expect": "Deny", "why": "the key used directly, not through S3 or SSM"},
    ]


def main():
    infra, deploy_yml, host_script, backup_script, deploy_doc = sys.argv[1:6]
    docs = policy_documents(infra)
    for need in ("bucket", "kms", "ssm_agent", "app"):
        if need not in docs:
            sys.exit(f"requests.py: no data.aws_iam_policy_document.{need} in {infra}")
    identity = {
        DEPLOY_ROLE: [{"name": "deploy", "policy": deploy_policy(deploy_doc)}],
        INSTANCE_ROLE: [{"name": "ssm-agent", "policy": docs["ssm_agent"]}, {"name": "app", "policy": docs["app"]}],
    }
    requests = cd_requests(deploy_yml) + host_requests(host_script) + backup_requests(host_script, backup_script)
    requests += must_be_denied()
    seen, unique = set(), []
    for r in requests:
        k = json.dumps([r["who"], r["action"], r["resource"], r["context"], r["expect"]], sort_keys=True)
        if k not in seen:
            seen.add(k)
            unique.append(r)
    requests = unique
    json.dump({"account": ACCOUNT, "identity": identity,
               "resource_policies": {"bucket": docs["bucket"], "kms": docs["kms"]}, "requests": requests},
              sys.stdout, indent=1)


if __name__ == "__main__":
    main()
