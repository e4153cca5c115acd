// The one HTTP client of Cutover's outbound calls (Prometheus queries, webhooks, alerts). A hostile or
// broken server must not be able to hold a worker, fill its memory or point it at another host, so
// every request has:
//
// - a TOTAL deadline (an AbortSignal over connect, headers and body, not an idle timer), after which
//   the request and its socket are destroyed, not left open;
// - a response-size cap, counted on the decoded body as it streams in (a gzip bomb is cut as well);
// - no redirects, unless the policy allows them to the same host (and port);
// - a destination check: an optional allow/deny list of hosts and CIDRs, with link-local and
//   cloud-metadata addresses denied by default, checked on the URL's host and on every address the
//   name resolves to (at connect time, so a name cannot resolve to one address for the check and
//   another for the connection).
//
// Built on axios (the project's HTTP library) with its stream response, `signal`, `lookup` and
// `beforeRedirect` options, rather than on fetch: Node's fetch offers no per-request DNS hook without
// importing undici's Agent, which is not a dependency, and does not decode a capped stream for us.
import dns from 'node:dns';
import type http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Readable } from 'node:stream';
import { CancelledFailure, Context } from '@temporalio/activity';
import axios, { AxiosError } from 'axios';
import type { AxiosResponse, LookupAddressEntry } from 'axios';
import { redactUrl } from '../canary/redact.ts';

/** 1 MiB: room for a few thousand series; an instant query for a check returns one. */
export const prometheusMaxResponseBytes = 1024 * 1024;
/** 64 KiB: a hook's or chat system's answer is a status and a line of text. */
export const hookMaxResponseBytes = 64 * 1024;

/**
 * Denied unless an `allow` entry names them: link-local addresses (where every cloud's instance
 * metadata lives) and the cloud metadata endpoints by address and name.
 */
export const defaultDeniedDestinations: readonly string[] = [
  '169.254.0.0/16',
  'fe80::/10',
  '169.254.169.254',
  'fd00:ec2::254',
  '100.100.100.200', // Alibaba Cloud metadata
  'metadata.google.internal',
  'metadata.goog',
];

/**
 * Where outbound calls may go. Entries are host names (`prometheus.monitoring`), suffixes
 * (`*.svc.cluster.local` or `.svc.cluster.local`), IP addresses or CIDRs (`10.0.0.0/8`, `fd00::/8`).
 *
 * Precedence: an explicit `deny` entry wins, then an explicit `allow` entry, then the default denials;
 * when `allow` is non-empty anything it does not name is denied, otherwise anything else is allowed.
 */
export interface DestinationPolicy {
  allow?: readonly string[];
  deny?: readonly string[];
  /** Default `none`. `same-host` follows up to 3 redirects that keep the scheme, host and port. */
  redirects?: 'none' | 'same-host';
}

/** The default: any destination except link-local and cloud metadata, no redirects. */
export const defaultDestinationPolicy: DestinationPolicy = {};

export interface BoundedRequest {
  method: 'GET' | 'POST';
  url: string | URL;
  headers?: Record<string, string>;
  /** Sent as is; set the Content-Type header to match. */
  body?: string;
  /** The whole exchange: connecting, sending, the headers and the whole body. */
  timeoutMs: number;
  maxResponseBytes: number;
  /**
   * Past `maxResponseBytes`: `error` fails the call (an answer cut short is no answer, e.g. Prometheus
   * JSON), `truncate` keeps the first bytes and drops the connection (a hook's reason is at the start).
   */
  overflow: 'error' | 'truncate';
  /** Accept any TLS certificate. */
  insecureSkipVerify?: boolean;
  policy?: DestinationPolicy;
  /**
   * Also abort when this fires. Default: the current activity's cancellation signal, when called
   * inside an activity, so an attempt Temporal gave up on does not leave its request open.
   */
  signal?: AbortSignal;
}

export interface BoundedResponse {
  status: number;
  /** Lower-cased header names; a repeated header's values joined with `, `. */
  headers: Record<string, string>;
  body: string;
  /** True when `overflow: 'truncate'` cut the body at `maxResponseBytes`. */
  truncated: boolean;
}

export type OutboundFailureKind =
  'invalid-url' | 'denied' | 'timeout' | 'too-large' | 'redirect' | 'tls' | 'network' | 'cancelled';

/** TLS failures a retry will not fix. */
const permanentTlsCodes = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Why an outbound call got no usable answer. The message names the destination without credentials. */
export class OutboundCallError extends Error {
  override name = 'OutboundCallError';
  readonly kind: OutboundFailureKind;
  /** Whether trying again may help (a timeout or a refused connection may; a denied address will not). */
  readonly retryable: boolean;
  /** The URL called, redacted. */
  readonly destination: string;
  /** What went wrong, without the URL: for callers that name the destination their own way. */
  readonly reason: string;
  readonly code?: string;

  constructor(
    kind: OutboundFailureKind,
    destination: string,
    reason: string,
    options: { retryable: boolean; code?: string; cause?: unknown },
  ) {
    super(`${destination}: ${reason}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.destination = destination;
    this.reason = reason;
    this.retryable = options.retryable;
    if (options.code !== undefined) this.code = options.code;
  }
}

/** Raised inside the DNS hook, so that it can be told from a resolver failure. */
class DestinationDenied extends Error {}

const insecureHttpsAgent = new https.Agent({ rejectUnauthorized: false });

/**
 * One HTTP exchange within the bounds above. Resolves with any HTTP status (the caller decides what a
 * 4xx or 5xx means); rejects with an `OutboundCallError` when there is no usable answer.
 */
export async function boundedRequest(request: BoundedRequest): Promise<BoundedResponse> {
  const url = parseHttpUrl(request.url);
  const shown = redactUrl(url);
  const policy = request.policy ?? defaultDestinationPolicy;
  const rules = compilePolicy(policy);
  const denial = rules.checkHost(url.hostname);
  if (denial) throw new OutboundCallError('denied', shown, denial, { retryable: false });

  const deadline = AbortSignal.timeout(request.timeoutMs);
  const outer = request.signal ?? activityCancellationSignal();
  const signal = outer ? AbortSignal.any([deadline, outer]) : deadline;
  const sameHost = policy.redirects === 'same-host';

  let response: AxiosResponse<Readable> | undefined;
  try {
    response = await axios.request<Readable>({
      method: request.method,
      url: url.href,
      headers: request.headers ?? {},
      data: request.body,
      responseType: 'stream',
      validateStatus: () => true,
      signal,
      // The deadline is the signal's; axios' own `timeout` is an idle timer on the socket.
      timeout: 0,
      maxRedirects: sameHost ? 3 : 0,
      ...(sameHost
        ? {
            beforeRedirect: (options: Record<string, unknown>) => {
              if (!sameOrigin(options, url)) {
                throw new DestinationDenied(
                  `redirected to another host (${String(options.hostname)}); only redirects to the same host are followed`,
                );
              }
            },
          }
        : {}),
      lookup: rules.lookup,
      ...(request.insecureSkipVerify ? { httpsAgent: insecureHttpsAgent } : {}),
    });
  } catch (error) {
    throw classify(error, shown, request, deadline, outer);
  }

  const stream = response.data;
  try {
    const status = response.status;
    const headers = flatHeaders(response.headers as Record<string, unknown>);
    if (status >= 300 && status < 400 && headers.location !== undefined) {
      stream.destroy();
      throw new OutboundCallError(
        'redirect',
        shown,
        `answered HTTP ${status}, a redirect to ${redactUrl(new URL(headers.location, url))}; ` +
          `redirects are not followed${sameHost ? ' to another host' : ''}: use the final address`,
        { retryable: false },
      );
    }
    const { body, truncated } = await readCapped(stream, request, shown);
    return { status, headers, body, truncated };
  } catch (error) {
    if (error instanceof OutboundCallError) throw error;
    throw classify(error, shown, request, deadline, outer);
  } finally {
    // A body left unread (cut at the cap, or after an error) holds its socket: close it.
    if (!stream.readableEnded) {
      stream.destroy();
      (response.request as http.ClientRequest | undefined)?.destroy?.();
    }
  }
}

/** Parses an http(s) URL, or throws `invalid-url` with the address redacted. */
export function parseHttpUrl(address: string | URL): URL {
  let url: URL;
  try {
    url = typeof address === 'string' ? new URL(address) : new URL(address.href);
  } catch {
    const shown = redactUrl(String(address));
    throw new OutboundCallError('invalid-url', `"${shown}"`, 'is not a valid URL', { retryable: false });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new OutboundCallError('invalid-url', `"${redactUrl(url)}"`, 'must be an http or https URL', {
      retryable: false,
    });
  }
  return url;
}

function sameOrigin(options: Record<string, unknown>, url: URL): boolean {
  const defaultPort = (protocol: string) => (protocol === 'https:' ? '443' : '80');
  const protocol = String(options.protocol);
  const host = String(options.hostname)
    .replace(/^\[|\]$/g, '')
    .toLowerCase();
  const port = String(options.port || defaultPort(protocol));
  return (
    protocol === url.protocol &&
    host === url.hostname.replace(/^\[|\]$/g, '').toLowerCase() &&
    port === (url.port || defaultPort(url.protocol))
  );
}

async function readCapped(
  stream: Readable,
  request: BoundedRequest,
  shown: string,
): Promise<{ body: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    const room = request.maxResponseBytes - size;
    if (buffer.length > room) {
      if (request.overflow === 'error') {
        throw new OutboundCallError(
          'too-large',
          shown,
          `answered with more than ${formatBytes(request.maxResponseBytes)}; the rest was not read`,
          { retryable: false },
        );
      }
      chunks.push(buffer.subarray(0, room));
      return { body: Buffer.concat(chunks).toString('utf8'), truncated: true };
    }
    chunks.push(buffer);
    size += buffer.length;
  }
  return { body: Buffer.concat(chunks).toString('utf8'), truncated: false };
}

function classify(
  error: unknown,
  shown: string,
  request: BoundedRequest,
  deadline: AbortSignal,
  outer: AbortSignal | undefined,
): OutboundCallError {
  if (error instanceof OutboundCallError) return error;
  const denied = findCause(error, (e) => e instanceof DestinationDenied);
  if (denied) {
    return new OutboundCallError(
      denied.message.startsWith('redirected') ? 'redirect' : 'denied',
      shown,
      denied.message,
      { retryable: false, cause: error },
    );
  }
  if (deadline.aborted) {
    return new OutboundCallError('timeout', shown, `no complete answer within ${request.timeoutMs}ms`, {
      retryable: true,
      cause: error,
    });
  }
  if (outer?.aborted) {
    return new OutboundCallError('cancelled', shown, 'the call was cancelled', {
      retryable: false,
      cause: error,
    });
  }
  const code = errorCode(error);
  if (code === 'ERR_FR_TOO_MANY_REDIRECTS') {
    return new OutboundCallError('redirect', shown, 'more than 3 redirects', { retryable: false, code });
  }
  const message = error instanceof Error ? error.message : String(error);
  const text = code && !message.includes(code) ? `${code} ${message}` : message;
  if (code && permanentTlsCodes.has(code)) {
    return new OutboundCallError('tls', shown, text, { retryable: false, code, cause: error });
  }
  return new OutboundCallError('network', shown, text, {
    retryable: true,
    ...(code ? { code } : {}),
    cause: error,
  });
}

function errorCode(error: unknown): string | undefined {
  if (error instanceof AxiosError && error.code && error.code !== 'ERR_BAD_RESPONSE') {
    const inner = (error.cause as { code?: unknown } | undefined)?.code;
    return typeof inner === 'string' ? inner : error.code;
  }
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function findCause(error: unknown, match: (e: unknown) => boolean): Error | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth += 1) {
    if (match(e)) return e;
  }
  return undefined;
}

function flatHeaders(headers: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || value === null) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.map(String).join(', ') : String(value);
  }
  return out;
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

/**
 * A cancelled call ends its activity as cancelled, not as a failed hook or check: throws the activity's
 * cancellation (a CancelledFailure, as the SDK expects) when `error` is a cancelled call.
 */
export function throwIfCancelled(error: unknown): void {
  if (!(error instanceof OutboundCallError) || error.kind !== 'cancelled') return;
  const reason: unknown = activityCancellationSignal()?.reason;
  throw reason instanceof Error ? reason : new CancelledFailure(error.message, undefined, error);
}

/** The cancellation signal of the activity this runs in, if it runs in one. */
export function activityCancellationSignal(): AbortSignal | undefined {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return undefined; // not inside an activity (a test, the CLI)
  }
}

// ---------------------------------------------------------------------------------------------------
// The destination policy

interface CompiledPolicy {
  /** Why a URL host is refused before any DNS lookup, or undefined. */
  checkHost(hostname: string): string | undefined;
  /** A DNS hook for http.request: resolves, then refuses when any address is denied. */
  lookup: (
    hostname: string,
    options: object,
    callback: (error: Error | null, addresses: LookupAddressEntry[]) => void,
  ) => void;
}

interface EntryList {
  names: Set<string>;
  suffixes: string[];
  addresses: net.BlockList;
  hasAddresses: boolean;
  size: number;
}

function compileEntries(entries: readonly string[]): EntryList {
  const list: EntryList = {
    names: new Set(),
    suffixes: [],
    addresses: new net.BlockList(),
    hasAddresses: false,
    size: 0,
  };
  for (const raw of entries) {
    const entry = raw
      .trim()
      .toLowerCase()
      .replace(/^\[|\]$/g, '');
    if (entry === '') continue;
    list.size += 1;
    const [address, prefix] = entry.split('/');
    const family = net.isIP(address ?? '');
    if (family !== 0 && address !== undefined) {
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (prefix === undefined) list.addresses.addAddress(address, type);
      else list.addresses.addSubnet(address, Number(prefix), type);
      list.hasAddresses = true;
    } else if (entry.startsWith('*.') || entry.startsWith('.')) {
      list.suffixes.push(entry.slice(entry.indexOf('.')));
    } else {
      list.names.add(entry.replace(/\.$/, ''));
    }
  }
  return list;
}

function nameMatches(list: EntryList, hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  return list.names.has(host) || list.suffixes.some((suffix) => host.endsWith(suffix));
}

function addressMatches(list: EntryList, address: string): boolean {
  const family = net.isIP(address);
  if (!list.hasAddresses || family === 0) return false;
  return list.addresses.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** Validates a policy's entries (for the worker's configuration): the entries that are not usable. */
export function invalidPolicyEntries(entries: readonly string[]): string[] {
  return entries.filter((raw) => {
    const entry = raw.trim().replace(/^\[|\]$/g, '');
    const [address, prefix, extra] = entry.split('/');
    const family = net.isIP(address ?? '');
    if (family !== 0) {
      if (extra !== undefined) return true;
      if (prefix === undefined) return false;
      const bits = Number(prefix);
      return !Number.isInteger(bits) || bits < 0 || bits > (family === 4 ? 32 : 128);
    }
    return (
      entry.includes('/') ||
      !/^(\*\.|\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$/i.test(entry)
    );
  });
}

export function compilePolicy(policy: DestinationPolicy): CompiledPolicy {
  const deny = compileEntries(policy.deny ?? []);
  const allow = compileEntries(policy.allow ?? []);
  const defaults = compileEntries(defaultDeniedDestinations);

  /** Undefined when allowed, else the reason. */
  const judge = (host: string, address: string | undefined): string | undefined => {
    const subject = address && address !== host ? `${host} (${address})` : host;
    if (nameMatches(deny, host) || (address !== undefined && addressMatches(deny, address)))
      return `${subject} is on the outbound deny list`;
    if (nameMatches(allow, host) || (address !== undefined && addressMatches(allow, address)))
      return undefined;
    if (nameMatches(defaults, host) || (address !== undefined && addressMatches(defaults, address)))
      return `${subject} is a link-local or cloud-metadata address, denied by default: add it to the outbound allow list to call it`;
    if (allow.size > 0) {
      // With an allow list, a name that is not listed must resolve to a listed address.
      if (address === undefined) return 'pending';
      return `${subject} is not on the outbound allow list`;
    }
    return undefined;
  };

  return {
    checkHost(hostname) {
      const host = hostname.replace(/^\[|\]$/g, '');
      const literal = net.isIP(host) !== 0;
      const verdict = judge(host, literal ? host : undefined);
      // 'pending': decided on the resolved addresses at connect time.
      return verdict === 'pending' ? undefined : verdict;
    },
    lookup(hostname, options, callback) {
      dns.lookup(hostname, { ...(options as dns.LookupOptions), all: true }, (error, addresses) => {
        if (error) return callback(error, []);
        for (const { address } of addresses) {
          const verdict = judge(hostname, address);
          if (verdict !== undefined) {
            return callback(new DestinationDenied(verdict), []);
          }
        }
        callback(
          null,
          addresses.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 })),
        );
      });
    },
  };
}
