// Packet trace (VPP's `trace add`): an input node marks up to N of the packets it makes,
// and every node a marked buffer crosses appends one formatted record to that packet's
// trace, with the time since the engine started. Records are formatted when taken; only
// traced packets pay for it, and the number of traced packets is bounded by the budget.

export interface TraceRecord {
  readonly timeNs: number;
  readonly node: string;
  readonly text: string;
}

export interface PacketTrace {
  readonly packet: number;
  readonly records: TraceRecord[];
}

/** Formats nanoseconds since start as VPP's trace time stamp `hh:mm:ss:uuuuuu`. */
export function formatTraceTime(ns: number): string {
  const us = Math.floor(ns / 1000);
  const s = Math.floor(us / 1e6);
  const two = (v: number): string => String(v).padStart(2, '0');
  return `${two(Math.floor(s / 3600))}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}:${String(us % 1e6).padStart(6, '0')}`;
}

export class TraceStore {
  readonly packets: PacketTrace[] = [];
  /** Remaining packets to mark, per input node index. */
  private readonly budget = new Map<number, number>();
  /** True while traced buffers may be in flight: nodes then run their trace pass. */
  active = false;

  add(inputNode: number, count: number): void {
    this.budget.set(inputNode, (this.budget.get(inputNode) ?? 0) + count);
    this.active = true;
  }

  /** How many of the next packets made by this input node are to be traced. */
  takeBudget(inputNode: number, available: number): number {
    const left = this.budget.get(inputNode);
    if (left === undefined || left === 0) return 0;
    const take = Math.min(left, available);
    this.budget.set(inputNode, left - take);
    return take;
  }

  /** Starts a new packet trace and returns its slot. */
  open(): number {
    this.packets.push({ packet: this.packets.length + 1, records: [] });
    return this.packets.length - 1;
  }

  record(slot: number, timeNs: number, node: string, text: string): void {
    const p = this.packets[slot];
    if (p !== undefined) p.records.push({ timeNs, node, text });
  }

  clear(): void {
    this.packets.length = 0;
    this.budget.clear();
    this.active = false;
  }

  /** `show trace [max N]` text. */
  format(max = 50, threadName = 'vpp_main'): string {
    const lines = [`------------------- Start of thread 0 ${threadName} -------------------`];
    const shown = this.packets.slice(0, max);
    if (shown.length === 0) lines.push('No packets in trace buffer');
    for (const p of shown) {
      lines.push(`Packet ${p.packet}`, '');
      for (const r of p.records) {
        lines.push(`${formatTraceTime(r.timeNs)}: ${r.node}`);
        for (const l of r.text.split('\n')) if (l.length > 0) lines.push(`  ${l}`);
      }
      lines.push('');
    }
    if (this.packets.length > shown.length) lines.push(`Limiting display to ${max} packets. To display more specify max.`);
    return lines.join('\n');
  }
}
