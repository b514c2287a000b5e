/**
 * Reading Cedar policy text before and after Cedar does: 1-based line and column of a position (Cedar
 * reports UTF-8 byte offsets, JavaScript indexes UTF-16 units, people count characters), and a guard
 * against nesting that Cedar's WebAssembly build cannot survive (see cedar-runtime.ts). Before Cedar sees
 * a text, each policy is scored by an upper bound of the depth Cedar's parser reaches: 4 per bracket
 * level, 1 per operator within one bracket item. A warm module survives about 75 nested brackets and
 * about 320 chained operators while it parses, so the budget keeps both under a third of that.
 */

/** A 1-based line and column (in characters). */
export interface TextPosition {
  line: number;
  column: number;
}

/** Most depth score a policy may have. */
export const MaxPolicyDepthScore = 100;
const BracketScore = 4;
const Operators = new Set(['||', '&&', '==', '!=', '<=', '>=', '<', '>', '+', '-', '*', '!', '.']);
const OperatorWords = new Set(['in', 'has', 'like', 'is', 'if', 'then', 'else']);
const Opening = '([{';
const Closing = ')]}';

/** Positions in one text; built once per text so that many errors cost one scan. */
export class TextPositions {
  private readonly lineStarts: number[] = [0];
  private bytes: Buffer | undefined;

  constructor(private readonly text: string) {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.lineStarts.push(i + 1);
  }

  /** The position of the UTF-16 index `index`. */
  at(index: number): TextPosition {
    const target = Math.max(0, Math.min(index, this.text.length));
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= target) lo = mid;
      else hi = mid - 1;
    }
    const start = this.lineStarts[lo]!;
    return { line: lo + 1, column: [...this.text.slice(start, target)].length + 1 };
  }

  /** The position of the UTF-8 byte offset `offset` (as Cedar's source locations give them). */
  atByte(offset: number): TextPosition {
    this.bytes ??= Buffer.from(this.text, 'utf8');
    return this.at(this.bytes.subarray(0, Math.max(0, offset)).toString('utf8').length);
  }
}

/** A policy of `text` that nests too deeply: where it starts and why; null when every policy is fine. */
export function nestingProblem(text: string): { index: number; message: string } | null {
  type Group = { ops: number; child: number; widest: number };
  const stack: Group[] = [];
  let top: Group = { ops: 0, child: 0, widest: 0 };
  let policyStart = -1;
  const tooDeep = (score: number) => ({
    index: Math.max(policyStart, 0),
    message: `policy nests too deeply (depth score ${score}, at most ${MaxPolicyDepthScore}): use fewer nested brackets, or sets and "contains" instead of long chains of operators`,
  });
  for (let i = 0; i < text.length;) {
    const ch = text[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === '/' && text[i + 1] === '/') {
      const end = text.indexOf('\n', i);
      i = end === -1 ? text.length : end + 1;
      continue;
    }
    if (policyStart === -1) policyStart = i;
    if (ch === '"') {
      i = stringEnd(text, i);
      continue;
    }
    if (Opening.includes(ch)) {
      if ((stack.length + 1) * BracketScore > MaxPolicyDepthScore)
        return tooDeep((stack.length + 1) * BracketScore);
      stack.push(top);
      top = { ops: 0, child: 0, widest: 0 };
    } else if (Closing.includes(ch) && stack.length > 0) {
      const score = BracketScore + Math.max(top.widest, top.ops + top.child);
      if (score > MaxPolicyDepthScore) return tooDeep(score);
      top = stack.pop()!;
      top.child = Math.max(top.child, score);
    } else if (ch === ',') {
      top.widest = Math.max(top.widest, top.ops + top.child);
      top.ops = top.child = 0;
    } else if (ch === ';' && stack.length === 0) {
      const score = Math.max(top.widest, top.ops + top.child);
      if (score > MaxPolicyDepthScore) return tooDeep(score);
      top = { ops: 0, child: 0, widest: 0 };
      policyStart = -1;
    } else {
      const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i, i + 64))?.[0];
      if (word !== undefined) {
        if (OperatorWords.has(word)) top.ops++;
        i += word.length;
        continue;
      }
      const two = text.slice(i, i + 2);
      if (Operators.has(two)) {
        top.ops++;
        i += 2;
        continue;
      }
      if (Operators.has(ch)) top.ops++;
    }
    i++;
  }
  // Unclosed brackets: Cedar refuses the text, but only after parsing it, so it is scored all the same.
  let score = Math.max(top.widest, top.ops + top.child);
  for (let open = stack.pop(); open !== undefined; open = stack.pop())
    score = Math.max(open.widest, open.ops + Math.max(open.child, BracketScore + score));
  return score > MaxPolicyDepthScore ? tooDeep(score) : null;
}

/** The index after the string literal opening at `start` (escapes skipped); the end of text if unclosed. */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i + 1;
  }
  return text.length;
}
