// `pcap trace` (VPP's vnet/interface_cli.c): start a capture of received, sent and/or
// dropped packets to a pcap file in /tmp, show its status, stop it. The capture itself
// is src/vnet/pcap-trace.ts.
//
//   pcap trace [rx] [tx] [drop] [max <n>] [max-bytes-per-pkt <n>] [intfc <if>|any] [file <name>]
//   pcap trace status
//   pcap trace off

import { CliError, type CliRegistry } from '../../vlib/cli.ts';
import type { Engine } from '../../vlib/engine.ts';
import { ANY_INTERFACE } from '../pcap-trace.ts';
import { readInterface } from './interface-commands.ts';
import type {} from '../vnet.ts';

type Registry = CliRegistry<Engine>;

export function registerPcapCommands(cli: Registry): void {
  cli.register({
    path: 'pcap trace',
    short: 'Capture received, sent and/or dropped packets to a pcap file',
    usage: 'pcap trace [rx] [tx] [drop] [off] [status] [max <n>] [max-bytes-per-pkt <n>] [intfc <interface>|any] [file <name>]',
    json: true,
    action(vm, input, out) {
      let rx = false;
      let tx = false;
      let drop = false;
      let off = false;
      let status = false;
      let max: number | undefined;
      let maxBytes: number | undefined;
      let swIfIndex: number | undefined;
      let file: string | undefined;
      while (!input.atEnd()) {
        if (input.keyword('rx')) rx = true;
        else if (input.keyword('tx')) tx = true;
        else if (input.keyword('drop')) drop = true;
        else if (input.keyword('off')) off = true;
        else if (input.keyword('status')) status = true;
        else if (input.keyword('max')) max = input.expectNumber('max', { min: 1, max: 0x7fffffff });
        else if (input.keyword('max-bytes-per-pkt')) maxBytes = input.expectNumber('max-bytes-per-pkt', { min: 32, max: 9000 });
        else if (input.keyword('intfc') || input.keyword('interface')) {
          swIfIndex = input.keyword('any') ? ANY_INTERFACE : readInterface(vm, input);
        } else if (input.keyword('file')) file = input.expectWord('file name');
        else input.fail();
      }
      const pcap = vm.vnet.pcapTrace;
      const names = (sw: number): string => vm.vnet.interfaces.names[sw] ?? String(sw);
      if (status) {
        // As VPP: other words given with `status` are ignored.
        out.json({ rx: pcap.rxEnabled, tx: pcap.txEnabled, drop: pcap.dropEnabled, captured: pcap.captured, max: pcap.max, file: pcap.path });
        for (const line of pcap.status(names)) out.print(line);
        return;
      }
      if (off) {
        if (rx || tx || drop) throw new CliError("'off' cannot be given with rx, tx or drop");
        const result = pcap.stop();
        out.json(result);
        out.print(result.captured > 0 ? `Write ${result.captured} packets to ${result.path}, and stop capture...` : 'No packets captured...');
        return;
      }
      const path = pcap.start({ rx, tx, drop, max, maxBytesPerPacket: maxBytes, swIfIndex, file });
      out.json({ rx, tx, drop, max: pcap.max, file: path });
    },
  });
}
