// Small apps on the session layer's API for tests: `recorder` attaches an app that records
// the events it hears, the bytes it receives and its sessions; `write` sends text on a
// session; `until` waits (polling) for a condition while the engine runs, and says which.

import type { HostStack, Session, SessionErrorCode } from '../../src/session/host-stack.ts';

/** Polls `check` while the engine runs; the error names `what` it waited for. */
export async function until(check: () => boolean, what: string | (() => string) = 'a condition', timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** A tiny app on the API: records what it hears. */
export function recorder(host: HostStack, name: string, namespace: string, secret: number) {
  const events: string[] = [];
  const received: number[] = [];
  const scratch = new Uint8Array(65536);
  const sessions: Session[] = [];
  const app = host.attach({
    name, namespace, secret,
    callbacks: {
      accepted: (s) => {
        events.push('accepted');
        sessions.push(s);
      },
      connected: (s, error) => {
        events.push(error === null ? 'connected' : `connect failed ${error}`);
        if (error === null) sessions.push(s);
      },
      rx: (s) => {
        const n = s.rxFifo!.dequeue(scratch, 0, scratch.length);
        for (let i = 0; i < n; i++) received.push(scratch[i]);
        host.rxConsumed(s);
      },
      disconnected: () => events.push('disconnected'),
      reset: (_s, code: SessionErrorCode) => events.push(`reset ${code}`),
      cleanup: () => events.push('cleanup'),
    },
  });
  return { app, events, received, sessions };
}

export function write(host: HostStack, s: Session, text: string): void {
  s.txFifo!.enqueue(new TextEncoder().encode(text), 0, text.length);
  host.send(s);
}
