// Validates Kubernetes manifests offline against the API schemas bundled in the kubernetes-models
// package: unknown kinds, unknown fields, wrong types and missing required fields all fail.
// Usage: node k8s-validate.js FILE.yaml...   (files that are not Kubernetes objects, such as a
// kustomization.yaml, are reported and skipped)
"use strict";
const fs = require("fs");
const path = require("path");
const YAML = require("yaml");

const SKIPPED_KINDS = new Set(["Kustomization"]);

function modelFor(apiVersion, kind) {
  // "v1" lives under kubernetes-models/v1, "apps/v1" under kubernetes-models/apps/v1, and so on.
  const file = `kubernetes-models/${apiVersion}/${kind}`;
  try {
    return require(file)[kind];
  } catch (e) {
    if (e.code === "MODULE_NOT_FOUND") return null;
    throw e;
  }
}

let failures = 0;
let checked = 0;
for (const file of process.argv.slice(2)) {
  const docs = YAML.parseAllDocuments(fs.readFileSync(file, "utf8"));
  docs.forEach((doc, i) => {
    const where = `${path.basename(file)}#${i + 1}`;
    if (doc.errors.length > 0) {
      failures++;
      console.log(`${where}: YAML: ${doc.errors.map((e) => e.message).join("; ")}`);
      return;
    }
    const obj = doc.toJS();
    if (obj === null) return;
    if (SKIPPED_KINDS.has(obj.kind)) {
      console.log(`${where}: ${obj.kind} is not a Kubernetes API object: skipped`);
      return;
    }
    const Model = modelFor(obj.apiVersion, obj.kind);
    if (Model === null) {
      failures++;
      console.log(`${where}: unknown apiVersion/kind ${obj.apiVersion} ${obj.kind}`);
      return;
    }
    try {
      new Model(obj).validate();
      checked++;
      console.log(`${where}: ${obj.kind} ${obj.metadata && obj.metadata.name}: valid`);
    } catch (e) {
      failures++;
      console.log(`${where}: ${obj.kind}: ${e.message}`);
    }
  });
}
console.log(`k8s-validate: ${checked} valid, ${failures} invalid`);
process.exit(failures === 0 && checked > 0 ? 0 : 1);
