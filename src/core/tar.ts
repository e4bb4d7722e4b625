/**
 * A reader for the plain tar archives aekit unpacks (the ones inside @sparticuz/chromium): POSIX
 * ustar headers, with pax and GNU long-name records for paths over 100 characters. Small enough
 * to own, so that unpacking needs no package the project does not list.
 */
import { AekitError } from './errors';

/** One archive member. */
export interface TarEntry {
  /** Path inside the archive, without a leading './'. */
  name: string;
  type: 'file' | 'directory';
  /** Permission bits (e.g. 0o755). */
  mode: number;
  /** The file's bytes (empty for a directory); a view into the archive buffer. */
  data: Uint8Array;
}

const BLOCK = 512;
/** Offsets and lengths of the ustar header fields read here (POSIX.1-1988). */
const FIELD = {
  name: [0, 100],
  mode: [100, 8],
  size: [124, 12],
  checksum: [148, 8],
  magic: [257, 6],
  prefix: [345, 155],
} as const;
const TYPEFLAG_OFFSET = 156;

function text(header: Uint8Array, [start, length]: readonly [number, number]): string {
  const bytes = header.subarray(start, start + length);
  const end = bytes.indexOf(0);
  return Buffer.from(end < 0 ? bytes : bytes.subarray(0, end)).toString('utf8');
}

function octal(header: Uint8Array, field: readonly [number, number], where: string): number {
  const raw = text(header, field).trim();
  if (!/^[0-7]*$/.test(raw)) throw new AekitError('BAD_DATA', `expected an octal number in a tar header, found '${raw}'`, { where });
  return raw === '' ? 0 : parseInt(raw, 8);
}

/** The header checksum: the byte sum with the checksum field itself counted as spaces. */
function checksumOf(header: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= FIELD.checksum[0] && i < FIELD.checksum[0] + FIELD.checksum[1] ? 0x20 : header[i];
  return sum;
}

/** The `path` record of a pax extended header ('<length> path=<value>\n' records). */
function paxPath(data: Uint8Array): string | undefined {
  const records = Buffer.from(data).toString('utf8');
  let offset = 0;
  while (offset < records.length) {
    const space = records.indexOf(' ', offset);
    const length = Number(records.slice(offset, space));
    if (space < 0 || !Number.isInteger(length) || length <= 0) break;
    const record = records.slice(space + 1, offset + length - 1);
    if (record.startsWith('path=')) return record.slice('path='.length);
    offset += length;
  }
  return undefined;
}

/** A member path that stays inside the folder it is unpacked into, or an error naming it. */
function safeName(name: string, where: string): string {
  const cleaned = name.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
  if (cleaned === '' || cleaned.startsWith('/') || cleaned.split('/').includes('..')) {
    throw new AekitError('BAD_DATA', `expected a relative member path inside the archive, found '${name}'`, { where });
  }
  return cleaned;
}

/**
 * The files and folders of a tar archive, in archive order. Anything else (links, devices) is an
 * error: the archives read here hold neither, and silently dropping a member would leave a
 * half-unpacked folder that looks complete.
 *
 * @param where The archive's path, for error messages.
 * @throws AekitError BAD_DATA on a damaged header, a path leaving the folder or an unsupported member.
 */
export function readTar(archive: Uint8Array, where: string): TarEntry[] {
  const entries: TarEntry[] = [];
  let longName: string | undefined;
  for (let offset = 0; offset + BLOCK <= archive.length; ) {
    const header = archive.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) break; // end-of-archive marker
    const at = `${where} (header at byte ${offset})`;
    if (octal(header, FIELD.checksum, at) !== checksumOf(header)) throw new AekitError('BAD_DATA', 'tar header checksum mismatch: the archive is damaged', { where: at });
    const size = octal(header, FIELD.size, at);
    const data = archive.subarray(offset + BLOCK, offset + BLOCK + size);
    if (data.length !== size) throw new AekitError('BAD_DATA', `expected ${size} bytes of member data, found ${data.length}: the archive is truncated`, { where: at });
    offset += BLOCK + Math.ceil(size / BLOCK) * BLOCK;

    const type = String.fromCharCode(header[TYPEFLAG_OFFSET]);
    if (type === 'x' || type === 'L') {
      longName = type === 'x' ? paxPath(data) : text(data, [0, data.length]);
      continue;
    }
    if (type === 'g') continue; // global pax header: nothing aekit uses
    const prefix = text(header, FIELD.magic).startsWith('ustar') ? text(header, FIELD.prefix) : '';
    const stored = text(header, FIELD.name);
    const name = safeName(longName ?? (prefix ? `${prefix}/${stored}` : stored), at);
    longName = undefined;
    const mode = octal(header, FIELD.mode, at) & 0o777;
    if (type === '0' || type === '\0') entries.push({ name, type: 'file', mode, data });
    else if (type === '5') entries.push({ name, type: 'directory', mode, data: new Uint8Array(0) });
    else throw new AekitError('BAD_DATA', `expected only files and folders, found member '${name}' of tar type '${type}'`, { where: at });
  }
  return entries;
}
