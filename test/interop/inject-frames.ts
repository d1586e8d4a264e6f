// Writes raw Ethernet frames (hex arguments) out of a Linux interface through an AF_PACKET
// socket, for tests that need frames no kernel stack would send (malformed ones, floods).
// Run inside a test's namespace: `ip netns exec <ns> node --import tsx inject-frames.ts
// <ifname> <hex-frame>…` or `… <ifname> --flood <hex-frame> <count>` (bounded).

import { Linux, linux } from '../../src/vnet/devices/linux.ts';

const [ifname, ...rest] = process.argv.slice(2);
const lib = linux();
const ifIndex = lib.ifNameToIndex(ifname);
if (ifIndex === 0) throw new Error(`no interface ${ifname}`);
const fd = lib.socket(Linux.AF_PACKET, Linux.SOCK_RAW | Linux.SOCK_CLOEXEC, 0x0300);
if (fd < 0) throw new Error(`socket: ${lib.strerror(lib.errno())}`);
const address = new Uint8Array(20);
const view = new DataView(address.buffer);
view.setUint16(0, Linux.AF_PACKET, true);
view.setUint16(2, Linux.ETH_P_ALL, false);
view.setInt32(4, ifIndex, true);
if (lib.bind(fd, address, 20) < 0) throw new Error(`bind: ${lib.strerror(lib.errno())}`);
const memory = new Uint8Array(65536);
const base = lib.addressOf(memory);
let sent = 0;
let failed = 0;
const send = (frame: Uint8Array): void => {
  memory.set(frame, 0);
  if (lib.write(fd, base, frame.length) < 0) failed++;
  else sent++;
};
if (rest[0] === '--flood') {
  const frame = Buffer.from(rest[1], 'hex');
  const count = Number(rest[2]);
  const started = process.hrtime.bigint();
  memory.set(frame, 0);
  for (let i = 0; i < count; i++) {
    if (lib.write(fd, base, frame.length) < 0) failed++;
    else sent++;
  }
  const ns = Number(process.hrtime.bigint() - started);
  console.log(JSON.stringify({ sent, failed, seconds: ns / 1e9 }));
} else {
  for (const hex of rest) send(Buffer.from(hex, 'hex'));
  console.log(JSON.stringify({ sent, failed }));
}
lib.close(fd);
