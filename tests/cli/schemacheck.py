#!/usr/bin/python3
"""schemacheck.py SCHEMA DEF FILE: FILE holds one JSON document (greenwich-mmc --json
output) that must match $defs/DEF of SCHEMA.  Exit 0 when it does, 1 with the reason."""
import json
import sys

import jsonschema

schema_file, name, doc_file = sys.argv[1:4]
schema = json.load(open(schema_file))
try:
    doc = json.load(open(doc_file))
    jsonschema.validate(doc, {"$ref": "#/$defs/" + name, "$defs": schema["$defs"]})
except (ValueError, jsonschema.ValidationError) as e:
    print("%s does not match %s: %s" % (doc_file, name, str(e).splitlines()[0]))
    sys.exit(1)
