'use strict';
// The deployment files, checked offline (node --test tests/deploy/k8s_manifests_test.cjs):
//  - both kustomize overlays render (`kubectl kustomize`, or $KUBECTL) and every object passes
//    k8s_check.cjs (Kubernetes schema + unknown keys), while a deliberately broken manifest is
//    rejected, by the unknown-key walk where kubernetes-models alone lets it pass;
//  - what the platform needs of them: probes, limits, non-root and read-only pods, a grace
//    period longer than the drain, a Service, PodDisruptionBudget and HorizontalPodAutoscaler per
//    service, Secrets and ConfigMaps that exist, NetworkPolicies that let only the right pods in,
//    an Envoy route and cluster per service, and the Dockerfile, scripts/images and compose.yaml
//    agreeing on the list of services.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const check = require('./k8s_check.cjs');

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

// Every Secret and ConfigMap an object refers to.
function references(obj) {
  const refs = [];
  const walk = (n) => {
    if (Array.isArray(n)) return n.forEach(walk);
    if (!n || typeof n !== 'object') return;
    if (n.secretKeyRef) refs.push(['Secret', n.secretKeyRef.name]);
    if (n.secretRef) refs.push(['Secret', n.secretRef.name]);
    if (n.configMapKeyRef) refs.push(['ConfigMap', n.configMapKeyRef.name]);
    if (n.configMapRef) refs.push(['ConfigMap', n.configMapRef.name]);
    if (n.secret && n.secret.secretName) refs.push(['Secret', n.secret.secretName]);
    if (n.configMap && n.configMap.name) refs.push(['ConfigMap', n.configMap.name]);
    Object.values(n).forEach(walk);
  };
  walk(obj);
  return refs;
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

const SECRETS_MADE_OUTSIDE = ['ecd-tokens', 'ecd-catalogue', 'ecd-registration', 'ecd-redis'];

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
    assert.deepEqual(services.map((d) => d.metadata.name).sort(), ['catalogue', 'registration']);
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
        for (const [kind, name] of references(o)) {
          if (overlay === 'production' && kind === 'Secret') {
            assert.ok(SECRETS_MADE_OUTSIDE.includes(name), `undocumented Secret ${name}`);
          } else {
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
      assert.ok(allowed(objs, front, pod, 'grpc'), `the front reaches ${d.metadata.name}`);
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
    }
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
