// The compiled matchers against the specification: a naive first-match over the rule
// objects, written as plainly as the README states the semantics. Random rule lists and
// random packets drawn from small value pools (so rules and packets meet often), both
// strategies, lists that straddle the 32-rule word boundary; and packetKey against the
// frames ip4Frame builds.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ip4Frame, ip4Mask, parseIp4 } from '../../../src/index.ts';
import { CompiledRules, matchBitvector, matchLinear, matchRules, packetKey, LINEAR_MAX_RULES } from '../acl-matcher.ts';
import { aclRule, parseAclRules, formatAclRule, formatAclRuleInput, parseAclRule, type AclRule } from '../acl-rules.ts';

interface Tuple {
  src: number;
  dst: number;
  proto: number;
  /** -1: ports unknown. */
  sport: number;
  dport: number;
}

/** The specification: the first rule whose every field matches, or -1. */
function referenceMatch(rules: readonly AclRule[], p: Tuple): number {
  return rules.findIndex((rule) => {
    const inPrefix = (address: number, prefix: AclRule['src']) =>
      ((address & ip4Mask(prefix.length)) >>> 0) === ((prefix.address & ip4Mask(prefix.length)) >>> 0);
    if (!inPrefix(p.src, rule.src) || !inPrefix(p.dst, rule.dst)) return false;
    if (rule.proto !== 0 && rule.proto !== p.proto) return false;
    const anyPorts = rule.sport.first === 0 && rule.sport.last === 65535 && rule.dport.first === 0 && rule.dport.last === 65535;
    if (p.sport < 0) return anyPorts;
    return p.sport >= rule.sport.first && p.sport <= rule.sport.last && p.dport >= rule.dport.first && p.dport <= rule.dport.last;
  });
}

// Small pools so that random rules and packets actually meet.
const addresses = ['10.0.0.1', '10.0.0.2', '10.0.1.1', '10.1.0.1', '192.168.1.1', '0.0.0.0', '255.255.255.255', '128.0.0.0'].map((a) => parseIp4(a)!);
const prefixArbitrary = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ address: 0, length: 0 }) },
  { weight: 3, arbitrary: fc.record({ address: fc.constantFrom(...addresses), length: fc.constantFrom(1, 8, 16, 24, 32) }) },
  { weight: 1, arbitrary: fc.record({ address: fc.integer({ min: 0, max: 0xffffffff }), length: fc.integer({ min: 0, max: 32 }) }) },
);
const portArbitrary = fc.constantFrom(0, 1, 53, 80, 443, 1023, 1024, 5678, 65534, 65535);
const rangeArbitrary = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ first: 0, last: 65535 }) },
  { weight: 2, arbitrary: fc.tuple(portArbitrary, portArbitrary).map(([a, b]) => ({ first: Math.min(a, b), last: Math.max(a, b) })) },
);
const ruleArbitrary: fc.Arbitrary<AclRule> = fc
  .record({
    action: fc.constantFrom('permit' as const, 'deny' as const),
    src: prefixArbitrary,
    dst: prefixArbitrary,
    proto: fc.constantFrom(0, 0, 0, 1, 6, 17, 47),
    sport: rangeArbitrary,
    dport: rangeArbitrary,
  })
  .map((r) => aclRule(r.action, r));
const tupleArbitrary: fc.Arbitrary<Tuple> = fc.record({
  src: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...addresses) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffffffff }) }),
  dst: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...addresses) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffffffff }) }),
  proto: fc.constantFrom(1, 6, 17, 47, 0, 255),
  sport: fc.oneof(portArbitrary, fc.constant(-1)),
  dport: portArbitrary,
});

function compiledMatch(compiled: CompiledRules, p: Tuple, how: 'linear' | 'bitvector' | 'own'): number {
  const f = how === 'linear' ? matchLinear : how === 'bitvector' ? matchBitvector : matchRules;
  return f(compiled, p.src | 0, p.dst | 0, p.proto, p.sport, p.sport < 0 ? -1 : p.dport);
}

test('both compiled matchers agree with the reference on random rule lists and packets', () => {
  let matched = 0;
  let matchedBeyondFirstWord = 0;
  let checked = 0;
  fc.assert(
    fc.property(fc.array(ruleArbitrary, { minLength: 0, maxLength: 80, size: 'medium' }), fc.array(tupleArbitrary, { minLength: 1, maxLength: 40 }), (rules, packets) => {
      const linear = new CompiledRules(rules, 'linear');
      const bitvector = new CompiledRules(rules, 'bitvector');
      const auto = new CompiledRules(rules);
      for (const p of packets) {
        const expected = referenceMatch(rules, p);
        checked++;
        if (expected >= 0) matched++;
        if (expected >= 32) matchedBeyondFirstWord++;
        assert.equal(compiledMatch(linear, p, 'linear'), expected, 'linear');
        assert.equal(compiledMatch(bitvector, p, 'bitvector'), expected, 'bitvector');
        assert.equal(compiledMatch(auto, p, 'own'), expected, 'auto');
      }
    }),
    { numRuns: 300 },
  );
  // The pools are small enough that the property is not only about "no rule matches".
  assert.ok(matched > checked / 5, `${matched} of ${checked} packets matched a rule`);
});

/** Narrow rules (long prefixes, a protocol, port ranges) so that long lists do not match everything early. */
const narrowRuleArbitrary: fc.Arbitrary<AclRule> = fc
  .record({
    action: fc.constantFrom('permit' as const, 'deny' as const),
    src: fc.record({ address: fc.oneof(fc.constantFrom(...addresses), fc.integer({ min: 0, max: 0xffffffff })), length: fc.integer({ min: 16, max: 32 }) }),
    dst: fc.record({ address: fc.oneof(fc.constantFrom(...addresses), fc.integer({ min: 0, max: 0xffffffff })), length: fc.integer({ min: 8, max: 32 }) }),
    proto: fc.constantFrom(1, 6, 17, 47),
    sport: rangeArbitrary,
    dport: rangeArbitrary,
  })
  .map((r) => aclRule(r.action, r));

/** A packet inside rule `rule`'s ranges (host bits and ports picked by `seed`), or with unknown ports. */
function tupleInside(rule: AclRule, seed: number, unknownPorts: boolean): Tuple {
  const inside = (prefix: AclRule['src']) => ((prefix.address & ip4Mask(prefix.length)) | (Math.imul(seed, 0x9e3779b1) & ~ip4Mask(prefix.length))) >>> 0;
  const port = (range: AclRule['sport']) => range.first + (seed % (range.last - range.first + 1));
  return {
    src: inside(rule.src),
    dst: inside(rule.dst),
    proto: rule.proto === 0 ? [1, 6, 17, 47][seed & 3] : rule.proto,
    sport: unknownPorts ? -1 : port(rule.sport),
    dport: port(rule.dport),
  };
}

test('long lists: packets aimed at any rule of up to 300 find the first that matches them', () => {
  let beyondFirstWord = 0;
  fc.assert(
    fc.property(
      fc.array(fc.oneof({ weight: 19, arbitrary: narrowRuleArbitrary }, { weight: 1, arbitrary: ruleArbitrary }), { minLength: 1, maxLength: 300, size: 'max' }),
      fc.array(fc.tuple(fc.nat(), fc.nat(), fc.boolean()), { minLength: 1, maxLength: 30 }),
      (rules, aims) => {
        const linear = new CompiledRules(rules, 'linear');
        const bitvector = new CompiledRules(rules, 'bitvector');
        for (const [which, seed, unknown] of aims) {
          const target = which % rules.length;
          const p = tupleInside(rules[target], seed, unknown && rules[target].proto !== 6);
          const expected = referenceMatch(rules, p);
          assert.ok(expected <= target || p.sport < 0, 'a packet inside a rule matches it or an earlier one');
          if (expected >= 32) beyondFirstWord++;
          assert.equal(compiledMatch(linear, p, 'linear'), expected, 'linear');
          assert.equal(compiledMatch(bitvector, p, 'bitvector'), expected, 'bitvector');
        }
      },
    ),
    { numRuns: 150 },
  );
  assert.ok(beyondFirstWord > 0, 'some packets matched a rule past the first bitmap word');
});

test('lists longer than a bitmap word (and than an aggregate word) find the right rule', () => {
  // 1100 rules, rule i matching only source 10.0.(i>>8).(i&255): every packet's answer is known.
  const rules = Array.from({ length: 1100 }, (_, i) => aclRule(i % 3 === 0 ? 'deny' : 'permit', { src: { address: parseIp4(`10.0.${i >> 8}.${i & 255}`)!, length: 32 } }));
  rules.push(aclRule('permit', { dst: { address: parseIp4('1.2.3.0')!, length: 24 } }));
  const compiled = new CompiledRules(rules, 'bitvector');
  assert.equal(compiled.aggregateWords, 2);
  for (const i of [0, 31, 32, 63, 64, 1023, 1024, 1025, 1099]) {
    const p = { src: parseIp4(`10.0.${i >> 8}.${i & 255}`)!, dst: 0, proto: 6, sport: 1, dport: 2 };
    assert.equal(compiledMatch(compiled, p, 'bitvector'), i);
  }
  assert.equal(compiledMatch(compiled, { src: 1, dst: parseIp4('1.2.3.4')!, proto: 6, sport: -1, dport: -1 }, 'bitvector'), 1100);
  assert.equal(compiledMatch(compiled, { src: 1, dst: 1, proto: 6, sport: -1, dport: -1 }, 'bitvector'), -1);
  assert.ok(compiled.memoryBytes < 4 << 20, `${compiled.memoryBytes} bytes`);
});

test('the strategy follows the rule count', () => {
  const make = (n: number) => new CompiledRules(Array.from({ length: n }, () => aclRule('permit')));
  assert.equal(make(LINEAR_MAX_RULES).strategy, 'linear');
  assert.equal(make(LINEAR_MAX_RULES + 1).strategy, 'bitvector');
  assert.equal(make(0).strategy, 'linear');
});

test('packetKey reads the 5-tuple ip4Frame wrote; unknown ports for fragments, short L4 and other protocols', () => {
  const key = new Int32Array(5);
  const at = 14;
  const read = (frame: Uint8Array, length = frame.length - at) => (packetKey(frame, at, length, key) ? Array.from(key) : null);
  const src = parseIp4('10.10.1.2')! | 0;
  const dst = parseIp4('48.0.0.1')! | 0;
  assert.deepEqual(read(ip4Frame({ protocol: 'udp', sport: 53, dport: 5353 })), [src, dst, 17, 53, 5353]);
  assert.deepEqual(read(ip4Frame({ protocol: 'tcp', sport: 40000, dport: 443 })), [src, dst, 6, 40000, 443]);
  assert.deepEqual(read(ip4Frame({ protocol: 'icmp', icmpType: 3, icmpCode: 4 })), [src, dst, 1, 3, 4]);
  assert.deepEqual(read(ip4Frame({ protocol: 47 })), [src, dst, 47, -1, -1]);
  assert.deepEqual(read(ip4Frame({ protocol: 'udp', fragmentOffset: 10 })), [src, dst, 17, -1, -1]);
  assert.deepEqual(read(ip4Frame({ protocol: 'udp' }), 22), [src, dst, 17, -1, -1], 'ports cut off');
  assert.equal(read(ip4Frame(), 19), null, 'shorter than a header');
  const v6 = ip4Frame();
  v6[at] = 0x65;
  assert.equal(read(v6), null, 'not version 4');
  const ihl = ip4Frame();
  ihl[at] = 0x44;
  assert.equal(read(ihl), null, 'IHL below 5');
  const longHeader = ip4Frame({ length: 40 });
  longHeader[at] = 0x4f;
  assert.equal(read(longHeader), null, 'IHL beyond the bytes');
});

test('packetKey never reads past the packet, whatever the bytes', () => {
  fc.assert(
    // The length drawn explicitly: fast-check's default size would keep it under about 10 bytes.
    fc.property(fc.integer({ min: 0, max: 64 }).chain((n) => fc.uint8Array({ minLength: n, maxLength: n })), (bytes) => {
      // The same packet followed by 0x00s and by 0xees: a read past its end would tell them apart.
      const withZeros = new Uint8Array(bytes.length + 64);
      const withMarks = new Uint8Array(bytes.length + 64).fill(0xee);
      withZeros.set(bytes);
      withMarks.set(bytes);
      const a = new Int32Array(5);
      const b = new Int32Array(5);
      assert.equal(packetKey(withZeros, 0, bytes.length, a), packetKey(withMarks, 0, bytes.length, b));
      assert.deepEqual(a, b);
    }),
    { numRuns: 1000 },
  );
});

test('rule text: parse, print as VPP prints it, and round trip', () => {
  const rules = parseAclRules('permit src 10.0.0.0/8 dst 48.0.0.1/32 proto udp dport 5678, deny proto 6 sport 1000-2000, permit');
  assert.deepEqual(rules.map(formatAclRule), [
    'ipv4 permit src 10.0.0.0/8 dst 48.0.0.1/32 proto 17 sport 0-65535 dport 5678',
    'ipv4 deny src 0.0.0.0/0 dst 0.0.0.0/0 proto 6 sport 1000-2000 dport 0-65535',
    'ipv4 permit src 0.0.0.0/0 dst 0.0.0.0/0 proto 0 sport 0-65535 dport 0-65535',
  ]);
  assert.deepEqual(parseAclRule('deny proto icmp sport 8').proto, 1);
  fc.assert(
    fc.property(ruleArbitrary, (rule) => {
      const normal = { ...rule, src: { address: rule.src.address & ip4Mask(rule.src.length), length: rule.src.length } };
      const again = parseAclRule(formatAclRuleInput(rule));
      assert.deepEqual({ ...again, src: { ...again.src, address: again.src.address >>> 0 } }, { ...normal, src: { ...normal.src, address: normal.src.address >>> 0 }, dst: { address: (rule.dst.address & ip4Mask(rule.dst.length)) >>> 0, length: rule.dst.length } });
    }),
  );
});

test('rule text: bad input names the token and the expected form', () => {
  const bad: [string, RegExp][] = [
    ['', /expected a rule: permit\|deny/],
    ['allow', /expected permit\|deny for rule action, got 'allow'/],
    ['permit src 10.0.0.0', /expected an IPv4 prefix \(a\.b\.c\.d\/len\) for src, got '10\.0\.0\.0'/],
    ['permit proto 256', /expected a number in 0\.\.255 for proto \(or tcp\|udp\|icmp\), got '256'/],
    ['permit dport 80-', /expected a port or port range .* for dport, got '80-'/],
    ['permit sport 2000-1000', /for sport, got '2000-1000'/],
    ['permit sport 70000', /for sport, got '70000'/],
    ['permit src 1.0.0.0/8 src 2.0.0.0/8', /'src' given twice/],
    ['permit from 1.2.3.4', /unknown input `from 1\.2\.3\.4'/],
  ];
  for (const [text, expected] of bad) assert.throws(() => parseAclRules(text), expected, text);
  assert.throws(() => parseAclRules('permit, , deny'), /rule 2 is empty/);
  assert.throws(() => parseAclRules('permit, deny src x'), /rule 2: expected an IPv4 prefix/);
});
