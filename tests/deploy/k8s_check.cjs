'use strict';
// k8s_check.cjs: validates Kubernetes objects offline.
//   node tests/deploy/k8s_check.cjs FILE.yaml... (or - for standard input)
// prints one line per problem and exits 1 if there is any (2 if a file cannot be read or parsed).
//
// Two checks per object:
//  1. the schema of its apiVersion/kind, with the npm package kubernetes-models (the Kubernetes
//     OpenAPI schemas compiled into validators), or @kubernetes-models/prometheus-operator for the
//     Prometheus Operator's kinds (the OpenAPI schemas of its CRDs, compiled the same way):
//     types, enums, patterns, required fields, formats;
//  2. unknown keys, which those validators let through (a misspelled optional field such as
//     `readinesProbe` is silently ignored, and by the API server too). kubernetes-models ships
//     its schemas only as compiled validators, so the known keys are learnt from the validator
//     itself: each key of the object in turn is replaced by a value no schema accepts (a
//     Symbol); a key the schema knows then fails validation at exactly its own path, a key it
//     does not know passes unnoticed and is reported. Known keys are walked into recursively,
//     so a key is judged by the schema of the place where it sits (map entries such as labels
//     are known through their map's value schema).
// The npm packages come from .local/npm (scripts/deps.sh), or ECD_NPM_DIR.
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../..');
const NPM_DIR = process.env.ECD_NPM_DIR || path.join(ROOT, '.local/npm');

function requireNpm(name) {
  return require(require.resolve(name, { paths: [NPM_DIR] }));
}

const YAML = requireNpm('yaml');

// Where the models of an API group's kinds are: Kubernetes's own in kubernetes-models, the
// Prometheus Operator's (ServiceMonitor, PrometheusRule ..., compiled from its CRDs' OpenAPI
// schemas) in @kubernetes-models/prometheus-operator.
const MODEL_PACKAGES = { 'monitoring.coreos.com': '@kubernetes-models/prometheus-operator' };

// The model class of an object (<package>/<group>/<version>/<Kind>), or null.
function modelFor(obj) {
  if (typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string') return null;
  if (!/^[a-z0-9.]*\/?v[0-9a-z]+$/.test(obj.apiVersion) || !/^[A-Za-z]+$/.test(obj.kind)) {
    return null;
  }
  const group = obj.apiVersion.includes('/') ? obj.apiVersion.split('/')[0] : '';
  const pkg = MODEL_PACKAGES[group] || 'kubernetes-models';
  try {
    require.resolve(pkg, { paths: [NPM_DIR] });
  } catch {
    throw new Error(`the npm package ${pkg} is missing from ${NPM_DIR} (scripts/deps.sh installs it)`);
  }
  try {
    return requireNpm(`${pkg}/${obj.apiVersion}/${obj.kind}`)[obj.kind] || null;
  } catch {
    return null;
  }
}

// The validator's errors for obj ([] when valid).
function schemaErrors(Model, obj) {
  try {
    new Model(obj).validate();
    return [];
  } catch (e) {
    if (Array.isArray(e.errors)) return e.errors;
    throw e;
  }
}

function pointer(base, key) {
  return `${base}/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

const PROBE = Symbol('probe');

// JSON pointers of the keys of obj that its schema does not know.
function unknownKeys(Model, obj) {
  const unknown = [];
  const walk = (node, at) => {
    if (Array.isArray(node)) {
      node.forEach((item, i) => walk(item, pointer(at, i)));
      return;
    }
    if (node === null || typeof node !== 'object') return;
    for (const key of Object.keys(node)) {
      const keyAt = pointer(at, key);
      const value = node[key];
      node[key] = PROBE;
      let known;
      try {
        known = schemaErrors(Model, obj).some((e) => e.instancePath === keyAt);
      } catch {
        known = true;  // the validator looked at the probe and choked on it: it knows the key
      } finally {
        node[key] = value;
      }
      if (known) {
        walk(value, keyAt);
      } else {
        unknown.push(keyAt);
      }
    }
  };
  walk(obj, '');
  return unknown;
}

// kustomize 5 folds long base64 values over several lines; the API server's base64 decoding
// skips line breaks, the schema's `byte` format does not.
function unfoldBase64(obj) {
  for (const field of ['data', 'binaryData']) {
    const map = obj[field];
    if ((obj.kind !== 'Secret' && field === 'data') || !map || typeof map !== 'object') continue;
    for (const [k, v] of Object.entries(map)) {
      if (typeof v === 'string') map[k] = v.replace(/[\r\n]/g, '');
    }
  }
  return obj;
}

// Problems of one object, as strings.
function checkObject(obj) {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return ['not an object'];
  unfoldBase64(obj);
  const Model = modelFor(obj);
  if (!Model) return [`no schema for apiVersion ${obj.apiVersion} kind ${obj.kind}`];
  const problems = schemaErrors(Model, obj).map((e) => `${e.instancePath || '/'}: ${e.message}`);
  for (const at of unknownKeys(Model, obj)) problems.push(`${at}: unknown field`);
  return problems;
}

function describe(obj) {
  const name = obj && obj.metadata && obj.metadata.name;
  return `${(obj && obj.kind) || '?'}/${name || '?'}`;
}

// Parses a YAML stream into objects; throws on a syntax error or a duplicate key.
function parseObjects(text, source = 'input') {
  const objects = [];
  for (const doc of YAML.parseAllDocuments(text)) {
    if (doc.errors.length) throw new Error(`${source}: ${doc.errors[0].message}`);
    const obj = doc.toJS();
    if (obj !== null && obj !== undefined) objects.push(obj);
  }
  return objects;
}

// Problems of every object of a YAML stream: "<Kind>/<name>: <where>: <what>".
function checkText(text, source) {
  const problems = [];
  for (const obj of parseObjects(text, source)) {
    for (const p of checkObject(obj)) problems.push(`${describe(obj)}: ${p}`);
  }
  return problems;
}

module.exports = { checkObject, checkText, parseObjects, schemaErrors, modelFor, unknownKeys };

if (require.main === module) {
  const files = process.argv.slice(2);
  if (!files.length) {
    console.error('usage: k8s_check.cjs FILE.yaml... (- for standard input)');
    process.exit(2);
  }
  let failed = false;
  for (const file of files) {
    let problems;
    try {
      const text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
      problems = checkText(text, file);
    } catch (e) {
      console.error(`${file}: ${e.message}`);
      process.exit(2);
    }
    for (const p of problems) console.log(`${file}: ${p}`);
    failed = failed || problems.length > 0;
  }
  process.exit(failed ? 1 : 0);
}
