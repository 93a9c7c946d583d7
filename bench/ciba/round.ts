/**
 * One round of the CIBA benchmark: one backchannel request per patient, all at once, then every
 * one of them approved on the patient's phone.
 *
 *   (a) request → live notification: each request is timed from the moment it is sent to the
 *       `request` event reaching that patient's open stream (/device/events).
 *   (b) approval → token. The patients are dealt round-robin into three groups:
 *       poll      the client polls at the server's `interval` from the end of (a) on, each request
 *                 starting at a random point of the interval (independent clients); timed from
 *                 the approval's response to the first successful token response.
 *       poll-now  not polled while pending; one poll issued the moment the approval's response
 *                 arrives (a poll of an approved request is never slowed down), then one
 *                 client_credentials grant by the benchmark client: the same token endpoint work
 *                 without CIBA, at the same moment and load (a paired baseline).
 *       ping      the ping-mode client: timed from the approval to the ping reaching its HTTPS
 *                 endpoint, and to the token of the poll it then makes. (Only when ping is on.)
 *       Approvals run from `approvers` phones at once, in random order, each as a person does it:
 *       the request page, the passkey options, the assertion, the form posted with it.
 * Both phases are measured windows of the server process (CPU, statements).
 */
import type { CibaServer } from './server-control.ts';
import { describeError, dpopNonceRetries, type CibaClient, type PollResult, type Timed } from './client.ts';
import type { ApprovalTiming, Phone } from './device.ts';
import type { SseStream } from './sse.ts';
import type { PingReceiver } from './ping-receiver.ts';
import type { ServerWindow } from './server-process.ts';

export type Group = 'poll' | 'poll-now' | 'ping';

export interface Sample {
  patient: number;
  group: Group;
  /** (a) performance.now() ms: request sent, response received, event on the phone's stream. */
  sentAt: number;
  respondedAt: number;
  eventAt: number;
  approval?: ApprovalTiming;
  /** The first successful token response, and how long that poll itself took. */
  tokenAt?: number;
  tokenPollMs?: number;
  /** Polls answered authorization_pending / slow_down before the token, and polls that got no answer (retried at the next interval). */
  pending: number;
  slowDowns: number;
  failedPolls: number;
  pingAt?: number;
  /** poll-now only: the paired client_credentials grant right after the poll. */
  clientCredentialsMs?: number;
}

export interface RoundResult {
  round: number;
  samples: Sample[];
  errors: string[];
  /** What the clients retried, as real ones would: polls without an answer, DPoP nonces. */
  retried: { failedPolls: string[]; dpopNonce: number };
  request: { server: ServerWindow; generatorCpuSeconds: number };
  approve: { server: ServerWindow; generatorCpuSeconds: number };
}

export interface RoundDeps {
  server: CibaServer;
  phones: Array<{ phone: Phone; stream: SseStream }>;
  poll: CibaClient;
  ping: { client: CibaClient; receiver: PingReceiver } | undefined;
  clientCredentials: () => Promise<Timed<void>>;
  approvers: number;
  intervalSeconds: number;
}

const EVENT_TIMEOUT_MS = 30_000;
const TOKEN_TIMEOUT_MS = 60_000;

export async function runRound(deps: RoundDeps, round: number): Promise<RoundResult> {
  const groups: Group[] = deps.ping ? ['poll', 'poll-now', 'ping'] : ['poll', 'poll-now'];
  const errors: string[] = [];
  const fail = (what: string) => (err: unknown) => { errors.push(`${what}: ${describeError(err)}`.slice(0, 300)); };
  const failedPolls: string[] = [];
  const nonceRetriesBefore = dpopNonceRetries.count;

  // Everything the clients sign is made before the clock starts.
  const prepared = await Promise.all(deps.phones.map(async (_, i) => {
    const group = groups[i % groups.length]!;
    const client = group === 'ping' ? deps.ping!.client : deps.poll;
    const params: Record<string, string> = { login_hint: deps.phones[i]!.phone.patient.username, binding_message: `R${round}-${i + 1}` };
    if (group === 'ping') params.client_notification_token = `bench-${round}-${i}-${crypto.randomUUID()}`;
    return { group, client, request: await client.requestObject(params), binding: params.binding_message! };
  }));

  // (a) every request at once; each patient's stream waits for its event.
  type Started = { sample: Sample; client: CibaClient; authReqId: string; requestId: string };
  const request = await deps.server.window(async () => Promise.all(prepared.map(async (p, i): Promise<Started | undefined> => {
    const event = deps.phones[i]!.stream.next('request', EVENT_TIMEOUT_MS);
    try {
      const started = await p.client.start(p.request);
      const e = await event;
      const message = JSON.parse(e.data) as { requestId: string; bindingMessage: string | null };
      if (message.bindingMessage !== p.binding) throw new Error(`event for another request (${message.bindingMessage} instead of ${p.binding})`);
      return {
        sample: { patient: i, group: p.group, sentAt: started.sentAt, respondedAt: started.at, eventAt: e.at, pending: 0, slowDowns: 0, failedPolls: 0 },
        client: p.client, authReqId: started.value.authReqId, requestId: message.requestId,
      };
    } catch (err) {
      event.catch(() => {});
      fail(`request ${i + 1}`)(err);
      return undefined;
    }
  })));
  const started = request.result.filter((s): s is Started => s !== undefined);

  // (b) the polling clients start, then the patients approve.
  const interval = deps.intervalSeconds * 1000;
  const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));
  const record = (s: Sample, r: Timed<PollResult>) => {
    if (r.value.ok) { s.tokenAt = r.at; s.tokenPollMs = r.at - r.sentAt; return true; }
    if (r.value.error === 'authorization_pending') s.pending++;
    else if (r.value.error === 'slow_down') s.slowDowns++;
    else throw new Error(`poll: ${r.value.error}`);
    return false;
  };
  const approve = await deps.server.window(async () => {
    const clients: Array<Promise<void>> = [];
    for (const s of started.filter((x) => x.sample.group === 'poll')) {
      clients.push((async () => {
        // A client polls at `interval`; after slow_down it adds 5 s, as CIBA §7.3 (RFC 8628 §3.5) says.
        let wait = interval;
        let at = performance.now() + Math.random() * interval;
        const until = performance.now() + TOKEN_TIMEOUT_MS;
        while (performance.now() < until) {
          await sleep(at - performance.now());
          let r: Timed<PollResult>;
          try {
            r = await s.client.poll(s.authReqId);
          } catch (err) {
            // No answer (a connection lost): a polling client tries again at the next interval.
            if (!(err instanceof TypeError)) throw err;
            s.sample.failedPolls++;
            failedPolls.push(describeError(err).slice(0, 200));
            at = performance.now() + wait;
            continue;
          }
          if (record(s.sample, r)) return;
          if (r.value.ok === false && r.value.error === 'slow_down') wait += 5000;
          at = r.at + wait;
        }
        throw new Error('no token within 60 s of polling');
      })().catch(fail(`poll ${s.sample.patient + 1}`)));
    }
    // The patients approve in random order (Fisher–Yates), each phone taking the next.
    const queue = [...started];
    for (let i = queue.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [queue[i], queue[j]] = [queue[j]!, queue[i]!];
    }
    await Promise.all(Array.from({ length: deps.approvers }, async () => {
      for (let s = queue.pop(); s; s = queue.pop()) {
        const { sample } = s;
        try {
          sample.approval = await deps.phones[sample.patient]!.phone.approve(s.requestId);
        } catch (err) {
          fail(`approval ${sample.patient + 1}`)(err);
          continue;
        }
        const current = s;
        if (sample.group === 'poll-now') {
          clients.push((async () => {
            if (!record(sample, await current.client.poll(current.authReqId))) throw new Error('poll right after the approval was not answered with tokens');
            sample.clientCredentialsMs = await deps.clientCredentials().then((r) => r.at - r.sentAt);
          })().catch(fail(`poll-now ${sample.patient + 1}`)));
        } else if (sample.group === 'ping') {
          clients.push((async () => {
            sample.pingAt = await deps.ping!.receiver.pinged(current.authReqId, TOKEN_TIMEOUT_MS);
            if (!record(sample, await current.client.poll(current.authReqId))) throw new Error('poll after the ping was not answered with tokens');
          })().catch(fail(`ping ${sample.patient + 1}`)));
        }
      }
    }));
    await Promise.all(clients);
  });

  return {
    round,
    samples: started.map((s) => s.sample),
    errors,
    retried: { failedPolls, dpopNonce: dpopNonceRetries.count - nonceRetriesBefore },
    request: { server: request.server, generatorCpuSeconds: request.generatorCpuSeconds },
    approve: { server: approve.server, generatorCpuSeconds: approve.generatorCpuSeconds },
  };
}
