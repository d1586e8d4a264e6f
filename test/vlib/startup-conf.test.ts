// startup.conf: transcripts of config text in and the exact one-line error out for every
// error path; good configs to their typed values; the schema registry; and properties —
// random token soup only ever fails with a ConfigError that points at its token, a tree
// prints and parses back to itself, and a random valid config, written any way VPP's
// syntax allows, parses to the values it was generated from and prints back to them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  BUILTIN_CONFIG_SECTIONS,
  COMMAND_LINE,
  ConfigError,
  ConfigSchema,
  ConfigSchemaError,
  createConfigSchema,
  defineConfigSection,
  formatConfigTree,
  formatConfigUsage,
  formatConfigWord,
  formatStartupConfig,
  parseCommandLineConfig,
  parseConfigTree,
  parseStartupConfig,
  PLUGINS_SECTION,
  sectionValues,
  type ConfigItem,
  type ConfigItems,
  type ConfigNode,
  type ConfigSection,
  type ConfigSectionSpec,
  type SectionValues,
  type StartupConfig,
} from '../../src/vlib/startup-conf.ts';

const FILE = 'startup.conf';

/** Runs `run` and returns the ConfigError it throws; anything else fails the test. */
function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  assert.fail('expected a ConfigError');
}

const DEFAULT_SECTIONS: StartupConfig['sections'] = {
  unix: {
    nodaemon: false,
    interactive: false,
    cliListen: '/run/vecnet/cli.sock',
    cliPrompt: 'vecnet# ',
    exec: undefined,
    log: undefined,
    gid: undefined,
    cliNoPager: false,
    fullCoredump: false,
  },
  cpu: { workers: 0, mainCore: undefined, corelistWorkers: [], skipCores: 0 },
  buffers: { buffersPerNuma: 16384, defaultDataSize: 2048, pageSize: 'default' },
  plugins: { paths: [], plugin: {} },
  session: { enable: false, evtQsMemfdSeg: false, eventQueueLength: 2048, preallocatedSessions: 0, useAppSocketApi: false },
  tcp: { ccAlgo: 'cubic', maxRxFifo: 32 * 1024 * 1024, noTxPacing: false, mtu: 1500, timewaitTime: 60, keepaliveIdle: 7200, keepaliveInterval: 75, keepaliveProbes: 9, synBacklog: 1024, noSynCookies: false },
};

/** The defaults with `changes` laid over, section by section. */
function withDefaults(changes: Record<string, SectionValues>): StartupConfig['sections'] {
  const sections = structuredClone(DEFAULT_SECTIONS);
  for (const [name, values] of Object.entries(changes)) Object.assign(sections[name], values);
  return sections;
}

const UNIX_KEYS = 'nodaemon, interactive, cli-listen, cli-prompt, exec, startup-config, log, gid, cli-no-pager, full-coredump';
const SECTION_NAMES = 'unix, cpu, buffers, plugins, session, tcp';

describe('startup.conf errors (transcripts)', () => {
  // Config text in, the exact single line out.
  const cases: readonly (readonly [string, string])[] = [
    // Tree: braces, comments, quotes.
    [
      'unix {\n  nodaemon\n}\ncpu {\n  workers 2\n}\n\ntcp {\n  plugins {\n    mtu 1400\n  }\n',
      "startup.conf:8:5: unbalanced '{' opened here: 'tcp {' (expected a matching '}' before end of file)",
    ],
    ['unix { nodaemon plugin x { disable }', "startup.conf:1:6: unbalanced '{' opened here: 'unix {' (expected a matching '}' before end of file)"],
    ['unix { nodaemon }\n}', "startup.conf:2:1: unbalanced '}': '}' (expected a section name or end of file)"],
    ['unix { nodaemon } /* until\nthe end', "startup.conf:1:19: unterminated comment: '/*' (expected '*/' before end of file)"],
    ['unix {\n  cli-prompt "vpp# \n}', 'startup.conf:2:14: unterminated quoted string: \'"vpp# \' (expected a closing \'"\' on the same line)'],
    ['unix { exec "/tmp/a', 'startup.conf:1:13: unterminated quoted string: \'"/tmp/a\' (expected a closing \'"\' on the same line)'],
    ['unix nodaemon', "startup.conf:1:1: missing '{' after section name: 'unix' (expected unix { ... })"],
    ['unix { nodaemon }\ncpu', "startup.conf:2:1: missing '{' after section name: 'cpu' (expected cpu { ... })"],
    ['{ nodaemon }', "startup.conf:1:1: missing name before '{': '{' (expected name { ... })"],
    ['unix { nodaemon { } }', "startup.conf:1:17: unexpected block for 'nodaemon' in section 'unix': '{' (expected nodaemon with no block)"],
    ['unix { { } }', "startup.conf:1:8: missing name before '{': '{' (expected name { ... })"],
    // Sections and items.
    ['unx { nodaemon }', `startup.conf:1:1: unknown section 'unx' (expected one of: ${SECTION_NAMES})`],
    ['unix { }\n  "my section" { }', `startup.conf:2:3: unknown section 'my section' (expected one of: ${SECTION_NAMES})`],
    ['unix {\n  nodaemon\n    cli-listn /tmp/v.sock\n}', `startup.conf:3:5: unknown item in section 'unix': 'cli-listn' (expected one of: ${UNIX_KEYS})`],
    ['unix { Nodaemon }', `startup.conf:1:8: unknown item in section 'unix': 'Nodaemon' (expected one of: ${UNIX_KEYS})`],
    ['buffers { default 4096 }', "startup.conf:1:11: unknown item in section 'buffers': 'default' (expected one of: buffers-per-numa, default-data-size, default data-size, page-size)"],
    ['plugins { plugin x.so { enabel } }', "startup.conf:1:25: unknown item in 'plugin x.so' in section 'plugins': 'enabel' (expected one of: enable, disable)"],
    // Values.
    [
      'unix {\n  nodaemon\n}\n\n# workers as words\n\ncpu { main-core 1  workers two }',
      "startup.conf:7:28: bad value for 'workers' in section 'cpu': 'two' (expected an integer 0..64)",
    ],
    ['cpu { workers 65 }', "startup.conf:1:15: bad value for 'workers' in section 'cpu': '65' (expected an integer 0..64)"],
    ['cpu { workers 0x41 }', "startup.conf:1:15: bad value for 'workers' in section 'cpu': '0x41' (expected an integer 0..64)"],
    ['cpu { workers -1 }', "startup.conf:1:15: bad value for 'workers' in section 'cpu': '-1' (expected an integer 0..64)"],
    ['cpu { workers 2k }', "startup.conf:1:15: bad value for 'workers' in section 'cpu': '2k' (expected an integer 0..64)"],
    ['cpu { corelist-workers 5-3 }', "startup.conf:1:24: bad value for 'corelist-workers' in section 'cpu': '5-3' (expected a core list such as 1,3-5 with cores 0..1023)"],
    ['cpu { corelist-workers 1,,2 }', "startup.conf:1:24: bad value for 'corelist-workers' in section 'cpu': '1,,2' (expected a core list such as 1,3-5 with cores 0..1023)"],
    ['cpu { corelist-workers 0-99999999999 }', "startup.conf:1:24: bad value for 'corelist-workers' in section 'cpu': '0-99999999999' (expected a core list such as 1,3-5 with cores 0..1023)"],
    ['buffers { buffers-per-numa 0 }', "startup.conf:1:28: bad value for 'buffers-per-numa' in section 'buffers': '0' (expected an integer 1..4194304)"],
    [
      'buffers { page-size 3m }',
      "startup.conf:1:21: bad value for 'page-size' in section 'buffers': '3m' (expected default, default-hugepage or a power-of-two size 4k..1g, in bytes or with a k, m or g suffix)",
    ],
    ['tcp { max-rx-fifo 2g }', "startup.conf:1:19: bad value for 'max-rx-fifo' in section 'tcp': '2g' (expected a size 4k..1g, in bytes or with a k, m or g suffix)"],
    ['tcp { max-rx-fifo 64kb }', "startup.conf:1:19: bad value for 'max-rx-fifo' in section 'tcp': '64kb' (expected a size 4k..1g, in bytes or with a k, m or g suffix)"],
    ['tcp { cc-algo reno }', "startup.conf:1:15: bad value for 'cc-algo' in section 'tcp': 'reno' (expected one of: newreno, cubic)"],
    ['tcp { mtu 1e3 }', "startup.conf:1:11: bad value for 'mtu' in section 'tcp': '1e3' (expected an integer 68..65535)"],
    ['session { event-queue-length 100 }', "startup.conf:1:30: bad value for 'event-queue-length' in section 'session': '100' (expected an integer 2048..16777216)"],
    ['unix { gid "wheel group" }', "startup.conf:1:12: bad value for 'gid' in section 'unix': 'wheel group' (expected a group id or group name)"],
    ['unix { gid 4294967295 }', "startup.conf:1:12: bad value for 'gid' in section 'unix': '4294967295' (expected a group id or group name)"],
    ['unix { cli-listen "" }', "startup.conf:1:19: bad value for 'cli-listen' in section 'unix': '' (expected a path)"],
    ['plugins { path /usr/lib::/opt }', "startup.conf:1:16: bad value for 'path' in section 'plugins': '/usr/lib::/opt' (expected a path, or several joined by ':')"],
    // Missing and misplaced values.
    ['unix { cli-listen }', "startup.conf:1:19: missing value for 'cli-listen' in section 'unix': '}' (expected a path)"],
    ['unix { nodaemon cli-listen\n}\nunix { /tmp/v.sock }', "startup.conf:2:1: missing value for 'cli-listen' in section 'unix': '}' (expected a path)"],
    ['cpu {\n  workers\n}', "startup.conf:3:1: missing value for 'workers' in section 'cpu': '}' (expected an integer 0..64)"],
    ['unix { cli-listen /tmp/x { } }', "startup.conf:1:26: unexpected block for 'cli-listen' in section 'unix': '{' (expected cli-listen <path>)"],
    ['unix { cli-listen { } }', "startup.conf:1:19: unexpected block for 'cli-listen' in section 'unix': '{' (expected cli-listen <path>)"],
    ['plugins { plugin x.so disable }', "startup.conf:1:18: missing block for 'plugin' in section 'plugins': 'x.so' (expected plugin <name> { enable | disable })"],
    ['plugins { plugin { disable } }', "startup.conf:1:18: missing name for 'plugin' in section 'plugins': '{' (expected plugin <name> { enable | disable })"],
    ['plugins { path /x plugin }', "startup.conf:1:26: missing name for 'plugin' in section 'plugins': '}' (expected plugin <name> { enable | disable })"],
    // Given twice, or in conflict.
    ['cpu {\n  workers 2\n}\ncpu { workers 4 }', "startup.conf:4:7: duplicate item in section 'cpu': 'workers' (already given at line 2)"],
    ['unix { nodaemon nodaemon }', "startup.conf:1:17: duplicate item in section 'unix': 'nodaemon' (already given at line 1)"],
    ['unix {\n  exec /etc/a.cli\n  startup-config /etc/b.cli\n}', "startup.conf:3:3: duplicate item in section 'unix': 'startup-config' (already given as 'exec' at line 2)"],
    [
      'plugins {\n  plugin a.so { disable }\n  plugin a.so { enable }\n}',
      "startup.conf:3:10: duplicate 'plugin' in section 'plugins': 'a.so' (already given at line 2)",
    ],
    [
      'plugins { plugin default { disable enable } }',
      "startup.conf:1:36: conflicting item in 'plugin default' in section 'plugins': 'enable' (expected only one of: enable, disable)",
    ],
    // Tokens are shown on one line, control characters escaped and long ones cut.
    ['unix { cli-prompt ok log "a\tb" gid "x\u0001y" }', "startup.conf:1:36: bad value for 'gid' in section 'unix': 'x\\x01y' (expected a group id or group name)"],
    [
      `unix { ${'x'.repeat(80)} }`,
      `startup.conf:1:8: unknown item in section 'unix': '${'x'.repeat(57)}...' (expected one of: ${UNIX_KEYS})`,
    ],
  ];

  for (const [text, expected] of cases) {
    it(expected.slice(FILE.length + 1, FILE.length + 60), () => {
      const error = configError(() => parseStartupConfig(text, FILE));
      assert.equal(error.message, expected);
      assert.equal(error.code, 'ECONFIG');
      assert.equal(error.file, FILE);
      assert.ok(!/[\r\n]/.test(error.message), 'one line');
      assert.ok(error.message.startsWith(`${FILE}:${error.line}:${error.column}: `));
    });
  }

  it('carries the offending token and its position as fields', () => {
    const error = configError(() => parseStartupConfig('unix {\n  nodaemon\n}\ncpu {\n  workers two\n}\n', FILE));
    assert.deepEqual({ file: error.file, line: error.line, column: error.column, token: error.token }, {
      file: FILE,
      line: 5,
      column: 11,
      token: 'two',
    });
    assert.ok(error instanceof Error);
  });

  it('names the command line as the file for argv configs', () => {
    assert.equal(
      configError(() => parseCommandLineConfig(['unix', '{', 'nodaemon', 'cli-lisen', '/tmp/v.sock', '}'])).message,
      `command line:1:17: unknown item in section 'unix': 'cli-lisen' (expected one of: ${UNIX_KEYS})`,
    );
    assert.equal(
      configError(() => parseCommandLineConfig(['cpu', '{', 'workers', 'two', '}'])).message,
      "command line:1:15: bad value for 'workers' in section 'cpu': 'two' (expected an integer 0..64)",
    );
    assert.equal(
      configError(() => parseCommandLineConfig(['unix', '{', 'nodaemon'])).message,
      "command line:1:6: unbalanced '{' opened here: 'unix {' (expected a matching '}' before end of file)",
    );
    assert.equal(configError(() => parseCommandLineConfig(['unix{', 'nodaemon}}'])).file, COMMAND_LINE);
  });
});

describe('startup.conf good configs', () => {
  it('fills in every default for an empty config', () => {
    const config = parseStartupConfig('', FILE);
    assert.deepEqual(config.sections, DEFAULT_SECTIONS);
    assert.equal(config.unix.cliListen, '/run/vecnet/cli.sock');
    assert.equal(config.unix.cliPrompt, 'vecnet# ');
    assert.equal(config.buffers.buffersPerNuma, 16384);
    assert.equal(config.buffers.defaultDataSize, 2048);
    assert.equal(config.cpu.workers, 0);
    assert.deepEqual(config.plugins.paths, []);
    assert.deepEqual(parseStartupConfig('  # nothing but a comment\n/* and\nanother */\n', FILE).sections, DEFAULT_SECTIONS);
  });

  it('reads a full file with comments in odd places', () => {
    const text = `# vecnet startup.conf
unix {   # the process
  nodaemon
  cli-listen /* where vecnetctl connects */ /run/vecnet/cli.sock
  cli-prompt "vpp# "   # quoted: it ends in a space
  log /var/log/vecnet.log
  startup-config /etc/vecnet/setup.cli
  gid vpp
  full-coredump
}
cpu
{
  main-core 1
  corelist-workers 2-3,6
  workers 3
}
buffers { buffers-per-numa 0x8000 default data-size 9216 page-size default-hugepage }
plugins {
  path /usr/lib/vecnet_plugins:/opt/vecnet/plugins
  path "/home/me/my plugins"
  plugin default { disable }
  plugin dpdk_plugin.so { enable }   /* the only one */
}
session { enable use-app-socket-api event-queue-length 4096 }
tcp {
  cc-algo newreno
  max-rx-fifo 4m
  no-tx-pacing
  mtu 9000
}
`;
    const config = parseStartupConfig(text, FILE);
    assert.deepEqual(
      config.sections,
      withDefaults({
        unix: {
          nodaemon: true,
          cliListen: '/run/vecnet/cli.sock',
          cliPrompt: 'vpp# ',
          log: '/var/log/vecnet.log',
          exec: '/etc/vecnet/setup.cli',
          gid: 'vpp',
          fullCoredump: true,
        },
        cpu: { mainCore: 1, corelistWorkers: [2, 3, 6], workers: 3 },
        buffers: { buffersPerNuma: 0x8000, defaultDataSize: 9216, pageSize: 'default-hugepage' },
        plugins: {
          paths: ['/usr/lib/vecnet_plugins', '/opt/vecnet/plugins', '/home/me/my plugins'],
          plugin: { default: { enable: false, disable: true }, 'dpdk_plugin.so': { enable: true, disable: false } },
        },
        session: { enable: true, useAppSocketApi: true, eventQueueLength: 4096 },
        tcp: { ccAlgo: 'newreno', maxRxFifo: 4 << 20, noTxPacing: true, mtu: 9000, timewaitTime: 60, keepaliveIdle: 7200, keepaliveInterval: 75, keepaliveProbes: 9, synBacklog: 1024, noSynCookies: false },
      }),
    );
    // The typed fields are the same objects as the per-section values.
    assert.equal(config.unix, config.sections.unix);
    assert.equal(config.tcp.ccAlgo, 'newreno');
    assert.equal(config.plugins.plugin['dpdk_plugin.so'].enable, true);
  });

  it('reads one-line configs, braces against words, and CRLF files alike', () => {
    const expected = withDefaults({ unix: { nodaemon: true, cliListen: '/tmp/v.sock' }, cpu: { workers: 2 } });
    for (const text of [
      'unix { nodaemon cli-listen /tmp/v.sock } cpu { workers 2 }',
      'unix{nodaemon cli-listen /tmp/v.sock}cpu{workers 2}',
      'unix {\r\n  nodaemon\r\n  cli-listen /tmp/v.sock\r\n}\r\ncpu {\r\n  workers 2 # two\r\n}\r\n',
      '\tunix\n{\nnodaemon\n}\nunix { cli-listen\n\n/tmp/v.sock }\n/**/cpu /* x */{workers /*\n*/2}',
    ]) {
      assert.deepEqual(parseStartupConfig(text, FILE).sections, expected, text);
    }
  });

  it('takes quoted values with spaces, braces, comment marks and escapes', () => {
    const config = parseStartupConfig(
      String.raw`unix { cli-prompt "say \"hi\" {#} /* \\ " exec "/tmp/a b.cli" log "C:\temp" } plugins { plugin "odd name.so" { disable } }`,
      FILE,
    );
    assert.equal(config.unix.cliPrompt, 'say "hi" {#} /* \\ ');
    assert.equal(config.unix.exec, '/tmp/a b.cli');
    assert.equal(config.unix.log, 'C:\temp'); // `\t` is an escape inside quotes
    assert.deepEqual(config.plugins.plugin, { 'odd name.so': { enable: false, disable: true } });
    // Quotes around a key are only quotes: the word still names the item.
    assert.equal(parseStartupConfig('unix { "nodaemon" }', FILE).unix.nodaemon, true);
  });

  it('starts comments only where a word would start', () => {
    const config = parseStartupConfig('unix { cli-prompt vpp# log /tmp/a*/b } # done', FILE);
    assert.equal(config.unix.cliPrompt, 'vpp#');
    assert.equal(config.unix.log, '/tmp/a*/b');
  });

  it('reads integers in decimal or hex and sizes with k, m, g suffixes', () => {
    const config = parseStartupConfig(
      'cpu { workers 0x10 skip-cores 007 } buffers { buffers-per-numa 0X1f page-size 2M } tcp { max-rx-fifo 64k mtu 0x5dc }',
      FILE,
    );
    assert.equal(config.cpu.workers, 16);
    assert.equal(config.cpu.skipCores, 7);
    assert.equal(config.buffers.buffersPerNuma, 31);
    assert.equal(config.buffers.pageSize, 2 * 1024 * 1024);
    assert.equal(config.tcp.maxRxFifo, 64 * 1024);
    assert.equal(config.tcp.mtu, 1500);
    assert.equal(parseStartupConfig('tcp { max-rx-fifo 1g }', FILE).tcp.maxRxFifo, 1 << 30);
    assert.equal(parseStartupConfig('tcp { max-rx-fifo 0x10k }', FILE).tcp.maxRxFifo, 16 * 1024);
    assert.equal(parseStartupConfig('buffers { page-size 4096 }', FILE).buffers.pageSize, 4096);
    assert.equal(parseStartupConfig('unix { gid 0x3e8 }', FILE).unix.gid, 1000);
  });

  it('merges a section given twice, as VPP does', () => {
    const config = parseStartupConfig('plugins { path /a } unix { nodaemon } plugins { path /b plugin x.so { disable } }', FILE);
    assert.deepEqual(config.plugins, { paths: ['/a', '/b'], plugin: { 'x.so': { enable: false, disable: true } } });
  });

  it('keeps a plugin called __proto__ as an ordinary entry', () => {
    const config = parseStartupConfig('plugins { plugin __proto__ { disable } }', FILE);
    assert.ok(Object.hasOwn(config.plugins.plugin, '__proto__'));
    assert.deepEqual(Object.keys(config.plugins.plugin), ['__proto__']);
    assert.equal(Object.getPrototypeOf(config.plugins.plugin), Object.prototype);
  });

  it('reads the whole config from argv words', () => {
    const config = parseCommandLineConfig(['unix', '{', 'nodaemon', 'cli-listen', '/tmp/v.sock', '}', 'cpu', '{', 'workers', '2', '}']);
    assert.deepEqual(config.sections, withDefaults({ unix: { nodaemon: true, cliListen: '/tmp/v.sock' }, cpu: { workers: 2 } }));
    // One argv word may hold a whole section, and a value with a space needs config quotes.
    assert.equal(parseCommandLineConfig(['unix { interactive }', 'unix', '{', 'cli-prompt', '"vpp# "', '}']).unix.cliPrompt, 'vpp# ');
    assert.deepEqual(parseCommandLineConfig([]).sections, DEFAULT_SECTIONS);
  });

  it('prints values back as startup.conf text', () => {
    const config = parseStartupConfig(
      'unix { nodaemon cli-prompt "vpp# " } cpu { corelist-workers 6,2,3,4 } tcp { max-rx-fifo 65536 } plugins { plugin x { } }',
      FILE,
    );
    assert.equal(
      formatStartupConfig(config),
      'unix {\n  nodaemon\n  cli-prompt "vpp# "\n}\ncpu {\n  corelist-workers 2-4,6\n}\nplugins {\n  plugin x { }\n}\ntcp {\n  max-rx-fifo 64k\n}\n',
    );
    assert.equal(formatStartupConfig(parseStartupConfig('', FILE)), '');
  });
});

describe('startup.conf tree', () => {
  it('keeps the line and column of every word, name and brace', () => {
    const sections = parseConfigTree('unix {\n  nodaemon\n  plugin "a b" { disable }\n}\n', FILE);
    assert.deepEqual(sections, [
      {
        type: 'block',
        name: 'unix',
        quoted: false,
        line: 1,
        column: 1,
        openLine: 1,
        openColumn: 6,
        closeLine: 4,
        closeColumn: 1,
        items: [
          { type: 'word', text: 'nodaemon', quoted: false, line: 2, column: 3 },
          { type: 'word', text: 'plugin', quoted: false, line: 3, column: 3 },
          {
            type: 'block',
            name: 'a b',
            quoted: true,
            line: 3,
            column: 10,
            openLine: 3,
            openColumn: 16,
            closeLine: 3,
            closeColumn: 26,
            items: [{ type: 'word', text: 'disable', quoted: false, line: 3, column: 18 }],
          },
        ],
      },
    ]);
  });

  it('does not recurse on deep nesting', () => {
    const depth = 20000;
    const text = `${'a { '.repeat(depth)}${'} '.repeat(depth)}`;
    let node: ConfigNode = parseConfigTree(text, FILE)[0];
    let levels = 1;
    while (node.type === 'block' && node.items.length > 0) {
      node = node.items[0];
      levels++;
    }
    assert.equal(levels, depth);
  });

  it('prints words bare when it can and quoted when it must', () => {
    assert.equal(formatConfigWord('/tmp/v.sock'), '/tmp/v.sock');
    assert.equal(formatConfigWord('vpp#'), 'vpp#');
    assert.equal(formatConfigWord('vpp# '), '"vpp# "');
    assert.equal(formatConfigWord('#x'), '"#x"');
    assert.equal(formatConfigWord('/*x'), '"/*x"');
    assert.equal(formatConfigWord(''), '""');
    assert.equal(formatConfigWord('a"b\\c\nd'), '"a\\"b\\\\c\\nd"');
  });

  /** A tree without positions, to compare what was written with what was read. */
  const shape = (nodes: readonly ConfigNode[]): unknown =>
    nodes.map((node) => (node.type === 'word' ? node.text : { name: node.name, items: shape(node.items) }));

  const wordArbitrary = fc.oneof(
    fc.constantFrom('unix', 'nodaemon', 'plugin', 'x.so', '#', '/*', '*/', '"', '', ' ', 'a b', '{', '}', '\\', 'vpp#'),
    fc.string({ maxLength: 8 }),
    fc.string({ unit: 'binary', maxLength: 4 }),
  );
  const { node: nodeArbitrary } = fc.letrec<{ node: unknown }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      wordArbitrary,
      fc.record({ name: wordArbitrary, items: fc.array(tie('node'), { maxLength: 4 }) }),
    ),
  }));
  type Shape = string | { name: string; items: Shape[] };

  function toTree(shapes: readonly Shape[]): ConfigNode[] {
    return shapes.map((s) =>
      typeof s === 'string'
        ? { type: 'word', text: s, quoted: false, line: 0, column: 0 }
        : { type: 'block', name: s.name, quoted: false, line: 0, column: 0, openLine: 0, openColumn: 0, closeLine: 0, closeColumn: 0, items: toTree(s.items) },
    );
  }

  it('prints any tree so that it parses back to itself', () => {
    const sectionsArbitrary = fc.array(fc.record({ name: wordArbitrary, items: fc.array(nodeArbitrary as fc.Arbitrary<Shape>, { maxLength: 5 }) }), {
      maxLength: 4,
    });
    fc.assert(
      fc.property(sectionsArbitrary, (shapes) => {
        const sections = toTree(shapes) as ConfigSection[];
        const text = formatConfigTree(sections);
        assert.deepEqual(shape(parseConfigTree(text, FILE)), shape(sections));
      }),
      { numRuns: 300 },
    );
  });
});

describe('startup.conf schema', () => {
  const RX = defineConfigSection({
    name: 'rx-sample',
    help: 'a plugin section',
    items: {
      'rx-queues': { kind: 'integer', min: 1, max: 16, default: 1, help: 'queues per interface' },
      interface: { kind: 'string', repeatable: true, field: 'interfaces', help: 'interface to poll' },
      mode: { kind: 'choice', choices: ['polling', 'interrupt'], help: 'rx mode' },
      defaults: {
        kind: 'block',
        help: 'for every device',
        items: { 'num-rx-desc': { kind: 'size', max: 1 << 16, default: 512, help: 'descriptors' } },
      },
      dev: {
        kind: 'block',
        named: true,
        help: 'per device',
        items: { 'num-rx-desc': { kind: 'size', max: 1 << 16, default: 1024, help: 'descriptors' } },
      },
    },
  });

  it('lets a plugin register a section and read its typed values', () => {
    const schema = createConfigSchema();
    schema.register(RX);
    const config = parseStartupConfig('rx-sample { rx-queues 4 interface eth0 interface eth1 dev 0000:00:03.0 { num-rx-desc 2k } }', FILE, schema);
    const values = sectionValues(config, RX);
    const queues: number = values.rxQueues;
    const mode: 'polling' | 'interrupt' | undefined = values.mode;
    assert.equal(queues, 4);
    assert.equal(mode, undefined);
    assert.deepEqual(values.interfaces, ['eth0', 'eth1']);
    assert.equal(values.dev['0000:00:03.0'].numRxDesc, 2048);
    assert.equal(
      configError(() => parseStartupConfig('rx-sample { rx-queues 0 }', FILE, schema)).message,
      "startup.conf:1:23: bad value for 'rx-queues' in section 'rx-sample': '0' (expected an integer 1..16)",
    );
    assert.equal(
      configError(() => parseStartupConfig('rxsample { }', FILE, schema)).message,
      `startup.conf:1:1: unknown section 'rxsample' (expected one of: ${SECTION_NAMES}, rx-sample)`,
    );
    // A block without a name: `key { items }`.
    assert.equal(sectionValues(parseStartupConfig('rx-sample { defaults { num-rx-desc 0x100 } }', FILE, schema), RX).defaults.numRxDesc, 256);
    assert.equal(
      configError(() => parseStartupConfig('rx-sample { defaults num-rx-desc 1 }', FILE, schema)).message,
      "startup.conf:1:22: missing block for 'defaults' in section 'rx-sample': 'num-rx-desc' (expected defaults { num-rx-desc <size> })",
    );
    assert.equal(
      configError(() => parseStartupConfig('rx-sample { defaults { }\n defaults { } }', FILE, schema)).message,
      "startup.conf:2:2: duplicate item in section 'rx-sample': 'defaults' (already given at line 1)",
    );
    assert.equal(
      configError(() => parseStartupConfig('rx-sample { defaults { num-rx-desc 1m } }', FILE, schema)).message,
      "startup.conf:1:36: bad value for 'num-rx-desc' in 'defaults' in section 'rx-sample': '1m' (expected a size 0..64k, in bytes or with a k, m or g suffix)",
    );
    // Absent sections read as their defaults.
    const defaults = { rxQueues: 1, interfaces: [], mode: undefined, defaults: { numRxDesc: 512 }, dev: {} };
    assert.deepEqual(sectionValues(parseStartupConfig('', FILE, schema), RX), defaults);
    assert.deepEqual(sectionValues({ sections: {} }, RX), defaults);
  });

  it('refuses a section name registered twice, naming it', () => {
    const schema = createConfigSchema();
    assert.throws(
      () => schema.register(defineConfigSection({ name: 'unix', items: {} })),
      (error: unknown) =>
        error instanceof ConfigSchemaError && error.code === 'EEXIST' && error.section === 'unix' && error.message === "config section 'unix' is already registered",
    );
    schema.register(RX);
    assert.throws(() => schema.register(RX), /config section 'rx-sample' is already registered/);
    assert.deepEqual(
      schema.sections.map((s) => s.name),
      [...BUILTIN_CONFIG_SECTIONS.map((s) => s.name), 'rx-sample'],
    );
  });

  it('refuses malformed declarations when they are made', () => {
    const bad: readonly [ConfigSectionSpec, RegExp][] = [
      [{ name: 'has space', items: {} }, /bad section name/],
      [{ name: 's', items: { 'Bad{key': { kind: 'flag', help: '' } } }, /bad key 'Bad\{key'/],
      [{ name: 's', items: { a: { kind: 'flag', help: '', aliases: ['b'] }, b: { kind: 'flag', help: '' } } }, /key 'b' declared twice/],
      [{ name: 's', items: { 'a-b': { kind: 'flag', help: '' }, aB: { kind: 'flag', help: '' } } }, /field 'aB' used twice/],
      [{ name: 's', items: { n: { kind: 'integer', min: 5, max: 1, help: '' } } }, /bad range for 'n'/],
      [{ name: 's', items: { n: { kind: 'integer', max: 10, default: 11, help: '' } } }, /default of 'n' is not a valid value/],
      [{ name: 's', items: { c: { kind: 'choice', choices: ['a'], default: 'b', help: '' } } }, /default of 'c' is not one of its choices/],
      [{ name: 's', items: { a: { kind: 'flag', help: '' } }, exclusive: [['a', 'z']] }, /exclusive group names unknown key 'z'/],
      [{ name: 's', items: { b: { kind: 'block', help: '', items: { 'x--y': { kind: 'flag', help: '' } } } } }, /'b': bad key 'x--y'/],
    ];
    for (const [spec, message] of bad) {
      assert.throws(() => defineConfigSection(spec), (error: unknown) => error instanceof ConfigSchemaError && error.code === 'EINVAL' && message.test(error.message));
    }
  });

  it('gives defaults for built-ins a schema does not hold', () => {
    const schema = new ConfigSchema();
    schema.register(RX);
    assert.equal(
      configError(() => parseStartupConfig('unix { nodaemon }', FILE, schema)).message,
      "startup.conf:1:1: unknown section 'unix' (expected one of: rx-sample)",
    );
    const config = parseStartupConfig('', FILE, schema);
    assert.deepEqual(config.unix, DEFAULT_SECTIONS.unix);
    assert.deepEqual(Object.keys(config.sections), ['rx-sample']);
  });

  it('describes how each item is written', () => {
    assert.equal(formatConfigUsage('plugin', PLUGINS_SECTION.items.plugin), 'plugin <name> { enable | disable }');
    assert.equal(formatConfigUsage('page-size', createConfigSchema().get('buffers')!.items['page-size']), 'page-size default|default-hugepage|<size>');
  });
});

// ---------------------------------------------------------------------------------------
// Properties

const SOUP_WORDS = [
  'unix', 'cpu', 'buffers', 'plugins', 'session', 'tcp', 'unx', 'nodaemon', 'cli-listen', 'exec', 'startup-config',
  'gid', 'workers', 'corelist-workers', 'page-size', 'default', 'data-size', 'default-data-size', 'path', 'plugin',
  'enable', 'disable', 'cc-algo', 'cubic', 'max-rx-fifo', 'event-queue-length', '0x10', '64k', '4m', '1g', '2-3,5',
  'two', '-1', '99999999999999999999', '/tmp/x', 'a:b', '::', '__proto__', 'constructor', '{', '}', '{}', '"', '"a b"',
  '""', '"\\', '#', '# c\n', '/*', '*/', '/* c */', '\\', '\u0000', 'é', '\u2028',
];

const rawSoupArbitrary = fc
  .array(
    fc.tuple(
      fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...SOUP_WORDS) }, { weight: 1, arbitrary: fc.string({ maxLength: 6 }) }),
      fc.constantFrom(' ', ' ', '\n', '\t', '', '\r\n'),
    ),
    { maxLength: 40 },
  )
  .map((pairs) => pairs.map(([word, gap]) => word + gap).join(''));

/** Soup on its own, or inside sections so the validator sees it too. */
const soupArbitrary = fc.oneof(
  rawSoupArbitrary,
  fc
    .array(fc.tuple(fc.constantFrom('unix', 'cpu', 'buffers', 'plugins', 'session', 'tcp', 'unx'), rawSoupArbitrary), { minLength: 1, maxLength: 3 })
    .map((sections) => sections.map(([name, body]) => `${name} { ${body} }`).join('\n')),
);

/** A ConfigError must point at its token: the source at line:column starts with it. */
function assertPointsAtToken(error: ConfigError, text: string, file: string): void {
  assert.ok(!/[\r\n\u2028\u2029]/.test(error.message), 'one line');
  assert.ok(error.message.startsWith(`${file}:${error.line}:${error.column}: `), error.message);
  const lines = text.split('\n');
  assert.ok(error.line >= 1 && error.line <= lines.length, error.message);
  const rest = lines[error.line - 1].slice(error.column - 1);
  const firstWord = error.token.split(' ')[0];
  assert.ok(
    rest.startsWith(firstWord) || rest.startsWith('"') || (error.message.includes("unbalanced '{'") && rest.startsWith('{')),
    `${error.message} at ${JSON.stringify(rest.slice(0, 20))}`,
  );
}

describe('startup.conf properties', () => {
  it('random token soup never throws anything but a ConfigError that points at its token', () => {
    fc.assert(
      fc.property(soupArbitrary, (text) => {
        try {
          parseStartupConfig(text, FILE);
        } catch (error) {
          if (!(error instanceof ConfigError)) throw error;
          assertPointsAtToken(error, text, FILE);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('random argv words never throw anything but a ConfigError', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constantFrom(...SOUP_WORDS), fc.string({ maxLength: 5 })), { maxLength: 20 }), (argv) => {
        try {
          parseCommandLineConfig(argv);
        } catch (error) {
          if (!(error instanceof ConfigError)) throw error;
          assert.equal(error.file, COMMAND_LINE);
          assertPointsAtToken(error, argv.join(' '), COMMAND_LINE);
        }
      }),
      { numRuns: 1000 },
    );
  });

  // A valid config is generated from the schema itself: for each section, some of its
  // items with values drawn by kind, each written in one of the ways the syntax allows
  // (decimal or hex, a size suffix, an alias, bare or quoted), alongside the values it
  // must parse to. The words are then laid out with any legal whitespace and comments.

  interface Entry {
    readonly words: readonly string[];
    readonly field: string;
    readonly value: unknown;
    readonly mode: 'set' | 'push' | 'entry';
    readonly name?: string;
  }

  const fieldOf = (key: string, item: ConfigItem): string =>
    item.field ?? key.replace(/[-_ ]([a-z0-9])/gi, (_, c: string) => c.toUpperCase());

  /** Bare when safe, else double quotes with the escapes the tokenizer knows; or quoted anyway. */
  const writeWord = (text: string): fc.Arbitrary<string> => {
    const quoted = `"${text.replace(/[\\"\n\t\r]/g, (c) => ({ '\n': '\\n', '\t': '\\t', '\r': '\\r' })[c] ?? `\\${c}`)}"`;
    const bareOk = text.length > 0 && !/[\s{}"]/.test(text) && !text.startsWith('#') && !text.startsWith('/*');
    return bareOk ? fc.constantFrom(text, quoted) : fc.constant(quoted);
  };

  const writeNumber = (value: number, size: boolean): fc.Arbitrary<string> => {
    const forms = [String(value), `0x${value.toString(16)}`, `0X${value.toString(16).toUpperCase()}`];
    if (size) {
      for (const [suffix, scale] of [['k', 1 << 10], ['m', 1 << 20], ['g', 1 << 30]] as const) {
        if (value % scale === 0) forms.push(`${value / scale}${suffix}`, `${value / scale}${suffix.toUpperCase()}`);
      }
    }
    return fc.constantFrom(...forms);
  };

  const textValue = fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('vpp# ', '#x', '/*', 'a b', '"', '\\', '{}'));
  const pathValue = (noColon: boolean): fc.Arbitrary<string> =>
    fc.string({ minLength: 1, maxLength: 10 }).filter((s) => !s.includes('\0') && !(noColon && s.includes(':')));

  /** A value for a non-block item and the words that write it. */
  function valueArbitrary(item: ConfigItem): fc.Arbitrary<{ words: string[]; values: unknown[] }> {
    const one = <T>(value: fc.Arbitrary<T>, write: (v: T) => fc.Arbitrary<string>) =>
      value.chain((v) => write(v).map((word) => ({ words: [word], values: [v as unknown] })));
    switch (item.kind) {
      case 'string':
        return one(textValue, writeWord);
      case 'path':
        if (item.separator !== undefined) {
          const separator = item.separator;
          return fc
            .array(pathValue(true), { minLength: 1, maxLength: 3 })
            .chain((paths) => writeWord(paths.join(separator)).map((word) => ({ words: [word], values: paths as unknown[] })));
        }
        return one(pathValue(false), writeWord);
      case 'integer':
      case 'size': {
        const min = item.min ?? 0;
        const max = item.max ?? 2 ** 40;
        const numbers = item.powerOfTwo
          ? fc.integer({ min: Math.ceil(Math.log2(Math.max(min, 1))), max: Math.floor(Math.log2(max)) }).map((e) => 2 ** e)
          : fc.integer({ min, max });
        const keyword = item.keywords?.length ? one(fc.constantFrom(...item.keywords), (k) => fc.constant(k)) : undefined;
        const number = one(numbers, (n) => writeNumber(n, item.kind === 'size'));
        return keyword === undefined ? number : fc.oneof(number, keyword);
      }
      case 'choice':
        return one(fc.constantFrom(...item.choices), writeWord);
      case 'corelist':
        return fc
          .uniqueArray(fc.integer({ min: 0, max: item.max ?? 1023 }), { minLength: 1, maxLength: 6 })
          .map((cores) => ({ words: [cores.join(',')], values: [[...cores].sort((a, b) => a - b)] }));
      case 'gid':
        return fc.oneof(
          one(fc.integer({ min: 0, max: 0xfffffffe }), (n) => fc.constantFrom(String(n), `0x${n.toString(16)}`)),
          one(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,8}\$?$/), writeWord),
        );
      default:
        throw new Error(`no values for ${item.kind}`);
    }
  }

  /** Some of `items`, each written with a spelling and a value, at most one per exclusive group. */
  function entriesArbitrary(items: ConfigItems, exclusive: readonly (readonly string[])[] = []): fc.Arbitrary<Entry[]> {
    const perItem = Object.entries(items).map(([key, item]): fc.Arbitrary<Entry[]> => {
      const spelling = fc.constantFrom(key, ...(item.aliases ?? [])).map((s) => s.split(' '));
      const field = fieldOf(key, item);
      if (item.kind === 'flag') {
        return fc.option(spelling.map((words): Entry[] => [{ words, field, value: true, mode: 'set' }]), { nil: [] as Entry[] }) as fc.Arbitrary<Entry[]>;
      }
      if (item.kind === 'block') {
        if (!item.named) throw new Error('unnamed blocks are not generated');
        const inner = item.items;
        const innerExclusive = item.exclusive;
        return fc.uniqueArray(fc.string({ maxLength: 8 }), { maxLength: 3 }).chain((names) =>
          fc.tuple(...names.map((name) => fc.tuple(spelling, writeWord(name), entriesArbitrary(inner, innerExclusive)))).map((blocks) =>
            blocks.map(([words, nameWord], i): Entry => {
              const nested = structuredClone(emptyValues(inner));
              const innerEntries = blocks[i][2];
              applyEntries(nested, innerEntries);
              return {
                words: [...words, nameWord, '{', ...innerEntries.flatMap((e) => e.words), '}'],
                field,
                value: nested,
                mode: 'entry',
                name: names[i],
              };
            }),
          ),
        );
      }
      const repeatable = 'repeatable' in item && item.repeatable === true;
      const entry = fc.tuple(spelling, valueArbitrary(item)).map(([words, v]): Entry[] =>
        repeatable
          ? [{ words: [...words, ...v.words], field, value: v.values, mode: 'push' }]
          : [{ words: [...words, ...v.words], field, value: v.values[0], mode: 'set' }],
      );
      return repeatable
        ? fc.array(entry, { maxLength: 3 }).map((lists) => lists.flat())
        : (fc.option(entry, { nil: [] as Entry[] }) as fc.Arbitrary<Entry[]>);
    });
    return fc
      .tuple(...perItem)
      .map((lists) => {
        // Keep the first member given of each exclusive group.
        const taken = new Set<string>();
        return lists.flat().filter((entry) => {
          const key = Object.entries(items).find(([k, i]) => fieldOf(k, i) === entry.field)![0];
          const group = exclusive.find((g) => g.includes(key));
          if (group === undefined) return true;
          if (group.some((k) => taken.has(k))) return false;
          taken.add(key);
          return true;
        });
      })
      .chain((entries) => fc.shuffledSubarray(entries, { minLength: entries.length, maxLength: entries.length }));
  }

  /** Values when nothing is given: taken from the literal defaults above, or empty flags. */
  function emptyValues(items: ConfigItems): SectionValues {
    const values: SectionValues = {};
    for (const [key, item] of Object.entries(items)) values[fieldOf(key, item)] = item.kind === 'flag' ? false : undefined;
    return values;
  }

  function applyEntries(values: SectionValues, entries: readonly Entry[]): void {
    for (const entry of entries) {
      if (entry.mode === 'set') values[entry.field] = entry.value;
      else if (entry.mode === 'push') (values[entry.field] as unknown[]).push(...(entry.value as unknown[]));
      else Object.defineProperty(values[entry.field], entry.name!, { value: entry.value, enumerable: true, writable: true, configurable: true });
    }
  }

  const GAPS = [' ', '\n', '\t', '   ', '\r\n', ' # a comment { "\n', ' /* c } */ ', '\n/* two\nlines */\n', ' #\n'];

  /** Words joined by any legal gaps; next to a brace the gap may also be nothing. */
  function layOut(words: readonly string[]): fc.Arbitrary<string> {
    return fc.array(fc.constantFrom(...GAPS, ''), { minLength: words.length, maxLength: words.length }).map((gaps) => {
      let text = '';
      for (let i = 0; i < words.length; i++) {
        const brace = (w: string | undefined) => w === '{' || w === '}';
        const gap = gaps[i] === '' && !(brace(words[i]) || brace(words[i + 1])) ? ' ' : gaps[i];
        text += words[i] + gap;
      }
      return text;
    });
  }

  const configArbitrary = fc
    .shuffledSubarray([...BUILTIN_CONFIG_SECTIONS])
    .chain((specs) =>
      fc.tuple(
        ...specs.map((spec) =>
          entriesArbitrary(spec.items, spec.exclusive).chain((entries) =>
            // Sometimes split a section over two blocks, which VPP reads as one.
            fc.integer({ min: 0, max: entries.length }).map((split) => ({ spec, entries, split })),
          ),
        ),
      ),
    )
    .chain((sections) => {
      const words: string[] = [];
      const expected = structuredClone(DEFAULT_SECTIONS);
      for (const { spec, entries, split } of sections) {
        const blocks = split > 0 && split < entries.length ? [entries.slice(0, split), entries.slice(split)] : [entries];
        for (const block of blocks) words.push(spec.name, '{', ...block.flatMap((e) => e.words), '}');
        applyEntries(expected[spec.name], entries);
      }
      return layOut(words).map((text) => ({ text, expected }));
    });

  it('a generated valid config, written any legal way, parses to the values it was made from', () => {
    fc.assert(
      fc.property(configArbitrary, ({ text, expected }) => {
        assert.deepEqual(parseStartupConfig(text, FILE).sections, expected);
      }),
      { numRuns: 500 },
    );
  });

  it('parsed values printed back in VPP syntax parse to the same values', () => {
    fc.assert(
      fc.property(configArbitrary, ({ text }) => {
        const config = parseStartupConfig(text, FILE);
        const printed = formatStartupConfig(config);
        assert.deepEqual(parseStartupConfig(printed, FILE).sections, config.sections, printed);
        // And the same text works as argv words.
        assert.deepEqual(parseCommandLineConfig(printed.split('\n')).sections, config.sections);
      }),
      { numRuns: 300 },
    );
  });
});
