// Credentials out of every text that leaves an outbound call: URLs and error bodies end up in Canary
// events, status conditions, Temporal history and logs, where anyone who may read those would read the
// password too. Pure (no I/O, no Node imports): importable from workflow code.

/** What stands in for a removed credential. */
export const redacted = '***';

/** How much of an answer's body an error message quotes by default. */
export const maxQuotedChars = 256;

/**
 * Query parameter (and `key=value`/JSON) names whose values are credentials: Slack/Teams/Google Chat
 * hook keys, OAuth tokens, AWS/GCS signatures, API keys.
 */
const sensitiveName =
  /^(?:.*[-_.])?(?:token|access[-_]?token|id[-_]?token|refresh[-_]?token|password|passwd|pwd|pass|secret|client[-_]?secret|api[-_]?key|apikey|key|auth|authorization|signature|sig|x-amz-signature|x-amz-credential|x-amz-security-token|x-goog-signature|x-goog-credential|credential|credentials|session)$/i;

export function isSensitiveName(name: string): boolean {
  return sensitiveName.test(name.trim());
}

/**
 * A URL fit for a message: `user:password@` becomes `***@` and the values of credential-looking query
 * parameters become `***`. Text that is not a URL is run through `redactText` instead.
 */
export function redactUrl(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : new URL(url.href);
  } catch {
    return redactText(String(url));
  }
  const hadCredentials = parsed.username !== '' || parsed.password !== '';
  parsed.username = '';
  parsed.password = '';
  const entries = [...parsed.searchParams.entries()];
  if (entries.some(([name]) => isSensitiveName(name))) {
    parsed.search = new URLSearchParams(
      entries.map(([name, value]): [string, string] => [name, isSensitiveName(name) ? redacted : value]),
    ).toString();
  }
  // URLSearchParams would encode the stars; messages read better without %2A.
  let text = parsed.href.replace(/%2A%2A%2A/g, redacted);
  if (hadCredentials) text = text.replace(`${parsed.protocol}//`, `${parsed.protocol}//${redacted}@`);
  return text;
}

/**
 * Only the scheme, host and port of a URL: for addresses whose path is itself the credential
 * (Slack, Discord, MS Teams and Google Chat hooks carry their secret in the path).
 */
export function urlOrigin(url: string | URL): string {
  try {
    const parsed = typeof url === 'string' ? new URL(url) : url;
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return '(an invalid URL)';
  }
}

const replacements: [RegExp, string | ((...groups: string[]) => string)][] = [
  // scheme://user:password@host, scheme://token@host
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"'<>]+@/gi, `$1${redacted}@`],
  // Authorization: Bearer abc / Proxy-Authorization: Basic abc / "authorization":"Bearer abc"
  [
    /\b((?:proxy-)?authorization["']?\s*[:=]\s*["']?)(?:(bearer|basic|token|negotiate|digest)\s+)?[^\s"',;}]+/gi,
    (_match, prefix, scheme) => `${prefix}${scheme ? `${scheme} ` : ''}${redacted}`,
  ],
  // A bare "Bearer abc" or "Basic abc" anywhere else.
  // (A digit is required so that prose such as "Basic authentication failed" stays.)
  [/\b(bearer|basic)\s+(?=[a-z0-9\-._~+/]*\d)[a-z0-9\-._~+/]{8,}=*/gi, `$1 ${redacted}`],
  // "password": "abc" in JSON.
  [
    /("([^"\\]{1,64})"\s*:\s*)"(?:[^"\\]|\\.)*"/g,
    (match, prefix, name) =>
      isSensitiveName(name) && !/authorization$/i.test(name) ? `${prefix}"${redacted}"` : match,
  ],
  // token=abc, ?password=abc&, api_key: abc (query strings, form bodies, logfmt, YAML-ish text).
  [
    /([?&;\s,({]|^)([a-z0-9_.-]{1,64})(=|:\s*)([^\s&;,"'<>)}]+)/gi,
    (match, lead, name, sep, value) =>
      isSensitiveName(name) && !/authorization$/i.test(name) && value !== redacted
        ? `${lead}${name}${sep}${redacted}`
        : match,
  ],
];

/**
 * Free text (an error message, a response body) with credentials replaced by `***`: user:password in
 * URLs, Authorization header values, bearer and basic credentials, and credential-looking
 * `name=value` pairs and JSON fields.
 */
export function redactText(text: string): string {
  let out = text;
  for (const [pattern, replacement] of replacements) {
    out =
      typeof replacement === 'string'
        ? out.replace(pattern, replacement)
        : out.replace(pattern, replacement as (substring: string, ...args: string[]) => string);
  }
  return out;
}

/**
 * Removes known secret values (a Secret's token, password or address read for this call) wherever they
 * appear, also URL-encoded and base64-encoded: a server that echoes them back must not leak them. Values
 * shorter than 4 characters are left alone (they would blank out ordinary words).
 */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (secret === undefined || secret.length < 4) continue;
    forms.add(secret);
    forms.add(encodeURIComponent(secret));
    forms.add(base64(secret));
  }
  // Longest first, so a secret that contains another is removed whole.
  for (const form of [...forms].sort((a, b) => b.length - a.length)) out = out.split(form).join(redacted);
  return out;
}

/** At most `max` characters of a text, whitespace collapsed, with `…` when cut. */
export function trimText(text: string, max: number = maxQuotedChars): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  return `${[...flat].slice(0, max).join('')}…`;
}

/** An outside text as a message may quote it: redacted, then trimmed (so no secret is cut in half). */
export function quoteForMessage(
  text: string,
  options: { max?: number; secrets?: readonly (string | undefined)[] } = {},
): string {
  const clean = redactText(redactSecrets(text, options.secrets ?? []));
  return trimText(clean, options.max ?? maxQuotedChars);
}

function base64(text: string): string {
  // btoa works on Latin-1 only: encode UTF-8 bytes first. (No Buffer: workflow code may import this.)
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}
