/**
 * "Did you mean" for names a user typed: config keys, flags. A typo (`learnigRate`), a wrong case
 * (`learningrate`) or a swapped pair of letters finds the name meant; anything further finds none,
 * so a suggestion is never a guess.
 */

/**
 * Edit distance with adjacent transpositions (optimal string alignment): `valuRange` is 1 from
 * `valueRange`, `lerningRate` 1 from `learningRate`, `learnignRate` 1 too.
 */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[rows - 1][cols - 1];
}

/**
 * The candidate `word` most likely meant: the same name in another case, else the nearest within
 * an edit distance of a third of its length (at least 1, at most 3), compared case-insensitively.
 * Undefined when none is that close.
 */
export function closestName(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  const sameCase = candidates.find((c) => c.toLowerCase() === lower);
  if (sameCase !== undefined) return sameCase;
  const limit = Math.min(3, Math.max(1, Math.floor(word.length / 3)));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance <= limit && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** `; did you mean 'x'?` for {@link closestName}'s answer, or '' when there is none. */
export function didYouMean(word: string, candidates: readonly string[], show: (name: string) => string = (name) => name): string {
  const name = closestName(word, candidates);
  return name === undefined ? '' : `; did you mean '${show(name)}'?`;
}
