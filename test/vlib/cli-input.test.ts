// CliInput: tokenizing, the typed readers and the one-line errors of their expect* forms.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CliError, CliInput, parseInteger, tokenize } from '../../src/vlib/cli-input.ts';

function words(input: CliInput): string[] {
  const out: string[] = [];
  while (!input.atEnd()) out.push(input.next() as string);
  return out;
}

/** Asserts `fn` throws a CliError with exactly `message` (and code ECLI). */
function throwsCli(fn: () => unknown, message: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof CliError, `expected a CliError, got ${String(error)}`);
    assert.equal(error.message, message);
    assert.equal(error.code, 'ECLI');
    return true;
  });
}

describe('tokenizing', () => {
  it('splits on any white space', () => {
    assert.deepEqual(words(new CliInput('  ip route\tadd \n 10.0.0.0/8  ')), ['ip', 'route', 'add', '10.0.0.0/8']);
    assert.deepEqual(words(new CliInput('')), []);
    assert.deepEqual(words(new CliInput('   ')), []);
  });

  it('makes { and } words of their own', () => {
    assert.deepEqual(words(new CliInput('a{b c}d')), ['a', '{', 'b', 'c', '}', 'd']);
  });

  it('groups quoted words, with \\" and \\\\ escapes', () => {
    assert.deepEqual(words(new CliInput('set name "hello  world" x')), ['set', 'name', 'hello  world', 'x']);
    assert.deepEqual(words(new CliInput('"a \\"b\\" \\\\ c"')), ['a "b" \\ c']);
    assert.deepEqual(words(new CliInput('pre"fix and"post')), ['prefix andpost']);
    assert.deepEqual(words(new CliInput('""')), ['']);
  });

  it('keeps quoted braces as plain words', () => {
    const input = new CliInput('"{" x');
    assert.equal(input.block(), null);
    assert.equal(input.word(), '{');
  });

  it('rejects an unterminated quote with a CliError', () => {
    throwsCli(() => new CliInput('name "abc def'), `unterminated quote at '"abc def'`);
  });

  it('records offsets so the typed text can be recovered', () => {
    const line = 'a "b c" {d}';
    const tokens = tokenize(line);
    assert.deepEqual(
      tokens.map((t) => line.slice(t.start, t.end)),
      ['a', '"b c"', '{', 'd', '}'],
    );
    assert.deepEqual(tokens.map((t) => t.quoted), [false, true, false, false, false]);
  });

  it('property: plain words joined by any white space come back as they were', () => {
    const word = fc.stringMatching(/^[a-zA-Z0-9.:\/_-]{1,12}$/);
    const gap = fc.constantFrom(' ', '  ', '\t', ' \n ');
    fc.assert(
      fc.property(fc.array(fc.tuple(word, gap), { maxLength: 10 }), (parts) => {
        const text = parts.map(([w, g]) => w + g).join('');
        assert.deepEqual(words(new CliInput(text)), parts.map(([w]) => w));
      }),
    );
  });

  it('property: any string, quoted and escaped, is one word equal to it', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const quoted = `"${s.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
        const input = new CliInput(quoted);
        assert.equal(input.word(), s);
        assert.ok(input.atEnd());
      }),
    );
  });

  it('property: any text either tokenizes or throws a CliError, and reading always ends', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', ' ', '"', '\\', '{', '}', '\t', 'x', '0') }), (s) => {
        let input: CliInput;
        try {
          input = new CliInput(s);
        } catch (error) {
          assert.ok(error instanceof CliError);
          return;
        }
        let steps = 0;
        while (input.next() !== undefined) steps++;
        assert.ok(steps <= s.length);
      }),
    );
  });
});

describe('keywords and words', () => {
  it('keyword matches exactly, never a prefix, never a quoted word', () => {
    const input = new CliInput('verb verbose "verbose"');
    assert.equal(input.keyword('verbose'), false);
    assert.equal(input.keyword('ver'), false);
    assert.equal(input.keyword('verb'), true);
    assert.equal(input.keyword('verbose'), true);
    assert.equal(input.keyword('verbose'), false);
    assert.equal(input.word(), 'verbose');
    assert.ok(input.atEnd());
  });

  it('peek does not consume; next and word do; position counts words', () => {
    const input = new CliInput('a b }');
    assert.equal(input.peek(), 'a');
    assert.equal(input.position, 0);
    assert.equal(input.next(), 'a');
    assert.equal(input.word(), 'b');
    assert.equal(input.position, 2);
    assert.equal(input.word(), null, 'a brace is not a word');
    assert.equal(input.next(), '}');
    assert.equal(input.next(), undefined);
    assert.equal(input.peek(), undefined);
  });

  it('oneOf / expectOneOf', () => {
    const input = new CliInput('down sideways');
    assert.equal(input.oneOf(['up', 'down']), 'down');
    throwsCli(() => input.expectOneOf(['up', 'down'], 'state'), `expected up|down for state, got 'sideways'`);
    assert.equal(input.position, 1, 'a failed read consumes nothing');
  });

  it('expectKeyword and expectWord', () => {
    const input = new CliInput('via');
    throwsCli(() => input.expectKeyword('table'), `expected 'table', got 'via'`);
    input.expectKeyword('via');
    throwsCli(() => input.expectWord('interface'), 'expected a word for interface, got end of input');
  });

  it('rest returns what was typed, quotes kept, and consumes it', () => {
    const input = new CliInput('exec  "my file"  now ');
    input.keyword('exec');
    assert.equal(input.rest(), '"my file"  now');
    assert.ok(input.atEnd());
    assert.equal(input.rest(), '');
  });
});

describe('numbers', () => {
  it('reads decimal and 0x hex', () => {
    const input = new CliInput('42 0x10 0XfF 0');
    assert.equal(input.number(), 42);
    assert.equal(input.number(), 16);
    assert.equal(input.number(), 255);
    assert.equal(input.number(), 0);
  });

  it('rejects what is not an integer, leaving it unread', () => {
    for (const text of ['1.5', '1e3', 'ten', '0x', '0xg', '--1', '+1', '12abc', '']) {
      const input = new CliInput(`"${text}"`);
      assert.equal(input.number(), null, text);
      assert.equal(input.position, 0);
    }
    assert.equal(parseInteger('9007199254740992'), null, 'beyond 2^53-1');
    assert.equal(parseInteger('0x20000000000000'), null);
    assert.equal(parseInteger('9007199254740991'), Number.MAX_SAFE_INTEGER);
  });

  it('applies bounds; negatives only when min allows them', () => {
    assert.equal(new CliInput('-5').number(), null);
    assert.equal(new CliInput('-5').number({ min: -10 }), -5);
    assert.equal(new CliInput('-0x10').number({ min: -100 }), -16);
    assert.ok(Object.is(new CliInput('-0').number({ min: -1 }), 0));
    assert.equal(new CliInput('64').number({ min: 1, max: 64 }), 64);
    assert.equal(new CliInput('65').number({ min: 1, max: 64 }), null);
    assert.equal(new CliInput('0').number({ min: 1, max: 64 }), null);
  });

  it('expectNumber names the token and the range', () => {
    throwsCli(() => new CliInput('300').expectNumber('vector size', { min: 1, max: 256 }), `expected a number in 1..256 for vector size, got '300'`);
    throwsCli(() => new CliInput('x').expectNumber('table id'), `expected a number for table id, got 'x'`);
    throwsCli(() => new CliInput('0').expectNumber('count', { min: 1 }), `expected a number >= 1 for count, got '0'`);
    throwsCli(() => new CliInput('').expectNumber('count'), 'expected a number for count, got end of input');
  });

  it('property: every safe integer reads back, decimal or hex', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (n) => {
        const input = new CliInput(`${n} 0x${n.toString(16)}`);
        assert.equal(input.number(), n);
        assert.equal(input.number(), n);
      }),
    );
  });

  it('property: out of bounds is never accepted', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: -1000, max: 1000 }), (n, a, b) => {
        const [min, max] = a <= b ? [a, b] : [b, a];
        const value = new CliInput(String(n)).number({ min, max });
        assert.equal(value, n >= min && n <= max ? n : null);
      }),
    );
  });
});

describe('addresses', () => {
  it('ip4 / expectIp4', () => {
    const input = new CliInput('10.0.0.1 x.y');
    assert.equal(input.ip4(), 0x0a000001);
    assert.equal(input.ip4(), null);
    throwsCli(() => input.expectIp4('next-hop'), `expected an IPv4 address for next-hop, got 'x.y'`);
    assert.equal(input.position, 1);
  });

  it('ip4Prefix clears host bits unless asked to keep them', () => {
    assert.deepEqual(new CliInput('10.1.2.3/8').ip4Prefix(), { address: 0x0a000000, length: 8 });
    assert.deepEqual(new CliInput('10.1.2.3/24').ip4Prefix(true), { address: 0x0a010203, length: 24 });
    throwsCli(() => new CliInput('10.0.0.0/33').expectIp4Prefix('route'), `expected an IPv4 prefix (a.b.c.d/len) for route, got '10.0.0.0/33'`);
  });

  it('mac / expectMac', () => {
    assert.deepEqual(new CliInput('02:fe:00:00:00:01').mac(), new Uint8Array([2, 0xfe, 0, 0, 0, 1]));
    assert.deepEqual(new CliInput('02fe.0000.0001').mac(), new Uint8Array([2, 0xfe, 0, 0, 0, 1]));
    throwsCli(() => new CliInput('02:fe').expectMac('hw-addr'), `expected a MAC address for hw-addr, got '02:fe'`);
  });
});

describe('blocks', () => {
  it('reads nested blocks and continues after them', () => {
    const input = new CliInput('stream { name s1 limit { packets 10 } rate 5 } done');
    assert.ok(input.keyword('stream'));
    const outer = input.expectBlock('stream');
    assert.equal(outer.expectWord('key'), 'name');
    assert.equal(outer.word(), 's1');
    assert.ok(outer.keyword('limit'));
    const inner = outer.expectBlock('limit');
    assert.deepEqual(words(inner), ['packets', '10']);
    assert.ok(outer.keyword('rate'));
    assert.equal(outer.number(), 5);
    assert.ok(outer.atEnd());
    assert.ok(input.keyword('done'));
    assert.ok(input.atEnd());
  });

  it('empty block; rest inside a block stops at its brace', () => {
    const input = new CliInput('{} { a "b }" c } z');
    assert.ok(input.block()?.atEnd());
    assert.equal(input.block()?.rest(), 'a "b }" c');
    assert.equal(input.word(), 'z');
  });

  it('null when no block, error when never closed', () => {
    const input = new CliInput('x { a { b }');
    assert.equal(input.block(), null);
    throwsCli(() => input.expectBlock('config'), `expected a '{ … }' block for config, got 'x'`);
    input.next();
    throwsCli(() => input.block(), `missing '}' to close '{' at '{ a { b }'`);
  });

  it('property: nested blocks of random depth read back to the same words', () => {
    type Tree = (string | Tree)[];
    const leaf = fc.stringMatching(/^[a-z0-9]{1,5}$/);
    const { tree } = fc.letrec<{ tree: Tree; item: string | Tree }>((tie) => ({
      tree: fc.array(tie('item'), { maxLength: 4 }),
      item: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('tree')),
    }));
    const render = (t: Tree): string => t.map((x) => (typeof x === 'string' ? x : `{ ${render(x)} }`)).join(' ');
    const read = (input: CliInput): Tree => {
      const out: Tree = [];
      while (!input.atEnd()) {
        const block = input.block();
        out.push(block === null ? (input.expectWord('leaf')) : read(block));
      }
      return out;
    };
    fc.assert(fc.property(tree, (t) => assert.deepEqual(read(new CliInput(render(t))), t)));
  });
});

describe('ending', () => {
  it('expectEnd names the first extra word', () => {
    const input = new CliInput('verbose foo bar');
    input.keyword('verbose');
    throwsCli(() => input.expectEnd(), `unexpected argument 'foo'`);
    input.rest();
    input.expectEnd();
  });

  it("fail reports the rest of the line as VPP's unknown input", () => {
    const input = new CliInput('table 5 bogus  "x y"');
    input.keyword('table');
    input.number();
    throwsCli(() => input.fail(), "unknown input `bogus  \"x y\"'");
  });

  it('the option loop pattern', () => {
    const parse = (text: string) => {
      const input = new CliInput(text);
      let table = 0;
      let verbose = false;
      while (!input.atEnd()) {
        if (input.keyword('table')) table = input.expectNumber('table id', { max: 0xffffffff });
        else if (input.keyword('verbose')) verbose = true;
        else input.fail();
      }
      return { table, verbose };
    };
    assert.deepEqual(parse('verbose table 0x10'), { table: 16, verbose: true });
    throwsCli(() => parse('table'), 'expected a number in 0..4294967295 for table id, got end of input');
    throwsCli(() => parse('verbose tabel 3'), "unknown input `tabel 3'");
  });

  it('property: a reader that fails consumes nothing', () => {
    const text = fc.string({ unit: fc.constantFrom('1', '0', 'x', '.', '/', ':', ' ', '{', '}', 'a', 'f', '2') });
    fc.assert(
      fc.property(text, fc.integer({ min: 0, max: 6 }), (s, which) => {
        const input = new CliInput(s);
        const before = input.position;
        const readers = [
          () => input.number(),
          () => input.ip4(),
          () => input.ip4Prefix(),
          () => input.mac(),
          () => input.word(),
          () => input.oneOf(['a', 'x']),
          () => (input.keyword('ab') ? true : null),
        ];
        if (readers[which]() === null) assert.equal(input.position, before);
        else assert.equal(input.position, before + 1);
      }),
    );
  });
});
