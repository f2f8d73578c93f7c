#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Checks a real reply of podrun-api against Documentation/openapi.json:
#   api-check.py OPENAPI PATH_TEMPLATE STATUS CONTENT_TYPE BODY_FILE
# PATH_TEMPLATE is the document's path ("/v1/pods/{uuid}"). The reply's status
# must be documented for that path, its content type must be the documented
# one, and a JSON body must validate against the schema (JSON Schema 2020-12,
# OpenAPI 3.1); an event stream's every data line must be a valid Event.
# `api-check.py OPENAPI --self` checks the document's own schemas.
import json
import sys

import jsonschema


def validator(doc, schema):
    root = {"$schema": "https://json-schema.org/draft/2020-12/schema", "components": doc["components"], **schema}
    return jsonschema.Draft202012Validator(root, format_checker=jsonschema.FormatChecker())


def fail(msg):
    print("api-check: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    doc = json.load(open(sys.argv[1]))
    if sys.argv[2] == "--self":
        for name, s in doc["components"]["schemas"].items():
            jsonschema.Draft202012Validator.check_schema(s)
        for path, item in doc["paths"].items():
            for op in item.values():
                for r in op["responses"].values():
                    for c in r.get("content", {}).values():
                        jsonschema.Draft202012Validator.check_schema(c["schema"])
        return
    path, status, ctype, body = sys.argv[2], sys.argv[3], sys.argv[4], open(sys.argv[5], "rb").read()
    if path not in doc["paths"]:
        fail(f"{path}: not in the document")
    responses = doc["paths"][path]["get"]["responses"]
    if status not in responses:
        fail(f"{path}: status {status} is not documented")
    content = responses[status].get("content", {})
    ctype = ctype.split(";")[0].strip()
    if ctype not in content:
        fail(f"{path} {status}: content type {ctype!r} is not documented (documented: {list(content)})")
    schema = content[ctype]["schema"]
    if ctype == "application/json":
        v = validator(doc, schema)
        errors = sorted(v.iter_errors(json.loads(body)), key=str)
        if errors:
            fail(f"{path} {status}: " + "; ".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5]))
    elif ctype == "text/event-stream":
        v = validator(doc, {"$ref": "#/components/schemas/Event"})
        for line in body.decode().splitlines():
            if line.startswith("data: "):
                errors = list(v.iter_errors(json.loads(line[6:])))
                if errors:
                    fail(f"{path}: event {line[6:]}: {errors[0].message}")


main()
