// acl-plugin-in-ip4: stateless input ACLs, a feature on the `ip4-unicast` arc (after
// ip4-input, before ip4-lookup) of every interface with an ACL applied (VPP's ACL plugin
// input node, without its sessions). Per packet it reads the IPv4 5-tuple at current data
// (ip4-input left it at the IPv4 header), finds the first matching rule of the rx
// interface's lookup context and counts a hit on it; permit continues along the arc,
// deny — and no match, VPP's implicit deny — goes to error-drop, counted. A header that is
// not IPv4 or does not fit (ip4-input lets none through; the check keeps the node safe on
// any bytes) is dropped and counted. Reads: current, length, rxInterface. Writes: error.

import { defineNode, formatIp4, indices, type NodeContext } from '../../src/index.ts';
import { matchRules, packetKey } from './acl-matcher.ts';
import { ACL_NODE, aclMain, type LookupContext } from './acl-state.ts';

const NEXTS = { drop: 'error-drop' } as const;
const ERRORS = {
  permit: 'ACL permit packets',
  deny: 'ACL deny packets',
  malformed: 'ACL malformed IPv4 header',
} as const;
const next = indices(NEXTS);
const error = indices(ERRORS);

/** The 5-tuple of the packet at hand (src, dst, proto, sport, dport): one array, reused. */
const key = new Int32Array(5);

function formatTuple(): string {
  const ports = key[3] >= 0;
  const src = formatIp4(key[0] >>> 0);
  const dst = formatIp4(key[1] >>> 0);
  return ports ? `proto ${key[2]} ${src}:${key[3]} -> ${dst}:${key[4]}` : `proto ${key[2]} ${src} -> ${dst} (no ports)`;
}

function trace(ctx: NodeContext, bi: number, nextIndex: number): string {
  const pool = ctx.pool;
  const sw = pool.rxInterface[bi];
  const context: LookupContext | undefined = aclMain(ctx.engine).contextOf[sw];
  if (context === undefined) return `acl-plugin: sw_if_index ${sw}, next index ${nextIndex}, no ACL applied`;
  if (!packetKey(pool.bytes, pool.current[bi], pool.length[bi], key)) {
    return `acl-plugin: lc_index ${context.id}, sw_if_index ${sw}, next index ${nextIndex}, malformed IPv4 header`;
  }
  const r = matchRules(context.rules, key[0], key[1], key[2], key[3], key[4]);
  const action = r >= 0 ? context.rules.permit[r] : 0;
  const match = r >= 0 ? `acl ${context.ruleAcl[r]} rule ${context.ruleIndex[r]}` : 'acl -1 rule -1';
  return `acl-plugin: lc_index ${context.id}, sw_if_index ${sw}, next index ${nextIndex}, action: ${action}, match: ${match}\n  ${formatTuple()}`;
}

export default defineNode({
  name: ACL_NODE,
  nexts: NEXTS,
  errors: ERRORS,
  trace,
  process(ctx, buffers, n, nexts) {
    const contextOf = aclMain(ctx.engine).contextOf;
    const pool = ctx.pool;
    const bytes = pool.bytes;
    const current = pool.current;
    const length = pool.length;
    const rxInterface = pool.rxInterface;
    const bufferError = pool.error;
    const denyCode = ctx.errorCode(error.deny);
    const malformedCode = ctx.errorCode(error.malformed);
    let permitted = 0;
    let denied = 0;
    let malformed = 0;
    // Packets of a frame mostly share an rx interface: look its context up once per run.
    let lastSw = -1;
    let context: LookupContext | undefined;
    for (let i = 0; i < n; i++) {
      const bi = buffers[i];
      const sw = rxInterface[bi];
      if (sw !== lastSw) {
        context = contextOf[sw];
        lastSw = sw;
      }
      if (context === undefined) {
        // The ACL was removed while the packet was on its way here: nothing to apply.
        nexts[i] = ctx.featureNext(bi);
        continue;
      }
      if (!packetKey(bytes, current[bi], length[bi], key)) {
        nexts[i] = next.drop;
        bufferError[bi] = malformedCode;
        malformed++;
        continue;
      }
      // #region docs:permit-deny
      const rules = context.rules;
      const r = matchRules(rules, key[0], key[1], key[2], key[3], key[4]);
      if (r >= 0) {
        rules.hits[r]++;
        if (rules.permit[r] === 1) {
          nexts[i] = ctx.featureNext(bi); // on along ip4-unicast, towards ip4-lookup
          permitted++;
          continue;
        }
      }
      nexts[i] = next.drop; // error-drop frees it …
      bufferError[bi] = denyCode; // … and pcap drop capture and the trace show why
      denied++;
    }
    ctx.errors[error.permit] += permitted; // once per frame, not per packet
    ctx.errors[error.deny] += denied;
    ctx.errors[error.malformed] += malformed;
    return n;
    // #endregion docs:permit-deny
  },
});
