/** Where a scan of the embedded archive may start: a hint is reused for later seqs and for its own last one. */
import { describe, expect, it } from 'vitest';
import { readHint } from '../src/js-archive-scan';

describe('readHint', () => {
  const hint = { pos: 900, maxSeq: 500, maxSeqPos: 880 };

  it('starts after the hint for seqs above everything read', () => {
    expect(readHint(hint, 501)).toEqual(hint);
  });

  it('starts at the first record of the last seq read, so re-reading a cut page costs no rescan', () => {
    expect(readHint(hint, 500)).toEqual({ pos: 880, maxSeq: 499, maxSeqPos: 880 });
  });

  it('starts at the beginning for earlier seqs or without a hint', () => {
    expect(readHint(hint, 499)).toEqual({ pos: 1, maxSeq: 0, maxSeqPos: 1 });
    expect(readHint(undefined, 7)).toEqual({ pos: 1, maxSeq: 0, maxSeqPos: 1 });
  });
});
