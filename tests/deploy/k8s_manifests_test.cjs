'use strict';
// The deployment files, checked offline (node --test tests/deploy/k8s_manifests_test.cjs):
//  - both kustomize overlays render (`kubectl kustomize`, or $KUBECTL) and every object passes
//    k8s_check.cjs (Kubernetes schema + unknown keys), while a deliberately broken manifest is
//    rejected, by the unknown-key walk where kubernetes-models alone lets it pass;
//  - what the platform needs of them: probes, limits, non-root and read-only pods, a grace
//    period longer than the drain, a Service, PodDisruptionBudget and HorizontalPodAutoscaler per
//    service, Secrets and ConfigMaps that exist, addresses of one another that name a Service and
//    its port, NetworkPolicies that let only the right pods in (and the notifications service
//    out only to what it needs), an Envoy route and cluster per service that browsers call and
//    none for the others, and the Dockerfile, scripts/images and compose.yaml agreeing on the
//    list of services;
//  - the monitoring component (k8s/components/monitoring) in both overlays: a metrics port and
//    ECD_METRICS_ADDRESS per service, a ServiceMonitor each (checked against the Prometheus
//    Operator's CRD schemas, npm @kubernetes-models/prometheus-operator, and for unknown keys: a
//    broken fixture must be rejected), the PrometheusRule equal to deploy/prometheus/alerts.yml,
//    and Prometheus let in on the metrics port only;
//  - both overlays render from the files a fresh clone has (no key file, nothing git ignores)
//    without a deprecation warning.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');
const { execFileSync, spawnSync } = require('node:child_process');
const check = require('./k8s_check.cjs');

// deploy/compose.yaml's signing key (checked below) is made on each machine, never committed;
// the dev overlay no longer needs it (its certificates pods make theirs: signing-key.yaml).
execFileSync(path.join(__dirname, '..', '..', 'scripts', 'dev-signing-key'), {
  stdio: ['ignore', 'ignore', 'inherit'],
});

const ROOT = path.resolve(__dirname, '../..');
const KUBECTL = process.env.KUBECTL || 'kubectl';
const YAML = require(require.resolve('yaml', {
  paths: [process.env.ECD_NPM_DIR || path.join(ROOT, '.local/npm')],
}));

function render(overlay) {
  return execFileSync(KUBECTL, ['kustomize', path.join(ROOT, 'k8s/overlays', overlay)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],  // kustomize's deprecation warnings go to stderr
  });
}

const rendered = {};
function objects(overlay) {
  rendered[overlay] ??= render(overlay);
  return check.parseObjects(rendered[overlay], overlay);
}

// The platform's services, and those of them that browsers call through the gRPC-Web front
// (notifications is for the platform itself and administrators).
const SERVICES = ['catalogue', 'certificates', 'notifications', 'registration'];
const BROWSER_SERVICES = ['catalogue', 'certificates', 'registration'];

const byKind = (objs, kind) => objs.filter((o) => o.kind === kind);
const named = (objs, kind, name) => objs.find((o) => o.kind === kind && o.metadata.name === name);
const matches = (selector, labels) =>
  Object.entries(selector || {}).every(([k, v]) => labels && labels[k] === v);
// The platform's own gRPC services.
const grpcServices = (objs) =>
  byKind(objs, 'Deployment').filter(
    (d) => d.metadata.labels['app.kubernetes.io/component'] === 'grpc-service');
const workloads = (objs) =>
  objs.filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind));

// The environment a container gets from its ConfigMaps (envFrom) and literal env.
function environment(objs, container) {
  const env = {};
  for (const from of container.envFrom || []) {
    if (from.configMapRef) Object.assign(env, named(objs, 'ConfigMap', from.configMapRef.name).data);
  }
  for (const e of container.env || []) env[e.name] = e.value ?? e.valueFrom;
  return env;
}

// Every Secret and ConfigMap an object refers to: [kind, name, optional].
function references(obj) {
  const refs = [];
  const walk = (n) => {
    if (Array.isArray(n)) return n.forEach(walk);
    if (!n || typeof n !== 'object') return;
    const ref = (kind, r, name) => refs.push([kind, name, r.optional === true]);
    if (n.secretKeyRef) ref('Secret', n.secretKeyRef, n.secretKeyRef.name);
    if (n.secretRef) ref('Secret', n.secretRef, n.secretRef.name);
    if (n.configMapKeyRef) ref('ConfigMap', n.configMapKeyRef, n.configMapKeyRef.name);
    if (n.configMapRef) ref('ConfigMap', n.configMapRef, n.configMapRef.name);
    if (n.secret && n.secret.secretName) ref('Secret', n.secret, n.secret.secretName);
    if (n.configMap && n.configMap.name) ref('ConfigMap', n.configMap, n.configMap.name);
    Object.values(n).forEach(walk);
  };
  walk(obj);
  return refs;
}

// Does a pod selector (matchLabels, and matchExpressions with In) select these labels?
function selects(selector, labels) {
  if (!matches(selector.matchLabels, labels)) return false;
  return (selector.matchExpressions || []).every(
    (e) => e.operator === 'In' && labels && e.values.includes(labels[e.key]));
}

// Does some NetworkPolicy let a pod with `fromLabels` reach `toPod` on its port `portName`?
function allowed(objs, fromLabels, toPod, portName) {
  return byKind(objs, 'NetworkPolicy').some((np) => {
    if (!matches(np.spec.podSelector.matchLabels, toPod.metadata.labels)) return false;
    return (np.spec.ingress || []).some((rule) => {
      const portOk = !rule.ports || rule.ports.some((p) => p.port === portName);
      const fromOk = !rule.from || rule.from.some((peer) => {
        if (!peer.podSelector) return false;
        if (!matches(peer.podSelector.matchLabels, fromLabels)) return false;
        return (peer.podSelector.matchExpressions || []).every(
          (e) => e.operator === 'In' && e.values.includes(fromLabels[e.key]));
      });
      return portOk && fromOk;
    });
  });
}

// May a pod with `fromLabels` open a connection to `dest` (a pod's labels, or null for a
// destination outside the cluster) on `port` ({number, name (the pod's port name), protocol})?
// Open unless an Egress policy selects the pod; then some rule of those policies must allow it.
function egressAllowed(objs, fromLabels, dest, port) {
  const policies = byKind(objs, 'NetworkPolicy').filter(
    (np) => (np.spec.policyTypes || []).includes('Egress') &&
      selects(np.spec.podSelector, fromLabels));
  if (!policies.length) return true;
  const protocol = port.protocol || 'TCP';
  return policies.some((np) => (np.spec.egress || []).some((rule) => {
    const portOk = !rule.ports || rule.ports.some((p) => (p.protocol || 'TCP') === protocol &&
      (p.port === undefined || p.port === port.number || (dest !== null && p.port === port.name)));
    const toOk = !rule.to || rule.to.some((peer) => {
      if (peer.ipBlock) return dest === null;
      return dest !== null && !peer.namespaceSelector && selects(peer.podSelector || {}, dest);
    });
    return portOk && toOk;
  }));
}

// "host:port" into [host, port number].
function hostPort(address) {
  const colon = address.lastIndexOf(':');
  return [address.slice(0, colon), Number(address.slice(colon + 1))];
}

const SECRETS_MADE_OUTSIDE = ['ecd-tokens', 'ecd-catalogue', 'ecd-registration',
  'ecd-notifications', 'ecd-certificates', 'ecd-certificates-verify-keys', 'ecd-redis'];

test('the broken fixture is rejected, by the unknown-key walk where the schema lets it pass', () => {
  const text = fs.readFileSync(path.join(__dirname, 'fixtures/broken.yaml'), 'utf8');
  const problems = check.checkText(text, 'broken.yaml');
  assert.ok(problems.some((p) => p.includes('/containers/0/readinesProbe: unknown field')),
    problems.join('\n'));
  assert.ok(problems.some((p) => p.includes('/livenessProbe/periodSecond: unknown field')),
    problems.join('\n'));
  assert.ok(problems.some((p) => p.startsWith('Service/broken: /spec/ports/0/port: ')),
    problems.join('\n'));
  // What the unknown-key walk adds: kubernetes-models alone accepts the misspelled fields.
  const deployment = check.parseObjects(text)[0];
  assert.deepEqual(check.schemaErrors(check.modelFor(deployment), deployment), []);
});

test('the broken monitoring fixture is rejected: CRD schema errors and unknown keys', () => {
  const text = fs.readFileSync(path.join(__dirname, 'fixtures/broken-monitoring.yaml'), 'utf8');
  const problems = check.checkText(text, 'broken-monitoring.yaml');
  const expected = [
    'ServiceMonitor/broken: /spec/endpoints/0/intervall: unknown field',
    'ServiceMonitor/broken: /spec/endpoints/0/relabelings/0/target_label: unknown field',
    'PrometheusRule/broken: /spec/groups/0/rules/0/severity: unknown field',
  ];
  for (const e of expected) assert.ok(problems.includes(e), `${e}\nnot in\n${problems.join('\n')}`);
  assert.ok(problems.some((p) => p.startsWith('PrometheusRule/broken: /spec/groups/0/rules/0/for: ')),
    problems.join('\n'));
  // What the unknown-key walk adds: the CRD schema alone accepts the ServiceMonitor.
  const [serviceMonitor] = check.parseObjects(text);
  assert.deepEqual(check.schemaErrors(check.modelFor(serviceMonitor), serviceMonitor), []);
});

test('an object of no known kind is rejected', () => {
  assert.deepEqual(check.checkObject({ apiVersion: 'v1', kind: 'Deployment' }),
    ['no schema for apiVersion v1 kind Deployment']);
});

for (const overlay of ['dev', 'production']) {
  test(`${overlay}: renders, and every object passes the schema and unknown-key checks`, () => {
    const objs = objects(overlay);
    assert.ok(objs.length > 10, `only ${objs.length} objects`);
    const problems = check.checkText(rendered[overlay], overlay);
    assert.deepEqual(problems, []);
    const ns = overlay === 'dev' ? 'ecd-dev' : 'ecd';
    for (const o of objs) {
      if (o.kind !== 'Namespace') assert.equal(o.metadata.namespace, ns, `${o.kind}/${o.metadata.name}`);
    }
  });

  test(`${overlay}: every gRPC service is probed, bounded, hardened and drains in time`, () => {
    const objs = objects(overlay);
    const services = grpcServices(objs);
    assert.deepEqual(services.map((d) => d.metadata.name).sort(), SERVICES);
    for (const d of services) {
      const name = d.metadata.name;
      const pod = d.spec.template.spec;
      assert.ok(d.spec.replicas >= (overlay === 'production' ? 3 : 2), `${name} replicas`);
      const [c] = pod.containers;
      const port = c.ports.find((p) => p.name === 'grpc').containerPort;
      for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
        assert.equal(c[probe].grpc.port, port, `${name} ${probe} on the gRPC port`);
      }
      for (const kind of ['requests', 'limits']) {
        assert.ok(c.resources[kind].cpu && c.resources[kind].memory, `${name} ${kind}`);
      }
      const env = environment(objs, c);
      assert.equal(env.ECD_LISTEN_ADDRESS, `0.0.0.0:${port}`, `${name} listens on its port`);
      const drainMs = Number(env.ECD_SHUTDOWN_DEADLINE_MS);
      const preStopMs = 1000 * ((c.lifecycle?.preStop?.sleep?.seconds) ?? 0);
      assert.ok(pod.terminationGracePeriodSeconds * 1000 > drainMs + preStopMs,
        `${name}: grace ${pod.terminationGracePeriodSeconds} s, drain ${drainMs} ms + preStop`);
      assert.ok(env.ECD_PG_URL.secretKeyRef, `${name}: the database URL comes from a Secret`);
      assert.ok(env.ECD_TOKENS_FILE, `${name}: token hashes from a mounted Secret`);
      // One Service, PodDisruptionBudget and HorizontalPodAutoscaler for it.
      const podLabels = d.spec.template.metadata.labels;
      const svc = byKind(objs, 'Service').filter((s) => matches(s.spec.selector, podLabels));
      assert.equal(svc.length, 1, `${name}: one Service`);
      assert.equal(svc[0].spec.ports[0].targetPort, 'grpc');
      assert.equal(byKind(objs, 'PodDisruptionBudget')
        .filter((p) => matches(p.spec.selector.matchLabels, podLabels)).length, 1, `${name} PDB`);
      const hpa = byKind(objs, 'HorizontalPodAutoscaler')
        .filter((h) => h.spec.scaleTargetRef.kind === 'Deployment' && h.spec.scaleTargetRef.name === name);
      assert.equal(hpa.length, 1, `${name}: one HPA`);
      assert.equal(hpa[0].apiVersion, 'autoscaling/v2');
      assert.ok(hpa[0].spec.minReplicas >= d.spec.replicas, `${name}: HPA minimum`);
      if (overlay === 'production') assert.ok(!c.image.startsWith('localhost/'), c.image);
    }
  });

  test(`${overlay}: every pod runs non-root on a read-only root file system`, () => {
    for (const w of workloads(objects(overlay))) {
      const pod = w.spec.template.spec;
      assert.equal(pod.securityContext.runAsNonRoot, true, w.metadata.name);
      assert.equal(pod.automountServiceAccountToken, false, w.metadata.name);
      for (const c of [...(pod.initContainers || []), ...pod.containers]) {
        const sc = c.securityContext;
        const what = `${w.metadata.name}/${c.name}`;
        assert.equal(sc.readOnlyRootFilesystem, true, what);
        assert.equal(sc.allowPrivilegeEscalation, false, what);
        assert.deepEqual(sc.capabilities.drop, ['ALL'], what);
        assert.ok(c.resources.limits && c.resources.requests, what);
      }
    }
  });

  test(`${overlay}: Secrets and ConfigMaps referred to exist (or are made outside, in production)`,
    () => {
      const objs = objects(overlay);
      for (const o of objs) {
        for (const [kind, name, optional] of references(o)) {
          if (overlay === 'production' && kind === 'Secret') {
            assert.ok(SECRETS_MADE_OUTSIDE.includes(name), `undocumented Secret ${name}`);
          } else if (!optional) {
            assert.ok(named(objs, kind, name), `${o.kind}/${o.metadata.name} needs ${kind}/${name}`);
          }
        }
      }
      if (overlay === 'production') assert.deepEqual(byKind(objs, 'Secret'), []);
    });

  test(`${overlay}: NetworkPolicies let in only the allowed callers`, () => {
    const objs = objects(overlay);
    assert.ok(byKind(objs, 'NetworkPolicy').some(
      (np) => Object.keys(np.spec.podSelector).length === 0 && !np.spec.ingress &&
        np.spec.policyTypes.includes('Ingress')), 'a default deny');
    const front = named(objs, 'Deployment', 'grpc-web').spec.template.metadata.labels;
    const services = grpcServices(objs);
    const stranger = { 'app.kubernetes.io/name': 'stranger' };
    for (const d of services) {
      const pod = d.spec.template;
      assert.equal(allowed(objs, front, pod, 'grpc'), BROWSER_SERVICES.includes(d.metadata.name),
        `the front reaches ${d.metadata.name} only if browsers call it`);
      for (const other of services) {
        assert.ok(allowed(objs, other.spec.template.metadata.labels, pod, 'grpc'),
          `${other.metadata.name} reaches ${d.metadata.name}`);
      }
      assert.ok(!allowed(objs, stranger, pod, 'grpc'), `a stranger reaches ${d.metadata.name}`);
    }
    // Pods that use PostgreSQL or Redis carry the label that their policies admit.
    for (const w of workloads(objs)) {
      const labels = w.spec.template.metadata.labels;
      for (const c of w.spec.template.spec.containers) {
        const env = environment(objs, c);
        if (env.ECD_PG_URL) assert.equal(labels['ecd/postgresql-client'], 'true', w.metadata.name);
        if (env.ECD_REDIS_ADDRESS && env.ECD_REDIS_ADDRESS !== 'off') {
          assert.equal(labels['ecd/redis-client'], 'true', w.metadata.name);
        }
        if (env.ECD_SMTP_URL) assert.equal(labels['ecd/smtp-client'], 'true', w.metadata.name);
      }
    }
    if (overlay === 'dev') {
      const pg = named(objs, 'StatefulSet', 'postgresql').spec.template;
      const redis = named(objs, 'Deployment', 'redis').spec.template;
      assert.ok(allowed(objs, named(objs, 'Deployment', 'catalogue').spec.template.metadata.labels,
        pg, 'postgresql'));
      assert.ok(allowed(objs, named(objs, 'Deployment', 'registration').spec.template.metadata.labels,
        redis, 'redis'));
      for (const outsider of [front, stranger]) {
        assert.ok(!allowed(objs, outsider, pg, 'postgresql'), 'only clients reach PostgreSQL');
        assert.ok(!allowed(objs, outsider, redis, 'redis'), 'only clients reach Redis');
      }
      assert.ok(!allowed(objs, named(objs, 'Deployment', 'catalogue').spec.template.metadata.labels,
        redis, 'redis'), 'the catalogue does not use Redis');
      for (const d of services) {
        assert.ok(!allowed(objs, pg.metadata.labels, d.spec.template, 'grpc'),
          `PostgreSQL reaches ${d.metadata.name}`);
      }
      const maildev = named(objs, 'Deployment', 'maildev').spec.template;
      const labelsOf = (name) => named(objs, 'Deployment', name).spec.template.metadata.labels;
      assert.ok(allowed(objs, labelsOf('notifications'), maildev, 'smtp'),
        'notifications reaches the mail catcher');
      for (const other of [front, stranger, labelsOf('catalogue')]) {
        assert.ok(!allowed(objs, other, maildev, 'smtp'), 'only its clients reach the mail catcher');
      }
    }
  });

  test(`${overlay}: the services' addresses of one another name a Service the policies open`,
    () => {
      const objs = objects(overlay);
      const calls = [];
      for (const d of grpcServices(objs)) {
        const from = d.spec.template.metadata.labels;
        const env = environment(objs, d.spec.template.spec.containers[0]);
        for (const [key, value] of Object.entries(env)) {
          const notAService =
            ['ECD_LISTEN_ADDRESS', 'ECD_REDIS_ADDRESS', 'ECD_METRICS_ADDRESS'].includes(key);
          if (!/^ECD_\w+_ADDRESS$/.test(key) || notAService) continue;
          assert.equal(typeof value, 'string', `${d.metadata.name} ${key}`);
          const [host, port] = hostPort(value);
          const svc = named(objs, 'Service', host);
          assert.ok(svc, `${d.metadata.name} ${key}=${value}: no Service ${host}`);
          assert.ok(svc.spec.ports.some((p) => p.port === port),
            `${d.metadata.name} ${key}=${value}`);
          const target = named(objs, 'Deployment', host).spec.template;
          assert.ok(allowed(objs, from, target, 'grpc'), `${d.metadata.name} may reach ${host}`);
          const grpcPort = { number: port, name: 'grpc' };
          assert.ok(egressAllowed(objs, from, target.metadata.labels, grpcPort),
            `${d.metadata.name} may connect out to ${host}`);
          calls.push(`${d.metadata.name}->${host}`);
        }
      }
      // The outbox relay is on, and the calls the platform makes are all configured.
      for (const call of ['registration->catalogue', 'registration->notifications',
        'notifications->catalogue', 'certificates->catalogue', 'certificates->registration']) {
        assert.ok(calls.includes(call), `${call} (configured: ${calls.join(', ')})`);
      }
    });

  test(`${overlay}: the notifications service connects out only to what it needs`, () => {
    const objs = objects(overlay);
    const d = named(objs, 'Deployment', 'notifications');
    const from = d.spec.template.metadata.labels;
    const env = environment(objs, d.spec.template.spec.containers[0]);
    assert.ok(byKind(objs, 'NetworkPolicy').some((np) => np.spec.policyTypes.includes('Egress') &&
      selects(np.spec.podSelector, from)), 'an egress policy');
    assert.ok(egressAllowed(objs, from, null, { number: 53, protocol: 'UDP' }), 'DNS');
    // The mail server of ECD_SMTP_URL: the mail catcher's Service in dev, a relay outside in
    // production.
    const match = /^smtps?:\/\/([^:/]+):(\d+)/.exec(env.ECD_SMTP_URL || '');
    assert.ok(match, `ECD_SMTP_URL ${env.ECD_SMTP_URL}`);
    const [, smtpHost, smtpPort] = match;
    const smtpSvc = named(objs, 'Service', smtpHost);
    if (overlay === 'dev') {
      assert.ok(smtpSvc && smtpSvc.spec.ports.some((p) => p.port === Number(smtpPort)),
        `dev sends to the mail catcher's Service, not ${env.ECD_SMTP_URL}`);
      const maildev = named(objs, 'Deployment', smtpHost).spec.template.metadata.labels;
      assert.ok(egressAllowed(objs, from, maildev, { number: Number(smtpPort), name: 'smtp' }));
      const pg = named(objs, 'StatefulSet', 'postgresql').spec.template.metadata.labels;
      assert.ok(egressAllowed(objs, from, pg, { number: 5432, name: 'postgresql' }), 'PostgreSQL');
      const redis = named(objs, 'Deployment', 'redis').spec.template.metadata.labels;
      assert.ok(!egressAllowed(objs, from, redis, { number: 6379, name: 'redis' }), 'not Redis');
    } else {
      assert.ok(!smtpSvc, 'production sends to a mail relay outside the cluster');
      assert.ok(egressAllowed(objs, from, null, { number: Number(smtpPort) }), env.ECD_SMTP_URL);
      assert.ok(egressAllowed(objs, from, null, { number: 5432 }), 'managed PostgreSQL');
    }
    assert.ok(!egressAllowed(objs, from, null, { number: 443 }), 'no HTTPS to anywhere');
    const registration = named(objs, 'Deployment', 'registration').spec.template.metadata.labels;
    assert.ok(!egressAllowed(objs, from, registration, { number: 50062, name: 'grpc' }),
      'notifications does not call registration');
  });

  test(`${overlay}: monitoring: metrics port, ServiceMonitor, alert rules, Prometheus let in`,
    () => {
      const objs = objects(overlay);
      const prometheus = { 'app.kubernetes.io/name': 'prometheus' };
      const stranger = { 'app.kubernetes.io/name': 'stranger' };
      const monitors = byKind(objs, 'ServiceMonitor');
      for (const d of grpcServices(objs)) {
        const name = d.metadata.name;
        const [c] = d.spec.template.spec.containers;
        const metrics = c.ports.filter((p) => p.name === 'metrics');
        assert.equal(metrics.length, 1, `${name}: one container port named metrics`);
        assert.equal(metrics[0].containerPort, 9090, name);
        const env = environment(objs, c);
        assert.equal(env.ECD_METRICS_ADDRESS, `0.0.0.0:${metrics[0].containerPort}`,
          `${name}: serves its metrics on its metrics port`);
        const svc = named(objs, 'Service', name);
        assert.equal(svc.spec.ports[0].name, 'grpc', `${name}: the gRPC port stays the first`);
        const svcPort = svc.spec.ports.filter((p) => p.name === 'metrics');
        assert.equal(svcPort.length, 1, `${name}: one Service port named metrics`);
        assert.equal(svcPort[0].targetPort, 'metrics', name);
        const sm = monitors.filter((m) => matches(m.spec.selector.matchLabels, svc.metadata.labels));
        assert.equal(sm.length, 1, `${name}: one ServiceMonitor selects its Service`);
        assert.ok(!sm[0].spec.namespaceSelector, `${name}: the ServiceMonitor's own namespace`);
        assert.equal(sm[0].metadata.namespace, svc.metadata.namespace);
        const [endpoint] = sm[0].spec.endpoints;
        assert.equal(endpoint.port, 'metrics', name);
        assert.equal(endpoint.path, '/metrics', name);
        assert.deepEqual(endpoint.relabelings.filter((r) => r.targetLabel === 'job'),
          [{ action: 'replace', targetLabel: 'job', replacement: `ecd-${name}` }],
          `${name}: the job is named as in deploy/prometheus/prometheus.yml`);
        assert.ok(allowed(objs, prometheus, d.spec.template, 'metrics'), `Prometheus scrapes ${name}`);
        assert.ok(!allowed(objs, prometheus, d.spec.template, 'grpc'), `Prometheus calls ${name}`);
        assert.ok(!allowed(objs, stranger, d.spec.template, 'metrics'), `a stranger scrapes ${name}`);
      }
      assert.equal(monitors.length, grpcServices(objs).length, 'a ServiceMonitor per service only');
      const rules = byKind(objs, 'PrometheusRule');
      assert.equal(rules.length, 1);
      const alerts = YAML.parse(fs.readFileSync(path.join(ROOT, 'deploy/prometheus/alerts.yml'), 'utf8'));
      assert.deepEqual(rules[0].spec, alerts, 'the PrometheusRule is deploy/prometheus/alerts.yml');
    });

  test(`${overlay}: the gRPC-Web front routes each service's package to it`, () => {
    const objs = objects(overlay);
    const volume = named(objs, 'Deployment', 'grpc-web').spec.template.spec.volumes
      .find((v) => v.configMap);
    const cm = named(objs, 'ConfigMap', volume.configMap.name);
    const envoy = YAML.parse(cm.data[volume.configMap.items[0].key]);
    const hcm = envoy.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
    assert.deepEqual(hcm.http_filters.map((f) => f.name), [
      'envoy.filters.http.grpc_web', 'envoy.filters.http.cors', 'envoy.filters.http.router']);
    const vhost = hcm.route_config.virtual_hosts[0];
    assert.ok(vhost.typed_per_filter_config['envoy.filters.http.cors']);
    for (const d of grpcServices(objs)) {
      const name = d.metadata.name;
      const route = vhost.routes.find((r) => r.match.prefix === `/ecd.${name}.v1.`);
      if (!BROWSER_SERVICES.includes(name)) {
        assert.ok(!vhost.routes.some((r) => (r.match.prefix || r.match.path || '')
          .startsWith(`/ecd.${name}.`)), `no route to ${name}`);
        assert.ok(!envoy.static_resources.clusters.some((c) => c.name === name),
          `no cluster ${name}`);
        continue;
      }
      assert.ok(route, `a route for /ecd.${name}.v1.`);
      const cluster = envoy.static_resources.clusters.find((c) => c.name === route.route.cluster);
      const svc = named(objs, 'Service', name);
      const address = cluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address;
      assert.equal(address.socket_address.address, name);
      assert.equal(address.socket_address.port_value, svc.spec.ports[0].port);
      assert.ok(cluster.typed_extension_protocol_options[
        'envoy.extensions.upstreams.http.v3.HttpProtocolOptions'].explicit_http_config
        .http2_protocol_options, `${name}: HTTP/2 upstream`);
    }
  });
}

test('dev: the certificates\' signing key is made in the cluster, the same for every replica', () => {
  const objs = objects('dev');
  const d = named(objs, 'Deployment', 'certificates');
  const pod = d.spec.template.spec;
  const [c] = pod.containers;
  const file = environment(objs, c).ECD_SIGNING_KEY_FILE;
  const mount = c.volumeMounts.find((m) => file.startsWith(`${m.mountPath}/`));
  assert.ok(mount, `ECD_SIGNING_KEY_FILE=${file} is on a mounted volume`);
  const volume = pod.volumes.find((v) => v.name === mount.name);
  assert.ok(volume.emptyDir, `${file} is on a volume of the pod's own (${JSON.stringify(volume)})`);
  // An init container writes it, from the dev PostgreSQL (one row for all replicas).
  const writers = (pod.initContainers || []).filter((i) => (i.volumeMounts || []).some(
    (m) => m.name === mount.name && !m.readOnly && file === `${m.mountPath}/signing-key`));
  assert.equal(writers.length, 1, 'one init container writes the key');
  const args = writers[0].args.join('\n');
  assert.match(args, new RegExp(`^--command=\\\\o ${file}$`, 'm'));
  assert.match(args, /pg_advisory_xact_lock/);
  assert.match(args, /ON CONFLICT \(id\) DO NOTHING/);
  assert.equal(writers[0].env.find((e) => e.name === 'ECD_PG_URL').valueFrom.secretKeyRef.key,
    'pg-url');
  // The Secret has no key, and nothing asks it for one.
  const secret = byKind(objs, 'Secret').find((x) => x.metadata.name.startsWith('ecd-certificates'));
  assert.ok(!('signing-key' in secret.data), 'no signing key in the dev Secret');
  for (const v of pod.volumes.filter((x) => x.secret && x.secret.secretName === secret.metadata.name)) {
    for (const item of v.secret.items || []) {
      assert.ok(item.key in secret.data, `volume ${v.name} asks for ${item.key}`);
    }
  }
});

test('both overlays render from a fresh clone: no key file, nothing ignored, no warning', () => {
  // The files of k8s/ that a clone has: tracked, or new and not ignored by git.
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z',
    'k8s'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
  assert.ok(!files.includes('k8s/overlays/dev/signing-key'), 'the dev key file is ignored by git');
  const clone = fs.mkdtempSync(path.join(os.tmpdir(), 'ecd-k8s-'));
  try {
    for (const f of files) {
      if (!fs.existsSync(path.join(ROOT, f))) continue;  // deleted in the work tree
      fs.mkdirSync(path.dirname(path.join(clone, f)), { recursive: true });
      fs.copyFileSync(path.join(ROOT, f), path.join(clone, f));
    }
    for (const overlay of ['dev', 'production']) {
      const r = spawnSync(KUBECTL, ['kustomize', path.join(clone, 'k8s/overlays', overlay)],
        { encoding: 'utf8' });
      assert.equal(r.status, 0, `${overlay}: ${r.stderr}`);
      assert.equal(r.stderr.trim(), '', `${overlay} renders with warnings`);
      assert.equal(r.stdout, rendered[overlay] ?? render(overlay), `${overlay}: as from the work tree`);
    }
  } finally {
    fs.rmSync(clone, { recursive: true, force: true });
  }
});

test('the Dockerfile, scripts/images, compose.yaml and k8s agree on the services', () => {
  const dockerfile = fs.readFileSync(path.join(ROOT, 'deploy/Dockerfile'), 'utf8');
  const images = fs.readFileSync(path.join(ROOT, 'scripts/images'), 'utf8');
  const listed = images.match(/^ECD_IMAGE_SERVICES=\(([^)]*)\)/m)[1].trim().split(/\s+/);
  const compose = YAML.parse(fs.readFileSync(path.join(ROOT, 'deploy/compose.yaml'), 'utf8'),
    { merge: true });
  const k8s = grpcServices(objects('dev')).map((d) => d.metadata.name);
  assert.deepEqual([...listed].sort(), [...k8s].sort());
  const built = dockerfile.match(/^ARG SERVICES="([^"]*)"/m)[1].split(/\s+/);
  assert.deepEqual([...built].sort(), [...k8s].sort());
  for (const name of k8s) {
    const stage = dockerfile.split(/^FROM /m).find((s) => s.startsWith(`runtime AS ${name}\n`));
    assert.ok(stage, `a runtime stage ${name}`);
    assert.match(stage, /^USER 10001:10001$/m);
    assert.match(stage, new RegExp(`^ENTRYPOINT \\["/usr/local/bin/${name}"\\]$`, 'm'));
    assert.match(stage, /\/out\/health_probe/);
    const svc = compose.services[name];
    assert.ok(svc, `compose service ${name}`);
    assert.equal(svc.build.target, name);
    assert.deepEqual(svc.healthcheck.test, ['CMD', '/usr/local/bin/health_probe']);
    assert.equal(svc.read_only, true);
    for (const dep of Object.keys(svc.depends_on)) assert.ok(compose.services[dep], dep);
  }
  for (const s of Object.values(compose.secrets)) {
    assert.ok(fs.existsSync(path.join(ROOT, 'deploy', s.file)), s.file);
  }
  for (const v of compose.services['grpc-web'].volumes) {
    assert.ok(fs.existsSync(path.join(ROOT, 'deploy', v.split(':')[0])), v);
  }
});
