// From the worker's configuration to the options of its two Temporal connections (the worker's native
// one and the client's gRPC one, which the activities use to hand over between rollouts), and the
// registration of Cutover's search attributes on a Temporal that does not have them yet.
import { readFileSync } from 'node:fs';
import type { ConnectionOptions, OperatorService, TLSConfig } from '@temporalio/client';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { cutoverSearchAttributes } from '../workflows/search-attributes.ts';
import type { TemporalSettings } from './config.ts';

export interface TemporalConnectionOptions {
  /** For `NativeConnection.connect` (@temporalio/worker). */
  native: NativeConnectionOptions;
  /** For `Connection.connect` (@temporalio/client). */
  client: ConnectionOptions;
}

/**
 * Both connections' options. Reads the PEM files now, so a file that vanished or is not PEM fails here
 * with its path rather than later inside a TLS handshake. Throws `TemporalTlsError`.
 */
export function temporalConnectionOptions(settings: TemporalSettings): TemporalConnectionOptions {
  // `tls: false` must be explicit when an API key is set without TLS: both SDKs turn TLS on for an API
  // key whose `tls` is left undefined.
  const tls: TLSConfig | false = settings.tls === undefined ? false : tlsConfig(settings.tls);
  const apiKey = settings.apiKey === undefined ? {} : { apiKey: settings.apiKey };
  return {
    native: { address: settings.address, tls, ...apiKey },
    client: { address: settings.address, tls, ...apiKey },
  };
}

export class TemporalTlsError extends Error {
  override name = 'TemporalTlsError';
}

function tlsConfig(tls: NonNullable<TemporalSettings['tls']>): TLSConfig {
  const config: TLSConfig = {};
  if (tls.serverName !== undefined) config.serverNameOverride = tls.serverName;
  if (tls.serverCaPath !== undefined) {
    config.serverRootCACertificate = readPem(
      tls.serverCaPath,
      'the TLS CA (--tls-ca / TEMPORAL_TLS_CA)',
      'CERTIFICATE',
    );
  }
  if (tls.clientCertPath !== undefined || tls.clientKeyPath !== undefined) {
    if (tls.clientCertPath === undefined || tls.clientKeyPath === undefined) {
      throw new TemporalTlsError(
        'mTLS needs both --tls-cert and --tls-key (TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY)',
      );
    }
    config.clientCertPair = {
      crt: readPem(
        tls.clientCertPath,
        'the client certificate (--tls-cert / TEMPORAL_TLS_CERT)',
        'CERTIFICATE',
      ),
      key: readPem(tls.clientKeyPath, 'the client key (--tls-key / TEMPORAL_TLS_KEY)', 'PRIVATE KEY'),
    };
  }
  return config;
}

function readPem(path: string, what: string, block: 'CERTIFICATE' | 'PRIVATE KEY'): Buffer {
  let content: Buffer;
  try {
    content = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new TemporalTlsError(
      `cannot read ${what} at '${path}' (${code}); give the path of a readable PEM file`,
    );
  }
  // "PRIVATE KEY" also matches "RSA PRIVATE KEY" and "EC PRIVATE KEY".
  const begin = new RegExp(`-----BEGIN [A-Z ]*${block}-----`);
  if (!begin.test(content.toString('latin1'))) {
    throw new TemporalTlsError(
      `${what} at '${path}' is not PEM: expected a '-----BEGIN ${block}-----' block (convert DER with openssl)`,
    );
  }
  return content;
}

/** What the server calls each type, in the operator API's numbering (temporal.api.enums.v1.IndexedValueType). */
const indexedValueTypes = {
  Text: 1,
  Keyword: 2,
  Int: 3,
  Double: 4,
  Bool: 5,
  Datetime: 6,
  KeywordList: 7,
} as const;

/** Either connection (client `Connection` or worker `NativeConnection`) has this. */
export interface HasOperatorService {
  operatorService: Pick<OperatorService, 'listSearchAttributes' | 'addSearchAttributes'>;
}

export interface SearchAttributeSetup {
  /** Attributes this call registered (empty when all were there). */
  added: string[];
  /**
   * Set when they could not be checked or registered. Log it loudly: the rollout workflows upsert these
   * attributes, and their workflow tasks fail (and retry) until the attributes exist.
   */
  warning?: string;
}

// gRPC status codes the server answers with.
const NOT_FOUND = 5;
const ALREADY_EXISTS = 6;
const PERMISSION_DENIED = 7;
const UNIMPLEMENTED = 12;

/**
 * Registers `CutoverCanary`, `CutoverNamespace`, `CutoverRevision`, `CutoverPhase` on `namespace` when
 * missing. Safe to call on every start and from several workers at once. Never throws for a refusal:
 * Temporal Cloud, for one, only takes search attributes from its UI or `tcld`, so the answer is a
 * warning to log.
 */
export async function ensureSearchAttributes(
  connection: HasOperatorService,
  namespace: string,
): Promise<SearchAttributeSetup> {
  const wanted = Object.entries(cutoverSearchAttributes);
  const names = wanted.map(([name]) => name).join(', ');
  let existing: Record<string, number>;
  try {
    const response = await connection.operatorService.listSearchAttributes({ namespace });
    existing = { ...response.customAttributes };
  } catch (error) {
    return { added: [], warning: refusalWarning('list', names, namespace, error) };
  }

  const problems: string[] = [];
  const missing: Record<string, number> = {};
  for (const [name, type] of wanted) {
    const have = existing[name];
    if (have === undefined) missing[name] = indexedValueTypes[type];
    else if (have !== indexedValueTypes[type]) {
      problems.push(`${name} exists with another type (${typeName(have)}, Cutover needs ${type})`);
    }
  }
  const added = Object.keys(missing);
  if (added.length > 0) {
    try {
      await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
    } catch (error) {
      // Another worker registered them between our list and our add.
      if (grpcCode(error) !== ALREADY_EXISTS) {
        return { added: [], warning: refusalWarning('add', added.join(', '), namespace, error) };
      }
    }
  }
  if (problems.length > 0) {
    return {
      added,
      warning: `search attributes in Temporal namespace '${namespace}': ${problems.join('; ')}; Cutover's search attribute upserts will fail until the type is fixed`,
    };
  }
  return { added };
}

function typeName(value: number): string {
  return Object.entries(indexedValueTypes).find(([, n]) => n === value)?.[0] ?? `type ${value}`;
}

function grpcCode(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'number') {
    return error.code;
  }
  return undefined;
}

function refusalWarning(action: 'list' | 'add', names: string, namespace: string, error: unknown): string {
  const code = grpcCode(error);
  const detail = (error instanceof Error ? error.message : String(error)).replace(/\.$/, '');
  const register = `register them yourself as Keyword attributes`;
  const fix =
    code === NOT_FOUND
      ? `create the namespace or fix --temporal-namespace / TEMPORAL_NAMESPACE`
      : code === PERMISSION_DENIED || code === UNIMPLEMENTED
        ? `${register} (Temporal Cloud: its UI or 'tcld namespace search-attributes add'; self-hosted: 'temporal operator search-attribute create')`
        : `check the connection, or ${register} ('temporal operator search-attribute create')`;
  return `could not ${action} Cutover's search attributes (${names}) in Temporal namespace '${namespace}': ${detail}; ${fix}. Until then rollout workflows fail their tasks when they upsert them.`;
}
