import { describe, expect, it } from 'vitest';
import { didYouMean, editDistance, suggest } from './suggest.js';

describe('did-you-mean', () => {
  it('counts a swap of neighbouring letters as one edit', () => {
    expect(editDistance('modle', 'model')).toBe(1);
    expect(editDistance('dependson', 'depends_on')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('suggests close names and stays quiet for unrelated ones', () => {
    const keys = ['model', 'max_turns', 'depends_on', 'prompt'];
    expect(suggest('modle', keys)).toBe('model');
    expect(suggest('promt', keys)).toBe('prompt');
    expect(didYouMean('colour', keys)).toBe('');
  });
});
