/**
 * Did-you-mean over thousands of task ids. The core `suggest` computes a full
 * edit distance to every candidate; here candidates are bucketed by length,
 * the distance is computed only within the band a plausible typo allows, and
 * answers are cached. A plan full of distinct broken references could still
 * cost ids x references comparisons, so the total work is capped: past the
 * budget, references are reported without a suggestion. Same threshold as
 * core `suggest` (at most a third of the longer word differs, at least one
 * edit), applied to each candidate; ties go to the earliest-declared id.
 */

const limitFor = (a: number, b: number) => Math.max(1, Math.floor(Math.max(a, b) / 3));

/** Distance comparisons allowed per suggester before it stops suggesting. */
const DEFAULT_BUDGET = 1_000_000;

interface Candidate {
  id: string;
  lower: string;
  order: number;
}

/** Did-you-mean for task ids, built once per load over every valid id. */
export class IdSuggester {
  private readonly byLength = new Map<number, Candidate[]>();
  private readonly cache = new Map<string, string | undefined>();
  private before = new Int32Array(0);
  private prev = new Int32Array(0);
  private cur = new Int32Array(0);
  private budget: number;

  /** Candidates in declaration order: the earliest wins a tie. */
  constructor(candidates: Iterable<string>, budget = DEFAULT_BUDGET) {
    this.budget = budget;
    let order = 0;
    for (const id of candidates) {
      const list = this.byLength.get(id.length) ?? [];
      list.push({ id, lower: id.toLowerCase(), order: order++ });
      this.byLength.set(id.length, list);
    }
  }

  /**
   * Edit distance (a swap of neighbours counts once, as in core `editDistance`)
   * if it is at most `max`, else `max + 1`; only the diagonal band is computed.
   */
  private distance(a: string, b: string, max: number): number {
    if (Math.abs(a.length - b.length) > max) return max + 1;
    const n = b.length;
    if (this.prev.length < n + 1) {
      this.before = new Int32Array(n + 1);
      this.prev = new Int32Array(n + 1);
      this.cur = new Int32Array(n + 1);
    }
    let before = this.before;
    let prev = this.prev;
    let cur = this.cur;
    const over = max + 1;
    for (let j = 0; j <= n; j++) prev[j] = j <= max ? j : over;
    for (let i = 1; i <= a.length; i++) {
      const from = Math.max(1, i - max);
      const to = Math.min(n, i + max);
      cur[0] = i <= max ? i : over;
      if (from > 1) cur[from - 1] = over;
      let rowMin = cur[0]!;
      const ca = a.charCodeAt(i - 1);
      for (let j = from; j <= to; j++) {
        const cost = ca === b.charCodeAt(j - 1) ? 0 : 1;
        let v = prev[j - 1]! + cost;
        const up = (j <= i - 1 + max ? prev[j]! : over) + 1;
        const left = cur[j - 1]! + 1;
        if (up < v) v = up;
        if (left < v) v = left;
        // Within the band: j - 2 lies in row i - 2's band whenever j >= i - max.
        if (
          i > 1 &&
          j > 1 &&
          ca === b.charCodeAt(j - 2) &&
          a.charCodeAt(i - 2) === b.charCodeAt(j - 1)
        ) {
          const swap = before[j - 2]! + 1;
          if (swap < v) v = swap;
        }
        if (v > over) v = over;
        cur[j] = v;
        if (v < rowMin) rowMin = v;
      }
      if (to < n) cur[to + 1] = over;
      if (rowMin > max) return over;
      const t = before;
      before = prev;
      prev = cur;
      cur = t;
    }
    return Math.min(prev[n]!, over);
  }

  /** The closest plausible candidate, or undefined. */
  suggest(input: string): string | undefined {
    if (this.cache.has(input)) return this.cache.get(input);
    const lower = input.toLowerCase();
    let best: Candidate | undefined;
    let bestDistance = Number.POSITIVE_INFINITY;
    // A candidate of length L can only be accepted if |L - len| <= limitFor(len, L).
    const maxLen = Math.floor(input.length * 1.5) + 2;
    for (let len = Math.max(0, Math.ceil((input.length * 2) / 3) - 2); len <= maxLen; len++) {
      const list = this.byLength.get(len);
      if (!list) continue;
      if (this.budget < list.length) return undefined; // out of budget: no suggestion, not cached
      this.budget -= list.length;
      const limit = limitFor(input.length, len);
      for (const candidate of list) {
        const cap = Math.min(limit, bestDistance);
        const d = this.distance(lower, candidate.lower, cap);
        if (d > cap) continue;
        if (d < bestDistance || (best !== undefined && candidate.order < best.order)) {
          best = candidate;
          bestDistance = d;
        }
      }
    }
    this.cache.set(input, best?.id);
    return best?.id;
  }

  /** ` (did you mean "x"?)` or the empty string. */
  didYouMean(input: string): string {
    const s = this.suggest(input);
    return s === undefined ? '' : ` (did you mean "${s}"?)`;
  }
}
