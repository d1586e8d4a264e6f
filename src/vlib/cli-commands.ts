// The engine's own CLI (VPP's vlib commands): runtime statistics, error counters, packet
// trace, node and graph inspection, buffers. Each command parses all of its input before
// it changes anything, and every `show` also answers `--json` with the same data.

import { CliError, type CliOutput, type CliRegistry } from './cli.ts';
import type { Engine } from './engine.ts';
import { center, exponential } from './format.ts';

type Registry = CliRegistry<Engine>;

export function registerVlibCommands(cli: Registry): void {
  cli.register({
    path: 'show runtime',
    short: 'Show node runtime statistics',
    usage: 'show runtime [verbose]',
    json: true,
    action(vm, input, out) {
      const verbose = input.keyword('verbose');
      input.expectEnd();
      showRuntime(vm, out, verbose);
    },
  });
  cli.register({
    path: 'clear runtime',
    short: 'Clear node runtime statistics',
    action(vm, input) {
      input.expectEnd();
      vm.clearRuntime();
    },
  });
  cli.register({
    path: 'show errors',
    short: 'Show error counts',
    usage: 'show errors [verbose]',
    json: true,
    action(vm, input, out) {
      const verbose = input.keyword('verbose');
      input.expectEnd();
      showErrors(vm, out, verbose);
    },
  });
  cli.register({
    path: 'clear errors',
    short: 'Clear error counters',
    action(vm, input) {
      input.expectEnd();
      for (const rt of vm.nodes) rt.errors.fill(0);
    },
  });
  cli.register({
    path: 'trace add',
    short: 'Trace the next N packets made by an input node',
    usage: 'trace add <input-node> <count>',
    action(vm, input) {
      const name = input.expectWord('input node');
      const rt = vm.node(name);
      if (rt === undefined) throw new CliError(`trace add: unknown node '${name}'`);
      if (rt.type !== 'input') throw new CliError(`trace add: node '${name}' is not an input node`);
      const count = input.expectNumber('count', { min: 1, max: 100000 });
      input.expectEnd();
      vm.traces.add(rt.index, count);
    },
  });
  cli.register({
    path: 'show trace',
    short: 'Show the packet trace',
    usage: 'show trace [max <n>]',
    json: true,
    action(vm, input, out) {
      let max = 50;
      if (input.keyword('max')) max = input.expectNumber('max', { min: 1, max: 1000000 });
      input.expectEnd();
      out.json(vm.traces.packets.slice(0, max));
      out.print(vm.traces.format(max));
    },
  });
  cli.register({
    path: 'clear trace',
    short: 'Clear the packet trace and stop tracing',
    action(vm, input) {
      input.expectEnd();
      vm.traces.clear();
    },
  });
  cli.register({
    path: 'show node',
    short: 'Show one graph node',
    usage: 'show node <node-name>',
    json: true,
    action(vm, input, out) {
      const name = input.expectWord('node name');
      input.expectEnd();
      showNode(vm, name, out);
    },
  });
  cli.register({
    path: 'show vlib graph',
    short: 'Show the packet processing graph',
    usage: 'show vlib graph [<node-name>] [dot]',
    json: true,
    action(vm, input, out) {
      let only: string | undefined;
      let dot = false;
      while (!input.atEnd()) {
        if (input.keyword('dot')) dot = true;
        else if (only === undefined) only = input.expectWord('node name');
        else input.fail();
      }
      if (only !== undefined && vm.node(only) === undefined) throw new CliError(`show vlib graph: unknown node '${only}'`);
      showGraph(vm, out, only, dot);
    },
  });
  cli.register({
    path: 'show buffers',
    short: 'Show buffer pool usage',
    json: true,
    action(vm, input, out) {
      input.expectEnd();
      const p = vm.pool;
      const used = p.count - p.available;
      out.json([{ name: p.name, index: 0, numa: 0, size: p.stride, dataSize: p.dataSize, total: p.count, available: p.available, cached: 0, used, allocFailures: p.allocFailures, doubleFrees: p.doubleFrees }]);
      out.print('Pool Name            Index NUMA  Size  Data Size  Total  Avail  Cached   Used  ');
      out.print(
        `${p.name.padEnd(20)}${String(0).padStart(4)}${String(0).padStart(6)}${String(p.stride).padStart(7)}${String(p.dataSize).padStart(9)}` +
          `${String(p.count).padStart(9)}${String(p.available).padStart(7)}${String(0).padStart(7)}${String(used).padStart(8)}   `,
      );
      if (p.allocFailures > 0 || p.doubleFrees > 0) out.print(`alloc failures ${p.allocFailures}, double frees ${p.doubleFrees}`);
    },
  });
}

function showRuntime(vm: Engine, out: CliOutput, verbose: boolean): void {
  const seconds = Math.max(1e-9, (vm.nowNs() - vm.runtimeClearedNs) / 1e9);
  const loops = vm.loops - vm.runtimeClearedLoops;
  let internalCalls = 0;
  let internalVectors = 0;
  let dropped = 0;
  for (const rt of vm.nodes) {
    if (rt.type === 'internal') {
      internalCalls += rt.calls;
      internalVectors += rt.vectors;
    }
    if (rt.name === 'error-drop' || rt.name === 'null-node') dropped += rt.vectors;
  }
  const packetsIn = vm.packetsIn - vm.runtimeClearedPacketsIn;
  const rows = vm.nodes
    .filter((rt) => verbose || rt.calls > 0 || rt.type === 'process' || rt.vectors > 0)
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((rt) => ({
      name: rt.name,
      state: displayState(rt.state, rt.type),
      calls: rt.calls,
      vectors: rt.vectors,
      suspends: rt.suspends,
      nsPerPacket: rt.vectors > 0 ? rt.timeNs / rt.vectors : rt.calls > 0 ? rt.timeNs / rt.calls : 0,
      vectorsPerCall: rt.calls > 0 ? rt.vectors / rt.calls : 0,
    }));
  const summary = {
    seconds,
    vectorRate: internalCalls > 0 ? internalVectors / internalCalls : 0,
    loopsPerSecond: loops / seconds,
    rates: { in: packetsIn / seconds, out: (packetsIn - dropped) / seconds, drop: dropped / seconds, punt: 0 },
  };
  out.json({ ...summary, nodes: rows });
  out.print(
    `Time ${seconds.toFixed(1)}, ${seconds.toFixed(6)} sec internal node vector rate ${summary.vectorRate.toFixed(2)} loops/sec ${summary.loopsPerSecond.toFixed(2)}`,
  );
  out.print(
    `  vector rates in ${exponential(summary.rates.in, 4)}, out ${exponential(summary.rates.out, 4)}, drop ${exponential(summary.rates.drop, 4)}, punt ${exponential(0, 4)}`,
  );
  out.print(
    `${center('Name', 32)}${center('State', 14)}${center('Calls', 16)}${center('Vectors', 16)}${center('Suspends', 16)}${center('ns/Packet', 16)}${center('Vectors/Call', 15)}`,
  );
  for (const r of rows) {
    const name = r.name.length > 30 ? r.name.slice(0, 30) : r.name;
    out.print(
      `${name.padEnd(31)}${center(r.state, 14)}${String(r.calls).padStart(14)}${String(r.vectors).padStart(16)}${String(r.suspends).padStart(16)}` +
        `${exponential(r.nsPerPacket, 2).padStart(16)}${r.vectorsPerCall.toFixed(2).padStart(16)}`,
    );
  }
}

function displayState(state: string, type: string): string {
  if (type === 'process') return state === 'running' ? '"running"' : state === 'done' ? 'done' : `"${state}"`;
  if (state === 'polling' && type === 'internal') return 'active';
  return state;
}

function showErrors(vm: Engine, out: CliOutput, verbose: boolean): void {
  const rows: { count: number; node: string; reason: string; severity: string }[] = [];
  for (const rt of vm.nodes) {
    for (let k = 0; k < rt.errors.length; k++) {
      if (rt.errors[k] !== 0 || verbose) rows.push({ count: rt.errors[k], node: rt.name, reason: rt.errorNames[k], severity: 'error' });
    }
  }
  out.json(rows);
  out.print(`   Count   ${center('Node', 36)}${center('Reason', 36)}Severity `);
  for (const r of rows) out.print(`${String(r.count).padStart(10)} ${center(r.node, 36)}${center(r.reason, 36)}  ${r.severity}  `);
}

function showNode(vm: Engine, name: string, out: CliOutput): void {
  const rt = vm.node(name);
  if (rt === undefined) throw new CliError(`show node: unknown node '${name}'`);
  const nexts = rt.nextNames.map((next, k) => ({ index: k, node: next, nodeIndex: rt.nextNodes[k] }));
  const previous = vm.feeders(name).map((p) => p.name);
  out.json({ name: rt.name, type: rt.type, state: rt.state, index: rt.index, nexts, previous, errors: rt.errorNames });
  out.print(`node ${rt.name}, type ${rt.type}, state ${displayState(rt.state, rt.type)}, index ${rt.index}`);
  out.print('  next nodes:');
  out.print(`    next-index  node-index  ${'Node'.padEnd(30)}`);
  for (const n of nexts) out.print(`${String(n.index).padStart(14)}${String(n.nodeIndex).padStart(12)}  ${n.node}`);
  out.print('  known previous nodes:');
  for (const p of previous) out.print(`    ${p}`);
  if (rt.errorNames.length > 0) {
    out.print('  errors:');
    rt.errorNames.forEach((e, k) => out.print(`    ${e} (${rt.errors[k]})`));
  }
}

function showGraph(vm: Engine, out: CliOutput, only: string | undefined, dot: boolean): void {
  const nodes = vm.nodes.filter((rt) => only === undefined || rt.name === only).sort((a, b) => a.name.localeCompare(b.name));
  const graph = nodes.map((rt) => ({
    name: rt.name,
    nexts: rt.nextNames.map((n, k) => ({ index: k, node: n })),
    previous: vm.feeders(rt.name).map((p) => p.name),
  }));
  out.json(graph);
  if (dot) {
    out.print('digraph vecnet {');
    out.print('  rankdir=LR;');
    for (const g of graph) for (const n of g.nexts) out.print(`  "${g.name}" -> "${n.node}" [label="${n.index}"];`);
    out.print('}');
    return;
  }
  out.print(`${center('Name', 30)} ${center('Next', 30)} ${center('Previous', 30)}`);
  for (const g of graph) {
    const lines = Math.max(1, g.nexts.length, g.previous.length);
    for (let i = 0; i < lines; i++) {
      const next = i < g.nexts.length ? `${g.nexts[i].node} [${g.nexts[i].index}]` : '';
      out.print(`${(i === 0 ? g.name : '').padEnd(31)}${next.padEnd(31)}${g.previous[i] ?? ''}`.trimEnd());
    }
  }
}

