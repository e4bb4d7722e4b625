/**
 * readTar on archives made by GNU tar (ustar and pax, with a path over 100 characters) and on the
 * real archives inside @sparticuz/chromium; damaged, escaping and unsupported members are errors
 * that name the archive.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
import { readTar } from '../../src/core/tar';

describe('core/tar: readTar', () => {
  let dir: string;
  const longDir = `${'deep-folder-name/'.repeat(8)}leaf`;

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'aekit-tar-'));
    const src = path.join(dir, 'src');
    mkdirSync(path.join(src, longDir), { recursive: true });
    writeFileSync(path.join(src, 'a.txt'), 'hello\n', { mode: 0o644 });
    writeFileSync(path.join(src, 'run.sh'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
    writeFileSync(path.join(src, longDir, 'file.bin'), Buffer.alloc(1500, 7));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const archive = (format: string, ...members: string[]): Buffer => {
    const file = path.join(dir, `${format}.tar`);
    execFileSync('tar', [`--format=${format}`, '-cf', file, '-C', path.join(dir, 'src'), ...members]);
    return readFileSync(file);
  };

  for (const format of ['ustar', 'pax', 'gnu']) {
    it(`reads files, modes, folders and a ${longDir.length + 9}-character path from a ${format} archive`, () => {
      const entries = readTar(archive(format, 'a.txt', 'run.sh', 'deep-folder-name'), `${format}.tar`);
      const byName = new Map(entries.map((e) => [e.name, e]));
      assert.equal(Buffer.from(byName.get('a.txt')!.data).toString(), 'hello\n');
      assert.equal(byName.get('a.txt')!.mode, 0o644);
      assert.equal(byName.get('run.sh')!.mode, 0o755);
      assert.equal(byName.get('deep-folder-name')!.type, 'directory');
      const deep = byName.get(`${longDir}/file.bin`);
      assert.ok(deep, `no long-named member in ${[...byName.keys()].join(', ')}`);
      assert.deepEqual(Buffer.from(deep.data), Buffer.alloc(1500, 7));
    });
  }

  it('lists the members of the archives inside @sparticuz/chromium as tar does', () => {
    const bin = path.join(path.dirname(require.resolve('@sparticuz/chromium')), '..', 'bin');
    for (const name of ['swiftshader.tar.br', 'fonts.tar.br', 'al2023.tar.br']) {
      const tar = brotliDecompressSync(readFileSync(path.join(bin, name)));
      const file = path.join(dir, name.replace(/\.br$/, ''));
      writeFileSync(file, tar);
      const listed = execFileSync('tar', ['-tvf', file], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .map((line) => {
          const fields = line.trim().split(/\s+/);
          return `${fields[5].replace(/\/$/, '')} ${fields[0].startsWith('d') ? 'directory' : `file ${fields[2]}`}`;
        });
      const read = readTar(tar, file).map((e) => `${e.name} ${e.type === 'directory' ? 'directory' : `file ${e.data.length}`}`);
      assert.deepEqual(read, listed, name);
    }
  });

  it('rejects a damaged header, a truncated member, an escaping path and a symbolic link, naming the archive', () => {
    const good = archive('ustar', 'a.txt');
    const damaged = Buffer.from(good);
    damaged[3] ^= 0xff;
    assert.throws(() => readTar(damaged, 'damaged.tar'), /damaged\.tar \(header at byte 0\): tar header checksum mismatch/);
    assert.throws(() => readTar(good.subarray(0, 514), 'short.tar'), /short\.tar \(header at byte 0\): expected 6 bytes of member data, found 2: the archive is truncated/);

    const escaping = path.join(dir, 'escaping.tar');
    execFileSync('tar', ['--format=ustar', '-cPf', escaping, '-C', path.join(dir, 'src'), '../src/a.txt']);
    assert.throws(() => readTar(readFileSync(escaping), 'escaping.tar'), /escaping\.tar \(header at byte 0\): expected a relative member path inside the archive, found '\.\.\/src\/a\.txt'/);

    symlinkSync('a.txt', path.join(dir, 'src', 'link'));
    assert.throws(() => readTar(archive('ustar', 'link'), 'link.tar'), /link\.tar \(header at byte 0\): expected only files and folders, found member 'link' of tar type '2'/);
  });
});
