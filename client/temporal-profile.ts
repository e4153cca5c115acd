// How the command line reaches Temporal beyond --address: Temporal's own conventions, read by
// @temporalio/envconfig (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS*,
// TEMPORAL_GRPC_META_*, and a profile of TEMPORAL_CONFIG_FILE / ~/.config/temporalio/temporal.toml
// chosen by TEMPORAL_PROFILE), so the CLI talks to whatever the `temporal` CLI talks to.
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { ConnectionOptions } from '@temporalio/client';
import { CliError, ExitCode } from './commands/context.ts';

export interface TemporalProfile {
  address?: string;
  namespace?: string;
  /** TLS, API key and gRPC metadata, for Connection.connect. */
  connection: Pick<ConnectionOptions, 'tls' | 'apiKey' | 'metadata'>;
}

export function temporalProfile(env: Readonly<Record<string, string | undefined>>): TemporalProfile {
  const defined: Record<string, string> = {};
  for (const [key, value] of Object.entries(env))
    if (value !== undefined && value !== '') defined[key] = value;
  let loaded;
  try {
    loaded = loadClientConnectConfig({ overrideEnvVars: defined });
  } catch (error) {
    const where = env.TEMPORAL_CONFIG_FILE ?? 'the Temporal config file';
    throw new CliError(
      ExitCode.usage,
      `cannot read Temporal's settings (${where}${env.TEMPORAL_PROFILE ? `, profile ${env.TEMPORAL_PROFILE}` : ''}): ${(error as Error).message.split('\n')[0]}`,
    );
  }
  const { address, apiKey, tls, metadata } = loaded.connectionOptions;
  return {
    ...(address ? { address } : {}),
    ...(loaded.namespace ? { namespace: loaded.namespace } : {}),
    connection: {
      ...(tls === undefined ? {} : { tls }),
      ...(typeof apiKey === 'string' ? { apiKey } : {}),
      ...(metadata ? { metadata } : {}),
    },
  };
}
