/**
 * The same steps one at a time, nothing else pending (after the rounds): one patient's request,
 * its notification, the three requests of the approval, the poll right after it and a
 * client_credentials grant, each in a measured window of its own. What each step costs when it
 * does not queue behind 99 others: its latency, the server's CPU for it and its SQL statements,
 * which the rounds cannot tell apart.
 */
import type { CibaServer } from './server-control.ts';
import { describeError, dpopNonceRetries, type CibaClient, type Timed } from './client.ts';
import type { Phone } from './device.ts';
import type { SseStream } from './sse.ts';
import type { ServerWindow } from './server-process.ts';

export const SOLO_STEPS = ['request', 'notified', 'page', 'options', 'approve', 'poll', 'client_credentials'] as const;
export type SoloStep = (typeof SOLO_STEPS)[number];

/** Per step: latency of each repetition (ms), and the server's windows summed over repetitions. */
export interface SoloResult {
  repetitions: number;
  ms: Record<SoloStep, number[]>;
  /** `request` covers the backchannel request and its notification (`notified`: sent → event). */
  windows: Partial<Record<SoloStep, ServerWindow[]>>;
  errors: string[];
  dpopNonceRetries: number;
}

export async function runSolo(deps: { server: CibaServer; phone: Phone; stream: SseStream; poll: CibaClient; clientCredentials: () => Promise<Timed<void>> }, repetitions: number): Promise<SoloResult> {
  const result: SoloResult = { repetitions, ms: Object.fromEntries(SOLO_STEPS.map((s) => [s, []])) as unknown as SoloResult['ms'], windows: {}, errors: [], dpopNonceRetries: 0 };
  const retriesBefore = dpopNonceRetries.count;
  const keep = (step: SoloStep, server: ServerWindow) => (result.windows[step] ??= []).push(server);
  for (let i = 0; i < repetitions; i++) {
    try {
      const request = await deps.poll.requestObject({ login_hint: deps.phone.patient.username, binding_message: `SOLO-${i + 1}` });
      const a = await deps.server.window(async () => {
        const event = deps.stream.next('request', 10_000);
        const started = await deps.poll.start(request);
        const e = await event;
        return { started, e };
      });
      keep('request', a.server);
      result.ms.request.push(a.result.started.at - a.result.started.sentAt);
      result.ms.notified.push(a.result.e.at - a.result.started.sentAt);
      const requestId = (JSON.parse(a.result.e.data) as { requestId: string }).requestId;
      await deps.phone.approve(requestId, async (step, send) => {
        const w = await deps.server.window(send);
        keep(step, w.server);
        result.ms[step].push(w.to - w.from);
        return w.result;
      });
      const p = await deps.server.window(() => deps.poll.poll(a.result.started.value.authReqId));
      if (!p.result.value.ok) throw new Error(`poll right after the approval: ${p.result.value.error}`);
      keep('poll', p.server);
      result.ms.poll.push(p.result.at - p.result.sentAt);
      const c = await deps.server.window(() => deps.clientCredentials());
      keep('client_credentials', c.server);
      result.ms.client_credentials.push(c.result.at - c.result.sentAt);
    } catch (err) {
      result.errors.push(`solo ${i + 1}: ${describeError(err)}`.slice(0, 300));
    }
  }
  result.dpopNonceRetries = dpopNonceRetries.count - retriesBefore;
  return result;
}
