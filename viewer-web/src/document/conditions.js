// Conditions on live values, as the twin document writes them (`bed_temp >= 60`,
// `state == 'Printing' and progress < 100`): the grammar of twin/document/conditions.py, read by
// both from tests/condition_cases.json. A comparison whose property is unknown, or of another
// type than its literal, is false.

const MAX_CHARS = 500;
const MAX_NESTING = 16;
const TOKEN = /\s*(?:(-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|('[^']*'|"[^"]*")|(>=|<=|==|!=|>|<|≥|≤|≠)|([()])|([A-Za-z_][A-Za-z0-9_.]*))/y;
const KINDS = ['number', 'text', 'op', 'paren', 'name'];
const KEYWORDS = new Set(['and', 'or', 'not', 'true', 'false']);
const COMPARE = {
  '>': (a, b) => a > b, '>=': (a, b) => a >= b, '≥': (a, b) => a >= b, '<': (a, b) => a < b, '<=': (a, b) => a <= b,
  '≤': (a, b) => a <= b, '==': (a, b) => a === b, '!=': (a, b) => a !== b, '≠': (a, b) => a !== b,
};

function kindOf(value) {
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number' && Number.isFinite(value)) return 'number';
  if (typeof value === 'string') return 'text';
  return null;
}

function tokenize(text) {
  const tokens = [];
  let position = 0;
  while (position < text.length && text.slice(position).trim() !== '') {
    TOKEN.lastIndex = position;
    const match = TOKEN.exec(text);
    if (!match || match.index !== position || TOKEN.lastIndex === position) {
      throw new Error(`condition ${JSON.stringify(text)}: cannot read ${JSON.stringify(text.slice(position).trim().slice(0, 20))} (at character ${position + 1})`);
    }
    const group = match.slice(1).findIndex((g) => g !== undefined);
    tokens.push({ kind: KINDS[group], text: match[group + 1], at: match.index + match[0].length - match[group + 1].length });
    position = TOKEN.lastIndex;
  }
  return tokens;
}

/** The condition `text` says: `{ holds(values), names }`; throws an Error whose message says what is wrong and where. */
export function parseCondition(text) {
  if (typeof text !== 'string' || !text.trim()) throw new Error('a condition must be a non-empty text, e.g. "nozzle_temp > 265"');
  if (text.length > MAX_CHARS) throw new Error(`a condition may have at most ${MAX_CHARS} characters`);
  const tokens = tokenize(text);
  let index = 0;
  let depth = 0;
  const names = new Set();
  const peek = () => tokens[index];
  const fail = (expected) => {
    const token = peek();
    const where = token ? `at ${JSON.stringify(token.text)} (character ${token.at + 1})` : 'at the end';
    return new Error(`condition ${JSON.stringify(text)}: ${expected} ${where}`);
  };
  const keyword = (word) => {
    if (peek()?.kind === 'name' && peek().text === word) { index++; return true; }
    return false;
  };
  const literal = () => {
    const token = peek();
    if (token?.kind === 'number') { index++; return Number(token.text); }
    if (token?.kind === 'text') { index++; return token.text.slice(1, -1); }
    if (token?.kind === 'name' && (token.text === 'true' || token.text === 'false')) { index++; return token.text === 'true'; }
    throw fail("expected a number, a 'text', true or false");
  };
  const comparison = () => {
    const name = peek();
    if (name?.kind !== 'name' || KEYWORDS.has(name.text)) throw fail('expected a property name');
    index++;
    const op = peek();
    if (op?.kind !== 'op') throw fail(`expected a comparison (> >= < <= == !=) after ${JSON.stringify(name.text)}`);
    index++;
    const value = literal();
    names.add(name.text);
    return (values) => {
      if (!Object.hasOwn(values, name.text)) return false;
      const got = values[name.text];
      const kind = kindOf(got);
      if (kind === null || kind !== kindOf(value)) return false;
      if (kind === 'bool' && !['==', '!=', '≠'].includes(op.text)) return false;
      return COMPARE[op.text](got, value);
    };
  };
  let disjunction;
  const negation = () => {
    const token = peek();
    const opens = token && ((token.kind === 'name' && token.text === 'not') || (token.kind === 'paren' && token.text === '('));
    if (!opens) return comparison();
    if (++depth > MAX_NESTING) throw fail(`nests deeper than ${MAX_NESTING} levels`);
    index++;
    let inner;
    if (token.text === 'not') {
      const operand = negation();
      inner = (values) => !operand(values);
    } else {
      inner = disjunction();
      if (peek()?.kind !== 'paren' || peek().text !== ')') throw fail('expected `)`');
      index++;
    }
    depth--;
    return inner;
  };
  const conjunction = () => {
    const operands = [negation()];
    while (keyword('and')) operands.push(negation());
    return operands.length === 1 ? operands[0] : (values) => operands.every((o) => o(values));
  };
  disjunction = () => {
    const operands = [conjunction()];
    while (keyword('or')) operands.push(conjunction());
    return operands.length === 1 ? operands[0] : (values) => operands.some((o) => o(values));
  };
  const holds = disjunction();
  if (peek()) throw fail('expected `and`, `or` or the end');
  return { holds, names };
}
