// `cutover codec-server`: the codec endpoint for Temporal UI and `temporal --codec-endpoint`, from the
// key ring the CLI is given, for someone who holds the key and wants to read histories without running
// a worker. Loopback by default; it runs until Ctrl-C.
import {
  defaultCodecAddress,
  defaultCodecPort,
  loadCodecToken,
  parseOrigins,
  startCodecServer,
} from '../../worker/codec-server.ts';
import {
  EncryptionCodec,
  PayloadCodecError,
  loadKeyRing,
  payloadKeyHint,
} from '../../worker/payload-codec.ts';
import { CliError, ExitCode } from './context.ts';
import type { Command } from './context.ts';

const options = {
  port: { type: 'string' },
  'listen-address': { type: 'string' },
  'cors-origins': { type: 'string' },
  'token-file': { type: 'string' },
} as const;

export const codecServerCommand: Command<typeof options> = {
  name: 'codec-server',
  usage: 'cutover codec-server [--port N] [--listen-address IP] [--cors-origins URLS] [--token-file FILE]',
  summary: 'serve /encode and /decode with the payload key, for Temporal UI and temporal --codec-endpoint',
  details: [
    `--port N            default ${defaultCodecPort} (0: any free port)`,
    `--listen-address IP default ${defaultCodecAddress}; another address needs a token`,
    '--cors-origins URLS comma-separated browser origins allowed to call it, e.g. Temporal UI http://127.0.0.1:8233',
    '--token-file FILE   require Authorization: Bearer <its content> (or $CUTOVER_CODEC_TOKEN)',
    'The key ring comes from --payload-key-file, $CUTOVER_PAYLOAD_KEYS_FILE or $CUTOVER_PAYLOAD_KEYS.',
  ].join('\n'),
  options,
  async run(ctx, { values }) {
    const port = values.port === undefined ? defaultCodecPort : Number(values.port);
    if (!/^\d{1,5}$/.test(values.port ?? '0') || port > 65535) {
      throw new CliError(ExitCode.usage, `--port must be a port number (0-65535), not "${values.port}"`);
    }
    const { origins, invalid } = parseOrigins(values['cors-origins'] ?? '');
    if (invalid !== undefined) {
      throw new CliError(
        ExitCode.usage,
        `--cors-origins must list origins like http://127.0.0.1:8233 (scheme, host and port, no path), not "${invalid}"`,
      );
    }
    const ring = loadKeyRing({
      env: process.env,
      ...(ctx.options.payloadKeyFile ? { file: ctx.options.payloadKeyFile } : {}),
    });
    if (!ring) throw new PayloadCodecError(`the codec server needs the payload key: ${payloadKeyHint}`);
    const token = loadCodecToken(values['token-file'], process.env);
    const address = values['listen-address'] ?? defaultCodecAddress;
    const server = await startCodecServer(new EncryptionCodec(ring), {
      port,
      address,
      allowedOrigins: origins,
      ...(token === undefined ? {} : { token }),
    }).catch((error: unknown) => {
      if (error instanceof PayloadCodecError) throw error;
      throw new CliError(
        ExitCode.usage,
        `cannot listen on ${address}:${port} (${(error as NodeJS.ErrnoException).code ?? String(error)}): choose another --port or --listen-address`,
      );
    });
    ctx.stdout.write(
      `codec server at ${server.url} (keys ${[...ring.keys.keys()].join(', ')}; sealing with ${ring.current}${token ? '; bearer token required' : ''})\n` +
        `  Temporal UI: Settings → Codec Server → ${server.url}; CLI: temporal workflow show --codec-endpoint ${server.url}\n`,
    );
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    await server.close();
    return 0;
  },
};
