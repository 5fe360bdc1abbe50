/**
 * A syntax tree of a JavaScript regular expression, for the two things path-regex.ts needs to know
 * about a `path_regex` before it runs on requests: how much a backtracking engine could have to
 * try (./regex-cost.ts) and how to write it for the linear-time engine (./regex-re2.ts).
 *
 * The parser trusts its input: it is only given sources that `new RegExp` accepted with the same
 * mode (`unicode` = compiled with the `u` flag). Without `u` it follows the web-compatibility
 * rules JavaScript applies there: a `{` that does not start a quantifier, a lone `]` or `}` and an
 * unknown escape (`\q`) are literals, `\8` is the digit, `\12` may be an octal escape.
 */

export type Node =
  | { kind: 'seq'; items: Node[] }
  | { kind: 'alt'; branches: Node[] }
  | { kind: 'group'; capture: boolean; name?: string; look?: 'ahead' | 'behind'; body: Node }
  | { kind: 'repeat'; min: number; max: number; lazy: boolean; body: Node }
  | { kind: 'char'; cp: number }
  | { kind: 'class'; negate: boolean; items: ClassItem[] }
  | { kind: 'perl'; name: PerlClass }
  | { kind: 'property'; negate: boolean; name: string }
  | { kind: 'dot' }
  | { kind: 'assert'; name: '^' | '$' | 'b' | 'B' }
  | { kind: 'backref' };

/** \d \D \w \W \s \S */
export type PerlClass = 'd' | 'D' | 'w' | 'W' | 's' | 'S';

export type ClassItem =
  | { kind: 'range'; from: number; to: number }
  | { kind: 'perl'; name: PerlClass }
  | { kind: 'property'; negate: boolean; name: string };

/** Deeper nesting is refused rather than risking the stack of whoever parses it. */
export const MAX_NESTING = 500;

export class RegexSyntaxLimit extends Error {}

const CONTROL_ESCAPES: Record<string, number> = { f: 12, n: 10, r: 13, t: 9, v: 11 };

export function parseRegex(source: string, unicode: boolean): Node {
  return new Parser(source, unicode).parse();
}

class Parser {
  private pos = 0;
  private depth = 0;
  private readonly captures: number;
  private readonly hasNames: boolean;

  constructor(private readonly src: string, private readonly unicode: boolean) {
    const { captures, hasNames } = countCaptures(src);
    this.captures = captures;
    this.hasNames = hasNames;
  }

  parse(): Node {
    return this.alternation();
  }

  private alternation(): Node {
    if (++this.depth > MAX_NESTING) throw new RegexSyntaxLimit(`nest groups more than ${MAX_NESTING} deep`);
    const branches = [this.sequence()];
    while (this.src[this.pos] === '|') {
      this.pos++;
      branches.push(this.sequence());
    }
    this.depth--;
    return branches.length === 1 ? branches[0]! : { kind: 'alt', branches };
  }

  private sequence(): Node {
    const items: Node[] = [];
    while (this.pos < this.src.length && this.src[this.pos] !== '|' && this.src[this.pos] !== ')') {
      const atom = this.atom();
      items.push(this.quantified(atom));
    }
    return { kind: 'seq', items };
  }

  private quantified(atom: Node): Node {
    const c = this.src[this.pos];
    let min: number;
    let max: number;
    if (c === '*') [min, max] = [0, Infinity];
    else if (c === '+') [min, max] = [1, Infinity];
    else if (c === '?') [min, max] = [0, 1];
    else if (c === '{') {
      const m = /\{(\d+)(,(\d*))?\}/y;
      m.lastIndex = this.pos;
      const found = m.exec(this.src);
      if (!found) return atom; // a literal brace (non-unicode mode); the next atom() reads it
      min = Number(found[1]);
      max = found[2] === undefined ? min : found[3] === '' ? Infinity : Number(found[3]);
      this.pos += found[0].length - 1;
    } else return atom;
    this.pos++;
    const lazy = this.src[this.pos] === '?';
    if (lazy) this.pos++;
    return this.quantified({ kind: 'repeat', min, max, lazy, body: atom });
  }

  private atom(): Node {
    const c = this.src[this.pos]!;
    switch (c) {
      case '(':
        return this.group();
      case '[':
        return this.charClass();
      case '.':
        this.pos++;
        return { kind: 'dot' };
      case '^':
      case '$':
        this.pos++;
        return { kind: 'assert', name: c };
      case '\\':
        return this.escape();
      default:
        return { kind: 'char', cp: this.literal() };
    }
  }

  private group(): Node {
    const rest = this.src.slice(this.pos, this.pos + 4);
    let head: Omit<Extract<Node, { kind: 'group' }>, 'body'>;
    if (rest.startsWith('(?:')) head = { kind: 'group', capture: false };
    else if (rest.startsWith('(?=') || rest.startsWith('(?!')) head = { kind: 'group', capture: false, look: 'ahead' };
    else if (rest.startsWith('(?<=') || rest.startsWith('(?<!')) head = { kind: 'group', capture: false, look: 'behind' };
    else if (rest.startsWith('(?<')) {
      const end = this.src.indexOf('>', this.pos);
      head = { kind: 'group', capture: true, name: this.src.slice(this.pos + 3, end) };
      this.pos = end + 1;
    } else head = { kind: 'group', capture: true };
    if (head.look === 'behind') this.pos += 4;
    else if (head.look === 'ahead' || (!head.capture && !head.look)) this.pos += 3;
    else if (head.name === undefined) this.pos += 1;
    const body = this.alternation();
    this.pos++; // ')'
    return { ...head, body };
  }

  private charClass(): Node {
    this.pos++;
    const negate = this.src[this.pos] === '^';
    if (negate) this.pos++;
    const items: ClassItem[] = [];
    while (this.src[this.pos] !== ']') {
      const from = this.classAtom();
      if (this.src[this.pos] === '-' && this.src[this.pos + 1] !== ']' && this.pos + 1 < this.src.length) {
        this.pos++;
        const to = this.classAtom();
        if (typeof from === 'number' && typeof to === 'number') {
          items.push({ kind: 'range', from, to });
          continue;
        }
        // `[\d-x]`: without `u` the dash between a class escape and anything is a literal
        items.push(asItem(from), { kind: 'range', from: 45, to: 45 }, asItem(to));
        continue;
      }
      items.push(asItem(from));
    }
    this.pos++;
    return { kind: 'class', negate, items };
  }

  /** A code point, or a class escape. */
  private classAtom(): number | ClassItem {
    if (this.src[this.pos] !== '\\') return this.literal();
    const next = this.src[this.pos + 1]!;
    if (next === 'b') {
      this.pos += 2;
      return 8;
    }
    if (next === '-') {
      this.pos += 2;
      return 45;
    }
    if (!this.unicode && /[1-9]/.test(next)) {
      // no backreferences in a class: an octal escape, or the digit itself
      if (next <= '7') return this.octal(this.pos);
      this.pos += 2;
      return next.charCodeAt(0);
    }
    const node = this.escape();
    if (node.kind === 'char') return node.cp;
    if (node.kind === 'perl' || node.kind === 'property') return node;
    // \B or a backreference cannot occur in a class: JavaScript reads them as literals there
    return next.codePointAt(0)!;
  }

  private literal(): number {
    const cp = this.unicode ? this.src.codePointAt(this.pos)! : this.src.charCodeAt(this.pos);
    this.pos += cp > 0xffff ? 2 : 1;
    return cp;
  }

  private escape(): Node {
    const start = this.pos;
    this.pos++; // '\'
    const c = this.src[this.pos]!;
    this.pos++;
    if ('dDwWsS'.includes(c)) return { kind: 'perl', name: c as PerlClass };
    if (c === 'b' || c === 'B') return { kind: 'assert', name: c };
    if (c in CONTROL_ESCAPES) return { kind: 'char', cp: CONTROL_ESCAPES[c]! };
    if (c === 'p' || c === 'P') {
      if (this.unicode) {
        const end = this.src.indexOf('}', this.pos);
        const name = this.src.slice(this.pos + 1, end);
        this.pos = end + 1;
        return { kind: 'property', negate: c === 'P', name };
      }
      return { kind: 'char', cp: c.charCodeAt(0) };
    }
    if (c === 'k' && (this.unicode || this.hasNames)) {
      this.pos = this.src.indexOf('>', this.pos) + 1;
      return { kind: 'backref' };
    }
    if (/[1-9]/.test(c)) {
      const digits = /\d*/y;
      digits.lastIndex = this.pos;
      const n = Number(c + digits.exec(this.src)![0]);
      if (this.unicode || n <= this.captures) {
        this.pos = digits.lastIndex;
        return { kind: 'backref' };
      }
      this.pos = start + 1;
    }
    if (/[0-7]/.test(c) && !(this.unicode && c !== '0')) return { kind: 'char', cp: this.octal(start) };
    if (c === 'x') {
      const hex = /[0-9a-fA-F]{2}/y;
      hex.lastIndex = this.pos;
      if (hex.exec(this.src)) {
        this.pos += 2;
        return { kind: 'char', cp: parseInt(this.src.slice(this.pos - 2, this.pos), 16) };
      }
    }
    if (c === 'u') {
      const cp = this.unicodeEscape();
      if (cp !== undefined) return { kind: 'char', cp };
    }
    if (c === 'c' && /[a-zA-Z]/.test(this.src[this.pos] ?? '')) {
      return { kind: 'char', cp: this.src.charCodeAt(this.pos++) % 32 };
    }
    if (c === 'c') {
      this.pos = start + 1; // `\c` without a letter is a backslash followed by `c`
      return { kind: 'char', cp: 92 };
    }
    // identity escape: the character itself (a whole code point under `u`)
    this.pos = start + 1;
    return { kind: 'char', cp: this.literal() };
  }

  /** `\0` under `u`; without it a legacy octal escape of up to three digits, at most \377. */
  private octal(start: number): number {
    if (this.unicode) return 0;
    const m = /[0-3][0-7]{0,2}|[4-7][0-7]?/y;
    m.lastIndex = start + 1;
    const digits = m.exec(this.src)![0];
    this.pos = start + 1 + digits.length;
    return parseInt(digits, 8);
  }

  /** After `\u`: \uXXXX (a surrogate pair of two under `u`) or \u{X...} under `u`. */
  private unicodeEscape(): number | undefined {
    if (this.unicode && this.src[this.pos] === '{') {
      const end = this.src.indexOf('}', this.pos);
      const cp = parseInt(this.src.slice(this.pos + 1, end), 16);
      this.pos = end + 1;
      return cp;
    }
    const four = /[0-9a-fA-F]{4}/y;
    four.lastIndex = this.pos;
    if (!four.exec(this.src)) return undefined;
    const high = parseInt(this.src.slice(this.pos, this.pos + 4), 16);
    this.pos += 4;
    const low = /\\u([dD][c-fC-F][0-9a-fA-F]{2})/y;
    low.lastIndex = this.pos;
    const pair = this.unicode && high >= 0xd800 && high <= 0xdbff ? low.exec(this.src) : null;
    if (!pair) return high;
    this.pos += 6;
    return 0x10000 + ((high - 0xd800) << 10) + (parseInt(pair[1]!, 16) - 0xdc00);
  }
}

function asItem(atom: number | ClassItem): ClassItem {
  return typeof atom === 'number' ? { kind: 'range', from: atom, to: atom } : atom;
}

/** Capturing groups of the whole source: JavaScript decides what `\N` means by their count. */
function countCaptures(src: string): { captures: number; hasNames: boolean } {
  let captures = 0;
  let hasNames = false;
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') {
      if (src[i + 1] !== '?') captures++;
      else if (src[i + 2] === '<' && src[i + 3] !== '=' && src[i + 3] !== '!') {
        captures++;
        hasNames = true;
      }
    }
  }
  return { captures, hasNames };
}
