// Session lookup as tcp4-input will do it per segment: vectors of 256 5-tuples against
// 1 000 and 100 000 established sessions (all hits), and a vector of SYNs that miss the
// session table and find a wildcard listener. ns per lookup.

import { SessionLookup } from '../../src/session/session-table.ts';
import { runIfMain, vectorBench } from '../harness.ts';

const TCP = 6;
const VECTOR = 256;

function build(sessions: number): { lookup: SessionLookup; remote: Uint32Array; ports: Uint16Array } {
  const lookup = new SessionLookup(sessions);
  const remote = new Uint32Array(sessions);
  const ports = new Uint16Array(sessions);
  for (let i = 0; i < sessions; i++) {
    remote[i] = (0x0a010000 + (i >>> 12)) >>> 0;
    ports[i] = 10000 + (i & 0xfff);
    lookup.addSession(0, TCP, 0x0a000001, 80, remote[i], ports[i], i);
  }
  lookup.addListener(0, TCP, 0, 443, 0);
  return { lookup, remote, ports };
}

for (const sessions of [1000, 100_000]) {
  vectorBench(() => {
    const { lookup, remote, ports } = build(sessions);
    const picks = new Uint32Array(VECTOR);
    for (let i = 0; i < VECTOR; i++) picks[i] = (i * 7919) % sessions;
    let sink = 0;
    return {
      name: `session lookup, ${sessions} sessions, hits`,
      vector: VECTOR,
      packets: VECTOR,
      run: () => {
        for (let i = 0; i < VECTOR; i++) {
          const k = picks[i];
          sink += lookup.lookupSession(0, TCP, 0x0a000001, 80, remote[k], ports[k]);
        }
        return sink;
      },
    };
  });
}

vectorBench(() => {
  const { lookup } = build(100_000);
  let sink = 0;
  return {
    name: 'session lookup miss, then wildcard listener',
    vector: VECTOR,
    packets: VECTOR,
    run: () => {
      for (let i = 0; i < VECTOR; i++) {
        const remote = 0x0b000000 + i;
        if (lookup.lookupSession(0, TCP, 0x0a000001, 443, remote, 5000 + i) < 0) sink += lookup.lookupListener(0, TCP, 0x0a000001, 443);
      }
      return sink;
    },
  };
});

await runIfMain(import.meta.url);
