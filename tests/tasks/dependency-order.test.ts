import { describe, expect, it } from 'vitest';
import { dependencyOrder } from '../../src/tasks/dependency-order.js';

const node = (id: string, ...dependsOn: string[]) => ({ id, dependsOn });
const ids = (nodes: { id: string }[]) => nodes.map((n) => n.id);

describe('dependencyOrder', () => {
  it('orders dependencies first, breaking ties by input order', () => {
    const { ordered, cycles } = dependencyOrder([
      node('e', 'c'),
      node('d'),
      node('c', 'a', 'b'),
      node('b'),
      node('a'),
    ]);
    expect(ids(ordered)).toEqual(['d', 'b', 'a', 'c', 'e']);
    expect(cycles).toEqual([]);
  });

  it('returns the input objects themselves', () => {
    const a = { id: 'a', dependsOn: [], extra: 1 };
    expect(dependencyOrder([a]).ordered[0]).toBe(a);
  });

  it('ignores unknown dependencies and keeps the first of repeated ids', () => {
    const first = node('a', 'ghost');
    expect(dependencyOrder([first, node('a'), node('b', 'a', 'a')]).ordered).toEqual([
      first,
      node('b', 'a', 'a'),
    ]);
  });

  it('reports each cycle once as a closed path from its earliest node, leaving its nodes out', () => {
    const { ordered, cycles } = dependencyOrder([
      node('ok'),
      node('x', 'y'),
      node('a', 'b'),
      node('b', 'c', 'ok'),
      node('c', 'a'),
      node('y', 'x'),
      node('after', 'c'),
    ]);
    expect(ids(ordered)).toEqual(['ok']);
    expect(cycles).toEqual([
      ['x', 'y', 'x'],
      ['a', 'b', 'c', 'a'],
    ]);
  });

  it('reports the shortest way round when a component has several cycles', () => {
    const { cycles } = dependencyOrder([
      node('a', 'b', 'd'),
      node('b', 'c'),
      node('c', 'a'),
      node('d', 'a'),
    ]);
    expect(cycles).toEqual([['a', 'd', 'a']]);
  });

  it('reports a self-loop', () => {
    expect(dependencyOrder([node('a', 'a')]).cycles).toEqual([['a', 'a']]);
  });

  it('handles long chains without recursion limits', () => {
    const n = 100_000;
    const chain = Array.from({ length: n }, (_, i) =>
      node(`t${i}`, ...(i > 0 ? [`t${i - 1}`] : [])),
    );
    const reversed = [...chain].reverse();
    expect(dependencyOrder(reversed).ordered[n - 1]?.id).toBe(`t${n - 1}`);
    const loop = [...chain.slice(1), node('t0', `t${n - 1}`)];
    const { cycles } = dependencyOrder(loop);
    expect(cycles).toHaveLength(1);
    expect(cycles[0]).toHaveLength(n + 1);
  });
});
