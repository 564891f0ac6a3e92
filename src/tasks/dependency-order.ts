/**
 * Dependency order and cycle detection over task ids. Deterministic: ties are
 * broken by input order (the loader passes tasks in declaration order: files
 * sorted by path, tasks in file order), so the same files always give the
 * same plan.
 */

export interface GraphNode {
  readonly id: string;
  readonly dependsOn: readonly string[];
}

/** The result of dependencyOrder. */
export interface DependencyOrder<T extends GraphNode> {
  /** Every node not on or behind a cycle, dependencies before dependents. */
  ordered: T[];
  /** Each cycle once, as a closed path: `['a', 'b', 'c', 'a']` means a depends on b, b on c, c on a. */
  cycles: string[][];
}

/** A binary min-heap of indexes: always hands out the earliest-declared ready node. */
class IndexHeap {
  private readonly items: number[] = [];
  get size(): number {
    return this.items.length;
  }
  push(value: number): void {
    const a = this.items;
    a.push(value);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent]! <= value) break;
      a[i] = a[parent]!;
      i = parent;
    }
    a[i] = value;
  }
  pop(): number {
    const a = this.items;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const r = l + 1;
        const child = r < a.length && a[r]! < a[l]! ? r : l;
        if (a[child]! >= last) break;
        a[i] = a[child]!;
        i = child;
      }
      a[i] = last;
    }
    return top;
  }
}

/**
 * Topological order (Kahn's algorithm) with declaration order as the
 * tie-break, plus the cycles that kept nodes out of it. Dependencies on ids
 * that are not nodes are ignored (the loader reports them separately); a
 * repeated id keeps its first node.
 */
export function dependencyOrder<T extends GraphNode>(nodes: readonly T[]): DependencyOrder<T> {
  const index = new Map<string, number>();
  const unique: T[] = [];
  for (const node of nodes) {
    if (index.has(node.id)) continue;
    index.set(node.id, unique.length);
    unique.push(node);
  }
  // deps[i]: indexes node i waits for (distinct, known); dependents[j]: who waits for j.
  const deps: number[][] = unique.map((node) => {
    const seen = new Set<number>();
    for (const d of node.dependsOn) {
      const j = index.get(d);
      if (j !== undefined) seen.add(j);
    }
    return [...seen];
  });
  const dependents: number[][] = unique.map(() => []);
  const waiting = deps.map((d) => d.length);
  deps.forEach((list, i) => {
    for (const j of list) dependents[j]!.push(i);
  });

  const heap = new IndexHeap();
  waiting.forEach((n, i) => {
    if (n === 0) heap.push(i);
  });
  const ordered: T[] = [];
  const done = new Array<boolean>(unique.length).fill(false);
  while (heap.size > 0) {
    const i = heap.pop();
    done[i] = true;
    ordered.push(unique[i]!);
    for (const k of dependents[i]!) {
      if (--waiting[k]! === 0) heap.push(k);
    }
  }
  const cycles =
    ordered.length === unique.length
      ? []
      : findCycles(unique.length, deps, done).map((c) => c.map((i) => unique[i]!.id));
  return { ordered, cycles };
}

/**
 * One closed path per strongly connected component that has a cycle (Tarjan,
 * iterative so deep graphs cannot overflow the stack), starting at the
 * component's earliest-declared node and following the shortest way back.
 */
function findCycles(n: number, deps: number[][], skip: boolean[]): number[][] {
  const order = new Array<number>(n).fill(-1);
  const low = new Array<number>(n).fill(0);
  const onStack = new Array<boolean>(n).fill(false);
  const stack: number[] = [];
  const components: number[][] = [];
  let counter = 0;

  for (let root = 0; root < n; root++) {
    if (skip[root] || order[root] !== -1) continue;
    const work: { v: number; next: number }[] = [{ v: root, next: 0 }];
    order[root] = low[root] = counter++;
    stack.push(root);
    onStack[root] = true;
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const edges = deps[frame.v]!;
      if (frame.next < edges.length) {
        const w = edges[frame.next++]!;
        if (skip[w]) continue;
        if (order[w] === -1) {
          order[w] = low[w] = counter++;
          stack.push(w);
          onStack[w] = true;
          work.push({ v: w, next: 0 });
        } else if (onStack[w]) {
          low[frame.v] = Math.min(low[frame.v]!, order[w]!);
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low[parent.v] = Math.min(low[parent.v]!, low[frame.v]!);
      if (low[frame.v] === order[frame.v]) {
        const component: number[] = [];
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = false;
          component.push(w);
        } while (w !== frame.v);
        const selfLoop = component.length === 1 && deps[frame.v]!.includes(frame.v);
        if (component.length > 1 || selfLoop) components.push(component);
      }
    }
  }

  return components
    .map((component) => shortestCycle(Math.min(...component), new Set(component), deps))
    .sort((a, b) => a[0]! - b[0]!);
}

/** Breadth-first from `start` inside its component until an edge leads back to it. */
function shortestCycle(start: number, component: ReadonlySet<number>, deps: number[][]): number[] {
  const previous = new Map<number, number>([[start, -1]]);
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const v = queue[head]!;
    for (const w of deps[v]!) {
      if (w === start) {
        const path = [start];
        for (let u = v; u !== start; u = previous.get(u)!) path.push(u);
        // path is start, v, ..., (next after start) reversed after the first element
        const inner = path.slice(1).reverse();
        return [start, ...inner, start];
      }
      if (!component.has(w) || previous.has(w)) continue;
      previous.set(w, v);
      queue.push(w);
    }
  }
  return [start, start];
}
