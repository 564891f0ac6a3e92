/**
 * Did-you-mean over thousands of task ids. The core `suggest` computes a full
 * edit distance to every candidate; here candidates are bucketed by length
 * and the distance is computed only within the small band a typo allows,
 * and answers are cached, so a plan full of broken references stays fast.
 * Same acceptance rule as core `suggest`: at most a third of the longer word
 * differs (at least one edit).
 */

const limitFor = (a: number, b: number) => Math.max(1, Math.floor(Math.max(a, b) / 3));

/** Edit distance if it is at most `max`, else `max + 1` (Ukkonen's band). */
function boundedDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const n = b.length;
  let prev = new Array<number>(n + 1);
  let cur = new Array<number>(n + 1);
  for (let j = 0; j <= n; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    const from = Math.max(1, i - max);
    const to = Math.min(n, i + max);
    cur.fill(max + 1);
    cur[0] = i;
    let rowMin = from > 1 ? max + 1 : i;
    for (let j = from; j <= to; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      const v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max) return max + 1;
    [prev, cur] = [cur, prev];
  }
  return Math.min(prev[n]!, max + 1);
}

export class IdSuggester {
  private readonly byLength = new Map<number, { id: string; order: number }[]>();
  private readonly cache = new Map<string, string | undefined>();

  /** Candidates in declaration order: the earliest wins a tie. */
  constructor(candidates: Iterable<string>) {
    let order = 0;
    for (const id of candidates) {
      const list = this.byLength.get(id.length) ?? [];
      list.push({ id, order: order++ });
      this.byLength.set(id.length, list);
    }
  }

  /** The closest plausible candidate, or undefined. */
  suggest(input: string): string | undefined {
    if (this.cache.has(input)) return this.cache.get(input);
    const lower = input.toLowerCase();
    let best: string | undefined;
    let bestDistance = Number.POSITIVE_INFINITY;
    let bestOrder = Number.POSITIVE_INFINITY;
    // A candidate of length L can only be accepted if |L - len| <= limitFor(len, L).
    const maxLen = Math.floor(input.length * 1.5) + 2;
    for (let len = Math.max(0, Math.ceil((input.length * 2) / 3) - 2); len <= maxLen; len++) {
      const list = this.byLength.get(len);
      if (!list) continue;
      const limit = limitFor(input.length, len);
      for (const { id, order } of list) {
        const cap = Math.min(limit, bestDistance);
        const d = boundedDistance(lower, id.toLowerCase(), cap);
        if (d > cap) continue;
        if (d < bestDistance || order < bestOrder) {
          best = id;
          bestDistance = d;
          bestOrder = order;
        }
      }
    }
    this.cache.set(input, best);
    return best;
  }

  /** ` (did you mean "x"?)` or the empty string. */
  didYouMean(input: string): string {
    const s = this.suggest(input);
    return s === undefined ? '' : ` (did you mean "${s}"?)`;
  }
}
