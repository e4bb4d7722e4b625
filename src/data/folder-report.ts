import { AsyncLocalStorage } from 'node:async_hooks';
import type { FolderReadReport } from './types';

/**
 * What a folder read found, said in one line ("read 1,234 images from faces/ (2 classes);
 * skipped 5: not an image: 3 (.txt 2, .gif 1), corrupt PNG: 2"), and a way for a caller to hear
 * of every folder read inside a piece of work without threading a logger through it: `aekit
 * train` wraps the trainer, which loads its data itself, in {@link observeFolderReads}.
 */

/** Kinds listed per reason in the line before the rest are summed up as "... N more". */
const KINDS_SHOWN = 4;

function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** The one-line summary of a folder read (see the module comment). */
export function formatFolderReport(report: FolderReadReport): string {
  const classes = report.classNames.length === 0 ? 'unlabelled' : report.classNames.length === 1 ? '1 class' : `${count(report.classNames.length)} classes`;
  const line = `read ${count(report.read)} images from ${report.root} (${classes})`;
  const total = Object.values(report.skipped).reduce((a, b) => a + b, 0);
  if (total === 0) return line;
  // The biggest counts first (a stable sort keeps equal counts in the order they were met).
  const reasons = Object.entries(report.skipped).sort((a, b) => b[1] - a[1]);
  const parts = reasons.map(([reason, n]) => {
    const kinds = new Map<string, number>();
    for (const file of report.skippedFiles) {
      if (file.reason === reason && file.kind !== undefined) kinds.set(file.kind, (kinds.get(file.kind) ?? 0) + 1);
    }
    if (kinds.size === 0) return `${reason}: ${count(n)}`;
    const sorted = [...kinds].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    const shown = sorted.slice(0, KINDS_SHOWN).map(([kind, k]) => `${kind} ${count(k)}`);
    if (sorted.length > KINDS_SHOWN) shown.push(`${sorted.length - KINDS_SHOWN} more`);
    return `${reason}: ${count(n)} (${shown.join(', ')})`;
  });
  return `${line}; skipped ${count(total)}: ${parts.join(', ')}`;
}

/** One line per skipped file ("cats/x.png: corrupt PNG (Crc error)"), for a debug log. */
export function skippedFileLines(report: FolderReadReport): string[] {
  return report.skippedFiles.map((f) => `${f.file}: ${f.reason}${f.detail ? ` (${f.detail})` : ''}`);
}

const observers = new AsyncLocalStorage<(report: FolderReadReport) => void>();

/**
 * Runs `body`, calling `onRead` once for every distinct folder read inside it (by any code it
 * calls, however deep), with the folder's report. A folder read twice in the same way (the train
 * and test splits of one folder) is reported once.
 */
export function observeFolderReads<T>(onRead: (report: FolderReadReport) => void, body: () => Promise<T>): Promise<T> {
  const seen = new Set<string>();
  const once = (report: FolderReadReport) => {
    const key = JSON.stringify([report.root, report.read, report.classNames.length, report.skipped]);
    if (seen.has(key)) return;
    seen.add(key);
    onRead(report);
  };
  return observers.run(once, body);
}

/** Hands a folder's report to the observer of the current piece of work, if there is one. */
export function noteFolderRead(report: FolderReadReport): void {
  observers.getStore()?.(report);
}
