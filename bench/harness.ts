// The benchmark harness: every bench file registers cases with `vectorBench`, each a
// function that moves a known number of packets per call. mitata measures the calls;
// the harness turns them into ns/packet (median of the samples) and Mpps, prints one table (node or path,
// vector size, ns/packet, Mpps, notes) and can write it as JSON to compare runs
// (`npm run bench -- --json out.json`). A bench file run alone runs just its cases.

import { measure } from 'mitata';
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { PerformanceObserver } from 'node:perf_hooks';

export interface BenchCase {
  /** Node or path name as the table shows it. */
  readonly name: string;
  /** Packets per frame for this case (the table's "vector" column). */
  readonly vector: number;
  /** Packets moved by one call of `run`. */
  readonly packets: number;
  readonly run: () => unknown;
  /** Free text shown after the figures (targets, ratios to VPP). */
  readonly note?: string | ((nsPerPacket: number) => string);
}

export interface BenchRow {
  name: string;
  vector: number;
  nsPerPacket: number;
  mpps: number;
  note: string;
}

const cases: (() => BenchCase | BenchCase[])[] = [];
const reports: (() => string[] | Promise<string[]>)[] = [];

/** Registers cases; `make` runs only when the benches run (setup stays out of imports). */
export function vectorBench(make: () => BenchCase | BenchCase[]): void {
  cases.push(make);
}

/** Registers extra lines (build times, memory, allocation checks) printed after the table. */
export function benchReport(make: () => string[] | Promise<string[]>): void {
  reports.push(make);
}

/**
 * Runs `fn` `iterations` times and reports heap growth and the GCs that ran meanwhile.
 * GC entries reach a PerformanceObserver asynchronously, so the count is read after the
 * event loop has delivered them.
 */
export async function allocationCheck(fn: () => unknown, iterations: number): Promise<{ heapDeltaBytes: number; gcCount: number }> {
  for (let i = 0; i < Math.min(iterations, 10000); i++) fn(); // warm up: JIT and pools settle
  await new Promise((resolve) => setTimeout(resolve, 50)); // let warm-up GCs be delivered first
  let gcCount = 0;
  let counting = false;
  const observer = new PerformanceObserver((list) => {
    if (counting) gcCount += list.getEntries().length;
  });
  observer.observe({ entryTypes: ['gc'] });
  await new Promise((resolve) => setTimeout(resolve, 50));
  counting = true;
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < iterations; i++) fn();
  const after = process.memoryUsage().heapUsed;
  await new Promise((resolve) => setTimeout(resolve, 100));
  observer.disconnect();
  return { heapDeltaBytes: after - before, gcCount };
}

export async function runBenches(filter?: RegExp): Promise<{ rows: BenchRow[]; lines: string[] }> {
  const rows: BenchRow[] = [];
  for (const make of cases) {
    const made = make();
    for (const c of Array.isArray(made) ? made : [made]) {
      if (filter !== undefined && !filter.test(c.name)) continue;
      const stats = await measure(c.run, { min_cpu_time: 300e6, max_samples: 2000 });
      // The median, not the mean: on a shared machine one stray sample can move a mean by 4×.
      const ns = stats.p50 / c.packets;
      rows.push({
        name: c.name,
        vector: c.vector,
        nsPerPacket: ns,
        mpps: 1e3 / ns,
        note: typeof c.note === 'function' ? c.note(ns) : (c.note ?? ''),
      });
    }
  }
  const lines: string[] = [];
  for (const r of reports) lines.push(...(await r()));
  return { rows, lines };
}

export function formatTable(rows: readonly BenchRow[]): string {
  const out = [`${'node or path'.padEnd(44)}${'vector'.padStart(7)}${'ns/packet'.padStart(12)}${'Mpps'.padStart(10)}  notes`];
  for (const r of rows) {
    out.push(`${r.name.padEnd(44)}${String(r.vector).padStart(7)}${r.nsPerPacket.toFixed(2).padStart(12)}${r.mpps.toFixed(2).padStart(10)}  ${r.note}`);
  }
  return out.join('\n');
}

/** Prints the table (and writes JSON when `--json <file>` was given). */
export async function printBenches(argv = process.argv.slice(2)): Promise<void> {
  const jsonAt = argv.indexOf('--json');
  const filterAt = argv.indexOf('--filter');
  const filter = filterAt >= 0 ? new RegExp(argv[filterAt + 1]) : undefined;
  const { rows, lines } = await runBenches(filter);
  console.log(formatTable(rows));
  for (const l of lines) console.log(l);
  if (jsonAt >= 0) writeFileSync(argv[jsonAt + 1], JSON.stringify({ date: new Date().toISOString(), node: process.version, rows, lines }, null, 2));
}

/** In a bench file: `await runIfMain(import.meta.url)` runs its cases when the file is run alone. */
export async function runIfMain(moduleUrl: string): Promise<void> {
  if (process.argv[1] !== undefined && pathToFileURL(process.argv[1]).href === moduleUrl) await printBenches();
}
