// The host stack's registration for the composition root: the session layer (with TCP), its
// CLI and the builtin echo apps' CLI, on one engine. `createEngine()` calls
// `registerHostStack(vm)`; the daemon then calls `applyHostStackConfig(vm, config.session,
// config.tcp)` with the parsed startup.conf (`session { enable }`, `tcp { cc-algo … }`).

import type { Engine } from './vlib/engine.ts';
import { registerSessionLayer } from './session/cli.ts';
import { registerEchoCommands } from './apps/echo.ts';
import type { HostStack } from './session/host-stack.ts';

export { applyHostStackConfig } from './session/cli.ts';
export {
  hostStackOf, HostStack, Session, SessionError, SessionState,
  type App, type AppCallbacks, type AttachOptions, type SessionErrorCode, type TransportName,
} from './session/host-stack.ts';
export { DatagramHeader } from './session/datagram.ts';

const withApps = new WeakSet<Engine>();

export function registerHostStack(vm: Engine): HostStack {
  const host = registerSessionLayer(vm);
  if (!withApps.has(vm)) {
    withApps.add(vm);
    registerEchoCommands(vm.commands);
  }
  return host;
}
