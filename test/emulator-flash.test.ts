// The Storage filesystem model on its own: write semantics, accounting, compaction, faults.
import { expect } from 'chai';
import { Flash, PowerCut, StorageError, HEADER_BYTES } from '../emulator/flash-memory.ts';

const bytes = (s: string) => Buffer.from(s, 'latin1');
const linux = () => new Flash({ storageBytes: 262144, pageSize: 1024 });
const throwsStorage = (f: () => unknown, msg: string) => {
  expect(f).to.throw(StorageError).with.property('message', msg);
};

describe('emulator flash: write semantics (§2.3)', () => {
  it('creates a sized file, fills it by offset, reads unwritten bytes as 0xFF', () => {
    const f = linux();
    expect(f.write('c.bin', bytes('AAAA'), 0, 12)).to.equal(true);
    expect(f.readBytes('c.bin')!.toString('hex')).to.equal('41414141ffffffffffffffff');
    f.write('c.bin', bytes('CC'), 8);
    f.write('c.bin', bytes('BB'), 4);
    expect(f.read('c.bin')).to.equal('AAAABB\xff\xffCC\xff\xff');
  });

  it('refuses rewriting written bytes, even with identical data, but writes over bytes written as 0xFF', () => {
    const f = linux();
    f.write('r', bytes('AAAA'), 0, 12);
    throwsStorage(() => f.write('r', bytes('AA'), 2), 'File already written with different data');
    f.write('r', bytes('\xff\xff'), 4);
    f.write('r', bytes('ZZ'), 4);
    expect(f.read('r', 4, 2)).to.equal('ZZ');
  });

  it('gives the firmware error messages', () => {
    const f = linux();
    throwsStorage(() => f.write('missing', bytes('x'), 5), 'Unable to find or create file');
    f.write('s', bytes('ABCD'), 0, 8);
    throwsStorage(() => f.write('s', bytes('WXYZ'), 6), 'Too much data for file size');
    throwsStorage(() => f.write('z', bytes('')), "Can't create zero length file");
    // a failed offset-0 create still leaves the empty sized file behind (probe 06)
    throwsStorage(() => f.write('t', bytes('ABCDEFGH'), 0, 4), 'Too much data for file size');
    expect(f.read('t')).to.equal('\xff\xff\xff\xff');
  });

  it('identical rewrite is a no-op; different data or size leaves trash', () => {
    const f = linux();
    f.write('a', bytes('hello'));
    const ops = f.opCount;
    f.write('a', bytes('hello'));
    expect(f.opCount).to.equal(ops);
    f.write('a', bytes('HELLO'));
    f.write('a', bytes('hello world'));
    expect(f.getStats()).to.deep.equal({ totalBytes: 262144, freeBytes: 262020, fileBytes: 44, fileCount: 1, trashBytes: 80, trashCount: 2 });
    expect(f.list()).to.deep.equal(['a']);
  });

  it('reuses an all-0xFF file of the same size instead of replacing it', () => {
    const f = linux();
    f.write('p', bytes('\xff'), 0, 8);
    f.write('p', bytes('xy'), 0, 8);
    expect(f.getStats().trashCount).to.equal(0);
    expect(f.read('p')).to.equal('xy\xff\xff\xff\xff\xff\xff');
  });

  it('truncates names to 28 bytes and strips a drive letter', () => {
    const f = linux();
    const n28 = 'abcdefghijklmnopqrstuvwxyz01';
    f.write(n28, bytes('28'));
    f.write(n28 + '2', bytes('29'));
    expect(f.list()).to.deep.equal([n28]);
    expect(f.read(n28)).to.equal('29');
    f.write('a:foo', bytes('drive'));
    expect(f.read('foo')).to.equal('drive');
    expect(f.read('z:foo')).to.equal('drive');
  });

  it('reads with offset/length like Storage.read', () => {
    const f = linux();
    f.write('a', bytes('hello world'));
    expect(f.read('a', 6)).to.equal('world');
    expect(f.read('a', 6, 3)).to.equal('wor');
    expect(f.read('a', 20)).to.equal('');
    expect(f.read('a', 2, -1)).to.equal('llo world');
    expect(f.read('nope')).to.equal(undefined);
  });
});

describe('emulator flash: accounting and compaction', () => {
  it('charges a 32-byte header plus data rounded up to 4 bytes (probe 12)', () => {
    const f = linux();
    const used = [1, 4, 5, 100, 1000].map((n, i) => {
      const before = f.getFree();
      f.write('f' + i, Buffer.alloc(n, 0x78));
      return before - f.getFree();
    });
    expect(used).to.deep.equal([36, 36, 40, 132, 1032]);
    f.erase('f3');
    expect(f.getStats()).to.deep.equal({ totalBytes: 262144, freeBytes: 260868, fileBytes: 1144, fileCount: 4, trashBytes: 132, trashCount: 1 });
    f.compact();
    expect(f.getFree()).to.equal(261000);
    expect(f.list()).to.deep.equal(['f0', 'f1', 'f2', 'f4']);
  });

  it('fills up, then auto-compacts when trash makes room (probe 13)', () => {
    const f = linux();
    const msgs: string[] = [];
    f.onMessage = (m) => msgs.push(m);
    let n = 0;
    try { for (;;) { f.write('fill' + n, bytes('x'), 0, 10000); n++; } } catch (e) {
      expect((e as Error).message).to.equal('Unable to find or create file');
    }
    expect(n).to.equal(26);
    expect(f.getFree()).to.equal(1312);
    f.write('small', bytes('y'), 0, 100);
    ['fill0', 'fill1', 'fill2'].forEach((x) => f.erase(x));
    f.write('big', bytes('z'), 0, 25000);
    expect(msgs).to.deep.equal(['Compacting...']);
    expect(f.getStats()).to.include({ freeBytes: 6244, fileCount: 25, trashCount: 0 });
    expect(f.counters.compactions).to.equal(1);
    expect(f.counters.erases).to.be.greaterThan(0);
  });

  it('counts ops, bytes, deletes and the largest write', () => {
    const f = linux();
    f.write('a', bytes('12345678'), 0, 16);
    f.write('a', bytes('abc'), 8);
    f.erase('a');
    expect(f.counters).to.deep.include({ flashWrites: 4, bytesWritten: HEADER_BYTES + 11, deletes: 1, maxWriteBytes: 8 });
    expect(f.opCount).to.equal(4);
  });

  it('host helpers preload, list and copy without counting', () => {
    const f = linux();
    f.writeFile('ota', 'exports.x = 1;');
    expect(f.opCount).to.equal(0);
    expect(f.readFile('ota')!.toString()).to.equal('exports.x = 1;');
    const c = f.clone();
    f.erase('ota');
    expect(c.files().map((x) => x.name)).to.deep.equal(['ota']);
  });
});

describe('emulator flash: power cuts', () => {
  it('cuts at the k-th op: the op does not land and the flash is frozen until power-on', () => {
    const f = linux();
    f.armPowerCut(3);
    f.write('a', bytes('abcd'), 0, 8); // ops 1, 2: header, data
    expect(() => f.write('a', bytes('efgh'), 4)).to.throw(PowerCut); // op 3: data
    expect(f.read('a')).to.equal('abcd\xff\xff\xff\xff');
    expect(() => f.write('b', bytes('x'))).to.throw(PowerCut);
    expect(() => f.erase('a')).to.throw(PowerCut);
    expect(f.isFrozen).to.equal(true);
    expect(f.list()).to.deep.equal(['a']); // reads still work
    f.powerOn();
    f.write('a', bytes('efgh'), 4);
    expect(f.read('a')).to.equal('abcdefgh');
  });

  it('mid: half of the data write lands, the tail stays 0xFF', () => {
    const f = linux();
    f.armPowerCut(2, true);
    expect(() => f.write('a', bytes('ABCDEFGH'))).to.throw(PowerCut);
    expect(f.read('a')).to.equal('ABCD\xff\xff\xff\xff');
  });

  it('a cut at the header op leaves no file; at the delete op leaves the old one', () => {
    const f = linux();
    f.write('a', bytes('old'));
    f.armPowerCut(1);
    expect(() => f.write('a', bytes('new!'))).to.throw(PowerCut); // op 1: delete-mark of the old copy
    f.powerOn();
    expect(f.read('a')).to.equal('old');
    f.armPowerCut(2);
    expect(() => f.write('a', bytes('new!'))).to.throw(PowerCut); // op 2: header of the new copy
    f.powerOn();
    expect(f.read('a')).to.equal(undefined);
  });

  it('counting ops of a run lets a test walk every cut point', () => {
    const run = (f: Flash) => { f.write('x', bytes('12'), 0, 4); f.write('x', bytes('34'), 2); f.erase('x'); f.compact(); };
    const clean = linux();
    clean.onMessage = () => {};
    run(clean);
    const n = clean.opCount;
    expect(n).to.equal(5); // header, data, data, delete, compaction
    for (let k = 1; k <= n; k++) {
      const f = linux();
      f.onMessage = () => {};
      f.armPowerCut(k);
      expect(() => run(f)).to.throw(PowerCut);
      expect(f.opCount).to.equal(k);
    }
  });
});
