/**
 * The small part of SOQL that channel integrations send on start: a field list (dotted parent fields and
 * `COUNT(Id) alias` included), one object, `=` / `!=` comparisons joined by AND, ORDER BY and LIMIT.
 * Anything else is refused with the MALFORMED_QUERY a real org answers for text it cannot parse, so a
 * client learns at once what the local org does not do instead of getting a silently wrong answer.
 */

export type SelectItem = { kind: 'field'; path: string[] } | { kind: 'count'; alias: string };

export interface Condition {
  path: string[];
  operator: '=' | '!=';
  value: string | number | boolean | null;
}

export interface SoqlQuery {
  select: SelectItem[];
  from: string;
  where: Condition[];
  orderBy?: { path: string[]; descending: boolean };
  limit?: number;
}

export class SoqlError extends Error {}

type Token = { type: 'word'; text: string } | { type: 'string'; text: string } | { type: 'symbol'; text: string };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text.charAt(i);
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new SoqlError('unterminated string literal');
        const d = text.charAt(i);
        if (d === '\\') {
          value += text.charAt(i + 1);
          i += 2;
        } else if (d === "'") {
          i++;
          break;
        } else {
          value += d;
          i++;
        }
      }
      tokens.push({ type: 'string', text: value });
    } else if (c === '!' && text.charAt(i + 1) === '=') {
      tokens.push({ type: 'symbol', text: '!=' });
      i += 2;
    } else if (c === '<' && text.charAt(i + 1) === '>') {
      tokens.push({ type: 'symbol', text: '!=' });
      i += 2;
    } else if ('=,()'.includes(c)) {
      tokens.push({ type: 'symbol', text: c });
      i++;
    } else {
      const word = /^[\w.]+/.exec(text.slice(i))?.[0];
      if (!word) throw new SoqlError(`unexpected character '${c}'`);
      tokens.push({ type: 'word', text: word });
      i += word.length;
    }
  }
  return tokens;
}

class Cursor {
  private index = 0;
  constructor(private readonly tokens: Token[]) {}

  peekKeyword(keyword: string): boolean {
    const t = this.tokens[this.index];
    return t?.type === 'word' && t.text.toUpperCase() === keyword;
  }

  /** Consumes `keyword` when it comes next. */
  accept(keyword: string): boolean {
    if (!this.peekKeyword(keyword)) return false;
    this.index++;
    return true;
  }

  keyword(keyword: string): void {
    if (!this.peekKeyword(keyword)) throw new SoqlError(`expecting ${keyword}, found ${this.describeNext()}`);
    this.index++;
  }

  symbol(symbol: string): boolean {
    const t = this.tokens[this.index];
    if (t?.type === 'symbol' && t.text === symbol) {
      this.index++;
      return true;
    }
    return false;
  }

  next(): Token | undefined {
    return this.tokens[this.index++];
  }

  word(what: string): string {
    const t = this.next();
    if (t?.type !== 'word') throw new SoqlError(`expecting ${what}, found ${t ? `'${t.text}'` : 'the end of the query'}`);
    return t.text;
  }

  done(): boolean {
    return this.index >= this.tokens.length;
  }

  describeNext(): string {
    const t = this.tokens[this.index];
    return t ? `'${t.text}'` : 'the end of the query';
  }
}

const path = (word: string) => word.split('.');

function literal(token: Token | undefined): Condition['value'] {
  if (!token) throw new SoqlError('expecting a value, found the end of the query');
  if (token.type === 'string') return token.text;
  if (token.type === 'word') {
    const upper = token.text.toUpperCase();
    if (upper === 'TRUE') return true;
    if (upper === 'FALSE') return false;
    if (upper === 'NULL') return null;
    if (/^-?\d+(\.\d+)?$/.test(token.text)) return Number(token.text);
  }
  throw new SoqlError(`unexpected value '${token.text}'`);
}

export function parseSoql(text: string): SoqlQuery {
  const cursor = new Cursor(tokenize(text));
  cursor.keyword('SELECT');
  const select: SelectItem[] = [];
  do {
    const word = cursor.word('a field name');
    if (word.toUpperCase() === 'COUNT' && cursor.symbol('(')) {
      cursor.word('a field name');
      if (!cursor.symbol(')')) throw new SoqlError(`expecting ')', found ${cursor.describeNext()}`);
      const alias = cursor.peekKeyword('FROM') ? `expr${select.filter((s) => s.kind === 'count').length}` : cursor.word('an alias');
      select.push({ kind: 'count', alias });
    } else {
      select.push({ kind: 'field', path: path(word) });
    }
  } while (cursor.symbol(','));
  cursor.keyword('FROM');
  const from = cursor.word('an object name');
  const where: Condition[] = [];
  if (cursor.peekKeyword('WHERE')) {
    cursor.keyword('WHERE');
    do {
      const field = path(cursor.word('a field name'));
      const op = cursor.next();
      if (op?.type !== 'symbol' || (op.text !== '=' && op.text !== '!=')) {
        throw new SoqlError(`only = and != comparisons are supported, found ${op ? `'${op.text}'` : 'the end of the query'}`);
      }
      where.push({ path: field, operator: op.text, value: literal(cursor.next()) });
    } while (cursor.accept('AND'));
  }
  let orderBy: SoqlQuery['orderBy'];
  if (cursor.peekKeyword('ORDER')) {
    cursor.keyword('ORDER');
    cursor.keyword('BY');
    orderBy = { path: path(cursor.word('a field name')), descending: false };
    if (cursor.peekKeyword('DESC')) {
      cursor.keyword('DESC');
      orderBy.descending = true;
    } else if (cursor.peekKeyword('ASC')) cursor.keyword('ASC');
  }
  let limit: number | undefined;
  if (cursor.peekKeyword('LIMIT')) {
    cursor.keyword('LIMIT');
    const n = literal(cursor.next());
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new SoqlError('LIMIT must be a non-negative whole number');
    limit = n;
  }
  if (!cursor.done()) throw new SoqlError(`unexpected token ${cursor.describeNext()}`);
  return { select, from, where, orderBy, limit };
}
