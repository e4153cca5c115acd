// Alerts to the chat systems of Flagger's AlertProviders (slack, msteams, discord, rocket, gchat),
// in each one's webhook format, filtered by each alert's severity.
//
// A chat hook's address is its credential (Slack, Discord, Teams and Google Chat carry the secret in
// the path or the query), so messages name only its scheme and host.
//
// With the worker's Temporal UI address (--temporal-ui-url), every alert links to the rollout's run in
// Temporal UI, in each chat system's own way of showing a link.
import * as k8s from '@kubernetes/client-node';
import { CancelledFailure, Context } from '@temporalio/activity';
import { temporalUiLink } from '../client/format.ts';
import { quoteForMessage, urlOrigin } from '../canary/redact.ts';
import { alertProviderSchema } from '../canary/spec.ts';
import { OutboundCallError, boundedRequest, hookMaxResponseBytes, throwIfCancelled } from './bounded-http.ts';
import type { DestinationPolicy } from './bounded-http.ts';
import { isNotFound, secretText } from './kubernetes-client.ts';
import type { ResolvedAlert } from '../canary/validate.ts';

export type AlertSeverity = 'info' | 'warn' | 'error';

export interface SendAlertsInput {
  canary: { name: string; namespace: string; target: string };
  alerts: ResolvedAlert[];
  severity: AlertSeverity;
  message: string;
  phase: string;
  revision: string;
  /**
   * The rollout the alert is about, for its Temporal UI link. Absent: the workflow that called the
   * activity (sendAlerts, or the rollout step that sends alerts) is taken from the activity's context.
   */
  rollout?: RolloutRun;
}

/** One run of a rollout workflow, as Temporal UI addresses it. */
export interface RolloutRun {
  namespace: string;
  workflowId: string;
  runId?: string;
}

export interface SendAlertsResult {
  sent: string[];
  /** Alerts that could not be delivered, with the reason: kept in the history, never fatal. */
  failed: { alert: string; error: string }[];
}

const rank: Record<AlertSeverity, number> = { info: 0, warn: 1, error: 2 };
const colors: Record<AlertSeverity, string> = { info: '#0076D7', warn: '#FFA500', error: '#FF0000' };

/** An alert subscribed at `subscribed` receives messages of that severity and worse. */
export function alertWanted(subscribed: AlertSeverity, message: AlertSeverity): boolean {
  return rank[message] >= rank[subscribed];
}

/** The words of the link to the rollout, on every provider. */
export const temporalUiLinkText = 'Open the rollout in Temporal UI';

/** The run of the workflow the current activity acts for; undefined outside an activity. */
export function currentRolloutRun(): RolloutRun | undefined {
  let info;
  try {
    info = Context.current().info;
  } catch {
    return undefined; // called outside an activity (a test, a tool)
  }
  const execution = info.workflowExecution;
  if (execution === undefined) return undefined; // a standalone activity: no rollout to link
  return { namespace: info.namespace, workflowId: execution.workflowId, runId: execution.runId };
}

/** The Temporal UI page of the rollout's run, when the worker knows where Temporal UI is. */
export function rolloutUiLink(uiUrl: string | undefined, run: RolloutRun | undefined): string | undefined {
  if (uiUrl === undefined || uiUrl === '' || run === undefined) return undefined;
  return temporalUiLink(uiUrl.replace(/\/+$/, ''), run.namespace, run.workflowId, run.runId);
}

/**
 * The HTTP body each provider type expects. `link` (the rollout in Temporal UI) is shown the way each
 * one shows a link: a Slack attachment's title_link (Rocket.Chat and Discord's Slack endpoint read it
 * too), a Teams card's OpenUri action, a Google Chat card's button.
 */
export function alertPayload(
  type: string,
  input: SendAlertsInput,
  provider: { channel?: string; username?: string },
  link?: string,
): unknown {
  const title = `${input.canary.name}.${input.canary.namespace}`;
  const fields = [
    { title: 'Phase', value: input.phase },
    { title: 'Revision', value: input.revision },
    { title: 'Target', value: `Deployment/${input.canary.target}.${input.canary.namespace}` },
  ];
  switch (type) {
    case 'msteams':
      return {
        '@type': 'MessageCard',
        '@context': 'https://schema.org/extensions',
        themeColor: colors[input.severity].slice(1),
        summary: title,
        sections: [
          {
            activityTitle: input.message,
            activitySubtitle: title,
            facts: fields.map((f) => ({ name: f.title, value: f.value })),
          },
        ],
        ...(link === undefined
          ? {}
          : {
              potentialAction: [
                { '@type': 'OpenUri', name: temporalUiLinkText, targets: [{ os: 'default', uri: link }] },
              ],
            }),
      };
    case 'gchat':
      return {
        cards: [
          {
            header: { title, subtitle: 'Cutover' },
            sections: [
              {
                widgets: [
                  { textParagraph: { text: input.message } },
                  ...fields.map((f) => ({ keyValue: { topLabel: f.title, content: f.value } })),
                  ...(link === undefined
                    ? []
                    : [
                        {
                          buttons: [
                            {
                              textButton: { text: temporalUiLinkText, onClick: { openLink: { url: link } } },
                            },
                          ],
                        },
                      ]),
                ],
              },
            ],
          },
        ],
      };
    default:
      // slack, and the slack-compatible rocket and discord hooks.
      return {
        channel: provider.channel,
        username: provider.username ?? 'cutover',
        attachments: [
          {
            color: colors[input.severity],
            author_name: title,
            ...(link === undefined ? {} : { title: temporalUiLinkText, title_link: link }),
            text: input.message,
            mrkdwn_in: ['text'],
            fields: fields.map((f) => ({ ...f, short: true })),
          },
        ],
      };
  }
}

/** The whole exchange with a chat system, as Flagger's 10 s (its client's timeout). */
const alertTimeoutMs = 10_000;

export interface NotificationDeps {
  kubeconfig: k8s.KubeConfig;
  /** Where alerts may go (the worker's outbound allow/deny list). Default: not link-local or metadata. */
  outboundPolicy?: DestinationPolicy;
  /** Default 10 s. */
  alertTimeoutMs?: number;
  /** Temporal UI's base URL (`--temporal-ui-url`); absent, alerts carry no link to the rollout. */
  temporalUiUrl?: string;
}

/** POSTs one alert within the bounds of every outbound call; throws with a message fit for history. */
export async function postAlert(
  address: string,
  body: unknown,
  options: { policy?: DestinationPolicy; timeoutMs?: number } = {},
): Promise<void> {
  const shown = urlOrigin(address);
  // What a gateway might echo back of the address: the whole of it, its path, its query.
  const secrets = secretParts(address);
  let response;
  try {
    response = await boundedRequest({
      method: 'POST',
      url: address,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      timeoutMs: options.timeoutMs ?? alertTimeoutMs,
      maxResponseBytes: hookMaxResponseBytes,
      overflow: 'truncate',
      ...(options.policy ? { policy: options.policy } : {}),
    });
  } catch (error) {
    throwIfCancelled(error);
    if (error instanceof OutboundCallError) {
      const reason = error.kind === 'redirect' ? error.reason.replace(/ to \S+;/, ';') : error.reason;
      throw new Error(`POST ${shown}/… failed: ${quoteForMessage(reason, { secrets })}`);
    }
    throw error;
  }
  if (response.status < 200 || response.status >= 300) {
    throw new Error(
      `POST ${shown}/… failed: HTTP ${response.status}: ${quoteForMessage(response.body, { secrets }) || '(empty body)'}`,
    );
  }
}

function secretParts(address: string): string[] {
  try {
    const url = new URL(address);
    return [address, url.href, `${url.pathname}${url.search}`, url.pathname, url.search.slice(1)].filter(
      (part) => part.length > 1,
    );
  } catch {
    return [address];
  }
}

export function createNotificationActivities(deps: NotificationDeps) {
  const custom = deps.kubeconfig.makeApiClient(k8s.CustomObjectsApi);
  const core = deps.kubeconfig.makeApiClient(k8s.CoreV1Api);

  async function deliver(alert: ResolvedAlert, input: SendAlertsInput, link?: string): Promise<void> {
    const { name, namespace } = alert.providerRef;
    const raw = await custom
      .getNamespacedCustomObject({
        group: 'flagger.app',
        version: 'v1beta1',
        namespace,
        plural: 'alertproviders',
        name,
      })
      .catch((error: unknown) => {
        if (!isNotFound(error)) throw error;
        throw new Error(
          `AlertProvider ${namespace}/${name} not found: create it, or fix providerRef of alert ${alert.name}`,
        );
      });
    const parsed = alertProviderSchema.safeParse(raw);
    if (!parsed.success) {
      throw new Error(
        `AlertProvider ${namespace}/${name} is invalid: ${parsed.error.issues[0]?.message ?? 'unknown problem'}`,
      );
    }
    const provider = parsed.data.spec;
    let address = provider.address;
    const secretName = provider.secretRef?.name;
    if (secretName) {
      const secret = await core
        .readNamespacedSecret({ name: secretName, namespace })
        .catch((error: unknown) => {
          if (!isNotFound(error)) throw error;
          throw new Error(
            `Secret ${namespace}/${secretName} of AlertProvider ${namespace}/${name} not found: create it, or fix spec.secretRef`,
          );
        });
      address = secretText(secret).address ?? address;
    }
    if (!address)
      throw new Error(
        `AlertProvider ${namespace}/${name} has no address: set spec.address or a Secret key "address"`,
      );
    const url = provider.type === 'discord' && !address.endsWith('/slack') ? `${address}/slack` : address;
    await postAlert(url, alertPayload(provider.type, input, provider, link), {
      ...(deps.outboundPolicy ? { policy: deps.outboundPolicy } : {}),
      ...(deps.alertTimeoutMs !== undefined ? { timeoutMs: deps.alertTimeoutMs } : {}),
    });
  }

  async function sendAlerts(input: SendAlertsInput): Promise<SendAlertsResult> {
    const result: SendAlertsResult = { sent: [], failed: [] };
    const link = rolloutUiLink(deps.temporalUiUrl, input.rollout ?? currentRolloutRun());
    for (const alert of input.alerts) {
      if (!alertWanted(alert.severity, input.severity)) continue;
      try {
        await deliver(alert, input, link);
        result.sent.push(alert.name);
      } catch (error) {
        if (error instanceof CancelledFailure) throw error;
        // Kept in the history: one line, trimmed (an API error carries its whole response).
        result.failed.push({
          alert: alert.name,
          error: quoteForMessage(error instanceof Error ? error.message : String(error), { max: 512 }),
        });
      }
    }
    return result;
  }

  return { sendAlerts };
}
