// Real users of the local cluster for tests: a client certificate per user, signed with the cluster's
// CA key (`openssl`), so that the API server authenticates them as `CN` with the groups `O` (plus
// system:authenticated), exactly as it would a person's certificate. Each gets a kubeconfig in a
// temporary folder; nothing is written into the stack's state. Respects CUTOVER_STATE_DIR.
import * as k8s from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { clusterDir } from '../../stack/cluster-components.ts';
import { stateDir } from '../../stack/endpoints.ts';
import { waitFor } from '../../stack/processes.ts';
import { kube } from './cluster.ts';

const run = promisify(execFile);

export interface ClusterUser {
  name: string;
  groups: string[];
  /** A kubeconfig file that authenticates as this user. */
  kubeconfig: string;
  config: k8s.KubeConfig;
}

export interface ClusterUsers {
  users: Record<string, ClusterUser>;
  /** Deletes the keys, certificates and kubeconfigs. */
  remove(): void;
}

/** The local cluster's CA (certificate and key), from kwokctl's pki folder. */
export function clusterCa(): { cert: string; key: string } {
  const pki = join(clusterDir(stateDir()), 'pki');
  return { cert: join(pki, 'ca.crt'), key: join(pki, 'ca.key') };
}

async function openssl(args: string[]): Promise<void> {
  await run('openssl', args, { timeout: 30_000, maxBuffer: 1024 * 1024 });
}

/** Issues a client certificate for each user (CN = name, one O per group) and writes a kubeconfig for it. */
export async function clusterUsers(specs: { name: string; groups?: string[] }[]): Promise<ClusterUsers> {
  const dir = mkdtempSync(join(tmpdir(), 'cutover-users-'));
  const ca = clusterCa();
  const server = kube().config.getCurrentCluster()?.server;
  if (!server) throw new Error('the stack kubeconfig names no server');
  const users: Record<string, ClusterUser> = {};
  try {
    for (const spec of specs) {
      const groups = spec.groups ?? [];
      const key = join(dir, `${spec.name}.key`);
      const csr = join(dir, `${spec.name}.csr`);
      const cert = join(dir, `${spec.name}.crt`);
      const subject = `/CN=${spec.name}${groups.map((g) => `/O=${g}`).join('')}`;
      await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
      await openssl(['req', '-new', '-key', key, '-subj', subject, '-out', csr]);
      // A serial of our own: -CAcreateserial would write a file beside the CA in the stack's state.
      const serial = `0x${Date.now().toString(16)}${Math.floor(Math.random() * 0xffff).toString(16)}`;
      await openssl([
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        ca.cert,
        '-CAkey',
        ca.key,
        '-set_serial',
        serial,
        '-days',
        '1',
        '-sha256',
        '-out',
        cert,
      ]);
      const kubeconfig = join(dir, `${spec.name}.kubeconfig.yaml`);
      writeFileSync(
        kubeconfig,
        YAML.stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [{ name: 'cutover', cluster: { server, 'certificate-authority': ca.cert } }],
          users: [{ name: spec.name, user: { 'client-certificate': cert, 'client-key': key } }],
          contexts: [{ name: spec.name, context: { cluster: 'cutover', user: spec.name } }],
          'current-context': spec.name,
        }),
        { mode: 0o600 },
      );
      const config = new k8s.KubeConfig();
      config.loadFromFile(kubeconfig);
      users[spec.name] = { name: spec.name, groups, kubeconfig, config };
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return { users, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Binds a ClusterRole to users or groups in one namespace, as `kubectl create rolebinding` does. */
export async function bindRole(
  namespace: string,
  name: string,
  clusterRole: string,
  subjects: { users?: string[]; groups?: string[] },
): Promise<void> {
  const rbac = kube().config.makeApiClient(k8s.RbacAuthorizationV1Api);
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name, namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRole },
      subjects: [
        ...(subjects.users ?? []).map((u) => ({
          kind: 'User',
          apiGroup: 'rbac.authorization.k8s.io',
          name: u,
        })),
        ...(subjects.groups ?? []).map((g) => ({
          kind: 'Group',
          apiGroup: 'rbac.authorization.k8s.io',
          name: g,
        })),
      ],
    },
  });
}

/** Waits until RBAC grants `user` (with `groups`) a verb on canaries.cutover.dev in `namespace`: new bindings take a moment. */
export async function waitForGrant(
  namespace: string,
  user: string,
  groups: string[],
  verb: string,
): Promise<void> {
  const authorization = kube().config.makeApiClient(k8s.AuthorizationV1Api);
  await waitFor(
    `RBAC to grant ${user} ${verb} in ${namespace}`,
    async () =>
      (
        await authorization.createSubjectAccessReview({
          body: {
            spec: {
              user,
              groups,
              resourceAttributes: { group: 'cutover.dev', resource: 'canaries', verb, namespace },
            },
          },
        })
      ).status?.allowed === true,
    30_000,
  );
}
