"""The AWS provider's schema, in the JSON form the stand-in provider serves,
from the type information (the .jsii assembly) of the CDK for Terraform AWS
bindings (npm @cdktf/provider-aws), which are generated from the provider's
own schema for one provider version.

    python3 gen_schema.py ASSEMBLY.jsii OUT.json

What the assembly gives, and how it maps back:
  - each resource or data source class names its Terraform type in its docs
    ("Represents a {@link .../docs/resources/s3_bucket aws_s3_bucket}");
  - its Config struct lists the arguments: the Terraform name is in each
    property's docs link (...#bucket_prefix S3Bucket#bucket_prefix), a
    property without `optional` is required, and a nested block is
    documented as "<name> block.";
  - the class's other getters are the computed-only attributes (arn, ...).
What it does not give: whether a block is a list or a set (all are served as
lists) and computed-only attributes inside nested blocks.
"""
import json
import re
import sys

PREFIX = "@cdktf/provider-aws."
LINK = re.compile(r"/docs/(resources|data-sources)/[a-z0-9_]+ (aws_[a-z0-9_]+)\}")
ARG = re.compile(r"#([a-z0-9_]+) [A-Za-z0-9]+#[a-z0-9_]+\}")
VERSION = re.compile(r"hashicorp/aws/([0-9][0-9.]*)/docs")
PRIMITIVE = {"string": "string", "number": "number", "boolean": "bool", "any": "dynamic", "json": "dynamic"}


def snake(name):
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def tf_name(prop):
    docs = prop.get("docs", {})
    for text in (docs.get("summary", ""), docs.get("remarks", "")):
        m = ARG.search(text)
        if m:
            return m.group(1)
    return snake(prop["name"])


def strip_resolvable(t):
    if "union" in t:
        rest = [u for u in t["union"]["types"] if u.get("fqn") != "cdktf.IResolvable"]
        if len(rest) == 1:
            return rest[0]
        if not rest:
            return {"primitive": "any"}
        # boolean | IResolvable and the like: the first non-token member
        return rest[0]
    return t


class Converter:
    def __init__(self, types):
        self.types = types

    def is_block(self, prop, name):
        return prop.get("docs", {}).get("summary", "").startswith(name + " block")

    def attr_type(self, t, depth=0):
        t = strip_resolvable(t)
        if "primitive" in t:
            return PRIMITIVE.get(t["primitive"], "dynamic")
        if "collection" in t:
            kind = "list" if t["collection"]["kind"] == "array" else "map"
            return [kind, self.attr_type(t["collection"]["elementtype"], depth + 1)]
        fqn = t.get("fqn", "")
        struct = self.types.get(fqn)
        if struct and struct.get("datatype") and depth < 8:
            fields, optional = {}, []
            for p in struct.get("properties", []):
                n = tf_name(p)
                fields[n] = self.attr_type(p["type"], depth + 1)
                if p.get("optional"):
                    optional.append(n)
            return ["object", fields, optional] if optional else ["object", fields]
        return "dynamic"

    def block_of_struct(self, fqn, depth=0):
        out = {"attributes": {}, "block_types": {}}
        struct = self.types.get(fqn)
        if not struct:
            return out
        for p in struct.get("properties", []):
            self.add_property(out, p, depth)
        return out

    def add_property(self, out, p, depth):
        name = tf_name(p)
        required = not p.get("optional")
        t = strip_resolvable(p["type"])
        if self.is_block(p, name) and depth < 12:
            if "collection" in t:
                fqn = t["collection"]["elementtype"].get("fqn", "")
                nested = {"nesting": "list", "min_items": 1 if required else 0, "max_items": 0}
            else:
                fqn = t.get("fqn", "")
                nested = {"nesting": "list", "min_items": 1 if required else 0, "max_items": 1}
            nested["block"] = self.block_of_struct(fqn, depth + 1)
            out["block_types"][name] = nested
            return
        out["attributes"][name] = {
            "type": self.attr_type(p["type"]),
            "required": required,
            "optional": not required,
            "computed": False,
        }

    def resource(self, cls):
        config = None
        for param in (cls.get("initializer") or {}).get("parameters", []):
            if param["name"] == "config":
                config = param["type"].get("fqn")
        out = self.block_of_struct(config) if config else {"attributes": {}, "block_types": {}}
        known = set(out["attributes"]) | set(out["block_types"])
        for p in cls.get("properties", []):
            if p.get("static") or p.get("protected") or p["name"].endswith("Input"):
                continue
            name = snake(p["name"])
            if name in known:
                continue
            t = p["type"]
            fqn = t.get("fqn", "")
            # An OutputReference/List getter of a computed nested object: its
            # shape is not given, so any value is accepted behind it.
            typ = self.attr_type(t) if not fqn.startswith(PREFIX) else "dynamic"
            out["attributes"][name] = {"type": typ, "required": False, "optional": False, "computed": True}
            known.add(name)
        return out


def main():
    assembly, dest = sys.argv[1], sys.argv[2]
    with open(assembly) as f:
        types = json.load(f)["types"]
    conv = Converter(types)
    schema = {"provider_version": None, "provider": None, "resources": {}, "data_sources": {}}
    for fqn, t in types.items():
        if t.get("kind") != "class" or not fqn.startswith(PREFIX):
            continue
        summary = t.get("docs", {}).get("summary", "")
        m = LINK.search(summary)
        if not m:
            continue
        kind = "resources" if m.group(1) == "resources" else "data_sources"
        schema[kind][m.group(2)] = conv.resource(t)
        v = VERSION.search(summary)
        if v:
            schema["provider_version"] = v.group(1)
    schema["provider"] = conv.block_of_struct(PREFIX + "provider.AwsProviderConfig")
    if not schema["provider"]["attributes"] or len(schema["resources"]) < 500:
        sys.exit("the assembly does not look like the AWS provider's bindings")
    with open(dest, "w") as f:
        json.dump(schema, f, sort_keys=True)
    print("AWS provider %s: %d resources, %d data sources"
          % (schema["provider_version"], len(schema["resources"]), len(schema["data_sources"])))


if __name__ == "__main__":
    main()
