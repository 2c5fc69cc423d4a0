'use strict';
// The monitoring files, checked offline (node --test tests/deploy/prometheus_test.cjs; ctest
// deploy_prometheus):
//  - promtool (Debian's prometheus package; $PROMTOOL) accepts deploy/prometheus/prometheus.yml
//    (`check config`, which also checks the rule file it loads), alerts.yml (`check rules`) and the
//    config scripts/up makes with deploy/prometheus/local-config, and passes the unit tests of
//    alerts_test.yml (`test rules`), where each alert has a case where it fires and one where it
//    does not. Without promtool the test fails: it does not skip.
//  - every alert has a severity and summary, description and runbook annotations, and uses only
//    metrics the services export (the list below is the metrics contract of README "Watching it
//    run": a misspelt name would never fire);
//  - the Grafana dashboard (deploy/grafana/ecd-platform.json) is valid JSON, its panels fit the
//    grid, and every query is valid PromQL (promtool checks them as recording rules) on metrics
//    of the contract;
//  - k8s/components/monitoring/prometheusrule.yaml is what generate-prometheusrule makes of
//    alerts.yml.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '../..');
const PROM = path.join(ROOT, 'deploy/prometheus');
const PROMTOOL = process.env.PROMTOOL || 'promtool';
const YAML = require(require.resolve('yaml', {
  paths: [process.env.ECD_NPM_DIR || path.join(ROOT, '.local/npm')],
}));

// Runs a program; fails the test with its output unless it exits 0.
function run(program, args, what) {
  const r = spawnSync(program, args, { cwd: ROOT, encoding: 'utf8' });
  if (r.error && r.error.code === 'ENOENT') {
    assert.fail(`${program} not found: install Debian's prometheus package (scripts/deps.sh does)`);
  }
  assert.equal(r.status, 0, `${what}: ${program} ${args.join(' ')}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}
const promtool = (args, what) => run(PROMTOOL, args, what);

// The metrics the services export (the contract of issue 13), histograms by their base name.
const HISTOGRAMS = ['grpc_server_handling_seconds', 'grpc_client_handling_seconds',
  'ecd_pg_pool_wait_seconds', 'ecd_smtp_send_seconds', 'ecd_certificate_render_seconds'];
const METRICS = new Set([
  'up',
  'grpc_server_started_total', 'grpc_server_handled_total', 'ecd_grpc_server_in_flight',
  'grpc_client_handled_total', 'ecd_health_serving',
  'ecd_pg_pool_size', 'ecd_pg_pool_in_use', 'ecd_pg_pool_waits_total', 'ecd_pg_pool_exhausted_total',
  'ecd_redis_up', 'ecd_redis_script_reloads_total', 'ecd_redis_errors_total',
  'ecd_registrations_total', 'ecd_quota_seats_taken', 'ecd_quota_seats_limit',
  'ecd_outbox_pending', 'ecd_outbox_oldest_age_seconds', 'ecd_quota_redis_mismatches',
  'ecd_messages_total', 'ecd_smtp_send_attempts_total', 'ecd_messages_dead_letter_total',
  'ecd_messages_queue_depth', 'ecd_messages_oldest_unsent_age_seconds',
  'ecd_certificates_issued_total', 'ecd_certificate_verifications_total',
  'ecd_certificates_revoked_total',
  ...HISTOGRAMS.flatMap((h) => [`${h}_bucket`, `${h}_sum`, `${h}_count`]),
]);

// The metric names a PromQL expression reads: identifiers of our families (ecd_*, grpc_*) and up,
// outside strings, label matchers and label lists (by, without, on, ignoring, group_*).
function metricNames(expr) {
  const bare = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/\{[^}]*\}/g, '{}')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '$1()');
  const names = new Set();
  for (const m of bare.matchAll(/\b(?:ecd|grpc)_[a-z0-9_]+\b|\bup\b(?=\s*[{[)]|\s*==)/g)) {
    names.add(m[0]);
  }
  return [...names];
}

const alertsFile = YAML.parse(fs.readFileSync(path.join(PROM, 'alerts.yml'), 'utf8'));
const alerts = alertsFile.groups.flatMap((g) => g.rules);

test('promtool accepts prometheus.yml and alerts.yml', () => {
  promtool(['check', 'config', path.join(PROM, 'prometheus.yml')], 'check config');
  const out = promtool(['check', 'rules', path.join(PROM, 'alerts.yml')], 'check rules');
  assert.match(out, new RegExp(`SUCCESS: ${alerts.length} rules found`));
});

test('the alert rules pass their unit tests (promtool test rules alerts_test.yml)', () => {
  promtool(['test', 'rules', path.join(PROM, 'alerts_test.yml')], 'test rules');
});

test('each alert has a test where it fires and one where it does not', () => {
  const tests = YAML.parse(fs.readFileSync(path.join(PROM, 'alerts_test.yml'), 'utf8')).tests;
  const cases = tests.flatMap((t) => t.alert_rule_test || []);
  for (const a of alerts) {
    const mine = cases.filter((c) => c.alertname === a.alert);
    assert.ok(mine.some((c) => (c.exp_alerts || []).length > 0), `${a.alert}: no case where it fires`);
    assert.ok(mine.some((c) => (c.exp_alerts || []).length === 0), `${a.alert}: no case where it does not`);
  }
  for (const c of cases) {
    assert.ok(alerts.some((a) => a.alert === c.alertname), `a test of no alert ${c.alertname}`);
  }
});

test('every alert has a severity, a summary, a description and a runbook, on our metrics', () => {
  const names = new Set();
  for (const a of alerts) {
    assert.ok(/^Ecd[A-Za-z]+$/.test(a.alert), a.alert);
    assert.ok(!names.has(a.alert), `${a.alert} twice`);
    names.add(a.alert);
    assert.ok(['critical', 'warning'].includes(a.labels?.severity), `${a.alert}: severity`);
    for (const k of ['summary', 'description', 'runbook']) {
      assert.ok(typeof a.annotations?.[k] === 'string' && a.annotations[k].length > 10,
        `${a.alert}: annotation ${k}`);
    }
    const used = metricNames(a.expr);
    assert.ok(used.length > 0, `${a.alert}: reads no metric? ${a.expr}`);
    for (const m of used) assert.ok(METRICS.has(m), `${a.alert}: ${m} is not a metric the services export`);
  }
  // What issue 13 asks for, by the metric each alert watches.
  for (const m of ['up', 'ecd_health_serving', 'ecd_outbox_oldest_age_seconds',
    'ecd_messages_dead_letter_total', 'ecd_pg_pool_exhausted_total', 'ecd_redis_up',
    'ecd_quota_redis_mismatches']) {
    assert.ok(alerts.some((a) => metricNames(a.expr).includes(m)), `no alert on ${m}`);
  }
});

test('the scrape configuration has the four jobs, and scripts/up\'s copy passes promtool', () => {
  const config = YAML.parse(fs.readFileSync(path.join(PROM, 'prometheus.yml'), 'utf8'));
  const jobs = config.scrape_configs.map((s) => s.job_name).sort();
  assert.deepEqual(jobs, ['ecd-catalogue', 'ecd-certificates', 'ecd-notifications', 'ecd-registration']);
  assert.deepEqual(config.rule_files, ['alerts.yml']);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecd-prom-'));
  try {
    const out = run(path.join(PROM, 'local-config'), ['catalogue=127.0.0.1:19101',
      'registration=127.0.0.1:19102', 'notifications=127.0.0.1:19103',
      'certificates=127.0.0.1:19104', 'scrape_interval=5s'], 'local-config');
    const file = path.join(dir, 'prometheus.yml');
    fs.writeFileSync(file, out);
    promtool(['check', 'config', file], 'check config of the local copy');
    const local = YAML.parse(out);
    const targets = Object.fromEntries(local.scrape_configs.map(
      (s) => [s.job_name, s.static_configs.flatMap((c) => c.targets)]));
    assert.deepEqual(targets, {
      'ecd-catalogue': ['127.0.0.1:19101'], 'ecd-registration': ['127.0.0.1:19102'],
      'ecd-notifications': ['127.0.0.1:19103'], 'ecd-certificates': ['127.0.0.1:19104'],
    });
    assert.deepEqual(local.rule_files, [path.join(PROM, 'alerts.yml')]);
    assert.equal(local.global.scrape_interval, '5s');
    // A missing address is refused.
    const r = spawnSync(path.join(PROM, 'local-config'), ['catalogue=127.0.0.1:1'], { encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /registration=HOST:PORT/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the Grafana dashboard is valid, and its queries are valid PromQL on our metrics', () => {
  const file = path.join(ROOT, 'deploy/grafana/ecd-platform.json');
  const dash = JSON.parse(fs.readFileSync(file, 'utf8'));
  assert.equal(dash.uid, 'ecd-platform');
  assert.ok(dash.title);
  const ids = new Set();
  const exprs = [];
  for (const p of dash.panels) {
    assert.ok(!ids.has(p.id), `panel id ${p.id} twice`);
    ids.add(p.id);
    const g = p.gridPos;
    assert.ok(g && g.x >= 0 && g.w > 0 && g.x + g.w <= 24 && g.h > 0, `${p.title}: gridPos`);
    if (p.type === 'row') continue;
    assert.ok(p.title, `panel ${p.id} has a title`);
    assert.equal(p.datasource?.uid, '${datasource}', `${p.title}: the datasource variable`);
    assert.ok(p.targets?.length, `${p.title}: no query`);
    for (const t of p.targets) exprs.push([p.title, t.expr]);
  }
  const variables = dash.templating.list.map((v) => v.name);
  assert.ok(variables.includes('datasource'));
  // Grafana's variables replaced as Grafana would; then promtool parses each as a rule.
  const substitute = (e) => e.replace(/\$__rate_interval|\$__range/g, '5m')
    .replace(/\$(\w+)/g, (m, v) => {
      assert.ok(variables.includes(v), `unknown variable ${m} in ${e}`);
      return '.+';
    });
  const rules = { groups: [{ name: 'dashboard', rules: exprs.map(([title, e], i) => {
    for (const m of metricNames(e)) {
      assert.ok(METRICS.has(m), `${title}: ${m} is not a metric the services export`);
    }
    return { record: `dashboard:query:${i}`, expr: substitute(e) };
  }) }] };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ecd-dash-'));
  try {
    const rulesFile = path.join(dir, 'dashboard.yml');
    fs.writeFileSync(rulesFile, YAML.stringify(rules));
    promtool(['check', 'rules', rulesFile], 'the dashboard\'s queries');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  // The panels issue 13 asks for.
  const all = exprs.map(([, e]) => e).join('\n');
  for (const m of ['grpc_server_handled_total', 'grpc_server_handling_seconds_bucket',
    'ecd_registrations_total', 'ecd_quota_seats_taken', 'ecd_outbox_oldest_age_seconds',
    'ecd_messages_total', 'ecd_smtp_send_seconds_bucket', 'ecd_certificates_issued_total',
    'ecd_pg_pool_in_use']) {
    assert.ok(all.includes(m), `no panel shows ${m}`);
  }
});

test('the PrometheusRule of k8s/components/monitoring is generated from alerts.yml', () => {
  run(path.join(ROOT, 'k8s/components/monitoring/generate-prometheusrule'), ['--check'],
    'prometheusrule.yaml is stale');
  const rule = YAML.parse(fs.readFileSync(
    path.join(ROOT, 'k8s/components/monitoring/prometheusrule.yaml'), 'utf8'));
  assert.equal(rule.kind, 'PrometheusRule');
  assert.deepEqual(rule.spec, alertsFile);
});
