import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatFolderReport, observeFolderReads, skippedFileLines } from '../../src/data/folder-report';
import { isHiddenEntry, scanFolder } from '../../src/data/folder-scan';
import { loadImageFolder } from '../../src/data/image-folder';
import { loadDataset } from '../../src/data/registry';
import type { FolderReadReport } from '../../src/data/types';
import { FIXTURES, tempDir, writeFile, writeGrayPng } from './helpers';

const FORMATS = path.join(FIXTURES, 'formats');
const PNG_FILE = path.join(FORMATS, 'png', 'rgb-8bit.png');
const JPEG_FILE = path.join(FORMATS, 'pil', 'progressive.jpg');

/**
 * A folder the way one arrives from a zip made on a Mac, a Windows share and a phone: classes at
 * different depths, upper-case extensions, a PNG named .jpg, system litter, notes, GIFs, a BMP,
 * an empty file and files cut short by an interrupted copy.
 */
function messyFolder(root: string): void {
  const png = fs.readFileSync(PNG_FILE);
  const jpg = fs.readFileSync(JPEG_FILE);
  writeFile(path.join(root, 'animals', 'cats', 'a.png'), png);
  writeFile(path.join(root, 'animals', 'cats', 'B.JPG'), jpg);
  writeFile(path.join(root, 'animals', 'cats', 'c.jpeg'), png); // PNG data under a JPEG name
  writeFile(path.join(root, 'animals', 'cats', 'broken.png'), png.subarray(0, png.length - 30));
  writeFile(path.join(root, 'animals', 'dogs', 'x.Png'), png);
  writeFile(path.join(root, 'animals', 'dogs', 'cut.jpg'), jpg.subarray(0, 300));
  writeFile(path.join(root, 'animals', 'dogs', 'anim.gif'), 'GIF89a');
  writeFile(path.join(root, 'birds', '1.jpg'), jpg);
  writeFile(path.join(root, 'birds', 'empty.png'), Buffer.alloc(0));
  writeFile(path.join(root, 'birds', 'scan.bmp'), 'BM');
  writeFile(path.join(root, 'README.txt'), 'about this set');
  writeFile(path.join(root, 'labels.csv'), 'file,label\n');
  writeFile(path.join(root, 'LICENSE'), 'CC-BY');
  // Hidden and system entries: never data, never counted as skipped.
  writeFile(path.join(root, '.DS_Store'), 'x');
  writeFile(path.join(root, 'animals', 'cats', '._a.png'), 'AppleDouble');
  writeFile(path.join(root, '__MACOSX', 'animals', 'cats', '._a.png'), 'x');
  writeFile(path.join(root, 'animals', 'Thumbs.db'), 'x');
  writeFile(path.join(root, 'birds', 'desktop.ini'), 'x');
  writeFile(path.join(root, '.git', 'HEAD'), 'ref');
}

describe('data/image-folder: folders as people have them', () => {
  let tmp: string;
  before(() => {
    tmp = tempDir('layouts');
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('reads a messy folder: classes at any depth, skipped files counted by reason, hidden ones ignored', async () => {
    const root = path.join(tmp, 'messy');
    messyFolder(root);
    const ds = await loadImageFolder(root, { channels: 3, height: 8, width: 8 });
    assert.deepEqual(ds.classNames, ['animals/cats', 'animals/dogs', 'birds']);
    assert.deepEqual(ds.files, ['animals/cats/B.JPG', 'animals/cats/a.png', 'animals/cats/c.jpeg', 'animals/dogs/x.Png', 'birds/1.jpg']);
    assert.deepEqual(Array.from(ds.labels), [0, 0, 0, 1, 2]);
    assert.deepEqual(ds.report.skipped, {
      'not an image': 3,
      'truncated PNG': 1,
      'truncated JPEG': 1,
      'unsupported image format': 2,
      'empty file': 1,
    });
    assert.equal(ds.report.ignored, 6);
    assert.equal(
      formatFolderReport(ds.report),
      `read 5 images from ${root} (3 classes); skipped 8: not an image: 3 ((no extension) 1, .csv 1, .txt 1), ` +
        'unsupported image format: 2 (BMP 1, GIF 1), truncated PNG: 1, truncated JPEG: 1, empty file: 1',
    );
    assert.deepEqual(skippedFileLines(ds.report).slice(0, 2), ['LICENSE: not an image', 'README.txt: not an image']);
    assert.ok(!ds.skipped.some((f) => f.includes('DS_Store') || f.includes('MACOSX') || f.includes('Thumbs')));
  });

  it('a single class folder is one labelled class; a flat folder is unlabelled', async () => {
    const one = path.join(tmp, 'one-class');
    for (let i = 0; i < 3; i++) writeGrayPng(path.join(one, 'cats', `${i}.png`), 4, 4, 40 * i);
    const ds = await loadImageFolder(one, { channels: 1 });
    assert.deepEqual(ds.classNames, ['cats']);
    assert.deepEqual(Array.from(ds.labels), [0, 0, 0]);
    assert.equal(formatFolderReport(ds.report), `read 3 images from ${one} (1 class)`);

    const flat = await loadImageFolder(path.join(FIXTURES, 'flat-rgb'), { channels: 3 });
    assert.equal(flat.count, 12);
    assert.deepEqual(flat.classNames, []);
    assert.ok(flat.labels.every((l) => l === -1));
    assert.equal(formatFolderReport(flat.report), `read 12 images from ${path.join(FIXTURES, 'flat-rgb')} (unlabelled)`);
  });

  it('a broken symbolic link is skipped, not fatal', async () => {
    const root = path.join(tmp, 'links');
    writeGrayPng(path.join(root, 'a', '0.png'), 2, 2);
    writeGrayPng(path.join(root, 'b', '0.png'), 2, 2);
    fs.symlinkSync(path.join(root, 'nowhere.png'), path.join(root, 'a', '1.png'));
    const ds = await loadImageFolder(root, { channels: 1 });
    assert.deepEqual(ds.files, ['a/0.png', 'b/0.png']);
    assert.deepEqual(ds.report.skippedFiles, [{ file: 'a/1.png', reason: 'unreadable', kind: 'broken link', detail: 'a symbolic link to nothing' }]);
  });

  it('passes over system names whatever their case, and only those', () => {
    for (const name of ['.DS_Store', '._x.png', '.git', '__MACOSX', 'thumbs.db', 'Thumbs.db', 'Desktop.ini', '@eaDir']) assert.ok(isHiddenEntry(name), name);
    for (const name of ['cats', 'x.png', 'MACOSX', 'desktop']) assert.ok(!isHiddenEntry(name), name);
  });

  it('a class is scanned without decoding anything', async () => {
    const root = path.join(tmp, 'messy');
    const scan = await scanFolder(root);
    assert.deepEqual(
      scan.classes.map((c) => [c.name, c.files.length]),
      [
        ['animals/cats', 4],
        ['animals/dogs', 2],
        ['birds', 2],
      ],
    );
    assert.equal(scan.flat, false);
  });
});

describe('data/folder-report', () => {
  const report = (over: Partial<FolderReadReport>): FolderReadReport => ({ root: 'faces', read: 1234, classNames: ['a', 'b'], skipped: {}, skippedFiles: [], ignored: 0, ...over });

  it('says it in one line, with thousands separators and the biggest counts first', () => {
    assert.equal(formatFolderReport(report({})), 'read 1,234 images from faces (2 classes)');
    const skippedFiles = [
      ...['x.txt', 'y.txt'].map((file) => ({ file, reason: 'not an image', kind: '.txt' })),
      { file: 'z.gif', reason: 'unsupported image format', kind: 'GIF' },
      { file: 'q.png', reason: 'corrupt PNG', detail: 'the "IDAT" chunk fails its checksum' },
    ];
    assert.equal(
      formatFolderReport(report({ skipped: { 'not an image': 2, 'unsupported image format': 1, 'corrupt PNG': 1 }, skippedFiles })),
      'read 1,234 images from faces (2 classes); skipped 4: not an image: 2 (.txt 2), unsupported image format: 1 (GIF 1), corrupt PNG: 1',
    );
    const many = Array.from({ length: 6 }, (_, i) => ({ file: `f${i}.e${i}`, reason: 'not an image', kind: `.e${i}` }));
    assert.equal(formatFolderReport(report({ skipped: { 'not an image': 6 }, skippedFiles: many })), 'read 1,234 images from faces (2 classes); skipped 6: not an image: 6 (.e0 1, .e1 1, .e2 1, .e3 1, 2 more)');
  });

  it('observeFolderReads hears every folder read inside, however deep, once per folder, and nothing outside', async () => {
    const heard: string[] = [];
    const flat = path.join(FIXTURES, 'flat-rgb');
    const spec = { name: 'folder', path: flat, height: 16, width: 16, channels: 3 } as const;
    await observeFolderReads(
      (r) => heard.push(formatFolderReport(r)),
      async () => {
        await Promise.all([loadDataset(spec, 'train', 1), loadDataset(spec, 'test', 1)]);
        await new Promise((resolve) => setTimeout(resolve, 1));
        await loadImageFolder(path.join(FIXTURES, 'omniglot-tiny'), { channels: 1 });
      },
    );
    assert.deepEqual(heard, [`read 12 images from ${flat} (unlabelled)`, `read 24 images from ${path.join(FIXTURES, 'omniglot-tiny')} (6 classes); skipped 1: not an image: 1 (.txt 1)`]);
    await loadImageFolder(flat, { channels: 3 });
    assert.equal(heard.length, 2, 'a read outside the observed work is not heard');
  });
});
