// ACL rules as the control plane holds them (VPP's acl_rule_t, IPv4 only): an action, a
// source and a destination prefix, a protocol (0 = any, as VPP) and source and destination
// port ranges, which for ICMP are the type and code ranges (as VPP's ACL plugin). Here is
// the rule grammar of `acl add` and the text `show acl` prints (VPP's `show acl-plugin acl`).
//
//   permit|deny [src <prefix>] [dst <prefix>] [proto <n|tcp|udp|icmp>] [sport <a>[-<b>]] [dport <a>[-<b>]]

import { CliError, CliInput, formatIp4Prefix, IpProtocol, type Ip4Prefix } from '../../src/index.ts';

export type AclAction = 'permit' | 'deny';

/** An inclusive range of ports (or ICMP types / codes). */
export interface PortRange {
  readonly first: number;
  readonly last: number;
}

export interface AclRule {
  readonly action: AclAction;
  readonly src: Ip4Prefix;
  readonly dst: Ip4Prefix;
  /** IP protocol number; 0 matches any protocol. */
  readonly proto: number;
  readonly sport: PortRange;
  readonly dport: PortRange;
}

export const ANY_PREFIX: Ip4Prefix = { address: 0, length: 0 };
export const ANY_PORT: PortRange = { first: 0, last: 65535 };

/** A rule with every field but the action defaulted (matches every IPv4 packet). */
export function aclRule(action: AclAction, fields: Partial<Omit<AclRule, 'action'>> = {}): AclRule {
  return {
    action,
    src: fields.src ?? ANY_PREFIX,
    dst: fields.dst ?? ANY_PREFIX,
    proto: fields.proto ?? 0,
    sport: fields.sport ?? ANY_PORT,
    dport: fields.dport ?? ANY_PORT,
  };
}

/** True when a range covers every port: such a rule also matches packets whose ports are unknown. */
export function isAnyPort(range: PortRange): boolean {
  return range.first === 0 && range.last === 65535;
}

const PROTOCOL_NAMES: Readonly<Record<string, number>> = { tcp: IpProtocol.TCP, udp: IpProtocol.UDP, icmp: IpProtocol.ICMP };

function parsePortRange(input: CliInput, what: string): PortRange {
  const text = input.peek();
  const match = text === undefined ? null : /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  const first = match === null ? NaN : Number(match[1]);
  const last = match === null ? NaN : match[2] === undefined ? first : Number(match[2]);
  if (!(first >= 0 && last <= 65535 && first <= last)) {
    throw new CliError(`expected a port or port range (<a>[-<b>], 0 <= a <= b <= 65535) for ${what}, got ${text === undefined ? 'end of input' : `'${text}'`}`);
  }
  input.next();
  return { first, last };
}

/**
 * Parses one rule from `text` (the words between commas of `acl add`). Throws a CliError
 * naming the offending word and the expected form.
 */
export function parseAclRule(text: string): AclRule {
  const input = new CliInput(text);
  if (input.atEnd()) throw new CliError("expected a rule: permit|deny [src <prefix>] [dst <prefix>] [proto <n|tcp|udp|icmp>] [sport <a>[-<b>]] [dport <a>[-<b>]]");
  const action = input.expectOneOf(['permit', 'deny'] as const, 'rule action');
  const fields: { -readonly [K in keyof Omit<AclRule, 'action'>]?: AclRule[K] } = {};
  const once = (key: string, present: boolean): void => {
    if (present) throw new CliError(`'${key}' given twice in one rule`);
  };
  while (!input.atEnd()) {
    if (input.keyword('src')) {
      once('src', fields.src !== undefined);
      fields.src = input.expectIp4Prefix('src');
    } else if (input.keyword('dst')) {
      once('dst', fields.dst !== undefined);
      fields.dst = input.expectIp4Prefix('dst');
    } else if (input.keyword('proto')) {
      once('proto', fields.proto !== undefined);
      const named = input.oneOf(['tcp', 'udp', 'icmp'] as const);
      fields.proto = named !== null ? PROTOCOL_NAMES[named] : input.expectNumber('proto (or tcp|udp|icmp)', { min: 0, max: 255 });
    } else if (input.keyword('sport')) {
      once('sport', fields.sport !== undefined);
      fields.sport = parsePortRange(input, 'sport');
    } else if (input.keyword('dport')) {
      once('dport', fields.dport !== undefined);
      fields.dport = parsePortRange(input, 'dport');
    } else {
      input.fail();
    }
  }
  return aclRule(action, fields);
}

/** `rule[, rule…]` → rules; an empty rule between commas is an error naming its position. */
export function parseAclRules(text: string): AclRule[] {
  const parts = text.split(',');
  return parts.map((part, i) => {
    if (part.trim() === '' && parts.length > 1) throw new CliError(`rule ${i + 1} is empty: rules are separated by ','`);
    try {
      return parseAclRule(part);
    } catch (error) {
      if (error instanceof CliError && parts.length > 1) throw new CliError(`rule ${i + 1}: ${error.message}`);
      throw error;
    }
  });
}

function formatRange(range: PortRange): string {
  return range.first === range.last ? String(range.first) : `${range.first}-${range.last}`;
}

/** VPP's rule text: `ipv4 permit src 10.0.0.0/8 dst 0.0.0.0/0 proto 6 sport 0-65535 dport 80`. */
export function formatAclRule(rule: AclRule): string {
  return (
    `ipv4 ${rule.action} src ${formatIp4Prefix(rule.src)} dst ${formatIp4Prefix(rule.dst)} proto ${rule.proto}` +
    ` sport ${formatRange(rule.sport)} dport ${formatRange(rule.dport)}`
  );
}

/** The rule as `acl add` takes it back (only the fields that are not defaults). */
export function formatAclRuleInput(rule: AclRule): string {
  let text: string = rule.action;
  if (rule.src.length > 0 || rule.src.address !== 0) text += ` src ${formatIp4Prefix(rule.src)}`;
  if (rule.dst.length > 0 || rule.dst.address !== 0) text += ` dst ${formatIp4Prefix(rule.dst)}`;
  if (rule.proto !== 0) text += ` proto ${rule.proto}`;
  if (!isAnyPort(rule.sport)) text += ` sport ${formatRange(rule.sport)}`;
  if (!isAnyPort(rule.dport)) text += ` dport ${formatRange(rule.dport)}`;
  return text;
}
