// Numbers as a reader wants to see them in a sentence or a table cell.
//
// Three significant figures is as much as a two-second measurement on a
// shared machine can claim, so no figure is printed more precisely than that,
// and large counts get thousands separators so 45,115 does not read as 4511.

/** Three significant figures, thousands separated, no exponent: 0.0734, 7.34, 734, 7,340, 73,400. */
export function num(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const rounded = Number(value.toPrecision(3));
  const digits = Math.max(0, 2 - Math.floor(Math.log10(Math.abs(rounded))));
  return rounded.toLocaleString('en-US', { minimumFractionDigits: 0, maximumFractionDigits: digits });
}

export function rps(value: number): string {
  return `${num(value)} req/s`;
}

/** A latency held in microseconds, shown in milliseconds. */
export function msFromUs(us: number): string {
  return `${num(us / 1000)} ms`;
}

export function ms(value: number): string {
  return `${num(value)} ms`;
}

/** A ratio such as "1.4×"; two significant figures below 10, whole numbers above. */
export function times(ratio: number): string {
  if (!Number.isFinite(ratio)) return '∞×';
  if (ratio >= 10) return `${Math.round(ratio).toLocaleString('en-US')}×`;
  // Near 1, two figures would print 1.04 as "1×" and hide the difference being described.
  return `${Number(ratio.toPrecision(Math.abs(ratio - 1) < 0.1 ? 3 : 2))}×`;
}

/** A signed percentage change: "+3 %", "−12 %". */
export function change(fraction: number): string {
  // One decimal below 20 %, so a 9.6 % gain is not printed as a "+10 %" that seems to contradict a 10 % threshold.
  const pct = Math.abs(fraction) < 0.2 ? Math.round(fraction * 1000) / 10 : Math.round(fraction * 100);
  return pct < 0 ? `−${Math.abs(pct)} %` : `+${pct} %`;
}

export function percent(fraction: number): string {
  return `${Math.round(fraction * 100)} %`;
}

export function mib(bytes: number): string {
  return `${num(bytes / 2 ** 20)} MiB`;
}

/** "1", "1 and 4", "1, 4 and 16". */
export function listOf(items: readonly (string | number)[]): string {
  const s = items.map(String);
  if (s.length <= 1) return s.join('');
  return `${s.slice(0, -1).join(', ')} and ${s[s.length - 1]}`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

/** Sentence case for a sentence that starts with a model's name. */
export function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** A clause written to follow a colon, as a sentence of its own: capitalised, with a full stop. */
export function sentence(clause: string): string {
  const text = clause.trim();
  if (text === '') return text;
  return `${text[0].toUpperCase()}${text.slice(1)}${/[.!?]$/.test(text) ? '' : '.'}`;
}
