// What a plugin is: one registration object (VPP's VLIB_PLUGIN_REGISTER plus the nodes,
// features, CLI commands and config section the plugin's .so would register), default-
// exported from the plugin folder's `index.ts` or `index.js`. `definePlugin` is an identity
// function, as `defineNode` is: it only gives the object its type. The loader
// (plugin-loader.ts) reads the definition, checks it, and adds what it declares to the
// engine only once the plugin has loaded and initialised, so a broken plugin leaves no trace.

import type { CliCommand } from './cli.ts';
import type { Engine } from './engine.ts';
import type { FeatureArcDefinition, FeatureDefinition } from './feature-arc.ts';
import type { NodeDefinition } from './node.ts';
import type { ConfigSectionSpec, ConfigValues } from './startup-conf.ts';

/**
 * A next arc added to an existing node: `from` gains a next to `to` (VPP's
 * vlib_node_add_next), such as a new ethertype handed from `ethernet-input` to a plugin
 * node. The index comes back from `vm.addNext(from, to)` in `init` when a plugin needs it.
 */
export interface NextArcDefinition {
  readonly from: string;
  readonly to: string;
}

/** Everything a plugin adds to the engine. Only `name` and `description` are required. */
export interface PluginDefinition<S extends ConfigSectionSpec = ConfigSectionSpec> {
  /**
   * The plugin's name: the name of its folder under a plugin path, which is also the name
   * `plugins { plugin <name> { disable } }` in startup.conf uses.
   */
  readonly name: string;
  /** One line for `show plugins`. */
  readonly description: string;
  /** Shown by `show plugins`; vecnet's own version when absent. */
  readonly version?: string;
  /** Graph nodes, defined with `defineNode` as the built-in ones are. */
  readonly nodes?: readonly NodeDefinition[];
  /** New feature arcs (rare: most plugins put nodes on vecnet's arcs with `features`). */
  readonly featureArcs?: readonly FeatureArcDefinition[];
  /** Nodes placed on feature arcs (`ip4-unicast`, `device-input`, …) with before/after constraints. */
  readonly features?: readonly FeatureDefinition[];
  /** Next arcs from existing nodes to the plugin's nodes. */
  readonly arcs?: readonly NextArcDefinition[];
  /** CLI commands, in the same registry as vecnet's own (`vecnetctl`, `exec`, `vm.cli`). */
  readonly commands?: readonly CliCommand<Engine>[];
  /**
   * The plugin's startup.conf section (`defineConfigSection`). It is registered before the
   * configuration is checked, so `my-plugin { … }` in startup.conf is validated like any
   * built-in section; its values are handed to `init`.
   */
  readonly config?: S;
  /**
   * Runs once at start, after the configuration is read and before the plugin's nodes,
   * arcs, features and commands are added, so a plugin whose `init` throws is reported
   * and left out entirely. Next arcs to the plugin's nodes can be made here already
   * (`vm.addNext`, `vm.vnet.registerEthernetType`, `vm.vnet.udpLocal.register`): arcs are
   * resolved by name when the node is added. `config` holds the plugin's section values,
   * defaults filled in. May be async.
   */
  init?(vm: Engine, config: ConfigValues<S>): void | Promise<void>;
  /** Runs once when the engine shuts down (SIGINT/SIGTERM), in reverse load order. */
  exit?(vm: Engine): void | Promise<void>;
}

/** Identity function that checks a plugin definition's shape; the one way to define a plugin. */
export function definePlugin<const S extends ConfigSectionSpec>(definition: PluginDefinition<S>): PluginDefinition<S> {
  return definition;
}
