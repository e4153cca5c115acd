import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import YAML from 'yaml';
import { z } from 'zod';
import { cutoverSearchAttributes } from '../../../workflows/search-attributes.ts';
import { repoRoot } from './manifests.ts';

// The part of the Compose specification (compose-spec.io, `compose-spec.json`) that Cutover's file uses.
// Objects are strict: a misspelled key is an error here rather than silently ignored by an old Compose.
const stringOrList = z.union([z.string(), z.array(z.string())]);
const duration = z.string().regex(/^(\d+(\.\d+)?(us|ms|s|m|h))+$/, 'a Compose duration such as 5s or 1m30s');

const port = z.union([
  z
    .string()
    .regex(
      /^((\[?[\d.:a-f]+\]?|\$\{[A-Z_]+(:-[^}]*)?\}):)?(\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/,
      'HOST_IP:HOST:CONTAINER[/PROTOCOL]',
    ),
  z.strictObject({
    target: z.number().int(),
    published: z.union([z.string(), z.number().int()]).optional(),
    host_ip: z.string().optional(),
    protocol: z.enum(['tcp', 'udp', 'sctp']).optional(),
    mode: z.enum(['host', 'ingress']).optional(),
    name: z.string().optional(),
  }),
]);

// SOURCE:TARGET[:MODE] or a bare container path (an anonymous volume).
// The source may be an interpolation with a default, whose `:-` is not a separator.
const shortVolume = z
  .string()
  .regex(/^((\$\{[^}]+\}|[^:$]+):)?\/[^:]*(:(ro|rw|z|Z|cached|delegated|consistent)(,[a-zA-Z]+)*)?$/);
const longVolume = z.strictObject({
  type: z.enum(['bind', 'volume', 'tmpfs', 'npipe', 'cluster', 'image']),
  source: z.string().optional(),
  target: z.string().startsWith('/'),
  read_only: z.boolean().optional(),
  bind: z
    .strictObject({ create_host_path: z.boolean().optional(), propagation: z.string().optional() })
    .optional(),
  volume: z.strictObject({ nocopy: z.boolean().optional(), subpath: z.string().optional() }).optional(),
  tmpfs: z
    .strictObject({ size: z.union([z.string(), z.number()]).optional(), mode: z.number().optional() })
    .optional(),
});

const environment = z.union([
  z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*(=.*)?$/, 'NAME=value')),
  z.record(
    z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/),
    z.union([z.string(), z.number(), z.boolean(), z.null()]),
  ),
]);

const dependsOn = z.union([
  z.array(z.string()),
  z.record(
    z.string(),
    z.strictObject({
      condition: z.enum(['service_started', 'service_healthy', 'service_completed_successfully']),
      restart: z.boolean().optional(),
      required: z.boolean().optional(),
    }),
  ),
]);

const healthcheck = z.strictObject({
  test: z.union([z.string(), z.tuple([z.enum(['CMD', 'CMD-SHELL', 'NONE'])], z.string())]),
  interval: duration.optional(),
  timeout: duration.optional(),
  retries: z.number().int().positive().optional(),
  start_period: duration.optional(),
  start_interval: duration.optional(),
  disable: z.boolean().optional(),
});

const build = z.union([
  z.string(),
  z.strictObject({
    context: z.string(),
    dockerfile: z.string().optional(),
    target: z.string().optional(),
    args: z.union([z.array(z.string()), z.record(z.string(), z.string())]).optional(),
  }),
]);

const service = z
  .strictObject({
    image: z.string().optional(),
    build: build.optional(),
    command: stringOrList.optional(),
    entrypoint: stringOrList.optional(),
    user: z.string().optional(),
    read_only: z.boolean().optional(),
    tmpfs: stringOrList.optional(),
    cap_drop: z.array(z.string()).optional(),
    cap_add: z.array(z.string()).optional(),
    security_opt: z.array(z.string()).optional(),
    environment: environment.optional(),
    env_file: stringOrList.optional(),
    ports: z.array(port).optional(),
    volumes: z.array(z.union([shortVolume, longVolume])).optional(),
    extra_hosts: z.union([z.array(z.string()), z.record(z.string(), z.string())]).optional(),
    depends_on: dependsOn.optional(),
    healthcheck: healthcheck.optional(),
    restart: z
      .string()
      .regex(/^(no|always|unless-stopped|on-failure(:\d+)?)$/)
      .optional(),
    networks: z.union([z.array(z.string()), z.record(z.string(), z.unknown())]).optional(),
  })
  .refine((s) => s.image !== undefined || s.build !== undefined, 'a service needs an image or a build');

const composeFile = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]*$/)
    .optional(),
  services: z.record(z.string().regex(/^[a-zA-Z0-9._-]+$/), service),
  volumes: z
    .record(z.string(), z.union([z.null(), z.strictObject({ driver: z.string().optional() })]))
    .optional(),
  networks: z.record(z.string(), z.unknown()).optional(),
});
type ComposeFile = z.infer<typeof composeFile>;
type Service = z.infer<typeof service>;

const raw = YAML.parse(readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8')) as unknown;

function compose(): ComposeFile {
  const parsed = composeFile.safeParse(raw);
  if (!parsed.success)
    assert.fail(`docker-compose.yml does not follow the Compose spec:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

function serviceNamed(name: string): Service {
  const found = compose().services[name];
  assert.ok(found, `docker-compose.yml has a service ${name}`);
  return found;
}

function environmentOf(s: Service): Record<string, string> {
  if (Array.isArray(s.environment)) {
    return Object.fromEntries(s.environment.map((e) => [e.split('=')[0], e.split('=').slice(1).join('=')]));
  }
  return Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, String(v ?? '')]));
}

function argv(command: string | string[] | undefined): string[] {
  return typeof command === 'string' ? command.split(/\s+/) : (command ?? []);
}

test('docker-compose.yml follows the Compose spec: services, images or builds, ports, environment, volumes', () => {
  const file = compose();
  assert.deepEqual(Object.keys(file.services).sort(), ['prometheus', 'temporal', 'worker']);
  assert.equal((raw as { version?: unknown }).version, undefined, 'the top-level version key is obsolete');
});

test('the schema rejects what Compose would reject or silently ignore', () => {
  const valid = { services: { a: { image: 'x:1' } } };
  assert.ok(composeFile.safeParse(valid).success);
  for (const broken of [
    { services: { a: { image: 'x:1', enviroment: { A: '1' } } } },
    { services: { a: {} } },
    { services: { a: { image: 'x:1', ports: ['localhost'] } } },
    { services: { a: { image: 'x:1', depends_on: { b: { condition: 'healthy' } } } } },
    { services: { a: { image: 'x:1', volumes: ['relative/target'] } } },
    { services: { a: { image: 'x:1', healthcheck: { test: ['RUN', 'true'] } } } },
  ]) {
    assert.equal(composeFile.safeParse(broken).success, false, JSON.stringify(broken));
  }
});

test('dependencies name defined services, and each image is pinned to a version', () => {
  const file = compose();
  for (const [name, s] of Object.entries(file.services)) {
    const needs = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
    for (const dependency of needs)
      assert.ok(file.services[dependency], `${name} depends on ${dependency}, which exists`);
    if (s.image) {
      const tag = s.image.split(':')[1];
      assert.ok(tag && tag !== 'latest', `${name}'s image ${s.image} has a version tag`);
    }
    for (const published of (s.ports ?? []).filter((p) => typeof p === 'string')) {
      assert.ok(published.startsWith('127.0.0.1:'), `${name} publishes ${published} on loopback only`);
    }
  }
});

test('the temporal service is a dev server with its UI and the search attributes of Cutover', () => {
  const temporal = serviceNamed('temporal');
  assert.match(temporal.image ?? '', /^temporalio\/temporal:/);
  // The CLI version of the local stack (scripts/versions.env), so both run the same server.
  const versions = readFileSync(join(repoRoot, 'scripts', 'versions.env'), 'utf8');
  const cli = /^TEMPORAL_CLI_VERSION=v?(.+)$/m.exec(versions)?.[1];
  assert.equal(temporal.image, `temporalio/temporal:${cli}`);
  const args = argv(temporal.command);
  assert.deepEqual(args.slice(0, 2), ['server', 'start-dev']);
  assert.equal(args[args.indexOf('--ip') + 1], '0.0.0.0', 'listens beyond the container loopback');
  const attributes = args.flatMap((a, i) => (args[i - 1] === '--search-attribute' ? [a] : []));
  assert.deepEqual(
    attributes.sort(),
    Object.entries(cutoverSearchAttributes)
      .map(([name, type]) => `${name}=${type}`)
      .sort(),
  );
  assert.deepEqual(temporal.ports, ['127.0.0.1:7233:7233', '127.0.0.1:8233:8233']);
  assert.ok(temporal.healthcheck, 'the worker waits for a healthy server');
});

test('the worker is built from the Dockerfile, reaches Temporal and Prometheus by service name, and reads the kubeconfig read-only', () => {
  const worker = serviceNamed('worker');
  const context = typeof worker.build === 'string' ? worker.build : worker.build?.context;
  const dockerfile =
    typeof worker.build === 'object' ? (worker.build.dockerfile ?? 'Dockerfile') : 'Dockerfile';
  assert.ok(context !== undefined && existsSync(join(repoRoot, context, dockerfile)));
  const env = environmentOf(worker);
  assert.equal(env.TEMPORAL_ADDRESS, 'temporal:7233');
  assert.match(env.PROMETHEUS_URL ?? '', /http:\/\/prometheus:9090/);
  assert.ok(env.KUBECONFIG);
  const kubeconfig = (worker.volumes ?? []).find(
    (v) => typeof v === 'string' && v.includes(`:${env.KUBECONFIG}:`),
  );
  assert.equal(kubeconfig, '${KUBECONFIG:-~/.kube/config}:/home/node/.kube/config:ro');
  assert.deepEqual(worker.depends_on, {
    temporal: { condition: 'service_healthy' },
    prometheus: { condition: 'service_started' },
  });
  assert.equal(worker.read_only, true);
  assert.deepEqual(worker.cap_drop, ['ALL']);
});

test('prometheus scrapes the worker with the config file of deploy/compose', () => {
  const prometheus = serviceNamed('prometheus');
  assert.match(prometheus.image ?? '', /^prom\/prometheus:v\d+\.\d+\.\d+$/);
  const mount = (prometheus.volumes ?? []).find((v) => typeof v === 'string' && v.startsWith('./'));
  assert.equal(typeof mount, 'string');
  const source = (mount as string).split(':')[0] ?? '';
  assert.ok(existsSync(join(repoRoot, source)), `${source} exists`);
  const config = YAML.parse(readFileSync(join(repoRoot, source), 'utf8')) as {
    scrape_configs: { job_name: string; metrics_path?: string; static_configs: { targets: string[] }[] }[];
  };
  const job = config.scrape_configs.find((j) =>
    j.static_configs.some((s) => s.targets.includes('worker:8080')),
  );
  assert.ok(job, 'a scrape job targets worker:8080');
  assert.equal(job.metrics_path ?? '/metrics', '/metrics');
});
