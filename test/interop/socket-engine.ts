// A vecnet engine in its own process, for tests that need one without privileges: with
// `--uid <n>` first it drops to that user and group before anything else (started as root
// inside a test's namespace by `ip netns exec`, it then runs unprivileged there); runs the
// CLI lines given as arguments (awaiting each), starts the engine, prints `ready <json>`,
// then answers CLI lines read from stdin (one JSON line each) until stdin closes.

import { createInterface } from 'node:readline';
import { createEngine } from '../../src/index.ts';

let args = process.argv.slice(2);
if (args[0] === '--uid') {
  const uid = Number(args[1]);
  process.setgroups?.([]);
  process.setgid?.(uid);
  process.setuid?.(uid);
  args = args.slice(2);
}
const vm = createEngine();
const made: string[] = [];
for (const line of args) made.push(await vm.cliAsync(line));
vm.start();
console.log(`ready ${JSON.stringify({ uid: process.getuid?.(), made })}`);
const rl = createInterface({ input: process.stdin });
rl.on('line', async (line) => {
  try {
    console.log(JSON.stringify({ ok: true, text: await vm.cliAsync(line) }));
  } catch (error) {
    console.log(JSON.stringify({ ok: false, text: (error as Error).message }));
  }
});
rl.on('close', () => {
  vm.stop();
  vm.vnet.devices.closeAll();
  process.exit(0);
});
