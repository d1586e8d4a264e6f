// The acl plugin: stateless IPv4 access control lists on interface input (VPP's ACL
// plugin, without sessions, MACIP or IPv6). `acl add` defines an ordered list of rules,
// `acl apply <if> input <n>` puts it on an interface's input (several ACLs apply in order,
// first match wins, an implicit deny ends the list), `show acl` prints the rules with how
// many packets each one matched. The node `acl-plugin-in-ip4` does the matching on the
// `ip4-unicast` feature arc; acl-state.ts holds the ACLs and the compiled lookup contexts.

import { definePlugin, type CliCommand, type Engine } from '../../src/index.ts';
import aclNode from './acl-node.ts';
import { formatAclRule, parseAclRules } from './acl-rules.ts';
import { ACL_ARC, ACL_NODE, AclError, aclMain, MAX_ACL_INDEX } from './acl-state.ts';

export { aclMain, AclError, ACL_NODE } from './acl-state.ts';
export { aclRule, parseAclRule, parseAclRules, formatAclRule, type AclRule } from './acl-rules.ts';

const RULE_SYNTAX = 'permit|deny [src <prefix>] [dst <prefix>] [proto <n|tcp|udp|icmp>] [sport <a>[-<b>]] [dport <a>[-<b>]]';

function interfaceIndex(vm: Engine, name: string): number {
  return vm.vnet.interfaces.expect(name);
}

const commands: CliCommand<Engine>[] = [
  {
    path: 'acl add',
    short: 'Add an ACL, or replace the rules of ACL <n>',
    usage: `acl add [index <n>] [tag <text>] <rule>[, <rule>…]   rule: ${RULE_SYNTAX}`,
    action(vm, input, out) {
      let index: number | undefined;
      let tag = '';
      for (;;) {
        if (input.keyword('index')) index = input.expectNumber('acl index', { max: MAX_ACL_INDEX });
        else if (input.keyword('tag')) tag = input.expectWord('tag');
        else break;
      }
      const rules = parseAclRules(input.rest());
      const at = aclMain(vm).addReplace(rules, index, tag);
      out.json({ aclIndex: at });
      out.print(`acl-index ${at}`);
    },
    json: true,
  },
  {
    path: 'acl del',
    short: 'Delete an ACL that is not applied anywhere',
    usage: 'acl del <n>',
    action(vm, input) {
      const index = input.expectNumber('acl index', { max: MAX_ACL_INDEX });
      input.expectEnd();
      aclMain(vm).delete(index);
    },
  },
  {
    path: 'acl apply',
    short: "Apply an ACL to an interface's input (after those applied before), or remove it",
    usage: 'acl apply <interface> input <acl-index> [disable]',
    action(vm, input) {
      const name = input.expectWord('interface name');
      input.expectKeyword('input');
      const index = input.expectNumber('acl index', { max: MAX_ACL_INDEX });
      const disable = input.keyword('disable');
      input.expectEnd();
      aclMain(vm).applyInput(interfaceIndex(vm, name), index, !disable);
    },
  },
  {
    path: 'show acl',
    short: 'Show ACLs with per-rule hit counts',
    usage: 'show acl [<acl-index>]',
    json: true,
    action(vm, input, out) {
      const only = input.atEnd() ? undefined : input.expectNumber('acl index', { max: MAX_ACL_INDEX });
      input.expectEnd();
      const main = aclMain(vm);
      if (only !== undefined && main.acl(only) === undefined) throw new AclError(`no ACL with index ${only}`, 'ENOENT');
      const acls = main.list().filter((acl) => only === undefined || acl.index === only);
      out.json(
        acls.map((acl) => ({
          index: acl.index,
          tag: acl.tag,
          rules: acl.rules.map((rule, i) => ({ ...rule, text: formatAclRule(rule), hits: acl.hits[i] })),
          appliedInbound: main.appliedOn(acl.index),
          lookupContexts: main.contextsOf(acl.index).map((c) => c.id),
        })),
      );
      for (const acl of acls) {
        // VPP's acl_print_acl_x and acl_plugin_show_acl, plus the hit count per rule.
        out.print(`acl-index ${acl.index} count ${acl.rules.length} tag {${acl.tag}}`);
        acl.rules.forEach((rule, i) => out.print(`  ${String(i).padStart(9)}: ${formatAclRule(rule)} hits ${acl.hits[i]}`));
        const on = main.appliedOn(acl.index);
        if (on.length > 0) out.print(`  applied inbound on sw_if_index: ${on.join(', ')}`);
        const contexts = main.contextsOf(acl.index);
        if (contexts.length > 0) out.print(`  used in lookup context index: ${contexts.map((c) => c.id).join(', ')}`);
      }
    },
  },
  {
    path: 'show acl interface',
    short: 'Show the input ACLs of each interface',
    usage: 'show acl interface [<interface>]',
    json: true,
    action(vm, input, out) {
      const name = input.atEnd() ? undefined : input.expectWord('interface name');
      input.expectEnd();
      const only = name === undefined ? undefined : interfaceIndex(vm, name);
      const main = aclMain(vm);
      const interfaces = vm.vnet.interfaces;
      const rows = interfaces
        .sortedIndices()
        .filter((sw) => (only === undefined ? main.inputAcls(sw).length > 0 : sw === only))
        .map((sw) => ({ swIfIndex: sw, name: interfaces.names[sw], input: [...main.inputAcls(sw)], lookupContext: main.contextOf[sw]?.id ?? null }));
      out.json(rows);
      for (const row of rows) {
        // VPP's `show acl-plugin interface`.
        out.print(`sw_if_index ${row.swIfIndex} (${row.name}):`);
        out.print(`  input acl(s): ${row.input.join(', ')}`);
        if (row.lookupContext !== null) out.print(`  input lookup context index: ${row.lookupContext}`);
      }
    },
  },
];

export default definePlugin({
  name: 'acl',
  description: 'Stateless IPv4 access control lists on interface input',
  nodes: [aclNode],
  features: [{ arc: ACL_ARC, node: ACL_NODE }],
  commands,
});
