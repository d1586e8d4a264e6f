// acl-plugin-in-ip4 at vector sizes 1, 32 and 256 with 10 and 1000 rules, each compiled
// both ways (linear scan, bit vectors), on 64-byte UDP frames from 16 flows that match
// none of the deny rules and so end on the last rule, a permit: the worst case for the
// scan. Also the compile time and memory of the 1000-rule list. The crossover of the two
// strategies sets LINEAR_MAX_RULES in acl-matcher.ts.
// Run alone: node --import tsx plugins/acl/bench/acl.bench.ts

import { ip4Frame } from '../../../src/index.ts';
import { benchReport, runIfMain } from '../../../bench/harness.ts';
import { nodeBench } from '../../../bench/node-bench.ts';
import aclNode from '../acl-node.ts';
import { aclMain, aclRule, type AclRule } from '../index.ts';
import { CompiledRules, type MatchStrategy } from '../acl-matcher.ts';

/** `count - 1` deny rules on 10.(i>>8).(i&255).0/24 → 172.16.0.0/16 tcp dport 1000+i, then permit all. */
function rules(count: number): AclRule[] {
  const out: AclRule[] = [];
  for (let i = 0; i < count - 1; i++) {
    out.push(
      aclRule('deny', {
        src: { address: ((10 << 24) | ((i >> 8) << 16) | ((i & 255) << 8)) >>> 0, length: 24 },
        dst: { address: ((172 << 24) | (16 << 16)) >>> 0, length: 16 },
        proto: 6,
        dport: { first: 1000 + i, last: 1000 + i },
      }),
    );
  }
  out.push(aclRule('permit'));
  return out;
}

const flows = () => Array.from({ length: 16 }, (_, i) => ip4Frame({ src: `192.168.0.${i + 1}`, dst: '48.0.0.1', sport: 1024 + i }));

for (const count of [10, 1000]) {
  for (const strategy of ['linear', 'bitvector'] as MatchStrategy[]) {
    nodeBench(aclNode, {
      name: `acl-plugin-in-ip4, ${count} rules, ${strategy === 'linear' ? 'linear scan' : 'bit vectors'}`,
      featureArc: 'ip4-unicast',
      autoEnable: false,
      advance: 14,
      packets: flows,
      setup(vm) {
        const main = aclMain(vm);
        main.strategy = strategy;
        main.applyInput(1, main.addReplace(rules(count)), true);
      },
    });
  }
}

benchReport(() => {
  const list = rules(1000);
  const t0 = performance.now();
  const compiled = new CompiledRules(list, 'bitvector');
  const ms = performance.now() - t0;
  return [`acl: 1000 rules compile to bit vectors in ${ms.toFixed(1)} ms, ${(compiled.memoryBytes / 1024).toFixed(0)} KiB`];
});

await runIfMain(import.meta.url);
