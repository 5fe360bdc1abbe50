/**
 * A parsed JavaScript pattern written in RE2 syntax, meaning the same: what JavaScript means by
 * `.` and `\s` is spelled out (RE2's `.` also matches `\r`, its `\s` is ASCII only), literals are
 * escaped or written as `\x{...}`, named groups become `(?P<name>...)`. Group numbers stay the
 * same, as both number groups by their opening parenthesis.
 *
 * RE2 has no backreferences and no lookaround (that is what keeps it linear):
 * UnsupportedByRe2 names what the pattern uses instead.
 */
import type { ClassItem, Node, PerlClass } from './regex-syntax.js';

export class UnsupportedByRe2 extends Error {}

/** JavaScript's WhiteSpace and LineTerminator characters, as RE2 class items. */
const JS_SPACE = '\\t\\n\\x{0B}\\f\\r \\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}';
/** Every character but JavaScript's line terminators. */
const JS_DOT = '[^\\n\\r\\x{2028}\\x{2029}]';

export function toRe2(node: Node): string {
  switch (node.kind) {
    case 'seq':
      return node.items.map(toRe2).join('');
    case 'alt':
      return node.branches.map(toRe2).join('|');
    case 'group':
      if (node.look) throw new UnsupportedByRe2('lookaround');
      if (!node.capture) return `(?:${toRe2(node.body)})`;
      return node.name === undefined ? `(${toRe2(node.body)})` : `(?P<${node.name}>${toRe2(node.body)})`;
    case 'repeat': {
      const body = toRe2(node.body);
      const atom = node.body.kind === 'seq' || node.body.kind === 'alt' || node.body.kind === 'repeat' ? `(?:${body})` : body;
      return atom + quantifier(node.min, node.max) + (node.lazy ? '?' : '');
    }
    case 'char':
      return literal(node.cp);
    case 'class':
      return charClass(node.negate, node.items);
    case 'perl':
      return perl(node.name);
    case 'property':
      return property(node.negate, node.name);
    case 'dot':
      return JS_DOT;
    case 'assert':
      return node.name === 'b' || node.name === 'B' ? `\\${node.name}` : node.name;
    case 'backref':
      throw new UnsupportedByRe2('backreferences');
  }
}

function quantifier(min: number, max: number): string {
  if (min === 0 && max === Infinity) return '*';
  if (min === 1 && max === Infinity) return '+';
  if (min === 0 && max === 1) return '?';
  if (max === Infinity) return `{${min},}`;
  return min === max ? `{${min}}` : `{${min},${max}}`;
}

function literal(cp: number): string {
  if (/[A-Za-z0-9/_-]/.test(String.fromCodePoint(cp))) return String.fromCodePoint(cp);
  return hex(cp);
}

function hex(cp: number): string {
  return `\\x{${cp.toString(16).toUpperCase()}}`;
}

function perl(name: PerlClass): string {
  if (name === 's') return `[${JS_SPACE}]`;
  if (name === 'S') return `[^${JS_SPACE}]`;
  return `\\${name}`;
}

function property(negate: boolean, name: string): string {
  // JavaScript's `Script=Greek` / `sc=Greek` is RE2's `Greek`; other names are passed as they are
  // and RE2 refuses what it does not know
  const value = name.replace(/^(Script|sc)=/, '');
  return `\\${negate ? 'P' : 'p'}{${value}}`;
}

function charClass(negate: boolean, items: ClassItem[]): string {
  // JavaScript's `[]` matches nothing and `[^]` anything; RE2 reads a `]` right after `[` as a
  // literal, so both are written as full ranges
  if (items.length === 0) return negate ? '[\\x{0}-\\x{10FFFF}]' : '[^\\x{0}-\\x{10FFFF}]';
  return `[${negate ? '^' : ''}${items.map(classItem).join('')}]`;
}

function classItem(item: ClassItem): string {
  switch (item.kind) {
    case 'range':
      return item.from === item.to ? hex(item.from) : `${hex(item.from)}-${hex(item.to)}`;
    case 'property':
      return property(item.negate, item.name);
    case 'perl':
      if (item.name === 's') return JS_SPACE;
      // a negated class cannot be spelled out inside another class
      if (item.name === 'S') throw new UnsupportedByRe2('\\S inside a character class');
      return `\\${item.name}`;
  }
}
