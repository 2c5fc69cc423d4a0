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
//    list of services.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const check = require('./k8s_check.cjs');

// The dev overlay's signing key is made on each machine, never committed.
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
      for (const c of pod.containers) {
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
          const notAService = ['ECD_LISTEN_ADDRESS', 'ECD_REDIS_ADDRESS'].includes(key);
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
